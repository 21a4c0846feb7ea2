/* SPDX-License-Identifier: MIT */
/*
 * Host mappings of the shim's guest_memfds.  The application's mmap is a
 * real MAP_SHARED mapping of the guest_memfd.  On the shim's own (a memfd)
 * its private pages hold poison markers, the library's own mechanism
 * (src/view.c): any number of runs in one VMA.  Elsewhere (the kernel's
 * guest_memfd, no UFFDIO_POISON, a child of fork()) they are covered
 * (MAP_FIXED) by a mapping of an empty memfd at the same file offset, so a
 * touch lands past that file's end; either way the kernel raises a genuine
 * SIGBUS, as it does for a private guest_memfd page.  Covers at adjacent
 * offsets merge into one VMA, as do restored runs of the file.
 *
 * Every mapping is recorded (address, length, file offset, protection) so
 * that a conversion can change all of them.  Records change, and the
 * kernel's mappings under them, only under maps_lock: munmap and MAP_FIXED
 * mmap over a recorded range update the records before anyone can remap
 * there, so a conversion never maps over memory the application reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compat.h"
#include "gmem/uapi.h"

#define PG GMEM_PAGE_SIZE

struct compat_map {
	uintptr_t addr;
	uint64_t len;
	uint64_t off;			/* file offset of addr */
	int prot;
	bool marks;			/* private runs take poison markers */
	bool registered;		/* for markers, all of it */
	bool covers;			/* some run may be a cover */
	bool fresh;			/* being made: no private run marked yet */
	struct compat_file *f;		/* holds a reference */
	struct compat_map *next;
};

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct compat_map *maps;
static int sigbus_fd = -1;
int compat_nr_maps;

static uint64_t page_up(uint64_t x)
{
	return (x + PG - 1) & ~(PG - 1);
}

static int sigbus_init(void)
{
	if (sigbus_fd < 0)
		sigbus_fd = memfd_create("gmem-compat-private", MFD_CLOEXEC);
	return sigbus_fd < 0 ? -errno : 0;
}

/*
 * Markers: a mapping of the shim's own guest_memfd (a memfd) is one VMA
 * whose private pages hold poison markers (src/view.c, the mechanism of
 * the library's own views), so any number of private runs costs no VMA;
 * covers (below) where markers cannot be had: the kernel's guest_memfd
 * (userfaultfd refuses it), a kernel without UFFDIO_POISON (before 6.6),
 * a failed marker, and the children of fork().
 */
static bool markers_ok = true;		/* false in a child of fork() */

static bool use_markers(void)
{
	/* The shim's own files are all emulated, or none is. */
	return markers_ok && !compat_kernel()->gmem && gmem__marks_available();
}

/* [s, e) of the file, within rec: private (a marker or the cover) or the
 * file itself. */
static int remap(struct compat_map *rec, uint64_t s, uint64_t e, bool cover)
{
	uint64_t rs = s > rec->off ? s : rec->off;
	uint64_t re = e < rec->off + rec->len ? e : rec->off + rec->len;
	uint8_t *a = (uint8_t *)(rec->addr + (rs - rec->off));
	void *p;

	if (rs >= re)
		return 0;
	if (rec->marks && cover && !rec->registered &&
	    !gmem__marks_register((uint8_t *)rec->addr, rec->len))
		rec->registered = true;
	if (rec->marks && cover && !gmem__marks_set(a, re - rs))
		return 0;
	if (rec->marks && !cover && !rec->covers) {
		gmem__marks_clear(a, re - rs);
		return 0;
	}
	if (cover)
		rec->covers = true;
	p = compat_real.mmap((void *)(rec->addr + (rs - rec->off)), re - rs,
			     rec->prot, MAP_SHARED | MAP_FIXED,
			     cover ? sigbus_fd : rec->f->lib_fd, (off_t)rs);
	if (p == MAP_FAILED)
		return -errno;
	if (!cover)	/* kept from children (see compat_mmap_file()) */
		madvise(p, re - rs, MADV_DONTFORK);
	return 0;
}

enum walk { WALK_SYNC, WALK_TO_SHARED, WALK_TO_PRIVATE };

/*
 * Is s private here, and for how many bytes (*run) does the answer hold?
 * Private if this process's attributes say so or, in a child of fork(),
 * the parent's as last told (*parents), or if the child cannot follow the
 * parent at all.
 */
