/* SPDX-License-Identifier: MIT */
/*
 * A tiny VM runner for the tests: one vCPU on the VM a gmem of the kvm (or
 * native) backend lives in, running 16-bit real-mode snippets placed in the
 * gmem itself.  The vCPU reads and writes guest physical memory through the
 * memslot, i.e. the very guest_memfd pages the host view shows.
 *
 * Snippets (entry points in the code page, registers set by the host):
 *   read:  mov al, [bx] ; out 0x10, al ; hlt     (DS base = page, BX = offset)
 *   write: mov [bx], dl ; hlt
 * Each run decodes the exits: IO out on port 0x10 reports the byte; HLT
 * ends the run.
 */
#ifndef GMEM_TESTS_KVM_VCPU_H
#define GMEM_TESTS_KVM_VCPU_H

#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem/uapi.h"

#define VCPU_PORT 0x10

struct vcpu {
	int fd;
	struct kvm_run *run;
	size_t run_size;
	uint64_t code_gpa;	/* page holding the snippets, below 1 MiB */
};

static const uint8_t vcpu_code[] = {
	/* 0x00 read */ 0x8a, 0x07, 0xe6, VCPU_PORT, 0xf4,
	/* 0x05 write */ 0x88, 0x17, 0xf4,
};
#define VCPU_READ_ENTRY  0x00
#define VCPU_WRITE_ENTRY 0x05

/* Create vCPU 0 on vm_fd (kvm_fd for the run size).  The caller copies
 * vcpu_code into guest memory at code_gpa (a shared page). */
static inline int vcpu_create(struct vcpu *v, int kvm_fd, int vm_fd,
			      uint64_t code_gpa)
{
	int sz;

	memset(v, 0, sizeof(*v));
	v->code_gpa = code_gpa;
	v->fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (v->fd < 0)
		return -errno;
	sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return -errno;
	v->run_size = (size_t)sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED)
		return -errno;
	return 0;
}

static inline void vcpu_destroy(struct vcpu *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->fd > 0)
		close(v->fd);
}

/* Run one snippet: entry, data address gpa (< 1 MiB), value for writes.
 * Returns the byte reported through port 0x10 (reads), 0 (writes), or
 * -errno / -1000 - exit_reason on an unexpected exit. */
static inline int vcpu_call(struct vcpu *v, unsigned entry, uint64_t gpa,
			    uint8_t val)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	int out = -1;

	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		return -errno;
	s.cs.selector = (uint16_t)(v->code_gpa >> 4);
	s.cs.base = v->code_gpa;
	s.ds.selector = (uint16_t)((gpa & ~0xfffULL) >> 4);
	s.ds.base = gpa & ~0xfffULL;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		return -errno;
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rbx = gpa & 0xfff;
	r.rdx = val;
	r.rflags = 0x2;
	if (ioctl(v->fd, KVM_SET_REGS, &r))
		return -errno;
	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0))
			return -errno;
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			if (v->run->io.direction == KVM_EXIT_IO_OUT &&
			    v->run->io.port == VCPU_PORT && v->run->io.size == 1)
				out = *((uint8_t *)v->run + v->run->io.data_offset);
			else
				return -1000 - KVM_EXIT_IO;
			break;
		case KVM_EXIT_HLT:
			return entry == VCPU_READ_ENTRY ? out : 0;
		default:
			return -1000 - (int)v->run->exit_reason;
		}
	}
}

static inline int vcpu_read(struct vcpu *v, uint64_t gpa)
{
	return vcpu_call(v, VCPU_READ_ENTRY, gpa, 0);
}

static inline int vcpu_write(struct vcpu *v, uint64_t gpa, uint8_t val)
{
	return vcpu_call(v, VCPU_WRITE_ENTRY, gpa, val);
}

#endif
