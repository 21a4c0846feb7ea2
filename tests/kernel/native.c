/* SPDX-License-Identifier: MIT */
/*
 * The native backend on the real thing: run inside the series kernel
 * (in-place conversion v8; make check-kernel), with the `upstream` policy.
 * The probe picks native; a software-protected VM converts through the
 * kernel's own KVM_SET_MEMORY_ATTRIBUTES2; the kernel's SIGBUS, errors and
 * error_offset reach the caller unchanged and the library's attribute mirror
 * agrees with what the host view really does (SIGBUS exactly on private
 * pages); a long-term GUP pin (/sys/kernel/debug/gup_test) makes a
 * conversion to private fail with EAGAIN at the pinned page; a real vCPU
 * of the software-protected VM reads and writes the very pages the host
 * wrote, across conversions, in place.
 * Skips outside such a kernel.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "core_common.h"
#include "internal.h"
#include "backend/kvm.h"
#include "gmem/uapi.h"
#include "kvm_vcpu.h"

#define POL "upstream"
#define PLAT "sw_protected"
#define MS (GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED)

static int conv2(struct gmem *g, struct gmem_attributes2 *a)
{
	return gmem_set_memory_attributes(g, a);
}

/* Every page's attributes as the mirror says and as the host view shows
 * them (a read raises SIGBUS exactly on private pages). */
static bool mirror_matches_kernel(struct core_ctx *c)
{
	for (uint64_t off = 0; off < c->size; off += PG) {
		bool priv = core_attr(c->g, off) & PRIV;

		if (core_sigbus_on_read(c->host + off) != priv) {
			diag("page 0x%llx: mirror says %s, the host view %s",
			     (unsigned long long)off, priv ? "private" : "shared",
			     priv ? "reads" : "raises SIGBUS");
			return false;
		}
	}
	return true;
}

static void test_selection(void)
{
	struct gmem_vm *vm;
	struct gmem *g;
	const char *def = NULL;
	uint64_t modes = 0;

	ok(!gmem_backend_default(&def) && def && !strcmp(def, "native"),
	   "the probe picks native (%s)", def ? def : "none");
	ok_ret(gmem_vm_create(&vm, PLAT, POL), 0, "sw_protected VM, upstream policy");
	ok_ret(gmem_create(vm, 16 * PG, MS, &g), 0, "MMAP | INIT_SHARED gmem");
	ok(!strcmp(gmem_backend_name(g), "native"), "on the native backend (%s)", gmem_backend_name(g));
	ok(!gmem_vm_content_modes(vm, PRIV, &modes) && modes == GMEM_MODES_UNSPECIFIED,
	   "content modes to private: UNSPECIFIED only (0x%llx), v8 has no content flags",
	   (unsigned long long)modes);
	ok(!gmem_vm_content_modes(vm, 0, &modes) && modes == GMEM_MODES_UNSPECIFIED,
	   "content modes to shared: UNSPECIFIED only");
	gmem_vm_destroy(vm);

	/* v8: a default VM has no private memory: EINVAL from the kernel. */
	ok_ret(gmem_vm_create(&vm, "default", POL), 0, "default VM");
	TEST_ASSERT(!gmem_create(vm, 4 * PG, MS, &g), "gmem");
	ok(strcmp(gmem_backend_name(g), "native") != 0,
	   "a default VM falls back to %s (the kernel converts only where the VM type has private memory)",
	   gmem_backend_name(g));
	gmem_vm_destroy(vm);
	ok_ret(gmem_vm_create(&vm, "snp", POL), 0, "SNP VM without SNP hardware");
	TEST_ASSERT(!gmem_create(vm, 4 * PG, MS, &g), "gmem");
	ok(strcmp(gmem_backend_name(g), "native") != 0, "falls back to %s", gmem_backend_name(g));
	gmem_vm_destroy(vm);

	setenv("GMEM_BACKEND", "native", 1);
	ok_ret(gmem_vm_create(&vm, "default", POL), -ENODEV, "forced native, default VM: ENODEV");
	ok_ret(gmem_vm_create(&vm, PLAT, POL), 0, "forced native, sw_protected VM");
	gmem_vm_destroy(vm);
	unsetenv("GMEM_BACKEND");
}

