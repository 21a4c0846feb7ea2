/* SPDX-License-Identifier: MIT */
/*
 * libgmem-compat: the interposed functions.
 *
 * Each one looks the descriptor up in the fd table (no lock, two loads) and,
 * for anything the shim does not track, calls the C library's function
 * found with dlsym(RTLD_NEXT).  Only KVM_CREATE_VM, KVM_CREATE_GUEST_MEMFD
 * and KVM_CHECK_EXTENSION on untracked descriptors, and munmap / MAP_FIXED
 * mmap / mremap while a guest_memfd is mapped, take a slower path.
 *
 * libgmem's own objects are linked into the shim with ld --wrap for the
 * same functions, so the library's calls reach the C library directly
 * (__wrap_*) and never come back through the shim.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compat.h"
#include "gmem/uapi.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- the C library's functions ----------------------------------------- */

/* Until compat_real_init() ran, each pointer leads to a stub that runs it:
 * an interposed call may come before the shim's constructor (from another
 * library's), and the fast path then needs no "initialised?" test. */
static int first_ioctl(int fd, unsigned long req, ...);
static void *first_mmap(void *a, size_t l, int p, int f, int fd, off_t o);
static int first_munmap(void *a, size_t l);
static void *first_mremap(void *a, size_t l, size_t n, int f, ...);
static int first_fallocate(int fd, int m, off_t o, off_t l);
static int first_close(int fd);
static int first_madvise(void *a, size_t l, int advice);

struct compat_real compat_real = {
	.ioctl = first_ioctl,
	.mmap = first_mmap,
	.munmap = first_munmap,
	.mremap = first_mremap,
	.fallocate = first_fallocate,
	.close = first_close,
	.madvise = first_madvise,
};

static void *next_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p)		/* no C library after us: nothing sane to do */
		abort();
	return p;
}

void compat_real_init(void)
{
	struct compat_real r;

	r.ioctl = (int (*)(int, unsigned long, ...))next_sym("ioctl");
	r.mmap = (void *(*)(void *, size_t, int, int, int, off_t))next_sym("mmap");
	r.munmap = (int (*)(void *, size_t))next_sym("munmap");
	r.mremap = (void *(*)(void *, size_t, size_t, int, ...))next_sym("mremap");
	r.fallocate = (int (*)(int, int, off_t, off_t))next_sym("fallocate");
	r.close = (int (*)(int))next_sym("close");
	r.madvise = (int (*)(void *, size_t, int))next_sym("madvise");
	/* Word-sized stores: a racing caller sees a stub or the real one. */
	__atomic_store_n(&compat_real.ioctl, r.ioctl, __ATOMIC_RELEASE);
	__atomic_store_n(&compat_real.mmap, r.mmap, __ATOMIC_RELEASE);
	__atomic_store_n(&compat_real.munmap, r.munmap, __ATOMIC_RELEASE);
	__atomic_store_n(&compat_real.mremap, r.mremap, __ATOMIC_RELEASE);
	__atomic_store_n(&compat_real.fallocate, r.fallocate, __ATOMIC_RELEASE);
	__atomic_store_n(&compat_real.close, r.close, __ATOMIC_RELEASE);
	__atomic_store_n(&compat_real.madvise, r.madvise, __ATOMIC_RELEASE);
}

static int first_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	compat_real_init();
	return compat_real.ioctl(fd, req, arg);
}

static void *first_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	compat_real_init();
	return compat_real.mmap(a, l, p, f, fd, o);
}

static int first_munmap(void *a, size_t l)
{
	compat_real_init();
	return compat_real.munmap(a, l);
}

static void *first_mremap(void *a, size_t l, size_t n, int f, ...)
{
	va_list ap;
	void *na;

	va_start(ap, f);
	na = va_arg(ap, void *);
	va_end(ap);
	compat_real_init();
	return compat_real.mremap(a, l, n, f, na);
}

