/* SPDX-License-Identifier: MIT */
/*
 * The SEV-SNP CPUID flow of examples/snp_cpuid.c, as a VMM runs it: raw KVM
 * ioctls on a KVM_X86_SNP_VM, with in-place conversion of its guest_memfd
 * (KVM_SET_MEMORY_ATTRIBUTES2) and in-place launch population (no uaddr):
 *   1. load the CPUID table into shared guest_memfd memory (host mapping);
 *   2. set PRIVATE with PRESERVE;
 *   3. KVM_SEV_SNP_LAUNCH_UPDATE (CPUID, no uaddr) fails: the firmware
 *      finds an insecure value, corrects it in the page (EIO,
 *      SEV_RET_INVALID_PARAM);
 *   4. set SHARED with PRESERVE;
 *   5. read the corrected page, report what the firmware changed, and
 *      refuse if the VMM cannot accept the change;
 *   6. set PRIVATE with PRESERVE;
 *   7. KVM_SEV_SNP_LAUNCH_UPDATE succeeds; KVM_SEV_SNP_LAUNCH_FINISH.
 * Nothing of libgmem is called: only <linux/kvm.h>, include/gmem/uapi.h
 * and the CPUID page layout of include/gmem/snp.h.
 * Run it under libgmem-compat on a kernel without SNP:
 *   LD_PRELOAD=build/libgmem-compat.so GMEM_COMPAT_LOG=/dev/stderr \
 *       build/examples/snp_uapi
 * Without SNP VMs, or without KVM at all (no /dev/kvm), it says so and
 * exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem/uapi.h"
#include "kvm_dev.h"
#include "snp_cpuid_report.h"

#define PG 4096ULL
#define GPA 0x800000ULL			/* the memslot */
#define SIZE (16 * PG)
#define CPUID_OFF (4 * PG)		/* the CPUID page in the file */

static int die(const char *what)
{
	fprintf(stderr, "snp_uapi: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int convert(int gmem, uint64_t attrs, const char *what)
{
	struct kvm_memory_attributes2 a = {
		.offset = CPUID_OFF, .size = PG, .attributes = attrs,
		.flags = KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE,
	};
	int r = ioctl(gmem, KVM_SET_MEMORY_ATTRIBUTES2, &a);

	printf("   set %-7s PRESERVE: %s\n", what, r ? strerror(errno) : "ok");
	return r;
}

static int sev(int vm, int sev_fd, unsigned id, void *data, unsigned *fw)
{
	struct kvm_sev_cmd c = {
		.id = id, .data = (uint64_t)(uintptr_t)data, .sev_fd = (uint32_t)sev_fd,
	};
	int r = ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c);

	*fw = c.error;
	return r ? -errno : 0;
}

/* What a VMM takes from KVM_GET_SUPPORTED_CPUID, with one insecure value:
 * leaf 7 EDX bit 0 is reserved and must be clear. */
static void fill(int kvm, struct gmem_snp_cpuid_table *t)
{
	union {
		struct kvm_cpuid2 h;
		uint8_t buf[sizeof(struct kvm_cpuid2) +
			    256 * sizeof(struct kvm_cpuid_entry2)];
	} c = { .h.nent = 256 };
	static const uint32_t want[][2] = {
		{ 0, 0 }, { 1, 0 }, { 7, 0 }, { 0x80000000, 0 },
	};

	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &c))
		die("KVM_GET_SUPPORTED_CPUID");
	memset(t, 0, sizeof(*t));
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		for (uint32_t i = 0; i < c.h.nent; i++) {
			struct kvm_cpuid_entry2 *e = &c.h.entries[i];
			struct gmem_snp_cpuid_fn *f;

			if (e->function != want[w][0] || e->index != want[w][1])
				continue;
			f = &t->fn[t->count++];
			f->eax_in = e->function;
			f->ecx_in = e->index;
			f->eax = e->eax;
			f->ebx = e->ebx;
			f->ecx = e->ecx;
			f->edx = e->edx;
			if (e->function == 7)
				f->edx |= 1;	/* the insecure value */
			break;
		}
	}
}

