/* SPDX-License-Identifier: MIT */
/*
 * The modelled SEV-SNP firmware's CPUID check and launch measurement.
 *
 * The platform is a modelled 3rd-generation EPYC ("Milan"-like) part.  Each
 * CPUID function the firmware knows has a policy (SEV-SNP firmware ABI,
 * "CPUID Policy"): a register is either a bitmask of what the platform can
 * offer (reserved bits per the AMD APM vol. 3, appendix E, and features
 * this platform lacks must be clear), an upper bound (maximum leaf numbers),
 * or strict (the vendor string).  Functions it does not know pass as they
 * are.  Reserved entry fields must be zero.  A violation is corrected in
 * the table, as the firmware writes back the values it would accept.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"
#include "platform/snp_fw.h"

#define ANY_INDEX 0xffffffffU

enum reg_rule { R_ANY, R_MASK, R_MAX, R_EQ };

struct reg_policy {
	enum reg_rule rule;
	uint32_t val;	/* mask of allowed bits, bound, or the value */
};

struct fn_policy {
	uint32_t eax_in, ecx_in;	/* ecx_in ANY_INDEX: every subleaf */
	struct reg_policy r[4];		/* eax, ebx, ecx, edx */
};

#define ANY  { R_ANY, 0 }
#define MASK(v) { R_MASK, (v) }
#define MAX(v)  { R_MAX, (v) }
#define EQ(v)   { R_EQ, (v) }

static const struct fn_policy cpuid_policy[] = {
	/* Vendor and highest standard function. */
	{ 0x00000000, ANY_INDEX, { MAX(0x10), EQ(0x68747541), EQ(0x444d4163), EQ(0x69746e65) } },
	/* Family/model/stepping and APIC id are the VMM's; features masked.
	 * ECX bit 16 and the Intel-only bits (DTES64, DS-CPL, VMX, SMX, EIST,
	 * TM2, CNXT-ID, xTPR, PDCM, DCA, TSC-deadline) are clear. */
	{ 0x00000001, ANY_INDEX, { ANY, ANY, MASK(0xfefa320b), MASK(0x178bfbff) } },
	/* Structured extended features, subleaf 0: EDX bit 0 and bits 1-3
	 * are reserved; only FSRM (bit 4) is offered in EDX. */
	{ 0x00000007, 0, { MAX(0), MASK(0x219c97ab), MASK(0x0040069c), MASK(0x00000010) } },
	/* XSAVE: XCR0 components x87, SSE, AVX, PKRU; XSAVEOPT/C/GETBV1/S. */
	{ 0x0000000d, 0, { MASK(0x00000207), ANY, ANY, MASK(0) } },
	{ 0x0000000d, 1, { MASK(0x0000000f), ANY, MASK(0), MASK(0) } },
	/* Highest extended function. */
	{ 0x80000000, ANY_INDEX, { MAX(0x80000021), ANY, ANY, ANY } },
	{ 0x80000001, ANY_INDEX, { ANY, ANY, MASK(0x75c237ff), MASK(0x2fd3fbff) } },
	/* Encrypted memory: SME, SEV, SEV-ES, SEV-SNP, VMPL bits as offered;
	 * the C-bit position and physical address reduction are the
	 * platform's (strict). */
	{ 0x8000001f, ANY_INDEX, { MASK(0x0001781f), EQ(0x00000173), ANY, ANY } },
};

static const struct fn_policy *policy_for(uint32_t eax_in, uint32_t ecx_in)
{
	for (size_t i = 0; i < sizeof(cpuid_policy) / sizeof(cpuid_policy[0]); i++) {
		const struct fn_policy *p = &cpuid_policy[i];

		if (p->eax_in == eax_in &&
		    (p->ecx_in == ANY_INDEX || p->ecx_in == ecx_in))
			return p;
	}
	return NULL;
}

static uint32_t apply(const struct reg_policy *rp, uint32_t v)
{
	switch (rp->rule) {
	case R_MASK:
		return v & rp->val;
	case R_MAX:
		return v > rp->val ? rp->val : v;
	case R_EQ:
		return rp->val;
	case R_ANY:
	default:
		return v;
	}
}

int gmem__snp_cpuid_check(struct gmem_snp_cpuid_table *t, unsigned *nchanged)
{
	unsigned changed = 0;

	if (nchanged)
		*nchanged = 0;
	if (t->count > GMEM_SNP_CPUID_COUNT_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < t->count; i++) {
		struct gmem_snp_cpuid_fn *f = &t->fn[i], want = *f;
		const struct fn_policy *p = policy_for(f->eax_in, f->ecx_in);

		want.reserved = 0;
		if (p) {
			want.eax = apply(&p->r[0], f->eax);
			want.ebx = apply(&p->r[1], f->ebx);
			want.ecx = apply(&p->r[2], f->ecx);
			want.edx = apply(&p->r[3], f->edx);
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
	if (nchanged)
		*nchanged = changed;
	return changed ? -EIO : 0;
}

int gmem_snp_cpuid_check(struct gmem_snp_cpuid_table *t, unsigned *nchanged)
{
	if (!t)
		return -EFAULT;
	return gmem__snp_cpuid_check(t, nchanged);
}

int gmem__snp_measure_page(uint8_t digest[48], const void *page,
			   unsigned type, uint64_t gpa)
{
	uint8_t pi[0x70] = { 0 }, copy[4096];
	unsigned len = 48;

	if (gmem__fault_check(GMEM_FI_CRYPTO))
		return -EIO;
	memcpy(pi, digest, 48);
	if (type == 1 || type == 2) {	/* NORMAL, VMSA: contents measured */
		/* Hashed from a copy: the page may end a mapping, and QEMU's
		 * TCG before 10.0.4 reads 32 bytes for the 16-byte operand of
		 * the VINSERTI128 with which SHA-512's AVX2 code loads a
		 * block's last bytes: past the page, a SIGSEGV. */
		memcpy(copy, page, sizeof(copy));
		if (EVP_Digest(copy, sizeof(copy), pi + 0x30, &len,
			       EVP_sha384(), NULL) != 1)
			return -EIO;
	}
	pi[0x60] = 0x70;		/* length, u16 LE */
	pi[0x62] = (uint8_t)type;	/* page type */
	pi[0x63] = 0;			/* IMI_PAGE */
	/* 0x64..0x66 VMPL3/2/1 permissions: none; 0x67 reserved. */
	for (int i = 0; i < 8; i++)
		pi[0x68 + i] = (uint8_t)(gpa >> (8 * i));
	len = 48;
	if (EVP_Digest(pi, sizeof(pi), digest, &len, EVP_sha384(), NULL) != 1)
		return -EIO;
	return 0;
}
