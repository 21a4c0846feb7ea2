/* SPDX-License-Identifier: MIT */
/*
 * What libgmem-compat (compat/) may use of the library beyond its public
 * API.  The shim links the library's objects (mk/compat.mk), so every
 * external symbol of src/ would resolve; this header is the line drawn
 * instead.  compat/ includes the public headers (gmem/gmem.h, gmem/uapi.h,
 * gmem/snp.h) and this one, and nothing else from src/; what the shim needs
 * from inside the library is added here, as an entry point of
 * src/compat_vm.c, which includes this header too so that the compiler
 * holds both sides to the same declarations.
 */
#ifndef GMEM_COMPAT_API_H
#define GMEM_COMPAT_API_H

#include <stdbool.h>

#include "gmem/gmem.h"
#include "gmem/snp.h"
/* The VMSA builder (struct gmem__snp_vcpu_state, gmem__snp_vmsa_build()),
 * shared with gmemctl measure. */
#include "platform/snp_vmsa.h"
/* Children of fork() follow the conversions (src/follow.c). */
#include "follow.h"

/* Poison markers (src/view.c), the one mechanism that makes a host page
 * raise SIGBUS without a VMA of its own: may this process use them;
 * register a whole mapping for them (before its first marker); mark
 * [a, a+len) of a MAP_SHARED mapping of a memfd (0, or -errno with no
 * marker left); take the markers away (the bytes stay). */
bool gmem__marks_available(void);
int  gmem__marks_register(uint8_t *a, uint64_t len);
int  gmem__marks_set(uint8_t *a, uint64_t len);
void gmem__marks_clear(uint8_t *a, uint64_t len);
/* In a child of fork(): no markers from now on (the inherited userfaultfd
 * is the parent's). */
void gmem__marks_forget(void);

/* A kvm-backend VM on the application's KVM VM app_vm_fd (duplicated, so
 * the KVM VM lives as long as the library's files on it), or, where the
 * kernel has no guest_memfd the shim can use (!kernel_gmem), an emulated
 * one whose files are memfds; app_vm_fd < 0: a VM that only answers
 * capability and policy queries.  0 or -errno. */
int gmem__compat_vm_create(struct gmem_vm **vm, const char *platform,
			   const char *policy, int app_vm_fd, bool kernel_gmem);
/* The library's own descriptor of g's guest_memfd, or -EFAULT. */
int gmem__compat_fd(const struct gmem *g);
/* The library's own mapping of all of g (never covered), or NULL. */
void *gmem__compat_mem(const struct gmem *g);

/* What capability number cap answers under the policy, in the numbering
 * of the series' revision the policy follows (src/policy.c):
 * GMEM_CAP_ATTRIBUTES (1: KVM_MEMORY_ATTRIBUTE_PRIVATE),
 * GMEM_CAP_CONTENT_MODES (2: the content flags of the VM's table),
 * GMEM_CAP_ZERO (3: 0, not in that kernel), 0 (a number the kernel
 * answers), -EINVAL (unknown policy). */
int gmem__compat_policy_cap(const char *policy, long cap);
/* Does a launch update without a source populate in place (v8)? */
bool gmem__compat_policy_inplace_launch(const char *policy);
/* Is a non-zero error_offset on input accepted and left (v8)? */
bool gmem__compat_policy_error_offset_in(const char *policy);
/* Where the application's memslot puts g's offset 0 in the guest: the
 * vendor models measure and encrypt by GPA.  No memslot of the library's
 * own is made.  0 or -EINVAL / -EFAULT. */
int gmem__compat_place(struct gmem *g, uint64_t gpa);
/* The fallible steps of gmem_set_memory_attributes(g, a) (validation,
 * content-mode policy, pins, the stores' memory for nsets conversions of
 * g in a row), changing nothing: 0, after which those conversions of a g
 * the library keeps no host view of cannot fail while nothing else changes
 * g, or the error (and error_offset) the conversion would give.  Lets a
 * request spanning several files be all-or-nothing. */
int gmem__compat_convert_check(struct gmem *g, struct gmem_attributes2 *a,
			       unsigned nsets);
/* The SEV-SNP launch of a KVM_X86_SNP_VM (src/platform/snp.c). */
/* As gmem_snp_launch_update(), the firmware being told the range starts
 * at guest physical address gpa (a file several memslots map has
 * several). */
int gmem__snp_launch_update_gpa(struct gmem *g, uint64_t offset, uint64_t len,
				uint64_t gpa, unsigned page_type,
				unsigned *fw_error);
/* The firmware's CPUID check for this VM (NULL: the modelled platform's). */
int gmem__snp_set_cpuid_check(struct gmem_vm *vm,
			      int (*check)(void *opaque,
					   struct gmem_snp_cpuid_table *t,
					   unsigned *nchanged),
			      void *opaque);
/* SNP_LAUNCH_UPDATE of one vCPU's VMSA page (KVM's LAUNCH_FINISH). */
int gmem__snp_launch_vmsa(struct gmem_vm *vm, const void *vmsa);

#endif
