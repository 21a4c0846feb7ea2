/* SPDX-License-Identifier: MIT */
/*
 * The KVM uAPI libgmem uses, carried for systems whose <linux/kvm.h> lacks it
 * (Debian 12 ships 6.1 headers).  Every definition is guarded, so a newer
 * system header wins without a clash; sizes are checked at compile time.
 *
 * Sources: guest_memfd creation, KVM_SET_USER_MEMORY_REGION2, memory
 * attributes and KVM_EXIT_MEMORY_FAULT (Linux 6.8); GUEST_MEMFD_FLAG_MMAP
 * (6.17), GUEST_MEMFD_FLAG_INIT_SHARED and KVM_CAP_GUEST_MEMFD_FLAGS (6.18);
 * KVM_SET_MEMORY_ATTRIBUTES2 and the content modes from the series
 * "guest_memfd: In-place conversion support" (RFC v5; v8 keeps the struct
 * and drops the content flags; not in a release).
 * The SEV-SNP launch structures follow <linux/kvm.h> of Linux 6.11.
 */
#ifndef GMEM_UAPI_H
#define GMEM_UAPI_H

#include <linux/kvm.h>
#include <linux/psp-sev.h>
#include <linux/types.h>
#include <sys/ioctl.h>

/* ---- capabilities ------------------------------------------------------ */
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231		/* 6.8 */
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233		/* 6.8 */
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD 234			/* 6.8 */
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235			/* 6.8 */
#endif
#ifndef KVM_CAP_GUEST_MEMFD_FLAGS
#define KVM_CAP_GUEST_MEMFD_FLAGS 244		/* 6.18 */
#endif
/* The series' capabilities moved between revisions: RFC v5 had
 * KVM_CAP_MEMORY_ATTRIBUTES2 = 249 and the content modes at 250; v8 has
 * KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES = 250 (the attributes a guest_memfd
 * of that VM supports: KVM_MEMORY_ATTRIBUTE_PRIVATE) and no content modes,
 * and Linux 7.2 gives 249 to KVM_CAP_S390_HPAGE_2G.  Probe by trying
 * KVM_SET_MEMORY_ATTRIBUTES2, never by number alone. */
#ifndef KVM_CAP_MEMORY_ATTRIBUTES2
#define KVM_CAP_MEMORY_ATTRIBUTES2 249		/* RFC v5 */
#endif
#ifndef KVM_CAP_GUEST_MEMFD_CONTENT_MODES
#define KVM_CAP_GUEST_MEMFD_CONTENT_MODES 250	/* RFC v5 */
#endif
#ifndef KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES
#define KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES 250	/* v8 */
#endif

/* v8 (2026-06-18): one capability, 250, answering the attributes
 * KVM_SET_MEMORY_ATTRIBUTES2 takes on a guest_memfd; 249 is Linux 7.2's
 * KVM_CAP_S390_HPAGE_2G.  No content-mode capability. */
#ifndef KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES
#define KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES 250	/* v8 */
#endif

/* ---- VM types (x86) ---------------------------------------------------- */
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#endif
#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM 1
#endif
#ifndef KVM_X86_SEV_VM
#define KVM_X86_SEV_VM 2
#endif
#ifndef KVM_X86_SEV_ES_VM
#define KVM_X86_SEV_ES_VM 3
#endif
#ifndef KVM_X86_SNP_VM
#define KVM_X86_SNP_VM 4
#endif
#ifndef KVM_X86_TDX_VM
#define KVM_X86_TDX_VM 5
#endif

/* ---- guest_memfd ------------------------------------------------------- */
#ifndef KVM_CREATE_GUEST_MEMFD
struct kvm_create_guest_memfd {
	__u64 size;
	__u64 flags;
	__u64 reserved[6];
};
#define KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)
#endif
_Static_assert(sizeof(struct kvm_create_guest_memfd) == 64,
	       "struct kvm_create_guest_memfd is 64 bytes");

#ifndef GUEST_MEMFD_FLAG_MMAP
#define GUEST_MEMFD_FLAG_MMAP (1ULL << 0)	/* 6.17 */
#endif
#ifndef GUEST_MEMFD_FLAG_INIT_SHARED
#define GUEST_MEMFD_FLAG_INIT_SHARED (1ULL << 1)	/* 6.18 */
#endif

/* ---- host mappings ------------------------------------------------------ */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25			/* 6.1 */
#endif

