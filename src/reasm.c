/* TCP reassembly of one direction: segments in any order in, an ordered byte stream with
 * explicit gaps out (RFC 9293 section 3.4 sequence space, compared modulo 2^32). Overlapping
 * copies keep the first one seen: an observer cannot know which copy the receiver kept, so it
 * keeps one fixed rule and counts the bytes where the copies disagree (conflict_bytes).
 *
 * Limits (limits.h, "TCP reassembly"): CT_REASM_OOO_MAX_SEGS and CT_REASM_OOO_MAX_BYTES of
 * out-of-order data per direction, sh->mem_max_bytes (CT_REASM_MEM_MAX_BYTES) over all flows,
 * CT_REASM_GAP_WAIT_NS of capture time before a hole becomes a gap, CT_REASM_WINDOW_BYTES either
 * side of the next expected byte, CT_REASM_TSMAP_ENTRIES recent offset -> timestamp marks.
 *
 * Stream model. Offsets are absolute (uint64) and never wrap; sequence numbers are mapped to
 * them relative to (next_seq, next_off), which is exact as long as a segment lies within
 * +-2^31 of next_seq, hence the window. A segment is the interval [s, e) of offsets: its first
 * caplen bytes are present, the rest (snaplen cut) is known to exist but is missing:
 *
 *      s              s+caplen          e = s+wirelen
 *      |---- data ----|---- missing ----|
 *
 * The queue holds such intervals (data then missing) sorted and disjoint, every one strictly
 * after next_off, so that there is always a hole in front of the queue. When a cap refuses a
 * copy, that hole becomes a gap at once (force_gap), which always frees the queue head or makes
 * the refused data in-order, so the loop that places a segment always makes progress. */
#include <string.h>

#include "cachetap/net.h"
#include "cachetap/reasm.h"

struct ct_reasm_seg {
	struct ct_reasm_seg *next;
	uint64_t off;   /* offset of the first byte */
	uint64_t ts_ns; /* capture time of the packet that carried it */
	uint32_t len;   /* bytes present in data[] */
	uint32_t cut;   /* missing bytes after them (snaplen): delivered as a gap */
	uint8_t data[];
};

_Static_assert(sizeof(struct ct_reasm_seg) <= CT_REASM_SEG_OVERHEAD_BYTES,
	       "CT_REASM_SEG_OVERHEAD_BYTES must cover the segment header");
_Static_assert((CT_REASM_TSMAP_ENTRIES & (CT_REASM_TSMAP_ENTRIES - 1)) == 0,
	       "CT_REASM_TSMAP_ENTRIES must be a power of two");
_Static_assert(CT_REASM_WINDOW_BYTES < (1u << 31), "the window must fit int32 distances");
_Static_assert(CT_REASM_OOO_MAX_BYTES < (1ull << 32), "ooo_bytes is 32 bits");

#define TSMAP_MASK (CT_REASM_TSMAP_ENTRIES - 1u)
#define TS_GAP UINT64_MAX   /* tsmap entry starting a gap: there is no timestamp to give */
#define OFF_EMPTY UINT64_MAX /* tsmap slot never written */

/* Every counter is kept per direction and as a total over the flow table. */
#define COUNT(r, sh, field, n)                                                                \
	do {                                                                                  \
		uint64_t n_ = (n);                                                            \
		(r)->c.field += n_;                                                           \
		(sh)->c.field += n_;                                                          \
	} while (0)

/* The part of the offered segment still to be placed: data [s, dend), missing [dend, e). */
struct src {
	uint64_t s, dend;
	const uint8_t *p; /* byte at offset s */
	uint64_t ts_ns;
};

static inline uint64_t seg_end(const struct ct_reasm_seg *q)
{
	return q->off + q->len + q->cut;
}

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void ct_reasm_init(struct ct_reasm *r)
{
	memset(r, 0, sizeof *r);
	for (uint32_t i = 0; i < CT_REASM_TSMAP_ENTRIES; i++)
		r->tsmap[i].off = OFF_EMPTY;
}

/* Remembers where a delivered chunk starts. Chunks are contiguous, so a chunk with the same
 * timestamp as the previous one only extends it and needs no slot of its own. */
