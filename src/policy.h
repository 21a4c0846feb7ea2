/* SPDX-License-Identifier: MIT */
/*
 * Content-mode policies: which content modes each platform supports for
 * each direction and phase.  One const table per policy (src/policy.c).
 */
#ifndef GMEM_POLICY_H
#define GMEM_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "platform/platform.h"

/* Mode bits of a table cell. */
#define GMEM_M_UNSPEC   (1U << 0)
#define GMEM_M_ZERO     (1U << 1)
#define GMEM_M_PRESERVE (1U << 2)

enum { GMEM_PHASE_PRE, GMEM_PHASE_FINAL, GMEM_PHASE_NR };
enum { GMEM_DIR_TO_SHARED, GMEM_DIR_TO_PRIVATE, GMEM_DIR_NR };

/* What a capability number answers under a policy (libgmem-compat). */
enum gmem_cap_answer {
	GMEM_CAP_ATTRIBUTES = 1,	/* KVM_MEMORY_ATTRIBUTE_PRIVATE */
	GMEM_CAP_CONTENT_MODES,		/* the content flags of the table */
	GMEM_CAP_ZERO,			/* 0: not in this revision's kernel */
};

struct gmem_policy_cap {
	long cap;			/* KVM_CAP_* number of that revision */
	const char *name;		/* its name in that revision */
	enum gmem_cap_answer answer;
};

struct gmem_policy {
	const char *name;
	const char *revision;		/* the series' revision it follows */
	/* false: the content flags do not exist (any flag is -EINVAL) */
	bool content_flags;
	/* true: a non-zero error_offset on input is accepted and left as it
	 * was (v8: the field is output only); false: -EINVAL (RFC v5) */
	bool error_offset_in;
	/* true: sw_protected scrambles the pages an UNSPECIFIED conversion
	 * changes (RFC v5); false: KVM leaves the bytes alone (v8) */
	bool scramble;
	/* true: a launch update without a source page populates the
	 * guest_memfd page in place (v8: SNP uaddr 0, TDX source_addr 0) */
	bool inplace_launch;
	/* The series' capabilities under this revision's numbers, ending
	 * with cap 0; a number not listed is the kernel's. */
	struct gmem_policy_cap caps[4];
	uint8_t modes[GMEM_PLAT_NR][GMEM_DIR_NR][GMEM_PHASE_NR];
};

const struct gmem_policy *gmem__policy_find(const char *name);
extern const struct gmem_policy *const gmem__policies[];

/* GMEM_M_* bit of a flags value (GMEM_CONTENT_*). */
static inline unsigned gmem__mode_bit(uint64_t flags)
{
	return flags == 0 ? GMEM_M_UNSPEC :
	       flags == (1ULL << 0) ? GMEM_M_ZERO : GMEM_M_PRESERVE;
}

#endif
