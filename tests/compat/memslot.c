/* SPDX-License-Identifier: MIT */
/*
 * KVM_SET_USER_MEMORY_REGION2 with a guest_memfd, through the uAPI only:
 * the binding is checked as the series' kernel checks it (kvm_gmem_bind()
 * with unsigned arithmetic: guest_memfd_offset + memory_size past the
 * file's end is EINVAL, even where the sum wraps negative as a loff_t),
 * and every other error keeps the kernel's order (an overlapping slot is
 * EEXIST before the binding is looked at).
 */
#include "uapi_test.h"

#define SIZE (4 * PG)

static int set_region_flags(int vm_fd, uint32_t slot, uint32_t flags,
			    uint64_t gpa, uint64_t size, int gfd, uint64_t off)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = slot, .flags = flags,
		.guest_phys_addr = gpa, .memory_size = size,
		.guest_memfd = (uint32_t)gfd, .guest_memfd_offset = off,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &r) ? errno : 0;
}

static int set_region(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size,
		      int gfd, uint64_t off)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = slot, .flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = gpa, .memory_size = size,
		.guest_memfd = (uint32_t)gfd, .guest_memfd_offset = off,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &r) ? errno : 0;
}

int main(void)
{
	struct kvm_env k;
	int fd, e;

	plan_lazy();
	kvm_env_open(&k);
	fd = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);

	/* First: what 6.18 lets through (the selftests' test_invalid_binding). */
	e = set_region(k.vm_fd, 0, 0, SIZE, fd, INT64_MAX & ~(PG - 1));
	ok(e == EINVAL, "offset ALIGN_DOWN(INT64_MAX): offset + size past the file is EINVAL (got %s)",
	   e ? ename(e) : "success");
	if (e != EINVAL)
		done();

	{
		const struct { const char *what; uint64_t off, size; } bad[] = {
			{ "offset at the end", SIZE, PG },
			{ "offset past the end", 8 * SIZE, PG },
			{ "range one page past the end", PG, SIZE },
			{ "offset 2^63", 1ULL << 63, PG },
			{ "offset + size overflows", ~(PG - 1), 2 * PG },
			{ "offset not page aligned", PG / 2, PG },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			e = set_region(k.vm_fd, 1, 1ULL << 32, bad[i].size, fd, bad[i].off);
			ok(e == EINVAL, "%s: EINVAL (got %s)", bad[i].what,
			   e ? ename(e) : "success");
		}
	}

	e = set_region(k.vm_fd, 2, 1ULL << 32, 2 * PG, fd, 2 * PG);
	ok(!e, "the last two pages bind (got %s)", e ? ename(e) : "success");
	e = set_region(k.vm_fd, 3, 1ULL << 32, PG, fd, 8 * SIZE);
	ok(e == EEXIST, "an overlapping slot past the file's end: EEXIST first, as the kernel orders it (got %s)",
	   e ? ename(e) : "success");
	e = set_region(k.vm_fd, 2, 1ULL << 32, 0, fd, INT64_MAX & ~(PG - 1));
	ok(!e, "deleting the slot (size 0) ignores the offset (got %s)",
	   e ? ename(e) : "success");
	e = set_region(k.vm_fd, 4, 3ULL << 32, SIZE, fd, 0);
	ok(!e, "the whole file binds (got %s)", e ? ename(e) : "success");

	/* kvm_gmem_bind() and __kvm_set_memory_region(), after the range. */
	e = set_region(k.vm_fd, 5, 5ULL << 32, PG, fd, PG);
	ok(e == EINVAL, "a page another slot is bound to: EINVAL (got %s)",
	   e ? ename(e) : "success");
	e = set_region(k.vm_fd, 4, 6ULL << 32, SIZE, fd, 0);
	ok(e == EINVAL, "a guest_memfd slot cannot be moved, only deleted: EINVAL (got %s)",
	   e ? ename(e) : "success");
	e = set_region_flags(k.vm_fd, 5, KVM_MEM_GUEST_MEMFD | KVM_MEM_LOG_DIRTY_PAGES,
			     5ULL << 32, PG, fd, 0);
	ok(e == EINVAL, "GUEST_MEMFD with LOG_DIRTY_PAGES: EINVAL (got %s)",
	   e ? ename(e) : "success");
	e = set_region_flags(k.vm_fd, 5, KVM_MEM_GUEST_MEMFD | KVM_MEM_READONLY,
			     5ULL << 32, PG, fd, 0);
	ok(e == EINVAL, "GUEST_MEMFD with READONLY: EINVAL (got %s)",
	   e ? ename(e) : "success");
	{
		int other_vm = ioctl(k.kvm_fd, KVM_CREATE_VM, 0UL);
		int other = gmem_create_fd(other_vm, SIZE, GUEST_MEMFD_FLAG_MMAP);
		int devnull = open("/dev/null", O_RDWR);

		e = set_region(k.vm_fd, 5, 5ULL << 32, PG, other, 0);
		ok(e == EINVAL, "a guest_memfd of another VM: EINVAL (got %s)",
		   e ? ename(e) : "success");
		e = set_region(k.vm_fd, 5, 5ULL << 32, PG, devnull, 0);
		ok(e == EINVAL, "a file that is not a guest_memfd: EINVAL (got %s)",
		   e ? ename(e) : "success");
		close(devnull);
		e = set_region(k.vm_fd, 5, 5ULL << 32, PG, devnull, 0);
		ok(e == EBADF, "a closed descriptor: EBADF (got %s)",
		   e ? ename(e) : "success");
		close(other);
		close(other_vm);
	}
	e = set_region(k.vm_fd, 4, 3ULL << 32, 0, fd, 0);
	ok(!e, "the slot is deleted (got %s)", e ? ename(e) : "success");
	e = set_region(k.vm_fd, 5, 5ULL << 32, PG, fd, PG);
	ok(!e, "and its pages bind again (got %s)", e ? ename(e) : "success");

	close(fd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
