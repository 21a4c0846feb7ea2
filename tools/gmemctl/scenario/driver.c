/* SPDX-License-Identifier: MIT */
/*
 * The scenario interpreter's driver: running parsed steps in order, with
 * progress and trace lines, and the interface of ../scenario.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct scenario *scenario_new(const struct scenario_opts *opts)
{
	struct scenario *s = calloc(1, sizeof(*s));

	if (s && opts)
		s->o = *opts;
	return s;
}

static void reset(struct scenario *s)
{
	gmem_vm_destroy(s->vm);	/* destroys its gmem files too */
	s->vm = NULL;
	memset(s->gm, 0, sizeof(s->gm));
	s->ngm = 0;
	memset(&s->res, 0, sizeof(s->res));
	memset(&s->sum, 0, sizeof(s->sum));
	s->npnames = 0;
	s->pvm = false;
	s->stop = false;
	s->bytes = 0;
	s->progress_shown = false;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	reset(s);
	free(s);
}

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* After a second, a line on a terminal that says how far the script is. */
static void progress(struct scenario *s, unsigned i, unsigned n)
{
	struct timespec now;

	if (!s->o.progress || !s->o.err)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (since(&s->t0, &now) < 1.0 || since(&s->tlast, &now) < 0.2)
		return;
	s->tlast = now;
	fprintf(s->o.err, "\r\033[K%s: step %u of %u", s->file, i + 1, n);
	fflush(s->o.err);
	s->progress_shown = true;
}

static void trace(struct scenario *s, const struct step *st, int ret)
{
	char d[160];

	if (!s->o.trace || st->verb->is_expect)
		return;
	sc_describe_result(&s->res, d, sizeof(d));
	sc_out(s, "%s:%u: %s -> %s\n", s->file, st->line,
	       st->src ? st->src : st->verb->name, ret == 1 ? "SIGBUS" : d);
}

/* A step on a gmem whose creation failed cannot run. */
static bool gmem_missing(struct scenario *s, struct step *st)
{
	if (st->gi < 0 || st->verb->makes_gmem || G(s, st)->g)
		return false;
	sc_failure(s, st->line, "gmem '%s' was not created", s->pnames[st->gi]);
	s->stop = true;
	return true;
}

static bool needs_vm(struct scenario *s, struct step *st)
{
	if (s->vm || st->verb->without_vm)
		return false;
	sc_failure(s, st->line, "the VM was not created");
	s->stop = true;
	return true;
}

/* The bytes a step touches, capped by its file's size (raw conversion
 * ranges may be anything). */
static bool over_budget(struct scenario *s, struct step *st)
{
	uint64_t size, len;

	if (!s->o.max_bytes || st->gi < 0 || !G(s, st)->g)
		return false;
	size = gmem_size(G(s, st)->g);
	len = sc_len_of(s, st);
	s->bytes += len < size ? len : size;
	if (s->bytes <= s->o.max_bytes)
		return false;
	sc_failure(s, st->line, "the scenario touched more than %llu bytes: stopped",
		   (unsigned long long)s->o.max_bytes);
	s->stop = true;
	return true;
}

static void run_steps(struct scenario *s, struct step *steps, unsigned n)
{
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->tlast = s->t0;
	for (unsigned i = 0; i < n && !s->stop; i++) {
		struct step *st = &steps[i];
		int ret;

		progress(s, i, n);
		if (st->verb->checks_result) {
			s->res.checked = true;
			s->sum.expects++;
			st->verb->exec(s, st);
			continue;
		}
		sc_check_unexpected(s);
		if (s->stop || needs_vm(s, st) || gmem_missing(s, st) ||
		    over_budget(s, st))
			break;
		if (st->verb->is_expect) {
			s->sum.expects++;
			st->verb->exec(s, st);
			continue;
		}
		s->sum.commands++;
		ret = st->verb->exec(s, st);
		/* Verbs that set a richer result did so; the rest set it here. */
		if (s->res.line != st->line)
			sc_set_result(s, st, ret == 1 ? 0 : ret);
		trace(s, st, ret);
	}
	sc_check_unexpected(s);
	if (s->progress_shown && s->o.err) {
		fputs("\r\033[K", s->o.err);
		s->progress_shown = false;
	}
}

int scenario_exec(struct scenario *s, const char *buf, size_t len,
		  const char *name)
{
	struct step *steps = NULL;
	unsigned n = 0;
	int ret;

	if (!s)
		return SCENARIO_FAILED;
	reset(s);
	s->file = name ? name : "-";
	s->pline = 0;
	ret = sc_parse_all(s, buf ? buf : "", buf ? len : 0, &steps, &n);
	if (ret == -2) {
		sc_failure(s, s->pline, "out of memory");
		return SCENARIO_FAILED;
	}
	if (ret) {
		/* Nothing ran: drop what the parser declared. */
		s->npnames = 0;
		return SCENARIO_SYNTAX;
	}
	run_steps(s, steps, n);
	sc_free_steps(steps, n);
	return s->sum.failures ? SCENARIO_FAILED : SCENARIO_OK;
}

void scenario_summary(const struct scenario *s, struct scenario_summary *sum)
{
	*sum = s->sum;
}

unsigned scenario_gmem_count(const struct scenario *s)
{
	return s->ngm;
}

struct gmem *scenario_gmem(const struct scenario *s, unsigned i, const char **name)
{
	if (i >= s->ngm)
		return NULL;
	if (name)
		*name = s->gm[i].name;
	return s->gm[i].g;
}

struct gmem_vm *scenario_vm(const struct scenario *s)
{
	return s->vm;
}

int scenario_run_buffer(const char *buf, size_t len, const char *name)
{
	struct scenario_opts o = {
		.max_gmem_size = 64ULL << 20,
		.max_steps = 4096,
		.max_bytes = 1ULL << 30,
	};
	struct scenario *s = scenario_new(&o);
	int ret;

	if (!s)
		return SCENARIO_FAILED;
	ret = scenario_exec(s, buf, len, name);
	scenario_free(s);
	return ret;
}

int scenario_read_file(const char *path, char **bufp, size_t *lenp)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int ret = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = cap > (SIZE_MAX >> 2) ? NULL : realloc(buf, cap ? cap * 2 : 4096);

			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}
