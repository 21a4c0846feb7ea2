# SPDX-License-Identifier: MIT
# valgrind memcheck over the test programs: no invalid access, no use of
# uninitialised memory and no leak (definite, indirect or possible) may
# remain (file descriptors: tests/fault_inject counts them).
#
#   make valgrind [VALGRIND_TESTS="build/tests/a build/tests/b"]
#
# Left out (VALGRIND_SKIP): programs that check the kernel's own mapping
# limits — exact VMA counts and merging, 65,530 mappings, a 1 TiB file —
# which valgrind's address-space manager changes or cannot hold
# ("VG_N_SEGMENTS is too low"); and the model test, whose floor of 100,000
# operations in all does not follow GMEM_MODEL_OPS (at the default 8,000
# it takes many minutes under valgrind); and the threads test, whose
# progress checks (the host reaches a shared page while conversions run)
# do not hold when valgrind runs one thread at a time.  GMEM_VALGRIND=1 is set for the
# programs, so that such checks can skip themselves and the program come
# back in.
#
# Two programs at a time, each through tests/run-test like `make check`
# (per-test timeout, exit 77 = SKIP), logs in $(BUILD)/valgrind/; valgrind's
# exit code 99 marks a program with errors.  The fault injection
# and stress programs run their quick forms (GMEM_FI_QUICK=1,
# GMEM_STRESS_TIME=1): valgrind serialises threads, and the point here is
# the memory discipline, not the coverage the native runs give; so does
# the model test (GMEM_MODEL_OPS=300).

VALGRIND       ?= valgrind
VALGRIND_SKIP  ?= core_hostview core_lifecycle core_model core_threads
VALGRIND_TESTS ?= $(filter-out $(VALGRIND_SKIP:%=$(BUILD)/tests/%),$(TESTS))
VALGRIND_FLAGS := --tool=memcheck --error-exitcode=99 --leak-check=full \
		  --show-leak-kinds=definite,indirect,possible \
		  --errors-for-leak-kinds=definite,indirect,possible \
		  --track-fds=no --num-callers=30 --quiet \
		  --suppressions=$(CURDIR)/mk/valgrind.supp

.PHONY: valgrind
valgrind: all
	@command -v $(VALGRIND) >/dev/null || \
		{ echo "valgrind not found: apt-get install valgrind"; exit 1; }
	GMEM_VALGRIND=1 GMEM_FI_QUICK=1 GMEM_STRESS_TIME=1 GMEM_MODEL_OPS=300 \
	GMEM_TEST_TIMEOUT=900 \
	GMEMCTL=$(abspath $(GMEMCTL)) GMEM_BUILD=$(abspath $(BUILD)) \
	sh mk/valgrind.sh $(BUILD)/valgrind $(VALGRIND) $(VALGRIND_FLAGS) -- \
		$(VALGRIND_TESTS)
