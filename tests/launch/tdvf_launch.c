/* SPDX-License-Identifier: MIT */
/*
 * A TD launch of a TDVF image as QEMU does it (hw/i386/tdvf.c,
 * target/i386/kvm/tdx.c), in raw KVM ioctls, for tests/measure_tdx.t to
 * run through libgmem-compat: KVM_CREATE_VM(KVM_X86_TDX_VM),
 * KVM_TDX_INIT_VM, one vCPU and KVM_TDX_INIT_VCPU; for each TDVF section
 * in table order, a guest_memfd bound at its address holding the image's
 * bytes (BFV, CFV) or zeros, made private in place, then
 * KVM_TDX_INIT_MEM_REGION, measured when the section has MR_EXTEND;
 * KVM_TDX_FINALIZE_VM.  The MRTD is in the shim's log.
 *
 *   tdvf_launch IMAGE      exit 0 launched, 1 failed, 77 no TDX uAPI here
 *
 * The TDVF descriptor is found here, independently of libgmem's parser:
 * the GUID table's TDX metadata entry gives its offset from the end.
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

#ifndef KVM_TDX_MEASURE_MEMORY_REGION
int main(void)
{
	printf("tdvf_launch: <gmem/uapi.h> has no TDX launch uAPI\n");
	return 77;
}
#else

#include "../../examples/tdx_td.h"

#define PAGE 4096UL
#define MAX_SECTIONS 16

static const unsigned char guid_footer[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f,
	0xf7, 0x45, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };
static const unsigned char guid_tdx[16] = { 0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98,
	0x98, 0x47, 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2 };

static int fail(const char *what)
{
	fprintf(stderr, "tdvf_launch: %s: %s\n", what, strerror(errno));
	return 1;
}

static unsigned rd16(const unsigned char *p) { return p[0] | p[1] << 8; }
static unsigned rd32(const unsigned char *p) { return rd16(p) | (unsigned)rd16(p + 2) << 16; }
static unsigned long long rd64(const unsigned char *p)
{
	return rd32(p) | (unsigned long long)rd32(p + 4) << 32;
}

/* The TDVF descriptor of img, or NULL. */
static const unsigned char *tdvf(const unsigned char *img, size_t n)
{
	const unsigned char *end = img + n - 32 - 18;
	size_t left;

	if (n < 64 || memcmp(end + 2, guid_footer, 16) || rd16(end) < 18)
		return NULL;
	left = rd16(end) - 18;
	while (left >= 18 && left <= (size_t)(end - img)) {
		unsigned len = rd16(end - 18);

		if (len < 18 || len > left)
			return NULL;
		if (!memcmp(end - 16, guid_tdx, 16) && len >= 22 &&
		    rd32(end - len) <= n)
			return img + n - rd32(end - len);
		end -= len;
		left -= len;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct kvm_tdx_capabilities caps;
	static unsigned char img[64 << 20];
	const unsigned char *h;
	unsigned count;
	size_t n;
	FILE *f;
	int kvm, vm, vcpu;
	const char *what;
	long types;

	if (argc != 2 || !(f = fopen(argv[1], "rb")))
		return fail(argc == 2 ? argv[1] : "usage: tdvf_launch IMAGE");
	n = fread(img, 1, sizeof(img), f);
	fclose(f);
	h = tdvf(img, n);
	if (!h || memcmp(h, "TDVF", 4) || (count = rd32(h + 12)) > MAX_SECTIONS ||
	    h + 16 + 32 * count > img + n) {
		fprintf(stderr, "tdvf_launch: %s: no usable TDVF descriptor\n", argv[1]);
		return 1;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	types = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (types < 0 || !(types & (1L << KVM_X86_TDX_VM))) {
		printf("tdvf_launch: KVM has no KVM_X86_TDX_VM (VM types %#lx)\n", types);
		return 77;
	}
	vm = tdx_create_td(kvm, &caps, &what);
	if (vm < 0)
		return fail(what);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0 || tdx(vcpu, KVM_TDX_INIT_VCPU, 0, NULL))
		return fail("KVM_CREATE_VCPU, KVM_TDX_INIT_VCPU");
	for (unsigned i = 0; i < count; i++) {
		const unsigned char *e = h + 16 + 32 * i;
		unsigned long long addr = rd64(e + 8), size = rd64(e + 16);
		unsigned doff = rd32(e), type = rd32(e + 24), attr = rd32(e + 28);
		struct kvm_create_guest_memfd cg = {
			.size = size,
			.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
		};
		struct kvm_userspace_memory_region2 slot = {
			.slot = i, .flags = KVM_MEM_GUEST_MEMFD,
			.guest_phys_addr = addr, .memory_size = size,
		};
		struct kvm_memory_attributes2 a = {
			.size = size, .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
		};
		struct kvm_tdx_init_mem_region r = { .gpa = addr, .nr_pages = size / PAGE };
		unsigned char *mem;
		int gmem;

		if (type <= 1 && (doff > n || size > n - doff)) {
			fprintf(stderr, "tdvf_launch: section %u: data outside the image\n", i);
			return 1;
		}
		gmem = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &cg);
		if (gmem < 0)
			return fail("KVM_CREATE_GUEST_MEMFD");
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, gmem, 0);
		if (mem == MAP_FAILED)
			return fail("mmap");
		slot.guest_memfd = (unsigned)gmem;
		slot.userspace_addr = (unsigned long)mem;
		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &slot))
			return fail("KVM_SET_USER_MEMORY_REGION2");
		if (type <= 1)		/* BFV, CFV: the image's bytes */
			memcpy(mem, img + doff, size);
		if (ioctl(gmem, KVM_SET_MEMORY_ATTRIBUTES2, &a))
			return fail("KVM_SET_MEMORY_ATTRIBUTES2");
		if (tdx(vcpu, KVM_TDX_INIT_MEM_REGION,
			(attr & 1) ? KVM_TDX_MEASURE_MEMORY_REGION : 0, &r))
			return fail("KVM_TDX_INIT_MEM_REGION");
	}
	if (tdx(vm, KVM_TDX_FINALIZE_VM, 0, NULL))
		return fail("KVM_TDX_FINALIZE_VM");
	printf("tdvf_launch: %u sections launched\n", count);
	return 0;
}
#endif
