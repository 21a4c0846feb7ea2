/* SPDX-License-Identifier: MIT */
/*
 * Copies of tracked descriptors: dup, dup2, dup3 and fcntl(F_DUPFD,
 * F_DUPFD_CLOEXEC) of one of the shim's guest_memfds, VMs or vCPUs give a
 * descriptor of the same object, as the kernel's copies refer to the same
 * open file (the KVM selftests' library keeps a dup of every guest_memfd
 * it maps).  dup2 or dup3 onto a tracked descriptor closes that one first,
 * as the kernel does.  Each table entry holds a reference; the object goes
 * with its last descriptor and mapping.
 *
 * Copies of other descriptors cost one table look-up of each descriptor
 * involved before the C library's function.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "compat.h"

#define EXPORT __attribute__((visibility("default")))

static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl)(int, int, ...);
static int (*real_fcntl64)(int, int, ...);

static void *next(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!p) {
		p = dlsym(RTLD_NEXT, name);
		if (!p)
			abort();
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return p;
}
#define NEXT(var, name) ((__typeof__(var))next((void **)&(var), (name)))

/* newfd is now a copy of the object oldfd had (o, looked up under the lock
 * written), replacing whatever newfd was: returns that one's object, to
 * be put once the lock is dropped (as close() does). */
static struct compat_obj *track_copy(struct compat_obj *o, int newfd)
{
	struct compat_obj *old = compat_fd_get(newfd);

	if (old == o)
		return NULL;
	if (old)
		compat_fd_clear(newfd);
	if (o) {
		__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
		if (compat_fd_set(newfd, o))	/* -ENOMEM: an untracked copy */
			__atomic_sub_fetch(&o->refs, 1, __ATOMIC_RELAXED);
	}
	return old;
}

/* Run a copy under the table's write lock when either descriptor is
 * tracked: the copy and the table change together. */
static int copy_fd(int oldfd, int newfd, int flags, int how)
{
	struct compat_obj *o, *old = NULL;
	int r;

	pthread_rwlock_wrlock(&compat_fd_lock);
	o = compat_fd_get(oldfd);
	switch (how) {
	case 0:
		r = NEXT(real_dup, "dup")(oldfd);
		break;
	case 2:
		r = NEXT(real_dup2, "dup2")(oldfd, newfd);
		break;
	case 3:
		r = NEXT(real_dup3, "dup3")(oldfd, newfd, flags);
		break;
	default:	/* fcntl F_DUPFD / F_DUPFD_CLOEXEC, newfd the minimum */
		r = NEXT(real_fcntl, "fcntl")(oldfd, how, newfd);
		break;
	}
	if (r >= 0)
		old = track_copy(o, r);
	pthread_rwlock_unlock(&compat_fd_lock);
	if (old)
		compat_obj_put(old);
	return r;
}

EXPORT int dup(int oldfd)
{
	if (__builtin_expect(!compat_fd_get(oldfd), 1))
		return NEXT(real_dup, "dup")(oldfd);
	return copy_fd(oldfd, -1, 0, 0);
}

EXPORT int dup2(int oldfd, int newfd)
{
	if (__builtin_expect(!compat_fd_get(oldfd) && !compat_fd_get(newfd), 1))
		return NEXT(real_dup2, "dup2")(oldfd, newfd);
	return copy_fd(oldfd, newfd, 0, 2);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (__builtin_expect(!compat_fd_get(oldfd) && !compat_fd_get(newfd), 1))
		return NEXT(real_dup3, "dup3")(oldfd, newfd, flags);
	return copy_fd(oldfd, newfd, flags, 3);
}

static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && compat_fd_get(fd))
		return copy_fd(fd, (int)(long)arg, 0, cmd);
	return real(fd, cmd, arg);
}

/* Every fcntl command takes at most one argument, an int or a pointer:
 * passing it on as a pointer-sized word is what the C library does. */
EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(NEXT(real_fcntl, "fcntl"), fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(NEXT(real_fcntl64, "fcntl64"), fd, cmd, arg);
}

/* ---- libgmem's own calls (ld --wrap) ------------------------------------ */

int __wrap_dup(int oldfd);
int __wrap_dup2(int oldfd, int newfd);
int __wrap_dup3(int oldfd, int newfd, int flags);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_fcntl64(int fd, int cmd, ...);

int __wrap_dup(int oldfd)
{
	return NEXT(real_dup, "dup")(oldfd);
}

int __wrap_dup2(int oldfd, int newfd)
{
	return NEXT(real_dup2, "dup2")(oldfd, newfd);
}

int __wrap_dup3(int oldfd, int newfd, int flags)
{
	return NEXT(real_dup3, "dup3")(oldfd, newfd, flags);
}

int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return NEXT(real_fcntl, "fcntl")(fd, cmd, arg);
}

int __wrap_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return NEXT(real_fcntl64, "fcntl64")(fd, cmd, arg);
}
