#!/usr/bin/env bash
# Golden test of the Redis decoder against what other tools decoded from the same public
# captures (captures/public/SOURCES.md says what each one is):
#
#   - Zeek's redis.log baselines (zeek/ and zeek-history/ baselines): one line per command with
#     cmd.name, cmd.key and success. Ours: the timeline's commands (dir c2s, via command), one
#     row per command (a multi-key command fans out into one row per key: we take its first
#     key), success mapped as ok/hit/miss -> T, error -> F, noreply/unanswered -> '-' (what
#     Zeek prints both for replies suppressed by CLIENT REPLY and for a command that never got
#     one). Compared per connection (by client address, which is unique in each capture), in
#     wire order (our conn_id, stream_off; Zeek logs a connection's commands in order).
#     The old zeek-history logs have response.err instead of success: F there is T here.
#   - Zeek's `output` baselines, where a test printed events instead of a log (pub/sub
#     messages, AUTH results, SET keys), and the captures Zeek decided not to decode.
#   - tcpdump's RESP printer output (tests/resp_*.out): the command names and arguments of
#     each request packet; for the malicious capture, the replies the real Redis server gave.
#   - DeepFlow's parser output (*.result) and packetbeat's test assertions.
#
# Where the reference and we disagree, the reference is corrected by a `fix` line below,
# each with the specific reason why our answer is the right one; the test then asserts OUR
# answer for that row (fix also checks that the reference really says what we correct, so a
# changed baseline cannot slip by). Each comparison prints how many rows it compared, how
# many agreed as they were, and how many were corrected. Every comparison is one TAP test,
# with the diff (reference after corrections vs ours) as # lines on failure.
#
# Besides, the whole Redis timeline of every capture used here (dir, via, cmd, class, key,
# status, whether a reply was timed ("lat"), detail, per connection in wire order, plus the
# parse-error and unmatched-reply counts) must equal tests/golden/redis/<capture>.txt;
# UPDATE=1 rewrites those files.
#
# Run by `make check` with CT_BIN (the cachetap binary) and CT_TOP (the repository).
set -u
top=${CT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${CT_BIN:-$top/build/cachetap}
pub=$top/captures/public
gold=$top/tests/golden/redis
zb=$pub/zeek/baselines/scripts.base.protocols
hb=$pub/zeek-history/baselines/scripts.base.protocols.redis
export LC_ALL=C
TAB=$'\t'
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ct-redis-golden.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP sqlite3 is not installed"; exit 0; }

n=0
fails=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	[ -s "${2:-/dev/null}" ] && head -n 60 "$2" | sed 's/^/#   /'
	return 0
}

# ---- running cachetap ----------------------------------------------------------------------

# replay NAME FILE [OPTS...]: replays FILE into $tmp/NAME.db; one TAP test: exit status 0.
replay() {
	local name=$1 file=$2
	shift 2
	rm -f "$tmp/$name.db"
	timeout 120 "$bin" replay -q -w "$tmp/$name.db" "$@" "$file" 2>"$tmp/$name.err"
	local rc=$?
	if [ $rc -eq 0 ]; then
		pass "$name: replay exits 0"
	else
		echo "exit status $rc" >>"$tmp/$name.err"
		fail "$name: replay exits 0" "$tmp/$name.err"
	fi
}

# sql NAME QUERY: runs QUERY on $tmp/NAME.db, tab-separated.
sql() { sqlite3 -separator "$TAB" "$tmp/$1.db" "$2"; }

# The first row of each command: the event with the lowest id among those of one command
# (conn_id, stream_off), which carries its first key.
FIRST="SELECT min(event_id) FROM timeline WHERE dir = 'c2s' AND via = 'command'
       GROUP BY conn_id, stream_off"
SUCC="CASE status WHEN 'ok' THEN 'T' WHEN 'hit' THEN 'T' WHEN 'miss' THEN 'T'
      WHEN 'error' THEN 'F' ELSE '-' END"

# numbered: adds the row's index within its connection (column 1 is the client), after a
# stable sort by client, so that rows can be named "client port, n-th command".
numbered() { sort -s -t"$TAB" -k1,1 | awk -F'\t' -v OFS='\t' '{ $1 = $1 OFS (++k[$1]); print }'; }

# ours_cmds NAME: client, n, CMD, first key, success.
ours_cmds() {
	sql "$1" "SELECT client, cmd, ifnull(key, '-'), $SUCC FROM timeline
		  WHERE event_id IN ($FIRST) ORDER BY conn_id, stream_off" | numbered
}

