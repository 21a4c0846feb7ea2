/* SPDX-License-Identifier: MIT */
/*
 * Scenario verbs of the vendor launch machinery: snp launch-update,
 * pvalidate and digest; tdx page-add and mrtd.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "gmem/snp.h"
#include "internal.h"

static const struct named page_types[] = {
	{ "normal", GMEM_SNP_PAGE_NORMAL }, { "vmsa", GMEM_SNP_PAGE_VMSA },
	{ "zero", GMEM_SNP_PAGE_ZERO }, { "unmeasured", GMEM_SNP_PAGE_UNMEASURED },
	{ "secrets", GMEM_SNP_PAGE_SECRETS }, { "cpuid", GMEM_SNP_PAGE_CPUID },
	{ NULL, 0 },
};

static int p_snp(struct scenario *s, struct step *st)
{
	const char *t;

	if (sc_need(s, &t, "'launch-update', 'pvalidate' or 'digest'"))
		return -1;
	snprintf(s->vname, sizeof(s->vname), "snp %.30s", t);
	if (!strcmp(t, "launch-update")) {
		const struct named *pt;
		uint64_t v;

		st->kind = 1;
		if (sc_gmem_ref(s, st) || sc_range(s, st, PAGE) || sc_need(s, &t, "page type"))
			return -1;
		pt = sc_lookup(page_types, t);
		if (pt)
			st->num = (uint64_t)pt->val;
		else if (!sc_parse_u64(t, &v) && v <= UINT_MAX)
			st->num = v;
		else
			return sc_syntax(s, "snp launch-update: page type '%s'? (normal, vmsa, "
					 "zero, unmeasured, secrets, cpuid)", t);
	} else if (!strcmp(t, "pvalidate")) {
		st->kind = 2;
		if (sc_gmem_ref(s, st) || sc_range(s, st, PAGE))
			return -1;
		st->num = !sc_accept(s, "rescind");
	} else if (!strcmp(t, "digest")) {
		st->kind = 3;
	} else {
		return sc_syntax(s, "snp: '%s'? (launch-update, pvalidate, digest)", t);
	}
	return sc_no_more(s);
}

static void print_hash(struct scenario *s, const char *what, const uint8_t h[48])
{
	sc_out(s, "%s ", what);
	for (int i = 0; i < 48; i++)
		sc_out(s, "%02x", h[i]);
	sc_out(s, "\n");
}

/* snp digest, tdx mrtd: the launch measurement so far, printed. */
static int x_measurement(struct scenario *s, const char *what,
			 int (*get)(struct gmem_vm *vm, uint8_t h[48]))
{
	uint8_t h[48];
	int ret;

	if (!s->vm)
		return -ENODEV;
	ret = get(s->vm, h);
	if (!ret)
		print_hash(s, what, h);
	return ret;
}

static int x_snp(struct scenario *s, struct step *st)
{
	unsigned fw = 0;
	int ret;

	switch (st->kind) {
	case 1:
		ret = gmem_snp_launch_update(G(s, st)->g, st->off, sc_len_of(s, st),
					     (unsigned)st->num, &fw);
		sc_set_result(s, st, ret);
		s->res.has_fw = true;
		s->res.fw = fw;
		return ret;
	case 2:
		return gmem_snp_pvalidate(G(s, st)->g, st->off, sc_len_of(s, st),
					  (int)st->num);
	default:
		return x_measurement(s, "launch digest", gmem_snp_launch_digest);
	}
}

static int p_tdx(struct scenario *s, struct step *st)
{
	const char *t;

	if (sc_need(s, &t, "'page-add' or 'mrtd'"))
		return -1;
	snprintf(s->vname, sizeof(s->vname), "tdx %.30s", t);
	if (!strcmp(t, "page-add")) {
		st->kind = 1;
		if (sc_gmem_ref(s, st) || sc_range(s, st, PAGE))
			return -1;
		st->num = 1;
		if (sc_accept(s, "no-measure"))
			st->num = 0;
		else
			sc_accept(s, "measure");
	} else if (!strcmp(t, "mrtd")) {
		st->kind = 2;
	} else {
		return sc_syntax(s, "tdx: '%s'? (page-add, mrtd)", t);
	}
	return sc_no_more(s);
}

static int x_tdx(struct scenario *s, struct step *st)
{
	if (st->kind == 1)
		return gmem_tdx_page_add(G(s, st)->g, st->off, sc_len_of(s, st),
					 (int)st->num);
	return x_measurement(s, "MRTD", gmem_tdx_mrtd);
}

const struct verb sc_vendor_verbs[] = {
	{ .name = "snp", .parse = p_snp, .exec = x_snp },
	{ .name = "tdx", .parse = p_tdx, .exec = x_tdx },
	{ .name = NULL },
};
