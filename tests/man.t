#!/bin/sh
# SPDX-License-Identifier: MIT
# The manual: every exported gmem_* symbol of libgmem.so has a page whose
# NAME lists it and whose SYNOPSIS carries its prototype from the public
# headers; every page renders without a warning; .so links and
# cross-references point to pages that exist; the section 3 pages have the
# sections a library page needs; and the content-mode tables of libgmem(7)
# are the ones gmem_vm_content_modes() answers with.
set -u

# GMEM_MAN_RENDERER=groff checks the groff path on a machine with man-db.
if [ "${GMEM_MAN_RENDERER:-man}" = man ] && command -v man >/dev/null 2>&1 &&
   man --version 2>/dev/null | grep -q '^man '; then
	renderer="man"
elif command -v groff >/dev/null 2>&1; then
	renderer="groff"
else
	echo "1..0 # SKIP neither man (Debian package man-db) nor groff (groff-base) is installed"
	exit 0
fi

top=$(cd "$(dirname "$0")/.." && pwd)
build=${GMEM_BUILD:-$top/build}
lib=$build/libgmem.so
cc=${GMEM_CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"
diag() { sed 's/^/# /' "$@"; }

# A manpath-like tree, so that ".so man3/x.3" resolves as it does once
# installed: man1, man3 and man7 are all the source directory.
for s in 1 3 7; do ln -s "$top/man" "$tmp/man$s"; done
mkdir "$tmp/out"

# render man<s>/<page>: text on stdout, warnings on stderr (80 columns).
render() {
	(
		cd "$tmp" || exit 1
		if [ "$renderer" = man ]; then
			unset MAN_KEEP_FORMATTING
			LC_ALL=C MANWIDTH=80 MANPAGER=cat man -l --warnings=w "$1"
		else
			LC_ALL=C groff -t -man -ww -Tascii -P-cbou -rLL=80n "$1"
		fi
	)
}

# A page that is only a link: comments, then one ".so man<s>/<page>".
so_target() {
	sed -n '/^\.\\"/d; /^[[:space:]]*$/d; p' "$1" |
		awk 'NR == 1 && $1 == ".so" && NF == 2 { t = $2 } END { if (NR == 1 && t != "") print t }'
}

# Whitespace-normalised C declarations, one per line: runs of blanks
# collapsed, none after "(" or before ")" and ",".
statements() {
	tr '\n\t' '  ' | tr ';' '\n' |
		sed -e 's/  */ /g' -e 's/^ //' -e 's/ $//' \
		    -e 's/( /(/g' -e 's/ )/)/g' -e 's/ ,/,/g'
}

echo "# renderer: $renderer"

# ---- every page renders without a warning ------------------------------
for f in "$top"/man/*.[137]; do
	p=${f##*/}
	s=${p##*.}
	render "man$s/$p" >"$tmp/out/$p.txt" 2>"$tmp/out/$p.err"
	rc=$?
	[ $rc = 0 ] && [ ! -s "$tmp/out/$p.err" ] && [ -s "$tmp/out/$p.txt" ]
	t $? "$p renders without warnings"
	[ -s "$tmp/out/$p.err" ] && diag "$tmp/out/$p.err"

	target=$(so_target "$f")
	if [ -n "$target" ]; then
		case $target in
		man[137]/*) [ -f "$top/man/${target#man?/}" ] && [ "${target#man?/}" != "$p" ] ;;
		*) false ;;
		esac
		t $? "$p links to an existing page ($target)"
		continue
	fi

	# Cross-references to the project's own pages name pages that exist.
	bad=$(grep -oE '(gmem[a-z_0-9]*|libgmem) \([137]\)' "$f" |
		sed 's/ (\(.\))$/.\1/' | sort -u | while read -r ref; do
			[ -f "$top/man/$ref" ] || printf '%s ' "$ref"
		done)
	[ -z "$bad" ]
	t $? "$p refers only to existing pages${bad:+ (missing: $bad)}"

	if [ "$s" = 3 ]; then
		missing=""
		for sec in NAME SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS "SEE ALSO"; do
			grep -qx "$sec" "$tmp/out/$p.txt" || missing="$missing [$sec]"
		done
		[ -z "$missing" ]
		t $? "$p has NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, ERRORS, SEE ALSO${missing:+ (missing:$missing)}"
	fi
done

# ---- every exported symbol has its page ---------------------------------
if [ -f "$lib" ] && command -v nm >/dev/null 2>&1; then
	nm -D --defined-only "$lib" |
		awk '$2 == "T" && $3 ~ /^gmem_/ { sub(/@.*/, "", $3); print $3 }' |
		sort -u >"$tmp/symbols"
	[ -s "$tmp/symbols" ]
	t $? "$lib exports gmem_* functions ($(wc -l <"$tmp/symbols") found)"
else
	: >"$tmp/symbols"
	false
	t $? "$lib is built and nm (binutils) is installed"
fi

# The prototypes of each public header, comments and macros gone.
: >"$tmp/cpp.err"
for h in "$top"/include/gmem/*.h; do
	"$cc" -E -P -I"$top/include" -x c "$h" 2>>"$tmp/cpp.err" |
		statements >"$tmp/protos.${h##*/}"
