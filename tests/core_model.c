/* SPDX-License-Identifier: MIT */
/*
 * Model-based test: random operations (conversions with any mode, range
 * and flags, valid or not; hole punches; pins; host reads and writes
 * through the view; guest accesses; finalize; SNP LAUNCH_UPDATE and
 * PVALIDATE; TDX PAGE.ADD) applied both
 * to libgmem and to a deliberately simple per-page reference model, for
 * every platform x policy on the emulated and kvm backends.  After every
 * operation: the return value, error_offset, the fault report, the
 * attributes and run lengths, the statistics, and the bytes of every page
 * (host view, physical bytes) are compared; pins and vendor states every
 * few operations, the guest's view of encrypted pages too.
 *
 * GMEM_SEED=n replays a run (the seed is printed first); GMEM_MODEL_OPS=n
 * sets the operations per platform x policy x backend.  By default the
 * runs are 6000 operations each (300 under ThreadSanitizer), 180,000 in
 * all; where the host lacks a backend (kvm: no /dev/kvm, or no
 * KVM_CAP_GUEST_MEMFD) its runs are SKIP points with the reason and the
 * other backends' runs are longer by its share, so that the points and
 * the total are the same on every host.  40 pages, so that a range
 * may span 128 KiB (where host views move page tables instead of
 * remapping).
 *
 * Where the bytes are not predictable by a simple model (a scramble, a
 * ciphertext), the model learns them from the library once and checks them
 * from then on; a scramble must change a page that held data.
 */
#include <time.h>

#include "core_common.h"

#define NPG 40
#define SIZE (NPG * PG)
/* ThreadSanitizer adds nothing to this single-threaded test and makes
 * every operation about 50 times slower: a short run there, the full one
 * in the plain and ASan builds. */
#define DEFAULT_OPS (CORE_TSAN ? 300 : 6000)

struct mpage {
	bool priv;
	unsigned pins;
	bool vend;		/* SNP: validated; TDX: mapped in the S-EPT */
	bool phys_known, gview_known, scrambled;
	bool allocated;		/* backed by memory, sampled before a conversion */
	uint8_t phys[PG];	/* the physical bytes */
	uint8_t gview[PG];	/* SNP/TDX with vend: what the guest reads */
	uint8_t old[PG];	/* before a scramble */
};

struct model {
	const char *plat, *pol, *be;
	bool snp, tdx, sw, enc, finalized;
	struct mpage pg[NPG];
	struct gmem_stats st;	/* the counters the model predicts */
	struct core_ctx c;
	uint64_t rng, op, ops;
	char failure[512];
};

static uint64_t rnd(struct model *m)
{
	uint64_t x = m->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(struct model *m, uint64_t n)
{
	return n ? rnd(m) % n : 0;
}

#define FAIL(m, ...) do {						\
	if (!(m)->failure[0])						\
		snprintf((m)->failure, sizeof((m)->failure), __VA_ARGS__); \
} while (0)

/* ---- the model's rules -------------------------------------------------- */

static int m_validate(struct model *m, const struct gmem_attributes2 *a)
{
	if (a->flags & ~(CZ | CP))
		return -EINVAL;
	if (a->flags && !strcmp(m->pol, "upstream"))
		return -EINVAL;
	if (a->attributes & ~PRIV)
		return -EINVAL;
	if (a->flags == (CZ | CP))
		return -EINVAL;
	for (int i = 0; i < 11; i++)
		if (a->reserved[i])
			return -EINVAL;
	if (a->error_offset && strcmp(m->pol, "upstream"))	/* v8: output only */
		return -EINVAL;
	if (!a->size || a->offset % PG || a->size % PG)
		return -EINVAL;
	if (a->offset + a->size < a->offset || a->offset + a->size > SIZE)
		return -EINVAL;
	return 0;
}

static void m_zero(struct mpage *p)
{
	memset(p->phys, 0, PG);
	p->phys_known = true;
}

/* Content modes write only pages backed by memory (a hole reads zero
 * already); the statistics count exactly those. */
static void m_zero_mode(struct model *m, struct mpage *p)
{
	m_zero(p);
	m->st.pages_zeroed += p->allocated;
}

