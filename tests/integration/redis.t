#!/usr/bin/env bash
# Redis end to end (needs root): a real redis-server 7 primary and replica on loopback, a live
# capture of lo by cachetap, and a scripted scenario (tools/rdrive) that makes every kind of
# Redis invalidation in SPEC section 3 really happen: commands at the primary, the command
# stream the primary propagates to its replica after PSYNC (diskless full sync), RESP3
# client-side tracking pushes, RESP2 tracking redirected to a __redis__:invalidate subscriber,
# keyspace/keyevent notifications, an application pub/sub channel and FLUSHDB. The `timeline`
# view (SPEC section 5) must then hold each expected row at the right recipient, with the
# right class, key and status, after the write that caused it. On failure, the timeline, the
# scenario's output and cachetap's stderr are printed as TAP comments.
set -u
. "$(dirname "$0")/../lib.sh"
rdrive=$build/tools/rdrive
db=$tmp/r.db
show() { # the evidence, as TAP comments
	if [ -s "$db" ]; then
		echo "# --- timeline (W=${W:-} T3=${T3:-} RT=${RT:-} T2=${T2:-} KS=${KS:-} APP=${APP:-} replica link=${REPL:-})"
		sqlite3 -header -column "$db" "SELECT ts_ns, server, client, dir, via, cmd, class,
			key, status, latency_ns IS NOT NULL AS lat, value_hash, db, detail
			FROM timeline ORDER BY ts_ns, stream_off" 2>&1 | sed 's/^/# /'
	fi
	for f in rd.out rd.err cap.err primary.log replica.log; do
		[ -s "$tmp/$f" ] && { echo "# --- $f"; tail -n 200 "$tmp/$f" | sed 's/^/# /'; }
	done
}
bail() { # bail NAME...: a setup step failed, so nothing after it can be checked
	t 0 "$*"
	show
	echo "1..$n"
	exit 1
}
if [ "$(id -u)" != 0 ]; then
	echo "# live capture needs root (CAP_NET_RAW); run make check as root"
	bail "root required"
fi
for x in "$bin" "$rdrive"; do [ -x "$x" ] || bail "$x is built"; done

free_port() { # a loopback TCP port nobody listens on, other than $1
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		[ "$p" = "${1:-}" ] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}
wait_until() { # wait_until TENTHS CMD...: run CMD every 0.1 s until it succeeds
	local i
	for ((i = 0; i < $1; i++)); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}
