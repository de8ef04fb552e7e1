/* Minimal TAP producer for the unit tests (run under prove). Every assertion prints both
 * sides when it fails. Include once per test program. */
#ifndef CACHETAP_TAP_H
#define CACHETAP_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_ok_(int cond, const char *file, int line, const char *name)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
}

#define ok(cond, ...)                                                                 \
	do {                                                                          \
		char tap_name_[256];                                                  \
		snprintf(tap_name_, sizeof tap_name_, __VA_ARGS__);                   \
		tap_ok_(!!(cond), __FILE__, __LINE__, tap_name_);                     \
	} while (0)

#define is_int(got, want, ...)                                                        \
	do {                                                                          \
		long long g_ = (long long)(got), w_ = (long long)(want);              \
		char tap_name_[256];                                                  \
		snprintf(tap_name_, sizeof tap_name_, __VA_ARGS__);                   \
		tap_ok_(g_ == w_, __FILE__, __LINE__, tap_name_);                     \
		if (g_ != w_)                                                         \
			printf("#        got: %lld\n#   expected: %lld\n", g_, w_);   \
	} while (0)

#define is_str(got, want, ...)                                                        \
	do {                                                                          \
		const char *g_ = (got), *w_ = (want);                                 \
		char tap_name_[256];                                                  \
		snprintf(tap_name_, sizeof tap_name_, __VA_ARGS__);                   \
		int eq_ = g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_;                  \
		tap_ok_(eq_, __FILE__, __LINE__, tap_name_);                          \
		if (!eq_)                                                             \
			printf("#        got: '%s'\n#   expected: '%s'\n", g_ ? g_ : "(null)", \
			       w_ ? w_ : "(null)");                                   \
	} while (0)

/* Compares byte buffers; on failure prints the first differing offset. */
#define is_mem(got, glen, want, wlen, ...)                                            \
	do {                                                                          \
		const unsigned char *g_ = (const unsigned char *)(got);               \
		const unsigned char *w_ = (const unsigned char *)(want);              \
		size_t gl_ = (glen), wl_ = (wlen), i_ = 0;                            \
		while (i_ < gl_ && i_ < wl_ && g_[i_] == w_[i_])                      \
			i_++;                                                         \
		char tap_name_[256];                                                  \
		snprintf(tap_name_, sizeof tap_name_, __VA_ARGS__);                   \
		int eq_ = gl_ == wl_ && i_ == gl_;                                    \
		tap_ok_(eq_, __FILE__, __LINE__, tap_name_);                          \
		if (!eq_)                                                             \
			printf("#   lengths got %zu expected %zu; first difference at %zu\n", \
			       gl_, wl_, i_);                                         \
	} while (0)

#define diag(...)                                                                     \
	do {                                                                          \
		printf("# ");                                                         \
		printf(__VA_ARGS__);                                                  \
		printf("\n");                                                         \
	} while (0)

/* Ends the plan; returns the process exit status. */
static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
