/* SPDX-License-Identifier: MIT */
/*
 * What libgmem-compat (compat/) may use of the library beyond its public
 * API.  The shim links the library's objects (mk/compat.mk), so every
 * external symbol of src/ would resolve; this header is the line drawn
 * instead.  compat/ includes the public headers (gmem/gmem.h, gmem/uapi.h,
 * gmem/snp.h) and this one, and nothing else from src/; what the shim needs
 * from inside the library is added here, as an entry point of
 * src/compat_vm.c, which includes this header too so that the compiler
 * holds both sides to the same declarations.
 */
#ifndef GMEM_COMPAT_API_H
#define GMEM_COMPAT_API_H

#include "gmem/gmem.h"

/* A kvm-backend VM on the application's KVM VM app_vm_fd (duplicated, so
 * the KVM VM lives as long as the library's files on it); app_vm_fd < 0: a
 * VM that only answers capability and policy queries.  0 or -errno. */
int gmem__compat_vm_create(struct gmem_vm **vm, const char *platform,
			   const char *policy, int app_vm_fd);
/* The library's own descriptor of g's guest_memfd, or -EFAULT. */
int gmem__compat_fd(const struct gmem *g);
/* The library's own mapping of all of g (never covered), or NULL. */
void *gmem__compat_mem(const struct gmem *g);

#endif
