/* SPDX-License-Identifier: MIT */
/*
 * The native backend: the kernel has in-place conversion, so conversions
 * pass straight through as KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd
 * fd and the kernel enforces everything (SIGBUS, EAGAIN, content modes).
 * The library keeps a mirror of the attributes, updated only by successful
 * conversions, so queries need no system call.
 *
 * Selected only when the probe finds the ioctl working on a guest_memfd,
 * never by a capability number alone: the numbers moved between revisions
 * of the series (250 answered the content modes in RFC v5 and answers the
 * attributes a guest_memfd supports, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES,
 * in v8; 249 is Linux 7.2's KVM_CAP_S390_HPAGE_2G).  The ioctl works only on
 * a guest_memfd of a VM type with private memory: v8 refuses it with
 * EINVAL on a default VM (x86 has no private memory there).  So the probe
 * tries the VM types that have it, and every VM tries it again on its own
 * type: a VM type the kernel cannot create or convert (SEV-SNP or TDX
 * without their hardware, default VMs in v8) makes gmem_vm_create() fall
 * back to the next backend unless GMEM_BACKEND forces this one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "backend/kvm.h"
#include "gmem/uapi.h"
#include "platform/platform.h"

#define NATIVE_KFLAGS (GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)

/*
 * Convert the first page of a fresh two-page shared guest_memfd to private:
 * 0 when the kernel does it.  Then a to-shared conversion with a content
 * flag tells whether the kernel has content modes (RFC v5 takes PRESERVE
 * or refuses it with EOPNOTSUPP; v8 defines no flag: EINVAL).
 */
static int native_try(int gmem_fd, bool *content_flags)
{
	struct kvm_memory_attributes2 a = {
		.offset = 0, .size = PAGE_SIZE,
		.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
		.flags = KVM_SET_MEMORY_ATTRIBUTES2_UNSPECIFIED,
	};

	if (gmem__kvm_ioctl(gmem_fd, KVM_SET_MEMORY_ATTRIBUTES2, &a))
		return -errno;
	memset(&a, 0, sizeof(a));
	a.size = PAGE_SIZE;
	a.flags = KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE;
	*content_flags = !(gmem__kvm_ioctl(gmem_fd, KVM_SET_MEMORY_ATTRIBUTES2,
					   &a) && errno == EINVAL);
	return 0;
}

static int native_probe(const char **why)
{
	/* VM types with private memory first: in-place conversion is theirs. */
	static const unsigned long types[] = {
		KVM_X86_SW_PROTECTED_VM, KVM_X86_DEFAULT_VM,
	};
	int kfd, vfd, gfd, ret = -ENODEV;
	bool content_flags;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ret = gmem__kvm_probe_gmem(&kfd, &vfd, &gfd, types[i],
					   2 * PAGE_SIZE, NATIVE_KFLAGS, why);
		if (!ret && native_try(gfd, &content_flags))
			ret = -ENODEV;
		gmem__kvm_close_fds(kfd, vfd, gfd);
		if (!ret) {
			*why = "KVM_SET_MEMORY_ATTRIBUTES2 on guest_memfd";
			return 0;
		}
		if (kfd < 0)
			return ret;	/* no /dev/kvm: *why says so */
	}
	*why = "no KVM_SET_MEMORY_ATTRIBUTES2 on guest_memfd "
	       "(in-place conversion series)";
	return ret;
}

/* The VM of the platform's type, if the kernel converts its guest_memfds. */
static int native_vm_init(struct gmem_vm *vm)
{
	struct kvm_create_guest_memfd cg = {
		.size = 2 * PAGE_SIZE, .flags = NATIVE_KFLAGS,
	};
	struct gmem_kvm_vm *k;
	int ret = gmem__kvm_vm_open(vm, vm->plat->kvm_vm_type), gfd;

	/* A VM type this kernel or machine cannot create. */
	if (ret)
		return ret == -EINVAL || ret == -EOPNOTSUPP ? -ENODEV : ret;
	k = vm->backend_priv;
	gfd = gmem__kvm_ioctl(k->vm_fd, KVM_CREATE_GUEST_MEMFD, &cg);
	if (gfd < 0) {
		ret = errno == ENOMEM ? -ENOMEM : -ENODEV;
	} else {
		ret = native_try(gfd, &k->content_flags);
		close(gfd);
		if (ret && ret != -ENOMEM)
			ret = -ENODEV;
	}
	if (ret)
		gmem__kvm_vm_close(vm);
	return ret;
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
	if (!ret)
		ret = gmem__fault_check(GMEM_FI_IOCTL);	/* tests: a failing kernel */
	if (ret) {
		a->error_offset = a->offset;	/* as the kernel's -ENOMEM does */
		goto out;
	}
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

/* A kernel with content modes (RFC v5) reports those a VM supports as a
 * capability bitmask, 250 there (only a positive answer is trusted); the
 * series as of v8 has none, and 250 answers something else: UNSPECIFIED
 * only.  UNSPECIFIED is always accepted. */
static int native_content_modes(struct gmem_vm *vm, uint64_t attributes,
				uint64_t *modes)
{
	struct gmem_kvm_vm *k = vm->backend_priv;
	int r;

	if (!k->content_flags) {
		*modes = GMEM_MODES_UNSPECIFIED;
		return 0;
	}
	r = gmem__kvm_ioctl(k->vm_fd, KVM_CHECK_EXTENSION,
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
