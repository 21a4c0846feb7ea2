/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the SEV-SNP CPUID page checker, gmem_snp_cpuid_check(),
 * on arbitrary tables (the input is the page's first bytes, zero-padded).
 *   - count > 64: -EINVAL and the table untouched, nchanged 0;
 *   - else 0 with nothing changed, or -EIO with the corrected values written
 *     and nchanged = the entries that changed (+1 for the header's reserved
 *     fields); entries past count, and count itself, never change;
 *   - idempotence: the corrected table passes a second check unchanged;
 *   - the same answer with and without nchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gmem/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmem_snp_cpuid_table orig, t, t2, t3;
	unsigned n1 = 12345, n2 = 12345, changed = 0;
	int r1, r2, r3;

	memset(&orig, 0, sizeof(orig));
	memcpy(&orig, data, size < sizeof(orig) ? size : sizeof(orig));
	t = orig;
	r1 = gmem_snp_cpuid_check(&t, &n1);
	if (orig.count > GMEM_SNP_CPUID_COUNT_MAX) {
		if (r1 != -EINVAL || n1 != 0 || memcmp(&t, &orig, sizeof(t)))
			FAIL("count %u: %d, nchanged %u, table %s", orig.count,
			     r1, n1, memcmp(&t, &orig, sizeof(t)) ? "changed" : "kept");
		return 0;
	}
	if (t.count != orig.count)
		FAIL("count changed %u -> %u", orig.count, t.count);
	for (uint32_t i = 0; i < orig.count; i++)
		changed += !!memcmp(&t.fn[i], &orig.fn[i], sizeof(t.fn[i]));
	for (uint32_t i = orig.count; i < GMEM_SNP_CPUID_COUNT_MAX; i++)
		if (memcmp(&t.fn[i], &orig.fn[i], sizeof(t.fn[i])))
			FAIL("entry %u past count %u changed", i, orig.count);
	changed += orig.reserved1 || orig.reserved2;
	if (t.reserved1 || t.reserved2)
		FAIL("reserved header fields left non-zero");
	if (r1 == 0 && (n1 || changed))
		FAIL("accepted but %u entries changed (nchanged %u)", changed, n1);
	if (r1 == -EIO && (!n1 || n1 != changed))
		FAIL("refused: nchanged %u, entries changed %u", n1, changed);
	if (r1 != 0 && r1 != -EIO)
		FAIL("count %u: unexpected %d", orig.count, r1);
	for (uint32_t i = 0; i < orig.count; i++)
		if (t.fn[i].reserved)
			FAIL("entry %u: reserved field left non-zero", i);

	/* A corrected table passes as it is. */
	t2 = t;
	r2 = gmem_snp_cpuid_check(&t2, &n2);
	if (r2 || n2 || memcmp(&t2, &t, sizeof(t)))
		FAIL("corrected table not accepted unchanged: %d, nchanged %u", r2, n2);

	/* nchanged is optional. */
	t3 = orig;
	r3 = gmem_snp_cpuid_check(&t3, NULL);
	if (r3 != r1 || memcmp(&t3, &t, sizeof(t)))
		FAIL("different answer without nchanged: %d vs %d", r3, r1);
	return 0;
}
