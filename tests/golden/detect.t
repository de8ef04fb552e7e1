#!/usr/bin/env bash
# Golden test of payload detection: connections on ports nobody configured are recognised by
# their bytes, and decoded as fully as on a configured port. Port 1 is given to --redis and
# --memcached so that no capture's real port is configured.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CT_BIN:-$top/build/cachetap}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
t() { n=$((n + 1)); if [ "$1" = 1 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
q() { sqlite3 "$tmp/d.db" "$1"; }
run() { rm -f "$tmp/d.db"; "$bin" replay -q "$@" -w "$tmp/d.db" 2> "$tmp/err" || sed 's/^/# /' "$tmp/err"; }
echo "1..10"

# Configured or detected, a capture must give the same events.
same() { # CAPTURE PORTOPT
	run "$2" "$top/$1"
	q "SELECT cmd, class, key, status, latency_ns FROM timeline ORDER BY conn_id, stream_off, event_id" > "$tmp/port"
	run --redis 1 --memcached 1 "$top/$1"
	q "SELECT cmd, class, key, status, latency_ns FROM timeline ORDER BY conn_id, stream_off, event_id" > "$tmp/detect"
	local rows; rows=$(wc -l < "$tmp/port")
	if [ "$rows" -gt 0 ] && diff -u "$tmp/port" "$tmp/detect" > "$tmp/diff"; then
		t 1 "$1: detected on an unconfigured port, the same $rows events as configured"
	else
		t 0 "$1: detected on an unconfigured port, the same events as configured ($rows)"
		sed 's/^/#   /' "$tmp/diff" | head -20
	fi
}

# Redis on 10625 (a cloud Redis; Zeek's redis.log has 152 SET and 6 GET).
run --redis 1 --memcached 1 "$top/captures/public/zeek/django-cloud.pcapng"
t "$(q "SELECT count(*) = 158 AND sum(cmd = 'SET') = 152 AND sum(cmd = 'GET') = 6 FROM timeline")" \
	"django-cloud on port 10625: 152 SET and 6 GET, as Zeek logs them"
t "$(q "SELECT count(*) = 1 FROM connections WHERE app = 'redis'")" "django-cloud: the connection is marked redis"
same captures/public/zeek/django-cloud.pcapng "--redis=10625"
same captures/public/packetbeat/redis_session.pcap "--redis=6380"
same captures/public/zeek/pubsub.pcap "--redis=6379"
same captures/public/packetbeat/memcache_text_tcp_multi_store_load.pcap "--memcached=11211"
same captures/public/packetbeat/memcache_bin_tcp_multi_store_load.pcap "--memcached=11211"
same captures/public/packetbeat/memcache_text_udp_single_store.pcap "--memcached=11211"

# Not ours: Redis over TLS on 6379 must give no event at all (Zeek asserts no redis.log).
run "$top/captures/public/zeek-history/tls.pcap"
t "$(q "SELECT count(*) = 0 FROM events")" "TLS on the Redis port gives no events"
# HTTP-looking fuzz garbage on port 80 is neither protocol.
run --redis 1 --memcached 1 "$top/captures/public/zeek/oss-fuzz-473580107.pcap"
t "$(q "SELECT count(*) = 0 FROM connections WHERE app IN ('redis', 'memcached')")" "fuzz garbage on port 80 is not taken for Redis or memcached"
