/* Tests for the memcached text and meta decoder (src/mc_text.c), and the spec-fixture runner
 * that test_mc_bin.c reuses (it includes this file with MC_TEST_NO_MAIN).
 *
 * Fixture files (tests/fixtures/mc/NAME.txt) are readable text, one directive per line:
 *   === name          starts a case
 *   side client|server
 *   opts midstream values=none framing=text|binary|auto no_resync
 *   in TEXT           appends bytes; escapes \r \n \t \s (space) \\ \xNN
 *   hex HEX           appends bytes written in hex (spaces ignored)
 *   gap N             N bytes lost (reported with ct_mc_gap)
 *   out EVENT         the expected event log, one event per line:
 *     key INDEX KEY                         a key callback
 *     msg FIRST-LAST CMD field=value ...   a message (fields below, only when set)
 *     err OFFSET ERRSTR                     an error callback
 * Each case is fed whole, split in two at every byte position, and one byte at a time; every
 * way must give exactly the expected log. Timestamps are checked on the side: each message's
 * ts_ns must be the time of the chunk that carried its last byte (first_ts_ns: first byte).
 * Every chunk is a fresh heap copy freed after the call, so ASan catches a pointer kept too
 * long. Set MC_FIXTURE_PRINT=1 to print the actual logs. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/mc.h"
#include "tap.h"

/* ---- a growing string (test code; allocation through the shim) ---- */
struct sb {
	char *p;
	size_t len, cap;
};

static void sb_put(struct sb *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		while (cap < s->len + n + 1)
			cap *= 2;
		char *q = ct_realloc(s->p, cap);
		if (!q)
			abort();
		s->p = q;
		s->cap = cap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = 0;
}

