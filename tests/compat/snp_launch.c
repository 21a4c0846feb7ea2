/* SPDX-License-Identifier: MIT */
/*
 * The SEV-SNP launch uAPI on a KVM_X86_SNP_VM, as a VMM issues it, through
 * raw ioctls only: /dev/sev's platform status, KVM_GET_DEVICE_ATTR of the
 * SEV group, KVM_SET_MEMORY_ATTRIBUTES on the VM fd, KVM_SEV_INIT2 and
 * KVM_SEV_SNP_LAUNCH_START/UPDATE/FINISH with every order rule and error
 * of the kernel (arch/x86/kvm/svm/sev.c, amd-memory-encryption.rst): the
 * errno, the firmware status in kvm_sev_cmd.error, the progress written
 * back into kvm_sev_snp_launch_update, the rejected CPUID page copied back
 * to uaddr, and the launch digest (GMEM_COMPAT_LOG) equal for equal
 * launches and different when a vCPU is added.
 *
 * Needs the shim: without it KVM_X86_SNP_VM cannot be created here, and
 * test point 1 fails.
 */
#include "uapi_test.h"

#include <sys/stat.h>
#include <sys/syscall.h>

/* The CPUID page (SEV-SNP firmware ABI, "CPUID Reporting"), as a VMM
 * declares it. */
struct snp_cpuid_fn {
	uint32_t eax_in, ecx_in;
	uint64_t xcr0_in, xss_in;
	uint32_t eax, ebx, ecx, edx;
	uint64_t reserved;
};
struct snp_cpuid_table {
	uint32_t count, reserved1;
	uint64_t reserved2;
	struct snp_cpuid_fn fn[64];
};

#define GPA_BASE 0x100000ULL	/* the memslot */
#define NPAGES   16
#define SLOT_SIZE (NPAGES * PG)

struct snp_env {
	int kvm, vm, sev, gmem;
	uint8_t *shared;	/* the guest_memfd's host mapping */
};

static int sev_cmd(int vm, unsigned id, void *data, int sev_fd, unsigned *err)
{
	struct kvm_sev_cmd c = {
		.id = id, .data = (uint64_t)(uintptr_t)data, .sev_fd = (uint32_t)sev_fd,
	};
	int r = ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c);

	if (err)
		*err = c.error;
	return r < 0 ? -errno : r;
}

static int init2(int vm, uint64_t features, uint32_t flags, uint16_t ghcb)
{
	struct gmem_kvm_sev_init d = {
		.vmsa_features = features, .flags = flags, .ghcb_version = ghcb,
	};

	return sev_cmd(vm, KVM_SEV_INIT2, &d, -1, NULL);
}

static int start(int vm, int sev, uint64_t policy, uint16_t flags, unsigned *err)
{
	struct gmem_kvm_sev_snp_launch_start s = { .policy = policy, .flags = flags };

	return sev_cmd(vm, KVM_SEV_SNP_LAUNCH_START, &s, sev, err);
}

static int update(int vm, int sev, struct gmem_kvm_sev_snp_launch_update *u,
		  unsigned *err)
{
	return sev_cmd(vm, KVM_SEV_SNP_LAUNCH_UPDATE, u, sev, err);
}

static int finish(int vm, int sev, uint16_t flags, unsigned *err)
{
	struct gmem_kvm_sev_snp_launch_finish f = { .flags = flags };

	return sev_cmd(vm, KVM_SEV_SNP_LAUNCH_FINISH, &f, sev, err);
}

static int vm_attrs(int vm, uint64_t addr, uint64_t size, uint64_t attrs,
		    uint64_t flags)
{
	struct kvm_memory_attributes a = {
		.address = addr, .size = size, .attributes = attrs, .flags = flags,
	};

	return ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &a) ? -errno : 0;
}

