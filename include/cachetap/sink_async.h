/* A sink that hands everything to another sink on a writer thread.
 *
 * The pipeline decodes on one core while SQLite writes on the other: records are copied
 * (strings included) into batches that the writer thread applies to the inner sink in the
 * order they were made. At most CT_ASYNC_BATCHES batches are in flight; when the writer falls
 * behind, the producer waits (no record is ever dropped). commit() returns once the writer
 * has applied and committed everything handed over so far; close() does the same, stops the
 * thread and closes the inner sink. */
#ifndef CACHETAP_SINK_ASYNC_H
#define CACHETAP_SINK_ASYNC_H

#include "cachetap/sink.h"

/* Wraps `inner` (which it owns from then on, and closes). Returns 0, or CT_ENOMEM / CT_EIO
 * (thread creation failed) with `inner` untouched and still the caller's. */
int ct_sink_async_new(struct ct_sink *inner, struct ct_sink **out) CT_WUR;

#endif
