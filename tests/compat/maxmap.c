/* SPDX-License-Identifier: MIT */
/*
 * libgmem-compat's mappings past vm.max_map_count (docs/compat.md).
 *
 * Where a private run of a host mapping is a VMA of its own (a cover: the
 * kernel's guest_memfd, which userfaultfd cannot register, or a kernel
 * without UFFDIO_POISON), the VMAs are bounded by vm.max_map_count.  A
 * conversion that would pass the bound fails with ENOMEM and
 * error_offset = offset, and changes nothing: the page stays shared with
 * its bytes, the mapping keeps working, and a conversion that merges runs
 * succeeds afterwards.  Run so with GMEM_VIEW_NO_MARKERS=1.
 *
 * On the shim's own guest_memfd private pages take poison markers instead
 * (GMEM_MAXMAP=markers): twice as many interleaved private runs as the
 * bound all convert, each private page raises SIGBUS, each shared one
 * keeps its bytes, and the mapping stays one VMA.  SKIP where the kernel
 * has no UFFDIO_POISON.  A kernel converting in place has no limit at all:
 * this program is run with the shim only.
 */
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <sys/syscall.h>

#include "uapi_test.h"

/* Does this kernel give poison markers (userfaultfd, UFFDIO_POISON)? */
static bool kernel_has_poison(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_POISON };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	bool ok;

	if (fd < 0)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = !ioctl(fd, UFFDIO_API, &api) && (api.features & UFFD_FEATURE_POISON);
	close(fd);
	return ok;
}

/* The VMAs of /proc/self/maps inside [p, p + size). */
static long vmas_in(const uint8_t *p, uint64_t size)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long s, e;
	char line[512];
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 &&
		    s < (uintptr_t)p + size && e > (uintptr_t)p)
			n++;
	fclose(f);
	return n;
}

/* A guest_memfd of npages, every page shared, mapped whole (*fd: it). */
static uint8_t *map_file(struct kvm_env *k, uint64_t npages, int *fd)
{
	uint8_t *p;

	plan_lazy();
	sigbus_catch();
	kvm_env_open(k);
	*fd = gmem_create_fd(k->vm_fd, npages * PG,
			     GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	require_inplace(*fd, SHARED);
	p = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 *fd, 0);
	TEST_ASSERT(p != MAP_FAILED, "mmap of %llu pages", (unsigned long long)npages);
	return p;
}

static int markers(uint64_t npages, long limit)
{
	uint64_t size = npages * PG, page;
	struct kvm_env k;
	uint8_t *p;
	int fd, e = 0, bad = 0;

	TEST_REQUIRE(kernel_has_poison(), "this kernel has no UFFDIO_POISON: "
		     "private runs take covers, bounded by vm.max_map_count");
	p = map_file(&k, npages, &fd);
	for (page = 0; page < npages && !e; page += 2) {
		p[page * PG] = 0xa5;		/* shared, kept */
		p[(page + 1) * PG] = 0xc3;	/* private next, then punched */
		e = set_attrs_err(fd, (page + 1) * PG, PG, PRIVATE, F_PRESERVE, NULL);
		if (!e)
			TEST_ASSERT(!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					       (off_t)((page + 1) * PG), (off_t)PG), "punch");
	}
	ok(!e, "%llu interleaved private runs, twice vm.max_map_count (%ld), all convert (%s)",
	   (unsigned long long)npages / 2, limit, e ? ename(e) : "ok");
	for (page = 0; page < npages; page += 2)
		bad += peek(p + page * PG) != 0xa5 || peek(p + (page + 1) * PG) >= 0;
	ok(!bad, "every private page raises SIGBUS, every shared one keeps its bytes (%d wrong)", bad);
	ok(vmas_in(p, size) == 1, "the mapping is still one VMA (%ld)", vmas_in(p, size));
	set_attrs(fd, 0, size, SHARED, F_PRESERVE);
	ok(peek(p) == 0xa5 && peek(p + PG) == 0 && peek(p + size - PG) == 0,
	   "converted back in one call: every page shared (zero where punched)");
	munmap(p, size);
	close(fd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}

int main(void)
{
	long limit = max_map_count();
	uint64_t npages, size, page, eo = 0;
	struct kvm_env k;
	uint8_t *p;
	void *spare;
	int fd, spare_fd, e = 0;

	TEST_REQUIRE(limit > 0 && limit <= 262144,
		     "vm.max_map_count is %ld: too many conversions to reach it", limit);
	npages = (uint64_t)limit * 2 + 64;
	if (getenv("GMEM_MAXMAP") && !strcmp(getenv("GMEM_MAXMAP"), "markers"))
		return markers(npages * 2, limit);
	size = npages * PG;
	p = map_file(&k, npages, &fd);
	/* One VMA of headroom, given back once the limit is reached: the
	 * kernel checks the count before it merges, so whether a merging
	 * conversion at exactly the limit passes would otherwise depend on
	 * where ASLR put the mapping.  A page of a memfd of its own never
	 * merges with anything. */
	spare_fd = memfd_create("maxmap-spare", MFD_CLOEXEC);
	TEST_ASSERT(spare_fd >= 0 && !ftruncate(spare_fd, PG), "spare memfd");
	spare = mmap(NULL, PG, PROT_READ, MAP_SHARED, spare_fd, 0);
	TEST_ASSERT(spare != MAP_FAILED, "spare mapping");

	/* Every other page private: two more VMAs each, until the bound.
	 * Each page is written first, and freed once private (a hole punch
	 * keeps its attribute) so that the test holds one page at a time. */
	for (page = 1; page < npages; page += 2) {
		p[page * PG] = 0xc3;
		e = set_attrs_err(fd, page * PG, PG, PRIVATE, F_PRESERVE, &eo);
		if (e)
			break;
		TEST_ASSERT(!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       (off_t)(page * PG), (off_t)PG), "punch");
	}
	diag("%llu pages made private before the conversion failed (vm.max_map_count %ld)",
	     (unsigned long long)page / 2, limit);
	ok(e == ENOMEM, "the conversion past vm.max_map_count fails with ENOMEM (%s)",
	   e ? ename(e) : "it never failed");
	if (e != ENOMEM)
		return done();
	ok(eo == page * PG, "error_offset is the offset of the request");
	ok(peek(p + page * PG) == 0xc3 && !poke(p + page * PG, 0x3c),
	   "nothing changed: the page is still shared, with its bytes");
	ok(peek(p + (page - 2) * PG) < 0 && peek(p + (page - 1) * PG) == 0,
	   "the pages converted before keep their states");
	munmap(spare, PG);
	close(spare_fd);
	set_attrs(fd, 0, size, PRIVATE, F_PRESERVE);
	ok(peek(p) < 0 && peek(p + size - PG) < 0,
	   "with one VMA freed elsewhere, converting the whole file (merging the runs) succeeds");
	set_attrs(fd, 0, size, SHARED, F_PRESERVE);
	ok(peek(p + page * PG) == 0x3c && peek(p + PG) == 0 && peek(p + 2 * PG) == 0,
	   "and back: every page shared, with its bytes (zero where punched)");

	munmap(p, size);
	close(fd);
	close(k.vm_fd);
	close(k.kvm_fd);
	return done();
}
