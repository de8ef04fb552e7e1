/* The spec-fixture machinery shared by the decoder and protocol-module tests: a growing string,
 * the escapes of fixture text, a reader of fixture files, and the check that replays every case
 * whole, split in two at every byte position, and one byte at a time, and compares each run's
 * event log with the expected one, printing where they differ. Header-only like tap.h: include
 * it once per test program. Test code: allocation goes through the shim, and running out of
 * memory or a malformed fixture aborts (neither is a test result).
 *
 * A fixture file (tests/fixtures/SUBDIR/NAME.txt) is readable text, one directive per line:
 *   === NAME       starts a case
 *   # ...          a comment; blank lines are skipped too
 *   out LINE       appends LINE to the case's expected event log
 *   anything else  is the test's own directive (input bytes, side, options), parsed by the
 *                  suite's `directive` callback with the helpers below; a decoder test takes
 *                  the usual input lines of one stream (in, rep, hex, gap) from ct_fx_input
 * Input text escapes (ct_fx_unescape): \r \n \t \s (space) \\ \" \xNN. Hex text (ct_fx_unhex):
 * pairs of hex digits, spaces ignored.
 *
 * A case's input is a list of segments over one byte buffer, `in`. DATA segments are stream
 * bytes in one direction: they are the ones cut differently from run to run. GAP segments are
 * bytes lost (kept in `in` as '?' so that offsets into `in` stay stream offsets). A test may add
 * kinds of its own from CT_FX_KIND_USER up (a datagram, a close); those are always fed whole.
 * The suite's `run` callback replays a case under one chunking, normally with ct_fx_walk, and
 * hands back the log.
 *
 * Limits: CT_FX_MAX_SEGS segments per case, CT_FX_LINE_MAX_BYTES per fixture line,
 * CT_FX_GAP_MAX_BYTES per gap, CT_FX_DIRS directions. */
#ifndef CACHETAP_FIXTURE_H
#define CACHETAP_FIXTURE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachetap/buf.h"
#include "cachetap/common.h"
#include "tap.h"

#define CT_FX_MAX_SEGS 512           /* segments (packets, gaps, steps) in one case */
#define CT_FX_LINE_MAX_BYTES 70000   /* one fixture line, its newline included */
#define CT_FX_GAP_MAX_BYTES (1u << 20) /* one gap: its placeholder bytes are really stored */
#define CT_FX_NAME_MAX_BYTES 160     /* "FILE: case name", cut beyond */
#define CT_FX_DIRS 2                 /* directions that are split in turn (client, server) */

/* ---- a growing string: the library's ct_buf (buf.h); a test that runs out of memory stops -- */

static inline void ct_fx_put(struct ct_buf *b, const void *p, size_t n)
{
	if (ct_buf_add(b, p, n))
		abort();
}

static inline void ct_fx_printf(struct ct_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void ct_fx_printf(struct ct_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ct_buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc)
		abort();
}

/* The text, "" while empty: logs compare and print without a NULL check. */
static inline const char *ct_fx_str(const struct ct_buf *b)
{
	return ct_buf_str(b);
}

static inline void ct_fx_buf_free(struct ct_buf *b)
{
	ct_buf_free(b);
}

/* Appends bytes to a log line, readable and on one line: printable ASCII as is, a space as \s,
 * a backslash as \\, the controls named in `named` (any of 'r', 'n', 't') as \r \n \t, and every
 * other byte as \xNN, a double quote included so that a quoted field ends at its quote. Each
 * test keeps the set its expected logs were written with. */
static inline void ct_fx_esc(struct ct_buf *b, const void *p, size_t n, const char *named)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		char e = c == '\r' ? 'r' : c == '\n' ? 'n' : c == '\t' ? 't' : 0;
		if (e && strchr(named, e))
			ct_fx_printf(b, "\\%c", e);
		else if (c == '\\')
			ct_fx_put(b, "\\\\", 2);
		else if (c == ' ')
			ct_fx_put(b, "\\s", 2);
		else if (c < 0x21 || c > 0x7e || c == '"')
			ct_fx_printf(b, "\\x%02x", c);
		else
			ct_fx_put(b, &c, 1);
	}
}

/* ---- fixture text -------------------------------------------------------------------------- */

static inline int ct_fx_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends `text` with its escapes undone: \r \n \t \s (space) \\ \" \xNN. Returns 0, or -1 at a
 * bad or unfinished escape (what came before it is appended). */
