/* SPDX-License-Identifier: MIT */
/*
 * The scenario interpreter's own header: the parsed form of a script
 * (struct step), the interpreter's state (struct scenario), the verb
 * tables and what the files of tools/gmemctl/scenario/ share.  Nothing
 * outside this folder includes it; the interface is ../scenario.h.
 *
 * A script is first parsed whole into steps, one per line, so a malformed
 * line is reported (FILE:LINE) before anything runs.  Then the steps run in
 * order.  Every command leaves a result (ok, -errno with error_offset and
 * firmware error, or SIGBUS); `expect ok|error|sigbus|fw` check it, and a
 * failed command that the next line does not expect fails the scenario, so
 * a script never ignores an error by accident.  Failed expectations are
 * reported and the run goes on, so one run shows every difference.
 *
 * Verbs are tables, one per group of verbs (verbs_*.c, expect.c): each
 * verb has a parse function that fills a `struct step` and an exec
 * function that runs it.
 *
 *   report.c         messages, names of errnos and vendor states, results
 *   lex.c            tokens and numbers
 *   parse.c          the words verbs share, the verb lookup, a whole script
 *   data.c           data streams, the SIGBUS-guarded host view, ranges
 *   verbs_setup.c    vm, gmem, bind, finalize
 *   verbs_convert.c  convert, punch, pin, unpin
 *   verbs_access.c   host, guest, phys, cpuid
 *   verbs_vendor.c   snp, tdx
 *   verbs_output.c   echo, show, and the attribute map
 *   expect.c         expect ...
 *   driver.c         running the steps, and the interface of ../scenario.h
 *
 * Internal functions and tables shared between these files carry the
 * prefix sc_; the rest are static to their file.
 */
#ifndef GMEMCTL_SCENARIO_INTERNAL_H
#define GMEMCTL_SCENARIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gmem/gmem.h"
#include "../scenario.h"

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
	bool without_vm;	/* runs where no VM was created: vm, echo */
	bool makes_gmem;	/* its gmem need not exist yet: gmem */
};

/* The verb groups, each ended by an entry with a NULL name; parse.c
 * looks a line's verb up in them. */
extern const struct verb sc_setup_verbs[];	/* verbs_setup.c */
extern const struct verb sc_convert_verbs[];	/* verbs_convert.c */
extern const struct verb sc_access_verbs[];	/* verbs_access.c */
extern const struct verb sc_vendor_verbs[];	/* verbs_vendor.c */
extern const struct verb sc_output_verbs[];	/* verbs_output.c */
extern const struct verb sc_expect_verbs[];	/* expect.c */

/* ---- report.c: messages, names, results ---------------------------------- */

/* A syntax error at the line being parsed; returns -1. */
int sc_syntax(struct scenario *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A failed command or expectation at line; the first one is kept. */
void sc_failure(struct scenario *s, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Output on opts.out, if any. */
void sc_out(struct scenario *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct named { const char *name; long val; };

extern const struct named sc_errnos[];
extern const struct named sc_rmp_states[];
extern const struct named sc_sept_states[];
const struct named *sc_lookup(const struct named *t, const char *name);
const char *sc_name_of(const struct named *t, long val);
const char *sc_errno_name(int e);

void sc_set_result(struct scenario *s, struct step *st, int ret);
void sc_describe_result(const struct result *r, char *buf, size_t n);
void sc_check_unexpected(struct scenario *s);

/* ---- lex.c: tokens and numbers ------------------------------------------- */

int sc_tokenize(struct scenario *s, char *p);
const char *sc_peek(struct scenario *s);
const char *sc_next(struct scenario *s);
bool sc_accept(struct scenario *s, const char *word);
int sc_need(struct scenario *s, const char **t, const char *what);
int sc_no_more(struct scenario *s);
int sc_parse_u64(const char *t, uint64_t *v);
int sc_num(struct scenario *s, uint64_t *v, const char *what);

/* ---- parse.c: shared words, a whole script -------------------------------- */

int sc_gmem_ref(struct scenario *s, struct step *st);
int sc_range(struct scenario *s, struct step *st, uint64_t def_len);
int sc_parse_data(struct scenario *s, struct data *d, const char *t);
int sc_access_word(struct scenario *s, struct step *st, const char *t,
		   bool with_data);
uint64_t sc_data_len(const struct data *d);
int sc_parse_all(struct scenario *s, const char *buf, size_t len,
		 struct step **out, unsigned *n);
void sc_free_steps(struct step *steps, unsigned n);

/* ---- data.c: data streams, the host view, ranges ------------------------- */

void sc_data_fill(const struct data *d, uint64_t pos, uint8_t *buf, size_t n);
void sc_data_describe(const struct data *d, char *buf, size_t n);
int sc_guarded_copy(void *dst, const void *src, size_t n);
int sc_host_view(struct sgmem *sg, uint8_t **view);

static inline struct sgmem *G(struct scenario *s, struct step *st)
{
	return &s->gm[st->gi];
}

uint64_t sc_len_of(struct scenario *s, struct step *st);
bool sc_fits(struct scenario *s, struct step *st, uint64_t len);

/* ---- verbs_access.c ------------------------------------------------------- */

int sc_view_io(struct scenario *s, struct step *st, uint64_t off,
	       uint8_t *buf, size_t n, bool write);

#endif
