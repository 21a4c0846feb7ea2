/* SPDX-License-Identifier: MIT */
/*
 * rangeset: B+tree of maximal attribute runs.  See rangeset.h.
 *
 * Keys: one uint64 per run, start | attr.  Leaves hold up to LEAF_MAX
 * sorted keys.  Inner nodes hold, for each child i, sep[i] = the exact
 * start of the first run in that child's subtree (so sep[0] of the root
 * is 0), and the child pointer.  A lookup of off descends into the last
 * child whose sep <= off and, in the leaf, picks the last key whose
 * start <= off; keeping separators exact means that key is always in the
 * chosen leaf, and the next separator up the path gives the run's end.
 *
 * Splits: a node that overflows is split in half, except when the new
 * entries go at the very end of a node that is the last child of its
 * parent (address-ordered growth), where the old node is kept full if it
 * is an inner node, and three quarters full if it is a leaf: a later
 * conversion inside one of its runs adds two keys, which then fit
 * without a split (and the conversion back without a merge).  Deletions
 * rebalance a node that falls under half full by merging with, or
 * borrowing from, a sibling.
 *
 * Nodes come from chunks (slabs) of 512-byte, 64-byte-aligned nodes owned
 * by the set; freed nodes go to the set's free list and chunks are only
 * returned at rs_destroy.  rs_set first computes how many nodes its
 * insertions can need and reserves them (fault-injection point), and only
 * then modifies the tree; deletions never allocate.
 */
#include "rangeset.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NODE_BYTES	512u
#define LEAF_MAX	((NODE_BYTES - 8) / 8)		/* 63 keys */
#define INNER_MAX	((NODE_BYTES - 8) / 16)		/* 31 children */
#define LEAF_MIN	(LEAF_MAX / 2)
#define LEAF_APPEND_KEEP (LEAF_MAX * 3 / 4)	/* 47 */
#define INNER_MIN	(INNER_MAX / 2)
#define MAX_HEIGHT	32
#define PAGE		((uint64_t)RS_PAGE_SIZE)
#define ATTR_MASK	((uint64_t)RS_PAGE_SIZE - 1)
#define START(k)	((k) & ~ATTR_MASK)
#define ATTR(k)		((unsigned)((k) & ATTR_MASK))
#define KEY_PAD		UINT64_MAX	/* fills unused key/sep slots */

#define CHUNK_HDR	64u
#define CHUNK_MIN_NODES	2u
#define CHUNK_MAX_NODES	256u

union node;

struct leaf {
	uint32_t n;
	uint32_t pad;
	uint64_t k[LEAF_MAX];
};

struct inner {
	uint32_t n;
	uint32_t pad;
	uint64_t sep[INNER_MAX + 1];	/* sep[INNER_MAX] is always KEY_PAD */
	union node *c[INNER_MAX];
};

union node {
	struct leaf lf;
	struct inner in;
	union node *next_free;
	unsigned char raw[NODE_BYTES];
};

_Static_assert(sizeof(union node) == NODE_BYTES, "node size");
_Static_assert(sizeof(struct inner) == NODE_BYTES, "inner node size");
_Static_assert(LEAF_MAX == 63 && INNER_MAX == 31, "search code assumes 63/31");

/* n is the common initial member of both node kinds */
#define NCOUNT(nd)	((nd)->lf.n)

struct chunk {
	struct chunk *next;
	size_t bytes;
};

_Static_assert(sizeof(struct chunk) <= CHUNK_HDR, "chunk header");

struct rangeset {
	union node *root;
	unsigned height;		/* levels; 1: the root is a leaf */
	uint64_t size;
	size_t runs;
	union node *free;		/* free nodes, linked through next_free */
	size_t nfree;
	size_t nodes;			/* nodes carved from all chunks */
	struct chunk *chunks;
	size_t chunk_bytes;
	long fail_after;
};

struct path {
	unsigned h;
	unsigned i[MAX_HEIGHT];
	union node *n[MAX_HEIGHT];
};

