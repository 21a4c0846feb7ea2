/* SPDX-License-Identifier: MIT */
/*
 * The SEV-SNP launch digest prediction (src/platform/snp_ovmf.c,
 * snp_measure.c) on a synthetic OVMF-like image built here: the GUID table
 * walk, every metadata section type, the order of the pages (QEMU and
 * EC2), the kernel hashes page, the vCPU VMSAs, each checked against a
 * PAGE_INFO chain computed independently; a table of broken images, each
 * refused with -EINVAL and a reason; and Debian 12's OVMF.fd against the
 * published digest and vectors of an independent implementation.
 *
 *   snp_measure --write-image FILE [CASE]   writes the synthetic image (or
 *   the broken image CASE) for tests/measure.t.
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "fw_image.h"
#include "gmem/gmem.h"
#include "platform/snp_fw.h"
#include "platform/snp_ovmf.h"

#define PG 4096u
#define IMG_SIZE (16 * PG)
#define META_AT 0x1000u			/* offset of the ASEV header */
#define RESET_EIP 0x0080b004u
#define HT_GPA (0x806000u + 0x400u)	/* hash table, in the hashes page */

static void sha384(const void *p, size_t n, uint8_t out[48])
{
	unsigned len = 48;

	TEST_ASSERT(EVP_Digest(p, n, out, &len, EVP_sha384(), NULL) == 1, "sha384");
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned len = 32;

	TEST_ASSERT(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1, "sha256");
}

/* PAGE_INFO (SEV-SNP firmware ABI, SNP_LAUNCH_UPDATE), by byte offsets. */
static void extend(uint8_t d[48], const uint8_t *page, unsigned type, uint64_t gpa)
{
	uint8_t pi[0x70] = { 0 };

	memcpy(pi, d, 48);
	if (page)
		sha384(page, PG, pi + 0x30);
	pi[0x60] = 0x70;
	pi[0x62] = (uint8_t)type;
	for (int i = 0; i < 8; i++)
		pi[0x68 + i] = (uint8_t)(gpa >> (8 * i));
	sha384(pi, sizeof(pi), d);
}

static const uint8_t g_reset[16] = { 0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
	0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e };
static const uint8_t g_hashes[16] = { 0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
	0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54 };
static const uint8_t g_meta[16] = { 0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
	0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc };
static const uint8_t g_other[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* The sections, in table order: every type, a zero run after the hashes. */
static const struct { uint32_t gpa, size, type; } sections[] = {
	{ 0x800000, 3 * PG, GMEM__OVMF_SEC_MEM },
	{ 0x803000, PG, GMEM__OVMF_SEC_SECRETS },
	{ 0x804000, PG, GMEM__OVMF_SEC_CPUID },
	{ 0x805000, PG, GMEM__OVMF_SEC_SVSM_CAA },
	{ 0x806000, PG, GMEM__OVMF_SEC_KERNEL_HASHES },
	{ 0x807000, 2 * PG, GMEM__OVMF_SEC_MEM },
};
#define NSEC (sizeof(sections) / sizeof(sections[0]))

/* Table layout: [unknown][hash table][reset block][metadata][footer hdr],
 * ending 32 bytes before the image end.  Offsets from the image start. */
#define FOOTER_HDR (IMG_SIZE - 32 - 18)
#define E_META (FOOTER_HDR - 22)	/* 4 data + 18 */
#define E_RESET (E_META - 22)
#define E_HASHES (E_RESET - 26)		/* 8 data + 18 */
#define E_OTHER (E_HASHES - 24)		/* 6 data + 18 */
#define TABLE_LEN (IMG_SIZE - 32 - E_OTHER)

static void put_entry(uint8_t *img, unsigned at, unsigned datalen,
		      const uint8_t guid[16])
{
	put16(img + at + datalen, (uint16_t)(datalen + 18));
	memcpy(img + at + datalen + 2, guid, 16);
}

static void make_image(uint8_t *img)
{
	uint32_t x = 0x12345678;
	uint8_t *h = img + META_AT;

	for (unsigned i = 0; i < IMG_SIZE; i++) {	/* xorshift filler */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		img[i] = (uint8_t)x;
	}
	memcpy(h, "ASEV", 4);
	put32(h + 4, 16 + 12 * NSEC);
	put32(h + 8, 1);
	put32(h + 12, NSEC);
	for (unsigned i = 0; i < NSEC; i++) {
		put32(h + 16 + 12 * i, sections[i].gpa);
		put32(h + 20 + 12 * i, sections[i].size);
		put32(h + 24 + 12 * i, sections[i].type);
	}
	put_entry(img, E_OTHER, 6, g_other);
	put32(img + E_HASHES, HT_GPA);
	put32(img + E_HASHES + 4, 0x400);
	put_entry(img, E_HASHES, 8, g_hashes);
	put32(img + E_RESET, RESET_EIP);
	put_entry(img, E_RESET, 4, g_reset);
	put32(img + E_META, IMG_SIZE - META_AT);
	put_entry(img, E_META, 4, g_meta);
	put16(img + FOOTER_HDR, TABLE_LEN);
	memcpy(img + FOOTER_HDR + 2, g_footer, 16);
}

/* The hashes page QEMU writes, by byte offsets. */
static void expected_hashes_page(uint8_t page[PG], const uint8_t c[32],
				 const uint8_t i[32], const uint8_t k[32])
{
	static const uint8_t hdr[16] = { 0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
		0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21 };
	static const uint8_t gk[16] = { 0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
		0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b };
	static const uint8_t gi[16] = { 0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
		0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d };
	static const uint8_t gc[16] = { 0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
		0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a };
	uint8_t *t = page + (HT_GPA & 0xfff);

	memset(page, 0, PG);
	memcpy(t, hdr, 16);
	put16(t + 16, 168);
	memcpy(t + 18, gc, 16);
	put16(t + 34, 50);
	memcpy(t + 36, c, 32);
	memcpy(t + 68, gi, 16);
	put16(t + 84, 50);
	memcpy(t + 86, i, 32);
	memcpy(t + 118, gk, 16);
	put16(t + 134, 50);
	memcpy(t + 136, k, 32);
}

struct expect {
	unsigned vcpus;
	enum gmem__snp_vmm vmm;
	const uint8_t *hashes_page;
};

/* The digest computed here, in the order of QEMU's launch. */
static void expected(const uint8_t *img, const struct expect *e, uint8_t d[48])
{
	struct gmem__snp_vcpu_state s;
	uint8_t vmsa[PG];

	memset(d, 0, 48);
	for (unsigned i = 0; i < IMG_SIZE / PG; i++)
		extend(d, img + i * PG, 1, 0x100000000ULL - IMG_SIZE + i * PG);
	for (unsigned i = 0; i < NSEC; i++) {
		uint32_t gpa = sections[i].gpa, n = sections[i].size / PG;

		switch (sections[i].type) {
		case GMEM__OVMF_SEC_MEM:
		case GMEM__OVMF_SEC_SVSM_CAA:
			for (uint32_t p = 0; p < n; p++)
				extend(d, NULL, 3, gpa + p * PG);
			break;
		case GMEM__OVMF_SEC_SECRETS:
			extend(d, NULL, 5, gpa);
			break;
		case GMEM__OVMF_SEC_CPUID:
			if (e->vmm != GMEM__SNP_VMM_EC2)
				extend(d, NULL, 6, gpa);
			break;
		case GMEM__OVMF_SEC_KERNEL_HASHES:
			if (e->hashes_page)
				extend(d, e->hashes_page, 1, gpa);
			else
				extend(d, NULL, 3, gpa);
			break;
		}
	}
	if (e->vmm == GMEM__SNP_VMM_EC2)
		extend(d, NULL, 6, 0x804000);
	for (unsigned i = 0; i < e->vcpus; i++) {
		TEST_ASSERT(!gmem__snp_vcpu_reset(&s, e->vmm, i, 0x800f12, RESET_EIP), "reset");
		TEST_ASSERT(!gmem__snp_vmsa_build(&s, 1, vmsa), "vmsa");
		extend(d, vmsa, 2, 0xFFFFFFFFF000ULL);
	}
}

struct steps {
	struct gmem__snp_measure_step v[64];
	unsigned n;
};

static void record(void *arg, const struct gmem__snp_measure_step *st)
{
	struct steps *s = arg;

	if (s->n < 64)
		s->v[s->n] = *st;
	s->n++;
}

static int measure(const uint8_t *img, size_t size, unsigned vcpus,
		   enum gmem__snp_vmm vmm, struct gmem__snp_measure_in *extra,
		   uint8_t d[48], const char **why)
{
	static struct gmem__ovmf o;
	struct gmem__snp_measure_in in = { 0 };
	int ret;

	if (extra)
		in = *extra;
	*why = "";
	ret = gmem__ovmf_parse(img, size, &o, why);
	if (ret)
		return ret;
	in.ovmf = &o;
	in.vcpus = vcpus;
	in.vcpu_sig = 0x800f12;
	in.vmm = vmm;
	in.guest_features = 1;
	return gmem__snp_measure(&in, d, why);
}

static void test_parse(const uint8_t *img)
{
	struct gmem__ovmf o;
	const char *why = NULL;
	int good;

	ok(!gmem__ovmf_parse(img, IMG_SIZE, &o, &why), "synthetic image parses");
	ok(o.has_table && o.gpa == 0x100000000ULL - IMG_SIZE && o.size == IMG_SIZE,
	   "table found; loaded to end at 4 GiB");
	ok(o.has_reset_block && o.reset_eip == RESET_EIP, "SEV-ES reset block: EIP 0x%x",
	   o.reset_eip);
	ok(o.has_hash_table && o.hash_table_gpa == HT_GPA && o.hash_table_size == 0x400,
	   "SEV hash table entry: gpa and size");
	good = o.has_metadata && o.nsections == NSEC;
	for (unsigned i = 0; good && i < NSEC; i++)
		good = o.sec[i].gpa == sections[i].gpa && o.sec[i].size == sections[i].size &&
		       o.sec[i].type == sections[i].type;
	ok(good, "metadata: the %u sections in table order", (unsigned)NSEC);
}

static void test_digest(const uint8_t *img)
{
	uint8_t got[48], want[48], d1[48], d2[48], page[PG];
	struct gmem__snp_measure_in in = { 0 };
	struct steps st = { .n = 0 };
	const char *why;
	struct expect e = { .vmm = GMEM__SNP_VMM_QEMU };
	static const unsigned counts[] = { 1, 2, 3, 8 };
	int good = 1;

	for (unsigned i = 0; i < 4; i++) {
		e.vcpus = counts[i];
		expected(img, &e, want);
		good &= !measure(img, IMG_SIZE, counts[i], GMEM__SNP_VMM_QEMU, NULL, got, &why) &&
			!memcmp(got, want, 48);
	}
	ok(good, "QEMU, 1, 2, 3 and 8 vCPUs: image, every section type, VMSAs as computed here");

	e.vmm = GMEM__SNP_VMM_EC2;
	e.vcpus = 2;
	expected(img, &e, want);
	ok(!measure(img, IMG_SIZE, 2, GMEM__SNP_VMM_EC2, NULL, got, &why) &&
	   !memcmp(got, want, 48), "EC2: the CPUID page last, EC2's VMSAs");

	in.step = record;
	in.arg = &st;
	TEST_ASSERT(!measure(img, IMG_SIZE, 3, GMEM__SNP_VMM_QEMU, &in, got, &why), "steps");
	good = st.n == 1 + NSEC + 3 && !memcmp(st.v[st.n - 1].digest, got, 48);
	{
		static const unsigned types[] = { 1, 3, 5, 6, 3, 3, 3, 2, 2, 2 };

		for (unsigned i = 0; good && i < st.n; i++)
			good = st.v[i].page_type == types[i];
		good = good && st.v[0].npages == 16 && st.v[1].npages == 3 &&
		       st.v[6].gpa == 0x807000 && st.v[6].npages == 2 &&
		       st.v[9].vcpu == 2 && st.v[9].gpa == 0xFFFFFFFFF000ULL;
	}
	ok(good, "steps: one per run of pages, in order, the last digest the result");
	TEST_ASSERT(!measure(img, IMG_SIZE, 2, GMEM__SNP_VMM_QEMU, NULL, d2, &why), "2");
	ok(!memcmp(st.v[st.n - 2].digest, d2, 48),
	   "the digest of N vCPUs extends the digest of N-1 by one VMSA");

	/* A precomputed image hash stands in for the image's pages. */
	{
		struct gmem__ovmf o;

		TEST_ASSERT(!gmem__ovmf_parse(img, IMG_SIZE, &o, &why), "parse");
		TEST_ASSERT(!gmem__snp_measure_ovmf_hash(&o, d1), "ovmf hash");
		ok(!memcmp(d1, st.v[0].digest, 48), "the image hash is the digest after its pages");
		memset(&in, 0, sizeof(in));
		in.ovmf_hash = d1;
		ok(!measure(img, IMG_SIZE, 3, GMEM__SNP_VMM_QEMU, &in, d2, &why) &&
		   !memcmp(d2, got, 48), "--snp-ovmf-hash: the same digest");
	}

	/* Measured direct boot. */
	{
		uint8_t c[32], i[32], k[32];

		memset(&in, 0, sizeof(in));
		in.kernel = true;
		sha256("console=ttyS0", 14, c);
		sha256("", 0, i);
		sha256("kernel", 6, k);
		memcpy(in.cmdline_sha256, c, 32);
		memcpy(in.initrd_sha256, i, 32);
		memcpy(in.kernel_sha256, k, 32);
		expected_hashes_page(page, c, i, k);
		e.vmm = GMEM__SNP_VMM_QEMU;
		e.vcpus = 1;
		e.hashes_page = page;
		expected(img, &e, want);
		ok(!measure(img, IMG_SIZE, 1, GMEM__SNP_VMM_QEMU, &in, got, &why) &&
		   !memcmp(got, want, 48),
		   "kernel: the hashes page (QEMU's table at the entry's offset) as a NORMAL page");
		TEST_ASSERT(!gmem__sev_hashes_page(c, i, k, HT_GPA & 0xfff, page), "page");
		ok(!memcmp(page + 0x400 + 176, (uint8_t[8]){ 0 }, 8) &&
		   gmem__sev_hashes_page(c, i, k, PG - 168, page) == -EINVAL,
		   "hashes page: table padded to 176 bytes; a table past the page end -EINVAL");
	}
}

/* ---- broken images ---------------------------------------------------- */

struct bad_case {
	const char *name;
	void (*mutate)(uint8_t *img, size_t *size);
	int err;
	const char *why;	/* a word of the reason */
};

static void m_unaligned(uint8_t *img, size_t *size) { (void)img; *size -= 100; }
static void m_truncated(uint8_t *img, size_t *size) { (void)img; *size = IMG_SIZE - PG; }
static void m_huge(uint8_t *img, size_t *size) { (void)img; *size = 65 << 20; }
static void m_table_len(uint8_t *img, size_t *size) { (void)size; put16(img + FOOTER_HDR, 17); }
static void m_table_big(uint8_t *img, size_t *size) { (void)size; put16(img + FOOTER_HDR, 0xffff); }
static void m_entry_zero(uint8_t *img, size_t *size) { (void)size; put16(img + E_META + 4, 0); }
static void m_entry_big(uint8_t *img, size_t *size) { (void)size; put16(img + E_OTHER + 6, 200); }
static void m_trailing(uint8_t *img, size_t *size)
{
	(void)size;	/* 4 bytes before the first entry: too short for one */
	put16(img + FOOTER_HDR, TABLE_LEN + 4);
}
static void m_reset_short(uint8_t *img, size_t *size)
{
	(void)size;	/* the unknown entry becomes a reset block of 2 bytes */
	put16(img + E_OTHER + 6, 20);
	memcpy(img + E_OTHER + 8, g_reset, 16);
	put16(img + FOOTER_HDR, TABLE_LEN - 4);
}
static void m_dup_meta(uint8_t *img, size_t *size) { (void)size; memcpy(img + E_OTHER + 8, g_meta, 16); }
static void m_meta_off(uint8_t *img, size_t *size) { (void)size; put32(img + E_META, IMG_SIZE + 1); }
static void m_meta_off_small(uint8_t *img, size_t *size) { (void)size; put32(img + E_META, 8); }
static void m_signature(uint8_t *img, size_t *size) { (void)size; img[META_AT] = 'B'; }
static void m_version(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 8, 2); }
static void m_count(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 12, 65); }
static void m_meta_len(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 4, 16 + 12); }
static void m_meta_past(uint8_t *img, size_t *size)
{
	(void)size;
	put32(img + META_AT + 4, IMG_SIZE - META_AT + 12);
}
static void m_sec_type(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 16 + 12 * 3 + 8, 7); }
static void m_sec_empty(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 16 + 12 * 3 + 4, 0); }
static void m_sec_align(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 16, 0x800800); }
static void m_sec_overlap(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 16 + 12 * 5, 0x801000); }
static void m_sec_image(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 16 + 12 * 5, 0xffff8000); }
static void m_sec_4g(uint8_t *img, size_t *size)
{
	(void)size;
	put32(img + META_AT + 16 + 12 * 5, 0xfffef000);
	put32(img + META_AT + 16 + 12 * 5 + 4, 0x20000);
}
static void m_secrets_2(uint8_t *img, size_t *size) { (void)size; put32(img + META_AT + 16 + 12 + 4, 2 * PG); }

