/* SPDX-License-Identifier: MIT */
/*
 * The scenario language: parser and interpreter (docs/scenarios.md).
 *
 * A script is first parsed whole into steps, one per line, so a malformed
 * line is reported (FILE:LINE) before anything runs.  Then the steps run in
 * order.  Every command leaves a result (ok, -errno with error_offset and
 * firmware error, or SIGBUS); `expect ok|error|sigbus|fw` check it, and a
 * failed command that the next line does not expect fails the scenario, so
 * a script never ignores an error by accident.  Failed expectations are
 * reported and the run goes on, so one run shows every difference.
 *
 * Verbs are a table: each has a parse function that fills a `struct step`
 * and an exec function that runs it.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "gmem/gmem.h"
#include "gmem/snp.h"
#include "scenario.h"

#define MAX_TOKENS	32
#define MAX_GMEMS	16
#define NAME_MAX_LEN	31
#define CHUNK		(1ULL << 20)	/* bytes moved per buffer in big accesses */
#define PAGE		GMEM_PAGE_SIZE

/* ---- steps -------------------------------------------------------------- */

enum data_kind { D_NONE, D_BYTE, D_ZERO, D_TEXT, D_CPUID, D_CPUID_FIXED };

/* A byte stream: what a write stores or an expectation compares with. */
struct data {
	enum data_kind kind;
	uint8_t byte;
	char *text;		/* owned; D_TEXT */
	size_t tlen;
	bool negate;		/* expect ... not DATA: some byte differs */
};

enum view { V_HOST, V_GUEST, V_PHYS };
enum intent { I_AUTO, I_PRIVATE, I_SHARED };
enum cmp { C_EQ, C_NE, C_GE, C_LE, C_GT, C_LT };

/* Page properties `expect page` checks (bits of step.want / step.wantv). */
enum prop {
	P_PRIVATE = 1 << 0, P_SHARED = 1 << 1, P_ALLOC = 1 << 2,
	P_UNALLOC = 1 << 3, P_PINNED = 1 << 4, P_UNPINNED = 1 << 5,
	P_ENCRYPTED = 1 << 6, P_PLAIN = 1 << 7, P_VENDOR = 1 << 8,
};

struct verb;

struct step {
	const struct verb *verb;
	unsigned line;
	int gi;			/* gmem index, -1 none */
	uint64_t off, len;
	bool has_len;
	uint64_t attrs, flags, reserved, err_in;	/* convert */
	uint64_t num;		/* verb-specific number */
	unsigned kind;		/* verb-specific enum */
	enum view view;
	enum intent intent;
	enum cmp cmp;
	unsigned want;		/* enum prop bits */
	int vendor;		/* wanted vendor state with P_VENDOR */
	struct data data;
	int err;		/* expect error: errno */
	bool has_off, has_fw;
	uint64_t want_off;
	unsigned want_fw;
	char name[NAME_MAX_LEN + 1];
	char word[NAME_MAX_LEN + 1];
	char *text;		/* echo: owned */
	char *src;		/* the line as written, for messages: owned */
	uint8_t hash[48];	/* expect digest|mrtd */
};

/* ---- the interpreter ---------------------------------------------------- */

enum res_kind { RES_NONE, RES_OK, RES_ERR, RES_SIGBUS };

struct result {
	enum res_kind kind;
	int err;		/* positive errno with RES_ERR */
	bool has_off;
	uint64_t off;		/* error_offset / faulting page */
	bool has_fw;
	unsigned fw;
	bool checked;
	unsigned line;
	const char *what;	/* the command's line, as written */
};

struct sgmem {
	char name[NAME_MAX_LEN + 1];
	struct gmem *g;
	uint8_t *view;
};

struct scenario {
	struct scenario_opts o;
	const char *file;
	struct gmem_vm *vm;
	struct sgmem gm[MAX_GMEMS];
	unsigned ngm;
	struct result res;
	struct scenario_summary sum;
	bool stop;
	uint64_t bytes;		/* touched so far, against o.max_bytes */
	/* parser state */
	unsigned pline;
	char *tok[MAX_TOKENS];
	unsigned ntok, ti;
	char pnames[MAX_GMEMS][NAME_MAX_LEN + 1];
	unsigned npnames;
	bool pvm;
	char vname[80];		/* the verb being parsed, for messages */
	/* progress */
	struct timespec t0, tlast;
	bool progress_shown;
};

struct verb {
	const char *name;	/* "convert", "snp launch-update", "expect ok" */
	int (*parse)(struct scenario *s, struct step *st);
	int (*exec)(struct scenario *s, struct step *st);
	bool checks_result;	/* an expect on the previous command's result */
	bool is_expect;
};

/* ---- messages ----------------------------------------------------------- */

static int syntax(struct scenario *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int syntax(struct scenario *s, const char *fmt, ...)
{
	va_list ap;

	s->sum.failures++;
	s->sum.fail_line = s->pline;
	va_start(ap, fmt);
	vsnprintf(s->sum.fail_msg, sizeof(s->sum.fail_msg), fmt, ap);
	va_end(ap);
	if (s->o.err) {
		fprintf(s->o.err, "%s:%u: ", s->file, s->pline);
		va_start(ap, fmt);
		vfprintf(s->o.err, fmt, ap);
		va_end(ap);
		fputc('\n', s->o.err);
	}
	return -1;
}

static void failure(struct scenario *s, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failure(struct scenario *s, unsigned line, const char *fmt, ...)
{
	va_list ap;

	s->sum.failures++;
	if (!s->sum.fail_line) {
		s->sum.fail_line = line;
		va_start(ap, fmt);
		vsnprintf(s->sum.fail_msg, sizeof(s->sum.fail_msg), fmt, ap);
		va_end(ap);
	}
	if (s->o.err) {
		if (s->progress_shown) {
			fputs("\r\033[K", s->o.err);
			s->progress_shown = false;
		}
		fprintf(s->o.err, "%s:%u: ", s->file, line);
		va_start(ap, fmt);
		vfprintf(s->o.err, fmt, ap);
		va_end(ap);
		fputc('\n', s->o.err);
	}
}

static void out(struct scenario *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out(struct scenario *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->o.out)
		return;
	va_start(ap, fmt);
	vfprintf(s->o.out, fmt, ap);
	va_end(ap);
}

/* ---- names -------------------------------------------------------------- */

struct named { const char *name; long val; };

#define E(x) { #x, x }
static const struct named errnos[] = {
	E(EINVAL), E(EOPNOTSUPP), E(EAGAIN), E(ENOMEM), E(EFAULT), E(EIO),
	E(EBUSY), E(ENODEV), E(EPERM), E(EEXIST), E(ENOENT), E(ENOSPC),
	E(ERANGE), E(EBADF), E(ENXIO), E(EACCES), E(E2BIG), E(EALREADY),
	E(ENOSYS), E(ENOTTY), E(EOVERFLOW), E(ESRCH), E(EINTR),
	{ "ENOTSUP", ENOTSUP }, { NULL, 0 },
};
#undef E

static const struct named page_types[] = {
	{ "normal", GMEM_SNP_PAGE_NORMAL }, { "vmsa", GMEM_SNP_PAGE_VMSA },
	{ "zero", GMEM_SNP_PAGE_ZERO }, { "unmeasured", GMEM_SNP_PAGE_UNMEASURED },
	{ "secrets", GMEM_SNP_PAGE_SECRETS }, { "cpuid", GMEM_SNP_PAGE_CPUID },
	{ NULL, 0 },
};

static const struct named fw_errors[] = {
	{ "INVALID_PARAM", GMEM_SEV_RET_INVALID_PARAM }, { NULL, 0 },
};

/* Vendor states as `expect page` words; the platform decides which apply. */
static const struct named rmp_states[] = {
	{ "rmp-shared", GMEM_RMP_SHARED }, { "rmp-assigned", GMEM_RMP_ASSIGNED },
	{ "rmp-validated", GMEM_RMP_VALIDATED }, { NULL, 0 },
};
static const struct named sept_states[] = {
	{ "sept-unmapped", GMEM_SEPT_UNMAPPED }, { "sept-pending", GMEM_SEPT_PENDING },
	{ "sept-mapped", GMEM_SEPT_MAPPED }, { NULL, 0 },
};

static const struct named page_props[] = {
	{ "private", P_PRIVATE }, { "shared", P_SHARED },
	{ "allocated", P_ALLOC }, { "unallocated", P_UNALLOC },
	{ "pinned", P_PINNED }, { "unpinned", P_UNPINNED },
	{ "encrypted", P_ENCRYPTED }, { "plaintext", P_PLAIN },
	{ NULL, 0 },
};

static const struct named *lookup(const struct named *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static const char *name_of(const struct named *t, long val)
{
	for (; t->name; t++)
		if (t->val == val)
			return t->name;
	return NULL;
}

static const char *errno_name(int e)
{
	const char *n = name_of(errnos, e);

	return n ? n : "E?";
}

const char *scenario_vendor_state_name(const char *platform, int state)
{
	const char *n = NULL;

	if (platform && !strcmp(platform, "snp"))
		n = name_of(rmp_states, state);
	else if (platform && !strcmp(platform, "tdx"))
		n = name_of(sept_states, state);
	return n ? n : "-";
}

/* ---- tokens ------------------------------------------------------------- */

/* Decode the "quoted string" at *pp in place: the token keeps its opening
 * quote (so the parser tells strings from words), then the decoded text. */
static int quoted(struct scenario *s, char **pp)
{
	char *p = *pp + 1, *w = p;

	for (;;) {
		char c;

		if (!*p)
			return syntax(s, "unterminated string");
		if (*p == '"')
			break;
		if (*p != '\\') {
			*w++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': c = '\n'; p++; break;
		case 't': c = '\t'; p++; break;
		case '\\': case '"': c = *p++; break;
		case 'x': {
			char hex[3] = { 0 }, *e;

			if (!p[1] || !p[2])
				return syntax(s, "bad \\x escape");
			hex[0] = p[1];
			hex[1] = p[2];
			c = (char)strtoul(hex, &e, 16);
			if (*e)
				return syntax(s, "bad \\x escape");
			if (!c)
				return syntax(s, "strings cannot hold \\x00 (use 'zero')");
			p += 3;
			break;
		}
		default:
			return syntax(s, "unknown escape '\\%c' in a string (\\n \\t \\\\ \\\" \\xNN)",
				      *p ? *p : ' ');
		}
		*w++ = c;
	}
	*w = '\0';	/* decoding never grows: w <= p */
	p++;
	if (*p == '#')
		*p = '\0';
	else if (*p && *p != ' ' && *p != '\t' && *p != '\r')
		return syntax(s, "text after a closing quote");
	*pp = p;
	return 0;
}

/* Split one line (modified in place) into words and "quoted strings";
 * a # outside quotes starts a comment.  Quoted tokens keep their opening
 * quote so the parser can tell them from words; escapes are decoded. */
static int tokenize(struct scenario *s, char *p)
{
	s->ntok = 0;
	s->ti = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return 0;
		if (s->ntok == MAX_TOKENS)
			return syntax(s, "too many words on the line (at most %d)",
				      MAX_TOKENS);
		s->tok[s->ntok++] = p;
		if (*p == '"') {
			if (quoted(s, &p))
				return -1;
			continue;
		}
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return 0;
		}
		if (*p)
			*p++ = '\0';
	}
}

static const char *peek(struct scenario *s)
{
	return s->ti < s->ntok ? s->tok[s->ti] : NULL;
}

static const char *next(struct scenario *s)
{
	return s->ti < s->ntok ? s->tok[s->ti++] : NULL;
}

static bool accept(struct scenario *s, const char *word)
{
	const char *t = peek(s);

	if (t && !strcmp(t, word)) {
		s->ti++;
		return true;
	}
	return false;
}

static int need(struct scenario *s, const char **t, const char *what)
{
	*t = next(s);
	if (!*t)
		return syntax(s, "%s: missing %s", s->vname, what);
	if (**t == '"')
		return syntax(s, "%s: %s expected, found a string", s->vname, what);
	return 0;
}

static int no_more(struct scenario *s)
{
	const char *t = peek(s);

	if (t)
		return syntax(s, "%s: unexpected '%s'", s->vname,
			      *t == '"' ? "\"...\"" : t);
	return 0;
}

/* ---- numbers ------------------------------------------------------------ */

/* Hex (0x) or decimal, optionally followed by K, M, G or T (powers of
 * 1024, also KiB, MiB ...).  No octal: 010 is ten. */
static int parse_u64(const char *t, uint64_t *v)
{
	uint64_t x = 0, mul = 1;
	int base = 10, digits = 0;
	const char *p = t;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -ERANGE;
		x = x * (uint64_t)base + (uint64_t)d;
		digits++;
	}
	if (!digits)
		return -EINVAL;
	switch (*p) {
	case 'k': case 'K': mul = 1ULL << 10; p++; break;
	case 'm': case 'M': mul = 1ULL << 20; p++; break;
	case 'g': case 'G': mul = 1ULL << 30; p++; break;
	case 't': case 'T': mul = 1ULL << 40; p++; break;
	default: break;
	}
	if (mul > 1 && (!strcmp(p, "iB") || !strcmp(p, "B")))
		p += strlen(p);
	if (*p)
		return -EINVAL;
	if (x > UINT64_MAX / mul)
		return -ERANGE;
	*v = x * mul;
	return 0;
}

