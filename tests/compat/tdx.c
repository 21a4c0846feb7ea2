/* SPDX-License-Identifier: MIT */
/*
 * A TD launch through the uAPI only (Documentation/virt/kvm/x86/
 * intel-tdx.rst): KVM_CAP_VM_TYPES lists KVM_X86_TDX_VM, KVM_CREATE_VM
 * makes one, and KVM_MEMORY_ENCRYPT_OP serves every TDX command with the
 * kernel's order rules and errors: KVM_TDX_CAPABILITIES, KVM_TDX_INIT_VM,
 * KVM_TDX_INIT_VCPU, KVM_TDX_GET_CPUID, KVM_TDX_INIT_MEM_REGION (with and
 * without KVM_TDX_MEASURE_MEMORY_REGION, with a source page or, as v8
 * allows, in place), KVM_TDX_FINALIZE_VM; then the launched memory
 * converts in place.  The final MRTD is read from the shim's log
 * (GMEM_COMPAT_LOG): the same launch measures the same, other bytes
 * measure differently, unmeasured pages do not count.
 *
 * GMEM_COMPAT_POLICY=upstream (v8) has in-place population; under the
 * RFC v5 policies a region without a source is EOPNOTSUPP.
 */
#include <stdbool.h>

#include "uapi_test.h"

#define NPAGES 16
#define SIZE (NPAGES * PG)

static int kvm_fd;
static bool v8;
static char logpath[64];

static int tdx_op(int fd, uint32_t id, uint32_t flags, void *data, uint64_t hw_error)
{
	struct kvm_tdx_cmd c = { .id = id, .flags = flags,
				 .data = (uint64_t)(uintptr_t)data, .hw_error = hw_error };

	return ioctl(fd, KVM_MEMORY_ENCRYPT_OP, &c) ? errno : 0;
}

static const char *en(int e)
{
	return e ? ename(e) : "success";
}

/* KVM_TDX_INIT_VM's struct with room for 4 CPUID entries (a struct
 * ending in a flexible array cannot be a member). */
struct init_vm {
	_Alignas(8) uint8_t b[sizeof(struct kvm_tdx_init_vm) + 4 * sizeof(struct kvm_cpuid_entry2)];
};
#define IV(v) ((struct kvm_tdx_init_vm *)(void *)(v)->b)
#define ENT(v) (IV(v)->cpuid.entries)

static void init_vm_good(struct init_vm *v)
{
	memset(v, 0, sizeof(*v));
	IV(v)->attributes = TDX_TD_ATTR_SEPT_VE_DISABLE;
	IV(v)->xfam = 0x3;
	IV(v)->cpuid.nent = 2;
	ENT(v)[0].function = 0x1;
	ENT(v)[0].eax = 0x806f8;
	ENT(v)[1].function = 0x80000008;
	ENT(v)[1].eax = (48 << 16) | (48 << 8) | 46;	/* GPAW 48 */
}

/* A TD with one vCPU and a guest_memfd of NPAGES bound at GPA 0. */
struct td {
	int vm, vcpu, gmem;
	uint8_t *mem;
};

static int td_create(struct td *t, bool init_vcpu)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = 0, .flags = KVM_MEM_GUEST_MEMFD, .memory_size = SIZE,
	};
	struct init_vm v;

	t->vm = ioctl(kvm_fd, KVM_CREATE_VM, KVM_X86_TDX_VM);
	TEST_ASSERT(t->vm >= 0, "KVM_CREATE_VM(KVM_X86_TDX_VM)");
	init_vm_good(&v);
	TEST_ASSERT(!tdx_op(t->vm, KVM_TDX_INIT_VM, 0, &v, 0), "KVM_TDX_INIT_VM");
	t->gmem = gmem_create_fd(t->vm, SIZE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	r.guest_memfd = (uint32_t)t->gmem;
	TEST_ASSERT(!ioctl(t->vm, KVM_SET_USER_MEMORY_REGION2, &r), "memslot");
	t->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, t->gmem, 0);
	TEST_ASSERT(t->mem != MAP_FAILED, "mmap");
	t->vcpu = ioctl(t->vm, KVM_CREATE_VCPU, 0);
	TEST_ASSERT(t->vcpu >= 0, "KVM_CREATE_VCPU");
	if (init_vcpu)
		TEST_ASSERT(!tdx_op(t->vcpu, KVM_TDX_INIT_VCPU, 0, NULL, 0), "KVM_TDX_INIT_VCPU");
	return 0;
}

