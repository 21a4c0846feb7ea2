/* SPDX-License-Identifier: MIT */
/*
 * KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd, through the uAPI only:
 * conversions page by page and over mixed ranges, the content modes of
 * the table under test (GMEM_COMPAT_PLATFORM / GMEM_COMPAT_POLICY), the
 * EINVAL table, EOPNOTSUPP with error_offset, EFAULT, ENOTTY on other
 * files, and the struct written back only on failure.  Page states are
 * observed through a host mapping (a private page raises SIGBUS).
 */
#include <stdbool.h>

#include "uapi_test.h"

#define NPAGES 16
#define SIZE (NPAGES * PG)

static int fd;
static uint8_t *host;

static int is_private(uint64_t off)
{
	return peek(host + off) < 0;
}

/* Every page of [off, off + len) in state want (1 private, 0 shared). */
static int all_in(uint64_t off, uint64_t len, int want)
{
	for (uint64_t o = off; o < off + len; o += PG)
		if (is_private(o) != want)
			return 0;
	return 1;
}

static void test_conversions(void)
{
	ok(all_in(0, SIZE, 1), "a guest_memfd without INIT_SHARED starts private");
	set_attrs(fd, 3 * PG, PG, SHARED, 0);
	ok(!is_private(3 * PG) && is_private(2 * PG) && is_private(4 * PG),
	   "one page converted to shared, its neighbours stay private");
	ok(peek(host + 3 * PG) == 0, "a never-allocated page converted to shared reads zero");
	set_attrs(fd, 0, 8 * PG, SHARED, 0);
	ok(all_in(0, 8 * PG, 0) && all_in(8 * PG, 8 * PG, 1),
	   "a range mixing shared and private pages converts as a whole");
	set_attrs(fd, 0, 8 * PG, SHARED, 0);
	ok(all_in(0, 8 * PG, 0), "converting pages already shared is a no-op");
	set_attrs(fd, 2 * PG, 4 * PG, PRIVATE, 0);
	ok(all_in(0, 2 * PG, 0) && all_in(2 * PG, 4 * PG, 1) && all_in(6 * PG, 2 * PG, 0),
	   "shared-to-private in the middle of a shared run");
	set_attrs(fd, 0, SIZE, PRIVATE, 0);
	ok(all_in(0, SIZE, 1), "the whole file back to private");
}

/* Fill page off with a pattern through the host view (it must be shared). */
static void fill(uint64_t off, uint8_t v)
{
	memset(host + off, v, PG);
}

static int all_bytes(uint64_t off, uint8_t v)
{
	for (uint64_t i = 0; i < PG; i++)
		if (host[off + i] != v)
			return 0;
	return 1;
}

static const char *mname(uint64_t f)
{
	return f == F_ZERO ? "ZERO" : f == F_PRESERVE ? "PRESERVE" : "UNSPECIFIED";
}

/* Each content mode in each direction: accepted or refused as the table
 * says, with error_offset = offset and nothing changed when refused. */
static void test_mode_matrix(const struct mode_row *row)
{
	static const uint64_t modes[] = { 0, F_ZERO, F_PRESERVE };
	uint64_t off = 10 * PG, eo;

	for (int dir = 0; dir < 2; dir++) {
		uint64_t to = dir ? PRIVATE : SHARED, from = dir ? SHARED : PRIVATE;
		unsigned allowed = row ? (dir ? row->to_private : row->to_shared) : M_U;

		for (size_t i = 0; i < 3; i++) {
			int want = (allowed & mode_bit(modes[i])) ? 0 :
				   row ? EOPNOTSUPP : EINVAL;
			int e;

			set_attrs(fd, off, PG, from, 0);
			e = set_attrs_err(fd, off, PG, to, modes[i], &eo);
			ok(e == want && (e != EOPNOTSUPP || eo == off) &&
			   is_private(off) == (e ? (int)dir ^ 1 : (int)dir),
			   "to-%s %s: %s%s", dir ? "private" : "shared",
			   mname(modes[i]), want ? ename(want) : "accepted",
			   want == EOPNOTSUPP ? ", error_offset = offset, nothing converted" : "");
		}
	}
}

