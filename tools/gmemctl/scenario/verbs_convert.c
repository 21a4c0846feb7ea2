/* SPDX-License-Identifier: MIT */
/*
 * Scenario verbs that change pages: convert, punch, pin, unpin.
 */
#include <string.h>

#include "internal.h"

static int p_convert(struct scenario *s, struct step *st)
{
	const char *t;
	bool dir = false;

	if (sc_gmem_ref(s, st) || sc_range(s, st, PAGE))
		return -1;
	while ((t = sc_next(s))) {
		if (!strcmp(t, "private")) {
			st->attrs = GMEM_ATTR_PRIVATE;
			dir = true;
		} else if (!strcmp(t, "shared")) {
			st->attrs = 0;
			dir = true;
		} else if (!strcmp(t, "zero")) {
			st->flags |= GMEM_CONTENT_ZERO;
		} else if (!strcmp(t, "preserve")) {
			st->flags |= GMEM_CONTENT_PRESERVE;
		} else if (!strcmp(t, "unspecified")) {
			/* the default: no flag */
		} else if (!strcmp(t, "attrs") || !strcmp(t, "attributes")) {
			if (sc_num(s, &st->attrs, "attributes"))
				return -1;
			dir = true;
		} else if (!strcmp(t, "flags")) {
			uint64_t f;

			if (sc_num(s, &f, "flags"))
				return -1;
			st->flags |= f;
		} else if (!strcmp(t, "reserved")) {
			if (sc_num(s, &st->reserved, "reserved word"))
				return -1;
		} else if (!strcmp(t, "error-offset") || !strcmp(t, "error_offset")) {
			if (sc_num(s, &st->err_in, "error_offset"))
				return -1;
		} else {
			return sc_syntax(s, "convert: unexpected '%s' (private|shared "
					 "[zero|preserve|unspecified] [flags N] [attrs N] "
					 "[reserved N] [error-offset N])", t);
		}
	}
	if (!dir)
		return sc_syntax(s, "convert: say 'private' or 'shared'");
	return 0;
}

static int x_convert(struct scenario *s, struct step *st)
{
	struct gmem_attributes2 a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.offset = st->off;
	a.size = sc_len_of(s, st);
	a.attributes = st->attrs;
	a.flags = st->flags;
	a.error_offset = st->err_in;
	a.reserved[0] = st->reserved;
	ret = gmem_set_memory_attributes(G(s, st)->g, &a);
	sc_set_result(s, st, ret);
	if (ret) {
		s->res.has_off = true;
		s->res.off = a.error_offset;
	}
	return ret;
}

static int p_punch(struct scenario *s, struct step *st)
{
	return sc_gmem_ref(s, st) || sc_range(s, st, PAGE) || sc_no_more(s) ? -1 : 0;
}

static int x_punch(struct scenario *s, struct step *st)
{
	return gmem_punch_hole(G(s, st)->g, st->off, sc_len_of(s, st));
}

static int p_pin(struct scenario *s, struct step *st)
{
	return sc_gmem_ref(s, st) || sc_num(s, &st->off, "offset") || sc_no_more(s) ? -1 : 0;
}

static int x_pin(struct scenario *s, struct step *st)
{
	return gmem_pin(G(s, st)->g, st->off);
}

static int x_unpin(struct scenario *s, struct step *st)
{
	return gmem_unpin(G(s, st)->g, st->off);
}

const struct verb sc_convert_verbs[] = {
	{ .name = "convert", .parse = p_convert, .exec = x_convert },
	{ .name = "punch", .parse = p_punch, .exec = x_punch },
	{ .name = "pin", .parse = p_pin, .exec = x_pin },
	{ .name = "unpin", .parse = p_pin, .exec = x_unpin },
	{ .name = NULL },
};
