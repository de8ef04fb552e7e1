# Shared scaffolding for the bash TAP tests (sourced, not run): paths, a temporary directory,
# processes cleaned up by PID on exit, the TAP `t` helper, and the root check that the live
# tests need. After sourcing: $top $build $bin $tmp, pids+=(PID) to have a process killed.
top=${CT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
build=${CT_BUILD:-$top/build}
bin=${CT_BIN:-$build/cachetap}
tmp=$(mktemp -d)
pids=()
ct_cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	rm -rf "$tmp"
}
trap ct_cleanup EXIT
n=0
failed=0
t() { # t COND NAME...   COND is 1 for a pass
	n=$((n + 1)); local c=$1; shift
	if [ "$c" = 1 ]; then echo "ok $n - $*"; else echo "not ok $n - $*"; failed=1; fi
}
# require_root PLAN: live capture needs CAP_NET_RAW; fail (never skip) every planned test.
require_root() {
	[ "$(id -u)" = 0 ] && return 0
	echo "# live capture needs root (CAP_NET_RAW); run make test as root"
	for _ in $(seq "$1"); do t 0 "root required"; done
	exit 1
}
# require_cmds PLAN CMD...: each CMD must be a command or an executable file; otherwise every
# planned test fails (never skips).
require_cmds() {
	local plan=$1 c
	shift
	for c in "$@"; do
		command -v "$c" > /dev/null 2>&1 && continue
		echo "# missing: $c"
		for _ in $(seq "$plan"); do t 0 "$c required"; done
		exit 1
	done
}
# use_testbed: $tb (tools/testbed) and $dir (its directory, under $tmp); on exit the testbed
# is brought down before the usual cleanup.
use_testbed() {
	export CT_BUILD=$build
	tb=$top/tools/testbed
	dir=$tmp/tb
	trap '"$tb" down --dir "$dir" > /dev/null 2>&1; ct_cleanup' EXIT
}
