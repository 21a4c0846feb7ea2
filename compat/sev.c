/* SPDX-License-Identifier: MIT */
/*
 * KVM_MEMORY_ENCRYPT_OP on a KVM_X86_SNP_VM: KVM_SEV_INIT2 and the SEV-SNP
 * launch (KVM_SEV_SNP_LAUNCH_START, _UPDATE, _FINISH), with the structs,
 * order rules and errors of Linux's arch/x86/kvm/svm/sev.c and
 * Documentation/virt/kvm/x86/amd-memory-encryption.rst, served by
 * libgmem's SEV-SNP model: pages are measured, encrypted and validated in
 * the guest_memfd behind the memslot holding each GPA, the vCPUs' VMSAs
 * are built from their KVM registers at LAUNCH_FINISH, and the libgmem VM
 * is finalized.  The launch update takes its source from uaddr, or (the
 * series' in-place population, "KVM: SEV: Make 'uaddr' parameter optional
 * for KVM_SEV_SNP_LAUNCH_UPDATE") from the guest_memfd page itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "gmem/snp.h"
#include "gmem/uapi.h"

#define PG GMEM_PAGE_SIZE

/* KVM's answers for this modelled host (sev_hardware_setup()). */
#define SUPPORTED_VMSA_FEATURES GMEM_SVM_SEV_FEAT_DEBUG_SWAP
#define GHCB_VERSION_MAX 2
#define GHCB_VERSION_DEFAULT 2

enum sev_state {
	SEV_NEED_INIT,		/* no KVM_SEV_INIT2 yet */
	SEV_ACTIVE,		/* an SNP guest without a launch context */
	SEV_LAUNCH,		/* LAUNCH_START done: context exists */
	SEV_RUNNING,		/* LAUNCH_FINISH done */
};

struct sev_vm {
	pthread_mutex_t lock;		/* kvm->lock of the kernel */
	enum sev_state state;
	uint64_t vmsa_features;
	uint16_t ghcb_version;
	uint64_t policy;
	int sev_fd;
	struct compat_snp_cpuid *cpuid;	/* the firmware's CPUID policy */
};

static struct sev_vm *sev_of(struct compat_vm *cvm) { return cvm->priv; }

int compat_sev_vm_init(struct compat_vm *cvm)
{
	struct sev_vm *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->sev_fd = -1;
	cvm->priv = s;
	return 0;
}

void compat_sev_vm_fini(struct compat_vm *cvm)
{
	struct sev_vm *s = sev_of(cvm);

	if (!s)
		return;
	if (s->state >= SEV_LAUNCH)
		compat_sev_guests_add(-1);
	compat_snp_cpuid_free(s->cpuid);
	pthread_mutex_destroy(&s->lock);
	free(s);
	cvm->priv = NULL;
}

/* ---- GMEM_COMPAT_LOG ------------------------------------------------------ */

static int log_fd = -1;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_open(void)
{
	const char *path = getenv("GMEM_COMPAT_LOG");

	if (path && *path)
		log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0644);
}

bool compat_sev_logging(void)
{
	pthread_once(&log_once, log_open);
	return log_fd >= 0;
}

void compat_sev_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	pthread_once(&log_once, log_open);
	if (log_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&log_lock);
	if (write(log_fd, line, (size_t)n) < 0) {
		/* nothing to do: the log is best effort */
	}
	pthread_mutex_unlock(&log_lock);
}

static const char *page_type_name(unsigned t)
{
	switch (t) {
	case KVM_SEV_SNP_PAGE_TYPE_NORMAL: return "normal";
	case GMEM_SNP_FW_PAGE_TYPE_VMSA: return "vmsa";
	case KVM_SEV_SNP_PAGE_TYPE_ZERO: return "zero";
	case KVM_SEV_SNP_PAGE_TYPE_UNMEASURED: return "unmeasured";
	case KVM_SEV_SNP_PAGE_TYPE_SECRETS: return "secrets";
	case KVM_SEV_SNP_PAGE_TYPE_CPUID: return "cpuid";
	default: return "?";
	}
}

static void hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

/* The launch digest so far, in hex ("-" before there is a VM, or when
 * nothing is logged: then it is not computed). */
