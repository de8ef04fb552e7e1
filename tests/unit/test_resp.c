/* Tests for the RESP decoder (src/resp.c): the spec fixtures in tests/fixtures/resp/, then C
 * tests for what fixtures cannot hold (a 500 MB value, 100,000-deep nesting, API edges).
 *
 * Fixture files (tests/fixtures/resp/NAME.txt) are read and replayed by tests/fixture.h; the
 * directives of this test, one per line:
 *   === name          starts a case
 *   side client|server
 *   opts ...          values=none  midstream  rdb (ct_resp_expect_rdb before the first byte)
 *                     fullresync (ct_resp_expect_rdb from the msg callback of +FULLRESYNC...)
 *   in TEXT / rep N TEXT / hex HEX / gap N    the input (ct_fx_input in tests/fixture.h):
 *                     bytes with escapes \r \n \t \s (space) \\ \xNN, TEXT N times, bytes in
 *                     hex, and N bytes lost (ct_resp_gap)
 *   out EVENT         the expected event log, one event per line:
 *     begin F-L D.I.T TYPE count=N [f=FLAGS]     agg_begin: offsets, depth.index.top_index
 *     end F-L D.I.T TYPE count=N [f=FLAGS]       agg_end
 *     elem F-L D.I.T TYPE len=N "BYTES" [int=V] [hash=ok] [f=FLAGS]
 *     msg F-L TYPE count=N [f=FLAGS]
 *     err OFFSET ERR: ERRSTR
 *     abort FIRST ERR
 * BYTES are the element's p/n (cut after 40 bytes with "..."). hash=ok means the hash is the
 * XXH3-64 of the payload found in the input at the element's own offsets (inline arguments: of
 * p/n). Each case is fed whole (one chunk per run of in/rep lines), split in two at every byte
 * position, and one byte at a time; every way must give exactly the expected log. Checked on the
 * side (marked in the log when wrong): every event's msg_seq, each message's first and last
 * capture times, and that p/n match the input. Every chunk is a fresh heap copy freed after the
 * call, so ASan catches a pointer kept too long. RESP_FIXTURE_PRINT=1 prints the actual logs.
 *
 * The fixtures directory is $CT_TOP/tests/fixtures/resp, or found by walking up from the cwd. */
#include <stdlib.h>
#include <string.h>

#include "cachetap/resp.h"
#include "fixture.h"
#include "tap.h"

/* The escapes of the expected logs: \r \n \t by name, other controls as \xNN. */
#define LOG_ESCAPES "rnt"

/* ---- a case: the reader's part, then this test's fields ---- */
struct fx {
	struct ct_fx_case c;
	int side;
	struct ct_resp_opts o;
	int rdb_at_start, rdb_on_fullresync;
};

/* ---- a run: the callbacks write the log ---- */
struct run {
	const struct fx *fx;
	struct ct_buf log;
	struct ct_fx_clock clock; /* capture time of each stream byte's chunk */
	struct ct_resp *d;
	uint64_t msgs;   /* messages seen: the msg_seq every event must carry */
	int fullresync;  /* the top-level element of the message under way is +FULLRESYNC... */
};

static const struct {
	uint32_t bit;
	const char *name;
} elem_flags[] = {
	{ CT_RESP_EF_TRUNCATED, "TRUNC" }, { CT_RESP_EF_NULL, "NULL" }, { CT_RESP_EF_ATTR, "ATTR" },
	{ CT_RESP_EF_GAP, "GAP" }, { CT_RESP_EF_INLINE, "INLINE" },
};

static const struct {
	uint32_t bit;
	const char *name;
} msg_flags[] = {
	{ CT_RESP_MF_RESYNCED, "RESYNCED" }, { CT_RESP_MF_INLINE, "INLINE" },
	{ CT_RESP_MF_PUSH, "PUSH" }, { CT_RESP_MF_ATTR, "ATTR" }, { CT_RESP_MF_ERROR, "ERROR" },
	{ CT_RESP_MF_NULL, "NULL" }, { CT_RESP_MF_GAP, "GAP" }, { CT_RESP_MF_RDB, "RDB" },
	{ CT_RESP_MF_RDB_EOF, "EOF" },
};

