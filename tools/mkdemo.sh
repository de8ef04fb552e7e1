#!/usr/bin/env bash
# Records the shipped demo capture (captures/demo/) from the testbed with its faults on
# (needs root: tcpdump and the live capture of `cachetap drive -i lo`):
#   - r1, a Redis replica, gets the replication stream DELAY_MS late (a slow replica);
#   - m1, a memcached node, misses the invalidation of about half the keys (--drop m1:0.5);
#   - the scenario (tools/scenarios/faults.scn) reads through every node right after each
#     update, so the slow and the missed nodes serve stale data, and asserts the final reads.
# tcpdump records every port of the testbed from before `up`, so the capture holds each
# replica's PSYNC. Written to OUTDIR (default captures/demo):
#   testbed-faults.pcap  the capture (pcap, ns timestamps)
#   testbed-faults.env   the ports and nodes to replay it with (REDIS, MEMCACHED, HTTP, NODES),
#                        the knobs, the keys the app dropped at m1 (its log), and the final
#                        reads where the driver got the old value (DRIVER_STALE)
# usage: tools/mkdemo.sh [BUILD_DIR] [OUTDIR]      (DELAY_MS=50 DROP=0.5 BASE=7000)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
out=${2:-$top/captures/demo}
delay=${DELAY_MS:-50}
drop=${DROP:-0.5}
base=${BASE:-7000}
bin=$build/cachetap
[ "$(id -u)" = 0 ] || { echo "mkdemo: needs root (tcpdump, live capture)" >&2; exit 2; }
# shellcheck source=tools/caplib.sh
. "$top/tools/caplib.sh"
tb=$work/testbed
on_exit_hook() { "$top/tools/testbed" down --dir "$tb" > /dev/null 2>&1; }
mkdir -p "$out"

# Every testbed port (app, nodes, proxies), never the proxy's own leg to r0 (127.0.0.2).
filter="tcp and portrange $base-$((base + 300)) and not host 127.0.0.2"
tcpdump_start "$work/demo.pcap" "$filter" 65536

"$top/tools/testbed" up --dir "$tb" --base-port "$base" --delay "r1:$delay" --drop "m1:$drop" >&2
# shellcheck disable=SC1091
. "$tb/env"
set +e
"$bin" drive -k -q -i lo -w "$work/drive.db" --redis "$CAPTURE_REDIS_PORTS" \
	${CAPTURE_FILTER:+-f "$CAPTURE_FILTER"} "$tb/scenarios/faults.scn" > "$work/drive.out" \
	2> "$work/drive.err"
rc=$?
set -e
echo "mkdemo: cachetap drive exited $rc (1 expected: the faults fail assertions)" >&2
sed 's/^/  /' "$work/drive.err" >&2
# Keep recording past the report's default deadline (5 s), so that an invalidation the app
# dropped is a missed one in the capture, not one still pending when it ended.
sleep 5.5
"$top/tools/testbed" down --dir "$tb" >&2
sleep 0.5
tcpdump_stop

dropped=$(grep -ho '^drop m1 [^ ]*' "$tb"/*.log 2>/dev/null | awk '{ print $3 }' | LC_ALL=C sort -u | paste -sd, -)
stale=$(sqlite3 "$work/drive.db" "SELECT group_concat(replace(step, rtrim(step, replace(step, '/', '')), '') || ' ' || actual, '|') FROM assertions
	WHERE ok = 0 AND kind = 'json .name'")
cp "$work/demo.pcap" "$out/testbed-faults.pcap"
{
	echo "# Made by tools/mkdemo.sh on $(date -u +%Y-%m-%d) from the testbed (tools/testbed),"
	echo "# scenario tools/scenarios/faults.scn, knobs: --delay r1:$delay --drop m1:$drop. Replay:"
	echo '#   cachetap replay --redis "$REDIS" --memcached "$MEMCACHED" --http "$HTTP" FILE'
	echo '#     (and --node for each of the space-separated NODES)'
	printf '%s=%q\n' REDIS "$CAPTURE_REDIS_PORTS" MEMCACHED "$CAPTURE_MEMCACHED_PORTS" \
		HTTP "$APP_PORT" DELAY_NODE "127.0.0.1:$R1_PORT" DELAY_MS "$delay" \
		DROP_NODE "127.0.0.1:$M1_PORT" DROPPED_KEYS "$dropped" DRIVER_STALE "$stale" \
		NODES "$CAPTURE_NODES"
} > "$out/testbed-faults.env"
echo "mkdemo: wrote $out/testbed-faults.pcap ($(stat -c %s "$out/testbed-faults.pcap") bytes)," \
	"dropped at m1: ${dropped:-none}" >&2
