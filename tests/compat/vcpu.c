/* SPDX-License-Identifier: MIT */
/*
 * A real vCPU reads memory converted in place, through the uAPI only: the
 * guest_memfd is bound to a memslot with KVM_SET_USER_MEMORY_REGION2 and a
 * few real-mode instructions (tests/kvm_vcpu.h) report the byte they read
 * through an `out` to port 0x10.  The host writes a shared page, converts
 * it to private with PRESERVE (the host then gets SIGBUS) and the guest
 * reads the host's byte from the same page; ZERO to-shared clears it for
 * both; a byte the guest writes into a private page is the host's after
 * PRESERVE to-shared.  Needs ZERO to-shared and PRESERVE both ways (the
 * default platform of the seed policy).
 */
#include "uapi_test.h"
#include "kvm_vcpu.h"

#define SIZE    (1ULL << 20)
#define CODE    0x1000ULL
#define DATA    0x8000ULL
#define SCRATCH 0x9000ULL

int main(void)
{
	struct kvm_userspace_memory_region2 r;
	struct kvm_env k;
	struct vcpu v;
	uint8_t *host;
	int fd, got;

	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	TEST_REQUIRE(ioctl(k.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY2) > 0,
		     "no KVM_CAP_USER_MEMORY2");
	fd = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP);
	require_inplace(fd, PRIVATE);
	host = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(host != MAP_FAILED, "mmap");

	r = (struct kvm_userspace_memory_region2){
		.slot = 0, .flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = 0, .memory_size = SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)host,
		.guest_memfd_offset = 0, .guest_memfd = (uint32_t)fd,
	};
	ok(!ioctl(k.vm_fd, KVM_SET_USER_MEMORY_REGION2, &r),
	   "KVM_SET_USER_MEMORY_REGION2 binds the guest_memfd at GPA 0");

	set_attrs(fd, CODE, PG, SHARED, 0);
	memcpy(host + CODE, vcpu_code, sizeof(vcpu_code));
	TEST_ASSERT(!vcpu_create(&v, k.kvm_fd, k.vm_fd, CODE), "vCPU");

	set_attrs(fd, DATA, PG, SHARED, 0);
	host[DATA + 0x10] = 0xa5;
	set_attrs(fd, DATA, PG, PRIVATE, F_PRESERVE);
	ok(peek(host + DATA + 0x10) < 0, "host: the page converted to private raises SIGBUS");
	got = vcpu_read(&v, DATA + 0x10);
	ok(got == 0xa5, "guest: reads the host's byte in the same page, now private (%#x)", got);

	set_attrs(fd, DATA, PG, SHARED, F_ZERO);
	got = vcpu_read(&v, DATA + 0x10);
	ok(peek(host + DATA + 0x10) == 0 && got == 0,
	   "ZERO to-shared: host and guest read zero (guest %#x)", got);

	host[DATA + 0x20] = 0x5e;
	got = vcpu_read(&v, DATA + 0x20);
	ok(got == 0x5e, "guest: reads a byte the host wrote into a shared page (%#x)", got);

	got = vcpu_write(&v, SCRATCH + 5, 0x3c);
	ok(got == 0, "guest: writes a private page");
	set_attrs(fd, SCRATCH, PG, SHARED, F_PRESERVE);
	got = peek(host + SCRATCH + 5);
	ok(got == 0x3c, "host: reads the guest's byte after PRESERVE to-shared (%#x)", got);

	vcpu_destroy(&v);
	munmap(host, SIZE);
	close(fd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
