# SPDX-License-Identifier: MIT
# libgmem: plain Makefile.  See README.md.
#   make [CC=clang] [SANITIZE=address,undefined|thread] [BUILD=dir]
#   make check | check-kernel | check-matrix | demo | bench [QUICK=1] | install PREFIX=/usr/local | clean

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr/local
BUILD     ?= build
BUILD_BASE := $(BUILD)
CC        ?= cc
PKG_CONFIG ?= pkg-config

# Build a different tree per sanitizer so switching never mixes objects.
comma := ,
ifneq ($(SANITIZE),)
BUILD     := $(BUILD)-$(subst $(comma),-,$(SANITIZE))
SANFLAGS  := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif

CRYPTO_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcrypto 2>/dev/null)
CRYPTO_LIBS   = $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)

WARN     := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -Iinclude -Isrc $(CRYPTO_CFLAGS)
LDLIBS   = $(CRYPTO_LIBS) -lpthread

LIB_SRC  := $(sort $(wildcard src/*.c src/backend/*.c src/platform/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# The scenario interpreter (tools/gmemctl/scenario/) is part of gmemctl;
# the fuzz target links it alone (mk/fuzz.mk).
SCN_SRC  := $(sort $(wildcard tools/gmemctl/scenario/*.c))
CTL_SRC  := $(sort $(wildcard tools/gmemctl/*.c)) $(SCN_SRC)
CTL_OBJ  := $(CTL_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(wildcard tests/*.c))
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EX_SRC   := $(sort $(wildcard examples/*.c))
EXAMPLES := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BASE := $(sort $(wildcard bench/baselines/*.c))
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
DEPS_OK  := $(BUILD)/.deps-ok

STATIC   := $(BUILD)/libgmem.a
SHARED   := $(BUILD)/libgmem.so.$(VERSION)
GMEMCTL  := $(BUILD)/gmemctl

.PHONY: all check demo bench install clean deps examples fuzz
all: $(STATIC) $(BUILD)/libgmem.so $(GMEMCTL) $(TESTS) $(EXAMPLES)

# Parts with their own rules (benchmarks, fuzzing, the compat shim) live in
# mk/*.mk; they may add to ALL_EXTRA (built by `all`) and CHECK_EXTRA.
ALL_EXTRA :=
CHECK_EXTRA :=
include $(sort $(wildcard mk/*.mk))
all: $(ALL_EXTRA)

# A fresh machine: install (as root) or name what is missing, then build.
$(DEPS_OK): scripts/deps.sh
	@sh scripts/deps.sh
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_OK)

$(BUILD)/obj/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(STATIC): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(SHARED): $(LIB_OBJ) src/libgmem.map
	$(CC) $(SANFLAGS) -shared -Wl,-soname,libgmem.so.$(SOVERSION) \
		-Wl,--version-script=src/libgmem.map -Wl,-z,defs -o $@ $(LIB_OBJ) $(LDLIBS)

$(BUILD)/libgmem.so: $(SHARED)
	ln -sf libgmem.so.$(VERSION) $(BUILD)/libgmem.so.$(SOVERSION)
	ln -sf libgmem.so.$(VERSION) $@

$(GMEMCTL): $(CTL_OBJ) $(STATIC)
	$(CC) $(SANFLAGS) -o $@ $(CTL_OBJ) $(STATIC) $(LDLIBS) -lm

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(STATIC) $(LDLIBS) -lm

$(BUILD)/examples/%: examples/%.c $(wildcard examples/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BENCH_BASE) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ibench -o $@ $< $(BENCH_BASE) $(STATIC) $(LDLIBS) -lm

examples: $(EXAMPLES)

# The README's test command.  Each test binary is one TAP producer run by
# prove through tests/run-test (per-test timeout, exit 77 = SKIP).
PROVE_JOBS ?= 2
check: all $(CHECK_EXTRA)
	GMEMCTL=$(abspath $(GMEMCTL)) GMEM_BUILD=$(abspath $(BUILD)) \
	GMEM_MAKE_ARGS="CC=$(CC) BUILD=$(BUILD_BASE) SANITIZE=$(SANITIZE)" \
	GMEM_CC="$(CC)" GMEM_SANFLAGS="$(SANFLAGS)" \
	prove --exec "$(CURDIR)/tests/run-test" -j$(PROVE_JOBS) $(TESTS) tests/*.t

# Examples written against the kernel uAPI alone (no libgmem) run with
# libgmem-compat preloaded, its log on stderr.
# name:policy (the revision of the series the example is written for: the
# SEV-SNP CPUID flow uses RFC v5's PRESERVE, the TD launch v8's in-place
# population).
UAPI_EXAMPLES := snp_uapi:seed tdx_launch:upstream
demo: all
	$(GMEMCTL) probe
	@if $(GMEMCTL) help demo >/dev/null 2>&1; then $(GMEMCTL) demo; fi
	@for e in $(EXAMPLES); do echo "== $$e"; \
		pol=$$(for u in $(UAPI_EXAMPLES); do \
			[ "$${u%%:*}" = "$$(basename $$e)" ] && echo "$${u#*:}"; done); \
		if [ -n "$$pol" ]; then GMEM_COMPAT_POLICY=$$pol GMEM_COMPAT_LOG=/dev/stderr \
			LD_PRELOAD=$(abspath $(COMPAT_SO)) $$e || exit 1; \
		else $$e || exit 1; fi; done

bench: all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; QUICK=$(QUICK) $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/include/gmem $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 644 include/gmem/*.h $(DESTDIR)$(PREFIX)/include/gmem/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libgmem.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libgmem.so.$(SOVERSION)
	ln -sf libgmem.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libgmem.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@CRYPTO_LIBS@|$(CRYPTO_LIBS)|' gmem.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/gmem.pc
	install -m 755 $(GMEMCTL) $(DESTDIR)$(PREFIX)/bin/
	for m in man/*.[137]; do \
		s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done

clean:
	rm -rf build build-*

-include $(LIB_OBJ:.o=.d) $(CTL_OBJ:.o=.d)
