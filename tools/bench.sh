#!/usr/bin/env bash
# make bench: throughput as ratios measured side by side in one run, plus peak RSS.
#
# Two captures of real traffic, each made once and kept in BUILD/bench/:
#   redis.pcap      about 1 GB of redis-benchmark against redis-server (tools/mkcap-redis.sh)
#   memcached.pcap  about 500 MB of memcslap against memcached (tools/mkcap-memcached.sh)
# For each, every configuration runs ROUNDS times, interleaved (floor, cachetap, floor, ...),
# so that machine noise hits all of them alike; medians are compared. The configurations:
#   floor           a plain libpcap read loop over the file (tools/pcapfloor)
#   reassembly      cachetap replay --decode none
#   decode+store    cachetap replay with full decoding, classification and SQLite store
#   tshark          tshark -T fields with the protocol's dissector. Its RESP dissector takes
#                   minutes on the whole Redis file, so for Redis both tshark and cachetap
#                   decode the same slice (the first 200 000 packets).
#
# usage: tools/bench.sh BUILD_DIR        (ROUNDS=5 TSHARK_ROUNDS=3 ONLY=redis|memcached)
set -euo pipefail
build=${1:?usage: bench.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-5}
trounds=${TSHARK_ROUNDS:-3}
mkdir -p "$build/bench"
db=$build/bench/bench.db

run() { "$build/tools/benchrun" "$@" 2>&1 >/dev/null | tail -n 1; }
median() { LC_ALL=C sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }

# make_cap NAME SIZE_MB: the capture BUILD/bench/NAME.pcap (and .port), made once.
make_cap() {
	local cap=$build/bench/$1.pcap
	if [ ! -s "$cap" ]; then
		echo "bench: making $cap (about $2 MB of real $1 traffic; needs root)" >&2
		"$top/tools/mkcap-$1.sh" "$cap.tmp" "$2" && mv "$cap.tmp.port" "$cap.port" && mv "$cap.tmp" "$cap"
	fi
}

# bench_proto NAME DISSECTOR PORTOPT TSHARK_FIELDS SLICE_PACKETS
bench_proto() {
	local name=$1 dissector=$2 portopt=$3 tfields=$4 slice_pkts=$5
	local cap=$build/bench/$name.pcap port bytes
	port=$(cat "$cap.port")
	bytes=$(stat -c %s "$cap")
	local -A wall rss
	local c line i
	for ((i = 1; i <= rounds; i++)); do
		for c in floor reasm decode; do
			case $c in
			floor) line=$(run "$build/tools/pcapfloor" "$cap") ;;
			reasm) line=$(run "$build/cachetap" replay -q --decode none -w "$db" "$cap") ;;
			decode) line=$(run "$build/cachetap" replay -q "$portopt" "$port" -w "$db" "$cap") ;;
			esac
			case $line in *status=0*) ;; *) echo "bench: $name $c failed: $line" >&2; exit 1 ;; esac
			wall[$c]+="$(echo "$line" | field wall_s) "
			rss[$c]+="$(echo "$line" | field maxrss_kb) "
		done
	done
	local events
	events=$(sqlite3 "$db" "SELECT count(*) FROM events")
	med() { tr ' ' '\n' <<< "${wall[$1]}" | grep . | median; }
	maxrss() { tr ' ' '\n' <<< "${rss[$1]}" | grep . | LC_ALL=C sort -n | tail -n 1; }
	local floor
	floor=$(med floor)
	printf 'bench %s: %s, %s MB, %s events, %d rounds interleaved, medians\n' "$name" "$cap" \
		"$(calc "$bytes / 1e6")" "$events" "$rounds"
	report() { # LABEL CONFIG
		local t; t=$(med "$2")
		printf '  %-40s %7.3f s %7s MB/s  peak RSS %5s MB  %5s%% of floor\n' "$1" "$t" \
			"$(calc "$bytes / $t / 1e6")" "$(calc "$(maxrss "$2") / 1024")" \
			"$(calc "100 * $floor / $t")"
	}
	report "libpcap read loop (floor)" floor
	report "cachetap replay --decode none" reasm
	report "cachetap replay ($name decode+store)" decode

	# Against tshark, interleaved, on the whole file or a slice of it.
	local tcap=$cap label="whole file"
	if [ "$slice_pkts" -gt 0 ]; then
		tcap=$build/bench/$name-slice.pcap
		[ -s "$tcap" ] || editcap -r "$cap" "$tcap" "1-$slice_pkts" > /dev/null
		label="first $slice_pkts packets"
	fi
	local -A swall
	local -a targs=()
	for f in $tfields; do targs+=(-e "$f"); done
	for ((i = 1; i <= trounds; i++)); do
		line=$(run "$build/cachetap" replay -q "$portopt" "$port" -w "$db" "$tcap")
		swall[ct]+="$(echo "$line" | field wall_s) "
		line=$(run tshark -n -r "$tcap" -d "tcp.port==$port,$dissector" -T fields "${targs[@]}")
		swall[ts]+="$(echo "$line" | field wall_s) "
	done
	smed() { tr ' ' '\n' <<< "${swall[$1]}" | grep . | median; }
	local ct ts
	ct=$(smed ct); ts=$(smed ts)
	printf 'bench %s: tshark on %s (%s, %s MB), %d rounds, medians\n' "$name" "$tcap" "$label" \
		"$(calc "$(stat -c %s "$tcap") / 1e6")" "$trounds"
	printf '  %-40s %7.3f s\n' "tshark -T fields ($dissector)" "$ts"
	printf '  %-40s %7.3f s  %5sx faster than tshark\n' "cachetap replay ($name decode+store)" \
		"$ct" "$(calc "$ts / $ct")"
	if [ "$slice_pkts" = 0 ]; then
		# No tool that reads the file through libpcap can beat the read loop itself.
		printf '  %-40s %7.3f s  %5sx faster than tshark (the ceiling)\n' \
			"libpcap read loop (floor, above)" "$floor" "$(calc "$ts / $floor")"
	fi
}

case ${ONLY:-redis memcached} in *redis*)
	make_cap redis 1024
	bench_proto redis resp --redis "frame.number resp.bulk_string.value" 200000 ;;
esac
case ${ONLY:-redis memcached} in *memcached*)
	make_cap memcached 500
	bench_proto memcached memcache --memcached "frame.number memcache.command memcache.key" 0 ;;
esac
