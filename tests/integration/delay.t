#!/usr/bin/env bash
# The driver and testbed issue's acceptance (needs root): `cachetap drive -i lo` against the
# testbed with a 40 ms delay knob on one memcached node (m1) must report that node's
# invalidation latency, measured on the wire, within 2 ms of 40 ms plus the undelayed
# baseline. The baseline of each update is the latency of the same invalidation at m0 (the
# app sends every node its delete at once; only m1's goes through the delaying proxy), and
# the median difference is compared with 40 ms; each difference is printed.
# Ports: testbed base 7800 (app 7880, Redis 7801-7803, memcached 7901-7903, proxy 7922).
set -u
. "$(dirname "$0")/../lib.sh"
echo "1..5"
require_root 5
use_testbed
"$tb" up --base-port 7800 --dir "$dir" --delay m1:40 > "$tmp/up.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/up.out"
t "$([ $rc = 0 ] && echo 1)" "testbed up --delay m1:40 (exit $rc)"
"$bin" drive -q -i lo -w "$tmp/d.db" "$dir/scenarios/items.scn" > "$tmp/drive.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/drive.out"
t "$([ $rc = 0 ] && echo 1)" "items.scn passes with m1 delayed: every wait is satisfied (exit $rc)"
q() { sqlite3 "$tmp/d.db" "$1"; }
diffs=$(q "SELECT (a.latency_ns - b.latency_ns) / 1e6 FROM waits a JOIN waits b
	ON a.step = b.step AND a.key = b.key AND a.node = 'm1' AND b.node = 'm0'
	WHERE a.satisfied AND b.satisfied ORDER BY 1")
npairs=$(echo "$diffs" | grep -c .)
echo "# m1 - m0 invalidation latency per update (ms): $(echo $diffs)"
t "$([ "$npairs" -ge 5 ] && echo 1)" "each update has its latency at m1 and at m0 ($npairs pairs)"
med=$(echo "$diffs" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
base=$(q "SELECT avg(latency_ns) / 1e6 FROM waits WHERE node = 'm0' AND satisfied")
t "$(awk -v m="$med" 'BEGIN { print (m > 38 && m < 42) ? 1 : 0 }')" \
	"m1's latency is 40 ms plus the baseline within 2 ms: median m1 - m0 = $med ms (baseline m0: $base ms)"
t "$(q "SELECT count(*) > 0 AND min(recipient = '127.0.0.1:7902') FROM timeline
	WHERE key LIKE 'item:%' AND class = 'delete' AND recipient LIKE '%:7902'")" \
	"measured on the wire: the deletes are in the timeline at m1's own port (7902), not the proxy's"
exit $failed