static void test_lifecycle(void)
{
	static const uint64_t bad_sizes[] = { 0, 1, PG - 1, PG + 1 };
	struct core_ctx c;
	struct gmem *g;
	uint64_t a, run;

	core_setup(&c, PLAT, POL, 8, MS);
	ok(c.host == c.g->mem, "the host view is the kernel's mapping of the guest_memfd");
	ok(!gmem_get_memory_attributes(c.g, 0, &a, &run) && a == 0 && run == 8 * PG,
	   "INIT_SHARED: one shared run of the whole file");
	ok(mirror_matches_kernel(&c), "every page readable");
	for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++)
		ok_ret(gmem_create(c.vm, bad_sizes[i], MS, &g), -EINVAL, "size %llu refused",
		       (unsigned long long)bad_sizes[i]);
	ok_ret(gmem_create(c.vm, PG, 1ULL << 5, &g), -EINVAL, "unknown flag refused");
	ok_ret(gmem_create(c.vm, 4 * PG, GMEM_FLAG_MMAP, &g), 0, "MMAP without INIT_SHARED");
	ok(!gmem_get_memory_attributes(g, 0, &a, &run) && a == PRIV && run == 4 * PG,
	   "starts private");
	ok(core_sigbus_on_read(gmem_mmap(g)), "the host touching it gets SIGBUS from the kernel");
	gmem_destroy(g);
	ok_ret(gmem_create(c.vm, 4 * PG, 0, &g), 0, "neither flag");
	errno = 0;
	ok(!gmem_mmap(g) && errno == ENODEV, "no host view without MMAP (ENODEV)");
	gmem_destroy(g);
	core_teardown(&c);
}

struct einval_row {
	const char *what;
	uint64_t off, size, attrs, flags, reserved0, eo;
};

static void test_conversions(void)
{
	static const struct einval_row rows[] = {
		{ "content flag ZERO", 0, PG, PRIV, CZ, 0, 0 },
		{ "content flag PRESERVE", 0, PG, PRIV, CP, 0, 0 },
		{ "ZERO | PRESERVE", 0, PG, 0, CZ | CP, 0, 0 },
		{ "unknown flag", 0, PG, PRIV, 1ULL << 7, 0, 0 },
		{ "reserved word", 0, PG, PRIV, 0, 1, 0 },
		{ "unknown attribute", 0, PG, 1, 0, 0, 0 },
		{ "size 0", 0, 0, PRIV, 0, 0, 0 },
		{ "misaligned offset", 1, PG, PRIV, 0, 0, 0 },
		{ "misaligned size", 0, PG + 1, PRIV, 0, 0, 0 },
		{ "past the end", 15 * PG, 2 * PG, PRIV, 0, 0, 0 },
		{ "offset at the end", 16 * PG, PG, PRIV, 0, 0, 0 },
		{ "overflow", 2 * PG, ~0ULL - PG + 1, PRIV, 0, 0, 0 },
		{ "invalid, error_offset given", 1, PG, PRIV, 0, 0, 5 * PG },
	};
	struct core_ctx c;
	uint8_t buf[PG];
	int ret;

	core_setup(&c, PLAT, POL, 16, MS);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct gmem_attributes2 a = {
			.offset = rows[i].off, .size = rows[i].size,
			.attributes = rows[i].attrs, .flags = rows[i].flags,
			.error_offset = rows[i].eo,
		};

		a.reserved[0] = rows[i].reserved0;
		ret = conv2(c.g, &a);
		ok(ret == -EINVAL && a.error_offset == rows[i].eo,
		   "%s: EINVAL (%d), error_offset left as given (0x%llx)", rows[i].what, ret,
		   (unsigned long long)a.error_offset);
	}
	ok(mirror_matches_kernel(&c) && core_attr(c.g, 0) == 0, "nothing changed");

	memset(c.host, 'A', 16 * PG);
	{
		struct gmem_attributes2 a = {
			.offset = 2 * PG, .size = 4 * PG, .attributes = PRIV,
			.error_offset = 0x1234000,
		};

		ok_ret(conv2(c.g, &a), 0, "v8 accepts a non-zero error_offset on input");
		ok(a.error_offset == 0x1234000, "and leaves it as it was (not copied back on success)");
	}
	ok(core_sigbus_on_read(c.host + 2 * PG) && core_sigbus_on_read(c.host + 5 * PG),
	   "private pages: SIGBUS on host reads");
	ok(!core_sigbus_on_read(c.host + PG) && !core_sigbus_on_read(c.host + 6 * PG),
	   "their neighbours still read");
	ok_ret(core_conv(c.g, 0, 16 * PG, PRIV, 0), 0, "a range mixing both states");
	ok(mirror_matches_kernel(&c), "all private, the mirror agrees with the kernel");
	ok_ret(core_conv(c.g, 0, 16 * PG, PRIV, 0), 0, "converting private to private: a no-op");
	ok_ret(core_conv(c.g, 0, 16 * PG, 0, 0), 0, "all back to shared");
	memcpy(buf, c.host + 3 * PG, PG);
	ok(buf[0] == 'A' && buf[PG - 1] == 'A' && c.host[9 * PG] == 'A',
	   "the bytes survive a round trip: v8 never changes contents on sw_protected");
	for (uint64_t p = 0; p < 16; p++)
		if (p % 3 == 1)
			TEST_ASSERT(!core_conv(c.g, p * PG, PG, PRIV, 0), "page %llu", (unsigned long long)p);
	ok(mirror_matches_kernel(&c), "per-page indexing: every third page private, as the mirror says");
	{
		uint64_t a, run;

		ok(!gmem_get_memory_attributes(c.g, 2 * PG, &a, &run) && a == 0 && run == 2 * PG,
		   "run lengths from the mirror (shared run of 2 pages)");
	}
	core_teardown(&c);

	/* Before allocation: conversions of pages never touched. */
	core_setup(&c, PLAT, POL, 8, MS);
	ok_ret(core_conv(c.g, 0, 8 * PG, PRIV, 0), 0, "to private before any allocation");
	ok_ret(core_conv(c.g, 0, 8 * PG, 0, 0), 0, "and back");
	ok(c.host[0] == 0 && c.host[8 * PG - 1] == 0, "unallocated pages read zero");
	core_teardown(&c);
}

