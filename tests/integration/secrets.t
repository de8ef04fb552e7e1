#!/usr/bin/env bash
# Secrets are never written (needs root; issue 7, SPEC section 8): passwords of AUTH, AUTH with
# a user, HELLO 3 AUTH, MIGRATE ... AUTH and MIGRATE ... AUTH2, an inline AUTH, a wrong
# password, ACL SETUSER >password and CONFIG SET masterauth go to real Redis servers while two
# live captures (--values hash and --values none) and tcpdump watch lo. The captures and
# replays of tcpdump's file (both --values modes) must hold none of the passwords, in the
# database, its -wal and -shm files, or `sqlite3 .dump`; and every one of those commands must
# be in their timelines. Servers: 127.0.0.1:7313 (requirepass and an ACL user) and :7314 (the
# MIGRATE target, with a password and an ACL user of its own).
set -u
. "$(dirname "$0")/../lib.sh"
plan=36
echo "1..$plan"
require_root "$plan"

# The secrets: distinct, and nothing else in a capture looks like them.
pwA=pwA-7313-Kq3Zr8Wd   # 7313 requirepass (the default user)
pwB=pwB-7313-Lm4Xs9Ve   # 7313 ACL user aclu
pwC=pwC-7314-Nn5Yt1Uf   # 7314 requirepass
pwD=pwD-7314-Pp6Zu2Tg   # 7314 ACL user aclu2
pwE=pwE-wrong-Rr7Av3Sh  # a wrong password
pwF=pwF-setuser-Ss8Bw4R # ACL SETUSER >password
pwG=pwG-config-Tt9Cx5Qj # CONFIG SET masterauth
pwI=pwI-inline-Uu1Dy6Pk # inline AUTH, sent by hand (7313 ACL user aclui)
secrets=("$pwA" "$pwB" "$pwC" "$pwD" "$pwE" "$pwF" "$pwG" "$pwI")

redis-server --port 7313 --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/r7313.log" --requirepass "$pwA" \
	--user aclu on ">$pwB" '~*' '&*' '+@all' --user aclui on ">$pwI" '~*' '&*' '+@all' &
