/* Fuzz target: TCP reassembly (src/reasm.c). Segments are derived from the input; two streams
 * may share one memory account, as all directions of a flow table do.
 *
 * Input:
 *   byte 0     bits 0-1  memory cap over both streams: default (CT_REASM_MEM_MAX_BYTES),
 *                        2 KiB, 16 KiB, 200 KB
 *              bit 2     conflicts: segments with an odd byte 7 carry other bytes than the
 *                        first copy (content is then not checked)
 *              bit 3     stream 0 opens with a SYN at the ISN
 *              bit 4     records may name stream 1 (else every record goes to stream 0)
 *   bytes 1-4  ISN, little-endian (stream 1 uses ISN ^ 0x80000000)
 *   then 8-byte records:
 *     b0       bit 0 FIN, bit 1 SYN, bit 2 stream, bit 3 a tick instead of a segment,
 *              bits 4-5 how b1-b4 give the sequence number: 0 the stream's highest sequence
 *              end so far + (int16)b1-b2; 1 ISN + (b1-b4 & 0xfffff); 2 b1-b4 as they are
 *              (anywhere, wrapping); 3 highest end - (b1-b2)
 *              bits 6-7 capture time advance: 1 us, 10 ms, 300 ms, 1 s
 *     b1-b4    sequence field, little-endian
 *     b5-b6    payload length on the wire (& 0x1fff)
 *     b7       >= 200: the snaplen cut the payload to len * (b7 - 200) / 56 bytes
 * Payload bytes are a function of the sequence number, so every delivered byte can be checked
 * against the sequence number it was delivered for (unless conflicts are on).
 *
 * Invariants checked after every call: data and gaps cover [0, next_off) exactly once and in
 * order (offsets only grow); bytes delivered never exceed the bytes inserted (and each is
 * the right byte); queue and memory stay under their caps (per stream and shared); counters
 * agree with what the callbacks saw; the timestamp map answers for delivered data; after the
 * final flush nothing is queued and no memory is charged. */
#include "cachetap/net.h"
#include "cachetap/reasm.h"
#include "fuzz.h"

struct stream {
	struct ct_reasm r;
	int id;
	int corrupt;
	uint64_t expect;      /* next offset a callback must start at */
	uint64_t data_bytes;  /* delivered through the data callback */
	uint64_t gap_bytes;
	uint64_t inserted;    /* payload bytes offered (present in the capture) */
	uint64_t now;         /* capture time of the current call */
	uint32_t hi;          /* highest sequence end offered so far */
	int have_hi;
};

static uint8_t pat(uint32_t seq)
{
	return (uint8_t)((seq * 2654435761u) >> 24);
}

static void on_data(void *ctx, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	struct stream *s = ctx;
	FZ_CHECK(len > 0, "stream %d: empty data callback", s->id);
	FZ_CHECK(off == s->expect, "stream %d: data at %" PRIu64 ", expected %" PRIu64, s->id, off,
		 s->expect);
	FZ_CHECK(s->r.next_off == off + len, "stream %d: next_off %" PRIu64 " not past the chunk",
		 s->id, s->r.next_off);
	FZ_CHECK(ts_ns <= s->now, "stream %d: data from the future", s->id);
	uint64_t ts;
	FZ_CHECK(ct_reasm_ts_at(&s->r, off, &ts) == 0 && ts == ts_ns,
		 "stream %d: ts_at(%" PRIu64 ") does not give the chunk's time", s->id, off);
	s->expect += len;
	s->data_bytes += len;
	FZ_CHECK(s->data_bytes <= s->inserted, "stream %d: %" PRIu64 " bytes delivered, %" PRIu64
		 " inserted", s->id, s->data_bytes, s->inserted);
	uint32_t seq = s->r.next_seq - len;
	if (!s->corrupt)
		for (uint32_t i = 0; i < len; i++)
			FZ_CHECK(p[i] == pat(seq + i), "stream %d: wrong byte at offset %" PRIu64,
				 s->id, off + i);
	else
		fz_touch(p, len);
}

static void on_gap(void *ctx, uint64_t off, uint64_t len, uint64_t ts_ns)
{
	struct stream *s = ctx;
	FZ_CHECK(len > 0, "stream %d: empty gap", s->id);
	FZ_CHECK(off == s->expect, "stream %d: gap at %" PRIu64 ", expected %" PRIu64, s->id, off,
		 s->expect);
	FZ_CHECK(s->r.next_off == off + len, "stream %d: next_off not past the gap", s->id);
	FZ_CHECK(ts_ns <= s->now, "stream %d: gap from the future", s->id);
	s->expect += len;
	s->gap_bytes += len;
}

static const struct ct_reasm_cb cb = { on_data, on_gap };

