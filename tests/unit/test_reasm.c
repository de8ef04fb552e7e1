/* Unit tests for src/reasm.c (TCP reassembly of one direction): in order, 1-byte segments,
 * shuffles, duplicates, overlaps (first copy wins), sequence wrap (once and past 2^32 bytes),
 * mid-stream pickup, gaps by time and at flush, queue and memory caps, snaplen cuts, FIN,
 * bogus segments, the offset -> timestamp map, and a randomized comparison with a byte-level
 * model. Every test checks the coverage invariant: callbacks cover [0, next_off) in order with
 * no overlap and no hole. */
#include <stdlib.h>
#include <string.h>

#include "cachetap/net.h"
#include "cachetap/reasm.h"
#include "tap.h"

#define MS 1000000ull
#define WAIT CT_REASM_GAP_WAIT_NS
#define ACK CT_TCP_ACK
#define SYN CT_TCP_SYN
#define FIN CT_TCP_FIN

/* ---- helpers ---- */

static void *xrealloc(void *p, size_t n)
{
	void *q = ct_realloc(p, n);
	if (!q) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return q;
}

/* Stream content: a different byte at every offset, so a shifted copy never matches. */
static uint8_t pat(uint64_t off)
{
	uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ull;
	x ^= x >> 29;
	return (uint8_t)(x >> 24);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t rng_state;
static uint64_t rnd64(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}
static uint32_t rnd(uint32_t n) /* 0 .. n-1 */
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

/* ---- a recording consumer ---- */

struct ev {
	int gap;
	uint64_t off, len, ts;
	size_t at; /* data: index of its first byte in rec.buf */
};

struct rec {
	const struct ct_reasm *r;
	struct ev *ev;
	size_t nev, evcap;
	uint8_t *buf;
	size_t blen, bcap;
	const uint8_t *last_p;
	uint64_t expect;             /* where the next callback must start */
	int order_bad, state_bad, ts_bad;
};

static struct ev *rec_push(struct rec *c)
{
	if (c->nev == c->evcap) {
		c->evcap = c->evcap ? 2 * c->evcap : 64;
		c->ev = xrealloc(c->ev, c->evcap * sizeof *c->ev);
	}
	return &c->ev[c->nev++];
}

/* Grows the recorder ahead of time, so that a test can count reasm's own allocations. */
static void rec_reserve(struct rec *c, size_t nev, size_t bytes)
{
	if (c->evcap < nev) {
		c->evcap = nev;
		c->ev = xrealloc(c->ev, nev * sizeof *c->ev);
	}
	if (c->bcap < bytes) {
		c->bcap = bytes;
		c->buf = xrealloc(c->buf, bytes);
	}
}

static void on_data(void *ctx, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts)
{
	struct rec *c = ctx;
	uint64_t got;
	if (off != c->expect || len == 0)
		c->order_bad++;
	c->expect = off + len;
	if (c->r->next_off < off + len)
		c->state_bad++;
	if (ct_reasm_ts_at(c->r, off, &got) != 0 || got != ts ||
	    ct_reasm_ts_at(c->r, off + len - 1, &got) != 0 || got != ts)
		c->ts_bad++;
	struct ev *e = rec_push(c);
	*e = (struct ev){ 0, off, len, ts, c->blen };
	if (c->blen + len > c->bcap) {
		c->bcap = 2 * (c->blen + len);
		c->buf = xrealloc(c->buf, c->bcap);
	}
	memcpy(c->buf + c->blen, p, len);
	c->blen += len;
	c->last_p = p;
}

static void on_gap(void *ctx, uint64_t off, uint64_t len, uint64_t ts)
{
	struct rec *c = ctx;
	uint64_t got;
	if (off != c->expect || len == 0)
		c->order_bad++;
	c->expect = off + len;
	if (c->r->next_off < off + len || !(c->r->flags & CT_REASM_F_HAS_GAP))
		c->state_bad++;
	if (ct_reasm_ts_at(c->r, off, &got) != CT_EINVAL)
		c->ts_bad++;
	*rec_push(c) = (struct ev){ 1, off, len, ts, 0 };
}

static const struct ct_reasm_cb cb = { on_data, on_gap };

/* One direction with its own shared struct (tests of sharing build their own). */
struct t {
	struct ct_reasm r;
	struct ct_reasm_shared sh;
	struct rec rec;
};

static void t_init(struct t *t)
{
	memset(t, 0, sizeof *t);
	ct_reasm_init(&t->r);
	t->sh.mem_max_bytes = CT_REASM_MEM_MAX_BYTES;
	t->rec.r = &t->r;
}

static void rec_fini(struct rec *c)
{
	ct_free(c->ev);
	ct_free(c->buf);
}

static void t_fini(struct t *t)
{
	ct_reasm_free(&t->r, &t->sh);
	rec_fini(&t->rec);
}

static int seg(struct t *t, uint32_t seq, uint8_t fl, const uint8_t *p, uint32_t cap,
	       uint32_t wire, uint64_t ts)
{
	return ct_reasm_segment(&t->r, &t->sh, seq, fl, p, cap, wire, ts, &cb, &t->rec);
}

/* Offers pattern bytes pat(base+0 ..) in a buffer of exactly `cap` bytes (so ASan catches any
 * over-read), freed right after the call (so it catches any pointer kept). */
static int segp(struct t *t, uint32_t seq, uint8_t fl, uint64_t base, uint32_t cap,
		uint32_t wire, uint64_t ts)
{
	uint8_t *b = ct_malloc(cap ? cap : 1);
	if (!b)
		return CT_ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		b[i] = pat(base + i);
	int rc = seg(t, seq, fl, b, cap, wire, ts);
	ct_free(b);
	return rc;
}

static void tick(struct t *t, uint64_t now)
{
	ct_reasm_tick(&t->r, &t->sh, now, &cb, &t->rec);
}

static void flush(struct t *t, uint64_t now)
{
	ct_reasm_flush(&t->r, &t->sh, now, &cb, &t->rec);
}

/* "D0+100 G100+50 ..." */
static const char *events(const struct rec *c)
{
	static char s[8192];
	size_t n = 0;
	s[0] = 0;
	for (size_t i = 0; i < c->nev && n < sizeof s - 64; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "%s%c%llu+%llu", i ? " " : "",
				      c->ev[i].gap ? 'G' : 'D', (unsigned long long)c->ev[i].off,
				      (unsigned long long)c->ev[i].len);
	return s;
}

/* "100+50 300+10": the gap list alone. */
static const char *gaps(const struct rec *c)
{
	static char s[8192];
	size_t n = 0;
	s[0] = 0;
	for (size_t i = 0; i < c->nev && n < sizeof s - 64; i++)
		if (c->ev[i].gap)
			n += (size_t)snprintf(s + n, sizeof s - n, "%s%llu+%llu", n ? " " : "",
					      (unsigned long long)c->ev[i].off,
					      (unsigned long long)c->ev[i].len);
	return s;
}

/* Bytes delivered at offset o must be pat(shift + o). Returns the number of wrong bytes. */
static uint64_t bad_bytes(const struct rec *c, uint64_t shift)
{
	uint64_t bad = 0;
	for (size_t i = 0; i < c->nev; i++) {
		if (c->ev[i].gap)
			continue;
		for (uint64_t k = 0; k < c->ev[i].len; k++)
			bad += c->buf[c->ev[i].at + k] != pat(shift + c->ev[i].off + k);
	}
	return bad;
}

static void check_cover(const struct t *t, const char *name)
{
	ok(t->rec.order_bad == 0 && t->rec.expect == t->r.next_off,
	   "%s: callbacks cover [0, %llu) in order (bad %d, end %llu)", name,
	   (unsigned long long)t->r.next_off, t->rec.order_bad,
	   (unsigned long long)t->rec.expect);
	is_int(t->rec.state_bad, 0, "%s: struct updated before each callback", name);
	is_int(t->rec.ts_bad, 0, "%s: ts_at inside callbacks", name);
}

#define FIELDS(X)                                                                            \
	X(segments) X(bytes_delivered) X(dup_bytes) X(overlap_bytes) X(conflict_bytes)       \
	X(ooo_segments) X(gaps) X(gap_bytes) X(cap_hits) X(bogus_segments) X(before_start)   \
	X(snap_cut_bytes)

/* Every counter, exactly (fields not given are expected 0), and the totals equal to it. */
static void check_counters(const struct t *t, struct ct_reasm_counters want, const char *name)
{
#define X(f) is_int(t->r.c.f, want.f, "%s: counter " #f, name);
	FIELDS(X)
#undef X
	ok(memcmp(&t->r.c, &t->sh.c, sizeof t->r.c) == 0, "%s: shared totals = direction", name);
}

static void check_empty(const struct t *t, const char *name)
{
	is_int(t->sh.mem_bytes, 0, "%s: shared memory back to 0", name);
	is_int(t->r.ooo_segs, 0, "%s: no queued segment", name);
	is_int(t->r.ooo_bytes, 0, "%s: no queued byte", name);
	ok(t->r.ooo == NULL && t->r.ooo_tail == NULL, "%s: queue pointers cleared", name);
}

#define SEGCOST(n) ((uint64_t)(n) + CT_REASM_SEG_OVERHEAD_BYTES)

/* ---- tests ---- */

static void test_in_order(void)
{
	struct t t;
	t_init(&t);
	const uint32_t isn = 1000;
	uint8_t stream[1000];
	for (int i = 0; i < 1000; i++)
		stream[i] = pat((uint64_t)i);

	is_int(seg(&t, isn, SYN, NULL, 0, 0, 1), 0, "in order: SYN");
	is_int(t.r.flags, CT_REASM_F_STARTED | CT_REASM_F_SYN, "in order: SYN sets the origin");
	is_int(t.r.next_seq, isn + 1, "in order: next_seq = ISN+1");
	is_int(seg(&t, isn, SYN, NULL, 0, 0, 2), 0, "in order: repeated SYN");
	is_int(t.r.next_seq, isn + 1, "in order: repeated SYN ignored");

	rec_reserve(&t.rec, 16, sizeof stream);
	ct_alloc_fail_at(0);
	int zero_copy = 1;
	for (uint32_t i = 0; i < 10; i++) {
		is_int(seg(&t, isn + 1 + 100 * i, ACK, stream + 100 * i, 100, 100, 10 + i), 0,
		       "in order: segment %u", i);
		zero_copy &= t.rec.last_p == stream + 100 * i;
		/* pure ACKs in between change nothing */
		is_int(seg(&t, isn + 1 + 100 * (i + 1), ACK, NULL, 0, 0, 10 + i), 0,
		       "in order: pure ACK %u", i);
	}
	is_int(ct_alloc_count(), 0, "in order: no allocation on the in-order path");
	ok(zero_copy, "in order: data handed out from the caller's buffer");
	is_int(seg(&t, isn + 1001, FIN | ACK, NULL, 0, 0, 30), 0, "in order: FIN");
	is_int(t.r.flags,
	       CT_REASM_F_STARTED | CT_REASM_F_SYN | CT_REASM_F_FIN | CT_REASM_F_DONE,
	       "in order: flags after FIN");
	is_int(t.r.fin_seq, isn + 1001, "in order: fin_seq");
	is_int(t.r.next_seq, isn + 1001, "in order: next_seq");
	is_str(events(&t.rec),
	       "D0+100 D100+100 D200+100 D300+100 D400+100 D500+100 D600+100 D700+100 "
	       "D800+100 D900+100",
	       "in order: events");
	is_mem(t.rec.buf, t.rec.blen, stream, sizeof stream, "in order: bytes");
	check_cover(&t, "in order");
	check_counters(&t, (struct ct_reasm_counters){ .segments = 10, .bytes_delivered = 1000 },
		       "in order");
	t_fini(&t);
	check_empty(&t, "in order");
}

static void test_one_byte(void)
{
	struct t t;
	t_init(&t);
	const uint32_t isn = 7;
	seg(&t, isn, SYN, NULL, 0, 0, 0);
	for (uint32_t i = 0; i < 300; i++)
		segp(&t, isn + 1 + i, ACK, i, 1, 1, 1 + i);
	is_int(t.rec.nev, 300, "1-byte: 300 in-order callbacks");
	/* then 200 one-byte segments backwards: all queued until the first arrives */
	uint32_t maxq = 0;
	for (uint32_t i = 499; i >= 300; i--) {
		segp(&t, isn + 1 + i, ACK, i, 1, 1, 1000 + i);
		if (t.r.ooo_segs > maxq)
			maxq = t.r.ooo_segs;
	}
	is_int(maxq, 199, "1-byte: 199 queued at most");
	is_int(t.r.next_off, 500, "1-byte: all delivered");
	is_int(bad_bytes(&t.rec, 0), 0, "1-byte: bytes");
	is_int(t.rec.blen, 500, "1-byte: byte count");
	check_cover(&t, "1-byte");
	check_counters(&t, (struct ct_reasm_counters){ .segments = 500, .bytes_delivered = 500,
						       .ooo_segments = 199 },
		       "1-byte");
	check_empty(&t, "1-byte");
	t_fini(&t);
}

static void test_shuffled(uint64_t seed)
{
	char name[64];
	snprintf(name, sizeof name, "shuffle seed %llu", (unsigned long long)seed);
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
	struct t t;
	t_init(&t);
	const uint32_t isn = (uint32_t)rnd64(), n = 20000;
	enum { MAXS = 400 };
	uint64_t off[MAXS], len[MAXS];
	int k = 0;
	for (uint64_t o = 0; o < n; k++) {
		off[k] = o;
		len[k] = 1 + rnd(400);
		if (o + len[k] > n)
			len[k] = n - o;
		o += len[k];
	}
	int order[MAXS], have[MAXS] = { 0 };
	for (int i = 0; i < k; i++)
		order[i] = i;
	for (int i = k - 1; i > 0; i--) {
		int j = (int)rnd((uint32_t)i + 1), x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	seg(&t, isn, SYN, NULL, 0, 0, 0);
	int front = 0;
	uint64_t expect_ooo = 0;
	for (int i = 0; i < k; i++) {
		int s = order[i];
		expect_ooo += s != front;
		have[s] = 1;
		while (front < k && have[front])
			front++;
		segp(&t, isn + 1 + (uint32_t)off[s], ACK, off[s], (uint32_t)len[s],
		     (uint32_t)len[s], 1 + (uint64_t)i);
	}
	is_int(t.r.next_off, n, "%s: everything delivered", name);
	is_int(bad_bytes(&t.rec, 0), 0, "%s: bytes", name);
	is_str(gaps(&t.rec), "", "%s: no gap", name);
	check_cover(&t, name);
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = (uint64_t)k, .bytes_delivered = n,
						   .ooo_segments = expect_ooo },
		       name);
	check_empty(&t, name);
	t_fini(&t);
}

