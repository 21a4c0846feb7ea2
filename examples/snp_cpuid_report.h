/* SPDX-License-Identifier: MIT */
/*
 * Step 5 of the SEV-SNP CPUID flow, shared by examples/snp_cpuid.c (the
 * library's API) and examples/snp_uapi.c (raw KVM ioctls): after the
 * firmware rejected a CPUID page and corrected it, show what it changed,
 * as QEMU does, and decide whether the VMM can live with it.
 */
#ifndef GMEM_EXAMPLES_SNP_CPUID_REPORT_H
#define GMEM_EXAMPLES_SNP_CPUID_REPORT_H

#include <stdio.h>
#include <string.h>

#include "gmem/snp.h"	/* the page's layout (SEV-SNP firmware ABI) */

/* The number of entries the firmware changed, each printed; -1 if the VMM
 * cannot accept a change: here any change to the vendor string or the
 * family/model signature. */
static inline int report_changes(const struct gmem_snp_cpuid_table *mine,
				 const struct gmem_snp_cpuid_table *fw)
{
	int changed = 0;

	for (uint32_t i = 0; i < mine->count; i++) {
		const struct gmem_snp_cpuid_fn *a = &mine->fn[i], *b = &fw->fn[i];

		if (!memcmp(a, b, sizeof(*a)))
			continue;
		changed++;
		printf("   CPUID 0x%08x index %u: provided %08x %08x %08x %08x\n"
		       "                              firmware %08x %08x %08x %08x\n",
		       a->eax_in, a->ecx_in, a->eax, a->ebx, a->ecx, a->edx,
		       b->eax, b->ebx, b->ecx, b->edx);
		if (a->eax_in <= 0x1 && (a->eax != b->eax || a->ebx != b->ebx))
			return -1;
	}
	return changed;
}

#endif