static void td_destroy(struct td *t)
{
	munmap(t->mem, SIZE);
	close(t->gmem);
	close(t->vcpu);
	close(t->vm);
}

static int add_region(int vcpu, uint64_t src, uint64_t gpa, uint64_t n,
		      uint32_t flags, struct kvm_tdx_init_mem_region *out)
{
	struct kvm_tdx_init_mem_region r = { .source_addr = src, .gpa = gpa, .nr_pages = n };
	int e = tdx_op(vcpu, KVM_TDX_INIT_MEM_REGION, flags, &r, 0);

	if (out)
		*out = r;
	return e;
}

/* The last "tdx: MRTD <hex>" line of the log, or "". */
static void last_mrtd(char out[97])
{
	char line[512];
	FILE *f = fopen(logpath, "r");

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "tdx: MRTD ", 10) && strlen(line) >= 10 + 96)
			memcpy(out, line + 10, 96), out[96] = 0;
	fclose(f);
}

/* A whole launch: firmware bytes `fill` in pages 0-3, in place and
 * measured, page 4 unmeasured with `extra`; returns the MRTD. */
static void launch(uint8_t fill, uint8_t extra, char mrtd[97])
{
	struct td t;

	td_create(&t, true);
	memset(t.mem, fill, 4 * PG);
	memset(t.mem + 4 * PG, extra, PG);
	set_attrs(t.gmem, 0, 5 * PG, PRIVATE, 0);
	TEST_ASSERT(!add_region(t.vcpu, 0, 0, 4, KVM_TDX_MEASURE_MEMORY_REGION, NULL) &&
		    !add_region(t.vcpu, 0, 4 * PG, 1, 0, NULL), "launch");
	TEST_ASSERT(!tdx_op(t.vm, KVM_TDX_FINALIZE_VM, 0, NULL, 0), "finalize");
	last_mrtd(mrtd);
	td_destroy(&t);
}

static void test_capabilities(int vm)
{
	_Alignas(8) uint8_t buf[sizeof(struct kvm_tdx_capabilities) +
				32 * sizeof(struct kvm_cpuid_entry2)];
	struct kvm_tdx_capabilities *caps = (void *)buf;
	uint32_t want;
	bool gpaw = false;
	int e;

	memset(buf, 0, sizeof(buf));
	e = tdx_op(vm, KVM_TDX_CAPABILITIES, 0, caps, 0);
	ok(e == E2BIG, "KVM_TDX_CAPABILITIES with nent 0: E2BIG (%s)", en(e));
	caps->cpuid.nent = 32;
	ok(tdx_op(vm, KVM_TDX_CAPABILITIES, 1, caps, 0) == EINVAL, "... flags set: EINVAL");
	ok(tdx_op(vm, KVM_TDX_CAPABILITIES, 0, caps, 1) == EINVAL, "... hw_error set on input: EINVAL");
	ok(tdx_op(vm, KVM_TDX_CAPABILITIES, 0, NULL, 0) == EFAULT, "... no data: EFAULT");
	caps->reserved[7] = 0xdead;
	e = tdx_op(vm, KVM_TDX_CAPABILITIES, 0, caps, 0);
	want = caps->cpuid.nent;
	ok(!e && want > 0 && want < 32 && !caps->reserved[7],
	   "KVM_TDX_CAPABILITIES: %u configurable CPUID leaves, the struct written whole (%s)",
	   want, en(e));
	ok(caps->supported_attrs == TDX_TD_ATTR_SEPT_VE_DISABLE && (caps->supported_xfam & 0x3) == 0x3,
	   "attributes %#llx (SEPT_VE_DISABLE, as KVM offers), XFAM %#llx",
	   (unsigned long long)caps->supported_attrs, (unsigned long long)caps->supported_xfam);
	for (uint32_t i = 0; i < want && i < 32; i++)
		if (caps->cpuid.entries[i].function == 0x80000008)
			gpaw = ((caps->cpuid.entries[i].eax >> 16) & 0xff) == 0xff;
	ok(gpaw, "CPUID 0x80000008 EAX[23:16] (the GPAW) is configurable");
	caps->cpuid.nent = want - 1;
	ok(tdx_op(vm, KVM_TDX_CAPABILITIES, 0, caps, 0) == E2BIG, "one entry short: E2BIG");
}

