/* SPDX-License-Identifier: MIT */
/*
 * VMs and gmem files: names, phases, creation rules, initial attributes,
 * sparse 1 TiB files, and the invalid-input table of every public function
 * (each row: the input, the expected errno, and nothing changed afterwards).
 * Run over the emulated and kvm backends.
 */
#include <sys/mman.h>

#include "core_common.h"

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	TEST_ASSERT(f, "/proc/self/statm");
	TEST_ASSERT(fscanf(f, "%lu %lu", &size, &resident) == 2, "statm");
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void test_names(const char *be)
{
	static const struct {
		const char *platform, *policy;
		int want;
		const char *want_plat, *want_pol;
	} rows[] = {
		{ "default", NULL, 0, "default", "seed" },
		{ NULL, NULL, 0, "default", "seed" },
		{ "sw_protected", "seed", 0, "sw_protected", "seed" },
		{ "snp", "rfc-v5", 0, "snp", "rfc-v5" },
		{ "tdx", "upstream", 0, "tdx", "upstream" },
		{ "pkvm", "seed", 0, "pkvm", "seed" },
		{ "", NULL, -EINVAL, NULL, NULL },
		{ "SNP", NULL, -EINVAL, NULL, NULL },
		{ "default ", NULL, -EINVAL, NULL, NULL },
		{ "sev", NULL, -EINVAL, NULL, NULL },
		{ "default", "", -EINVAL, NULL, NULL },
		{ "default", "Seed", -EINVAL, NULL, NULL },
		{ "default", "rfc-v6", -EINVAL, NULL, NULL },
		{ "default", "upstream ", -EINVAL, NULL, NULL },
		{ "bogus", "bogus", -EINVAL, NULL, NULL },
	};
	const char *const *names;
	unsigned n;

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct gmem_vm *vm = (struct gmem_vm *)&vm;
		int ret = gmem_vm_create(&vm, rows[i].platform, rows[i].policy);

		ok_ret(ret, rows[i].want, "%s: vm_create(%s, %s)", be,
		       rows[i].platform ? rows[i].platform : "NULL",
		       rows[i].policy ? rows[i].policy : "NULL");
		if (ret) {
			ok(vm == NULL, "%s: *vm is NULL after a failure", be);
			continue;
		}
		ok(!strcmp(gmem_vm_platform(vm), rows[i].want_plat) &&
		   !strcmp(gmem_vm_policy(vm), rows[i].want_pol),
		   "%s: platform %s, policy %s", be, gmem_vm_platform(vm),
		   gmem_vm_policy(vm));
		gmem_vm_destroy(vm);
	}
	/* Every advertised name is accepted, and the lists are complete. */
	names = gmem_platform_names();
	for (n = 0; names[n]; n++) {
		struct gmem_vm *vm;

		ok_ret(gmem_vm_create(&vm, names[n], NULL), 0, "%s: listed platform %s",
		       be, names[n]);
		gmem_vm_destroy(vm);
	}
	ok(n == ARRAY_SIZE(core_platforms) - 1, "%s: %u platforms listed", be, n);
	names = gmem_policy_names();
	for (n = 0; names[n]; n++) {
		struct gmem_vm *vm;

		ok_ret(gmem_vm_create(&vm, "default", names[n]), 0,
		       "%s: listed policy %s", be, names[n]);
		gmem_vm_destroy(vm);
	}
	ok(n == ARRAY_SIZE(core_policies) - 1, "%s: %u policies listed", be, n);
}

static void test_phase(const char *be)
{
	for (int i = 0; core_platforms[i]; i++) {
		struct gmem_vm *vm;

		TEST_ASSERT(!gmem_vm_create(&vm, core_platforms[i], NULL), "vm");
		ok(gmem_vm_is_finalized(vm) == 0, "%s/%s: starts pre-finalize",
		   be, core_platforms[i]);
		ok_ret(gmem_vm_finalize(vm), 0, "%s/%s: finalize", be,
		       core_platforms[i]);
		ok(gmem_vm_is_finalized(vm) == 1, "%s/%s: finalized", be,
		   core_platforms[i]);
		ok_ret(gmem_vm_finalize(vm), -EINVAL, "%s/%s: finalize twice",
		       be, core_platforms[i]);
		ok(gmem_vm_is_finalized(vm) == 1, "%s/%s: still finalized", be,
		   core_platforms[i]);
		gmem_vm_destroy(vm);
	}
}