/* ---- node allocation ---------------------------------------------------- */

/*
 * A large tree is looked up at random: every level misses the TLB when the
 * nodes lie on 4 KiB pages.  Past HUGE_AFTER nodes, chunks are one 2 MiB
 * huge page each (aligned, MADV_HUGEPAGE: transparent huge pages in
 * "madvise" mode take it), so a lookup's lower levels share a few TLB
 * entries.  The cost: the last chunk holds up to 2 MiB not carved yet
 * (about 0.4 bytes per run at 10^6 runs); random lookups at 10^6 runs
 * took 84-90 ns instead of 107-127 ns.
 */
#define HUGE_BYTES	(2u << 20)
#define HUGE_AFTER	2048u	/* nodes: 1 MiB of 4 KiB-page chunks first */

static struct chunk *chunk_alloc(size_t *cnt)
{
	struct chunk *c;

	if (*cnt == HUGE_BYTES / NODE_BYTES) {
		c = aligned_alloc(HUGE_BYTES, HUGE_BYTES);
		if (c) {
			madvise(c, HUGE_BYTES, MADV_HUGEPAGE);
			*cnt = (HUGE_BYTES - CHUNK_HDR) / NODE_BYTES;
			c->bytes = HUGE_BYTES;
		}
		return c;
	}
	c = aligned_alloc(64, CHUNK_HDR + *cnt * NODE_BYTES);
	if (c)
		c->bytes = CHUNK_HDR + *cnt * NODE_BYTES;
	return c;
}

static int grow(struct rangeset *rs)
{
	size_t cnt = rs->nodes / 2, bytes, i;
	struct chunk *c;
	unsigned char *base;

	if (cnt < CHUNK_MIN_NODES)
		cnt = CHUNK_MIN_NODES;
	if (cnt > CHUNK_MAX_NODES)
		cnt = CHUNK_MAX_NODES;
	if (rs->nodes >= HUGE_AFTER)
		cnt = HUGE_BYTES / NODE_BYTES;
	c = chunk_alloc(&cnt);
	if (!c)
		return -ENOMEM;
	bytes = c->bytes;
	c->next = rs->chunks;
	rs->chunks = c;
	rs->chunk_bytes += bytes;
	rs->nodes += cnt;
	base = (unsigned char *)c + CHUNK_HDR;
	for (i = cnt; i-- > 0;) {
		union node *nd = (union node *)(void *)(base + i * NODE_BYTES);

		nd->next_free = rs->free;
		rs->free = nd;
	}
	rs->nfree += cnt;
	return 0;
}

/* Make sure need nodes are available; the only place rs_set can fail. */
static int reserve(struct rangeset *rs, size_t need)
{
	if (!need)
		return 0;
	if (rs->fail_after >= 0) {
		if ((unsigned long)rs->fail_after < need) {
			rs->fail_after = 0;
			return -ENOMEM;
		}
		rs->fail_after -= (long)need;
	}
	while (rs->nfree < need)
		if (grow(rs))
			return -ENOMEM;
	return 0;
}

static union node *node_get(struct rangeset *rs)
{
	union node *nd = rs->free;

	/* callers reserved first: the list cannot be empty here */
	rs->free = nd->next_free;
	rs->nfree--;
	memset(nd, 0xff, sizeof(*nd));	/* all slots KEY_PAD; caller sets n */
	return nd;
}

static void node_put(struct rangeset *rs, union node *nd)
{
	nd->next_free = rs->free;
	rs->free = nd;
	rs->nfree++;
}

/* ---- search -------------------------------------------------------------- */

/*
 * Searches.  Unused slots hold KEY_PAD, which is never <= q (q < 2^63 + 4096),
 * so both searches count over fixed positions without looking at n:
 * first the block heads, then the 7 or 8 keys of the selected block.  All
 * compares of a phase are independent and branch-free.
 */
