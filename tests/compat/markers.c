/* SPDX-License-Identifier: MIT */
/*
 * A private page of a host mapping is never readable, through the uAPI
 * only, whatever else the host does to the mapping: a conversion to
 * private of a range around it (while another thread reads it in a loop),
 * MADV_DONTNEED of the whole mapping, MADV_REMOVE (a hole punch: the
 * attributes stay).  The shim's mappings hold poison markers on its own
 * guest_memfd and covers elsewhere; both must hold.
 */
#include <pthread.h>

#include "uapi_test.h"

static uint8_t *map;
static int stop;
static long leaks, faults;	/* the reader's, read once it has ended */

static void *reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (peek(map + PG) >= 0)	/* page B: private throughout */
			leaks++;
		else
			faults++;
	}
	return NULL;
}

int main(void)
{
	struct kvm_env k;
	pthread_t t;
	uint8_t *p;
	int fd;

	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	fd = gmem_create_fd(k.vm_fd, 4 * PG, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	require_inplace(fd, SHARED);
	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(p != MAP_FAILED, "mmap");
	map = p;
	memset(p, 0x5a, 4 * PG);

	set_attrs(fd, PG, PG, PRIVATE, F_PRESERVE);	/* B */
	TEST_ASSERT(!pthread_create(&t, NULL, reader, NULL), "reader");
	for (int i = 0; i < 5000; i++) {
		set_attrs(fd, 0, 3 * PG, PRIVATE, F_PRESERVE);	/* A and C join B */
		set_attrs(fd, 0, PG, SHARED, F_PRESERVE);
		set_attrs(fd, 2 * PG, PG, SHARED, F_PRESERVE);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ok(!leaks && faults, "a private page never reads while the range around it "
	   "converts to private and back 5000 times (%ld reads, %ld SIGBUS)", leaks, faults);

	ok(!madvise(p, 4 * PG, MADV_DONTNEED), "MADV_DONTNEED of the whole mapping");
	ok(peek(p + PG) < 0 && peek(p) == 0x5a,
	   "the private page still raises SIGBUS, the shared one keeps its bytes");
	ok(!madvise(p, 4 * PG, MADV_REMOVE), "MADV_REMOVE of the whole mapping");
	ok(peek(p + PG) < 0 && peek(p) == 0,
	   "a hole punch: the private page stays private, the shared one reads zero");
	set_attrs(fd, PG, PG, SHARED, F_PRESERVE);
	ok(peek(p + PG) == 0, "and converted back, the private page reads zero too");

	munmap(p, 4 * PG);
	close(fd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
