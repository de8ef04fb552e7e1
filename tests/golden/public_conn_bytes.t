#!/usr/bin/env bash
# Golden test: every public capture replays cleanly (no crash, hang, leak or sanitizer
# report: the sanitizer build exits non-zero on any of them), and its per-connection,
# per-direction TCP payload totals equal tshark's sums of tcp.len per stream, which are
# checked in under tests/golden/conn-bytes/ (regenerate with UPDATE=1, needs tshark).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CT_BIN:-$top/build/cachetap}
exp=$top/tests/golden/conn-bytes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t caps < <(cd "$top" && find captures/public -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | LC_ALL=C sort)
[ ${#caps[@]} -ge 59 ] || { echo "1..1"; echo "not ok 1 - expected 59 public captures, found ${#caps[@]}"; exit 1; }
echo "1..$(( ${#caps[@]} * 2 ))"
n=0
for cap in "${caps[@]}"; do
	rel=${cap#captures/public/}
	want=$exp/${rel//\//__}.txt
	if [ -n "${UPDATE:-}" ]; then
		"$top/tools/tshark-conn-bytes.sh" "$top/$cap" > "$want"
	fi
	db=$tmp/t.db
	rm -f "$db"
	timeout 120 "$bin" replay -q -w "$db" "$top/$cap" 2> "$tmp/err"
	rc=$?
	n=$((n + 1))
	if [ $rc -eq 0 ]; then
		echo "ok $n - replay $rel"
	else
		echo "not ok $n - replay $rel (exit $rc)"
		sed 's/^/#   /' "$tmp/err" | head -n 30
	fi
	sqlite3 -separator ' ' "$db" "
		SELECT client || ' > ' || server, bytes_c2s FROM connections WHERE proto='tcp' AND bytes_c2s > 0
		UNION ALL
		SELECT server || ' > ' || client, bytes_s2c FROM connections WHERE proto='tcp' AND bytes_s2c > 0" \
		2> "$tmp/sqlerr" | LC_ALL=C sort > "$tmp/got"
	n=$((n + 1))
	if diff -u "$want" "$tmp/got" > "$tmp/diff"; then
		echo "ok $n - per-connection payload bytes equal tshark's: $rel"
	else
		echo "not ok $n - per-connection payload bytes equal tshark's: $rel"
		sed 's/^/#   /' "$tmp/diff" "$tmp/sqlerr" | head -n 40
	fi
done
