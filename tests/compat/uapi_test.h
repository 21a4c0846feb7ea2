/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the uAPI-only programs in tests/compat/: they are written
 * against the kernel uAPI (include/gmem/uapi.h) and libc alone, as a VMM
 * or the kernel's own selftests would be, and know nothing of libgmem.
 * Run under libgmem-compat they must pass; run on a kernel without
 * in-place conversion they fail at their first test point, which names
 * the errno (tests/compat.t asserts which).
 *
 * The expected content-mode table is chosen with GMEM_COMPAT_PLATFORM and
 * GMEM_COMPAT_POLICY (the VM type and kernel revision under test).
 */
#ifndef GMEM_TESTS_COMPAT_UAPI_TEST_H
#define GMEM_TESTS_COMPAT_UAPI_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "gmem/uapi.h"

#define PG 4096ULL
#define PRIVATE KVM_MEMORY_ATTRIBUTE_PRIVATE
#define SHARED 0ULL
#define F_ZERO KVM_SET_MEMORY_ATTRIBUTES2_ZERO
#define F_PRESERVE KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE

static inline const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

struct kvm_env {
	int kvm_fd;
	int vm_fd;
};

static inline void kvm_env_open(struct kvm_env *k)
{
	k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_REQUIRE(k->kvm_fd >= 0, "/dev/kvm: %s", strerror(errno));
	/* GMEM_COMPAT_VM_TYPE: the VM type (default 0); the series (v8)
	 * converts only on VM types with private memory, e.g. 1. */
	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM,
			 getenv("GMEM_COMPAT_VM_TYPE") ?
			 strtoul(getenv("GMEM_COMPAT_VM_TYPE"), NULL, 0) : 0UL);
	TEST_ASSERT(k->vm_fd >= 0, "KVM_CREATE_VM");
	TEST_REQUIRE(ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD) > 0,
		     "no KVM_CAP_GUEST_MEMFD");
}

/* KVM_CREATE_GUEST_MEMFD: the fd, or -errno. */
static inline int __gmem_create(int vm_fd, uint64_t size, uint64_t flags)
{
	struct kvm_create_guest_memfd c = { .size = size, .flags = flags };
	int fd = ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &c);

	return fd < 0 ? -errno : fd;
}

static inline int gmem_create_fd(int vm_fd, uint64_t size, uint64_t flags)
{
	int fd = __gmem_create(vm_fd, size, flags);

	TEST_ASSERT(fd >= 0, "KVM_CREATE_GUEST_MEMFD size %llu flags %llu",
		    (unsigned long long)size, (unsigned long long)flags);
	return fd;
}

/* KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd: 0 or errno. */
static inline int __set_attrs(int fd, struct kvm_memory_attributes2 *a)
{
	return ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, a) ? errno : 0;
}

static inline int set_attrs_err(int fd, uint64_t off, uint64_t size,
				uint64_t attrs, uint64_t flags,
				uint64_t *error_offset)
{
	struct kvm_memory_attributes2 a = {
		.offset = off, .size = size, .attributes = attrs, .flags = flags,
	};
	int e = __set_attrs(fd, &a);

	if (error_offset)
		*error_offset = a.error_offset;
	return e;
}

static inline void set_attrs(int fd, uint64_t off, uint64_t size,
			     uint64_t attrs, uint64_t flags)
{
	int e = set_attrs_err(fd, off, size, attrs, flags, NULL);

	errno = e;
	TEST_ASSERT(!e, "KVM_SET_MEMORY_ATTRIBUTES2 [%#llx, +%#llx) -> %#llx flags %#llx",
		    (unsigned long long)off, (unsigned long long)size,
		    (unsigned long long)attrs, (unsigned long long)flags);
}

/*
 * Test point 1 of every program: the ioctl exists on a guest_memfd.  The
 * conversion asked for changes nothing (the page is already in that
 * state).  Without it nothing else can be checked: the program stops,
 * failing.
 */
static inline void require_inplace(int fd, uint64_t already)
{
	int e = set_attrs_err(fd, 0, PG, already, 0, NULL);

	ok(!e, "in-place conversion: KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd (errno %s)",
	   e ? ename(e) : "none");
	if (e)
		done();
}

/* ---- host touches that may raise SIGBUS ---------------------------------- */

static __thread sigjmp_buf sigbus_jb;
static __thread volatile sig_atomic_t sigbus_armed;

