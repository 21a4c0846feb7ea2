/* SPDX-License-Identifier: MIT */
/*
 * Benchmarks 1 and 7: PRESERVE and ZERO conversions in both directions,
 * populated and not, against the two-backing way (bench/baselines/
 * two_backing.c), on the emulated backend and on a real guest_memfd (kvm).
 *
 * Each timed step is the conversion plus the new owner touching every page
 * of the range once: the host writes one byte per page of its view after a
 * conversion to shared; after a conversion to private the guest writes 8
 * bytes per page (through gmem_guest_access() for libgmem, straight into
 * the private side for the baseline).  Both sides are prepared the same way
 * before every repetition (populated by the owner, or punched out), outside
 * the timing, and timed one right after the other: the ratio of each pair
 * is one sample of the speedup.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "suite/gfix.h"
#include "baselines/two_backing.h"

#define PAIR_SIZE (2 * MiB)	/* small ranges are timed in batches up to this */
#define MAX_BATCH 64
#define MAX_REPS 41

struct conv_case {
	uint64_t size;
	uint64_t mode;		/* GMEM_CONTENT_PRESERVE or _ZERO */
	bool to_private;
	bool populated;
	bool round_trip;	/* shared -> private -> shared, then the host touch */
	const char *backend;
	const char *group;
};

struct conv_side {
	double us[MAX_REPS];
	double peak_extra;	/* bytes above the RSS before, at most */
};

static const char *mode_name(uint64_t mode)
{
	return mode == GMEM_CONTENT_ZERO ? "ZERO" : "PRESERVE";
}

static unsigned batch_of(uint64_t size)
{
	uint64_t b = size < PAIR_SIZE ? PAIR_SIZE / size : 1;

	return b > MAX_BATCH ? MAX_BATCH : (unsigned)b;
}

static unsigned reps_of(const struct bench_opts *o, uint64_t size)
{
	if (size <= PAIR_SIZE)
		return o->quick ? 9 : 21;
	if (size <= 64 * MiB)
		return o->quick ? 3 : 7;
	return 3;
}

static void peak_note(struct conv_side *s, uint64_t rss0)
{
	uint64_t peak = bench_rss_peak();
	double extra = peak > rss0 ? (double)(peak - rss0) : 0;

	if (extra > s->peak_extra)
		s->peak_extra = extra;
}

static int gmem_once(struct gfix *f, const struct conv_case *c, unsigned batch,
		     struct conv_side *s, unsigned r)
{
	bool from_private = c->round_trip ? false : !c->to_private;
	uint64_t rss0;
	double t0;
	int ret = 0;

	for (unsigned b = 0; b < batch && !ret; b++)
		ret = gfix_prepare(f, b * c->size, c->size, from_private,
				   c->populated);
	if (ret)
		return ret;
	rss0 = bench_rss_reset();
	t0 = bench_now_us();
	for (unsigned b = 0; b < batch && !ret; b++) {
		uint64_t off = b * c->size;

		if (c->round_trip) {
			ret = gfix_convert(f, off, c->size, true, c->mode);
			if (!ret)
				ret = gfix_convert(f, off, c->size, false, c->mode);
			bench_touch(f->view + off, c->size);
		} else {
			ret = gfix_convert(f, off, c->size, c->to_private, c->mode);
			if (ret)
				break;
			if (c->to_private)
				ret = gfix_guest_touch(f, off, c->size);
			else
				bench_touch(f->view + off, c->size);
		}
	}
	s->us[r] = (bench_now_us() - t0) / batch;
	peak_note(s, rss0);
	return ret;
}

static int baseline_once(struct two_backing *tb, const struct conv_case *c,
			 unsigned batch, struct conv_side *s, unsigned r)
{
	bool preserve = c->mode == GMEM_CONTENT_PRESERVE;
	bool from_private = c->round_trip ? false : !c->to_private;
	uint64_t len = batch * c->size, rss0;
	double t0;
	int ret = tb_reset(tb, 0, len, from_private);

	if (ret)
		return ret;
	if (c->populated)
		bench_fill(from_private ? tb->priv : tb->shared, len, 0x5a);
	rss0 = bench_rss_reset();
	t0 = bench_now_us();
	for (unsigned b = 0; b < batch && !ret; b++) {
		uint64_t off = b * c->size;

		if (c->round_trip) {
			ret = tb_convert(tb, off, c->size, true, preserve);
			if (!ret)
				ret = tb_convert(tb, off, c->size, false, preserve);
			bench_touch(tb->shared + off, c->size);
		} else {
			ret = tb_convert(tb, off, c->size, c->to_private, preserve);
			bench_touch((c->to_private ? tb->priv : tb->shared) + off,
				    c->size);
		}
	}
	s->us[r] = (bench_now_us() - t0) / batch;
	peak_note(s, rss0);
	return ret;
}

static const char *case_name(const struct conv_case *c, char *buf, size_t n)
{
	snprintf(buf, n, "%s %s %s %s%s%s", mode_name(c->mode),
		 c->round_trip ? "round-trip" :
		 c->to_private ? "to-private" : "to-shared",
		 bench_size_str(c->size),
		 c->populated ? "populated" : "unpopulated",
		 strcmp(c->group, "conversion") ? ", " : "",
		 strcmp(c->group, "conversion") ? c->backend : "");
	return buf;
}

