#!/usr/bin/env bash
# The command line (SPEC sections 2 and 8): every command has --help (exit 0), and every bad
# input gets exactly one line on stderr naming the argument, and exit code 2, without
# touching a file it was not asked to write.
set -u
. "$(dirname "$0")/../lib.sh"
cap=$top/captures/public/zeek/set.pcap
printf 'not a database\n' > "$tmp/precious.txt"

help_ok() { # COMMAND...
	local out rc
	out=$("$bin" "$@" 2>&1); rc=$?
	t "$([ $rc = 0 ] && case $out in usage:*) echo 1;; esac)" "cachetap $* exits 0 with a usage text"
}
bad() { # WHAT-IT-MUST-MENTION ARGS...
	local want=$1; shift
	"$bin" "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
	local lines; lines=$(wc -l < "$tmp/err")
	if [ $rc = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$tmp/err"; then
		t 1 "cachetap $*: exit 2, one line naming '$want'"
	else
		t 0 "cachetap $*: exit 2, one line naming '$want' (exit $rc, $lines lines)"
		sed 's/^/#   /' "$tmp/err"
	fi
}

echo "1..31"
help_ok --help
help_ok replay --help
help_ok capture --help
help_ok timeline --help
bad "unknown command" frobnicate
bad "replay" replay
bad "--redis" replay --redis 0 "$cap"
bad "--redis" replay --redis 6379,x "$cap"
bad "--memcached" replay --memcached 70000 "$cap"
bad "--values" replay --values bogus "$cap"
bad "--values" replay --values full "$cap"
bad "--decode" replay --decode nosuch "$cap"
bad "ftp" replay --decode redis,http,ftp "$cap"
bad "--channel" replay --channel '' "$cap"
bad "--node" replay --node broken "$cap"
bad "--node" replay --node 'a=redis.example:6379' "$cap"
bad "--node" replay --node 'a=10.0.0.1:6379,role=boss' "$cap"
bad "--bogus" replay --bogus "$cap"
bad "needs a value" replay "$cap" -w
bad "/no/such.pcap" replay -w "$tmp/x.db" /no/such.pcap
bad "README.md" replay -w "$tmp/x.db" "$top/README.md"
bad "precious.txt" replay -w "$tmp/precious.txt" "$cap"
t "$(grep -qx 'not a database' "$tmp/precious.txt" && echo 1)" "a file that is not a cachetap database is left untouched"
bad "-i IFACE" capture
bad "--buffer-size" capture -i lo -B 10
bad "--duration" capture -i lo --duration -1
bad "--duration" replay --duration 5 "$cap"
bad "/no/such.db" timeline /no/such.db
bad "not a cachetap database" timeline "$tmp/precious.txt"
bad "--limit" timeline --limit 0 "$tmp/precious.txt"
# And a good run replaces its own database.
"$bin" replay -q -w "$tmp/ok.db" "$cap" 2> /dev/null && "$bin" replay -q -w "$tmp/ok.db" "$cap" 2> /dev/null
t "$([ $? = 0 ] && [ "$(sqlite3 "$tmp/ok.db" 'SELECT count(*) FROM run_stats')" = 1 ] && echo 1)" \
	"replaying into an existing cachetap database replaces it (one run in it)"
