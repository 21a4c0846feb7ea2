/* SPDX-License-Identifier: MIT */
/*
 * A VMM's SEV-SNP CPUID page, converted in place (before the VM is
 * finalized):
 *   1. load the CPUID table into shared gmem memory through the host view;
 *   2. set PRIVATE with PRESERVE;
 *   3. SNP_LAUNCH_UPDATE fails: the firmware finds an insecure value,
 *      corrects it in the page and leaves the page shared in the RMP;
 *   4. set SHARED with PRESERVE;
 *   5. read the corrected page, report what the firmware changed (as QEMU
 *      does), and refuse if the VMM cannot accept the change;
 *   6. set PRIVATE with PRESERVE;
 *   7. SNP_LAUNCH_UPDATE succeeds; finalize; print the launch digest.
 * Uses the public API only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmem/gmem.h>
#include <gmem/snp.h>

#include "snp_cpuid_report.h"

#define CPUID_OFF (4 * GMEM_PAGE_SIZE)

static int convert(struct gmem *g, uint64_t attrs, const char *what)
{
	uint64_t err_off = 0;
	int ret = gmem_convert(g, CPUID_OFF, GMEM_PAGE_SIZE, attrs,
			       GMEM_CONTENT_PRESERVE, &err_off);

	printf("   set %-7s PRESERVE: %s\n", what, ret ? strerror(-ret) : "ok");
	return ret;
}

static void fill_table(struct gmem_snp_cpuid_table *t)
{
	/* What a VMM would take from KVM_GET_SUPPORTED_CPUID, with one
	 * insecure value: leaf 7 EDX bit 0 is reserved and must be clear. */
	static const struct gmem_snp_cpuid_fn fns[] = {
		{ .eax_in = 0x0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65 },
		{ .eax_in = 0x1, .eax = 0x00a00f11, .ebx = 0x00020800, .ecx = 0x7ed8320b, .edx = 0x178bfbff },
		{ .eax_in = 0x7, .ecx_in = 0, .ebx = 0x219c97a9, .ecx = 0x0040069c, .edx = 0x00000011 },
		{ .eax_in = 0x80000000, .eax = 0x80000021 },
	};

	memset(t, 0, sizeof(*t));
	t->count = sizeof(fns) / sizeof(fns[0]);
	memcpy(t->fn, fns, sizeof(fns));
}

int main(void)
{
	struct gmem_snp_cpuid_table table, fixed;
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *host, digest[48];
	unsigned fw = 0;
	int ret, changed;

	if ((ret = gmem_vm_create(&vm, "snp", NULL)) ||
	    (ret = gmem_create(vm, 2 << 20, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g)) ||
	    (ret = gmem_bind(g, 0x100000))) {
		fprintf(stderr, "setup: %s\n", strerror(-ret));
		return 1;
	}
	host = gmem_mmap(g);
	if (!host) {
		perror("gmem_mmap");
		return 1;
	}
	printf("SEV-SNP CPUID page at GPA 0x%llx, backend %s\n",
	       0x100000ULL + CPUID_OFF, gmem_backend_name(g));

	printf("1. load the CPUID table into shared memory\n");
	fill_table(&table);
	memcpy(host + CPUID_OFF, &table, sizeof(table));

	printf("2. convert to private\n");
	if (convert(g, GMEM_ATTR_PRIVATE, "PRIVATE"))
		return 1;

	printf("3. SNP_LAUNCH_UPDATE (CPUID)\n");
	ret = gmem_snp_launch_update(g, CPUID_OFF, GMEM_PAGE_SIZE,
				     GMEM_SNP_PAGE_CPUID, &fw);
	printf("   %s, firmware error 0x%x\n", ret ? strerror(-ret) : "ok", fw);
	if (ret != -EIO || fw != GMEM_SEV_RET_INVALID_PARAM) {
		fprintf(stderr, "expected the firmware to reject the table\n");
		return 1;
	}

	printf("4. convert back to shared\n");
	if (convert(g, 0, "SHARED"))
		return 1;

	printf("5. read the corrected table\n");
	memcpy(&fixed, host + CPUID_OFF, sizeof(fixed));
	changed = report_changes(&table, &fixed);
	if (changed < 0) {
		fprintf(stderr, "the firmware changed a value this VMM relies on\n");
		return 1;
	}
	printf("   %d entr%s corrected by the firmware: accepted\n", changed,
	       changed == 1 ? "y" : "ies");

	printf("6. convert to private again\n");
	if (convert(g, GMEM_ATTR_PRIVATE, "PRIVATE"))
		return 1;

	printf("7. SNP_LAUNCH_UPDATE (CPUID)\n");
	ret = gmem_snp_launch_update(g, CPUID_OFF, GMEM_PAGE_SIZE,
				     GMEM_SNP_PAGE_CPUID, &fw);
	printf("   %s\n", ret ? strerror(-ret) : "ok");
	if (ret)
		return 1;
	if ((ret = gmem_vm_finalize(vm)) || (ret = gmem_snp_launch_digest(vm, digest))) {
		fprintf(stderr, "finish: %s\n", strerror(-ret));
		return 1;
	}
	printf("SNP_LAUNCH_FINISH, launch digest ");
	for (int i = 0; i < 48; i++)
		printf("%02x", digest[i]);
	printf("\n");
	gmem_vm_destroy(vm);
	return 0;
}
