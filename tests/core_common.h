/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the core_* tests: the backend loop (one test body run
 * over the emulated and kvm backends), a state snapshot for the
 * all-or-nothing checks, a SIGBUS probe for host views, and the content-mode
 * tables of DESIGN.md section 2 written out independently of src/policy.c.
 */
#ifndef GMEM_CORE_COMMON_H
#define GMEM_CORE_COMMON_H

#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "gmem/gmem.h"

#define PG GMEM_PAGE_SIZE
#define PRIV GMEM_ATTR_PRIVATE
#define CZ GMEM_CONTENT_ZERO
#define CP GMEM_CONTENT_PRESERVE
#define CU GMEM_CONTENT_UNSPECIFIED
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Built with ThreadSanitizer? (gcc defines the macro, clang the feature) */
#if defined(__SANITIZE_THREAD__)
#define CORE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORE_TSAN 1
#endif
#endif
#ifndef CORE_TSAN
#define CORE_TSAN 0
#endif
/* Built with AddressSanitizer? */
#if defined(__SANITIZE_ADDRESS__)
#define CORE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORE_ASAN 1
#endif
#endif
#ifndef CORE_ASAN
#define CORE_ASAN 0
#endif

/* A sanitizer or valgrind slows every call down: tests at scale shrink. */
static inline bool core_slow(void)
{
	return CORE_TSAN || CORE_ASAN || getenv("GMEM_VALGRIND");
}

static const char *const core_backends[] = { "emulated", "kvm", NULL };
static const char *const core_platforms[] = {
	"default", "sw_protected", "snp", "tdx", "pkvm", NULL,
};
static const char *const core_policies[] = { "seed", "rfc-v5", "upstream", NULL };

/*
 * Make the next gmem_vm_create() use backend `name` (the selection reads
 * GMEM_BACKEND at every VM creation).  Returns false, after a diagnostic,
 * when that backend is unusable here: only kvm may be skipped.
 */
static inline bool core_use_backend(const char *name)
{
	const char *why = NULL;
	int ret = gmem_backend_probe(name, &why);

	TEST_ASSERT(ret == 0 || strcmp(name, "emulated"),
		    "the emulated backend must always work (%s)", why);
	if (ret) {
		diag("SKIP the %s half: %s", name, why ? why : strerror(-ret));
		return false;
	}
	setenv("GMEM_BACKEND", name, 1);
	return true;
}

/* A VM and one gmem of `pages` pages on the current backend. */
struct core_ctx {
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *host;		/* host view, or NULL */
	uint64_t size;
};

static inline void core_setup(struct core_ctx *c, const char *platform,
			      const char *policy, uint64_t pages,
			      uint64_t flags)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = gmem_vm_create(&c->vm, platform, policy);
	TEST_ASSERT(ret == 0, "gmem_vm_create(%s, %s) = %d", platform,
		    policy ? policy : "NULL", ret);
	c->size = pages * PG;
	ret = gmem_create(c->vm, c->size, flags, &c->g);
	TEST_ASSERT(ret == 0, "gmem_create(%llu pages) = %d",
		    (unsigned long long)pages, ret);
	if (flags & GMEM_FLAG_MMAP) {
		c->host = gmem_mmap(c->g);
		TEST_ASSERT(c->host, "gmem_mmap");
	}
}

static inline void core_teardown(struct core_ctx *c)
{
	gmem_vm_destroy(c->vm);
	memset(c, 0, sizeof(*c));
}

static inline uint64_t core_attr(struct gmem *g, uint64_t off)
{
	uint64_t a = ~0ULL;
	int ret = gmem_get_memory_attributes(g, off, &a, NULL);

	TEST_ASSERT(ret == 0, "get attributes at 0x%llx = %d",
		    (unsigned long long)off, ret);
	return a;
}

