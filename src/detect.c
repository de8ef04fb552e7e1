/* Payload detection for connections on ports nobody configured (SPEC section 2: "6379 plus
 * payload detection"). Order matters: a RESP multibulk command is unambiguous; memcached's own
 * detector needs a complete valid line or header; only then is a Redis inline command ("PING",
 * "SET k v") considered, because "get k" is valid in both protocols and memcached text is far
 * more common than Redis inline. Reply-side evidence is kept to forms the other protocol never
 * sends. Limits: it looks at most CT_DETECT_LINE_MAX_BYTES of a line. */
#include <string.h>

#include "cachetap/cmdtab_redis.h"
#include "cachetap/cursor.h"
#include "cachetap/detect.h"
#include "cachetap/limits.h"
#include "cachetap/mc.h"

/* Reads "<digits>\r\n" (1 to 10 digits); returns 1, 0 when it is something else, -1 when the
 * bytes end first. */
static int number_line(struct ct_cur *c, uint64_t *v)
{
	uint64_t n = 0;
	int digits = 0;
	uint8_t ch;
	while (ct_cur_peek_u8(c, 0, &ch) && ch >= '0' && ch <= '9') {
		if (++digits > 10)
			return 0;
		n = n * 10 + (uint64_t)(ch - '0');
		c->p++;
	}
	if (ct_cur_left(c) < 2)
		return -1;
	if (digits == 0 || c->p[0] != '\r' || c->p[1] != '\n')
		return 0;
	c->p += 2;
	*v = n;
	return 1;
}

/* "*N\r\n$L\r\n<name>\r\n" with a command name Redis knows. */
static enum ct_detect_status resp_command(const uint8_t *p, size_t len)
{
	struct ct_cur c = ct_cur_make(p, len);
	uint64_t n, l;
	int r;
	if (ct_cur_u8(&c) != '*' || c.err)
		return len ? CT_DETECT_UNKNOWN : CT_DETECT_NEED_MORE;
	if ((r = number_line(&c, &n)) <= 0)
		return r < 0 ? CT_DETECT_NEED_MORE : CT_DETECT_UNKNOWN;
	if (n == 0 || n > CT_RESP_AGG_MAX_ELEMS)
		return CT_DETECT_UNKNOWN;
	if (!ct_cur_left(&c))
		return CT_DETECT_NEED_MORE;
	if (ct_cur_u8(&c) != '$')
		return CT_DETECT_UNKNOWN;
	if ((r = number_line(&c, &l)) <= 0)
		return r < 0 ? CT_DETECT_NEED_MORE : CT_DETECT_UNKNOWN;
	if (l == 0 || l > CT_CMDTAB_REDIS_NAME_MAX_BYTES)
		return CT_DETECT_UNKNOWN;
	const uint8_t *name = ct_cur_take(&c, (size_t)l);
	if (!name)
		return CT_DETECT_NEED_MORE;
	return ct_redis_cmd_lookup(name, (size_t)l) ? CT_DETECT_FOUND : CT_DETECT_UNKNOWN;
}

/* Reply forms memcached never sends: "+OK", "+PONG", "-ERR ...", "$N\r\n...", "*N\r\n$". An
 * array of bulks whose first one is not a known command name is taken for a reply. */
static enum ct_detect_status resp_reply(const uint8_t *p, size_t len)
{
	static const char *const exact[] = { "+OK\r\n", "+PONG\r\n", "+QUEUED\r\n", "-ERR ",
					     "-WRONGTYPE ", "-NOAUTH ", "-MOVED ", "-LOADING " };
	for (size_t i = 0; i < CT_ARRAY_LEN(exact); i++) {
		size_t n = strlen(exact[i]); /* our own literals */
		if (len >= n && memcmp(p, exact[i], n) == 0)
			return CT_DETECT_FOUND;
		if (len < n && memcmp(p, exact[i], len) == 0)
			return CT_DETECT_NEED_MORE;
	}
	struct ct_cur c = ct_cur_make(p, len);
	uint64_t n;
	uint8_t t = ct_cur_u8(&c);
	if (c.err || (t != '$' && t != '*'))
		return CT_DETECT_UNKNOWN;
	int r = number_line(&c, &n);
	if (r <= 0)
		return r < 0 ? CT_DETECT_NEED_MORE : CT_DETECT_UNKNOWN;
	if (t == '*') {
		uint8_t next;
		if (!ct_cur_peek_u8(&c, 0, &next))
			return CT_DETECT_NEED_MORE;
		return next == '$' || next == ':' || next == '*' ? CT_DETECT_FOUND : CT_DETECT_UNKNOWN;
	}
	/* A complete bulk: N bytes then CRLF. */
	if (n > CT_DETECT_LINE_MAX_BYTES)
		return CT_DETECT_UNKNOWN;
	if (!ct_cur_skip(&c, (size_t)n) || ct_cur_left(&c) < 2)
		return CT_DETECT_NEED_MORE;
	return c.p[0] == '\r' && c.p[1] == '\n' ? CT_DETECT_FOUND : CT_DETECT_UNKNOWN;
}

