/* SPDX-License-Identifier: MIT */
/*
 * Platform models: what a confidential-computing vendor does to memory when
 * it changes hands.  Each platform is one const table of data and hooks in
 * its own file; adding a platform touches that file and platform.c's list.
 */
#ifndef GMEM_PLATFORM_H
#define GMEM_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

struct gmem;
struct gmem_vm;
struct gmem_memory_fault;

enum gmem_platform_id {
	GMEM_PLAT_DEFAULT,
	GMEM_PLAT_SW_PROTECTED,
	GMEM_PLAT_SNP,
	GMEM_PLAT_TDX,
	GMEM_PLAT_PKVM,
	GMEM_PLAT_NR
};

struct gmem_platform {
	const char *name;
	enum gmem_platform_id id;
	unsigned kvm_vm_type;		/* KVM_X86_*_VM */
	bool encrypts;			/* private pages hold ciphertext (per-VM key) */
	bool has_vendor_state;		/* RMP / S-EPT kept per page */
	unsigned vendor_initial;	/* vendor state of a page never given to the guest */

	int  (*vm_init)(struct gmem_vm *vm);
	void (*vm_fini)(struct gmem_vm *vm);
	int  (*finalize)(struct gmem_vm *vm);

	/*
	 * A run [off, off+len) whose pages change state (they all had the old
	 * attributes), called under the gmem's write lock after every fallible
	 * step succeeded: performs the vendor's side effects on the bytes and
	 * the content mode (`mode`: GMEM_CONTENT_*), updating g->stats.  Cannot
	 * fail.  The vendor state is reset afterwards by the engine (to-shared).
	 */
	void (*to_shared)(struct gmem *g, uint64_t off, uint64_t len, uint64_t mode);
	void (*to_private)(struct gmem *g, uint64_t off, uint64_t len, uint64_t mode);

	/*
	 * A guest private access of [off, off+len) within one page whose gmem
	 * attribute is PRIVATE.  Returns 0, or -EFAULT with fault->flags set
	 * when the vendor state forbids it (SNP: not validated).  NULL: the
	 * guest reads and writes the physical bytes.  Called with the gmem's
	 * lock held shared (exclusive == false); a hook that must change the
	 * vendor state (TDX: accept) returns -EBUSY and is called again with
	 * the lock held exclusively.
	 */
	int  (*guest_private)(struct gmem *g, uint64_t off, void *buf,
			      uint64_t len, bool write, bool exclusive,
			      struct gmem_memory_fault *fault);
};

extern const struct gmem_platform gmem__plat_default;
extern const struct gmem_platform gmem__plat_sw_protected;
extern const struct gmem_platform gmem__plat_snp;
extern const struct gmem_platform gmem__plat_tdx;
extern const struct gmem_platform gmem__plat_pkvm;

const struct gmem_platform *gmem__platform_find(const char *name);

/* Content helpers shared by the platforms (src/content.c). */
void gmem__content_apply(struct gmem *g, uint64_t off, uint64_t len,
			 uint64_t mode, bool scramble_unspecified);
void gmem__scramble_range(struct gmem *g, uint64_t off, uint64_t len);

#endif
