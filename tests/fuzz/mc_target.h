/* The body of the two memcached fuzz targets: fuzz_mc_text.c (text and meta framing) and
 * fuzz_mc_bin.c (binary framing) define FZ_MC_FRAMING and include this.
 *
 * Input: tests/fuzz/fuzz.h. Mode bits 6-7 (fz_in.opt):
 *   bit 0  0: a client-side and a server-side ct_mc decoder with framing FZ_MC_FRAMING,
 *             records of direction 0 to the first, 1 to the second;
 *          1: ct_proto_memcached (framing decided by the stream), both directions interleaved
 *             as the records say: pairing, quiet pipelines, noreply
 *   bit 1  every record is one UDP datagram (frame header included) instead of stream bytes:
 *          ct_mc_udp decoders, or the module's datagram operation
 *
 * Checked: every message's fields against the decoder's contract (offsets inside what was fed
 * and in stream order, key callbacks numbered from 0 before their message, every token
 * readable and within its cap, meta tokens inside the meta buffer), every event's fields, and
 * (TCP) that the output is the same whether the input is cut into chunks or fed whole. */
#ifndef CACHETAP_FUZZ_MC_TARGET_H
#define CACHETAP_FUZZ_MC_TARGET_H

#include "cachetap/flow.h"
#include "cachetap/mc.h"
#include "cachetap/proto.h"
#include "fuzz.h"

struct side {
	struct fz_log *log;
	int dir, udp;
	uint64_t fed_end;      /* offset after the last byte fed (TCP) */
	uint64_t last_msg_end; /* offset after the last message */
	int have_msg;
	uint32_t keys;         /* key callbacks of the message under way */
	uint64_t key_msg_off;  /* ... and its first_off */
	uint64_t msgs;
};

static void check_tok(const struct ct_mc_tok *t, uint32_t cap, const char *what)
{
	FZ_CHECK(t->len <= cap, "%s of %u bytes, cap %u", what, t->len, cap);
	FZ_CHECK(t->len == 0 || t->p != NULL, "%s without bytes", what);
	if (t->len)
		fz_touch(t->p, t->len);
}

static void on_key(void *ctx, const struct ct_mc_msg *m, const uint8_t *key, uint32_t len,
		   uint32_t index)
{
	struct side *s = ctx;
	FZ_CHECK(len <= CT_MC_KEY_MAX_BYTES, "key of %u bytes", len);
	FZ_CHECK(len == 0 || key != NULL, "key without bytes");
	if (s->keys && m->first_off != s->key_msg_off)
		FZ_CHECK(0, "keys of a message at %" PRIu64 " mixed with one at %" PRIu64, m->first_off,
			 s->key_msg_off);
	FZ_CHECK(index == s->keys, "key index %u, expected %u", index, s->keys);
	s->keys++;
	s->key_msg_off = m->first_off;
	fz_touch(key, len);
	fz_logf(s->log, "%d key %" PRIu64 " #%u", s->dir, m->first_off, index);
	fz_log_bytes(s->log, key, len);
}

