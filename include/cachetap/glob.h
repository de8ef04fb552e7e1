/* Glob matching of pub/sub channels against --channel patterns (SPEC section 2), with the
 * syntax of Redis PSUBSCRIBE (util.c stringmatchlen): '*' any run of bytes, '?' one byte,
 * '[abc]' '[^abc]' '[a-z]' one byte of (or not of) a set, '\x' the byte x literally. Matching
 * is over (pointer, length) bytes, case-sensitive, and never reads past either end. */
#ifndef CACHETAP_GLOB_H
#define CACHETAP_GLOB_H

#include <stddef.h>
#include <stdint.h>

/* 1 when `s` matches `pat` as a whole, else 0. Time is at most O(plen * slen * plen) (one star
 * backtrack point is kept, never a recursion), so no pattern can take exponential time. */
int ct_glob_match(const uint8_t *pat, size_t plen, const uint8_t *s, size_t slen);

/* 1 when `s` matches any of the NUL-terminated `globs`, else 0. */
int ct_glob_match_any(const char *const *globs, uint32_t nglobs, const uint8_t *s, size_t slen);

#endif
