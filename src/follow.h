/* SPDX-License-Identifier: MIT */
/*
 * Children made by fork() follow the parent's conversions (src/follow.c).
 *
 * The host mappings of a file (libgmem's views, libgmem-compat's maps of a
 * guest_memfd) are MADV_DONTFORK: no child inherits them by itself.  The
 * owner of such mappings calls, from its pthread_atfork handlers and in
 * this order after taking the locks that keep its attributes and mappings
 * still, gmem__follow_prepare(), then gmem__follow_parent() or
 * gmem__follow_child().  A child with a channel maps its views again
 * (shared runs the file, private runs the SIGBUS cover), and a listener
 * thread applies every later conversion of the parent, forwarding it to
 * its own children first; a conversion to private returns in the parent
 * only once every live child covered the range.
 *
 * Files are named by the (st_dev, st_ino) of the guest_memfd or memfd
 * under them, the same in every process.
 */
#ifndef GMEM_FOLLOW_H
#define GMEM_FOLLOW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#define GMEM_FOLLOW_PAGE 4096ULL
/* A message on the channel is at most this long. */
#define GMEM_FOLLOW_MSG_MAX 40

struct gmem_follow_change {
	uint64_t dev, ino;	/* the file */
	uint64_t off, len;	/* the range (whole pages) */
	bool to_private;
};

/* A change as sent (buf holds GMEM_FOLLOW_MSG_MAX bytes): its length. */
size_t gmem__follow_encode(const struct gmem_follow_change *c, void *buf);
/* n bytes received: 0 and *c for a well-formed change (whole pages, not
 * empty, no overflow), else -EINVAL (the listener then ends the process:
 * it can no longer follow). */
int  gmem__follow_decode(const void *buf, size_t n, struct gmem_follow_change *c);
/* [*start, *end): the part of c inside a file of size bytes; false if
 * none. */
bool gmem__follow_clip(const struct gmem_follow_change *c, uint64_t size,
		       uint64_t *start, uint64_t *end);

/* Called in the child's listener thread: make every mapping of the file
 * in this process follow the change (to_private: covered, to shared:
 * readable where the child's own state allows).  Must not return before
 * a to-private range is unreachable; where it cannot cover the range, it
 * kills the process (never a private byte read). */
typedef void (*gmem_follow_apply_fn)(const struct gmem_follow_change *c);

/* The fork handlers (see above).  prepare: make this fork's channel (a
 * failure leaves the child without one: it must cover every view, as
 * after a raw fork); parent: called before the owner releases its locks
 * (a conversion after them sees the child).  child: true if the child has
 * a channel; false if it must cover every view itself.  With a channel,
 * the child (still single-threaded) maps its views as the attributes at
 * the fork say, then starts the listener with gmem__follow_listen(): apply
 * is called for every change (and forwards it to the child's own children
 * with gmem__follow_send()).  If that fails, the child covers every view
 * and only then calls gmem__follow_drop(), which closes the channel (the
 * parent then stops waiting for it). */
void gmem__follow_lock(void);		/* first in prepare */
/* want: make a channel (the owner has files a child may map) */
void gmem__follow_prepare(bool want);	/* after the owner's locks */
void gmem__follow_parent(void);
bool gmem__follow_child(void);
bool gmem__follow_listen(gmem_follow_apply_fn apply);
void gmem__follow_drop(void);

/* Any child to tell?  One load; the caller holds a lock that the fork
 * prepare handler takes too, so no fork runs meanwhile. */
bool gmem__follow_any(void);
/* Tell every live child (and, through them, theirs) about c, and wait
 * until each applied it.  Dead children are forgotten; a live one that
 * cannot be told is killed (it would go on reading the range).  Returns
 * nothing to handle: after the call no child reaches a range made
 * private. */
void gmem__follow_send(const struct gmem_follow_change *c);

/*
 * In a child: the parent's attributes of a file as last told (a copy of
 * the child's own at the fork).  A page is private in the child if either
 * its own attributes or the parent's say so: a child's own conversion to
 * shared never shows a page the parent holds private.
 */
struct gmem_follow_told;
int  gmem__follow_told_new(struct gmem_follow_told **t, uint64_t size);
void gmem__follow_told_free(struct gmem_follow_told *t);
/* 0 or -ENOMEM (nothing changed) */
int  gmem__follow_told_set(struct gmem_follow_told *t, uint64_t off,
			   uint64_t end, bool priv);
/* Is off private for the parent?  *run_end: where that answer ends. */
bool gmem__follow_told_private(const struct gmem_follow_told *t, uint64_t off,
			       uint64_t *run_end);

/* In a child's fork handler: the rwlock l, held by this thread since the
 * prepare handler (read_held: for reading), is made again: glibc's
 * rwlock cannot be unlocked under the child's thread id, nor hold the
 * readers of the parent's other threads.  ThreadSanitizer is told of the
 * release (it models the child's thread as the parent's). */
void gmem__follow_rwlock_reinit(pthread_rwlock_t *l, bool read_held);

/* In a child's fork handler: does [addr, addr + len) hold nothing but
 * unmapped pages and mappings whose /proc/self/maps line contains name
 * (the owner's SIGBUS memfd)?  The views are not inherited, and whatever
 * ran in the child before the owner's handler (another atfork handler, a
 * sanitizer's runtime starting a thread) may have been given their
 * addresses: those must not be mapped over.  false if it cannot tell. */
bool gmem__follow_only_ours(const void *addr, size_t len, const char *name);

/* The identity of the file under fd: 0 or -errno. */
int gmem__follow_ident(int fd, uint64_t *dev, uint64_t *ino);

#endif
