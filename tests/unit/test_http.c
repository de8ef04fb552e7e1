/* Tests for the HTTP/1.x protocol module (src/http_pair.c).
 *
 * Conversations are fixture files (tests/fixtures/http/NAME.txt), read and replayed by
 * tests/fixture.h; the directives of this test, one per line:
 *   === name            starts a case
 *   opts [midstream]    the connection was picked up mid-stream
 *   c> TEXT / s> TEXT   one TCP packet from the client / the server; escapes \r \n \t \s \\ \xNN
 *   cr N TEXT / sr N TEXT   one packet holding TEXT N times
 *   gap c|s N           N bytes of that direction are lost
 *   close               the connection ends here (else it ends after the last step)
 *   at T                the clock jumps to T (each packet otherwise advances it by 10)
 *   out LINE            the expected log: api calls and events as they are emitted, then the
 *                       module's counters
 * An API call prints as (a path or detail over 80 bytes as its first 40 and "...(+MORE)")
 *   call METHOD PATH st=STATUS t=START..REQ_END resp=RESP_START..END body=REQ/RESP
 *        [id=REQUEST_ID] [tp=TRACEPARENT] [f=FLAGS] @OFFSET
 * with ? for an unknown time, st=- resp=- without a response; its event as
 *   ev t=FIRST..TS METHOD STATUS [lat=NS] [f=RESYNCED] d=DETAIL @OFFSET
 * Each case runs with every packet fed whole, then split in two at every byte position of each
 * direction, then one byte at a time; every way must give exactly the expected log. Chunks are
 * fresh heap copies freed after the call, so ASan catches a pointer kept too long. Set
 * HTTP_PRINT=1 to print the actual logs. */
#include <stdlib.h>
#include <string.h>

#include "cachetap/flow.h"
#include "cachetap/limits.h"
#include "cachetap/proto.h"
#include "fixture.h"
#include "tap.h"

/* The escapes of the expected logs: every control byte as \xNN except these. */
#define LOG_ESCAPES "rn"

/* Segment kinds besides CT_FX_DATA (a TCP packet, split) and CT_FX_GAP. */
enum { S_CLOSE = CT_FX_KIND_USER, S_AT };

struct fx {
	struct ct_fx_case c; /* first: the reader allocates and hands out this part */
	int midstream;
};

/* ---- a run ---- */

struct run {
	struct ct_buf log;
	struct ct_proto_stats stats;
	struct ct_emit emit;
	void *conn;
	int closed;
	uint64_t off[2];
	uint64_t t;
};

/* A path or detail: longer ones print as their first 40 bytes and how many more there are. */
static void put_long(struct ct_buf *s, const char *p, size_t n)
{
	if (n <= 80) {
		ct_fx_esc(s, p, n, "");
		return;
	}
	ct_fx_esc(s, p, 40, "");
	ct_fx_printf(s, "...(+%zu)", n - 40);
}

static void put_ts(struct ct_buf *s, uint64_t t)
{
	if (t)
		ct_fx_printf(s, "%llu", (unsigned long long)t);
	else
		ct_fx_put(s, "?", 1);
}

