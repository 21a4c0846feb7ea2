/* SPDX-License-Identifier: MIT */
/*
 * Host views (gmem_mmap): shared pages read and write, private pages raise
 * SIGBUS, contents survive a round trip through private, conversions to
 * private revoke the view, a view made late covers what is already private,
 * a forked child never reads private memory through an inherited view, one
 * VMA per run, and the vm.max_map_count limit fails a conversion cleanly.
 * Run over the emulated and kvm backends.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "core_common.h"
#include "internal.h"
#include "gmem/uapi.h"

#define NP 32

/* VMAs of this process inside [p, p + len). */
static long vmas_in(const uint8_t *p, uint64_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long s, e, lo = (unsigned long)p, hi = lo + len;
	char line[512];
	long n = 0;

	TEST_ASSERT(f, "/proc/self/maps");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s >= lo && e <= hi)
			n++;
	fclose(f);
	return n;
}

static long vmas_total(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	long n = 0;

	TEST_ASSERT(f, "/proc/self/maps");
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void test_rw_sigbus(const char *be)
{
	uint8_t ref[NP * PG], buf[PG], phys0[PG], phys1[PG];
	struct core_ctx c;
	uint8_t *v0;

	core_setup(&c, "default", NULL, NP, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	core_pattern(ref, sizeof(ref), 3);
	memcpy(c.host, ref, sizeof(ref));
	ok(!memcmp(c.host, ref, sizeof(ref)), "%s: shared pages read back what was written", be);
	TEST_ASSERT(!gmem_guest_access(c.g, 5 * PG, buf, PG, GMEM_ACCESS_READ), "read");
	ok(!memcmp(buf, ref + 5 * PG, PG), "%s: the guest's shared view is the same page", be);

	v0 = c.host;
	ok_ret(core_conv(c.g, 4 * PG, 8 * PG, PRIV, CP), 0, "%s: pages 4..11 to private", be);
	ok(core_sigbus_on_read(v0 + 4 * PG) && core_sigbus_on_read(v0 + 11 * PG + 4095),
	   "%s: the view handed out before raises SIGBUS on private pages", be);
	TEST_ASSERT(!gmem_physical_read(c.g, 6 * PG, phys0, PG), "phys");
	ok(core_try_write(v0 + 6 * PG, "x", 1) < 0, "%s: a write raises SIGBUS", be);
	TEST_ASSERT(!gmem_physical_read(c.g, 6 * PG, phys1, PG), "phys");
	ok(!memcmp(phys0, phys1, PG), "%s: and does not land", be);
	ok(!core_sigbus_on_read(v0 + 3 * PG + 4095) && !core_sigbus_on_read(v0 + 12 * PG),
	   "%s: the neighbours stay readable", be);
	ok(gmem_mmap(c.g) == v0, "%s: gmem_mmap returns the same view", be);

	ok_ret(core_conv(c.g, 4 * PG, 8 * PG, 0, CP), 0, "%s: back to shared (PRESERVE)", be);
	ok(!memcmp(c.host, ref, sizeof(ref)), "%s: contents intact after the round trip", be);
	ok_ret(core_conv(c.g, 4 * PG, 2 * PG, PRIV, CP), 0, "%s: to private again", be);
	ok_ret(core_conv(c.g, 4 * PG, 2 * PG, 0, CZ), 0, "%s: back with ZERO", be);
	ok(core_all_zero(c.host + 4 * PG, 2 * PG) &&
	   !memcmp(c.host + 6 * PG, ref + 6 * PG, 26 * PG),
	   "%s: ZERO: the host reads zeros there, the rest intact", be);

	ok_ret(gmem_punch_hole(c.g, 8 * PG, 4 * PG), 0, "%s: punch through the view's pages", be);
	ok(core_all_zero(c.host + 8 * PG, 4 * PG), "%s: the view reads zeros after the punch", be);
	c.host[9 * PG] = 7;
	ok(c.host[9 * PG] == 7, "%s: and the page can be written again", be);
	core_teardown(&c);
}

/* The view is made on the first gmem_mmap(): conversions before it touch
 * no page table, and the view it makes covers what is private already. */
static void test_lazy(const char *be)
{
	struct gmem_stats st;
	struct core_ctx c;
	uint8_t *v;

	core_setup(&c, "default", NULL, NP, 0);
	gmem_destroy(c.g);
	TEST_ASSERT(!gmem_create(c.vm, NP * PG, GMEM_FLAG_MMAP, &c.g), "gmem");
	ok_ret(core_conv(c.g, 0, 8 * PG, 0, CU), 0, "%s: convert before any view", be);
	ok_ret(core_conv(c.g, 2 * PG, 2 * PG, PRIV, CU), 0, "%s: and back in part", be);
	gmem_get_stats(c.g, &st);
	ok(st.views_revoked == 0 && st.views_restored == 0,
	   "%s: no host view work before gmem_mmap", be);
	v = gmem_mmap(c.g);
	TEST_ASSERT(v, "mmap");
	ok(!core_sigbus_on_read(v) && !core_sigbus_on_read(v + 7 * PG) &&
	   core_sigbus_on_read(v + 2 * PG) && core_sigbus_on_read(v + 3 * PG) &&
	   core_sigbus_on_read(v + 8 * PG) && core_sigbus_on_read(v + (NP - 1) * PG),
	   "%s: the new view: shared readable, private SIGBUS", be);
	core_teardown(&c);
}

/*
 * The page tables of a large run follow its owner only where there is
 * something to move: a populated 2 MiB run moves to the library's mapping
 * and back (one move each way, the bytes intact); a run nobody wrote goes
 * under the cover and back with no move at all (emulated: the view asks
 * the file where its data is; a file that cannot answer, the kvm
 * backend's guest_memfd, tries the move).
 */
static void test_moves(const char *be)
{
	const uint64_t big = 512 * PG, small = 64 * PG;
	static uint8_t ref[512 * PG];
	struct gmem_stats st0, st;
	struct core_ctx c;

	core_setup(&c, "default", NULL, 1024, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	core_pattern(ref, big, 11);
	memcpy(c.host, ref, big);
	gmem_get_stats(c.g, &st0);
	ok_ret(core_conv(c.g, 0, big, PRIV, CP), 0, "%s: a written 2 MiB run to private", be);
	gmem_get_stats(c.g, &st);
	ok(st.views_moved == st0.views_moved + 1 && core_sigbus_on_read(c.host + PG),
	   "%s: its entries moved with the owner (%llu moves), SIGBUS on the host", be,
	   (unsigned long long)(st.views_moved - st0.views_moved));
	ok_ret(core_conv(c.g, 0, big, 0, CP), 0, "%s: and back to shared", be);
	gmem_get_stats(c.g, &st);
	ok(st.views_moved == st0.views_moved + 2 && !memcmp(c.host, ref, big),
	   "%s: moved back, the bytes intact", be);

	st0 = st;
	ok_ret(core_conv(c.g, 768 * PG, small, PRIV, CP), 0,
	       "%s: an unwritten 256 KiB run to private", be);
	ok_ret(core_conv(c.g, 768 * PG, small, 0, CP), 0, "%s: and back", be);
	gmem_get_stats(c.g, &st);
	/* a memfd (emulated) can always say where its data is */
	if (c.g->view_seek >= 0 || !strcmp(be, "emulated"))
		ok(c.g->view_seek >= 0 && st.views_moved == st0.views_moved,
		   "%s: no move: the file has no data there", be);
	else
		ok(st.views_moved == st0.views_moved + 2,
		   "%s: the file cannot say where its data is: the moves are tried", be);
	ok(core_all_zero(c.host + 768 * PG, small) &&
	   !core_sigbus_on_read(c.host + 1023 * PG),
	   "%s: the run reads zeros again", be);
	core_teardown(&c);
}

/* Does the view of this backend take small private runs with poison
 * markers (userfaultfd on the file: memfd yes, guest_memfd no)? */
/* Whether this kernel gives user space poison markers on shmem: asked
 * here directly, not through the library (a kernel built without
 * CONFIG_USERFAULTFD, as the series kernel's config is, has none). */
static bool kernel_has_markers(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_POISON | UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
	};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = !ioctl(fd, UFFDIO_API, &api) &&
	     (api.features & UFFD_FEATURE_POISON);
	close(fd);
	return ok;
}

static bool marks_expected(const char *be)
{
	return !strcmp(be, "emulated") && !getenv("GMEM_VIEW_NO_MARKERS") &&
	       !getenv("GMEM_VALGRIND") &&	/* valgrind lacks userfaultfd */
	       kernel_has_markers();
}

static bool marks_of(struct gmem *g)
{
	return g->view_marks;
}

/* VMAs: a view whose small runs carry markers stays one VMA; a view of
 * covers costs one VMA per run of equal attributes. */
static void test_one_vma_per_run(const char *be)
{
	struct gmem_stats st;
	struct core_ctx c;
	long n;

	core_setup(&c, "default", NULL, NP, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	ok(vmas_in(c.host, c.size) == 1, "%s: a fresh view is one VMA", be);
	TEST_ASSERT(!core_conv(c.g, 8 * PG, 8 * PG, PRIV, CU), "conv");
	TEST_ASSERT(!core_conv(c.g, 10 * PG, 2 * PG, PRIV, CU), "no-op conv");
	gmem_get_stats(c.g, &st);
	n = vmas_in(c.host, c.size);
	ok(n == (marks_of(c.g) ? 1 : (long)st.ranges),
	   "%s: a no-op conversion splits no VMA (%ld VMAs, %llu runs)",
	   be, n, (unsigned long long)st.ranges);
	TEST_ASSERT(!core_conv(c.g, 10 * PG, 2 * PG, 0, CU), "conv");
	TEST_ASSERT(!core_conv(c.g, 10 * PG, 2 * PG, PRIV, CU), "conv");
	gmem_get_stats(c.g, &st);
	n = vmas_in(c.host, c.size);
	ok(n == (marks_of(c.g) ? 1 : (long)st.ranges),
	   "%s: a private run split and rejoined: %s (%ld VMAs, %llu runs)",
	   be, marks_of(c.g) ? "markers, one VMA" : "one VMA per run",
	   n, (unsigned long long)st.ranges);
	TEST_ASSERT(!core_conv(c.g, 0, NP * PG, 0, CU), "conv");
	n = vmas_in(c.host, c.size);
	if (!ok(n == 1, "%s: all shared again: one VMA (%ld)", be, n))
		diag("  the view's pieces do not merge: mappings made with different "
		     "flags (e.g. MAP_NORESERVE on some only) never merge; compare "
		     "VmFlags in /proc/self/smaps");
	core_teardown(&c);

	/* Runs of 128 KiB and more, where the view may move page tables. */
	core_setup(&c, "default", NULL, 256, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	memset(c.host, 0x33, 256 * PG);
	TEST_ASSERT(!core_conv(c.g, 64 * PG, 128 * PG, PRIV, CP), "conv");
	TEST_ASSERT(!core_conv(c.g, 0, 64 * PG, PRIV, CP), "conv");
	TEST_ASSERT(!core_conv(c.g, 192 * PG, 64 * PG, PRIV, CP), "conv");
	n = vmas_in(c.host, c.size);
	ok(n == 1, "%s: large private runs joined: one VMA (%ld)", be, n);
	TEST_ASSERT(!core_conv(c.g, 32 * PG, 96 * PG, 0, CP), "conv");
	gmem_get_stats(c.g, &st);
	n = vmas_in(c.host, c.size);
	ok(n == (long)st.ranges, "%s: large runs: one VMA per run (%ld VMAs, %llu runs)",
	   be, n, (unsigned long long)st.ranges);
	TEST_ASSERT(!core_conv(c.g, 0, 256 * PG, 0, CP), "conv");
	n = vmas_in(c.host, c.size);
	ok(n == 1 && c.host[200 * PG] == 0x33 && c.host[5 * PG] == 0x33,
	   "%s: large runs all shared again: one VMA (%ld), contents intact", be, n);
	core_teardown(&c);
}

/*
 * A child made by fork(), syscall(SYS_fork) (no atfork handler runs) or
 * clone() never reads a private byte through an inherited view: not a
 * page private at the fork, not a page the parent makes private after it.
 * The view is not inherited (MADV_DONTFORK): a touch in the child raises
 * SIGSEGV after a raw fork, SIGBUS after fork() (whose child handler maps
 * the SIGBUS cover at the view's address); see docs/semantics.md.
 */
enum { BY_FORK, BY_SYS_FORK, BY_CLONE };
static const char *const by_name[] = { "fork()", "syscall(SYS_fork)", "clone()" };

struct child_arg {
	const uint8_t *host;
	int pipe_rd;
};

/* bit 0: a private page read; bit 1: the page the parent makes private
 * after the fork read; bit 2: some access raised neither signal. */
static int child_body(void *p)
{
	const struct child_arg *a = p;
	struct sigaction sa;
	char go;
	int bad = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = core_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	if (!core_sigbus_on_read(a->host))
		bad |= 1;
	if (read(a->pipe_rd, &go, 1) != 1)
		_exit(100);
	if (!core_sigbus_on_read(a->host + 8 * PG))
		bad |= 2;
	_exit(bad);
}

static pid_t spawn(int by, struct child_arg *a)
{
	static char stack[64 << 10] __attribute__((aligned(16)));
	pid_t pid;

	fflush(stdout);
	if (by == BY_CLONE)
		return clone(child_body, stack + sizeof(stack), SIGCHLD, a);
	pid = by == BY_FORK ? fork() : (pid_t)syscall(SYS_fork);
	if (pid == 0)
		child_body(a);
	return pid;
}

static void test_fork(const char *be, int by)
{
	struct child_arg a;
	struct core_ctx c;
	int to_child[2], status = 0;
	uint8_t secret[PG];
	pid_t pid;

	core_setup(&c, "default", NULL, NP, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	memset(c.host, 0x11, NP * PG);
	TEST_ASSERT(!core_conv(c.g, 0, 4 * PG, PRIV, CP), "conv");
	core_pattern(secret, PG, 99);
	TEST_ASSERT(!gmem_guest_access(c.g, 0, secret, PG,
				       GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE), "secret");
	/* the page made private later is populated in the view */
	TEST_ASSERT(c.host[8 * PG] == 0x11, "populated");
	TEST_ASSERT(!pipe(to_child), "pipe");
	a.host = c.host;
	a.pipe_rd = to_child[0];
	pid = spawn(by, &a);
	TEST_ASSERT(pid >= 0, "%s", by_name[by]);
	close(to_child[0]);
	TEST_ASSERT(!core_conv(c.g, 8 * PG, PG, PRIV, CP), "conv after fork");
	TEST_ASSERT(!gmem_guest_access(c.g, 8 * PG, secret, PG,
				       GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE), "secret 2");
	TEST_ASSERT(write(to_child[1], "g", 1) == 1, "go");
	close(to_child[1]);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "wait");
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 1),
	   "%s: a child of %s cannot read a private page (status 0x%x)", be,
	   by_name[by], status);
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 2),
	   "%s: %s: nor a page made private after the fork", be, by_name[by]);
	ok(WIFEXITED(status) && WEXITSTATUS(status) < 100,
	   "%s: %s: child ran to the end", be, by_name[by]);
	ok(!core_sigbus_on_read(c.host + 9 * PG) && c.host[9 * PG] == 0x11 &&
	   core_sigbus_on_read(c.host + 8 * PG) && core_sigbus_on_read(c.host),
	   "%s: %s: the parent's view is unaffected", be, by_name[by]);
	core_teardown(&c);
}

