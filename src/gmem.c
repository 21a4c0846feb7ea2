/* SPDX-License-Identifier: MIT */
/* gmem files: creation, attribute queries, pins, hole punching, statistics. */
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include "internal.h"
#include "platform/platform.h"

#define GMEM_FLAGS_VALID (GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED)

static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static void readers_init(void);	/* lookups without a lock: see below */

static void gmem_free(struct gmem *g)
{
	if (g->mem)
		munmap(g->mem, g->size);
	if (g->fd >= 0)
		g->backend->destroy(g);
	rs_destroy(g->attrs);
	free(g->rd);
	rs_destroy(g->pins);
	rs_destroy(g->vendor);
	pthread_rwlock_destroy(&g->lock);
	for (int i = 0; i < GMEM_PAGE_LOCKS; i++)
		pthread_mutex_destroy(&g->page_lock[i]);
	free(g);
}

static int gmem_alloc_state(struct gmem *g)
{
	const struct gmem_platform *plat = g->vm->plat;
	unsigned init = (g->flags & GMEM_FLAG_INIT_SHARED) ? 0 : GMEM_ATTR_PRIVATE;
	int ret;

	if ((ret = gmem__fault_check(GMEM_FI_ALLOC)))
		return ret;
	g->rd = aligned_alloc(sizeof(*g->rd), (GMEM_READERS + 1) * sizeof(*g->rd));
	if (!g->rd)
		return -ENOMEM;
	memset(g->rd, 0, (GMEM_READERS + 1) * sizeof(*g->rd));
	if ((ret = rs_create(&g->attrs, g->size, init)) ||
	    (ret = rs_create(&g->pins, g->size, 0)))
		return ret;
	if (plat->has_vendor_state)
		return rs_create(&g->vendor, g->size, plat->vendor_initial);
	return 0;
}

int gmem_create(struct gmem_vm *vm, uint64_t size, uint64_t flags,
		struct gmem **gp)
{
	struct gmem *g;
	int ret;

	if (!vm || !gp)
		return -EFAULT;
	*gp = NULL;
	/* The kernel's kvm_gmem_create() rules: unknown flags, size 0 or not
	 * page aligned are -EINVAL. */
	if ((flags & ~GMEM_FLAGS_VALID) || !size || !PAGE_ALIGNED(size) ||
	    size > (1ULL << 52))
		return -EINVAL;
	pthread_once(&reader_once, readers_init);
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->vm = vm;
	g->backend = vm->backend;
	g->size = size;
	g->flags = flags;
	g->fd = -1;
	g->view_seek = -1;
	g->owner = getpid();
	pthread_rwlock_init(&g->lock, NULL);
	for (int i = 0; i < GMEM_PAGE_LOCKS; i++)
		pthread_mutex_init(&g->page_lock[i], NULL);
	ret = gmem_alloc_state(g);
	if (ret)
		goto err;
	ret = g->backend->create(g);
	if (ret)
		goto err;
	ret = gmem__fault_check(GMEM_FI_MMAP);
	if (ret)
		goto err;
	/* Where the kernel enforces, a guest_memfd without MMAP cannot be
	 * mapped at all: the library then has no mapping of its own. */
	if (!g->backend->kernel_enforces || (flags & GMEM_FLAG_MMAP)) {
		g->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_NORESERVE, g->fd, 0);
		if (g->mem == MAP_FAILED) {
			g->mem = NULL;
			ret = -errno;
			goto err;
		}
	}
	pthread_mutex_lock(&vm->lock);
	g->next_in_vm = vm->gmems;
	vm->gmems = g;
	pthread_mutex_unlock(&vm->lock);
	*gp = g;
	return 0;
err:
	gmem_free(g);
	return ret;
}

void gmem_destroy(struct gmem *g)
{
	struct gmem **pp;

	if (!g)
		return;
	pthread_mutex_lock(&g->vm->lock);
	for (pp = &g->vm->gmems; *pp; pp = &(*pp)->next_in_vm) {
		if (*pp == g) {
			*pp = g->next_in_vm;
			break;
		}
	}
	pthread_mutex_unlock(&g->vm->lock);
	gmem__view_unregister(g);
	gmem_free(g);
}