static const struct bad_case bad_cases[] = {
	{ "unaligned", m_unaligned, -EINVAL, "multiple of 4 KiB" },
	{ "huge", m_huge, -EINVAL, "64 MiB" },
	{ "table-length", m_table_len, -EINVAL, "GUID table" },
	{ "table-too-long", m_table_big, -EINVAL, "GUID table" },
	{ "entry-zero", m_entry_zero, -EINVAL, "entry length" },
	{ "entry-too-long", m_entry_big, -EINVAL, "entry length" },
	{ "trailing", m_trailing, -EINVAL, "trailing" },
	{ "reset-short", m_reset_short, -EINVAL, "reset block" },
	{ "duplicate-metadata", m_dup_meta, -EINVAL, "repeated" },
	{ "metadata-offset", m_meta_off, -EINVAL, "offset outside" },
	{ "metadata-offset-small", m_meta_off_small, -EINVAL, "offset outside" },
	{ "signature", m_signature, -EINVAL, "ASEV" },
	{ "version", m_version, -EINVAL, "version" },
	{ "count", m_count, -EINVAL, "64 sections" },
	{ "metadata-length", m_meta_len, -EINVAL, "length shorter" },
	{ "metadata-past-end", m_meta_past, -EINVAL, "past the image end" },
	{ "section-type", m_sec_type, -EINVAL, "unknown section type" },
	{ "section-empty", m_sec_empty, -EINVAL, "empty" },
	{ "section-unaligned", m_sec_align, -EINVAL, "aligned" },
	{ "section-overlap", m_sec_overlap, -EINVAL, "sections overlap" },
	{ "section-in-image", m_sec_image, -EINVAL, "overlaps the firmware" },
	{ "section-4g", m_sec_4g, -EINVAL, "4 GiB" },
	{ "secrets-two-pages", m_secrets_2, -EINVAL, "one page" },
	{ "truncated", m_truncated, -ENOENT, "no SEV metadata" },
};
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static uint8_t *bad_image(const struct bad_case *c, size_t *size)
{
	uint8_t *img = calloc(1, IMG_SIZE), *big;

	TEST_ASSERT(img, "alloc");
	make_image(img);
	*size = IMG_SIZE;
	c->mutate(img, size);
	if (*size > IMG_SIZE) {		/* "huge": a buffer of its size */
		big = calloc(1, *size);
		TEST_ASSERT(big, "alloc %zu", *size);
		memcpy(big, img, IMG_SIZE);
		free(img);
		img = big;
	}
	return img;
}