#define LOG_FLAGS(s, table, v)                                                    \
	do {                                                                      \
		const char *sep_ = " f=";                                         \
		for (size_t i_ = 0; i_ < CT_ARRAY_LEN(table); i_++) {             \
			if ((v) & table[i_].bit) {                                \
				ct_fx_printf((s), "%s%s", sep_, table[i_].name);  \
				sep_ = ",";                                       \
			}                                                         \
		}                                                                 \
	} while (0)

static void check_seq(struct run *r, uint64_t seq)
{
	if (seq != r->msgs)
		ct_fx_printf(&r->log, " SEQ!(%llu want %llu)", (unsigned long long)seq,
			     (unsigned long long)r->msgs);
}

/* An inline argument without quotes or escapes: its bytes are the input's, in place. */
static int plain_inline(const struct run *r, const struct ct_resp_elem *e)
{
	if (!(e->flags & CT_RESP_EF_INLINE) || e->last_off >= r->fx->c.in.len ||
	    e->last_off + 1 - e->off != (uint64_t)e->len)
		return 0;
	for (uint64_t i = e->off; i <= e->last_off; i++) {
		char c = r->fx->c.in.p[i];
		if (c == '"' || c == '\'' || c == '\\')
			return 0;
	}
	return 1;
}

static void cb_elem(void *ctx, const struct ct_resp_elem *e)
{
	struct run *r = ctx;
	struct ct_buf *s = &r->log;
	const uint8_t *in = (const uint8_t *)r->fx->c.in.p;
	ct_fx_printf(s, "elem %llu-%llu %u.%u.%u %c len=%lld \"", (unsigned long long)e->off,
		     (unsigned long long)e->last_off, e->depth, e->index, e->top_index, e->type,
		     (long long)e->len);
	ct_fx_esc(s, e->p, e->n > 40 ? 40 : e->n, LOG_ESCAPES);
	ct_fx_put(s, e->n > 40 ? "\"..." : "\"", e->n > 40 ? 4 : 1);
	if (e->flags & CT_RESP_EF_INT)
		ct_fx_printf(s, " int=%lld", (long long)e->ival);
	/* where the payload of a bulk kind sits in the input: before the final CRLF */
	int bulk = (e->type == '$' || e->type == '!' || e->type == '=') && e->len >= 0 &&
		   !(e->flags & CT_RESP_EF_INLINE);
	uint64_t start = bulk ? e->last_off - 1 - (uint64_t)e->len : 0;
	int in_input = bulk && e->last_off < r->fx->c.in.len && e->last_off >= 1 + (uint64_t)e->len;
	if (e->flags & CT_RESP_EF_HASHED) {
		int good;
		if (bulk)
			good = in_input && XXH3_64bits(in + start, (size_t)e->len) == e->hash;
		else if (plain_inline(r, e))
			good = XXH3_64bits(in + e->off, (size_t)e->len) == e->hash;
		else if (!(e->flags & CT_RESP_EF_TRUNCATED))
			good = XXH3_64bits(e->p, e->n) == e->hash;
		else
			good = -1;
		if (good >= 0)
			ct_fx_put(s, good ? " hash=ok" : " hash=BAD", good ? 8 : 9);
		else
			ct_fx_printf(s, " hash=%016llx", (unsigned long long)e->hash);
	}
	if (bulk && !(e->flags & CT_RESP_EF_GAP) && (!in_input || memcmp(in + start, e->p, e->n)))
		ct_fx_put(s, " BYTES!", 7);
	LOG_FLAGS(s, elem_flags, e->flags);
	check_seq(r, e->msg_seq);
	ct_fx_put(s, "\n", 1);
	if (e->depth == 0 && e->type == '+' && e->n >= 10 && memcmp(e->p, "FULLRESYNC", 10) == 0)
		r->fullresync = 1;
}

