/* SPDX-License-Identifier: MIT */
/*
 * The modelled TDX module (what TDH.SYS.RD would report to KVM) and the
 * checks of the structs the TDX commands pass (tdx_params.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tdx_params.h"

/* KVM offers SEPT_VE_DISABLE only (KVM_SUPPORTED_TDX_TD_ATTRS). */
#define TD_ATTRS_SUPPORTED	TDX_TD_ATTR_SEPT_VE_DISABLE
/* x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM), PKRU, AMX. */
#define TD_XFAM_SUPPORTED	0x602e7ULL
#define TD_XFAM_FIXED1		0x3ULL		/* x87, SSE */

struct td_cpuid_conf {
	uint32_t function, index;
	uint32_t eax, ebx, ecx, edx;	/* the bits KVM may configure */
};

/* The configurable leaves, with TSX (7.0 EBX HLE, RTM) and WAITPKG
 * (7.0 ECX) cleared as KVM reports them, and 0x80000008 EAX[23:16] (the
 * guest physical address width, KVM's GPAW interface) all ones. */
static const struct td_cpuid_conf td_conf[TDX_PARAMS_CONF_NR] = {
	{ 0x1,        0, 0x0fff3fff, 0x00ff0000, 0x31fffbff, 0xbfcbfbff },
	{ 0x7,        0, 0x00000000, 0xdc2fe7e7, 0x19c07f5e, 0xbc1c4410 },
	{ 0xd,        0, 0x000602e7, 0x00000000, 0x00000000, 0x00000000 },
	{ 0xd,        1, 0x0000000f, 0x00000000, 0x00001800, 0x00000000 },
	{ 0x80000001, 0, 0x00000000, 0x00000000, 0x00000121, 0x2c100800 },
	{ 0x80000008, 0, 0x00ffffff, 0x00000200, 0x00000000, 0x00000000 },
};

int tdx_params_capabilities(struct kvm_tdx_capabilities *caps)
{
	if (caps->cpuid.nent < TDX_PARAMS_CONF_NR)
		return -E2BIG;
	memset(caps, 0, sizeof(*caps));
	caps->supported_attrs = TD_ATTRS_SUPPORTED;
	caps->supported_xfam = TD_XFAM_SUPPORTED;
	caps->user_tdvmcallinfo_1_r11 = 1ULL << 1;	/* SetupEventNotifyInterrupt */
	caps->cpuid.nent = TDX_PARAMS_CONF_NR;
	for (size_t i = 0; i < TDX_PARAMS_CONF_NR; i++) {
		struct kvm_cpuid_entry2 *e = &caps->cpuid.entries[i];

		memset(e, 0, sizeof(*e));
		e->function = td_conf[i].function;
		e->index = td_conf[i].index;
		e->eax = td_conf[i].eax;
		e->ebx = td_conf[i].ebx;
		e->ecx = td_conf[i].ecx;
		e->edx = td_conf[i].edx;
	}
	return 0;
}

size_t tdx_params_init_vm_size(uint32_t nent)
{
	return sizeof(struct kvm_tdx_init_vm) +
	       (size_t)nent * sizeof(struct kvm_cpuid_entry2);
}

static const struct kvm_cpuid_entry2 *find_entry(const struct kvm_cpuid_entry2 *e,
						 uint32_t nent, uint32_t function,
						 uint32_t index)
{
	for (uint32_t i = 0; i < nent; i++)
		if (e[i].function == function && e[i].index == index)
			return &e[i];
	return NULL;
}

/* tdx_td_init() and setup_tdparams(), in their order. */
int tdx_params_init_vm(const void *buf, size_t len, struct tdx_td_config *out)
{
	struct kvm_tdx_init_vm iv;
	const struct kvm_cpuid_entry2 *ents, *e;
	struct tdx_td_config c;
	uint32_t copied = 0;

	if (!buf || len < sizeof(iv))
		return -EFAULT;
	memcpy(&iv, buf, sizeof(iv));
	if (iv.cpuid.nent > TDX_PARAMS_MAX_CPUID)
		return -E2BIG;
	if (len < tdx_params_init_vm_size(iv.cpuid.nent))
		return -EFAULT;
	ents = (const struct kvm_cpuid_entry2 *)((const uint8_t *)buf + sizeof(iv));
	for (size_t i = 0; i < sizeof(iv.reserved) / sizeof(iv.reserved[0]); i++)
		if (iv.reserved[i])
			return -EINVAL;
	if (iv.cpuid.padding)
		return -EINVAL;
	if (iv.attributes & ~TD_ATTRS_SUPPORTED)
		return -EINVAL;
	if (iv.xfam & ~TD_XFAM_SUPPORTED)
		return -EINVAL;
	/* The GPAW: 48; 52 needs 5-level EPT, which the model has not. */
	e = find_entry(ents, iv.cpuid.nent, 0x80000008, 0);
	if (!e || ((e->eax >> 16) & 0xff) != 48)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < TDX_PARAMS_CONF_NR; i++) {
		e = find_entry(ents, iv.cpuid.nent, td_conf[i].function,
			       td_conf[i].index);
		if (!e)
			continue;
		if (e->function == 7 && e->index == 0 &&
		    ((e->ebx & ((1U << 4) | (1U << 11))) || (e->ecx & (1U << 5))))
			return -EINVAL;		/* TSX (HLE, RTM), WAITPKG */
		c.cpuid[c.nent++] = *e;
		copied++;
	}
	/* Entries without a configurable slot: the module could not check
	 * them, KVM refuses them. */
	if (copied != iv.cpuid.nent)
		return -EINVAL;
	c.attributes = iv.attributes;
	c.xfam = iv.xfam | TD_XFAM_FIXED1;
	*out = c;
	return 0;
}

int tdx_params_mem_region(const struct kvm_tdx_init_mem_region *r)
{
	uint64_t end;

	if (r->source_addr % 4096 || r->gpa % 4096 || !r->nr_pages ||
	    r->nr_pages > (UINT64_MAX >> 12))
		return -EINVAL;
	end = r->gpa + (r->nr_pages << 12);
	if (end <= r->gpa || r->gpa >= TDX_PARAMS_SHARED_BIT ||
	    end - 1 >= TDX_PARAMS_SHARED_BIT)
		return -EINVAL;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct kvm_cpuid_entry2 *x = a, *y = b;

	if (x->function != y->function)
		return x->function < y->function ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

uint32_t tdx_params_td_cpuid(const struct tdx_td_config *c,
			     struct kvm_cpuid_entry2 *out)
{
	uint32_t n = 0, max = 1;

	memset(out, 0, 2 * sizeof(*out));
	out[0].function = 0;
	out[0].ebx = 0x756e6547;	/* "GenuineIntel" */
	out[0].edx = 0x49656e69;
	out[0].ecx = 0x6c65746e;
	out[1].function = 0x80000000;
	out[1].eax = 0x80000008;
	n = 2;
	for (uint32_t i = 0; i < c->nent && i < TDX_PARAMS_CONF_NR; i++) {
		out[n] = c->cpuid[i];
		/* Leaves with subleaves say the index matters, as
		 * tdx_read_cpuid() reports them. */
		out[n].flags = out[n].function == 0x7 || out[n].function == 0xd ?
			       KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
		if (out[n].function < 0x80000000 && out[n].function > max)
			max = out[n].function;
		n++;
	}
	out[0].eax = max;
	qsort(out, n, sizeof(*out), cmp_entry);
	return n;
}
