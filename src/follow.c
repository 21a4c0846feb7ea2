/* SPDX-License-Identifier: MIT */
/*
 * Children made by fork() follow the parent's conversions (see follow.h).
 *
 * The kernel zaps every process's page tables when a guest_memfd range
 * turns private; a user-space library can only ask the other processes to
 * do it.  Each fork() whose owner has something to follow gets its own
 * channel, a SOCK_SEQPACKET socketpair made in the prepare handler: the
 * parent keeps one end in its registry of children, the child keeps the
 * other and runs a listener thread on it.  A conversion in the parent
 * sends the change to every registered child and waits for each one's
 * acknowledgement; a child's listener applies the change to its mappings
 * and tells its own children the same way (the owner's apply function
 * does both: what a grandchild must hear of a change to shared depends on
 * the child's own attributes too), then acknowledges.
 * The wait ends early when the child is gone: end of file on the channel,
 * or its pidfd (sent by the child itself in its first message, so that it
 * names the child even if a process forked with a raw clone() still holds
 * the channel).  A child that is alive but cannot be told is killed with
 * that pidfd, and waited for: no child goes on reading a range that turned
 * private.
 *
 * Locks.  fork_lock is taken first by the prepare handler, before the
 * owner's own locks, and by the listener around forwarding and applying a
 * change: a fork() in the child never splits the two (a grandchild made in
 * between would miss the change).  reg_lock guards the registry; it is
 * taken after the owner's locks (the prepare handler, and conversions
 * holding the owner's locks while they send).
 *
 * Nothing here costs anything until the first fork() with a channel: the
 * owner's conversion path loads one counter (gmem__follow_any()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "follow.h"
#include "rangeset.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

enum msg_type {
	MSG_HELLO = 1,		/* child -> parent: pid, pidfd attached */
	MSG_CHANGE,		/* parent -> child */
	MSG_ACK,		/* child -> parent: applied */
};

struct msg {
	uint32_t type;
	uint32_t to_private;
	uint64_t dev, ino, off, len;
};

_Static_assert(sizeof(struct msg) == GMEM_FOLLOW_MSG_MAX, "message size");

struct child {
	int sock;		/* the parent's end */
	int pidfd;		/* -1 until the hello, or without pidfds */
	pid_t pid;		/* from the hello */
	bool hello;		/* the first message was read */
	bool dead;
};

static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct child *kids;
static size_t nkids, kids_cap;
static int nr_kids;			/* atomic copy of nkids */
static int pair[2] = { -1, -1 };	/* this fork's channel */
static bool preparing;
static int up = -1;			/* a child's end of its channel */
static gmem_follow_apply_fn applier;

#if defined(__SANITIZE_THREAD__)
#define FOLLOW_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FOLLOW_TSAN 1
#endif
#endif
#ifdef FOLLOW_TSAN
#include <sanitizer/tsan_interface.h>
#endif

void gmem__follow_rwlock_reinit(pthread_rwlock_t *l, bool read_held)
{
#ifdef FOLLOW_TSAN
	unsigned flags = read_held ? __tsan_mutex_read_lock : 0;

	__tsan_mutex_pre_unlock(l, flags);
	__tsan_mutex_post_unlock(l, flags);
#else
	(void)read_held;
#endif
	pthread_rwlock_init(l, NULL);
}

bool gmem__follow_any(void)
{
	return __atomic_load_n(&nr_kids, __ATOMIC_ACQUIRE) != 0;
}

