/* The harness every fuzz target in tests/fuzz/ shares: how an input is read, cut into chunks
 * and fed, the checks that abort on a broken invariant, and a digest of what a run produced.
 * Header-only; include it once per target (fuzz_NAME.c), which defines
 * LLVMFuzzerTestOneInput(). Built two ways (Makefile, "fuzzing" block):
 *   - build/fuzz/NAME: clang -fsanitize=fuzzer,address,undefined, for `make fuzz`;
 *   - BUILD/fuzz-onefile/NAME: the normal CC and flags, linked with onefile.c, which replays
 *     tests/fuzz/corpus/NAME/ and tests/fuzz/regress/NAME/ in `make check` (fuzz_replay.t).
 *
 * Input layout of the stream decoders (RESP, memcached, and any later one, e.g. HTTP):
 *
 *   byte 0   mode   bit 0     direction of a single stream: 0 client->server, 1 server->client
 *                   bits 1-2  how data is cut: 0 whole, 1 one byte at a time, 2 chunks of
 *                             1..16 bytes, 3 chunks of 1..1500 bytes (sizes from the PRNG)
 *                   bit 3     picked up mid-stream
 *                   bit 4     values not hashed (CT_*_VALUES_NONE)
 *                   bit 5     conversation: the rest is records; otherwise one stream
 *                   bits 6-7  the target's own (fz_in.opt)
 *   byte 1   seed of the PRNG that picks chunk sizes and jumps
 *   byte 2.. one stream, or records:
 *            tag(1) len(2, little-endian) bytes(len, fewer when the input ends)
 *            tag bit 0   direction
 *                bits 1-2  0 data; 1 a gap of len bytes (no bytes follow); 2 data that
 *                          starts len/2 bytes before the direction's offset (those bytes were
 *                          already fed and must be skipped); 3 data after 1..256 bytes that
 *                          were never fed (an implicit gap)
 *                bits 3-7  capture time advance before the record, in 100 ms units
 * Every record also advances the clock by 1 us. Each chunk is a fresh ct_malloc copy of
 * exactly its size, freed after the call, so a decoder that reads past it or keeps a pointer
 * to it is caught by ASan.
 *
 * The decoders promise the same output however the stream is cut (resp.h, mc.h): a target
 * runs an input under its own cut and whole (fz_differential) and the digests must match.
 *
 * Adding a target (e.g. HTTP) is one file, tests/fuzz/fuzz_NAME.c, plus a seed corpus in
 * tests/fuzz/corpus/fuzz_NAME/: the Makefile and fuzz_replay.t find it by its name. */
#ifndef CACHETAP_FUZZ_H
#define CACHETAP_FUZZ_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/common.h"
#include "cachetap/hash.h"

/* libFuzzer's entry point; onefile.c calls it too. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- checks ---- */

