/* SPDX-License-Identifier: MIT */
/*
 * The memslot rules an emulated guest_memfd binding follows
 * (compat/memslot.c), as a function of the VM's recorded slots alone, so
 * that fuzz/fuzz_memslot.c drives it without a kernel.
 */
#include <errno.h>

#include "compat.h"
#include "gmem/uapi.h"

#define PG GMEM_PAGE_SIZE
#define SLOT_ID(s) ((s) & 0xffff)
#define SLOT_AS(s) ((s) >> 16)
/* KVM_USER_MEM_SLOTS and the address spaces of x86 (SMM has the second). */
#define MAX_USER_SLOTS 32764
#define MAX_AS 2
/* access_ok(): the user address space of x86-64 with 4-level paging. */
#define TASK_SIZE 0x7ffffffff000ULL

/* Is a slot other than r's in r's address space over any of r's GPAs? */
static bool overlaps(const struct compat_slot *slots,
		     const struct kvm_userspace_memory_region2 *r)
{
	uint64_t end = r->guest_phys_addr + r->memory_size;

	for (const struct compat_slot *s = slots; s; s = s->next)
		if (SLOT_AS(s->slot) == SLOT_AS(r->slot) && s->slot != r->slot &&
		    s->gpa < end && r->guest_phys_addr < s->gpa + s->size)
			return true;
	return false;
}

static bool slot_exists(const struct compat_slot *slots, uint32_t slot)
{
	for (const struct compat_slot *s = slots; s; s = s->next)
		if (s->slot == slot)
			return true;
	return false;
}

/*
 * __kvm_set_memory_region() and kvm_gmem_bind() of the series, in their
 * order, for a slot of an emulated guest_memfd: the flags (a guest_memfd
 * slot takes no other), the slot's numbers, alignment (of the userspace
 * address too, which the kernel checks for every slot) and overflow, then
 * deletion (the kernel's business: 0), an existing slot (guest_memfd slots
 * are immutable), an overlapping one (EEXIST), then the binding: f, a file
 * of this VM (NULL: not_gmem, -EINVAL for another file, -EBADF for none),
 * holds the range (EINVAL) and no other slot is bound to any of it
 * (EEXIST).
 */
/* The userspace address as __kvm_set_memory_region() takes it: page
 * aligned, the range inside the user address space (access_ok()). */
bool compat_memslot_uaddr_ok(const struct kvm_userspace_memory_region2 *r)
{
	uint64_t uend = r->userspace_addr + r->memory_size;

	return !(r->userspace_addr % PG) && uend >= r->userspace_addr && uend <= TASK_SIZE;
}

int compat_memslot_check(const struct compat_slot *slots,
			 const struct kvm_userspace_memory_region2 *r,
			 const struct compat_file *f, int not_gmem)
{
	uint64_t off = r->guest_memfd_offset, end = off + r->memory_size;

	if (r->flags != KVM_MEM_GUEST_MEMFD)
		return -EINVAL;
	if (SLOT_ID(r->slot) >= MAX_USER_SLOTS || SLOT_AS(r->slot) >= MAX_AS ||
	    r->memory_size % PG || r->guest_phys_addr % PG ||
	    !compat_memslot_uaddr_ok(r) || off % PG || end < off ||
	    r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return -EINVAL;
	if (!r->memory_size)
		return 0;
	if (slot_exists(slots, r->slot))
		return -EINVAL;
	if (overlaps(slots, r))
		return -EEXIST;
	if (!f)
		return not_gmem;
	if (end > f->size)
		return -EINVAL;
	for (const struct compat_slot *s = slots; s; s = s->next)
		if (s->f == f && s->offset < end && off < s->offset + s->size)
			return -EEXIST;
	return 0;
}
