/* SPDX-License-Identifier: MIT */
/*
 * Host mappings of a guest_memfd follow its attributes, through the uAPI
 * only: SIGBUS on private pages, read/write on shared ones with contents
 * kept across conversions, several and partial mappings, mappings that
 * outlive the fd, and memory the application maps over an unmapped part
 * left alone by later conversions.  mmap refuses a file created without
 * GUEST_MEMFD_FLAG_MMAP (ENODEV) and MAP_PRIVATE (EINVAL).  A child made
 * by syscall(SYS_fork) or clone() never reads a private byte through an
 * inherited mapping, not even of a page converted after the fork (the
 * kernel: SIGBUS; libgmem-compat: the mapping is not inherited, SIGSEGV).
 */
#include <sched.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "uapi_test.h"

#define NPAGES 8
#define SIZE (NPAGES * PG)

static void *map(int fd, uint64_t len, uint64_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
}

static int private_in(uint8_t *p, uint64_t npages)
{
	int n = 0;

	for (uint64_t i = 0; i < npages; i++)
		n += peek(p + i * PG) < 0;
	return n;
}

/* VMAs of the process inside [p, p + len). */
static int vmas_in(const void *p, uint64_t len)
{
	uintptr_t a = (uintptr_t)p, s, e;
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	TEST_ASSERT(f, "/proc/self/maps");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s >= a && e <= a + len)
			n++;
	fclose(f);
	return n;
}

/* Conversions leave no trace in the process's mappings. */
static void test_vmas(int vm_fd)
{
	int fd = gmem_create_fd(vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	uint8_t *p = map(fd, SIZE, 0);
	int before;

	TEST_ASSERT(p != MAP_FAILED, "mmap");
	before = vmas_in(p, SIZE);
	set_attrs(fd, 2 * PG, 2 * PG, PRIVATE, 0);
	set_attrs(fd, 5 * PG, PG, PRIVATE, 0);
	set_attrs(fd, 0, SIZE, SHARED, 0);
	ok(vmas_in(p, SIZE) == before,
	   "conversions there and back leave the mapping as it was (%d VMA)", before);
	munmap(p, SIZE);
	close(fd);
}

struct child_arg {
	volatile uint8_t *p;
	int rd;
};

/* bit 0: the private page read; bit 1: the page converted later read */
static int child_body(void *arg)
{
	struct child_arg *a = arg;
	struct sigaction sa = { .sa_handler = sigbus_handler };
	char go;
	int bad = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	if (peek(a->p) >= 0)
		bad |= 1;
	if (read(a->rd, &go, 1) != 1)
		_exit(100);
	if (peek(a->p + 2 * PG) >= 0)
		bad |= 2;
	_exit(bad);
}

static void test_fork(int vm_fd, bool use_clone)
{
	static char stack[64 << 10] __attribute__((aligned(16)));
	const char *how = use_clone ? "clone()" : "syscall(SYS_fork)";
	int fd = gmem_create_fd(vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	uint8_t *p = map(fd, SIZE, 0);
	struct child_arg a;
	int pp[2], status = 0;
	pid_t pid;

	TEST_ASSERT(p != MAP_FAILED && !pipe(pp), "mmap, pipe");
	memset(p, 0x5c, SIZE);
	set_attrs(fd, 0, PG, PRIVATE, F_PRESERVE);
	a.p = p;
	a.rd = pp[0];
	fflush(stdout);
	if (use_clone) {
		pid = clone(child_body, stack + sizeof(stack), SIGCHLD, &a);
	} else {
		pid = (pid_t)syscall(SYS_fork);
		if (pid == 0)
			child_body(&a);
	}
	TEST_ASSERT(pid > 0, "%s", how);
	set_attrs(fd, 2 * PG, PG, PRIVATE, F_PRESERVE);
	TEST_ASSERT(write(pp[1], "g", 1) == 1, "go");
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "wait");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child of %s reads no private byte, at the fork or converted later (status 0x%x)",
	   how, status);
	ok(peek(p) < 0 && peek(p + 2 * PG) < 0 && peek(p + PG) == 0x5c,
	   "%s: the parent's mapping is unaffected", how);
	close(pp[0]);
	close(pp[1]);
	munmap(p, SIZE);
	close(fd);
}

