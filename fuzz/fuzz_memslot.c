/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the memslot rules libgmem-compat applies to a binding
 * of its own guest_memfds (compat/memslot_check.c), over a sequence of
 * KVM_SET_USER_MEMORY_REGION2 requests on one VM with three files of
 * 16 pages (one belonging to another VM).  Each request is 16 bytes: slot
 * id (low byte) and address space (bit 0 of the next), flags, GPA and size
 * in pages, the file (0-2: the files, 3: a descriptor that is not a
 * guest_memfd, 4: a closed one) and the file offset in pages (a large
 * value when its top bit is set).  An accepted request is recorded as the
 * shim records it (a deletion removes the slot, as the kernel accepts it
 * only for an existing one).  Invariants, after every request:
 *   - the answer is 0, -EINVAL, -EEXIST or -EBADF, and -EBADF only for a
 *     closed descriptor, -EEXIST only where a slot overlaps;
 *   - accepted: flags are GUEST_MEMFD only, the range page-aligned and
 *     inside a file of this VM;
 *   - the recorded slots never overlap in an address space, and no two
 *     bind the same page of a file.
 */
#include <string.h>

#include "fuzz.h"
#include "../compat/compat.h"
#include "gmem/uapi.h"

#define PGS 4096ULL
#define NSLOTS 64

static struct compat_slot pool[NSLOTS];
static struct compat_slot *slots;
static struct compat_file files[3];

static uint64_t get16(const uint8_t *p) { return (uint64_t)p[0] | (uint64_t)p[1] << 8; }

static struct compat_slot *find(uint32_t slot, struct compat_slot ***pp)
{
	for (*pp = &slots; **pp; *pp = &(**pp)->next)
		if ((**pp)->slot == slot)
			return **pp;
	return NULL;
}

static void check_records(void)
{
	for (const struct compat_slot *a = slots; a; a = a->next) {
		for (const struct compat_slot *b = a->next; b; b = b->next) {
			if ((a->slot >> 16) == (b->slot >> 16) &&
			    a->gpa < b->gpa + b->size && b->gpa < a->gpa + a->size)
				FAIL("slots %#x and %#x overlap", a->slot, b->slot);
			if (a->f == b->f && a->offset < b->offset + b->size &&
			    b->offset < a->offset + a->size)
				FAIL("slots %#x and %#x bind the same pages", a->slot, b->slot);
		}
		if (a->offset + a->size > a->f->size || a->offset % PGS || a->size % PGS)
			FAIL("slot %#x binds past its file", a->slot);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct compat_vm vm, other;
	size_t used = 0;

	memset(&vm, 0, sizeof(vm));
	memset(&other, 0, sizeof(other));
	memset(files, 0, sizeof(files));
	slots = NULL;
	for (int i = 0; i < 3; i++) {
		files[i].size = 16 * PGS;
		files[i].cvm = i == 2 ? &other : &vm;
	}
	for (; size >= 16; data += 16, size -= 16) {
		struct kvm_userspace_memory_region2 r;
		struct compat_slot **pp, *s;
		const struct compat_file *f = NULL;
		unsigned which = data[10] % 5;
		int not_gmem = which == 4 ? -EBADF : -EINVAL, ret;
		bool overlap = false;

		memset(&r, 0, sizeof(r));
		r.slot = data[0] | (uint32_t)(data[1] & 1) << 16;
		r.flags = data[2] & 1 ? KVM_MEM_GUEST_MEMFD : data[2];
		r.guest_phys_addr = get16(data + 3) * PGS + (data[9] & 1 ? 1 : 0);
		r.memory_size = get16(data + 5) % 64 * PGS;
		r.guest_memfd_offset = data[8] & 0x80 ? ~0ULL - get16(data + 11)
						      : get16(data + 11) % 32 * PGS;
		if (which < 2)
			f = &files[which];
		/* The shim passes the file only if it is this VM's. */
		ret = compat_memslot_check(slots, &r, f, which == 2 ? -EINVAL : not_gmem);
		for (const struct compat_slot *o = slots; o; o = o->next)
			overlap |= (o->slot >> 16) == (r.slot >> 16) && o->slot != r.slot &&
				   o->gpa < r.guest_phys_addr + r.memory_size &&
				   r.guest_phys_addr < o->gpa + o->size;
		if (ret && ret != -EINVAL && ret != -EEXIST && ret != -EBADF)
			FAIL("answer %d", ret);
		if (ret == -EBADF && which != 4)
			FAIL("EBADF for an open descriptor");
		if (ret == -EEXIST && !overlap)
			FAIL("EEXIST without an overlapping slot");
		if (ret)
			continue;
		if (r.flags != KVM_MEM_GUEST_MEMFD)
			FAIL("flags %#x accepted", r.flags);
		s = find(r.slot, &pp);
		if (!r.memory_size) {		/* the kernel deletes an existing slot */
			if (s)
				*pp = s->next;
			continue;
		}
		if (!f || r.guest_memfd_offset % PGS || r.guest_phys_addr % PGS ||
		    r.guest_memfd_offset + r.memory_size > f->size)
			FAIL("a binding of %s accepted", f ? "a range past the file" : "no file");
		if (s)
			FAIL("slot %#x set twice", r.slot);
		if (used == NSLOTS)
			continue;
		s = &pool[used++];
		*s = (struct compat_slot){
			.slot = r.slot, .gpa = r.guest_phys_addr, .size = r.memory_size,
			.offset = r.guest_memfd_offset, .f = (struct compat_file *)f,
			.next = slots,
		};
		slots = s;
		check_records();
	}
	return 0;
}
