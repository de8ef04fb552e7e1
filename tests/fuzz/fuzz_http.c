/* Fuzz target: the HTTP/1.x module (src/http_pair.c, ct_proto_http) with both directions of
 * one connection, as fuzz.h lays the input out (a conversation of requests and responses,
 * with gaps, overlaps and jumps, or one direction alone). Every API call and event it emits
 * is checked (fields in range, times in order, bounded strings all readable) and digested;
 * the input's own cut and the whole input must give the same digest. */
#include "cachetap/flow.h"
#include "cachetap/limits.h"
#include "cachetap/proto.h"
#include "fuzz.h"

struct module {
	void *conn;
	struct fz_log *log;
	uint64_t events, calls;
};

static void on_event(void *ctx, const struct ct_event *e)
{
	struct module *m = ctx;
	m->events++;
	FZ_CHECK(e->proto == CT_PROTO_HTTP, "event proto %u", e->proto);
	FZ_CHECK(e->cls < CT_CLASS_COUNT && e->status < CT_STATUS_COUNT && e->via < CT_VIA_COUNT,
		 "event enums out of range");
	FZ_CHECK(e->dir == CT_C2S || e->dir == CT_S2C, "event dir %u", e->dir);
	FZ_CHECK(!(e->flags & CT_EV_HAS_KEY), "an HTTP event carries no key");
	FZ_CHECK(e->cmd != NULL && e->cmd_len > 0, "event without a method");
	FZ_CHECK(e->first_ts_ns <= e->ts_ns, "event ends before it starts");
	fz_touch(e->cmd, e->cmd_len);
	if (e->detail)
		fz_touch(e->detail, strlen(e->detail));
	fz_logf(m->log, "ev %" PRIu64 " %" PRIu64 " %u %u f=%x lat=%" PRIu64 " %.*s d=%s", e->ts_ns,
		e->first_ts_ns, e->cls, e->status, e->flags,
		(e->flags & CT_EV_HAS_LATENCY) ? e->latency_ns : 0, (int)e->cmd_len, e->cmd,
		e->detail ? e->detail : "-");
}

static void on_api(void *ctx, const struct ct_api_call *a)
{
	struct module *m = ctx;
	m->calls++;
	FZ_CHECK(a->conn_id == 7, "call on connection %" PRIu64, a->conn_id);
	FZ_CHECK(a->method != NULL && a->method[0], "call without a method");
	FZ_CHECK(a->path != NULL || a->path_len == 0, "path length without a path");
	FZ_CHECK(a->path_len <= CT_HTTP_PATH_MAX_BYTES, "path of %u bytes", a->path_len);
	FZ_CHECK(a->request_id_len <= CT_HTTP_REQID_MAX_BYTES, "request id of %u bytes",
		 a->request_id_len);
	FZ_CHECK(a->traceparent_len <= CT_HTTP_TRACEPARENT_MAX_BYTES, "traceparent of %u bytes",
		 a->traceparent_len);
	FZ_CHECK(a->status == 0 || (a->status >= 100 && a->status <= 999), "status %u", a->status);
	FZ_CHECK(!a->ts_req_end_ns || a->ts_start_ns <= a->ts_req_end_ns, "request ends before it starts");
	FZ_CHECK(!a->ts_end_ns || a->ts_resp_start_ns <= a->ts_end_ns, "response ends before it starts");
	FZ_CHECK(!a->ts_resp_start_ns || a->ts_start_ns <= a->ts_resp_start_ns,
		 "response starts before its request");
	fz_touch(a->method, strlen(a->method));
	if (a->path)
		fz_touch(a->path, a->path_len);
	if (a->request_id)
		fz_touch(a->request_id, a->request_id_len);
	if (a->traceparent)
		fz_touch(a->traceparent, a->traceparent_len);
	fz_logf(m->log, "api %s %u f=%x %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " b=%" PRIu64
		"/%" PRIu64 " off=%" PRIu64, a->method, a->status, a->flags, a->ts_start_ns,
		a->ts_req_end_ns, a->ts_resp_start_ns, a->ts_end_ns, a->req_body_bytes,
		a->resp_body_bytes, a->stream_off);
	if (a->path)
		fz_log_bytes(m->log, a->path, a->path_len);
	if (a->request_id)
		fz_log_bytes(m->log, a->request_id, a->request_id_len);
}

static void mod_data(void *t, int dir, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts)
{
	struct module *m = t;
	ct_proto_http.data(m->conn, dir, off, p, len, ts);
}

static void mod_gap(void *t, int dir, uint64_t off, uint64_t len, uint64_t ts)
{
	struct module *m = t;
	ct_proto_http.gap(m->conn, dir, off, len, ts);
}

static const struct fz_ops mod_ops = { mod_data, mod_gap };

static uint64_t run_module(const struct fz_in *in, int split)
{
	struct fz_log log;
	fz_log_init(&log);
	struct ct_proto_config cfg = { .values = CT_VALUES_HASH };
	struct module m = { NULL, &log, 0, 0 };
	struct ct_emit emit = { .event = on_event, .ctx = &m, .api = on_api };
	struct ct_proto_stats st;
	memset(&st, 0, sizeof st);
	struct ct_proto_open o = {
		.conn_id = 7, .midstream = in->midstream, .cfg = &cfg, .emit = &emit, .stats = &st,
	};
	m.conn = ct_proto_http.open(&o);
	if (!m.conn)
		return 0; /* out of memory: nothing to test */
	uint64_t end_ts = fz_feed(in, split, &mod_ops, &m, NULL);
	ct_proto_http.close(m.conn, end_ts);
	FZ_CHECK(st.events == m.events, "stats say %" PRIu64 " events, %" PRIu64 " emitted",
		 st.events, m.events);
	fz_logf(&log, "stats msgs=%" PRIu64 " events=%" PRIu64 " calls=%" PRIu64 " perr=%" PRIu64
		" resyncs=%" PRIu64 " unmatched=%" PRIu64 " unanswered=%" PRIu64 " overflow=%" PRIu64
		" cut=%" PRIu64, st.messages, st.events, m.calls, st.parse_errors, st.resyncs,
		st.unmatched_replies, st.unanswered, st.pending_overflow, st.truncated);
	return fz_log_digest(&log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_parse(&in, data, size);
	fz_differential(&in, run_module, "ct_proto_http");
	return 0;
}
