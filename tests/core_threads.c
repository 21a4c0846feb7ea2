/* SPDX-License-Identifier: MIT */
/*
 * Threads: for a bounded time, two threads convert overlapping ranges of
 * one zone with random modes while others pin, punch, access that zone as
 * the guest and touch it through the host view (a touch of a private page
 * raises SIGBUS, which is expected there); meanwhile guest and host threads
 * write and read back their own pages of two zones nobody converts (no
 * write may be lost), and the VM is finalized halfway.  Afterwards the
 * statistics must account for every successful conversion and every page
 * that changed state, the attribute store must be sound, and the host view
 * must match the attributes.  On every platform (SNP and TDX guests own
 * pages launched into them; after finalize TDX guests accept pages as they
 * touch them) and both backends.  Must be clean under ThreadSanitizer (make check SANITIZE=thread).
 */
#include <pthread.h>
#include <time.h>

#include "core_common.h"
#include "internal.h"

#define NPG 64
#define ZONE_C 0	/* pages 0..31: converted by everyone */
#define ZONE_G 32	/* pages 32..47: private, guest threads own 8 each */
#define ZONE_H 48	/* pages 48..63: shared, host thread writes, guest reads */
#define RUN_MS 1000	/* per backend and platform: 10 s in all */

struct shared {
	struct core_ctx c;
	const char *plat;
	int stop;			/* atomic */
	long converts_ok;		/* atomic */
	long bad;			/* atomic: invariant violations */
	char why[256];
};

struct worker {
	struct shared *s;
	uint64_t rng;
	int id;
};

