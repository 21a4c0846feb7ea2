/* SPDX-License-Identifier: MIT */
/*
 * Scenario expectations: `expect` checks the result of the command before
 * it (ok, error, fw, sigbus) or the state now (page, attr, rmp, sept,
 * host, guest, phys, stat, modes, digest, mrtd).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmem/snp.h"
#include "internal.h"

static const struct named fw_errors[] = {
	{ "INVALID_PARAM", GMEM_SEV_RET_INVALID_PARAM }, { NULL, 0 },
};

static const struct named page_props[] = {
	{ "private", P_PRIVATE }, { "shared", P_SHARED },
	{ "allocated", P_ALLOC }, { "unallocated", P_UNALLOC },
	{ "pinned", P_PINNED }, { "unpinned", P_UNPINNED },
	{ "encrypted", P_ENCRYPTED }, { "plaintext", P_PLAIN },
	{ NULL, 0 },
};

static int p_expect_ok(struct scenario *s, struct step *st)
{
	return sc_no_more(s);
}

static int x_expect_ok(struct scenario *s, struct step *st)
{
	char d[160];

	if (s->res.kind == RES_OK)
		return 0;
	sc_describe_result(&s->res, d, sizeof(d));
	sc_failure(s, st->line, "expected ok, '%s' gave %s", s->res.what ? s->res.what : "nothing", d);
	return 0;
}

static int fw_value(struct scenario *s, struct step *st)
{
	const char *t;
	const struct named *n;
	uint64_t v;

	if (sc_need(s, &t, "firmware error"))
		return -1;
	n = sc_lookup(fw_errors, t);
	if (n) {
		st->want_fw = (unsigned)n->val;
	} else if (!sc_parse_u64(t, &v) && v <= UINT_MAX) {
		st->want_fw = (unsigned)v;
	} else {
		return sc_syntax(s, "%s: firmware error '%s'? (a number or INVALID_PARAM)",
				 s->vname, t);
	}
	st->has_fw = true;
	return 0;
}

static int p_expect_error(struct scenario *s, struct step *st)
{
	const char *t;
	const struct named *e;

	if (sc_need(s, &t, "errno name"))
		return -1;
	e = sc_lookup(sc_errnos, t);
	if (!e)
		return sc_syntax(s, "expect error: unknown errno '%s' (EINVAL, "
				 "EOPNOTSUPP, EAGAIN, ...)", t);
	st->err = (int)e->val;
	while ((t = sc_next(s))) {
		if (!strcmp(t, "offset")) {
			if (sc_num(s, &st->want_off, "offset"))
				return -1;
			st->has_off = true;
		} else if (!strcmp(t, "fw")) {
			if (fw_value(s, st))
				return -1;
		} else {
			return sc_syntax(s, "expect error: unexpected '%s' (offset N, fw N)", t);
		}
	}
	return 0;
}

static int x_expect_error(struct scenario *s, struct step *st)
{
	struct result *r = &s->res;
	char d[160];

	sc_describe_result(r, d, sizeof(d));
	if (r->kind != RES_ERR || r->err != st->err)
		sc_failure(s, st->line, "expected %s, '%s' gave %s", sc_errno_name(st->err),
			   r->what ? r->what : "nothing", d);
	else if (st->has_off && (!r->has_off || r->off != st->want_off))
		sc_failure(s, st->line, "expected %s at offset 0x%llx, got %s",
			   sc_errno_name(st->err), (unsigned long long)st->want_off, d);
	else if (st->has_fw && (!r->has_fw || r->fw != st->want_fw))
		sc_failure(s, st->line, "expected firmware error 0x%x, got %s",
			   st->want_fw, d);
	return 0;
}

static int p_expect_fw(struct scenario *s, struct step *st)
{
	return fw_value(s, st) || sc_no_more(s) ? -1 : 0;
}

static int x_expect_fw(struct scenario *s, struct step *st)
{
	char d[160];

	if (!s->res.has_fw || s->res.fw != st->want_fw) {
		sc_describe_result(&s->res, d, sizeof(d));
		sc_failure(s, st->line, "expected firmware error 0x%x, '%s' gave %s%s",
			   st->want_fw, s->res.what ? s->res.what : "nothing", d,
			   s->res.has_fw ? "" : " (no firmware call)");
	}
	return 0;
}

static int x_expect_sigbus(struct scenario *s, struct step *st)
{
	char d[160];

	if (s->res.kind != RES_SIGBUS) {
		sc_describe_result(&s->res, d, sizeof(d));
		sc_failure(s, st->line, "expected SIGBUS, '%s' gave %s",
			   s->res.what ? s->res.what : "nothing", d);
	}
	return 0;
}

/* expect page G RANGE WORD...; also `expect attr|rmp|sept G RANGE WORD`. */
static int page_words(struct scenario *s, struct step *st, const char *prefix)
{
	const char *t;
	char w[48];

	if (sc_gmem_ref(s, st) || sc_range(s, st, PAGE))
		return -1;
	while ((t = sc_next(s))) {
		const struct named *n;

		snprintf(w, sizeof(w), "%s%s", prefix, t);
		if ((n = sc_lookup(page_props, w))) {
			st->want |= (unsigned)n->val;
		} else if ((n = sc_lookup(sc_rmp_states, w)) || (n = sc_lookup(sc_sept_states, w))) {
			st->want |= P_VENDOR;
			st->vendor = (int)n->val;
			snprintf(st->word, sizeof(st->word), "%s", n->name);
		} else {
			return sc_syntax(s, "%s: page state '%s'? (private shared allocated "
					 "unallocated pinned unpinned encrypted plaintext "
					 "rmp-shared rmp-assigned rmp-validated sept-unmapped "
					 "sept-pending sept-mapped)", s->vname, t);
		}
	}
	if (!st->want)
		return sc_syntax(s, "%s: which page state?", s->vname);
	return 0;
}

