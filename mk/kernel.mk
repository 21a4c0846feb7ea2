# SPDX-License-Identifier: MIT
# make check-kernel: the test programs, linked statically in their own tree
# (KBUILD), run inside the series kernel (Linux with the in-place conversion
# series v8) booted under QEMU with TCG; tests/kernel/kernel.t packs them into
# an initramfs, boots SERIES_KERNEL and reports one TAP line per program.
# SKIPs with the reason where QEMU, busybox-static or the image is missing.
#   make check-kernel [SERIES_KERNEL=path/to/bzImage] [KBUILD=build-kernel]

KBUILD ?= build-kernel
# The prebuilt image beside the project (../shared from the main checkout,
# ../../../shared from a worktree under wt/).
SERIES_KERNEL ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/series-kernel/bzImage) \
	$(abspath $(CURDIR)/../../../shared/series-kernel/bzImage)) \
	$(abspath $(CURDIR)/../shared/series-kernel/bzImage))

# Guest-only programs (tests/kernel/*.c) need the kernel's in-place
# conversion; `make check` never runs them on the host.
KTEST_SRC := $(sort $(wildcard tests/kernel/*.c))
KTESTS    := $(KTEST_SRC:tests/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/kernel/%: tests/kernel/%.c $(wildcard tests/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(STATIC) $(LDLIBS) -lm

# Started by /init before the programs (see the file).
KHOLD := $(BUILD)/tests/kernel/helpers/hold_vm
$(KHOLD): tests/kernel/helpers/hold_vm.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $<

# The programs run in the guest: name=path-in-KBUILD[:ENV=VALUE,...].
# The core suite runs on the emulated and kvm backends as on the host;
# tests/kernel/ has the native backend's suite and the differential runs.
# The series kernel's config has no CONFIG_USERFAULTFD: host views use
# covers only there.
KERNEL_RUN ?= \
	gmemctl_probe=gmemctl.static:probe \
	native=tests/kernel/native \
	diff=tests/kernel/diff:GMEM_DIFF_SEEDS=100 \
	core_lifecycle=tests/core_lifecycle \
	core_convert=tests/core_convert \
	core_hostview=tests/core_hostview \
	core_policy=tests/core_policy \
	core_model=tests/core_model:GMEM_MODEL_OPS=300 \
	core_threads=tests/core_threads \
	fault_inject=tests/fault_inject:GMEM_FI_QUICK=1,kvm \
	backend_diff=tests/backend_diff \
	backend_native=tests/backend_native \
	kvm_inplace=tests/kvm_inplace \
	$(foreach p,$(KCOMPAT),~compat_$(p)=compat-progs/$(p):$(KCOMPAT_ENV) \
		~compat_$(p)_shim=compat-progs/$(p):$(KCOMPAT_ENV),LD_PRELOAD=/lib/libgmem-compat.so) \
	$(foreach r,$(KCOMPAT_ADDED),$(call kcompat_added,$(firstword $(subst :, ,$(r))),$(word 2,$(subst :, ,$(r)))))

# libgmem-compat inside the series kernel: the programs on a
# software-protected VM under the `upstream` table, natively and with the
# shim preloaded (it leaves the kernel's own VM type to it: the same
# output), and the native output (the transcript) equal to the shim's
# emulation on this host, whatever kernel generation the host is.
KCOMPAT_ENV := GMEM_COMPAT_VM_TYPE=1,GMEM_COMPAT_PLATFORM=sw_protected,GMEM_COMPAT_POLICY=upstream
KERNEL_SAME ?= $(foreach p,$(KCOMPAT),compat_$(p)=compat_$(p)_shim)
KERNEL_HOST_SHIM ?= compat_convert compat_caps compat_swprot

KERNEL_PROGS = $(filter-out compat-progs/%,$(foreach r,$(KERNEL_RUN),$(firstword $(subst :, ,$(word 2,$(subst =, ,$(r)))))))

# The uAPI-only programs of tests/compat/, linked dynamically so that the
# shim can be preloaded (the guest gets the loader and the libraries).
# convert is written for every revision's table; mmap, punch and threads use
# RFC v5's content flags, which v8 refuses (EINVAL), so they are not v8
# programs.  vmtypes fails natively (no SEV-SNP VM type there) and must fail
# the same with the shim preloaded: it stepped aside.
KCOMPAT := convert caps swprot
# What the shim adds on top of a kernel that converts in place: the VM
# types it lacks (SEV-SNP and TDX), with their launches.  Each must pass
# there with the shim (natively they fail: no such VM type).
# name[:ENV=VALUE,...]
KCOMPAT_ADDED := vmtypes:GMEM_COMPAT_POLICY=upstream snp_launch tdx:GMEM_COMPAT_POLICY=upstream
kcompat_added = compat_$(1)_shim=compat-progs/$(1):LD_PRELOAD=/lib/libgmem-compat.so$(if $(2),$(comma)$(2))
KCOMPAT_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -pthread -Iinclude -Itests
$(BUILD)/compat-progs/%: tests/compat/%.c tests/compat/uapi_test.h tests/tap.h include/gmem/uapi.h
	@mkdir -p $(@D)
	$(CC) $(KCOMPAT_CFLAGS) -o $@ $<

.PHONY: check-kernel kernel-progs
kernel-progs: $(KTESTS) $(KHOLD) $(addprefix $(BUILD)/,$(KERNEL_PROGS)) \
	$(KCOMPAT:%=$(BUILD)/compat-progs/%) \
	$(foreach r,$(KCOMPAT_ADDED),$(BUILD)/compat-progs/$(firstword $(subst :, ,$(r)))) \
	$(COMPAT_SO)

# gmemctl's own link line takes no CFLAGS: a static one for the guest.
$(BUILD)/gmemctl.static: $(CTL_OBJ) $(STATIC) $(BENCH_LIB)
	$(CC) -static -o $@ $(CTL_OBJ) $(BENCH_LIB) $(STATIC) $(CRYPTO_LIBS) -lpthread -lm

check-kernel:
	$(MAKE) BUILD=$(KBUILD) SANITIZE= CFLAGS="$(CFLAGS) -static" kernel-progs
	GMEM_KBUILD=$(abspath $(KBUILD)) SERIES_KERNEL=$(SERIES_KERNEL) \
	GMEM_KTESTS="$(strip $(KERNEL_RUN))" GMEM_KSAME="$(strip $(KERNEL_SAME))" \
	GMEM_KHOST_SHIM="$(strip $(KERNEL_HOST_SHIM))" \
	GMEM_KLIBS="$(abspath $(KBUILD))/libgmem-compat.so" \
	prove -v tests/kernel/kernel.t
