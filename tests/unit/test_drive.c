/* Unit tests of the driver's memcached reply parser (ct_drive_mc_reply in src/drive.c,
 * memcached protocol.txt): replies to `get KEY` and `mg KEY v`, each fed whole, then as every
 * prefix (split at every byte; the client keeps what it received and parses again, so one byte
 * at a time is the same sequence of prefixes). A prefix must ask for more, or give the same
 * error as the whole. Inputs are exact-size heap copies, so ASan sees any over-read. */
#include <stdlib.h>
#include <string.h>

#include "cachetap/common.h"
#include "cachetap/drive.h"
#include "cachetap/limits.h"
#include "tap.h"

struct mcase {
	const char *name;
	const char *in;
	size_t len;       /* 0: strlen(in) */
	int mg;
	int64_t want;     /* bytes consumed, or a negative error */
	int kind;
	const char *value; /* expected value (VALUE kind) */
	size_t value_len;
};

#define OK(n, s, mg, used, kind, v) { n, s, 0, mg, used, kind, v, sizeof(v) - 1 }
#define ERR(n, s, mg, e) { n, s, 0, mg, e, 0, NULL, 0 }

static const struct mcase cases[] = {
	OK("get miss", "END\r\n", 0, 5, CT_MC_REPLY_MISS, ""),
	OK("get value", "VALUE k 0 3\r\nabc\r\nEND\r\n", 0, 23, CT_MC_REPLY_VALUE, "abc"),
	OK("get value with cas", "VALUE k 5 3 99\r\nabc\r\nEND\r\n", 0, 26, CT_MC_REPLY_VALUE, "abc"),
	OK("get value holding CRLF", "VALUE k 0 4\r\na\r\nb\r\nEND\r\n", 0, 24, CT_MC_REPLY_VALUE,
	   "a\r\nb"),
	OK("get empty value", "VALUE k 0 0\r\n\r\nEND\r\n", 0, 20, CT_MC_REPLY_VALUE, ""),
	OK("get: only the first reply", "END\r\nEND\r\n", 0, 5, CT_MC_REPLY_MISS, ""),
	OK("mg miss", "EN\r\n", 1, 4, CT_MC_REPLY_MISS, ""),
	OK("mg value", "VA 2 f1 t\r\nhi\r\n", 1, 15, CT_MC_REPLY_VALUE, "hi"),
	OK("mg value, no flags", "VA 3\r\nxyz\r\n", 1, 11, CT_MC_REPLY_VALUE, "xyz"),
	OK("mg empty value", "VA 0\r\n\r\n", 1, 8, CT_MC_REPLY_VALUE, ""),
	OK("ERROR", "ERROR\r\n", 0, 7, CT_MC_REPLY_ERROR, ""),
	OK("CLIENT_ERROR", "CLIENT_ERROR bad data chunk\r\n", 1, 29, CT_MC_REPLY_ERROR, ""),
	OK("SERVER_ERROR", "SERVER_ERROR out of memory\r\n", 0, 28, CT_MC_REPLY_ERROR, ""),
	OK("mg HD where a value was due", "HD\r\n", 1, 4, CT_MC_REPLY_ERROR, ""),
	OK("mg NF", "NF\r\n", 1, 4, CT_MC_REPLY_ERROR, ""),
	ERR("bare LF", "END\n", 0, CT_EPROTO),
	ERR("unknown word", "FOO\r\n", 0, CT_EPROTO),
	ERR("empty line", "\r\n", 0, CT_EPROTO),
	ERR("EN to a get", "EN\r\n", 0, CT_EPROTO),
	ERR("END to an mg", "END\r\n", 1, CT_EPROTO),
	ERR("END with more", "END x\r\n", 0, CT_EPROTO),
	ERR("bad flags", "VALUE k x 3\r\nabc\r\nEND\r\n", 0, CT_EPROTO),
	ERR("bad size", "VALUE k 0 3a\r\nabc\r\nEND\r\n", 0, CT_EPROTO),
	ERR("no size", "VALUE k 0\r\n", 0, CT_EPROTO),
	ERR("value not ended by CRLF", "VALUE k 0 3\r\nabcX\r\nEND\r\n", 0, CT_EPROTO),
	ERR("not END after the value", "VALUE k 0 3\r\nabc\r\nENX\r\n", 0, CT_EPROTO),
	ERR("a second VALUE", "VALUE k 0 1\r\na\r\nVALUE j 0 1\r\nb\r\nEND\r\n", 0, CT_EPROTO),
	ERR("VA without size", "VA\r\n", 1, CT_EPROTO),
	ERR("VA to a get", "VA 1\r\nx\r\n", 0, CT_EPROTO),
	ERR("size of 20 digits", "VA 12345678901234567890\r\n", 1, CT_EPROTO),
	ERR("value over the cap", "VA 8388609\r\n", 1, CT_ELIMIT),
	ERR("get value over the cap", "VALUE k 0 99999999\r\n", 0, CT_ELIMIT),
};

static void run_case(const struct mcase *c)
{
	size_t len = c->len ? c->len : strlen(c->in);
	uint8_t *buf = malloc(len);
	memcpy(buf, c->in, len);
	struct ct_mc_reply r;
	int64_t got = ct_drive_mc_reply(buf, len, c->mg, &r);
	is_int(got, c->want, "%s: whole", c->name);
	if (got > 0 && c->want > 0) {
		is_int(r.kind, c->kind, "%s: kind", c->name);
		if (c->kind == CT_MC_REPLY_VALUE)
			is_mem(r.value, r.value_len, c->value, c->value_len, "%s: value", c->name);
		ok(r.text == buf && r.text_len > 0 && r.text_len + 2 <= len, "%s: first line", c->name);
	}
	/* Every prefix: need more, or (for a bad input) the same error. */
	int prefixes_ok = 1;
	for (size_t n = 0; n < (c->want > 0 ? (size_t)c->want : len); n++) {
		uint8_t *pre = malloc(n ? n : 1);
		memcpy(pre, c->in, n);
		int64_t g = ct_drive_mc_reply(pre, n, c->mg, &r);
		if (!(g == 0 || (c->want < 0 && g == c->want))) {
			prefixes_ok = 0;
			diag("%s: prefix of %zu bytes gave %lld", c->name, n, (long long)g);
		}
		free(pre);
	}
	ok(prefixes_ok, "%s: every prefix asks for more%s", c->name,
	   c->want < 0 ? " or gives the same error" : "");
	free(buf);
}

/* A line that never ends: more bytes are asked for up to the line cap, then it is refused. */
static void test_long_line(void)
{
	size_t n = CT_DRIVE_MC_LINE_MAX_BYTES + 1;
	uint8_t *b = malloc(n + 1);
	memset(b, 'x', n + 1);
	memcpy(b, "SERVER_ERROR ", 13);
	struct ct_mc_reply r;
	is_int(ct_drive_mc_reply(b, n, 0, &r), 0, "a line just under the cap: need more");
	is_int(ct_drive_mc_reply(b, n + 1, 0, &r), CT_EPROTO, "a line over the cap: refused");
	b[n - 1] = '\r';
	b[n] = '\n';
	is_int(ct_drive_mc_reply(b, n + 1, 0, &r), (long long)(n + 1), "a line of exactly the cap");
	free(b);
}

int main(void)
{
	for (size_t i = 0; i < CT_ARRAY_LEN(cases); i++)
		run_case(&cases[i]);
	test_long_line();
	return done_testing();
}
