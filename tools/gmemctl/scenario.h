/* SPDX-License-Identifier: MIT */
/*
 * The gmemctl scenario language: a line-oriented script that creates a VM
 * and gmem files, converts, reads and writes through the host, guest and
 * physical views, drives the SNP and TDX launch machinery and checks the
 * outcome with `expect` lines.  The language is described in
 * docs/scenarios.md.
 *
 * The interpreter never exits and never crashes on any input: a whole
 * script is parsed before anything runs (so a syntax error has no side
 * effects), and host accesses that raise SIGBUS are caught.  That makes
 * scenario_run_buffer() a fuzzing entry point.
 */
#ifndef GMEMCTL_SCENARIO_H
#define GMEMCTL_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gmem/gmem.h"

/* Results of scenario_exec() and scenario_run_buffer(). */
#define SCENARIO_OK     0	/* every command and expectation held */
#define SCENARIO_FAILED 1	/* an expectation failed, or a command failed unexpectedly */
#define SCENARIO_SYNTAX 2	/* the script is malformed; nothing ran */

struct scenario_opts {
	FILE *out;		/* read dumps, `echo`, `show`, trace; NULL: silent */
	FILE *err;		/* FILE:LINE diagnostics; NULL: silent */
	bool trace;		/* echo each command and its result on out */
	bool progress;		/* a progress line on err for long scripts */
	uint64_t max_gmem_size;	/* refuse larger gmem files (0: no limit) */
	unsigned max_steps;	/* refuse longer scripts (0: no limit) */
	uint64_t max_bytes;	/* stop once commands touched this many bytes
				 * in all (0: no limit): keeps fuzzing fast */
};

struct scenario;

/* A fresh interpreter (NULL on allocation failure).  opts may be NULL. */
struct scenario *scenario_new(const struct scenario_opts *opts);
/* Parse then run buf[0..len) (need not be NUL-terminated); name is used in
 * messages.  Returns SCENARIO_OK, _FAILED or _SYNTAX.  The VM and gmem
 * files stay alive until scenario_free(), for inspection. */
int scenario_exec(struct scenario *s, const char *buf, size_t len,
		  const char *name);
void scenario_free(struct scenario *s);

/* Counters of the last scenario_exec(). */
struct scenario_summary {
	unsigned lines;		/* lines read */
	unsigned commands;	/* commands run (not counting expect) */
	unsigned expects;	/* expectations checked */
	unsigned failures;	/* expectations or commands that failed */
	unsigned fail_line;	/* line of the first failure, or 0 */
	char fail_msg[256];	/* its message */
};
void scenario_summary(const struct scenario *s, struct scenario_summary *sum);

/* The gmem files the scenario created, in creation order. */
unsigned scenario_gmem_count(const struct scenario *s);
struct gmem *scenario_gmem(const struct scenario *s, unsigned i,
			   const char **name);
/* The scenario's VM (NULL before a `vm` line). */
struct gmem_vm *scenario_vm(const struct scenario *s);

/* One run of pages with equal state, as the attribute map shows it. */
struct scenario_run {
	uint64_t offset, len;
	bool private_;
	bool allocated;
	bool pinned;
	bool encrypted;
	int vendor_state;	/* enum gmem_rmp_state / gmem_sept_state */
};
/* Call fn for each run of g in offset order; stops early and returns fn's
 * value when it is non-zero.  0 or -errno from the library.  The walk asks
 * for every page (about a microsecond each): progress, if not NULL, is
 * called now and then with the bytes done. */
int scenario_map_runs(struct gmem *g,
		      int (*fn)(const struct scenario_run *r, void *arg),
		      void (*progress)(uint64_t done, uint64_t size, void *arg),
		      void *arg);
/* "rmp-validated", "sept-mapped", ... for a page of a VM of that
 * platform, or "-" for platforms without per-page vendor state. */
const char *scenario_vendor_state_name(const char *platform, int state);

/* The whole of path ("-": standard input) in a malloc'd *buf of *len
 * bytes, for scenario_exec().  0 or -errno. */
int scenario_read_file(const char *path, char **buf, size_t *len);

/* Fuzzing entry: a silent interpreter over one buffer, small limits.
 * (64 MiB per gmem, 4096 lines, 1 GiB touched in all).  Returns
 * SCENARIO_OK/_FAILED/_SYNTAX, never exits or crashes. */
int scenario_run_buffer(const char *buf, size_t len, const char *name);

#endif