static void test_refusals(int vm_fd)
{
	int fd = gmem_create_fd(vm_fd, SIZE, GUEST_MEMFD_FLAG_INIT_SHARED);
	void *p;

	errno = 0;
	p = map(fd, SIZE, 0);
	ok(p == MAP_FAILED && errno == ENODEV,
	   "mmap of a guest_memfd created without MMAP: ENODEV (%s)", ename(errno));
	close(fd);
	fd = gmem_create_fd(vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	errno = 0;
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok(p == MAP_FAILED && errno == EINVAL, "MAP_PRIVATE: EINVAL (%s)", ename(errno));
	close(fd);
}

int main(void)
{
	struct kvm_env k;
	uint8_t *a, *b, *part, *anon;
	int fd, fd2;

	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	fd = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	require_inplace(fd, SHARED);

	a = map(fd, SIZE, 0);
	TEST_ASSERT(a != MAP_FAILED, "mmap");
	ok(private_in(a, NPAGES) == 0, "INIT_SHARED: every page is readable");
	for (uint64_t i = 0; i < NPAGES; i++)
		a[i * PG] = (uint8_t)(0x40 + i);

	set_attrs(fd, PG, PG, PRIVATE, F_PRESERVE);
	ok(peek(a + PG) < 0 && peek(a + PG + 100) < 0, "a page converted to private raises SIGBUS");
	ok(poke(a + PG, 1) < 0, "writing it raises SIGBUS too");
	ok(peek(a) == 0x40 && peek(a + 2 * PG) == 0x42, "its neighbours stay readable");
	set_attrs(fd, PG, PG, SHARED, F_PRESERVE);
	ok(peek(a + PG) == 0x41, "back to shared: readable, contents in place");

	b = map(fd, SIZE, 0);
	TEST_ASSERT(b != MAP_FAILED, "second mmap");
	part = map(fd, 2 * PG, 4 * PG);
	TEST_ASSERT(part != MAP_FAILED, "partial mmap");
	b[3 * PG] = 0x99;
	ok(a[3 * PG] == 0x99 && part[0] == 0x44, "mappings share the pages (partial at offset)");
	set_attrs(fd, 3 * PG, 3 * PG, PRIVATE, F_PRESERVE);
	ok(private_in(a, NPAGES) == 3 && private_in(b, NPAGES) == 3 &&
	   private_in(part, 2) == 2, "a conversion reaches every mapping");
	set_attrs(fd, 3 * PG, 3 * PG, SHARED, F_PRESERVE);
	ok(private_in(b, NPAGES) == 0 && part[1 * PG] == 0x45 && b[3 * PG] == 0x99,
	   "and back, in every mapping");

	/* Part of a mapping given back, and anonymous memory put there. */
	TEST_ASSERT(!munmap(b + 2 * PG, 2 * PG), "munmap part");
	anon = mmap(b + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	TEST_ASSERT(anon == b + 2 * PG, "anonymous mmap at the hole");
	memset(anon, 0x77, 2 * PG);
	set_attrs(fd, 0, SIZE, PRIVATE, F_PRESERVE);
	ok(peek(anon) == 0x77 && peek(anon + 2 * PG - 1) == 0x77,
	   "memory mapped where a guest_memfd mapping was is left alone");
	ok(peek(b) < 0 && peek(b + 4 * PG) < 0, "the rest of that mapping follows");
	/* MAP_FIXED over a mapping, no munmap first. */
	anon = mmap(a + 6 * PG, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	TEST_ASSERT(anon == a + 6 * PG, "MAP_FIXED over a mapping");
	anon[0] = 0x66;
	set_attrs(fd, 0, SIZE, SHARED, F_PRESERVE);
	set_attrs(fd, 0, SIZE, PRIVATE, F_PRESERVE);
	ok(peek(anon) == 0x66, "memory mapped over a guest_memfd mapping is left alone");
	set_attrs(fd, 0, SIZE, SHARED, F_PRESERVE);
	ok(peek(a + 7 * PG) == 0x47 && peek(b + 5 * PG) == 0x45,
	   "the other pages still follow the file");

	/* A second file is independent. */
	fd2 = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP);
	{
		uint8_t *c = map(fd2, SIZE, 0);

		TEST_ASSERT(c != MAP_FAILED, "mmap of the second file");
		ok(private_in(c, NPAGES) == NPAGES && private_in(a, 6) == 0,
		   "a second guest_memfd has its own attributes (starts private)");
		munmap(c, SIZE);
	}
	close(fd2);

	/* Past the end of the file: SIGBUS, as for any file. */
	{
		uint8_t *big = map(fd, SIZE + 2 * PG, 0);

		TEST_ASSERT(big != MAP_FAILED, "mmap past the end");
		ok(peek(big) == 0x40 && peek(big + SIZE) < 0,
		   "a mapping past the end of the file raises SIGBUS there");
		munmap(big, SIZE + 2 * PG);
	}

	/* The mapping outlives the fd. */
	set_attrs(fd, 0, PG, PRIVATE, F_PRESERVE);
	close(fd);
	ok(peek(a) < 0 && peek(a + PG) == 0x41,
	   "after close the mapping keeps the file's attributes and contents");
	munmap(a, SIZE);
	munmap(b, 2 * PG);
	munmap(b + 4 * PG, 4 * PG);
	munmap(part, 2 * PG);

	test_vmas(k.vm_fd);
	test_refusals(k.vm_fd);
	test_fork(k.vm_fd, false);
	test_fork(k.vm_fd, true);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
