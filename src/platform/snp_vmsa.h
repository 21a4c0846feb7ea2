/* SPDX-License-Identifier: MIT */
/*
 * The initial SEV-ES/SEV-SNP VMSA of a vCPU, built from the vCPU's state as
 * KVM holds it, byte for byte what KVM hands to the firmware (Linux
 * arch/x86/kvm/svm/sev.c, sev_es_sync_vmsa(), at KVM_SEV_SNP_LAUNCH_FINISH
 * or KVM_SEV_LAUNCH_UPDATE_VMSA).  The page is measured as a VMSA page
 * (PAGE_INFO type 2 at GPA 0xFFFFFFFFF000) into the launch digest.
 *
 * Two uses:
 *   - a launch that has real vCPUs: fill struct gmem__snp_vcpu_state from
 *     KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_FPU, KVM_GET_XCRS,
 *     KVM_GET_DEBUGREGS (and the MSRs and XSAVE components named below)
 *     and call gmem__snp_vmsa_build();
 *   - a prediction: gmem__snp_vcpu_reset() gives the state a VMM sets on
 *     vCPU n at reset, before the guest has run.
 *
 * Internal to libgmem (gmemctl and libgmem-compat link it).  Functions
 * return 0 or -errno.
 */
#ifndef GMEM_SNP_VMSA_H
#define GMEM_SNP_VMSA_H

#include <stddef.h>
#include <stdint.h>

#include "gmem/uapi.h"

#define GMEM__SNP_VMSA_SIZE 4096
/* The GPA the firmware measures every VMSA page at (SNP_LAUNCH_UPDATE). */
#define GMEM__SNP_VMSA_GPA 0xFFFFFFFFF000ULL

/* VMSA SEV_FEATURES bits (AMD APM vol. 2, "SEV_FEATURES"); KVM sets
 * SNP_ACTIVE itself on an SNP VM, the rest come from KVM_SEV_INIT2's
 * vmsa_features. */
#define GMEM__SNP_FEAT_SNP_ACTIVE  (1ULL << 0)
#define GMEM__SNP_FEAT_DEBUG_SWAP  (1ULL << 5)

/* Host facts that KVM folds into the VMSA (see .flags). */
/* The host's CR4.MCE is clear: KVM does not force CR4.MCE into the guest's
 * CR4 (svm_set_cr4()).  Every host that runs SEV has it set. */
#define GMEM__SNP_HOST_NO_MCE		(1U << 0)
/* KVM_X86_QUIRK_CD_NW_CLEARED is disabled: CR0.CD and CR0.NW stay as the
 * VMM set them (svm_set_cr0() clears them while the quirk is on, the
 * default). */
#define GMEM__SNP_HOST_KEEP_CD_NW	(1U << 1)
/* The VM was created as KVM_X86_DEFAULT_VM with the legacy KVM_SEV_ES_INIT:
 * KVM leaves the x87/SSE/AVX fields of the VMSA zero. */
#define GMEM__SNP_HOST_LEGACY_ES_INIT	(1U << 2)

/*
 * A vCPU's state in KVM's own structures.  Zero-initialise, then fill:
 *
 *   regs       KVM_GET_REGS.  rax..r15, rip, rflags go to the VMSA.
 *   sregs      KVM_GET_SREGS.  The ten segment and descriptor-table
 *              registers, cr0, cr3, cr4, efer.  cr2, cr8, apic_base and
 *              interrupt_bitmap are not part of the initial VMSA (KVM
 *              syncs CR2 into the VMCB only at VMRUN).
 *   fpu        fcw, fsw, ftwx (the abridged FXSAVE tag byte), last_opcode,
 *              last_ip, last_dp, fpr[8] (80-bit registers in 16-byte
 *              slots), xmm[16], mxcsr.  Fill it (with ymmh and pkru) from
 *              KVM_GET_XSAVE with gmem__snp_vcpu_state_set_xsave(): KVM_GET_FPU
 *              never reports MXCSR (x86.c leaves kvm_fpu.mxcsr 0), while
 *              KVM writes the real MXCSR into the VMSA.
 *   ymmh       The upper 128 bits of YMM0-15: the XSAVE YMM_Hi128
 *              component (offset 576 in the standard format).  Zero when
 *              AVX state is absent.
 *   xcr0       KVM_GET_XCRS, XCR0 (KVM's reset value is 1).
 *   xss        MSR_IA32_XSS (KVM_GET_MSRS).
 *   pkru       The XSAVE PKRU component.
 *   dr6, dr7   KVM_GET_DEBUGREGS.  KVM refuses to launch a vCPU whose DR7
 *              has a bit beyond DR7_FIXED_1 (0x400) set: so does the build.
 *   pat, star, lstar, cstar, sfmask, kernel_gs_base, sysenter_cs,
 *   sysenter_esp, sysenter_eip, dbgctl
 *              The MSRs SVM keeps in the VMCB save area (KVM_GET_MSRS);
 *              KVM's reset PAT is 0x0007040600070406.
 *   flags      GMEM__SNP_HOST_*: the host's effect on the VMSA.
 */