static void test_duplicates(void)
{
	struct t t;
	t_init(&t);
	const uint32_t isn = 0xFFFF0000u, b = isn + 1;
	seg(&t, isn, SYN, NULL, 0, 0, 0);
	segp(&t, b, ACK, 0, 100, 100, 1);     /* A */
	segp(&t, b, ACK, 0, 100, 100, 2);     /* A again: already delivered */
	segp(&t, b + 200, ACK, 200, 100, 100, 3); /* C: queued */
	segp(&t, b + 200, ACK, 200, 100, 100, 4); /* C again: overlaps the queued copy */
	is_int(t.r.ooo_segs, 1, "dups: the queued copy is not doubled");
	segp(&t, b + 100, ACK, 100, 100, 100, 5); /* B: delivers B and C */
	segp(&t, b + 100, ACK, 100, 100, 100, 6);
	segp(&t, b + 300, ACK, 300, 100, 100, 7);
	segp(&t, b + 300, ACK, 300, 100, 100, 8);
	is_str(events(&t.rec), "D0+100 D100+100 D200+100 D300+100", "dups: events");
	is_int(t.rec.ev[2].ts, 3, "dups: C carries the first copy's timestamp");
	is_int(bad_bytes(&t.rec, 0), 0, "dups: bytes");
	check_cover(&t, "dups");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 8, .bytes_delivered = 400,
						   .dup_bytes = 300, .overlap_bytes = 100,
						   .ooo_segments = 1 },
		       "dups");
	check_empty(&t, "dups");
	t_fini(&t);
}