static void test_punch(void)
{
	struct core_ctx c;

	core_setup(&c, PLAT, POL, 8, MS);
	memset(c.host, 0x5a, 8 * PG);
	TEST_ASSERT(!core_conv(c.g, 2 * PG, 2 * PG, PRIV, 0), "private");
	ok_ret(gmem_punch_hole(c.g, PG, 2 * PG), 0, "punch a shared and a private page");
	ok(core_attr(c.g, PG) == 0 && core_attr(c.g, 2 * PG) == PRIV && mirror_matches_kernel(&c),
	   "attributes kept");
	ok(c.host[PG] == 0 && c.host[PG + 100] == 0, "the punched shared page reads zero");
	ok_ret(core_conv(c.g, 2 * PG, 2 * PG, 0, 0), 0, "back to shared");
	ok(c.host[2 * PG] == 0 && c.host[3 * PG] == 0x5a,
	   "the punched private page reads zero, the other kept its bytes");
	ok_ret(gmem_punch_hole(c.g, PG, PG - 1), -EINVAL, "misaligned punch: EINVAL");
	ok_ret(gmem_punch_hole(c.g, 6 * PG, 8 * PG), 0, "a punch past the end is clipped");
	ok(c.host[7 * PG] == 0 && c.host[5 * PG] == 0x5a, "up to the end");
	core_teardown(&c);
}

static void test_fork(void)
{
	struct core_ctx c;
	pid_t pid;
	int st;

	core_setup(&c, PLAT, POL, 4, MS);
	memset(c.host, 'F', 4 * PG);
	TEST_ASSERT(!core_conv(c.g, PG, PG, PRIV, 0), "private");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		uint8_t b = 0;
		int r = 0;

		if (core_try_read(c.host, &b, 1) || b != 'F')
			r |= 1;
		if (!core_sigbus_on_read(c.host + PG))
			r |= 2;
		_exit(r);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "a forked child reads the shared page and gets SIGBUS on the private one (status %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid)
		_exit(core_sigbus_on_read(c.host + 2 * PG) ? 1 : 0);
	TEST_ASSERT(!core_conv(c.g, 2 * PG, PG, PRIV, 0), "private");
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st), "the child finished");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid)
		_exit(core_sigbus_on_read(c.host + 2 * PG) ? 0 : 1);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "a conversion after the fork reaches the child's mapping too (SIGBUS)");
	core_teardown(&c);
}

/* ---- pins: the kernel's own EAGAIN ------------------------------------ */

static int gup_fd = -1;

