/* SPDX-License-Identifier: MIT */
/*
 * Host views.  A view is one MAP_SHARED mapping of the whole file, created
 * on the first gmem_mmap().  Shared pages map the file itself.  A private
 * page raises a genuine SIGBUS (BUS_ADRERR), as a private guest_memfd page
 * does, in one of two ways:
 *
 *  - a poison marker: the view is registered with userfaultfd (write-protect
 *    mode, which delivers no fault by itself), and UFFDIO_POISON puts a
 *    marker in the page-table entry of each private page, populated or not.
 *    Markers cost no VMA: any number of runs fits in the one mapping.
 *    Taking a page away zaps its entry (MADV_DONTNEED) and poisons it
 *    (about 1.2 us for a 4 KiB run, 60 ns per further page); giving it back
 *    zaps the marker (0.2 us): the bytes never move.  Runs under 64 KiB go
 *    this way.  The view is registered when it first needs a marker: a
 *    registered VMA has no fault-around.
 *
 *  - the cover: a mapping (MAP_FIXED) of an empty memfd over the run, at the
 *    run's own offset so that adjacent covers are one VMA; a touch lands
 *    past that file's end.  One VMA operation whatever the size, and the
 *    page tables of a populated run follow the owner: revoking moves the
 *    view's entries into the library's own mapping (g->mem, through which
 *    the guest's private accesses and the content modes go) with
 *    mremap(MREMAP_DONTUNMAP), restoring moves them back, so the host does
 *    not refault a large run page by page.  Only where the file holds data
 *    (worth_moving()): a run nobody wrote has no entries to keep, and a
 *    move costs VMA operations of its own.  Large runs go this way while the
 *    view has few covers (COVER_RUNS_MAX); past that, markers take every
 *    run, so the view's VMA count stays bounded however fragmented the
 *    attributes are.  g->vcover records where covers may lie (a superset:
 *    a stale "covered" only costs a remap).
 *
 * Where userfaultfd cannot register the file (guest_memfd on Linux 6.18,
 * the kvm backend) every run takes the cover, one VMA per run, and a
 * conversion that would pass vm.max_map_count fails with -ENOMEM with
 * nothing changed.
 *
 * Processes: no user-space library can zap another process's page tables,
 * as the kernel does on conversion, and markers are not inherited by a
 * child whose VMA is not registered (a raw fork).  So every VMA of a view
 * is MADV_DONTFORK: a child made by syscall(SYS_fork) or clone() has no
 * mapping at the view's address.  The child of fork() makes its views
 * again in the atfork child handler (covers only: shared runs the file,
 * private runs the cover) and follows the parent's later conversions
 * through src/follow.c (docs/semantics.md).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "compat_api.h"
#include "gmem/uapi.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/* Every piece of a view is mapped with the same flags as the view itself
 * and the library's own mapping (MAP_NORESERVE included): mappings whose
 * flags differ never merge back into one VMA. */
#define VIEW_FLAGS (MAP_SHARED | MAP_NORESERVE)

#define VIEW_ALIGN (2ULL << 20)	/* one page-middle-directory entry */
/*
 * Below this, moving the entries costs more than it saves: each VMA
 * operation costs microseconds (more with thousands of VMAs), a refault
 * about 0.3 us per populated page.  Smaller runs are simply remapped.
 */
#define MOVE_MIN (128ULL << 10)
/*
 * Runs from this size take the cover where markers could: one VMA
 * operation (a few microseconds) against about 60 ns a page of poisoning,
 * the populated page tables move with the owner, and the host's reads
 * fault 16 pages at a time there (a registered VMA has no fault-around:
 * with markers, a 64 KiB run given back costs 16 read faults, not one).
 */
#define COVER_MIN (64ULL << 10)
/* Covers a view may hold (runs of g->vcover, about two VMAs each): past
 * this, every run takes markers. */
#define COVER_RUNS_MAX 512
/* Poisoning races with host touches that refault a zapped page: after
 * this many rounds the run takes the cover instead. */
#define MARK_TRIES 16

static int sigbus_fd = -1;
static int uffd = -1;		/* registers every view of the process */
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t views_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gmem *views;	/* gmems that have a view */

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

