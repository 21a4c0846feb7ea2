/* SPDX-License-Identifier: MIT */
/*
 * Entry points for libgmem-compat (compat/): a VM of the kvm backend built
 * on a KVM VM the application already created, instead of one the library
 * opens itself (or of the emulated backend, where the kernel has no
 * guest_memfd the shim can use).  gmem_create() on such a VM issues KVM_CREATE_GUEST_MEMFD
 * (MMAP | INIT_SHARED) on the application's VM, so the guest_memfd can be
 * bound to the application's memslots and run by its vCPUs, while the
 * library enforces attributes and content modes as on any kvm-backend gmem.
 * Its declarations, and all else the shim may use of the library beyond
 * the public API, are src/compat_api.h.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"
#include "backend/kvm.h"
#include "compat_api.h"
#include "gmem/uapi.h"
#include "platform/platform.h"
#include "policy.h"

int gmem__compat_vm_create(struct gmem_vm **vmp, const char *platform,
			   const char *policy, int app_vm_fd, bool kernel_gmem)
{
	struct gmem_vm *vm;
	int ret, vm_fd = -1;

	if (!vmp)
		return -EFAULT;
	*vmp = NULL;
	ret = gmem__vm_alloc(&vm, platform, policy);
	if (ret)
		return ret;
	if (!kernel_gmem) {
		/* The shim binds the memfds to the application's memslots as
		 * plain userspace memory (compat/memslot.c). */
		vm->backend = &gmem__backend_emulated;
		if (vm->plat->vm_init && (ret = vm->plat->vm_init(vm)))
			goto err;
		*vmp = vm;
		return 0;
	}
	vm->backend = &gmem__backend_kvm;
	/* A duplicate of the application's VM fd keeps the KVM VM alive as
	 * long as the library has files on it, as each guest_memfd does in
	 * the kernel; without one (app_vm_fd < 0) the VM only answers
	 * capability and policy queries. */
	if (app_vm_fd >= 0) {
		vm_fd = fcntl(app_vm_fd, F_DUPFD_CLOEXEC, 3);
		if (vm_fd < 0) {
			ret = -errno;
			goto err;
		}
	}
	ret = gmem__kvm_vm_attach(vm, -1, vm_fd);
	if (ret) {
		if (vm_fd >= 0)
			close(vm_fd);
		goto err;
	}
	if (vm->plat->vm_init && (ret = vm->plat->vm_init(vm))) {
		gmem__kvm_vm_close(vm);
		goto err;
	}
	*vmp = vm;
	return 0;
err:
	gmem__vm_free(vm);
	return ret;
}

/* The library's own descriptor of the guest_memfd (for mapping it). */
int gmem__compat_fd(const struct gmem *g)
{
	return g ? g->fd : -EFAULT;
}

/* The library's own mapping of the whole file: never covered, so KVM can
 * use it as the memslot's userspace address (its instruction emulator and
 * kvm_read_guest() go through it) whatever the host views show. */
void *gmem__compat_mem(const struct gmem *g)
{
	return g ? g->mem : NULL;
}

/* What capability number cap answers under the policy (its revision's
 * numbering): GMEM_CAP_ATTRIBUTES, GMEM_CAP_CONTENT_MODES, 0 for a number
 * the kernel answers, -EINVAL for an unknown policy. */
int gmem__compat_policy_cap(const char *policy, long cap)
{
	const struct gmem_policy *pol = gmem__policy_find(policy);

	if (!pol)
		return -EINVAL;
	for (const struct gmem_policy_cap *c = pol->caps; c->cap; c++)
		if (c->cap == cap)
			return (int)c->answer;
	return 0;
}

/* Does a launch update without a source populate in place (v8)? */
bool gmem__compat_policy_inplace_launch(const char *policy)
{
	const struct gmem_policy *pol = gmem__policy_find(policy);

	return pol && pol->inplace_launch;
}

/* Is a non-zero error_offset on input accepted (v8)? */
bool gmem__compat_policy_error_offset_in(const char *policy)
{
	const struct gmem_policy *pol = gmem__policy_find(policy);

	return pol && pol->error_offset_in;
}

/* Pages already encrypted keep the address they were encrypted at: the
 * shim places a file before its launch. */
int gmem__compat_place(struct gmem *g, uint64_t gpa)
{
	if (!g)
		return -EFAULT;
	if (!PAGE_ALIGNED(gpa) || gpa + g->size < gpa)
		return -EINVAL;
	pthread_rwlock_wrlock(&g->lock);
	g->gpa = gpa;
	pthread_rwlock_unlock(&g->lock);
	return 0;
}

/* Would gmem_set_memory_attributes(g, a) succeed, as one of nsets
 * conversions of g made in a row?  Checks and reserves without changing
 * anything; after 0, the conversion of a file without a host view of the
 * library's (the shim's files have none) cannot fail. */
int gmem__compat_convert_check(struct gmem *g, struct gmem_attributes2 *a,
			       unsigned nsets)
{
	return gmem__convert_check(g, a, nsets);
}
