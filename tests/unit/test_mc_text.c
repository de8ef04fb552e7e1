/* Tests for the memcached text and meta decoder (src/mc_text.c), and the decoder's fixture
 * runner that test_mc_bin.c and test_mc_udp.c reuse (they include this file with
 * MC_TEST_NO_MAIN).
 *
 * Fixture files (tests/fixtures/mc/NAME.txt) are read and replayed by tests/fixture.h; the
 * directives of this test, one per line:
 *   === name          starts a case
 *   side client|server
 *   opts midstream values=none framing=text|binary|auto no_resync
 *   in TEXT / rep N TEXT / hex HEX / gap N    the input (ct_fx_input in tests/fixture.h):
 *                     bytes with escapes \r \n \t \s (space) \\ \xNN, TEXT N times, bytes in
 *                     hex (spaces ignored), and N bytes lost (reported with ct_mc_gap)
 *   out EVENT         the expected event log, one event per line:
 *     key INDEX KEY                         a key callback
 *     msg FIRST-LAST CMD field=value ...   a message (fields below, only when set)
 *     err OFFSET ERRSTR                     an error callback
 * Each case is fed whole, split in two at every byte position, and one byte at a time; every
 * way must give exactly the expected log. Timestamps are checked on the side: each message's
 * ts_ns must be the time of the chunk that carried its last byte (first_ts_ns: first byte).
 * Every chunk is a fresh heap copy freed after the call, so ASan catches a pointer kept too
 * long. Set MC_FIXTURE_PRINT=1 to print the actual logs. */
#include <stdlib.h>
#include <string.h>

#include "cachetap/mc.h"
#include "fixture.h"
#include "tap.h"

/* The escapes of the expected logs: \r \n by name, other controls (a tab too) as \xNN. */
#define LOG_ESCAPES "rn"

/* ---- a case: the reader's part, then this test's fields ---- */
struct fx {
	struct ct_fx_case c;
	int side;
	struct ct_mc_opts o;
};

/* ---- a run: the callbacks write the log ---- */
struct run {
	const struct fx *fx;
	struct ct_buf log;
	struct ct_fx_clock clock; /* capture time of each stream byte's chunk (none: not checked) */
	struct ct_mc *d;
};