# snapshot NAME: the whole Redis timeline, for the golden file.
snapshot() {
	sql "$1" "SELECT client, dir, via, cmd, class, ifnull(key, '-'), status,
		  CASE WHEN latency_ns IS NULL THEN '-' ELSE 'lat' END, ifnull(detail, '')
		  FROM timeline WHERE proto = 'redis' ORDER BY conn_id, dir, stream_off, event_id"
	sql "$1" "SELECT '# parse_errors=' || parse_errors || ' unmatched_replies=' ||
		  unmatched_replies FROM capture_stats"
}

# golden NAME: one TAP test, our timeline against tests/golden/redis/NAME.txt.
golden() {
	local name=$1 want=$gold/$1.txt
	snapshot "$name" >"$tmp/$name.snap" 2>&1
	if [ -n "${UPDATE:-}" ]; then
		mkdir -p "$gold" && cp "$tmp/$name.snap" "$want"
	fi
	if diff -u "$want" "$tmp/$name.snap" >"$tmp/$name.gdiff" 2>&1; then
		pass "$name: timeline equals tests/golden/redis/$name.txt"
	else
		fail "$name: timeline equals tests/golden/redis/$name.txt (UPDATE=1 rewrites it)" \
			"$tmp/$name.gdiff"
	fi
}

# ---- references ----------------------------------------------------------------------------

# zeek_log LOG: client, n, CMD, key, success from a Zeek redis.log (new or old columns).
zeek_log() {
	awk -F'\t' -v OFS='\t' '
	/^#fields/ { for (i = 2; i <= NF; i++) f[$i] = i - 1; old = ("response.err" in f); next }
	/^#/ || NF < 8 { next }
	{
		h = $f["id.orig_h"]
		cli = (index(h, ":") ? "[" h "]" : h) ":" $f["id.orig_p"]
		name = old ? $f["cmd.command"] : $f["cmd.name"]
		if (old) { e = $f["response.err"]; s = e == "F" ? "T" : e == "T" ? "F" : "-" }
		else s = $f["success"]
		print cli, toupper(name), $f["cmd.key"], s
	}' "$1" | numbered
}

# Corrections to the reference of the comparison under way:
#   fix PORT N FIELD WAS OURS     (FIELD: cmd, key or succ; N: the N-th command from PORT)
# or, for every row of one connection from N1 to N2:   fix PORT N1-N2 FIELD WAS OURS
# or, for a row the reference has and we rightly do not:   fix PORT N row 'CMD KEY SUCC' -
fixes=$tmp/fixes
fix() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$fixes"; }

# apply_fixes REF: the reference with the corrections applied; a correction that does not
# match the reference (wrong row, or the reference says something else) leaves a line that
# no output can equal. Prints the number of corrected rows to $tmp/nfixed.
apply_fixes() {
	awk -F'\t' -v OFS='\t' -v nf="$tmp/nfixed" -v fx="$fixes" '
	BEGIN {
		while ((getline line < fx) > 0) {
			split(line, f, "\t"); split(f[2], r, "-"); if (!(2 in r)) r[2] = r[1]
			for (i = r[1] + 0; i <= r[2] + 0; i++) { k = f[1] SUBSEP i SUBSEP f[3]; was[k] = f[4]; to[k] = f[5]; used[k] = 0 }
		}
	}
	{
		port = $1; sub(/.*:/, "", port)
		col["cmd"] = 3; col["key"] = 4; col["succ"] = 5
		k = port SUBSEP $2 SUBSEP "row"
		if (k in was) {
			used[k] = 1
			if ($3 " " $4 " " $5 == was[k]) { fixed++; next }
			print "!! fix " port " " $2 " row: the reference says [" $3 " " $4 " " $5 "], not [" was[k] "]"
		}
		hit = 0
		for (c in col) {
			k = port SUBSEP $2 SUBSEP c
			if (!(k in was)) continue
			used[k] = 1
			if ($col[c] != was[k]) { print "!! fix " port " " $2 " " c ": the reference says [" $col[c] "], not [" was[k] "]"; continue }
			$col[c] = to[k]; hit = 1
		}
		fixed += hit
		print
	}
	END {
		for (k in used) if (!used[k]) { split(k, p, SUBSEP); print "!! fix " p[1] " " p[2] " " p[3] ": no such row" }
		print fixed + 0 > nf
	}' "$1"
}

