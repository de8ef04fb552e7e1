/* Fuzz target: the RESP decoder (src/resp.c) and the Redis protocol module (src/redis_pair.c).
 *
 * Input: tests/fuzz/fuzz.h. Mode bits 6-7 (fz_in.opt):
 *   bit 0  0: a client-side and a server-side ct_resp decoder, records of direction 0 to the
 *             first, 1 to the second; 1: ct_proto_redis, both directions interleaved as the
 *             records say (pairing, MULTI, pushes, replication, ...)
 *   bit 1  decoders: the server side expects an RDB payload from the start; module: values
 *          are stored in full (CT_VALUES_FULL)
 * Either way a server-side "+FULLRESYNC" reply makes the decoder expect the RDB payload.
 *
 * Checked: every callback's fields against the decoder's contract (offsets inside what was
 * fed and in stream order, p/n within the cap and readable, aggregates balanced, msg_seq);
 * every event's fields (readable key, command and detail, enums in range); and that the
 * output is the same whether the input is cut into chunks or fed whole. */
#include "cachetap/flow.h"
#include "cachetap/proto.h"
#include "cachetap/resp.h"
#include "fuzz.h"

struct side {
	struct ct_resp d;
	struct fz_log *log;
	int dir;
	uint64_t fed_end;   /* offset after the last byte fed */
	uint64_t msgs;      /* messages delivered: the msg_seq of what comes next */
	uint64_t last_msg_end; /* offset after the last message (its bytes are passed) */
	int have_msg;
	uint32_t open_aggs; /* agg_begin minus agg_end of the message under way */
	int fullresync;     /* the message under way is "+FULLRESYNC ..." */
};

static void check_place(struct side *s, uint64_t off, uint64_t last_off, uint64_t msg_seq)
{
	FZ_CHECK(off <= last_off, "dir %d: first offset %" PRIu64 " after last %" PRIu64, s->dir,
		 off, last_off);
	FZ_CHECK(last_off < s->fed_end, "dir %d: offset %" PRIu64 " not fed yet (fed to %" PRIu64 ")",
		 s->dir, last_off, s->fed_end);
	FZ_CHECK(!s->have_msg || off >= s->last_msg_end,
		 "dir %d: offset %" PRIu64 " inside a message already delivered (ended %" PRIu64 ")",
		 s->dir, off, s->last_msg_end);
	FZ_CHECK(msg_seq == s->msgs, "dir %d: msg_seq %" PRIu64 ", %" PRIu64 " messages delivered",
		 s->dir, msg_seq, s->msgs);
}

static void on_elem(void *ctx, const struct ct_resp_elem *e)
{
	struct side *s = ctx;
	check_place(s, e->off, e->last_off, e->msg_seq);
	FZ_CHECK(e->p != NULL, "elem without p");
	FZ_CHECK(e->n <= CT_RESP_ELEM_CAP_BYTES, "elem n=%u over the cap", e->n);
	FZ_CHECK(e->depth <= CT_RESP_MAX_DEPTH, "elem depth %u", e->depth);
	FZ_CHECK(e->depth == s->open_aggs, "elem depth %u with %u aggregates open", e->depth,
		 s->open_aggs);
	if (e->depth == 0 && e->type == '+' && s->dir == 1 && e->n >= 10 &&
	    memcmp(e->p, "FULLRESYNC", 10) == 0)
		s->fullresync = 1;
	fz_logf(s->log, "%d elem %" PRIu64 "-%" PRIu64 " %u.%u.%u %c f=%x len=%" PRId64 " n=%u i=%" PRId64
		" h=%" PRIx64, s->dir, e->off, e->last_off, e->depth, e->index, e->top_index, e->type,
		e->flags, e->len, e->n, (e->flags & CT_RESP_EF_INT) ? e->ival : 0,
		(e->flags & CT_RESP_EF_HASHED) ? e->hash : 0);
	fz_log_bytes(s->log, e->p, e->n);
}

static void on_agg(struct side *s, const struct ct_resp_agg *a, const char *what)
{
	check_place(s, a->off, a->last_off, a->msg_seq);
	FZ_CHECK(a->depth <= CT_RESP_MAX_DEPTH, "agg depth %u", a->depth);
	fz_logf(s->log, "%d %s %" PRIu64 "-%" PRIu64 " %u.%u.%u %c f=%x count=%" PRId64, s->dir, what,
		a->off, a->last_off, a->depth, a->index, a->top_index, a->type, a->flags, a->count);
}

static void on_begin(void *ctx, const struct ct_resp_agg *a)
{
	struct side *s = ctx;
	FZ_CHECK(a->depth == s->open_aggs, "agg_begin depth %u with %u open", a->depth,
		 s->open_aggs);
	on_agg(s, a, "begin");
	s->open_aggs++;
}

