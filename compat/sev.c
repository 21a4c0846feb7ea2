/* SPDX-License-Identifier: MIT */
/*
 * KVM_MEMORY_ENCRYPT_OP on a KVM_X86_SNP_VM: the SEV-SNP launch commands,
 * served by libgmem's SNP model.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "gmem/uapi.h"

struct sev_vm {
	int state;
};

int compat_sev_vm_init(struct compat_vm *cvm)
{
	cvm->priv = calloc(1, sizeof(struct sev_vm));
	return cvm->priv ? 0 : -ENOMEM;
}

void compat_sev_vm_fini(struct compat_vm *cvm)
{
	free(cvm->priv);
	cvm->priv = NULL;
}

int compat_sev_encrypt_op(struct compat_vm *cvm, void *arg)
{
	struct kvm_sev_cmd cmd;

	if (!arg)
		return 0;	/* the kernel's answer to a NULL argument */
	memcpy(&cmd, arg, sizeof(cmd));
	return -EINVAL;
}
