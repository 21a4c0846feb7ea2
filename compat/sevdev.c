/* SPDX-License-Identifier: MIT */
/*
 * /dev/sev in the process: open() of that path (and only that path) gives a
 * descriptor of /dev/null the shim tracks, and SEV_ISSUE_CMD on it answers
 * as the modelled SEV-SNP firmware would (SEV-SNP firmware ABI,
 * PLATFORM_STATUS and SNP_PLATFORM_STATUS; <linux/psp-sev.h>).  The
 * launch commands of KVM_MEMORY_ENCRYPT_OP take such a descriptor as
 * sev_fd.  Every other path goes to the C library after one compare.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "gmem/uapi.h"

#define EXPORT __attribute__((visibility("default")))

#define SEV_PATH "/dev/sev"

/* The modelled firmware: SEV-SNP API 1.55, build 21, platform initialized
 * for SEV, SEV-ES and SNP with the RMP set up. */
#define FW_API_MAJOR 1
#define FW_API_MINOR 55
#define FW_BUILD     21
#define FW_TCB       0x1b00000000000004ULL	/* SNP 27, microcode 0, BL 4 */

static int guests;	/* atomic: SNP guests launched and not destroyed */

void compat_sev_guests_add(int n)
{
	__atomic_add_fetch(&guests, n, __ATOMIC_RELAXED);
}

/* ---- the C library's open functions ------------------------------------- */

struct real_open {
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*open_2)(const char *, int);
	int (*open64_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*openat64_2)(int, const char *, int);
};

static struct real_open real_open;
static pthread_once_t real_open_once = PTHREAD_ONCE_INIT;

static void real_open_init(void)
{
	real_open.open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_open.open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	real_open.openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	real_open.openat64 = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat64");
	real_open.open_2 = (int (*)(const char *, int))dlsym(RTLD_NEXT, "__open_2");
	real_open.open64_2 = (int (*)(const char *, int))dlsym(RTLD_NEXT, "__open64_2");
	real_open.openat_2 = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "__openat_2");
	real_open.openat64_2 = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "__openat64_2");
	if (!real_open.open || !real_open.openat)
		abort();
}

static inline const struct real_open *ro(void)
{
	pthread_once(&real_open_once, real_open_init);
	return &real_open;
}

/* The mode argument exists with O_CREAT or O_TMPFILE only. */
static inline bool has_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* The mode argument of a variadic open function whose last named
 * parameter is flags. */
#define OPEN_MODE(flags)					\
	({							\
		mode_t mode_ = 0;				\
		if (has_mode(flags)) {				\
			va_list ap_;				\
			va_start(ap_, flags);			\
			mode_ = va_arg(ap_, mode_t);		\
			va_end(ap_);				\
		}						\
		mode_;						\
	})

static inline bool is_sev(int dirfd, const char *path)
{
	(void)dirfd;	/* an absolute path ignores it */
	return path && path[0] == '/' && path[1] == 'd' &&
	       !strcmp(path, SEV_PATH);
}

/* The emulated device: a tracked descriptor of /dev/null. */
static int open_sev(int flags)
{
	struct compat_obj *o;
	int fd, ret;

	if (!compat_active())
		return -2;	/* the real path (ENOENT here) */
	/* As an existing character device answers: O_CREAT opens it,
	 * O_TRUNC does nothing, and no open reaches the file system, which
	 * has no /dev/sev to create or truncate. */
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
		errno = EEXIST;
		return -1;
	}
	if (flags & O_DIRECTORY) {	/* O_TMPFILE too */
		errno = ENOTDIR;
		return -1;
	}
	if (flags & O_PATH)	/* a descriptor that takes no ioctl */
		return ro()->openat(AT_FDCWD, "/dev/null", flags & (O_PATH | O_CLOEXEC));
	o = calloc(1, sizeof(*o));
	if (!o) {
		errno = ENOMEM;
		return -1;
	}
	o->kind = COMPAT_SEVDEV;
	o->refs = 1;
	fd = ro()->openat(AT_FDCWD, "/dev/null",
			  flags & (O_ACCMODE | O_CLOEXEC | O_NONBLOCK));
	if (fd < 0) {
		free(o);
		return -1;
	}
	pthread_rwlock_wrlock(&compat_fd_lock);
	ret = compat_fd_set(fd, o);
	pthread_rwlock_unlock(&compat_fd_lock);
	if (ret) {
		compat_real.close(fd);
		free(o);
		errno = -ret;
		return -1;
	}
	return fd;
}

/* What every open function asks first: the emulated device's descriptor
 * (or -1 with errno), or -2 for the C library's function. */