static int pin(void *addr, uint64_t len)
{
	struct gmem_pin_longterm_test p = {
		.addr = (uint64_t)(uintptr_t)addr, .size = len,
		.flags = PIN_LONGTERM_TEST_FLAG_USE_WRITE,
	};

	return ioctl(gup_fd, PIN_LONGTERM_TEST_START, &p) ? -errno : 0;
}

static void unpin(void)
{
	TEST_ASSERT(!ioctl(gup_fd, PIN_LONGTERM_TEST_STOP), "PIN_LONGTERM_TEST_STOP");
}

static void test_pins(void)
{
	struct core_ctx c;
	uint64_t eo = 0;
	const uint64_t pinned = 2;

	gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gup_fd < 0) {
		ok(1, "# SKIP no /sys/kernel/debug/gup_test (CONFIG_GUP_TEST): %s", strerror(errno));
		return;
	}
	core_setup(&c, PLAT, POL, 4, MS);
	memset(c.host, 'B', 4 * PG);
	ok_ret(gmem_pin(c.g, 0), -EOPNOTSUPP, "gmem_pin: the kernel counts real GUP pins on native");
	ok_ret(pin(c.host + pinned * PG, PG), 0, "a long-term GUP pin of page 2 (gup_test)");
	ok_ret(gmem_convert(c.g, 0, 4 * PG, PRIV, 0, &eo), -EAGAIN,
	       "converting the range to private: EAGAIN");
	ok(eo == pinned * PG, "error_offset = the pinned page (0x%llx)", (unsigned long long)eo);
	ok(core_attr(c.g, 0) == 0 && mirror_matches_kernel(&c) && c.host[0] == 'B',
	   "nothing converted, every page still readable");
	for (uint64_t p = 0; p < 4; p++) {
		eo = 0;
		if (p == pinned) {
			int r = gmem_convert(c.g, p * PG, PG, PRIV, 0, &eo);

			ok(r == -EAGAIN && eo == p * PG,
			   "page by page: the pinned page fails with its own offset (%d, 0x%llx)",
			   r, (unsigned long long)eo);
		} else
			TEST_ASSERT(!gmem_convert(c.g, p * PG, PG, PRIV, 0, &eo), "page %llu",
				    (unsigned long long)p);
	}
	ok(mirror_matches_kernel(&c), "the others converted, the mirror follows the kernel");
	eo = 0;
	ok(gmem_convert(c.g, PG, 3 * PG, PRIV, 0, &eo) == -EAGAIN && eo == pinned * PG,
	   "a range whose other pages are private already: EAGAIN at the pinned page");
	ok_ret(gmem_convert(c.g, pinned * PG, PG, 0, 0, &eo), 0,
	   "converting the pinned shared page to shared: a no-op, no refcount check");
	unpin();
	ok_ret(core_conv(c.g, 0, 4 * PG, PRIV, 0), 0, "unpinned: the conversion succeeds");
	ok_ret(core_conv(c.g, 0, 4 * PG, 0, 0), 0, "and back");
	ok(c.host[pinned * PG] == 'B' && c.host[0] == 'B', "bytes kept throughout");
	ok_ret(core_conv(c.g, PG, PG, PRIV, 0), 0, "page 1 private");
	ok(pin(c.host + PG, PG) < 0, "GUP of a private page fails (%d)", pin(c.host + PG, PG));
	/* Punching a pinned page takes it out of the file: the pin holds a
	 * page that is no longer the guest_memfd's. */
	ok_ret(pin(c.host + 3 * PG, PG), 0, "pin page 3");
	ok_ret(gmem_punch_hole(c.g, 3 * PG, PG), 0, "punch the pinned page");
	eo = 0;
	ok_ret(gmem_convert(c.g, 3 * PG, PG, PRIV, 0, &eo), 0,
	       "after the punch the page converts: the pinned folio left the file");
	unpin();
	close(gup_fd);
	core_teardown(&c);
}

/* ---- concurrency: the kernel serialises under its invalidate_lock ------ */

struct thr {
	struct core_ctx *c;
	int id;
	int errors;
};