static void log_api(void *ctx, const struct ct_api_call *a)
{
	struct run *r = ctx;
	struct ct_buf *s = &r->log;
	ct_fx_printf(s, "call %s ", a->method);
	put_long(s, a->path, a->path_len);
	if (a->status)
		ct_fx_printf(s, " st=%u", a->status);
	else
		ct_fx_put(s, " st=-", 5);
	ct_fx_put(s, " t=", 3);
	put_ts(s, a->ts_start_ns);
	ct_fx_put(s, "..", 2);
	put_ts(s, a->ts_req_end_ns);
	if (a->status) {
		ct_fx_put(s, " resp=", 6);
		put_ts(s, a->ts_resp_start_ns);
		ct_fx_put(s, "..", 2);
		put_ts(s, a->ts_end_ns);
	} else {
		ct_fx_put(s, " resp=-", 7);
	}
	ct_fx_printf(s, " body=%llu/%llu", (unsigned long long)a->req_body_bytes,
		     (unsigned long long)a->resp_body_bytes);
	if (a->request_id) {
		ct_fx_put(s, " id=", 4);
		ct_fx_esc(s, a->request_id, a->request_id_len, "");
	}
	if (a->traceparent) {
		ct_fx_put(s, " tp=", 4);
		ct_fx_esc(s, a->traceparent, a->traceparent_len, "");
	}
	static const struct {
		uint32_t bit;
		const char *name;
	} fl[] = {
		{ CT_API_PATH_CUT, "PATH_CUT" }, { CT_API_REQUEST_ID_CUT, "ID_CUT" },
		{ CT_API_TRACEPARENT_CUT, "TP_CUT" }, { CT_API_REQ_CUT, "REQ_CUT" },
		{ CT_API_RESP_CUT, "RESP_CUT" }, { CT_API_RESYNCED, "RESYNCED" },
	};
	const char *sep = " f=";
	for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
		if (a->flags & fl[i].bit) {
			ct_fx_printf(s, "%s%s", sep, fl[i].name);
			sep = ",";
		}
	}
	ct_fx_printf(s, " @%llu", (unsigned long long)a->stream_off);
	/* invariants every call keeps */
	if (a->conn_id != 1 || !a->method || !a->path || a->path[a->path_len] != '\0' ||
	    (a->request_id && a->request_id[a->request_id_len] != '\0') ||
	    (a->traceparent && a->traceparent[a->traceparent_len] != '\0') ||
	    (!a->status && (a->ts_resp_start_ns || a->ts_end_ns)) ||
	    (a->status && !a->ts_resp_start_ns) || !a->ts_start_ns ||
	    (a->ts_req_end_ns && a->ts_req_end_ns < a->ts_start_ns) ||
	    (a->ts_end_ns && a->ts_end_ns < a->ts_resp_start_ns) ||
	    !!(a->flags & CT_API_REQ_CUT) != !a->ts_req_end_ns)
		ct_fx_put(s, " INVARIANT!", 11);
	ct_fx_put(s, "\n", 1);
}

static void log_event(void *ctx, const struct ct_event *ev)
{
	struct run *r = ctx;
	struct ct_buf *s = &r->log;
	ct_fx_printf(s, "ev t=%llu..%llu %.*s %s", (unsigned long long)ev->first_ts_ns,
		     (unsigned long long)ev->ts_ns, (int)ev->cmd_len, ev->cmd,
		     ct_status_name(ev->status));
	if (ev->flags & CT_EV_HAS_LATENCY)
		ct_fx_printf(s, " lat=%llu", (unsigned long long)ev->latency_ns);
	if (ev->flags & CT_EV_RESYNCED)
		ct_fx_put(s, " f=RESYNCED", 11);
	ct_fx_put(s, " d=", 3);
	if (ev->detail)
		put_long(s, ev->detail, strlen(ev->detail));
	ct_fx_printf(s, " @%llu", (unsigned long long)ev->stream_off);
	if (ev->proto != CT_PROTO_HTTP || ev->dir != CT_C2S || ev->via != CT_VIA_COMMAND ||
	    ev->cls != CT_CLASS_OTHER || ev->db != -1 || (ev->flags & CT_EV_HAS_KEY) ||
	    ev->key_len || !ev->cmd || !ev->cmd_len || !ev->detail ||
	    strlen(ev->detail) > CT_HTTP_DETAIL_MAX_BYTES || ev->first_ts_ns > ev->ts_ns ||
	    ev->conn_id != 1)
		ct_fx_put(s, " INVARIANT!", 11);
	ct_fx_put(s, "\n", 1);
}

