/* SPDX-License-Identifier: MIT */
/*
 * The scenario interpreter's parser: the words many verbs share (a gmem
 * name, a range, a data stream), the lookup of a line's verb in the verb
 * groups, and a whole script parsed into steps before anything runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- words many verbs share --------------------------------------------- */

int sc_gmem_ref(struct scenario *s, struct step *st)
{
	const char *t;

	if (sc_need(s, &t, "gmem name"))
		return -1;
	for (unsigned i = 0; i < s->npnames; i++)
		if (!strcmp(s->pnames[i], t)) {
			st->gi = (int)i;
			return 0;
		}
	return sc_syntax(s, "%s: no gmem named '%s'%s", s->vname, t,
			 s->npnames ? "" : " (create one with 'gmem NAME SIZE')");
}

/* OFF [+LEN]; `all` is the whole file.  Without +LEN, def_len (0: none). */
int sc_range(struct scenario *s, struct step *st, uint64_t def_len)
{
	const char *t = sc_peek(s);

	if (t && !strcmp(t, "all")) {
		s->ti++;
		st->off = 0;
		st->len = UINT64_MAX;	/* resolved against the file at run time */
		st->has_len = true;
		return 0;
	}
	if (sc_num(s, &st->off, "offset"))
		return -1;
	t = sc_peek(s);
	if (t && t[0] == '+') {
		int r;

		s->ti++;
		r = sc_parse_u64(t + 1, &st->len);
		if (r)
			return sc_syntax(s, "%s: bad length '%s'", s->vname, t);
		st->has_len = true;
	} else {
		st->len = def_len;
	}
	return 0;
}

int sc_parse_data(struct scenario *s, struct data *d, const char *t)
{
	uint64_t v;

	if (!strcmp(t, "pattern")) {
		if (sc_num(s, &v, "pattern byte"))
			return -1;
		if (v > 0xff)
			return sc_syntax(s, "%s: pattern is one byte (0..0xff)", s->vname);
		d->kind = D_BYTE;
		d->byte = (uint8_t)v;
	} else if (!strcmp(t, "zero") || !strcmp(t, "zeros")) {
		d->kind = D_ZERO;
	} else if (!strcmp(t, "text")) {
		const char *q = sc_next(s);

		if (!q || *q != '"')
			return sc_syntax(s, "%s: text needs a \"quoted string\"", s->vname);
		d->tlen = strlen(q + 1);
		if (!d->tlen)
			return sc_syntax(s, "%s: empty text", s->vname);
		d->text = strdup(q + 1);
		if (!d->text)
			return sc_syntax(s, "out of memory");
		d->kind = D_TEXT;
	} else if (!strcmp(t, "cpuid-table")) {
		d->kind = D_CPUID;
	} else if (!strcmp(t, "cpuid-fixed")) {
		d->kind = D_CPUID_FIXED;
	} else {
		return 1;
	}
	return 0;
}

/* A word after OFF [+LEN] that reads, writes and byte checks share:
 * `len N`, `private` or `shared` on the guest view, and, where with_data,
 * a data stream if none was given yet.  0 taken, 1 not one of these
 * words, -1 a syntax error (reported). */
int sc_access_word(struct scenario *s, struct step *st, const char *t,
		   bool with_data)
{
	if (!strcmp(t, "len")) {
		if (sc_num(s, &st->len, "length"))
			return -1;
		st->has_len = true;
		return 0;
	}
	if (st->view == V_GUEST && !strcmp(t, "private")) {
		st->intent = I_PRIVATE;
		return 0;
	}
	if (st->view == V_GUEST && !strcmp(t, "shared")) {
		st->intent = I_SHARED;
		return 0;
	}
	if (with_data && st->data.kind == D_NONE)
		return sc_parse_data(s, &st->data, t);
	return 1;
}

/* Length of a data stream when the line gives none. */
uint64_t sc_data_len(const struct data *d)
{
	return d->kind == D_TEXT ? d->tlen : PAGE;
}

/* ---- the verb lookup ---------------------------------------------------- */

/* Every verb, by group; a new verb goes in its group's table. */
static const struct verb *const verb_groups[] = {
	sc_setup_verbs, sc_convert_verbs, sc_access_verbs, sc_vendor_verbs,
	sc_output_verbs, sc_expect_verbs,
};

