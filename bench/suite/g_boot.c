/* SPDX-License-Identifier: MIT */
/*
 * Benchmark 4: a boot-like workload.  A 64 GiB gmem is created private and
 * its host view mapped; then 5,000 conversions of 4 KiB to 2 MiB (size
 * log-uniform, offset random and aligned to the size) go through, as a
 * guest's firmware and early kernel share bounce buffers and take them
 * back: each conversion to shared is followed by the host writing the
 * first page of the range, and every other step takes an earlier range
 * back to private.  The same sequence runs on the two-backing baseline.
 *
 * Reported: the total, the time inside the conversions alone, and the
 * host's accesses (which on both sides fault in fresh pages: memory the
 * guest never touched is allocated on first touch in either design).
 *
 * The floor: the same sequence with nothing but one mmap(MAP_FIXED) per
 * conversion on a 64 GiB shared mapping (the empty file over a range to
 * take it away, the file again to give it back) and the same touches: the
 * least any design that keeps the kernel's SIGBUS on private pages can do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "suite/gfix.h"
#include "baselines/two_backing.h"

#define BOOT_SIZE (64 * GiB)
#define BOOT_CONVERSIONS 5000
#define BOOT_REPS 5

struct step {
	uint64_t off, len;
	bool to_private;
	bool touch;
};

static struct step steps[BOOT_CONVERSIONS];

static uint64_t boot_rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Ranges may overlap: a conversion of pages already in the target state
 * is legal and cheap, as in the kernel. */
static void make_steps(void)
{
	uint64_t s = 0xb007, shared[BOOT_CONVERSIONS], nshared = 0;

	for (unsigned i = 0; i < BOOT_CONVERSIONS; i++) {
		struct step *st = &steps[i];

		if (i % 2 && nshared) {
			uint64_t j = boot_rnd(&s) % nshared;

			st->off = shared[j] >> 8 << 12;
			st->len = 1ULL << (shared[j] & 0xff);
			shared[j] = shared[--nshared];
			st->to_private = true;
			continue;
		}
		unsigned order = 12 + (unsigned)(boot_rnd(&s) % 10);	/* 4K..2M */

		st->len = 1ULL << order;
		st->off = boot_rnd(&s) % (BOOT_SIZE / st->len) * st->len;
		st->touch = true;
		shared[nshared++] = (st->off >> 12) << 8 | order;
	}
}

struct boot_run {
	double total[BOOT_REPS], conv[BOOT_REPS], tb_total[BOOT_REPS];
	double tb_conv[BOOT_REPS], ratio[BOOT_REPS];
	double floor_total[BOOT_REPS], floor_conv[BOOT_REPS];
	double peak, tb_peak;
};

static int boot_gmem(struct boot_run *b, unsigned r)
{
	struct gfix f;
	double conv = 0, t0, c0;
	uint64_t rss0;
	int ret = gfix_create(&f, "emulated", "default", BOOT_SIZE, true);

	if (ret)
		return ret;
	rss0 = bench_rss_reset();
	t0 = bench_now_us();
	for (unsigned i = 0; i < BOOT_CONVERSIONS && !ret; i++) {
		c0 = bench_now_us();
		ret = gfix_convert(&f, steps[i].off, steps[i].len,
				   steps[i].to_private, 0);
		conv += bench_now_us() - c0;
		if (steps[i].touch)
			f.view[steps[i].off] = 1;
	}
	b->total[r] = bench_now_us() - t0;
	b->conv[r] = conv;
	if (bench_rss_peak() - rss0 > b->peak)
		b->peak = (double)(bench_rss_peak() - rss0);
	gfix_destroy(&f);
	return ret;
}

static int boot_baseline(struct boot_run *b, unsigned r)
{
	struct two_backing tb;
	double conv = 0, t0, c0;
	uint64_t rss0;
	int ret = tb_create(&tb, BOOT_SIZE, true);

	if (ret)
		return ret;
	rss0 = bench_rss_reset();
	t0 = bench_now_us();
	for (unsigned i = 0; i < BOOT_CONVERSIONS && !ret; i++) {
		c0 = bench_now_us();
		ret = tb_convert(&tb, steps[i].off, steps[i].len,
				 steps[i].to_private, false);
		conv += bench_now_us() - c0;
		if (steps[i].touch)
			tb.shared[steps[i].off] = 1;
	}
	b->tb_total[r] = bench_now_us() - t0;
	b->tb_conv[r] = conv;
	if (bench_rss_peak() - rss0 > b->tb_peak)
		b->tb_peak = (double)(bench_rss_peak() - rss0);
	tb_destroy(&tb);
	return ret;
}