static void test_bad(void)
{
	for (size_t i = 0; i < NBAD; i++) {
		const struct bad_case *c = &bad_cases[i];
		uint8_t d[48] = { 0 }, zero[48] = { 0 };
		const char *why = NULL;
		size_t size;
		uint8_t *img = bad_image(c, &size);
		int ret = measure(img, size, 1, GMEM__SNP_VMM_QEMU, NULL, d, &why);

		ok(ret == c->err && why && strstr(why, c->why) && !strchr(why, '\n') &&
		   !memcmp(d, zero, 48),
		   "%s: %d (%s)", c->name, ret, why ? why : "no reason");
		free(img);
	}
}

static void test_measure_errors(uint8_t *img)
{
	struct gmem__snp_measure_in in = { .kernel = true };
	uint8_t d[48];
	const char *why;
	int ret, ret2;

	ok(measure(img, IMG_SIZE, 0, GMEM__SNP_VMM_QEMU, NULL, d, &why) == -EINVAL &&
	   measure(img, IMG_SIZE, 4097, GMEM__SNP_VMM_QEMU, NULL, d, &why) == -EINVAL,
	   "0 or 4097 vCPUs: -EINVAL");
	ok(measure(img, IMG_SIZE, 1, (enum gmem__snp_vmm)9, NULL, d, &why) == -EINVAL,
	   "unknown VMM: -EINVAL");
	put32(img + E_HASHES, 0x807000);	/* hash table outside its section */
	ret = measure(img, IMG_SIZE, 1, GMEM__SNP_VMM_QEMU, &in, d, &why);
	ok(ret == -EINVAL && strstr(why, "hash table"),
	   "kernel, hash table entry outside the hashes section: %s", why);
	put32(img + E_HASHES, HT_GPA);
	put32(img + META_AT + 16 + 12 * 4 + 8, GMEM__OVMF_SEC_MEM);
	ret = measure(img, IMG_SIZE, 1, GMEM__SNP_VMM_QEMU, &in, d, &why);
	ok(ret == -EINVAL && strstr(why, "no kernel hashes section"),
	   "kernel, no hashes section: %s", why);
	put32(img + META_AT + 16 + 12 * 4 + 8, GMEM__OVMF_SEC_KERNEL_HASHES);
	memcpy(img + E_RESET + 6, g_other, 16);	/* no reset block */
	ret = measure(img, IMG_SIZE, 1, GMEM__SNP_VMM_QEMU, NULL, d, &why);
	ret2 = measure(img, IMG_SIZE, 2, GMEM__SNP_VMM_QEMU, NULL, d, &why);
	ok(ret == 0 && ret2 == -EINVAL && strstr(why, "reset block"),
	   "no reset block: 1 vCPU measures, 2 refused: %s", why);
	memcpy(img + E_RESET + 6, g_reset, 16);
	ok(gmem__ovmf_parse(NULL, 1, NULL, NULL) == -EFAULT &&
	   gmem__snp_measure(NULL, d, NULL) == -EFAULT, "NULL: -EFAULT");
}