static int num(struct scenario *s, uint64_t *v, const char *what)
{
	const char *t;
	int r;

	if (need(s, &t, what))
		return -1;
	r = parse_u64(t, v);
	if (r == -ERANGE)
		return syntax(s, "%s: %s '%s' does not fit in 64 bits",
			      s->vname, what, t);
	if (r)
		return syntax(s, "%s: bad %s '%s' (a number: 4096, 0x1000, 4K, 2M, 1G)",
			      s->vname, what, t);
	return 0;
}

/* ---- parsing helpers ---------------------------------------------------- */

static int gmem_ref(struct scenario *s, struct step *st)
{
	const char *t;

	if (need(s, &t, "gmem name"))
		return -1;
	for (unsigned i = 0; i < s->npnames; i++)
		if (!strcmp(s->pnames[i], t)) {
			st->gi = (int)i;
			return 0;
		}
	return syntax(s, "%s: no gmem named '%s'%s", s->vname, t,
		      s->npnames ? "" : " (create one with 'gmem NAME SIZE')");
}

/* OFF [+LEN]; `all` is the whole file.  Without +LEN, def_len (0: none). */
static int range(struct scenario *s, struct step *st, uint64_t def_len)
{
	const char *t = peek(s);

	if (t && !strcmp(t, "all")) {
		s->ti++;
		st->off = 0;
		st->len = UINT64_MAX;	/* resolved against the file at run time */
		st->has_len = true;
		return 0;
	}
	if (num(s, &st->off, "offset"))
		return -1;
	t = peek(s);
	if (t && t[0] == '+') {
		int r;

		s->ti++;
		r = parse_u64(t + 1, &st->len);
		if (r)
			return syntax(s, "%s: bad length '%s'", s->vname, t);
		st->has_len = true;
	} else {
		st->len = def_len;
	}
	return 0;
}

static int parse_data(struct scenario *s, struct data *d, const char *t)
{
	uint64_t v;

	if (!strcmp(t, "pattern")) {
		if (num(s, &v, "pattern byte"))
			return -1;
		if (v > 0xff)
			return syntax(s, "%s: pattern is one byte (0..0xff)", s->vname);
		d->kind = D_BYTE;
		d->byte = (uint8_t)v;
	} else if (!strcmp(t, "zero") || !strcmp(t, "zeros")) {
		d->kind = D_ZERO;
	} else if (!strcmp(t, "text")) {
		const char *q = next(s);

		if (!q || *q != '"')
			return syntax(s, "%s: text needs a \"quoted string\"", s->vname);
		d->tlen = strlen(q + 1);
		if (!d->tlen)
			return syntax(s, "%s: empty text", s->vname);
		d->text = strdup(q + 1);
		if (!d->text)
			return syntax(s, "out of memory");
		d->kind = D_TEXT;
	} else if (!strcmp(t, "cpuid-table")) {
		d->kind = D_CPUID;
	} else if (!strcmp(t, "cpuid-fixed")) {
		d->kind = D_CPUID_FIXED;
	} else {
		return 1;
	}
	return 0;
}

/* Length of a data stream when the line gives none. */
static uint64_t data_len(const struct data *d)
{
	return d->kind == D_TEXT ? d->tlen : PAGE;
}

/* ---- data streams ------------------------------------------------------- */

/* The sample CPUID table a VMM might build from KVM_GET_SUPPORTED_CPUID:
 * leaf 7 EDX bit 0 is reserved, so the firmware rejects and corrects it. */
static void cpuid_sample(struct gmem_snp_cpuid_table *t, bool fixed)
{
	static const struct gmem_snp_cpuid_fn fns[] = {
		{ .eax_in = 0x0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65 },
		{ .eax_in = 0x1, .eax = 0x00a00f11, .ebx = 0x00020800, .ecx = 0x7ed8320b, .edx = 0x178bfbff },
		{ .eax_in = 0x7, .ecx_in = 0, .ebx = 0x219c97a9, .ecx = 0x0040069c, .edx = 0x00000011 },
		{ .eax_in = 0x80000000, .eax = 0x80000021 },
	};

	memset(t, 0, sizeof(*t));
	t->count = sizeof(fns) / sizeof(fns[0]);
	memcpy(t->fn, fns, sizeof(fns));
	if (fixed)
		(void)gmem_snp_cpuid_check(t, NULL);
}

/* Bytes [pos, pos+n) of the stream d (text and tables repeat). */
static void data_fill(const struct data *d, uint64_t pos, uint8_t *buf, size_t n)
{
	/* The two CPUID pages, built once (the table needs its alignment). */
	static union {
		struct gmem_snp_cpuid_table t;
		uint8_t b[PAGE];
	} page[2];
	static bool ready[2];

	switch (d->kind) {
	case D_BYTE:
		memset(buf, d->byte, n);
		break;
	case D_TEXT:
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)d->text[(pos + i) % d->tlen];
		break;
	case D_CPUID:
	case D_CPUID_FIXED: {
		int k = d->kind == D_CPUID_FIXED;

		if (!ready[k]) {
			_Static_assert(sizeof(struct gmem_snp_cpuid_table) <= PAGE,
				       "table fits a page");
			memset(page[k].b, 0, PAGE);
			cpuid_sample(&page[k].t, k);
			ready[k] = true;
		}
		for (size_t i = 0; i < n; i++)
			buf[i] = page[k].b[(pos + i) % PAGE];
		break;
	}
	case D_ZERO:
	case D_NONE:
	default:
		memset(buf, 0, n);
		break;
	}
}