static void sb_printf(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *s, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_put(s, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void sb_esc(struct sb *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\r')
			sb_put(s, "\\r", 2);
		else if (c == '\n')
			sb_put(s, "\\n", 2);
		else if (c == '\\')
			sb_put(s, "\\\\", 2);
		else if (c == ' ')
			sb_put(s, "\\s", 2);
		else if (c < 0x21 || c > 0x7e || c == '"')
			sb_printf(s, "\\x%02x", c);
		else
			sb_put(s, (const char *)&c, 1);
	}
}

/* ---- a case ---- */
struct seg {
	int gap;
	uint64_t off;
	uint32_t len;
};

struct fx {
	char name[160];
	int line;
	int side;
	struct ct_mc_opts o;
	struct sb in;  /* the stream; bytes lost in gaps are '?' */
	struct seg seg[256];
	int nseg;
	struct sb out; /* expected log */
};

/* ---- a run: the callbacks write the log ---- */
struct run {
	const struct fx *fx;
	struct sb log;
	uint64_t *ts_at; /* capture time of each stream byte's chunk */
	struct ct_mc *d;
};

static void log_msg(struct run *r, const struct ct_mc_msg *m)
{
	struct sb *s = &r->log;
	const uint8_t *in = (const uint8_t *)r->fx->in.p;
	sb_printf(s, "msg %llu-%llu %s", (unsigned long long)m->first_off,
		  (unsigned long long)m->last_off, ct_mc_cmd_name(m->cmd));
	if (m->proto != CT_MC_PROTO_TEXT)
		sb_printf(s, " p=%s", ct_mc_proto_name(m->proto));
	if ((m->cmd == CT_MC_CMD_UNKNOWN || m->cmd == CT_MC_R_UNKNOWN) && m->proto != CT_MC_PROTO_BINARY) {
		sb_put(s, " word=", 6);
		sb_esc(s, m->word.p, m->word.len);
	}
	if (m->key.len) {
		sb_put(s, " key=", 5);
		sb_esc(s, m->key.p, m->key.len);
	} else if (m->nkeys) {
		sb_printf(s, " nkeys=%u", m->nkeys);
	}
	if (m->have & CT_MC_HAVE_FLAGS)
		sb_printf(s, " flags=%u", m->client_flags);
	if (m->have & CT_MC_HAVE_EXPTIME)
		sb_printf(s, " exp=%lld", (long long)m->exptime);
	if (m->have & CT_MC_HAVE_CAS)
		sb_printf(s, " cas=%llu", (unsigned long long)m->cas);
	if (m->have & CT_MC_HAVE_NUMBER)
		sb_printf(s, " num=%llu", (unsigned long long)m->number);
	if (m->have & CT_MC_HAVE_INITIAL)
		sb_printf(s, " init=%llu", (unsigned long long)m->initial);
	if (m->flags & CT_MC_MF_VALUE) {
		/* the value's bytes, found in the input from the message's own offsets */
		uint64_t start;
		if (m->proto == CT_MC_PROTO_BINARY)
			start = m->last_off + 1 - m->value_len;
		else
			start = m->last_off - 1 - m->value_len;
		sb_printf(s, " value=%llu", (unsigned long long)m->value_len);
		if (m->value_len <= 32 && start + m->value_len <= r->fx->in.len) {
			sb_put(s, ":\"", 2);
			sb_esc(s, in + start, (size_t)m->value_len);
			sb_put(s, "\"", 1);
		}
		if (m->flags & CT_MC_MF_HASHED) {
			int good = start + m->value_len <= r->fx->in.len &&
				   XXH3_64bits(in + start, (size_t)m->value_len) == m->value_hash;
			sb_put(s, good ? " hash=ok" : " hash=BAD", good ? 8 : 9);
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
			sb_printf(s, "%s%s", sep, fl[i].name);
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
			if (!ct_mc_meta_get(m, c, &t))
				sb_put(s, "?", 1);
			sb_printf(s, "%s%c", sep, c);
			sb_esc(s, t.p, t.len);
			sep = ",";
		}
	}
	if (m->meta_mode)
		sb_printf(s, " mode=%c", m->meta_mode);
	if (m->text.len) {
		sb_put(s, " text=\"", 7);
		sb_esc(s, m->text.p, m->text.len);
		sb_put(s, "\"", 1);
	}
	if (m->proto == CT_MC_PROTO_BINARY) {
		sb_printf(s, " op=0x%02x", m->opcode);
		if (m->side == CT_MC_SIDE_SERVER)
			sb_printf(s, " status=%u", m->status);
		else if (m->vbucket)
			sb_printf(s, " vb=%u", m->vbucket);
		if (m->opaque)
			sb_printf(s, " opaque=%u", m->opaque);
		if (m->datatype)
			sb_printf(s, " dt=%u", m->datatype);
		if (m->extras.len) {
			sb_put(s, " ext=", 5);
			for (uint32_t i = 0; i < m->extras.len; i++)
				sb_printf(s, "%02x", m->extras.p[i]);
		}
	}
	if (m->flags & CT_MC_MF_UDP)
		sb_printf(s, " udp=%u", m->udp_id);
	if (m->side != r->d->side)
		sb_put(s, " SIDE!", 6);
	/* timestamps: the chunk of the last byte and of the first byte */
	if (!(m->flags & CT_MC_MF_ABORTED) && r->ts_at && m->last_off < r->fx->in.len &&
	    (m->ts_ns != r->ts_at[m->last_off] || m->first_ts_ns != r->ts_at[m->first_off]))
		sb_printf(s, " TS!(%llu/%llu want %llu/%llu)", (unsigned long long)m->first_ts_ns,
			  (unsigned long long)m->ts_ns,
			  (unsigned long long)r->ts_at[m->first_off],
			  (unsigned long long)r->ts_at[m->last_off]);
	sb_put(s, "\n", 1);
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
	sb_printf(&r->log, "key %u ", index);
	sb_esc(&r->log, key, len);
	sb_put(&r->log, "\n", 1);
}

static void cb_err(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct run *r = ctx;
	sb_printf(&r->log, "err %llu %s: %s\n", (unsigned long long)off, ct_strerror(err), errstr);
}

static const struct ct_mc_cb test_cb = { cb_msg, cb_key, cb_err };

/* Feeds [off, off+len) of the case's stream as one chunk, from a fresh heap copy. */
static void feed(struct run *r, struct ct_mc *d, uint64_t off, uint32_t len, uint64_t ts)
{
	uint8_t *copy = ct_malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, r->fx->in.p + off, len);
	for (uint32_t i = 0; i < len; i++)
		r->ts_at[off + i] = ts;
	(void)ct_mc_data(d, off, copy, len, ts);
	ct_free(copy);
}

/* mode 0: whole segments; 1: split at byte `at`; 2: one byte at a time */
static void run_case(const struct fx *fx, int mode, uint64_t at, struct sb *log)
{
	struct run r = { fx, { 0 }, NULL, NULL };
	struct ct_mc *d = ct_malloc(sizeof *d);
	r.ts_at = ct_calloc(fx->in.len + 1, sizeof *r.ts_at);
	if (!d || !r.ts_at)
		abort();
	r.d = d;
	if (ct_mc_init(d, (enum ct_mc_side)fx->side, &fx->o, &test_cb, &r) != 0)
		abort();
	uint64_t ts = 1000;
	for (int i = 0; i < fx->nseg; i++) {
		const struct seg *g = &fx->seg[i];
		if (g->gap) {
			ts += 10;
			for (uint64_t k = 0; k < g->len; k++)
				r.ts_at[g->off + k] = ts;
			ct_mc_gap(d, g->off, g->len, ts);
			continue;
		}
		if (mode == 0 || (mode == 1 && !(at > g->off && at < g->off + g->len))) {
			feed(&r, d, g->off, g->len, ts += 10);
		} else if (mode == 1) {
			uint32_t k = (uint32_t)(at - g->off);
			feed(&r, d, g->off, k, ts += 10);
			feed(&r, d, at, g->len - k, ts += 10);
		} else {
			for (uint32_t k = 0; k < g->len; k++)
				feed(&r, d, g->off + k, 1, ts += 10);
		}
	}
	ct_mc_end(d, ts + 10);
	*log = r.log;
	ct_free(r.ts_at);
	ct_free(d);
}