static void digest_hex(struct compat_vm *cvm, char out[97])
{
	uint8_t d[48];

	if (compat_sev_logging() && cvm->vm &&
	    !gmem_snp_launch_digest(cvm->vm, d))
		hex(out, d, sizeof(d));
	else
		strcpy(out, "-");
}

/* ---- KVM_SEV_INIT2 -------------------------------------------------------- */

static int sev_init2(struct compat_vm *cvm, struct sev_vm *s,
		     struct kvm_sev_cmd *cmd)
{
	struct gmem_kvm_sev_init d;

	/* sev_guest_init2(): an SNP VM is initialized once (a second
	 * KVM_SEV_INIT2 is EPERM before this, as every command below 100). */
	if (!cmd->data)
		return -EFAULT;
	memcpy(&d, (void *)(uintptr_t)cmd->data, sizeof(d));
	compat_sev_log("snp: KVM_SEV_INIT2 vmsa_features=%#llx flags=%#x "
		       "ghcb_version=%u", (unsigned long long)d.vmsa_features,
		       d.flags, d.ghcb_version);
	pthread_mutex_lock(&cvm->lock);
	if (cvm->nr_vcpus_created) {
		pthread_mutex_unlock(&cvm->lock);
		return -EINVAL;
	}
	pthread_mutex_unlock(&cvm->lock);
	if (d.flags || (d.vmsa_features & ~SUPPORTED_VMSA_FEATURES) ||
	    d.ghcb_version > GHCB_VERSION_MAX)
		return -EINVAL;
	s->vmsa_features = d.vmsa_features | GMEM_SVM_SEV_FEAT_SNP_ACTIVE;
	s->ghcb_version = d.ghcb_version ? d.ghcb_version : GHCB_VERSION_DEFAULT;
	s->state = SEV_ACTIVE;
	return 0;
}

/* ---- KVM_SEV_SNP_LAUNCH_START --------------------------------------------- */

/* The firmware's CPUID policy on this host: KVM_GET_SUPPORTED_CPUID of
 * /dev/kvm and GMEM_COMPAT_SNP_CPUID_REFUSE. */
static int host_cpuid_policy(struct compat_snp_cpuid **p)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
				      256 * sizeof(struct kvm_cpuid_entry2));
	int kvm, ret = 0;

	if (!c)
		return -ENOMEM;
	c->nent = 256;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 || compat_real.ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c))
		ret = -errno;
	if (kvm >= 0)
		compat_real.close(kvm);
	if (!ret)
		ret = compat_snp_cpuid_new(p, c->entries, c->nent,
					   getenv("GMEM_COMPAT_SNP_CPUID_REFUSE"));
	free(c);
	return ret;
}

static int launch_start(struct compat_vm *cvm, int vm_fd, struct sev_vm *s,
			struct kvm_sev_cmd *cmd)
{
	struct gmem_kvm_sev_snp_launch_start p;
	unsigned abi;
	int ret;

	if (s->state < SEV_ACTIVE)
		return -ENOTTY;
	if (!cmd->data)
		return -EFAULT;
	memcpy(&p, (void *)(uintptr_t)cmd->data, sizeof(p));
	compat_sev_log("snp: KVM_SEV_SNP_LAUNCH_START policy=%#llx flags=%#x "
		       "sev_fd=%u", (unsigned long long)p.policy, p.flags,
		       cmd->sev_fd);
	if (s->state >= SEV_LAUNCH || p.flags ||
	    (p.policy & ~GMEM_SNP_POLICY_VALID) ||
	    !(p.policy & GMEM_SNP_POLICY_RSVD_MBO))
		return -EINVAL;
	/* SNP_GCTX_CREATE goes through sev_fd: a descriptor that is not
	 * /dev/sev leaves KVM without a context (ENOTTY). */
	if (!compat_is_sevdev((int)cmd->sev_fd))
		return -ENOTTY;
	/* The firmware: the policy's ABI version must not exceed its own. */
	abi = (unsigned)(p.policy & 0xffff);
	if ((abi >> 8) > 1 || ((abi >> 8) == 1 && (abi & 0xff) > 55)) {
		cmd->error = SEV_RET_POLICY_FAILURE;
		return -EIO;
	}
	ret = compat_vm_lib(cvm, vm_fd);
	if (ret)
		return ret;
	if (!s->cpuid) {
		struct compat_snp_cpuid *cpuid;

		/* Kept only once the VM checks with it: a failed start
		 * leaves nothing behind, and the next one sets it up. */
		ret = host_cpuid_policy(&cpuid);
		if (ret)
			return ret;
		ret = gmem__snp_set_cpuid_check(cvm->vm, compat_snp_cpuid_check,
						cpuid);
		if (ret) {
			compat_snp_cpuid_free(cpuid);
			return ret;
		}
		s->cpuid = cpuid;
	}
	s->policy = p.policy;
	s->sev_fd = (int)cmd->sev_fd;
	s->state = SEV_LAUNCH;
	compat_sev_guests_add(1);
	return 0;
}

