/* SPDX-License-Identifier: MIT */
/*
 * Intel TDX: the Secure EPT and the TDX module's measurement.
 *
 * Per page, the S-EPT entry is unmapped or mapped.  Before finalize the VMM
 * adds pages with TDH.MEM.PAGE.ADD (in place: the page's own bytes are the
 * source), optionally measured with TDH.MR.EXTEND, into MRTD.  After
 * TDH.MR.FINALIZE the guest accepts pages: TDH.MEM.PAGE.AUG hands out a
 * zeroed page (TDX module base spec, "Dynamic Page Addition").
 *
 * Removing a page from the S-EPT (TDH.MEM.PAGE.REMOVE on conversion to
 * shared) leaves it cleared (KVM's tdx_clear_page()): so PRESERVE to-shared
 * cannot be given (-EOPNOTSUPP, from the policy table), and a ZERO
 * to-shared need not memset the pages that were mapped — they are counted
 * in pages_zero_skipped instead.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "crypt.h"
#include "platform/platform.h"
#include "platform/tdx_mr.h"

struct tdx_vm {
	struct gmem_crypt *crypt;
	struct gmem_tdx_mr *mr;
	uint8_t mrtd[48];
};

static struct tdx_vm *tdx(struct gmem_vm *vm) { return vm->plat_priv; }

static int tdx_vm_init(struct gmem_vm *vm)
{
	struct tdx_vm *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	ret = gmem__crypt_create(&t->crypt, NULL);
	if (!ret) {
		ret = gmem__tdx_mr_init(&t->mr);
		if (ret)
			gmem__crypt_destroy(t->crypt);
	}
	if (ret) {
		free(t);
		return ret;
	}
	vm->plat_priv = t;
	return 0;
}

static void tdx_vm_fini(struct gmem_vm *vm)
{
	struct tdx_vm *t = tdx(vm);

	gmem__tdx_mr_destroy(t->mr);
	gmem__crypt_destroy(t->crypt);
	free(t);
	vm->plat_priv = NULL;
}

static int tdx_finalize(struct gmem_vm *vm)
{
	return gmem__tdx_mr_finalize(tdx(vm)->mr, tdx(vm)->mrtd);
}

/* The S-EPT unmap clears the page (KVM's tdx_clear_page()): one pass of
 * memory bandwidth, modelled as a memset of the populated pages through
 * the mapping that holds their entries.  A ZERO conversion then skips its
 * own, second pass. */
static void sept_unmap_clear(struct gmem *g, uint64_t off, uint64_t len)
{
	gmem__clear_range(g, off, len);
}

struct unmap_ctx {
	struct gmem *g;
	uint64_t mode;
};

static int unmap_run(uint64_t s, uint64_t e, unsigned state, void *arg)
{
	struct unmap_ctx *c = arg;

	if (state == GMEM_SEPT_MAPPED) {
		sept_unmap_clear(c->g, s, e - s);
		if (c->mode == GMEM_CONTENT_ZERO)
			c->g->stats.pages_zero_skipped += (e - s) >> PAGE_SHIFT;
	} else if (c->mode == GMEM_CONTENT_ZERO) {
		gmem__zero_range(c->g, s, e - s);
	}
	return 0;
}

static void tdx_to_shared(struct gmem *g, uint64_t off, uint64_t len,
			  uint64_t mode)
{
	struct unmap_ctx c = { .g = g, .mode = mode };

	rs_for_each(g->vendor, off, off + len, unmap_run, &c);
}

/* Not in the S-EPT until added or accepted; the accept zeroes anyway, and
 * ZERO makes a later in-place TDH.MEM.PAGE.ADD see zeros too. */
static void tdx_to_private(struct gmem *g, uint64_t off, uint64_t len,
			   uint64_t mode)
{
	gmem__content_apply(g, off, len, mode, false);
}

/* TDG.MEM.PAGE.ACCEPT of a page not yet in the S-EPT: TDH.MEM.PAGE.AUG
 * maps a zeroed private page. */
static int tdx_accept(struct gmem *g, uint64_t page)
{
	static const uint8_t zero[PAGE_SIZE];
	int ret = rs_reserve(g->vendor, 2);	/* the accept and its undo */

	if (ret)
		return ret;
	ret = gmem__crypt_page(tdx(g->vm)->crypt, g->gpa + page, zero,
			       g->mem + page, 1);
	if (!ret)
		rs_set(g->vendor, page, page + PAGE_SIZE, GMEM_SEPT_MAPPED);
	return ret;
}

static int tdx_guest_private(struct gmem *g, uint64_t off, void *buf,
			     uint64_t len, bool write, bool exclusive,
			     struct gmem_memory_fault *f)
{
	struct tdx_vm *t = tdx(g->vm);
	uint64_t page = off & ~(PAGE_SIZE - 1), end;
	uint8_t old[PAGE_SIZE];
	bool accepted = false, was_allocated = false;
	int ret;