static void test_partial_overlap_delivered(void)
{
	struct t t;
	t_init(&t);
	const uint32_t b = 501;
	uint8_t buf[160];
	for (int i = 0; i < 160; i++)
		buf[i] = pat((uint64_t)i);
	seg(&t, b - 1, SYN, NULL, 0, 0, 0);
	seg(&t, b, ACK, buf, 100, 100, 1);
	seg(&t, b + 50, ACK, buf + 50, 100, 100, 2);
	ok(t.rec.last_p == buf + 100, "partial: the new tail is handed out without a copy");
	uint8_t other[20];
	for (int i = 0; i < 20; i++)
		other[i] = (uint8_t)(pat(140 + (uint64_t)i) ^ (i < 10 ? 0xFF : 0));
	seg(&t, b + 140, ACK, other, 20, 20, 3); /* differs only where already delivered */
	seg(&t, b, ACK, buf, 160, 160, 4);       /* all old */
	is_str(events(&t.rec), "D0+100 D100+50 D150+10", "partial: events");
	is_int(bad_bytes(&t.rec, 0), 0, "partial: bytes");
	check_cover(&t, "partial");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 4, .bytes_delivered = 160,
						   .dup_bytes = 50 + 10 + 160 },
		       "partial");
	t_fini(&t);
}

/* Pattern bytes with the ones at the given relative positions flipped. */
static int seg_flip(struct t *t, uint32_t seq, uint64_t base, uint32_t len, uint64_t ts,
		    uint64_t flip_from, uint64_t flip_to, uint32_t every)
{
	uint8_t *b = ct_malloc(len);
	if (!b)
		return CT_ENOMEM;
	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = base + i;
		b[i] = pat(o);
		if (o >= flip_from && o < flip_to && (o - flip_from) % every == 0)
			b[i] ^= 0x5A;
	}
	int rc = seg(t, seq, ACK, b, len, len, ts);
	ct_free(b);
	return rc;
}

static void test_conflicts(void)
{
	struct t t;
	t_init(&t);
	const uint32_t b = 0x7FFFFFF0u;
	segp(&t, b, ACK, 0, 10, 10, 1);   /* mid-stream origin at b */
	segp(&t, b + 20, ACK, 20, 20, 20, 2);
	/* [30,50) with 3 bytes that differ from the queued copy, at 30, 34 and 38 */
	seg_flip(&t, b + 30, 30, 20, 3, 30, 40, 4);
	is_int(t.r.c.conflict_bytes, 3, "conflict: 3 differing bytes counted");
	is_int(t.r.c.overlap_bytes, 10, "conflict: 10 overlapping bytes");
	is_int(t.r.ooo_segs, 2, "conflict: the new tail is queued on its own");
	segp(&t, b + 10, ACK, 10, 10, 10, 4);
	is_str(events(&t.rec), "D0+10 D10+10 D20+20 D40+10", "conflict: events");
	is_int(t.rec.ev[2].ts, 2, "conflict: first copy delivered");
	is_int(t.rec.ev[3].ts, 3, "conflict: new tail from the second copy");
	is_int(bad_bytes(&t.rec, 0), 0, "conflict: first copy wins everywhere");

	/* an in-order segment running over queued data that differs entirely */
	segp(&t, b + 70, ACK, 70, 10, 10, 5);
	seg_flip(&t, b + 50, 50, 40, 6, 70, 80, 1);
	is_str(events(&t.rec), "D0+10 D10+10 D20+20 D40+10 D50+20 D70+10 D80+10",
	       "conflict: in-order over queued");
	is_int(t.rec.ev[5].ts, 5, "conflict: queued copy delivered in the middle");
	is_int(bad_bytes(&t.rec, 0), 0, "conflict: still the first copy");

	/* one segment spanning two queued ones and the hole between them */
	segp(&t, b + 100, ACK, 100, 10, 10, 7);
	segp(&t, b + 120, ACK, 120, 10, 10, 8);
	segp(&t, b + 95, ACK, 95, 40, 40, 9);
	is_int(t.r.ooo_segs, 5, "conflict: three new pieces queued around two");
	segp(&t, b + 90, ACK, 90, 5, 5, 10);
	is_str(events(&t.rec),
	       "D0+10 D10+10 D20+20 D40+10 D50+20 D70+10 D80+10 D90+5 D95+5 D100+10 D110+10 "
	       "D120+10 D130+5",
	       "conflict: spanning events");

	/* a one-byte overlap that differs */
	segp(&t, b + 140, ACK, 140, 2, 2, 11);
	seg_flip(&t, b + 141, 141, 2, 12, 141, 142, 1);
	is_int(t.r.c.conflict_bytes, 14, "conflict: one differing byte of one");
	segp(&t, b + 135, ACK, 135, 5, 5, 13);
	is_int(t.r.next_off, 143, "conflict: end");
	is_int(bad_bytes(&t.rec, 0), 0, "conflict: bytes");
	check_cover(&t, "conflict");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 13, .bytes_delivered = 143,
						   .overlap_bytes = 10 + 10 + 20 + 1,
						   .conflict_bytes = 3 + 10 + 1, .ooo_segments = 8 },
		       "conflict");
	check_empty(&t, "conflict");
	t_fini(&t);
}

static void test_wrap_isn(void)
{
	struct t t;
	t_init(&t);
	const uint32_t isn = 0xFFFFFE00u; /* data 0xFFFFFE01..: the seq wraps at offset 511 */
	seg(&t, isn, SYN, NULL, 0, 0, 0);
	static const int order[10] = { 0, 1, 2, 3, 5, 4, 6, 8, 7, 9 };
	for (int i = 0; i < 10; i++) {
		uint32_t o = 100u * (uint32_t)order[i];
		segp(&t, isn + 1 + o, ACK, o, 100, 100, 1 + (uint64_t)i);
	}
	is_int(t.r.next_off, 1000, "wrap: 1000 bytes");
	is_int(t.r.next_seq, (uint32_t)(isn + 1001u), "wrap: next_seq wrapped");
	is_int(bad_bytes(&t.rec, 0), 0, "wrap: bytes");
	check_cover(&t, "wrap");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 10, .bytes_delivered = 1000,
						   .ooo_segments = 2 },
		       "wrap");
	t_fini(&t);
}

/* Past 2^32 bytes twice without sending them: every hop queues a small segment almost a
 * window ahead and lets the wait turn the hole into a gap. */
static void test_wrap_twice(void)
{
	struct t t;
	t_init(&t);
	const uint32_t s0 = 0xFFFFFFF0u;
	const uint32_t jump = CT_REASM_WINDOW_BYTES - 1000;
	segp(&t, s0, ACK, 0, 32, 32, 1);
	uint64_t ts = 1000 * MS, gap_total = 0;
	int ok_hops = 1;
	for (int k = 0; k < 10; k++) {
		uint64_t from = t.r.next_off, off = from + jump;
		uint32_t seq = t.r.next_seq + jump;
		ok_hops &= segp(&t, seq, ACK, off, 16, 16, ts) == 0;
		ok_hops &= t.r.ooo_segs == 1 && t.r.ooo_since_ns == ts;
		tick(&t, ts + WAIT); /* not older than the wait yet */
		ok_hops &= t.r.next_off == from;
		tick(&t, ts + WAIT + 1);
		ok_hops &= t.r.next_off == off + 16 && t.r.next_seq == seq + 16;
		struct ev *g = &t.rec.ev[t.rec.nev - 2], *d = &t.rec.ev[t.rec.nev - 1];
		ok_hops &= g->gap && g->off == from && g->len == jump && g->ts == ts + WAIT + 1;
		ok_hops &= !d->gap && d->off == off && d->len == 16 && d->ts == ts;
		gap_total += jump;
		ts += 1000 * MS;
	}
	ok(ok_hops, "wrap twice: ten hops of a gap then 16 bytes");
	uint64_t end = 32 + 10 * ((uint64_t)jump + 16);
	is_int(t.r.next_off, end, "wrap twice: offset past 2^33");
	ok(t.r.next_off > (2ull << 32), "wrap twice: sequence space wrapped at least twice");
	is_int(t.r.next_seq, (uint32_t)(s0 + end), "wrap twice: next_seq = origin + offset");

	segp(&t, t.r.next_seq, ACK, end, 100, 100, ts); /* in order at a huge offset */
	uint64_t got = 0;
	is_int(ct_reasm_ts_at(&t.r, end + 99, &got), 0, "wrap twice: ts_at past 2^33");
	is_int(got, ts, "wrap twice: its timestamp");
	is_int(ct_reasm_ts_at(&t.r, end - 100, &got), CT_EINVAL, "wrap twice: ts_at in a gap");
	/* the last hop's 16 bytes again, and something from before the window */
	segp(&t, t.r.next_seq - 116, ACK, end - 16, 16, 16, ts);
	segp(&t, t.r.next_seq - CT_REASM_WINDOW_BYTES - 10, ACK, 0, 10, 10, ts);
	is_int(bad_bytes(&t.rec, 0), 0, "wrap twice: bytes at 64-bit offsets");
	check_cover(&t, "wrap twice");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 14, .bytes_delivered = 32 + 160 + 100,
						   .dup_bytes = 16, .ooo_segments = 10, .gaps = 10,
						   .gap_bytes = gap_total, .bogus_segments = 1 },
		       "wrap twice");
	ok(t.r.flags & CT_REASM_F_HAS_GAP, "wrap twice: HAS_GAP");
	t_fini(&t);
}

