/* Tests for the memcached protocol module (src/mc_pair.c) and its table (src/cmdtab_mc.c).
 *
 * Conversations are fixture files (tests/fixtures/mc_pair/NAME.txt), read and replayed by
 * tests/fixture.h; the directives of this test, one per line:
 *   === name            starts a case
 *   opts [midstream] [values=none]   options of the connections opened after it
 *   conn N              later directives go to connection N (opened at first use)
 *   value TEXT          a value: events carrying its fingerprint print v="TEXT"
 *   c> TEXT / s> TEXT   one TCP packet from the client / the server; escapes \r \n \t \s \\ \xNN
 *   cx HEX / sx HEX     the same, written in hex (spaces ignored)
 *   cu ID TEXT / su ID TEXT          a UDP datagram: frame header (id, seq 0, total 1) + TEXT
 *   cuf ID SEQ TOTAL TEXT / suf ...  a UDP datagram with an explicit sequence
 *   gap c|s N           N bytes of that direction are lost
 *   close               the current connection ends
 *   at T                the clock jumps to T (each packet otherwise advances it by 10)
 *   out LINE            the expected log: one line per event, then the module's counters
 * An event prints as
 *   cCONN t=TS CMD class [key=KEY] status [lat=NS] [v="VALUE"|v=#HEX] [f=FLAGS] [d="DETAIL"]
 * Each case runs with every TCP packet fed whole, then split in two at every byte position of
 * each direction, then one byte at a time; every way must give exactly the expected log.
 * Chunks are fresh heap copies freed after the call, so ASan catches a pointer kept too long.
 * Set MC_PAIR_PRINT=1 to print the actual logs. */
#include <stdlib.h>
#include <string.h>

#include "cachetap/cmdtab_mc.h"
#include "cachetap/flow.h"
#include "cachetap/limits.h"
#include "cachetap/proto.h"
#include "fixture.h"
#include "tap.h"

/* The escapes of the expected logs: every control byte as \xNN. */
#define LOG_ESCAPES ""

/* ---- a case ---- */

/* Segment kinds besides CT_FX_DATA (a TCP packet, split) and CT_FX_GAP; seg.conn is the
 * connection, seg.t the time of an S_AT. */
enum { S_UDP = CT_FX_KIND_USER, S_CLOSE, S_AT };

#define MAX_CONNS 4
#define MAX_VALUES 32

struct fx {
	struct ct_fx_case c; /* first: the reader allocates and hands out this part */
	int midstream[MAX_CONNS + 1], values_none[MAX_CONNS + 1];
	int cur_midstream, cur_values_none, cur_conn;
	char *value[MAX_VALUES];
	uint64_t value_hash[MAX_VALUES];
	int nvalue;
};

/* ---- a run ---- */
struct run {
	const struct fx *fx;
	struct ct_buf log;
	struct ct_proto_stats stats;
	struct ct_emit emit;
	struct ct_proto_config cfg[2]; /* by values_none */
	void *conn[MAX_CONNS + 1];
	uint64_t off[MAX_CONNS + 1][2]; /* the next stream offset of each connection's direction */
	uint64_t t;
};

