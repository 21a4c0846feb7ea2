/* SPDX-License-Identifier: MIT */
/*
 * libgmem: guest_memfd in-place memory conversion.
 *
 * One API over three backends (native KVM_SET_MEMORY_ATTRIBUTES2, a real
 * mmap-able guest_memfd, and a user-space emulation) that gives every
 * conversion the semantics of the kernel series "guest_memfd: In-place
 * conversion support": exact errors, error_offset, all-or-nothing, content
 * modes per platform and policy.  See libgmem(7) and docs/semantics.md.
 *
 * Every function returns 0 or a negative errno and never prints or exits.
 */
#ifndef GMEM_GMEM_H
#define GMEM_GMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GMEM_VERSION_MAJOR 0
#define GMEM_VERSION_MINOR 1

#define GMEM_PAGE_SIZE 4096ULL

struct gmem_vm;
struct gmem;

/* Attributes: the only one, same value as KVM_MEMORY_ATTRIBUTE_PRIVATE. */
#define GMEM_ATTR_PRIVATE (1ULL << 3)

/* Content modes, carried in gmem_attributes2.flags (RFC v5 uAPI values). */
#define GMEM_CONTENT_UNSPECIFIED 0ULL
#define GMEM_CONTENT_ZERO        (1ULL << 0)
#define GMEM_CONTENT_PRESERVE    (1ULL << 1)

/* gmem_create() flags: same values as GUEST_MEMFD_FLAG_MMAP / _INIT_SHARED. */
#define GMEM_FLAG_MMAP        (1ULL << 0)
#define GMEM_FLAG_INIT_SHARED (1ULL << 1)

/* gmem_guest_access() access bits. */
#define GMEM_ACCESS_READ    (1U << 0)
#define GMEM_ACCESS_WRITE   (1U << 1)
#define GMEM_ACCESS_PRIVATE (1U << 2)

/* Mirrors struct kvm_memory_attributes2 (128 bytes, same layout). */
struct gmem_attributes2 {
	uint64_t offset;
	uint64_t size;
	uint64_t attributes;
	uint64_t flags;
	uint64_t error_offset;	/* output: where the conversion stopped */
	uint64_t reserved[11];
};
_Static_assert(sizeof(struct gmem_attributes2) == 128,
	       "struct gmem_attributes2 must match kvm_memory_attributes2");

/* ---- VMs ---------------------------------------------------------------- */

/* platform: "default", "sw_protected", "snp", "tdx", "pkvm".
 * policy: "seed" (NULL), "rfc-v5", "upstream". */
int  gmem_vm_create(struct gmem_vm **vm, const char *platform,
		    const char *policy);
int  gmem_vm_finalize(struct gmem_vm *vm);
void gmem_vm_destroy(struct gmem_vm *vm);
const char *gmem_vm_platform(const struct gmem_vm *vm);
const char *gmem_vm_policy(const struct gmem_vm *vm);
int  gmem_vm_is_finalized(const struct gmem_vm *vm);
/* Bitmask of GMEM_CONTENT_* flags accepted for a conversion to `attributes`
 * in the VM's current phase.  UNSPECIFIED (0) has no bit: it is reported
 * through GMEM_MODES_UNSPECIFIED. */
#define GMEM_MODES_UNSPECIFIED (1ULL << 63)
int  gmem_vm_content_modes(struct gmem_vm *vm, uint64_t attributes,
			   uint64_t *modes);

/* Lists of the names accepted above, NULL-terminated. */
const char *const *gmem_platform_names(void);
const char *const *gmem_policy_names(void);

/* ---- gmem files --------------------------------------------------------- */

int  gmem_create(struct gmem_vm *vm, uint64_t size, uint64_t flags,
		 struct gmem **g);
void gmem_destroy(struct gmem *g);
uint64_t gmem_size(const struct gmem *g);
const char *gmem_backend_name(struct gmem *g);	/* "emulated", "kvm", "native" */
int  gmem_bind(struct gmem *g, uint64_t gpa);	/* guest physical base (default 0) */

int  gmem_set_memory_attributes(struct gmem *g, struct gmem_attributes2 *a);
int  gmem_get_memory_attributes(struct gmem *g, uint64_t offset,
				uint64_t *attributes, uint64_t *run_len);
/* Convenience wrapper around gmem_set_memory_attributes(). */
int  gmem_convert(struct gmem *g, uint64_t offset, uint64_t size,
		  uint64_t attributes, uint64_t flags, uint64_t *error_offset);

/* Host view of the whole file (NULL with errno set on failure: ENODEV
 * without GMEM_FLAG_MMAP).  Private pages raise SIGBUS when touched. */
void *gmem_mmap(struct gmem *g);
int  gmem_punch_hole(struct gmem *g, uint64_t offset, uint64_t len);
int  gmem_pin(struct gmem *g, uint64_t offset);
int  gmem_unpin(struct gmem *g, uint64_t offset);

/* ---- the guest ---------------------------------------------------------- */

/* What a guest access that did not match the page's attributes reports: the
 * analogue of KVM_EXIT_MEMORY_FAULT (kvm_run.memory_fault). */
