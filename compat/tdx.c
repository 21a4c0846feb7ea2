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
 * The TDX module itself is modelled by the constants below (what
 * TDH.SYS.RD would report): the TD attributes and XFAM it lets KVM
 * configure and the CPUID leaves that are configurable.  Every command
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

#define PG GMEM_PAGE_SIZE

/* ---- the modelled TDX module -------------------------------------------- */

/* KVM offers SEPT_VE_DISABLE only (KVM_SUPPORTED_TDX_TD_ATTRS). */
#define TD_ATTRS_SUPPORTED	TDX_TD_ATTR_SEPT_VE_DISABLE
/* x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM), PKRU, AMX. */
#define TD_XFAM_SUPPORTED	0x602e7ULL
#define KVM_MAX_CPUID_ENTRIES	256
#define TD_GPAW_SHARED_BIT	(1ULL << 47)	/* GPAW 48: the shared bit */

struct td_cpuid_conf {
	uint32_t function, index;
	uint32_t eax, ebx, ecx, edx;	/* the bits KVM may configure */
};

/* The configurable leaves, with TSX (7.0 EBX HLE, RTM) and WAITPKG
 * (7.0 ECX) cleared as KVM reports them, and 0x80000008 EAX[23:16] (the
 * guest physical address width, KVM's GPAW interface) all ones. */
static const struct td_cpuid_conf td_conf[] = {
	{ 0x1,        0, 0x0fff3fff, 0x00ff0000, 0x31fffbff, 0xbfcbfbff },
	{ 0x7,        0, 0x00000000, 0xdc2fe7e7, 0x19c07f5e, 0xbc1c4410 },
	{ 0xd,        0, 0x000602e7, 0x00000000, 0x00000000, 0x00000000 },
	{ 0xd,        1, 0x0000000f, 0x00000000, 0x00001800, 0x00000000 },
	{ 0x80000001, 0, 0x00000000, 0x00000000, 0x00000121, 0x2c100800 },
	{ 0x80000008, 0, 0x00ffffff, 0x00000200, 0x00000000, 0x00000000 },
};
#define TD_CONF_NR (sizeof(td_conf) / sizeof(td_conf[0]))

/* ---- the TD ----------------------------------------------------------------- */

enum td_state { TD_UNINITIALIZED, TD_INITIALIZED, TD_RUNNABLE };

