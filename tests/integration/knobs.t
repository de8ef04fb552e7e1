#!/usr/bin/env bash
# The testbed's fault knobs against `cachetap drive -i lo` (issue 5: "with each fault knob on,
# the driver fails the right assertion at the right node and exits 1"); needs root.
#  0. No knob: the three scenarios below (a 15 ms wait on m0,m1; tools/scenarios/items.scn;
#     tools/scenarios/race.scn) exit 0, and race.scn leaves no stale set. Also spawn/await at
#     run time: more spawns than CT_DRIVE_SPAWN_MAX with no await, and a spawn that gets no
#     response (exit 1 at its line).
#  1. --delay m1:40: `wait invalidation item:301 on m0,m1 within 15ms` fails at m1 only, at
#     its FILE:LINE; m0's wait is satisfied.
#  2. --drop m1:1 (every key): items.scn's `wait invalidation ... on all` fails at m1 only.
#  3. --stale-race 300: race.scn spawns a read miss at m0 whose fill waits 300 ms, updates the
#     item meanwhile, awaits, and its last check fails at m0 with the old value as the actual
#     value; `cachetap report` on the drive's database shows a stale set at m0 for that key.
# Each knob gets a fresh testbed. Ports: base 8600 (app 8680, Redis 8601-8603, memcached
# 8701-8703, proxy 8722; 8699 has no listener). testbed.t's base 7500 spans 7501-7623 and
# delay.t's 7800 spans 7801-7923, so neither collides with these.
set -u
. "$(dirname "$0")/../lib.sh"
plan=44
echo "1..$plan"
require_root $plan
require_cmds $plan redis-server redis-cli memcached curl sqlite3 "$bin" "$build/tools/demoapp" "$build/tools/faultproxy"

use_testbed
show() { sed 's/^/# /' "$@"; }
q() { sqlite3 "$1" "$2"; }

up() { # up ARGS...: a fresh testbed on base port 8600; its env is sourced
	"$tb" down --dir "$dir" > /dev/null 2>&1
	"$tb" up --base-port 8600 --dir "$dir" "$@" > "$tmp/up.out" 2>&1 || { show "$tmp/up.out"; return 1; }
	# shellcheck disable=SC1091
	. "$dir/env"
}
drive() { # drive NAME SCENARIO: cachetap drive -i lo into $tmp/NAME.db; sets rc
	"$bin" drive -i lo -w "$tmp/$1.db" "$2" > "$tmp/$1.out" 2> "$tmp/$1.err"
	rc=$?
	show "$tmp/$1.out" "$tmp/$1.err"
}
line_of() { # line_of FILE TEXT: the line number of the last line that is exactly TEXT
	grep -nxF -- "$2" "$1" | tail -n 1 | cut -d: -f1
}

# The delay scenario: the testbed's base and node lines (7), then the steps.
delay_scn() {
	{
		cat "$dir/scenario-nodes.txt"
		cat <<'EOF'
header X-Scenario: knob-delay
let id = 301
call DELETE /items/{id}
call PUT /items/{id} {"name":"item {id} v1"}
expect status 201
call GET /items/{id}?node=m0
expect status 200
call GET /items/{id}?node=m1
expect status 200
call PUT /items/{id} {"name":"item {id} v2"}
expect status 200
wait invalidation item:{id} on m0,m1 within 15ms
check all get item:{id} == nil
EOF
	} > "$tmp/delay.scn"
}

# --- 0. no knob: every scenario holds ---
up || { echo "Bail out! testbed up failed"; exit 1; }
t "$(grep -qx 'base http://127.0.0.1:8680' "$dir/scenarios/race.scn" &&
	grep -qx 'node m0 memcached://127.0.0.1:8701' "$dir/scenarios/race.scn" &&
	[ "$(wc -l < "$dir/scenarios/race.scn")" = "$(wc -l < "$top/tools/scenarios/race.scn")" ] && echo 1)" \
	"the testbed writes race.scn into DIR/scenarios with its base and nodes, lines unchanged"