struct gmem__snp_vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	uint8_t ymmh[16][16];
	uint64_t xcr0;
	uint64_t xss;
	uint32_t pkru;
	uint32_t flags;
	uint64_t dr6, dr7;
	uint64_t pat;
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t dbgctl;
};

/*
 * Build the 4 KiB VMSA page of vCPU state *s with SEV_FEATURES
 * sev_features (on an SNP VM, KVM_SEV_INIT2's vmsa_features |
 * GMEM__SNP_FEAT_SNP_ACTIVE) into vmsa[], as sev_es_sync_vmsa() does: the
 * VMCB save area as KVM_SET_SREGS/REGS/DEBUGREGS/MSRS left it (segment
 * attributes in the VMCB's 12-bit form, CPL from SS.DPL, EFER.SVME forced,
 * CR4.MCE forced, CR0.CD/NW cleared), then the GPRs, XCR0, PKRU, XSS,
 * DR6, SEV_FEATURES and the x87/SSE/AVX state.
 * -EINVAL if DR7 has bits beyond DR7_FIXED_1; -EFAULT on NULL.
 */
int gmem__snp_vmsa_build(const struct gmem__snp_vcpu_state *s,
			 uint64_t sev_features, uint8_t vmsa[GMEM__SNP_VMSA_SIZE]);

/*
 * Fill s->fpu, s->ymmh and s->pkru from a standard-format XSAVE image, the
 * region of struct kvm_xsave as KVM_GET_XSAVE (or KVM_GET_XSAVE2) returns
 * it: the legacy FXSAVE area (x87 control words, FIP/FDP in the 64-bit
 * layout, MXCSR, ST0-7, XMM0-15), then, by XSTATE_BV, the YMM_Hi128
 * component at 576 and PKRU at 2688; a component absent from XSTATE_BV is
 * in its initial state, zero.  -EINVAL if len < 576 (no XSAVE header);
 * components beyond len are taken as absent.
 */
int gmem__snp_vcpu_state_set_xsave(struct gmem__snp_vcpu_state *s,
				   const void *xsave, size_t len);

/* The VMMs whose reset state is modelled (sev-snp-measure's --vmm-type). */
enum gmem__snp_vmm {
	GMEM__SNP_VMM_QEMU,
	GMEM__SNP_VMM_EC2,
};

/* "QEMU" (or "qemu") and "ec2": 0 and *vmm set, else -EINVAL. */
int gmem__snp_vmm_parse(const char *name, enum gmem__snp_vmm *vmm);
const char *gmem__snp_vmm_name(enum gmem__snp_vmm vmm);

/* The CPUID Fn0000_0001 EAX signature of a family, model and stepping (AMD
 * CPUID specification #25481): family above 0xF is split into the base 0xF
 * and the extended family; -EINVAL when out of range (family > 0x10E,
 * model > 0xFF, stepping > 0xF). */
int gmem__snp_cpu_sig(unsigned family, unsigned model, unsigned stepping,
		      uint32_t *sig);
/* The signature of a QEMU CPU model name ("EPYC-v4", "EPYC-Milan", ...):
 * 0, or -ENOENT for a name not in the table.  gmem__snp_cpu_type_name(i)
 * lists the names (NULL past the end). */
int gmem__snp_cpu_type_sig(const char *name, uint32_t *sig);
const char *gmem__snp_cpu_type_name(unsigned i);

/* The architectural reset vector, where the bootstrap processor starts. */
#define GMEM__SNP_BSP_RESET_EIP 0xFFFFFFF0U

/*
 * The state VMM `vmm` gives vCPU `index` at reset, as KVM then holds it:
 * real mode, CS selector 0xF000 with base (eip & 0xFFFF0000) and RIP
 * (eip & 0xFFFF), where eip is the reset vector for vCPU 0 and `ap_eip`
 * (the SEV-ES reset block of the firmware image) for the others; RDX the
 * CPUID signature `sig` (QEMU); x87/SSE at their reset values.  ap_eip 0
 * means the image has none: the other vCPUs start at the reset vector too.
 */
int gmem__snp_vcpu_reset(struct gmem__snp_vcpu_state *s, enum gmem__snp_vmm vmm,
			 unsigned index, uint32_t sig, uint32_t ap_eip);

#endif