static void test_init_vm(int vm)
{
	struct init_vm v;
	int e;

	init_vm_good(&v);
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 1, &v, 0) == EINVAL, "KVM_TDX_INIT_VM: flags set: EINVAL");
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, NULL, 0) == EFAULT, "... no data: EFAULT");
	IV(&v)->reserved[11] = 1;
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... a reserved word set: EINVAL");
	init_vm_good(&v);
	IV(&v)->cpuid.padding = 1;
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... cpuid.padding set: EINVAL");
	init_vm_good(&v);
	IV(&v)->cpuid.nent = 257;
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == E2BIG, "... more than 256 CPUID entries: E2BIG");
	init_vm_good(&v);
	IV(&v)->attributes |= TDX_TD_ATTR_DEBUG;
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... the DEBUG attribute KVM does not offer: EINVAL");
	init_vm_good(&v);
	IV(&v)->xfam = 1ULL << 62;
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... an unsupported XFAM bit: EINVAL");
	init_vm_good(&v);
	IV(&v)->cpuid.nent = 1;
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... no CPUID 0x80000008 (no GPAW): EINVAL");
	init_vm_good(&v);
	ENT(&v)[1].eax = (52 << 16) | 48;
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... GPAW 52 without 5-level EPT: EINVAL");
	init_vm_good(&v);
	IV(&v)->cpuid.nent = 3;
	ENT(&v)[2].function = 0x2;
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... a CPUID leaf that is not configurable: EINVAL");
	init_vm_good(&v);
	IV(&v)->cpuid.nent = 3;
	ENT(&v)[2].function = 0x7;
	ENT(&v)[2].ebx = 1U << 11;	/* RTM */
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... TSX in CPUID 7: EINVAL");
	ok(tdx_op(vm, KVM_TDX_FINALIZE_VM, 0, NULL, 0) == EINVAL, "KVM_TDX_FINALIZE_VM before INIT_VM: EINVAL");
	e = ioctl(vm, KVM_CREATE_VCPU, 0) < 0 ? errno : 0;
	ok(e == EIO, "KVM_CREATE_VCPU before KVM_TDX_INIT_VM: EIO (%s)", en(e));
	init_vm_good(&v);
	e = tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0);
	ok(!e, "KVM_TDX_INIT_VM (%s)", en(e));
	ok(tdx_op(vm, KVM_TDX_INIT_VM, 0, &v, 0) == EINVAL, "... twice: EINVAL");
	ok(tdx_op(vm, KVM_TDX_GET_CPUID, 0, NULL, 0) == EINVAL, "a vCPU command on the VM fd: EINVAL");
	ok(tdx_op(vm, 99, 0, NULL, 0) == EINVAL, "an unknown command: EINVAL");
}

static void test_vcpu(struct td *t)
{
	_Alignas(8) uint8_t buf[sizeof(struct kvm_cpuid2) + 16 * sizeof(struct kvm_cpuid_entry2)];
	struct kvm_cpuid2 *cpuid = (void *)buf;
	bool leaf0 = false, gpaw = false;
	int e;

	e = add_region(t->vcpu, 0, 0, 1, 0, NULL);
	ok(e == EINVAL, "KVM_TDX_INIT_MEM_REGION before KVM_TDX_INIT_VCPU: EINVAL (%s)", en(e));
	memset(buf, 0, sizeof(buf));
	ok(tdx_op(t->vcpu, KVM_TDX_GET_CPUID, 0, cpuid, 0) == EIO,
	   "KVM_TDX_GET_CPUID before KVM_TDX_INIT_VCPU: EIO");
	ok(tdx_op(t->vcpu, KVM_TDX_INIT_VCPU, 1, NULL, 0) == EINVAL, "KVM_TDX_INIT_VCPU: flags set: EINVAL");
	ok(tdx_op(t->vcpu, KVM_TDX_INIT_VCPU, 0, NULL, 1) == EINVAL, "... hw_error set: EINVAL");
	e = tdx_op(t->vcpu, KVM_TDX_INIT_VCPU, 0, (void *)0x1000, 0);
	ok(!e, "KVM_TDX_INIT_VCPU, RCX 0x1000 (%s)", en(e));
	ok(tdx_op(t->vcpu, KVM_TDX_INIT_VCPU, 0, NULL, 0) == EINVAL, "... twice: EINVAL");

	e = tdx_op(t->vcpu, KVM_TDX_GET_CPUID, 0, cpuid, 0);
	ok(e == E2BIG && cpuid->nent > 0, "KVM_TDX_GET_CPUID with nent 0: E2BIG, nent says %u", cpuid->nent);
	e = tdx_op(t->vcpu, KVM_TDX_GET_CPUID, 0, cpuid, 0);
	for (uint32_t i = 0; !e && i < cpuid->nent; i++) {
		leaf0 |= cpuid->entries[i].function == 0 && cpuid->entries[i].eax >= 1;
		gpaw |= cpuid->entries[i].function == 0x80000008 &&
			((cpuid->entries[i].eax >> 16) & 0xff) == 48;
	}
	ok(!e && leaf0 && gpaw, "KVM_TDX_GET_CPUID: %u entries, leaf 0 and the configured GPAW (%s)",
	   cpuid->nent, en(e));
	ok(tdx_op(t->vcpu, KVM_TDX_GET_CPUID, 0, NULL, 0) == EFAULT, "... no data: EFAULT");
	ok(tdx_op(t->vcpu, KVM_TDX_CAPABILITIES, 0, cpuid, 0) == EINVAL, "a VM command on the vCPU fd: EINVAL");
}

