/* SPDX-License-Identifier: MIT */
/* The emulated backend: the bytes live in a memfd; the library enforces
 * everything.  Always available. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static int emulated_probe(const char **why)
{
	*why = "memfd: always available";
	return 0;
}

static int emulated_create(struct gmem *g)
{
	int fd, ret = gmem__fault_check(GMEM_FI_ALLOC);

	if (ret)
		return ret;
	fd = memfd_create("gmem", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)g->size)) {
		ret = -errno;
		close(fd);
		return ret == -EFBIG ? -EINVAL : ret;
	}
	g->fd = fd;
	return 0;
}

static void emulated_destroy(struct gmem *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

static int emulated_punch_hole(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret = gmem__fault_check(GMEM_FI_FALLOCATE);

	if (ret)
		return ret;
	if (fallocate(g->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len))
		return -errno;
	return 0;
}

const struct gmem_backend_ops gmem__backend_emulated = {
	.name = "emulated",
	.probe = emulated_probe,
	.create = emulated_create,
	.destroy = emulated_destroy,
	.punch_hole = emulated_punch_hole,
};
