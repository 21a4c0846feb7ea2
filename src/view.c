/* SPDX-License-Identifier: MIT */
/*
 * Host views.  A view is one MAP_SHARED mapping of the whole file, created
 * on the first gmem_mmap().  Shared runs map the file itself; private runs
 * are covered (MAP_FIXED) by a mapping of an empty memfd, so a touch lands
 * past that file's end and the kernel raises a genuine SIGBUS, as it does for
 * a private guest_memfd page.  Converting back maps the file's own pages
 * again: the contents never moved.
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

static int sigbus_fd = -1;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t views_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gmem *views;	/* gmems that have a view */

static void fork_child(void)
{
	/* Single-threaded in the child: no lock needed, none may be held. */
	for (struct gmem *g = views; g; g = g->next_global)
		mmap(g->view, g->size, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED, sigbus_fd, 0);
	pthread_mutex_init(&views_lock, NULL);
}

static void sigbus_init(void)
{
	sigbus_fd = memfd_create("gmem-private", MFD_CLOEXEC);
	if (sigbus_fd >= 0)
		pthread_atfork(NULL, NULL, fork_child);
}

static int remap(void *addr, uint64_t len, int fd, uint64_t off)
{
	int ret = gmem__fault_check(GMEM_FI_MMAP);

	if (ret)
		return ret;
	if (mmap(addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, (off_t)off) == MAP_FAILED)
		return -errno;
	return 0;
}

int gmem__view_revoke(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret;

	if (!g->view)
		return 0;
	ret = remap(g->view + off, len, sigbus_fd, 0);
	if (!ret)
		g->stats.views_revoked++;
	return ret;
}

int gmem__view_restore(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret;

	if (!g->view)
		return 0;
	ret = remap(g->view + off, len, g->fd, off);
	if (!ret)
		g->stats.views_restored++;
	return ret;
}

static int revoke_private(uint64_t s, uint64_t e, unsigned attr, void *arg)
{
	if (!(attr & GMEM_ATTR_PRIVATE))
		return 0;
	return gmem__view_revoke(arg, s, e - s);
}

static int view_create(struct gmem *g)
{
	uint8_t *v;
	int ret;

	pthread_once(&sigbus_once, sigbus_init);
	if (sigbus_fd < 0)
		return -ENOMEM;
	ret = gmem__fault_check(GMEM_FI_MMAP);
	if (ret)
		return ret;
	v = mmap(NULL, g->size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_NORESERVE, g->fd, 0);
	if (v == MAP_FAILED)
		return -errno;
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
