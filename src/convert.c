/* SPDX-License-Identifier: MIT */
/*
 * gmem_set_memory_attributes(): the conversion engine (DESIGN.md §2).
 *
 * Order of work, so that a failed call changes nothing:
 *   1. validate the request (-EINVAL), in the kernel's order;
 *   2. the policy table: may this platform give this content mode in this
 *      direction and phase? (-EOPNOTSUPP, error_offset = offset);
 *   3. to-private: elevated references (-EAGAIN, error_offset = first
 *      pinned page);
 *   4. reserve the attribute store's memory (-ENOMEM);
 *   5. host views: revoke (to-private) or restore (to-shared) the span of
 *      pages whose state changes, in one call — the only step left that
 *      can fail (-ENOMEM at vm.max_map_count), and then nothing changed;
 *      a to-shared conversion other than PRESERVE only splits the SIGBUS
 *      cover here, so the host never sees the bytes the next step changes;
 *   6. the platform's side effects and the content mode on each run whose
 *      state changes (cannot fail), then the hidden view opens;
 *   7. the attribute and vendor stores (cannot fail after step 4).
 */
#include <string.h>

#include "internal.h"
#include "policy.h"

#define CONTENT_FLAGS (GMEM_CONTENT_ZERO | GMEM_CONTENT_PRESERVE)

static int validate(const struct gmem *g, const struct gmem_attributes2 *a)
{
	const struct gmem_policy *pol = g->vm->policy;

	if (a->flags & ~CONTENT_FLAGS)
		return -EINVAL;
	if (a->flags && !pol->content_flags)
		return -EINVAL;
	if (a->attributes & ~GMEM_ATTR_PRIVATE)
		return -EINVAL;
	if ((a->flags & CONTENT_FLAGS) == CONTENT_FLAGS)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(a->reserved) / sizeof(a->reserved[0]); i++)
		if (a->reserved[i])
			return -EINVAL;
	if (a->error_offset && !pol->error_offset_in)
		return -EINVAL;
	if (!a->size || !PAGE_ALIGNED(a->offset) || !PAGE_ALIGNED(a->size))
		return -EINVAL;
	if (a->offset + a->size < a->offset || a->offset + a->size > g->size)
		return -EINVAL;
	return 0;
}

static int first_pinned(uint64_t s, uint64_t e __attribute__((unused)),
			unsigned pins, void *arg)
{
	if (!pins)
		return 0;
	*(uint64_t *)arg = s;
	return 1;
}

struct run_ctx {
	struct gmem *g;
	uint64_t mode;
	unsigned from;		/* attributes of the pages that change */
	uint64_t span_start, span_end;	/* first and last page that change */
	bool hidden;		/* the view stays covered until revealed */
};

/*
 * Host views change only where the state changes, so a no-op conversion
 * never splits a VMA (each VMA counts against vm.max_map_count).
 *
 * One mmap covers the span from the first to the last page that changes.
 * To-private: pages already private inside it stay unreachable.
 * To-shared: pages already shared inside it map the same file pages again.
 * A single call either happens or not, so no step ever needs a rollback
 * (a rollback that itself fails would leave private pages mapped), and the
 * span's VMA merges with its neighbours of the same kind.
 */
static int span_run(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct run_ctx *c = arg;

	if (attr != c->from)
		return 0;
	if (c->span_end == 0)
		c->span_start = s;
	c->span_end = e;
	return 0;
}

/* Run by run, so that shared pages between the private runs stay
 * reachable: covering a private run again is invisible, so a failure
 * part-way needs no rollback. */
static int hide_run(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct run_ctx *c = arg;

	if (attr != c->from)
		return 0;
	return gmem__view_restore_hidden(c->g, s, e - s);
}

static int reveal_run(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct run_ctx *c = arg;

	if (attr == c->from)
		gmem__view_reveal(c->g, s, e - s);
	return 0;
}

static int view_change(struct gmem *g, uint64_t start, uint64_t end,
		       struct run_ctx *c)
{
	uint64_t len;

	/* Only PRESERVE leaves every byte as it is: any other mode may change
	 * them (ZERO, a scramble, a vendor clear), and the host must never
	 * see the old ones.  While hidden, content modes write through the
	 * library's own mapping (g->view_covered, src/content.c). */
	if (c->from == GMEM_ATTR_PRIVATE && c->mode != GMEM_CONTENT_PRESERVE) {
		c->hidden = true;
		g->view_covered = true;
		return rs_for_each(g->attrs, start, end, hide_run, c);
	}
	rs_for_each(g->attrs, start, end, span_run, c);
	if (c->span_end == 0)
		return 0;		/* nothing changes state */
	len = c->span_end - c->span_start;
	if (c->from == GMEM_ATTR_PRIVATE)
		return gmem__view_restore(g, c->span_start, len);
	return gmem__view_revoke(g, c->span_start, len);
}

static int side_effects_run(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct run_ctx *c = arg;
	const struct gmem_platform *plat = c->g->vm->plat;
	uint64_t pages = (e - s) >> PAGE_SHIFT;

	if (attr != c->from)
		return 0;
	if (c->from == GMEM_ATTR_PRIVATE) {
		plat->to_shared(c->g, s, e - s, c->mode);
		c->g->stats.pages_to_shared += pages;
	} else {
		plat->to_private(c->g, s, e - s, c->mode);
		c->g->stats.pages_to_private += pages;
	}
	return 0;
}

