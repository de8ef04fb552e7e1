#!/usr/bin/env bash
# Golden test: cachetap's memcached decoding of every public memcached capture
# (captures/public/*/*memcache*), compared with TShark's memcache dissector and, where the
# source project shipped one, with that project's own parser output.
#
# What is compared. For each capture, the timeline rows (one per request and key), per
# connection in wire order: connection (client > server), command, key, status, ts_ns (time
# of the request's last byte) and latency_ns. The reference rows are derived from tshark's
# per-PDU dissection:
#   - requests: tshark's command word (text) or opcode (binary, named as protocol_binary.h
#     names them) and its keys; the request's time is that of the frame tshark shows the PDU
#     in, which is the frame that completed it (reassembled PDUs are shown in their last one);
#   - outcomes: each reply is paired as memcached answers, in order per connection (binary:
#     same opcode and opaque, quiet requests passed over settle as protocol_binary.h says:
#     GETQ/GETKQ/GATQ/GATKQ suppress only a miss, the other quiet opcodes only a success). The
#     reply's meaning follows SPEC section 3 and the decisions at the top of src/cmdtab_mc.c
#     (a get's keys with a VALUE are hits, the others misses; STORED/DELETED/TOUCHED/a number
#     are ok; NOT_FOUND is a miss; NOT_STORED is a miss for replace/append/prepend, an error
#     otherwise; EXISTS and ERROR replies are errors). noreply requests, text quit and binary
#     QUITQ get no reply: noreply. A request nothing answered by the end is unanswered (quiet
#     ones too: no later reply proved them done). Latency: the reply's frame time minus the
#     request's; a get's misses are decided by the VALUE line after them or by the END.
#
# The reference is checked in (tests/golden/memcached/<folder>__<file>.tshark, gzipped when
# large), and UPDATE=1 regenerates it with the tshark found on PATH (the files were made with
# TShark 4.0.17, the version `make deps` installs on Debian 12; the version is in each header).
# Checked in rather than run live because: the corrections below are judged against one fixed
# tshark output, and a tshark update that changes the dissector must show up as a diff to
# review at UPDATE time, not as a failure of our code; the test runs twice per `make test`
# (plain and ASan) and a 2 MB capture takes tshark seconds in PDML; and this test then needs
# no tshark, text2pcap or network.
#
# Where tshark and cachetap differ, one of them is wrong. Every difference found so far is
# tshark's, and each one is corrected in tests/golden/memcached/<capture>.fix (a "-" line
# removes one PDU line of tshark's, a "+" line adds one after the lines of its frame; "#" lines
# say why, with the bytes on the wire). The comparison is against the corrected reference, so
# the test asserts our answer, and a correction that no longer applies fails the test. The
# tshark 4.0.17 limitations behind them:
#   1. Text protocol: tshark dissects only the FIRST message of each TCP segment and folds the
#      rest of the segment into it. Requests pipelined in one segment (deepflow
#      memcached-userdata: 16 of them, in 13 segments) are missing from tshark's output; the
#      .fix adds each with its line as sent. Replies: "VALUE...END" in one segment is one PDU,
#      the END folded in; when the VALUE was reassembled across segments the END is its own PDU.
#      The extraction records, per VALUE PDU, how many bytes follow the last value's data
#      block ("tail": 5 = the folded "END\r\n", 0 = none), so pairing knows which happened.
#      (Reproduce: text2pcap a segment "get a\r\nget b\r\n" to port 11211; tshark shows one get.)
#   2. Text protocol: a bare number reply of incr/decr ("2\r\n") is shown as an empty PDU
#      ("MEMCACHE Continuation" in captures/public/tshark/), with no field: tshark's text reply
#      parser knows reply words only. The .fix replaces the empty PDU by one carrying the
#      number (protocol.txt: incr/decr answer "<value>\r\n" on success, NOT_FOUND otherwise).
#   3. UDP: tshark's memcache dissector does not know memcached's 8-byte UDP frame header
#      (request id, sequence, total, reserved; protocol.txt "UDP protocol"), so on the raw
#      captures it decodes nothing (every datagram is "MEMCACHE Continuation"). The reference
#      for UDP datagrams is therefore tshark's dissection of each datagram's BODY: UPDATE=1
#      strips the frame header, re-wraps the body with text2pcap (same addresses and ports)
#      and dissects it alone. Only single-datagram messages (sequence 0 of 1) are supported;
#      UPDATE fails on others.
#
# Also checked:
#   - every capture replays with exit 0 and no parse errors, unmatched replies or gaps;
#   - deepflow/memcached-userdata.pcap and deepflow/memcached.pcap against DeepFlow's own
#     parser output (the .result files): each request's command, key and outcome in order
#     (DeepFlow pairs one response per request, in order), and for memcached-userdata the
#     totals (requests per command, VALUE = hits, END = misses, STORED = ok, requests without
#     a response = unanswered). DeepFlow logs "parse failed" for two lines of memcached.pcap:
#     `bar` is the data block of "set foo 0 0 3" (read as a command by DeepFlow's parser; we
#     skip it as data, as memcached does), and `quit` is a valid command that DeepFlow does not
#     know (protocol.txt: "quit", no reply): the derivation records it as QUIT noreply;
#   - ndpi/memcached.cap: the flow nDPI classifies as Memcached (memcached.cap.out) is our one
#     memcached connection, with nDPI's packet counts per direction.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CT_BIN:-$top/build/cachetap}
dir=$top/tests/golden/memcached
port=11211 # cachetap's default --memcached port; every capture here uses it
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C

