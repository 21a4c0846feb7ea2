/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: random sequences of public API calls, decoded from the
 * input, run against a small reference model of a gmem; any divergence or
 * broken invariant aborts (a finding).
 *
 * The model holds, per page: the attribute, the pin count, the vendor state
 * (SNP RMP / TDX S-EPT), the physical bytes and, on encrypting platforms,
 * the plaintext the guest reads when it is known.  Bytes the model cannot
 * predict (ciphertext, sw_protected's scramble) are learnt right after the
 * call that made them, so from then on any change not caused by a
 * documented operation is caught.  After every call: the library's
 * attributes, pins, vendor state, physical bytes, statistics and host view
 * (shared pages show the model's bytes, private pages raise SIGBUS) must
 * match, and tests/invariants.h's inv_check() must pass.  Error returns
 * are checked exactly for conversions (DESIGN.md §2) and pins, and as
 * "a negative errno, nothing changed" elsewhere.
 *
 * Input: 4 header bytes (platform, policy, size in pages, flags), then ops
 * of one opcode byte and a few argument bytes each; missing bytes read 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmem/gmem.h"
#include "gmem/snp.h"
#include "invariants.h"

#define PG GMEM_PAGE_SIZE
#define MAXP 16
#define MAX_OPS 64

#define U_ GMEM_MODES_UNSPECIFIED
#define Z_ GMEM_CONTENT_ZERO
#define P_ GMEM_CONTENT_PRESERVE

enum { PL_DEFAULT, PL_SW, PL_SNP, PL_TDX, PL_PKVM, PL_NR };
static const char *const plat_names[PL_NR] = {
	"default", "sw_protected", "snp", "tdx", "pkvm",
};
static const char *const policy_names[3] = { "seed", "rfc-v5", "upstream" };

/* DESIGN.md §2, independently of src/policy.c:
 * [policy][platform][to_private][finalized] -> accepted modes */
static const uint64_t modes_table[3][PL_NR][2][2] = {
	{	/* seed */
		[PL_DEFAULT] = { { U_|Z_|P_, U_|Z_|P_ }, { U_|Z_|P_, U_|Z_|P_ } },
		[PL_SW]      = { { U_|Z_|P_, U_|Z_|P_ }, { U_|Z_|P_, U_|Z_|P_ } },
		[PL_SNP]     = { { U_|Z_|P_, U_|Z_|P_ }, { U_|P_, U_|P_ } },
		[PL_TDX]     = { { U_|Z_, U_|Z_ },       { U_|Z_|P_, U_|Z_|P_ } },
		[PL_PKVM]    = { { U_|Z_|P_, U_|Z_|P_ }, { U_|Z_|P_, U_|Z_|P_ } },
	},
	{	/* rfc-v5 */
		[PL_DEFAULT] = { { U_, U_ },             { U_, U_ } },
		[PL_SW]      = { { U_|Z_|P_, U_|Z_|P_ }, { U_|P_, U_|P_ } },
		[PL_SNP]     = { { U_|Z_, U_|Z_ },       { U_|P_, U_ } },
		[PL_TDX]     = { { U_|Z_, U_|Z_ },       { U_|P_, U_ } },
		[PL_PKVM]    = { { U_, U_ },             { U_, U_ } },
	},
	{	/* upstream */
		[PL_DEFAULT] = { { U_, U_ }, { U_, U_ } },
		[PL_SW]      = { { U_, U_ }, { U_, U_ } },
		[PL_SNP]     = { { U_, U_ }, { U_, U_ } },
		[PL_TDX]     = { { U_, U_ }, { U_, U_ } },
		[PL_PKVM]    = { { U_, U_ }, { U_, U_ } },
	},
};

struct mpage {
	int priv;
	int pins;
	int vendor;
	int phys_known;
	int gpt_known;		/* encrypting platforms: guest plaintext */
	/* Aligned: a page may be read as a CPUID table. */
	uint8_t phys[PG] __attribute__((aligned(64)));
	uint8_t gpt[PG] __attribute__((aligned(64)));
};

struct model {
	int plat, policy, finalized, encrypts, vendor;
	unsigned np;
	uint64_t flags;
	struct mpage p[MAXP];
	struct gmem_stats st;	/* conversions, pages_to_* */
};

struct input {
	const uint8_t *d;
	size_t n, i;
};

static uint8_t in8(struct input *in)
{
	return in->i < in->n ? in->d[in->i++] : 0;
}

static int in_more(const struct input *in) { return in->i < in->n; }

static struct model M;
static struct gmem_vm *vm;
static struct gmem *g;
static uint8_t *view;
static unsigned long n_calls;
static uint8_t buf[2 * PG] __attribute__((aligned(64)));
static uint8_t buf2[2 * PG] __attribute__((aligned(64)));

#define DIVERGE(...) do {						\
	fprintf(stderr, "fuzz_api: divergence at call %lu (%s): ",	\
		n_calls, plat_names[M.plat]);				\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)

static void fill(uint8_t *b, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 31u + i * 13u + (i >> 8) + 1u);
}