static void m_scramble(struct model *m, struct mpage *p)
{
	memcpy(p->old, p->phys, PG);
	p->scrambled = p->allocated;
	p->phys_known = false;
	m->st.pages_scrambled += p->allocated;
}

static void m_page_changes(struct model *m, struct mpage *p, bool to_private,
			   uint64_t mode)
{
	if (to_private) {
		if (mode == CZ)
			m_zero_mode(m, p);
		else if (mode == CU && m->sw)
			m_scramble(m, p);
		m->st.pages_to_private++;
	} else {
		if (m->tdx && p->vend) {
			m_zero(p);	/* the S-EPT unmap cleared it */
			if (mode == CZ)
				m->st.pages_zero_skipped++;
		} else if (mode == CZ) {
			m_zero_mode(m, p);
		} else if (mode == CU && m->sw) {
			m_scramble(m, p);
		}
		p->vend = false;
		m->st.pages_to_shared++;
	}
	p->priv = to_private;
}

/* Expected result of a conversion; applies it to the model on success. */
static int m_convert(struct model *m, struct gmem_attributes2 *a)
{
	bool to_private = a->attributes & PRIV;
	uint64_t first = a->offset / PG, last = (a->offset + a->size) / PG;
	int ret = m_validate(m, a);

	if (ret)
		return ret;
	if (!(spec_modes(m->pol, m->plat, to_private ? TO_PRIVATE : TO_SHARED,
			 m->finalized ? FINAL : PRE) & mode_bit(a->flags))) {
		a->error_offset = a->offset;
		return -EOPNOTSUPP;
	}
	for (uint64_t p = first; to_private && p < last; p++) {
		if (m->pg[p].pins) {
			a->error_offset = p * PG;
			return -EAGAIN;
		}
	}
	for (uint64_t p = first; p < last; p++)
		if (m->pg[p].priv != to_private)
			m_page_changes(m, &m->pg[p], to_private, a->flags);
	m->st.conversions++;
	return 0;
}

/* ---- operations ---------------------------------------------------------- */

static uint64_t rand_range_start(struct model *m, uint64_t *len)
{
	uint64_t s = below(m, NPG), n = 1 + below(m, below(m, 4) ? 4 : NPG - s);

	if (s + n > NPG)
		n = NPG - s;
	*len = n * PG;
	return s * PG;
}

static void op_convert(struct model *m)
{
	static const uint64_t fl[] = { CU, CZ, CP, CU, CZ, CP, CZ | CP, 1ULL << 2 };
	struct gmem_attributes2 a, e;
	int want, got;

	memset(&a, 0, sizeof(a));
	a.offset = rand_range_start(m, &a.size);
	a.attributes = below(m, 2) ? PRIV : 0;
	a.flags = fl[below(m, below(m, 16) ? 6 : 8)];
	switch (below(m, 40)) {		/* now and then, an invalid request */
	case 0: a.reserved[below(m, 11)] = 1 + below(m, 3); break;
	case 1: a.error_offset = PG; break;
	case 2: a.size = 0; break;
	case 3: a.offset += 1 + below(m, PG - 1); break;
	case 4: a.size += 1 + below(m, PG - 1); break;
	case 5: a.size += PG; a.offset = SIZE - a.size + PG; break;
	case 6: a.offset = ~0ULL & ~(PG - 1); break;
	case 7: a.attributes |= 1ULL << below(m, 3); break;
	default: break;
	}
	/* Which pages are backed by memory decides what ZERO and a scramble
	 * write (and count): sample it before the call. */
	for (uint64_t p = 0; p < NPG; p++) {
		struct gmem_page_info pi;

		if (p * PG < a.offset || p * PG >= a.offset + a.size)
			continue;
		TEST_ASSERT(!gmem_page_info(m->c.g, p * PG, &pi), "page info");
		m->pg[p].allocated = pi.allocated;
	}
	e = a;
	want = m_convert(m, &e);
	got = gmem_set_memory_attributes(m->c.g, &a);
	if (got != want)
		FAIL(m, "convert(0x%llx, 0x%llx, attrs 0x%llx, flags 0x%llx) = %d, model %d",
		     (unsigned long long)a.offset, (unsigned long long)a.size,
		     (unsigned long long)a.attributes, (unsigned long long)a.flags,
		     got, want);
	else if (a.error_offset != e.error_offset)
		FAIL(m, "convert: error_offset 0x%llx, model 0x%llx",
		     (unsigned long long)a.error_offset,
		     (unsigned long long)e.error_offset);
}

