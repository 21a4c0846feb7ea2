/* SPDX-License-Identifier: MIT */
/*
 * Tests for the attribute store (src/rangeset.c).
 *
 *   cc -O2 -Isrc tests/rangeset.c src/rangeset.c -o rangeset && ./rangeset
 *
 * GMEM_SEED=<n> replays the randomized parts with a given seed (the seed
 * in use is always printed as a TAP diagnostic).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rangeset.h"
#include "../tests/tap.h"

#define PG 4096ULL

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

/* ---- helpers ------------------------------------------------------------- */

struct collect {
	uint64_t s[16], e[16];
	unsigned a[16], n, stop_at;
};

static int collect_fn(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16) {
		c->s[c->n] = s;
		c->e[c->n] = e;
		c->a[c->n] = attr;
	}
	c->n++;
	return c->stop_at && c->n == c->stop_at ? 42 : 0;
}

/* Compare the whole set with a per-page reference; checks maximal runs. */
struct refcheck {
	const uint16_t *ref;
	uint64_t next;		/* expected start of the next run */
	int prev_attr;
	size_t runs;
	const char *why;
};

static int refcheck_fn(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct refcheck *rc = arg;
	unsigned bad = 0;
	uint64_t p;

	if (s != rc->next || e <= s || (s | e) % PG) {
		rc->why = "runs not contiguous";
		return 1;
	}
	if ((int)attr == rc->prev_attr) {
		rc->why = "adjacent runs with equal attributes";
		return 1;
	}
	for (p = s / PG; p < e / PG; p++)
		bad |= rc->ref[p] ^ attr;
	if (bad) {
		rc->why = "page attribute differs from reference";
		return 1;
	}
	rc->next = e;
	rc->prev_attr = (int)attr;
	rc->runs++;
	return 0;
}

static const char *check_against(const struct rangeset *rs, const uint16_t *ref,
				 uint64_t pages)
{
	struct refcheck rc = { .ref = ref, .prev_attr = -1 };

	if (rs_for_each(rs, 0, pages * PG, refcheck_fn, &rc))
		return rc.why;
	if (rc.next != pages * PG)
		return "runs do not cover the range";
	if (rc.runs != rs_runs(rs))
		return "rs_runs() disagrees with iteration";
	return NULL;
}

struct hash {
	uint64_t h;
	size_t n;
};

static int hash_fn(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct hash *hs = arg;

	hs->h = (hs->h ^ s) * 0x100000001b3ULL;
	hs->h = (hs->h ^ e) * 0x100000001b3ULL;
	hs->h = (hs->h ^ attr) * 0x100000001b3ULL;
	hs->n++;
	return 0;
}

static uint64_t content_hash(const struct rangeset *rs)
{
	struct hash hs = { .h = 0xcbf29ce484222325ULL };

	rs_for_each(rs, 0, rs_size(rs), hash_fn, &hs);
	return hs.h ^ hs.n;
}

/* ---- basic cases ----------------------------------------------------------- */

static void test_create(void)
{
	struct rangeset *rs = NULL;
	uint64_t end = 0;

	ok_ret(rs_create(&rs, 0, 0), -EINVAL, "create: size 0 rejected");
	ok_ret(rs_create(&rs, 4095, 0), -EINVAL, "create: unaligned size rejected");
	ok_ret(rs_create(&rs, PG, 4096), -EINVAL, "create: attr > 4095 rejected");
	ok_ret(rs_create(&rs, RS_SIZE_MAX + PG, 0), -EINVAL, "create: size > RS_SIZE_MAX rejected");
	ok_ret(rs_create(&rs, 16 * PG, 7), 0, "create: 16 pages, attr 7");
	ok(rs_lookup(rs, 0, &end) == 7 && end == 16 * PG,
	   "create: whole range is one run of attr 7");
	ok(rs_lookup(rs, 15 * PG + 123, &end) == 7 && end == 16 * PG,
	   "create: lookup of an unaligned offset in the last page");
	ok(rs_runs(rs) == 1 && rs_size(rs) == 16 * PG && rs_bytes(rs) > 0,
	   "create: runs 1, size, bytes reported");
	ok(rs_check(rs) == 0, "create: invariants hold");
	rs_destroy(rs);
}

