#!/usr/bin/env bash
# Hostile captures (captures/hostile/, written by tools/genhostile; README.md there says what
# each one is). For every capture, `cachetap replay` must
#   - exit 0, or 2 for a file libpcap refuses to open (empty, not a capture, bad header);
#   - finish within HOSTILE_WALL_S seconds of wall time;
#   - stay under HOSTILE_RSS_KB of peak RSS;
#   - print its one summary line (exit 0), or exactly one error line naming the file (exit 2).
# Wall time and RSS come from tools/benchrun; the limits are the same in the ASan+UBSan build.
# Also checked: tools/genhostile writes exactly the committed files, byte for byte, each under
# 2 MiB and all of them under 10 MiB.
set -u
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"

HOSTILE_WALL_S=10
HOSTILE_RSS_KB=$((200 * 1024))
HOSTILE_FILE_MAX_BYTES=$((2 * 1024 * 1024))
HOSTILE_DIR_MAX_BYTES=$((10 * 1024 * 1024))

dir=$top/captures/hostile
gen=$build/tools/genhostile
benchrun=$build/tools/benchrun
rss_max=$HOSTILE_RSS_KB

caps=()
for f in "$dir"/*; do
	case $f in *.md) continue ;; esac
	[ -f "$f" ] && caps+=("$f")
done

echo "1..$((3 + 6 * ${#caps[@]}))"

# ---- the generator reproduces the committed files ----
mkdir -p "$tmp/gen"
if "$gen" "$tmp/gen" >"$tmp/gen.log" 2>&1; then gen_ok=1; else gen_ok=0; sed 's/^/# /' "$tmp/gen.log"; fi
t "$gen_ok" "genhostile runs"
committed=$(cd "$dir" && ls | grep -v '\.md$' | sort | tr '\n' ' ')
generated=$(cd "$tmp/gen" && ls | sort | tr '\n' ' ')
[ "$committed" = "$generated" ] && same=1 || { same=0; echo "# committed: $committed"; echo "# generated: $generated"; }
t "$same" "genhostile writes the same ${#caps[@]} files as captures/hostile/ holds"
total=$(cat "${caps[@]}" | wc -c)
t "$([ "$total" -lt "$HOSTILE_DIR_MAX_BYTES" ] && echo 1)" "captures/hostile/ holds $total bytes (< $HOSTILE_DIR_MAX_BYTES)"

for f in "${caps[@]}"; do
	name=$(basename "$f")
	cmp -s "$f" "$tmp/gen/$name" && c=1 || c=0
	t "$c" "$name: genhostile reproduces it byte for byte"
	size=$(wc -c <"$f")
	t "$([ "$size" -lt "$HOSTILE_FILE_MAX_BYTES" ] && echo 1)" "$name: $size bytes (< $HOSTILE_FILE_MAX_BYTES)"

	err=$tmp/$name.err
	# benchrun discards the command's output: the shell keeps stderr, then becomes cachetap.
	"$benchrun" sh -c 'exec "$0" replay -q -w "$1" "$2" 2>"$3"' "$bin" "$tmp/$name.db" "$f" "$err" \
		2>"$tmp/$name.bench"
	line=$(cat "$tmp/$name.bench")
	status=$(sed -n 's/.*status=\([0-9]*\).*/\1/p' <<<"$line")
	wall=$(sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p' <<<"$line")
	rss=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' <<<"$line")
	if [ "$status" = 0 ] || [ "$status" = 2 ]; then c=1; else c=0; fi
	t "$c" "$name: exit $status (0 or 2)"
	[ "$c" = 1 ] || sed 's/^/# /' "$err" | head -n 20
	c=$(awk -v w="${wall:-999}" -v max="$HOSTILE_WALL_S" 'BEGIN { print (w < max) ? 1 : 0 }')
	t "$c" "$name: wall time ${wall:-?} s (< $HOSTILE_WALL_S s)"
	[ -n "$rss" ] && [ "$rss" -lt "$rss_max" ] && c=1 || c=0
	t "$c" "$name: peak RSS ${rss:-?} kB (< $rss_max kB)"
	if [ "$status" = 0 ]; then
		grep -Eq '^cachetap replay: packets=[0-9]+ bytes=[0-9]+ connections=[0-9]+ events=[0-9]+ gaps=[0-9]+ drops=[0-9]+ errors=[0-9]+$' "$err" && c=1 || c=0
		t "$c" "$name: summary line printed"
	else
		[ "$(wc -l <"$err")" = 1 ] && grep -q "$name" "$err" && c=1 || c=0
		t "$c" "$name: one error line naming the file"
	fi
	[ "$c" = 1 ] || sed 's/^/# /' "$err" | head -n 20
done
exit $failed