/* Prints where two logs first differ. */
static void diag_diff(const char *got, const char *want)
{
	size_t i = 0, line = 1, ls = 0;
	while (got[i] && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			ls = i + 1;
		}
		i++;
	}
	const char *ge = strchr(got + ls, '\n'), *we = strchr(want + ls, '\n');
	diag("first difference at log line %zu", line);
	diag("   got: %.*s", ge ? (int)(ge - got - ls) : (int)strlen(got + ls), got + ls);
	diag("  want: %.*s", we ? (int)(we - want - ls) : (int)strlen(want + ls), want + ls);
}

static void check_case(const struct fx *fx)
{
	static const char *const mode_name[] = { "whole", "split", "bytewise" };
	const char *want = fx->out.p ? fx->out.p : "";
	int print = getenv("MC_FIXTURE_PRINT") != NULL;
	for (int mode = 0; mode < 3; mode++) {
		uint64_t n = mode == 1 ? fx->in.len : 1;
		int good = 1;
		uint64_t bad_at = 0;
		struct sb first = { 0 };
		for (uint64_t at = 1; at <= n && good; at++) {
			struct sb log;
			if (mode == 1 && at == n && n > 1)
				break;
			run_case(fx, mode, at, &log);
			const char *got = log.p ? log.p : "";
			if (print && mode == 0 && at == 1)
				printf("=== %s\n%s", fx->name, got);
			if (strcmp(got, want) != 0) {
				good = 0;
				bad_at = at;
				first = log;
				continue;
			}
			ct_free(log.p);
		}
		ok(good, "%s (line %d): %s", fx->name, fx->line, mode_name[mode]);
		if (!good) {
			if (mode == 1)
				diag("split at byte %llu", (unsigned long long)bad_at);
			diag_diff(first.p ? first.p : "", want);
			ct_free(first.p);
		}
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void unescape_into(struct sb *s, const char *p)
{
	while (*p) {
		char c = *p++;
		if (c != '\\') {
			sb_put(s, &c, 1);
			continue;
		}
		char e = *p++;
		switch (e) {
		case 'r': sb_put(s, "\r", 1); break;
		case 'n': sb_put(s, "\n", 1); break;
		case 't': sb_put(s, "\t", 1); break;
		case 's': sb_put(s, " ", 1); break;
		case '\\': sb_put(s, "\\", 1); break;
		case 'x': {
			int hi = hexval(p[0]), lo = hi >= 0 ? hexval(p[1]) : -1;
			if (lo < 0) {
				fprintf(stderr, "bad \\x escape\n");
				abort();
			}
			char b = (char)(hi << 4 | lo);
			sb_put(s, &b, 1);
			p += 2;
			break;
		}
		default:
			fprintf(stderr, "bad escape \\%c\n", e);
			abort();
		}
	}
}

static void add_data(struct fx *fx, size_t before)
{
	uint32_t n = (uint32_t)(fx->in.len - before);
	if (!n)
		return;
	/* adjacent input lines make one segment (one chunk when fed whole) */
	if (fx->nseg && !fx->seg[fx->nseg - 1].gap) {
		fx->seg[fx->nseg - 1].len += n;
		return;
	}
	if (fx->nseg == (int)(sizeof fx->seg / sizeof fx->seg[0]))
		abort();
	fx->seg[fx->nseg++] = (struct seg){ 0, before, n };
}

/* Runs every case of one fixture file. Returns the number of cases. */
__attribute__((unused)) static int run_fixture_file(const char *name)
{
	char path[200];
	snprintf(path, sizeof path, "tests/fixtures/mc/%s", name);
	FILE *f = fopen(path, "r");
	ok(f != NULL, "open %s", path);
	if (!f)
		return 0;
	char line[70000];
	struct fx *fx = NULL;
	int lineno = 0, ncases = 0;
	for (;;) {
		char *got = fgets(line, sizeof line, f);
		if (got)
			lineno++;
		if (!got || strncmp(line, "=== ", 4) == 0) {
			if (fx) {
				check_case(fx);
				ncases++;
				ct_free(fx->in.p);
				ct_free(fx->out.p);
				ct_free(fx);
				fx = NULL;
			}
			if (!got)
				break;
			fx = ct_calloc(1, sizeof *fx);
			if (!fx)
				abort();
			size_t n = strcspn(line + 4, "\n");
			snprintf(fx->name, sizeof fx->name, "%s: %.*s", name, (int)n, line + 4);
			fx->line = lineno;
			fx->side = CT_MC_SIDE_CLIENT;
			fx->o.values = CT_MC_VALUES_HASH;
			continue;
		}
		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || line[0] == 0)
			continue;
		if (!fx) {
			fprintf(stderr, "%s:%d: directive before the first case\n", path, lineno);
			abort();
		}
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
		} else if (strncmp(line, "in ", 3) == 0 || strcmp(line, "in") == 0) {
			size_t before = fx->in.len;
			unescape_into(&fx->in, line[2] ? line + 3 : "");
			add_data(fx, before);
		} else if (strncmp(line, "hex ", 4) == 0) {
			size_t before = fx->in.len;
			for (const char *p = line + 4; *p;) {
				if (*p == ' ') {
					p++;
					continue;
				}
				int hi = hexval(p[0]), lo = hi >= 0 ? hexval(p[1]) : -1;
				if (lo < 0) {
					fprintf(stderr, "%s:%d: bad hex\n", path, lineno);
					abort();
				}
				char b = (char)(hi << 4 | lo);
				sb_put(&fx->in, &b, 1);
				p += 2;
			}
			add_data(fx, before);
		} else if (strncmp(line, "gap ", 4) == 0) {
			uint32_t n = (uint32_t)strtoul(line + 4, NULL, 10);
			if (fx->nseg == (int)(sizeof fx->seg / sizeof fx->seg[0]))
				abort();
			fx->seg[fx->nseg++] = (struct seg){ 1, fx->in.len, n };
			for (uint32_t i = 0; i < n; i++)
				sb_put(&fx->in, "?", 1);
		} else if (strncmp(line, "out ", 4) == 0) {
			sb_put(&fx->out, line + 4, strlen(line + 4));
			sb_put(&fx->out, "\n", 1);
		} else {
			fprintf(stderr, "%s:%d: unknown directive: %s\n", path, lineno, line);
			abort();
		}
	}
	fclose(f);
	return ncases;
}

