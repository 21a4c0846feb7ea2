/* SPDX-License-Identifier: MIT */
/*
 * The scenario interpreter: messages (syntax errors, failures, output),
 * the names of errnos and vendor states, and the result every command
 * leaves for the `expect` lines after it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gmem/snp.h"
#include "internal.h"

/* ---- messages ----------------------------------------------------------- */

int sc_syntax(struct scenario *s, const char *fmt, ...)
{
	va_list ap;

	s->sum.failures++;
	s->sum.fail_line = s->pline;
	va_start(ap, fmt);
	vsnprintf(s->sum.fail_msg, sizeof(s->sum.fail_msg), fmt, ap);
	va_end(ap);
	if (s->o.err) {
		fprintf(s->o.err, "%s:%u: ", s->file, s->pline);
		va_start(ap, fmt);
		vfprintf(s->o.err, fmt, ap);
		va_end(ap);
		fputc('\n', s->o.err);
	}
	return -1;
}

void sc_failure(struct scenario *s, unsigned line, const char *fmt, ...)
{
	va_list ap;

	s->sum.failures++;
	if (!s->sum.fail_line) {
		s->sum.fail_line = line;
		va_start(ap, fmt);
		vsnprintf(s->sum.fail_msg, sizeof(s->sum.fail_msg), fmt, ap);
		va_end(ap);
	}
	if (s->o.err) {
		if (s->progress_shown) {
			fputs("\r\033[K", s->o.err);
			s->progress_shown = false;
		}
		fprintf(s->o.err, "%s:%u: ", s->file, line);
		va_start(ap, fmt);
		vfprintf(s->o.err, fmt, ap);
		va_end(ap);
		fputc('\n', s->o.err);
	}
}

void sc_out(struct scenario *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->o.out)
		return;
	va_start(ap, fmt);
	vfprintf(s->o.out, fmt, ap);
	va_end(ap);
}

/* ---- names -------------------------------------------------------------- */

#define E(x) { #x, x }
const struct named sc_errnos[] = {
	E(EINVAL), E(EOPNOTSUPP), E(EAGAIN), E(ENOMEM), E(EFAULT), E(EIO),
	E(EBUSY), E(ENODEV), E(EPERM), E(EEXIST), E(ENOENT), E(ENOSPC),
	E(ERANGE), E(EBADF), E(ENXIO), E(EACCES), E(E2BIG), E(EALREADY),
	E(ENOSYS), E(ENOTTY), E(EOVERFLOW), E(ESRCH), E(EINTR),
	{ "ENOTSUP", ENOTSUP }, { NULL, 0 },
};
#undef E

/* Vendor states as `expect page` words; the platform decides which apply. */
const struct named sc_rmp_states[] = {
	{ "rmp-shared", GMEM_RMP_SHARED }, { "rmp-assigned", GMEM_RMP_ASSIGNED },
	{ "rmp-validated", GMEM_RMP_VALIDATED }, { NULL, 0 },
};
const struct named sc_sept_states[] = {
	{ "sept-unmapped", GMEM_SEPT_UNMAPPED }, { "sept-pending", GMEM_SEPT_PENDING },
	{ "sept-mapped", GMEM_SEPT_MAPPED }, { NULL, 0 },
};

const struct named *sc_lookup(const struct named *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

const char *sc_name_of(const struct named *t, long val)
{
	for (; t->name; t++)
		if (t->val == val)
			return t->name;
	return NULL;
}

const char *sc_errno_name(int e)
{
	const char *n = sc_name_of(sc_errnos, e);

	return n ? n : "E?";
}

const char *scenario_vendor_state_name(const char *platform, int state)
{
	const char *n = NULL;

	if (platform && !strcmp(platform, "snp"))
		n = sc_name_of(sc_rmp_states, state);
	else if (platform && !strcmp(platform, "tdx"))
		n = sc_name_of(sc_sept_states, state);
	return n ? n : "-";
}

/* ---- results ------------------------------------------------------------ */

void sc_set_result(struct scenario *s, struct step *st, int ret)
{
	struct result *r = &s->res;

	memset(r, 0, sizeof(*r));
	r->line = st->line;
	r->what = st->src ? st->src : st->verb->name;
	if (ret == 0) {
		r->kind = RES_OK;
	} else {
		r->kind = RES_ERR;
		r->err = -ret;
	}
}

void sc_describe_result(const struct result *r, char *buf, size_t n)
{
	int k;

	switch (r->kind) {
	case RES_OK:
		snprintf(buf, n, "ok");
		return;
	case RES_SIGBUS:
		snprintf(buf, n, "SIGBUS");
		return;
	case RES_ERR:
		k = snprintf(buf, n, "%s (%s)", sc_errno_name(r->err), strerror(r->err));
		if (r->has_off && k > 0 && (size_t)k < n)
			k += snprintf(buf + k, n - (size_t)k, " offset 0x%llx",
				      (unsigned long long)r->off);
		if (r->has_fw && r->fw && k > 0 && (size_t)k < n)
			snprintf(buf + k, n - (size_t)k, " firmware error 0x%x", r->fw);
		return;
	default:
		snprintf(buf, n, "no command yet");
	}
}

/* A failed command nobody expected fails the scenario and stops it. */
void sc_check_unexpected(struct scenario *s)
{
	struct result *r = &s->res;
	char d[160];

	if (r->checked || r->kind == RES_NONE || r->kind == RES_OK)
		return;
	r->checked = true;
	sc_describe_result(r, d, sizeof(d));
	sc_failure(s, r->line, "'%s' failed: %s (add 'expect %s' after it if that is intended)",
		   r->what, d, r->kind == RES_SIGBUS ? "sigbus" : "error ...");
	s->stop = true;
}
