/* SPDX-License-Identifier: MIT */
/*
 * The SEV-SNP launch digest of an OVMF guest, predicted from its inputs:
 * the pages a VMM hands to SNP_LAUNCH_UPDATE, in its order, chained with
 * the modelled firmware's PAGE_INFO (snp_fw.c), and the VMSA of each vCPU
 * as KVM builds it at KVM_SEV_SNP_LAUNCH_FINISH (snp_vmsa.c).
 *
 * The order is QEMU's (target/i386/sev.c, sev_snp_launch_finish()): the
 * firmware image queued when the flash was mapped, then the metadata
 * sections in table order (snp_populate_metadata_pages()), then KVM's
 * VMSAs in vCPU order.
 */
#include <errno.h>
#include <string.h>

#include "gmem/gmem.h"
#include "platform/snp_fw.h"
#include "platform/snp_ovmf.h"

#define PAGE 4096ULL
#define MAX_VCPUS 4096

struct chain {
	uint8_t digest[48];
	const struct gmem__snp_measure_in *in;
};

static void report(struct chain *c, unsigned type, uint64_t gpa,
		   uint64_t npages, unsigned vcpu, const uint8_t *vmsa)
{
	struct gmem__snp_measure_step st = {
		.page_type = type, .gpa = gpa, .npages = npages, .vcpu = vcpu,
		.vmsa = vmsa,
	};

	if (!c->in->step)
		return;
	memcpy(st.digest, c->digest, 48);
	c->in->step(c->in->arg, &st);
}

/* npages pages of `type` from gpa; data (NORMAL) or NULL (contents not
 * measured). */
static int extend(struct chain *c, unsigned type, uint64_t gpa,
		  uint64_t npages, const uint8_t *data)
{
	for (uint64_t i = 0; i < npages; i++) {
		int ret = gmem__snp_measure_page(c->digest,
						 data ? data + i * PAGE : NULL,
						 type, gpa + i * PAGE);
		if (ret)
			return ret;
	}
	report(c, type, gpa, npages, 0, NULL);
	return 0;
}

int gmem__snp_measure_ovmf_hash(const struct gmem__ovmf *ovmf, uint8_t digest[48])
{
	struct gmem__snp_measure_in in = { .ovmf = ovmf };
	struct chain c = { .in = &in };
	int ret;

	if (!ovmf || !digest || !ovmf->data)
		return -EFAULT;
	ret = extend(&c, GMEM_SNP_PAGE_NORMAL, ovmf->gpa, ovmf->size / PAGE,
		     ovmf->data);
	if (!ret)
		memcpy(digest, c.digest, 48);
	return ret;
}

static int bad(const char **why, int err, const char *reason)
{
	if (why)
		*why = reason;
	return err;
}

static int hashes_section(struct chain *c, const struct gmem__ovmf_section *s,
			  const char **why)
{
	const struct gmem__snp_measure_in *in = c->in;
	const struct gmem__ovmf *o = in->ovmf;
	uint8_t page[PAGE];
	int ret;

	if (!in->kernel)
		return extend(c, GMEM_SNP_PAGE_ZERO, s->gpa, s->size / PAGE, NULL);
	if (s->size != PAGE)
		return bad(why, -EINVAL, "the kernel hashes section is not one page");
	if (!o->has_hash_table || o->hash_table_gpa < s->gpa ||
	    o->hash_table_gpa - s->gpa > PAGE - GMEM__SEV_HASHES_TABLE_LEN ||
	    o->hash_table_size < GMEM__SEV_HASHES_TABLE_LEN)
		return bad(why, -EINVAL, "the SEV hash table entry does not lie in the kernel hashes section");
	ret = gmem__sev_hashes_page(in->cmdline_sha256, in->initrd_sha256,
				    in->kernel_sha256, o->hash_table_gpa - s->gpa, page);
	if (ret)
		return bad(why, ret, "the SEV hash table does not fit its page");
	return extend(c, GMEM_SNP_PAGE_NORMAL, s->gpa, 1, page);
}

