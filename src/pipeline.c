/* The pipeline: pulls frames from a source, decodes them to TCP/UDP packets, feeds the flow
 * table, hands reassembled bytes to the protocol layer, and writes what it learns to the sink.
 * It keeps the run's counters and prints progress and the closing summary line.
 *
 * Live sources are sampled for kernel and interface drops every CT_CAPTURE_STATS_PERIOD_NS of
 * wall time and at the end. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cachetap/detect.h"
#include "cachetap/limits.h"
#include "cachetap/net.h"
#include "cachetap/pipeline.h"
#include "cachetap/proto.h"

/* The protocol modules, tried in order for each new connection: the first whose server port
 * matches decodes it (HTTP over TCP only). */
struct module {
	unsigned decode_bit;
	size_t ports_offset; /* offsetof(struct ct_pipeline_opts, ..._ports) */
	const struct ct_proto_ops *ops;
};

static const struct module modules[] = {
	{ CT_DECODE_REDIS, offsetof(struct ct_pipeline_opts, redis_ports), &ct_proto_redis },
	{ CT_DECODE_MEMCACHED, offsetof(struct ct_pipeline_opts, memcached_ports),
	  &ct_proto_memcached },
	{ CT_DECODE_HTTP, offsetof(struct ct_pipeline_opts, http_ports), &ct_proto_http },
};

struct ct_pipeline {
	struct ct_pipeline_opts o;
	struct ct_sink *sink;
	struct ct_flow *flow;
	struct ct_net_stats net;
	struct ct_source_stats src;
	struct ct_run_stats run;
	struct ct_proto_config cfg;
	struct ct_emit emit;
	struct ct_proto_stats pstats[CT_ARRAY_LEN(modules)];
	struct ct_conn *swap_conn; /* detection found it upside down: swap after this packet */
	struct ct_conn *cur;       /* the connection whose module is running (for node hints) */
	int live;
};

/* Payload detection state (ct_conn.app_detect): 0 not detecting, 1..CT_DETECT_MAX_CHUNKS
 * chunks looked at so far, DETECT_DONE given up or decided. */
#define DETECT_DONE 0xffu