static void data_describe(const struct data *d, char *buf, size_t n)
{
	switch (d->kind) {
	case D_BYTE: snprintf(buf, n, "pattern 0x%02x", d->byte); break;
	case D_TEXT: snprintf(buf, n, "text \"%.40s\"", d->text); break;
	case D_CPUID: snprintf(buf, n, "cpuid-table"); break;
	case D_CPUID_FIXED: snprintf(buf, n, "cpuid-fixed"); break;
	default: snprintf(buf, n, "zero"); break;
	}
}

/* ---- host view and SIGBUS ----------------------------------------------- */

/* volatile: a builtin memcpy reads no globals, so the store before it
 * would otherwise be dropped as dead. */
static __thread sigjmp_buf *volatile bus_jmp;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (bus_jmp)
		siglongjmp(*bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* memcpy that turns a SIGBUS (a private page in the host view) into
 * -EFAULT instead of killing the process. */
static int guarded_copy(void *dst, const void *src, size_t n)
{
	struct sigaction sa, old;
	sigjmp_buf jb;
	volatile int bus = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old))
		return -errno;
	if (sigsetjmp(jb, 1) == 0) {
		bus_jmp = &jb;
		memcpy(dst, src, n);
	} else {
		bus = 1;
	}
	bus_jmp = NULL;
	sigaction(SIGBUS, &old, NULL);
	return bus ? -EFAULT : 0;
}

static int host_view(struct sgmem *sg, uint8_t **view)
{
	if (!sg->view) {
		sg->view = gmem_mmap(sg->g);
		if (!sg->view)
			return errno ? -errno : -ENODEV;
	}
	*view = sg->view;
	return 0;
}

/* ---- results ------------------------------------------------------------ */

static void set_result(struct scenario *s, struct step *st, int ret)
{
	struct result *r = &s->res;

	memset(r, 0, sizeof(*r));
	r->line = st->line;
	r->what = st->src ? st->src : st->verb->name;
	if (ret == 0) {
		r->kind = RES_OK;
	} else {
		r->kind = RES_ERR;
		r->err = -ret;
	}
}

static void describe_result(const struct result *r, char *buf, size_t n)
{
	int k;

	switch (r->kind) {
	case RES_OK:
		snprintf(buf, n, "ok");
		return;
	case RES_SIGBUS:
		snprintf(buf, n, "SIGBUS");
		return;
	case RES_ERR:
		k = snprintf(buf, n, "%s (%s)", errno_name(r->err), strerror(r->err));
		if (r->has_off && k > 0 && (size_t)k < n)
			k += snprintf(buf + k, n - (size_t)k, " offset 0x%llx",
				      (unsigned long long)r->off);
		if (r->has_fw && r->fw && k > 0 && (size_t)k < n)
			snprintf(buf + k, n - (size_t)k, " firmware error 0x%x", r->fw);
		return;
	default:
		snprintf(buf, n, "no command yet");
	}
}

/* A failed command nobody expected fails the scenario and stops it. */
static void check_unexpected(struct scenario *s)
{
	struct result *r = &s->res;
	char d[160];

	if (r->checked || r->kind == RES_NONE || r->kind == RES_OK)
		return;
	r->checked = true;
	describe_result(r, d, sizeof(d));
	failure(s, r->line, "'%s' failed: %s (add 'expect %s' after it if that is intended)",
		r->what, d, r->kind == RES_SIGBUS ? "sigbus" : "error ...");
	s->stop = true;
}

/* ---- resolving ranges at run time --------------------------------------- */

static struct sgmem *G(struct scenario *s, struct step *st)
{
	return &s->gm[st->gi];
}

/* `all` and accesses that must fit the file; conversions pass raw values
 * so the library's own checks are what the scenario sees. */
static uint64_t len_of(struct scenario *s, struct step *st)
{
	if (st->len == UINT64_MAX && st->gi >= 0)
		return gmem_size(G(s, st)->g) - st->off;
	return st->len;
}

static bool fits(struct scenario *s, struct step *st, uint64_t len)
{
	uint64_t size = gmem_size(G(s, st)->g);

	return st->off <= size && len <= size - st->off;
}

/* ---- verbs: setup ------------------------------------------------------- */

static bool in_list(const char *const *l, const char *name)
{
	for (; l && *l; l++)
		if (!strcmp(*l, name))
			return true;
	return false;
}

/* "a, b, c" from a NULL-terminated list, for messages. */
static const char *list_str(const char *const *l)
{
	static char buf[160];
	size_t n = 0;

	buf[0] = '\0';
	for (; l && *l && n < sizeof(buf); l++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
				      n ? ", " : "", *l);
	return buf;
}

static int p_vm(struct scenario *s, struct step *st)
{
	const char *t;

	if (need(s, &t, "platform"))
		return -1;
	if (strlen(t) > NAME_MAX_LEN)
		return syntax(s, "vm: platform name too long");
	strcpy(st->name, t);
	while ((t = next(s))) {
		if (!strcmp(t, "policy")) {
			if (need(s, &t, "policy name"))
				return -1;
			if (strlen(t) > NAME_MAX_LEN)
				return syntax(s, "vm: policy name too long");
			strcpy(st->word, t);
		} else if (!strcmp(t, "seed")) {
			if (num(s, &st->num, "seed"))
				return -1;
			st->has_len = true;	/* a seed was given */
		} else {
			return syntax(s, "vm: unexpected '%s' (policy NAME, seed N)", t);
		}
	}
	if (!in_list(gmem_platform_names(), st->name))
		return syntax(s, "vm: unknown platform '%s' (%s)", st->name,
			      list_str(gmem_platform_names()));
	if (st->word[0] && !in_list(gmem_policy_names(), st->word))
		return syntax(s, "vm: unknown policy '%s' (%s)", st->word,
			      list_str(gmem_policy_names()));
	if (s->pvm)
		return syntax(s, "vm: one VM per scenario");
	s->pvm = true;
	return 0;
}

static int x_vm(struct scenario *s, struct step *st)
{
	char old[32] = "", *prev = getenv("GMEM_SCRAMBLE_SEED");
	int ret;

	/* The library reads the scramble seed from the environment when the
	 * VM is created; restore it so nothing leaks past this line. */
	if (st->has_len) {
		char seed[32];

		if (prev)
			snprintf(old, sizeof(old), "%s", prev);
		snprintf(seed, sizeof(seed), "%llu", (unsigned long long)st->num);
		setenv("GMEM_SCRAMBLE_SEED", seed, 1);
	}
	ret = gmem_vm_create(&s->vm, st->name, st->word[0] ? st->word : NULL);
	if (st->has_len) {
		if (prev)
			setenv("GMEM_SCRAMBLE_SEED", old, 1);
		else
			unsetenv("GMEM_SCRAMBLE_SEED");
	}
	if (ret)
		s->vm = NULL;
	return ret;
}

static int p_gmem(struct scenario *s, struct step *st)
{
	const char *t;

	if (!s->pvm)
		return syntax(s, "gmem: no VM yet (start with 'vm PLATFORM')");
	if (need(s, &t, "name"))
		return -1;
	if (strlen(t) > NAME_MAX_LEN || (t[0] >= '0' && t[0] <= '9'))
		return syntax(s, "gmem: bad name '%s' (a word of at most %d characters)",
			      t, NAME_MAX_LEN);
	for (unsigned i = 0; i < s->npnames; i++)
		if (!strcmp(s->pnames[i], t))
			return syntax(s, "gmem: '%s' already exists", t);
	if (s->npnames == MAX_GMEMS)
		return syntax(s, "gmem: at most %d gmem files", MAX_GMEMS);
	strcpy(st->name, t);
	accept(s, "size");
	if (num(s, &st->len, "size"))
		return -1;
	if (s->o.max_gmem_size && st->len > s->o.max_gmem_size)
		return syntax(s, "gmem: size above this interpreter's limit");
	while ((t = next(s))) {
		if (!strcmp(t, "mmap"))
			st->flags |= GMEM_FLAG_MMAP;
		else if (!strcmp(t, "shared"))
			st->flags |= GMEM_FLAG_INIT_SHARED;
		else if (!strcmp(t, "flags")) {
			uint64_t f;

			if (num(s, &f, "flags"))
				return -1;
			st->flags |= f;
		} else
			return syntax(s, "gmem: unexpected '%s' (mmap, shared, flags N)", t);
	}
	st->gi = (int)s->npnames;
	strcpy(s->pnames[s->npnames++], st->name);
	return 0;
}

static int x_gmem(struct scenario *s, struct step *st)
{
	struct sgmem *sg = &s->gm[st->gi];
	int ret;

	if (!s->vm)
		return -ENODEV;
	ret = gmem_create(s->vm, st->len, st->flags, &sg->g);
	if (ret) {
		/* The name stays declared; later uses see no file. */
		sg->g = NULL;
		return ret;
	}
	strcpy(sg->name, st->name);
	if ((unsigned)st->gi >= s->ngm)
		s->ngm = (unsigned)st->gi + 1;
	return 0;
}

static int p_bind(struct scenario *s, struct step *st)
{
	return gmem_ref(s, st) || num(s, &st->num, "guest physical address") ||
	       no_more(s) ? -1 : 0;
}

static int x_bind(struct scenario *s, struct step *st)
{
	return gmem_bind(G(s, st)->g, st->num);
}