/* ---- memslots with a guest_memfd --------------------------------------- */
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};
#define KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif
_Static_assert(sizeof(struct kvm_userspace_memory_region2) == 160,
	       "struct kvm_userspace_memory_region2 is 160 bytes");
#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD (1U << 2)
#endif

/* ---- memory attributes ------------------------------------------------- */
#ifndef KVM_MEMORY_ATTRIBUTE_PRIVATE
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)
#endif
#ifndef KVM_SET_MEMORY_ATTRIBUTES
struct kvm_memory_attributes {
	__u64 address;
	__u64 size;
	__u64 attributes;
	__u64 flags;
};
#define KVM_SET_MEMORY_ATTRIBUTES _IOW(KVMIO, 0xd2, struct kvm_memory_attributes)
#endif

/* In-place conversion (RFC v5): issued on the guest_memfd fd, with offset;
 * the VM-fd form uses the same struct with address.  Copied back to user
 * space only on failure (error_offset). */
#ifndef KVM_SET_MEMORY_ATTRIBUTES2
struct kvm_memory_attributes2 {
	union {
		__u64 address;
		__u64 offset;
	};
	__u64 size;
	__u64 attributes;
	__u64 flags;
	__u64 error_offset;
	__u64 reserved[11];
};
#define KVM_SET_MEMORY_ATTRIBUTES2 \
	_IOWR(KVMIO, 0xd2, struct kvm_memory_attributes2)
#endif
_Static_assert(sizeof(struct kvm_memory_attributes2) == 128,
	       "struct kvm_memory_attributes2 is 128 bytes");

#ifndef KVM_SET_MEMORY_ATTRIBUTES2_UNSPECIFIED
#define KVM_SET_MEMORY_ATTRIBUTES2_UNSPECIFIED 0ULL
#endif
#ifndef KVM_SET_MEMORY_ATTRIBUTES2_ZERO
#define KVM_SET_MEMORY_ATTRIBUTES2_ZERO (1ULL << 0)
#endif
#ifndef KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE
#define KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE (1ULL << 1)
#endif

/* ---- exits ------------------------------------------------------------- */
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif
#ifndef KVM_MEMORY_EXIT_FLAG_PRIVATE
#define KVM_MEMORY_EXIT_FLAG_PRIVATE (1ULL << 3)
#endif
/* struct kvm_run's memory_fault member (6.8) as its own type, for reading
 * it through the exit union on older headers. */
struct gmem_kvm_memory_fault {
	__u64 flags;
	__u64 gpa;
	__u64 size;
};

/* ---- SEV-SNP launch (6.11) --------------------------------------------- */
#ifndef KVM_SEV_SNP_PAGE_TYPE_NORMAL
#define KVM_SEV_SNP_PAGE_TYPE_NORMAL     0x1
#define KVM_SEV_SNP_PAGE_TYPE_ZERO       0x3
#define KVM_SEV_SNP_PAGE_TYPE_UNMEASURED 0x4
#define KVM_SEV_SNP_PAGE_TYPE_SECRETS    0x5
#define KVM_SEV_SNP_PAGE_TYPE_CPUID      0x6
#endif
/* VMSA pages are added by LAUNCH_FINISH in KVM; the firmware type is 2. */
#define GMEM_SNP_FW_PAGE_TYPE_VMSA 0x2

#ifndef KVM_SEV_SNP_LAUNCH_START
#define KVM_SEV_SNP_LAUNCH_START  100
#define KVM_SEV_SNP_LAUNCH_UPDATE 101
#define KVM_SEV_SNP_LAUNCH_FINISH 102
#endif

struct gmem_kvm_sev_snp_launch_start {
	__u64 policy;
	__u8 gosvw[16];
	__u16 flags;
	__u8 pad0[6];
	__u64 pad1[4];
};
_Static_assert(sizeof(struct gmem_kvm_sev_snp_launch_start) == 64,
	       "struct kvm_sev_snp_launch_start is 64 bytes");

struct gmem_kvm_sev_snp_launch_update {
	__u64 gfn_start;
	__u64 uaddr;
	__u64 len;
	__u8 type;
	__u8 pad0;
	__u16 flags;
	__u32 pad1;
	__u64 pad2[4];
};
_Static_assert(sizeof(struct gmem_kvm_sev_snp_launch_update) == 64,
	       "struct kvm_sev_snp_launch_update is 64 bytes");

