/* One direction of a TCP connection as an ordered byte stream (RFC 9293 sequence space).
 *
 * Segments go in, in any order; bytes come out in stream order through callbacks, each chunk
 * with its absolute stream offset (0 = the byte after the SYN, or the first byte seen on a
 * mid-stream pickup) and the capture time of the packet that carried it. In-order data is
 * delivered straight from the caller's packet, with no copy. Out-of-order data is copied into
 * a bounded queue. Sequence arithmetic is modulo 2^32 (SEQ_LT as in Suricata), so streams may
 * wrap past 2^32 any number of times.
 *
 * Rules:
 *  - bytes already delivered are dropped (duplicates, retransmissions);
 *  - when copies overlap, the first copy wins; overlapping bytes that differ from a queued first
 *    copy are counted as conflicts (bytes already delivered are not kept, so an overlap with them
 *    is counted as overlap only);
 *  - a hole becomes an explicit gap (offset, length) once it is older than CT_REASM_GAP_WAIT_NS
 *    of capture time, when a queue cap is hit, or at flush; the stream then goes on after it;
 *  - payload cut by the snaplen (caplen < wire length) is delivered as data then a gap;
 *  - nothing waits without bound and nothing grows without a cap (limits.h, CT_REASM_*). */
#ifndef CACHETAP_REASM_H
#define CACHETAP_REASM_H

#include <stdint.h>

#include "cachetap/common.h"
#include "cachetap/limits.h"

/* Wrap-safe sequence comparisons. */
#define CT_SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define CT_SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define CT_SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define CT_SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

enum {
	CT_REASM_F_STARTED = 1u << 0,   /* the stream's origin is known (SYN or first data) */
	CT_REASM_F_SYN = 1u << 1,       /* origin came from a SYN */
	CT_REASM_F_MIDSTREAM = 1u << 2, /* picked up mid-stream: offset 0 is the first byte seen */
	CT_REASM_F_HAS_GAP = 1u << 3,   /* at least one gap was delivered */
	CT_REASM_F_FIN = 1u << 4,       /* a FIN was seen; fin_seq is valid */
	CT_REASM_F_DONE = 1u << 5,      /* every byte up to the FIN was delivered (also set
					 * by a FIN before any data: nothing seen is missing) */
};

/* Counters; one set per flow table (shared by all directions) and per direction. */
struct ct_reasm_counters {
	uint64_t segments;        /* segments offered with payload */
	uint64_t bytes_delivered; /* bytes handed to the data callback */
	uint64_t dup_bytes;       /* bytes dropped because they were already delivered */
	uint64_t overlap_bytes;   /* bytes that overlapped queued data (first copy kept) */
	uint64_t conflict_bytes;  /* of those, bytes that differed from the first copy */
	uint64_t ooo_segments;    /* segments queued out of order */
	uint64_t gaps;            /* gaps delivered */
	uint64_t gap_bytes;       /* bytes covered by gaps */
	uint64_t cap_hits;        /* times a queue cap forced a gap before the wait ran out */
	uint64_t bogus_segments;  /* segments too far from the window (CT_REASM_WINDOW_BYTES) */
	uint64_t before_start;    /* bytes before offset 0 of a mid-stream pickup, dropped */
	uint64_t snap_cut_bytes;  /* payload bytes declared by IP but not in the capture */
};

/* Shared by every direction of one flow table: global memory accounting and totals. */
struct ct_reasm_shared {
	uint64_t mem_bytes;     /* out-of-order memory queued now, all flows: payload plus
				 * CT_REASM_SEG_OVERHEAD_BYTES per queued segment */
	uint64_t mem_max_bytes; /* cap; CT_REASM_MEM_MAX_BYTES unless a test lowers it; 0 also
				 * means CT_REASM_MEM_MAX_BYTES */
	struct ct_reasm_counters c;
};

/* What one queued segment is charged against sh->mem_max_bytes on top of its payload: its
 * header plus a typical malloc overhead, so that the cap bounds real memory even for tiny or
 * payload-less (snaplen-cut) segments. */
#define CT_REASM_SEG_OVERHEAD_BYTES 64u

/* Delivery callbacks. `ts_ns` is the capture time of the packet that carried the bytes (for a
 * gap: of the packet whose arrival or timeout declared it). Offsets only grow, and every offset
 * in [0, next_off) is covered by exactly one data or gap callback. `p` is valid only during the
 * call. The struct is already updated when a callback runs (next_off is past the chunk, so
 * ct_reasm_ts_at works on it); a callback must not call back into the same struct ct_reasm. */
