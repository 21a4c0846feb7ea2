#!/bin/sh
# SPDX-License-Identifier: MIT
# `make valgrind`: each test program under valgrind, two at a time; the
# logs stay in $VG_LOGS/<program>.log.  Exit 77 is a skip, as for prove.
# Prints one line per program, the failing points and valgrind's reports of
# a failed one, and a summary; fails if any program failed.
# Usage: valgrind.sh LOGDIR VALGRIND-COMMAND... -- PROGRAM...
set -u
logs=$1
shift
vg=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do vg="$vg $1"; shift; done
shift
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.rc

one() {
	name=$(basename "$1")
	# shellcheck disable=SC2086
	"$(dirname "$0")/../tests/run-test" $vg "$1" > "$logs/$name.log" 2>&1
	echo $? > "$logs/$name.rc"
}

running=0
for t in "$@"; do
	one "$t" &
	running=$((running + 1))
	if [ $running -ge 2 ]; then
		wait
		running=0
	fi
done
wait

failed=0 programs=0 points=0
for t in "$@"; do
	name=$(basename "$t")
	rc=$(cat "$logs/$name.rc")
	n=$(grep -cE '^(not )?ok ' "$logs/$name.log")
	programs=$((programs + 1))
	points=$((points + n))
	if [ "$rc" = 0 ]; then
		if grep -q '^1\.\.0 # SKIP' "$logs/$name.log"; then
			echo "$name: skipped"
		else
			echo "$name: ok ($n points)"
		fi
		continue
	fi
	failed=$((failed + 1))
	echo "$name: FAILED (exit $rc), log $logs/$name.log"
	grep -A3 '^not ok' "$logs/$name.log" | head -20
	grep -E '^==[0-9]+==' "$logs/$name.log" | head -40
done
echo "valgrind: $programs programs, $points test points, $failed failed"
[ $failed = 0 ]