static int uffd_open(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_POISON,
	};
	/* User-mode faults are all a view needs (none is ever delivered);
	 * without UFFD_USER_MODE_ONLY an unprivileged process is refused
	 * when vm.unprivileged_userfaultfd is 0. */
	int fd = (int)syscall(SYS_userfaultfd,
			      O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);

	if (fd < 0)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api) ||
	    (api.features & UFFD_FEATURE_POISON) != UFFD_FEATURE_POISON ||
	    !(api.ioctls & (1ULL << _UFFDIO_REGISTER))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The marker mechanism alone (gmem__marks_available()): libgmem-compat
 * uses it without the views' fork handlers, which follow views only. */
static pthread_once_t marks_once = PTHREAD_ONCE_INIT;

static void marks_init(void)
{
	if (!getenv("GMEM_VIEW_NO_MARKERS"))
		uffd = uffd_open();
}

static void sigbus_init(void)
{
	sigbus_fd = memfd_create("gmem-private", MFD_CLOEXEC);
	if (sigbus_fd >= 0) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		pthread_once(&marks_once, marks_init);
	}
}

static int remap_raw(void *addr, uint64_t len, int fd, uint64_t off)
{
	if (mmap(addr, len, PROT_READ | PROT_WRITE, VIEW_FLAGS | MAP_FIXED,
		 fd, (off_t)off) == MAP_FAILED)
		return -errno;
	return 0;
}

static int remap(void *addr, uint64_t len, int fd, uint64_t off)
{
	int ret = gmem__fault_check(GMEM_FI_MMAP);

	return ret ? ret : remap_raw(addr, len, fd, off);
}

static int register_range(uint8_t *a, uint64_t len);
static bool markers_off;	/* tests: every run takes the cover */

/* Register [off, off+len) of the view for markers. */
static int view_register(struct gmem *g, uint64_t off, uint64_t len)
{
	return register_range(g->view + off, len);
}

static void view_unregister(struct gmem *g)
{
	struct uffdio_range r = { (uintptr_t)g->view, g->size };

	(void)ioctl(uffd, UFFDIO_UNREGISTER, &r);
}

/* A new VMA of the file in the view: kept from children.  It is
 * registered for markers when a marker first needs it (mark()).  A cover
 * needs nothing: a child that inherits one gets SIGBUS there. */
static void view_fixup(struct gmem *g, uint64_t off, uint64_t len)
{
	madvise(g->view + off, len, MADV_DONTFORK);
}

/*
 * Move the page-table entries of [from, from+len) to [to, to+len), which
 * becomes a mapping of the same file range; [from, from+len) stays mapped,
 * without entries.  Only ever an optimisation: false when the kernel
 * refuses, and nothing changed then.
 */
static bool move_entries(struct gmem *g, uint8_t *from, uint8_t *to,
			 uint64_t len)
{
	if (mremap(from, len, len,
		   MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
		   to) == MAP_FAILED)
		return false;
	g->stats.views_moved++;
	return true;
}

/*
 * Whether moving the entries of [off, off+len) can pay: the file holds
 * data at the range's start and at its middle.  SEEK_DATA from an offset
 * that holds data answers at once, and skips empty stretches of the page
 * cache's index quickly, so two probes cost far less than the VMA
 * operations of a move; a range the host and the guest never wrote (a
 * boot's bounce buffers, one page touched) has no entries worth moving.
 * Without the view's own file position, or where the file does not
 * answer, the move is tried.
 */
static bool data_near(int fd, uint64_t at)
{
	off_t d = lseek(fd, (off_t)at, SEEK_DATA);

	if (d < 0)
		return errno != ENXIO;	/* ENXIO: no data up to the end */
	return (uint64_t)d - at < MOVE_MIN / 4;
}

static bool worth_moving(struct gmem *g, uint64_t off, uint64_t len)
{
	if (len < MOVE_MIN)
		return false;
	if (g->view_seek < 0)
		return true;
	return data_near(g->view_seek, off) &&
	       data_near(g->view_seek, off + len / 2);
}

/* ---- markers ------------------------------------------------------------ */

