/* SPDX-License-Identifier: MIT */
/*
 * Micro-benchmark of the attribute store (src/rangeset.c) against naive
 * per-page representations, for a sparse 1 TiB guest.
 *
 *   cc -O2 -Isrc bench/rangeset_bench.c src/rangeset.c -o rangeset_bench
 *   ./rangeset_bench            # prints one JSON object on stdout
 *
 * Every timing is the median over repeated batches of the per-operation
 * time of a batch (CLOCK_MONOTONIC).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rangeset.h"

#define PG		4096ULL
#define GUEST		(1ULL << 40)		/* 1 TiB */
#define GUEST_PAGES	(GUEST / PG)
#define RUNS_TARGET	1000000ULL
#define BATCH		4096
#define BATCHES		201

static uint64_t rng_state = 0x5eed;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static volatile uint64_t sink;

/* Sparse fragmentation: n single pages set to 1, evenly spread. */
static struct rangeset *fragmented(uint64_t n, int random_order)
{
	uint64_t stride = GUEST_PAGES / n, i, *order = NULL;
	struct rangeset *rs;

	if (rs_create(&rs, GUEST, 0))
		return NULL;
	if (random_order) {
		order = malloc(n * sizeof(*order));
		if (!order) {
			rs_destroy(rs);
			return NULL;
		}
		for (i = 0; i < n; i++)
			order[i] = i;
		for (i = n - 1; i > 0; i--) {
			uint64_t j = rnd() % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	}
	for (i = 0; i < n; i++) {
		uint64_t k = order ? order[i] : i;

		if (rs_set(rs, (k * stride + 7) * PG, (k * stride + 8) * PG, 1)) {
			rs_destroy(rs);
			free(order);
			return NULL;
		}
	}
	free(order);
	return rs;
}

/* Independent random lookups (throughput-bound). */
static double bench_lookup(const struct rangeset *rs, const uint64_t *offs)
{
	double t[BATCHES];
	uint64_t acc = 0, end;

	for (int b = 0; b < BATCHES; b++) {
		const uint64_t *o = offs + (size_t)(b % 64) * BATCH;
		double t0 = now_ns();

		for (int i = 0; i < BATCH; i++)
			acc += rs_lookup(rs, o[i], &end) + end;
		t[b] = (now_ns() - t0) / BATCH;
	}
	sink = acc;
	return median(t, BATCHES);
}

/* Each lookup's address depends on the previous result (latency-bound). */
static double bench_lookup_dep(const struct rangeset *rs, const uint64_t *offs)
{
	double t[BATCHES];
	uint64_t acc = 0, end = 0, dep = 0;

	for (int b = 0; b < BATCHES; b++) {
		const uint64_t *o = offs + (size_t)(b % 64) * BATCH;
		double t0 = now_ns();

		for (int i = 0; i < BATCH; i++) {
			/* attr <= 4095 and end <= 2^40: dep is always 0 */
			unsigned a = rs_lookup(rs, o[i] + dep, &end);

			dep = (a >> 12) | (end >> 62);
			acc += a;
		}
		t[b] = (now_ns() - t0) / BATCH;
	}
	sink = acc;
	return median(t, BATCHES);
}

/* Random single-page sets to attr 0..3 on a fragmented set. */
static double bench_set(struct rangeset *rs, size_t *fails)
{
	double t[BATCHES];

	for (int b = 0; b < BATCHES; b++) {
		uint64_t pg[BATCH];
		unsigned at[BATCH];
		double t0;

		for (int i = 0; i < BATCH; i++) {
			pg[i] = rnd() % GUEST_PAGES;
			at[i] = (unsigned)(rnd() & 3);
		}
		t0 = now_ns();
		for (int i = 0; i < BATCH; i++)
			*fails += rs_set(rs, pg[i] * PG, (pg[i] + 1) * PG, at[i]) != 0;
		t[b] = (now_ns() - t0) / BATCH;
	}
	return median(t, BATCHES);
}

/* Per-page bitmap of the same 1 TiB guest: lookup cost for comparison. */
static double bench_bitmap(const uint64_t *offs, size_t *bytes)
{
	size_t words = GUEST_PAGES / 64;
	uint64_t *bm = calloc(words, sizeof(*bm)), stride = GUEST_PAGES / (RUNS_TARGET / 2);
	double t[BATCHES];
	uint64_t acc = 0;

	*bytes = words * sizeof(*bm);
	if (!bm)
		return -1;
	for (uint64_t k = 0; k < RUNS_TARGET / 2; k++) {
		uint64_t p = k * stride + 7;

		bm[p / 64] |= 1ULL << (p % 64);
	}
	for (int b = 0; b < BATCHES; b++) {
		const uint64_t *o = offs + (size_t)(b % 64) * BATCH;
		double t0 = now_ns();

		for (int i = 0; i < BATCH; i++) {
			uint64_t p = o[i] / PG;

			acc += (bm[p / 64] >> (p % 64)) & 1;
		}
		t[b] = (now_ns() - t0) / BATCH;
	}
	sink = acc;
	free(bm);
	return median(t, BATCHES);
}

int main(void)
{
	uint64_t *offs = malloc(64 * BATCH * sizeof(*offs));
	struct rangeset *rs, *rs_rand, *small;
	double lookup, lookup_dep, set_ns, bm_lookup, t0, build_ns;
	size_t fails = 0, bm_bytes = 0, runs, bytes, rruns, rbytes;

	if (!offs)
		return 1;
	for (size_t i = 0; i < 64 * BATCH; i++)
		offs[i] = (rnd() % GUEST_PAGES) * PG;

	t0 = now_ns();
	rs = fragmented(RUNS_TARGET / 2, 0);
	build_ns = (now_ns() - t0) / (double)(RUNS_TARGET / 2);
	rs_rand = fragmented(RUNS_TARGET / 2, 1);
	small = fragmented(500, 0);
	if (!rs || !rs_rand || !small) {
		fprintf(stderr, "rangeset_bench: out of memory\n");
		return 1;
	}
	runs = rs_runs(rs);
	bytes = rs_bytes(rs);
	rruns = rs_runs(rs_rand);
	rbytes = rs_bytes(rs_rand);

	lookup = bench_lookup(rs, offs);
	lookup_dep = bench_lookup_dep(rs, offs);
	bm_lookup = bench_bitmap(offs, &bm_bytes);
	set_ns = bench_set(rs_rand, &fails);

	printf("{\n");
	printf("  \"guest_bytes\": %llu,\n", (unsigned long long)GUEST);
	printf("  \"rangeset\": {\n");
	printf("    \"runs\": %zu,\n", runs);
	printf("    \"height\": %u,\n", rs_height(rs));
	printf("    \"bytes\": %zu,\n", bytes);
	printf("    \"bytes_per_run\": %.2f,\n", (double)bytes / (double)runs);
	printf("    \"bytes_per_run_random_order\": %.2f,\n", (double)rbytes / (double)rruns);
	printf("    \"lookup_ns_median\": %.1f,\n", lookup);
	printf("    \"lookup_dependent_ns_median\": %.1f,\n", lookup_dep);
	printf("    \"set_ns_per_op_median\": %.1f,\n", set_ns);
	printf("    \"set_failures\": %zu,\n", fails);
	printf("    \"runs_after_set_bench\": %zu,\n", rs_runs(rs_rand));
	printf("    \"build_append_ns_per_op\": %.1f,\n", build_ns);
	printf("    \"runs_small\": %zu,\n", rs_runs(small));
	printf("    \"bytes_small\": %zu\n", rs_bytes(small));
	printf("  },\n");
	printf("  \"bitmap\": { \"bytes\": %zu, \"lookup_ns_median\": %.1f },\n",
	       bm_bytes, bm_lookup);
	printf("  \"byte_array\": { \"bytes\": %llu }\n",
	       (unsigned long long)GUEST_PAGES);
	printf("}\n");

	rs_destroy(rs);
	rs_destroy(rs_rand);
	rs_destroy(small);
	free(offs);
	return fails ? 1 : 0;
}
