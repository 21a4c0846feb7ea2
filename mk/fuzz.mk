# SPDX-License-Identifier: MIT
# Fuzzing with libFuzzer (clang, -fsanitize=fuzzer,address,undefined), and
# the reliability figures (docs/reliability.md).
#
#   make fuzz [FUZZ_TIME=30] [FUZZ_TARGETS="fuzz_api ..."]
#       build the library with clang and the sanitizers (coverage on), then
#       run each target for FUZZ_TIME seconds from its seed corpus
#       (fuzz/corpus/<target>/; new inputs go to $(FUZZ_OUT)/corpus/).
#       Any crash, leak or divergence fails; the input is kept in
#       $(FUZZ_OUT)/artifacts/.  Needs libclang-rt-14-dev (Debian).
#   make fuzz-regress
#       run each target once over its seed corpus (the regression inputs).
#   make fuzz-merge
#       add to fuzz/corpus/<target>/ the inputs of past runs that reach
#       code the corpus does not (libFuzzer -merge=1): they become
#       regression inputs once committed.
#   make fuzz-coverage
#       line and region coverage of the library (src/) and the scenario
#       interpreter reached by the fuzz corpora (clang source coverage:
#       llvm-profdata, llvm-cov); report in $(FUZZ_COVDIR)/coverage.txt.
#   make reliability [FUZZ_TIME=30]
#       fault injection, stress, fuzzing and valgrind, then rewrite the
#       figures in docs/reliability.md.

FUZZ_TIME    ?= 30
FUZZ_CC      ?= clang
FUZZ_SAN     := fuzzer-no-link,address,undefined
# The sanitized library comes from this Makefile run with these settings.
FUZZ_LIBDIR  := build-$(subst $(comma),-,$(FUZZ_SAN))
FUZZ_OUT     ?= build-fuzz
FUZZ_ALL     := fuzz_api fuzz_cpuid fuzz_sev fuzz_ovmf fuzz_tdx fuzz_follow fuzz_memslot $(if $(SCN_SRC),fuzz_scenario)
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_CFLAGS  := -std=gnu11 $(WARN) -O1 -g -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-D_GNU_SOURCE -Iinclude -Isrc -Itests -Itools/gmemctl
FUZZ_MAXLEN_fuzz_api      := 512
FUZZ_MAXLEN_fuzz_cpuid    := 3088
FUZZ_MAXLEN_fuzz_ovmf     := 16384
FUZZ_MAXLEN_fuzz_scenario := 4096
FUZZ_MAXLEN_fuzz_tdx      := 1024
FUZZ_MAXLEN_fuzz_follow   := 1024
# The shim's TDX struct checks, compiled into the target.
FUZZ_EXTRA_fuzz_tdx       := compat/tdx_params.c
# The shim's memslot rules for its own guest_memfds.
FUZZ_MAXLEN_fuzz_memslot  := 1024
FUZZ_EXTRA_fuzz_memslot   := compat/memslot_check.c
# The shim's CPUID policy of the SEV-SNP launch (compat/sev_cpuid.c).
FUZZ_MAXLEN_fuzz_sev      := 4096
FUZZ_EXTRA_fuzz_sev       := $(FUZZ_LIBDIR)/obj/compat/sev_cpuid.o
# The scenario interpreter (SCN_SRC, tools/gmemctl/scenario/*.c).
FUZZ_EXTRA_fuzz_scenario  := $(SCN_SRC:%.c=$(FUZZ_LIBDIR)/obj/%.o)

# The test programs that include the shared invariants rebuild with them.
$(BUILD)/tests/fault_inject $(BUILD)/tests/stress: tests/invariants.h

FUZZ_COVDIR  := build-fuzzcov
FUZZ_COV_SCN := $(SCN_SRC:%.c=$(FUZZ_COVDIR)/obj/%.o)
FUZZ_COVFLAGS := -fprofile-instr-generate -fcoverage-mapping
LLVM_PROFDATA ?= $(firstword $(shell command -v llvm-profdata-14 llvm-profdata 2>/dev/null))
LLVM_COV      ?= $(firstword $(shell command -v llvm-cov-14 llvm-cov 2>/dev/null))

.PHONY: fuzz fuzz-build fuzz-regress fuzz-merge fuzz-lib fuzz-coverage reliability

ifneq ($(BUILD),$(FUZZ_LIBDIR))
fuzz-lib:
	$(MAKE) --no-print-directory CC=$(FUZZ_CC) SANITIZE=$(FUZZ_SAN) \
		$(FUZZ_LIBDIR)/libgmem.a \
		$(if $(filter fuzz_scenario,$(FUZZ_TARGETS)),$(FUZZ_EXTRA_fuzz_scenario)) \
		$(if $(filter fuzz_sev,$(FUZZ_TARGETS)),$(FUZZ_EXTRA_fuzz_sev))

$(FUZZ_OUT)/bin/%: fuzz/%.c fuzz/fuzz.h tests/invariants.h compat/tdx_params.c compat/tdx_params.h \
		compat/memslot_check.c compat/compat.h fuzz-lib
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_EXTRA_$*) \
		$(FUZZ_LIBDIR)/libgmem.a $(CRYPTO_LIBS) -lpthread -lm

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_OUT)/bin/%)

