/* SPDX-License-Identifier: MIT */
/*
 * gmemctl map: run a scenario, then show each gmem file as runs of pages
 * with equal state (attribute, allocation, pins, RMP / S-EPT state): a
 * table, JSON, or an SVG strip where fragmentation is visible at a glance.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmemctl.h"
#include "scenario.h"

struct runs {
	struct scenario_run *r;
	size_t n, cap;
	const char *name;
	bool progress;		/* stderr is a terminal */
	bool shown;
};

/* Large files take a while (one query per page): say how far, on a
 * terminal only. */
static void walk_progress(uint64_t done, uint64_t size, void *arg)
{
	struct runs *rs = arg;

	if (!rs->progress || size < (1ULL << 32))
		return;
	fprintf(stderr, "\r\033[Kmapping %s: %llu%%", rs->name,
		(unsigned long long)(done * 100 / size));
	rs->shown = true;
}

static int collect(const struct scenario_run *r, void *arg)
{
	struct runs *rs = arg;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct scenario_run *nr = realloc(rs->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		rs->r = nr;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *r;
	return 0;
}

/* 4096 -> "4K", 0x300000 -> "3M", 12288+1 page... -> "12K". */
static const char *human(uint64_t v, char *buf, size_t n)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (v >= 1024 && !(v % 1024) && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, n, "%llu", (unsigned long long)v);
	else
		snprintf(buf, n, "%llu%c", (unsigned long long)v, units[u]);
	return buf;
}

/* ---- text --------------------------------------------------------------- */

static void print_table(const char *name, struct gmem *g, const char *plat,
			const struct runs *rs)
{
	char a[32], b[32];

	printf("gmem %s: %s, %zu run%s, backend %s\n", name,
	       human(gmem_size(g), a, sizeof(a)), rs->n, rs->n == 1 ? "" : "s",
	       gmem_backend_name(g));
	printf("  %-14s %-8s %-8s %-12s %-7s %s\n", "offset", "length", "attr",
	       "memory", "pinned", "vendor");
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_run *r = &rs->r[i];

		printf("  0x%-12llx %-8s %-8s %-12s %-7s %s\n",
		       (unsigned long long)r->offset, human(r->len, b, sizeof(b)),
		       r->private_ ? "private" : "shared",
		       r->allocated ? "allocated" : "unallocated",
		       r->pinned ? "pinned" : "-",
		       scenario_vendor_state_name(plat, r->vendor_state));
	}
}

/* ---- JSON --------------------------------------------------------------- */

static void print_json_gmem(const char *name, struct gmem *g, const char *plat,
			    const struct runs *rs, bool first)
{
	printf("%s{\"name\":", first ? "" : ",");
	gmemctl_json_str(stdout, name);
	printf(",\"size\":%llu,\"backend\":", (unsigned long long)gmem_size(g));
	gmemctl_json_str(stdout, gmem_backend_name(g));
	printf(",\"runs\":[");
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_run *r = &rs->r[i];

		printf("%s{\"offset\":%llu,\"length\":%llu,\"private\":%s,"
		       "\"allocated\":%s,\"pinned\":%s,\"encrypted\":%s,\"vendor_state\":",
		       i ? "," : "", (unsigned long long)r->offset,
		       (unsigned long long)r->len, r->private_ ? "true" : "false",
		       r->allocated ? "true" : "false", r->pinned ? "true" : "false",
		       r->encrypted ? "true" : "false");
		gmemctl_json_str(stdout, scenario_vendor_state_name(plat, r->vendor_state));
		printf("}");
	}
	printf("]}");
}

/* ---- SVG ---------------------------------------------------------------- */

#define SVG_W		960
#define SVG_MARGIN	20
#define STRIP_W		(SVG_W - 2 * SVG_MARGIN)
#define STRIP_H		32
#define PIN_H		6
#define BLOCK_H		96	/* title, strip, pin band, labels */
#define LABEL_GAP	64	/* px between offset labels */
#define MAX_RUN_LABELS	64	/* label run starts up to this many runs */
#define SCALE_TICKS	8	/* else this many evenly spaced offsets */

struct colour { const char *what, *fill; };
static const struct colour palette[] = {
	{ "private", "#c0392b" },
	{ "shared", "#2e86c1" },
	{ "private, unallocated", "#f1b7b0" },
	{ "shared, unallocated", "#aed6f1" },
	{ "pinned", "#f39c12" },
};

static const char *fill_of(const struct scenario_run *r)
{
	return palette[(r->private_ ? 0 : 1) + (r->allocated ? 0 : 2)].fill;
}