static void test_basic(void)
{
	struct rangeset *rs;
	uint64_t end = 0;
	int r;

	TEST_ASSERT(rs_create(&rs, 100 * PG, 0) == 0, "create");

	ok_ret(rs_set(rs, 10 * PG, 10 * PG, 1), -EINVAL, "set: empty range rejected");
	ok_ret(rs_set(rs, 10 * PG, 5 * PG, 1), -EINVAL, "set: reversed range rejected");
	ok_ret(rs_set(rs, 10 * PG + 1, 20 * PG, 1), -EINVAL, "set: unaligned start rejected");
	ok_ret(rs_set(rs, 10 * PG, 101 * PG, 1), -EINVAL, "set: end beyond size rejected");
	ok_ret(rs_set(rs, 10 * PG, 20 * PG, 4096), -EINVAL, "set: attr > 4095 rejected");
	ok(rs_runs(rs) == 1, "set: rejected calls change nothing");

	ok_ret(rs_set(rs, 10 * PG, 20 * PG, 3), 0, "set [10,20) = 3");
	ok(rs_runs(rs) == 3, "split a run into 3 runs");
	ok(rs_lookup(rs, 9 * PG, &end) == 0 && end == 10 * PG,
	   "lookup before: attr 0, run_end 10");
	ok(rs_lookup(rs, 10 * PG, &end) == 3 && end == 20 * PG,
	   "lookup at start: attr 3, run_end 20");
	ok(rs_lookup(rs, 19 * PG, &end) == 3 && end == 20 * PG,
	   "lookup last page of run: attr 3, run_end 20");
	ok(rs_lookup(rs, 20 * PG, &end) == 0 && end == 100 * PG,
	   "lookup after: attr 0, run_end = size");

	ok_ret(rs_set(rs, 10 * PG, 20 * PG, 3), 0, "set same value again");
	ok(rs_runs(rs) == 3, "idempotent set keeps 3 runs");

	ok_ret(rs_set(rs, 20 * PG, 30 * PG, 3), 0, "set [20,30) = 3 (extends right)");
	ok(rs_runs(rs) == 3 && rs_lookup(rs, 10 * PG, &end) == 3 && end == 30 * PG,
	   "merged with left neighbour: [10,30) one run");
	ok_ret(rs_set(rs, 5 * PG, 10 * PG, 3), 0, "set [5,10) = 3 (extends left)");
	ok(rs_runs(rs) == 3 && rs_lookup(rs, 5 * PG, &end) == 3 && end == 30 * PG,
	   "merged with right neighbour: [5,30) one run");
	ok_ret(rs_set(rs, 40 * PG, 50 * PG, 3), 0, "set [40,50) = 3");
	ok(rs_runs(rs) == 5, "5 runs");
	ok_ret(rs_set(rs, 30 * PG, 40 * PG, 3), 0, "fill the gap [30,40) = 3");
	ok(rs_runs(rs) == 3 && rs_lookup(rs, 5 * PG, &end) == 3 && end == 50 * PG,
	   "merged on both sides: [5,50) one run");
	ok_ret(rs_set(rs, 5 * PG, 50 * PG, 0), 0, "set [5,50) back to 0");
	ok(rs_runs(rs) == 1 && rs_lookup(rs, 0, &end) == 0 && end == 100 * PG,
	   "everything merged back into one run");

	ok_ret(rs_set(rs, 0, PG, 9), 0, "set first page");
	ok_ret(rs_set(rs, 99 * PG, 100 * PG, 9), 0, "set last page");
	ok(rs_runs(rs) == 3 && rs_lookup(rs, 0, &end) == 9 && end == PG &&
	   rs_lookup(rs, 99 * PG, &end) == 9 && end == 100 * PG,
	   "edge pages: 3 runs, correct ends");
	ok_ret(rs_set(rs, 0, 100 * PG, 4095), 0, "set whole range to 4095");
	ok(rs_runs(rs) == 1 && rs_lookup(rs, 50 * PG, NULL) == 4095,
	   "whole-range set leaves one run of 4095");

	/* a run covering several old runs, partly overlapping both ends */
	for (r = 0; r < 10; r++)
		rs_set(rs, (uint64_t)(10 * r) * PG, (uint64_t)(10 * r + 5) * PG,
		       (unsigned)r);
	ok(rs_runs(rs) == 20, "10 alternating runs -> 20 runs");
	ok_ret(rs_set(rs, 12 * PG, 83 * PG, 77), 0, "overwrite [12,83) across 14 runs");
	ok(rs_runs(rs) == 8 && rs_lookup(rs, 11 * PG, &end) == 1 && end == 12 * PG &&
	   rs_lookup(rs, 12 * PG, &end) == 77 && end == 83 * PG &&
	   rs_lookup(rs, 83 * PG, &end) == 8 && end == 85 * PG,
	   "multi-run overwrite trims neighbours correctly");
	ok(rs_check(rs) == 0, "invariants hold after basic cases");
	rs_destroy(rs);
}

