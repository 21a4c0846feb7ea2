/* SPDX-License-Identifier: MIT */
/* Test-only fault injection: make the n-th allocation, mmap, fallocate or
 * ioctl from now fail, to prove that every failure leaves state unchanged. */
#include "internal.h"

static long fi_countdown[GMEM_FI_NR] = { -1, -1, -1, -1 };
static int fi_err[GMEM_FI_NR];

void gmem__fault_inject(enum gmem_fault_kind kind, long n, int err)
{
	__atomic_store_n(&fi_err[kind], err, __ATOMIC_RELAXED);
	__atomic_store_n(&fi_countdown[kind], n, __ATOMIC_RELEASE);
}

int gmem__fault_check(enum gmem_fault_kind kind)
{
	long n = __atomic_load_n(&fi_countdown[kind], __ATOMIC_ACQUIRE);

	if (__builtin_expect(n < 0, 1))
		return 0;
	n = __atomic_sub_fetch(&fi_countdown[kind], 1, __ATOMIC_ACQ_REL);
	if (n == -1)
		return -__atomic_load_n(&fi_err[kind], __ATOMIC_RELAXED);
	return 0;
}
