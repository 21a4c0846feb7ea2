/* SPDX-License-Identifier: MIT */
/* Test-only fault injection: make the n-th allocation, mmap, fallocate,
 * ioctl or libcrypto call from now fail, to prove that every failure leaves
 * state unchanged.  Unarmed, a check is one relaxed atomic load; armed (in
 * tests only), a mutex keeps the counting exact when threads race. */
#include <limits.h>
#include <pthread.h>

#include "internal.h"

struct fault_point {
	long skip;		/* calls still to let through */
	long fail;		/* then calls to fail */
	int err;
	long fired;		/* since the last arming */
	unsigned long total;	/* since the start of the process */
};

static struct fault_point fi[GMEM_FI_NR];
static int fi_armed[GMEM_FI_NR];
static pthread_mutex_t fi_lock = PTHREAD_MUTEX_INITIALIZER;

static void arm(enum gmem_fault_kind kind, long n, long fail, int err)
{
	if ((unsigned)kind >= GMEM_FI_NR)
		return;
	pthread_mutex_lock(&fi_lock);
	fi[kind].skip = n;
	fi[kind].fail = n < 0 ? 0 : fail;
	fi[kind].err = err;
	fi[kind].fired = 0;
	__atomic_store_n(&fi_armed[kind], n >= 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&fi_lock);
}

void gmem__fault_inject(enum gmem_fault_kind kind, long n, int err)
{
	arm(kind, n, 1, err);
}

void gmem__fault_inject_from(enum gmem_fault_kind kind, long n, int err)
{
	arm(kind, n, LONG_MAX, err);
}

long gmem__fault_fired(enum gmem_fault_kind kind)
{
	long n;

	if ((unsigned)kind >= GMEM_FI_NR)
		return 0;
	pthread_mutex_lock(&fi_lock);
	n = fi[kind].fired;
	pthread_mutex_unlock(&fi_lock);
	return n;
}

unsigned long gmem__fault_total(enum gmem_fault_kind kind)
{
	unsigned long n;

	if ((unsigned)kind >= GMEM_FI_NR)
		return 0;
	pthread_mutex_lock(&fi_lock);
	n = fi[kind].total;
	pthread_mutex_unlock(&fi_lock);
	return n;
}

int gmem__fault_check(enum gmem_fault_kind kind)
{
	struct fault_point *f = &fi[kind];
	int ret = 0;

	if (__builtin_expect(!__atomic_load_n(&fi_armed[kind], __ATOMIC_ACQUIRE), 1))
		return 0;
	pthread_mutex_lock(&fi_lock);
	if (f->skip > 0) {
		f->skip--;
	} else if (f->fail > 0) {
		f->fail--;
		f->fired++;
		f->total++;
		ret = -f->err;
		if (!f->fail)
			__atomic_store_n(&fi_armed[kind], 0, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&fi_lock);
	return ret;
}
