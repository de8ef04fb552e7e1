#!/usr/bin/env bash
# Reassembly torture test: tools/gencap writes synthetic captures whose stream bytes are known
# (1-byte segments, shuffled order, duplicates, conflicting overlaps, sequence wrap, mid-stream
# pickup, lost segments, snaplen cuts, every link type, IPv6, pcapng, ns timestamps, port
# reuse, UDP), each with NAME.expect; tools/ctdump must print exactly NAME.expect for it.
#
# Per capture, four TAP tests:
#   1. ctdump output == NAME.expect (a unified diff is shown as # comments on failure);
#   2. tshark reads the file (`tshark -r FILE -q` exits 0): the generator writes valid files;
#   3. per connection and direction, ctdump's payload_bytes == tshark's sum of tcp.len
#      (or udp.length - 8), connections matched to tshark streams by order of first packet
#      and endpoints;
#   4. the same sums against NAME.expect, so the generator's model is checked independently.
# Tests 2-4 are skipped when tshark is missing.
#
# Run by `make check` as: CT_BUILD=<abs build dir> prove --exec '' tests/golden/torture.t
set -u

if [ -z "${CT_BUILD:-}" ]; then
	echo "1..0 # SKIP CT_BUILD is not set (run through make check)"
	exit 0
fi
GENCAP=$CT_BUILD/tools/gencap
CTDUMP=$CT_BUILD/tools/ctdump

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ct-torture.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/cap"

if ! "$GENCAP" "$tmp/cap" >"$tmp/gencap.log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - gencap writes the captures"
	sed 's/^/# /' "$tmp/gencap.log"
	exit 0
fi