static void log_agg(struct run *r, const char *what, const struct ct_resp_agg *a)
{
	struct ct_buf *s = &r->log;
	ct_fx_printf(s, "%s %llu-%llu %u.%u.%u %c count=%lld", what, (unsigned long long)a->off,
		     (unsigned long long)a->last_off, a->depth, a->index, a->top_index, a->type,
		     (long long)a->count);
	LOG_FLAGS(s, elem_flags, a->flags);
	check_seq(r, a->msg_seq);
	ct_fx_put(s, "\n", 1);
}

static void cb_begin(void *ctx, const struct ct_resp_agg *a)
{
	log_agg(ctx, "begin", a);
}

static void cb_end(void *ctx, const struct ct_resp_agg *a)
{
	log_agg(ctx, "end", a);
}

static void cb_msg(void *ctx, const struct ct_resp_msg *m)
{
	struct run *r = ctx;
	struct ct_buf *s = &r->log;
	const uint64_t *ts_at = r->clock.at;
	ct_fx_printf(s, "msg %llu-%llu %c count=%lld", (unsigned long long)m->first_off,
		     (unsigned long long)m->last_off, m->type, (long long)m->count);
	LOG_FLAGS(s, msg_flags, m->flags);
	check_seq(r, m->seq);
	if (ts_at && m->last_off < r->fx->c.in.len &&
	    (m->ts_ns != ts_at[m->last_off] || m->first_ts_ns != ts_at[m->first_off]))
		ct_fx_printf(s, " TS!(%llu/%llu want %llu/%llu)",
			     (unsigned long long)m->first_ts_ns, (unsigned long long)m->ts_ns,
			     (unsigned long long)ts_at[m->first_off],
			     (unsigned long long)ts_at[m->last_off]);
	ct_fx_put(s, "\n", 1);
	r->msgs++;
	if (r->fullresync && r->fx->rdb_on_fullresync && ct_resp_expect_rdb(r->d) != 0)
		ct_fx_put(s, "expect_rdb failed\n", 18);
	r->fullresync = 0;
}

static void cb_err(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct run *r = ctx;
	ct_fx_printf(&r->log, "err %llu %s: %s\n", (unsigned long long)off, ct_strerror(err),
		     errstr);
}

static void cb_abort(void *ctx, uint64_t first_off, int why)
{
	struct run *r = ctx;
	ct_fx_printf(&r->log, "abort %llu %s\n", (unsigned long long)first_off, ct_strerror(why));
	r->fullresync = 0;
}

static const struct ct_resp_cb test_cb = { cb_elem, cb_begin, cb_end, cb_msg, cb_err, cb_abort };

/* One chunk of the stream (p: a fresh heap copy), or a gap (p NULL), at its own time. */
static void feed_chunk(void *ctx, const struct ct_fx_seg *g, size_t at, const uint8_t *p, size_t n)
{
	struct run *r = ctx;
	uint64_t off = g->off + at, ts = ct_fx_clock_tick(&r->clock, off, n);
	if (p)
		(void)ct_resp_feed(r->d, off, p, (uint32_t)n, ts, &test_cb, r);
	else
		ct_resp_gap(r->d, off, n, ts, &test_cb, r);
}

static void run_case(const struct ct_fx_case *c, const struct ct_fx_how *how, struct ct_buf *log)
{
	const struct fx *fx = (const struct fx *)c;
	struct run r = { .fx = fx };
	r.d = ct_malloc(sizeof *r.d);
	if (!r.d)
		abort();
	ct_fx_clock_init(&r.clock, c->in.len);
	if (ct_resp_init(r.d, (enum ct_resp_side)fx->side, &fx->o) != 0)
		abort();
	if (fx->rdb_at_start && ct_resp_expect_rdb(r.d) != 0)
		abort();
	ct_fx_walk(c, how, feed_chunk, &r);
	ct_resp_end(r.d, r.clock.now + 10, &test_cb, &r);
	*log = r.log;
	ct_fx_clock_free(&r.clock);
	ct_free(r.d);
}

/* ---- this test's fixture directives ---- */

