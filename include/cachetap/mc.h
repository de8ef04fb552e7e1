/* Incremental, zero-copy, allocation-free memcached decoders: text, meta and binary protocols
 * over TCP (one decoder per direction), plus the UDP frame header and per-request reassembly.
 *
 * Specs: memcached doc/protocol.txt (text and meta commands, 1.6), the binary protocol
 * (memcached wiki "BinaryProtocolRevamped", protocol_binary.h) and the UDP frame header in
 * protocol.txt. Framing follows memcached 1.6.18 where the spec is silent (see mc_text.c).
 *
 * How it is fed (reasm.h): data(off, p, len, ts) chunks in stream order and gap(off, len).
 * The decoder keeps no pointer to a chunk after the call returns, and allocates nothing: the
 * struct is embedded by the caller, with fixed buffers sized by limits.h (CT_MC_*).
 *
 * What comes out, through callbacks (struct ct_mc_cb):
 *  - msg: one call per complete message (request on the client side, reply on the server
 *    side). Text/meta replies are one message per line, plus its data block: a get reply is
 *    VALUE, VALUE, ..., END messages; a stats reply is STAT, ..., END. Binary: one message
 *    per packet (header + body).
 *  - key: one call per key of a text retrieval command (get, gets, gat, gats), in line order,
 *    as soon as each key is complete, BEFORE the msg call of that command. A 20,000-key get
 *    needs no key array. These commands never set m->key; every other message with one key
 *    has it in m->key (and no key callback).
 *  - error: optional; one call per stream error (the decoder then resyncs).
 * Every message that had key callbacks ends with exactly one msg call, flagged
 * CT_MC_MF_ABORTED when the line was cut by an error, a gap or the end of the stream.
 *
 * Pointers inside a message (key, word, text, extras, meta tokens) and passed to the key
 * callback are valid only during the callback. They point into the caller's chunk when the
 * token lies in one chunk, otherwise into the decoder's fixed buffers.
 *
 * Errors are sticky and say where: the first one stays in err/errstr/err_offset; every one is
 * counted (struct ct_mc_counters) and reported to cb->error. The decoder then resyncs: text at
 * the next line that parses as a known command or reply, binary at the next plausible header
 * (magic byte, known opcode, sane lengths). The first message after a resync, a gap or a
 * mid-stream start is flagged CT_MC_MF_RESYNCED. A gap that falls inside a value of known
 * length keeps the framing: the message is delivered with CT_MC_MF_GAP and no hash. */
#ifndef CACHETAP_MC_H
#define CACHETAP_MC_H

#include <stddef.h>
#include <stdint.h>

#include "cachetap/hash.h"

#include "cachetap/common.h"
#include "cachetap/limits.h"

enum ct_mc_side {
	CT_MC_SIDE_CLIENT = 0, /* client -> server: requests */
	CT_MC_SIDE_SERVER = 1, /* server -> client: replies */
};

enum ct_mc_proto {
	CT_MC_PROTO_UNKNOWN = 0,
	CT_MC_PROTO_TEXT = 1,   /* classic text commands and replies */
	CT_MC_PROTO_META = 2,   /* meta commands (mg ms md ma mn me) and their replies */
	CT_MC_PROTO_BINARY = 3, /* binary protocol */
};

enum ct_mc_values {
	CT_MC_VALUES_NONE = 0, /* values are framed and skipped, not hashed */
	CT_MC_VALUES_HASH = 1, /* values are fingerprinted with XXH3-64 (seed 0) */
};

enum ct_mc_framing {
	CT_MC_FRAMING_AUTO = 0,   /* binary if the stream starts with the magic byte, else text */
	CT_MC_FRAMING_TEXT = 1,   /* text and meta (they share a connection) */
	CT_MC_FRAMING_BINARY = 2, /* binary */
};

