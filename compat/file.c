/* SPDX-License-Identifier: MIT */
/*
 * The shim's guest_memfds: KVM_CREATE_GUEST_MEMFD through libgmem on the
 * application's VM, the in-place conversion capabilities, and
 * KVM_SET_MEMORY_ATTRIBUTES2, fallocate and close on the file, with the
 * kernel's conventions (-1 and errno; the struct copied back only on
 * failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "gmem/uapi.h"

#define PG GMEM_PAGE_SIZE
#define APP_FLAGS (GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)

/* ---- configuration ------------------------------------------------------ */

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/* The platform follows the VM type; GMEM_COMPAT_PLATFORM and
 * GMEM_COMPAT_PHASE apply to default VMs, the policy to all. */
int compat_new_lib_vm(struct gmem_vm **vm, const struct compat_vm_type *t,
		      int app_vm_fd)
{
	int ret;

	if (!t)
		t = compat_vm_type(KVM_X86_DEFAULT_VM);
	*vm = NULL;
	ret = gmem__compat_vm_create(vm,
			t->platform ? t->platform
				    : env_or("GMEM_COMPAT_PLATFORM", "default"),
			env_or("GMEM_COMPAT_POLICY", "seed"), app_vm_fd,
			compat_kernel()->gmem);
	if (!ret && t->phase_from_env &&
	    !strcmp(env_or("GMEM_COMPAT_PHASE", "pre-finalize"), "finalized"))
		ret = gmem_vm_finalize(*vm);
	if (ret && *vm) {
		gmem_vm_destroy(*vm);
		*vm = NULL;
	}
	return ret;
}

static struct gmem_vm *template_vm;
static pthread_once_t template_once = PTHREAD_ONCE_INIT;

static void template_init(void)
{
	if (compat_new_lib_vm(&template_vm, NULL, -1))
		template_vm = NULL;
}

/* ---- object lifetime ---------------------------------------------------- */

int compat_nr_files;

void compat_obj_put(struct compat_obj *o)
{
	if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL))
		return;
	switch (o->kind) {
	case COMPAT_GMEM: {
		struct compat_file *f = (struct compat_file *)o;

		compat_slots_forget(f);
		if (f->told)
			gmem__follow_told_free(f->told);
		__atomic_sub_fetch(&compat_nr_files, 1, __ATOMIC_RELAXED);
		gmem_destroy(f->g);
		pthread_mutex_destroy(&f->lock);
		compat_obj_put(&f->cvm->obj);
		free(f);
		break;
	}
	case COMPAT_VCPU:
		compat_vcpu_free((struct compat_vcpu *)o);
		break;
	case COMPAT_VM:
		compat_vm_free((struct compat_vm *)o);
		break;
	case COMPAT_SEVDEV:
		free(o);
		break;
	}
}

static void obj_get(struct compat_obj *o)
{
	__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

/* ---- KVM_CREATE_GUEST_MEMFD -------------------------------------------- */

/* The VM object of vm_fd with its libgmem VM, tracked from now on; called
 * with compat_fd_lock written.  A VM fd the shim did not see created (a
 * default VM) gets a new one. */
static int vm_of(int vm_fd, struct compat_vm **cvmp, bool *is_new)
{
	struct compat_obj *o = compat_fd_get(vm_fd);
	struct compat_vm *cvm;
	int ret;

	*is_new = false;
	if (o && o->kind == COMPAT_VM) {
		*cvmp = (struct compat_vm *)o;
		return compat_vm_lib(*cvmp, vm_fd);
	}
	if (o)
		return -ENOTTY;		/* a guest_memfd is not a VM */
	cvm = compat_vm_new(compat_vm_type(KVM_X86_DEFAULT_VM));
	if (!cvm)
		return -ENOMEM;
	cvm->fd = vm_fd;
	ret = compat_vm_lib(cvm, vm_fd);
	if (!ret)
		ret = compat_fd_set(vm_fd, &cvm->obj);
	if (ret) {
		compat_vm_free(cvm);
		return ret;
	}
	*cvmp = cvm;
	*is_new = true;
	return 0;
}

/*
 * The application's descriptor of an emulated guest_memfd: an O_PATH
 * descriptor of the memfd.  fstat() gives the file's size and a page as
 * its block size, as a guest_memfd's does; read(), write() and every other
 * I/O call fail on it (EBADF; the kernel's guest_memfd has no read or
 * write: EINVAL), and the shim serves ioctl, mmap and fallocate.  Without
 * /proc, a plain copy of the memfd.
 */
static int app_fd_of_memfd(int lib_fd)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", lib_fd);
	fd = open(path, O_PATH);
	return fd >= 0 ? fd : fcntl(lib_fd, F_DUPFD, 0);
}

