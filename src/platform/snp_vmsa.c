/* SPDX-License-Identifier: MIT */
/*
 * The initial VMSA of an SEV-ES/SEV-SNP vCPU (see snp_vmsa.h).
 *
 * Layout: AMD APM vol. 2, table B-4 "VMSA Layout, State Save Area for
 * SEV-ES" (Linux: struct sev_es_save_area).  KVM builds the page in
 * sev_es_sync_vmsa(): it copies the VMCB save area (struct vmcb_save_area,
 * whose first 0x2E8 bytes share the VMSA's layout) and then writes the
 * registers SVM does not keep in the VMCB.  What KVM_SET_* leaves in the
 * VMCB is reproduced here from svm.c: svm_set_segment(), svm_set_cr0/4(),
 * svm_set_efer(), svm_set_dr7() and svm_set_msr().
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "platform/snp_vmsa.h"

struct vmsa_seg {
	uint16_t selector;
	uint16_t attrib;	/* type, S, DPL, P, AVL, L, D/B, G in 12 bits */
	uint32_t limit;
	uint64_t base;
};

/* Every field is naturally aligned: no packing needed (checked below). */
struct vmsa {
	struct vmsa_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
	uint64_t ssp[4];			/* 0x0a0 VMPL0-3 shadow stacks */
	uint64_t u_cet;				/* 0x0c0 */
	uint8_t rsvd_0c8[2];
	uint8_t vmpl;				/* 0x0ca */
	uint8_t cpl;				/* 0x0cb */
	uint8_t rsvd_0cc[4];
	uint64_t efer;				/* 0x0d0 */
	uint8_t rsvd_0d8[104];
	uint64_t xss;				/* 0x140 */
	uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip;	/* 0x148 */
	uint64_t dr0_3[4], dr0_3_addr_mask[4];	/* 0x180 */
	uint8_t rsvd_1c0[24];
	uint64_t rsp;				/* 0x1d8 */
	uint64_t s_cet, ssp_cur, isst_addr;
	uint64_t rax;				/* 0x1f8 */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;	/* 0x200 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t cr2;				/* 0x240 */
	uint8_t rsvd_248[32];
	uint64_t g_pat;				/* 0x268 */
	uint64_t dbgctl;
	uint64_t br_from, br_to, last_excp_from, last_excp_to;
	uint8_t rsvd_298[80];
	uint32_t pkru;				/* 0x2e8 */
	uint32_t tsc_aux;
	uint8_t rsvd_2f0[24];
	uint64_t rcx, rdx, rbx;			/* 0x308 */
	uint64_t rsvd_320;
	uint64_t rbp, rsi, rdi;			/* 0x328 */
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;	/* 0x340 */
	uint8_t rsvd_380[16];
	uint64_t exit_info_1, exit_info_2, exit_int_info, nrip;	/* 0x390 */
	uint64_t sev_features;			/* 0x3b0 */
	uint64_t vintr_ctrl, exit_code, virtual_tom, tlb_id, pcpu_id;
	uint64_t event_inj;
	uint64_t xcr0;				/* 0x3e8 */
	uint8_t rsvd_3f0[16];
	uint64_t x87_dp;			/* 0x400 */
	uint32_t mxcsr;
	uint16_t x87_ftw, x87_fsw, x87_fcw, x87_fop, x87_ds, x87_cs;
	uint64_t x87_rip;			/* 0x418 */
	uint8_t fpreg_x87[80];			/* 0x420 */
	uint8_t fpreg_xmm[256];			/* 0x470 */
	uint8_t fpreg_ymm[256];			/* 0x570 */
};

