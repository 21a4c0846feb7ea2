/* SPDX-License-Identifier: MIT */
/*
 * SEV-SNP model: the seven-step CPUID flow and its variants, the launch
 * digest against an independent PAGE_INFO computation, the RMP states, the
 * encryption consequences of PRESERVE.
 */
#include <openssl/evp.h>
#include <string.h>

#include "tap.h"
#include "gmem/gmem.h"
#include "gmem/snp.h"

#define PG GMEM_PAGE_SIZE
#define GPA_BASE 0x80000000ULL
#define CPUID_OFF (2 * PG)

static void sha384(const void *p, size_t n, uint8_t out[48])
{
	unsigned len = 48;

	TEST_ASSERT(EVP_Digest(p, n, out, &len, EVP_sha384(), NULL) == 1, "sha384");
}

/* PAGE_INFO, SEV-SNP firmware ABI (SNP_LAUNCH_UPDATE), by byte offsets. */
static void extend(uint8_t digest[48], const uint8_t *page, unsigned type,
		   uint64_t gpa)
{
	uint8_t pi[0x70] = { 0 };

	memcpy(pi, digest, 48);
	if (type == 1 || type == 2)
		sha384(page, PG, pi + 0x30);
	pi[0x60] = 0x70;
	pi[0x62] = (uint8_t)type;
	for (int i = 0; i < 8; i++)
		pi[0x68 + i] = (uint8_t)(gpa >> (8 * i));
	sha384(pi, sizeof(pi), digest);
}

static void insecure_table(struct gmem_snp_cpuid_table *t)
{
	memset(t, 0, sizeof(*t));
	t->count = 2;
	t->fn[0].eax_in = 0x0;
	t->fn[0].eax = 0x10;
	t->fn[1].eax_in = 0x7;
	t->fn[1].edx = 0x1;	/* reserved bit 0 of CPUID 7.0 EDX */
}

struct vm_ctx {
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *host;
};

static void setup(struct vm_ctx *c)
{
	TEST_ASSERT(!gmem_vm_create(&c->vm, "snp", NULL), "snp vm");
	TEST_ASSERT(!gmem_create(c->vm, 64 * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &c->g), "gmem");
	TEST_ASSERT(!gmem_bind(c->g, GPA_BASE), "bind");
	c->host = gmem_mmap(c->g);
	TEST_ASSERT(c->host, "mmap");
}

static int rmp(struct gmem *g, uint64_t off)
{
	struct gmem_page_info pi;

	TEST_ASSERT(!gmem_page_info(g, off, &pi), "page info");
	return pi.vendor_state;
}

static uint64_t attr(struct gmem *g, uint64_t off)
{
	uint64_t a;

	TEST_ASSERT(!gmem_get_memory_attributes(g, off, &a, NULL), "attrs");
	return a;
}

