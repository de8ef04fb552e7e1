#!/usr/bin/env bash
# cachetap drive (issue 5) against real servers on lo (needs root for -i): a Redis
# (127.0.0.1:7201), a memcached (127.0.0.1:7202) and the demo app (tools/demoapp) in front of
# them (7210), plus a second demo app (7211) that drops every invalidation to memcached.
#  1. A scenario whose steps all hold exits 0; its calls, checks, assertions and waits are in
#     their tables, each wait's arrival is the DEL/delete the timeline has at that node, and
#     each driver call has absorbed the wire row with its X-Request-Id.
#  2. A failing check exits 1 with FILE:LINE, the node, the expected and the actual value
#     (without -i: the driver alone), and --keep-going reports every failure.
#  3. A wait on a node whose invalidation is dropped exits 1 at that node; the other node's
#     wait is satisfied.
#  5. A wait on a replica whose link was made before the capture: drive reconnects the
#     replica (CLIENT KILL TYPE master) so the capture sees the replication link begin, and
#     the replicated DEL satisfies the wait at the replica's own endpoint.
#  4. Bad scenarios exit 2 with FILE:LINE: a parse error, a wait without -i, and a value that
#     is bad only once its variables are expanded.
set -u
. "$(dirname "$0")/../lib.sh"
echo "1..49"
require_root 49
app=$build/tools/demoapp
require_cmds 49 redis-server redis-cli memcached sqlite3 curl "$app" "$bin"

redis-server --port 7201 --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
pids+=($!)
memcached -l 127.0.0.1 -p 7202 -U 0 -u nobody -t 1 > "$tmp/mc.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do redis-cli -p 7201 ping > /dev/null 2>&1 && break; sleep 0.1; done
"$app" --port 7210 --db "$tmp/app.db" --redis-primary r0=127.0.0.1:7201 \
	--memcached m0=127.0.0.1:7202 --strategy redis-del,mc-broadcast 2> "$tmp/app.log" &
pids+=($!)
"$app" --port 7211 --db "$tmp/app2.db" --redis-primary r0=127.0.0.1:7201 \
	--memcached m0=127.0.0.1:7202 --strategy redis-del,mc-broadcast --drop m0:1 \
	2> "$tmp/app2.log" &
pids+=($!)
for port in 7210 7211; do
	for _ in $(seq 50); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
		sleep 0.1
	done
done
q() { sqlite3 "$1" "$2"; }

# --- 1. every step holds ---
cat > "$tmp/pass.scn" <<'EOF'
# every statement, every assertion holds
base http://127.0.0.1:7210
header X-Team: qa
node r0 redis://127.0.0.1:7201
node m0 memcached://127.0.0.1:7202
let prefix = drv
repeat id 1..3
  call DELETE /items/{id}
  call PUT /items/{id} {"name":"{prefix}-{id}"}
  expect status 201
  expect json .name == "{prefix}-{id}"
  expect json .version == 1
  call GET /items/{id}?node=r0
  expect status 200
  call GET /items/{id}?node=m0
  expect json .id == {id}
  check r0 GET item:{id} == "{\"id\":{id},\"name\":\"{prefix}-{id}\",\"version\":1}"
  check all get item:{id} != nil
  check r0 EXISTS item:{id} == 1
  call PUT /items/{id} {"name":"{prefix}-{id}-v2"}
  expect status 200
  sleep 5ms
  wait invalidation item:{id} on all within 2s
  check all GET item:{id} == nil
  check m0 mg item:{id} == nil
  check r0 TTL item:{id} == -2
end
EOF
"$bin" drive -i lo -w "$tmp/pass.db" "$tmp/pass.scn" > "$tmp/pass.out" 2> "$tmp/pass.err"
rc=$?
sed 's/^/# /' "$tmp/pass.err"
db=$tmp/pass.db
t "$([ $rc = 0 ] && echo 1)" "a scenario whose steps all hold exits 0 (got $rc)"
t "$(grep -c 'pass.scn: calls=15 checks=18 assertions=18 waits=6 failures=0$' "$tmp/pass.err")" \
	"summary: 15 calls, 18 checks, 18 assertions, 6 waits, no failure"
t "$(grep -c '^cachetap drive: packets=[1-9][0-9]* bytes=' "$tmp/pass.err")" \
	"the capture's summary line is printed too"
t "$(q "$db" "SELECT count(*) FROM meta WHERE key = 'privileges' AND value LIKE 'capabilities dropped%'")" \
	"with -i, the driver gives up every capability once the device and the database are open"
t "$(grep -c '^.*/pass.scn:23: invalidation of item:[123] at \(r0 (127.0.0.1:7201)\|m0 (127.0.0.1:7202)\) after ' "$tmp/pass.out" | grep -cx 6)" \
	"each satisfied wait prints its node and latency"
