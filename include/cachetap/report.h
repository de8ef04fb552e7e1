/* Readers of a cachetap database: the timeline printer and the reports. The timeline opens the
 * database read-only; the report writes only the analysis tables. Both can run while a live
 * capture is still writing it. */
#ifndef CACHETAP_REPORT_H
#define CACHETAP_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "cachetap/common.h"

struct ct_timeline_opts {
	const uint8_t *key;  /* only this key (NULL = all keys) */
	size_t key_len;
	uint64_t limit;      /* at most this many rows (0 = all) */
};

/* Prints the timeline view readably, one event per line, in time order. Returns 0, or a
 * negative error with a one-line message in err (not a database, no timeline, ...). */
int ct_timeline_print(const char *db, const struct ct_timeline_opts *o, FILE *out, char *err,
		      size_t errlen) CT_WUR;

/* `cachetap report [OPTIONS] DB` (SPEC sections 2, 6 and 7): runs the analysis (analyze.h)
 * on DB, which a live capture may still be writing, and writes the propagation report as text,
 * JSON, CSV or HTML. argv[0] is "report". Returns the exit status: 0 done, 1 runtime failure,
 * 2 bad usage or input, 3 an SLO flag was breached. */
int ct_cmd_report(int argc, char **argv);

/* Formats ns since the epoch as "2026-11-26T15:52:24.123456789Z". */
#define CT_TIME_STRLEN 40
void ct_format_time(uint64_t ts_ns, char *buf, size_t len);

#endif
