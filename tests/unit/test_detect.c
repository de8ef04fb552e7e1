/* Unit tests for src/detect.c: payload detection on unconfigured ports. Table-driven: each
 * case is the first bytes of a stream, the protocols allowed, and the verdict. Every case is
 * also checked on each of its prefixes from an exactly-sized heap copy: a prefix may only say
 * "need more" or the same verdict, never another protocol, and never read past its end. */
#include <stdlib.h>
#include <string.h>

#include "cachetap/detect.h"
#include "tap.h"

#define R (1u << CT_PROTO_REDIS)
#define M (1u << CT_PROTO_MEMCACHED)

struct tcase {
	const char *name;
	const char *bytes;
	size_t len; /* 0: strlen(bytes) */
	unsigned allow;
	int status;      /* enum ct_detect_status */
	int proto;       /* when found */
	int from_client; /* when found */
};

static const struct tcase cases[] = {
	{ "RESP command", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", 0, R | M, CT_DETECT_FOUND,
	  CT_PROTO_REDIS, 1 },
	{ "RESP command, lower case", "*2\r\n$3\r\nget\r\n$1\r\nk\r\n", 0, R | M, CT_DETECT_FOUND,
	  CT_PROTO_REDIS, 1 },
	{ "RESP array of bulks, not a known command: a reply",
	  "*2\r\n$5\r\nHELLX\r\n$1\r\nk\r\n", 0, R | M, CT_DETECT_FOUND, CT_PROTO_REDIS, 0 },
	{ "RESP command, Redis not allowed", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 0, M,
	  CT_DETECT_UNKNOWN, 0, 0 },
	{ "RESP reply +OK", "+OK\r\n", 0, R | M, CT_DETECT_FOUND, CT_PROTO_REDIS, 0 },
	{ "RESP error reply", "-ERR unknown command\r\n", 0, R | M, CT_DETECT_FOUND, CT_PROTO_REDIS,
	  0 },
	{ "RESP bulk reply", "$5\r\nhello\r\n", 0, R | M, CT_DETECT_FOUND, CT_PROTO_REDIS, 0 },
	{ "RESP bulk with a wrong length", "$9\r\nhello\r\nxyzw", 0, R | M, CT_DETECT_UNKNOWN, 0, 0 },
	{ "RESP array reply", "*2\r\n$1\r\na\r\n$-1\r\n", 0, R | M, CT_DETECT_FOUND, CT_PROTO_REDIS,
	  0 /* "*2 $1 a": no command is called "a", so it is taken as a reply */ },
	{ "memcached set", "set k 0 0 5\r\nhello\r\n", 0, R | M, CT_DETECT_FOUND,
	  CT_PROTO_MEMCACHED, 1 },
	{ "memcached get is memcached, not Redis inline", "get foo\r\n", 0, R | M, CT_DETECT_FOUND,
	  CT_PROTO_MEMCACHED, 1 },
	{ "memcached reply", "STORED\r\n", 0, R | M, CT_DETECT_FOUND, CT_PROTO_MEMCACHED, 0 },
	{ "memcached meta", "mg foo v t\r\n", 0, R | M, CT_DETECT_FOUND, CT_PROTO_MEMCACHED, 1 },
	{ "memcached binary GET",
	  "\x80\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x01"
	  "\x00\x00\x00\x00\x00\x00\x00\x00"
	  "foo",
	  27, R | M, CT_DETECT_FOUND, CT_PROTO_MEMCACHED, 1 },
	{ "Redis inline PING", "PING\r\n", 0, R | M, CT_DETECT_FOUND, CT_PROTO_REDIS, 1 },
	{ "Redis inline with arguments", "LPUSH mylist a b c\r\n", 0, R | M, CT_DETECT_FOUND,
	  CT_PROTO_REDIS, 1 },
	{ "HTTP is neither", "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", 0, R | M,
	  CT_DETECT_UNKNOWN, 0, 0 },
	/* memcached's detector cannot rule out a text line until it sees a newline, so TLS waits;
	 * the pipeline gives up after CT_DETECT_MAX_CHUNKS chunks. */
	{ "TLS is neither", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, R | M,
	  CT_DETECT_NEED_MORE, 0, 0 },
	{ "a word then binary", "PING\x01\x02\r\n", 0, R | M, CT_DETECT_UNKNOWN, 0, 0 },
	{ "nothing yet", "", 0, R | M, CT_DETECT_NEED_MORE, 0, 0 },
	{ "half a RESP header", "*3\r\n$3\r\nSE", 0, R | M, CT_DETECT_NEED_MORE, 0, 0 },
	{ "huge RESP count", "*99999999999\r\n", 0, R | M, CT_DETECT_UNKNOWN, 0, 0 },
};

static int detect_copy(const struct tcase *t, size_t n, struct ct_detect *r)
{
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, t->bytes, n);
	int s = ct_detect(n ? c : c, n, t->allow, r);
	free(c);
	return s;
}

int main(void)
{
	for (size_t i = 0; i < CT_ARRAY_LEN(cases); i++) {
		const struct tcase *t = &cases[i];
		size_t len = t->len ? t->len : strlen(t->bytes);
		struct ct_detect r = { 0, 0 };
		int s = detect_copy(t, len, &r);
		is_int(s, t->status, "%s: verdict", t->name);
		if (t->status == CT_DETECT_FOUND && s == CT_DETECT_FOUND) {
			is_int(r.proto, t->proto, "%s: protocol", t->name);
			is_int(r.from_client, t->from_client, "%s: side", t->name);
		}
		int bad = 0;
		for (size_t n = 0; n < len; n++) {
			struct ct_detect pr = { 0, 0 };
			int ps = detect_copy(t, n, &pr);
			if (ps == CT_DETECT_FOUND && (t->status != CT_DETECT_FOUND || pr.proto != t->proto))
				bad++;
		}
		is_int(bad, 0, "%s: no prefix decides otherwise", t->name);
	}
	return done_testing();
}