n=0
t() { # t 0|1 NAME... [diagnostics in $tmp/diag]
	n=$((n + 1)); local c=$1; shift
	if [ "$c" = 1 ]; then
		echo "ok $n - $*"
	else
		echo "not ok $n - $*"
		[ -s "$tmp/diag" ] && head -n 60 "$tmp/diag" | sed 's/^/#   /'
	fi
	: > "$tmp/diag"
}

mapfile -t caps < <(cd "$top/captures/public" && find . -type f -name '*memcache*' \
	\( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sed 's|^\./||' | sort)
# 18 packetbeat (text and binary, TCP and UDP), deepflow memcached.pcap and
# memcached-userdata.pcap, ndpi memcached.cap
echo "1..$(( 1 + ${#caps[@]} * 2 + 4 ))"
: > "$tmp/diag"
[ ${#caps[@]} -eq 21 ] || echo "found: ${caps[*]}" > "$tmp/diag"
t "$([ ${#caps[@]} -eq 21 ] && echo 1 || echo 0)" "21 public memcached captures (found ${#caps[@]})"

# ---- tshark PDML -> one line per memcache PDU -------------------------------------------
# Columns (tab-separated): frame, time (epoch s.ns), l4, stream, "src:port > dst:port",
# payload length, pos+size of the PDU, magic (128 request, 129 response; "-" for text),
# opcode, commands, keys, responses, status, opaque, noreply, tail (text PDUs with a value:
# bytes after the last value's data block). -v frame= and time= override (UDP bodies).
read -r -d '' PDML_AWK <<'EOF'
function attr(s, name,   i, r) {
	i = index(s, " " name "=\"")
	if (!i) return ""
	r = substr(s, i + length(name) + 3)
	r = substr(r, 1, index(r, "\"") - 1)
	gsub(/&lt;/, "<", r); gsub(/&gt;/, ">", r); gsub(/&quot;/, "\"", r)
	gsub(/&apos;/, "'", r); gsub(/&amp;/, "\\&", r)
	return r
}
function add(v, s) { return v == "" ? s : v " " s }
function out() {
	printf "%s\t%s\t%s\t%s\t%s:%s > %s:%s\t%s\t%s+%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		frame != "" ? frame : fr, time != "" ? time : tm, l4, stream, src, sp, dst, dp, plen,
		pos, size, magic, op, cmd, keys, resp, st, opq, nr,
		(vlen == "" || magic != "-") ? "" : pos + size - vend
}
/^<packet>/ { fr = tm = src = dst = sp = dp = l4 = stream = plen = ""; inmc = 0 }
/<field name="frame.number"/ { fr = attr($0, "show") }
/<field name="frame.time_epoch"/ { tm = attr($0, "show") }
/<field name="ip.src"/ { src = attr($0, "show") }
/<field name="ip.dst"/ { dst = attr($0, "show") }
/<field name="ipv6.src"/ { src = "[" attr($0, "show") "]" }
/<field name="ipv6.dst"/ { dst = "[" attr($0, "show") "]" }
/<field name="(tcp|udp).srcport"/ { sp = attr($0, "show") }
/<field name="(tcp|udp).dstport"/ { dp = attr($0, "show") }
/<field name="tcp.stream"/ { l4 = "tcp"; stream = attr($0, "show") }
/<field name="udp.stream"/ { l4 = "udp"; stream = attr($0, "show") }
/<field name="tcp.len"/ { plen = attr($0, "show") }
/<field name="udp.length"/ { plen = attr($0, "show") - 8 }
/<proto name="memcache"/ {
	pos = attr($0, "pos"); size = attr($0, "size")
	magic = "-"; op = cmd = keys = resp = st = opq = nr = vlen = vend = ""
	if ($0 ~ /\/>[ \t]*$/) out(); else inmc = 1
	next
}
!inmc { next }
/<field name="memcache.magic"/ { magic = attr($0, "show") }
/<field name="memcache.opcode"/ { op = attr($0, "show") }
/<field name="memcache.command"/ { cmd = add(cmd, attr($0, "show")) }
/<field name="memcache.key"/ { keys = add(keys, attr($0, "show")) }
/<field name="memcache.response"/ { resp = add(resp, attr($0, "show")) }
/<field name="memcache.status"/ { st = attr($0, "show") }
/<field name="memcache.opaque"/ { opq = attr($0, "show") }
/<field name="memcache.noreply"/ { nr = "noreply" }
# where the last value block ends: "VALUE <key> <flags> <bytes>[ <cas>]\r\n<bytes>\r\n"
/<field name="memcache.value.length"/ {
	vlen = attr($0, "show"); vend = attr($0, "pos") + attr($0, "size") + 4 + vlen
}
/<field name="memcache.cas"/ { if (vlen != "") vend = attr($0, "pos") + attr($0, "size") + 4 + vlen }
/<field name="memcache.value"/ { if (vlen != "") vend = attr($0, "pos") + attr($0, "size") + 2 }
/^  <\/proto>/ { inmc = 0; out() }
EOF

# ---- corrections: .fix applied to the PDU lines -----------------------------------------
read -r -d '' FIX_AWK <<'EOF'
BEGIN {
	FS = "\t"; OFS = "\t"
	while ((getline l < fix) > 0) {
		if (l ~ /^-/) del[substr(l, 2)]++
		else if (l ~ /^\+/) { na++; addl[na] = substr(l, 2) }
		else if (l !~ /^(#|$)/) { print "bad line in .fix: " l > "/dev/stderr"; bad = 1 }
	}
}
/^#/ { next }
($0 in del) && del[$0] > 0 { del[$0]--; next }
{ print $1, 0, FNR, $0 }
END {
	for (i = 1; i <= na; i++) { split(addl[i], f, "\t"); print f[1], 1, i, addl[i] }
	for (l in del)
		if (del[l] > 0) { print "stale .fix: tshark has no line " l > "/dev/stderr"; bad = 1 }
	exit bad
}
EOF

# ---- PDU lines -> reference rows --------------------------------------------------------
# Out: conn, seq, key index, CMD, key, status, ts_ns, latency_ns; sorted by the first three
# it is wire order per connection (seq is the request's line: tshark lists frames in order).
read -r -d '' DERIVE_AWK <<'EOF'
BEGIN {
	FS = "\t"; OFS = "\t"
	# binary opcodes 0x00-0x24 as protocol_binary.h names them
	split("GET SET ADD REPLACE DELETE INCREMENT DECREMENT QUIT FLUSH GETQ NOOP VERSION GETK " \
	      "GETKQ APPEND PREPEND STAT SETQ ADDQ REPLACEQ DELETEQ INCREMENTQ DECREMENTQ QUITQ " \
	      "FLUSHQ APPENDQ PREPENDQ VERBOSITY TOUCH GAT GATQ - SASL_LIST_MECHS SASL_AUTH " \
	      "SASL_STEP GATK GATKQ", nm, " ")
	for (i = 1; i in nm; i++) if (nm[i] != "-") opname[i - 1] = nm[i]
}
# "s.ns" -> ns, as a string (doubles cannot hold 19 digits)
function ns(tv,   p) { split(tv, p, "."); return p[1] substr(p[2] "000000000", 1, 9) }
function lat(a, b,   p, q) {
	split(a, p, "."); split(b, q, ".")
	return sprintf("%d", (q[1] - p[1]) * 1000000000 + (substr(q[2] "000000000", 1, 9) - substr(p[2] "000000000", 1, 9)))
}
function emit(i, k, st, rt) {
	print conn[i], sprintf("%09d", seq[i]), sprintf("%06d", k), cmd[i], k ? key[i, k] : "-",
		st, ns(tq[i]), rt == "" ? "-" : lat(tq[i], rt)
}
# every key of request i without a row yet gets status st, decided by a reply at time rt
function finish(i, st, rt,   k) {
	if (nk[i] == 0 && !done[i]) emit(i, 0, st, rt)
	for (k = kp[i]; k <= nk[i]; k++) emit(i, k, st, rt)
	kp[i] = nk[i] + 1; done[i] = 1
	if (og[conn[i]] == i) og[conn[i]] = 0
}
function isget(c) { return c ~ /^(GETS?|GATS?|GETK?Q?|GATK?Q?)$/ }
function status(i, w) {
	if (w == "ok") return isget(cmd[i]) ? "hit" : "ok"
	if (w == "notfound") return "miss"
	if (w == "notstored") return cmd[i] ~ /^(REPLACE|APPEND|PREPEND)Q?$/ ? "miss" : "error"
	return "error"
}
function textword(r) {
	if (r ~ /^(STORED|DELETED|TOUCHED|OK|VERSION|[0-9]+)$/) return "ok"
	if (r == "NOT_FOUND") return "notfound"
	if (r == "NOT_STORED") return "notstored"
	return "error" # EXISTS, ERROR, CLIENT_ERROR, SERVER_ERROR
}
# The oldest pending request of connection c this reply answers; those it passes over are
# settled (quiet binary ones by their quiet status, the others were not answered).
function answer(c, bin,   j, i, hit) {
	while (qh[c] < qt[c] && done[q[c, qh[c]]]) delete q[c, qh[c]++]
	hit = 0
	for (j = qh[c]; j < qt[c]; j++) {
		i = q[c, j]
		if (done[i]) continue
		if (!bin || (op[i] == $9 && opq[i] == $14)) { hit = i; break }
	}
	if (!hit) return 0
	for (j = qh[c]; q[c, j] != hit; j++) {
		i = q[c, j]
		if (!done[i]) finish(i, cmd[i] !~ /Q$/ ? "unanswered" : cmd[i] ~ /^G/ ? "miss" : "ok", "")
	}
	return hit
}
# A VALUE line for key v: it belongs to the open get of c (or opens the next pending one);
# that get's keys before v were misses.
function value(c, v,   i, k) {
	i = og[c]
	if (!i) {
		i = answer(c, 0)
		if (!i || !isget(cmd[i])) { unmatched(c, "VALUE " v); return }
		og[c] = i
	}
	for (k = kp[i]; k <= nk[i] && key[i, k] != v; k++) ;
	if (k > nk[i]) { unmatched(c, "VALUE " v); return }
	for (; kp[i] < k; kp[i]++) emit(i, kp[i], "miss", $2)
	emit(i, k, "hit", $2); kp[i] = k + 1
}
function unmatched(c, what) { print c, sprintf("%09d", NR), "000000", "?", "-", "unmatched reply: " what, ns($2), "-" }
{
	split($5, ep, " > ")
	c2s = ep[2] ~ (":" port "$")
	c = c2s ? $5 : ep[2] " > " ep[1]
	bin = $8 != "-"
	if (!(c in qt)) qh[c] = qt[c] = 0 # the connection's queue of pending requests
}
c2s {
	n++; conn[n] = c; seq[n] = NR; kp[n] = 1; tq[n] = $2
	if (bin) {
		cmd[n] = ($9 in opname) ? opname[$9] : "OPCODE_" $9
		opq[n] = $14; op[n] = $9
	} else {
		split($10, cw, " "); cmd[n] = cw[1] == "" ? "?" : toupper(cw[1])
	}
	nk[n] = split($11, kk, " ")
	for (k = 1; k <= nk[n]; k++) key[n, k] = kk[k]
	if ((!bin && ($15 == "noreply" || cmd[n] == "QUIT")) || cmd[n] == "QUITQ")
		finish(n, "noreply", "")
	else
		q[c, qt[c]++] = n # pending, in order
	next
}
bin {
	i = answer(c, 1)
	if (!i) { unmatched(c, "opcode " $9); next }
	if (cmd[i] == "STAT" && $13 == 0 && $11 != "") next # one stat; an empty key ends them
	finish(i, status(i, $13 == 0 ? "ok" : $13 == 1 ? "notfound" : $13 == 5 ? "notstored" : "error"), $2)
	next
}
# text VALUE lines (tshark shows their keys; see limitation 1 for the tail)
$11 != "" && $12 == "" && $10 == "" {
	nv = split($11, vk, " ")
	for (v = 1; v <= nv; v++) value(c, vk[v])
	if ($16 == 5) { if (og[c]) finish(og[c], "miss", $2) }
	else if ($16 != 0) unmatched(c, "VALUE PDU with tail " $16)
	next
}
$12 == "END" && og[c] { finish(og[c], "miss", $2); next }
{
	if (og[c]) { unmatched(c, "before the END of a get"); finish(og[c], "?no END", "") }
	i = answer(c, 0)
	if (!i) { unmatched(c, $10 $12); next }
	if ($10 ~ /^STAT( STAT)*$/ && $12 == "") finish(i, "ok", $2)
	else if ($12 == "END") finish(i, isget(cmd[i]) ? "miss" : "ok", $2)
	else if ($12 != "") finish(i, status(i, textword($12)), $2)
	else finish(i, "?reply not decoded by tshark", $2)
}
END { for (i = 1; i <= n; i++) if (!done[i]) finish(i, "unanswered", "") }
EOF

# ---- DeepFlow's .result -> "CMD key status" per request, in order -----------------------
read -r -d '' DEEPFLOW_AWK <<'EOF'
function between(s, a, b,   i) {
	i = index(s, a); if (!i) return ""
	s = substr(s, i + length(a)); i = index(s, b)
	return i ? substr(s, 1, i - 1) : s
}
function push(c, k) { nq++; qc[nq] = c; qk[nq] = k }
/^MemcachedInfo .*msg_type: Request/ {
	nw = split(between($0, "request: ", " req_size:"), w, " ")
	if (tolower(w[1]) ~ /^(get|gets|gat|gats)$/ && nw > 2) { print "? multi-key get"; next }
	push(toupper(w[1]), nw > 1 ? w[2] : "-")
	next
}
/^MemcachedInfo .*msg_type: Response/ {
	split(between($0, "result: ", " err_msg:"), r, " ")
	while (head < nq && (head + 1) in noreply) head++
	if (head >= nq) { print "? response without request"; next }
	head++
	st = r[1] == "VALUE" ? (r[2] == qk[head] ? "hit" : "?VALUE " r[2]) : r[1] == "END" ? "miss" \
		: r[1] ~ /^(STORED|DELETED|TOUCHED|[0-9]+)$/ ? "ok" : r[1] == "NOT_FOUND" ? "miss" : "error"
	qs[head] = st
	next
}
# DeepFlow does not know quit (a valid command, answered by closing the connection)
/^parse failed .*Unhandled command `quit`/ { push("QUIT", "-"); noreply[nq] = 1; next }
END {
	for (i = 1; i <= nq; i++)
		print qc[i] "\t" qk[i] "\t" ((i in noreply) ? "noreply" : (i in qs) ? qs[i] : "unanswered")
}
EOF

read_ref() { # the checked-in reference, plain or gzipped, without its header
	if [ -f "$1.gz" ]; then gzip -dc "$1.gz"; else cat "$1"; fi | grep -v '^#'
	[ "${PIPESTATUS[0]}" = 0 ]
}

# UPDATE=1: tshark's PDU lines for one capture (TCP as dissected; UDP per limitation 3).
gen_tshark() { # CAPTURE OUT
	local f=$1 out=$2 fr tm s4 s6 d4 d6 sp dp pl total sq
	tshark -n -r "$f" -Y 'memcache && tcp' -T pdml -J 'frame ip ipv6 tcp udp memcache' \
		2> "$tmp/tshark.err" | awk "$PDML_AWK" > "$tmp/pdus" || return 1
	tshark -n -r "$f" -Y "udp.port == $port && udp.length > 16" -T fields -E separator='|' \
		-e frame.number -e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
		-e udp.srcport -e udp.dstport -e udp.payload 2>> "$tmp/tshark.err" > "$tmp/udp" || return 1
	while IFS='|' read -r fr tm s4 s6 d4 d6 sp dp pl; do
		sq=$((16#${pl:4:4})); total=$((16#${pl:8:4}))
		if [ "$sq" != 0 ] || [ "$total" != 1 ]; then
			echo "frame $fr: UDP message of $total datagrams: not supported" >&2; return 1
		fi
		sed 's/../& /g; s/^/000000 /' <<< "${pl:16}" > "$tmp/body.hex"
		if [ -n "$s4" ]; then ipo=(-4 "$s4,$d4"); else ipo=(-6 "$s6,$d6"); fi
		text2pcap -q "${ipo[@]}" -u "$sp,$dp" "$tmp/body.hex" "$tmp/body.pcap" > /dev/null 2>&1 || return 1
		tshark -n -r "$tmp/body.pcap" -Y memcache -T pdml -J 'frame ip ipv6 tcp udp memcache' \
			2>> "$tmp/tshark.err" | awk -v frame="$fr" -v time="$tm" "$PDML_AWK" >> "$tmp/pdus" || return 1
	done < "$tmp/udp"
	{
		echo "# $(tshark --version 2>/dev/null | head -n 1)"
		echo "# memcache PDUs of captures/public/${f#"$top/captures/public/"}, one per line, made by"
		echo "# tests/golden/memcached_tshark.t with UPDATE=1 (tshark -T pdml; UDP: each datagram's"
		echo "# body after the frame header, see limitation 3 there). Columns: frame, time, l4,"
		echo "# stream, src > dst, payload length, pos+size, magic, opcode, commands, keys,"
		echo "# responses, status, opaque, noreply, tail."
		sort -t $'\t' -k1,1n -s "$tmp/pdus"
	} > "$out"
}

if [ -n "${UPDATE:-}" ]; then
	for need in tshark text2pcap; do
		command -v "$need" > /dev/null || { echo "# UPDATE=1 needs $need" >&2; exit 1; }
	done
fi

for cap in "${caps[@]}"; do
	name=${cap//\//__}
	ref=$dir/$name.tshark
	fix=$dir/$name.fix
	if [ -n "${UPDATE:-}" ]; then
		mkdir -p "$dir"
		gen_tshark "$top/captures/public/$cap" "$tmp/new" || { echo "# UPDATE failed for $cap" >&2; cat "$tmp/tshark.err" >&2; exit 1; }
		rm -f "$ref" "$ref.gz"
		if [ "$(wc -c < "$tmp/new")" -gt 262144 ]; then gzip -9n -c "$tmp/new" > "$ref.gz"; else cp "$tmp/new" "$ref"; fi
	fi

	# 1. replay
	db=$tmp/t.db
	rm -f "$db" "$db-wal" "$db-shm"
	timeout 120 "$bin" replay -q -w "$db" "$top/captures/public/$cap" 2> "$tmp/diag"
	rc=$?
	stats=$(sqlite3 -separator ' ' "$db" "SELECT parse_errors, unmatched_replies, reassembly_gaps FROM capture_stats" 2>> "$tmp/diag")
	[ "$stats" = "0 0 0" ] || echo "parse_errors unmatched_replies gaps: $stats" >> "$tmp/diag"
	t "$([ $rc -eq 0 ] && [ "$stats" = "0 0 0" ] && echo 1 || echo 0)" \
		"$cap: replays (exit $rc), no parse errors, unmatched replies or gaps"

	# 2. timeline vs corrected tshark reference
	sqlite3 -separator $'\t' "$db" "
		SELECT client || ' > ' || server, cmd, coalesce(key, '-'), status, ts_ns,
		       coalesce(latency_ns, '-')
		FROM timeline WHERE proto = 'memcached' ORDER BY 1, stream_off, event_id" \
		> "$tmp/got" 2>> "$tmp/diag"
	[ -f "$fix" ] || fix=/dev/null
	ncorr=$(grep -c '^[-+]' "$fix")
	read_ref "$ref" > "$tmp/pdus" 2>> "$tmp/diag" || echo "missing $ref (UPDATE=1 makes it)" >> "$tmp/diag"
	awk -v fix="$fix" "$FIX_AWK" "$tmp/pdus" > "$tmp/fixed" 2>> "$tmp/diag"
	fixrc=$?
	sort -t $'\t' -k1,1n -k2,2n -k3,3n "$tmp/fixed" | cut -f4- |
		awk -v port="$port" "$DERIVE_AWK" | sort -t $'\t' -k1,1 -k2,2 -k3,3 | cut -f1,4- > "$tmp/want"
	diff -u --label "tshark (corrected by $ncorr .fix lines)" --label cachetap "$tmp/want" "$tmp/got" >> "$tmp/diag"
	rc=$?
	t "$([ $rc -eq 0 ] && [ $fixrc -eq 0 ] && [ -s "$tmp/pdus" ] && echo 1 || echo 0)" \
		"$cap: $(wc -l < "$tmp/got") timeline rows equal tshark's decode ($ncorr .fix lines)"

	case $cap in
	deepflow/memcached-userdata.pcap | deepflow/memcached.pcap)
		res=$top/captures/public/${cap%.pcap}.result
		awk "$DEEPFLOW_AWK" "$res" > "$tmp/df"
		cut -f2,3,4 "$tmp/got" > "$tmp/ours"
		diff -u --label "DeepFlow ${res##*/}" --label cachetap "$tmp/df" "$tmp/ours" > "$tmp/diag"
		rc=$?
		t "$([ $rc -eq 0 ] && echo 1 || echo 0)" \
			"$cap: each request's command, key and outcome equal DeepFlow's ($(wc -l < "$tmp/df") requests)"
		if [ "$cap" = deepflow/memcached-userdata.pcap ]; then
			# totals as DeepFlow reports them: requests per command, and response kinds
			awk '/msg_type: Request/ { split($0, a, "request: "); split(a[2], w, " "); req[toupper(w[1])]++; nreq++ }
			     /msg_type: Response/ { split($0, a, "result: "); split(a[2], w, " "); res[w[1]]++; nres++ }
			     END { for (c in req) print c, req[c]
			           print "hit", res["VALUE"] + 0; print "miss", res["END"] + 0
			           print "ok", res["STORED"] + 0; print "unanswered", nreq - nres }' "$res" | sort > "$tmp/df"
			sqlite3 -separator ' ' "$db" "
				SELECT cmd, count(*) FROM timeline GROUP BY cmd
				UNION ALL SELECT s, (SELECT count(*) FROM timeline WHERE status = s)
				FROM (SELECT 'hit' AS s UNION SELECT 'miss' UNION SELECT 'ok' UNION SELECT 'unanswered')" \
				| sort > "$tmp/ours"
			diff -u --label "DeepFlow totals" --label cachetap "$tmp/df" "$tmp/ours" > "$tmp/diag"
			rc=$?
			t "$([ $rc -eq 0 ] && echo 1 || echo 0)" "$cap: totals equal DeepFlow's: $(tr '\n' ' ' < "$tmp/ours")"
		fi
		;;
	ndpi/memcached.cap)
		# nDPI's flow line: "TCP A:p <-> B:q [proto: 40/Memcached]...[6 pkts/411 bytes <-> 4 pkts/1300 bytes]"
		want=$(sed -n 's/^\t[0-9]*\tTCP \([^ ]*\) <-> \([^ ]*\) \[proto: [0-9.]*\/Memcached\].*\[\([0-9]*\) pkts\/[0-9]* bytes <-> \([0-9]*\) pkts\/.*/\1 \2 memcached \3 \4/p' \
			"$top/captures/public/ndpi/memcached.cap.out")
		got=$(sqlite3 -separator ' ' "$db" "SELECT client, server, app, pkts_c2s, pkts_s2c FROM connections")
		{ echo "nDPI:     $want"; echo "cachetap: $got"; } > "$tmp/diag"
		t "$([ -n "$want" ] && [ "$want" = "$got" ] && echo 1 || echo 0)" \
			"$cap: our one connection is the flow nDPI classifies as Memcached ($want)"
		;;
	esac
done
