/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the OVMF image parser, the SEV-SNP launch digest
 * prediction (gmem__ovmf_parse(), gmem__snp_measure()), the TDVF parser and
 * the MRTD prediction (gmem__tdvf_parse(), gmem__tdx_measure()).  The input is the
 * end of an image: it is placed at the end of a zeroed buffer rounded up to
 * 4 KiB, where the GUID table and the metadata are found; its first byte
 * (when the input is longer than a page) also picks the vCPU count.
 *   - the parser answers 0 or -EINVAL with a one-line reason, and on 0
 *     every section is non-empty, 4 KiB-aligned, below 4 GiB, of a known
 *     type, clear of the image and of the other sections;
 *   - a parsed image measures to 0, or -ENOENT without metadata, or
 *     -EINVAL with a reason (several vCPUs and no reset block), the same
 *     digest twice, and the steps' last digest is the result;
 *   - the TDVF parser answers 0, -ENOENT or -EINVAL with a reason, and on 0
 *     every section is non-empty, aligned, of a known type, clear of the
 *     others, its data inside the image; MRTD is the same twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "platform/snp_ovmf.h"
#include "platform/tdx_tdvf.h"

#define PG 4096u
/* Zero pages cost a SHA-384 each: larger sections are parsed, not measured. */
#define MAX_MEASURED_PAGES 4096

static uint8_t last[48];
static unsigned nsteps;

static void step(void *arg, const struct gmem__snp_measure_step *st)
{
	(void)arg;
	memcpy(last, st->digest, 48);
	nsteps++;
}

static void check_sections(const struct gmem__ovmf *o)
{
	if (o->nsections > GMEM__OVMF_MAX_SECTIONS)
		FAIL("%u sections", o->nsections);
	for (unsigned i = 0; i < o->nsections; i++) {
		const struct gmem__ovmf_section *s = &o->sec[i];
		uint64_t end = (uint64_t)s->gpa + s->size;

		if (!s->size || s->gpa % PG || s->size % PG || end > (1ULL << 32))
			FAIL("section %u: gpa 0x%x size 0x%x", i, s->gpa, s->size);
		if (s->type != 1 && s->type != 2 && s->type != 3 && s->type != 4 &&
		    s->type != 0x10)
			FAIL("section %u: type %u", i, s->type);
		if ((s->type == 2 || s->type == 3) && s->size != PG)
			FAIL("section %u: secrets/cpuid of 0x%x bytes", i, s->size);
		if (s->gpa < o->gpa + o->size && o->gpa < end)
			FAIL("section %u overlaps the image", i);
		for (unsigned j = 0; j < i; j++)
			if (s->gpa < (uint64_t)o->sec[j].gpa + o->sec[j].size &&
			    o->sec[j].gpa < end)
				FAIL("sections %u and %u overlap", j, i);
	}
}

static void check_tdvf(const uint8_t *img, size_t len)
{
	struct gmem__tdvf *t = malloc(sizeof(*t));
	const char *why = NULL;
	uint8_t m1[48], m2[48];
	uint64_t pages = 0;
	int r;

	if (!t)
		abort();
	r = gmem__tdvf_parse(img, len, t, &why);
	if (r && ((r != -EINVAL && r != -ENOENT) || !why || strchr(why, '\n')))
		FAIL("tdvf parse: %d (%s)", r, why ? why : "no reason");
	for (unsigned i = 0; !r && i < t->nsections; i++) {
		const struct gmem__tdvf_section *s = &t->sec[i];

		if (!s->size || s->size % PG || s->address % PG || s->data_len > s->size ||
		    s->type > GMEM__TDVF_TEMP_MEM)
			FAIL("tdvf section %u: bad fields accepted", i);
		if (s->type <= GMEM__TDVF_CFV && (uint64_t)s->data_offset + s->size > len)
			FAIL("tdvf section %u: data outside the image", i);
		for (unsigned j = 0; j < i; j++)
			if (s->address < t->sec[j].address + t->sec[j].size &&
			    t->sec[j].address < s->address + s->size)
				FAIL("tdvf sections %u and %u overlap", j, i);
		pages += s->size / PG;
	}
	if (!r && pages <= MAX_MEASURED_PAGES) {
		if (gmem__tdx_measure(t, m1, NULL, NULL) || gmem__tdx_measure(t, m2, NULL, NULL) ||
		    memcmp(m1, m2, 48))
			FAIL("MRTD failed or not reproducible");
	}
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = size ? (size + PG - 1) / PG * PG : PG;
	uint8_t *img = calloc(1, len), d1[48], d2[48];
	struct gmem__ovmf *o = malloc(sizeof(*o));
	struct gmem__snp_measure_in in = { 0 };
	const char *why = NULL;
	uint64_t pages = 0;
	int r1, r2;

	if (!img || !o)
		abort();
	if (size)
		memcpy(img + len - size, data, size);
	check_tdvf(img, len);
	r1 = gmem__ovmf_parse(img, len, o, &why);
	if (r1 && (r1 != -EINVAL || !why || !*why || strchr(why, '\n')))
		FAIL("parse: %d (%s)", r1, why ? why : "no reason");
	if (r1)
		goto out;
	if (o->size != len || o->gpa != (1ULL << 32) - len)
		FAIL("image size or gpa");
	check_sections(o);
	for (unsigned i = 0; i < o->nsections; i++)
		pages += o->sec[i].size / PG;
	if (pages > MAX_MEASURED_PAGES)
		goto out;

	in.ovmf = o;
	in.vcpus = size > PG ? 1 + data[0] % 3 : 1;
	in.vcpu_sig = 0x800f12;
	in.guest_features = 1;
	in.step = step;
	nsteps = 0;
	why = NULL;
	r1 = gmem__snp_measure(&in, d1, &why);
	in.step = NULL;
	r2 = gmem__snp_measure(&in, d2, NULL);
	if (r1 != r2)
		FAIL("measure: %d then %d", r1, r2);
	if (r1 == -ENOENT && o->has_metadata)
		FAIL("-ENOENT with metadata");
	if (r1 && r1 != -ENOENT && r1 != -EINVAL)
		FAIL("measure: %d", r1);
	if (r1 && (!why || strchr(why, '\n')))
		FAIL("measure: %d without a one-line reason", r1);
	if (r1 == -EINVAL && !(in.vcpus > 1 && !o->reset_eip))
		FAIL("measure refused a parsed image: %s", why);
	if (!r1 && (memcmp(d1, d2, 48) || memcmp(d1, last, 48) ||
		    nsteps != 1 + o->nsections + in.vcpus))
		FAIL("digest not reproducible or steps inconsistent (%u steps)", nsteps);
out:
	free(o);
	free(img);
	return 0;
}
