#!/usr/bin/env bash
# Live capture of a real memcached on lo (needs root): text, meta and binary commands over TCP,
# and text and meta over UDP, are sent byte for byte by tools/mcclient, and every request must
# come out of the timeline view with the right command, class, key and status. Also checked:
# a write's value fingerprint equals the one its later read returned, md I then mg shows the
# recache win (X W) and the second client's Z, and answered requests carry a latency.
set -u
. "$(dirname "$0")/../lib.sh"
client=$build/tools/mcclient
plan=12
echo "1..$plan"
require_root $plan
for need in memcached sqlite3 "$client" "$bin"; do
	if ! command -v "$need" >/dev/null 2>&1; then
		echo "# missing: $need"
		for _ in $(seq $plan); do t 0 "$need required"; done
		exit 1
	fi
done

# --- a memcached on a free port (TCP and UDP) ---
printf 'send version\\r\\n\nexpect VERSION\n' > "$tmp/ping"
port=
for _ in $(seq 20); do
	p=$(( 30000 + RANDOM % 20000 ))
	memcached -l 127.0.0.1 -p "$p" -U "$p" -u nobody -t 1 > "$tmp/mc.log" 2>&1 &
	pid=$!
	for _ in $(seq 30); do
		"$client" -t 200 127.0.0.1 "$p" "$tmp/ping" >/dev/null 2>&1 && { port=$p; break; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -n "$port" ]; then pids+=("$pid"); break; fi
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
done
if [ -z "$port" ]; then
	echo "# memcached did not start"; sed 's/^/# /' "$tmp/mc.log"
	for _ in $(seq $plan); do t 0 "memcached required"; done
	exit 1
fi
echo "# memcached on 127.0.0.1:$port"

