/* SPDX-License-Identifier: MIT */
/*
 * rangeset: the attribute store.  A map from page-aligned byte offsets
 * [0, size) to a 12-bit attribute (0..4095), kept as maximal runs: two
 * adjacent runs never carry the same attribute.
 *
 * Each run is one 64-bit key, start | attr (starts are multiples of 4096,
 * so the low 12 bits are free).  The keys live in a B+tree whose leaves
 * hold only keys (63 per 512-byte node) and whose inner nodes hold, per
 * child, the exact start of the child's first run plus the child pointer.
 * Nodes come from per-set slabs of 64-byte-aligned 512-byte nodes, so a
 * lookup touches one node per level, each prefetched in full.
 *
 * Costs: lookup O(log n); rs_set O(log n) plus O(k) for the k runs it
 * removes (each removed run was inserted once); about 11 bytes per run
 * when the tree is built in address order (leaves three quarters full),
 * about 13 for random order,
 * plus up to one 2 MiB huge-page slab not carved yet (past 1 MiB of
 * nodes, slabs are huge pages: see grow()).
 *
 * rs_set is all-or-nothing: every node a change can need is reserved
 * before anything is modified, so -ENOMEM leaves the contents unchanged.
 *
 * Thread-compatible: no global state.  Read-only calls take a const
 * pointer and write nothing, so concurrent readers are safe as long as
 * the caller serializes them against writers.
 */
#ifndef GMEM_RANGESET_H
#define GMEM_RANGESET_H

#include <stdint.h>
#include <stddef.h>

#define RS_PAGE_SIZE	4096u
#define RS_ATTR_MAX	4095u
#define RS_SIZE_MAX	(1ULL << 63)

struct rangeset;

/*
 * Create a set covering [0, size), all of it carrying attr.  size must be
 * a non-zero multiple of 4096, at most RS_SIZE_MAX, and attr <= RS_ATTR_MAX.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int rs_create(struct rangeset **rs, uint64_t size, unsigned attr);
void rs_destroy(struct rangeset *rs);

/*
 * Attribute of the page holding off (off < size), and in *run_end (if not
 * NULL) the exclusive end of the maximal run containing it.  An off at or
 * beyond size is treated as the last page.
 */
unsigned rs_lookup(const struct rangeset *rs, uint64_t off, uint64_t *run_end);

/*
 * Set [start, end) to attr, merging with equal neighbours.  start < end,
 * both multiples of 4096, end <= size, attr <= RS_ATTR_MAX.
 * Returns 0, -EINVAL, or -ENOMEM with the set left exactly as it was.
 */
int rs_set(struct rangeset *rs, uint64_t start, uint64_t end, unsigned attr);

/*
 * 1 if every page in [start, end) carries attr (also for an empty range),
 * else 0 with *first_diff (if not NULL) = first offset whose attribute
 * differs.  end is clipped to size.
 */
int rs_all_equal(const struct rangeset *rs, uint64_t start, uint64_t end,
		 unsigned attr, uint64_t *first_diff);

/*
 * Reserve the nodes the next nsets calls of rs_set() can need, so that
 * they cannot fail with -ENOMEM: lets a caller update several sets (or one
 * set several times) all-or-nothing.  Returns 0 or -ENOMEM.
 */
int rs_reserve(struct rangeset *rs, unsigned nsets);

size_t rs_runs(const struct rangeset *rs);	/* number of runs */
size_t rs_bytes(const struct rangeset *rs);	/* heap bytes held */
uint64_t rs_size(const struct rangeset *rs);

/*
 * Call fn(s, e, attr, arg) for each run overlapping [start, end), clipped
 * to it, in address order.  Stops at the first non-zero return of fn and
 * returns that value; returns 0 otherwise.  end is clipped to size.
 */
int rs_for_each(const struct rangeset *rs, uint64_t start, uint64_t end,
		int (*fn)(uint64_t s, uint64_t e, unsigned attr, void *arg),
		void *arg);

/*
 * Fault injection for tests.  n >= 0: the next n node allocations succeed
 * and every one after that fails (rs_set then returns -ENOMEM) until this
 * is called again; n < 0: never fail.  Every node an update reserves
 * counts as one allocation, whether it is newly carved or recycled from
 * the set's pool of free nodes.
 */
void rs_fail_alloc_after(struct rangeset *rs, long n);

/* Height of the tree (1: the root is a leaf). */
unsigned rs_height(const struct rangeset *rs);

/*
 * Check every structural invariant (ordering, exact separators, node
 * fill, maximal runs, run count, node accounting).  Returns 0 if sound,
 * else a negative number identifying the first violation found.
 */
int rs_check(const struct rangeset *rs);

#endif
