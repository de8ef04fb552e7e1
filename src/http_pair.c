/* The HTTP/1.x protocol module: turns each connection on an --http port into API calls (SPEC
 * sections 1 and 5, api_calls) and one timeline event per call, so that API calls show up
 * among the cache events they caused.
 *
 * Specs: RFC 9112 (HTTP/1.1 messages and framing), RFC 9110 (1xx, HEAD, 204, 304, CONNECT,
 * 101 Switching Protocols), W3C Trace Context (traceparent). The bytes are parsed by
 * libhttp-parser 2.9 (Debian libhttp-parser-dev): a well-kept, incremental parser that
 * allocates nothing and handles the framing (Content-Length, chunked bodies with extensions
 * and trailers, bodies until close), so there is no hand-written HTTP parser here. This file
 * only tells it where messages start, keeps the few fields we need, and pairs requests with
 * responses.
 *
 * Per connection: one http_parser for requests (HTTP_REQUEST, client side) and one for
 * responses (HTTP_RESPONSE, server side). Each message gets a fresh parser: we pause it in
 * on_message_complete and start the next message ourselves, after skipping the CR/LF bytes
 * between messages. That gives the exact stream offset and capture time of every message's
 * first byte, and keeps one message's state (Connection: close, an upgrade) from leaking into
 * the next.
 *
 *   request:   METHOD SP request-target SP HTTP/1.x CRLF *(field CRLF) CRLF [body]
 *   response:  HTTP/1.x SP 3DIGIT [SP reason] CRLF *(field CRLF) CRLF [body]
 *
 * Kept: the method, the request target as sent (path and query, cut at CT_HTTP_PATH_MAX_BYTES),
 * X-Request-Id (cut at CT_HTTP_REQID_MAX_BYTES), traceparent (cut at
 * CT_HTTP_TRACEPARENT_MAX_BYTES), the final status code, body byte counts (after chunked
 * decoding) and four times: the request's first and last byte, the final response's first and
 * last byte. Only the header section is looked at, not trailer fields (whose size the parser
 * checks at points that depend on the cut). Header names are matched case-insensitively with
 * our own bounded compare; values lose their trailing blanks (the parser drops the leading
 * ones); the first occurrence of a header wins, and an empty one counts as absent. When the
 * request has no X-Request-Id, the one the response echoes is taken. Cut fields are counted in
 * ct_proto_stats.truncated. The output is the same however the stream is cut into chunks: the
 * parser reports the request target and header values in pieces, one at each chunk end, so they
 * are held (bounded) until the parser reports their end, and only then become part of a call
 * (data_ends). A value that a parse error or a gap interrupts keeps its lines up to the last
 * line end (obs-fold); a target interrupted so makes no request. A start line is complete once
 * the parser took the byte that ends it: the LF of a request line, the CR or LF of a status
 * line.
 *
 * Pairing. HTTP/1.1 answers the requests of a connection in order (pipelining, keep-alive), so
 * pending requests form a FIFO and each final response answers the oldest request not yet
 * answered. A request joins the FIFO once its method and its whole target are known. A status
 * code below 100 is a parse error (the parser takes "HTTP/1.1 2 OK"). 1xx responses (100
 * Continue) are not final; 101 Switching Protocols is, and so is a 2xx to CONNECT: after either
 * the connection carries another protocol and is no longer decoded. A response to HEAD, and
 * every 1xx, 204 and 304, has no body whatever its headers say (we tell the parser by returning
 * 1 from on_headers_complete). A response without a length ends when the connection closes: the
 * close op finishes it, timed at the last byte the server sent. A call is emitted (api
 * callback, then one event) once both its request and its response are complete, in request
 * order; a request still unanswered when the connection ends is emitted with status 0 (NULL in
 * the database) and counted in `unanswered`. A response with no pending request (mid-stream
 * pickup) is counted in `unmatched_replies` and emits nothing: we know neither its method nor
 * its path.
 *
 * The event: proto http, dir c2s, via command, cmd = the method, class other, no key (the
 * analysis looks at api_calls, not at these), detail = the path cut at
 * CT_HTTP_DETAIL_MAX_BYTES, status ok below 400 and error from 400 (unanswered without a
 * final response); like the cache events it is timed at the request's last byte, with the
 * first byte's time and offset, and latency = response end - request end.
 *
 * Gaps, errors, mid-stream. A gap strictly inside a body whose end is known by its length, or
 * inside a body that runs until close, is stepped over: the parser is fed as many zero bytes
 * (at most CT_HTTP_GAP_FILL_MAX_BYTES), which it counts as body, and the message goes on. Any
 * other gap, and any parse error (counted in parse_errors), abandons the message in progress
 * and sends that direction looking for the next plausible start line (counted in resyncs):
 * at the stream position after the gap or after a line feed, a known method, a space and a
 * request target start ('/', '*', "http://", or an authority for CONNECT), or "HTTP/1." digit,
 * a space and a 3-digit status. A mid-stream connection starts that way in both directions.
 * An abandoned request is kept (without an end time) when its request line was complete, so
 * that its response still pairs; otherwise it is dropped. An abandoned response answers its
 * request when its status line was complete, without an end time; after a server-side gap the
 * other complete requests that were waiting are given up as unanswered, since their responses
 * may have been in the lost bytes. What a gap cannot tell us stays unknown: a request lost
 * whole in a client-side gap shifts the pairing of the responses after it.
 *
 * Limits (limits.h, CT_HTTP_*): PENDING_MAX requests wait per connection; when a new request
 * finds the FIFO full, the oldest is emitted as it stands (counted in pending_overflow). That
 * bounds memory when the capture holds only the client direction. The header section is
 * limited to HTTP_MAX_HEADER_SIZE (80 KiB, the parser's limit, counted by us): a longer one is a
 * parse error. */
