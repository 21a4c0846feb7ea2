#!/bin/sh
# SPDX-License-Identifier: MIT
# The prediction against a launch: an unmodified QEMU launches an SEV-SNP
# guest through the installed libgmem-compat.so, whose log ends with the
# launch digest (GMEM_COMPAT_LOG, "snp launch digest: ..."); it must equal
# `gmemctl measure snp` for the same firmware, vCPU count and CPU model.
# QEMU is stopped once the digest is logged (this nested KVM cannot run
# OVMF past its first instructions anyway).  SKIP without KVM (no
# /dev/kvm, or not KVM), QEMU 9.1+ or OVMF, and under sanitizers.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
qpid=
trap '[ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$tmp"' EXIT
ovmf=/usr/share/ovmf/OVMF.fd
qemu=$(command -v qemu-system-x86_64)
apt="apt-get install -y -t bookworm-backports qemu-system-x86 ovmf"

. "$(dirname "$0")/tap.sh"
require_kvm
[ -n "$qemu" ] || skip_all "qemu-system-x86_64 missing ($apt)"
ver=$("$qemu" --version | sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p;q')
set -- $ver
[ "${1:-0}" -gt 9 ] || { [ "${1:-0}" -eq 9 ] && [ "${2:-0}" -ge 1 ]; } ||
	skip_all "QEMU ${1:-?}.${2:-?} predates SEV-SNP with guest_memfd (9.1; $apt)"
[ -r "$ovmf" ] || skip_all "$ovmf missing ($apt)"
[ -z "${GMEM_SANFLAGS:-}" ] ||
	skip_all "QEMU does not run with a sanitized shim preloaded ($GMEM_SANFLAGS)"

# shellcheck disable=SC2086
make -s -C "$top" install PREFIX="$tmp/usr" ${GMEM_MAKE_ARGS:-} >"$tmp/install.log" 2>&1 ||
	{ echo "1..1"; echo "not ok 1 - make install"; sed 's/^/# /' "$tmp/install.log"; exit 1; }
shim=$tmp/usr/lib/libgmem-compat.so
gmemctl=$tmp/usr/bin/gmemctl

# launch N CPU CBITPOS [MEM]: QEMU's stderr in $tmp/qemu.err, the shim's log in
# $tmp/log; returns once the digest is logged or QEMU has exited.
launch() {
	rm -f "$tmp/log"
	GMEM_COMPAT_LOG="$tmp/log" LD_PRELOAD="$shim" timeout 60 "$qemu" \
		-nodefaults -display none -accel kvm \
		-machine q35,confidential-guest-support=sev0,memory-backend=ram1 \
		-object memory-backend-memfd,id=ram1,size="${4:-256M}",share=true \
		-object sev-snp-guest,id=sev0,cbitpos="$3",reduced-phys-bits=1 \
		-bios "$ovmf" -m "${4:-256M}" -serial none -cpu "$2" -smp "$1" \
		</dev/null >"$tmp/qemu.out" 2>"$tmp/qemu.err" &
	qpid=$!
	i=0
	while [ $i -lt 300 ] && kill -0 "$qpid" 2>/dev/null &&
	      ! grep -q '^snp launch digest: ' "$tmp/log" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	qpid=
}

# QEMU compares cbitpos with the host's CPUID 0x8000001F EBX[5:0] and names
# the host's value when they differ.
cbit=0
launch 1 EPYC-v4 "$cbit"
host=$(sed -n "s/.*cbitpos check failed, host '\([0-9]*\)'.*/\1/p" "$tmp/qemu.err")
[ -n "$host" ] && cbit=$host


# The memory size is not measured.  Each step too: the digest the shim
# logs after each LAUNCH_UPDATE and each VMSA is the one after the same
# step of the prediction (gmemctl measure --json).
for c in "1 EPYC-v4" "2 EPYC-v4" "3 EPYC-v4" "4 EPYC-v4" "2 EPYC-v4 1G" "2 EPYC-Milan" \
	 "3 EPYC-Rome"; do
	set -- $c
	launch "$1" "$2" "$cbit" "${3:-256M}"
	got=$(sed -n 's/^snp launch digest: //p' "$tmp/log" 2>/dev/null | tail -1)
	want=$("$gmemctl" measure snp --ovmf "$ovmf" --vcpus "$1" --vcpu-type "$2" 2>&1)
	[ -n "$got" ] && [ "$got" = "$want" ]
	t $? "QEMU -smp $1 -cpu $2 -m ${3:-256M}: launch digest ${got:-missing} = gmemctl measure"
	logged=$(sed -n 's/^snp: .* digest=\([0-9a-f]\{96\}\)$/\1/p' "$tmp/log" 2>/dev/null | tr '\n' ' ')
	steps=$("$gmemctl" measure snp --ovmf "$ovmf" --vcpus "$1" --vcpu-type "$2" --json |
		perl -MJSON::PP -0777 -ne 'print join(" ", map { $_->{digest} } @{decode_json($_)->{steps}}), " "')
	[ -n "$got" ] && [ "$logged" = "$steps" ]
	t $? "  and after each of its $(echo "$steps" | wc -w) steps (LAUNCH_UPDATEs, VMSAs)"
	if [ -z "$got" ] || [ "$got" != "$want" ]; then
		echo "# predicted $want"
		sed 's/^/# qemu: /' "$tmp/qemu.err" | grep -v warning | head -5
		grep -i 'error\|-> -' "$tmp/log" 2>/dev/null | head -5 | sed 's/^/# log: /'
	fi
done
echo "1..$n"