static void test_midstream(void)
{
	struct t t;
	t_init(&t);
	/* stream byte at seq 4000+i is pat(i); the pickup starts at seq 5000, i.e. pat(1000+o) */
	seg(&t, 4000, ACK, NULL, 0, 0, 1);
	is_int(t.r.flags, 0, "midstream: a pure ACK sets no origin");
	segp(&t, 5000, ACK, 1000, 100, 100, 2);
	is_int(t.r.flags, CT_REASM_F_STARTED | CT_REASM_F_MIDSTREAM, "midstream: flags");
	segp(&t, 4950, ACK, 950, 100, 100, 3);  /* 50 before the origin, 50 old */
	segp(&t, 4900, ACK, 900, 50, 50, 4);    /* all before */
	segp(&t, 4980, ACK, 980, 200, 200, 5);  /* 20 before, 100 old, 80 new */
	segp(&t, 4000, ACK, 0, 10, 10, 6);      /* far before, still in the window */
	is_str(events(&t.rec), "D0+100 D100+80", "midstream: events");
	is_int(bad_bytes(&t.rec, 1000), 0, "midstream: bytes");
	check_cover(&t, "midstream");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 5, .bytes_delivered = 180,
						   .dup_bytes = 150, .before_start = 130 },
		       "midstream");
	t_fini(&t);
}

static void test_gap_tick(void)
{
	struct t t;
	t_init(&t);
	const uint32_t b = 1;
	seg(&t, b - 1, SYN, NULL, 0, 0, 0);
	segp(&t, b, ACK, 0, 100, 100, 1 * MS);
	segp(&t, b + 200, ACK, 200, 100, 100, 10 * MS);
	is_int(t.r.ooo_since_ns, 10 * MS, "tick: hole seen when C arrived");
	ok(ct_reasm_pending(&t.r), "tick: pending");
	tick(&t, 10 * MS + WAIT);
	is_str(events(&t.rec), "D0+100", "tick: not before the wait");
	tick(&t, 10 * MS + WAIT + 1);
	is_str(events(&t.rec), "D0+100 G100+100 D200+100", "tick: gap after the wait");
	is_int(t.rec.ev[1].ts, 10 * MS + WAIT + 1, "tick: the gap carries the tick's time");
	is_int(t.rec.ev[2].ts, 10 * MS, "tick: data carries its packet's time");
	ok(!ct_reasm_pending(&t.r), "tick: nothing pending");
	segp(&t, b + 100, ACK, 100, 100, 100, 600 * MS); /* the late retransmission */
	ok(t.r.flags & CT_REASM_F_HAS_GAP, "tick: HAS_GAP");

	/* two holes: the second counts from when data behind it arrived */
	segp(&t, b + 300, ACK, 300, 100, 100, 1900 * MS);
	segp(&t, b + 500, ACK, 500, 100, 100, 2000 * MS);
	segp(&t, b + 700, ACK, 700, 100, 100, 2300 * MS);
	is_int(t.r.ooo_since_ns, 2000 * MS, "tick: first hole since 2.0 s");
	tick(&t, 2000 * MS + WAIT + 1);
	is_int(t.r.next_off, 600, "tick: first hole gapped");
	is_int(t.r.ooo_since_ns, 2300 * MS, "tick: next hole since 2.3 s");
	tick(&t, 2300 * MS + WAIT);
	is_int(t.r.next_off, 600, "tick: second hole still waits");
	tick(&t, 2300 * MS + WAIT + 1);
	is_int(t.r.next_off, 800, "tick: second hole gapped");

	/* one late tick resolves several old holes */
	segp(&t, b + 900, ACK, 900, 100, 100, 5000 * MS);
	segp(&t, b + 1100, ACK, 1100, 100, 100, 5100 * MS);
	tick(&t, 10000 * MS);
	is_int(t.r.next_off, 1200, "tick: both holes in one tick");
	/* capture time going backwards declares nothing */
	segp(&t, b + 1300, ACK, 1300, 100, 100, 20000 * MS);
	tick(&t, 19000 * MS);
	is_int(t.r.next_off, 1200, "tick: time going back waits");
	flush(&t, 20001 * MS);
	is_int(t.r.ooo_since_ns, 0, "tick: flush clears the hole time");
	is_str(events(&t.rec),
	       "D0+100 G100+100 D200+100 D300+100 G400+100 D500+100 G600+100 D700+100 "
	       "G800+100 D900+100 G1000+100 D1100+100 G1200+100 D1300+100",
	       "tick: events");
	is_str(gaps(&t.rec), "100+100 400+100 600+100 800+100 1000+100 1200+100",
	       "tick: gap list");
	is_int(bad_bytes(&t.rec, 0), 0, "tick: bytes");
	check_cover(&t, "tick");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 9, .bytes_delivered = 800,
						   .dup_bytes = 100, .ooo_segments = 6, .gaps = 6,
						   .gap_bytes = 600 },
		       "tick");
	check_empty(&t, "tick");
	t_fini(&t);
}

static void test_flush_and_fin_hole(void)
{
	struct t t;
	t_init(&t);
	seg(&t, 99, SYN, NULL, 0, 0, 0);
	segp(&t, 100, ACK, 0, 100, 100, 1);
	segp(&t, 300, FIN | ACK, 200, 100, 100, 2); /* FIN with data, after a hole */
	ok((t.r.flags & CT_REASM_F_FIN) && !(t.r.flags & CT_REASM_F_DONE),
	   "flush: FIN seen, not done");
	is_int(t.r.fin_seq, 400, "flush: fin_seq");
	flush(&t, 50);
	is_str(events(&t.rec), "D0+100 G100+100 D200+100", "flush: gap for the hole");
	is_int(t.rec.ev[1].ts, 50, "flush: gap at flush time");
	ok(t.r.flags & CT_REASM_F_DONE, "flush: done");
	check_cover(&t, "flush");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 2, .bytes_delivered = 200,
						   .ooo_segments = 1, .gaps = 1, .gap_bytes = 100 },
		       "flush");
	check_empty(&t, "flush");
	flush(&t, 60);
	is_int(t.rec.nev, 3, "flush: flushing twice adds nothing");
	t_fini(&t);

	/* a bare FIN past a hole: nothing queued, yet the hole is known and times out */
	t_init(&t);
	seg(&t, 99, SYN, NULL, 0, 0, 0);
	segp(&t, 100, ACK, 0, 100, 100, 1);
	seg(&t, 300, FIN | ACK, NULL, 0, 0, 5 * MS);
	ok(t.r.ooo == NULL && ct_reasm_pending(&t.r), "FIN hole: pending with an empty queue");
	is_int(t.r.ooo_since_ns, 5 * MS, "FIN hole: since the FIN");
	tick(&t, 5 * MS + WAIT + 1);
	is_str(events(&t.rec), "D0+100 G100+100", "FIN hole: gap up to the FIN");
	ok(t.r.flags & CT_REASM_F_DONE, "FIN hole: done");
	ok(!ct_reasm_pending(&t.r), "FIN hole: nothing pending");
	check_cover(&t, "FIN hole");
	t_fini(&t);
}