int main(void)
{
	struct gmem_kvm_sev_snp_launch_start start = { .policy = 0x30000 };
	struct gmem_kvm_sev_snp_launch_finish fin = { 0 };
	struct gmem_kvm_sev_snp_launch_update up;
	struct gmem_kvm_sev_init init = { 0 };
	struct kvm_create_guest_memfd cg = {
		.size = SIZE,
		.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	};
	struct kvm_userspace_memory_region2 slot = { 0 };
	struct gmem_snp_cpuid_table table, fixed;
	int kvm, vm, sev_fd, gmem, r;
	unsigned fw;
	uint8_t *host;
	long types;

	kvm = kvm_open_or_say_why("snp_uapi");
	if (kvm < 0)
		return 0;	/* nothing to show without KVM: said why */
	types = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (types <= 0 || !(types & (1L << KVM_X86_SNP_VM))) {
		printf("snp_uapi: this kernel cannot create KVM_X86_SNP_VM; run it "
		       "with LD_PRELOAD=build/libgmem-compat.so\n");
		return 0;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, KVM_X86_SNP_VM);
	sev_fd = open("/dev/sev", O_RDWR | O_CLOEXEC);
	if (vm < 0 || sev_fd < 0)
		die("KVM_CREATE_VM(KVM_X86_SNP_VM) and /dev/sev");
	if (sev(vm, sev_fd, KVM_SEV_INIT2, &init, &fw) ||
	    ioctl(vm, KVM_CREATE_VCPU, 0) < 0 ||
	    sev(vm, sev_fd, KVM_SEV_SNP_LAUNCH_START, &start, &fw))
		die("KVM_SEV_INIT2, KVM_CREATE_VCPU, SNP_LAUNCH_START");
	gmem = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &cg);
	if (gmem < 0)
		die("KVM_CREATE_GUEST_MEMFD");
	host = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, gmem, 0);
	if (host == MAP_FAILED)
		die("mmap");
	slot.flags = KVM_MEM_GUEST_MEMFD;
	slot.guest_phys_addr = GPA;
	slot.memory_size = SIZE;
	slot.userspace_addr = (uint64_t)(uintptr_t)host;
	slot.guest_memfd = (uint32_t)gmem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &slot))
		die("KVM_SET_USER_MEMORY_REGION2");
	printf("SNP VM, guest_memfd of %llu KiB at GPA %#llx, CPUID page at %#llx\n",
	       SIZE / 1024, GPA, GPA + CPUID_OFF);

	printf("1. load the CPUID table through the host mapping\n");
	fill(kvm, &table);
	memcpy(host + CPUID_OFF, &table, sizeof(table));
	printf("2. convert it to private in place\n");
	if (convert(gmem, KVM_MEMORY_ATTRIBUTE_PRIVATE, "PRIVATE"))
		return 1;
	printf("3. SNP_LAUNCH_UPDATE (CPUID, in place)\n");
	up = (struct gmem_kvm_sev_snp_launch_update){
		.gfn_start = (GPA + CPUID_OFF) / PG, .len = PG,
		.type = KVM_SEV_SNP_PAGE_TYPE_CPUID,
	};
	r = sev(vm, sev_fd, KVM_SEV_SNP_LAUNCH_UPDATE, &up, &fw);
	printf("   %s, firmware error %#x\n", r ? strerror(-r) : "ok", fw);
	if (r != -EIO || fw != SEV_RET_INVALID_PARAM)
		return 1;
	printf("4. convert it back to shared, keeping the firmware's bytes\n");
	if (convert(gmem, 0, "SHARED"))
		return 1;
	printf("5. what the firmware changed\n");
	memcpy(&fixed, host + CPUID_OFF, sizeof(fixed));
	r = report_changes(&table, &fixed);
	if (r < 0) {
		printf("   the VMM cannot accept these values: launch aborted\n");
		return 1;
	}
	printf("   %d entr%s corrected; accepted\n", r, r == 1 ? "y" : "ies");
	printf("6. convert it to private again\n");
	if (convert(gmem, KVM_MEMORY_ATTRIBUTE_PRIVATE, "PRIVATE"))
		return 1;
	printf("7. SNP_LAUNCH_UPDATE (CPUID, in place), SNP_LAUNCH_FINISH\n");
	r = sev(vm, sev_fd, KVM_SEV_SNP_LAUNCH_UPDATE, &up, &fw);
	printf("   update: %s (len left %llu)\n", r ? strerror(-r) : "ok",
	       (unsigned long long)up.len);
	if (r || up.len)
		return 1;
	r = sev(vm, sev_fd, KVM_SEV_SNP_LAUNCH_FINISH, &fin, &fw);
	printf("   finish: %s\n", r ? strerror(-r) : "ok");
	if (r)
		return 1;
	printf("launched (the digest is in GMEM_COMPAT_LOG)\n");
	munmap(host, SIZE);
	close(gmem);
	close(sev_fd);
	close(vm);
	close(kvm);
	return 0;
}