static inline void tsmap_mark(struct ct_reasm *r, uint64_t off, uint64_t ts_ns)
{
	uint32_t last = (r->tsmap_next - 1u) & TSMAP_MASK;
	if (r->tsmap[last].ts_ns == ts_ns && r->tsmap[last].off != OFF_EMPTY)
		return;
	r->tsmap[r->tsmap_next].off = off;
	r->tsmap[r->tsmap_next].ts_ns = ts_ns;
	r->tsmap_next = (r->tsmap_next + 1u) & TSMAP_MASK;
}

int ct_reasm_ts_at(const struct ct_reasm *r, uint64_t off, uint64_t *ts_ns)
{
	if (off >= r->next_off)
		return CT_EINVAL;
	int best = -1;
	for (uint32_t i = 0; i < CT_REASM_TSMAP_ENTRIES; i++) {
		/* Empty slots hold OFF_EMPTY, which is never <= an offset below next_off. */
		if (r->tsmap[i].off <= off && (best < 0 || r->tsmap[i].off > r->tsmap[best].off))
			best = (int)i;
	}
	/* No entry at or before off: the chunk holding off has left the ring. */
	if (best < 0 || r->tsmap[best].ts_ns == TS_GAP)
		return CT_EINVAL;
	*ts_ns = r->tsmap[best].ts_ns;
	return 0;
}

/* ---- delivery: the struct is updated first, then the consumer is called ---- */

static inline void reached(struct ct_reasm *r)
{
	if ((r->flags & (CT_REASM_F_FIN | CT_REASM_F_DONE)) == CT_REASM_F_FIN &&
	    r->next_off == r->fin_off)
		r->flags |= CT_REASM_F_DONE;
}

static void deliver_data(struct ct_reasm *r, struct ct_reasm_shared *sh, const uint8_t *p,
			 uint32_t len, uint64_t ts_ns, const struct ct_reasm_cb *cb, void *ctx)
{
	uint64_t off = r->next_off;
	tsmap_mark(r, off, ts_ns);
	r->next_off += len;
	r->next_seq += len;
	reached(r);
	COUNT(r, sh, bytes_delivered, len);
	cb->data(ctx, off, p, len, ts_ns);
}

static void deliver_gap(struct ct_reasm *r, struct ct_reasm_shared *sh, uint64_t len,
			uint64_t ts_ns, const struct ct_reasm_cb *cb, void *ctx)
{
	uint64_t off = r->next_off;
	tsmap_mark(r, off, TS_GAP);
	r->next_off += len;
	r->next_seq += (uint32_t)len; /* modulo 2^32 on purpose */
	r->flags |= CT_REASM_F_HAS_GAP;
	reached(r);
	COUNT(r, sh, gaps, 1);
	COUNT(r, sh, gap_bytes, len);
	cb->gap(ctx, off, len, ts_ns);
}

/* Delivers [a, b) of the offered segment; a == next_off. */
static void deliver_src(struct ct_reasm *r, struct ct_reasm_shared *sh, const struct src *sr,
			uint64_t a, uint64_t b, const struct ct_reasm_cb *cb, void *ctx)
{
	if (a < sr->dend) {
		uint64_t de = min64(b, sr->dend);
		deliver_data(r, sh, sr->p + (a - sr->s), (uint32_t)(de - a), sr->ts_ns, cb, ctx);
		a = de;
	}
	if (a < b)
		deliver_gap(r, sh, b - a, sr->ts_ns, cb, ctx);
}

static void seg_free(struct ct_reasm *r, struct ct_reasm_shared *sh, struct ct_reasm_seg *q)
{
	r->ooo_segs--;
	r->ooo_bytes -= q->len;
	sh->mem_bytes -= (uint64_t)q->len + CT_REASM_SEG_OVERHEAD_BYTES;
	ct_free(q);
}

/* Takes the queue head off and delivers it (data, then its snaplen gap). */
static void pop_deliver(struct ct_reasm *r, struct ct_reasm_shared *sh,
			const struct ct_reasm_cb *cb, void *ctx)
{
	struct ct_reasm_seg *q = r->ooo;
	r->ooo = q->next;
	if (!r->ooo)
		r->ooo_tail = NULL;
	if (q->len)
		deliver_data(r, sh, q->data, q->len, q->ts_ns, cb, ctx);
	if (q->cut)
		deliver_gap(r, sh, q->cut, q->ts_ns, cb, ctx);
	seg_free(r, sh, q);
}

