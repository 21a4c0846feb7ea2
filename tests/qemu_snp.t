#!/bin/sh
# SPDX-License-Identifier: MIT
# An unmodified QEMU (>= 9.1) launches an SEV-SNP guest through the
# installed libgmem-compat on this host without SNP: QEMU's own trace shows
# SNP_LAUNCH_START, a LAUNCH_UPDATE for the firmware and for every OVMF
# metadata page type, and SNP_LAUNCH_FINISH, with no QEMU error, for one
# and several vCPUs, 256 MiB and 4 GiB.  QEMU is stopped once the launch
# has finished (OVMF itself cannot run on this nested KVM), never waited
# for.  The firmware's CPUID refusal (GMEM_COMPAT_SNP_CPUID_REFUSE) shows
# QEMU's own mismatch report and QEMU exits cleanly.  The launch digest of
# GMEM_COMPAT_LOG is equal over two runs, changes with the vCPU count and
# with the firmware image, and is the one gmemctl measure predicts.
#
# GMEM_QEMU_SNP_QUICK=1: one launch checked, one digest compared with
# gmemctl measure, and the same launch on the shim's own guest_memfd (the
# kernel matrix runs that much inside each kernel);
# GMEM_QEMU_SNP_WAIT: seconds a launch may take (default 30).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cc=${GMEM_CC:-cc}
qemu=${QEMU:-qemu-system-x86_64}
ovmf=${OVMF:-/usr/share/ovmf/OVMF.fd}
apt="apt-get install -y -t bookworm-backports qemu-system-x86 ovmf (with bookworm-backports in apt's sources)"

. "$(dirname "$0")/tap.sh"

