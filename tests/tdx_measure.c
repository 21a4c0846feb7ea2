/* SPDX-License-Identifier: MIT */
/*
 * The MRTD prediction of a TDVF launch (src/platform/tdx_tdvf.c) on a
 * synthetic TDVF image built here: against the 128-byte-block chain
 * computed independently, and against the MRTD of the same launch done
 * through libgmem's TDX model (gmem_tdx_page_add() on gmem files bound at
 * the sections' GPAs, as libgmem-compat does for KVM_TDX_INIT_MEM_REGION);
 * a table of broken metadata refused with a reason; Debian 12's OVMF.fd
 * against the MRTD of an independent implementation.
 *
 *   tdx_measure --write-image FILE [CASE]   writes the image (or a broken
 *   one) for tests/measure.t.
 */
#include <openssl/evp.h>
#include <string.h>
#include <sys/mman.h>

#include "tap.h"
#include "fw_image.h"
#include "gmem/gmem.h"
#include "platform/tdx_mr.h"
#include "platform/tdx_tdvf.h"

#define PG 4096u
#define IMG_SIZE (16 * PG)
#define TDVF_AT 0x2000u		/* offset of the TDVF descriptor */

static const uint8_t g_tdx[16] = { 0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
	0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2 };

/* BFV: the image's last 8 pages, measured; CFV: 4 pages, not; TD_HOB,
 * TEMP_MEM (one extended: zero pages measured). */
static const struct gmem__tdvf_section sections[] = {
	{ 8 * PG, 8 * PG, 0xfffff000ULL - 7 * PG, 8 * PG, GMEM__TDVF_BFV, 1 },
	{ 4 * PG, 4 * PG, 0xffff4000ULL, 4 * PG, GMEM__TDVF_CFV, 0 },
	{ 0, 0, 0x809000, 2 * PG, GMEM__TDVF_TD_HOB, 0 },
	{ 0, 0, 0x800000, 3 * PG, GMEM__TDVF_TEMP_MEM, 0 },
	{ 0, 0, 0x810000, 1 * PG, GMEM__TDVF_TEMP_MEM, 1 },
};
#define NSEC (sizeof(sections) / sizeof(sections[0]))

static void make_image(uint8_t *img, const struct gmem__tdvf_section *sec, unsigned n)
{
	uint32_t x = 0x9e3779b9;
	uint8_t *h = img + TDVF_AT;
	unsigned foot = IMG_SIZE - 32 - 18, ent = foot - 22;

	for (unsigned i = 0; i < IMG_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		img[i] = (uint8_t)x;
	}
	memcpy(h, "TDVF", 4);
	put32(h + 4, 16 + 32 * n);
	put32(h + 8, 1);
	put32(h + 12, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = h + 16 + 32 * i;

		put32(e, sec[i].data_offset);
		put32(e + 4, sec[i].data_len);
		put64(e + 8, sec[i].address);
		put64(e + 16, sec[i].size);
		put32(e + 24, sec[i].type);
		put32(e + 28, sec[i].attributes);
	}
	/* GUID table: the TDX metadata entry, then the footer. */
	put32(img + ent, IMG_SIZE - TDVF_AT);
	img[ent + 4] = 22;
	img[ent + 5] = 0;
	memcpy(img + ent + 6, g_tdx, 16);
	img[foot] = 22 + 18;
	img[foot + 1] = 0;
	memcpy(img + foot + 2, g_footer, 16);
}

static void block(EVP_MD_CTX *ctx, const char *what, uint64_t gpa)
{
	uint8_t b[128] = { 0 };

	memcpy(b, what, strlen(what));
	for (int i = 0; i < 8; i++)
		b[16 + i] = (uint8_t)(gpa >> (8 * i));
	EVP_DigestUpdate(ctx, b, sizeof(b));
}

/* The MRTD computed here: per page PAGE.ADD, and with MR_EXTEND the 16
 * MR.EXTEND blocks, each followed by its 256 bytes. */
static void expected(const uint8_t *img, uint8_t out[48])
{
	static const uint8_t zero[PG];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 48;

	TEST_ASSERT(ctx && EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) == 1, "sha384");
	for (unsigned i = 0; i < NSEC; i++) {
		const struct gmem__tdvf_section *s = &sections[i];

		for (uint64_t p = 0; p < s->size / PG; p++) {
			const uint8_t *page = s->type <= GMEM__TDVF_CFV ?
					      img + s->data_offset + p * PG : zero;

			block(ctx, "MEM.PAGE.ADD", s->address + p * PG);
			for (unsigned c = 0; (s->attributes & 1) && c < 16; c++) {
				block(ctx, "MR.EXTEND", s->address + p * PG + c * 256);
				EVP_DigestUpdate(ctx, page + c * 256, 256);
			}
		}
	}
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}