# One run per target; the summary lines feed docs/reliability.md.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_OUT)/artifacts $(FUZZ_OUT)/logs
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_OUT)/corpus/$$t; \
		echo "== $$t for $(FUZZ_TIME) s"; \
		ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(FUZZ_OUT)/bin/$$t -max_total_time=$(FUZZ_TIME) -timeout=20 \
			-rss_limit_mb=2048 -handle_bus=0 -print_final_stats=1 \
			$$([ $$t = fuzz_api ] && echo -len_control=0) \
			-max_len=$$(case $$t in fuzz_api) echo $(FUZZ_MAXLEN_fuzz_api);; \
				fuzz_cpuid) echo $(FUZZ_MAXLEN_fuzz_cpuid);; \
				fuzz_ovmf) echo $(FUZZ_MAXLEN_fuzz_ovmf);; \
				fuzz_tdx) echo $(FUZZ_MAXLEN_fuzz_tdx);; \
				fuzz_sev) echo $(FUZZ_MAXLEN_fuzz_sev);; \
				fuzz_follow) echo $(FUZZ_MAXLEN_fuzz_follow);; \
				fuzz_memslot) echo $(FUZZ_MAXLEN_fuzz_memslot);; \
				*) echo $(FUZZ_MAXLEN_fuzz_scenario);; esac) \
			-artifact_prefix=$(FUZZ_OUT)/artifacts/$$t- \
			$(FUZZ_OUT)/corpus/$$t fuzz/corpus/$$t \
			> $(FUZZ_OUT)/logs/$$t.log 2>&1 || \
			{ tail -40 $(FUZZ_OUT)/logs/$$t.log; \
			  echo "$$t: FAILED (input in $(FUZZ_OUT)/artifacts/)"; exit 1; }; \
		grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units' \
			$(FUZZ_OUT)/logs/$$t.log | tr '\n' ' '; echo; \
	done

# Every seed (and every input a past run found) once: a regression run.
fuzz-regress: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t over fuzz/corpus/$$t"; \
		ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(FUZZ_OUT)/bin/$$t -runs=0 -handle_bus=0 fuzz/corpus/$$t 2>&1 | tail -1; \
	done

fuzz-merge: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_OUT)/corpus/$$t; \
		ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1 \
		$(FUZZ_OUT)/bin/$$t -merge=1 -handle_bus=0 fuzz/corpus/$$t \
			$(FUZZ_OUT)/corpus/$$t 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true; \
	done

# The corpora (seeds and what past runs found) replayed once through
# binaries built for source coverage instead of the sanitizers.
fuzz-coverage:
	$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=$(FUZZ_COVDIR) \
		SANFLAGS="$(FUZZ_COVFLAGS)" $(FUZZ_COVDIR)/libgmem.a \
		$(FUZZ_COV_SCN)
	@mkdir -p $(FUZZ_COVDIR)/bin $(FUZZ_COVDIR)/prof
	@rm -f $(FUZZ_COVDIR)/prof/*.profraw
	@set -e; for t in $(FUZZ_TARGETS); do \
		$(FUZZ_CC) $(subst $(comma)address$(comma)undefined,,$(FUZZ_CFLAGS)) \
			$(FUZZ_COVFLAGS) -o $(FUZZ_COVDIR)/bin/$$t fuzz/$$t.c \
			$$([ $$t = fuzz_scenario ] && echo $(FUZZ_COV_SCN)) \
			$$([ $$t = fuzz_tdx ] && echo $(FUZZ_EXTRA_fuzz_tdx)) \
			$$([ $$t = fuzz_memslot ] && echo $(FUZZ_EXTRA_fuzz_memslot)) \
			$(FUZZ_COVDIR)/libgmem.a $(CRYPTO_LIBS) -lpthread -lm; \
		mkdir -p $(FUZZ_OUT)/corpus/$$t; \
		LLVM_PROFILE_FILE=$(FUZZ_COVDIR)/prof/$$t.profraw \
			$(FUZZ_COVDIR)/bin/$$t -runs=0 -handle_bus=0 \
			fuzz/corpus/$$t $(FUZZ_OUT)/corpus/$$t > $(FUZZ_COVDIR)/$$t.log 2>&1; \
	done
	$(LLVM_PROFDATA) merge -sparse -o $(FUZZ_COVDIR)/all.profdata \
		$(FUZZ_COVDIR)/prof/*.profraw
	$(LLVM_COV) report $(FUZZ_COVDIR)/bin/$(firstword $(FUZZ_TARGETS)) \
		$(patsubst %,-object $(FUZZ_COVDIR)/bin/%,$(wordlist 2,9,$(FUZZ_TARGETS))) \
		-instr-profile=$(FUZZ_COVDIR)/all.profdata \
		$(abspath src) $(abspath tools/gmemctl/scenario) \
		| tee $(FUZZ_COVDIR)/coverage.txt | tail -1

reliability: all
	FUZZ_TIME=$(FUZZ_TIME) MAKE="$(MAKE)" BUILD=$(BUILD) FUZZ_OUT=$(FUZZ_OUT) \
		sh fuzz/reliability.sh docs/reliability.md
endif
