/* SPDX-License-Identifier: MIT */
/*
 * OVMF's GUID table and SEV metadata (see snp_ovmf.h), read with every
 * length checked against the image before it is used: a truncated or
 * hostile image gives -EINVAL and a reason, never a read outside it.
 */
#include <errno.h>
#include <string.h>

#include "platform/snp_ovmf.h"

#define PAGE 4096ULL
#define FOUR_GB (1ULL << 32)
#define ENTRY_HDR 18		/* u16 length + GUID */
#define FOOTER_END 32		/* the table ends 32 bytes before the image end */

static const uint8_t guid_footer[16] = {	/* 96b582de-1fb2-45f7-baea-a366c55a082d */
	0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
	0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };
static const uint8_t guid_reset[16] = {		/* 00f771de-1a7e-4fcb-890e-68c77e2fb44e */
	0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
	0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e };
static const uint8_t guid_hashes[16] = {	/* 7255371f-3a3b-4b04-927b-1da6efa8d454 */
	0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
	0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54 };
static const uint8_t guid_metadata[16] = {	/* dc886566-984a-4798-a75e-5585a7bf67cc */
	0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
	0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc };
static const uint8_t guid_tdx_metadata[16] = {	/* e47a6535-984a-4798-865e-4685a7bf8ec2 */
	0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
	0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2 };

/* The SEV hashes table (QEMU target/i386/sev.c, OVMF BlobVerifierSevHashes). */
static const uint8_t guid_ht_header[16] = {	/* 9438d606-4f22-4cc9-b479-a793d411fd21 */
	0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
	0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21 };
static const uint8_t guid_ht_kernel[16] = {	/* 4de79437-abd2-427f-b835-d5b172d2045b */
	0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
	0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b };
static const uint8_t guid_ht_initrd[16] = {	/* 44baf731-3a2f-4bd7-9af1-41e29169781d */
	0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
	0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d };
static const uint8_t guid_ht_cmdline[16] = {	/* 97d02dd8-bd20-4c94-aa78-e7714d36ab2a */
	0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
	0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a };

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

/* One table entry, data [d, d + len). */
static int take_entry(struct gmem__ovmf *o, const uint8_t *guid,
		      const uint8_t *d, size_t len, const char **why)
{
	if (!memcmp(guid, guid_reset, 16)) {
		if (len < 4)
			return bad(why, "GUID table: SEV-ES reset block entry shorter than 4 bytes");
		if (o->has_reset_block)
			return bad(why, "GUID table: SEV-ES reset block entry repeated");
		o->has_reset_block = true;
		o->reset_eip = le32(d);
	} else if (!memcmp(guid, guid_hashes, 16)) {
		if (len < 8)
			return bad(why, "GUID table: SEV hash table entry shorter than 8 bytes");
		if (o->has_hash_table)
			return bad(why, "GUID table: SEV hash table entry repeated");
		o->has_hash_table = true;
		o->hash_table_gpa = le32(d);
		o->hash_table_size = le32(d + 4);
	} else if (!memcmp(guid, guid_metadata, 16)) {
		if (len < 4)
			return bad(why, "GUID table: SEV metadata entry shorter than 4 bytes");
		if (o->has_metadata)
			return bad(why, "GUID table: SEV metadata entry repeated");
		o->has_metadata = true;
		o->metadata_offset = le32(d);
	} else if (!memcmp(guid, guid_tdx_metadata, 16)) {
		if (len < 4)
			return bad(why, "GUID table: TDX metadata entry shorter than 4 bytes");
		if (o->has_tdx_metadata)
			return bad(why, "GUID table: TDX metadata entry repeated");
		o->has_tdx_metadata = true;
		o->tdx_metadata_offset = le32(d);
	}
	return 0;
}