static void log_event(void *ctx, const struct ct_event *ev)
{
	struct run *r = ctx;
	struct ct_buf *s = &r->log;
	ct_fx_printf(s, "c%llu t=", (unsigned long long)ev->conn_id);
	if (ev->first_ts_ns != ev->ts_ns)
		ct_fx_printf(s, "%llu..", (unsigned long long)ev->first_ts_ns);
	ct_fx_printf(s, "%llu %.*s %s", (unsigned long long)ev->ts_ns, (int)ev->cmd_len, ev->cmd,
		     ct_class_name(ev->cls));
	if (ev->flags & CT_EV_HAS_KEY) {
		ct_fx_put(s, " key=", 5);
		ct_fx_esc(s, ev->key, ev->key_len, LOG_ESCAPES);
	}
	ct_fx_printf(s, " %s", ct_status_name(ev->status));
	if (ev->flags & CT_EV_HAS_LATENCY)
		ct_fx_printf(s, " lat=%llu", (unsigned long long)ev->latency_ns);
	if (ev->flags & CT_EV_HAS_VALUE) {
		int i;
		for (i = 0; i < r->fx->nvalue; i++)
			if (r->fx->value_hash[i] == ev->value_hash)
				break;
		if (i < r->fx->nvalue)
			ct_fx_printf(s, " v=\"%s\"", r->fx->value[i]);
		else
			ct_fx_printf(s, " v=#%016llx", (unsigned long long)ev->value_hash);
	}
	static const struct {
		uint32_t bit;
		const char *name;
	} fl[] = {
		{ CT_EV_KEY_TRUNCATED, "TRUNC" }, { CT_EV_RESYNCED, "RESYNCED" },
		{ CT_EV_STALE, "STALE" },         { CT_EV_WIN, "WIN" },
		{ CT_EV_WON_ALREADY, "WON" },
	};
	const char *sep = " f=";
	for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
		if (ev->flags & fl[i].bit) {
			ct_fx_printf(s, "%s%s", sep, fl[i].name);
			sep = ",";
		}
	}
	if (ev->detail)
		ct_fx_printf(s, " d=\"%s\"", ev->detail);
	/* invariants every event keeps */
	if (ev->proto != CT_PROTO_MEMCACHED || ev->dir != CT_C2S || ev->via != CT_VIA_COMMAND ||
	    ev->db != -1 || !ev->cmd || ev->cmd_len == 0 || ev->first_ts_ns > ev->ts_ns ||
	    (!(ev->flags & CT_EV_HAS_KEY) && ev->key_len))
		ct_fx_put(s, " INVARIANT!", 11);
	ct_fx_put(s, "\n", 1);
}

static void log_stats(struct ct_buf *s, const struct ct_proto_stats *st)
{
	ct_fx_printf(s,
		     "stats msgs=%llu events=%llu perr=%llu resyncs=%llu unmatched=%llu "
		     "unanswered=%llu overflow=%llu\n",
		     (unsigned long long)st->messages, (unsigned long long)st->events,
		     (unsigned long long)st->parse_errors, (unsigned long long)st->resyncs,
		     (unsigned long long)st->unmatched_replies, (unsigned long long)st->unanswered,
		     (unsigned long long)st->pending_overflow);
}

/* One chunk of a step (p: a fresh heap copy; NULL for a gap). A step's first chunk opens its
 * connection if needed and advances the clock by 10; its other chunks come at the same time. */
static void feed_chunk(void *ctx, const struct ct_fx_seg *g, size_t at, const uint8_t *p, size_t n)
{
	const struct ct_proto_ops *ops = &ct_proto_memcached;
	struct run *r = ctx;
	if (g->kind == S_AT) {
		r->t = g->t;
		return;
	}
	if (!r->conn[g->conn]) {
		if (g->kind == S_CLOSE)
			return;
		struct ct_proto_open o = { (uint64_t)g->conn, r->fx->midstream[g->conn],
					   &r->cfg[r->fx->values_none[g->conn]], &r->emit,
					   &r->stats };
		r->conn[g->conn] = ops->open(&o);
		if (!r->conn[g->conn])
			abort();
	}
	void *cn = r->conn[g->conn];
	uint64_t *off = &r->off[g->conn][g->dir];
	if (at == 0)
		r->t += 10;
	switch (g->kind) {
	case CT_FX_DATA:
		ops->data(cn, g->dir, *off + at, p, (uint32_t)n, r->t);
		if (at + n == g->len)
			*off += g->len;
		break;
	case S_UDP:
		ops->datagram(cn, g->dir, p, (uint32_t)n, r->t);
		break;
	case CT_FX_GAP:
		ops->gap(cn, g->dir, *off, n, r->t);
		*off += n;
		break;
	case S_CLOSE:
		ops->close(cn, r->t);
		r->conn[g->conn] = NULL;
		break;
	}
}

static void run_case(const struct ct_fx_case *c, const struct ct_fx_how *how, struct ct_buf *log)
{
	struct run r = { .fx = (const struct fx *)c };
	r.emit = (struct ct_emit){ .event = log_event, .ctx = &r };
	r.cfg[0] = (struct ct_proto_config){ CT_VALUES_HASH, NULL, 0 };
	r.cfg[1] = (struct ct_proto_config){ CT_VALUES_NONE, NULL, 0 };
	ct_fx_walk(c, how, feed_chunk, &r);
	for (int k = 0; k <= MAX_CONNS; k++) {
		if (r.conn[k]) {
			r.t += 10;
			ct_proto_memcached.close(r.conn[k], r.t);
		}
	}
	log_stats(&r.log, &r.stats);
	*log = r.log;
}

/* ---- this test's fixture directives ---- */

