#!/bin/sh
# SPDX-License-Identifier: MIT
# make install into a temporary prefix gives a tree a program builds against
# through pkg-config alone.
set -u
echo "1..5"
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

# shellcheck disable=SC2086
make -s -C "$top" install PREFIX="$tmp/usr" ${GMEM_MAKE_ARGS:-} >"$tmp/install.log" 2>&1
t $? "make install PREFIX=..."
[ -f "$tmp/usr/include/gmem/gmem.h" ] && [ -f "$tmp/usr/lib/pkgconfig/gmem.pc" ] &&
	[ -x "$tmp/usr/bin/gmemctl" ] && [ -f "$tmp/usr/lib/libgmem.a" ] &&
	[ -L "$tmp/usr/lib/libgmem.so.0" ]
t $? "headers, libraries, gmem.pc and gmemctl installed"
export PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig"
# shellcheck disable=SC2046,SC2086
${GMEM_CC:-cc} ${GMEM_SANFLAGS:-} -o "$tmp/convert" "$top/examples/convert.c" \
	$(pkg-config --cflags --libs gmem) >"$tmp/cc.log" 2>&1
t $? "examples/convert.c builds with pkg-config --cflags --libs gmem"
LD_LIBRARY_PATH="$tmp/usr/lib" "$tmp/convert" >"$tmp/run.log" 2>&1
t $? "the installed program runs against libgmem.so.0"
grep -q 'host reads: "hello from the host"' "$tmp/run.log"
t $? "and converts in place"
[ -s "$tmp/cc.log" ] && sed 's/^/# /' "$tmp/cc.log"
exit 0