static void on_msg(void *ctx, const struct ct_mc_msg *m)
{
	struct side *s = ctx;
	FZ_CHECK(m->first_off <= m->last_off, "message ends at %" PRIu64 " before its start %" PRIu64,
		 m->last_off, m->first_off);
	if (!s->udp)
		FZ_CHECK(m->last_off < s->fed_end, "message ends at %" PRIu64 ", fed to %" PRIu64,
			 m->last_off, s->fed_end);
	FZ_CHECK(!s->have_msg || m->first_off >= s->last_msg_end,
		 "message at %" PRIu64 " inside the previous one (ended %" PRIu64 ")", m->first_off,
		 s->last_msg_end);
	/* UDP: datagrams that arrived out of order can make the last byte older than the first. */
	FZ_CHECK(s->udp || m->first_ts_ns <= m->ts_ns, "message ends before it starts");
	FZ_CHECK(m->side == (s->dir ? CT_MC_SIDE_SERVER : CT_MC_SIDE_CLIENT), "side %u", m->side);
	FZ_CHECK(m->cmd < CT_MC_CMD__COUNT, "cmd %u", m->cmd);
	FZ_CHECK(m->proto <= CT_MC_PROTO_BINARY, "proto %u", m->proto);
	FZ_CHECK(!s->keys || m->first_off == s->key_msg_off, "keys were for another message");
	FZ_CHECK(!s->keys || m->key.len == 0, "a message with key callbacks also has m->key");
	check_tok(&m->word, CT_MC_WORD_MAX_BYTES, "word");
	check_tok(&m->key, CT_MC_KEY_MAX_BYTES, "key");
	check_tok(&m->text, CT_MC_TEXT_MAX_BYTES, "text");
	check_tok(&m->extras, 255, "extras");
	for (int b = 0; b < CT_MC_META_NFLAGS; b++) {
		if (!(m->meta_flags >> b & 1))
			continue;
		FZ_CHECK(m->meta_buf != NULL, "meta flags without a buffer");
		FZ_CHECK((uint32_t)m->meta_tok[b].off + m->meta_tok[b].len <= CT_MC_META_BUF_BYTES,
			 "meta token %d at %u+%u", b, m->meta_tok[b].off, m->meta_tok[b].len);
		fz_touch(m->meta_buf + m->meta_tok[b].off, m->meta_tok[b].len);
	}
	FZ_CHECK(m->meta_flags >> CT_MC_META_NFLAGS == 0, "meta bits beyond z");
	fz_logf(s->log,
		"%d msg %" PRIu64 "-%" PRIu64 " t=%" PRIu64 "-%" PRIu64 " p=%u cmd=%u f=%x have=%x"
		" nkeys=%u fl=%u exp=%" PRId64 " cas=%" PRIu64 " num=%" PRIu64 " init=%" PRIu64
		" vlen=%" PRIu64 " vh=%" PRIx64 " meta=%" PRIx64 " mode=%u op=%u dt=%u st=%u vb=%u"
		" opq=%u udp=%u keys=%u",
		s->dir, m->first_off, m->last_off, m->first_ts_ns, m->ts_ns, m->proto, m->cmd,
		m->flags, m->have, m->nkeys, m->client_flags, m->exptime, m->cas, m->number, m->initial,
		m->value_len, (m->flags & CT_MC_MF_HASHED) ? m->value_hash : 0, m->meta_flags,
		m->meta_mode, m->opcode, m->datatype, m->status, m->vbucket, m->opaque, m->udp_id,
		s->keys);
	fz_log_bytes(s->log, m->word.p, m->word.len);
	fz_log_bytes(s->log, m->key.p, m->key.len);
	fz_log_bytes(s->log, m->text.p, m->text.len);
	fz_log_bytes(s->log, m->extras.p, m->extras.len);
	for (int b = 0; b < CT_MC_META_NFLAGS; b++)
		if (m->meta_flags >> b & 1)
			fz_log_bytes(s->log, m->meta_buf + m->meta_tok[b].off, m->meta_tok[b].len);
	s->keys = 0;
	s->msgs++;
	s->have_msg = 1;
	s->last_msg_end = m->last_off + 1;
}

static void on_error(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct side *s = ctx;
	FZ_CHECK(err == CT_EPROTO || err == CT_ELIMIT, "error code %d", err);
	FZ_CHECK(errstr != NULL, "error without text");
	if (!s->udp)
		FZ_CHECK(off <= s->fed_end, "error at %" PRIu64 " beyond what was fed", off);
	fz_logf(s->log, "%d err %" PRIu64 " %d %s", s->dir, off, err, errstr);
}

static const struct ct_mc_cb mc_cb = { on_msg, on_key, on_error };

/* ---- bare decoders ---- */

struct decoders {
	struct ct_mc d[2];
	struct ct_mc_udp u[2];
	struct side s[2];
};

static void dec_data(void *t, int dir, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts)
{
	struct decoders *x = t;
	if (off + len > x->s[dir].fed_end)
		x->s[dir].fed_end = off + len;
	(void)ct_mc_data(&x->d[dir], off, p, len, ts);
}

static void dec_gap(void *t, int dir, uint64_t off, uint64_t len, uint64_t ts)
{
	struct decoders *x = t;
	if (off + len > x->s[dir].fed_end)
		x->s[dir].fed_end = off + len;
	ct_mc_gap(&x->d[dir], off, len, ts);
}

static const struct fz_ops dec_ops = { dec_data, dec_gap };

static uint64_t run_decoders(const struct fz_in *in, int split)
{
	static struct decoders x; /* about 35 KB: not on the stack */
	struct fz_log log;
	fz_log_init(&log);
	memset(&x, 0, sizeof x);
	int udp = (in->opt & 2) != 0;
	struct ct_mc_opts o = {
		.values = in->values_none ? CT_MC_VALUES_NONE : CT_MC_VALUES_HASH,
		.framing = FZ_MC_FRAMING,
		.midstream = (uint8_t)in->midstream,
		.no_resync = (uint8_t)(in->seed == 0xff), /* one seed value in 256 */
	};
	for (int d = 0; d < 2; d++) {
		enum ct_mc_side side = d ? CT_MC_SIDE_SERVER : CT_MC_SIDE_CLIENT;
		x.s[d].dir = d;
		x.s[d].udp = udp;
		x.s[d].log = &log;
		if (udp)
			FZ_CHECK(ct_mc_udp_init(&x.u[d], side, &o, &mc_cb, &x.s[d]) == 0, "udp init");
		else
			FZ_CHECK(ct_mc_init(&x.d[d], side, &o, &mc_cb, &x.s[d]) == 0, "init");
	}
	if (udp) {
		struct fz_iter it;
		struct fz_rec r;
		fz_iter_init(&it, in);
		while (fz_next(&it, &r))
			if (r.kind != FZ_GAP)
				(void)ct_mc_udp_datagram(&x.u[r.dir], r.p, r.len, r.ts_ns);
		for (int d = 0; d < 2; d++) {
			ct_mc_udp_flush(&x.u[d], it.ts_ns + 1);
			FZ_CHECK(x.u[d].nused == 0, "datagrams left waiting after a flush");
			FZ_CHECK(x.u[d].dec.c.msgs == x.s[d].msgs, "counted %" PRIu64 ", delivered %" PRIu64,
				 x.u[d].dec.c.msgs, x.s[d].msgs);
		}
		return fz_log_digest(&log);
	}
	uint64_t end_ts = fz_feed(in, split, &dec_ops, &x, NULL);
	for (int d = 0; d < 2; d++) {
		ct_mc_end(&x.d[d], end_ts);
		FZ_CHECK(x.s[d].keys == 0, "%u keys without their message", x.s[d].keys);
		FZ_CHECK(x.d[d].c.msgs == x.s[d].msgs, "counted %" PRIu64 " messages, delivered %" PRIu64,
			 x.d[d].c.msgs, x.s[d].msgs);
		fz_logf(&log, "%d end msgs=%" PRIu64 " errors=%" PRIu64 " err=%d at %" PRIu64, d,
			x.d[d].c.msgs, x.d[d].c.errors, x.d[d].err, x.d[d].err_offset);
	}
	return fz_log_digest(&log);
}

