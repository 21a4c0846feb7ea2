/* SPDX-License-Identifier: MIT */
/*
 * Benchmark 6: the cost of taking a populated range away from the host and
 * giving it back, per conversion pair, against the floor: the bare system
 * calls that could do it.  Each sample is a round trip with the host's
 * touch of every page afterwards.
 *   libgmem       gmem_convert() to private then to shared (PRESERVE)
 *   mprotect      mprotect(PROT_NONE) then mprotect(PROT_READ|PROT_WRITE):
 *                 keeps the page tables, but a touch gives SIGSEGV rather
 *                 than the SIGBUS the kernel gives, so the library cannot
 *                 use it
 *   remap         mmap(MAP_FIXED) of an empty file over the range, then of
 *                 the file again: the page tables are rebuilt by faults
 *   remap+populate  the same with MAP_POPULATE on the way back
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "suite/gfix.h"

#define VREPS 41

enum floor_kind { F_MPROTECT, F_REMAP, F_REMAP_POPULATE, F_NR };
static const char *const floor_names[F_NR] = {
	"mprotect", "remap", "remap_populate",
};

struct floor_map {
	int fd, empty_fd;
	uint8_t *p;
	uint64_t size;
};

static int floor_create(struct floor_map *m, uint64_t size)
{
	m->size = size;
	m->fd = memfd_create("views-floor", MFD_CLOEXEC);
	m->empty_fd = memfd_create("views-empty", MFD_CLOEXEC);
	if (m->fd < 0 || m->empty_fd < 0 || ftruncate(m->fd, (off_t)size))
		return -errno;
	m->p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->p == MAP_FAILED)
		return -errno;
	bench_fill(m->p, size, 0x5a);
	return 0;
}

static void floor_destroy(struct floor_map *m)
{
	munmap(m->p, m->size);
	close(m->fd);
	close(m->empty_fd);
}

static int floor_once(struct floor_map *m, enum floor_kind k)
{
	int rw = PROT_READ | PROT_WRITE, pop = k == F_REMAP_POPULATE ?
		 MAP_POPULATE : 0;

	if (k == F_MPROTECT) {
		if (mprotect(m->p, m->size, PROT_NONE) ||
		    mprotect(m->p, m->size, rw))
			return -errno;
	} else if (mmap(m->p, m->size, rw, MAP_SHARED | MAP_FIXED,
			m->empty_fd, 0) == MAP_FAILED ||
		   mmap(m->p, m->size, rw, MAP_SHARED | MAP_FIXED | pop,
			m->fd, 0) == MAP_FAILED) {
		return -errno;
	}
	bench_touch(m->p, m->size);
	return 0;
}

static int views_case(const struct bench_opts *o, uint64_t size)
{
	unsigned reps = o->quick ? 15 : VREPS;
	double g[VREPS], fl[F_NR][VREPS], ratio[VREPS];
	struct floor_map m;
	struct bench_rec *rec;
	struct gfix f;
	int ret;

	ret = gfix_create(&f, "emulated", "default", size, false);
	if (ret)
		return ret;
	ret = floor_create(&m, size);
	if (!ret)
		bench_fill(f.view, size, 0x5a);
	for (unsigned r = 0; r < reps && !ret; r++) {
		double t0 = bench_now_us();

		ret = gfix_convert(&f, 0, size, true, GMEM_CONTENT_PRESERVE);
		if (!ret)
			ret = gfix_convert(&f, 0, size, false,
					   GMEM_CONTENT_PRESERVE);
		bench_touch(f.view, size);
		g[r] = bench_now_us() - t0;
		for (int k = 0; k < F_NR && !ret; k++) {
			t0 = bench_now_us();
			ret = floor_once(&m, k);
			fl[k][r] = bench_now_us() - t0;
		}
		ratio[r] = g[r] / fl[F_MPROTECT][r];
	}
	floor_destroy(&m);
	gfix_destroy(&f);
	if (ret)
		return ret;
	rec = bench_rec_new("views", "revoke + restore %s populated, host touch",
			    bench_size_str(size));
	bench_rec_num(rec, "size", "B", (double)size);
	bench_rec_stat(rec, "libgmem", "us", g, reps);
	for (int k = 0; k < F_NR; k++)
		bench_rec_stat(rec, floor_names[k], "us", fl[k], reps);
	bench_rec_stat(rec, "over_mprotect", "x", ratio, reps);
	if (o->log)
		fprintf(o->log, "  %-44s libgmem %7.1f us, mprotect %7.1f, remap %7.1f, remap+populate %7.1f\n",
			rec->name, bench_rec_get(rec, "libgmem"),
			bench_rec_get(rec, "mprotect"), bench_rec_get(rec, "remap"),
			bench_rec_get(rec, "remap_populate"));
	return 0;
}

int bench_views(const struct bench_opts *o)
{
	static const uint64_t sizes[] = { 4 * KiB, 64 * KiB, 2 * MiB, 64 * MiB };
	int ret = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && !ret; i++)
		ret = views_case(o, sizes[i]);
	return ret;
}
