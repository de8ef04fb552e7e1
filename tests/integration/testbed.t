#!/usr/bin/env bash
# The testbed (tools/testbed with tools/demoapp and tools/faultproxy) on loopback, base port
# 7500 (it uses ports 7500..7699 only). Checked: `up` starts a Redis primary with two replicas
# in sync, three memcached nodes and the demo app, and describes them (env, scenario lines);
# every API endpoint; cache-aside reads that fill the node they read; each invalidation
# strategy's effect on every node after a PUT; each fault knob's effect (delay: measured on
# the wire by a live cachetap capture, so this test needs root; drop: the dropped keys keep
# their old value on that node only; stale race: the late fill leaves a stale value); bad
# arguments; and `down` leaving no process behind, checked by PID.
set -u
. "$(dirname "$0")/../lib.sh"
plan=61
echo "1..$plan"
require_root $plan
require_cmds $plan redis-server redis-cli memcached curl sqlite3 "$bin" "$build/tools/demoapp" "$build/tools/faultproxy"

use_testbed
bail() { echo "Bail out! $*"; exit 1; }
wait_until() { # wait_until TENTHS CMD...
	local i
	for ((i = 0; i < $1; i++)); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}
ok() { if "$@"; then echo 1; else echo 0; fi; }
show() { sed 's/^/# /' "$@"; }

up() { # up ARGS...: the testbed on base port 7500; its env is sourced
	"$tb" up --base-port 7500 --dir "$dir" "$@" > "$tmp/up.out" 2>&1 || { show "$tmp/up.out"; return 1; }
	# shellcheck disable=SC1091
	. "$dir/env"
	cp "$dir/pids" "$tmp/pids.last"
}
alive() { # running, and not a zombie waiting to be reaped
	[ -r "/proc/$1/stat" ] && [ "$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}
all_running() {
	local name pid prog
	while read -r name pid prog; do alive "$pid" || { echo "# $name ($prog, pid $pid) not running"; return 1; }; done < "$1"
}
none_left() {
	local name pid prog
	while read -r name pid prog; do alive "$pid" && { echo "# $name ($prog, pid $pid) still running"; return 1; }; done < "$1"
	return 0
}
down_clean() { # down_clean WHAT: `down`, then no process of pids.last is left
	local rc=0
	"$tb" down --dir "$dir" > "$tmp/down.out" 2>&1 || rc=$?
	show "$tmp/down.out"
	t "$([ $rc = 0 ] && [ ! -e "$dir/pids" ] && none_left "$tmp/pids.last" && echo 1)" \
		"$1: down exits 0 and none of its $(wc -l < "$tmp/pids.last") processes is left (by PID)"
}

# One HTTP call: sets code and body; the response headers are in $tmp/h.
http() { # http METHOD PATH [BODY]
	local args=(-s -X "$1" -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' -H "X-Request-Id: tb-$RANDOM")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	code=$(curl "${args[@]}" "$URL$2")
	body=$(cat "$tmp/b")
}
hdr() { grep -i "^$1:" "$tmp/h" | cut -d' ' -f2- | tr -d '\r'; }
# memcached: send one command and a meta no-op; everything before its "MN" is the reply,
# lines joined by '|'.
mc() { # mc PORT COMMAND
	local out='' line
	exec 3<> "/dev/tcp/127.0.0.1/$1" || return 1
	printf '%s\r\nmn\r\n' "$2" >&3
	while read -r -t 3 line <&3; do
		line=${line%$'\r'}
		[ "$line" = MN ] && break
		out+="$line|"
	done
	exec 3>&-
	echo "${out%|}"
}
mcval() { # mcval PORT KEY: the value, or nil
	local r
	r=$(mc "$1" "get $2")
	case $r in
	END) echo nil ;;
	VALUE*) r=${r#*|}; echo "${r%|END}" ;;
	*) echo "error: $r" ;;
	esac
}
rval() { # rval PORT KEY: the value, or nil
	if [ "$(redis-cli -p "$1" exists "$2")" = 0 ]; then echo nil; else redis-cli -p "$1" get "$2"; fi
}
is_val() { [ "$("${@:3}")" = "$1" ] || { [ "$2" = quiet ] || echo "# ${*:3}: got '$("${@:3}")', want '$1'"; return 1; }; }
nodes_are() { # nodes_are VALUE KEY NODE...: every node holds VALUE (or nil)
	local v=$1 k=$2 node bad=0
	shift 2
	for node in "$@"; do
		case $node in
		r0) is_val "$v" loud rval 7501 "$k" || bad=1 ;;
		r1) wait_until 50 is_val "$v" quiet rval 7502 "$k" || { is_val "$v" loud rval 7502 "$k"; bad=1; } ;;
		r2) wait_until 50 is_val "$v" quiet rval 7503 "$k" || { is_val "$v" loud rval 7503 "$k"; bad=1; } ;;
		m0) is_val "$v" loud mcval 7601 "$k" || bad=1 ;;
		m1) is_val "$v" loud mcval 7602 "$k" || bad=1 ;;
		m2) is_val "$v" loud mcval 7603 "$k" || bad=1 ;;
		esac
	done
	return $bad
}
item() { printf '{"id":%s,"name":"%s","version":%s}' "$1" "$2" "$3"; }
fill() { # fill ID NODE...: read the item through the app from each node
	local node
	for node in "${@:2}"; do http GET "/items/$1?node=$node"; done
}