t "$(q "$db" "SELECT count(*) = 15 AND sum(source = 'driver' AND driver = 1) = 15 FROM api_calls")" \
	"15 api_calls rows, all made by the driver"
t "$(q "$db" "SELECT count(DISTINCT request_id) = 15 AND sum(request_id LIKE 'ct-%-%') = 15 FROM api_calls")" \
	"each call has its own X-Request-Id ct-PID-N"
t "$(q "$db" "SELECT sum(wire = 1 AND conn_id IS NOT NULL AND client LIKE '127.0.0.1:%' AND server = '127.0.0.1:7210' AND ts_req_end_ns >= ts_start_ns) = 15 FROM api_calls")" \
	"each driver call absorbed its wire row (wire times, connection, endpoints)"
t "$(q "$db" "SELECT count(*) = 0 FROM api_calls WHERE source = 'wire'")" \
	"no wire row is left beside its driver row"
t "$(q "$db" "SELECT sum(curl_total_ns > 0 AND curl_ttfb_ns > 0 AND curl_total_ns >= curl_ttfb_ns AND ts_end_ns >= ts_start_ns) = 15 FROM api_calls")" \
	"each call has libcurl's timings"
t "$(q "$db" "SELECT group_concat(method || ' ' || path || ' ' || status || ' ' || step, '|') FROM (SELECT * FROM api_calls ORDER BY id LIMIT 5)" |
	sed "s|$tmp/||g" | grep -cx 'DELETE /items/1 404 pass.scn:8|PUT /items/1 201 pass.scn:9|GET /items/1?node=r0 200 pass.scn:13|GET /items/1?node=m0 200 pass.scn:15|PUT /items/1 200 pass.scn:20')" \
	"calls in order: method, expanded path, status, step FILE:LINE"
t "$(q "$db" "SELECT count(*) = 18 AND sum(ok) = 18 FROM checks")" "18 checks rows, all ok"
t "$(q "$db" "SELECT count(*) FROM checks WHERE node = 'm0' AND endpoint = '127.0.0.1:7202' AND cmd = 'get' AND key = 'item:2' AND expected = 'not nil' AND actual LIKE '\"{\\\"id\\\":2,%'")" \
	"a check row: node, endpoint, command, key, expected, actual"
t "$(q "$db" "SELECT count(*) = 3 FROM checks WHERE cmd = 'TTL' AND actual = '-2' AND expected = '-2'")" \
	"TTL checks read -2"
t "$(q "$db" "SELECT count(*) = 18 AND sum(ok) = 18 AND sum(request_id LIKE 'ct-%') = 18 FROM assertions")" \
	"18 assertion rows, all ok, each on its call"
t "$(q "$db" "SELECT count(*) FROM assertions WHERE kind = 'json .name' AND expected = '.name == \"drv-3\"' AND actual = '\"drv-3\"'")" \
	"an expect json row with the expanded value"
t "$(q "$db" "SELECT count(*) = 6 AND sum(satisfied) = 6 AND sum(latency_ns = arrival_ts_ns - origin_ts_ns AND latency_ns > 0 AND latency_ns <= within_ns) = 6 FROM waits")" \
	"6 waits rows (3 keys x 2 nodes), satisfied, latency = arrival - origin"
t "$(q "$db" "SELECT count(*) = 6 FROM waits w JOIN api_calls c ON c.request_id = w.request_id WHERE c.method = 'PUT' AND c.step LIKE '%pass.scn:20' AND w.origin_ts_ns <= c.ts_start_ns AND c.ts_start_ns - w.origin_ts_ns < 1000000000")" \
	"each wait's origin is the PUT before it (the driver's start of it), not the reads after it"
t "$(q "$db" "SELECT count(*) FROM waits w JOIN timeline t ON t.event_id = w.event_id WHERE t.ts_ns = w.arrival_ts_ns AND t.key = w.key AND t.recipient = w.endpoint AND t.class = 'delete' AND t.dir = 'c2s' AND t.cmd IN ('DEL', 'DELETE')" | grep -cx 6)" \
	"each wait's arrival is the DEL/delete event the timeline has at that node"
t "$(q "$db" "SELECT count(*) FROM timeline WHERE key = 'item:2' AND class = 'delete' AND recipient IN ('127.0.0.1:7201', '127.0.0.1:7202') AND ts_ns >= (SELECT min(ts_start_ns) FROM api_calls WHERE path = '/items/2' AND method = 'PUT' AND status = 200)" | awk '$1 >= 2 {print 1}')" \
	"the timeline has item:2 deleted at both nodes after its update"
t "$(q "$db" "SELECT group_concat(name || ' ' || endpoint || ' ' || ifnull(role, '-'), '|') FROM (SELECT * FROM nodes ORDER BY name)" | grep -cx 'app 127.0.0.1:7210 app|m0 127.0.0.1:7202 memcached|r0 127.0.0.1:7201 primary')" \
	"the scenario's nodes and the API are in the nodes table, with roles"