/* The same launch through libgmem's TDX model. */
static void launched(const uint8_t *img, uint8_t out[48])
{
	struct gmem_vm *vm;
	struct gmem *g[NSEC];

	TEST_ASSERT(!gmem_vm_create(&vm, "tdx", NULL), "tdx vm");
	for (unsigned i = 0; i < NSEC; i++) {
		const struct gmem__tdvf_section *s = &sections[i];
		uint8_t *host;

		TEST_ASSERT(!gmem_create(vm, s->size, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED,
					 &g[i]), "gmem");
		TEST_ASSERT(!gmem_bind(g[i], s->address), "bind");
		host = gmem_mmap(g[i]);
		TEST_ASSERT(host, "mmap");
		if (s->type <= GMEM__TDVF_CFV)
			memcpy(host, img + s->data_offset, s->size);
		TEST_ASSERT(!gmem_convert(g[i], 0, s->size, GMEM_ATTR_PRIVATE,
					  GMEM_CONTENT_PRESERVE, NULL), "to private");
		TEST_ASSERT(!gmem_tdx_page_add(g[i], 0, s->size, s->attributes & 1),
			    "PAGE.ADD section %u", i);
	}
	TEST_ASSERT(!gmem_vm_finalize(vm), "finalize");
	TEST_ASSERT(!gmem_tdx_mrtd(vm, out), "mrtd");
	for (unsigned i = 0; i < NSEC; i++)
		gmem_destroy(g[i]);
	gmem_vm_destroy(vm);
}

struct steps {
	struct gmem__tdx_measure_step v[8];
	unsigned n;
};

static void record(void *arg, const struct gmem__tdx_measure_step *st)
{
	struct steps *s = arg;

	if (s->n < 8)
		s->v[s->n] = *st;
	s->n++;
}

static void test_synthetic(const uint8_t *img)
{
	struct gmem__tdvf t;
	struct steps st = { .n = 0 };
	uint8_t got[48], want[48], model[48];
	const char *why = NULL;
	int good;

	ok(!gmem__tdvf_parse(img, IMG_SIZE, &t, &why), "synthetic TDVF parses (%s)", why ? why : "");
	good = t.nsections == NSEC;
	for (unsigned i = 0; good && i < NSEC; i++)
		good = !memcmp(&t.sec[i], &sections[i], sizeof(sections[i]));
	ok(good, "the %u sections in table order", (unsigned)NSEC);
	TEST_ASSERT(!gmem__tdx_measure(&t, got, record, &st), "measure");
	expected(img, want);
	ok(!memcmp(got, want, 48), "MRTD: PAGE.ADD per page, MR.EXTEND of BFV and the extended TEMP_MEM");
	launched(img, model);
	ok(!memcmp(got, model, 48), "MRTD equals that of the same launch through libgmem's TDX model");
	ok(st.n == NSEC && st.v[0].pages == 8 && st.v[0].extended && !st.v[1].extended &&
	   !memcmp(st.v[NSEC - 1].mrtd, got, 48), "steps: one per section, the last the MRTD");
	ok(gmem__tdx_measure(NULL, got, NULL, NULL) == -EFAULT &&
	   gmem__tdvf_parse(NULL, 1, &t, NULL) == -EFAULT, "NULL: -EFAULT");
}

/* ---- broken metadata -------------------------------------------------- */

struct bad_case {
	const char *name;
	unsigned field, size;	/* offset in the descriptor, width */
	uint64_t value;
	int err;
	const char *why;
};

#define E(i, off) (16 + 32 * (i) + (off))
static const struct bad_case bad_cases[] = {
	{ "signature", 0, 4, 0x46564455, -EINVAL, "signature" },
	{ "version", 8, 4, 2, -EINVAL, "version" },
	{ "count-1", 12, 4, 1, -EINVAL, "count" },
	{ "count-65", 12, 4, 65, -EINVAL, "count" },
	{ "length", 4, 4, 16 + 32 * NSEC - 1, -EINVAL, "length" },
	{ "length-past-end", 4, 4, 0x10000, -EINVAL, "past the image end" },
	{ "raw-larger", E(0, 4), 4, 9 * PG, -EINVAL, "RawDataSize" },
	{ "unaligned-address", E(3, 8), 8, 0x800800, -EINVAL, "aligned" },
	{ "unaligned-size", E(3, 16), 8, 0x2800, -EINVAL, "aligned" },
	{ "empty", E(3, 16), 8, 0, -EINVAL, "empty" },
	{ "beyond-gpa", E(3, 8), 8, 1ULL << 52, -EINVAL, "address space" },
	{ "bfv-no-data", E(1, 4), 4, 0, -EINVAL, "without data" },
	{ "data-outside", E(1, 0), 4, 13 * PG, -EINVAL, "outside the image" },
	{ "hob-with-data", E(2, 4), 4, PG, -EINVAL, "with data" },
	{ "hob-extended", E(2, 28), 4, 1, -EINVAL, "TD_HOB with MR_EXTEND" },
	{ "type", E(3, 24), 4, 4, -EINVAL, "unknown section type" },
	{ "overlap", E(4, 8), 8, 0x802000, -EINVAL, "overlap" },
	{ "offset", 0xffff, 0, 0, -EINVAL, "offset outside" },
	{ "no-tdx-entry", 0xfffe, 0, 0, -ENOENT, "no TDX metadata" },
};
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static void bad_image(const struct bad_case *c, uint8_t *img)
{
	uint8_t *h = img + TDVF_AT;
	unsigned ent = IMG_SIZE - 32 - 18 - 22;

	make_image(img, sections, NSEC);
	if (c->field == 0xffff)
		put32(img + ent, IMG_SIZE + 4);		/* the entry's offset */
	else if (c->field == 0xfffe)
		img[ent + 6] ^= 1;			/* its GUID */
	else if (c->size == 4)
		put32(h + c->field, (uint32_t)c->value);
	else
		put64(h + c->field, c->value);
}

