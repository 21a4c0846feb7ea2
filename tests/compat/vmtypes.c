/* SPDX-License-Identifier: MIT */
/*
 * VM types through the uAPI only: KVM_CAP_VM_TYPES lists the software-
 * protected and SEV-SNP types, KVM_CREATE_VM makes them, each answers the
 * capabilities its type changes, a type nobody knows is the kernel's
 * EINVAL, and KVM_MEMORY_ENCRYPT_OP reaches only the types that have it.
 * The platform follows the VM type: an SNP VM's content modes are SNP's
 * whatever GMEM_COMPAT_PLATFORM says.
 */
#include "uapi_test.h"

static long cap(int fd, long c)
{
	return ioctl(fd, KVM_CHECK_EXTENSION, c);
}

static int create_vm(int kvm, unsigned long type)
{
	int fd = ioctl(kvm, KVM_CREATE_VM, type);

	return fd < 0 ? -errno : fd;
}

int main(void)
{
	struct kvm_sev_cmd cmd = { 0 };
	const char *pol = getenv("GMEM_COMPAT_POLICY");
	const long vm_attrs = pol && !strcmp(pol, "upstream") ? 0 : (long)PRIVATE;
	int kvm, vm, sw, snp, vcpu, r;
	long types;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_REQUIRE(kvm >= 0, "/dev/kvm: %s", strerror(errno));
	plan_lazy();

	types = cap(kvm, KVM_CAP_VM_TYPES);
	ok(types > 0 && (types & (1L << KVM_X86_SNP_VM)),
	   "KVM_CAP_VM_TYPES on /dev/kvm lists KVM_X86_SNP_VM (%#lx)", types);
	if (!(types > 0 && (types & (1L << KVM_X86_SNP_VM))))
		done();
	ok((types & (1L << KVM_X86_DEFAULT_VM)) &&
	   (types & (1L << KVM_X86_SW_PROTECTED_VM)),
	   "and the default and software-protected types");

	vm = create_vm(kvm, KVM_X86_DEFAULT_VM);
	sw = create_vm(kvm, KVM_X86_SW_PROTECTED_VM);
	snp = create_vm(kvm, KVM_X86_SNP_VM);
	ok(vm >= 0 && sw >= 0 && snp >= 0, "KVM_CREATE_VM of the default, "
	   "software-protected and SNP types (%d %d %d)", vm, sw, snp);
	if (vm < 0 || sw < 0 || snp < 0)
		done();
	ok(cap(snp, KVM_CAP_VM_TYPES) == types, "KVM_CAP_VM_TYPES on a VM fd");
	ok_ret(create_vm(kvm, 63), -EINVAL, "KVM_CREATE_VM of an unknown type");

	/* v8 (GMEM_COMPAT_POLICY=upstream) keeps PRIVATE in the guest_memfd:
	 * no VM type advertises it in the VM's attributes. */
	ok(cap(snp, KVM_CAP_MEMORY_ATTRIBUTES) == vm_attrs,
	   "SNP VM: KVM_CAP_MEMORY_ATTRIBUTES = %#lx", vm_attrs);
	ok(cap(sw, KVM_CAP_MEMORY_ATTRIBUTES) == vm_attrs,
	   "software-protected VM: KVM_CAP_MEMORY_ATTRIBUTES = %#lx", vm_attrs);
	ok(cap(snp, KVM_CAP_READONLY_MEM) == 0,
	   "SNP VM: no read-only memslots (KVM_CAP_READONLY_MEM = 0)");
	ok(cap(snp, KVM_CAP_X86_SMM) == 0,
	   "SNP VM: no SMM (KVM_CAP_X86_SMM = 0)");
	ok(cap(vm, KVM_CAP_READONLY_MEM) == cap(kvm, KVM_CAP_READONLY_MEM),
	   "default VM: the kernel's KVM_CAP_READONLY_MEM");
	ok(cap(snp, KVM_CAP_USER_MEMORY) > 0, "other capabilities are the kernel's");

	errno = 0;
	r = ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &cmd);
	ok(r == -1 && errno == ENOTTY,
	   "default VM: KVM_MEMORY_ENCRYPT_OP is the kernel's ENOTTY (%s)", ename(errno));
	errno = 0;
	r = ioctl(sw, KVM_MEMORY_ENCRYPT_OP, &cmd);
	ok(r == -1 && errno == ENOTTY,
	   "software-protected VM: KVM_MEMORY_ENCRYPT_OP is ENOTTY (%s)", ename(errno));
	ok(ioctl(snp, KVM_MEMORY_ENCRYPT_OP, NULL) == 0,
	   "SNP VM: KVM_MEMORY_ENCRYPT_OP with no argument is 0, as the kernel's");

	vcpu = ioctl(snp, KVM_CREATE_VCPU, 0);
	ok(vcpu >= 0, "KVM_CREATE_VCPU on an SNP VM");
	ok(ioctl(snp, KVM_CREATE_VCPU, 0) == -1 && errno == EEXIST,
	   "the kernel's EEXIST for the same vCPU id");
	if (vcpu >= 0)
		close(vcpu);

	/* KVM_SET_MEMORY_ATTRIBUTES on the VM fd: the kernel's ENOTTY on a
	 * default VM; on a software-protected one it converts the
	 * guest_memfd behind the memslot. */
	{
		struct kvm_memory_attributes a = {
			.address = 0x100000, .size = PG,
			.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
		};
		struct kvm_userspace_memory_region2 r = {
			.flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = 0x100000,
			.memory_size = 4 * PG,
		};
		int g = __gmem_create(sw, 4 * PG, GUEST_MEMFD_FLAG_MMAP |
				      GUEST_MEMFD_FLAG_INIT_SHARED);
		uint8_t *m = g >= 0 ? mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
					   MAP_SHARED, g, 0) : MAP_FAILED;

		errno = 0;
		ok(ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &a) == -1 && errno == ENOTTY,
		   "default VM: KVM_SET_MEMORY_ATTRIBUTES is the kernel's ENOTTY (%s)",
		   ename(errno));
		TEST_ASSERT(m != MAP_FAILED, "guest_memfd of the software-protected VM");
		r.userspace_addr = (uint64_t)(uintptr_t)m;
		r.guest_memfd = (uint32_t)g;
		TEST_ASSERT(!ioctl(sw, KVM_SET_USER_MEMORY_REGION2, &r), "memslot");
		sigbus_catch();
		/* A VMM uses the VM-fd form where the VM advertises it. */
		if (!(cap(sw, KVM_CAP_MEMORY_ATTRIBUTES) & (long)PRIVATE)) {
			ok(1, "software-protected VM: KVM_SET_MEMORY_ATTRIBUTES on the VM fd "
			   "# SKIP KVM_CAP_MEMORY_ATTRIBUTES does not advertise PRIVATE");
			ok(1, "and shared again # SKIP as above");
		} else {
			ok(!ioctl(sw, KVM_SET_MEMORY_ATTRIBUTES, &a) && peek(m) == -1 &&
			   peek(m + PG) == 0,
			   "software-protected VM: KVM_SET_MEMORY_ATTRIBUTES(PRIVATE) on the VM fd "
			   "makes the memslot's page private in the guest_memfd");
			a.attributes = 0;
			ok(!ioctl(sw, KVM_SET_MEMORY_ATTRIBUTES, &a) && peek(m) == 0,
			   "and shared again");
		}
		munmap(m, 4 * PG);
		close(g);
	}

	/* The platform follows the type: SNP refuses ZERO to-private. */
	{
		int g = __gmem_create(snp, 4 * PG, GUEST_MEMFD_FLAG_MMAP |
				      GUEST_MEMFD_FLAG_INIT_SHARED);

		ok(g >= 0, "KVM_CREATE_GUEST_MEMFD on the SNP VM");
		if (g >= 0 && !vm_attrs) {
			/* v8: no content modes; the conversion itself. */
			ok(set_attrs_err(g, 0, PG, PRIVATE, F_ZERO, NULL) == EINVAL,
			   "SNP VM: a content flag is EINVAL (v8 has none)");
			ok(set_attrs_err(g, 0, PG, PRIVATE, 0, NULL) == 0,
			   "SNP VM: to-private");
		} else if (g >= 0) {
			uint64_t eo = 0;

			ok(set_attrs_err(g, 0, PG, PRIVATE, F_ZERO, &eo) == EOPNOTSUPP,
			   "SNP VM: ZERO to-private is EOPNOTSUPP whatever "
			   "GMEM_COMPAT_PLATFORM says");
			ok(set_attrs_err(g, 0, PG, PRIVATE, F_PRESERVE, NULL) == 0,
			   "SNP VM: PRESERVE to-private");
		}
		if (g >= 0)
			close(g);
	}
	close(snp);
	close(sw);
	close(vm);
	return done();
}