struct tdx_td {
	pthread_mutex_t lock;		/* every command: the kernel's
					 * tdx_vm_state_guard */
	enum td_state state;
	uint64_t attributes, xfam;
	uint32_t nent;			/* INIT_VM's CPUID configuration */
	struct kvm_cpuid_entry2 cpuid[TD_CONF_NR];
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

static void conf_entry(struct kvm_cpuid_entry2 *e, const struct td_cpuid_conf *c)
{
	memset(e, 0, sizeof(*e));
	e->function = c->function;
	e->index = c->index;
	e->eax = c->eax;
	e->ebx = c->ebx;
	e->ecx = c->ecx;
	e->edx = c->edx;
}

/* tdx_get_capabilities(): the caller's nent must hold every configurable
 * leaf (-E2BIG); the whole struct is written, reserved words zero. */
static int td_capabilities(const struct kvm_tdx_cmd *cmd)
{
	struct kvm_tdx_capabilities *u = (void *)(uintptr_t)cmd->data;
	struct kvm_tdx_capabilities caps;

	if (cmd->flags)
		return -EINVAL;
	if (!u)
		return -EFAULT;
	if (u->cpuid.nent < TD_CONF_NR)
		return -E2BIG;
	memset(&caps, 0, sizeof(caps));
	caps.supported_attrs = TD_ATTRS_SUPPORTED;
	caps.supported_xfam = TD_XFAM_SUPPORTED;
	caps.user_tdvmcallinfo_1_r11 = 1ULL << 1;	/* SetupEventNotifyInterrupt */
	caps.cpuid.nent = TD_CONF_NR;
	memcpy(u, &caps, sizeof(caps));
	for (size_t i = 0; i < TD_CONF_NR; i++)
		conf_entry(&u->cpuid.entries[i], &td_conf[i]);
	return 0;
}

static const struct kvm_cpuid_entry2 *find_entry(const struct kvm_cpuid2 *c,
						 uint32_t function,
						 uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == function &&
		    c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

/* setup_tdparams(): attributes, XFAM, the GPAW of CPUID 0x80000008
 * (48; 52 needs 5-level EPT, which the model has not), and every CPUID
 * entry a configurable leaf without TSX or WAITPKG. */
static int td_params(struct compat_vm *cvm, struct tdx_td *td,
		     const struct kvm_tdx_init_vm *iv)
{
	const struct kvm_cpuid_entry2 *e;
	uint32_t copied = 0, gpaw;
	bool busy;

	pthread_mutex_lock(&cvm->lock);
	busy = cvm->nr_vcpus_created != 0;
	pthread_mutex_unlock(&cvm->lock);
	if (busy)
		return -EBUSY;
	if (iv->attributes & ~TD_ATTRS_SUPPORTED)
		return -EINVAL;
	if (iv->xfam & ~TD_XFAM_SUPPORTED)
		return -EINVAL;
	e = find_entry(&iv->cpuid, 0x80000008, 0);
	if (!e)
		return -EINVAL;
	gpaw = (e->eax >> 16) & 0xff;
	if (gpaw != 48)
		return -EINVAL;
	td->nent = 0;
	for (size_t i = 0; i < TD_CONF_NR; i++) {
		e = find_entry(&iv->cpuid, td_conf[i].function, td_conf[i].index);
		if (!e)
			continue;
		if (e->function == 7 && e->index == 0 &&
		    ((e->ebx & ((1U << 4) | (1U << 11))) || (e->ecx & (1U << 5))))
			return -EINVAL;		/* TSX, WAITPKG */
		td->cpuid[td->nent++] = *e;
		copied++;
	}
	if (copied != iv->cpuid.nent)
		return -EINVAL;
	return 0;
}

/* tdx_td_init(). */
static int td_init_vm(struct compat_vm *cvm, struct tdx_td *td,
		      const struct kvm_tdx_cmd *cmd)
{
	const struct kvm_tdx_init_vm *u = (const void *)(uintptr_t)cmd->data;
	struct kvm_tdx_init_vm *iv;
	uint32_t nent;
	size_t len;
	int ret;

	if (td->state != TD_UNINITIALIZED)
		return -EINVAL;
	if (cmd->flags)
		return -EINVAL;
	if (!u)
		return -EFAULT;
	nent = u->cpuid.nent;
	if (nent > KVM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	len = sizeof(*iv) + nent * sizeof(struct kvm_cpuid_entry2);
	iv = malloc(len);
	if (!iv)
		return -ENOMEM;
	memcpy(iv, u, len);
	ret = 0;
	for (size_t i = 0; i < sizeof(iv->reserved) / sizeof(iv->reserved[0]); i++)
		if (iv->reserved[i])
			ret = -EINVAL;
	if (!ret && (iv->cpuid.padding || iv->cpuid.nent != nent))
		ret = -EINVAL;
	if (!ret)
		ret = td_params(cvm, td, iv);
	if (!ret) {
		td->attributes = iv->attributes;
		td->xfam = iv->xfam | 0x3;	/* x87 and SSE are fixed to 1 */
		td->state = TD_INITIALIZED;
	}
	free(iv);
	return ret;
}

/* tdx_td_finalize(): TDH.MR.FINALIZE; MRTD is final. */
static int td_finalize(struct compat_vm *cvm, struct tdx_td *td)
{
	uint8_t mrtd[48];
	char hex[97];
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
		snprintf(hex + 2 * i, 3, "%02x", mrtd[i]);
	compat_sev_log("tdx: MRTD %s", hex);
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
	if (!ret && src)
		memcpy((uint8_t *)gmem__compat_mem(f->g) + off,
		       (const void *)(uintptr_t)src, PG);
	if (!ret)
		ret = gmem_tdx_page_add(f->g, off, PG, measure) ? -EIO : 0;
	pthread_mutex_unlock(&f->lock);
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
	uint64_t end;
	int ret = 0;

	if (!vcpu_initialized(td, v->id))
		return -EINVAL;
	if (cmd->flags & ~KVM_TDX_MEASURE_MEMORY_REGION)
		return -EINVAL;
	if (!u)
		return -EFAULT;
	memcpy(&r, u, sizeof(r));
	end = r.gpa + (r.nr_pages << 12);
	if (r.source_addr % PG || r.gpa % PG || !r.nr_pages ||
	    r.nr_pages > (UINT64_MAX >> 12) || end <= r.gpa ||
	    r.gpa >= TD_GPAW_SHARED_BIT || end - 1 >= TD_GPAW_SHARED_BIT)
		return -EINVAL;
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

static int cmp_entry(const void *a, const void *b)
{
	const struct kvm_cpuid_entry2 *x = a, *y = b;

	if (x->function != y->function)
		return x->function < y->function ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The CPUID the TDX module gives the TD: the configured leaves, with
 * leaves 0 and 0x80000000 reporting the highest of each range; in order. */
static uint32_t td_cpuid(const struct tdx_td *td, struct kvm_cpuid_entry2 *out)
{
	uint32_t n = 0, max = 1, max_ext = 0x80000008;

	memset(&out[n], 0, sizeof(out[n]));
	out[n].function = 0;
	out[n].ebx = 0x756e6547;	/* "GenuineIntel" */
	out[n].edx = 0x49656e69;
	out[n++].ecx = 0x6c65746e;
	memset(&out[n], 0, sizeof(out[n]));
	out[n++].function = 0x80000000;
	for (uint32_t i = 0; i < td->nent; i++) {
		out[n] = td->cpuid[i];
		out[n].flags = 0;
		if (out[n].function < 0x80000000 && out[n].function > max)
			max = out[n].function;
		n++;
	}
	out[0].eax = max;
	out[1].eax = max_ext;
	qsort(out, n, sizeof(*out), cmp_entry);
	return n;
}

/* tdx_vcpu_get_cpuid(): -E2BIG with the needed nent written back when
 * the caller's is too small. */
static int td_get_cpuid(struct tdx_td *td, struct compat_vcpu *v,
			const struct kvm_tdx_cmd *cmd)
{
	struct kvm_cpuid2 *u = (void *)(uintptr_t)cmd->data;
	struct kvm_cpuid_entry2 e[TD_CONF_NR + 2];
	uint32_t n;

	if (!u)
		return -EFAULT;
	if (!vcpu_initialized(td, v->id))
		return -EIO;	/* TDH.VP.RD has no TDVPR to read */
	n = td_cpuid(td, e);
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
