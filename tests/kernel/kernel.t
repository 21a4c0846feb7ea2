#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# make check-kernel: the test programs, linked statically, run inside the
# series kernel (Linux with "guest_memfd: In-place conversion support" v8)
# under QEMU with TCG.  This script packs them with busybox and an /init into
# an initramfs, boots the kernel, and turns the serial console into TAP: one
# test point per guest program, named, with the program's own TAP output as
# diagnostics.  The guest prints machine-readable markers:
#   @@GMEM-KERNEL <uname -r>
#   @@GMEM-BEGIN <name>        ... the program's output ...
#   @@GMEM-END <name> <exit status> <seconds>
#   @@GMEM-DONE
# and powers off; a timeout kills QEMU if it does not.
#
# Environment (set by mk/kernel.mk):
#   GMEM_KBUILD      the static build tree (programs in tests/, tests/kernel/)
#   SERIES_KERNEL    the bzImage
#   GMEM_KTESTS      the programs: "name=path[:ENV=VALUE,...,ARG,...]" separated
#                    by spaces (a program printing no TAP passes on exit 0)
#                    a name starting with '~' is not judged by its exit status,
#                    only compared (GMEM_KSAME)
#   GMEM_KSAME       "a=b ...": programs whose TAP output must be the same
#   GMEM_KHOST_SHIM  names whose native output in the guest must equal the
#                    same program's on this host with libgmem-compat preloaded
#   GMEM_KLIBS       shared objects copied into the guest's /lib (the shim);
#                    they and dynamic programs bring their libraries (ldd)
#   GMEM_KTIMEOUT    seconds for the whole boot (default 600: a hang guard; a
#                    run takes about 2 minutes)
#   GMEM_KPROG_TIMEOUT  seconds for one program in the guest (default 240)
#   QEMU             the emulator (default qemu-system-x86_64)
use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Basename qw(basename);
use File::Path qw(make_path);

my $n = 0;
sub tap { my ($ok, $what) = @_; $n++; print(($ok ? "ok" : "not ok") . " $n - $what\n"); }
sub skip_all { print "1..0 # SKIP $_[0]\n"; exit 0; }

my $kbuild = $ENV{GMEM_KBUILD} or skip_all("GMEM_KBUILD is not set (run it with make check-kernel)");
my $kernel = $ENV{SERIES_KERNEL} // '';
my $qemu = $ENV{QEMU} // 'qemu-system-x86_64';
my $timeout = $ENV{GMEM_KTIMEOUT} // 600;
my $ptimeout = $ENV{GMEM_KPROG_TIMEOUT} // 240;

skip_all("no series kernel image (SERIES_KERNEL=$kernel; see ../shared/series-kernel/README.md)")
	unless $kernel ne '' && -r $kernel;
skip_all("$qemu is not installed (scripts/ci-qemu.sh installs it)")
	unless system("command -v $qemu >/dev/null 2>&1") == 0;
my $busybox = -x '/bin/busybox' ? '/bin/busybox' : '';
skip_all("no /bin/busybox (Debian's busybox-static)") unless $busybox;
skip_all("no cpio") unless system("command -v cpio >/dev/null 2>&1") == 0;
{	# a dynamic busybox names its loader (PT_INTERP): no loader in the guest
	open(my $bb, '<:raw', $busybox) or skip_all("$busybox: $!");
	local $/;
	my $elf = <$bb>;
	skip_all("$busybox is not statically linked (install busybox-static)")
		if $elf =~ m{/lib64/ld-linux};
}

# ---- the initramfs ------------------------------------------------------
my $dir = tempdir("gmem-kernel.XXXXXX", TMPDIR => 1, CLEANUP => 1);
my $root = "$dir/root";
make_path("$root/bin", "$root/tests", "$root/lib", "$root/lib64", "$root/tmp");
sub copy { my ($from, $to) = @_; system('cp', '-L', $from, $to) == 0 or die "cp $from $to: $?"; }
copy($busybox, "$root/bin/busybox");

