/* What the capture and seed generators share (tools/gencap.c, tools/genhostile.c,
 * tests/fuzz/mkcorpus.c): appending bytes to a growable buffer (buf.h) in the byte orders that
 * capture files and protocols use, and a deterministic PRNG. They are test tools: running out
 * of memory ends the program with a message (tool_die). Header-only; set tool_name in main. */
#ifndef CACHETAP_TOOLS_BYTES_H
#define CACHETAP_TOOLS_BYTES_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/buf.h"

static const char *tool_name = "tool";

static void tool_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn, unused));
static void tool_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", tool_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static inline const uint8_t *put_bytes_of(const struct ct_buf *b)
{
	return (const uint8_t *)b->p;
}

static inline void put(struct ct_buf *b, const void *p, size_t n)
{
	if (ct_buf_add(b, p, n))
		tool_die("out of memory");
}

static inline void put_str(struct ct_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static inline void put_u8(struct ct_buf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;
	put(b, &x, 1);
}

static inline void put_be16(struct ct_buf *b, unsigned v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(b, x, 2);
}

static inline void put_be32(struct ct_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put(b, x, 4);
}

static inline void put_le16(struct ct_buf *b, unsigned v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	put(b, x, 2);
}

static inline void put_le32(struct ct_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	put(b, x, 4);
}

static void put_printf(struct ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static void put_printf(struct ct_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ct_buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc)
		tool_die("out of memory");
}

/* xorshift64*: the same sequence for the same seed, on every machine. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

#endif