static void log_msg(struct run *r, const struct ct_mc_msg *m)
{
	struct ct_buf *s = &r->log;
	const uint8_t *in = (const uint8_t *)r->fx->c.in.p;
	size_t in_len = r->fx->c.in.len;
	const uint64_t *ts_at = r->clock.at;
	ct_fx_printf(s, "msg %llu-%llu %s", (unsigned long long)m->first_off,
		     (unsigned long long)m->last_off, ct_mc_cmd_name(m->cmd));
	if (m->proto != CT_MC_PROTO_TEXT)
		ct_fx_printf(s, " p=%s", ct_mc_proto_name(m->proto));
	if ((m->cmd == CT_MC_CMD_UNKNOWN || m->cmd == CT_MC_R_UNKNOWN) && m->proto != CT_MC_PROTO_BINARY) {
		ct_fx_put(s, " word=", 6);
		ct_fx_esc(s, m->word.p, m->word.len, LOG_ESCAPES);
	}
	if (m->key.len) {
		ct_fx_put(s, " key=", 5);
		ct_fx_esc(s, m->key.p, m->key.len, LOG_ESCAPES);
	} else if (m->nkeys) {
		ct_fx_printf(s, " nkeys=%u", m->nkeys);
	}
	if (m->have & CT_MC_HAVE_FLAGS)
		ct_fx_printf(s, " flags=%u", m->client_flags);
	if (m->have & CT_MC_HAVE_EXPTIME)
		ct_fx_printf(s, " exp=%lld", (long long)m->exptime);
	if (m->have & CT_MC_HAVE_CAS)
		ct_fx_printf(s, " cas=%llu", (unsigned long long)m->cas);
	if (m->have & CT_MC_HAVE_NUMBER)
		ct_fx_printf(s, " num=%llu", (unsigned long long)m->number);
	if (m->have & CT_MC_HAVE_INITIAL)
		ct_fx_printf(s, " init=%llu", (unsigned long long)m->initial);
	if (m->flags & CT_MC_MF_VALUE) {
		/* the value's bytes, found in the input from the message's own offsets */
		uint64_t start;
		if (m->proto == CT_MC_PROTO_BINARY)
			start = m->last_off + 1 - m->value_len;
		else
			start = m->last_off - 1 - m->value_len;
		ct_fx_printf(s, " value=%llu", (unsigned long long)m->value_len);
		if (m->value_len <= 32 && start + m->value_len <= in_len) {
			ct_fx_put(s, ":\"", 2);
			ct_fx_esc(s, in + start, (size_t)m->value_len, LOG_ESCAPES);
			ct_fx_put(s, "\"", 1);
		}
		if (m->flags & CT_MC_MF_HASHED) {
			int good = start + m->value_len <= in_len &&
				   XXH3_64bits(in + start, (size_t)m->value_len) == m->value_hash;
			ct_fx_put(s, good ? " hash=ok" : " hash=BAD", good ? 8 : 9);
		}
	}
	static const struct {
		uint32_t bit;
		const char *name;
	} fl[] = {
		{ CT_MC_MF_NOREPLY, "NOREPLY" }, { CT_MC_MF_QUIET, "QUIET" },
		{ CT_MC_MF_RESYNCED, "RESYNCED" }, { CT_MC_MF_GAP, "GAP" },
		{ CT_MC_MF_ABORTED, "ABORTED" }, { CT_MC_MF_KEY_TOO_LONG, "KEY_TOO_LONG" },
		{ CT_MC_MF_BAD_ARGS, "BAD_ARGS" }, { CT_MC_MF_BAD_KEY, "BAD_KEY" },
		{ CT_MC_MF_BAD_DATA, "BAD_DATA" }, { CT_MC_MF_KEY_BASE64, "BASE64" },
		{ CT_MC_MF_RETKEY, "RETKEY" }, { CT_MC_MF_TEXT_TRUNC, "TEXT_TRUNC" },
	};
	const char *sep = " f=";
	for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
		if (m->flags & fl[i].bit) {
			ct_fx_printf(s, "%s%s", sep, fl[i].name);
			sep = ",";
		}
	}
	if (m->meta_flags) {
		sep = " meta=";
		for (int b = 0; b < CT_MC_META_NFLAGS; b++) {
			if (!(m->meta_flags >> b & 1))
				continue;
			char c = (char)(b < 26 ? 'A' + b : 'a' + (b - 26));
			struct ct_mc_tok t;
			memset(&t, 0, sizeof t);
			if (!ct_mc_meta_get(m, c, &t))
				ct_fx_put(s, "?", 1);
			ct_fx_printf(s, "%s%c", sep, c);
			ct_fx_esc(s, t.p, t.len, LOG_ESCAPES);
			sep = ",";
		}
	}
	if (m->meta_mode)
		ct_fx_printf(s, " mode=%c", m->meta_mode);
	if (m->text.len) {
		ct_fx_put(s, " text=\"", 7);
		ct_fx_esc(s, m->text.p, m->text.len, LOG_ESCAPES);
		ct_fx_put(s, "\"", 1);
	}
	if (m->proto == CT_MC_PROTO_BINARY) {
		ct_fx_printf(s, " op=0x%02x", m->opcode);
		if (m->side == CT_MC_SIDE_SERVER)
			ct_fx_printf(s, " status=%u", m->status);
		else if (m->vbucket)
			ct_fx_printf(s, " vb=%u", m->vbucket);
		if (m->opaque)
			ct_fx_printf(s, " opaque=%u", m->opaque);
		if (m->datatype)
			ct_fx_printf(s, " dt=%u", m->datatype);
		if (m->extras.len) {
			ct_fx_put(s, " ext=", 5);
			for (uint32_t i = 0; i < m->extras.len; i++)
				ct_fx_printf(s, "%02x", m->extras.p[i]);
		}
	}
	if (m->flags & CT_MC_MF_UDP)
		ct_fx_printf(s, " udp=%u", m->udp_id);
	if (m->side != r->d->side)
		ct_fx_put(s, " SIDE!", 6);
	/* timestamps: the chunk of the last byte and of the first byte */
	if (!(m->flags & CT_MC_MF_ABORTED) && ts_at && m->last_off < in_len &&
	    (m->ts_ns != ts_at[m->last_off] || m->first_ts_ns != ts_at[m->first_off]))
		ct_fx_printf(s, " TS!(%llu/%llu want %llu/%llu)",
			     (unsigned long long)m->first_ts_ns, (unsigned long long)m->ts_ns,
			     (unsigned long long)ts_at[m->first_off],
			     (unsigned long long)ts_at[m->last_off]);
	ct_fx_put(s, "\n", 1);
}

