/* SPDX-License-Identifier: MIT */
/*
 * The kvm backend: the bytes live in a real guest_memfd (Linux 6.18:
 * GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED) on a real KVM VM,
 * bound to a memslot at the gmem's guest physical base, so a vCPU reads
 * and writes the very pages the host view shows.  The kernel here has no
 * in-place conversion (no KVM_SET_MEMORY_ATTRIBUTES2), so it sees every
 * page as shared and the library's engine enforces attributes and content
 * modes exactly as on the emulated backend.
 *
 * The VM is always of the default type: SEV-SNP and TDX VMs cannot be
 * created without their hardware, and their behaviour is the library's
 * platform model in any case.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "backend/kvm.h"
#include "gmem/uapi.h"

#define KVM_GMEM_KFLAGS (GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)

static int real_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

gmem_kvm_ioctl_fn gmem__kvm_ioctl = real_ioctl;

void gmem__kvm_set_ioctl(gmem_kvm_ioctl_fn fn)
{
	gmem__kvm_ioctl = fn ? fn : real_ioctl;
}

/* An ioctl that may be failed by the test-only fault injection. */
static int kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int ret = gmem__fault_check(GMEM_FI_IOCTL);

	if (ret) {
		errno = -ret;
		return -1;
	}
	return gmem__kvm_ioctl(fd, req, arg);
}

static struct gmem_kvm_vm *kvm_vm(struct gmem_vm *vm) { return vm->backend_priv; }
static struct gmem_kvm_gmem *kvm_gmem(struct gmem *g) { return g->backend_priv; }

static int open_kvm(const char **why)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		if (why)
			*why = errno == ENOENT ? "/dev/kvm does not exist"
					       : "/dev/kvm cannot be opened";
		return -errno;
	}
	if (gmem__kvm_ioctl(fd, KVM_GET_API_VERSION, NULL) != KVM_API_VERSION) {
		close(fd);
		if (why)
			*why = "unexpected KVM API version";
		return -ENODEV;
	}
	return fd;
}

int gmem__kvm_probe_gmem(int *kvm_fd, int *vm_fd, int *gmem_fd,
			 unsigned long vm_type, uint64_t size, uint64_t kflags,
			 const char **why)
{
	struct kvm_create_guest_memfd cg = { .size = size, .flags = kflags };
	long caps;
	int ret;

	*kvm_fd = *vm_fd = *gmem_fd = -1;
	ret = open_kvm(why);
	if (ret < 0)
		return ret;
	*kvm_fd = ret;
	*vm_fd = gmem__kvm_ioctl(*kvm_fd, KVM_CREATE_VM, (void *)vm_type);
	if (*vm_fd < 0) {
		*why = "KVM_CREATE_VM failed";
		return -errno;
	}
	if (gmem__kvm_ioctl(*vm_fd, KVM_CHECK_EXTENSION,
			    (void *)(unsigned long)KVM_CAP_GUEST_MEMFD) <= 0) {
		*why = "no KVM_CAP_GUEST_MEMFD (Linux 6.8+)";
		return -ENODEV;
	}
	caps = gmem__kvm_ioctl(*vm_fd, KVM_CHECK_EXTENSION,
			       (void *)(unsigned long)KVM_CAP_GUEST_MEMFD_FLAGS);
	if (caps < 0 || ((uint64_t)caps & kflags) != kflags) {
		*why = "guest_memfd cannot be mmap'ed and shared (Linux 6.18+)";
		return -ENODEV;
	}
	*gmem_fd = gmem__kvm_ioctl(*vm_fd, KVM_CREATE_GUEST_MEMFD, &cg);
	if (*gmem_fd < 0) {
		*why = "KVM_CREATE_GUEST_MEMFD failed";
		return -errno;
	}
	return 0;
}

void gmem__kvm_close_fds(int kvm_fd, int vm_fd, int gmem_fd)
{
	if (gmem_fd >= 0)
		close(gmem_fd);
	if (vm_fd >= 0)
		close(vm_fd);
	if (kvm_fd >= 0)
		close(kvm_fd);
}