/* Command and reply words. Text/meta requests and binary packets (both directions) carry the
 * command; text/meta replies carry the reply word (CT_MC_R_*). Binary quiet and key-returning
 * variants map to the base command with CT_MC_MF_QUIET / CT_MC_MF_RETKEY (GETKQ = GET + both);
 * m->opcode keeps the raw opcode. */
enum ct_mc_cmd {
	CT_MC_CMD_NONE = 0,
	CT_MC_CMD_UNKNOWN, /* a word or opcode we do not know (m->word / m->opcode has it) */
	CT_MC_CMD_GET,
	CT_MC_CMD_GETS,
	CT_MC_CMD_GAT,
	CT_MC_CMD_GATS,
	CT_MC_CMD_SET,
	CT_MC_CMD_ADD,
	CT_MC_CMD_REPLACE,
	CT_MC_CMD_APPEND,
	CT_MC_CMD_PREPEND,
	CT_MC_CMD_CAS,
	CT_MC_CMD_DELETE,
	CT_MC_CMD_INCR,
	CT_MC_CMD_DECR,
	CT_MC_CMD_TOUCH,
	CT_MC_CMD_FLUSH_ALL,
	CT_MC_CMD_VERBOSITY,
	CT_MC_CMD_VERSION,
	CT_MC_CMD_STATS,
	CT_MC_CMD_QUIT,
	CT_MC_CMD_SHUTDOWN,
	CT_MC_CMD_CACHE_MEMLIMIT,
	CT_MC_CMD_SLABS,
	CT_MC_CMD_LRU,
	CT_MC_CMD_LRU_CRAWLER,
	CT_MC_CMD_WATCH,
	CT_MC_CMD_MISBEHAVE,
	CT_MC_CMD_DEBUGTIME,
	CT_MC_CMD_MG, /* meta */
	CT_MC_CMD_MS,
	CT_MC_CMD_MD,
	CT_MC_CMD_MA,
	CT_MC_CMD_MN,
	CT_MC_CMD_ME,
	CT_MC_CMD_NOOP, /* binary only */
	CT_MC_CMD_SASL_LIST_MECHS,
	CT_MC_CMD_SASL_AUTH,
	CT_MC_CMD_SASL_STEP,
	CT_MC_CMD_BIN_OTHER, /* a known binary opcode with no text equivalent (range ops, TAP, vbucket) */
	/* text replies */
	CT_MC_R_VALUE,
	CT_MC_R_END,
	CT_MC_R_STORED,
	CT_MC_R_NOT_STORED,
	CT_MC_R_EXISTS,
	CT_MC_R_NOT_FOUND,
	CT_MC_R_DELETED,
	CT_MC_R_TOUCHED,
	CT_MC_R_OK,
	CT_MC_R_NUMBER, /* incr/decr result: m->number */
	CT_MC_R_VERSION,
	CT_MC_R_STAT,
	CT_MC_R_RESET,
	CT_MC_R_ERROR,
	CT_MC_R_CLIENT_ERROR,
	CT_MC_R_SERVER_ERROR,
	/* meta replies */
	CT_MC_R_HD,
	CT_MC_R_VA,
	CT_MC_R_EN,
	CT_MC_R_NF,
	CT_MC_R_NS,
	CT_MC_R_EX,
	CT_MC_R_MN,
	CT_MC_R_ME,
	CT_MC_R_UNKNOWN, /* a reply line we do not know (m->word has its first word) */
	CT_MC_CMD__COUNT
};