/* An SNP VM with its guest_memfd (created private) bound at GPA_BASE. */
static void snp_vm(struct snp_env *e, int nvcpus)
{
	struct kvm_userspace_memory_region2 r = { 0 };

	e->vm = ioctl(e->kvm, KVM_CREATE_VM, KVM_X86_SNP_VM);
	TEST_ASSERT(e->vm >= 0, "KVM_CREATE_VM(KVM_X86_SNP_VM)");
	TEST_ASSERT(!init2(e->vm, 0, 0, 0), "KVM_SEV_INIT2");
	for (int i = 0; i < nvcpus; i++)
		TEST_ASSERT(ioctl(e->vm, KVM_CREATE_VCPU, i) >= 0, "KVM_CREATE_VCPU");
	e->gmem = gmem_create_fd(e->vm, SLOT_SIZE, GUEST_MEMFD_FLAG_MMAP);
	r.slot = 0;
	r.flags = KVM_MEM_GUEST_MEMFD;
	r.guest_phys_addr = GPA_BASE;
	r.memory_size = SLOT_SIZE;
	r.userspace_addr = (uint64_t)(uintptr_t)mmap(NULL, SLOT_SIZE,
			PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	r.guest_memfd = (uint32_t)e->gmem;
	TEST_ASSERT(!ioctl(e->vm, KVM_SET_USER_MEMORY_REGION2, &r),
		    "KVM_SET_USER_MEMORY_REGION2");
	e->shared = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 e->gmem, 0);
	TEST_ASSERT(e->shared != MAP_FAILED, "mmap of the guest_memfd");
}

static void snp_vm_close(struct snp_env *e)
{
	munmap(e->shared, SLOT_SIZE);
	close(e->gmem);
	close(e->vm);
}

static char digest[100];

/* The last "snp launch digest:" line of the log. */
static const char *last_digest(const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");

	digest[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "snp launch digest: ", 19))
			snprintf(digest, sizeof(digest), "%.96s", line + 19);
	if (f)
		fclose(f);
	return digest;
}

/* A full launch of two NORMAL pages and a CPUID page on nvcpus vCPUs:
 * the digest (96 hex digits) or "". */
static void launch(struct snp_env *e, int nvcpus, const char *log, char *out)
{
	static uint8_t src[2 * 4096] __attribute__((aligned(4096)));
	struct gmem_kvm_sev_snp_launch_update u = { 0 };

	memset(src, 0x5a, sizeof(src));
	snp_vm(e, nvcpus);
	TEST_ASSERT(!start(e->vm, e->sev, 0x30000, 0, NULL), "LAUNCH_START");
	TEST_ASSERT(!vm_attrs(e->vm, GPA_BASE, SLOT_SIZE, PRIVATE, 0), "private");
	u.gfn_start = GPA_BASE / PG;
	u.uaddr = (uint64_t)(uintptr_t)src;
	u.len = sizeof(src);
	u.type = KVM_SEV_SNP_PAGE_TYPE_NORMAL;
	TEST_ASSERT(!update(e->vm, e->sev, &u, NULL), "LAUNCH_UPDATE");
	TEST_ASSERT(!finish(e->vm, e->sev, 0, NULL), "LAUNCH_FINISH");
	strcpy(out, last_digest(log));
	snp_vm_close(e);
}