static void test_queries(void)
{
	struct rangeset *rs;
	struct collect c;
	uint64_t diff = 0;

	TEST_ASSERT(rs_create(&rs, 64 * PG, 0) == 0, "create");
	rs_set(rs, 8 * PG, 16 * PG, 1);
	rs_set(rs, 16 * PG, 24 * PG, 2);
	rs_set(rs, 40 * PG, 48 * PG, 1);

	ok(rs_all_equal(rs, 0, 8 * PG, 0, &diff) == 1, "all_equal: [0,8) is 0");
	diff = 0;
	ok(rs_all_equal(rs, 0, 9 * PG, 0, &diff) == 0 && diff == 8 * PG,
	   "all_equal: [0,9) differs at 8");
	ok(rs_all_equal(rs, 10 * PG, 24 * PG, 1, &diff) == 0 && diff == 16 * PG,
	   "all_equal: [10,24) as 1 differs at 16");
	ok(rs_all_equal(rs, 12 * PG, 24 * PG, 0, &diff) == 0 && diff == 12 * PG,
	   "all_equal: first_diff is the range start when the first run differs");
	ok(rs_all_equal(rs, 24 * PG, 40 * PG, 0, NULL) == 1,
	   "all_equal: exact run [24,40)");
	ok(rs_all_equal(rs, 24 * PG, 64 * PG, 0, &diff) == 0 && diff == 40 * PG,
	   "all_equal: to the end differs at 40");
	ok(rs_all_equal(rs, 48 * PG, 64 * PG, 0, NULL) == 1,
	   "all_equal: last run to size");
	ok(rs_all_equal(rs, 5 * PG, 5 * PG, 9, NULL) == 1,
	   "all_equal: empty range is vacuously true");

	memset(&c, 0, sizeof(c));
	ok(rs_for_each(rs, 0, 64 * PG, collect_fn, &c) == 0 && c.n == 6,
	   "for_each: whole range visits 6 runs");
	ok(c.s[0] == 0 && c.e[0] == 8 * PG && c.a[0] == 0 &&
	   c.s[1] == 8 * PG && c.e[1] == 16 * PG && c.a[1] == 1 &&
	   c.s[2] == 16 * PG && c.e[2] == 24 * PG && c.a[2] == 2 &&
	   c.s[5] == 48 * PG && c.e[5] == 64 * PG && c.a[5] == 0,
	   "for_each: runs and attributes in order");
	memset(&c, 0, sizeof(c));
	rs_for_each(rs, 10 * PG, 20 * PG, collect_fn, &c);
	ok(c.n == 2 && c.s[0] == 10 * PG && c.e[0] == 16 * PG &&
	   c.s[1] == 16 * PG && c.e[1] == 20 * PG && c.a[1] == 2,
	   "for_each: clipped to [10,20)");
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ok(rs_for_each(rs, 0, 64 * PG, collect_fn, &c) == 42 && c.n == 2,
	   "for_each: stops early and returns the callback's value");
	memset(&c, 0, sizeof(c));
	ok(rs_for_each(rs, 30 * PG, 30 * PG, collect_fn, &c) == 0 && c.n == 0,
	   "for_each: empty range calls nothing");
	rs_destroy(rs);
}

/*
 * Empty whole leaves exactly, including leaves that are the first child of
 * their parent, so the parent's separators must follow the sibling merged
 * into them.  Built in address order two keys at a time, the first leaf
 * holds runs [0, 63) and leaf m >= 1 holds [63 + 62 (m - 1), 63 + 62 m).
 */