# compare LABEL REF OURS: one TAP test; REF after the corrections must equal OURS.
compare() {
	local label=$1 ref=$2 ours=$3
	touch "$fixes"
	local rows agree fixed
	rows=$(wc -l <"$ref")
	agree=$(diff --unchanged-line-format='=%L' --old-line-format='' --new-line-format='' \
		"$ref" "$ours" | wc -l)
	apply_fixes "$ref" >"$tmp/ref.fixed"
	fixed=$(cat "$tmp/nfixed")
	rm -f "$fixes"
	local what="$label: $rows rows, $agree agree as they are, $fixed corrected"
	if [ "$rows" -gt 0 ] && diff -u "$tmp/ref.fixed" "$ours" >"$tmp/cmp.diff"; then
		pass "$what"
	else
		[ "$rows" -gt 0 ] || echo "the reference has no rows" >>"$tmp/cmp.diff"
		fail "$what (--- reference, corrected; +++ cachetap)" "$tmp/cmp.diff"
	fi
}

# zeek NAME CAPTURE LOG [OPTS]: replay, compare with a Zeek redis.log, check the golden file.
# The fix lines for it must be given before the call.
zeek() {
	local name=$1 cap=$2 log=$3
	shift 3
	replay "$name" "$cap" "$@"
	zeek_log "$log" >"$tmp/$name.ref"
	ours_cmds "$name" >"$tmp/$name.ours"
	compare "$name vs Zeek ${log#"$pub"/}" "$tmp/$name.ref" "$tmp/$name.ours"
	golden "$name"
}

# ---- Zeek redis.log baselines --------------------------------------------------------------

zeek almost-resp "$pub/zeek/almost-resp.pcap" "$zb.redis.almost-redis/redis.log"
# attr.pcap: RESP3 attributes ('|') before and inside replies; both FAKE commands succeed.
zeek attr "$pub/zeek/attr.pcap" "$zb.redis.attributes/redis.log"
# CLIENT REPLY OFF / ON / SKIP: the suppressed replies are '-' on both sides.
zeek reply-off-on "$pub/zeek/reply-off-on.pcap" "$zb.redis.client-reply-off/redis.log"
zeek reply-off-on-2conn "$pub/zeek/reply-off-on-2conn.pcap" \
	"$zb.redis.client-reply-off-2conn/redis.log"
# SKIP while OFF is still OFF (it does not turn replies on for one command).
zeek client-skip-while-off "$pub/zeek/client-skip-while-off.pcap" \
	"$zb.redis.client-skip-while-off/redis.log"
# Port 10625: not the default, so it must be named.
zeek django-cloud "$pub/zeek/django-cloud.pcapng" "$zb.redis.django-cloud/redis.log" \
	--redis 10625

# excessive-pipelining.pcap: 12 inline PINGs in one segment, then 12 +PONG in one segment.
# Zeek was run with `redef Redis::max_pending_requests = 5` (its test says "intentionally
# limited", and weird.log has Redis_excessive_pipelining "6 > 5"): it dropped commands 6-12
# and logged their replies with no command (cmd.name '-'). With no such cap, reply i answers
# command i, so a correct decoder gives 12 x PING T. Ours holds up to CT_REDIS_PENDING_MAX
# (4096) pending commands, so it pairs all 12.
fix 57156 6-12 cmd - PING
zeek excessive-pipelining "$pub/zeek/excessive-pipelining.pcap" \
	"$zb.redis.excessive-pipelining/redis.log"

# large-requests-responses.pcap: redis-default.log is the run with the default
# Redis::max_value_size (values cut, keys whole); redis-smaller.log cuts keys to 10 bytes on
# purpose and redis-uncapped.filtered.log has no header, so those two are not used.
zeek large-requests-responses "$pub/zeek/large-requests-responses.pcap" \
	"$zb.redis.large-requests-responses/redis-default.log"

# pipeline-quotes.pcap: 8 inline SETs in one segment; the 7th and 8th have unbalanced quotes.
# Redis answers the 7th with "-ERR Protocol error: unbalanced quotes in request" and closes
# the connection without reading the 8th (networking.c, processInlineBuffer ->
# setProtocolError). Zeek: SET bad1 F, SET bad2 '-'. We record the 7th, the rejected request
# that got the -ERR, with what was decoded of it (SET bad1, error, detail "protocol error:
# ..."). The 8th is no command: Redis never read it (the connection was closed after the
# -ERR), it could not have parsed it (unbalanced quotes too), and nothing answered it; Zeek
# logs it only because its own tokenizer accepts unbalanced quotes. So we have no row for
# it (an unanswered rejected request gives no event: the same rule keeps TLS bytes on 6379
# out of the timeline).
fix 63754 8 row 'SET bad2 -' -
zeek pipeline-quotes "$pub/zeek/pipeline-quotes.pcap" "$zb.redis.pipeline-with-quotes/redis.log"
zeek pipeline-with-commands "$pub/zeek/pipeline-with-commands.pcap" \
	"$zb.redis.pipelined-with-commands/redis.log"
