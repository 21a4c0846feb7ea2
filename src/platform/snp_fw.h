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

/* Entry points for libgmem-compat's SEV-SNP launch (src/platform/snp.c). */
struct gmem;
struct gmem_vm;
int gmem__snp_launch_update_gpa(struct gmem *g, uint64_t offset, uint64_t len,
				uint64_t gpa, unsigned page_type,
				unsigned *fw_error);
int gmem__snp_set_cpuid_check(struct gmem_vm *vm,
			      int (*check)(void *opaque,
					   struct gmem_snp_cpuid_table *t,
					   unsigned *nchanged),
			      void *opaque);
int gmem__snp_launch_vmsa(struct gmem_vm *vm, const void *vmsa);

#endif