static inline unsigned fill(const uint64_t *a, unsigned n, uint64_t q)
{
	unsigned c = 0;

	for (unsigned j = 0; j < n; j++)
		c += a[j] <= q;
	return c;
}

/* Number of keys of a leaf that are <= q: 9 blocks of 7. */
static inline unsigned leaf_count(const uint64_t *k, uint64_t q)
{
	unsigned b = 0;

	for (unsigned j = 1; j <= 8; j++)
		b += k[7 * j] <= q;
	return 7 * b + fill(k + 7 * b, 7, q);
}

/* Number of separators of an inner node that are <= q: 4 blocks of 8. */
static inline unsigned inner_count(const uint64_t *s, uint64_t q)
{
	unsigned b = (s[8] <= q) + (s[16] <= q) + (s[24] <= q);

	return 8 * b + fill(s + 8 * b, 8, q);
}

static inline void pad(uint64_t *a, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		a[i] = KEY_PAD;
}

static inline void prefetch_lines(const void *p, unsigned lines)
{
	for (unsigned i = 0; i < lines; i++)
		__builtin_prefetch((const char *)p + 64 * i);
}

/* sep[] of an inner node spans its first 4 cache lines */
#define INNER_SEP_LINES	((8 + 8 * (INNER_MAX + 1) + 63) / 64)
#define LEAF_LINES	(NODE_BYTES / 64)

/* Path to the last key whose start <= (q & ~ATTR_MASK); q has the low bits set. */
static void descend(const struct rangeset *rs, uint64_t q, struct path *p)
{
	union node *nd = rs->root;
	unsigned l;

	p->h = rs->height;
	for (l = 0; l + 1 < p->h; l++) {
		unsigned i = inner_count(nd->in.sep, q) - 1;

		p->n[l] = nd;
		p->i[l] = i;
		nd = nd->in.c[i];
	}
	p->n[l] = nd;
	p->i[l] = leaf_count(nd->lf.k, q) - 1;
}

static inline uint64_t key_at(const struct path *p)
{
	return p->n[p->h - 1]->lf.k[p->i[p->h - 1]];
}

/* Step to the next key; returns false (path unchanged) at the last key. */
static bool path_next(struct path *p)
{
	unsigned leafl = p->h - 1;
	int lv;
	union node *nd;

	if (p->i[leafl] + 1 < p->n[leafl]->lf.n) {
		p->i[leafl]++;
		return true;
	}
	for (lv = (int)leafl - 1; lv >= 0; lv--)
		if (p->i[lv] + 1 < p->n[lv]->in.n)
			break;
	if (lv < 0)
		return false;
	p->i[lv]++;
	nd = p->n[lv]->in.c[p->i[lv]];
	for (lv++; (unsigned)lv < leafl; lv++) {
		p->n[lv] = nd;
		p->i[lv] = 0;
		nd = nd->in.c[0];
	}
	p->n[leafl] = nd;
	p->i[leafl] = 0;
	return true;
}

unsigned rs_lookup(const struct rangeset *rs, uint64_t off, uint64_t *run_end)
{
	const union node *nd = rs->root;
	uint64_t q, end = rs->size;
	unsigned h, i;

	if (off >= rs->size)
		off = rs->size - 1;
	q = off | ATTR_MASK;
	for (h = rs->height; h > 1; h--) {
		uint64_t nxt;

		prefetch_lines(nd, INNER_SEP_LINES);
		i = inner_count(nd->in.sep, q) - 1;
		nxt = nd->in.sep[i + 1];	/* KEY_PAD past the last child */
		end = nxt < end ? nxt : end;
		nd = nd->in.c[i];
	}
	prefetch_lines(nd, LEAF_LINES);
	i = leaf_count(nd->lf.k, q) - 1;
	if (i + 1 < LEAF_MAX) {
		uint64_t nxt = START(nd->lf.k[i + 1]);

		end = nxt < end ? nxt : end;
	}
	if (run_end)
		*run_end = end;
	return ATTR(nd->lf.k[i]);
}

