/* What `cachetap report` knows after the analysis, shared by its writers (src/report.c: text,
 * JSON, CSV; src/report_html.c: HTML). Private to src/report*.c. Long lists (missed
 * invalidations, stale reads and sets) are not held here: each writer streams them from the
 * database, so a report of a long run needs memory for its recipients only. */
#ifndef CACHETAP_REPORT_MODEL_H
#define CACHETAP_REPORT_MODEL_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

/* One sampled point of a cumulative distribution: fraction of the population at or below ns
 * (latency CDF), or still waiting after ns (the "still stale after t" curve). */
struct rp_point {
	int64_t ns;
	double frac;
};

struct rp_recipient {
	char *recipient;     /* "ip:port", as timeline.recipient */
	char *name, *role;   /* from the nodes table; NULL when the node has none */
	char *proto;         /* redis, memcached; NULL when unknown */
	uint64_t arrivals, missed, stale_reads, stale_sets;
	uint64_t pending;    /* neither arrived nor missed: the capture ended before the deadline */
	int has_stale;       /* max_stale_ns is set */
	int64_t max_stale_ns;
	uint64_t nlat;       /* arrivals with a latency: the percentile population */
	int64_t p50, p90, p99, max; /* nearest rank, ns; valid when nlat > 0 */
	struct rp_point *cdf; /* at most CT_REPORT_CDF_POINTS points, in rank order */
	uint32_t ncdf;
};

struct rp_model {
	const char *db_path;
	char *input, *command, *tool_version; /* from meta; NULL when absent */
	int complete;         /* the run ended (run_stats has its row) */
	int64_t first_ts_ns, last_ts_ns;
	uint64_t packets, drops, gaps, parse_errors;
	uint64_t deadline_ns;
	uint64_t origins, propagation_rows, arrivals, missed, pending, stale_reads, stale_sets;
	int valid;
	char **warnings;      /* at most CT_REPORT_WARNINGS_MAX kept ... */
	uint32_t nwarnings;
	uint64_t warnings_total; /* ... of this many */
	struct rp_recipient *rec;
	uint32_t nrec;
	/* Fraction of (origin, recipient) pairs not yet arrived after t; missed ones never do,
	 * pending ones are left out. */
	struct rp_point *stale_curve;
	uint32_t nstale_curve;
	int has_api_calls;    /* the database has an api_calls table */
};

/* Writes the self-contained HTML report. Returns 0 or a negative CT_E* error. */
int ct_report_html(sqlite3 *db, const struct rp_model *m, FILE *out);

/* Length of the well-formed UTF-8 sequence at s[0..n) (1 to 4), or 0 when s[0] does not
 * start one (bad lead byte, truncated, overlong, surrogate, above U+10FFFF). */
int ct_report_utf8_seq(const unsigned char *s, size_t n);

/* Milliseconds for display: "12.345". */
void ct_report_ms(int64_t ns, char *buf, size_t len);

/* The name of a recipient for display: "name" or the endpoint. */
const char *ct_report_label(const struct rp_recipient *r);

#endif
