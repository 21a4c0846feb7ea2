/* SPDX-License-Identifier: MIT */
/*
 * A KVM_X86_SW_PROTECTED_VM through the uAPI only, the way the series'
 * selftests use one: a real vCPU (tests/kvm_vcpu.h) reads and writes pages
 * of a guest_memfd bound to its memslot while they are converted in
 * place; the host gets SIGBUS on private pages; a hole punch keeps every
 * page's attribute; conversions of pages never allocated are recorded; a
 * forked child never reads a private byte, whether the page was private
 * at the fork or became private after it.
 *
 * Under GMEM_COMPAT_POLICY=upstream (v8) conversions carry no flags and
 * leave the bytes in place; under the RFC v5 policies the program asks
 * for PRESERVE, which SW_PROTECTED gives both ways.  (EAGAIN for pinned
 * pages is not reachable through the uAPI here: nothing can take a page
 * reference the shim would see.)
 */
#include <stdbool.h>
#include <sys/wait.h>

#include "uapi_test.h"
#include "kvm_vcpu.h"

#define SIZE    (1ULL << 20)
#define CODE    0x1000ULL
#define DATA    0x8000ULL	/* 4 pages */

static uint64_t keep;		/* the flag that keeps the bytes: 0 in v8 */

static void convert(int fd, uint64_t off, uint64_t len, uint64_t attrs)
{
	set_attrs(fd, off, len, attrs, keep);
}