static int parse_table(struct gmem__ovmf *o, const char **why)
{
	const uint8_t *end = o->data + o->size - FOOTER_END - ENTRY_HDR;
	size_t table_len, left;

	if (o->size < FOOTER_END + ENTRY_HDR ||
	    memcmp(end + 2, guid_footer, 16))
		return 0;		/* no table */
	o->has_table = true;
	table_len = le16(end);
	if (table_len < ENTRY_HDR ||
	    table_len - ENTRY_HDR > o->size - FOOTER_END - ENTRY_HDR)
		return bad(why, "GUID table: length out of range");
	left = table_len - ENTRY_HDR;
	/* Entries end at `end` and are read backwards. */
	while (left >= ENTRY_HDR) {
		const uint8_t *hdr = end - ENTRY_HDR;
		size_t len = le16(hdr);
		int ret;

		if (len < ENTRY_HDR || len > left)
			return bad(why, "GUID table: entry length out of range");
		ret = take_entry(o, hdr + 2, end - len, len - ENTRY_HDR, why);
		if (ret)
			return ret;
		end -= len;
		left -= len;
	}
	if (left)
		return bad(why, "GUID table: trailing bytes shorter than an entry");
	return 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_section(const struct gmem__ovmf *o, unsigned i, const char **why)
{
	const struct gmem__ovmf_section *s = &o->sec[i];

	switch (s->type) {
	case GMEM__OVMF_SEC_MEM:
	case GMEM__OVMF_SEC_SVSM_CAA:
	case GMEM__OVMF_SEC_KERNEL_HASHES:
		break;
	case GMEM__OVMF_SEC_SECRETS:
	case GMEM__OVMF_SEC_CPUID:
		if (s->size != PAGE)
			return bad(why, "SEV metadata: a SECRETS or CPUID section is not one page");
		break;
	default:
		return bad(why, "SEV metadata: unknown section type");
	}
	if (!s->size)
		return bad(why, "SEV metadata: empty section");
	if (s->gpa % PAGE || s->size % PAGE)
		return bad(why, "SEV metadata: section not 4 KiB-aligned");
	if ((uint64_t)s->gpa + s->size > FOUR_GB)
		return bad(why, "SEV metadata: section crosses 4 GiB");
	if (overlaps(s->gpa, s->size, o->gpa, o->size))
		return bad(why, "SEV metadata: section overlaps the firmware image");
	for (unsigned j = 0; j < i; j++)
		if (overlaps(s->gpa, s->size, o->sec[j].gpa, o->sec[j].size))
			return bad(why, "SEV metadata: sections overlap");
	return 0;
}

static int parse_metadata(struct gmem__ovmf *o, uint32_t off_from_end,
			  const char **why)
{
	const uint8_t *h;
	uint32_t len, count;

	if (off_from_end < 16 || off_from_end > o->size)
		return bad(why, "SEV metadata: offset outside the image");
	h = o->data + o->size - off_from_end;
	if (memcmp(h, "ASEV", 4))
		return bad(why, "SEV metadata: signature is not ASEV");
	len = le32(h + 4);
	count = le32(h + 12);
	if (le32(h + 8) != 1)
		return bad(why, "SEV metadata: version is not 1");
	if (count > GMEM__OVMF_MAX_SECTIONS)
		return bad(why, "SEV metadata: more than 64 sections");
	if (len < 16 + 12 * count)
		return bad(why, "SEV metadata: length shorter than its sections");
	if (len > off_from_end)
		return bad(why, "SEV metadata: extends past the image end");
	o->nsections = count;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *d = h + 16 + 12 * i;
		int ret;

		o->sec[i].gpa = le32(d);
		o->sec[i].size = le32(d + 4);
		o->sec[i].type = le32(d + 8);
		ret = check_section(o, i, why);
		if (ret)
			return ret;
	}
	return 0;
}

int gmem__ovmf_parse(const void *data, size_t size, struct gmem__ovmf *o,
		     const char **why)
{
	int ret;

	if (!data || !o)
		return -EFAULT;
	memset(o, 0, sizeof(*o));
	if (!size || size % PAGE)
		return bad(why, "image size is not a non-zero multiple of 4 KiB");
	if (size > GMEM__OVMF_MAX_SIZE)
		return bad(why, "image larger than 64 MiB");
	o->data = data;
	o->size = size;
	o->gpa = FOUR_GB - size;
	ret = parse_table(o, why);
	if (!ret && o->has_metadata)
		ret = parse_metadata(o, o->metadata_offset, why);
	if (ret) {
		memset(o, 0, sizeof(*o));
		return ret;
	}
	return 0;
}

int gmem__sev_hashes_page(const uint8_t cmdline_sha256[32],
			  const uint8_t initrd_sha256[32],
			  const uint8_t kernel_sha256[32], unsigned offset,
			  uint8_t page[4096])
{
	const uint8_t *const guid[3] = { guid_ht_cmdline, guid_ht_initrd, guid_ht_kernel };
	const uint8_t *const hash[3] = { cmdline_sha256, initrd_sha256, kernel_sha256 };
	/* The table is padded to 16 bytes; its length field is not. */
	const unsigned padded = (GMEM__SEV_HASHES_TABLE_LEN + 15) & ~15U;
	uint8_t *t;

	if (!cmdline_sha256 || !initrd_sha256 || !kernel_sha256 || !page)
		return -EFAULT;
	if (offset > PAGE - padded)
		return -EINVAL;
	memset(page, 0, PAGE);
	t = page + offset;
	memcpy(t, guid_ht_header, 16);
	t[16] = GMEM__SEV_HASHES_TABLE_LEN & 0xff;
	t[17] = GMEM__SEV_HASHES_TABLE_LEN >> 8;
	for (int i = 0; i < 3; i++) {
		uint8_t *e = t + ENTRY_HDR + i * (ENTRY_HDR + 32);

		memcpy(e, guid[i], 16);
		e[16] = ENTRY_HDR + 32;
		e[17] = 0;
		memcpy(e + ENTRY_HDR, hash[i], 32);
	}
	return 0;
}
