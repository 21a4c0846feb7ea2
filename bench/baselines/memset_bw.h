/* SPDX-License-Identifier: MIT */
/*
 * The physical limit for ZERO: a plain memset() over populated memory of the
 * same kind as a gmem's (a shared memfd mapping whose page tables are
 * already filled), so that neither faults nor allocation are counted.
 */
#ifndef BENCH_MEMSET_BW_H
#define BENCH_MEMSET_BW_H

#include <stdint.h>

struct memset_buf {
	int fd;
	uint64_t size;
	uint8_t *p;
};

/* A populated shared memfd mapping of size bytes.  0 or -errno. */
int  ms_create(struct memset_buf *m, uint64_t size);
void ms_destroy(struct memset_buf *m);
/* Free the pages and fault fresh ones in, written with a pattern, as a
 * guest's memory would be before a conversion.  0 or -errno. */
int  ms_repopulate(struct memset_buf *m);
/* memset(0) of the whole buffer; returns the time taken in microseconds. */
double ms_zero(struct memset_buf *m);

#endif
