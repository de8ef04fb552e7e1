/* Differential test of the RESP decoder (src/resp.c) against hiredis's redisReader, the reply
 * parser every C client uses. Debian 12 ships hiredis 0.14: RESP2 only, arrays nested at most 7
 * deep, so the generated replies stay inside that.
 *
 * Random RESP2 reply trees (fixed seeds) are serialized into pipelined streams and fed to both
 * parsers: hiredis whole, ours in random chunks. Both write the same structural log (pre-order:
 * type, index in the parent, depth, length, integer value, and the XXH3 of string contents) and
 * the logs must be identical. Then random garbage and mutated streams go to both: hiredis stops
 * at its first error, we resync; neither may crash, and our events must stay sane. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/read.h>

#include "cachetap/buf.h"
#include "cachetap/resp.h"
#include "tap.h"

/* ---- a growing buffer (test code; allocation through the shim) ---- */
/* Logs grow in the library's buffer (buf.h); a test that runs out of memory stops. */
static void put(struct ct_buf *b, const void *p, size_t n)
{
	if (ct_buf_add(b, p, n))
		abort();
}

static void putf(struct ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct ct_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ct_buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc)
		abort();
}

/* ---- random RESP2 replies ---- */
static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A line's text: printable, or (for bulk strings) any byte at all. */
static void gen_bytes(struct ct_buf *b, size_t n, int binary)
{
	static const char crlfish[] = "\r\n*$+-:0123456789";
	for (size_t i = 0; i < n; i++) {
		uint8_t c;
		if (!binary)
			c = (uint8_t)(0x20 + rnd() % 0x5f);
		else if (rnd() % 4 == 0) /* bytes that look like framing, often */
			c = (uint8_t)crlfish[rnd() % (sizeof crlfish - 1)];
		else
			c = (uint8_t)rnd();
		put(b, &c, 1);
	}
}

static size_t gen_len(void)
{
	switch (rnd() % 8) {
	case 0: return 0;
	case 1: return rnd() % 3;
	case 2: return 500 + rnd() % 100; /* around CT_RESP_ELEM_CAP_BYTES */
	case 3: return 1000 + rnd() % 5000;
	default: return rnd() % 40;
	}
}

static void gen_reply(struct ct_buf *b, int depth)
{
	unsigned kind = (unsigned)(rnd() % (depth < 6 ? 9 : 6));
	switch (kind) {
	case 0: /* status */
		put(b, "+", 1);
		gen_bytes(b, rnd() % 60, 0);
		put(b, "\r\n", 2);
		break;
	case 1: /* error */
		put(b, "-ERR ", 5);
		gen_bytes(b, rnd() % 60, 0);
		put(b, "\r\n", 2);
		break;
	case 2: { /* integer */
		static const long long edge[] = { 0, 1, -1, 9223372036854775807LL,
						  -9223372036854775807LL, 4611686018427387904LL };
		long long v = rnd() % 4 ? (long long)(rnd() % 2000001) - 1000000
					: edge[rnd() % (sizeof edge / sizeof edge[0])];
		putf(b, ":%lld\r\n", v);
		break;
	}
	case 3: /* null bulk */
		put(b, "$-1\r\n", 5);
		break;
	case 4:
	case 5: { /* bulk */
		size_t n = gen_len();
		putf(b, "$%zu\r\n", n);
		gen_bytes(b, n, 1);
		put(b, "\r\n", 2);
		break;
	}
	case 6: /* null array */
		put(b, "*-1\r\n", 5);
		break;
	default: { /* array */
		unsigned n = (unsigned)(rnd() % 6);
		putf(b, "*%u\r\n", n);
		for (unsigned i = 0; i < n; i++)
			gen_reply(b, depth + 1);
		break;
	}
	}
}

/* ---- hiredis side: object functions that write the log ---- */
static struct ct_buf *hlog;
static char dummy;

static int task_depth(const redisReadTask *t)
{
	int d = 0;
	for (const redisReadTask *q = t->parent; q; q = q->parent)
		d++;
	return d;
}