/* ---- KVM_SEV_SNP_LAUNCH_UPDATE -------------------------------------------- */

static bool valid_type(unsigned t)
{
	return t == KVM_SEV_SNP_PAGE_TYPE_NORMAL ||
	       t == KVM_SEV_SNP_PAGE_TYPE_ZERO ||
	       t == KVM_SEV_SNP_PAGE_TYPE_UNMEASURED ||
	       t == KVM_SEV_SNP_PAGE_TYPE_SECRETS ||
	       t == KVM_SEV_SNP_PAGE_TYPE_CPUID;
}

/*
 * One page (sev_gmem_post_populate()): the source loaded into the private
 * gmem page, then the firmware's SNP_LAUNCH_UPDATE.  0, or -errno with
 * *fw the firmware status.  A CPUID page the firmware rejects is copied
 * back to the source (when there is one), as KVM does.
 */
static int populate_page(struct compat_file *f, uint64_t off, uint64_t gpa,
			 unsigned type, uint8_t *src, unsigned *fw)
{
	uint8_t *page = (uint8_t *)gmem__compat_mem(f->g) + off;
	uint64_t attrs = 0, run = 0;
	uint8_t *old = NULL;
	int ret;

	/* kvm_gmem_populate(): the GFN must be private. */
	if (gmem_get_memory_attributes(f->g, off, &attrs, &run) ||
	    !(attrs & GMEM_ATTR_PRIVATE))
		return -EINVAL;
	if (src) {
		/* A page the launch refuses keeps its bytes (KVM checks the
		 * RMP entry before it copies). */
		old = malloc(PG);
		if (!old)
			return -ENOMEM;
		memcpy(old, page, PG);
		memcpy(page, src, PG);
	}
	ret = gmem__snp_launch_update_gpa(f->g, off, PG, gpa, type, fw);
	if (ret && type == KVM_SEV_SNP_PAGE_TYPE_CPUID &&
	    *fw == SEV_RET_INVALID_PARAM) {
		if (src)
			memcpy(src, page, PG);
	} else if (ret && old) {
		memcpy(page, old, PG);
	}
	free(old);
	if (ret == -EINVAL && !*fw)
		return -EEXIST;	/* the RMP entry is not in its initial state */
	if (!ret)
		compat_sev_log("snp: measured page gpa=%#llx type=%s",
			       (unsigned long long)gpa, page_type_name(type));
	return ret;
}

static int launch_update(struct compat_vm *cvm, struct sev_vm *s,
			 struct kvm_sev_cmd *cmd)
{
	struct gmem_kvm_sev_snp_launch_update p, in, *up;
	uint64_t npages, i = 0, first_left = 0;
	char hexd[97];
	unsigned fw = 0;
	uint8_t *src;
	int ret = 0;

