/* SPDX-License-Identifier: MIT */
/*
 * Scenario verbs that print: echo, and show with the attribute map
 * (scenario_map_runs(), which `gmemctl map` uses too).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- echo and show ------------------------------------------------------ */

static int p_echo(struct scenario *s, struct step *st)
{
	size_t n = 0;

	for (unsigned i = 1; i < s->ntok; i++)
		n += strlen(s->tok[i]) + 1;
	st->text = calloc(1, n + 1);
	if (!st->text)
		return sc_syntax(s, "out of memory");
	for (unsigned i = 1; i < s->ntok; i++) {
		const char *t = s->tok[i];

		if (i > 1)
			strcat(st->text, " ");
		strcat(st->text, *t == '"' ? t + 1 : t);
	}
	s->ti = s->ntok;
	return 0;
}

static int x_echo(struct scenario *s, struct step *st)
{
	sc_out(s, "%s\n", st->text);
	return 0;
}

struct show_ctx { struct scenario *s; const char *plat; };

static int show_run(const struct scenario_run *r, void *arg)
{
	struct show_ctx *c = arg;

	sc_out(c->s, "  0x%-12llx +0x%-10llx %-7s %-11s %-8s %s\n",
	       (unsigned long long)r->offset, (unsigned long long)r->len,
	       r->private_ ? "private" : "shared",
	       r->allocated ? "allocated" : "unallocated",
	       r->pinned ? "pinned" : "-",
	       scenario_vendor_state_name(c->plat, r->vendor_state));
	return 0;
}

static int p_show(struct scenario *s, struct step *st)
{
	return sc_gmem_ref(s, st) || sc_no_more(s) ? -1 : 0;
}

static int x_show(struct scenario *s, struct step *st)
{
	struct show_ctx c = { s, gmem_vm_platform(s->vm) };

	sc_out(s, "%s:\n", G(s, st)->name);
	return scenario_map_runs(G(s, st)->g, show_run, NULL, &c);
}

/* ---- the attribute map -------------------------------------------------- */

static bool same_run(const struct scenario_run *r, const struct gmem_page_info *pi)
{
	return r->private_ == !!(pi->attributes & GMEM_ATTR_PRIVATE) &&
	       r->allocated == !!pi->allocated && r->pinned == !!pi->pinned &&
	       r->encrypted == !!pi->encrypted && r->vendor_state == pi->vendor_state;
}

int scenario_map_runs(struct gmem *g,
		      int (*fn)(const struct scenario_run *r, void *arg),
		      void (*progress)(uint64_t done, uint64_t size, void *arg),
		      void *arg)
{
	uint64_t size = gmem_size(g);
	struct scenario_run r;
	struct gmem_page_info pi;
	int ret;

	memset(&r, 0, sizeof(r));
	for (uint64_t o = 0; o < size; o += PAGE) {
		if (progress && !(o & ((PAGE << 16) - 1)))
			progress(o, size, arg);
		ret = gmem_page_info(g, o, &pi);
		if (ret)
			return ret;
		if (r.len && same_run(&r, &pi)) {
			r.len += PAGE;
			continue;
		}
		if (r.len && (ret = fn(&r, arg)))
			return ret;
		r.offset = o;
		r.len = PAGE;
		r.private_ = pi.attributes & GMEM_ATTR_PRIVATE;
		r.allocated = pi.allocated;
		r.pinned = pi.pinned;
		r.encrypted = pi.encrypted;
		r.vendor_state = pi.vendor_state;
	}
	return r.len ? fn(&r, arg) : 0;
}

const struct verb sc_output_verbs[] = {
	{ .name = "echo", .parse = p_echo, .exec = x_echo, .without_vm = true },
	{ .name = "show", .parse = p_show, .exec = x_show },
	{ .name = NULL },
};