int gmem__follow_ident(int fd, uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

/* ---- address ranges in a child -------------------------------------------- */

/* The whole of /proc/self/maps, NUL-terminated (malloc'd), or NULL. */
static char *read_maps(void)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *b = realloc(buf, cap * 2);

			if (!b) {
				n = -1;
				break;
			}
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

bool gmem__follow_only_ours(const void *addr, size_t len, const char *name)
{
	uintptr_t a = (uintptr_t)addr, b = a + len;
	char *maps = read_maps(), *line, *next;
	bool ours = maps != NULL;

	for (line = maps; ours && line && *line; line = next) {
		unsigned long lo, hi;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (hi > a && lo < b && !strstr(line, name))
			ours = false;
	}
	free(maps);
	return ours;
}

/* ---- messages ------------------------------------------------------------ */

size_t gmem__follow_encode(const struct gmem_follow_change *c, void *buf)
{
	struct msg m = {
		.type = MSG_CHANGE, .to_private = c->to_private,
		.dev = c->dev, .ino = c->ino, .off = c->off, .len = c->len,
	};

	memcpy(buf, &m, sizeof(m));
	return sizeof(m);
}

int gmem__follow_decode(const void *buf, size_t n, struct gmem_follow_change *c)
{
	struct msg m;

	if (n != sizeof(m))
		return -EINVAL;
	memcpy(&m, buf, sizeof(m));
	if (m.type != MSG_CHANGE || m.to_private > 1 || !m.len ||
	    (m.off | m.len) % GMEM_FOLLOW_PAGE || m.off + m.len < m.off)
		return -EINVAL;
	*c = (struct gmem_follow_change){
		.dev = m.dev, .ino = m.ino, .off = m.off, .len = m.len,
		.to_private = m.to_private,
	};
	return 0;
}

bool gmem__follow_clip(const struct gmem_follow_change *c, uint64_t size,
		       uint64_t *start, uint64_t *end)
{
	*start = c->off;
	*end = c->off + c->len < size ? c->off + c->len : size;
	return *start < *end;
}

/* ---- the parent's attributes, in a child ------------------------------- */

int gmem__follow_told_new(struct gmem_follow_told **t, uint64_t size)
{
	return rs_create((struct rangeset **)t, size, 0);
}

void gmem__follow_told_free(struct gmem_follow_told *t)
{
	rs_destroy((struct rangeset *)t);
}

int gmem__follow_told_set(struct gmem_follow_told *t, uint64_t off,
			  uint64_t end, bool priv)
{
	struct rangeset *rs = (struct rangeset *)t;
	int ret = rs_reserve(rs, 1);

	return ret ? ret : rs_set(rs, off, end, priv);
}

bool gmem__follow_told_private(const struct gmem_follow_told *t, uint64_t off,
			       uint64_t *run_end)
{
	return rs_lookup((const struct rangeset *)t, off, run_end) != 0;
}

/* ---- the parent's side -------------------------------------------------- */

/* Wait until the child's process is gone (after SIGKILL). */
static void wait_gone(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

/* A live child that cannot be told: it must not go on. */
static void kill_child(struct child *k)
{
	if (k->pidfd >= 0) {
		if (!syscall(SYS_pidfd_send_signal, k->pidfd, SIGKILL, NULL, 0))
			wait_gone(k->pidfd);
	} else if (k->pid > 0) {
		/* No pidfd (before Linux 5.3): a live child of this process,
		 * not reaped, so the pid is still its own. */
		kill(k->pid, SIGKILL);
	}
	k->dead = true;
}

static void forget(struct child *k)
{
	close(k->sock);
	if (k->pidfd >= 0)
		close(k->pidfd);
	k->sock = k->pidfd = -1;
}

/* The child's first message: its pidfd.  It was sent in the child's fork
 * handler, so it is there unless the child is gone (or fork() failed:
 * then nobody else ever held the other end). */
static void read_hello(struct child *k)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	do
		n = recvmsg(k->sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	k->hello = true;
	if (n != (ssize_t)sizeof(m) || m.type != MSG_HELLO) {
		k->dead = true;
		return;
	}
	k->pid = (pid_t)m.off;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&k->pidfd, CMSG_DATA(c), sizeof(int));
}

static void tell(struct child *k, const struct msg *m)
{
	ssize_t n;

	if (!k->hello)
		read_hello(k);
	if (k->dead)
		return;
	do
		n = send(k->sock, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*m))
		return;
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
		k->dead = true;
	else
		kill_child(k);
}

