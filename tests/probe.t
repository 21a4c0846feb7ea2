#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# gmemctl probe --json parses as JSON and says what the kernel really
# answers: the same ioctls issued here, independently.  An ioctl that fails
# is reported as the kernel answered it (KVM_GET_API_VERSION's -1, a
# capability's -errno), so /dev/kvm that opens but is not KVM is checked
# too; the points about KVM are SKIP, with the reason, where /dev/kvm does
# not open.  The same points on every host.
use strict;
use warnings;
use JSON::PP;
use Fcntl;
use POSIX ();

my $g = $ENV{GMEMCTL} // 'build/gmemctl';
my $n = 0;
sub ok { my ($c, $what) = @_; $n++; print(($c ? "ok" : "not ok") . " $n - $what\n"); $c }
sub skip { my ($why) = @_; $n++; print "ok $n # SKIP $why\n"; }

my $out = `$g probe --json`;
my $rc = $? >> 8;
my $j = eval { decode_json($out) };
ok($j, "probe --json is valid JSON") or print "# $@\n";
ok($rc == 0, "exit status 0 with a usable backend");
$j //= {};
my $k = $j->{kvm} // {};

my %names = map { $_->{name} => $_ } @{ $j->{backends} // [] };
ok(exists $names{native} && exists $names{kvm} && exists $names{emulated},
   "all three backends reported");
ok($names{emulated}{usable}, "emulated is always usable");

# An ioctl as the kernel answered it: its value, or -errno (-1 for
# KVM_GET_API_VERSION, as gmemctl reports the raw return there).
sub answer {
	my ($fh, $req, $arg, $fail) = @_;
	my $r = ioctl($fh, $req, $arg);
	return defined $r ? int($r) : ($fail // -($! + 0));
}

# _IO(KVMIO = 0xAE, nr)
my ($GET_API, $CREATE_VM, $CHECK_EXT) = (0xAE00, 0xAE01, 0xAE03);
my @caps = ([234, 'guest_memfd'], [244, 'guest_memfd_flags'],
	    [233, 'memory_attributes']);
if (sysopen(my $kvm, '/dev/kvm', O_RDWR)) {
	ok($k->{available}, "/dev/kvm opens: reported available");
	my $api = answer($kvm, $GET_API, 0, -1);
	ok(defined $k->{api} && $api == $k->{api},
	   "API version $api" . ($api == 12 ? "" : " (not KVM)"));
	my $types = answer($kvm, $CHECK_EXT, 235);	# KVM_CAP_VM_TYPES
	ok(defined $k->{vm_types} && $types == $k->{vm_types},
	   "KVM_CAP_VM_TYPES $types as reported");
	my $vmfd = ioctl($kvm, $CREATE_VM, 0);
	if (defined $vmfd) {
		open(my $vm, '+<&=', $vmfd) or die "fdopen: $!";
		for my $cap (@caps) {
			my $v = answer($vm, $CHECK_EXT, $cap->[0]);
			ok(defined $k->{$cap->[1]} && $v == $k->{$cap->[1]},
			   "capability $cap->[0] ($cap->[1]) = $v as reported");
		}
		close($vm);
	} else {
		my $e = -($! + 0);
		for my $cap (@caps) {
			ok(defined $k->{$cap->[1]} && $k->{$cap->[1]} == $e,
			   "capability $cap->[0] ($cap->[1]): no default VM ($e), reported as such");
		}
	}
	my $created = 0;
	for my $t (0 .. 5) {
		my $fd = ioctl($kvm, $CREATE_VM, $t);
		next unless defined $fd;
		$created |= 1 << $t;
		POSIX::close($fd);
	}
	ok(defined $k->{vm_types_created} && $created == $k->{vm_types_created},
	   "VM types created: mask $created");
} else {
	my ($e, $why) = ($! + 0, "/dev/kvm: $!");
	ok(!$k->{available} && ($k->{errno} // 0) == $e,
	   "/dev/kvm does not open: reported unavailable, errno $e");
	skip("$why (API version)");
	skip("$why (KVM_CAP_VM_TYPES)");
	skip("$why (capability $_->[0], $_->[1])") for @caps;
	skip("$why (VM types created)");
}
ok(!!$names{native}{usable} == !!$k->{set_memory_attributes2},
   "native usable exactly when KVM_SET_MEMORY_ATTRIBUTES2 works");
ok(($j->{default} // '') eq ($names{native}{usable} ? 'native' :
			     $names{kvm}{usable} ? 'kvm' : 'emulated'),
   "the default is the first usable backend in probe order (" .
   ($j->{default} // 'none') . ")");

# The kernel generation (docs/compat.md) follows what was found.
my $gen = $j->{generation} // '';
my $want = !$j->{kvm}{available} ? 'no-kvm' :
	   $names{native}{usable} ? 'in-place-conversion' :
	   $names{kvm}{usable} ? 'mmap-able-guest_memfd' :
	   $gen eq 'private-only-guest_memfd' ? $gen : 'no-guest_memfd';
ok($gen eq $want, "kernel generation $gen (want $want)");
my $added = $j->{compat_vm_types_added} // -1;
ok($gen eq 'no-kvm' ? $added == 0 :
   $gen eq 'in-place-conversion' ? !($added & ($j->{kvm}{vm_types} // 0)) && !($added & 1) :
   $added == 0x32,
   "libgmem-compat serves its VM types (0x32) but those a kernel converting in place has ($added)");

$out = `GMEM_BACKEND=emulated $g probe --json`;
$j = eval { decode_json($out) } // {};
ok(($j->{default} // '') eq 'emulated', "GMEM_BACKEND=emulated is honoured");
print "1..$n\n";