_Static_assert(sizeof(struct vmsa_seg) == 16, "VMCB segment");
_Static_assert(offsetof(struct vmsa, vmpl) == 0x0ca, "vmpl");
_Static_assert(offsetof(struct vmsa, efer) == 0x0d0, "efer");
_Static_assert(offsetof(struct vmsa, xss) == 0x140, "xss");
_Static_assert(offsetof(struct vmsa, rip) == 0x178, "rip");
_Static_assert(offsetof(struct vmsa, rsp) == 0x1d8, "rsp");
_Static_assert(offsetof(struct vmsa, rax) == 0x1f8, "rax");
_Static_assert(offsetof(struct vmsa, cr2) == 0x240, "cr2");
_Static_assert(offsetof(struct vmsa, g_pat) == 0x268, "g_pat");
_Static_assert(offsetof(struct vmsa, pkru) == 0x2e8, "pkru");
_Static_assert(offsetof(struct vmsa, rcx) == 0x308, "rcx");
_Static_assert(offsetof(struct vmsa, r8) == 0x340, "r8");
_Static_assert(offsetof(struct vmsa, sev_features) == 0x3b0, "sev_features");
_Static_assert(offsetof(struct vmsa, xcr0) == 0x3e8, "xcr0");
_Static_assert(offsetof(struct vmsa, x87_dp) == 0x400, "x87_dp");
_Static_assert(offsetof(struct vmsa, x87_fcw) == 0x410, "x87_fcw");
_Static_assert(offsetof(struct vmsa, fpreg_x87) == 0x420, "fpreg_x87");
_Static_assert(offsetof(struct vmsa, fpreg_ymm) == 0x570, "fpreg_ymm");
_Static_assert(sizeof(struct vmsa) == 0x670, "VMSA architectural part");

#define EFER_SVME	(1ULL << 12)
#define CR0_NW		(1ULL << 29)
#define CR0_CD		(1ULL << 30)
#define CR4_MCE		(1ULL << 6)
#define DR7_FIXED_1	0x400ULL

/* svm_set_segment(): the VMCB keeps the descriptor attributes packed in 12
 * bits; a segment KVM calls unusable is not present. */
static void put_seg(struct vmsa_seg *d, const struct kvm_segment *s)
{
	d->selector = s->selector;
	d->attrib = (uint16_t)((s->type & 0xf) | (s->s & 1) << 4 |
			       (s->dpl & 3) << 5 |
			       ((s->present & 1) && !s->unusable) << 7 |
			       (s->avl & 1) << 8 | (s->l & 1) << 9 |
			       (s->db & 1) << 10 | (s->g & 1) << 11);
	d->limit = s->limit;
	d->base = s->base;
}

/* svm_set_gdt()/svm_set_idt() set base and limit; the attributes keep
 * init_vmcb()'s zero. */
static void put_dtable(struct vmsa_seg *d, const struct kvm_dtable *t)
{
	d->selector = 0;
	d->attrib = 0;
	d->limit = t->limit;
	d->base = t->base;
}

/* The VMCB save area as KVM_SET_SREGS, KVM_SET_REGS, KVM_SET_DEBUGREGS and
 * KVM_SET_MSRS left it. */
static void put_vmcb_save(struct vmsa *v, const struct gmem__snp_vcpu_state *s)
{
	const struct kvm_sregs *sr = &s->sregs;
	uint64_t cr0 = sr->cr0, cr4 = sr->cr4;

	put_seg(&v->es, &sr->es);
	put_seg(&v->cs, &sr->cs);
	put_seg(&v->ss, &sr->ss);
	put_seg(&v->ds, &sr->ds);
	put_seg(&v->fs, &sr->fs);
	put_seg(&v->gs, &sr->gs);
	put_seg(&v->ldtr, &sr->ldt);
	put_seg(&v->tr, &sr->tr);
	put_dtable(&v->gdtr, &sr->gdt);
	put_dtable(&v->idtr, &sr->idt);
	v->cpl = sr->ss.dpl & 3;		/* svm_set_segment(), SS */
	v->efer = sr->efer | EFER_SVME;		/* svm_set_efer() */
	if (!(s->flags & GMEM__SNP_HOST_KEEP_CD_NW))
		cr0 &= ~(CR0_CD | CR0_NW);	/* KVM_X86_QUIRK_CD_NW_CLEARED */
	if (!(s->flags & GMEM__SNP_HOST_NO_MCE))
		cr4 |= CR4_MCE;			/* the host's CR4.MCE */
	v->cr0 = cr0;
	v->cr3 = sr->cr3;
	v->cr4 = cr4;
	v->dr7 = s->dr7;
	v->rflags = s->regs.rflags;
	v->g_pat = s->pat;
	v->dbgctl = s->dbgctl;
	v->star = s->star;
	v->lstar = s->lstar;
	v->cstar = s->cstar;
	v->sfmask = s->sfmask;
	v->kernel_gs_base = s->kernel_gs_base;
	v->sysenter_cs = s->sysenter_cs;
	v->sysenter_esp = s->sysenter_esp;
	v->sysenter_eip = s->sysenter_eip;
}