static int vendor_initial(void)
{
	return M.plat == PL_SNP ? GMEM_RMP_SHARED : GMEM_SEPT_UNMAPPED;
}

/* ---- learning and comparing ----------------------------------------------- */

static void learn(void)
{
	for (unsigned i = 0; i < M.np; i++) {
		struct mpage *p = &M.p[i];

		if (p->phys_known)
			continue;
		if (gmem_physical_read(g, i * PG, p->phys, PG))
			DIVERGE("physical read of page %u failed", i);
		p->phys_known = 1;
		if (!M.encrypts && p->priv) {
			memcpy(p->gpt, p->phys, PG);
			p->gpt_known = 1;
		}
	}
}

static unsigned model_runs(void)
{
	unsigned runs = 1;

	for (unsigned i = 1; i < M.np; i++)
		runs += M.p[i].priv != M.p[i - 1].priv;
	return runs;
}

static void compare(void)
{
	struct inv_msg m = { .n = 0, .buf = "" };
	struct gmem_stats st;

	learn();
	for (unsigned i = 0; i < M.np; i++) {
		struct mpage *p = &M.p[i];
		struct gmem_page_info pi;

		if (gmem_page_info(g, i * PG, &pi))
			DIVERGE("page_info %u", i);
		if (!!(pi.attributes & GMEM_ATTR_PRIVATE) != p->priv)
			DIVERGE("page %u: private %d, model %d", i,
				!!pi.attributes, p->priv);
		if (pi.pinned != p->pins)
			DIVERGE("page %u: %d pins, model %d", i, pi.pinned, p->pins);
		if (M.vendor && pi.vendor_state != p->vendor)
			DIVERGE("page %u: vendor state %d, model %d", i,
				pi.vendor_state, p->vendor);
		if (gmem_physical_read(g, i * PG, buf, PG))
			DIVERGE("physical read %u", i);
		if (memcmp(buf, p->phys, PG))
			DIVERGE("page %u: physical bytes changed outside any documented operation", i);
		if (!view)
			continue;
		if (p->priv) {
			if (inv_readable(view + i * PG))
				DIVERGE("private page %u readable through the host view", i);
		} else if (inv_probe_copy(buf, view + i * PG, PG)) {
			DIVERGE("shared page %u raises SIGBUS in the host view", i);
		} else if (memcmp(buf, p->phys, PG)) {
			DIVERGE("shared page %u: the host view shows other bytes", i);
		}
	}
	if (gmem_get_stats(g, &st))
		DIVERGE("stats");
	if (st.conversions != M.st.conversions ||
	    st.pages_to_private != M.st.pages_to_private ||
	    st.pages_to_shared != M.st.pages_to_shared)
		DIVERGE("stats: conversions %llu/%llu, to_private %llu/%llu, to_shared %llu/%llu (library/model)",
			(unsigned long long)st.conversions,
			(unsigned long long)M.st.conversions,
			(unsigned long long)st.pages_to_private,
			(unsigned long long)M.st.pages_to_private,
			(unsigned long long)st.pages_to_shared,
			(unsigned long long)M.st.pages_to_shared);
	if (st.ranges != model_runs())
		DIVERGE("stats.ranges %llu, model %u", (unsigned long long)st.ranges,
			model_runs());
	/* The view was compared above: the rest of the invariants. */
	if (inv_check(g, NULL, &m))
		DIVERGE("invariant: %s", m.buf);
	if (gmem_vm_is_finalized(vm) != M.finalized)
		DIVERGE("finalized %d, model %d", gmem_vm_is_finalized(vm), M.finalized);
}

