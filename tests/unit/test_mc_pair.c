/* Tests for the memcached protocol module (src/mc_pair.c) and its table (src/cmdtab_mc.c).
 *
 * Conversations are fixture files (tests/fixtures/mc_pair/NAME.txt), one directive per line:
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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/cmdtab_mc.h"
#include "cachetap/flow.h"
#include "cachetap/limits.h"
#include "cachetap/proto.h"
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
		if (c == '\\')
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
enum { S_TCP, S_UDP, S_GAP, S_CLOSE, S_AT };

struct step {
	int kind, conn, dir;
	uint64_t t;      /* S_AT */
	size_t off, len; /* bytes in the case's data buffer; S_GAP: len = bytes lost */
};

#define MAX_STEPS 512
#define MAX_CONNS 4
#define MAX_VALUES 32

struct fx {
	char name[160];
	int line;
	struct sb data; /* every packet's bytes, one after another */
	struct step step[MAX_STEPS];
	int nstep;
	int midstream[MAX_CONNS + 1], values_none[MAX_CONNS + 1];
	int cur_midstream, cur_values_none, cur_conn;
	char *value[MAX_VALUES];
	uint64_t value_hash[MAX_VALUES];
	int nvalue;
	struct sb out;
};

/* ---- a run ---- */
struct run {
	const struct fx *fx;
	struct sb log;
	struct ct_proto_stats stats;
};

static void log_event(void *ctx, const struct ct_event *ev)
{
	struct run *r = ctx;
	struct sb *s = &r->log;
	sb_printf(s, "c%llu t=", (unsigned long long)ev->conn_id);
	if (ev->first_ts_ns != ev->ts_ns)
		sb_printf(s, "%llu..", (unsigned long long)ev->first_ts_ns);
	sb_printf(s, "%llu %.*s %s", (unsigned long long)ev->ts_ns, (int)ev->cmd_len, ev->cmd,
		  ct_class_name(ev->cls));
	if (ev->flags & CT_EV_HAS_KEY) {
		sb_put(s, " key=", 5);
		sb_esc(s, ev->key, ev->key_len);
	}
	sb_printf(s, " %s", ct_status_name(ev->status));
	if (ev->flags & CT_EV_HAS_LATENCY)
		sb_printf(s, " lat=%llu", (unsigned long long)ev->latency_ns);
	if (ev->flags & CT_EV_HAS_VALUE) {
		int i;
		for (i = 0; i < r->fx->nvalue; i++)
			if (r->fx->value_hash[i] == ev->value_hash)
				break;
		if (i < r->fx->nvalue)
			sb_printf(s, " v=\"%s\"", r->fx->value[i]);
		else
			sb_printf(s, " v=#%016llx", (unsigned long long)ev->value_hash);
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
			sb_printf(s, "%s%s", sep, fl[i].name);
			sep = ",";
		}
	}
	if (ev->detail)
		sb_printf(s, " d=\"%s\"", ev->detail);
	/* invariants every event keeps */
	if (ev->proto != CT_PROTO_MEMCACHED || ev->dir != CT_C2S || ev->via != CT_VIA_COMMAND ||
	    ev->db != -1 || !ev->cmd || ev->cmd_len == 0 || ev->first_ts_ns > ev->ts_ns ||
	    (!(ev->flags & CT_EV_HAS_KEY) && ev->key_len))
		sb_put(s, " INVARIANT!", 11);
	sb_put(s, "\n", 1);
}

static void log_stats(struct sb *s, const struct ct_proto_stats *st)
{
	sb_printf(s,
		  "stats msgs=%llu events=%llu perr=%llu resyncs=%llu unmatched=%llu "
		  "unanswered=%llu overflow=%llu\n",
		  (unsigned long long)st->messages, (unsigned long long)st->events,
		  (unsigned long long)st->parse_errors, (unsigned long long)st->resyncs,
		  (unsigned long long)st->unmatched_replies, (unsigned long long)st->unanswered,
		  (unsigned long long)st->pending_overflow);
}

static void feed(const struct ct_proto_ops *ops, void *conn, int dir, uint64_t off,
		 const char *p, size_t len, uint64_t ts)
{
	uint8_t *copy = ct_malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, p, len);
	ops->data(conn, dir, off, copy, (uint32_t)len, ts);
	ct_free(copy);
}