static inline int ct_fx_unescape(struct ct_buf *b, const char *text)
{
	const char *p = text;
	while (*p) {
		char c = *p++;
		if (c == '\\') {
			switch (*p++) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 's': c = ' '; break;
			case '\\': c = '\\'; break;
			case '"': c = '"'; break;
			case 'x': {
				int hi = ct_fx_hexval(p[0]), lo = hi >= 0 ? ct_fx_hexval(p[1]) : -1;
				if (lo < 0)
					return -1;
				c = (char)(hi << 4 | lo);
				p += 2;
				break;
			}
			default: /* the NUL after a final backslash too: p is not read again */
				return -1;
			}
		}
		ct_fx_put(b, &c, 1);
	}
	return 0;
}

/* Appends the bytes written in hex in `text` (pairs of digits, spaces between them ignored).
 * Returns 0, or -1 at anything else. */
static inline int ct_fx_unhex(struct ct_buf *b, const char *text)
{
	const char *p = text;
	while (*p) {
		if (*p == ' ') {
			p++;
			continue;
		}
		int hi = ct_fx_hexval(p[0]), lo = hi >= 0 ? ct_fx_hexval(p[1]) : -1;
		if (lo < 0)
			return -1;
		char c = (char)(hi << 4 | lo);
		ct_fx_put(b, &c, 1);
		p += 2;
	}
	return 0;
}

/* ---- a case -------------------------------------------------------------------------------- */

enum { CT_FX_DATA, CT_FX_GAP, CT_FX_KIND_USER };

struct ct_fx_seg {
	int kind;        /* CT_FX_DATA, CT_FX_GAP, or the test's own from CT_FX_KIND_USER */
	int dir;         /* 0 .. CT_FX_DIRS - 1 */
	int conn;        /* for the test: which connection */
	uint64_t t;      /* for the test: a time */
	size_t off, len; /* its bytes: in[off, off + len) */
	uint64_t pos;    /* DATA: where it starts among its direction's DATA bytes */
};

/* What every fixture case has. A test with fields of its own puts this first in its own case
 * struct (the reader allocates the suite's case_size and hands out this part). */
struct ct_fx_case {
	char name[CT_FX_NAME_MAX_BYTES]; /* "FILE: case name" */
	int line;                        /* the line of its === in the file */
	struct ct_buf in;             /* every segment's bytes, one after another */
	struct ct_fx_seg seg[CT_FX_MAX_SEGS];
	int nseg;
	uint64_t dir_len[CT_FX_DIRS]; /* DATA bytes in each direction: the split positions */
	struct ct_buf out;         /* the expected log */
};

/* A zeroed case of `size` bytes (at least sizeof(struct ct_fx_case)). */
static inline struct ct_fx_case *ct_fx_case_new(size_t size)
{
	struct ct_fx_case *c = size >= sizeof *c ? ct_calloc(1, size) : NULL;
	if (!c)
		abort();
	return c;
}

static inline void ct_fx_case_free(struct ct_fx_case *c)
{
	if (!c)
		return;
	ct_fx_buf_free(&c->in);
	ct_fx_buf_free(&c->out);
	ct_free(c);
}

/* Adds a segment over the bytes put into c->in since `from` (possibly none). */
static inline struct ct_fx_seg *ct_fx_seg_add(struct ct_fx_case *c, int kind, int dir, size_t from)
{
	if (c->nseg == CT_FX_MAX_SEGS || dir < 0 || dir >= CT_FX_DIRS || from > c->in.len) {
		fprintf(stderr, "%s: more than CT_FX_MAX_SEGS segments, or a bad direction\n",
			c->name);
		abort();
	}
	struct ct_fx_seg *g = &c->seg[c->nseg++];
	*g = (struct ct_fx_seg){ .kind = kind, .dir = dir, .off = from, .len = c->in.len - from };
	if (kind == CT_FX_DATA) {
		g->pos = c->dir_len[dir];
		c->dir_len[dir] += g->len;
	}
	return g;
}

/* Continues a single stream (direction 0) with the bytes put into c->in since `from`: adjacent
 * input lines make one DATA segment, so one chunk when the case is fed whole. */
static inline void ct_fx_stream(struct ct_fx_case *c, size_t from)
{
	size_t n = c->in.len - from;
	struct ct_fx_seg *last = c->nseg ? &c->seg[c->nseg - 1] : NULL;
	if (!n)
		return;
	if (last && last->kind == CT_FX_DATA && last->dir == 0 && last->off + last->len == from) {
		last->len += n;
		c->dir_len[0] += n;
		return;
	}
	ct_fx_seg_add(c, CT_FX_DATA, 0, from);
}

