/* Incremental, zero-copy, allocation-free RESP decoder: RESP2, RESP3 and inline commands, one
 * decoder per direction of a Redis connection, plus the replication RDB transfer.
 *
 * Specs: the Redis serialization protocol (redis.io/docs/reference/protocol-spec, RESP2 and
 * RESP3), and where it is silent what Redis 7 does: the command side follows networking.c
 * (processMultibulkBuffer, processInlineBuffer + sdssplitargs), the reply side hiredis read.c,
 * the RDB transfer replication.c (readSyncBulkPayload).
 *
 * How it is fed (reasm.h): ct_resp_feed(off, p, len, ts) with chunks in stream order and
 * ct_resp_gap(off, len) for bytes that were lost. Each call consumes the whole chunk and keeps no
 * pointer to it afterwards. The decoder allocates nothing: the caller embeds struct ct_resp, whose
 * buffers have fixed sizes from limits.h (CT_RESP_*). Callbacks are passed to every call (they
 * are not stored), may be NULL, and may call ct_resp_expect_rdb() and ct_resp_quiet()
 * but nothing else on the same decoder.
 *
 * What comes out, SAX-style, in stream order (struct ct_resp_cb):
 *  - elem: every completed leaf (a string, a number, a null, ...): its place in the tree (depth,
 *    index in its parent, index of its top-level ancestor), type byte, declared length, its first
 *    min(len, CT_RESP_ELEM_CAP_BYTES) payload bytes (CT_RESP_EF_TRUNCATED when longer), the
 *    integer value of ':' and '#', and for '$' '!' '=' strings and inline arguments, with
 *    values=hash, the XXH3-64 (seed 0) of the whole payload, computed across chunks.
 *  - agg_begin / agg_end: every aggregate ('*' '%' '~' '|' '>') with its declared count, so a
 *    consumer can follow the nesting. A null array ("*-1") is a leaf, not an aggregate.
 *  - msg: every complete top-level message, with the offsets and capture times of its first and
 *    last bytes (SPEC section 4: a message's time is that of its last byte).
 *  - error: a protocol error or a limit hit (named counter in struct ct_resp_counters).
 *  - abort: the message under way (some of its events may have been delivered) will not be
 *    completed (error, gap, end of stream): drop what was collected for it.
 * Pointers in events are valid only during the callback. They point into the caller's chunk when
 * the bytes lie in it, otherwise into the decoder's scratch buffer: p/n are the same however the
 * stream was cut into chunks.
 *
 * Client side (commands): a line that starts with '*' is a multibulk command ("*N" then N "$"
 * bulk strings; anything else inside is an error, as in Redis); any other line is an inline
 * command, split into arguments like Redis sdssplitargs (blanks separate, "double quotes" with
 * \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with \'), reported as an aggregate '*'
 * flagged CT_RESP_EF_INLINE whose children are '$' strings. Empty lines are keep-alives, and
 * "*0" / "*-N" are commands Redis silently ignores: both are counted, not reported. Unbalanced
 * quotes, and a NUL byte in an inline line (Redis would never find its end), are errors.
 * Server side (replies, pushes, and the replication stream of a primary): every RESP2/RESP3
 * type. A top-level attribute ('|') is reported and then belongs to the message of the reply it
 * precedes (CT_RESP_MF_ATTR); an attribute inside an aggregate is not counted as one of its
 * children. Bare newlines between messages (replication keep-alives) are skipped and counted.
 *
 * Errors are sticky and say where: the first one stays in err/errstr/err_offset, and every one
 * is counted and reported to cb->error. Decoding then resyncs: it skips to a line start that
 * looks like a message start and goes on from there; the first message after an error, a gap or
 * a mid-stream start is flagged CT_RESP_MF_RESYNCED. It never gives up. Server side: a type byte
 * followed by a byte that fits it. Client side: "*<digit>", or an inline command: a printable
 * line (at most CT_RESP_RESYNC_INLINE_BYTES) starting with two letters, taken only when the next
 * line starts with neither '*' nor '$' - the tail of a bulk string ("ET" of "SET", a value
 * holding "DEL foo") is always followed by one of those in a multibulk stream. A gap
 * inside a bulk payload of known length (or an RDB payload of known length) keeps the framing:
 * the element is flagged CT_RESP_EF_GAP and not hashed. Any other gap drops the message in
 * progress and resyncs at the first byte after the gap.
 *
 * Replication: after "+FULLRESYNC" a primary sends the RDB file as "$<len>\r\n" + len bytes with
 * NO trailing CRLF (disk mode), or "$EOF:<40-byte mark>\r\n" + bytes + the same 40-byte mark
 * (diskless mode), possibly preceded by "\n" keep-alives. Call ct_resp_expect_rdb() (typically
 * from the msg callback of the +FULLRESYNC reply) and the next top-level '$' is skipped in place
 * as that payload; it is reported as one msg flagged CT_RESP_MF_RDB (count = payload bytes), with
 * no elem events. What follows is the command stream, decoded as ordinary arrays. A gap inside a
 * diskless payload drops it and resyncs (its end mark may have been lost). */
