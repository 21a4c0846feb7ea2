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

/* ---- the C library's functions (shim.c) ------------------------------- */
struct compat_real {
	int   (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int   (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int   (*fallocate)(int, int, off_t, off_t);
	int   (*close)(int);
};
extern struct compat_real compat_real;
void compat_real_init(void);

/* ---- libgmem entry points for the shim (src/compat_vm.c) -------------- */
/* All the shim uses of the library beyond its public API: see there. */
#include "compat_api.h"

/* ---- tracked descriptors (fdtab.c) ------------------------------------ */
enum compat_kind { COMPAT_VM = 1, COMPAT_GMEM };

/* Both kinds start with this header, so a table entry says what it is. */
struct compat_obj {
	enum compat_kind kind;
	int refs;			/* atomic */
};

struct compat_vm {
	struct compat_obj obj;		/* refs: the fd entry + one per file */
	struct gmem_vm *vm;
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
};

struct compat_obj *compat_fd_get(int fd);
int  compat_fd_set(int fd, struct compat_obj *o);	/* 0 or -ENOMEM */
void compat_fd_clear(int fd);
/* Readers: operations on a tracked fd; writer: close. */
extern pthread_rwlock_t compat_fd_lock;

/* ---- state (shim.c) ---------------------------------------------------- */
/* true once the shim decided to emulate; false: pure pass-through (the
 * kernel converts in place itself, or cannot host the emulation). */
bool compat_active(void);

/* ---- guest_memfds (file.c) -------------------------------------------- */
int  compat_create_gmem(int vm_fd, void *arg);		/* fd or -errno */
long compat_check_extension(int fd, long cap, bool *handled);
int  compat_set_attributes(struct compat_file *f, void *arg);
int  compat_set_region2(int vm_fd, void *arg);
int  compat_fallocate(struct compat_file *f, int mode, off_t off, off_t len);
void compat_obj_put(struct compat_obj *o);

/* ---- host mappings (maps.c) -------------------------------------------- */
extern int compat_nr_maps;	/* atomic: 0 means no tracked mapping */
void *compat_mmap_file(struct compat_file *f, void *addr, size_t len,
		       int prot, int flags, off_t off, int app_fd);
int   compat_munmap(void *addr, size_t len);
void *compat_mmap_other(void *addr, size_t len, int prot, int flags, int fd,
			off_t off);
int   compat_mremap_check(void *addr, size_t len);
/* [off, end) of every mapping of f: the runs a conversion to_private (or
 * to shared) changes are covered (SIGBUS) or map the file again; or every
 * run follows the attributes (sync, after a refused conversion).  0 or
 * -errno (-ENOMEM at vm.max_map_count). */
int   compat_maps_convert(struct compat_file *f, uint64_t off, uint64_t end,
			  bool to_private);
int   compat_maps_sync(struct compat_file *f, uint64_t off, uint64_t end);
void  compat_maps_fork_prepare(void);
void  compat_maps_fork_parent(void);
void  compat_maps_fork_child(void);

#endif