pong() { [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }
link_up() { redis-cli -p "$R" info replication 2>/dev/null | tr -d '\r' | grep -qx 'master_link_status:up'; }
# cachetap opens the live source (pcap activated, filter set) before it creates the
# database, so once the schema is there, every later packet is captured.
cap_ready() { [ -s "$db" ] && [ "$(sqlite3 -readonly "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'timeline'" 2>/dev/null)" = 1 ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
stop() { # stop PID [SIGNAL]: signal it, wait at most 10 s, and return its exit status
	local pid=$1 rc keep=()
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	wait_until 100 gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	pids=("${keep[@]}")
	return $rc
}

# --- setup: primary, capture, replica ---
P=$(free_port) || bail "found a free port"
R=$(free_port "$P") || bail "found a second free port"
PRI=127.0.0.1:$P
mkdir -p "$tmp/p" "$tmp/r"
# Diskless sync with no delay, so the replica is in sync in well under a second (7.0 waits
# 5 s by default); the replication stream then follows an EOF-marked RDB payload.
redis-server --port "$P" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp/p" \
	--repl-diskless-sync yes --repl-diskless-sync-delay 0 --logfile "$tmp/primary.log" &
primary=$!
pids+=("$primary")
wait_until 50 pong "$P" || bail "primary redis-server up on $PRI"
t 1 "primary redis-server up on $PRI"

# The capture starts before the replica exists, so it sees PSYNC and the whole sync.
# app-inval is the application's invalidation bus (--channel, SPEC section 3).
"$bin" capture -q -i lo --redis "$P,$R" --channel app-inval --node "primary=$PRI,role=primary" \
	--duration 25 -w "$db" 2> "$tmp/cap.err" &
cap=$!
pids+=("$cap")
wait_until 100 cap_ready || bail "cachetap capture started"
sleep 0.2

redis-server --port "$R" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp/r" \
	--replicaof 127.0.0.1 "$P" --logfile "$tmp/replica.log" &
replica=$!
pids+=("$replica")
wait_until 100 link_up || bail "replica on 127.0.0.1:$R in sync (master_link_status:up)"
t 1 "replica on 127.0.0.1:$R in sync (master_link_status:up)"

# --- the scenario ---
# Each tracking client reads its key before the write that invalidates it, so each
# invalidation happens exactly once (Redis forgets a tracked key when it sends the
# invalidation), and FLUSHDB at the end sends every tracking client a "flush all". WAIT makes
# the replica acknowledge everything before the capture stops.
cat > "$tmp/scenario" <<EOF
conn w $P
cmd w CONFIG SET notify-keyspace-events KEA
# RESP3 tracking client: tracks k1
conn t3 $P resp3
cmd t3 HELLO 3
cmd t3 CLIENT TRACKING ON
cmd t3 GET k1
# RESP2 tracking client t2, redirected to rt: tracks k2
conn rt $P
cmd rt CLIENT ID
conn t2 $P
cmd t2 CLIENT TRACKING ON REDIRECT \$rt
cmd rt SUBSCRIBE __redis__:invalidate
cmd t2 GET k2
# keyspace and keyevent notifications, and an application channel
conn ks $P
cmd ks PSUBSCRIBE __key*@0__:*
conn app $P
cmd app SUBSCRIBE app-inval
# the writes
cmd w SET k1 v1
cmd w SET k2 v2
cmd w MSET k3 v3 k4 v4
cmd w DEL k1
cmd w UNLINK k3
cmd w EXPIRE k4 -1
cmd w PUBLISH app-inval k2
cmd w SET k5 v5 EX 100
cmd w INCR n
cmd w WAIT 1 1000
cmd w FLUSHDB
cmd w WAIT 1 1000
drain t3 200
drain rt 200
drain ks 200
drain app 200
EOF
timeout 20 "$rdrive" -v "$tmp/scenario" > "$tmp/rd.out" 2> "$tmp/rd.err"
rc=$?
t "$([ $rc = 0 ] && echo 1)" "rdrive ran the scenario (exit $rc)"
ep() { sed -n "s/^conn $1 //p" "$tmp/rd.out"; }
W=$(ep w) T3=$(ep t3) RT=$(ep rt) T2=$(ep t2) KS=$(ep ks) APP=$(ep app)
for e in "$W" "$T3" "$RT" "$T2" "$KS" "$APP"; do
	[ -n "$e" ] || bail "rdrive printed every connection's local endpoint"
done
acks=$(awk 'w && $0 == "reply w :1" { n++ } { w = ($0 == "> cmd w WAIT 1 1000") } END { print n + 0 }' "$tmp/rd.out")
is_acks() { [ "$acks" = 2 ] && echo 1; }
t "$(is_acks)" "the replica acknowledged every write: both WAIT 1 1000 answered :1 (got $acks)"

# --- stop: servers first (their connections end with FIN), then the capture ---
sleep 0.3
stop "$replica"
stop "$primary"
sleep 0.5
stop "$cap" INT
rc=$?
t "$([ $rc = 0 ] && echo 1)" "cachetap capture exits 0 on SIGINT"
sed 's/^/# /' "$tmp/cap.err"
[ -s "$db" ] || bail "cachetap wrote $db"

q() { sqlite3 "$db" "$1" 2>&1; }
is() { # is GOT WANT NAME...
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then t 1 "$*"; else t 0 "$* (got '$got', want '$want')"; fi
}
rows() { # rows N WHERE NAME...: exactly N timeline rows match WHERE
	local want=$1 where=$2; shift 2
	is "$(q "SELECT count(*) FROM timeline WHERE $where")" "$want" "$*"
}
# Capture time of the writer's command that is the origin of a later row.
origin() { # origin CMD KEY
	local v k="key = '$2'"
	[ -n "$2" ] || k="key IS NULL"
	v=$(q "SELECT min(ts_ns) FROM timeline WHERE server = '$PRI' AND client = '$W'
		AND dir = 'c2s' AND cmd = '$1' AND $k")
	echo "${v:-NULL}"
}

# --- capture health ---
is "$(q "SELECT reassembly_gaps, parse_errors, resyncs, unmatched_replies, kernel_drops + interface_drops FROM capture_stats")" \
	"0|0|0|0|0" "no gaps, parse errors, resyncs, unmatched replies or drops (gaps|errors|resyncs|unmatched|drops)"
rows 0 "status IN ('error', 'unanswered')" "no command ended in error or unanswered"

# --- every command the writer sent, at the primary ---
wr="server = '$PRI' AND client = '$W' AND dir = 'c2s' AND via = 'command' AND status = 'ok' AND latency_ns > 0"
while IFS='|' read -r cmd cls key count; do
	if [ -n "$key" ]; then k="key = '$key'"; else k="key IS NULL"; fi
	rows "$count" "$wr AND cmd = '$cmd' AND class = '$cls' AND $k" \
		"writer $cmd ${key:-(no key)}: class $cls, status ok, a latency, at the primary"
done <<'EOF'
CONFIG|other||1
SET|write|k1|1
SET|write|k2|1
MSET|write|k3|1
MSET|write|k4|1
DEL|delete|k1|1
UNLINK|delete|k3|1
EXPIRE|delete|k4|1
SET|write|k5|1
INCR|write|n|1
WAIT|other||2
FLUSHDB|flush||1
EOF
# app-inval is a --channel channel (SPEC section 3): the payload k2 is the key, not the channel.
rows 1 "$wr AND cmd = 'PUBLISH' AND class = 'publish' AND key = 'k2' AND detail = 'channel app-inval'" \
	"writer PUBLISH app-inval k2: class publish of key k2 at the primary (--channel app-inval)"
rows 14 "client = '$W'" "the writer's connection has exactly its 14 commands, nothing else"
rows 0 "client = '$W' AND class IN ('write', 'delete', 'flush', 'expire') AND dir = 'c2s' AND (db IS NOT 0)" \
	"the writer's writes are in database 0"

# --- RESP3 client-side tracking ---
rows 1 "server = '$PRI' AND client = '$T3' AND dir = 'c2s' AND cmd = 'GET' AND class = 'read' AND key = 'k1' AND status = 'miss'" \
	"RESP3 client: GET k1 paired with its RESP3 null reply (miss)"
rows 1 "client = '$T3' AND dir = 's2c' AND via = 'push' AND cmd = 'INVALIDATE' AND class = 'invalidate' AND key = 'k1' AND ts_ns > $(origin SET k1)" \
	"RESP3 client: push INVALIDATE k1 after SET k1, at its own endpoint"
rows 1 "client = '$T3' AND dir = 's2c' AND via = 'push' AND cmd = 'INVALIDATE' AND class = 'invalidate' AND key IS NULL AND detail = 'flush all' AND ts_ns > $(origin FLUSHDB '')" \
	"RESP3 client: push INVALIDATE null after FLUSHDB = flush all"
rows 2 "client = '$T3' AND dir = 's2c'" "RESP3 client: exactly those two pushes"

# --- RESP2 tracking with REDIRECT ---
rows 1 "server = '$PRI' AND client = '$T2' AND dir = 'c2s' AND cmd = 'GET' AND key = 'k2' AND status = 'miss'" \
	"RESP2 tracking client: GET k2 (miss)"
rows 0 "client = '$T2' AND dir = 's2c'" "RESP2 tracking client: its invalidations go to the redirect target, not to it"
rows 1 "client = '$RT' AND dir = 's2c' AND via = 'push' AND cmd = 'MESSAGE' AND class = 'invalidate' AND key = 'k2' AND detail = 'tracking' AND ts_ns > $(origin SET k2)" \
	"redirect target: MESSAGE __redis__:invalidate [k2] after SET k2 (detail tracking)"
rows 1 "client = '$RT' AND dir = 's2c' AND via = 'push' AND cmd = 'MESSAGE' AND class = 'invalidate' AND key IS NULL AND detail = 'flush all'" \
	"redirect target: MESSAGE __redis__:invalidate nil after FLUSHDB = flush all"
rows 2 "client = '$RT' AND dir = 's2c'" "redirect target: exactly those two messages"

# --- keyspace notifications ---
ksw="client = '$KS' AND dir = 's2c' AND via = 'push' AND cmd = 'PMESSAGE' AND class = 'invalidate' AND db = 0"
for k in k1 k3 k4; do
	o=$(origin DEL $k); [ $k = k3 ] && o=$(origin UNLINK k3); [ $k = k4 ] && o=$(origin EXPIRE k4)
	rows 1 "$ksw AND key = '$k' AND detail = 'keyspace del' AND ts_ns > $o" \
		"keyspace subscriber: $k 'keyspace del' after the command that deleted it"
	rows 1 "$ksw AND key = '$k' AND detail = 'keyevent del' AND ts_ns > $o" \
		"keyspace subscriber: $k 'keyevent del' after the command that deleted it"
done
want=$(for e in "k1 set" "k2 set" "k3 set" "k4 set" "k1 del" "k3 del" "k4 del" "k5 set" \
	"k5 expire" "n incrby"; do echo "${e% *}|keyspace ${e#* }"; echo "${e% *}|keyevent ${e#* }"; done | sort)
got=$(q "SELECT key, detail FROM timeline WHERE $ksw" | sort)
is "$(echo "$got" | paste -sd,)" "$(echo "$want" | paste -sd,)" "keyspace subscriber: exactly the 20 keyspace/keyevent notifications the writes caused"
rows 20 "client = '$KS' AND dir = 's2c'" "keyspace subscriber: nothing else arrived there"

# --- application channel ---
# --channel app-inval: the delivery is an invalidate of key k2 at the subscriber (SPEC
# section 3, "application invalidation bus").
rows 1 "client = '$APP' AND dir = 's2c' AND via = 'push' AND cmd = 'MESSAGE' AND class = 'invalidate' AND key = 'k2' AND detail = 'channel app-inval' AND ts_ns > $(origin PUBLISH k2)" \
	"app subscriber: MESSAGE on app-inval = invalidate k2, after the writer's PUBLISH"
rows 1 "client = '$APP' AND dir = 's2c'" "app subscriber: exactly that one message"

# --- replication: the commands the primary propagated to the replica ---
REPL=$(q "SELECT client FROM timeline WHERE server = '$PRI' AND dir = 'c2s' AND cmd = 'PSYNC'")
is "$(echo "$REPL" | wc -l)|$(q "SELECT count(*) FROM timeline WHERE server = '$PRI' AND client = '$REPL' AND cmd = 'PSYNC' AND status = 'ok'")" \
	"1|1" "the replica's PSYNC was seen once, answered (replica link $REPL)"
rp="server = '$PRI' AND client = '$REPL' AND dir = 's2c' AND via = 'replication' AND db = 0"
# Redis 7.0 propagates EXPIRE with a time in the past as DEL (UNLINK with
# lazyfree-lazy-expire yes), and SET ... EX as SET ... PXAT.
while IFS='|' read -r cmd cls key ocmd okey; do
	if [ -n "$key" ]; then k="key = '$key'"; else k="key IS NULL"; fi
	rows 1 "$rp AND cmd IN ($cmd) AND class = '$cls' AND $k AND ts_ns > $(origin "$ocmd" "$okey")" \
		"replica link: ${cmd//\'/} ${key:-(no key)} as $cls, after the writer's $ocmd"
done <<'EOF'
'SET'|write|k1|SET|k1
'SET'|write|k2|SET|k2
'MSET'|write|k3|MSET|k3
'MSET'|write|k4|MSET|k4
'DEL'|delete|k1|DEL|k1
'UNLINK'|delete|k3|UNLINK|k3
'DEL','UNLINK'|delete|k4|EXPIRE|k4
'PUBLISH'|publish|k2|PUBLISH|k2
'SET'|write|k5|SET|k5
'INCR'|write|n|INCR|n
'FLUSHDB'|flush||FLUSHDB|
EOF
rows 11 "$rp AND class <> 'other'" "replica link: exactly those 11 propagated writes, deletes, publish and flush"
rows 0 "client = '$REPL' AND dir = 's2c' AND via <> 'replication'" \
	"replica link: everything the primary sent after the sync is replication"
is "$(q "SELECT count(*), count(DISTINCT r.value_hash) FROM timeline r JOIN timeline w
	ON w.client = '$W' AND w.dir = 'c2s' AND w.cmd = r.cmd AND w.key = r.key
	WHERE r.client = '$REPL' AND r.via = 'replication' AND r.class = 'write' AND r.key LIKE 'k%'
	AND r.value_hash IS NOT NULL AND r.value_hash = w.value_hash")" "5|5" \
	"replicated SET/MSET rows carry the value fingerprints of the writer's (k1 k2 k3 k4 k5)"

# The replica is named by the port it announced (REPLCONF listening-port), and the nodes
# declared with --node come first.
is "$(sqlite3 "$db" "SELECT name, role, source FROM nodes WHERE endpoint = '127.0.0.1:$R'")" \
	"127.0.0.1:$R|replica|replconf" "nodes: the replica is named by its REPLCONF listening-port"
# REPLCONF ACK: the replica reports its processed offset about once a second; each is kept.
acks=$(q "SELECT CAST(substr(detail, 5) AS INTEGER) FROM timeline WHERE client = '$REPL'
	AND dir = 'c2s' AND cmd = 'REPLCONF' AND detail LIKE 'ack %' ORDER BY ts_ns")
is "$( [ -n "$acks" ] && echo "$acks" | LC_ALL=C sort -n -c && echo sorted)" "sorted" \
	"REPLCONF ACK offsets are recorded ($(echo "$acks" | wc -l) acks), and never go back"
is "$(q "SELECT count(*) FROM timeline WHERE cmd = 'REPLCONF' AND detail LIKE 'ack %' AND status <> 'noreply'")" "0" \
	"REPLCONF ACK is never answered"
is "$(q "SELECT DISTINCT recipient FROM timeline WHERE $rp")" "127.0.0.1:$R" \
	"timeline.recipient: replicated writes arrive at the replica's node endpoint, not the link's port"
is "$(q "SELECT count(*) FROM timeline WHERE dir = 'c2s' AND recipient <> server")" "0" \
	"timeline.recipient: the server for every c2s row"
is "$(sqlite3 "$db" "SELECT name, role, source FROM nodes WHERE endpoint = '$PRI'")" \
	"primary|primary|option" "nodes: --node names the primary"

[ "$failed" = 0 ] || show
echo "1..$n"