static void test_cap_segs(void)
{
	struct t t;
	t_init(&t);
	seg(&t, 0, SYN, NULL, 0, 0, 0);
	/* 1-byte segments at 1, 3, 5, ...: every one queued on its own */
	int all0 = 1;
	for (uint32_t k = 0; k < CT_REASM_OOO_MAX_SEGS; k++)
		all0 &= segp(&t, 1 + 2 * k + 1, ACK, 2 * k + 1, 1, 1, 1 + k) == 0;
	ok(all0, "seg cap: %u segments queued", CT_REASM_OOO_MAX_SEGS);
	is_int(t.r.ooo_segs, CT_REASM_OOO_MAX_SEGS, "seg cap: queue full");
	is_int(t.sh.mem_bytes, CT_REASM_OOO_MAX_SEGS * SEGCOST(1), "seg cap: memory exact");
	uint32_t k = CT_REASM_OOO_MAX_SEGS;
	is_int(segp(&t, 1 + 2 * k + 1, ACK, 2 * k + 1, 1, 1, 1000), CT_ELIMIT,
	       "seg cap: one more hits the cap");
	is_str(events(&t.rec), "G0+1 D1+1", "seg cap: the first hole forced out");
	is_int(t.rec.ev[0].ts, 1000, "seg cap: forced gap at the arrival's time");
	is_int(t.r.ooo_segs, CT_REASM_OOO_MAX_SEGS, "seg cap: then it fit");
	is_int(t.sh.mem_bytes, CT_REASM_OOO_MAX_SEGS * SEGCOST(1), "seg cap: memory still exact");
	flush(&t, 2000);
	is_int(t.r.next_off, 2 * k + 2, "seg cap: flushed to the end");
	is_int(t.r.c.gaps, k + 1, "seg cap: one gap per hole");
	is_int(bad_bytes(&t.rec, 0), 0, "seg cap: bytes");
	check_cover(&t, "seg cap");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = k + 1, .bytes_delivered = k + 1,
						   .ooo_segments = k + 1, .gaps = k + 1,
						   .gap_bytes = k + 1, .cap_hits = 1 },
		       "seg cap");
	check_empty(&t, "seg cap");
	t_fini(&t);
}

static void test_cap_mem(void)
{
	struct t t;
	t_init(&t);
	t.sh.mem_max_bytes = 3 * SEGCOST(10); /* room for three 10-byte segments */
	seg(&t, 0, SYN, NULL, 0, 0, 0);
	segp(&t, 21, ACK, 20, 10, 10, 1);
	segp(&t, 41, ACK, 40, 10, 10, 2);
	segp(&t, 61, ACK, 60, 10, 10, 3);
	is_int(t.sh.mem_bytes, 3 * SEGCOST(10), "mem cap: full");
	is_int(segp(&t, 81, ACK, 80, 10, 10, 4), CT_ELIMIT, "mem cap: the fourth hits the cap");
	is_str(events(&t.rec), "G0+20 D20+10", "mem cap: first hole forced");
	is_int(t.sh.mem_bytes, 3 * SEGCOST(10), "mem cap: the fourth was then queued");
	/* bigger than the whole cap: holes are forced until it is in order, then no copy */
	uint8_t big[300];
	for (int i = 0; i < 300; i++)
		big[i] = pat(100 + (uint64_t)i);
	is_int(seg(&t, 101, ACK, big, 300, 300, 5), CT_ELIMIT, "mem cap: too big to queue");
	ok(t.rec.last_p == big, "mem cap: delivered from the caller's buffer");
	is_str(events(&t.rec), "G0+20 D20+10 G30+10 D40+10 G50+10 D60+10 G70+10 D80+10 G90+10 D100+300",
	       "mem cap: events");
	is_int(bad_bytes(&t.rec, 0), 0, "mem cap: bytes");
	check_cover(&t, "mem cap");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 5, .bytes_delivered = 340,
						   .ooo_segments = 4, .gaps = 5, .gap_bytes = 60,
						   .cap_hits = 5 },
		       "mem cap");
	check_empty(&t, "mem cap");
	t_fini(&t);

	/* per-direction byte cap: a segment bigger than CT_REASM_OOO_MAX_BYTES never queues */
	t_init(&t);
	seg(&t, 0, SYN, NULL, 0, 0, 0);
	const uint32_t n = CT_REASM_OOO_MAX_BYTES + 1;
	is_int(segp(&t, 11, ACK, 10, n, n, 1), CT_ELIMIT, "byte cap: hit");
	is_str(events(&t.rec), "G0+10 D10+262145", "byte cap: gap then the data in order");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 1, .bytes_delivered = n, .gaps = 1,
						   .gap_bytes = 10, .cap_hits = 1 },
		       "byte cap");
	t_fini(&t);
}

/* Two directions share one memory cap: one's queue squeezes the other. */
static void test_cap_shared(void)
{
	struct t a, b;
	t_init(&a);
	t_init(&b);
	struct ct_reasm_shared sh = { 0 };
	sh.mem_max_bytes = SEGCOST(100) + SEGCOST(50);
	ct_reasm_segment(&a.r, &sh, 0, SYN, NULL, 0, 0, 0, &cb, &a.rec);
	ct_reasm_segment(&b.r, &sh, 0, SYN, NULL, 0, 0, 0, &cb, &b.rec);
	uint8_t buf[100];
	for (int i = 0; i < 100; i++)
		buf[i] = pat(50 + (uint64_t)i);
	is_int(ct_reasm_segment(&a.r, &sh, 51, ACK, buf, 100, 100, 1, &cb, &a.rec), 0,
	       "shared: a queues 100");
	is_int(ct_reasm_segment(&b.r, &sh, 51, ACK, buf, 50, 50, 2, &cb, &b.rec), 0,
	       "shared: b queues 50");
	is_int(sh.mem_bytes, SEGCOST(100) + SEGCOST(50), "shared: total exact");
	is_int(ct_reasm_segment(&b.r, &sh, 151, ACK, buf, 1, 1, 3, &cb, &b.rec), CT_ELIMIT,
	       "shared: b is out of room");
	is_str(events(&b.rec), "G0+50 D50+50", "shared: b forced its own hole");
	is_int(b.r.ooo_segs, 1, "shared: and then queued");
	is_int(sh.c.cap_hits, 1, "shared: totals count it");
	ct_reasm_free(&a.r, &sh);
	is_int(sh.mem_bytes, SEGCOST(1), "shared: freeing a returns its memory");
	ct_reasm_free(&b.r, &sh);
	ct_reasm_free(&b.r, &sh);
	is_int(sh.mem_bytes, 0, "shared: all returned (free is idempotent)");
	check_cover(&b, "shared b");
	rec_fini(&a.rec);
	rec_fini(&b.rec);
}

static void test_enomem(void)
{
	struct t t;
	t_init(&t);
	seg(&t, 0, SYN, NULL, 0, 0, 0);
	segp(&t, 41, ACK, 40, 10, 10, 1); /* queued */
	uint8_t buf[10];
	for (int i = 0; i < 10; i++)
		buf[i] = pat(60 + (uint64_t)i);
	ct_alloc_fail_at(1);
	is_int(seg(&t, 61, ACK, buf, 10, 10, 2), CT_ENOMEM, "enomem: reported");
	ct_alloc_fail_at(0);
	is_str(events(&t.rec), "G0+40 D40+10", "enomem: the hole in front was forced");
	is_int(t.r.ooo_segs, 1, "enomem: then the segment was queued");
	flush(&t, 3);
	is_str(events(&t.rec), "G0+40 D40+10 G50+10 D60+10", "enomem: events after flush");
	is_int(bad_bytes(&t.rec, 0), 0, "enomem: bytes");
	check_cover(&t, "enomem");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 2, .bytes_delivered = 20,
						   .ooo_segments = 2, .gaps = 2, .gap_bytes = 50,
						   .cap_hits = 1 },
		       "enomem");
	check_empty(&t, "enomem");
	t_fini(&t);
}