static void op_punch(struct model *m)
{
	uint64_t len, off = rand_range_start(m, &len), end;
	int want = 0, got;

	if (!below(m, 20))
		off += 8;			/* unaligned */
	if (!below(m, 20))
		len += PG * below(m, 4);	/* possibly past the end: clipped */
	if (off % PG)
		want = -EINVAL;
	got = gmem_punch_hole(m->c.g, off, len);
	if (got != want) {
		FAIL(m, "punch(0x%llx, 0x%llx) = %d, model %d",
		     (unsigned long long)off, (unsigned long long)len, got, want);
		return;
	}
	if (want)
		return;
	end = off + len > SIZE ? SIZE : off + len;
	for (uint64_t p = off / PG; p < end / PG; p++) {
		m_zero(&m->pg[p]);
		m->pg[p].vend = false;
	}
}

static void op_pin(struct model *m, bool pin)
{
	uint64_t p = below(m, NPG), off = p * PG;
	int want, got;

	if (!below(m, 30))
		off += below(m, 2) ? 4 : SIZE;
	if (off % PG || off >= SIZE)
		want = -EINVAL;
	else if (pin)
		want = m->pg[p].priv ? -EFAULT : 0;
	else
		want = m->pg[p].pins ? 0 : -EINVAL;
	got = pin ? gmem_pin(m->c.g, off) : gmem_unpin(m->c.g, off);
	if (got != want) {
		FAIL(m, "%s(0x%llx) = %d, model %d", pin ? "pin" : "unpin",
		     (unsigned long long)off, got, want);
		return;
	}
	if (!want)
		m->pg[p].pins += pin ? 1 : -1;
}

static void op_host(struct model *m, bool write)
{
	uint64_t p = below(m, NPG), o = below(m, PG), n = 1 + below(m, PG - o);
	uint8_t buf[PG];
	int r;

	if (write) {
		core_pattern(buf, n, rnd(m));
		r = core_try_write(m->c.host + p * PG + o, buf, n);
	} else {
		r = core_try_read(m->c.host + p * PG + o, buf, n);
	}
	if ((r < 0) != m->pg[p].priv) {
		FAIL(m, "host %s of page %llu (%s): %s", write ? "write" : "read",
		     (unsigned long long)p, m->pg[p].priv ? "private" : "shared",
		     r < 0 ? "SIGBUS" : "no SIGBUS");
		return;
	}
	if (r < 0)
		return;
	if (write)
		memcpy(m->pg[p].phys + o, buf, n);
	else if (memcmp(buf, m->pg[p].phys + o, n))
		FAIL(m, "host read of page %llu differs from the model",
		     (unsigned long long)p);
}

/* The model's guest access, page by page as the library does it.  Returns
 * the expected result and fills the expected fault. */