/* Adds n lost bytes in direction `dir`. */
static inline struct ct_fx_seg *ct_fx_gap(struct ct_fx_case *c, int dir, size_t n)
{
	size_t from = c->in.len;
	if (n > CT_FX_GAP_MAX_BYTES) {
		fprintf(stderr, "%s: a gap over CT_FX_GAP_MAX_BYTES\n", c->name);
		abort();
	}
	char fill[256];
	memset(fill, '?', sizeof fill);
	for (size_t at = 0; at < n; at += sizeof fill)
		ct_fx_put(&c->in, fill, n - at < sizeof fill ? n - at : sizeof fill);
	return ct_fx_seg_add(c, CT_FX_GAP, dir, from);
}

/* The input directives of a single-stream case (a decoder test), for its directive callback:
 *   in TEXT        appends TEXT (escapes undone); adjacent in/rep/hex lines make one segment
 *   rep N TEXT     appends TEXT N times
 *   hex HEX        appends bytes written in hex
 *   gap N          N bytes lost
 * Returns 1 when `line` was one of them, 0 when it is not, -1 when it is malformed. */
static inline int ct_fx_input(struct ct_fx_case *c, const char *line)
{
	size_t from = c->in.len;
	int bad = 0;
	if (strncmp(line, "in ", 3) == 0 || strcmp(line, "in") == 0) {
		bad = ct_fx_unescape(&c->in, line[2] ? line + 3 : "");
	} else if (strncmp(line, "rep ", 4) == 0) {
		char *end;
		unsigned long n = strtoul(line + 4, &end, 10);
		struct ct_buf one = { 0 };
		bad = end == line + 4 || ct_fx_unescape(&one, *end == ' ' ? end + 1 : end);
		for (unsigned long i = 0; i < n && !bad; i++)
			ct_fx_put(&c->in, one.p, one.len);
		ct_fx_buf_free(&one);
	} else if (strncmp(line, "hex ", 4) == 0) {
		bad = ct_fx_unhex(&c->in, line + 4);
	} else if (strncmp(line, "gap ", 4) == 0) {
		ct_fx_gap(c, 0, strtoul(line + 4, NULL, 10));
		return 1;
	} else {
		return 0;
	}
	if (bad)
		return -1;
	ct_fx_stream(c, from);
	return 1;
}

/* ---- replaying a case under one chunking --------------------------------------------------- */

enum ct_fx_mode { CT_FX_WHOLE, CT_FX_SPLIT, CT_FX_BYTES };

struct ct_fx_how {
	enum ct_fx_mode mode;
	int dir;     /* CT_FX_SPLIT: the direction cut */
	uint64_t at; /* CT_FX_SPLIT: the cut is before this DATA byte of `dir` (0: no cut) */
};

/* One chunk of segment g: its bytes from `at` within the segment, n of them. */
typedef void ct_fx_chunk_fn(void *ctx, const struct ct_fx_seg *g, size_t at, const uint8_t *p,
			    size_t n);

/* Calls fn for every chunk of the case, in order. A DATA segment is cut as `how` says (an empty
 * one still makes one call, with n = 0); a GAP makes one call with p = NULL and n its length; a
 * test's own kind makes one call with all its bytes. Every p is a fresh heap copy freed right
 * after the call, so that ASan catches a decoder keeping a pointer into a chunk. */
static inline void ct_fx_walk(const struct ct_fx_case *c, const struct ct_fx_how *how,
			      ct_fx_chunk_fn *fn, void *ctx)
{
	for (int i = 0; i < c->nseg; i++) {
		const struct ct_fx_seg *g = &c->seg[i];
		if (g->kind == CT_FX_GAP) {
			fn(ctx, g, 0, NULL, g->len);
			continue;
		}
		size_t at = 0;
		do {
			size_t n = g->len - at;
			if (g->kind == CT_FX_DATA && how->mode == CT_FX_BYTES && n > 1)
				n = 1;
			else if (g->kind == CT_FX_DATA && how->mode == CT_FX_SPLIT &&
				 how->dir == g->dir && how->at > g->pos + at &&
				 how->at < g->pos + g->len)
				n = (size_t)(how->at - g->pos) - at;
			uint8_t *copy = ct_malloc(n ? n : 1);
			if (!copy)
				abort();
			if (n)
				memcpy(copy, c->in.p + g->off + at, n);
			fn(ctx, g, at, copy, n);
			ct_free(copy);
			at += n;
		} while (at < g->len);
	}
}