static int kvm_probe(const char **why)
{
	int kfd, vfd, gfd, ret;
	uint8_t *p;

	ret = gmem__kvm_probe_gmem(&kfd, &vfd, &gfd, KVM_X86_DEFAULT_VM,
				   2 * PAGE_SIZE, KVM_GMEM_KFLAGS, why);
	if (!ret) {
		p = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, gfd, 0);
		if (p == MAP_FAILED) {
			*why = "mmap of a guest_memfd failed";
			ret = -ENODEV;
		} else {
			p[PAGE_SIZE] = 0x5a;
			if (fallocate(gfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      PAGE_SIZE, PAGE_SIZE) || p[PAGE_SIZE]) {
				*why = "guest_memfd hole punch failed";
				ret = -ENODEV;
			} else {
				*why = "guest_memfd with MMAP | INIT_SHARED on /dev/kvm";
			}
			munmap(p, 2 * PAGE_SIZE);
		}
	}
	gmem__kvm_close_fds(kfd, vfd, gfd);
	return ret;
}

int gmem__kvm_vm_attach(struct gmem_vm *vm, int kvm_fd, int vm_fd)
{
	struct gmem_kvm_vm *k = calloc(1, sizeof(*k));
	int n = vm_fd < 0 ? 0 :
		gmem__kvm_ioctl(vm_fd, KVM_CHECK_EXTENSION,
				(void *)(unsigned long)KVM_CAP_NR_MEMSLOTS);

	if (!k)
		return -ENOMEM;
	k->kvm_fd = kvm_fd;
	k->vm_fd = vm_fd;
	k->nr_slots = n > 0 ? (uint32_t)n : 32;
	if (k->nr_slots > 32764)
		k->nr_slots = 32764;
	k->slot_used = calloc(k->nr_slots, 1);
	if (!k->slot_used) {
		free(k);
		return -ENOMEM;
	}
	pthread_mutex_init(&k->slot_lock, NULL);
	vm->backend_priv = k;
	return 0;
}

int gmem__kvm_vm_open(struct gmem_vm *vm, unsigned long type)
{
	int kvm_fd, vm_fd, ret;

	kvm_fd = open_kvm(NULL);
	if (kvm_fd < 0)
		return kvm_fd;
	vm_fd = kvm_ioctl(kvm_fd, KVM_CREATE_VM, (void *)type);
	if (vm_fd < 0) {
		ret = -errno;
		close(kvm_fd);
		return ret;
	}
	ret = gmem__kvm_vm_attach(vm, kvm_fd, vm_fd);
	if (ret)
		gmem__kvm_close_fds(kvm_fd, vm_fd, -1);
	return ret;
}

void gmem__kvm_vm_close(struct gmem_vm *vm)
{
	struct gmem_kvm_vm *k = kvm_vm(vm);

	if (!k)
		return;
	gmem__kvm_close_fds(k->kvm_fd, k->vm_fd, -1);
	pthread_mutex_destroy(&k->slot_lock);
	free(k->slot_used);
	free(k);
	vm->backend_priv = NULL;
}

int gmem__kvm_vm_fd(struct gmem_vm *vm)
{
	struct gmem_kvm_vm *k = kvm_vm(vm);

	if (!k || (vm->backend != &gmem__backend_kvm &&
		   vm->backend != &gmem__backend_native))
		return -ENODEV;
	return k->vm_fd;
}

int gmem__kvm_gmem_create(struct gmem *g, uint64_t kflags)
{
	struct kvm_create_guest_memfd cg = { .size = g->size, .flags = kflags };
	struct gmem_kvm_gmem *kg = calloc(1, sizeof(*kg));
	int fd;

	if (!kg)
		return -ENOMEM;
	kg->slot = -1;
	fd = kvm_ioctl(kvm_vm(g->vm)->vm_fd, KVM_CREATE_GUEST_MEMFD, &cg);
	if (fd < 0) {
		int ret = -errno;

		free(kg);
		return ret;
	}
	g->fd = fd;
	g->backend_priv = kg;
	return 0;
}

