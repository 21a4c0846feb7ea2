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

struct gmem_policy {
	const char *name;
	/* false: the content flags do not exist (any flag is -EINVAL) */
	bool content_flags;
	/* true: a non-zero error_offset on input is accepted and left as it
	 * was (v8: the field is output only); false: -EINVAL (RFC v5) */
	bool error_offset_in;
	/* true: sw_protected scrambles the pages an UNSPECIFIED conversion
	 * changes (RFC v5); false: KVM leaves the bytes alone (v8) */
	bool scramble;
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
