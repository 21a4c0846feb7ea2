/* SPDX-License-Identifier: MIT */
/*
 * Concurrency stress with the security invariants checked all along.
 *
 * Worker threads run random steps on one gmem for a bounded time: convert
 * overlapping ranges (to private in every content mode the platform
 * accepts, to shared with ZERO), punch holes, pin and unpin, read and write
 * through the host view (SIGBUS probes) and through the guest view, and
 * (SNP) validate.  A fault thread arms one-shot mmap/fallocate faults now
 * and then.  Every byte anybody writes is a "stamp": 8-byte words tagged
 * shared or private that carry their page number and a checksum.  So, race
 * free, after every step:
 *   - a host-view or shared guest read sees only zeros and shared stamps
 *     of that very page: a private stamp, ciphertext or another page's
 *     bytes would be private data reaching the host, or contents changed
 *     outside a documented content mode;
 *   - every call returns one of its documented results.
 * And at quiescent points (workers paused every few milliseconds): the
 * invariants of tests/invariants.h (no private page readable through the
 * view, shared pages show their physical bytes, pins only on shared pages),
 * every shared page's physical bytes are valid stamps, and the pin counts
 * equal what the workers hold.  At the end every pin is released and none
 * may remain.
 *
 * Guest accesses to a page come from one thread only (its owner), as two
 * vCPUs racing on one guest page would be a guest bug; host-view accesses
 * come from any thread, with relaxed atomics.
 *
 * GMEM_STRESS_TIME (seconds, default 3) bounds the whole run, shared by the
 * platforms and backends; before it, a dedicated race cycles one page
 * private -> shared (ZERO) -> private under a reading host thread for
 * 0.25 s per backend (the host once read the secret in the moment between
 * the view's restore and the zeroing).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "invariants.h"
#include "internal.h"

#define PG GMEM_PAGE_SIZE
#define NPAGES 64
#define NTHREADS 4
#define MAX_PINS 16
#define WORDS (PG / 8)

#define TAG_SHARED  0xa5ULL
#define TAG_PRIVATE 0x5aULL

/* ---- stamps ------------------------------------------------------------- */

static uint8_t stamp_sum(uint64_t w)
{
	uint8_t s = 0x3c;

	for (int i = 1; i < 8; i++)
		s ^= (uint8_t)(w >> (8 * i)) * (uint8_t)(2 * i + 1);
	return s;
}

static uint64_t stamp(uint64_t tag, unsigned page, uint32_t nonce)
{
	uint64_t w = tag << 56 | (uint64_t)(page & 0xffff) << 40 |
		     (uint64_t)nonce << 8;

	return w | stamp_sum(w);
}

static void stamp_page(uint64_t *buf, uint64_t tag, unsigned page,
		       uint32_t nonce)
{
	for (unsigned i = 0; i < WORDS; i++)
		buf[i] = stamp(tag, page, nonce + i);
}

/* Index of the first word that is not zero or a valid stamp of that page
 * with an allowed tag, or -1. */
static int bad_word(const uint64_t *buf, unsigned page, int allow_private)
{
	for (unsigned i = 0; i < WORDS; i++) {
		uint64_t w = buf[i], tag = w >> 56;

		if (!w)
			continue;
		if ((tag != TAG_SHARED && !(allow_private && tag == TAG_PRIVATE)) ||
		    ((w >> 40) & 0xffff) != page || (uint8_t)w != stamp_sum(w))
			return (int)i;
	}
	return -1;
}

/* ---- the run ---------------------------------------------------------------- */

struct run {
	const char *plat;
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *view;
	int encrypts;
	uint64_t to_private_modes;	/* GMEM_CONTENT_* the platform accepts */
	int stop;
	pthread_rwlock_t quiesce;	/* workers read-lock each step */
	pthread_mutex_t msg_lock;
	struct inv_msg msg;		/* violations */
	unsigned long steps, checks, quiescent, faults_armed;
	unsigned long pins_held[NPAGES];	/* by all workers, under quiesce */
};

struct worker {
	struct run *r;
	unsigned id;
	uint64_t rng;
	unsigned npins;
	unsigned pins[MAX_PINS];
	unsigned long steps, checks;
	uint64_t buf[WORDS], buf2[WORDS];
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static __attribute__((format(printf, 2, 3)))
void violation(struct run *r, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->msg_lock);
	inv_fail(&r->msg, "%s: %s", r->plat, line);
	pthread_mutex_unlock(&r->msg_lock);
}