static void test_empty_leaf(void)
{
	const uint64_t pages = 4400, L = 62;
	int bad = 0, chk = 0, m;

	for (m = 1; 63 + L * (uint64_t)m + 1 < pages && !bad && !chk; m++) {
		struct rangeset *rs;
		uint64_t p, w = 63 + L * (uint64_t)(m - 1), end = 0;
		unsigned v;
		size_t runs;

		TEST_ASSERT(rs_create(&rs, pages * PG, 0) == 0, "create");
		for (p = 1; p < pages; p += 2)
			bad |= rs_set(rs, p * PG, (p + 1) * PG, 1);
		v = rs_lookup(rs, (w - 1) * PG, NULL);
		bad |= rs_set(rs, (w + L) * PG, (w + L + 1) * PG, 2);
		runs = rs_runs(rs);
		bad |= rs_set(rs, w * PG, (w + L) * PG, v);
		bad |= rs_runs(rs) != runs - L;
		bad |= rs_lookup(rs, (w + 10) * PG, &end) != v || end != (w + L) * PG;
		bad |= rs_lookup(rs, (w - 1) * PG, &end) != v || end != (w + L) * PG;
		bad |= rs_lookup(rs, (w + L) * PG, &end) != 2 || end != (w + L + 1) * PG;
		chk = rs_check(rs);
		if (bad || chk)
			diag("empty leaf: m=%d bad=%d rs_check=%d", m, bad, chk);
		rs_destroy(rs);
	}
	ok(!bad && !chk, "emptying whole leaves keeps separators exact (%d cases)", m - 1);
}

/* ---- randomized against a per-page reference ------------------------------ */

static void random_range(uint64_t pages, uint64_t *s, uint64_t *e, int phase)
{
	uint64_t len, r = rnd_below(16);

	if (phase == 0)		/* fragmenting: mostly tiny ranges */
		len = r == 0 ? 1 + rnd_below(64) : 1 + rnd_below(3);
	else			/* coalescing: large ranges */
		len = r < 6 ? 1 + rnd_below(pages) : 1 + rnd_below(256);
	if (len > pages)
		len = pages;
	*s = rnd_below(pages - len + 1);
	*e = *s + len;
}

static void test_random(uint64_t seed)
{
	const uint64_t pages = 6000;
	const long ops = 200000;
	struct rangeset *rs;
	uint16_t *ref = calloc(pages, sizeof(*ref));
	const char *why = NULL;
	size_t max_runs = 0;
	unsigned max_h = 0;
	long i;

	TEST_ASSERT(ref && rs_create(&rs, pages * PG, 0) == 0, "create");
	rng_state = seed;
	for (i = 0; i < ops && !why; i++) {
		int phase = (i / 10000) % 2;	/* fragment, then coalesce */
		uint64_t s, e, off, end, want_end, p, diff;
		unsigned attr, got;
		int r;

		random_range(pages, &s, &e, phase);
		attr = rnd_below(8) == 0 ? (unsigned)rnd_below(4096)
					 : (unsigned)rnd_below(phase ? 2 : 16);
		r = rs_set(rs, s * PG, e * PG, attr);
		if (r) {
			why = "rs_set failed";
			break;
		}
		for (p = s; p < e; p++)
			ref[p] = (uint16_t)attr;
		why = check_against(rs, ref, pages);
		if (why)
			break;
		if (i % 8 == 0 && rs_check(rs)) {
			why = "rs_check failed";
			break;
		}
		if (rs_runs(rs) > max_runs)
			max_runs = rs_runs(rs);
		if (rs_height(rs) > max_h)
			max_h = rs_height(rs);

		off = rnd_below(pages);
		got = rs_lookup(rs, off * PG + rnd_below(PG), &end);
		for (want_end = off + 1; want_end < pages && ref[want_end] == ref[off];)
			want_end++;
		if (got != ref[off] || end != want_end * PG) {
			why = "rs_lookup disagrees with reference";
			break;
		}
		s = rnd_below(pages);
		e = s + 1 + rnd_below(pages - s);
		attr = ref[s + rnd_below(e - s)];
		for (p = s; p < e && ref[p] == attr; p++)
			;
		r = rs_all_equal(rs, s * PG, e * PG, attr, &diff);
		if (r != (p == e) || (!r && diff != p * PG)) {
			why = "rs_all_equal disagrees with reference";
			break;
		}
	}
	if (!ok(!why, "random: %ld set/lookup/all_equal ops on %" PRIu64
		" pages match the reference", ops, pages))
		diag("random: op %ld: %s (GMEM_SEED=%" PRIu64 ")", i, why, seed);
	ok(rs_check(rs) == 0, "random: invariants hold at the end");
	diag("random: peak %zu runs, peak height %u", max_runs, max_h);
	ok(max_h >= 3, "random: tree grew to at least 3 levels (got %u)", max_h);
	rs_destroy(rs);
	free(ref);
}

/* ---- fault injection -------------------------------------------------------- */

