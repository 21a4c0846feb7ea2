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
#   @@GMEM-END <name> <exit status>
#   @@GMEM-DONE
# and powers off; a timeout kills QEMU if it does not.
#
# Environment (set by mk/kernel.mk):
#   GMEM_KBUILD      the static build tree (programs in tests/, tests/kernel/)
#   SERIES_KERNEL    the bzImage
#   GMEM_KTESTS      the programs: "name=path[:ENV=VALUE,...,ARG,...]" separated
#                    by spaces (a program printing no TAP passes on exit 0)
#   GMEM_KLIBS       shared objects copied into the guest's /lib (for the shim)
#   GMEM_KTIMEOUT    seconds for the whole boot (default 240)
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
my $timeout = $ENV{GMEM_KTIMEOUT} // 240;

skip_all("no series kernel image (SERIES_KERNEL=$kernel; see ../shared/series-kernel/README.md)")
	unless $kernel ne '' && -r $kernel;
skip_all("$qemu is not installed (scripts/ci-qemu.sh installs it)")
	unless system("command -v $qemu >/dev/null 2>&1") == 0;
my $busybox = -x '/bin/busybox' ? '/bin/busybox' : '';
skip_all("no /bin/busybox (Debian's busybox-static)") unless $busybox;
skip_all("no cpio") unless system("command -v cpio >/dev/null 2>&1") == 0;
system("file -L $busybox 2>/dev/null | grep -q 'statically linked'") == 0 || system("command -v file >/dev/null") != 0
	or skip_all("$busybox is not statically linked (install busybox-static)");

# ---- the initramfs ------------------------------------------------------
my $dir = tempdir("gmem-kernel.XXXXXX", TMPDIR => 1, CLEANUP => 1);
my $root = "$dir/root";
make_path("$root/bin", "$root/tests", "$root/lib", "$root/lib64", "$root/tmp");
sub copy { my ($from, $to) = @_; system('cp', '-L', $from, $to) == 0 or die "cp $from $to: $?"; }
copy($busybox, "$root/bin/busybox");

my @progs;
for my $spec (split ' ', $ENV{GMEM_KTESTS} // '') {
	my ($name, $rest) = split /=/, $spec, 2;
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
	push @progs, [ $name, $file, [ grep { /=/ } @words ], [ grep { !/=/ } @words ] ];
}
for my $lib (split ' ', $ENV{GMEM_KLIBS} // '') {
	next unless -e $lib;
	my $to = $lib =~ m{^/lib64/} ? "$root/lib64/" : "$root/lib/";
	copy($lib, $to . basename($lib));
}

open(my $init, '>', "$root/init") or die "init: $!";
print $init <<'EOF';
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/tests
mount -t proc proc /proc 2>/dev/null || { mkdir -p /proc && mount -t proc proc /proc; }
mkdir -p /sys /dev && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
export TMPDIR=/tmp LD_LIBRARY_PATH=/lib:/tests
echo "@@GMEM-KERNEL $(uname -r)"
run() {
	name=$1
	shift
	echo "@@GMEM-BEGIN $name"
	cd /tests && timeout 150 env "$@" 2>&1 </dev/null
	echo "@@GMEM-END $name $?"
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
my (%out, %rc, $kver, $done, $cur);
for (@lines) {
	if (/^\@\@GMEM-KERNEL (\S+)/) { $kver = $1; next; }
	if (/^\@\@GMEM-BEGIN (\S+)/) { $cur = $1; $out{$cur} = []; next; }
	if (/^\@\@GMEM-END (\S+) (\d+)/) { $rc{$1} = $2; $cur = undef; next; }
	if (/^\@\@GMEM-DONE/) { $done = 1; next; }
	push @{ $out{$cur} }, $_ if defined $cur;
}
tap(defined $kver, "the series kernel boots to /init (" . ($kver // 'no marker') . ")");
for my $p (@progs) {
	my $name = $p->[0];
	my @o = @{ $out{$name} // [] };
	my ($pass, $fail) = (scalar(grep { /^ok / } @o), scalar(grep { /^not ok / } @o));
	my ($skip) = map { /^1\.\.0 # SKIP (.*)/ ? $1 : () } @o;
	if (!exists $rc{$name}) {
		tap(0, "$name: did not finish");
		print "# $_\n" for @o[ (@o > 40 ? @o - 40 : 0) .. $#o ];
	} elsif ($rc{$name} == 77 && defined $skip) {
		$n++;
		print "ok $n # SKIP $name: $skip\n";
	} else {
		my $ok = $rc{$name} == 0 && !$fail && ($pass || !grep { /^1\.\./ } @o);
		tap($ok, "$name: $pass passed, $fail failed, exit $rc{$name}");
		print "# $_\n" for ($ok && !$ENV{GMEM_KVERBOSE} ? grep { /^not ok|^# (?!SKIP)|diff|trace/i } @o : @o);
	}
}
tap($done, "the guest ran every program and powered off (QEMU exit $qrc, ${secs}s)");
if (!$done) {
	print "# $_\n" for @lines[ (@lines > 30 ? @lines - 30 : 0) .. $#lines ];
}
if ($ENV{GMEM_KLOG}) {
	system('cp', $log, $ENV{GMEM_KLOG});
}
print "1..$n\n";
