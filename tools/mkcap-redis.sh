#!/usr/bin/env bash
# Makes a capture of real Redis traffic for the benchmarks: redis-server on loopback,
# redis-benchmark as the load, tcpdump writing the file. Stops when the file reaches SIZE_MB
# (or after MAX_ROUNDS benchmark rounds), then cleans up everything it started, by PID.
#
# usage: tools/mkcap-redis.sh OUT.pcap [SIZE_MB]     (needs root for tcpdump on lo)
# Writes the server port to OUT.pcap.port.
set -euo pipefail
out=${1:?usage: mkcap-redis.sh OUT.pcap [SIZE_MB]}
size_mb=${2:-1024}
max_rounds=${MAX_ROUNDS:-200}
port=${PORT:-$(( 20000 + RANDOM % 20000 ))}
# shellcheck source=tools/caplib.sh
. "$(dirname "$0")/caplib.sh"

redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
	--daemonize no --logfile "$work/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" ping >/dev/null

tcpdump_start "$out" "tcp port $port"

round=0
while [ "$round" -lt "$max_rounds" ]; do
	round=$((round + 1))
	redis-benchmark -p "$port" -q -n "${REQUESTS:-60000}" > /dev/null
	cur=$(( $(stat -c %s "$out") / 1048576 ))
	echo "mkcap-redis: round $round: ${cur} MB" >&2
	[ "$cur" -ge "$size_mb" ] && break
done
sleep 1 # let the last replies and FINs reach tcpdump
echo "$port" > "$out.port" # the server port, for --redis when decoding it
tcpdump_stop
