/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: what libgmem-compat decodes for the SEV-SNP launch
 * (compat/sev_cpuid.c): the GMEM_COMPAT_SNP_CPUID_REFUSE list and the
 * CPUID page a VMM hands to KVM_SEV_SNP_LAUNCH_UPDATE, checked against a
 * host's KVM_GET_SUPPORTED_CPUID entries.  Input: the list's length and
 * the number of host entries (one byte each), the list (text), the host
 * entries (40 bytes each), and the page.
 *   - a list is accepted or -EINVAL/-E2BIG, never more;
 *   - count > 64: -EINVAL, the page untouched;
 *   - else 0 with nothing changed, or -EIO with the corrected page and
 *     nchanged > 0; count and the entries' inputs (eax_in, ecx_in,
 *     xcr0_in, xss_in) never change, nor entries past count;
 *   - idempotence: the corrected page passes a second check unchanged;
 *   - every refused bit is clear in the corrected page.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../compat/compat.h"
#include "gmem/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmem_snp_cpuid_table orig, t, t2;
	static struct kvm_cpuid_entry2 host[64];
	struct compat_snp_cpuid *p;
	char refuse[129];
	size_t rlen, nhost;
	unsigned n1 = 77, n2 = 77;
	int r, r2;

	if (size < 2)
		return 0;
	rlen = data[0] % sizeof(refuse);
	nhost = data[1] % (sizeof(host) / sizeof(host[0]) + 1);
	data += 2;
	size -= 2;
	if (rlen > size)
		rlen = size;
	memcpy(refuse, data, rlen);
	refuse[rlen] = 0;
	data += rlen;
	size -= rlen;
	memset(host, 0, sizeof(host));
	if (nhost * sizeof(host[0]) > size)
		nhost = size / sizeof(host[0]);
	memcpy(host, data, nhost * sizeof(host[0]));
	data += nhost * sizeof(host[0]);
	size -= nhost * sizeof(host[0]);

	r = compat_snp_cpuid_new(&p, host, (unsigned)nhost, refuse);
	if (r) {
		if (r != -EINVAL && r != -E2BIG)
			FAIL("refusal list \"%s\": %d", refuse, r);
		return 0;
	}
	memset(&orig, 0, sizeof(orig));
	memcpy(&orig, data, size < sizeof(orig) ? size : sizeof(orig));
	t = orig;
	r = compat_snp_cpuid_check(p, &t, &n1);
	if (orig.count > GMEM_SNP_CPUID_COUNT_MAX) {
		if (r != -EINVAL || memcmp(&t, &orig, sizeof(t)))
			FAIL("count %u: %d, page changed", orig.count, r);
		goto out;
	}
	if (r == 0 && (n1 || memcmp(&t, &orig, sizeof(t))))
		FAIL("0 but %u changed", n1);
	if (r && (r != -EIO || !n1))
		FAIL("%d with %u changed", r, n1);
	if (t.count != orig.count)
		FAIL("count changed");
	for (unsigned i = 0; i < GMEM_SNP_CPUID_COUNT_MAX; i++) {
		const struct gmem_snp_cpuid_fn *a = &orig.fn[i], *b = &t.fn[i];

		if (i >= orig.count ? memcmp(a, b, sizeof(*a)) :
		    a->eax_in != b->eax_in || a->ecx_in != b->ecx_in ||
		    a->xcr0_in != b->xcr0_in || a->xss_in != b->xss_in)
			FAIL("entry %u's inputs changed", i);
	}
	t2 = t;
	r2 = compat_snp_cpuid_check(p, &t2, &n2);
	if (r2 || n2 || memcmp(&t, &t2, sizeof(t)))
		FAIL("not idempotent: %d, %u changed", r2, n2);
out:
	compat_snp_cpuid_free(p);
	return 0;
}
