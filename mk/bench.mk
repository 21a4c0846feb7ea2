# SPDX-License-Identifier: MIT
# Benchmarks (DESIGN.md §5, bench/README in docs/performance/).
#
# The suite (bench/suite/*.c) and the baselines (bench/baselines/*.c) make
# one archive that both the bench driver (bench/gmem_bench.c) and gmemctl
# (`gmemctl bench`) link, so both run the very same code.
#
#   make bench-run [QUICK=1]   run the suite: build/bench.json, and the
#                              Markdown table and SVG plots (into
#                              docs/performance/ after a full run, into
#                              $(BUILD)/bench/report/ after a quick one)

BENCH_LIB_SRC := $(sort $(wildcard bench/suite/*.c bench/baselines/*.c))
BENCH_LIB_OBJ := $(BENCH_LIB_SRC:%.c=$(BUILD)/obj/%.o)
BENCH_LIB     := $(BUILD)/bench/libgmembench.a
BENCH_LDLIBS   = $(BENCH_LIB) $(STATIC) $(CRYPTO_LIBS) -lpthread -lm

$(BENCH_LIB_OBJ) $(BUILD)/obj/tools/gmemctl/cmd_bench.o: ALL_CFLAGS += -Ibench

$(BENCH_LIB): $(BENCH_LIB_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

# Link the suite into the bench binaries and into gmemctl.
$(BENCHES) $(GMEMCTL): $(BENCH_LIB)
$(BENCHES) $(GMEMCTL): LDLIBS = $(BENCH_LDLIBS)

ALL_EXTRA += $(BENCHES)

BENCH_DOCS = $(if $(QUICK),$(BUILD)/bench/report,docs/performance)

.PHONY: bench-run
bench-run: all $(BENCHES)
	$(BUILD)/bench/gmem_bench $(if $(QUICK),--quick) \
		--json $(BUILD)/bench.json --docs $(BENCH_DOCS)

-include $(BENCH_LIB_OBJ:.o=.d)
