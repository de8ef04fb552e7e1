#!/usr/bin/env bash
# `cachetap report` (SPEC sections 2, 6 and 7) on a hand-made timeline whose analysis is known:
# tests/golden/report/fixture.sql (its header comment derives every number) is loaded into a
# database that `cachetap replay` created, so the schema is the store's own. Checks:
#   - text, JSON and the CSV files equal the checked-in expected files (UPDATE=1 rewrites
#     them); the summary line on stderr carries the numbers the fixture comment derives;
#   - CSV: one file per table, CRLF line ends, RFC 4180 quoting of an untrusted key;
#   - HTML: the inline SVG charts are there, nothing is fetched from the network (no src=,
#     href=, script, link, url(), http:// or https://), and the untrusted key is escaped;
#   - --deadline and --key-map reach the analysis; drops make the report invalid;
#   - a second report of the same database gives the same JSON (the analysis is redone);
#   - a report runs while another connection holds the write lock (a live capture);
#   - SLO flags: exit 0 within, exit 3 with one stderr line per breach;
#   - every bad argument: exit 2 and exactly one stderr line naming it, files untouched.
set -u
. "$(dirname "$0")/../lib.sh"
gold=$top/tests/golden/report
cap=$top/captures/public/zeek/set.pcap
export LC_ALL=C

