#!/usr/bin/env bash
# Privilege drop (needs root; issue 7): a live capture opens lo and its database, then runs
# as nobody (the default), as the --user it was given, or, with --user '' (or when root may
# not change user), as root without a single capability. Each run is checked from the
# outside (/proc/PID/status: Uid, Gid, CapEff, CapPrm, CapBnd), the database and its WAL/shm
# files must be mode 0600 whatever the umask, and the capture must go on recording: Redis
# traffic on 127.0.0.1:7311 sent after the drop is in the timeline.
set -u
. "$(dirname "$0")/../lib.sh"
plan=29
echo "1..$plan"
require_root "$plan"
port=7311
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

status() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null; }

# capture NAME [--user ...]: starts a capture into $tmp/NAME.db and waits (bounded) until it
# has given up root: its effective uid is no longer 0, or its effective capabilities are none.
capture() {
	local name=$1; shift
	(umask 000; exec "$bin" capture -q -i lo --redis "$port" -w "$tmp/$name.db" "$@") \
		2> "$tmp/$name.err" &
	cap=$!
	pids+=($cap)
	for _ in $(seq 100); do
		local uid eff
		uid=$(status "$cap" Uid | awk '{print $2}')
		eff=$(status "$cap" CapEff)
		[ -n "$uid" ] && { [ "$uid" != 0 ] || [ "$eff" = 0000000000000000 ]; } && break
		sleep 0.1
	done
}

# traffic NAME N: N SETs of NAME:i, then waits (bounded) until the capture committed them.
traffic() {
	for i in $(seq "$2"); do redis-cli -p "$port" set "$1:$i" "v$i" > /dev/null; done
	for _ in $(seq 100); do
		[ "$(sqlite3 "$tmp/$1.db" "SELECT count(*) FROM timeline WHERE cmd = 'SET' AND key LIKE '$1:%'" 2>/dev/null)" = "$2" ] && break
		sleep 0.1
	done
}

# stop: SIGINT, then rc is the exit status
stop() {
	kill -INT "$cap"
	wait "$cap"
	rc=$?
}

nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)

# --- 1. the default: nobody ---
capture def
t "$([ "$(status "$cap" Uid)" = "$(printf '%s\t%s\t%s\t%s' "$nobody_uid" "$nobody_uid" "$nobody_uid" "$nobody_uid")" ] && echo 1)" \
	"default: real, effective, saved and fs uid are nobody's ($(status "$cap" Uid | tr '\t' ' '))"
t "$([ "$(status "$cap" Gid | awk '{print $2}')" = "$nobody_gid" ] && echo 1)" \
	"default: the effective gid is nobody's"
t "$([ "$(status "$cap" Groups | tr -d ' ')" = "$nobody_gid" ] && echo 1)" \
	"default: no supplementary group but nobody's ($(status "$cap" Groups))"
t "$([ "$(status "$cap" CapEff)" = 0000000000000000 ] && echo 1)" "default: CapEff is 0 ($(status "$cap" CapEff))"
t "$([ "$(status "$cap" CapPrm)" = 0000000000000000 ] && echo 1)" "default: CapPrm is 0"
t "$([ "$(status "$cap" NoNewPrivs)" = 1 ] && echo 1)" "default: NoNewPrivs is set"
t "$([ "$(stat -c %a "$tmp/def.db")" = 600 ] && echo 1)" "the database is mode 0600 under umask 000 ($(stat -c %a "$tmp/def.db"))"
t "$([ "$(stat -c %a "$tmp/def.db-wal" 2>/dev/null)" = 600 ] && [ "$(stat -c %a "$tmp/def.db-shm" 2>/dev/null)" = 600 ] && echo 1)" \
	"its WAL and shm files exist, created before the drop, mode 0600"
traffic def 30
stop
sed 's/^/# /' "$tmp/def.err"
t "$([ "$rc" = 0 ] && echo 1)" "default: SIGINT stops it cleanly (exit $rc)"
t "$([ "$(sqlite3 "$tmp/def.db" "SELECT count(*) FROM timeline WHERE cmd = 'SET' AND key LIKE 'def:%'")" = 30 ] && echo 1)" \
	"default: all 30 SETs sent after the drop are in the timeline"
t "$([ "$(sqlite3 "$tmp/def.db" "SELECT value FROM meta WHERE key = 'privileges'")" = "uid $nobody_uid (nobody)" ] && echo 1)" \
	"default: meta.privileges says 'uid $nobody_uid (nobody)'"
t "$(sqlite3 "$tmp/def.db" "SELECT count(*) = 1 AND sum(packets) > 0 FROM capture_stats")" \
	"default: the run totals were written as nobody"