static int injected(int ret)
{
	return ret == -ENOMEM || ret == -ENOSPC;	/* the fault thread's */
}


static void step_convert(struct worker *w)
{
	struct run *r = w->r;
	unsigned first = (unsigned)(rnd(&w->rng) % NPAGES);
	unsigned n = 1 + (unsigned)(rnd(&w->rng) % 8);
	int to_private = rnd(&w->rng) & 1;
	uint64_t mode = GMEM_CONTENT_ZERO, err = 0;
	int ret;

	if (first + n > NPAGES)
		n = NPAGES - first;
	if (to_private) {
		static const uint64_t m[] = {
			GMEM_CONTENT_UNSPECIFIED, GMEM_CONTENT_ZERO,
			GMEM_CONTENT_PRESERVE,
		};
		do
			mode = m[rnd(&w->rng) % 3];
		while (!(r->to_private_modes & (mode ? mode : GMEM_MODES_UNSPECIFIED)));
	}
	ret = gmem_convert(r->g, first * PG, n * PG,
			   to_private ? GMEM_ATTR_PRIVATE : 0, mode, &err);
	w->checks++;
	if (ret == 0 || injected(ret))
		return;
	if (ret == -EAGAIN && to_private && err >= first * PG &&
	    err < (first + n) * PG && !(err % PG))
		return;
	violation(r, "convert %u+%u to %s mode %llu: %d (error_offset %#llx)",
		  first, n, to_private ? "private" : "shared",
		  (unsigned long long)mode, ret, (unsigned long long)err);
}

static void step_punch(struct worker *w)
{
	unsigned first = (unsigned)(rnd(&w->rng) % NPAGES);
	unsigned n = 1 + (unsigned)(rnd(&w->rng) % 4);
	int ret;

	if (first + n > NPAGES)
		n = NPAGES - first;
	ret = gmem_punch_hole(w->r->g, first * PG, n * PG);
	w->checks++;
	if (ret && !injected(ret))
		violation(w->r, "punch %u+%u: %d", first, n, ret);
}

static void step_pin(struct worker *w)
{
	struct run *r = w->r;
	int ret;

	if (w->npins && (w->npins == MAX_PINS || (rnd(&w->rng) & 1))) {
		unsigned i = (unsigned)(rnd(&w->rng) % w->npins);
		unsigned page = w->pins[i];

		ret = gmem_unpin(r->g, page * PG);
		w->checks++;
		if (ret) {
			violation(r, "unpin %u: %d", page, ret);
			return;
		}
		w->pins[i] = w->pins[--w->npins];
		__atomic_sub_fetch(&r->pins_held[page], 1, __ATOMIC_RELAXED);
		return;
	}
	{
		unsigned page = (unsigned)(rnd(&w->rng) % NPAGES);

		/* Pin and count under one read hold of quiesce: the
		 * quiescent check sees both or neither. */
		ret = gmem_pin(r->g, page * PG);
		w->checks++;
		if (ret == 0) {
			w->pins[w->npins++] = page;
			__atomic_add_fetch(&r->pins_held[page], 1, __ATOMIC_RELAXED);
		} else if (ret != -EFAULT && !injected(ret)) {
			violation(r, "pin %u: %d", page, ret);
		}
	}
}

static void step_host(struct worker *w)
{
	struct run *r = w->r;
	unsigned page = (unsigned)(rnd(&w->rng) % NPAGES);
	uint8_t *p = r->view + page * PG;
	int bad, ret;

	if (rnd(&w->rng) & 1) {
		stamp_page(w->buf, TAG_SHARED, page, (uint32_t)rnd(&w->rng));
		(void)inv_probe_store(p, w->buf, PG);	/* SIGBUS: private */
		return;
	}
	w->checks++;
	ret = inv_probe_copy(w->buf, p, PG);
	if (ret)
		return;		/* private now: SIGBUS, as it must */
	bad = bad_word(w->buf, page, 0);
	if (bad >= 0)
		violation(r, "host view of page %u, word %d: %#llx is not shared data of that page",
			  page, bad, (unsigned long long)w->buf[bad]);
}