static void log_stats(struct ct_buf *s, const struct ct_proto_stats *st)
{
	ct_fx_printf(s,
		     "stats msgs=%llu events=%llu perr=%llu resyncs=%llu unmatched=%llu "
		     "unanswered=%llu overflow=%llu cut=%llu\n",
		     (unsigned long long)st->messages, (unsigned long long)st->events,
		     (unsigned long long)st->parse_errors, (unsigned long long)st->resyncs,
		     (unsigned long long)st->unmatched_replies, (unsigned long long)st->unanswered,
		     (unsigned long long)st->pending_overflow, (unsigned long long)st->truncated);
}

/* One chunk of a step (p: a fresh heap copy; NULL for a gap). A step's first chunk advances
 * the clock by 10; its other chunks come at the same time. */
static void feed_chunk(void *ctx, const struct ct_fx_seg *g, size_t at, const uint8_t *p, size_t n)
{
	const struct ct_proto_ops *ops = &ct_proto_http;
	struct run *r = ctx;
	if (g->kind == S_AT) {
		r->t = g->t;
		return;
	}
	if (r->closed)
		return;
	if (at == 0)
		r->t += 10;
	switch (g->kind) {
	case CT_FX_DATA:
		ops->data(r->conn, g->dir, r->off[g->dir] + at, p, (uint32_t)n, r->t);
		if (at + n == g->len)
			r->off[g->dir] += g->len;
		break;
	case CT_FX_GAP:
		ops->gap(r->conn, g->dir, r->off[g->dir], n, r->t);
		r->off[g->dir] += n;
		break;
	case S_CLOSE:
		ops->close(r->conn, r->t);
		r->closed = 1;
		break;
	}
}

static void run_case(const struct ct_fx_case *c, const struct ct_fx_how *how, struct ct_buf *log)
{
	const struct fx *fx = (const struct fx *)c;
	struct run r = { 0 };
	r.emit = (struct ct_emit){ .event = log_event, .ctx = &r, .api = log_api };
	struct ct_proto_config cfg = { CT_VALUES_HASH, NULL, 0 };
	struct ct_proto_open o = { 1, fx->midstream, &cfg, &r.emit, &r.stats };
	r.conn = ct_proto_http.open(&o);
	if (!r.conn)
		abort();
	ct_fx_walk(c, how, feed_chunk, &r);
	if (!r.closed) {
		r.t += 10;
		ct_proto_http.close(r.conn, r.t);
	}
	log_stats(&r.log, &r.stats);
	*log = r.log;
}

/* ---- this test's fixture directives ---- */

static int directive(struct ct_fx_case *c, const char *line)
{
	struct fx *fx = (struct fx *)c;
	size_t from = c->in.len;
	int dir = line[0] == 'c' ? CT_C2S : CT_S2C;
	unsigned a;
	int pos = 0;
	if (strcmp(line, "opts midstream") == 0) {
		fx->midstream = 1;
		return 0;
	} else if (strncmp(line, "c> ", 3) == 0 || strncmp(line, "s> ", 3) == 0) {
		if (ct_fx_unescape(&c->in, line + 3))
			return -1;
	} else if ((line[0] == 'c' || line[0] == 's') &&
		   sscanf(line + 1, "r %u %n", &a, &pos) == 1 && pos) {
		struct ct_buf one = { 0 };
		int bad = ct_fx_unescape(&one, line + 1 + pos);
		for (unsigned i = 0; i < a && !bad; i++)
			ct_fx_put(&c->in, one.p, one.len);
		ct_fx_buf_free(&one);
		if (bad)
			return -1;
	} else if (sscanf(line, "gap c %u", &a) == 1) {
		ct_fx_gap(c, CT_C2S, a);
		return 0;
	} else if (sscanf(line, "gap s %u", &a) == 1) {
		ct_fx_gap(c, CT_S2C, a);
		return 0;
	} else if (strcmp(line, "close") == 0) {
		ct_fx_seg_add(c, S_CLOSE, 0, from);
		return 0;
	} else if (sscanf(line, "at %u", &a) == 1) {
		ct_fx_seg_add(c, S_AT, 0, from)->t = a;
		return 0;
	} else {
		return -1;
	}
	ct_fx_seg_add(c, CT_FX_DATA, dir, from);
	return 0;
}