/*
 * fork() (the atfork handlers run): the child keeps its shared pages (it
 * reads the parent's bytes, the parent sees its writes), gets SIGBUS on
 * read and write of a page the parent converts to private after the
 * fork, reads it again once the parent converts it back; a grandchild
 * follows too; the child's own conversion to shared does not show it a
 * page the parent holds private; a child that exited holds up nothing.
 * The parent sends a step number, the child answers with a byte of bits
 * (0 = all as expected).
 */
static int step(int to, int from, char n)
{
	char r;

	if (write(to, &n, 1) != 1 || read(from, &r, 1) != 1)
		return -1;
	return r;
}

static char follow_step(struct gmem *g, uint8_t *host, char n)
{
	uint8_t b = 0x33;
	char bad = 0;

	switch (n) {
	case 1:	/* at the fork: page 9 shared, page 0 private */
		if (core_try_read(host + 9 * PG, &b, 1) || b != 0x11)
			bad |= 1;
		b = 0x22;
		if (core_try_write(host + 9 * PG, &b, 1))
			bad |= 2;
		if (!core_sigbus_on_read(host))
			bad |= 4;
		break;
	case 2:	/* page 8 made private by the parent */
	case 4:
		if (!core_sigbus_on_read(host + 8 * PG) ||
		    !core_try_write(host + 8 * PG, &b, 1))
			bad |= 1;
		break;
	case 3:	/* page 8 shared again */
	case 5:
		if (core_try_read(host + 8 * PG, &b, 1))
			bad |= 1;
		break;
	case 7:	/* a refused conversion of pages 12-13 changed nothing */
		if (core_try_read(host + 12 * PG, &b, 1) ||
		    core_try_read(host + 13 * PG, &b, 1) || b != 0x11)
			bad |= 1;
		break;
	case 6:	/* the child's own conversion of page 10 (private in the
		 * parent) to shared */
		if (core_conv(g, 10 * PG, PG, 0, CP) ||
		    !core_sigbus_on_read(host + 10 * PG))
			bad |= 1;
		break;
	}
	return bad;
}