/* Delivers the queued segments that have become contiguous. Returns how many. */
static int drain(struct ct_reasm *r, struct ct_reasm_shared *sh, const struct ct_reasm_cb *cb,
		 void *ctx)
{
	int n = 0;
	while (r->ooo && r->ooo->off == r->next_off) {
		pop_deliver(r, sh, cb, ctx);
		n++;
	}
	return n;
}

/* The current hole was first observable when the earliest thing beyond it arrived: the
 * oldest queued segment, or a FIN beyond the delivered bytes. */
static void since_update(struct ct_reasm *r)
{
	uint64_t t = UINT64_MAX;
	for (const struct ct_reasm_seg *q = r->ooo; q; q = q->next)
		t = min64(t, q->ts_ns);
	if ((r->flags & (CT_REASM_F_FIN | CT_REASM_F_DONE)) == CT_REASM_F_FIN)
		t = min64(t, r->fin_ts_ns);
	r->ooo_since_ns = t == UINT64_MAX ? 0 : t;
}

/* Declares the hole in front of the queue a gap and delivers what follows it. */
static void gap_hole(struct ct_reasm *r, struct ct_reasm_shared *sh, uint64_t ts_ns,
		     const struct ct_reasm_cb *cb, void *ctx)
{
	uint64_t to = r->ooo ? r->ooo->off : r->fin_off;
	deliver_gap(r, sh, to - r->next_off, ts_ns, cb, ctx);
	drain(r, sh, cb, ctx);
}

/* A cap (or malloc) refused to queue data at `pos`: make room by declaring the first hole a
 * gap now. The hole ends at the queue head, or at pos when pos comes first, in which case the
 * data at pos becomes in-order and needs no queue at all. Either way something moves. */
static void force_gap(struct ct_reasm *r, struct ct_reasm_shared *sh, uint64_t pos,
		      uint64_t ts_ns, const struct ct_reasm_cb *cb, void *ctx)
{
	uint64_t to = r->ooo && r->ooo->off < pos ? r->ooo->off : pos;
	COUNT(r, sh, cap_hits, 1);
	deliver_gap(r, sh, to - r->next_off, ts_ns, cb, ctx);
	drain(r, sh, cb, ctx);
}

/* ---- the out-of-order queue ---- */

/* Counts overlapping bytes of the offered segment and queued segment q over [a, b), and of
 * those the ones present in both copies that differ. The queued (first) copy is kept. */
static void overlap(struct ct_reasm *r, struct ct_reasm_shared *sh, const struct src *sr,
		    const struct ct_reasm_seg *q, uint64_t a, uint64_t b)
{
	COUNT(r, sh, overlap_bytes, b - a);
	uint64_t hi = min64(b, min64(sr->dend, q->off + q->len));
	if (a >= hi)
		return;
	const uint8_t *x = sr->p + (a - sr->s), *y = q->data + (a - q->off);
	size_t n = (size_t)(hi - a);
	if (memcmp(x, y, n) == 0)
		return;
	uint64_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff += x[i] != y[i];
	COUNT(r, sh, conflict_bytes, diff);
}

/* First queued segment ending after pos, and the one before it (NULL: the head). `hint` is a
 * queued segment known to end at or before pos, or NULL. */
static struct ct_reasm_seg *find_slot(struct ct_reasm *r, struct ct_reasm_seg *hint,
				      uint64_t pos, struct ct_reasm_seg **prevp)
{
	struct ct_reasm_seg *prev = hint, *q = hint ? hint->next : r->ooo;
	if (r->ooo_tail && seg_end(r->ooo_tail) <= pos) {
		prev = r->ooo_tail; /* the usual case: appending after a loss */
		q = NULL;
	}
	while (q && seg_end(q) <= pos) {
		prev = q;
		q = q->next;
	}
	*prevp = prev;
	return q;
}