	if (rs_lookup(g->vendor, page, &end) != GMEM_SEPT_MAPPED) {
		if (!__atomic_load_n(&g->vm->finalized, __ATOMIC_ACQUIRE)) {
			if (f)	/* no AUG before TDH.MR.FINALIZE */
				f->flags = GMEM_FAULT_NOT_ACCEPTED;
			return -EFAULT;
		}
		if (!exclusive)
			return -EBUSY;
		/* Kept to undo the accept if the access itself fails. */
		was_allocated = gmem__page_allocated(g, page);
		if (was_allocated)
			memcpy(old, g->mem + page, PAGE_SIZE);
		ret = tdx_accept(g, page);
		if (ret)
			return ret;
		accepted = true;
	}
	ret = gmem__crypt_access(t->crypt, g, off, buf, len, write);
	if (ret && accepted) {
		if (was_allocated)
			memcpy(g->mem + page, old, PAGE_SIZE);
		else if (g->backend->punch_hole(g, page, PAGE_SIZE))
			memset(g->mem + page, 0, PAGE_SIZE);
		rs_set(g->vendor, page, page + PAGE_SIZE, GMEM_SEPT_UNMAPPED);
	}
	return ret;
}

const struct gmem_platform gmem__plat_tdx = {
	.name = "tdx",
	.id = GMEM_PLAT_TDX,
	.kvm_vm_type = 5,		/* KVM_X86_TDX_VM */
	.encrypts = true,
	.has_vendor_state = true,
	.vendor_initial = GMEM_SEPT_UNMAPPED,
	.vm_init = tdx_vm_init,
	.vm_fini = tdx_vm_fini,
	.finalize = tdx_finalize,
	.to_shared = tdx_to_shared,
	.to_private = tdx_to_private,
	.guest_private = tdx_guest_private,
};

int gmem_tdx_page_add(struct gmem *g, uint64_t offset, uint64_t len,
		      int measure)
{
	struct tdx_vm *t;
	uint64_t first_diff;
	uint8_t *backup = NULL;
	void *cp = NULL;
	int ret = 0;

	if (!g)
		return -EFAULT;
	if (g->vm->plat != &gmem__plat_tdx || !gmem__range_ok(g, offset, len))
		return -EINVAL;
	t = tdx(g->vm);
	pthread_mutex_lock(&g->vm->lock);
	pthread_rwlock_wrlock(&g->lock);
	if (g->vm->finalized ||
	    !rs_all_equal(g->attrs, offset, offset + len, GMEM_ATTR_PRIVATE, &first_diff) ||
	    !rs_all_equal(g->vendor, offset, offset + len, GMEM_SEPT_UNMAPPED, &first_diff)) {
		ret = -EINVAL;
		goto out;
	}
	/* All or nothing: the plaintext and MRTD are kept until every page
	 * is added, and put back if one fails. */
	ret = rs_reserve(g->vendor, 1);
	if (ret)
		goto out;
	backup = malloc(len);
	if (!backup) {
		ret = -ENOMEM;
		goto out;
	}
	ret = gmem__tdx_mr_checkpoint(t->mr, &cp);
	if (ret)
		goto out;
	memcpy(backup, g->mem + offset, len);
	for (uint64_t off = offset; !ret && off < offset + len; off += PAGE_SIZE) {
		uint64_t gpa = g->gpa + off;

		ret = gmem__tdx_mr_page_add(t->mr, gpa);
		if (!ret && measure)
			ret = gmem__tdx_mr_extend(t->mr, gpa, g->mem + off);
		if (!ret)
			ret = gmem__crypt_page(t->crypt, gpa, g->mem + off,
					       g->mem + off, 1);
	}
	if (ret) {
		memcpy(g->mem + offset, backup, len);
		gmem__tdx_mr_rollback(t->mr, cp);
	} else {
		gmem__tdx_mr_drop(cp);
		rs_set(g->vendor, offset, offset + len, GMEM_SEPT_MAPPED);
	}
out:
	free(backup);
	pthread_rwlock_unlock(&g->lock);
	pthread_mutex_unlock(&g->vm->lock);
	return ret;
}

int gmem_tdx_mrtd(struct gmem_vm *vm, uint8_t mrtd[48])
{
	int ret = 0;

	if (!vm || !mrtd)
		return -EFAULT;
	if (vm->plat != &gmem__plat_tdx)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (vm->finalized)
		memcpy(mrtd, tdx(vm)->mrtd, 48);
	else
		ret = gmem__tdx_mr_peek(tdx(vm)->mr, mrtd);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}