static void test_create_rules(const char *be)
{
	static const struct {
		uint64_t size, flags;
		int want;
	} rows[] = {
		{ 0, 0, -EINVAL },
		{ 0, GMEM_FLAG_MMAP, -EINVAL },
		{ 1, 0, -EINVAL },
		{ PG - 1, 0, -EINVAL },
		{ PG + 1, 0, -EINVAL },
		{ 3 * PG + 512, GMEM_FLAG_MMAP, -EINVAL },
		{ ~0ULL & ~(PG - 1), 0, -EINVAL },	/* beyond any file */
		{ PG, 1ULL << 2, -EINVAL },
		{ PG, 1ULL << 3, -EINVAL },
		{ PG, 1ULL << 63, -EINVAL },
		{ PG, GMEM_FLAG_MMAP | (1ULL << 5), -EINVAL },
		{ PG, 0, 0 },
		{ PG, GMEM_FLAG_MMAP, 0 },
		{ PG, GMEM_FLAG_INIT_SHARED, 0 },
		{ PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, 0 },
		{ 17 * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, 0 },
	};
	struct gmem_vm *vm;

	TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "vm");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct gmem *g = (struct gmem *)&g;
		int ret = gmem_create(vm, rows[i].size, rows[i].flags, &g);

		ok_ret(ret, rows[i].want, "%s: gmem_create(size 0x%llx, flags 0x%llx)",
		       be, (unsigned long long)rows[i].size,
		       (unsigned long long)rows[i].flags);
		if (ret) {
			ok(g == NULL, "%s: *g is NULL after a failure", be);
			continue;
		}
		ok(gmem_size(g) == rows[i].size, "%s: size kept", be);
		ok(!strcmp(gmem_backend_name(g), be), "%s: backend is %s", be,
		   gmem_backend_name(g));
		gmem_destroy(g);
	}
	gmem_vm_destroy(vm);
}

/* Without INIT_SHARED every page starts PRIVATE; with it, shared; run_len
 * from every page is the rest of the file. */
static void test_initial(const char *be)
{
	static const uint64_t flags[] = {
		0, GMEM_FLAG_MMAP, GMEM_FLAG_INIT_SHARED,
		GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED,
	};

	for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
		struct core_ctx c;
		uint64_t want = (flags[f] & GMEM_FLAG_INIT_SHARED) ? 0 : PRIV;
		bool all = true;
		void *v;

		core_setup(&c, "default", NULL, 37, 0);
		gmem_destroy(c.g);
		TEST_ASSERT(!gmem_create(c.vm, 37 * PG, flags[f], &c.g), "gmem");
		for (uint64_t p = 0; p < 37; p++) {
			uint64_t a, run;

			TEST_ASSERT(!gmem_get_memory_attributes(c.g, p * PG, &a, &run), "attrs");
			all &= a == want && run == (37 - p) * PG;
		}
		ok(all, "%s: flags 0x%llx: every page %s, run to the end", be,
		   (unsigned long long)flags[f], want ? "PRIVATE" : "shared");
		errno = 0;
		v = gmem_mmap(c.g);
		if (flags[f] & GMEM_FLAG_MMAP) {
			ok(v != NULL, "%s: flags 0x%llx: gmem_mmap works", be,
			   (unsigned long long)flags[f]);
			ok(gmem_mmap(c.g) == v, "%s: a second gmem_mmap returns the same view", be);
		} else {
			ok(v == NULL && errno == ENODEV,
			   "%s: flags 0x%llx: gmem_mmap is NULL with ENODEV (errno %d)",
			   be, (unsigned long long)flags[f], errno);
		}
		core_teardown(&c);
	}
}

/* 1 TiB, sparse: creating, mapping, converting and punching touch no
 * memory beyond the pages written. */