static void cb_msg(void *ctx, const struct ct_mc_msg *m)
{
	log_msg(ctx, m);
}

static void cb_key(void *ctx, const struct ct_mc_msg *m, const uint8_t *key, uint32_t len,
		   uint32_t index)
{
	struct run *r = ctx;
	(void)m;
	ct_fx_printf(&r->log, "key %u ", index);
	ct_fx_esc(&r->log, key, len, LOG_ESCAPES);
	ct_fx_put(&r->log, "\n", 1);
}

static void cb_err(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct run *r = ctx;
	ct_fx_printf(&r->log, "err %llu %s: %s\n", (unsigned long long)off, ct_strerror(err),
		     errstr);
}

static const struct ct_mc_cb test_cb = { cb_msg, cb_key, cb_err };

/* One chunk of the stream (p: a fresh heap copy), or a gap (p NULL), at its own time. */
static void feed_chunk(void *ctx, const struct ct_fx_seg *g, size_t at, const uint8_t *p, size_t n)
{
	struct run *r = ctx;
	uint64_t off = g->off + at, ts = ct_fx_clock_tick(&r->clock, off, n);
	if (p)
		(void)ct_mc_data(r->d, off, p, (uint32_t)n, ts);
	else
		ct_mc_gap(r->d, off, n, ts);
}

/* Replays a case under one chunking into *log; *state (when asked) gets the decoder at the end. */
static void replay(const struct ct_fx_case *c, const struct ct_fx_how *how, struct ct_buf *log,
		   struct ct_mc *state)
{
	const struct fx *fx = (const struct fx *)c;
	struct run r = { .fx = fx };
	r.d = ct_malloc(sizeof *r.d);
	if (!r.d)
		abort();
	ct_fx_clock_init(&r.clock, c->in.len);
	if (ct_mc_init(r.d, (enum ct_mc_side)fx->side, &fx->o, &test_cb, &r) != 0)
		abort();
	ct_fx_walk(c, how, feed_chunk, &r);
	ct_mc_end(r.d, r.clock.now + 10);
	if (state)
		*state = *r.d;
	*log = r.log;
	ct_fx_clock_free(&r.clock);
	ct_free(r.d);
}

static void run_case(const struct ct_fx_case *c, const struct ct_fx_how *how, struct ct_buf *log)
{
	replay(c, how, log, NULL);
}

/* ---- this test's fixture directives ---- */

static void start_case(struct ct_fx_case *c)
{
	struct fx *fx = (struct fx *)c;
	fx->side = CT_MC_SIDE_CLIENT;
	fx->o.values = CT_MC_VALUES_HASH;
}

