#!/bin/sh
# SPDX-License-Identifier: MIT
# The MRTD prediction against a launch: tests/launch/tdvf_launch.c launches
# a TDVF image as QEMU does, in raw KVM ioctls, through the installed
# libgmem-compat.so, whose log ends with the TD's MRTD (GMEM_COMPAT_LOG,
# "tdx: MRTD ..."); it must equal `gmemctl measure tdx` for the same image:
# the synthetic TDVF of tests/tdx_measure and Debian's OVMF.fd.  SKIP when
# <gmem/uapi.h> has no TDX launch uAPI, without KVM (no /dev/kvm, or not
# KVM), under sanitizers.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${GMEM_BUILD:-$top/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ovmf=/usr/share/ovmf/OVMF.fd

. "$(dirname "$0")/tap.sh"
require_kvm
[ -z "${GMEM_SANFLAGS:-}" ] ||
	skip_all "the launcher does not run with a sanitized shim preloaded ($GMEM_SANFLAGS)"
${GMEM_CC:-cc} -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$top/include" \
	-o "$tmp/tdvf_launch" "$top/tests/launch/tdvf_launch.c" >"$tmp/cc.log" 2>&1 ||
	{ echo "1..1"; echo "not ok 1 - tests/launch/tdvf_launch.c builds"; sed 's/^/# /' "$tmp/cc.log"; exit 1; }
# An image without TDVF fails (1), unless there is no uAPI to launch with (77).
"$tmp/tdvf_launch" /dev/null >/dev/null 2>&1
[ $? -eq 77 ] &&
	skip_all "<gmem/uapi.h> has no TDX launch uAPI (libgmem-compat without KVM_X86_TDX_VM)"

# shellcheck disable=SC2086
make -s -C "$top" install PREFIX="$tmp/usr" ${GMEM_MAKE_ARGS:-} >"$tmp/install.log" 2>&1 ||
	{ echo "1..1"; echo "not ok 1 - make install"; sed 's/^/# /' "$tmp/install.log"; exit 1; }


"$build/tests/tdx_measure" --write-image "$tmp/tdvf.fd" || exit 1
for img in "$tmp/tdvf.fd" "$ovmf"; do
	[ -r "$img" ] || { skip "$img missing (Debian package ovmf)"; continue; }
	rm -f "$tmp/log"
	GMEM_COMPAT_POLICY=upstream GMEM_COMPAT_LOG="$tmp/log" \
		LD_PRELOAD="$tmp/usr/lib/libgmem-compat.so" \
		timeout 120 "$tmp/tdvf_launch" "$img" >"$tmp/out" 2>&1
	rc=$?
	got=$(sed -n 's/^tdx: MRTD \([0-9a-f]\{96\}\)$/\1/p' "$tmp/log" 2>/dev/null | tail -1)
	want=$("$tmp/usr/bin/gmemctl" measure tdx --tdvf "$img" 2>&1)
	[ $rc -eq 0 ] && [ -n "$got" ] && [ "$got" = "$want" ]
	t $? "$(basename "$img"): the launch's MRTD ${got:-missing} = gmemctl measure tdx"
	[ $rc -eq 0 ] && [ -n "$got" ] && [ "$got" = "$want" ] ||
		{ echo "# predicted $want (launcher exit $rc)"; sed 's/^/# /' "$tmp/out"; }
done
echo "1..$n"