zeek pipelining-example "$pub/zeek/pipelining-example.pcap" "$zb.redis.pipelined/redis.log"

# pubsub.pcap. Keys: Zeek's analyzer (src/analyzer/protocol/redis/redis.spicy, parse_command)
# fills cmd.key only for the 37 commands of its KnownCommand enum (APPEND ... TYPE);
# SUBSCRIBE, PSUBSCRIBE and PUBLISH are not among them, so it logs '-'. Our key column holds
# their channel or pattern (argv[1]; cmdtab_redis: CHANNEL/PATTERN roles), which is what a
# reader of the timeline needs to match PUBLISH Foo with the MESSAGE on Foo.
# Success of (P)SUBSCRIBE: Zeek hands every server message after SUBSCRIBE to scripts as
# pub/sub data (its pubsub `output` baseline prints "[subscribe, Foo, 1]" as published data)
# and never as SUBSCRIBE's reply, hence '-'. But that confirmation IS Redis's answer to
# SUBSCRIBE (one per channel, instead of a reply; an error comes in its place), and the
# capture has it: we pair the first confirmation with the command, so T.
fix 60831 1 key - Foo
fix 60831 1 succ - T
fix 60831 2 key - 'F*'
fix 60831 2 succ - T
fix 60833 1 key - Foo
fix 60837 1 key - FeeFooFiiFum
zeek pubsub "$pub/zeek/pubsub.pcap" "$zb.redis.pubsub/redis.log"

# stream.pcap: XADD and XRANGE are not in Zeek's KnownCommand list either (see pubsub), so
# Zeek logs no key; their first key is argv[1] (COMMAND INFO XADD / XRANGE: first key 1).
fix 49992 1-4 key - race:france
zeek stream "$pub/zeek/stream.pcap" "$zb.redis.stream/redis.log"

# zeek-history: baselines of the older analyzer (response.err instead of success).
zeek loop-redis "$pub/zeek-history/loop-redis.pcap" "$hb.trace/redis.log"
# django-cache.pcap: the old analyzer's pairing slipped by one reply from its row 54 (the
# second of two back-to-back SET :1:factorial_50): from there each command is logged with the
# NEXT command's reply - its row 58, GET :1:factorial_256, carries "OK", a SET's reply, while
# the server answered that GET with a nil bulk (tshark frame 237, "Response:" empty; we say
# miss) - so it ran out of replies for the last two commands and logged '-' for them. The
# server did answer both: +OK to SET :1:factorial_256 and "24" to GET :1:factorial_4 (tshark
# frames 1265 and 1269). Rows 54-314 happen to keep the right success (no errors there).
fix 54554 315-316 succ - T
zeek django-cache "$pub/zeek-history/django-cache.pcap" "$hb.django/redis.log"

# ---- Zeek `output` baselines ---------------------------------------------------------------

# pushes NAME: the server data a Zeek pub/sub test prints, from our side: the (P)SUBSCRIBE
# commands as answered by their confirmation (kind, channel), and the message pushes (kind,
# channel), in the order their answers / pushes arrived.
pushes() {
	sql "$1" "SELECT lower(cmd), ifnull(key, '-') || CASE WHEN status = 'ok' THEN '' ELSE ' ' ||
			status END, ts_ns + ifnull(latency_ns, 0) AS t, stream_off FROM timeline
		  WHERE dir = 'c2s' AND cmd IN ('SUBSCRIBE', 'PSUBSCRIBE')
		  UNION ALL
		  SELECT lower(cmd), substr(detail, 9), ts_ns, stream_off FROM timeline
		  WHERE via = 'push' AND detail LIKE 'channel %' ORDER BY 3, 4" | cut -f1,2
}
# zeek_pushes OUTPUT: "Got published data!, [kind, a, b, ...]" -> kind, channel (message: a;
# pmessage: b, a being the pattern; (p)subscribe: a).
zeek_pushes() {
	sed -n 's/^Got published data!, \[\(.*\)\]$/\1/p' "$1" |
		awk -F', ' -v OFS='\t' '{ print $1, ($1 == "pmessage" ? $3 : $2) }'
}
for p in pubsub pubsub-resp3; do
	replay "$p-output" "$pub/zeek/$p.pcap"
	zeek_pushes "$zb.redis.$p/output" >"$tmp/ref"
	pushes "$p-output" >"$tmp/ours"
	compare "$p-output vs Zeek redis.$p/output (subscribe confirmations and messages)" \
		"$tmp/ref" "$tmp/ours"
