#!/usr/bin/env bash
# Nothing lost on a stop (needs root for tcpdump and the live capture; issue 7): SIGTERM at
# random points of a long replay and of a live capture under load. After each stop the
# database opens, passes PRAGMA integrity_check, and holds exactly the events the summary
# line counts (events=N), which is also run_stats.events. A replay from a pipe that is
# stopped while it waits for more input shows the stop lands mid-run. A second signal exits
# at once (status 143); the database must still pass integrity_check and keep every event
# committed before the signals.
#
# The long capture is made here: redis-server on 127.0.0.1:7312, redis-benchmark SET/GET as
# the load, tcpdump writing $tmp/long.pcap (about 60 MB).
set -u
. "$(dirname "$0")/../lib.sh"
plan=46
echo "1..$plan"
require_root "$plan"
port=7312
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

tcpdump -i lo -s 0 -B 131072 -U -w "$tmp/long.pcap" "tcp port $port" 2> "$tmp/tcpdump.log" &
td=$!
pids+=($td)
for _ in $(seq 50); do grep -q 'listening on' "$tmp/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
timeout 120 redis-benchmark -p "$port" -q -t set,get -n 150000 -r 100000 > /dev/null 2>&1
kill -INT "$td"
wait "$td"
size=$(stat -c %s "$tmp/long.pcap")
echo "# long capture: $size bytes"

summary_events() { sed -n 's/^cachetap [a-z]*: packets=.* events=\([0-9]*\) .*/\1/p' "$1"; }
q() { sqlite3 "$1" "$2" 2>&1; }

# check NAME DB ERR RC: the checks after one single-signal stop (4 tests)
check() {
	local name=$1 db=$2 err=$3 rc=$4
	local s dbn rs ic
	s=$(summary_events "$err")
	ic=$(q "$db" "PRAGMA integrity_check")
	dbn=$(q "$db" "SELECT count(*) FROM events")
	rs=$(q "$db" "SELECT events FROM run_stats")
	t "$([ "$rc" = 0 ] && echo 1)" "$name: exit 0 after SIGTERM (got $rc)"
	t "$([ "$ic" = ok ] && echo 1)" "$name: the database opens and passes integrity_check ($ic)"
	t "$([ -n "$s" ] && [ "$dbn" = "$s" ] && echo 1)" "$name: its events are the summary line's (db $dbn, events=$s)"
	t "$([ -n "$rs" ] && [ "$rs" = "$dbn" ] && echo 1)" "$name: and run_stats.events says the same ($rs)"
	last_events=$dbn
}

# --- the whole replay, for reference and to size the random points ---
start=$(date +%s%N)
"$bin" replay -q --redis "$port" -w "$tmp/full.db" "$tmp/long.pcap" 2> "$tmp/full.err"
rc=$?
dur_ms=$(( ($(date +%s%N) - start) / 1000000 ))
full=$(summary_events "$tmp/full.err")
echo "# whole replay: ${dur_ms} ms, events=$full"
t "$([ "$rc" = 0 ] && [ "${full:-0}" -gt 100000 ] && echo 1)" "the whole replay runs (exit $rc, events=$full)"

# wait_db DB: until the run has opened its database (its signal handlers are in place then)
wait_db() {
	for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}

# --- 1. SIGTERM at random points of the replay of a file ---
mid=0
for i in 1 2 3 4; do
	"$bin" replay -q --redis "$port" -w "$tmp/r$i.db" "$tmp/long.pcap" 2> "$tmp/r$i.err" &
	p=$!
	pids+=($p)
	wait_db "$tmp/r$i.db"
	ms=$(( RANDOM % (dur_ms > 20 ? dur_ms : 20) ))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -TERM "$p" 2>/dev/null
	wait "$p"
	rc=$?
	sed 's/^/# /' "$tmp/r$i.err"
	check "replay, SIGTERM after ${ms} ms" "$tmp/r$i.db" "$tmp/r$i.err" "$rc"
	[ "${last_events:-0}" -lt "$full" ] && mid=$((mid + 1))
done
echo "# $mid of the 4 random stops landed before the end of the replay"

# feed FIFO BYTES: a replay from a pipe that gets the first BYTES of the capture and then
# waits for more (the writer stays open as fd 3); sets p. Waits (bounded) until some events
# were committed, so that the stop comes in the middle of the run.
feed() {
	rm -f "$1"
	mkfifo "$1"
	"$bin" replay -q --redis "$port" -w "$1.db" - < "$1" 2> "$1.err" &
	p=$!
	pids+=($p)
	exec 3> "$1"
	head -c "$2" "$tmp/long.pcap" >&3
	committed=0
	for _ in $(seq 200); do
		committed=$(sqlite3 "$1.db" "SELECT count(*) FROM events" 2>/dev/null)
		[ "${committed:-0}" -gt 0 ] && break
		sleep 0.05
	done
}

