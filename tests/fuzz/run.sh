#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target for SECONDS, one after the other, and prints per
# target how many inputs it executed and how many crashes it found.
#
#   tests/fuzz/run.sh FUZZ_DIR SECONDS TARGET...
#
# Each target starts from its committed corpus (tests/fuzz/corpus/TARGET, read only) plus a
# working corpus in FUZZ_DIR/corpus/TARGET that keeps what earlier runs found. A crash, leak,
# timeout (10 s) or out-of-memory input is written to tests/fuzz/regress/TARGET/, where
# tests/golden/fuzz_replay.t replays it from then on; libFuzzer stops a target at its first
# crash. tests/fuzz/TARGET.dict is used when it exists. The full log is FUZZ_DIR/TARGET.log.
# Exit status: 0 when no target crashed.
set -u
if [ $# -lt 3 ]; then
	echo "usage: $0 FUZZ_DIR SECONDS TARGET..." >&2
	exit 2
fi
dir=$1
secs=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
count_artifacts() {
	find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | wc -l
}
status=0
report=()
for t in "$@"; do
	corpus=$top/tests/fuzz/corpus/$t
	regress=$top/tests/fuzz/regress/$t
	work=$dir/corpus/$t
	log=$dir/$t.log
	mkdir -p "$work" "$regress"
	dict=()
	[ -f "$top/tests/fuzz/$t.dict" ] && dict=(-dict="$top/tests/fuzz/$t.dict")
	before=$(count_artifacts "$regress")
	echo "fuzz: $t for $secs s (log: $log)"
	dirs=("$work")
	[ -d "$corpus" ] && dirs+=("$corpus")
	"$dir/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$regress/" "${dict[@]}" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	crashes=$(($(count_artifacts "$regress") - before))
	if [ "$rc" != 0 ] && [ "$crashes" = 0 ]; then
		crashes="? (exit $rc, no artifact; see the log)"
	fi
	line="$t: execs=${execs:-?} crashes=$crashes"
	[ "$crashes" = 0 ] || { status=1; line="$line -> tests/fuzz/regress/$t/"; }
	echo "fuzz: $line"
	report+=("$line")
done
echo "fuzz: summary ($secs s per target)"
for l in "${report[@]}"; do echo "  $l"; done
exit $status