#ifndef CACHETAP_RESP_H
#define CACHETAP_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "cachetap/common.h"
#include "cachetap/hash.h"
#include "cachetap/limits.h"

enum ct_resp_side {
	CT_RESP_SIDE_CLIENT = 0, /* client -> server: commands */
	CT_RESP_SIDE_SERVER = 1, /* server -> client: replies and pushes; primary -> replica */
};

enum ct_resp_values {
	CT_RESP_VALUES_NONE = 0, /* strings are framed and skipped, not hashed */
	CT_RESP_VALUES_HASH = 1, /* strings are fingerprinted with XXH3-64 (seed 0) */
};

/* RESP type bytes, as on the wire. */
enum ct_resp_type {
	CT_RESP_T_SIMPLE = '+',     /* simple string */
	CT_RESP_T_ERROR = '-',      /* simple error */
	CT_RESP_T_INTEGER = ':',    /* signed 64-bit integer */
	CT_RESP_T_BULK = '$',       /* bulk string ("$-1": null) */
	CT_RESP_T_ARRAY = '*',      /* array ("*-1": null) */
	CT_RESP_T_NULL = '_',       /* RESP3 null */
	CT_RESP_T_BOOLEAN = '#',    /* RESP3 boolean, #t / #f */
	CT_RESP_T_DOUBLE = ',',     /* RESP3 double (kept as text) */
	CT_RESP_T_BIGNUM = '(',     /* RESP3 big number (kept as text) */
	CT_RESP_T_BULK_ERROR = '!', /* RESP3 bulk error */
	CT_RESP_T_VERBATIM = '=',   /* RESP3 verbatim string, "txt:..." */
	CT_RESP_T_MAP = '%',        /* RESP3 map: count = pairs, children = 2 * count */
	CT_RESP_T_SET = '~',        /* RESP3 set */
	CT_RESP_T_ATTRIBUTE = '|',  /* RESP3 attribute: a map that annotates the next element */
	CT_RESP_T_PUSH = '>',       /* RESP3 push (out-of-band: invalidate, message, ...) */
};

/* Element and aggregate flags (ct_resp_elem.flags, ct_resp_agg.flags). */
enum {
	CT_RESP_EF_TRUNCATED = 1u << 0, /* payload longer than CT_RESP_ELEM_CAP_BYTES: p/n is its start */
	CT_RESP_EF_HASHED = 1u << 1,    /* hash is XXH3-64 of the whole payload */
	CT_RESP_EF_NULL = 1u << 2,      /* "$-1", "*-1" or "_" */
	CT_RESP_EF_ATTR = 1u << 3,      /* an attribute, or inside one */
	CT_RESP_EF_GAP = 1u << 4,       /* payload bytes were lost in a gap: p/n has zeros there, no hash */
	CT_RESP_EF_INLINE = 1u << 5,    /* an inline command or one of its arguments */
	CT_RESP_EF_INT = 1u << 6,       /* ival is set (':' integer, '#' boolean) */
};

/* Message flags (ct_resp_msg.flags). */
enum {
	CT_RESP_MF_RESYNCED = 1u << 0, /* first message after an error, a gap or a mid-stream start */
	CT_RESP_MF_INLINE = 1u << 1,   /* an inline command */
	CT_RESP_MF_PUSH = 1u << 2,     /* a RESP3 push ('>') */
	CT_RESP_MF_ATTR = 1u << 3,     /* preceded by a top-level attribute (part of this message) */
	CT_RESP_MF_ERROR = 1u << 4,    /* an error reply ('-' or '!') */
	CT_RESP_MF_NULL = 1u << 5,     /* a null reply ("$-1", "*-1", "_") */
	CT_RESP_MF_GAP = 1u << 6,      /* bytes inside were lost (framing kept; see CT_RESP_EF_GAP) */
	CT_RESP_MF_RDB = 1u << 7,      /* a replication RDB payload (ct_resp_expect_rdb) */
	CT_RESP_MF_RDB_EOF = 1u << 8,  /* ... sent in diskless mode ("$EOF:<mark>") */
};

