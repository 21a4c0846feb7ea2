/* SPDX-License-Identifier: MIT */
/*
 * The content-mode support matrices (DESIGN.md §2), as data.
 *
 *   seed:     the scope agreed on the RFC v5 review thread
 *             (reference/guest_memfd-content-modes-mail.txt): PRESERVE
 *             everywhere except to-shared on TDX; ZERO everywhere except
 *             to-private on SNP (the host cannot write guest-visible zeros
 *             into encrypted memory).
 *   rfc-v5:   the series as posted: ZERO to-private refused everywhere;
 *             default and pKVM VMs take UNSPECIFIED only; SW_PROTECTED takes
 *             PRESERVE both ways and ZERO to-shared; SNP and TDX take ZERO
 *             to-shared and PRESERVE to-private before finalize only.
 *   upstream: the series as of v8 (2026-06-18): content modes removed
 *             (any flag is -EINVAL), error_offset output only, no scramble
 *             (KVM does not touch the bytes), in-place launch population,
 *             KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES = 250.
 *
 * Capability numbers: RFC v5 has KVM_CAP_MEMORY_ATTRIBUTES2 = 249 and
 * KVM_CAP_GUEST_MEMFD_CONTENT_MODES = 250; v8 has only
 * KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES = 250, and 249 is Linux 7.2's
 * KVM_CAP_S390_HPAGE_2G (the kernel answers it), and the VM attributes
 * (KVM_CAP_MEMORY_ATTRIBUTES, 233) answer 0: PRIVATE lives in the
 * guest_memfd.
 */
#include <string.h>
#include "policy.h"

#define U GMEM_M_UNSPEC
#define Z GMEM_M_ZERO
#define P GMEM_M_PRESERVE
/* { to-shared { pre, final }, to-private { pre, final } } */
#define CELL(sp, sf, pp, pf) { { (sp), (sf) }, { (pp), (pf) } }

static const struct gmem_policy policy_seed = {
	.name = "seed",
	.revision = "RFC v5 review (content-mode scope)",
	.content_flags = true,
	.scramble = true,
	.caps = {
		{ 249, "KVM_CAP_MEMORY_ATTRIBUTES2", GMEM_CAP_ATTRIBUTES },
		{ 250, "KVM_CAP_GUEST_MEMFD_CONTENT_MODES", GMEM_CAP_CONTENT_MODES },
	},
	.modes = {
		[GMEM_PLAT_DEFAULT]      = CELL(U|Z|P, U|Z|P, U|Z|P, U|Z|P),
		[GMEM_PLAT_SW_PROTECTED] = CELL(U|Z|P, U|Z|P, U|Z|P, U|Z|P),
		[GMEM_PLAT_SNP]          = CELL(U|Z|P, U|Z|P, U|P,   U|P),
		[GMEM_PLAT_TDX]          = CELL(U|Z,   U|Z,   U|Z|P, U|Z|P),
		[GMEM_PLAT_PKVM]         = CELL(U|Z|P, U|Z|P, U|Z|P, U|Z|P),
	},
};

static const struct gmem_policy policy_rfc_v5 = {
	.name = "rfc-v5",
	.revision = "RFC v5 (2026-04-28)",
	.content_flags = true,
	.scramble = true,
	.caps = {
		{ 249, "KVM_CAP_MEMORY_ATTRIBUTES2", GMEM_CAP_ATTRIBUTES },
		{ 250, "KVM_CAP_GUEST_MEMFD_CONTENT_MODES", GMEM_CAP_CONTENT_MODES },
	},
	.modes = {
		[GMEM_PLAT_DEFAULT]      = CELL(U,     U,     U,     U),
		[GMEM_PLAT_SW_PROTECTED] = CELL(U|Z|P, U|Z|P, U|P,   U|P),
		[GMEM_PLAT_SNP]          = CELL(U|Z,   U|Z,   U|P,   U),
		[GMEM_PLAT_TDX]          = CELL(U|Z,   U|Z,   U|P,   U),
		[GMEM_PLAT_PKVM]         = CELL(U,     U,     U,     U),
	},
};

static const struct gmem_policy policy_upstream = {
	.name = "upstream",
	.revision = "v8 (2026-06-18)",
	.content_flags = false,
	.error_offset_in = true,
	.inplace_launch = true,
	.caps = {
		{ 250, "KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES", GMEM_CAP_ATTRIBUTES },
		/* PRIVATE is tracked per guest_memfd: no VM attributes
		 * (CONFIG_KVM_VM_MEMORY_ATTRIBUTES off, the series' default) */
		{ 233, "KVM_CAP_MEMORY_ATTRIBUTES", GMEM_CAP_ZERO },
	},
	.modes = {
		[GMEM_PLAT_DEFAULT]      = CELL(U, U, U, U),
		[GMEM_PLAT_SW_PROTECTED] = CELL(U, U, U, U),
		[GMEM_PLAT_SNP]          = CELL(U, U, U, U),
		[GMEM_PLAT_TDX]          = CELL(U, U, U, U),
		[GMEM_PLAT_PKVM]         = CELL(U, U, U, U),
	},
};

const struct gmem_policy *const gmem__policies[] = {
	&policy_seed, &policy_rfc_v5, &policy_upstream, NULL,
};

const struct gmem_policy *gmem__policy_find(const char *name)
{
	if (!name)
		return &policy_seed;
	for (const struct gmem_policy *const *p = gmem__policies; *p; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return NULL;
}