static int register_range(uint8_t *a, uint64_t len)
{
	struct uffdio_register r = {
		.range = { (uintptr_t)a, len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &r) ? -errno : 0;
}

/*
 * Poison [a, a+len), a MAP_SHARED mapping of a memfd: zap the entries, then
 * mark them.  A host thread touching the range in between refaults a page
 * (it is still shared: the conversion has not happened), and UFFDIO_POISON
 * stops there with EEXIST: zap the rest and go on.  A part of the range
 * userfaultfd does not know yet (a VMA mapped since) is registered once.
 * 0, or -errno with no marker left.  The one marker mechanism of the
 * process: the library's views and libgmem-compat's mappings use it.
 */
int gmem__marks_set(uint8_t *a0, uint64_t len)
{
	uint8_t *a = a0;
	uint64_t left = len;
	bool registered = false;
	int ret = -ENODEV;

	for (int tries = 0; tries < MARK_TRIES && uffd >= 0; tries++) {
		struct uffdio_poison p = { .range = { (uintptr_t)a, left } };

		madvise(a, left, MADV_DONTNEED);
		if (!ioctl(uffd, UFFDIO_POISON, &p))
			return 0;
		ret = -errno;
		if (ret == -ENOENT && !registered) {
			registered = true;
			if (!register_range(a, left))
				continue;
		}
		if (ret != -EEXIST && ret != -EAGAIN)
			break;
		if (p.updated > 0 && (uint64_t)p.updated < left) {
			a += p.updated;
			left -= (uint64_t)p.updated;
		}
	}
	madvise(a0, len, MADV_DONTNEED);	/* no marker left */
	return ret == -ENOMEM ? ret : -EBUSY;
}

/* Register all of a mapping before its first marker: registering only the
 * marked part would split the VMA. */
int gmem__marks_register(uint8_t *a, uint64_t len)
{
	return uffd >= 0 ? register_range(a, len) : -ENODEV;
}

/* The markers of [a, a+len) go; the bytes stay.  Cannot fail. */
void gmem__marks_clear(uint8_t *a, uint64_t len)
{
	madvise(a, len, MADV_DONTNEED);
}

/* A child of fork() that will not follow the views: the userfaultfd it
 * inherited acts on the parent's memory, never on its own. */
void gmem__marks_forget(void)
{
	pthread_once(&marks_once, marks_init);
	if (uffd >= 0)
		close(uffd);
	uffd = -1;
}

/* Can this process use markers at all (userfaultfd with UFFDIO_POISON)? */
bool gmem__marks_available(void)
{
	pthread_once(&marks_once, marks_init);
	return uffd >= 0 && !__atomic_load_n(&markers_off, __ATOMIC_RELAXED);
}

/* Poison [off, off+len) of the view (gmem__marks_set()). */
static int mark(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret = gmem__fault_check(GMEM_FI_MMAP);

	if (ret)
		return ret;
	/* Registered on the first marker: a registered VMA has no fault-around
	 * (a read fault maps one page, not 16), so a view without small private
	 * runs stays unregistered. */
	if (!g->view_reg && !view_register(g, 0, g->size))
		g->view_reg = true;
	return gmem__marks_set(g->view + off, len);
}

/* The markers of [off, off+len) go; the bytes stay.  Cannot fail. */
static void unmark(struct gmem *g, uint64_t off, uint64_t len)
{
	gmem__marks_clear(g->view + off, len);
}

static bool covered(struct gmem *g, uint64_t off, uint64_t len)
{
	return !rs_all_equal(g->vcover, off, off + len, 0, NULL);
}

/*
 * Markers for small runs, or for any run once the view holds many covers;
 * but a run next to a cover takes the cover, which merges into it: an
 * island the host was given inside a cover goes back in one call, and the
 * VMA it cost goes with it.
 */

void gmem__view_markers(bool on)
{
	__atomic_store_n(&markers_off, !on, __ATOMIC_RELAXED);
}

static bool use_marks(struct gmem *g, uint64_t off, uint64_t len)
{
	if (!g->view_marks || __atomic_load_n(&markers_off, __ATOMIC_RELAXED))
		return false;
	if (rs_runs(g->vcover) >= COVER_RUNS_MAX)
		return true;
	if (len >= COVER_MIN)
		return false;
	return !((off && rs_lookup(g->vcover, off - PAGE_SIZE, NULL)) ||
		 (off + len < g->size && rs_lookup(g->vcover, off + len, NULL)));
}

struct mark_ctx {
	struct gmem *g;
	unsigned attr;		/* the runs to mark */
	uint64_t failed;	/* start of the run whose marking failed */
};

static int mark_run(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct mark_ctx *c = arg;
	int ret;

	if (attr != c->attr)
		return 0;
	ret = mark(c->g, s, e - s);
	if (ret)
		c->failed = s;
	return ret;
}

static int unmark_run(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct mark_ctx *c = arg;

	if (attr == c->attr && s < c->failed)
		unmark(c->g, s, e - s);
	return 0;
}

/* Mark every run of c->attr in [off, off+len); all or nothing. */
static int mark_runs(struct gmem *g, uint64_t off, uint64_t len, unsigned attr)
{
	struct mark_ctx c = { .g = g, .attr = attr, .failed = 0 };
	int ret = rs_for_each(g->attrs, off, off + len, mark_run, &c);

	if (ret)
		rs_for_each(g->attrs, off, c.failed, unmark_run, &c);
	return ret;
}

/* ---- covers ------------------------------------------------------------- */

/* Shared runs of the range being revoked: their view entries go to g->mem
 * (the attribute store still holds the old attributes here). */
static int park_shared(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct gmem *g = arg;

	if (!(attr & GMEM_ATTR_PRIVATE) && worth_moving(g, s, e - s) &&
	    move_entries(g, g->view + s, g->mem + s, e - s))
		/* g->mem's piece came with the view's flags: give it back
		 * its own, so that it merges again */
		madvise(g->mem + s, e - s, MADV_DOFORK);
	return 0;
}

/* The cover over [off, off+len), in one call: pages already private
 * inside stay unreachable. */
static int cover(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret = rs_reserve(g->vcover, 1);

	if (ret)
		return ret;
	/* Moving first is safe: until the SIGBUS mapping covers the range, a
	 * host access refaults the file page, as if it came before the
	 * conversion.  If the cover fails, the view still maps the file and
	 * nothing the host can see has changed. */
	rs_for_each(g->attrs, off, off + len, park_shared, g);
	ret = remap(g->view + off, len, sigbus_fd, off);
	if (ret)
		return ret;
	rs_set(g->vcover, off, off + len, 1);
	return 0;
}

/* The file again over [off, off+len), which holds a cover somewhere. */
static int uncover(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret = gmem__fault_check(GMEM_FI_MMAP);

	if (ret)
		return ret;
	if (!worth_moving(g, off, len) ||
	    !move_entries(g, g->mem + off, g->view + off, len))
		ret = remap_raw(g->view + off, len, g->fd, off);
	if (ret)
		return ret;
	view_fixup(g, off, len);
	/* A failure leaves a stale "covered": only a later remap more. */
	if (!rs_reserve(g->vcover, 1))
		rs_set(g->vcover, off, off + len, 0);
	return 0;
}

/* ---- conversions -------------------------------------------------------- */

int gmem__view_revoke(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret;

	if (!g->view)
		return 0;
	if (use_marks(g, off, len)) {
		ret = mark_runs(g, off, len, 0);
		if (ret == -EBUSY)	/* a racing host, or not registered */
			ret = cover(g, off, len);
	} else {
		ret = cover(g, off, len);
	}
	if (!ret)
		g->stats.views_revoked++;
	return ret;
}

/* Up to this many private runs in a span are unmarked one by one; past
 * it, one zap over the span (shared pages in between refault). */
#define UNMARK_RUNS 8

struct count_ctx {
	unsigned runs;
};

static int count_private(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct count_ctx *c = arg;

	(void)s;
	(void)e;
	if (attr & GMEM_ATTR_PRIVATE)
		c->runs++;
	return c->runs > UNMARK_RUNS;
}

static int unmark_private(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	if (attr & GMEM_ATTR_PRIVATE)
		unmark(arg, s, e - s);
	return 0;
}

static int restore_one(struct gmem *g, uint64_t off, uint64_t len)
{
	struct count_ctx c = { 0 };
	int ret = 0;

	if (!g->view)
		return 0;
	if (covered(g, off, len)) {
		/* One call replaces the SIGBUS cover atomically: no instant
		 * without a mapping. */
		ret = uncover(g, off, len);
	} else if (rs_for_each(g->attrs, off, off + len, count_private, &c)) {
		unmark(g, off, len);
	} else {
		rs_for_each(g->attrs, off, off + len, unmark_private, g);
	}
	if (!ret)
		g->stats.views_restored++;
	return ret;
}

/*
 * A to-shared conversion whose content mode or platform changes the bytes
 * (ZERO, a scramble, the TDX S-EPT clear) must never let the host see the
 * old ones, and must not fail after changing them.  A marked run needs
 * nothing here: its markers raise SIGBUS until gmem__view_reveal() zaps
 * them, which cannot fail.  A run under a cover: the fallible step comes
 * first, the SIGBUS cover is mapped again over exactly the run (the VMA
 * split, and the check against vm.max_map_count, happen here), then the
 * bytes change through g->mem while a host touch still raises SIGBUS,
 * then gmem__view_reveal() replaces that exact mapping with the file's
 * pages: the same VMA boundaries, so no split and no new VMA.  That cover
 * is mapped at a file offset of its own (HIDDEN_PGOFF above the run's):
 * at the run's own offset it would merge straight back into the
 * neighbouring covers, and the split would not be reserved at all.
 */
#define HIDDEN_PGOFF (1ULL << 52)	/* past the largest gmem */

static int restore_hidden_one(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret = 0;

	if (!g->view)
		return 0;
	if (covered(g, off, len))
		ret = remap(g->view + off, len, sigbus_fd, HIDDEN_PGOFF + off);
	if (!ret)
		g->stats.views_restored++;
	return ret;
}

static int reveal_one(struct gmem *g, uint64_t off, uint64_t len)
{
	if (!g->view)
		return 0;
	if (!covered(g, off, len)) {
		unmark(g, off, len);
		return 0;
	}
	if (!worth_moving(g, off, len) ||
	    !move_entries(g, g->mem + off, g->view + off, len)) {
		/* Replacing an exact mapping allocates no VMA: it does not
		 * fail short of the kernel running out of memory, and then
		 * the pages stay covered (SIGBUS), never exposed. */
		if (remap_raw(g->view + off, len, g->fd, off))
			return 0;
	}
	view_fixup(g, off, len);
	if (!rs_reserve(g->vcover, 1))
		rs_set(g->vcover, off, off + len, 0);
	return 0;
}

/*
 * In a child of fork() that follows its parent, a page is private if its
 * own attributes or the parent's say so: giving pages back to the host
 * (restore, reveal) skips the runs the parent holds private, which stay
 * covered; a child that cannot follow gives nothing back.
 */
static int parents_shared(struct gmem *g, uint64_t off, uint64_t len,
			  int (*fn)(struct gmem *, uint64_t, uint64_t))
{
	uint64_t s, re, end = off + len;
	int ret;

	if (!g->told && !g->told_lost)
		return fn(g, off, len);
	if (g->told_lost)
		return 0;
	for (s = off; s < end; s = re) {
		bool priv = gmem__follow_told_private(g->told, s, &re);

		if (re > end)
			re = end;
		if (!priv && (ret = fn(g, s, re - s)))
			return ret;
	}
	return 0;
}

int gmem__view_restore(struct gmem *g, uint64_t off, uint64_t len)
{
	return parents_shared(g, off, len, restore_one);
}

int gmem__view_restore_hidden(struct gmem *g, uint64_t off, uint64_t len)
{
	return parents_shared(g, off, len, restore_hidden_one);
}

void gmem__view_reveal(struct gmem *g, uint64_t off, uint64_t len)
{
	parents_shared(g, off, len, reveal_one);
}



/* A new view: each private run takes markers or the cover. */
static int revoke_private(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct gmem *g = arg;
	int ret;

	if (!(attr & GMEM_ATTR_PRIVATE))
		return 0;
	if (use_marks(g, s, e - s)) {
		ret = mark(g, s, e - s);
		if (ret != -EBUSY)
			return ret;
	}
	return cover(g, s, e - s);
}

/* An address for a view of g->size bytes at the same offset modulo
 * VIEW_ALIGN as g->mem: reserve a little more and trim. */
static uint8_t *view_place(struct gmem *g)
{
	uint64_t span = g->size + VIEW_ALIGN, want, head;
	uint8_t *r = mmap(NULL, span, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (r == MAP_FAILED)
		return NULL;
	want = (uintptr_t)g->mem & (VIEW_ALIGN - 1);
	head = (want - ((uintptr_t)r & (VIEW_ALIGN - 1))) & (VIEW_ALIGN - 1);
	if (head)
		munmap(r, head);
	if (span - head > g->size)
		munmap(r + head + g->size, span - head - g->size);
	return r + head;
}

/* The state of a view whose mapping is gone: none. */
static void view_reset(struct gmem *g)
{
	if (g->view_seek >= 0)
		close(g->view_seek);
	g->view_seek = -1;
	rs_destroy(g->vcover);
	g->vcover = NULL;
	g->view = NULL;
	g->view_marks = false;
	g->view_reg = false;
}

/* The file of fd opened again (a file position of its own), or -1. */
static int view_seek_open(int fd)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int view_create(struct gmem *g)
{
	uint64_t moved;
	uint8_t *v, *at;
	int ret;

	pthread_once(&sigbus_once, sigbus_init);
	if (sigbus_fd < 0)
		return -ENOMEM;
	ret = gmem__fault_check(GMEM_FI_MMAP);
	if (ret)
		return ret;
	at = view_place(g);
	v = mmap(at, g->size, PROT_READ | PROT_WRITE,
		 VIEW_FLAGS | (at ? MAP_FIXED : 0), g->fd, 0);
	if (v == MAP_FAILED) {
		ret = -errno;
		if (at)
			munmap(at, g->size);
		return ret;
	}
	g->view = v;
	moved = g->stats.views_moved;
	g->view_seek = view_seek_open(g->fd);
	ret = rs_create(&g->vcover, g->size, 0);
	if (!ret) {
		/* Can userfaultfd register it (a memfd yes, a guest_memfd not
		 * on Linux 6.18)?  Undone until a marker needs it. */
		g->view_marks = uffd >= 0 && !view_register(g, 0, g->size);
		if (g->view_marks)
			view_unregister(g);
		madvise(v, g->size, MADV_DONTFORK);
		ret = gmem__follow_ident(g->fd, &g->dev, &g->ino);
	}
	/* A gmem this process inherited without a view: the parent's
	 * conversions since the fork are unknown here, every page stays
	 * private in this view. */
	if (!ret && g->owner != getpid() && !g->told) {
		g->told_lost = true;
		ret = cover(g, 0, g->size);
	} else if (!ret) {
		ret = rs_for_each(g->attrs, 0, g->size, revoke_private, g);
	}
	if (ret) {
		munmap(v, g->size);
		g->stats.views_moved = moved;	/* a failed call counts nothing */
		view_reset(g);
		return ret;
	}
	pthread_mutex_lock(&views_lock);
	g->next_global = views;
	if (views)
		views->pprev_global = &g->next_global;
	g->pprev_global = &views;
	views = g;
	pthread_mutex_unlock(&views_lock);
	return 0;
}

void *gmem_mmap(struct gmem *g)
{
	int ret = 0;

	if (!g) {
		errno = EFAULT;
		return NULL;
	}
	if (!(g->flags & GMEM_FLAG_MMAP)) {
		errno = ENODEV;
		return NULL;
	}
	pthread_rwlock_wrlock(&g->lock);
	if (g->backend->kernel_enforces)
		g->view = g->mem;	/* the kernel raises SIGBUS itself */
	else if (!g->view)
		ret = view_create(g);
	pthread_rwlock_unlock(&g->lock);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	return g->view;
}

/* Take g off the list of views (views_lock held, or a fork child). */
static void view_unlink(struct gmem *g)
{
	*g->pprev_global = g->next_global;
	if (g->next_global)
		g->next_global->pprev_global = g->pprev_global;
}

/* Forget the view's state once its mapping is gone or not ours. */
static void view_forget(struct gmem *g)
{
	view_reset(g);
	if (g->told)
		gmem__follow_told_free(g->told);
	g->told = NULL;
}

void gmem__view_unregister(struct gmem *g)
{
	if (!g->view || g->view == g->mem) {
		g->view = NULL;
		return;
	}
	pthread_mutex_lock(&views_lock);
	view_unlink(g);
	pthread_mutex_unlock(&views_lock);
	munmap(g->view, g->size);
	view_forget(g);
}

/* ---- children of fork() -------------------------------------------------- */

/*
 * fn over the pieces of [s, e) that are private (want_private) or shared
 * in this process: its own attributes, or (in a child) its parent's.
 */
static int each_piece(struct gmem *g, uint64_t s, uint64_t e, bool want_private,
		      int (*fn)(struct gmem *, uint64_t, uint64_t))
{
	uint64_t re, told_end;
	int ret;

	for (; s < e; s = re) {
		bool priv = rs_lookup(g->attrs, s, &re) & GMEM_ATTR_PRIVATE;

		if (g->told_lost) {
			priv = true;
		} else if (g->told) {
			priv |= gmem__follow_told_private(g->told, s, &told_end);
			if (told_end < re)
				re = told_end;
		}
		if (re > e)
			re = e;
		if (priv == want_private && (ret = fn(g, s, re - s)))
			return ret;
	}
	return 0;
}

static int tell_shared(struct gmem *g, uint64_t off, uint64_t len)
{
	struct gmem_follow_change c = {
		.dev = g->dev, .ino = g->ino, .off = off, .len = len,
	};

	gmem__follow_send(&c);
	return 0;
}

void gmem__view_tell(struct gmem *g, uint64_t off, uint64_t len,
		     bool to_private)
{
	struct gmem_follow_change c = {
		.dev = g->dev, .ino = g->ino, .off = off, .len = len,
		.to_private = true,
	};

	/* A kernel-enforced view: the kernel zaps every process itself. */
	if (!g->view || g->view == g->mem || !gmem__follow_any())
		return;
	if (to_private)
		gmem__follow_send(&c);
	else	/* a grandchild hears "shared" only where its parent reads */
		each_piece(g, off, off + len, false, tell_shared);
}

static int uncover_piece(struct gmem *g, uint64_t off, uint64_t len)
{
	if (covered(g, off, len))
		uncover(g, off, len);	/* a failure leaves it covered */
	return 0;
}

/* Nothing of the range may stay reachable: the process ends rather than
 * read a page its parent made private. */
static void cover_or_die(struct gmem *g, uint64_t off, uint64_t len)
{
	if (!cover(g, off, len) || !cover(g, 0, g->size))
		return;
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

static void follow_view(struct gmem *g, const struct gmem_follow_change *c)
{
	uint64_t s, e;

	if (!gmem__follow_clip(c, g->size, &s, &e))
		return;
	if (c->to_private) {
		struct gmem_follow_change fwd = *c;

		if (!g->told || gmem__follow_told_set(g->told, s, e, true))
			g->told_lost = true;
		cover_or_die(g, s, e - s);
		fwd.off = s;
		fwd.len = e - s;
		gmem__follow_send(&fwd);
		return;
	}
	if (g->told && !g->told_lost &&
	    !gmem__follow_told_set(g->told, s, e, false))
		each_piece(g, s, e, false, uncover_piece);
	each_piece(g, s, e, false, tell_shared);
}

/* The listener of a child of fork(): a change of the parent's, applied
 * to the view of the file it names, under that gmem's lock (taken with
 * views_lock held: a gmem being converted here is waited for). */
static void follow(const struct gmem_follow_change *c)
{
	struct gmem *g;

	for (;;) {
		pthread_mutex_lock(&views_lock);
		for (g = views; g; g = g->next_global)
			if (g->dev == c->dev && g->ino == c->ino)
				break;
		if (!g || !pthread_rwlock_trywrlock(&g->lock))
			break;
		pthread_mutex_unlock(&views_lock);
		sched_yield();
	}
	if (g) {
		follow_view(g, c);
		pthread_rwlock_unlock(&g->lock);
	}
	pthread_mutex_unlock(&views_lock);
}

/* The views of every gmem held still for the fork: each gmem's lock for
 * reading (no conversion, no new view), taken with views_lock held. */
static void fork_prepare(void)
{
	struct gmem *g;

	gmem__follow_lock();
	for (;;) {
		pthread_mutex_lock(&views_lock);
		for (g = views; g; g = g->next_global)
			if (pthread_rwlock_tryrdlock(&g->lock))
				break;
		if (!g)
			break;
		for (struct gmem *h = views; h != g; h = h->next_global)
			pthread_rwlock_unlock(&h->lock);
		pthread_mutex_unlock(&views_lock);
		sched_yield();
	}
	gmem__follow_prepare(views != NULL);
}

static void fork_parent(void)
{
	gmem__follow_parent();
	for (struct gmem *g = views; g; g = g->next_global)
		pthread_rwlock_unlock(&g->lock);
	pthread_mutex_unlock(&views_lock);
}

static int told_private_run(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	return (attr & GMEM_ATTR_PRIVATE) ?
	       gmem__follow_told_set(arg, s, e, true) : 0;
}

static int cover_piece(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret = rs_reserve(g->vcover, 1);

	if (!ret)
		ret = remap_raw(g->view + off, len, sigbus_fd, off);
	if (!ret)
		rs_set(g->vcover, off, off + len, 1);
	return ret;
}

/* The child's view of g made again, as the attributes at the fork say
 * (covers only: this process's userfaultfd registers nothing of the
 * child's).  false: it cannot follow g. */
static bool child_view(struct gmem *g)
{
	if (!g->told && !g->told_lost &&
	    (gmem__follow_told_new(&g->told, g->size) ||
	     rs_for_each(g->attrs, 0, g->size, told_private_run, g->told)))
		g->told_lost = true;
	if (g->told_lost || rs_runs(g->attrs) > 2 * COVER_RUNS_MAX)
		return false;
	g->view_marks = false;
	g->view_reg = false;
	if (rs_reserve(g->vcover, 1) || remap_raw(g->view, g->size, g->fd, 0))
		return false;
	view_fixup(g, 0, g->size);
	rs_set(g->vcover, 0, g->size, 0);
	return !each_piece(g, 0, g->size, true, cover_piece);
}

/* Every page of g private in this process's view, from now on. */
static void child_cover(struct gmem *g)
{
	g->told_lost = true;
	g->view_marks = false;
	g->view_reg = false;
	remap_raw(g->view, g->size, sigbus_fd, 0);
	if (!rs_reserve(g->vcover, 1))
		rs_set(g->vcover, 0, g->size, 1);
}

/* Something of this process took part of the view's addresses before
 * this handler ran: the child has no view of g (a gmem_mmap() makes one
 * elsewhere, every page private), and nothing is mapped over what is not
 * the library's. */
static void child_drop_view(struct gmem *g)
{
	view_unlink(g);
	view_forget(g);
	g->told_lost = true;
}

/*
 * The child of fork(): its views were not inherited (MADV_DONTFORK).  If
 * it can follow the parent (a channel), each is made again and the
 * listener starts; otherwise each view is the SIGBUS cover, and stays so.
 * Single-threaded until the listener starts; this thread holds views_lock
 * and every view's lock (for reading) since the prepare handler.
 */
static void fork_child(void)
{
	bool follows = gmem__follow_child();

	/* A userfaultfd acts on the memory of the process that opened it:
	 * the parent's is no marker mechanism for the child, which gets its
	 * own (for views it makes later; those it inherits take covers). */
	if (uffd >= 0) {
		close(uffd);
		uffd = getenv("GMEM_VIEW_NO_MARKERS") ? -1 : uffd_open();
	}

	for (struct gmem *g = views, *next; g; g = next) {
		next = g->next_global;
		gmem__follow_rwlock_reinit(&g->lock, true);
		if (!gmem__follow_only_ours(g->view, g->size, "gmem-private"))
			child_drop_view(g);
		else if (!follows || !child_view(g))
			child_cover(g);
	}
	if (follows && !gmem__follow_listen(follow)) {
		for (struct gmem *g = views; g; g = g->next_global)
			child_cover(g);
		gmem__follow_drop();
	}
	pthread_mutex_unlock(&views_lock);
}