/* A completed leaf. */
struct ct_resp_elem {
	uint64_t off;       /* stream offset of its first byte (type byte; inline: argument start) */
	uint64_t last_off;  /* ... and of its last byte (the LF; inline: last argument byte) */
	uint64_t msg_seq;   /* number of the message it belongs to (messages completed before it) */
	uint32_t depth;     /* 0: the message itself; 1: a child of the top-level aggregate; ... */
	uint32_t index;     /* position in its parent (0 at depth 0); map: key 2k, value 2k+1 */
	uint32_t top_index; /* position of its depth-1 ancestor (itself at depth 1); 0 at depth 0 */
	uint8_t type;       /* enum ct_resp_type; inline arguments are '$' */
	uint16_t flags;     /* CT_RESP_EF_* */
	int64_t len;        /* declared payload length ('$' '!' '=': the header's; lines: bytes
			       between the type byte and CRLF; inline: unescaped bytes); -1 null */
	const uint8_t *p;   /* first n = min(len, CT_RESP_ELEM_CAP_BYTES) payload bytes (never
			       NULL; for a verbatim string they include its "txt:" prefix) */
	uint32_t n;
	int64_t ival;       /* with CT_RESP_EF_INT: ':' value, '#' 1 or 0 */
	uint64_t hash;      /* with CT_RESP_EF_HASHED */
};

/* An aggregate, at its header (agg_begin) and after its last child (agg_end). */
struct ct_resp_agg {
	uint64_t off;       /* stream offset of its type byte (inline: of the line) */
	uint64_t last_off;  /* begin: the LF of its header (inline: its first byte); end: its
			       last byte */
	uint64_t msg_seq;
	uint32_t depth, index, top_index; /* as in ct_resp_elem */
	uint8_t type;       /* '*' '%' '~' '|' '>' */
	uint16_t flags;     /* CT_RESP_EF_ATTR, CT_RESP_EF_INLINE */
	int64_t count;      /* declared count (pairs for '%' and '|'); inline: 0 at begin, the
			       number of arguments at end */
};

/* A complete top-level message. */
struct ct_resp_msg {
	uint64_t first_off;   /* stream offset of its first byte (of a leading attribute, if any) */
	uint64_t last_off;    /* ... and of its last byte (inclusive) */
	uint64_t first_ts_ns; /* capture time of the chunk that carried the first byte */
	uint64_t ts_ns;       /* capture time of the chunk that carried the last byte */
	uint64_t seq;         /* messages completed before this one */
	uint8_t type;         /* type of its top-level element (not of a leading attribute);
				 inline command: '*'; RDB payload: '$' */
	uint32_t flags;       /* CT_RESP_MF_* */
	int64_t count;        /* aggregate: declared count (pairs for '%'); inline: arguments;
				 '$' '!' '=': declared length; RDB: payload bytes; -1: null; else 0 */
	uint64_t nonnull;     /* aggregate: children that are not null (leaves or aggregates;
				 attributes not counted), counted even under ct_resp_quiet */
};

struct ct_resp_cb {
	void (*elem)(void *ctx, const struct ct_resp_elem *e);
	void (*agg_begin)(void *ctx, const struct ct_resp_agg *a);
	void (*agg_end)(void *ctx, const struct ct_resp_agg *a);
	void (*msg)(void *ctx, const struct ct_resp_msg *m);
	/* A stream error at offset `off` (CT_EPROTO, or CT_ELIMIT for a limits.h cap); decoding
	 * resyncs after it. */
	void (*error)(void *ctx, int err, const char *errstr, uint64_t off);
	/* The message under way, which began at `first_off`, is dropped: `why` is CT_EPROTO /
	 * CT_ELIMIT (after an error) or CT_ETRUNC (a gap or the end of the stream). */
	void (*abort)(void *ctx, uint64_t first_off, int why);
};

struct ct_resp_opts {
	uint8_t values;    /* enum ct_resp_values; default (NULL opts): hash */
	uint8_t midstream; /* picked up mid-stream: the first byte may be inside a message, so
			      start by resyncing (the first byte itself may be a message start) */
};

