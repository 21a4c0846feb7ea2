/* SPDX-License-Identifier: MIT */
/* libgmem internals: the VM and gmem objects shared by the engine, the
 * backends and the platform models.  Internal symbols use the gmem__ prefix
 * and are not exported from libgmem.so (see src/libgmem.map). */
#ifndef GMEM_INTERNAL_H
#define GMEM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <errno.h>

#include "gmem/gmem.h"
#include "backend/backend.h"
#include "rangeset.h"
#include "follow.h"

#define PAGE_SIZE   GMEM_PAGE_SIZE
#define PAGE_SHIFT  12
#define PAGE_ALIGNED(x) (((x) & (PAGE_SIZE - 1)) == 0)

#define GMEM_PAGE_LOCKS 64
/* Slots of the attribute store's readers (gmem_get_memory_attributes),
 * one cache line each; slot 0 holds the writer's flag. */
#define GMEM_READERS 32

struct gmem_reader {
	unsigned n;
} __attribute__((aligned(64)));

struct gmem_platform;
struct gmem_policy;

struct gmem_vm {
	const struct gmem_platform *plat;
	const struct gmem_policy *policy;
	const struct gmem_backend_ops *backend;
	bool finalized;
	pthread_mutex_t lock;		/* phase, gmem list, vendor VM state */
	struct gmem *gmems;		/* list of files of this VM */
	void *backend_priv;		/* e.g. the KVM VM */
	void *plat_priv;		/* e.g. SNP firmware / TDX module state */
	uint64_t scramble_state;	/* sw_protected: seedable PRNG (GMEM_SCRAMBLE_SEED) */
};

struct gmem {
	struct gmem_vm *vm;
	const struct gmem_backend_ops *backend;
	uint64_t size;
	uint64_t flags;			/* GMEM_FLAG_* */
	uint64_t gpa;			/* guest physical base */
	bool bound;			/* gmem_bind() succeeded (a memslot) */
	int fd;				/* the file holding the bytes */
	uint8_t *mem;			/* the library's own mapping of fd */
	uint8_t *view;			/* the host view (gmem_mmap), or NULL */
	bool view_covered;		/* a to-shared span is still covered
					 * (gmem__view_restore_hidden) */
	bool view_marks;		/* userfaultfd can register the view:
					 * private pages can carry poison
					 * markers (src/view.c) */
	bool view_reg;			/* ... and it is registered */
	struct rangeset *vcover;	/* view pages that may lie under the
					 * SIGBUS cover mapping (1) */
	int view_seek;			/* fd's file, opened again: a file
					 * position of the view's own, for
					 * SEEK_DATA (-1: none) */
	/* Children of fork() (src/view.c, src/follow.c): the file's
	 * identity, the process that made g, and in a child the parent's
	 * attributes as last told, or told_lost (every page private in the
	 * child's view).  Under `lock`. */
	uint64_t dev, ino;
	pid_t owner;
	struct gmem_follow_told *told;
	bool told_lost;

	/* The kernel's invalidate_lock: writers convert, punch, pin;
	 * readers are guest accesses and queries. */
	pthread_rwlock_t lock;
	struct rangeset *attrs;		/* GMEM_ATTR_PRIVATE per page */
	struct gmem_reader *rd;		/* GMEM_READERS + 1 lines: readers of
					 * attrs that take no lock */
	struct rangeset *pins;		/* pin count per page */
	struct rangeset *vendor;	/* RMP / S-EPT state per page, or NULL */
	struct gmem_stats stats;
	/* Striped page locks for read-modify-write of encrypted pages by
	 * concurrent guest accesses (readers of `lock`). */
	pthread_mutex_t page_lock[GMEM_PAGE_LOCKS];

	struct gmem *next_in_vm;
	struct gmem *next_global;	/* for fork handling */
	struct gmem **pprev_global;
	void *backend_priv;
	void *plat_priv;
};

/* The bytes of a page run through the library's own mapping. */
static inline uint8_t *gmem__mem(struct gmem *g, uint64_t off)
{
	return g->mem + off;
}

