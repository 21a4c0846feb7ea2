#!/bin/sh
# SPDX-License-Identifier: MIT
# The series' own selftests, built unmodified from its tree, pass through
# libgmem-compat under the `upstream` policy (the series as of v8):
# tools/testing/selftests/kvm guest_memfd_test,
# x86/guest_memfd_conversions_test and x86/private_mem_kvm_exits_test.  Without the shim, on a kernel without
# the series, they fail at their first point: guest_memfd_test at
# "Memslot with out-of-range offset+size should fail", the conversions test
# at its first requirement (KVM_X86_SW_PROTECTED_VM in KVM_CAP_VM_TYPES).
#
# SERIES_TREE: the directory `series-kernel/build OUT --tree-only` made
# (OUT/linux-source-7.2 and the series' headers in OUT/build/usr/include);
# SKIP when it is not set or not there.  The selftests are built into
# $GMEM_BUILD/series-selftests (make rebuilds only what changed).
#
# Environment (set by make check): GMEM_BUILD, GMEM_SANFLAGS;
# GMEM_SERIES_BUILD_ONLY (below).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${GMEM_BUILD:-$top/build}
shim=$build/libgmem-compat.so
tree=${SERIES_TREE:-}
src=$tree/linux-source-7.2/tools/testing/selftests/kvm

. "$(dirname "$0")/tap.sh"

[ -n "$tree" ] || skip_all "SERIES_TREE is not set (series-kernel/build OUT --tree-only makes one)"
if [ ! -f "$src/guest_memfd_test.c" ] || [ ! -d "$tree/build/usr/include" ]; then
	skip_all "no series tree with its selftests and headers at $tree"
fi
case "${GMEM_SANFLAGS:-}" in
*-fsanitize=*) skip_all "the selftests are not built with the sanitizer; the shim is (needs a plain build)" ;;
esac
[ -f "$shim" ] || skip_all "$shim is not built"
# GMEM_SERIES_BUILD_ONLY=1: build them and stop (the kernel matrix builds
# them once on its host, then runs them inside each kernel).
build_only=${GMEM_SERIES_BUILD_ONLY:-}
[ -n "$build_only" ] || require_kvm

out=$build/series-selftests
mkdir -p "$out"
log=$(mktemp -d "${TMPDIR:-/tmp}/gmem-series.XXXXXX") || exit 1
trap 'rm -rf "$log"' EXIT

progs="guest_memfd_test x86/guest_memfd_conversions_test x86/private_mem_kvm_exits_test"
targets=
for p in $progs; do targets="$targets $out/$p"; done
# The kernel's own toolchain (gcc), whatever compiler built the project:
# `make check CC=clang` passes CC down through MAKEFLAGS otherwise.
# shellcheck disable=SC2086
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CC make -C "$src" OUTPUT="$out" KHDR_INCLUDES="-isystem $tree/build/usr/include" \
	$targets >"$log/build.log" 2>&1
rc=$?
t $rc "the series' selftests build unmodified from $tree: $progs"
if [ $rc != 0 ]; then
	tail -20 "$log/build.log" | sed 's/^/# /'
	echo "1..$n"
	exit 0
fi
if [ -n "$build_only" ]; then
	echo "1..$n"
	exit 0
fi

# A host whose KVM reports 57-bit virtual addresses but refuses CR4.LA57
# starts no selftest vCPU at all, shim or not: the helper tells the
# selftests 48 bits there (and nothing elsewhere).
quirk=$log/host_la57.so
if ! ${GMEM_CC:-cc} -O2 -shared -fPIC -o "$quirk" "$top/tests/series/host_la57.c" -ldl \
	>"$log/quirk.log" 2>&1; then
	t 1 "tests/series/host_la57.c builds"
	sed 's/^/# /' "$log/quirk.log"
	quirk=
fi