static uint64_t clock_ns(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static const char *const orient_name[] = { "syn", "port", "guess", "decoder" };
static const char *const close_name[] = { "none", "fin", "rst", "idle", "evict", "reuse", "end" };

/* ---- flow callbacks ---- */

static const struct ct_proto_ops *conn_ops(const struct ct_conn *c)
{
	return c->app_ops;
}

/* Writes the connection's row: at open, and again with final counters at release. */
static void write_conn(struct ct_pipeline *p, const struct ct_conn *c)
{
	char cli[CT_ENDPOINT_STRLEN], srv[CT_ENDPOINT_STRLEN];
	ct_endpoint_str(&c->cli_ip, c->cli_port, cli, sizeof cli);
	ct_endpoint_str(&c->srv_ip, c->srv_port, srv, sizeof srv);
	struct ct_conn_rec r = {
		.id = c->id,
		.proto = c->l4 == CT_L4_TCP ? "tcp" : "udp",
		.client = cli,
		.server = srv,
		.orient = c->orient < CT_ARRAY_LEN(orient_name) ? orient_name[c->orient] : "?",
		.app = conn_ops(c) ? conn_ops(c)->name : NULL,
		.close_reason = c->close_reason < CT_ARRAY_LEN(close_name) ? close_name[c->close_reason]
									    : "?",
		.first_ts_ns = c->first_ts_ns,
		.last_ts_ns = c->last_ts_ns,
		.midstream = (c->r[0].flags | c->r[1].flags) & CT_REASM_F_MIDSTREAM ? 1 : 0,
	};
	for (int d = 0; d < 2; d++) {
		r.pkts[d] = c->pkts[d];
		r.payload_bytes[d] = c->payload_bytes[d];
		r.delivered_bytes[d] = c->r[d].c.bytes_delivered;
		r.gaps[d] = c->r[d].c.gaps;
		r.gap_bytes[d] = c->r[d].c.gap_bytes;
		r.dup_bytes[d] = c->r[d].c.dup_bytes;
		r.conflict_bytes[d] = c->r[d].c.conflict_bytes;
	}
	p->sink->ops->conn(p->sink, &r);
}

static void on_event(void *ctx, const struct ct_event *ev)
{
	struct ct_pipeline *p = ctx;
	p->run.events++;
	p->sink->ops->event(p->sink, ev);
}

/* An HTTP API call seen on the wire. */
static void on_api(void *ctx, const struct ct_api_call *a)
{
	struct ct_pipeline *p = ctx;
	if (p->sink->ops->api_call)
		p->sink->ops->api_call(p->sink, a);
}

/* A module named one side of the connection it is decoding: record that node. */
static void on_node(void *ctx, const struct ct_node_hint *h)
{
	struct ct_pipeline *p = ctx;
	const struct ct_conn *c = p->cur;
	if (!c || c->id != h->conn_id)
		return;
	char ep[CT_ENDPOINT_STRLEN];
	ct_endpoint_str(h->client_side ? &c->cli_ip : &c->srv_ip, h->port, ep, sizeof ep);
	struct ct_node_rec n = { ep, ep, h->role, "replconf", c->id, h->client_side };
	p->sink->ops->node(p->sink, &n);
}

/* Attaches protocol module i to a connection. */
static void attach(struct ct_pipeline *p, struct ct_conn *c, size_t i, int midstream)
{
	const struct module *m = &modules[i];
	struct ct_proto_open o = {
		.conn_id = c->id,
		.midstream = midstream,
		.cfg = &p->cfg,
		.emit = &p->emit,
		.stats = &p->pstats[i],
	};
	c->app = m->ops->open(&o);
	if (c->app)
		c->app_ops = m->ops;
	else
		p->pstats[i].alloc_fail++;
}

static void on_open(void *ctx, struct ct_conn *c)
{
	struct ct_pipeline *p = ctx;
	int detect = 0;
	for (size_t i = 0; i < CT_ARRAY_LEN(modules); i++) {
		const struct module *m = &modules[i];
		const uint8_t *ports = (const uint8_t *)&p->o + m->ports_offset;
		if (!(p->o.decode & m->decode_bit))
			continue;
		detect = 1;
		if (ct_portmap_has(ports, c->srv_port) &&
		    (c->l4 == CT_L4_TCP || m->decode_bit != CT_DECODE_HTTP)) {
			attach(p, c, i, c->l4 == CT_L4_TCP && c->orient != CT_ORIENT_SYN);
			detect = 0;
			break;
		}
	}
	/* Not a configured port: look at the payload (the HTTP ports are not ours to guess). */
	if (detect && !ct_portmap_has(p->o.http_ports, c->srv_port))
		c->app_detect = 1;
	write_conn(p, c);
}

/* Looks at a chunk of a connection on an unconfigured port; attaches the module it proves.
 * Returns the direction the chunk really travels in, or -1 when nothing was attached. */
static int detect(struct ct_pipeline *p, struct ct_conn *c, int dir, uint64_t off,
		  const uint8_t *d, uint32_t len)
{
	unsigned allow = 0;
	for (size_t i = 0; i < CT_ARRAY_LEN(modules); i++)
		if (p->o.decode & modules[i].decode_bit)
			allow |= 1u << modules[i].ops->proto;
	struct ct_detect r;
	/* A memcached UDP datagram starts with its 8-byte frame header. */
	size_t skip = c->l4 == CT_L4_UDP && len > 8 ? 8 : 0;
	if (ct_detect(d + skip, len - skip, allow, &r) != CT_DETECT_FOUND) {
		if (++c->app_detect > CT_DETECT_MAX_CHUNKS)
			c->app_detect = DETECT_DONE; /* connections.app stays NULL */
		return -1;
	}
	c->app_detect = DETECT_DONE;
	/* Decided on the very first byte of a stream whose SYN we saw: nothing was missed. */
	int midstream = c->l4 == CT_L4_TCP && (off != 0 || c->orient != CT_ORIENT_SYN);
	for (size_t i = 0; i < CT_ARRAY_LEN(modules); i++)
		if (modules[i].ops->proto == r.proto)
			attach(p, c, i, midstream);
	if (!c->app)
		return -1;
	int real = r.from_client ? CT_C2S : CT_S2C;
	/* A SYN settles who the client is; otherwise the payload does, after this packet. */
	if (real != dir && c->orient != CT_ORIENT_SYN && c->l4 == CT_L4_TCP) {
		p->swap_conn = c;
		return real;
	}
	return dir;
}

/* While a swap is pending, the flow table still labels directions the old way. */
static int real_dir(const struct ct_pipeline *p, const struct ct_conn *c, int dir)
{
	return c == p->swap_conn ? dir ^ 1 : dir;
}

static void on_data(void *ctx, struct ct_conn *c, int dir, uint64_t off, const uint8_t *d,
		    uint32_t len, uint64_t ts_ns)
{
	struct ct_pipeline *p = ctx;
	if (!c->app && c->app_detect && c->app_detect != DETECT_DONE) {
		if ((dir = detect(p, c, dir, off, d, len)) < 0)
			return;
	} else {
		dir = real_dir(p, c, dir);
	}
	if (c->app) {
		p->cur = c;
		conn_ops(c)->data(c->app, dir, off, d, len, ts_ns);
		p->cur = NULL;
	}
}

static void on_gap(void *ctx, struct ct_conn *c, int dir, uint64_t off, uint64_t len,
		   uint64_t ts_ns)
{
	struct ct_pipeline *p = ctx;
	if (c->app)
		conn_ops(c)->gap(c->app, real_dir(p, c, dir), off, len, ts_ns);
}

static void on_datagram(void *ctx, struct ct_conn *c, int dir, const uint8_t *d, uint32_t len,
			uint32_t wirelen, uint64_t ts_ns)
{
	struct ct_pipeline *p = ctx;
	CT_UNUSED(wirelen); /* a cut datagram is decoded as far as it goes */
	if (!c->app && c->app_detect && c->app_detect != DETECT_DONE &&
	    (dir = detect(p, c, dir, 0, d, len)) < 0)
		return;
	if (c->app && conn_ops(c)->datagram)
		conn_ops(c)->datagram(c->app, dir, d, len, ts_ns);
}

static void on_close(void *ctx, struct ct_conn *c)
{
	struct ct_pipeline *p = ctx;
	if (c == p->swap_conn)
		p->swap_conn = NULL;
	if (c->app)
		conn_ops(c)->close(c->app, c->last_ts_ns);
	c->app = NULL;
}

static void on_release(void *ctx, struct ct_conn *c)
{
	write_conn(ctx, c);
}

static const struct ct_flow_cb flow_cb = {
	.open = on_open,
	.data = on_data,
	.gap = on_gap,
	.datagram = on_datagram,
	.close = on_close,
	.release = on_release,
};

/* ---- run ---- */

static void sample_drops(struct ct_pipeline *p, struct ct_source *src)
{
	ct_source_stats(src, &p->src);
	struct ct_drop_sample d = {
		.ts_ns = clock_ns(CLOCK_REALTIME),
		.kernel_recv = p->src.kernel_recv,
		.kernel_drops = p->src.kernel_drops,
		.iface_drops = p->src.iface_drops,
	};
	p->sink->ops->drops(p->sink, &d);
}

static void progress(const struct ct_pipeline *p, uint64_t started)
{
	double secs = (double)(clock_ns(CLOCK_MONOTONIC) - started) / 1e9;
	fprintf(stderr, "\r%s: %" PRIu64 " packets, %.1f MB, %" PRIu64 " connections, %.0f s ",
		p->o.command ? p->o.command : "cachetap", p->run.packets, (double)p->run.bytes / 1e6,
		ct_flow_stats(p->flow)->conns, secs);
}

/* Folds the module counters into the run totals. */
static void collect(struct ct_pipeline *p)
{
	struct ct_run_stats *r = &p->run;
	const struct ct_flow_stats *fs = ct_flow_stats(p->flow);
	const struct ct_reasm_shared *rs = ct_flow_reasm_stats(p->flow);
	r->kernel_drops = p->src.kernel_drops;
	r->iface_drops = p->src.iface_drops;
	r->truncated_files = p->src.truncated_files;
	r->read_errors = p->src.read_errors;
	r->connections = fs->conns;
	r->evicted = fs->evicted;
	r->gaps = rs->c.gaps;
	r->gap_bytes = rs->c.gap_bytes;
	r->dup_bytes = rs->c.dup_bytes;
	r->conflict_bytes = rs->c.conflict_bytes;
	r->not_ip = p->net.by_result[CT_NET_NOT_IP];
	r->fragments = p->net.by_result[CT_NET_FRAGMENT];
	r->other_l4 = p->net.by_result[CT_NET_OTHER_L4];
	r->truncated_frames = p->net.by_result[CT_NET_TRUNCATED];
	r->malformed_frames = p->net.by_result[CT_NET_MALFORMED];
	r->bad_linktype = p->net.by_result[CT_NET_LINKTYPE];
	r->parse_errors = r->resyncs = r->unmatched_replies = 0;
	r->unanswered = r->pending_overflow = r->truncated_fields = 0;
	r->alloc_failures = fs->alloc_fail;
	for (size_t i = 0; i < CT_ARRAY_LEN(modules); i++) {
		r->parse_errors += p->pstats[i].parse_errors;
		r->resyncs += p->pstats[i].resyncs;
		r->unmatched_replies += p->pstats[i].unmatched_replies;
		r->unanswered += p->pstats[i].unanswered;
		r->pending_overflow += p->pstats[i].pending_overflow;
		r->alloc_failures += p->pstats[i].alloc_fail;
		r->truncated_fields += p->pstats[i].truncated;
	}
}

int ct_pipeline_run(struct ct_pipeline *p, struct ct_source *src, atomic_int *stop)
{
	struct ct_frame f;
	struct ct_pkt pkt;
	int rc = 0;
	uint64_t started = clock_ns(CLOCK_MONOTONIC);
	uint64_t next_tick = started + CT_CAPTURE_STATS_PERIOD_NS;
	int show = p->o.progress && isatty(STDERR_FILENO);

	p->live = strncmp(ct_source_describe(src), "live:", 5) == 0;
	p->run.started_ns = clock_ns(CLOCK_REALTIME);
	p->sink->ops->meta(p->sink, "source", ct_source_describe(src));

	while (!(stop && *stop)) {
		rc = ct_source_next(src, &f);
		if (rc == 1) {
			p->run.packets++;
			p->run.bytes += f.caplen;
			if (!p->run.first_ts_ns || f.ts_ns < p->run.first_ts_ns)
				p->run.first_ts_ns = f.ts_ns;
			if (f.ts_ns > p->run.last_ts_ns)
				p->run.last_ts_ns = f.ts_ns;
			if (ct_net_decode(f.dlt, f.ts_ns, f.data, f.caplen, f.wirelen, &pkt, &p->net) ==
			    CT_NET_OK) {
				(void)ct_flow_packet(p->flow, &pkt); /* failures are counted inside */
				if (p->swap_conn) {
					ct_flow_swap(p->flow, p->swap_conn);
					p->swap_conn = NULL;
				}
			}
			/* Checking the clock on every frame would cost more than the frame. */
			if ((p->run.packets & 0x3ff) != 0)
				continue;
		} else if (rc == 0 || rc < 0) {
			break;
		}
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		if (p->o.duration_ns && now - started >= p->o.duration_ns)
			break;
		if (now >= next_tick) {
			next_tick = now + CT_CAPTURE_STATS_PERIOD_NS;
			if (p->live) {
				sample_drops(p, src);
				/* A quiet capture must not hold its last batch (and the write lock)
				 * open: a report on the live database reads and writes it too. */
				p->sink->ops->commit(p->sink);
			}
			if (show)
				progress(p, started);
		}
	}
	if (show)
		fputc('\n', stderr);
	if (rc < 0)
		fprintf(stderr, "cachetap: %s: read error: %s\n", ct_source_describe(src),
			ct_strerror(rc));
	/* Stopped by a signal: make what was decoded durable before finishing the connections,
	 * so that a second signal (an immediate exit) loses at most the finishing step. */
	if (stop && *stop)
		p->sink->ops->commit(p->sink);
	ct_flow_finish(p->flow);
	if (p->live)
		sample_drops(p, src);
	else
		ct_source_stats(src, &p->src);
	collect(p);
	p->run.ended_ns = clock_ns(CLOCK_REALTIME);
	p->sink->ops->run_stats(p->sink, &p->run);
	p->sink->ops->commit(p->sink);
	return rc < 0 ? rc : 0;
}

void ct_pipeline_summary(const struct ct_pipeline *p, FILE *out)
{
	const struct ct_run_stats *r = &p->run;
	/* Everything that lost data or could not be decoded; the run_stats table breaks it down. */
	uint64_t errors = r->parse_errors + r->malformed_frames + r->truncated_frames +
			  r->read_errors + r->truncated_files + r->pending_overflow +
			  r->alloc_failures + p->sink->errors;
	fprintf(out,
		"cachetap %s: packets=%" PRIu64 " bytes=%" PRIu64 " connections=%" PRIu64
		" events=%" PRIu64 " gaps=%" PRIu64 " drops=%" PRIu64 " errors=%" PRIu64 "\n",
		p->o.command ? p->o.command : "run", r->packets, r->bytes, r->connections, r->events,
		r->gaps, r->kernel_drops + r->iface_drops, errors);
}

struct ct_pipeline *ct_pipeline_new(const struct ct_pipeline_opts *o, struct ct_sink *sink)
{
	struct ct_pipeline *p = ct_calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->o = *o;
	p->sink = sink;
	p->cfg.values = o->values;
	p->cfg.channels = o->channels;
	p->cfg.nchannels = o->nchannels;
	p->emit.event = on_event;
	p->emit.node = on_node;
	p->emit.api = on_api;
	p->emit.ctx = p;

	/* Every configured protocol port is a server port for orientation. */
	struct ct_flow_opts fo;
	memset(&fo, 0, sizeof fo);
	uint8_t servers[CT_PORTMAP_BYTES];
	for (size_t i = 0; i < CT_PORTMAP_BYTES; i++)
		servers[i] = (uint8_t)(o->redis_ports[i] | o->memcached_ports[i] | o->http_ports[i]);
	fo.server_ports = servers;
	p->flow = ct_flow_new(&fo, &flow_cb, p);
	if (!p->flow) {
		ct_free(p);
		return NULL;
	}
	return p;
}

void ct_pipeline_free(struct ct_pipeline *p)
{
	if (!p)
		return;
	ct_flow_free(p->flow);
	ct_free(p);
}