done
golden pubsub-resp3-output

# set.pcap and bulk-loading.pcap: the tests print "SET: KEY VALUE" / "Key: KEY Value: VALUE"
# per SET; the keys must be ours, in order, and every SET answered +OK (T).
for p in set:set bulk-loading:bulk; do
	cap=${p%%:*}
	replay "$cap" "$pub/zeek/$cap.pcap"
	sed -n 's/^SET: \([^ ]*\) .*/SET\t\1\tT/p; s/^Key: \([^ ]*\) Value: .*/SET\t\1\tT/p' \
		"$zb.redis.${p#*:}/output" >"$tmp/ref"
	sql "$cap" "SELECT cmd, ifnull(key, '-'), $SUCC FROM timeline WHERE event_id IN ($FIRST)
		    AND cmd = 'SET' ORDER BY conn_id, stream_off" >"$tmp/ours"
	compare "$cap vs Zeek redis.${p#*:}/output (SET keys)" "$tmp/ref" "$tmp/ours"
	golden "$cap"
done

# auth.pcap: the test prints "Auth failed:, WRONGPASS ..." or "Auth succeeded:, OK" per AUTH.
# The passwords must not be anywhere in the database (SPEC section 8).
replay auth "$pub/zeek/auth.pcap"
sed -n 's/^Auth failed:.*/AUTH\tF/p; s/^Auth succeeded:.*/AUTH\tT/p' "$zb.redis.auth/output" >"$tmp/ref"
sql auth "SELECT cmd, $SUCC FROM timeline WHERE event_id IN ($FIRST) ORDER BY conn_id, stream_off" \
	>"$tmp/ours"
compare "auth vs Zeek redis.auth/output (AUTH results)" "$tmp/ref" "$tmp/ours"
if sqlite3 "$tmp/auth.db" .dump | grep -q -e notapassword -e defaultpassword; then
	fail "auth: no password is stored"
else
	pass "auth: no password is stored"
fi
golden auth

# zeek-history/auth.pcap: the old test printed each AUTH's arguments only (3 AUTH), after a
# COMMAND DOCS whose 200 KB reply spans many segments; the first two AUTHs failed (WRONGPASS,
# then "ERR AUTH <password> called without any password configured"), the third got +OK
# (tshark frames 43, 47, 51).
replay auth-old "$pub/zeek-history/auth.pcap"
{ printf 'COMMAND\tT\n'; sed -n 's/^AUTH$/AUTH/p' "$hb.auth/output" |
	awk -v OFS='\t' '{ print $1, (NR < 3 ? "F" : "T") }'; } >"$tmp/ref"
sql auth-old "SELECT cmd, $SUCC FROM timeline WHERE event_id IN ($FIRST) ORDER BY conn_id, stream_off" \
	>"$tmp/ours"
compare "auth-old vs Zeek (old) redis.auth/output, tshark for the results" "$tmp/ref" "$tmp/ours"
golden auth-old

# django-cloud output: "Found 152 SET commands"; zeek-history django output: one SET line each.
printf 'SET\t%s\n' "$(sed -n 's/^Found \([0-9]*\) SET commands$/\1/p' "$zb.redis.django-cloud/output")" \
	>"$tmp/ref"
sql django-cloud "SELECT cmd, count(*) FROM timeline WHERE event_id IN ($FIRST) AND cmd = 'SET'" \
	>"$tmp/ours"
compare "django-cloud vs Zeek redis.django-cloud/output (SET count)" "$tmp/ref" "$tmp/ours"
sed -n 's/^SET: \([^ ]*\) .*/SET\t\1/p' "$hb.django/output" >"$tmp/ref"
sql django-cache "SELECT cmd, key FROM timeline WHERE event_id IN ($FIRST) AND cmd = 'SET'
		  ORDER BY conn_id, stream_off" >"$tmp/ours"
