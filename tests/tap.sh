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

# kvm_missing: prints why this host has no KVM to use (nothing when it
# has): no /dev/kvm, one that does not open read-write, or another device
# in its place (KVM_GET_API_VERSION fails or is not 12).
kvm_missing() {
	perl -MFcntl -e '
		sysopen(my $kvm, "/dev/kvm", O_RDWR) or
			print("no /dev/kvm: $!\n"), exit 0;
		my $api = ioctl($kvm, 0xAE00, 0);	# KVM_GET_API_VERSION
		print defined $api ? "/dev/kvm is not KVM (API version $api)\n" :
			"/dev/kvm is not KVM (KVM_GET_API_VERSION: $!)\n"
			unless defined $api && $api == 12;'
}

# require_kvm: skip_all, with the reason, unless this host has KVM.
require_kvm() {
	why=$(kvm_missing)
	[ -z "$why" ] || skip_all "$why"
}
