/* SPDX-License-Identifier: MIT */
/*
 * libgmem-compat's documented limit (docs/compat.md): each run of equal
 * attributes in a host mapping is a VMA, bounded by vm.max_map_count.  A
 * conversion that would pass the bound fails with ENOMEM and
 * error_offset = offset, and changes nothing: the page stays shared with
 * its bytes, the mapping keeps working, and a conversion that merges runs
 * succeeds afterwards.  A kernel converting in place has no such limit:
 * this program is run with the shim only.
 */
#include "uapi_test.h"

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
	size = npages * PG;
	plan_lazy();
	sigbus_catch();
	kvm_env_open(&k);
	fd = gmem_create_fd(k.vm_fd, size, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	require_inplace(fd, SHARED);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	TEST_ASSERT(p != MAP_FAILED, "mmap of %llu pages", (unsigned long long)npages);
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