static int p_expect_page(struct scenario *s, struct step *st) { return page_words(s, st, ""); }
static int p_expect_attr(struct scenario *s, struct step *st) { return page_words(s, st, ""); }
static int p_expect_rmp(struct scenario *s, struct step *st) { return page_words(s, st, "rmp-"); }
static int p_expect_sept(struct scenario *s, struct step *st) { return page_words(s, st, "sept-"); }

/* The first property of want that pi lacks, or NULL. */
static const char *page_mismatch(const struct step *st, const struct gmem_page_info *pi)
{
	bool priv = pi->attributes & GMEM_ATTR_PRIVATE;

	if ((st->want & P_PRIVATE) && !priv) return "shared";
	if ((st->want & P_SHARED) && priv) return "private";
	if ((st->want & P_ALLOC) && !pi->allocated) return "unallocated";
	if ((st->want & P_UNALLOC) && pi->allocated) return "allocated";
	if ((st->want & P_PINNED) && !pi->pinned) return "unpinned";
	if ((st->want & P_UNPINNED) && pi->pinned) return "pinned";
	if ((st->want & P_ENCRYPTED) && !pi->encrypted) return "plaintext";
	if ((st->want & P_PLAIN) && pi->encrypted) return "encrypted";
	if ((st->want & P_VENDOR) && pi->vendor_state != st->vendor) return "vendor";
	return NULL;
}

static int x_expect_page(struct scenario *s, struct step *st)
{
	struct gmem *g = G(s, st)->g;
	uint64_t len = sc_len_of(s, st);
	struct gmem_page_info pi;
	const char *bad;
	int ret;

	if (!len || !sc_fits(s, st, len)) {
		sc_failure(s, st->line, "range 0x%llx +0x%llx is outside %s",
			   (unsigned long long)st->off, (unsigned long long)len, G(s, st)->name);
		return 0;
	}
	for (uint64_t o = st->off & ~(PAGE - 1); o < st->off + len; o += PAGE) {
		ret = gmem_page_info(g, o, &pi);
		if (ret) {
			sc_failure(s, st->line, "gmem_page_info(0x%llx): %s",
				   (unsigned long long)o, strerror(-ret));
			return 0;
		}
		bad = page_mismatch(st, &pi);
		if (!bad)
			continue;
		if (!strcmp(bad, "vendor"))
			sc_failure(s, st->line, "page 0x%llx of %s is %s, expected %s",
				   (unsigned long long)o, G(s, st)->name,
				   scenario_vendor_state_name(gmem_vm_platform(s->vm),
							      pi.vendor_state), st->word);
		else
			sc_failure(s, st->line, "page 0x%llx of %s is %s", (unsigned long long)o,
				   G(s, st)->name, bad);
		return 0;
	}
	return 0;
}

