/* SPDX-License-Identifier: MIT */
/*
 * The CPUID policy of the modelled SEV-SNP firmware on this host: what the
 * platform supports is what KVM_GET_SUPPORTED_CPUID says, so that a CPUID
 * page a VMM builds from it passes as it does on real hardware; on top
 * come the SNP policy rules (bits the firmware never lets a guest see) and
 * the bits GMEM_COMPAT_SNP_CPUID_REFUSE names, which drive the rejection
 * path through an unmodified VMM.
 *
 * The platform's features are the processor's (the CPUID instruction),
 * those KVM offers on top of it (KVM_GET_SUPPORTED_CPUID: x2APIC, the
 * hypervisor bit, ...) and those every SNP platform has (TOPOEXT).  Per entry of the page (SEV-SNP firmware ABI,
 * "CPUID Reporting"):
 *   - reserved fields and the table's reserved words must be zero;
 *   - the highest standard function may not exceed the host's, the
 *     highest extended one the host's or 0x80000028 (an SNP platform's), whichever is larger;
 *   - feature registers (functions 1, 7, 0xD subleaf 1, 0x80000001,
 *     0x80000008 EBX) may only have bits the platform supports;
 *   - the SNP rules and the refused bits must be clear.
 * Other values (signatures, topology, cache and XSAVE sizes) pass.  A
 * violation is corrected in the table, as the firmware writes back the
 * values it would accept.  No system call here: the caller gives the
 * host's KVM_GET_SUPPORTED_CPUID entries (fuzz/fuzz_sev.c drives this
 * file alone).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cpuid.h>

#include "compat.h"
#include "gmem/uapi.h"

#define MAX_HOST 256
#define MAX_RULES 64
#define ANY 0xffffffffU

struct rule {
	uint32_t fn, idx;	/* idx ANY: every subleaf */
	unsigned reg;		/* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint32_t clear;		/* bits that must be clear */
};

struct compat_snp_cpuid {
	unsigned nhost;
	struct kvm_cpuid_entry2 host[MAX_HOST];
	unsigned nrules;
	struct rule rules[MAX_RULES];
};

/* Bits the firmware's policy refuses whatever the host offers: the TSC
 * deadline timer, which an SNP guest cannot be given (KVM does not
 * emulate it for protected guests; QEMU clears it for SNP). */
static const struct rule snp_rules[] = {
	{ 0x00000001, ANY, 2, 1U << 24 },
};

/* Bits every SEV-SNP platform has, whatever this host is: topology
 * extensions (AMD's leaf 0x8000001E, which QEMU's EPYC models enable). */
static const struct feat_bits {
	uint32_t fn, idx;
	unsigned reg;
	uint32_t bits;
} snp_platform_bits[] = {
	{ 0x80000001, ANY, 2, 1U << 22 },
};

/* The SNP platform reports AMD's extended leaves up to 0x80000028
 * (encrypted memory 0x8000001F, extended features 0x80000021, ...). */
#define SNP_MIN_MAX_EXT 0x80000028U

/* Registers whose bits are features: the host's set bounds them. */
struct feat_reg { uint32_t fn, idx; unsigned reg; };
static const struct feat_reg feat_regs[] = {
	{ 0x00000001, ANY, 2 }, { 0x00000001, ANY, 3 },
	{ 0x00000007, 0, 1 }, { 0x00000007, 0, 2 }, { 0x00000007, 0, 3 },
	{ 0x00000007, 1, 0 },
	{ 0x0000000d, 1, 0 },
	{ 0x80000001, ANY, 2 }, { 0x80000001, ANY, 3 },
	{ 0x80000008, ANY, 1 },
};

static uint32_t *reg_of(struct gmem_snp_cpuid_fn *f, unsigned r)
{
	switch (r) {
	case 0: return &f->eax;
	case 1: return &f->ebx;
	case 2: return &f->ecx;
	default: return &f->edx;
	}
}

static uint32_t host_reg(const struct kvm_cpuid_entry2 *e, unsigned r)
{
	switch (r) {
	case 0: return e->eax;
	case 1: return e->ebx;
	case 2: return e->ecx;
	default: return e->edx;
	}
}

/* The processor's own answer (0 past its highest function), with the
 * bits every SNP platform has. */
static uint32_t cpu_reg(uint32_t fn, uint32_t idx, unsigned r)
{
	unsigned int a = 0, b = 0, c = 0, d = 0;
	uint32_t extra = 0;

	for (size_t i = 0; i < sizeof(snp_platform_bits) / sizeof(snp_platform_bits[0]); i++) {
		const struct feat_bits *f = &snp_platform_bits[i];

		if (f->fn == fn && f->reg == r && (f->idx == ANY || f->idx == idx))
			extra |= f->bits;
	}

	if ((uint32_t)__get_cpuid_max(fn & 0x80000000U, NULL) < fn)
		return extra;
	__cpuid_count(fn, idx, a, b, c, d);
	switch (r) {
	case 0: return a | extra;
	case 1: return b | extra;
	case 2: return c | extra;
	default: return d | extra;
	}
}

static const struct kvm_cpuid_entry2 *host_entry(const struct compat_snp_cpuid *p,
						 uint32_t fn, uint32_t idx)
{
	for (unsigned i = 0; i < p->nhost; i++) {
		const struct kvm_cpuid_entry2 *e = &p->host[i];

		if (e->function == fn &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == idx))
			return e;
	}
	return NULL;
}

