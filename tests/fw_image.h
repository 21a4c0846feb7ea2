/* SPDX-License-Identifier: MIT */
/*
 * What the firmware-image tests (snp_measure, tdx_measure) share: the
 * little-endian writers their synthetic images are built with, the GUID of
 * OVMF's GUID table footer, hex output, and Debian 12's OVMF.fd, read and
 * recognised by its SHA-256.
 */
#ifndef GMEM_TESTS_FW_IMAGE_H
#define GMEM_TESTS_FW_IMAGE_H

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* 96b582de-1fb2-45f7-baea-a366c55a082d, the GUID table's footer. */
static const uint8_t g_footer[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
	0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };

/* n bytes as 2n lower-case hex digits and a NUL. */
static inline void to_hex(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * n] = 0;
}

#define DEBIAN_OVMF "/usr/share/ovmf/OVMF.fd"
#define DEBIAN_SHA256 "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773"

/* Debian 12's OVMF.fd (ovmf 2022.11-6+deb12u2), malloc'ed, with *size; or
 * NULL with *skip the reason the tests on it are skipped. */
static inline uint8_t *debian_ovmf(size_t *size, const char **skip)
{
	FILE *f = fopen(DEBIAN_OVMF, "rb");
	uint8_t *buf = NULL, h[32];
	unsigned len = sizeof(h);
	char sh[65];
	long n = 0;

	*skip = DEBIAN_OVMF " missing (Debian package ovmf)";
	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (!buf)
		return NULL;
	*size = (size_t)n;
	*skip = DEBIAN_OVMF " is not Debian 12's 2022.11-6+deb12u2";
	if (EVP_Digest(buf, *size, h, &len, EVP_sha256(), NULL) != 1)
		goto other;
	to_hex(sh, h, sizeof(h));
	if (strcmp(sh, DEBIAN_SHA256))
		goto other;
	*skip = NULL;
	return buf;
other:
	free(buf);
	return NULL;
}

#endif
