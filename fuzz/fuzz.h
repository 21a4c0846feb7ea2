/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets here share: the entry point's prototype and
 * FAIL(), which reports a broken invariant with the target's name and
 * aborts, so that libFuzzer keeps the input that broke it.
 */
#ifndef GMEM_FUZZ_H
#define GMEM_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do {							\
	fprintf(stderr, "%s: ", program_invocation_short_name);		\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)

#endif
