/* The RESP decoder: turns one direction of a Redis connection, fed in arbitrary chunks, into
 * element, aggregate and message events without copying or allocating (see resp.h).
 *
 * Spec: the Redis serialization protocol, RESP2 and RESP3 (redis.io protocol-spec). Where it is
 * silent we follow Redis 7: commands as networking.c reads them (a line starting with '*' is a
 * multibulk of '$' strings, any other line an inline command split like sdssplitargs), replies
 * as hiredis read.c, and the replication RDB transfer as replication.c sends it.
 *
 * Limits (limits.h, CT_RESP_*): nesting depth, declared aggregate count, bulk length, inline line
 * length, header and simple-line length, RDB length. Each hit is an error (counted by name) and
 * a resync. Payloads of any size are skipped in place: only the first CT_RESP_ELEM_CAP_BYTES of
 * an element are ever copied, and hashing streams.
 *
 * The state is a handful of plain fields, after redis networking.c (multibulklen, bulklen): the
 * byte expected next (st), the element being read (etype, eoff, line_len or left, crlf) and a
 * fixed stack of open aggregates (what each still expects and the index of its next child). */
#include <string.h>

#include "cachetap/reasm.h"
#include "cachetap/resp.h"

/* What the next byte is. */
enum {
	S_TYPE,     /* the type byte of an element (at depth 0: a message start) */
	S_LINE,     /* the rest of a line after its type byte, up to LF */
	S_BULK,     /* bulk payload (left bytes), then its CRLF (crlf bytes) */
	S_INLINE,   /* an inline command line */
	S_RDB_SKIP, /* RDB payload of known length (left bytes) */
	S_RDB_MARK, /* diskless RDB payload, up to the end of the 40-byte mark */
	S_SKIP,     /* resync: skipping to the next LF */
	S_START,    /* resync: at a line start */
	S_CAND,     /* resync: saw a plausible first byte (cand), checking the second */
	S_ICAND,    /* resync (client): holding a line that may be an inline command */
	S_ICAND_NEXT, /* ... it ended: waiting for the next line's first byte */
};

/* Inline argument splitting, sdssplitargs as a byte-at-a-time machine. */
enum {
	I_BLANK,    /* between arguments */
	I_UNQ,      /* in an argument, outside quotes */
	I_DQ,       /* inside "double quotes" */
	I_DQ_ESC,   /* after a backslash inside double quotes */
	I_DQ_X,     /* after \x */
	I_DQ_X1,    /* after \x and one hex digit (ihex) */
	I_DQ_CLOSE, /* after the closing double quote: a blank or the line end must follow */
	I_SQ,       /* inside 'single quotes' */
	I_SQ_ESC,   /* after a backslash inside single quotes */
	I_SQ_CLOSE, /* after the closing single quote */
};

/* Type byte kinds: how the line after it is read. */
enum {
	K_NONE = 0, /* not a type byte */
	K_STR,      /* + - ( : a text line, up to CT_RESP_LINE_MAX_BYTES */
	K_HDR,      /* : , # _ : a short line, up to CT_RESP_HEADER_MAX_BYTES */
	K_BULK,     /* $ ! = : a length (a K_HDR line), then payload and CRLF */
	K_AGG,      /* * % ~ | > : a count (a K_HDR line), then children */
};

static const uint8_t kind[256] = {
	['+'] = K_STR, ['-'] = K_STR, ['('] = K_STR,
	[':'] = K_HDR, [','] = K_HDR, ['#'] = K_HDR, ['_'] = K_HDR,
	['$'] = K_BULK, ['!'] = K_BULK, ['='] = K_BULK,
	['*'] = K_AGG, ['%'] = K_AGG, ['~'] = K_AGG, ['|'] = K_AGG, ['>'] = K_AGG,
};

#define CAP CT_RESP_ELEM_CAP_BYTES
#define MARK CT_RESP_RDB_MARK_BYTES

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------------------------------------------ */
/* Hashing                                                                                    */

static XXH3_state_t *xxh(struct ct_resp *d)
{
	return ct_hash_state(&d->xxh);
}

/* ------------------------------------------------------------------------------------------ */
/* Numbers, from bytes with explicit lengths (no NUL, no strto*).                             */

enum { NUM_OK, NUM_BAD, NUM_RANGE };

/* [-]digits (and [+] when plus is set) into an int64; NUM_RANGE on overflow, however many
 * digits follow (an 80-digit number is an error, never undefined behaviour). */
