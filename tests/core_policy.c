/* SPDX-License-Identifier: MIT */
/*
 * Content modes: every cell of every policy table (policy x platform x
 * direction x phase x mode) checked two ways.  gmem_vm_content_modes()
 * must answer what DESIGN.md section 2 says, and a real conversion with
 * that mode must succeed or fail accordingly and do to the bytes what the
 * table says: ZERO, the new owner reads zeros; PRESERVE, the physical bytes
 * are kept (ciphertext on SNP); UNSPECIFIED on sw_protected, scrambled; on
 * TDX, pages the S-EPT had mapped come back zeroed.
 *
 * The tables in docs/semantics.md are checked against the library's
 * answers: each row printed here must appear there verbatim.
 */
#include "core_common.h"

#define N 6			/* pages; the conversion covers 1..4 */
#define OFF (1 * PG)
#define LEN (4 * PG)

static const uint64_t modes[] = { CU, CZ, CP };

static bool encrypting(const char *plat)
{
	return !strcmp(plat, "snp") || !strcmp(plat, "tdx");
}

static uint64_t spec_query(unsigned m)
{
	return ((m & MU) ? GMEM_MODES_UNSPECIFIED : 0) |
	       ((m & MZ) ? CZ : 0) | ((m & MP) ? CP : 0);
}

/* Pattern A (host) or B (guest) of page p. */
static void pat(uint8_t *buf, char which, uint64_t p)
{
	core_pattern(buf, PG, (uint64_t)which * 100 + p);
}

static void phys(struct gmem *g, uint64_t p, uint8_t *buf)
{
	TEST_ASSERT(!gmem_physical_read(g, p * PG, buf, PG), "physical read");
}

/* Private pages 0..5 holding data: B written by the guest (through the
 * key on SNP/TDX); on TDX only pages 0..2 are in the S-EPT, 3..5 hold the
 * host's A, never accepted. */