static int child_peek(volatile uint8_t *p)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(peek(p) < 0 ? 1 : 0);	/* 1: SIGBUS */
	TEST_ASSERT(pid > 0, "fork");
	TEST_ASSERT(waitpid(pid, &st, 0) == pid, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	const char *pol = getenv("GMEM_COMPAT_POLICY");
	bool v8 = pol && !strcmp(pol, "upstream");
	struct kvm_userspace_memory_region2 r;
	struct vcpu v;
	uint8_t *host;
	int kvm, vm, fd, got, pfd[2], st;
	long c;
	pid_t pid;

	keep = v8 ? 0 : F_PRESERVE;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_REQUIRE(kvm >= 0, "/dev/kvm: %s", strerror(errno));
	plan_lazy();
	sigbus_catch();

	require_sw_protected(kvm);
	vm = ioctl(kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM);
	TEST_ASSERT(vm >= 0, "KVM_CREATE_VM(KVM_X86_SW_PROTECTED_VM)");
	c = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_FLAGS);
	ok(c > 0 && (c & GUEST_MEMFD_FLAG_MMAP) && (c & GUEST_MEMFD_FLAG_INIT_SHARED),
	   "KVM_CAP_GUEST_MEMFD_FLAGS: MMAP and INIT_SHARED (%#lx)", c);
	c = ioctl(vm, KVM_CHECK_EXTENSION,
		  v8 ? KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES : KVM_CAP_MEMORY_ATTRIBUTES2);
	ok(c == (long)PRIVATE, "the in-place conversion capability (%s) says PRIVATE (%#lx)",
	   v8 ? "250, v8" : "249, RFC v5", c);

	fd = gmem_create_fd(vm, SIZE, GUEST_MEMFD_FLAG_MMAP);
	host = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(host != MAP_FAILED, "mmap");
	r = (struct kvm_userspace_memory_region2){
		.slot = 0, .flags = KVM_MEM_GUEST_MEMFD, .memory_size = SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)host, .guest_memfd = (uint32_t)fd,
	};
	TEST_ASSERT(!ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r), "memslot");
	convert(fd, CODE, PG, SHARED);
	memcpy(host + CODE, vcpu_code, sizeof(vcpu_code));
	TEST_ASSERT(!vcpu_create(&v, kvm, vm, CODE), "vCPU");

	/* Created private: the host cannot touch it, the guest can. */
	ok(peek(host + DATA) < 0 && poke(host + DATA, 1) < 0,
	   "a page created private: the host's read and write are SIGBUS");
	got = vcpu_write(&v, DATA, 'A');
	ok(!got && vcpu_read(&v, DATA) == 'A', "the guest writes and reads it ('A')");

	convert(fd, DATA, PG, SHARED);
	ok(peek(host + DATA) == 'A', "converted to shared in place: the host reads the guest's 'A'");
	ok(!poke(host + DATA, 'B') && vcpu_read(&v, DATA) == 'B',
	   "the host writes 'B', the guest reads it from the same page");
	convert(fd, DATA, PG, PRIVATE);
	got = vcpu_read(&v, DATA);
	ok(peek(host + DATA) < 0 && got == 'B',
	   "back to private: SIGBUS for the host, the guest still reads 'B' (%#x)", got);

	/* Per page: one page of four private, the others shared. */
	convert(fd, DATA, 4 * PG, SHARED);
	for (int i = 0; i < 4; i++)
		host[DATA + i * PG] = (uint8_t)(0x10 + i);
	convert(fd, DATA + 2 * PG, PG, PRIVATE);
	ok(peek(host + DATA + PG) == 0x11 && peek(host + DATA + 2 * PG) < 0 &&
	   peek(host + DATA + 3 * PG) == 0x13,
	   "one page of four converted: only that one is SIGBUS");
	ok(vcpu_write(&v, DATA + 2 * PG, 0x22) == 0 && vcpu_read(&v, DATA + PG) == 0x11 &&
	   vcpu_read(&v, DATA + 3 * PG) == 0x13, "the guest reads every page, writes the private one");
	convert(fd, DATA + 2 * PG, PG, SHARED);
	ok(peek(host + DATA + 2 * PG) == 0x22, "shared again: the host reads the guest's 0x22");

	/* A hole punch frees the bytes, never the attribute. */
	convert(fd, DATA, PG, PRIVATE);
	TEST_ASSERT(!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, DATA, 2 * PG),
		    "punch");
	ok(peek(host + DATA) < 0 && vcpu_read(&v, DATA) == 0,
	   "a punched private page stays private (SIGBUS) and the guest reads zero");
	ok(peek(host + DATA + PG) == 0 && !poke(host + DATA + PG, 7),
	   "a punched shared page stays shared: zero, writable");

	/* Conversions of pages never allocated are recorded. */
	TEST_ASSERT(!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       DATA + 16 * PG, 2 * PG), "punch");
	convert(fd, DATA + 16 * PG, PG, SHARED);
	ok(peek(host + DATA + 16 * PG) == 0, "an unallocated private page converted to shared: zero for the host");
	convert(fd, DATA + 16 * PG, PG, PRIVATE);
	ok(peek(host + DATA + 16 * PG) < 0 && vcpu_read(&v, DATA + 16 * PG) == 0,
	   "... and back to private before anyone touched it: SIGBUS, the guest reads zero");

	/* A forked child never reads a private byte. */
	convert(fd, DATA + 3 * PG, PG, PRIVATE);
	ok(child_peek(host + DATA + 3 * PG) == 1, "a child forked while the page is private: SIGBUS");
	convert(fd, DATA + 5 * PG, PG, SHARED);
	host[DATA + 5 * PG] = 0x55;
	TEST_ASSERT(!pipe(pfd), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		char go;

		close(pfd[1]);
		if (read(pfd[0], &go, 1) != 1)
			_exit(3);
		_exit(peek(host + DATA + 5 * PG) < 0 ? 1 : peek(host + DATA + 5 * PG) == 0x55 ? 2 : 0);
	}
	close(pfd[0]);
	convert(fd, DATA + 5 * PG, PG, PRIVATE);
	TEST_ASSERT(vcpu_write(&v, DATA + 5 * PG, 0xc3) == 0, "guest write");
	TEST_ASSERT(write(pfd[1], "g", 1) == 1, "go");
	close(pfd[1]);
	TEST_ASSERT(waitpid(pid, &st, 0) == pid, "waitpid");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1,
	   "a page the parent converts after the fork (the guest then writes it): SIGBUS in the child (status %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	vcpu_destroy(&v);
	munmap(host, SIZE);
	close(fd);
	close(vm);
	close(kvm);
	return done();
}