captures=()
for f in "$tmp"/cap/*.pcap "$tmp"/cap/*.pcapng; do
	[ -e "$f" ] && captures+=("$f")
done

have_tshark=0
command -v tshark >/dev/null 2>&1 && have_tshark=1

echo "1..$((1 + 4 * ${#captures[@]}))"
n=0
pass() {
	n=$((n + 1))
	echo "ok $n - $1"
}
fail() { # fail NAME DETAILFILE...
	n=$((n + 1))
	echo "not ok $n - $1"
	shift
	for d in "$@"; do
		[ -s "$d" ] && head -n 80 "$d" | sed 's/^/# /'
	done
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

if [ ${#captures[@]} -ge 20 ]; then
	pass "gencap wrote ${#captures[@]} captures"
else
	fail "gencap wrote only ${#captures[@]} captures" "$tmp/gencap.log"
fi

# Compares payload_bytes of a ctdump/.expect file with tshark's per-stream sums.
# tshark fields (tab separated): tcp.stream udp.stream ip.src ipv6.src ip.dst ipv6.dst
#   tcp.srcport tcp.dstport udp.srcport udp.dstport tcp.len udp.length
cat >"$tmp/cmp.pl" <<'PERL'
use strict;
use warnings;
my ($fields, $dump) = @ARGV;
my (%st, @order);
open my $ff, '<', $fields or die "$fields: $!";
while (my $line = <$ff>) {
	chomp $line;
	my ($ts, $us, $s4, $s6, $d4, $d6, $tsp, $tdp, $usp, $udp, $tl, $ul) = split /\t/, $line, -1;
	next unless defined $ul;
	my ($key, $proto, $sp, $dp, $len);
	if ($ts ne '') {
		($key, $proto, $sp, $dp, $len) = ("tcp/$ts", 'tcp', $tsp, $tdp, $tl eq '' ? 0 : $tl);
	} elsif ($us ne '') {
		($key, $proto, $sp, $dp, $len) = ("udp/$us", 'udp', $usp, $udp, $ul eq '' ? 0 : $ul - 8);
	} else {
		next;
	}
	my $src = $s4 ne '' ? "$s4:$sp" : "[$s6]:$sp";
	my $dst = $d4 ne '' ? "$d4:$dp" : "[$d6]:$dp";
	if (!$st{$key}) {
		$st{$key} = { proto => $proto, eps => [ $src, $dst ], sum => { $src => 0, $dst => 0 } };
		push @order, $key;
	}
	$st{$key}{sum}{$src} += $len;
}
close $ff;

my @conns;
open my $df, '<', $dump or die "$dump: $!";
while (my $line = <$df>) {
	if ($line =~ /^conn (\d+) (tcp|udp) (\S+) > (\S+) /) {
		push @conns, { id => $1, proto => $2, cli => $3, srv => $4 };
	} elsif ($line =~ /^(c2s|s2c) payload_bytes (\d+)$/ && @conns) {
		$conns[-1]{$1} = $2;
	}
}
close $df;

my $bad = 0;
if (@conns != @order) {
	printf "%d connections, tshark has %d streams\n", scalar @conns, scalar @order;
	$bad = 1;
}
for my $i (0 .. $#conns) {
	my $c = $conns[$i];
	my $s = $order[$i] ? $st{ $order[$i] } : undef;
	if (!$s) {
		print "conn $c->{id}: no tshark stream\n";
		$bad = 1;
		next;
	}
	my %eps = map { $_ => 1 } @{ $s->{eps} };
	if ($s->{proto} ne $c->{proto} || !$eps{ $c->{cli} } || !$eps{ $c->{srv} }) {
		print "conn $c->{id} $c->{proto} $c->{cli} > $c->{srv}: tshark stream $order[$i] is ",
		    join(' <> ', @{ $s->{eps} }), "\n";
		$bad = 1;
		next;
	}
	for my $dir ([ 'c2s', $c->{cli} ], [ 's2c', $c->{srv} ]) {
		my ($d, $ep) = @$dir;
		my $ours = $c->{$d} // 'missing';
		my $theirs = $s->{sum}{$ep} // 0;
		if ($ours ne $theirs) {
			print "conn $c->{id} $d payload_bytes $ours, tshark $theirs\n";
			$bad = 1;
		}
	}
}
exit $bad;
PERL

for f in "${captures[@]}"; do
	base=$(basename "$f")
	name=${base%.*}
	exp=$tmp/cap/$name.expect
	out=$tmp/$name.out
	err=$tmp/$name.err

	# 1. byte-exact reassembly
	"$CTDUMP" "$f" >"$out" 2>"$err"
	rc=$?
	if [ $rc -eq 0 ] && diff -u "$exp" "$out" >"$tmp/$name.diff" 2>&1; then
		pass "$base: ctdump matches $name.expect"
	else
		diff -u "$exp" "$out" >"$tmp/$name.diff" 2>&1
		echo "ctdump exit status $rc" >"$tmp/$name.rc"
		fail "$base: ctdump matches $name.expect" "$tmp/$name.rc" "$err" "$tmp/$name.diff"
	fi

	if [ $have_tshark -eq 0 ]; then
		skip "$base: tshark reads it" "tshark not installed"
		skip "$base: ctdump payload_bytes match tshark" "tshark not installed"
		skip "$base: $name.expect payload_bytes match tshark" "tshark not installed"
		continue
	fi

	# 2. the file is valid for an independent reader
	if tshark -r "$f" -q >"$tmp/$name.ts.log" 2>&1; then
		pass "$base: tshark reads it"
	else
		fail "$base: tshark reads it" "$tmp/$name.ts.log"
	fi

	# 3, 4. payload volume per direction against tshark
	tshark -r "$f" -T fields -E occurrence=f \
		-e tcp.stream -e udp.stream -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
		-e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e tcp.len -e udp.length \
		>"$tmp/$name.fields" 2>"$tmp/$name.fields.err"
	if perl "$tmp/cmp.pl" "$tmp/$name.fields" "$out" >"$tmp/$name.cmp" 2>&1; then
		pass "$base: ctdump payload_bytes match tshark"
	else
		fail "$base: ctdump payload_bytes match tshark" "$tmp/$name.cmp"
	fi
	if perl "$tmp/cmp.pl" "$tmp/$name.fields" "$exp" >"$tmp/$name.cmpx" 2>&1; then
		pass "$base: $name.expect payload_bytes match tshark"
	else
		fail "$base: $name.expect payload_bytes match tshark" "$tmp/$name.cmpx"
	fi
done
