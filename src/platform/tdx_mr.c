/* SPDX-License-Identifier: MIT */
/* MRTD: a running SHA-384 (libcrypto) over the TDX module's 128-byte
 * measurement blocks.  Callers serialise (the VM lock). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"
#include "platform/tdx_mr.h"

#define MR_CHUNK 256

struct gmem_tdx_mr {
	EVP_MD_CTX *ctx;
	int finalized;
};

int gmem__tdx_mr_init(struct gmem_tdx_mr **out)
{
	struct gmem_tdx_mr *mr;

	if (gmem__fault_check(GMEM_FI_ALLOC))
		return -ENOMEM;
	mr = calloc(1, sizeof(*mr));
	if (!mr)
		return -ENOMEM;
	mr->ctx = EVP_MD_CTX_new();
	if (!mr->ctx || EVP_DigestInit_ex(mr->ctx, EVP_sha384(), NULL) != 1) {
		EVP_MD_CTX_free(mr->ctx);
		free(mr);
		return -ENOMEM;
	}
	*out = mr;
	return 0;
}

void gmem__tdx_mr_destroy(struct gmem_tdx_mr *mr)
{
	if (!mr)
		return;
	EVP_MD_CTX_free(mr->ctx);
	free(mr);
}

static int block(struct gmem_tdx_mr *mr, const char *what, uint64_t gpa)
{
	uint8_t b[128] = { 0 };

	if (mr->finalized)
		return -EINVAL;
	memcpy(b, what, strlen(what));
	for (int i = 0; i < 8; i++)
		b[16 + i] = (uint8_t)(gpa >> (8 * i));
	return EVP_DigestUpdate(mr->ctx, b, sizeof(b)) == 1 ? 0 : -EIO;
}

int gmem__tdx_mr_page_add(struct gmem_tdx_mr *mr, uint64_t gpa)
{
	if (gmem__fault_check(GMEM_FI_CRYPTO))
		return -EIO;
	return block(mr, "MEM.PAGE.ADD", gpa);
}

int gmem__tdx_mr_extend(struct gmem_tdx_mr *mr, uint64_t gpa, const void *page)
{
	uint8_t p[4096];

	if (gmem__fault_check(GMEM_FI_CRYPTO))
		return -EIO;
	/* Hashed from a copy, as gmem__snp_measure_page() does (a page
	 * ending a mapping on QEMU's TCG before 10.0.4). */
	memcpy(p, page, sizeof(p));
	for (unsigned c = 0; c < 4096 / MR_CHUNK; c++) {
		int ret = block(mr, "MR.EXTEND", gpa + c * MR_CHUNK);

		if (ret)
			return ret;
		if (EVP_DigestUpdate(mr->ctx, p + c * MR_CHUNK, MR_CHUNK) != 1)
			return -EIO;
	}
	return 0;
}

int gmem__tdx_mr_peek(struct gmem_tdx_mr *mr, uint8_t out[48])
{
	EVP_MD_CTX *copy;
	unsigned len = 48;
	int ret = 0;

	if (mr->finalized)
		return -EINVAL;
	copy = EVP_MD_CTX_new();
	if (!copy)
		return -ENOMEM;
	if (EVP_MD_CTX_copy_ex(copy, mr->ctx) != 1 ||
	    EVP_DigestFinal_ex(copy, out, &len) != 1)
		ret = -EIO;
	EVP_MD_CTX_free(copy);
	return ret;
}

int gmem__tdx_mr_finalize(struct gmem_tdx_mr *mr, uint8_t out[48])
{
	unsigned len = 48;

	if (mr->finalized)
		return -EINVAL;
	if (gmem__fault_check(GMEM_FI_CRYPTO))
		return -EIO;
	if (EVP_DigestFinal_ex(mr->ctx, out, &len) != 1)
		return -EIO;
	mr->finalized = 1;
	return 0;
}

int gmem__tdx_mr_checkpoint(struct gmem_tdx_mr *mr, void **cp)
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();

	if (!copy)
		return -ENOMEM;
	if (EVP_MD_CTX_copy_ex(copy, mr->ctx) != 1) {
		EVP_MD_CTX_free(copy);
		return -ENOMEM;
	}
	*cp = copy;
	return 0;
}

void gmem__tdx_mr_rollback(struct gmem_tdx_mr *mr, void *cp)
{
	EVP_MD_CTX_free(mr->ctx);
	mr->ctx = cp;
}

void gmem__tdx_mr_drop(void *cp)
{
	EVP_MD_CTX_free(cp);
}