/* Puts a step just added on the current connection, with the options in force. */
static struct ct_fx_seg *on_conn(struct fx *fx, struct ct_fx_seg *g)
{
	g->conn = fx->cur_conn;
	if (g->kind != S_AT) {
		fx->midstream[g->conn] = fx->cur_midstream;
		fx->values_none[g->conn] = fx->cur_values_none;
	}
	return g;
}

/* UDP frame header: request id, sequence, total, reserved (big endian). */
static void udp_header(struct ct_buf *s, unsigned id, unsigned seq, unsigned total)
{
	char h[8] = { (char)(id >> 8), (char)id, (char)(seq >> 8), (char)seq,
		      (char)(total >> 8), (char)total, 0, 0 };
	ct_fx_put(s, h, 8);
}

static void start_case(struct ct_fx_case *c)
{
	((struct fx *)c)->cur_conn = 1;
}

static void release_case(struct ct_fx_case *c)
{
	struct fx *fx = (struct fx *)c;
	for (int i = 0; i < fx->nvalue; i++)
		ct_free(fx->value[i]);
}

static int directive(struct ct_fx_case *c, const char *line)
{
	struct fx *fx = (struct fx *)c;
	size_t from = c->in.len;
	int dir = line[0] == 'c' ? CT_C2S : CT_S2C, kind = CT_FX_DATA;
	unsigned a, b, n;
	int pos = 0, bad = 0;
	if (strncmp(line, "opts", 4) == 0) {
		fx->cur_midstream = strstr(line, "midstream") != NULL;
		fx->cur_values_none = strstr(line, "values=none") != NULL;
		return 0;
	} else if (sscanf(line, "conn %u", &a) == 1 && a >= 1 && a <= MAX_CONNS) {
		fx->cur_conn = (int)a;
		return 0;
	} else if (strncmp(line, "value ", 6) == 0 || strcmp(line, "value") == 0) {
		if (fx->nvalue == MAX_VALUES)
			return -1;
		struct ct_buf v = { 0 };
		if (ct_fx_unescape(&v, line[5] ? line + 6 : "") != 0) {
			ct_fx_buf_free(&v);
			return -1;
		}
		fx->value_hash[fx->nvalue] = XXH3_64bits(ct_fx_str(&v), v.len);
		fx->value[fx->nvalue++] = v.p ? v.p : ct_strdup("");
		return 0;
	} else if (strncmp(line, "c> ", 3) == 0 || strncmp(line, "s> ", 3) == 0) {
		bad = ct_fx_unescape(&c->in, line + 3);
	} else if (strncmp(line, "cx ", 3) == 0 || strncmp(line, "sx ", 3) == 0) {
		bad = ct_fx_unhex(&c->in, line + 3);
	} else if ((line[0] == 'c' || line[0] == 's') &&
		   sscanf(line + 1, "uf %u %u %u %n", &a, &b, &n, &pos) == 3 && pos) {
		kind = S_UDP;
		udp_header(&c->in, a, b, n);
		bad = ct_fx_unescape(&c->in, line + 1 + pos);
	} else if ((line[0] == 'c' || line[0] == 's') &&
		   sscanf(line + 1, "u %u %n", &a, &pos) == 1 && pos) {
		kind = S_UDP;
		udp_header(&c->in, a, 0, 1);
		bad = ct_fx_unescape(&c->in, line + 1 + pos);
	} else if (sscanf(line, "gap c %u", &a) == 1) {
		on_conn(fx, ct_fx_gap(c, CT_C2S, a));
		return 0;
	} else if (sscanf(line, "gap s %u", &a) == 1) {
		on_conn(fx, ct_fx_gap(c, CT_S2C, a));
		return 0;
	} else if (strcmp(line, "close") == 0) {
		on_conn(fx, ct_fx_seg_add(c, S_CLOSE, 0, from));
		return 0;
	} else if (sscanf(line, "at %u", &a) == 1) {
		on_conn(fx, ct_fx_seg_add(c, S_AT, 0, from))->t = a;
		return 0;
	} else {
		return -1;
	}
	if (bad)
		return -1;
	on_conn(fx, ct_fx_seg_add(c, kind, dir, from));
	return 0;
}

static const struct ct_fx_suite suite = {
	.subdir = "mc_pair",
	.case_size = sizeof(struct fx),
	.ndirs = 2,
	.dir_name = { [CT_C2S] = "c2s", [CT_S2C] = "s2c" },
	.print_env = "MC_PAIR_PRINT",
	.start = start_case,
	.directive = directive,
	.run = run_case,
	.release = release_case,
};

