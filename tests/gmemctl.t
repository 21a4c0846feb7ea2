#!/bin/sh
# SPDX-License-Identifier: MIT
# gmemctl: exit statuses, one-line usage errors, probe, modes and demo.
set -u
G=${GMEMCTL:-build/gmemctl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"
status() { "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }

[ "$(status "$G")" = 2 ] && grep -q '^usage: gmemctl' "$tmp/err"
t $? "no command: usage on stderr, exit 2"
[ "$(status "$G" frobnicate)" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
	grep -q "unknown command 'frobnicate'" "$tmp/err"
t $? "unknown command: one line, exit 2"
[ "$(status "$G" help)" = 0 ] && grep -q '^  probe' "$tmp/out" &&
	grep -q '^  demo' "$tmp/out" && grep -q '^  modes' "$tmp/out"
t $? "help lists the commands"
[ "$(status "$G" help modes)" = 0 ] && grep -q '^usage: gmemctl modes' "$tmp/out"
t $? "help CMD shows its usage"
[ "$(status "$G" modes --help)" = 0 ] && grep -q '^usage: gmemctl modes' "$tmp/out"
t $? "CMD --help shows its usage"

[ "$(status "$G" probe)" = 0 ] && grep -q '^backends' "$tmp/out" &&
	grep -q '^  emulated  yes' "$tmp/out"
t $? "probe: the backends and why"
[ "$(status "$G" probe --json)" = 0 ] && grep -q '"name":"emulated","usable":true' "$tmp/out"
t $? "probe --json"
[ "$(GMEM_BACKEND=nonesuch status "$G" probe)" = 1 ] && grep -q '^default     none' "$tmp/out"
t $? "probe with a forced unknown backend: exit 1"
[ "$(status "$G" probe --bogus)" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ]
t $? "probe --bogus: usage error"

[ "$(status "$G" modes --platform tdx)" = 0 ] &&
	grep -q '^  to-shared, finalized       yes          yes   no' "$tmp/out"
t $? "modes: TDX refuses PRESERVE to shared"
[ "$(status "$G" modes --platform snp --json)" = 0 ] &&
	grep -q '{"direction":"to-private","phase":"pre-finalize","UNSPECIFIED":true,"ZERO":false,"PRESERVE":true}' "$tmp/out"
t $? "modes --json: SNP refuses ZERO to private"
[ "$(status "$G" modes --policy upstream --platform default)" = 0 ] &&
	grep -q '^  to-private, pre-finalize   yes          no    no' "$tmp/out"
t $? "modes --policy upstream: content flags are gone"
[ "$(status "$G" modes --platform nonesuch)" = 2 ] && grep -q "unknown platform 'nonesuch'" "$tmp/err"
t $? "modes: unknown platform is a usage error"
[ "$(status "$G" modes --policy nonesuch)" = 2 ] && grep -q "unknown policy 'nonesuch'" "$tmp/err"
t $? "modes: unknown policy is a usage error"

[ "$(NO_COLOR=1 status "$G" demo)" = 0 ]
t $? "demo runs every step as described"
grep -q 'SNP_LAUNCH_UPDATE  *Input/output error' "$tmp/out" &&
	grep -q 'firmware error 0x16' "$tmp/out" &&
	grep -q 'RMP validated' "$tmp/out" && grep -q 'SIGBUS (private)' "$tmp/out"
t $? "demo: the SNP CPUID flow, RMP states and SIGBUS"
grep -q 'set SHARED, PRESERVE  *Operation not supported' "$tmp/out" &&
	grep -q 'memset skipped 1' "$tmp/out"
t $? "demo: TDX refuses PRESERVE to shared and skips the memset"
! grep -q "$(printf '\033')" "$tmp/out"
t $? "demo: no colour when not on a terminal"
awk 'length > 80 { exit 1 }' "$tmp/out"
t $? "demo: fits in 80 columns"
[ "$(status "$G" demo --platform pkvm)" = 2 ]
t $? "demo --platform other than snp/tdx: usage error"

# --json: parsed with a real JSON parser, the schema checked (not timings).
json() { perl -MJSON::PP -e 'my $j = decode_json(join "", <STDIN>); '"$1" <"$tmp/out"; }
[ "$(status "$G" modes --json)" = 0 ] &&
	json 'exit !(@{$j->{platforms}} == 5 && @{$j->{platforms}[0]{modes}} == 4 &&
		exists $j->{platforms}[0]{modes}[0]{PRESERVE})'
t $? "modes --json parses: 5 platforms, 4 rows each, one flag per mode"
if [ -n "${GMEM_SANFLAGS:-}" ]; then
	# Timings under a sanitizer mean nothing, and its runtime can make a
	# measurement fail; CI runs `make bench QUICK=1` on the plain build.
	skip "bench --json: not under ${GMEM_SANFLAGS}"
else
	[ "$(status "$G" bench --quick --only attrs --json)" = 0 ] &&
		json 'my $r = $j->{results}{attrs}; exit !($j->{quick} && ref $r eq "ARRAY" && @$r &&
			defined $r->[0]{lookup}{median} && defined $r->[0]{lookup}{min} &&
			defined $r->[0]{lookup}{max} && ref $j->{targets} eq "ARRAY")'
	t $? "bench --json parses: medians with min/max, the targets listed"
	[ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err" | tail -5
fi
[ "$(status "$G" bench --only nonesuch)" = 2 ]
t $? "bench --only with an unknown group: usage error"
echo "1..$n"
