/* SPDX-License-Identifier: MIT */
/*
 * Host views.  A view is one MAP_SHARED mapping of the whole file, created
 * on the first gmem_mmap().  Shared runs map the file itself; private runs
 * are covered (MAP_FIXED) by a mapping of an empty memfd, so a touch lands
 * past that file's end and the kernel raises a genuine SIGBUS, as it does for
 * a private guest_memfd page.  The empty file is mapped at the run's own
 * offset, so that adjacent private runs are one mapping (one VMA).  Converting back maps the file's own pages
 * again: the contents never moved.
 *
 * Page tables follow the owner.  Tearing down and faulting back in the
 * page-table entries of a populated range is what a conversion costs on
 * this path (about 0.3 us per 4 KiB page each way, see
 * docs/performance/README.md), so they are moved instead of rebuilt:
 * revoking moves the view's entries into the library's own mapping
 * (g->mem, through which the guest's private accesses and the content modes
 * go) with mremap(MREMAP_DONTUNMAP), and restoring moves g->mem's entries
 * back into the view the same way.  mremap() moves page tables without
 * touching the pages (whole page-middle-directory entries where both
 * addresses allow it), and DONTUNMAP leaves the source mapped, empty, so
 * neither mapping ever has a hole another mmap() could take.  Where a move
 * is refused (a range over several mappings, a kernel without file-backed
 * DONTUNMAP) the plain remap is used and the host refaults lazily.  The
 * view is placed at the same offset modulo 2 MiB as g->mem so that those
 * moves can take whole page tables.
 *
 * Each run costs one VMA, bounded by vm.max_map_count: a remap that would
 * pass it fails with ENOMEM, and the conversion fails with nothing changed.
 *
 * fork(): no user-space library can zap another process's page tables, as
 * the kernel does on conversion.  So a child never keeps a usable view: the
 * atfork child handler covers every view with the SIGBUS mapping.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

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

static int sigbus_fd = -1;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t views_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gmem *views;	/* gmems that have a view */

static void fork_child(void)
{
	/* Single-threaded in the child: no lock needed, none may be held. */
	for (struct gmem *g = views; g; g = g->next_global)
		mmap(g->view, g->size, PROT_READ | PROT_WRITE,
		     VIEW_FLAGS | MAP_FIXED, sigbus_fd, 0);
	pthread_mutex_init(&views_lock, NULL);
}

static void sigbus_init(void)
{
	sigbus_fd = memfd_create("gmem-private", MFD_CLOEXEC);
	if (sigbus_fd >= 0)
		pthread_atfork(NULL, NULL, fork_child);
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

/*
 * Move the page-table entries of [from, from+len) to [to, to+len), which
 * becomes a mapping of the same file range; [from, from+len) stays mapped,
 * without entries.  Only ever an optimisation: false when the kernel
 * refuses, and nothing changed then.
 */
static bool move_entries(uint8_t *from, uint8_t *to, uint64_t len)
{
	return mremap(from, len, len,
		      MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
		      to) != MAP_FAILED;
}

struct revoke_ctx {
	struct gmem *g;
};

/* Shared runs of the range being revoked: their view entries go to g->mem
 * (the attribute store still holds the old attributes here). */
static int park_shared(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	struct gmem *g = ((struct revoke_ctx *)arg)->g;

	if (!(attr & GMEM_ATTR_PRIVATE) && e - s >= MOVE_MIN)
		move_entries(g->view + s, g->mem + s, e - s);
	return 0;
}

int gmem__view_revoke(struct gmem *g, uint64_t off, uint64_t len)
{
	struct revoke_ctx c = { .g = g };
	int ret;

	if (!g->view)
		return 0;
	/* Moving first is safe: until the SIGBUS mapping covers the range, a
	 * host access refaults the file page, as if it came before the
	 * conversion.  If the cover fails, the view still maps the file and
	 * nothing the host can see has changed. */
	rs_for_each(g->attrs, off, off + len, park_shared, &c);
	ret = remap(g->view + off, len, sigbus_fd, off);
	if (!ret)
		g->stats.views_revoked++;
	return ret;
}

int gmem__view_restore(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret = 0;

	if (!g->view)
		return 0;
	/* One call replaces the SIGBUS cover atomically: no instant without
	 * a mapping.  Injected mmap failures apply to either way. */
	ret = gmem__fault_check(GMEM_FI_MMAP);
	if (ret)
		return ret;
	if (len < MOVE_MIN || !move_entries(g->mem + off, g->view + off, len))
		ret = remap_raw(g->view + off, len, g->fd, off);
	if (!ret)
		g->stats.views_restored++;
	return ret;
}

/*
 * A to-shared conversion whose content mode or platform changes the bytes
 * (ZERO, a scramble, the TDX S-EPT clear) must never let the host see the
 * old ones, and must not fail after changing them.  So the fallible step
 * comes first: the SIGBUS cover is mapped again over exactly the span (the
 * VMA split, and the check against vm.max_map_count, happen here), then
 * the bytes change through g->mem while a host touch still raises SIGBUS,
 * then gmem__view_reveal() replaces that exact mapping with the file's
 * pages: the same VMA boundaries, so no split and no new VMA.  The cover
 * over the span is mapped at a file offset of its own (HIDDEN_PGOFF above
 * the span's): at the span's own offset it would merge straight back into
 * the neighbouring covers, and the split would not be reserved at all.
 */
#define HIDDEN_PGOFF (1ULL << 52)	/* past the largest gmem */

int gmem__view_restore_hidden(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret;

	if (!g->view)
		return 0;
	ret = remap(g->view + off, len, sigbus_fd, HIDDEN_PGOFF + off);
	if (!ret)
		g->stats.views_restored++;
	return ret;
}

void gmem__view_reveal(struct gmem *g, uint64_t off, uint64_t len)
{
	if (!g->view)
		return;
	if (len >= MOVE_MIN && move_entries(g->mem + off, g->view + off, len))
		return;
	/* Replacing an exact mapping allocates no VMA: it does not fail short
	 * of the kernel running out of memory, and then the pages stay
	 * covered (SIGBUS), never exposed. */
	(void)remap_raw(g->view + off, len, g->fd, off);
}

static int revoke_private(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	if (!(attr & GMEM_ATTR_PRIVATE))
		return 0;
	return remap(((struct gmem *)arg)->view + s, e - s, sigbus_fd, s);
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

static int view_create(struct gmem *g)
{
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
	ret = rs_for_each(g->attrs, 0, g->size, revoke_private, g);
	if (ret) {
		munmap(v, g->size);
		g->view = NULL;
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

void gmem__view_unregister(struct gmem *g)
{
	if (!g->view || g->view == g->mem) {
		g->view = NULL;
		return;
	}
	pthread_mutex_lock(&views_lock);
	*g->pprev_global = g->next_global;
	if (g->next_global)
		g->next_global->pprev_global = g->pprev_global;
	pthread_mutex_unlock(&views_lock);
	munmap(g->view, g->size);
	g->view = NULL;
}