static int m_guest(struct model *m, uint64_t off, uint8_t *buf, uint64_t len,
		   bool priv, bool write, struct gmem_memory_fault *f)
{
	uint64_t end = off + len, fp = off / PG, lp = (end - 1) / PG;
	uint64_t flags = (write ? GMEM_FAULT_WRITE : 0) |
			 (priv ? GMEM_FAULT_PRIVATE : 0);

	memset(f, 0, sizeof(*f));
	for (uint64_t p = fp; p <= lp; p++) {
		if (m->pg[p].priv != priv) {
			uint64_t q = p;

			while (q <= lp && m->pg[q].priv != priv)
				q++;
			f->offset = p * PG;
			f->size = (q - p) * PG;
			f->flags = flags;
			return -EFAULT;
		}
	}
	for (uint64_t p = fp; p <= lp; p++) {
		struct mpage *mp = &m->pg[p];
		uint64_t s = p == fp ? off % PG : 0;
		uint64_t e = p == lp ? end - lp * PG : PG;
		uint8_t *bytes = mp->phys;

		if (priv && m->enc) {
			if (!mp->vend && (m->snp || !m->finalized)) {
				f->offset = p * PG;
				f->size = PG;
				f->flags = flags | (m->snp ? GMEM_FAULT_NOT_VALIDATED
							   : GMEM_FAULT_NOT_ACCEPTED);
				return -EFAULT;
			}
			if (!mp->vend) {	/* TDX: accepted, a zeroed page */
				mp->vend = true;
				memset(mp->gview, 0, PG);
				mp->gview_known = true;
				mp->phys_known = false;
			}
			bytes = mp->gview;
			if (write)
				mp->phys_known = false;
		}
		if (write)
			memcpy(bytes + s, buf, e - s);
		else
			memcpy(buf, bytes + s, e - s);
		buf += e - s;
	}
	return 0;
}

static void op_guest(struct model *m)
{
	static uint8_t lib[3 * PG], mod[3 * PG];
	uint64_t off = below(m, SIZE), len = 1 + below(m, below(m, 4) ? 64 : 2 * PG + 100);
	bool priv = below(m, 2), write = below(m, 2);
	unsigned access = (write ? GMEM_ACCESS_WRITE : GMEM_ACCESS_READ) |
			  (priv ? GMEM_ACCESS_PRIVATE : 0);
	struct gmem_memory_fault f, mf;
	int want, got;

	if (off + len > SIZE)
		len = SIZE - off;
	if (write) {
		core_pattern(lib, len, rnd(m));
		memcpy(mod, lib, len);
	}
	want = m_guest(m, off, mod, len, priv, write, &mf);
	got = gmem_guest_access_fault(m->c.g, off, lib, len, access, &f);
	if (got != want) {
		FAIL(m, "guest %s %s (0x%llx, %llu) = %d, model %d",
		     priv ? "private" : "shared", write ? "write" : "read",
		     (unsigned long long)off, (unsigned long long)len, got, want);
	} else if (got == -EFAULT &&
		   (f.offset != mf.offset || f.size != mf.size || f.flags != mf.flags ||
		    f.gpa != mf.offset)) {
		FAIL(m, "guest fault: offset 0x%llx size 0x%llx flags 0x%llx, model 0x%llx 0x%llx 0x%llx",
		     (unsigned long long)f.offset, (unsigned long long)f.size,
		     (unsigned long long)f.flags, (unsigned long long)mf.offset,
		     (unsigned long long)mf.size, (unsigned long long)mf.flags);
	} else if (!got && !write && memcmp(lib, mod, len)) {
		FAIL(m, "guest %s read (0x%llx, %llu) differs from the model",
		     priv ? "private" : "shared", (unsigned long long)off,
		     (unsigned long long)len);
	}
}

static void op_finalize(struct model *m)
{
	int want = m->finalized ? -EINVAL : 0, got = gmem_vm_finalize(m->c.vm);

	if (got != want)
		FAIL(m, "finalize = %d, model %d", got, want);
	m->finalized = true;
}

static void op_pvalidate(struct model *m)
{
	uint64_t len, off = rand_range_start(m, &len);
	bool validate = below(m, 4);
	int want = 0, got;

	if (!m->finalized)
		want = -EINVAL;
	for (uint64_t p = off / PG; !want && p < (off + len) / PG; p++)
		if (!m->pg[p].priv)
			want = -EFAULT;
	got = gmem_snp_pvalidate(m->c.g, off, len, validate);
	if (got != want) {
		FAIL(m, "pvalidate(0x%llx, 0x%llx) = %d, model %d",
		     (unsigned long long)off, (unsigned long long)len, got, want);
		return;
	}
	for (uint64_t p = off / PG; !want && p < (off + len) / PG; p++) {
		m->pg[p].vend = validate;
		m->pg[p].gview_known = false;	/* decryption of the page */
	}
}

/* SNP_LAUNCH_UPDATE (before finalize) of private, hypervisor-owned pages:
 * measured and encrypted in place; the guest then reads the plaintext
 * (zeros for a ZERO page). */
