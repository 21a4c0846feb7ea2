/* SPDX-License-Identifier: MIT */
/*
 * Benchmark 3: the attribute store (src/rangeset.c) of a 1 TiB guest with
 * 1 to 10^6 fragmented ranges, against what a naive VMM keeps (a per-page
 * bitmap and a per-page byte array, bench/baselines/pagestore.c): random
 * lookup ns, conversion bookkeeping ns (rs_set, and a whole
 * gmem_set_memory_attributes() of one page on a file nobody mapped), and
 * bytes per range.  Folds in the former bench/rangeset_bench.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "gmem/gmem.h"
#include "rangeset.h"
#include "baselines/pagestore.h"

#define GUEST (1 * TiB)
#define PG 4096ULL
#define GPAGES (GUEST / PG)
#define BATCH 4096
#define NOFFS (64 * BATCH)

static uint64_t rng = 0x5eed;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static volatile uint64_t sink;

/* k single private pages, evenly spread: 2k + 1 runs. */
static uint64_t page_of(uint64_t i, uint64_t k)
{
	return i * (GPAGES / k) + 7;
}

static int build(struct rangeset *rs, struct gmem *g, struct page_bitmap *pb,
		 struct page_array *pa, uint64_t k)
{
	for (uint64_t i = 0; i < k; i++) {
		uint64_t p = page_of(i, k) * PG;
		int ret = rs_set(rs, p, p + PG, 1);

		if (!ret && g)
			ret = gmem_convert(g, p, PG, GMEM_ATTR_PRIVATE, 0, NULL);
		if (ret)
			return ret;
		pb_set(pb, p, p + PG, 1);
		pa_set(pa, p, p + PG, 1);
	}
	return 0;
}

typedef uint64_t (*lookup_fn)(const void *store, uint64_t off);

static uint64_t rs_look(const void *s, uint64_t off)
{
	uint64_t end;

	return rs_lookup(s, off, &end) + end;
}

static uint64_t pb_look(const void *s, uint64_t off)
{
	return pb_lookup(s, off);
}

static uint64_t pa_look(const void *s, uint64_t off)
{
	return pa_lookup(s, off);
}

static uint64_t api_look(const void *s, uint64_t off)
{
	uint64_t a = 0, len = 0;

	gmem_get_memory_attributes((struct gmem *)s, off, &a, &len);
	return a + len;
}

static void time_lookups(double *ns, unsigned nb, lookup_fn fn,
			 const void *store, const uint64_t *offs)
{
	uint64_t acc = 0;

	for (unsigned b = 0; b < nb; b++) {
		const uint64_t *o = offs + (size_t)(b % 64) * BATCH;
		double t0 = bench_now_us();

		for (int i = 0; i < BATCH; i++)
			acc += fn(store, o[i]);
		ns[b] = (bench_now_us() - t0) * 1e3 / BATCH;
	}
	sink = acc;
}

/* Set a random page to private and back: two updates per sample. */
static void time_rs_set(double *ns, unsigned nb, struct rangeset *rs)
{
	for (unsigned b = 0; b < nb; b++) {
		uint64_t pg[BATCH / 4];
		double t0;

		for (int i = 0; i < BATCH / 4; i++)
			pg[i] = (rnd() % GPAGES) * PG;
		t0 = bench_now_us();
		for (int i = 0; i < BATCH / 4; i++) {
			unsigned a = rs_lookup(rs, pg[i], NULL);

			rs_set(rs, pg[i], pg[i] + PG, a ^ 1);
			rs_set(rs, pg[i], pg[i] + PG, a);
		}
		ns[b] = (bench_now_us() - t0) * 1e3 / (BATCH / 2);
	}
}

static void time_convert(double *ns, unsigned nb, struct gmem *g)
{
	for (unsigned b = 0; b < nb; b++) {
		uint64_t pg[BATCH / 16];
		double t0;

		for (int i = 0; i < BATCH / 16; i++)
			pg[i] = (rnd() % GPAGES) * PG;
		t0 = bench_now_us();
		for (int i = 0; i < BATCH / 16; i++) {
			uint64_t a = 0;

			gmem_get_memory_attributes(g, pg[i], &a, NULL);
			gmem_convert(g, pg[i], PG, a ^ GMEM_ATTR_PRIVATE, 0, NULL);
			gmem_convert(g, pg[i], PG, a, 0, NULL);
		}
		ns[b] = (bench_now_us() - t0) * 1e3 / (BATCH / 8);
	}
}

struct attrs_ctx {
	struct rangeset *rs;
	struct gmem_vm *vm;
	struct gmem *g;
	struct page_bitmap pb;
	struct page_array pa;
	uint64_t *offs;
};