/* ---- Debian 12's OVMF ------------------------------------------------- */

#define DEBIAN_OVMF "/usr/share/ovmf/OVMF.fd"
#define DEBIAN_SHA256 "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773"

static const struct { unsigned vcpus; const char *type; const char *digest; } vectors[] = {
	/* The published vector. */
	{ 1, "EPYC-v4", "11570979c77a0adb515761a702527c8b9e11554e730552621d950988613a3a75"
			"c6ff1703f540bd22a9beede8fe7a97e3" },
	/* From an independent implementation of the published algorithm. */
	{ 2, "EPYC-v4", "a5b54e62ae971b58274dd24cc6c47b842662617036e7bd67d7326c07ac6363f3"
			"5399ef933330a5ea160cead90a00603f" },
	{ 4, "EPYC-v4", "32ac9d7a17d28f7cd4404a4516d2f00519668c40ada2062351c36767e908eb3f"
			"090d66c33ab10f80150e00a4385b6d0f" },
	{ 8, "EPYC", "8e2bb912104a28b75788d97cdbcf59e144b3e8f5533e294f2c135c0a2198cc7a"
		     "bacf6f4329d3715f51e2f3db27c81f40" },
	{ 3, "EPYC-Rome", "9e9737eb4c6352181de5d7696d198d4ee8c56de66e992f4e1fdac1e5812d748a"
			  "f3def2e44ccb6969819c638875133f82" },
	{ 1, "EPYC-Milan", "80479ca85a2b182c026f6a3a2f2b180ab968d84b17540dd30de39039e70b8c0c"
			   "33ead2cae6d34e37750035fcff60bfc8" },
	{ 3, "EPYC-Milan", "b8a78fa4af59a96271884a9cb5ef5ada95b3c8eeadec6bd2ad13eff5e3797cf8"
			   "3b4cd500feb0fe406f280cd554c13751" },
	{ 2, "EPYC-Genoa", "143c7e1f11948ce6cbc700b16c3acff0797146df54b0b3d6c5899dc30dc8e31c"
			   "34a2217d162a219bbbf7a2a1aedd104a" },
};
#define NVEC (sizeof(vectors) / sizeof(vectors[0]))