static void start_case(struct ct_fx_case *c)
{
	struct fx *fx = (struct fx *)c;
	fx->side = CT_RESP_SIDE_SERVER;
	fx->o.values = CT_RESP_VALUES_HASH;
}

static int directive(struct ct_fx_case *c, const char *line)
{
	struct fx *fx = (struct fx *)c;
	int input = ct_fx_input(c, line);
	if (input)
		return input < 0 ? -1 : 0;
	if (strncmp(line, "side ", 5) == 0) {
		fx->side = strcmp(line + 5, "client") == 0 ? CT_RESP_SIDE_CLIENT
							   : CT_RESP_SIDE_SERVER;
	} else if (strncmp(line, "opts", 4) == 0) {
		fx->o.midstream = strstr(line, "midstream") != NULL;
		fx->rdb_at_start = strstr(line, " rdb") != NULL;
		fx->rdb_on_fullresync = strstr(line, "fullresync") != NULL;
		if (strstr(line, "values=none"))
			fx->o.values = CT_RESP_VALUES_NONE;
	} else {
		return -1;
	}
	return 0;
}

static const struct ct_fx_suite suite = {
	.subdir = "resp",
	.case_size = sizeof(struct fx),
	.ndirs = 1,
	.print_env = "RESP_FIXTURE_PRINT",
	.start = start_case,
	.directive = directive,
	.run = run_case,
};

static void test_fixtures(void)
{
	static const char *const files[] = {
		"resp2.txt", "resp3.txt", "commands.txt", "inline.txt", "errors.txt",
		"gaps.txt", "replication.txt",
	};
	char dir[400];
	int found = ct_fx_dir("resp", dir, sizeof dir);
	ok(found, "fixtures directory found (%.200s)", found ? dir : "set CT_TOP");
	if (!found)
		return;
	for (size_t i = 0; i < CT_ARRAY_LEN(files); i++)
		ct_fx_file(&suite, files[i]);
}

/* ------------------------------------------------------------------------------------------ */
/* C tests                                                                                    */

/* Counts events, remembers the last of each. */
struct tally {
	uint64_t elems, begins, ends, msgs, errors, aborts;
	struct ct_resp_elem e;
	struct ct_resp_msg m;
	int last_err;
	uint64_t last_err_off;
	uint32_t max_depth;
};

static void t_elem(void *ctx, const struct ct_resp_elem *e)
{
	struct tally *t = ctx;
	t->elems++;
	t->e = *e;
	if (e->depth > t->max_depth)
		t->max_depth = e->depth;
}

static void t_begin(void *ctx, const struct ct_resp_agg *a)
{
	struct tally *t = ctx;
	t->begins++;
	if (a->depth > t->max_depth)
		t->max_depth = a->depth;
}

static void t_end(void *ctx, const struct ct_resp_agg *a)
{
	struct tally *t = ctx;
	(void)a;
	t->ends++;
}

static void t_msg(void *ctx, const struct ct_resp_msg *m)
{
	struct tally *t = ctx;
	t->msgs++;
	t->m = *m;
}

static void t_err(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct tally *t = ctx;
	(void)errstr;
	t->errors++;
	t->last_err = err;
	t->last_err_off = off;
}

static void t_abort(void *ctx, uint64_t first_off, int why)
{
	struct tally *t = ctx;
	(void)first_off;
	(void)why;
	t->aborts++;
}

static const struct ct_resp_cb tally_cb = { t_elem, t_begin, t_end, t_msg, t_err, t_abort };