/* mode 0: whole packets; 1: split at byte `at` of direction `sdir`; 2: one byte at a time */
static void run_case(const struct fx *fx, int mode, int sdir, uint64_t at, struct sb *log)
{
	const struct ct_proto_ops *ops = &ct_proto_memcached;
	struct run r;
	memset(&r, 0, sizeof r);
	r.fx = fx;
	struct ct_emit emit = { log_event, &r };
	struct ct_proto_config cfg[2] = { { CT_VALUES_HASH, NULL, 0 }, { CT_VALUES_NONE, NULL, 0 } };
	void *conn[MAX_CONNS + 1] = { 0 };
	uint64_t off[MAX_CONNS + 1][2] = { { 0 } };
	uint64_t dirpos[2] = { 0, 0 }; /* position in each direction's concatenated TCP bytes */
	uint64_t t = 0;

	for (int i = 0; i < fx->nstep; i++) {
		const struct step *g = &fx->step[i];
		if (g->kind == S_AT) {
			t = g->t;
			continue;
		}
		if (!conn[g->conn]) {
			if (g->kind == S_CLOSE)
				continue;
			struct ct_proto_open o = { (uint64_t)g->conn, fx->midstream[g->conn],
						   &cfg[fx->values_none[g->conn]], &emit, &r.stats };
			conn[g->conn] = ops->open(&o);
			if (!conn[g->conn])
				abort();
		}
		void *cn = conn[g->conn];
		const char *p = fx->data.p + g->off;
		uint64_t *o = &off[g->conn][g->dir];
		t += 10;
		switch (g->kind) {
		case S_TCP: {
			uint64_t start = dirpos[g->dir];
			dirpos[g->dir] += g->len;
			if (mode == 2) {
				for (size_t k = 0; k < g->len; k++)
					feed(ops, cn, g->dir, *o + k, p + k, 1, t);
			} else if (mode == 1 && g->dir == sdir && at > start && at < start + g->len) {
				size_t k = (size_t)(at - start);
				feed(ops, cn, g->dir, *o, p, k, t);
				feed(ops, cn, g->dir, *o + k, p + k, g->len - k, t);
			} else {
				feed(ops, cn, g->dir, *o, p, g->len, t);
			}
			*o += g->len;
			break;
		}
		case S_UDP: {
			uint8_t *copy = ct_malloc(g->len);
			if (!copy)
				abort();
			memcpy(copy, p, g->len);
			ops->datagram(cn, g->dir, copy, (uint32_t)g->len, t);
			ct_free(copy);
			break;
		}
		case S_GAP:
			ops->gap(cn, g->dir, *o, g->len, t);
			*o += g->len;
			break;
		case S_CLOSE:
			ops->close(cn, t);
			conn[g->conn] = NULL;
			break;
		}
	}
	for (int k = 0; k <= MAX_CONNS; k++) {
		if (conn[k]) {
			t += 10;
			ops->close(conn[k], t);
		}
	}
	log_stats(&r.log, &r.stats);
	*log = r.log;
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
	const char *want = fx->out.p ? fx->out.p : "";
	uint64_t dlen[2] = { 0, 0 };
	for (int i = 0; i < fx->nstep; i++)
		if (fx->step[i].kind == S_TCP)
			dlen[fx->step[i].dir] += fx->step[i].len;

	struct sb log;
	run_case(fx, 0, 0, 0, &log);
	if (getenv("MC_PAIR_PRINT"))
		printf("=== %s\n%s", fx->name, log.p ? log.p : "");
	int good = log.p && strcmp(log.p, want) == 0;
	ok(good, "%s (line %d): whole", fx->name, fx->line);
	if (!good)
		diag_diff(log.p ? log.p : "", want);
	ct_free(log.p);

	for (int dir = 0; dir < 2; dir++) {
		int all = 1;
		uint64_t bad_at = 0;
		for (uint64_t at = 1; at < dlen[dir] && all; at++) {
			run_case(fx, 1, dir, at, &log);
			if (!log.p || strcmp(log.p, want) != 0) {
				all = 0;
				bad_at = at;
				diag_diff(log.p ? log.p : "", want);
			}
			ct_free(log.p);
		}
		ok(all, "%s: split %s at every byte", fx->name, dir == CT_C2S ? "c2s" : "s2c");
		if (!all)
			diag("split at byte %llu", (unsigned long long)bad_at);
	}
	run_case(fx, 2, 0, 0, &log);
	good = log.p && strcmp(log.p, want) == 0;
	ok(good, "%s: one byte at a time", fx->name);
	if (!good)
		diag_diff(log.p ? log.p : "", want);
	ct_free(log.p);
}

