/* SPDX-License-Identifier: MIT */
/*
 * Security and consistency invariants of a gmem, shared by the fault
 * injection, stress and fuzz programs.  Header-only, no TAP: each check
 * returns the number of violations and describes the first in a buffer.
 *
 *   inv_probe_*()   host-view accesses that turn SIGBUS into a return value
 *                   (per thread, so concurrent probes are fine);
 *   inv_check()     the invariants that hold at any quiescent point: no
 *                   private page readable through the host view, shared
 *                   pages show their physical bytes, pins only on shared
 *                   pages, queries agree with each other;
 *   inv_snap_*()    a full picture of a gmem (attributes, vendor state,
 *                   pins, allocation, physical bytes, host-view bytes and
 *                   readability, statistics, launch measurement) and its
 *                   comparison, for "a failed call changes nothing".
 *
 * Reading a hole through a mapping allocates it, so snapshots only read
 * pages that are allocated (a hole reads zero by definition).
 */
#ifndef GMEM_INVARIANTS_H
#define GMEM_INVARIANTS_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmem/gmem.h"

#define INV_PG GMEM_PAGE_SIZE

/* ---- SIGBUS probes -------------------------------------------------------- */

/* volatile: the stores around the probed access must not be optimised
 * away (the access itself may trap). */
static __thread sigjmp_buf *volatile inv_jb;
static unsigned long inv_sigbus_seen;	/* approximate; for the figures */

static void inv_sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (inv_jb) {
		__atomic_add_fetch(&inv_sigbus_seen, 1, __ATOMIC_RELAXED);
		siglongjmp(*inv_jb, 1);
	}
	/* Not probing: a real bug.  Die of the signal as the program would. */
	signal(sig, SIG_DFL);
}

static inline void inv_sigbus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = inv_sigbus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Host-view accesses race with conversions by design (the answer is the
 * data or SIGBUS), and ThreadSanitizer counts the library's mmap() over the
 * view as a plain write: programs that probe concurrently suppress races
 * whose stack holds inv_probe_ (INV_TSAN_SUPPRESSIONS).
 */
#define INV_TSAN_SUPPRESSIONS "race:inv_probe_copy\nrace:inv_probe_store\n"

/*
 * Copy len bytes (a multiple of 8, 8-aligned) from a host view with relaxed
 * atomic loads (threads may write the page meanwhile).  0, or -1 when the
 * access raised SIGBUS; dst is then partly written.
 */
