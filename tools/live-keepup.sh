#!/usr/bin/env bash
# Live keep-up check for the Redis issue (needs root): `cachetap capture -i lo` with full
# Redis decode, classification and store runs beside redis-benchmark at its default settings
# for SECONDS (default 30), all sharing this machine's cores. It then checks, and prints:
#   - kernel and interface drops (must be 0) and the packet rate the capture saw;
#   - every request Redis processed is in `timeline`: Redis's own total_commands_processed
#     delta against the number of distinct client requests (connection, stream offset) in
#     the timeline, and no reassembly gaps.
# Exit 0 when both hold, 1 otherwise.
#
# usage: tools/live-keepup.sh [BUILD_DIR] [SECONDS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
secs=${2:-30}
bin=$build/cachetap
[ "$(id -u)" = 0 ] || { echo "live-keepup: live capture needs root" >&2; exit 2; }
[ -x "$bin" ] || { echo "live-keepup: $bin not built (run make)" >&2; exit 2; }
# shellcheck source=tools/caplib.sh
. "$top/tools/caplib.sh"
tmp=$work
port=$(( 30000 + RANDOM % 20000 ))
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
pids+=("$!")
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
stat() { redis-cli -p "$port" info stats | tr -d '\r' | sed -n "s/^$1://p"; }

db=$tmp/live.db
"$bin" capture -i lo --redis "$port" --duration $((secs + 4)) -w "$db" 2> "$tmp/cap.err" &
cap=$!
pids+=("$cap")
sleep 1.5
before=$(stat total_commands_processed)
start=$(date +%s.%N)
timeout "$secs" redis-benchmark -p "$port" -q -l > /dev/null 2>&1
end=$(date +%s.%N)
after=$(stat total_commands_processed)
wait "$cap"; rc=$?
cat "$tmp/cap.err" >&2
# Redis counts the 'info stats' command that read `after` after reading the counter; `before`
# is read before its own command is counted, so the commands in between are after - before - 1.
sent=$((after - before - 1))
q() { sqlite3 "$db" "$1"; }
win="ts_ns >= CAST($start * 1e9 AS INTEGER) AND ts_ns <= CAST($end * 1e9 AS INTEGER)"
drops=$(q "SELECT kernel_drops + interface_drops FROM capture_stats")
pkts=$(q "SELECT packets FROM capture_stats")
gaps=$(q "SELECT reassembly_gaps FROM capture_stats")
# One request = one client message: a multi-key command has one row per key, so requests are
# counted by (connection, stream offset). The benchmark's own connections carry every
# command between the two 'info stats' calls, which are excluded by their client port.
seen=$(q "SELECT count(*) FROM (SELECT DISTINCT conn_id, stream_off FROM timeline
	WHERE dir = 'c2s' AND via = 'command' AND server LIKE '%:$port'
	AND cmd <> 'INFO' AND $win)")
info_in_win=$(q "SELECT count(*) FROM timeline WHERE dir = 'c2s' AND cmd = 'INFO' AND $win")
unans=$(q "SELECT count(*) FROM timeline WHERE status = 'unanswered'")
events=$(q "SELECT count(*) FROM events")
rate=$(awk "BEGIN { printf \"%.0f\", $pkts / ($secs + 2.5) }")
echo "live-keepup: ${secs}s of redis-benchmark defaults (-l), capture exit $rc"
echo "  packets=$pkts (about $rate/s over the capture) events=$events drops=$drops gaps=$gaps"
echo "  Redis processed $sent commands in the window; timeline holds $seen requests" \
	"(+$info_in_win INFO), $unans unanswered"
ok=1
[ "$rc" = 0 ] || ok=0
[ "$drops" = 0 ] || { echo "  FAIL: drops=$drops"; ok=0; }
[ "$gaps" = 0 ] || { echo "  FAIL: gaps=$gaps"; ok=0; }
[ "$seen" = "$sent" ] || { echo "  FAIL: timeline has $seen requests, Redis processed $sent"; ok=0; }
[ $ok = 1 ] && echo "  PASS: no drops, every request in timeline" && exit 0
exit 1