static void child_serve(struct gmem *g, uint8_t *host, int rd, int wr)
{
	char n, r;

	while (read(rd, &n, 1) == 1) {
		if (n == 'f') {		/* a grandchild serves from now on */
			pid_t gc = fork();
			int st;

			if (gc == 0)
				continue;
			r = gc < 0;
			if (write(wr, &r, 1) != 1 || gc < 0)
				_exit(3);
			_exit(waitpid(gc, &st, 0) == gc && WIFEXITED(st) ?
			      WEXITSTATUS(st) : 4);
		}
		if (n == 'q')
			_exit(0);
		r = follow_step(g, host, n);
		if (write(wr, &r, 1) != 1)
			_exit(5);
	}
	_exit(6);
}

/* The channel to a child of fork() is an AF_UNIX socketpair; a kernel
 * built without networking (the series kernel's config) has none. */
static bool follow_channel_available(void)
{
	int p[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p))
		return false;
	close(p[0]);
	close(p[1]);
	return true;
}

/* Without a channel the child of fork() cannot follow: its whole view is
 * covered, shared pages too, and it never reads a byte through it. */
static void test_fork_uncovered_never(struct core_ctx *c, const char *be)
{
	pid_t pid;
	int st;

	diag("SKIP %s: fork() following needs AF_UNIX socketpairs, which this "
	     "kernel lacks: a child of fork() gets its whole view covered", be);
	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0)
		_exit(core_sigbus_on_read(c->host) &&
		      core_sigbus_on_read(c->host + 9 * PG) ? 0 : 1);
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	   "%s: fork() without a channel: SIGBUS on private and shared pages in the child", be);
}

