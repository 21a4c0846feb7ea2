#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# gmemctl probe --json parses as JSON and says what the kernel really
# answers: the same ioctls issued here, independently.
use strict;
use warnings;
use JSON::PP;
use Fcntl;

my $g = $ENV{GMEMCTL} // 'build/gmemctl';
my $n = 0;
sub ok { my ($c, $what) = @_; $n++; print(($c ? "ok" : "not ok") . " $n - $what\n"); }

my $out = `$g probe --json`;
my $rc = $? >> 8;
my $j = eval { decode_json($out) };
ok($j, "probe --json is valid JSON") or print "# $@\n";
ok($rc == 0, "exit status 0 with a usable backend");
$j //= {};

my %names = map { $_->{name} => $_ } @{ $j->{backends} // [] };
ok(exists $names{native} && exists $names{kvm} && exists $names{emulated},
   "all three backends reported");
ok($names{emulated}{usable}, "emulated is always usable");

# _IO(KVMIO = 0xAE, nr)
my ($GET_API, $CREATE_VM, $CHECK_EXT) = (0xAE00, 0xAE01, 0xAE03);
if (sysopen(my $kvm, '/dev/kvm', O_RDWR)) {
	ok($j->{kvm}{available}, "/dev/kvm reported available");
	my $api = ioctl($kvm, $GET_API, 0);
	ok(defined $api && $api == $j->{kvm}{api}, "API version $j->{kvm}{api}");
	my $types = ioctl($kvm, $CHECK_EXT, 235);	# KVM_CAP_VM_TYPES
	$types = defined $types ? int($types) : 0;
	ok($types == $j->{kvm}{vm_types}, "KVM_CAP_VM_TYPES $j->{kvm}{vm_types}");
	my $vmfd = ioctl($kvm, $CREATE_VM, 0);
	if (defined $vmfd) {
		open(my $vm, '+<&=', $vmfd) or die "fdopen: $!";
		for my $cap ([234, 'guest_memfd'], [244, 'guest_memfd_flags'],
			     [233, 'memory_attributes']) {
			my $v = ioctl($vm, $CHECK_EXT, $cap->[0]);
			$v = defined $v ? int($v) : 0;
			ok($v == $j->{kvm}{$cap->[1]},
			   "capability $cap->[0] ($cap->[1]) = $v as reported");
		}
		close($vm);
	}
	my $created = 0;
	for my $t (0 .. 5) {
		my $fd = ioctl($kvm, $CREATE_VM, $t);
		next unless defined $fd;
		$created |= 1 << $t;
		POSIX::close($fd) if eval { require POSIX; 1 };
	}
	ok($created == $j->{kvm}{vm_types_created}, "VM types created: mask $created");
	ok(!!$names{native}{usable} == !!$j->{kvm}{set_memory_attributes2},
	   "native usable exactly when KVM_SET_MEMORY_ATTRIBUTES2 works");
	ok($j->{default} eq ($names{native}{usable} ? 'native' :
			     $names{kvm}{usable} ? 'kvm' : 'emulated'),
	   "the default is the first usable backend in probe order ($j->{default})");
} else {
	ok(!$j->{kvm}{available}, "/dev/kvm absent or closed: reported unavailable");
	ok($j->{default} eq 'emulated', "and the emulated backend is chosen");
}

# The kernel generation (docs/compat.md) follows what was found.
my $gen = $j->{generation} // '';
my $want = !$j->{kvm}{available} ? 'no-kvm' :
	   $names{native}{usable} ? 'in-place-conversion' :
	   $names{kvm}{usable} ? 'mmap-able-guest_memfd' :
	   $gen eq 'private-only-guest_memfd' ? $gen : 'no-guest_memfd';
ok($gen eq $want, "kernel generation $gen (want $want)");
ok(!(($j->{compat_vm_types_added} // -1) & ($j->{kvm}{vm_types} // 0)),
   "libgmem-compat adds only VM types the kernel lacks ($j->{compat_vm_types_added})");

$out = `GMEM_BACKEND=emulated $g probe --json`;
$j = eval { decode_json($out) } // {};
ok(($j->{default} // '') eq 'emulated', "GMEM_BACKEND=emulated is honoured");
print "1..$n\n";
