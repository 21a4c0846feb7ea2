#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks the build's few dependencies: a C compiler, pkg-config, OpenSSL's
# libcrypto headers (SHA-384, AES-XTS), perl's prove (the test runner),
# xmllint (checks the SVG maps) and man (checks the manual pages render).
# As root on Debian it installs what is missing with apt-get; otherwise it
# stops and prints the exact command to run.
set -u
missing=""
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
if ! { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libcrypto; } &&
   [ ! -f /usr/include/openssl/evp.h ]; then
	missing="$missing libssl-dev"
fi
command -v prove >/dev/null 2>&1 || missing="$missing perl"
command -v xmllint >/dev/null 2>&1 || missing="$missing libxml2-utils"
command -v man >/dev/null 2>&1 || command -v groff >/dev/null 2>&1 ||
	missing="$missing man-db"
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "libgmem: installing missing build dependencies:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && $cmd -qq; } >&2 || {
		echo "libgmem: '$cmd' failed" >&2; exit 1; }
	exit 0
fi
echo "libgmem: missing build dependencies:$missing" >&2
echo "libgmem: run as root:  apt-get update && $cmd" >&2
exit 1