struct ct_resp_counters {
	uint64_t bytes;          /* bytes fed (data chunks) */
	uint64_t msgs;           /* messages delivered */
	uint64_t elems;          /* leaves delivered */
	uint64_t aggs;           /* aggregates begun */
	uint64_t inline_cmds;    /* inline commands delivered */
	uint64_t keepalives;     /* bare newlines (server) and empty inline lines (client) */
	uint64_t empty_cmds;     /* client "*0" / "*-N": Redis executes nothing, answers nothing */
	uint64_t truncated;      /* elements longer than CT_RESP_ELEM_CAP_BYTES */
	uint64_t errors;         /* stream errors, all kinds; each is followed by a resync */
	uint64_t resyncs;        /* times decoding found a plausible message start again */
	uint64_t resync_bytes;   /* bytes skipped while resyncing */
	uint64_t aborted;        /* messages under way dropped (error, gap, end of stream) */
	uint64_t gaps;           /* gaps reported */
	uint64_t gap_bytes;
	uint64_t gaps_in_bulk;   /* gaps absorbed inside a payload of known length */
	uint64_t overlap_bytes;  /* bytes fed again (offset already passed) and skipped */
	uint64_t rdb_payloads;   /* RDB transfers skipped */
	uint64_t rdb_bytes;      /* their payload bytes */
	uint64_t rdb_not_bulk;   /* ct_resp_expect_rdb, but the next message was not a '$' */
	/* protocol errors by kind */
	uint64_t bad_type;       /* unknown type byte, or not '$' inside a command */
	uint64_t bad_line;       /* line not ended by CRLF, bulk not followed by CRLF */
	uint64_t bad_number;     /* malformed or overflowing length, count or integer */
	uint64_t bad_value;      /* malformed boolean, null, double, big number, verbatim */
	uint64_t bad_inline;     /* unbalanced quotes or NUL byte in an inline command */
	/* limits (limits.h) */
	uint64_t depth_exceeded; /* CT_RESP_MAX_DEPTH */
	uint64_t too_many_elems; /* CT_RESP_AGG_MAX_ELEMS */
	uint64_t bulk_too_long;  /* CT_RESP_BULK_MAX_BYTES (and CT_RESP_RDB_MAX_BYTES) */
	uint64_t inline_too_long; /* CT_RESP_INLINE_MAX_BYTES */
	uint64_t line_too_long;  /* CT_RESP_HEADER_MAX_BYTES / CT_RESP_LINE_MAX_BYTES */
};

/* One open aggregate. */
struct ct_resp_frame {
	uint64_t off;   /* stream offset of its type byte */
	int64_t count;  /* declared count */
	uint32_t left;  /* children still to come */
	uint32_t index; /* index of the child being read */
	uint8_t type;
	uint8_t attr;   /* CT_RESP_EF_ATTR when it is an attribute or inside one */
};

#define CT_RESP_RDB_MARK_BYTES 40 /* the diskless EOF mark: CONFIG_RUN_ID_SIZE random bytes */