static void test_snaplen(void)
{
	struct t t;
	t_init(&t);
	seg(&t, 0, SYN, NULL, 0, 0, 0);
	segp(&t, 1, ACK, 0, 60, 100, 1); /* 40 bytes cut */
	is_str(events(&t.rec), "D0+60 G60+40", "snaplen: in order: data then gap");
	segp(&t, 101, ACK, 100, 100, 100, 2);
	segp(&t, 301, ACK, 300, 30, 100, 3); /* queued: 30 bytes and a 70-byte cut */
	is_int(t.r.ooo_bytes, 30, "snaplen: only present bytes queued");
	is_int(t.sh.mem_bytes, SEGCOST(30), "snaplen: memory");
	segp(&t, 301, ACK, 300, 100, 100, 4); /* full copy later: the first (cut) copy wins */
	segp(&t, 251, ACK, 250, 0, 50, 5);    /* nothing captured at all */
	is_int(t.sh.mem_bytes, SEGCOST(30) + SEGCOST(0), "snaplen: a cut-only piece");
	segp(&t, 201, ACK, 200, 50, 50, 6);
	is_str(events(&t.rec), "D0+60 G60+40 D100+100 D200+50 G250+50 D300+30 G330+70",
	       "snaplen: events");
	/* a cut tail overlapping queued data: the queued bytes stay */
	segp(&t, 501, ACK, 500, 100, 100, 7);
	segp(&t, 451, ACK, 450, 20, 100, 8);
	segp(&t, 401, ACK, 400, 50, 50, 9);
	is_str(gaps(&t.rec), "60+40 250+50 330+70 470+30", "snaplen: gaps");
	is_int(t.r.next_off, 600, "snaplen: end");
	is_int(bad_bytes(&t.rec, 0), 0, "snaplen: bytes");
	check_cover(&t, "snaplen");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 9, .bytes_delivered = 410,
						   .overlap_bytes = 100 + 50, .ooo_segments = 4,
						   .gaps = 4, .gap_bytes = 190,
						   .snap_cut_bytes = 40 + 70 + 50 + 80 },
		       "snaplen");
	check_empty(&t, "snaplen");
	t_fini(&t);
}

static void test_fin(void)
{
	struct t t;
	t_init(&t);
	seg(&t, 100, SYN, NULL, 0, 0, 0);
	segp(&t, 101, ACK, 0, 50, 50, 1);
	segp(&t, 151, ACK | FIN, 50, 50, 50, 2);
	ok(t.r.flags & CT_REASM_F_DONE, "FIN in order: done");
	is_int(t.r.fin_seq, 201, "FIN in order: fin_seq after the data");
	t_fini(&t);

	t_init(&t);
	seg(&t, 100, SYN, NULL, 0, 0, 0);
	segp(&t, 101, ACK, 0, 50, 50, 1);
	segp(&t, 201, ACK | FIN, 100, 50, 50, 2);
	ok((t.r.flags & CT_REASM_F_FIN) && !(t.r.flags & CT_REASM_F_DONE),
	   "FIN out of order: seen, not done");
	segp(&t, 151, ACK, 50, 50, 50, 3);
	ok(t.r.flags & CT_REASM_F_DONE, "FIN out of order: done once reached");
	ok(!ct_reasm_pending(&t.r), "FIN out of order: nothing pending");
	segp(&t, 251, ACK, 150, 50, 50, 4);  /* all beyond the FIN */
	segp(&t, 221, ACK, 120, 50, 50, 5);  /* 30 old, 20 beyond */
	seg(&t, 251, ACK | FIN, NULL, 0, 0, 6); /* a FIN somewhere else */
	seg(&t, 251 - 100, ACK | FIN, NULL, 0, 0, 7); /* at an old place */
	seg(&t, 201, ACK | FIN, NULL, 0, 0, 8); /* the FIN again, data-less: fine */
	segp(&t, 201, ACK | FIN, 100, 50, 50, 9); /* the FIN again, with its data: fine */
	is_str(events(&t.rec), "D0+50 D50+50 D100+50", "FIN: events");
	check_cover(&t, "FIN");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 6, .bytes_delivered = 150,
						   .dup_bytes = 30 + 50, .ooo_segments = 1,
						   .bogus_segments = 4 },
		       "FIN");
	t_fini(&t);

	/* a FIN cutting through queued data drops what lies beyond it */
	t_init(&t);
	seg(&t, 0, SYN, NULL, 0, 0, 0);
	segp(&t, 1, ACK, 0, 10, 10, 1);
	segp(&t, 21, ACK, 20, 10, 10, 2);
	segp(&t, 41, ACK, 40, 10, 10, 3);
	segp(&t, 61, ACK, 60, 10, 10, 4);
	seg(&t, 46, ACK | FIN, NULL, 0, 0, 5);
	is_int(t.r.ooo_segs, 2, "FIN trim: one queued segment dropped");
	is_int(t.r.ooo_bytes, 15, "FIN trim: one cut to 5 bytes");
	is_int(t.sh.mem_bytes, SEGCOST(10) + SEGCOST(5), "FIN trim: memory exact");
	segp(&t, 11, ACK, 10, 10, 10, 6);
	flush(&t, 7);
	is_str(events(&t.rec), "D0+10 D10+10 D20+10 G30+10 D40+5", "FIN trim: events");
	ok(t.r.flags & CT_REASM_F_DONE, "FIN trim: done");
	is_int(bad_bytes(&t.rec, 0), 0, "FIN trim: bytes");
	check_cover(&t, "FIN trim");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 5, .bytes_delivered = 35,
						   .ooo_segments = 3, .gaps = 1, .gap_bytes = 10,
						   .bogus_segments = 2 },
		       "FIN trim");
	check_empty(&t, "FIN trim");
	t_fini(&t);

	/* a FIN before any data (mid-stream): done; earlier data arriving later reopens it */
	t_init(&t);
	seg(&t, 999, ACK | FIN, NULL, 0, 0, 1);
	is_int(t.r.flags, CT_REASM_F_FIN | CT_REASM_F_DONE, "early FIN: done, no origin");
	ok(!ct_reasm_pending(&t.r), "early FIN: nothing pending");
	segp(&t, 900, ACK, 900, 50, 50, 2);
	ok((t.r.flags & CT_REASM_F_STARTED) && (t.r.flags & CT_REASM_F_FIN) &&
		   !(t.r.flags & CT_REASM_F_DONE),
	   "early FIN: reopened by earlier data");
	is_int(t.r.fin_off, 99, "early FIN: placed at offset 99");
	segp(&t, 950, ACK, 950, 49, 49, 3);
	ok(t.r.flags & CT_REASM_F_DONE, "early FIN: done again");
	is_int(bad_bytes(&t.rec, 900), 0, "early FIN: bytes");
	check_cover(&t, "early FIN");
	t_fini(&t);
}

static void test_bogus(void)
{
	struct t t;
	t_init(&t);
	seg(&t, 1000, SYN, NULL, 0, 0, 0);
	const uint32_t b = 1001;
	is_int(segp(&t, b + CT_REASM_WINDOW_BYTES + 1, ACK, 0, 10, 10, 1), 0, "bogus: far ahead");
	is_int(segp(&t, b - CT_REASM_WINDOW_BYTES - 1, ACK, 0, 10, 10, 2), 0, "bogus: far back");
	is_int(t.r.ooo_segs, 0, "bogus: nothing queued");
	is_int(segp(&t, b + CT_REASM_WINDOW_BYTES, ACK, CT_REASM_WINDOW_BYTES, 10, 10, 3), 0,
	       "bogus: exactly a window ahead is fine");
	is_int(t.r.ooo_segs, 1, "bogus: queued");
	seg(&t, b, ACK, NULL, 0, CT_REASM_WINDOW_BYTES + 1u, 4); /* absurd length */
	seg(&t, b + 0x80000000u, ACK | FIN, NULL, 0, 0, 5);    /* FIN half the space away */
	ok(!(t.r.flags & CT_REASM_F_FIN), "bogus: far FIN not taken");
	is_int(t.rec.nev, 0, "bogus: nothing delivered");
	check_counters(&t,
		       (struct ct_reasm_counters){ .segments = 4, .ooo_segments = 1,
						   .bogus_segments = 4,
						   .snap_cut_bytes = CT_REASM_WINDOW_BYTES + 1ull },
		       "bogus");
	t_fini(&t);
	check_empty(&t, "bogus");
}

_Static_assert(CT_REASM_TSMAP_ENTRIES >= 4, "test_ts_at needs at least 4 marks");