/* What the content modes do to the bytes, where the table allows them. */
static void test_mode_contents(const struct mode_row *row)
{
	uint64_t off = 12 * PG;

	if (!row) {
		/* v8 has no content modes and KVM leaves the bytes alone: a
		 * round trip keeps them where nothing encrypts them. */
		const char *p = getenv("GMEM_COMPAT_PLATFORM");

		if (p && (!strcmp(p, "snp") || !strcmp(p, "tdx")))
			return;
		set_attrs(fd, off, PG, SHARED, 0);
		fill(off, 0x6b);
		set_attrs(fd, off, PG, PRIVATE, 0);
		set_attrs(fd, off, PG, SHARED, 0);
		ok(all_bytes(off, 0x6b), "v8: a round trip in place keeps the bytes (no scramble)");
		return;
	}
	if (row->to_shared & M_Z) {
		set_attrs(fd, off, PG, SHARED, 0);
		fill(off, 0xa5);
		set_attrs(fd, off, PG, PRIVATE, 0);
		set_attrs(fd, off, PG, SHARED, F_ZERO);
		ok(all_bytes(off, 0), "ZERO to-shared: the host reads zeros");
	}
	if (row->encrypts || !(row->to_shared & M_P))
		return;
	if (row->to_private & M_P) {
		set_attrs(fd, off, PG, SHARED, 0);
		fill(off, 0x5a);
		set_attrs(fd, off, PG, PRIVATE, F_PRESERVE);
		set_attrs(fd, off, PG, SHARED, F_PRESERVE);
		ok(all_bytes(off, 0x5a), "PRESERVE both ways: the bytes stay in place");
	}
	if (row->to_private & M_Z) {
		fill(off, 0x3c);
		set_attrs(fd, off, PG, PRIVATE, F_ZERO);
		set_attrs(fd, off, PG, SHARED, F_PRESERVE);
		ok(all_bytes(off, 0), "ZERO to-private: the page is zero when it comes back");
	}
	if (row->scrambles) {
		fill(off, 0x00);
		set_attrs(fd, off, PG, PRIVATE, 0);
		set_attrs(fd, off, PG, SHARED, F_PRESERVE);
		ok(!all_bytes(off, 0), "UNSPECIFIED to-private scrambles the page");
	}
}

struct bad {
	const char *what;
	struct kvm_memory_attributes2 a;
};

static void test_einval(const char *pol)
{
	bool v8 = !strcmp(pol, "upstream");
	const uint64_t top = ~(PG - 1);
	const struct bad table[] = {
		{ "unknown flag bit",       { .size = PG, .flags = 1ULL << 2 } },
		{ "ZERO and PRESERVE",      { .size = PG, .flags = F_ZERO | F_PRESERVE } },
		{ "unknown attribute bit",  { .size = PG, .attributes = 1ULL << 0 } },
		{ "attribute bit 63",       { .size = PG, .attributes = 1ULL << 63 } },
		{ "reserved[0] set",        { .size = PG, .reserved = { 1 } } },
		{ "reserved[10] set",       { .size = PG, .reserved = { [10] = 1 } } },
		{ "error_offset set on input", { .size = PG, .error_offset = PG } },
		{ "size 0",                 { .offset = 0, .size = 0 } },
		{ "offset not page aligned", { .offset = PG / 2, .size = PG } },
		{ "size not page aligned",  { .offset = 0, .size = PG + 1 } },
		{ "offset + size overflows", { .offset = top, .size = 2 * PG } },
		{ "range past the end",     { .offset = SIZE - PG, .size = 2 * PG } },
		{ "offset at the end",      { .offset = SIZE, .size = PG } },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct kvm_memory_attributes2 a = table[i].a, before = a;
		int e;

		if (v8 && table[i].a.error_offset)
			continue;	/* output only in v8: below */
		e = __set_attrs(fd, &a);
		ok(e == EINVAL && !memcmp(&a, &before, sizeof(a)),
		   "EINVAL: %s (got %s, struct unchanged)", table[i].what,
		   e ? ename(e) : "success");
	}
	if (v8) {	/* v8: error_offset is output only, never read */
		struct kvm_memory_attributes2 a = { .size = PG, .error_offset = PG },
					      before = a;
		int e = __set_attrs(fd, &a);

		ok(!e && !memcmp(&a, &before, sizeof(a)),
		   "v8: error_offset set on input is accepted and left as it was (got %s)",
		   e ? ename(e) : "success");
	}
}

static void test_errors(void)
{
	struct kvm_memory_attributes2 a = { .offset = PG, .size = PG }, before;
	int mfd, e;

	errno = 0;
	e = ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, NULL) ? errno : 0;
	ok(e == EFAULT, "EFAULT for a NULL struct (got %s)", ename(e));

	mfd = memfd_create("not-gmem", MFD_CLOEXEC);
	TEST_ASSERT(mfd >= 0, "memfd_create");
	e = __set_attrs(mfd, &a);
	ok(e == ENOTTY, "ENOTTY on a file that is not a guest_memfd (got %s)", ename(e));
	close(mfd);

	/* Success writes nothing back: a sentinel in the output field of a
	 * copy the kernel might write would show. */
	a.attributes = SHARED;
	before = a;
	e = __set_attrs(fd, &a);
	ok(!e && !memcmp(&a, &before, sizeof(a)),
	   "a successful call leaves the struct as it was");
}

int main(void)
{
	const char *plat, *pol;
	const struct mode_row *row = mode_row(&plat, &pol);
	struct kvm_env k;

	TEST_REQUIRE(row || !strcmp(pol, "upstream"),
		     "no content-mode table for platform %s, policy %s", plat, pol);
	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	fd = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP);
	require_inplace(fd, PRIVATE);
	host = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(host != MAP_FAILED, "mmap of the guest_memfd");
	diag("content-mode table: platform %s, policy %s%s", plat, pol,
	     row ? "" : " (no content flags)");

	test_conversions();
	test_mode_matrix(row);
	test_mode_contents(row);
	test_einval(pol);
	test_errors();

	munmap(host, SIZE);
	close(fd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