# --- 2. SIGTERM while a replay from a pipe waits for input: certainly mid-run ---
for i in 1 2; do
	bytes=$(( size / 4 + RANDOM * (size / 2 / 32768) ))
	feed "$tmp/pipe$i" "$bytes"
	kill -TERM "$p"
	wait "$p"
	rc=$?
	exec 3>&-
	sed 's/^/# /' "$tmp/pipe$i.err"
	check "replay of the first $bytes bytes from a pipe" "$tmp/pipe$i.db" "$tmp/pipe$i.err" "$rc"
	t "$([ "${last_events:-0}" -gt 0 ] && [ "${last_events:-0}" -lt "$full" ] && echo 1)" \
		"the stop was mid-run ($last_events of $full events)"
	t "$(grep -c 'errors=0' "$tmp/pipe$i.err")" "the interrupted read is the stop, not an error (errors=0)"
done

# twice PID: SIGTERM, and a second one once the first was delivered (two pending SIGTERMs
# would merge into one). The wait reads /proc without forking, and is bounded.
twice() {
	kill -TERM "$1"
	local k v i
	for ((i = 0; i < 20000; i++)); do
		v=
		while read -r k v; do [ "$k" = ShdPnd: ] && break; done < "/proc/$1/status" 2>/dev/null
		[ -z "$v" ] && break                        # gone already
		(( (16#$v & 0x4000) == 0 )) && break        # SIGTERM (15) no longer pending
	done
	kill -TERM "$1" 2>/dev/null
}

# --- 3. a second signal exits at once; what was committed stays, and the file is sound ---
feed "$tmp/dbl" $(( size / 2 ))
before=$committed
twice "$p"
wait "$p"
rc=$?
exec 3>&-
sed 's/^/# /' "$tmp/dbl.err"
t "$([ "$rc" = 143 ] || [ "$rc" = 0 ] && echo 1)" "replay, two SIGTERMs: exit 143 (at once) or 0 (done first) (got $rc)"
t "$([ "$rc" != 143 ] || grep -q 'second signal' "$tmp/dbl.err" && echo 1)" "an exit at once says so on stderr"
t "$([ "$(q "$tmp/dbl.db" "PRAGMA integrity_check")" = ok ] && echo 1)" "two SIGTERMs: integrity_check ok"
kept=$(q "$tmp/dbl.db" "SELECT count(*) FROM events")
t "$([ "${kept:-0}" -ge "${before:-1}" ] && [ "$kept" -lt "$full" ] && echo 1)" \
	"two SIGTERMs: every event committed before the signals is kept ($kept >= $before)"

# --- 4. a live capture under load: SIGTERM at random points ---
for i in 1 2; do
	"$bin" capture -q -i lo --redis "$port" -w "$tmp/live$i.db" 2> "$tmp/live$i.err" &
	p=$!
	pids+=($p)
	wait_db "$tmp/live$i.db"
	timeout 30 redis-benchmark -p "$port" -q -t set,get,incr,del -n 10000000 -r 100000 > /dev/null 2>&1 &
	b=$!
	pids+=($b)
	ms=$(( 500 + RANDOM % 2500 ))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -TERM "$p"
	wait "$p"
	rc=$?
	kill "$b" 2>/dev/null
	wait "$b" 2>/dev/null
	sed 's/^/# /' "$tmp/live$i.err"
	check "live capture under load, SIGTERM after ${ms} ms" "$tmp/live$i.db" "$tmp/live$i.err" "$rc"
	t "$([ "${last_events:-0}" -gt 0 ] && echo 1)" "the live capture recorded the load ($last_events events)"
done

# --- 5. a live capture: two SIGTERMs ---
"$bin" capture -q -i lo --redis "$port" -w "$tmp/ldbl.db" 2> "$tmp/ldbl.err" &
p=$!
pids+=($p)
wait_db "$tmp/ldbl.db"
timeout 30 redis-benchmark -p "$port" -q -t set,get -n 10000000 -r 100000 > /dev/null 2>&1 &
b=$!
pids+=($b)
committed=0
for _ in $(seq 200); do
	committed=$(sqlite3 "$tmp/ldbl.db" "SELECT count(*) FROM events" 2>/dev/null)
	[ "${committed:-0}" -gt 0 ] && break
	sleep 0.05
done
twice "$p"
wait "$p"
rc=$?
kill "$b" 2>/dev/null
wait "$b" 2>/dev/null
sed 's/^/# /' "$tmp/ldbl.err"
t "$([ "$rc" = 143 ] || [ "$rc" = 0 ] && echo 1)" "live, two SIGTERMs: exit 143 or 0 (got $rc)"
t "$([ "$(q "$tmp/ldbl.db" "PRAGMA integrity_check")" = ok ] && echo 1)" "live, two SIGTERMs: integrity_check ok"
kept=$(q "$tmp/ldbl.db" "SELECT count(*) FROM events")
t "$([ "${committed:-0}" -gt 0 ] && [ "${kept:-0}" -ge "$committed" ] && echo 1)" \
	"live, two SIGTERMs: every event committed before the signals is kept ($kept >= $committed)"
exit $failed
