/* SPDX-License-Identifier: MIT */
/* gmemctl probe: what this host offers, and which backend libgmem uses. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "gmem/gmem.h"
#include "gmem/uapi.h"
#include "gmemctl.h"

struct kvm_facts {
	int open_errno;		/* 0 if /dev/kvm opened */
	int api;
	int api_errno;		/* KVM_GET_API_VERSION failed: not KVM */
	long cap_guest_memfd, cap_gmem_flags, cap_mem_attrs, cap_vm_types;
	unsigned vm_types_created;	/* bit t: KVM_CREATE_VM(t) worked */
	long gmem_flags_accepted;	/* guest_memfd flag bits tried one by one */
	int attrs2_errno;		/* 0: KVM_SET_MEMORY_ATTRIBUTES2 worked on
					 * some VM type, else its first errno */
	unsigned attrs2_types;		/* bit t: it worked on a VM of type t */
	long cap_gmem_attrs;		/* 250 on the first such VM (v8) */
	unsigned gmem_types;		/* bit t: a guest_memfd of a VM of type t */
	long cap_user_memory2;		/* KVM_CAP_USER_MEMORY2 on /dev/kvm */
};

/*
 * The kernel generations of docs/compat.md, from what was tried, and what
 * libgmem-compat supplies on each (compat/kernel.c decides the same way).
 */
enum generation { GEN_NO_KVM, GEN_NONE, GEN_PRIVATE_ONLY, GEN_MMAP, GEN_INPLACE };

static const struct {
	const char *name, *supplies;
} generations[] = {
	[GEN_NO_KVM] = { "no-kvm", "nothing: no /dev/kvm, no uAPI program runs" },
	[GEN_NONE] = { "no-guest_memfd",
		"guest_memfd (memfds bound as plain memslots), in-place conversion" },
	[GEN_PRIVATE_ONLY] = { "private-only-guest_memfd",
		"guest_memfd (memfds bound as plain memslots), in-place conversion" },
	[GEN_MMAP] = { "mmap-able-guest_memfd",
		"in-place conversion on the kernel's guest_memfd" },
	[GEN_INPLACE] = { "in-place-conversion",
		"nothing for the kernel's VM types with private memory; default VMs' conversions" },
};

static enum generation generation(const struct kvm_facts *k)
{
	const long both = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;

	if (k->open_errno)
		return GEN_NO_KVM;
	if (!k->attrs2_errno)
		return GEN_INPLACE;
	if ((k->gmem_flags_accepted & both) == both)
		return GEN_MMAP;
	return k->gmem_types ? GEN_PRIVATE_ONLY : GEN_NONE;
}

/* The VM types libgmem-compat serves beyond the default one (its table,
 * docs/compat.md): all where the kernel does not convert in place, else
 * those the kernel lacks (compat_kernel_owns_type()).  Bit t. */
static unsigned types_added(const struct kvm_facts *k)
{
	const unsigned table = 1U << 1 | 1U << 4 | 1U << 5;

	if (k->open_errno)
		return 0;
	if (generation(k) != GEN_INPLACE)
		return table;
	return table & ~(unsigned)(k->cap_vm_types > 0 ? k->cap_vm_types : 1);
}

static const char *const vm_type_names[] = {
	"default", "sw_protected", "sev", "sev_es", "snp", "tdx",
};
#define NR_VM_TYPES 6
#define GMEM_FLAG_BITS 8

static long check_ext(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? -errno : r;
}

/* Tried, not assumed: each guest_memfd flag bit alone. */
static void try_gmem_flags(int vm, struct kvm_facts *k)
{
	for (int b = 0; b < GMEM_FLAG_BITS; b++) {
		struct kvm_create_guest_memfd cg = { .size = 8192, .flags = 1ULL << b };
		int fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &cg);

		if (fd >= 0) {
			k->gmem_flags_accepted |= 1L << b;
			close(fd);
		}
	}
}

/* The in-place conversion ioctl on a guest_memfd of a VM of type t: errno,
 * or 0 when it converted.  The series accepts it only where the VM type
 * has private memory (v8: EINVAL on a default VM), on a shared page. */
static int try_attrs2(int vm, bool *created)
{
	struct kvm_memory_attributes2 a = {
		.size = 4096, .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
	};
	struct kvm_create_guest_memfd cg = {
		.size = 8192,
		.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	};
	int fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &cg), e;

	if (fd < 0) {
		cg.flags = 0;
		fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &cg);
	}
	*created = fd >= 0;
	if (fd < 0)
		return errno;
	e = ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, &a) ? errno : 0;
	close(fd);
	return e;
}