static void test_mem_region(struct td *t)
{
	struct kvm_tdx_init_mem_region r;
	uint8_t *src;
	int e;

	ok(add_region(t->vcpu, 0, 0, 1, 2, NULL) == EINVAL, "KVM_TDX_INIT_MEM_REGION: an unknown flag: EINVAL");
	ok(add_region(t->vcpu, 0, PG / 2, 1, 0, NULL) == EINVAL, "... unaligned GPA: EINVAL");
	ok(add_region(t->vcpu, 8, 0, 1, 0, NULL) == EINVAL, "... unaligned source: EINVAL");
	ok(add_region(t->vcpu, 0, 0, 0, 0, NULL) == EINVAL, "... no pages: EINVAL");
	ok(add_region(t->vcpu, 0, 1ULL << 47, 1, 0, NULL) == EINVAL, "... a shared GPA (bit 47): EINVAL");
	ok(add_region(t->vcpu, 0, ~0ULL << 12, 2, 0, NULL) == EINVAL, "... GPA + size wraps: EINVAL");
	ok(tdx_op(t->vcpu, KVM_TDX_INIT_MEM_REGION, 0, NULL, 0) == EFAULT, "... no data: EFAULT");
	e = add_region(t->vcpu, 0, 0, 1, 0, &r);
	ok(e == EINVAL && r.nr_pages == 1, "... a shared page: EINVAL, nothing done (%s)", en(e));
	e = add_region(t->vcpu, 0, 64 * PG, 1, 0, &r);
	ok(e == EINVAL, "... a GPA no guest_memfd memslot holds: EINVAL (%s)", en(e));

	/* In place (v8): the firmware written into the shared pages, converted
	 * to private in place, measured from its own bytes. */
	for (int i = 0; i < 4 * (int)PG; i++)
		t->mem[i] = (uint8_t)(i * 7);
	set_attrs(t->gmem, 0, 4 * PG, PRIVATE, 0);
	e = add_region(t->vcpu, 0, 0, 4, KVM_TDX_MEASURE_MEMORY_REGION, &r);
	if (v8) {
		ok(!e && r.nr_pages == 0 && r.gpa == 4 * PG && r.source_addr == 0,
		   "in place, measured: 4 pages added, the region written back done (%s)", en(e));
		ok(peek(t->mem) == -1, "the added pages are private: the host's touch is SIGBUS");
		e = add_region(t->vcpu, 0, 2 * PG, 1, 0, &r);
		ok(e == EIO, "a page added twice: EIO (%s)", en(e));
	} else {
		ok(e == EOPNOTSUPP && r.nr_pages == 4,
		   "no source without in-place population (RFC v5): EOPNOTSUPP (%s)", en(e));
	}

	/* From a source page, unmeasured. */
	src = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(src != MAP_FAILED, "source");
	memset(src, 0xc5, 2 * PG);
	set_attrs(t->gmem, 4 * PG, 2 * PG, PRIVATE, 0);
	e = add_region(t->vcpu, (uint64_t)(uintptr_t)src, 4 * PG, 2, 0, &r);
	ok(!e && r.nr_pages == 0 && r.source_addr == (uint64_t)(uintptr_t)src + 2 * PG,
	   "from a source page, unmeasured: 2 pages, source_addr advanced (%s)", en(e));
	/* A region running into a shared page stops there, written back. */
	set_attrs(t->gmem, 6 * PG, PG, PRIVATE, 0);
	e = add_region(t->vcpu, (uint64_t)(uintptr_t)src, 6 * PG, 2, 0, &r);
	ok(e == EINVAL && r.nr_pages == 1 && r.gpa == 7 * PG,
	   "a region running into a shared page: EINVAL after the first, the region says where (%s)", en(e));
	munmap(src, 2 * PG);
}

