/* SPDX-License-Identifier: MIT */
/*
 * Differential, emulation against the kernel: run inside the series kernel
 * (make check-kernel).  The same seeded random operation sequences (as
 * tests/backend_diff.c) run at once on three gmems of a sw_protected VM
 * with the `upstream` policy: one on the native backend (the kernel's own
 * KVM_SET_MEMORY_ATTRIBUTES2, SIGBUS and pins), one emulated, one on the kvm
 * backend.  Every step compares the return value, error_offset, SIGBUS or
 * not and the bytes a host access sees; after every step the attributes and
 * run lengths of every page, and on native what the host view really does
 * (SIGBUS exactly on private pages); at the end of a sequence every page's
 * bytes.  Odd seeds start with a shared file, even seeds with a private one.  Operations: conversions (valid and not: content flags, reserved
 * words, a non-zero error_offset on input, misaligned, past the end), hole
 * punches, host reads and writes, long-term pins (gup_test on native,
 * gmem_pin elsewhere) and unpins.
 *
 *   GMEM_DIFF_SEEDS=n (default 200), GMEM_DIFF_OPS=n per seed (default 200),
 *   GMEM_SEED=s: the first seed.  A difference prints the seed and the step.
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "core_common.h"
#include "gmem/uapi.h"

#define NPAGES 24
#define NB 3
enum { NATIVE, EMULATED, KVM };
static const char *const be_names[NB] = { "native", "emulated", "kvm" };

static int gup_fd = -1;

struct side {
	struct gmem_vm *vm;
	struct gmem *g;
	uint8_t *host;
};

struct result {
	int ret;
	uint64_t eo;
	uint8_t page[PG];	/* what a host read saw */
};

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Differences, counted per kind, the first few described. */
static unsigned long diffs[NB], known[NB], shown;
static unsigned long n_ops, n_kind[6], n_err[4], n_sigbus;

