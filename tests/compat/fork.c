/* SPDX-License-Identifier: MIT */
/*
 * Processes sharing a guest_memfd mapping, through the uAPI only: a child
 * made by fork() reads and writes the shared pages it inherited; once the
 * parent converts a page to private the child gets SIGBUS on it (read and
 * write), and reads it again once the parent converts it back; so does a
 * grandchild; a child that exited holds up none of the parent's
 * conversions, and the parent keeps no descriptor for it; a mapping the
 * child makes later follows the parent too; a child's own conversion to
 * shared never shows it a page the parent holds private; a child made
 * with a raw syscall(SYS_fork) never reads a private byte; children
 * forked while another thread converts never read the page while it is
 * private.
 *
 * The parent drives one child at a time over a pair of pipes and prints
 * every test point itself.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "uapi_test.h"

#define NPAGES 8
#define SIZE (NPAGES * PG)

struct cmd {
	char op;		/* r read, w write, c convert, m map, f fork, q quit */
	int page;
	int val;
};

static int gfd;
static uint8_t *mem;
static int to_child[2], from_child[2];

static void xwrite(int fd, const void *p, size_t n)
{
	TEST_ASSERT(write(fd, p, n) == (ssize_t)n, "pipe write");
}

static int xread(int fd, void *p, size_t n)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)n ? 0 : -1;
}

/* The child's side: serve commands until 'q' or the end of the pipe. */
static void serve(void)
{
	struct cmd c;
	uint8_t *m2;
	int r;

	while (!xread(to_child[0], &c, sizeof(c))) {
		switch (c.op) {
		case 'r':
			r = peek(mem + c.page * PG);
			break;
		case 'w':
			r = poke(mem + c.page * PG, (uint8_t)c.val);
			break;
		case 'c':	/* the child's own conversion */
			r = set_attrs_err(gfd, c.page * PG, PG,
					  c.val ? PRIVATE : SHARED, 0, NULL);
			break;
		case 'm':	/* a new mapping of the file: read it there */
			m2 = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
				  gfd, 0);
			r = m2 == MAP_FAILED ? -2 : peek(m2 + c.page * PG);
			if (m2 != MAP_FAILED)
				munmap(m2, SIZE);
			break;
		case 'f': {	/* a grandchild serves from now on */
			pid_t g = fork();
			int st;

			if (g == 0)
				continue;
			r = g < 0 ? -1 : 0;
			xwrite(from_child[1], &r, sizeof(r));
			if (g > 0 && waitpid(g, &st, 0) == g)
				_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
			_exit(1);
		}
		case 'q':
			_exit(0);
		default:
			r = -3;
		}
		xwrite(from_child[1], &r, sizeof(r));
	}
	_exit(2);
}

static int nr_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	TEST_ASSERT(d, "/proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int ask(char op, int page, int val)
{
	struct cmd c = { .op = op, .page = page, .val = val };
	int r;

	xwrite(to_child[1], &c, sizeof(c));
	TEST_ASSERT(!xread(from_child[0], &r, sizeof(r)), "the child answers");
	return r;
}

static pid_t start_child(void)
{
	pid_t pid;

	TEST_ASSERT(!pipe(to_child) && !pipe(from_child), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		close(to_child[1]);
		close(from_child[0]);
		serve();
	}
	close(to_child[0]);
	close(from_child[1]);
	return pid;
}

static int stop_child(pid_t pid)
{
	struct cmd c = { .op = 'q' };
	int st;

	xwrite(to_child[1], &c, sizeof(c));
	close(to_child[1]);
	close(from_child[0]);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A raw fork (no atfork handler): the child reports what page `page`
 * gave it: 0..255 read, -1 SIGBUS or SIGSEGV (no mapping). */
static int raw_child_reads(int page)
{
	int p[2], r = -2, st;
	long pid;

	TEST_ASSERT(!pipe(p), "pipe");
	pid = syscall(SYS_fork);
	TEST_ASSERT(pid >= 0, "syscall(SYS_fork)");
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = sigbus_handler };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		r = peek(mem + page * PG);
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			syscall(SYS_exit_group, 1);
		syscall(SYS_exit_group, 0);
	}
	close(p[1]);
	if (xread(p[0], &r, sizeof(r)))
		r = -2;
	close(p[0]);
	waitpid((pid_t)pid, &st, 0);
	return r;
}

/*
 * Conversions racing with forks: a thread of the parent converts page 6
 * to private and back; *gen is odd from after the conversion to private
 * returned to before the conversion to shared starts.  Children forked
 * meanwhile read the page in a loop: a read that starts and ends with the
 * same odd *gen ran while the page was private, and must raise SIGBUS.
 */
