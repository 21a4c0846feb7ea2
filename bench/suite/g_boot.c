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
 * DESIGN.md §5 sets the target on the conversions (about 1 us each); the
 * total with the host's touches is reported beside it.
 *
 * The floors: the least the kernel lets any user-space design do for the
 * same sequence while every private page raises SIGBUS at every instant,
 * with each of its two mechanisms alone and the cheaper of the two per
 * conversion:
 *  - mmap: one mmap(MAP_FIXED) per conversion on a 64 GiB shared mapping
 *    (the empty file over a range to take it away, the file again to give
 *    it back);
 *  - markers: the whole mapping poisoned up front (userfaultfd, not timed:
 *    its cost and page tables are reported apart), then a zap and a
 *    UFFDIO_POISON per conversion to private, a zap per conversion to
 *    shared;
 *  - per_step: the sum over the conversions of the cheaper of the two.
 * And the one way to need no system call for a range the view never
 * populated: a thread that resolves the host's faults (userfaultfd missing
 * mode, UFFDIO_ZEROPAGE), so that shared and private holes differ only in
 * its answer.  Its cost is a round trip on every first touch, measured
 * against a plain first touch of a fresh page.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "suite/gfix.h"
#include "baselines/two_backing.h"
#include "gmem/uapi.h"

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
	double marks_total[BOOT_REPS], marks_conv[BOOT_REPS];
	double marks_setup[BOOT_REPS], per_step[BOOT_REPS];
	double peak, tb_peak, marks_pte;
};

/*
 * The sequence through one design's conversion, the host writing the first
 * page of each range it is given through view: the total and the time
 * inside the conversions (microseconds), and each conversion's in step_us
 * (NULL: not kept).
 */
typedef int (*convert_fn)(void *ctx, const struct step *st);

static int run_steps(convert_fn convert, void *ctx, uint8_t *view,
		     double *total, double *conv, double *step_us)
{
	double t0 = bench_now_us(), c0, d;
	int ret = 0;

	*conv = 0;
	for (unsigned i = 0; i < BOOT_CONVERSIONS && !ret; i++) {
		c0 = bench_now_us();
		ret = convert(ctx, &steps[i]);
		d = bench_now_us() - c0;
		*conv += d;
		if (step_us)
			step_us[i] = d;
		if (steps[i].touch && !ret)
			view[steps[i].off] = 1;
	}
	*total = bench_now_us() - t0;
	return ret;
}

static int gmem_step(void *ctx, const struct step *st)
{
	return gfix_convert(ctx, st->off, st->len, st->to_private, 0);
}

static int boot_gmem(struct boot_run *b, unsigned r)
{
	struct gfix f;
	uint64_t rss0;
	int ret = gfix_create(&f, "emulated", "default", BOOT_SIZE, true);

	if (ret)
		return ret;
	rss0 = bench_rss_reset();
	ret = run_steps(gmem_step, &f, f.view, &b->total[r], &b->conv[r], NULL);
	if (bench_rss_peak() - rss0 > b->peak)
		b->peak = (double)(bench_rss_peak() - rss0);
	gfix_destroy(&f);
	return ret;
}

static int baseline_step(void *ctx, const struct step *st)
{
	return tb_convert(ctx, st->off, st->len, st->to_private, false);
}

static int boot_baseline(struct boot_run *b, unsigned r)
{
	struct two_backing tb;
	uint64_t rss0;
	int ret = tb_create(&tb, BOOT_SIZE, true);

	if (ret)
		return ret;
	rss0 = bench_rss_reset();
	ret = run_steps(baseline_step, &tb, tb.shared, &b->tb_total[r],
			&b->tb_conv[r], NULL);
	if (bench_rss_peak() - rss0 > b->tb_peak)
		b->tb_peak = (double)(bench_rss_peak() - rss0);
	tb_destroy(&tb);
	return ret;
}

static double step_mmap[BOOT_CONVERSIONS], step_marks[BOOT_CONVERSIONS];

/* A userfaultfd with poison markers, [v, v+len) registered; -1 where the
 * kernel has none. */