static inline int core_conv(struct gmem *g, uint64_t off, uint64_t len,
			    uint64_t attrs, uint64_t flags)
{
	return gmem_convert(g, off, len, attrs, flags, NULL);
}

/* ---- SIGBUS probes ------------------------------------------------------ */

static __thread sigjmp_buf core_jmp;
static __thread volatile sig_atomic_t core_armed;

static void core_sigbus(int sig)
{
	if (!core_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	core_armed = 0;
	siglongjmp(core_jmp, 1);
}

static inline void core_sigbus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = core_sigbus;
	sigemptyset(&sa.sa_mask);
	TEST_ASSERT(!sigaction(SIGBUS, &sa, NULL), "sigaction(SIGBUS)");
}

/*
 * Copy len bytes from p (0), or -1 if the access raised SIGBUS.  Host
 * accesses may run while another thread converts the page, by design (the
 * access then sees the old or the new state, or SIGBUS): ThreadSanitizer
 * cannot see page-table changes and would take the mmap() that changes the
 * mapping for a plain write, so these two are not instrumented.
 */
static __attribute__((noinline, unused, no_sanitize("thread")))
int core_try_read(const volatile uint8_t *p, void *out, size_t len)
{
	if (sigsetjmp(core_jmp, 1))
		return -1;
	core_armed = 1;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)out)[i] = p[i];
	core_armed = 0;
	return 0;
}

static __attribute__((noinline, unused, no_sanitize("thread")))
int core_try_write(volatile uint8_t *p, const void *in, size_t len)
{
	if (sigsetjmp(core_jmp, 1))
		return -1;
	core_armed = 1;
	for (size_t i = 0; i < len; i++)
		p[i] = ((const uint8_t *)in)[i];
	core_armed = 0;
	return 0;
}

static inline bool core_sigbus_on_read(const uint8_t *p)
{
	uint8_t b;

	return core_try_read(p, &b, 1) < 0;
}

/* ---- snapshots: "a failed call changes nothing" ------------------------- */

struct core_snap {
	uint64_t size;
	uint64_t *attrs, *runs;		/* per page: attributes, run_len */
	struct gmem_page_info *pi;	/* per page: pins, vendor state */
	uint8_t *phys;			/* physical bytes */
	uint8_t *host;			/* host view of shared pages */
	struct gmem_stats st;
};

static inline void core_snap_take(struct core_snap *s, struct gmem *g,
				  const uint8_t *host)
{
	uint64_t pages = gmem_size(g) / PG;

	s->size = gmem_size(g);
	s->attrs = calloc(pages, sizeof(*s->attrs));
	s->runs = calloc(pages, sizeof(*s->runs));
	s->pi = calloc(pages, sizeof(*s->pi));
	s->phys = malloc(s->size);
	s->host = calloc(1, s->size);
	TEST_ASSERT(s->attrs && s->runs && s->pi && s->phys && s->host, "snap");
	for (uint64_t p = 0; p < pages; p++) {
		TEST_ASSERT(!gmem_get_memory_attributes(g, p * PG, &s->attrs[p],
							&s->runs[p]), "attrs");
		TEST_ASSERT(!gmem_page_info(g, p * PG, &s->pi[p]), "page info");
		s->pi[p].allocated = 0;	/* reading may allocate: not state */
		if (host && !(s->attrs[p] & PRIV))
			memcpy(s->host + p * PG, host + p * PG, PG);
	}
	TEST_ASSERT(!gmem_physical_read(g, 0, s->phys, s->size), "phys read");
	TEST_ASSERT(!gmem_get_stats(g, &s->st), "stats");
}

static inline void core_snap_free(struct core_snap *s)
{
	free(s->attrs);
	free(s->runs);
	free(s->pi);
	free(s->phys);
	free(s->host);
	memset(s, 0, sizeof(*s));
}