# ---------------------------------------------------------------- the default testbed
up || bail "tools/testbed up"
t "$([ "$(wc -l < "$dir/pids")" = 7 ] && all_running "$dir/pids" && echo 1)" \
	"up: 7 processes (3 redis-server, 3 memcached, demoapp) running"
t "$([ "$URL" = http://127.0.0.1:7580 ] && [ "$R0_PORT.$R1_PORT.$R2_PORT" = 7501.7502.7503 ] &&
	[ "$M0_PORT.$M1_PORT.$M2_PORT" = 7601.7602.7603 ] && [ "$REDIS_PORTS" = 7501,7502,7503 ] &&
	[ "$MEMCACHED_PORTS" = 7601,7602,7603 ] && [ -z "$PROXY_PORTS" ] && echo 1)" \
	"env: URL and node ports derive from --base-port 7500"
printf 'base http://127.0.0.1:7580\nnode r0 redis://127.0.0.1:7501\nnode r1 redis://127.0.0.1:7502
node r2 redis://127.0.0.1:7503\nnode m0 memcached://127.0.0.1:7601
node m1 memcached://127.0.0.1:7602\nnode m2 memcached://127.0.0.1:7603\n' > "$tmp/nodes.want"
t "$(ok cmp -s "$tmp/nodes.want" "$dir/scenario-nodes.txt")" "scenario-nodes.txt: base and the 6 nodes"
rendered=$(grep -E '^(base|node) ' "$dir/scenarios/items.scn" | sort | tr '\n' ' ')
t "$([ "$(wc -l < "$dir/scenarios/items.scn")" = "$(wc -l < "$top/tools/scenarios/items.scn")" ] &&
	[ "$rendered" = "$(sort "$tmp/nodes.want" | tr '\n' ' ')" ] && echo 1)" \
	"scenarios/items.scn: pointed at this testbed, line numbers unchanged"
link() { redis-cli -p "$1" info replication | tr -d '\r' | grep -qx 'master_link_status:up'; }
t "$(ok eval 'link 7502 && link 7503')" "r1 and r2 replicate r0 (master_link_status:up)"
rc=0
"$tb" status --dir "$dir" > "$tmp/status.out" 2>&1 || rc=$?
t "$(ok [ $rc = 0 ])" "status exits 0 while everything runs"
"$tb" up --base-port 7500 --dir "$dir" > "$tmp/up2.out" 2>&1
t "$([ $? = 2 ] && grep -q 'already up' "$tmp/up2.out" && echo 1)" "a second up on the same dir is refused (exit 2)"

http GET /health
t "$([ "$code" = 200 ] && [ "$body" = '{"status":"ok","strategy":"redis-del,mc-broadcast"}' ] && echo 1)" \
	"GET /health: 200, status ok, the strategy ($code $body)"