/* Message flags (m->flags). */
enum {
	CT_MC_MF_NOREPLY = 1u << 0,      /* text "noreply": the server answers only errors */
	CT_MC_MF_QUIET = 1u << 1,        /* meta q flag, binary quiet opcode: common reply suppressed */
	CT_MC_MF_RESYNCED = 1u << 2,     /* first message after an error, a gap or a mid-stream start */
	CT_MC_MF_VALUE = 1u << 3,        /* carries a value: value_len is its length */
	CT_MC_MF_HASHED = 1u << 4,       /* value_hash is XXH3-64 of the whole value */
	CT_MC_MF_GAP = 1u << 5,          /* bytes of the message body were lost in a gap (framing
					    kept): no hash; a binary key or extras cut by it are
					    left empty */
	CT_MC_MF_ABORTED = 1u << 6,      /* cut short (error, gap, end) after keys were delivered */
	CT_MC_MF_KEY_TOO_LONG = 1u << 7, /* a key longer than CT_MC_KEY_MAX_BYTES (not delivered) */
	CT_MC_MF_BAD_ARGS = 1u << 8,     /* arguments memcached rejects (count, number, flag syntax) */
	CT_MC_MF_BAD_KEY = 1u << 9,      /* a base64 key (meta b flag) that does not decode */
	CT_MC_MF_BAD_DATA = 1u << 10,    /* data block not followed by \r\n ("bad data chunk") */
	CT_MC_MF_KEY_BASE64 = 1u << 11,  /* m->key was base64-decoded (meta b flag) */
	CT_MC_MF_RETKEY = 1u << 12,      /* the reply carries the key (binary GETK..., meta k flag) */
	CT_MC_MF_UDP = 1u << 13,         /* came over UDP: m->udp_id is the frame's request id */
	CT_MC_MF_TEXT_TRUNC = 1u << 14,  /* m->text was cut at CT_MC_TEXT_MAX_BYTES */
};

/* Which numeric fields are present (m->have). */
enum {
	CT_MC_HAVE_FLAGS = 1u << 0,   /* client_flags: text flags, VALUE flags, meta F/f, binary */
	CT_MC_HAVE_EXPTIME = 1u << 1, /* exptime: text exptime, meta T/t, binary extras */
	CT_MC_HAVE_CAS = 1u << 2,     /* cas: cas/gets unique, meta C/c, binary header cas != 0 */
	CT_MC_HAVE_NUMBER = 1u << 3,  /* number: incr/decr delta, meta D, NUMBER reply, binary
					 incr/decr reply, verbosity level, flush_all delay */
	CT_MC_HAVE_INITIAL = 1u << 4, /* initial: binary incr/decr initial, meta J */
};

/* Meta flag bitmap: bit 0..25 = 'A'..'Z', bit 26..51 = 'a'..'z'. */
#define CT_MC_META_NFLAGS 52
static inline int ct_mc_meta_bit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return 26 + (c - 'a');
	return -1;
}
#define CT_MC_META(c) (1ull << ct_mc_meta_bit(c)) /* c must be a letter */

/* A byte string valid during the callback only (not NUL-terminated). */
struct ct_mc_tok {
	const uint8_t *p;
	uint32_t len;
};

struct ct_mc_msg {
	uint64_t first_off;   /* absolute stream offset of the first byte */
	uint64_t last_off;    /* ... and of the last byte (inclusive) */
	uint64_t first_ts_ns; /* capture time of the chunk carrying the first byte */
	uint64_t ts_ns;       /* capture time of the chunk carrying the last byte */
	uint8_t proto;        /* enum ct_mc_proto */
	uint8_t side;         /* enum ct_mc_side */
	uint16_t cmd;         /* enum ct_mc_cmd */
	uint32_t flags;       /* CT_MC_MF_* */
	uint32_t have;        /* CT_MC_HAVE_* */
	struct ct_mc_tok word; /* command/reply word as sent (text, meta); empty for binary */
	struct ct_mc_tok key;  /* the key (decoded if base64); empty for get/gets/gat/gats */
	uint32_t nkeys;        /* keys on the line: key callbacks made, or 1 when key is set */
	struct ct_mc_tok text; /* rest of the line, tokens joined by one space: VERSION, ERROR,
				  CLIENT_ERROR, SERVER_ERROR, STAT, ME, stats args, unknown
				  words; binary: error/version/stat value (first bytes) */
	uint32_t client_flags;
	int64_t exptime;
	uint64_t cas;
	uint64_t number;
	uint64_t initial;
	uint64_t value_len;  /* declared value length (with CT_MC_MF_VALUE) */
	uint64_t value_hash; /* with CT_MC_MF_HASHED */
	/* meta: flags bitmap and each flag's token (the bytes after the letter) */
	uint64_t meta_flags;
	uint8_t meta_mode; /* the M flag's mode character (ms: E A P R S, ma: I + D -), or 0 */
	struct {
		uint16_t off, len;
	} meta_tok[CT_MC_META_NFLAGS]; /* valid where the bit is set; bytes in meta_buf */
	const uint8_t *meta_buf;
	/* binary */
	uint8_t opcode;
	uint8_t datatype;
	uint16_t status;  /* response status (0 = success) */
	uint16_t vbucket; /* request vbucket id */
	uint32_t opaque;
	struct ct_mc_tok extras;
	/* UDP (with CT_MC_MF_UDP) */
	uint16_t udp_id;
};

