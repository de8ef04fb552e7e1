#!/usr/bin/env bash
# make bench: throughput as ratios measured side by side in one run, plus peak RSS.
#
# The capture (about 1 GB of real Redis traffic, tools/mkcap-redis.sh) is made once and kept
# in BUILD/bench/. Each configuration runs ROUNDS times, interleaved (floor, cachetap, floor,
# cachetap, ...) so that machine noise hits both alike; medians are compared.
#
# usage: tools/bench.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-5}
cap=$build/bench/redis.pcap
mkdir -p "$build/bench"
if [ ! -s "$cap" ]; then
	echo "bench: making $cap (about 1 GB of redis-benchmark traffic; needs root)" >&2
	"$top/tools/mkcap-redis.sh" "$cap.tmp" 1000 && mv "$cap.tmp.port" "$cap.port" && mv "$cap.tmp" "$cap"
fi
port=$(cat "$cap.port")
bytes=$(stat -c %s "$cap")
run() { "$build/tools/benchrun" "$@" 2>&1 >/dev/null | tail -n 1; }
median() { LC_ALL=C sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

db=$build/bench/bench.db
declare -A wall rss
configs=(floor reasm redis)
for ((i = 1; i <= rounds; i++)); do
	for c in "${configs[@]}"; do
		case $c in
		floor) line=$(run "$build/tools/pcapfloor" "$cap") ;;
		reasm) line=$(run "$build/cachetap" replay -q --decode none -w "$db" "$cap") ;;
		redis) line=$(run "$build/cachetap" replay -q --redis "$port" -w "$db" "$cap") ;;
		esac
		case $line in *status=0*) ;; *) echo "bench: $c failed: $line" >&2; exit 1 ;; esac
		wall[$c]+="$(echo "$line" | field wall_s) "
		rss[$c]+="$(echo "$line" | field maxrss_kb) "
	done
done
med() { tr ' ' '\n' <<< "${wall[$1]}" | grep . | median; }
maxrss() { tr ' ' '\n' <<< "${rss[$1]}" | grep . | LC_ALL=C sort -n | tail -n 1; }
floor=$(med floor)
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }
printf 'bench: %s, %s MB, %d rounds interleaved, medians\n' "$cap" "$(calc "$bytes / 1e6")" "$rounds"
report() { # NAME CONFIG
	local t; t=$(med "$2")
	printf '  %-38s %7.3f s %7s MB/s  peak RSS %5s MB  %5s%% of floor\n' "$1" "$t" \
		"$(calc "$bytes / $t / 1e6")" "$(calc "$(maxrss "$2") / 1024")" "$(calc "100 * $floor / $t")"
}
report "libpcap read loop (floor)" floor
report "cachetap replay --decode none" reasm
report "cachetap replay (Redis decode+store)" redis

# Against tshark: its RESP dissector takes minutes on the whole file, so both decode the same
# slice (the first 200 000 packets), interleaved, TSHARK_ROUNDS times.
slice=$build/bench/redis-slice.pcap
[ -s "$slice" ] || editcap -r "$cap" "$slice" 1-200000 > /dev/null
sbytes=$(stat -c %s "$slice")
declare -A swall
for ((i = 1; i <= ${TSHARK_ROUNDS:-3}; i++)); do
	line=$(run "$build/cachetap" replay -q --redis "$port" -w "$db" "$slice")
	swall[ct]+="$(echo "$line" | field wall_s) "
	line=$(run tshark -n -r "$slice" -d "tcp.port==$port,resp" -T fields -e frame.number \
		-e resp.bulk_string.value)
	swall[ts]+="$(echo "$line" | field wall_s) "
done
smed() { tr ' ' '\n' <<< "${swall[$1]}" | grep . | median; }
ct=$(smed ct); ts=$(smed ts)
printf 'bench: %s (first 200 000 packets, %s MB), medians\n' "$slice" "$(calc "$sbytes / 1e6")"
printf '  %-38s %7.3f s\n' "tshark -T fields (RESP)" "$ts"
printf '  %-38s %7.3f s  %5sx faster than tshark\n' "cachetap replay (Redis decode+store)" "$ct" \
	"$(calc "$ts / $ct")"
