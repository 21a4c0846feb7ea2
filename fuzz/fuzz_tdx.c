/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the TDX structs libgmem-compat decodes
 * (compat/tdx_params.c) on arbitrary bytes.  The first byte picks the
 * struct; the rest is it, exactly as long as the input (so AddressSanitizer
 * sees any read past what the caller passed).
 *   - KVM_TDX_INIT_VM: -EFAULT exactly when the bytes are shorter than the
 *     header or than the entries nent announces; -E2BIG exactly for more
 *     than 256 entries; otherwise 0 or -EINVAL, and on 0 the configuration
 *     holds only offered attributes and XFAM bits (x87 and SSE set),
 *     configurable leaves without TSX or WAITPKG, each at most once, a
 *     GPAW of 48, every input entry accounted for; the output is written
 *     only on 0; the same answer twice;
 *   - the TD's CPUID built from it: leaves 0 and 0x80000000 present,
 *     entries in order, leaf 0's maximum covers every basic leaf;
 *   - KVM_TDX_INIT_MEM_REGION: accepted only when aligned, non-empty, not
 *     wrapping and below the shared bit;
 *   - KVM_TDX_CAPABILITIES: -E2BIG exactly when nent is short.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../compat/tdx_params.h"

#define CAPS_SIZE (sizeof(struct kvm_tdx_capabilities) + \
		   TDX_PARAMS_CONF_NR * sizeof(struct kvm_cpuid_entry2))

static bool configurable(const struct kvm_cpuid_entry2 *e)
{
	_Alignas(8) uint8_t buf[CAPS_SIZE];
	struct kvm_tdx_capabilities *caps = (void *)buf;

	caps->cpuid.nent = TDX_PARAMS_CONF_NR;
	if (tdx_params_capabilities(caps))
		FAIL("capabilities with room for every leaf refused");
	for (uint32_t i = 0; i < caps->cpuid.nent; i++)
		if (caps->cpuid.entries[i].function == e->function &&
		    caps->cpuid.entries[i].index == e->index)
			return true;
	return false;
}

static void init_vm(const uint8_t *buf, size_t len)
{
	struct tdx_td_config c, c2, sentinel;
	struct kvm_cpuid_entry2 cpuid[TDX_PARAMS_CONF_NR + 2];
	struct kvm_tdx_init_vm hdr;
	uint32_t n, max_basic = 0;
	int r, r2;

	memset(&sentinel, 0xa5, sizeof(sentinel));
	c = sentinel;
	r = tdx_params_init_vm(buf, len, &c);
	c2 = sentinel;
	r2 = tdx_params_init_vm(buf, len, &c2);
	if (r != r2 || memcmp(&c, &c2, sizeof(c)))
		FAIL("two answers to the same bytes: %d, %d", r, r2);
	if (len < sizeof(hdr)) {
		if (r != -EFAULT)
			FAIL("%zu bytes, shorter than the header: %d", len, r);
		return;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.cpuid.nent > TDX_PARAMS_MAX_CPUID) {
		if (r != -E2BIG)
			FAIL("nent %u: %d, want E2BIG", hdr.cpuid.nent, r);
		return;
	}
	if (len < tdx_params_init_vm_size(hdr.cpuid.nent)) {
		if (r != -EFAULT)
			FAIL("nent %u in %zu bytes: %d, want EFAULT", hdr.cpuid.nent, len, r);
		return;
	}
	if (r != 0 && r != -EINVAL)
		FAIL("an answer the kernel never gives: %d", r);
	if (r) {
		if (memcmp(&c, &sentinel, sizeof(c)))
			FAIL("refused (%d) but the output was written", r);
		return;
	}
	if (c.attributes & ~TDX_TD_ATTR_SEPT_VE_DISABLE)
		FAIL("attributes %#llx accepted", (unsigned long long)c.attributes);
	if ((c.xfam & 0x3) != 0x3 || c.attributes != hdr.attributes)
		FAIL("xfam %#llx, attributes %#llx", (unsigned long long)c.xfam,
		     (unsigned long long)c.attributes);
	if (c.nent != hdr.cpuid.nent || c.nent > TDX_PARAMS_CONF_NR)
		FAIL("%u entries kept of %u", c.nent, hdr.cpuid.nent);
	for (uint32_t i = 0; i < c.nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c.cpuid[i];

		if (!configurable(e))
			FAIL("leaf %#x.%u is not configurable", e->function, e->index);
		if (e->function == 7 && e->index == 0 &&
		    ((e->ebx & ((1U << 4) | (1U << 11))) || (e->ecx & (1U << 5))))
			FAIL("TSX or WAITPKG accepted");
		if (e->function == 0x80000008 && ((e->eax >> 16) & 0xff) != 48)
			FAIL("GPAW %u accepted", (e->eax >> 16) & 0xff);
		for (uint32_t j = 0; j < i; j++)
			if (c.cpuid[j].function == e->function && c.cpuid[j].index == e->index)
				FAIL("leaf %#x.%u twice", e->function, e->index);
		if (e->function < 0x80000000 && e->function > max_basic)
			max_basic = e->function;
	}
	n = tdx_params_td_cpuid(&c, cpuid);
	if (n != c.nent + 2 || cpuid[0].function != 0 || cpuid[0].eax < max_basic)
		FAIL("TD CPUID: %u entries, leaf 0 says %u", n, cpuid[0].eax);
	for (uint32_t i = 1; i < n; i++)
		if (cpuid[i].function < cpuid[i - 1].function ||
		    (cpuid[i].function == cpuid[i - 1].function &&
		     cpuid[i].index <= cpuid[i - 1].index))
			FAIL("TD CPUID out of order at %u", i);
}

static void mem_region(const uint8_t *buf, size_t len)
{
	struct kvm_tdx_init_mem_region r;
	uint64_t end;

	if (len < sizeof(r))
		return;
	memcpy(&r, buf, sizeof(r));
	if (tdx_params_mem_region(&r))
		return;
	end = r.gpa + r.nr_pages * 4096;
	if (r.source_addr % 4096 || r.gpa % 4096 || !r.nr_pages ||
	    r.nr_pages > (UINT64_MAX >> 12) || end <= r.gpa ||
	    end > TDX_PARAMS_SHARED_BIT)
		FAIL("region source %#llx gpa %#llx pages %llu accepted",
		     (unsigned long long)r.source_addr, (unsigned long long)r.gpa,
		     (unsigned long long)r.nr_pages);
}

static void capabilities(const uint8_t *buf, size_t len)
{
	_Alignas(8) uint8_t b[CAPS_SIZE];
	struct kvm_tdx_capabilities *caps = (void *)b;
	uint32_t nent = 0;
	int r;

	memcpy(&nent, buf, len < 4 ? len : 4);
	memset(b, 0xa5, sizeof(b));
	caps->cpuid.nent = nent > TDX_PARAMS_CONF_NR ? TDX_PARAMS_CONF_NR : nent;
	r = tdx_params_capabilities(caps);
	if ((nent < TDX_PARAMS_CONF_NR) != (r == -E2BIG) || (r && r != -E2BIG))
		FAIL("nent %u: %d", nent, r);
	if (!r && (caps->cpuid.nent != TDX_PARAMS_CONF_NR || caps->reserved[0] ||
		   caps->reserved[249]))
		FAIL("capabilities not written whole");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (!size)
		return 0;
	/* An exact copy: a read past it is an AddressSanitizer report. */
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		init_vm(buf, size - 1);
		break;
	case 1:
		mem_region(buf, size - 1);
		break;
	default:
		capabilities(buf, size - 1);
		break;
	}
	free(buf);
	return 0;
}