static int directive(struct ct_fx_case *c, const char *line)
{
	struct fx *fx = (struct fx *)c;
	int input = ct_fx_input(c, line);
	if (input)
		return input < 0 ? -1 : 0;
	if (strncmp(line, "side ", 5) == 0) {
		fx->side = strcmp(line + 5, "server") == 0 ? CT_MC_SIDE_SERVER : CT_MC_SIDE_CLIENT;
	} else if (strncmp(line, "opts", 4) == 0) {
		fx->o.midstream = strstr(line, "midstream") != NULL;
		fx->o.no_resync = strstr(line, "no_resync") != NULL;
		if (strstr(line, "values=none"))
			fx->o.values = CT_MC_VALUES_NONE;
		if (strstr(line, "framing=text"))
			fx->o.framing = CT_MC_FRAMING_TEXT;
		if (strstr(line, "framing=binary"))
			fx->o.framing = CT_MC_FRAMING_BINARY;
	} else {
		return -1;
	}
	return 0;
}

static const struct ct_fx_suite suite = {
	.subdir = "mc",
	.case_size = sizeof(struct fx),
	.ndirs = 1,
	.print_env = "MC_FIXTURE_PRINT",
	.start = start_case,
	.directive = directive,
	.run = run_case,
};

/* Runs every case of one fixture file. */
__attribute__((unused)) static void run_fixture_file(const char *name)
{
	ct_fx_file(&suite, name);
}

/* A case of one stream, fed as one chunk when whole (for the C tests). */
static struct fx *stream_case(int side, const struct ct_mc_opts *o, const void *p, size_t len)
{
	struct fx *fx = (struct fx *)ct_fx_case_new(sizeof *fx);
	start_case(&fx->c);
	fx->side = side;
	if (o)
		fx->o = *o;
	ct_fx_put(&fx->c.in, p, len);
	ct_fx_stream(&fx->c, 0);
	return fx;
}

/* Feeds a buffer whole and returns the decoder's log (for the C tests below). */
__attribute__((unused)) static char *decode_log(int side, const struct ct_mc_opts *o,
						const void *p, size_t len, struct ct_mc *out_state)
{
	struct fx *fx = stream_case(side, o, p, len);
	struct ct_buf log = { 0 };
	replay(&fx->c, &(struct ct_fx_how){ CT_FX_WHOLE, 0, 0 }, &log, out_state);
	ct_fx_case_free(&fx->c);
	return log.p ? log.p : ct_strdup("");
}

#ifndef MC_TEST_NO_MAIN

/* ---- C tests: what does not fit a small fixture ---- */

static unsigned long long key_count;
static int key_order_ok;
static void count_key(void *ctx, const struct ct_mc_msg *m, const uint8_t *key, uint32_t len,
		      uint32_t index)
{
	char want[32];
	int n = snprintf(want, sizeof want, "key%u", index);
	(void)ctx;
	(void)m;
	if (index != key_count || (uint32_t)n != len || memcmp(key, want, len) != 0)
		key_order_ok = 0;
	key_count++;
}
static struct ct_mc_msg last_msg;
static unsigned msgs_seen;
static void keep_msg(void *ctx, const struct ct_mc_msg *m)
{
	(void)ctx;
	last_msg = *m;
	msgs_seen++;
}

/* A 20,000-key get: no key array anywhere, every key delivered in order, in any chunking. */
static void test_big_get(void)
{
	struct ct_buf s = { 0 };
	ct_fx_put(&s, "get", 3);
	for (unsigned i = 0; i < 20000; i++)
		ct_fx_printf(&s, " key%u", i);
	ct_fx_put(&s, "\r\n", 2);
	ok(s.len > 150000, "the line is %zu bytes", s.len);
	static const struct ct_mc_cb cb = { keep_msg, count_key, NULL };
	static const uint32_t chunks[] = { 0, 1, 7, 1460, 65536 };
	for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		struct ct_mc *d = ct_malloc(sizeof *d);
		if (!d || ct_mc_init(d, CT_MC_SIDE_CLIENT, NULL, &cb, NULL) != 0)
			abort();
		key_count = 0;
		key_order_ok = 1;
		msgs_seen = 0;
		uint32_t step = chunks[c] ? chunks[c] : (uint32_t)s.len;
		for (size_t off = 0; off < s.len; off += step) {
			uint32_t n = (uint32_t)(s.len - off < step ? s.len - off : step);
			(void)ct_mc_data(d, off, (const uint8_t *)s.p + off, n, 1);
		}
		is_int(key_count, 20000, "20,000 keys, chunks of %u", step);
		ok(key_order_ok, "keys in order, chunks of %u", step);
		is_int(msgs_seen, 1, "one message");
		is_int(last_msg.nkeys, 20000, "nkeys");
		is_int(last_msg.cmd, CT_MC_CMD_GET, "GET");
		is_int(last_msg.last_off, s.len - 1, "last offset");
		is_int(d->c.errors, 0, "no errors");
		ct_free(d);
	}
	ct_free(s.p);
}

