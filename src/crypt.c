/* SPDX-License-Identifier: MIT */
/*
 * AES-256-XTS page encryption through libcrypto's EVP interface.  One
 * cipher context per thread is initialised with the VM's key once and
 * re-armed with each page's tweak, so a page costs the AES and nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypt.h"
#include "internal.h"

struct gmem_crypt {
	uint8_t key[GMEM_CRYPT_KEY_SIZE];
	uint64_t id;			/* unique per key, for the thread cache */
};

static uint64_t next_id = 1;

/* The calling thread's contexts, keyed by struct gmem_crypt id. */
struct ctx_cache {
	uint64_t id;
	EVP_CIPHER_CTX *enc, *dec;
};
static __thread struct ctx_cache tcache;
static pthread_key_t tcache_key;
static pthread_once_t tcache_once = PTHREAD_ONCE_INIT;

static void tcache_free(void *p)
{
	struct ctx_cache *cc = p;

	EVP_CIPHER_CTX_free(cc->enc);
	EVP_CIPHER_CTX_free(cc->dec);
	cc->enc = cc->dec = NULL;
	cc->id = 0;
}

static void tcache_init(void)
{
	(void)pthread_key_create(&tcache_key, tcache_free);
}

int gmem__crypt_create(struct gmem_crypt **out, const uint8_t *key)
{
	struct gmem_crypt *c;

	if (!out)
		return -EFAULT;
	if (gmem__fault_check(GMEM_FI_ALLOC))
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (key) {
		memcpy(c->key, key, sizeof(c->key));
	} else {
		do {
			if (RAND_bytes(c->key, sizeof(c->key)) != 1) {
				free(c);
				return -EIO;
			}
		} while (!CRYPTO_memcmp(c->key, c->key + 32, 32));
	}
	if (!CRYPTO_memcmp(c->key, c->key + 32, 32)) {
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
		return -EINVAL;
	}
	c->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	*out = c;
	return 0;
}

void gmem__crypt_destroy(struct gmem_crypt *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* This thread's context for c in the given direction, keyed once. */
static EVP_CIPHER_CTX *ctx_for(struct gmem_crypt *c, int encrypt)
{
	struct ctx_cache *cc = &tcache;

	if (cc->id != c->id) {
		pthread_once(&tcache_once, tcache_init);
		if (!cc->enc) {
			cc->enc = EVP_CIPHER_CTX_new();
			cc->dec = EVP_CIPHER_CTX_new();
			if (!cc->enc || !cc->dec) {
				tcache_free(cc);
				return NULL;
			}
			(void)pthread_setspecific(tcache_key, cc);
		}
		if (EVP_CipherInit_ex(cc->enc, EVP_aes_256_xts(), NULL, c->key,
				      NULL, 1) != 1 ||
		    EVP_CipherInit_ex(cc->dec, EVP_aes_256_xts(), NULL, c->key,
				      NULL, 0) != 1) {
			cc->id = 0;
			return NULL;
		}
		cc->id = c->id;
	}
	return encrypt ? cc->enc : cc->dec;
}

int gmem__crypt_page(struct gmem_crypt *c, uint64_t gpa, const void *in,
		     void *out, int encrypt)
{
	uint8_t tweak[16] = { 0 };
	EVP_CIPHER_CTX *ctx;
	int n = 0;

	if (gmem__fault_check(GMEM_FI_CRYPTO))
		return -EIO;
	ctx = ctx_for(c, encrypt);
	if (!ctx)
		return -ENOMEM;
	for (int i = 0; i < 8; i++)
		tweak[i] = (uint8_t)(gpa >> (8 * i));
	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, tweak, -1) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, PAGE_SIZE) != 1 || n != PAGE_SIZE)
		return -EIO;
	return 0;
}

int gmem__crypt_read(struct gmem_crypt *c, uint64_t gpa, const void *page_ct,
		     uint64_t pgoff, void *buf, uint64_t len)
{
	uint8_t pt[PAGE_SIZE];
	int ret;

	if (pgoff + len > PAGE_SIZE)
		return -EINVAL;
	ret = gmem__crypt_page(c, gpa, page_ct, pt, 0);
	if (!ret)
		memcpy(buf, pt + pgoff, len);
	OPENSSL_cleanse(pt, sizeof(pt));
	return ret;
}

int gmem__crypt_write(struct gmem_crypt *c, uint64_t gpa, void *page_ct,
		      uint64_t pgoff, const void *buf, uint64_t len)
{
	uint8_t pt[PAGE_SIZE];
	int ret;

	if (pgoff + len > PAGE_SIZE)
		return -EINVAL;
	if (pgoff == 0 && len == PAGE_SIZE) {
		ret = gmem__crypt_page(c, gpa, buf, page_ct, 1);
	} else {
		ret = gmem__crypt_page(c, gpa, page_ct, pt, 0);
		if (!ret) {
			memcpy(pt + pgoff, buf, len);
			ret = gmem__crypt_page(c, gpa, pt, page_ct, 1);
		}
	}
	OPENSSL_cleanse(pt, sizeof(pt));
	return ret;
}

int gmem__crypt_access(struct gmem_crypt *c, struct gmem *g, uint64_t off,
		       void *buf, uint64_t len, int write)
{
	uint64_t page = off & ~(PAGE_SIZE - 1);
	pthread_mutex_t *lock = gmem__page_lock(g, page);
	int ret;

	pthread_mutex_lock(lock);
	if (write)
		ret = gmem__crypt_write(c, g->gpa + page, g->mem + page,
					off - page, buf, len);
	else
		ret = gmem__crypt_read(c, g->gpa + page, g->mem + page,
				       off - page, buf, len);
	pthread_mutex_unlock(lock);
	return ret;
}
