#!/usr/bin/env bash
# Per-direction TCP payload byte totals of a capture, as tshark counts them: the sum of
# tcp.len for every segment (retransmissions included) of each tcp.stream and direction.
# One line per (stream, direction) with payload: "SRC > DST BYTES", sorted. The golden test
# compares this with cachetap's connections table (tests/golden/public_conn_bytes.t).
#
# usage: tools/tshark-conn-bytes.sh FILE
set -euo pipefail
file=${1:?usage: tshark-conn-bytes.sh FILE}
# -d: decode nothing as a protocol that would re-slice TCP; plain TCP fields are enough.
tshark -n -r "$file" -Y tcp -T fields -E separator=/t \
	-e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport \
	-e tcp.len 2>/dev/null |
awk -F'\t' '
function last(s,   n, a) { n = split(s, a, ","); return a[n] }
{
	src = $2 != "" ? last($2) : "[" last($3) "]"
	dst = $5 != "" ? last($5) : "[" last($6) "]"
	k = $1 "\t" src ":" $4 " > " dst ":" $7
	sum[k] += $8
}
END { for (k in sum) if (sum[k] > 0) { split(k, a, "\t"); print a[2], sum[k] } }' | LC_ALL=C sort