static void on_end(void *ctx, const struct ct_resp_agg *a)
{
	struct side *s = ctx;
	FZ_CHECK(s->open_aggs > 0, "agg_end with none open");
	s->open_aggs--;
	FZ_CHECK(a->depth == s->open_aggs, "agg_end depth %u, %u left open", a->depth,
		 s->open_aggs);
	on_agg(s, a, "end");
}

static void on_msg(void *ctx, const struct ct_resp_msg *m)
{
	struct side *s = ctx;
	check_place(s, m->first_off, m->last_off, m->seq);
	FZ_CHECK(s->open_aggs == 0, "message complete with %u aggregates open", s->open_aggs);
	FZ_CHECK(m->first_ts_ns <= m->ts_ns, "message ends before it starts");
	fz_logf(s->log, "%d msg %" PRIu64 "-%" PRIu64 " %c f=%x count=%" PRId64 " t=%" PRIu64 "-%" PRIu64,
		s->dir, m->first_off, m->last_off, m->type, m->flags, m->count, m->first_ts_ns,
		m->ts_ns);
	s->msgs++;
	s->have_msg = 1;
	s->last_msg_end = m->last_off + 1;
	if (s->fullresync)
		FZ_CHECK(ct_resp_expect_rdb(&s->d) == 0, "expect_rdb on the server side");
	s->fullresync = 0;
}

static void on_error(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct side *s = ctx;
	FZ_CHECK(err == CT_EPROTO || err == CT_ELIMIT, "error code %d", err);
	FZ_CHECK(errstr != NULL, "error without text");
	FZ_CHECK(off <= s->fed_end, "error at %" PRIu64 " beyond what was fed", off);
	fz_logf(s->log, "%d err %" PRIu64 " %d %s", s->dir, off, err, errstr);
}

static void on_abort(void *ctx, uint64_t first_off, int why)
{
	struct side *s = ctx;
	FZ_CHECK(why == CT_EPROTO || why == CT_ELIMIT || why == CT_ETRUNC, "abort why %d", why);
	s->open_aggs = 0;
	s->fullresync = 0;
	fz_logf(s->log, "%d abort %" PRIu64 " %d", s->dir, first_off, why);
}

static const struct ct_resp_cb resp_cb = { on_elem, on_begin, on_end, on_msg, on_error, on_abort };

/* ---- bare decoders ---- */

struct decoders {
	struct side s[2];
};

static void dec_data(void *t, int dir, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts)
{
	struct side *s = &((struct decoders *)t)->s[dir];
	if (off + len > s->fed_end)
		s->fed_end = off + len;
	(void)ct_resp_feed(&s->d, off, p, len, ts, &resp_cb, s);
}

static void dec_gap(void *t, int dir, uint64_t off, uint64_t len, uint64_t ts)
{
	struct side *s = &((struct decoders *)t)->s[dir];
	if (off + len > s->fed_end)
		s->fed_end = off + len;
	ct_resp_gap(&s->d, off, len, ts, &resp_cb, s);
}

static const struct fz_ops dec_ops = { dec_data, dec_gap };

static uint64_t run_decoders(const struct fz_in *in, int split)
{
	static struct decoders t; /* about 6 KB each: not on the stack */
	struct fz_log log;
	fz_log_init(&log);
	memset(&t, 0, sizeof t);
	struct ct_resp_opts o = {
		.values = in->values_none ? CT_RESP_VALUES_NONE : CT_RESP_VALUES_HASH,
		.midstream = (uint8_t)in->midstream,
	};
	for (int d = 0; d < 2; d++) {
		t.s[d].dir = d;
		t.s[d].log = &log;
		FZ_CHECK(ct_resp_init(&t.s[d].d, d ? CT_RESP_SIDE_SERVER : CT_RESP_SIDE_CLIENT, &o) == 0,
			 "init");
	}
	if (in->opt & 2)
		FZ_CHECK(ct_resp_expect_rdb(&t.s[1].d) == 0, "expect_rdb");
	uint64_t end_ts = fz_feed(in, split, &dec_ops, &t, NULL);
	for (int d = 0; d < 2; d++) {
		ct_resp_end(&t.s[d].d, end_ts, &resp_cb, &t.s[d]);
		const struct ct_resp_counters *c = &t.s[d].d.c;
		FZ_CHECK(c->msgs == t.s[d].msgs, "counted %" PRIu64 " messages, delivered %" PRIu64,
			 c->msgs, t.s[d].msgs);
		fz_logf(&log, "%d end msgs=%" PRIu64 " errors=%" PRIu64 " err=%d at %" PRIu64, d,
			c->msgs, c->errors, t.s[d].d.err, t.s[d].d.err_offset);
	}
	return fz_log_digest(&log);
}

