/* The propagation analysis (SPEC section 6): origins, recipients, arrivals and latency, missed
 * invalidations, stale reads and stale sets, and whether drops or gaps fell inside a measured
 * window. It reads the timeline view, api_calls, connections, capture_drops and run_stats of a
 * cachetap database and (re)writes the analysis tables below. The exact definitions are at the
 * top of src/analyze.c. */
#ifndef CACHETAP_ANALYZE_H
#define CACHETAP_ANALYZE_H

#include <sqlite3.h>
#include <stdint.h>

#include "cachetap/common.h"

#define CT_ANALYZE_DEADLINE_NS_DEFAULT 5000000000ull /* --deadline default: 5 s */

/* --key-map 'PUT /items/{id} -> item:{id}': an API write call whose method and path match makes
 * the key an origin of that call, even when the application touched the cache only after the
 * response (or not at all). A {name} in the path matches a non-empty run of characters other
 * than '/'; literal text matches itself. Every {name} in the key must be defined by the path. */
struct ct_key_map {
	const char *method;       /* "PUT"; "*" matches any write method */
	const char *path_pattern; /* "/items/{id}" */
	const char *key_pattern;  /* "item:{id}" */
};

/* Parses one --key-map argument. On success the strings point into one copy that
 * ct_key_map_free() releases. Returns 0, CT_EINVAL when the text is not of that form, or
 * CT_ENOMEM. */
int ct_key_map_parse(const char *arg, struct ct_key_map *out) CT_WUR;
void ct_key_map_free(struct ct_key_map *m); /* NULL-safe; leaves *m zeroed */

/* Does `method path` match the map? On a match writes the mapped key (NUL-terminated) to key
 * and returns its length; returns -1 when it does not match, or CT_ELIMIT when the key would
 * not fit in keylen bytes. The path's query string ("?...") and fragment are ignored. */
int ct_key_map_apply(const struct ct_key_map *m, const char *method, const char *path, char *key,
		     size_t keylen) CT_WUR;

struct ct_analyze_opts {
	uint64_t deadline_ns;               /* 0 = CT_ANALYZE_DEADLINE_NS_DEFAULT */
	const struct ct_key_map *key_maps;
	uint32_t nkey_maps;
};

struct ct_analyze_result {
	uint64_t origins, propagation_rows, arrivals, missed, stale_reads, stale_sets;
	int valid;                          /* 0 when drops/gaps fell inside a measured window */
	uint64_t warnings;
	/* Extensions: */
	uint64_t pending;                   /* recipients still waiting when the capture ended
					       less than the deadline after their origin */
	int api_mode;                       /* 1: origins are API calls; 0: self-origins */
};

/* (Re)computes the analysis tables on a cachetap database that a live capture may still be
 * writing (WAL). It reads in one read transaction (a snapshot of what was committed when it
 * began) and then replaces the analysis tables in one short write transaction, so a live
 * capture is never blocked for the length of the analysis. It creates the indexes it needs on
 * events (events_key_ts, events_ts) once. The caller gives the handle a busy timeout, since a
 * live capture holds the write lock while it commits a batch. The handle must not be inside a
 * transaction. o and r may be NULL. Returns 0 or a negative CT_E* error (CT_ESQL: see sqlite3_errmsg(db)).
 *
 * Tables (DROP + CREATE on each run):
 *  origins(id, api_call_id, key, db, origin_ts_ns, ack_ts_ns, event_id, cmd, class, node,
 *          valid)                      -- valid: 0 when drops or gaps fell in its window
 *  propagation(origin_id, api_call_id, key, recipient, origin_ts_ns, arrival_ts_ns,
 *          latency_ns, via, arrival_event_id, arrival_class, arrival_cmd, proto, missed,
 *          pending)                    -- pending: 1 when the capture ended too early to say
 *  stale_reads(ts_ns, node, key, api_call_id, stale_for_ns, origin_id, event_id, value_hash)
 *  stale_sets(ts_ns, node, key, api_call_id, after_arrival_ns, origin_id, event_id, value_hash)
 *  analysis_warnings(text, window_start_ns, window_end_ns, origin_id)
 *  analysis_meta(key, value)           -- deadline_ns, valid, analyzed_at_ns, last_event_id,
 *          mode (api|self), capture_end_ns, and every count of ct_analyze_result */
int ct_analyze(sqlite3 *db, const struct ct_analyze_opts *o, struct ct_analyze_result *r) CT_WUR;

#endif