static int attrs_point(const struct bench_opts *o, struct attrs_ctx *c,
		       uint64_t k)
{
	unsigned nb = o->quick ? 31 : 101;
	double t[101];
	struct bench_rec *r;
	double runs, bytes;

	if (k) {
		rs_destroy(c->rs);
		gmem_destroy(c->g);
		c->rs = NULL;
		c->g = NULL;
		if (rs_create(&c->rs, GUEST, 0) ||
		    gmem_create(c->vm, GUEST, GMEM_FLAG_INIT_SHARED, &c->g))
			return -ENOMEM;
		memset(c->pb.words, 0, pb_bytes(&c->pb));
		memset(c->pa.attr, 0, pa_bytes(&c->pa));
		if (build(c->rs, c->g, &c->pb, &c->pa, k))
			return -ENOMEM;
	}
	runs = (double)rs_runs(c->rs);
	bytes = (double)rs_bytes(c->rs);
	r = bench_rec_new("attrs", "%.0f ranges", runs);
	bench_rec_num(r, "ranges", "", runs);
	time_lookups(t, nb, rs_look, c->rs, c->offs);
	bench_rec_stat(r, "lookup", "ns", t, nb);
	time_lookups(t, nb, api_look, c->g, c->offs);
	bench_rec_stat(r, "api_lookup", "ns", t, nb);
	time_lookups(t, nb, pb_look, &c->pb, c->offs);
	bench_rec_stat(r, "bitmap_lookup", "ns", t, nb);
	time_lookups(t, nb, pa_look, &c->pa, c->offs);
	bench_rec_stat(r, "array_lookup", "ns", t, nb);
	time_rs_set(t, nb, c->rs);
	bench_rec_stat(r, "rs_set", "ns", t, nb);
	time_convert(t, nb, c->g);
	bench_rec_stat(r, "bookkeeping", "ns", t, nb);
	bench_rec_num(r, "bytes", "B", bytes);
	bench_rec_num(r, "bytes_per_range", "B", bytes / runs);
	bench_rec_num(r, "bitmap_bytes", "B", (double)pb_bytes(&c->pb));
	bench_rec_num(r, "array_bytes", "B", (double)pa_bytes(&c->pa));
	bench_rec_num(r, "bitmap_over_rangeset", "x",
		      (double)pb_bytes(&c->pb) / bytes);
	if (o->log)
		fprintf(o->log, "  %-16s lookup %6.1f ns (api %6.1f, bitmap %5.1f) bookkeeping %7.1f ns  %6.1f B/range\n",
			r->name, bench_rec_get(r, "lookup"),
			bench_rec_get(r, "api_lookup"),
			bench_rec_get(r, "bitmap_lookup"),
			bench_rec_get(r, "bookkeeping"), bytes / runs);
	return 0;
}

static void attrs_targets(void)
{
	struct bench_rec *big = NULL, *small = NULL, *sparse = NULL;

	for (unsigned i = 0; i < bench_nrecs(); i++) {
		struct bench_rec *r = bench_rec_at(i);
		double n = bench_rec_get(r, "ranges");

		if (strcmp(r->group, "attrs"))
			continue;
		if (n >= 1e6)
			big = r;
		if (n >= 1e3 && !small)
			small = r;
		if (n >= 1e4 && !sparse)
			sparse = r;
	}
	if (!big || !small || !sparse)
		return;
	bench_target("Attribute store, 10^6 ranges: random lookup",
		     "median <= 100 ns", bench_rec_get(big, "lookup") <= 100,
		     "rs_lookup(); through gmem_get_memory_attributes() in brackets",
		     "%.1f ns (%.1f ns)", bench_rec_get(big, "lookup"),
		     bench_rec_get(big, "api_lookup"));
	bench_target("Attribute store: conversion bookkeeping O(log n)",
		     "10^6 vs 10^3 ranges <= 2x",
		     bench_rec_get(big, "bookkeeping") <=
		     2 * bench_rec_get(small, "bookkeeping"),
		     "one-page gmem_set_memory_attributes() with no view",
		     "%.0f ns vs %.0f ns", bench_rec_get(big, "bookkeeping"),
		     bench_rec_get(small, "bookkeeping"));
	bench_target("Attribute store, 10^6 ranges: memory", "<= 64 B per range",
		     bench_rec_get(big, "bytes_per_range") <= 64, "",
		     "%.1f B", bench_rec_get(big, "bytes_per_range"));
	bench_target("Attribute store, 1 TiB sparse guest (10^4 ranges): memory vs a per-page bitmap",
		     ">= 100x less", bench_rec_get(sparse, "bitmap_over_rangeset") >= 100,
		     "the bitmap is 1 bit per page (the byte array 8x more); at 10^6 ranges see the table",
		     "%.0fx less (array: %.0fx)",
		     bench_rec_get(sparse, "bitmap_over_rangeset"),
		     bench_rec_get(sparse, "array_bytes") / bench_rec_get(sparse, "bytes"));
}

int bench_attrs(const struct bench_opts *o)
{
	static const uint64_t ks[] = { 0, 5, 50, 500, 5000, 50000, 500000 };
	struct attrs_ctx c = { 0 };
	const char *old = getenv("GMEM_BACKEND");
	int ret = -ENOMEM;

	c.offs = malloc(NOFFS * sizeof(*c.offs));
	setenv("GMEM_BACKEND", "emulated", 1);
	if (c.offs && !rs_create(&c.rs, GUEST, 0) &&
	    !gmem_vm_create(&c.vm, "default", NULL) &&
	    !gmem_create(c.vm, GUEST, GMEM_FLAG_INIT_SHARED, &c.g) &&
	    !pb_create(&c.pb, GUEST) && !pa_create(&c.pa, GUEST)) {
		ret = 0;
		for (size_t i = 0; i < NOFFS; i++)
			c.offs[i] = (rnd() % GPAGES) * PG;
		/* touch the per-page tables once: a naive VMM allocates them */
		memset(c.pb.words, 0, pb_bytes(&c.pb));
		memset(c.pa.attr, 0, pa_bytes(&c.pa));
	}
	if (old)
		setenv("GMEM_BACKEND", old, 1);
	else
		unsetenv("GMEM_BACKEND");
	for (size_t i = 0; !ret && i < sizeof(ks) / sizeof(ks[0]); i++)
		ret = attrs_point(o, &c, ks[i]);
	pb_destroy(&c.pb);
	pa_destroy(&c.pa);
	gmem_destroy(c.g);
	gmem_vm_destroy(c.vm);
	rs_destroy(c.rs);
	free(c.offs);
	if (!ret)
		attrs_targets();
	return ret;
}