#define GMEM_FAULT_WRITE          (1U << 0)	/* the access was a write */
#define GMEM_FAULT_PRIVATE        (1U << 1)	/* the guest wanted private (KVM_MEMORY_EXIT_FLAG_PRIVATE) */
#define GMEM_FAULT_NOT_VALIDATED  (1U << 2)	/* SNP: private in gmem but not validated in the RMP (#VC) */
#define GMEM_FAULT_NOT_ACCEPTED   (1U << 3)	/* TDX: private but not accepted (pending in the S-EPT) */
struct gmem_memory_fault {
	uint64_t offset;	/* first faulting page (file offset) */
	uint64_t gpa;		/* its guest physical address */
	uint64_t size;		/* bytes of the faulting page run */
	uint64_t flags;		/* GMEM_FAULT_* */
};

int  gmem_guest_access(struct gmem *g, uint64_t offset, void *buf,
		       uint64_t len, unsigned access);
int  gmem_guest_access_fault(struct gmem *g, uint64_t offset, void *buf,
			     uint64_t len, unsigned access,
			     struct gmem_memory_fault *fault);
/* The raw bytes in memory (ciphertext for encrypted private pages). */
int  gmem_physical_read(struct gmem *g, uint64_t offset, void *buf,
			uint64_t len);

/* ---- backends ---------------------------------------------------------- */

/* Backend names in probe order ("native", "kvm", "emulated"), NULL-terminated. */
const char *const *gmem_backend_names(void);
/* 0 when the named backend works on this host, else -errno (-ENODEV when it
 * is missing, -EINVAL for an unknown name); *why, if not NULL, gets a short
 * static explanation. */
int gmem_backend_probe(const char *name, const char **why);
/* The backend gmem_create() will use (GMEM_BACKEND honoured): 0 and *name,
 * or -ENODEV when GMEM_BACKEND names one that is unavailable. */
int gmem_backend_default(const char **name);

/* ---- statistics --------------------------------------------------------- */

struct gmem_stats {
	uint64_t conversions;		/* successful gmem_set_memory_attributes() */
	uint64_t pages_to_private;	/* pages whose state changed to private */
	uint64_t pages_to_shared;
	uint64_t pages_zeroed;		/* pages written with zeros by ZERO */
	uint64_t pages_zero_skipped;	/* TDX: ZERO skipped, S-EPT unmap zeroed them */
	uint64_t pages_scrambled;	/* sw_protected UNSPECIFIED */
	uint64_t views_revoked;		/* page runs taken away from host views */
	uint64_t views_restored;
	uint64_t ranges;		/* runs in the attribute store now */
	uint64_t ranges_bytes;		/* heap used by the attribute store */
	uint64_t views_moved;		/* runs whose view page-table entries
					 * moved with the owner (no refault) */
};
int gmem_get_stats(struct gmem *g, struct gmem_stats *st);

/* ---- vendor state (for tools and tests) --------------------------------- */

enum gmem_rmp_state {	/* SEV-SNP RMP entry of a page */
	GMEM_RMP_SHARED = 0,	/* hypervisor-owned */
	GMEM_RMP_ASSIGNED,	/* guest-owned, not validated */
	GMEM_RMP_VALIDATED,	/* guest-owned and validated */
};
enum gmem_sept_state {	/* TDX Secure-EPT entry of a page */
	GMEM_SEPT_UNMAPPED = 0,
	GMEM_SEPT_PENDING,	/* added by TDH.MEM.PAGE.AUG, not accepted */
	GMEM_SEPT_MAPPED,	/* mapped (added before finalize, or accepted) */
};
struct gmem_page_info {
	uint64_t attributes;	/* GMEM_ATTR_PRIVATE or 0 */
	int allocated;		/* backed by memory */
	int pinned;		/* pin count */
	int vendor_state;	/* enum gmem_rmp_state / gmem_sept_state, or 0 */
	int encrypted;		/* private and owned by the hardware (RMP assigned,
				 * S-EPT mapped): the guest sees it decrypted */
};
int gmem_page_info(struct gmem *g, uint64_t offset, struct gmem_page_info *pi);

/* ---- SEV-SNP ------------------------------------------------------------ */

/* SNP_LAUNCH_UPDATE page types (SEV-SNP firmware ABI). */
#define GMEM_SNP_PAGE_NORMAL     1
#define GMEM_SNP_PAGE_VMSA       2
#define GMEM_SNP_PAGE_ZERO       3
#define GMEM_SNP_PAGE_UNMEASURED 4
#define GMEM_SNP_PAGE_SECRETS    5
#define GMEM_SNP_PAGE_CPUID      6
#define GMEM_SEV_RET_INVALID_PARAM 0x16

int gmem_snp_launch_update(struct gmem *g, uint64_t offset, uint64_t len,
			   unsigned page_type, unsigned *fw_error);
int gmem_snp_launch_digest(struct gmem_vm *vm, uint8_t digest[48]);
/* The guest's PVALIDATE (validate != 0) or its reversal on a private range,
 * after the VM is finalized: RMP entries become validated (or assigned). */
int gmem_snp_pvalidate(struct gmem *g, uint64_t offset, uint64_t len,
		       int validate);

/* ---- TDX ---------------------------------------------------------------- */

/* TDH.MEM.PAGE.ADD (+ TDH.MR.EXTEND when measure) of a private range before
 * finalize. */
int gmem_tdx_page_add(struct gmem *g, uint64_t offset, uint64_t len,
		      int measure);
int gmem_tdx_mrtd(struct gmem_vm *vm, uint8_t mrtd[48]);

#ifdef __cplusplus
}
#endif
#endif /* GMEM_GMEM_H */