/* ---- operations ------------------------------------------------------------ */

static uint64_t accepted_modes(int to_private)
{
	return modes_table[M.policy][M.plat][to_private][M.finalized];
}

static void page_to_private(struct mpage *p, uint64_t mode)
{
	p->priv = 1;
	p->gpt_known = 0;
	if (mode == Z_) {
		memset(p->phys, 0, PG);
	} else if (mode == 0 && M.plat == PL_SW) {
		p->phys_known = 0;	/* scrambled */
	}
	M.st.pages_to_private++;
}

static void page_to_shared(struct mpage *p, uint64_t mode)
{
	p->priv = 0;
	p->gpt_known = 0;
	if (M.plat == PL_TDX && p->vendor == GMEM_SEPT_MAPPED)
		memset(p->phys, 0, PG);		/* S-EPT removal clears it */
	else if (mode == Z_)
		memset(p->phys, 0, PG);
	else if (mode == 0 && M.plat == PL_SW)
		p->phys_known = 0;
	if (M.vendor)
		p->vendor = vendor_initial();
	M.st.pages_to_shared++;
}

static void op_convert(struct input *in)
{
	uint8_t a = in8(in), b = in8(in), c = in8(in), bad = in8(in);
	static const uint64_t mode_of[4] = { 0, Z_, P_, Z_ | P_ };
	struct gmem_attributes2 at = {
		.offset = (uint64_t)(a % (M.np + 1)) * PG,
		.size = (uint64_t)(b % (M.np + 1)) * PG,
		.attributes = (c & 1) ? GMEM_ATTR_PRIVATE : 0,
		.flags = mode_of[(c >> 1) & 3],
	};
	int to_private = c & 1, want, ret;
	uint64_t mode = at.flags, end;

	/* Now and then one malformed field (DESIGN.md §2 -EINVAL list). */
	switch (bad % 16) {
	case 1: at.offset += 1 + bad; break;
	case 2: at.size += 512; break;
	case 3: at.reserved[bad % 11] = 1; break;
	case 4: at.error_offset = PG; break;
	case 5: at.flags |= 1ULL << (2 + bad % 60); break;
	case 6: at.attributes |= 1ULL << (bad % 64); break;
	case 7: at.size = ~0ULL & ~(PG - 1); break;
	default: break;
	}
	end = at.offset + at.size;
	if ((at.flags & ~(Z_ | P_)) || (at.flags && M.policy == 2) ||
	    (at.attributes & ~GMEM_ATTR_PRIVATE) || at.flags == (Z_ | P_) ||
	    (bad % 16) == 3 || ((bad % 16) == 4 && M.policy != 2) || !at.size ||
	    (at.offset | at.size) % PG || end < at.offset ||
	    end > M.np * PG) {
		want = -EINVAL;
	} else if (!(accepted_modes(to_private) & (mode ? mode : U_))) {
		want = -EOPNOTSUPP;
	} else {
		want = 0;
		for (uint64_t o = at.offset; to_private && o < end; o += PG) {
			if (M.p[o / PG].pins) {
				want = -EAGAIN;
				break;
			}
		}
	}
	ret = gmem_set_memory_attributes(g, &at);
	if (ret != want)
		DIVERGE("convert off %#llx size %#llx attrs %#llx flags %#llx: %d, model %d",
			(unsigned long long)at.offset, (unsigned long long)at.size,
			(unsigned long long)at.attributes,
			(unsigned long long)at.flags, ret, want);
	if (want == -EAGAIN) {
		uint64_t o = at.offset;

		while (!M.p[o / PG].pins)
			o += PG;
		if (at.error_offset != o)
			DIVERGE("EAGAIN error_offset %#llx, first pinned %#llx",
				(unsigned long long)at.error_offset,
				(unsigned long long)o);
	}
	if (want == -EOPNOTSUPP && at.error_offset != at.offset)
		DIVERGE("EOPNOTSUPP error_offset %#llx, offset %#llx",
			(unsigned long long)at.error_offset,
			(unsigned long long)at.offset);
	if (want)
		return;
	for (uint64_t o = at.offset; o < end; o += PG) {
		struct mpage *p = &M.p[o / PG];

		if (p->priv == to_private)
			continue;	/* no state change: no content mode */
		if (to_private)
			page_to_private(p, mode);
		else
			page_to_shared(p, mode);
	}
	M.st.conversions++;
}

