#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# make check-matrix: the project's own build, made once on this host, run
# inside a matrix of kernels booted under QEMU with TCG.  Each guest mounts
# this host's root read-only over 9p with a writable overlay on tmpfs and
# chroots into it, so the checkout, its build, perl, prove, the compiler and
# QEMU are the host's, at the same paths.  In every kernel the same parts
# run:
#   probe      gmemctl probe: the default backend is the one this kernel
#              should give (emulated, kvm or native)
#   demo       make demo, the README's first command: exit status 0
#   compat     tests/compat.t: the uAPI-only programs through libgmem-compat
#   selftests  tests/series_selftests.t: the series' own selftests through
#              the shim (SKIPs there, with its reason, without SERIES_TREE)
#   qemu       tests/qemu_snp.t (GMEM_QEMU_SNP_QUICK=1): an unmodified QEMU
#              launches an SEV-SNP guest through the shim; the digest is the
#              one gmemctl measure snp predicts
# One TAP point per kernel and part.  A kernel that cannot be had (no image,
# no package) makes its points SKIP and names what is missing; a part that
# fails is "not ok" with its first failing lines.  The guest's console is
# kept in GMEM_MATRIX_DIR/<kernel>.log.  The guest prints markers:
#   @@GMEM-KERNEL <uname -r>
#   @@GMEM-MODULE <module> <insmod status>
#   @@GMEM-BEGIN <part>        ... the part's output ...
#   @@GMEM-END <part> <exit status> <seconds>
#   @@GMEM-DONE
# and powers off; a timeout kills QEMU if it does not.
#
# Environment (set by mk/matrix.mk):
#   GMEM_MATRIX_KERNELS  the matrix, one kernel per word:
#                        "name=image:kernel-arguments:default-backend";
#                        image is a bzImage's path or "apt:PACKAGE-GLOB"
#                        (the newest Debian package of that name in apt's
#                        lists, fetched with apt-get download and cached);
#                        a comma separates several kernel arguments
#   GMEM_MATRIX_PARTS    the parts to run (default: probe demo compat selftests qemu)
#   GMEM_MATRIX_MODULES  the modules a packaged kernel loads from its
#                        initramfs (with what they depend on; a module
#                        the kernel has built in is left out)
#   GMEM_MATRIX_DIR      the logs and initramfs images (a build directory)
#   GMEM_MATRIX_CACHE    the downloaded packages and what is taken from them
#   GMEM_MATRIX_TIMEOUT  seconds for one kernel's whole run (default 5400)
#   GMEM_BUILD           the project's build (made on the host beforehand)
#   SERIES_TREE          passed to tests/series_selftests.t
#   QEMU                 the emulator (default qemu-system-x86_64)
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Path qw(make_path remove_tree);
use File::Find qw(find);

my $n = 0;
sub skip_all { print "1..0 # SKIP $_[0]\n"; exit 0; }
sub diag { print "# $_\n" for @_; }