int main(void)
{
	const char *pol = getenv("GMEM_COMPAT_POLICY");
	char m1[97], m2[97], m3[97], m4[97];
	struct td t;
	long types;
	int vm, e;

	v8 = pol && !strcmp(pol, "upstream");
	snprintf(logpath, sizeof(logpath), "/tmp/gmem-tdx-log.%d", (int)getpid());
	setenv("GMEM_COMPAT_LOG", logpath, 1);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_REQUIRE(kvm_fd >= 0, "/dev/kvm: %s", strerror(errno));
	plan_lazy();
	sigbus_catch();

	types = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	ok(types > 0 && (types & (1L << KVM_X86_TDX_VM)),
	   "KVM_CAP_VM_TYPES lists KVM_X86_TDX_VM (%#lx)", types);
	if (!(types > 0 && (types & (1L << KVM_X86_TDX_VM))))
		done();
	vm = ioctl(kvm_fd, KVM_CREATE_VM, KVM_X86_TDX_VM);
	ok(vm >= 0, "KVM_CREATE_VM(KVM_X86_TDX_VM)");
	if (vm < 0)
		done();
	test_capabilities(vm);
	test_init_vm(vm);
	close(vm);

	td_create(&t, false);
	test_vcpu(&t);
	test_mem_region(&t);
	e = tdx_op(t.vm, KVM_TDX_FINALIZE_VM, 0, NULL, 0);
	ok(!e, "KVM_TDX_FINALIZE_VM (%s)", en(e));
	last_mrtd(m1);
	ok(strlen(m1) == 96, "the log has the final MRTD: %.16s...", m1);
	ok(tdx_op(t.vm, KVM_TDX_FINALIZE_VM, 0, NULL, 0) == EINVAL, "... twice: EINVAL");
	ok(add_region(t.vcpu, 0, 8 * PG, 1, 0, NULL) == EINVAL, "KVM_TDX_INIT_MEM_REGION after finalize: EINVAL");
	ok(tdx_op(t.vcpu, KVM_TDX_GET_CPUID, 0, NULL, 0) == EINVAL, "KVM_TDX_GET_CPUID after finalize: EINVAL");
	e = ioctl(t.vm, KVM_CREATE_VCPU, 1) < 0 ? errno : 0;
	ok(e == EIO, "KVM_CREATE_VCPU after finalize: EIO (%s)", en(e));

	/* After the launch the memory converts in place under TDX's rules:
	 * the S-EPT removal clears a page the TD had. */
	e = set_attrs_err(t.gmem, 4 * PG, PG, SHARED, 0, NULL);
	ok(!e && peek(t.mem + 4 * PG) == 0,
	   "an added page converted to shared: the host reads the zeros the S-EPT removal left (%s)", en(e));
	ok(poke(t.mem + 4 * PG, 0x42) == 0 && !set_attrs_err(t.gmem, 4 * PG, PG, PRIVATE, 0, NULL) &&
	   peek(t.mem + 4 * PG) == -1, "... and back to private: SIGBUS again");
	td_destroy(&t);

	if (v8) {
		launch(0x11, 0x22, m1);
		launch(0x11, 0x22, m2);
		launch(0x33, 0x22, m3);
		launch(0x11, 0x44, m4);
		ok(m1[0] && !strcmp(m1, m2), "the same launch measures the same MRTD");
		ok(strcmp(m1, m3), "other measured bytes, another MRTD");
		ok(!strcmp(m1, m4), "an unmeasured page's bytes do not count");
	}

	vm = ioctl(kvm_fd, KVM_CREATE_VM, KVM_X86_DEFAULT_VM);
	TEST_ASSERT(vm >= 0, "default VM");
	e = tdx_op(vm, KVM_TDX_CAPABILITIES, 0, NULL, 0);
	ok(e == ENOTTY || e == EINVAL, "TDX commands on a default VM: the kernel's answer (%s)", en(e));
	close(vm);
	close(kvm_fd);
	unlink(logpath);
	return done();
}