static uint64_t wrnd(struct worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static bool stopped(struct shared *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

static void bad(struct shared *s, const char *why, long a, long b)
{
	if (__atomic_fetch_add(&s->bad, 1, __ATOMIC_ACQ_REL) == 0)
		snprintf(s->why, sizeof(s->why), "%s (%ld, %ld)", why, a, b);
}

static void *converter(void *arg)
{
	static const uint64_t modes[] = { CU, CZ, CP };
	struct worker *w = arg;
	struct gmem *g = w->s->c.g;

	while (!stopped(w->s)) {
		uint64_t p = wrnd(w) % 32, n = 1 + wrnd(w) % (32 - p), eo = 0;
		uint64_t attrs = (wrnd(w) & 1) ? PRIV : 0, mode = modes[wrnd(w) % 3];
		int ret = gmem_convert(g, (ZONE_C + p) * PG, n * PG, attrs, mode, &eo);

		if (ret == 0)
			__atomic_fetch_add(&w->s->converts_ok, 1, __ATOMIC_RELAXED);
		else if (ret == -EOPNOTSUPP &&
			 !(spec_modes("seed", w->s->plat, attrs ? TO_PRIVATE : TO_SHARED,
				      PRE) & mode_bit(mode)))
			;	/* refused by the table, as it should */
		else if (ret != -EAGAIN || !attrs)
			bad(w->s, "conversion failed", ret, (long)p);
		else if (eo < (ZONE_C + p) * PG || eo >= (ZONE_C + p + n) * PG)
			bad(w->s, "-EAGAIN with error_offset outside the range", (long)eo, (long)p);
	}
	return NULL;
}

static void *pinner(void *arg)
{
	struct worker *w = arg;
	struct gmem *g = w->s->c.g;
	int pinned[32] = { 0 };

	while (!stopped(w->s)) {
		uint64_t p = wrnd(w) % 32;
		int ret;

		if (pinned[p] && (wrnd(w) & 1)) {
			ret = gmem_unpin(g, p * PG);
			if (ret)
				bad(w->s, "unpin of a pinned page failed", ret, (long)p);
			else
				pinned[p]--;
		} else if (pinned[p] < 3) {
			ret = gmem_pin(g, p * PG);
			if (ret == 0)
				pinned[p]++;
			else if (ret != -EFAULT)	/* the page is private */
				bad(w->s, "pin failed", ret, (long)p);
		}
	}
	for (uint64_t p = 0; p < 32; p++)
		while (pinned[p]--)
			gmem_unpin(g, p * PG);
	return NULL;
}

static void *puncher(void *arg)
{
	struct worker *w = arg;
	struct gmem *g = w->s->c.g;

	while (!stopped(w->s)) {
		uint64_t p = wrnd(w) % 32, n = 1 + wrnd(w) % 4;
		int ret;

		if (p + n > 32)
			n = 32 - p;
		ret = gmem_punch_hole(g, p * PG, n * PG);

		if (ret)
			bad(w->s, "punch failed", ret, (long)p);
		sched_yield();
	}
	return NULL;
}

/* Random guest accesses of the converted zone: they either go through or
 * fault with a report inside the access. */
static void *guest_zone_c(void *arg)
{
	struct worker *w = arg;
	struct gmem *g = w->s->c.g;
	uint8_t buf[2 * 4096];

	while (!stopped(w->s)) {
		uint64_t off = wrnd(w) % (32 * PG - sizeof(buf));
		uint64_t len = 1 + wrnd(w) % sizeof(buf);
		unsigned access = ((wrnd(w) & 1) ? GMEM_ACCESS_WRITE : GMEM_ACCESS_READ) |
				  ((wrnd(w) & 1) ? GMEM_ACCESS_PRIVATE : 0);
		struct gmem_memory_fault f;
		int ret = gmem_guest_access_fault(g, off, buf, len, access, &f);

		if (ret == -EFAULT) {
			if (f.offset > off + len || f.offset + f.size <= off)
				bad(w->s, "fault report outside the access", (long)f.offset, (long)off);
		} else if (ret) {
			bad(w->s, "guest access failed", ret, (long)off);
		}
	}
	return NULL;
}

/* Host touches of the converted zone: a byte read or written, or SIGBUS. */
static void *host_zone_c(void *arg)
{
	struct worker *w = arg;
	uint8_t *v = w->s->c.host;
	long touched = 0, sigbus = 0;

	while (!stopped(w->s)) {
		uint64_t off = wrnd(w) % (32 * PG);
		uint8_t b = (uint8_t)wrnd(w);
		int r = (wrnd(w) & 1) ? core_try_read(v + off, &b, 1)
				      : core_try_write(v + off, &b, 1);

		if (r < 0)
			sigbus++;
		else
			touched++;
	}
	/* Only progress, not an invariant: on a loaded machine (sanitizers,
	 * parallel tests) the thread may not get a turn before the others
	 * convert everything away. */
	if (!touched)
		diag("the host thread never reached a shared page (%ld SIGBUS)", sigbus);
	return NULL;
}

/* Guest threads own 8 private pages each: every write is read back. */
static void *guest_owner(void *arg)
{
	struct worker *w = arg;
	struct gmem *g = w->s->c.g;
	uint64_t base = (ZONE_G + 8 * (uint64_t)w->id) * PG, seq = 0;

	while (!stopped(w->s)) {
		uint64_t off = base + (wrnd(w) % (8 * PG / 8)) * 8, got = 0;

		seq++;
		if (gmem_guest_access(g, off, &seq, 8, GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE) ||
		    gmem_guest_access(g, off, &got, 8, GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE))
			bad(w->s, "guest access of an owned page failed", (long)off, 0);
		else if (got != seq)
			bad(w->s, "lost guest write", (long)got, (long)seq);
	}
	return NULL;
}

/* The host writes its shared pages; the guest's shared view sees it. */
static void *host_owner(void *arg)
{
	struct worker *w = arg;
	struct gmem *g = w->s->c.g;
	uint64_t seq = 0;

	while (!stopped(w->s)) {
		uint64_t off = ZONE_H * PG + (wrnd(w) % (16 * PG / 8)) * 8, got = 0;

		seq++;
		memcpy(w->s->c.host + off, &seq, 8);
		if (gmem_guest_access(g, off, &got, 8, GMEM_ACCESS_READ))
			bad(w->s, "guest shared read failed", (long)off, 0);
		else if (got != seq)
			bad(w->s, "lost host write", (long)got, (long)seq);
	}
	return NULL;
}

static uint64_t private_pages(struct gmem *g)
{
	uint64_t n = 0, a, run;

	for (uint64_t off = 0; off < NPG * PG; off += run) {
		TEST_ASSERT(!gmem_get_memory_attributes(g, off, &a, &run), "attrs");
		if (a & PRIV)
			n += run / PG;
	}
	return n;
}

static void stress(const char *be, const char *plat)
{
	void *(*const fns[])(void *) = {
		converter, converter, pinner, puncher, guest_zone_c,
		host_zone_c, guest_owner, guest_owner, host_owner,
	};
	enum { NT = ARRAY_SIZE(fns) };
	struct worker w[NT];
	pthread_t t[NT];
	struct shared s;
	struct gmem_stats st, st0;
	uint64_t priv0, priv1, conv0;
	struct timespec half = { RUN_MS / 2000, (RUN_MS / 2 % 1000) * 1000000L };

	memset(&s, 0, sizeof(s));
	core_setup(&s.c, plat, NULL, NPG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	s.plat = plat;
	TEST_ASSERT(!core_conv(s.c.g, ZONE_G * PG, 16 * PG, PRIV, CU), "zone G private");
	/* SNP and TDX guests reach only pages launched into them. */
	if (!strcmp(plat, "snp")) {
		unsigned fw;

		TEST_ASSERT(!gmem_snp_launch_update(s.c.g, ZONE_G * PG, 16 * PG,
						    GMEM_SNP_PAGE_ZERO, &fw), "launch");
	} else if (!strcmp(plat, "tdx")) {
		TEST_ASSERT(!gmem_tdx_page_add(s.c.g, ZONE_G * PG, 16 * PG, 0), "page add");
	}
	priv0 = private_pages(s.c.g);
	gmem_get_stats(s.c.g, &st0);
	conv0 = st0.conversions;
	for (int i = 0, guests = 0; i < NT; i++) {
		w[i].s = &s;
		w[i].rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
		w[i].id = fns[i] == guest_owner ? guests++ : i;
		TEST_ASSERT(!pthread_create(&t[i], NULL, fns[i], &w[i]), "thread");
	}
	nanosleep(&half, NULL);
	ok_ret(gmem_vm_finalize(s.c.vm), 0, "%s/%s: finalize while the threads run", be, plat);
	nanosleep(&half, NULL);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);

	ok(s.bad == 0, "%s/%s: no invariant broken while running (%ld; first: %s)",
	   be, plat, s.bad, s.bad ? s.why : "none");
	gmem_get_stats(s.c.g, &st);
	priv1 = private_pages(s.c.g);
	ok(s.converts_ok > 0 && st.conversions - conv0 == (uint64_t)s.converts_ok,
	   "%s/%s: %ld successful conversions, %llu counted", be, plat,
	   s.converts_ok, (unsigned long long)(st.conversions - conv0));
	ok(st.pages_to_private - st0.pages_to_private -
	   (st.pages_to_shared - st0.pages_to_shared) == priv1 - priv0,
	   "%s/%s: pages to private - to shared (%llu - %llu) = change of private pages (%lld)",
	   be, plat, (unsigned long long)(st.pages_to_private - st0.pages_to_private),
	   (unsigned long long)(st.pages_to_shared - st0.pages_to_shared),
	   (long long)(priv1 - priv0));
	{
		uint64_t wrong = 0, first = 0;

		for (uint64_t p = 0; p < NPG; p++) {
			bool sigbus = core_sigbus_on_read(s.c.host + p * PG);

			if (sigbus != ((core_attr(s.c.g, p * PG) & PRIV) != 0) && !wrong++)
				first = p;
		}
		ok(!wrong, "%s/%s: the view matches the attributes afterwards (%llu pages wrong, first %llu)",
		   be, plat, (unsigned long long)wrong, (unsigned long long)first);
	}
	ok(rs_check(s.c.g->attrs) == 0 && rs_check(s.c.g->pins) == 0,
	   "%s/%s: the attribute and pin stores are sound", be, plat);
	ok(st.ranges == rs_runs(s.c.g->attrs), "%s/%s: %llu runs", be, plat,
	   (unsigned long long)st.ranges);
	{
		struct gmem_page_info pi;
		bool none = true;

		for (uint64_t p = 0; p < NPG; p++) {
			TEST_ASSERT(!gmem_page_info(s.c.g, p * PG, &pi), "info");
			none &= pi.pinned == 0;
		}
		ok(none, "%s/%s: every pin was released", be, plat);
	}
	core_teardown(&s.c);
}

/*
 * Lookups without a lock against conversions: even pages stay private, one
 * thread toggles the odd ones, readers look pages up all the while.  In
 * every state a shared run is one page and a private run ends at an odd
 * page or at the end: a lookup that saw the tree half-changed would break
 * that (or crash).
 */
#define LK_PAGES 256

struct lk {
	struct gmem *g;
	int stop;
	unsigned long lookups, bad;
};

static void *lk_reader(void *arg)
{
	struct lk *l = arg;
	uint64_t x = (uintptr_t)&x, a, run;
	unsigned long n = 0, bad = 0;

	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		uint64_t p = (x = x * 6364136223846793005ULL + 1) >> 33 & (LK_PAGES - 1);
		uint64_t end;

		if (gmem_get_memory_attributes(l->g, p * PG, &a, &run)) {
			bad++;
			continue;
		}
		end = p + run / PG;
		n++;
		if (run % PG || !run || end > LK_PAGES ||
		    (a & ~(uint64_t)PRIV) || (!(p & 1) && !(a & PRIV)) ||
		    (!(a & PRIV) && run != PG) ||
		    ((a & PRIV) && end != LK_PAGES && !(end & 1)))
			bad++;
	}
	__atomic_fetch_add(&l->lookups, n, __ATOMIC_RELAXED);
	__atomic_fetch_add(&l->bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

static void test_lookups(const char *be)
{
	struct core_ctx c;
	struct lk l = { 0 };
	pthread_t t[3];
	uint64_t x = 7;
	struct timespec t0, t1;
	unsigned long conv = 0;

	core_setup(&c, "default", NULL, LK_PAGES, GMEM_FLAG_INIT_SHARED);
	for (uint64_t p = 0; p < LK_PAGES; p += 2)
		TEST_ASSERT(!core_conv(c.g, p * PG, PG, PRIV, CU), "even pages");
	l.g = c.g;
	for (int i = 0; i < 3; i++)
		TEST_ASSERT(!pthread_create(&t[i], NULL, lk_reader, &l), "thread");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uint64_t p = ((x = x * 6364136223846793005ULL + 1) >> 33 &
			      (LK_PAGES / 2 - 1)) * 2 + 1;

		core_conv(c.g, p * PG, PG, core_attr(c.g, p * PG) ? 0 : PRIV, CU);
		conv++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ok(l.bad == 0 && l.lookups > 0,
	   "%s: %lu lookups without a lock during %lu conversions, %lu inconsistent",
	   be, l.lookups, conv, l.bad);
	core_teardown(&c);
}

int main(void)
{
	plan_lazy();
	core_sigbus_install();
	for (int b = 0; core_backends[b]; b++) {
		if (!core_use_backend(core_backends[b]))
			continue;
		stress(core_backends[b], "default");
		stress(core_backends[b], "sw_protected");
		stress(core_backends[b], "snp");
		stress(core_backends[b], "tdx");
		stress(core_backends[b], "pkvm");
		test_lookups(core_backends[b]);
	}
	return done();
}
