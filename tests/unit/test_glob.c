/* Unit tests of the --channel glob matcher (src/glob.c): a table of pattern, subject and the
 * answer Redis PSUBSCRIBE would give (each as exact-size heap copies, so ASan sees any
 * over-read), then the bounds: subjects with NUL bytes, a subject shorter than its buffer, and
 * a pattern that takes exponential time in a naive recursive matcher. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachetap/common.h"
#include "cachetap/glob.h"
#include "tap.h"

struct gcase {
	const char *pat, *s;
	int want;
};

static const struct gcase cases[] = {
	{ "", "", 1 },
	{ "", "a", 0 },
	{ "*", "", 1 },
	{ "*", "anything", 1 },
	{ "app-inval", "app-inval", 1 },
	{ "app-inval", "app-inval2", 0 },
	{ "app-inval", "app-inva", 0 },
	{ "app-*", "app-inval", 1 },
	{ "app-*", "app-", 1 },
	{ "app-*", "ap", 0 },
	{ "*-inval", "app-inval", 1 },
	{ "*-inval", "app-invalx", 0 },
	{ "a*b*c", "axxbyyc", 1 },
	{ "a*b*c", "abc", 1 },
	{ "a*b*c", "acb", 0 },
	{ "a*b", "abab", 1 },
	{ "a**b", "ab", 1 },
	{ "h?llo", "hello", 1 },
	{ "h?llo", "hllo", 0 },
	{ "h[ae]llo", "hallo", 1 },
	{ "h[ae]llo", "hillo", 0 },
	{ "h[^e]llo", "hallo", 1 },
	{ "h[^e]llo", "hello", 0 },
	{ "h[a-b]llo", "hbllo", 1 },
	{ "h[a-b]llo", "hcllo", 0 },
	{ "h[b-a]llo", "hallo", 1 }, /* a reversed range is the same range */
	{ "[\\]]", "]", 1 },
	{ "[]]", "]", 0 },           /* "[]" is an empty set, then a literal ']' */
	{ "[abc", "b", 1 },          /* an open set runs to the end of the pattern */
	{ "\\*", "*", 1 },
	{ "\\*", "a", 0 },
	{ "\\?x", "?x", 1 },
	{ "a\\", "a\\", 1 },         /* a final backslash stands for itself */
	{ "inval:*:[0-9]", "inval:users:7", 1 },
	{ "inval:*:[0-9]", "inval:users:x", 0 },
	{ "Inval", "inval", 0 },     /* case-sensitive, like PSUBSCRIBE */
	{ "*?", "", 0 },
	{ "*?", "a", 1 },
};

int main(void)
{
	for (size_t i = 0; i < CT_ARRAY_LEN(cases); i++) {
		const struct gcase *c = &cases[i];
		/* Exact-size heap copies, so any read past either end shows up under ASan. */
		size_t pl = strlen(c->pat), sl = strlen(c->s);
		uint8_t *p = malloc(pl + 1), *s = malloc(sl + 1);
		memcpy(p, c->pat, pl);
		memcpy(s, c->s, sl);
		is_int(ct_glob_match(p, pl, s, sl), c->want, "'%s' ~ '%s'", c->pat, c->s);
		free(p);
		free(s);
	}

	/* Bytes, not C strings: a NUL inside the subject is an ordinary byte. */
	static const uint8_t nul_s[] = { 'a', 0, 'b' };
	is_int(ct_glob_match((const uint8_t *)"a?b", 3, nul_s, 3), 1, "'?' matches a NUL byte");
	is_int(ct_glob_match((const uint8_t *)"a*", 2, nul_s, 3), 1, "'*' runs over a NUL byte");
	is_int(ct_glob_match((const uint8_t *)"ab", 2, nul_s, 3), 0, "a NUL does not end the subject");
	/* The subject length is respected: "app-inval" cut to "app-in". */
	is_int(ct_glob_match((const uint8_t *)"app-inval", 9, (const uint8_t *)"app-inval", 6), 0,
	       "subject length respected");

	/* ct_glob_match_any over several --channel globs. */
	const char *globs[] = { "inval:*", "app-inval", "cache.[ab]" };
	is_int(ct_glob_match_any(globs, 3, (const uint8_t *)"cache.b", 7), 1, "any: third glob");
	is_int(ct_glob_match_any(globs, 3, (const uint8_t *)"inval:x", 7), 1, "any: first glob");
	is_int(ct_glob_match_any(globs, 3, (const uint8_t *)"news", 4), 0, "any: none");
	is_int(ct_glob_match_any(globs, 0, (const uint8_t *)"inval:x", 7), 0, "any: no globs");

	/* "a*a*a*...*b" against "aaaa...a" takes exponential time in a recursive matcher; the
	 * two-pointer one does it in well under a second. */
	uint8_t pat[256], s[512];
	size_t pl = 0;
	while (pl + 2 < sizeof pat - 1) {
		pat[pl++] = 'a';
		pat[pl++] = '*';
	}
	pat[pl++] = 'b';
	memset(s, 'a', sizeof s);
	clock_t t0 = clock();
	is_int(ct_glob_match(pat, pl, s, sizeof s), 0, "pathological pattern: no match");
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	ok(secs < 1.0, "pathological pattern: bounded time (%.3f s)", secs);
	return done_testing();
}