/* More tokens than a 16-bit counter holds: keys are still keys, never a command word. */
static void test_many_short_keys(void)
{
	struct ct_buf s = { 0 };
	ct_fx_put(&s, "get", 3);
	for (unsigned i = 0; i < 70000; i++)
		ct_fx_put(&s, " k", 2);
	ct_fx_put(&s, "\r\nget z\r\n", 9);
	struct ct_mc st;
	char *log = decode_log(CT_MC_SIDE_CLIENT, NULL, s.p, s.len, &st);
	is_int(st.c.keys, 70001, "70,000 keys and one more");
	is_int(st.c.msgs, 2, "two messages");
	is_int(st.c.errors, 0, "no errors");
	ok(strstr(log, "msg 0-140004 GET nkeys=70000\n") != NULL, "one get of 70,000 keys");
	ct_free(log);
	ct_free(s.p);
}

/* A 70 KB line with no newline and no space: one counted error, then the next line decodes. */
static void test_long_line(void)
{
	size_t n = 70000;
	char *buf = ct_malloc(n + 64);
	if (!buf)
		abort();
	memset(buf, 'a', n);
	memcpy(buf + n, "\r\nget k\r\n", 9);
	struct ct_mc st;
	char *log = decode_log(CT_MC_SIDE_CLIENT, NULL, buf, n + 9, &st);
	is_str(log, "err 8192 limit reached: line too long\nkey 0 k\nmsg 70002-70008 GET nkeys=1 f=RESYNCED\n",
	       "70 KB word: error, resync at the next line");
	is_int(st.c.line_too_long, 1, "counted in line_too_long");
	is_int(st.c.errors, 1, "one error");
	is_int(st.err, CT_ELIMIT, "sticky error");
	is_int(st.err_offset, 8192, "error offset: where the line passed the cap");
	ct_free(log);
	/* same as a get key: the key is too long (flagged), the line itself is fine */
	memcpy(buf, "get ", 4);
	log = decode_log(CT_MC_SIDE_CLIENT, NULL, buf, n + 9, &st);
	is_str(log, "msg 0-70001 GET f=KEY_TOO_LONG\nkey 0 k\nmsg 70002-70008 GET nkeys=1\n",
	       "70 KB key: flagged, not an error");
	is_int(st.c.keys_too_long, 1, "counted in keys_too_long");
	ct_free(log);
	/* a line of spaces */
	memset(buf, ' ', n);
	log = decode_log(CT_MC_SIDE_CLIENT, NULL, buf, n + 9, &st);
	is_str(log, "err 8192 limit reached: line too long\nkey 0 k\nmsg 70002-70008 GET nkeys=1 f=RESYNCED\n",
	       "70 KB of spaces");
	ct_free(log);
	ct_free(buf);
}

