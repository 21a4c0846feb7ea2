#!/bin/sh
# SPDX-License-Identifier: MIT
# gmemctl run and map: every scenario under scenarios/ passes on the
# emulated and kvm backends; malformed scripts give exit 2 and FILE:LINE;
# failed expectations give exit 1; the attribute map as a table, JSON and
# well-formed SVG.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
G=${GMEMCTL:-$top/build/gmemctl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"
# Print a file as TAP diagnostics.
diag() { [ -s "$1" ] && sed 's/^/# /' "$1"; return 0; }

if [ ! -x "$G" ]; then
	echo "1..0 # SKIP no gmemctl at $G"
	exit 77
fi

backends="emulated"
if GMEM_BACKEND=kvm "$G" probe >/dev/null 2>&1; then
	backends="emulated kvm"
fi

# ---- every shipped scenario, on every usable backend ----------------------
nscen=0
for f in "$top"/scenarios/*.gmem; do
	[ -f "$f" ] || continue
	nscen=$((nscen+1))
	for b in emulated kvm; do
		case " $backends " in
		*" $b "*) ;;
		*) skip "$(basename "$f") on $b: backend unavailable"; continue ;;
		esac
		GMEM_BACKEND=$b "$G" run -q "$f" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		t $rc "scenario $(basename "$f") on $b"
		[ $rc = 0 ] || diag "$tmp/err"
	done
done
[ $nscen -ge 8 ]
t $? "scenarios/ holds the shipped scenarios ($nscen)"

# ---- every expectation can fail -------------------------------------------
# Flip one expectation of a passing scenario: the run must fail with 1 and
# name the line.
sed 's/^expect error EOPNOTSUPP offset 0x8000$/expect error EOPNOTSUPP offset 0x9000/' \
	"$top/scenarios/errors-eopnotsupp-snp.gmem" >"$tmp/flip.gmem"
fline=$(grep -n 'offset 0x9000' "$tmp/flip.gmem" | cut -d: -f1)
"$G" run "$tmp/flip.gmem" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "flip.gmem:$fline: expected EOPNOTSUPP at offset 0x9000" "$tmp/err"
t $? "a wrong error_offset fails with exit 1 and FILE:LINE (rc $rc)"
[ $rc = 1 ] || diag "$tmp/err"

# Each line: an expectation that does not hold, after a passing prefix.
cat >"$tmp/prefix" <<'EOF'
vm snp
gmem g 256K mmap shared
host write g 0 +8K pattern 0xab
convert g 0x1000 private preserve
EOF
while IFS='|' read -r what line; do
	{ cat "$tmp/prefix"; echo "$line"; } >"$tmp/neg.gmem"
	"$G" run "$tmp/neg.gmem" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 1 ] && grep -q "neg.gmem:5: " "$tmp/err"
	t $? "failed expectation exits 1 with FILE:LINE: $what"
	[ $rc = 1 ] || { echo "# rc $rc for: $line"; diag "$tmp/err"; }
done <<'EOF'
expect ok after a failure|convert g 0x1000 private zero
expect error, wrong errno|expect error EINVAL
expect attr|expect attr g 0x1000 shared
expect host bytes|expect host g 0 pattern 0xac
expect host not|expect host g 0 not pattern 0xab
expect guest bytes|expect guest g 0x1000 private pattern 0x00
expect phys bytes|expect phys g 0 zero
expect rmp|expect rmp g 0x1000 validated
expect page|expect page g 0 unallocated
expect stat|expect stat g conversions 2
expect stat comparison|expect stat g pages_to_private > 1
expect modes|expect modes private zero
expect sigbus|expect sigbus
expect fw|expect fw 0x16
EOF

# Measurements: what `snp digest` / `tdx mrtd` print, `expect digest|mrtd`
# accept, and one changed digit fails.
for pair in "snp-cpuid digest launch digest" "tdx-launch mrtd MRTD"; do
	set -- $pair
	sc=$1 kw=$2
	shift 2
	h=$("$G" run "$top/scenarios/$sc.gmem" 2>/dev/null | sed -n "s/^$* //p")
	{ cat "$top/scenarios/$sc.gmem"; echo "expect $kw $h"; } >"$tmp/h.gmem"
	"$G" run -q "$tmp/h.gmem" >/dev/null 2>"$tmp/err"
	t $? "expect $kw accepts the value printed ($h)"
	bad=$(echo "$h" | awk '{ c = substr($0, 1, 1); printf "%s%s\n", (c == "0" ? "1" : "0"), substr($0, 2) }')
	{ cat "$top/scenarios/$sc.gmem"; echo "expect $kw $bad"; } >"$tmp/h.gmem"
	"$G" run -q "$tmp/h.gmem" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 1 ] && grep -q "h.gmem:.*: $* is $h, not the value expected" "$tmp/err"
	t $? "expect $kw with one digit changed fails (rc $rc)"
done

# A command that fails with nobody expecting it fails the scenario.
printf 'vm default\ngmem g 64K\nconvert g 0 +6K private\nconvert g 0 private\n' >"$tmp/unexp.gmem"
"$G" run "$tmp/unexp.gmem" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "unexp.gmem:3: 'convert g 0 +6K private' failed: EINVAL" "$tmp/err"
t $? "an unexpected command error fails the scenario at its line (rc $rc)"
[ $rc = 1 ] || diag "$tmp/err"

# The host access of a private page raises SIGBUS, caught.
printf 'vm default\ngmem g 64K mmap shared\nconvert g 0 private\nhost write g 0 pattern 1\n' >"$tmp/bus.gmem"
"$G" run "$tmp/bus.gmem" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "bus.gmem:4: .* failed: SIGBUS" "$tmp/err"
t $? "an unexpected SIGBUS is caught and reported, exit 1 (rc $rc)"

# ---- syntax errors: exit 2, FILE:LINE, nothing runs -------------------------
while IFS='|' read -r msg line; do
	printf 'vm default\ngmem g 64K mmap shared\n%s\n' "$line" >"$tmp/syn.gmem"
	"$G" run "$tmp/syn.gmem" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] && grep -qF "syn.gmem:3: $msg" "$tmp/err"
	t $? "syntax error exits 2 with FILE:LINE: $line"
	[ $rc = 2 ] || { echo "# rc $rc"; diag "$tmp/err"; }
done <<'EOF'
unknown command 'frobnicate'|frobnicate g
convert: say 'private' or 'shared'|convert g 0
convert: bad offset 'zz'|convert g zz private
convert: bad length '+4Q'|convert g 0 +4Q private
convert: offset '99999999999999999999' does not fit|convert g 99999999999999999999 private
convert: no gmem named 'h'|convert h 0 private
convert: unexpected 'sideways'|convert g 0 private sideways
expect: unknown check 'nothing'|expect nothing
expect error: unknown errno 'EWHATEVER'|expect error EWHATEVER
expect page: page state 'purple'?|expect page g 0 purple
expect stat: unknown counter 'bogus'|expect stat g bogus 1
host: 'peek'?|host peek g 0
host write: what to write?|host write g 0
unterminated string|host write g 0 text "abc
unknown escape|host write g 0 text "a\qb"
host write: pattern is one byte|host write g 0 pattern 0x100
snp launch-update: page type 'bogus'?|snp launch-update g 0 bogus
gmem: 'g' already exists|gmem g 4K
vm: one VM per scenario|vm snp
vm: unknown platform 'snpp'|vm snpp
vm: unknown policy 'v6'|vm snp policy v6
expect ok: unexpected 'now'|expect ok now
expect digest: a SHA-384 value is 96 hex digits|expect digest 1234
host write: what to write?|host write g 0 len 4K
EOF

# A syntax error late in the file: nothing before it ran (no output).
printf 'vm default\ngmem g 64K mmap shared\necho ran\nconvert g 0 privat\n' >"$tmp/late.gmem"
"$G" run "$tmp/late.gmem" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && [ ! -s "$tmp/out" ] && grep -q "late.gmem:4:" "$tmp/err"
t $? "a syntax error on the last line stops the whole script before it runs"

printf 'gmem g 64K\n' | "$G" run - >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -q "<stdin>:1: gmem: no VM yet" "$tmp/err"
t $? "gmem before vm is a syntax error naming <stdin>:1"

# ---- command line -------------------------------------------------------
"$G" run >/dev/null 2>"$tmp/err"
t $([ $? = 2 ] && grep -q "which scenario" "$tmp/err"; echo $?) "run without a file: usage error"
"$G" run "$tmp/does-not-exist.gmem" >/dev/null 2>"$tmp/err"
t $([ $? = 2 ] && grep -q "does-not-exist.gmem" "$tmp/err"; echo $?) "run of a missing file: exit 2 naming it"
"$G" run --bogus x >/dev/null 2>&1
t $([ $? = 2 ]; echo $?) "run --bogus: exit 2"
"$G" help run | grep -q "expect"
t $? "gmemctl help run describes the language"
"$G" help map | grep -q -- "--svg"
t $? "gmemctl help map mentions --svg"

# ---- stdin, output, JSON ----------------------------------------------------
cat >"$tmp/small.gmem" <<'EOF'
vm default
gmem g 64K mmap shared
echo hello from the scenario
host write g 0x10 text "ABCD"
host read g 0x10 +4
expect host g 0x10 text "ABCD"
EOF
"$G" run - <"$tmp/small.gmem" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && grep -q "hello from the scenario" "$tmp/out" &&
	grep -q "^00000010  41 42 43 44 .*|ABCD|" "$tmp/out" &&
	grep -q "<stdin>: ok (5 commands, 1 expectations)" "$tmp/out"
t $? "run - reads the script from stdin; echo and read dumps on stdout"
[ $rc = 0 ] || { diag "$tmp/out"; diag "$tmp/err"; }

"$G" run -v "$tmp/small.gmem" >"$tmp/out" 2>&1
grep -q 'small.gmem:4: host write g 0x10 text "ABCD" -> ok' "$tmp/out"
t $? "run -v traces each command with its result"

have_py=0
command -v python3 >/dev/null 2>&1 && have_py=1
json_check() {	# FILE PYTHON-EXPRESSION-ON-d
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}
"$G" run --json "$tmp/small.gmem" "$tmp/flip.gmem" >"$tmp/run.json" 2>/dev/null
rc=$?
if [ $have_py = 1 ]; then
	json_check "$tmp/run.json" "len(d['scenarios'])==2 and d['scenarios'][0]['result']=='ok' and d['scenarios'][0]['commands']==5 and d['scenarios'][0]['expects']==1 and d['scenarios'][0]['first_failure'] is None and d['scenarios'][1]['result']=='failed' and d['scenarios'][1]['failures']==1 and d['scenarios'][1]['first_failure']['line']==$fline and 'EOPNOTSUPP' in d['scenarios'][1]['first_failure']['message']"
	t $? "run --json: schema, counts and the first failure"
else
	skip "run --json schema: no python3"
fi
t $([ $rc = 1 ]; echo $?) "run of two scenarios exits with the worst status"

printf 'vm default\nfoo\n' | "$G" run --json - >"$tmp/syn.json" 2>/dev/null
rc=$?
if [ $have_py = 1 ]; then
	json_check "$tmp/syn.json" "d['scenarios'][0]['result']=='syntax-error' and d['scenarios'][0]['first_failure']['line']==2"
	t $? "run --json reports a syntax error with its line"
else
	skip "run --json syntax: no python3"
fi
t $([ $rc = 2 ]; echo $?) "and exits 2"

# ---- map ----------------------------------------------------------------
cat >"$tmp/map.gmem" <<'EOF'
vm snp
gmem mem 1M mmap shared
gmem other 64K mmap
host write mem 0 +256K pattern 1
convert mem 0x10000 +64K private preserve
snp launch-update mem 0x10000 +64K normal
pin mem 0x80000
punch mem 0x20000 +64K
EOF
"$G" map "$tmp/map.gmem" >"$tmp/map.txt" 2>"$tmp/err"
rc=$?
[ $rc = 0 ] &&
	grep -Eq '^gmem mem: 1M, 7 runs' "$tmp/map.txt" &&
	grep -Eq '^ +0x0 +64K +shared +allocated +- +rmp-shared' "$tmp/map.txt" &&
	grep -Eq '^ +0x10000 +64K +private +allocated +- +rmp-validated' "$tmp/map.txt" &&
	grep -Eq '^ +0x20000 +64K +shared +unallocated' "$tmp/map.txt" &&
	grep -Eq '^ +0x80000 +4K +shared +(un)?allocated +pinned' "$tmp/map.txt" &&
	grep -Eq '^gmem other: 64K, 1 run' "$tmp/map.txt" &&
	grep -Eq '^ +0x0 +64K +private +unallocated' "$tmp/map.txt"
t $? "map prints the runs of every gmem"
[ $rc = 0 ] || { diag "$tmp/map.txt"; diag "$tmp/err"; }

"$G" map --json "$tmp/map.gmem" >"$tmp/map.json" 2>/dev/null
if [ $have_py = 1 ]; then
	json_check "$tmp/map.json" "d['platform']=='snp' and d['finalized'] is False and [g['name'] for g in d['gmems']]==['mem','other'] and d['gmems'][0]['size']==1<<20 and sum(r['length'] for r in d['gmems'][0]['runs'])==1<<20 and [(r['offset'],r['private'],r['vendor_state']) for r in d['gmems'][0]['runs']][1]==(0x10000,True,'rmp-validated') and any(r['pinned'] and r['offset']==0x80000 for r in d['gmems'][0]['runs']) and all(set(r)=={'offset','length','private','allocated','pinned','encrypted','vendor_state'} for g in d['gmems'] for r in g['runs'])"
	t $? "map --json: schema, runs cover the file, states"
else
	skip "map --json: no python3"
fi

"$G" map --svg "$tmp/map.svg" "$tmp/map.gmem" >/dev/null 2>"$tmp/err"
rc=$?
t $rc "map --svg writes a file"
if command -v xmllint >/dev/null 2>&1; then
	xmllint --noout "$tmp/map.svg" 2>"$tmp/err"
	t $? "the SVG is well-formed XML (xmllint)"
	nrect=$(xmllint --xpath 'count(//*[local-name()="rect"][@class="run"])' "$tmp/map.svg" 2>/dev/null)
	t $([ "$nrect" = 8 ]; echo $?) "the SVG draws one rect per run (8, got $nrect)"
	npin=$(xmllint --xpath 'count(//*[local-name()="rect"][@class="pin"])' "$tmp/map.svg" 2>/dev/null)
	t $([ "$npin" = 1 ]; echo $?) "the SVG marks the pinned run ($npin)"
	red=$(xmllint --xpath 'string(//*[local-name()="g"][@id="gmem-mem"]/*[local-name()="rect"][@class="run"][2]/@fill)' "$tmp/map.svg" 2>/dev/null)
	blue=$(xmllint --xpath 'string(//*[local-name()="g"][@id="gmem-mem"]/*[local-name()="rect"][@class="run"][1]/@fill)' "$tmp/map.svg" 2>/dev/null)
	t $([ -n "$red" ] && [ -n "$blue" ] && [ "$red" != "$blue" ]; echo $?) "private and shared runs differ in colour ($red, $blue)"
	nleg=$(xmllint --xpath 'count(//*[local-name()="g"][@class="legend"]/*[local-name()="text"])' "$tmp/map.svg" 2>/dev/null)
	t $([ "$nleg" = 5 ]; echo $?) "the legend names private, shared, unallocated both ways and pinned ($nleg)"
else
	skip "xmllint missing: SVG not parsed"
fi
"$G" map --svg - "$tmp/map.gmem" >"$tmp/out.svg" 2>/dev/null
head -c 5 "$tmp/out.svg" | grep -q '<?xml'
t $? "map --svg - writes the SVG to stdout instead of the table"

"$G" map "$tmp/flip.gmem" >"$tmp/out" 2>/dev/null
rc=$?
[ $rc = 1 ] && grep -q '^gmem mem' "$tmp/out"
t $? "map of a failing scenario prints the map and exits 1"
printf 'vm default\nbogus\n' | "$G" map - >/dev/null 2>&1
t $([ $? = 2 ]; echo $?) "map of a malformed scenario exits 2"
"$G" map a b >/dev/null 2>&1
t $([ $? = 2 ]; echo $?) "map with two files: usage error"

echo "1..$n"
exit $failed