/* An inline command: a first word Redis knows, then a blank or the line end. */
static enum ct_detect_status resp_inline(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len && i <= CT_CMDTAB_REDIS_NAME_MAX_BYTES &&
	       ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-'))
		i++;
	if (i == 0 || i > CT_CMDTAB_REDIS_NAME_MAX_BYTES)
		return CT_DETECT_UNKNOWN;
	if (i == len)
		return CT_DETECT_NEED_MORE;
	if (p[i] != ' ' && p[i] != '\r' && p[i] != '\n')
		return CT_DETECT_UNKNOWN;
	if (!ct_redis_cmd_lookup(p, i))
		return CT_DETECT_UNKNOWN;
	/* The line must end within reach, printable all the way, and not be an HTTP request line
	 * ("GET /path HTTP/1.1" is a valid inline GET to Redis's parser, but it is HTTP). */
	for (size_t j = i; j < len && j < CT_DETECT_LINE_MAX_BYTES; j++) {
		if (p[j] == ' ' && len - j >= 6 && memcmp(p + j + 1, "HTTP/", 5) == 0)
			return CT_DETECT_UNKNOWN;
		if (p[j] == '\n')
			return CT_DETECT_FOUND;
		if ((p[j] < 0x20 && p[j] != '\r' && p[j] != '\t') || p[j] == 0x7f)
			return CT_DETECT_UNKNOWN;
	}
	return len < CT_DETECT_LINE_MAX_BYTES ? CT_DETECT_NEED_MORE : CT_DETECT_UNKNOWN;
}

enum ct_detect_status ct_detect(const uint8_t *p, size_t len, unsigned allow, struct ct_detect *out)
{
	int more = 0;
	enum ct_detect_status s;
	if (allow & (1u << CT_PROTO_REDIS)) {
		if ((s = resp_command(p, len)) == CT_DETECT_FOUND) {
			*out = (struct ct_detect){ CT_PROTO_REDIS, 1 };
			return s;
		}
		/* "*3\r\n$3\r\nSE": wait for the name rather than take it for a reply. */
		if (s == CT_DETECT_NEED_MORE)
			return s;
		if ((s = resp_reply(p, len)) == CT_DETECT_FOUND) {
			*out = (struct ct_detect){ CT_PROTO_REDIS, 0 };
			return s;
		}
		more |= s == CT_DETECT_NEED_MORE;
	}
	if (allow & (1u << CT_PROTO_MEMCACHED)) {
		struct ct_mc_guess g;
		enum ct_mc_detect_result m = ct_mc_detect(p, len, &g);
		if (m == CT_MC_DETECT_TEXT || m == CT_MC_DETECT_BINARY) {
			*out = (struct ct_detect){ CT_PROTO_MEMCACHED, g.side == CT_MC_SIDE_CLIENT };
			return CT_DETECT_FOUND;
		}
		more |= m == CT_MC_DETECT_NEED_MORE;
	}
	if (allow & (1u << CT_PROTO_REDIS)) {
		if ((s = resp_inline(p, len)) == CT_DETECT_FOUND) {
			*out = (struct ct_detect){ CT_PROTO_REDIS, 1 };
			return s;
		}
		more |= s == CT_DETECT_NEED_MORE;
	}
	return more ? CT_DETECT_NEED_MORE : CT_DETECT_UNKNOWN;
}