static __attribute__((noinline, unused)) int inv_probe_copy(void *dst, const void *src,
						     size_t len)
{
	sigjmp_buf jb;
	const uint64_t *s = src;
	uint64_t *d = dst;

	if (sigsetjmp(jb, 1)) {
		inv_jb = NULL;
		return -1;
	}
	inv_jb = &jb;
	for (size_t i = 0; i < len / 8; i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
	inv_jb = NULL;
	return 0;
}

/* Store len bytes into a host view; 0, or -1 on SIGBUS. */
static __attribute__((noinline, unused)) int inv_probe_store(void *dst, const void *src,
						      size_t len)
{
	sigjmp_buf jb;
	const uint64_t *s = src;
	uint64_t *d = dst;

	if (sigsetjmp(jb, 1)) {
		inv_jb = NULL;
		return -1;
	}
	inv_jb = &jb;
	for (size_t i = 0; i < len / 8; i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
	inv_jb = NULL;
	return 0;
}

/* 1 if the byte at p can be read through the view, 0 on SIGBUS. */
static inline int inv_readable(const void *p)
{
	uint64_t v;

	return inv_probe_copy(&v, (const void *)((uintptr_t)p & ~7UL), 8) == 0;
}

/* ---- messages --------------------------------------------------------------- */

struct inv_msg {
	char buf[1024];
	unsigned n;		/* violations seen */
};

static inline __attribute__((format(printf, 2, 3)))
void inv_fail(struct inv_msg *m, const char *fmt, ...)
{
	size_t len = strlen(m->buf);
	va_list ap;

	/* Keep the first few, as space allows. */
	if (m->n++ && len + 2 < sizeof(m->buf)) {
		memcpy(m->buf + len, "; ", 3);
		len += 2;
	}
	if (len + 1 >= sizeof(m->buf))
		return;
	va_start(ap, fmt);
	vsnprintf(m->buf + len, sizeof(m->buf) - len, fmt, ap);
	va_end(ap);
}

/* ---- invariants at a quiescent point ------------------------------------ */

static unsigned long inv_checks_run;	/* invariant evaluations, for the figures */

static inline void inv_count(unsigned long n)
{
	__atomic_add_fetch(&inv_checks_run, n, __ATOMIC_RELAXED);
}

/*
 * view: the host view (NULL: not mapped, view checks skipped).  Checks each
 * page: private pages SIGBUS at both ends; shared allocated pages read the
 * physical bytes; pinned pages are shared; page_info and the attribute
 * query agree, and the reported runs are maximal and add up.
 */
static inline unsigned inv_check(struct gmem *g, const uint8_t *view,
				 struct inv_msg *m)
{
	static __thread uint8_t a[INV_PG], b[INV_PG];
	uint64_t size = gmem_size(g), attrs = 0, run = 0;
	uint64_t prev_attrs = ~0ULL, prev_run = 0;
	unsigned before = m->n;
	unsigned long checks = 0;

	for (uint64_t off = 0; off < size; off += INV_PG) {
		struct gmem_page_info pi;
		int ret = gmem_page_info(g, off, &pi);

		if (ret) {
			inv_fail(m, "gmem_page_info(%#llx) = %d",
				 (unsigned long long)off, ret);
			break;
		}
		ret = gmem_get_memory_attributes(g, off, &attrs, &run);
		checks += 2;
		if (ret || attrs != pi.attributes || !run || run % INV_PG ||
		    off + run > size)
			inv_fail(m, "page %#llx: attributes %#llx run %#llx (ret %d) vs page_info %#llx",
				 (unsigned long long)off, (unsigned long long)attrs,
				 (unsigned long long)run, ret,
				 (unsigned long long)pi.attributes);
		/* Runs are maximal: a run continues exactly as announced. */
		if (off && prev_run > INV_PG &&
		    (attrs != prev_attrs || run != prev_run - INV_PG))
			inv_fail(m, "page %#llx: run %#llx/%#llx does not continue the previous %#llx/%#llx",
				 (unsigned long long)off, (unsigned long long)attrs,
				 (unsigned long long)run, (unsigned long long)prev_attrs,
				 (unsigned long long)prev_run);
		else if (off && prev_run == INV_PG && attrs == prev_attrs)
			inv_fail(m, "page %#llx: the run before it ended early",
				 (unsigned long long)off);
		prev_attrs = attrs;
		prev_run = run;
		checks++;
		if (pi.pinned && (pi.attributes & GMEM_ATTR_PRIVATE))
			inv_fail(m, "page %#llx is private and pinned (%d)",
				 (unsigned long long)off, pi.pinned);
		if (pi.pinned < 0)
			inv_fail(m, "page %#llx pin count %d",
				 (unsigned long long)off, pi.pinned);
		if (!view)
			continue;
		checks++;
		if (pi.attributes & GMEM_ATTR_PRIVATE) {
			if (inv_readable(view + off) ||
			    inv_readable(view + off + INV_PG - 8))
				inv_fail(m, "private page %#llx is readable through the host view",
					 (unsigned long long)off);
			continue;
		}
		if (!pi.allocated)
			continue;
		if (inv_probe_copy(a, view + off, INV_PG))
			inv_fail(m, "shared page %#llx raises SIGBUS in the host view",
				 (unsigned long long)off);
		else if (gmem_physical_read(g, off, b, INV_PG) == 0 &&
			 memcmp(a, b, INV_PG))
			inv_fail(m, "shared page %#llx: host view differs from the physical bytes",
				 (unsigned long long)off);
	}
	inv_count(checks);
	return m->n - before;
}

/* ---- snapshots ---------------------------------------------------------- */

#define INV_HOST_SIGBUS 0
#define INV_HOST_READ   1
#define INV_HOST_SKIP   2	/* no view, or a shared hole (reading allocates) */

struct inv_snap {
	uint64_t size, npages;
	struct gmem_page_info *pi;
	uint8_t *phys;		/* physical bytes; zeros for holes */
	uint8_t *host;		/* INV_HOST_* per page */
	uint8_t *hostbytes;	/* bytes seen through the view where READ */
	struct gmem_stats st;
	int finalized;
	int has_digest;		/* SNP launch digest / TDX MRTD */
	uint8_t digest[48];
};

/* Ignore in inv_snap_diff(): */
#define INV_IGN_ENCRYPTED_BYTES (1U << 0)	/* bytes of encrypted pages (other key) */
#define INV_IGN_RANGES_BYTES    (1U << 1)	/* attribute-store heap (reserve pools) */
#define INV_IGN_ALLOCATED       (1U << 2)	/* holes vs zeroed pages */
#define INV_IGN_DIGEST          (1U << 3)

static inline void inv_snap_free(struct inv_snap *s)
{
	free(s->pi);
	free(s->phys);
	free(s->host);
	free(s->hostbytes);
	memset(s, 0, sizeof(*s));
}

static inline int inv_snap_take(struct gmem *g, struct gmem_vm *vm,
				const uint8_t *view, struct inv_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->size = gmem_size(g);
	s->npages = s->size / INV_PG;
	s->pi = calloc(s->npages, sizeof(*s->pi));
	s->phys = calloc(s->npages, INV_PG);
	s->host = calloc(s->npages, 1);
	s->hostbytes = calloc(s->npages, INV_PG);
	if (!s->pi || !s->phys || !s->host || !s->hostbytes) {
		inv_snap_free(s);
		return -1;
	}
	for (uint64_t i = 0; i < s->npages; i++) {
		uint64_t off = i * INV_PG;

		if (gmem_page_info(g, off, &s->pi[i]))
			return -1;
		if (s->pi[i].allocated &&
		    gmem_physical_read(g, off, s->phys + off, INV_PG))
			return -1;
		s->host[i] = INV_HOST_SKIP;
		if (!view || (!(s->pi[i].attributes & GMEM_ATTR_PRIVATE) &&
			      !s->pi[i].allocated))
			continue;
		s->host[i] = inv_probe_copy(s->hostbytes + off, view + off,
					    INV_PG) ? INV_HOST_SIGBUS
						    : INV_HOST_READ;
	}
	if (gmem_get_stats(g, &s->st))
		return -1;
	if (vm) {
		const char *plat = gmem_vm_platform(vm);

		s->finalized = gmem_vm_is_finalized(vm);
		if (!strcmp(plat, "snp"))
			s->has_digest = !gmem_snp_launch_digest(vm, s->digest);
		else if (!strcmp(plat, "tdx"))
			s->has_digest = !gmem_tdx_mrtd(vm, s->digest);
	}
	return 0;
}

#define INV_STAT(f) do {						\
	if (a->st.f != b->st.f)						\
		inv_fail(m, "stats." #f " %llu -> %llu",		\
			 (unsigned long long)a->st.f,			\
			 (unsigned long long)b->st.f);			\
} while (0)

/* Number of differences between two snapshots; the first is described. */
static inline unsigned inv_snap_diff(const struct inv_snap *a,
				     const struct inv_snap *b, unsigned ignore,
				     struct inv_msg *m)
{
	unsigned before = m->n;

	inv_count(1);
	if (a->size != b->size) {
		inv_fail(m, "size %llu -> %llu", (unsigned long long)a->size,
			 (unsigned long long)b->size);
		return m->n - before;
	}
	for (uint64_t i = 0; i < a->npages; i++) {
		const struct gmem_page_info *p = &a->pi[i], *q = &b->pi[i];
		unsigned long long off = i * INV_PG;
		int enc = p->encrypted || q->encrypted;

		if (p->attributes != q->attributes)
			inv_fail(m, "page %#llx: attributes %#llx -> %#llx", off,
				 (unsigned long long)p->attributes,
				 (unsigned long long)q->attributes);
		if (p->vendor_state != q->vendor_state)
			inv_fail(m, "page %#llx: vendor state %d -> %d", off,
				 p->vendor_state, q->vendor_state);
		if (p->pinned != q->pinned)
			inv_fail(m, "page %#llx: pins %d -> %d", off, p->pinned,
				 q->pinned);
		if (p->encrypted != q->encrypted)
			inv_fail(m, "page %#llx: encrypted %d -> %d", off,
				 p->encrypted, q->encrypted);
		if (!(ignore & INV_IGN_ALLOCATED) && p->allocated != q->allocated)
			inv_fail(m, "page %#llx: allocated %d -> %d", off,
				 p->allocated, q->allocated);
		if ((!enc || !(ignore & INV_IGN_ENCRYPTED_BYTES)) &&
		    memcmp(a->phys + off, b->phys + off, INV_PG))
			inv_fail(m, "page %#llx: physical bytes changed", off);
		if (a->host[i] != b->host[i] &&
		    a->host[i] != INV_HOST_SKIP && b->host[i] != INV_HOST_SKIP)
			inv_fail(m, "page %#llx: host view %s -> %s", off,
				 a->host[i] == INV_HOST_READ ? "readable" : "SIGBUS",
				 b->host[i] == INV_HOST_READ ? "readable" : "SIGBUS");
		else if (a->host[i] == INV_HOST_READ && b->host[i] == INV_HOST_READ &&
			 memcmp(a->hostbytes + off, b->hostbytes + off, INV_PG))
			inv_fail(m, "page %#llx: host view bytes changed", off);
	}
	INV_STAT(conversions);
	INV_STAT(pages_to_private);
	INV_STAT(pages_to_shared);
	INV_STAT(pages_zeroed);
	INV_STAT(pages_zero_skipped);
	INV_STAT(pages_scrambled);
	INV_STAT(views_revoked);
	INV_STAT(views_restored);
	INV_STAT(ranges);
	if (!(ignore & INV_IGN_RANGES_BYTES))
		INV_STAT(ranges_bytes);
	if (a->finalized != b->finalized)
		inv_fail(m, "finalized %d -> %d", a->finalized, b->finalized);
	if (!(ignore & INV_IGN_DIGEST) &&
	    (a->has_digest != b->has_digest ||
	     memcmp(a->digest, b->digest, sizeof(a->digest))))
		inv_fail(m, "launch measurement changed");
	return m->n - before;
}

#endif
