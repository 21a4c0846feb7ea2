/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the scenario language of `gmemctl run`
 * (tools/gmemctl/scenario.h), through its buffer entry point.  Whatever
 * the script, the interpreter must return SCENARIO_OK, _FAILED or _SYNTAX
 * without crashing, leaking or tripping the sanitizers, and a script that
 * does not parse must not run anything (checked by running it twice: the
 * answer is the same).
 */
#include <stdio.h>
#include <stdlib.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("GMEM_BACKEND", getenv("FUZZ_BACKEND") ? getenv("FUZZ_BACKEND")
						      : "emulated", 1);
	setenv("GMEM_SCRAMBLE_SEED", "1", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = scenario_run_buffer((const char *)data, size, "fuzz");

	if (r != SCENARIO_OK && r != SCENARIO_FAILED && r != SCENARIO_SYNTAX) {
		fprintf(stderr, "fuzz_scenario: result %d\n", r);
		abort();
	}
	if (r == SCENARIO_SYNTAX &&
	    scenario_run_buffer((const char *)data, size, "fuzz") != r) {
		fprintf(stderr, "fuzz_scenario: a malformed script answered differently twice\n");
		abort();
	}
	return 0;
}