static int boot_floor(struct boot_run *b, unsigned r)
{
	int fd = memfd_create("boot-floor", MFD_CLOEXEC);
	int empty = memfd_create("boot-floor-empty", MFD_CLOEXEC);
	int rw = PROT_READ | PROT_WRITE, ret = 0;
	double conv = 0, t0, c0;
	uint8_t *v = MAP_FAILED;

	if (fd >= 0 && empty >= 0 && !ftruncate(fd, (off_t)BOOT_SIZE))
		v = mmap(NULL, BOOT_SIZE, rw, MAP_SHARED | MAP_NORESERVE, empty, 0);
	if (v == MAP_FAILED)
		ret = -errno;
	t0 = bench_now_us();
	for (unsigned i = 0; i < BOOT_CONVERSIONS && !ret; i++) {
		const struct step *st = &steps[i];

		c0 = bench_now_us();
		if (mmap(v + st->off, st->len, rw, MAP_SHARED | MAP_FIXED,
			 st->to_private ? empty : fd,
			 (off_t)st->off) == MAP_FAILED)
			ret = -errno;
		conv += bench_now_us() - c0;
		if (st->touch && !ret)
			v[st->off] = 1;
	}
	b->floor_total[r] = bench_now_us() - t0;
	b->floor_conv[r] = conv;
	if (v != MAP_FAILED)
		munmap(v, BOOT_SIZE);
	if (fd >= 0)
		close(fd);
	if (empty >= 0)
		close(empty);
	return ret;
}

int bench_boot(const struct bench_opts *o)
{
	unsigned reps = o->quick ? 3 : BOOT_REPS;
	static struct boot_run b;
	struct bench_rec *rec;
	double conv, total;
	int ret = 0;

	make_steps();
	memset(&b, 0, sizeof(b));
	for (unsigned r = 0; r < reps && !ret; r++) {
		ret = boot_gmem(&b, r);
		if (!ret)
			ret = boot_baseline(&b, r);
		if (!ret)
			ret = boot_floor(&b, r);
		b.ratio[r] = b.tb_total[r] / b.total[r];
	}
	if (ret)
		return ret;
	rec = bench_rec_new("boot", "64 GiB private, 5000 conversions 4 KiB-2 MiB");
	for (unsigned r = 0; r < reps; r++) {
		b.total[r] /= 1e3;
		b.conv[r] /= 1e3;
		b.tb_total[r] /= 1e3;
		b.tb_conv[r] /= 1e3;
		b.floor_total[r] /= 1e3;
		b.floor_conv[r] /= 1e3;
	}
	bench_rec_stat(rec, "total", "ms", b.total, reps);
	bench_rec_stat(rec, "in_conversions", "ms", b.conv, reps);
	bench_rec_stat(rec, "two_backing_total", "ms", b.tb_total, reps);
	bench_rec_stat(rec, "two_backing_in_conversions", "ms", b.tb_conv, reps);
	bench_rec_stat(rec, "speedup", "x", b.ratio, reps);
	bench_rec_stat(rec, "floor_total", "ms", b.floor_total, reps);
	bench_rec_stat(rec, "floor_in_mmap", "ms", b.floor_conv, reps);
	bench_rec_num(rec, "peak_rss_extra", "B", b.peak);
	bench_rec_num(rec, "two_backing_peak_rss_extra", "B", b.tb_peak);
	conv = bench_rec_get(rec, "in_conversions");
	total = bench_rec_get(rec, "total");
	if (o->log)
		fprintf(o->log, "  total %.2f ms (conversions %.2f ms), two-backing %.2f ms (%.2f ms), mmap floor %.2f ms (%.2f ms)\n",
			total, conv, bench_rec_get(rec, "two_backing_total"),
			bench_rec_get(rec, "two_backing_in_conversions"),
			bench_rec_get(rec, "floor_total"),
			bench_rec_get(rec, "floor_in_mmap"));
	bench_target("Boot-like workload: 64 GiB, 5000 conversions",
		     "<= 5 ms total", total <= 5,
		     "total includes the host's first touch of 2500 fresh pages; "
		     "in brackets: inside gmem_set_memory_attributes(), and the "
		     "floor of one bare mmap(MAP_FIXED) per conversion",
		     "%.1f ms (%.1f ms in conversions; floor %.1f ms)", total, conv,
		     bench_rec_get(rec, "floor_in_mmap"));
	return 0;
}