static int p_finalize(struct scenario *s, struct step *st)
{
	return no_more(s);
}

static int x_finalize(struct scenario *s, struct step *st)
{
	return s->vm ? gmem_vm_finalize(s->vm) : -ENODEV;
}

/* ---- verbs: conversion -------------------------------------------------- */

static int p_convert(struct scenario *s, struct step *st)
{
	const char *t;
	bool dir = false;

	if (gmem_ref(s, st) || range(s, st, PAGE))
		return -1;
	while ((t = next(s))) {
		if (!strcmp(t, "private")) {
			st->attrs = GMEM_ATTR_PRIVATE;
			dir = true;
		} else if (!strcmp(t, "shared")) {
			st->attrs = 0;
			dir = true;
		} else if (!strcmp(t, "zero")) {
			st->flags |= GMEM_CONTENT_ZERO;
		} else if (!strcmp(t, "preserve")) {
			st->flags |= GMEM_CONTENT_PRESERVE;
		} else if (!strcmp(t, "unspecified")) {
			/* the default: no flag */
		} else if (!strcmp(t, "attrs") || !strcmp(t, "attributes")) {
			if (num(s, &st->attrs, "attributes"))
				return -1;
			dir = true;
		} else if (!strcmp(t, "flags")) {
			uint64_t f;

			if (num(s, &f, "flags"))
				return -1;
			st->flags |= f;
		} else if (!strcmp(t, "reserved")) {
			if (num(s, &st->reserved, "reserved word"))
				return -1;
		} else if (!strcmp(t, "error-offset") || !strcmp(t, "error_offset")) {
			if (num(s, &st->err_in, "error_offset"))
				return -1;
		} else {
			return syntax(s, "convert: unexpected '%s' (private|shared "
				      "[zero|preserve|unspecified] [flags N] [attrs N] "
				      "[reserved N] [error-offset N])", t);
		}
	}
	if (!dir)
		return syntax(s, "convert: say 'private' or 'shared'");
	return 0;
}

static int x_convert(struct scenario *s, struct step *st)
{
	struct gmem_attributes2 a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.offset = st->off;
	a.size = len_of(s, st);
	a.attributes = st->attrs;
	a.flags = st->flags;
	a.error_offset = st->err_in;
	a.reserved[0] = st->reserved;
	ret = gmem_set_memory_attributes(G(s, st)->g, &a);
	set_result(s, st, ret);
	if (ret) {
		s->res.has_off = true;
		s->res.off = a.error_offset;
	}
	return ret;
}

static int p_punch(struct scenario *s, struct step *st)
{
	return gmem_ref(s, st) || range(s, st, PAGE) || no_more(s) ? -1 : 0;
}

static int x_punch(struct scenario *s, struct step *st)
{
	return gmem_punch_hole(G(s, st)->g, st->off, len_of(s, st));
}

static int p_pin(struct scenario *s, struct step *st)
{
	return gmem_ref(s, st) || num(s, &st->off, "offset") || no_more(s) ? -1 : 0;
}

static int x_pin(struct scenario *s, struct step *st)
{
	return gmem_pin(G(s, st)->g, st->off);
}

static int x_unpin(struct scenario *s, struct step *st)
{
	return gmem_unpin(G(s, st)->g, st->off);
}

/* ---- verbs: accesses ---------------------------------------------------- */

/* VIEW G OFF [+LEN] [DATA] [len N] [private|shared] */
static int p_access(struct scenario *s, struct step *st, bool write)
{
	const char *t;
	int r;

	if (gmem_ref(s, st) || range(s, st, 0))
		return -1;
	while ((t = next(s))) {
		if (!strcmp(t, "len")) {
			if (num(s, &st->len, "length"))
				return -1;
			st->has_len = true;
		} else if (st->view == V_GUEST && !strcmp(t, "private")) {
			st->intent = I_PRIVATE;
		} else if (st->view == V_GUEST && !strcmp(t, "shared")) {
			st->intent = I_SHARED;
		} else if (write && st->data.kind == D_NONE &&
			   (r = parse_data(s, &st->data, t)) <= 0) {
			if (r)
				return -1;
		} else {
			return syntax(s, "%s: unexpected '%s'%s", s->vname,
				      *t == '"' ? "\"...\"" : t,
				      write ? " (pattern BYTE, zero, text \"...\", cpuid-table, "
				      "cpuid-fixed, len N)" : " (+LEN, len N)");
		}
	}
	if (write && st->data.kind == D_NONE)
		return syntax(s, "%s: what to write? (pattern BYTE, zero, "
			      "text \"...\", cpuid-table, cpuid-fixed)", s->vname);
	if (!st->has_len)
		st->len = write ? data_len(&st->data) : 64;
	return 0;
}

static int p_view_verb(struct scenario *s, struct step *st, enum view v)
{
	const char *t;

	st->view = v;
	if (need(s, &t, "'read' or 'write'"))
		return -1;
	if (!strcmp(t, "read") || !strcmp(t, "write"))
		snprintf(s->vname, sizeof(s->vname), "%s %s", s->tok[0], t);
	if (!strcmp(t, "write") && v != V_PHYS)
		return p_access(s, st, true);
	if (!strcmp(t, "read"))
		return p_access(s, st, false);
	return syntax(s, "%s: '%s'? (%s)", s->vname, t,
		      v == V_PHYS ? "read" : "read or write");
}

static unsigned guest_bits(struct scenario *s, struct step *st)
{
	uint64_t attrs = 0, run;

	if (st->intent == I_PRIVATE)
		return GMEM_ACCESS_PRIVATE;
	if (st->intent == I_SHARED)
		return 0;
	/* Unsaid: what the page is now, as a guest that follows the VMM. */
	if (gmem_get_memory_attributes(G(s, st)->g, st->off & ~(PAGE - 1),
				       &attrs, &run))
		return 0;
	return (attrs & GMEM_ATTR_PRIVATE) ? GMEM_ACCESS_PRIVATE : 0;
}

/* Move len bytes between buf and a view.  For the guest, a memory fault
 * reports the faulting page as the error offset. */
static int view_io(struct scenario *s, struct step *st, uint64_t off,
		   uint8_t *buf, size_t n, bool write)
{
	struct sgmem *sg = G(s, st);
	struct gmem_memory_fault f;
	uint8_t *v;
	int ret;

	switch (st->view) {
	case V_HOST:
		ret = host_view(sg, &v);
		if (ret)
			return ret;
		ret = write ? guarded_copy(v + off, buf, n) :
			      guarded_copy(buf, v + off, n);
		return ret == -EFAULT ? 1 : ret;	/* 1: SIGBUS */
	case V_GUEST:
		memset(&f, 0, sizeof(f));
		ret = gmem_guest_access_fault(sg->g, off, buf, n,
					      (write ? GMEM_ACCESS_WRITE : GMEM_ACCESS_READ) |
					      guest_bits(s, st), &f);
		if (ret == -EFAULT) {
			s->res.has_off = true;
			s->res.off = f.offset;
		}
		return ret;
	case V_PHYS:
	default:
		return gmem_physical_read(sg->g, off, buf, n);
	}
}

static void hexdump(struct scenario *s, uint64_t base, const uint8_t *b,
		    size_t n, const uint8_t *prev_line, bool *starred)
{
	for (size_t i = 0; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;

		if (prev_line && k == 16 && !memcmp(prev_line, b + i, 16)) {
			if (!*starred)
				out(s, "*\n");
			*starred = true;
			prev_line = b + i;
			continue;
		}
		*starred = false;
		out(s, "%08llx ", (unsigned long long)(base + i));
		for (size_t j = 0; j < 16; j++) {
			if (j < k)
				out(s, " %02x", b[i + j]);
			else
				out(s, "   ");
		}
		out(s, "  |");
		for (size_t j = 0; j < k; j++)
			out(s, "%c", b[i + j] >= 0x20 && b[i + j] < 0x7f ? b[i + j] : '.');
		out(s, "|\n");
		prev_line = b + i;
	}
}

static int x_access(struct scenario *s, struct step *st, bool write)
{
	uint64_t len = len_of(s, st), done = 0;
	uint8_t *buf, last[16];
	bool starred = false, have_last = false;
	int ret = 0;

	set_result(s, st, 0);
	if (!len || !fits(s, st, len)) {
		set_result(s, st, -EINVAL);
		return -EINVAL;
	}
	buf = malloc(len < CHUNK ? len : CHUNK);
	if (!buf) {
		set_result(s, st, -ENOMEM);
		return -ENOMEM;
	}
	while (done < len && !ret) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;

		if (write)
			data_fill(&st->data, done, buf, n);
		ret = view_io(s, st, st->off + done, buf, n, write);
		if (!ret && !write && s->o.out) {
			hexdump(s, st->off + done, buf, n, have_last ? last : NULL,
				&starred);
			/* A partial last line ends the dump anyway. */
			have_last = n >= 16 && !(n % 16);
			if (have_last)
				memcpy(last, buf + n - 16, 16);
		}
		done += n;
	}
	if (starred)	/* as hexdump(1): where the repeated lines end */
		out(s, "%08llx\n", (unsigned long long)(st->off + done));
	free(buf);
	if (ret == 1) {
		s->res.kind = RES_SIGBUS;
		return 1;
	}
	if (ret) {
		bool off = s->res.has_off;
		uint64_t o = s->res.off;

		set_result(s, st, ret);
		s->res.has_off = off;
		s->res.off = o;
	}
	return ret;
}

