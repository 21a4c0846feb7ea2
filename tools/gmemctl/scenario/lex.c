/* SPDX-License-Identifier: MIT */
/*
 * The scenario interpreter: a line split into words and "quoted strings",
 * the parser's cursor over them, and numbers (hex or decimal, with K, M,
 * G or T).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- tokens ------------------------------------------------------------- */

/* Decode the "quoted string" at *pp in place: the token keeps its opening
 * quote (so the parser tells strings from words), then the decoded text. */
static int quoted(struct scenario *s, char **pp)
{
	char *p = *pp + 1, *w = p;

	for (;;) {
		char c;

		if (!*p)
			return sc_syntax(s, "unterminated string");
		if (*p == '"')
			break;
		if (*p != '\\') {
			*w++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': c = '\n'; p++; break;
		case 't': c = '\t'; p++; break;
		case '\\': case '"': c = *p++; break;
		case 'x': {
			char hex[3] = { 0 }, *e;

			if (!p[1] || !p[2])
				return sc_syntax(s, "bad \\x escape");
			hex[0] = p[1];
			hex[1] = p[2];
			c = (char)strtoul(hex, &e, 16);
			if (*e)
				return sc_syntax(s, "bad \\x escape");
			if (!c)
				return sc_syntax(s, "strings cannot hold \\x00 (use 'zero')");
			p += 3;
			break;
		}
		default:
			return sc_syntax(s, "unknown escape '\\%c' in a string (\\n \\t \\\\ \\\" \\xNN)",
					 *p ? *p : ' ');
		}
		*w++ = c;
	}
	*w = '\0';	/* decoding never grows: w <= p */
	p++;
	if (*p == '#')
		*p = '\0';
	else if (*p && *p != ' ' && *p != '\t' && *p != '\r')
		return sc_syntax(s, "text after a closing quote");
	*pp = p;
	return 0;
}

/* Split one line (modified in place) into words and "quoted strings";
 * a # outside quotes starts a comment.  Quoted tokens keep their opening
 * quote so the parser can tell them from words; escapes are decoded. */
int sc_tokenize(struct scenario *s, char *p)
{
	s->ntok = 0;
	s->ti = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return 0;
		if (s->ntok == MAX_TOKENS)
			return sc_syntax(s, "too many words on the line (at most %d)",
					 MAX_TOKENS);
		s->tok[s->ntok++] = p;
		if (*p == '"') {
			if (quoted(s, &p))
				return -1;
			continue;
		}
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return 0;
		}
		if (*p)
			*p++ = '\0';
	}
}

const char *sc_peek(struct scenario *s)
{
	return s->ti < s->ntok ? s->tok[s->ti] : NULL;
}

const char *sc_next(struct scenario *s)
{
	return s->ti < s->ntok ? s->tok[s->ti++] : NULL;
}

bool sc_accept(struct scenario *s, const char *word)
{
	const char *t = sc_peek(s);

	if (t && !strcmp(t, word)) {
		s->ti++;
		return true;
	}
	return false;
}

int sc_need(struct scenario *s, const char **t, const char *what)
{
	*t = sc_next(s);
	if (!*t)
		return sc_syntax(s, "%s: missing %s", s->vname, what);
	if (**t == '"')
		return sc_syntax(s, "%s: %s expected, found a string", s->vname, what);
	return 0;
}

int sc_no_more(struct scenario *s)
{
	const char *t = sc_peek(s);

	if (t)
		return sc_syntax(s, "%s: unexpected '%s'", s->vname,
				 *t == '"' ? "\"...\"" : t);
	return 0;
}

/* ---- numbers ------------------------------------------------------------ */

/* Hex (0x) or decimal, optionally followed by K, M, G or T (powers of
 * 1024, also KiB, MiB ...).  No octal: 010 is ten. */
int sc_parse_u64(const char *t, uint64_t *v)
{
	uint64_t x = 0, mul = 1;
	int base = 10, digits = 0;
	const char *p = t;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -ERANGE;
		x = x * (uint64_t)base + (uint64_t)d;
		digits++;
	}
	if (!digits)
		return -EINVAL;
	switch (*p) {
	case 'k': case 'K': mul = 1ULL << 10; p++; break;
	case 'm': case 'M': mul = 1ULL << 20; p++; break;
	case 'g': case 'G': mul = 1ULL << 30; p++; break;
	case 't': case 'T': mul = 1ULL << 40; p++; break;
	default: break;
	}
	if (mul > 1 && (!strcmp(p, "iB") || !strcmp(p, "B")))
		p += strlen(p);
	if (*p)
		return -EINVAL;
	if (x > UINT64_MAX / mul)
		return -ERANGE;
	*v = x * mul;
	return 0;
}

int sc_num(struct scenario *s, uint64_t *v, const char *what)
{
	const char *t;
	int r;

	if (sc_need(s, &t, what))
		return -1;
	r = sc_parse_u64(t, v);
	if (r == -ERANGE)
		return sc_syntax(s, "%s: %s '%s' does not fit in 64 bits",
				 s->vname, what, t);
	if (r)
		return sc_syntax(s, "%s: bad %s '%s' (a number: 4096, 0x1000, 4K, 2M, 1G)",
				 s->vname, what, t);
	return 0;
}