delay_scn
drive delay0 "$tmp/delay.scn"
t "$([ $rc = 0 ] && echo 1)" "no knob: the 15 ms wait on m0,m1 holds (exit $rc)"
drive items0 "$dir/scenarios/items.scn"
t "$([ $rc = 0 ] && echo 1)" "no knob: items.scn holds (exit $rc)"
drive race0 "$dir/scenarios/race.scn"
t "$([ $rc = 0 ] && echo 1)" "no knob: race.scn holds, the fill lands before the update (exit $rc)"
t "$(grep -c 'race.scn: calls=5 checks=3 assertions=5 waits=0 failures=0$' "$tmp/race0.err")" \
	"race.scn: 5 calls (one spawned), 3 checks, 5 assertions"
t "$(q "$tmp/race0.db" "SELECT count(*) = 5 AND count(DISTINCT request_id) = 5 AND sum(wire = 1 AND driver = 1) = 5 FROM api_calls")" \
	"every call, the spawned one too, is in api_calls with its own request id and its wire row"
"$bin" report "$tmp/race0.db" > /dev/null 2> "$tmp/report0.err"
rc=$?
show "$tmp/report0.err"
t "$([ $rc = 0 ] && [ "$(q "$tmp/race0.db" "SELECT count(*) FROM stale_sets")" = 0 ] && echo 1)" \
	"no knob: the report finds no stale set (exit $rc)"

# spawn and await at run time, without -i: more spawns than CT_DRIVE_SPAWN_MAX (64) and no
# await (the oldest is awaited first, the end awaits the rest), then a spawn with no answer.
{
	echo "base $URL"
	echo "repeat i 1..70"
	echo "  spawn GET /items/{i}?node=m2"
	echo "end"
} > "$tmp/many.scn"
"$bin" drive -w "$tmp/many.db" "$tmp/many.scn" > /dev/null 2> "$tmp/many.err"
rc=$?
show "$tmp/many.err"
t "$([ $rc = 0 ] && echo 1)" "70 spawns with no await exit 0 (got $rc)"
t "$(q "$tmp/many.db" "SELECT count(*) = 70 AND count(DISTINCT request_id) = 70 AND count(DISTINCT path) = 70 AND min(status) > 0 AND sum(step LIKE '%many.scn:3') = 70 AND min(curl_total_ns) > 0 FROM api_calls")" \
	"70 api_calls rows, each with its path, a status, its step and libcurl's timings"
