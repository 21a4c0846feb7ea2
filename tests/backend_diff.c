/* SPDX-License-Identifier: MIT */
/*
 * Differential tests.  (1) This machine's real guest_memfd, driven through
 * raw ioctls, side by side with the emulated backend: flag and size
 * validation, mmap rules, SIGBUS on private pages, hole punch alignment and
 * zeroing.  (2) One random operation sequence run on an emulated and a kvm
 * gmem at once, comparing every result, error_offset, attribute run and
 * byte.  Any divergence from the real kernel shows here.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "gmem/gmem.h"
#include "gmem/uapi.h"

#define PG GMEM_PAGE_SIZE

static int kvm_fd = -1, vm_fd = -1;
static sigjmp_buf jb;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

static int touch_faults(volatile uint8_t *p)
{
	if (sigsetjmp(jb, 1))
		return 1;
	(void)*p;
	return 0;
}

/* A guest_memfd straight from the kernel: fd or -errno. */
static int kernel_gmem(uint64_t size, uint64_t flags)
{
	struct kvm_create_guest_memfd cg = { .size = size, .flags = flags };
	int fd = ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &cg);

	return fd < 0 ? -errno : fd;
}

static struct gmem_vm *emu_vm(void)
{
	struct gmem_vm *vm;

	setenv("GMEM_BACKEND", "emulated", 1);
	TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "emulated VM");
	unsetenv("GMEM_BACKEND");
	return vm;
}

static void test_create_rules(void)
{
	static const uint64_t sizes[] = { 0, PG, PG + 1, 2 * PG, PG / 2 };
	static const uint64_t flags[] = { 0, 1, 2, 3, 4, 5, 1ULL << 63 };
	struct gmem_vm *vm = emu_vm();
	int same = 1;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t j = 0; j < sizeof(flags) / sizeof(flags[0]); j++) {
			int k = kernel_gmem(sizes[i], flags[j]);
			struct gmem *g = NULL;
			int e = gmem_create(vm, sizes[i], flags[j], &g);

			if (k >= 0)
				close(k);
			if ((k < 0 ? k : 0) != e) {
				same = 0;
				diag("size %llu flags 0x%llx: kernel %d, emulated %d",
				     (unsigned long long)sizes[i],
				     (unsigned long long)flags[j], k < 0 ? k : 0, e);
			}
			gmem_destroy(g);
		}
	}
	ok(same, "gmem_create accepts and refuses exactly what KVM_CREATE_GUEST_MEMFD does");
	gmem_vm_destroy(vm);
}

static void test_mmap_rules(void)
{
	struct gmem_vm *vm = emu_vm();
	struct gmem *g;
	int k, kerr, eerr;
	void *p;

	k = kernel_gmem(PG, GUEST_MEMFD_FLAG_INIT_SHARED);
	TEST_ASSERT(k >= 0, "INIT_SHARED without MMAP");
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, k, 0);
	kerr = p == MAP_FAILED ? errno : 0;
	close(k);
	TEST_ASSERT(!gmem_create(vm, PG, GMEM_FLAG_INIT_SHARED, &g), "gmem");
	errno = 0;
	eerr = gmem_mmap(g) ? 0 : errno;
	ok(kerr == ENODEV && eerr == ENODEV,
	   "INIT_SHARED without MMAP: mmap fails with ENODEV (kernel %d, emulated %d)", kerr, eerr);

	k = kernel_gmem(PG, GUEST_MEMFD_FLAG_MMAP);
	TEST_ASSERT(k >= 0, "MMAP without INIT_SHARED");
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, k, 0);
	TEST_ASSERT(p != MAP_FAILED, "kernel mmap");
	kerr = touch_faults(p);
	munmap(p, PG);
	close(k);
	TEST_ASSERT(!gmem_create(vm, PG, GMEM_FLAG_MMAP, &g), "gmem");
	p = gmem_mmap(g);
	TEST_ASSERT(p, "gmem_mmap");
	eerr = touch_faults(p);
	ok(kerr && eerr, "MMAP without INIT_SHARED: the page is private, touching it raises SIGBUS (both)");

	k = kernel_gmem(PG, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, k, 0);
	kerr = p == MAP_FAILED ? errno : 0;
	close(k);
	ok(kerr != 0, "the kernel refuses MAP_PRIVATE (errno %d); gmem_mmap only maps MAP_SHARED", kerr);
	gmem_vm_destroy(vm);
}

