/* SPDX-License-Identifier: MIT */
/*
 * The smallest libgmem program: create a VM and a gmem, write through the
 * host view, convert a page to private and back with PRESERVE, and show that
 * the bytes stayed in place.  Builds against an installed libgmem:
 *   cc convert.c $(pkg-config --cflags --libs gmem)
 */
#include <stdio.h>
#include <string.h>

#include <gmem/gmem.h>

int main(void)
{
	struct gmem_vm *vm;
	struct gmem *g;
	uint64_t attrs, run, err_off;
	uint8_t *host;
	int ret;

	ret = gmem_vm_create(&vm, "default", NULL);
	if (ret) {
		fprintf(stderr, "gmem_vm_create: %s\n", strerror(-ret));
		return 1;
	}
	ret = gmem_create(vm, 16 * GMEM_PAGE_SIZE,
			  GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g);
	if (ret) {
		fprintf(stderr, "gmem_create: %s\n", strerror(-ret));
		return 1;
	}
	host = gmem_mmap(g);
	if (!host) {
		perror("gmem_mmap");
		return 1;
	}
	strcpy((char *)host + GMEM_PAGE_SIZE, "hello from the host");

	ret = gmem_convert(g, GMEM_PAGE_SIZE, GMEM_PAGE_SIZE, GMEM_ATTR_PRIVATE,
			   GMEM_CONTENT_PRESERVE, &err_off);
	if (ret) {
		fprintf(stderr, "to private: %s at 0x%llx\n", strerror(-ret),
			(unsigned long long)err_off);
		return 1;
	}
	gmem_get_memory_attributes(g, GMEM_PAGE_SIZE, &attrs, &run);
	printf("page 1: %s, run of %llu bytes (backend %s)\n",
	       (attrs & GMEM_ATTR_PRIVATE) ? "private" : "shared",
	       (unsigned long long)run, gmem_backend_name(g));

	ret = gmem_convert(g, GMEM_PAGE_SIZE, GMEM_PAGE_SIZE, 0,
			   GMEM_CONTENT_PRESERVE, &err_off);
	if (ret) {
		fprintf(stderr, "to shared: %s\n", strerror(-ret));
		return 1;
	}
	printf("page 1 back to shared, host reads: \"%s\"\n",
	       (char *)host + GMEM_PAGE_SIZE);
	ret = strcmp((char *)host + GMEM_PAGE_SIZE, "hello from the host") != 0;
	gmem_vm_destroy(vm);
	return ret;
}
