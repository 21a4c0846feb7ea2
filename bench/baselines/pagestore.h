/* SPDX-License-Identifier: MIT */
/*
 * What a naive VMM keeps for per-page attributes: a flat bitmap (one bit
 * per 4 KiB page, like QEMU's RAMBlock bitmaps) or a flat array (one byte
 * per page, like KVM's old per-page attribute xarray values without the
 * tree).  Both cost memory in proportion to the guest's size, not to how
 * fragmented its attributes are.
 */
#ifndef BENCH_PAGESTORE_H
#define BENCH_PAGESTORE_H

#include <stdint.h>

struct page_bitmap {
	uint64_t pages;
	uint64_t *words;
};

struct page_array {
	uint64_t pages;
	uint8_t *attr;
};

int  pb_create(struct page_bitmap *b, uint64_t size);
void pb_destroy(struct page_bitmap *b);
void pb_set(struct page_bitmap *b, uint64_t start, uint64_t end, unsigned v);
unsigned pb_lookup(const struct page_bitmap *b, uint64_t off);
uint64_t pb_bytes(const struct page_bitmap *b);

int  pa_create(struct page_array *a, uint64_t size);
void pa_destroy(struct page_array *a);
void pa_set(struct page_array *a, uint64_t start, uint64_t end, unsigned v);
unsigned pa_lookup(const struct page_array *a, uint64_t off);
uint64_t pa_bytes(const struct page_array *a);

#endif