/* 1 if the two snapshots are identical; diagnoses the first difference. */
static inline int core_snap_same(const struct core_snap *a,
				 const struct core_snap *b)
{
	uint64_t pages = a->size / PG;

	for (uint64_t p = 0; p < pages; p++) {
		if (a->attrs[p] != b->attrs[p] || a->runs[p] != b->runs[p]) {
			diag("page %llu: attributes 0x%llx/run %llu became 0x%llx/run %llu",
			     (unsigned long long)p,
			     (unsigned long long)a->attrs[p],
			     (unsigned long long)a->runs[p],
			     (unsigned long long)b->attrs[p],
			     (unsigned long long)b->runs[p]);
			return 0;
		}
		if (memcmp(&a->pi[p], &b->pi[p], sizeof(a->pi[p]))) {
			diag("page %llu: pins/vendor state changed",
			     (unsigned long long)p);
			return 0;
		}
	}
	if (memcmp(a->phys, b->phys, a->size)) {
		diag("physical bytes changed");
		return 0;
	}
	if (memcmp(a->host, b->host, a->size)) {
		diag("host view of shared pages changed");
		return 0;
	}
	if (memcmp(&a->st, &b->st, sizeof(a->st))) {
		diag("statistics changed (conversions %llu -> %llu, revoked %llu -> %llu, restored %llu -> %llu)",
		     (unsigned long long)a->st.conversions,
		     (unsigned long long)b->st.conversions,
		     (unsigned long long)a->st.views_revoked,
		     (unsigned long long)b->st.views_revoked,
		     (unsigned long long)a->st.views_restored,
		     (unsigned long long)b->st.views_restored);
		return 0;
	}
	return 1;
}

/* Run a call that must fail, and check it changed nothing. */
static inline int core_unchanged_after(struct gmem *g, const uint8_t *host,
				       const struct core_snap *before)
{
	struct core_snap after;
	int same;

	core_snap_take(&after, g, host);
	same = core_snap_same(before, &after);
	core_snap_free(&after);
	return same;
}

/* ---- the content-mode tables of DESIGN.md section 2 --------------------- */

/* Bits of one cell: which content modes a conversion may use. */
#define MU 1	/* UNSPECIFIED */
#define MZ 2	/* ZERO */
#define MP 4	/* PRESERVE */
enum { TO_SHARED, TO_PRIVATE };
enum { PRE, FINAL };

/*
 * spec_modes(policy, platform, dir, phase), from the prose and tables of
 * DESIGN.md section 2 and reference/series-notes.md (not from src/policy.c,
 * which this checks).
 */
static inline unsigned spec_modes(const char *policy, const char *platform,
				  int dir, int phase)
{
	bool snp = !strcmp(platform, "snp"), tdx = !strcmp(platform, "tdx");

	if (!strcmp(policy, "upstream"))
		return MU;
	if (!strcmp(policy, "seed")) {
		if (snp && dir == TO_PRIVATE)
			return MU | MP;		/* ZERO: -EOPNOTSUPP */
		if (tdx && dir == TO_SHARED)
			return MU | MZ;		/* PRESERVE: -EOPNOTSUPP */
		return MU | MZ | MP;
	}
	/* rfc-v5 */
	if (!strcmp(platform, "default") || !strcmp(platform, "pkvm"))
		return MU;
	if (!strcmp(platform, "sw_protected"))
		return dir == TO_SHARED ? MU | MZ | MP : MU | MP;
	/* snp, tdx */
	if (dir == TO_SHARED)
		return MU | MZ;
	return phase == PRE ? MU | MP : MU;
}

static inline unsigned mode_bit(uint64_t flags)
{
	return flags == CZ ? MZ : flags == CP ? MP : MU;
}

static inline const char *mode_name(uint64_t flags)
{
	return flags == CZ ? "ZERO" : flags == CP ? "PRESERVE" : "UNSPECIFIED";
}

/* Fill buf with a pattern derived from seed (never all zero). */
static inline void core_pattern(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)((seed >> 33) | 1);
	}
}

static inline bool core_all_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

#endif
