/* SPDX-License-Identifier: MIT */
/* gmemctl bench: the benchmark suite of `make bench` (bench/suite/), run in
 * this process: the ratios against the baselines and the DESIGN.md §5
 * targets, as text or JSON. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "gmemctl.h"
#include "bench.h"

static int bench_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = { 0 };
	bool json = false, verbose = false;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qjo:v", lo, NULL)) != -1) {
		switch (c) {
		case 'q': o.quick = true; break;
		case 'j': json = true; break;
		case 'o': o.only = optarg; break;
		case 'v': verbose = true; break;
		default: return gmemctl_usage_error("bench", "unknown option");
		}
	}
	if (optind != argc)
		return gmemctl_usage_error("bench", "unexpected argument '%s'",
					   argv[optind]);
	if (o.only) {
		const struct bench_group *g = bench_groups;

		while (g->name && strcmp(g->name, o.only))
			g++;
		if (!g->name)
			return gmemctl_usage_error("bench", "unknown group '%s'",
						   o.only);
	}
	/* The per-case lines are the text output; JSON keeps stdout clean. */
	o.log = json ? (verbose ? stderr : NULL) : stdout;
	ret = bench_run(&o);
	if (ret) {
		bench_recs_free();
		return gmemctl_fail("bench", "%s", strerror(-ret));
	}
	if (json)
		bench_write_json(stdout, &o);
	else
		bench_write_summary(stdout);
	bench_recs_free();
	return 0;
}

const struct gmemctl_cmd gmemctl_cmd_bench = {
	.name = "bench",
	.args = "[--quick] [--json] [--only GROUP]",
	.summary = "measure conversions against the two-backing way and the targets",
	.help =
	"Runs the benchmark suite of `make bench` in this process: in-place\n"
	"PRESERVE and ZERO conversions against the two-backing way (memfd +\n"
	"private backing + hole punch + bitmap), ZERO against memset, the\n"
	"attribute store against per-page tables, a boot-like workload, the\n"
	"TDX memset skip, host view revocation against the bare system calls,\n"
	"and the kvm backend.  Every figure is a median of repeated runs with\n"
	"min and max; every ratio is measured in the same run.  The full run\n"
	"takes minutes and needs about 4 GiB of memory.\n\n"
	"  --quick       smaller sizes and fewer repetitions (under a minute)\n"
	"  --json        print the results as JSON (as build/bench.json)\n"
	"  --only GROUP  conversion, zero, attrs, boot, tdx or views\n"
	"  --verbose     with --json, progress on stderr\n\n"
	"Exit status 0 when the suite ran, whether or not the targets were met\n"
	"(the summary says which); 1 when a measurement failed.\n",
	.run = bench_main,
};