/* Meta flag `c` present? Its token (possibly empty) goes to *tok. */
static inline int ct_mc_meta_get(const struct ct_mc_msg *m, int c, struct ct_mc_tok *tok)
{
	int b = ct_mc_meta_bit(c);
	if (b < 0 || !(m->meta_flags >> b & 1))
		return 0;
	if (tok) {
		tok->p = m->meta_buf + m->meta_tok[b].off;
		tok->len = m->meta_tok[b].len;
	}
	return 1;
}

struct ct_mc_cb {
	void (*msg)(void *ctx, const struct ct_mc_msg *m);
	/* Keys of get/gets/gat/gats; m is the message so far (word, first_off, exptime). */
	void (*key)(void *ctx, const struct ct_mc_msg *m, const uint8_t *key, uint32_t len,
		    uint32_t index);
	/* Optional: a stream error at offset `off`; decoding resyncs after it. */
	void (*error)(void *ctx, int err, const char *errstr, uint64_t off);
};

struct ct_mc_opts {
	uint8_t values;    /* enum ct_mc_values */
	uint8_t framing;   /* enum ct_mc_framing */
	uint8_t midstream; /* picked up mid-stream: start by resyncing */
	uint8_t no_resync; /* after the first error stop decoding (sticky) instead of resyncing */
};

struct ct_mc_counters {
	uint64_t bytes;           /* bytes fed (data chunks) */
	uint64_t msgs;            /* messages delivered */
	uint64_t keys;            /* keys delivered through the key callback */
	uint64_t values;          /* values framed */
	uint64_t value_bytes;     /* their declared bytes */
	uint64_t errors;          /* stream errors, all kinds (each is followed by a resync) */
	uint64_t resyncs;         /* times decoding found its footing again */
	uint64_t resync_bytes;    /* bytes skipped while resyncing */
	uint64_t gaps;            /* gaps reported */
	uint64_t gap_bytes;
	uint64_t gaps_in_value;   /* gaps absorbed inside a value of known length */
	uint64_t aborted;         /* partial messages dropped or closed early */
	uint64_t overlap_bytes;   /* bytes fed again (offset already passed) and skipped */
	uint64_t unknown_cmds;    /* unknown command/reply words and opcodes */
	uint64_t bad_args;        /* messages with CT_MC_MF_BAD_ARGS */
	uint64_t keys_too_long;   /* keys over CT_MC_KEY_MAX_BYTES */
	uint64_t bad_keys;        /* base64 keys that did not decode */
	uint64_t bad_data;        /* data blocks not followed by \r\n */
	uint64_t text_truncated;  /* messages with CT_MC_MF_TEXT_TRUNC */
	uint64_t line_too_long;   /* limit: CT_MC_LINE_MAX_BYTES / CT_MC_GET_LINE_MAX_BYTES */
	uint64_t too_many_tokens; /* limit: CT_MC_LINE_MAX_TOKENS */
	uint64_t value_too_long;  /* limit: CT_MC_VALUE_MAX_BYTES, or an unparsable length */
	uint64_t body_too_long;   /* limit: CT_MC_BIN_BODY_MAX_BYTES */
	uint64_t bad_frames;      /* binary headers that fail the checks; data blocks of a reply
				     not followed by \r\n */
};