/* ---- the protocol module ---- */

struct module {
	void *conn;
	struct fz_log *log;
	uint64_t events;
};

static void on_event(void *ctx, const struct ct_event *e)
{
	struct module *m = ctx;
	struct fz_log *log = m->log;
	m->events++;
	FZ_CHECK(e->cls < CT_CLASS_COUNT && e->status < CT_STATUS_COUNT && e->via < CT_VIA_COUNT,
		 "event enums out of range");
	FZ_CHECK(e->dir == CT_C2S || e->dir == CT_S2C, "event dir %u", e->dir);
	FZ_CHECK(e->proto == CT_PROTO_REDIS, "event proto %u", e->proto);
	FZ_CHECK(e->cmd != NULL, "event without a command");
	FZ_CHECK(!(e->flags & CT_EV_HAS_KEY) || e->key != NULL || e->key_len == 0, "key flag, no key");
	FZ_CHECK(e->first_ts_ns <= e->ts_ns, "event ends before it starts");
	fz_touch(e->cmd, e->cmd_len);
	if (e->flags & CT_EV_HAS_KEY)
		fz_touch(e->key, e->key_len);
	fz_logf(log, "ev %" PRIu64 " %" PRIu64 " %u %u %u %u %u f=%x db=%d off=%" PRIu64 " lat=%" PRIu64
		" v=%" PRIx64 " %.*s d=%s", e->ts_ns, e->first_ts_ns, e->dir, e->via, e->cls, e->status,
		e->proto, e->flags, e->db, e->stream_off,
		(e->flags & CT_EV_HAS_LATENCY) ? e->latency_ns : 0,
		(e->flags & CT_EV_HAS_VALUE) ? e->value_hash : 0, (int)e->cmd_len, e->cmd,
		e->detail ? e->detail : "-");
	if (e->flags & CT_EV_HAS_KEY)
		fz_log_bytes(log, e->key, e->key_len);
}

static void on_node(void *ctx, const struct ct_node_hint *h)
{
	struct module *m = ctx;
	FZ_CHECK(h->role != NULL, "node hint without a role");
	FZ_CHECK(h->conn_id == 7, "node hint for connection %" PRIu64, h->conn_id);
	fz_logf(m->log, "node %u %u %s", h->client_side, h->port, h->role);
}

static void mod_data(void *t, int dir, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts)
{
	struct module *m = t;
	ct_proto_redis.data(m->conn, dir, off, p, len, ts);
}

static void mod_gap(void *t, int dir, uint64_t off, uint64_t len, uint64_t ts)
{
	struct module *m = t;
	ct_proto_redis.gap(m->conn, dir, off, len, ts);
}

static const struct fz_ops mod_ops = { mod_data, mod_gap };

static uint64_t run_module(const struct fz_in *in, int split)
{
	struct fz_log log;
	fz_log_init(&log);
	static const char *const channels[] = { "inval*", "__keyspace@*" };
	struct ct_proto_config cfg = {
		.values = in->values_none ? CT_VALUES_NONE : (in->opt & 2) ? CT_VALUES_FULL : CT_VALUES_HASH,
		.channels = channels,
		.nchannels = 2,
	};
	struct module m = { NULL, &log, 0 };
	struct ct_emit emit = { .event = on_event, .ctx = &m, .node = on_node };
	struct ct_proto_stats st;
	memset(&st, 0, sizeof st);
	struct ct_proto_open o = {
		.conn_id = 7, .midstream = in->midstream, .cfg = &cfg, .emit = &emit, .stats = &st,
	};
	m.conn = ct_proto_redis.open(&o);
	if (!m.conn)
		return 0; /* out of memory: nothing to test */
	uint64_t end_ts = fz_feed(in, split, &mod_ops, &m, NULL);
	ct_proto_redis.close(m.conn, end_ts);
	FZ_CHECK(st.events == m.events, "stats say %" PRIu64 " events, %" PRIu64 " emitted",
		 st.events, m.events);
	fz_logf(&log, "stats msgs=%" PRIu64 " events=%" PRIu64 " perr=%" PRIu64 " resyncs=%" PRIu64
		" unmatched=%" PRIu64 " unanswered=%" PRIu64 " overflow=%" PRIu64, st.messages,
		st.events, st.parse_errors, st.resyncs, st.unmatched_replies, st.unanswered,
		st.pending_overflow);
	return fz_log_digest(&log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_parse(&in, data, size);
	if (in.opt & 1)
		fz_differential(&in, run_module, "ct_proto_redis");
	else
		fz_differential(&in, run_decoders, "ct_resp");
	return 0;
}
