/* SPDX-License-Identifier: MIT */
/*
 * Guest helper of make check-kernel (not a test): holds one KVM VM open
 * until killed.  KVM enables the scheduler's preempt-notifier static key
 * while any VM exists (kvm_create_vm(): preempt_notifier_inc()), so a test
 * that creates and destroys VMs one at a time re-patches __schedule()'s
 * code at every 0 <-> 1 transition.  Under QEMU's multi-threaded TCG the
 * other vCPU can then still execute the int3 of that text patching after
 * the patch completed: "Oops: int3" in __schedule, "Fatal exception in
 * interrupt", a reboot.  With one VM held for the whole run the key never
 * returns to 0 and the code is never patched again.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0UL);

	if (vm < 0) {
		perror("hold_vm: KVM_CREATE_VM");
		return 1;
	}
	for (;;)
		pause();
}
