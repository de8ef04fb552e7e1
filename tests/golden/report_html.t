#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium (Debian `chromium`) opens the report of
# the tests/golden/report fixture, takes a screenshot and logs the page's console. The test
# checks that the page logged nothing to the console (no script errors, no Content Security
# Policy violations, i.e. no attempted fetch), and that the charts were drawn: the screenshot
# is decoded (a small PNG reader in Perl, below) and must hold the colours the charts alone
# use: the still-stale curve and stale reads (#d62728), the arrival dots and a CDF curve
# (#2ca02c), CDF curves (#1f77b4, #ff7f0e) and the API call bars (#9ecae1).
# A control page (no charts, one deliberate console error, one external image the policy
# blocks) proves that the console check sees errors and that a page without charts has none
# of those colours. Two Chromium launches in all: it is slow to start.
set -u
. "$(dirname "$0")/../lib.sh"
gold=$top/tests/golden/report
cap=$top/captures/public/zeek/set.pcap
export LC_ALL=C

# pngcount FILE RRGGBB...: "WIDTH HEIGHT DISTINCT-COLOURS" then "RRGGBB COUNT" per colour, for
# an 8-bit RGB or RGBA non-interlaced PNG (what Chromium writes).
pngcount() {
	perl -e '
use strict; use warnings; use Compress::Zlib;
my ($file, @want) = @ARGV;
open(my $fh, "<:raw", $file) or die "$file: $!\n";
local $/; my $png = <$fh>; close $fh;
substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n" or die "$file: not a PNG\n";
my ($pos, $idat, $w, $h, $bpp) = (8, "");
while ($pos + 8 <= length $png) {
	my ($len, $type) = unpack("N a4", substr($png, $pos, 8));
	my $data = substr($png, $pos + 8, $len);
	$pos += 12 + $len;
	if ($type eq "IHDR") {
		my ($depth, $ctype, $il);
		($w, $h, $depth, $ctype, undef, undef, $il) = unpack("N N C C C C C", $data);
		die "unsupported PNG (depth $depth, colour type $ctype, interlace $il)\n"
			if $depth != 8 || ($ctype != 2 && $ctype != 6) || $il;
		$bpp = $ctype == 6 ? 4 : 3;
	} elsif ($type eq "IDAT") { $idat .= $data }
	elsif ($type eq "IEND") { last }
}
defined $w or die "$file: no IHDR\n";
my $raw = uncompress($idat); defined $raw or die "$file: bad zlib data\n";
my $stride = $w * $bpp;
my @prev = (0) x $stride;
my %count;
my $off = 0;
for my $y (0 .. $h - 1) {
	my $f = ord substr($raw, $off, 1);
	my @cur = unpack("C*", substr($raw, $off + 1, $stride));
	$off += 1 + $stride;
	for my $i (0 .. $stride - 1) {
		my $a = $i >= $bpp ? $cur[$i - $bpp] : 0;
		my ($b, $c) = ($prev[$i], $i >= $bpp ? $prev[$i - $bpp] : 0);
		my $p = $f == 0 ? 0 : $f == 1 ? $a : $f == 2 ? $b : $f == 3 ? ($a + $b) >> 1 : undef;
		if ($f == 4) {
			my $q = $a + $b - $c;
			my ($pa, $pb, $pc) = (abs($q - $a), abs($q - $b), abs($q - $c));
			$p = $pa <= $pb && $pa <= $pc ? $a : $pb <= $pc ? $b : $c;
		}
		defined $p or die "$file: bad filter $f\n";
		$cur[$i] = ($cur[$i] + $p) & 255;
	}
	for (my $i = 0; $i < $stride; $i += $bpp) {
		$count{sprintf("%02x%02x%02x", @cur[$i .. $i + 2])}++;
	}
	@prev = @cur;
}
print "$w $h ", scalar(keys %count), "\n";
print "$_ ", ($count{lc $_} // 0), "\n" for @want;
' "$@"
}
# shoot NAME URL: screenshot NAME.png and console log NAME.log of one page.
shoot() {
	timeout 180 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 \
		--screenshot="$tmp/$1.png" --window-size=1200,2600 "$2" > "$tmp/$1.out" 2> "$tmp/$1.log"
}
count_of() { # FILE COLOUR: that colour's pixel count in pngcount's output
	awk -v c="$2" '$1 == c { print $2 }' "$1"
}
colours='d62728 2ca02c 1f77b4 ff7f0e 9ecae1'

echo "1..9"
cd "$tmp" || exit 1
"$bin" replay -q -w f.db "$cap" 2> /dev/null && sqlite3 -bail f.db < "$gold/fixture.sql" &&
	"$bin" report -f html -o report.html f.db 2> /dev/null
t "$([ $? = 0 ] && [ -s report.html ] && echo 1)" "report.html written from the fixture"

shoot report "file://$tmp/report.html"; rc=$?
t "$([ $rc = 0 ] && [ -s report.png ] && echo 1)" "chromium took a screenshot of report.html (exit $rc)"
if grep -q ':CONSOLE' report.log; then
	t 0 "no console messages while loading report.html"
	grep ':CONSOLE' report.log | head -5 | sed 's/^/#   /'
else
	t 1 "no console messages while loading report.html"
fi
pngcount report.png $colours > report.count 2>&1
read -r w h distinct < report.count
t "$([ "${w:-0}" = 1200 ] && [ "${h:-0}" = 2600 ] && [ "${distinct:-0}" -gt 100 ] && echo 1)" \
	"the screenshot decodes: ${w:-?}x${h:-?}, ${distinct:-?} colours"
ok=1
for c in $colours; do
	px=$(count_of report.count "$c")
	echo "# #$c: ${px:-0} pixels"
	[ "${px:-0}" -ge 50 ] || ok=0
done
t "$ok" "every chart colour is on screen (at least 50 pixels each): the SVG charts rendered"

# The control page: no charts, a console error and a blocked external image.
cat > control.html <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
</head><body><p>control page</p><script>console.error("deliberate console error");</script>
<img alt="" src="https://example.invalid/blocked.png"></body></html>
EOF
shoot control "file://$tmp/control.html"; rc=$?
t "$([ $rc = 0 ] && [ -s control.png ] && echo 1)" "chromium took a screenshot of the control page (exit $rc)"
t "$(grep -q ':CONSOLE.*deliberate console error' control.log && grep -q ':CONSOLE.*Content Security Policy' control.log && echo 1)" \
	"the console check sees the control page's error and its blocked fetch"
pngcount control.png $colours > control.count 2>&1
ok=1
for c in $colours; do
	[ "$(count_of control.count "$c")" = 0 ] || ok=0
done
t "$ok" "the control page has none of the chart colours"
t "$([ "$(wc -c < report.png)" -gt $(( 2 * $(wc -c < control.png) )) ] && echo 1)" \
	"the report's screenshot is far from blank (more than twice the control's PNG size)"
exit $failed