/* A non-empty, page-aligned range inside the file. */
static inline bool gmem__range_ok(const struct gmem *g, uint64_t off,
				  uint64_t len)
{
	return len && PAGE_ALIGNED(off) && PAGE_ALIGNED(len) &&
	       off + len >= off && off + len <= g->size;
}

static inline pthread_mutex_t *gmem__page_lock(struct gmem *g, uint64_t off)
{
	return &g->page_lock[(off >> PAGE_SHIFT) % GMEM_PAGE_LOCKS];
}

/* Zero [off, off+len) of the physical bytes, touching only allocated
 * pages.  Returns the number of pages written. */
uint64_t gmem__zero_range(struct gmem *g, uint64_t off, uint64_t len);
/* The same bytes written, counted as no content mode's work (a vendor
 * operation's own clearing). */
uint64_t gmem__clear_range(struct gmem *g, uint64_t off, uint64_t len);
/* Is the page at off backed by memory? */
bool gmem__page_allocated(struct gmem *g, uint64_t off);

/* A VM with its platform, policy and scramble seed, no backend yet
 * (-EINVAL for an unknown name); gmem__vm_free() undoes it. */
int  gmem__vm_alloc(struct gmem_vm **vm, const char *platform,
		    const char *policy);
void gmem__vm_free(struct gmem_vm *vm);

/* The GMEM_M_* content modes the VM accepts now for that direction. */
unsigned gmem__vm_modes(struct gmem_vm *vm, uint64_t attributes);

/* rs_set() of g->attrs, with g->lock held for writing: waits out the
 * readers that take no lock.  Every change of g->attrs goes through it. */
int gmem__attrs_set(struct gmem *g, uint64_t start, uint64_t end, unsigned attr);
int gmem__convert_check(struct gmem *g, struct gmem_attributes2 *a,
			unsigned nsets);

/* Host views (src/view.c). */
int  gmem__view_revoke(struct gmem *g, uint64_t off, uint64_t len);
int  gmem__view_restore(struct gmem *g, uint64_t off, uint64_t len);
/* Split the SIGBUS cover over the span (the fallible step), change the
 * bytes, then reveal the file pages (cannot fail in practice). */
int  gmem__view_restore_hidden(struct gmem *g, uint64_t off, uint64_t len);
void gmem__view_reveal(struct gmem *g, uint64_t off, uint64_t len);
void gmem__view_unregister(struct gmem *g);
/* A conversion of [off, off + len) tells the children of fork() that
 * follow g's view: to private once nothing can fail any more and before
 * any byte changes (returns once they covered it), to shared once it is
 * done.  Nothing without children. */
void gmem__view_tell(struct gmem *g, uint64_t off, uint64_t len,
		     bool to_private);
/* Test-only: false makes every private run of a view take the cover (the
 * mechanism of views that userfaultfd cannot register), true (the
 * default) lets small runs take poison markers. */
void gmem__view_markers(bool on);

/* Read physical bytes without allocating holes. */
void gmem__phys_read(struct gmem *g, uint64_t off, void *buf, uint64_t len);

/* Test-only fault injection (tests/, fuzz/): the n-th call of the given
 * kind from now fails with -err (n = 0 is the next call); n < 0 disarms.
 * GMEM_FI_CRYPTO stands for a failing libcrypto call (page encryption, the
 * SNP launch digest, the TDX measurement). */
enum gmem_fault_kind {
	GMEM_FI_ALLOC, GMEM_FI_MMAP, GMEM_FI_FALLOCATE, GMEM_FI_IOCTL,
	GMEM_FI_CRYPTO,
	GMEM_FI_NR
};
void gmem__fault_inject(enum gmem_fault_kind kind, long n, int err);
/* Sticky: the n-th call and every later one fail until re-armed. */
void gmem__fault_inject_from(enum gmem_fault_kind kind, long n, int err);
/* Faults fired since the kind was last armed, and since the start. */
long gmem__fault_fired(enum gmem_fault_kind kind);
unsigned long gmem__fault_total(enum gmem_fault_kind kind);
/* 0, or -err when the injected fault fires for this call. */
int gmem__fault_check(enum gmem_fault_kind kind);

#endif
