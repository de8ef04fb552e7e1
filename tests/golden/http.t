#!/usr/bin/env bash
# Golden test of HTTP/1.x on the wire (src/http_pair.c): API calls against tshark's HTTP
# dissector, on a capture of real traffic.
#
# No public capture in captures/public/ holds HTTP/1.x (tshark finds one "HTTP/5.?2 200" line
# in zeek/oss-fuzz-473580107.pcap, which is fuzz garbage on port 80). So captures/http/api.pcap
# was recorded once with tools/mkcap-http.sh: curl and a socket client against Python's
# http.server on 127.0.0.1:7401, written by tcpdump (see captures/http/SOURCES.md). The test
# only replays the file, so it needs neither Python nor curl; tshark is the reference.
#
# Per call, in request order per connection: client port, method, request target, the time of
# the request's last byte, the final status, the time of the response's last byte. tshark
# shows a reassembled message at the frame that carries its last byte, so its frame time is
# our ts_req_end_ns / ts_end_ns (SPEC 4). tshark lists requests and responses separately; they
# are paired here in order per connection, which is how HTTP/1.1 answers (RFC 9112 9.3.2),
# with 1xx left out (100 Continue is not the response). Where we differ on purpose, the
# reference is corrected below and the comment says why.
set -u
top=${CT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${CT_BIN:-$top/build/cachetap}
cap=$top/captures/http/api.pcap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
t() { n=$((n + 1)); if [ "$1" = 1 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
q() { sqlite3 -separator $'\t' "$tmp/d.db" "$1"; }
run() { rm -f "$tmp/d.db"; "$bin" replay -w "$tmp/d.db" "$@" 2> "$tmp/err"; }
compare() { # NAME WANT GOT
	if [ -s "$2" ] && diff -u "$2" "$3" > "$tmp/diff"; then
		t 1 "$1 ($(wc -l < "$2") lines)"
	else
		t 0 "$1"
		sed 's/^/#   /' "$tmp/diff" | head -40
	fi
}
echo "1..12"

run --http 7401 --decode redis,memcached,http "$cap"
rc=$?
t "$([ $rc = 0 ] && grep -q ' gaps=0 drops=0 errors=0$' "$tmp/err" && echo 1)" \
	"replay --http 7401: exit 0, no gaps, drops or errors"
grep -v '^cachetap' "$tmp/err" | sed 's/^/# /'

# ---- the reference: tshark's HTTP dissector ----
# Fields of every frame that completes an HTTP message; pipelined requests in one frame come
# as several values, joined by the aggregator \x1f.
agg=$'\x1f'
tshark -r "$cap" -d tcp.port==7401,http -Y http -T fields -E "aggregator=$agg" \
	-e frame.time_epoch -e tcp.srcport -e tcp.dstport -e http.request.method \
	-e http.request.uri -e http.response.code -e http.request.line > "$tmp/tshark" 2> "$tmp/tserr"
t "$([ -s "$tmp/tshark" ] && echo 1)" "tshark reads the capture ($(wc -l < "$tmp/tshark") HTTP frames)"

# The response to GET /until-close/9 has no length: its body ends when the server closes.
# tshark shows it at the FIN (it learns there that the body ended); its last byte, the time
# SPEC 4 gives a message, came in the last server frame with payload. The reference takes that
# frame's time, from tshark too.
uc_port=$(awk -F'\t' '$5 ~ /^\/until-close\// { print $2 }' "$tmp/tshark")
uc_last=$(tshark -r "$cap" -Y "tcp.srcport == 7401 && tcp.dstport == $uc_port && tcp.len > 0" \
	-T fields -e frame.time_epoch 2>/dev/null | tail -n 1)

awk -F'\t' -v agg="$agg" -v ucport="$uc_port" -v uclast="$uc_last" '
	$3 == 7401 {                       # requests: client port, method, target, end time
		nm = split($4, m, agg); split($5, u, agg)
		for (i = 1; i <= nm; i++) req[$2, ++nreq[$2]] = $2 "\t" m[i] "\t" u[i] "\t" $1
		ports[$2] = 1
	}
	$2 == 7401 {                       # final responses: status, end time
		nc = split($6, c, agg)
		for (i = 1; i <= nc; i++) {
			if (c[i] < 200 && c[i] != 101) continue
			tm = ($3 == ucport) ? uclast : $1
			resp[$3, ++nresp[$3]] = c[i] "\t" tm
		}
	}
	END {
		for (p in ports)
			for (i = 1; i <= nreq[p]; i++)
				print req[p, i] "\t" ((p, i) in resp ? resp[p, i] : "-\t-")
	}' "$tmp/tshark" | LC_ALL=C sort -t$'\t' -k1,1n -k4,4 > "$tmp/want"

# (the clients are 127.0.0.1:PORT)
q "SELECT substr(client, instr(client, ':') + 1), method, path, printf('%d.%09d', ts_req_end_ns / 1000000000, ts_req_end_ns % 1000000000),
	  ifnull(status, '-'),
	  ifnull(printf('%d.%09d', ts_end_ns / 1000000000, ts_end_ns % 1000000000), '-')
	  FROM api_calls ORDER BY conn_id, id" | LC_ALL=C sort -t$'\t' -k1,1n -k4,4 > "$tmp/got"
compare "method, target, request end, status, response end per call equal tshark's" \
	"$tmp/want" "$tmp/got"

# X-Request-Id and traceparent, per connection (tshark cannot say which of several pipelined
# requests in one frame a header line belongs to, so each connection's values are compared as
# a sorted list).
awk -F'\t' -v agg="$agg" '$3 == 7401 {
	k = split($7, l, agg)
	for (i = 1; i <= k; i++) {
		v = l[i]; sub(/\\r\\n$/, "", v)
		if (tolower(v) ~ /^x-request-id:/) { sub(/^[^:]*:[ \t]*/, "", v); print $2 "\tid\t" v }
		if (tolower(v) ~ /^traceparent:/) { sub(/^[^:]*:[ \t]*/, "", v); print $2 "\ttp\t" v }
	}
}' "$tmp/tshark" | LC_ALL=C sort > "$tmp/want-ids"
q "SELECT substr(client, instr(client, ':') + 1), 'id', request_id FROM api_calls
	  WHERE request_id IS NOT NULL UNION ALL SELECT substr(client, instr(client, ':') + 1), 'tp', traceparent FROM api_calls
	  WHERE traceparent IS NOT NULL" | LC_ALL=C sort > "$tmp/got-ids"
compare "X-Request-Id and traceparent per connection equal the request headers tshark shows" \
	"$tmp/want-ids" "$tmp/got-ids"

t "$(q "SELECT count(*) = 0 FROM api_calls WHERE source <> 'wire' OR wire <> 1 OR driver <> 0
	  OR client IS NOT (SELECT client FROM connections WHERE id = conn_id)
	  OR server IS NOT (SELECT server FROM connections WHERE id = conn_id)
	  OR server <> '127.0.0.1:7401'")" \
	"every row: source wire, wire 1, client and server of its connection"
t "$(q "SELECT count(*) = 0 FROM api_calls WHERE NOT (ts_start_ns <= ts_req_end_ns
	  AND ts_resp_start_ns <= ts_end_ns AND ts_start_ns <= ts_resp_start_ns)")" \
	"every row: first bytes before last bytes, the request begun before its response"
# 100 Continue comes before the body it asks for: the request ends after the response began
# to be awaited, and the final response starts after the body.
t "$(q "SELECT count(*) = 1 FROM api_calls WHERE path = '/items/4' AND method = 'PUT'
	  AND req_body_bytes = 2000 AND ts_req_end_ns > ts_start_ns
	  AND ts_resp_start_ns > ts_req_end_ns")" \
	"PUT with Expect: 100-continue: 2000 body bytes after the 100, the final response after them"
t "$(q "SELECT parse_errors + resyncs + unmatched_replies + reassembly_gaps + unanswered
	  + truncated_fields = 0 FROM run_stats")" \
	"no parse errors, resyncs, unmatched or unanswered calls, gaps or cut fields"

# One timeline event per call: the method, class other, no key, the path as detail, status ok
# below 400 and error from 400, timed at the request's last byte.
t "$(q "WITH e AS (SELECT *, row_number() OVER (PARTITION BY conn_id ORDER BY stream_off) AS k
	  FROM timeline WHERE proto = 'http'),
	  a AS (SELECT *, row_number() OVER (PARTITION BY conn_id ORDER BY id) AS k FROM api_calls)
	  SELECT (SELECT count(*) FROM api_calls) = count(*)
	  AND (SELECT count(*) FROM timeline WHERE proto = 'http') = count(*)
	  AND count(*) = sum(e.cmd = a.method
	  AND e.class = 'other' AND e.key IS NULL AND e.detail = a.path AND e.dir = 'c2s'
	  AND e.via = 'command' AND e.ts_ns = a.ts_req_end_ns AND e.first_ts_ns = a.ts_start_ns
	  AND e.status = CASE WHEN a.status < 400 THEN 'ok' ELSE 'error' END
	  AND e.latency_ns = a.ts_end_ns - a.ts_req_end_ns)
	  FROM e JOIN a ON a.conn_id = e.conn_id AND a.k = e.k")" \
	"one http timeline event per call, with its method, path, status and latency"

# Without http in --decode the HTTP ports are neither decoded nor guessed.
run --http 7401 --decode redis,memcached "$cap"
t "$(q "SELECT (SELECT count(*) FROM api_calls) = 0 AND (SELECT count(*) FROM events) = 0
	  AND (SELECT count(*) FROM connections WHERE app IS NOT NULL) = 0")" \
	"--decode redis,memcached: no api calls, no events, no connection taken for anything"

# The fuzz garbage on port 80 (a default --http port): decoded as HTTP, it is no call at all.
run "$top/captures/public/zeek/oss-fuzz-473580107.pcap"
rc=$?
t "$([ $rc = 0 ] && [ "$(q "SELECT count(*) FROM api_calls")" = 0 ] \
	&& [ "$(q "SELECT count(*) FROM connections WHERE app = 'http'")" = 1 ] && echo 1)" \
	"oss-fuzz garbage on port 80: no crash, no api call"
# tshark's one "response" there is "HTTP/5.?2 200": HTTP/1.x only, and no request before it.
t "$(q "SELECT parse_errors > 0 FROM capture_stats")" "oss-fuzz garbage on port 80: parse errors counted"