uint64_t gmem_size(const struct gmem *g) { return g ? g->size : 0; }

const char *gmem_backend_name(struct gmem *g) { return g ? g->backend->name : NULL; }

int gmem_bind(struct gmem *g, uint64_t gpa)
{
	int ret = 0;

	if (!g)
		return -EFAULT;
	if (!PAGE_ALIGNED(gpa) || gpa + g->size < gpa)
		return -EINVAL;
	/* As KVM refuses overlapping memslots: -EEXIST if another bound gmem
	 * of the VM covers part of [gpa, gpa + size). */
	pthread_mutex_lock(&g->vm->lock);
	for (struct gmem *o = g->vm->gmems; o; o = o->next_in_vm) {
		if (o != g && o->bound && gpa < o->gpa + o->size &&
		    o->gpa < gpa + g->size) {
			pthread_mutex_unlock(&g->vm->lock);
			return -EEXIST;
		}
	}
	pthread_rwlock_wrlock(&g->lock);
	if (g->backend->bind)
		ret = g->backend->bind(g, gpa);
	if (!ret) {
		g->gpa = gpa;
		g->bound = true;
	}
	pthread_rwlock_unlock(&g->lock);
	pthread_mutex_unlock(&g->vm->lock);
	return ret;
}

/*
 * Readers of the attribute store write no shared cache line, as the
 * kernel's readers of memory attributes (under RCU) write none.  Each
 * reading thread owns a record (one cache line, kept for the thread's
 * life and then reused): a reader marks its record active, then checks the
 * gmem's writer flag (g->rd[0]); a writer raises the flag, then waits until
 * no record is active; a reader that finds the flag raised leaves and takes
 * g->lock for reading, which the writer holds.  One of the two must see
 * the other's store: the writer issues membarrier(PRIVATE_EXPEDITED), a
 * full barrier on every running thread of the process, so that readers
 * need none and their lookups keep the memory-level parallelism of plain
 * loads.  Where membarrier() is missing (and under ThreadSanitizer, which
 * cannot see it), both sides use sequentially consistent atomics and each
 * thread counts itself in one of the gmem's slots (g->rd[1..]).
 */
#if defined(__SANITIZE_THREAD__)
#define READERS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define READERS_TSAN 1
#endif
#endif

struct reader_rec {
	unsigned active;
	unsigned used;			/* owned by a live thread */
	struct reader_rec *next;
} __attribute__((aligned(64)));

static struct reader_rec *reader_recs;	/* pushed, never freed */
static pthread_key_t reader_key;
static bool readers_mb;			/* membarrier() registered */
static __thread __attribute__((tls_model("initial-exec")))
	struct reader_rec *my_rec;

#ifndef READERS_TSAN
static void reader_release(void *p)
{
	__atomic_store_n(&((struct reader_rec *)p)->used, 0, __ATOMIC_RELEASE);
}

/* fork(): the child's only thread is not inside a lookup */
static void readers_fork_child(void)
{
	for (struct reader_rec *r = reader_recs; r; r = r->next)
		if (r != my_rec)
			r->active = r->used = 0;
}

#endif

static void readers_init(void)
{
#ifndef READERS_TSAN
	if (!pthread_key_create(&reader_key, reader_release) &&
	    !syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
		     0, 0)) {
		pthread_atfork(NULL, NULL, readers_fork_child);
		readers_mb = true;
	}
#endif
}

/* This thread's record, or NULL (no memory: the caller takes the lock). */
static struct reader_rec *reader_rec(void)
{
	struct reader_rec *r;