/* ---- fixture parsing ---- */

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

static void hex_into(struct sb *s, const char *p)
{
	while (*p) {
		if (*p == ' ') {
			p++;
			continue;
		}
		int hi = hexval(p[0]), lo = hi >= 0 ? hexval(p[1]) : -1;
		if (lo < 0) {
			fprintf(stderr, "bad hex: %s\n", p);
			abort();
		}
		char b = (char)(hi << 4 | lo);
		sb_put(s, &b, 1);
		p += 2;
	}
}

static struct step *add_step(struct fx *fx, int kind, int dir)
{
	if (fx->nstep == MAX_STEPS)
		abort();
	struct step *g = &fx->step[fx->nstep++];
	memset(g, 0, sizeof *g);
	g->kind = kind;
	g->conn = fx->cur_conn;
	g->dir = dir;
	g->off = fx->data.len;
	if (kind != S_AT) {
		fx->midstream[g->conn] = fx->cur_midstream;
		fx->values_none[g->conn] = fx->cur_values_none;
	}
	return g;
}

static void fx_free(struct fx *fx)
{
	ct_free(fx->data.p);
	ct_free(fx->out.p);
	for (int i = 0; i < fx->nvalue; i++)
		ct_free(fx->value[i]);
	ct_free(fx);
}

/* UDP frame header: request id, sequence, total, reserved (big endian). */
static void udp_header(struct sb *s, unsigned id, unsigned seq, unsigned total)
{
	char h[8] = { (char)(id >> 8), (char)id, (char)(seq >> 8), (char)seq,
		      (char)(total >> 8), (char)total, 0, 0 };
	sb_put(s, h, 8);
}

/* Runs every case of one fixture file. */
static void run_fixture_file(const char *name)
{
	char path[200];
	snprintf(path, sizeof path, "tests/fixtures/mc_pair/%s", name);
	FILE *f = fopen(path, "r");
	ok(f != NULL, "open %s", path);
	if (!f)
		return;
	static char line[70000];
	struct fx *fx = NULL;
	int lineno = 0;
	for (;;) {
		char *got = fgets(line, sizeof line, f);
		if (got) {
			lineno++;
			size_t n = strlen(line);
			while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = 0;
		}
		if (!got || strncmp(line, "=== ", 4) == 0) {
			if (fx) {
				check_case(fx);
				fx_free(fx);
				fx = NULL;
			}
			if (!got)
				break;
			fx = ct_calloc(1, sizeof *fx);
			if (!fx)
				abort();
			snprintf(fx->name, sizeof fx->name, "%.40s: %.100s", name, line + 4);
			fx->line = lineno;
			fx->cur_conn = 1;
			continue;
		}
		if (line[0] == '#' || line[0] == 0)
			continue;
		if (!fx) {
			fprintf(stderr, "%s:%d: directive before a case\n", path, lineno);
			abort();
		}
		unsigned a, b, c;
		int pos = 0;
		if (strncmp(line, "opts", 4) == 0) {
			fx->cur_midstream = strstr(line, "midstream") != NULL;
			fx->cur_values_none = strstr(line, "values=none") != NULL;
		} else if (sscanf(line, "conn %u", &a) == 1 && a >= 1 && a <= MAX_CONNS) {
			fx->cur_conn = (int)a;
		} else if (strncmp(line, "value ", 6) == 0 || strcmp(line, "value") == 0) {
			if (fx->nvalue == MAX_VALUES)
				abort();
			struct sb v = { 0 };
			unescape_into(&v, line[5] ? line + 6 : "");
			fx->value_hash[fx->nvalue] = XXH3_64bits(v.p ? v.p : "", v.len);
			fx->value[fx->nvalue++] = v.p ? v.p : ct_strdup("");
		} else if (strncmp(line, "c> ", 3) == 0 || strncmp(line, "s> ", 3) == 0) {
			struct step *g = add_step(fx, S_TCP, line[0] == 'c' ? CT_C2S : CT_S2C);
			unescape_into(&fx->data, line + 3);
			g->len = fx->data.len - g->off;
		} else if (strncmp(line, "cx ", 3) == 0 || strncmp(line, "sx ", 3) == 0) {
			struct step *g = add_step(fx, S_TCP, line[0] == 'c' ? CT_C2S : CT_S2C);
			hex_into(&fx->data, line + 3);
			g->len = fx->data.len - g->off;
		} else if ((line[0] == 'c' || line[0] == 's') &&
			   sscanf(line + 1, "uf %u %u %u %n", &a, &b, &c, &pos) == 3 && pos) {
			struct step *g = add_step(fx, S_UDP, line[0] == 'c' ? CT_C2S : CT_S2C);
			udp_header(&fx->data, a, b, c);
			unescape_into(&fx->data, line + 1 + pos);
			g->len = fx->data.len - g->off;
		} else if ((line[0] == 'c' || line[0] == 's') &&
			   sscanf(line + 1, "u %u %n", &a, &pos) == 1 && pos) {
			struct step *g = add_step(fx, S_UDP, line[0] == 'c' ? CT_C2S : CT_S2C);
			udp_header(&fx->data, a, 0, 1);
			unescape_into(&fx->data, line + 1 + pos);
			g->len = fx->data.len - g->off;
		} else if (sscanf(line, "gap c %u", &a) == 1) {
			add_step(fx, S_GAP, CT_C2S)->len = a;
		} else if (sscanf(line, "gap s %u", &a) == 1) {
			add_step(fx, S_GAP, CT_S2C)->len = a;
		} else if (strcmp(line, "close") == 0) {
			add_step(fx, S_CLOSE, 0);
		} else if (sscanf(line, "at %u", &a) == 1) {
			add_step(fx, S_AT, 0)->t = a;
		} else if (strncmp(line, "out ", 4) == 0) {
			sb_put(&fx->out, line + 4, strlen(line + 4));
			sb_put(&fx->out, "\n", 1);
		} else {
			fprintf(stderr, "%s:%d: unknown directive: %s\n", path, lineno, line);
			abort();
		}
	}
	fclose(f);
}