static void *converter(void *arg)
{
	struct thr *t = arg;
	uint64_t x = 0x9E3779B97F4A7C15ULL * (uint64_t)(t->id + 1);

	for (int i = 0; i < 400; i++) {
		uint64_t p, n;
		int r;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p = x % 32;
		n = 1 + (x >> 8) % (32 - p);
		r = core_conv(t->c->g, p * PG, n * PG, (x >> 20) & 1 ? PRIV : 0, 0);
		if (r)
			t->errors++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct core_ctx c;
	pthread_t th[4];
	struct thr t[4];
	int errors = 0;

	core_setup(&c, PLAT, POL, 32, MS);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){ .c = &c, .id = i };
		TEST_ASSERT(!pthread_create(&th[i], NULL, converter, &t[i]), "thread");
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		errors += t[i].errors;
	}
	ok(!errors, "4 threads, 1600 overlapping conversions: all succeed (%d failed)", errors);
	ok(mirror_matches_kernel(&c), "the mirror ends as the kernel's state");
	core_teardown(&c);
}

/* ---- fault injection: a failure before the kernel changes nothing ------ */

static void test_injected(void)
{
	struct core_ctx c;
	struct gmem_stats st;

	core_setup(&c, PLAT, POL, 8, MS);
	TEST_ASSERT(!core_conv(c.g, 0, PG, PRIV, 0), "private");
	gmem__fault_inject(GMEM_FI_IOCTL, 0, ENOMEM);
	{
		uint64_t eo = 0;

		ok(gmem_convert(c.g, 2 * PG, 2 * PG, PRIV, 0, &eo) == -ENOMEM && eo == 2 * PG,
		   "an injected ioctl failure: ENOMEM, error_offset at the start");
	}
	gmem__fault_inject(GMEM_FI_IOCTL, -1, 0);
	ok(core_attr(c.g, 2 * PG) == 0 && mirror_matches_kernel(&c), "and nothing changed");
	gmem_get_stats(c.g, &st);
	ok(st.conversions == 1, "statistics count the successful conversion only (%llu)",
	   (unsigned long long)st.conversions);
	core_teardown(&c);
}

/* ---- a real vCPU: the guest's view of the same pages ------------------ */

static void test_vcpu(void)
{
	struct gmem_kvm_vm *kv;
	struct core_ctx c;
	struct vcpu v;
	int ret, all = 1;

	core_setup(&c, PLAT, POL, 4, MS);
	ok_ret(gmem_bind(c.g, 0), 0, "bound to a memslot at GPA 0 (KVM_MEM_GUEST_MEMFD)");
	kv = c.vm->backend_priv;
	(void)ioctl(kv->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	memcpy(c.host, vcpu_code, sizeof(vcpu_code));
	for (unsigned i = 0; i < 64; i++)
		c.host[PG + i] = (uint8_t)(0x40 + i);
	ret = vcpu_create(&v, kv->kvm_fd, kv->vm_fd, 0);
	if (ret) {
		ok(1, "# SKIP no vCPU here: %s", strerror(-ret));
		core_teardown(&c);
		return;
	}
	for (unsigned i = 0; i < 64; i += 9)
		all &= vcpu_read(&v, PG + i) == 0x40 + (int)i;
	ok(all, "the vCPU reads (shared) what the host wrote");
	ok_ret(core_conv(c.g, PG, PG, PRIV, 0), 0, "the data page to private");
	all = 1;
	for (unsigned i = 0; i < 64; i += 9)
		all &= vcpu_read(&v, PG + i) == 0x40 + (int)i;
	ok(all, "the vCPU's private access reads the same bytes: the conversion was in place");
	ok_ret(vcpu_write(&v, PG + 3, 0x99), 0, "the vCPU writes the private page");
	ok(core_sigbus_on_read(c.host + PG), "which the host cannot touch");
	ok_ret(core_conv(c.g, PG, PG, 0, 0), 0, "back to shared");
	ok(c.host[PG + 3] == 0x99 && c.host[PG + 4] == 0x44,
	   "the host reads the guest's byte in place (0x%02x)", c.host[PG + 3]);
	ok_ret(gmem_punch_hole(c.g, PG, PG), 0, "punch the data page");
	ok(vcpu_read(&v, PG + 3) == 0, "the vCPU reads zero");
	vcpu_destroy(&v);
	core_teardown(&c);
}

int main(void)
{
	const char *why = NULL;

	TEST_REQUIRE(!gmem_backend_probe("native", &why),
		     "needs a kernel with in-place conversion (make check-kernel): %s", why);
	plan_lazy();
	core_sigbus_install();
	unsetenv("GMEM_BACKEND");
	test_selection();
	test_lifecycle();
	test_conversions();
	test_punch();
	test_fork();
	test_pins();
	test_threads();
	test_injected();
	test_vcpu();
	return done();
}
