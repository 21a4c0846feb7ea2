/* SPDX-License-Identifier: MIT */
/* Fixtures the benchmark groups share: a VM with one gmem on a chosen
 * backend, its host view, and the new owner's touch after a conversion. */
#ifndef BENCH_GFIX_H
#define BENCH_GFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem/gmem.h"

struct gfix {
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *view;
	uint64_t size;
};

/* A VM of `platform` on `backend` ("emulated", "kvm") with one gmem of
 * size bytes, all private (private) or shared, its host view mapped.
 * 0 or -errno (-ENODEV: backend unavailable). */
int  gfix_create(struct gfix *f, const char *backend, const char *platform,
		 uint64_t size, bool private);
void gfix_destroy(struct gfix *f);
/* gmem_convert() of [off, off+len); 0 or -errno. */
int  gfix_convert(struct gfix *f, uint64_t off, uint64_t len, bool to_private,
		  uint64_t mode);
/* The guest writes 8 bytes into every page of a private range, through the
 * library (the emulation's guest access path). */
int  gfix_guest_touch(struct gfix *f, uint64_t off, uint64_t len);
/* The guest fills a private range with a pattern (populates it). */
int  gfix_guest_fill(struct gfix *f, uint64_t off, uint64_t len);
/* Bring [off, off+len) to the given state, populated with data by its
 * owner or punched out (unpopulated).  0 or -errno. */
int  gfix_prepare(struct gfix *f, uint64_t off, uint64_t len, bool private,
		  bool populated);

#endif