static void put_gprs(struct vmsa *v, const struct kvm_regs *r)
{
	v->rax = r->rax;
	v->rbx = r->rbx;
	v->rcx = r->rcx;
	v->rdx = r->rdx;
	v->rsp = r->rsp;
	v->rbp = r->rbp;
	v->rsi = r->rsi;
	v->rdi = r->rdi;
	v->r8 = r->r8;
	v->r9 = r->r9;
	v->r10 = r->r10;
	v->r11 = r->r11;
	v->r12 = r->r12;
	v->r13 = r->r13;
	v->r14 = r->r14;
	v->r15 = r->r15;
	v->rip = r->rip;
}

/* The x87 registers are packed: bytes 0-7 of each of the eight registers,
 * then bytes 8-9 of each; the FXSAVE image keeps each in a 16-byte slot. */
static void put_fpu(struct vmsa *v, const struct gmem__snp_vcpu_state *s)
{
	const struct kvm_fpu *f = &s->fpu;

	v->x87_dp = f->last_dp;
	v->mxcsr = f->mxcsr;
	v->x87_ftw = f->ftwx;
	v->x87_fsw = f->fsw;
	v->x87_fcw = f->fcw;
	v->x87_fop = f->last_opcode;
	v->x87_ds = 0;
	v->x87_cs = 0;
	v->x87_rip = f->last_ip;
	for (int i = 0; i < 8; i++) {
		memcpy(v->fpreg_x87 + i * 8, f->fpr[i], 8);
		v->fpreg_x87[64 + i * 2] = f->fpr[i][8];
		v->fpreg_x87[64 + i * 2 + 1] = f->fpr[i][9];
	}
	memcpy(v->fpreg_xmm, f->xmm, sizeof(v->fpreg_xmm));
	memcpy(v->fpreg_ymm, s->ymmh, sizeof(v->fpreg_ymm));
}

int gmem__snp_vmsa_build(const struct gmem__snp_vcpu_state *s,
			 uint64_t sev_features, uint8_t vmsa[GMEM__SNP_VMSA_SIZE])
{
	struct vmsa v;

	if (!s || !vmsa)
		return -EFAULT;
	if (s->dr7 & ~DR7_FIXED_1)
		return -EINVAL;		/* sev_es_sync_vmsa()'s debug check */
	memset(&v, 0, sizeof(v));
	put_vmcb_save(&v, s);
	put_gprs(&v, &s->regs);
	v.xcr0 = s->xcr0;
	v.pkru = s->pkru;
	v.xss = s->xss;
	v.dr6 = s->dr6;
	v.sev_features = sev_features;
	if (!(s->flags & GMEM__SNP_HOST_LEGACY_ES_INIT))
		put_fpu(&v, s);
	memset(vmsa, 0, GMEM__SNP_VMSA_SIZE);
	memcpy(vmsa, &v, sizeof(v));
	return 0;
}

/* ---- the XSAVE image ---------------------------------------------------- */

#define XSAVE_HDR	512
#define XSAVE_YMM	576	/* standard-format offsets (CPUID 0xD) */
#define XSAVE_PKRU	2688
#define XFEATURE_YMM	(1ULL << 2)
#define XFEATURE_PKRU	(1ULL << 9)