/* ---- tests written in C: caps, allocation failures, the table ---- */

struct counter {
	struct ct_buf log;
	uint64_t n, by_status[CT_STATUS_COUNT];
	int keep; /* log events */
};

static void count_event(void *ctx, const struct ct_event *ev)
{
	struct counter *k = ctx;
	k->n++;
	if (ev->status < CT_STATUS_COUNT)
		k->by_status[ev->status]++;
	if (k->keep) {
		ct_fx_printf(&k->log, "%.*s %s ", (int)ev->cmd_len, ev->cmd,
			     ct_status_name(ev->status));
		if (ev->flags & CT_EV_HAS_KEY)
			ct_fx_put(&k->log, (const char *)ev->key, ev->key_len);
		if (ev->detail)
			ct_fx_printf(&k->log, " (%s)", ev->detail);
		ct_fx_put(&k->log, "\n", 1);
	}
}

static void send_str(void *conn, int dir, uint64_t *off, const char *s, uint64_t ts)
{
	size_t n = strlen(s);
	ct_proto_memcached.data(conn, dir, *off, (const uint8_t *)s, (uint32_t)n, ts);
	*off += n;
}

/* More pipelined requests than CT_MC_PAIR_PENDING_MAX: the one past the cap is recorded as
 * unanswered at once, pairing stops (replies are unmatched), and restarts after idleness. */
static void test_pending_cap(void)
{
	struct counter k = { 0 };
	struct ct_proto_stats st = { 0 };
	struct ct_proto_config cfg = { CT_VALUES_HASH, NULL, 0 };
	struct ct_emit emit = { .event = count_event, .ctx = &k };
	struct ct_proto_open o = { 7, 0, &cfg, &emit, &st };
	void *c = ct_proto_memcached.open(&o);
	ok(c != NULL, "cap: open");
	uint64_t off[2] = { 0, 0 };
	const uint32_t n = CT_MC_PAIR_PENDING_MAX + 10;
	for (uint32_t i = 0; i < n; i++)
		send_str(c, CT_C2S, &off[CT_C2S], "mg somekey v\r\n", 100);
	is_int(st.pending_overflow, 10, "cap: the 10 requests past the cap counted");
	is_int(k.by_status[CT_STATUS_UNANSWERED], n, "cap: every request recorded as unanswered");
	is_int(st.unanswered, CT_MC_PAIR_PENDING_MAX, "cap: the queued ones were flushed");
	for (uint32_t i = 0; i < n; i++)
		send_str(c, CT_S2C, &off[CT_S2C], "EN\r\n", 200);
	is_int(st.unmatched_replies, n, "cap: replies while stopped are unmatched");
	/* idle for longer than CT_MC_PAIR_RECOVER_IDLE_NS: pairing restarts */
	uint64_t t = 200 + CT_MC_PAIR_RECOVER_IDLE_NS + 1;
	send_str(c, CT_C2S, &off[CT_C2S], "mg after v\r\n", t);
	send_str(c, CT_S2C, &off[CT_S2C], "VA 1\r\nx\r\n", t + 5);
	is_int(k.by_status[CT_STATUS_HIT], 1, "cap: pairing restarted after idleness");
	ct_proto_memcached.close(c, t + 10);
	is_int(k.n, n + 1, "cap: one event per request");
}

/* A get with more key bytes than the arena holds: the keys that did not fit are counted, hits
 * are still recorded from the VALUE lines. */
