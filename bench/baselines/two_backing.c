/* SPDX-License-Identifier: MIT */
/* The two-backing conversion baseline (see two_backing.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "baselines/two_backing.h"

#define TB_PAGE 4096ULL

static int side_create(int *fd, uint8_t **map, uint64_t size, const char *name)
{
	*fd = memfd_create(name, MFD_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (ftruncate(*fd, (off_t)size))
		return -errno;
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, *fd, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return -errno;
	}
	return 0;
}

int tb_create(struct two_backing *tb, uint64_t size, bool private)
{
	uint64_t words = (size / TB_PAGE + 63) / 64;
	int ret;

	memset(tb, 0, sizeof(*tb));
	tb->size = size;
	tb->shared_fd = tb->private_fd = -1;
	tb->bitmap = malloc(words * sizeof(*tb->bitmap));
	if (!tb->bitmap)
		return -ENOMEM;
	memset(tb->bitmap, private ? 0xff : 0, words * sizeof(*tb->bitmap));
	ret = side_create(&tb->shared_fd, &tb->shared, size, "tb-shared");
	if (!ret)
		ret = side_create(&tb->private_fd, &tb->priv, size, "tb-private");
	if (ret)
		tb_destroy(tb);
	return ret;
}

void tb_destroy(struct two_backing *tb)
{
	if (tb->shared)
		munmap(tb->shared, tb->size);
	if (tb->priv)
		munmap(tb->priv, tb->size);
	if (tb->shared_fd >= 0)
		close(tb->shared_fd);
	if (tb->private_fd >= 0)
		close(tb->private_fd);
	free(tb->bitmap);
	memset(tb, 0, sizeof(*tb));
	tb->shared_fd = tb->private_fd = -1;
}

bool tb_is_private(const struct two_backing *tb, uint64_t off)
{
	uint64_t p = off / TB_PAGE;

	return tb->bitmap[p / 64] >> (p % 64) & 1;
}

static void bitmap_set(uint64_t *bm, uint64_t first, uint64_t n, bool v)
{
	for (uint64_t p = first; p < first + n; p++) {
		if (v)
			bm[p / 64] |= 1ULL << (p % 64);
		else
			bm[p / 64] &= ~(1ULL << (p % 64));
	}
}

int tb_reset(struct two_backing *tb, uint64_t off, uint64_t len, bool private)
{
	if (fallocate(tb->shared_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) ||
	    fallocate(tb->private_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len))
		return -errno;
	bitmap_set(tb->bitmap, off / TB_PAGE, len / TB_PAGE, private);
	return 0;
}

int tb_convert(struct two_backing *tb, uint64_t off, uint64_t len,
	       bool to_private, bool preserve)
{
	int src_fd = to_private ? tb->shared_fd : tb->private_fd;
	uint8_t *src = to_private ? tb->shared : tb->priv;
	uint8_t *dst = to_private ? tb->priv : tb->shared;

	if (preserve)
		memcpy(dst + off, src + off, len);
	if (fallocate(src_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len))
		return -errno;
	bitmap_set(tb->bitmap, off / TB_PAGE, len / TB_PAGE, to_private);
	return 0;
}
