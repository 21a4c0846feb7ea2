/* SPDX-License-Identifier: MIT */
/* gmemctl run: run scenario scripts (docs/scenarios.md). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmemctl.h"
#include "scenario.h"

static void print_json(const char *file, int ret, const struct scenario_summary *sum,
		       bool first)
{
	static const char *const result[] = { "ok", "failed", "syntax-error" };

	printf("%s{\"file\":", first ? "" : ",");
	gmemctl_json_str(stdout, file);
	printf(",\"result\":\"%s\",\"lines\":%u,\"commands\":%u,\"expects\":%u,"
	       "\"failures\":%u,\"first_failure\":", result[ret], sum->lines,
	       sum->commands, sum->expects, sum->failures);
	if (sum->fail_line) {
		printf("{\"line\":%u,\"message\":", sum->fail_line);
		gmemctl_json_str(stdout, sum->fail_msg);
		printf("}");
	} else {
		printf("null");
	}
	printf("}");
}

static int run_one(const char *path, bool json, bool trace, bool quiet, bool first)
{
	struct scenario_opts o = {
		.out = json ? NULL : stdout,
		.err = stderr,
		.trace = trace && !json,
		.progress = isatty(STDERR_FILENO),
	};
	struct scenario_summary sum;
	struct scenario *s;
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	size_t len;
	char *buf;
	int ret;

	ret = scenario_read_file(path, &buf, &len);
	if (ret) {
		gmemctl_usage_error("run", "%s: %s", name, strerror(-ret));
		return -1;
	}
	s = scenario_new(&o);
	if (!s) {
		free(buf);
		gmemctl_fail("run", "out of memory");
		return -1;
	}
	ret = scenario_exec(s, buf, len, name);
	scenario_summary(s, &sum);
	scenario_free(s);
	free(buf);
	if (json)
		print_json(name, ret, &sum, first);
	else if (ret == SCENARIO_OK && !quiet)
		printf("%s: ok (%u commands, %u expectations)\n", name,
		       sum.commands, sum.expects);
	else if (ret == SCENARIO_FAILED)
		fprintf(stderr, "%s: FAILED (%u failure%s)\n", name, sum.failures,
			sum.failures == 1 ? "" : "s");
	fflush(stdout);
	return ret;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "trace", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, trace = false, quiet = false;
	int c, worst = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vq", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'v')
			trace = true;
		else if (c == 'q')
			quiet = true;
		else
			return gmemctl_usage_error("run", "unknown option '%s'",
						   argv[optind - 1]);
	}
	if (optind >= argc)
		return gmemctl_usage_error("run", "which scenario? (a FILE, or - for stdin)");
	if (json)
		printf("{\"scenarios\":[");
	for (int i = optind; i < argc; i++) {
		int ret = run_one(argv[i], json, trace, quiet, i == optind);

		if (ret < 0) {
			worst = EXIT_USAGE;
			break;
		}
		if (ret > worst)
			worst = ret;
	}
	if (json)
		printf("]}\n");
	return worst;
}

const struct gmemctl_cmd gmemctl_cmd_run = {
	.name = "run",
	.args = "[--json] [-v] [-q] FILE|-...",
	.summary = "run scenario scripts (convert, read, write, expect)",
	.help = "Runs each scenario FILE (- reads standard input): a line-oriented\n"
		"script that creates a VM and gmem files, converts ranges with a\n"
		"content mode, reads and writes through the host, guest and\n"
		"physical views, pins, punches holes, drives SNP launch-update and\n"
		"TDX page-add, and checks results with 'expect' lines.  See\n"
		"docs/scenarios.md and the examples under scenarios/.\n"
		"\n"
		"  vm snp\n"
		"  gmem g 2M mmap shared\n"
		"  host write g 0x4000 text \"hello\"\n"
		"  convert g 0x4000 +4K private preserve\n"
		"  host read g 0x4000\n"
		"  expect sigbus\n"
		"\n"
		"  -v, --trace  print each command and its result\n"
		"  -q, --quiet  print nothing when a scenario passes\n"
		"  --json       one summary object per scenario, on stdout\n"
		"\n"
		"Messages name FILE:LINE.  Exit status: 0 every expectation held,\n"
		"1 an expectation (or an unexpected command) failed, 2 a syntax\n"
		"error (nothing ran) or a file that cannot be read.\n",
	.run = run,
};