compare "django-cache vs Zeek (old) redis.django/output (SET keys)" "$tmp/ref" "$tmp/ours"

# start-with-server: both Zeek tests expect NO output at all: Zeek's analyzer does not decode a
# connection whose first data comes from the server (its test prints "BAD" for any command or
# reply), a choice against false positives, not a statement about the bytes. The new trace
# is "+OK" (the answer to a command sent before the capture began), then SET hello there /
# +OK; the old one starts inside a 200 KB COMMAND DOCS reply, then PING / +PONG twice. A
# passive observer that joins mid-conversation must decode what follows: we give SET hello
# T, and PING T twice, each with exactly one unmatched reply (the leading one).
for p in zeek/start-with-server.pcapng:start-with-server zeek-history/start-with-server.pcap:start-with-server-old; do
	name=${p#*:}
	replay "$name" "$pub/${p%%:*}"
	case $name in
	start-with-server) zout=$zb.redis.start-with-server/output ;;
	*) zout=$hb.start-with-server/output ;;
	esac
	if grep -qv '^### BTest' "$zout"; then
		echo "Zeek's output is not empty any more: see the comment" >"$tmp/ref"
	elif [ "$name" = start-with-server ]; then
		printf '127.0.0.1:60206\t1\tSET\thello\tT\n' >"$tmp/ref"
	else
		printf '127.0.0.1:52390\t1\tPING\t-\tT\n127.0.0.1:52390\t2\tPING\t-\tT\n' >"$tmp/ref"
	fi
	echo "unmatched_replies=1" >>"$tmp/ref"
	{ ours_cmds "$name"; sql "$name" "SELECT 'unmatched_replies=' || unmatched_replies FROM capture_stats"; } \
		>"$tmp/ours"
	compare "$name: Zeek decodes nothing by design; we decode what follows the server's first reply" \
		"$tmp/ref" "$tmp/ours"
	golden "$name"
done

# array-element-object-exhaustion.pcap (synthetic): an inline PING answered by a RESP3 array of
# 1000 nulls over 3 segments. Zeek's only baseline is an analyzer violation, "too many
# elements 1000 > 500": a cap of its own, not a fault in the bytes (RESP3 arrays may hold up to
# 2^31-1 elements for Redis; ours: CT_RESP_AGG_MAX_ELEMS). Correct: PING T, no parse error.
replay array-1000-nulls "$pub/zeek/array-element-object-exhaustion.pcap"
printf '192.0.2.1:40000\t1\tPING\t-\tT\nparse_errors=0\n' >"$tmp/ref"
{ ours_cmds array-1000-nulls; sql array-1000-nulls "SELECT 'parse_errors=' || parse_errors FROM capture_stats"; } \
	>"$tmp/ours"
compare "array-1000-nulls: Zeek stops at its 500-element cap; the PING is answered" "$tmp/ref" "$tmp/ours"

# oss-fuzz-473580107.pcap: 268 KB of fuzzer output on tcp/80 that reached Zeek's analyzer (its
# baseline: no crash). Decoded as Redis on purpose (--redis 80): garbage in, no crash or hang.
replay oss-fuzz-as-redis "$pub/zeek/oss-fuzz-473580107.pcap" --redis 80

# ---- tcpdump -------------------------------------------------------------------------------

