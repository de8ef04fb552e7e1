/* Fuzz target: the whole pipeline (src/pipeline.c) from a pcap or pcapng file given as bytes:
 * libpcap's reader (src/capture_pcap.c), link/IP/TCP/UDP decoding, the flow table and
 * reassembly, payload detection, the Redis and memcached modules, down to a sink.
 *
 * Input: the file itself, unchanged, so any capture is a seed. It is written to a memfd and
 * opened through /proc/self/fd/N, as `cachetap replay` would open it. Redis is decoded on port
 * 6379, memcached on 11211, any other port by payload detection.
 *
 * The sink is implemented here and counts: writing SQLite rows would make each run a hundred
 * times slower and the store is not what is fuzzed (tests/golden/hostile.t runs the real
 * store on hostile captures). Checked: every record's strings and key bytes are readable and
 * its enums in range; each connection is written once when it opens and once when it leaves;
 * no direction delivers more bytes than its packets carried; the run totals agree with what
 * the sink received. */
#include <sys/mman.h>
#include <unistd.h>

#include "cachetap/capture.h"
#include "cachetap/pipeline.h"
#include "cachetap/proto.h"
#include "fuzz.h"

struct count_sink {
	struct ct_sink base;
	uint64_t conn_calls, events, nodes, run_stats_calls, run_events, run_conns;
};

static void touch_str(const char *s)
{
	if (s)
		fz_touch(s, strlen(s));
}

static int s_meta(struct ct_sink *s, const char *key, const char *value)
{
	CT_UNUSED(s);
	FZ_CHECK(key != NULL && value != NULL, "meta without key or value");
	touch_str(key);
	touch_str(value);
	return 0;
}

static int s_conn(struct ct_sink *s, const struct ct_conn_rec *c)
{
	struct count_sink *k = (struct count_sink *)s;
	k->conn_calls++;
	FZ_CHECK(c->proto && c->client && c->server && c->orient && c->close_reason,
		 "connection record with a NULL string");
	touch_str(c->proto);
	touch_str(c->client);
	touch_str(c->server);
	touch_str(c->orient);
	touch_str(c->app);
	touch_str(c->close_reason);
	FZ_CHECK(c->id >= 1, "connection id 0");
	for (int d = 0; d < 2; d++)
		FZ_CHECK(c->delivered_bytes[d] <= c->payload_bytes[d],
			 "connection %" PRIu64 " dir %d: %" PRIu64 " bytes delivered, %" PRIu64
			 " carried", c->id, d, c->delivered_bytes[d], c->payload_bytes[d]);
	return 0;
}

static int s_event(struct ct_sink *s, const struct ct_event *e)
{
	struct count_sink *k = (struct count_sink *)s;
	k->events++;
	FZ_CHECK(e->cls < CT_CLASS_COUNT && e->status < CT_STATUS_COUNT && e->via < CT_VIA_COUNT,
		 "event enums out of range");
	FZ_CHECK(e->proto == CT_PROTO_REDIS || e->proto == CT_PROTO_MEMCACHED, "event proto %u",
		 e->proto);
	FZ_CHECK(e->cmd != NULL, "event without a command");
	FZ_CHECK(e->conn_id >= 1, "event of connection 0");
	fz_touch(e->cmd, e->cmd_len);
	if (e->flags & CT_EV_HAS_KEY)
		fz_touch(e->key, e->key_len);
	touch_str(e->detail);
	return 0;
}

static int s_node(struct ct_sink *s, const struct ct_node_rec *n)
{
	struct count_sink *k = (struct count_sink *)s;
	k->nodes++;
	FZ_CHECK(n->name && n->endpoint && n->source, "node record with a NULL string");
	touch_str(n->name);
	touch_str(n->endpoint);
	touch_str(n->role);
	touch_str(n->source);
	return 0;
}

static int s_drops(struct ct_sink *s, const struct ct_drop_sample *d)
{
	CT_UNUSED(s);
	CT_UNUSED(d);
	return 0;
}

static int s_run_stats(struct ct_sink *s, const struct ct_run_stats *r)
{
	struct count_sink *k = (struct count_sink *)s;
	k->run_stats_calls++;
	k->run_events = r->events;
	k->run_conns = r->connections;
	return 0;
}

static int s_commit(struct ct_sink *s)
{
	CT_UNUSED(s);
	return 0;
}

static void s_close(struct ct_sink *s)
{
	CT_UNUSED(s);
}

static const struct ct_sink_ops count_ops = {
	.meta = s_meta,
	.conn = s_conn,
	.event = s_event,
	.node = s_node,
	.drops = s_drops,
	.run_stats = s_run_stats,
	.commit = s_commit,
	.close = s_close,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_pipeline", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	char path[64], err[512];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	const char *paths[1] = { path };
	struct ct_source *src = NULL;
	if (ct_source_open_files(&src, paths, 1, NULL, err, sizeof err) != 0) {
		close(fd);
		return 0; /* not a capture libpcap can open: nothing more to run */
	}
	struct ct_pipeline_opts o;
	memset(&o, 0, sizeof o);
	ct_portmap_set(o.redis_ports, 6379);
	ct_portmap_set(o.memcached_ports, 11211);
	o.decode = CT_DECODE_ALL;
	o.values = CT_VALUES_HASH;
	o.command = "fuzz";
	struct count_sink sink;
	memset(&sink, 0, sizeof sink);
	sink.base.ops = &count_ops;
	struct ct_pipeline *p = ct_pipeline_new(&o, &sink.base);
	if (p) {
		int rc = ct_pipeline_run(p, src, NULL);
		FZ_CHECK(rc == 0 || rc < 0, "run returned %d", rc);
		FZ_CHECK(sink.run_stats_calls == 1, "run totals written %" PRIu64 " times",
			 sink.run_stats_calls);
		FZ_CHECK(sink.run_events == sink.events, "run says %" PRIu64 " events, sink got %" PRIu64,
			 sink.run_events, sink.events);
		FZ_CHECK(sink.conn_calls == 2 * sink.run_conns,
			 "%" PRIu64 " connection records for %" PRIu64 " connections", sink.conn_calls,
			 sink.run_conns);
		ct_pipeline_free(p);
	}
	ct_source_close(src);
	close(fd);
	return 0;
}
