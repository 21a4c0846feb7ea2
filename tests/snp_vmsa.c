/* SPDX-License-Identifier: MIT */
/*
 * The VMSA builder (src/platform/snp_vmsa.c): every field KVM's
 * sev_es_sync_vmsa() writes lands at its APM offset, checked by byte
 * offsets written out here rather than through the builder's struct; the
 * VMCB transformations (segment attributes, CPL, EFER.SVME, CR4.MCE,
 * CR0.CD/NW); the host flags; the x87 packing; the errors; the CPU
 * signature table; the reset states of QEMU and EC2, pinned by the
 * SHA-384 of the pages that give the published launch digest.
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"
#include "platform/snp_vmsa.h"

static uint64_t rd(const uint8_t *p, unsigned off, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

static void sha384_hex(const uint8_t *p, size_t n, char out[97])
{
	uint8_t d[48];
	unsigned len = 48;

	TEST_ASSERT(EVP_Digest(p, n, d, &len, EVP_sha384(), NULL) == 1, "sha384");
	for (int i = 0; i < 48; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* Every byte outside the listed fields is zero. */
struct field { unsigned off, size; uint64_t val; const char *name; };

static int check_fields(const uint8_t *v, const struct field *f, size_t n,
			const char *what)
{
	uint8_t covered[4096] = { 0 };
	int good = 1;

	for (size_t i = 0; i < n; i++) {
		if (rd(v, f[i].off, f[i].size) != f[i].val) {
			diag("%s: %s at 0x%03x is 0x%llx, want 0x%llx", what,
			     f[i].name, f[i].off,
			     (unsigned long long)rd(v, f[i].off, f[i].size),
			     (unsigned long long)f[i].val);
			good = 0;
		}
		memset(covered + f[i].off, 1, f[i].size);
	}
	for (unsigned i = 0; i < 4096; i++)
		if (!covered[i] && v[i]) {
			diag("%s: stray byte 0x%02x at 0x%03x", what, v[i], i);
			good = 0;
			break;
		}
	return good;
}