my $top = abs_path(dirname(__FILE__) . '/../..');
my $build = abs_path($ENV{GMEM_BUILD} // "$top/build") // "$top/build";
my $qemu = $ENV{QEMU} // 'qemu-system-x86_64';
my $dir = $ENV{GMEM_MATRIX_DIR} // "$build/matrix";
my $cache = $ENV{GMEM_MATRIX_CACHE} //
	(($ENV{XDG_CACHE_HOME} // ($ENV{HOME} // '/tmp') . '/.cache') . '/libgmem');
my $timeout = $ENV{GMEM_MATRIX_TIMEOUT} // 5400;
my @kernels = map { [ /^([^=]+)=(.*):([^:]*):([^:]*)$/ ] } split ' ', $ENV{GMEM_MATRIX_KERNELS} // '';
skip_all("GMEM_MATRIX_KERNELS names no kernel (run it with make check-matrix)") unless @kernels;
for (@kernels) {
	die "GMEM_MATRIX_KERNELS: a kernel is name=image:arguments:backend\n" unless defined $_->[0];
}

# The parts: what runs in the guest (from the checkout), its time limit
# there, and how its output is judged.
my %parts = (
	probe => { cmd => "$build/gmemctl probe", secs => 300 },
	demo => { cmd => "make demo", secs => 1800 },
	compat => { cmd => "sh tests/compat.t", secs => 3600 },
	selftests => { cmd => "sh tests/series_selftests.t", secs => 3600 },
	qemu => { cmd => "env GMEM_QEMU_SNP_QUICK=1 GMEM_QEMU_SNP_WAIT=900 sh tests/qemu_snp.t", secs => 3600 },
);
my @order = qw(probe demo compat selftests qemu);
my @want = split ' ', $ENV{GMEM_MATRIX_PARTS} // "@order";
for my $p (@want) {
	die "GMEM_MATRIX_PARTS: no part '$p' (the parts: @order)\n" unless $parts{$p};
}
@want = grep { my $p = $_; grep { $_ eq $p } @want } @order;

# What every guest needs from this host.
my $missing;
$missing = "$qemu is not installed (scripts/ci-qemu.sh installs it)"
	unless system("command -v $qemu >/dev/null 2>&1") == 0;
my $busybox = '/bin/busybox';
$missing //= "no $busybox (Debian's busybox-static)" unless -x $busybox;
$missing //= "no cpio" unless system("command -v cpio >/dev/null 2>&1") == 0;
if (!$missing) {	# a dynamic busybox names its loader: no loader in the initramfs
	open(my $bb, '<:raw', $busybox) or die "$busybox: $!";
	local $/;
	my $elf = <$bb>;
	$missing = "$busybox is not statically linked (install busybox-static)" if $elf =~ m{/lib64/ld-linux};
}
skip_all($missing) if $missing;
for my $f ("$build/gmemctl", "$build/libgmem-compat.so") {
	skip_all("$f is not built (make check-matrix builds it)") unless -x $f || -f $f;
}
make_path($dir);

sub run { my ($cmd) = @_; my $out = `$cmd 2>&1`; return ($? >> 8, $out); }

# ---- a kernel from a Debian package -----------------------------------
# Natural order of package names: linux-image-6.1.0-9 before ...-10.
sub natural {
	my @l = split /(\d+)/, $_[0];
	my @r = split /(\d+)/, $_[1];
	while (@l && @r) {
		my ($x, $y) = (shift @l, shift @r);
		my $c = ($x =~ /^\d+$/ && $y =~ /^\d+$/) ? $x <=> $y : $x cmp $y;
		return $c if $c;
	}
	return @l <=> @r;
}

# The module files of an unpacked kernel: name (with '_') -> path.
sub module_files {
	my ($moddir) = @_;
	my %path;
	find(sub {
		return unless /^(.*)\.ko(\.xz|\.zst|\.gz)?$/;
		(my $m = $1) =~ tr/-/_/;
		$path{$m} = $File::Find::name;
	}, "$moddir/kernel");
	return \%path;
}

# A module's file without compression (busybox insmod reads plain ELF).
sub plain_module {
	my ($from, $to) = @_;
	my $how = $from =~ /\.xz$/ ? 'xz -dc' : $from =~ /\.zst$/ ? 'zstd -dcq' :
		  $from =~ /\.gz$/ ? 'gzip -dc' : 'cat';
	system("$how '$from' > '$to'") == 0 or return "cannot decompress $from ($how)";
	return undef;
}

# "depends=" of a module's .modinfo.
sub module_depends {
	my ($ko) = @_;
	open(my $fh, '<:raw', $ko) or return ();
	local $/;
	my $elf = <$fh>;
	return $elf =~ /\0depends=([^\0]*)\0/ ? grep { $_ ne '' } map { tr/-/_/r } split /,/, $1 : ();
}

# Fetch (or take from the cache) the newest package matching GLOB, unpack
# it, and return the kernel image and the modules to load, in order; or
# undef and the reason it cannot be had.
sub apt_kernel {
	my ($glob) = @_;
	my $debs = "$cache/debian";
	make_path($debs);
	(my $re = quotemeta $glob) =~ s/\\\*/[0-9A-Za-z.+~]*/g;	# '*' stays within one '-' field
	my ($prefix) = $glob =~ /^([^*?\[]*)/;
	my ($pkg) = sort { natural($b, $a) } grep { /^$re$/ } map { s/\s+$//r }
		`apt-cache pkgnames '$prefix' 2>/dev/null`;
	my $deb;
	if ($pkg) {
		($deb) = sort { natural($b, $a) } glob("$debs/${pkg}_*.deb");
		if (!$deb) {
			my ($rc, $out) = run("cd '$debs' && apt-get download -q -o APT::Sandbox::User=root '$pkg'");
			($deb) = glob("$debs/${pkg}_*.deb");
			return (undef, "apt-get download $pkg failed: " . (grep { /^E:/ } split /\n/, $out)[0])
				unless $deb;
		}
	} else {
		# Offline, or apt's lists lack it: the newest one fetched before.
		($deb) = sort { natural($b, $a) } grep { basename($_) =~ /^${re}_/ } glob("$debs/*.deb");
		return (undef, "no package $glob in apt's lists (apt-get update) nor in $debs") unless $deb;
		$pkg = basename($deb) =~ s/_.*//r;
	}
	my $root = $deb =~ s/\.deb$//r;
	if (!-e "$root/.unpacked") {
		remove_tree($root);
		make_path($root);
		my ($rc, $out) = run("dpkg-deb -x '$deb' '$root'");
		return (undef, "dpkg-deb -x $deb: $out") if $rc;
		open(my $mark, ">", "$root/.unpacked") or die "$root/.unpacked: $!";
		close($mark);
	}
	my ($image) = glob("$root/boot/vmlinuz-*");
	return (undef, "$deb holds no boot/vmlinuz-*") unless $image;
	my ($moddir) = glob("$root/lib/modules/*");
	return (undef, "$deb holds no lib/modules/") unless $moddir;
	my %builtin;
	if (open(my $b, '<', "$moddir/modules.builtin")) {
		while (<$b>) { $builtin{ tr/-/_/r } = 1 if m{([^/]+)\.ko\s*$}; }
	}
	my $files = module_files($moddir);
	my $plain = "$root/plain-modules";
	make_path($plain);
	# Each module after what it depends on.
	my (@load, %seen);
	my $visit;
	$visit = sub {
		my ($m) = @_;
		return undef if $seen{$m}++ || $builtin{$m};
		my $from = $files->{$m} or return "no module $m in $pkg";
		my $to = "$plain/$m.ko";
		if (!-s $to) { my $e = plain_module($from, $to); return $e if $e; }
		for my $d (module_depends($to)) { my $e = $visit->($d); return $e if $e; }
		push @load, $to;
		return undef;
	};
	for my $m (split ' ', $ENV{GMEM_MATRIX_MODULES} // '') {
		my $e = $visit->($m =~ tr/-/_/r);
		return (undef, $e) if $e;
	}
	return ({ image => $image, modules => \@load, what => basename($deb) });
}

# The kernel a matrix entry names, or the reason it cannot be had.
sub kernel_of {
	my ($image) = @_;
	return apt_kernel($1) if $image =~ /^apt:(.+)$/;
	return (undef, "no kernel image (the matrix names '$image')") unless $image ne '' && -r $image;
	return ({ image => $image, modules => [], what => $image });
}

# ---- the guest ------------------------------------------------------------
sub shq { my ($s) = @_; return "'" . ($s =~ s/'/'\\''/gr) . "'"; }

# The script run in the chroot: the parts, each under a time limit.
sub guest_script {
	my $s = <<'EOF';
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/shm /dev/pts && mount -t tmpfs shm /dev/shm && mount -t devpts pts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp LANG=C.UTF-8
part() {
	name=$1 secs=$2
	shift 2
	echo "@@GMEM-BEGIN $name"
	t0=$(date +%s)
	timeout -k 10 "$secs" sh -c "$*" 2>&1 </dev/null
	echo "@@GMEM-END $name $? $(( $(date +%s) - t0 ))"
}
EOF
	$s .= "cd " . shq($top) . "\n";
	$s .= "export GMEM_BUILD=" . shq($build) . " GMEMCTL=" . shq("$build/gmemctl") . "\n";
	$s .= "export SERIES_TREE=" . shq($ENV{SERIES_TREE} // '') . "\n";
	for my $v (qw(QEMU OVMF GMEM_CC GMEM_MAKE_ARGS)) {
		$s .= "export $v=" . shq($ENV{$v}) . "\n" if defined $ENV{$v};
	}
	$s .= "part $_ $parts{$_}{secs} " . shq($parts{$_}{cmd}) . "\n" for @want;
	return $s;
}

# The initramfs: busybox, the modules, and an /init that loads them, mounts
# this host's root and runs the parts chrooted into it.
sub initramfs {
	my ($name, $k) = @_;
	my $root = "$dir/$name.initramfs";
	remove_tree($root);
	make_path("$root/bin", "$root/modules");
	system('cp', $busybox, "$root/bin/busybox") == 0 or die "cp $busybox";
	my @mods;
	for my $ko (@{ $k->{modules} }) {
		system('cp', $ko, "$root/modules/") == 0 or die "cp $ko";
		push @mods, basename($ko);
	}
	open(my $g, '>', "$root/matrix.sh") or die "$root/matrix.sh: $!";
	print $g guest_script();
	close($g);
	open(my $init, '>', "$root/init") or die "$root/init: $!";
	print $init "#!/bin/busybox sh\n";
	print $init <<'EOF';
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /mnt /ovl
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "@@GMEM-KERNEL $(uname -r)"
EOF
	print $init "insmod /modules/$_; echo \"\@\@GMEM-MODULE $_ \$?\"\n" for @mods;
	print $init <<'EOF';
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose root /mnt &&
	mount -t tmpfs -o size=75% ovl /ovl && mkdir /ovl/up /ovl/work /ovl/root &&
	mount -t overlay overlay -o lowerdir=/mnt,upperdir=/ovl/up,workdir=/ovl/work /ovl/root; then
	cp /matrix.sh /ovl/root/.gmem-matrix.sh
	chroot /ovl/root /bin/sh /.gmem-matrix.sh
else
	echo "@@GMEM-NOROOT the host's root could not be mounted (9p over virtio, overlay)"
fi
echo @@GMEM-DONE
sync
poweroff -f
EOF
	close($init);
	chmod 0755, "$root/init";
	my $img = "$dir/$name.cpio.gz";
	system("cd '$root' && find . | cpio -o -H newc --quiet | gzip -1 > '$img'") == 0
		or die "cpio: $?";
	remove_tree($root);
	return $img;
}

# Boot one kernel; the console's lines.
sub boot {
	my ($name, $k, $args, $log) = @_;
	my $img = initramfs($name, $k);
	my $append = join(' ', 'console=ttyS0 panic=-1 rdinit=/init quiet', split(/,/, $args));
	my @cmd = ('timeout', '-k', '10', $timeout, 'nice', $qemu, '-accel', 'tcg,thread=multi',
		   '-cpu', 'max', '-smp', '2', '-m', '2G', '-nographic', '-no-reboot',
		   '-kernel', $k->{image}, '-initrd', $img, '-append', $append,
		   '-virtfs', 'local,path=/,mount_tag=root,security_model=none,readonly=on');
	diag("$name: @cmd");
	my $t0 = time;
	system(join(' ', map { shq($_) } @cmd) . " </dev/null >" . shq($log) . " 2>&1");
	my $qrc = $? >> 8;
	my $secs = time - $t0;
	open(my $fh, '<', $log) or die "$log: $!";
	# Without the firmware's and the kernel's terminal resets.
	my @lines = map { s/\r|\ec|\e\[[0-9;?]*[A-Za-z]//gr } <$fh>;
	chomp @lines;
	return (\@lines, $qrc, $secs);
}

# The console -> what each part printed, its status and time.
sub parse {
	my ($lines) = @_;
	my %r = (out => {}, rc => {}, secs => {}, modules => []);
	my $cur;
	for (@$lines) {
		if (/\@\@GMEM-KERNEL (\S+)/) { $r{kver} = $1; next; }	# a console may put escapes before it
		if (/^\@\@GMEM-MODULE (\S+) (\d+)/) { push @{ $r{modules} }, [ $1, $2 ]; next; }
		if (/^\@\@GMEM-NOROOT (.*)/) { $r{noroot} = $1; next; }
		if (/^\@\@GMEM-BEGIN (\S+)/) { $cur = $1; $r{out}{$cur} = []; next; }
		if (/^\@\@GMEM-END (\S+) (\d+) (\d+)/) { $r{rc}{$1} = $2; $r{secs}{$1} = $3; $cur = undef; next; }
		if (/^\@\@GMEM-DONE/) { $r{done} = 1; next; }
		push @{ $r{out}{$cur} }, $_ if defined $cur;
	}
	return \%r;
}

# The first failing lines of a TAP part: each "not ok" with what follows it
# up to the next point, at most 12 lines in all.
sub first_failures {
	my @o = @_;
	my @f;
	for my $i (0 .. $#o) {
		next unless $o[$i] =~ /^not ok/;
		push @f, $o[$i];
		for my $j ($i + 1 .. $#o) {
			last if $o[$j] =~ /^(not )?ok / || @f >= 12;
			push @f, $o[$j];
		}
		last if @f >= 12;
	}
	return @f;
}

# Judge one part: (status "ok" | "not ok" | "skip", description, cell of
# the summary table, diagnostics).
sub judge {
	my ($part, $expect, $r) = @_;
	my @o = @{ $r->{out}{$part} // [] };
	my $rc = $r->{rc}{$part};
	if (!defined $rc) {
		my $why = !$r->{kver} ? 'the kernel did not reach /init' :
			  $r->{noroot} ? $r->{noroot} :
			  exists $r->{out}{$part} ? 'did not finish (the boot timed out)' : 'did not run';
		return ('not ok', $why, exists $r->{out}{$part} ? 'timeout' : 'no run',
			@o[ (@o > 20 ? @o - 20 : 0) .. $#o ]);
	}
	my $t = "$r->{secs}{$part} s";
	if ($rc == 124 || $rc == 137) {
		return ('not ok', "timed out after $parts{$part}{secs} s", 'timeout', @o[ (@o > 20 ? @o - 20 : 0) .. $#o ]);
	}
	if ($part eq 'probe') {	# KVM is there in every kernel of the matrix
		my ($got) = map { /^default\s+(\S+)/ ? $1 : () } @o;
		my ($kvm) = map { m{^/dev/kvm\s+(.*)} ? $1 : () } @o;
		$got //= 'none';
		$kvm //= 'not reported';
		my $ok = $rc == 0 && $got eq $expect && $kvm =~ /^API/;
		my @bad = map { "insmod $_->[0]: status $_->[1]" } grep { $_->[1] } @{ $r->{modules} };
		return ($ok ? 'ok' : 'not ok', "default backend $got (want $expect), /dev/kvm $kvm, exit $rc, $t",
			$got, $ok ? () : (@bad, @o));
	}
	if ($part eq 'demo') {	# the README's first command: its status
		return ($rc == 0 ? 'ok' : 'not ok', "make demo exits $rc, $t",
			$rc == 0 ? 'ok' : "FAIL ($rc)", $rc ? @o[ (@o > 20 ? @o - 20 : 0) .. $#o ] : ());
	}
	my ($skip) = map { /^1\.\.0 # SKIP (.*)/ ? $1 : () } @o;
	return ('skip', $skip, 'SKIP') if defined $skip && $rc == 0;
	my ($pass, $fail) = (scalar(grep { /^ok / } @o), scalar(grep { /^not ok / } @o));
	my $skips = grep { /^ok .*# SKIP/ } @o;
	my $ok = $rc == 0 && !$fail && $pass;
	my $cell = $ok ? "ok $pass" : "FAIL $fail/" . ($pass + $fail);
	$cell .= " ($skips skip)" if $skips;
	return ($ok ? 'ok' : 'not ok', "$pass passed ($skips skipped), $fail failed, exit $rc, $t", $cell,
		$ok ? () : (first_failures(@o), ($fail ? () : @o[ (@o > 15 ? @o - 15 : 0) .. $#o ])));
}

# ---- the matrix -------------------------------------------------------------
# The series' selftests are built here, once; each guest finds them made.
if (grep({ $_ eq 'selftests' } @want) && ($ENV{SERIES_TREE} // '') ne '') {
	my ($rc, $out) = run("GMEM_SERIES_BUILD_ONLY=1 sh '$top/tests/series_selftests.t'");
	diag("on this host: $_") for grep { /^(not )?ok|^1\.\.0/ } split /\n/, $out;
}
my @table;
for my $entry (@kernels) {
	my ($name, $image, $args, $expect) = @$entry;
	my $label = $name . ($args ne '' ? " ($args)" : '');
	my ($k, $why) = kernel_of($image);
	if (!$k) {
		for my $p (@want) { $n++; print "ok $n # SKIP $label $p: $why\n"; }
		push @table, [ $name, '-', (map { 'SKIP' } @want), '-' ];
		diag("$name: $why");
		next;
	}
	my $log = "$dir/$name.log";
	my ($lines, $qrc, $secs) = boot($name, $k, $args, $log);
	my $r = parse($lines);
	# QEMU 10.0.2's TCG has been seen to die of SIGSEGV once while a guest
	# ran a nested VM: an emulator that crashed (a signal, not the time
	# limit) boots the kernel once more, and says so.
	if (!$r->{done} && $qrc > 128 && $qrc != 137) {
		diag("$name: the emulator died (status $qrc) before the guest finished; booting it once more");
		rename($log, "$log.crashed");
		($lines, $qrc, $secs) = boot($name, $k, $args, $log);
		$r = parse($lines);
	}
	my @bad = grep { $_->[1] != 0 } @{ $r->{modules} };
	diag("$name: $k->{what}, " . ($r->{kver} // 'no /init') . ", QEMU exit $qrc after $secs s; console in $log");
	diag("$name: insmod $_->[0] failed (status $_->[1])") for @bad;
	my @row = ($name, $r->{kver} // 'no boot');
	for my $p (@want) {
		my ($st, $what, $cell, @d) = judge($p, $expect, $r);
		$n++;
		if ($st eq 'skip') {
			print "ok $n # SKIP $label $p: $what\n";
		} else {
			print "$st $n - $label $p: $what\n";
			diag(map { "  $_" } @d);
		}
		push @row, $cell;
	}
	if (!$r->{done}) {
		diag("$name: the guest did not power off; the console's last lines:",
		     map { "  $_" } @$lines[ (@$lines > 15 ? @$lines - 15 : 0) .. $#$lines ]);
	}
	push @table, [ @row, "$secs s" ];
}

# The summary: kernel x part.
my @head = ('kernel', 'uname -r', @want, 'time');
my @w = map { length } @head;
for my $row (@table) { $w[$_] = length $row->[$_] > $w[$_] ? length $row->[$_] : $w[$_] for 0 .. $#$row; }
diag('', 'the kernel matrix:');
for my $row (\@head, @table) {
	diag(join('  ', map { sprintf("%-*s", $w[$_], $row->[$_]) } 0 .. $#$row) =~ s/\s+$//r);
}
print "1..$n\n";