/* The decoder. Embed it; all fields are private except the counters and the error triple. */
struct ct_resp {
	/* configuration */
	uint8_t side, values;
	/* where we are */
	uint8_t st;         /* what the next byte is (S_* in resp.c) */
	uint8_t etype;      /* type byte of the element being read */
	uint8_t crlf;       /* bytes of a bulk's trailing CRLF still to come */
	uint8_t egap;       /* the element being read lost bytes in a gap */
	uint8_t in_msg;     /* a message is under way */
	uint8_t resynced_pending; /* the next message gets CT_RESP_MF_RESYNCED */
	uint8_t rdb_expect; /* the next top-level '$' is an RDB payload */
	uint8_t rdb_match;  /* diskless: bytes of the EOF mark matched so far */
	uint8_t cand;       /* resync: the candidate type byte */
	uint8_t last;       /* the last byte of the line being read */
	uint8_t ist;        /* inline: argument-splitting state (I_* in resp.c) */
	uint8_t in_cr;      /* inline: a CR is held back (dropped if LF follows) */
	uint8_t ihex;       /* inline: the first digit of a \xHH escape */
	uint8_t hspill;     /* inline: the argument outgrew the scratch buffer; hash streams */
	uint8_t stage_n;    /* inline: bytes in stage */
	uint8_t quiet;      /* ct_resp_quiet: the message under way is framed, not reported */
	uint32_t depth;     /* open aggregates */
	uint32_t used;      /* bytes in scratch */
	uint64_t off;       /* stream offset of the next byte expected */
	uint64_t base;      /* stream offset of the current chunk's first byte */
	uint64_t ts_ns;     /* capture time of the current chunk */
	uint64_t eoff, ets; /* first byte of the element (or line, or argument) being read */
	uint64_t line_len;  /* bytes of the current line so far (after the type byte) */
	uint64_t left;      /* payload bytes still to come (bulk, RDB) */
	int64_t elen;       /* declared length of the element being read */
	uint64_t aoff;      /* inline: offset of the argument's first byte */
	uint64_t alast;     /* inline: offset of the argument's last byte so far */
	uint64_t alen;      /* inline: unescaped bytes of the argument */
	uint64_t cand_off, cand_ts;
	uint64_t cline_lf_off, cline_lf_ts; /* resync: the LF of a held inline candidate line */
	uint32_t cline_len;
	uint64_t msg_off, msg_ts, msg_seq;
	int64_t msg_count;
	uint64_t msg_nonnull;
	uint32_t msg_flags;
	uint8_t msg_type;
	uint64_t last_off;  /* last byte of the last completed element */
	/* sticky error: the first one */
	int err;
	const char *errstr;
	uint64_t err_offset;
	int call_err;       /* first error of the current call */
	struct ct_resp_counters c;
	/* the current call's callbacks (cleared when it returns) */
	const struct ct_resp_cb *cb;
	void *cbctx;
	struct ct_resp_frame stack[CT_RESP_MAX_DEPTH];
	uint8_t cline[CT_RESP_RESYNC_INLINE_BYTES]; /* resync: an inline candidate line */
	uint8_t rdb_mark[CT_RESP_RDB_MARK_BYTES];
	uint8_t rdb_fail[CT_RESP_RDB_MARK_BYTES]; /* KMP failure function of the mark */
	uint8_t stage[64];
	uint8_t scratch[CT_RESP_ELEM_CAP_BYTES];
	struct ct_hash xxh; /* streaming value fingerprint (hash.h) */
};

/* Sets up `d` for one direction. `o` may be NULL (hash values, not mid-stream). Returns 0, or
 * CT_EINVAL for a bad side or option. */
int ct_resp_init(struct ct_resp *d, enum ct_resp_side side, const struct ct_resp_opts *o) CT_WUR;

/* Feeds the chunk at stream offset `off`, captured at `ts_ns`, and invokes `cb` for everything
 * it completes. An offset past the expected one is a gap; bytes already fed are skipped.
 * Returns 0, or the first stream error of this call (CT_EPROTO, CT_ELIMIT), which is also
 * counted, kept in err/errstr/err_offset if it is the first, and reported to cb->error: decoding
 * has already resynced, so ignoring the return value is fine. */
int ct_resp_feed(struct ct_resp *d, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts_ns,
		 const struct ct_resp_cb *cb, void *ctx);

/* `len` bytes at `off` were lost (`ts_ns`: when that was decided). Inside a payload of known
 * length the framing is kept; anywhere else the message in progress is aborted and decoding
 * resyncs at the first byte after the gap. */
void ct_resp_gap(struct ct_resp *d, uint64_t off, uint64_t len, uint64_t ts_ns,
		 const struct ct_resp_cb *cb, void *ctx);

/* End of stream: a message in progress is aborted (CT_ETRUNC), except a bulk string whose
 * declared bytes all arrived and only its trailing CRLF is missing: it is delivered. The decoder can then be fed
 * again only after ct_resp_init. */
void ct_resp_end(struct ct_resp *d, uint64_t ts_ns, const struct ct_resp_cb *cb, void *ctx);

/* Server side: the next top-level '$' is a replication RDB payload (see above). Newlines before
 * it are skipped; if the next message is not a '$' the request is dropped (rdb_not_bulk). May be
 * called from any callback. Returns 0, or CT_EINVAL on the client side. */
int ct_resp_expect_rdb(struct ct_resp *d) CT_WUR;

/* The rest of the message under way is framed and counted but not reported: no elem or
 * agg_begin/agg_end callbacks, no hashing, no copying; its msg callback still comes. For replies
 * whose contents nobody needs (a 600-element LRANGE answer): call it from agg_begin of the
 * top-level aggregate. It ends with that message (or its abort). */
void ct_resp_quiet(struct ct_resp *d);

/* "simple", "bulk", "map", ... for a type byte; "?" when unknown. */
const char *ct_resp_type_name(uint8_t type);

#endif