static void test_reset_qemu(void)
{
	struct gmem__snp_vcpu_state s;
	uint8_t v[4096];
	char h[97];
	const struct field bsp[] = {
		{ 0x000, 2, 0, "es.sel" }, { 0x002, 2, 0x93, "es.attr" },
		{ 0x004, 4, 0xffff, "es.limit" }, { 0x008, 8, 0, "es.base" },
		{ 0x010, 2, 0xf000, "cs.sel" }, { 0x012, 2, 0x9b, "cs.attr" },
		{ 0x014, 4, 0xffff, "cs.limit" }, { 0x018, 8, 0xffff0000, "cs.base" },
		{ 0x022, 2, 0x93, "ss.attr" }, { 0x024, 4, 0xffff, "ss.limit" },
		{ 0x032, 2, 0x93, "ds.attr" }, { 0x034, 4, 0xffff, "ds.limit" },
		{ 0x042, 2, 0x93, "fs.attr" }, { 0x044, 4, 0xffff, "fs.limit" },
		{ 0x052, 2, 0x93, "gs.attr" }, { 0x054, 4, 0xffff, "gs.limit" },
		{ 0x062, 2, 0, "gdtr.attr" }, { 0x064, 4, 0xffff, "gdtr.limit" },
		{ 0x072, 2, 0x82, "ldtr.attr" }, { 0x074, 4, 0xffff, "ldtr.limit" },
		{ 0x082, 2, 0, "idtr.attr" }, { 0x084, 4, 0xffff, "idtr.limit" },
		{ 0x092, 2, 0x8b, "tr.attr" }, { 0x094, 4, 0xffff, "tr.limit" },
		{ 0x0d0, 8, 0x1000, "efer" }, { 0x148, 8, 0x40, "cr4" },
		{ 0x158, 8, 0x10, "cr0" }, { 0x160, 8, 0x400, "dr7" },
		{ 0x168, 8, 0xffff0ff0, "dr6" }, { 0x170, 8, 2, "rflags" },
		{ 0x178, 8, 0xfff0, "rip" },
		{ 0x268, 8, 0x0007040600070406ULL, "g_pat" },
		{ 0x310, 8, 0x800f12, "rdx" }, { 0x3b0, 8, 1, "sev_features" },
		{ 0x3e8, 8, 1, "xcr0" }, { 0x408, 4, 0x1f80, "mxcsr" },
		{ 0x410, 2, 0x37f, "x87_fcw" },
	};

	TEST_ASSERT(!gmem__snp_vcpu_reset(&s, GMEM__SNP_VMM_QEMU, 0, 0x800f12, 0x80b004),
		    "reset");
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, GMEM__SNP_FEAT_SNP_ACTIVE, v), "build");
	ok(check_fields(v, bsp, sizeof(bsp) / sizeof(bsp[0]), "QEMU BSP"),
	   "QEMU vCPU 0 at reset: every VMSA field at its offset, nothing else set");
	sha384_hex(v, sizeof(v), h);
	ok(!strcmp(h, "77920c4c629ff47e90c0e174fc1ad0eb6fa664f88cd4739488058a8c6cb1a77b"
		   "3856f55378e9518d0da99452d51c553a"),
	   "QEMU vCPU 0 (EPYC-v4): the page of the published digest (%.16s...)", h);

	TEST_ASSERT(!gmem__snp_vcpu_reset(&s, GMEM__SNP_VMM_QEMU, 3, 0x800f12, 0x80b004),
		    "reset AP");
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, GMEM__SNP_FEAT_SNP_ACTIVE, v), "build AP");
	ok(rd(v, 0x018, 8) == 0x800000 && rd(v, 0x178, 8) == 0xb004 &&
	   rd(v, 0x010, 2) == 0xf000,
	   "QEMU vCPU 3: CS base and RIP from the reset block's EIP 0x80b004");
	sha384_hex(v, sizeof(v), h);
	ok(!strcmp(h, "8413b852790765a310d95867a8b00bfca3a802b5a80830044b45e253fe962226"
		   "57e11e53fcf63eb0e0afd722385bf7b4"),
	   "QEMU AP page pinned (%.16s...)", h);

	TEST_ASSERT(!gmem__snp_vcpu_reset(&s, GMEM__SNP_VMM_QEMU, 1, 0x800f12, 0), "reset");
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, 1, v), "build");
	ok(rd(v, 0x018, 8) == 0xffff0000 && rd(v, 0x178, 8) == 0xfff0,
	   "no reset block: an AP starts at the reset vector");
}

static void test_reset_ec2(void)
{
	struct gmem__snp_vcpu_state s;
	uint8_t v[4096];

	TEST_ASSERT(!gmem__snp_vcpu_reset(&s, GMEM__SNP_VMM_EC2, 0, 0x800f12, 0x80b004), "ec2");
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, 1, v), "build");
	ok(rd(v, 0x012, 2) == 0x9a && rd(v, 0x022, 2) == 0x92 &&
	   rd(v, 0x092, 2) == 0x83 && rd(v, 0x310, 8) == 0 &&
	   rd(v, 0x408, 4) == 0 && rd(v, 0x410, 2) == 0,
	   "EC2 vCPU 0: CS 0x9a, SS 0x92, TR 0x83, RDX 0, MXCSR and FCW 0");
	TEST_ASSERT(!gmem__snp_vcpu_reset(&s, GMEM__SNP_VMM_EC2, 1, 0x800f12, 0x80b004), "ec2");
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, 1, v), "build");
	ok(rd(v, 0x012, 2) == 0x9b && rd(v, 0x022, 2) == 0x92,
	   "EC2 AP: CS 0x9b (accessed)");
	ok(gmem__snp_vcpu_reset(&s, (enum gmem__snp_vmm)7, 0, 0, 0) == -EINVAL &&
	   gmem__snp_vcpu_reset(NULL, GMEM__SNP_VMM_QEMU, 0, 0, 0) == -EFAULT,
	   "reset: unknown VMM -EINVAL, NULL -EFAULT");
}

