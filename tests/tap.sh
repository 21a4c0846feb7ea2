# SPDX-License-Identifier: MIT
# TAP for the shell tests (tests/*.t source this; tests/tap.h is the C one).
#   t STATUS DESCRIPTION   one point: ok when STATUS is 0
#   skip REASON            one point, skipped
#   skip_all REASON...     no points: the whole script is skipped
# n counts the points (the script prints "1..$n" at the end); failed is 1
# once a point has failed.
n=0
failed=0

t() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