/* The decoder, about 3.2 KB (the XXH3 state is 576 of them). Embed it; all fields are private
 * except the counters and the error triple (err, errstr, err_offset). */
struct ct_mc {
	/* configuration */
	uint8_t side, values, framing, no_resync;
	uint8_t proto;   /* framing in use: CT_MC_PROTO_TEXT (text+meta), _BINARY, or 0 undecided */
	uint8_t resync;  /* looking for a message start */
	uint8_t resynced_pending; /* the next message gets CT_MC_MF_RESYNCED */
	uint8_t stopped; /* no_resync and an error happened */
	uint8_t in_msg;  /* m is under construction */
	uint8_t key_in_chunk; /* m.key points into the current chunk: copy it out at chunk end */
	uint8_t udp;     /* fed by ct_mc_udp: stamp udp_id on messages */
	uint16_t udp_id;
	const struct ct_mc_cb *cb;
	void *ctx;
	/* position */
	uint64_t off;   /* stream offset of the next byte expected */
	uint64_t base;  /* stream offset of the current chunk's first byte */
	uint64_t ts_ns; /* capture time of the current chunk */
	/* sticky error: the first one */
	int err;
	const char *errstr;
	uint64_t err_offset;
	struct ct_mc_counters c;
	struct ct_mc_msg m;
	/* text framing */
	struct {
		uint8_t st;        /* LINE, SKIP, DATA, DATA_END */
		uint8_t def;       /* command table index of the line's word */
		uint8_t noreply_last; /* the last token seen was "noreply" */
		uint8_t tok_last;  /* last byte of the partial token */
		uint8_t bytes_ok;  /* the data length token parsed */
		uint8_t crlf;      /* bytes of the data block's \r\n seen */
		uint32_t ntok;     /* tokens so far on this line */
		uint32_t nargs;    /* positional arguments so far (not "noreply") */
		uint32_t toklen;   /* length of the partial token (beyond the buffer: counted) */
		uint32_t meta_used; /* bytes of metabuf in use */
		uint64_t tok_off;  /* stream offset of the token being handled */
		uint64_t line_len; /* bytes of this line so far */
		uint64_t line_cap;
		uint64_t left;     /* data block bytes still to come */
	} t;
	/* binary framing */
	struct {
		uint8_t st;    /* HDR, EXT, KEY, VALUE, SCAN */
		uint8_t hlen;  /* header bytes buffered */
		uint8_t extlen;
		uint8_t vhead_len;
		uint8_t capture; /* copy the value's first bytes into text (errors, version, stats) */
		uint16_t keylen;
		uint16_t got;  /* bytes of the current part (extras, key) collected */
		uint32_t bodylen;
		uint64_t left; /* value bytes still to come */
		uint64_t hdr_off, hdr_ts; /* offset and time of hdr[0] */
		uint8_t hdr[24];
		uint64_t hts[24]; /* capture time of each window byte (resync across chunks) */
		uint8_t vhead[8]; /* first value bytes: binary incr/decr result */
	} b;
	uint8_t hashing; /* state of the value fingerprint */
	int call_err;    /* first error of the current ct_mc_data call */
	/* fixed buffers */
	uint8_t tokbuf[CT_MC_TOKEN_MAX_BYTES];
	uint8_t keybuf[CT_MC_KEY_MAX_BYTES];
	uint8_t wordbuf[CT_MC_WORD_MAX_BYTES];
	uint8_t textbuf[CT_MC_TEXT_MAX_BYTES];
	uint8_t metabuf[CT_MC_META_BUF_BYTES];
	uint8_t extbuf[255];
	struct ct_hash xxh; /* streaming value fingerprint (hash.h) */
};

