/* SPDX-License-Identifier: MIT */
/* Hand-written SVG line plots (no dependencies). */
#ifndef BENCH_SVG_H
#define BENCH_SVG_H

#include <stdbool.h>

#define SVG_MAX_POINTS 32

struct svg_series {
	char label[48];
	unsigned n;
	double x[SVG_MAX_POINTS], y[SVG_MAX_POINTS];
};

/* Write dir/name: one line per series with points, log-scaled x always
 * and y when logy.  Returns 0 or -errno. */
int svg_plot(const char *dir, const char *name, const char *title,
	     const char *xlabel, const char *ylabel, bool logy,
	     const struct svg_series *s, unsigned ns);

#endif