/* Distinct values in every input field: each lands where the APM puts it. */
static void test_mapping(void)
{
	struct gmem__snp_vcpu_state s;
	uint8_t v[4096];
	struct kvm_regs *r = &s.regs;
	struct kvm_sregs *sr = &s.sregs;
	int good;

	memset(&s, 0, sizeof(s));
	r->rax = 0x1111; r->rbx = 0x2222; r->rcx = 0x3333; r->rdx = 0x4444;
	r->rsi = 0x5555; r->rdi = 0x6666; r->rsp = 0x7777; r->rbp = 0x8888;
	r->r8 = 0x08; r->r9 = 0x09; r->r10 = 0x10; r->r11 = 0x11;
	r->r12 = 0x12; r->r13 = 0x13; r->r14 = 0x14; r->r15 = 0x15;
	r->rip = 0xabcdef; r->rflags = 0x246;
	sr->cs = (struct kvm_segment){ .base = 0x1000, .limit = 0xfffff,
		.selector = 0x8, .type = 0xb, .present = 1, .dpl = 0, .db = 0,
		.s = 1, .l = 1, .g = 1, .avl = 1 };
	sr->ss = (struct kvm_segment){ .base = 0, .limit = 0xffffffff,
		.selector = 0x13, .type = 0x3, .present = 1, .dpl = 3, .db = 1,
		.s = 1, .g = 1 };
	sr->ds = (struct kvm_segment){ .selector = 0x18, .type = 0x3,
		.present = 1, .unusable = 1, .s = 1 };
	sr->gdt = (struct kvm_dtable){ .base = 0x5000, .limit = 0x7f };
	sr->idt = (struct kvm_dtable){ .base = 0x6000, .limit = 0xfff };
	sr->cr0 = 0x80050033 | (1ULL << 30) | (1ULL << 29);
	sr->cr2 = 0xdead;		/* not in the initial VMSA */
	sr->cr3 = 0x7000;
	sr->cr4 = 0x6a0;
	sr->efer = 0x500;
	s.xcr0 = 0x7; s.xss = 0x800; s.pkru = 0x55555554;
	s.dr6 = 0xffff4ff0; s.dr7 = 0x400;
	s.pat = 0x0606060606060606ULL; s.star = 0x23001000000000ULL;
	s.lstar = 0xffffffff81000000ULL; s.cstar = 0xc5; s.sfmask = 0x47700;
	s.kernel_gs_base = 0xffff888000000000ULL; s.sysenter_cs = 0x10;
	s.sysenter_esp = 0xe5; s.sysenter_eip = 0xe1; s.dbgctl = 0x1;
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, 0x21, v), "build");

	good = rd(v, 0x1f8, 8) == 0x1111 && rd(v, 0x318, 8) == 0x2222 &&
	       rd(v, 0x308, 8) == 0x3333 && rd(v, 0x310, 8) == 0x4444 &&
	       rd(v, 0x330, 8) == 0x5555 && rd(v, 0x338, 8) == 0x6666 &&
	       rd(v, 0x1d8, 8) == 0x7777 && rd(v, 0x328, 8) == 0x8888;
	for (unsigned i = 0; i < 8; i++)
		good &= rd(v, 0x340 + 8 * i, 8) == (uint64_t)(i < 2 ? 8 + i : 0x10 + i - 2);
	ok(good && rd(v, 0x178, 8) == 0xabcdef && rd(v, 0x170, 8) == 0x246,
	   "GPRs, RIP and RFLAGS at their offsets");
	/* cs: type b, S, P, AVL, L, G = 0xb | 0x10 | 0x80 | 0x100 | 0x200 | 0x800 */
	ok(rd(v, 0x012, 2) == 0xb9b && rd(v, 0x010, 2) == 8 &&
	   rd(v, 0x014, 4) == 0xfffff && rd(v, 0x018, 8) == 0x1000,
	   "CS: selector, limit, base; attributes packed (0x%llx)",
	   (unsigned long long)rd(v, 0x012, 2));
	ok(rd(v, 0x022, 2) == (0x3 | 0x10 | 0x60 | 0x80 | 0x400 | 0x800) &&
	   rd(v, 0x0cb, 1) == 3, "SS: DPL 3 and D/B packed, CPL taken from SS.DPL");
	ok(rd(v, 0x032, 2) == 0x13, "an unusable segment is not present");
	ok(rd(v, 0x060, 2) == 0 && rd(v, 0x062, 2) == 0 &&
	   rd(v, 0x064, 4) == 0x7f && rd(v, 0x068, 8) == 0x5000 &&
	   rd(v, 0x084, 4) == 0xfff && rd(v, 0x088, 8) == 0x6000,
	   "GDTR, IDTR: base and limit only");
	ok(rd(v, 0x158, 8) == 0x80050033 && rd(v, 0x150, 8) == 0x7000 &&
	   rd(v, 0x148, 8) == (0x6a0 | 0x40) && rd(v, 0x0d0, 8) == (0x500 | 0x1000) &&
	   rd(v, 0x240, 8) == 0,
	   "CR0 without CD/NW, CR3, CR4 with MCE, EFER with SVME, CR2 left zero");
	ok(rd(v, 0x3e8, 8) == 7 && rd(v, 0x140, 8) == 0x800 &&
	   rd(v, 0x2e8, 4) == 0x55555554 && rd(v, 0x168, 8) == 0xffff4ff0 &&
	   rd(v, 0x160, 8) == 0x400 && rd(v, 0x3b0, 8) == 0x21,
	   "XCR0, XSS, PKRU, DR6, DR7, SEV_FEATURES");
	ok(rd(v, 0x268, 8) == 0x0606060606060606ULL && rd(v, 0x200, 8) == s.star &&
	   rd(v, 0x208, 8) == s.lstar && rd(v, 0x210, 8) == 0xc5 &&
	   rd(v, 0x218, 8) == 0x47700 && rd(v, 0x220, 8) == s.kernel_gs_base &&
	   rd(v, 0x228, 8) == 0x10 && rd(v, 0x230, 8) == 0xe5 &&
	   rd(v, 0x238, 8) == 0xe1 && rd(v, 0x270, 8) == 1,
	   "the MSRs the VMCB holds: PAT, STAR..SFMASK, KERNEL_GS_BASE, SYSENTER_*, DEBUGCTL");
}