done
[ ! -s "$tmp/cpp.err" ]
t $? "the public headers preprocess"
[ -s "$tmp/cpp.err" ] && diag "$tmp/cpp.err"

while read -r sym; do
	p=$sym.3
	[ -f "$top/man/$p" ]
	t $? "$sym has a page: man/$p"
	[ -f "$top/man/$p" ] || continue

	# NAME lists the symbol (after .so resolution).
	awk '/^NAME$/ { f = 1; next } /^[A-Z]/ { f = 0 } f' "$tmp/out/$p.txt" |
		tr ',\n' '  ' | tr -s ' ' '\n' | grep -qx "$sym"
	t $? "$p: NAME lists $sym"

	# SYNOPSIS includes the header that declares the symbol and holds its
	# prototype, word for word.
	header=$(grep -lE "^[^(]*[ *]$sym\(" "$tmp"/protos.* | head -n 1)
	if [ -z "$header" ]; then
		false
		t $? "$sym is declared in include/gmem/*.h"
		continue
	fi
	header=${header##*/protos.}
	proto=$(grep -E "^[^(]*[ *]$sym\(" "$tmp/protos.$header" | head -n 1)
	awk '/^SYNOPSIS$/ { f = 1; next } /^[A-Z]/ { f = 0 } f' "$tmp/out/$p.txt" \
		>"$tmp/synopsis"
	grep -q "^ *#include <gmem/$header>" "$tmp/synopsis"
	t $? "$p: SYNOPSIS includes <gmem/$header> for $sym"
	grep -v '^ *#' "$tmp/synopsis" | statements | grep -qxF "$proto"
	t $? "$p: SYNOPSIS has '$proto'"
done <"$tmp/symbols"

# ---- libgmem(7)'s content-mode tables are the library's -----------------
# The library's answer, as the man page writes it: U, Z, P or "-" per
# position, for to-private and to-shared, before and after finalize.
cat >"$tmp/modes.c" <<'EOF'
#include <stdio.h>
#include <gmem/gmem.h>

static void cell(char out[4], struct gmem_vm *vm, uint64_t attributes)
{
	uint64_t m;

	if (gmem_vm_content_modes(vm, attributes, &m)) {
		snprintf(out, 4, "???");
		return;
	}
	out[0] = (m & GMEM_MODES_UNSPECIFIED) ? 'U' : '-';
	out[1] = (m & GMEM_CONTENT_ZERO) ? 'Z' : '-';
	out[2] = (m & GMEM_CONTENT_PRESERVE) ? 'P' : '-';
	out[3] = 0;
}

int main(void)
{
	for (const char *const *q = gmem_policy_names(); *q; q++) {
		for (const char *const *p = gmem_platform_names(); *p; p++) {
			char c[4][4];
			struct gmem_vm *vm;

			if (gmem_vm_create(&vm, *p, *q))
				return 1;
			cell(c[0], vm, GMEM_ATTR_PRIVATE);
			cell(c[2], vm, 0);
			if (gmem_vm_finalize(vm))
				return 1;
			cell(c[1], vm, GMEM_ATTR_PRIVATE);
			cell(c[3], vm, 0);
			printf("%s %s %s %s %s %s\n", *q, *p, c[0], c[1], c[2], c[3]);
			gmem_vm_destroy(vm);
		}
	}
	return 0;
}
EOF
crypto=$(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
# shellcheck disable=SC2086
"$cc" ${GMEM_SANFLAGS:-} -I"$top/include" -o "$tmp/modes" "$tmp/modes.c" \
	"$build/libgmem.a" $crypto -lpthread >"$tmp/modes.log" 2>&1 &&
	GMEM_BACKEND=emulated "$tmp/modes" >"$tmp/modes.lib" 2>>"$tmp/modes.log"
t $? "a program prints gmem_vm_content_modes() for every policy and platform"
[ -s "$tmp/modes.log" ] && diag "$tmp/modes.log"

# The tables of the page: rows of a .TS block after '.\" content-modes: Q'.
awk -F '\t' '
	/^\.\\" content-modes: / { pol = $0; sub(/.*: /, "", pol); next }
	/^\.TE/ { pol = "" }
	pol != "" && NF == 5 && $1 ~ /^[a-z_]+$/ && $1 != "platform" {
		line = pol " " $1
		for (i = 2; i <= 5; i++) {
			c = $i
			gsub(/\\-/, "-", c)
			gsub(/ /, "", c)
			line = line " " c
		}
		print line
	}' "$top/man/libgmem.7" >"$tmp/modes.man"

for q in $(cut -d' ' -f1 "$tmp/modes.lib" | uniq); do
	grep "^$q " "$tmp/modes.lib" >"$tmp/want"
	grep "^$q " "$tmp/modes.man" >"$tmp/got"
	diff "$tmp/want" "$tmp/got" >"$tmp/diff"
	t $? "libgmem.7: the '$q' content-mode table matches gmem_vm_content_modes()"
	[ -s "$tmp/diff" ] && diag "$tmp/diff"
done
[ -s "$tmp/modes.lib" ] && [ "$(cut -d' ' -f1 "$tmp/modes.man" | sort -u)" = \
	"$(cut -d' ' -f1 "$tmp/modes.lib" | sort -u)" ]
t $? "libgmem.7 has one content-mode table per policy and no other"

echo "1..$n"
exit 0
