/* SPDX-License-Identifier: MIT */
/*
 * Scenario verbs that read and write through the host, guest and physical
 * views (host, guest, phys, cpuid), with the hex dump of what they read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* VIEW G OFF [+LEN] [DATA] [len N] [private|shared] */
static int p_access(struct scenario *s, struct step *st, bool write)
{
	const char *t;
	int r;

	if (sc_gmem_ref(s, st) || sc_range(s, st, 0))
		return -1;
	while ((t = sc_next(s))) {
		r = sc_access_word(s, st, t, write);
		if (r < 0)
			return -1;
		if (r)
			return sc_syntax(s, "%s: unexpected '%s'%s", s->vname,
					 *t == '"' ? "\"...\"" : t,
					 write ? " (pattern BYTE, zero, text \"...\", cpuid-table, "
					 "cpuid-fixed, len N)" : " (+LEN, len N)");
	}
	if (write && st->data.kind == D_NONE)
		return sc_syntax(s, "%s: what to write? (pattern BYTE, zero, "
				 "text \"...\", cpuid-table, cpuid-fixed)", s->vname);
	if (!st->has_len)
		st->len = write ? sc_data_len(&st->data) : 64;
	return 0;
}

static int p_view_verb(struct scenario *s, struct step *st, enum view v)
{
	const char *t;

	st->view = v;
	if (sc_need(s, &t, "'read' or 'write'"))
		return -1;
	if (!strcmp(t, "read") || !strcmp(t, "write"))
		snprintf(s->vname, sizeof(s->vname), "%s %s", s->tok[0], t);
	if (!strcmp(t, "write") && v != V_PHYS)
		return p_access(s, st, true);
	if (!strcmp(t, "read"))
		return p_access(s, st, false);
	return sc_syntax(s, "%s: '%s'? (%s)", s->vname, t,
			 v == V_PHYS ? "read" : "read or write");
}

static unsigned guest_bits(struct scenario *s, struct step *st)
{
	uint64_t attrs = 0, run;

	if (st->intent == I_PRIVATE)
		return GMEM_ACCESS_PRIVATE;
	if (st->intent == I_SHARED)
		return 0;
	/* Unsaid: what the page is now, as a guest that follows the VMM. */
	if (gmem_get_memory_attributes(G(s, st)->g, st->off & ~(PAGE - 1),
				       &attrs, &run))
		return 0;
	return (attrs & GMEM_ATTR_PRIVATE) ? GMEM_ACCESS_PRIVATE : 0;
}

/* Move len bytes between buf and a view.  For the guest, a memory fault
 * reports the faulting page as the error offset. */
int sc_view_io(struct scenario *s, struct step *st, uint64_t off,
	       uint8_t *buf, size_t n, bool write)
{
	struct sgmem *sg = G(s, st);
	struct gmem_memory_fault f;
	uint8_t *v;
	int ret;

	switch (st->view) {
	case V_HOST:
		ret = sc_host_view(sg, &v);
		if (ret)
			return ret;
		ret = write ? sc_guarded_copy(v + off, buf, n) :
			      sc_guarded_copy(buf, v + off, n);
		return ret == -EFAULT ? 1 : ret;	/* 1: SIGBUS */
	case V_GUEST:
		memset(&f, 0, sizeof(f));
		ret = gmem_guest_access_fault(sg->g, off, buf, n,
					      (write ? GMEM_ACCESS_WRITE : GMEM_ACCESS_READ) |
					      guest_bits(s, st), &f);
		if (ret == -EFAULT) {
			s->res.has_off = true;
			s->res.off = f.offset;
		}
		return ret;
	case V_PHYS:
	default:
		return gmem_physical_read(sg->g, off, buf, n);
	}
}

static void hexdump(struct scenario *s, uint64_t base, const uint8_t *b,
		    size_t n, const uint8_t *prev_line, bool *starred)
{
	for (size_t i = 0; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;

		if (prev_line && k == 16 && !memcmp(prev_line, b + i, 16)) {
			if (!*starred)
				sc_out(s, "*\n");
			*starred = true;
			prev_line = b + i;
			continue;
		}
		*starred = false;
		sc_out(s, "%08llx ", (unsigned long long)(base + i));
		for (size_t j = 0; j < 16; j++) {
			if (j < k)
				sc_out(s, " %02x", b[i + j]);
			else
				sc_out(s, "   ");
		}
		sc_out(s, "  |");
		for (size_t j = 0; j < k; j++)
			sc_out(s, "%c", b[i + j] >= 0x20 && b[i + j] < 0x7f ? b[i + j] : '.');
		sc_out(s, "|\n");
		prev_line = b + i;
	}
}

static int x_access(struct scenario *s, struct step *st, bool write)
{
	uint64_t len = sc_len_of(s, st), done = 0;
	uint8_t *buf, last[16];
	bool starred = false, have_last = false;
	int ret = 0;

	sc_set_result(s, st, 0);
	if (!len || !sc_fits(s, st, len)) {
		sc_set_result(s, st, -EINVAL);
		return -EINVAL;
	}
	buf = malloc(len < CHUNK ? len : CHUNK);
	if (!buf) {
		sc_set_result(s, st, -ENOMEM);
		return -ENOMEM;
	}
	while (done < len && !ret) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;

		if (write)
			sc_data_fill(&st->data, done, buf, n);
		ret = sc_view_io(s, st, st->off + done, buf, n, write);
		if (!ret && !write && s->o.out) {
			hexdump(s, st->off + done, buf, n, have_last ? last : NULL,
				&starred);
			/* A partial last line ends the dump anyway. */
			have_last = n >= 16 && !(n % 16);
			if (have_last)
				memcpy(last, buf + n - 16, 16);
		}
		done += n;
	}
	if (starred)	/* as hexdump(1): where the repeated lines end */
		sc_out(s, "%08llx\n", (unsigned long long)(st->off + done));
	free(buf);
	if (ret == 1) {
		s->res.kind = RES_SIGBUS;
		return 1;
	}
	if (ret) {
		bool off = s->res.has_off;
		uint64_t o = s->res.off;

		sc_set_result(s, st, ret);
		s->res.has_off = off;
		s->res.off = o;
	}
	return ret;
}

static int p_host(struct scenario *s, struct step *st) { return p_view_verb(s, st, V_HOST); }
static int p_guest(struct scenario *s, struct step *st) { return p_view_verb(s, st, V_GUEST); }
static int p_phys(struct scenario *s, struct step *st) { return p_view_verb(s, st, V_PHYS); }

static int x_view_verb(struct scenario *s, struct step *st)
{
	return x_access(s, st, st->data.kind != D_NONE);
}

/* cpuid G OFF load [fixed]: the sample table into the host view. */
static int p_cpuid(struct scenario *s, struct step *st)
{
	const char *t;

	if (sc_gmem_ref(s, st) || sc_num(s, &st->off, "offset") || sc_need(s, &t, "'load'"))
		return -1;
	if (strcmp(t, "load"))
		return sc_syntax(s, "cpuid: '%s'? (cpuid G OFF load [fixed])", t);
	st->data.kind = sc_accept(s, "fixed") ? D_CPUID_FIXED : D_CPUID;
	st->view = V_HOST;
	st->len = PAGE;
	return sc_no_more(s);
}

const struct verb sc_access_verbs[] = {
	{ .name = "host", .parse = p_host, .exec = x_view_verb },
	{ .name = "guest", .parse = p_guest, .exec = x_view_verb },
	{ .name = "phys", .parse = p_phys, .exec = x_view_verb },
	{ .name = "cpuid", .parse = p_cpuid, .exec = x_view_verb },
	{ .name = NULL },
};
