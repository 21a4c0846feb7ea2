/* SPDX-License-Identifier: MIT */
/*
 * The capabilities of in-place conversion and guest_memfd creation,
 * through the uAPI only, under the numbers of the revision under test:
 * RFC v5 (seed, rfc-v5): KVM_CAP_MEMORY_ATTRIBUTES2 (249) reports the
 * PRIVATE attribute, KVM_CAP_GUEST_MEMFD_CONTENT_MODES (250) the content
 * flags of the table under test; v8 (upstream):
 * KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES (250) reports PRIVATE and 249 is
 * the kernel's; the kernel's other answers are untouched, and
 * KVM_CREATE_GUEST_MEMFD refuses what the kernel refuses.
 */
#include "uapi_test.h"

static long cap(int fd, long c)
{
	return ioctl(fd, KVM_CHECK_EXTENSION, c);
}

static uint64_t flags_of(unsigned m)
{
	return ((m & M_Z) ? F_ZERO : 0) | ((m & M_P) ? F_PRESERVE : 0);
}

int main(void)
{
	const char *plat, *pol;
	const struct mode_row *row = mode_row(&plat, &pol);
	struct kvm_env k;
	long r, want;
	int fd;

	TEST_REQUIRE(row || !strcmp(pol, "upstream"),
		     "no content-mode table for platform %s, policy %s", plat, pol);
	plan_lazy();
	kvm_env_open(&k);

	if (!strcmp(pol, "upstream")) {
		/* v8: one capability, 250, answering the attributes; 249 is
		 * not the series' (KVM_CAP_S390_HPAGE_2G in Linux 7.2) and
		 * gets the kernel's answer, 0 on x86. */
		r = cap(k.vm_fd, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
		ok(r == (long)PRIVATE,
		   "KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES (250) = %#lx on the VM fd, want %#llx",
		   r, (unsigned long long)PRIVATE);
		if (r != (long)PRIVATE)
			done();
		r = cap(k.kvm_fd, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
		ok(r == (long)PRIVATE,
		   "KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES (250) = %#lx on /dev/kvm", r);
		r = cap(k.vm_fd, 249);
		ok(r == 0, "249 is the kernel's (KVM_CAP_S390_HPAGE_2G in 7.2): %#lx", r);
		r = cap(k.kvm_fd, 249);
		ok(r == 0, "249 on /dev/kvm is the kernel's: %#lx", r);
		r = cap(k.vm_fd, KVM_CAP_MEMORY_ATTRIBUTES);
		ok(r == 0, "KVM_CAP_MEMORY_ATTRIBUTES = 0: PRIVATE lives in the guest_memfd (%#lx)", r);
		goto others;
	}
	r = cap(k.vm_fd, KVM_CAP_MEMORY_ATTRIBUTES2);
	ok(r == (long)PRIVATE, "KVM_CAP_MEMORY_ATTRIBUTES2 = %#lx on the VM fd, want %#llx",
	   r, (unsigned long long)PRIVATE);
	if (r != (long)PRIVATE)
		done();
	r = cap(k.kvm_fd, KVM_CAP_MEMORY_ATTRIBUTES2);
	ok(r == (long)PRIVATE, "KVM_CAP_MEMORY_ATTRIBUTES2 = %#lx on /dev/kvm", r);

	want = row ? (long)flags_of(row->to_shared | row->to_private) : 0;
	r = cap(k.vm_fd, KVM_CAP_GUEST_MEMFD_CONTENT_MODES);
	ok(r == want, "KVM_CAP_GUEST_MEMFD_CONTENT_MODES = %#lx (platform %s, policy %s), want %#lx",
	   r, plat, pol, want);
	r = cap(k.kvm_fd, KVM_CAP_GUEST_MEMFD_CONTENT_MODES);
	ok(r == want, "KVM_CAP_GUEST_MEMFD_CONTENT_MODES = %#lx on /dev/kvm", r);

others:
	r = cap(k.vm_fd, KVM_CAP_GUEST_MEMFD_FLAGS);
	ok(r >= 0 && ((uint64_t)r & GUEST_MEMFD_FLAG_MMAP) &&
	   ((uint64_t)r & GUEST_MEMFD_FLAG_INIT_SHARED),
	   "KVM_CAP_GUEST_MEMFD_FLAGS still MMAP | INIT_SHARED (%#lx)", r);
	ok(cap(k.vm_fd, KVM_CAP_USER_MEMORY) > 0 && cap(k.vm_fd, KVM_CAP_GUEST_MEMFD) > 0,
	   "other capabilities answered by the kernel");

	ok(__gmem_create(k.vm_fd, 4 * PG, 1ULL << 2) == -EINVAL,
	   "KVM_CREATE_GUEST_MEMFD: unknown flag is EINVAL");
	ok(__gmem_create(k.vm_fd, 0, GUEST_MEMFD_FLAG_MMAP) == -EINVAL,
	   "KVM_CREATE_GUEST_MEMFD: size 0 is EINVAL");
	ok(__gmem_create(k.vm_fd, PG + 1, GUEST_MEMFD_FLAG_MMAP) == -EINVAL,
	   "KVM_CREATE_GUEST_MEMFD: unaligned size is EINVAL");
	{
		struct kvm_create_guest_memfd c = { .size = PG, .reserved = { 1 } };

		/* The kernel reads size and flags only (series kernel, 6.18). */
		fd = ioctl(k.vm_fd, KVM_CREATE_GUEST_MEMFD, &c);
		ok(fd >= 0, "KVM_CREATE_GUEST_MEMFD: reserved words are not checked, as the kernel does");
		if (fd >= 0)
			close(fd);
	}
	fd = __gmem_create(k.kvm_fd, 4 * PG, 0);
	ok(fd < 0, "KVM_CREATE_GUEST_MEMFD on /dev/kvm fails (%s)", ename(-fd));
	fd = gmem_create_fd(k.vm_fd, 4 * PG, GUEST_MEMFD_FLAG_INIT_SHARED);
	ok(fd >= 0, "INIT_SHARED without MMAP is accepted");
	close(fd);

	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
