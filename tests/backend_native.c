/* SPDX-License-Identifier: MIT */
/*
 * The native backend against a fake kernel: KVM_SET_MEMORY_ATTRIBUTES2 and
 * the content-modes capability are answered by this test (the kernel here
 * lacks them), everything else goes to the real /dev/kvm.  Checks that the
 * probe selects native only when the ioctl works on a guest_memfd, that
 * conversions pass straight through with the struct unchanged, that the
 * kernel's errors and error_offset come back unchanged, that the attribute
 * mirror follows successes only, and that platforms the kernel cannot
 * create fall back to the next backend.
 */
#include <stdlib.h>

#include "tap.h"
#include "internal.h"
#include "backend/kvm.h"
#include "gmem/uapi.h"

#define PG GMEM_PAGE_SIZE

static struct {
	int calls;
	int err;			/* errno to fail with, or 0 */
	uint64_t error_offset;		/* reported on failure */
	long content_modes;		/* KVM_CHECK_EXTENSION answer */
	struct kvm_memory_attributes2 seen;
	int seen_fd;
} fake;

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	if (req == KVM_SET_MEMORY_ATTRIBUTES2) {
		struct kvm_memory_attributes2 *a = arg;

		fake.calls++;
		fake.seen = *a;
		fake.seen_fd = fd;
		if (fake.err) {
			a->error_offset = fake.error_offset;
			errno = fake.err;
			return -1;
		}
		return 0;
	}
	if (req == KVM_CHECK_EXTENSION &&
	    (unsigned long)arg == KVM_CAP_GUEST_MEMFD_CONTENT_MODES)
		return (int)fake.content_modes;
	return ioctl(fd, req, arg);
}

static void test_passthrough(void)
{
	struct gmem_vm *vm;
	struct gmem *g;
	uint64_t attrs, run, modes, eo = 0;
	struct gmem_attributes2 a = {
		.offset = 4 * PG, .size = 8 * PG,
		.attributes = GMEM_ATTR_PRIVATE, .flags = GMEM_CONTENT_PRESERVE,
	};

	ok_ret(gmem_vm_create(&vm, "default", NULL), 0, "default VM on native");
	TEST_ASSERT(!gmem_create(vm, 64 * PG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED, &g), "gmem");
	ok(!strcmp(gmem_backend_name(g), "native"), "backend %s", gmem_backend_name(g));

	fake.calls = 0;
	ok_ret(gmem_set_memory_attributes(g, &a), 0, "conversion passes through");
	ok(fake.calls == 1 && fake.seen_fd == g->fd, "one KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd fd");
	ok(!memcmp(&fake.seen, &a, sizeof(a)), "with the caller's struct unchanged");
	gmem_get_memory_attributes(g, 4 * PG, &attrs, &run);
	ok(attrs == GMEM_ATTR_PRIVATE && run == 8 * PG, "the mirror follows: private, run %llu",
	   (unsigned long long)run);

	fake.err = EAGAIN;
	fake.error_offset = 6 * PG;
	ok_ret(gmem_convert(g, 0, 16 * PG, 0, GMEM_CONTENT_ZERO, &eo), -EAGAIN,
	       "the kernel's EAGAIN comes back");
	ok(eo == 6 * PG, "with its error_offset 0x%llx", (unsigned long long)eo);
	gmem_get_memory_attributes(g, 4 * PG, &attrs, &run);
	ok(attrs == GMEM_ATTR_PRIVATE && run == 8 * PG, "and the mirror is unchanged");

	fake.err = EOPNOTSUPP;
	fake.error_offset = 0;
	ok_ret(gmem_convert(g, 0, PG, GMEM_ATTR_PRIVATE, GMEM_CONTENT_ZERO, &eo), -EOPNOTSUPP,
	       "EOPNOTSUPP comes back");
	fake.err = EINVAL;
	ok_ret(gmem_convert(g, 1, PG, GMEM_ATTR_PRIVATE, 0, &eo), -EINVAL,
	       "validation is the kernel's: EINVAL comes back");
	ok(fake.seen.offset == 1, "the invalid request reached the kernel as given");
	fake.err = 0;

	fake.content_modes = GMEM_CONTENT_ZERO;
	ok_ret(gmem_vm_content_modes(vm, GMEM_ATTR_PRIVATE, &modes), 0, "content modes");
	ok(modes == (GMEM_MODES_UNSPECIFIED | GMEM_CONTENT_ZERO), "answered by the kernel (0x%llx)",
	   (unsigned long long)modes);
	fake.content_modes = 0;
	gmem_vm_content_modes(vm, GMEM_ATTR_PRIVATE, &modes);
	ok(modes == (GMEM_MODES_UNSPECIFIED | GMEM_CONTENT_ZERO | GMEM_CONTENT_PRESERVE),
	   "else by the policy table (default VM, seed, to-private: all three, 0x%llx)",
	   (unsigned long long)modes);

	ok_ret(gmem_pin(g, 0), -EOPNOTSUPP, "pins are the kernel's (GUP), not the library's");
	ok_ret(gmem_guest_access(g, 0, (uint8_t[8]){ 0 }, 8, GMEM_ACCESS_READ), -EOPNOTSUPP,
	       "guest access only through a real vCPU");
	ok(gmem_mmap(g) == g->mem, "the host view is the kernel's own mapping");
	gmem_vm_destroy(vm);

	ok_ret(gmem_vm_create(&vm, "default", NULL), 0, "second VM");
	ok_ret(gmem_create(vm, 4 * PG, 0, &g), 0, "a gmem without MMAP");
	errno = 0;
	ok(!gmem_mmap(g) && errno == ENODEV, "gmem_mmap: ENODEV");
	gmem_vm_destroy(vm);
}

static void test_fallback(void)
{
	struct gmem_vm *vm;
	struct gmem *g;

	ok_ret(gmem_vm_create(&vm, "snp", NULL), 0, "an SNP VM without SNP hardware");
	TEST_ASSERT(!gmem_create(vm, 4 * PG, GMEM_FLAG_MMAP, &g), "gmem");
	ok(strcmp(gmem_backend_name(g), "native") != 0, "falls back to %s", gmem_backend_name(g));
	gmem_vm_destroy(vm);

	setenv("GMEM_BACKEND", "native", 1);
	ok_ret(gmem_vm_create(&vm, "tdx", NULL), -ENODEV, "forced native: no fallback, ENODEV");
	ok_ret(gmem_vm_create(&vm, "default", NULL), 0, "forced native: a default VM works");
	gmem_vm_destroy(vm);
	unsetenv("GMEM_BACKEND");
}

int main(void)
{
	const char *why = NULL;
	const char *def = NULL;

	/* Installed before the first probe, which is cached. */
	gmem__kvm_set_ioctl(fake_ioctl);
	TEST_REQUIRE(!gmem_backend_probe("kvm", &why), "needs /dev/kvm with guest_memfd: %s", why);
	unsetenv("GMEM_BACKEND");
	plan_lazy();
	ok_ret(gmem_backend_probe("native", &why), 0, "the probe finds the ioctl working: %s", why);
	ok(!gmem_backend_default(&def) && !strcmp(def, "native"), "native is selected first");
	test_passthrough();
	test_fallback();
	done();
}