/*
 * Attempt one update with the N-th node allocation failing, N = 0, 1, ...
 * Every failure must leave the contents identical.  Returns the number of
 * failures seen before success, or -1 on a violation.
 */
static long set_with_faults(struct rangeset *rs, uint64_t s, uint64_t e,
			    unsigned attr, const char **why)
{
	uint64_t before = content_hash(rs);
	size_t runs = rs_runs(rs);
	long n;

	for (n = 0; n < 100; n++) {
		int r;

		rs_fail_alloc_after(rs, n);
		r = rs_set(rs, s, e, attr);
		rs_fail_alloc_after(rs, -1);
		if (r == 0)
			return n;
		if (r != -ENOMEM) {
			*why = "unexpected error";
			return -1;
		}
		if (content_hash(rs) != before || rs_runs(rs) != runs) {
			*why = "-ENOMEM changed the contents";
			return -1;
		}
		if (rs_check(rs)) {
			*why = "-ENOMEM broke an invariant";
			return -1;
		}
	}
	*why = "never succeeded";
	return -1;
}

static void test_faults(uint64_t seed)
{
	const uint64_t pages = 1 << 16;
	struct rangeset *rs;
	uint16_t *ref = calloc(pages, sizeof(*ref));
	const char *why = NULL;
	long fails = 0, big = -1, i, n;
	uint64_t p;

	TEST_ASSERT(ref && rs_create(&rs, pages * PG, 0) == 0, "create");

	/*
	 * Fragment in address order until an update needs at least three
	 * new nodes (leaf split cascading through a full root): that update
	 * must fail for N = 0, 1, 2 and succeed once enough are allowed.
	 */
	for (p = 1; p + 1 < pages; p += 2) {
		int r;

		rs_fail_alloc_after(rs, 2);
		r = rs_set(rs, p * PG, (p + 1) * PG, 1);
		rs_fail_alloc_after(rs, -1);
		if (r == -ENOMEM) {
			big = set_with_faults(rs, p * PG, (p + 1) * PG, 1, &why);
			ref[p] = 1;
			break;
		}
		if (r) {
			why = "unexpected error while fragmenting";
			break;
		}
		ref[p] = 1;
	}
	ok(!why && big >= 3, "faults: cascading split at run %zu failed for N = 0..%ld, then succeeded",
	   rs_runs(rs), big - 1);
	if (why)
		diag("faults: %s", why);
	why = check_against(rs, ref, pages);
	ok(!why && rs_check(rs) == 0, "faults: contents correct after the cascading split");

	/* random updates on a fragmented set, each tried with faults */
	rng_state = seed ^ 0xfa17;
	for (i = 0; i < 1500 && !why; i++) {
		uint64_t s = rnd_below(pages), e;
		unsigned attr = (unsigned)rnd_below(4);

		e = s + 1 + (rnd_below(4) == 0 ? rnd_below(pages - s) / 64 : rnd_below(3));
		if (e > pages)
			e = pages;
		n = set_with_faults(rs, s * PG, e * PG, attr, &why);
		if (n < 0)
			break;
		fails += n;
		for (p = s; p < e; p++)
			ref[p] = (uint16_t)attr;
		why = check_against(rs, ref, pages);
	}
	if (!ok(!why && fails > 0, "faults: 1500 random updates: every -ENOMEM left the set unchanged (%ld injected failures)",
		fails))
		diag("faults: update %ld: %s (GMEM_SEED=%" PRIu64 ")", i,
		     why ? why : "no failure injected", seed);
	rs_destroy(rs);
	free(ref);
}

/* ---- 10^6 runs on a 1 TiB range ------------------------------------------- */

/*
 * A tree grown in address order keeps room in its leaves: a conversion of
 * one page inside any old run (two keys more) takes no new node, and the
 * conversion back none either.  Allocations are made to fail to show it.
 */
static void test_append_room(void)
{
	const uint64_t n = 20000, size = 8 * n * PG;
	struct rangeset *rs;
	uint64_t i, splits = 0;
	int bad = 0;

	TEST_ASSERT(rs_create(&rs, size, 0) == 0, "create");
	for (i = 0; i < n && !bad; i++)
		bad |= rs_set(rs, 8 * i * PG, (8 * i + 2) * PG, 1);
	rs_fail_alloc_after(rs, 0);
	for (i = 0; i < n && !bad; i += 97) {
		uint64_t pg = 8 * i + 4;	/* inside the run [8i+2, 8i+8) */

		if (rs_set(rs, pg * PG, (pg + 1) * PG, 1) == -ENOMEM)
			splits++;
		else if (rs_lookup(rs, pg * PG, NULL) != 1 ||
			 rs_set(rs, pg * PG, (pg + 1) * PG, 0))
			bad = 1;
	}
	rs_fail_alloc_after(rs, -1);
	ok(!bad && !splits && rs_runs(rs) == 2 * n,
	   "address-ordered growth leaves room: %" PRIu64 " one-page conversions inside old runs took no node",
	   (n + 96) / 97);
	rs_destroy(rs);
}

