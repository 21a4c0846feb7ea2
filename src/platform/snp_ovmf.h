/* SPDX-License-Identifier: MIT */
/*
 * An OVMF image as a VMM launches it as an SEV-SNP guest, and the launch
 * digest that launch yields.
 *
 * The image is loaded so that it ends at 4 GiB.  Its last 32 bytes are the
 * reset vector; before them OVMF keeps a GUID table (OvmfPkg ResetVector,
 * "OVMF GUIDed structure table"), walked backwards from the footer: each
 * entry is its data, then a u16 length (data + 18) and its GUID.  The
 * entries used here:
 *   SEV metadata   u32 offset, from the image end, of the "ASEV" header:
 *                  signature, u32 length, u32 version (1), u32 count, then
 *                  count sections of u32 gpa, u32 size, u32 type;
 *   SEV-ES reset   u32 EIP at which the application processors start;
 *   SEV hash table u32 gpa, u32 size of the kernel hashes table;
 *   TDX metadata   u32 offset, from the image end, of the TDVF descriptor
 *                  (parsed by tdx_tdvf.c).
 *
 * Internal to libgmem.  Functions return 0 or -errno and, on error, point
 * *why (when not NULL) at a static one-line reason.
 */
#ifndef GMEM_SNP_OVMF_H
#define GMEM_SNP_OVMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/snp_vmsa.h"

/* SEV metadata section types (OvmfPkg/ResetVector, QEMU's
 * SevMetadataDesc types). */
#define GMEM__OVMF_SEC_MEM		1	/* measured as ZERO pages */
#define GMEM__OVMF_SEC_SECRETS		2	/* SECRETS page */
#define GMEM__OVMF_SEC_CPUID		3	/* CPUID page */
#define GMEM__OVMF_SEC_SVSM_CAA		4	/* ZERO pages */
#define GMEM__OVMF_SEC_KERNEL_HASHES	0x10	/* NORMAL (hashes) or ZERO */

#define GMEM__OVMF_MAX_SECTIONS	64
#define GMEM__OVMF_MAX_SIZE	(64ULL << 20)

struct gmem__ovmf_section {
	uint32_t gpa, size, type;
};

struct gmem__ovmf {
	const uint8_t *data;		/* the image, not copied */
	size_t size;
	uint64_t gpa;			/* where it is loaded: 4 GiB - size */
	bool has_table;			/* a GUID table footer is present */
	bool has_reset_block;
	uint32_t reset_eip;		/* SEV-ES reset block: the APs' EIP */
	bool has_hash_table;
	uint32_t hash_table_gpa, hash_table_size;
	bool has_metadata;
	uint32_t metadata_offset;	/* of the "ASEV" header, from the end */
	bool has_tdx_metadata;		/* TDVF: see tdx_tdvf.h */
	uint32_t tdx_metadata_offset;	/* of the "TDVF" descriptor, from the end */
	unsigned nsections;
	struct gmem__ovmf_section sec[GMEM__OVMF_MAX_SECTIONS];
};

/*
 * Parse and check an image: size a non-zero multiple of 4 KiB up to
 * GMEM__OVMF_MAX_SIZE; the GUID table's length and every entry's length
 * within the table; the known entries long enough and not repeated; the
 * metadata header inside the image with signature "ASEV", version 1 and
 * its sections inside it; each section non-empty, 4 KiB-aligned, below
 * 4 GiB, of a known type, SECRETS and CPUID one page, overlapping neither
 * another section nor the image.  An image without the footer GUID parses
 * with has_table false.  -EINVAL (why set) on a bad image.
 */
int gmem__ovmf_parse(const void *data, size_t size, struct gmem__ovmf *o,
		     const char **why);

/* The kernel hashes table QEMU writes for a measured direct boot
 * (-kernel/-initrd/-append with kernel-hashes=on): SHA-256 of the
 * command line with its NUL, of the initrd (empty if none) and of the
 * kernel, as GUID-tagged entries; placed at `offset` in a zeroed page. */
#define GMEM__SEV_HASHES_TABLE_LEN 168
int gmem__sev_hashes_page(const uint8_t cmdline_sha256[32],
			  const uint8_t initrd_sha256[32],
			  const uint8_t kernel_sha256[32], unsigned offset,
			  uint8_t page[4096]);

/* One run of pages as it enters the digest (for reports). */
struct gmem__snp_measure_step {
	unsigned page_type;		/* GMEM_SNP_PAGE_* */
	uint64_t gpa;
	uint64_t npages;
	unsigned vcpu;			/* VMSA pages: which vCPU */
	const uint8_t *vmsa;		/* VMSA pages: the page, else NULL */
	uint8_t digest[48];		/* the digest after this run */
};

struct gmem__snp_measure_in {
	const struct gmem__ovmf *ovmf;
	unsigned vcpus;
	uint32_t vcpu_sig;
	enum gmem__snp_vmm vmm;
	uint64_t guest_features;	/* VMSA SEV_FEATURES, 0x1 = SNP active */
	const uint8_t *ovmf_hash;	/* 48 bytes: the digest after the
					 * image's pages, used instead of
					 * hashing them; or NULL */
	bool kernel;			/* measured direct boot: the hashes */
	uint8_t cmdline_sha256[32];	/* of -append's text and its NUL */
	uint8_t initrd_sha256[32];	/* of -initrd's file (or of nothing) */
	uint8_t kernel_sha256[32];	/* of -kernel's file */
	/* Called after each run of pages, when not NULL. */
	void (*step)(void *arg, const struct gmem__snp_measure_step *st);
	void *arg;
};

/*
 * The launch digest of an SEV-SNP guest booting `ovmf` as a VMM launches
 * it: the image's pages (NORMAL, at their GPAs), each metadata section in
 * table order (SEC_MEM and SVSM_CAA as ZERO pages, SECRETS, CPUID, the
 * kernel hashes section as the NORMAL page of gmem__sev_hashes_page() at
 * the hash table entry's offset, or ZERO pages without a kernel), then the VMSA of each vCPU from
 * gmem__snp_vcpu_reset() and gmem__snp_vmsa_build().  EC2 measures the
 * CPUID page after all other sections.  Chained with the firmware's
 * PAGE_INFO (gmem__snp_measure_page()).
 * -ENOENT: no SEV metadata; -EINVAL: vcpus 0 or above 4096, several vCPUs
 * and no SEV-ES reset block, a kernel and no kernel hashes section (or one
 * that is not a single page holding the hash table entry's table).
 */
int gmem__snp_measure(const struct gmem__snp_measure_in *in, uint8_t digest[48],
		      const char **why);

/* The digest after the image's own pages alone (sev-snp-measure's
 * snp:ovmf-hash mode). */
int gmem__snp_measure_ovmf_hash(const struct gmem__ovmf *ovmf, uint8_t digest[48]);

#endif
