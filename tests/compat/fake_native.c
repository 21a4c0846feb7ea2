/* SPDX-License-Identifier: MIT */
/*
 * A pretend kernel with in-place conversion, for tests/compat.t: preloaded
 * after libgmem-compat, it has guest_memfd (KVM_CAP_GUEST_MEMFD 1, flags
 * MMAP | INIT_SHARED, KVM_CREATE_GUEST_MEMFD giving a memfd of the size
 * asked), software-protected VMs (KVM_CAP_VM_TYPES with bit 1; one is a
 * default VM of the real kernel) and accepts every
 * KVM_SET_MEMORY_ATTRIBUTES2, whatever the real kernel has, and passes
 * every other ioctl on.  The shim's probe then finds the feature "native"
 * and must leave the kernel's software-protected VMs to it: the
 * capabilities it would answer for them reach the real kernel (which says
 * 0).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem/uapi.h"

int ioctl(int fd, unsigned long req, ...)
{
	int (*next)(int, unsigned long, ...);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == KVM_SET_MEMORY_ATTRIBUTES2)
		return 0;
	next = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (!next)
		return -1;
	if (req == KVM_CHECK_EXTENSION && (long)arg == KVM_CAP_VM_TYPES)
		return next(fd, req, arg) | 1 << KVM_X86_SW_PROTECTED_VM;
	if (req == KVM_CREATE_VM && (unsigned long)arg == KVM_X86_SW_PROTECTED_VM)
		return next(fd, req, (void *)(unsigned long)KVM_X86_DEFAULT_VM);
	if (req == KVM_CHECK_EXTENSION && (long)arg == KVM_CAP_GUEST_MEMFD)
		return 1;
	if (req == KVM_CHECK_EXTENSION && (long)arg == KVM_CAP_GUEST_MEMFD_FLAGS)
		return GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
	if (req == KVM_CREATE_GUEST_MEMFD) {
		const struct kvm_create_guest_memfd *c = arg;
		int gfd = memfd_create("fake-gmem", 0);

		if (gfd >= 0 && ftruncate(gfd, (off_t)c->size)) {
			close(gfd);
			return -1;
		}
		return gfd;
	}
	return next(fd, req, arg);
}
