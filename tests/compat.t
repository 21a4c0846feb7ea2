#!/bin/sh
# SPDX-License-Identifier: MIT
# libgmem-compat: the uAPI-only programs of tests/compat/ (libc and
# include/gmem/uapi.h, nothing of libgmem) pass with the shim, and on a
# kernel without in-place conversion fail without it, at test point 1,
# the way docs/compat.md says (KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd:
# ENOTTY; KVM_CAP_MEMORY_ATTRIBUTES2: 0).  GMEM_COMPAT=off makes the
# preloaded shim step aside completely.  Also measures what the shim costs
# a call on a descriptor that is not a guest_memfd.
#
# Environment (set by make check): GMEM_BUILD, GMEM_CC, GMEM_SANFLAGS.
# In sanitizer builds the programs are linked against the shim instead of
# preloading it (the sanitizer runtime must come first in the link map).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${GMEM_BUILD:-$top/build}
cc=${GMEM_CC:-cc}
san=${GMEM_SANFLAGS:-}
shim=$build/libgmem-compat.so

. "$(dirname "$0")/tap.sh"
finish() {
	echo "1..$n"
	exit 0
}

if [ ! -f "$shim" ]; then
	t 1 "$shim is built"
	finish
fi
require_kvm
# The kernel generation (docs/compat.md): where the kernel converts in
# place, its software-protected VMs are its own, under its own revision of
# the series (v8): the runs of those VMs under another policy do not apply.
gen=$("${GMEMCTL:-$build/gmemctl}" probe --json 2>/dev/null |
	sed -n 's/.*"generation":"\([^"]*\)".*/\1/p')
inplace=0
[ "$gen" = in-place-conversion ] && inplace=1
# Programs and logs of this run only: several runs may share a build tree.
out=$(mktemp -d "${TMPDIR:-/tmp}/gmem-compat.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT

# The shim exports the functions it interposes and nothing else.
if command -v nm >/dev/null 2>&1; then
	syms=$(nm -D --defined-only "$shim" | awk '$2 ~ /^[TWiV]$/ { print $3 }' | LC_ALL=C sort | tr '\n' ' ')
	want=$(printf '%s\n' close dup dup2 dup3 fallocate fallocate64 fcntl fcntl64 \
		ioctl madvise mmap mmap64 mremap munmap open open64 openat openat64 __open_2 \
		__open64_2 __openat_2 __openat64_2 | LC_ALL=C sort | tr '\n' ' ')
	[ "$syms" = "$want" ]
	t $? "libgmem-compat.so exports only the interposed functions ($syms)"
else
	skip "no nm to list the shim's exports"
fi

progs="caps convert mmap punch vcpu threads memslot dup maxmap overhead vmtypes snp_launch tdx swprot vmattr fork lifetime markers"
cflags="-std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -pthread -I$top/include -I$top/tests"
case "$san" in *-fsanitize=*) sanitized=1 ;; *) sanitized=0 ;; esac

# shellcheck disable=SC2086
for p in $progs; do
	src=$top/tests/compat/$p.c
	$cc $cflags $san -o "$out/$p" "$src" >"$out/$p.cc.log" 2>&1
	rc=$?
	if [ $sanitized = 1 ] && [ $rc = 0 ]; then
		$cc $cflags $san -o "$out/$p.shim" "$src" "$shim" \
			-Wl,-rpath,"$build" >>"$out/$p.cc.log" 2>&1
		rc=$?
	fi
	t $rc "tests/compat/$p.c builds with $cc${san:+ $san} (uAPI header and libc only)"
	[ $rc = 0 ] || sed 's/^/# /' "$out/$p.cc.log"
