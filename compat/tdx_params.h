/* SPDX-License-Identifier: MIT */
/*
 * The TDX structs libgmem-compat decodes, checked as arch/x86/kvm/vmx/tdx.c
 * checks them, against the modelled TDX module (tdx_params.c).  Pure
 * functions of their input (no KVM, no shim state): the shim calls them
 * on the application's structs and fuzz/fuzz_tdx.c on arbitrary bytes.
 */
#ifndef GMEM_COMPAT_TDX_PARAMS_H
#define GMEM_COMPAT_TDX_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "gmem/uapi.h"

#define TDX_PARAMS_MAX_CPUID	256	/* KVM_MAX_CPUID_ENTRIES */
#define TDX_PARAMS_CONF_NR	6	/* configurable CPUID leaves */
#define TDX_PARAMS_SHARED_BIT	(1ULL << 47)	/* GPAW 48 */

/* What KVM_TDX_INIT_VM configured. */
struct tdx_td_config {
	uint64_t attributes, xfam;	/* xfam with the fixed-1 bits */
	uint32_t nent;
	struct kvm_cpuid_entry2 cpuid[TDX_PARAMS_CONF_NR];
};

/* KVM_TDX_CAPABILITIES into caps, whose cpuid.nent says how many entries
 * it holds: 0, or -E2BIG when too few (nothing written). */
int tdx_params_capabilities(struct kvm_tdx_capabilities *caps);

/* The number of bytes of a struct kvm_tdx_init_vm with nent entries. */
size_t tdx_params_init_vm_size(uint32_t nent);

/*
 * KVM_TDX_INIT_VM's struct, len bytes of it readable: -EFAULT when len is
 * short of the header or of the entries its nent announces, -E2BIG for
 * more than 256 entries, -EINVAL for reserved words, the padding, an
 * attribute or XFAM bit the module does not offer, no GPAW (CPUID
 * 0x80000008) or one other than 48, an entry that is not configurable or
 * sets TSX or WAITPKG; 0 with *out filled.  *out is written only on 0.
 */
int tdx_params_init_vm(const void *buf, size_t len, struct tdx_td_config *out);

/* KVM_TDX_INIT_MEM_REGION's range: 0, or -EINVAL (unaligned, empty,
 * wrapping, or reaching the shared half of the GPA space). */
int tdx_params_mem_region(const struct kvm_tdx_init_mem_region *r);

/* The CPUID the module gives the TD (leaves 0 and 0x80000000 added, in
 * order): the number of entries written to out[TDX_PARAMS_CONF_NR + 2]. */
uint32_t tdx_params_td_cpuid(const struct tdx_td_config *c,
			     struct kvm_cpuid_entry2 *out);

#endif