struct punch_case {
	uint64_t off, len;
};

static void test_punch_rules(void)
{
	static const struct punch_case cases[] = {
		{ 0, PG }, { 1, PG }, { 0, PG - 1 }, { 0, 0 }, { PG, 3 * PG },
		{ 4 * PG, PG }, { 3 * PG, 2 * PG }, { 0, 4 * PG },
		{ 0, 1ULL << 62 }, { PG, (uint64_t)INT64_MAX & ~(PG - 1) },
		{ 0, 1ULL << 63 }, { 1ULL << 63, PG }, { 0, ~(PG - 1) },
	};
	struct gmem_vm *vm = emu_vm();
	struct gmem *g;
	uint8_t *kp, *ep;
	int k, same = 1, zero = 1;

	TEST_ASSERT(!gmem_create(vm, 4 * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g), "gmem");
	ep = gmem_mmap(g);
	k = kernel_gmem(4 * PG, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	TEST_ASSERT(k >= 0 && ep, "gmems");
	kp = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, k, 0);
	TEST_ASSERT(kp != MAP_FAILED, "kernel mmap");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int kr, er;

		memset(kp, 0x33, 4 * PG);
		memset(ep, 0x33, 4 * PG);
		kr = fallocate(k, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       (off_t)cases[i].off, (off_t)cases[i].len) ? -errno : 0;
		er = gmem_punch_hole(g, cases[i].off, cases[i].len);
		if (kr != er) {
			same = 0;
			diag("punch 0x%llx+0x%llx: kernel %d, library %d",
			     (unsigned long long)cases[i].off,
			     (unsigned long long)cases[i].len, kr, er);
		}
		if (memcmp(kp, ep, 4 * PG))
			zero = 0;
	}
	ok(same, "hole punch accepts and refuses what the kernel's fallocate does");
	ok(zero, "and leaves the same bytes (zeros where punched)");
	munmap(kp, 4 * PG);
	close(k);
	gmem_vm_destroy(vm);
}

/* ---- one sequence on two backends ----------------------------------- */

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define NPAGES 64

static void test_same_sequence(void)
{
	struct gmem_vm *vms[2];
	struct gmem *gs[2];
	const char *names[2] = { "emulated", "kvm" };
	static uint8_t buf[2][NPAGES * PG];
	int diverged = 0, ops = 0;

	for (int b = 0; b < 2; b++) {
		setenv("GMEM_BACKEND", names[b], 1);
		TEST_ASSERT(!gmem_vm_create(&vms[b], "sw_protected", NULL), "%s VM", names[b]);
		TEST_ASSERT(!gmem_create(vms[b], NPAGES * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED,
					 &gs[b]), "gmem");
		TEST_ASSERT(gmem_mmap(gs[b]), "host view");
	}
	unsetenv("GMEM_BACKEND");
	for (int i = 0; i < 3000 && !diverged; i++) {
		uint64_t off = (next() % (NPAGES + 2)) * PG, size = (next() % 9) * PG;
		uint64_t attrs = (next() & 1) ? GMEM_ATTR_PRIVATE : 0;
		uint64_t flags = next() % 4;	/* includes ZERO|PRESERVE: EINVAL */
		unsigned op = next() % 4;
		int r[2];
		uint64_t eo[2];

		if (next() % 16 == 0)
			off += 1;	/* misaligned */
		for (int b = 0; b < 2; b++) {
			eo[b] = 0;
			switch (op) {
			case 0:
			case 1:
				r[b] = gmem_convert(gs[b], off, size, attrs, flags, &eo[b]);
				break;
			case 2:
				r[b] = gmem_punch_hole(gs[b], off, size);
				break;
			default:
				r[b] = off < NPAGES * PG ?
				       gmem_guest_access(gs[b], off, "guest", 5,
						GMEM_ACCESS_WRITE | (attrs ? GMEM_ACCESS_PRIVATE : 0)) :
				       -EINVAL;
				break;
			}
		}
		ops++;
		if (r[0] != r[1] || eo[0] != eo[1]) {
			diag("op %d (%u 0x%llx+0x%llx): %d/%llx vs %d/%llx", i, op,
			     (unsigned long long)off, (unsigned long long)size,
			     r[0], (unsigned long long)eo[0], r[1], (unsigned long long)eo[1]);
			diverged = 1;
		}
		for (uint64_t p = 0; p < NPAGES * PG && !diverged; ) {
			uint64_t a0, a1, l0, l1;

			gmem_get_memory_attributes(gs[0], p, &a0, &l0);
			gmem_get_memory_attributes(gs[1], p, &a1, &l1);
			if (a0 != a1 || l0 != l1)
				diverged = 1;
			p += l0;
		}
	}
	ok(!diverged, "%d operations: same results, error_offsets and attribute runs on emulated and kvm", ops);
	for (int b = 0; b < 2; b++) {
		/* Scrambles differ by design (two PRNG streams); compare only
		 * what is defined: pages never scrambled, i.e. none here, so
		 * compare the zero/non-zero shape of shared pages instead. */
		gmem_physical_read(gs[b], 0, buf[b], sizeof(buf[b]));
	}
	{
		int same_shape = 1;

		for (uint64_t p = 0; p < NPAGES; p++) {
			int z0 = 1, z1 = 1;

			for (uint64_t i = 0; i < PG; i++) {
				z0 &= buf[0][p * PG + i] == 0;
				z1 &= buf[1][p * PG + i] == 0;
			}
			same_shape &= z0 == z1;
		}
		ok(same_shape, "the same pages hold data on both backends");
	}
	gmem_vm_destroy(vms[0]);
	gmem_vm_destroy(vms[1]);
}

