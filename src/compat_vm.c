/* SPDX-License-Identifier: MIT */
/*
 * Entry points for libgmem-compat (compat/): a VM of the kvm backend built
 * on a KVM VM the application already created, instead of one the library
 * opens itself.  gmem_create() on such a VM issues KVM_CREATE_GUEST_MEMFD
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
			   const char *policy, int app_vm_fd)
{
	struct gmem_vm *vm;
	int ret, vm_fd = -1;

	if (!vmp)
		return -EFAULT;
	*vmp = NULL;
	ret = gmem__vm_alloc(&vm, platform, policy);
	if (ret)
		return ret;
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
