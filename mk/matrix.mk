# SPDX-License-Identifier: MIT
# make check-matrix: the project's build, made once here, run inside a
# matrix of kernels under QEMU with TCG (tests/kernel/matrix.t): Debian 12's
# own kernel (no guest_memfd), the series kernel (in-place conversion), and
# the series kernel with the conversion turned off (mmap-able guest_memfd
# without it, as Linux 6.18).  Each guest mounts this host's root read-only
# over 9p (with an overlay on tmpfs) and runs, from this checkout, gmemctl
# probe, tests/compat.t, tests/series_selftests.t and tests/qemu_snp.t.
# One TAP point per kernel and part; a kernel that cannot be had SKIPs with
# the reason.  Consoles in $(MATRIX_DIR)/<kernel>.log.
#   make check-matrix [MATRIX_KERNELS=...] [MATRIX_PARTS="probe compat"]
#                     [SERIES_TREE=dir] [SERIES_KERNEL=path/to/bzImage]

# The matrix, one kernel per word: name=image:kernel-arguments:default-backend.
# An image "apt:GLOB" is the newest Debian package of that name in apt's
# lists (apt-get download, kept in MATRIX_CACHE); the backend is the one
# gmemctl probe must choose there.
MATRIX_KERNELS ?= \
	debian-6.1=apt:linux-image-6.1.0-*-amd64::emulated \
	series=$(SERIES_KERNEL)::native \
	series-noconv=$(SERIES_KERNEL):kvm.gmem_in_place_conversion=0:kvm
# What a packaged kernel loads from its initramfs (with their dependencies;
# what its config builds in is left out): KVM on TCG's AMD SVM (kvm_intel
# does not load under TCG), and 9p over virtio-pci and overlayfs for the
# host's root.
MATRIX_MODULES ?= irqbypass ccp kvm kvm_amd virtio virtio_ring virtio_pci \
	netfs 9pnet 9pnet_virtio 9p overlay
MATRIX_PARTS   ?= probe demo compat selftests qemu
MATRIX_DIR     ?= $(BUILD_BASE)/matrix
MATRIX_CACHE   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/libgmem
MATRIX_TIMEOUT ?= 5400

.PHONY: check-matrix
check-matrix:
	$(MAKE) SANITIZE= all
	GMEM_MATRIX_KERNELS="$(strip $(MATRIX_KERNELS))" \
	GMEM_MATRIX_MODULES="$(strip $(MATRIX_MODULES))" \
	GMEM_MATRIX_PARTS="$(strip $(MATRIX_PARTS))" \
	GMEM_MATRIX_DIR=$(abspath $(MATRIX_DIR)) GMEM_MATRIX_CACHE=$(MATRIX_CACHE) \
	GMEM_MATRIX_TIMEOUT=$(MATRIX_TIMEOUT) GMEM_BUILD=$(abspath $(BUILD_BASE)) \
	SERIES_TREE="$(SERIES_TREE)" \
	GMEM_MAKE_ARGS="CC=$(CC) BUILD=$(BUILD_BASE)" GMEM_CC="$(CC)" \
	prove -v tests/kernel/matrix.t