#include <http_parser.h>
#include <string.h>

#include "cachetap/flow.h"
#include "cachetap/limits.h"
#include "cachetap/proto.h"

/* Call flags (internal; the CT_API_* flags that leave this file are a subset). */
enum {
	C_REQ_LINE = 1u << 0,  /* the request line is complete */
	C_REQ_DONE = 1u << 1,  /* the request is complete, or abandoned */
	C_RESP_DONE = 1u << 2, /* a final response answered it */
	C_HAS_REQID = 1u << 3,
	C_HAS_TP = 1u << 4,
};

struct call {
	uint64_t seq;          /* order of arrival, never reused */
	uint64_t ts_start, ts_req_end, ts_resp_start, ts_end; /* 0 = unknown or none */
	uint64_t ts_last;      /* the last request byte seen (the event's time without an end) */
	uint64_t req_off;      /* stream offset of the request's first byte */
	uint64_t req_body, resp_body;
	uint32_t fl;           /* C_* */
	uint32_t api_fl;       /* CT_API_* */
	uint16_t status;
	uint8_t method;        /* enum http_method */
	uint16_t path_len, reqid_len, tp_len;
	char path[CT_HTTP_PATH_MAX_BYTES + 1];
	char reqid[CT_HTTP_REQID_MAX_BYTES + 1];
	char tp[CT_HTTP_TRACEPARENT_MAX_BYTES + 1];
};

/* What a direction is doing. */
enum { M_IDLE, M_MSG, M_RESYNC, M_OFF };
/* Which of our headers a value belongs to. */
enum { H_NONE, H_REQID, H_TP, H_TE };
/* The last header callback. */
enum { HS_NONE, HS_FIELD, HS_VALUE };
/* How the current message's body is framed. */
enum { B_NONE, B_LENGTH, B_CHUNKED, B_EOF };

#define NO_SEQ UINT64_MAX
/* A header value we keep is held here until it ends. */
#define VAL_MAX (CT_HTTP_REQID_MAX_BYTES > CT_HTTP_TRACEPARENT_MAX_BYTES ? CT_HTTP_REQID_MAX_BYTES \
									: CT_HTTP_TRACEPARENT_MAX_BYTES)

struct http_conn;

struct side {
	http_parser hp;
	struct http_conn *c;
	uint8_t dir;
	uint8_t mode;       /* M_* */
	uint8_t line_start; /* resync: the next byte starts a line */
	uint8_t resynced;   /* the next message is the first after a resync */
	uint8_t msg_resynced; /* the current one is */
	uint8_t hstate;     /* HS_* */
	uint8_t which;      /* H_*: the header whose value is arriving */
	uint8_t name_len;
	uint8_t name_long;  /* the name is longer than any we look for */
	uint8_t body;       /* B_* */
	uint8_t line_done;  /* the start line is complete */
	uint8_t te;         /* a Transfer-Encoding header was seen */
	uint8_t in_head;    /* the start line and the header section are being parsed */
	uint8_t trailers;   /* any header fields now are trailer fields (after the head) */
	uint32_t head_bytes; /* bytes of the start line and header section so far */
	uint8_t cand_len;
	char name[CT_HTTP_HEADER_NAME_MAX_BYTES];
	char val[VAL_MAX];  /* the first bytes of the value of one of our headers */
	uint32_t val_all;   /* its bytes so far */
	uint32_t val_good;  /* its bytes up to the last line end the parser reported */
	const char *buf_end; /* the end of the bytes being parsed (see data_ends) */
	uint8_t cand[CT_HTTP_RESYNC_PREFIX_BYTES]; /* a start line prefix spanning chunks */
	uint64_t cand_off, cand_ts;
	uint64_t body_left;  /* B_LENGTH: body bytes still due */
	uint64_t msg_off, msg_ts; /* the current message's first byte */
	uint64_t next_off;   /* the next stream offset expected */
	uint64_t cur_ts;     /* the time of the chunk being parsed */
	uint64_t last_ts;    /* the time of the last chunk of this direction */
	uint64_t seq;        /* client: the call being filled; server: the call being answered */
};

