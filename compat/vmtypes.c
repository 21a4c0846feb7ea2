/* SPDX-License-Identifier: MIT */
/*
 * VM types: KVM_CREATE_VM on /dev/kvm, KVM_CAP_VM_TYPES and the answers
 * that differ per type, vCPU descriptors.
 *
 * The application may ask for any VM type of the table below.  The KVM VM
 * it gets is always a default one (this kernel runs no confidential VM);
 * the row says which libgmem platform models it, which capabilities KVM
 * answers differently for that type, and which handler serves
 * KVM_MEMORY_ENCRYPT_OP on its fd.  Adding a VM type is adding a row.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "gmem/uapi.h"

/* ---- the table ----------------------------------------------------------- */

/* A confidential VM has private memory (KVM_CAP_MEMORY_ATTRIBUTES) and,
 * its guest state being protected, no read-only memslots. */
static const struct compat_cap caps_sw_protected[] = {
	{ KVM_CAP_MEMORY_ATTRIBUTES, KVM_MEMORY_ATTRIBUTE_PRIVATE },
	{ 0, 0 },
};

/* An SEV-ES or SNP guest has no SMM either (svm_has_emulated_msr() of
 * MSR_IA32_SMBASE). */
static const struct compat_cap caps_snp[] = {
	{ KVM_CAP_MEMORY_ATTRIBUTES, KVM_MEMORY_ATTRIBUTE_PRIVATE },
	{ KVM_CAP_READONLY_MEM, 0 },
	{ KVM_CAP_X86_SMM, 0 },
	{ 0, 0 },
};

/* A TD: private memory, no read-only memslots (TDX cannot emulate MMIO
 * writes to private memory), no KVM_CAP_VM_COPY_ENC_CONTEXT_FROM. */
static const struct compat_cap caps_tdx[] = {
	{ KVM_CAP_MEMORY_ATTRIBUTES, KVM_MEMORY_ATTRIBUTE_PRIVATE },
	{ KVM_CAP_READONLY_MEM, 0 },
	{ 0, 0 },
};

static const struct compat_vm_type vm_types[] = {
	{
		.type = KVM_X86_DEFAULT_VM,
		.name = "default",
		.platform = NULL,		/* GMEM_COMPAT_PLATFORM */
		.phase_from_env = true,
	},
	{
		.type = KVM_X86_SW_PROTECTED_VM,
		.name = "sw_protected",
		.platform = "sw_protected",
		.caps = caps_sw_protected,
	},
	{
		.type = KVM_X86_SNP_VM,
		.name = "snp",
		.platform = "snp",
		.caps = caps_snp,
		.encrypt_op = compat_sev_encrypt_op,
		.vm_init = compat_sev_vm_init,
		.vm_fini = compat_sev_vm_fini,
	},
	{
		.type = KVM_X86_TDX_VM,
		.name = "tdx",
		.platform = "tdx",
		.caps = caps_tdx,
		.encrypt_op = compat_tdx_encrypt_op,
		.vcpu_encrypt_op = compat_tdx_vcpu_encrypt_op,
		.vcpu_precreate = compat_tdx_vcpu_precreate,
		.vm_init = compat_tdx_vm_init,
		.vm_fini = compat_tdx_vm_fini,
	},
};

#define NR_TYPES (sizeof(vm_types) / sizeof(vm_types[0]))

const struct compat_vm_type *compat_vm_type(unsigned long type)
{
	for (size_t i = 0; i < NR_TYPES; i++)
		if (vm_types[i].type == type)
			return &vm_types[i];
	return NULL;
}

/* KVM_CAP_VM_TYPES: the kernel's types and the table's. */
static long vm_types_mask(long kernel)
{
	long m = kernel > 0 ? kernel : 0;

	for (size_t i = 0; i < NR_TYPES; i++)
		if (vm_types[i].type < 8 * sizeof(long))
			m |= 1L << vm_types[i].type;
	return m;
}