# With the shim, under upstream: every test passes (or skips for a reason
# the test itself gives, e.g. elevated_refcount without CONFIG_GUP_TEST).
# One point per kselftest of a harness program, one per plain program
# (forked_accesses included: a child of fork() follows the parent's
# conversions, docs/compat.md).
for p in $progs; do
	l=$log/$(basename "$p").shim.log
	(cd "$out" && env LD_PRELOAD="$shim${quirk:+ $quirk}" GMEM_COMPAT_POLICY=upstream \
		timeout 240 "./$p") >"$l" 2>&1
	rc=$?
	grep '^# host_la57' "$l" | head -1
	if ! grep -qE '^(not )?ok [0-9]+ ' "$l"; then
		t $rc "$p through the shim (upstream): exit $rc"
		[ $rc = 0 ] || tail -25 "$l" | sed 's/^/#   /'
		continue
	fi
	# A kselftest's skip reason is the "1..0 # SKIP" line it printed.
	why=$(grep -E '^1\.\.0 # SKIP' "$l" | sed 's/^1\.\.0 # SKIP -* *//' | sort -u | tr '\n' ' ')
	grep -E '^(not )?ok [0-9]+ ' "$l" >"$log/points"
	while read -r line; do
		name=$(echo "$line" | sed 's/^\(not \)\{0,1\}ok [0-9]* \([^ ]*\).*/\2/')
		n=$((n + 1))
		case $line in
		"not ok"*elevated_refcount*)
			# Where the kernel has CONFIG_GUP_TEST the test pins a page
			# and wants EAGAIN: no user-space library sees a GUP pin
			# (docs/compat.md, "What it cannot emulate").
			if sed -n "/RUN .*$name/,/^not ok/p" "$l" | grep -q 'errno == EAGAIN'; then
				echo "ok $n - $p $name through the shim (upstream) # SKIP the shim cannot see a GUP pin: EAGAIN is never returned"
			else
				echo "not ok $n - $p $name through the shim (upstream)"
				sed -n "/RUN .*$name/,/^not ok/p" "$l" | grep -v '^not ok' | head -20 | sed 's/^/#   /'
			fi
			;;
		"not ok"*)
			echo "not ok $n - $p $name through the shim (upstream)"
			sed -n "/RUN .*$name/,/^not ok/p" "$l" | grep -v '^not ok' | head -20 | sed 's/^/#   /'
			;;
		*"# SKIP"*) echo "ok $n - $p $name through the shim (upstream) # SKIP $why" ;;
		*) echo "ok $n - $p $name through the shim (upstream)" ;;
		esac
	done <"$log/points"
done

# Without the shim, on this kernel: the first point fails, or, on a kernel
# without guest_memfd, the first requirement.  (A kernel with the series
# passes instead.)
l=$log/guest_memfd_test.plain.log
(cd "$out" && env ${quirk:+LD_PRELOAD="$quirk"} timeout 240 ./guest_memfd_test) >"$l" 2>&1
rc=$?
if [ $rc = 0 ]; then
	t 0 "guest_memfd_test without the shim: this kernel has the series' checks, it passes"
elif grep -q 'Requirement not met: kvm_has_cap(KVM_CAP_GUEST_MEMFD)' "$l"; then
	t $((rc != 4)) "guest_memfd_test without the shim stops at its first requirement: this kernel has no guest_memfd (exit $rc)"
else
	grep -q 'Memslot with out-of-range offset+size should fail' "$l"
	t $? "guest_memfd_test without the shim fails at its first point: $(grep -m1 'should fail' "$l" | sed 's/^ *//')"
fi
l=$log/conversions.plain.log
(cd "$out" && env ${quirk:+LD_PRELOAD="$quirk"} timeout 240 ./x86/guest_memfd_conversions_test) >"$l" 2>&1
rc=$?
if grep -q '^ok 1 ' "$l" && [ $rc = 0 ]; then
	t 0 "guest_memfd_conversions_test without the shim: this kernel has the series, it passes"
else
	# No SW_PROTECTED VM type; or, where the kernel has one but keeps its
	# conversion off (kvm.gmem_in_place_conversion=0), no PRIVATE attribute
	# on guest_memfd.
	grep -q 'Requirement not met: kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM)\|Requirement not met: kvm_check_cap(KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES) & KVM_MEMORY_ATTRIBUTE_PRIVATE' "$l"
	t $? "guest_memfd_conversions_test without the shim stops at its first requirement: $(grep -m1 'Requirement not met' "$l" | sed 's/.*Requirement not met: //')"
fi
l=$log/exits.plain.log
(cd "$out" && env ${quirk:+LD_PRELOAD="$quirk"} timeout 240 ./x86/private_mem_kvm_exits_test) >"$l" 2>&1
rc=$?
if [ $rc = 0 ]; then
	t 0 "private_mem_kvm_exits_test without the shim: this kernel has SW_PROTECTED VMs, it passes"
else
	if grep -q 'KVM_SET_MEMORY_ATTRIBUTES failed, rc: -1 errno: 25' "$l"; then
		# SW_PROTECTED VMs whose attributes live in guest_memfd only (the
		# series with its conversion off): the VM-fd call is ENOTTY.
		t 0 "private_mem_kvm_exits_test without the shim fails at its first KVM_SET_MEMORY_ATTRIBUTES: ENOTTY (exit $rc)"
	else
		grep -q 'Requirement not met: kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM)' "$l"
		t $? "private_mem_kvm_exits_test without the shim stops at its first requirement (exit $rc)"
	fi
fi
echo "1..$n"