/* A 500 MB value in 64 KB chunks, generated on the fly: constant memory, streamed hash. */
static void test_huge_value(void)
{
	enum { CHUNK = 64 << 10 };
	const uint64_t total = 500000000ull;
	static uint8_t buf[CHUNK];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 9));
	struct ct_resp *d = ct_malloc(sizeof *d);
	XXH3_state_t *ref = XXH3_createState();
	if (!d || !ref)
		abort();
	struct tally t = { 0 };
	(void)XXH3_64bits_reset(ref);
	ok(ct_resp_init(d, CT_RESP_SIDE_CLIENT, NULL) == 0, "init");
	static const char head[] = "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$500000000\r\n";
	uint64_t off = 0, ts = 1;
	ct_resp_feed(d, off, (const uint8_t *)head, sizeof head - 1, ts++, &tally_cb, &t);
	off += sizeof head - 1;
	uint64_t left = total;
	while (left) {
		uint32_t n = left < CHUNK ? (uint32_t)left : CHUNK;
		(void)XXH3_64bits_update(ref, buf, n);
		ct_resp_feed(d, off, buf, n, ts++, &tally_cb, &t);
		off += n;
		left -= n;
	}
	ct_resp_feed(d, off, (const uint8_t *)"\r\n", 2, ts, &tally_cb, &t);
	is_int(t.msgs, 1, "500 MB SET: one message");
	is_int(t.elems, 3, "three arguments");
	is_int(t.errors, 0, "no errors");
	is_int(t.e.len, (long long)total, "value length");
	ok(t.e.flags & CT_RESP_EF_HASHED, "value hashed");
	ok(t.e.flags & CT_RESP_EF_TRUNCATED, "value cut in the callback");
	is_int(t.e.n, CT_RESP_ELEM_CAP_BYTES, "callback gets the first CT_RESP_ELEM_CAP_BYTES");
	is_mem(t.e.p, t.e.n, buf, CT_RESP_ELEM_CAP_BYTES, "callback bytes are the value's start");
	ok(t.e.hash == XXH3_64bits_digest(ref), "streamed hash equals XXH3 of the whole value");
	is_int(t.m.last_off, (long long)(off + 1), "message ends at the final LF");
	is_int(t.m.ts_ns, (long long)ts, "message time is that of its last byte");
	is_int(t.m.first_ts_ns, 1, "first-byte time kept");
	is_int(d->c.bytes, (long long)(off + 2), "all bytes counted");
	XXH3_freeState(ref);
	ct_free(d);
}

/* 100,000 nested "*1": depth capped, errors counted, never a crash; the stream recovers. */
static void test_deep_nesting(void)
{
	struct ct_resp *d = ct_malloc(sizeof *d);
	struct ct_buf s = { 0 };
	if (!d)
		abort();
	for (int i = 0; i < 100000; i++)
		ct_fx_put(&s, "*1\r\n", 4);
	ct_fx_put(&s, ":7\r\n+OK\r\n", 9);
	for (int mode = 0; mode < 2; mode++) {
		struct tally t = { 0 };
		ok(ct_resp_init(d, CT_RESP_SIDE_SERVER, NULL) == 0, "init");
		if (mode == 0) {
			ct_resp_feed(d, 0, (const uint8_t *)s.p, (uint32_t)s.len, 5, &tally_cb, &t);
		} else {
			for (size_t i = 0; i < s.len; i += 1000) {
				uint32_t n = s.len - i < 1000 ? (uint32_t)(s.len - i) : 1000;
				ct_resp_feed(d, i, (const uint8_t *)s.p + i, n, 5, &tally_cb, &t);
			}
		}
		/* each run of CT_RESP_MAX_DEPTH + 1 headers is one error; the last run ends in :7 */
		uint64_t per = CT_RESP_MAX_DEPTH + 1;
		is_int(d->c.depth_exceeded, 100000 / per, "mode %d: depth errors", mode);
		is_int(d->c.errors, d->c.depth_exceeded, "mode %d: no other errors", mode);
		is_int(t.errors, d->c.errors, "mode %d: every error reported", mode);
		ok(t.max_depth <= CT_RESP_MAX_DEPTH, "mode %d: depth never beyond the cap (%u)", mode,
		   t.max_depth);
		is_int(t.msgs, 2, "mode %d: the tail decodes: nested :7 and +OK", mode);
		ok(t.m.type == '+' && !(t.m.flags & CT_RESP_MF_RESYNCED),
		   "mode %d: +OK is a plain message", mode);
		is_int(d->err, CT_ELIMIT, "mode %d: sticky error", mode);
		is_int(d->err_offset, 4 * CT_RESP_MAX_DEPTH, "mode %d: at the first header too deep", mode);
	}
	ct_free(s.p);
	ct_free(d);
}