static void test_arena_cap(void)
{
	struct counter k = { 0 };
	struct ct_proto_stats st = { 0 };
	struct ct_emit emit = { .event = count_event, .ctx = &k };
	struct ct_proto_open o = { 8, 0, NULL, &emit, &st };
	void *c = ct_proto_memcached.open(&o);
	ok(c != NULL, "arena: open");
	uint64_t off[2] = { 0, 0 };
	const uint32_t nkeys = CT_MC_PAIR_ARENA_MAX_BYTES / 200 + 100; /* 200-byte keys */
	struct ct_buf req = { 0 };
	char key[201];
	ct_fx_put(&req, "get", 3);
	for (uint32_t i = 0; i < nkeys; i++) {
		snprintf(key, sizeof key, "%0200u", i);
		ct_fx_put(&req, " ", 1);
		ct_fx_put(&req, key, 200);
	}
	ct_fx_put(&req, "\r\n", 2);
	send_str(c, CT_C2S, &off[CT_C2S], req.p, 10);
	const uint32_t kept = CT_MC_PAIR_ARENA_MAX_BYTES / 201;
	is_int(st.pending_overflow, nkeys - kept, "arena: keys that did not fit are counted");
	/* hits for the first key and the last (not kept) one */
	struct ct_buf rep = { 0 };
	snprintf(key, sizeof key, "%0200u", 0u);
	ct_fx_printf(&rep, "VALUE %s 0 1\r\na\r\n", key);
	snprintf(key, sizeof key, "%0200u", nkeys - 1);
	ct_fx_printf(&rep, "VALUE %s 0 1\r\nb\r\nEND\r\n", key);
	send_str(c, CT_S2C, &off[CT_S2C], rep.p, 20);
	is_int(k.by_status[CT_STATUS_HIT], 2, "arena: both hits recorded");
	is_int(k.by_status[CT_STATUS_MISS], kept - 1, "arena: the kept keys without VALUE are misses");
	is_int(st.unmatched_replies, 0, "arena: nothing unmatched");
	ct_proto_memcached.close(c, 30);
	ct_free(req.p);
	ct_free(rep.p);
}

/* Replies that match nothing cannot make pairing scan without end. */
static void test_scan_budget(void)
{
	struct counter k = { 0 };
	struct ct_proto_stats st = { 0 };
	struct ct_emit emit = { .event = count_event, .ctx = &k };
	struct ct_proto_open o = { 9, 0, NULL, &emit, &st };
	void *c = ct_proto_memcached.open(&o);
	uint64_t off[2] = { 0, 0 };
	for (uint32_t i = 0; i < 4096; i++)
		send_str(c, CT_C2S, &off[CT_C2S], "mg k v q O1\r\n", 10);
	uint32_t replies = CT_MC_PAIR_SCAN_BUDGET / 4096 + 10;
	for (uint32_t i = 0; i < replies; i++)
		send_str(c, CT_S2C, &off[CT_S2C], "HD O2\r\n", 20);
	is_int(st.pending_overflow, 1, "scan budget: hit once");
	is_int(k.by_status[CT_STATUS_UNANSWERED], 4096, "scan budget: pending flushed");
	is_int(st.unmatched_replies, replies, "scan budget: replies unmatched");
	ct_proto_memcached.close(c, 30);
}

/* Every allocation can fail: open returns NULL or the module carries on, and nothing leaks
 * (ASan/LeakSanitizer check the latter). */
static void test_alloc_failures(void)
{
	static const char *const req[] = { "get a b c\r\n", "set k 0 0 1\r\nv\r\n", "mg x v\r\n",
					   "foo\r\n" };
	int opened_fail = 0, ran = 0;
	for (uint64_t n = 1; n < 64; n++) {
		struct counter k = { 0 };
		struct ct_proto_stats st = { 0 };
		struct ct_emit emit = { .event = count_event, .ctx = &k };
		struct ct_proto_open o = { 1, 0, NULL, &emit, &st };
		ct_alloc_fail_at(n);
		void *c = ct_proto_memcached.open(&o);
		if (!c) {
			opened_fail++;
			ct_alloc_fail_at(0);
			continue;
		}
		uint64_t off[2] = { 0, 0 };
		for (size_t i = 0; i < CT_ARRAY_LEN(req); i++)
			send_str(c, CT_C2S, &off[CT_C2S], req[i], 10);
		send_str(c, CT_S2C, &off[CT_S2C], "VALUE a 0 1\r\nx\r\nEND\r\nSTORED\r\nEN\r\nERROR\r\n", 20);
		static const uint8_t dg[] = { 0, 1, 0, 0, 0, 1, 0, 0, 'm', 'n', '\r', '\n' };
		struct ct_proto_open ou = { 2, 0, NULL, &emit, &st };
		void *u = ct_proto_memcached.open(&ou);
		if (u) {
			ct_proto_memcached.datagram(u, CT_C2S, dg, sizeof dg, 30);
			ct_proto_memcached.close(u, 40);
		}
		ct_proto_memcached.close(c, 40);
		ct_alloc_fail_at(0);
		ran++;
		/* every request still has its events, whatever failed */
		if (k.n < 6)
			diag("alloc fail at %llu: %llu events", (unsigned long long)n,
			     (unsigned long long)k.n);
		ok(k.n >= 6, "alloc failure %llu: every request recorded", (unsigned long long)n);
	}
	ok(opened_fail >= 1 && ran > 1, "alloc failures: open failed %d times, ran %d", opened_fail,
	   ran);
}