static void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn, unused));
static void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FUZZ CHECK FAILED %s:%d: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Aborts (a crash for libFuzzer, a failure for onefile) when an invariant does not hold. */
#define FZ_CHECK(cond, ...)                                           \
	do {                                                          \
		if (!(cond))                                          \
			fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

/* Reads every byte of p/n, so that a pointer into freed or foreign memory is caught. */
static inline uint64_t fz_touch(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = s * 31 + b[i];
	return s;
}

/* ---- PRNG (xorshift64*) ---- */

static inline uint64_t fz_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---- the input ---- */

enum { FZ_WHOLE = 0, FZ_BYTES = 1, FZ_SMALL = 2, FZ_LARGE = 3 };
enum { FZ_DATA = 0, FZ_GAP = 1, FZ_OVERLAP = 2, FZ_JUMP = 3 };

#define FZ_TIME_BASE_NS 1700000000000000000ull /* 2023-11-14: capture time of the first byte */
#define FZ_TIME_UNIT_NS 100000000ull           /* tag bits 3-7 count these (100 ms) */

struct fz_in {
	int dir;          /* single stream: its direction (0 c2s, 1 s2c) */
	int split;        /* FZ_WHOLE .. FZ_LARGE */
	int midstream;
	int values_none;
	int conversation;
	int opt;          /* bits 6-7 of the mode byte, for the target */
	uint8_t seed;
	const uint8_t *p; /* the stream or the records */
	size_t len;
};

static inline void fz_parse(struct fz_in *in, const uint8_t *data, size_t size)
{
	uint8_t mode = size > 0 ? data[0] : 0;
	memset(in, 0, sizeof *in);
	in->dir = mode & 1;
	in->split = (mode >> 1) & 3;
	in->midstream = (mode >> 3) & 1;
	in->values_none = (mode >> 4) & 1;
	in->conversation = (mode >> 5) & 1;
	in->opt = (mode >> 6) & 3;
	in->seed = size > 1 ? data[1] : 0;
	in->p = size > 2 ? data + 2 : data;
	in->len = size > 2 ? size - 2 : 0;
}

/* One record of the input: what fz_next returns. */
struct fz_rec {
	int dir, kind;
	uint32_t len;      /* data bytes at p, or the gap's length */
	const uint8_t *p;
	uint64_t ts_ns;    /* capture time of the record */
};

struct fz_iter {
	const struct fz_in *in;
	size_t at;
	uint64_t ts_ns;
};

static inline void fz_iter_init(struct fz_iter *it, const struct fz_in *in)
{
	it->in = in;
	it->at = 0;
	it->ts_ns = FZ_TIME_BASE_NS;
}

/* Returns 1 with the next record in *r, or 0 at the end. A single stream is one record. */
static inline int fz_next(struct fz_iter *it, struct fz_rec *r)
{
	const struct fz_in *in = it->in;
	memset(r, 0, sizeof *r);
	it->ts_ns += 1000;
	if (!in->conversation) {
		if (it->at > 0 || in->len == 0)
			return 0;
		it->at = in->len;
		r->dir = in->dir;
		r->kind = FZ_DATA;
		r->p = in->p;
		r->len = (uint32_t)in->len;
		r->ts_ns = it->ts_ns;
		return 1;
	}
	if (it->at >= in->len)
		return 0;
	uint8_t tag = in->p[it->at];
	uint32_t len = 0;
	if (it->at + 1 < in->len)
		len = in->p[it->at + 1];
	if (it->at + 2 < in->len)
		len |= (uint32_t)in->p[it->at + 2] << 8;
	it->at += 3;
	it->ts_ns += (uint64_t)(tag >> 3) * FZ_TIME_UNIT_NS;
	r->dir = tag & 1;
	r->kind = (tag >> 1) & 3;
	r->ts_ns = it->ts_ns;
	if (r->kind == FZ_GAP) {
		r->len = len;
		return 1;
	}
	size_t avail = it->at < in->len ? in->len - it->at : 0;
	if (len > avail)
		len = (uint32_t)avail;
	r->p = in->p + (it->at < in->len ? it->at : in->len);
	r->len = len;
	it->at += len;
	return 1;
}

/* ---- feeding a stream consumer ---- */

/* What a target plugs into fz_feed: one decoder pair, a protocol module, ... */
struct fz_ops {
	void (*data)(void *t, int dir, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts);
	void (*gap)(void *t, int dir, uint64_t off, uint64_t len, uint64_t ts);
};

/* Feeds every record to `ops`, data cut as `split` says (chunk sizes from the input's seed, so
 * a run can be repeated), keeping each direction's stream offset. Gaps, overlaps and jumps are
 * fed as the record kinds say. Offsets end in off[2] when it is not NULL. Returns a capture
 * time after the last record's, for the end of the stream. */
static inline uint64_t fz_feed(const struct fz_in *in, int split, const struct fz_ops *ops, void *t,
			   uint64_t off_out[2])
{
	struct fz_iter it;
	struct fz_rec r;
	uint64_t off[2] = { 0, 0 };
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ in->seed;
	uint64_t jrng = 0x51ed270b27a1f6c3ull ^ in->seed; /* jumps: independent of the split */
	fz_iter_init(&it, in);
	while (fz_next(&it, &r)) {
		uint64_t *o = &off[r.dir];
		if (r.kind == FZ_GAP) {
			if (ops->gap)
				ops->gap(t, r.dir, *o, r.len, r.ts_ns);
			*o += r.len;
			continue;
		}
		uint64_t at = *o;
		if (r.kind == FZ_OVERLAP) {
			uint64_t back = r.len / 2;
			at = back > *o ? 0 : *o - back;
		} else if (r.kind == FZ_JUMP) {
			at = *o + 1 + fz_rand(&jrng) % 256;
		}
		for (uint32_t done = 0; done < r.len;) {
			uint32_t n = r.len - done;
			if (split == FZ_BYTES)
				n = 1;
			else if (split == FZ_SMALL)
				n = 1 + (uint32_t)(fz_rand(&rng) % 16);
			else if (split == FZ_LARGE)
				n = 1 + (uint32_t)(fz_rand(&rng) % 1500);
			if (n > r.len - done)
				n = r.len - done;
			uint8_t *q = ct_malloc(n);
			if (!q)
				abort();
			memcpy(q, r.p + done, n);
			ops->data(t, r.dir, at + done, q, n, r.ts_ns);
			ct_free(q);
			done += n;
		}
		if (at + r.len > *o)
			*o = at + r.len;
	}
	if (off_out) {
		off_out[0] = off[0];
		off_out[1] = off[1];
	}
	return it.ts_ns + 1;
}

/* ---- a digest of what a run produced ---- */

/* Every callback writes one line; only the lines' XXH3-64 is kept. FZ_LOG=1 in the environment
 * prints them on stderr, to see where two runs part. */
struct fz_log {
	struct ct_hash h;
	uint64_t lines;
	int print;
};

static inline void fz_log_init(struct fz_log *l)
{
	memset(l, 0, sizeof *l);
	l->h.at = 0xff;
	ct_hash_reset(&l->h);
	const char *e = getenv("FZ_LOG");
	l->print = e && e[0] == '1';
}

static void fz_logf(struct fz_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static void fz_logf(struct fz_log *l, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	ct_hash_update(&l->h, line, (size_t)n + 1);
	l->lines++;
	if (l->print)
		fprintf(stderr, "log: %s\n", line);
}

/* Adds bytes to the digest (key or value bytes the line refers to). */
static inline void fz_log_bytes(struct fz_log *l, const void *p, size_t n)
{
	ct_hash_update(&l->h, &n, sizeof n);
	ct_hash_update(&l->h, p, n);
	if (l->print) {
		fprintf(stderr, "log:   %zu bytes:", n);
		for (size_t i = 0; i < n && i < 64; i++)
			fprintf(stderr, " %02x", ((const uint8_t *)p)[i]);
		fputc('\n', stderr);
	}
}

static inline uint64_t fz_log_digest(struct fz_log *l)
{
	return ct_hash_digest(&l->h) ^ l->lines;
}

/* Runs `run` under the input's own cut and, when that is not whole, again whole; the two
 * digests must be equal. */
static inline void fz_differential(const struct fz_in *in, uint64_t (*run)(const struct fz_in *, int),
				   const char *what)
{
	uint64_t a = run(in, in->split);
	if (in->split == FZ_WHOLE)
		return;
	if (getenv("FZ_LOG"))
		fprintf(stderr, "log: ---- whole\n");
	uint64_t b = run(in, FZ_WHOLE);
	FZ_CHECK(a == b, "%s: output differs between cut %d and whole (run with FZ_LOG=1)", what,
		 in->split);
}

#endif
