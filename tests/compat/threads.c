/* SPDX-License-Identifier: MIT */
/*
 * Concurrency, through the uAPI only: threads convert their own pages of
 * one guest_memfd and check each page's state through a shared mapping,
 * while another maps and unmaps memory (MAP_FIXED over its own mappings
 * included) and another creates, maps, converts and closes more
 * guest_memfds on the same VM.  Every observation must match the last
 * conversion its thread made.  Built with ThreadSanitizer, this is the
 * shim's lock test.
 */
#include <pthread.h>

#include "uapi_test.h"

#define NPAGES 64
#define SIZE (NPAGES * PG)
#define CONVERTERS 2
#define ITERS 400

static int vm_fd, fd;
static uint8_t *host;
static int bad[CONVERTERS + 2];

static void *converter(void *arg)
{
	long id = (long)arg;
	unsigned seed = (unsigned)id + 1;

	for (int i = 0; i < ITERS; i++) {
		/* Pages id, id + CONVERTERS, ...: this thread's own. */
		uint64_t page = (uint64_t)(rand_r(&seed) % (NPAGES / CONVERTERS)) *
				CONVERTERS + (uint64_t)id;
		int to_private = rand_r(&seed) & 1;
		uint64_t eo;

		if (set_attrs_err(fd, page * PG, PG, to_private ? PRIVATE : SHARED,
				  F_PRESERVE, &eo)) {
			bad[id]++;
			continue;
		}
		if ((peek(host + page * PG) < 0) != to_private)
			bad[id]++;
		if (!to_private && poke(host + page * PG + 1, (uint8_t)i))
			bad[id]++;
	}
	return NULL;
}

static void *mapper(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS; i++) {
		uint8_t *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			bad[CONVERTERS]++;
			continue;
		}
		p[0] = 1;
		if (mmap(p + PG, PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p + PG)
			bad[CONVERTERS]++;
		p[PG] = 2;
		if (p[0] != 1 || p[PG] != 2 || munmap(p, 4 * PG))
			bad[CONVERTERS]++;
	}
	return NULL;
}

static void *creator(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS / 10; i++) {
		int g = __gmem_create(vm_fd, 4 * PG, GUEST_MEMFD_FLAG_MMAP);
		uint8_t *p;

		if (g < 0) {
			bad[CONVERTERS + 1]++;
			continue;
		}
		p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
		if (p == MAP_FAILED || peek(p) >= 0 ||
		    set_attrs_err(g, 0, PG, SHARED, 0, NULL) || peek(p) != 0)
			bad[CONVERTERS + 1]++;
		if (i & 1) {	/* close first, unmap after: both orders */
			close(g);
			munmap(p, 4 * PG);
		} else {
			munmap(p, 4 * PG);
			close(g);
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t t[CONVERTERS + 2];
	struct kvm_env k;

	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	vm_fd = k.vm_fd;
	fd = gmem_create_fd(vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	require_inplace(fd, SHARED);
	host = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(host != MAP_FAILED, "mmap");

	for (long i = 0; i < CONVERTERS; i++)
		TEST_ASSERT(!pthread_create(&t[i], NULL, converter, (void *)i), "thread");
	TEST_ASSERT(!pthread_create(&t[CONVERTERS], NULL, mapper, NULL), "thread");
	TEST_ASSERT(!pthread_create(&t[CONVERTERS + 1], NULL, creator, NULL), "thread");
	for (int i = 0; i < CONVERTERS + 2; i++)
		pthread_join(t[i], NULL);

	for (int i = 0; i < CONVERTERS; i++)
		ok(!bad[i], "converter %d: every conversion took, every page as converted (%d wrong)",
		   i, bad[i]);
	ok(!bad[CONVERTERS], "mmap, MAP_FIXED and munmap of other memory meanwhile (%d wrong)",
	   bad[CONVERTERS]);
	ok(!bad[CONVERTERS + 1], "guest_memfds created, mapped, converted, closed meanwhile (%d wrong)",
	   bad[CONVERTERS + 1]);

	munmap(host, SIZE);
	close(fd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
