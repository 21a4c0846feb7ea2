/* SPDX-License-Identifier: MIT */
/*
 * Benchmark 8: interleaved runs with a host view mapped.  A shared gmem of
 * 2N pages (every 64th page populated through the view) has every other
 * page converted to private, one conversion each: N private runs, 2N + 1
 * runs in all, for N = 10^3 ... 10^6 (10^5 in a quick run).  Reported per
 * conversion: the time, and the VMAs the view holds at the end; then the
 * time of one conversion of everything back to shared (-1: it failed, as
 * covers do at vm.max_map_count), and of a raw fork
 * (syscall(SYS_fork), the child exits at once) with that view mapped, the
 * cost the view's protection against children adds to a fork.
 *
 * Side by side: "markers" (the view as it is: poison markers) and "covers"
 * (every run under a SIGBUS cover mapping, one VMA per run: the mechanism
 * of views userfaultfd cannot register, and the only one before markers).
 * Covers stop at vm.max_map_count: `covers_done` says how many of the N
 * conversions went through before the first -ENOMEM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "suite/gfix.h"
#include "internal.h"

#define PG 4096ULL

static long view_vmas(const uint8_t *p, uint64_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long s, e, lo = (unsigned long)p, hi = lo + len;
	char line[512];
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s >= lo && e <= hi)
			n++;
	fclose(f);
	return n;
}

static double fork_us(void)
{
	double t0 = bench_now_us();
	pid_t pid = (pid_t)syscall(SYS_fork);

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -1;
	waitpid(pid, NULL, 0);
	return bench_now_us() - t0;
}

struct scale_res {
	double conv_us, vmas_per_conv, back_us, fork_us;
	uint64_t done;
};

static int scale_one(uint64_t n, bool markers, struct scale_res *res)
{
	struct gfix f;
	double t0, fk[5];
	uint64_t k;
	long vmas;
	int ret;

	gmem__view_markers(markers);
	ret = gfix_create(&f, "emulated", "default", 2 * n * PG, false);
	if (ret) {
		gmem__view_markers(true);
		return ret;
	}
	for (k = 0; k < 2 * n; k += 64)
		f.view[k * PG] = 1;
	t0 = bench_now_us();
	for (k = 0; k < n; k++)
		if (gfix_convert(&f, (2 * k + 1) * PG, PG, true, 0))
			break;
	res->done = k;
	res->conv_us = k ? (bench_now_us() - t0) / (double)k : 0;
	vmas = view_vmas(f.view, f.size);
	res->vmas_per_conv = k ? (double)vmas / (double)k : 0;
	for (unsigned i = 0; i < 5; i++)
		fk[i] = fork_us();
	res->fork_us = fk[0];
	for (unsigned i = 1; i < 5; i++)
		if (fk[i] < res->fork_us)
			res->fork_us = fk[i];
	t0 = bench_now_us();
	ret = gfix_convert(&f, 0, f.size, false, GMEM_CONTENT_PRESERVE);
	res->back_us = ret ? -1 : bench_now_us() - t0;
	gfix_destroy(&f);
	gmem__view_markers(true);
	/* covers at vm.max_map_count: -ENOMEM is the figure, not a failure */
	return markers ? ret : 0;
}

int bench_scale(const struct bench_opts *o)
{
	uint64_t nmax = o->quick ? 100000 : 1000000;
	struct scale_res m = { 0 }, c = { 0 };
	bool all_met = true;
	int ret;

	for (uint64_t n = 1000; n <= nmax; n *= 10) {
		struct bench_rec *rec;

		ret = scale_one(n, true, &m);
		if (!ret)
			ret = scale_one(n, false, &c);
		if (ret)
			return ret;
		rec = bench_rec_new("scale", "%llu interleaved runs",
				    (unsigned long long)n);
		bench_rec_num(rec, "runs", "", (double)n);
		bench_rec_num(rec, "markers_us_per_conv", "us", m.conv_us);
		bench_rec_num(rec, "markers_vmas_per_conv", "", m.vmas_per_conv);
		bench_rec_num(rec, "markers_all_shared", "us", m.back_us);
		bench_rec_num(rec, "markers_fork", "us", m.fork_us);
		bench_rec_num(rec, "covers_done", "", (double)c.done);
		bench_rec_num(rec, "covers_us_per_conv", "us", c.conv_us);
		bench_rec_num(rec, "covers_vmas_per_conv", "", c.vmas_per_conv);
		bench_rec_num(rec, "covers_all_shared", "us", c.back_us);
		bench_rec_num(rec, "covers_fork", "us", c.fork_us);
		if (o->log)
			fprintf(o->log, "  %7llu runs: markers %.2f us/conv, %.5f VMAs/conv, fork %.0f us; covers %llu done, %.2f us/conv, %.3f VMAs/conv, fork %.0f us\n",
				(unsigned long long)n, m.conv_us, m.vmas_per_conv,
				m.fork_us, (unsigned long long)c.done, c.conv_us,
				c.vmas_per_conv, c.fork_us);
		if (m.done != n)
			all_met = false;
	}
	bench_target("Interleaved runs with a host view: no wall",
		     "all N conversions, VMAs <= 8",
		     all_met && m.vmas_per_conv * (double)m.done <= 8,
		     "emulated backend, poison markers; the cover mapping per run stops at vm.max_map_count",
		     "%llu of %llu runs, %.0f VMAs",
		     (unsigned long long)m.done, (unsigned long long)nmax,
		     m.vmas_per_conv * (double)m.done);
	return 0;
}
