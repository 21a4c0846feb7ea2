/* SPDX-License-Identifier: MIT */
/*
 * Memslots: KVM_SET_USER_MEMORY_REGION2 on a VM, with one of the shim's
 * guest_memfds or none, on every kernel generation (kernel.c):
 *
 * - the kernel's own guest_memfd (6.18+): the kernel binds it; the slot's
 *   userspace address becomes the library's own mapping of the file;
 * - an emulated guest_memfd (a memfd: the kernel has none the shim can
 *   use): the shim checks the binding as the series' kvm_gmem_bind() does
 *   and gives the kernel a plain slot of the library's own mapping of the
 *   file, so the vCPU reads and writes the file's bytes;
 * - no KVM_SET_USER_MEMORY_REGION2 in the kernel (before 6.8): the same
 *   slot through KVM_SET_USER_MEMORY_REGION.
 *
 * Every slot set on a VM the shim tracks is recorded (vmtypes.c): the
 * attribute and launch ioctls name GPAs, and an emulated binding needs to
 * know which slots exist, as the kernel does before it binds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "compat.h"
#include "gmem/uapi.h"

#define PG GMEM_PAGE_SIZE

/* The flags KVM_SET_USER_MEMORY_REGION takes (KVM_SET_USER_MEMORY_REGION_V1_FLAGS). */
#define V1_FLAGS (KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)

/* The kernel's ioctl for r: REGION2 where it has it, else the first
 * version with the same fields (their layouts share the first 32 bytes). */
static int kernel_set(int vm_fd, const struct kvm_userspace_memory_region2 *r)
{
	struct kvm_userspace_memory_region v1;

	if (compat_kernel()->region2)
		return compat_real.ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2,
					 (void *)r) ? -errno : 0;
	if (r->flags & ~V1_FLAGS)	/* not a flag this kernel knows */
		return -EINVAL;
	v1.slot = r->slot;
	v1.flags = r->flags;
	v1.guest_phys_addr = r->guest_phys_addr;
	v1.memory_size = r->memory_size;
	v1.userspace_addr = r->userspace_addr;
	return compat_real.ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &v1) ? -errno : 0;
}

static struct compat_vm *tracked_vm(int vm_fd)
{
	struct compat_obj *o = compat_fd_get(vm_fd);

	return o && o->kind == COMPAT_VM ? (struct compat_vm *)o : NULL;
}

/*
 * The series' kernel checks a guest_memfd binding (kvm_gmem_bind()) with
 * unsigned arithmetic: offset + size past the file's end is EINVAL.  6.18
 * compares them as loff_t, so an offset near INT64_MAX whose sum wraps
 * negative passes, and the slot is bound to nothing.  An offset equal to
 * the file's size fails 6.18's check at the very same step with the same
 * EINVAL, after everything the kernel checks first (flags, alignment,
 * overflow, an overlapping slot's EEXIST), so the kernel still gives every
 * other error in its own order.  Returns the offset to pass on.
 */
static uint64_t bind_offset(const struct kvm_userspace_memory_region2 *r,
			    uint64_t file_size)
{
	uint64_t off = r->guest_memfd_offset;

	if (!r->memory_size || off % PG || off + r->memory_size < off)
		return off;		/* the kernel refuses or deletes */
	if (off > file_size || r->memory_size > file_size - off)
		return file_size;	/* past the end, as the series says */
	return off;
}

/* The library's own mapping of [off, off + size) of f (never covered), or
 * 0 when the range is not inside the file. */
static uint64_t lib_addr(const struct compat_file *f, uint64_t off,
			 uint64_t size)
{
	if (off > f->size || size > f->size - off)
		return 0;
	return (uint64_t)(uintptr_t)((uint8_t *)gmem__compat_mem(f->g) + off);
}

/* ---- the kernel's guest_memfd ------------------------------------------- */

/*
 * The guest faults its pages from the guest_memfd (an mmap-able guest_memfd
 * makes the slot guest_memfd-only), but KVM's instruction emulator and
 * kvm_read_guest() go through the userspace address, and the application's
 * mapping has its private pages covered: the slot takes the library's.
 */
static int set_kernel_gmem(int vm_fd, struct kvm_userspace_memory_region2 *r,
			   struct compat_file *f)
{
	uint64_t addr;

	r->guest_memfd_offset = bind_offset(r, f->size);
	addr = lib_addr(f, r->guest_memfd_offset, r->memory_size);
	/* An address the kernel refuses (misaligned, past the user address
	 * space) goes to it as it is: EINVAL at its own step. */
	if (addr && compat_memslot_uaddr_ok(r))
		r->userspace_addr = addr;
	return compat_real.ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, r) ? -errno : 0;
}

/* ---- an emulated guest_memfd ---------------------------------------------- */

