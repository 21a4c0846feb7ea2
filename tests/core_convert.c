/* SPDX-License-Identifier: MIT */
/*
 * gmem_set_memory_attributes() as DESIGN.md section 2 specifies it: every
 * -EINVAL case, -EOPNOTSUPP and -EAGAIN with their error_offset, the order
 * in which they are checked, no-op pages, mixed ranges, unallocated pages,
 * run lengths, per-page indexing, hole punching; and after every failed
 * call, attributes, bytes, pins and statistics exactly as before.  The
 * cases of the kernel series' guest_memfd_conversions_test.c, written for
 * libgmem.  Also the check a multi-file conversion makes first
 * (gmem__convert_check()).  Run over the emulated and kvm backends.
 */
#include "core_common.h"
#include "internal.h"

#define NPAGES 16
#define SZ (NPAGES * PG)

/* A gmem with a known mixed state: pages 4..7 and 12 private (guest data),
 * the others shared (host data), page 2 pinned. */
static void mixed_setup(struct core_ctx *c, const char *platform,
			const char *policy)
{
	uint8_t buf[PG];

	core_setup(c, platform, policy, NPAGES,
		   GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	core_pattern(c->host, SZ, 7);
	TEST_ASSERT(!core_conv(c->g, 4 * PG, 4 * PG, PRIV, CU), "private 4..7");
	TEST_ASSERT(!core_conv(c->g, 12 * PG, PG, PRIV, CU), "private 12");
	/* SNP and TDX guests cannot write before validation or acceptance:
	 * their private pages keep what the host wrote. */
	for (uint64_t p = 4; p < 13; p++) {
		if ((p >= 8 && p < 12) || !strcmp(platform, "snp") ||
		    !strcmp(platform, "tdx"))
			continue;
		core_pattern(buf, PG, 1000 + p);
		TEST_ASSERT(!gmem_guest_access(c->g, p * PG, buf, PG,
					       GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE),
			    "guest write");
	}
	TEST_ASSERT(!gmem_pin(c->g, 2 * PG), "pin 2");
}

static void test_einval_table(const char *be)
{
	struct row {
		const char *what;
		uint64_t offset, size, attributes, flags, error_offset;
		int reserved;	/* index + 1 of a non-zero reserved word */
	};
	static const struct row rows[] = {
		{ "unknown flag 1<<2", 0, PG, PRIV, 1ULL << 2, 0, 0 },
		{ "unknown flag 1<<63", 0, PG, 0, 1ULL << 63, 0, 0 },
		{ "ZERO|PRESERVE", 0, PG, PRIV, CZ | CP, 0, 0 },
		{ "ZERO|PRESERVE to shared", 8 * PG, PG, 0, CZ | CP, 0, 0 },
		{ "attribute bit 0", 0, PG, 1, 0, 0, 0 },
		{ "attribute bit 2", 0, PG, 1ULL << 2, 0, 0, 0 },
		{ "attribute bit 4", 0, PG, 1ULL << 4, 0, 0, 0 },
		{ "PRIVATE | bit 63", 0, PG, PRIV | (1ULL << 63), 0, 0, 0 },
		{ "error_offset PG on input", 0, PG, PRIV, 0, PG, 0 },
		{ "error_offset 1 on input", 0, PG, PRIV, 0, 1, 0 },
		{ "size 0", 0, 0, PRIV, 0, 0, 0 },
		{ "size 0 at the end", SZ, 0, 0, 0, 0, 0 },
		{ "offset 1", 1, PG, PRIV, 0, 0, 0 },
		{ "offset PG+8", PG + 8, PG, 0, 0, 0, 0 },
		{ "size 1", 0, 1, PRIV, 0, 0, 0 },
		{ "size PG+1", 0, PG + 1, PRIV, 0, 0, 0 },
		{ "size PG-1", PG, PG - 1, 0, 0, 0, 0 },
		{ "offset+size overflows", ~0ULL & ~(PG - 1), 2 * PG, PRIV, 0, 0, 0 },
		{ "size overflows", PG, ~0ULL & ~(PG - 1), 0, 0, 0, 0 },
		{ "offset at the end", SZ, PG, PRIV, 0, 0, 0 },
		{ "range past the end", SZ - PG, 2 * PG, PRIV, 0, 0, 0 },
		{ "whole file plus one", 0, SZ + PG, 0, 0, 0, 0 },
		/* -EINVAL wins over -EOPNOTSUPP and -EAGAIN. */
		{ "bad flag on a pinned page", 2 * PG, PG, PRIV, 1ULL << 5, 0, 0 },
		{ "reserved word on a pinned page", 2 * PG, PG, PRIV, 0, 0, 1 },
		{ "past the end, pinned page inside", 0, SZ + PG, PRIV, 0, 0, 0 },
	};
	struct core_snap before;
	struct core_ctx c;

	mixed_setup(&c, "default", NULL);
	for (size_t i = 0; i < ARRAY_SIZE(rows) + 11; i++) {
		struct row r = { "reserved word", 0, PG, PRIV, 0, 0, 0 };
		struct gmem_attributes2 a;
		char what[64];

		if (i < ARRAY_SIZE(rows)) {
			r = rows[i];
			snprintf(what, sizeof(what), "%s", r.what);
		} else {
			r.reserved = (int)(i - ARRAY_SIZE(rows)) + 1;
			snprintf(what, sizeof(what), "reserved[%d] = 1", r.reserved - 1);
		}
		memset(&a, 0, sizeof(a));
		a.offset = r.offset;
		a.size = r.size;
		a.attributes = r.attributes;
		a.flags = r.flags;
		a.error_offset = r.error_offset;
		if (r.reserved)
			a.reserved[r.reserved - 1] = r.reserved == 11 ? 1ULL << 63 : 1;
		core_snap_take(&before, c.g, c.host);
		ok_ret(gmem_set_memory_attributes(c.g, &a), -EINVAL, "%s: %s", be, what);
		ok(a.error_offset == r.error_offset,
		   "%s: %s: error_offset left as passed (0x%llx)", be, what,
		   (unsigned long long)a.error_offset);
		ok(core_unchanged_after(c.g, c.host, &before), "%s: %s: nothing changed",
		   be, what);
		core_snap_free(&before);
	}
	core_teardown(&c);

	/* upstream: the content flags do not exist. */
	mixed_setup(&c, "default", "upstream");
	for (int f = 0; f < 3; f++) {
		static const uint64_t fl[] = { CZ, CP, CZ | CP };

		core_snap_take(&before, c.g, c.host);
		ok_ret(core_conv(c.g, 8 * PG, PG, PRIV, fl[f]), -EINVAL,
		       "%s: upstream: flags 0x%llx are unknown", be,
		       (unsigned long long)fl[f]);
		ok(core_unchanged_after(c.g, c.host, &before), "%s: ... nothing changed", be);
		core_snap_free(&before);
	}
	ok_ret(core_conv(c.g, 8 * PG, PG, PRIV, CU), 0, "%s: upstream: UNSPECIFIED works", be);
	{	/* v8: error_offset is output only: accepted, left as it was */
		struct gmem_attributes2 a = { .offset = 9 * PG, .size = PG,
					      .attributes = PRIV, .error_offset = 3 };

		ok_ret(gmem_set_memory_attributes(c.g, &a), 0,
		       "%s: upstream: a non-zero error_offset on input is accepted", be);
		ok(a.error_offset == 3, "%s: ... and left as it was", be);
	}
	core_teardown(&c);
}

static void test_eopnotsupp(const char *be)
{
	struct core_snap before;
	struct core_ctx c;
	uint64_t eo = 0;

	/* seed, snp: ZERO to-private is refused; -EOPNOTSUPP is checked
	 * before the pins (page 2 is pinned), error_offset = offset. */
	mixed_setup(&c, "snp", NULL);
	core_snap_take(&before, c.g, c.host);
	ok_ret(gmem_convert(c.g, 1 * PG, 6 * PG, PRIV, CZ, &eo), -EOPNOTSUPP,
	       "%s: snp: ZERO to-private", be);
	ok(eo == 1 * PG, "%s: error_offset = offset (0x%llx)", be, (unsigned long long)eo);
	ok(core_unchanged_after(c.g, c.host, &before), "%s: nothing changed", be);
	core_snap_free(&before);
	/* Refused even when every page is already private (a no-op). */
	ok_ret(gmem_convert(c.g, 5 * PG, 2 * PG, PRIV, CZ, &eo), -EOPNOTSUPP,
	       "%s: snp: ZERO to-private of private pages", be);
	ok(eo == 5 * PG, "%s: error_offset = offset", be);
	core_teardown(&c);

	/* seed, tdx: PRESERVE to-shared. */
	mixed_setup(&c, "tdx", NULL);
	core_snap_take(&before, c.g, c.host);
	ok_ret(gmem_convert(c.g, 3 * PG, 10 * PG, 0, CP, &eo), -EOPNOTSUPP,
	       "%s: tdx: PRESERVE to-shared", be);
	ok(eo == 3 * PG, "%s: error_offset = offset", be);
	ok(core_unchanged_after(c.g, c.host, &before), "%s: nothing changed", be);
	core_snap_free(&before);
	core_teardown(&c);

	/* rfc-v5: ZERO to-private is refused everywhere. */
	for (int p = 0; core_platforms[p]; p++) {
		mixed_setup(&c, core_platforms[p], "rfc-v5");
		core_snap_take(&before, c.g, c.host);
		ok_ret(gmem_convert(c.g, 8 * PG, 2 * PG, PRIV, CZ, &eo), -EOPNOTSUPP,
		       "%s: rfc-v5/%s: ZERO to-private refused", be, core_platforms[p]);
		ok(eo == 8 * PG && core_unchanged_after(c.g, c.host, &before),
		   "%s: rfc-v5/%s: error_offset = offset, nothing changed", be,
		   core_platforms[p]);
		core_snap_free(&before);
		core_teardown(&c);
	}
}

static void test_eagain(const char *be)
{
	struct core_snap before;
	struct core_ctx c;
	uint64_t eo = 0;

	mixed_setup(&c, "default", NULL);
	TEST_ASSERT(!gmem_pin(c.g, 10 * PG), "pin 10");
	TEST_ASSERT(!gmem_pin(c.g, 10 * PG), "pin 10 twice");
	core_snap_take(&before, c.g, c.host);
	ok_ret(gmem_convert(c.g, 0, SZ, PRIV, CZ, &eo), -EAGAIN,
	       "%s: to-private over pinned pages 2 and 10", be);
	ok(eo == 2 * PG, "%s: error_offset = first pinned page (0x%llx)", be,
	   (unsigned long long)eo);
	ok(core_unchanged_after(c.g, c.host, &before), "%s: nothing converted or zeroed", be);
	core_snap_free(&before);
	ok_ret(gmem_convert(c.g, 3 * PG, 13 * PG, PRIV, CP, &eo), -EAGAIN,
	       "%s: to-private from page 3", be);
	ok(eo == 10 * PG, "%s: error_offset = page 10 (0x%llx)", be, (unsigned long long)eo);
	ok_ret(gmem_convert(c.g, 10 * PG, PG, PRIV, CU, &eo), -EAGAIN,
	       "%s: the pinned page alone", be);
	ok(eo == 10 * PG, "%s: error_offset = offset", be);
	ok_ret(core_conv(c.g, 0, SZ, 0, CP), 0, "%s: to-shared ignores pins", be);
	ok_ret(gmem_unpin(c.g, 10 * PG), 0, "%s: unpin once", be);
	ok_ret(gmem_convert(c.g, 9 * PG, 2 * PG, PRIV, CU, &eo), -EAGAIN,
	       "%s: one pin left: still -EAGAIN", be);
	ok(eo == 10 * PG, "%s: error_offset = page 10", be);
	ok_ret(gmem_unpin(c.g, 10 * PG), 0, "%s: unpin again", be);
	ok_ret(gmem_convert(c.g, 3 * PG, 13 * PG, PRIV, CU, &eo), 0,
	       "%s: no pin left in the range: converted", be);
	ok(core_attr(c.g, 2 * PG) == 0 && core_attr(c.g, 3 * PG) == PRIV,
	   "%s: the pinned page 2 stayed shared", be);
	ok_ret(gmem_pin(c.g, 3 * PG), -EFAULT, "%s: a private page cannot be pinned", be);
	core_teardown(&c);
}

/* Content modes act only on pages whose state changes; ranges may mix. */
static void test_noop_and_mixed(const char *be)
{
	uint8_t buf[PG], want[PG];
	struct gmem_stats s0, s1;
	struct core_ctx c;
	bool kept = true, zero = true;

	mixed_setup(&c, "default", NULL);
	gmem_get_stats(c.g, &s0);
	ok_ret(core_conv(c.g, 8 * PG, 4 * PG, 0, CZ), 0,
	       "%s: ZERO to-shared of pages already shared", be);
	core_pattern(want, PG, 7);	/* unused; the host pattern is per file */
	{
		uint8_t ref[SZ];

		core_pattern(ref, SZ, 7);
		ok(!memcmp(c.host + 8 * PG, ref + 8 * PG, 4 * PG),
		   "%s: a no-op: the bytes were not zeroed", be);
	}
	gmem_get_stats(c.g, &s1);
	ok(s1.conversions == s0.conversions + 1 &&
	   s1.pages_to_shared == s0.pages_to_shared &&
	   s1.pages_zeroed == s0.pages_zeroed,
	   "%s: counted as a conversion that changed no page", be);

	/* Pages 3..13: 3, 8..11, 13 shared; 4..7, 12 private. */
	ok_ret(core_conv(c.g, 3 * PG, 11 * PG, PRIV, CZ), 0,
	       "%s: ZERO to-private of a mixed range", be);
	for (uint64_t p = 3; p < 14; p++) {
		bool was_private = (p >= 4 && p < 8) || p == 12;

		TEST_ASSERT(!gmem_guest_access(c.g, p * PG, buf, PG,
					       GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE), "read");
		if (was_private) {
			core_pattern(want, PG, 1000 + p);
			kept &= !memcmp(buf, want, PG);
		} else {
			zero &= core_all_zero(buf, PG);
		}
	}
	ok(kept, "%s: pages already private kept the guest's data", be);
	ok(zero, "%s: pages that changed read zero to the guest", be);
	gmem_get_stats(c.g, &s0);
	ok(s0.pages_to_private == s1.pages_to_private + 6,
	   "%s: 6 pages changed state (%llu)", be,
	   (unsigned long long)(s0.pages_to_private - s1.pages_to_private));
	ok(core_attr(c.g, 2 * PG) == 0 && core_attr(c.g, 14 * PG) == 0,
	   "%s: the pages around the range are untouched", be);
	core_teardown(&c);
}

/* Conversions before any page is allocated, both directions, and over
 * ranges with holes: no memory is allocated and the pages read zero. */
static void test_unallocated(const char *be)
{
	static const uint64_t modes[] = { CU, CZ, CP };
	struct gmem_page_info pi;
	struct core_ctx c;

	for (int m = 0; m < 3; m++) {
		bool none = true, zero = true;
		uint8_t buf[PG];

		core_setup(&c, "default", NULL, NPAGES, GMEM_FLAG_MMAP);
		ok_ret(core_conv(c.g, 0, SZ, 0, modes[m]), 0,
		       "%s: %s to-shared before any allocation", be, mode_name(modes[m]));
		for (uint64_t p = 0; p < NPAGES; p++) {
			TEST_ASSERT(!gmem_page_info(c.g, p * PG, &pi), "info");
			none &= !pi.allocated;
		}
		ok(none, "%s: still nothing allocated", be);
		ok(core_all_zero(c.host, SZ), "%s: the host reads zeros", be);
		ok_ret(core_conv(c.g, 0, SZ, PRIV, modes[m]), 0,
		       "%s: %s to-private", be, mode_name(modes[m]));
		ok_ret(core_conv(c.g, 0, 8 * PG, 0, modes[m]), 0,
		       "%s: and half back", be);
		/* Holes in the middle of populated pages. */
		memset(c.host, 0x5a, 8 * PG);
		TEST_ASSERT(!gmem_punch_hole(c.g, 2 * PG, 3 * PG), "punch");
		ok_ret(core_conv(c.g, 0, SZ, PRIV, modes[m]), 0,
		       "%s: %s to-private of a range with holes", be, mode_name(modes[m]));
		for (uint64_t p = 2; p < 5; p++) {
			TEST_ASSERT(!gmem_guest_access(c.g, p * PG, buf, PG,
						       GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE), "read");
			zero &= core_all_zero(buf, PG);
		}
		ok(zero, "%s: the holes read zero to the guest", be);
		core_teardown(&c);
	}
}

/* Per-page indexing across the file: every page's attribute is its own,
 * run lengths are exact, guest accesses find each page by index. */
static void test_indexing(const char *be)
{
	const uint64_t n = 257;
	uint8_t *want = calloc(n, 1);
	struct core_ctx c;
	bool attrs_ok = true, runs_ok = true, data_ok = true;

	TEST_ASSERT(want, "alloc");
	core_setup(&c, "default", NULL, n, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	for (uint64_t p = 0; p < n; p++) {
		uint64_t tag = p;

		want[p] = (p % 3 == 0) || (p % 7 == 1);
		if (want[p])
			TEST_ASSERT(!core_conv(c.g, p * PG, PG, PRIV, CP), "conv");
		TEST_ASSERT(!gmem_guest_access(c.g, p * PG + 8, &tag, sizeof(tag),
					       GMEM_ACCESS_WRITE |
					       (want[p] ? GMEM_ACCESS_PRIVATE : 0)), "write");
	}
	for (uint64_t p = 0; p < n; p++) {
		uint64_t a, run, end = p, tag = ~0ULL;

		while (end < n && want[end] == want[p])
			end++;
		TEST_ASSERT(!gmem_get_memory_attributes(c.g, p * PG, &a, &run), "get");
		attrs_ok &= a == (want[p] ? PRIV : 0);
		runs_ok &= run == (end - p) * PG;
		TEST_ASSERT(!gmem_guest_access(c.g, p * PG + 8, &tag, sizeof(tag),
					       GMEM_ACCESS_READ |
					       (want[p] ? GMEM_ACCESS_PRIVATE : 0)), "read");
		data_ok &= tag == p;
	}
	ok(attrs_ok, "%s: 257 pages, each with its own attribute", be);
	ok(runs_ok, "%s: run_len = bytes to the end of the run, from every page", be);
	ok(data_ok, "%s: each page holds its own index", be);
	core_teardown(&c);
	free(want);
}

/* Hole punching frees the pages, keeps attributes, later reads see zero. */
static void test_punch(const char *be)
{
	struct gmem_page_info pi;
	struct core_ctx c;
	uint8_t buf[PG];
	bool freed = true, zero = true;

	mixed_setup(&c, "default", NULL);
	ok_ret(gmem_punch_hole(c.g, 3 * PG, 7 * PG), 0,
	       "%s: punch pages 3..9 (shared and private)", be);
	ok(core_attr(c.g, 3 * PG) == 0 && core_attr(c.g, 4 * PG) == PRIV &&
	   core_attr(c.g, 7 * PG) == PRIV && core_attr(c.g, 8 * PG) == 0,
	   "%s: attributes kept", be);
	for (uint64_t p = 3; p < 10; p++) {
		TEST_ASSERT(!gmem_page_info(c.g, p * PG, &pi), "info");
		freed &= !pi.allocated;
	}
	ok(freed, "%s: the pages went back to the kernel", be);
	ok(core_all_zero(c.host + 3 * PG, PG) && core_all_zero(c.host + 8 * PG, 2 * PG),
	   "%s: the host reads zeros from punched shared pages", be);
	for (uint64_t p = 4; p < 8; p++) {
		TEST_ASSERT(!gmem_guest_access(c.g, p * PG, buf, PG,
					       GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE), "read");
		zero &= core_all_zero(buf, PG);
	}
	ok(zero, "%s: the guest reads zeros from punched private pages", be);
	core_pattern(buf, PG, 1000 + 12);
	{
		uint8_t got[PG];

		TEST_ASSERT(!gmem_guest_access(c.g, 12 * PG, got, PG,
					       GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE), "read");
		ok(!memcmp(got, buf, PG), "%s: the page after the hole is intact", be);
	}
	ok_ret(core_conv(c.g, 4 * PG, 4 * PG, 0, CP), 0,
	       "%s: punched private pages convert back", be);
	ok(core_all_zero(c.host + 4 * PG, 4 * PG), "%s: and read zero to the host", be);
	ok(gmem_pin(c.g, 2 * PG) == 0 && gmem_punch_hole(c.g, 2 * PG, PG) == 0,
	   "%s: a pinned page can be punched", be);
	core_teardown(&c);
}

/* Injected failures inside the engine leave everything as it was. */
static void test_injected(const char *be)
{
	struct core_snap before;
	struct core_ctx c;
	uint64_t eo = 0;
	int ret;

	mixed_setup(&c, "sw_protected", NULL);
	/* The attribute store cannot grow. */
	rs_fail_alloc_after(c.g->attrs, 0);
	core_snap_take(&before, c.g, c.host);
	ret = gmem_convert(c.g, 9 * PG, PG, PRIV, CZ, &eo);
	rs_fail_alloc_after(c.g->attrs, -1);
	ok_ret(ret, -ENOMEM, "%s: attribute store full: -ENOMEM", be);
	ok(eo == 9 * PG, "%s: error_offset = offset", be);
	ok(core_unchanged_after(c.g, c.host, &before), "%s: nothing changed", be);
	core_snap_free(&before);

	/* The host view cannot be changed (the mmap fails): to-private. */
	for (long n = 0; n < 3; n++) {
		core_snap_take(&before, c.g, c.host);
		gmem__fault_inject(GMEM_FI_MMAP, n, ENOMEM);
		ret = gmem_convert(c.g, 0, SZ, 0, CZ, &eo);
		gmem__fault_inject(GMEM_FI_MMAP, -1, 0);
		if (ret == 0) {
			core_snap_free(&before);
			break;
		}
		ok_ret(ret, -ENOMEM, "%s: mmap #%ld fails in a to-shared of 2 runs", be, n);
		ok(core_unchanged_after(c.g, c.host, &before),
		   "%s: mmap #%ld: nothing changed (no byte zeroed)", be, n);
		ok(core_sigbus_on_read(c.host + 4 * PG) && core_sigbus_on_read(c.host + 12 * PG),
		   "%s: mmap #%ld: private pages still raise SIGBUS", be, n);
		core_snap_free(&before);
	}
	core_teardown(&c);
}

/* The attribute store at scale: 10^6 fragmented runs through the public
 * API, in well under 64 bytes each (DESIGN.md section 5). */
static void test_fragmented(const char *be)
{
	const uint64_t runs = CORE_TSAN ? 100000 : 1000000;
	struct gmem_stats st;
	struct core_ctx c;
	uint64_t a, run, bad = 0;
	int ret = 0;

	core_setup(&c, "default", NULL, runs, GMEM_FLAG_INIT_SHARED);
	for (uint64_t p = 1; p < runs && !ret; p += 2)
		ret = core_conv(c.g, p * PG, PG, PRIV, CU);
	ok_ret(ret, 0, "%s: %llu single-page conversions", be,
	       (unsigned long long)runs / 2);
	gmem_get_stats(c.g, &st);
	ok(st.ranges == runs, "%s: %llu runs in the store (%llu)", be,
	   (unsigned long long)runs, (unsigned long long)st.ranges);
	ok(st.ranges && st.ranges_bytes / st.ranges < 64,
	   "%s: %.1f bytes per run (< 64)", be,
	   st.ranges ? (double)st.ranges_bytes / (double)st.ranges : 0.0);
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t p = (i * 7919) % runs;

		if (gmem_get_memory_attributes(c.g, p * PG, &a, &run) ||
		    a != ((p & 1) ? PRIV : 0) || run != PG)
			bad++;
	}
	ok(!bad, "%s: 1000 lookups across the fragmented file (%llu wrong)", be,
	   (unsigned long long)bad);
	ok_ret(core_conv(c.g, 0, runs * PG, 0, CZ), 0, "%s: one conversion merges them all", be);
	gmem_get_stats(c.g, &st);
	ok(st.ranges == 1, "%s: one run again", be);
	core_teardown(&c);
}

/*
 * gmem__convert_check() (src/compat_api.h): the fallible steps of a
 * conversion, changing nothing but the attribute store's spare memory;
 * the conversions it reserved for need no more of it.
 */
static void test_check(const char *be)
{
	struct gmem_attributes2 a;
	struct core_snap before;
	struct gmem_stats st0, st1;
	struct core_ctx c;
	int ret;

	mixed_setup(&c, "snp", NULL);
	/* The valid conversions, three in a row: reserved once. */
	a = (struct gmem_attributes2){ .offset = 9 * PG, .size = PG, .attributes = PRIV };
	ok_ret(gmem__convert_check(c.g, &a, 3), 0, "%s: check: a valid conversion, 3 in a row", be);
	core_snap_take(&before, c.g, c.host);
	a = (struct gmem_attributes2){ .offset = 0, .size = PG, .attributes = PRIV,
				       .flags = 1ULL << 2 };
	ok_ret(gmem__convert_check(c.g, &a, 1), -EINVAL, "%s: check: unknown flag", be);
	a = (struct gmem_attributes2){ .offset = PG, .size = 6 * PG, .attributes = PRIV,
				       .flags = CZ };
	ok_ret(gmem__convert_check(c.g, &a, 1), -EOPNOTSUPP,
	       "%s: check: snp ZERO to-private", be);
	ok(a.error_offset == PG, "%s: error_offset = offset", be);
	a = (struct gmem_attributes2){ .offset = 0, .size = 4 * PG, .attributes = PRIV };
	ok_ret(gmem__convert_check(c.g, &a, 1), -EAGAIN,
	       "%s: check: to-private over the pinned page 2", be);
	ok(a.error_offset == 2 * PG, "%s: error_offset = the pinned page", be);
	rs_fail_alloc_after(c.g->attrs, 0);
	a = (struct gmem_attributes2){ .offset = 9 * PG, .size = PG, .attributes = PRIV };
	ret = gmem__convert_check(c.g, &a, 64);
	rs_fail_alloc_after(c.g->attrs, -1);
	ok_ret(ret, -ENOMEM, "%s: check: the store cannot grow: -ENOMEM", be);
	ok(a.error_offset == 9 * PG, "%s: error_offset = offset", be);
	ok(core_unchanged_after(c.g, c.host, &before), "%s: the checks changed nothing", be);
	core_snap_free(&before);

	/* Three conversions that each split runs: the store does not grow. */
	TEST_ASSERT(!gmem_get_stats(c.g, &st0), "stats");
	ret = core_conv(c.g, 9 * PG, PG, PRIV, CU);
	if (!ret)
		ret = core_conv(c.g, 14 * PG, PG, PRIV, CU);
	if (!ret)
		ret = core_conv(c.g, 5 * PG, PG, 0, CZ);
	TEST_ASSERT(!gmem_get_stats(c.g, &st1), "stats");
	ok_ret(ret, 0, "%s: the three conversions checked for", be);
	ok(st1.ranges_bytes == st0.ranges_bytes,
	   "%s: the attribute store did not grow (%llu bytes)", be,
	   (unsigned long long)st1.ranges_bytes);
	ok(core_attr(c.g, 9 * PG) == PRIV && core_attr(c.g, 14 * PG) == PRIV &&
	   core_attr(c.g, 5 * PG) == 0 && core_attr(c.g, 4 * PG) == PRIV,
	   "%s: and they converted", be);
	core_teardown(&c);
}

int main(void)
{
	plan_lazy();
	core_sigbus_install();
	for (int b = 0; core_backends[b]; b++) {
		const char *be = core_backends[b];

		if (!core_use_backend(be))
			continue;
		test_einval_table(be);
		test_eopnotsupp(be);
		test_eagain(be);
		test_noop_and_mixed(be);
		test_unallocated(be);
		test_indexing(be);
		test_punch(be);
		test_injected(be);
		test_fragmented(be);
		test_check(be);
	}
	return done();
}