static void test_cpuid_flow(void)
{
	struct gmem_snp_cpuid_table t, fixed;
	uint8_t d_lib[48], d_ref[48] = { 0 }, d2[48];
	struct vm_ctx a, b;
	unsigned fw = 0;

	setup(&a);
	insecure_table(&t);
	memcpy(a.host + CPUID_OFF, &t, sizeof(t));					/* 1 */
	ok_ret(gmem_convert(a.g, CPUID_OFF, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL), 0,
	       "step 2: PRIVATE + PRESERVE");
	ok_ret(gmem_snp_launch_update(a.g, CPUID_OFF, PG, GMEM_SNP_PAGE_CPUID, &fw), -EIO,
	       "step 3: LAUNCH_UPDATE rejects the insecure CPUID page");
	ok(fw == GMEM_SEV_RET_INVALID_PARAM, "firmware error SEV_RET_INVALID_PARAM (0x%x)", fw);
	ok(rmp(a.g, CPUID_OFF) == GMEM_RMP_SHARED, "page stays hypervisor-owned in the RMP");
	ok(attr(a.g, CPUID_OFF) == GMEM_ATTR_PRIVATE, "and PRIVATE in gmem");
	ok(!gmem_snp_launch_digest(a.vm, d_lib) && !memcmp(d_lib, d_ref, 48),
	   "the digest was not extended");
	ok_ret(gmem_convert(a.g, CPUID_OFF, PG, 0, GMEM_CONTENT_PRESERVE, NULL), 0,
	       "step 4: SHARED + PRESERVE");
	memcpy(&fixed, a.host + CPUID_OFF, sizeof(fixed));				/* 5 */
	ok(fixed.count == 2 && fixed.fn[0].eax == 0x10, "step 5: the VMM reads the table back");
	ok(fixed.fn[1].edx == 0, "the firmware cleared the reserved bit (edx 0x%x)", fixed.fn[1].edx);
	ok(memcmp(&fixed, &t, sizeof(t)) != 0, "the page differs from what the VMM wrote");
	ok_ret(gmem_convert(a.g, CPUID_OFF, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL), 0,
	       "step 6: PRIVATE + PRESERVE");
	ok_ret(gmem_snp_launch_update(a.g, CPUID_OFF, PG, GMEM_SNP_PAGE_CPUID, &fw), 0,
	       "step 7: LAUNCH_UPDATE succeeds");
	ok(fw == 0, "no firmware error");
	ok(rmp(a.g, CPUID_OFF) == GMEM_RMP_VALIDATED, "page assigned and validated");
	extend(d_ref, NULL, GMEM_SNP_PAGE_CPUID, GPA_BASE + CPUID_OFF);
	gmem_snp_launch_digest(a.vm, d_lib);
	ok(!memcmp(d_lib, d_ref, 48), "digest = one PAGE_INFO of type CPUID at its GPA");

	/* A second VM loading the corrected table directly: same digest. */
	setup(&b);
	memcpy(b.host + CPUID_OFF, &fixed, sizeof(fixed));
	ok_ret(gmem_convert(b.g, CPUID_OFF, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL), 0,
	       "second VM: PRIVATE + PRESERVE");
	ok_ret(gmem_snp_launch_update(b.g, CPUID_OFF, PG, GMEM_SNP_PAGE_CPUID, &fw), 0,
	       "second VM: the corrected table is accepted at once");
	gmem_snp_launch_digest(b.vm, d2);
	ok(!memcmp(d2, d_lib, 48), "with the same launch digest");

	ok_ret(gmem_vm_finalize(a.vm), 0, "LAUNCH_FINISH");
	ok_ret(gmem_snp_launch_update(a.g, 0, PG, GMEM_SNP_PAGE_NORMAL, &fw), -EINVAL,
	       "LAUNCH_UPDATE after finalize is refused");
	gmem_vm_destroy(a.vm);
	gmem_vm_destroy(b.vm);
}

static void test_launch_errors(void)
{
	struct vm_ctx a;
	unsigned fw = 0;

	setup(&a);
	ok_ret(gmem_snp_launch_update(a.g, 0, PG, GMEM_SNP_PAGE_NORMAL, &fw), -EINVAL,
	       "LAUNCH_UPDATE on a shared range");
	gmem_convert(a.g, 0, 4 * PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL);
	ok_ret(gmem_snp_launch_update(a.g, 0, 8 * PG, GMEM_SNP_PAGE_NORMAL, &fw), -EINVAL,
	       "LAUNCH_UPDATE on a partly shared range");
	ok_ret(gmem_snp_launch_update(a.g, 0, PG, 0, &fw), -EINVAL, "page type 0");
	ok_ret(gmem_snp_launch_update(a.g, 0, PG, 7, &fw), -EINVAL, "page type 7");
	ok_ret(gmem_snp_launch_update(a.g, 1, PG, 1, &fw), -EINVAL, "unaligned offset");
	ok_ret(gmem_snp_launch_update(a.g, 0, 0, 1, &fw), -EINVAL, "empty range");
	ok_ret(gmem_snp_launch_update(a.g, 0, PG, 1, &fw), 0, "NORMAL page");
	ok_ret(gmem_snp_launch_update(a.g, 0, PG, 1, &fw), -EINVAL, "a page already in the guest");
	gmem_vm_destroy(a.vm);

	{
		struct gmem_vm *vm;
		struct gmem *g;

		TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "vm");
		TEST_ASSERT(!gmem_create(vm, PG, 0, &g), "gmem");
		ok_ret(gmem_snp_launch_update(g, 0, PG, 1, &fw), -EINVAL, "not an SNP VM");
		ok_ret(gmem_snp_launch_digest(vm, (uint8_t[48]){ 0 }), -EINVAL, "no digest on a default VM");
		gmem_vm_destroy(vm);
	}
}

