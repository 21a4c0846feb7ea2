/* SPDX-License-Identifier: MIT */
/*
 * The SEV-SNP CPUID page (SEV-SNP firmware ABI, "CPUID Reporting"; AMD
 * GHCB spec, "SEV-SNP CPUID Table"): what a VMM writes into the page it
 * hands to SNP_LAUNCH_UPDATE with GMEM_SNP_PAGE_CPUID.
 */
#ifndef GMEM_SNP_H
#define GMEM_SNP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GMEM_SNP_CPUID_COUNT_MAX 64

struct gmem_snp_cpuid_fn {
	uint32_t eax_in;
	uint32_t ecx_in;
	uint64_t xcr0_in;
	uint64_t xss_in;
	uint32_t eax;
	uint32_t ebx;
	uint32_t ecx;
	uint32_t edx;
	uint64_t reserved;
};

struct gmem_snp_cpuid_table {
	uint32_t count;
	uint32_t reserved1;
	uint64_t reserved2;
	struct gmem_snp_cpuid_fn fn[GMEM_SNP_CPUID_COUNT_MAX];
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct gmem_snp_cpuid_fn) == 48, "CPUID entry is 48 bytes");
_Static_assert(sizeof(struct gmem_snp_cpuid_table) == 16 + 64 * 48,
	       "CPUID table fits in a page");
#endif

/*
 * Check a CPUID table the way the modelled SEV-SNP firmware does, without a
 * VM: 0 if every entry is acceptable; -EIO if not, after writing the values
 * the firmware accepts into *table (what SNP_LAUNCH_UPDATE would leave in
 * the page), with *nchanged entries changed; -EINVAL if the count exceeds
 * GMEM_SNP_CPUID_COUNT_MAX (nothing is changed).
 */
int gmem_snp_cpuid_check(struct gmem_snp_cpuid_table *table,
			 unsigned *nchanged);

#ifdef __cplusplus
}
#endif
#endif