/* ---- tests written in C: caps, allocation failures, the table ---- */

struct counter {
	struct sb log;
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
		sb_printf(&k->log, "%.*s %s ", (int)ev->cmd_len, ev->cmd, ct_status_name(ev->status));
		if (ev->flags & CT_EV_HAS_KEY)
			sb_put(&k->log, (const char *)ev->key, ev->key_len);
		if (ev->detail)
			sb_printf(&k->log, " (%s)", ev->detail);
		sb_put(&k->log, "\n", 1);
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
	struct ct_emit emit = { count_event, &k };
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
	struct ct_emit emit = { count_event, &k };
	struct ct_proto_open o = { 8, 0, NULL, &emit, &st };
	void *c = ct_proto_memcached.open(&o);
	ok(c != NULL, "arena: open");
	uint64_t off[2] = { 0, 0 };
	const uint32_t nkeys = CT_MC_PAIR_ARENA_MAX_BYTES / 200 + 100; /* 200-byte keys */
	struct sb req = { 0 };
	char key[201];
	sb_put(&req, "get", 3);
	for (uint32_t i = 0; i < nkeys; i++) {
		snprintf(key, sizeof key, "%0200u", i);
		sb_put(&req, " ", 1);
		sb_put(&req, key, 200);
	}
	sb_put(&req, "\r\n", 2);
	send_str(c, CT_C2S, &off[CT_C2S], req.p, 10);
	const uint32_t kept = CT_MC_PAIR_ARENA_MAX_BYTES / 201;
	is_int(st.pending_overflow, nkeys - kept, "arena: keys that did not fit are counted");
	/* hits for the first key and the last (not kept) one */
	struct sb rep = { 0 };
	snprintf(key, sizeof key, "%0200u", 0u);
	sb_printf(&rep, "VALUE %s 0 1\r\na\r\n", key);
	snprintf(key, sizeof key, "%0200u", nkeys - 1);
	sb_printf(&rep, "VALUE %s 0 1\r\nb\r\nEND\r\n", key);
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
	struct ct_emit emit = { count_event, &k };
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
		struct ct_emit emit = { count_event, &k };
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
	struct ct_emit emit = { off_event, NULL };
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
	run_fixture_file("text.txt");
	run_fixture_file("meta.txt");
	run_fixture_file("binary.txt");
	run_fixture_file("udp.txt");
	run_fixture_file("mess.txt");
	test_pending_cap();
	test_arena_cap();
	test_scan_budget();
	test_alloc_failures();
	test_stream_off();
	return done_testing();
}