static void await_ack(struct child *k)
{
	struct pollfd p[2] = {
		{ .fd = k->sock, .events = POLLIN },
		{ .fd = k->pidfd, .events = POLLIN },
	};
	struct msg m;
	ssize_t n;

	if (k->dead)
		return;
	for (;;) {
		if (poll(p, k->pidfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			kill_child(k);
			return;
		}
		if (p[0].revents)
			break;
		if (p[1].revents) {	/* exited (a zombie has no mappings) */
			k->dead = true;
			return;
		}
	}
	do
		n = recv(k->sock, &m, sizeof(m), 0);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		k->dead = true;
	else if (n != (ssize_t)sizeof(m) || m.type != MSG_ACK)
		kill_child(k);
}

/* The registry without its dead children; reg_lock held. */
static void sweep(void)
{
	size_t i, j;

	for (i = j = 0; i < nkids; i++) {
		if (kids[i].dead)
			forget(&kids[i]);
		else
			kids[j++] = kids[i];
	}
	nkids = j;
	__atomic_store_n(&nr_kids, (int)nkids, __ATOMIC_RELEASE);
}

/* A process that forks often and converts seldom (children that exec,
 * or exit) keeps no descriptor of a child that is gone: each fork drops
 * the children whose end of the channel closed. */
static void prune(void)
{
	for (size_t i = 0; i < nkids; i++) {
		struct pollfd p = { .fd = kids[i].sock, .events = POLLRDHUP };

		if (poll(&p, 1, 0) > 0 &&
		    (p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
			kids[i].dead = true;
	}
	sweep();
}

void gmem__follow_send(const struct gmem_follow_change *c)
{
	struct msg m;
	size_t i;

	gmem__follow_encode(c, &m);
	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < nkids; i++)
		tell(&kids[i], &m);
	for (i = 0; i < nkids; i++)
		await_ack(&kids[i]);
	sweep();
	pthread_mutex_unlock(&reg_lock);
}

/* ---- fork handlers ------------------------------------------------------ */

void gmem__follow_lock(void)
{
	pthread_mutex_lock(&fork_lock);
}

void gmem__follow_prepare(bool want)
{
	pthread_mutex_lock(&reg_lock);
	preparing = true;
	if (nkids)
		prune();
	if (!want)
		return;
	if (nkids == kids_cap) {
		size_t cap = kids_cap ? 2 * kids_cap : 8;
		struct child *k = realloc(kids, cap * sizeof(*k));

		if (!k)
			return;		/* no channel: the child covers */
		kids = k;
		kids_cap = cap;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair))
		pair[0] = pair[1] = -1;
}

void gmem__follow_parent(void)
{
	if (preparing && pair[0] >= 0) {
		close(pair[1]);
		kids[nkids++] = (struct child){
			.sock = pair[0], .pidfd = -1,
		};
		__atomic_store_n(&nr_kids, (int)nkids, __ATOMIC_RELEASE);
	}
	pair[0] = pair[1] = -1;
	preparing = false;
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&fork_lock);
}

static bool hello(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msg m = { .type = MSG_HELLO, .off = (uint64_t)getpid() };
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	bool ok;

	if (pidfd >= 0) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
	}
	/* The parent reads this before it sends anything: without it, the
	 * child cannot follow. */
	ok = sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(m);
	if (pidfd >= 0)
		close(pidfd);
	return ok;
}

/* The child's listener: every change of the parent, applied here (and
 * forwarded to this process's own children), acknowledged.  The parent
 * gone (end of file, or the acknowledgement cannot be sent), nothing
 * changes any more: the mappings stay as they are.  A channel that fails
 * otherwise would leave this process reading what the parent may make
 * private: it ends. */
static void *listen_up(void *arg)
{
	int sock = (int)(intptr_t)arg;
	struct msg m;
	ssize_t n;

	for (;;) {
		struct gmem_follow_change c;

		n = recv(sock, &m, sizeof(m), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		if (n < 0 || gmem__follow_decode(&m, (size_t)n, &c)) {
			kill(getpid(), SIGKILL);
			break;
		}
		pthread_mutex_lock(&fork_lock);
		applier(&c);
		pthread_mutex_unlock(&fork_lock);
		m.type = MSG_ACK;
		do
			n = send(sock, &m, sizeof(m), MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(m))
			break;
	}
	return NULL;
}

bool gmem__follow_child(void)
{
	/* The parent's registry, and its own channel upwards, are the
	 * parent's: closed here so that their other ends see them go. */
	for (size_t i = 0; i < nkids; i++)
		forget(&kids[i]);
	nkids = 0;
	__atomic_store_n(&nr_kids, 0, __ATOMIC_RELEASE);
	if (up >= 0)
		close(up);
	up = -1;
	/* Held by this very thread since the prepare handler. */
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&fork_lock);
	if (!preparing || pair[0] < 0) {
		preparing = false;
		return false;
	}
	preparing = false;
	close(pair[0]);
	up = pair[1];
	pair[0] = pair[1] = -1;
	if (!hello(up)) {
		close(up);	/* the parent sees the end of file */
		up = -1;
		return false;
	}
	return true;
}

bool gmem__follow_listen(gmem_follow_apply_fn apply)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int ret;

	applier = apply;
	/* The listener takes no signal of the application's; faults of its
	 * own stay deliverable (blocked, they would kill without a word). */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGABRT);
	sigdelset(&all, SIGTRAP);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, listen_up, (void *)(intptr_t)up);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return !ret;
}

void gmem__follow_drop(void)
{
	if (up >= 0)
		close(up);
	up = -1;
}