/* `expect` dispatches on its second word. */
static const struct verb *find_verb(struct scenario *s)
{
	char name[80];

	if (!strcmp(s->tok[0], "expect")) {
		if (s->ntok < 2 || s->tok[1][0] == '"') {
			sc_syntax(s, "expect: what? (ok, error, fw, sigbus, page, attr, rmp, "
				  "sept, host, guest, phys, stat, modes, digest, mrtd)");
			return NULL;
		}
		snprintf(name, sizeof(name), "expect %s", s->tok[1]);
		s->ti = 2;
	} else {
		snprintf(name, sizeof(name), "%s", s->tok[0]);
		s->ti = 1;
	}
	snprintf(s->vname, sizeof(s->vname), "%s", name);
	for (size_t i = 0; i < sizeof(verb_groups) / sizeof(verb_groups[0]); i++)
		for (const struct verb *v = verb_groups[i]; v->name; v++)
			if (!strcmp(v->name, name))
				return v;
	if (!strcmp(s->tok[0], "expect"))
		sc_syntax(s, "expect: unknown check '%s' (ok, error, fw, sigbus, page, "
			  "attr, rmp, sept, host, guest, phys, stat, modes, digest, "
			  "mrtd)", s->tok[1]);
	else
		sc_syntax(s, "unknown command '%s' (vm, gmem, bind, convert, finalize, "
			  "punch, pin, unpin, host, guest, phys, cpuid, snp, tdx, echo, "
			  "show, expect)", s->tok[0]);
	return NULL;
}

/* ---- a whole script ----------------------------------------------------- */

void sc_free_steps(struct step *steps, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(steps[i].data.text);
		free(steps[i].text);
		free(steps[i].src);
	}
	free(steps);
}

/* The line without surrounding blanks or a trailing comment (NULL when
 * out of memory: messages then name the verb). */
static char *trimmed_copy(const char *line)
{
	const char *b = line, *e;
	bool q = false;

	while (*b == ' ' || *b == '\t')
		b++;
	for (e = b; *e && (q || *e != '#'); e++)
		if (*e == '"' && (e == b || e[-1] != '\\'))
			q = !q;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return strndup(b, (size_t)(e - b));
}

/* Parse every line; NULL-free result in *out, count in *n.  -1 on a syntax
 * error (reported), -2 out of memory. */
int sc_parse_all(struct scenario *s, const char *buf, size_t len,
		 struct step **out, unsigned *n)
{
	struct step *steps = NULL;
	unsigned cap = 0, cnt = 0;
	size_t pos = 0;
	char *line = NULL, *src = NULL;
	int ret = 0;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		pos = 3;	/* a UTF-8 byte order mark from some editors */
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		const struct verb *v;
		struct step *st;

		s->pline++;
		s->sum.lines = s->pline;
		free(src);
		src = NULL;
		free(line);
		line = malloc(ll + 1);
		if (!line) {
			ret = -2;
			break;
		}
		memcpy(line, buf + pos, ll);
		line[ll] = '\0';
		pos += ll + 1;
		if (strlen(line) != ll) {
			ret = sc_syntax(s, "NUL byte in the line");
			break;
		}
		src = trimmed_copy(line);
		if ((ret = sc_tokenize(s, line)))
			break;
		if (!s->ntok)
			continue;
		if (s->tok[0][0] == '"') {
			ret = sc_syntax(s, "a line starts with a command, not a string");
			break;
		}
		if (!(v = find_verb(s))) {
			ret = -1;
			break;
		}
		if (s->o.max_steps && cnt >= s->o.max_steps) {
			ret = sc_syntax(s, "script longer than this interpreter's limit");
			break;
		}
		if (cnt == cap) {
			struct step *ns = realloc(steps, (cap ? cap * 2 : 64) * sizeof(*ns));

			if (!ns) {
				ret = -2;
				break;
			}
			steps = ns;
			cap = cap ? cap * 2 : 64;
		}
		st = &steps[cnt++];
		memset(st, 0, sizeof(*st));
		st->verb = v;
		st->line = s->pline;
		st->gi = -1;
		st->src = src;
		src = NULL;
		if ((ret = v->parse(s, st)))
			break;
		if (s->ti < s->ntok && (ret = sc_no_more(s)))
			break;
	}
	free(line);
	free(src);
	if (ret) {
		sc_free_steps(steps, cnt);
		return ret;
	}
	*out = steps;
	*n = cnt;
	return 0;
}