static void test_ts_at(void)
{
	struct t t;
	t_init(&t);
	const uint32_t n = CT_REASM_TSMAP_ENTRIES, chunks = n + 4;
	const uint64_t l = 10ull * chunks; /* end of the numbered chunks */
	uint64_t ts = 0;
	is_int(ct_reasm_ts_at(&t.r, 0, &ts), CT_EINVAL, "ts_at: nothing yet");
	seg(&t, 0, SYN, NULL, 0, 0, 0);
	for (uint32_t i = 0; i < chunks; i++)
		segp(&t, 1 + 10 * i, ACK, 10 * i, 10, 10, 100 + i);
	/* n marks: chunks 4 .. chunks-1 remain */
	is_int(ct_reasm_ts_at(&t.r, 39, &ts), CT_EINVAL, "ts_at: chunk 3 forgotten");
	is_int(ct_reasm_ts_at(&t.r, 40, &ts), 0, "ts_at: chunk 4 kept");
	is_int(ts, 104, "ts_at: chunk 4 time");
	is_int(ct_reasm_ts_at(&t.r, 55, &ts), 0, "ts_at: inside chunk 5");
	is_int(ts, 105, "ts_at: chunk 5 time");
	is_int(ct_reasm_ts_at(&t.r, l - 1, &ts), 0, "ts_at: last byte");
	is_int(ts, 100 + chunks - 1, "ts_at: last chunk time");
	is_int(ct_reasm_ts_at(&t.r, l, &ts), CT_EINVAL, "ts_at: not delivered yet");
	/* three chunks of one packet time take one mark */
	for (uint32_t i = 0; i < 3; i++)
		segp(&t, 1 + (uint32_t)l + 10 * i, ACK, l + 10 * i, 10, 10, 500);
	is_int(ct_reasm_ts_at(&t.r, 50, &ts), 0, "ts_at: chunk 5 still kept");
	is_int(ts, 105, "ts_at: chunk 5 time, again");
	is_int(ct_reasm_ts_at(&t.r, 49, &ts), CT_EINVAL, "ts_at: chunk 4 now forgotten");
	is_int(ct_reasm_ts_at(&t.r, l + 25, &ts), 0, "ts_at: merged chunk");
	is_int(ts, 500, "ts_at: merged chunk time");
	segp(&t, 1 + (uint32_t)l + 100, ACK, l + 100, 10, 10, 600);
	flush(&t, 700);
	is_int(ct_reasm_ts_at(&t.r, l + 50, &ts), CT_EINVAL, "ts_at: inside a gap");
	is_int(ct_reasm_ts_at(&t.r, l + 105, &ts), 0, "ts_at: after the gap");
	is_int(ts, 600, "ts_at: after the gap, its packet time");
	is_int(ct_reasm_ts_at(&t.r, l + 29, &ts), 0, "ts_at: before the gap");
	is_int(ts, 500, "ts_at: before the gap, its time");
	check_cover(&t, "ts_at");
	t_fini(&t);
}

static void test_free_safe(void)
{
	struct t t;
	t_init(&t);
	ct_reasm_free(&t.r, &t.sh);
	flush(&t, 1);
	tick(&t, 1ull << 62);
	ct_reasm_free(&t.r, &t.sh);
	is_int(t.rec.nev, 0, "free/flush/tick on a fresh struct do nothing");
	segp(&t, 5, ACK, 0, 10, 10, 1);
	segp(&t, 25, ACK, 20, 10, 10, 2);
	ct_reasm_free(&t.r, &t.sh);
	check_empty(&t, "free with a queue");
	ok(!ct_reasm_pending(&t.r), "free: nothing pending");
	t_fini(&t);
}

/* ---- randomized comparison with a byte-level model ---- */

struct tx {
	uint64_t a;    /* stream offset of the first byte */
	uint32_t w, c; /* wire and captured length */
	int fin;
	uint64_t key;  /* arrival order */
	uint32_t idx;
	uint8_t *bytes;
};

