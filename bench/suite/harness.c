/* SPDX-License-Identifier: MIT */
/* The benchmark harness: clocks, statistics, peak RSS and the records the
 * groups fill in. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_stat_of(struct bench_stat *s, const double *v, unsigned n)
{
	double *c;

	memset(s, 0, sizeof(*s));
	s->med = s->min = s->max = NAN;
	if (!n)
		return;
	c = malloc(n * sizeof(*c));
	if (!c)
		return;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	s->n = n;
	s->min = c[0];
	s->max = c[n - 1];
	/* even n: mean of the two middle values */
	s->med = n & 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
}

/* A size field of /proc/self/status (VmRSS, VmHWM, VmPTE), in bytes. */
uint64_t bench_status_bytes(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoull(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v * 1024;
}

uint64_t bench_rss_now(void)
{
	return bench_status_bytes("VmRSS");
}

uint64_t bench_rss_peak(void)
{
	return bench_status_bytes("VmHWM");
}

/* Writing 5 to clear_refs resets the peak RSS to the current RSS. */
uint64_t bench_rss_reset(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "5", 1) != 1)
			(void)0;	/* then VmHWM is the process peak */
		close(fd);
	}
	return bench_rss_now();
}

void bench_touch(void *p, uint64_t len)
{
	volatile unsigned char *b = p;

	for (uint64_t i = 0; i < len; i += 4096)
		b[i] = (unsigned char)(b[i] + 1);
}

void bench_fill(void *p, uint64_t len, unsigned char c)
{
	memset(p, c, len);
}

const char *bench_size_str(uint64_t b)
{
	static char buf[8][24];
	static unsigned i;
	char *s = buf[i++ % 8];

	if (b >= GiB && !(b % GiB))
		snprintf(s, 24, "%llu GiB", (unsigned long long)(b / GiB));
	else if (b >= MiB && !(b % MiB))
		snprintf(s, 24, "%llu MiB", (unsigned long long)(b / MiB));
	else if (b >= KiB && !(b % KiB))
		snprintf(s, 24, "%llu KiB", (unsigned long long)(b / KiB));
	else
		snprintf(s, 24, "%llu B", (unsigned long long)b);
	return s;
}

/* ---- records ----------------------------------------------------------- */

static struct bench_rec *recs;
static unsigned nrecs, caprecs;
static struct bench_target targets[32];
static unsigned ntargets;

struct bench_rec *bench_rec_new(const char *group, const char *fmt, ...)
{
	struct bench_rec *r;
	va_list ap;

	if (nrecs == caprecs) {
		unsigned n = caprecs ? 2 * caprecs : 64;
		struct bench_rec *p = realloc(recs, n * sizeof(*p));

		if (!p)
			abort();	/* the suite cannot go on without it */
		recs = p;
		caprecs = n;
	}
	r = &recs[nrecs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->group, sizeof(r->group), "%s", group);
	va_start(ap, fmt);
	vsnprintf(r->name, sizeof(r->name), fmt, ap);
	va_end(ap);
	return r;
}

static struct bench_field *field_add(struct bench_rec *r, const char *key,
				     enum bench_field_kind kind,
				     const char *unit)
{
	struct bench_field *f;

	if (r->nfields == BENCH_MAX_FIELDS)
		abort();	/* a group declares more than the table holds */
	f = &r->f[r->nfields++];
	memset(f, 0, sizeof(*f));
	snprintf(f->key, sizeof(f->key), "%s", key);
	snprintf(f->unit, sizeof(f->unit), "%s", unit ? unit : "");
	f->kind = kind;
	return f;
}

void bench_rec_num(struct bench_rec *r, const char *key, const char *unit,
		   double v)
{
	field_add(r, key, BF_NUM, unit)->num = v;
}

void bench_rec_str(struct bench_rec *r, const char *key, const char *v)
{
	snprintf(field_add(r, key, BF_STR, NULL)->str, 64, "%s", v);
}

void bench_rec_stat(struct bench_rec *r, const char *key, const char *unit,
		    const double *v, unsigned n)
{
	bench_stat_of(&field_add(r, key, BF_STAT, unit)->st, v, n);
}

double bench_rec_get(const struct bench_rec *r, const char *key)
{
	if (!r)
		return NAN;
	for (unsigned i = 0; i < r->nfields; i++)
		if (!strcmp(r->f[i].key, key))
			return r->f[i].kind == BF_STAT ? r->f[i].st.med
						       : r->f[i].num;
	return NAN;
}

struct bench_rec *bench_rec_find(const char *group, const char *name)
{
	for (unsigned i = 0; i < nrecs; i++)
		if (!strcmp(recs[i].group, group) && !strcmp(recs[i].name, name))
			return &recs[i];
	return NULL;
}

unsigned bench_nrecs(void) { return nrecs; }
struct bench_rec *bench_rec_at(unsigned i) { return &recs[i]; }

void bench_recs_free(void)
{
	free(recs);
	recs = NULL;
	nrecs = caprecs = 0;
	ntargets = 0;
}

void bench_target(const char *name, const char *want, int met,
		  const char *note, const char *got_fmt, ...)
{
	struct bench_target *t;
	va_list ap;

	if (ntargets == sizeof(targets) / sizeof(targets[0]))
		return;
	t = &targets[ntargets++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->want, sizeof(t->want), "%s", want);
	snprintf(t->note, sizeof(t->note), "%s", note ? note : "");
	t->met = met;
	va_start(ap, got_fmt);
	vsnprintf(t->got, sizeof(t->got), got_fmt, ap);
	va_end(ap);
}

unsigned bench_ntargets(void) { return ntargets; }
const struct bench_target *bench_target_at(unsigned i) { return &targets[i]; }

/* ---- the suite --------------------------------------------------------- */

const struct bench_group bench_groups[] = {
	{ "conversion", "In-place conversion vs the two-backing way (1, 7)",
	  bench_conversion },
	{ "zero", "ZERO vs memset bandwidth (2)", bench_zero },
	{ "attrs", "Attribute store scaling (3)", bench_attrs },
	{ "boot", "Boot-like workload (4)", bench_boot },
	{ "tdx", "TDX memset skip (5)", bench_tdx },
	{ "views", "Host view revocation vs the bare syscall (6)", bench_views },
	{ "scale", "Interleaved runs with a host view (8)", bench_scale },
	{ NULL, NULL, NULL },
};

int bench_run(const struct bench_opts *o)
{
	int ret = 0;

	for (const struct bench_group *g = bench_groups; g->name; g++) {
		double t0 = bench_now_us();
		int r;

		if (o->only && strcmp(o->only, g->name))
			continue;
		if (o->log)
			fprintf(o->log, "bench: %s ...\n", g->title);
		r = g->run(o);
		if (o->log)
			fprintf(o->log, "bench: %s: %s in %.1f s\n", g->name,
				r ? strerror(-r) : "done",
				(bench_now_us() - t0) / 1e6);
		if (r && !ret)
			ret = r;
	}
	return ret;
}