static void test_fork_follow(const char *be)
{
	int down[2], up[2], st;
	uint8_t secret[PG];
	struct core_ctx c;
	pid_t pid, early;

	core_setup(&c, "default", NULL, NP, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	memset(c.host, 0x11, NP * PG);
	core_pattern(secret, PG, 7);
	TEST_ASSERT(!core_conv(c.g, 0, PG, PRIV, CP), "conv");
	if (!follow_channel_available()) {
		test_fork_uncovered_never(&c, be);
		core_teardown(&c);
		return;
	}
	TEST_ASSERT(!pipe(down) && !pipe(up), "pipe");
	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		child_serve(c.g, c.host, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	ok(step(down[1], up[0], 1) == 0 && c.host[9 * PG] == 0x22,
	   "%s: fork(): the child reads and writes a shared page, SIGBUS on a private one", be);
	TEST_ASSERT(!core_conv(c.g, 8 * PG, PG, PRIV, CP), "conv 8");
	TEST_ASSERT(!gmem_guest_access(c.g, 8 * PG, secret, PG,
				       GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE), "secret");
	ok(step(down[1], up[0], 2) == 0,
	   "%s: fork(): the parent converts a page to private: SIGBUS on read and write in the child", be);
	TEST_ASSERT(!core_conv(c.g, 8 * PG, PG, 0, CZ), "conv 8 back");
	ok(step(down[1], up[0], 3) == 0, "%s: fork(): converted back, the child reads it", be);
	TEST_ASSERT(!gmem_pin(c.g, 13 * PG), "pin");
	ok(core_conv(c.g, 12 * PG, 2 * PG, PRIV, CP) == -EAGAIN &&
	   step(down[1], up[0], 7) == 0,
	   "%s: fork(): a refused conversion (a pinned page) changes nothing in the child", be);
	TEST_ASSERT(!gmem_unpin(c.g, 13 * PG), "unpin");
	TEST_ASSERT(!core_conv(c.g, 10 * PG, PG, PRIV, CP), "conv 10");
	ok(step(down[1], up[0], 6) == 0,
	   "%s: fork(): the child's own conversion to shared does not show it the parent's private page", be);
	ok(step(down[1], up[0], 'f') == 0, "%s: fork(): the child forks a grandchild", be);
	TEST_ASSERT(!core_conv(c.g, 8 * PG, PG, PRIV, CP), "conv 8 again");
	ok(step(down[1], up[0], 4) == 0,
	   "%s: fork(): the grandchild gets SIGBUS on the page the parent made private", be);
	TEST_ASSERT(!core_conv(c.g, 8 * PG, PG, 0, CZ), "conv 8 back again");
	ok(step(down[1], up[0], 5) == 0, "%s: fork(): and reads it once converted back", be);
	TEST_ASSERT(write(down[1], "q", 1) == 1, "quit");
	TEST_ASSERT(waitpid(pid, &st, 0) == pid, "wait");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "%s: fork(): the child and grandchild exit cleanly (status 0x%x)", be, st);
	close(down[1]);
	close(up[0]);

	early = fork();
	TEST_ASSERT(early >= 0, "fork");
	if (early == 0)
		_exit(0);
	TEST_ASSERT(!core_conv(c.g, 11 * PG, PG, PRIV, CP), "conv 11");
	ok(!core_conv(c.g, 11 * PG, PG, 0, CP) && waitpid(early, &st, 0) == early,
	   "%s: fork(): a child that exited holds up no conversion", be);
	core_teardown(&c);
}

/*
 * vm.max_map_count: fragment a mapped gmem page by page until the view
 * needs more VMAs than the limit allows.  The conversion that would pass
 * it fails with -ENOMEM and changes nothing.  Nothing system-wide is
 * lowered: the gmem is made large enough (sparse) to reach the limit.
 */
static void test_max_map_count(const char *be)
{
	long limit = 0, total0, k, fail_at = -1;
	uint64_t pages, last_run;
	struct gmem_stats st0, st1;
	struct core_ctx c;
	struct timespec t0, t1;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	double secs;
	int ret = 0;

	if (!f || fscanf(f, "%ld", &limit) != 1 || limit <= 0 || limit > 1 << 20) {
		diag("SKIP vm.max_map_count test: limit unreadable or too large (%ld)", limit);
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	if (CORE_TSAN || CORE_ASAN) {
		/* The sanitizer runtimes map memory on their own and abort
		 * when an mmap fails at the limit. */
		diag("SKIP vm.max_map_count test under a sanitizer");
		return;
	}
	total0 = vmas_total();
	pages = 2 * (uint64_t)limit + 64;
	core_setup(&c, "default", NULL, pages, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	/* A private run of 8 pages at the end, for the to-shared case. */
	TEST_ASSERT(!core_conv(c.g, (pages - 8) * PG, 8 * PG, PRIV, CU), "tail");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; (uint64_t)(2 * k + 1) < pages - 16; k++) {
		ret = core_conv(c.g, (2 * k + 1) * PG, PG, PRIV, CU);
		if (ret) {
			fail_at = k;
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	diag("%s: %ld conversions in %.2f s, limit %ld, %ld VMAs before",
	     be, k, secs, limit, total0);
	if (marks_of(c.g)) {
		long n = vmas_in(c.host, c.size);

		ok_ret(ret, 0, "%s: markers: no conversion meets vm.max_map_count", be);
		ok(n <= 4, "%s: %ld runs in %ld VMAs", be, k, n);
		ok(core_sigbus_on_read(c.host + (2 * (k - 1) + 1) * PG) &&
		   !core_sigbus_on_read(c.host + 2 * (k - 1) * PG),
		   "%s: the last private page raises SIGBUS, its neighbour reads", be);
		ok_ret(core_conv(c.g, (pages - 4) * PG, PG, 0, CZ), 0,
		       "%s: to-shared splitting a private run", be);
		ok(!core_sigbus_on_read(c.host + (pages - 4) * PG) &&
		   core_sigbus_on_read(c.host + (pages - 5) * PG),
		   "%s: ... opens that page only", be);
		core_teardown(&c);
		return;
	}
	ok_ret(ret, -ENOMEM, "%s: the conversion past vm.max_map_count fails with -ENOMEM", be);
	if (fail_at < 0) {
		core_teardown(&c);
		return;
	}
	ok(fail_at > limit / 2 - total0 - 8 && fail_at <= limit / 2 + 8,
	   "%s: ... after %ld conversions (about limit/2 = %ld)", be, fail_at, limit / 2);
	gmem_get_stats(c.g, &st0);
	ok(core_attr(c.g, (2 * fail_at + 1) * PG) == 0 &&
	   !core_sigbus_on_read(c.host + (2 * fail_at + 1) * PG) &&
	   core_sigbus_on_read(c.host + (2 * fail_at - 1) * PG),
	   "%s: the page stayed shared and readable, the one before private", be);
	/* To-shared of the middle of the private tail needs two more VMAs. */
	ret = core_conv(c.g, (pages - 4) * PG, PG, 0, CZ);
	ok_ret(ret, -ENOMEM, "%s: to-shared splitting a private run at the limit: -ENOMEM", be);
	gmem_get_memory_attributes(c.g, (pages - 8) * PG, &(uint64_t){ 0 }, &last_run);
	gmem_get_stats(c.g, &st1);
	ok(last_run == 8 * PG && core_sigbus_on_read(c.host + (pages - 4) * PG) &&
	   !memcmp(&st0, &st1, sizeof(st0)),
	   "%s: nothing changed (run of %llu bytes, statistics equal)", be,
	   (unsigned long long)last_run);
	core_teardown(&c);
}

/*
 * Any fragmentation: 10^6 interleaved runs with the view mapped (10^5
 * under the sanitizers), in a few VMAs; each page still follows its
 * attributes; one call makes them all shared again.
 */
static void test_interleaved(const char *be)
{
	const uint64_t runs = core_slow() ? 100000 : 1000000;
	const uint64_t pages = 2 * runs;
	struct gmem_stats st;
	struct core_ctx c;
	uint64_t k;
	int ret = 0;
	long n;

	core_setup(&c, "default", NULL, pages, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	if (marks_expected(be))
		ok(marks_of(c.g), "%s: the view takes poison markers", be);
	if (!marks_of(c.g)) {
		core_teardown(&c);
		return;
	}
	for (k = 0; k < pages; k += 97)
		c.host[k * PG] = 0x21;		/* some pages populated */
	for (k = 1; k < pages && !ret; k += 2)
		ret = core_conv(c.g, k * PG, PG, PRIV, CP);
	ok_ret(ret, 0, "%s: %llu interleaved private runs", be,
	       (unsigned long long)runs);
	gmem_get_stats(c.g, &st);
	n = vmas_in(c.host, c.size);
	ok(st.ranges == pages && n <= 4, "%s: %llu runs in %ld VMAs", be,
	   (unsigned long long)st.ranges, n);
	ok(core_sigbus_on_read(c.host + 97 * PG) &&
	   core_sigbus_on_read(c.host + (pages - 1) * PG) &&
	   core_sigbus_on_read(c.host + (pages / 2 + 1) * PG) &&
	   !core_sigbus_on_read(c.host + 96 * PG) && c.host[194 * PG] == 0x21,
	   "%s: private pages raise SIGBUS, populated or not; shared ones read", be);
	ok_ret(core_conv(c.g, 0, pages * PG, 0, CP), 0, "%s: all shared in one call", be);
	ok(c.host[97 * PG] == 0x21 && !core_sigbus_on_read(c.host + (pages - 1) * PG) &&
	   vmas_in(c.host, c.size) == 1, "%s: bytes kept, one VMA", be);
	core_teardown(&c);
}

int main(void)
{
	plan_lazy();
	core_sigbus_install();
	for (int b = 0; core_backends[b]; b++) {
		const char *be = core_backends[b];

		if (!core_use_backend(be))
			continue;
		test_rw_sigbus(be);
		test_lazy(be);
		test_moves(be);
		test_one_vma_per_run(be);
		/* ThreadSanitizer's runtime maps memory of its own in a
		 * child of fork() before the atfork handlers run, at the
		 * view's free addresses: the child then has no view (nothing
		 * is mapped over memory that is not the library's). */
		if (CORE_TSAN)
			diag("SKIP fork() children under ThreadSanitizer (its runtime takes the view's addresses in the child)");
		for (int by = CORE_TSAN ? BY_SYS_FORK : BY_FORK; by <= BY_CLONE; by++)
			test_fork(be, by);
		if (!CORE_TSAN)
			test_fork_follow(be);
		test_max_map_count(be);
		test_interleaved(be);
	}
	return done();
}