static void op_punch(struct input *in)
{
	uint8_t a = in8(in), b = in8(in), bad = in8(in);
	uint64_t off = (uint64_t)(a % (M.np + 2)) * PG;
	uint64_t len = (uint64_t)(b % (M.np + 2)) * PG;
	int ret;

	if (bad % 8 == 1)
		off += 8;
	ret = gmem_punch_hole(g, off, len);
	if (bad % 8 == 1 || !len) {
		if (ret >= 0)
			DIVERGE("punch %#llx+%#llx (malformed): %d",
				(unsigned long long)off, (unsigned long long)len, ret);
		return;
	}
	if (ret)
		DIVERGE("punch %#llx+%#llx: %d", (unsigned long long)off,
			(unsigned long long)len, ret);
	/* Past the end is clipped to the file, as fallocate(2) does. */
	for (uint64_t o = off; o < off + len && o < M.np * PG; o += PG) {
		struct mpage *p = &M.p[o / PG];

		memset(p->phys, 0, PG);
		p->phys_known = 1;
		if (M.vendor)
			p->vendor = vendor_initial();
		if (M.encrypts)
			p->gpt_known = 0;
		else if (p->priv)
			memset(p->gpt, 0, PG);
	}
}

static void op_pin(struct input *in, int pin)
{
	uint8_t a = in8(in);
	unsigned page = a % (M.np + 1);
	int ret = pin ? gmem_pin(g, (uint64_t)page * PG)
		      : gmem_unpin(g, (uint64_t)page * PG);
	int want;

	if (page >= M.np)
		want = -EINVAL;
	else if (pin)
		want = M.p[page].priv ? -EFAULT : 0;
	else
		want = M.p[page].pins ? 0 : -EINVAL;
	if (ret != want)
		DIVERGE("%s page %u: %d, model %d", pin ? "pin" : "unpin", page,
			ret, want);
	if (!ret)
		M.p[page].pins += pin ? 1 : -1;
}

static void op_host(struct input *in, int write)
{
	uint8_t a = in8(in), seed = in8(in);
	unsigned page = a % M.np;
	struct mpage *p = &M.p[page];
	int ret;

	if (!view)
		return;
	if (write) {
		fill(buf, PG, seed);
		ret = inv_probe_store(view + page * PG, buf, PG);
		if (!ret)
			memcpy(p->phys, buf, PG);
	} else {
		ret = inv_probe_copy(buf, view + page * PG, PG);
		if (!ret && memcmp(buf, p->phys, PG))
			DIVERGE("host read of page %u differs", page);
	}
	if ((ret != 0) != p->priv)
		DIVERGE("host %s of %s page %u: %s", write ? "write" : "read",
			p->priv ? "private" : "shared", page,
			ret ? "SIGBUS" : "went through");
}

static void op_guest_shared(struct input *in, int write)
{
	uint8_t a = in8(in), b = in8(in), c = in8(in), seed = in8(in);
	uint64_t off = (uint64_t)(a % M.np) * PG + (uint64_t)b * 16;
	uint64_t len = 1 + (uint64_t)c * 24;
	int want = 0, ret;

	if (off + len > M.np * PG)
		want = -EINVAL;
	for (uint64_t o = off & ~(PG - 1); !want && o < off + len; o += PG)
		if (M.p[o / PG].priv)
			want = -EFAULT;
	if (write)
		fill(buf, len, seed);
	ret = gmem_guest_access(g, off, buf, len, write ? GMEM_ACCESS_WRITE
							: GMEM_ACCESS_READ);
	if (ret != want)
		DIVERGE("guest shared %s %#llx+%llu: %d, model %d",
			write ? "write" : "read", (unsigned long long)off,
			(unsigned long long)len, ret, want);
	if (ret)
		return;
	for (uint64_t i = 0; i < len; i++) {
		struct mpage *p = &M.p[(off + i) / PG];
		uint64_t po = (off + i) % PG;

		if (write)
			p->phys[po] = buf[i];
		else if (buf[i] != p->phys[po])
			DIVERGE("guest shared read %#llx differs",
				(unsigned long long)(off + i));
	}
}