static int first_fallocate(int fd, int m, off_t o, off_t l)
{
	compat_real_init();
	return compat_real.fallocate(fd, m, o, l);
}

static int first_close(int fd)
{
	compat_real_init();
	return compat_real.close(fd);
}

static int first_madvise(void *a, size_t l, int advice)
{
	compat_real_init();
	return compat_real.madvise(a, l, advice);
}

/* ---- emulate or step aside -------------------------------------------- */

static bool active;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

/* Step aside when told to.  Every kernel gets what it lacks (kernel.c);
 * where it converts in place itself, that is only the VM types it does
 * not have, and the VMs of its own types are left to it. */
static void decide(void)
{
	const char *env = getenv("GMEM_COMPAT");

	active = !env || strcmp(env, "off");
}

bool compat_active(void)
{
	pthread_once(&active_once, decide);
	return active;
}

/* ---- fork --------------------------------------------------------------- */

/*
 * A child of fork() follows the conversions of the guest_memfds it
 * inherits (maps.c, src/follow.c); the prepare handler holds every lock
 * a conversion or a mapping takes, so the child starts from one state
 * that a conversion after the fork is told about.
 */
static void fork_prepare(void)
{
	gmem__follow_lock();
	pthread_rwlock_wrlock(&compat_fd_lock);
	compat_maps_fork_prepare();
	gmem__follow_prepare(__atomic_load_n(&compat_nr_files,
					     __ATOMIC_RELAXED) > 0);
}

static void fork_parent(void)
{
	gmem__follow_parent();		/* the child registered first */
	compat_maps_fork_parent();
	pthread_rwlock_unlock(&compat_fd_lock);
}

static void fork_child(void)
{
	gmem__follow_rwlock_reinit(&compat_fd_lock, false);
	compat_maps_fork_child();
}