static const struct ct_fx_suite suite = {
	.subdir = "http",
	.case_size = sizeof(struct fx),
	.ndirs = 2,
	.dir_name = { [CT_C2S] = "c2s", [CT_S2C] = "s2c" },
	.print_env = "HTTP_PRINT",
	.directive = directive,
	.run = run_case,
};

/* ---- tests written in C: caps and allocation failures ---- */

struct counter {
	uint64_t calls, answered, events;
};

static void count_api(void *ctx, const struct ct_api_call *a)
{
	struct counter *k = ctx;
	k->calls++;
	k->answered += a->status != 0;
}

static void count_event(void *ctx, const struct ct_event *ev)
{
	struct counter *k = ctx;
	CT_UNUSED(ev);
	k->events++;
}

static void send_str(void *conn, int dir, uint64_t *off, const char *s, uint64_t ts)
{
	size_t n = strlen(s);
	ct_proto_http.data(conn, dir, *off, (const uint8_t *)s, (uint32_t)n, ts);
	*off += n;
}

/* Only the client direction was captured: more requests than CT_HTTP_PENDING_MAX wait. The
 * oldest are emitted as they stand (unanswered), so memory stays bounded, and the count says
 * so. */
static void test_pending_cap(void)
{
	struct counter k = { 0 };
	struct ct_proto_stats st = { 0 };
	struct ct_emit emit = { .event = count_event, .ctx = &k, .api = count_api };
	struct ct_proto_open o = { 1, 0, NULL, &emit, &st };
	void *c = ct_proto_http.open(&o);
	ok(c != NULL, "cap: open");
	uint64_t off[2] = { 0, 0 };
	const uint32_t n = CT_HTTP_PENDING_MAX + 10;
	for (uint32_t i = 0; i < n; i++)
		send_str(c, CT_C2S, &off[CT_C2S], "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", 100 + i);
	is_int(st.pending_overflow, 10, "cap: the 10 requests past the cap counted");
	is_int(k.calls, 10, "cap: the 10 oldest emitted as they stood");
	is_int(k.answered, 0, "cap: none of them answered");
	ct_proto_http.close(c, 10000);
	is_int(k.calls, n, "cap: every request is one call");
	is_int(k.events, n, "cap: and one event");
	is_int(st.unanswered, n, "cap: all unanswered");
}

/* Every allocation the module makes can fail: open returns NULL, or the FIFO stops growing
 * (counted) and the calls still come out. */
static void test_alloc_fail(void)
{
	int clean = 1;
	for (uint64_t nth = 1; nth <= 8; nth++) {
		struct counter k = { 0 };
		struct ct_proto_stats st = { 0 };
		struct ct_emit emit = { .event = count_event, .ctx = &k, .api = count_api };
		struct ct_proto_open o = { 1, 0, NULL, &emit, &st };
		ct_alloc_fail_at(nth);
		void *c = ct_proto_http.open(&o);
		if (c) {
			uint64_t off[2] = { 0, 0 };
			for (int i = 0; i < 20; i++)
				send_str(c, CT_C2S, &off[CT_C2S], "GET / HTTP/1.1\r\n\r\n", 10);
			for (int i = 0; i < 20; i++)
				send_str(c, CT_S2C, &off[CT_S2C], "HTTP/1.1 204 No\r\n\r\n", 20);
			ct_proto_http.close(c, 30);
			if (k.calls != 20 || k.events != 20 || k.answered + st.unanswered != 20)
				clean = 0;
		}
		ct_alloc_fail_at(0);
	}
	ok(clean, "allocation failures: open fails cleanly or every call still comes out");
}