/* Decodes a whole buffer on one side; returns the tally. */
static struct tally decode(int side, const char *p, size_t n, struct ct_resp *d)
{
	struct tally t = { 0 };
	if (ct_resp_init(d, (enum ct_resp_side)side, NULL) != 0)
		abort();
	(void)ct_resp_feed(d, 0, (const uint8_t *)p, (uint32_t)n, 1, &tally_cb, &t);
	return t;
}

static void test_api(void)
{
	struct ct_resp *d = ct_malloc(sizeof *d);
	if (!d)
		abort();
	struct ct_resp_opts bad = { 7, 0 };
	is_int(ct_resp_init(d, (enum ct_resp_side)5, NULL), CT_EINVAL, "bad side");
	is_int(ct_resp_init(d, CT_RESP_SIDE_SERVER, &bad), CT_EINVAL, "bad values option");
	ok(ct_resp_init(d, CT_RESP_SIDE_CLIENT, NULL) == 0, "init client");
	is_int(ct_resp_expect_rdb(d), CT_EINVAL, "no RDB on the client side");
	is_str(ct_resp_type_name('%'), "map", "type name");
	is_str(ct_resp_type_name('Q'), "?", "unknown type name");

	/* the feed return value: 0, or the first error of the call */
	struct tally t = { 0 };
	is_int(ct_resp_feed(d, 0, (const uint8_t *)"*1\r\n:1\r\n", 8, 1, &tally_cb, &t), CT_EPROTO,
	       "feed returns the error");
	is_int(ct_resp_feed(d, 8, (const uint8_t *)"*1\r\n$1\r\nx\r\n", 11, 2, &tally_cb, &t), 0,
	       "next feed returns 0");
	is_int(t.msgs, 1, "and decodes");
	is_int(d->err, CT_EPROTO, "sticky error kept");
	is_int(d->err_offset, 4, "error offset");
	is_int(d->c.bad_type, 1, "counted by kind");

	/* overlapping and skipped-ahead offsets */
	t = (struct tally){ 0 };
	ok(ct_resp_init(d, CT_RESP_SIDE_SERVER, NULL) == 0, "init server");
	ct_resp_feed(d, 0, (const uint8_t *)"+OK\r\n:1", 7, 1, &tally_cb, &t);
	ct_resp_feed(d, 5, (const uint8_t *)":1\r\n", 4, 2, &tally_cb, &t); /* 2 bytes again */
	is_int(t.msgs, 2, "overlap skipped, message completed");
	is_int(d->c.overlap_bytes, 2, "overlap counted");
	ct_resp_feed(d, 20, (const uint8_t *)"+PONG\r\n", 7, 3, &tally_cb, &t);
	is_int(d->c.gaps, 1, "a jump ahead is a gap");
	is_int(t.msgs, 3, "and the next message decodes");
	ok(t.m.flags & CT_RESP_MF_RESYNCED, "flagged resynced");
	is_int(t.m.first_off, 20, "at its own offset");

	/* the struct may be moved while a hash is streaming (the XXH3 state is realigned) */
	uint8_t *raw = ct_malloc(sizeof *d + 128);
	if (!raw)
		abort();
	struct ct_resp *a = (struct ct_resp *)(void *)(raw + 8);
	struct ct_resp *b = (struct ct_resp *)(void *)(raw + 48);
	t = (struct tally){ 0 };
	ok(ct_resp_init(a, CT_RESP_SIDE_SERVER, NULL) == 0, "init at an odd address");
	static char val[3000];
	memset(val, 'v', sizeof val);
	ct_resp_feed(a, 0, (const uint8_t *)"$3000\r\n", 7, 1, &tally_cb, &t);
	ct_resp_feed(a, 7, (const uint8_t *)val, 1000, 1, &tally_cb, &t);
	memmove(b, a, sizeof *a);
	ct_resp_feed(b, 1007, (const uint8_t *)val + 1000, 2000, 1, &tally_cb, &t);
	ct_resp_feed(b, 3007, (const uint8_t *)"\r\n", 2, 1, &tally_cb, &t);
	is_int(t.msgs, 1, "moved decoder completes the bulk");
	ok(t.e.hash == XXH3_64bits(val, sizeof val), "hash survives the move");
	ct_free(raw);

	/* integers: the whole int64 range, and no further */
	struct tally u = decode(CT_RESP_SIDE_SERVER, ":-9223372036854775808\r\n", 23, d);
	ok(u.msgs == 1 && u.e.ival == INT64_MIN, "INT64_MIN");
	u = decode(CT_RESP_SIDE_SERVER, ":9223372036854775807\r\n", 22, d);
	ok(u.msgs == 1 && u.e.ival == INT64_MAX, "INT64_MAX");
	u = decode(CT_RESP_SIDE_SERVER, ":9223372036854775808\r\n", 22, d);
	ok(u.msgs == 0 && d->c.bad_number == 1, "INT64_MAX + 1 is an error");
	u = decode(CT_RESP_SIDE_SERVER, ":+5\r\n", 5, d);
	ok(u.msgs == 1 && u.e.ival == 5, "leading plus on an integer");
	u = decode(CT_RESP_SIDE_SERVER, "$+5\r\nhello\r\n", 12, d);
	ok(u.msgs == 0 && d->c.bad_number == 1, "no plus on a length");

	/* limits, by name */
	u = decode(CT_RESP_SIDE_SERVER, "$536870913\r\n", 12, d);
	ok(u.errors == 1 && d->c.bulk_too_long == 1, "CT_RESP_BULK_MAX_BYTES + 1");
	u = decode(CT_RESP_SIDE_SERVER, "*2147483648\r\n", 13, d);
	ok(u.errors == 1 && d->c.too_many_elems == 1, "CT_RESP_AGG_MAX_ELEMS + 1");
	u = decode(CT_RESP_SIDE_SERVER, "%2147483647\r\n", 13, d);
	ok(u.errors == 0 && u.begins == 1, "a map of CT_RESP_AGG_MAX_ELEMS pairs is framed");
	static char longline[CT_RESP_LINE_MAX_BYTES + 10];
	memset(longline, 'a', sizeof longline);
	longline[0] = '+';
	u = decode(CT_RESP_SIDE_SERVER, longline, sizeof longline, d);
	ok(u.errors == 1 && d->c.line_too_long == 1 && u.last_err == CT_ELIMIT,
	   "CT_RESP_LINE_MAX_BYTES");
	memcpy(longline + CT_RESP_LINE_MAX_BYTES - 3, "\r\n", 2);
	u = decode(CT_RESP_SIDE_SERVER, longline, CT_RESP_LINE_MAX_BYTES - 1, d);
	ok(u.errors == 0 && u.msgs == 1 && u.e.len == CT_RESP_LINE_MAX_BYTES - 4,
	   "a simple string just under CT_RESP_LINE_MAX_BYTES");
	ok((u.e.flags & CT_RESP_EF_TRUNCATED) && u.e.n == CT_RESP_ELEM_CAP_BYTES, "cut to the cap");
	static char inl[CT_RESP_INLINE_MAX_BYTES + 10];
	memset(inl, 'x', sizeof inl);
	u = decode(CT_RESP_SIDE_CLIENT, inl, sizeof inl, d);
	ok(u.errors == 1 && d->c.inline_too_long == 1, "CT_RESP_INLINE_MAX_BYTES");
	memcpy(inl + CT_RESP_INLINE_MAX_BYTES, "\r\n", 2);
	u = decode(CT_RESP_SIDE_CLIENT, inl, CT_RESP_INLINE_MAX_BYTES + 2, d);
	ok(u.errors == 0 && u.msgs == 1 && u.e.len == CT_RESP_INLINE_MAX_BYTES,
	   "an inline line of exactly CT_RESP_INLINE_MAX_BYTES");
	ok(u.e.hash == XXH3_64bits(inl, CT_RESP_INLINE_MAX_BYTES), "long inline argument hashed");
	ct_free(d);
}

