/* SPDX-License-Identifier: MIT */
/*
 * AMD SEV-SNP: the RMP and the launch flow of the SEV-SNP firmware.
 *
 * Per page, the RMP entry is hypervisor-owned (shared), guest-assigned or
 * guest-assigned and validated (AMD APM vol. 2, 15.36.10 "Reverse Map
 * Table").  Private pages are encrypted in place with the VM's key; the guest
 * view decrypts, the host view and the physical bytes show ciphertext.
 * Content modes act on the physical bytes, so PRESERVE keeps ciphertext and
 * a host-written page made private decrypts to garbage: what the hardware
 * does, not special cases.
 *
 * SNP_LAUNCH_UPDATE (SEV-SNP firmware ABI, 8.17): the range must be PRIVATE
 * in gmem; each page is measured into the launch digest (PAGE_INFO chain),
 * encrypted in place, and becomes assigned and validated.  A CPUID page is
 * checked against the platform's CPUID policy first; a violation is
 * corrected in the page and reported as SEV_RET_INVALID_PARAM, the page
 * stays hypervisor-owned and the digest is not extended.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "internal.h"
#include "compat_api.h"
#include "crypt.h"
#include "platform/platform.h"
#include "platform/snp_fw.h"

#define SNP_VMSA_GPA 0xFFFFFFFFF000ULL

struct snp_vm {
	struct gmem_crypt *crypt;
	uint8_t digest[48];
	/* The firmware's CPUID check (NULL: the modelled platform's). */
	int (*cpuid_check)(void *opaque, struct gmem_snp_cpuid_table *t,
			   unsigned *nchanged);
	void *cpuid_opaque;
};

static struct snp_vm *snp(struct gmem_vm *vm) { return vm->plat_priv; }

static int snp_vm_init(struct gmem_vm *vm)
{
	struct snp_vm *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = gmem__crypt_create(&s->crypt, NULL);
	if (ret) {
		free(s);
		return ret;
	}
	vm->plat_priv = s;
	return 0;
}

static void snp_vm_fini(struct gmem_vm *vm)
{
	struct snp_vm *s = snp(vm);

	gmem__crypt_destroy(s->crypt);
	free(s);
	vm->plat_priv = NULL;
}

/* RMPUPDATE back to hypervisor-owned is done by the engine (vendor state
 * reset); the bytes stay as they are: ciphertext if the page was ever
 * encrypted.  Only ZERO writes. */
static void snp_to_shared(struct gmem *g, uint64_t off, uint64_t len,
			  uint64_t mode)
{
	gmem__content_apply(g, off, len, mode, false);
}

/* The page stays hypervisor-owned in the RMP until LAUNCH_UPDATE or the
 * guest's PVALIDATE: nothing happens to the bytes. */
static void snp_to_private(struct gmem *g, uint64_t off, uint64_t len,
			   uint64_t mode)
{
	gmem__content_apply(g, off, len, mode, false);
}

static int snp_guest_private(struct gmem *g, uint64_t off, void *buf,
			     uint64_t len, bool write, bool exclusive,
			     struct gmem_memory_fault *f)
{
	struct snp_vm *s = snp(g->vm);
	uint64_t page = off & ~(PAGE_SIZE - 1), end;

	if (rs_lookup(g->vendor, page, &end) != GMEM_RMP_VALIDATED) {
		/* #VC: the guest touched a page it has not validated. */
		if (f)
			f->flags = GMEM_FAULT_NOT_VALIDATED;
		return -EFAULT;
	}
	return gmem__crypt_access(s->crypt, g, off, buf, len, write);
}

const struct gmem_platform gmem__plat_snp = {
	.name = "snp",
	.id = GMEM_PLAT_SNP,
	.kvm_vm_type = 4,		/* KVM_X86_SEV_SNP_VM */
	.encrypts = true,
	.has_vendor_state = true,
	.vendor_initial = GMEM_RMP_SHARED,
	.vm_init = snp_vm_init,
	.vm_fini = snp_vm_fini,
	.to_shared = snp_to_shared,
	.to_private = snp_to_private,
	.guest_private = snp_guest_private,
};

static bool is_snp(struct gmem *g) { return g->vm->plat == &gmem__plat_snp; }

/* Prepare one page's plaintext for its type and compute its contents hash;
 * gpa is the guest physical address the firmware is told. */
static int launch_page(struct gmem *g, uint64_t off, uint64_t gpa,
		       unsigned type, unsigned *fw_error)
{
	struct snp_vm *s = snp(g->vm);
	uint8_t *p = g->mem + off;
	int ret;

	switch (type) {
	case GMEM_SNP_PAGE_ZERO:
		memset(p, 0, PAGE_SIZE);
		break;
	case GMEM_SNP_PAGE_SECRETS:
		/* The firmware fills the secrets page (VMPCKs). */
		memset(p, 0, PAGE_SIZE);
		if (RAND_bytes(p + 0x20, 4 * 32) != 1)
			return -EIO;
		break;
	case GMEM_SNP_PAGE_CPUID: {
		unsigned changed = 0;

		if (s->cpuid_check)
			ret = s->cpuid_check(s->cpuid_opaque,
					     (struct gmem_snp_cpuid_table *)p,
					     &changed);
		else
			ret = gmem__snp_cpuid_check((struct gmem_snp_cpuid_table *)p,
						    &changed);
		if (ret) {
			*fw_error = GMEM_SEV_RET_INVALID_PARAM;
			return -EIO;	/* page stays hypervisor-owned */
		}
		break;
	}
	default:
		break;
	}
	ret = gmem__snp_measure_page(s->digest, p, type,
				     type == GMEM_SNP_PAGE_VMSA ? SNP_VMSA_GPA : gpa);
	if (ret)
		return ret;
	return gmem__crypt_page(s->crypt, gpa, p, p, 1);
}