static int parse_reg(const char *s, size_t n, unsigned *reg)
{
	static const char *names[] = { "eax", "ebx", "ecx", "edx" };

	for (unsigned i = 0; i < 4; i++) {
		if (n == 3 && !strncmp(s, names[i], 3)) {
			*reg = i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * GMEM_COMPAT_SNP_CPUID_REFUSE: comma-separated LEAF:SUBLEAF:REG:MASK, LEAF
 * and MASK in C notation (0x...), SUBLEAF a number or '*', REG one of
 * eax, ebx, ecx, edx.  The firmware refuses those bits.  A malformed list
 * is -EINVAL (LAUNCH_START then fails).
 */
static int compat_snp_cpuid_parse_refuse(const char *s, struct rule *out,
					 unsigned max, unsigned *n)
{
	*n = 0;
	while (s && *s) {
		struct rule r;
		char *end;
		const char *colon;

		r.fn = (uint32_t)strtoul(s, &end, 0);
		if (end == s || *end != ':')
			return -EINVAL;
		s = end + 1;
		if (*s == '*') {
			r.idx = ANY;
			end = (char *)s + 1;
		} else {
			r.idx = (uint32_t)strtoul(s, &end, 0);
			if (end == s)
				return -EINVAL;
		}
		if (*end != ':')
			return -EINVAL;
		s = end + 1;
		colon = strchr(s, ':');
		if (!colon || parse_reg(s, (size_t)(colon - s), &r.reg))
			return -EINVAL;
		s = colon + 1;
		r.clear = (uint32_t)strtoul(s, &end, 0);
		if (end == s || (*end && *end != ','))
			return -EINVAL;
		if (*n >= max)
			return -E2BIG;
		out[(*n)++] = r;
		s = *end ? end + 1 : end;
	}
	return 0;
}

int compat_snp_cpuid_new(struct compat_snp_cpuid **pp,
			 const struct kvm_cpuid_entry2 *host, unsigned nhost,
			 const char *refuse)
{
	struct compat_snp_cpuid *p;
	unsigned n = 0;
	int ret;

	*pp = NULL;
	if (nhost > MAX_HOST)
		return -E2BIG;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nhost = nhost;
	if (nhost)
		memcpy(p->host, host, nhost * sizeof(*host));
	memcpy(p->rules, snp_rules, sizeof(snp_rules));
	p->nrules = sizeof(snp_rules) / sizeof(snp_rules[0]);
	ret = compat_snp_cpuid_parse_refuse(refuse, p->rules + p->nrules,
					    MAX_RULES - p->nrules, &n);
	if (ret) {
		free(p);
		return ret;
	}
	p->nrules += n;
	*pp = p;
	return 0;
}

void compat_snp_cpuid_free(struct compat_snp_cpuid *p)
{
	free(p);
}

int compat_snp_cpuid_check(void *policy, struct gmem_snp_cpuid_table *t,
			   unsigned *nchanged)
{
	const struct compat_snp_cpuid *p = policy;
	const struct kvm_cpuid_entry2 *max_std = host_entry(p, 0, 0);
	const struct kvm_cpuid_entry2 *max_ext = host_entry(p, 0x80000000, 0);
	unsigned changed = 0;

	*nchanged = 0;
	if (t->count > GMEM_SNP_CPUID_COUNT_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < t->count; i++) {
		struct gmem_snp_cpuid_fn *f = &t->fn[i], want = *f;
		const struct kvm_cpuid_entry2 *h = host_entry(p, f->eax_in, f->ecx_in);

		want.reserved = 0;
		if (f->eax_in == 0 && max_std && want.eax > max_std->eax)
			want.eax = max_std->eax;
		if (f->eax_in == 0x80000000) {
			uint32_t m = max_ext ? max_ext->eax : 0;

			if (m < cpu_reg(0x80000000, 0, 0))
				m = cpu_reg(0x80000000, 0, 0);
			if (m < SNP_MIN_MAX_EXT)
				m = SNP_MIN_MAX_EXT;
			if (want.eax > m)
				want.eax = m;
		}
		for (size_t k = 0; k < sizeof(feat_regs) / sizeof(feat_regs[0]); k++) {
			const struct feat_reg *fr = &feat_regs[k];

			if (fr->fn == f->eax_in &&
			    (fr->idx == ANY || fr->idx == f->ecx_in))
				*reg_of(&want, fr->reg) &=
					(h ? host_reg(h, fr->reg) : 0) |
					cpu_reg(f->eax_in, f->ecx_in, fr->reg);
		}
		for (unsigned k = 0; k < p->nrules; k++) {
			const struct rule *r = &p->rules[k];

			if (r->fn == f->eax_in &&
			    (r->idx == ANY || r->idx == f->ecx_in))
				*reg_of(&want, r->reg) &= ~r->clear;
		}
		if (memcmp(&want, f, sizeof(want))) {
			*f = want;
			changed++;
		}
	}
	if (t->reserved1 || t->reserved2) {
		t->reserved1 = 0;
		t->reserved2 = 0;
		changed++;
	}
	*nchanged = changed;
	return changed ? -EIO : 0;
}
