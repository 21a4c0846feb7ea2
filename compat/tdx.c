/* SPDX-License-Identifier: MIT */
/*
 * KVM_MEMORY_ENCRYPT_OP on a KVM_X86_TDX_VM and on its vCPUs: the TD launch
 * of Documentation/virt/kvm/x86/intel-tdx.rst, with the structs, order
 * rules and errors of arch/x86/kvm/vmx/tdx.c, served by libgmem's TDX model
 * (S-EPT, TDH.MEM.PAGE.ADD, TDH.MR.EXTEND into MRTD, TDH.MR.FINALIZE).
 *
 *   VM fd:   KVM_TDX_CAPABILITIES (any time), KVM_TDX_INIT_VM (once, before
 *            any vCPU), KVM_TDX_FINALIZE_VM (once, after INIT_VM).
 *   vCPU fd: KVM_TDX_INIT_VCPU (once per vCPU), KVM_TDX_INIT_MEM_REGION
 *            (after INIT_VCPU, before finalize; the range private in its
 *            guest_memfd; source_addr 0 populates the page from its own
 *            bytes where the policy's revision has in-place population,
 *            v8), KVM_TDX_GET_CPUID (before finalize).
 *
 * The TDX module itself is modelled in tdx_params.c (what TDH.SYS.RD
 * would report: the TD attributes and XFAM it lets KVM configure, the
 * configurable CPUID leaves), where the structs are checked too.  Every command
 * and the final MRTD go to the shim's log (GMEM_COMPAT_LOG, lines
 * starting "tdx: ").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "gmem/uapi.h"
#include "tdx_params.h"

#define PG GMEM_PAGE_SIZE

/* ---- the TD ----------------------------------------------------------------- */

enum td_state { TD_UNINITIALIZED, TD_INITIALIZED, TD_RUNNABLE };

struct tdx_td {
	pthread_mutex_t lock;		/* every command: the kernel's
					 * tdx_vm_state_guard */
	enum td_state state;
	struct tdx_td_config conf;	/* what KVM_TDX_INIT_VM set */
	char mrtd[97];			/* final MRTD, hex, once finalized */
	unsigned long *vcpus;		/* ids of the initialized vCPUs */
	size_t nr_vcpus;
};

static struct tdx_td *td_of(struct compat_vm *cvm)
{
	return cvm->priv;
}

int compat_tdx_vm_init(struct compat_vm *cvm)
{
	struct tdx_td *td = calloc(1, sizeof(*td));

	if (!td)
		return -ENOMEM;
	pthread_mutex_init(&td->lock, NULL);
	cvm->priv = td;
	return 0;
}

void compat_tdx_vm_fini(struct compat_vm *cvm)
{
	struct tdx_td *td = td_of(cvm);

	if (!td)
		return;
	pthread_mutex_destroy(&td->lock);
	free(td->vcpus);
	free(td);
	cvm->priv = NULL;
}

/* KVM_CREATE_VCPU: a TD takes vCPUs only after KVM_TDX_INIT_VM
 * (tdx_vcpu_create(): -EIO). */
int compat_tdx_vcpu_precreate(struct compat_vm *cvm)
{
	struct tdx_td *td = td_of(cvm);
	int ret;

	pthread_mutex_lock(&td->lock);
	ret = td->state == TD_INITIALIZED ? 0 : -EIO;
	pthread_mutex_unlock(&td->lock);
	return ret;
}

static const char *cmd_name(uint32_t id)
{
	static const char *const names[] = {
		"KVM_TDX_CAPABILITIES", "KVM_TDX_INIT_VM", "KVM_TDX_INIT_VCPU",
		"KVM_TDX_INIT_MEM_REGION", "KVM_TDX_FINALIZE_VM",
		"KVM_TDX_GET_CPUID",
	};

	return id < sizeof(names) / sizeof(names[0]) ? names[id] : "unknown";
}