curl -s -D "$tmp/h" -o /dev/null -H 'X-Request-Id: req-abc-123' "$URL/nope"
t "$([ "$(hdr X-Request-Id)" = req-abc-123 ] && echo 1)" "X-Request-Id is echoed (on a 404 too)"
http PUT /items/1 '{"name":"a"}'
t "$([ "$code" = 201 ] && [ "$body" = "$(item 1 a 1)" ] && echo 1)" "PUT /items/1 creates: 201 $body"
http PUT /items/1 '{"name":"b"}'
t "$([ "$code" = 200 ] && [ "$body" = "$(item 1 b 2)" ] && echo 1)" "PUT /items/1 updates: 200 $body"
http POST /items '{"name":"c"}'
t "$([ "$code" = 201 ] && [ "$body" = "$(item 2 c 1)" ] && echo 1)" "POST /items: 201 $body"
http DELETE /items/2
c1=$code
http DELETE /items/2
c2=$code
http GET /items/2
t "$([ "$c1.$c2.$code" = 204.404.404 ] && echo 1)" "DELETE: 204, then 404; GET of the deleted item: 404"
http PUT /items/1 'not json'
c1=$code
http GET '/items/1?node=nosuch'
c2=$code
http PATCH /items/1 '{}'
t "$([ "$c1.$c2.$code" = 400.400.405 ] && echo 1)" "bad body 400, unknown node 400, PATCH 405 ($c1 $c2 $code)"

v=$(item 1 b 2)
fill 1 r1
t "$([ "$code" = 200 ] && [ "$body" = "$v" ] && [ "$(hdr X-Cache)" = miss ] && [ "$(hdr X-Cache-Node)" = r1 ] &&
	nodes_are "$v" item:1 r0 r1 r2 && echo 1)" \
	"GET ?node=r1: a miss, filled on r0 and replicated to r1 and r2"
fill 1 m0 m1 m2
t "$(ok nodes_are "$v" item:1 m0 m1 m2)" "GET ?node=m0/m1/m2: each memcached node filled with the item's JSON"
http GET '/items/1?node=m1'
t "$([ "$body" = "$v" ] && [ "$(hdr X-Cache)" = hit ] && [ "$(hdr X-Cache-Node)" = m1 ] && echo 1)" \
	"a second read is a hit on the node read"
http GET /items/1
n1=$(hdr X-Cache-Node)
http GET /items/1
t "$([ "$(hdr X-Cache-Node)" = "$n1" ] && [[ $n1 == m? ]] && [ "$(hdr X-Cache)" = hit ] && echo 1)" \
	"without ?node, a key is always read from the same memcached node ($n1)"
http PUT /items/1 '{"name":"d"}'
t "$([ "$code" = 200 ] && nodes_are nil item:1 r0 r1 r2 m0 m1 m2 && echo 1)" \
	"redis-del,mc-broadcast: after a PUT the key is gone from all 6 nodes"
http GET /items/1
t "$([ "$body" = "$(item 1 d 3)" ] && [ "$(hdr X-Cache)" = miss ] && echo 1)" "the next read misses and returns the new item"
# The shipped scenario against this testbed, with the live capture in the driver: with no
# fault every assertion holds and every `wait invalidation ... on all` is met.
"$bin" drive -q -i lo -w "$tmp/drive.db" "$dir/scenarios/items.scn" > "$tmp/drive.out" 2>&1
rc=$?
show "$tmp/drive.out"
t "$([ $rc = 0 ] && grep -q 'waits=[1-9][0-9]* failures=0$' "$tmp/drive.out" && echo 1)" \
	"cachetap drive -i lo scenarios/items.scn: exit 0, no failure"
grep -q '^error' "$dir/app.log" && show "$dir/app.log"
t "$(grep -q '^error' "$dir/app.log" || echo 1)" "the app logged no error"
down_clean "default testbed"
rc=0
"$tb" status --dir "$dir" > /dev/null 2>&1 || rc=$?
t "$(ok [ $rc = 1 ])" "status exits 1 after down"

