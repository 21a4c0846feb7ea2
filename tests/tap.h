/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP helpers in the spirit of the KVM selftests.
 *
 *   plan(n) / plan_lazy(): print the plan (lazy: printed by done()).
 *   ok(cond, fmt...): one test point.
 *   TEST_ASSERT(cond, fmt...): fatal check with file:line and errno.
 *   TEST_REQUIRE(cond, fmt...): SKIP the whole program (exit 77).
 *   done(): prints the plan if lazy, exits 0 if all passed, else 1.
 * Exit codes: 0 pass, 1 fail, 77 skip (tests/run-test turns 77 into a TAP
 * skip for prove).
 */
#ifndef GMEM_TAP_H
#define GMEM_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed, tap_lazy;

static inline void plan(int n) { printf("1..%d\n", n); fflush(stdout); }
static inline void plan_lazy(void) { tap_lazy = 1; }

static inline __attribute__((format(printf, 2, 3)))
int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline __attribute__((format(printf, 1, 2)))
void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int done(void)
{
	if (tap_lazy)
		printf("1..%d\n", tap_n);
	fflush(stdout);
	exit(tap_failed ? 1 : 0);
}

#define TEST_ASSERT(cond, ...) do {					\
	if (!(cond)) {							\
		int e__ = errno;					\
		printf("not ok %d - %s:%d: assertion '%s' failed: ",	\
		       ++tap_n, __FILE__, __LINE__, #cond);		\
		printf(__VA_ARGS__);					\
		printf(" (errno %d: %s)\n", e__, strerror(e__));	\
		if (tap_lazy)						\
			printf("1..%d\n", tap_n);			\
		fflush(stdout);						\
		exit(1);						\
	}								\
} while (0)

#define TEST_REQUIRE(cond, ...) do {					\
	if (!(cond)) {							\
		printf("1..0 # SKIP ");					\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		fflush(stdout);						\
		exit(77);						\
	}								\
} while (0)

/* ok() for "call returned expected errno": shows both on failure. */
#define ok_ret(got, want, ...) do {					\
	long g__ = (long)(got), w__ = (long)(want);			\
	if (!ok(g__ == w__, __VA_ARGS__))				\
		diag("  %s:%d: got %ld (%s), want %ld (%s)", __FILE__,	\
		     __LINE__, g__, g__ < 0 ? strerror((int)-g__) : "",	\
		     w__, w__ < 0 ? strerror((int)-w__) : "");		\
} while (0)

#endif