/* Capture times for a single-stream run: each chunk (or gap) is 10 ns after the one before,
 * starting at 1000, and at[i] is the time of the chunk that carried (or lost) byte i of `in`, so
 * that the time a decoder gives a message's first and last byte can be checked. */
struct ct_fx_clock {
	uint64_t now;
	uint64_t *at;
};

static inline void ct_fx_clock_init(struct ct_fx_clock *k, size_t nbytes)
{
	k->now = 1000;
	k->at = ct_calloc(nbytes + 1, sizeof *k->at);
	if (!k->at)
		abort();
}

/* The time of the next chunk, bytes [off, off + n) of `in`. */
static inline uint64_t ct_fx_clock_tick(struct ct_fx_clock *k, uint64_t off, size_t n)
{
	k->now += 10;
	for (size_t i = 0; i < n; i++)
		k->at[off + i] = k->now;
	return k->now;
}

static inline void ct_fx_clock_free(struct ct_fx_clock *k)
{
	ct_free(k->at);
	k->at = NULL;
}

/* ---- checking a case ----------------------------------------------------------------------- */

/* Replays case c under chunking `how`; *log receives the run's log (the caller frees it). */
typedef void ct_fx_run_fn(const struct ct_fx_case *c, const struct ct_fx_how *how,
			  struct ct_buf *log);

/* What a test tells the reader and the check. */
struct ct_fx_suite {
	const char *subdir;    /* the fixture files are tests/fixtures/SUBDIR/NAME */
	size_t case_size;      /* the test's case struct, which starts with a struct ct_fx_case */
	int ndirs;             /* 1: one stream; 2: each direction is split in turn */
	const char *dir_name[CT_FX_DIRS]; /* with ndirs 2: how assertions name the directions */
	const char *print_env; /* when this variable is set, each case's actual log is printed */
	void (*start)(struct ct_fx_case *c); /* a new case's defaults; may be NULL */
	int (*directive)(struct ct_fx_case *c, const char *line); /* 0, or -1: bad or unknown */
	ct_fx_run_fn *run;
	void (*release)(struct ct_fx_case *c); /* frees the test's own fields; may be NULL */
};

static inline void ct_fx_diag_line(const char *label, const char *p)
{
	if (*p)
		diag("%s: %.*s", label, (int)strcspn(p, "\n"), p);
	else
		diag("%s: (end of log)", label);
}

static inline size_t ct_fx_lines(const char *p)
{
	size_t n = 0;
	for (; *p; p++)
		n += *p == '\n';
	return n;
}

/* Prints where a log first differs from the expected one: the line number, and that line of
 * each side (or that the side ended there). */