__attribute__((constructor)) static void compat_init(void)
{
	compat_real_init();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- interposed functions ---------------------------------------------- */

static int fail(int err)
{
	errno = err;
	return -1;
}

static int ret_errno(int ret)
{
	return ret < 0 ? fail(-ret) : ret;
}

/* A KVM ioctl (type KVMIO) on an untracked fd (/dev/kvm, or a VM the shim
 * did not see created), or one of the system ioctls on a tracked VM. */
static int ioctl_kvm(int fd, unsigned long req, void *arg)
{
	bool handled = false;
	long r;

	if (req != KVM_CREATE_GUEST_MEMFD && req != KVM_CHECK_EXTENSION &&
	    req != KVM_CREATE_VM && req != KVM_GET_DEVICE_ATTR &&
	    req != KVM_HAS_DEVICE_ATTR && req != KVM_SET_USER_MEMORY_REGION2)
		return compat_real.ioctl(fd, req, arg);
	if (!compat_active())
		return compat_real.ioctl(fd, req, arg);
	/* Where the kernel converts in place, its own VMs (those the shim
	 * did not make) get its own answers. */
	if (compat_kernel()->inplace && !compat_fd_get(fd) &&
	    (req == KVM_CREATE_GUEST_MEMFD || req == KVM_SET_USER_MEMORY_REGION2 ||
	     (req == KVM_CHECK_EXTENSION && compat_is_kvm_vm(fd))))
		return compat_real.ioctl(fd, req, arg);
	if (req == KVM_SET_USER_MEMORY_REGION2) {
		/* A VM the shim did not see created, on a kernel without
		 * REGION2 or without guest_memfd. */
		if (compat_kernel()->region2 && compat_kernel()->gmem)
			return compat_real.ioctl(fd, req, arg);
		pthread_rwlock_rdlock(&compat_fd_lock);
		r = compat_set_region(fd, arg, true);
		pthread_rwlock_unlock(&compat_fd_lock);
		return ret_errno((int)r);
	}
	if (req == KVM_CREATE_GUEST_MEMFD)
		return ret_errno(compat_create_gmem(fd, arg));
	if (req == KVM_CREATE_VM)
		return ret_errno(compat_create_vm(fd, (unsigned long)arg));
	if (req == KVM_GET_DEVICE_ATTR || req == KVM_HAS_DEVICE_ATTR) {
		r = compat_dev_attr(fd, req == KVM_GET_DEVICE_ATTR, arg, &handled);
		return handled ? ret_errno((int)r) : compat_real.ioctl(fd, req, arg);
	}
	r = compat_check_extension(fd, (long)arg, &handled);
	if (!handled)
		r = compat_vm_type_cap(fd, (long)arg, &handled);
	if (!handled)
		r = compat_kernel_cap((long)arg, &handled);
	if (!handled)
		return compat_real.ioctl(fd, req, arg);
	return (int)r;
}

/* KVM_MEMORY_ENCRYPT_OP on a VM: the handler of its type's row, or the
 * kernel's answer for the default VM underneath.  Called with
 * compat_fd_lock read. */
static int encrypt_op(struct compat_vm *cvm, int fd, void *arg)
{
	if (!cvm->type->encrypt_op)
		return compat_real.ioctl(fd, KVM_MEMORY_ENCRYPT_OP, arg);
	return ret_errno(cvm->type->encrypt_op(cvm, arg));
}

/* A tracked descriptor: the shim's guest_memfd, a VM, a vCPU or /dev/sev
 * (seen as `seen` by ioctl(), without the lock).  Requests the shim does
 * not serve take no lock (a VMM's interrupt and eventfd ioctls on the VM
 * fd, KVM_RUN on a vCPU). */
static int ioctl_tracked(int fd, const struct compat_obj *seen,
			 unsigned long req, void *arg)
{
	struct compat_obj *o;
	int ret;

	switch (req) {
	case KVM_SET_MEMORY_ATTRIBUTES2:
	case KVM_SET_USER_MEMORY_REGION2:
	case KVM_SET_USER_MEMORY_REGION:
	case KVM_CREATE_VCPU:
	case KVM_MEMORY_ENCRYPT_OP:
	case KVM_SET_MEMORY_ATTRIBUTES:
	case SEV_ISSUE_CMD:
	case KVM_SET_GUEST_DEBUG:
		break;
	case KVM_CREATE_GUEST_MEMFD:
	case KVM_CHECK_EXTENSION:
		o = compat_fd_get(fd);
		if (o && o->kind != COMPAT_VM)	/* not ioctls of a file */
			return compat_real.ioctl(fd, req, arg);
		return ioctl_kvm(fd, req, arg);
	default:
		if (seen->kind == COMPAT_SEVDEV)	/* sev_ioctl(): SEV_ISSUE_CMD only */
			return ret_errno(-EINVAL);
		return compat_real.ioctl(fd, req, arg);
	}
	pthread_rwlock_rdlock(&compat_fd_lock);
	o = compat_fd_get(fd);
	if (o && o->kind == COMPAT_GMEM && req == KVM_SET_MEMORY_ATTRIBUTES2)
		ret = ret_errno(compat_set_attributes((struct compat_file *)o, arg));
	else if (o && o->kind == COMPAT_VM && (req == KVM_SET_USER_MEMORY_REGION2 ||
					       req == KVM_SET_USER_MEMORY_REGION))
		ret = ret_errno(compat_set_region(fd, arg,
					req == KVM_SET_USER_MEMORY_REGION2));
	else if (o && o->kind == COMPAT_VM && req == KVM_MEMORY_ENCRYPT_OP)
		ret = encrypt_op((struct compat_vm *)o, fd, arg);
	else if (o && o->kind == COMPAT_VCPU && req == KVM_MEMORY_ENCRYPT_OP &&
		 ((struct compat_vcpu *)o)->cvm->type->vcpu_encrypt_op) {
		struct compat_vcpu *v = (struct compat_vcpu *)o;

		ret = ret_errno(v->cvm->type->vcpu_encrypt_op(v, arg));
	} else if (o && o->kind == COMPAT_VM && req == KVM_SET_MEMORY_ATTRIBUTES) {
		ret = compat_vm_set_attributes((struct compat_vm *)o, arg);
		ret = ret == -ENOTTY ? compat_real.ioctl(fd, req, arg)
				     : ret_errno(ret);
	} else if (o && o->kind == COMPAT_SEVDEV)
		ret = ret_errno(compat_sevdev_ioctl(req, arg));
	else if (o && o->kind == COMPAT_VCPU && req == KVM_SET_GUEST_DEBUG) {
		/* Remembered for the SEV-SNP launch (sev_es_sync_vmsa()). */
		ret = compat_real.ioctl(fd, req, arg);
		if (!ret && arg)
			__atomic_store_n(&((struct compat_vcpu *)o)->guest_debug,
					 ((struct kvm_guest_debug *)arg)->control,
					 __ATOMIC_RELAXED);
	}
	else if (o && o->kind == COMPAT_VM && req == KVM_CREATE_VCPU) {
		struct compat_vm *cvm = (struct compat_vm *)o;

		/* compat_create_vcpu takes the lock written. */
		__atomic_add_fetch(&cvm->obj.refs, 1, __ATOMIC_RELAXED);
		pthread_rwlock_unlock(&compat_fd_lock);
		ret = ret_errno(compat_create_vcpu(cvm, fd, (unsigned long)arg));
		compat_obj_put(&cvm->obj);
		return ret;
	} else
		ret = compat_real.ioctl(fd, req, arg);
	pthread_rwlock_unlock(&compat_fd_lock);
	return ret;
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	const struct compat_obj *seen;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	seen = compat_fd_get(fd);
	if (__builtin_expect(!seen, 1)) {
		/* Only KVM's own ioctls (type KVMIO) may need the shim. */
		if (__builtin_expect((req & 0xff00) != (KVMIO << 8), 1))
			return compat_real.ioctl(fd, req, arg);
		return ioctl_kvm(fd, req, arg);
	}
	return ioctl_tracked(fd, seen, req, arg);
}

static void *mmap_tracked(void *addr, size_t len, int prot, int flags,
			  int fd, off_t off)
{
	struct compat_obj *o;
	void *p;

	pthread_rwlock_rdlock(&compat_fd_lock);
	o = compat_fd_get(fd);
	if (o && o->kind == COMPAT_GMEM)
		p = compat_mmap_file((struct compat_file *)o, addr, len, prot,
				     flags, off);
	else
		p = compat_mmap_other(addr, len, prot, flags, fd, off);
	pthread_rwlock_unlock(&compat_fd_lock);
	return p;
}

static inline void *do_mmap(void *addr, size_t len, int prot, int flags,
			    int fd, off_t off)
{
	if (__builtin_expect(!compat_fd_get(fd), 1)) {
		if (__builtin_expect(!(flags & MAP_FIXED) ||
				     !__atomic_load_n(&compat_nr_maps,
						      __ATOMIC_ACQUIRE), 1))
			return compat_real.mmap(addr, len, prot, flags, fd, off);
		return compat_mmap_other(addr, len, prot, flags, fd, off);
	}
	return mmap_tracked(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off64_t off)
{
	return do_mmap(addr, len, prot, flags, fd, (off_t)off);
}

EXPORT int munmap(void *addr, size_t len)
{
	if (__builtin_expect(!__atomic_load_n(&compat_nr_maps,
					      __ATOMIC_ACQUIRE), 1))
		return compat_real.munmap(addr, len);
	return compat_munmap(addr, len);
}

/* Moving or resizing a mapping of a guest_memfd would leave the shim
 * converting at the old address: refused (docs/compat.md). */
EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (__atomic_load_n(&compat_nr_maps, __ATOMIC_ACQUIRE) &&
	    (compat_maps_overlap(old, old_len) ||
	     ((flags & MREMAP_FIXED) && compat_maps_overlap(new_addr, new_len)))) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	return compat_real.mremap(old, old_len, new_len, flags, new_addr);
}

/*
 * madvise() over a mapping of a guest_memfd.  It has no huge pages to
 * collapse into (kvm_gmem has no THP support: EINVAL), where a memfd under
 * the shim's own would collapse them; and what frees the pages of a range
 * must not take a private page's marker away (compat_maps_madvise()).
 */
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
EXPORT int madvise(void *addr, size_t len, int advice)
{
	bool frees = advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED ||
		     advice == MADV_REMOVE;

	if (__builtin_expect((advice != MADV_COLLAPSE && !frees) ||
			     !__atomic_load_n(&compat_nr_maps, __ATOMIC_ACQUIRE), 1))
		return compat_real.madvise(addr, len, advice);
	if (!compat_maps_overlap(addr, len))
		return compat_real.madvise(addr, len, advice);
	if (advice == MADV_COLLAPSE) {
		errno = EINVAL;
		return -1;
	}
	return ret_errno(compat_maps_madvise(addr, len, advice));
}

static int fallocate_tracked(int fd, int mode, off_t off, off_t len)
{
	struct compat_obj *o;
	int ret;

	pthread_rwlock_rdlock(&compat_fd_lock);
	o = compat_fd_get(fd);
	if (o && o->kind == COMPAT_GMEM)
		ret = ret_errno(compat_fallocate((struct compat_file *)o, mode,
						 off, len));
	else
		ret = compat_real.fallocate(fd, mode, off, len);
	pthread_rwlock_unlock(&compat_fd_lock);
	return ret;
}

static inline int do_fallocate(int fd, int mode, off_t off, off_t len)
{
	if (__builtin_expect(!compat_fd_get(fd), 1))
		return compat_real.fallocate(fd, mode, off, len);
	return fallocate_tracked(fd, mode, off, len);
}

EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
	return do_fallocate(fd, mode, off, len);
}