static uint64_t rd_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int gmem__snp_vcpu_state_set_xsave(struct gmem__snp_vcpu_state *s,
				   const void *xsave, size_t len)
{
	const uint8_t *b = xsave;
	struct kvm_fpu *f;
	uint64_t bv;

	if (!s || !xsave)
		return -EFAULT;
	if (len < XSAVE_YMM)
		return -EINVAL;
	f = &s->fpu;
	memset(f, 0, sizeof(*f));
	f->fcw = (uint16_t)rd_le(b + 0, 2);
	f->fsw = (uint16_t)rd_le(b + 2, 2);
	f->ftwx = b[4];
	f->last_opcode = (uint16_t)rd_le(b + 6, 2);
	f->last_ip = rd_le(b + 8, 8);
	f->last_dp = rd_le(b + 16, 8);
	f->mxcsr = (uint32_t)rd_le(b + 24, 4);
	for (int i = 0; i < 8; i++)
		memcpy(f->fpr[i], b + 32 + 16 * i, 16);
	memcpy(f->xmm, b + 160, sizeof(f->xmm));
	bv = rd_le(b + XSAVE_HDR, 8);
	memset(s->ymmh, 0, sizeof(s->ymmh));
	if ((bv & XFEATURE_YMM) && len >= XSAVE_YMM + sizeof(s->ymmh))
		memcpy(s->ymmh, b + XSAVE_YMM, sizeof(s->ymmh));
	s->pkru = 0;
	if ((bv & XFEATURE_PKRU) && len >= XSAVE_PKRU + 4)
		s->pkru = (uint32_t)rd_le(b + XSAVE_PKRU, 4);
	return 0;
}

/* ---- the VMM's reset state -------------------------------------------- */

int gmem__snp_vmm_parse(const char *name, enum gmem__snp_vmm *vmm)
{
	if (!name || !vmm)
		return -EFAULT;
	if (!strcasecmp(name, "qemu"))
		*vmm = GMEM__SNP_VMM_QEMU;
	else if (!strcasecmp(name, "ec2"))
		*vmm = GMEM__SNP_VMM_EC2;
	else
		return -EINVAL;
	return 0;
}

const char *gmem__snp_vmm_name(enum gmem__snp_vmm vmm)
{
	return vmm == GMEM__SNP_VMM_EC2 ? "ec2" : "QEMU";
}

int gmem__snp_cpu_sig(unsigned family, unsigned model, unsigned stepping,
		      uint32_t *sig)
{
	unsigned fam_lo = family > 0xf ? 0xf : family;
	unsigned fam_hi = family > 0xf ? family - 0xf : 0;

	if (!sig)
		return -EFAULT;
	if (family > 0xf + 0xff || model > 0xff || stepping > 0xf)
		return -EINVAL;
	*sig = fam_hi << 20 | (model >> 4) << 16 | fam_lo << 8 |
	       (model & 0xf) << 4 | stepping;
	return 0;
}

/* QEMU's AMD EPYC models (target/i386/cpu.c, builtin_x86_defs) and their
 * family, model and stepping: the CPUID signature QEMU puts in RDX. */
static const struct cpu_type {
	const char *name;
	unsigned char family, model, stepping;
} cpu_types[] = {
	{ "EPYC", 23, 1, 2 },
	{ "EPYC-v1", 23, 1, 2 },
	{ "EPYC-v2", 23, 1, 2 },
	{ "EPYC-IBPB", 23, 1, 2 },
	{ "EPYC-v3", 23, 1, 2 },
	{ "EPYC-v4", 23, 1, 2 },
	{ "EPYC-Rome", 23, 49, 0 },
	{ "EPYC-Rome-v1", 23, 49, 0 },
	{ "EPYC-Rome-v2", 23, 49, 0 },
	{ "EPYC-Rome-v3", 23, 49, 0 },
	{ "EPYC-Milan", 25, 1, 1 },
	{ "EPYC-Milan-v1", 25, 1, 1 },
	{ "EPYC-Milan-v2", 25, 1, 1 },
	{ "EPYC-Genoa", 25, 17, 0 },
	{ "EPYC-Genoa-v1", 25, 17, 0 },
	{ "EPYC-Turin", 26, 0, 0 },
};

#define NR_CPU_TYPES (sizeof(cpu_types) / sizeof(cpu_types[0]))

