/* Protocol modules: per-connection request/reply pairing and classification.
 *
 * A protocol module owns the decoders of one connection (client and server side), pairs
 * requests with replies, classifies what they mean for invalidation (SPEC section 3) and emits
 * struct ct_event rows. The pipeline picks a module per connection (by port, or by payload
 * detection) and calls it through struct ct_proto_ops; a new protocol is a new file. Modules
 * never touch SQLite. */
#ifndef CACHETAP_PROTO_H
#define CACHETAP_PROTO_H

#include <stdint.h>

#include "cachetap/common.h"
#include "cachetap/event.h"

enum { CT_VALUES_NONE = 0, CT_VALUES_HASH = 1, CT_VALUES_FULL = 2 };

/* Counters shared by all connections of one module (summed into capture_stats). */
struct ct_proto_stats {
	uint64_t messages;          /* complete messages decoded, both directions */
	uint64_t events;            /* events emitted */
	uint64_t parse_errors;      /* decoder errors */
	uint64_t resyncs;           /* decoder resyncs (after errors and gaps) */
	uint64_t unmatched_replies; /* replies with no pending request (mid-stream pickup, ...) */
	uint64_t unanswered;        /* requests whose reply never came */
	uint64_t pending_overflow;  /* requests not held for pairing because a cap was hit */
	uint64_t alloc_fail;        /* connections left undecoded, or payloads not parsed (bus JSON),
				       because memory ran out */
	uint64_t truncated;         /* fields cut to their limit (HTTP path, request id, ...) */
};

/* Options that apply to every connection of a run. */
struct ct_proto_config {
	unsigned values;                 /* CT_VALUES_* */
	const char *const *channels;     /* --channel globs (application invalidation bus) */
	uint32_t nchannels;
};

struct ct_proto_open {
	uint64_t conn_id;
	int midstream;                   /* the capture joined this connection after its start */
	const struct ct_proto_config *cfg;
	const struct ct_emit *emit;      /* where events go */
	struct ct_proto_stats *stats;    /* this module's shared counters */
};

struct ct_proto_ops {
	const char *name; /* "redis", "memcached", "http" */
	uint8_t proto;    /* enum ct_proto */
	/* Allocates one connection's state; NULL when out of memory. */
	void *(*open)(const struct ct_proto_open *o);
	/* Stream bytes of one direction (CT_C2S requests, CT_S2C replies), in order. */
	void (*data)(void *conn, int dir, uint64_t off, const uint8_t *p, uint32_t len,
		     uint64_t ts_ns);
	/* Bytes [off, off+len) of one direction are missing. */
	void (*gap)(void *conn, int dir, uint64_t off, uint64_t len, uint64_t ts_ns);
	/* One UDP datagram (may be NULL for TCP-only protocols). */
	void (*datagram)(void *conn, int dir, const uint8_t *p, uint32_t len, uint64_t ts_ns);
	/* The connection ended: emit what is still pending (as unanswered), then free. */
	void (*close)(void *conn, uint64_t ts_ns);
};

extern const struct ct_proto_ops ct_proto_memcached;
extern const struct ct_proto_ops ct_proto_redis;
extern const struct ct_proto_ops ct_proto_http;

#endif
