/* SPDX-License-Identifier: MIT */
/* Results out: JSON (build/bench.json), the Markdown table and the SVG
 * plots of docs/performance/, and the plain-text summary. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"
#include "suite/svg.h"

const char *bench_machine(void)
{
	static char buf[256];
	char line[1024], model[128] = "unknown CPU";
	const char *virt = "";
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && p) {
			snprintf(model, sizeof(model), "%s", p + 2);
			model[strcspn(model, "\n")] = 0;
		}
		if (!strncmp(line, "flags", 5)) {
			if (strstr(line, " hypervisor"))
				virt = " (a virtual machine)";
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	snprintf(buf, sizeof(buf), "%s%s, %ld CPUs, %.0f GiB RAM, Linux %s %s",
		 model, virt, cpus, mem / (double)GiB, u.release, u.machine);
	return buf;
}

/* ---- JSON -------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 9e15)
		fprintf(f, "%.0f", v);
	else if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static void json_field(FILE *f, const struct bench_field *x)
{
	json_str(f, x->key);
	fputs(": ", f);
	switch (x->kind) {
	case BF_STR:
		json_str(f, x->str);
		break;
	case BF_NUM:
		json_num(f, x->num);
		break;
	case BF_STAT:
		fputs("{ \"median\": ", f);
		json_num(f, x->st.med);
		fputs(", \"min\": ", f);
		json_num(f, x->st.min);
		fputs(", \"max\": ", f);
		json_num(f, x->st.max);
		fprintf(f, ", \"runs\": %u, \"unit\": ", x->st.n);
		json_str(f, x->unit);
		fputs(" }", f);
		break;
	}
}

void bench_write_json(FILE *f, const struct bench_opts *o)
{
	const char *group = NULL;

	fprintf(f, "{\n  \"suite\": \"libgmem benchmarks (DESIGN.md section 5)\",\n");
	fprintf(f, "  \"quick\": %s,\n  \"machine\": ", o->quick ? "true" : "false");
	json_str(f, bench_machine());
	fputs(",\n  \"results\": {", f);
	for (unsigned i = 0; i < bench_nrecs(); i++) {
		const struct bench_rec *r = bench_rec_at(i);

		if (!group || strcmp(group, r->group)) {
			fprintf(f, "%s\n    ", group ? "\n    ]," : "");
			json_str(f, r->group);
			fputs(": [", f);
			group = r->group;
		} else {
			fputc(',', f);
		}
		fputs("\n      { \"name\": ", f);
		json_str(f, r->name);
		for (unsigned k = 0; k < r->nfields; k++) {
			fputs(", ", f);
			json_field(f, &r->f[k]);
		}
		fputs(" }", f);
	}
	fprintf(f, "%s\n  },\n  \"targets\": [", group ? "\n    ]" : "");
	for (unsigned i = 0; i < bench_ntargets(); i++) {
		const struct bench_target *t = bench_target_at(i);

		fprintf(f, "%s\n    { \"name\": ", i ? "," : "");
		json_str(f, t->name);
		fputs(", \"target\": ", f);
		json_str(f, t->want);
		fputs(", \"measured\": ", f);
		json_str(f, t->got);
		fprintf(f, ", \"met\": %s, \"note\": ",
			t->met < 0 ? "null" : t->met ? "true" : "false");
		json_str(f, t->note);
		fputs(" }", f);
	}
	fputs("\n  ]\n}\n", f);
}

/* ---- Markdown ---------------------------------------------------------- */

/* A display unit for a median: microseconds become ms or s, bytes KiB to
 * GiB; min and max are shown in the same unit. */
static const char *scale_of(double med, const char *unit, double *div)
{
	static const struct { const char *unit, *to; double div; } sc[] = {
		{ "us", "s", 1e6 }, { "us", "ms", 1e3 },
		{ "B", "GiB", 1024.0 * 1024 * 1024 }, { "B", "MiB", 1024.0 * 1024 },
		{ "B", "KiB", 1024 },
	};

	*div = 1;
	for (size_t i = 0; isfinite(med) && i < sizeof(sc) / sizeof(sc[0]); i++)
		if (!strcmp(unit, sc[i].unit) && fabs(med) >= 10 * sc[i].div) {
			*div = sc[i].div;
			return sc[i].to;
		}
	return unit;
}

static void fmt_num(char *buf, size_t n, double v)
{
	if (!isfinite(v))
		snprintf(buf, n, "–");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, n, "%.0f", v);
	else if (fabs(v) >= 100)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.3g", v);
}

static void fmt_value(char *buf, size_t n, double v, const char *unit)
{
	char num[40];
	double div;
	const char *u = scale_of(v, unit, &div);

	if (isfinite(v) && !strcmp(unit, "B") && v >= 1024 && fmod(v, 1024) == 0) {
		snprintf(buf, n, "%s", bench_size_str((uint64_t)v));
		return;
	}
	fmt_num(num, sizeof(num), v / div);
	if (!strcmp(u, "x"))
		snprintf(buf, n, "%s×", num);
	else
		snprintf(buf, n, "%s%s%s", num, *u ? " " : "", u);
}