static void test_digest_chain(void)
{
	uint8_t ref[48] = { 0 }, lib[48], page[PG];
	struct vm_ctx a;
	static const unsigned types[] = { 1, 2, 3, 4, 5 };
	unsigned fw;

	setup(&a);
	for (unsigned i = 0; i < 5; i++) {
		uint64_t off = (8 + i) * PG;

		memset(a.host + off, 0x11 * (i + 1), PG);
		memcpy(page, a.host + off, PG);
		gmem_convert(a.g, off, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL);
		ok_ret(gmem_snp_launch_update(a.g, off, PG, types[i], &fw), 0, "LAUNCH_UPDATE type %u", types[i]);
		extend(ref, page, types[i], types[i] == 2 ? 0xFFFFFFFFF000ULL : GPA_BASE + off);
	}
	gmem_snp_launch_digest(a.vm, lib);
	ok(!memcmp(lib, ref, 48), "launch digest matches an independent PAGE_INFO chain");
	gmem_vm_destroy(a.vm);
}

static void test_encryption(void)
{
	uint8_t buf[64], phys[64];
	struct gmem_memory_fault f;
	struct vm_ctx a;
	unsigned fw;

	setup(&a);
	memcpy(a.host, "measured kernel", 16);
	gmem_convert(a.g, 0, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL);
	ok_ret(gmem_guest_access_fault(a.g, 0, buf, 16, GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE, &f),
	       -EFAULT, "guest private read before validation faults (#VC)");
	ok(f.flags & GMEM_FAULT_NOT_VALIDATED, "reported as not validated");
	ok_ret(gmem_snp_launch_update(a.g, 0, PG, GMEM_SNP_PAGE_NORMAL, &fw), 0, "LAUNCH_UPDATE");
	gmem_physical_read(a.g, 0, phys, 16);
	ok(memcmp(phys, "measured kernel", 16) != 0, "encrypted in place: physical bytes are ciphertext");
	ok_ret(gmem_vm_finalize(a.vm), 0, "finalize");
	ok_ret(gmem_guest_access(a.g, 0, buf, 16, GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE), 0,
	       "guest private read");
	ok(!memcmp(buf, "measured kernel", 16), "the guest sees the plaintext");

	/* Post-finalize to-shared with PRESERVE: the host sees ciphertext. */
	memcpy(buf, "guest secret....", 16);
	gmem_guest_access(a.g, 0, buf, 16, GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE);
	gmem_physical_read(a.g, 0, phys, 16);
	ok_ret(gmem_convert(a.g, 0, PG, 0, GMEM_CONTENT_PRESERVE, NULL), 0, "to shared, PRESERVE");
	ok(!memcmp(a.host, phys, 16) && memcmp(a.host, "guest secret....", 16),
	   "the host sees the ciphertext, not the secret");
	ok(rmp(a.g, 0) == GMEM_RMP_SHARED, "RMP back to hypervisor-owned");

	/* Host-written page made private after finalize: guest sees garbage. */
	memcpy(a.host + PG, "host plaintext..", 16);
	gmem_convert(a.g, PG, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL);
	ok_ret(gmem_snp_pvalidate(a.g, PG, PG, 1), 0, "PVALIDATE");
	gmem_guest_access(a.g, PG, buf, 16, GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE);
	ok(memcmp(buf, "host plaintext..", 16) != 0, "the guest reads garbage, not the host's bytes");
	ok_ret(gmem_convert(a.g, PG, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_ZERO, NULL), -EOPNOTSUPP,
	       "ZERO to-private is refused on SNP");
	ok_ret(gmem_convert(a.g, PG, PG, 0, GMEM_CONTENT_ZERO, NULL), 0, "ZERO to-shared");
	ok(a.host[PG] == 0 && a.host[2 * PG - 1] == 0, "the host reads zeros");
	gmem_vm_destroy(a.vm);
}

int main(void)
{
	plan_lazy();
	test_cpuid_flow();
	test_launch_errors();
	test_digest_chain();
	test_encryption();
	done();
}
