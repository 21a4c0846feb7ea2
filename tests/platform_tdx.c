/* SPDX-License-Identifier: MIT */
/*
 * TDX model: in-place page add and MRTD, accept on first private access,
 * S-EPT unmap clearing pages, PRESERVE to-shared refused, and the ZERO
 * to-shared memset skip with its counters.
 */
#include <openssl/evp.h>
#include <string.h>

#include "tap.h"
#include "gmem/gmem.h"

#define PG GMEM_PAGE_SIZE

/* MRTD per the TDX module spec: SHA-384 over 128-byte blocks. */
static void mr_block(EVP_MD_CTX *ctx, const char *what, uint64_t gpa)
{
	uint8_t b[128] = { 0 };

	memcpy(b, what, strlen(what));
	for (int i = 0; i < 8; i++)
		b[16 + i] = (uint8_t)(gpa >> (8 * i));
	EVP_DigestUpdate(ctx, b, sizeof(b));
}

static int sept(struct gmem *g, uint64_t off)
{
	struct gmem_page_info pi;

	TEST_ASSERT(!gmem_page_info(g, off, &pi), "page info");
	return pi.vendor_state;
}

static void test_launch(void)
{
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *host, mrtd[48], ref[48], buf[32];
	unsigned len = 48;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	TEST_ASSERT(!gmem_vm_create(&vm, "tdx", NULL), "vm");
	TEST_ASSERT(!gmem_create(vm, 64 * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g), "gmem");
	TEST_ASSERT(!gmem_bind(g, 0x100000), "bind");
	host = gmem_mmap(g);
	TEST_ASSERT(host, "mmap");
	for (unsigned i = 0; i < 2 * PG; i++)
		host[i] = (uint8_t)(i * 13);

	ok_ret(gmem_tdx_page_add(g, 0, 2 * PG, 1), -EINVAL, "PAGE.ADD of a shared range is refused");
	ok_ret(gmem_convert(g, 0, 2 * PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL), 0,
	       "to private, PRESERVE");
	ok_ret(gmem_tdx_page_add(g, 0, PG, 1), 0, "PAGE.ADD + MR.EXTEND page 0");
	ok_ret(gmem_tdx_page_add(g, PG, PG, 0), 0, "PAGE.ADD page 1, unmeasured contents");
	ok_ret(gmem_tdx_page_add(g, 0, PG, 0), -EINVAL, "a page cannot be added twice");
	ok(sept(g, 0) == GMEM_SEPT_MAPPED && sept(g, 2 * PG) == GMEM_SEPT_UNMAPPED, "S-EPT states");

	EVP_DigestInit_ex(ctx, EVP_sha384(), NULL);
	mr_block(ctx, "MEM.PAGE.ADD", 0x100000);
	for (unsigned c = 0; c < PG / 256; c++) {
		uint8_t chunk[256];

		for (unsigned i = 0; i < 256; i++)
			chunk[i] = (uint8_t)((c * 256 + i) * 13);
		mr_block(ctx, "MR.EXTEND", 0x100000 + c * 256);
		EVP_DigestUpdate(ctx, chunk, 256);
	}
	mr_block(ctx, "MEM.PAGE.ADD", 0x101000);
	EVP_DigestFinal_ex(ctx, ref, &len);
	EVP_MD_CTX_free(ctx);

	ok_ret(gmem_vm_finalize(vm), 0, "TDH.MR.FINALIZE");
	ok_ret(gmem_tdx_mrtd(vm, mrtd), 0, "read MRTD");
	ok(!memcmp(mrtd, ref, 48), "MRTD matches an independent SHA-384 of the 128-byte blocks");
	ok_ret(gmem_tdx_page_add(g, 2 * PG, PG, 0), -EINVAL, "no PAGE.ADD after finalize");

	ok_ret(gmem_guest_access(g, 0, buf, 32, GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE), 0,
	       "guest reads the added page");
	ok(buf[1] == 13 && buf[31] == (uint8_t)(31 * 13), "the guest sees the bytes the VMM loaded");

	/* Accept on first access after finalize: zeroed page (PAGE.AUG). */
	host[4 * PG] = 0x5a;
	gmem_convert(g, 4 * PG, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, NULL);
	ok_ret(gmem_guest_access(g, 4 * PG, buf, 1, GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE), 0,
	       "guest private read accepts the page");
	ok(buf[0] == 0 && sept(g, 4 * PG) == GMEM_SEPT_MAPPED,
	   "TDH.MEM.PAGE.AUG hands out a zeroed page, now mapped");
	gmem_vm_destroy(vm);
}

static void test_conversions(void)
{
	struct gmem_vm *vm;
	struct gmem *g;
	struct gmem_stats st;
	uint8_t *host, buf[8] = "secret!";
	uint64_t eo = 0;
	unsigned n = 16;

	TEST_ASSERT(!gmem_vm_create(&vm, "tdx", NULL), "vm");
	TEST_ASSERT(!gmem_create(vm, 64 * PG, GMEM_FLAG_MMAP, &g), "gmem (private)");
	host = gmem_mmap(g);
	TEST_ASSERT(host, "mmap");
	TEST_ASSERT(!gmem_vm_finalize(vm), "finalize");

	/* n pages accepted and written by the guest; n more private but never
	 * accepted, with stale host bytes from before. */
	for (unsigned i = 0; i < n; i++)
		ok_ret(gmem_guest_access(g, i * PG, buf, 8, GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE), 0,
		       "guest writes private page %u", i);
	ok_ret(gmem_convert(g, n * PG, n * PG, 0, GMEM_CONTENT_UNSPECIFIED, &eo), 0,
	       "UNSPECIFIED to-shared");
	memset(host + n * PG, 0x77, n * PG);
	ok_ret(gmem_convert(g, n * PG, n * PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_PRESERVE, &eo), 0,
	       "back to private without accepting");

	ok_ret(gmem_convert(g, 0, PG, 0, GMEM_CONTENT_PRESERVE, &eo), -EOPNOTSUPP,
	       "PRESERVE to-shared is refused (S-EPT unmap zeroes)");
	ok(eo == 0, "error_offset = offset");
	eo = 0;
	ok_ret(gmem_convert(g, 3 * PG, PG, 0, GMEM_CONTENT_PRESERVE, &eo), -EOPNOTSUPP,
	       "also mid-file");
	ok(eo == 3 * PG, "error_offset = 0x%llx", (unsigned long long)eo);

	gmem_get_stats(g, &st);
	ok_ret(gmem_convert(g, 0, 2 * n * PG, 0, GMEM_CONTENT_ZERO, NULL), 0, "ZERO to-shared of both");
	{
		struct gmem_stats st2;

		gmem_get_stats(g, &st2);
		ok(st2.pages_zero_skipped - st.pages_zero_skipped == n,
		   "memset skipped for the %u S-EPT-mapped pages (%llu)", n,
		   (unsigned long long)(st2.pages_zero_skipped - st.pages_zero_skipped));
		ok(st2.pages_zeroed - st.pages_zeroed == n,
		   "memset done for the %u pages never mapped (%llu)", n,
		   (unsigned long long)(st2.pages_zeroed - st.pages_zeroed));
	}
	{
		int nonzero = 0;

		for (unsigned i = 0; i < 2 * n * PG; i++)
			nonzero |= host[i];
		ok(!nonzero, "the host reads zeros everywhere");
		ok(sept(g, 0) == GMEM_SEPT_UNMAPPED, "pages left the S-EPT");
	}
	gmem_vm_destroy(vm);
}

int main(void)
{
	plan_lazy();
	test_launch();
	test_conversions();
	done();
}