static void test_fpu(void)
{
	struct gmem__snp_vcpu_state s;
	uint8_t v[4096];
	int good = 1;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 8; i++)
		for (int b = 0; b < 16; b++)
			s.fpu.fpr[i][b] = (uint8_t)(i * 16 + b + 1);
	for (int i = 0; i < 16; i++)
		for (int b = 0; b < 16; b++) {
			s.fpu.xmm[i][b] = (uint8_t)(0x80 + i);
			s.ymmh[i][b] = (uint8_t)(0xc0 + i);
		}
	s.fpu.fcw = 0x37f; s.fpu.fsw = 0x3800; s.fpu.ftwx = 0x81;
	s.fpu.last_opcode = 0x5d9; s.fpu.last_ip = 0x1234; s.fpu.last_dp = 0x5678;
	s.fpu.mxcsr = 0x1fa0;
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, 1, v), "build");
	for (int i = 0; i < 8; i++) {
		for (int b = 0; b < 8; b++)
			good &= v[0x420 + i * 8 + b] == i * 16 + b + 1;
		good &= v[0x420 + 64 + i * 2] == i * 16 + 9;
		good &= v[0x420 + 64 + i * 2 + 1] == i * 16 + 10;
	}
	ok(good, "x87 registers: bytes 0-7 of each, then bytes 8-9 of each");
	good = 1;
	for (int i = 0; i < 16; i++) {
		good &= v[0x470 + i * 16] == 0x80 + i && v[0x47f + i * 16] == 0x80 + i;
		good &= v[0x570 + i * 16] == 0xc0 + i && v[0x57f + i * 16] == 0xc0 + i;
	}
	ok(good, "XMM0-15 and the YMM upper halves");
	ok(rd(v, 0x400, 8) == 0x5678 && rd(v, 0x408, 4) == 0x1fa0 &&
	   rd(v, 0x40c, 2) == 0x81 && rd(v, 0x40e, 2) == 0x3800 &&
	   rd(v, 0x410, 2) == 0x37f && rd(v, 0x412, 2) == 0x5d9 &&
	   rd(v, 0x414, 4) == 0 && rd(v, 0x418, 8) == 0x1234,
	   "x87 control: DP, MXCSR, FTW, FSW, FCW, FOP, DS/CS 0, RIP");

	s.flags = GMEM__SNP_HOST_LEGACY_ES_INIT;
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, 0, v), "build");
	good = 1;
	for (int i = 0x400; i < 0x670; i++)
		good &= !v[i];
	ok(good, "KVM_SEV_ES_INIT on a default VM: no x87/SSE/AVX state");
}