/* expect host|guest|phys G OFF [+LEN] [private|shared] [not] DATA [len N] */
static int p_expect_bytes(struct scenario *s, struct step *st)
{
	const char *t;
	int r;

	st->view = !strcmp(s->tok[1], "host") ? V_HOST :
		   !strcmp(s->tok[1], "guest") ? V_GUEST : V_PHYS;
	if (sc_gmem_ref(s, st) || sc_range(s, st, 0))
		return -1;
	while ((t = sc_next(s))) {
		if (!strcmp(t, "not")) {
			st->data.negate = true;
			continue;
		}
		r = sc_access_word(s, st, t, true);
		if (r < 0)
			return -1;
		if (r)
			return sc_syntax(s, "expect %s: unexpected '%s'", s->tok[1],
					 *t == '"' ? "\"...\"" : t);
	}
	if (st->data.kind == D_NONE)
		return sc_syntax(s, "expect %s: compare with what? (pattern BYTE, zero, "
				 "text \"...\", cpuid-table, cpuid-fixed)", s->tok[1]);
	if (!st->has_len)
		st->len = sc_data_len(&st->data);
	return 0;
}

static int x_expect_bytes(struct scenario *s, struct step *st)
{
	static const char *const vname[] = { "host", "guest", "physical" };
	uint64_t len = sc_len_of(s, st), done = 0, diff = UINT64_MAX;
	uint8_t *buf, *want;
	uint8_t got_b = 0, want_b = 0;
	char d[64];
	int ret = 0;

	if (!len || !sc_fits(s, st, len)) {
		sc_failure(s, st->line, "range 0x%llx +0x%llx is outside %s",
			   (unsigned long long)st->off, (unsigned long long)len, G(s, st)->name);
		return 0;
	}
	buf = malloc(len < CHUNK ? len : CHUNK);
	want = malloc(len < CHUNK ? len : CHUNK);
	if (!buf || !want) {
		free(buf);
		free(want);
		sc_failure(s, st->line, "out of memory");
		return 0;
	}
	while (done < len && diff == UINT64_MAX) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;

		ret = sc_view_io(s, st, st->off + done, buf, n, false);
		if (ret)
			break;
		sc_data_fill(&st->data, done, want, n);
		for (size_t i = 0; i < n; i++)
			if (buf[i] != want[i]) {
				diff = st->off + done + i;
				got_b = buf[i];
				want_b = want[i];
				break;
			}
		done += n;
	}
	free(buf);
	free(want);
	sc_data_describe(&st->data, d, sizeof(d));
	if (ret == 1)
		sc_failure(s, st->line, "host read of 0x%llx raised SIGBUS (a private page?)",
			   (unsigned long long)st->off);
	else if (ret)
		sc_failure(s, st->line, "%s read of 0x%llx +0x%llx failed: %s",
			   vname[st->view], (unsigned long long)st->off,
			   (unsigned long long)len, strerror(-ret));
	else if (!st->data.negate && diff != UINT64_MAX)
		sc_failure(s, st->line, "%s bytes differ from %s at 0x%llx: 0x%02x, expected 0x%02x",
			   vname[st->view], d, (unsigned long long)diff, got_b, want_b);
	else if (st->data.negate && diff == UINT64_MAX)
		sc_failure(s, st->line, "%s bytes 0x%llx +0x%llx are %s, expected them to differ",
			   vname[st->view], (unsigned long long)st->off,
			   (unsigned long long)len, d);
	return 0;
}