static void test_million(uint64_t seed)
{
	const uint64_t size = 1ULL << 40, pages = size / PG;
	const uint64_t n = 500000, stride = pages / n;	/* 536 pages */
	struct rangeset *rs;
	uint64_t i, end, gone, *order;
	double bpr;
	int bad = 0;

	TEST_ASSERT(rs_create(&rs, size, 0) == 0, "create");
	for (i = 0; i < n && !bad; i++)
		bad |= rs_set(rs, (i * stride + 7) * PG, (i * stride + 8) * PG, 1);
	ok(!bad && rs_runs(rs) == 2 * n + 1,
	   "1TiB: %" PRIu64 " single pages in address order -> %zu runs", n, rs_runs(rs));
	bpr = (double)rs_bytes(rs) / (double)rs_runs(rs);
	diag("1TiB address order: %zu runs, %zu bytes, %.2f bytes/run, height %u",
	     rs_runs(rs), rs_bytes(rs), bpr, rs_height(rs));
	ok(bpr <= 16.0, "1TiB address order: %.2f bytes/run <= 16", bpr);
	for (i = 0; i < 1000; i++) {
		uint64_t k = (i * 7919) % n, pg = k * stride + 7;

		if (rs_lookup(rs, pg * PG, &end) != 1 || end != (pg + 1) * PG ||
		    rs_lookup(rs, (pg + 1) * PG, &end) != 0 ||
		    end != (k + 1 < n ? (pg + stride) * PG : size))
			bad = 1;
	}
	ok(!bad && rs_check(rs) == 0, "1TiB address order: lookups and invariants");
	for (i = 0, gone = 0; i < n; i++)
		if ((i * stride + 7) * PG >= size / 4 && (i * stride + 8) * PG <= 3 * size / 4)
			gone++;
	ok_ret(rs_set(rs, size / 4, 3 * size / 4, 0), 0, "1TiB: clear the middle half");
	ok(rs_runs(rs) == 2 * n + 1 - 2 * gone && rs_check(rs) == 0,
	   "1TiB: middle half merged (%zu runs), invariants hold", rs_runs(rs));
	ok_ret(rs_set(rs, 0, size, 0), 0, "1TiB: clear everything");
	ok(rs_runs(rs) == 1 && rs_height(rs) == 1 && rs_check(rs) == 0,
	   "1TiB: one run, tree collapsed to a single leaf");
	rs_destroy(rs);

	/* the same pages in random order */
	order = malloc(n * sizeof(*order));
	TEST_ASSERT(order && rs_create(&rs, size, 0) == 0, "create");
	for (i = 0; i < n; i++)
		order[i] = i;
	rng_state = seed ^ 0x1e6;
	for (i = n - 1; i > 0; i--) {
		uint64_t j = rnd_below(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n && !bad; i++)
		bad |= rs_set(rs, (order[i] * stride + 7) * PG,
			      (order[i] * stride + 8) * PG, 1 + (unsigned)(order[i] % 3));
	bpr = (double)rs_bytes(rs) / (double)rs_runs(rs);
	diag("1TiB random order: %zu runs, %zu bytes, %.2f bytes/run, height %u",
	     rs_runs(rs), rs_bytes(rs), bpr, rs_height(rs));
	ok(!bad && rs_runs(rs) == 2 * n + 1 && rs_check(rs) == 0,
	   "1TiB random order: %zu runs, invariants hold", rs_runs(rs));
	ok(bpr <= 16.0, "1TiB random order: %.2f bytes/run <= 16", bpr);
	rs_destroy(rs);
	free(order);
}

int main(void)
{
	const char *env = getenv("GMEM_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0)
			    : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	plan_lazy();
	diag("GMEM_SEED=%" PRIu64, seed);
	test_create();
	test_basic();
	test_queries();
	test_empty_leaf();
	test_random(seed);
	test_faults(seed);
	test_append_room();
	test_million(seed);
	return done();
}