static void test_host_flags_and_errors(void)
{
	struct gmem__snp_vcpu_state s;
	uint8_t v[4096];

	TEST_ASSERT(!gmem__snp_vcpu_reset(&s, GMEM__SNP_VMM_QEMU, 0, 0, 0), "reset");
	s.flags = GMEM__SNP_HOST_NO_MCE | GMEM__SNP_HOST_KEEP_CD_NW;
	TEST_ASSERT(!gmem__snp_vmsa_build(&s, 1, v), "build");
	ok(rd(v, 0x148, 8) == 0 && rd(v, 0x158, 8) == 0x60000010,
	   "host without CR4.MCE, CD/NW quirk off: CR4 0, CR0 as the VMM set it");
	s.flags = 0;
	s.dr7 = 0x401;
	memset(v, 0xa5, sizeof(v));
	ok(gmem__snp_vmsa_build(&s, 1, v) == -EINVAL && v[0] == 0xa5,
	   "DR7 with a breakpoint enabled: -EINVAL, page untouched");
	ok(gmem__snp_vmsa_build(NULL, 1, v) == -EFAULT &&
	   gmem__snp_vmsa_build(&s, 1, NULL) == -EFAULT, "NULL: -EFAULT");
}

static void test_cpu_sig(void)
{
	static const struct { const char *name; uint32_t sig; } want[] = {
		{ "EPYC", 0x800f12 }, { "EPYC-v4", 0x800f12 },
		{ "EPYC-Rome", 0x830f10 }, { "EPYC-Milan", 0xa00f11 },
		{ "EPYC-Genoa", 0xa10f10 }, { "EPYC-Turin", 0xb00f00 },
	};
	uint32_t sig = 0;
	enum gmem__snp_vmm vmm;
	int good = 1;
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		sig = 0;
		if (gmem__snp_cpu_type_sig(want[i].name, &sig) || sig != want[i].sig) {
			diag("%s: 0x%x", want[i].name, sig);
			good = 0;
		}
	}
	ok(good, "CPU type signatures (family 23/25/26)");
	while (gmem__snp_cpu_type_name(n))
		n++;
	ok(n == 16, "16 CPU types listed");
	ok(gmem__snp_cpu_type_sig("Skylake", &sig) == -ENOENT, "unknown type: -ENOENT");
	good = !gmem__snp_cpu_sig(6, 0x55, 4, &sig);
	ok(good && sig == 0x50654, "family 6 model 0x55 stepping 4: 0x%x", sig);
	ok(gmem__snp_cpu_sig(0x10f, 0, 0, &sig) == -EINVAL &&
	   gmem__snp_cpu_sig(23, 0x100, 0, &sig) == -EINVAL &&
	   gmem__snp_cpu_sig(23, 1, 16, &sig) == -EINVAL,
	   "family, model or stepping out of range: -EINVAL");
	ok(!gmem__snp_vmm_parse("QEMU", &vmm) && vmm == GMEM__SNP_VMM_QEMU &&
	   !gmem__snp_vmm_parse("ec2", &vmm) && vmm == GMEM__SNP_VMM_EC2 &&
	   gmem__snp_vmm_parse("xen", &vmm) == -EINVAL &&
	   !strcmp(gmem__snp_vmm_name(GMEM__SNP_VMM_EC2), "ec2"),
	   "VMM names: QEMU, ec2");
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_xsave(void)
{
	static uint8_t x[4096];
	struct gmem__snp_vcpu_state s;
	int good = 1;

	memset(&s, 0xa5, sizeof(s));
	memset(x, 0, sizeof(x));
	put_le(x + 0, 0x37f, 2); put_le(x + 2, 0x3800, 2); x[4] = 0x81;
	put_le(x + 6, 0x5d9, 2); put_le(x + 8, 0x1122334455667788ULL, 8);
	put_le(x + 16, 0x99aabbccddeeff00ULL, 8); put_le(x + 24, 0x1f80, 4);
	put_le(x + 28, 0xffff, 4);
	for (int i = 0; i < 8; i++)
		memset(x + 32 + 16 * i, 0x10 + i, 10);
	for (int i = 0; i < 16; i++)
		memset(x + 160 + 16 * i, 0x40 + i, 16);
	for (int i = 0; i < 16; i++)
		memset(x + 576 + 16 * i, 0x60 + i, 16);
	put_le(x + 2688, 0x55555554, 4);
	put_le(x + 512, 0x3, 8);			/* FP | SSE */
	TEST_ASSERT(!gmem__snp_vcpu_state_set_xsave(&s, x, sizeof(x)), "xsave");
	good = s.fpu.fcw == 0x37f && s.fpu.fsw == 0x3800 && s.fpu.ftwx == 0x81 &&
	       s.fpu.last_opcode == 0x5d9 && s.fpu.last_ip == 0x1122334455667788ULL &&
	       s.fpu.last_dp == 0x99aabbccddeeff00ULL && s.fpu.mxcsr == 0x1f80;
	for (int i = 0; i < 8; i++)
		good &= s.fpu.fpr[i][0] == 0x10 + i && s.fpu.fpr[i][9] == 0x10 + i &&
			!s.fpu.fpr[i][10];
	for (int i = 0; i < 16; i++)
		good &= s.fpu.xmm[i][0] == 0x40 + i && s.fpu.xmm[i][15] == 0x40 + i &&
			!s.ymmh[i][0];
	ok(good && s.pkru == 0, "XSAVE legacy area: x87 control, FIP/FDP, MXCSR, ST0-7, XMM; "
	   "YMM and PKRU absent from XSTATE_BV are zero");
	put_le(x + 512, 0x3 | (1 << 2) | (1 << 9), 8);
	TEST_ASSERT(!gmem__snp_vcpu_state_set_xsave(&s, x, sizeof(x)), "xsave");
	good = s.pkru == 0x55555554;
	for (int i = 0; i < 16; i++)
		good &= s.ymmh[i][0] == 0x60 + i && s.ymmh[i][15] == 0x60 + i;
	ok(good, "XSTATE_BV with YMM and PKRU: the upper halves and PKRU");
	TEST_ASSERT(!gmem__snp_vcpu_state_set_xsave(&s, x, 1024), "short");
	ok(s.pkru == 0 && s.ymmh[0][0] == 0x60, "a PKRU beyond the buffer is absent");
	ok(gmem__snp_vcpu_state_set_xsave(&s, x, 575) == -EINVAL &&
	   gmem__snp_vcpu_state_set_xsave(NULL, x, 4096) == -EFAULT,
	   "no XSAVE header: -EINVAL; NULL: -EFAULT");
}