static int attr_at(struct compat_file *f, uint64_t s, bool *priv,
		   bool *parents, uint64_t *run)
{
	uint64_t attr, told_end;

	if (gmem_get_memory_attributes(f->g, s, &attr, run))
		return -EINVAL;
	*priv = attr & GMEM_ATTR_PRIVATE;
	*parents = f->told_lost;
	if (f->told && !f->told_lost) {
		*parents = gmem__follow_told_private(f->told, s, &told_end);
		if (told_end - s < *run)
			*run = told_end - s;
	}
	*priv |= *parents;
	return 0;
}

/* Which records a remap_all() reaches. */
enum recs { RECS_ALL, RECS_MARKED, RECS_COVERED };

static int remap_all(struct compat_file *f, struct compat_map *only,
		     uint64_t s, uint64_t e, bool cover, enum recs which)
{
	int ret = 0, r;

	for (struct compat_map *m = maps; m; m = m->next) {
		if (m->f != f || (only && m != only) ||
		    (which == RECS_MARKED && !m->marks) ||
		    (which == RECS_COVERED && m->marks))
			continue;
		/* A private run of a marked record holds its markers: marking
		 * it again would zap it first, and a host touch in between
		 * would read it.  Only a record being made marks them. */
		if (cover && which == RECS_ALL && m->marks && !m->fresh)
			continue;
		r = remap(m, s, e, cover);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

/*
 * Records of f (or only `only`) over [s, e), by runs of the current
 * attributes.  WALK_SYNC makes every run follow its attributes (going on
 * after an error, returning the first).  WALK_TO_SHARED maps the file over
 * each private run, leaving the shared ones (and their page tables) alone.
 * WALK_TO_PRIVATE covers from the first shared run to the last in one
 * mapping: covering a covered run costs nothing, and one mapping replacing
 * many VMAs is what still works at vm.max_map_count; a marked record marks
 * each shared run alone (a marker is set by zapping first: an already
 * private run inside the span would be readable for that moment).
 */
static int walk_locked(struct compat_file *f, struct compat_map *only,
		       uint64_t s, uint64_t e, enum walk how)
{
	uint64_t run, re, first = UINT64_MAX, last = 0;
	bool priv, parents;
	int ret = 0, r;

	if (e > f->size)
		e = f->size;
	for (; s < e; s = re) {
		if (attr_at(f, s, &priv, &parents, &run))
			return -EINVAL;
		re = s + run < e ? s + run : e;
		if (how == WALK_TO_PRIVATE) {
			if (!priv) {
				first = first < s ? first : s;
				last = re;
				r = remap_all(f, only, s, re, true, RECS_MARKED);
				if (r && !ret)
					ret = r;
			}
			continue;
		}
		/* A run the parent holds private stays covered. */
		if (how == WALK_TO_SHARED && (!priv || parents))
			continue;
		r = remap_all(f, only, s, re, how == WALK_SYNC && priv, RECS_ALL);
		if (r && how == WALK_TO_SHARED)
			return r;
		if (r && !ret)
			ret = r;
	}
	if (how == WALK_TO_PRIVATE && first < last && !ret)
		ret = remap_all(f, only, first, last, true, RECS_COVERED);
	return ret;
}

static bool has_maps(const struct compat_file *f)
{
	for (struct compat_map *m = maps; m; m = m->next)
		if (m->f == f)
			return true;
	return false;
}

/* A file nobody mapped costs no attribute walk. */
static int walk(struct compat_file *f, uint64_t s, uint64_t e, enum walk how)
{
	int ret;

	pthread_mutex_lock(&maps_lock);
	ret = sigbus_init();
	if (!ret && has_maps(f))
		ret = walk_locked(f, NULL, s, e, how);
	pthread_mutex_unlock(&maps_lock);
	return ret;
}

int compat_maps_convert(struct compat_file *f, uint64_t off, uint64_t end,
			bool to_private)
{
	return walk(f, off, end, to_private ? WALK_TO_PRIVATE : WALK_TO_SHARED);
}

int compat_maps_sync(struct compat_file *f, uint64_t off, uint64_t end)
{
	return walk(f, off, end, WALK_SYNC);
}

static void release(struct compat_map *dead)
{
	while (dead) {
		struct compat_map *next = dead->next;

		compat_obj_put(&dead->f->obj);
		free(dead);
		dead = next;
	}
}

/* Does [a, b) fall strictly inside a record (which then needs a spare)? */
static bool splits(uintptr_t a, uintptr_t b)
{
	for (struct compat_map *m = maps; m; m = m->next)
		if (m->addr < a && m->addr + m->len > b)
			return true;
	return false;
}

/* [a, a + len) is no longer what the records say: forget it. */
static void trim(uintptr_t a, uint64_t len, struct compat_map **spare,
		 struct compat_map **dead)
{
	uintptr_t b = a + page_up(len);
	struct compat_map **pp = &maps, *m;

	while ((m = *pp)) {
		uintptr_t ms = m->addr, me = m->addr + m->len;

		if (me <= a || ms >= b) {
			pp = &m->next;
			continue;
		}
		if (ms >= a && me <= b) {		/* all of it */
			*pp = m->next;
			m->next = *dead;
			*dead = m;
			__atomic_sub_fetch(&compat_nr_maps, 1, __ATOMIC_RELEASE);
			continue;
		}
		if (ms < a && me > b && *spare) {	/* a hole in it */
			struct compat_map *hi = *spare;

			*spare = NULL;
			*hi = *m;
			hi->addr = b;
			hi->off = m->off + (b - ms);
			hi->len = me - b;
			m->next = hi;
			__atomic_add_fetch(&m->f->obj.refs, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&compat_nr_maps, 1, __ATOMIC_RELEASE);
		}
		if (ms < a) {				/* keep the lower part */
			m->len = a - ms;
		} else {				/* keep the upper part */
			m->off += b - ms;
			m->addr = b;
			m->len = me - b;
		}
		pp = &m->next;
	}
}

/* Take maps_lock with a spare record in hand if [a, a + len) cuts a
 * record in two (allocated without the lock, then checked again). */
static void lock_for(uintptr_t a, uint64_t len, struct compat_map **spare)
{
	for (;;) {
		pthread_mutex_lock(&maps_lock);
		if (*spare || !splits(a, a + page_up(len)))
			return;
		pthread_mutex_unlock(&maps_lock);
		*spare = calloc(1, sizeof(**spare));
		if (!*spare) {	/* the upper part goes untracked */
			pthread_mutex_lock(&maps_lock);
			return;
		}
	}
}

void *compat_mmap_file(struct compat_file *f, void *addr, size_t len,
		       int prot, int flags, off_t off)
{
	struct compat_map *m, *spare = NULL, *dead = NULL;
	int type = flags & MAP_TYPE, ret;
	void *p;

	/* kvm_gmem_mmap(): no GUEST_MEMFD_FLAG_MMAP is ENODEV, and only
	 * shared mappings exist. */
	if (!(f->app_flags & GUEST_MEMFD_FLAG_MMAP)) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	pthread_mutex_lock(&f->lock);
	if (flags & MAP_FIXED)
		lock_for((uintptr_t)addr, len, &spare);
	else
		pthread_mutex_lock(&maps_lock);
	ret = sigbus_init();
	p = ret ? MAP_FAILED : compat_real.mmap(addr, len, prot, flags, f->lib_fd, off);
	if (p == MAP_FAILED) {
		ret = ret ? -ret : errno;
		free(m);
		goto out;
	}
	/* No user-space library can zap a child's page tables when the file
	 * converts, and a raw fork or clone() runs no atfork handler: no
	 * child inherits the mapping.  The child of fork() makes it again
	 * and follows the conversions (compat_maps_fork_child()). */
	madvise(p, len, MADV_DONTFORK);
	if (flags & MAP_FIXED)
		trim((uintptr_t)p, len, &spare, &dead);
	*m = (struct compat_map){
		.addr = (uintptr_t)p, .len = page_up(len), .off = (uint64_t)off,
		.prot = prot, .f = f, .next = maps, .marks = use_markers(),
	};
	maps = m;
	__atomic_add_fetch(&f->obj.refs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&compat_nr_maps, 1, __ATOMIC_RELEASE);
	m->fresh = true;
	ret = walk_locked(f, m, m->off, m->off + m->len, WALK_SYNC);
	m->fresh = false;
	if (ret) {	/* vm.max_map_count: no half-covered mapping */
		compat_real.munmap(p, len);
		trim((uintptr_t)p, len, &spare, &dead);
		p = MAP_FAILED;
		ret = -ret;
	}
out:
	pthread_mutex_unlock(&maps_lock);
	pthread_mutex_unlock(&f->lock);
	free(spare);
	release(dead);
	if (p == MAP_FAILED)
		errno = ret;
	return p;
}

void *compat_mmap_other(void *addr, size_t len, int prot, int flags, int fd,
			off_t off)
{
	struct compat_map *spare = NULL, *dead = NULL;
	void *p;
	int err;

	lock_for((uintptr_t)addr, len, &spare);
	p = compat_real.mmap(addr, len, prot, flags, fd, off);
	err = errno;
	if (p != MAP_FAILED && (flags & MAP_FIXED))
		trim((uintptr_t)p, len, &spare, &dead);
	pthread_mutex_unlock(&maps_lock);
	free(spare);
	release(dead);
	errno = err;
	return p;
}

int compat_munmap(void *addr, size_t len)
{
	struct compat_map *spare = NULL, *dead = NULL;
	int ret, err;

	lock_for((uintptr_t)addr, len, &spare);
	ret = compat_real.munmap(addr, len);
	err = errno;
	if (!ret)
		trim((uintptr_t)addr, len, &spare, &dead);
	pthread_mutex_unlock(&maps_lock);
	free(spare);
	release(dead);
	errno = err;
	return ret;
}

int compat_maps_overlap(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, b = a + page_up(len);
	int hit = 0;

	pthread_mutex_lock(&maps_lock);
	for (struct compat_map *m = maps; m && !hit; m = m->next)
		hit = m->addr < b && m->addr + m->len > a;
	pthread_mutex_unlock(&maps_lock);
	return hit;
}

/* The tracked record over [a, b) with the lowest address, or NULL. */
static struct compat_map *first_over(uintptr_t a, uintptr_t b)
{
	struct compat_map *best = NULL;

	for (struct compat_map *m = maps; m; m = m->next)
		if (m->addr < b && m->addr + m->len > a &&
		    (!best || m->addr < best->addr))
			best = m;
	return best;
}

/* Advice that frees what a range maps, inside one record of f: only the
 * shared runs (a private page's marker or cover stays).  f->lock and
 * maps_lock held, so no conversion changes the runs meanwhile. */
static int madvise_shared(struct compat_map *m, uintptr_t a, uintptr_t b,
			  int advice)
{
	uint64_t s = m->off + (a - m->addr), e = m->off + (b - m->addr), run, re;
	bool priv, parents;
	int ret = 0;

	for (; s < e; s = re) {
		if (attr_at(m->f, s, &priv, &parents, &run))
			return -EINVAL;
		re = s + run < e ? s + run : e;
		if (!priv && compat_real.madvise((void *)(m->addr + (s - m->off)),
						 re - s, advice) && !ret)
			ret = -errno;
	}
	return ret;
}

/*
 * madvise() over memory holding a tracked mapping.  MADV_DONTNEED would
 * take a private page's marker away (a zap drops it): it reaches the
 * shared runs only, as nothing else is mapped.  MADV_REMOVE punches a
 * hole in the file, through the shim (attributes kept, as the kernel's
 * guest_memfd does).  Other memory in the range gets the advice as it is.
 * 0 or -errno.
 */
int compat_maps_madvise(void *addr, size_t len, int advice)
{
	uintptr_t cur = (uintptr_t)addr, b = cur + page_up(len);
	int ret = 0, r;

	while (cur < b) {
		struct compat_map *m;
		struct compat_file *f;
		uintptr_t s, e;

		pthread_mutex_lock(&maps_lock);
		m = first_over(cur, b);
		if (!m || m->addr > cur) {
			e = m ? m->addr : b;
			pthread_mutex_unlock(&maps_lock);
			if (compat_real.madvise((void *)cur, e - cur, advice) && !ret)
				ret = -errno;
			cur = e;
			continue;
		}
		f = m->f;
		__atomic_add_fetch(&f->obj.refs, 1, __ATOMIC_RELAXED);
		s = cur;
		e = m->addr + m->len < b ? m->addr + m->len : b;
		if (advice == MADV_REMOVE) {
			uint64_t off = m->off + (s - m->addr);

			pthread_mutex_unlock(&maps_lock);
			r = compat_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					     (off_t)off, (off_t)(e - s));
		} else {
			/* The locks in their order: f->lock, then maps_lock. */
			pthread_mutex_unlock(&maps_lock);
			pthread_mutex_lock(&f->lock);
			pthread_mutex_lock(&maps_lock);
			m = first_over(s, e);
			if (m && m->f == f && m->addr <= s) {
				if (m->addr + m->len < e)
					e = m->addr + m->len;
				r = madvise_shared(m, s, e, advice);
			} else {	/* changed meanwhile: go round again */
				e = s;
				r = 0;
			}
			pthread_mutex_unlock(&maps_lock);
			pthread_mutex_unlock(&f->lock);
		}
		compat_obj_put(&f->obj);
		if (r && !ret)
			ret = r;
		cur = e;
	}
	return ret;
}

/* ---- children of fork() ------------------------------------------------ */

struct tell_ctx {
	struct compat_file *f;
	uint64_t start;		/* of the shared run being gathered */
	bool in_run;
};

static void tell_run(struct compat_file *f, uint64_t s, uint64_t e,
		     bool to_private)
{
	struct gmem_follow_change c = {
		.dev = f->dev, .ino = f->ino, .off = s, .len = e - s,
		.to_private = to_private,
	};

	gmem__follow_send(&c);
}

/* Called with maps_lock held. */
static void tell_locked(struct compat_file *f, uint64_t off, uint64_t end,
			bool to_private)
{
	uint64_t s, re, run, start = 0;
	bool priv, parents, in_run = false;

	if (end > f->size)
		end = f->size;
	if (to_private || off >= end) {
		if (off < end)
			tell_run(f, off, end, true);
		return;
	}
	/* To shared: the runs shared here, in this process's own attributes
	 * and (in a child) its parent's; a grandchild never hears "shared"
	 * of a page its parent or theirs holds private. */
	for (s = off; s < end; s = re) {
		if (attr_at(f, s, &priv, &parents, &run))
			break;
		re = s + run < end ? s + run : end;
		if (!priv && !in_run) {
			start = s;
			in_run = true;
		} else if (priv && in_run) {
			tell_run(f, start, s, false);
			in_run = false;
		}
	}
	if (in_run)
		tell_run(f, start, s < end ? s : end, false);
}

void compat_maps_tell(struct compat_file *f, uint64_t off, uint64_t end,
		      bool to_private)
{
	if (!gmem__follow_any())	/* the path without children: one load */
		return;
	pthread_mutex_lock(&maps_lock);
	tell_locked(f, off, end, to_private);
	pthread_mutex_unlock(&maps_lock);
}

/* Nothing may stay reachable: the process ends rather than read a page
 * its parent made private. */
static void cover_or_die(struct compat_file *f, uint64_t s, uint64_t e)
{
	if (!remap_all(f, NULL, s, e, true, RECS_ALL))
		return;
	if (sigbus_fd >= 0 && !remap_all(f, NULL, 0, f->size, true, RECS_ALL))
		return;
	for (struct compat_map *m = maps; m; m = m->next)
		if (m->f == f) {
			kill(getpid(), SIGKILL);
			for (;;)
				pause();
		}
}

/* One file of the child: the parent's change, then the child's own
 * children. */
static void follow_file(struct compat_file *f, const struct gmem_follow_change *c)
{
	uint64_t s, e;

	if (!gmem__follow_clip(c, f->size, &s, &e))
		return;
	if (c->to_private) {
		if (!f->told || gmem__follow_told_set(f->told, s, e, true))
			f->told_lost = true;	/* every page private */
		cover_or_die(f, s, e);
		tell_run(f, s, e, true);
		return;
	}
	/* A failure leaves the range covered, which is safe. */
	if (!f->told_lost && f->told &&
	    !gmem__follow_told_set(f->told, s, e, false))
		walk_locked(f, NULL, s, e, WALK_SYNC);
	tell_locked(f, s, e, false);
}

struct follow_ctx {
	const struct gmem_follow_change *c;
	unsigned seq;
};

static void follow_obj(struct compat_obj *o, void *arg)
{
	struct follow_ctx *x = arg;
	struct compat_file *f = (struct compat_file *)o;

	if (o->kind != COMPAT_GMEM || f->seen == x->seq ||
	    f->dev != x->c->dev || f->ino != x->c->ino)
		return;
	f->seen = x->seq;
	follow_file(f, x->c);
}

/* The listener thread of a child of fork(): a change of the parent's. */
static void follow(const struct gmem_follow_change *c)
{
	static unsigned seq;
	struct follow_ctx x = { .c = c };

	pthread_rwlock_rdlock(&compat_fd_lock);
	pthread_mutex_lock(&maps_lock);
	if (!++seq)
		++seq;
	x.seq = seq;
	/* A file is reachable through a descriptor or a mapping. */
	compat_fd_each(follow_obj, &x);
	for (struct compat_map *m = maps; m; m = m->next)
		follow_obj(&m->f->obj, &x);
	pthread_mutex_unlock(&maps_lock);
	pthread_rwlock_unlock(&compat_fd_lock);
}

/* The parent's attributes at the fork: this process's own, copied. */
static void told_init(struct compat_obj *o, void *arg)
{
	struct compat_file *f = (struct compat_file *)o;
	bool follows = *(bool *)arg;
	uint64_t s, attr, run;

	if (o->kind != COMPAT_GMEM)
		return;
	if (!follows)
		f->told_lost = true;
	if (f->told || f->told_lost)
		return;
	if (gmem__follow_told_new(&f->told, f->size)) {
		f->told_lost = true;
		return;
	}
	for (s = 0; s < f->size; s += run) {
		if (gmem_get_memory_attributes(f->g, s, &attr, &run) ||
		    ((attr & GMEM_ATTR_PRIVATE) &&
		     gmem__follow_told_set(f->told, s, s + run, true))) {
			f->told_lost = true;
			return;
		}
	}
}

void compat_maps_fork_prepare(void)
{
	pthread_mutex_lock(&maps_lock);
}

void compat_maps_fork_parent(void)
{
	pthread_mutex_unlock(&maps_lock);
}

/* Every page of the parent's files private in the child, now and in
 * mappings it makes later. */
static void cover_all(void)
{
	bool follows = false;

	for (struct compat_map *m = maps; m; m = m->next) {
		m->f->told_lost = true;
		if (sigbus_fd >= 0)
			remap(m, 0, m->f->size, true);
	}
	compat_fd_each(told_init, &follows);
}

/*
 * The child of fork().  Its mappings of a guest_memfd were not inherited
 * (MADV_DONTFORK).  If it can follow the parent's conversions (a channel:
 * src/follow.c), each mapping is made again as the attributes at the fork
 * say, shared runs mapping the file and private ones the SIGBUS cover,
 * then the listener starts; otherwise every page of the parent's files
 * stays private in the child, mapped now or later.  Single-threaded here:
 * maps_lock is held by this thread since the prepare handler.
 */
/* Mappings whose addresses something else of the child took before this
 * handler ran (another atfork handler, a sanitizer's runtime starting a
 * thread) are forgotten: nothing is mapped over what is not the shim's. */
static void drop_taken(void)
{
	struct compat_map **pp = &maps, *m, *dead = NULL;

	while ((m = *pp)) {
		if (gmem__follow_only_ours((void *)m->addr, m->len,
					   "gmem-compat-private")) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		m->next = dead;
		dead = m;
		__atomic_sub_fetch(&compat_nr_maps, 1, __ATOMIC_RELEASE);
	}
	release(dead);
}

void compat_maps_fork_child(void)
{
	bool follows = gmem__follow_child();

	/* The child's mappings are made again, private runs covered; the
	 * userfaultfd it inherited acts on the parent's memory. */
	markers_ok = false;
	gmem__marks_forget();
	for (struct compat_map *m = maps; m; m = m->next)
		m->marks = false;

	if (maps)
		drop_taken();

	if (follows) {
		compat_fd_each(told_init, &follows);
		for (struct compat_map *m = maps; m; m = m->next)
			told_init(&m->f->obj, &follows);
		if (sigbus_fd >= 0)
			for (struct compat_map *m = maps; m; m = m->next)
				if (walk_locked(m->f, m, m->off, m->off + m->len,
						WALK_SYNC))
					remap(m, 0, m->f->size, true);
		follows = gmem__follow_listen(follow);
	}
	if (!follows) {
		cover_all();
		gmem__follow_drop();
	}
	pthread_mutex_unlock(&maps_lock);
}