static void kvm_facts(struct kvm_facts *k)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm;

	memset(k, 0, sizeof(*k));
	if (fd < 0) {
		k->open_errno = errno;
		return;
	}
	k->api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (k->api < 0)
		k->api_errno = errno;
	k->cap_vm_types = check_ext(fd, KVM_CAP_VM_TYPES);
	k->cap_user_memory2 = check_ext(fd, KVM_CAP_USER_MEMORY2);
	k->attrs2_errno = ENODEV;
	for (unsigned long t = 0; t < NR_VM_TYPES; t++) {
		bool created;
		int e;

		vm = ioctl(fd, KVM_CREATE_VM, t);
		if (vm < 0)
			continue;
		k->vm_types_created |= 1U << t;
		e = try_attrs2(vm, &created);
		if (created)
			k->gmem_types |= 1U << t;
		if (!e) {
			if (!k->attrs2_types)
				k->cap_gmem_attrs =
					check_ext(vm, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
			k->attrs2_types |= 1U << t;
		} else if (k->attrs2_errno == ENODEV || t == 0) {
			k->attrs2_errno = e;
		}
		close(vm);
	}
	if (k->attrs2_types)
		k->attrs2_errno = 0;
	vm = ioctl(fd, KVM_CREATE_VM, 0UL);
	if (vm >= 0) {
		k->cap_guest_memfd = check_ext(vm, KVM_CAP_GUEST_MEMFD);
		k->cap_gmem_flags = check_ext(vm, KVM_CAP_GUEST_MEMFD_FLAGS);
		k->cap_mem_attrs = check_ext(vm, KVM_CAP_MEMORY_ATTRIBUTES);
		try_gmem_flags(vm, k);
		close(vm);
	} else {
		k->cap_guest_memfd = k->cap_gmem_flags = k->cap_mem_attrs = -errno;
	}
	close(fd);
}

static void print_generation(const struct kvm_facts *k)
{
	enum generation g = generation(k);
	unsigned added = types_added(k);

	printf("generation  %s\n", generations[g].name);
	printf("libgmem-compat supplies %s", generations[g].supplies);
	if (g == GEN_NONE || g == GEN_PRIVATE_ONLY) {
		if (k->cap_user_memory2 <= 0)
			printf(", KVM_SET_USER_MEMORY_REGION2 (as KVM_SET_USER_MEMORY_REGION)");
	}
	if (g != GEN_NO_KVM && added) {
		printf(", VM types");
		for (int t = 0; t < NR_VM_TYPES; t++)
			if (added & (1U << t))
				printf(" %d (%s)", t, vm_type_names[t]);
	}
	printf("\n");
}

static void print_text(const struct utsname *u, const struct kvm_facts *k,
		       const char *def, int def_ret)
{
	const char *const *b = gmem_backend_names();

	printf("kernel      %s %s\n", u->release, u->machine);
	if (k->open_errno) {
		printf("/dev/kvm    unavailable: %s\n", strerror(k->open_errno));
	} else if (k->api_errno) {
		printf("/dev/kvm    not KVM: KVM_GET_API_VERSION: %s\n",
		       strerror(k->api_errno));
	} else {
		printf("/dev/kvm    API %d, KVM_CAP_VM_TYPES 0x%lx\n", k->api,
		       k->cap_vm_types > 0 ? k->cap_vm_types : 0);
		printf("  VM types created          ");
		for (int t = 0; t < NR_VM_TYPES; t++)
			if (k->vm_types_created & (1U << t))
				printf(" %d (%s)", t, vm_type_names[t]);
		printf("\n  guest_memfd flags tried    0x%lx accepted\n",
		       k->gmem_flags_accepted);
		printf("  KVM_SET_MEMORY_ATTRIBUTES2 %s",
		       k->attrs2_errno ? strerror(k->attrs2_errno) : "works on VM types");
		for (int t = 0; t < NR_VM_TYPES; t++)
			if (k->attrs2_types & (1U << t))
				printf(" %d (%s)", t, vm_type_names[t]);
		printf("\n");
		if (k->attrs2_types)
			printf("  KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES (250) 0x%lx\n",
			       k->cap_gmem_attrs > 0 ? k->cap_gmem_attrs : 0);
		printf("  KVM_CAP_GUEST_MEMFD        %ld\n", k->cap_guest_memfd);
		printf("  KVM_CAP_GUEST_MEMFD_FLAGS  0x%lx%s%s\n",
		       k->cap_gmem_flags > 0 ? k->cap_gmem_flags : 0,
		       k->cap_gmem_flags > 0 && (k->cap_gmem_flags & GUEST_MEMFD_FLAG_MMAP) ? " MMAP" : "",
		       k->cap_gmem_flags > 0 && (k->cap_gmem_flags & GUEST_MEMFD_FLAG_INIT_SHARED) ? " INIT_SHARED" : "");
		printf("  KVM_CAP_MEMORY_ATTRIBUTES  0x%lx\n",
		       k->cap_mem_attrs > 0 ? k->cap_mem_attrs : 0);
	}
	print_generation(k);
	printf("backends\n");
	for (; *b; b++) {
		const char *why = NULL;
		int r = gmem_backend_probe(*b, &why);

		printf("  %-9s %-5s %s\n", *b, r ? "no" : "yes", why ? why : "");
	}
	if (def_ret)
		printf("default     none: %s\n", strerror(-def_ret));
	else
		printf("default     %s%s\n", def,
		       getenv("GMEM_BACKEND") && *getenv("GMEM_BACKEND") ? " (GMEM_BACKEND)" : "");
}

