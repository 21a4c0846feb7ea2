/* SPDX-License-Identifier: MIT */
/*
 * A preloaded helper for tests/series_selftests.t, never part of the shim:
 * it hides one inconsistency of some hosts' KVM from the kernel's
 * selftests.  Such a KVM (e.g. PVM, kvm_pvm) reports a 57-bit virtual
 * address width in KVM_GET_SUPPORTED_CPUID (leaf 0x80000008, EAX[15:8])
 * but refuses CR4.LA57 in KVM_SET_SREGS, so the selftests' library picks
 * 5-level paging and cannot start any vCPU, with or without the shim.
 *
 * At load it asks KVM itself: long mode with LA57 refused while long mode
 * without it is accepted.  Only then does it report 48 bits in that leaf,
 * and it says so on stderr.  Elsewhere it changes nothing.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

static int (*real_ioctl)(int, unsigned long, ...);
static bool quirk;

static bool long_mode_ok(int vcpu, const struct kvm_sregs *base, bool la57)
{
	struct kvm_sregs s = *base;

	s.cr0 = 0x80000031;			/* PG, NE, ET, PE */
	s.cr4 = 0x220 | (la57 ? 0x1000 : 0);	/* OSFXSR, PAE, LA57 */
	s.efer = 0xd00;				/* NX, LMA, LME */
	s.cs.l = 1;
	s.cs.db = 0;
	s.cs.present = 1;
	s.cs.s = 1;
	s.cs.type = 11;
	return real_ioctl(vcpu, KVM_SET_SREGS, &s) == 0;
}

__attribute__((constructor)) static void probe(void)
{
	struct kvm_sregs s;
	int kvm, vm = -1, vcpu = -1;

	real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 || !real_ioctl)
		goto out;
	vm = real_ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm >= 0)
		vcpu = real_ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu >= 0 && !real_ioctl(vcpu, KVM_GET_SREGS, &s))
		quirk = !long_mode_ok(vcpu, &s, true) &&
			long_mode_ok(vcpu, &s, false);
	if (quirk)
		fprintf(stderr, "# host_la57: this KVM refuses CR4.LA57: "
			"KVM_GET_SUPPORTED_CPUID reports 48-bit virtual addresses\n");
out:
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
}

int ioctl(int fd, unsigned long req, ...)
{
	struct kvm_cpuid2 *c;
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	r = real_ioctl(fd, req, arg);
	if (r || !quirk || req != KVM_GET_SUPPORTED_CPUID)
		return r;
	c = arg;
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 0x80000008 && ((e->eax >> 8) & 0xff) > 48)
			e->eax = (e->eax & ~0xff00U) | (48U << 8);
	}
	return r;
}