# ---------------------------------------------------------------- each strategy
strategy_case() { # strategy_case S: the effect of one PUT under strategy S
	local s=$1 old new
	up --strategy "$s" || { t 0 "$s: up"; return; }
	t "$(ok all_running "$dir/pids")" "$s: up ($(wc -l < "$dir/pids") processes running)"
	http PUT /items/7 '{"name":"old"}'
	old=$(item 7 old 1)
	fill 7 r1 m0 m1 m2
	nodes_are "$old" item:7 r0 r1 r2 m0 m1 m2 || echo "# $s: the fill did not reach every node"
	http PUT /items/7 '{"name":"new"}'
	new=$(item 7 new 2)
	case $s in
	redis-del)
		t "$(ok nodes_are nil item:7 r0 r1 r2 && nodes_are "$old" item:7 m0 m1 m2)" \
			"redis-del: DEL on r0 reaches r1 and r2; memcached keeps its copies"
		local seen=''
		for _ in 1 2 3 4; do http GET /items/7; seen+="$(hdr X-Cache-Node) "; done
		t "$([ "$seen" = "r1 r2 r1 r2 " ] || [ "$seen" = "r2 r1 r2 r1 " ] && echo 1)" \
			"redis-del: reads without ?node take the replicas round-robin ($seen)" ;;
	mc-broadcast)
		t "$(ok nodes_are nil item:7 m0 m1 m2 && nodes_are "$old" item:7 r0)" \
			"mc-broadcast: deleted on m0, m1, m2; Redis keeps its copy" ;;
	pubsub)
		wait_until 50 eval 'nodes_are nil item:7 m0 m1 m2 > /dev/null'
		t "$(ok eval 'nodes_are nil item:7 m0 m1 m2 && grep -q "^subscribed inval" "$dir/sub-m0.log" "$dir/sub-m1.log" "$dir/sub-m2.log"')" \
			"pubsub: 3 subscribers turn the PUBLISH into deletes on m0, m1, m2" ;;
	meta)
		local stale=0 p r
		for p in 7601 7602 7603; do
			r=$(mc $p "mg item:7 v")
			[[ $r == "VA "*"|$old" && ${r%%|*} == *" X"* ]] && stale=$((stale + 1))
			[ $p = 7601 ] && echo "# m0 after md I: $r"
		done
		http GET '/items/7?node=m0'
		r=$(mc 7601 "mg item:7 v")
		t "$([ $stale = 3 ] && [ "$body" = "$new" ] && [ "$(hdr X-Cache)" = miss ] && [ "$r" = "VA ${#new}|$new" ] && echo 1)" \
			"meta: md I marks the item stale (X) on m0, m1, m2; a read refills it (m0: $r)" ;;
	write-through)
		t "$(ok nodes_are "$new" item:7 r0 r1 r2 m0 m1 m2)" \
			"write-through: all 6 nodes hold the new value" ;;
	esac
	down_clean "$s"
}
for s in redis-del mc-broadcast pubsub meta write-through; do strategy_case "$s"; done

# ---------------------------------------------------------------- bad arguments
bad() { # bad WANT-IN-MESSAGE ARGS...
	"$tb" up --base-port 7500 --dir "$dir" "${@:2}" > "$tmp/bad.out" 2>&1
	local rc=$?
	t "$([ $rc = 2 ] && grep -q -- "$1" "$tmp/bad.out" && [ ! -e "$dir/pids" ] && echo 1)" \
		"up ${*:2}: exit 2 ($(head -n 1 "$tmp/bad.out"))"
}
bad "is a replica" --drop r1:0.5
bad "no node 'zz'" --delay zz:5
bad "unknown 'nope'" --strategy nope
bad "not NODE:FRACTION" --drop m1:1.5

# ---------------------------------------------------------------- delay, on the wire
db=$tmp/cap.db
cap_ready() { [ -s "$db" ] && [ "$(sqlite3 -readonly "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'timeline'" 2>/dev/null)" = 1 ]; }
# The capture starts before the replica attaches through its proxy, so it sees the PSYNC.
# Its ports and filter are the ones the testbed's env gives for this layout (checked below).
"$bin" capture -q -i lo --redis 7501,7502,7503,7522 --memcached 7601,7602,7603 --http 7580 \
	-f 'not host 127.0.0.2' --duration 120 -w "$db" 2> "$tmp/cap.err" &
