#!/usr/bin/env bash
# Makes a capture of real memcached traffic for the benchmarks: memcached on loopback,
# memcslap (libmemcached-tools) as the load, alternating its set, get and mget tests, and
# tcpdump writing the file. Stops when the file reaches SIZE_MB (or after MAX_ROUNDS rounds),
# then cleans up everything it started, by PID. Fails when tcpdump reports dropped packets, so
# the benchmark never decodes a capture with holes the load did not make.
#
# usage: tools/mkcap-memcached.sh OUT.pcap [SIZE_MB]     (needs root for tcpdump on lo)
# Writes the server port to OUT.pcap.port.
set -euo pipefail
out=${1:?usage: mkcap-memcached.sh OUT.pcap [SIZE_MB]}
size_mb=${2:-500}
max_rounds=${MAX_ROUNDS:-100}
port=${PORT:-$(( 20000 + RANDOM % 20000 ))}
# shellcheck source=tools/caplib.sh
. "$(dirname "$0")/caplib.sh"

user=(); [ "$(id -u)" = 0 ] && user=(-u nobody)
memcached "${user[@]}" -l 127.0.0.1 -p "$port" -U 0 -m 1024 &
pids+=($!)
for _ in $(seq 50); do memcstat --servers="127.0.0.1:$port" >/dev/null 2>&1 && break; sleep 0.1; done

tcpdump_start "$out" "tcp port $port" 262144

round=0
while [ "$round" -lt "$max_rounds" ]; do
	round=$((round + 1))
	for t in set get mget; do
		memcslap -s "127.0.0.1:$port" -t "$t" -c "${CONCURRENCY:-2}" -e "${EXECUTE:-10000}" > /dev/null
	done
	cur=$(( $(stat -c %s "$out") / 1048576 ))
	echo "mkcap-memcached: round $round: ${cur} MB" >&2
	[ "$cur" -ge "$size_mb" ] && break
done
sleep 1 # let the last replies and FINs reach tcpdump
echo "$port" > "$out.port" # the server port, for --memcached when decoding it
tcpdump_stop
