/* Packet sources: where frames come from. A source yields frames in capture-time order with
 * nanosecond timestamps, and reports drop counters.
 *
 * Each kind of source is its own file behind struct ct_source_ops; capture_pcap.c provides
 * offline files (pcap and pcapng, several merged by timestamp, "-" for stdin) and live
 * interfaces, both through libpcap. A second kind of source is a new file, not a rewrite. */
#ifndef CACHETAP_CAPTURE_H
#define CACHETAP_CAPTURE_H

#include <stdint.h>

#include "cachetap/common.h"

struct ct_frame {
	uint64_t ts_ns;       /* capture time, ns since the Unix epoch */
	int dlt;              /* link type (DLT_*) of this frame's file or interface */
	uint32_t caplen;      /* bytes present at data */
	uint32_t wirelen;     /* bytes on the wire */
	const uint8_t *data;  /* valid until the next ct_source_next() */
	uint32_t file_index;  /* which FILE operand it came from (0 for live) */
};

/* Drop and volume counters. Live counters come from pcap_stats(); offline they stay 0. */
struct ct_source_stats {
	uint64_t frames;     /* frames returned */
	uint64_t bytes;      /* captured bytes returned */
	uint64_t kernel_recv;   /* ps_recv (live) */
	uint64_t kernel_drops;  /* ps_drop: dropped because the buffer was full (live) */
	uint64_t iface_drops;   /* ps_ifdrop: dropped by the interface or driver (live) */
	uint64_t truncated_files; /* files that ended inside a record */
	uint64_t read_errors;     /* other read errors (the file is closed, the rest go on) */
};

struct ct_source;

/* ct_source_next() result for "no frame yet": a live read timed out after
 * CT_CAPTURE_TIMEOUT_MS with nothing captured. The caller checks --duration, samples stats and
 * calls next() again. Offline sources never return it. */
#define CT_SOURCE_IDLE 2

struct ct_source_ops {
	/* Returns 1 with *f filled, 0 at the end (or after ct_source_break), or a negative error. */
	int (*next)(struct ct_source *s, struct ct_frame *f);
	void (*stats)(struct ct_source *s, struct ct_source_stats *st);
	void (*brk)(struct ct_source *s); /* async-signal-safe: make next() return 0 soon */
	void (*close)(struct ct_source *s);
	const char *(*describe)(struct ct_source *s); /* e.g. "file:a.pcap,b.pcapng" or "live:lo" */
};

struct ct_source {
	const struct ct_source_ops *ops;
};

struct ct_live_opts {
	const char *iface;
	uint32_t snaplen;      /* 0 = CT_CAPTURE_SNAPLEN_BYTES_DEFAULT */
	uint32_t buffer_bytes; /* 0 = CT_CAPTURE_BUFFER_BYTES_DEFAULT */
	const char *bpf;       /* NULL = everything */
	int promisc;
};

/* Opens files (pcap or pcapng; "-" is stdin) for reading merged in timestamp order. On error
 * returns a negative code and writes a one-line message naming the file into err. */
int ct_source_open_files(struct ct_source **out, const char *const *paths, uint32_t n,
			 const char *bpf, char *err, size_t errlen) CT_WUR;

/* Opens a live interface with nanosecond timestamps (microsecond ones scaled to ns where the
 * interface cannot do better). On error returns a negative code and writes a one-line message
 * naming the interface into err. On success err is "" or holds a one-line warning that
 * pcap_activate() gave (e.g. promiscuous mode not supported), for the caller to print. */
int ct_source_open_live(struct ct_source **out, const struct ct_live_opts *o, char *err,
			size_t errlen) CT_WUR;

static inline int ct_source_next(struct ct_source *s, struct ct_frame *f)
{
	return s->ops->next(s, f);
}
static inline void ct_source_stats(struct ct_source *s, struct ct_source_stats *st)
{
	s->ops->stats(s, st);
}
static inline void ct_source_break(struct ct_source *s)
{
	s->ops->brk(s);
}
static inline const char *ct_source_describe(struct ct_source *s)
{
	return s->ops->describe(s);
}
static inline void ct_source_close(struct ct_source *s)
{
	if (s)
		s->ops->close(s);
}

#endif