static int run_case(const struct bench_opts *o, const struct conv_case *c)
{
	unsigned batch = batch_of(c->size), reps = reps_of(o, c->size);
	uint64_t total = batch * c->size;
	static struct conv_side gs, bs;
	double ratio[MAX_REPS];
	struct two_backing tb;
	struct bench_rec *rec;
	struct gfix f;
	char name[80];
	int ret;

	ret = gfix_create(&f, c->backend, "default", total, !c->to_private);
	if (ret)
		return ret;
	ret = tb_create(&tb, total, !c->to_private);
	if (ret) {
		gfix_destroy(&f);
		return ret;
	}
	memset(&gs, 0, sizeof(gs));
	memset(&bs, 0, sizeof(bs));
	for (unsigned r = 0; r < reps && !ret; r++) {
		ret = gmem_once(&f, c, batch, &gs, r);
		if (!ret)
			ret = baseline_once(&tb, c, batch, &bs, r);
		ratio[r] = bs.us[r] / gs.us[r];
	}
	tb_destroy(&tb);
	gfix_destroy(&f);
	if (ret)
		return ret;

	rec = bench_rec_new(c->group, "%s", case_name(c, name, sizeof(name)));
	bench_rec_str(rec, "backend", c->backend);
	bench_rec_str(rec, "mode", mode_name(c->mode));
	bench_rec_str(rec, "direction", c->round_trip ? "round-trip" :
		      c->to_private ? "to-private" : "to-shared");
	bench_rec_num(rec, "size", "B", (double)c->size);
	bench_rec_num(rec, "populated", "", c->populated);
	bench_rec_stat(rec, "gmem", "us", gs.us, reps);
	bench_rec_stat(rec, "two_backing", "us", bs.us, reps);
	bench_rec_stat(rec, "speedup", "x", ratio, reps);
	bench_rec_num(rec, "gmem_peak_extra", "x", gs.peak_extra / (double)total);
	bench_rec_num(rec, "two_backing_peak_extra", "x",
		      bs.peak_extra / (double)total);
	if (o->log)
		fprintf(o->log, "  %-44s %-8s gmem %10.1f us  two-backing %10.1f us  x%.1f\n",
			name, c->backend, bench_rec_get(rec, "gmem"),
			bench_rec_get(rec, "two_backing"),
			bench_rec_get(rec, "speedup"));
	return 0;
}

static void conversion_targets(void)
{
	struct bench_rec *r = bench_rec_find("conversion",
					     "PRESERVE to-shared 2 MiB populated");
	struct bench_rec *rt = bench_rec_find("conversion",
					      "PRESERVE round-trip 2 MiB populated");
	double s = bench_rec_get(r, "speedup"), srt = bench_rec_get(rt, "speedup");
	double extra = bench_rec_get(r, "gmem_peak_extra");
	double bextra = bench_rec_get(rt, "two_backing_peak_extra");

	if (!r || !rt)
		return;
	bench_target("PRESERVE 2 MiB populated, with the host's touch, vs two-backing",
		     ">= 20x faster", s >= 20 && srt >= 20,
		     "to-shared; round trip shared-private-shared alongside",
		     "%.1fx (round trip %.1fx)", s, srt);
	bench_target("PRESERVE 2 MiB populated: extra memory at peak",
		     "zero (two-backing 2x)", extra < 0.05,
		     "peak RSS above the RSS before, per byte converted",
		     "%.2fx of the range (two-backing +%.2fx)", extra, bextra);
}

int bench_conversion(const struct bench_opts *o)
{
	static const uint64_t sizes[] = { 4 * KiB, 64 * KiB, 2 * MiB, 64 * MiB,
					  1 * GiB };
	static const uint64_t modes[] = { GMEM_CONTENT_PRESERVE, GMEM_CONTENT_ZERO };
	uint64_t max = o->quick ? 64 * MiB : 1 * GiB;
	struct conv_case c = { .backend = "emulated", .group = "conversion" };
	int ret = 0;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		if (sizes[s] > max)
			continue;
		c.size = sizes[s];
		for (int m = 0; m < 2; m++) {
			c.mode = modes[m];
			for (int pop = 1; pop >= 0; pop--) {
				c.populated = pop;
				for (int dir = 0; dir < 2 && !ret; dir++) {
					c.to_private = dir;
					ret = run_case(o, &c);
				}
			}
		}
	}
	c = (struct conv_case){ .backend = "emulated", .group = "conversion",
				.size = 2 * MiB, .mode = GMEM_CONTENT_PRESERVE,
				.populated = true, .round_trip = true };
	if (!ret)
		ret = run_case(o, &c);
	if (!ret)
		conversion_targets();
	if (ret)
		return ret;

	/* 7: the same on a real guest_memfd, where this kernel has one. */
	if (gmem_backend_probe("kvm", NULL)) {
		bench_target("kvm backend conversions", "measured", -1,
			     "no guest_memfd with MMAP | INIT_SHARED here",
			     "skipped");
		return 0;
	}
	c = (struct conv_case){ .group = "kvm", .populated = true };
	for (int b = 0; b < 2 && !ret; b++) {
		c.backend = b ? "emulated" : "kvm";
		for (int m = 0; m < 2 && !ret; m++) {
			c.mode = modes[m];
			for (int s = 0; s < (o->quick ? 1 : 2) && !ret; s++) {
				c.size = s ? 64 * MiB : 2 * MiB;
				for (int dir = 0; dir < 2 && !ret; dir++) {
					c.to_private = dir;
					ret = run_case(o, &c);
				}
			}
		}
	}
	return ret;
}
