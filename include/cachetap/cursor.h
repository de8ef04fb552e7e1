/* Bounds-checked reads over untrusted bytes (STYLE.md example 1).
 *
 * A cursor is (p, end). Every accessor checks the remaining length first, never reads past
 * `end`, never assumes a NUL terminator, and on a short read sets `err` and leaves the cursor
 * where it was. Once `err` is set every later read fails too, so a parser can do a run of reads
 * and check `err` once. */
#ifndef CACHETAP_CURSOR_H
#define CACHETAP_CURSOR_H

#include <stddef.h>
#include <stdint.h>

struct ct_cur {
	const uint8_t *p;
	const uint8_t *end;
	int err; /* sticky: nonzero after any read past the end */
};

static inline struct ct_cur ct_cur_make(const uint8_t *p, size_t len)
{
	struct ct_cur c = { p, p + len, 0 };
	return c;
}

static inline size_t ct_cur_left(const struct ct_cur *c)
{
	return c->err ? 0 : (size_t)(c->end - c->p);
}

/* Returns 1 when n more bytes are readable, else sets err and returns 0. */
static inline int ct_cur_need(struct ct_cur *c, size_t n)
{
	if (c->err || (size_t)(c->end - c->p) < n) {
		c->err = 1;
		return 0;
	}
	return 1;
}

static inline int ct_cur_skip(struct ct_cur *c, size_t n)
{
	if (!ct_cur_need(c, n))
		return 0;
	c->p += n;
	return 1;
}

/* Returns a pointer to the next n bytes and advances, or NULL (err set). */
static inline const uint8_t *ct_cur_take(struct ct_cur *c, size_t n)
{
	const uint8_t *q = c->p;
	if (!ct_cur_need(c, n))
		return NULL;
	c->p += n;
	return q;
}

static inline uint8_t ct_cur_u8(struct ct_cur *c)
{
	if (!ct_cur_need(c, 1))
		return 0;
	return *c->p++;
}

static inline uint16_t ct_cur_be16(struct ct_cur *c)
{
	if (!ct_cur_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)((uint16_t)c->p[0] << 8 | c->p[1]);
	c->p += 2;
	return v;
}

static inline uint32_t ct_cur_be32(struct ct_cur *c)
{
	if (!ct_cur_need(c, 4))
		return 0;
	uint32_t v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 |
		     c->p[3];
	c->p += 4;
	return v;
}

static inline uint16_t ct_cur_le16(struct ct_cur *c)
{
	if (!ct_cur_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)((uint16_t)c->p[1] << 8 | c->p[0]);
	c->p += 2;
	return v;
}

static inline uint32_t ct_cur_le32(struct ct_cur *c)
{
	if (!ct_cur_need(c, 4))
		return 0;
	uint32_t v = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 |
		     c->p[0];
	c->p += 4;
	return v;
}

/* Peek helpers that do not advance; they fail (return 0, err untouched) when short. */
static inline int ct_cur_peek_u8(const struct ct_cur *c, size_t at, uint8_t *v)
{
	if (c->err || (size_t)(c->end - c->p) <= at)
		return 0;
	*v = c->p[at];
	return 1;
}

#endif