static void step_guest(struct worker *w)
{
	struct run *r = w->r;
	unsigned page = (unsigned)(rnd(&w->rng) % (NPAGES / NTHREADS)) *
			NTHREADS + w->id;
	int priv = rnd(&w->rng) & 1, write = rnd(&w->rng) & 1, ret, bad;
	unsigned access = (write ? GMEM_ACCESS_WRITE : GMEM_ACCESS_READ) |
			  (priv ? GMEM_ACCESS_PRIVATE : 0);

	if (write)
		stamp_page(w->buf, priv ? TAG_PRIVATE : TAG_SHARED, page,
			   (uint32_t)rnd(&w->rng));
	ret = gmem_guest_access(r->g, page * PG, w->buf, PG, access);
	w->checks++;
	if (ret == -EFAULT || injected(ret))
		return;		/* memory fault: the VMM would convert */
	if (ret) {
		violation(r, "guest %s %s page %u: %d", write ? "write" : "read",
			  priv ? "private" : "shared", page, ret);
		return;
	}
	if (write || (priv && r->encrypts) ||
	    (priv && !strcmp(r->plat, "sw_protected")))
		return;		/* decrypted host plaintext, scrambled: anything */
	bad = bad_word(w->buf, page, priv);
	if (bad >= 0)
		violation(r, "guest %s read of page %u, word %d: %#llx",
			  priv ? "private" : "shared", page, bad,
			  (unsigned long long)w->buf[bad]);
}

static void step_validate(struct worker *w)
{
	unsigned first = (unsigned)(rnd(&w->rng) % NPAGES);
	unsigned n = 1 + (unsigned)(rnd(&w->rng) % 4);
	int ret;

	if (first + n > NPAGES)
		n = NPAGES - first;
	ret = gmem_snp_pvalidate(w->r->g, first * PG, n * PG, 1);
	w->checks++;
	if (ret && ret != -EFAULT)
		violation(w->r, "pvalidate %u+%u: %d", first, n, ret);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	int snp = !strcmp(r->plat, "snp");

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		unsigned pick = (unsigned)(rnd(&w->rng) % 16);

		pthread_rwlock_rdlock(&r->quiesce);
		if (pick < 3)
			step_convert(w);
		else if (pick < 4)
			step_punch(w);
		else if (pick < 6)
			step_pin(w);
		else if (pick < 11)
			step_host(w);
		else if (pick < 15 || !snp)
			step_guest(w);
		else
			step_validate(w);
		pthread_rwlock_unlock(&r->quiesce);
		w->steps++;
	}
	/* Release every pin: none may be left behind. */
	pthread_rwlock_rdlock(&r->quiesce);
	while (w->npins) {
		unsigned page = w->pins[--w->npins];
		int ret = gmem_unpin(r->g, page * PG);

		if (ret)
			violation(r, "final unpin %u: %d", page, ret);
		__atomic_sub_fetch(&r->pins_held[page], 1, __ATOMIC_RELAXED);
	}
	pthread_rwlock_unlock(&r->quiesce);
	return NULL;
}

/* Workers paused: the full invariants, the stamps of every shared page
 * and the exact pin counts. */
static void quiescent_check(struct run *r)
{
	static uint64_t buf[WORDS];
	struct inv_msg m = { .n = 0, .buf = "" };

	inv_check(r->g, r->view, &m);
	for (unsigned p = 0; p < NPAGES; p++) {
		struct gmem_page_info pi;
		int bad;

		if (gmem_page_info(r->g, p * PG, &pi)) {
			inv_fail(&m, "page_info %u", p);
			continue;
		}
		if ((unsigned long)pi.pinned != r->pins_held[p])
			inv_fail(&m, "page %u: %d pins, workers hold %lu", p,
				 pi.pinned, r->pins_held[p]);
		if ((pi.attributes & GMEM_ATTR_PRIVATE) || !pi.allocated)
			continue;
		if (gmem_physical_read(r->g, p * PG, buf, PG)) {
			inv_fail(&m, "physical read %u", p);
			continue;
		}
		bad = bad_word(buf, p, 0);
		if (bad >= 0)
			inv_fail(&m, "shared page %u, word %d: %#llx", p, bad,
				 (unsigned long long)buf[bad]);
	}
	if (m.n)
		violation(r, "quiescent: %s", m.buf);
	r->quiescent++;
	r->checks += 3 * NPAGES;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ThreadSanitizer's default suppressions (weak hook of its runtime). */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return INV_TSAN_SUPPRESSIONS;
}

static unsigned long total_steps, total_checks, total_quiescent, total_faults;

/*
 * The detector itself: private stamps made visible on purpose (PRESERVE
 * keeps the bytes, by definition) must be flagged, and zeroed ones not.
 */