/*
 * A slot of an emulated guest_memfd: compat_memslot_check(), then a plain
 * slot of the library's mapping of the file, recorded.  The kernel checks
 * the same things again with what it knows (slots set before the shim
 * tracked the VM included).  The check, the kernel's slot and the record
 * are one step under cvm->lock, as KVM's slots_lock makes them one.
 * Called with compat_fd_lock read.
 */
static int set_emulated_gmem(int vm_fd, struct compat_vm *cvm,
			     struct kvm_userspace_memory_region2 *r)
{
	struct compat_obj *o = compat_fd_get((int)r->guest_memfd);
	struct compat_file *f = o && o->kind == COMPAT_GMEM ? (struct compat_file *)o
							    : NULL;
	int not_gmem = -EINVAL, ret;

	if (f && f->cvm != cvm)
		f = NULL;
	else if (!o && fcntl((int)r->guest_memfd, F_GETFD) < 0)
		not_gmem = -EBADF;
	if (!cvm) {	/* no file is this VM's: a deletion at most */
		ret = compat_memslot_check(NULL, r, NULL, not_gmem);
		if (!ret) {
			r->flags = 0;
			ret = kernel_set(vm_fd, r);
		}
		return ret;
	}
	pthread_mutex_lock(&cvm->lock);
	ret = compat_memslot_check(cvm->slots, r, f, not_gmem);
	if (!ret && r->memory_size && cvm->own_fd < 0 &&
	    (cvm->own_fd = fcntl(vm_fd, F_DUPFD_CLOEXEC, 3)) < 0)
		ret = -errno;
	if (!ret) {
		r->flags = 0;
		if (r->memory_size)
			r->userspace_addr = lib_addr(f, r->guest_memfd_offset,
						     r->memory_size);
		ret = kernel_set(vm_fd, r);
	}
	if (!ret)
		compat_slot_record_locked(cvm, r->slot, r->guest_phys_addr,
					  r->memory_size, r->guest_memfd_offset, f);
	pthread_mutex_unlock(&cvm->lock);
	return ret;
}

/* ---- the ioctl ---------------------------------------------------------- */

/*
 * KVM_SET_USER_MEMORY_REGION2 (v2) or KVM_SET_USER_MEMORY_REGION on a VM
 * fd, tracked or not.  Called with compat_fd_lock read.  0 or -errno.
 */
int compat_set_region(int vm_fd, void *arg, bool v2)
{
	struct kvm_userspace_memory_region2 r;
	struct compat_vm *cvm = tracked_vm(vm_fd);
	struct compat_file *f = NULL;
	struct compat_obj *o;
	int ret;

	if (!arg)
		return -EFAULT;
	memset(&r, 0, sizeof(r));
	memcpy(&r, arg, v2 ? sizeof(r) : sizeof(struct kvm_userspace_memory_region));
	o = v2 && (r.flags & KVM_MEM_GUEST_MEMFD) ? compat_fd_get((int)r.guest_memfd)
						    : NULL;
	if (!v2)
		ret = compat_real.ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, arg) ? -errno : 0;
	else if (!(r.flags & KVM_MEM_GUEST_MEMFD))
		ret = kernel_set(vm_fd, &r);
	else if (o && o->kind == COMPAT_GMEM && compat_kernel()->gmem)
		ret = set_kernel_gmem(vm_fd, &r, f = (struct compat_file *)o);
	else if (!compat_kernel()->gmem)
		return set_emulated_gmem(vm_fd, cvm, &r);
	else		/* the kernel's own file, or none */
		ret = compat_real.ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &r) ? -errno : 0;
	if (!ret && cvm)
		compat_slot_record(cvm, r.slot, r.guest_phys_addr, r.memory_size,
				   r.guest_memfd_offset, f);
	return ret;
}

/*
 * An emulated guest_memfd is going while a slot of its VM still holds the
 * library's mapping of it, which is about to go too.  The series' kernel
 * keeps the slot, unbound (kvm_gmem_release()): the guest's accesses fault
 * (-EFAULT from KVM_RUN), the slot cannot be bound again, only deleted.
 * The same here: the slot is made again over inaccessible memory of its
 * own, so the guest never reaches whatever is mapped at the old address.
 */
bool compat_slot_unbind(int vm_fd, struct compat_slot *s)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = s->slot, .guest_phys_addr = s->gpa,
	};
	void *p = compat_real.mmap(NULL, s->size, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	kernel_set(vm_fd, &r);		/* deleted */
	if (p == MAP_FAILED)
		return false;
	r.memory_size = s->size;
	r.userspace_addr = (uint64_t)(uintptr_t)p;
	if (kernel_set(vm_fd, &r)) {
		compat_real.munmap(p, s->size);
		return false;
	}
	s->f = NULL;
	s->unbound = p;
	return true;
}

void compat_slot_free(struct compat_slot *s)
{
	if (s->unbound)
		compat_real.munmap(s->unbound, s->size);
	free(s);
}
