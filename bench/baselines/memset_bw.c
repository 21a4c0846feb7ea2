/* SPDX-License-Identifier: MIT */
/* The memset baseline (see memset_bw.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "baselines/memset_bw.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int ms_create(struct memset_buf *m, uint64_t size)
{
	m->size = size;
	m->p = NULL;
	m->fd = memfd_create("memset-baseline", MFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)size))
		goto err;
	m->p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->p == MAP_FAILED) {
		m->p = NULL;
		goto err;
	}
	memset(m->p, 0x5a, size);	/* populate pages and page tables */
	return 0;
err:
	close(m->fd);
	m->fd = -1;
	return -errno;
}

void ms_destroy(struct memset_buf *m)
{
	if (m->p)
		munmap(m->p, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->p = NULL;
	m->fd = -1;
}

int ms_repopulate(struct memset_buf *m)
{
	if (fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)m->size))
		return -errno;
	memset(m->p, 0x5a, m->size);
	return 0;
}

double ms_zero(struct memset_buf *m)
{
	double t0 = now_us();

	memset(m->p, 0, m->size);
	/* keep the compiler from dropping a store nobody reads */
	__asm__ volatile("" : : "r"(m->p) : "memory");
	return now_us() - t0;
}