/* Hostile lengths never overflow; the one-byte-at-a-time feed sees the same. */
static void test_lengths(void)
{
	static const char *const bad[] = {
		"set k 0 0 4294967295\r\n", "set k 0 0 100000000000000000000\r\n",
		"set k 0 0 18446744073709551616\r\n", "set k 0 0 1073741825\r\n",
		"set k 0 0 -1\r\n", "set k 0 0 1e3\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ct_mc st;
		char *log = decode_log(CT_MC_SIDE_CLIENT, NULL, bad[i], strlen(bad[i]), &st);
		is_int(st.c.value_too_long, 1, "length %zu counted", i);
		is_int(st.c.msgs, 0, "length %zu: no message", i);
		ok(strncmp(log, "err ", 4) == 0, "length %zu: error reported", i);
		ct_free(log);
	}
	/* the largest allowed length frames a value (hashing fed in pieces) */
	struct ct_mc st;
	char *log = decode_log(CT_MC_SIDE_CLIENT, NULL, "set k 0 0 1073741824\r\nab", 24, &st);
	is_int(st.c.errors, 0, "1 GiB value accepted");
	is_int(st.c.aborted, 1, "cut by the end of the stream");
	ct_free(log);
}

/* Detection on first bytes. */
static void test_detect(void)
{
	struct ct_mc_guess g;
	static const struct {
		const char *in;
		size_t len;
		int want, side, cmd;
	} t[] = {
		{ "get foo\r\n", 9, CT_MC_DETECT_TEXT, CT_MC_SIDE_CLIENT, CT_MC_CMD_GET },
		{ "set foo 0 0 5\r\nhel", 18, CT_MC_DETECT_TEXT, CT_MC_SIDE_CLIENT, CT_MC_CMD_SET },
		{ "mg foo v t\r\n", 12, CT_MC_DETECT_TEXT, CT_MC_SIDE_CLIENT, CT_MC_CMD_MG },
		{ "VALUE foo 0 5\r\n", 15, CT_MC_DETECT_TEXT, CT_MC_SIDE_SERVER, CT_MC_R_VALUE },
		{ "STORED\r\n", 8, CT_MC_DETECT_TEXT, CT_MC_SIDE_SERVER, CT_MC_R_STORED },
		{ "HD c5\r\n", 7, CT_MC_DETECT_TEXT, CT_MC_SIDE_SERVER, CT_MC_R_HD },
		{ "get foo", 7, CT_MC_DETECT_NEED_MORE, 0, 0 },
		{ "ge", 2, CT_MC_DETECT_NEED_MORE, 0, 0 },
		{ "GET / HTTP/1.1\r\n", 16, CT_MC_DETECT_UNKNOWN, 0, 0 },
		{ "*1\r\n$4\r\nPING\r\n", 14, CT_MC_DETECT_UNKNOWN, 0, 0 },
		{ "12345\r\n", 7, CT_MC_DETECT_UNKNOWN, 0, 0 },   /* a bare number is no evidence */
		{ "set foo 0 0\r\n", 13, CT_MC_DETECT_UNKNOWN, 0, 0 }, /* not a valid command */
		{ "\x80\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00"
		  "\x00\x00\x00\x00\x00\x00\x00\x00", 24, CT_MC_DETECT_BINARY, CT_MC_SIDE_CLIENT,
		  CT_MC_CMD_GET },
		{ "\x80\x00\x00\x03\x00\x00\x00\x00\x00\x00", 10, CT_MC_DETECT_NEED_MORE, 0, 0 },
		{ "\x80\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00"
		  "\x00\x00\x00\x00\x00\x00\x00\x00", 24, CT_MC_DETECT_UNKNOWN, 0, 0 },
		{ "\x81\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00"
		  "\x00\x00\x00\x00\x00\x00\x00\x01", 24, CT_MC_DETECT_BINARY, CT_MC_SIDE_SERVER,
		  CT_MC_CMD_GET },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int r = ct_mc_detect((const uint8_t *)t[i].in, t[i].len, &g);
		is_int(r, t[i].want, "detect %zu", i);
		if (r == CT_MC_DETECT_TEXT || r == CT_MC_DETECT_BINARY) {
			is_int(g.side, t[i].side, "detect %zu side", i);
			is_int(g.cmd, t[i].cmd, "detect %zu cmd", i);
			ok(g.evidence_len > 0 && g.evidence_len <= t[i].len, "detect %zu evidence", i);
		}
	}
}