mkdb() { # DB: a replayed database holding the fixture timeline
	"$bin" replay -q -w "$1" "$cap" 2> /dev/null && sqlite3 -bail "$1" < "$gold/fixture.sql"
}
# same NAME EXPECTED-FILE ACTUAL-FILE: equal files (UPDATE=1 rewrites the expected one).
same() {
	if [ -n "${UPDATE:-}" ]; then
		mkdir -p "$(dirname "$2")" && cp "$3" "$2"
	fi
	if cmp -s "$2" "$3"; then
		t 1 "$1"
	else
		t 0 "$1"
		diff "$2" "$3" | head -20 | sed 's/^/#   /'
	fi
}
# run_rc WANT-RC ARGS...: runs cachetap report, output in $tmp/out, stderr in $tmp/err.
rc_of() {
	"$bin" report "$@" > "$tmp/out" 2> "$tmp/err"
	echo $?
}
bad() { # WHAT-IT-MUST-MENTION ARGS...
	local want=$1; shift
	"$bin" report "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
	local lines; lines=$(wc -l < "$tmp/err")
	if [ $rc = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$tmp/err"; then
		t 1 "report $*: exit 2, one line naming '$want'"
	else
		t 0 "report $*: exit 2, one line naming '$want' (exit $rc, $lines lines)"
		sed 's/^/#   /' "$tmp/err"
	fi
}
# slo WANT-RC WANT-BREACH-LINES ARGS...
slo() {
	local want=$1 nb=$2; shift 2
	"$bin" report -o "$tmp/slo.txt" "$@" f.db 2> "$tmp/err"; local rc=$?
	local breaches; breaches=$(grep -c 'SLO breached' "$tmp/err")
	local last; last=$(tail -n 1 "$tmp/err")
	if [ $rc = "$want" ] && [ "$breaches" = "$nb" ] && [ "${last#cachetap report: origins=}" != "$last" ]; then
		t 1 "report $*: exit $want, $nb breach line(s), summary last"
	else
		t 0 "report $*: exit $want, $nb breach line(s) (exit $rc, $breaches)"
		sed 's/^/#   /' "$tmp/err"
	fi
}

echo "1..56"
cd "$tmp" || exit 1
mkdb f.db
t "$([ $? = 0 ] && echo 1)" "fixture database built"
summary='cachetap report: origins=3 recipients=3 arrivals=7 missed=1 stale_reads=3 stale_sets=1 valid=yes'

# --- text (the default) ---
t "$([ "$(rc_of f.db)" = 0 ] && echo 1)" "text report exits 0"
cp "$tmp/out" report.txt
same "text report equals report.txt" "$gold/report.txt" report.txt
t "$([ "$(cat "$tmp/err")" = "$summary" ] && echo 1)" "stderr is exactly the summary line"
t "$(grep -qF '<b>&"x'"'"',y\x01\xff [DELETE /items/odd]' report.txt && echo 1)" \
	"text shows the untrusted key's bytes escaped"

# --- JSON ---
t "$([ "$(rc_of --format json f.db)" = 0 ] && echo 1)" "json report exits 0"
cp "$tmp/out" report.json
same "json report equals report.json (SPEC 7, field order kept)" "$gold/report.json" report.json
"$bin" report -f json -o again.json f.db 2> /dev/null
t "$(cmp -s report.json again.json && echo 1)" "a second report (analysis redone) gives the same JSON; --out writes it"
t "$(grep -qF '"key": "<b>&\"x'"'"',y\u0001\\xff"' report.json && echo 1)" \
	"json keeps UTF-8, escapes the invalid byte as \\xff"

# --- CSV ---
t "$([ "$(rc_of -f csv f.db)" = 0 ] && echo 1)" "csv report exits 0"
for f in origins propagation recipients stale_reads stale_sets api_calls; do
	same "csv: f-report/$f.csv (default directory) equals csv/$f.csv" "$gold/csv/$f.csv" "f-report/$f.csv"
done
t "$([ "$(ls f-report | wc -l)" = 6 ] && echo 1)" "csv: exactly one file per table"
crlf=1
for f in f-report/*.csv; do
	[ "$(grep -c $'\r$' "$f")" = "$(wc -l < "$f")" ] || crlf=0
done
t "$crlf" "csv: every line ends in CRLF"
t "$(grep -qF '"<b>&""x'"'"',y' f-report/propagation.csv && echo 1)" \
	"csv: a key with a comma and a quote is quoted, quote doubled (RFC 4180)"
t "$([ "$(head -n 1 f-report/recipients.csv)" = $'recipient,name,role,proto,arrivals,missed,pending,stale_reads,stale_sets,max_stale_ms,p50_ms,p90_ms,p99_ms,max_ms\r' ] && echo 1)" \
	"csv: recipients header"
"$bin" report -f csv --out outdir f.db 2> /dev/null
t "$([ -f outdir/propagation.csv ] && cmp -s outdir/propagation.csv f-report/propagation.csv && echo 1)" \
	"csv: --out DIR is created and filled"

# --- HTML ---
t "$([ "$(rc_of -f html f.db)" = 0 ] && [ -s report.html ] && echo 1)" "html report exits 0 and writes report.html by default"
"$bin" report -f html -o r.html f.db 2> /dev/null
t "$(cmp -s r.html report.html && echo 1)" "html: --out FILE writes the same file"
t "$(grep -q '<svg id="cdf"' r.html && grep -q '<svg id="stale"' r.html && echo 1)" \
	"html: latency CDF and still-stale charts (inline SVG)"
t "$([ "$(grep -c '<path class="cdf"' r.html)" = 3 ] && echo 1)" "html: one CDF curve per recipient with arrivals (3)"
t "$([ "$(grep -c '<svg class="swim"' r.html)" = 3 ] && echo 1)" "html: a swim-lane timeline per worst key (3 keys)"
t "$([ "$(grep -c '<line class="stale"' r.html)" = 3 ] && [ "$(grep -c '<rect class="missed"' r.html)" = 1 ] && echo 1)" \
	"html: the 3 stale reads and the missed lane are marked"
t "$(grep -Eiq 'src=|href=|<script|<link|@import|url\(|https?://' r.html || echo 1)" \
	"html: nothing that fetches from the network"
t "$(grep -qF '&lt;b&gt;&amp;&quot;x&#39;,y\x01\xff' r.html && ! grep -qF '<b>&' r.html && echo 1)" \
	"html: the untrusted key is escaped"

# --- options reach the analysis ---
"$bin" report --deadline 4500us -o /dev/null f.db 2> "$tmp/err"
t "$(grep -qF 'arrivals=6 missed=2' "$tmp/err" && echo 1)" \
	"--deadline 4500us: r1's 5 ms arrival becomes a missed invalidation"
"$bin" report --key-map 'PUT /items/{id} -> item:{id}' -f json -o km.json f.db 2> "$tmp/err"
t "$(grep -qF 'origins=4 recipients=3 arrivals=8' "$tmp/err" && grep -qF '"p90": 100.0' km.json && echo 1)" \
	"--key-map: the call that deletes after its response becomes an origin (r0 p90 100 ms)"
cp f.db drops.db
sqlite3 drops.db 'UPDATE run_stats SET kernel_drops = 3'
"$bin" report -f json -o drops.json drops.db 2> "$tmp/err"
t "$(grep -qF '"valid": false' drops.json && grep -qF 'packets were dropped' drops.json && grep -qF 'valid=no' "$tmp/err" && echo 1)" \
	"drops during the capture: valid false, with a warning"

# --- while a live capture holds the write lock ---
cp f.db live.db
sqlite3 live.db 'DELETE FROM run_stats'
{ echo 'BEGIN IMMEDIATE;'
  echo "INSERT INTO events(conn_id, ts_ns, proto, dir, via, cmd, class, status) VALUES (1, 1700000009500000000, 'redis', 'c2s', 'command', 'PING', 'other', 'ok');"
  sleep 1; echo 'COMMIT;'; } | sqlite3 live.db &
pids+=($!)
"$bin" report -f json -o live.json live.db 2> "$tmp/err"; rc=$?
t "$([ $rc = 0 ] && grep -qF '"complete": false' live.json && grep -qF 'has not finished' live.json && echo 1)" \
	"a database still being written: reported (exit $rc), complete false, with a warning"

# --- SLO flags ---
slo 0 0 --max-missed 1 --max-stale 3 --max-p99 5ms
slo 3 1 --max-missed 0
slo 3 1 --max-stale 2
slo 3 1 --max-p99 4500us
slo 3 2 --max-p99 2ms
slo 3 3 --max-p99 4ms --max-missed 0 --max-stale 0
"$bin" report -o /dev/null --max-p99 4500us f.db 2> "$tmp/err"
t "$(grep -qF 'p99 at r1 (10.0.0.2:6379) is 5.000 ms' "$tmp/err" && echo 1)" "--max-p99 names the recipient and its p99"

# --- bad usage and input ---
printf 'not a database\n' > precious.txt
bad "no DB" 
bad "unexpected argument" f.db f.db
bad "--format" --format xml f.db
bad "--deadline" --deadline 5 f.db
bad "--deadline" --deadline 0s f.db
bad "--max-p99" --max-p99 fast f.db
bad "--max-missed" --max-missed -1 f.db
bad "--max-stale" --max-stale x f.db
bad "--key-map" --key-map 'PUT /items/{id}' f.db
bad "--bogus" --bogus f.db
bad "needs a value" f.db --out
bad "/no/such.db" /no/such.db
bad "not a cachetap database" precious.txt
t "$(grep -qx 'not a database' precious.txt && [ "$(wc -c < precious.txt)" = 15 ] && echo 1)" \
	"a file that is not a cachetap database is left untouched"
bad "--out /no/such/dir/x.json" -f json --out /no/such/dir/x.json f.db
bad "exists and is not a directory" -f csv --out precious.txt f.db
exit $failed