struct gmem_kvm_sev_snp_launch_finish {
	__u64 id_block_uaddr;
	__u64 id_auth_uaddr;
	__u8 id_block_en;
	__u8 auth_key_en;
	__u8 vcek_disabled;
	__u8 host_data[32];
	__u8 pad0[3];
	__u16 flags;
	__u64 pad1[4];
};
_Static_assert(sizeof(struct gmem_kvm_sev_snp_launch_finish) == 88,
	       "struct kvm_sev_snp_launch_finish is 88 bytes");

/* ---- TDX launch (6.16, arch/x86/include/uapi/asm/kvm.h) ---------------- */
/* KVM_MEMORY_ENCRYPT_OP on the VM fd (CAPABILITIES, INIT_VM, FINALIZE_VM)
 * and on vCPU fds (INIT_VCPU, INIT_MEM_REGION, GET_CPUID).  v8 of the
 * in-place conversion series makes INIT_MEM_REGION's source_addr optional:
 * 0 populates the guest_memfd page from its own bytes. */
#ifndef KVM_TDX_MEASURE_MEMORY_REGION
enum kvm_tdx_cmd_id {
	KVM_TDX_CAPABILITIES = 0,
	KVM_TDX_INIT_VM,
	KVM_TDX_INIT_VCPU,
	KVM_TDX_INIT_MEM_REGION,
	KVM_TDX_FINALIZE_VM,
	KVM_TDX_GET_CPUID,

	KVM_TDX_CMD_NR_MAX,
};

struct kvm_tdx_cmd {
	__u32 id;		/* enum kvm_tdx_cmd_id */
	__u32 flags;
	__u64 data;		/* an immediate or a user pointer */
	__u64 hw_error;		/* out: the TDX module's status */
};

struct kvm_tdx_capabilities {
	__u64 supported_attrs;
	__u64 supported_xfam;
	__u64 kernel_tdvmcallinfo_1_r11;
	__u64 user_tdvmcallinfo_1_r11;
	__u64 kernel_tdvmcallinfo_1_r12;
	__u64 user_tdvmcallinfo_1_r12;
	__u64 reserved[250];
	struct kvm_cpuid2 cpuid;	/* the configurable CPUID bits */
};

struct kvm_tdx_init_vm {
	__u64 attributes;
	__u64 xfam;
	__u64 mrconfigid[6];	/* SHA-384 digests */
	__u64 mrowner[6];
	__u64 mrownerconfig[6];
	__u64 reserved[12];	/* 256 bytes before the CPUIDs */
	struct kvm_cpuid2 cpuid;
};

#define KVM_TDX_MEASURE_MEMORY_REGION (1UL << 0)

struct kvm_tdx_init_mem_region {
	__u64 source_addr;
	__u64 gpa;
	__u64 nr_pages;
};
#endif
_Static_assert(sizeof(struct kvm_tdx_cmd) == 24, "struct kvm_tdx_cmd is 24 bytes");
_Static_assert(sizeof(struct kvm_tdx_capabilities) == 2048 + 8,
	       "struct kvm_tdx_capabilities is 2048 bytes before the CPUIDs");
_Static_assert(sizeof(struct kvm_tdx_init_vm) == 256 + 8,
	       "struct kvm_tdx_init_vm is 256 bytes before the CPUIDs");
_Static_assert(sizeof(struct kvm_tdx_init_mem_region) == 24,
	       "struct kvm_tdx_init_mem_region is 24 bytes");

/* TD attributes (TDX module ABI, TDCS ATTRIBUTES). */
#ifndef TDX_TD_ATTR_DEBUG
#define TDX_TD_ATTR_DEBUG		(1ULL << 0)
#define TDX_TD_ATTR_SEPT_VE_DISABLE	(1ULL << 28)
#endif

/* SEV firmware status codes (SEV-SNP firmware ABI, table "Status Codes"). */
#ifndef SEV_RET_INVALID_PARAM
#define SEV_RET_INVALID_PARAM 0x16
#endif

/* KVM_SEV_INIT2 and its struct (6.10), numbered after KVM_SEV_SEND_CANCEL. */
#ifndef KVM_SEV_INIT2
#define KVM_SEV_INIT2 22
#endif
struct gmem_kvm_sev_init {
	__u64 vmsa_features;
	__u32 flags;
	__u16 ghcb_version;
	__u16 pad1;
	__u32 pad2[8];
};
_Static_assert(sizeof(struct gmem_kvm_sev_init) == 48,
	       "struct kvm_sev_init is 48 bytes");
