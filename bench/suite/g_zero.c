/* SPDX-License-Identifier: MIT */
/*
 * Benchmark 2: a ZERO conversion of populated memory against the physical
 * limit, memset() over populated memory of the same kind (a shared memfd
 * mapping with its page tables filled, bench/baselines/memset_bw.c).  The
 * conversion is timed with the new owner's touch of every page afterwards,
 * so that leaving the work to later page faults cannot look fast; the
 * memset baseline is timed alone, and with the same touch after it.  Both
 * sides get freshly allocated, pattern-filled pages before every run.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "suite/gfix.h"
#include "baselines/memset_bw.h"

#define ZREPS 15

struct zero_run {
	double conv[ZREPS], total[ZREPS], ms[ZREPS], ms_touch[ZREPS];
	double frac[ZREPS], frac_touch[ZREPS];
};

static int memset_once(struct memset_buf *m, struct zero_run *z, unsigned r)
{
	double t0;
	int ret = ms_repopulate(m);

	if (ret)
		return ret;
	z->ms[r] = ms_zero(m);
	t0 = bench_now_us();
	bench_touch(m->p, m->size);
	z->ms_touch[r] = z->ms[r] + bench_now_us() - t0;
	return 0;
}

/* The two sides alternate which goes first, so that neither always runs
 * on a machine the other just warmed or cooled. */
static int zero_once(struct gfix *f, struct memset_buf *m, bool to_private,
		     struct zero_run *z, unsigned r)
{
	uint64_t s = f->size;
	double t0, t1, t2;
	int ret = gfix_prepare(f, 0, s, !to_private, true);

	if (!ret && (r & 1))
		ret = memset_once(m, z, r);
	if (ret)
		return ret;
	t0 = bench_now_us();
	ret = gfix_convert(f, 0, s, to_private, GMEM_CONTENT_ZERO);
	t1 = bench_now_us();
	if (ret)
		return ret;
	if (to_private)
		ret = gfix_guest_touch(f, 0, s);
	else
		bench_touch(f->view, s);
	t2 = bench_now_us();
	z->conv[r] = t1 - t0;
	z->total[r] = t2 - t0;

	if (!(r & 1))
		ret = memset_once(m, z, r);
	z->frac[r] = z->ms[r] / z->total[r];
	z->frac_touch[r] = z->ms_touch[r] / z->total[r];
	return ret;
}

static int zero_case(const struct bench_opts *o, uint64_t size, bool to_private)
{
	unsigned reps = o->quick ? 5 : ZREPS;
	static struct zero_run z;
	struct memset_buf m;
	struct bench_rec *rec;
	struct gfix f;
	int ret;

	ret = gfix_create(&f, "emulated", "default", size, true);
	if (ret)
		return ret;
	ret = ms_create(&m, size);
	for (unsigned r = 0; r < reps && !ret; r++)
		ret = zero_once(&f, &m, to_private, &z, r);
	ms_destroy(&m);
	gfix_destroy(&f);
	if (ret)
		return ret;
	rec = bench_rec_new("zero", "ZERO %s %s populated",
			    to_private ? "to-private" : "to-shared",
			    bench_size_str(size));
	bench_rec_num(rec, "size", "B", (double)size);
	bench_rec_stat(rec, "conversion", "us", z.conv, reps);
	bench_rec_stat(rec, "with_touch", "us", z.total, reps);
	bench_rec_stat(rec, "memset", "us", z.ms, reps);
	bench_rec_stat(rec, "memset_touch", "us", z.ms_touch, reps);
	bench_rec_stat(rec, "of_memset", "x", z.frac, reps);
	bench_rec_stat(rec, "of_memset_touch", "x", z.frac_touch, reps);
	bench_rec_num(rec, "gmem_GBps", "GB/s",
		      (double)size / bench_rec_get(rec, "with_touch") / 1e3);
	bench_rec_num(rec, "memset_GBps", "GB/s",
		      (double)size / bench_rec_get(rec, "memset") / 1e3);
	if (o->log)
		fprintf(o->log, "  %-32s conversion %9.0f us, +touch %9.0f us, memset %9.0f us: %.2f of memset\n",
			rec->name, bench_rec_get(rec, "conversion"),
			bench_rec_get(rec, "with_touch"),
			bench_rec_get(rec, "memset"),
			bench_rec_get(rec, "of_memset"));
	return 0;
}

int bench_zero(const struct bench_opts *o)
{
	uint64_t size = o->quick ? 256 * MiB : 1 * GiB;
	struct bench_rec *r;
	double fr, frt;
	int ret = zero_case(o, size, false);

	if (!ret)
		ret = zero_case(o, size, true);
	if (ret)
		return ret;
	r = bench_rec_at(bench_nrecs() - 2);
	fr = bench_rec_get(r, "of_memset");
	frt = bench_rec_get(r, "of_memset_touch");
	bench_target(o->quick ? "ZERO of 256 MiB populated (quick; the target is for >= 1 GiB)"
			      : "ZERO of 1 GiB populated, with the host's touch",
		     ">= 0.95 of memset bandwidth", fr >= 0.95,
		     "to-shared; in brackets against memset followed by the same touch",
		     "%.2f (%.2f)", fr, frt);
	return 0;
}
