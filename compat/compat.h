/* SPDX-License-Identifier: MIT */
/*
 * libgmem-compat internals.  See docs/compat.md.
 *
 * The shim sees every ioctl, mmap, munmap, mremap, fallocate and close of
 * the process.  Descriptors it does not track go straight to the C library
 * after one lock-free table look-up (fdtab.c); guest_memfds it created are
 * served by libgmem's engine (file.c) and their host mappings follow the
 * attributes (maps.c).
 */
#ifndef GMEM_COMPAT_H
#define GMEM_COMPAT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gmem/gmem.h"
#include "gmem/snp.h"

/* ---- the C library's functions (shim.c) ------------------------------- */
struct compat_real {
	int   (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int   (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int   (*fallocate)(int, int, off_t, off_t);
	int   (*close)(int);
	int   (*madvise)(void *, size_t, int);
};
extern struct compat_real compat_real;
void compat_real_init(void);

/* ---- libgmem entry points for the shim (src/compat_vm.c) -------------- */
/* All the shim uses of the library beyond its public API: see there. */
#include "compat_api.h"

/* ---- tracked descriptors (fdtab.c) ------------------------------------ */
enum compat_kind { COMPAT_VM = 1, COMPAT_GMEM, COMPAT_VCPU, COMPAT_SEVDEV };

/* Every kind starts with this header, so a table entry says what it is. */
struct compat_obj {
	enum compat_kind kind;
	int refs;			/* atomic */
};

struct compat_vm;
struct compat_vcpu;

/* A capability whose answer on a VM of some type differs from the kernel's
 * answer on the default VM underneath. */
struct compat_cap {
	long cap;
	long val;
};

/*
 * One row per VM type the application may ask KVM_CREATE_VM for (vmtypes.c).
 * The KVM VM underneath is always KVM_X86_DEFAULT_VM; the row says which
 * libgmem platform models it and what KVM says differently for it.
 */
struct compat_vm_type {
	unsigned long type;		/* KVM_X86_*_VM */
	const char *name;
	const char *platform;		/* NULL: GMEM_COMPAT_PLATFORM */
	bool phase_from_env;		/* GMEM_COMPAT_PHASE applies */
	const struct compat_cap *caps;	/* ends with cap 0 */
	/* KVM_MEMORY_ENCRYPT_OP on the VM fd: 0 or -errno; NULL: the
	 * kernel's answer for the default VM underneath. */
	int (*encrypt_op)(struct compat_vm *cvm, void *arg);
	/* KVM_MEMORY_ENCRYPT_OP on one of its vCPU fds (NULL: the kernel's
	 * answer for the vCPU underneath), called with compat_fd_lock read. */
	int (*vcpu_encrypt_op)(struct compat_vcpu *v, void *arg);
	/* May KVM_CREATE_VCPU go on now?  0 or -errno (NULL: yes). */
	int (*vcpu_precreate)(struct compat_vm *cvm);
	/* Per-VM state of the row's handlers: made at KVM_CREATE_VM,
	 * freed with the VM (either may be NULL). */
	int  (*vm_init)(struct compat_vm *cvm);
	void (*vm_fini)(struct compat_vm *cvm);
};

struct compat_vcpu;

struct compat_vm {
	struct compat_obj obj;		/* refs: the fd entry + one per file
					 * and per vCPU */
	const struct compat_vm_type *type;
	int fd;				/* the application's VM fd */
	int own_fd;			/* the shim's copy of it, once a slot of
					 * its own guest_memfd is bound: the file
					 * pins the VM (as in the kernel) and its
					 * slots are unbound through it; or -1 */
	struct gmem_vm *vm;		/* made at the first need */
	pthread_mutex_t lock;		/* vcpus, priv, memslots */
	struct compat_vcpu *vcpus;	/* in creation order */
	unsigned nr_vcpus_created;	/* KVM's created_vcpus */
	void *priv;			/* the row's state */
	struct compat_slot *slots;	/* gmem-backed memslots */
};

struct compat_vcpu {
	struct compat_obj obj;		/* refs: the fd entry */
	struct compat_vm *cvm;
	struct compat_vcpu *next;	/* cvm->vcpus, under cvm->lock */
	unsigned long id;		/* KVM_CREATE_VCPU's argument */
	int fd;				/* the application's descriptor */
	uint32_t guest_debug;		/* KVM_SET_GUEST_DEBUG's control */
};

/* A memslot bound to one of the shim's guest_memfds (KVM_SET_USER_MEMORY_
 * REGION2), for the VM-fd attribute and launch ioctls that name GPAs. */
struct compat_slot {
	struct compat_slot *next;
	uint32_t slot;
	uint64_t gpa, size, offset;
	struct compat_file *f;		/* the shim's guest_memfd bound, or NULL */
	void *unbound;			/* the slot's memory since its emulated
					 * guest_memfd went (PROT_NONE), or NULL */
};

struct compat_map;

struct compat_file {
	struct compat_obj obj;		/* refs: the fd entry + one per mapping */
	struct compat_vm *cvm;
	struct gmem *g;
	int lib_fd;			/* the library's descriptor of the file */
	uint64_t size;
	uint64_t app_flags;		/* GUEST_MEMFD_FLAG_* the app asked for */
	pthread_mutex_t lock;		/* conversions and new mappings */
	uint64_t dev, ino;		/* names the file to children */
	/* In a child of fork(): the parent's attributes as last told, or
	 * told_lost (every page private: the child cannot follow).  Both
	 * under maps_lock; NULL and false in a process that was not forked
	 * with the file. */
	struct gmem_follow_told *told;
	bool told_lost;
	unsigned seen;			/* maps.c, under maps_lock */
};

struct compat_obj *compat_fd_get(int fd);
/* fn for every tracked descriptor's object (an object with several
 * descriptors more than once); called with compat_fd_lock held. */
void compat_fd_each(void (*fn)(struct compat_obj *o, void *arg), void *arg);
int  compat_fd_set(int fd, struct compat_obj *o);	/* 0 or -ENOMEM */
void compat_fd_clear(int fd);
/* Readers: operations on a tracked fd; writer: close. */
extern pthread_rwlock_t compat_fd_lock;

/* ---- what the running kernel has (kernel.c) ----------------------------- */
struct compat_kernel {
	bool gmem;		/* an mmap-able, shareable guest_memfd on a
				 * default VM, and the shim may use it */
	bool region2;		/* KVM_SET_USER_MEMORY_REGION2 */
	bool inplace;		/* KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd */
};
const struct compat_kernel *compat_kernel(void);	/* probed once */
/* Is a VM of this type entirely the kernel's (it converts in place and
 * has the type)? */
bool compat_kernel_owns_type(int kvm_fd, unsigned long type);
/* The answer to a capability of what the shim supplies (*handled), or
 * the kernel's own where it has the feature. */
long compat_kernel_cap(long cap, bool *handled);

/* ---- state (shim.c) ---------------------------------------------------- */
/* true once the shim decided to emulate; false: pure pass-through (the
 * kernel converts in place itself, or cannot host the emulation). */
bool compat_active(void);

/* ---- VM types (vmtypes.c) ---------------------------------------------- */
const struct compat_vm_type *compat_vm_type(unsigned long type);
int  compat_create_vm(int kvm_fd, unsigned long type);	/* fd or -errno */
int  compat_create_vcpu(struct compat_vm *cvm, int vm_fd, unsigned long id);
/* The libgmem VM of cvm, made at the first need; called with
 * compat_fd_lock held (either way). */
int  compat_vm_lib(struct compat_vm *cvm, int vm_fd);
/* Answers of KVM_CHECK_EXTENSION that the VM types change (*handled). */
long compat_vm_type_cap(int fd, long cap, bool *handled);
struct compat_vm *compat_vm_new(const struct compat_vm_type *t);
long compat_dev_attr(int fd, bool get, void *arg, bool *handled);
void compat_vm_free(struct compat_vm *cvm);		/* refs reached 0 */
void compat_vcpu_free(struct compat_vcpu *v);		/* refs reached 0 */
void compat_slot_record(struct compat_vm *cvm, uint32_t slot, uint64_t gpa,
			uint64_t size, uint64_t offset, struct compat_file *f);
void compat_slot_record_locked(struct compat_vm *cvm, uint32_t slot,
			       uint64_t gpa, uint64_t size, uint64_t offset,
			       struct compat_file *f);	/* cvm->lock held */
void compat_slots_forget(struct compat_file *f);
/* KVM_SET_MEMORY_ATTRIBUTES on the fd of a VM whose type has private
 * memory; called with compat_fd_lock read. */
int  compat_vm_set_attributes(struct compat_vm *cvm, void *arg);
/* The gmem-backed memslot holding gpa: its file and the file offset of
 * gpa, and the bytes left in the slot from gpa; false if none.  Called
 * with cvm->lock held. */
bool compat_slot_find(struct compat_vm *cvm, uint64_t gpa,
		      struct compat_file **f, uint64_t *off, uint64_t *left);

/* ---- SEV-SNP (sev.c) ---------------------------------------------------- */
int  compat_sev_encrypt_op(struct compat_vm *cvm, void *arg);
int  compat_sev_vm_init(struct compat_vm *cvm);
void compat_sev_vm_fini(struct compat_vm *cvm);
/* GMEM_COMPAT_LOG: one line per call (a newline is added). */
void compat_sev_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool compat_sev_logging(void);	/* GMEM_COMPAT_LOG names a log */

/* ---- TDX (tdx.c) -------------------------------------------------------- */
int  compat_tdx_encrypt_op(struct compat_vm *cvm, void *arg);
int  compat_tdx_vcpu_encrypt_op(struct compat_vcpu *v, void *arg);
int  compat_tdx_vcpu_precreate(struct compat_vm *cvm);
int  compat_tdx_vm_init(struct compat_vm *cvm);
void compat_tdx_vm_fini(struct compat_vm *cvm);

/* ---- /dev/sev (sevdev.c) ------------------------------------------------ */
int  compat_sevdev_ioctl(unsigned long req, void *arg);
bool compat_is_sevdev(int fd);
void compat_sev_guests_add(int n);

/* ---- the modelled firmware's CPUID policy (sev_cpuid.c) ----------------- */
struct compat_snp_cpuid;
struct kvm_cpuid_entry2;
/* The policy of a host whose KVM_GET_SUPPORTED_CPUID gave host[nhost],
 * refusing the bits of refuse (GMEM_COMPAT_SNP_CPUID_REFUSE syntax, NULL:
 * none): 0, -EINVAL (malformed list), -E2BIG, -ENOMEM. */
int  compat_snp_cpuid_new(struct compat_snp_cpuid **p,
			  const struct kvm_cpuid_entry2 *host, unsigned nhost,
			  const char *refuse);
void compat_snp_cpuid_free(struct compat_snp_cpuid *p);
int  compat_snp_cpuid_check(void *policy, struct gmem_snp_cpuid_table *t,
			    unsigned *nchanged);

/* ---- guest_memfds (file.c) -------------------------------------------- */
/* A libgmem VM for a VM of type t (NULL: the default row) on the
 * application's VM fd (or on none: for capability answers). */
int  compat_new_lib_vm(struct gmem_vm **vm, const struct compat_vm_type *t,
		       int app_vm_fd);
int  compat_create_gmem(int vm_fd, void *arg);		/* fd or -errno */
bool compat_is_kvm_vm(int fd);		/* a KVM VM's descriptor? */
long compat_check_extension(int fd, long cap, bool *handled);
int  compat_set_attributes(struct compat_file *f, void *arg);
/* One memslot's part of a VM-fd conversion: [off, off + size) of f. */
struct compat_piece {
	struct compat_file *f;
	uint64_t off, size;
};
int  compat_files_convert(const struct compat_piece *p, size_t n,
			  uint64_t attributes);
int  compat_fallocate(struct compat_file *f, int mode, off_t off, off_t len);
void compat_obj_put(struct compat_obj *o);

/* ---- memslots (memslot.c) ---------------------------------------------- */
struct kvm_userspace_memory_region2;
/* KVM_SET_USER_MEMORY_REGION2 (v2) or KVM_SET_USER_MEMORY_REGION on a VM
 * fd, on every kernel generation; called with compat_fd_lock read. */
int  compat_set_region(int vm_fd, void *arg, bool v2);
/* The checks of __kvm_set_memory_region() and kvm_gmem_bind(), in their
 * order, for a slot r of the emulated guest_memfd f (NULL: the descriptor
 * is none of this VM's, not_gmem is the error) on a VM whose slots are
 * slots: 0 (size 0: a deletion, the kernel's to check) or -errno. */
bool compat_memslot_uaddr_ok(const struct kvm_userspace_memory_region2 *r);
int  compat_memslot_check(const struct compat_slot *slots,
			  const struct kvm_userspace_memory_region2 *r,
			  const struct compat_file *f, int not_gmem);
/* The kernel's slot s of an emulated guest_memfd that is going away stays,
 * unbound: it maps inaccessible memory from now on (s->unbound), or, if
 * that cannot be had, it goes.  false: it went.  cvm->lock held. */
bool compat_slot_unbind(int vm_fd, struct compat_slot *s);
/* A slot record goes: what it holds is given back. */
void compat_slot_free(struct compat_slot *s);

/* ---- host mappings (maps.c) -------------------------------------------- */
extern int compat_nr_maps;	/* atomic: 0 means no tracked mapping */
void *compat_mmap_file(struct compat_file *f, void *addr, size_t len,
		       int prot, int flags, off_t off);
int   compat_munmap(void *addr, size_t len);
void *compat_mmap_other(void *addr, size_t len, int prot, int flags, int fd,
			off_t off);
/* Does [addr, addr + len) hold any of a tracked mapping? */
int   compat_maps_overlap(void *addr, size_t len);
/* madvise() of advice that frees memory (MADV_DONTNEED,
 * MADV_DONTNEED_LOCKED, MADV_REMOVE) over a range holding a tracked
 * mapping: 0 or -errno. */
int   compat_maps_madvise(void *addr, size_t len, int advice);
/* [off, end) of every mapping of f: the runs a conversion to_private (or
 * to shared) changes are covered (SIGBUS) or map the file again; or every
 * run follows the attributes (sync, after a refused conversion).  0 or
 * -errno (-ENOMEM at vm.max_map_count). */
int   compat_maps_convert(struct compat_file *f, uint64_t off, uint64_t end,
			  bool to_private);
int   compat_maps_sync(struct compat_file *f, uint64_t off, uint64_t end);
/* Tell the children of fork() that [off, end) of f turned private (before
 * the conversion) or shared (after it); nothing without children. */
void  compat_maps_tell(struct compat_file *f, uint64_t off, uint64_t end,
		       bool to_private);
extern int compat_nr_files;	/* atomic: live guest_memfds of the shim */
void  compat_maps_fork_prepare(void);
void  compat_maps_fork_parent(void);
void  compat_maps_fork_child(void);

#endif
