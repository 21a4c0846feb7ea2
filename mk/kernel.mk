# SPDX-License-Identifier: MIT
# make check-kernel: the test programs, linked statically in their own tree
# (KBUILD), run inside the series kernel (Linux with the in-place conversion
# series v8) booted under QEMU with TCG; tests/kernel/kernel.t packs them into
# an initramfs, boots SERIES_KERNEL and reports one TAP line per program.
# SKIPs with the reason where QEMU, busybox-static or the image is missing.
#   make check-kernel [SERIES_KERNEL=path/to/bzImage] [KBUILD=build-kernel]

KBUILD ?= build-kernel
# The prebuilt image beside the project (../shared from the main checkout,
# ../../shared from a worktree under wt/).
SERIES_KERNEL ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/series-kernel/bzImage) \
	$(abspath $(CURDIR)/../../shared/series-kernel/bzImage)) \
	$(abspath $(CURDIR)/../shared/series-kernel/bzImage))

# Guest-only programs (tests/kernel/*.c) need the kernel's in-place
# conversion; `make check` never runs them on the host.
KTEST_SRC := $(sort $(wildcard tests/kernel/*.c))
KTESTS    := $(KTEST_SRC:tests/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/kernel/%: tests/kernel/%.c $(wildcard tests/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(STATIC) $(LDLIBS) -lm

# The programs run in the guest: name=path-in-KBUILD[:ENV=VALUE,...].
# The core suite runs on the emulated and kvm backends as on the host;
# tests/kernel/ has the native backend's suite and the differential runs.
KERNEL_RUN ?= \
	gmemctl_probe=gmemctl.static:probe \
	native=tests/kernel/native \
	diff=tests/kernel/diff \
	core_lifecycle=tests/core_lifecycle \
	core_convert=tests/core_convert \
	core_hostview=tests/core_hostview \
	core_policy=tests/core_policy \
	core_model=tests/core_model:GMEM_MODEL_OPS=20000 \
	core_threads=tests/core_threads \
	fault_inject=tests/fault_inject \
	backend_diff=tests/backend_diff \
	backend_native=tests/backend_native \
	kvm_inplace=tests/kvm_inplace

KERNEL_PROGS = $(foreach r,$(KERNEL_RUN),$(firstword $(subst :, ,$(word 2,$(subst =, ,$(r))))))

.PHONY: check-kernel kernel-progs
kernel-progs: $(KTESTS) $(addprefix $(BUILD)/,$(KERNEL_PROGS))

# gmemctl's own link line takes no CFLAGS: a static one for the guest.
$(BUILD)/gmemctl.static: $(CTL_OBJ) $(STATIC) $(BENCH_LIB)
	$(CC) -static -o $@ $(CTL_OBJ) $(BENCH_LIB) $(STATIC) $(CRYPTO_LIBS) -lpthread -lm

check-kernel:
	$(MAKE) BUILD=$(KBUILD) SANITIZE= CFLAGS="$(CFLAGS) -static" kernel-progs
	GMEM_KBUILD=$(abspath $(KBUILD)) SERIES_KERNEL=$(SERIES_KERNEL) \
	GMEM_KTESTS="$(strip $(KERNEL_RUN))" \
	prove -v tests/kernel/kernel.t