/* ---- the protocol module ---- */

struct module {
	void *conn;
	struct fz_log *log;
	uint64_t events;
	int udp;
};

static void on_event(void *ctx, const struct ct_event *e)
{
	struct module *m = ctx;
	m->events++;
	FZ_CHECK(e->cls < CT_CLASS_COUNT && e->status < CT_STATUS_COUNT && e->via < CT_VIA_COUNT,
		 "event enums out of range");
	FZ_CHECK(e->dir == CT_C2S || e->dir == CT_S2C, "event dir %u", e->dir);
	FZ_CHECK(e->proto == CT_PROTO_MEMCACHED, "event proto %u", e->proto);
	FZ_CHECK(e->cmd != NULL, "event without a command");
	FZ_CHECK(!(e->flags & CT_EV_HAS_KEY) || e->key != NULL || e->key_len == 0, "key flag, no key");
	FZ_CHECK(m->udp || e->first_ts_ns <= e->ts_ns, "event ends before it starts");
	fz_touch(e->cmd, e->cmd_len);
	if (e->flags & CT_EV_HAS_KEY)
		fz_touch(e->key, e->key_len);
	fz_logf(m->log, "ev %" PRIu64 " %" PRIu64 " %u %u %u %u f=%x off=%" PRIu64 " lat=%" PRIu64
		" v=%" PRIx64 " %.*s d=%s", e->ts_ns, e->first_ts_ns, e->dir, e->via, e->cls, e->status,
		e->flags, e->stream_off, (e->flags & CT_EV_HAS_LATENCY) ? e->latency_ns : 0,
		(e->flags & CT_EV_HAS_VALUE) ? e->value_hash : 0, (int)e->cmd_len, e->cmd,
		e->detail ? e->detail : "-");
	if (e->flags & CT_EV_HAS_KEY)
		fz_log_bytes(m->log, e->key, e->key_len);
}

static void mod_data(void *t, int dir, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts)
{
	struct module *m = t;
	ct_proto_memcached.data(m->conn, dir, off, p, len, ts);
}

static void mod_gap(void *t, int dir, uint64_t off, uint64_t len, uint64_t ts)
{
	struct module *m = t;
	ct_proto_memcached.gap(m->conn, dir, off, len, ts);
}

static const struct fz_ops mod_ops = { mod_data, mod_gap };

static uint64_t run_module(const struct fz_in *in, int split)
{
	struct fz_log log;
	fz_log_init(&log);
	struct ct_proto_config cfg = {
		.values = in->values_none ? CT_VALUES_NONE : CT_VALUES_HASH,
	};
	struct module m = { NULL, &log, 0, (in->opt & 2) != 0 };
	struct ct_emit emit = { .event = on_event, .ctx = &m };
	struct ct_proto_stats st;
	memset(&st, 0, sizeof st);
	struct ct_proto_open o = {
		.conn_id = 7, .midstream = in->midstream, .cfg = &cfg, .emit = &emit, .stats = &st,
	};
	m.conn = ct_proto_memcached.open(&o);
	if (!m.conn)
		return 0; /* out of memory: nothing to test */
	uint64_t end_ts;
	if (in->opt & 2) {
		struct fz_iter it;
		struct fz_rec r;
		fz_iter_init(&it, in);
		while (fz_next(&it, &r))
			if (r.kind != FZ_GAP)
				ct_proto_memcached.datagram(m.conn, r.dir, r.p, r.len, r.ts_ns);
		end_ts = it.ts_ns + 1;
	} else {
		end_ts = fz_feed(in, split, &mod_ops, &m, NULL);
	}
	ct_proto_memcached.close(m.conn, end_ts);
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
	/* Datagrams are never cut: one run is all there is to compare. */
	if (in.opt & 2)
		in.split = FZ_WHOLE;
	if (in.opt & 1)
		fz_differential(&in, run_module, "ct_proto_memcached");
	else
		fz_differential(&in, run_decoders, "ct_mc");
	return 0;
}

#endif
