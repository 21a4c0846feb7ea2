/* SPDX-License-Identifier: MIT */
/*
 * The cost of the interposed calls on descriptors that are not
 * guest_memfds: ioctl(FIONREAD) on a pipe, fallocate on a memfd, mmap and
 * munmap of anonymous memory, close of a dup, open and close of /dev/null
 * (the shim interposes open for /dev/sev).  Prints ns per call (the best
 * of several rounds) as "# cost NAME NS" for tests/compat.t, which runs it
 * with and without the shim and compares.  With the argument "user" only
 * the ioctl loop runs, longer: under tests/compat/stub_ioctl.c, which
 * returns without a system call, it times the shim's own work.  With
 * "convert [GIB]" (or GMEM_COMPAT_OVERHEAD=convert) it times 5,000 scattered conversions to shared of 4 KiB
 * to 2 MiB on a guest_memfd created private (a firmware's boot-time
 * pattern), without and with the whole file mapped (docs/compat.md).
 */
#include <time.h>

#include "uapi_test.h"

#define ROUNDS 7

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int pipefd[2], memfd;

static int op_ioctl(void)
{
	int n;

	return ioctl(pipefd[0], FIONREAD, &n);
}

static int op_fallocate(void)
{
	return fallocate(memfd, FALLOC_FL_KEEP_SIZE, 0, 4096);
}

static int op_mmap(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? -1 : munmap(p, 4096);
}

static int op_close(void)
{
	return close(dup(pipefd[1]));
}

static int op_open(void)
{
	return close(open("/dev/null", O_RDONLY | O_CLOEXEC));
}

static double measure(int (*op)(void), long n)
{
	double best = 1e30;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), dt;

		for (long i = 0; i < n; i++)
			if (op())
				return -1;
		dt = (now_ns() - t0) / (double)n;
		if (dt < best)
			best = dt;
	}
	return best;
}

/* ms for the boot-like conversions, on a new file of gib GiB. */
static double boot_convert(int vm_fd, uint64_t gib, int mapped)
{
	uint64_t size = gib << 30, off, len;
	unsigned seed = 1;
	double t0, t;
	void *p = NULL;
	int fd = gmem_create_fd(vm_fd, size, GUEST_MEMFD_FLAG_MMAP);

	if (mapped) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, fd, 0);
		TEST_ASSERT(p != MAP_FAILED, "mmap");
	}
	t0 = now_ns();
	for (int i = 0; i < 5000; i++) {
		off = (uint64_t)rand_r(&seed) % (size / PG - 512) * PG;
		len = PG * (1 + (uint64_t)rand_r(&seed) % 512);
		set_attrs(fd, off, len, SHARED, 0);
	}
	t = (now_ns() - t0) / 1e6;
	if (p)
		munmap(p, size);
	close(fd);
	return t;
}

static int convert_main(uint64_t gib)
{
	struct kvm_env k;

	kvm_env_open(&k);
	for (int mapped = 0; mapped < 2; mapped++) {
		double ms = boot_convert(k.vm_fd, gib, mapped);

		ok(ms > 0, "5000 conversions on %llu GiB, %s: %.2f ms",
		   (unsigned long long)gib, mapped ? "mapped" : "not mapped", ms);
		printf("# cost convert-%s %.2f\n", mapped ? "mapped" : "unmapped", ms);
	}
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*op)(void);
		long n;
	} ops[] = {
		{ "ioctl", op_ioctl, 100000 },
		{ "fallocate", op_fallocate, 50000 },
		{ "mmap+munmap", op_mmap, 20000 },
		{ "dup+close", op_close, 50000 },
		{ "open+close", op_open, 20000 },
	};
	int user = argc > 1 && !strcmp(argv[1], "user");

	plan_lazy();
	if ((argc > 1 && !strcmp(argv[1], "convert")) ||
	    (getenv("GMEM_COMPAT_OVERHEAD") &&
	     !strcmp(getenv("GMEM_COMPAT_OVERHEAD"), "convert")))
		return convert_main(argc > 2 ? strtoull(argv[2], NULL, 0) : 1);
	TEST_ASSERT(!pipe(pipefd), "pipe");
	memfd = memfd_create("overhead", MFD_CLOEXEC);
	TEST_ASSERT(memfd >= 0 && !ftruncate(memfd, 4096), "memfd");
	if (user) {
		double ns = measure(op_ioctl, 5000000);

		ok(ns > 0, "ioctl loop: %.2f ns/call", ns);
		printf("# cost ioctl-user %.2f\n", ns);
		return done();
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		double ns = measure(ops[i].op, ops[i].n);

		ok(ns > 0, "%s on a descriptor that is not a guest_memfd: %.1f ns/call",
		   ops[i].name, ns);
		printf("# cost %s %.1f\n", ops[i].name, ns);
	}
	return done();
}
