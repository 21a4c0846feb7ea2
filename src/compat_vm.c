/* SPDX-License-Identifier: MIT */
/*
 * Entry points for libgmem-compat (compat/): a VM of the kvm backend built
 * on a KVM VM the application already created, instead of one the library
 * opens itself.  gmem_create() on such a VM issues KVM_CREATE_GUEST_MEMFD
 * (MMAP | INIT_SHARED) on the application's VM, so the guest_memfd can be
 * bound to the application's memslots and run by its vCPUs, while the
 * library enforces attributes and content modes as on any kvm-backend gmem.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "backend/kvm.h"
#include "gmem/uapi.h"
#include "platform/platform.h"
#include "policy.h"

int gmem__compat_vm_create(struct gmem_vm **vmp, const char *platform,
			   const char *policy, int app_vm_fd);
int gmem__compat_fd(const struct gmem *g);
void *gmem__compat_mem(const struct gmem *g);

/* As vm.c: GMEM_SCRAMBLE_SEED=n makes sw_protected scrambling
 * reproducible. */
static uint64_t compat_seed(void)
{
	const char *env = getenv("GMEM_SCRAMBLE_SEED");
	uint64_t seed = 0;

	if (env && *env)
		seed = strtoull(env, NULL, 0);
	else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	return seed ? seed : 0x9E3779B97F4A7C15ULL;
}

/* The kvm backend's per-VM state on a duplicate of the application's VM
 * fd (or none, app_vm_fd < 0: a VM that only answers capability and policy
 * queries).  The duplicate keeps the KVM VM alive as long as the library
 * has files on it, as each guest_memfd does in the kernel. */
static int compat_kvm_state(struct gmem_vm *vm, int app_vm_fd)
{
	struct gmem_kvm_vm *k = calloc(1, sizeof(*k));
	int n;

	if (!k)
		return -ENOMEM;
	k->kvm_fd = -1;
	k->vm_fd = -1;
	if (app_vm_fd >= 0) {
		k->vm_fd = fcntl(app_vm_fd, F_DUPFD_CLOEXEC, 3);
		if (k->vm_fd < 0) {
			n = -errno;
			free(k);
			return n;
		}
		n = gmem__kvm_ioctl(k->vm_fd, KVM_CHECK_EXTENSION,
				    (void *)(unsigned long)KVM_CAP_NR_MEMSLOTS);
	} else {
		n = 0;
	}
	k->nr_slots = n > 0 ? (uint32_t)n : 32;
	if (k->nr_slots > 32764)
		k->nr_slots = 32764;
	k->slot_used = calloc(k->nr_slots, 1);
	if (!k->slot_used) {
		if (k->vm_fd >= 0)
			close(k->vm_fd);
		free(k);
		return -ENOMEM;
	}
	pthread_mutex_init(&k->slot_lock, NULL);
	vm->backend_priv = k;
	return 0;
}

int gmem__compat_vm_create(struct gmem_vm **vmp, const char *platform,
			   const char *policy, int app_vm_fd)
{
	struct gmem_vm *vm;
	int ret;

	if (!vmp)
		return -EFAULT;
	*vmp = NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->plat = gmem__platform_find(platform ? platform : "default");
	vm->policy = gmem__policy_find(policy);
	if (!vm->plat || !vm->policy) {
		free(vm);
		return -EINVAL;
	}
	vm->backend = &gmem__backend_kvm;
	vm->scramble_state = compat_seed();
	pthread_mutex_init(&vm->lock, NULL);
	ret = compat_kvm_state(vm, app_vm_fd);
	if (ret)
		goto err;
	if (vm->plat->vm_init && (ret = vm->plat->vm_init(vm))) {
		gmem__kvm_vm_close(vm);
		goto err;
	}
	*vmp = vm;
	return 0;
err:
	pthread_mutex_destroy(&vm->lock);
	free(vm);
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