/* An offset mark under the strip at x. */
static void svg_tick(FILE *f, double x, int y, uint64_t off)
{
	fprintf(f, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#555\"/>\n"
		"<text x=\"%.2f\" y=\"%d\" class=\"off\">0x%llx</text>\n",
		x, y + STRIP_H, x, y + STRIP_H + PIN_H + 6, x,
		y + STRIP_H + PIN_H + 18, (unsigned long long)off);
}

static void svg_block(FILE *f, const char *name, struct gmem *g, const char *plat,
		      const struct runs *rs, int y)
{
	double size = (double)gmem_size(g), last_label = -1e9;
	char a[32], b[32];

	fprintf(f, "<g class=\"gmem\" id=\"gmem-");
	for (const char *p = name; *p; p++)	/* names are words: no escaping */
		fputc(*p, f);
	fprintf(f, "\">\n<text x=\"%d\" y=\"%d\" class=\"title\">gmem %s: %s, %zu runs</text>\n",
		SVG_MARGIN, y + 14, name, human(gmem_size(g), a, sizeof(a)), rs->n);
	y += 22;
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#555\"/>\n", SVG_MARGIN, y, STRIP_W, STRIP_H);
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_run *r = &rs->r[i];
		double x = SVG_MARGIN + (double)r->offset / size * STRIP_W;
		double w = (double)r->len / size * STRIP_W;

		if (w < 1)
			w = 1;	/* a lone page in a big file stays visible */
		fprintf(f, "<rect class=\"run\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
			"height=\"%d\" fill=\"%s\"><title>0x%llx +%s %s %s%s %s</title></rect>\n",
			x, y, w, STRIP_H, fill_of(r), (unsigned long long)r->offset,
			human(r->len, b, sizeof(b)), r->private_ ? "private" : "shared",
			r->allocated ? "allocated" : "unallocated",
			r->pinned ? " pinned" : "",
			scenario_vendor_state_name(plat, r->vendor_state));
		if (r->pinned)
			fprintf(f, "<rect class=\"pin\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
				"height=\"%d\" fill=\"%s\"/>\n", x, y + STRIP_H + 2, w < 3 ? 3 : w,
				PIN_H, palette[4].fill);
		if (rs->n <= MAX_RUN_LABELS && x - last_label >= LABEL_GAP &&
		    STRIP_W + SVG_MARGIN - x >= LABEL_GAP / 2) {
			svg_tick(f, x, y, r->offset);
			last_label = x;
		}
	}
	/* Too many runs to name their starts: a regular scale instead. */
	for (int k = 0; rs->n > MAX_RUN_LABELS && k < SCALE_TICKS; k++)
		svg_tick(f, SVG_MARGIN + (double)STRIP_W * k / SCALE_TICKS, y,
			 gmem_size(g) / SCALE_TICKS * (uint64_t)k);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"off\" text-anchor=\"end\">0x%llx</text>\n",
		SVG_MARGIN + STRIP_W, y + STRIP_H + PIN_H + 30,
		(unsigned long long)gmem_size(g));
	fprintf(f, "</g>\n");
}

static int write_svg(const char *path, struct scenario *s, struct runs *all,
		     unsigned n)
{
	const char *plat = gmem_vm_platform(scenario_vm(s));
	int h = SVG_MARGIN + (int)n * BLOCK_H + 30;
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int x = SVG_MARGIN;

	if (!f)
		return -errno;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\">\n"
		"<style>text{font-family:monospace;font-size:11px;fill:#222}"
		".title{font-size:13px;font-weight:bold}</style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		SVG_W, h, SVG_W, h);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"title\">libgmem attribute map, platform %s</text>\n",
		SVG_MARGIN, SVG_MARGIN, plat ? plat : "-");
	for (unsigned i = 0; i < n; i++) {
		const char *name;
		struct gmem *g = scenario_gmem(s, i, &name);

		if (g)
			svg_block(f, name, g, plat, &all[i], SVG_MARGIN + 8 + (int)i * BLOCK_H);
	}
	fprintf(f, "<g class=\"legend\">\n");
	for (size_t i = 0; i < sizeof(palette) / sizeof(palette[0]); i++) {
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\" "
			"stroke=\"#555\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
			x, h - 24, palette[i].fill, x + 16, h - 14, palette[i].what);
		x += 36 + 7 * (int)strlen(palette[i].what);
	}
	fprintf(f, "</g>\n</svg>\n");
	if (f != stdout && fclose(f))
		return -errno;
	return 0;
}