/* The same value hashed whole and streamed in pieces gives the same fingerprint. */
static void test_hash_streaming(void)
{
	size_t vlen = 100000;
	struct ct_buf s = { 0 };
	ct_fx_printf(&s, "set k 0 0 %zu\r\n", vlen);
	size_t vstart = s.len;
	for (size_t i = 0; i < vlen; i++) {
		char c = (char)('a' + i % 26);
		ct_fx_put(&s, &c, 1);
	}
	ct_fx_put(&s, "\r\n", 2);
	uint64_t want = XXH3_64bits(s.p + vstart, vlen);
	static const uint32_t steps[] = { 1, 3, 1000, 65536, 0 };
	for (size_t c = 0; c < sizeof steps / sizeof steps[0]; c++) {
		static const struct ct_mc_cb cb = { keep_msg, NULL, NULL };
		struct ct_mc *d = ct_malloc(sizeof *d);
		if (!d || ct_mc_init(d, CT_MC_SIDE_CLIENT, NULL, &cb, NULL) != 0)
			abort();
		msgs_seen = 0;
		uint32_t step = steps[c] ? steps[c] : (uint32_t)s.len;
		for (size_t off = 0; off < s.len; off += step) {
			uint32_t n = (uint32_t)(s.len - off < step ? s.len - off : step);
			(void)ct_mc_data(d, off, (const uint8_t *)s.p + off, n, off);
		}
		is_int(msgs_seen, 1, "one message, steps of %u", step);
		ok((last_msg.flags & CT_MC_MF_HASHED) && last_msg.value_hash == want,
		   "hash matches, steps of %u", step);
		ct_free(d);
	}
	ct_free(s.p);
}

/* no_resync: the first error sticks and nothing more is decoded. */
static void test_no_resync(void)
{
	struct ct_mc_opts o = { CT_MC_VALUES_HASH, CT_MC_FRAMING_AUTO, 0, 1 };
	struct ct_mc st;
	const char *in = "get a\r\nset k 0 0 x1\r\nget b\r\n";
	char *log = decode_log(CT_MC_SIDE_CLIENT, &o, in, strlen(in), &st);
	is_str(log, "key 0 a\nmsg 0-6 GET nkeys=1\nerr 17 limit reached: data length not a number or over the limit\n",
	       "stops at the first error");
	ok(st.stopped && st.err == CT_ELIMIT && st.err_offset == 17, "sticky error kept");
	ct_free(log);
}

static void test_names(void)
{
	is_str(ct_mc_cmd_name(CT_MC_CMD_MG), "MG", "cmd name");
	is_str(ct_mc_cmd_name(CT_MC_R_NOT_STORED), "NOT_STORED", "reply name");
	is_str(ct_mc_cmd_name(9999), "UNKNOWN", "out of range");
	for (unsigned c = 0; c < CT_MC_CMD__COUNT; c++)
		ok(ct_mc_cmd_name(c) != NULL && ct_mc_cmd_name(c)[0], "name of %u", c);
	struct ct_mc d;
	ok(ct_mc_init(&d, (enum ct_mc_side)7, NULL, NULL, NULL) == CT_EINVAL, "bad side");
	struct ct_mc_opts o = { 9, 0, 0, 0 };
	ok(ct_mc_init(&d, CT_MC_SIDE_CLIENT, &o, NULL, NULL) == CT_EINVAL, "bad values option");
}

int main(void)
{
	run_fixture_file("text.txt");
	run_fixture_file("meta.txt");
	test_big_get();
	test_many_short_keys();
	test_long_line();
	test_lengths();
	test_detect();
	test_hash_streaming();
	test_no_resync();
	test_names();
	return done_testing();
}
#endif
