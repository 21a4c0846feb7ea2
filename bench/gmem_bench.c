/* SPDX-License-Identifier: MIT */
/*
 * gmem_bench: the benchmark driver behind `make bench`.
 *
 *   gmem_bench [--quick] [--only GROUP] [--json FILE] [--docs DIR]
 *
 * Runs the suite (bench/suite/), prints the ratios and the DESIGN.md §5
 * targets, and writes the results as JSON and, with --docs, a Markdown
 * table (README.md) and SVG plots into DIR.  QUICK=1 in the environment
 * means --quick.  Without --json, the results go to bench.json in the
 * directory above the binary's (the build directory); without --docs, a
 * quick run writes its report into report/ beside the binary and a full
 * run into docs/performance/ when run from the source tree.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gmem_bench [--quick] [--only GROUP] [--json FILE] [--docs DIR]\ngroups:");
	for (const struct bench_group *g = bench_groups; g->name; g++)
		fprintf(f, " %s", g->name);
	fputc('\n', f);
}

static const char *exe_dir(void)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return ".";
	buf[n] = 0;
	return dirname(buf);
}

static int write_outputs(const struct bench_opts *o, const char *json,
			 const char *docs)
{
	char path[PATH_MAX + 16];
	FILE *f = fopen(json, "w");
	int ret;

	if (!f) {
		fprintf(stderr, "gmem_bench: %s: %s\n", json, strerror(errno));
		return 1;
	}
	bench_write_json(f, o);
	fclose(f);
	printf("wrote %s\n", json);
	if (!docs)
		return 0;
	mkdir(docs, 0755);
	ret = bench_write_svgs(docs);
	if (ret) {
		fprintf(stderr, "gmem_bench: %s: %s\n", docs, strerror(-ret));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/README.md", docs);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "gmem_bench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	bench_write_markdown(f, o, "");
	fclose(f);
	printf("wrote %s and its plots\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "only", required_argument, NULL, 'o' },
		{ "json", required_argument, NULL, 'j' },
		{ "docs", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *q = getenv("QUICK");
	struct bench_opts o = { .quick = q && *q && strcmp(q, "0"),
				.log = stderr };
	char json[PATH_MAX], docs[PATH_MAX];
	const char *json_arg = NULL, *docs_arg = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "qo:j:d:h", lo, NULL)) != -1) {
		switch (c) {
		case 'q': o.quick = true; break;
		case 'o': o.only = optarg; break;
		case 'j': json_arg = optarg; break;
		case 'd': docs_arg = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	snprintf(json, sizeof(json), "%s/../bench.json", exe_dir());
	if (o.quick)
		snprintf(docs, sizeof(docs), "%s/report", exe_dir());
	else
		snprintf(docs, sizeof(docs), "docs/performance");
	ret = bench_run(&o);
	if (ret) {
		fprintf(stderr, "gmem_bench: %s\n", strerror(-ret));
		return 1;
	}
	bench_write_summary(stdout);
	ret = write_outputs(&o, json_arg ? json_arg : json,
			    docs_arg ? docs_arg :
			    (o.only ? NULL : docs));
	bench_recs_free();
	return ret;
}