/* Is vm_fd a KVM VM?  KVM_GET_CLOCK is a VM ioctl that changes nothing
 * (it fails on /dev/kvm, vCPUs and other files). */
bool compat_is_kvm_vm(int vm_fd)
{
	struct kvm_clock_data clock;

	memset(&clock, 0, sizeof(clock));
	return compat_real.ioctl(vm_fd, KVM_GET_CLOCK, &clock) == 0;
}

static int new_file(struct compat_vm *cvm, const struct kvm_create_guest_memfd *c)
{
	struct compat_file *f = calloc(1, sizeof(*f));
	int ret, fd;

	if (!f)
		return -ENOMEM;
	ret = gmem_create(cvm->vm, c->size, c->flags, &f->g);
	if (ret) {
		free(f);
		return ret;
	}
	f->obj.kind = COMPAT_GMEM;
	f->obj.refs = 1;		/* the fd entry */
	f->cvm = cvm;
	f->size = c->size;
	f->app_flags = c->flags;
	f->lib_fd = gmem__compat_fd(f->g);
	ret = gmem__follow_ident(f->lib_fd, &f->dev, &f->ino);
	if (ret) {
		gmem_destroy(f->g);
		free(f);
		return ret;
	}
	pthread_mutex_init(&f->lock, NULL);
	/* The application gets its own descriptor of the file, as the kernel
	 * would give it (no close-on-exec); the library keeps its own. */
	fcntl(f->lib_fd, F_SETFD, FD_CLOEXEC);
	fd = compat_kernel()->gmem ? fcntl(f->lib_fd, F_DUPFD, 0)
				   : app_fd_of_memfd(f->lib_fd);
	ret = fd < 0 ? -errno : compat_fd_set(fd, &f->obj);
	if (ret) {
		if (fd >= 0)
			compat_real.close(fd);
		gmem_destroy(f->g);
		pthread_mutex_destroy(&f->lock);
		free(f);
		return ret;
	}
	obj_get(&cvm->obj);
	__atomic_add_fetch(&compat_nr_files, 1, __ATOMIC_RELAXED);
	return fd;
}

int compat_create_gmem(int vm_fd, void *arg)
{
	struct kvm_create_guest_memfd c;
	struct compat_vm *cvm;
	bool is_new;
	long kflags;
	int ret;

	if (!arg)
		return -EFAULT;
	memcpy(&c, arg, sizeof(c));
	/* The reserved words are not checked: neither 6.18 nor the series'
	 * kernel looks at them (kvm_gmem_create() reads size and flags). */
	/* The flags this VM takes are the kernel's answer (6.18: MMAP and
	 * INIT_SHARED on VMs without private memory); the shim needs both
	 * itself, whatever the application asks for. */
	if (!compat_kernel()->gmem) {
		/* No guest_memfd the shim can use: libgmem's emulated file,
		 * with the flags 6.18 takes on a VM without private memory. */
		kflags = APP_FLAGS;
		if (!compat_fd_get(vm_fd) && !compat_is_kvm_vm(vm_fd)) {
			/* Not a VM: the kernel's answer (EINVAL on /dev/kvm,
			 * ENOTTY on another file). */
			ret = compat_real.ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, arg);
			return ret < 0 ? -errno : ret;
		}
	} else {
		kflags = compat_real.ioctl(vm_fd, KVM_CHECK_EXTENSION,
				(void *)(unsigned long)KVM_CAP_GUEST_MEMFD_FLAGS);
		if (kflags < 0)
			return -errno;
	}
	if (((uint64_t)kflags & APP_FLAGS) != APP_FLAGS) {
		/* A VM the emulation cannot serve (private memory): the
		 * kernel's own guest_memfd, untracked. */
		ret = compat_real.ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, arg);
		return ret < 0 ? -errno : ret;
	}
	if (c.flags & ~(uint64_t)kflags)
		return -EINVAL;
	pthread_rwlock_wrlock(&compat_fd_lock);
	ret = vm_of(vm_fd, &cvm, &is_new);
	if (!ret) {
		ret = new_file(cvm, &c);
		if (ret < 0 && is_new) {	/* not a VM after all */
			compat_fd_clear(vm_fd);
			compat_obj_put(&cvm->obj);
		}
	}
	pthread_rwlock_unlock(&compat_fd_lock);
	return ret;
}