static int parse_i64(const uint8_t *s, uint64_t n, int plus, int64_t *out)
{
	uint64_t i = 0, v = 0, lim = (uint64_t)INT64_MAX;
	int neg = 0;
	if (n && (s[0] == '-' || (plus && s[0] == '+'))) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return NUM_BAD;
	if (neg)
		lim++;
	for (; i < n; i++) {
		unsigned dg = (unsigned)s[i] - '0';
		if (dg > 9)
			return NUM_BAD;
		if (v > (lim - dg) / 10) {
			/* still say BAD when a non-digit follows: the line is not a number at all */
			for (i++; i < n; i++)
				if ((unsigned)s[i] - '0' > 9)
					return NUM_BAD;
			return NUM_RANGE;
		}
		v = v * 10 + dg;
	}
	if (!neg)
		*out = (int64_t)v;
	else
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	return NUM_OK;
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* ( big number: [+-]digits */
static int valid_bignum(const uint8_t *s, uint64_t n)
{
	uint64_t i = n && (s[0] == '-' || s[0] == '+');
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* , double: what Redis prints (%.17g, inf, -inf, nan) and the spec allows: a sign, digits, '.',
 * an exponent; checked loosely, as text. */
static int valid_double(const uint8_t *s, uint64_t n)
{
	uint64_t i = n && (s[0] == '-' || s[0] == '+');
	int digits = 0;
	if (n - i == 3 && (memcmp(s + i, "inf", 3) == 0 || memcmp(s + i, "nan", 3) == 0))
		return 1;
	for (; i < n; i++) {
		uint8_t c = s[i];
		if (is_digit(c))
			digits = 1;
		else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+')
			return 0;
	}
	return digits;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* isspace() in the C locale, as sdssplitargs uses it between arguments */
static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int is_letter(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ------------------------------------------------------------------------------------------ */
/* Events                                                                                     */

/* Where a new child of the innermost open aggregate sits. */
static void place(const struct ct_resp *d, uint32_t *depth, uint32_t *index, uint32_t *top,
		  uint16_t *flags)
{
	*depth = d->depth;
	*index = d->depth ? d->stack[d->depth - 1].index : 0;
	*top = d->depth ? d->stack[0].index : 0;
	*flags = d->depth ? d->stack[d->depth - 1].attr : 0;
}

static void msg_begin(struct ct_resp *d, uint64_t off, uint64_t ts)
{
	d->in_msg = 1;
	d->msg_off = off;
	d->msg_ts = ts;
	d->msg_flags = 0;
	d->msg_type = 0;
	d->msg_count = 0;
	d->msg_nonnull = 0;
}

static void msg_done(struct ct_resp *d)
{
	struct ct_resp_msg m;
	m.first_off = d->msg_off;
	m.last_off = d->last_off;
	m.first_ts_ns = d->msg_ts;
	m.ts_ns = d->ts_ns;
	m.seq = d->msg_seq++;
	m.type = d->msg_type;
	m.flags = d->msg_flags | (d->resynced_pending ? CT_RESP_MF_RESYNCED : 0);
	m.count = d->msg_count;
	m.nonnull = d->msg_nonnull;
	d->resynced_pending = 0;
	d->in_msg = 0;
	d->quiet = 0;
	d->c.msgs++;
	if (d->cb && d->cb->msg)
		d->cb->msg(d->cbctx, &m);
}

static void emit_agg(struct ct_resp *d, int end, uint8_t type, uint16_t flags, uint64_t off,
		     int64_t count)
{
	struct ct_resp_agg a;
	uint16_t fl;
	place(d, &a.depth, &a.index, &a.top_index, &fl);
	a.off = off;
	a.last_off = d->last_off;
	a.msg_seq = d->msg_seq;
	a.type = type;
	a.flags = (uint16_t)(fl | flags);
	a.count = count;
	if (!end) {
		d->c.aggs++;
		if (a.depth == 1 && !(a.flags & CT_RESP_EF_ATTR))
			d->msg_nonnull++;
	}
	if (d->quiet)
		return;
	void (*f)(void *, const struct ct_resp_agg *) =
		d->cb ? (end ? d->cb->agg_end : d->cb->agg_begin) : NULL;
	if (f)
		f(d->cbctx, &a);
}

/* Reports a leaf at the current position; `p` holds at least min(len, CAP) bytes. */
static void emit_elem(struct ct_resp *d, uint8_t type, uint16_t flags, uint64_t off, int64_t len,
		      const uint8_t *p, int64_t ival, uint64_t hash)
{
	struct ct_resp_elem e;
	uint16_t fl;
	place(d, &e.depth, &e.index, &e.top_index, &fl);
	e.off = off;
	e.last_off = d->last_off;
	e.msg_seq = d->msg_seq;
	e.type = type;
	e.len = len;
	e.p = p ? p : d->scratch;
	e.n = len > 0 ? (uint32_t)min64((uint64_t)len, CAP) : 0;
	if (len > (int64_t)CAP) {
		fl |= CT_RESP_EF_TRUNCATED;
		d->c.truncated++;
	}
	e.flags = (uint16_t)(fl | flags);
	e.ival = ival;
	e.hash = hash;
	d->c.elems++;
	if (e.depth == 1 && !(e.flags & (CT_RESP_EF_NULL | CT_RESP_EF_ATTR)))
		d->msg_nonnull++;
	if (d->quiet)
		return;
	if (d->cb && d->cb->elem)
		d->cb->elem(d->cbctx, &e);
}

/* A child of the innermost aggregate is complete (a leaf, or an aggregate that just ended):
 * count it, and close every aggregate that it completes. Attributes do not count as children
 * of their parent, and a top-level attribute does not complete the message. */
static void child_done(struct ct_resp *d, int attr)
{
	for (;;) {
		if (d->depth == 0) {
			if (!attr)
				msg_done(d);
			return;
		}
		struct ct_resp_frame *f = &d->stack[d->depth - 1];
		if (!attr) {
			f->index++;
			f->left--;
		}
		if (f->left)
			return;
		d->depth--;
		emit_agg(d, 1, f->type, f->type == '|' ? CT_RESP_EF_ATTR : 0, f->off, f->count);
		attr = f->type == '|';
	}
}

static void leaf(struct ct_resp *d, uint8_t type, uint16_t flags, int64_t len, const uint8_t *p,
		 int64_t ival, uint64_t hash)
{
	if (d->depth == 0 && (flags & CT_RESP_EF_NULL)) {
		d->msg_flags |= CT_RESP_MF_NULL;
		d->msg_count = -1;
	}
	d->st = S_TYPE;
	emit_elem(d, type, flags, d->eoff, len, p, ival, hash);
	child_done(d, 0);
}

/* Drops the message under way (reported to cb->abort) and any partial element. */
static void drop(struct ct_resp *d, int why)
{
	if (d->in_msg) {
		d->c.aborted++;
		if (d->cb && d->cb->abort)
			d->cb->abort(d->cbctx, d->msg_off, why);
	}
	d->in_msg = 0;
	d->quiet = 0;
	d->depth = 0;
	d->resynced_pending = 1;
}

/* A stream error at `off`: counted (in errors and in *kind), kept if it is the first, reported,
 * and the decoder resyncs. `line_start`: the bytes consumed so far end a line, so the next byte
 * is a line start; otherwise the rest of the current line is skipped first. */
static void fail(struct ct_resp *d, int err, const char *errstr, uint64_t off, uint64_t *kind_ctr,
		 int line_start)
{
	d->c.errors++;
	(*kind_ctr)++;
	if (!d->err) {
		d->err = err;
		d->errstr = errstr;
		d->err_offset = off;
	}
	if (!d->call_err)
		d->call_err = err;
	if (d->cb && d->cb->error)
		d->cb->error(d->cbctx, err, errstr, off);
	drop(d, err);
	d->st = line_start ? S_START : S_SKIP;
}

/* ------------------------------------------------------------------------------------------ */
/* Lines: simple strings, numbers and headers                                                 */

/* An element starts at its type byte. */
static void elem_begin(struct ct_resp *d, uint8_t type, uint64_t off, uint64_t ts)
{
	if (d->depth == 0) {
		if (!d->in_msg)
			msg_begin(d, off, ts);
		if (type == '|') {
			d->msg_flags |= CT_RESP_MF_ATTR;
		} else {
			d->msg_type = type;
			if (type == '-' || type == '!')
				d->msg_flags |= CT_RESP_MF_ERROR;
			else if (type == '>')
				d->msg_flags |= CT_RESP_MF_PUSH;
		}
	}
	d->etype = type;
	d->eoff = off;
	d->ets = ts;
	d->line_len = 0;
	d->used = 0;
	d->egap = 0;
	d->st = S_LINE;
}

/* Keeps line bytes that may be needed after this chunk: the first CAP in scratch. */
static void line_keep(struct ct_resp *d, const uint8_t *q, uint32_t n)
{
	if (!n)
		return;
	if (d->used < CAP) {
		uint32_t k = (uint32_t)min64(n, CAP - d->used);
		memcpy(d->scratch + d->used, q, k);
		d->used += k;
	}
	d->line_len += n;
	d->last = q[n - 1];
}

static uint32_t bulk_header(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos,
			    const uint8_t *lp, uint64_t n);
static uint32_t agg_header(struct ct_resp *d, const uint8_t *lp, uint64_t n, uint32_t pos);

/*   +OK\r\n   -ERR msg\r\n   :-12\r\n   ,1.5\r\n   (123\r\n   #t\r\n   _\r\n
 *   $3\r\n...  *2\r\n...  (and ! = % ~ | >)
 * A line is its type byte, text without CR or LF, then CRLF. `lp`/`n` is the text; all of it is
 * readable for header kinds (n < CAP), at least min(n, CAP) bytes for K_STR. */
static uint32_t line_done(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos,
			  const uint8_t *lp, uint64_t n)
{
	int64_t v = 0;
	int r;
	const char *bad;
	switch (d->etype) {
	case '+':
	case '-':
		leaf(d, d->etype, 0, (int64_t)n, lp, 0, 0);
		return pos;
	case '(':
		bad = "bad big number";
		if (!valid_bignum(lp, min64(n, CAP))) /* a longer one: its readable start */
			break;
		leaf(d, d->etype, 0, (int64_t)n, lp, 0, 0);
		return pos;
	case ',':
		bad = "bad double";
		if (!valid_double(lp, n))
			break;
		leaf(d, d->etype, 0, (int64_t)n, lp, 0, 0);
		return pos;
	case '#':
		bad = "bad boolean";
		if (n != 1 || (lp[0] != 't' && lp[0] != 'f'))
			break;
		leaf(d, d->etype, CT_RESP_EF_INT, 1, lp, lp[0] == 't', 0);
		return pos;
	case '_':
		bad = "bad null";
		if (n != 0)
			break;
		leaf(d, d->etype, CT_RESP_EF_NULL, 0, lp, 0, 0);
		return pos;
	case ':':
		r = parse_i64(lp, n, 1, &v);
		if (r != NUM_OK) {
			fail(d, CT_EPROTO, r == NUM_RANGE ? "integer out of range" : "bad integer",
			     d->eoff, &d->c.bad_number, 1);
			return pos;
		}
		leaf(d, d->etype, CT_RESP_EF_INT, (int64_t)n, lp, v, 0);
		return pos;
	case '$':
	case '!':
	case '=':
		return bulk_header(d, p, len, pos, lp, n);
	default:
		return agg_header(d, lp, n, pos);
	}
	fail(d, CT_EPROTO, bad, d->eoff, &d->c.bad_value, 1);
	return pos;
}

/* S_LINE: scans for the LF with memchr, at most as far as the line may reach. The line is used
 * in place when its type byte is in this chunk, else from scratch. */
static uint32_t in_line(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	uint64_t max = (kind[d->etype] == K_STR ? CT_RESP_LINE_MAX_BYTES : CT_RESP_HEADER_MAX_BYTES) - 1;
	uint64_t room = max - d->line_len; /* bytes after the type byte, LF included */
	uint32_t scan = (uint32_t)min64(room, len - pos);
	const uint8_t *nl = scan ? memchr(p + pos, '\n', scan) : NULL;
	if (!nl) {
		line_keep(d, p + pos, scan);
		if (scan == room)
			fail(d, CT_ELIMIT,
			     kind[d->etype] == K_STR ? "line longer than CT_RESP_LINE_MAX_BYTES"
						     : "line longer than CT_RESP_HEADER_MAX_BYTES",
			     d->eoff, &d->c.line_too_long, 0);
		return pos + scan;
	}
	uint32_t k = (uint32_t)(nl - (p + pos));
	const uint8_t *lp;
	uint8_t last = k ? p[pos + k - 1] : d->last;
	uint64_t n;
	if (d->eoff >= d->base) { /* the whole line is in this chunk */
		lp = p + pos;
		n = k;
	} else {
		line_keep(d, p + pos, k);
		lp = d->scratch;
		n = d->line_len;
	}
	pos += k + 1;
	d->last_off = d->base + pos - 1;
	if (n == 0 || last != '\r') {
		fail(d, CT_EPROTO, "line not ended by CRLF", d->eoff, &d->c.bad_line, 1);
		return pos;
	}
	d->st = S_TYPE;
	return line_done(d, p, len, pos, lp, n - 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Bulk strings and aggregates                                                                */

static void rdb_begin_mark(struct ct_resp *d, const uint8_t *mark)
{
	memcpy(d->rdb_mark, mark, MARK);
	/* KMP failure function: rdb_fail[i] = length of the longest proper border of mark[0..i] */
	d->rdb_fail[0] = 0;
	for (uint32_t i = 1, k = 0; i < MARK; i++) {
		while (k && d->rdb_mark[i] != d->rdb_mark[k])
			k = d->rdb_fail[k - 1];
		if (d->rdb_mark[i] == d->rdb_mark[k])
			k++;
		d->rdb_fail[i] = (uint8_t)k;
	}
	d->rdb_match = 0;
	d->left = 0; /* counts the bytes consumed, mark included */
	d->msg_flags |= CT_RESP_MF_RDB | CT_RESP_MF_RDB_EOF;
	d->st = S_RDB_MARK;
}

static void rdb_done(struct ct_resp *d, uint64_t payload)
{
	d->c.rdb_payloads++;
	d->msg_count = (int64_t)payload;
	d->st = S_TYPE;
	msg_done(d);
}

/* The replication RDB header, in place of a bulk string header:
 *   $<len>\r\n<len bytes>                         disk mode: no CRLF after the payload
 *   $EOF:<40 bytes>\r\n<payload><same 40 bytes>   diskless mode */
static uint32_t rdb_header(struct ct_resp *d, uint32_t pos, const uint8_t *lp, uint64_t n)
{
	int64_t v;
	d->rdb_expect = 0;
	if (n == 4 + MARK && memcmp(lp, "EOF:", 4) == 0) {
		rdb_begin_mark(d, lp + 4);
		return pos;
	}
	int r = parse_i64(lp, n, 0, &v);
	if (r != NUM_OK || v < 0) {
		fail(d, CT_EPROTO, "bad RDB payload length", d->eoff, &d->c.bad_number, 1);
		return pos;
	}
	if ((uint64_t)v > CT_RESP_RDB_MAX_BYTES) {
		fail(d, CT_ELIMIT, "RDB payload longer than CT_RESP_RDB_MAX_BYTES", d->eoff,
		     &d->c.bulk_too_long, 1);
		return pos;
	}
	d->msg_flags |= CT_RESP_MF_RDB;
	d->msg_count = v;
	d->left = (uint64_t)v;
	d->st = S_RDB_SKIP;
	if (v == 0)
		rdb_done(d, 0);
	return pos;
}

static void bulk_done(struct ct_resp *d, const uint8_t *q)
{
	uint16_t fl = 0;
	uint64_t h = 0;
	int64_t n = d->elen;
	if (d->egap) {
		fl |= CT_RESP_EF_GAP;
	} else if (d->values == CT_RESP_VALUES_HASH && !d->quiet) {
		fl |= CT_RESP_EF_HASHED;
		h = q ? XXH3_64bits(q, (size_t)n) : XXH3_64bits_digest(xxh(d));
	}
	if (!q)
		q = d->scratch;
	/* =<len>\r\ntxt:<data>\r\n: a verbatim string starts with a 3-byte format and ':' */
	if (d->etype == '=' && !d->egap && (n < 4 || q[3] != ':')) {
		fail(d, CT_EPROTO, "verbatim string without its format prefix", d->eoff,
		     &d->c.bad_value, 1);
		return;
	}
	leaf(d, d->etype, fl, n, q, 0, h);
}

/*   $<len>\r\n<len bytes>\r\n     (and ! bulk error, = verbatim)      $-1\r\n: null (RESP2)
 * A payload that is all in this chunk is reported in place and hashed in one go; otherwise it is
 * streamed (S_BULK): its first CAP bytes are kept, and it is hashed piece by piece. */
static uint32_t bulk_header(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos,
			    const uint8_t *lp, uint64_t n)
{
	int64_t v;
	if (d->rdb_expect && d->depth == 0 && d->etype == '$')
		return rdb_header(d, pos, lp, n);
	int r = parse_i64(lp, n, 0, &v);
	if (r != NUM_OK) {
		fail(d, CT_EPROTO, r == NUM_RANGE ? "length out of range" : "bad length", d->eoff,
		     &d->c.bad_number, 1);
		return pos;
	}
	if (v < 0) {
		/* hiredis takes $-1 as nil; Redis never accepts a negative length in a command */
		if (v == -1 && d->etype == '$' && d->side == CT_RESP_SIDE_SERVER) {
			leaf(d, '$', CT_RESP_EF_NULL, -1, NULL, 0, 0);
			return pos;
		}
		fail(d, CT_EPROTO, "negative length", d->eoff, &d->c.bad_number, 1);
		return pos;
	}
	if ((uint64_t)v > CT_RESP_BULK_MAX_BYTES) {
		fail(d, CT_ELIMIT, "bulk string longer than CT_RESP_BULK_MAX_BYTES", d->eoff,
		     &d->c.bulk_too_long, 1);
		return pos;
	}
	if (d->depth == 0)
		d->msg_count = v;
	d->elen = v;
	d->used = 0;
	if ((uint64_t)(len - pos) >= (uint64_t)v + 2) {
		const uint8_t *q = p + pos;
		uint32_t b = (uint32_t)v;
		if (q[b] != '\r' || q[b + 1] != '\n') {
			fail(d, CT_EPROTO, "bulk string not followed by CRLF",
			     d->base + pos + b + (q[b] == '\r'), &d->c.bad_line, 0);
			return pos + b;
		}
		d->last_off = d->base + pos + b + 1;
		bulk_done(d, q);
		return pos + b + 2;
	}
	d->left = (uint64_t)v;
	d->crlf = 2;
	if (d->values == CT_RESP_VALUES_HASH && !d->quiet)
		(void)XXH3_64bits_reset(xxh(d));
	d->st = S_BULK;
	return pos;
}

/* S_BULK: payload bytes, then the CRLF. */
static uint32_t in_bulk(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	if (d->left) {
		uint32_t take = (uint32_t)min64(d->left, len - pos);
		if (d->used < CAP && !d->quiet) {
			uint32_t k = (uint32_t)min64(take, CAP - d->used);
			memcpy(d->scratch + d->used, p + pos, k);
			d->used += k;
		}
		if (d->values == CT_RESP_VALUES_HASH && !d->egap && !d->quiet)
			(void)XXH3_64bits_update(xxh(d), p + pos, take);
		d->left -= take;
		pos += take;
		if (d->left)
			return pos;
	}
	while (d->crlf && pos < len) {
		if (p[pos] != (d->crlf == 2 ? '\r' : '\n')) {
			fail(d, CT_EPROTO, "bulk string not followed by CRLF", d->base + pos,
			     &d->c.bad_line, 0);
			return pos;
		}
		pos++;
		d->crlf--;
	}
	if (!d->crlf) {
		d->last_off = d->base + pos - 1;
		bulk_done(d, NULL);
	}
	return pos;
}

/*   *<count>\r\n then count elements      *-1\r\n: null array (RESP2)
 *   %<pairs>\r\n then 2*pairs elements     (and ~ set, > push, | attribute) */
static uint32_t agg_header(struct ct_resp *d, const uint8_t *lp, uint64_t n, uint32_t pos)
{
	int64_t v;
	uint8_t t = d->etype;
	int r = parse_i64(lp, n, 0, &v);
	if (r != NUM_OK) {
		fail(d, CT_EPROTO, r == NUM_RANGE ? "count out of range" : "bad count", d->eoff,
		     &d->c.bad_number, 1);
		return pos;
	}
	if (d->side == CT_RESP_SIDE_CLIENT && v <= 0) {
		/* networking.c: a multibulk count <= 0 is a command of nothing; no reply */
		d->c.empty_cmds++;
		d->in_msg = 0;
		return pos;
	}
	if (v < 0) {
		if (v == -1 && t == '*') {
			leaf(d, '*', CT_RESP_EF_NULL, -1, NULL, 0, 0);
			return pos;
		}
		fail(d, CT_EPROTO, "negative count", d->eoff, &d->c.bad_number, 1);
		return pos;
	}
	if ((uint64_t)v > CT_RESP_AGG_MAX_ELEMS) {
		fail(d, CT_ELIMIT, "aggregate longer than CT_RESP_AGG_MAX_ELEMS", d->eoff,
		     &d->c.too_many_elems, 1);
		return pos;
	}
	uint64_t children = (t == '%' || t == '|') ? 2 * (uint64_t)v : (uint64_t)v;
	if (children && d->depth >= CT_RESP_MAX_DEPTH) {
		fail(d, CT_ELIMIT, "nesting deeper than CT_RESP_MAX_DEPTH", d->eoff,
		     &d->c.depth_exceeded, 1);
		return pos;
	}
	uint16_t attr = t == '|' ? CT_RESP_EF_ATTR : 0;
	if (d->depth == 0 && t != '|')
		d->msg_count = v;
	emit_agg(d, 0, t, attr, d->eoff, v);
	if (!children) {
		emit_agg(d, 1, t, attr, d->eoff, v);
		child_done(d, t == '|');
		return pos;
	}
	struct ct_resp_frame *f = &d->stack[d->depth];
	f->off = d->eoff;
	f->count = v;
	f->left = (uint32_t)children;
	f->index = 0;
	f->type = t;
	f->attr = (uint8_t)((d->depth ? d->stack[d->depth - 1].attr : 0) | attr);
	d->depth++;
	return pos;
}

/* ------------------------------------------------------------------------------------------ */
/* Inline commands                                                                            */

static void inline_begin(struct ct_resp *d, uint64_t off, uint64_t ts)
{
	d->eoff = off;
	d->ets = ts;
	d->line_len = 0;
	d->ist = I_BLANK;
	d->in_cr = 0;
	d->st = S_INLINE;
}

static void arg_begin(struct ct_resp *d, uint64_t off)
{
	if (!d->in_msg) {
		msg_begin(d, d->eoff, d->ets);
		d->msg_type = '*';
		d->msg_flags |= CT_RESP_MF_INLINE;
		d->last_off = d->eoff;
		emit_agg(d, 0, '*', CT_RESP_EF_INLINE, d->eoff, 0);
		struct ct_resp_frame *f = &d->stack[0];
		f->off = d->eoff;
		f->count = 0;
		f->left = 0;
		f->index = 0;
		f->type = '*';
		f->attr = 0;
		d->depth = 1;
	}
	d->aoff = off;
	d->alast = off;
	d->alen = 0;
	d->hspill = 0;
	d->stage_n = 0;
}

/* One unescaped argument byte: the first CAP into scratch, the rest staged for the hash. */
static void arg_put(struct ct_resp *d, uint8_t c)
{
	if (d->alen < CAP) {
		d->scratch[d->alen] = c;
	} else if (d->values == CT_RESP_VALUES_HASH) {
		if (!d->hspill) {
			(void)XXH3_64bits_reset(xxh(d));
			(void)XXH3_64bits_update(xxh(d), d->scratch, CAP);
			d->hspill = 1;
		}
		d->stage[d->stage_n++] = c;
		if (d->stage_n == sizeof d->stage) {
			(void)XXH3_64bits_update(xxh(d), d->stage, d->stage_n);
			d->stage_n = 0;
		}
	}
	d->alen++;
}

static void arg_done(struct ct_resp *d)
{
	uint16_t fl = CT_RESP_EF_INLINE;
	uint64_t h = 0;
	if (d->values == CT_RESP_VALUES_HASH) {
		fl |= CT_RESP_EF_HASHED;
		if (d->hspill) {
			(void)XXH3_64bits_update(xxh(d), d->stage, d->stage_n);
			h = XXH3_64bits_digest(xxh(d));
		} else {
			h = XXH3_64bits(d->scratch, (size_t)d->alen);
		}
	}
	d->last_off = d->alast;
	emit_elem(d, '$', fl, d->aoff, (int64_t)d->alen, d->scratch, 0, h);
	d->stack[0].index++;
}

static uint8_t unescape(uint8_t c)
{
	switch (c) {
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'b': return '\b';
	case 'a': return '\a';
	default: return c;
	}
}

/* One byte of an inline line (not its final CR LF), as sdssplitargs would take it. Returns 0
 * for a closing quote followed by something other than a blank. */
static int inline_char(struct ct_resp *d, uint8_t c, uint64_t off)
{
	for (;;) {
		switch (d->ist) {
		case I_BLANK:
			if (is_space(c))
				return 1;
			arg_begin(d, off);
			d->ist = I_UNQ;
			continue;
		case I_UNQ:
			/* sdssplitargs ends an unquoted argument at these four only (\v \f are kept) */
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
				arg_done(d);
				d->ist = I_BLANK;
				return 1;
			}
			d->alast = off;
			if (c == '"')
				d->ist = I_DQ;
			else if (c == '\'')
				d->ist = I_SQ;
			else
				arg_put(d, c);
			return 1;
		case I_DQ:
			d->alast = off;
			if (c == '\\')
				d->ist = I_DQ_ESC;
			else if (c == '"')
				d->ist = I_DQ_CLOSE;
			else
				arg_put(d, c);
			return 1;
		case I_DQ_ESC:
			d->alast = off;
			if (c == 'x') {
				d->ist = I_DQ_X;
				return 1;
			}
			arg_put(d, unescape(c));
			d->ist = I_DQ;
			return 1;
		case I_DQ_X: /* "\x" not followed by two hex digits is a plain 'x' */
			if (hexval(c) >= 0) {
				d->alast = off;
				d->ihex = c;
				d->ist = I_DQ_X1;
				return 1;
			}
			arg_put(d, 'x');
			d->ist = I_DQ;
			continue;
		case I_DQ_X1:
			if (hexval(c) >= 0) {
				d->alast = off;
				arg_put(d, (uint8_t)(hexval(d->ihex) << 4 | hexval(c)));
				d->ist = I_DQ;
				return 1;
			}
			arg_put(d, 'x');
			arg_put(d, d->ihex);
			d->ist = I_DQ;
			continue;
		case I_SQ:
			d->alast = off;
			if (c == '\\')
				d->ist = I_SQ_ESC;
			else if (c == '\'')
				d->ist = I_SQ_CLOSE;
			else
				arg_put(d, c);
			return 1;
		case I_SQ_ESC: /* only \' is an escape in single quotes */
			if (c == '\'') {
				d->alast = off;
				arg_put(d, '\'');
				d->ist = I_SQ;
				return 1;
			}
			arg_put(d, '\\');
			d->ist = I_SQ;
			continue;
		default: /* I_DQ_CLOSE, I_SQ_CLOSE */
			if (!is_space(c))
				return 0;
			arg_done(d);
			d->ist = I_BLANK;
			return 1;
		}
	}
}

/* The LF of an inline line. */
static void inline_eol(struct ct_resp *d, uint64_t nl_off)
{
	switch (d->ist) {
	case I_BLANK:
		break;
	case I_UNQ:
	case I_DQ_CLOSE:
	case I_SQ_CLOSE:
		arg_done(d);
		break;
	default:
		fail(d, CT_EPROTO, "unbalanced quotes in an inline command", d->eoff,
		     &d->c.bad_inline, 1);
		return;
	}
	d->st = S_TYPE;
	if (!d->in_msg) { /* an empty line: Redis ignores it (replicas send them as keep-alives) */
		d->c.keepalives++;
		return;
	}
	d->last_off = nl_off;
	d->depth = 0;
	d->msg_count = d->stack[0].index;
	emit_agg(d, 1, '*', CT_RESP_EF_INLINE, d->eoff, d->msg_count);
	d->c.inline_cmds++;
	msg_done(d);
}

/* One byte of an inline line other than its LF: a CR is held back until we know whether the
 * LF follows (processInlineBuffer drops one CR before the LF). Returns 0 after an error. */
static int inline_byte(struct ct_resp *d, uint8_t c, uint64_t off)
{
	/* the line's length is counted without its final CR */
	if (d->in_cr) { /* the CR held back was not the line's end: it is a blank */
		if (d->line_len >= CT_RESP_INLINE_MAX_BYTES)
			goto too_long;
		d->in_cr = 0;
		d->line_len++;
		(void)inline_char(d, '\r', off - 1);
	}
	if (c == '\r') {
		d->in_cr = 1;
		return 1;
	}
	if (d->line_len >= CT_RESP_INLINE_MAX_BYTES)
		goto too_long;
	d->line_len++;
	/* Redis looks for the LF with strchr: after a NUL it never finds it */
	if (c == 0) {
		fail(d, CT_EPROTO, "NUL byte in an inline command", off, &d->c.bad_inline, 0);
		return 0;
	}
	if (!inline_char(d, c, off)) {
		fail(d, CT_EPROTO, "unbalanced quotes in an inline command", off, &d->c.bad_inline, 0);
		return 0;
	}
	return 1;
too_long:
	fail(d, CT_ELIMIT, "inline command longer than CT_RESP_INLINE_MAX_BYTES", d->eoff,
	     &d->c.inline_too_long, 0);
	return 0;
}

/*   SET key "a value\x00"\r\n      PING\n
 * A line up to LF, split into arguments as it goes. */
static uint32_t in_inline(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	while (pos < len) {
		uint8_t c = p[pos];
		if (c == '\n') {
			d->in_cr = 0;
			inline_eol(d, d->base + pos);
			return pos + 1;
		}
		if (!inline_byte(d, c, d->base + pos))
			return pos;
		pos++;
	}
	return pos;
}

/* ------------------------------------------------------------------------------------------ */
/* RDB payloads                                                                               */

static uint32_t in_rdb_skip(struct ct_resp *d, uint32_t len, uint32_t pos)
{
	uint32_t take = (uint32_t)min64(d->left, len - pos);
	d->left -= take;
	d->c.rdb_bytes += take;
	pos += take;
	if (!d->left) {
		d->last_off = d->base + pos - 1;
		rdb_done(d, (uint64_t)d->msg_count);
	}
	return pos;
}

/* Diskless: the payload ends with the 40-byte mark of its header. Matched with KMP so that a
 * mark cut by a chunk boundary is found; memchr skips ahead while nothing is matched. */
static uint32_t in_rdb_mark(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	uint32_t i = pos;
	uint32_t m = d->rdb_match;
	while (i < len) {
		if (m == 0) {
			const uint8_t *q = memchr(p + i, d->rdb_mark[0], len - i);
			if (!q) {
				i = len;
				break;
			}
			i = (uint32_t)(q - p);
		}
		uint8_t c = p[i++];
		while (m && c != d->rdb_mark[m])
			m = d->rdb_fail[m - 1];
		if (c == d->rdb_mark[m])
			m++;
		if (m == MARK)
			break;
	}
	d->left += i - pos;
	d->rdb_match = (uint8_t)m;
	if (m == MARK) {
		d->rdb_match = 0;
		d->c.rdb_bytes += d->left - MARK;
		d->last_off = d->base + i - 1;
		rdb_done(d, d->left - MARK);
	}
	return i;
}

/* ------------------------------------------------------------------------------------------ */
/* Message starts and resync                                                                  */

static int type_ok(const struct ct_resp *d, uint8_t c)
{
	if (d->side == CT_RESP_SIDE_CLIENT)
		return d->depth ? c == '$' : c == '*';
	return kind[c] != K_NONE;
}

/* Quiet messages (ct_resp_quiet): runs of "$<len>\r\n<len bytes>\r\n" children that lie whole
 * in this chunk are framed here in one tight loop, with the same counters and offsets as the
 * general path, which takes everything else (a null, a chunk boundary, a bad byte). */
static uint32_t skim_bulks(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	while (d->quiet && d->depth && pos < len && p[pos] == '$') {
		uint32_t i = pos + 1;
		uint64_t v = 0;
		while (i < len && i - pos <= 19 && p[i] >= '0' && p[i] <= '9')
			v = v * 10 + (uint64_t)(p[i++] - '0');
		if (i == pos + 1 || i - pos > 19 || (i > pos + 2 && p[pos + 1] == '0') ||
		    v > CT_RESP_BULK_MAX_BYTES || (uint64_t)len - i < v + 4 || p[i] != '\r' ||
		    p[i + 1] != '\n' || p[i + 2 + v] != '\r' || p[i + 3 + v] != '\n')
			break;
		pos = i + 4 + (uint32_t)v;
		d->last_off = d->base + pos - 1;
		d->c.elems++;
		if (v > CAP)
			d->c.truncated++;
		struct ct_resp_frame *f = &d->stack[d->depth - 1];
		if (d->depth == 1 && !f->attr)
			d->msg_nonnull++;
		if (f->left > 1) { /* what child_done does when no aggregate ends */
			f->index++;
			f->left--;
		} else {
			child_done(d, 0);
		}
	}
	return pos;
}

/* S_TYPE: a type byte; the line after it is read at once (the common case: all in this chunk). */
static uint32_t at_type(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	if (d->quiet && d->depth) {
		pos = skim_bulks(d, p, len, pos);
		if (pos == len)
			return pos;
	}
	uint8_t c = p[pos];
	uint64_t off = d->base + pos;
	if (d->depth == 0 && !d->in_msg) {
		if (d->side == CT_RESP_SIDE_CLIENT) {
			if (c != '*') {
				inline_begin(d, off, d->ts_ns);
				return in_inline(d, p, len, pos);
			}
		} else {
			if (c == '\n' || c == '\r') { /* keep-alives between replies */
				if (c == '\n')
					d->c.keepalives++;
				return pos + 1;
			}
			if (d->rdb_expect && c != '$') {
				d->rdb_expect = 0;
				d->c.rdb_not_bulk++;
			}
		}
	}
	if (!type_ok(d, c)) {
		fail(d, CT_EPROTO,
		     d->side == CT_RESP_SIDE_CLIENT ? "not a bulk string inside a command"
						    : "unknown type byte",
		     off, &d->c.bad_type, 0);
		return pos;
	}
	elem_begin(d, c, off, d->ts_ns);
	return in_line(d, p, len, pos + 1);
}

/* Could a message start with byte c at a line start? */
static int cand_first(const struct ct_resp *d, uint8_t c)
{
	if (d->side == CT_RESP_SIDE_CLIENT)
		return c == '*' || is_letter(c);
	return kind[c] != K_NONE;
}

/* ... and is c a plausible second byte after `first`? */
static int cand_second(const struct ct_resp *d, uint8_t first, uint8_t c)
{
	if (d->side == CT_RESP_SIDE_CLIENT)
		return first == '*' ? is_digit(c) : is_letter(c);
	switch (first) {
	case '+':
		return c > 0x20 && c < 0x7f;
	case '-': /* error codes are upper case: ERR, WRONGTYPE, MOVED, NOAUTH, ... */
		return c >= 'A' && c <= 'Z';
	case ':':
	case '(':
		return is_digit(c) || c == '-' || c == '+';
	case ',':
		return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'i' || c == 'n';
	case '#':
		return c == 't' || c == 'f';
	case '_':
		return c == '\r';
	case '$':
		return is_digit(c) || c == '-' || (d->rdb_expect && c == 'E');
	case '*':
		return is_digit(c) || c == '-';
	default: /* ! = % ~ | > */
		return is_digit(c);
	}
}

/* A held inline candidate line is taken: it is decoded now, as if it had just arrived (its
 * bytes at their own offsets, its LF at the capture time of the LF's chunk). */
static void icand_accept(struct ct_resp *d)
{
	uint64_t now = d->ts_ns;
	d->c.resyncs++;
	d->ts_ns = d->cline_lf_ts;
	inline_begin(d, d->cand_off, d->cand_ts);
	uint32_t i = 0;
	while (i < d->cline_len && inline_byte(d, d->cline[i], d->cand_off + i))
		i++;
	if (i == d->cline_len) {
		d->in_cr = 0;
		inline_eol(d, d->cline_lf_off);
	} else {
		d->st = S_START; /* the error was inside the held line: what follows is a line start */
	}
	d->ts_ns = now;
}

/* S_SKIP, S_START, S_CAND, S_ICAND, S_ICAND_NEXT: looks for a plausible message start at a line
 * start. */
static uint32_t resync(struct ct_resp *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	while (pos < len) {
		uint8_t c = p[pos];
		switch (d->st) {
		case S_SKIP: {
			const uint8_t *nl = memchr(p + pos, '\n', len - pos);
			uint32_t end = nl ? (uint32_t)(nl - p) + 1 : len;
			d->c.resync_bytes += end - pos;
			pos = end;
			if (nl)
				d->st = S_START;
			break;
		}
		case S_START:
			if (c == '\n' || c == '\r') {
				d->c.resync_bytes++;
				pos++;
			} else if (cand_first(d, c)) {
				d->cand = c;
				d->cand_off = d->base + pos;
				d->cand_ts = d->ts_ns;
				d->st = S_CAND;
				pos++;
			} else {
				d->st = S_SKIP;
			}
			break;
		case S_CAND:
			if (!cand_second(d, d->cand, c)) {
				d->c.resync_bytes++; /* the candidate byte */
				d->st = S_SKIP;
				break;
			}
			if (d->side == CT_RESP_SIDE_CLIENT && d->cand != '*') {
				d->cline[0] = d->cand;
				d->cline_len = 1;
				d->st = S_ICAND;
				break;
			}
			d->c.resyncs++;
			elem_begin(d, d->cand, d->cand_off, d->cand_ts);
			return pos;
		case S_ICAND: /* an inline candidate: printable, short, held until its LF */
			if (c == '\n') {
				d->cline_lf_off = d->base + pos;
				d->cline_lf_ts = d->ts_ns;
				d->st = S_ICAND_NEXT;
				pos++;
			} else if (d->cline_len < CT_RESP_RESYNC_INLINE_BYTES &&
				   (c == '\t' || c == '\r' || (c >= 0x20 && c < 0x7f))) {
				d->cline[d->cline_len++] = c;
				pos++;
			} else {
				d->c.resync_bytes += d->cline_len;
				d->st = S_SKIP;
			}
			break;
		default: /* S_ICAND_NEXT: the first byte of the next line decides */
			if (c == '*' || c == '$') {
				d->c.resync_bytes += d->cline_len + 1;
				d->st = S_START;
				break;
			}
			icand_accept(d);
			return pos;
		}
	}
	return pos;
}

/* ------------------------------------------------------------------------------------------ */
/* Front end                                                                                  */

int ct_resp_init(struct ct_resp *d, enum ct_resp_side side, const struct ct_resp_opts *o)
{
	if (side != CT_RESP_SIDE_CLIENT && side != CT_RESP_SIDE_SERVER)
		return CT_EINVAL;
	if (o && o->values > CT_RESP_VALUES_HASH)
		return CT_EINVAL;
	memset(d, 0, sizeof *d);
	d->side = (uint8_t)side;
	d->values = o ? o->values : CT_RESP_VALUES_HASH;
	d->st = S_TYPE;
	if (o && o->midstream) {
		d->st = S_START;
		d->resynced_pending = 1;
	}
	(void)xxh(d); /* places the state */
	return 0;
}

void ct_resp_quiet(struct ct_resp *d)
{
	if (d->in_msg)
		d->quiet = 1;
}

int ct_resp_expect_rdb(struct ct_resp *d)
{
	if (d->side != CT_RESP_SIDE_SERVER)
		return CT_EINVAL;
	d->rdb_expect = 1;
	return 0;
}

static void bind_cb(struct ct_resp *d, const struct ct_resp_cb *cb, void *ctx)
{
	d->cb = cb;
	d->cbctx = ctx;
}

static void gap(struct ct_resp *d, uint64_t off, uint64_t len)
{
	d->c.gaps++;
	d->c.gap_bytes += len;
	d->base = off;
	if (d->st == S_BULK && len <= d->left + d->crlf) {
		/* inside a payload of known length: the framing holds */
		uint64_t in_payload = min64(len, d->left);
		if (d->used < CAP) {
			uint32_t k = (uint32_t)min64(in_payload, CAP - d->used);
			memset(d->scratch + d->used, 0, k);
			d->used += k;
		}
		d->left -= in_payload;
		d->crlf = (uint8_t)(d->crlf - (len - in_payload));
		d->egap = 1;
		d->msg_flags |= CT_RESP_MF_GAP;
		d->c.gaps_in_bulk++;
		if (!d->left && !d->crlf) {
			d->last_off = off + len - 1;
			bulk_done(d, NULL);
		}
	} else if (d->st == S_RDB_SKIP && len <= d->left) {
		d->left -= len;
		d->c.rdb_bytes += len;
		d->msg_flags |= CT_RESP_MF_GAP;
		d->c.gaps_in_bulk++;
		if (!d->left) {
			d->last_off = off + len - 1;
			rdb_done(d, (uint64_t)d->msg_count);
		}
	} else {
		/* anywhere else the position is lost; the byte after the gap may start a message */
		drop(d, CT_ETRUNC);
		d->st = S_START;
	}
	d->off = off + len;
}

void ct_resp_gap(struct ct_resp *d, uint64_t off, uint64_t len, uint64_t ts_ns,
		 const struct ct_resp_cb *cb, void *ctx)
{
	if (len == 0)
		return;
	len = ct_gap_from(d->off, off, len);
	if (len == 0)
		return;
	off = d->off;
	bind_cb(d, cb, ctx);
	d->ts_ns = ts_ns;
	gap(d, off, len);
	bind_cb(d, NULL, NULL);
}

int ct_resp_feed(struct ct_resp *d, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts_ns,
		 const struct ct_resp_cb *cb, void *ctx)
{
	if (len == 0)
		return 0;
	bind_cb(d, cb, ctx);
	d->call_err = 0;
	d->ts_ns = ts_ns;
	if (off != d->off) {
		if (off > d->off) {
			gap(d, d->off, off - d->off);
		} else {
			uint64_t skip = d->off - off;
			if (skip >= len) {
				d->c.overlap_bytes += len;
				bind_cb(d, NULL, NULL);
				return 0;
			}
			d->c.overlap_bytes += skip;
			p += skip;
			len -= (uint32_t)skip;
			off = d->off;
		}
	}
	d->base = off;
	d->c.bytes += len;
	uint32_t pos = 0;
	while (pos < len) {
		switch (d->st) {
		case S_TYPE:
			pos = at_type(d, p, len, pos);
			break;
		case S_LINE:
			pos = in_line(d, p, len, pos);
			break;
		case S_BULK:
			pos = in_bulk(d, p, len, pos);
			break;
		case S_INLINE:
			pos = in_inline(d, p, len, pos);
			break;
		case S_RDB_SKIP:
			pos = in_rdb_skip(d, len, pos);
			break;
		case S_RDB_MARK:
			pos = in_rdb_mark(d, p, len, pos);
			break;
		default:
			pos = resync(d, p, len, pos);
			break;
		}
	}
	d->off = off + len;
	bind_cb(d, NULL, NULL);
	return d->call_err;
}

void ct_resp_end(struct ct_resp *d, uint64_t ts_ns, const struct ct_resp_cb *cb, void *ctx)
{
	bind_cb(d, cb, ctx);
	/* The stream stopped after a bulk payload but before its CRLF (a capture cut right after
	 * the value, as with TSO segments whose last bytes were not captured): every byte of the
	 * declared length is in, so the value is whole and is delivered, with the time of the
	 * chunk that carried its last byte; a message it completes is delivered too. */
	if (d->st == S_BULK && d->left == 0 && d->crlf && d->in_msg) {
		d->crlf = 0;
		d->last_off = d->off - 1;
		bulk_done(d, NULL);
	}
	d->ts_ns = ts_ns;
	if (d->st == S_ICAND_NEXT) /* a complete candidate line, and nothing after it contradicts it */
		icand_accept(d);
	drop(d, CT_ETRUNC);
	d->st = S_START;
	bind_cb(d, NULL, NULL);
}

const char *ct_resp_type_name(uint8_t type)
{
	switch (type) {
	case '+': return "simple";
	case '-': return "error";
	case ':': return "integer";
	case '$': return "bulk";
	case '*': return "array";
	case '_': return "null";
	case '#': return "boolean";
	case ',': return "double";
	case '(': return "bignum";
	case '!': return "bulk_error";
	case '=': return "verbatim";
	case '%': return "map";
	case '~': return "set";
	case '|': return "attribute";
	case '>': return "push";
	default: return "?";
	}
}