printf 'base http://127.0.0.1:8699\nspawn PUT /items/1 {"name":"x"}\nsleep 1ms\nawait\nsleep 1ms\n' > "$tmp/dead.scn"
"$bin" drive -w "$tmp/dead.db" "$tmp/dead.scn" > /dev/null 2> "$tmp/dead.err"
rc=$?
show "$tmp/dead.err"
t "$([ $rc = 1 ] && echo 1)" "a spawn that gets no response exits 1 (got $rc)"
t "$(grep -c "^$tmp/dead.scn:2: spawn PUT /items/1: expected a response, got no response (" "$tmp/dead.err")" \
	"at the spawn's FILE:LINE, reported when it is awaited"
t "$(q "$tmp/dead.db" "SELECT count(*) = 1 AND max(status IS NULL) FROM api_calls")" \
	"its api_calls row has no status"

# --- 1. --delay m1:40 ---
up --delay m1:40 || { echo "Bail out! testbed up --delay m1:40 failed"; exit 1; }
delay_scn
wl=$(line_of "$tmp/delay.scn" 'wait invalidation item:{id} on m0,m1 within 15ms')
drive delay "$tmp/delay.scn"
t "$([ $rc = 1 ] && echo 1)" "--delay m1:40: the 15 ms wait fails, exit 1 (got $rc)"
t "$(grep -c "^$tmp/delay.scn:$wl: at m1 (127.0.0.1:8702): expected an invalidation of item:301 within 15.000 ms, got " "$tmp/delay.err")" \
	"at the wait's FILE:LINE, at m1 (its own port, not the proxy's)"
t "$(grep -c ": at m[02] \|: at r[0-2] " "$tmp/delay.err" | grep -cx 0)" "and at no other node"
t "$(grep -c "^$tmp/delay.scn:$wl: invalidation of item:301 at m0 (127.0.0.1:8701) after " "$tmp/delay.out")" \
	"m0's wait is satisfied"
t "$(q "$tmp/delay.db" "SELECT group_concat(node || ' ' || satisfied, '|') FROM (SELECT * FROM waits ORDER BY node)" | grep -cx 'm0 1|m1 0')" \
	"waits: m0 satisfied, m1 not"
t "$(q "$tmp/delay.db" "SELECT count(*) FROM waits w JOIN api_calls c ON c.request_id = w.request_id WHERE c.method = 'PUT' AND c.status = 200 AND c.wire = 1" | grep -cx 2)" \
	"both waits start at the update's api_calls row, seen on the wire"
t "$(q "$tmp/delay.db" "SELECT count(*) FROM timeline t JOIN waits w ON w.node = 'm0' AND t.event_id = w.event_id WHERE t.key = 'item:301' AND t.class = 'delete' AND t.recipient = '127.0.0.1:8701'")" \
	"m0's arrival is the delete of item:301 the timeline has at m0"
t "$(grep -c 'calls=5 checks=0 assertions=4 waits=2 failures=1$' "$tmp/delay.err")" \
	"the run stops at the failing wait (the check after it never ran)"

# --- 2. --drop m1:1 ---
up --drop m1:1 || { echo "Bail out! testbed up --drop m1:1 failed"; exit 1; }
scn=$dir/scenarios/items.scn
wl=$(line_of "$scn" '  wait invalidation item:{id} on all within 1s')
drive drop "$scn"
t "$([ $rc = 1 ] && echo 1)" "--drop m1:1: items.scn exits 1 (got $rc)"
t "$(grep -c "^$scn:$wl: at m1 (127.0.0.1:8702): expected an invalidation of item:1 within 1000.000 ms, got none$" "$tmp/drop.err")" \
	"the wait fails at its FILE:LINE at m1: none came"
t "$(grep -c ": at m[02] \|: at r[0-2] \|: expected status\|: expected \." "$tmp/drop.err" | grep -cx 0)" \
	"no other node and no other assertion failed"
t "$(grep -c "^$scn:$wl: invalidation of item:1 at " "$tmp/drop.out" | grep -cx 5)" \
	"the five other nodes' waits are satisfied"
t "$(q "$tmp/drop.db" "SELECT group_concat(node || ' ' || satisfied, '|') FROM (SELECT * FROM waits WHERE key = 'item:1' ORDER BY node)" | grep -cx 'm0 1|m1 0|m2 1|r0 1|r1 1|r2 1')" \
	"waits: every node satisfied but m1"
t "$(grep -c '^drop m1 item:1$' "$APP_LOG" | awk '$1 >= 1 { print 1 }')" "the app logged the drop at m1"
t "$(q "$tmp/drop.db" "SELECT count(*) FROM timeline WHERE key = 'item:1' AND class = 'delete' AND recipient = '127.0.0.1:8702'" | grep -cx 0)" \
	"the timeline has no delete of item:1 at m1"
t "$(q "$tmp/drop.db" "SELECT count(*) FROM timeline WHERE key = 'item:1' AND class = 'delete' AND recipient = '127.0.0.1:8701' AND ts_ns >= (SELECT max(ts_start_ns) FROM api_calls WHERE method = 'PUT' AND path = '/items/1')" | awk '$1 >= 1 { print 1 }')" \
	"and has the update's delete of item:1 at m0"

# --- 3. --stale-race 300 ---
up --stale-race 300 || { echo "Bail out! testbed up --stale-race 300 failed"; exit 1; }
scn=$dir/scenarios/race.scn
cl=$(line_of "$scn" 'check m0 get item:{id} == nil')
sl=$(line_of "$scn" 'spawn GET /items/{id}?node=m0')
pl=$(line_of "$scn" 'call PUT /items/{id} {"name":"item {id} v2"}')
drive race "$scn"
t "$([ $rc = 1 ] && echo 1)" "--stale-race 300: race.scn exits 1 (got $rc)"
t "$(grep -c "^$scn:$cl: at m0 (127.0.0.1:8701 get item:201): expected nil, got \"{\\\\\"id\\\\\":201,\\\\\"name\\\\\":\\\\\"item 201 v1\\\\\",\\\\\"version\\\\\":1}\"$" "$tmp/race.err")" \
	"the last check fails at its FILE:LINE at m0, with the old value (v1) as the actual value"
t "$(grep -c ": at \|: expected" "$tmp/race.err" | grep -cx 1)" "the only failure"
t "$(grep -c 'race.scn: calls=5 checks=3 assertions=5 waits=0 failures=1$' "$tmp/race.err")" \
	"every step ran: 5 calls, 3 checks, 5 assertions"
