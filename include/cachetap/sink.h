/* The event model and where it goes.
 *
 * A sink receives what the pipeline learns — connection records, events, drop samples, run
 * totals —
 * as plain structs, and stores or exports them. store.c (SQLite) is the sink cachetap ships;
 * another sink (an exporter to a distributed engine, say) is a new file implementing
 * struct ct_sink_ops, not a change to the pipeline. Sinks never parse bytes. */
#ifndef CACHETAP_SINK_H
#define CACHETAP_SINK_H

#include <stdint.h>

#include "cachetap/common.h"
#include "cachetap/event.h"

/* One finished connection (written when it leaves the flow table). */
struct ct_conn_rec {
	uint64_t id;
	const char *proto;     /* "tcp" or "udp" */
	const char *client;    /* "ip:port" / "[v6]:port" */
	const char *server;
	const char *orient;    /* "syn", "port", "guess", "decoder" */
	const char *app;       /* "redis", "memcached", "http", or NULL when undecided */
	const char *close_reason; /* "fin", "rst", "idle", "evict", "reuse", "end" */
	uint64_t first_ts_ns, last_ts_ns;
	uint64_t pkts[2];          /* [0] client->server, [1] server->client */
	uint64_t payload_bytes[2]; /* as IP declares, retransmissions included */
	uint64_t delivered_bytes[2]; /* unique stream bytes delivered in order */
	uint64_t gaps[2], gap_bytes[2];
	uint64_t dup_bytes[2], conflict_bytes[2];
	int midstream;
};

/* A named node: from --node, or inferred from the traffic (REPLCONF listening-port). */
struct ct_node_rec {
	const char *name;
	const char *endpoint; /* "ip:port" / "[v6]:port" */
	const char *role;     /* "primary", "replica", "memcached", "app", or NULL */
	const char *source;   /* "option" or "replconf" */
	uint64_t conn_id;     /* the connection that named it (0 for --node): that side of the
				 connection is this node (node_links, timeline.recipient) */
	int client_side;      /* with conn_id: the connection's client (1) or server (0) side */
};

/* Kernel/interface drop counters sampled during a live capture. */
struct ct_drop_sample {
	uint64_t ts_ns; /* wall clock, CLOCK_REALTIME */
	uint64_t kernel_recv, kernel_drops, iface_drops;
};

/* Totals for the run (SPEC section 5, capture_stats). */
struct ct_run_stats {
	uint64_t packets, bytes;           /* frames read and their captured bytes */
	uint64_t kernel_drops, iface_drops;
	uint64_t connections;
	uint64_t gaps, gap_bytes;          /* reassembly gaps over all streams */
	uint64_t parse_errors, resyncs, unmatched_replies;
	uint64_t not_ip, fragments, other_l4, truncated_frames, malformed_frames, bad_linktype;
	uint64_t dup_bytes, conflict_bytes, evicted, truncated_files, read_errors;
	uint64_t events;
	uint64_t unanswered;       /* requests whose reply never came */
	uint64_t pending_overflow; /* requests not paired because a pairing cap was hit */
	uint64_t alloc_failures;   /* connections or decoders lost to failed allocations */
	uint64_t truncated_fields; /* decoded fields cut to their limit (HTTP path, request id) */
	uint64_t started_ns, ended_ns;     /* wall clock */
	uint64_t first_ts_ns, last_ts_ns;  /* capture clock */
};

struct ct_sink;

struct ct_sink_ops {
	int (*meta)(struct ct_sink *s, const char *key, const char *value);
	/* A connection: called when it opens (counters still zero) and again when it leaves the
	 * flow table with final counters; the second call replaces the first. */
	int (*conn)(struct ct_sink *s, const struct ct_conn_rec *c);
	int (*event)(struct ct_sink *s, const struct ct_event *e);
	/* A node; the first record for an endpoint wins (options are written first). */
	int (*node)(struct ct_sink *s, const struct ct_node_rec *n);
	int (*drops)(struct ct_sink *s, const struct ct_drop_sample *d);
	int (*run_stats)(struct ct_sink *s, const struct ct_run_stats *r);
	int (*commit)(struct ct_sink *s);  /* make everything so far durable */
	void (*close)(struct ct_sink *s);  /* commits, then frees; NULL-safe via ct_sink_close */
	/* An HTTP API call seen on the wire (api_calls, source 'wire'); may be NULL. */
	int (*api_call)(struct ct_sink *s, const struct ct_api_call *a);
};

struct ct_sink {
	const struct ct_sink_ops *ops;
	uint64_t rows;      /* rows written */
	uint64_t errors;    /* failed writes (counted, logged once) */
};

static inline void ct_sink_close(struct ct_sink *s)
{
	if (s)
		s->ops->close(s);
}

#endif