long compat_vm_type_cap(int fd, long cap, bool *handled)
{
	struct compat_obj *o;
	const struct compat_cap *c;

	*handled = false;
	if (cap == KVM_CAP_VM_TYPES) {
		*handled = true;
		return vm_types_mask(compat_real.ioctl(fd, KVM_CHECK_EXTENSION,
						       (void *)cap));
	}
	o = compat_fd_get(fd);
	if (!o || o->kind != COMPAT_VM)
		return 0;
	c = ((struct compat_vm *)o)->type->caps;
	for (; c && c->cap; c++) {
		if (c->cap == cap) {
			*handled = true;
			return c->val;
		}
	}
	return 0;
}

/* ---- VMs ------------------------------------------------------------------ */

struct compat_vm *compat_vm_new(const struct compat_vm_type *t)
{
	struct compat_vm *cvm = calloc(1, sizeof(*cvm));

	if (!cvm)
		return NULL;
	cvm->obj.kind = COMPAT_VM;
	cvm->obj.refs = 1;		/* the fd entry */
	cvm->type = t;
	pthread_mutex_init(&cvm->lock, NULL);
	if (t->vm_init && t->vm_init(cvm)) {
		pthread_mutex_destroy(&cvm->lock);
		free(cvm);
		return NULL;
	}
	return cvm;
}