# --- the conversations: what each client sends, and waits for ---
cat > "$tmp/text" <<'EOF'
send set it:a 0 0 2\r\nhi\r\n
expect STORED\r\n
send get it:a it:nope\r\n
expect END\r\n
send set it:b 0 0 1 noreply\r\nx\r\n
send get it:a it:b it:c\r\n
expect END\r\n
send delete it:nope\r\n
expect NOT_FOUND\r\n
send set it:n 0 0 1\r\n5\r\n
expect STORED\r\n
send incr it:n 10\r\n
expect 15\r\n
send touch it:a 100\r\n
expect TOUCHED\r\n
send gat 200 it:a it:zz\r\n
expect END\r\n
send delete it:a\r\n
expect DELETED\r\n
EOF
# md I on one connection, then two more clients read the stale item
cat > "$tmp/meta" <<'EOF'
send ms mt:k 2 T60\r\nhi\r\n
expect HD\r\n
send mg mt:k v\r\n
expect hi\r\n
send md mt:k I T30\r\n
expect HD\r\n
close
send mg mt:k v c\r\n
expect hi\r\n
close
send mg mt:k v c\r\n
expect hi\r\n
send mg mt:q1 v k O1 q\r\nmg mt:k v k O2 q\r\nmg mt:q3 v k O3 q\r\nmn\r\n
expect MN\r\n
send ms bXQ6Yg== 1 b\r\nz\r\n
expect HD\r\n
send md mt:none q\r\nmn\r\n
expect MN\r\n
EOF
# binary: SET, GET, a GETKQ pipeline fenced by NOOP, DELETE of nothing, ADD over a value
hdr() { # hdr OPCODE KEY EXTRAS_HEX VALUE OPAQUE: a request packet in hex
	local key=$2 ext=$3 val=$4
	local kh vh; kh=$(printf %s "$key" | od -An -tx1 | tr -d ' \n'); vh=$(printf %s "$val" | od -An -tx1 | tr -d ' \n')
	printf '80%s%04x%02x000000%08x%08x0000000000000000%s%s%s' "$1" "${#key}" $((${#ext} / 2)) \
		$(( ${#key} + ${#ext} / 2 + ${#val} )) "$5" "$ext" "$kh" "$vh"
}
{
	echo "sendhex $(hdr 01 bk:a 0000000000000000 hi 1)"
	echo "expecthex 81010000000000000000000000000001"
	echo "sendhex $(hdr 00 bk:a '' '' 2)"
	echo "expecthex 81000000040000000000000600000002"
	echo "sendhex $(hdr 0d bk:a '' '' 3)$(hdr 0d bk:none '' '' 4)$(hdr 0a '' '' '' 5)"
	echo "expecthex 810a0000000000000000000000000005"
	echo "sendhex $(hdr 04 bk:none '' '' 6)"
	echo "expecthex 81040000000000010000000900000006"
	echo "sendhex $(hdr 02 bk:a 0000000000000000 hi 7)"
	echo "expecthex 81020000000000020000001400000007"
} > "$tmp/binary"
big=$(head -c 3000 /dev/zero | tr '\0' 'v')
cat > "$tmp/udp" <<EOF
udp 1 set ud:a 0 0 2\r\nhi\r\n
uexpect 1 STORED\r\n
udp 2 get ud:a ud:none\r\n
uexpect 2 END\r\n
udp 3 mg ud:a v q\r\nmg ud:none v q\r\nmn\r\n
uexpect 3 MN\r\n
udp 4 set ud:big 0 0 3000\r\n$big\r\n
uexpect 4 STORED\r\n
udp 5 get ud:big\r\n
uexpect 5 END\r\n
EOF
printf 'send flush_all\\r\\n\nexpect OK\n' > "$tmp/flush"

# --- capture while the clients run ---
"$bin" capture -q -i lo --memcached "$port" --duration 8 -w "$tmp/mc.db" 2> "$tmp/cap.err" &
cap=$!
pids+=($cap)
sleep 1.5
crc=0
for s in text meta binary udp flush; do
	"$client" 127.0.0.1 "$port" "$tmp/$s" > "$tmp/$s.out" 2>&1 || { crc=1; echo "# client script $s failed:"; sed 's/^/#   /' "$tmp/$s.out"; }
done
wait "$cap"; rc=$?
sed 's/^/# /' "$tmp/cap.err"
t "$([ $rc = 0 ] && echo 1)" "capture exits 0 after --duration"
t "$([ $crc = 0 ] && echo 1)" "memcached answered every client script as expected"

q() { sqlite3 "$tmp/mc.db" "$1"; }
order="ORDER BY ts_ns, conn_id, dir, stream_off, event_id"
rows() { # rows WHERE: cmd class key status, one per line
	q "SELECT cmd || ' ' || class || ' ' || coalesce(key, '-') || ' ' || status FROM timeline
	   WHERE server = '127.0.0.1:$port' AND ($1) $order"
}
check() { # check NAME WHERE EXPECTED
	local got; got=$(rows "$2")
	if [ "$got" = "$3" ]; then t 1 "$1"; else
		t 0 "$1"; diff <(echo "$3") <(echo "$got") | sed 's/^/#   /'; fi
}

check "text protocol over TCP: every request, class, key and status" \
	"key LIKE 'it:%' OR cmd = 'FLUSH_ALL'" "SET write it:a ok
GET read it:a hit
GET read it:nope miss
SET write it:b noreply
GET read it:a hit
GET read it:b hit
GET read it:c miss
DELETE delete it:nope miss
SET write it:n ok
INCR write it:n ok
TOUCH expire it:a ok
GAT read it:a hit
GAT read it:zz miss
DELETE delete it:a ok
FLUSH_ALL flush - ok"

check "meta protocol over TCP: md I, stale reads from two more clients, quiet pipeline, base64" \
	"(key LIKE 'mt:%' OR cmd = 'MN') AND client NOT IN (SELECT client FROM timeline WHERE key LIKE 'ud:%')" \
	"MS write mt:k ok
MG read mt:k hit
MD invalidate mt:k ok
MG read mt:k hit
MG read mt:k hit
MG read mt:q1 miss
MG read mt:k hit
MG read mt:q3 miss
MN other - ok
MS write mt:b ok
MD delete mt:none miss
MN other - ok"

check "binary protocol over TCP: SET, GET, GETKQ pipeline with NOOP, DELETE of nothing, ADD refused" \
	"key LIKE 'bk:%' OR cmd = 'NOOP'" "SET write bk:a ok
GET read bk:a hit
GETKQ read bk:a hit
GETKQ read bk:none miss
NOOP other - ok
DELETE delete bk:none miss
ADD write bk:a error"

check "text and meta over UDP, paired by request id, a reply in three datagrams" \
	"client IN (SELECT client FROM timeline WHERE key LIKE 'ud:%')" "SET write ud:a ok
GET read ud:a hit
GET read ud:none miss
MG read ud:a hit
MG read ud:none miss
MN other - ok
SET write ud:big ok
GET read ud:big hit"

stale=$(q "SELECT group_concat(detail, '|') FROM (SELECT detail FROM timeline
	WHERE key = 'mt:k' AND cmd = 'MG' AND detail IS NOT NULL $order)")
t "$([ "$stale" = "X W|X Z|X Z" ] && echo 1)" "md I then mg: the first reader wins (X W), later ones see Z (got '$stale')"
flags=$(q "SELECT group_concat(flags & 224, ',') FROM (SELECT flags FROM timeline
	WHERE key = 'mt:k' AND cmd = 'MG' AND detail IS NOT NULL $order)")
t "$([ "$flags" = "96,160,160" ] && echo 1)" "and the stale flags are on the events (got $flags)"
same=$(q "SELECT count(*) FROM timeline w JOIN timeline r ON r.key = w.key
	WHERE w.cmd = 'SET' AND r.status = 'hit' AND w.key IN ('it:a', 'ud:a', 'ud:big', 'bk:a')
	AND r.value_hash = w.value_hash AND w.value_hash IS NOT NULL")
t "$([ "$same" -ge 7 ] && echo 1)" "reads return the fingerprint of the value written ($same pairs)"
nolat=$(q "SELECT count(*) FROM timeline WHERE server = '127.0.0.1:$port'
	AND status IN ('ok', 'hit', 'miss', 'error') AND latency_ns IS NULL
	AND NOT (cmd IN ('GETKQ', 'MG') AND status = 'miss')")
t "$([ "$nolat" = 0 ] && echo 1)" "every answered request has a latency ($nolat without)"
bad=$(q "SELECT unmatched_replies + parse_errors FROM capture_stats")
t "$([ "$bad" = 0 ] && echo 1)" "no unmatched replies and no parse errors (got $bad)"
una=$(q "SELECT count(*) FROM timeline WHERE status = 'unanswered'")
t "$([ "$una" = 0 ] && echo 1)" "no request left unanswered (got $una)"