t "$(q "$db" "SELECT count(*) FROM meta WHERE key = 'redis_ports' AND ',' || value || ',' LIKE '%,7201,%'")" \
	"the node ports joined the capture's port lists"

# --- 2. a failing check ---
cat > "$tmp/fail.scn" <<'EOF'
base http://127.0.0.1:7210
node r0 redis://127.0.0.1:7201
node m0 memcached://127.0.0.1:7202
call PUT /items/40 {"name":"cached"}
call GET /items/40?node=m0
check r0 GET item:40 == nil
check m0 get item:40 == nil
check r0 GET item:40 == "never reached"
EOF
"$bin" drive -q -w "$tmp/fail.db" "$tmp/fail.scn" > "$tmp/fail.out" 2> "$tmp/fail.err"
rc=$?
sed 's/^/# /' "$tmp/fail.err"
t "$([ $rc = 1 ] && echo 1)" "a failing check exits 1 (got $rc)"
t "$(grep -c "^$tmp/fail.scn:7: at m0 (127.0.0.1:7202 get item:40): expected nil, got \"{\\\\\"id\\\\\":40,\\\\\"name\\\\\":\\\\\"cached\\\\\",\\\\\"version\\\\\":[0-9]*}\"$" "$tmp/fail.err")" \
	"FILE:LINE, the node, expected nil and the value it holds"
t "$(grep -c 'calls=2 checks=2 assertions=0 waits=0 failures=1$' "$tmp/fail.err")" \
	"the run stops at the first failure (the third check never ran)"
t "$(q "$tmp/fail.db" "SELECT group_concat(step || ' ' || node || ' ' || ok || ' ' || expected, '|') FROM checks" | sed "s|$tmp/||g" | grep -cx 'fail.scn:6 r0 1 nil|fail.scn:7 m0 0 nil')" \
	"the checks table holds the passing and the failing check"
t "$(q "$tmp/fail.db" "SELECT count(*) FROM checks WHERE ok = 0 AND actual LIKE '\"{%cached%}\"'")" \
	"with the actual value"

cat > "$tmp/keep.scn" <<'EOF'
base http://127.0.0.1:7210
node m0 memcached://127.0.0.1:7202
call GET /items/40
expect status 404
expect json .name == "other"
check m0 get item:40 == nil
EOF
"$bin" drive -k -w "$tmp/keep.db" "$tmp/keep.scn" > /dev/null 2> "$tmp/keep.err"
rc=$?
sed 's/^/# /' "$tmp/keep.err"
t "$([ $rc = 1 ] && echo 1)" "--keep-going: exit 1 (got $rc)"
t "$(grep -c "^$tmp/keep.scn:4: expected status 404, got status 200$" "$tmp/keep.err")" \
	"an expect status failure: expected and actual status"
t "$(grep -c "^$tmp/keep.scn:5: expected .name == \"other\", got \"cached\"$" "$tmp/keep.err")" \
	"an expect json failure: path, expected and actual value"
t "$(grep -c "^$tmp/keep.scn:6: at m0 " "$tmp/keep.err")" "and the check after them ran too"
t "$(q "$tmp/keep.db" "SELECT count(*) = 2 AND sum(ok) = 0 FROM assertions")" "both assertions recorded as failed"

# --- 3. a wait on a node whose invalidation is dropped ---
cat > "$tmp/drop.scn" <<'EOF'
base http://127.0.0.1:7211
node r0 redis://127.0.0.1:7201
node m0 memcached://127.0.0.1:7202
call PUT /items/60 {"name":"a"}
call GET /items/60?node=m0
call GET /items/60?node=r0
call PUT /items/60 {"name":"b"}
wait invalidation item:60 on r0,m0 within 300ms
check r0 GET item:60 == "never reached"
EOF
"$bin" drive -i lo -w "$tmp/drop.db" "$tmp/drop.scn" > "$tmp/drop.out" 2> "$tmp/drop.err"
rc=$?
sed 's/^/# /' "$tmp/drop.err"
t "$([ $rc = 1 ] && echo 1)" "a wait on a node that never gets its invalidation exits 1 (got $rc)"
t "$(grep -c "^$tmp/drop.scn:8: at m0 (127.0.0.1:7202): expected an invalidation of item:60 within 300.000 ms, got none$" "$tmp/drop.err")" \
	"FILE:LINE at that node: expected within 300 ms, got none"
t "$(grep -c "^$tmp/drop.scn:8: invalidation of item:60 at r0 (127.0.0.1:7201) after " "$tmp/drop.out")" \
	"the other node's invalidation was seen"
