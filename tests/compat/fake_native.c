/* SPDX-License-Identifier: MIT */
/*
 * A pretend kernel with in-place conversion, for tests/compat.t: preloaded
 * after libgmem-compat, it accepts every KVM_SET_MEMORY_ATTRIBUTES2 and
 * passes every other ioctl on.  The shim's probe then finds the feature
 * "native" and must step aside completely: the capabilities it would
 * answer reach the real kernel (which says 0).
 */
#include <dlfcn.h>
#include <stdarg.h>

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
	return next ? next(fd, req, arg) : -1;
}