/* Steps 2-5: everything that can fail, before anything changes. */
static int convert_prepare(struct gmem *g, struct gmem_attributes2 *a,
			   struct run_ctx *c)
{
	uint64_t start = a->offset, end = a->offset + a->size, pinned;
	bool to_private = a->attributes & GMEM_ATTR_PRIVATE;
	int ret;

	if (!(gmem__vm_modes(g->vm, a->attributes) & gmem__mode_bit(a->flags)))
		return -EOPNOTSUPP;
	if (to_private &&
	    rs_for_each(g->pins, start, end, first_pinned, &pinned)) {
		a->error_offset = pinned;
		return -EAGAIN;
	}
	ret = rs_reserve(g->attrs, 1);
	if (!ret && g->vendor && !to_private)
		ret = rs_reserve(g->vendor, 1);
	if (ret || !g->view)
		return ret;
	return view_change(g, start, end, c);
}

static int convert_locked(struct gmem *g, struct gmem_attributes2 *a)
{
	uint64_t start = a->offset, end = a->offset + a->size;
	bool to_private = a->attributes & GMEM_ATTR_PRIVATE;
	struct run_ctx c = {
		.g = g, .mode = a->flags,
		.from = to_private ? 0 : GMEM_ATTR_PRIVATE,
	};
	/* A failed call leaves even the statistics as they were. */
	struct gmem_stats saved = g->stats;
	int ret;

	ret = convert_prepare(g, a, &c);
	if (ret) {
		g->view_covered = false;	/* covered runs are still private */
		g->stats = saved;
		return ret;
	}
	/* Nothing fails from here on: children of fork() cover the range
	 * before any byte or attribute changes. */
	if (to_private)
		gmem__view_tell(g, start, end - start, true);
	rs_for_each(g->attrs, start, end, side_effects_run, &c);
	if (c.hidden) {
		rs_for_each(g->attrs, start, end, reveal_run, &c);
		g->view_covered = false;
	}
	if (g->vendor && !to_private)
		rs_set(g->vendor, start, end, g->vm->plat->vendor_initial);
	gmem__attrs_set(g, start, end, (unsigned)a->attributes);
	if (!to_private)
		gmem__view_tell(g, start, end - start, false);
	g->stats.conversions++;
	return 0;
}

/*
 * Steps 1-4 without changing anything: may g take conversion a as one of
 * nsets conversions of g to be made in a row?  0 means the memory of nsets
 * attribute (and vendor) store updates is reserved, and that each of them,
 * on a gmem without a host view, cannot fail until something else changes
 * g; otherwise the error gmem_set_memory_attributes() would give
 * (error_offset set alike).
 */
int gmem__convert_check(struct gmem *g, struct gmem_attributes2 *a,
			unsigned nsets)
{
	uint64_t pinned;
	int ret;

	if (!g || !a)
		return -EFAULT;
	if (g->backend->set_attributes)
		return 0;		/* the backend's own engine decides */
	ret = validate(g, a);
	if (ret)
		return ret;
	pthread_rwlock_wrlock(&g->lock);
	if (!(gmem__vm_modes(g->vm, a->attributes) & gmem__mode_bit(a->flags))) {
		ret = -EOPNOTSUPP;
		a->error_offset = a->offset;
	} else if ((a->attributes & GMEM_ATTR_PRIVATE) &&
		   rs_for_each(g->pins, a->offset, a->offset + a->size,
			       first_pinned, &pinned)) {
		ret = -EAGAIN;
		a->error_offset = pinned;
	} else {
		ret = rs_reserve(g->attrs, nsets ? nsets : 1);
		if (!ret && g->vendor && !(a->attributes & GMEM_ATTR_PRIVATE))
			ret = rs_reserve(g->vendor, nsets ? nsets : 1);
		if (ret)
			a->error_offset = a->offset;
	}
	pthread_rwlock_unlock(&g->lock);
	return ret;
}

int gmem_set_memory_attributes(struct gmem *g, struct gmem_attributes2 *a)
{
	int ret;

	if (!g || !a)
		return -EFAULT;
	if (g->backend->set_attributes)
		return g->backend->set_attributes(g, a);
	ret = validate(g, a);
	if (ret)
		return ret;
	pthread_rwlock_wrlock(&g->lock);
	ret = convert_locked(g, a);
	pthread_rwlock_unlock(&g->lock);
	if (ret && ret != -EINVAL && ret != -EAGAIN)
		a->error_offset = a->offset;
	return ret;
}

int gmem_convert(struct gmem *g, uint64_t offset, uint64_t size,
		 uint64_t attributes, uint64_t flags, uint64_t *error_offset)
{
	struct gmem_attributes2 a = {
		.offset = offset, .size = size,
		.attributes = attributes, .flags = flags,
	};
	int ret = gmem_set_memory_attributes(g, &a);

	if (error_offset)
		*error_offset = a.error_offset;
	return ret;
}