struct http_conn {
	uint64_t conn_id;
	struct ct_emit emit;
	struct ct_proto_stats *stats;
	struct side side[2]; /* CT_C2S requests, CT_S2C responses */
	/* pending calls: a ring, oldest at head; the first `answered` have their response */
	struct call *q;
	uint32_t qcap, qhead, qlen, answered;
	uint64_t next_seq;
	uint32_t url_all;    /* the request target so far: its bytes, the first ones in url */
	char url[CT_HTTP_PATH_MAX_BYTES];
	char detail[CT_HTTP_DETAIL_MAX_BYTES + 1];
};

static struct ct_proto_stats no_stats_sink; /* for callers that pass no stats (tests) */

/* ------------------------------------------------------------------------------------------ */
/* Pending calls.                                                                              */

static struct call *q_at(const struct http_conn *c, uint32_t i)
{
	return &c->q[(c->qhead + i) % c->qcap];
}

static void emit_call(struct http_conn *c, const struct call *e);

/* Emits and drops the oldest call, answered or not. */
static void q_pop(struct http_conn *c)
{
	struct call *e = q_at(c, 0);
	emit_call(c, e);
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	if (c->answered)
		c->answered--;
}

/* Emits, in order, the calls whose request and response are both complete. */
static void q_drain(struct http_conn *c)
{
	while (c->qlen && c->answered && (q_at(c, 0)->fl & C_REQ_DONE))
		q_pop(c);
}

/* A new call at the tail; the oldest is emitted to make room when the FIFO is full. */
static struct call *q_push(struct http_conn *c)
{
	if (c->qlen == c->qcap && c->qcap < CT_HTTP_PENDING_MAX) {
		uint32_t ncap = c->qcap * 2;
		if (ncap > CT_HTTP_PENDING_MAX)
			ncap = CT_HTTP_PENDING_MAX;
		struct call *nq = ct_malloc((size_t)ncap * sizeof *nq);
		if (nq) {
			for (uint32_t i = 0; i < c->qlen; i++)
				nq[i] = *q_at(c, i);
			ct_free(c->q);
			c->q = nq;
			c->qcap = ncap;
			c->qhead = 0;
		} else {
			c->stats->alloc_fail++;
		}
	}
	if (c->qlen == c->qcap) {
		c->stats->pending_overflow++;
		q_pop(c);
	}
	struct call *e = &c->q[(c->qhead + c->qlen) % c->qcap];
	c->qlen++;
	memset(e, 0, offsetof(struct call, path));
	e->path[0] = e->reqid[0] = e->tp[0] = '\0';
	e->seq = c->next_seq++;
	return e;
}

/* The call the client side is filling, or NULL. */
static struct call *req_call(const struct http_conn *c)
{
	if (!c->qlen || c->side[CT_C2S].seq == NO_SEQ)
		return NULL;
	struct call *e = q_at(c, c->qlen - 1);
	return e->seq == c->side[CT_C2S].seq ? e : NULL;
}