_Static_assert(sizeof(struct kvm_sev_cmd) == 24, "struct kvm_sev_cmd is 24 bytes");

/* Attributes of /dev/kvm (KVM_GET_DEVICE_ATTR, KVM_HAS_DEVICE_ATTR). */
#ifndef KVM_X86_GRP_SEV
#define KVM_X86_GRP_SEV 1
#define KVM_X86_SEV_VMSA_FEATURES 0
#endif
/* VMSA SEV_FEATURES bits (AMD APM vol. 2, "VMSA"). */
#define GMEM_SVM_SEV_FEAT_SNP_ACTIVE (1ULL << 0)
#define GMEM_SVM_SEV_FEAT_DEBUG_SWAP (1ULL << 5)
/* Guest policy bits KVM accepts (SEV-SNP firmware ABI, "Guest Policy"). */
#define GMEM_SNP_POLICY_SMT      (1ULL << 16)
#define GMEM_SNP_POLICY_RSVD_MBO (1ULL << 17)
#define GMEM_SNP_POLICY_DEBUG    (1ULL << 19)
#define GMEM_SNP_POLICY_SINGLE_SOCKET (1ULL << 20)
#define GMEM_SNP_POLICY_VALID    (0xffffULL | GMEM_SNP_POLICY_SMT | \
				  GMEM_SNP_POLICY_RSVD_MBO | \
				  GMEM_SNP_POLICY_DEBUG | \
				  GMEM_SNP_POLICY_SINGLE_SOCKET)

/* /dev/sev (<linux/psp-sev.h>): SEV_ISSUE_CMD and the SNP status (6.11). */
#ifndef SNP_PLATFORM_STATUS
#define SNP_PLATFORM_STATUS 256
#endif
struct gmem_sev_user_data_snp_status {
	__u8 api_major;
	__u8 api_minor;
	__u8 state;
	__u8 is_rmp_initialized;	/* bit 0; bits 1-7 reserved */
	__u32 build_id;
	__u32 feature_flags;		/* mask_chip_id, mask_chip_key, ... */
	__u32 guest_count;
	__u64 current_tcb_version;
	__u64 reported_tcb_version;
} __attribute__((packed));
_Static_assert(sizeof(struct gmem_sev_user_data_snp_status) == 32,
	       "struct sev_user_data_snp_status is 32 bytes");
_Static_assert(sizeof(struct sev_issue_cmd) == 16, "struct sev_issue_cmd is 16 bytes");
/* ---- /sys/kernel/debug/gup_test (CONFIG_GUP_TEST, mm/gup_test.h) -------- */
/* Long-term GUP pins of user pages held until STOP: the kernel's own way to
 * give a guest_memfd page an elevated reference (the series' selftests use
 * it for KVM_SET_MEMORY_ATTRIBUTES2's EAGAIN).  Not an installed header. */
struct gmem_pin_longterm_test {
	__u64 addr;
	__u64 size;
	__u32 flags;
};
_Static_assert(sizeof(struct gmem_pin_longterm_test) == 24,
	       "struct pin_longterm_test is 24 bytes");
#ifndef PIN_LONGTERM_TEST_START
#define PIN_LONGTERM_TEST_START _IOW('g', 7, struct gmem_pin_longterm_test)
#define PIN_LONGTERM_TEST_STOP  _IO('g', 8)
#define PIN_LONGTERM_TEST_FLAG_USE_WRITE 1
#define PIN_LONGTERM_TEST_FLAG_USE_FAST  2
#endif

/* ---- userfaultfd (host views, src/view.c) ------------------------------ */
#include <linux/userfaultfd.h>
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1			/* 5.11 */
#endif
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)	/* 6.3 */
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)		/* 6.6 */
#endif
#ifndef UFFDIO_REGISTER_MODE_WP
#define UFFDIO_REGISTER_MODE_WP ((__u64)1 << 1)
#endif
#ifndef UFFDIO_POISON
#define _UFFDIO_POISON 0x08
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
_Static_assert(sizeof(struct uffdio_poison) == 32,
	       "struct uffdio_poison is 32 bytes");

#endif /* GMEM_UAPI_H */