/* Random bytes and mutated valid streams: no crash, no hang, sane offsets, both sides. */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct sane {
	uint64_t last_msg_end, total, bad;
};

static void s_msg(void *ctx, const struct ct_resp_msg *m)
{
	struct sane *s = ctx;
	if (m->first_off > m->last_off || m->last_off >= s->total ||
	    (s->last_msg_end && m->first_off < s->last_msg_end))
		s->bad++;
	s->last_msg_end = m->last_off + 1;
}

static void s_elem(void *ctx, const struct ct_resp_elem *e)
{
	struct sane *s = ctx;
	if (e->off > e->last_off || e->last_off >= s->total || e->n > CT_RESP_ELEM_CAP_BYTES ||
	    e->depth > CT_RESP_MAX_DEPTH)
		s->bad++;
	volatile uint8_t sum = 0;
	for (uint32_t i = 0; i < e->n; i++) /* every byte readable (ASan checks) */
		sum = (uint8_t)(sum + e->p[i]);
	(void)sum;
}

static void test_garbage(void)
{
	static const char *const seeds[] = {
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "+OK\r\n", "$5\r\nhello\r\n",
		"%1\r\n+a\r\n:1\r\n", "|1\r\n+k\r\n+v\r\n*2\r\n_\r\n#t\r\n", ">2\r\n$4\r\nping\r\n*0\r\n",
		"SET \"a\\x41\" 'b\\'c'\r\n", "$EOF:0123456789012345678901234567890123456789\r\n",
		"=7\r\ntxt:abc\r\n", ",1.5\r\n(12\r\n!3\r\nERR\r\n",
	};
	const struct ct_resp_cb cb = { s_elem, NULL, NULL, s_msg, NULL, NULL };
	struct ct_resp *d = ct_malloc(sizeof *d);
	uint8_t *buf = ct_malloc(4096);
	if (!d || !buf)
		abort();
	uint64_t bad = 0, runs = 0;
	for (int iter = 0; iter < 4000; iter++) {
		uint32_t n = 0;
		int kind = iter % 3;
		while (n < 3000) {
			if (kind == 0) {
				buf[n++] = (uint8_t)rnd();
			} else {
				const char *s = seeds[rnd() % CT_ARRAY_LEN(seeds)];
				size_t l = strlen(s);
				if (n + l > 4096)
					break;
				memcpy(buf + n, s, l);
				if (kind == 2 && l) /* mutate a byte */
					buf[n + rnd() % l] = (uint8_t)rnd();
				n += (uint32_t)l;
			}
		}
		for (int side = 0; side < 2; side++) {
			struct ct_resp_opts o = { (uint8_t)(iter & 1), (uint8_t)(iter >> 1 & 1) };
			struct sane s = { 0, n, 0 };
			if (ct_resp_init(d, (enum ct_resp_side)side, &o) != 0)
				abort();
			if (side && (iter & 4))
				if (ct_resp_expect_rdb(d) != 0)
					abort();
			uint32_t pos = 0;
			while (pos < n) {
				uint32_t k = 1 + (uint32_t)(rnd() % 700);
				if (k > n - pos)
					k = n - pos;
				if (rnd() % 50 == 0) {
					ct_resp_gap(d, pos, k, 1, &cb, &s);
				} else {
					uint8_t *copy = ct_malloc(k);
					if (!copy)
						abort();
					memcpy(copy, buf + pos, k);
					(void)ct_resp_feed(d, pos, copy, k, 1, &cb, &s);
					ct_free(copy);
				}
				pos += k;
			}
			ct_resp_end(d, 2, &cb, &s);
			bad += s.bad;
			runs++;
		}
	}
	is_int(bad, 0, "%llu garbage runs: offsets and lengths always sane", (unsigned long long)runs);
	ct_free(buf);
	ct_free(d);
}

int main(void)
{
	test_fixtures();
	test_api();
	test_huge_value();
	test_deep_nesting();
	test_garbage();
	return done_testing();
}