/* ---- modification helpers ------------------------------------------------ */

/* The first start of the child at index idx of level lv became m. */
static void fix_min(struct path *p, unsigned lv, unsigned idx, uint64_t m)
{
	for (;;) {
		p->n[lv]->in.sep[idx] = m;
		if (idx || lv == 0)
			return;
		lv--;
		idx = p->i[lv];
	}
}

static inline uint64_t node_min(const union node *nd, bool leaf)
{
	return leaf ? START(nd->lf.k[0]) : nd->in.sep[0];
}

static inline bool last_child(const struct path *p, unsigned l)
{
	return l == 0 || p->i[l - 1] + 1 == p->n[l - 1]->in.n;
}

static void overwrite(struct path *p, uint64_t key)
{
	unsigned l = p->h - 1, i = p->i[l];
	uint64_t old = p->n[l]->lf.k[i];

	p->n[l]->lf.k[i] = key;
	if (i == 0 && l > 0 && START(old) != START(key))
		fix_min(p, l - 1, p->i[l - 1], START(key));
}

/* Nodes needed to insert cnt keys into the leaf of p. */
static size_t split_need(const struct path *p, unsigned cnt)
{
	unsigned l = p->h - 1;
	size_t need = 1;
	int lv;

	if (p->n[l]->lf.n + cnt <= LEAF_MAX)
		return 0;
	for (lv = (int)l - 1; lv >= 0; lv--) {
		if (p->n[lv]->in.n < INNER_MAX)
			return need;
		need++;
	}
	return need + 1;	/* new root */
}

/* Insert (sep, child) right after index p->i[lv] of the inner node at lv. */
static void insert_child(struct rangeset *rs, struct path *p, int lv,
			 uint64_t sep, union node *child)
{
	for (;;) {
		struct inner *nd;
		unsigned pos, n, total, lc;
		uint64_t ts[INNER_MAX + 1];
		union node *tc[INNER_MAX + 1], *r;

		if (lv < 0) {
			r = node_get(rs);
			r->in.n = 2;
			r->in.sep[0] = 0;
			r->in.c[0] = rs->root;
			r->in.sep[1] = sep;
			r->in.c[1] = child;
			rs->root = r;
			rs->height++;
			return;
		}
		nd = &p->n[lv]->in;
		pos = p->i[lv] + 1;
		n = nd->n;
		if (n < INNER_MAX) {
			memmove(&nd->sep[pos + 1], &nd->sep[pos],
				(n - pos) * sizeof(nd->sep[0]));
			memmove(&nd->c[pos + 1], &nd->c[pos],
				(n - pos) * sizeof(nd->c[0]));
			nd->sep[pos] = sep;
			nd->c[pos] = child;
			nd->n = n + 1;
			return;
		}
		memcpy(ts, nd->sep, pos * sizeof(ts[0]));
		memcpy(tc, nd->c, pos * sizeof(tc[0]));
		ts[pos] = sep;
		tc[pos] = child;
		memcpy(&ts[pos + 1], &nd->sep[pos], (n - pos) * sizeof(ts[0]));
		memcpy(&tc[pos + 1], &nd->c[pos], (n - pos) * sizeof(tc[0]));
		total = n + 1;
		lc = (pos == n && last_child(p, (unsigned)lv)) ? INNER_MAX - 1
							       : total / 2;
		r = node_get(rs);
		memcpy(nd->sep, ts, lc * sizeof(ts[0]));
		memcpy(nd->c, tc, lc * sizeof(tc[0]));
		pad(nd->sep, lc, INNER_MAX);
		nd->n = lc;
		memcpy(r->in.sep, &ts[lc], (total - lc) * sizeof(ts[0]));
		memcpy(r->in.c, &tc[lc], (total - lc) * sizeof(tc[0]));
		r->in.n = total - lc;
		sep = r->in.sep[0];
		child = r;
		lv--;
	}
}