struct race {
	int gen;		/* atomic */
	int stop;		/* atomic */
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define BUMP(x) __atomic_add_fetch(&(x), 1, __ATOMIC_SEQ_CST)

static struct race *race;

static void *converter(void *arg)
{
	(void)arg;
	while (!LOAD(race->stop)) {
		set_attrs(gfd, 6 * PG, PG, PRIVATE, 0);
		BUMP(race->gen);
		for (volatile int k = 0; k < 10000; k++)
			;	/* a window for the children's reads */
		BUMP(race->gen);
		set_attrs(gfd, 6 * PG, PG, SHARED, 0);
	}
	return NULL;
}

static int racing_child(void)
{
	int start = LOAD(race->gen), bad = 0;

	/* Until the parent converted 20 more times each way. */
	while (!bad && LOAD(race->gen) - start < 40) {
		int before = LOAD(race->gen), v = peek(mem + 6 * PG);

		bad = v >= 0 && (before & 1) && LOAD(race->gen) == before;
	}
	return bad;
}

static void test_race(void)
{
	int st, bad = 0, done_children = 0;
	pthread_t t;

	race = mmap(NULL, sizeof(*race), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(race != MAP_FAILED, "mmap");
	TEST_ASSERT(!pthread_create(&t, NULL, converter, NULL), "pthread_create");
	for (int i = 0; i < 16; i++) {
		pid_t p = fork();

		TEST_ASSERT(p >= 0, "fork");
		if (p == 0)
			_exit(racing_child());
		if (waitpid(p, &st, 0) == p && WIFEXITED(st)) {
			done_children++;
			bad |= WEXITSTATUS(st);
		}
	}
	__atomic_store_n(&race->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	ok(done_children == 16 && !bad,
	   "16 children forked while another thread converts: none reads the page while it is private (%d rounds)",
	   LOAD(race->gen) / 2);
	munmap(race, sizeof(*race));
}

int main(void)
{
	struct kvm_env k;
	pid_t pid, early;
	int st;

	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	gfd = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	require_inplace(gfd, SHARED);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
	TEST_ASSERT(mem != MAP_FAILED, "mmap");
	for (int i = 0; i < NPAGES; i++)
		mem[i * PG] = (uint8_t)(0x10 + i);
	set_attrs(gfd, 7 * PG, PG, PRIVATE, 0);

	/* fork(): the child follows */
	pid = start_child();
	ok(ask('r', 0, 0) == 0x10, "fork(): the child reads a shared page it inherited");
	ok(ask('w', 0, 0xc0) == 0 && peek(mem) == 0xc0,
	   "the child writes it, the parent sees the write");
	ok(ask('r', 7, 0) == -1, "a page private at the fork: SIGBUS in the child");
	set_attrs(gfd, 0, PG, PRIVATE, 0);
	ok(ask('r', 0, 0) == -1, "the parent converts it to private: the child's read gets SIGBUS");
	ok(ask('w', 0, 0xdd) == -1, "and its write gets SIGBUS");
	ok(ask('r', 1, 0) == 0x11, "the page next to it stays shared in the child");
	ok(ask('m', 0, 0) == -1, "a mapping the child makes now: SIGBUS on that page too");
	set_attrs(gfd, 0, PG, SHARED, 0);
	ok(ask('r', 0, 0) >= 0 && ask('w', 0, 0xc1) == 0 && peek(mem) == 0xc1,
	   "converted back to shared: the child reads and writes it again");
	ok(ask('m', 0, 0) == 0xc1, "and its new mapping reads it");

	/* the child's own conversions */
	set_attrs(gfd, 2 * PG, PG, PRIVATE, 0);
	ok(ask('c', 2, 0) == 0 && ask('r', 2, 0) == -1,
	   "the child converts a page the parent holds private to shared: still SIGBUS in the child");
	ok(ask('c', 3, 1) == 0 && ask('r', 3, 0) == -1 && peek(mem + 3 * PG) == 0x13,
	   "the child converts a page to private: SIGBUS in the child only (not followed by the parent)");
	set_attrs(gfd, 2 * PG, PG, SHARED, 0);
	ok(ask('r', 2, 0) >= 0, "the parent converts its page back: the child reads it");
	ok(ask('r', 3, 0) == -1, "the child's own private page stays private to it");

	/* a grandchild */
	ok(ask('f', 0, 0) == 0, "the child forks a grandchild");
	ok(ask('r', 1, 0) == 0x11, "the grandchild reads a shared page");
	set_attrs(gfd, PG, PG, PRIVATE, 0);
	ok(ask('r', 1, 0) == -1 && ask('w', 1, 0) == -1,
	   "the parent converts it to private: SIGBUS in the grandchild (read and write)");
	set_attrs(gfd, PG, PG, SHARED, 0);
	ok(ask('r', 1, 0) >= 0, "converted back: the grandchild reads it");
	ok(stop_child(pid) == 0, "the child and grandchild exit cleanly");

	/* children that are gone */
	early = fork();
	TEST_ASSERT(early >= 0, "fork");
	if (early == 0)
		_exit(0);
	pid = start_child();
	ok(stop_child(pid) == 0, "a child exits (reaped) ...");
	set_attrs(gfd, 4 * PG, PG, PRIVATE, 0);
	set_attrs(gfd, 4 * PG, PG, SHARED, 0);
	ok(1, "... and another one exited unreaped: the parent's conversions go on");
	ok(waitpid(early, &st, 0) == early, "the early child is reaped afterwards");
	{
		int before = nr_fds(), grew;

		for (int i = 0; i < 64; i++) {
			pid_t p = fork();

			TEST_ASSERT(p >= 0, "fork");
			if (p == 0)
				_exit(0);
			TEST_ASSERT(waitpid(p, &st, 0) == p, "waitpid");
		}
		grew = nr_fds() - before;
		ok(grew <= 2, "64 children that exited: the parent keeps no descriptor of them (%d more)",
		   grew);
	}

	test_race();

	/* a raw fork runs no handler: no mapping at all */
	set_attrs(gfd, 5 * PG, PG, PRIVATE, 0);
	ok(raw_child_reads(5) < 0, "syscall(SYS_fork): the child never reads a private page");
	ok(raw_child_reads(6) < 0, "nor a shared one (it has no mapping)");

	munmap(mem, SIZE);
	close(gfd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