/* Within one page: the platform decides page by page. */
static void op_guest_private(struct input *in, int write)
{
	uint8_t a = in8(in), b = in8(in), c = in8(in), seed = in8(in);
	unsigned page = a % M.np;
	uint64_t po = (uint64_t)b * 16 % PG, len = 1 + (uint64_t)c * 16;
	struct mpage *p = &M.p[page];
	int want = 0, ret, accept = 0;

	if (po + len > PG)
		len = PG - po;
	if (!p->priv) {
		want = -EFAULT;
	} else if (M.plat == PL_SNP) {
		if (p->vendor != GMEM_RMP_VALIDATED)
			want = -EFAULT;
	} else if (M.plat == PL_TDX && p->vendor != GMEM_SEPT_MAPPED) {
		if (!M.finalized)
			want = -EFAULT;
		else
			accept = 1;	/* TDH.MEM.PAGE.AUG: a zeroed page */
	}
	if (write)
		fill(buf, len, seed);
	ret = gmem_guest_access(g, page * PG + po, buf, len,
				(write ? GMEM_ACCESS_WRITE : GMEM_ACCESS_READ) |
				GMEM_ACCESS_PRIVATE);
	if (ret != want)
		DIVERGE("guest private %s page %u +%llu len %llu: %d, model %d",
			write ? "write" : "read", page, (unsigned long long)po,
			(unsigned long long)len, ret, want);
	if (ret)
		return;
	if (accept) {
		p->vendor = GMEM_SEPT_MAPPED;
		memset(p->gpt, 0, PG);
		p->gpt_known = 1;
		p->phys_known = 0;
	}
	if (!M.encrypts) {
		if (write)
			memcpy(p->phys + po, buf, len);
		else if (memcmp(buf, p->phys + po, len))
			DIVERGE("guest private read of page %u differs", page);
		return;
	}
	if (write) {
		memcpy(p->gpt + po, buf, len);
		p->phys_known = 0;	/* new ciphertext */
	} else if (p->gpt_known && memcmp(buf, p->gpt + po, len)) {
		DIVERGE("guest private read of page %u: not what the guest wrote", page);
	}
}

static void op_physical(struct input *in)
{
	uint8_t a = in8(in), b = in8(in);
	uint64_t off = (uint64_t)(a % (M.np + 1)) * PG + b;
	uint64_t len = 1 + (uint64_t)b * 9;
	int ret = gmem_physical_read(g, off, buf, len);
	int want = off + len > M.np * PG ? -EINVAL : 0;

	if (ret != want)
		DIVERGE("physical read %#llx+%llu: %d, model %d",
			(unsigned long long)off, (unsigned long long)len, ret, want);
	for (uint64_t i = 0; !ret && i < len; i++)
		if (buf[i] != M.p[(off + i) / PG].phys[(off + i) % PG])
			DIVERGE("physical read %#llx differs",
				(unsigned long long)(off + i));
}

static void op_mmap(void)
{
	uint8_t *v = gmem_mmap(g);

	if (!(M.flags & GMEM_FLAG_MMAP)) {
		if (v || errno != ENODEV)
			DIVERGE("gmem_mmap without GMEM_FLAG_MMAP: %p errno %d",
				(void *)v, errno);
		return;
	}
	if (!v || (view && v != view))
		DIVERGE("gmem_mmap: %p (was %p), errno %d", (void *)v,
			(void *)view, errno);
	view = v;
}

static void op_finalize(void)
{
	int ret = gmem_vm_finalize(vm), want = M.finalized ? -EINVAL : 0;

	if (ret != want)
		DIVERGE("finalize: %d, model %d", ret, want);
	M.finalized = 1;
}

static int range_is(uint64_t off, uint64_t len, int priv, int vendor)
{
	for (uint64_t o = off; o < off + len; o += PG)
		if (M.p[o / PG].priv != priv || M.p[o / PG].vendor != vendor)
			return 0;
	return 1;
}