static void detector_self_test(void)
{
	static uint64_t buf[WORDS];
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *view;

	TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "vm");
	TEST_ASSERT(!gmem_create(vm, 2 * PG, GMEM_FLAG_MMAP, &g), "gmem");
	view = gmem_mmap(g);
	TEST_ASSERT(view, "mmap");
	stamp_page(buf, TAG_PRIVATE, 1, 7);
	TEST_ASSERT(!gmem_guest_access(g, PG, buf, PG, GMEM_ACCESS_WRITE |
				       GMEM_ACCESS_PRIVATE), "private write");
	ok(inv_probe_copy(buf, view + PG, PG) == -1,
	   "detector: a private page raises SIGBUS in the host view");
	TEST_ASSERT(!gmem_convert(g, PG, PG, 0, GMEM_CONTENT_PRESERVE, NULL), "preserve");
	ok(inv_probe_copy(buf, view + PG, PG) == 0 && bad_word(buf, 1, 0) == 0,
	   "detector: private data shown by PRESERVE is flagged");
	ok(bad_word(buf, 0, 1) == 0, "detector: another page's data is flagged");
	TEST_ASSERT(!gmem_convert(g, PG, PG, GMEM_ATTR_PRIVATE, 0, NULL), "private");
	TEST_ASSERT(!gmem_convert(g, PG, PG, 0, GMEM_CONTENT_ZERO, NULL), "zero");
	ok(inv_probe_copy(buf, view + PG, PG) == 0 && bad_word(buf, 1, 0) < 0,
	   "detector: zeroed data passes");
	gmem_vm_destroy(vm);
}

/*
 * One page cycled private (guest writes a secret) -> shared with ZERO ->
 * private, while another thread reads it through the host view: the host
 * must only ever see SIGBUS or zeros.
 */
struct leak {
	struct gmem *g;
	uint8_t *view;
	int stop;
	unsigned long reads, leaks;
};

static void *leak_reader(void *arg)
{
	static uint64_t buf[WORDS];
	struct leak *l = arg;

	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		l->reads++;
		if (!inv_probe_copy(buf, l->view, PG) && bad_word(buf, 0, 0) >= 0)
			l->leaks++;
	}
	return NULL;
}

static void leak_race(const char *backend, double seconds)
{
	static uint64_t secret[WORDS];
	struct gmem_vm *vm;
	struct leak l = { 0 };
	unsigned long cycles = 0;
	pthread_t t;
	double end;

	setenv("GMEM_BACKEND", backend, 1);
	TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "vm");
	TEST_ASSERT(!gmem_create(vm, PG, GMEM_FLAG_MMAP, &l.g), "gmem");
	l.view = gmem_mmap(l.g);
	TEST_ASSERT(l.view, "mmap");
	stamp_page(secret, TAG_PRIVATE, 0, 1);
	TEST_ASSERT(!pthread_create(&t, NULL, leak_reader, &l), "thread");
	end = now() + seconds;
	while (now() < end) {
		TEST_ASSERT(!gmem_guest_access(l.g, 0, secret, PG, GMEM_ACCESS_WRITE |
					       GMEM_ACCESS_PRIVATE), "secret");
		TEST_ASSERT(!gmem_convert(l.g, 0, PG, 0, GMEM_CONTENT_ZERO, NULL), "shared");
		TEST_ASSERT(!gmem_convert(l.g, 0, PG, GMEM_ATTR_PRIVATE, 0, NULL), "private");
		cycles++;
	}
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ok(l.leaks == 0, "%s: ZERO to-shared never shows the host the private bytes (%lu cycles, %lu host reads, %lu saw private data)",
	   backend, cycles, l.reads, l.leaks);
	gmem_vm_destroy(vm);
}

