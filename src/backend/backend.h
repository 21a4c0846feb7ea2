/* SPDX-License-Identifier: MIT */
/*
 * Backend operations: where the bytes of a gmem live and who enforces the
 * conversion rules.  Backends are probed in order (native, kvm, emulated);
 * GMEM_BACKEND=name forces one and fails with -ENODEV when it is missing.
 */
#ifndef GMEM_BACKEND_H
#define GMEM_BACKEND_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

struct gmem;
struct gmem_vm;
struct gmem_attributes2;

struct gmem_backend_ops {
	const char *name;
	/* 0 when usable on this host, else -errno; *why (static string) says
	 * what is missing.  Called once, the result is cached. */
	int  (*probe)(const char **why);
	/* Per-VM setup (e.g. a KVM VM fd).  May be NULL. */
	int  (*vm_init)(struct gmem_vm *vm);
	void (*vm_fini)(struct gmem_vm *vm);
	/* Create the file holding the bytes: set g->fd to a file of g->size
	 * bytes that can be mmap'ed MAP_SHARED for the library's own access,
	 * every page reading zero.  Validation of size/flags is done before. */
	int  (*create)(struct gmem *g);
	void (*destroy)(struct gmem *g);
	/* Free the pages of [off, off+len) so that they read zero. */
	int  (*punch_hole)(struct gmem *g, uint64_t off, uint64_t len);
	/* The guest physical base changed (e.g. move a memslot).  May be NULL. */
	int  (*bind)(struct gmem *g, uint64_t gpa);
	/* Kernel pass-through of a conversion (native only; NULL means the
	 * library's engine enforces the semantics). */
	int  (*set_attributes)(struct gmem *g, struct gmem_attributes2 *a);
	/* The kernel enforces attributes (native): host views are plain
	 * mappings of the guest_memfd, and the library cannot touch private
	 * pages itself. */
	bool kernel_enforces;
	/* The content modes the kernel supports for a conversion to
	 * `attributes` (GMEM_CONTENT_* | GMEM_MODES_UNSPECIFIED), or -errno
	 * when it cannot say: the policy table answers then.  May be NULL. */
	int  (*content_modes)(struct gmem_vm *vm, uint64_t attributes,
			      uint64_t *modes);
};

extern const struct gmem_backend_ops gmem__backend_emulated;
extern const struct gmem_backend_ops gmem__backend_kvm;
extern const struct gmem_backend_ops gmem__backend_native;

/* The backends in probe order, NULL-terminated. */
extern const struct gmem_backend_ops *const gmem__backends[];

/* Select the backend: GMEM_BACKEND if set (-ENODEV if unusable), else the
 * first usable one in probe order.  Cached. */
int gmem__backend_select(const struct gmem_backend_ops **ops);
/* The next usable backend after *ops in probe order (never when forced by
 * GMEM_BACKEND); -ENODEV if none. */
int gmem__backend_next(const struct gmem_backend_ops **ops);

#endif