/* ---- VM commands ------------------------------------------------------------ */

/* tdx_get_capabilities(): the caller's nent must hold every configurable
 * leaf (-E2BIG); the whole struct is written, reserved words zero. */
static int td_capabilities(const struct kvm_tdx_cmd *cmd)
{
	struct kvm_tdx_capabilities *u = (void *)(uintptr_t)cmd->data;
	_Alignas(8) uint8_t buf[sizeof(struct kvm_tdx_capabilities) +
				TDX_PARAMS_CONF_NR * sizeof(struct kvm_cpuid_entry2)];
	struct kvm_tdx_capabilities *caps = (void *)buf;
	int ret;

	if (cmd->flags)
		return -EINVAL;
	if (!u)
		return -EFAULT;
	caps->cpuid.nent = u->cpuid.nent < TDX_PARAMS_CONF_NR ? 0 : TDX_PARAMS_CONF_NR;
	ret = tdx_params_capabilities(caps);
	if (!ret)
		memcpy(u, buf, sizeof(buf));
	return ret;
}

/* tdx_td_init(): once, before any vCPU (-EBUSY: setup_tdparams()). */
static int td_init_vm(struct compat_vm *cvm, struct tdx_td *td,
		      const struct kvm_tdx_cmd *cmd)
{
	const struct kvm_tdx_init_vm *u = (const void *)(uintptr_t)cmd->data;
	struct tdx_td_config conf;
	uint32_t nent;
	bool busy;
	int ret;

	if (td->state != TD_UNINITIALIZED)
		return -EINVAL;
	if (cmd->flags)
		return -EINVAL;
	if (!u)
		return -EFAULT;
	nent = u->cpuid.nent;
	if (nent > TDX_PARAMS_MAX_CPUID)
		return -E2BIG;
	ret = tdx_params_init_vm(u, tdx_params_init_vm_size(nent), &conf);
	if (ret)
		return ret;
	pthread_mutex_lock(&cvm->lock);
	busy = cvm->nr_vcpus_created != 0;
	pthread_mutex_unlock(&cvm->lock);
	if (busy)
		return -EBUSY;
	td->conf = conf;
	td->state = TD_INITIALIZED;
	return 0;
}

/* tdx_td_finalize(): TDH.MR.FINALIZE; MRTD is final. */
static int td_finalize(struct compat_vm *cvm, struct tdx_td *td)
{
	uint8_t mrtd[48];
	int ret;

	if (td->state != TD_INITIALIZED)
		return -EINVAL;
	ret = compat_vm_lib(cvm, cvm->fd);
	if (!ret)
		ret = gmem_vm_finalize(cvm->vm);
	if (!ret)
		ret = gmem_tdx_mrtd(cvm->vm, mrtd);
	if (ret)
		return -EIO;
	td->state = TD_RUNNABLE;
	for (int i = 0; i < 48; i++)
		snprintf(td->mrtd + 2 * i, 3, "%02x", mrtd[i]);
	return 0;
}

int compat_tdx_encrypt_op(struct compat_vm *cvm, void *arg)
{
	struct tdx_td *td = td_of(cvm);
	struct kvm_tdx_cmd cmd;
	int ret;

	if (!arg)
		return -EFAULT;
	memcpy(&cmd, arg, sizeof(cmd));
	if (cmd.hw_error)	/* KVM writes it; the VMM never sets it */
		ret = -EINVAL;
	else if (cmd.id == KVM_TDX_CAPABILITIES)
		ret = td_capabilities(&cmd);
	else if (cmd.id != KVM_TDX_INIT_VM && cmd.id != KVM_TDX_FINALIZE_VM)
		ret = -EINVAL;
	else {
		pthread_mutex_lock(&td->lock);
		ret = cmd.id == KVM_TDX_INIT_VM ? td_init_vm(cvm, td, &cmd)
						: td_finalize(cvm, td);
		pthread_mutex_unlock(&td->lock);
		memcpy(arg, &cmd, sizeof(cmd));	/* hw_error: 0 */
	}
	compat_sev_log("tdx: %s flags=%#x data=%#llx -> %d", cmd_name(cmd.id),
		   cmd.flags, (unsigned long long)cmd.data, ret);
	if (cmd.id == KVM_TDX_FINALIZE_VM && !ret)
		compat_sev_log("tdx: MRTD %s", td->mrtd);
	return ret;
}

