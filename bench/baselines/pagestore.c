/* SPDX-License-Identifier: MIT */
/* Per-page bitmap and per-page array attribute stores (see pagestore.h).
 * Allocated with mmap so that an untouched 1 TiB-guest table costs address
 * space only until it is written, as calloc() of that size would. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "baselines/pagestore.h"

#define PS_PAGE 4096ULL

static void *table_alloc(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int pb_create(struct page_bitmap *b, uint64_t size)
{
	b->pages = size / PS_PAGE;
	b->words = table_alloc(pb_bytes(b));
	return b->words ? 0 : -ENOMEM;
}

void pb_destroy(struct page_bitmap *b)
{
	if (b->words)
		munmap(b->words, pb_bytes(b));
	b->words = NULL;
}

uint64_t pb_bytes(const struct page_bitmap *b)
{
	return (b->pages + 63) / 64 * 8;
}

void pb_set(struct page_bitmap *b, uint64_t start, uint64_t end, unsigned v)
{
	for (uint64_t p = start / PS_PAGE; p < end / PS_PAGE; p++) {
		if (v)
			b->words[p / 64] |= 1ULL << (p % 64);
		else
			b->words[p / 64] &= ~(1ULL << (p % 64));
	}
}

unsigned pb_lookup(const struct page_bitmap *b, uint64_t off)
{
	uint64_t p = off / PS_PAGE;

	return (unsigned)(b->words[p / 64] >> (p % 64)) & 1;
}

int pa_create(struct page_array *a, uint64_t size)
{
	a->pages = size / PS_PAGE;
	a->attr = table_alloc(pa_bytes(a));
	return a->attr ? 0 : -ENOMEM;
}

void pa_destroy(struct page_array *a)
{
	if (a->attr)
		munmap(a->attr, pa_bytes(a));
	a->attr = NULL;
}

uint64_t pa_bytes(const struct page_array *a)
{
	return a->pages;
}

void pa_set(struct page_array *a, uint64_t start, uint64_t end, unsigned v)
{
	memset(a->attr + start / PS_PAGE, (int)v, (end - start) / PS_PAGE);
}

unsigned pa_lookup(const struct page_array *a, uint64_t off)
{
	return a->attr[off / PS_PAGE];
}
