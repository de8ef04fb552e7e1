#!/usr/bin/env bash
# The propagation report on the shipped testbed capture (captures/demo/testbed-faults.pcap,
# made by tools/mkdemo.sh with known faults; its .env file records them). The report must
# find exactly what the faults did, by numbers that come from outside cachetap:
#   - missed invalidations at the faulty memcached node = the keys the demo app logged as
#     dropped there (DROPPED_KEYS);
#   - every final read where the driver got the old value (DRIVER_STALE) is a stale read at
#     that node for that key;
#   - p50 latency at the delayed replica within 2 ms of the configured delay (DELAY_MS) plus
#     the baseline (the p50 of the other replica, which has no delay);
#   - valid: true, no warnings.
# The whole JSON report (its "source" line, which names the file's path, aside) must equal
# captures/demo/testbed-faults.report.json (UPDATE=1 rewrites it). Then one packet of a cache
# connection is removed (a forced drop): the report must be valid: false, with a warning.
set -u
. "$(dirname "$0")/../lib.sh"
echo "1..12"
cap=$top/captures/demo/testbed-faults.pcap
# shellcheck disable=SC1091
. "$top/captures/demo/testbed-faults.env"
nodes=()
for nd in $NODES; do nodes+=(--node "$nd"); done
replay() { "$bin" replay -q -w "$2" --redis "$REDIS" --memcached "$MEMCACHED" --http "$HTTP" "${nodes[@]}" "$1"; }

replay "$cap" "$tmp/demo.db"
"$bin" report --format json "$tmp/demo.db" > "$tmp/demo.json" 2> "$tmp/demo.err"
rc=$?
t "$([ $rc = 0 ] && echo 1)" "report --format json exits 0 (got $rc)"

expected=$top/captures/demo/testbed-faults.report.json
grep -v '^  "source": ' "$tmp/demo.json" > "$tmp/demo.cmp"
[ -n "${UPDATE:-}" ] && cp "$tmp/demo.cmp" "$expected"
diff -u "$expected" "$tmp/demo.cmp" > "$tmp/diff" 2>&1
t "$([ -s "$tmp/diff" ] || echo 1)" "the JSON report equals $(basename "$expected") (UPDATE=1 rewrites it)"
[ -s "$tmp/diff" ] && sed 's/^/#   /' "$tmp/diff" | head -40

# Lines of the "missed" and "stale_reads" arrays, and one recipient's field.
section() { sed -n "/^  \"$1\": \[/,/^  \]/p" "$tmp/demo.json" | grep '^    {'; }
field() { sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p" <<< "$1" | tr -d '"'; }
recipient() { grep "^    {\"recipient\": \"$1\"" "$tmp/demo.json"; }

missed_keys=$(section missed | while read -r l; do
	[ "$(field "$l" recipient)" = "$DROP_NODE" ] && field "$l" key; done | LC_ALL=C sort | paste -sd, -)
t "$([ -n "$DROPPED_KEYS" ] && [ "$missed_keys" = "$DROPPED_KEYS" ] && echo 1)" \
	"missed at $DROP_NODE = the keys the app dropped there ($DROPPED_KEYS; report: $missed_keys)"
t "$([ "$(section missed | wc -l)" = "$(tr ',' '\n' <<< "$DROPPED_KEYS" | wc -l)" ] && echo 1)" \
	"and no other missed invalidation anywhere"
t "$([ "$(field "$(recipient "$DROP_NODE")" missed)" = "$(tr ',' '\n' <<< "$DROPPED_KEYS" | wc -l)" ] && echo 1)" \
	"the faulty node's recipient row counts them"

found=1 nstale=0
IFS='|' read -r -a stale <<< "$DRIVER_STALE"
for s in "${stale[@]}"; do
	# faults.scn:66 "item 101 v1" -> item:101
	id=$(sed -n 's/.*"item \([0-9]*\) v1".*/\1/p' <<< "$s")
	nstale=$((nstale + 1))
	section stale_reads | grep -q "\"node\": \"$DROP_NODE\".*\"key\": \"item:$id\"" || found=0
done
t "$([ "$nstale" -gt 0 ] && [ $found = 1 ] && echo 1)" \
	"each of the $nstale reads where the driver got the old value is a stale read at $DROP_NODE"

p50=$(field "$(recipient "$DELAY_NODE")" p50)
other=$(grep '"role": "replica"' "$tmp/demo.json" | grep -v "\"recipient\": \"$DELAY_NODE\"" | head -n 1)
base=$(field "$other" p50)
t "$(awk -v p="$p50" -v b="$base" -v d="$DELAY_MS" 'BEGIN { x = p - d - b; print (x < 2 && x > -2) ? 1 : 0 }')" \
	"p50 at the delayed replica $DELAY_NODE ($p50 ms) is within 2 ms of ${DELAY_MS} ms + baseline ($base ms)"
t "$(grep -c '^  "valid": true,$' "$tmp/demo.json")" "valid: true"
t "$(grep -c '^  "warnings": \[\]$' "$tmp/demo.json")" "no warnings"

# SLO flags gate on the same numbers.
"$bin" report --max-missed "$(tr ',' '\n' <<< "$DROPPED_KEYS" | wc -l)" "$tmp/demo.db" > /dev/null 2>&1
rc1=$?
"$bin" report --max-missed 0 "$tmp/demo.db" > /dev/null 2> "$tmp/slo.err"
rc2=$?
t "$([ $rc1 = 0 ] && [ $rc2 = 3 ] && echo 1)" "--max-missed: at the count exits 0 ($rc1), below it exits 3 ($rc2)"

# A forced drop: one client->server packet of a Redis cache connection, mid-capture.
frames=$(tshark -n -r "$cap" -Y "tcp.dstport == ${REDIS%%,*} && tcp.len > 0" -T fields -e frame.number 2>/dev/null)
victim=$(sed -n "$(( $(wc -l <<< "$frames") / 2 ))p" <<< "$frames")
editcap "$cap" "$tmp/dropped.pcap" "$victim" > /dev/null
replay "$tmp/dropped.pcap" "$tmp/dropped.db"
"$bin" report --format json "$tmp/dropped.db" > "$tmp/dropped.json" 2>/dev/null
t "$(grep -c '^  "valid": false,$' "$tmp/dropped.json")" \
	"one packet removed (frame $victim, to ${REDIS%%,*}): valid: false"
t "$(sed -n '/^  "warnings": \[/,/^  \]/p' "$tmp/dropped.json" |
	grep -q 'invalid window: origin .* from .*reassembly gaps on connection' && echo 1)" \
	"with a warning naming the window and the gap's connection"
exit $failed
