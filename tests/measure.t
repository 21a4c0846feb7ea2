#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# gmemctl measure snp: the output forms (hex line, base64, --json with its
# steps), sev-snp-measure's ways of naming the vCPU, the kernel hashes,
# --snp-ovmf-hash, usage errors (exit 2) and broken images (exit 1), each
# a single line on stderr; Debian 12's OVMF against the published digest.
# The synthetic and broken images come from tests/snp_measure.
use strict;
use warnings;
use File::Temp qw(tempdir);
use JSON::PP;

use Cwd qw(abs_path);
my $g = abs_path($ENV{GMEMCTL} // 'build/gmemctl');
my $build = abs_path($ENV{GMEM_BUILD} // 'build');
my $gen = "$build/tests/snp_measure";
my $tmp = tempdir(CLEANUP => 1);
my $n = 0;
my ($out, $err, $rc);

sub t { my ($c, $what) = @_; $n++; print(($c ? '' : 'not '), "ok $n - $what\n"); }

sub run {
	my @cmd = @_;
	my $pid = fork // die;
	if (!$pid) {
		open STDOUT, '>', "$tmp/out" or die;
		open STDERR, '>', "$tmp/err" or die;
		exec @cmd or exit 127;
	}
	waitpid $pid, 0;
	$rc = $? >> 8;
	local $/;
	open my $o, '<', "$tmp/out" or die; $out = <$o>;
	open my $e, '<', "$tmp/err" or die; $err = <$e>;
}

sub one_line { my ($s) = @_; return $s =~ /\A[^\n]+\n\z/ && $s =~ /^gmemctl: measure: / }

die "missing $gen (make)\n" unless -x $gen;
system($gen, '--write-image', "$tmp/synth.fd") == 0 or die;
my @m = ($g, 'measure', 'snp', '--ovmf', "$tmp/synth.fd");

run(@m, '--vcpus', '2', '--vcpu-type', 'EPYC-v4');
t($rc == 0 && $out =~ /\A[0-9a-f]{96}\n\z/ && $err eq '', 'default output: 96 lowercase hex digits on a line');
my $hex = substr($out, 0, 96);

run(@m, '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--output-format', 'base64');
my $b64 = $out;
chomp $b64;
t($rc == 0 && unpack('H*', pack('H*', $hex)) eq $hex &&
  do { require MIME::Base64; MIME::Base64::encode_base64(pack('H*', $hex), '') eq $b64 },
  '--output-format base64: the same 48 bytes');

run(@m, '--vcpus', '2', '--vcpu-sig', '0x800f12');
my $by_sig = $out;
run(@m, '--vcpus', '2', '--vcpu-family', '23', '--vcpu-model', '1', '--vcpu-stepping', '2');
t($by_sig eq "$hex\n" && $out eq "$hex\n", 'EPYC-v4 = --vcpu-sig 0x800f12 = family 23 model 1 stepping 2');
run(@m, '--vcpus', '2', '--vcpu-type', 'EPYC-Milan');
t($rc == 0 && $out ne "$hex\n", 'another vCPU type, another digest');
run(@m, '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--vmm-type', 'ec2');
t($rc == 0 && $out ne "$hex\n", '--vmm-type ec2: another digest');
run(@m, '--vcpus', '2', '--vmm-type', 'ec2');
t($rc == 0, 'ec2 needs no vCPU signature');
run(@m, '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--guest-features', '0x21');
t($rc == 0 && $out ne "$hex\n", '--guest-features changes the VMSA');

run(@m, '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--json');
my $j = eval { decode_json($out) };
t($rc == 0 && $j && $j->{digest} eq $hex && $j->{platform} eq 'snp' && $j->{vcpus} == 2 &&
  $j->{vcpu_sig} == 0x800f12 && $j->{vmm_type} eq 'QEMU' && $j->{guest_features} == 1 &&
  !$j->{kernel}, '--json: digest and inputs');
t($j && @{$j->{ovmf}{sections}} == 6 && $j->{ovmf}{size} == 65536 &&
  $j->{ovmf}{gpa} == 2**32 - 65536 && $j->{ovmf}{reset_eip} == 0x80b004 &&
  $j->{ovmf}{sections}[4]{type} eq 'snp_kernel_hashes', '--json: the image, its sections');
my @types = $j ? map { $_->{page_type} } @{$j->{steps}} : ();
t("@types" eq 'normal zero secrets cpuid zero zero zero vmsa vmsa' &&
  $j->{steps}[-1]{digest} eq $hex && $j->{steps}[-1]{vcpu} == 1,
  '--json: the steps in launch order, the last digest the result');

run(@m, '--mode', 'snp:ovmf-hash');
my $ovmf_hash = $out;
chomp $ovmf_hash;
t($rc == 0 && $j && $ovmf_hash eq $j->{steps}[0]{digest}, '--mode snp:ovmf-hash: the digest after the image pages');
run(@m, '--mode', 'snp:ovmf-hash', '--json');
my $jh = eval { decode_json($out) };
t($rc == 0 && $jh && $jh->{ovmf_hash} eq $ovmf_hash && $jh->{mode} eq 'snp:ovmf-hash' &&
  $jh->{ovmf}{size} == 65536, '--mode snp:ovmf-hash --json');
run(@m, '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--snp-ovmf-hash', $ovmf_hash);
t($rc == 0 && $out eq "$hex\n", '--snp-ovmf-hash: the same digest');

# Measured direct boot: the hashes of kernel, initrd and command line.
open my $k, '>', "$tmp/kernel" or die; print $k "kernel image\n"; close $k;
open my $i, '>', "$tmp/initrd" or die; print $i "initrd\n"; close $i;
run(@m, '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--kernel', "$tmp/kernel");
my $d1 = $out;
run(@m, '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--kernel', "$tmp/kernel", '--initrd', "$tmp/initrd");
my $d2 = $out;
run(@m, '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--kernel', "$tmp/kernel", '--initrd', "$tmp/initrd",
    '--append', 'console=ttyS0');
my $d3 = $out;
run(@m, '--vcpus', '1', '--vcpu-type', 'EPYC-v4');
t($rc == 0 && $d1 =~ /^[0-9a-f]{96}$/ && $d1 ne $d2 && $d2 ne $d3 && $d1 ne $out,
  '--kernel, --initrd, --append each change the digest');
run(@m, '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--kernel', "$tmp/kernel", '--append', '', '--json');
$j = eval { decode_json($out) };
t($rc == 0 && $j && $j->{kernel} && "$j->{digest}\n" eq $d1, 'an empty --append is the absent one');

# --dump-vmsa: vmsa<N>.bin in the current directory, the pages measured.
{
	require Cwd;
	require Digest::SHA;
	my $cwd = Cwd::getcwd();
	mkdir "$tmp/dump" or die;
	chdir "$tmp/dump" or die;
	run(@m, '--vcpus', '3', '--vcpu-type', 'EPYC-v4', '--dump-vmsa');
	my @sizes = map { -s "vmsa$_.bin" // 0 } 0 .. 3;
	my @h = map { -f "vmsa$_.bin" ? Digest::SHA->new(384)->addfile("vmsa$_.bin")->hexdigest : '' } 0 .. 2;
	t($rc == 0 && "@sizes" eq '4096 4096 4096 0' &&
	  $h[0] eq '77920c4c629ff47e90c0e174fc1ad0eb6fa664f88cd4739488058a8c6cb1a77b3856f55378e9518d0da99452d51c553a' &&
	  $h[1] eq '8413b852790765a310d95867a8b00bfca3a802b5a80830044b45e253fe96222657e11e53fcf63eb0e0afd722385bf7b4' &&
	  $h[2] eq $h[1], '--dump-vmsa: vmsa0.bin (vCPU 0) .. vmsa2.bin, the pages measured');
	mkdir "$tmp/blocked" or die;
	chdir "$tmp/blocked" or die;
	mkdir 'vmsa0.bin' or die;	# a directory where the file should go
	run(@m, '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--dump-vmsa');
	t($rc == 1 && one_line($err) && $err =~ /vmsa0\.bin: Is a directory/ && $out eq '',
	  '--dump-vmsa where it cannot write: exit 1, one line');
	chdir $cwd or die;
}

# Usage errors: exit 2, one line.
my @usage = (
	[ [ 'measure' ], 'missing the platform' ],
	[ [ 'measure', 'sev', '--ovmf', 'x' ], "unknown platform 'sev'" ],
	[ [ 'measure', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC' ], 'missing --ovmf' ],
	[ [ @m[1 .. 4], '--vcpu-type', 'EPYC' ], 'missing --vcpus' ],
	[ [ @m[1 .. 4], '--vcpus', '1' ], 'missing --vcpu-type' ],
	[ [ @m[1 .. 4], '--vcpus', '0', '--vcpu-type', 'EPYC' ], '--vcpus must be' ],
	[ [ @m[1 .. 4], '--vcpus', 'two', '--vcpu-type', 'EPYC' ], "bad --vcpus 'two'" ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-type', 'Skylake' ], "unknown vCPU type 'Skylake'" ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-sig', '1', '--vcpu-type', 'Skylake' ], "unknown vCPU type 'Skylake'" ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-family', '23' ], 'go together' ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-sig', '0x1ffffffff' ], 'bad --vcpu-sig' ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-type', 'EPYC', '--vmm-type', 'xen' ], "unknown VMM type 'xen'" ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-type', 'EPYC', '--initrd', 'x' ], 'need --kernel' ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-type', 'EPYC', '--output-format', 'raw' ], "unknown output format 'raw'" ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-type', 'EPYC', '--snp-ovmf-hash', 'abc' ], '96 hex digits' ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-type', 'EPYC', '--mode', 'sev' ], "unknown mode 'sev'" ],
	[ [ @m[1 .. 4], '--vcpus', '1', '--vcpu-type', 'EPYC', '--frob' ], "unknown option '--frob'" ],
);
for my $u (@usage) {
	run($g, @{$u->[0]});
	t($rc == 2 && one_line($err) && index($err, $u->[1]) >= 0, "usage: $u->[1] (exit $rc)");
}

# Broken images: exit 1, one line naming the file and the reason.
for my $c (qw(unaligned table-length entry-too-long trailing duplicate-metadata
	      metadata-offset signature version count metadata-past-end section-type
	      section-unaligned section-overlap section-in-image secrets-two-pages truncated)) {
	system($gen, '--write-image', "$tmp/bad.fd", $c) == 0 or die "$c";
	run($g, 'measure', 'snp', '--ovmf', "$tmp/bad.fd", '--vcpus', '1', '--vcpu-type', 'EPYC-v4');
	t($rc == 1 && one_line($err) && $err =~ /bad\.fd: / && $out eq '', "broken image '$c': exit 1, one line: " .
	  ($err =~ s/\n//r));
}
run($g, 'measure', 'snp', '--ovmf', "$tmp/none.fd", '--vcpus', '1', '--vcpu-type', 'EPYC');
t($rc == 1 && one_line($err) && $err =~ /No such file/, 'missing image: exit 1, one line');
run($g, 'measure', 'snp', '--ovmf', $tmp, '--vcpus', '1', '--vcpu-type', 'EPYC');
t($rc == 1 && one_line($err) && $err =~ /not a regular file/, 'a directory as the image: exit 1, one line');
run(@m, '--vcpus', '1', '--vcpu-type', 'EPYC', '--kernel', "$tmp/none");
t($rc == 1 && one_line($err) && $err =~ /none: No such file/, 'missing kernel: exit 1, one line');

# gmemctl measure tdx: MRTD of a TDVF image (tests/tdx_measure).
my $tdxgen = "$build/tests/tdx_measure";
system($tdxgen, '--write-image', "$tmp/tdvf.fd") == 0 or die;
run($g, 'measure', 'tdx', '--tdvf', "$tmp/tdvf.fd");
t($rc == 0 && $out =~ /\A[0-9a-f]{96}\n\z/ && $err eq '', 'tdx: MRTD as 96 hex digits on a line');
my $mrtd = substr($out, 0, 96);
run($g, 'measure', 'tdx', '--tdvf', "$tmp/tdvf.fd", '--json');
$j = eval { decode_json($out) };
my @st = $j ? map { "$_->{type}:$_->{pages}:" . ($_->{extended} ? 1 : 0) } @{$j->{sections}} : ();
t($rc == 0 && $j && $j->{mrtd} eq $mrtd && $j->{platform} eq 'tdx' &&
  "@st" eq 'bfv:8:1 cfv:4:0 td_hob:2:0 temp_mem:3:0 temp_mem:1:1' &&
  $j->{sections}[-1]{mrtd} eq $mrtd, 'tdx --json: MRTD and the sections in launch order');
run($g, 'measure', 'tdx', '--tdvf', "$tmp/tdvf.fd", '-v');
t($rc == 0 && $out eq "$mrtd\n" && (() = $err =~ /^\S+ +gpa 0x/mg) == 5, 'tdx -v: one line per section on stderr');
run($g, 'measure', 'tdx', '--tdvf', "$tmp/tdvf.fd", '--vcpus', '2');
t($rc == 2 && one_line($err) && $err =~ /--vcpus does not apply to tdx/, 'tdx: an SEV-SNP option is a usage error');
run($g, 'measure', 'tdx');
t($rc == 2 && one_line($err) && $err =~ /missing --tdvf/, 'tdx: missing --tdvf');
run(@m, '--vcpus', '1', '--vcpu-type', 'EPYC', '--tdvf', "$tmp/tdvf.fd");
t($rc == 2 && one_line($err) && $err =~ /--tdvf does not apply to snp/, 'snp: --tdvf is a usage error');
for my $c (qw(signature version count-1 length raw-larger overlap hob-extended no-tdx-entry)) {
	system($tdxgen, '--write-image', "$tmp/badtd.fd", $c) == 0 or die "$c";
	run($g, 'measure', 'tdx', '--tdvf', "$tmp/badtd.fd");
	t($rc == 1 && one_line($err) && $err =~ /badtd\.fd: / && $out eq '',
	  "tdx, broken TDVF '$c': exit 1, one line: " . ($err =~ s/\n//r));
}

# Debian 12's OVMF: the published vector.
my $deb = '/usr/share/ovmf/OVMF.fd';
my $want = '11570979c77a0adb515761a702527c8b9e11554e730552621d950988613a3a75c6ff1703f540bd22a9beede8fe7a97e3';
run('sha256sum', $deb);
if ($rc == 0 && $out =~ /^7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773 /) {
	run($g, 'measure', 'snp', '--ovmf', $deb, '--vcpus', '1', '--vcpu-type', 'EPYC-v4');
	t($rc == 0 && $out eq "$want\n", 'Debian 12 OVMF.fd, 1 vCPU EPYC-v4: the published digest');
	run($g, 'measure', 'tdx', '--tdvf', $deb);
	t($rc == 0 && $out eq "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47\n",
	  'Debian 12 OVMF.fd as a TDVF: the MRTD of an independent implementation');
	run($g, 'measure', 'snp', '--ovmf', $deb, '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--kernel', $0);
	t($rc == 1 && one_line($err) && $err =~ /no kernel hashes section/,
	  'Debian OVMF.fd has no kernel hashes section: --kernel refused');
} else {
	for (1 .. 3) { $n++; print "ok $n # SKIP $deb is not Debian 12's ovmf 2022.11-6+deb12u2\n"; }
}
print "1..$n\n";