/* ---- vCPU commands ------------------------------------------------------------ */

static bool vcpu_initialized(const struct tdx_td *td, unsigned long id)
{
	for (size_t i = 0; i < td->nr_vcpus; i++)
		if (td->vcpus[i] == id)
			return true;
	return false;
}

/* tdx_vcpu_init(): once per vCPU; data is the vCPU's initial RCX. */
static int td_init_vcpu(struct tdx_td *td, struct compat_vcpu *v,
			const struct kvm_tdx_cmd *cmd)
{
	unsigned long *n;

	if (cmd->flags)
		return -EINVAL;
	if (vcpu_initialized(td, v->id))
		return -EINVAL;
	n = realloc(td->vcpus, (td->nr_vcpus + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	n[td->nr_vcpus++] = v->id;
	td->vcpus = n;
	return 0;
}

/*
 * One page of kvm_gmem_populate() + tdx_gmem_post_populate(): the slot
 * must be a guest_memfd's (-EINVAL), the page private there (-EINVAL);
 * TDH.MEM.PAGE.ADD copies the source page into the private page, or, with
 * no source (v8), takes the page's own bytes (-EOPNOTSUPP where the
 * revision has no in-place population); a page already in the S-EPT
 * cannot be added again (-EIO).  MR.EXTEND measures it when asked.
 */
static int add_page(struct compat_vm *cvm, uint64_t gpa, uint64_t src,
		    bool measure)
{
	struct gmem_page_info pi;
	struct compat_file *f = NULL;
	uint64_t off = 0, left = 0;
	uint8_t *page, *old = NULL;
	bool found;
	int ret;

	pthread_mutex_lock(&cvm->lock);
	found = compat_slot_find(cvm, gpa, &f, &off, &left);
	pthread_mutex_unlock(&cvm->lock);
	if (!found || !f)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	ret = gmem_page_info(f->g, off, &pi);
	if (!ret && !(pi.attributes & GMEM_ATTR_PRIVATE))
		ret = -EINVAL;
	if (!ret && !src &&
	    !gmem__compat_policy_inplace_launch(gmem_vm_policy(cvm->vm)))
		ret = -EOPNOTSUPP;
	if (!ret && pi.vendor_state == GMEM_SEPT_MAPPED)
		ret = -EIO;
	/* The model measures the page at its GPA: the file's place in the
	 * guest is the slot's. */
	if (!ret)
		ret = gmem__compat_place(f->g, gpa - off);
	page = (uint8_t *)gmem__compat_mem(f->g) + off;
	if (!ret && src) {
		/* PAGE.ADD copies the source only if it succeeds: a page it
		 * refuses keeps its bytes. */
		old = malloc(PG);
		if (!old) {
			ret = -ENOMEM;
		} else {
			memcpy(old, page, PG);
			memcpy(page, (const void *)(uintptr_t)src, PG);
		}
	}
	if (!ret) {
		ret = gmem_tdx_page_add(f->g, off, PG, measure) ? -EIO : 0;
		if (ret && old)
			memcpy(page, old, PG);
	}
	pthread_mutex_unlock(&f->lock);
	free(old);
	return ret;
}

/* tdx_vcpu_init_mem_region(): page by page; the region as far as it got
 * is written back whatever happened. */
static int td_init_mem_region(struct compat_vm *cvm, struct tdx_td *td,
			      struct compat_vcpu *v,
			      const struct kvm_tdx_cmd *cmd)
{
	struct kvm_tdx_init_mem_region *u = (void *)(uintptr_t)cmd->data;
	struct kvm_tdx_init_mem_region r;
	int ret;

	if (!vcpu_initialized(td, v->id))
		return -EINVAL;
	if (cmd->flags & ~KVM_TDX_MEASURE_MEMORY_REGION)
		return -EINVAL;
	if (!u)
		return -EFAULT;
	memcpy(&r, u, sizeof(r));
	ret = tdx_params_mem_region(&r);
	if (ret)
		return ret;
	ret = compat_vm_lib(cvm, cvm->fd);
	while (!ret && r.nr_pages) {
		ret = add_page(cvm, r.gpa, r.source_addr,
			       cmd->flags & KVM_TDX_MEASURE_MEMORY_REGION);
		if (ret)
			break;
		if (r.source_addr)
			r.source_addr += PG;
		r.gpa += PG;
		r.nr_pages--;
	}
	memcpy(u, &r, sizeof(r));
	return ret;
}

/* tdx_vcpu_get_cpuid(): -E2BIG with the needed nent written back when
 * the caller's is too small. */
static int td_get_cpuid(struct tdx_td *td, struct compat_vcpu *v,
			const struct kvm_tdx_cmd *cmd)
{
	struct kvm_cpuid2 *u = (void *)(uintptr_t)cmd->data;
	struct kvm_cpuid_entry2 e[TDX_PARAMS_CONF_NR + 2];
	uint32_t n;

	if (!u)
		return -EFAULT;
	if (!vcpu_initialized(td, v->id))
		return -EIO;	/* TDH.VP.RD has no TDVPR to read */
	n = tdx_params_td_cpuid(&td->conf, e);
	if (u->nent < n) {
		u->nent = n;
		return -E2BIG;
	}
	u->nent = n;
	memcpy(u->entries, e, n * sizeof(e[0]));
	return 0;
}

int compat_tdx_vcpu_encrypt_op(struct compat_vcpu *v, void *arg)
{
	struct compat_vm *cvm = v->cvm;
	struct tdx_td *td = td_of(cvm);
	struct kvm_tdx_cmd cmd;
	int ret;

	if (!arg)
		return -EFAULT;
	memcpy(&cmd, arg, sizeof(cmd));
	if (cmd.hw_error)
		return -EINVAL;
	pthread_mutex_lock(&td->lock);
	if (td->state != TD_INITIALIZED)	/* no TD yet, or finalized */
		ret = -EINVAL;
	else if (cmd.id == KVM_TDX_INIT_VCPU)
		ret = td_init_vcpu(td, v, &cmd);
	else if (cmd.id == KVM_TDX_INIT_MEM_REGION)
		ret = td_init_mem_region(cvm, td, v, &cmd);
	else if (cmd.id == KVM_TDX_GET_CPUID)
		ret = td_get_cpuid(td, v, &cmd);
	else
		ret = -EINVAL;
	pthread_mutex_unlock(&td->lock);
	if (cmd.id == KVM_TDX_INIT_MEM_REGION && cmd.data && ret != -EFAULT) {
		const struct kvm_tdx_init_mem_region *r = (void *)(uintptr_t)cmd.data;

		compat_sev_log("tdx: vcpu %lu %s flags=%#x (%s) -> %d, left gpa=%#llx pages=%llu source=%#llx",
			   v->id, cmd_name(cmd.id), cmd.flags,
			   (cmd.flags & KVM_TDX_MEASURE_MEMORY_REGION) ? "measured" : "unmeasured",
			   ret, (unsigned long long)r->gpa,
			   (unsigned long long)r->nr_pages,
			   (unsigned long long)r->source_addr);
	} else {
		compat_sev_log("tdx: vcpu %lu %s flags=%#x data=%#llx -> %d", v->id,
			   cmd_name(cmd.id), cmd.flags,
			   (unsigned long long)cmd.data, ret);
	}
	return ret;
}