/* ---- the command -------------------------------------------------------- */

static int show(struct scenario *s, bool json, const char *svg)
{
	unsigned n = scenario_gmem_count(s);
	const char *plat = gmem_vm_platform(scenario_vm(s));
	struct runs *all = calloc(n ? n : 1, sizeof(*all));
	int ret = 0;

	if (!all)
		return -ENOMEM;
	for (unsigned i = 0; i < n && !ret; i++) {
		struct gmem *g = scenario_gmem(s, i, &all[i].name);

		all[i].progress = isatty(STDERR_FILENO);
		if (g)
			ret = scenario_map_runs(g, collect, walk_progress, &all[i]);
		if (all[i].shown)
			fputs("\r\033[K", stderr);
	}
	if (!ret && json) {
		struct gmem_vm *vm = scenario_vm(s);

		printf("{\"platform\":");
		gmemctl_json_str(stdout, vm ? gmem_vm_platform(vm) : "");
		printf(",\"policy\":");
		gmemctl_json_str(stdout, vm ? gmem_vm_policy(vm) : "");
		printf(",\"finalized\":%s,\"gmems\":[",
		       vm && gmem_vm_is_finalized(vm) ? "true" : "false");
	}
	for (unsigned i = 0, shown = 0; i < n && !ret; i++) {
		const char *name;
		struct gmem *g = scenario_gmem(s, i, &name);

		if (!g)
			continue;
		if (json)
			print_json_gmem(name, g, plat, &all[i], !shown);
		else if (!svg || strcmp(svg, "-"))
			print_table(name, g, plat, &all[i]);
		shown++;
	}
	if (!ret && json)
		printf("]}\n");
	if (!ret && svg)
		ret = write_svg(svg, s, all, n);
	for (unsigned i = 0; i < n; i++)
		free(all[i].r);
	free(all);
	return ret;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "svg", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct scenario_opts o = { .err = stderr, .progress = isatty(STDERR_FILENO) };
	const char *svg = NULL, *name;
	struct scenario *s;
	bool json = false;
	size_t len;
	char *buf;
	int c, ret, sret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 's')
			svg = optarg;
		else if (optopt == 's')
			return gmemctl_usage_error("map", "--svg needs a FILE (- for stdout)");
		else
			return gmemctl_usage_error("map", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return gmemctl_usage_error("map", optind < argc ? "one scenario at a time" :
					   "which scenario? (a FILE, or - for stdin)");
	if (json && svg && !strcmp(svg, "-"))
		return gmemctl_usage_error("map", "--json and --svg - both want stdout");
	name = strcmp(argv[optind], "-") ? argv[optind] : "<stdin>";
	ret = scenario_read_file(argv[optind], &buf, &len);
	if (ret)
		return gmemctl_usage_error("map", "%s: %s", name, strerror(-ret));
	s = scenario_new(&o);
	if (!s) {
		free(buf);
		return gmemctl_fail("map", "out of memory");
	}
	sret = scenario_exec(s, buf, len, name);
	free(buf);
	if (sret == SCENARIO_SYNTAX) {
		scenario_free(s);
		return EXIT_USAGE;
	}
	ret = show(s, json, svg);
	scenario_free(s);
	if (ret)
		return gmemctl_fail("map", "%s: %s", svg ? svg : "map", strerror(-ret));
	if (sret)
		fprintf(stderr, "%s: FAILED (the map shows the state where it stopped)\n", name);
	return sret;
}

const struct gmemctl_cmd gmemctl_cmd_map = {
	.name = "map",
	.args = "[--json] [--svg FILE] FILE|-",
	.summary = "run a scenario, then show each gmem's attribute map",
	.help = "Runs the scenario FILE (- reads standard input; see 'gmemctl help\n"
		"run') and prints, for every gmem file it created, the runs of pages\n"
		"in the same state: offset, length, private or shared, allocated or\n"
		"not, pinned, and the RMP (SNP) or S-EPT (TDX) state.\n"
		"\n"
		"  --json      the same as one JSON object on stdout\n"
		"  --svg FILE  also draw every gmem as a strip, one colour per state\n"
		"              (private, shared, unallocated, pinned), with offsets\n"
		"              and a legend; FILE - writes the SVG to stdout instead\n"
		"              of the table\n"
		"\n"
		"Exit status: 0, 1 if the scenario failed (the map is still printed),\n"
		"2 for a syntax error in it or a bad command line.\n",
	.run = run,
};
