/* SPDX-License-Identifier: MIT */
/*
 * What the running kernel lacks, probed once (docs/compat.md, "Kernel
 * generations").  Every generation a VMM developer meets is a row of what
 * it has:
 *
 *   no guest_memfd (before 6.8, or built without it)   region2 maybe, no gmem
 *   guest_memfd for private VM types only (6.8-6.17)   region2, no usable gmem
 *   mmap-able guest_memfd (6.18+)                      region2, gmem
 *   the series (in-place conversion)                   region2, gmem, inplace
 *
 * and the shim supplies what the row lacks: where the kernel has no
 * mmap-able, shareable guest_memfd for the default VM the shim creates
 * underneath every VM type, the shim's guest_memfds are libgmem files on
 * the emulated backend (a memfd), bound to memslots as plain userspace
 * memory; where it has no KVM_SET_USER_MEMORY_REGION2, the shim turns that
 * ioctl into KVM_SET_USER_MEMORY_REGION.  GMEM_COMPAT_GMEM=emulated makes
 * the shim ignore the kernel's guest_memfd, so that one machine tests both
 * paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "gmem/uapi.h"

static struct compat_kernel kernel;
static pthread_once_t kernel_once = PTHREAD_ONCE_INIT;

static void kernel_probe(void)
{
	const char *env = getenv("GMEM_COMPAT_GMEM");
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		kernel.region2 = compat_real.ioctl(fd, KVM_CHECK_EXTENSION,
				(void *)(unsigned long)KVM_CAP_USER_MEMORY2) > 0;
		compat_real.close(fd);
	}
	kernel.inplace = gmem_backend_probe("native", NULL) == 0;
	kernel.gmem = gmem_backend_probe("kvm", NULL) == 0;
	if (env && !strcmp(env, "emulated"))
		kernel.gmem = false;
}

/*
 * Is a VM of this type the kernel's own business?  Where the kernel
 * converts in place, the VM types with private memory it has
 * (KVM_CAP_VM_TYPES; v8: software-protected) are entirely its own; the
 * shim serves the others on a VM of the default type underneath: SEV-SNP
 * and TDX without their hardware, and default VMs, whose conversions the
 * series refuses (no private memory) and the shim models
 * (GMEM_COMPAT_PLATFORM).
 */
bool compat_kernel_owns_type(int kvm_fd, unsigned long type)
{
	long types;

	if (!compat_kernel()->inplace || type == KVM_X86_DEFAULT_VM)
		return false;
	types = compat_real.ioctl(kvm_fd, KVM_CHECK_EXTENSION,
				  (void *)(unsigned long)KVM_CAP_VM_TYPES);
	return types > 0 && type < 8 * sizeof(long) && (types & (1L << type));
}

const struct compat_kernel *compat_kernel(void)
{
	pthread_once(&kernel_once, kernel_probe);
	return &kernel;
}

/*
 * The capabilities of what the shim supplies, answered as a kernel that
 * has it answers them (6.18 and the series: KVM_CAP_GUEST_MEMFD 1,
 * KVM_CAP_GUEST_MEMFD_FLAGS MMAP | INIT_SHARED on a VM without private
 * memory and on /dev/kvm, KVM_CAP_USER_MEMORY2 1).  Where the kernel has
 * the feature itself, its own answer stands.
 */
long compat_kernel_cap(long cap, bool *handled)
{
	const struct compat_kernel *k = compat_kernel();

	*handled = false;
	switch (cap) {
	case KVM_CAP_GUEST_MEMFD:
		*handled = !k->gmem;
		return 1;
	case KVM_CAP_GUEST_MEMFD_FLAGS:
		*handled = !k->gmem;
		return GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
	case KVM_CAP_USER_MEMORY2:
		*handled = !k->region2;
		return 1;
	}
	return 0;
}