# tcpdump_cmds OUT: client, n, CMD, first argument, success from tcpdump's RESP printer. A
# request packet (to port 6379) prints its strings quoted: one command's arguments for a
# multibulk command ("SET" "k" "v"), or one string per line for inline commands ("set k v"
# "get k"). redis-benchmark and the inline session send one multibulk command per packet.
# Success: T, after checking that no reply packet of the file carries an error string.
tcpdump_cmds() {
	awk -v OFS='\t' '
	/ RESP / {
		if (!match($0, / IP [0-9.]+ > [0-9.]+:/)) next
		split(substr($0, RSTART + 4, RLENGTH - 5), ep, " > ")
		src = ep[1]; dst = ep[2]
		sp = src; sub(/.*\./, "", sp); dp = dst; sub(/.*\./, "", dp)
		rest = substr($0, index($0, " RESP ") + 6)
		nt = 0
		while (match(rest, /"[^"]*"/)) { t[++nt] = substr(rest, RSTART + 1, RLENGTH - 2); rest = substr(rest, RSTART + RLENGTH) }
		if (sp == 6379) {
			for (i = 1; i <= nt; i++) if (t[i] ~ /^(ERR|WRONGTYPE|NOAUTH|NOPERM) /) print "!! error reply " t[i]
			next
		}
		if (dp != 6379 || nt == 0) next
		cli = src; sub(/\.[0-9]+$/, ":" sp, cli)
		if (index(t[1], " ")) {
			for (i = 1; i <= nt; i++) { nw = split(t[i], w, " "); print cli, toupper(w[1]), (nw > 1 ? w[2] : "-"), "T" }
		} else
			print cli, toupper(t[1]), (nt > 1 ? t[2] : "-"), "T"
	}' "$1" | numbered
}
for p in resp_1_benchmark.pcap:resp_1.out resp_2_inline.pcap:resp_2.out; do
	cap=${p%%:*}
	name=tcpdump-${cap%.pcap}
	replay "$name" "$pub/tcpdump/$cap"
	tcpdump_cmds "$pub/tcpdump/${p#*:}" >"$tmp/ref"
	ours_cmds "$name" >"$tmp/ours"
	compare "$name vs tcpdump ${p#*:} (commands and first arguments per connection)" \
		"$tmp/ref" "$tmp/ours"
	golden "$name"
done

# resp_3_malicious.pcap: 18 connections of malformed RESP against a real Redis. tcpdump's
# own decode of the requests is not a reference (it prints "RESP empty", "[|resp]", ...),
# but the capture holds what Redis answered, which tcpdump printed: that is the reference.
#   52760  "$0\r\n\r\n": an inline command "$0" (ERR unknown command '$0'); the empty line is
#          skipped by Redis (no reply)
#   52763/4/5  "+", "-", ":" : inline commands, ERR unknown command
#   52766  ":0392...": ERR unknown command (our cmd keeps CT_REDIS_CMD_NAME_BYTES - 1 bytes)
#   52767  "*1000...0\r\n" (count > INT_MAX): "ERR Protocol error: invalid multibulk length",
#          a rejected request (no name); Redis then closes the connection
#   52768  "*-20", 52773 "*-1": a multibulk count <= 0 is ignored by Redis (no reply)
#   52769  "$-20\r\nhi\r\n": two inline commands, two ERR unknown command replies
#   52770/1/2  "+hello", "-hello", ":hello" with no LF: Redis waits for the line's end
#   52775  "$-1\r\n": inline, ERR unknown command
#   52776  3 x INCR z -> 69, 70, 71;  52777-52779  3 x PING -> PONG each (LF-only lines too)
replay tcpdump-resp_3_malicious "$pub/tcpdump/resp_3_malicious.pcap"
{
	printf '127.0.0.1:%s\t%s\t%s\t-\tF\n' 52760 1 '$0' 52763 1 + 52764 1 - 52765 1 : \
		52766 1 ':039204902902492049230492304903' 52767 1 '' 52769 1 '$-20' 52769 2 HI \
		52775 1 '$-1'
	printf '127.0.0.1:52776\t%s\tINCR\tz\tT\n' 1 2 3
	for port in 52777 52778 52779; do printf "127.0.0.1:$port\t%s\tPING\t-\tT\n" 1 2 3; done
} | sort -s -t"$TAB" -k1,1 >"$tmp/ref"
ours_cmds tcpdump-resp_3_malicious >"$tmp/ours"
compare "tcpdump-resp_3_malicious vs the replies Redis gave (printed in resp_3.out)" \
	"$tmp/ref" "$tmp/ours"
golden tcpdump-resp_3_malicious

# resp_4_infiniteloop.pcapng: one 854-byte fuzzed client segment (no handshake, so decoding
# starts mid-stream and must first find a plausible message start). Its lines: "*-5324...",
# then '$' runs, "EVAL", a line with a NUL byte, binary junk. Client-side resync takes
# "*<digit>" or a printable line starting with two letters that is not followed by a '*' or
# '$' line; none qualifies ("EVAL" is followed by "$$$..."), so nothing is decoded: no events,
# no parse errors, no crash or hang (the point of the capture).
replay tcpdump-resp_4_infiniteloop "$pub/tcpdump/resp_4_infiniteloop.pcapng"
printf 'events=0 parse_errors=0 connections=1\n' >"$tmp/ref"
sql tcpdump-resp_4_infiniteloop "SELECT 'events=' || (SELECT count(*) FROM events) ||
	' parse_errors=' || parse_errors || ' connections=' || connections FROM capture_stats" >"$tmp/ours"
compare "tcpdump-resp_4_infiniteloop: what we decode" "$tmp/ref" "$tmp/ours"

# ---- DeepFlow ------------------------------------------------------------------------------

# deepflow_rows RESULT: CMD, request arguments, success, one per request, in packet order.
# DeepFlow prints each request (argv joined by spaces) and then its response's type.
deepflow_rows() {
	sed -n 's/^RedisInfo { request: "\(.*\)", request_type: "\([^"]*\)", status: "[^"]*", response_result: \([A-Za-z]*\), error: "[^"]*" } is_redis: true$/\1\t\2\t\3/p' "$1" |
		awk -F'\t' -v OFS='\t' '
		$1 != "" { if (req != "") print cmd, args, "-"; cmd = toupper($2); args = substr($1, length($2) + 2); req = $1; next }
		req != "" { print cmd, args, ($3 == "Error" ? "F" : "T"); req = "" }
		END { if (req != "") print cmd, args, "-" }'
}
# ... and ours in the same order (first byte of each command), with the key standing in for
# the arguments when DeepFlow's argument text is our key or begins with our key and a space
# ("LRANGE mylist 0 299"); "GET 1 1 http://..." is one 40-byte key with spaces.
for cap in redis-debug redis-error redis; do
	name=deepflow-$cap
	replay "$name" "$pub/deepflow/$cap.pcap"
	deepflow_rows "$pub/deepflow/$cap.result" >"$tmp/ref0"
	sql "$name" "SELECT cmd, ifnull(key, '-'), $SUCC FROM timeline WHERE event_id IN ($FIRST)
		     ORDER BY first_ts_ns, conn_id, stream_off" >"$tmp/ours"
	paste "$tmp/ref0" "$tmp/ours" | awk -F'\t' -v OFS='\t' '
		{ a = $2; if ($1 == $4 && (a == $5 || index(a, $5 " ") == 1)) a = $5; print $1, a, $3 }' \
		>"$tmp/ref"
	compare "$name vs DeepFlow $cap.result" "$tmp/ref" "$tmp/ours"
	golden "$name"
done
# redis.pcap, the last request (GET of a 490 KB value, from port 60314): the capture holds the
# whole value but not the CRLF after it (TSO segments, capture stopped). DeepFlow says
# BulkString; we used to call it unanswered, as the reply never ended. Every byte of the
# declared length arrived, so the reply is whole: hit, with the time of its last value byte.

# ---- packetbeat ----------------------------------------------------------------------------

# packetbeat tests/test_0013_redis_basic.py asserts, on redis_session.pcap (port 6380):
# objs[0] SET key3 status OK; objs[1] GET key3 OK; objs[2] LLEN status Error ("ERR Operation
# against a key holding the wrong kind of value"); all later ones OK with a method and a
# resource. The later methods and resources are from SOURCES.md (lpush x3, llen, lindex x4)
# and tshark: LPUSH test x3, LLEN test, LINDEX test x4, one of which (lindex test 3) is nil:
# a miss, which packetbeat also calls OK. redis_one_transaction.pcap: one LINDEX test.
replay packetbeat-redis_session "$pub/packetbeat/redis_session.pcap" --redis 6380
printf '%s\t%s\t%s\n' SET key3 T GET key3 T LLEN key3 F LPUSH test T LPUSH test T LPUSH test T \
	LLEN test T LINDEX test T LINDEX test T LINDEX test T LINDEX test T >"$tmp/ref"
echo "LINDEX misses=1" >>"$tmp/ref"
{ sql packetbeat-redis_session "SELECT cmd, key, $SUCC FROM timeline WHERE event_id IN ($FIRST)
	ORDER BY conn_id, stream_off"
  sql packetbeat-redis_session "SELECT 'LINDEX misses=' || count(*) FROM timeline
	WHERE cmd = 'LINDEX' AND status = 'miss'"; } >"$tmp/ours"
compare "packetbeat-redis_session vs packetbeat test_0013_redis_basic.py" "$tmp/ref" "$tmp/ours"
golden packetbeat-redis_session
replay packetbeat-redis_one_transaction "$pub/packetbeat/redis_one_transaction.pcap" --redis 6380
printf 'LINDEX\ttest\tT\n' >"$tmp/ref"
sql packetbeat-redis_one_transaction "SELECT cmd, key, $SUCC FROM timeline WHERE event_id IN ($FIRST)" \
	>"$tmp/ours"
compare "packetbeat-redis_one_transaction vs packetbeat (one LINDEX)" "$tmp/ref" "$tmp/ours"

echo "1..$n"
