/* SPDX-License-Identifier: MIT */
/* Shared by the kvm and native backends: a KVM VM, guest_memfds created on
 * it, and memslots binding them at their guest physical base. */
#ifndef GMEM_BACKEND_KVM_H
#define GMEM_BACKEND_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct gmem;
struct gmem_vm;

/* ioctl(2) as the backends issue it; tests replace it with a fake kernel
 * (gmem__kvm_set_ioctl) that answers some requests and passes the rest. */
typedef int (*gmem_kvm_ioctl_fn)(int fd, unsigned long req, void *arg);
extern gmem_kvm_ioctl_fn gmem__kvm_ioctl;
void gmem__kvm_set_ioctl(gmem_kvm_ioctl_fn fn);

struct gmem_kvm_vm {
	int kvm_fd;
	int vm_fd;
	pthread_mutex_t slot_lock;
	uint32_t nr_slots;
	uint8_t *slot_used;		/* one byte per memslot id */
	/* native: the kernel accepts content flags in KVM_SET_MEMORY_ATTRIBUTES2
	 * (RFC v5), found by trying one; the series as of v8 refuses any. */
	bool content_flags;
};

struct gmem_kvm_gmem {
	int slot;			/* memslot id, or -1 while unbound */
	uint64_t slot_gpa;
};

/* Open /dev/kvm and create a VM of the given type. */
int gmem__kvm_vm_open(struct gmem_vm *vm, unsigned long type);
/* The per-VM state over existing fds (owned from now on; -1: none). */
int gmem__kvm_vm_attach(struct gmem_vm *vm, int kvm_fd, int vm_fd);
void gmem__kvm_vm_close(struct gmem_vm *vm);
/* KVM_CREATE_GUEST_MEMFD of g->size with the given kernel flags: g->fd. */
int gmem__kvm_gmem_create(struct gmem *g, uint64_t kflags);
void gmem__kvm_gmem_destroy(struct gmem *g);
int gmem__kvm_punch_hole(struct gmem *g, uint64_t off, uint64_t len);
/* (Re)bind g's memslot at gpa: KVM_SET_USER_MEMORY_REGION2. */
int gmem__kvm_bind(struct gmem *g, uint64_t gpa);

/* The VM fd and the memslot of a gmem, for running vCPUs on it. */
int gmem__kvm_vm_fd(struct gmem_vm *vm);

/* A throwaway VM of vm_type and a guest_memfd for probing; the fds or
 * -errno. */
int gmem__kvm_probe_gmem(int *kvm_fd, int *vm_fd, int *gmem_fd,
			 unsigned long vm_type, uint64_t size, uint64_t kflags,
			 const char **why);
/* Close those of the three that are open (>= 0), the guest_memfd first. */
void gmem__kvm_close_fds(int kvm_fd, int vm_fd, int gmem_fd);

#endif
