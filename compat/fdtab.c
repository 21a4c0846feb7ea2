/* SPDX-License-Identifier: MIT */
/*
 * The tracked descriptors: a two-level table indexed by fd number, read
 * without locks.  Every interposed call on an untracked descriptor costs
 * two dependent loads here and nothing else; second-level chunks are
 * allocated when a tracked fd first lands in them and never freed, so a
 * reader never sees freed memory.  Entries change only under
 * compat_fd_lock (written), which also keeps an object alive while an
 * operation on its fd holds the lock for reading.
 */
#include <errno.h>
#include <stdlib.h>

#include "compat.h"

#define L2_BITS  10
#define L2_SIZE  (1U << L2_BITS)
#define L1_SIZE  32768U			/* 32 Mi descriptors */

static struct compat_obj **fdtab[L1_SIZE];
static unsigned l1_top;			/* chunks [0, l1_top) may exist */

pthread_rwlock_t compat_fd_lock = PTHREAD_RWLOCK_INITIALIZER;

struct compat_obj *compat_fd_get(int fd)
{
	unsigned u = (unsigned)fd;
	struct compat_obj **chunk;

	if (u >= L1_SIZE * L2_SIZE)
		return NULL;
	chunk = __atomic_load_n(&fdtab[u >> L2_BITS], __ATOMIC_ACQUIRE);
	if (__builtin_expect(!chunk, 1))
		return NULL;
	return __atomic_load_n(&chunk[u & (L2_SIZE - 1)], __ATOMIC_ACQUIRE);
}

/* Called with compat_fd_lock written. */
int compat_fd_set(int fd, struct compat_obj *o)
{
	unsigned u = (unsigned)fd;
	struct compat_obj **chunk;

	if (u >= L1_SIZE * L2_SIZE)
		return -EMFILE;
	chunk = fdtab[u >> L2_BITS];
	if (!chunk) {
		chunk = calloc(L2_SIZE, sizeof(*chunk));
		if (!chunk)
			return -ENOMEM;
		__atomic_store_n(&fdtab[u >> L2_BITS], chunk, __ATOMIC_RELEASE);
		if ((u >> L2_BITS) >= l1_top)
			l1_top = (u >> L2_BITS) + 1;
	}
	__atomic_store_n(&chunk[u & (L2_SIZE - 1)], o, __ATOMIC_RELEASE);
	return 0;
}

/* Called with compat_fd_lock written. */
void compat_fd_clear(int fd)
{
	unsigned u = (unsigned)fd;
	struct compat_obj **chunk;

	if (u >= L1_SIZE * L2_SIZE)
		return;
	chunk = fdtab[u >> L2_BITS];
	if (chunk)
		__atomic_store_n(&chunk[u & (L2_SIZE - 1)], NULL,
				 __ATOMIC_RELEASE);
}

void compat_fd_each(void (*fn)(struct compat_obj *o, void *arg), void *arg)
{
	for (unsigned i = 0; i < l1_top; i++) {
		struct compat_obj **chunk = fdtab[i];

		for (unsigned j = 0; chunk && j < L2_SIZE; j++)
			if (chunk[j])
				fn(chunk[j], arg);
	}
}