static int p_host(struct scenario *s, struct step *st) { return p_view_verb(s, st, V_HOST); }
static int p_guest(struct scenario *s, struct step *st) { return p_view_verb(s, st, V_GUEST); }
static int p_phys(struct scenario *s, struct step *st) { return p_view_verb(s, st, V_PHYS); }

static int x_view_verb(struct scenario *s, struct step *st)
{
	return x_access(s, st, st->data.kind != D_NONE);
}

/* cpuid G OFF load [fixed]: the sample table into the host view. */
static int p_cpuid(struct scenario *s, struct step *st)
{
	const char *t;

	if (gmem_ref(s, st) || num(s, &st->off, "offset") || need(s, &t, "'load'"))
		return -1;
	if (strcmp(t, "load"))
		return syntax(s, "cpuid: '%s'? (cpuid G OFF load [fixed])", t);
	st->data.kind = accept(s, "fixed") ? D_CPUID_FIXED : D_CPUID;
	st->view = V_HOST;
	st->len = PAGE;
	return no_more(s);
}

/* ---- verbs: vendors ----------------------------------------------------- */

static int p_snp(struct scenario *s, struct step *st)
{
	const char *t;

	if (need(s, &t, "'launch-update', 'pvalidate' or 'digest'"))
		return -1;
	snprintf(s->vname, sizeof(s->vname), "snp %.30s", t);
	if (!strcmp(t, "launch-update")) {
		const struct named *pt;
		uint64_t v;

		st->kind = 1;
		if (gmem_ref(s, st) || range(s, st, PAGE) || need(s, &t, "page type"))
			return -1;
		pt = lookup(page_types, t);
		if (pt)
			st->num = (uint64_t)pt->val;
		else if (!parse_u64(t, &v) && v <= UINT_MAX)
			st->num = v;
		else
			return syntax(s, "snp launch-update: page type '%s'? (normal, vmsa, "
				      "zero, unmeasured, secrets, cpuid)", t);
	} else if (!strcmp(t, "pvalidate")) {
		st->kind = 2;
		if (gmem_ref(s, st) || range(s, st, PAGE))
			return -1;
		st->num = !accept(s, "rescind");
	} else if (!strcmp(t, "digest")) {
		st->kind = 3;
	} else {
		return syntax(s, "snp: '%s'? (launch-update, pvalidate, digest)", t);
	}
	return no_more(s);
}

static void print_hash(struct scenario *s, const char *what, const uint8_t h[48])
{
	out(s, "%s ", what);
	for (int i = 0; i < 48; i++)
		out(s, "%02x", h[i]);
	out(s, "\n");
}

static int x_snp(struct scenario *s, struct step *st)
{
	uint8_t h[48];
	unsigned fw = 0;
	int ret;

	switch (st->kind) {
	case 1:
		ret = gmem_snp_launch_update(G(s, st)->g, st->off, len_of(s, st),
					     (unsigned)st->num, &fw);
		set_result(s, st, ret);
		s->res.has_fw = true;
		s->res.fw = fw;
		return ret;
	case 2:
		return gmem_snp_pvalidate(G(s, st)->g, st->off, len_of(s, st),
					  (int)st->num);
	default:
		if (!s->vm)
			return -ENODEV;
		ret = gmem_snp_launch_digest(s->vm, h);
		if (!ret)
			print_hash(s, "launch digest", h);
		return ret;
	}
}

static int p_tdx(struct scenario *s, struct step *st)
{
	const char *t;

	if (need(s, &t, "'page-add' or 'mrtd'"))
		return -1;
	snprintf(s->vname, sizeof(s->vname), "tdx %.30s", t);
	if (!strcmp(t, "page-add")) {
		st->kind = 1;
		if (gmem_ref(s, st) || range(s, st, PAGE))
			return -1;
		st->num = 1;
		if (accept(s, "no-measure"))
			st->num = 0;
		else
			accept(s, "measure");
	} else if (!strcmp(t, "mrtd")) {
		st->kind = 2;
	} else {
		return syntax(s, "tdx: '%s'? (page-add, mrtd)", t);
	}
	return no_more(s);
}

static int x_tdx(struct scenario *s, struct step *st)
{
	uint8_t h[48];
	int ret;

	if (st->kind == 1)
		return gmem_tdx_page_add(G(s, st)->g, st->off, len_of(s, st),
					 (int)st->num);
	if (!s->vm)
		return -ENODEV;
	ret = gmem_tdx_mrtd(s->vm, h);
	if (!ret)
		print_hash(s, "MRTD", h);
	return ret;
}

/* ---- verbs: output ------------------------------------------------------ */

static int p_echo(struct scenario *s, struct step *st)
{
	size_t n = 0;

	for (unsigned i = 1; i < s->ntok; i++)
		n += strlen(s->tok[i]) + 1;
	st->text = calloc(1, n + 1);
	if (!st->text)
		return syntax(s, "out of memory");
	for (unsigned i = 1; i < s->ntok; i++) {
		const char *t = s->tok[i];

		if (i > 1)
			strcat(st->text, " ");
		strcat(st->text, *t == '"' ? t + 1 : t);
	}
	s->ti = s->ntok;
	return 0;
}

static int x_echo(struct scenario *s, struct step *st)
{
	out(s, "%s\n", st->text);
	return 0;
}

struct show_ctx { struct scenario *s; const char *plat; };

static int show_run(const struct scenario_run *r, void *arg)
{
	struct show_ctx *c = arg;

	out(c->s, "  0x%-12llx +0x%-10llx %-7s %-11s %-8s %s\n",
	    (unsigned long long)r->offset, (unsigned long long)r->len,
	    r->private_ ? "private" : "shared",
	    r->allocated ? "allocated" : "unallocated",
	    r->pinned ? "pinned" : "-",
	    scenario_vendor_state_name(c->plat, r->vendor_state));
	return 0;
}

static int p_show(struct scenario *s, struct step *st)
{
	return gmem_ref(s, st) || no_more(s) ? -1 : 0;
}

static int x_show(struct scenario *s, struct step *st)
{
	struct show_ctx c = { s, gmem_vm_platform(s->vm) };

	out(s, "%s:\n", G(s, st)->name);
	return scenario_map_runs(G(s, st)->g, show_run, NULL, &c);
}

/* ---- expectations ------------------------------------------------------- */

static int p_expect_ok(struct scenario *s, struct step *st)
{
	return no_more(s);
}

static int x_expect_ok(struct scenario *s, struct step *st)
{
	char d[160];

	if (s->res.kind == RES_OK)
		return 0;
	describe_result(&s->res, d, sizeof(d));
	failure(s, st->line, "expected ok, '%s' gave %s", s->res.what ? s->res.what : "nothing", d);
	return 0;
}

static int fw_value(struct scenario *s, struct step *st)
{
	const char *t;
	const struct named *n;
	uint64_t v;

	if (need(s, &t, "firmware error"))
		return -1;
	n = lookup(fw_errors, t);
	if (n) {
		st->want_fw = (unsigned)n->val;
	} else if (!parse_u64(t, &v) && v <= UINT_MAX) {
		st->want_fw = (unsigned)v;
	} else {
		return syntax(s, "%s: firmware error '%s'? (a number or INVALID_PARAM)",
			      s->vname, t);
	}
	st->has_fw = true;
	return 0;
}

static int p_expect_error(struct scenario *s, struct step *st)
{
	const char *t;
	const struct named *e;

	if (need(s, &t, "errno name"))
		return -1;
	e = lookup(errnos, t);
	if (!e)
		return syntax(s, "expect error: unknown errno '%s' (EINVAL, "
			      "EOPNOTSUPP, EAGAIN, ...)", t);
	st->err = (int)e->val;
	while ((t = next(s))) {
		if (!strcmp(t, "offset")) {
			if (num(s, &st->want_off, "offset"))
				return -1;
			st->has_off = true;
		} else if (!strcmp(t, "fw")) {
			if (fw_value(s, st))
				return -1;
		} else {
			return syntax(s, "expect error: unexpected '%s' (offset N, fw N)", t);
		}
	}
	return 0;
}

static int x_expect_error(struct scenario *s, struct step *st)
{
	struct result *r = &s->res;
	char d[160];

	describe_result(r, d, sizeof(d));
	if (r->kind != RES_ERR || r->err != st->err)
		failure(s, st->line, "expected %s, '%s' gave %s", errno_name(st->err),
			r->what ? r->what : "nothing", d);
	else if (st->has_off && (!r->has_off || r->off != st->want_off))
		failure(s, st->line, "expected %s at offset 0x%llx, got %s",
			errno_name(st->err), (unsigned long long)st->want_off, d);
	else if (st->has_fw && (!r->has_fw || r->fw != st->want_fw))
		failure(s, st->line, "expected firmware error 0x%x, got %s",
			st->want_fw, d);
	return 0;
}

static int p_expect_fw(struct scenario *s, struct step *st)
{
	return fw_value(s, st) || no_more(s) ? -1 : 0;
}

static int x_expect_fw(struct scenario *s, struct step *st)
{
	char d[160];

	if (!s->res.has_fw || s->res.fw != st->want_fw) {
		describe_result(&s->res, d, sizeof(d));
		failure(s, st->line, "expected firmware error 0x%x, '%s' gave %s%s",
			st->want_fw, s->res.what ? s->res.what : "nothing", d,
			s->res.has_fw ? "" : " (no firmware call)");
	}
	return 0;
}