static int marks_uffd(void *v, uint64_t len)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_POISON,
	};
	struct uffdio_register r = {
		.range = { (uintptr_t)v, len }, .mode = UFFDIO_REGISTER_MODE_WP,
	};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (fd >= 0 && (ioctl(fd, UFFDIO_API, &api) ||
			ioctl(fd, UFFDIO_REGISTER, &r))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int poison(int uffd, uint8_t *a, uint64_t len)
{
	while (len) {
		struct uffdio_poison p = { .range = { (uintptr_t)a, len } };

		if (!ioctl(uffd, UFFDIO_POISON, &p))
			return 0;
		if (errno != EAGAIN || p.updated <= 0)
			return -errno;
		a += p.updated;
		len -= (uint64_t)p.updated;
	}
	return 0;
}

/* A 64 GiB shared mapping of a fresh file of that size, or MAP_FAILED. */
static uint8_t *floor_map(int fd, int map_fd)
{
	if (fd < 0 || map_fd < 0 || ftruncate(fd, (off_t)BOOT_SIZE))
		return MAP_FAILED;
	return mmap(NULL, BOOT_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, map_fd, 0);
}

struct floor {
	uint8_t *v;
	int fd, empty, uffd;
};

/* The file over a range to give it, the empty file to take it away. */
static int mmap_step(void *ctx, const struct step *st)
{
	struct floor *fl = ctx;

	if (mmap(fl->v + st->off, st->len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, st->to_private ? fl->empty : fl->fd,
		 (off_t)st->off) == MAP_FAILED)
		return -errno;
	return 0;
}

/* The mmap floor; per-conversion times in step_mmap[]. */
static int boot_floor(struct boot_run *b, unsigned r)
{
	struct floor fl = {
		.fd = memfd_create("boot-floor", MFD_CLOEXEC),
		.empty = memfd_create("boot-floor-empty", MFD_CLOEXEC),
	};
	int ret = 0;

	fl.v = floor_map(fl.fd, fl.empty);
	if (fl.v == MAP_FAILED)
		ret = -errno;
	else
		ret = run_steps(mmap_step, &fl, fl.v, &b->floor_total[r],
				&b->floor_conv[r], step_mmap);
	if (fl.v != MAP_FAILED)
		munmap(fl.v, BOOT_SIZE);
	if (fl.fd >= 0)
		close(fl.fd);
	if (fl.empty >= 0)
		close(fl.empty);
	return ret;
}

/* A zap, and markers where the range is taken away. */
static int marks_step(void *ctx, const struct step *st)
{
	struct floor *fl = ctx;

	madvise(fl->v + st->off, st->len, MADV_DONTNEED);
	return st->to_private ? poison(fl->uffd, fl->v + st->off, st->len) : 0;
}

/* The markers floor, after boot_floor() of the same repetition (the
 * cheaper of the two per conversion).  1: the kernel has no poison
 * markers (nothing measured). */
static int boot_floor_marks(struct boot_run *b, unsigned r)
{
	struct floor fl = {
		.fd = memfd_create("boot-marks", MFD_CLOEXEC), .uffd = -1,
	};
	double t0;
	uint64_t pte0;
	int ret;

	fl.v = floor_map(fl.fd, fl.fd);
	if (fl.v == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	fl.uffd = marks_uffd(fl.v, BOOT_SIZE);
	if (fl.uffd < 0) {
		ret = 1;
		goto out;
	}
	pte0 = bench_status_bytes("VmPTE");
	t0 = bench_now_us();
	ret = poison(fl.uffd, fl.v, BOOT_SIZE);
	b->marks_setup[r] = bench_now_us() - t0;
	b->marks_pte = (double)(bench_status_bytes("VmPTE") - pte0);
	if (!ret)
		ret = run_steps(marks_step, &fl, fl.v, &b->marks_total[r],
				&b->marks_conv[r], step_marks);
	b->per_step[r] = 0;
	for (unsigned i = 0; i < BOOT_CONVERSIONS && !ret; i++)
		b->per_step[r] += step_marks[i] < step_mmap[i] ?
				  step_marks[i] : step_mmap[i];
out:
	if (fl.uffd >= 0)
		close(fl.uffd);
	if (fl.v != MAP_FAILED)
		munmap(fl.v, BOOT_SIZE);
	if (fl.fd >= 0)
		close(fl.fd);
	return ret;
}

/* ---- a fault-handler thread: first touches through a round trip ---------- */

#define HANDLED_TOUCHES 256

struct handler {
	int uffd;
	uint64_t last;	/* the page whose fault, once answered, ends it */
	struct uffdio_range range;	/* registered */
};

/* Blocks in read(): the quickest a thread can answer a fault. */
static void *handler_run(void *arg)
{
	struct handler *h = arg;
	struct uffdio_zeropage z = { .range.len = 4096 };
	struct uffd_msg m;

	for (;;) {
		if (read(h->uffd, &m, sizeof(m)) != sizeof(m)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* no more answers: the faults go to the kernel */
			ioctl(h->uffd, UFFDIO_UNREGISTER, &h->range);
			return NULL;
		}
		if (m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		z.range.start = m.arg.pagefault.address & ~4095ULL;
		/* EEXIST: a fault already resolved; wake its thread */
		if (ioctl(h->uffd, UFFDIO_ZEROPAGE, &z) && errno == EEXIST)
			ioctl(h->uffd, UFFDIO_WAKE, &z.range);
		if (z.range.start == h->last)
			return NULL;
	}
}

/* Microseconds per first touch of a fresh shared page, plain (direct) and
 * resolved by a handler thread (handled).  1: no userfaultfd here. */
static int boot_handler_touch(double *direct, double *handled)
{
	uint64_t len = HANDLED_TOUCHES * 2 * MiB;
	int fd = memfd_create("boot-handler", MFD_CLOEXEC), ret = 1;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register r = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct handler h = { .uffd = -1 };
	uint8_t *v = MAP_FAILED;
	pthread_t t;
	double t0;

	if (fd < 0 || ftruncate(fd, (off_t)(2 * len)))
		goto out;
	v = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (v == MAP_FAILED)
		goto out;
	t0 = bench_now_us();
	for (unsigned i = 0; i < HANDLED_TOUCHES; i++)
		v[len + i * 2 * MiB] = 1;
	*direct = (bench_now_us() - t0) / HANDLED_TOUCHES;
	h.uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	r.range.start = (uintptr_t)v;
	r.range.len = len;
	h.range = r.range;
	h.last = (uintptr_t)v + len - 4096;	/* touched by nothing else */
	if (h.uffd < 0 || ioctl(h.uffd, UFFDIO_API, &api) ||
	    ioctl(h.uffd, UFFDIO_REGISTER, &r) ||
	    pthread_create(&t, NULL, handler_run, &h))
		goto out;
	t0 = bench_now_us();
	for (unsigned i = 0; i < HANDLED_TOUCHES; i++)
		v[i * 2 * MiB] = 1;
	*handled = (bench_now_us() - t0) / HANDLED_TOUCHES;
	v[len - 4096] = 1;	/* the last fault: the thread answers and ends */
	pthread_join(t, NULL);
	ret = 0;
out:
	if (v != MAP_FAILED)
		munmap(v, 2 * len);
	if (h.uffd >= 0)
		close(h.uffd);
	if (fd >= 0)
		close(fd);
	return ret;
}

int bench_boot(const struct bench_opts *o)
{
	unsigned reps = o->quick ? 3 : BOOT_REPS;
	static struct boot_run b;
	struct bench_rec *rec;
	double conv, total, direct = 0, handled = 0;
	bool marks = true, handler;
	int ret = 0;

	make_steps();
	memset(&b, 0, sizeof(b));
	for (unsigned r = 0; r < reps && !ret; r++) {
		ret = boot_gmem(&b, r);
		if (!ret)
			ret = boot_baseline(&b, r);
		if (!ret)
			ret = boot_floor(&b, r);
		if (!ret && marks) {
			ret = boot_floor_marks(&b, r);
			marks = ret != 1;
			ret = ret == 1 ? 0 : ret;
		}
		b.ratio[r] = b.tb_total[r] / b.total[r];
	}
	if (ret)
		return ret;
	handler = !boot_handler_touch(&direct, &handled);
	rec = bench_rec_new("boot", "64 GiB private, 5000 conversions 4 KiB-2 MiB");
	for (unsigned r = 0; r < reps; r++) {
		double *ms[] = {
			&b.total[r], &b.conv[r], &b.tb_total[r], &b.tb_conv[r],
			&b.floor_total[r], &b.floor_conv[r], &b.marks_total[r],
			&b.marks_conv[r], &b.marks_setup[r], &b.per_step[r],
		};

		for (unsigned k = 0; k < sizeof(ms) / sizeof(ms[0]); k++)
			*ms[k] /= 1e3;
	}
	bench_rec_stat(rec, "in_conversions", "ms", b.conv, reps);
	bench_rec_stat(rec, "total", "ms", b.total, reps);
	bench_rec_stat(rec, "two_backing_total", "ms", b.tb_total, reps);
	bench_rec_stat(rec, "two_backing_in_conversions", "ms", b.tb_conv, reps);
	bench_rec_stat(rec, "speedup", "x", b.ratio, reps);
	bench_rec_stat(rec, "floor_total", "ms", b.floor_total, reps);
	bench_rec_stat(rec, "floor_in_mmap", "ms", b.floor_conv, reps);
	if (marks) {
		bench_rec_stat(rec, "floor_markers_total", "ms", b.marks_total, reps);
		bench_rec_stat(rec, "floor_in_markers", "ms", b.marks_conv, reps);
		bench_rec_stat(rec, "floor_per_step", "ms", b.per_step, reps);
		bench_rec_stat(rec, "markers_setup", "ms", b.marks_setup, reps);
		bench_rec_num(rec, "markers_setup_page_tables", "B", b.marks_pte);
	}
	if (handler) {
		bench_rec_num(rec, "first_touch", "us", direct);
		bench_rec_num(rec, "first_touch_via_handler", "us", handled);
	}
	bench_rec_num(rec, "peak_rss_extra", "B", b.peak);
	bench_rec_num(rec, "two_backing_peak_rss_extra", "B", b.tb_peak);
	conv = bench_rec_get(rec, "in_conversions");
	total = bench_rec_get(rec, "total");
	if (o->log) {
		fprintf(o->log, "  conversions %.2f ms (total %.2f ms), two-backing %.2f ms (%.2f ms), mmap floor %.2f ms (%.2f ms)\n",
			conv, total, bench_rec_get(rec, "two_backing_in_conversions"),
			bench_rec_get(rec, "two_backing_total"),
			bench_rec_get(rec, "floor_in_mmap"),
			bench_rec_get(rec, "floor_total"));
		if (marks)
			fprintf(o->log, "  markers floor %.2f ms (%.2f ms; set-up %.0f ms, %.0f MiB of page tables), cheaper per step %.2f ms\n",
				bench_rec_get(rec, "floor_in_markers"),
				bench_rec_get(rec, "floor_markers_total"),
				bench_rec_get(rec, "markers_setup"),
				b.marks_pte / MiB,
				bench_rec_get(rec, "floor_per_step"));
		if (handler)
			fprintf(o->log, "  first touch %.1f us, through a fault-handler thread %.1f us\n",
				direct, handled);
	}
	bench_target("Boot-like workload: 64 GiB, 5000 conversions",
		     "<= 5 ms in conversions", conv <= 5,
		     "in gmem_set_memory_attributes(); with the host's touch of "
		     "2500 fresh pages in brackets; the kernel's floors: a bare "
		     "mmap(MAP_FIXED) each, poison markers on a view poisoned "
		     "beforehand, the cheaper of the two per conversion",
		     "%.1f ms (%.1f ms); floors %.1f, %.1f, %.1f ms", conv, total,
		     bench_rec_get(rec, "floor_in_mmap"),
		     marks ? bench_rec_get(rec, "floor_in_markers") : -1.0,
		     marks ? bench_rec_get(rec, "floor_per_step") : -1.0);
	return 0;
}