/* Sets up `d` for one direction. `o` may be NULL (defaults: hash values, auto framing).
 * Returns 0 or CT_EINVAL. */
int ct_mc_init(struct ct_mc *d, enum ct_mc_side side, const struct ct_mc_opts *o,
	       const struct ct_mc_cb *cb, void *ctx) CT_WUR;

/* Feeds the chunk at stream offset `off`, captured at `ts_ns`; invokes the callbacks for
 * everything it completes. An offset past the expected one is a gap; bytes already fed are
 * skipped. Returns 0, or the first stream error of this chunk (CT_EPROTO, CT_ELIMIT), which is
 * also counted, kept in err/errstr/err_offset and reported to cb->error: ignoring the return
 * value is fine. After an error with no_resync set, returns the sticky error. */
int ct_mc_data(struct ct_mc *d, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts_ns);

/* `len` bytes at `off` were lost. Inside a value of known length the framing is kept (the
 * message gets CT_MC_MF_GAP); anywhere else the partial message is dropped and the decoder
 * resyncs after the gap. */
void ct_mc_gap(struct ct_mc *d, uint64_t off, uint64_t len, uint64_t ts_ns);

/* The position in the stream is no longer known (lost UDP datagram): drop the partial
 * message and resync. */
void ct_mc_resync(struct ct_mc *d);

/* A message starts at the next byte (start of a UDP response or request): drop any partial
 * message and stop resyncing. */
void ct_mc_boundary(struct ct_mc *d);

/* End of stream: a partial message is dropped (counted in aborted; closed with
 * CT_MC_MF_ABORTED if its keys were delivered). */
void ct_mc_end(struct ct_mc *d, uint64_t ts_ns);

/* Payload detection for unconfigured ports. */
enum ct_mc_detect_result {
	CT_MC_DETECT_UNKNOWN = 0, /* not memcached (as far as these bytes show) */
	CT_MC_DETECT_NEED_MORE,   /* could be memcached: no complete line/header yet */
	CT_MC_DETECT_TEXT,        /* a complete, valid text/meta command or reply line */
	CT_MC_DETECT_BINARY,      /* a complete, plausible binary header */
};
struct ct_mc_guess {
	uint8_t proto;         /* CT_MC_PROTO_TEXT/META/BINARY */
	uint8_t side;          /* which side sent it: request -> CLIENT, reply -> SERVER */
	uint16_t cmd;          /* the command or reply it saw */
	uint32_t evidence_len; /* bytes of the line (with \n) or header that prove it */
};

/* Looks at the first bytes of a stream (either direction). */
enum ct_mc_detect_result ct_mc_detect(const uint8_t *p, size_t len, struct ct_mc_guess *g);

/* Upper-case name of a command or reply ("SET", "MG", "VALUE", "UNKNOWN"). */
const char *ct_mc_cmd_name(unsigned cmd);
const char *ct_mc_proto_name(unsigned proto);
/* Binary opcode name ("GETKQ"), or NULL when unknown. */
const char *ct_mc_bin_opcode_name(uint8_t opcode);

/* ---- UDP (src/mc_udp.c) ----
 *
 *   0       2       4       6       8
 *   +-------+-------+-------+-------+----------------------------+
 *   | reqid | seq   | total | rsvd  | payload (text or binary)    |
 *   +-------+-------+-------+-------+----------------------------+
 *   all big endian; seq counts 0..total-1 within one request id.
 *
 * ct_mc_udp owns a decoder and feeds it each request id's datagrams in sequence order, each
 * response starting at a message boundary. Offsets in its messages are a pseudo stream: the
 * payloads (without frame headers) concatenated in delivery order. Out-of-order datagrams wait
 * in CT_MC_UDP_SLOTS fixed slots; a missing datagram is declared lost when the slots are full,
 * when the response is older than CT_MC_UDP_WAIT_NS at a newer datagram, or at flush. */