static int x_expect_sigbus(struct scenario *s, struct step *st)
{
	char d[160];

	if (s->res.kind != RES_SIGBUS) {
		describe_result(&s->res, d, sizeof(d));
		failure(s, st->line, "expected SIGBUS, '%s' gave %s",
			s->res.what ? s->res.what : "nothing", d);
	}
	return 0;
}

/* expect page G RANGE WORD...; also `expect attr|rmp|sept G RANGE WORD`. */
static int page_words(struct scenario *s, struct step *st, const char *prefix)
{
	const char *t;
	char w[48];

	if (gmem_ref(s, st) || range(s, st, PAGE))
		return -1;
	while ((t = next(s))) {
		const struct named *n;

		snprintf(w, sizeof(w), "%s%s", prefix, t);
		if ((n = lookup(page_props, w))) {
			st->want |= (unsigned)n->val;
		} else if ((n = lookup(rmp_states, w)) || (n = lookup(sept_states, w))) {
			st->want |= P_VENDOR;
			st->vendor = (int)n->val;
			snprintf(st->word, sizeof(st->word), "%s", n->name);
		} else {
			return syntax(s, "%s: page state '%s'? (private shared allocated "
				      "unallocated pinned unpinned encrypted plaintext "
				      "rmp-shared rmp-assigned rmp-validated sept-unmapped "
				      "sept-pending sept-mapped)", s->vname, t);
		}
	}
	if (!st->want)
		return syntax(s, "%s: which page state?", s->vname);
	return 0;
}

static int p_expect_page(struct scenario *s, struct step *st) { return page_words(s, st, ""); }
static int p_expect_attr(struct scenario *s, struct step *st) { return page_words(s, st, ""); }
static int p_expect_rmp(struct scenario *s, struct step *st) { return page_words(s, st, "rmp-"); }
static int p_expect_sept(struct scenario *s, struct step *st) { return page_words(s, st, "sept-"); }

/* The first property of want that pi lacks, or NULL. */
static const char *page_mismatch(const struct step *st, const struct gmem_page_info *pi)
{
	bool priv = pi->attributes & GMEM_ATTR_PRIVATE;

	if ((st->want & P_PRIVATE) && !priv) return "shared";
	if ((st->want & P_SHARED) && priv) return "private";
	if ((st->want & P_ALLOC) && !pi->allocated) return "unallocated";
	if ((st->want & P_UNALLOC) && pi->allocated) return "allocated";
	if ((st->want & P_PINNED) && !pi->pinned) return "unpinned";
	if ((st->want & P_UNPINNED) && pi->pinned) return "pinned";
	if ((st->want & P_ENCRYPTED) && !pi->encrypted) return "plaintext";
	if ((st->want & P_PLAIN) && pi->encrypted) return "encrypted";
	if ((st->want & P_VENDOR) && pi->vendor_state != st->vendor) return "vendor";
	return NULL;
}

static int x_expect_page(struct scenario *s, struct step *st)
{
	struct gmem *g = G(s, st)->g;
	uint64_t len = len_of(s, st);
	struct gmem_page_info pi;
	const char *bad;
	int ret;

	if (!len || !fits(s, st, len)) {
		failure(s, st->line, "range 0x%llx +0x%llx is outside %s",
			(unsigned long long)st->off, (unsigned long long)len, G(s, st)->name);
		return 0;
	}
	for (uint64_t o = st->off & ~(PAGE - 1); o < st->off + len; o += PAGE) {
		ret = gmem_page_info(g, o, &pi);
		if (ret) {
			failure(s, st->line, "gmem_page_info(0x%llx): %s",
				(unsigned long long)o, strerror(-ret));
			return 0;
		}
		bad = page_mismatch(st, &pi);
		if (!bad)
			continue;
		if (!strcmp(bad, "vendor"))
			failure(s, st->line, "page 0x%llx of %s is %s, expected %s",
				(unsigned long long)o, G(s, st)->name,
				scenario_vendor_state_name(gmem_vm_platform(s->vm),
							   pi.vendor_state), st->word);
		else
			failure(s, st->line, "page 0x%llx of %s is %s", (unsigned long long)o,
				G(s, st)->name, bad);
		return 0;
	}
	return 0;
}

/* expect host|guest|phys G OFF [+LEN] [private|shared] [not] DATA [len N] */
static int p_expect_bytes(struct scenario *s, struct step *st)
{
	const char *t;
	int r;

	st->view = !strcmp(s->tok[1], "host") ? V_HOST :
		   !strcmp(s->tok[1], "guest") ? V_GUEST : V_PHYS;
	if (gmem_ref(s, st) || range(s, st, 0))
		return -1;
	while ((t = next(s))) {
		if (!strcmp(t, "len")) {
			if (num(s, &st->len, "length"))
				return -1;
			st->has_len = true;
		} else if (!strcmp(t, "not")) {
			st->data.negate = true;
		} else if (st->view == V_GUEST && !strcmp(t, "private")) {
			st->intent = I_PRIVATE;
		} else if (st->view == V_GUEST && !strcmp(t, "shared")) {
			st->intent = I_SHARED;
		} else if (st->data.kind == D_NONE && (r = parse_data(s, &st->data, t)) <= 0) {
			if (r)
				return -1;
		} else {
			return syntax(s, "expect %s: unexpected '%s'", s->tok[1],
				      *t == '"' ? "\"...\"" : t);
		}
	}
	if (st->data.kind == D_NONE)
		return syntax(s, "expect %s: compare with what? (pattern BYTE, zero, "
			      "text \"...\", cpuid-table, cpuid-fixed)", s->tok[1]);
	if (!st->has_len)
		st->len = data_len(&st->data);
	return 0;
}

static int x_expect_bytes(struct scenario *s, struct step *st)
{
	static const char *const vname[] = { "host", "guest", "physical" };
	uint64_t len = len_of(s, st), done = 0, diff = UINT64_MAX;
	uint8_t *buf, *want;
	uint8_t got_b = 0, want_b = 0;
	char d[64];
	int ret = 0;

	if (!len || !fits(s, st, len)) {
		failure(s, st->line, "range 0x%llx +0x%llx is outside %s",
			(unsigned long long)st->off, (unsigned long long)len, G(s, st)->name);
		return 0;
	}
	buf = malloc(len < CHUNK ? len : CHUNK);
	want = malloc(len < CHUNK ? len : CHUNK);
	if (!buf || !want) {
		free(buf);
		free(want);
		failure(s, st->line, "out of memory");
		return 0;
	}
	while (done < len && diff == UINT64_MAX) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;

		ret = view_io(s, st, st->off + done, buf, n, false);
		if (ret)
			break;
		data_fill(&st->data, done, want, n);
		for (size_t i = 0; i < n; i++)
			if (buf[i] != want[i]) {
				diff = st->off + done + i;
				got_b = buf[i];
				want_b = want[i];
				break;
			}
		done += n;
	}
	free(buf);
	free(want);
	data_describe(&st->data, d, sizeof(d));
	if (ret == 1)
		failure(s, st->line, "host read of 0x%llx raised SIGBUS (a private page?)",
			(unsigned long long)st->off);
	else if (ret)
		failure(s, st->line, "%s read of 0x%llx +0x%llx failed: %s",
			vname[st->view], (unsigned long long)st->off,
			(unsigned long long)len, strerror(-ret));
	else if (!st->data.negate && diff != UINT64_MAX)
		failure(s, st->line, "%s bytes differ from %s at 0x%llx: 0x%02x, expected 0x%02x",
			vname[st->view], d, (unsigned long long)diff, got_b, want_b);
	else if (st->data.negate && diff == UINT64_MAX)
		failure(s, st->line, "%s bytes 0x%llx +0x%llx are %s, expected them to differ",
			vname[st->view], (unsigned long long)st->off,
			(unsigned long long)len, d);
	return 0;
}

static const struct named stat_names[] = {
	{ "conversions", offsetof(struct gmem_stats, conversions) },
	{ "pages_to_private", offsetof(struct gmem_stats, pages_to_private) },
	{ "pages_to_shared", offsetof(struct gmem_stats, pages_to_shared) },
	{ "pages_zeroed", offsetof(struct gmem_stats, pages_zeroed) },
	{ "pages_zero_skipped", offsetof(struct gmem_stats, pages_zero_skipped) },
	{ "pages_scrambled", offsetof(struct gmem_stats, pages_scrambled) },
	{ "views_revoked", offsetof(struct gmem_stats, views_revoked) },
	{ "views_restored", offsetof(struct gmem_stats, views_restored) },
	{ "ranges", offsetof(struct gmem_stats, ranges) },
	{ "ranges_bytes", offsetof(struct gmem_stats, ranges_bytes) },
	{ NULL, 0 },
};

static const struct named cmps[] = {
	{ "==", C_EQ }, { "=", C_EQ }, { "!=", C_NE }, { ">=", C_GE },
	{ "<=", C_LE }, { ">", C_GT }, { "<", C_LT }, { NULL, 0 },
};

static int p_expect_stat(struct scenario *s, struct step *st)
{
	const struct named *n;
	const char *t;

	if (gmem_ref(s, st) || need(s, &t, "counter name"))
		return -1;
	n = lookup(stat_names, t);
	if (!n)
		return syntax(s, "expect stat: unknown counter '%s' (conversions, "
			      "pages_to_private, pages_to_shared, pages_zeroed, "
			      "pages_zero_skipped, pages_scrambled, views_revoked, "
			      "views_restored, ranges, ranges_bytes)", t);
	strcpy(st->word, n->name);
	st->kind = (unsigned)n->val;
	t = peek(s);
	if (t && (n = lookup(cmps, t))) {
		s->ti++;
		st->cmp = (enum cmp)n->val;
	}
	return num(s, &st->num, "value") || no_more(s) ? -1 : 0;
}