static void test_sparse(const char *be)
{
	/* The ThreadSanitizer runtime's shadow leaves no room for a 1 TiB
	 * mapping at times: 64 GiB there. */
	const uint64_t size = CORE_TSAN ? 1ULL << 36 : 1ULL << 40, mib = 1ULL << 20;
	const char *sz = CORE_TSAN ? "64 GiB" : "1 TiB";
	struct gmem_vm *vm;
	struct gmem *g;
	uint64_t rss0, a, run;
	struct gmem_stats st;
	uint8_t *v;
	int ret;

	TEST_ASSERT(!gmem_vm_create(&vm, "sw_protected", NULL), "vm");
	rss0 = rss_bytes();
	ret = gmem_create(vm, size, GMEM_FLAG_MMAP, &g);
	ok_ret(ret, 0, "%s: %s gmem", be, sz);
	if (ret) {
		gmem_vm_destroy(vm);
		return;
	}
	if (CORE_TSAN) {
		/* The ThreadSanitizer runtime leaves too little address space
		 * for two 1 TiB mappings (the library's and the view). */
		diag("SKIP the 1 TiB host view under ThreadSanitizer");
		v = NULL;
	} else {
		v = gmem_mmap(g);
		ok(v != NULL, "%s: 1 TiB host view", be);
	}
	ok(!gmem_get_memory_attributes(g, size - PG, &a, &run) && a == PRIV &&
	   run == PG, "%s: last page private, run of one page", be);
	ok_ret(core_conv(g, size / 2, 64 * mib, 0, CZ), 0,
	       "%s: ZERO to-shared of 64 MiB in the middle", be);
	ok_ret(core_conv(g, size - 512 * mib, 512 * mib, 0, CU), 0,
	       "%s: UNSPECIFIED (scramble) to-shared of the last 512 MiB", be);
	if (v) {
		memset(v + size / 2 + mib, 0xab, PG);
		ok(v[size / 2 + mib + 17] == 0xab, "%s: a page written far away", be);
	}
	ok_ret(core_conv(g, size / 2, 64 * mib, PRIV, CP), 0,
	       "%s: PRESERVE back to private", be);
	ok_ret(gmem_punch_hole(g, 0, size), 0, "%s: punch the whole TiB", be);
	gmem_get_stats(g, &st);
	ok(st.pages_scrambled <= 1 && st.pages_zeroed == 0,
	   "%s: only resident pages are written (zeroed %llu, scrambled %llu)",
	   be, (unsigned long long)st.pages_zeroed,
	   (unsigned long long)st.pages_scrambled);
	ok(rss_bytes() < rss0 + 16 * mib,
	   "%s: RSS grew by %lld KiB (< 16 MiB)", be,
	   (long long)(rss_bytes() - rss0) / 1024);
	ok(st.ranges == 2, "%s: two runs in the store (%llu)", be,
	   (unsigned long long)st.ranges);
	gmem_vm_destroy(vm);
}