static void test_bad(void)
{
	static uint8_t img[IMG_SIZE];

	for (size_t i = 0; i < NBAD; i++) {
		struct gmem__tdvf t;
		const char *why = NULL;
		int ret;

		bad_image(&bad_cases[i], img);
		ret = gmem__tdvf_parse(img, IMG_SIZE, &t, &why);
		ok(ret == bad_cases[i].err && why && strstr(why, bad_cases[i].why) &&
		   !strchr(why, '\n') && !t.nsections,
		   "%s: %d (%s)", bad_cases[i].name, ret, why ? why : "no reason");
	}
}

/* ---- Debian 12's OVMF.fd ----------------------------------------------- */

#define DEBIAN_OVMF "/usr/share/ovmf/OVMF.fd"
#define DEBIAN_SHA256 "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773"
/* From an independent implementation of the TDVF launch (QEMU's order). */
#define DEBIAN_MRTD "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5a" \
		    "a9c4999a08de4057fb887fed0744d5631a212967fb231c47"

/*
 * TDH.MR.EXTEND of a page that ends its mapping (the next page PROT_NONE)
 * gives the MRTD of the same bytes anywhere else, and reads nothing past
 * the page.
 */
static void test_mapping_end(void)
{
	uint8_t *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t copy[4096], want[48], got[48];
	struct gmem_tdx_mr *a, *b;

	TEST_ASSERT(m != MAP_FAILED, "mmap");
	TEST_ASSERT(!mprotect(m + 4096, 4096, PROT_NONE), "mprotect");
	for (unsigned i = 0; i < 4096; i++)
		m[i] = (uint8_t)(i * 7 + 1);
	memcpy(copy, m, sizeof(copy));
	TEST_ASSERT(!gmem__tdx_mr_init(&a) && !gmem__tdx_mr_init(&b), "mr init");
	TEST_ASSERT(!gmem__tdx_mr_extend(a, 0xfffff000, copy) &&
		    !gmem__tdx_mr_finalize(a, want), "mr of the copy");
	ok(!gmem__tdx_mr_extend(b, 0xfffff000, m) &&
	   !gmem__tdx_mr_finalize(b, got) && !memcmp(got, want, sizeof(want)),
	   "a page right before an inaccessible one is extended like its copy");
	gmem__tdx_mr_destroy(a);
	gmem__tdx_mr_destroy(b);
	munmap(m, 2 * 4096);
}

static void test_debian(void)
{
	uint8_t d[48] = { 0 };
	char hex[97];
	size_t n = 0;
	struct gmem__tdvf t;
	const char *why = "", *skip;
	uint8_t *img = debian_ovmf(&n, &skip);
	int ret;

	if (!img) {
		ok(1, "Debian OVMF MRTD # SKIP %s", skip);
		return;
	}
	ret = gmem__tdvf_parse(img, n, &t, &why);
	if (!ret)
		ret = gmem__tdx_measure(&t, d, NULL, NULL);
	free(img);
	to_hex(hex, d, sizeof(d));
	ok(!ret && t.nsections == 6 && !strcmp(hex, DEBIAN_MRTD),
	   "Debian 12 OVMF.fd: 6 TDVF sections, MRTD %.16s... (%s)", ret ? "-" : hex, why);
}

static int write_image(const char *path, const char *name)
{
	static uint8_t img[IMG_SIZE];
	FILE *f;
	int found = !name;

	make_image(img, sections, NSEC);
	for (size_t i = 0; name && i < NBAD; i++)
		if (!strcmp(bad_cases[i].name, name)) {
			bad_image(&bad_cases[i], img);
			found = 1;
		}
	if (!found) {
		fprintf(stderr, "tdx_measure: unknown case '%s'\n", name);
		return 2;
	}
	f = fopen(path, "wb");
	TEST_ASSERT(f && fwrite(img, 1, IMG_SIZE, f) == IMG_SIZE && !fclose(f), "write %s", path);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t img[IMG_SIZE];

	if (argc >= 3 && !strcmp(argv[1], "--write-image"))
		return write_image(argv[2], argc > 3 ? argv[3] : NULL);
	plan_lazy();
	make_image(img, sections, NSEC);
	test_synthetic(img);
	test_bad();
	test_mapping_end();
	test_debian();
	return done();
}
