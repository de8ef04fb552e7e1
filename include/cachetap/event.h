/* The event model: one row per (message, key) that the timeline records (SPEC sections 3
 * and 5). Protocol modules turn decoded, paired messages into these; the pipeline hands them
 * to the sink. Pointers in an event are valid only during the call that delivers it. */
#ifndef CACHETAP_EVENT_H
#define CACHETAP_EVENT_H

#include <stdint.h>

#include "cachetap/common.h"

enum ct_proto { CT_PROTO_NONE = 0, CT_PROTO_REDIS, CT_PROTO_MEMCACHED, CT_PROTO_HTTP };

/* SPEC section 3 classes. */
enum ct_class {
	CT_CLASS_READ = 0,
	CT_CLASS_WRITE,
	CT_CLASS_DELETE,
	CT_CLASS_INVALIDATE,
	CT_CLASS_EXPIRE,
	CT_CLASS_FLUSH,
	CT_CLASS_PUBLISH,
	CT_CLASS_OTHER,
	CT_CLASS_COUNT
};

/* SPEC section 5 statuses. */
enum ct_status {
	CT_STATUS_OK = 0,
	CT_STATUS_HIT,
	CT_STATUS_MISS,
	CT_STATUS_ERROR,
	CT_STATUS_NOREPLY,    /* the protocol says no reply comes (noreply, quiet, CLIENT REPLY OFF) */
	CT_STATUS_UNANSWERED, /* a reply was due but never seen (connection ended, gap, cap) */
	CT_STATUS_COUNT
};

enum ct_via { CT_VIA_COMMAND = 0, CT_VIA_PUSH, CT_VIA_REPLICATION, CT_VIA_COUNT };

enum {
	CT_EV_HAS_KEY = 1u << 0,        /* key/key_len are set (NULL key in the timeline otherwise) */
	CT_EV_KEY_TRUNCATED = 1u << 1,  /* the key was longer than we keep; key holds its prefix */
	CT_EV_HAS_VALUE = 1u << 2,      /* value_hash is set */
	CT_EV_HAS_LATENCY = 1u << 3,    /* latency_ns is set */
	CT_EV_RESYNCED = 1u << 4,       /* first message after a gap or a decoder resync */
	CT_EV_STALE = 1u << 5,          /* memcached meta: the item was marked stale (X) */
	CT_EV_WIN = 1u << 6,            /* memcached meta: this client won the recache (W) */
	CT_EV_WON_ALREADY = 1u << 7,    /* memcached meta: another client already won (Z) */
};

struct ct_event {
	uint64_t conn_id;     /* connections.id */
	uint64_t ts_ns;       /* capture time of the message's last byte */
	uint64_t first_ts_ns; /* capture time of its first byte */
	uint64_t latency_ns;  /* reply last byte minus request last byte (CT_EV_HAS_LATENCY) */
	uint64_t value_hash;  /* XXH3-64 of the value written or returned (CT_EV_HAS_VALUE) */
	uint64_t stream_off;  /* stream offset of the message's first byte in its direction (orders
				 events of equal time as they were on the wire) */
	uint32_t flags;       /* CT_EV_* */
	int32_t db;           /* Redis database (SELECT), -1 when it does not apply */
	uint8_t proto;        /* enum ct_proto */
	uint8_t dir;          /* CT_C2S or CT_S2C: the recipient is the server for c2s */
	uint8_t via;          /* enum ct_via */
	uint8_t cls;          /* enum ct_class */
	uint8_t status;       /* enum ct_status */
	const char *cmd;      /* upper case, as sent: "SET", "MG", "INVALIDATE", "MESSAGE" */
	uint32_t cmd_len;
	uint32_t key_len;
	const uint8_t *key;
	const char *detail;   /* optional short text (channel, meta flags, error word), or NULL */
};

/* A protocol module learned that one side of a connection is also a node listening on
 * `port` (Redis: REPLCONF listening-port names the replica). */
struct ct_node_hint {
	uint64_t conn_id;
	uint8_t client_side; /* the connection's client (1) or server (0) */
	uint16_t port;
	const char *role;    /* "replica", ... */
};

/* API call flags. */
enum {
	CT_API_PATH_CUT = 1u << 0,        /* path longer than CT_HTTP_PATH_MAX_BYTES: its prefix */
	CT_API_REQUEST_ID_CUT = 1u << 1,  /* X-Request-Id longer than CT_HTTP_REQID_MAX_BYTES */
	CT_API_TRACEPARENT_CUT = 1u << 2, /* traceparent longer than CT_HTTP_TRACEPARENT_MAX_BYTES */
	CT_API_REQ_CUT = 1u << 3,         /* the request's end was not seen (gap, parse error, end) */
	CT_API_RESP_CUT = 1u << 4,        /* the response's end was not seen: status kept, no end */
	CT_API_RESYNCED = 1u << 5,        /* first request after a gap, a parse error or mid-stream */
};

/* One HTTP API call seen on the wire (SPEC section 5, api_calls): a request and its final
 * response. Strings are NUL-terminated copies (lengths exclude the NUL), valid only during
 * the call that delivers it; a time of 0 means unknown or absent. */
struct ct_api_call {
	uint64_t conn_id;          /* connections.id */
	uint64_t ts_start_ns;      /* the request's first byte */
	uint64_t ts_req_end_ns;    /* its last byte (0: not seen, CT_API_REQ_CUT) */
	uint64_t ts_resp_start_ns; /* the final response's first byte (0: no response) */
	uint64_t ts_end_ns;        /* its last byte (0: no response, or CT_API_RESP_CUT) */
	uint64_t req_body_bytes;   /* body bytes, after chunked decoding */
	uint64_t resp_body_bytes;
	uint64_t stream_off;       /* stream offset of the request's first byte */
	uint32_t flags;            /* CT_API_* */
	uint16_t status;           /* final status code; 0 = no response */
	const char *method;        /* "GET", "PUT", ... */
	const char *path;          /* the request target as sent: path and query */
	uint32_t path_len;
	const char *request_id;    /* X-Request-Id, or NULL */
	uint32_t request_id_len;
	const char *traceparent;   /* W3C traceparent, or NULL */
	uint32_t traceparent_len;
};

/* Where a protocol module sends its events. */
struct ct_emit {
	void (*event)(void *ctx, const struct ct_event *ev);
	void *ctx;
	void (*node)(void *ctx, const struct ct_node_hint *h); /* may be NULL */
	void (*api)(void *ctx, const struct ct_api_call *a);   /* HTTP calls; may be NULL */
};

const char *ct_class_name(unsigned cls);   /* "read", "write", ... */
const char *ct_status_name(unsigned st);   /* "ok", "hit", ... */
const char *ct_via_name(unsigned via);     /* "command", "push", "replication" */
const char *ct_proto_name(unsigned proto); /* "redis", "memcached", "http" */

#endif
