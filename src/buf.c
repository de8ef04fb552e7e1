/* The growable, capped byte buffer (buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cachetap/buf.h"
#include "cachetap/limits.h"

/* Makes room for n more bytes and the NUL after them. */
static int reserve(struct ct_buf *b, size_t n)
{
	size_t max = b->max ? b->max : CT_BUF_MAX_BYTES;
	if (n > max || b->len > max - n)
		return CT_ELIMIT;
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *q = ct_realloc(b->p, cap);
	if (!q)
		return CT_ENOMEM;
	b->p = q;
	b->cap = cap;
	return 0;
}

int ct_buf_add(struct ct_buf *b, const void *p, size_t n)
{
	int rc = reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int ct_buf_vprintf(struct ct_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	int rc = n < 0 ? CT_EINVAL : reserve(b, (size_t)n);
	if (rc == 0) {
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
	return rc;
}

int ct_buf_printf(struct ct_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ct_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void ct_buf_free(struct ct_buf *b)
{
	ct_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