static int x_expect_stat(struct scenario *s, struct step *st)
{
	struct gmem_stats gs;
	uint64_t v, w = st->num;
	bool ok;
	int ret = gmem_get_stats(G(s, st)->g, &gs);

	if (ret) {
		failure(s, st->line, "gmem_get_stats: %s", strerror(-ret));
		return 0;
	}
	memcpy(&v, (const char *)&gs + st->kind, sizeof(v));
	switch (st->cmp) {
	case C_NE: ok = v != w; break;
	case C_GE: ok = v >= w; break;
	case C_LE: ok = v <= w; break;
	case C_GT: ok = v > w; break;
	case C_LT: ok = v < w; break;
	default: ok = v == w; break;
	}
	if (!ok)
		failure(s, st->line, "%s of %s is %llu, expected %s %llu", st->word,
			G(s, st)->name, (unsigned long long)v,
			name_of(cmps, st->cmp), (unsigned long long)w);
	return 0;
}

/* expect modes private|shared MODE...: the exact set the VM accepts now. */
static int p_expect_modes(struct scenario *s, struct step *st)
{
	const char *t;

	if (!s->pvm)
		return syntax(s, "expect modes: no VM yet");
	if (need(s, &t, "'private' or 'shared'"))
		return -1;
	if (!strcmp(t, "private"))
		st->attrs = GMEM_ATTR_PRIVATE;
	else if (strcmp(t, "shared"))
		return syntax(s, "expect modes: 'private' or 'shared', not '%s'", t);
	while ((t = next(s))) {
		if (!strcmp(t, "zero"))
			st->num |= GMEM_CONTENT_ZERO;
		else if (!strcmp(t, "preserve"))
			st->num |= GMEM_CONTENT_PRESERVE;
		else if (!strcmp(t, "unspecified"))
			st->num |= GMEM_MODES_UNSPECIFIED;
		else if (!strcmp(t, "none"))
			;
		else
			return syntax(s, "expect modes: '%s'? (zero preserve unspecified, or none)", t);
	}
	return 0;
}

static void modes_str(uint64_t m, char *b, size_t n)
{
	snprintf(b, n, "%s%s%s%s", m & GMEM_CONTENT_ZERO ? " zero" : "",
		 m & GMEM_CONTENT_PRESERVE ? " preserve" : "",
		 m & GMEM_MODES_UNSPECIFIED ? " unspecified" : "", m ? "" : " none");
}

static int x_expect_modes(struct scenario *s, struct step *st)
{
	uint64_t m = 0;
	char a[48], b[48];
	int ret;

	if (!s->vm) {
		failure(s, st->line, "no VM");
		return 0;
	}
	ret = gmem_vm_content_modes(s->vm, st->attrs, &m);
	if (ret) {
		failure(s, st->line, "gmem_vm_content_modes: %s", strerror(-ret));
		return 0;
	}
	m &= GMEM_CONTENT_ZERO | GMEM_CONTENT_PRESERVE | GMEM_MODES_UNSPECIFIED;
	if (m != st->num) {
		modes_str(m, a, sizeof(a));
		modes_str(st->num, b, sizeof(b));
		failure(s, st->line, "to-%s modes are%s, expected%s",
			st->attrs ? "private" : "shared", a, b);
	}
	return 0;
}

/* expect digest|mrtd HEX: the SNP launch digest or the TDX MRTD now. */
static int p_expect_hash(struct scenario *s, struct step *st)
{
	const char *t;

	if (!s->pvm)
		return syntax(s, "%s: no VM yet", s->vname);
	if (need(s, &t, "96 hex digits"))
		return -1;
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
		t += 2;
	if (strlen(t) != 96 || strspn(t, "0123456789abcdefABCDEF") != 96)
		return syntax(s, "%s: a SHA-384 value is 96 hex digits", s->vname);
	for (int i = 0; i < 48; i++) {
		char h[3] = { t[2 * i], t[2 * i + 1], 0 };

		st->hash[i] = (uint8_t)strtoul(h, NULL, 16);
	}
	st->kind = !strcmp(s->tok[1], "mrtd");
	return no_more(s);
}

static int x_expect_hash(struct scenario *s, struct step *st)
{
	const char *what = st->kind ? "MRTD" : "launch digest";
	uint8_t h[48];
	char got[97];
	int ret = st->kind ? gmem_tdx_mrtd(s->vm, h) :
			     gmem_snp_launch_digest(s->vm, h);

	if (ret) {
		failure(s, st->line, "%s: %s", what, strerror(-ret));
		return 0;
	}
	if (!memcmp(h, st->hash, sizeof(h)))
		return 0;
	for (int i = 0; i < 48; i++)
		snprintf(got + 2 * i, 3, "%02x", h[i]);
	failure(s, st->line, "%s is %s, not the value expected", what, got);
	return 0;
}

/* `expect` dispatches on its second word. */
static const struct verb verbs[] = {
	{ "vm", p_vm, x_vm, false, false },
	{ "gmem", p_gmem, x_gmem, false, false },
	{ "bind", p_bind, x_bind, false, false },
	{ "convert", p_convert, x_convert, false, false },
	{ "finalize", p_finalize, x_finalize, false, false },
	{ "punch", p_punch, x_punch, false, false },
	{ "pin", p_pin, x_pin, false, false },
	{ "unpin", p_pin, x_unpin, false, false },
	{ "host", p_host, x_view_verb, false, false },
	{ "guest", p_guest, x_view_verb, false, false },
	{ "phys", p_phys, x_view_verb, false, false },
	{ "cpuid", p_cpuid, x_view_verb, false, false },
	{ "snp", p_snp, x_snp, false, false },
	{ "tdx", p_tdx, x_tdx, false, false },
	{ "echo", p_echo, x_echo, false, false },
	{ "show", p_show, x_show, false, false },
	{ "expect ok", p_expect_ok, x_expect_ok, true, true },
	{ "expect error", p_expect_error, x_expect_error, true, true },
	{ "expect fw", p_expect_fw, x_expect_fw, true, true },
	{ "expect sigbus", p_expect_ok, x_expect_sigbus, true, true },
	{ "expect page", p_expect_page, x_expect_page, false, true },
	{ "expect attr", p_expect_attr, x_expect_page, false, true },
	{ "expect rmp", p_expect_rmp, x_expect_page, false, true },
	{ "expect sept", p_expect_sept, x_expect_page, false, true },
	{ "expect host", p_expect_bytes, x_expect_bytes, false, true },
	{ "expect guest", p_expect_bytes, x_expect_bytes, false, true },
	{ "expect phys", p_expect_bytes, x_expect_bytes, false, true },
	{ "expect stat", p_expect_stat, x_expect_stat, false, true },
	{ "expect modes", p_expect_modes, x_expect_modes, false, true },
	{ "expect digest", p_expect_hash, x_expect_hash, false, true },
	{ "expect mrtd", p_expect_hash, x_expect_hash, false, true },
	{ NULL, NULL, NULL, false, false },
};

static const struct verb *find_verb(struct scenario *s)
{
	char name[80];

	if (!strcmp(s->tok[0], "expect")) {
		if (s->ntok < 2 || s->tok[1][0] == '"') {
			syntax(s, "expect: what? (ok, error, fw, sigbus, page, attr, rmp, "
			       "sept, host, guest, phys, stat, modes, digest, mrtd)");
			return NULL;
		}
		snprintf(name, sizeof(name), "expect %s", s->tok[1]);
		s->ti = 2;
	} else {
		snprintf(name, sizeof(name), "%s", s->tok[0]);
		s->ti = 1;
	}
	snprintf(s->vname, sizeof(s->vname), "%s", name);
	for (const struct verb *v = verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	if (!strcmp(s->tok[0], "expect"))
		syntax(s, "expect: unknown check '%s' (ok, error, fw, sigbus, page, "
		       "attr, rmp, sept, host, guest, phys, stat, modes, digest, "
		       "mrtd)", s->tok[1]);
	else
		syntax(s, "unknown command '%s' (vm, gmem, bind, convert, finalize, "
		       "punch, pin, unpin, host, guest, phys, cpuid, snp, tdx, echo, "
		       "show, expect)", s->tok[0]);
	return NULL;
}

/* ---- the attribute map -------------------------------------------------- */

static bool same_run(const struct scenario_run *r, const struct gmem_page_info *pi)
{
	return r->private_ == !!(pi->attributes & GMEM_ATTR_PRIVATE) &&
	       r->allocated == !!pi->allocated && r->pinned == !!pi->pinned &&
	       r->encrypted == !!pi->encrypted && r->vendor_state == pi->vendor_state;
}

int scenario_map_runs(struct gmem *g,
		      int (*fn)(const struct scenario_run *r, void *arg),
		      void (*progress)(uint64_t done, uint64_t size, void *arg),
		      void *arg)
{
	uint64_t size = gmem_size(g);
	struct scenario_run r;
	struct gmem_page_info pi;
	int ret;

	memset(&r, 0, sizeof(r));
	for (uint64_t o = 0; o < size; o += PAGE) {
		if (progress && !(o & ((PAGE << 16) - 1)))
			progress(o, size, arg);
		ret = gmem_page_info(g, o, &pi);
		if (ret)
			return ret;
		if (r.len && same_run(&r, &pi)) {
			r.len += PAGE;
			continue;
		}
		if (r.len && (ret = fn(&r, arg)))
			return ret;
		r.offset = o;
		r.len = PAGE;
		r.private_ = pi.attributes & GMEM_ATTR_PRIVATE;
		r.allocated = pi.allocated;
		r.pinned = pi.pinned;
		r.encrypted = pi.encrypted;
		r.vendor_state = pi.vendor_state;
	}
	return r.len ? fn(&r, arg) : 0;
}

/* ---- driver ------------------------------------------------------------- */

struct scenario *scenario_new(const struct scenario_opts *opts)
{
	struct scenario *s = calloc(1, sizeof(*s));

	if (s && opts)
		s->o = *opts;
	return s;
}

static void reset(struct scenario *s)
{
	gmem_vm_destroy(s->vm);	/* destroys its gmem files too */
	s->vm = NULL;
	memset(s->gm, 0, sizeof(s->gm));
	s->ngm = 0;
	memset(&s->res, 0, sizeof(s->res));
	memset(&s->sum, 0, sizeof(s->sum));
	s->npnames = 0;
	s->pvm = false;
	s->stop = false;
	s->bytes = 0;
	s->progress_shown = false;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	reset(s);
	free(s);
}

static void free_steps(struct step *steps, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(steps[i].data.text);
		free(steps[i].text);
		free(steps[i].src);
	}
	free(steps);
}

