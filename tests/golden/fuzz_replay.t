#!/usr/bin/env bash
# Replays the fuzz corpus and every past crash without libFuzzer: for each target
# tests/fuzz/fuzz_NAME.c, the onefile build that `make all` leaves in $CT_BUILD/fuzz-onefile/NAME
# (the build's own compiler and flags, so ASan+UBSan in the sanitizer build) runs every file of
# tests/fuzz/corpus/NAME/ and tests/fuzz/regress/NAME/ through LLVMFuzzerTestOneInput. A target's
# own checks abort on a broken invariant and the sanitizers exit non-zero, so every input must
# run to the end. This script builds nothing. Per target, three tests: the binary exists, the
# corpus is not empty, the replay succeeds.
set -u
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"

names=()
for src in "$top"/tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] && names+=("$(basename "$src" .c)")
done
echo "1..$((1 + 3 * ${#names[@]}))"
t "$([ ${#names[@]} -gt 0 ] && echo 1)" "${#names[@]} fuzz targets in tests/fuzz/"

for name in "${names[@]}"; do
	exe=$build/fuzz-onefile/$name
	corpus=$top/tests/fuzz/corpus/$name
	regress=$top/tests/fuzz/regress/$name
	t "$([ -x "$exe" ] && echo 1)" "$name: onefile build $exe exists (make all builds it)"
	ncorpus=$(find "$corpus" -maxdepth 1 -type f ! -name 'README*' 2>/dev/null | wc -l)
	t "$([ "$ncorpus" -gt 0 ] && echo 1)" "$name: corpus has $ncorpus inputs"
	nregress=$(find "$regress" -maxdepth 1 -type f ! -name 'README*' 2>/dev/null | wc -l)
	if [ -x "$exe" ] && "$exe" "$corpus" "$regress" >"$tmp/$name.out" 2>&1; then c=1; else c=0; fi
	t "$c" "$name: replays $ncorpus corpus inputs and $nregress past crashes"
	[ "$c" = 1 ] || tail -n 30 "$tmp/$name.out" | sed 's/^/# /'
done
exit $failed