struct ct_reasm_cb {
	void (*data)(void *ctx, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts_ns);
	void (*gap)(void *ctx, uint64_t off, uint64_t len, uint64_t ts_ns);
};

struct ct_reasm_seg; /* private: one queued out-of-order segment */

struct ct_reasm {
	uint64_t next_off;  /* absolute offset of the next byte to deliver */
	uint32_t next_seq;  /* sequence number of next_off */
	uint32_t fin_seq;   /* sequence number of the FIN (valid with CT_REASM_F_FIN) */
	uint32_t flags;     /* CT_REASM_F_* */
	uint32_t ooo_segs;  /* queued segments */
	uint32_t ooo_bytes; /* queued bytes */
	uint64_t ooo_since_ns; /* capture time the current hole was first seen */
	struct ct_reasm_seg *ooo; /* queued segments, sorted by offset, non-overlapping */
	struct ct_reasm_seg *ooo_tail; /* last queued segment: appends are O(1) */
	uint64_t fin_off;   /* offset of the FIN (valid with CT_REASM_F_FIN and _F_STARTED) */
	uint64_t fin_ts_ns; /* capture time of the FIN */
	uint32_t tsmap_next;
	struct {
		uint64_t off, ts_ns;
	} tsmap[CT_REASM_TSMAP_ENTRIES]; /* starts of the most recent delivered chunks */
	struct ct_reasm_counters c;
};

/* Must be called before first use (the timestamp map has a non-zero empty marker). */
/* For a stream consumer that expects offset `expect` next and is told bytes [off, off+len) are
 * missing: the part it has already passed is ignored, and a gap that starts further ahead is
 * widened back to `expect`. Returns the length of the gap starting at `expect` (0: nothing is
 * missing). Decoders share this so they agree on what a gap covers. */
static inline uint64_t ct_gap_from(uint64_t expect, uint64_t off, uint64_t len)
{
	if (off > expect)
		return len + (off - expect);
	if (off + len <= expect)
		return 0;
	return len - (expect - off);
}

void ct_reasm_init(struct ct_reasm *r);

/* Nonzero when a hole is waiting (queued data, or a FIN beyond the delivered bytes), i.e. when
 * ct_reasm_tick may have work to do. */
static inline int ct_reasm_pending(const struct ct_reasm *r)
{
	return r->ooo != 0 || (r->flags & (CT_REASM_F_FIN | CT_REASM_F_DONE)) == CT_REASM_F_FIN;
}

/* Offers one segment. `flags` are CT_TCP_* (SYN sets the origin at seq+1; FIN marks the end).
 * `caplen` bytes at `p` are present; `wirelen` (>= caplen) is the payload length the IP header
 * declares. Delivers whatever becomes contiguous. Returns 0, or CT_ELIMIT (a queue cap) /
 * CT_ENOMEM (allocation failed) when a segment could not be queued. Both are counted in
 * cap_hits and the stream goes on: the hole in front of the queue is declared a gap at once
 * and what follows it delivered, until the segment fits or has become in-order, when it is
 * delivered without a copy. A cap costs the hole, never the segment's own bytes. */
int ct_reasm_segment(struct ct_reasm *r, struct ct_reasm_shared *sh, uint32_t seq,
		     uint8_t flags, const uint8_t *p, uint32_t caplen, uint32_t wirelen,
		     uint64_t ts_ns, const struct ct_reasm_cb *cb, void *ctx);

/* Declares the current hole a gap if it has waited longer than CT_REASM_GAP_WAIT_NS at
 * capture time `now_ns`, and delivers what follows it (repeatedly, while the next hole is old
 * enough too). A FIN beyond the delivered bytes makes a hole as well. Cheap when nothing is
 * pending. */
void ct_reasm_tick(struct ct_reasm *r, struct ct_reasm_shared *sh, uint64_t now_ns,
		   const struct ct_reasm_cb *cb, void *ctx);

/* End of stream (close, eviction, end of capture): delivers everything queued, with gaps for
 * the holes, and frees the queue. */
void ct_reasm_flush(struct ct_reasm *r, struct ct_reasm_shared *sh, uint64_t now_ns,
		    const struct ct_reasm_cb *cb, void *ctx);

/* Frees the queue without delivering it. Safe on an initialised or flushed struct. */
void ct_reasm_free(struct ct_reasm *r, struct ct_reasm_shared *sh);

/* Maps a recently delivered offset to the capture time of its packet, from the last
 * CT_REASM_TSMAP_ENTRIES chunk starts. Returns 0, or CT_EINVAL when the offset is older. */
int ct_reasm_ts_at(const struct ct_reasm *r, uint64_t off, uint64_t *ts_ns) CT_WUR;

#endif
