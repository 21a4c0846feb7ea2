/* SPDX-License-Identifier: MIT */
/*
 * The modelled TDX module's build-time measurement, MRTD (TDX module base
 * spec, "TD Measurement"): SHA-384 over 128-byte blocks.
 *   TDH.MEM.PAGE.ADD: "MEM.PAGE.ADD" at byte 0, the GPA (u64 LE) at 16.
 *   TDH.MR.EXTEND:    per 256-byte chunk, "MR.EXTEND" and the chunk's GPA
 *                     in one block, then the 256 bytes (two blocks).
 *   TDH.MR.FINALIZE:  the digest is final; later calls fail.
 */
#ifndef GMEM_TDX_MR_H
#define GMEM_TDX_MR_H

#include <stdint.h>

struct gmem_tdx_mr;

int gmem__tdx_mr_init(struct gmem_tdx_mr **mr);
void gmem__tdx_mr_destroy(struct gmem_tdx_mr *mr);
int gmem__tdx_mr_page_add(struct gmem_tdx_mr *mr, uint64_t gpa);
/* Extend all 16 chunks of the 4 KiB page at gpa. */
int gmem__tdx_mr_extend(struct gmem_tdx_mr *mr, uint64_t gpa, const void *page);
/* Checkpoint the running digest (*cp), and later either roll back to it
 * (a failed multi-page add changes nothing) or drop it. */
int gmem__tdx_mr_checkpoint(struct gmem_tdx_mr *mr, void **cp);
void gmem__tdx_mr_rollback(struct gmem_tdx_mr *mr, void *cp);
void gmem__tdx_mr_drop(void *cp);
/* Finish MRTD into out; -EINVAL if already finalized. */
int gmem__tdx_mr_finalize(struct gmem_tdx_mr *mr, uint8_t out[48]);
/* The digest so far, as if finalized now, without finalizing. */
int gmem__tdx_mr_peek(struct gmem_tdx_mr *mr, uint8_t out[48]);

#endif