static void test_null(const char *be)
{
	struct gmem_attributes2 a = { .size = PG };
	struct gmem_memory_fault f;
	struct gmem_page_info pi;
	struct gmem_stats st;
	struct core_ctx c;
	uint64_t x, y;
	uint8_t buf[8];

	core_setup(&c, "default", NULL, 4, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	ok_ret(gmem_vm_create(NULL, "default", NULL), -EFAULT, "%s: vm_create(NULL)", be);
	ok_ret(gmem_vm_finalize(NULL), -EFAULT, "%s: vm_finalize(NULL)", be);
	ok_ret(gmem_vm_content_modes(NULL, 0, &x), -EFAULT, "%s: content_modes(NULL vm)", be);
	ok_ret(gmem_vm_content_modes(c.vm, 0, NULL), -EFAULT, "%s: content_modes(NULL modes)", be);
	ok_ret(gmem_create(NULL, PG, 0, &c.g), -EFAULT, "%s: gmem_create(NULL vm)", be);
	ok_ret(gmem_create(c.vm, PG, 0, NULL), -EFAULT, "%s: gmem_create(NULL g)", be);
	ok_ret(gmem_set_memory_attributes(NULL, &a), -EFAULT, "%s: set_attributes(NULL g)", be);
	ok_ret(gmem_set_memory_attributes(c.g, NULL), -EFAULT, "%s: set_attributes(NULL a)", be);
	ok_ret(gmem_convert(NULL, 0, PG, 0, 0, NULL), -EFAULT, "%s: convert(NULL)", be);
	ok_ret(gmem_get_memory_attributes(NULL, 0, &x, &y), -EFAULT, "%s: get_attributes(NULL g)", be);
	ok_ret(gmem_get_memory_attributes(c.g, 0, NULL, &y), -EFAULT, "%s: get_attributes(NULL attrs)", be);
	ok_ret(gmem_get_memory_attributes(c.g, 0, &x, NULL), 0, "%s: run_len may be NULL", be);
	errno = 0;
	ok(gmem_mmap(NULL) == NULL && errno == EFAULT, "%s: gmem_mmap(NULL)", be);
	ok_ret(gmem_punch_hole(NULL, 0, PG), -EFAULT, "%s: punch(NULL)", be);
	ok_ret(gmem_pin(NULL, 0), -EFAULT, "%s: pin(NULL)", be);
	ok_ret(gmem_unpin(NULL, 0), -EFAULT, "%s: unpin(NULL)", be);
	ok_ret(gmem_guest_access(NULL, 0, buf, 1, GMEM_ACCESS_READ), -EFAULT, "%s: guest_access(NULL g)", be);
	ok_ret(gmem_guest_access(c.g, 0, NULL, 1, GMEM_ACCESS_READ), -EFAULT, "%s: guest_access(NULL buf)", be);
	ok_ret(gmem_guest_access_fault(c.g, 0, buf, 1, GMEM_ACCESS_READ, NULL), 0,
	       "%s: fault report may be NULL", be);
	ok_ret(gmem_guest_access_fault(NULL, 0, buf, 1, GMEM_ACCESS_READ, &f), -EFAULT,
	       "%s: guest_access_fault(NULL g)", be);
	ok_ret(gmem_physical_read(NULL, 0, buf, 1), -EFAULT, "%s: physical_read(NULL g)", be);
	ok_ret(gmem_physical_read(c.g, 0, NULL, 1), -EFAULT, "%s: physical_read(NULL buf)", be);
	ok_ret(gmem_get_stats(NULL, &st), -EFAULT, "%s: get_stats(NULL g)", be);
	ok_ret(gmem_get_stats(c.g, NULL), -EFAULT, "%s: get_stats(NULL st)", be);
	ok_ret(gmem_page_info(NULL, 0, &pi), -EFAULT, "%s: page_info(NULL g)", be);
	ok_ret(gmem_page_info(c.g, 0, NULL), -EFAULT, "%s: page_info(NULL pi)", be);
	ok_ret(gmem_bind(NULL, 0), -EFAULT, "%s: bind(NULL)", be);
	ok(gmem_backend_name(NULL) == NULL, "%s: backend_name(NULL)", be);
	ok(gmem_size(NULL) == 0, "%s: gmem_size(NULL)", be);
	ok(gmem_vm_platform(NULL) == NULL && gmem_vm_policy(NULL) == NULL,
	   "%s: vm names of NULL", be);
	gmem_destroy(NULL);
	gmem_vm_destroy(NULL);
	core_teardown(&c);
}

enum fn { PIN, UNPIN, PUNCH, GET, GUEST, PHYS, MODES, BIND };
static const char *const fn_names[] = {
	"pin", "unpin", "punch_hole", "get_attributes", "guest_access",
	"physical_read", "content_modes", "bind",
};

static int call(struct core_ctx *c, enum fn fn, uint64_t off, uint64_t len,
		unsigned access)
{
	static uint8_t buf[3 * 4096];
	uint64_t x, y;

	switch (fn) {
	case PIN:   return gmem_pin(c->g, off);
	case UNPIN: return gmem_unpin(c->g, off);
	case PUNCH: return gmem_punch_hole(c->g, off, len);
	case GET:   return gmem_get_memory_attributes(c->g, off, &x, &y);
	case GUEST: return gmem_guest_access(c->g, off, buf, len, access);
	case PHYS:  return gmem_physical_read(c->g, off, buf, len);
	case MODES: return gmem_vm_content_modes(c->vm, off, &x);
	case BIND:  return gmem_bind(c->g, off);
	}
	return 0;
}

/* Every row fails with its errno and leaves the gmem exactly as it was. */
static void test_invalid_tables(const char *be)
{
	const uint64_t n = 8, S = n * PG;
	const unsigned R = GMEM_ACCESS_READ, W = GMEM_ACCESS_WRITE;
	const struct {
		enum fn fn;
		uint64_t off, len;
		unsigned access;
		int want;
	} rows[] = {
		{ PIN, 1, 0, 0, -EINVAL },
		{ PIN, PG + 8, 0, 0, -EINVAL },
		{ PIN, S, 0, 0, -EINVAL },
		{ PIN, ~0ULL & ~(PG - 1), 0, 0, -EINVAL },
		{ PIN, 6 * PG, 0, 0, -EFAULT },		/* private page */
		{ UNPIN, 1, 0, 0, -EINVAL },
		{ UNPIN, S, 0, 0, -EINVAL },
		{ UNPIN, 0, 0, 0, -EINVAL },		/* not pinned */
		{ PUNCH, 0, 0, 0, -EINVAL },
		{ PUNCH, 1, PG, 0, -EINVAL },
		{ PUNCH, 0, PG + 1, 0, -EINVAL },
		{ PUNCH, 1ULL << 63, PG, 0, -EINVAL },	/* fallocate: offset < 0 */
		{ PUNCH, PG, ~0ULL & ~(PG - 1), 0, -EINVAL },	/* len < 0 */
		{ PUNCH, 1ULL << 62, 1ULL << 62, 0, -EFBIG },	/* past the largest file */
		{ PUNCH, S, PG, 0, 0 },			/* past the end: clipped to nothing */
		{ GET, 1, 0, 0, -EINVAL },
		{ GET, S, 0, 0, -EINVAL },
		{ GET, ~0ULL & ~(PG - 1), 0, 0, -EINVAL },
		{ GUEST, 0, 1, 0, -EINVAL },		/* neither read nor write */
		{ GUEST, 0, 1, R | W, -EINVAL },
		{ GUEST, 0, 1, R | (1U << 7), -EINVAL },
		{ GUEST, 0, 0, R, -EINVAL },
		{ GUEST, S - 1, 2, R, -EINVAL },
		{ GUEST, 8, ~0ULL - 4, R, -EINVAL },	/* overflow */
		{ GUEST, 0, 2 * PG, R, -EFAULT },	/* shared access: page 1 private */
		{ GUEST, 5 * PG, 2 * PG, W | GMEM_ACCESS_PRIVATE, -EFAULT },
		{ PHYS, 0, 0, 0, -EINVAL },
		{ PHYS, S - 1, 2, 0, -EINVAL },
		{ PHYS, 8, ~0ULL - 4, 0, -EINVAL },
		{ MODES, 1ULL << 0, 0, 0, -EINVAL },	/* not an attribute */
		{ MODES, PRIV | (1ULL << 4), 0, 0, -EINVAL },
		{ BIND, 1, 0, 0, -EINVAL },
		{ BIND, ~0ULL & ~(PG - 1), 0, 0, -EINVAL },	/* gpa + size overflows */
	};
	struct core_ctx c;
	struct core_snap before;

	core_setup(&c, "default", NULL, n, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	core_pattern(c.host, S, 42);
	TEST_ASSERT(!core_conv(c.g, PG, PG, PRIV, CP), "page 1 private");
	TEST_ASSERT(!core_conv(c.g, 6 * PG, PG, PRIV, CP), "page 6 private");
	TEST_ASSERT(!gmem_pin(c.g, 3 * PG), "pin page 3");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		core_snap_take(&before, c.g, c.host);
		ok_ret(call(&c, rows[i].fn, rows[i].off, rows[i].len, rows[i].access),
		       rows[i].want, "%s: %s(0x%llx, 0x%llx, access 0x%x)", be,
		       fn_names[rows[i].fn], (unsigned long long)rows[i].off,
		       (unsigned long long)rows[i].len, rows[i].access);
		ok(core_unchanged_after(c.g, c.host, &before),
		   "%s: ... and nothing changed", be);
		core_snap_free(&before);
	}
	core_teardown(&c);
}

static void test_backend_forced(void)
{
	struct gmem_vm *vm = (struct gmem_vm *)&vm;

	setenv("GMEM_BACKEND", "no-such-backend", 1);
	ok_ret(gmem_vm_create(&vm, "default", NULL), -ENODEV,
	       "GMEM_BACKEND naming no backend: -ENODEV, no fallback");
	ok(vm == NULL, "... and *vm is NULL");
	ok_ret(gmem_backend_probe("no-such-backend", NULL), -EINVAL,
	       "probing an unknown backend name");
	unsetenv("GMEM_BACKEND");
}

int main(void)
{
	plan_lazy();
	for (int b = 0; core_backends[b]; b++) {
		const char *be = core_backends[b];

		if (!core_use_backend(be))
			continue;
		test_names(be);
		test_phase(be);
		test_create_rules(be);
		test_initial(be);
		test_sparse(be);
		test_null(be);
		test_invalid_tables(be);
	}
	test_backend_forced();
	return done();
}