static void print_json(const struct utsname *u, const struct kvm_facts *k,
		       const char *def, int def_ret)
{
	const char *const *b = gmem_backend_names();

	printf("{\"kernel\":");
	gmemctl_json_str(stdout, u->release);
	printf(",\"kvm\":{\"available\":%s", k->open_errno ? "false" : "true");
	if (!k->open_errno)
		printf(",\"api\":%d,\"vm_types\":%ld,\"guest_memfd\":%ld,"
		       "\"guest_memfd_flags\":%ld,\"memory_attributes\":%ld,"
		       "\"vm_types_created\":%u,\"guest_memfd_flags_accepted\":%ld,"
		       "\"set_memory_attributes2\":%s,\"set_memory_attributes2_errno\":%d,"
		       "\"set_memory_attributes2_vm_types\":%u,"
		       "\"guest_memfd_memory_attributes\":%ld",
		       k->api, k->cap_vm_types, k->cap_guest_memfd,
		       k->cap_gmem_flags, k->cap_mem_attrs, k->vm_types_created,
		       k->gmem_flags_accepted, k->attrs2_errno ? "false" : "true",
		       k->attrs2_errno, k->attrs2_types,
		       k->cap_gmem_attrs > 0 ? k->cap_gmem_attrs : 0);
	else
		printf(",\"errno\":%d", k->open_errno);
	printf("},\"generation\":\"%s\",\"compat_vm_types_added\":%u,\"backends\":[",
	       generations[generation(k)].name, types_added(k));
	for (int i = 0; b[i]; i++) {
		const char *why = NULL;
		int r = gmem_backend_probe(b[i], &why);

		printf("%s{\"name\":\"%s\",\"usable\":%s,\"why\":", i ? "," : "",
		       b[i], r ? "false" : "true");
		gmemctl_json_str(stdout, why ? why : "");
		printf("}");
	}
	printf("],\"default\":");
	if (def_ret)
		printf("null");
	else
		gmemctl_json_str(stdout, def);
	printf("}\n");
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct kvm_facts k;
	struct utsname u;
	const char *def = NULL;
	bool json = false;
	int c, def_ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return gmemctl_usage_error("probe", "unknown option '%s'",
						   argv[optind - 1]);
	}
	if (optind < argc)
		return gmemctl_usage_error("probe", "unexpected argument '%s'",
					   argv[optind]);
	if (uname(&u))
		return gmemctl_fail("probe", "uname: %s", strerror(errno));
	kvm_facts(&k);
	def_ret = gmem_backend_default(&def);
	if (json)
		print_json(&u, &k, def, def_ret);
	else
		print_text(&u, &k, def, def_ret);
	return def_ret ? 1 : 0;
}

const struct gmemctl_cmd gmemctl_cmd_probe = {
	.name = "probe",
	.args = "[--json]",
	.summary = "show what this host offers and the backend in use",
	.help = "Reports the kernel, /dev/kvm and its guest_memfd capabilities,\n"
		"whether each backend (native, kvm, emulated) is usable and why,\n"
		"and the backend gmem_vm_create() picks (GMEM_BACKEND forces one).\n"
		"Exit status 1 if no backend is usable (a forced one is missing).\n",
	.run = run,
};
