/* SPDX-License-Identifier: MIT */
/*
 * Host views while conversions run: a shared page between two private runs
 * stays readable throughout a ZERO to-shared conversion of the whole range
 * (the runs are hidden one by one, never the span), and the private bytes
 * the conversion wipes are never seen.  Runs of 256 KiB take the
 * page-table moving path, single pages the plain remap.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>

#include "tap.h"
#include "core_common.h"

#define PG    GMEM_PAGE_SIZE
#define RUN   64			/* pages per private run: 256 KiB */
#define NPG   (2 * RUN + 1)
#define MID   (RUN * PG)		/* the shared page between the runs */

static struct gmem *g;
static volatile uint8_t *view;
static int stop;
static __thread sigjmp_buf jb;
static __thread volatile int armed;
static unsigned long sigbus_mid, secret_seen, reads;

static void on_sigbus(int sig)
{
	(void)sig;
	if (armed)
		siglongjmp(jb, 1);
	abort();
}

static void *reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		uint8_t mid = 0, edge = 0;

		armed = 1;
		if (sigsetjmp(jb, 1) == 0) {
			mid = view[MID + 100];
			armed = 0;
		} else {
			armed = 0;
			__atomic_fetch_add(&sigbus_mid, 1, __ATOMIC_RELAXED);
		}
		armed = 1;
		if (sigsetjmp(jb, 1) == 0) {
			edge = view[(RUN - 1) * PG + 7];	/* a private run's page */
			armed = 0;
			if (edge == 0x5e)
				__atomic_fetch_add(&secret_seen, 1, __ATOMIC_RELAXED);
		} else {
			armed = 0;
		}
		(void)mid;
		__atomic_fetch_add(&reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void one_backend(const char *be)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	struct gmem_vm *vm;
	pthread_t t;
	uint8_t secret[PG];
	int cycles = 0, bad = 0;
	struct timespec t0, now;

	memset(secret, 0x5e, sizeof(secret));
	sigaction(SIGBUS, &sa, NULL);
	TEST_ASSERT(!gmem_vm_create(&vm, "default", NULL), "vm");
	TEST_ASSERT(!gmem_create(vm, NPG * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g), "gmem");
	view = gmem_mmap(g);
	TEST_ASSERT(view, "view");
	memset((void *)view, 0x11, NPG * PG);
	sigbus_mid = secret_seen = reads = 0;
	__atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
	pthread_create(&t, NULL, reader, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		bad |= gmem_convert(g, 0, RUN * PG, GMEM_ATTR_PRIVATE, 0, NULL);
		bad |= gmem_convert(g, MID + PG, RUN * PG, GMEM_ATTR_PRIVATE, 0, NULL);
		for (int p = 0; p < RUN; p++)
			bad |= gmem_guest_access(g, p * PG, secret, PG,
						 GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE);
		bad |= gmem_convert(g, 0, NPG * PG, 0, GMEM_CONTENT_ZERO, NULL);
		cycles++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!bad && (now.tv_sec - t0.tv_sec) * 1000000000L + (now.tv_nsec - t0.tv_nsec) < 1000000000L);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ok(!bad, "%s: %d cycles of private runs, guest writes, ZERO to shared", be, cycles);
	ok(sigbus_mid == 0, "%s: the shared page between the runs never faulted (%lu reads, %lu faults)",
	   be, reads, sigbus_mid);
	ok(secret_seen == 0, "%s: the host never saw the wiped private bytes (%lu times)", be, secret_seen);
	ok(view[0] == 0 && view[MID + 100] == 0x11, "%s: zeros where private, the shared page kept", be);
	gmem_vm_destroy(vm);
}

int main(void)
{
	const char *why = NULL;

	plan_lazy();
	setenv("GMEM_BACKEND", "emulated", 1);
	one_backend("emulated");
	if (!gmem_backend_probe("kvm", &why)) {
		setenv("GMEM_BACKEND", "kvm", 1);
		one_backend("kvm");
	} else {
		diag("kvm backend not usable: %s", why);
	}
	done();
}