done
if grep -l 'gmem/gmem.h\|"internal.h"' "$top"/tests/compat/*.[ch] >/dev/null; then
	t 1 "no program includes libgmem's headers"
else
	t 0 "no program includes libgmem's headers"
fi

# run_shim PROG [VAR=VALUE...] [ARG...]: the program with the shim, output
# in $log.
run_shim() {
	p=$1
	shift
	log=$out/$p.$(echo "$*" | tr ' =' '_-').log
	if [ $sanitized = 1 ]; then
		env "$@" "$out/$p.shim" >"$log" 2>&1
	else
		env LD_PRELOAD="$shim" "$@" "$out/$p" >"$log" 2>&1
	fi
}

# check_pass PROG DESCRIPTION [ENV...]
check_pass() {
	p=$1
	what=$2
	shift 2
	run_shim "$p" "$@"
	rc=$?
	if [ $rc = 77 ]; then
		skip "$p $what: $(sed -n 's/^1\.\.0 # SKIP //p' "$log")"
		return
	fi
	npass=$(grep -c '^ok ' "$log")
	t $((rc != 0 || npass == 0)) "$p with the shim $what: $npass test points pass"
	[ $rc = 0 ] || grep -v '^ok ' "$log" | sed 's/^/# /'
}

# The way each program fails where the kernel lacks in-place conversion.
expected_failure() {
	case $1 in
	caps) echo '^not ok 1 - KVM_CAP_MEMORY_ATTRIBUTES2 = 0 on the VM fd' ;;
	tdx) echo '^not ok 1 - KVM_CAP_VM_TYPES lists KVM_X86_TDX_VM' ;;
	swprot | vmattr) echo '^not ok 1 - KVM_CAP_VM_TYPES lists KVM_X86_SW_PROTECTED_VM' ;;
	dup) echo '^not ok 1 - in-place conversion: KVM_SET_MEMORY_ATTRIBUTES2 on a dup of the guest_memfd (errno ENOTTY)' ;;
	memslot) echo '^not ok 1 - offset ALIGN_DOWN(INT64_MAX): offset + size past the file is EINVAL (got success)' ;;
	*) echo '^not ok 1 - in-place conversion: KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd (errno ENOTTY)' ;;
	esac
}

# check_fail PROG HOW [ENV...]: HOW is "without the shim" etc.; runs the
# plain program (or $out/PROG$variant).  A kernel with the feature passes
# instead.
variant=
check_fail() {
	p=$1
	how=$2
	shift 2
	log=$out/$p$variant.plain.log
	if [ $# -gt 0 ]; then
		env "$@" "$out/$p$variant" >"$log" 2>&1
	else
		"$out/$p$variant" >"$log" 2>&1
	fi
	rc=$?
	first=$(grep -m1 '^not ok' "$log")
	if [ $rc = 77 ]; then
		skip "$p $how: $(sed -n 's/^1\.\.0 # SKIP //p' "$log")"
	elif [ $rc = 0 ] && [ -z "$first" ] && grep -q '^ok ' "$log"; then
		t 0 "$p $how: the kernel has what the program checks (in-place conversion, the series' checks), and it passes"
	elif echo "$first" | grep -q "^not ok [0-9]* - in-place conversion: KVM_SET_MEMORY_ATTRIBUTES2 on a .*(errno \(ENOTTY\|EINVAL\))\|^not ok [0-9]* - KVM_CAP_GUEST_MEMFD_FLAGS: MMAP and INIT_SHARED"; then
		# A kernel with some of the series (the VM types, the memslot
		# checks) and no in-place conversion for this VM: it stops at
		# the first conversion (ENOTTY without the ioctl, EINVAL from
		# the series on a VM without private memory), or before it,
		# where a private-memory VM's guest_memfd cannot start shared.
		t $((rc != 1)) "$p $how fails at its first in-place conversion: ${first#not ok }"
	else
		grep -q "$(expected_failure "$p")" "$log" &&
			[ "$(grep -c '^ok \|^not ok ' "$log")" = 1 ]
		t $((rc != 1 || $? != 0)) "$p $how fails at test point 1 as documented: $(echo "$first" | sed 's/^not ok 1 - //')"
	fi
}

for p in caps convert; do
	for plat in default sw_protected snp tdx pkvm; do
		for pol in seed rfc-v5 upstream; do
			check_pass $p "(platform $plat, policy $pol)" \
				GMEM_COMPAT_PLATFORM=$plat GMEM_COMPAT_POLICY=$pol
		done
	done
done
check_pass convert "(sw_protected, seed, after finalize)" \
	GMEM_COMPAT_PLATFORM=sw_protected GMEM_COMPAT_PHASE=finalized
for p in mmap punch vcpu threads memslot dup snp_launch lifetime markers; do
	check_pass $p "(platform default, policy seed)"
done
# vmtypes makes a software-protected VM: the kernel's own where it
# converts in place, under v8.
if [ $inplace = 1 ]; then
	check_pass vmtypes "(the kernel's software-protected VMs: policy upstream)" \
		GMEM_COMPAT_POLICY=upstream
else
	check_pass vmtypes "(platform default, policy seed)"
fi
check_pass markers "(covers only: GMEM_VIEW_NO_MARKERS=1)" GMEM_VIEW_NO_MARKERS=1
# A child of fork() follows the parent's conversions, through a listener
# thread; a grandchild is forked by that multi-threaded child, which
# ThreadSanitizer only allows when told to.
for pol in seed upstream; do
	check_pass fork "(platform default, policy $pol)" GMEM_COMPAT_POLICY=$pol \
		TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS }die_after_fork=0"
done
# TDX: v8's in-place population, and RFC v5's refusal of it; a
# software-protected VM as the series' selftests drive one.
for pol in upstream seed; do
	check_pass tdx "(policy $pol)" GMEM_COMPAT_POLICY=$pol
done
for pol in upstream rfc-v5; do
	if [ $inplace = 1 ] && [ $pol != upstream ]; then
		skip "swprot (policy $pol): this kernel converts in place on its own software-protected VMs, as v8 (upstream)"
		continue
	fi
	check_pass swprot "(policy $pol)" GMEM_COMPAT_POLICY=$pol
done
# The same programs on the shim's own guest_memfd whatever the kernel has
# (GMEM_COMPAT_GMEM=emulated): where the kernel has mmap-able guest_memfd,
# the runs above used it, and these take the path of every kernel without
# one.
for p in caps convert mmap punch vcpu memslot dup snp_launch lifetime markers; do
	check_pass $p "(the shim's own guest_memfd, platform default, policy seed)" \
		GMEM_COMPAT_GMEM=emulated
	[ $p = punch ] || continue
	grep -q '^# the guest_memfd is /memfd:gmem' "$log"
	t $? "with GMEM_COMPAT_GMEM=emulated the guest_memfd is the shim's own ($(sed -n 's/^# the guest_memfd is //p' "$log"))"
done
for p in swprot tdx fork; do
	check_pass $p "(the shim's own guest_memfd, policy upstream)" \
		GMEM_COMPAT_GMEM=emulated GMEM_COMPAT_POLICY=upstream \
		TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS }die_after_fork=0"
done
# One rule: the platform follows the VM type; GMEM_COMPAT_PLATFORM is for
# default VMs (a TDX model here would clear pages, an SW_PROTECTED one
# would leave the TD's bytes to the host).
check_pass swprot "(GMEM_COMPAT_PLATFORM=tdx: the VM type wins)" \
	GMEM_COMPAT_POLICY=upstream GMEM_COMPAT_PLATFORM=tdx
check_pass tdx "(GMEM_COMPAT_PLATFORM=sw_protected: the VM type wins)" \
	GMEM_COMPAT_POLICY=upstream GMEM_COMPAT_PLATFORM=sw_protected
# The shim's own limit (a kernel converting in place has none): with it
# only.  A sanitizer runtime cannot work at the bound (it maps memory of
# its own all the time).
if [ $sanitized = 1 ]; then
	skip "maxmap: $san needs mappings of its own at vm.max_map_count"
else
	check_pass maxmap "(covers: vm.max_map_count reached: ENOMEM, nothing changed)" \
		GMEM_VIEW_NO_MARKERS=1
fi
# Poison markers on the shim's own guest_memfd: no bound to reach.
check_pass maxmap "(the shim's own guest_memfd: markers past vm.max_map_count)" \
	GMEM_COMPAT_GMEM=emulated GMEM_MAXMAP=markers
# vmattr allocates nothing while at the bound: AddressSanitizer's runtime
# copes, ThreadSanitizer's maps memory for every thread's accesses.
case "$san" in
*thread*)
	skip "vmattr: $san needs mappings of its own at vm.max_map_count" ;;
*)
	if [ $inplace = 1 ]; then
		skip "vmattr: this kernel's own software-protected VMs have no VM-fd attributes (v8)"
		skip "vmattr (policy upstream): as above"
	else
	for pol in seed upstream; do
		check_pass vmattr "(VM-fd conversion failing in its second memslot: nothing changed, policy $pol)" \
			GMEM_COMPAT_POLICY=$pol GMEM_VIEW_NO_MARKERS=1
	done
	fi ;;
esac

for p in caps convert mmap punch vcpu threads memslot dup fork; do
	check_fail $p "without the shim"
done
# The programs of private-memory VM types, under the series' revision a
# kernel could have (v8).
for p in tdx swprot; do
	check_fail $p "without the shim" GMEM_COMPAT_POLICY=upstream
done
if [ $sanitized = 0 ]; then
	check_fail convert "with the shim preloaded and GMEM_COMPAT=off" \
		GMEM_COMPAT=off LD_PRELOAD="$shim"
	# Stepping aside where the kernel converts in place (pretended).
	if $cc $cflags -shared -fPIC -o "$out/fake_native.so" \
		"$top/tests/compat/fake_native.c" >"$out/fake.cc.log" 2>&1; then
		# On a software-protected VM, a type the pretend kernel has.
		GMEM_COMPAT_VM_TYPE=1 LD_PRELOAD="$shim:$out/fake_native.so" "$out/caps" \
			>"$out/caps.native.log" 2>&1
		rc=$?
		grep -q "$(expected_failure caps)" "$out/caps.native.log"
		t $((rc != 1 || $? != 0)) "the shim leaves a VM type of a kernel converting in place to it (caps reach the kernel: $(grep -m1 '^not ok\|^ok' "$out/caps.native.log" | sed 's/^[a-z ]*1 - //'))"
	else
		t 1 "tests/compat/fake_native.c builds"
		sed 's/^/# /' "$out/fake.cc.log"
	fi
else
	variant=.shim
	check_fail convert "linked with the shim and GMEM_COMPAT=off" GMEM_COMPAT=off
	variant=
	skip "stepping aside for a pretend native kernel: needs LD_PRELOAD, not under $san"
fi

# An existing program written against the uAPI: libgmem's own native
# backend (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd fd) runs on the
# shim, unmodified.
gmemctl=${GMEMCTL:-$build/gmemctl}
example=$build/examples/convert
if [ $sanitized = 1 ]; then
	skip "libgmem's native backend on the shim: its programs are built with $san"
elif [ ! -x "$gmemctl" ] || [ ! -x "$example" ]; then
	skip "libgmem's native backend on the shim: no $gmemctl or $example"
else
	LD_PRELOAD="$shim" "$gmemctl" probe >"$out/probe.log" 2>&1
	grep -q '^ *native *yes' "$out/probe.log"
	t $? "gmemctl probe with the shim: the native backend is available"
	GMEM_BACKEND=native "$example" >"$out/example.plain.log" 2>&1
	t $((! $?)) "examples/convert with GMEM_BACKEND=native fails without the shim"
	GMEM_BACKEND=native LD_PRELOAD="$shim" "$example" >"$out/example.log" 2>&1 &&
		grep -q '(backend native)' "$out/example.log" &&
		grep -q 'host reads: "hello from the host"' "$out/example.log"
	t $? "examples/convert with GMEM_BACKEND=native converts in place through the shim"
fi

# examples/tdx_launch.c: a TD launch and an in-place conversion in raw
# ioctls, through the shim; without it the kernel has no TDX VM type.
tdxex=$build/examples/tdx_launch
if [ $sanitized = 1 ]; then
	skip "examples/tdx_launch through the shim: built with $san"
elif [ ! -x "$tdxex" ]; then
	skip "no $tdxex"
else
	GMEM_COMPAT_POLICY=upstream GMEM_COMPAT_LOG="$out/tdx_launch.shimlog" \
		LD_PRELOAD="$shim" "$tdxex" >"$out/tdx_launch.log" 2>&1 &&
		grep -q 'the host reads zeros' "$out/tdx_launch.log" &&
		grep -q '^tdx: MRTD [0-9a-f]\{96\}$' "$out/tdx_launch.shimlog"
	t $? "examples/tdx_launch through the shim: launched, measured ($(sed -n 's/^tdx: MRTD \(.\{16\}\).*/MRTD \1.../p' "$out/tdx_launch.shimlog")), converted in place"
	"$tdxex" >"$out/tdx_launch.plain.log" 2>&1
	t $((! $?)) "examples/tdx_launch fails without the shim: $(head -1 "$out/tdx_launch.plain.log")"