static void md_cell(FILE *f, const struct bench_field *x)
{
	char a[48], b[48], c[48];
	double div;

	switch (x->kind) {
	case BF_STR:
		fprintf(f, " %s |", x->str);
		break;
	case BF_NUM:
		fmt_value(a, sizeof(a), x->num, x->unit);
		fprintf(f, " %s |", a);
		break;
	case BF_STAT:
		scale_of(x->st.med, x->unit, &div);
		fmt_value(a, sizeof(a), x->st.med, x->unit);
		fmt_num(b, sizeof(b), x->st.min / div);
		fmt_num(c, sizeof(c), x->st.max / div);
		fprintf(f, " **%s** <sub>%s–%s</sub> |", a, b, c);
		break;
	}
}

static const char *group_title(const char *name)
{
	for (const struct bench_group *g = bench_groups; g->name; g++)
		if (!strcmp(g->name, name))
			return g->title;
	if (!strcmp(name, "kvm"))
		return "The same conversions on the kvm backend (7)";
	return name;
}

static void md_group(FILE *f, unsigned first)
{
	const struct bench_rec *r0 = bench_rec_at(first);

	fprintf(f, "\n### %s\n\n| case |", group_title(r0->group));
	for (unsigned k = 0; k < r0->nfields; k++)
		fprintf(f, " %s |", r0->f[k].key);
	fputs("\n|---|", f);
	for (unsigned k = 0; k < r0->nfields; k++)
		fputs("---|", f);
	fputc('\n', f);
	for (unsigned i = first; i < bench_nrecs(); i++) {
		const struct bench_rec *r = bench_rec_at(i);

		if (strcmp(r->group, r0->group))
			break;
		fprintf(f, "| %s |", r->name);
		for (unsigned k = 0; k < r->nfields; k++)
			md_cell(f, &r->f[k]);
		fputc('\n', f);
	}
}

static void md_targets(FILE *f)
{
	fputs("\n| target (DESIGN.md §5) | wanted | measured | met | how |\n"
	      "|---|---|---|---|---|\n", f);
	for (unsigned i = 0; i < bench_ntargets(); i++) {
		const struct bench_target *t = bench_target_at(i);

		fprintf(f, "| %s | %s | %s | %s | %s |\n", t->name, t->want,
			t->got, t->met < 0 ? "not measured" :
			t->met ? "**yes**" : "**no**", t->note);
	}
}

void bench_write_markdown(FILE *f, const struct bench_opts *o,
			  const char *svg_prefix)
{
	const char *group = NULL;
	FILE *notes;
	char line[1024];

	fprintf(f, "<!-- SPDX-License-Identifier: MIT -->\n"
		"# Performance\n\n"
		"Generated by `make bench%s` (bench/gmem_bench.c, the suite in "
		"bench/suite/, the baselines in bench/baselines/); do not edit: "
		"the prose lives in bench/suite/notes.md and is copied in.\n\n"
		"Machine: %s.\n\n"
		"Every figure is the median of repeated runs, with min–max in "
		"small print; every ratio is computed per repetition against "
		"its baseline run right next to it in the same process, then "
		"summarised the same way.\n",
		o->quick ? " QUICK=1" : "", bench_machine());
	fputs("\n## Targets\n", f);
	md_targets(f);
	notes = fopen("bench/suite/notes.md", "r");
	if (notes) {
		fputc('\n', f);
		while (fgets(line, sizeof(line), notes))
			if (strncmp(line, "<!-- SPDX", 9))
				fputs(line, f);
		fclose(notes);
	}
	fprintf(f, "\n## Plots\n\n"
		"![conversion time](%sconversion.svg)\n"
		"![speedup](%sspeedup.svg)\n"
		"![attribute store lookups](%sattrs.svg)\n"
		"![attribute store memory](%sattrs_memory.svg)\n",
		svg_prefix, svg_prefix, svg_prefix, svg_prefix);
	fputs("\n## Results\n", f);
	for (unsigned i = 0; i < bench_nrecs(); i++) {
		const struct bench_rec *r = bench_rec_at(i);

		if (!group || strcmp(group, r->group)) {
			md_group(f, i);
			group = r->group;
		}
	}
}

/* ---- SVG --------------------------------------------------------------- */

/* Series of one group: x = field xkey, y = field ykey of the records whose
 * string fields match the filter ("key=value,key=value"). */
static int rec_matches(const struct bench_rec *r, const char *filter)
{
	char buf[160], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", filter);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		int found = 0;

		if (!eq)
			continue;
		*eq = 0;
		for (unsigned k = 0; k < r->nfields; k++) {
			const struct bench_field *x = &r->f[k];

			if (strcmp(x->key, t))
				continue;
			found = x->kind == BF_STR ? !strcmp(x->str, eq + 1)
						  : x->num == atof(eq + 1);
		}
		if (!found)
			return 0;
	}
	return 1;
}

