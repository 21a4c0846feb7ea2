/* SPDX-License-Identifier: MIT */
/*
 * A TD launch as a VMM does it, in raw KVM ioctls (the uAPI of
 * Documentation/virt/kvm/x86/intel-tdx.rst with in-place conversion,
 * series v8), followed by an in-place conversion of launched memory:
 *
 *   1. KVM_CREATE_VM(KVM_X86_TDX_VM), KVM_TDX_CAPABILITIES, KVM_TDX_INIT_VM;
 *   2. a guest_memfd (MMAP | INIT_SHARED) bound to a memslot at GPA 0, and
 *      mapped: the VMM writes the firmware into it directly;
 *   3. KVM_CREATE_VCPU, KVM_TDX_INIT_VCPU;
 *   4. KVM_SET_MEMORY_ATTRIBUTES2 makes the firmware pages private, in
 *      place, and KVM_TDX_INIT_MEM_REGION with no source page adds and
 *      measures them from their own bytes (no copy, no second buffer);
 *   5. KVM_TDX_FINALIZE_VM;
 *   6. a page of the TD's memory becomes shared for I/O, in place: the
 *      TDX module's removal from the Secure EPT left it cleared, so the
 *      host reads zeros, never the TD's bytes.
 *
 * It uses <linux/kvm.h> (through include/gmem/uapi.h for older headers)
 * and libc only.  No kernel runs a TD without TDX hardware; with
 * libgmem-compat preloaded it runs anywhere KVM does, and the shim's log
 * (GMEM_COMPAT_LOG) shows each command and the final MRTD.  Where KVM
 * lacks KVM_X86_TDX_VM it says so and fails (exit 1): preload the shim;
 * where there is no KVM at all (no /dev/kvm) it says so and exits 0.
 *
 *   GMEM_COMPAT_POLICY=upstream GMEM_COMPAT_LOG=/dev/stdout \
 *       LD_PRELOAD=build/libgmem-compat.so build/examples/tdx_launch
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem/uapi.h"
#include "kvm_dev.h"
#include "tdx_td.h"

#define PAGE     4096ULL
#define MEM_SIZE (1ULL << 20)
#define FW_PAGES 16
#define IO_PAGE  (64 * PAGE)

static int set_attributes(int gmem, unsigned long long off,
			  unsigned long long len, unsigned long long attrs)
{
	struct kvm_memory_attributes2 a = { .offset = off, .size = len,
					    .attributes = attrs };

	return ioctl(gmem, KVM_SET_MEMORY_ATTRIBUTES2, &a);
}

static int fail(const char *what)
{
	fprintf(stderr, "tdx_launch: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	struct kvm_tdx_capabilities caps;
	struct kvm_create_guest_memfd cg = {
		.size = MEM_SIZE,
		.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	};
	struct kvm_userspace_memory_region2 slot = {
		.slot = 0, .flags = KVM_MEM_GUEST_MEMFD, .memory_size = MEM_SIZE,
	};
	struct kvm_tdx_init_mem_region region = { .gpa = 0, .nr_pages = FW_PAGES };
	int kvm, vm, gmem, vcpu;
	const char *what;
	unsigned char *mem;
	long types;
	int zeros = 1;

	kvm = kvm_open_or_say_why("tdx_launch");
	if (kvm < 0)
		return 0;	/* nothing to show without KVM: said why */
	types = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (types < 0 || !(types & (1L << KVM_X86_TDX_VM))) {
		fprintf(stderr, "tdx_launch: this KVM has no KVM_X86_TDX_VM (VM types %#lx); "
			"run it with libgmem-compat preloaded\n", types);
		return 1;
	}

	printf("1. create the TD\n");
	vm = tdx_create_td(kvm, &caps, &what);
	if (vm < 0)
		return fail(what);
	printf("   TD attributes %#llx, XFAM %#llx, %u configurable CPUID leaves\n",
	       (unsigned long long)caps.supported_attrs,
	       (unsigned long long)caps.supported_xfam, caps.cpuid.nent);

	printf("2. guest memory: a guest_memfd at GPA 0, mapped by the VMM\n");
	gmem = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &cg);
	if (gmem < 0)
		return fail("KVM_CREATE_GUEST_MEMFD");
	slot.guest_memfd = (unsigned)gmem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &slot))
		return fail("KVM_SET_USER_MEMORY_REGION2");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, gmem, 0);
	if (mem == MAP_FAILED)
		return fail("mmap of the guest_memfd");
	for (unsigned long long i = 0; i < FW_PAGES * PAGE; i++)
		mem[i] = (unsigned char)(i * 7 + 1);	/* the firmware image */

	printf("3. the boot vCPU\n");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	if (tdx(vcpu, KVM_TDX_INIT_VCPU, 0, NULL))
		return fail("KVM_TDX_INIT_VCPU");

	printf("4. the firmware becomes private in place, added and measured from its own bytes\n");
	if (set_attributes(gmem, 0, FW_PAGES * PAGE, KVM_MEMORY_ATTRIBUTE_PRIVATE))
		return fail("KVM_SET_MEMORY_ATTRIBUTES2 (to private)");
	if (tdx(vcpu, KVM_TDX_INIT_MEM_REGION, KVM_TDX_MEASURE_MEMORY_REGION, &region))
		return fail("KVM_TDX_INIT_MEM_REGION");
	printf("   %d pages added, next GPA %#llx\n", FW_PAGES,
	       (unsigned long long)region.gpa);

	printf("5. finalize the measurement\n");
	if (tdx(vm, KVM_TDX_FINALIZE_VM, 0, NULL))
		return fail("KVM_TDX_FINALIZE_VM");

	printf("6. a page of the TD's memory becomes shared for I/O, in place\n");
	if (set_attributes(gmem, 0, PAGE, 0))
		return fail("KVM_SET_MEMORY_ATTRIBUTES2 (to shared)");
	for (unsigned long long i = 0; i < PAGE; i++)
		zeros &= mem[i] == 0;
	printf("   the host reads %s (the Secure EPT removal cleared it)\n",
	       zeros ? "zeros" : "NON-ZERO BYTES");
	memcpy(mem, "request from the host", 22);
	if (set_attributes(gmem, IO_PAGE, PAGE, 0) ||
	    set_attributes(gmem, IO_PAGE, PAGE, KVM_MEMORY_ATTRIBUTE_PRIVATE))
		return fail("KVM_SET_MEMORY_ATTRIBUTES2 (a page never added)");
	printf("   a page the TD never had converts both ways too\n");

	munmap(mem, MEM_SIZE);
	close(vcpu);
	close(gmem);
	close(vm);
	close(kvm);
	return zeros ? 0 : 1;
}
