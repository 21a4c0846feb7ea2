/* SPDX-License-Identifier: MIT */
/*
 * TDVF metadata and the MRTD of a TDVF launch (see tdx_tdvf.h).  Every
 * length is checked against the image before it is read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "platform/snp_ovmf.h"
#include "platform/tdx_mr.h"
#include "platform/tdx_tdvf.h"

#define PAGE 4096ULL
#define HDR 16
#define ENTRY 32
#define GPA_LIMIT (1ULL << 52)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

static int check_section(const struct gmem__tdvf *t, unsigned i, const char **why)
{
	const struct gmem__tdvf_section *s = &t->sec[i];

	if (s->size < s->data_len)
		return bad(why, "TDVF metadata: RawDataSize larger than MemoryDataSize");
	if (s->address % PAGE || s->size % PAGE)
		return bad(why, "TDVF metadata: section not 4 KiB-aligned");
	if (!s->size)
		return bad(why, "TDVF metadata: empty section");
	if (s->address >= GPA_LIMIT || s->size > GPA_LIMIT - s->address)
		return bad(why, "TDVF metadata: section beyond the guest physical address space");
	switch (s->type) {
	case GMEM__TDVF_BFV:
	case GMEM__TDVF_CFV:
		if (!s->data_len)
			return bad(why, "TDVF metadata: BFV or CFV section without data");
		/* QEMU copies MemoryDataSize bytes from DataOffset. */
		if (s->data_offset > t->size || s->size > t->size - s->data_offset)
			return bad(why, "TDVF metadata: section data outside the image");
		break;
	case GMEM__TDVF_TD_HOB:
		if (s->attributes & GMEM__TDVF_MR_EXTEND)
			return bad(why, "TDVF metadata: TD_HOB with MR_EXTEND (its contents are the VMM's)");
		/* fall through */
	case GMEM__TDVF_TEMP_MEM:
		if (s->data_len)
			return bad(why, "TDVF metadata: TD_HOB or TEMP_MEM section with data");
		break;
	default:
		return bad(why, "TDVF metadata: unknown section type");
	}
	for (unsigned j = 0; j < i; j++)
		if (s->address < t->sec[j].address + t->sec[j].size &&
		    t->sec[j].address < s->address + s->size)
			return bad(why, "TDVF metadata: sections overlap");
	return 0;
}

int gmem__tdvf_parse(const void *data, size_t size, struct gmem__tdvf *t,
		     const char **why)
{
	struct gmem__ovmf *o;
	const uint8_t *h;
	uint32_t off, len, count;
	int ret;

	if (!data || !t)
		return -EFAULT;
	memset(t, 0, sizeof(*t));
	o = malloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	ret = gmem__ovmf_parse(data, size, o, why);
	off = o->tdx_metadata_offset;
	if (!ret && !o->has_tdx_metadata) {
		if (why)
			*why = "the image has no TDX metadata (not a TDVF)";
		ret = -ENOENT;
	}
	free(o);
	if (ret)
		return ret;
	t->data = data;
	t->size = size;
	if (off < HDR || off > size)
		ret = bad(why, "TDVF metadata: offset outside the image");
	h = (const uint8_t *)data + size - off;
	if (!ret && memcmp(h, "TDVF", 4))
		ret = bad(why, "TDVF metadata: signature is not TDVF");
	len = ret ? 0 : le32(h + 4);
	count = ret ? 0 : le32(h + 12);
	if (!ret && len > off)
		ret = bad(why, "TDVF metadata: extends past the image end");
	if (!ret && le32(h + 8) != 1)
		ret = bad(why, "TDVF metadata: version is not 1");
	if (!ret && (count < 2 || count > GMEM__TDVF_MAX_SECTIONS))
		ret = bad(why, "TDVF metadata: section count not within 2..64");
	if (!ret && len != HDR + ENTRY * count)
		ret = bad(why, "TDVF metadata: length does not match its sections");
	for (unsigned i = 0; !ret && i < count; i++) {
		const uint8_t *e = h + HDR + ENTRY * i;

		t->sec[i] = (struct gmem__tdvf_section){
			.data_offset = le32(e), .data_len = le32(e + 4),
			.address = le64(e + 8), .size = le64(e + 16),
			.type = le32(e + 24), .attributes = le32(e + 28),
		};
		t->nsections = i + 1;
		ret = check_section(t, i, why);
	}
	if (ret)
		memset(t, 0, sizeof(*t));
	return ret;
}

static int measure_section(struct gmem_tdx_mr *mr, const struct gmem__tdvf *t,
			   const struct gmem__tdvf_section *s)
{
	static const uint8_t zero[PAGE];
	bool extend = s->attributes & GMEM__TDVF_MR_EXTEND;
	bool from_image = s->type == GMEM__TDVF_BFV || s->type == GMEM__TDVF_CFV;

	for (uint64_t p = 0; p < s->size / PAGE; p++) {
		uint64_t gpa = s->address + p * PAGE;
		int ret = gmem__tdx_mr_page_add(mr, gpa);

		if (!ret && extend)
			ret = gmem__tdx_mr_extend(mr, gpa, from_image ?
						  t->data + s->data_offset + p * PAGE : zero);
		if (ret)
			return ret;
	}
	return 0;
}

int gmem__tdx_measure(const struct gmem__tdvf *t, uint8_t mrtd[48],
		      void (*step)(void *arg, const struct gmem__tdx_measure_step *st),
		      void *arg)
{
	struct gmem_tdx_mr *mr;
	int ret;

	if (!t || !mrtd || !t->data)
		return -EFAULT;
	if (t->nsections < 2)
		return -EINVAL;
	ret = gmem__tdx_mr_init(&mr);
	if (ret)
		return ret;
	for (unsigned i = 0; i < t->nsections && !ret; i++) {
		struct gmem__tdx_measure_step st = {
			.sec = &t->sec[i], .pages = t->sec[i].size / PAGE,
			.extended = t->sec[i].attributes & GMEM__TDVF_MR_EXTEND,
		};

		ret = measure_section(mr, t, &t->sec[i]);
		if (!ret && step) {
			ret = gmem__tdx_mr_peek(mr, st.mrtd);
			if (!ret)
				step(arg, &st);
		}
	}
	if (!ret)
		ret = gmem__tdx_mr_finalize(mr, mrtd);
	gmem__tdx_mr_destroy(mr);
	return ret;
}
