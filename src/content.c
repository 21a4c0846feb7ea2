/* SPDX-License-Identifier: MIT */
/*
 * What content modes do to the bytes: zero, scramble, keep.  Only pages
 * backed by memory are written: a hole already reads zero, and writing it
 * would allocate memory the guest never used.
 *
 * The bytes are written through the mapping that holds the pages' page-table
 * entries (src/view.c moves them with the owner), so that zeroing runs at
 * memset speed instead of faulting every page in a second time: the host
 * view for pages being converted to shared (restored before the content
 * step), the library's own mapping otherwise.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "platform/platform.h"

#define RESIDENT_CHUNK 4096	/* pages per mincore() call */

/*
 * Where to write the bytes of [off, ...): the base address of a mapping of
 * the whole file.  Content modes run only inside a conversion's
 * side-effect step, on a run whose pages all change state, before the
 * attribute store is updated: a page still PRIVATE there is going to
 * shared, and its host view (if any) was restored already — unless the
 * view is still covered (a content mode that changes the bytes: see
 * gmem__view_restore_hidden()), when the library's mapping holds them.
 */
static uint8_t *content_map(struct gmem *g, uint64_t off)
{
	if (g->view && g->view != g->mem && !g->view_covered &&
	    (rs_lookup(g->attrs, off, NULL) & GMEM_ATTR_PRIVATE))
		return g->view;
	return g->mem;
}

/*
 * Call fn on each maximal run of pages in [off, off+len) that is backed by
 * memory (in the file's page cache).  mincore() on a MAP_SHARED mapping
 * answers from the page cache, so it sees pages written through any mapping
 * or by the vCPU, and never faults anything in; asked through the mapping
 * that holds the page-table entries it answers from them, about a hundred
 * times faster than through page-cache lookups.
 */
static uint64_t for_each_resident(struct gmem *g, uint64_t off, uint64_t len,
				  void (*fn)(struct gmem *, uint8_t *,
					     uint64_t, uint64_t))
{
	unsigned char vec[RESIDENT_CHUNK];
	uint64_t pages = 0, end = off + len, run = 0, run_len = 0;
	uint8_t *map = content_map(g, off);

	/* Runs are carried across chunks and handed over whole: a large
	 * memset() streams past the caches, a chunk-sized one does not. */
	while (off < end) {
		uint64_t n = (end - off) >> PAGE_SHIFT;

		if (n > RESIDENT_CHUNK)
			n = RESIDENT_CHUNK;
		if (mincore(map + off, n << PAGE_SHIFT, vec))
			memset(vec, 1, n);	/* cannot tell: treat as resident */
		for (uint64_t i = 0; i < n; i++) {
			uint64_t p = off + (i << PAGE_SHIFT);

			if (vec[i] & 1) {
				if (!run_len)
					run = p;
				run_len += PAGE_SIZE;
				continue;
			}
			if (run_len)
				fn(g, map, run, run_len);
			pages += run_len >> PAGE_SHIFT;
			run_len = 0;
		}
		off += n << PAGE_SHIFT;
	}
	if (run_len)
		fn(g, map, run, run_len);
	return pages + (run_len >> PAGE_SHIFT);
}

bool gmem__page_allocated(struct gmem *g, uint64_t off)
{
	unsigned char v = 0;

	if (mincore(g->mem + off, PAGE_SIZE, &v))
		return true;
	return v & 1;
}

static void zero_fn(struct gmem *g, uint8_t *map, uint64_t off, uint64_t len)
{
	memset(map + off, 0, len);
}

uint64_t gmem__clear_range(struct gmem *g, uint64_t off, uint64_t len)
{
	return for_each_resident(g, off, len, zero_fn);
}

uint64_t gmem__zero_range(struct gmem *g, uint64_t off, uint64_t len)
{
	uint64_t n = for_each_resident(g, off, len, zero_fn);

	g->stats.pages_zeroed += n;
	return n;
}

/* xorshift64*: fast, seedable (GMEM_SCRAMBLE_SEED) so a run can be replayed. */
static uint64_t prng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void scramble_fn(struct gmem *g, uint8_t *map, uint64_t off,
			uint64_t len)
{
	uint64_t *p = (uint64_t *)(map + off);

	for (uint64_t i = 0; i < len / 8; i++)
		p[i] = prng_next(&g->vm->scramble_state);
}

void gmem__scramble_range(struct gmem *g, uint64_t off, uint64_t len)
{
	g->stats.pages_scrambled += for_each_resident(g, off, len, scramble_fn);
}

/* The content mode on a run whose state changes, for platforms with no
 * vendor side effect on the bytes. */
void gmem__content_apply(struct gmem *g, uint64_t off, uint64_t len,
			 uint64_t mode, bool scramble_unspecified)
{
	if (mode == GMEM_CONTENT_ZERO)
		gmem__zero_range(g, off, len);
	else if (mode == GMEM_CONTENT_UNSPECIFIED && scramble_unspecified)
		gmem__scramble_range(g, off, len);
}

void gmem__phys_read(struct gmem *g, uint64_t off, void *buf, uint64_t len)
{
	/* pread() does not allocate holes in a memfd.  guest_memfd refuses
	 * read(2): there the mapping is the only way, and holes are skipped
	 * (they read zero) so that reading never allocates memory. */
	ssize_t n = pread(g->fd, buf, len, (off_t)off);
	uint8_t *out = buf;

	if (n == (ssize_t)len)
		return;
	while (len) {
		uint64_t page = off & ~(PAGE_SIZE - 1);
		uint64_t chunk = page + PAGE_SIZE - off;

		if (chunk > len)
			chunk = len;
		if (gmem__page_allocated(g, page))
			memcpy(out, g->mem + off, chunk);
		else
			memset(out, 0, chunk);
		off += chunk;
		out += chunk;
		len -= chunk;
	}
}