fi

# The seed's seven CPUID steps as raw ioctls on a KVM_X86_SNP_VM
# (examples/snp_uapi.c): without the shim the example says SNP VMs are
# missing; with it the firmware rejects the page in place, the VMM reads
# the corrected page after SHARED + PRESERVE, and the launch finishes.
snp_example=$build/examples/snp_uapi
if [ $sanitized = 1 ]; then
	skip "examples/snp_uapi through the shim: its build is $san"
elif [ ! -x "$snp_example" ]; then
	skip "examples/snp_uapi through the shim: no $snp_example"
else
	"$snp_example" >"$out/snp_uapi.plain.log" 2>&1 &&
		grep -q 'cannot create KVM_X86_SNP_VM' "$out/snp_uapi.plain.log"
	t $? "examples/snp_uapi without the shim: no SNP VM, says so, exits 0"
	GMEM_COMPAT_LOG="$out/snp_uapi.fw.log" LD_PRELOAD="$shim" "$snp_example" \
		>"$out/snp_uapi.log" 2>&1 &&
		grep -q 'Input/output error, firmware error 0x16' "$out/snp_uapi.log" &&
		grep -q 'CPUID 0x00000007 index 0: provided' "$out/snp_uapi.log" &&
		grep -q 'corrected; accepted' "$out/snp_uapi.log" &&
		grep -q 'finish: ok' "$out/snp_uapi.log" &&
		tail -2 "$out/snp_uapi.fw.log" | grep -q '^snp launch digest: [0-9a-f]\{96\}$'
	t $? "examples/snp_uapi: the seven steps as raw ioctls through the shim (rejected in place, corrected page read back, launched)"
	[ -f "$out/snp_uapi.fw.log" ] || sed 's/^/# /' "$out/snp_uapi.log"