int gmem__snp_cpu_type_sig(const char *name, uint32_t *sig)
{
	if (!name || !sig)
		return -EFAULT;
	for (size_t i = 0; i < NR_CPU_TYPES; i++)
		if (!strcmp(cpu_types[i].name, name))
			return gmem__snp_cpu_sig(cpu_types[i].family,
						 cpu_types[i].model,
						 cpu_types[i].stepping, sig);
	return -ENOENT;
}

const char *gmem__snp_cpu_type_name(unsigned i)
{
	return i < NR_CPU_TYPES ? cpu_types[i].name : NULL;
}

/* A data segment at reset: selector 0, base 0, limit 0xFFFF, present,
 * read/write; `accessed` as the VMM sets it. */
static void reset_seg(struct kvm_segment *s, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffff;
	s->type = type;
	s->s = 1;
	s->present = 1;
}

/*
 * QEMU: x86_cpu_reset_hold() (target/i386/cpu.c) puts every segment at
 * selector 0, limit 0xFFFF with the accessed bit set, CS at 0xF000:FFF0
 * with base 0xFFFF0000, LDT type 2, TR type 11 (busy 32-bit TSS), EDX the
 * CPUID signature, CR0 CD|NW|ET (KVM clears CD and NW), PAT 0x0007040600070406,
 * XCR0 1, DR6 0xFFFF0FF0, DR7 0x400, FCW 0x37F, MXCSR 0x1F80, all x87
 * registers empty (abridged tag 0); an AP of an SEV-ES guest gets CS base
 * and IP from the reset block (sev_es_set_reset_vector(), target/i386/sev.c).
 *
 * EC2 (sev-snp-measure's model of it): the same, except that the accessed
 * bit of SS (and of CS on vCPU 0) is clear, TR is type 3 (busy 16-bit
 * TSS), EDX is 0 and FCW and MXCSR are 0.
 */
int gmem__snp_vcpu_reset(struct gmem__snp_vcpu_state *s, enum gmem__snp_vmm vmm,
			 unsigned index, uint32_t sig, uint32_t ap_eip)
{
	uint32_t eip = index == 0 || !ap_eip ? GMEM__SNP_BSP_RESET_EIP : ap_eip;
	bool ec2 = vmm == GMEM__SNP_VMM_EC2;
	struct kvm_sregs *sr;

	if (!s)
		return -EFAULT;
	if (vmm != GMEM__SNP_VMM_QEMU && vmm != GMEM__SNP_VMM_EC2)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	sr = &s->sregs;
	reset_seg(&sr->es, 0x3);
	reset_seg(&sr->ds, 0x3);
	reset_seg(&sr->fs, 0x3);
	reset_seg(&sr->gs, 0x3);
	reset_seg(&sr->ss, ec2 ? 0x2 : 0x3);
	reset_seg(&sr->cs, ec2 && eip == GMEM__SNP_BSP_RESET_EIP ? 0xa : 0xb);
	sr->cs.selector = 0xf000;
	sr->cs.base = eip & 0xffff0000U;
	memset(&sr->ldt, 0, sizeof(sr->ldt));
	sr->ldt.limit = 0xffff;
	sr->ldt.type = 0x2;
	sr->ldt.present = 1;
	memset(&sr->tr, 0, sizeof(sr->tr));
	sr->tr.limit = 0xffff;
	sr->tr.type = ec2 ? 0x3 : 0xb;
	sr->tr.present = 1;
	sr->gdt.limit = 0xffff;
	sr->idt.limit = 0xffff;
	sr->cr0 = 0x60000010;		/* CD | NW | ET */
	s->regs.rip = eip & 0xffff;
	s->regs.rflags = 0x2;
	s->regs.rdx = ec2 ? 0 : sig;
	s->xcr0 = 1;
	s->dr6 = 0xffff0ff0;
	s->dr7 = DR7_FIXED_1;
	s->pat = 0x0007040600070406ULL;
	s->fpu.fcw = ec2 ? 0 : 0x37f;
	s->fpu.mxcsr = ec2 ? 0 : 0x1f80;
	return 0;
}
