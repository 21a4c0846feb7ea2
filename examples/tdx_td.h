/* SPDX-License-Identifier: MIT */
/*
 * The first steps of every TD launch in raw KVM ioctls (Documentation/virt/
 * kvm/x86/intel-tdx.rst), shared by examples/tdx_launch.c and the launcher
 * of tests/measure_tdx.t: a KVM_MEMORY_ENCRYPT_OP command, and the TD
 * itself made with KVM_CREATE_VM(KVM_X86_TDX_VM), KVM_TDX_CAPABILITIES and
 * KVM_TDX_INIT_VM (SEPT_VE_DISABLE where offered, XFAM x87 and SSE, a GPAW
 * of 48 for a 4-level Secure EPT).
 */
#ifndef GMEM_EXAMPLES_TDX_TD_H
#define GMEM_EXAMPLES_TDX_TD_H

#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gmem/uapi.h"

static inline int tdx(int fd, unsigned id, unsigned flags, void *data)
{
	struct kvm_tdx_cmd c = { .id = id, .flags = flags,
				 .data = (unsigned long long)(unsigned long)data };

	return ioctl(fd, KVM_MEMORY_ENCRYPT_OP, &c);
}

/* The TD's VM fd, with what KVM_TDX_CAPABILITIES said in *caps (its
 * CPUID entries left out); or -1 with errno and *what the step that
 * failed. */
static inline int tdx_create_td(int kvm, struct kvm_tdx_capabilities *caps,
				const char **what)
{
	/* Structs ending in a CPUID array, with room for the entries. */
	_Alignas(8) unsigned char caps_buf[sizeof(struct kvm_tdx_capabilities) +
					   64 * sizeof(struct kvm_cpuid_entry2)];
	_Alignas(8) unsigned char init_buf[sizeof(struct kvm_tdx_init_vm) +
					   sizeof(struct kvm_cpuid_entry2)];
	struct kvm_tdx_capabilities *c = (void *)caps_buf;
	struct kvm_tdx_init_vm *init = (void *)init_buf;
	int vm;

	*what = "KVM_CREATE_VM(KVM_X86_TDX_VM)";
	vm = ioctl(kvm, KVM_CREATE_VM, KVM_X86_TDX_VM);
	if (vm < 0)
		return -1;
	memset(caps_buf, 0, sizeof(caps_buf));
	c->cpuid.nent = 64;
	*what = "KVM_TDX_CAPABILITIES";
	if (tdx(vm, KVM_TDX_CAPABILITIES, 0, c))
		goto fail;
	memcpy(caps, c, sizeof(*caps));
	memset(init_buf, 0, sizeof(init_buf));
	init->attributes = c->supported_attrs & TDX_TD_ATTR_SEPT_VE_DISABLE;
	init->xfam = 0x3;			/* x87, SSE */
	init->cpuid.nent = 1;
	init->cpuid.entries[0].function = 0x80000008;	/* GPAW 48: 4-level S-EPT */
	init->cpuid.entries[0].eax = (48 << 16) | (48 << 8) | 46;
	*what = "KVM_TDX_INIT_VM";
	if (tdx(vm, KVM_TDX_INIT_VM, 0, init))
		goto fail;
	return vm;
fail: {
	int e = errno;

	close(vm);
	errno = e;
	return -1;
}
}

#endif
