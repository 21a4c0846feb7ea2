/* SPDX-License-Identifier: MIT */
/*
 * The guest's view.  An access whose private/shared intent does not match
 * the page's attributes is a memory fault (the KVM_EXIT_MEMORY_FAULT
 * analogue): nothing is transferred and the faulting page is reported, so
 * the VMM can convert and retry.  Private accesses go through the platform
 * (decryption, RMP / S-EPT checks).
 */
#include <string.h>

#include "internal.h"
#include "platform/platform.h"

static void set_fault(struct gmem *g, struct gmem_memory_fault *f,
		      uint64_t off, uint64_t len, unsigned access, uint64_t why)
{
	if (!f)
		return;
	f->offset = off & ~(PAGE_SIZE - 1);
	f->gpa = g->gpa + f->offset;
	f->size = len;
	f->flags = why | ((access & GMEM_ACCESS_WRITE) ? GMEM_FAULT_WRITE : 0) |
		   ((access & GMEM_ACCESS_PRIVATE) ? GMEM_FAULT_PRIVATE : 0);
}

/* First page of [off, end) whose attributes differ from `want`, or end. */
static uint64_t first_mismatch(struct gmem *g, uint64_t off, uint64_t end,
			       unsigned want, uint64_t *run_end)
{
	uint64_t p = off & ~(PAGE_SIZE - 1), e;

	while (p < end) {
		if (rs_lookup(g->attrs, p, &e) != want) {
			*run_end = e;
			return p < off ? off : p;
		}
		p = e;
	}
	return end;
}

static int access_private(struct gmem *g, uint64_t off, uint8_t *buf,
			  uint64_t len, unsigned access, bool exclusive,
			  struct gmem_memory_fault *f)
{
	const struct gmem_platform *plat = g->vm->plat;
	bool write = access & GMEM_ACCESS_WRITE;

	while (len) {
		uint64_t n = PAGE_SIZE - (off & (PAGE_SIZE - 1));
		int ret;

		if (n > len)
			n = len;
		if (plat->guest_private) {
			ret = plat->guest_private(g, off, buf, n, write,
						  exclusive, f);
			if (ret == -EBUSY)
				return ret;
			if (ret) {
				if (f) {
					uint64_t why = f->flags;
					set_fault(g, f, off, PAGE_SIZE, access, why);
				}
				return ret;
			}
		} else if (write) {
			memcpy(g->mem + off, buf, n);
		} else {
			gmem__phys_read(g, off, buf, n);
		}
		off += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int gmem_guest_access_fault(struct gmem *g, uint64_t offset, void *buf,
			    uint64_t len, unsigned access,
			    struct gmem_memory_fault *fault)
{
	unsigned rw = access & (GMEM_ACCESS_READ | GMEM_ACCESS_WRITE);
	unsigned want = (access & GMEM_ACCESS_PRIVATE) ? GMEM_ATTR_PRIVATE : 0;
	uint64_t end = offset + len, bad, run_end;
	bool exclusive = false;
	int ret = 0;

	if (!g || !buf)
		return -EFAULT;
	if ((access & ~(GMEM_ACCESS_READ | GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE)) ||
	    (rw != GMEM_ACCESS_READ && rw != GMEM_ACCESS_WRITE) ||
	    !len || end < offset || end > g->size)
		return -EINVAL;
	if (fault)
		memset(fault, 0, sizeof(*fault));
	if (g->backend->kernel_enforces)
		return -EOPNOTSUPP;	/* only a real vCPU reaches private pages */

	/* Accesses are readers of the invalidate lock: they run in parallel
	 * with each other and never see a half-done conversion. */
	pthread_rwlock_rdlock(&g->lock);
again:
	bad = first_mismatch(g, offset, end, want, &run_end);
	if (bad < end) {
		/* Whole pages, as KVM_EXIT_MEMORY_FAULT reports them: the run
		 * of mismatching pages, clipped to the pages accessed. */
		uint64_t last = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

		set_fault(g, fault, bad,
			  (run_end < last ? run_end : last) - (bad & ~(PAGE_SIZE - 1)),
			  access, 0);
		ret = -EFAULT;
	} else if (want) {
		ret = access_private(g, offset, buf, len, access, exclusive, fault);
		if (ret == -EBUSY && !exclusive) {
			/* The vendor state must change (an accept): retry as
			 * the writer.  Pages already done are done again:
			 * reads are idempotent, writes rewrite the same bytes. */
			pthread_rwlock_unlock(&g->lock);
			pthread_rwlock_wrlock(&g->lock);
			exclusive = true;
			ret = 0;
			goto again;
		}
	} else if (rw == GMEM_ACCESS_WRITE) {
		memcpy(g->mem + offset, buf, len);
	} else {
		gmem__phys_read(g, offset, buf, len);
	}
	pthread_rwlock_unlock(&g->lock);
	return ret;
}

int gmem_guest_access(struct gmem *g, uint64_t offset, void *buf,
		      uint64_t len, unsigned access)
{
	return gmem_guest_access_fault(g, offset, buf, len, access, NULL);
}

int gmem_physical_read(struct gmem *g, uint64_t offset, void *buf,
		       uint64_t len)
{
	if (!g || !buf)
		return -EFAULT;
	if (!len || offset + len < offset || offset + len > g->size)
		return -EINVAL;
	if (g->backend->kernel_enforces)
		return -EOPNOTSUPP;
	pthread_rwlock_rdlock(&g->lock);
	gmem__phys_read(g, offset, buf, len);
	pthread_rwlock_unlock(&g->lock);
	return 0;
}
