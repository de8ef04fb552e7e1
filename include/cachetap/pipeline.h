/* The pipeline: source -> link/IP decode -> flow table and reassembly -> protocol layer ->
 * sink. It owns the per-run counters and the summary line. main.c builds one from the
 * command line; tests and tools build one directly. */
#ifndef CACHETAP_PIPELINE_H
#define CACHETAP_PIPELINE_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "cachetap/capture.h"
#include "cachetap/flow.h"
#include "cachetap/sink.h"

enum {
	CT_DECODE_REDIS = 1u << 0,
	CT_DECODE_MEMCACHED = 1u << 1,
	CT_DECODE_HTTP = 1u << 2,
	CT_DECODE_ALL = CT_DECODE_REDIS | CT_DECODE_MEMCACHED | CT_DECODE_HTTP,
};

struct ct_pipeline_opts {
	uint8_t redis_ports[CT_PORTMAP_BYTES];
	uint8_t memcached_ports[CT_PORTMAP_BYTES];
	uint8_t http_ports[CT_PORTMAP_BYTES];
	unsigned decode;          /* CT_DECODE_* protocols decoded; 0 = reassembly only */
	unsigned values;          /* CT_VALUES_* (proto.h): what is stored of values */
	const char *const *channels; /* --channel globs (kept by the caller for the run) */
	uint32_t nchannels;       /* at most CT_CHANNEL_MAX_GLOBS */
	uint64_t duration_ns;     /* live: stop after this long (0 = until a signal) */
	int progress;             /* print progress on stderr (when it is a terminal) */
	const char *command;      /* "replay", "capture": for the summary line */
};

struct ct_pipeline;

struct ct_pipeline *ct_pipeline_new(const struct ct_pipeline_opts *o, struct ct_sink *sink) CT_WUR;

/* Runs until the source ends, *stop becomes nonzero, or the duration passes. Returns 0, or a
 * negative error (source failure). Writes connection rows and drop samples to the sink as it
 * goes, and the run totals at the end. */
int ct_pipeline_run(struct ct_pipeline *p, struct ct_source *src, atomic_int *stop);

/* The one-line summary: packets, bytes, connections, events, gaps, drops, errors. */
void ct_pipeline_summary(const struct ct_pipeline *p, FILE *out);

void ct_pipeline_free(struct ct_pipeline *p);

#endif
