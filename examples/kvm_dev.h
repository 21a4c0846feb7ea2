/* SPDX-License-Identifier: MIT */
/*
 * /dev/kvm for the examples written against the kernel uAPI alone
 * (snp_uapi, tdx_launch).  They need KVM underneath, with libgmem-compat
 * preloaded or not: where this host has none (no /dev/kvm, one that does
 * not open, or another device in its place) there is nothing they can
 * show, so they say why in one line and exit 0, as they do when KVM lacks
 * the VM type they need.
 */
#ifndef GMEM_EXAMPLES_KVM_DEV_H
#define GMEM_EXAMPLES_KVM_DEV_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gmem/uapi.h"

/* /dev/kvm read-write, or -1 after printing why `prog` cannot run here. */
static inline int kvm_open_or_say_why(const char *prog)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), api;

	if (fd < 0) {
		printf("%s: cannot run without KVM: /dev/kvm: %s\n", prog,
		       strerror(errno));
		return -1;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		if (api < 0)
			printf("%s: cannot run without KVM: /dev/kvm is not KVM "
			       "(KVM_GET_API_VERSION: %s)\n", prog, strerror(errno));
		else
			printf("%s: cannot run without KVM: /dev/kvm has API "
			       "version %d, not %d\n", prog, api, KVM_API_VERSION);
		close(fd);
		return -1;
	}
	return fd;
}

#endif
