#!/bin/sh
# SPDX-License-Identifier: MIT
# What the tests that boot or run QEMU need, installed where missing (as
# root on Debian bookworm): QEMU >= 9.1 and OVMF from bookworm-backports
# (the suite is added to apt's sources with the mirror and components of
# the machine's other Debian sources), busybox-static and cpio (the
# initramfs of make check-kernel).  Elsewhere it prints what to install and
# exits 0: the tests then SKIP with the reason.
set -eu

qemu_ok() {
	command -v qemu-system-x86_64 >/dev/null 2>&1 || return 1
	v=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
	set -- $v
	[ $# = 2 ] && { [ "$1" -gt 9 ] || { [ "$1" = 9 ] && [ "$2" -ge 1 ]; }; }
}

need=""
qemu_ok || need="qemu"
[ -f /usr/share/ovmf/OVMF.fd ] || need="$need qemu"
base=""
if command -v dpkg >/dev/null 2>&1; then
	dpkg -s busybox-static >/dev/null 2>&1 || base="busybox-static"
else
	[ -x /bin/busybox ] || base="busybox-static"
fi
command -v cpio >/dev/null 2>&1 || base="$base cpio"
[ -z "$need$base" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "ci-qemu: missing:${need:+ qemu-system-x86 ovmf (bookworm-backports)} $base" >&2
	echo "ci-qemu: the tests that need them will SKIP" >&2
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "$need" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
	comps=$(sed -n 's/^Components: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
	if [ -z "$mirror" ]; then
		mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
		comps=$(awk '$1 == "deb" && $2 !~ /security/ { for (i = 4; i <= NF; i++) printf "%s ", $i; exit }' /etc/apt/sources.list 2>/dev/null)
	fi
	printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: %s\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"${mirror:-http://deb.debian.org/debian}" "${comps:-main}" \
		> /etc/apt/sources.list.d/backports.sources
fi
echo "== installing:${need:+ qemu-system-x86 ovmf (bookworm-backports)} $base"
apt-get update -qq
if [ -n "$need" ]; then
	apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 ovmf >/dev/null
fi
if [ -n "$base" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $base >/dev/null
fi