/*
 * A page that ends its mapping (the next page PROT_NONE, as a guest_memfd
 * mapping followed by a thread stack's guard page in QEMU) is measured as
 * the same bytes anywhere else, and nothing past it is read.
 */
static void test_mapping_end(void)
{
	uint8_t *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t copy[PG], want[48] = { 0 }, got[48] = { 0 };

	TEST_ASSERT(m != MAP_FAILED, "mmap");
	TEST_ASSERT(!mprotect(m + PG, PG, PROT_NONE), "mprotect");
	for (unsigned i = 0; i < PG; i++)
		m[i] = (uint8_t)(i * 7 + 1);
	memcpy(copy, m, PG);
	extend(want, copy, 1, 0xfffff000);
	ok(!gmem__snp_measure_page(got, m, 1, 0xfffff000) &&
	   !memcmp(got, want, sizeof(want)),
	   "a page right before an inaccessible one is measured like its copy");
	munmap(m, 2 * PG);
}

static void test_debian(void)
{
	char hex[97];
	uint8_t d[48];
	size_t size = 0;
	const char *skip;
	uint8_t *img = debian_ovmf(&size, &skip);

	if (!img) {
		for (size_t i = 0; i < NVEC; i++)
			ok(1, "Debian OVMF vector %zu # SKIP %s", i, skip);
		return;
	}
	for (size_t i = 0; i < NVEC; i++) {
		struct gmem__ovmf o;
		struct gmem__snp_measure_in in = { .ovmf = &o, .vcpus = vectors[i].vcpus,
						   .guest_features = 1 };
		const char *why = "";
		int ret;

		TEST_ASSERT(!gmem__snp_cpu_type_sig(vectors[i].type, &in.vcpu_sig), "type");
		ret = gmem__ovmf_parse(img, size, &o, &why);
		if (!ret)
			ret = gmem__snp_measure(&in, d, &why);
		to_hex(hex, d, sizeof(d));
		ok(!ret && !strcmp(hex, vectors[i].digest), "Debian OVMF, %u vCPU %s: %.16s... (%s)",
		   vectors[i].vcpus, vectors[i].type, ret ? "-" : hex, why);
	}
	free(img);
}

static int write_image(const char *path, const char *name)
{
	size_t size = IMG_SIZE;
	uint8_t *img = NULL;
	FILE *f;

	if (!name) {
		img = malloc(IMG_SIZE);
		TEST_ASSERT(img, "alloc");
		make_image(img);
	}
	for (size_t i = 0; name && i < NBAD; i++)
		if (!strcmp(bad_cases[i].name, name))
			img = bad_image(&bad_cases[i], &size);
	if (!img) {
		fprintf(stderr, "snp_measure: unknown case '%s'\n", name);
		return 2;
	}
	f = fopen(path, "wb");
	TEST_ASSERT(f && fwrite(img, 1, size, f) == size && !fclose(f), "write %s", path);
	free(img);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t img[IMG_SIZE];

	if (argc >= 3 && !strcmp(argv[1], "--write-image"))
		return write_image(argv[2], argc > 3 ? argv[3] : NULL);
	plan_lazy();
	make_image(img);
	test_parse(img);
	test_digest(img);
	test_bad();
	test_measure_errors(img);
	test_mapping_end();
	test_debian();
	return done();
}