/* ---- KVM_CHECK_EXTENSION ------------------------------------------------ */

static long content_modes(struct gmem_vm *vm)
{
	uint64_t to_shared = 0, to_private = 0;

	if (!vm || gmem_vm_content_modes(vm, 0, &to_shared) ||
	    gmem_vm_content_modes(vm, GMEM_ATTR_PRIVATE, &to_private))
		return 0;
	return (long)((to_shared | to_private) &
		      (GMEM_CONTENT_ZERO | GMEM_CONTENT_PRESERVE));
}

/* The series' capabilities under the numbers of the policy's revision
 * (src/policy.c): the attributes KVM_SET_MEMORY_ATTRIBUTES2 takes, and the
 * content flags accepted in some direction in this phase (0 when the
 * policy has none; per-direction refusals are EOPNOTSUPP).  Any other
 * number, 249 under `upstream` included, is the kernel's. */
long compat_check_extension(int fd, long cap, bool *handled)
{
	struct compat_obj *o;
	int answer;
	long r;

	answer = gmem__compat_policy_cap(env_or("GMEM_COMPAT_POLICY", "seed"),
					 cap);
	*handled = answer > 0;
	if (answer == 1)		/* GMEM_CAP_ATTRIBUTES */
		return KVM_MEMORY_ATTRIBUTE_PRIVATE;
	if (answer != 2)		/* GMEM_CAP_ZERO, or the kernel's */
		return 0;
	pthread_rwlock_rdlock(&compat_fd_lock);
	o = compat_fd_get(fd);
	if (o && o->kind == COMPAT_VM) {
		struct compat_vm *cvm = (struct compat_vm *)o;

		r = compat_vm_lib(cvm, fd) ? 0 : content_modes(cvm->vm);
	} else {
		pthread_once(&template_once, template_init);
		r = content_modes(template_vm);
	}
	pthread_rwlock_unlock(&compat_fd_lock);
	return r;
}

/* ---- KVM_SET_MEMORY_ATTRIBUTES2 ---------------------------------------- */

/* Will libgmem refuse the request before changing anything (EINVAL,
 * EOPNOTSUPP)?  Then the host mappings are not touched at all, and the
 * engine gives the error. */
static bool refused(const struct compat_file *f,
		    const struct gmem_attributes2 *a)
{
	const uint64_t content = GMEM_CONTENT_ZERO | GMEM_CONTENT_PRESERVE;
	uint64_t modes;

	if (!a->size || a->offset % PG || a->size % PG ||
	    a->offset + a->size < a->offset || a->offset + a->size > f->size ||
	    (a->attributes & ~GMEM_ATTR_PRIVATE) || (a->flags & ~content) ||
	    a->flags == content ||
	    (a->error_offset && !gmem__compat_policy_error_offset_in(
					gmem_vm_policy(f->cvm->vm))))
		return true;
	for (size_t i = 0; i < sizeof(a->reserved) / sizeof(a->reserved[0]); i++)
		if (a->reserved[i])
			return true;
	if (gmem_vm_content_modes(f->cvm->vm, a->attributes, &modes))
		return true;
	return a->flags ? !(modes & a->flags) : !(modes & GMEM_MODES_UNSPECIFIED);
}

/*
 * The host mappings change first, the way the kernel unmaps before it
 * converts: to-private covers the shared runs of the range, to-shared maps
 * the file over its private runs (the pages become the host's as the call
 * returns); runs already in the target state are left as they are.  If
 * libgmem then refuses, the mappings go back to the unchanged attributes.
 */
static int convert(struct compat_file *f, struct gmem_attributes2 *a)
{
	uint64_t start = a->offset, end = a->offset + a->size;
	bool to_private = a->attributes & GMEM_ATTR_PRIVATE;
	int ret;

	if (refused(f, a)) {
		ret = gmem_set_memory_attributes(f->g, a);
		if (!ret)	/* never: the engine refuses these too */
			compat_maps_sync(f, 0, f->size);
		return ret;
	}
	/* Children of fork() cover the range before anything here changes
	 * (compat_maps_tell() returns once they did), and see a range turned
	 * shared only once it is. */
	if (to_private)
		compat_maps_tell(f, start, end, true);
	ret = compat_maps_convert(f, start, end, to_private);
	if (ret)
		a->error_offset = start;	/* as the engine's -ENOMEM */
	else
		ret = gmem_set_memory_attributes(f->g, a);
	if (ret)
		compat_maps_sync(f, start, end);
	/* Refused: the children's runs that were shared become so again. */
	if (ret ? to_private : !to_private)
		compat_maps_tell(f, start, end, false);
	return ret;
}