fi

# The cost of the shim on other descriptors, in ns per call: the best of
# three alternating runs each, with the real system calls (noisy: reported
# only), then the shim's own work on an ioctl, measured above a stub that
# returns without a system call.
best() {	# best OP LOGS...
	op=$1
	shift
	sed -n "s/^# cost $op //p" "$@" | sort -n | head -1
}
i=0
while [ $i -lt 3 ]; do
	i=$((i + 1))
	"$out/overhead" >"$out/overhead.plain.$i.log" 2>&1
	run_shim overhead
	mv "$log" "$out/overhead.shim.$i.log"
done
for op in ioctl fallocate mmap+munmap dup+close open+close; do
	a=$(best "$op" "$out"/overhead.plain.*.log)
	b=$(best "$op" "$out"/overhead.shim.*.log)
	echo "# $op (system call) on another descriptor: $a ns without the shim, $b ns with it"
done
run_shim overhead GMEM_COMPAT_OVERHEAD=convert
t $? "5000 boot-like conversions through the shim: $(sed -n 's/^# cost convert-unmapped /unmapped /p' "$log") ms, $(sed -n 's/^# cost convert-mapped /mapped /p' "$log") ms"
if [ $sanitized = 1 ]; then
	skip "the shim's own cost per ioctl: not measured under $san"
elif ! $cc -O2 -shared -fPIC -o "$out/stub_ioctl.so" "$top/tests/compat/stub_ioctl.c" \
		>"$out/stub.cc.log" 2>&1; then
	t 1 "tests/compat/stub_ioctl.c builds"
else
	i=0
	while [ $i -lt 3 ]; do
		i=$((i + 1))
		LD_PRELOAD="$out/stub_ioctl.so" "$out/overhead" user \
			>"$out/overhead.ustub.$i.log" 2>&1
		LD_PRELOAD="$shim:$out/stub_ioctl.so" "$out/overhead" user \
			>"$out/overhead.ushim.$i.log" 2>&1
	done
	a=$(best ioctl-user "$out"/overhead.ustub.*.log)
	b=$(best ioctl-user "$out"/overhead.ushim.*.log)
	d=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { printf "%.2f", b - a }')
	# Reported, never a pass/fail threshold: timings belong to benchmarks.
	echo "# ioctl above a stub: $a ns without the shim, $b ns with it ($d ns of the shim's own work per call)"
	[ -n "$a" ] && [ -n "$b" ]
	t $? "the shim's cost on another descriptor's ioctl was measured"
fi
finish