t "$(q "$tmp/drop.db" "SELECT group_concat(node || ' ' || satisfied || ' ' || (arrival_ts_ns IS NULL) || ' ' || (event_id IS NULL), '|') FROM (SELECT * FROM waits ORDER BY node)" | grep -cx 'm0 0 1 1|r0 1 0 0')" \
	"waits: m0 unsatisfied with no arrival, r0 satisfied with its event"
t "$(q "$tmp/drop.db" "SELECT count(*) FROM timeline WHERE key = 'item:60' AND class = 'delete' AND recipient = '127.0.0.1:7202'" | grep -cx 0)" \
	"and the timeline has no delete of item:60 at m0"

# --- 5. a wait on a replica attached before the capture started ---
redis-server --port 7203 --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--replicaof 127.0.0.1 7201 --logfile "$tmp/replica.log" &
pids+=($!)
for _ in $(seq 100); do
	redis-cli -p 7203 info replication 2>/dev/null | grep -q 'master_link_status:up' && break
	sleep 0.1
done
cat > "$tmp/repl.scn" <<'EOF'
base http://127.0.0.1:7210
node r0 redis://127.0.0.1:7201
node r1 redis://127.0.0.1:7203
call PUT /items/70 {"name":"a"}
call GET /items/70?node=r0
call PUT /items/70 {"name":"b"}
wait invalidation item:70 on r0,r1 within 2s
EOF
"$bin" drive -i lo -w "$tmp/repl.db" "$tmp/repl.scn" > "$tmp/repl.out" 2> "$tmp/repl.err"
rc=$?
sed 's/^/# /' "$tmp/repl.err"
t "$([ $rc = 0 ] && echo 1)" "a wait on a replica attached before the capture is satisfied (exit $rc)"
t "$(grep -c "^cachetap drive: node r1 is a replica: reconnecting it" "$tmp/repl.err")" \
	"drive says it reconnected the replica so the capture sees its link begin"
t "$(grep -c "^$tmp/repl.scn:7: invalidation of item:70 at r1 (127.0.0.1:7203) after " "$tmp/repl.out")" \
	"the replica's invalidation is reported at its own endpoint"
t "$(q "$tmp/repl.db" "SELECT count(*) FROM timeline WHERE key = 'item:70' AND class = 'delete' AND via = 'replication' AND recipient = '127.0.0.1:7203'")" \
	"the timeline has the replicated DEL at the replica (recipient 127.0.0.1:7203)"

# --- 4. bad scenarios exit 2 ---
printf 'node r0 redis://127.0.0.1:7201\nsleep 1ms\ncheck r9 GET k == nil\n' > "$tmp/bad.scn"
"$bin" drive -w "$tmp/bad.db" "$tmp/bad.scn" > /dev/null 2> "$tmp/bad.err"
rc=$?
t "$([ $rc = 2 ] && echo 1)" "a bad scenario exits 2 (got $rc)"
t "$(grep -c "^$tmp/bad.scn:3: unknown node 'r9'" "$tmp/bad.err")" "with FILE:LINE and what is wrong"
t "$([ ! -e "$tmp/bad.db" ] && echo 1)" "and before anything ran (no database)"
printf 'node r0 redis://127.0.0.1:7201\n\nwait invalidation k on r0 within 1s\n' > "$tmp/nolive.scn"
"$bin" drive -w "$tmp/nolive.db" "$tmp/nolive.scn" > /dev/null 2> "$tmp/nolive.err"
rc=$?
t "$([ $rc = 2 ] && grep -q "^$tmp/nolive.scn:3: wait invalidation needs -i IFACE" "$tmp/nolive.err" && echo 1)" \
	"a wait without -i exits 2 at its line (got $rc)"
printf 'node m0 memcached://127.0.0.1:7202\nlet k = a b\ncheck m0 get {k} == nil\n' > "$tmp/late.scn"
"$bin" drive -w "$tmp/late.db" "$tmp/late.scn" > /dev/null 2> "$tmp/late.err"
rc=$?
sed 's/^/# /' "$tmp/late.err"
t "$([ $rc = 2 ] && echo 1)" "a value bad only once expanded exits 2 (got $rc)"
t "$(grep -c "^$tmp/late.scn:3: 'a b' is not a memcached key" "$tmp/late.err")" "at its FILE:LINE"
"$bin" drive --bogus "$tmp/pass.scn" > /dev/null 2>&1
rc=$?
t "$([ $rc = 2 ] && echo 1)" "an unknown option exits 2 (got $rc)"
"$bin" drive --help > "$tmp/help.out"
rc=$?
t "$([ $rc = 0 ] && grep -q '^usage: cachetap drive' "$tmp/help.out" && grep -q 'Exit status' "$tmp/help.out" && echo 1)" \
	"--help prints the usage and exits 0"
exit $failed