/* The line without surrounding blanks or a trailing comment (NULL when
 * out of memory: messages then name the verb). */
static char *trimmed_copy(const char *line)
{
	const char *b = line, *e;
	bool q = false;

	while (*b == ' ' || *b == '\t')
		b++;
	for (e = b; *e && (q || *e != '#'); e++)
		if (*e == '"' && (e == b || e[-1] != '\\'))
			q = !q;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return strndup(b, (size_t)(e - b));
}

/* Parse every line; NULL-free result in *out, count in *n.  -1 on a syntax
 * error (reported), -2 out of memory. */
static int parse_all(struct scenario *s, const char *buf, size_t len,
		     struct step **out, unsigned *n)
{
	struct step *steps = NULL;
	unsigned cap = 0, cnt = 0;
	size_t pos = 0;
	char *line = NULL, *src = NULL;
	int ret = 0;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		pos = 3;	/* a UTF-8 byte order mark from some editors */
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		const struct verb *v;
		struct step *st;

		s->pline++;
		s->sum.lines = s->pline;
		free(src);
		src = NULL;
		free(line);
		line = malloc(ll + 1);
		if (!line) {
			ret = -2;
			break;
		}
		memcpy(line, buf + pos, ll);
		line[ll] = '\0';
		pos += ll + 1;
		if (strlen(line) != ll) {
			ret = syntax(s, "NUL byte in the line");
			break;
		}
		src = trimmed_copy(line);
		if ((ret = tokenize(s, line)))
			break;
		if (!s->ntok)
			continue;
		if (s->tok[0][0] == '"') {
			ret = syntax(s, "a line starts with a command, not a string");
			break;
		}
		if (!(v = find_verb(s))) {
			ret = -1;
			break;
		}
		if (s->o.max_steps && cnt >= s->o.max_steps) {
			ret = syntax(s, "script longer than this interpreter's limit");
			break;
		}
		if (cnt == cap) {
			struct step *ns = realloc(steps, (cap ? cap * 2 : 64) * sizeof(*ns));

			if (!ns) {
				ret = -2;
				break;
			}
			steps = ns;
			cap = cap ? cap * 2 : 64;
		}
		st = &steps[cnt++];
		memset(st, 0, sizeof(*st));
		st->verb = v;
		st->line = s->pline;
		st->gi = -1;
		st->src = src;
		src = NULL;
		if ((ret = v->parse(s, st)))
			break;
		if (s->ti < s->ntok && (ret = no_more(s)))
			break;
	}
	free(line);
	free(src);
	if (ret) {
		free_steps(steps, cnt);
		return ret;
	}
	*out = steps;
	*n = cnt;
	return 0;
}

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* After a second, a line on a terminal that says how far the script is. */
static void progress(struct scenario *s, unsigned i, unsigned n)
{
	struct timespec now;

	if (!s->o.progress || !s->o.err)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (since(&s->t0, &now) < 1.0 || since(&s->tlast, &now) < 0.2)
		return;
	s->tlast = now;
	fprintf(s->o.err, "\r\033[K%s: step %u of %u", s->file, i + 1, n);
	fflush(s->o.err);
	s->progress_shown = true;
}

static void trace(struct scenario *s, const struct step *st, int ret)
{
	char d[160];

	if (!s->o.trace || st->verb->is_expect)
		return;
	describe_result(&s->res, d, sizeof(d));
	out(s, "%s:%u: %s -> %s\n", s->file, st->line,
	    st->src ? st->src : st->verb->name, ret == 1 ? "SIGBUS" : d);
}

/* A step on a gmem whose creation failed cannot run. */
static bool gmem_missing(struct scenario *s, struct step *st)
{
	if (st->gi < 0 || st->verb->exec == x_gmem || G(s, st)->g)
		return false;
	failure(s, st->line, "gmem '%s' was not created", s->pnames[st->gi]);
	s->stop = true;
	return true;
}

static bool needs_vm(struct scenario *s, struct step *st)
{
	if (s->vm || st->verb->exec == x_vm || st->verb->exec == x_echo)
		return false;
	failure(s, st->line, "the VM was not created");
	s->stop = true;
	return true;
}

/* The bytes a step touches, capped by its file's size (raw conversion
 * ranges may be anything). */
static bool over_budget(struct scenario *s, struct step *st)
{
	uint64_t size, len;

	if (!s->o.max_bytes || st->gi < 0 || !G(s, st)->g)
		return false;
	size = gmem_size(G(s, st)->g);
	len = len_of(s, st);
	s->bytes += len < size ? len : size;
	if (s->bytes <= s->o.max_bytes)
		return false;
	failure(s, st->line, "the scenario touched more than %llu bytes: stopped",
		(unsigned long long)s->o.max_bytes);
	s->stop = true;
	return true;
}

static void run_steps(struct scenario *s, struct step *steps, unsigned n)
{
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->tlast = s->t0;
	for (unsigned i = 0; i < n && !s->stop; i++) {
		struct step *st = &steps[i];
		int ret;

		progress(s, i, n);
		if (st->verb->checks_result) {
			s->res.checked = true;
			s->sum.expects++;
			st->verb->exec(s, st);
			continue;
		}
		check_unexpected(s);
		if (s->stop || needs_vm(s, st) || gmem_missing(s, st) ||
		    over_budget(s, st))
			break;
		if (st->verb->is_expect) {
			s->sum.expects++;
			st->verb->exec(s, st);
			continue;
		}
		s->sum.commands++;
		ret = st->verb->exec(s, st);
		/* Verbs that set a richer result did so; the rest set it here. */
		if (s->res.line != st->line)
			set_result(s, st, ret == 1 ? 0 : ret);
		trace(s, st, ret);
	}
	check_unexpected(s);
	if (s->progress_shown && s->o.err) {
		fputs("\r\033[K", s->o.err);
		s->progress_shown = false;
	}
}

int scenario_exec(struct scenario *s, const char *buf, size_t len,
		  const char *name)
{
	struct step *steps = NULL;
	unsigned n = 0;
	int ret;

	if (!s)
		return SCENARIO_FAILED;
	reset(s);
	s->file = name ? name : "-";
	s->pline = 0;
	ret = parse_all(s, buf ? buf : "", buf ? len : 0, &steps, &n);
	if (ret == -2) {
		failure(s, s->pline, "out of memory");
		return SCENARIO_FAILED;
	}
	if (ret) {
		/* Nothing ran: drop what the parser declared. */
		s->npnames = 0;
		return SCENARIO_SYNTAX;
	}
	run_steps(s, steps, n);
	free_steps(steps, n);
	return s->sum.failures ? SCENARIO_FAILED : SCENARIO_OK;
}

void scenario_summary(const struct scenario *s, struct scenario_summary *sum)
{
	*sum = s->sum;
}

unsigned scenario_gmem_count(const struct scenario *s)
{
	return s->ngm;
}

struct gmem *scenario_gmem(const struct scenario *s, unsigned i, const char **name)
{
	if (i >= s->ngm)
		return NULL;
	if (name)
		*name = s->gm[i].name;
	return s->gm[i].g;
}

struct gmem_vm *scenario_vm(const struct scenario *s)
{
	return s->vm;
}

int scenario_run_buffer(const char *buf, size_t len, const char *name)
{
	struct scenario_opts o = {
		.max_gmem_size = 64ULL << 20,
		.max_steps = 4096,
		.max_bytes = 1ULL << 30,
	};
	struct scenario *s = scenario_new(&o);
	int ret;

	if (!s)
		return SCENARIO_FAILED;
	ret = scenario_exec(s, buf, len, name);
	scenario_free(s);
	return ret;
}

int scenario_read_file(const char *path, char **bufp, size_t *lenp)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int ret = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = cap > (SIZE_MAX >> 2) ? NULL : realloc(buf, cap ? cap * 2 : 4096);

			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}