	for (r = __atomic_load_n(&reader_recs, __ATOMIC_ACQUIRE); r; r = r->next) {
		unsigned z = 0;

		if (__atomic_compare_exchange_n(&r->used, &z, 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			goto got;
	}
	r = aligned_alloc(sizeof(*r), sizeof(*r));
	if (!r)
		return NULL;
	r->active = 0;
	r->used = 1;
	r->next = __atomic_load_n(&reader_recs, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&reader_recs, &r->next, r, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
got:
	pthread_setspecific(reader_key, r);
	my_rec = r;
	return r;
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() sched_yield()
#endif

static unsigned slot_next;
static __thread unsigned my_slot;	/* 1..GMEM_READERS, 0: none yet */

static unsigned reader_slot(void)
{
	if (!my_slot)
		my_slot = 1 + __atomic_fetch_add(&slot_next, 1, __ATOMIC_RELAXED) %
			      GMEM_READERS;
	return my_slot;
}

/* Wait until *p is 0: a lookup takes well under a microsecond, but its
 * thread may have been preempted in the middle: then sleep until it wakes
 * us (lookup_unlocked()), or a millisecond has passed. */
static void wait_zero(unsigned *p, int order)
{
	static const struct timespec ms = { 0, 1000000 };

	for (unsigned spins = 0; __atomic_load_n(p, order); spins++) {
		if (spins < 64)
			cpu_relax();
		else if (readers_mb)
			syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, 1, &ms, NULL, 0);
		else
			sched_yield();
	}
}

int gmem__attrs_set(struct gmem *g, uint64_t start, uint64_t end, unsigned attr)
{
	int ret;

	if (readers_mb) {
		__atomic_store_n(&g->rd[0].n, 1, __ATOMIC_RELAXED);
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
		for (struct reader_rec *r = __atomic_load_n(&reader_recs, __ATOMIC_ACQUIRE);
		     r; r = r->next)
			wait_zero(&r->active, __ATOMIC_ACQUIRE);
	} else {
		__atomic_store_n(&g->rd[0].n, 1, __ATOMIC_SEQ_CST);
		for (unsigned i = 1; i <= GMEM_READERS; i++)
			wait_zero(&g->rd[i].n, __ATOMIC_SEQ_CST);
	}
	ret = rs_set(g->attrs, start, end, attr);
	__atomic_store_n(&g->rd[0].n, 0, __ATOMIC_RELEASE);
	return ret;
}

/* A lookup without the lock, or false when a writer is at work. */
static bool lookup_unlocked(struct gmem *g, uint64_t off, unsigned *a,
			    uint64_t *end)
{
	struct reader_rec *r;
	struct gmem_reader *slot;
	bool ok;

	if (readers_mb) {
		r = my_rec ? my_rec : reader_rec();
		if (!r)
			return false;
		__atomic_store_n(&r->active, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);	/* membarrier pairs */
		ok = !__atomic_load_n(&g->rd[0].n, __ATOMIC_ACQUIRE);
		if (ok)
			*a = rs_lookup(g->attrs, off, end);
		__atomic_store_n(&r->active, 0, __ATOMIC_RELEASE);
		/* a writer that came meanwhile may be asleep on the record */
		if (!ok || __atomic_load_n(&g->rd[0].n, __ATOMIC_RELAXED))
			syscall(SYS_futex, &r->active, FUTEX_WAKE_PRIVATE, 1,
				NULL, NULL, 0);
		return ok;
	}
	slot = &g->rd[reader_slot()];
	__atomic_fetch_add(&slot->n, 1, __ATOMIC_SEQ_CST);
	ok = !__atomic_load_n(&g->rd[0].n, __ATOMIC_SEQ_CST);
	if (ok)
		*a = rs_lookup(g->attrs, off, end);
	__atomic_fetch_sub(&slot->n, 1, __ATOMIC_RELEASE);
	return ok;
}

int gmem_get_memory_attributes(struct gmem *g, uint64_t offset,
			       uint64_t *attributes, uint64_t *run_len)
{
	uint64_t end;
	unsigned a;

	if (!g || !attributes)
		return -EFAULT;
	if (!PAGE_ALIGNED(offset) || offset >= g->size)
		return -EINVAL;
	if (!lookup_unlocked(g, offset, &a, &end)) {
		pthread_rwlock_rdlock(&g->lock);
		a = rs_lookup(g->attrs, offset, &end);
		pthread_rwlock_unlock(&g->lock);
	}
	*attributes = a;
	if (run_len)
		*run_len = end - offset;
	return 0;
}

/* GUP faults the page in before pinning it: a pinned page is backed.  A
 * read through the library's mapping allocates it as that fault does
 * (fallocate()d shmem pages would not count as resident). */
static void pin_populate(struct gmem *g, uint64_t offset)
{
	(void)*(volatile uint8_t *)(g->mem + offset);
}

/* Pins: the analogue of a GUP pin or a VFIO DMA mapping of a shared page. */
int gmem_pin(struct gmem *g, uint64_t offset)
{
	uint64_t end;
	unsigned n;
	int ret;

	if (!g)
		return -EFAULT;
	if (!PAGE_ALIGNED(offset) || offset >= g->size)
		return -EINVAL;
	if (g->backend->kernel_enforces)
		return -EOPNOTSUPP;	/* the kernel sees real GUP pins */
	pthread_rwlock_wrlock(&g->lock);
	if (rs_lookup(g->attrs, offset, &end) & GMEM_ATTR_PRIVATE) {
		ret = -EFAULT;	/* GUP of a private page fails */
	} else {
		n = rs_lookup(g->pins, offset, &end);
		ret = n >= 4095 ? -EOVERFLOW :
		      rs_set(g->pins, offset, offset + PAGE_SIZE, n + 1);
		if (!ret)
			pin_populate(g, offset);
	}
	pthread_rwlock_unlock(&g->lock);
	return ret;
}

int gmem_unpin(struct gmem *g, uint64_t offset)
{
	uint64_t end;
	unsigned n;
	int ret;

	if (!g)
		return -EFAULT;
	if (!PAGE_ALIGNED(offset) || offset >= g->size)
		return -EINVAL;
	pthread_rwlock_wrlock(&g->lock);
	n = rs_lookup(g->pins, offset, &end);
	ret = n ? rs_set(g->pins, offset, offset + PAGE_SIZE, n - 1) : -EINVAL;
	pthread_rwlock_unlock(&g->lock);
	return ret;
}

/* Hole punching frees the pages and keeps the attributes; the vendor state
 * of the range returns to that of a fresh page (the folio is gone). */
int gmem_punch_hole(struct gmem *g, uint64_t offset, uint64_t len)
{
	int ret;

	if (!g)
		return -EFAULT;
	/* As fallocate(2) on a guest_memfd: unaligned or empty is -EINVAL,
	 * beyond the largest file -EFBIG, and a range past the end of the
	 * file is clipped to it. */
	if (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len) || !len ||
	    offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (offset + len < offset || offset + len > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (offset >= g->size)
		return 0;
	if (offset + len > g->size)
		len = g->size - offset;
	pthread_rwlock_wrlock(&g->lock);
	ret = g->vendor ? rs_reserve(g->vendor, 1) : 0;
	if (!ret)
		ret = g->backend->punch_hole(g, offset, len);
	if (!ret && g->vendor)
		rs_set(g->vendor, offset, offset + len, g->vm->plat->vendor_initial);
	pthread_rwlock_unlock(&g->lock);
	return ret;
}

int gmem_get_stats(struct gmem *g, struct gmem_stats *st)
{
	if (!g || !st)
		return -EFAULT;
	pthread_rwlock_rdlock(&g->lock);
	*st = g->stats;
	st->ranges = rs_runs(g->attrs);
	st->ranges_bytes = rs_bytes(g->attrs);
	pthread_rwlock_unlock(&g->lock);
	return 0;
}

int gmem_page_info(struct gmem *g, uint64_t offset, struct gmem_page_info *pi)
{
	uint64_t end;

	if (!g || !pi)
		return -EFAULT;
	if (offset >= g->size)
		return -EINVAL;
	offset &= ~(PAGE_SIZE - 1);
	memset(pi, 0, sizeof(*pi));
	pthread_rwlock_rdlock(&g->lock);
	pi->attributes = rs_lookup(g->attrs, offset, &end);
	pi->pinned = (int)rs_lookup(g->pins, offset, &end);
	pi->vendor_state = g->vendor ? (int)rs_lookup(g->vendor, offset, &end) : 0;
	pi->allocated = gmem__page_allocated(g, offset);
	/* Encrypted once the hardware owns it (RMP assigned, S-EPT mapped):
	 * before that a private page still holds what the host wrote. */
	pi->encrypted = g->vm->plat->encrypts &&
			(pi->attributes & GMEM_ATTR_PRIVATE) &&
			pi->vendor_state != (int)g->vm->plat->vendor_initial;
	pthread_rwlock_unlock(&g->lock);
	return 0;
}