int compat_set_attributes(struct compat_file *f, void *arg)
{
	struct kvm_memory_attributes2 *u = arg;
	struct gmem_attributes2 a;
	int ret;

	_Static_assert(sizeof(a) == sizeof(*u), "same layout");
	if (!u)
		return -EFAULT;
	memcpy(&a, u, sizeof(a));
	pthread_mutex_lock(&f->lock);
	ret = convert(f, &a);
	pthread_mutex_unlock(&f->lock);
	if (ret)	/* the kernel copies the struct back only on failure */
		u->error_offset = a.error_offset;
	return ret;
}

/* How many pieces before p[i] are of p[i]'s file (*locked: then its lock
 * is already held). */
static unsigned same_file_before(const struct compat_piece *p, size_t i,
				 bool *locked)
{
	unsigned n = 0;

	*locked = false;
	for (size_t j = 0; j < i; j++) {
		if (p[j].f == p[i].f) {
			n++;
			*locked = true;
		}
	}
	return n;
}

/*
 * The conversions the shim makes itself (the VM-fd KVM_SET_MEMORY_ATTRIBUTES
 * of a confidential VM type, one piece per memslot), UNSPECIFIED content
 * mode, all or nothing, as the kernel reserves everything before it
 * changes any attribute: every piece is checked first (the library's
 * validation, policy and store memory), then the host mappings of every
 * piece change (the step that fails at vm.max_map_count: the pieces done
 * go back to their unchanged attributes), and only then does the library
 * convert each piece, which can no longer fail, so no byte changes before
 * every piece is known to succeed.  0 or -errno.
 */
int compat_files_convert(const struct compat_piece *p, size_t n,
			 uint64_t attributes)
{
	bool to_private = attributes & GMEM_ATTR_PRIVATE, locked;
	size_t i, mapped = 0;
	int ret = 0;

	for (i = 0; i < n; i++) {
		same_file_before(p, i, &locked);
		if (!locked)
			pthread_mutex_lock(&p[i].f->lock);
	}
	for (i = 0; i < n && !ret; i++) {
		struct gmem_attributes2 a = {
			.offset = p[i].off, .size = p[i].size,
			.attributes = attributes,
		};

		ret = gmem__compat_convert_check(p[i].f->g, &a,
					same_file_before(p, i, &locked) + 1);
	}
	for (i = 0; i < n && !ret; i++, mapped++)
		ret = compat_maps_convert(p[i].f, p[i].off, p[i].off + p[i].size,
					  to_private);
	for (i = 0; i < n && !ret; i++) {
		struct gmem_attributes2 a = {
			.offset = p[i].off, .size = p[i].size,
			.attributes = attributes,
		};

		ret = gmem_set_memory_attributes(p[i].f->g, &a);
	}
	/* The mappings changed (the failed piece's included) follow the
	 * attributes each piece has now: unchanged, since a library
	 * conversion does not fail after its check. */
	for (i = 0; ret && i < mapped; i++)
		compat_maps_sync(p[i].f, p[i].off, p[i].off + p[i].size);
	for (i = n; i-- > 0;) {
		same_file_before(p, i, &locked);
		if (!locked)
			pthread_mutex_unlock(&p[i].f->lock);
	}
	return ret;
}

/* ---- fallocate ------------------------------------------------------------ */

/* Hole punches go through libgmem (attributes kept, vendor state reset);
 * every other mode is the kernel's business. */
int compat_fallocate(struct compat_file *f, int mode, off_t off, off_t len)
{
	int ret;

	if (mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) &&
	    !compat_kernel()->gmem) {
		/* vfs_fallocate(), then kvm_gmem_fallocate() and
		 * kvm_gmem_allocate(): a memfd would grow instead. */
		if (off < 0 || len <= 0)
			return -EINVAL;
		if (mode != FALLOC_FL_KEEP_SIZE)
			return -EOPNOTSUPP;
		if ((uint64_t)off + (uint64_t)len > INT64_MAX)
			return -EFBIG;
		if (off % PG || len % PG || (uint64_t)off > f->size ||
		    (uint64_t)len > f->size - (uint64_t)off)
			return -EINVAL;
	}
	if (mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return compat_real.fallocate(f->lib_fd, mode, off, len) ? -errno : 0;
	if (off < 0 || len <= 0)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	ret = gmem_punch_hole(f->g, (uint64_t)off, (uint64_t)len);
	pthread_mutex_unlock(&f->lock);
	return ret;
}