static void op_launch(struct model *m)
{
	static const unsigned types[] = {
		GMEM_SNP_PAGE_NORMAL, GMEM_SNP_PAGE_ZERO, GMEM_SNP_PAGE_UNMEASURED,
	};
	uint64_t len, off = rand_range_start(m, &len);
	unsigned type = types[below(m, 3)], fw = 0;
	int want = m->finalized ? -EINVAL : 0, got;

	for (uint64_t p = off / PG; !want && p < (off + len) / PG; p++)
		if (!m->pg[p].priv || m->pg[p].vend)
			want = -EINVAL;
	got = gmem_snp_launch_update(m->c.g, off, len, type, &fw);
	if (got != want || fw) {
		FAIL(m, "launch_update(0x%llx, 0x%llx, type %u) = %d (fw 0x%x), model %d",
		     (unsigned long long)off, (unsigned long long)len, type, got, fw, want);
		return;
	}
	for (uint64_t p = off / PG; !want && p < (off + len) / PG; p++) {
		struct mpage *mp = &m->pg[p];

		if (type == GMEM_SNP_PAGE_ZERO)
			memset(mp->gview, 0, PG);
		else
			memcpy(mp->gview, mp->phys, PG);
		mp->gview_known = true;
		mp->vend = true;
		mp->phys_known = false;		/* now ciphertext */
	}
}

/* TDH.MEM.PAGE.ADD (before finalize) of private pages not in the S-EPT:
 * the page's own bytes, encrypted in place, are what the guest reads. */
static void op_page_add(struct model *m)
{
	uint64_t len, off = rand_range_start(m, &len);
	int want = m->finalized ? -EINVAL : 0, got;

	for (uint64_t p = off / PG; !want && p < (off + len) / PG; p++)
		if (!m->pg[p].priv || m->pg[p].vend)
			want = -EINVAL;
	got = gmem_tdx_page_add(m->c.g, off, len, (int)below(m, 2));
	if (got != want) {
		FAIL(m, "tdx_page_add(0x%llx, 0x%llx) = %d, model %d",
		     (unsigned long long)off, (unsigned long long)len, got, want);
		return;
	}
	for (uint64_t p = off / PG; !want && p < (off + len) / PG; p++) {
		struct mpage *mp = &m->pg[p];

		memcpy(mp->gview, mp->phys, PG);
		mp->gview_known = true;
		mp->vend = true;
		mp->phys_known = false;
	}
}

/* ---- comparing ----------------------------------------------------------- */

/* Unknown bytes: learn them from the library (checks a scramble did
 * something). */
static void learn(struct model *m)
{
	for (uint64_t p = 0; p < NPG; p++) {
		struct mpage *mp = &m->pg[p];

		if (!mp->phys_known) {
			TEST_ASSERT(!gmem_physical_read(m->c.g, p * PG, mp->phys, PG), "phys");
			mp->phys_known = true;
			if (mp->scrambled && !memcmp(mp->phys, mp->old, PG))
				FAIL(m, "page %llu: UNSPECIFIED did not scramble it",
				     (unsigned long long)p);
			mp->scrambled = false;
		}
		if (m->enc && mp->priv && mp->vend && !mp->gview_known) {
			TEST_ASSERT(!gmem_guest_access(m->c.g, p * PG, mp->gview, PG,
						       GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE),
				    "learn guest view");
			mp->gview_known = true;
		}
	}
}

