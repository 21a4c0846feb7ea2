/* SPDX-License-Identifier: MIT */
/*
 * A memslot outlives its guest_memfd, through the uAPI only, as in the
 * series' kernel (kvm_gmem_release() unbinds, the slot stays): once the
 * last reference to the file is gone, the slot can be neither bound again
 * (a guest_memfd slot is immutable: EINVAL) nor reached by the guest (its
 * accesses fault, whatever the host maps at the file's old addresses, even
 * with the VM's own fd closed and a vCPU holding the VM), and it can be
 * deleted.
 */
#include "uapi_test.h"
#include "kvm_vcpu.h"

#define SIZE (1ULL << 20)
#define CODE 0x1000ULL
#define DATA 0x8000ULL

static int set_region(int vm, uint32_t slot, uint64_t size, int gfd)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = slot, .flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = 1ULL << 32, .memory_size = size,
		.guest_memfd = (uint32_t)gfd,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r) ? errno : 0;
}

/* The shared mappings of SIZE bytes named like a guest_memfd, but host. */
static void gmem_mappings(const uint8_t *host, unsigned long *found, int max)
{
	FILE *m = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char line[512];
	int n = 0;

	TEST_ASSERT(m, "/proc/self/maps");
	while (fgets(line, sizeof(line), m) && n < max)
		if (strstr(line, "gmem") && sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    hi - lo == SIZE && lo != (unsigned long)host)
			found[n++] = lo;
	fclose(m);
}

int main(void)
{
	struct kvm_env k;
	unsigned long old[4] = { 0 };
	struct vcpu v;
	uint8_t *host;
	int fd, fd2, e, got, n;

	plan_lazy();
	kvm_env_open(&k);

	/* Bound, closed: the slot stays. */
	fd = gmem_create_fd(k.vm_fd, 4 * PG, GUEST_MEMFD_FLAG_MMAP);
	TEST_ASSERT(!set_region(k.vm_fd, 3, 4 * PG, fd), "bind");
	close(fd);
	fd2 = gmem_create_fd(k.vm_fd, 4 * PG, GUEST_MEMFD_FLAG_MMAP);
	e = set_region(k.vm_fd, 3, 4 * PG, fd2);
	ok(e == EINVAL, "the slot of a closed guest_memfd stays: binding it again is EINVAL (got %s)",
	   e ? ename(e) : "success");
	e = set_region(k.vm_fd, 3, 0, fd2);
	ok(!e, "and it can be deleted (got %s)", e ? ename(e) : "success");
	e = set_region(k.vm_fd, 3, 4 * PG, fd2);
	ok(!e, "after which the slot binds again (got %s)", e ? ename(e) : "success");
	close(fd2);

	/* The guest never reaches what the host maps after the file. */
	fd = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	host = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(host != MAP_FAILED, "mmap");
	{
		struct kvm_userspace_memory_region2 r = {
			.slot = 0, .flags = KVM_MEM_GUEST_MEMFD, .memory_size = SIZE,
			.userspace_addr = (uint64_t)(uintptr_t)host,
			.guest_memfd = (uint32_t)fd,
		};

		TEST_ASSERT(!ioctl(k.vm_fd, KVM_SET_USER_MEMORY_REGION2, &r), "bind");
	}
	memcpy(host + CODE, vcpu_code, sizeof(vcpu_code));
	host[DATA + 0x10] = 0x11;
	TEST_ASSERT(!vcpu_create(&v, k.kvm_fd, k.vm_fd, CODE), "vCPU");
	got = vcpu_read(&v, DATA + 0x10);
	ok(got == 0x11, "a vCPU reads the guest_memfd (%#x)", got);
	gmem_mappings(host, old, 4);
	close(k.vm_fd);		/* the VM lives on: its vCPU holds it */
	munmap(host, SIZE);
	close(fd);		/* the guest_memfd goes */
	for (n = 0; n < 4 && old[n]; n++) {
		uint8_t *other = mmap((void *)old[n], SIZE, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (other == MAP_FAILED)
			continue;
		memcpy(other + CODE, vcpu_code, sizeof(vcpu_code));
		other[DATA + 0x10] = 0x77;
	}
	got = vcpu_read(&v, DATA + 0x10);
	ok(got < 0, "then the guest's access faults, whatever the host maps where the file was "
	   "(%d mappings refilled; read %d)", n, got);
	close(k.kvm_fd);
	return done();
}
