/* SPDX-License-Identifier: MIT */
/*
 * A TDVF image (OVMF built for TDX) as a VMM launches it as a TD, and the
 * MRTD that launch yields.
 *
 * The OVMF GUID table (snp_ovmf.h) holds the offset, from the image end, of
 * the TDVF descriptor (TDVF design guide, "TDVF Metadata"): "TDVF", u32
 * length (16 + 32 x count), u32 version (1), u32 count (at least 2), then
 * count sections of u32 DataOffset, u32 RawDataSize, u64 MemoryAddress,
 * u64 MemoryDataSize, u32 Type, u32 Attributes.  Types: BFV (0) and CFV (1)
 * are copied from the image, TD_HOB (2) and TEMP_MEM (3) are memory the VMM
 * provides; attribute bit 0 (MR_EXTEND) asks for the contents to be
 * measured.
 *
 * Internal to libgmem.  Functions return 0 or -errno and, on error, point
 * *why (when not NULL) at a static one-line reason.
 */
#ifndef GMEM_TDX_TDVF_H
#define GMEM_TDX_TDVF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM__TDVF_BFV		0
#define GMEM__TDVF_CFV		1
#define GMEM__TDVF_TD_HOB	2
#define GMEM__TDVF_TEMP_MEM	3
#define GMEM__TDVF_MR_EXTEND	(1U << 0)
#define GMEM__TDVF_MAX_SECTIONS	64

struct gmem__tdvf_section {
	uint32_t data_offset, data_len;
	uint64_t address, size;
	uint32_t type, attributes;
};

struct gmem__tdvf {
	const uint8_t *data;		/* the image, not copied */
	size_t size;
	unsigned nsections;
	struct gmem__tdvf_section sec[GMEM__TDVF_MAX_SECTIONS];
};

/*
 * Parse and check an image's TDVF metadata with QEMU's rules (hw/i386/
 * tdvf.c: signature, version 1, at least two sections, the length that
 * holds exactly them, RawDataSize <= MemoryDataSize, 4 KiB-aligned
 * address and size, BFV/CFV with data and TD_HOB/TEMP_MEM without, no other
 * type) and these: the descriptor and the MemoryDataSize bytes QEMU copies
 * from DataOffset inside the image, sections non-empty, below 2^52, not
 * overlapping, and no MR_EXTEND on TD_HOB (its contents are the VMM's).
 * -ENOENT: no TDX metadata entry; -EINVAL (why set): a bad image.
 */
int gmem__tdvf_parse(const void *data, size_t size, struct gmem__tdvf *t,
		     const char **why);

/* One section as it enters MRTD (for reports). */
struct gmem__tdx_measure_step {
	const struct gmem__tdvf_section *sec;
	uint64_t pages;
	bool extended;			/* TDH.MR.EXTEND of every page */
	uint8_t mrtd[48];		/* the digest so far */
};

/*
 * MRTD of the TD that boots `t` as QEMU launches it (target/i386/kvm/tdx.c,
 * tdx_finalize_vm()): each section in table order through
 * KVM_TDX_INIT_MEM_REGION, which for every page issues TDH.MEM.PAGE.ADD
 * and, with MR_EXTEND, TDH.MR.EXTEND of its 16 chunks (BFV/CFV: the image
 * bytes from DataOffset; TEMP_MEM: zeros); then TDH.MR.FINALIZE.  Chained
 * with the modelled TDX module's blocks (tdx_mr.c).  step, when not NULL,
 * is called after each section.
 */
int gmem__tdx_measure(const struct gmem__tdvf *t, uint8_t mrtd[48],
		      void (*step)(void *arg, const struct gmem__tdx_measure_step *st),
		      void *arg);

#endif