/* On a real vCPU at reset: KVM_GET_XSAVE gives the MXCSR KVM puts in the
 * VMSA (0x1F80); KVM_GET_FPU does not report it. */
static void test_xsave_kvm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, vcpu = -1;
	struct gmem__snp_vcpu_state s;
	struct kvm_xsave *x = NULL;

	if (kvm >= 0)
		vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
	if (vm >= 0)
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
	x = calloc(1, sizeof(*x));
	if (vcpu < 0 || !x || ioctl(vcpu, KVM_GET_XSAVE, x)) {
		ok(1, "real vCPU: MXCSR from KVM_GET_XSAVE # SKIP no KVM vCPU (/dev/kvm)");
	} else {
		TEST_ASSERT(!gmem__snp_vcpu_state_set_xsave(&s, x->region, sizeof(x->region)),
			    "xsave");
		ok(s.fpu.mxcsr == 0x1f80 && s.fpu.fcw == 0x37f,
		   "real vCPU at reset: KVM_GET_XSAVE gives FCW 0x%x, MXCSR 0x%x",
		   s.fpu.fcw, s.fpu.mxcsr);
	}
	free(x);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
}

int main(void)
{
	plan_lazy();
	test_reset_qemu();
	test_reset_ec2();
	test_mapping();
	test_fpu();
	test_host_flags_and_errors();
	test_cpu_sig();
	test_xsave();
	test_xsave_kvm();
	return done();
}