/* stream_off orders events of equal time as their requests were on the wire. */
static uint64_t offs[8];
static int noffs;
static void off_event(void *ctx, const struct ct_event *ev)
{
	CT_UNUSED(ctx);
	if (noffs < 8)
		offs[noffs++] = ev->stream_off;
}

static void test_stream_off(void)
{
	struct ct_proto_stats st = { 0 };
	struct ct_emit emit = { .event = off_event, .ctx = NULL };
	struct ct_proto_open o = { 1, 0, NULL, &emit, &st };
	void *c = ct_proto_memcached.open(&o);
	uint64_t off[2] = { 0, 0 };
	send_str(c, CT_C2S, &off[CT_C2S], "get a b\r\ndelete c noreply\r\nmn\r\n", 10);
	send_str(c, CT_S2C, &off[CT_S2C], "END\r\nMN\r\n", 20);
	ct_proto_memcached.close(c, 30);
	is_int(noffs, 4, "stream_off: four events");
	is_int(offs[0], 9, "stream_off: the noreply delete first, at its offset");
	is_int(offs[1], 0, "stream_off: get key a at the get's offset");
	is_int(offs[2], 0, "stream_off: get key b too");
	is_int(offs[3], 27, "stream_off: mn");
}

/* The table: spot checks of the decisions the module relies on. */
static void test_table(void)
{
	is_int(ct_mc_cmdinfo(CT_MC_CMD_DELETE)->cls, CT_CLASS_DELETE, "table: delete");
	is_int(ct_mc_cmdinfo(CT_MC_CMD_TOUCH)->cls, CT_CLASS_EXPIRE, "table: touch is expire");
	is_int(ct_mc_cmdinfo(CT_MC_CMD_GAT)->cls, CT_CLASS_READ, "table: gat is read");
	is_int(ct_mc_cmdinfo(CT_MC_CMD_FLUSH_ALL)->cls, CT_CLASS_FLUSH, "table: flush_all");
	is_int(ct_mc_cmdinfo(CT_MC_CMD_INCR)->cls, CT_CLASS_WRITE, "table: incr is write");
	is_int(ct_mc_cmdinfo(CT_MC_CMD_MG)->quiet_status, CT_STATUS_MISS, "table: quiet mg = miss");
	is_int(ct_mc_cmdinfo(CT_MC_CMD_MS)->quiet_status, CT_STATUS_OK, "table: quiet ms = ok");
	is_int(ct_mc_cmdinfo(CT_MC_R_END)->cls, CT_CLASS_OTHER, "table: a reply word as a command");
	is_int(ct_mc_cmdinfo(9999)->cls, CT_CLASS_OTHER, "table: out of range");
	ok(ct_mc_reply_fits(CT_MC_RK_GET, CT_MC_R_VALUE) && ct_mc_reply_more(CT_MC_RK_GET, CT_MC_R_VALUE),
	   "table: VALUE continues a get");
	ok(ct_mc_reply_fits(CT_MC_RK_STORE, CT_MC_R_CLIENT_ERROR), "table: errors answer anything");
	ok(!ct_mc_reply_fits(CT_MC_RK_STORE, CT_MC_R_VALUE), "table: VALUE does not answer set");
	ok(!ct_mc_reply_fits(CT_MC_RK__COUNT, CT_MC_R_END), "table: kind out of range");
	is_str(ct_mc_bin_status_name(0x01), "KEY_ENOENT", "table: binary status name");
	ok(ct_mc_bin_status_name(0x4242) == NULL, "table: unknown binary status");
	is_str(ct_mc_note_name(0), "touch", "table: note name");
	ok(ct_mc_note_name(99) == NULL, "table: note out of range");
}

int main(void)
{
	test_table();
	ct_fx_file(&suite, "text.txt");
	ct_fx_file(&suite, "meta.txt");
	ct_fx_file(&suite, "binary.txt");
	ct_fx_file(&suite, "udp.txt");
	ct_fx_file(&suite, "mess.txt");
	test_pending_cap();
	test_arena_cap();
	test_scan_budget();
	test_alloc_failures();
	test_stream_off();
	return done_testing();
}
