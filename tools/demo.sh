#!/usr/bin/env bash
# make demo / make live-demo.
#
#   tools/demo.sh replay BUILD_DIR   replays the shipped capture captures/demo/testbed-faults.pcap
#                                    (recorded from the testbed with a slow replica, a memcached
#                                    node that misses invalidations, and stale reads; see
#                                    tools/mkdemo.sh), prints the propagation report and writes
#                                    BUILD_DIR/report.html. No root needed.
#   tools/demo.sh live BUILD_DIR     (root) starts the testbed with the same faults, drives
#                                    tools/scenarios/faults.scn with the live capture
#                                    (cachetap drive -i lo), prints the same kind of report from
#                                    the live traffic, writes BUILD_DIR/live-report.html, and
#                                    stops the testbed.
set -euo pipefail
mode=${1:?usage: demo.sh replay|live BUILD_DIR}
build=${2:?usage: demo.sh replay|live BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/cachetap

case $mode in
replay)
	cap=$top/captures/demo/testbed-faults.pcap
	# shellcheck disable=SC1091
	. "$top/captures/demo/testbed-faults.env"
	nodes=()
	for n in $NODES; do nodes+=(--node "$n"); done
	db=$build/demo.db
	echo "== cachetap replay $cap" >&2
	"$bin" replay -w "$db" --redis "$REDIS" --memcached "$MEMCACHED" --http "$HTTP" \
		"${nodes[@]}" "$cap"
	echo >&2
	"$bin" report "$db"
	"$bin" report --format html --out "$build/report.html" "$db"
	echo
	echo "The capture was recorded with r1 (a replica) delayed by ${DELAY_MS} ms and m1 missing"
	echo "the invalidations of ${DROPPED_KEYS//,/ }. HTML report: $build/report.html"
	;;
live)
	[ "$(id -u)" = 0 ] || { echo "live-demo: the live capture needs root" >&2; exit 2; }
	tb=$build/live-testbed
	trap '"$top/tools/testbed" down --dir "$tb" > /dev/null 2>&1 || true' EXIT
	"$top/tools/testbed" up --dir "$tb" --delay r1:50 --drop m1:0.5
	# shellcheck disable=SC1091
	. "$tb/env"
	db=$build/live-demo.db
	nodes=()
	for n in $CAPTURE_NODES; do nodes+=(--node "$n"); done
	set +e
	"$bin" drive -k -i lo -w "$db" --redis "$CAPTURE_REDIS_PORTS" \
		${CAPTURE_FILTER:+-f "$CAPTURE_FILTER"} "${nodes[@]}" "$tb/scenarios/faults.scn"
	echo "(cachetap drive exited $?: the faults make assertions fail, as they should)"
	set -e
	echo
	# The drive ended a moment after its last wait: invalidations still outstanding are
	# measured against the scenario's own 1 s wait rather than the default 5 s deadline.
	"$bin" report --deadline 1s "$db"
	"$bin" report --deadline 1s --format html --out "$build/live-report.html" "$db"
	echo "HTML report: $build/live-report.html"
	;;
*)
	echo "usage: demo.sh replay|live BUILD_DIR" >&2
	exit 2
	;;
esac