my @progs;
for my $spec (split ' ', $ENV{GMEM_KTESTS} // '') {
	my ($name, $rest) = split /=/, $spec, 2;
	my $cmp_only = $name =~ s/^~//;
	my ($path, $env) = split /:/, $rest, 2;
	$path = "$kbuild/$path" unless $path =~ m{^/};
	if (!-x $path) {
		tap(0, "$name: $path is built");
		next;
	}
	my $file = basename($path);
	copy($path, "$root/tests/$file") unless -e "$root/tests/$file";
	system('strip', '--strip-debug', "$root/tests/$file") if system("command -v strip >/dev/null") == 0;
	my @words = defined $env ? map { s/'/'\\''/gr } split(/,/, $env) : ();
	push @progs, [ $name, $file, [ grep { /=/ } @words ], [ grep { !/=/ } @words ], $cmp_only, $path ];
}
# Shared objects, and what they and the dynamic programs need (ldd).
my %libs;
for my $f ((split ' ', $ENV{GMEM_KLIBS} // ''), map { $_->[5] } @progs) {
	next unless -e $f;
	$libs{$f} = 1 if $f =~ /\.so/;
	for (`ldd '$f' 2>/dev/null`) {
		$libs{$1} = 1 if m{=>\s*(/\S+)} || m{^\s*(/\S+)};
	}
}
for my $lib (sort keys %libs) {
	my $to = $lib =~ m{ld-linux} ? "$root/lib64/" : "$root/lib/";
	copy($lib, $to . basename($lib));
}

# One KVM VM held for the whole run (tests/kernel/helpers/hold_vm.c says why).
my $hold = "$kbuild/tests/kernel/helpers/hold_vm";
copy($hold, "$root/bin/hold_vm") if -x $hold;

open(my $init, '>', "$root/init") or die "init: $!";
print $init "#!/bin/busybox sh\nPROG_TIMEOUT=$ptimeout\n";
print $init <<'EOF';
/bin/busybox --install -s /bin
export PATH=/bin:/tests
mount -t proc proc /proc 2>/dev/null || { mkdir -p /proc && mount -t proc proc /proc; }
mkdir -p /sys /dev && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
export TMPDIR=/tmp LD_LIBRARY_PATH=/lib:/tests
echo "@@GMEM-KERNEL $(uname -r)"
[ -x /bin/hold_vm ] && /bin/hold_vm &
run() {
	name=$1
	shift
	echo "@@GMEM-BEGIN $name"
	t0=$(date +%s)
	cd /tests && timeout $PROG_TIMEOUT env "$@" 2>&1 </dev/null
	rc=$?
	echo "@@GMEM-END $name $rc $(( $(date +%s) - t0 ))"
}
EOF
for my $p (@progs) {
	my ($name, $file, $env, $args) = @$p;
	print $init "run $name " . join(' ', map { "'$_'" } @$env) . " ./$file " .
		join(' ', map { "'$_'" } @$args) . "\n";
}
print $init "echo \@\@GMEM-DONE\nsync\npoweroff -f\n";
close($init);
chmod 0755, "$root/init";
system("cd '$root' && find . | cpio -o -H newc --quiet | gzip -1 > '$dir/initramfs.cpio.gz'") == 0
	or die "cpio: $?";

# ---- boot ---------------------------------------------------------------
my @cmd = ('timeout', '-k', '5', $timeout, $qemu, '-accel', 'tcg,thread=multi', '-cpu', 'max',
	   '-smp', '2', '-m', '2G', '-nographic', '-no-reboot', '-serial', 'mon:stdio',
	   '-kernel', $kernel, '-initrd', "$dir/initramfs.cpio.gz",
	   '-append', 'console=ttyS0 panic=-1 rdinit=/init quiet');
print "# @cmd\n";
my $log = "$dir/serial.log";
my $t0 = time;
system(join(' ', map { "'$_'" } @cmd) . " </dev/null >'$log' 2>&1");
my $qrc = $? >> 8;
my $secs = time - $t0;
open(my $fh, '<', $log) or die "$log: $!";
my @lines = map { s/\r//gr } <$fh>;
close($fh);
chomp @lines;

# ---- serial console -> TAP -------------------------------------------------
my (%out, %rc, %secs, $kver, $done, $cur);
for (@lines) {
	if (/^\@\@GMEM-KERNEL (\S+)/) { $kver = $1; next; }
	if (/^\@\@GMEM-BEGIN (\S+)/) { $cur = $1; $out{$cur} = []; next; }
	if (/^\@\@GMEM-END (\S+) (\d+) ?(\d*)/) { $rc{$1} = $2; $secs{$1} = $3; $cur = undef; next; }
	if (/^\@\@GMEM-DONE/) { $done = 1; next; }
	push @{ $out{$cur} }, $_ if defined $cur;
}
tap(defined $kver, "the series kernel boots to /init (" . ($kver // 'no marker') . ")");
for my $p (@progs) {
	my ($name, $cmp_only) = ($p->[0], $p->[4]);
	my @o = @{ $out{$name} // [] };
	my ($pass, $fail) = (scalar(grep { /^ok / } @o), scalar(grep { /^not ok / } @o));
	my ($skip) = map { /^1\.\.0 # SKIP (.*)/ ? $1 : () } @o;
	if (!exists $rc{$name}) {
		tap(0, "$name: did not finish");
		print "# $_\n" for @o[ (@o > 40 ? @o - 40 : 0) .. $#o ];
	} elsif ($cmp_only) {
		next;	# judged by GMEM_KSAME / GMEM_KHOST_SHIM
	} elsif ($rc{$name} == 77 && defined $skip) {
		$n++;
		print "ok $n # SKIP $name: $skip\n";
	} else {
		my $ok = $rc{$name} == 0 && !$fail && ($pass || !grep { /^1\.\./ } @o);
		tap($ok, "$name: $pass passed, $fail failed, exit $rc{$name}" .
			($secs{$name} ne '' ? " ($secs{$name} s)" : ''));
		print "# $_\n" for ($ok && !$ENV{GMEM_KVERBOSE} ? grep { /^not ok|^# (?!SKIP)|diff|trace/i } @o : @o);
	}
}

# The TAP result lines of a run, without diagnostics.
sub results { return grep { /^(not )?ok |^1\.\./ } @_; }
sub show_diff {
	my ($an, $a, $bn, $b) = @_;
	for my $i (0 .. ($#$a > $#$b ? $#$a : $#$b)) {
		my ($x, $y) = ($a->[$i] // '(none)', $b->[$i] // '(none)');
		next if $x eq $y;
		print "#   $an: $x\n#   $bn: $y\n";
		last;
	}
}
for my $pair (split ' ', $ENV{GMEM_KSAME} // '') {
	my ($a, $b) = split /=/, $pair;
	my @ra = results(@{ $out{$a} // [] });
	my @rb = results(@{ $out{$b} // [] });
	# Both pass (two runs failing alike prove nothing), with the same
	# results.
	my $same = ($rc{$a} // -1) == 0 && ($rc{$b} // -1) == 0 &&
		   !grep({ /^not ok/ } @ra, @rb) && "@ra" eq "@rb" && @ra;
	tap($same, "$a and $b print the same results (" . scalar(grep { /^ok/ } @ra) .
		" ok, exit " . ($rc{$a} // '-') . ")");
	show_diff($a, \@ra, $b, \@rb) unless $same;
}
my %spec = map { $_->[0] => $_ } @progs;
my $shim = ($ENV{GMEM_KLIBS} // '') =~ m{(\S*libgmem-compat\.so)} ? $1 : '';
for my $name (split ' ', $ENV{GMEM_KHOST_SHIM} // '') {
	my $p = $spec{$name} or next;
	if (!$shim || !-c '/dev/kvm') {
		$n++;
		print "ok $n # SKIP $name on this host: no shim or no /dev/kvm\n";
		next;
	}
	my $env = join(' ', map { "'$_'" } @{ $p->[2] });
	my @host = map { s/\r//gr } `env $env LD_PRELOAD='$shim' '$p->[5]' 2>&1`;
	my $hrc = $? >> 8;
	chomp @host;
	my @rh = results(@host);
	my @rg = results(@{ $out{$name} // [] });
	my $same = ($rc{$name} // -1) == 0 && $hrc == 0 && "@rh" eq "@rg" && @rg;
	tap($same, "$name passes natively in the series kernel (" . scalar(@rg) .
		" results) exactly as with libgmem-compat on this host (exit " .
		($rc{$name} // '-') . " / $hrc)");
	show_diff("$name guest", \@rg, "$name host+shim", \@rh) unless $same;
	print "# $_\n" for grep { /^not ok/ } @{ $out{$name} // [] };
}
tap($done, "the guest ran every program and powered off (QEMU exit $qrc, ${secs}s)");
if (!$done) {
	print "# $_\n" for @lines[ (@lines > 30 ? @lines - 30 : 0) .. $#lines ];
}
if ($ENV{GMEM_KLOG}) {
	system('cp', $log, $ENV{GMEM_KLOG});
}
print "1..$n\n";