int compat_vm_lib(struct compat_vm *cvm, int vm_fd)
{
	int ret = 0;

	if (__atomic_load_n(&cvm->vm, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&cvm->lock);
	if (!cvm->vm) {
		struct gmem_vm *vm = NULL;

		ret = compat_new_lib_vm(&vm, cvm->type, vm_fd);
		if (!ret)
			__atomic_store_n(&cvm->vm, vm, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&cvm->lock);
	return ret;
}

/*
 * KVM_CREATE_VM on /dev/kvm.  A type of the table gets a default KVM VM
 * and a tracked fd; any other type is the kernel's business (EINVAL for a
 * type it lacks), and so is every type the kernel has itself where it
 * converts in place (its own VMs need nothing of the shim).  The libgmem VM behind it is made at its first use, so
 * that a bad GMEM_COMPAT_PLATFORM fails the first guest_memfd creation as
 * it always did.
 */
int compat_create_vm(int kvm_fd, unsigned long type)
{
	const struct compat_vm_type *t = compat_vm_type(type);
	struct compat_vm *cvm;
	int fd, ret;

	if (!t || compat_kernel_owns_type(kvm_fd, type)) {
		fd = compat_real.ioctl(kvm_fd, KVM_CREATE_VM, (void *)type);
		return fd < 0 ? -errno : fd;
	}
	cvm = compat_vm_new(t);
	if (!cvm)
		return -ENOMEM;
	fd = compat_real.ioctl(kvm_fd, KVM_CREATE_VM,
			       (void *)(unsigned long)KVM_X86_DEFAULT_VM);
	if (fd < 0) {
		ret = -errno;
		compat_obj_put(&cvm->obj);
		return ret;
	}
	cvm->fd = fd;
	pthread_rwlock_wrlock(&compat_fd_lock);
	ret = compat_fd_set(fd, &cvm->obj);
	pthread_rwlock_unlock(&compat_fd_lock);
	if (ret) {
		compat_real.close(fd);
		compat_obj_put(&cvm->obj);
		return ret;
	}
	return fd;
}

/* ---- vCPUs ---------------------------------------------------------------- */

/* KVM_CREATE_VCPU on a tracked VM fd: the kernel's vCPU, tracked, so that
 * the launch can read its registers. */
int compat_create_vcpu(struct compat_vm *cvm, int vm_fd, unsigned long id)
{
	struct compat_vcpu *v = calloc(1, sizeof(*v)), **pp;
	int fd, ret;

	if (!v)
		return -ENOMEM;
	if (cvm->type->vcpu_precreate && (ret = cvm->type->vcpu_precreate(cvm))) {
		free(v);
		return ret;
	}
	fd = compat_real.ioctl(vm_fd, KVM_CREATE_VCPU, (void *)id);
	if (fd < 0) {
		ret = -errno;
		free(v);
		return ret;
	}
	v->obj.kind = COMPAT_VCPU;
	v->obj.refs = 1;
	v->cvm = cvm;
	v->id = id;
	v->fd = fd;
	pthread_rwlock_wrlock(&compat_fd_lock);
	ret = compat_fd_set(fd, &v->obj);
	if (!ret) {
		__atomic_add_fetch(&cvm->obj.refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&cvm->lock);
		for (pp = &cvm->vcpus; *pp; pp = &(*pp)->next)
			;
		*pp = v;
		cvm->nr_vcpus_created++;
		pthread_mutex_unlock(&cvm->lock);
	}
	pthread_rwlock_unlock(&compat_fd_lock);
	if (ret) {
		compat_real.close(fd);
		free(v);
		return ret;
	}
	return fd;
}

void compat_vm_free(struct compat_vm *cvm)
{
	struct compat_slot *s;

	if (cvm->type->vm_fini)
		cvm->type->vm_fini(cvm);
	while ((s = cvm->slots)) {
		cvm->slots = s->next;
		free(s);
	}
	if (cvm->vm)
		gmem_vm_destroy(cvm->vm);
	pthread_mutex_destroy(&cvm->lock);
	free(cvm);
}

void compat_vcpu_free(struct compat_vcpu *v)
{
	struct compat_vm *cvm = v->cvm;
	struct compat_vcpu **pp;

	pthread_mutex_lock(&cvm->lock);
	for (pp = &cvm->vcpus; *pp; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	}
	pthread_mutex_unlock(&cvm->lock);
	free(v);
	compat_obj_put(&cvm->obj);
}

/* ---- memslots ------------------------------------------------------------- */

/*
 * KVM_SET_USER_MEMORY_REGION(2) succeeded: remember the slot and which
 * guest_memfd (f, or none) backs it now.  Called with compat_fd_lock read.
 */
void compat_slot_record(struct compat_vm *cvm, uint32_t slot, uint64_t gpa,
			uint64_t size, uint64_t offset, struct compat_file *f)
{
	struct compat_slot **pp, *s;

	pthread_mutex_lock(&cvm->lock);
	for (pp = &cvm->slots; *pp; pp = &(*pp)->next) {
		if ((*pp)->slot == slot) {
			s = *pp;
			*pp = s->next;
			free(s);
			break;
		}
	}
	if (size && (s = calloc(1, sizeof(*s)))) {
		s->slot = slot;
		s->gpa = gpa;
		s->size = size;
		s->offset = offset;
		s->f = f;
		s->next = cvm->slots;
		cvm->slots = s;
	}
	pthread_mutex_unlock(&cvm->lock);
}

/* The file is going: the kernel unbinds its memslots (an emulated file's
 * slots, the shim removes while the VM's fd is still the VM's). */
void compat_slots_forget(struct compat_file *f)
{
	struct compat_vm *cvm = f->cvm;
	struct compat_slot **pp = &cvm->slots, *s;
	bool unbind = !compat_kernel()->gmem &&
		      compat_fd_get(cvm->fd) == &cvm->obj;

	pthread_mutex_lock(&cvm->lock);
	while ((s = *pp)) {
		if (s->f == f) {
			if (unbind)
				compat_slot_unbind(cvm->fd, s->slot);
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
	pthread_mutex_unlock(&cvm->lock);
}

bool compat_slot_find(struct compat_vm *cvm, uint64_t gpa,
		      struct compat_file **f, uint64_t *off, uint64_t *left)
{
	for (struct compat_slot *s = cvm->slots; s; s = s->next) {
		if (s->f && gpa >= s->gpa && gpa - s->gpa < s->size) {
			*f = s->f;
			*off = s->offset + (gpa - s->gpa);
			*left = s->size - (gpa - s->gpa);
			return true;
		}
	}
	return false;
}

static long type_cap(const struct compat_vm *cvm, long cap)
{
	for (const struct compat_cap *c = cvm->type->caps; c && c->cap; c++)
		if (c->cap == cap)
			return c->val;
	return 0;
}

/*
 * KVM_SET_MEMORY_ATTRIBUTES on the VM fd (the per-GPA attributes of a VM
 * with private memory): the kernel's checks (flags, unknown attributes,
 * size 0, alignment, overflow: EINVAL), then the parts of the range that
 * memslots of the shim's guest_memfds hold are converted in their files
 * (UNSPECIFIED content mode), all or nothing, as kvm_vm_set_mem_attributes()
 * reserves everything before it changes anything: a failure (ENOMEM at
 * vm.max_map_count) leaves every part as it was.  GPAs no such memslot
 * holds take the attribute in the kernel's table only, which the shim does
 * not keep (docs/compat.md).
 */
int compat_vm_set_attributes(struct compat_vm *cvm, void *arg)
{
	struct kvm_memory_attributes a;
	struct compat_piece local[8], *p = local, *np;
	size_t n = 0, cap = sizeof(local) / sizeof(local[0]);
	uint64_t gpa, end;
	int ret = 0;

	if (!(type_cap(cvm, KVM_CAP_MEMORY_ATTRIBUTES) & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		return -ENOTTY;		/* the default VM underneath has none */
	if (!arg)
		return -EFAULT;
	memcpy(&a, arg, sizeof(a));
	if (a.flags || (a.attributes & ~(uint64_t)KVM_MEMORY_ATTRIBUTE_PRIVATE) ||
	    !a.size || a.address + a.size <= a.address ||
	    (a.address | a.size) & (GMEM_PAGE_SIZE - 1))
		return -EINVAL;
	gpa = a.address;
	end = a.address + a.size;
	pthread_mutex_lock(&cvm->lock);
	while (gpa < end) {
		struct compat_file *f;
		uint64_t off, left, len;

		if (!compat_slot_find(cvm, gpa, &f, &off, &left)) {
			/* The next memslot start above gpa, if any. */
			uint64_t next = end;

			for (struct compat_slot *s = cvm->slots; s; s = s->next)
				if (s->f && s->gpa > gpa && s->gpa < next)
					next = s->gpa;
			gpa = next;
			continue;
		}
		len = end - gpa < left ? end - gpa : left;
		if (n == cap) {
			np = malloc(2 * cap * sizeof(*p));
			if (!np) {
				ret = -ENOMEM;	/* nothing converted yet */
				break;
			}
			memcpy(np, p, n * sizeof(*p));
			if (p != local)
				free(p);
			p = np;
			cap *= 2;
		}
		p[n++] = (struct compat_piece){ .f = f, .off = off, .size = len };
		gpa += len;
	}
	if (!ret && n)
		ret = compat_files_convert(p, n, a.attributes);
	pthread_mutex_unlock(&cvm->lock);
	if (p != local)
		free(p);
	compat_sev_log("kvm: KVM_SET_MEMORY_ATTRIBUTES address=%#llx size=%#llx "
		       "attributes=%#llx -> %d", (unsigned long long)a.address,
		       (unsigned long long)a.size,
		       (unsigned long long)a.attributes, ret);
	return ret;
}

/*
 * KVM_GET_DEVICE_ATTR / KVM_HAS_DEVICE_ATTR on /dev/kvm, group
 * KVM_X86_GRP_SEV (sev_dev_get_attr()): the VMSA features KVM_SEV_INIT2
 * accepts on this modelled host; any other attribute of the group is
 * ENXIO.  Other groups and descriptors are the kernel's (*handled false).
 */
long compat_dev_attr(int fd, bool get, void *arg, bool *handled)
{
	struct kvm_device_attr a;

	*handled = false;
	if (!arg || compat_fd_get(fd))
		return 0;
	memcpy(&a, arg, sizeof(a));
	if (a.group != KVM_X86_GRP_SEV)
		return 0;
	*handled = true;
	if (a.attr != KVM_X86_SEV_VMSA_FEATURES)
		return -ENXIO;
	if (get) {
		uint64_t v = GMEM_SVM_SEV_FEAT_DEBUG_SWAP;

		if (!a.addr)
			return -EFAULT;
		memcpy((void *)(uintptr_t)a.addr, &v, sizeof(v));
	}
	return 0;
}