static void op_launch(struct input *in)
{
	uint8_t a = in8(in), b = in8(in), t = in8(in);
	uint64_t off = (uint64_t)(a % M.np) * PG;
	uint64_t len = (uint64_t)(1 + b % 4) * PG;
	unsigned type = t % 8, fw = 99;
	int want = 0, ret;
	uint64_t fail_at = ~0ULL;

	if (M.plat != PL_SNP) {
		ret = gmem_snp_launch_update(g, off, PG, GMEM_SNP_PAGE_NORMAL, &fw);
		if (ret != -EINVAL)
			DIVERGE("launch update on %s: %d", plat_names[M.plat], ret);
		return;
	}
	if (off + len > M.np * PG || type < 1 || type > 6 || M.finalized ||
	    !range_is(off, len, 1, GMEM_RMP_SHARED))
		want = -EINVAL;
	if (!want && type == GMEM_SNP_PAGE_CPUID) {
		for (uint64_t o = off; o < off + len; o += PG) {
			memcpy(buf2, M.p[o / PG].phys, PG);
			if (gmem_snp_cpuid_check((struct gmem_snp_cpuid_table *)buf2,
						 NULL)) {
				fail_at = o;
				want = -EIO;
				break;
			}
		}
	}
	ret = gmem_snp_launch_update(g, off, len, type, &fw);
	if (ret != want)
		DIVERGE("launch update %#llx+%#llx type %u: %d, model %d",
			(unsigned long long)off, (unsigned long long)len, type,
			ret, want);
	if (ret == -EINVAL)
		return;
	if (ret == -EIO && fw != GMEM_SEV_RET_INVALID_PARAM)
		DIVERGE("CPUID refused with firmware error %#x", fw);
	/* All or nothing: a refused CPUID page launches no page of the
	 * range, and keeps the firmware's correction. */
	for (uint64_t o = off; !ret && o < off + len; o += PG) {
		struct mpage *p = &M.p[o / PG];

		p->vendor = GMEM_RMP_VALIDATED;
		if (type == GMEM_SNP_PAGE_ZERO) {
			memset(p->gpt, 0, PG);
		} else if (type == GMEM_SNP_PAGE_SECRETS) {
			p->gpt_known = 0;
			p->phys_known = 0;
			continue;
		} else {
			memcpy(p->gpt, p->phys, PG);
		}
		p->gpt_known = 1;
		p->phys_known = 0;
	}
	if (fail_at != ~0ULL) {
		/* The firmware writes back the values it accepts; the page
		 * stays hypervisor-owned. */
		struct mpage *p = &M.p[fail_at / PG];

		gmem_snp_cpuid_check((struct gmem_snp_cpuid_table *)p->phys, NULL);
	}
}

static void op_tdx_add(struct input *in)
{
	uint8_t a = in8(in), b = in8(in), meas = in8(in);
	uint64_t off = (uint64_t)(a % M.np) * PG;
	uint64_t len = (uint64_t)(1 + b % 4) * PG;
	int want = 0, ret;

	if (M.plat != PL_TDX) {
		if (gmem_tdx_page_add(g, off, PG, 1) != -EINVAL)
			DIVERGE("page add on %s", plat_names[M.plat]);
		return;
	}
	if (off + len > M.np * PG || M.finalized ||
	    !range_is(off, len, 1, GMEM_SEPT_UNMAPPED))
		want = -EINVAL;
	ret = gmem_tdx_page_add(g, off, len, meas & 1);
	if (ret != want)
		DIVERGE("page add %#llx+%#llx: %d, model %d",
			(unsigned long long)off, (unsigned long long)len, ret, want);
	if (ret)
		return;
	for (uint64_t o = off; o < off + len; o += PG) {
		struct mpage *p = &M.p[o / PG];

		p->vendor = GMEM_SEPT_MAPPED;
		memcpy(p->gpt, p->phys, PG);
		p->gpt_known = 1;
		p->phys_known = 0;
	}
}

static void op_pvalidate(struct input *in)
{
	uint8_t a = in8(in), b = in8(in), v = in8(in);
	uint64_t off = (uint64_t)(a % M.np) * PG;
	uint64_t len = (uint64_t)(1 + b % 4) * PG;
	int want = 0, ret;

	if (M.plat != PL_SNP)
		return;
	if (off + len > M.np * PG || !M.finalized) {
		want = -EINVAL;
	} else {
		for (uint64_t o = off; o < off + len; o += PG)
			if (!M.p[o / PG].priv)
				want = -EFAULT;
	}
	ret = gmem_snp_pvalidate(g, off, len, v & 1);
	if (ret != want)
		DIVERGE("pvalidate %#llx+%#llx: %d, model %d",
			(unsigned long long)off, (unsigned long long)len, ret, want);
	for (uint64_t o = off; !ret && o < off + len; o += PG)
		M.p[o / PG].vendor = (v & 1) ? GMEM_RMP_VALIDATED : GMEM_RMP_ASSIGNED;
}