static void compare(struct model *m, bool deep)
{
	static uint8_t phys[SIZE];
	struct gmem_stats st;
	uint64_t a, run;

	for (uint64_t p = 0; p < NPG; p += run / PG) {
		uint64_t q = p;

		TEST_ASSERT(!gmem_get_memory_attributes(m->c.g, p * PG, &a, &run), "attrs");
		while (q < NPG && m->pg[q].priv == m->pg[p].priv)
			q++;
		if (a != (m->pg[p].priv ? PRIV : 0) || run != (q - p) * PG) {
			FAIL(m, "page %llu: attributes 0x%llx run %llu, model %s run %llu",
			     (unsigned long long)p, (unsigned long long)a,
			     (unsigned long long)run, m->pg[p].priv ? "private" : "shared",
			     (unsigned long long)((q - p) * PG));
			return;
		}
	}
	TEST_ASSERT(!gmem_physical_read(m->c.g, 0, phys, SIZE), "phys");
	for (uint64_t p = 0; p < NPG; p++) {
		if (memcmp(phys + p * PG, m->pg[p].phys, PG)) {
			FAIL(m, "page %llu: physical bytes differ from the model",
			     (unsigned long long)p);
			return;
		}
		if (!m->pg[p].priv && memcmp(m->c.host + p * PG, m->pg[p].phys, PG)) {
			FAIL(m, "page %llu: host view differs from the model",
			     (unsigned long long)p);
			return;
		}
	}
	TEST_ASSERT(!gmem_get_stats(m->c.g, &st), "stats");
	if (st.conversions != m->st.conversions ||
	    st.pages_to_private != m->st.pages_to_private ||
	    st.pages_to_shared != m->st.pages_to_shared ||
	    st.pages_zero_skipped != m->st.pages_zero_skipped ||
	    st.pages_zeroed != m->st.pages_zeroed ||
	    st.pages_scrambled != m->st.pages_scrambled)
		FAIL(m, "statistics: conversions %llu/%llu, to-private %llu/%llu, to-shared %llu/%llu, zero skipped %llu/%llu, zeroed %llu/%llu, scrambled %llu/%llu (library/model)",
		     (unsigned long long)st.conversions, (unsigned long long)m->st.conversions,
		     (unsigned long long)st.pages_to_private, (unsigned long long)m->st.pages_to_private,
		     (unsigned long long)st.pages_to_shared, (unsigned long long)m->st.pages_to_shared,
		     (unsigned long long)st.pages_zero_skipped, (unsigned long long)m->st.pages_zero_skipped,
		     (unsigned long long)st.pages_zeroed, (unsigned long long)m->st.pages_zeroed,
		     (unsigned long long)st.pages_scrambled, (unsigned long long)m->st.pages_scrambled);
	if (!deep)
		return;
	for (uint64_t p = 0; p < NPG; p++) {
		struct mpage *mp = &m->pg[p];
		struct gmem_page_info pi;
		uint8_t g[PG];

		TEST_ASSERT(!gmem_page_info(m->c.g, p * PG, &pi), "page info");
		if ((unsigned)pi.pinned != mp->pins)
			FAIL(m, "page %llu: %d pins, model %u", (unsigned long long)p,
			     pi.pinned, mp->pins);
		if (m->enc && (pi.vendor_state == (m->snp ? GMEM_RMP_VALIDATED
							  : GMEM_SEPT_MAPPED)) != mp->vend)
			FAIL(m, "page %llu: vendor state %d, model %s",
			     (unsigned long long)p, pi.vendor_state,
			     mp->vend ? "guest-owned" : "not");
		if (m->enc && mp->priv && mp->vend) {
			TEST_ASSERT(!gmem_guest_access(m->c.g, p * PG, g, PG,
						       GMEM_ACCESS_READ | GMEM_ACCESS_PRIVATE), "g");
			if (memcmp(g, mp->gview, PG))
				FAIL(m, "page %llu: the guest's view differs from the model",
				     (unsigned long long)p);
		}
	}
}

/* ---- the run -------------------------------------------------------------- */

static void step(struct model *m)
{
	uint64_t r = below(m, 1000);

	if (r < 330)
		op_convert(m);
	else if (r < 380)
		op_punch(m);
	else if (r < 440)
		op_pin(m, true);
	else if (r < 500)
		op_pin(m, false);
	else if (r < 620)
		op_host(m, true);
	else if (r < 700)
		op_host(m, false);
	else if (r < 960)
		op_guest(m);
	else if (r < 962 && m->op >= m->ops / 3)
		op_finalize(m);	/* a long launch phase first */
	else if (m->snp && r < 981)
		op_pvalidate(m);
	else if (m->snp)
		op_launch(m);
	else if (m->tdx)
		op_page_add(m);
	else
		op_guest(m);
}