static inline void ct_fx_diff(const char *got, const char *want)
{
	size_t i = 0, line = 1, start = 0;
	while (got[i] && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	diag("first difference at log line %zu (got %zu lines, want %zu)", line, ct_fx_lines(got),
	     ct_fx_lines(want));
	ct_fx_diag_line("   got", got + start);
	ct_fx_diag_line("  want", want + start);
}

/* One run: 1 when its log is exactly the expected one. Otherwise *bad keeps the log. */
static inline int ct_fx_try(const struct ct_fx_suite *s, const struct ct_fx_case *c,
			    const struct ct_fx_how *how, struct ct_buf *bad)
{
	struct ct_buf log = { 0 };
	s->run(c, how, &log);
	if (how->mode == CT_FX_WHOLE && s->print_env && getenv(s->print_env))
		printf("=== %s\n%s", c->name, ct_fx_str(&log));
	if (log.len == c->out.len && (!log.len || memcmp(log.p, c->out.p, log.len) == 0)) {
		ct_fx_buf_free(&log);
		return 1;
	}
	*bad = log;
	return 0;
}

/* The assertions of one case: fed whole; split in two at every byte position, in each
 * direction in turn (with fewer than two bytes, one run without a cut, so that the assertion
 * never passes without a run); one byte at a time. A failure prints how the input was cut and
 * where the log differs. */
static inline void ct_fx_check(const struct ct_fx_suite *s, const struct ct_fx_case *c)
{
	struct ct_buf bad = { 0 };
	struct ct_fx_how how = { CT_FX_WHOLE, 0, 0 };
	int good = ct_fx_try(s, c, &how, &bad);
	ok(good, "%s (line %d): whole", c->name, c->line);
	if (!good)
		ct_fx_diff(ct_fx_str(&bad), ct_fx_str(&c->out));
	ct_fx_buf_free(&bad);

	for (int dir = 0; dir < s->ndirs; dir++) {
		uint64_t n = c->dir_len[dir], last = n > 1 ? n - 1 : 0;
		const char *dname = s->ndirs > 1 && s->dir_name[dir] ? s->dir_name[dir] : "";
		how = (struct ct_fx_how){ CT_FX_SPLIT, dir, n > 1 ? 1 : 0 };
		good = 1;
		for (; good && how.at <= last; how.at++)
			good = ct_fx_try(s, c, &how, &bad);
		ok(good, "%s (line %d): split %s%sat every byte", c->name, c->line, dname,
		   *dname ? " " : "");
		if (!good) {
			diag("split before byte %llu%s%s", (unsigned long long)(how.at - 1),
			     *dname ? " of " : "", dname);
			ct_fx_diff(ct_fx_str(&bad), ct_fx_str(&c->out));
		}
		ct_fx_buf_free(&bad);
	}

	how = (struct ct_fx_how){ CT_FX_BYTES, 0, 0 };
	good = ct_fx_try(s, c, &how, &bad);
	ok(good, "%s (line %d): one byte at a time", c->name, c->line);
	if (!good)
		ct_fx_diff(ct_fx_str(&bad), ct_fx_str(&c->out));
	ct_fx_buf_free(&bad);
}

/* ---- reading fixture files ----------------------------------------------------------------- */

/* The directory tests/fixtures/SUBDIR: below $CT_TOP when set, else the first one found walking
 * up from the current directory. Returns 1 when found. */
static inline int ct_fx_dir(const char *subdir, char *out, size_t cap)
{
	const char *top = getenv("CT_TOP");
	if (top && *top) {
		snprintf(out, cap, "%s/tests/fixtures/%s", top, subdir);
		return access(out, R_OK) == 0;
	}
	char rel[64] = ".";
	for (int up = 0; up < 8; up++) {
		snprintf(out, cap, "%s/tests/fixtures/%s", rel, subdir);
		if (access(out, R_OK) == 0)
			return 1;
		strcat(rel, "/..");
	}
	return 0;
}

/* Reads and checks every case of tests/fixtures/SUBDIR/NAME. Assertions: that the file opens,
 * those of ct_fx_check for each case, and that the file has cases. A malformed line stops the
 * program with its file and line. Returns the number of cases. */
static inline int ct_fx_file(const struct ct_fx_suite *s, const char *name)
{
	char dir[400], path[512];
	int found = ct_fx_dir(s->subdir, dir, sizeof dir);
	if (!found)
		snprintf(dir, sizeof dir, "tests/fixtures/%s", s->subdir);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	ok(f != NULL, "open %.200s", path);
	if (!f && !found)
		diag("fixtures not found: set CT_TOP to the source tree");
	static char line[CT_FX_LINE_MAX_BYTES];
	struct ct_fx_case *c = NULL;
	int lineno = 0, ncases = 0;
	while (f) {
		char *got = fgets(line, sizeof line, f);
		if (got) {
			size_t n = strlen(line);
			lineno++;
			if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
				fprintf(stderr, "%s:%d: line over CT_FX_LINE_MAX_BYTES\n", path,
					lineno);
				abort();
			}
			while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = 0;
		}
		if (!got || strncmp(line, "=== ", 4) == 0) {
			if (c) {
				ct_fx_check(s, c);
				ncases++;
				if (s->release)
					s->release(c);
				ct_fx_case_free(c);
				c = NULL;
			}
			if (!got)
				break;
			c = ct_fx_case_new(s->case_size);
			snprintf(c->name, sizeof c->name, "%.50s: %.100s", name, line + 4);
			c->line = lineno;
			if (s->start)
				s->start(c);
			continue;
		}
		if (line[0] == '#' || line[0] == 0)
			continue;
		if (!c) {
			fprintf(stderr, "%s:%d: directive before the first case\n", path, lineno);
			abort();
		}
		if (strncmp(line, "out ", 4) == 0) {
			ct_fx_put(&c->out, line + 4, strlen(line + 4));
			ct_fx_put(&c->out, "\n", 1);
		} else if (s->directive(c, line) != 0) {
			fprintf(stderr, "%s:%d: bad or unknown directive: %s\n", path, lineno,
				line);
			abort();
		}
	}
	if (f)
		fclose(f);
	ok(ncases > 0, "%s has cases (%d)", name, ncases);
	return ncases;
}

#endif