static void run_one(const char *backend, bool covers, const char *plat,
		    double seconds, uint64_t seed)
{
	static const int fi_kinds[] = { GMEM_FI_MMAP, GMEM_FI_FALLOCATE };
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct run r;
	uint64_t pm = 0, frng = seed ^ 0xfeed;
	pthread_rwlockattr_t ra;
	double end;

	memset(&r, 0, sizeof(r));
	r.plat = plat;
	r.encrypts = !strcmp(plat, "snp") || !strcmp(plat, "tdx");
	/* The checker must get in between the workers' steps. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&r.quiesce, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&r.msg_lock, NULL);
	setenv("GMEM_BACKEND", backend, 1);
	TEST_ASSERT(!gmem_vm_create(&r.vm, plat, NULL), "vm %s", plat);
	TEST_ASSERT(!gmem_create(r.vm, NPAGES * PG,
				 GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &r.g), "gmem");
	/* covers: every private run of the view takes the SIGBUS cover (as
	 * on guest_memfd), not poison markers */
	gmem__view_markers(!covers);
	r.view = gmem_mmap(r.g);
	TEST_ASSERT(r.view, "mmap");
	if (r.encrypts)		/* a running guest: validate / accept */
		TEST_ASSERT(!gmem_vm_finalize(r.vm), "finalize");
	TEST_ASSERT(!gmem_vm_content_modes(r.vm, GMEM_ATTR_PRIVATE, &pm), "modes");
	r.to_private_modes = pm;

	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .r = &r, .id = i,
					.rng = seed * 2654435761ULL + i + 1 };
		TEST_ASSERT(!pthread_create(&th[i], NULL, worker_main, &w[i]),
			    "thread");
	}
	end = now() + seconds;
	while (now() < end) {
		sleep_ms(5);
		pthread_rwlock_wrlock(&r.quiesce);
		quiescent_check(&r);
		pthread_rwlock_unlock(&r.quiesce);
		if (rnd(&frng) % 4 == 0) {
			/* A one-shot fault a few calls from now. */
			gmem__fault_inject(fi_kinds[rnd(&frng) % 2],
					   (long)(rnd(&frng) % 8), ENOMEM);
			r.faults_armed++;
		}
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		r.steps += w[i].steps;
		r.checks += w[i].checks;
	}
	gmem__fault_inject(GMEM_FI_MMAP, -1, 0);
	gmem__fault_inject(GMEM_FI_FALLOCATE, -1, 0);
	quiescent_check(&r);
	for (unsigned p = 0; p < NPAGES; p++) {
		struct gmem_page_info pi;

		if (!gmem_page_info(r.g, p * PG, &pi) && pi.pinned)
			violation(&r, "page %u: %d pins left after every pin was released",
				  p, pi.pinned);
	}
	gmem__view_markers(true);
	if (!ok(r.msg.n == 0, "%s%s/%s: %lu steps, %lu checks, %lu quiescent checks, invariants hold",
		backend, covers ? " (covers)" : "", plat, r.steps, r.checks, r.quiescent))
		diag("  %u violations: %s", r.msg.n, r.msg.buf);
	ok(r.steps > 100 && r.quiescent > 0, "%s%s/%s: the run made progress",
	   backend, covers ? " (covers)" : "", plat);
	total_steps += r.steps;
	total_checks += r.checks;
	total_quiescent += r.quiescent;
	total_faults += r.faults_armed;
	gmem_vm_destroy(r.vm);
	pthread_rwlock_destroy(&r.quiesce);
	pthread_mutex_destroy(&r.msg_lock);
}

int main(void)
{
	static const char *const plats[] = { "default", "sw_protected", "snp", "tdx" };
	/* the emulated backend twice: its view with poison markers, and with
	 * covers only */
	static const char *const backends[] = { "emulated", "emulated", "kvm" };
	static const bool covers[] = { false, true, false };
	const char *env, *report = getenv("GMEM_STRESS_REPORT");
	double total;
	unsigned nb = 0, runs;

	plan_lazy();
	inv_sigbus_install();
	detector_self_test();
	leak_race("emulated", 0.25);
	if (!gmem_backend_probe("kvm", NULL))
		leak_race("kvm", 0.25);
	env = getenv("GMEM_STRESS_TIME");
	total = env && *env ? atof(env) : 3.0;
	for (unsigned b = 0; b < 3; b++)
		nb += gmem_backend_probe(backends[b], NULL) == 0;
	TEST_ASSERT(nb, "no backend");
	runs = nb * 4;
	for (unsigned b = 0, k = 0; b < 3; b++) {
		if (gmem_backend_probe(backends[b], NULL)) {
			diag("backend %s unavailable: not tested", backends[b]);
			continue;
		}
		for (unsigned p = 0; p < 4; p++, k++)
			run_one(backends[b], covers[b], plats[p], total / runs,
				0x9e3779b9ULL + k);
	}
	diag("steps %lu, checks %lu, quiescent checks %lu, faults armed %lu, SIGBUS caught %lu",
	     total_steps, total_checks, total_quiescent, total_faults,
	     inv_sigbus_seen);
	if (report && *report) {
		FILE *fp = fopen(report, "w");

		if (fp) {
			fprintf(fp, "steps=%lu\nchecks=%lu\nquiescent=%lu\nfaults_armed=%lu\nsigbus=%lu\nseconds=%g\n",
				total_steps, total_checks, total_quiescent,
				total_faults, inv_sigbus_seen, total);
			fclose(fp);
		}
	}
	done();
}