static int tx_cmp(const void *x, const void *y)
{
	const struct tx *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

struct prop_totals {
	uint64_t cap_hits, tick_gaps, conflicts, before_start, snap, iters_bad;
};

/* mode 0: no caps and no timeouts, so the first copy of every byte decides it and every
 * counter is predicted exactly. mode 1: caps and timeouts fire; checks what must hold anyway. */
static void prop_run(uint64_t seed, int mode, struct prop_totals *tot)
{
	rng_state = seed * 0xD1B54A32D192ED03ull + 12345;
	const uint32_t n = 1 + rnd(mode ? 60000 : 30000);
	uint8_t *stream = ct_malloc(n);
	uint8_t *kind = ct_calloc(n, 1); /* first copy: 0 none, 1 data, 2 cut */
	uint8_t *val = ct_malloc(n);
	uint8_t *ever = ct_calloc(n, 1); /* some copy carried the byte */
	if (!stream || !kind || !val || !ever)
		exit(1);
	for (uint32_t i = 0; i < n; i++)
		stream[i] = (uint8_t)rnd64();
	uint32_t isn = rnd(3) == 0 ? 0xFFFFFFFFu - rnd(n + 10) : (uint32_t)rnd64();
	int syn = (int)rnd(2), finmode = (int)rnd(2);
	uint32_t maxseg = mode ? 1 + rnd(rnd(2) ? 40 : 1500) : 1 + rnd(1500);
	if (!mode && maxseg < n / 60)
		maxseg = n / 60; /* keep well under the queue caps: mode 0 predicts exactly */
	uint32_t p_loss = rnd(30), p_retx = rnd(101), p_dup = rnd(20), p_cut = rnd(3) ? 0 : 10;
	uint32_t p_corrupt = !mode && rnd(3) == 0 ? 20 : 0, jitter = rnd(5);

	size_t ntx = 0, cap = 0;
	struct tx *tx = NULL;
#define ADD_TX(A, W, KEY, CORRUPT)                                                           \
	do {                                                                                  \
		if (ntx == cap) {                                                             \
			cap = cap ? 2 * cap : 256;                                            \
			tx = xrealloc(tx, cap * sizeof *tx);                                  \
		}                                                                             \
		struct tx *x_ = &tx[ntx];                                                     \
		x_->a = (A);                                                                  \
		x_->w = (W);                                                                  \
		x_->c = rnd(100) < p_cut ? rnd(x_->w) : x_->w;                                \
		x_->fin = finmode && x_->a + x_->w == n;                                      \
		x_->key = (KEY);                                                              \
		x_->idx = (uint32_t)ntx;                                                      \
		x_->bytes = ct_malloc(x_->c ? x_->c : 1);                                     \
		if (!x_->bytes)                                                               \
			exit(1);                                                              \
		memcpy(x_->bytes, stream + x_->a, x_->c);                                     \
		if (CORRUPT)                                                                  \
			for (uint32_t i_ = 0; i_ < x_->c; i_++)                               \
				if (rnd(100) < 10)                                            \
					x_->bytes[i_] ^= (uint8_t)(1 + rnd(255));             \
		ntx++;                                                                        \
	} while (0)

	uint64_t i = 0;
	for (uint64_t a = 0; a < n; i++) {
		uint32_t w = 1 + rnd(maxseg);
		if (a + w > n)
			w = (uint32_t)(n - a);
		uint64_t key = i * 16 + rnd(jitter * 16 + 1);
		if (rnd(100) < p_loss) {
			if (rnd(100) < p_retx) {
				/* the retransmission may be cut differently */
				uint64_t rkey = key + 16 * (4 + rnd(20));
				uint32_t r = rnd(3);
				if (r == 0 && w > 1) {
					uint32_t h = 1 + rnd(w - 1);
					ADD_TX(a, h, rkey, rnd(100) < p_corrupt);
					ADD_TX(a + h, w - h, rkey + 1, rnd(100) < p_corrupt);
				} else if (r == 1 && a + w < n) {
					uint32_t more = 1 + rnd((uint32_t)min_u64(n - a - w, 3000));
					ADD_TX(a, w + more, rkey, rnd(100) < p_corrupt);
				} else {
					ADD_TX(a, w, rkey, rnd(100) < p_corrupt);
				}
			}
		} else {
			ADD_TX(a, w, key, 0);
		}
		if (rnd(100) < p_dup)
			ADD_TX(a, w, key + rnd(64), rnd(100) < p_corrupt);
		a += w;
	}
	qsort(tx, ntx, sizeof *tx, tx_cmp);

	struct t t;
	t_init(&t);
	if (mode)
		t.sh.mem_max_bytes = rnd(2) ? 4 * SEGCOST(0) + rnd(20000) : CT_REASM_MEM_MAX_BYTES;

	/* Model. Offsets in the model are stream offsets; reasm's are relative to `origin`. */
	uint64_t origin = 0, fr = 0, end = 0;
	int started = 0, fin_seen = 0;
	struct ct_reasm_counters want = { 0 };
	uint32_t base = syn ? isn + 1 : isn;
	uint64_t ts = 1000;
	if (syn) {
		seg(&t, isn, SYN, NULL, 0, 0, ts);
		started = 1;
	}
	for (size_t k = 0; k < ntx; k++) {
		struct tx *x = &tx[k];
		ts += mode ? rnd(3) ? 1 + rnd(1000) : rnd(300) * MS : 1;
		int rc = seg(&t, base + (uint32_t)x->a, (uint8_t)(ACK | (x->fin ? FIN : 0)),
			     x->bytes, x->c, x->w, ts);
		ct_reasm_tick(&t.r, &t.sh, ts, &cb, &t.rec);
		if (mode == 0 && rc != 0)
			want.cap_hits = 1000000; /* forces a visible failure below */
		for (uint32_t j = 0; j < x->c; j++)
			ever[x->a + j] = 1;
		if (!started) {
			origin = fr = x->a;
			started = 1;
		}
		want.segments++;
		want.snap_cut_bytes += x->w - x->c;
		fin_seen |= x->fin;
		if (x->a + x->w > end)
			end = x->a + x->w;
		uint64_t fr0 = fr;
		int queued = 0;
		for (uint64_t y = x->a; y < x->a + x->w; y++) {
			int data = y < x->a + x->c;
			uint8_t v = data ? x->bytes[y - x->a] : 0;
			if (y < origin) {
				want.before_start++;
			} else if (y < fr0) {
				want.dup_bytes++;
			} else if (kind[y]) {
				want.overlap_bytes++;
				want.conflict_bytes += kind[y] == 1 && data && val[y] != v;
			} else {
				kind[y] = data ? 1 : 2;
				val[y] = v;
				if (y != fr)
					queued = 1;
				while (fr < n && kind[fr])
					fr++;
			}
		}
		want.ooo_segments += queued;
	}
	if (fin_seen)
		end = n;
	flush(&t, ts + 1);

	char name[80];
	snprintf(name, sizeof name, "property mode %d seed %llu (n %u, %zu tx)", mode,
		 (unsigned long long)seed, n, ntx);
	int bad = 0;
	bad |= t.rec.order_bad || t.rec.state_bad || t.rec.ts_bad ||
	       t.rec.expect != t.r.next_off;
	bad |= t.r.next_off != end - origin;
	bad |= t.sh.mem_bytes != 0 || t.r.ooo_segs != 0 || t.r.ooo_bytes != 0;
	bad |= memcmp(&t.r.c, &t.sh.c, sizeof t.r.c) != 0;
	bad |= t.r.c.bytes_delivered + t.r.c.gap_bytes != t.r.next_off;
	bad |= fin_seen && !(t.r.flags & CT_REASM_F_DONE);
	/* what each callback says about each byte */
	uint64_t nodata = 0, wrong = 0, gapped_but_first_data = 0;
	for (size_t e = 0; e < t.rec.nev; e++) {
		const struct ev *v = &t.rec.ev[e];
		for (uint64_t o = v->off; o < v->off + v->len; o++) {
			uint64_t y = origin + o;
			if (y >= n) {
				wrong++;
				break;
			}
			if (v->gap) {
				gapped_but_first_data += kind[y] == 1;
			} else {
				uint8_t got = t.rec.buf[v->at + (o - v->off)];
				nodata += !ever[y];
				if (mode == 0)
					wrong += kind[y] != 1 || got != val[y];
				else
					wrong += got != stream[y]; /* mode 1 never corrupts */
			}
		}
	}
	bad |= nodata != 0 || wrong != 0;
	if (mode == 0) {
		/* exact: the first copy of each byte decides, holes and cuts become gaps */
		uint64_t nd = 0;
		for (uint64_t y = origin; y < end; y++)
			nd += kind[y] == 1;
		want.bytes_delivered = nd;
		want.gap_bytes = (end - origin) - nd;
		want.gaps = t.r.c.gaps;
		bad |= gapped_but_first_data != 0;
		bad |= (want.gap_bytes != 0) != !!(t.r.flags & CT_REASM_F_HAS_GAP);
#define X(f) bad |= t.r.c.f != want.f;
		FIELDS(X)
#undef X
		if (p_corrupt == 0)
			bad |= t.r.c.conflict_bytes != 0;
	} else {
		/* Every byte no copy carried is a gap, never data (nodata above, with the
		 * coverage check); the counters that do not depend on timing are exact. */
		bad |= t.r.c.segments != want.segments ||
		       t.r.c.snap_cut_bytes != want.snap_cut_bytes ||
		       t.r.c.before_start != want.before_start || t.r.c.bogus_segments != 0;
	}
	if (bad) {
		tot->iters_bad++;
		diag("%s: FAILED (order %d state %d ts %d, end %llu want %llu, wrong %llu, "
		     "nodata %llu, gapped data %llu)",
		     name, t.rec.order_bad, t.rec.state_bad, t.rec.ts_bad,
		     (unsigned long long)t.r.next_off, (unsigned long long)(end - origin),
		     (unsigned long long)wrong, (unsigned long long)nodata,
		     (unsigned long long)gapped_but_first_data);
#define X(f)                                                                                 \
	if (mode == 0 && t.r.c.f != want.f)                                                  \
		diag("  " #f ": got %llu want %llu", (unsigned long long)t.r.c.f,           \
		     (unsigned long long)want.f);
		FIELDS(X)
#undef X
	}
	tot->cap_hits += t.r.c.cap_hits;
	tot->conflicts += t.r.c.conflict_bytes;
	tot->before_start += t.r.c.before_start;
	tot->snap += t.r.c.snap_cut_bytes;
	tot->tick_gaps += mode ? t.r.c.gaps : 0;

	t_fini(&t);
	for (size_t k = 0; k < ntx; k++)
		ct_free(tx[k].bytes);
	ct_free(tx);
	ct_free(stream);
	ct_free(kind);
	ct_free(val);
	ct_free(ever);
#undef ADD_TX
}

static void test_property(void)
{
	struct prop_totals tot = { 0 };
	for (uint64_t s = 1; s <= 300; s++)
		prop_run(s, 0, &tot);
	is_int(tot.iters_bad, 0, "property, exact model: 300 random streams");
	ok(tot.conflicts > 0 && tot.before_start > 0 && tot.snap > 0,
	   "property, exact model: conflicts, mid-stream and cuts were exercised");
	struct prop_totals t1 = { 0 };
	for (uint64_t s = 1; s <= 200; s++)
		prop_run(s, 1, &t1);
	is_int(t1.iters_bad, 0, "property, caps and timeouts: 200 random streams");
	ok(t1.cap_hits > 0, "property, caps and timeouts: caps were hit (%llu)",
	   (unsigned long long)t1.cap_hits);
}

/* ct_gap_from: what a decoder that expects offset 100 makes of a reported gap. */
static void test_gap_from(void)
{
	is_int(ct_gap_from(100, 100, 10), 10, "gap at the expected offset");
	is_int(ct_gap_from(100, 120, 10), 30, "gap further ahead widens back to the expected offset");
	is_int(ct_gap_from(100, 90, 10), 0, "gap entirely before the expected offset is nothing");
	is_int(ct_gap_from(100, 80, 5), 0, "older gap is nothing");
	is_int(ct_gap_from(100, 95, 10), 5, "gap straddling the expected offset keeps its tail");
	is_int(ct_gap_from(0, 0, 0), 0, "empty gap is nothing");
}

int main(void)
{
	test_gap_from();
	test_in_order();
	test_one_byte();
	for (uint64_t s = 1; s <= 5; s++)
		test_shuffled(s);
	test_duplicates();
	test_partial_overlap_delivered();
	test_conflicts();
	test_wrap_isn();
	test_wrap_twice();
	test_midstream();
	test_gap_tick();
	test_flush_and_fin_hole();
	test_cap_segs();
	test_cap_mem();
	test_cap_shared();
	test_enomem();
	test_snaplen();
	test_fin();
	test_bogus();
	test_ts_at();
	test_free_safe();
	test_property();
	return done_testing();
}