/* Mangled conversations: HTTP messages with bytes flipped, cut and repeated, fed in random
 * pieces with random gaps, from the start or mid-stream. Nothing may crash (ASan and UBSan
 * run this too), every call and event keeps its invariants, and every call comes out once:
 * as many calls as events. Deterministic: a fixed xorshift seed. */
static uint64_t rnd_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_mangled(void)
{
	static const char *const parts[2][6] = {
		{ "GET /a?b=c HTTP/1.1\r\nX-Request-Id: r1\r\n\r\n",
		  "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
		  "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		  "HEAD /h HTTP/1.0\r\ntraceparent: 00-ab-cd-01\r\n\r\n",
		  "CONNECT h:1 HTTP/1.1\r\n\r\n", "\r\n" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		  "HTTP/1.1 100 Continue\r\n\r\n",
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		  "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
		  "HTTP/1.0 200 OK\r\n\r\nuntil close", "HTTP/1.1 101 Switching\r\n\r\n\x81\x00" },
	};
	int clean = 1;
	uint64_t calls = 0;
	for (int iter = 0; iter < 3000; iter++) {
		struct run r = { 0 };
		struct counter k = { 0 };
		struct ct_proto_stats st = { 0 };
		r.emit = (struct ct_emit){ .event = log_event, .ctx = &r, .api = log_api };
		struct ct_proto_open o = { 1, (int)(rnd() & 1), NULL, &r.emit, &st };
		void *c = ct_proto_http.open(&o);
		if (!c)
			abort();
		uint64_t off[2] = { 0, 0 }, t = 10;
		for (int step = 0, nsteps = 1 + (int)(rnd() % 12); step < nsteps; step++) {
			int dir = (int)(rnd() & 1);
			uint8_t msg[512];
			size_t n = 0;
			for (int m = 0, nm = 1 + (int)(rnd() % 3); m < nm; m++) {
				const char *p = parts[dir][rnd() % 6];
				size_t pl = strlen(p);
				if (n + pl <= sizeof msg) {
					memcpy(msg + n, p, pl);
					n += pl;
				}
			}
			for (int f = 0, nf = (int)(rnd() % 4); f < nf && n; f++)
				msg[rnd() % n] = (uint8_t)rnd();
			if (rnd() % 4 == 0 && n)
				n = (size_t)(rnd() % n);
			if (rnd() % 8 == 0) {
				uint64_t g = rnd() % 3 == 0 ? (rnd() % 100000000) : rnd() % 64;
				ct_proto_http.gap(c, dir, off[dir], g, t);
				off[dir] += g;
			}
			for (size_t at = 0; at < n;) {
				size_t piece = 1 + (size_t)(rnd() % (n - at));
				uint8_t *copy = ct_malloc(piece);
				if (!copy)
					abort();
				memcpy(copy, msg + at, piece);
				ct_proto_http.data(c, dir, off[dir], copy, (uint32_t)piece, t);
				ct_free(copy);
				off[dir] += piece;
				at += piece;
			}
			t += 10;
		}
		ct_proto_http.close(c, t);
		const char *log = ct_fx_str(&r.log);
		for (const char *p = log; (p = strstr(p, "call ")); p++)
			k.calls++;
		for (const char *p = log; (p = strstr(p, "ev t=")); p++)
			k.events++;
		if (strstr(log, "INVARIANT!") || k.calls != k.events || st.events != k.events) {
			if (clean)
				diag("iteration %d:\n%s", iter, log);
			clean = 0;
		}
		calls += k.calls;
		ct_fx_buf_free(&r.log);
	}
	ok(clean, "3000 mangled conversations: no crash, invariants kept, one event per call "
		  "(%llu calls)", (unsigned long long)calls);
}

int main(void)
{
	static const char *const files[] = { "basic.txt", "framing.txt", "headers.txt", "mess.txt" };
	for (size_t i = 0; i < CT_ARRAY_LEN(files); i++)
		ct_fx_file(&suite, files[i]);
	test_pending_cap();
	test_alloc_fail();
	test_mangled();
	return done_testing();
}