struct ct_mc_udp_hdr {
	uint16_t req_id, seq, total, reserved;
};

/* Parses the 8-byte frame header. Returns 0, or CT_ETRUNC (short) / CT_EPROTO (total 0 or
 * seq >= total). */
int ct_mc_udp_hdr_parse(const uint8_t *p, size_t len, struct ct_mc_udp_hdr *h) CT_WUR;

struct ct_mc_udp_counters {
	uint64_t datagrams;   /* datagrams offered */
	uint64_t bad_headers; /* short or inconsistent frame headers, dropped */
	uint64_t responses;   /* request ids completed with every datagram */
	uint64_t incomplete;  /* request ids given up with datagrams missing */
	uint64_t lost;        /* datagrams declared lost */
	uint64_t reordered;   /* datagrams that arrived before an earlier one of their id */
	uint64_t duplicates;  /* datagrams already delivered, dropped */
};

struct ct_mc_udp_slot {
	uint16_t req_id, seq, total, used;
	uint32_t len;
	uint64_t ts_ns;
	uint8_t buf[CT_MC_UDP_SLOT_BYTES];
};

/* About 15 KB: the decoder plus CT_MC_UDP_SLOTS waiting datagrams. */
struct ct_mc_udp {
	struct ct_mc dec; /* its counters describe the payload */
	uint64_t off;     /* pseudo stream offset of the next payload byte */
	uint64_t last_ts_ns; /* capture time of the current id's latest datagram */
	uint16_t cur_id, cur_total, next_seq;
	uint8_t active;   /* cur_id is being delivered */
	uint8_t cur_lost; /* cur_id has lost datagrams */
	uint8_t nused;    /* slots in use */
	struct ct_mc_udp_counters c;
	struct ct_mc_udp_slot slot[CT_MC_UDP_SLOTS];
};

int ct_mc_udp_init(struct ct_mc_udp *u, enum ct_mc_side side, const struct ct_mc_opts *o,
		   const struct ct_mc_cb *cb, void *ctx) CT_WUR;
/* One datagram payload (frame header included), captured at ts_ns. Returns 0, or the frame
 * header error (counted; the datagram is dropped). */
int ct_mc_udp_datagram(struct ct_mc_udp *u, const uint8_t *p, uint32_t len, uint64_t ts_ns);
/* Delivers everything waiting (missing datagrams counted lost) and ends the decoder's message. */
void ct_mc_udp_flush(struct ct_mc_udp *u, uint64_t ts_ns);

/* ---- internal: shared by src/mc_text.c and src/mc_bin.c, not for callers ---- */
void ct_mc_msg_begin(struct ct_mc *d, uint64_t off, uint64_t ts_ns, uint8_t proto);
void ct_mc_msg_emit(struct ct_mc *d, uint64_t last_off);
void ct_mc_msg_drop(struct ct_mc *d, int aborted);
void ct_mc_fail(struct ct_mc *d, int err, const char *errstr, uint64_t off);
void ct_mc_msg_accept(struct ct_mc *d);
void ct_mc_value_begin(struct ct_mc *d, uint64_t len);
void ct_mc_value_update(struct ct_mc *d, const uint8_t *p, uint32_t n, int last);
void ct_mc_value_end(struct ct_mc *d);
uint32_t ct_mc_bin_feed(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos);
void ct_mc_bin_gap(struct ct_mc *d, uint64_t off, uint64_t len);
void ct_mc_bin_reset(struct ct_mc *d);
int ct_mc_bin_probe(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos, uint32_t *end);
void ct_mc_bin_start_probed(struct ct_mc *d);
int ct_mc_bin_plausible(const uint8_t *h, int side, uint16_t *cmd);

#endif