static void op_query(struct input *in)
{
	uint8_t a = in8(in), b = in8(in);
	uint64_t off = (uint64_t)(a % (M.np + 1)) * PG + (b & 1 ? 8 : 0);
	uint64_t attrs = 0, run = 0, modes = 0, want_run = 0;
	int ret = gmem_get_memory_attributes(g, off, &attrs, &run);

	if (off % PG || off >= M.np * PG) {
		if (ret != -EINVAL)
			DIVERGE("attributes at %#llx: %d", (unsigned long long)off, ret);
	} else {
		unsigned i = (unsigned)(off / PG);

		for (unsigned j = i; j < M.np && M.p[j].priv == M.p[i].priv; j++)
			want_run += PG;
		if (ret || !!attrs != M.p[i].priv || run != want_run)
			DIVERGE("attributes at page %u: %d %#llx run %#llx, model run %#llx",
				i, ret, (unsigned long long)attrs,
				(unsigned long long)run, (unsigned long long)want_run);
	}
	for (int to_private = 0; to_private < 2; to_private++) {
		uint64_t want = accepted_modes(to_private);

		if (gmem_vm_content_modes(vm, to_private ? GMEM_ATTR_PRIVATE : 0,
					  &modes) || modes != want)
			DIVERGE("content modes to %s: %#llx, model %#llx",
				to_private ? "private" : "shared",
				(unsigned long long)modes, (unsigned long long)want);
	}
}

/* ---- the target -------------------------------------------------------------- */

static void setup(struct input *in)
{
	uint8_t plat = in8(in), pol = in8(in), np = in8(in), fl = in8(in);
	int ret;

	memset(&M, 0, sizeof(M));
	M.plat = plat % PL_NR;
	M.policy = pol % 3;
	M.np = 1 + np % MAXP;
	M.flags = fl & (GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	M.encrypts = M.plat == PL_SNP || M.plat == PL_TDX;
	M.vendor = M.encrypts;
	ret = gmem_vm_create(&vm, plat_names[M.plat], policy_names[M.policy]);
	if (ret)
		DIVERGE("vm_create: %d", ret);
	ret = gmem_create(vm, M.np * PG, M.flags, &g);
	if (ret)
		DIVERGE("gmem_create: %d", ret);
	for (unsigned i = 0; i < M.np; i++) {
		M.p[i].priv = !(M.flags & GMEM_FLAG_INIT_SHARED);
		M.p[i].phys_known = 1;	/* zeros */
		M.p[i].gpt_known = !M.encrypts;
		if (M.vendor)
			M.p[i].vendor = vendor_initial();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The emulated backend unless told otherwise: fast and exact. */
	setenv("GMEM_BACKEND", getenv("FUZZ_BACKEND") ? getenv("FUZZ_BACKEND")
						      : "emulated", 1);
	setenv("GMEM_SCRAMBLE_SEED", "1", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int installed;
	struct input in = { .d = data, .n = size };
	unsigned ops = 0;

	if (!installed) {	/* after libFuzzer's own handlers */
		inv_sigbus_install();
		installed = 1;
	}
	n_calls = 0;
	view = NULL;
	setup(&in);
	compare();
	while (in_more(&in) && ops++ < MAX_OPS) {
		uint8_t op = in8(&in);

		n_calls++;
		switch (op % 20) {
		case 0: case 1: case 2: op_convert(&in); break;
		case 3: op_punch(&in); break;
		case 4: op_pin(&in, 1); break;
		case 5: op_pin(&in, 0); break;
		case 6: op_host(&in, 1); break;
		case 7: op_host(&in, 0); break;
		case 8: op_guest_shared(&in, 1); break;
		case 9: op_guest_shared(&in, 0); break;
		case 10: op_guest_private(&in, 1); break;
		case 11: op_guest_private(&in, 0); break;
		case 12: op_physical(&in); break;
		case 13: op_mmap(); break;
		case 14: op_finalize(); break;
		case 15: op_launch(&in); break;
		case 16: op_tdx_add(&in); break;
		case 17: op_pvalidate(&in); break;
		case 18: op_query(&in); break;
		default: op_mmap(); break;
		}
		compare();
	}
	gmem_vm_destroy(vm);
	vm = NULL;
	g = NULL;
	return 0;
}