/* Insert cnt (1 or 2) sorted keys at index pos >= 1 of the leaf of p. */
static void insert_keys(struct rangeset *rs, struct path *p, unsigned pos,
			const uint64_t *keys, unsigned cnt)
{
	unsigned l = p->h - 1, n, total, lc;
	struct leaf *lf = &p->n[l]->lf;
	uint64_t tmp[LEAF_MAX + 2];
	union node *r;

	n = lf->n;
	rs->runs += cnt;
	if (n + cnt <= LEAF_MAX) {
		memmove(&lf->k[pos + cnt], &lf->k[pos], (n - pos) * sizeof(tmp[0]));
		memcpy(&lf->k[pos], keys, cnt * sizeof(tmp[0]));
		lf->n = n + cnt;
		return;
	}
	memcpy(tmp, lf->k, pos * sizeof(tmp[0]));
	memcpy(&tmp[pos], keys, cnt * sizeof(tmp[0]));
	memcpy(&tmp[pos + cnt], &lf->k[pos], (n - pos) * sizeof(tmp[0]));
	total = n + cnt;
	lc = (pos == n && last_child(p, l)) ? LEAF_APPEND_KEEP : total / 2;
	r = node_get(rs);
	memcpy(lf->k, tmp, lc * sizeof(tmp[0]));
	pad(lf->k, lc, LEAF_MAX);
	lf->n = lc;
	memcpy(r->lf.k, &tmp[lc], (total - lc) * sizeof(tmp[0]));
	r->lf.n = total - lc;
	insert_child(rs, p, (int)l - 1, START(r->lf.k[0]), r);
}

/* Move the first t entries of b to the end of a. */
static void move_left(union node *a, union node *b, unsigned t, bool leaf)
{
	unsigned na = NCOUNT(a), nb = NCOUNT(b);

	if (leaf) {
		memcpy(&a->lf.k[na], b->lf.k, t * sizeof(a->lf.k[0]));
		memmove(b->lf.k, &b->lf.k[t], (nb - t) * sizeof(a->lf.k[0]));
		pad(b->lf.k, nb - t, nb);
	} else {
		memcpy(&a->in.sep[na], b->in.sep, t * sizeof(a->in.sep[0]));
		memmove(b->in.sep, &b->in.sep[t], (nb - t) * sizeof(a->in.sep[0]));
		pad(b->in.sep, nb - t, nb);
		memcpy(&a->in.c[na], b->in.c, t * sizeof(a->in.c[0]));
		memmove(b->in.c, &b->in.c[t], (nb - t) * sizeof(a->in.c[0]));
	}
	NCOUNT(a) = na + t;
	NCOUNT(b) = nb - t;
}

/* Move the last t entries of a to the front of b. */
static void move_right(union node *a, union node *b, unsigned t, bool leaf)
{
	unsigned na = NCOUNT(a), nb = NCOUNT(b);

	if (leaf) {
		memmove(&b->lf.k[t], b->lf.k, nb * sizeof(a->lf.k[0]));
		memcpy(b->lf.k, &a->lf.k[na - t], t * sizeof(a->lf.k[0]));
		pad(a->lf.k, na - t, na);
	} else {
		memmove(&b->in.sep[t], b->in.sep, nb * sizeof(a->in.sep[0]));
		memcpy(b->in.sep, &a->in.sep[na - t], t * sizeof(a->in.sep[0]));
		pad(a->in.sep, na - t, na);
		memmove(&b->in.c[t], b->in.c, nb * sizeof(a->in.c[0]));
		memcpy(b->in.c, &a->in.c[na - t], t * sizeof(a->in.c[0]));
	}
	NCOUNT(a) = na - t;
	NCOUNT(b) = nb + t;
}

