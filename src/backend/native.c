/* SPDX-License-Identifier: MIT */
/*
 * The native backend: the kernel has in-place conversion, so conversions
 * pass straight through as KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd
 * fd and the kernel enforces everything (SIGBUS, EAGAIN, content modes).
 * The library keeps a mirror of the attributes, updated only by successful
 * conversions, so queries need no system call.
 *
 * Selected only when the probe finds the ioctl working on a guest_memfd:
 * capability numbers moved between revisions of the series.  VM types the
 * kernel cannot create (SEV-SNP, TDX without their hardware) make
 * gmem_vm_create() fall back to the next backend unless GMEM_BACKEND
 * forces this one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "backend/kvm.h"
#include "gmem/uapi.h"
#include "platform/platform.h"

static int native_probe(const char **why)
{
	struct kvm_memory_attributes2 a = {
		.offset = 0, .size = PAGE_SIZE,
		.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
		.flags = KVM_SET_MEMORY_ATTRIBUTES2_UNSPECIFIED,
	};
	int kfd, vfd, gfd, ret;

	ret = gmem__kvm_probe_gmem(&kfd, &vfd, &gfd, 2 * PAGE_SIZE,
				   GUEST_MEMFD_FLAG_MMAP |
				   GUEST_MEMFD_FLAG_INIT_SHARED, why);
	if (!ret) {
		if (gmem__kvm_ioctl(gfd, KVM_SET_MEMORY_ATTRIBUTES2, &a)) {
			*why = "no KVM_SET_MEMORY_ATTRIBUTES2 on guest_memfd "
			       "(in-place conversion series)";
			ret = -ENODEV;
		} else {
			*why = "KVM_SET_MEMORY_ATTRIBUTES2 on guest_memfd";
		}
	}
	if (gfd >= 0)
		close(gfd);
	if (vfd >= 0)
		close(vfd);
	if (kfd >= 0)
		close(kfd);
	return ret;
}

static int native_vm_init(struct gmem_vm *vm)
{
	int ret = gmem__kvm_vm_open(vm, vm->plat->kvm_vm_type);

	/* A VM type this kernel or machine cannot create. */
	return ret == -EINVAL || ret == -EOPNOTSUPP ? -ENODEV : ret;
}

/* The kernel applies the caller's flags itself. */
static int native_create(struct gmem *g)
{
	return gmem__kvm_gmem_create(g, g->flags);
}

static int native_set_attributes(struct gmem *g, struct gmem_attributes2 *a)
{
	struct kvm_memory_attributes2 k;
	int ret = 0;

	_Static_assert(sizeof(k) == sizeof(*a), "same layout");
	memcpy(&k, a, sizeof(k));
	pthread_rwlock_wrlock(&g->lock);
	/* Room for the mirror's update first: it cannot fail afterwards. */
	ret = rs_reserve(g->attrs, 1);
	if (ret)
		goto out;
	if (gmem__kvm_ioctl(g->fd, KVM_SET_MEMORY_ATTRIBUTES2, &k)) {
		ret = -errno;
		/* The kernel copies the struct back only on failure. */
		a->error_offset = k.error_offset;
	} else {
		ret = gmem__attrs_set(g, a->offset, a->offset + a->size,
				      (unsigned)a->attributes);
		if (!ret) {
			g->stats.conversions++;
			if (a->flags & GMEM_CONTENT_ZERO)
				g->stats.pages_zeroed += a->size >> PAGE_SHIFT;
		}
	}
out:
	pthread_rwlock_unlock(&g->lock);
	return ret;
}

/* The series reports the content flags a VM supports as a capability
 * bitmask (its number moved between revisions: only a positive answer is
 * trusted).  UNSPECIFIED is always accepted. */
static int native_content_modes(struct gmem_vm *vm, uint64_t attributes,
				uint64_t *modes)
{
	struct gmem_kvm_vm *k = vm->backend_priv;
	int r = gmem__kvm_ioctl(k->vm_fd, KVM_CHECK_EXTENSION,
				(void *)(unsigned long)KVM_CAP_GUEST_MEMFD_CONTENT_MODES);

	if (r <= 0)
		return -EOPNOTSUPP;
	*modes = GMEM_MODES_UNSPECIFIED |
		 ((uint64_t)r & (GMEM_CONTENT_ZERO | GMEM_CONTENT_PRESERVE));
	return 0;
}

const struct gmem_backend_ops gmem__backend_native = {
	.name = "native",
	.probe = native_probe,
	.vm_init = native_vm_init,
	.vm_fini = gmem__kvm_vm_close,
	.create = native_create,
	.destroy = gmem__kvm_gmem_destroy,
	.punch_hole = gmem__kvm_punch_hole,
	.bind = gmem__kvm_bind,
	.set_attributes = native_set_attributes,
	.kernel_enforces = true,
	.content_modes = native_content_modes,
};