/* Copies [a, b) of the offered segment into the queue after prev. */
static int enqueue(struct ct_reasm *r, struct ct_reasm_shared *sh, const struct src *sr,
		   uint64_t a, uint64_t b, struct ct_reasm_seg *prev, struct ct_reasm_seg **out)
{
	uint64_t len = a < sr->dend ? min64(b, sr->dend) - a : 0;
	uint64_t max = sh->mem_max_bytes ? sh->mem_max_bytes : CT_REASM_MEM_MAX_BYTES;
	uint64_t charge = len + CT_REASM_SEG_OVERHEAD_BYTES;
	if (r->ooo_segs >= CT_REASM_OOO_MAX_SEGS ||
	    (uint64_t)r->ooo_bytes + len > CT_REASM_OOO_MAX_BYTES ||
	    sh->mem_bytes + charge > max)
		return CT_ELIMIT;
	struct ct_reasm_seg *q = ct_malloc(sizeof *q + (size_t)len);
	if (!q)
		return CT_ENOMEM;
	int had_hole = ct_reasm_pending(r);
	q->off = a;
	q->ts_ns = sr->ts_ns;
	q->len = (uint32_t)len;
	q->cut = (uint32_t)(b - a - len);
	if (len)
		memcpy(q->data, sr->p + (a - sr->s), (size_t)len);
	q->next = prev ? prev->next : r->ooo;
	if (prev)
		prev->next = q;
	else
		r->ooo = q;
	if (!q->next)
		r->ooo_tail = q;
	r->ooo_segs++;
	r->ooo_bytes += (uint32_t)len;
	sh->mem_bytes += charge;
	r->ooo_since_ns = had_hole ? min64(r->ooo_since_ns, sr->ts_ns) : sr->ts_ns;
	*out = q;
	return 0;
}

/* Drops queued data at or beyond the FIN (the peer said the stream ends there). */
static void trim_after_fin(struct ct_reasm *r, struct ct_reasm_shared *sh)
{
	struct ct_reasm_seg **pp = &r->ooo, *last = NULL;
	while (*pp && seg_end(*pp) <= r->fin_off) {
		last = *pp;
		pp = &(*pp)->next;
	}
	struct ct_reasm_seg *q = *pp;
	if (q && q->off < r->fin_off) { /* straddles the FIN: keep its head */
		uint64_t keep = r->fin_off - q->off;
		if (keep < q->len) {
			uint32_t drop = q->len - (uint32_t)keep;
			/* The block keeps its size until freed, but the accounting follows
			 * q->len so that seg_free() subtracts exactly what is left. */
			r->ooo_bytes -= drop;
			sh->mem_bytes -= drop;
			q->len = (uint32_t)keep;
			q->cut = 0;
		} else {
			q->cut = (uint32_t)(keep - q->len);
		}
		COUNT(r, sh, bogus_segments, 1);
		last = q;
		pp = &q->next;
	}
	while ((q = *pp)) {
		*pp = q->next;
		COUNT(r, sh, bogus_segments, 1);
		seg_free(r, sh, q);
	}
	r->ooo_tail = last;
}

/* A FIN ends the stream at fin_off. Returns 1 when it contradicts what we know (bogus). */
static int fin_record(struct ct_reasm *r, struct ct_reasm_shared *sh, uint64_t fin_off,
		      uint32_t fin_seq, uint64_t ts_ns)
{
	if (r->flags & CT_REASM_F_FIN)
		return fin_off != r->fin_off; /* a retransmitted FIN is fine, a moved one is not */
	if (fin_off < r->next_off)
		return 1; /* bytes after it were already delivered */
	r->flags |= CT_REASM_F_FIN;
	r->fin_seq = fin_seq;
	r->fin_off = fin_off;
	r->fin_ts_ns = ts_ns;
	trim_after_fin(r, sh);
	reached(r);
	return 0;
}

/* Sets the origin at dseq (the first data byte's sequence number). A FIN seen before any data
 * is placed relative to it. Returns 1 when that early FIN had to be dropped as bogus. */
static int set_origin(struct ct_reasm *r, struct ct_reasm_shared *sh, uint32_t dseq, int syn)
{
	int bogus = 0;
	uint32_t fflags = r->flags & (CT_REASM_F_FIN | CT_REASM_F_DONE);
	r->flags &= ~(uint32_t)(CT_REASM_F_FIN | CT_REASM_F_DONE);
	r->flags |= CT_REASM_F_STARTED | (syn ? CT_REASM_F_SYN : CT_REASM_F_MIDSTREAM);
	r->next_seq = dseq;
	r->next_off = 0;
	if (fflags & CT_REASM_F_FIN) {
		uint32_t dist = r->fin_seq - dseq;
		if (dist <= CT_REASM_WINDOW_BYTES)
			bogus = fin_record(r, sh, dist, r->fin_seq, r->fin_ts_ns);
		else
			bogus = 1; /* the FIN lies before this data, or absurdly far after it */
	}
	return bogus;
}