static void series_of(struct svg_series *s, const char *label,
		      const char *group, const char *filter,
		      const char *xkey, const char *ykey)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->label, sizeof(s->label), "%s", label);
	for (unsigned i = 0; i < bench_nrecs() && s->n < SVG_MAX_POINTS; i++) {
		const struct bench_rec *r = bench_rec_at(i);
		double x, y;

		if (strcmp(r->group, group) || !rec_matches(r, filter))
			continue;
		x = bench_rec_get(r, xkey);
		y = bench_rec_get(r, ykey);
		if (!isfinite(x) || !isfinite(y) || x <= 0 || y <= 0)
			continue;
		s->x[s->n] = x;
		s->y[s->n] = y;
		s->n++;
	}
}

static int plot_conversion(const char *dir)
{
	struct svg_series s[4];

	series_of(&s[0], "libgmem PRESERVE", "conversion",
		  "mode=PRESERVE,populated=1,direction=to-shared", "size", "gmem");
	series_of(&s[1], "two-backing PRESERVE", "conversion",
		  "mode=PRESERVE,populated=1,direction=to-shared", "size", "two_backing");
	series_of(&s[2], "libgmem ZERO", "conversion",
		  "mode=ZERO,populated=1,direction=to-shared", "size", "gmem");
	series_of(&s[3], "two-backing ZERO", "conversion",
		  "mode=ZERO,populated=1,direction=to-shared", "size", "two_backing");
	return svg_plot(dir, "conversion.svg",
			"Conversion to shared of a populated range + host touch",
			"range size (bytes)", "time (us)", true, s, 4);
}

static int plot_speedup(const char *dir)
{
	struct svg_series s[4];

	series_of(&s[0], "PRESERVE to-shared", "conversion",
		  "mode=PRESERVE,populated=1,direction=to-shared", "size", "speedup");
	series_of(&s[1], "PRESERVE to-private", "conversion",
		  "mode=PRESERVE,populated=1,direction=to-private", "size", "speedup");
	series_of(&s[2], "ZERO to-shared", "conversion",
		  "mode=ZERO,populated=1,direction=to-shared", "size", "speedup");
	series_of(&s[3], "ZERO to-private", "conversion",
		  "mode=ZERO,populated=1,direction=to-private", "size", "speedup");
	return svg_plot(dir, "speedup.svg",
			"Speedup over two-backing (populated, incl. the touch)",
			"range size (bytes)", "two-backing time / libgmem time",
			true, s, 4);
}

static int plot_attrs(const char *dir)
{
	struct svg_series s[4];

	series_of(&s[0], "rangeset lookup", "attrs", "", "ranges", "lookup");
	series_of(&s[1], "bitmap lookup", "attrs", "", "ranges", "bitmap_lookup");
	series_of(&s[2], "array lookup", "attrs", "", "ranges", "array_lookup");
	series_of(&s[3], "conversion bookkeeping", "attrs", "", "ranges",
		  "bookkeeping");
	return svg_plot(dir, "attrs.svg",
			"Attribute store, 1 TiB guest: random lookup and bookkeeping",
			"ranges", "ns per operation", true, s, 4);
}

static int plot_attrs_memory(const char *dir)
{
	struct svg_series s[3];

	series_of(&s[0], "rangeset", "attrs", "", "ranges", "bytes");
	series_of(&s[1], "per-page bitmap", "attrs", "", "ranges", "bitmap_bytes");
	series_of(&s[2], "per-page array", "attrs", "", "ranges", "array_bytes");
	return svg_plot(dir, "attrs_memory.svg",
			"Attribute store memory, 1 TiB guest",
			"ranges", "bytes", true, s, 3);
}

int bench_write_svgs(const char *dir)
{
	int ret = plot_conversion(dir);

	if (!ret)
		ret = plot_speedup(dir);
	if (!ret)
		ret = plot_attrs(dir);
	if (!ret)
		ret = plot_attrs_memory(dir);
	return ret;
}

/* ---- summary ----------------------------------------------------------- */

void bench_write_summary(FILE *f)
{
	unsigned met = 0, measured = 0;

	fputs("\ntargets (DESIGN.md section 5):\n", f);
	for (unsigned i = 0; i < bench_ntargets(); i++) {
		const struct bench_target *t = bench_target_at(i);

		fprintf(f, "  %-5s %s\n        wanted %s, measured %s\n",
			t->met < 0 ? "n/a" : t->met ? "MET" : "MISS", t->name,
			t->want, t->got);
		measured += t->met >= 0;
		met += t->met > 0;
	}
	fprintf(f, "%u of %u measured targets met\n", met, measured);
}