static void check(const struct stream *st, int n, const struct ct_reasm_shared *sh)
{
	uint64_t max = sh->mem_max_bytes ? sh->mem_max_bytes : CT_REASM_MEM_MAX_BYTES;
	FZ_CHECK(sh->mem_bytes <= max, "memory %" PRIu64 " over the cap %" PRIu64, sh->mem_bytes,
		 max);
	uint64_t queued = 0;
	for (int i = 0; i < n; i++) {
		const struct stream *s = &st[i];
		FZ_CHECK(s->r.next_off == s->expect, "stream %d: next_off %" PRIu64 ", callbacks reached %"
			 PRIu64, i, s->r.next_off, s->expect);
		FZ_CHECK(s->r.ooo_segs <= CT_REASM_OOO_MAX_SEGS, "stream %d: %u segments queued", i,
			 s->r.ooo_segs);
		FZ_CHECK(s->r.ooo_bytes <= CT_REASM_OOO_MAX_BYTES, "stream %d: %u bytes queued", i,
			 s->r.ooo_bytes);
		FZ_CHECK(s->r.c.bytes_delivered == s->data_bytes, "stream %d: counted %" PRIu64
			 " delivered, callbacks saw %" PRIu64, i, s->r.c.bytes_delivered, s->data_bytes);
		FZ_CHECK(s->r.c.gap_bytes == s->gap_bytes, "stream %d: counted %" PRIu64 " gap bytes, "
			 "callbacks saw %" PRIu64, i, s->r.c.gap_bytes, s->gap_bytes);
		FZ_CHECK((s->r.ooo == NULL) == (s->r.ooo_segs == 0), "stream %d: queue and count disagree",
			 i);
		queued += s->r.ooo_bytes + (uint64_t)s->r.ooo_segs * CT_REASM_SEG_OVERHEAD_BYTES;
	}
	FZ_CHECK(sh->mem_bytes == queued, "memory charged %" PRIu64 ", queued %" PRIu64,
		 sh->mem_bytes, queued);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t caps[4] = { 0, 2048, 16384, 200000 };
	struct ct_reasm_shared sh;
	struct stream st[2];
	if (size < 5)
		return 0;
	memset(&sh, 0, sizeof sh);
	memset(st, 0, sizeof st);
	sh.mem_max_bytes = caps[data[0] & 3];
	int corrupt = (data[0] >> 2) & 1, two = (data[0] >> 4) & 1;
	uint32_t isn0 = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
			(uint32_t)data[4] << 24;
	uint32_t isn[2] = { isn0, isn0 ^ 0x80000000u };
	uint64_t now = FZ_TIME_BASE_NS;
	for (int i = 0; i < 2; i++) {
		ct_reasm_init(&st[i].r);
		st[i].id = i;
		st[i].corrupt = corrupt;
		st[i].now = now;
	}
	if (data[0] & 8) {
		(void)ct_reasm_segment(&st[0].r, &sh, isn[0], CT_TCP_SYN, NULL, 0, 0, now, &cb, &st[0]);
		st[0].hi = isn[0] + 1;
		st[0].have_hi = 1;
		check(st, 2, &sh);
	}
	static const uint64_t steps[4] = { 1000, 10000000, 300000000, 1000000000 };
	for (size_t at = 5; at + 8 <= size; at += 8) {
		const uint8_t *b = data + at;
		struct stream *s = &st[two ? (b[0] >> 2) & 1 : 0];
		now += steps[b[0] >> 6];
		s->now = now;
		st[0].now = st[1].now = now;
		if (b[0] & 8) {
			ct_reasm_tick(&s->r, &sh, now, &cb, s);
			check(st, 2, &sh);
			continue;
		}
		uint32_t field = (uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 |
				 (uint32_t)b[4] << 24;
		uint32_t base = s->have_hi ? s->hi : isn[s->id];
		uint32_t seq;
		switch ((b[0] >> 4) & 3) {
		case 0: seq = base + (uint32_t)(int32_t)(int16_t)(field & 0xffff); break;
		case 1: seq = isn[s->id] + (field & 0xfffff); break;
		case 2: seq = field; break;
		default: seq = base - (field & 0xffff); break;
		}
		uint8_t flags = b[0] & (CT_TCP_FIN | CT_TCP_SYN);
		uint32_t wirelen = ((uint32_t)b[5] | (uint32_t)b[6] << 8) & 0x1fff;
		uint32_t caplen = b[7] >= 200 ? wirelen * (uint32_t)(b[7] - 200) / 56 : wirelen;
		uint32_t dseq = seq + ((flags & CT_TCP_SYN) ? 1u : 0u);
		uint8_t *p = ct_malloc(caplen ? caplen : 1);
		if (!p)
			abort();
		for (uint32_t i = 0; i < caplen; i++)
			p[i] = (uint8_t)(pat(dseq + i) ^ ((corrupt && (b[7] & 1)) ? 0xa5 : 0));
		s->inserted += caplen;
		int rc = ct_reasm_segment(&s->r, &sh, seq, flags, caplen ? p : NULL, caplen, wirelen,
					  now, &cb, s);
		FZ_CHECK(rc == 0 || rc == CT_ELIMIT || rc == CT_ENOMEM, "segment returned %d", rc);
		ct_free(p);
		if (!s->have_hi || CT_SEQ_GT(dseq + wirelen, s->hi)) {
			s->hi = dseq + wirelen;
			s->have_hi = 1;
		}
		check(st, 2, &sh);
	}
	now += 1000;
	st[0].now = st[1].now = now;
	for (int i = 0; i < 2; i++) {
		ct_reasm_flush(&st[i].r, &sh, now, &cb, &st[i]);
		FZ_CHECK(st[i].r.ooo == NULL && st[i].r.ooo_segs == 0, "stream %d: queued after flush", i);
		check(st, 2, &sh);
		ct_reasm_free(&st[i].r, &sh);
	}
	FZ_CHECK(sh.mem_bytes == 0, "%" PRIu64 " bytes still charged", sh.mem_bytes);
	return 0;
}