cap=$!
pids+=("$cap")
wait_until 100 cap_ready || bail "cachetap capture started"
sleep 0.2
up --delay m1:200 --delay r1:200 || bail "up --delay m1:200 --delay r1:200"
t "$([ "$(wc -l < "$dir/pids")" = 9 ] && all_running "$dir/pids" && grep -q '^proxy-m1 ' "$dir/pids" &&
	grep -q '^proxy-r1 ' "$dir/pids" && [ "$PROXY_PORTS" = 7522,7622 ] && echo 1)" \
	"delay: a faultproxy in front of m1 (7622) and of r1's link to r0 (7522)"
t "$([ "$CAPTURE_REDIS_PORTS" = 7501,7502,7503,7522 ] && [ "$CAPTURE_MEMCACHED_PORTS" = 7601,7602,7603 ] &&
	[ "$CAPTURE_FILTER" = 'not host 127.0.0.2' ] && [ "$M1_DELAY_MS" = 200 ] && echo 1)" \
	"delay: env gives the capture's ports and filter"
for i in 1 2 3; do
	http PUT "/items/$i" "{\"name\":\"v$i\"}"
	fill "$i" r1 m0 m1 m2
	http PUT "/items/$i" "{\"name\":\"w$i\"}"
done
t "$(ok nodes_are nil item:3 r0 r1 r2 m0 m1 m2)" "delay: the invalidations still arrive everywhere"
down_clean "delay"
sleep 0.3
kill -INT "$cap"
wait "$cap"
pids=()
show "$tmp/cap.err"
q() { sqlite3 "$db" "$1" 2>&1; }
# Per key, the update's delete is the last one everywhere (the create's DEL of a missing key
# is not replicated, so earlier ones do not pair up): the last DEL at r0 (the app's command),
# at m0 (undelayed), and at the recipient given.
arrivals() { # arrivals WHERE: "keys|min(ns after r0's DEL)|how many came after m0's delete"
	q "WITH o AS (SELECT key, max(ts_ns) t FROM timeline WHERE server = '127.0.0.1:7501'
	              AND via = 'command' AND class = 'delete' GROUP BY key),
	        m0 AS (SELECT key, max(ts_ns) t FROM timeline WHERE server = '127.0.0.1:7601'
	              AND class = 'delete' GROUP BY key),
	        a AS (SELECT key, max(ts_ns) t FROM timeline WHERE $1 AND class = 'delete' GROUP BY key)
	   SELECT count(*), min(a.t - o.t), sum(a.t > m0.t) FROM a JOIN o USING (key) JOIN m0 USING (key)"
}
m1=$(arrivals "server = '127.0.0.1:7602'")
r1=$(arrivals "server = '127.0.0.1:7522' AND via = 'replication'")
r2=$(arrivals "server = '127.0.0.1:7501' AND via = 'replication'")
echo "# keys|min ns after r0's DEL|after m0's delete: m1 $m1, r1 $r1, r2 (undelayed) $r2"
t "$([ "${m1%%|*}" = 3 ] && [ "$(cut -d'|' -f2 <<< "$m1")" -ge 200000000 ] && [ "${m1##*|}" = 3 ] && echo 1)" \
	"delay m1:200: each update's delete reaches m1 >= 200 ms after its DEL at r0, and after m0's"
t "$([ "${r1%%|*}" = 3 ] && [ "$(cut -d'|' -f2 <<< "$r1")" -ge 200000000 ] && [ "${r1##*|}" = 3 ] && echo 1)" \
	"delay r1:200: each update's DEL reaches r1 (replication through the proxy) >= 200 ms after r0's"
t "$([ "${r2%%|*}" = 3 ] && echo 1)" "the undelayed replica r2's replicated DELs are in the capture too"
t "$(ok [ "$(q "SELECT count(*) FROM connections WHERE client LIKE '127.0.0.2:%' OR server LIKE '127.0.0.2:%'")" = 0 ])" \
	"the proxy's own leg to r0 (from 127.0.0.2) is filtered out of the capture"

# ---------------------------------------------------------------- drop
drop_case() { # drop_case NODE PORT LOG ARGS...
	local node=$1 port=$2 log=$3 i keep=0 gone=0 wrong=0 others=0 dropped
	up "${@:4}" || { t 0 "up ${*:4}"; return; }
	for i in $(seq 1 20); do
		http PUT "/items/$i" "{\"name\":\"v$i\"}"
		fill "$i" m0 m1 m2
		http PUT "/items/$i" "{\"name\":\"w$i\"}"
	done
	# The subscribers' deletes are asynchronous but in order: once a last write's invalidation
	# has been handled on every node (deleted, or logged as dropped), all earlier ones have.
	http PUT /items/99 '{"name":"last"}'
	fill 99 m0 m1 m2
	http PUT /items/99 '{"name":"last2"}'
	handled() {
		local name p=7600
		for name in m0 m1 m2; do
			p=$((p + 1))
			[ "$(mcval $p item:99)" = nil ] || grep -q "^drop $name item:99$" "$dir"/*.log || return 1
		done
	}
	wait_until 50 handled
	dropped=" $(sed -n "s/^drop $node \(item:[0-9]*\)$/\1/p" "$dir/$log" | sort -u | tr '\n' ' ')"
	for i in $(seq 1 20); do
		if [[ $dropped == *" item:$i "* ]]; then
			if [ "$(mcval "$port" "item:$i")" = "$(item "$i" "v$i" 1)" ]; then keep=$((keep + 1)); else wrong=$((wrong + 1)); fi
		else
			if [ "$(mcval "$port" "item:$i")" = nil ]; then gone=$((gone + 1)); else wrong=$((wrong + 1)); fi
		fi
		for p in 7601 7602 7603; do
			[ "$p" = "$port" ] && continue
			[ "$(mcval "$p" "item:$i")" = nil ] || others=$((others + 1))
		done
	done
	echo "# ${*:4}: dropped at $node:$dropped"
	t "$([ $keep -gt 0 ] && [ $gone -gt 0 ] && [ $wrong = 0 ] && [ $others = 0 ] && echo 1)" \
		"${*:4}: the $keep keys logged as dropped keep their old value on $node, the other $gone are gone; other nodes: all gone ($others left, $wrong wrong)"
	down_clean "${*:4}"
}
drop_case m1 7602 app.log --drop m1:0.5
drop_case m2 7603 sub-m2.log --strategy pubsub --drop m2:0.5

# ---------------------------------------------------------------- stale-set race
up --stale-race 1500 || bail "up --stale-race 1500"
http PUT /items/5 '{"name":"before"}'
curl -s -m 60 -D "$tmp/race.h" -o "$tmp/race.b" "$URL/items/5" &
reader=$!
fill_waiting() { grep -q '^fill-wait item:5 1500$' "$dir/app.log"; }
wait_until 100 fill_waiting
t "$(ok fill_waiting)" "stale race: the read miss waits between its database read and the fill"
http PUT /items/5 '{"name":"after"}'
wait "$reader"
node=$(grep -i '^X-Cache-Node:' "$tmp/race.h" | cut -d' ' -f2 | tr -d '\r')
t "$([ "$code" = 200 ] && [ "$(cat "$tmp/race.b")" = "$(item 5 before 1)" ] && echo 1)" \
	"stale race: the write lands meanwhile; the slow read returns what it had read"
order=$(grep -E '^(req PUT /items/5 200|fill item:5 )' "$dir/app.log" | cut -d' ' -f1 | tr '\n' ' ')
db_name=$(sqlite3 "$APP_DB" "SELECT name FROM items WHERE id = 5")
[[ $node =~ ^m[012]$ ]] || node=m0
port=${node^^}_PORT
t "$([ "$order" = "req fill " ] && [ "$db_name" = after ] && [ "$(mcval "${!port}" item:5)" = "$(item 5 before 1)" ] && echo 1)" \
	"stale race: the fill came after the write's delete, so $node holds the old item while SQLite has '$db_name'"
http GET "/items/5?node=$node"
t "$([ "$(hdr X-Cache)" = hit ] && [ "$body" = "$(item 5 before 1)" ] && echo 1)" "stale race: later reads hit the stale value"
down_clean "stale race"

[ $n = $plan ] || echo "# ran $n tests, planned $plan"
exit $failed
