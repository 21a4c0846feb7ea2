/* SPDX-License-Identifier: MIT */
/*
 * The memory encryption model of snp and tdx: every private page is stored
 * encrypted in place with a per-VM key, AES-256-XTS over the 4 KiB page
 * with the guest physical address as the tweak (as SME/MKTME bind the
 * ciphertext to the physical address).  Thread-safe; libcrypto does the AES.
 */
#ifndef GMEM_CRYPT_H
#define GMEM_CRYPT_H

#include <stdint.h>
#include <stddef.h>

struct gmem_crypt;

#define GMEM_CRYPT_KEY_SIZE 64	/* two AES-256 keys */

/* A new key: random (RAND_bytes) when key is NULL, else the given one (the
 * two halves must differ, as XTS requires; -EINVAL otherwise). */
int gmem__crypt_create(struct gmem_crypt **c, const uint8_t *key);
void gmem__crypt_destroy(struct gmem_crypt *c);

/* Encrypt (encrypt != 0) or decrypt one page; in == out is allowed. */
int gmem__crypt_page(struct gmem_crypt *c, uint64_t gpa, const void *in,
		     void *out, int encrypt);

/* Read or write [pgoff, pgoff + len) of the plaintext of the page at gpa
 * whose ciphertext is at page_ct; pgoff + len <= 4096.  A write decrypts,
 * modifies and re-encrypts the page: the caller serialises writers of one
 * page. */
int gmem__crypt_read(struct gmem_crypt *c, uint64_t gpa, const void *page_ct,
		     uint64_t pgoff, void *buf, uint64_t len);
int gmem__crypt_write(struct gmem_crypt *c, uint64_t gpa, void *page_ct,
		      uint64_t pgoff, const void *buf, uint64_t len);

struct gmem;
/* A guest access to part of one encrypted private page of g at off,
 * under the page's lock (concurrent guest accesses hold the gmem's lock
 * only for reading). */
int gmem__crypt_access(struct gmem_crypt *c, struct gmem *g, uint64_t off,
		       void *buf, uint64_t len, int write);

#endif