/* The call the server side is answering, or NULL (none was pending, or it was given up). */
static struct call *resp_call(const struct http_conn *c)
{
	if (c->answered >= c->qlen || c->side[CT_S2C].seq == NO_SEQ)
		return NULL;
	struct call *e = q_at(c, c->answered);
	return e->seq == c->side[CT_S2C].seq ? e : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Output.                                                                                     */

static void emit_call(struct http_conn *c, const struct call *e)
{
	const char *method = http_method_str((enum http_method)e->method);
	uint32_t api_fl = e->api_fl;
	if (!e->ts_req_end)
		api_fl |= CT_API_REQ_CUT;
	if (e->status && !e->ts_end)
		api_fl |= CT_API_RESP_CUT;
	struct ct_api_call a = {
		.conn_id = c->conn_id,
		.ts_start_ns = e->ts_start,
		.ts_req_end_ns = e->ts_req_end,
		.ts_resp_start_ns = e->status ? e->ts_resp_start : 0,
		.ts_end_ns = e->status ? e->ts_end : 0,
		.req_body_bytes = e->req_body,
		.resp_body_bytes = e->resp_body,
		.stream_off = e->req_off,
		.flags = api_fl,
		.status = e->status,
		.method = method,
		.path = e->path,
		.path_len = e->path_len,
		.request_id = (e->fl & C_HAS_REQID) ? e->reqid : NULL,
		.request_id_len = (e->fl & C_HAS_REQID) ? e->reqid_len : 0,
		.traceparent = (e->fl & C_HAS_TP) ? e->tp : NULL,
		.traceparent_len = (e->fl & C_HAS_TP) ? e->tp_len : 0,
	};
	if (c->emit.api)
		c->emit.api(c->emit.ctx, &a);

	size_t dn = e->path_len < CT_HTTP_DETAIL_MAX_BYTES ? e->path_len : CT_HTTP_DETAIL_MAX_BYTES;
	memcpy(c->detail, e->path, dn);
	c->detail[dn] = '\0';
	struct ct_event ev = {
		.conn_id = c->conn_id,
		.ts_ns = e->ts_req_end ? e->ts_req_end : e->ts_last,
		.first_ts_ns = e->ts_start,
		.stream_off = e->req_off,
		.flags = (api_fl & CT_API_RESYNCED) ? CT_EV_RESYNCED : 0,
		.db = -1,
		.proto = CT_PROTO_HTTP,
		.dir = CT_C2S,
		.via = CT_VIA_COMMAND,
		.cls = CT_CLASS_OTHER,
		.cmd = method,
		.cmd_len = (uint32_t)strlen(method), /* the library's own string, not wire bytes */
		.detail = c->detail,
	};
	if (ev.ts_ns < ev.first_ts_ns)
		ev.ts_ns = ev.first_ts_ns;
	if (!e->status) {
		ev.status = CT_STATUS_UNANSWERED;
		c->stats->unanswered++;
	} else {
		ev.status = e->status >= 400 ? CT_STATUS_ERROR : CT_STATUS_OK;
		if (e->ts_end && e->ts_req_end && e->ts_end >= e->ts_req_end) {
			ev.latency_ns = e->ts_end - e->ts_req_end;
			ev.flags |= CT_EV_HAS_LATENCY;
		}
	}
	if (c->emit.event)
		c->emit.event(c->emit.ctx, &ev);
	c->stats->events++;
}

/* ------------------------------------------------------------------------------------------ */
/* Fields.                                                                                     */

/* Keeps the first cap bytes of a token that arrives in pieces; *all counts every byte. */
static void keep(char *dst, uint32_t *all, size_t cap, const char *p, size_t n)
{
	if (*all < cap) {
		size_t k = n < cap - *all ? n : cap - *all;
		memcpy(dst + *all, p, k);
	}
	*all += (uint32_t)n;
}

/* Did a data callback's piece end at its token's delimiter, rather than at the end of the
 * bytes being parsed? The parser reports a token (request target, header value) in pieces: one
 * at each end of the bytes it is given, and the last one at the byte that ends it. A piece
 * that ends at the end of the bytes says nothing about what follows: the next bytes may be
 * more of the token or a parse error, and a stream cut elsewhere would not have reported it.
 * So nothing is decided on such a piece; it is only kept until the token ends. */
static int data_ends(const struct side *s, const char *at, size_t n)
{
	return at + n != s->buf_end;
}

static uint8_t lower(uint8_t b)
{
	return b >= 'A' && b <= 'Z' ? (uint8_t)(b | 0x20) : b;
}

/* Is the header name just read `want` (lower case), ignoring case? */
static int name_is(const struct side *s, const char *want, size_t n)
{
	if (s->name_long || s->name_len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((uint8_t)s->name[i]) != (uint8_t)want[i])
			return 0;
	return 1;
}

/* The value of one of our headers ended with its first n bytes (all of them, or those up to
 * the last line end when the message is abandoned in it): the call takes it, without trailing
 * blanks, unless it has one already. An empty one is no header. */
static void value_end(struct side *s, uint32_t n)
{
	uint8_t which = s->which;
	s->which = H_NONE;
	if (which != H_REQID && which != H_TP)
		return;
	struct call *e = s->dir == CT_C2S ? req_call(s->c) : resp_call(s->c);
	uint32_t has = which == H_REQID ? C_HAS_REQID : C_HAS_TP;
	if (!e || (e->fl & has))
		return;
	size_t cap = which == H_REQID ? CT_HTTP_REQID_MAX_BYTES : CT_HTTP_TRACEPARENT_MAX_BYTES;
	size_t k = n < cap ? n : cap;
	while (k && (s->val[k - 1] == ' ' || s->val[k - 1] == '\t'))
		k--;
	if (!k)
		return;
	char *v = which == H_REQID ? e->reqid : e->tp;
	memcpy(v, s->val, k);
	v[k] = '\0';
	if (which == H_REQID)
		e->reqid_len = (uint16_t)k;
	else
		e->tp_len = (uint16_t)k;
	e->fl |= has;
	if (n > cap) {
		e->api_fl |= which == H_REQID ? CT_API_REQUEST_ID_CUT : CT_API_TRACEPARENT_CUT;
		s->c->stats->truncated++;
	}
}

/* The start line ended: the parser took its line end (see parse), or it reported a header
 * name or the end of the header section. */
static void start_line_done(struct side *s)
{
	if (s->line_done)
		return;
	s->line_done = 1;
	if (s->dir == CT_C2S) {
		struct call *e = req_call(s->c);
		if (e) {
			e->fl |= C_REQ_LINE;
			e->method = (uint8_t)s->hp.method;
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Parser callbacks.                                                                           */

static int on_url(http_parser *hp, const char *at, size_t n)
{
	struct side *s = hp->data;
	struct http_conn *c = s->c;
	if (s->seq != NO_SEQ) /* cannot happen: a message has one target, and its call comes after */
		return 0;
	keep(c->url, &c->url_all, sizeof c->url, at, n);
	if (!data_ends(s, at, n))
		return 0;
	/* The request target is complete: a request it is. */
	struct call *e = q_push(c);
	e->method = (uint8_t)hp->method; /* known since the space before the target */
	e->ts_start = e->ts_last = s->msg_ts;
	e->req_off = s->msg_off;
	if (s->msg_resynced)
		e->api_fl |= CT_API_RESYNCED;
	s->seq = e->seq;
	size_t k = c->url_all < CT_HTTP_PATH_MAX_BYTES ? c->url_all : CT_HTTP_PATH_MAX_BYTES;
	memcpy(e->path, c->url, k);
	e->path[k] = '\0';
	e->path_len = (uint16_t)k;
	if (c->url_all > CT_HTTP_PATH_MAX_BYTES) {
		e->api_fl |= CT_API_PATH_CUT;
		c->stats->truncated++;
	}
	return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t n)
{
	struct side *s = hp->data;
	if (s->trailers) /* trailer fields are not looked at */
		return 0;
	if (s->hstate != HS_FIELD) {
		value_end(s, s->val_all);
		start_line_done(s);
		s->hstate = HS_FIELD;
		s->name_len = 0;
		s->name_long = 0;
	}
	if (n > sizeof s->name - s->name_len) {
		s->name_long = 1;
	} else if (!s->name_long) {
		memcpy(s->name + s->name_len, at, n);
		s->name_len = (uint8_t)(s->name_len + n);
	}
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t n)
{
	struct side *s = hp->data;
	if (s->trailers)
		return 0;
	if (s->hstate != HS_VALUE) {
		s->hstate = HS_VALUE;
		s->which = H_NONE;
		s->val_all = s->val_good = 0;
		if (name_is(s, "transfer-encoding", 17)) {
			s->te = 1;
			s->which = H_TE;
		} else if (name_is(s, "x-request-id", 12)) {
			s->which = H_REQID;
		} else if (s->dir == CT_C2S && name_is(s, "traceparent", 11)) {
			s->which = H_TP;
		}
	}
	if (s->which == H_REQID || s->which == H_TP) {
		keep(s->val, &s->val_all, sizeof s->val, at, n);
		if (data_ends(s, at, n)) /* at a line end; an obs-fold line may still follow */
			s->val_good = s->val_all;
	}
	return 0;
}

/* Returns 0, or 1 when the response has no body whatever its headers say, or 2 when the
 * connection leaves HTTP after it, or -1 for a parse error (http_parser's convention). */
static int on_headers_complete(http_parser *hp)
{
	struct side *s = hp->data;
	value_end(s, s->val_all);
	start_line_done(s);
	s->hstate = HS_NONE;
	s->in_head = 0;
	s->trailers = 1;
	int chunked = (hp->flags & F_CHUNKED) != 0;
	int has_len = hp->content_length != UINT64_MAX;
	if (s->dir == CT_C2S) {
		s->body = chunked ? B_CHUNKED : has_len && hp->content_length ? B_LENGTH : B_NONE;
		s->body_left = hp->content_length;
		return 0;
	}
	unsigned st = hp->status_code;
	if (st < 100) /* the parser takes 1 to 3 digits: "HTTP/1.1 2 OK" is no status line */
		return -1;
	struct call *e = resp_call(s->c);
	int ret = 0;
	if (st < 200 || st == 204 || st == 304 || (e && e->method == HTTP_HEAD))
		ret = 1;
	if (st == 101 || (e && e->method == HTTP_CONNECT && st >= 200 && st < 300))
		ret = 2;
	if (ret)
		s->body = B_NONE;
	else if (chunked)
		s->body = B_CHUNKED;
	else if (s->te || !has_len) /* RFC 9112 6.3: read until the server closes */
		s->body = B_EOF;
	else
		s->body = hp->content_length ? B_LENGTH : B_NONE;
	s->body_left = hp->content_length;
	return ret;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
	struct side *s = hp->data;
	CT_UNUSED(at);
	struct call *e = s->dir == CT_C2S ? req_call(s->c) : resp_call(s->c);
	if (e) {
		if (s->dir == CT_C2S)
			e->req_body += n;
		else
			e->resp_body += n;
	}
	if (s->body == B_LENGTH)
		s->body_left = n < s->body_left ? s->body_left - n : 0;
	return 0;
}

/* A response ended at ts (0: its end is unknown): it answers its call, if any. */
static void answer(struct http_conn *c, unsigned status, uint64_t ts)
{
	struct side *s = &c->side[CT_S2C];
	struct call *e = resp_call(c);
	if (status == 101 || (e && e->method == HTTP_CONNECT && status >= 200 && status < 300)) {
		c->side[CT_C2S].mode = M_OFF; /* another protocol from here on */
		c->side[CT_S2C].mode = M_OFF;
	}
	if (!e) {
		c->stats->unmatched_replies++;
	} else {
		e->status = (uint16_t)status;
		e->ts_resp_start = s->msg_ts;
		e->ts_end = ts;
		e->fl |= C_RESP_DONE;
		c->answered++;
	}
	s->seq = NO_SEQ;
	q_drain(c);
}

static int on_message_complete(http_parser *hp)
{
	struct side *s = hp->data;
	struct http_conn *c = s->c;
	c->stats->messages++;
	s->line_done = 0;
	if (s->dir == CT_C2S) {
		struct call *e = req_call(c);
		if (e) {
			e->ts_req_end = e->ts_last = s->cur_ts;
			e->fl |= C_REQ_DONE;
		}
		s->seq = NO_SEQ;
		q_drain(c);
	} else {
		unsigned st = hp->status_code;
		if (st >= 200 || st == 101)
			answer(c, st, s->cur_ts);
	}
	/* Stop here: the next message gets a fresh parser (see the top of the file). */
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------------------------------------ */
/* Messages.                                                                                   */

static void parser_reset(struct side *s)
{
	http_parser_init(&s->hp, s->dir == CT_C2S ? HTTP_REQUEST : HTTP_RESPONSE);
	s->hp.data = s;
	s->hstate = HS_NONE;
	s->which = H_NONE;
	s->body = B_NONE;
	s->body_left = 0;
	s->line_done = 0;
	s->te = 0;
	s->in_head = 1;
	s->trailers = 0;
	s->head_bytes = 0;
	s->val_all = s->val_good = 0;
	if (s->dir == CT_C2S)
		s->c->url_all = 0;
}

/* A message starts at stream offset off, in a chunk captured at ts. */
static void message_begin(struct http_conn *c, struct side *s, uint64_t off, uint64_t ts)
{
	parser_reset(s);
	s->mode = M_MSG;
	s->msg_off = off;
	s->msg_ts = ts;
	s->msg_resynced = s->resynced;
	if (s->dir == CT_C2S) {
		s->seq = NO_SEQ; /* its call is made by on_url, once the target is complete */
	} else {
		/* A response answers the oldest call not answered yet, if there is one. */
		s->seq = c->answered < c->qlen ? q_at(c, c->answered)->seq : NO_SEQ;
	}
	s->resynced = 0;
}

/* The message in progress on side s is lost from here (a gap, a parse error, the end of the
 * capture). Keeps what can still be paired; see the top of the file. */
static void message_abandon(struct http_conn *c, struct side *s)
{
	if (s->mode != M_MSG)
		return;
	if (s->hstate == HS_VALUE) /* the value as far as its last line end (data_ends) */
		value_end(s, s->val_good);
	if (s->dir == CT_C2S) {
		struct call *e = req_call(c);
		if (e && (e->fl & C_REQ_LINE)) {
			e->fl |= C_REQ_DONE;
			e->ts_last = s->last_ts;
		} else if (e) {
			/* Not even a request line: nothing to record. The server may still answer it
			 * (with a 400): that answer then goes to no one, as it should. */
			c->qlen--;
			if (c->answered > c->qlen)
				c->answered = c->qlen;
		}
		s->seq = NO_SEQ;
	} else {
		unsigned st = s->line_done ? s->hp.status_code : 0;
		if (st >= 100 && (st >= 200 || st == 101))
			answer(c, st, 0);
		s->seq = NO_SEQ;
	}
	s->mode = M_IDLE;
	q_drain(c);
}

/* The server side lost bytes between or inside responses: the complete requests waiting may
 * have been answered in them. They are given up, unanswered. */
static void give_up_waiting(struct http_conn *c)
{
	while (c->answered < c->qlen && (q_at(c, c->answered)->fl & C_REQ_DONE))
		c->answered++;
	q_drain(c);
}

static void start_resync(struct http_conn *c, struct side *s, int line_start)
{
	s->mode = M_RESYNC;
	s->line_start = (uint8_t)line_start;
	s->cand_len = 0;
	s->resynced = 1;
	c->stats->resyncs++;
}

/* ------------------------------------------------------------------------------------------ */
/* Resync: is this the start of a request line (client) or a status line (server)?           */

enum { P_NO, P_MORE, P_YES };

static const struct {
	const char *name;
	uint8_t len;
} methods[] = {
#define XX(num, name, string) { #string, (uint8_t)(sizeof #string - 1) },
	HTTP_METHOD_MAP(XX)
#undef XX
};

/* "http://" or "https://", case-insensitively, over the n bytes we have of it. */
static int scheme_prefix(const uint8_t *b, size_t n)
{
	static const char http[] = "http://", https[] = "https://";
	int may_http = 1, may_https = 1;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = lower(b[i]);
		if (i >= 7 || ch != (uint8_t)http[i])
			may_http = 0;
		if (i >= 8 || ch != (uint8_t)https[i])
			may_https = 0;
	}
	if ((may_http && n >= 7) || (may_https && n >= 8))
		return P_YES;
	return may_http || may_https ? P_MORE : P_NO;
}

static int request_start(const uint8_t *b, size_t n)
{
	size_t m = 0;
	while (m < n && ((b[m] >= 'A' && b[m] <= 'Z') || b[m] == '-'))
		m++;
	if (m == n)
		return m <= 16 ? P_MORE : P_NO;
	if (b[m] != ' ' || m == 0)
		return P_NO;
	int known = -1;
	for (size_t i = 0; i < CT_ARRAY_LEN(methods); i++)
		if (methods[i].len == m && memcmp(methods[i].name, b, m) == 0)
			known = (int)i;
	if (known < 0)
		return P_NO;
	if (m + 1 == n)
		return P_MORE;
	uint8_t t = b[m + 1];
	if (t == '/' || t == '*')
		return P_YES;
	if (known == HTTP_CONNECT)
		return (t >= '0' && t <= '9') || (lower(t) >= 'a' && lower(t) <= 'z') || t == '['
			       ? P_YES
			       : P_NO;
	return scheme_prefix(b + m + 1, n - m - 1);
}

static int status_start(const uint8_t *b, size_t n)
{
	static const char pat[] = "HTTP/1.d ddd"; /* then SP, CR or LF */
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = b[i];
		if (i == 12)
			return ch == ' ' || ch == '\r' || ch == '\n' ? P_YES : P_NO;
		if (pat[i] == 'd' ? !(ch >= '0' && ch <= '9') : ch != (uint8_t)pat[i])
			return P_NO;
	}
	return P_MORE;
}

/* ------------------------------------------------------------------------------------------ */
/* Feeding.                                                                                    */

/* Runs the parser of side s over p[0, n) (part of a message). Returns the bytes used. */
static size_t parse(struct http_conn *c, struct side *s, const uint8_t *p, size_t n)
{
	/* The parser checks the size of the head only at the end of some tokens and of the bytes
	 * it is given, so that its HPE_HEADER_OVERFLOW would come at a byte that depends on
	 * where the stream was cut. We count it ourselves instead, and never give it more. */
	if (s->in_head && n > HTTP_MAX_HEADER_SIZE - s->head_bytes)
		n = HTTP_MAX_HEADER_SIZE - s->head_bytes;
	s->buf_end = (const char *)p + n;
	size_t used = http_parser_execute(&s->hp, &settings, (const char *)p, n);
	if (s->in_head)
		s->head_bytes += (uint32_t)used;
	enum http_errno err = HTTP_PARSER_ERRNO(&s->hp);
	if (err == HPE_PAUSED) {
		/* on_message_complete: the next byte belongs to the next message */
		if (s->mode == M_MSG)
			s->mode = M_IDLE;
		s->seq = NO_SEQ;
		return used;
	}
	/* The parser reports a header name only at a delimiter or at the end of a chunk, so an
	 * error or a gap in the first header line would find the start line complete or not
	 * depending on where the stream was cut. So we look at the bytes it took instead: the
	 * start line is complete once the parser has taken the byte that ends it. That is its
	 * first LF for a request (a CR must be followed by LF), its first CR or LF for a response
	 * (libhttp-parser, built lenient, takes any byte after the CR as the LF). Before that
	 * byte there is no CR or LF: none precedes a message (see feed and resync). */
	if (!s->line_done && (memchr(p, '\n', used) || (s->dir == CT_S2C && memchr(p, '\r', used))))
		start_line_done(s);
	if (err == HPE_OK && used == n && !(s->in_head && s->head_bytes == HTTP_MAX_HEADER_SIZE))
		return used;
	c->stats->parse_errors++; /* an error, or a head that does not end within the limit */
	message_abandon(c, s);
	start_resync(c, s, 0);
	return used;
}

/* Looks for a start line in p[0, n) (stream offset off). Returns the bytes used: up to and
 * including the last byte of a start-line prefix that was found (it is then parsed), or all. */
static size_t resync(struct http_conn *c, struct side *s, const uint8_t *p, size_t n,
		     uint64_t off, uint64_t ts)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (!s->cand_len) {
			if (!s->line_start) {
				const uint8_t *lf = memchr(p + i, '\n', n - i);
				if (!lf)
					return n;
				i = (size_t)(lf - p);
				s->line_start = 1;
				continue;
			}
			if (b == '\r' || b == '\n')
				continue;
			s->cand_off = off + i;
			s->cand_ts = ts;
		}
		s->cand[s->cand_len++] = b;
		int v = s->dir == CT_C2S ? request_start(s->cand, s->cand_len)
					 : status_start(s->cand, s->cand_len);
		if (v == P_MORE && s->cand_len < sizeof s->cand)
			continue;
		if (v != P_YES) {
			s->cand_len = 0;
			s->line_start = b == '\n';
			continue;
		}
		uint8_t len = s->cand_len;
		s->cand_len = 0;
		s->resynced = 1;
		message_begin(c, s, s->cand_off, s->cand_ts);
		uint64_t keep = s->cur_ts;
		s->cur_ts = s->cand_ts;
		(void)parse(c, s, s->cand, len); /* a start-line prefix cannot end a message */
		s->cur_ts = keep;
		return i + 1;
	}
	return n;
}

static void feed(struct http_conn *c, struct side *s, const uint8_t *p, size_t n, uint64_t off,
		 uint64_t ts)
{
	size_t i = 0;
	s->cur_ts = ts;
	while (i < n) {
		switch (s->mode) {
		case M_OFF:
			return;
		case M_RESYNC:
			i += resync(c, s, p + i, n - i, off + i, ts);
			break;
		case M_IDLE:
			while (i < n && (p[i] == '\r' || p[i] == '\n'))
				i++;
			if (i < n)
				message_begin(c, s, off + i, ts);
			break;
		default:
			i += parse(c, s, p + i, n - i);
			break;
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The module.                                                                                 */

static void http_gap(void *conn, int dir, uint64_t off, uint64_t len, uint64_t ts_ns);

static void http_data(void *conn, int dir, uint64_t off, const uint8_t *p, uint32_t len,
		      uint64_t ts_ns)
{
	struct http_conn *c = conn;
	if (dir != CT_C2S && dir != CT_S2C)
		return;
	struct side *s = &c->side[dir];
	if (off > s->next_off)
		http_gap(c, dir, s->next_off, off - s->next_off, ts_ns);
	if (off < s->next_off) { /* bytes we had already: not delivered twice by the flow table */
		uint64_t dup = s->next_off - off;
		if (dup >= len)
			return;
		p += dup;
		len -= (uint32_t)dup;
		off = s->next_off;
	}
	s->next_off = off + len;
	if (!len)
		return;
	s->last_ts = ts_ns;
	feed(c, s, p, len, off, ts_ns);
}

static void http_gap(void *conn, int dir, uint64_t off, uint64_t len, uint64_t ts_ns)
{
	static const uint8_t zeros[16384];
	struct http_conn *c = conn;
	if (dir != CT_C2S && dir != CT_S2C)
		return;
	struct side *s = &c->side[dir];
	CT_UNUSED(off);
	s->next_off += len;
	if (s->mode == M_OFF || !len)
		return;
	s->cur_ts = ts_ns;
	if (s->mode == M_MSG && len <= CT_HTTP_GAP_FILL_MAX_BYTES &&
	    ((s->body == B_LENGTH && len < s->body_left) || s->body == B_EOF) &&
	    s->hstate == HS_NONE && s->line_done) {
		/* Inside a body we can step over: the parser counts the zeros as body bytes. */
		for (uint64_t at = 0; at < len && s->mode == M_MSG;) {
			size_t k = len - at < sizeof zeros ? (size_t)(len - at) : sizeof zeros;
			size_t used = parse(c, s, zeros, k);
			if (!used)
				break;
			at += used;
		}
		return;
	}
	if (s->mode == M_RESYNC) { /* still looking: the bytes after the gap may start a line */
		s->line_start = 1;
		s->cand_len = 0;
		return;
	}
	message_abandon(c, s);
	if (dir == CT_S2C)
		give_up_waiting(c);
	start_resync(c, s, 1);
}

static void *http_open(const struct ct_proto_open *o)
{
	struct http_conn *c = ct_calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->qcap = 2;
	c->q = ct_malloc((size_t)c->qcap * sizeof *c->q);
	if (!c->q) {
		ct_free(c);
		return NULL;
	}
	c->conn_id = o->conn_id;
	if (o->emit)
		c->emit = *o->emit;
	c->stats = o->stats ? o->stats : &no_stats_sink;
	for (int d = 0; d < 2; d++) {
		struct side *s = &c->side[d];
		s->c = c;
		s->dir = (uint8_t)d;
		s->seq = NO_SEQ;
		parser_reset(s);
		s->mode = M_IDLE;
		if (o->midstream)
			start_resync(c, s, 1);
	}
	return c;
}

static void http_close(void *conn, uint64_t ts_ns)
{
	struct http_conn *c = conn;
	if (!c)
		return;
	CT_UNUSED(ts_ns);
	struct side *rs = &c->side[CT_S2C];
	if (rs->mode == M_MSG && rs->body == B_EOF) {
		/* The body ran until the server closed: the end of input ends the response. */
		rs->cur_ts = rs->last_ts;
		rs->buf_end = NULL;
		(void)http_parser_execute(&rs->hp, &settings, NULL, 0);
		if (HTTP_PARSER_ERRNO(&rs->hp) == HPE_PAUSED)
			rs->mode = M_IDLE;
	}
	message_abandon(c, &c->side[CT_C2S]);
	message_abandon(c, rs);
	c->answered = c->qlen; /* what is left was not answered */
	for (uint32_t i = 0; i < c->qlen; i++)
		q_at(c, i)->fl |= C_REQ_DONE;
	q_drain(c);
	ct_free(c->q);
	ct_free(c);
}

const struct ct_proto_ops ct_proto_http = {
	.name = "http",
	.proto = CT_PROTO_HTTP,
	.open = http_open,
	.data = http_data,
	.gap = http_gap,
	.datagram = NULL,
	.close = http_close,
};
