/* SPDX-License-Identifier: MIT */
/* gmemctl: the command-line face of libgmem.  One file per subcommand;
 * each provides a `struct gmemctl_cmd` listed in main.c's table.
 * Exit status: 0 success, 1 the thing asked failed, 2 usage error. */
#ifndef GMEMCTL_H
#define GMEMCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2

struct gmemctl_cmd {
	const char *name;
	const char *args;	/* e.g. "[--json]" */
	const char *summary;	/* one line */
	const char *help;	/* full text for `gmemctl help CMD` */
	int (*run)(int argc, char **argv);	/* argv[0] is the command name */
};

extern const struct gmemctl_cmd gmemctl_cmd_probe;
extern const struct gmemctl_cmd gmemctl_cmd_demo;
extern const struct gmemctl_cmd gmemctl_cmd_modes;
extern const struct gmemctl_cmd gmemctl_cmd_run;
extern const struct gmemctl_cmd gmemctl_cmd_map;
extern const struct gmemctl_cmd gmemctl_cmd_bench;
extern const struct gmemctl_cmd gmemctl_cmd_measure;

/* Print "gmemctl: CMD: message" on stderr and return EXIT_USAGE. */
int gmemctl_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print "gmemctl: CMD: message" on stderr and return 1. */
int gmemctl_fail(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Colour on a terminal only, and never with NO_COLOR set. */
bool gmemctl_color(FILE *f);
/* Write s as a JSON string literal (with quotes). */
void gmemctl_json_str(FILE *f, const char *s);

/* The content-mode matrix modes[direction: 0 to-private, 1 to-shared]
 * [phase: 0 pre-finalize, 1 finalized] of a platform and policy. */
int gmemctl_modes_matrix(const char *platform, const char *policy,
			 uint64_t modes[2][2]);
void gmemctl_print_modes(FILE *f, const char *platform, const char *policy,
			 bool color);

#endif
