/* SPDX-License-Identifier: MIT */
/* The modelled SEV-SNP firmware: CPUID page policy and the launch digest. */
#ifndef GMEM_SNP_FW_H
#define GMEM_SNP_FW_H

#include <stdint.h>

#include "gmem/snp.h"

/* See gmem_snp_cpuid_check() in <gmem/snp.h>. */
int gmem__snp_cpuid_check(struct gmem_snp_cpuid_table *t, unsigned *nchanged);

/* digest = SHA-384(PAGE_INFO(digest, page, type, gpa)), SEV-SNP firmware
 * ABI, SNP_LAUNCH_UPDATE.  The contents hash is SHA-384 of the page for
 * NORMAL and VMSA, zeros for the other types (page may then be NULL). */
int gmem__snp_measure_page(uint8_t digest[48], const void *page,
			   unsigned type, uint64_t gpa);

#endif