static void *h_string(const redisReadTask *t, char *s, size_t len)
{
	char c = t->type == REDIS_REPLY_STATUS ? '+' : t->type == REDIS_REPLY_ERROR ? '-' : '$';
	putf(hlog, "%c d=%d i=%d len=%zu h=%016llx\n", c, task_depth(t), t->idx < 0 ? 0 : t->idx,
	     len, (unsigned long long)XXH3_64bits(s, len));
	return &dummy;
}

static void *h_array(const redisReadTask *t, int n)
{
	putf(hlog, "* d=%d i=%d count=%d\n", task_depth(t), t->idx < 0 ? 0 : t->idx, n);
	return &dummy;
}

static void *h_integer(const redisReadTask *t, long long v)
{
	putf(hlog, ": d=%d i=%d v=%lld\n", task_depth(t), t->idx < 0 ? 0 : t->idx, v);
	return &dummy;
}

static void *h_nil(const redisReadTask *t)
{
	putf(hlog, "nil d=%d i=%d\n", task_depth(t), t->idx < 0 ? 0 : t->idx);
	return &dummy;
}

static void h_free(void *p)
{
	(void)p;
}

static redisReplyObjectFunctions hfn = { h_string, h_array, h_integer, h_nil, h_free };

/* Feeds hiredis the whole stream and logs every reply; returns 0, or -1 on a reader error. */
static int hiredis_log(const char *p, size_t n, struct ct_buf *log)
{
	redisReader *r = redisReaderCreateWithFunctions(&hfn);
	if (!r)
		abort();
	hlog = log;
	int rc = 0;
	if (redisReaderFeed(r, p, n) != REDIS_OK)
		abort();
	for (;;) {
		void *reply = NULL;
		if (redisReaderGetReply(r, &reply) != REDIS_OK) {
			rc = -1;
			break;
		}
		if (!reply)
			break;
		put(log, "MSG\n", 4);
	}
	redisReaderFree(r);
	return rc;
}

/* ---- our side: the same log from the decoder's events ---- */
struct ours {
	struct ct_buf *log;
	uint64_t total, bad;
};

static void o_elem(void *ctx, const struct ct_resp_elem *e)
{
	struct ours *o = ctx;
	if (e->flags & CT_RESP_EF_NULL) {
		putf(o->log, "nil d=%u i=%u\n", e->depth, e->index);
	} else if (e->type == ':') {
		putf(o->log, ": d=%u i=%u v=%lld\n", e->depth, e->index, (long long)e->ival);
	} else {
		/* simple strings are never cut here (< CT_RESP_ELEM_CAP_BYTES): hash what we got */
		uint64_t h = e->type == '$' ? e->hash : XXH3_64bits(e->p, e->n);
		putf(o->log, "%c d=%u i=%u len=%lld h=%016llx\n", e->type, e->depth, e->index,
		     (long long)e->len, (unsigned long long)h);
	}
	if (e->last_off >= o->total || e->off > e->last_off)
		o->bad++;
}

static void o_begin(void *ctx, const struct ct_resp_agg *a)
{
	struct ours *o = ctx;
	putf(o->log, "* d=%u i=%u count=%lld\n", a->depth, a->index, (long long)a->count);
}

static void o_msg(void *ctx, const struct ct_resp_msg *m)
{
	struct ours *o = ctx;
	put(o->log, "MSG\n", 4);
	if (m->last_off >= o->total || m->first_off > m->last_off)
		o->bad++;
}

static const struct ct_resp_cb ocb = { o_elem, o_begin, NULL, o_msg, NULL, NULL };