/* The node at level l >= 1 of p is under-full: merge or borrow, upwards. */
static void rebalance(struct rangeset *rs, struct path *p, unsigned l)
{
	for (;;) {
		bool leaf = l == p->h - 1;
		struct inner *par = &p->n[l - 1]->in;
		unsigned j = p->i[l - 1];
		unsigned a = j > 0 ? j - 1 : j;
		union node *na = par->c[a], *nb = par->c[a + 1];
		unsigned ca = NCOUNT(na), cb = NCOUNT(nb);
		unsigned max = leaf ? LEAF_MAX : INNER_MAX;

		if (ca + cb > max) {
			unsigned ta = (ca + cb) / 2;

			if (ca < ta)
				move_left(na, nb, ta - ca, leaf);
			else if (ca > ta)
				move_right(na, nb, ca - ta, leaf);
			par->sep[a + 1] = node_min(nb, leaf);
			return;
		}
		move_left(na, nb, cb, leaf);
		node_put(rs, nb);
		memmove(&par->sep[a + 1], &par->sep[a + 2],
			(par->n - a - 2) * sizeof(par->sep[0]));
		memmove(&par->c[a + 1], &par->c[a + 2],
			(par->n - a - 2) * sizeof(par->c[0]));
		par->sep[par->n - 1] = KEY_PAD;
		par->n--;
		if (ca == 0)	/* an emptied leaf took its sibling's keys */
			fix_min(p, l - 1, a, node_min(na, leaf));
		if (l - 1 == 0) {
			if (par->n == 1) {
				rs->root = na;
				node_put(rs, p->n[0]);
				rs->height--;
			}
			return;
		}
		if (par->n >= INNER_MIN)
			return;
		l--;
	}
}

/* Remove cnt keys starting at the position of p, all in its leaf. */
static void delete_in_leaf(struct rangeset *rs, struct path *p, unsigned cnt)
{
	unsigned l = p->h - 1, i = p->i[l];
	struct leaf *lf = &p->n[l]->lf;

	memmove(&lf->k[i], &lf->k[i + cnt], (lf->n - i - cnt) * sizeof(lf->k[0]));
	pad(lf->k, lf->n - cnt, lf->n);
	lf->n -= cnt;
	rs->runs -= cnt;
	if (l == 0)
		return;		/* the root leaf keeps the key at 0 */
	if (i == 0 && lf->n)
		fix_min(p, l - 1, p->i[l - 1], START(lf->k[0]));
	if (lf->n < LEAF_MIN)
		rebalance(rs, p, l);
}

/* Delete every key whose start lies in [lo, end). */
static void delete_zone(struct rangeset *rs, uint64_t lo, uint64_t end)
{
	struct path p;

	while (lo < end) {
		struct leaf *lf;
		unsigned i, j;

		descend(rs, lo | ATTR_MASK, &p);
		if (START(key_at(&p)) < lo && !path_next(&p))
			return;
		lf = &p.n[p.h - 1]->lf;
		i = j = p.i[p.h - 1];
		while (j < lf->n && START(lf->k[j]) < end)
			j++;
		if (j == i)
			return;
		delete_in_leaf(rs, &p, j - i);
	}
}

/* ---- public API ---------------------------------------------------------- */

int rs_create(struct rangeset **out, uint64_t size, unsigned attr)
{
	struct rangeset *rs;
	union node *root;

	if (!out || !size || (size & ATTR_MASK) || size > RS_SIZE_MAX ||
	    attr > RS_ATTR_MAX)
		return -EINVAL;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->fail_after = -1;
	rs->size = size;
	if (reserve(rs, 1)) {
		free(rs);
		return -ENOMEM;
	}
	root = node_get(rs);
	root->lf.n = 1;
	root->lf.k[0] = attr;
	rs->root = root;
	rs->height = 1;
	rs->runs = 1;
	*out = rs;
	return 0;
}