/* KVM refuses overlapping memslots; the library refuses overlapping binds
 * the same way on every backend. */
static void test_bind_overlap(void)
{
	const char *names[2] = { "emulated", "kvm" };

	for (int b = 0; b < 2; b++) {
		struct gmem_vm *vm;
		struct gmem *g1, *g2;

		setenv("GMEM_BACKEND", names[b], 1);
		TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "VM");
		unsetenv("GMEM_BACKEND");
		TEST_ASSERT(!gmem_create(vm, 16 * PG, GMEM_FLAG_MMAP, &g1) &&
			    !gmem_create(vm, 16 * PG, GMEM_FLAG_MMAP, &g2), "gmems");
		ok_ret(gmem_bind(g1, 0x100000), 0, "%s: bind the first gmem", names[b]);
		ok_ret(gmem_bind(g2, 0x100000 + 8 * PG), -EEXIST,
		       "%s: an overlapping bind is refused with EEXIST", names[b]);
		ok_ret(gmem_bind(g2, 0x100000 + 16 * PG), 0, "%s: the adjacent range is fine", names[b]);
		ok_ret(gmem_bind(g1, 0x100000 - 4 * PG), 0, "%s: a gmem may move over its own range", names[b]);
		gmem_vm_destroy(vm);
	}
}

/* A pin is a GUP pin: it faults the page in, on every backend. */
static void test_pin_populates(void)
{
	const char *names[2] = { "emulated", "kvm" };

	for (int b = 0; b < 2; b++) {
		struct gmem_page_info pi;
		struct gmem_vm *vm;
		struct gmem *g;

		setenv("GMEM_BACKEND", names[b], 1);
		TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "VM");
		unsetenv("GMEM_BACKEND");
		TEST_ASSERT(!gmem_create(vm, 16 * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g), "gmem");
		gmem_page_info(g, 3 * PG, &pi);
		ok(!pi.allocated, "%s: a new page is a hole", names[b]);
		ok_ret(gmem_pin(g, 3 * PG), 0, "%s: pin it", names[b]);
		gmem_page_info(g, 3 * PG, &pi);
		ok(pi.allocated && pi.pinned == 1, "%s: the pinned page is backed by memory", names[b]);
		gmem_vm_destroy(vm);
	}
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	const char *why = NULL;

	TEST_REQUIRE(!gmem_backend_probe("kvm", &why), "needs the kvm backend: %s", why);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0UL);
	TEST_ASSERT(vm_fd >= 0, "KVM_CREATE_VM");
	sigaction(SIGBUS, &sa, NULL);
	plan_lazy();
	test_create_rules();
	test_mmap_rules();
	test_punch_rules();
	test_same_sequence();
	test_bind_overlap();
	test_pin_populates();
	close(vm_fd);
	close(kvm_fd);
	done();
}