t "$(grep -c '^fill-wait item:201 300$' "$APP_LOG" | awk '$1 >= 2 { print 1 }')" \
	"the app waited before each fill (the read through m1, the spawned read through m0)"
t "$(q "$tmp/race.db" "SELECT group_concat(node || ' ' || ok || ' ' || (actual LIKE '%item 201 v1%'), '|') FROM checks WHERE step LIKE '%race.scn:$cl'" | grep -cx 'm0 0 1')" \
	"the checks table has the failed check at m0 with the v1 value"
t "$(q "$tmp/race.db" "SELECT count(*) FROM api_calls s, api_calls p WHERE s.step LIKE '%race.scn:$sl' AND s.method = 'GET' AND s.path = '/items/201?node=m0' AND s.status = 200 AND s.wire = 1 AND s.driver = 1 AND p.step LIKE '%race.scn:$pl' AND p.status = 200 AND p.wire = 1 AND s.request_id != p.request_id")" \
	"api_calls: the spawned read and the update, each with its wire row"
t "$(q "$tmp/race.db" "SELECT count(*) FROM api_calls s, api_calls p WHERE s.step LIKE '%race.scn:$sl' AND p.step LIKE '%race.scn:$pl' AND s.ts_start_ns < p.ts_start_ns AND s.ts_end_ns > p.ts_end_ns")" \
	"the update ran inside the spawned read (the spawned call did not hold up the next steps)"
t "$(q "$tmp/race.db" "SELECT count(*) FROM timeline d, timeline f WHERE d.key = 'item:201' AND f.key = 'item:201' AND d.recipient = '127.0.0.1:8701' AND f.recipient = '127.0.0.1:8701' AND d.class = 'delete' AND d.dir = 'c2s' AND f.class = 'write' AND f.dir = 'c2s' AND f.ts_ns > d.ts_ns AND d.ts_ns >= (SELECT ts_start_ns FROM api_calls WHERE step LIKE '%race.scn:$pl')" | awk '$1 >= 1 { print 1 }')" \
	"timeline: at m0 the update's delete of item:201, then the late fill's set"
"$bin" report "$tmp/race.db" > "$tmp/report.txt" 2> "$tmp/report.err"
rc=$?
show "$tmp/report.err"
t "$([ $rc = 0 ] && echo 1)" "cachetap report on the drive's database (exit $rc)"
t "$(q "$tmp/race.db" "SELECT count(*) FROM stale_sets s JOIN api_calls c ON c.id = s.api_call_id WHERE s.node = '127.0.0.1:8701' AND s.key = 'item:201' AND c.step LIKE '%race.scn:$pl' AND s.after_arrival_ns > 0" | grep -cx 1)" \
	"stale_sets: one row at m0 for item:201, against the update"
t "$(q "$tmp/race.db" "SELECT count(*) FROM stale_sets WHERE node != '127.0.0.1:8701' OR key != 'item:201'" | grep -cx 0)" \
	"and no stale set elsewhere"
t "$(q "$tmp/race.db" "SELECT count(*) FROM stale_sets s JOIN timeline t ON t.event_id = s.event_id WHERE t.class = 'write' AND t.recipient = '127.0.0.1:8701' AND t.key = 'item:201' AND t.ts_ns = s.ts_ns")" \
	"the stale set is the fill's set at m0 in the timeline"
t "$(grep -c '^stale sets (worst first): 1$' "$tmp/report.txt")" "the text report lists one stale set"
t "$(sed -n '/^stale sets/,$p' "$tmp/report.txt" | grep -c ' m0 (127.0.0.1:8701) *item:201 \[PUT /items/201\]$')" \
	"at m0 for item:201, with the update as its API call"
"$bin" report -f json "$tmp/race.db" > "$tmp/report.json" 2> /dev/null
rc=$?
t "$([ $rc = 0 ] && sed -n '/^  "stale_sets": \[/,/^  \]/p' "$tmp/report.json" | grep -c '"node": "127.0.0.1:8701", "name": "m0", "key": "item:201"' | grep -qx 1 && echo 1)" \
	"the JSON report's stale_sets has it, at m0 for item:201 (exit $rc)"
exit $failed
