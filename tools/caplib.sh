# shellcheck shell=bash
# Shared by the scripts that record captures on loopback (tools/mkcap-*.sh, tools/mkdemo.sh,
# tools/live-keepup.sh); sourced, not run. After sourcing: $work (a temporary directory,
# removed on exit) and pids+=(PID) to have a process stopped on exit, by PID; then
#   tcpdump_start OUT FILTER [BUFFER_KB]   record lo into OUT (ns timestamps) until ...
#   tcpdump_stop                           ... this, which fails (status 1) if tcpdump dropped
#                                          packets, so no capture with holes the load did not
#                                          make is ever kept.
# A script may define on_exit_hook, which runs first on exit (e.g. tools/testbed down).
work=$(mktemp -d)
pids=()
caplib_cleanup() {
	if declare -F on_exit_hook > /dev/null; then on_exit_hook || true; fi
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap caplib_cleanup EXIT

tcpdump_start() {
	tcpdump -Z root -i lo -s 0 -B "${3:-131072}" -U --time-stamp-precision=nano -w "$1" "$2" \
		2> "$work/tcpdump.log" &
	tcpdump_pid=$!
	pids+=("$tcpdump_pid")
	for _ in $(seq 50); do grep -q 'listening on' "$work/tcpdump.log" && return 0; sleep 0.1; done
	echo "$0: tcpdump did not start: $(cat "$work/tcpdump.log")" >&2
	return 1
}

tcpdump_stop() {
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid" 2>/dev/null || true
	grep -E 'captured|dropped' "$work/tcpdump.log" >&2 || true
	if ! grep -q '^0 packets dropped by kernel' "$work/tcpdump.log"; then
		echo "$0: tcpdump dropped packets; try again on a quieter machine" >&2
		return 1
	fi
}