static int section(struct chain *c, const struct gmem__ovmf_section *s,
		   const char **why)
{
	switch (s->type) {
	case GMEM__OVMF_SEC_MEM:
	case GMEM__OVMF_SEC_SVSM_CAA:
		return extend(c, GMEM_SNP_PAGE_ZERO, s->gpa, s->size / PAGE, NULL);
	case GMEM__OVMF_SEC_SECRETS:
		return extend(c, GMEM_SNP_PAGE_SECRETS, s->gpa, 1, NULL);
	case GMEM__OVMF_SEC_CPUID:
		return extend(c, GMEM_SNP_PAGE_CPUID, s->gpa, 1, NULL);
	case GMEM__OVMF_SEC_KERNEL_HASHES:
		return hashes_section(c, s, why);
	default:
		return bad(why, -EINVAL, "SEV metadata: unknown section type");
	}
}

static int sections(struct chain *c, const char **why)
{
	const struct gmem__ovmf *o = c->in->ovmf;
	bool ec2 = c->in->vmm == GMEM__SNP_VMM_EC2, hashes = false;
	int ret = 0;

	for (unsigned i = 0; i < o->nsections && !ret; i++) {
		hashes |= o->sec[i].type == GMEM__OVMF_SEC_KERNEL_HASHES;
		if (!(ec2 && o->sec[i].type == GMEM__OVMF_SEC_CPUID))
			ret = section(c, &o->sec[i], why);
	}
	/* EC2 hands the CPUID page over last. */
	for (unsigned i = 0; i < o->nsections && ec2 && !ret; i++)
		if (o->sec[i].type == GMEM__OVMF_SEC_CPUID)
			ret = section(c, &o->sec[i], why);
	if (!ret && c->in->kernel && !hashes)
		return bad(why, -EINVAL, "a kernel is given but the image has no kernel hashes section");
	return ret;
}

static int vmsas(struct chain *c, const char **why)
{
	const struct gmem__snp_measure_in *in = c->in;
	struct gmem__snp_vcpu_state s;
	uint8_t page[GMEM__SNP_VMSA_SIZE];

	for (unsigned i = 0; i < in->vcpus; i++) {
		int ret = gmem__snp_vcpu_reset(&s, in->vmm, i, in->vcpu_sig,
					       in->ovmf->reset_eip);

		if (!ret)
			ret = gmem__snp_vmsa_build(&s, in->guest_features, page);
		if (!ret)
			ret = gmem__snp_measure_page(c->digest, page,
						     GMEM_SNP_PAGE_VMSA,
						     GMEM__SNP_VMSA_GPA);
		if (ret)
			return bad(why, ret, "building a VMSA failed");
		report(c, GMEM_SNP_PAGE_VMSA, GMEM__SNP_VMSA_GPA, 1, i, page);
	}
	return 0;
}

int gmem__snp_measure(const struct gmem__snp_measure_in *in, uint8_t digest[48],
		      const char **why)
{
	struct chain c = { .in = in };
	int ret;

	if (!in || !digest || !in->ovmf || !in->ovmf->data)
		return -EFAULT;
	if (!in->ovmf->has_metadata)
		return bad(why, -ENOENT, "the image has no SEV metadata (not an SEV-SNP OVMF)");
	if (!in->vcpus || in->vcpus > MAX_VCPUS)
		return bad(why, -EINVAL, "the vCPU count is not within 1..4096");
	if (in->vcpus > 1 && !in->ovmf->reset_eip)
		return bad(why, -EINVAL, "several vCPUs but the image has no SEV-ES reset block");
	if (in->vmm != GMEM__SNP_VMM_QEMU && in->vmm != GMEM__SNP_VMM_EC2)
		return bad(why, -EINVAL, "unknown VMM type");
	if (in->ovmf_hash) {
		memcpy(c.digest, in->ovmf_hash, 48);
		report(&c, GMEM_SNP_PAGE_NORMAL, in->ovmf->gpa, in->ovmf->size / PAGE, 0, NULL);
	} else {
		ret = extend(&c, GMEM_SNP_PAGE_NORMAL, in->ovmf->gpa,
			     in->ovmf->size / PAGE, in->ovmf->data);
		if (ret)
			return bad(why, ret, "hashing the image failed");
	}
	ret = sections(&c, why);
	if (!ret)
		ret = vmsas(&c, why);
	if (!ret)
		memcpy(digest, c.digest, 48);
	return ret;
}
