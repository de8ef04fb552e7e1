/* A growable byte buffer with a cap (STYLE.md example 8, after curl's dynbuf): appends fail
 * cleanly with CT_ELIMIT past the cap or CT_ENOMEM, never grow without bound. The bytes are
 * always followed by a NUL, so a buffer of text can be used as a C string. For our own
 * output (tools, test logs, reports); decoders allocate nothing and do not use it. */
#ifndef CACHETAP_BUF_H
#define CACHETAP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cachetap/common.h"

struct ct_buf {
	char *p;     /* NULL until something was added */
	size_t len;  /* bytes in use, not counting the NUL after them */
	size_t cap;  /* bytes allocated */
	size_t max;  /* the cap on len; 0 = CT_BUF_MAX_BYTES */
};

int ct_buf_add(struct ct_buf *b, const void *p, size_t n) CT_WUR;
int ct_buf_printf(struct ct_buf *b, const char *fmt, ...) CT_WUR
	__attribute__((format(printf, 2, 3)));
int ct_buf_vprintf(struct ct_buf *b, const char *fmt, va_list ap) CT_WUR
	__attribute__((format(printf, 2, 0)));
void ct_buf_free(struct ct_buf *b); /* back to empty; the cap is kept */

static inline const char *ct_buf_str(const struct ct_buf *b)
{
	return b->p ? b->p : "";
}

#endif
