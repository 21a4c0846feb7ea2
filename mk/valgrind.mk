# SPDX-License-Identifier: MIT
# valgrind memcheck over the test programs: no invalid access, no use of
# uninitialised memory, no leak (definite, indirect or possible) and no
# unclosed file descriptor may remain.
#
#   make valgrind [VALGRIND_TESTS="build/tests/a build/tests/b"]
#
# Runs through prove like `make check` (per-test timeout, exit 77 = SKIP);
# valgrind's exit code 99 marks a test with errors.  The fault injection
# and stress programs run their quick forms (GMEM_FI_QUICK=1,
# GMEM_STRESS_TIME=1): valgrind serialises threads, and the point here is
# the memory discipline, not the coverage the native runs give.

VALGRIND       ?= valgrind
VALGRIND_TESTS ?= $(TESTS)
VALGRIND_FLAGS := --tool=memcheck --error-exitcode=99 --leak-check=full \
		  --show-leak-kinds=definite,indirect,possible \
		  --errors-for-leak-kinds=definite,indirect,possible \
		  --track-fds=no --num-callers=30 --quiet \
		  --suppressions=$(CURDIR)/mk/valgrind.supp

.PHONY: valgrind
valgrind: all
	@command -v $(VALGRIND) >/dev/null || \
		{ echo "valgrind not found: apt-get install valgrind"; exit 1; }
	GMEM_FI_QUICK=1 GMEM_STRESS_TIME=1 GMEM_TEST_TIMEOUT=900 \
	GMEMCTL=$(abspath $(GMEMCTL)) GMEM_BUILD=$(abspath $(BUILD)) \
	prove --exec "$(CURDIR)/tests/run-test $(VALGRIND) $(VALGRIND_FLAGS)" \
		-j$(PROVE_JOBS) $(VALGRIND_TESTS)