/* Feeds a buffer whole and returns the decoder's log (for the C tests below). */
__attribute__((unused)) static char *decode_log(int side, const struct ct_mc_opts *o,
						const void *p, size_t len, struct ct_mc *out_state)
{
	struct fx *fx = ct_calloc(1, sizeof *fx);
	if (!fx)
		abort();
	fx->side = side;
	if (o)
		fx->o = *o;
	else
		fx->o.values = CT_MC_VALUES_HASH;
	sb_put(&fx->in, p, len);
	fx->seg[0] = (struct seg){ 0, 0, (uint32_t)len };
	fx->nseg = 1;
	struct run r = { fx, { 0 }, NULL, NULL };
	struct ct_mc *d = ct_malloc(sizeof *d);
	r.ts_at = ct_calloc(len + 1, sizeof *r.ts_at);
	if (!d || !r.ts_at)
		abort();
	r.d = d;
	if (ct_mc_init(d, (enum ct_mc_side)side, &fx->o, &test_cb, &r) != 0)
		abort();
	feed(&r, d, 0, (uint32_t)len, 5);
	ct_mc_end(d, 6);
	if (out_state)
		*out_state = *d;
	ct_free(d);
	ct_free(r.ts_at);
	ct_free(fx->in.p);
	ct_free(fx);
	return r.log.p ? r.log.p : ct_strdup("");
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
	struct sb s = { 0 };
	sb_put(&s, "get", 3);
	for (unsigned i = 0; i < 20000; i++)
		sb_printf(&s, " key%u", i);
	sb_put(&s, "\r\n", 2);
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
	struct sb s = { 0 };
	sb_put(&s, "get", 3);
	for (unsigned i = 0; i < 70000; i++)
		sb_put(&s, " k", 2);
	sb_put(&s, "\r\nget z\r\n", 9);
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
	struct sb s = { 0 };
	sb_printf(&s, "set k 0 0 %zu\r\n", vlen);
	size_t vstart = s.len;
	for (size_t i = 0; i < vlen; i++) {
		char c = (char)('a' + i % 26);
		sb_put(&s, &c, 1);
	}
	sb_put(&s, "\r\n", 2);
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