pids+=($!)
redis-server --port 7314 --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/r7314.log" --requirepass "$pwC" --user aclu2 on ">$pwD" '~*' '&*' '+@all' &
pids+=($!)
for port in 7313 7314; do
	for _ in $(seq 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q NOAUTH && break; sleep 0.1; done
done

tcpdump -i lo -s 0 -U -w "$tmp/sec.pcap" 'tcp port 7313 or tcp port 7314' 2> "$tmp/tcpdump.log" &
td=$!
pids+=($td)
for _ in $(seq 50); do grep -q 'listening on' "$tmp/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
cap=()
for v in hash none; do
	"$bin" capture -q -i lo --redis 7313,7314 --values "$v" -w "$tmp/live-$v.db" 2> "$tmp/live-$v.err" &
	cap[${#cap[@]}]=$!
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/live-$v.db" ] && break; sleep 0.05; done
done

# --- the traffic ---
rc7313() { redis-cli -p 7313 --no-auth-warning "$@"; }
printf '%s\n' "AUTH $pwA" "SET sec:1 v1" "AUTH aclu $pwB" "GET sec:1" "AUTH $pwE" \
	"AUTH aclu $pwE" "ACL SETUSER tmpu on >$pwF ~* +@all" "CONFIG SET masterauth $pwG" \
	"SET mk1 a" "SET mk2 b" "SET mk3 c" \
	"MIGRATE 127.0.0.1 7314 mk1 0 5000 AUTH $pwC" \
	"MIGRATE 127.0.0.1 7314 \"\" 0 5000 COPY AUTH2 aclu2 $pwD KEYS mk2 mk3" \
	| rc7313 > "$tmp/cli.out" 2>&1
rc7313 HELLO 3 AUTH aclu "$pwB" > "$tmp/hello.out" 2>&1
# An inline command, as typed into telnet: AUTH user password
exec 5<> /dev/tcp/127.0.0.1/7313
printf 'AUTH aclui %s\r\nSET sec:inline 1\r\nQUIT\r\n' "$pwI" >&5
timeout 5 cat <&5 > "$tmp/inline.out"
exec 5>&-
rc7313 --user aclu --pass "$pwB" SET sec:end 1 > /dev/null 2>&1
sed 's/^/# /' "$tmp/cli.out"
t "$(tr -d '\r' < "$tmp/cli.out" | grep -c '^WRONGPASS' | grep -qx 2 && echo 1)" "the two wrong passwords were refused"
t "$([ "$(tr -d '\r' < "$tmp/cli.out" | grep -c '^OK$')" -ge 9 ] && echo 1)" \
	"AUTH, AUTH user, ACL SETUSER, CONFIG SET, the SETs and both MIGRATEs answered OK"
t "$([ "$(redis-cli -p 7314 --no-auth-warning -a "$pwC" mget mk1 mk2 mk3 | tr '\n' ' ')" = "a b c " ] && echo 1)" \
	"both MIGRATEs (AUTH and AUTH2) reached 7314"
t "$(grep -q 'proto' "$tmp/hello.out" && tr -d '\r' < "$tmp/inline.out" | grep -c '^+OK' | grep -qx 3 && echo 1)" \
	"HELLO 3 AUTH and the inline AUTH were accepted"

# the captures see sec:end, then stop
for v in hash none; do
	for _ in $(seq 100); do
		[ "$(sqlite3 "$tmp/live-$v.db" "SELECT count(*) FROM timeline WHERE key = 'sec:end'" 2>/dev/null)" = 1 ] && break
		sleep 0.1
	done
done
for c in "${cap[@]}"; do kill -INT "$c"; wait "$c"; done
kill -INT "$td"
wait "$td"
for v in hash none; do sed 's/^/# /' "$tmp/live-$v.err"; done

# Positive control: every secret is in the capture file, so the greps below can find one.
missing=
for s in "${secrets[@]}"; do grep -a -q -F -- "$s" "$tmp/sec.pcap" || missing="$missing $s"; done
t "$([ -z "$missing" ] && echo 1)" "tcpdump's file holds every password (the control; missing:${missing:- none})"

for v in hash none; do
	"$bin" replay -q --redis 7313,7314 --values "$v" -w "$tmp/rep-$v.db" "$tmp/sec.pcap" 2> "$tmp/rep-$v.err"
	t "$([ $? = 0 ] && echo 1)" "replay --values $v of tcpdump's file"
done
"$bin" replay -q --redis 7313,7314 --values full -w "$tmp/full.db" "$tmp/sec.pcap" 2> "$tmp/full.err"
t "$([ $? = 2 ] && [ ! -e "$tmp/full.db" ] && echo 1)" "--values full is refused, and writes nothing ($(cat "$tmp/full.err"))"

# found DB: the secrets found in the database's files, its dump, and the run's stderr
found() {
	local db=$1 s f hit=
	sqlite3 "$db" .dump > "$db.dump" 2>&1
	for s in "${secrets[@]}"; do
		for f in "$db" "$db-wal" "$db-shm" "$db.dump" "${db%.db}.err"; do
			[ -e "$f" ] && grep -a -q -F -- "$s" "$f" && hit="$hit ${f##*/}:$s"
		done
	done
	echo "$hit"
}

for db in live-hash live-none rep-hash rep-none; do
	f=$tmp/$db.db
	hits=$(found "$f")
	t "$([ -z "$hits" ] && [ -s "$f.dump" ] && echo 1)" "$db: no password in the database, -wal, -shm, .dump or stderr${hits:+ (found:$hits)}"
	q() { sqlite3 "$f" "$1"; }
	auth=$(q "SELECT count(*) FROM timeline WHERE cmd = 'AUTH'")
	# redis-cli: AUTH pwA, AUTH aclu pwB, two wrong ones; the inline one; the final
	# --user/--pass login; the check of 7314; and 7313's own AUTH and AUTH aclu2 to 7314
	t "$([ "$auth" -ge 8 ] && echo 1)" "$db: the AUTH commands are in the timeline ($auth)"
	t "$([ "$(q "SELECT count(*) FROM timeline WHERE cmd = 'HELLO'")" -ge 1 ] && echo 1)" "$db: HELLO 3 AUTH is in the timeline"
	t "$([ "$(q "SELECT group_concat(k, ' ') FROM (SELECT key || ':' || class AS k FROM timeline WHERE cmd = 'MIGRATE' ORDER BY key)")" = "mk1:delete mk2:read mk3:read" ] && echo 1)" \
		"$db: both MIGRATEs are in the timeline with their keys (mk1 moved, mk2 mk3 copied)"
	t "$([ "$(q "SELECT group_concat(key, ' ') FROM (SELECT key FROM timeline WHERE cmd = 'RESTORE' AND server LIKE '%:7314' ORDER BY key)")" = "mk1 mk2 mk3" ] && echo 1)" \
		"$db: and 7313's RESTOREs to 7314, after its AUTH there, with their keys"
	t "$([ "$(q "SELECT count(*) FROM timeline WHERE cmd IN ('ACL', 'CONFIG')")" = 2 ] && echo 1)" \
		"$db: ACL SETUSER and CONFIG SET are in the timeline"
	t "$([ "$(q "SELECT count(*) FROM timeline WHERE key IN ('sec:1', 'sec:inline', 'sec:end') AND cmd = 'SET'")" = 3 ] && echo 1)" \
		"$db: the commands around them are there too"
done
exit $failed