static inline int try_sev(int dirfd, const char *path, int flags)
{
	if (__builtin_expect(is_sev(dirfd, path), 0))
		return open_sev(flags);
	return -2;
}

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	int fd = try_sev(AT_FDCWD, path, flags);

	return fd != -2 ? fd : ro()->open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	int fd = try_sev(AT_FDCWD, path, flags);

	if (fd != -2)
		return fd;
	return (ro()->open64 ? ro()->open64 : ro()->open)(path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	int fd = try_sev(dirfd, path, flags);

	return fd != -2 ? fd : ro()->openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	int fd = try_sev(dirfd, path, flags);

	if (fd != -2)
		return fd;
	return (ro()->openat64 ? ro()->openat64 : ro()->openat)(dirfd, path,
								flags, mode);
}

/* _FORTIFY_SOURCE's checked variants (no mode: O_CREAT is refused). */
EXPORT int __open_2(const char *path, int flags);
EXPORT int __open64_2(const char *path, int flags);
EXPORT int __openat_2(int dirfd, const char *path, int flags);
EXPORT int __openat64_2(int dirfd, const char *path, int flags);

EXPORT int __open_2(const char *path, int flags)
{
	int fd = try_sev(AT_FDCWD, path, flags);

	if (fd != -2)
		return fd;
	return ro()->open_2 ? ro()->open_2(path, flags) : ro()->open(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	int fd = try_sev(AT_FDCWD, path, flags);

	if (fd != -2)
		return fd;
	return ro()->open64_2 ? ro()->open64_2(path, flags)
			      : ro()->open(path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	int fd = try_sev(dirfd, path, flags);

	if (fd != -2)
		return fd;
	return ro()->openat_2 ? ro()->openat_2(dirfd, path, flags)
			      : ro()->openat(dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	int fd = try_sev(dirfd, path, flags);

	if (fd != -2)
		return fd;
	return ro()->openat64_2 ? ro()->openat64_2(dirfd, path, flags)
				: ro()->openat(dirfd, path, flags);
}

/* ---- SEV_ISSUE_CMD ------------------------------------------------------- */

static int platform_status(struct sev_issue_cmd *c)
{
	struct sev_user_data_status st = {
		.api_major = FW_API_MAJOR,
		.api_minor = FW_API_MINOR,
		.state = 1,				/* INIT */
		.flags = SEV_STATUS_FLAGS_CONFIG_ES,
		.build = FW_BUILD,
		.guest_count = (__u32)__atomic_load_n(&guests, __ATOMIC_RELAXED),
	};

	if (!c->data)
		return -EFAULT;
	memcpy((void *)(uintptr_t)c->data, &st, sizeof(st));
	return 0;
}

static int snp_platform_status(struct sev_issue_cmd *c)
{
	struct gmem_sev_user_data_snp_status st = {
		.api_major = FW_API_MAJOR,
		.api_minor = FW_API_MINOR,
		.state = 1,				/* INIT */
		.is_rmp_initialized = 1,
		.build_id = FW_BUILD,
		.guest_count = (__u32)__atomic_load_n(&guests, __ATOMIC_RELAXED),
		.current_tcb_version = FW_TCB,
		.reported_tcb_version = FW_TCB,
	};

	if (!c->data)
		return -EINVAL;
	memcpy((void *)(uintptr_t)c->data, &st, sizeof(st));
	return 0;
}

/* The platform's command on the emulated device: 0 or -errno, with the
 * firmware status in c->error as the kernel's sev_ioctl() reports it. */
static int issue_cmd(struct sev_issue_cmd *c)
{
	int ret;

	c->error = 0;
	switch (c->cmd) {
	case SEV_PLATFORM_STATUS:
		ret = platform_status(c);
		break;
	case SNP_PLATFORM_STATUS:
		ret = snp_platform_status(c);
		break;
	case SEV_FACTORY_RESET:
	case SEV_PEK_GEN:
	case SEV_PEK_CSR:
	case SEV_PDH_GEN:
	case SEV_PDH_CERT_EXPORT:
	case SEV_PEK_CERT_IMPORT:
	case SEV_GET_ID:
	case SEV_GET_ID2:
		/* Certificates and keys are not modelled. */
		c->error = SEV_RET_UNSUPPORTED;
		ret = -EIO;
		break;
	default:
		ret = -EINVAL;
		break;
	}
	compat_sev_log("sev: SEV_ISSUE_CMD cmd=%u data=%#llx -> %d error=%#x",
		       c->cmd, (unsigned long long)c->data, ret, c->error);
	return ret;
}

/* An ioctl on the emulated /dev/sev: only SEV_ISSUE_CMD, as the kernel. */
int compat_sevdev_ioctl(unsigned long req, void *arg)
{
	struct sev_issue_cmd c;
	int ret;

	if (req != SEV_ISSUE_CMD)
		return -EINVAL;
	if (!arg)
		return -EFAULT;
	memcpy(&c, arg, sizeof(c));
	ret = issue_cmd(&c);
	((struct sev_issue_cmd *)arg)->error = c.error;
	return ret;
}

bool compat_is_sevdev(int fd)
{
	struct compat_obj *o = compat_fd_get(fd);

	return o && o->kind == COMPAT_SEVDEV;
}
