/* SPDX-License-Identifier: MIT */
/* gmemctl: table-driven dispatcher. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmem/gmem.h"
#include "gmemctl.h"

static int cmd_help(int argc, char **argv);

static const struct gmemctl_cmd gmemctl_cmd_help = {
	.name = "help", .args = "[CMD]",
	.summary = "show the commands, or one command's help",
	.help = "Without CMD, lists the commands; with CMD, shows its usage and help.\n",
	.run = cmd_help,
};

static const struct gmemctl_cmd *const commands[] = {
	&gmemctl_cmd_probe,
	&gmemctl_cmd_demo,
	&gmemctl_cmd_modes,
	&gmemctl_cmd_run,
	&gmemctl_cmd_map,
	&gmemctl_cmd_bench,
	&gmemctl_cmd_measure,
	&gmemctl_cmd_help,
	NULL,
};

int gmemctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "gmemctl: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'gmemctl help%s%s')\n", cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

int gmemctl_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "gmemctl: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

bool gmemctl_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return false;
	return isatty(fileno(f));
}

void gmemctl_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const struct gmemctl_cmd *find_cmd(const char *name)
{
	for (const struct gmemctl_cmd *const *c = commands; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

static void list_commands(FILE *f)
{
	fprintf(f, "usage: gmemctl COMMAND [ARGS]\n\n"
		"guest_memfd in-place conversion: probe, explore and test.\n\n"
		"commands:\n");
	for (const struct gmemctl_cmd *const *c = commands; *c; c++)
		fprintf(f, "  %-8s %s\n           %s\n", (*c)->name, (*c)->args,
			(*c)->summary);
	fprintf(f, "\n'gmemctl help COMMAND' shows a command's help; see gmemctl(1).\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct gmemctl_cmd *c;

	if (argc < 2) {
		list_commands(stdout);
		return 0;
	}
	if (argc > 2)
		return gmemctl_usage_error("help", "too many arguments");
	c = find_cmd(argv[1]);
	if (!c)
		return gmemctl_usage_error("help", "unknown command '%s'", argv[1]);
	printf("usage: gmemctl %s %s\n\n%s\n\n%s", c->name, c->args, c->summary, c->help);
	return 0;
}

int main(int argc, char **argv)
{
	const struct gmemctl_cmd *c;

	if (argc < 2)
		return list_commands(stderr), EXIT_USAGE;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	if (!strcmp(argv[1], "--version")) {
		printf("gmemctl %d.%d\n", GMEM_VERSION_MAJOR, GMEM_VERSION_MINOR);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c)
		return gmemctl_usage_error(NULL, "unknown command '%s'", argv[1]);
	if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		char *hv[] = { "help", argv[1], NULL };
		return cmd_help(2, hv);
	}
	return c->run(argc - 1, argv + 1);
}
