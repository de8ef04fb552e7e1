/* Glob matching for --channel (SPEC section 2, application invalidation bus), with the
 * pattern syntax of Redis PSUBSCRIBE (redis util.c stringmatchlen), over (pointer, length)
 * bytes. It uses the iterative two-pointer algorithm: only the most recent '*' is remembered
 * as a backtrack point, which is enough because every other token consumes exactly one byte,
 * so the work is bounded by O(pattern x subject x class length) and never exponential.
 * Limits: none of its own; --channel globs are capped by CT_CHANNEL_GLOB_MAX_BYTES (main.c). */
#include "cachetap/glob.h"

/* Does the single-byte token at pat[*pi] match byte c? On return *pi is past the token.
 *
 *   token := '?' | '[' ['^'] item* ']' | '\' byte | byte
 *   item  := '\' byte | byte '-' byte | byte
 *
 * As in Redis, a '[' set left open runs to the end of the pattern, a reversed range (z-a)
 * means the same as a-z, and a '\' at the very end stands for itself. */
static int token_match(const uint8_t *pat, size_t plen, size_t *pi, uint8_t c)
{
	size_t i = *pi;
	uint8_t t = pat[i];
	if (t == '?') {
		*pi = i + 1;
		return 1;
	}
	if (t == '\\' && i + 1 < plen) {
		*pi = i + 2;
		return pat[i + 1] == c;
	}
	if (t != '[') {
		*pi = i + 1;
		return t == c;
	}
	i++;
	int negate = 0, hit = 0;
	if (i < plen && pat[i] == '^') {
		negate = 1;
		i++;
	}
	while (i < plen && pat[i] != ']') {
		if (pat[i] == '\\' && i + 1 < plen) {
			if (pat[i + 1] == c)
				hit = 1;
			i += 2;
		} else if (i + 2 < plen && pat[i + 1] == '-') {
			uint8_t lo = pat[i], hi = pat[i + 2];
			if (lo > hi) {
				uint8_t tmp = lo;
				lo = hi;
				hi = tmp;
			}
			if (c >= lo && c <= hi)
				hit = 1;
			i += 3;
		} else {
			if (pat[i] == c)
				hit = 1;
			i++;
		}
	}
	*pi = i < plen ? i + 1 : i; /* past the ']', or at the end of an open set */
	return negate ? !hit : hit;
}

int ct_glob_match(const uint8_t *pat, size_t plen, const uint8_t *s, size_t slen)
{
	size_t pi = 0, si = 0;
	size_t star = (size_t)-1, mark = 0; /* the last '*' seen, and where its run began */
	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			star = pi++;
			mark = si;
			continue;
		}
		size_t next = pi;
		if (pi < plen && token_match(pat, plen, &next, s[si])) {
			pi = next;
			si++;
			continue;
		}
		if (star == (size_t)-1)
			return 0;
		/* Let the last '*' swallow one more byte and try again from just after it. */
		pi = star + 1;
		si = ++mark;
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

int ct_glob_match_any(const char *const *globs, uint32_t nglobs, const uint8_t *s, size_t slen)
{
	for (uint32_t g = 0; g < nglobs; g++) {
		const uint8_t *p = (const uint8_t *)globs[g];
		size_t n = 0;
		while (p[n])
			n++;
		if (ct_glob_match(p, n, s, slen))
			return 1;
	}
	return 0;
}