/*
 * All or nothing: until every page is measured and encrypted, the plaintext
 * and the digest are kept, and put back if a page fails.  The one change a
 * failure leaves is the firmware's: a rejected CPUID page holds the values
 * it accepts (SEV-SNP firmware ABI, SNP_LAUNCH_UPDATE), still
 * hypervisor-owned.
 */
int gmem_snp_launch_update(struct gmem *g, uint64_t offset, uint64_t len,
			   unsigned page_type, unsigned *fw_error)
{
	if (!g)
		return -EFAULT;
	return gmem__snp_launch_update_gpa(g, offset, len, g->gpa + offset,
					   page_type, fw_error);
}

/* As gmem_snp_launch_update(), the firmware being told that the range
 * starts at guest physical address gpa (a file mapped by several memslots
 * has several). */
int gmem__snp_launch_update_gpa(struct gmem *g, uint64_t offset, uint64_t len,
				uint64_t gpa, unsigned page_type,
				unsigned *fw_error)
{
	uint8_t digest[48], *backup = NULL;
	uint64_t first_diff, off = offset;
	unsigned fw = 0;
	int ret = 0;

	if (!g)
		return -EFAULT;
	if (fw_error)
		*fw_error = 0;
	if (!is_snp(g) || page_type < GMEM_SNP_PAGE_NORMAL ||
	    page_type > GMEM_SNP_PAGE_CPUID || !gmem__range_ok(g, offset, len))
		return -EINVAL;
	pthread_mutex_lock(&g->vm->lock);
	pthread_rwlock_wrlock(&g->lock);
	if (g->vm->finalized ||
	    !rs_all_equal(g->attrs, offset, offset + len, GMEM_ATTR_PRIVATE,
			  &first_diff) ||
	    !rs_all_equal(g->vendor, offset, offset + len, GMEM_RMP_SHARED,
			  &first_diff)) {
		ret = -EINVAL;
		goto out;
	}
	ret = rs_reserve(g->vendor, 1);
	if (ret)
		goto out;
	backup = malloc(len);
	if (!backup) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(backup, g->mem + offset, len);
	memcpy(digest, snp(g->vm)->digest, sizeof(digest));
	for (; off < offset + len && !ret; off += PAGE_SIZE)
		ret = launch_page(g, off, gpa + (off - offset), page_type, &fw);
	if (!ret) {
		rs_set(g->vendor, offset, offset + len, GMEM_RMP_VALIDATED);
	} else {
		/* The loop stopped past the failing page: restore the pages
		 * before it, and it too unless the firmware corrected it. */
		uint64_t bad = off - PAGE_SIZE;
		uint64_t end = fw ? bad : bad + PAGE_SIZE;

		memcpy(g->mem + offset, backup, end - offset);
		memcpy(snp(g->vm)->digest, digest, sizeof(digest));
		if (fw_error)
			*fw_error = fw;
	}
out:
	free(backup);
	pthread_rwlock_unlock(&g->lock);
	pthread_mutex_unlock(&g->vm->lock);
	return ret;
}

int gmem_snp_launch_digest(struct gmem_vm *vm, uint8_t digest[48])
{
	if (!vm || !digest)
		return -EFAULT;
	if (vm->plat != &gmem__plat_snp)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	memcpy(digest, snp(vm)->digest, 48);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int gmem_snp_pvalidate(struct gmem *g, uint64_t offset, uint64_t len,
		       int validate)
{
	uint64_t first_diff;
	int ret;

	if (!g)
		return -EFAULT;
	if (!is_snp(g) || !gmem__range_ok(g, offset, len))
		return -EINVAL;
	pthread_rwlock_wrlock(&g->lock);
	if (!__atomic_load_n(&g->vm->finalized, __ATOMIC_ACQUIRE))
		ret = -EINVAL;	/* no guest runs before LAUNCH_FINISH */
	else if (!rs_all_equal(g->attrs, offset, offset + len,
			       GMEM_ATTR_PRIVATE, &first_diff))
		ret = -EFAULT;	/* the RMP check of a shared page fails */
	else
		ret = rs_set(g->vendor, offset, offset + len,
			     validate ? GMEM_RMP_VALIDATED : GMEM_RMP_ASSIGNED);
	pthread_rwlock_unlock(&g->lock);
	return ret;
}

/* The firmware's CPUID check for this VM: check() instead of the modelled
 * platform's policy (NULL: back to it). */
int gmem__snp_set_cpuid_check(struct gmem_vm *vm,
			      int (*check)(void *opaque,
					   struct gmem_snp_cpuid_table *t,
					   unsigned *nchanged),
			      void *opaque)
{
	if (!vm)
		return -EFAULT;
	if (vm->plat != &gmem__plat_snp)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	snp(vm)->cpuid_check = check;
	snp(vm)->cpuid_opaque = opaque;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* SNP_LAUNCH_UPDATE of a VMSA page (what KVM issues for each vCPU at
 * LAUNCH_FINISH): measured at the architectural VMSA address. */
int gmem__snp_launch_vmsa(struct gmem_vm *vm, const void *vmsa)
{
	int ret;

	if (!vm || !vmsa)
		return -EFAULT;
	if (vm->plat != &gmem__plat_snp)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (vm->finalized)
		ret = -EINVAL;
	else
		ret = gmem__snp_measure_page(snp(vm)->digest, vmsa,
					     GMEM_SNP_PAGE_VMSA, SNP_VMSA_GPA);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}