/* Everything but the common case: origin, FIN, trimming, overlaps, the queue and caps. */
static int segment_slow(struct ct_reasm *r, struct ct_reasm_shared *sh, uint32_t seq,
			uint8_t flags, const uint8_t *p, uint32_t caplen, uint32_t wirelen,
			uint64_t ts_ns, const struct ct_reasm_cb *cb, void *ctx)
{
	int ret = 0, bogus = 0, dirty = 0, queued = 0;
	if (caplen > wirelen)
		caplen = wirelen; /* bytes beyond the IP length are link padding */
	if (wirelen == 0 && !(flags & (CT_TCP_SYN | CT_TCP_FIN)))
		return 0; /* a pure ACK says nothing about this direction's bytes */
	uint32_t dseq = seq + ((flags & CT_TCP_SYN) ? 1u : 0u); /* SYN takes one number */
	uint32_t fin_seq = dseq + wirelen;
	if (wirelen) {
		COUNT(r, sh, segments, 1);
		if (caplen < wirelen)
			COUNT(r, sh, snap_cut_bytes, wirelen - caplen);
	}
	if (wirelen > CT_REASM_WINDOW_BYTES) {
		COUNT(r, sh, bogus_segments, 1);
		return 0;
	}

	if (!(r->flags & CT_REASM_F_STARTED)) {
		if (!(flags & CT_TCP_SYN) && wirelen == 0) {
			/* A FIN before any byte: nothing seen is missing, so the direction is
			 * done; data arriving later (reordered) reopens it via set_origin. */
			if (!(r->flags & CT_REASM_F_FIN)) {
				r->flags |= CT_REASM_F_FIN | CT_REASM_F_DONE;
				r->fin_seq = dseq;
				r->fin_ts_ns = ts_ns;
			} else if (r->fin_seq != dseq) {
				COUNT(r, sh, bogus_segments, 1);
			}
			return 0;
		}
		bogus |= set_origin(r, sh, dseq, flags & CT_TCP_SYN);
		dirty = 1;
	}

	int32_t d = (int32_t)(dseq - r->next_seq);
	if (d > (int32_t)CT_REASM_WINDOW_BYTES || d < -(int32_t)CT_REASM_WINDOW_BYTES) {
		if (wirelen || (flags & CT_TCP_FIN))
			bogus = 1;
		goto out;
	}

	/* Place the segment at [s, e); bytes before offset 0 do not exist for us. */
	uint64_t s;
	if (d >= 0) {
		s = r->next_off + (uint64_t)d;
	} else {
		uint64_t back = (uint64_t)(-(int64_t)d);
		if (back > r->next_off) {
			uint64_t pre = back - r->next_off;
			if (pre >= wirelen) {
				COUNT(r, sh, before_start, wirelen);
				bogus |= (flags & CT_TCP_FIN) != 0; /* a FIN before the origin */
				goto out;
			}
			COUNT(r, sh, before_start, pre);
			uint32_t dp = (uint32_t)min64(pre, caplen);
			if (dp)
				p += dp; /* p may be NULL when caplen is 0 */
			caplen -= dp;
			wirelen -= (uint32_t)pre;
			s = 0;
		} else {
			s = r->next_off - back;
		}
	}
	uint64_t e = s + wirelen;

	if (flags & CT_TCP_FIN) {
		bogus |= fin_record(r, sh, e, fin_seq, ts_ns);
		dirty = 1;
	}
	if ((r->flags & CT_REASM_F_FIN) && e > r->fin_off) {
		bogus = 1; /* data beyond the FIN */
		if (s >= r->fin_off)
			goto out;
		e = r->fin_off;
		caplen = (uint32_t)min64(caplen, e - s);
	}
	if (s < r->next_off) {
		uint64_t dup = min64(e, r->next_off) - s;
		uint32_t dp = (uint32_t)min64(dup, caplen);
		COUNT(r, sh, dup_bytes, dup);
		if (dp)
			p += dp;
		caplen -= dp;
		s += dup;
	}
	if (s >= e)
		goto out;

	/* Walk [s, e): in-order parts are delivered from p, parts behind queued data are
	 * compared with it and dropped, parts in holes are queued. */
	struct src sr = { s, s + caplen, p, ts_ns };
	struct ct_reasm_seg *hint = NULL;
	uint64_t pos = s;
	while (pos < e) {
		struct ct_reasm_seg *q = r->ooo;
		if (pos == r->next_off) {
			if (q && q->off == pos) {
				uint64_t hi = min64(e, seg_end(q));
				overlap(r, sh, &sr, q, pos, hi);
				pop_deliver(r, sh, cb, ctx);
				pos = hi;
				dirty = 1;
			} else {
				uint64_t lim = q && q->off < e ? q->off : e;
				deliver_src(r, sh, &sr, pos, lim, cb, ctx);
				pos = lim;
			}
			hint = NULL;
			continue;
		}
		struct ct_reasm_seg *prev;
		q = find_slot(r, hint, pos, &prev);
		if (q && q->off <= pos) {
			uint64_t hi = min64(e, seg_end(q));
			overlap(r, sh, &sr, q, pos, hi);
			pos = hi;
			hint = q;
			continue;
		}
		uint64_t pe = q && q->off < e ? q->off : e;
		int err = enqueue(r, sh, &sr, pos, pe, prev, &hint);
		if (err == 0) {
			queued = 1;
			pos = pe;
			continue;
		}
		ret = err;
		force_gap(r, sh, pos, ts_ns, cb, ctx);
		hint = NULL;
		dirty = 1;
	}
	if (drain(r, sh, cb, ctx))
		dirty = 1;
	if (queued)
		COUNT(r, sh, ooo_segments, 1);
out:
	if (bogus)
		COUNT(r, sh, bogus_segments, 1);
	if (dirty)
		since_update(r);
	return ret;
}