/* A SIGBUS outside peek() / poke() is a failure: the default action kills
 * the program when the access is retried. */
static void sigbus_handler(int sig)
{
	if (!sigbus_armed) {
		signal(sig, SIG_DFL);
		return;
	}
	sigbus_armed = 0;
	siglongjmp(sigbus_jb, 1);
}

static inline void sigbus_catch(void)
{
	struct sigaction sa = { .sa_handler = sigbus_handler };

	sigemptyset(&sa.sa_mask);
	TEST_ASSERT(!sigaction(SIGBUS, &sa, NULL), "sigaction");
}

/* Read one byte: 0..255, or -1 when the touch raised SIGBUS. */
static inline int peek(volatile uint8_t *p)
{
	int v;

	if (sigsetjmp(sigbus_jb, 1))
		return -1;
	sigbus_armed = 1;
	v = *p;
	sigbus_armed = 0;
	return v;
}

/* Write one byte: 0, or -1 on SIGBUS. */
static inline int poke(volatile uint8_t *p, uint8_t v)
{
	if (sigsetjmp(sigbus_jb, 1))
		return -1;
	sigbus_armed = 1;
	*p = v;
	sigbus_armed = 0;
	return 0;
}

/* ---- the content-mode table under test ------------------------------------ */

/* Mode bits per direction: U (UNSPECIFIED), Z, P. */
#define M_U 1
#define M_Z 2
#define M_P 4

struct mode_row {
	const char *platform;
	const char *policy;
	unsigned to_shared, to_private;
	int encrypts;		/* private bytes are ciphertext in memory */
	int scrambles;		/* UNSPECIFIED writes random bytes */
};

static const struct mode_row mode_table[] = {
	{ "default",      "seed",   M_U|M_Z|M_P, M_U|M_Z|M_P, 0, 0 },
	{ "sw_protected", "seed",   M_U|M_Z|M_P, M_U|M_Z|M_P, 0, 1 },
	{ "snp",          "seed",   M_U|M_Z|M_P, M_U|M_P,     1, 0 },
	{ "tdx",          "seed",   M_U|M_Z,     M_U|M_Z|M_P, 1, 0 },
	{ "pkvm",         "seed",   M_U|M_Z|M_P, M_U|M_Z|M_P, 0, 0 },
	{ "default",      "rfc-v5", M_U,         M_U,         0, 0 },
	{ "sw_protected", "rfc-v5", M_U|M_Z|M_P, M_U|M_P,     0, 1 },
	{ "snp",          "rfc-v5", M_U|M_Z,     M_U|M_P,     1, 0 },
	{ "tdx",          "rfc-v5", M_U|M_Z,     M_U|M_P,     1, 0 },
	{ "pkvm",         "rfc-v5", M_U,         M_U,         0, 0 },
};

/* NULL for the upstream policy (no content flags at all) or an unknown
 * pair. */
static inline const struct mode_row *mode_row(const char **plat,
					      const char **pol)
{
	const char *p = getenv("GMEM_COMPAT_PLATFORM");
	const char *q = getenv("GMEM_COMPAT_POLICY");

	*plat = p && *p ? p : "default";
	*pol = q && *q ? q : "seed";
	for (size_t i = 0; i < sizeof(mode_table) / sizeof(mode_table[0]); i++)
		if (!strcmp(mode_table[i].platform, *plat) &&
		    !strcmp(mode_table[i].policy, *pol))
			return &mode_table[i];
	return NULL;
}

static inline unsigned mode_bit(uint64_t flags)
{
	return flags == 0 ? M_U : flags == F_ZERO ? M_Z : M_P;
}

/* vm.max_map_count, or -1 where it cannot be read. */
static inline long max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* KVM_CAP_VM_TYPES, whose KVM_X86_SW_PROTECTED_VM bit is the first point
 * of the programs that need that VM type: without it they stop there. */
static inline long require_sw_protected(int kvm)
{
	long types = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	int listed = types > 0 && (types & (1L << KVM_X86_SW_PROTECTED_VM));

	/* The mask itself differs where the shim adds VM types: not printed,
	 * so that transcripts compare equal across kernels. */
	ok(listed, "KVM_CAP_VM_TYPES lists KVM_X86_SW_PROTECTED_VM");
	if (!listed)
		done();
	return types;
}

#endif