static int set_slot(struct gmem *g, int slot, uint64_t gpa, uint64_t size)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = (uint32_t)slot,
		.flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)g->mem,
		.guest_memfd_offset = 0,
		.guest_memfd = (uint32_t)g->fd,
	};

	if (kvm_ioctl(kvm_vm(g->vm)->vm_fd, KVM_SET_USER_MEMORY_REGION2, &r))
		return -errno;
	return 0;
}

static void slot_free(struct gmem *g, int slot)
{
	struct gmem_kvm_vm *k = kvm_vm(g->vm);

	pthread_mutex_lock(&k->slot_lock);
	k->slot_used[slot] = 0;
	pthread_mutex_unlock(&k->slot_lock);
}

static int slot_alloc(struct gmem *g)
{
	struct gmem_kvm_vm *k = kvm_vm(g->vm);
	int slot = -ENOSPC;

	pthread_mutex_lock(&k->slot_lock);
	for (uint32_t i = 0; i < k->nr_slots; i++) {
		if (!k->slot_used[i]) {
			k->slot_used[i] = 1;
			slot = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&k->slot_lock);
	return slot;
}

/*
 * KVM cannot move a guest_memfd memslot, and binds a range of a guest_memfd
 * to one memslot at a time, so a move deletes the slot and creates it at
 * the new place.  If the new place is refused the old one is put back; if
 * that fails too, the gmem is left unbound (documented in gmem_bind(3)).
 */
int gmem__kvm_bind(struct gmem *g, uint64_t gpa)
{
	struct gmem_kvm_gmem *kg = kvm_gmem(g);
	int ret, slot = kg->slot;

	if (slot < 0) {
		slot = slot_alloc(g);
		if (slot < 0)
			return slot;
	} else {
		ret = set_slot(g, slot, kg->slot_gpa, 0);
		if (ret)
			return ret;
	}
	ret = set_slot(g, slot, gpa, g->size);
	if (ret) {
		if (kg->slot >= 0 && !set_slot(g, slot, kg->slot_gpa, g->size))
			return ret;	/* still bound where it was */
		slot_free(g, slot);
		kg->slot = -1;
		g->bound = false;
		return ret;
	}
	kg->slot = slot;
	kg->slot_gpa = gpa;
	return 0;
}

void gmem__kvm_gmem_destroy(struct gmem *g)
{
	struct gmem_kvm_gmem *kg = kvm_gmem(g);

	if (kg && kg->slot >= 0) {
		(void)set_slot(g, kg->slot, kg->slot_gpa, 0);
		slot_free(g, kg->slot);
	}

	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	free(kg);
	g->backend_priv = NULL;
}

int gmem__kvm_punch_hole(struct gmem *g, uint64_t off, uint64_t len)
{
	int ret = gmem__fault_check(GMEM_FI_FALLOCATE);

	if (ret)
		return ret;
	if (fallocate(g->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len))
		return -errno;
	return 0;
}

static int kvm_vm_init(struct gmem_vm *vm)
{
	return gmem__kvm_vm_open(vm, KVM_X86_DEFAULT_VM);
}

/* The kernel's pages are all shared; the library's flags decide what the
 * caller sees (and mmap is always possible for the library itself). */
static int kvm_create(struct gmem *g)
{
	return gmem__kvm_gmem_create(g, KVM_GMEM_KFLAGS);
}

const struct gmem_backend_ops gmem__backend_kvm = {
	.name = "kvm",
	.probe = kvm_probe,
	.vm_init = kvm_vm_init,
	.vm_fini = gmem__kvm_vm_close,
	.create = kvm_create,
	.destroy = gmem__kvm_gmem_destroy,
	.punch_hole = gmem__kvm_punch_hole,
	.bind = gmem__kvm_bind,
};
