/* SPDX-License-Identifier: MIT */
/* VMs: a platform, a content-mode policy, a phase and the gmem files. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "policy.h"

static const char *const platform_names[] = {
	"default", "sw_protected", "snp", "tdx", "pkvm", NULL,
};
static const char *const policy_names[] = { "seed", "rfc-v5", "upstream", NULL };

const char *const *gmem_platform_names(void) { return platform_names; }
const char *const *gmem_policy_names(void) { return policy_names; }

/* GMEM_SCRAMBLE_SEED=n makes sw_protected scrambling reproducible. */
static uint64_t scramble_seed(void)
{
	const char *env = getenv("GMEM_SCRAMBLE_SEED");
	uint64_t seed = 0;

	if (env && *env)
		seed = strtoull(env, NULL, 0);
	else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	return seed ? seed : 0x9E3779B97F4A7C15ULL;
}

int gmem__vm_alloc(struct gmem_vm **vmp, const char *platform,
		   const char *policy)
{
	struct gmem_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return -ENOMEM;
	vm->plat = gmem__platform_find(platform ? platform : "default");
	vm->policy = gmem__policy_find(policy);
	if (!vm->plat || !vm->policy) {
		free(vm);
		return -EINVAL;
	}
	vm->scramble_state = scramble_seed();
	pthread_mutex_init(&vm->lock, NULL);
	*vmp = vm;
	return 0;
}

void gmem__vm_free(struct gmem_vm *vm)
{
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

int gmem_vm_create(struct gmem_vm **vmp, const char *platform,
		   const char *policy)
{
	const struct gmem_backend_ops *backend;
	struct gmem_vm *vm;
	int ret;

	if (!vmp)
		return -EFAULT;
	*vmp = NULL;
	ret = gmem__vm_alloc(&vm, platform, policy);
	if (ret)
		return ret;
	ret = gmem__backend_select(&backend);
	if (ret)
		goto err;
	/* A backend that cannot create this platform's VM (native without
	 * SEV-SNP or TDX hardware) hands over to the next usable one. */
	for (;;) {
		vm->backend = backend;
		ret = backend->vm_init ? backend->vm_init(vm) : 0;
		if (ret != -ENODEV || gmem__backend_next(&backend))
			break;
	}
	if (ret)
		goto err;
	if (vm->plat->vm_init && (ret = vm->plat->vm_init(vm))) {
		if (backend->vm_fini)
			backend->vm_fini(vm);
		goto err;
	}
	*vmp = vm;
	return 0;
err:
	gmem__vm_free(vm);
	return ret;
}

void gmem_vm_destroy(struct gmem_vm *vm)
{
	if (!vm)
		return;
	while (vm->gmems)
		gmem_destroy(vm->gmems);
	if (vm->plat->vm_fini)
		vm->plat->vm_fini(vm);
	if (vm->backend->vm_fini)
		vm->backend->vm_fini(vm);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

int gmem_vm_finalize(struct gmem_vm *vm)
{
	int ret = 0;

	if (!vm)
		return -EFAULT;
	pthread_mutex_lock(&vm->lock);
	if (vm->finalized)
		ret = -EINVAL;
	else if (vm->plat->finalize)
		ret = vm->plat->finalize(vm);
	/* Conversions read the phase without vm->lock (gmem__vm_modes). */
	if (!ret)
		__atomic_store_n(&vm->finalized, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

const char *gmem_vm_platform(const struct gmem_vm *vm) { return vm ? vm->plat->name : NULL; }
const char *gmem_vm_policy(const struct gmem_vm *vm) { return vm ? vm->policy->name : NULL; }
int gmem_vm_is_finalized(const struct gmem_vm *vm)
{
	return vm ? __atomic_load_n(&vm->finalized, __ATOMIC_ACQUIRE) : -EFAULT;
}

/* The GMEM_M_* modes the VM accepts now for a conversion to `attributes`. */
unsigned gmem__vm_modes(struct gmem_vm *vm, uint64_t attributes)
{
	int dir = (attributes & GMEM_ATTR_PRIVATE) ? GMEM_DIR_TO_PRIVATE
						   : GMEM_DIR_TO_SHARED;
	int phase = __atomic_load_n(&vm->finalized, __ATOMIC_ACQUIRE)
		    ? GMEM_PHASE_FINAL : GMEM_PHASE_PRE;

	return vm->policy->modes[vm->plat->id][dir][phase];
}

int gmem_vm_content_modes(struct gmem_vm *vm, uint64_t attributes,
			  uint64_t *modes)
{
	unsigned m;

	if (!vm || !modes)
		return -EFAULT;
	if (attributes & ~GMEM_ATTR_PRIVATE)
		return -EINVAL;
	if (vm->backend->content_modes &&
	    !vm->backend->content_modes(vm, attributes, modes))
		return 0;	/* the kernel answered */
	m = gmem__vm_modes(vm, attributes);
	*modes = ((m & GMEM_M_UNSPEC) ? GMEM_MODES_UNSPECIFIED : 0) |
		 ((m & GMEM_M_ZERO) ? GMEM_CONTENT_ZERO : 0) |
		 ((m & GMEM_M_PRESERVE) ? GMEM_CONTENT_PRESERVE : 0);
	return 0;
}