int main(void)
{
	static uint8_t src[4 * 4096] __attribute__((aligned(4096)));
	struct gmem_kvm_sev_snp_launch_update u;
	struct snp_cpuid_table *t;
	struct sev_user_data_status st = { 0 };
	struct gmem_sev_user_data_snp_status sst;
	struct sev_issue_cmd ic;
	struct snp_env e = { 0 };
	char logbuf[256], d1[100], d2[100], d3[100];
	const char *log = getenv("GMEM_COMPAT_LOG");
	uint64_t feats = 0;
	struct kvm_device_attr attr = {
		.group = KVM_X86_GRP_SEV, .attr = KVM_X86_SEV_VMSA_FEATURES,
		.addr = (uint64_t)(uintptr_t)&feats,
	};
	unsigned err;
	long types;
	int vm2, r;

	if (!log) {
		snprintf(logbuf, sizeof(logbuf), "/tmp/gmem-snp-launch.%d.log",
			 (int)getpid());
		setenv("GMEM_COMPAT_LOG", logbuf, 1);
		log = logbuf;
	}
	e.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_REQUIRE(e.kvm >= 0, "/dev/kvm: %s", strerror(errno));
	plan_lazy();
	types = ioctl(e.kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	ok(types > 0 && (types & (1L << KVM_X86_SNP_VM)),
	   "KVM_X86_SNP_VM is a supported VM type (KVM_CAP_VM_TYPES %#lx)", types);
	if (!(types > 0 && (types & (1L << KVM_X86_SNP_VM))))
		done();

	/* ---- /dev/sev ---- */
	e.sev = open("/dev/sev", O_RDWR);
	ok(e.sev >= 0, "open(/dev/sev)");
	ic = (struct sev_issue_cmd){ .cmd = SEV_PLATFORM_STATUS,
				     .data = (uint64_t)(uintptr_t)&st };
	r = ioctl(e.sev, SEV_ISSUE_CMD, &ic);
	ok(!r && st.api_major >= 1 && st.state == 1 &&
	   (st.flags & SEV_STATUS_FLAGS_CONFIG_ES),
	   "SEV_PLATFORM_STATUS: API %u.%u build %u, state INIT, SEV-ES",
	   st.api_major, st.api_minor, st.build);
	memset(&sst, 0, sizeof(sst));
	ic = (struct sev_issue_cmd){ .cmd = SNP_PLATFORM_STATUS,
				     .data = (uint64_t)(uintptr_t)&sst };
	r = ioctl(e.sev, SEV_ISSUE_CMD, &ic);
	ok(!r && sst.state == 1 && (sst.is_rmp_initialized & 1),
	   "SNP_PLATFORM_STATUS: SNP initialized, RMP set up");
	ic = (struct sev_issue_cmd){ .cmd = 77 };
	ok(ioctl(e.sev, SEV_ISSUE_CMD, &ic) == -1 && errno == EINVAL,
	   "SEV_ISSUE_CMD of an unknown command: EINVAL");
	ic = (struct sev_issue_cmd){ .cmd = SEV_PDH_CERT_EXPORT };
	ok(ioctl(e.sev, SEV_ISSUE_CMD, &ic) == -1 && errno == EIO &&
	   ic.error == SEV_RET_UNSUPPORTED,
	   "SEV_PDH_CERT_EXPORT: EIO, firmware SEV_RET_UNSUPPORTED (not modelled)");
	{
		int fd = open("/dev/sev", O_RDWR | O_CREAT | O_TRUNC, 0600);
		struct stat sb;

		ic = (struct sev_issue_cmd){ .cmd = SEV_PLATFORM_STATUS,
					     .data = (uint64_t)(uintptr_t)&st };
		ok(fd >= 0 && !ioctl(fd, SEV_ISSUE_CMD, &ic),
		   "open(/dev/sev, O_CREAT | O_TRUNC): the device, as the kernel opens an existing one");
		close(fd);
		errno = 0;
		ok(open("/dev/sev", O_RDWR | O_CREAT | O_EXCL, 0600) == -1 &&
		   errno == EEXIST, "open(/dev/sev, O_CREAT | O_EXCL): EEXIST");
		errno = 0;
		ok(open("/dev/sev", O_RDONLY | O_DIRECTORY) == -1 &&
		   errno == ENOTDIR, "open(/dev/sev, O_DIRECTORY): ENOTDIR");
		fd = open("/dev/sev", O_PATH);
		errno = 0;
		ok(fd >= 0 && ioctl(fd, SEV_ISSUE_CMD, &ic) == -1 && errno == EBADF,
		   "open(/dev/sev, O_PATH): a descriptor that takes no ioctl (EBADF)");
		close(fd);
		/* the file system underneath is untouched: the raw system call
		 * sees no /dev/sev on a host without SEV */
		ok(syscall(SYS_newfstatat, AT_FDCWD, "/dev/sev", &sb, 0) == -1 ||
		   S_ISCHR(sb.st_mode),
		   "no /dev/sev file was created underneath");
		errno = 0;
		ok(ioctl(e.sev, _IO('S', 0x7f), NULL) == -1 && errno == EINVAL,
		   "an ioctl other than SEV_ISSUE_CMD: EINVAL, as sev_ioctl()");
		ic = (struct sev_issue_cmd){ .cmd = SEV_PDH_CERT_EXPORT };
	}
	{
		int other = open("/dev/null", O_RDONLY);

		ok(other >= 0 && ioctl(other, SEV_ISSUE_CMD, &ic) == -1 &&
		   errno == ENOTTY, "other paths open as usual");
		close(other);
	}

	/* ---- KVM_GET_DEVICE_ATTR ---- */
	ok(!ioctl(e.kvm, KVM_HAS_DEVICE_ATTR, &attr) &&
	   !ioctl(e.kvm, KVM_GET_DEVICE_ATTR, &attr) &&
	   feats == GMEM_SVM_SEV_FEAT_DEBUG_SWAP,
	   "KVM_X86_SEV_VMSA_FEATURES = DEBUG_SWAP (%#llx)", (unsigned long long)feats);
	attr.attr = 7;
	ok(ioctl(e.kvm, KVM_GET_DEVICE_ATTR, &attr) == -1 && errno == ENXIO,
	   "an unknown attribute of KVM_X86_GRP_SEV: ENXIO");

	/* ---- order rules before KVM_SEV_INIT2 ---- */
	e.vm = ioctl(e.kvm, KVM_CREATE_VM, KVM_X86_SNP_VM);
	TEST_ASSERT(e.vm >= 0, "KVM_CREATE_VM");
	ok(ioctl(e.vm, KVM_MEMORY_ENCRYPT_OP, NULL) == 0,
	   "KVM_MEMORY_ENCRYPT_OP(NULL) = 0");
	ok_ret(start(e.vm, e.sev, 0x30000, 0, NULL), -ENOTTY,
	       "LAUNCH_START before KVM_SEV_INIT2: ENOTTY");
	u = (struct gmem_kvm_sev_snp_launch_update){ .gfn_start = 0x100, .len = PG, .type = 1 };
	ok_ret(update(e.vm, e.sev, &u, NULL), -EINVAL,
	       "LAUNCH_UPDATE before LAUNCH_START: EINVAL");
	ok_ret(finish(e.vm, e.sev, 0, NULL), -ENOTTY,
	       "LAUNCH_FINISH before KVM_SEV_INIT2: ENOTTY");
	ok_ret(sev_cmd(e.vm, KVM_SEV_INIT, NULL, e.sev, NULL), -EINVAL,
	       "KVM_SEV_INIT on an SNP VM: EINVAL");
	ok_ret(sev_cmd(e.vm, 60, NULL, e.sev, NULL), -EINVAL, "unknown command id: EINVAL");
	ok_ret(sev_cmd(e.vm, KVM_SEV_INIT2, NULL, e.sev, NULL), -EFAULT,
	       "KVM_SEV_INIT2 without its struct: EFAULT");
	ok_ret(init2(e.vm, 0, 1, 0), -EINVAL, "KVM_SEV_INIT2 flags: EINVAL");
	ok_ret(init2(e.vm, 1ULL << 3, 0, 0), -EINVAL,
	       "KVM_SEV_INIT2 unsupported vmsa_features: EINVAL");
	ok_ret(init2(e.vm, 0, 0, 3), -EINVAL, "KVM_SEV_INIT2 ghcb_version 3: EINVAL");
	ok_ret(init2(e.vm, GMEM_SVM_SEV_FEAT_DEBUG_SWAP, 0, 2), 0, "KVM_SEV_INIT2");
	ok_ret(init2(e.vm, 0, 0, 0), -EPERM, "KVM_SEV_INIT2 again: EPERM");
	ok_ret(sev_cmd(e.vm, KVM_SEV_LAUNCH_START, NULL, e.sev, NULL), -EPERM,
	       "an SEV (non-SNP) command after KVM_SEV_INIT2: EPERM");
	ok_ret(finish(e.vm, e.sev, 0, NULL), -EINVAL,
	       "LAUNCH_FINISH before LAUNCH_START: EINVAL");

	/* ---- LAUNCH_START ---- */
	ok_ret(start(e.vm, e.sev, 0x30000, 1, NULL), -EINVAL, "LAUNCH_START flags: EINVAL");
	ok_ret(start(e.vm, e.sev, 0x10000, 0, NULL), -EINVAL,
	       "LAUNCH_START policy without the must-be-one bit 17: EINVAL");
	ok_ret(start(e.vm, e.sev, 0x30000 | (1ULL << 21), 0, NULL), -EINVAL,
	       "LAUNCH_START unknown policy bit: EINVAL");
	ok_ret(start(e.vm, e.kvm, 0x30000, 0, NULL), -ENOTTY,
	       "LAUNCH_START with a sev_fd that is not /dev/sev: ENOTTY");
	err = 0;
	r = start(e.vm, e.sev, 0x30000 | 0x0200, 0, &err);
	ok(r == -EIO && err == SEV_RET_POLICY_FAILURE,
	   "LAUNCH_START policy ABI 2.0 above the firmware's: EIO, POLICY_FAILURE (%d, %#x)",
	   r, err);
	ok_ret(start(e.vm, e.sev, 0x30000, 0, NULL), 0, "LAUNCH_START");
	ok_ret(start(e.vm, e.sev, 0x30000, 0, NULL), -EINVAL, "LAUNCH_START again: EINVAL");
	close(e.vm);

	/* KVM_SEV_INIT2 after a vCPU: EINVAL. */
	vm2 = ioctl(e.kvm, KVM_CREATE_VM, KVM_X86_SNP_VM);
	TEST_ASSERT(vm2 >= 0 && ioctl(vm2, KVM_CREATE_VCPU, 0) >= 0, "vCPU");
	ok_ret(init2(vm2, 0, 0, 0), -EINVAL, "KVM_SEV_INIT2 after KVM_CREATE_VCPU: EINVAL");
	close(vm2);

	/* ---- KVM_SET_MEMORY_ATTRIBUTES on the VM fd ---- */
	snp_vm(&e, 1);
	ok_ret(vm_attrs(e.vm, GPA_BASE, PG, PRIVATE, 1), -EINVAL,
	       "KVM_SET_MEMORY_ATTRIBUTES flags: EINVAL");
	ok_ret(vm_attrs(e.vm, GPA_BASE + 1, PG, PRIVATE, 0), -EINVAL,
	       "KVM_SET_MEMORY_ATTRIBUTES misaligned address: EINVAL");
	ok_ret(vm_attrs(e.vm, GPA_BASE, 0, PRIVATE, 0), -EINVAL,
	       "KVM_SET_MEMORY_ATTRIBUTES size 0: EINVAL");
	ok_ret(vm_attrs(e.vm, GPA_BASE, PG, 1, 0), -EINVAL,
	       "KVM_SET_MEMORY_ATTRIBUTES unknown attribute: EINVAL");
	ok_ret(vm_attrs(e.vm, ~0ULL & ~(PG - 1), 2 * PG, PRIVATE, 0), -EINVAL,
	       "KVM_SET_MEMORY_ATTRIBUTES overflowing range: EINVAL");
	ok_ret(vm_attrs(e.vm, 0, GPA_BASE + SLOT_SIZE + PG, SHARED, 0), 0,
	       "KVM_SET_MEMORY_ATTRIBUTES shared over the memslot and beyond");
	sigbus_catch();
	ok(peek(e.shared) == 0 && peek(e.shared + SLOT_SIZE - 1) == 0,
	   "the guest_memfd's pages became shared in place (host mapping readable)");
	ok_ret(vm_attrs(e.vm, GPA_BASE, 8 * PG, PRIVATE, 0), 0,
	       "KVM_SET_MEMORY_ATTRIBUTES private over the first 8 pages");
	ok(peek(e.shared) == -1 && peek(e.shared + 8 * PG) == 0,
	   "private pages of the file are the guest's (SIGBUS), the others stay shared");

	/* ---- LAUNCH_UPDATE ---- */
	TEST_ASSERT(!start(e.vm, e.sev, 0x30000, 0, NULL), "LAUNCH_START");
	memset(src, 0xa5, sizeof(src));
	u = (struct gmem_kvm_sev_snp_launch_update){
		.gfn_start = GPA_BASE / PG, .uaddr = (uint64_t)(uintptr_t)src,
		.len = 2 * PG, .type = KVM_SEV_SNP_PAGE_TYPE_NORMAL,
	};
	{
		struct gmem_kvm_sev_snp_launch_update b = u;

		b.len = 0;
		ok_ret(update(e.vm, e.sev, &b, NULL), -EINVAL, "LAUNCH_UPDATE len 0: EINVAL");
		b = u;
		b.len = PG + 1;
		ok_ret(update(e.vm, e.sev, &b, NULL), -EINVAL,
		       "LAUNCH_UPDATE len not page aligned: EINVAL");
		b = u;
		b.flags = 1;
		ok_ret(update(e.vm, e.sev, &b, NULL), -EINVAL, "LAUNCH_UPDATE flags: EINVAL");
		b = u;
		b.type = GMEM_SNP_FW_PAGE_TYPE_VMSA;
		ok_ret(update(e.vm, e.sev, &b, NULL), -EINVAL,
		       "LAUNCH_UPDATE type VMSA (KVM adds those itself): EINVAL");
		b = u;
		b.type = 7;
		ok_ret(update(e.vm, e.sev, &b, NULL), -EINVAL, "LAUNCH_UPDATE type 7: EINVAL");
		b = u;
		b.gfn_start = 0x10;
		ok_ret(update(e.vm, e.sev, &b, NULL), -EINVAL,
		       "LAUNCH_UPDATE outside any guest_memfd memslot: EINVAL");
		b = u;
		b.gfn_start = GPA_BASE / PG + (1ULL << 52);	/* * 4 KiB wraps to GPA_BASE */
		ok_ret(update(e.vm, e.sev, &b, NULL), -EINVAL,
		       "LAUNCH_UPDATE at a GFN past 2^52 (no memslot): EINVAL");
		b = u;
		b.gfn_start = GPA_BASE / PG + 8;
		err = 77;
		r = update(e.vm, e.sev, &b, &err);
		ok(r == -EIO && err == 0 && b.gfn_start == GPA_BASE / PG + 8,
		   "LAUNCH_UPDATE of a shared range: EIO, no firmware error, nothing done (%d, %#x)",
		   r, err);
		ok_ret(sev_cmd(e.vm, KVM_SEV_SNP_LAUNCH_UPDATE, NULL, e.sev, NULL), -EFAULT,
		       "LAUNCH_UPDATE without its struct: EFAULT");
		b = u;
		err = 77;
		r = update(e.vm, e.kvm, &b, &err);
		ok(r == -EIO && err == 0 && b.gfn_start == u.gfn_start && b.len == u.len,
		   "LAUNCH_UPDATE with a sev_fd that is not /dev/sev: EIO, nothing done");
	}
	ok_ret(update(e.vm, e.sev, &u, NULL), 0, "LAUNCH_UPDATE of 2 NORMAL pages");
	ok(u.gfn_start == GPA_BASE / PG + 2 && u.len == 0 &&
	   u.uaddr == (uint64_t)(uintptr_t)src + 2 * PG,
	   "progress written back: gfn_start + 2, uaddr + 8 KiB, len 0");
	u.gfn_start = GPA_BASE / PG;
	u.uaddr = (uint64_t)(uintptr_t)src;
	u.len = PG;
	err = 77;
	ok(update(e.vm, e.sev, &u, &err) == -EIO && err == 0,
	   "LAUNCH_UPDATE of a page already in the launch: EIO");
	{
		/* Its bytes are the launch's (ciphertext), not the second
		 * source: the refused update left them alone. */
		struct kvm_memory_attributes2 a = {
			.offset = 0, .size = PG, .attributes = SHARED,
			.flags = F_PRESERVE,
		};
		uint8_t seen[64];
		int e2 = __set_attrs(e.gmem, &a);

		memcpy(seen, e.shared, sizeof(seen));
		ok(!e2 && memcmp(seen, src, sizeof(seen)),
		   "the refused update did not overwrite the launched page (still ciphertext)");
		a.attributes = PRIVATE;
		TEST_ASSERT(!__set_attrs(e.gmem, &a), "back to private");
	}
	/* Pages 2..7 private, 8.. shared: a 8-page update stops after 6. */
	u = (struct gmem_kvm_sev_snp_launch_update){
		.gfn_start = GPA_BASE / PG + 2, .len = 8 * PG,
		.type = KVM_SEV_SNP_PAGE_TYPE_ZERO, .uaddr = 0x1000,
	};
	ok_ret(update(e.vm, e.sev, &u, NULL), 0, "LAUNCH_UPDATE ZERO over private and shared pages");
	ok(u.gfn_start == GPA_BASE / PG + 8 && u.len == 2 * PG && u.uaddr == 0x1000,
	   "partial progress: 6 pages done, 2 left, uaddr untouched for ZERO (gfn %#llx len %#llx)",
	   (unsigned long long)u.gfn_start, (unsigned long long)u.len);
	ok(update(e.vm, e.sev, &u, NULL) == -EIO, "the rest (shared): EIO");

	/* Across the end of the memslot: clipped to it. */
	TEST_ASSERT(!vm_attrs(e.vm, GPA_BASE + 8 * PG, 8 * PG, PRIVATE, 0), "private");
	u = (struct gmem_kvm_sev_snp_launch_update){
		.gfn_start = GPA_BASE / PG + 14, .len = 4 * PG,
		.type = KVM_SEV_SNP_PAGE_TYPE_UNMEASURED,
		.uaddr = (uint64_t)(uintptr_t)src,
	};
	ok_ret(update(e.vm, e.sev, &u, NULL), 0, "LAUNCH_UPDATE past the memslot's end");
	ok(u.len == 2 * PG && u.gfn_start == (GPA_BASE + SLOT_SIZE) / PG,
	   "stops at the end of the memslot (2 pages done)");

	/* A CPUID page the firmware rejects: reserved field set. */
	memset(src, 0, PG);
	t = (struct snp_cpuid_table *)src;
	t->count = 2;
	t->fn[0].eax_in = 0;
	t->fn[0].eax = 1;
	t->fn[1].eax_in = 0x80000000;
	t->fn[1].eax = 0x80000008;
	t->fn[1].reserved = 0xbad;
	u = (struct gmem_kvm_sev_snp_launch_update){
		.gfn_start = GPA_BASE / PG + 8, .len = PG,
		.type = KVM_SEV_SNP_PAGE_TYPE_CPUID, .uaddr = (uint64_t)(uintptr_t)src,
	};
	err = 0;
	r = update(e.vm, e.sev, &u, &err);
	ok(r == -EIO && err == SEV_RET_INVALID_PARAM,
	   "CPUID page with a reserved field set: EIO, SEV_RET_INVALID_PARAM (%d, %#x)", r, err);
	ok(t->fn[1].reserved == 0 && t->fn[1].eax == 0x80000008 && t->count == 2,
	   "the firmware's corrected page was copied back to uaddr");
	ok(u.gfn_start == GPA_BASE / PG + 8 && u.len == PG, "no progress reported");
	ok_ret(update(e.vm, e.sev, &u, NULL), 0, "the corrected CPUID page passes");
	ok(t->fn[1].reserved == 0, "and is left as it was");

	/* ---- LAUNCH_FINISH ---- */
	ok_ret(finish(e.vm, e.sev, 1, NULL), -EINVAL, "LAUNCH_FINISH flags: EINVAL");
	ok_ret(finish(e.vm, e.kvm, 0, NULL), -EBADF,
	       "LAUNCH_FINISH with a sev_fd that is not /dev/sev: EBADF");
	ok_ret(finish(e.vm, e.sev, 0, NULL), 0, "LAUNCH_FINISH");
	ok(strlen(last_digest(log)) == 96, "the log ends the launch with its digest (%s)",
	   digest);
	u = (struct gmem_kvm_sev_snp_launch_update){
		.gfn_start = GPA_BASE / PG + 9, .len = PG,
		.type = KVM_SEV_SNP_PAGE_TYPE_NORMAL, .uaddr = (uint64_t)(uintptr_t)src,
	};
	err = 0;
	ok(update(e.vm, e.sev, &u, &err) == -EIO && err == SEV_RET_INVALID_GUEST_STATE,
	   "LAUNCH_UPDATE after LAUNCH_FINISH: EIO, SEV_RET_INVALID_GUEST_STATE");
	err = 0;
	ok(finish(e.vm, e.sev, 0, &err) == -EIO && err == SEV_RET_INVALID_GUEST_STATE,
	   "LAUNCH_FINISH again: EIO, SEV_RET_INVALID_GUEST_STATE");
	snp_vm_close(&e);

	/* A vCPU being debugged, or with DR7 breakpoints, cannot be
	 * launched (sev_es_sync_vmsa()). */
	{
		struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE };
		struct kvm_debugregs dr;
		int v;

		snp_vm(&e, 0);
		v = ioctl(e.vm, KVM_CREATE_VCPU, 0);
		TEST_ASSERT(v >= 0, "KVM_CREATE_VCPU");
		TEST_ASSERT(!start(e.vm, e.sev, 0x30000, 0, NULL), "LAUNCH_START");
		TEST_ASSERT(!ioctl(v, KVM_SET_GUEST_DEBUG, &dbg), "KVM_SET_GUEST_DEBUG");
		ok_ret(finish(e.vm, e.sev, 0, NULL), -EINVAL,
		       "LAUNCH_FINISH of a vCPU with KVM_SET_GUEST_DEBUG enabled: EINVAL");
		dbg.control = 0;
		TEST_ASSERT(!ioctl(v, KVM_SET_GUEST_DEBUG, &dbg), "KVM_SET_GUEST_DEBUG");
		TEST_ASSERT(!ioctl(v, KVM_GET_DEBUGREGS, &dr), "KVM_GET_DEBUGREGS");
		dr.dr7 = 0x401;
		TEST_ASSERT(!ioctl(v, KVM_SET_DEBUGREGS, &dr), "KVM_SET_DEBUGREGS");
		ok_ret(finish(e.vm, e.sev, 0, NULL), -EINVAL,
		       "LAUNCH_FINISH of a vCPU with a DR7 breakpoint: EINVAL");
		dr.dr7 = 0x400;
		TEST_ASSERT(!ioctl(v, KVM_SET_DEBUGREGS, &dr), "KVM_SET_DEBUGREGS");
		ok_ret(finish(e.vm, e.sev, 0, NULL), 0, "and once both are cleared, LAUNCH_FINISH");
		close(v);
		snp_vm_close(&e);
	}

	/* ---- the digest ---- */
	launch(&e, 1, log, d1);
	launch(&e, 1, log, d2);
	launch(&e, 2, log, d3);
	ok(strlen(d1) == 96 && !strcmp(d1, d2),
	   "equal launches have equal digests (%.16s...)", d1);
	ok(strlen(d3) == 96 && strcmp(d1, d3),
	   "a second vCPU (its VMSA) changes the digest (%.16s...)", d3);

	close(e.sev);
	if (log == logbuf)
		unlink(logbuf);
	return done();
}