static void differ(int b, uint64_t seed, int step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void differ(int b, uint64_t seed, int step, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	diffs[b]++;
	if (shown++ >= 12)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag("DIFF native vs %s: GMEM_SEED=%llu step %d: %s", be_names[b],
	     (unsigned long long)seed, step, msg);
}

/* Odd seeds start shared (INIT_SHARED), even seeds private. */
static void setup(struct side *s, int b, uint64_t seed)
{
	uint64_t flags = GMEM_FLAG_MMAP | (seed & 1 ? GMEM_FLAG_INIT_SHARED : 0);

	setenv("GMEM_BACKEND", be_names[b], 1);
	TEST_ASSERT(!gmem_vm_create(&s->vm, "sw_protected", "upstream"), "%s VM", be_names[b]);
	TEST_ASSERT(!gmem_create(s->vm, NPAGES * PG, flags, &s->g), "%s gmem", be_names[b]);
	TEST_ASSERT(!strcmp(gmem_backend_name(s->g), be_names[b]), "backend %s", be_names[b]);
	s->host = gmem_mmap(s->g);
	TEST_ASSERT(s->host, "host view");
	unsetenv("GMEM_BACKEND");
}

static int kernel_pin(struct side *s, uint64_t off)
{
	struct gmem_pin_longterm_test p = {
		.addr = (uint64_t)(uintptr_t)(s->host + off), .size = PG,
		.flags = PIN_LONGTERM_TEST_FLAG_USE_WRITE,
	};

	return ioctl(gup_fd, PIN_LONGTERM_TEST_START, &p) ? -errno : 0;
}

/* The operation of this step, drawn once and applied to every side. */
struct op {
	unsigned kind;		/* 0,1 convert, 2 punch, 3 write, 4 read, 5 pin/unpin */
	struct gmem_attributes2 a;
	uint64_t off, len;
	uint8_t fill;
};

static void draw(struct op *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = next() % 6;
	o->off = (next() % (NPAGES + 2)) * PG;
	o->len = (next() % 9) * PG;
	if (next() % 20 == 0)
		o->off += 1 + next() % (PG - 1);	/* misaligned */
	o->fill = (uint8_t)next();
	o->a.offset = o->off;
	o->a.size = o->len;
	o->a.attributes = (next() & 1) ? PRIV : 0;
	if (next() % 10 == 0)
		o->a.flags = 1 + next() % 4;		/* content flags: v8 has none */
	if (next() % 25 == 0)
		o->a.reserved[next() % 11] = 1;
	if (next() % 8 == 0)
		o->a.error_offset = (next() % NPAGES) * PG;	/* on input */
	if (next() % 30 == 0)
		o->a.attributes |= 1ULL << (next() % 8);
	if (o->off >= NPAGES * PG)
		o->off = (next() % NPAGES) * PG;	/* host accesses stay inside */
}

static void apply(struct side *s, int b, const struct op *o, int *pinned,
		  struct result *r)
{
	struct gmem_attributes2 a = o->a;
	uint64_t page = o->off & ~(PG - 1);

	r->eo = 0;
	switch (o->kind) {
	case 0:
	case 1:
		r->ret = gmem_set_memory_attributes(s->g, &a);
		r->eo = a.error_offset;
		break;
	case 2:
		r->ret = gmem_punch_hole(s->g, o->off, o->len);
		break;
	case 3:
		memset(r->page, o->fill, PG);
		r->ret = core_try_write(s->host + page, r->page, PG);
		break;
	case 4:
		memset(r->page, 0, PG);
		r->ret = core_try_read(s->host + page, r->page, PG);
		break;
	default:
		if (*pinned >= 0) {	/* unpin: always possible, not compared */
			if (b == NATIVE)
				TEST_ASSERT(!ioctl(gup_fd, PIN_LONGTERM_TEST_STOP), "unpin");
			else
				(void)gmem_unpin(s->g, (uint64_t)*pinned);
			r->ret = 0;
		} else {
			r->ret = b == NATIVE ? kernel_pin(s, page) : gmem_pin(s->g, page);
		}
		break;
	}
}

/* Attributes and run lengths of every page equal; native's mirror equal to
 * what its host view does. */
static void compare_state(struct side *sd, uint64_t seed, int step, bool *bad)
{
	for (uint64_t off = 0; off < NPAGES * PG; off += PG) {
		uint64_t at[NB], run[NB];

		for (int b = 0; b < NB; b++)
			TEST_ASSERT(!gmem_get_memory_attributes(sd[b].g, off, &at[b], &run[b]), "attrs");
		for (int b = 1; b < NB; b++)
			if (!bad[b] && (at[b] != at[0] || run[b] != run[0])) {
				differ(b, seed, step, "page 0x%llx: attributes %llx run %llu, kernel %llx run %llu",
				       (unsigned long long)off, (unsigned long long)at[b],
				       (unsigned long long)run[b], (unsigned long long)at[0],
				       (unsigned long long)run[0]);
				bad[b] = true;
			}
		if (!bad[0] && core_sigbus_on_read(sd[0].host + off) != !!(at[0] & PRIV)) {
			diag("native: GMEM_SEED=%llu step %d: page 0x%llx mirror %llx disagrees with the host view",
			     (unsigned long long)seed, step, (unsigned long long)off,
			     (unsigned long long)at[0]);
			diffs[0]++;
			bad[0] = true;
		}
	}
}

static void compare_bytes(struct side *sd, uint64_t seed, bool *bad)
{
	static uint8_t pg[NB][PG];

	for (int b = 0; b < NB; b++)
		TEST_ASSERT(!core_conv(sd[b].g, 0, NPAGES * PG, 0, 0), "all shared");
	for (uint64_t off = 0; off < NPAGES * PG; off += PG) {
		for (int b = 0; b < NB; b++)
			TEST_ASSERT(!core_try_read(sd[b].host + off, pg[b], PG), "read");
		for (int b = 1; b < NB; b++)
			if (!bad[b] && memcmp(pg[b], pg[0], PG)) {
				differ(b, seed, -1, "page 0x%llx bytes differ at the end (%02x vs kernel %02x)",
				       (unsigned long long)off, pg[b][0], pg[0][0]);
				bad[b] = true;
			}
	}
}

static void run_seed(uint64_t seed, int ops)
{
	static struct result r[NB];
	struct side sd[NB];
	bool bad[NB] = { false };
	int pinned = -1, orphan = -1;

	for (int b = 0; b < NB; b++)
		setup(&sd[b], b, seed);
	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (int step = 0; step < ops && !(bad[1] && bad[2]); step++) {
		struct op o;

		draw(&o);
		for (int b = 0; b < NB; b++)
			apply(&sd[b], b, &o, &pinned, &r[b]);
		n_ops++;
		n_kind[o.kind]++;
		if (r[0].ret == -EINVAL)
			n_err[0]++;
		else if (r[0].ret == -EAGAIN)
			n_err[1]++;
		else if (r[0].ret == -EFAULT)
			n_err[2]++;
		else if (r[0].ret == -1)
			n_sigbus++;
		if (o.kind == 5) {
			pinned = pinned >= 0 ? -1 : (r[0].ret ? -1 : (int)(o.off & ~(PG - 1)));
			orphan = -1;
		}
		/* A punch takes a pinned page out of the file: the kernel's pin
		 * keeps the old folio, the library's stays on the offset
		 * (docs/backends.md). */
		if (o.kind == 2 && !r[0].ret && pinned >= 0 &&
		    (uint64_t)pinned >= o.off && (uint64_t)pinned < o.off + o.len)
			orphan = pinned;
		for (int b = 1; b < NB; b++) {
			if (bad[b])
				continue;
			if (o.kind < 2 && orphan >= 0 && !r[0].ret && r[b].ret == -EAGAIN &&
			    r[b].eo == (uint64_t)orphan) {
				struct gmem_attributes2 a = o.a;

				if (!known[b]++)
					diag("documented: native vs %s: GMEM_SEED=%llu step %d: a conversion over a page punched while pinned: EAGAIN at 0x%llx, the kernel converts",
					     be_names[b], (unsigned long long)seed, step,
					     (unsigned long long)orphan);
				/* Carry on as the kernel does: the pin no longer
				 * holds a page of the file. */
				TEST_ASSERT(!gmem_unpin(sd[b].g, (uint64_t)orphan), "unpin");
				r[b].ret = gmem_set_memory_attributes(sd[b].g, &a);
				r[b].eo = a.error_offset;
			}
			if (r[b].ret != r[0].ret || r[b].eo != r[0].eo) {
				differ(b, seed, step, "op %u 0x%llx+0x%llx attrs %llx flags %llx eo-in 0x%llx: %d/0x%llx, kernel %d/0x%llx",
				       o.kind, (unsigned long long)o.a.offset, (unsigned long long)o.a.size,
				       (unsigned long long)o.a.attributes, (unsigned long long)o.a.flags,
				       (unsigned long long)o.a.error_offset, r[b].ret,
				       (unsigned long long)r[b].eo, r[0].ret, (unsigned long long)r[0].eo);
				bad[b] = true;
			} else if (o.kind == 4 && !r[0].ret && memcmp(r[b].page, r[0].page, PG)) {
				differ(b, seed, step, "host read of page 0x%llx: %02x, kernel %02x",
				       (unsigned long long)(o.off & ~(PG - 1)), r[b].page[0], r[0].page[0]);
				bad[b] = true;
			}
		}
		compare_state(sd, seed, step, bad);
	}
	if (pinned >= 0)
		TEST_ASSERT(!ioctl(gup_fd, PIN_LONGTERM_TEST_STOP), "unpin");
	compare_bytes(sd, seed, bad);
	for (int b = 0; b < NB; b++)
		gmem_vm_destroy(sd[b].vm);
}

int main(void)
{
	const char *why = NULL, *e;
	uint64_t first = 1;
	int seeds = 200, ops = 200;

	TEST_REQUIRE(!gmem_backend_probe("native", &why),
		     "needs a kernel with in-place conversion (make check-kernel): %s", why);
	TEST_REQUIRE(!gmem_backend_probe("kvm", &why), "needs the kvm backend: %s", why);
	gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	TEST_REQUIRE(gup_fd >= 0, "needs /sys/kernel/debug/gup_test (CONFIG_GUP_TEST)");
	if ((e = getenv("GMEM_DIFF_SEEDS")) && *e)
		seeds = atoi(e);
	if ((e = getenv("GMEM_DIFF_OPS")) && *e)
		ops = atoi(e);
	if ((e = getenv("GMEM_SEED")) && *e)
		first = strtoull(e, NULL, 0);
	plan_lazy();
	core_sigbus_install();
	for (int i = 0; i < seeds; i++)
		run_seed(first + (uint64_t)i, ops);
	diag("%lu operations: %lu conversions, %lu punches, %lu writes, %lu reads, %lu pins/unpins",
	     n_ops, n_kind[0] + n_kind[1], n_kind[2], n_kind[3], n_kind[4], n_kind[5]);
	diag("the kernel answered EINVAL %lu, EAGAIN %lu, EFAULT %lu times, SIGBUS %lu times",
	     n_err[0], n_err[1], n_err[2], n_sigbus);
	ok(!diffs[0], "native: the attribute mirror always agreed with the kernel's host view");
	for (int b = EMULATED; b <= KVM; b++)
		ok(!diffs[b], "%d seeds x %d operations: %s (upstream) gives what the kernel gives "
		   "(%lu seeds differ; the documented pin-and-punch difference %lu times)",
		   seeds, ops, be_names[b], diffs[b], known[b]);
	close(gup_fd);
	return done();
}