int ct_reasm_segment(struct ct_reasm *r, struct ct_reasm_shared *sh, uint32_t seq,
		     uint8_t flags, const uint8_t *p, uint32_t caplen, uint32_t wirelen,
		     uint64_t ts_ns, const struct ct_reasm_cb *cb, void *ctx)
{
	/* The common case, ~10M times a second: the next bytes, nothing queued, no FIN. */
	if ((r->flags & (CT_REASM_F_STARTED | CT_REASM_F_FIN)) == CT_REASM_F_STARTED &&
	    seq == r->next_seq && r->ooo == NULL && caplen == wirelen &&
	    wirelen - 1u < CT_REASM_WINDOW_BYTES && !(flags & (CT_TCP_SYN | CT_TCP_FIN))) {
		uint64_t off = r->next_off;
		tsmap_mark(r, off, ts_ns);
		r->next_off = off + wirelen;
		r->next_seq = seq + wirelen;
		COUNT(r, sh, segments, 1);
		COUNT(r, sh, bytes_delivered, wirelen);
		cb->data(ctx, off, p, wirelen, ts_ns);
		return 0;
	}
	return segment_slow(r, sh, seq, flags, p, caplen, wirelen, ts_ns, cb, ctx);
}

void ct_reasm_tick(struct ct_reasm *r, struct ct_reasm_shared *sh, uint64_t now_ns,
		   const struct ct_reasm_cb *cb, void *ctx)
{
	/* Capture time may step back when files are merged: then nothing is old enough. */
	while (ct_reasm_pending(r) && now_ns > r->ooo_since_ns &&
	       now_ns - r->ooo_since_ns > CT_REASM_GAP_WAIT_NS) {
		gap_hole(r, sh, now_ns, cb, ctx);
		since_update(r);
	}
}

void ct_reasm_flush(struct ct_reasm *r, struct ct_reasm_shared *sh, uint64_t now_ns,
		    const struct ct_reasm_cb *cb, void *ctx)
{
	while (ct_reasm_pending(r))
		gap_hole(r, sh, now_ns, cb, ctx);
	r->ooo_since_ns = 0;
}

void ct_reasm_free(struct ct_reasm *r, struct ct_reasm_shared *sh)
{
	struct ct_reasm_seg *q;
	while ((q = r->ooo)) {
		r->ooo = q->next;
		seg_free(r, sh, q);
	}
	r->ooo_tail = NULL;
	r->ooo_since_ns = 0;
}