static const struct named stat_names[] = {
	{ "conversions", offsetof(struct gmem_stats, conversions) },
	{ "pages_to_private", offsetof(struct gmem_stats, pages_to_private) },
	{ "pages_to_shared", offsetof(struct gmem_stats, pages_to_shared) },
	{ "pages_zeroed", offsetof(struct gmem_stats, pages_zeroed) },
	{ "pages_zero_skipped", offsetof(struct gmem_stats, pages_zero_skipped) },
	{ "pages_scrambled", offsetof(struct gmem_stats, pages_scrambled) },
	{ "views_revoked", offsetof(struct gmem_stats, views_revoked) },
	{ "views_restored", offsetof(struct gmem_stats, views_restored) },
	{ "ranges", offsetof(struct gmem_stats, ranges) },
	{ "ranges_bytes", offsetof(struct gmem_stats, ranges_bytes) },
	{ "views_moved", offsetof(struct gmem_stats, views_moved) },
	{ NULL, 0 },
};

static const struct named cmps[] = {
	{ "==", C_EQ }, { "=", C_EQ }, { "!=", C_NE }, { ">=", C_GE },
	{ "<=", C_LE }, { ">", C_GT }, { "<", C_LT }, { NULL, 0 },
};

static int p_expect_stat(struct scenario *s, struct step *st)
{
	const struct named *n;
	const char *t;

	if (sc_gmem_ref(s, st) || sc_need(s, &t, "counter name"))
		return -1;
	n = sc_lookup(stat_names, t);
	if (!n)
		return sc_syntax(s, "expect stat: unknown counter '%s' (conversions, "
				 "pages_to_private, pages_to_shared, pages_zeroed, "
				 "pages_zero_skipped, pages_scrambled, views_revoked, "
				 "views_restored, ranges, ranges_bytes, views_moved)", t);
	strcpy(st->word, n->name);
	st->kind = (unsigned)n->val;
	t = sc_peek(s);
	if (t && (n = sc_lookup(cmps, t))) {
		s->ti++;
		st->cmp = (enum cmp)n->val;
	}
	return sc_num(s, &st->num, "value") || sc_no_more(s) ? -1 : 0;
}

static int x_expect_stat(struct scenario *s, struct step *st)
{
	struct gmem_stats gs;
	uint64_t v, w = st->num;
	bool ok;
	int ret = gmem_get_stats(G(s, st)->g, &gs);

	if (ret) {
		sc_failure(s, st->line, "gmem_get_stats: %s", strerror(-ret));
		return 0;
	}
	memcpy(&v, (const char *)&gs + st->kind, sizeof(v));
	switch (st->cmp) {
	case C_NE: ok = v != w; break;
	case C_GE: ok = v >= w; break;
	case C_LE: ok = v <= w; break;
	case C_GT: ok = v > w; break;
	case C_LT: ok = v < w; break;
	default: ok = v == w; break;
	}
	if (!ok)
		sc_failure(s, st->line, "%s of %s is %llu, expected %s %llu", st->word,
			   G(s, st)->name, (unsigned long long)v,
			   sc_name_of(cmps, st->cmp), (unsigned long long)w);
	return 0;
}

/* expect modes private|shared MODE...: the exact set the VM accepts now. */
static int p_expect_modes(struct scenario *s, struct step *st)
{
	const char *t;

	if (!s->pvm)
		return sc_syntax(s, "expect modes: no VM yet");
	if (sc_need(s, &t, "'private' or 'shared'"))
		return -1;
	if (!strcmp(t, "private"))
		st->attrs = GMEM_ATTR_PRIVATE;
	else if (strcmp(t, "shared"))
		return sc_syntax(s, "expect modes: 'private' or 'shared', not '%s'", t);
	while ((t = sc_next(s))) {
		if (!strcmp(t, "zero"))
			st->num |= GMEM_CONTENT_ZERO;
		else if (!strcmp(t, "preserve"))
			st->num |= GMEM_CONTENT_PRESERVE;
		else if (!strcmp(t, "unspecified"))
			st->num |= GMEM_MODES_UNSPECIFIED;
		else if (!strcmp(t, "none"))
			;
		else
			return sc_syntax(s, "expect modes: '%s'? (zero preserve unspecified, or none)", t);
	}
	return 0;
}

static void modes_str(uint64_t m, char *b, size_t n)
{
	snprintf(b, n, "%s%s%s%s", m & GMEM_CONTENT_ZERO ? " zero" : "",
		 m & GMEM_CONTENT_PRESERVE ? " preserve" : "",
		 m & GMEM_MODES_UNSPECIFIED ? " unspecified" : "", m ? "" : " none");
}