static uint64_t run(const char *be, const char *plat, const char *pol,
		    uint64_t seed, uint64_t ops)
{
	struct model *m = calloc(1, sizeof(*m));
	uint64_t done;

	TEST_ASSERT(m, "model");
	m->be = be;
	m->plat = plat;
	m->pol = pol;
	m->snp = !strcmp(plat, "snp");
	m->tdx = !strcmp(plat, "tdx");
	/* sw_protected scrambles on UNSPECIFIED, except under v8 */
	m->sw = !strcmp(plat, "sw_protected") && strcmp(pol, "upstream");
	m->enc = m->snp || m->tdx;
	m->rng = seed ? seed : 1;
	m->ops = ops;
	core_setup(&m->c, plat, pol, NPG, GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	for (uint64_t p = 0; p < NPG; p++)
		m->pg[p].phys_known = true;	/* zeros */
	for (done = 0; done < ops && !m->failure[0]; done++) {
		m->op = done;
		step(m);
		learn(m);
		compare(m, done % 16 == 0);
	}
	if (!m->failure[0])
		compare(m, true);
	ok(!m->failure[0], "%s: %s/%s: %llu random operations match the model",
	   be, plat, pol, (unsigned long long)done);
	if (m->failure[0])
		diag("  operation %llu: %s (replay: GMEM_SEED=%llu)",
		     (unsigned long long)m->op, m->failure, (unsigned long long)seed);
	core_teardown(&m->c);
	free(m);
	return done;
}

/* How many of core_backends this host has. */
static uint64_t usable_backends(void)
{
	uint64_t n = 0;

	for (int b = 0; core_backends[b]; b++)
		n += !gmem_backend_probe(core_backends[b], NULL);
	return n;
}

/* One SKIP point per run of a backend this host lacks, so that the plan
 * is the same on every host. */
static void skip_backend(const char *be)
{
	const char *why = NULL;
	int ret = gmem_backend_probe(be, &why);

	for (int pol = 0; core_policies[pol]; pol++)
		for (int p = 0; core_platforms[p]; p++)
			ok(1, "%s: %s/%s # SKIP %s", be, core_platforms[p],
			   core_policies[pol], why ? why : strerror(-ret));
}

int main(void)
{
	const char *s = getenv("GMEM_SEED"), *n = getenv("GMEM_MODEL_OPS");
	uint64_t seed = s && *s ? strtoull(s, NULL, 0) : 0, ops, total = 0;
	uint64_t nbackends = 0, usable = usable_backends();
	char buf[32];

	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
		       ((uint64_t)getpid() << 40);
	}
	while (core_backends[nbackends])
		nbackends++;
	/* The default length is per host, not per backend: the backends
	 * present share the operations of those absent. */
	if (n && *n)
		ops = strtoull(n, NULL, 0);
	else
		ops = DEFAULT_OPS * nbackends / (usable ? usable : 1);
	plan_lazy();
	diag("GMEM_SEED=%llu GMEM_MODEL_OPS=%llu", (unsigned long long)seed,
	     (unsigned long long)ops);
	/* sw_protected scrambles from a seedable generator: replayable too. */
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)seed);
	setenv("GMEM_SCRAMBLE_SEED", buf, 1);
	core_sigbus_install();
	for (int b = 0; core_backends[b]; b++) {
		if (!core_use_backend(core_backends[b])) {
			skip_backend(core_backends[b]);
			continue;
		}
		for (int pol = 0; core_policies[pol]; pol++)
			for (int p = 0; core_platforms[p]; p++)
				total += run(core_backends[b], core_platforms[p],
					     core_policies[pol],
					     seed + (uint64_t)(b * 100 + pol * 10 + p), ops);
	}
	/* The default run is at least 10^5 operations on every host;
	 * GMEM_MODEL_OPS (a replay, valgrind) and ThreadSanitizer choose
	 * their own length. */
	if (!CORE_TSAN && !(n && *n))
		ok(total >= 100000, "%llu operations in all (at least 100000)",
		   (unsigned long long)total);
	else
		diag("%llu operations (a run of the chosen length)",
		     (unsigned long long)total);
	return done();
}
