/* SPDX-License-Identifier: MIT */
/*
 * KVM_SET_MEMORY_ATTRIBUTES on the VM fd is all or nothing, as the
 * kernel's kvm_vm_set_mem_attributes() is (it reserves everything before
 * it changes anything): a KVM_X86_SW_PROTECTED_VM, then a KVM_X86_SNP_VM,
 * has two memslots on two guest_memfds, each mapped by the program; a
 * conversion to private that spans both fails in the second (libgmem-compat's documented limit: a
 * host mapping split past vm.max_map_count is ENOMEM), and the first file
 * is left as it was: shared, with its bytes, the same as the second.  A
 * kernel converting in place has no such limit: this program is run with
 * the shim only.
 */
#include <stdbool.h>

#include "uapi_test.h"

#define NPG   4ULL			/* pages of each file */
#define GPA_A 0x100000ULL
#define GPA_B (GPA_A + NPG * PG)

static void memslot(int vm, uint32_t slot, uint64_t gpa, int fd, uint64_t off,
		    uint64_t size, void *host)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = slot, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)host,
		.guest_memfd = (uint32_t)fd, .guest_memfd_offset = off,
	};

	TEST_ASSERT(!ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r), "memslot %u", slot);
}

/* KVM_SET_MEMORY_ATTRIBUTES on the VM fd: 0 or errno. */
static int vm_set_attrs(int vm, uint64_t gpa, uint64_t size, uint64_t attrs)
{
	struct kvm_memory_attributes a = {
		.address = gpa, .size = size, .attributes = attrs,
	};

	return ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &a) ? errno : 0;
}

/* Are all pages of p shared, each with its byte (tag + page)? */
static bool intact(uint8_t *p, uint8_t tag)
{
	for (uint64_t i = 0; i < NPG; i++)
		if (peek(p + i * PG) != (uint8_t)(tag + i))
			return false;
	return true;
}

static bool all_private(uint8_t *p, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++)
		if (peek(p + i * PG) >= 0)
			return false;
	return true;
}

/* The whole scenario on a VM of the given type. */
static void scenario(int kvm, unsigned long type, const char *name, long limit)
{
	uint64_t fill_pages, i;
	uint8_t *a, *b, *fill;
	bool a_intact, b_intact;
	int vm, fa, fb, e;

	vm = ioctl(kvm, KVM_CREATE_VM, type);
	TEST_ASSERT(vm >= 0, "KVM_CREATE_VM(%s)", name);
	fa = gmem_create_fd(vm, NPG * PG, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	fb = gmem_create_fd(vm, NPG * PG, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	a = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
	b = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fb, 0);
	TEST_ASSERT(a != MAP_FAILED && b != MAP_FAILED, "mmap");
	/* A whole at GPA_A; B from its second page on at GPA_B, so that a
	 * range ending in B's second page is inside the program's mapping of
	 * B (covering it splits the mapping in three). */
	memslot(vm, 0, GPA_A, fa, 0, NPG * PG, a);
	memslot(vm, 1, GPA_B, fb, PG, (NPG - 1) * PG, b + PG);
	for (i = 0; i < NPG; i++) {
		a[i * PG] = (uint8_t)(0xa0 + i);
		b[i * PG] = (uint8_t)(0xb0 + i);
	}

	/* Every mapping of the process up to the bound: pages of one
	 * reservation, each with a protection unlike both neighbours', split
	 * off one by one until the next split is refused. */
	fill_pages = (uint64_t)limit + 64;
	fill = mmap(NULL, fill_pages * PG, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(fill != MAP_FAILED, "reservation of %llu pages",
		    (unsigned long long)fill_pages);
	for (i = 0; i < fill_pages; i++)
		if (mprotect(fill + i * PG, PG, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE))
			break;
	TEST_ASSERT(i < fill_pages && errno == ENOMEM,
		    "vm.max_map_count reached (%llu pages split off)", (unsigned long long)i);

	/* All of A (its mapping covered whole: no new mapping) and B's
	 * second page (a split: refused).  Nothing may change, A included.
	 * Results are only printed once mappings are free again. */
	e = vm_set_attrs(vm, GPA_A, NPG * PG + PG, PRIVATE);
	a_intact = intact(a, 0xa0);
	b_intact = intact(b, 0xb0);
	munmap(fill, fill_pages * PG);

	ok(e == ENOMEM, "%s: a VM-fd conversion spanning both memslots fails in the "
	   "second at vm.max_map_count with ENOMEM (%s)", name,
	   e ? ename(e) : "it succeeded");
	ok(a_intact, "%s: the first file is unchanged: every page shared, with its bytes",
	   name);
	ok(b_intact, "%s: the second file is unchanged: every page shared, with its bytes",
	   name);
	/* The library has A shared too: a to-shared conversion of A changes
	 * no byte (one of a private page would, UNSPECIFIED, under seed). */
	set_attrs(fa, 0, NPG * PG, SHARED, 0);
	ok(intact(a, 0xa0), "%s: KVM_SET_MEMORY_ATTRIBUTES2 to shared on the first "
	   "file is a no-op: the bytes stay", name);

	e = vm_set_attrs(vm, GPA_A, NPG * PG + PG, PRIVATE);
	ok(!e && all_private(a, NPG) && peek(b) == 0xb0 && all_private(b + PG, 1) &&
	   peek(b + 2 * PG) == 0xb2,
	   "%s: with mappings free, the same conversion succeeds: all of A and B's "
	   "second page private, the rest of B shared (%s)", name,
	   e ? ename(e) : "no error");

	munmap(a, NPG * PG);
	munmap(b, NPG * PG);
	close(fa);
	close(fb);
	close(vm);
}

int main(void)
{
	long limit = max_map_count(), types;
	int kvm;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_REQUIRE(kvm >= 0, "/dev/kvm: %s", strerror(errno));
	TEST_REQUIRE(limit > 0 && limit <= 262144,
		     "vm.max_map_count is %ld: too many mappings to reach it", limit);
	plan_lazy();
	sigbus_catch();

	types = require_sw_protected(kvm);
	scenario(kvm, KVM_X86_SW_PROTECTED_VM, "sw_protected", limit);
	ok(types & (1L << KVM_X86_SNP_VM), "KVM_CAP_VM_TYPES lists KVM_X86_SNP_VM");
	if (types & (1L << KVM_X86_SNP_VM))
		scenario(kvm, KVM_X86_SNP_VM, "snp", limit);
	close(kvm);
	return done();
}
