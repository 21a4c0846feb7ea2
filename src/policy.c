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
 *   upstream: content modes removed (v6 onwards): any flag is -EINVAL; the
 *             series kernel (v8) also accepts a non-zero error_offset on
 *             input and never scrambles sw_protected pages (docs/semantics.md,
 *             "What the series kernel confirmed or corrected").
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
	.content_flags = true,
	.scramble = true,
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
	.content_flags = true,
	.scramble = true,
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
	.content_flags = false,
	.error_offset_in = true,
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