t "$([ "$(sqlite3 "$tmp/def.db" "PRAGMA integrity_check")" = ok ] && echo 1)" "default: integrity_check ok"
# The database file alone is complete: the WAL was checkpointed into it before closing.
cp "$tmp/def.db" "$tmp/alone.db"
t "$([ "$(sqlite3 "$tmp/alone.db" "SELECT count(*) FROM timeline WHERE key LIKE 'def:%'")" = 30 ] && echo 1)" \
	"default: the database file holds everything without its WAL"

# --- 2. --user daemon ---
daemon_uid=$(id -u daemon)
capture usr --user daemon
t "$([ "$(status "$cap" Uid | awk '{print $2}')" = "$daemon_uid" ] && echo 1)" \
	"--user daemon: the effective uid is daemon's ($(status "$cap" Uid | tr '\t' ' '))"
t "$([ "$(status "$cap" CapEff)" = 0000000000000000 ] && echo 1)" "--user daemon: CapEff is 0"
traffic usr 10
stop
sed 's/^/# /' "$tmp/usr.err"
t "$([ "$rc" = 0 ] && [ "$(sqlite3 "$tmp/usr.db" "SELECT count(*) FROM timeline WHERE key LIKE 'usr:%'")" = 10 ] && echo 1)" \
	"--user daemon: exit 0 and all 10 SETs recorded"

# --- 3. --user '': stays root, without any capability ---
capture caps --user ''
t "$([ "$(status "$cap" Uid | awk '{print $2}')" = 0 ] && echo 1)" "--user '': the uid stays 0"
t "$([ "$(status "$cap" CapEff)" = 0000000000000000 ] && echo 1)" "--user '': CapEff is 0 ($(status "$cap" CapEff))"
t "$([ "$(status "$cap" CapPrm)" = 0000000000000000 ] && echo 1)" "--user '': CapPrm is 0"
t "$([ "$(status "$cap" CapBnd)" = 0000000000000000 ] && echo 1)" "--user '': the bounding set is empty"
traffic caps 10
stop
sed 's/^/# /' "$tmp/caps.err"
t "$([ "$rc" = 0 ] && [ "$(sqlite3 "$tmp/caps.db" "SELECT count(*) FROM timeline WHERE key LIKE 'caps:%'")" = 10 ] && echo 1)" \
	"--user '': exit 0 and all 10 SETs recorded"
t "$(sqlite3 "$tmp/caps.db" "SELECT value LIKE 'capabilities dropped%' FROM meta WHERE key = 'privileges'")" \
	"--user '': meta.privileges says the capabilities were dropped"

# --- 4. the default where root may not change user (a container without CAP_SETUID and
# CAP_SETGID, made here with setpriv): it falls back to giving up every capability ---
(umask 000; exec setpriv --bounding-set=-setuid,-setgid --inh-caps=-all -- \
	"$bin" capture -q -i lo --redis "$port" -w "$tmp/fb.db") 2> "$tmp/fb.err" &
cap=$!
pids+=($cap)
for _ in $(seq 100); do [ "$(status "$cap" CapEff)" = 0000000000000000 ] && break; sleep 0.1; done
t "$([ "$(status "$cap" Uid | awk '{print $2}')" = 0 ] && [ "$(status "$cap" CapEff)" = 0000000000000000 ] &&
     [ "$(status "$cap" CapPrm)" = 0000000000000000 ] && echo 1)" \
	"no CAP_SETUID: the default falls back to uid 0 without any capability"
traffic fb 10
stop
sed 's/^/# /' "$tmp/fb.err"
t "$([ "$rc" = 0 ] && [ "$(sqlite3 "$tmp/fb.db" "SELECT count(*) FROM timeline WHERE key LIKE 'fb:%'")" = 10 ] && echo 1)" \
	"no CAP_SETUID: exit 0 and all 10 SETs recorded"
t "$([ "$(sqlite3 "$tmp/fb.db" "SELECT value FROM meta WHERE key = 'privileges'")" = "capabilities dropped (uid 0)" ] && echo 1)" \
	"no CAP_SETUID: meta.privileges says 'capabilities dropped (uid 0)'"

# --- 5. bad --user: one line naming it, exit 2, nothing opened ---
"$bin" capture -q -i lo --redis "$port" -w "$tmp/bad.db" --user no-such-user-7311 2> "$tmp/bad.err"
rc=$?
t "$([ "$rc" = 2 ] && [ "$(wc -l < "$tmp/bad.err")" = 1 ] && grep -q -- "--user: 'no-such-user-7311'" "$tmp/bad.err" && echo 1)" \
	"--user with an unknown user: exit 2 and one line naming it ($(cat "$tmp/bad.err"))"
t "$([ ! -e "$tmp/bad.db" ] && echo 1)" "and no database was created"
"$bin" replay -q -w "$tmp/rep.db" --user nobody "$top/captures/public/zeek/set.pcap" 2> "$tmp/rep.err"
t "$([ $? = 2 ] && grep -q 'for capture only' "$tmp/rep.err" && echo 1)" "replay refuses --user (capture only)"
exit $failed