static int x_expect_modes(struct scenario *s, struct step *st)
{
	uint64_t m = 0;
	char a[48], b[48];
	int ret;

	if (!s->vm) {
		sc_failure(s, st->line, "no VM");
		return 0;
	}
	ret = gmem_vm_content_modes(s->vm, st->attrs, &m);
	if (ret) {
		sc_failure(s, st->line, "gmem_vm_content_modes: %s", strerror(-ret));
		return 0;
	}
	m &= GMEM_CONTENT_ZERO | GMEM_CONTENT_PRESERVE | GMEM_MODES_UNSPECIFIED;
	if (m != st->num) {
		modes_str(m, a, sizeof(a));
		modes_str(st->num, b, sizeof(b));
		sc_failure(s, st->line, "to-%s modes are%s, expected%s",
			   st->attrs ? "private" : "shared", a, b);
	}
	return 0;
}

/* expect digest|mrtd HEX: the SNP launch digest or the TDX MRTD now. */
static int p_expect_hash(struct scenario *s, struct step *st)
{
	const char *t;

	if (!s->pvm)
		return sc_syntax(s, "%s: no VM yet", s->vname);
	if (sc_need(s, &t, "96 hex digits"))
		return -1;
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
		t += 2;
	if (strlen(t) != 96 || strspn(t, "0123456789abcdefABCDEF") != 96)
		return sc_syntax(s, "%s: a SHA-384 value is 96 hex digits", s->vname);
	for (int i = 0; i < 48; i++) {
		char h[3] = { t[2 * i], t[2 * i + 1], 0 };

		st->hash[i] = (uint8_t)strtoul(h, NULL, 16);
	}
	st->kind = !strcmp(s->tok[1], "mrtd");
	return sc_no_more(s);
}

static int x_expect_hash(struct scenario *s, struct step *st)
{
	const char *what = st->kind ? "MRTD" : "launch digest";
	uint8_t h[48];
	char got[97];
	int ret = st->kind ? gmem_tdx_mrtd(s->vm, h) :
			     gmem_snp_launch_digest(s->vm, h);

	if (ret) {
		sc_failure(s, st->line, "%s: %s", what, strerror(-ret));
		return 0;
	}
	if (!memcmp(h, st->hash, sizeof(h)))
		return 0;
	for (int i = 0; i < 48; i++)
		snprintf(got + 2 * i, 3, "%02x", h[i]);
	sc_failure(s, st->line, "%s is %s, not the value expected", what, got);
	return 0;
}

/* Checks of the previous command's result, and of the state now. */
#define RESULT_CHECK(n, p, x) \
	{ .name = n, .parse = p, .exec = x, .checks_result = true, .is_expect = true }
#define STATE_CHECK(n, p, x) { .name = n, .parse = p, .exec = x, .is_expect = true }

const struct verb sc_expect_verbs[] = {
	RESULT_CHECK("expect ok", p_expect_ok, x_expect_ok),
	RESULT_CHECK("expect error", p_expect_error, x_expect_error),
	RESULT_CHECK("expect fw", p_expect_fw, x_expect_fw),
	RESULT_CHECK("expect sigbus", p_expect_ok, x_expect_sigbus),
	STATE_CHECK("expect page", p_expect_page, x_expect_page),
	STATE_CHECK("expect attr", p_expect_attr, x_expect_page),
	STATE_CHECK("expect rmp", p_expect_rmp, x_expect_page),
	STATE_CHECK("expect sept", p_expect_sept, x_expect_page),
	STATE_CHECK("expect host", p_expect_bytes, x_expect_bytes),
	STATE_CHECK("expect guest", p_expect_bytes, x_expect_bytes),
	STATE_CHECK("expect phys", p_expect_bytes, x_expect_bytes),
	STATE_CHECK("expect stat", p_expect_stat, x_expect_stat),
	STATE_CHECK("expect modes", p_expect_modes, x_expect_modes),
	STATE_CHECK("expect digest", p_expect_hash, x_expect_hash),
	STATE_CHECK("expect mrtd", p_expect_hash, x_expect_hash),
	{ .name = NULL },
};
