/* SPDX-License-Identifier: MIT */
/*
 * Copies of a guest_memfd descriptor are the same file, through the uAPI
 * only: KVM_SET_MEMORY_ATTRIBUTES2 on a dup converts the file every copy
 * names, a mapping made through a copy follows conversions made through
 * another, the file outlives the descriptor it was created with, and
 * dup2 onto a copy replaces it as the kernel would.
 */
#include "uapi_test.h"

#define SIZE (4 * PG)

int main(void)
{
	struct kvm_env k;
	uint64_t eo = 0;
	uint8_t *p;
	int fd, d1, d2, d3, e;

	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	fd = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	d1 = dup(fd);
	TEST_ASSERT(d1 >= 0, "dup");
	e = set_attrs_err(d1, 0, PG, PRIVATE, 0, &eo);
	ok(!e, "in-place conversion: KVM_SET_MEMORY_ATTRIBUTES2 on a dup of the guest_memfd (errno %s)",
	   e ? ename(e) : "none");
	if (e)
		done();

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d1, 0);
	TEST_ASSERT(p != MAP_FAILED, "mmap through the dup");
	ok(peek(p) == -1 && poke(p + PG, 0x5a) == 0,
	   "the mapping through the dup has the attributes set through it");
	set_attrs(fd, PG, PG, PRIVATE, 0);
	ok(peek(p + PG) == -1, "a conversion through the original reaches the dup's mapping");

	d2 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	ok(d2 >= 100, "fcntl(F_DUPFD_CLOEXEC) gives a copy (%d)", d2);
	close(fd);
	e = set_attrs_err(d2, PG, PG, SHARED, 0, NULL);
	ok(!e && peek(p + PG) == 0x5a,
	   "after the original is closed, a copy still converts the file, bytes in place (%s)",
	   e ? ename(e) : "ok");

	d3 = memfd_create("other", MFD_CLOEXEC);
	TEST_ASSERT(d3 >= 0, "memfd_create");
	ok(dup2(d3, d2) == d2, "dup2 of another file onto a copy");
	e = set_attrs_err(d2, 0, PG, SHARED, 0, NULL);
	ok(e == ENOTTY, "that descriptor is the other file now: ENOTTY (got %s)",
	   e ? ename(e) : "success");
	ok(dup3(d1, d3, O_CLOEXEC) == d3, "dup3 of the guest_memfd onto the other file's descriptor");
	e = set_attrs_err(d3, 0, PG, SHARED, 0, NULL);
	ok(!e && peek(p) == 0, "and that one converts the guest_memfd (%s)", e ? ename(e) : "ok");

	close(d1);
	close(d2);
	close(d3);
	ok(peek(p + 2 * PG) == 0, "the mapping outlives every descriptor");
	munmap(p, SIZE);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
