/* SPDX-License-Identifier: MIT */
/*
 * The benchmark suite of libgmem (DESIGN.md §5): one harness shared by the
 * bench driver (bench/gmem_bench.c, `make bench`) and `gmemctl bench`.
 *
 * Every figure is the median of repeated runs with its min and max; every
 * comparison is a ratio computed per repetition against a baseline run in
 * the same process right next to it (bench/baselines/), then summarised
 * the same way.  Results are kept as records (group, name, fields) and
 * written as JSON, a Markdown table and SVG plots (bench/suite/report.c).
 */
#ifndef GMEM_BENCH_H
#define GMEM_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

struct bench_opts {
	bool quick;		/* CI: small sizes, few repetitions, < 60 s */
	const char *only;	/* run only this group (NULL: all) */
	FILE *log;		/* progress lines, or NULL */
};

/* Median, min and max of repeated measurements. */
struct bench_stat {
	double med, min, max;
	unsigned n;
};
void bench_stat_of(struct bench_stat *s, const double *v, unsigned n);

double bench_now_us(void);
/* Peak-RSS measurement: reset the high-water mark, later read it.
 * bench_rss_reset() returns the current RSS in bytes. */
uint64_t bench_rss_reset(void);
uint64_t bench_rss_peak(void);
uint64_t bench_rss_now(void);
/* A size field of /proc/self/status ("VmPTE"), in bytes; 0 if absent. */
uint64_t bench_status_bytes(const char *key);
/* Write one byte per 4 KiB page (what "the host touches the range" means). */
void bench_touch(void *p, uint64_t len);
/* Fill with a non-zero pattern (populates the pages). */
void bench_fill(void *p, uint64_t len, unsigned char c);
/* Human size, e.g. "64 KiB"; returns a static buffer (one of 8). */
const char *bench_size_str(uint64_t bytes);

/* ---- records ----------------------------------------------------------- */

enum bench_field_kind { BF_NUM, BF_STR, BF_STAT };

struct bench_field {
	char key[32];
	enum bench_field_kind kind;
	char unit[12];
	double num;
	char str[64];
	struct bench_stat st;
};

#define BENCH_MAX_FIELDS 20

struct bench_rec {
	char group[24];
	char name[80];
	unsigned nfields;
	struct bench_field f[BENCH_MAX_FIELDS];
};

struct bench_rec *bench_rec_new(const char *group, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bench_rec_num(struct bench_rec *r, const char *key, const char *unit,
		   double v);
void bench_rec_str(struct bench_rec *r, const char *key, const char *v);
void bench_rec_stat(struct bench_rec *r, const char *key, const char *unit,
		    const double *v, unsigned n);
/* The median of a stat field, or NAN. */
double bench_rec_get(const struct bench_rec *r, const char *key);
/* The first record of group named name, or NULL. */
struct bench_rec *bench_rec_find(const char *group, const char *name);
unsigned bench_nrecs(void);
struct bench_rec *bench_rec_at(unsigned i);
void bench_recs_free(void);

/* DESIGN.md §5 targets: what was asked, what was measured, met or not. */
struct bench_target {
	char name[80];
	char want[48];
	char got[64];
	int met;		/* 1 met, 0 missed, -1 not measured */
	char note[240];
};
void bench_target(const char *name, const char *want, int met,
		  const char *note, const char *got_fmt, ...)
	__attribute__((format(printf, 5, 6)));
unsigned bench_ntargets(void);
const struct bench_target *bench_target_at(unsigned i);

/* ---- groups (bench/suite/g_*.c) --------------------------------------- */

struct bench_group {
	const char *name;
	const char *title;
	int (*run)(const struct bench_opts *o);
};
extern const struct bench_group bench_groups[];

int bench_conversion(const struct bench_opts *o);	/* 1 and 7 */
int bench_zero(const struct bench_opts *o);		/* 2 */
int bench_attrs(const struct bench_opts *o);		/* 3 */
int bench_boot(const struct bench_opts *o);		/* 4 */
int bench_tdx(const struct bench_opts *o);		/* 5 */
int bench_views(const struct bench_opts *o);		/* 6 */
int bench_scale(const struct bench_opts *o);		/* 8 */

/* Run the selected groups, then evaluate the targets.  Returns 0, or the
 * first negative errno a group returned. */
int bench_run(const struct bench_opts *o);

/* ---- output (bench/suite/report.c) ------------------------------------ */

void bench_write_json(FILE *f, const struct bench_opts *o);
void bench_write_markdown(FILE *f, const struct bench_opts *o,
			  const char *svg_prefix);
/* Writes the SVG plots into dir; returns 0 or -errno. */
int bench_write_svgs(const char *dir);
/* The ratios and targets as a short plain-text summary. */
void bench_write_summary(FILE *f);
/* A description of the machine (kernel, CPU, memory), static buffer. */
const char *bench_machine(void);

#endif
