/* SPDX-License-Identifier: MIT */
/*
 * The modelled SEV-SNP firmware's CPUID policy (gmem_snp_cpuid_check): what
 * it accepts unchanged, what it corrects and how, and what it refuses.
 */
#include "tap.h"
#include "gmem/gmem.h"
#include "gmem/snp.h"

struct fn_case {
	const char *what;
	struct gmem_snp_cpuid_fn in, want;
	int changed;
};

#define F(...) { __VA_ARGS__ }

static const struct fn_case cases[] = {
	{ "vendor leaf as the platform has it",
	  F(.eax_in = 0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65),
	  F(.eax_in = 0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65), 0 },
	{ "highest standard leaf above the platform's is lowered",
	  F(.eax_in = 0, .eax = 0x20, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65),
	  F(.eax_in = 0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65), 1 },
	{ "another vendor string is replaced (strict)",
	  F(.eax_in = 0, .eax = 0xd, .ebx = 0x756e6547, .ecx = 0x6c65746e, .edx = 0x49656e69),
	  F(.eax_in = 0, .eax = 0xd, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65), 1 },
	{ "leaf 1: family/model and APIC id are the VMM's",
	  F(.eax_in = 1, .eax = 0x12345678, .ebx = 0xff0800, .ecx = 0x7ed8320b, .edx = 0x178bfbff),
	  F(.eax_in = 1, .eax = 0x12345678, .ebx = 0xff0800, .ecx = 0x7ed8320b, .edx = 0x178bfbff), 0 },
	{ "leaf 1 ECX: VMX (bit 5, Intel only) and reserved bit 16 are cleared",
	  F(.eax_in = 1, .ecx = 0x7ed9322b),
	  F(.eax_in = 1, .ecx = 0x7ed8320b), 1 },
	{ "leaf 1 ECX: the hypervisor bit (31) may be set",
	  F(.eax_in = 1, .ecx = 0x80000001),
	  F(.eax_in = 1, .ecx = 0x80000001), 0 },
	{ "leaf 7.0 EDX: reserved bit 0 is cleared, FSRM kept",
	  F(.eax_in = 7, .ecx_in = 0, .edx = 0x11),
	  F(.eax_in = 7, .ecx_in = 0, .edx = 0x10), 1 },
	{ "leaf 7.0: more subleaves than the platform has",
	  F(.eax_in = 7, .ecx_in = 0, .eax = 2),
	  F(.eax_in = 7, .ecx_in = 0, .eax = 0), 1 },
	{ "leaf 7 subleaf 1 is not policed",
	  F(.eax_in = 7, .ecx_in = 1, .eax = 0xffffffff),
	  F(.eax_in = 7, .ecx_in = 1, .eax = 0xffffffff), 0 },
	{ "leaf 0xD.0: XCR0 components the platform lacks (AVX-512: 5-7)",
	  F(.eax_in = 0xd, .ecx_in = 0, .eax = 0xe7),
	  F(.eax_in = 0xd, .ecx_in = 0, .eax = 0x07), 1 },
	{ "highest extended leaf within the platform's",
	  F(.eax_in = 0x80000000, .eax = 0x80000008),
	  F(.eax_in = 0x80000000, .eax = 0x80000008), 0 },
	{ "highest extended leaf above it is lowered",
	  F(.eax_in = 0x80000000, .eax = 0x80000030),
	  F(.eax_in = 0x80000000, .eax = 0x80000021), 1 },
	{ "leaf 0x8000001F: the C-bit position is the platform's",
	  F(.eax_in = 0x8000001f, .eax = 0x1b, .ebx = 0x16f),
	  F(.eax_in = 0x8000001f, .eax = 0x1b, .ebx = 0x173), 1 },
	{ "a leaf the firmware does not know passes as it is",
	  F(.eax_in = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b),
	  F(.eax_in = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b), 0 },
	{ "the reserved field of an entry must be zero",
	  F(.eax_in = 0x40000000, .reserved = 1),
	  F(.eax_in = 0x40000000), 1 },
};

static void test_entries(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gmem_snp_cpuid_table t = { .count = 1 };
		unsigned n = 99;
		int ret;

		t.fn[0] = cases[i].in;
		ret = gmem_snp_cpuid_check(&t, &n);
		ok(ret == (cases[i].changed ? -EIO : 0) && n == (unsigned)cases[i].changed &&
		   !memcmp(&t.fn[0], &cases[i].want, sizeof(t.fn[0])),
		   "%s (ret %d, %u changed)", cases[i].what, ret, n);
	}
}

static void test_table(void)
{
	struct gmem_snp_cpuid_table t, copy;
	unsigned n;

	memset(&t, 0, sizeof(t));
	t.count = 3;
	t.fn[0] = cases[1].in;
	t.fn[1] = cases[3].in;
	t.fn[2] = cases[6].in;
	t.fn[5].edx = 0xdead;		/* beyond count: not looked at */
	ok_ret(gmem_snp_cpuid_check(&t, &n), -EIO, "a table with two violations");
	ok(n == 2, "two entries corrected (%u)", n);
	ok(t.fn[5].edx == 0xdead, "entries beyond count are left alone");
	copy = t;
	ok_ret(gmem_snp_cpuid_check(&t, &n), 0, "the corrected table passes");
	ok(n == 0 && !memcmp(&t, &copy, sizeof(t)), "unchanged the second time");

	t.reserved1 = 1;
	ok_ret(gmem_snp_cpuid_check(&t, &n), -EIO, "a non-zero reserved header word");
	ok(t.reserved1 == 0, "is cleared");

	memset(&t, 0, sizeof(t));
	t.count = GMEM_SNP_CPUID_COUNT_MAX + 1;
	t.fn[0].edx = 1;
	copy = t;
	ok_ret(gmem_snp_cpuid_check(&t, &n), -EINVAL, "more than 64 entries is refused");
	ok(!memcmp(&t, &copy, sizeof(t)), "and nothing is changed");
	t.count = 0;
	ok_ret(gmem_snp_cpuid_check(&t, NULL), 0, "an empty table is fine; nchanged may be NULL");
	ok_ret(gmem_snp_cpuid_check(NULL, &n), -EFAULT, "NULL table");
}

int main(void)
{
	plan_lazy();
	test_entries();
	test_table();
	done();
}