EXPORT int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	return do_fallocate(fd, mode, (off_t)off, (off_t)len);
}

EXPORT int close(int fd)
{
	struct compat_obj *o;
	int ret;

	if (__builtin_expect(!compat_fd_get(fd), 1))
		return compat_real.close(fd);
	pthread_rwlock_wrlock(&compat_fd_lock);
	o = compat_fd_get(fd);
	if (o)
		compat_fd_clear(fd);
	ret = compat_real.close(fd);
	pthread_rwlock_unlock(&compat_fd_lock);
	if (o)
		compat_obj_put(o);
	return ret;
}

/* ---- libgmem's own calls (ld --wrap) ------------------------------------ */

int __wrap_ioctl(int fd, unsigned long req, ...);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off64_t off);
int __wrap_munmap(void *addr, size_t len);
void *__wrap_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);
int __wrap_fallocate(int fd, int mode, off_t off, off_t len);
int __wrap_fallocate64(int fd, int mode, off64_t off, off64_t len);
int __wrap_close(int fd);
int __wrap_madvise(void *addr, size_t len, int advice);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	return compat_real.ioctl(fd, req, arg);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	return compat_real.mmap(addr, len, prot, flags, fd, off);
}

void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off64_t off)
{
	return compat_real.mmap(addr, len, prot, flags, fd, (off_t)off);
}

int __wrap_munmap(void *addr, size_t len)
{
	return compat_real.munmap(addr, len);
}

void *__wrap_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	return compat_real.mremap(old, old_len, new_len, flags, new_addr);
}

int __wrap_fallocate(int fd, int mode, off_t off, off_t len)
{
	return compat_real.fallocate(fd, mode, off, len);
}

int __wrap_fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	return compat_real.fallocate(fd, mode, (off_t)off, (off_t)len);
}

int __wrap_close(int fd)
{
	return compat_real.close(fd);
}

int __wrap_madvise(void *addr, size_t len, int advice)
{
	return compat_real.madvise(addr, len, advice);
}
