/* SPDX-License-Identifier: MIT */
/*
 * The two-backing way: what QEMU and cloud-hypervisor do where the kernel
 * has no in-place conversion.  Guest memory has a shared side (a memfd the
 * VMM maps) and a private side (the guest_memfd; here a second memfd, so
 * that the baseline runs anywhere and pays the same page-cache costs).  A
 * 1-bit-per-4 KiB bitmap says which side holds each page.  Converting
 * discards the source side with fallocate(PUNCH_HOLE) (QEMU's
 * ram_block_discard_range()), flips the bits, and the next access faults
 * fresh zeroed pages in on the other side.  When the content must be kept
 * (PRESERVE), the VMM copies it across before discarding.
 */
#ifndef BENCH_TWO_BACKING_H
#define BENCH_TWO_BACKING_H

#include <stdbool.h>
#include <stdint.h>

struct two_backing {
	uint64_t size;
	int shared_fd, private_fd;
	uint8_t *shared;	/* the VMM's mapping of the shared side */
	uint8_t *priv;		/* what the guest's private accesses reach */
	uint64_t *bitmap;	/* 1 = private, one bit per 4 KiB page */
};

/* All pages start on the side given by `private`.  0 or -errno. */
int  tb_create(struct two_backing *tb, uint64_t size, bool private);
void tb_destroy(struct two_backing *tb);
/* Discard both sides of [off, off+len) and put its pages on one side. */
int  tb_reset(struct two_backing *tb, uint64_t off, uint64_t len,
	      bool private);
/* Convert [off, off+len): copy when preserve, discard the source side,
 * flip the bitmap.  0 or -errno. */
int  tb_convert(struct two_backing *tb, uint64_t off, uint64_t len,
		bool to_private, bool preserve);
bool tb_is_private(const struct two_backing *tb, uint64_t off);

#endif