/* Feeds our decoder in random chunks (each a fresh heap copy); returns the error count. */
static uint64_t ours_log(const char *p, size_t n, int max_chunk, struct ct_buf *log, uint64_t *bad)
{
	struct ct_resp *d = ct_malloc(sizeof *d);
	if (!d || ct_resp_init(d, CT_RESP_SIDE_SERVER, NULL) != 0)
		abort();
	struct ours o = { log, n, 0 };
	size_t pos = 0;
	while (pos < n) {
		size_t k = max_chunk ? 1 + rnd() % (uint64_t)max_chunk : n - pos;
		if (k > n - pos)
			k = n - pos;
		uint8_t *copy = ct_malloc(k);
		if (!copy)
			abort();
		memcpy(copy, p + pos, k);
		(void)ct_resp_feed(d, pos, copy, (uint32_t)k, 1, &ocb, &o);
		ct_free(copy);
		pos += k;
	}
	ct_resp_end(d, 2, &ocb, &o);
	uint64_t errors = d->c.errors;
	ct_free(d);
	*bad += o.bad;
	return errors;
}

static void test_differential(void)
{
	int streams = 0, replies = 0, same = 0, herr = 0, oerr = 0;
	for (uint64_t seed = 1; seed <= 400; seed++) {
		rng = seed * 0x9E3779B97F4A7C15ull;
		struct ct_buf s = { 0 };
		int n = 1 + (int)(rnd() % 15);
		for (int i = 0; i < n; i++)
			gen_reply(&s, 0);
		replies += n;
		streams++;
		struct ct_buf hl = { 0 };
		if (hiredis_log(s.p, s.len, &hl) != 0)
			herr++;
		static const int chunkings[] = { 0, 1, 7, 100, 3000 };
		int all = 1;
		uint64_t bad = 0;
		for (size_t c = 0; c < sizeof chunkings / sizeof chunkings[0]; c++) {
			struct ct_buf ol = { 0 };
			if (ours_log(s.p, s.len, chunkings[c], &ol, &bad) != 0)
				oerr++;
			const char *h = hl.p ? hl.p : "", *o = ol.p ? ol.p : "";
			if (strcmp(h, o) != 0) {
				if (all) {
					size_t i = 0, line = 1;
					while (h[i] && h[i] == o[i])
						line += h[i++] == '\n';
					diag("seed %llu, chunks up to %d: logs differ at line %zu",
					     (unsigned long long)seed, chunkings[c], line);
					diag("  hiredis: %.80s", h + i);
					diag("  ours:    %.80s", o + i);
				}
				all = 0;
			}
			ct_free(ol.p);
		}
		same += all && !bad;
		ct_free(hl.p);
		ct_free(s.p);
	}
	is_int(herr, 0, "hiredis accepted every generated stream");
	is_int(oerr, 0, "we decoded every generated stream without an error");
	is_int(same, streams, "%d streams, %d replies: same structure, values and hashes as hiredis, "
	       "whole and in chunks of 1..7, 1..100, 1..3000 bytes", streams, replies);
}

static void test_garbage(void)
{
	uint64_t bad = 0, ours_err = 0, hiredis_err = 0;
	int runs = 0;
	rng = 12345;
	for (int iter = 0; iter < 1500; iter++) {
		struct ct_buf s = { 0 };
		if (iter % 2 == 0) {
			gen_bytes(&s, 100 + rnd() % 3000, 1);
		} else {
			while (s.len < 2000)
				gen_reply(&s, 0);
			for (int k = 0; k < 5; k++) /* mutate a few bytes */
				s.p[rnd() % s.len] = (char)rnd();
		}
		struct ct_buf hl = { 0 }, ol = { 0 };
		hiredis_err += hiredis_log(s.p, s.len, &hl) != 0;
		ours_err += ours_log(s.p, s.len, 1 + iter % 500, &ol, &bad) != 0;
		runs++;
		ct_free(hl.p);
		ct_free(ol.p);
		ct_free(s.p);
	}
	ok(1, "%d garbage streams: neither parser crashed (hiredis stopped on %llu, we resynced "
	   "through errors in %llu)", runs, (unsigned long long)hiredis_err,
	   (unsigned long long)ours_err);
	is_int(bad, 0, "our offsets stayed sane on garbage");
	ok(ours_err > 0, "garbage does produce errors on our side");
}

int main(void)
{
	test_differential();
	test_garbage();
	return done_testing();
}