void rs_destroy(struct rangeset *rs)
{
	struct chunk *c, *next;

	if (!rs)
		return;
	for (c = rs->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(rs);
}

int rs_set(struct rangeset *rs, uint64_t s, uint64_t e, unsigned v)
{
	struct path p, q;
	uint64_t c0 = 0, clast = 0, keys[2];
	unsigned pattr = 0, battr, k, cnt = 0;
	bool has_prev = s > 0, have, want_s, want_e;
	int ret;

	if (!rs || s >= e || ((s | e) & ATTR_MASK) || e > rs->size ||
	    v > RS_ATTR_MAX)
		return -EINVAL;

	/* p: run containing s - 1; q: first key with start >= s */
	if (has_prev) {
		descend(rs, (s - 1) | ATTR_MASK, &p);
		pattr = ATTR(key_at(&p));
		q = p;
		have = path_next(&q);
	} else {
		descend(rs, ATTR_MASK, &q);
		have = true;
	}

	/* k: keys with start in [s, e], capped at 2; clast: the last one */
	if (!have || START(c0 = key_at(&q)) > e) {
		k = 0;
	} else {
		const struct leaf *lf = &q.n[q.h - 1]->lf;
		unsigned i = q.i[q.h - 1];

		if (i + 1 < lf->n && START(lf->k[i + 1]) > e) {
			clast = c0;
		} else {
			struct path r;

			descend(rs, e | ATTR_MASK, &r);
			clast = key_at(&r);
		}
		k = clast == c0 ? 1 : 2;
	}

	battr = k ? ATTR(clast) : pattr;
	want_s = !has_prev || pattr != v;
	want_e = e < rs->size && battr != v;
	if (want_s)
		keys[cnt++] = s | v;
	if (want_e)
		keys[cnt++] = e | battr;

	if (k == 0) {
		/* s and e are inside the run of p: split it */
		if (!cnt)
			return 0;
		if (p.h + 1 > MAX_HEIGHT)
			return -ENOMEM;
		ret = reserve(rs, split_need(&p, cnt));
		if (ret)
			return ret;
		insert_keys(rs, &p, p.i[p.h - 1] + 1, keys, cnt);
		return 0;
	}
	if (k == 1) {
		if (cnt == 2) {
			if (q.h + 1 > MAX_HEIGHT)
				return -ENOMEM;
			ret = reserve(rs, split_need(&q, 1));
			if (ret)
				return ret;
			overwrite(&q, keys[0]);
			insert_keys(rs, &q, q.i[q.h - 1] + 1, &keys[1], 1);
		} else if (cnt == 1) {
			if (c0 != keys[0])
				overwrite(&q, keys[0]);
		} else {
			delete_in_leaf(rs, &q, 1);
		}
		return 0;
	}

	/* k >= 2: keep c0 for the key at s, clast for the key at e, drop the rest */
	delete_zone(rs, want_s ? START(c0) + PAGE : START(c0),
		    want_e ? START(clast) : START(clast) + PAGE);
	if (want_s && c0 != keys[0]) {
		descend(rs, START(c0) | ATTR_MASK, &p);
		overwrite(&p, keys[0]);
	}
	if (want_e && clast != keys[cnt - 1]) {
		descend(rs, START(clast) | ATTR_MASK, &p);
		overwrite(&p, keys[cnt - 1]);
	}
	return 0;
}

int rs_all_equal(const struct rangeset *rs, uint64_t start, uint64_t end,
		 unsigned attr, uint64_t *first_diff)
{
	struct path p;

	if (end > rs->size)
		end = rs->size;
	if (start >= end)
		return 1;
	descend(rs, start | ATTR_MASK, &p);
	for (;;) {
		uint64_t key = key_at(&p);

		if (ATTR(key) != attr) {
			if (first_diff)
				*first_diff = START(key) > start ? START(key) : start;
			return 0;
		}
		if (!path_next(&p) || START(key_at(&p)) >= end)
			return 1;
	}
}

int rs_for_each(const struct rangeset *rs, uint64_t start, uint64_t end,
		int (*fn)(uint64_t s, uint64_t e, unsigned attr, void *arg),
		void *arg)
{
	struct path p;
	uint64_t key;

	if (end > rs->size)
		end = rs->size;
	if (start >= end)
		return 0;
	descend(rs, start | ATTR_MASK, &p);
	key = key_at(&p);
	for (;;) {
		uint64_t rs_s = START(key) > start ? START(key) : start;
		bool more = path_next(&p);
		uint64_t next = more ? key_at(&p) : 0;
		uint64_t rs_e = more ? START(next) : rs->size;
		int r;

		if (rs_e > end)
			rs_e = end;
		r = fn(rs_s, rs_e, ATTR(key), arg);
		if (r)
			return r;
		if (!more || rs_e >= end)
			return 0;
		key = next;
	}
}

int rs_reserve(struct rangeset *rs, unsigned nsets)
{
	/* One rs_set() needs at most a node per level plus a new root; the
	 * tree may grow by one level per set. */
	return reserve(rs, (size_t)nsets * (rs_height(rs) + 1 + nsets));
}

size_t rs_runs(const struct rangeset *rs)
{
	return rs->runs;
}

size_t rs_bytes(const struct rangeset *rs)
{
	return sizeof(*rs) + rs->chunk_bytes;
}

uint64_t rs_size(const struct rangeset *rs)
{
	return rs->size;
}

unsigned rs_height(const struct rangeset *rs)
{
	return rs->height;
}

void rs_fail_alloc_after(struct rangeset *rs, long n)
{
	rs->fail_after = n < 0 ? -1 : n;
}

/* ---- invariant checker --------------------------------------------------- */

struct check {
	const struct rangeset *rs;
	uint64_t prev;		/* previous key, or UINT64_MAX before the first */
	size_t keys, nodes;
};

static int check_node(struct check *ck, const union node *nd, unsigned lv,
		      uint64_t lo, uint64_t hi)
{
	unsigned i;
	int ret;

	ck->nodes++;
	if (lv + 1 == ck->rs->height) {
		const struct leaf *lf = &nd->lf;

		if (lf->n < 1 || lf->n > LEAF_MAX)
			return -1;
		if (START(lf->k[0]) != lo)
			return -2;
		for (i = 0; i < lf->n; i++) {
			uint64_t key = lf->k[i];

			if (START(key) >= hi)
				return -3;
			if (ck->prev != UINT64_MAX) {
				if (START(key) <= START(ck->prev))
					return -4;
				if (ATTR(key) == ATTR(ck->prev))
					return -5;	/* runs not maximal */
			}
			ck->prev = key;
		}
		for (; i < LEAF_MAX; i++)
			if (lf->k[i] != KEY_PAD)
				return -14;
		ck->keys += lf->n;
		return 0;
	}
	if (nd->in.n < 2 || nd->in.n > INNER_MAX)
		return -6;
	if (nd->in.sep[0] != lo)
		return -7;
	for (i = nd->in.n; i <= INNER_MAX; i++)
		if (nd->in.sep[i] != KEY_PAD)
			return -15;
	for (i = 0; i < nd->in.n; i++) {
		uint64_t clo = nd->in.sep[i];
		uint64_t chi = i + 1 < nd->in.n ? nd->in.sep[i + 1] : hi;

		if (clo & ATTR_MASK)
			return -8;
		if (clo >= chi)
			return -9;
		ret = check_node(ck, nd->in.c[i], lv + 1, clo, chi);
		if (ret)
			return ret;
	}
	return 0;
}

int rs_check(const struct rangeset *rs)
{
	struct check ck = { .rs = rs, .prev = UINT64_MAX };
	const union node *f;
	size_t nfree = 0;
	int ret;

	if (!rs->root || rs->height < 1 || rs->height > MAX_HEIGHT)
		return -10;
	ret = check_node(&ck, rs->root, 0, 0, rs->size);
	if (ret)
		return ret;
	if (ck.keys != rs->runs)
		return -11;
	for (f = rs->free; f; f = f->next_free)
		nfree++;
	if (nfree != rs->nfree)
		return -12;
	if (ck.nodes + nfree != rs->nodes)
		return -13;
	return 0;
}