	if (s->state < SEV_LAUNCH)
		return -EINVAL;
	if (!cmd->data)
		return -EFAULT;
	up = (void *)(uintptr_t)cmd->data;
	memcpy(&p, up, sizeof(p));
	in = p;
	if (!p.len || p.len % PG || p.flags || !valid_type(p.type)) {
		ret = -EINVAL;
		goto out;
	}
	npages = p.len / PG;
	src = p.type == KVM_SEV_SNP_PAGE_TYPE_ZERO ? NULL
						   : (uint8_t *)(uintptr_t)p.uaddr;
	pthread_mutex_lock(&cvm->lock);
	{
		struct compat_file *f;
		uint64_t off;

		/* The backing memslot must be a private (gmem) one (a GFN
		 * whose address does not fit 64 bits has none). */
		if (p.gfn_start > UINT64_MAX / PG ||
		    !compat_slot_find(cvm, p.gfn_start * PG, &f, &off,
				      &first_left))
			ret = -EINVAL;
	}
	if (!ret && s->state == SEV_RUNNING) {
		/* The guest runs: the firmware refuses the command. */
		cmd->error = SEV_RET_INVALID_GUEST_STATE;
		ret = -EIO;
	} else if (!ret && !compat_is_sevdev((int)cmd->sev_fd)) {
		/* The firmware command of the first page fails (EBADF): no
		 * progress, EIO without a firmware status. */
		ret = -EIO;
	} else if (!ret) {
		/* kvm_gmem_populate() stays within the first memslot. */
		if (npages > first_left / PG)
			npages = first_left / PG;
		for (i = 0; i < npages; i++) {
			uint64_t gpa = (p.gfn_start + i) * PG, off, left;
			struct compat_file *f;

			if (!compat_slot_find(cvm, gpa, &f, &off, &left)) {
				ret = -EINVAL;
				break;
			}
			ret = populate_page(f, off, gpa, p.type,
					    src ? src + i * PG : NULL, &fw);
			if (ret)
				break;
		}
		/* Progress is reported; an error counts only on the first
		 * page (kvm_gmem_populate()), and is then -EIO with the
		 * firmware's status. */
		if (ret && !i) {
			cmd->error = fw;
			ret = -EIO;
		} else {
			ret = 0;
			p.gfn_start += i;
			p.len -= i * PG;
			if (src)
				p.uaddr += i * PG;
			memcpy(up, &p, sizeof(p));
		}
	}
	pthread_mutex_unlock(&cvm->lock);
out:
	digest_hex(cvm, hexd);
	compat_sev_log("snp: KVM_SEV_SNP_LAUNCH_UPDATE gfn_start=%#llx uaddr=%#llx "
		       "len=%#llx type=%s flags=%#x -> %d error=%#x pages=%llu "
		       "digest=%s", (unsigned long long)in.gfn_start,
		       (unsigned long long)in.uaddr, (unsigned long long)in.len,
		       page_type_name(in.type), in.flags, ret, cmd->error,
		       (unsigned long long)(ret ? 0 : i), hexd);
	return ret;
}

/* ---- KVM_SEV_SNP_LAUNCH_FINISH -------------------------------------------- */

/* KVM_GET_MSRS: the header and room for the MSRs. */
union msr_list {
	struct kvm_msrs hdr;
	uint8_t buf[sizeof(struct kvm_msrs) + 16 * sizeof(struct kvm_msr_entry)];
};

enum {
	MSR_PAT = 0x277, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
	MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084,
	MSR_KERNEL_GS_BASE = 0xc0000102, MSR_SYSENTER_CS = 0x174,
	MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
	MSR_DEBUGCTL = 0x1d9, MSR_XSS = 0xda0,
};