require_kvm
command -v "$qemu" >/dev/null 2>&1 || skip_all "no $qemu: $apt"
ver=$("$qemu" --version | sed -n '1s/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
set -- $ver
[ $# = 2 ] && { [ "$1" -gt 9 ] || { [ "$1" = 9 ] && [ "$2" -ge 1 ]; }; } ||
	skip_all "$qemu is older than 9.1 (no SEV-SNP with guest_memfd): $apt"
[ -r "$ovmf" ] || skip_all "no $ovmf: $apt"
case "${GMEM_SANFLAGS:-}" in
*-fsanitize=*) skip_all "the shim is built with ${GMEM_SANFLAGS}: it cannot be preloaded into QEMU" ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gmem-qemu-snp.XXXXXX") || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# The installed shim, as a user runs it.
# shellcheck disable=SC2086
make -s -C "$top" install PREFIX="$tmp/usr" ${GMEM_MAKE_ARGS:-} >"$tmp/install.log" 2>&1
shim=$tmp/usr/lib/libgmem-compat.so
[ -f "$shim" ]
t $? "make install PREFIX=... installs lib/libgmem-compat.so"
[ -f "$shim" ] || { sed 's/^/# /' "$tmp/install.log"; echo "1..$n"; exit 0; }

# QEMU compares cbitpos with the host's CPUID 0x8000001F EBX[5:0], which
# no preloaded library can change.
cat >"$tmp/cbit.c" <<'EOF'
#include <cpuid.h>
#include <stdio.h>
int main(void)
{
	unsigned a, b, c, d;

	__cpuid_count(0x8000001f, 0, a, b, c, d);
	printf("%u\n", b & 0x3f);
	return 0;
}
EOF
$cc -o "$tmp/cbit" "$tmp/cbit.c" && cbit=$("$tmp/cbit") || cbit=0

# run NAME SMP MEM [VAR=VALUE...]: QEMU with the shim until the launch has
# finished (the digest line in the log) or QEMU exits; at most
# GMEM_QEMU_SNP_WAIT seconds (the launch takes under 2 s here).
# Leaves $tmp/NAME.err (QEMU's stderr: trace and errors), $tmp/NAME.log
# (GMEM_COMPAT_LOG) and $tmp/NAME.rc (QEMU's status, or "killed").
quick=${GMEM_QEMU_SNP_QUICK:-}
waits=$((${GMEM_QEMU_SNP_WAIT:-30} * 10))
run() {
	name=$1 smp=$2 mem=$3
	shift 3
	: >"$tmp/$name.log"
	env "$@" LD_PRELOAD="$shim" GMEM_COMPAT_LOG="$tmp/$name.log" \
	"$qemu" -nodefaults -display none -accel kvm \
		-machine q35,confidential-guest-support=sev0,memory-backend=ram1 \
		-object memory-backend-memfd,id=ram1,size="$mem",share=true \
		-object sev-snp-guest,id=sev0,cbitpos="$cbit",reduced-phys-bits=1 \
		-bios "${BIOS:-$ovmf}" -m "$mem" -smp "$smp" ${CPU:-} -serial none \
		-trace 'kvm_sev_snp*' >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	i=0
	status=killed
	while [ $i -lt "$waits" ]; do
		if grep -q '^snp launch digest: ' "$tmp/$name.log" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			status=$?
			pid=
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	if [ -n "$pid" ]; then
		sleep 1
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
	echo "$status" >"$tmp/$name.rc"
}

digest() {
	sed -n 's/^snp launch digest: \([0-9a-f]\{96\}\)$/\1/p' "$tmp/$1.log" | tail -1
}

# QEMU's errors up to the end of the launch (what follows LAUNCH_FINISH is
# the guest failing to run on this nested KVM).
launch_errors() {
	sed '/kvm_sev_snp_launch_finish/q' "$tmp/$1.err" |
		grep '^qemu-system-x86_64: ' | grep -v ': warning: '
}

check_launch() {	# check_launch NAME WHAT
	name=$1
	what=$2
	e=$tmp/$name.err
	ok=0
	for pat in 'kvm_sev_snp_launch_start' \
		'kvm_sev_snp_launch_update .*(Normal page)' \
		'kvm_sev_snp_launch_update .*(Zero page)' \
		'kvm_sev_snp_launch_update .*(Secrets page)' \
		'kvm_sev_snp_launch_update .*(Cpuid page)' \
		'kvm_sev_snp_launch_finish'; do
		grep -q "$pat" "$e" || { ok=1; echo "# $name: no '$pat' in QEMU's trace"; }
	done
	[ -z "$(launch_errors "$name")" ] || { ok=1; launch_errors "$name" | sed 's/^/# /'; }
	[ -n "$(digest "$name")" ] || ok=1
	t $ok "QEMU $what: trace shows launch_start, launch_update of the firmware and of the Zero, Secrets and Cpuid pages, launch_finish; no QEMU error ($(grep -c 'kvm_sev_snp_launch_update' "$e") updates, $(grep -c 'type=vmsa' "$tmp/$name.log") VMSAs)"
	[ $ok = 0 ] || sed 's/^/# /' "$e" | head -40
}

run a1 1 256M
check_launch a1 "1 vCPU, 256 MiB"
if [ -z "$quick" ]; then
run a2 1 256M
run b4 4 256M
check_launch b4 "4 vCPUs, 256 MiB"
run c1 1 4G
check_launch c1 "1 vCPU, 4 GiB (RAM above 4 GiB: a second memslot)"
run c3 3 4G
check_launch c3 "3 vCPUs, 4 GiB"

d1=$(digest a1) d2=$(digest a2) d4=$(digest b4)
[ -n "$d1" ] && [ "$d1" = "$d2" ]
t $? "the launch digest is equal over two runs ($(echo "$d1" | cut -c1-16)...)"
[ -n "$d4" ] && [ "$d1" != "$d4" ]
t $? "the digest changes with the vCPU count ($(echo "$d4" | cut -c1-16)... with 4)"
[ "$(digest a1)" = "$(digest c1)" ]
t $? "and not with the memory size (the same pages are measured)"
fi

# The digest gmemctl measure (sev-snp-measure's inputs) predicts for the
# same command: the pages QEMU handed over and the VMSAs built from its
# vCPUs' registers are the ones the prediction models.
gmemctl=$tmp/usr/bin/gmemctl
cpus="EPYC-v4 EPYC-Milan"
[ -z "$quick" ] || cpus=EPYC-v4
for cpu in $cpus; do
	CPU="-cpu $cpu" run m-$cpu 2 256M
	want=$("$gmemctl" measure snp --ovmf "$ovmf" --vcpus 2 --vcpu-type "$cpu" 2>&1)
	got=$(digest "m-$cpu")
	[ -n "$got" ] && [ "$got" = "$want" ]
	t $? "-cpu $cpu -smp 2: the digest is the one gmemctl measure predicts ($(echo "$got" | cut -c1-16)...)"
	[ -n "$got" ] && [ "$got" = "$want" ] || { echo "# want $want"; launch_errors "m-$cpu" | sed 's/^/# /'; }
done
# 1 and 8 vCPUs, and the shim's own guest_memfd (GMEM_COMPAT_GMEM=emulated:
# the path of every kernel without an mmap-able guest_memfd) giving the same
# digest as the kernel's where this kernel has one.
vcpus="1 8"
[ -z "$quick" ] || vcpus=
for v in $vcpus; do
	CPU="-cpu EPYC-v4" run v$v $v 256M
	want=$("$gmemctl" measure snp --ovmf "$ovmf" --vcpus $v --vcpu-type EPYC-v4 2>&1)
	got=$(digest "v$v")
	[ -n "$got" ] && [ "$got" = "$want" ]
	t $? "-cpu EPYC-v4 -smp $v: the digest is the one gmemctl measure predicts ($(echo "$got" | cut -c1-16)...)"
	[ -n "$got" ] && [ "$got" = "$want" ] || { echo "# want $want"; launch_errors "v$v" | sed 's/^/# /'; }
done
CPU="-cpu EPYC-v4" run e2 2 256M GMEM_COMPAT_GMEM=emulated
check_launch e2 "2 vCPUs on the shim's own guest_memfd (GMEM_COMPAT_GMEM=emulated)"
[ -n "$(digest e2)" ] && [ "$(digest e2)" = "$(digest m-EPYC-v4)" ]
t $? "and its digest is the kernel path's ($(digest e2 | cut -c1-16)...)"

if [ -n "$quick" ]; then
	echo "# QEMU: $("$qemu" --version | head -1); cbitpos $cbit"
	echo "1..$n"
	exit 0
fi

# Another firmware image: one byte changed inside the measured firmware.
cp "$ovmf" "$tmp/OVMF.fd"
printf '\125' | dd of="$tmp/OVMF.fd" bs=1 seek=1048576 conv=notrunc 2>/dev/null
BIOS=$tmp/OVMF.fd run o1 1 256M
do1=$(digest o1)
[ -n "$do1" ] && [ "$do1" != "$d1" ]
t $? "the digest changes with the firmware image ($(echo "$do1" | cut -c1-16)...)"

# The firmware refuses a bit QEMU's CPUID table has (leaf 1 EDX FPU).
run r1 1 256M GMEM_COMPAT_SNP_CPUID_REFUSE=0x1:0:edx:0x1
rc=$(cat "$tmp/r1.rc")
grep -q "SNP_LAUNCH_UPDATE ret=-5 fw_error=22 'Invalid parameter'" "$tmp/r1.err" &&
	grep -q 'SEV-SNP: CPUID validation failed for function 0x1, index: 0x0' "$tmp/r1.err" &&
	grep -q 'SEV-SNP: failed update CPUID page' "$tmp/r1.err"
t $? "a refused CPUID bit: QEMU prints its own mismatch report"
[ "$rc" = 1 ] && ! grep -q 'kvm_sev_snp_launch_finish' "$tmp/r1.err" &&
	[ -z "$(digest r1)" ]
t $? "and exits with status 1 before LAUNCH_FINISH (status $rc)"
grep 'CPUID validation failed' "$tmp/r1.err" | sed 's/^/# /'
grep -q 'snp: KVM_SEV_SNP_LAUNCH_UPDATE .* type=cpuid .* -> -5 error=0x16' "$tmp/r1.log"
t $? "GMEM_COMPAT_LOG records the rejected CPUID update with its firmware error"

echo "# QEMU: $("$qemu" --version | head -1); cbitpos $cbit"
echo "# digest (1 vCPU): $d1"
echo "# digest (4 vCPUs): $d4"
echo "1..$n"