static void setup_private(struct core_ctx *c, const char *plat,
			  const char *pol)
{
	uint8_t buf[PG];
	unsigned fw;

	core_setup(c, plat, pol, N, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	for (uint64_t p = 0; p < N; p++)
		pat(c->host + p * PG, 'A', p);
	TEST_ASSERT(!core_conv(c->g, 0, N * PG, PRIV, CU), "to private");
	if (!strcmp(plat, "snp"))
		TEST_ASSERT(!gmem_snp_launch_update(c->g, 0, N * PG,
						    GMEM_SNP_PAGE_NORMAL, &fw),
			    "launch update");
	if (!strcmp(plat, "tdx"))
		TEST_ASSERT(!gmem_tdx_page_add(c->g, 0, 3 * PG, 0), "page add");
	for (uint64_t p = 0; p < N; p++) {
		if (!strcmp(plat, "tdx") && p >= 3)
			continue;
		pat(buf, 'B', p);
		TEST_ASSERT(!gmem_guest_access(c->g, p * PG, buf, PG,
					       GMEM_ACCESS_WRITE | GMEM_ACCESS_PRIVATE),
			    "guest write");
	}
}

/* The policy of the cell under test: sw_protected scrambles on
 * UNSPECIFIED except under `upstream` (v8 leaves the bytes alone). */
static const char *cur_pol;

static bool scrambles(const char *plat)
{
	return !strcmp(plat, "sw_protected") && strcmp(cur_pol, "upstream");
}

static void check_to_shared(struct core_ctx *c, const char *plat,
			    uint64_t mode, const uint8_t *before,
			    const struct gmem_stats *st0, const char *what)
{
	bool sw = scrambles(plat), tdx = !strcmp(plat, "tdx");
	bool good = true, differs = true;
	struct gmem_stats st;
	uint8_t b[PG];

	for (uint64_t p = 1; p < 5; p++) {
		const uint8_t *host = c->host + p * PG, *old = before + p * PG;
		bool sept_mapped = tdx && p < 3;

		if (mode == CZ || (mode == CU && sept_mapped))
			good &= core_all_zero(host, PG);
		else if (mode == CU && sw)
			good &= memcmp(host, old, PG) && !core_all_zero(host, PG);
		else
			good &= !memcmp(host, old, PG);
		pat(b, 'B', p);
		differs &= memcmp(host, b, PG) != 0;
	}
	ok(good, "%s: the host reads %s", what,
	   mode == CZ ? "zeros" :
	   mode == CU && sw ? "scrambled bytes" :
	   mode == CU && tdx ? "zeros where the S-EPT had the page, else the old bytes" :
	   "the physical bytes as they were");
	if (!strcmp(plat, "snp") && mode != CZ)
		ok(differs, "%s: ... which are ciphertext, not the guest's plaintext", what);
	gmem_get_stats(c->g, &st);
	if (tdx && mode == CZ)
		ok(st.pages_zero_skipped - st0->pages_zero_skipped == 2,
		   "%s: the 2 S-EPT-mapped pages were not memset (skipped %llu)",
		   what, (unsigned long long)(st.pages_zero_skipped - st0->pages_zero_skipped));
	ok(st.pages_to_shared - st0->pages_to_shared == 4, "%s: 4 pages changed", what);
}

static void check_to_private(struct core_ctx *c, const char *plat,
			     uint64_t mode, int phase, const char *what)
{
	bool sw = scrambles(plat), tdx = !strcmp(plat, "tdx");
	bool phys_ok = true, guest_ok = true;
	uint8_t b[PG], a[PG];

	for (uint64_t p = 1; p < 5; p++) {
		phys(c->g, p, b);
		pat(a, 'A', p);
		if (mode == CZ)
			phys_ok &= core_all_zero(b, PG);
		else if (mode == CU && sw)
			phys_ok &= memcmp(a, b, PG) && !core_all_zero(b, PG);
		else
			phys_ok &= !memcmp(a, b, PG);
		if (encrypting(plat) && !(tdx && phase == FINAL))
			continue;
		/* The guest's view: plain platforms read the bytes; a TDX guest
		 * accepts the page after finalize and reads zeros. */
		TEST_ASSERT(!gmem_guest_access(c->g, p * PG, b, PG,
					       GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE),
			    "guest read");
		if (mode == CZ || tdx)
			guest_ok &= core_all_zero(b, PG);
		else if (mode == CP || !sw)
			guest_ok &= !memcmp(a, b, PG);
	}
	ok(phys_ok, "%s: physical bytes %s", what,
	   mode == CZ ? "zeroed" : mode == CU && sw ? "scrambled" : "kept");
	if (!encrypting(plat) || (tdx && phase == FINAL))
		ok(guest_ok, "%s: the guest reads %s", what,
		   mode == CZ || tdx ? "zeros" : mode == CU && sw ? "the scramble" :
		   "the host's bytes");
}

static void cell(const char *be, const char *pol, const char *plat, int dir,
		 int phase, uint64_t mode)
{
	unsigned allowed = spec_modes(pol, plat, dir, phase);
	uint64_t attrs = dir == TO_PRIVATE ? PRIV : 0, eo = 0, q = 0;
	struct core_snap before;
	struct gmem_stats st0;
	struct core_ctx c;
	uint8_t *phys0;

	cur_pol = pol;
	char what[160];
	int want, ret;

	snprintf(what, sizeof(what), "%s: %s/%s %s %s %s", be, pol, plat,
		 dir == TO_PRIVATE ? "to-private" : "to-shared",
		 phase == PRE ? "pre-finalize" : "finalized", mode_name(mode));
	if (dir == TO_PRIVATE) {
		core_setup(&c, plat, pol, N, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
		for (uint64_t p = 0; p < N; p++)
			pat(c.host + p * PG, 'A', p);
	} else {
		setup_private(&c, plat, pol);
	}
	if (phase == FINAL)
		TEST_ASSERT(!gmem_vm_finalize(c.vm), "finalize");
	TEST_ASSERT(!gmem_vm_content_modes(c.vm, attrs, &q), "modes");
	if (mode == CU)	/* one query per cell is enough */
		ok(q == spec_query(allowed), "%s: content_modes answers 0x%llx (want 0x%llx)",
		   what, (unsigned long long)q, (unsigned long long)spec_query(allowed));

	want = (allowed & mode_bit(mode)) ? 0 :
	       !strcmp(pol, "upstream") ? -EINVAL : -EOPNOTSUPP;
	ok(((q & spec_query(mode_bit(mode))) != 0) == (want == 0),
	   "%s: the query agrees with the conversion", what);
	phys0 = malloc(N * PG);
	TEST_ASSERT(phys0 && !gmem_physical_read(c.g, 0, phys0, N * PG), "phys");
	gmem_get_stats(c.g, &st0);
	core_snap_take(&before, c.g, c.host);
	ret = gmem_convert(c.g, OFF, LEN, attrs, mode, &eo);
	ok_ret(ret, want, "%s", what);
	if (ret) {
		ok(ret == -EINVAL || eo == OFF, "%s: error_offset = offset", what);
		ok(core_unchanged_after(c.g, c.host, &before), "%s: nothing changed", what);
	} else if (dir == TO_SHARED) {
		check_to_shared(&c, plat, mode, phys0, &st0, what);
	} else {
		check_to_private(&c, plat, mode, phase, what);
	}
	if (!ret) {
		bool guards = core_attr(c.g, 0) == (dir == TO_PRIVATE ? 0 : PRIV) &&
			      core_attr(c.g, 5 * PG) == (dir == TO_PRIVATE ? 0 : PRIV);
		uint8_t b[PG];

		phys(c.g, 0, b);
		guards &= !memcmp(b, phys0, PG);
		phys(c.g, 5, b);
		guards &= !memcmp(b, phys0 + 5 * PG, PG);
		ok(guards, "%s: pages 0 and 5 untouched", what);
	}
	core_snap_free(&before);
	free(phys0);
	core_teardown(&c);
}

static const char *cell_text(unsigned m)
{
	static const char *const t[8] = {
		"—", "U", "Z", "U, Z", "P", "U, P", "Z, P", "U, Z, P",
	};
	return t[m & 7];
}

/* The library's table of one policy as a Markdown row per platform; each
 * row must appear in docs/semantics.md. */
static void check_doc_table(const char *pol, const char *doc)
{
	for (int p = 0; core_platforms[p]; p++) {
		unsigned m[4] = { 0 };
		char row[256];
		int i = 0;

		for (int dir = 0; dir < 2; dir++) {
			for (int phase = 0; phase < 2; phase++) {
				struct gmem_vm *vm;
				uint64_t q;

				TEST_ASSERT(!gmem_vm_create(&vm, core_platforms[p], pol), "vm");
				if (phase == FINAL)
					TEST_ASSERT(!gmem_vm_finalize(vm), "finalize");
				TEST_ASSERT(!gmem_vm_content_modes(vm, dir ? PRIV : 0, &q), "q");
				m[i++] = ((q & GMEM_MODES_UNSPECIFIED) ? MU : 0) |
					 ((q & CZ) ? MZ : 0) | ((q & CP) ? MP : 0);
				gmem_vm_destroy(vm);
			}
		}
		snprintf(row, sizeof(row), "| `%s` | %s | %s | %s | %s |",
			 core_platforms[p], cell_text(m[0]), cell_text(m[1]),
			 cell_text(m[2]), cell_text(m[3]));
		if (getenv("GMEM_PRINT_TABLES"))
			printf("# %s %s\n", pol, row);
		if (doc)
			ok(strstr(doc, row) != NULL,
			   "docs/semantics.md, policy %s: %s", pol, row);
	}
}

static char *read_doc(void)
{
	FILE *f = fopen("docs/semantics.md", "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	TEST_ASSERT(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, "read doc");
	fclose(f);
	return buf;
}

int main(void)
{
	char *doc;

	plan_lazy();
	for (int b = 0; core_backends[b]; b++) {
		const char *be = core_backends[b];

		if (!core_use_backend(be))
			continue;
		for (int pol = 0; core_policies[pol]; pol++)
			for (int p = 0; core_platforms[p]; p++)
				for (int dir = 0; dir < 2; dir++)
					for (int ph = 0; ph < 2; ph++)
						for (int m = 0; m < 3; m++)
							cell(be, core_policies[pol],
							     core_platforms[p], dir, ph,
							     modes[m]);
	}
	unsetenv("GMEM_BACKEND");
	doc = read_doc();
	if (!doc)
		diag("docs/semantics.md not found from %s: tables not compared",
		     getcwd((char[256]){ 0 }, 256));
	for (int pol = 0; core_policies[pol]; pol++)
		check_doc_table(core_policies[pol], doc);
	free(doc);
	return done();
}