/* The state sev_es_sync_vmsa() reads, from the vCPU's KVM ioctls. */
static int vcpu_state(int fd, struct gmem__snp_vcpu_state *st)
{
	static const uint32_t idx[] = {
		MSR_PAT, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
		MSR_KERNEL_GS_BASE, MSR_SYSENTER_CS, MSR_SYSENTER_ESP,
		MSR_SYSENTER_EIP, MSR_DEBUGCTL, MSR_XSS,
	};
	uint64_t *dst[] = {
		&st->pat, &st->star, &st->lstar, &st->cstar, &st->sfmask,
		&st->kernel_gs_base, &st->sysenter_cs, &st->sysenter_esp,
		&st->sysenter_eip, &st->dbgctl, &st->xss,
	};
	struct kvm_debugregs dbg;
	struct kvm_xcrs xcrs;
	struct kvm_xsave *xs;
	union msr_list m;

	memset(st, 0, sizeof(*st));
	if (compat_real.ioctl(fd, KVM_GET_REGS, &st->regs) ||
	    compat_real.ioctl(fd, KVM_GET_SREGS, &st->sregs) ||
	    compat_real.ioctl(fd, KVM_GET_FPU, &st->fpu))
		return -errno;
	memset(&xcrs, 0, sizeof(xcrs));
	if (!compat_real.ioctl(fd, KVM_GET_XCRS, &xcrs)) {
		st->xcr0 = 1;
		for (unsigned i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
			if (xcrs.xcrs[i].xcr == 0)
				st->xcr0 = xcrs.xcrs[i].value;
	}
	if (compat_real.ioctl(fd, KVM_GET_DEBUGREGS, &dbg))
		return -errno;
	st->dr6 = dbg.dr6;
	st->dr7 = dbg.dr7;
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		m.hdr.entries[i].index = idx[i];
	m.hdr.nmsrs = sizeof(idx) / sizeof(idx[0]);
	/* KVM_GET_MSRS returns how many it read: the rest stay 0. */
	if (compat_real.ioctl(fd, KVM_GET_MSRS, &m) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		*dst[i] = m.hdr.entries[i].data;
	/* x87, SSE, YMM and PKRU from the XSAVE area: KVM_GET_FPU never
	 * reports MXCSR, which KVM does write into the VMSA. */
	xs = calloc(1, sizeof(*xs));
	if (!xs)
		return -ENOMEM;
	if (!compat_real.ioctl(fd, KVM_GET_XSAVE, xs))
		gmem__snp_vcpu_state_set_xsave(st, xs->region, sizeof(xs->region));
	free(xs);
	return 0;
}

static int launch_finish(struct compat_vm *cvm, struct sev_vm *s,
			 struct kvm_sev_cmd *cmd)
{
	struct gmem_kvm_sev_snp_launch_finish p;
	uint8_t *vmsa = NULL, digest[48];
	char hexd[97], host[65];
	unsigned n = 0;
	int ret = 0;

	if (s->state < SEV_ACTIVE)
		return -ENOTTY;
	if (s->state < SEV_LAUNCH)
		return -EINVAL;
	if (!cmd->data)
		return -EFAULT;
	memcpy(&p, (void *)(uintptr_t)cmd->data, sizeof(p));
	hex(host, p.host_data, sizeof(p.host_data));
	compat_sev_log("snp: KVM_SEV_SNP_LAUNCH_FINISH id_block_en=%u auth_key_en=%u "
		       "vcek_disabled=%u host_data=%s flags=%#x", p.id_block_en,
		       p.auth_key_en, p.vcek_disabled, host, p.flags);
	if (p.flags)
		return -EINVAL;
	/* Each VMSA's SNP_LAUNCH_UPDATE goes through sev_fd. */
	if (!compat_is_sevdev((int)cmd->sev_fd))
		return -EBADF;
	if (s->state == SEV_RUNNING) {
		cmd->error = SEV_RET_INVALID_GUEST_STATE;
		return -EIO;
	}
	/* snp_launch_update_vmsa(): every vCPU, in creation order. */
	vmsa = aligned_alloc(PG, PG);
	if (!vmsa)
		return -ENOMEM;
	pthread_mutex_lock(&cvm->lock);
	for (struct compat_vcpu *v = cvm->vcpus; v && !ret; v = v->next) {
		struct gmem__snp_vcpu_state st;

		/* sev_es_sync_vmsa(): no launch of a vCPU being debugged. */
		if (__atomic_load_n(&v->guest_debug, __ATOMIC_RELAXED) &
		    KVM_GUESTDBG_ENABLE) {
			ret = -EINVAL;
			break;
		}
		ret = vcpu_state(v->fd, &st);
		if (!ret)
			ret = gmem__snp_vmsa_build(&st, s->vmsa_features, vmsa);
		if (!ret)
			ret = gmem__snp_launch_vmsa(cvm->vm, vmsa);
		if (!ret) {
			digest_hex(cvm, hexd);
			compat_sev_log("snp: measured page gpa=%#llx type=vmsa vcpu=%lu "
				       "digest=%s",
				       (unsigned long long)GMEM__SNP_VMSA_GPA, v->id, hexd);
			n++;
		}
	}
	pthread_mutex_unlock(&cvm->lock);
	free(vmsa);
	if (!ret)
		ret = gmem_vm_finalize(cvm->vm);
	if (!ret) {
		s->state = SEV_RUNNING;
		gmem_snp_launch_digest(cvm->vm, digest);
		hex(hexd, digest, sizeof(digest));
		compat_sev_log("snp: KVM_SEV_SNP_LAUNCH_FINISH -> 0 vcpus=%u", n);
		compat_sev_log("snp launch digest: %s", hexd);
	} else {
		compat_sev_log("snp: KVM_SEV_SNP_LAUNCH_FINISH -> %d error=%#x",
			       ret, cmd->error);
	}
	return ret;
}

/* ---- the ioctl ------------------------------------------------------------ */

/* sev_mem_enc_ioctl() of an SNP VM; called with compat_fd_lock read. */
static int encrypt_op(struct compat_vm *cvm, int vm_fd, void *arg)
{
	struct sev_vm *s = sev_of(cvm);
	struct timespec t0 = { 0 }, t1;
	struct kvm_sev_cmd cmd;
	int r;

	if (!arg)
		return 0;
	memcpy(&cmd, arg, sizeof(cmd));
	if (compat_sev_logging())
		clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&s->lock);
	/* Once KVM_SEV_INIT2 made it an SNP guest, only SNP commands. */
	if (s->state >= SEV_ACTIVE && cmd.id < KVM_SEV_SNP_LAUNCH_START) {
		r = -EPERM;
		goto out;
	}
	switch (cmd.id) {
	case KVM_SEV_INIT:
	case KVM_SEV_ES_INIT:
		r = -EINVAL;	/* legacy init: default VMs only */
		break;
	case KVM_SEV_INIT2:
		r = sev_init2(cvm, s, &cmd);
		break;
	case KVM_SEV_LAUNCH_START:
	case KVM_SEV_LAUNCH_UPDATE_DATA:
	case KVM_SEV_LAUNCH_UPDATE_VMSA:
	case KVM_SEV_LAUNCH_SECRET:
	case KVM_SEV_LAUNCH_MEASURE:
	case KVM_SEV_LAUNCH_FINISH:
	case KVM_SEV_SEND_START:
	case KVM_SEV_SEND_UPDATE_DATA:
	case KVM_SEV_SEND_FINISH:
	case KVM_SEV_SEND_CANCEL:
	case KVM_SEV_RECEIVE_START:
	case KVM_SEV_RECEIVE_UPDATE_DATA:
	case KVM_SEV_RECEIVE_FINISH:
	case KVM_SEV_GUEST_STATUS:
	case KVM_SEV_DBG_DECRYPT:
	case KVM_SEV_DBG_ENCRYPT:
	case KVM_SEV_GET_ATTESTATION_REPORT:
		r = -ENOTTY;	/* not an SEV guest (yet) */
		break;
	case KVM_SEV_SNP_LAUNCH_START:
		r = launch_start(cvm, vm_fd, s, &cmd);
		break;
	case KVM_SEV_SNP_LAUNCH_UPDATE:
		r = launch_update(cvm, s, &cmd);
		break;
	case KVM_SEV_SNP_LAUNCH_FINISH:
		r = launch_finish(cvm, s, &cmd);
		break;
	default:
		r = -EINVAL;
		goto out;
	}
	/* The kernel copies the command back (its error field) always. */
	memcpy(arg, &cmd, sizeof(cmd));
out:
	pthread_mutex_unlock(&s->lock);
	if (!compat_sev_logging())
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	compat_sev_log("snp: KVM_MEMORY_ENCRYPT_OP id=%u -> %d error=%#x (%lld us)",
		       cmd.id, r, cmd.error,
		       (long long)((t1.tv_sec - t0.tv_sec) * 1000000 +
				   (t1.tv_nsec - t0.tv_nsec) / 1000));
	return r;
}

int compat_sev_encrypt_op(struct compat_vm *cvm, void *arg)
{
	return encrypt_op(cvm, cvm->fd, arg);
}
