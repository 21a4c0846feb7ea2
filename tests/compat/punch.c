/* SPDX-License-Identifier: MIT */
/*
 * Hole punching on a guest_memfd keeps attributes, through the uAPI only:
 * a punched shared page reads zero and stays shared, a punched private page
 * stays private and comes back as zeros; the kernel's fallocate rules
 * (alignment, KEEP_SIZE, ranges past the end) hold.
 */
#include <sys/stat.h>

#include "uapi_test.h"

#define NPAGES 8
#define SIZE (NPAGES * PG)
#define PUNCH (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)

static int fa(int fd, int mode, uint64_t off, uint64_t len)
{
	return fallocate(fd, mode, (off_t)off, (off_t)len) ? errno : 0;
}

int main(void)
{
	struct kvm_env k;
	uint8_t *p;
	int fd, e;

	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	fd = gmem_create_fd(k.vm_fd, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	require_inplace(fd, SHARED);
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(p != MAP_FAILED, "mmap");
	memset(p, 0x11, SIZE);

	ok(!fa(fd, PUNCH, 0, PG), "PUNCH_HOLE | KEEP_SIZE of a shared page");
	ok(peek(p) == 0 && peek(p + PG - 1) == 0 && peek(p + PG) == 0x11,
	   "it reads zero, its neighbour keeps its bytes");
	ok(poke(p, 0x22) == 0 && peek(p) == 0x22, "and it is still shared (writable)");

	set_attrs(fd, 2 * PG, 2 * PG, PRIVATE, F_PRESERVE);
	ok(!fa(fd, PUNCH, 2 * PG, PG), "PUNCH_HOLE of a private page");
	ok(peek(p + 2 * PG) < 0, "it stays private (SIGBUS)");
	set_attrs(fd, 2 * PG, 2 * PG, SHARED, F_PRESERVE);
	ok(peek(p + 2 * PG) == 0 && peek(p + 3 * PG) == 0x11,
	   "converted back: the punched page reads zero, the other kept its bytes");

	e = fa(fd, PUNCH, PG / 2, PG);
	ok(e == EINVAL, "unaligned offset: EINVAL (%s)", ename(e));
	e = fa(fd, PUNCH, 0, PG / 2);
	ok(e == EINVAL, "unaligned length: EINVAL (%s)", ename(e));
	e = fa(fd, PUNCH, 0, 0);
	ok(e == EINVAL, "length 0: EINVAL (%s)", ename(e));
	e = fa(fd, FALLOC_FL_PUNCH_HOLE, 0, PG);
	ok(e == EOPNOTSUPP, "PUNCH_HOLE without KEEP_SIZE: EOPNOTSUPP (%s)", ename(e));
	e = fa(fd, PUNCH, SIZE - PG, 4 * PG);
	ok(!e && peek(p + SIZE - PG) == 0 && peek(p + SIZE - 2 * PG) == 0x11,
	   "a range past the end is clipped (%s)", e ? ename(e) : "ok");
	e = fa(fd, FALLOC_FL_KEEP_SIZE, 4 * PG, 2 * PG);
	ok(!e && peek(p + 4 * PG) == 0x11, "allocation (KEEP_SIZE) changes nothing (%s)",
	   e ? ename(e) : "ok");
	/* kvm_gmem_fallocate(): the file never grows. */
	e = fa(fd, 0, 0, PG);
	ok(e == EOPNOTSUPP, "allocation without KEEP_SIZE: EOPNOTSUPP (%s)", ename(e));
	e = fa(fd, FALLOC_FL_KEEP_SIZE, SIZE, PG);
	ok(e == EINVAL, "allocation at the end: EINVAL (%s)", ename(e));
	e = fa(fd, FALLOC_FL_KEEP_SIZE, SIZE - PG, 2 * PG);
	ok(e == EINVAL, "allocation past the end: EINVAL (%s)", ename(e));
	e = fa(fd, FALLOC_FL_KEEP_SIZE, PG - 1, PG);
	ok(e == EINVAL, "unaligned allocation: EINVAL (%s)", ename(e));
	e = fa(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE, 0, PG);
	ok(e == EOPNOTSUPP, "ZERO_RANGE: EOPNOTSUPP (%s)", ename(e));
	e = fa(fd, PUNCH, SIZE + PG, PG);
	ok(!e, "a punch after the end does nothing (%s)", e ? ename(e) : "ok");
	{
		struct stat st;
		char b[8], path[32], link[64] = "";

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (readlink(path, link, sizeof(link) - 1) < 0)
			strcpy(link, "?");
		diag("the guest_memfd is %s", link);

		ok(!fstat(fd, &st) && st.st_size == (off_t)SIZE && st.st_blksize == (blksize_t)PG,
		   "fstat: the file's size, a page as block size");
		ok(read(fd, b, sizeof(b)) < 0 && write(fd, b, sizeof(b)) < 0 &&
		   pread(fd, b, sizeof(b), 0) < 0 && pwrite(fd, b, sizeof(b), 0) < 0,
		   "read, write, pread and pwrite fail");
		ok(madvise(p, SIZE, MADV_COLLAPSE) < 0 && errno == EINVAL,
		   "MADV_COLLAPSE of a mapping: EINVAL (no huge pages)");
		ok(fstat(fd, &st) == 0 && st.st_size == (off_t)SIZE, "and the size is still the same");
	}
	set_attrs(fd, 5 * PG, PG, PRIVATE, F_PRESERVE);
	e = fa(fd, PUNCH, 0, SIZE);
	ok(!e && peek(p + 5 * PG) < 0 && peek(p + 4 * PG) == 0,
	   "punching the whole file keeps each page's attributes");

	munmap(p, SIZE);
	close(fd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
