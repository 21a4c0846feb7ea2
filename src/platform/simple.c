/* SPDX-License-Identifier: MIT */
/*
 * Platforms without memory encryption: default VMs, the software-protected
 * test VM type, and pKVM.  The bytes stay in place; only the content mode
 * acts on them.  sw_protected deliberately scrambles on UNSPECIFIED, so that
 * nobody relies on what "no guarantee" happens to leave (KVM_X86_SW_PROTECTED_VM
 * in RFC v5 does the same; from v6 on KVM leaves the bytes alone, and so
 * does the `upstream` policy).  pKVM share/unshare (pkvm_host_share_guest /
 * unshare hypercalls) changes stage-2 ownership, never contents.
 */
#include "internal.h"
#include "platform/platform.h"
#include "policy.h"

static void plain_convert(struct gmem *g, uint64_t off, uint64_t len,
			  uint64_t mode)
{
	gmem__content_apply(g, off, len, mode, false);
}

static void scramble_convert(struct gmem *g, uint64_t off, uint64_t len,
			     uint64_t mode)
{
	gmem__content_apply(g, off, len, mode, g->vm->policy->scramble);
}

const struct gmem_platform gmem__plat_default = {
	.name = "default",
	.id = GMEM_PLAT_DEFAULT,
	.kvm_vm_type = 0,		/* KVM_X86_DEFAULT_VM */
	.to_shared = plain_convert,
	.to_private = plain_convert,
};

const struct gmem_platform gmem__plat_sw_protected = {
	.name = "sw_protected",
	.id = GMEM_PLAT_SW_PROTECTED,
	.kvm_vm_type = 1,		/* KVM_X86_SW_PROTECTED_VM */
	.to_shared = scramble_convert,
	.to_private = scramble_convert,
};

const struct gmem_platform gmem__plat_pkvm = {
	.name = "pkvm",
	.id = GMEM_PLAT_PKVM,
	.kvm_vm_type = 0,		/* arm64 protected VMs; modelled, not created */
	.to_shared = plain_convert,
	.to_private = plain_convert,
};
