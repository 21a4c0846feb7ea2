/* SPDX-License-Identifier: MIT */
/* Benchmark fixtures (see gfix.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "suite/gfix.h"

int gfix_create(struct gfix *f, const char *backend, const char *platform,
		uint64_t size, bool private)
{
	const char *old = getenv("GMEM_BACKEND");
	char *saved = old ? strdup(old) : NULL;
	uint64_t flags = GMEM_FLAG_MMAP | (private ? 0 : GMEM_FLAG_INIT_SHARED);
	int ret;

	memset(f, 0, sizeof(*f));
	f->size = size;
	/* The backend is chosen per VM when it is created. */
	setenv("GMEM_BACKEND", backend, 1);
	ret = gmem_vm_create(&f->vm, platform, NULL);
	if (saved)
		setenv("GMEM_BACKEND", saved, 1);
	else
		unsetenv("GMEM_BACKEND");
	free(saved);
	if (ret)
		return ret;
	ret = gmem_create(f->vm, size, flags, &f->g);
	if (!ret) {
		f->view = gmem_mmap(f->g);
		if (!f->view)
			ret = -errno;
	}
	if (ret)
		gfix_destroy(f);
	return ret;
}

void gfix_destroy(struct gfix *f)
{
	gmem_destroy(f->g);
	gmem_vm_destroy(f->vm);
	memset(f, 0, sizeof(*f));
}

int gfix_convert(struct gfix *f, uint64_t off, uint64_t len, bool to_private,
		 uint64_t mode)
{
	return gmem_convert(f->g, off, len, to_private ? GMEM_ATTR_PRIVATE : 0,
			    mode, NULL);
}

int gfix_guest_touch(struct gfix *f, uint64_t off, uint64_t len)
{
	uint64_t v = 0x600d;

	for (uint64_t p = off; p < off + len; p += 4096) {
		int ret = gmem_guest_access(f->g, p, &v, sizeof(v),
					    GMEM_ACCESS_WRITE |
					    GMEM_ACCESS_PRIVATE);
		if (ret)
			return ret;
	}
	return 0;
}

int gfix_guest_fill(struct gfix *f, uint64_t off, uint64_t len)
{
	static uint8_t chunk[1 << 20];
	uint64_t end = off + len;

	memset(chunk, 0xa5, sizeof(chunk));
	while (off < end) {
		uint64_t n = end - off < sizeof(chunk) ? end - off : sizeof(chunk);
		int ret = gmem_guest_access(f->g, off, chunk, n,
					    GMEM_ACCESS_WRITE |
					    GMEM_ACCESS_PRIVATE);
		if (ret)
			return ret;
		off += n;
	}
	return 0;
}

int gfix_prepare(struct gfix *f, uint64_t off, uint64_t len, bool private,
		 bool populated)
{
	int ret = gfix_convert(f, off, len, private, GMEM_CONTENT_PRESERVE);

	if (!ret)
		ret = gmem_punch_hole(f->g, off, len);
	if (ret || !populated)
		return ret;
	if (private)
		return gfix_guest_fill(f, off, len);
	bench_fill(f->view + off, len, 0x5a);
	return 0;
}
