/* rdrive: a tiny scripted Redis client for integration tests. It runs a script of named
 * connections to 127.0.0.1, sends commands (hiredis formats them) and prints what came back,
 * so a test can make a real server produce exactly the traffic it wants cachetap to see
 * (client tracking, pub/sub, keyspace notifications) and map each connection to its local
 * ip:port in the capture.
 *
 * Usage: rdrive [-t MS] [-v] [SCRIPT]      SCRIPT defaults to stdin ('-' = stdin too)
 *
 * Script (one step per line; tokens split on blanks, no quoting; '#' starts a comment line):
 *
 *   conn NAME PORT [resp3]  connect to 127.0.0.1:PORT; prints "conn NAME 127.0.0.1:LOCALPORT".
 *                           resp3: this connection's input is read raw and discarded, never
 *                           parsed (hiredis 0.14 only knows RESP2); send HELLO 3 yourself.
 *   cmd NAME ARG...         send a command and wait for its reply (and for replies still owed
 *                           to earlier `send`s), each printed as "reply NAME SUMMARY"; on a
 *                           subscribed RESP2 connection, pub/sub messages met on the way are
 *                           printed as "push NAME SUMMARY". On a resp3 connection: wait for the
 *                           first byte, then read until RD_QUIET_MS of silence, and print
 *                           "raw NAME BYTES QUOTED-PREFIX".
 *   send NAME ARG...        send a command without waiting (RESP2: its reply is owed)
 *   drain NAME MS           read for MS milliseconds and print what came ("push"/"reply"
 *                           lines, or one "raw" line on a resp3 connection)
 *   sleep MS
 *   close NAME              close the connection (it may be opened again by `conn NAME`)
 *
 * An argument "$NAME" is replaced by the last integer, string or status reply received on
 * connection NAME (e.g. "cmd a CLIENT ID" then "cmd b CLIENT TRACKING ON REDIRECT $a"); "$$x"
 * stands for the literal "$x". SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UN- forms are owed
 * one reply per channel argument (one when they have none).
 *
 * Reply summaries: +STATUS, -ERROR, :INT, nil, "string", [elem, elem, ...] (strings cut at
 * RD_SHOW_BYTES, arrays at RD_SHOW_ELEMS elements and RD_SHOW_DEPTH levels, bytes escaped).
 *
 * Exit status: 0 done (error replies are printed, not fatal); 1 a connection failed or closed,
 * no reply came within the timeout (-t, default RD_TIMEOUT_MS), or a reply broke the protocol;
 * 2 bad usage or a bad script (the whole script is checked before anything is sent).
 *
 * Limits: RD_SCRIPT_LINES lines of at most RD_LINE_BYTES, RD_ARGS tokens per line, RD_CONNS
 * connection names, RD_WAIT_MS_MAX per sleep/drain and per timeout. */
#include <errno.h>
#include <hiredis.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cachetap/common.h"

#define RD_SCRIPT_LINES 4096      /* lines in a script */
#define RD_LINE_BYTES 4096        /* bytes in one script line */
#define RD_ARGS 128               /* tokens in one line */
#define RD_CONNS 64               /* distinct connection names */
#define RD_NAME_BYTES 32          /* bytes in a connection name, with its NUL */
#define RD_VAR_BYTES 512          /* bytes of a reply kept for $NAME */
#define RD_TIMEOUT_MS 2000        /* default wait for a reply (and connect timeout) */
#define RD_WAIT_MS_MAX 60000      /* longest sleep, drain or -t, in milliseconds */
#define RD_QUIET_MS 100           /* resp3: a reply is taken as complete after this silence */
#define RD_RAW_CHUNK_BYTES 16384  /* one read() on a resp3 connection */
#define RD_RAW_SHOW_BYTES 120     /* bytes of raw input shown in a "raw" line */
#define RD_SHOW_BYTES 64          /* bytes of one reply string shown in a summary */
#define RD_SHOW_ELEMS 8           /* array elements shown in a summary */
#define RD_SHOW_DEPTH 3           /* nested array levels shown in a summary */

enum verb { V_CONN, V_CMD, V_SEND, V_DRAIN, V_SLEEP, V_CLOSE };

struct step {
	int verb;
	int lineno;
	int conn;         /* index into conns, -1 for sleep */
	int port;         /* conn */
	int resp3;        /* conn */
	unsigned ms;      /* sleep, drain */
	int argc;         /* cmd, send: the command's arguments */
	char **argv;
	char *text;       /* the line, tokenized in place (owned) */
	char *echo;       /* the line as written, for -v (owned; NULL when out of memory) */
};

struct conn {
	char name[RD_NAME_BYTES];
	redisContext *ctx;
	int resp3;
	int subscribed;   /* RESP2: a (P|S)SUBSCRIBE was sent, so messages may arrive any time */
	unsigned pending; /* RESP2: replies owed */
	char var[RD_VAR_BYTES];
	size_t var_len;
	int has_var;
};

static struct conn conns[RD_CONNS];
static int nconns;
static unsigned timeout_ms = RD_TIMEOUT_MS;
static int verbose;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A decimal number of the script (our own text, not wire bytes), at most max. */
static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10u + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Bytes as a quoted string: printable ASCII as is, \\ \" \r \n, else \xNN; cut at max. */
static void put_quoted(const void *p, size_t len, size_t max)
{
	const unsigned char *b = p;
	size_t n = len < max ? len : max;
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned ch = b[i];
		if (ch == '\\' || ch == '"')
			printf("\\%c", (int)ch);
		else if (ch == '\r')
			fputs("\\r", stdout);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch >= 0x20 && ch < 0x7f)
			putchar((int)ch);
		else
			printf("\\x%02x", ch);
	}
	putchar('"');
	if (n < len)
		printf("...(%zu bytes)", len);
}

static void put_reply(const redisReply *r, int depth)
{
	switch (r->type) {
	case REDIS_REPLY_STATUS:
		putchar('+');
		put_quoted(r->str, (size_t)r->len, RD_SHOW_BYTES);
		break;
	case REDIS_REPLY_ERROR:
		putchar('-');
		put_quoted(r->str, (size_t)r->len, RD_SHOW_BYTES);
		break;
	case REDIS_REPLY_INTEGER: printf(":%lld", r->integer); break;
	case REDIS_REPLY_NIL: fputs("nil", stdout); break;
	case REDIS_REPLY_STRING: put_quoted(r->str, (size_t)r->len, RD_SHOW_BYTES); break;
	case REDIS_REPLY_ARRAY:
		if (depth >= RD_SHOW_DEPTH) {
			printf("[%zu elements]", r->elements);
			break;
		}
		putchar('[');
		for (size_t i = 0; i < r->elements && i < RD_SHOW_ELEMS; i++) {
			if (i)
				fputs(", ", stdout);
			put_reply(r->element[i], depth + 1);
		}
		if (r->elements > RD_SHOW_ELEMS)
			printf(", ...(%zu elements)", r->elements);
		putchar(']');
		break;
	default: printf("(reply type %d)", r->type); break;
	}
}

static void fail_line(int lineno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_line(int lineno, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "rdrive: line %d: ", lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the script: read and checked whole, before anything is sent ---- */

static int find_conn(const char *name)
{
	for (int i = 0; i < nconns; i++)
		if (strcmp(conns[i].name, name) == 0)
			return i;
	return -1;
}

static int add_conn(const char *name)
{
	int i = find_conn(name);
	if (i >= 0)
		return i;
	if (nconns >= RD_CONNS || strlen(name) >= RD_NAME_BYTES)
		return -1;
	snprintf(conns[nconns].name, RD_NAME_BYTES, "%s", name);
	return nconns++;
}

/* One line into a step; 1 = a step, 0 = blank or comment, -1 = bad (message printed).
 * open[] tracks which names are connected at this point of the script. */
static int parse_line(char *text, int lineno, struct step *st, unsigned char *open)
{
	char *tok[RD_ARGS];
	int n = 0;
	for (char *p = text; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == RD_ARGS) {
			fprintf(stderr, "rdrive: line %d: more than %d tokens\n", lineno, RD_ARGS);
			return -1;
		}
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
	}
	if (n == 0 || tok[0][0] == '#')
		return 0;
	memset(st, 0, sizeof *st);
	st->lineno = lineno;
	st->conn = -1;
	const char *v = tok[0];
	if (!strcmp(v, "sleep")) {
		if (n != 2 || parse_uint(tok[1], RD_WAIT_MS_MAX, &st->ms)) {
			fprintf(stderr, "rdrive: line %d: usage: sleep MS (0..%d)\n", lineno,
				RD_WAIT_MS_MAX);
			return -1;
		}
		st->verb = V_SLEEP;
		return 1;
	}
	if (strcmp(v, "conn") && strcmp(v, "cmd") && strcmp(v, "send") && strcmp(v, "drain") &&
	    strcmp(v, "close")) {
		fail_line(lineno, "unknown step '%s' (conn, cmd, send, drain, sleep, close)", v);
		return -1;
	}
	if (n < 2) {
		fail_line(lineno, "'%s' needs a connection name", v);
		return -1;
	}
	if (!strcmp(v, "conn")) {
		unsigned port;
		if (n < 3 || n > 4 || parse_uint(tok[2], 65535, &port) || port == 0 ||
		    (n == 4 && strcmp(tok[3], "resp3"))) {
			fail_line(lineno, "usage: conn NAME PORT [resp3]");
			return -1;
		}
		st->verb = V_CONN;
		st->port = (int)port;
		st->resp3 = n == 4;
		st->conn = add_conn(tok[1]);
		if (st->conn < 0) {
			fprintf(stderr, "rdrive: line %d: bad connection name '%s' (at most %d names "
				"of at most %d bytes)\n", lineno, tok[1], RD_CONNS, RD_NAME_BYTES - 1);
			return -1;
		}
		if (open[st->conn]) {
			fail_line(lineno, "connection '%s' is open already", tok[1]);
			return -1;
		}
		open[st->conn] = 1;
		return 1;
	}
	st->conn = find_conn(tok[1]);
	if (st->conn < 0 || !open[st->conn]) {
		fail_line(lineno, "no open connection named '%s'", tok[1]);
		return -1;
	}
	if (!strcmp(v, "close")) {
		if (n != 2) {
			fail_line(lineno, "usage: close NAME");
			return -1;
		}
		st->verb = V_CLOSE;
		open[st->conn] = 0;
		return 1;
	}
	if (!strcmp(v, "drain")) {
		if (n != 3 || parse_uint(tok[2], RD_WAIT_MS_MAX, &st->ms)) {
			fprintf(stderr, "rdrive: line %d: usage: drain NAME MS (0..%d)\n", lineno,
				RD_WAIT_MS_MAX);
			return -1;
		}
		st->verb = V_DRAIN;
		return 1;
	}
	if (!strcmp(v, "cmd") || !strcmp(v, "send")) {
		if (n < 3) {
			fail_line(lineno, "usage: %s NAME ARG...", v);
			return -1;
		}
		st->verb = !strcmp(v, "cmd") ? V_CMD : V_SEND;
		st->argc = n - 2;
		st->argv = ct_malloc(sizeof(char *) * (size_t)st->argc);
		if (!st->argv) {
			fprintf(stderr, "rdrive: out of memory\n");
			return -1;
		}
		for (int i = 0; i < st->argc; i++) {
			char *a = tok[i + 2];
			if (a[0] == '$' && a[1] != '$' && find_conn(a + 1) < 0) {
				fail_line(lineno, "'%s': no connection named '%s' (use $$ for a literal $)",
					  a, a + 1);
				ct_free(st->argv);
				st->argv = NULL;
				return -1;
			}
			st->argv[i] = a;
		}
		return 1;
	}
	return -1; /* not reached: the verb was checked above */
}

/* Reads the whole script; returns the number of steps or -1. */
static int load_script(FILE *f, struct step **out)
{
	struct step *steps = ct_calloc(RD_SCRIPT_LINES, sizeof *steps);
	unsigned char open[RD_CONNS] = { 0 };
	char buf[RD_LINE_BYTES + 2];
	int nsteps = 0, lineno = 0, bad = 0;
	if (!steps) {
		fprintf(stderr, "rdrive: out of memory\n");
		return -1;
	}
	while (fgets(buf, sizeof buf, f)) {
		size_t len = strlen(buf);
		lineno++;
		if (lineno > RD_SCRIPT_LINES) {
			fprintf(stderr, "rdrive: script longer than %d lines\n", RD_SCRIPT_LINES);
			bad = 1;
			break;
		}
		if (len > RD_LINE_BYTES && buf[len - 1] != '\n') {
			fprintf(stderr, "rdrive: line %d: longer than %d bytes\n", lineno, RD_LINE_BYTES);
			bad = 1;
			break;
		}
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		char *text = ct_strdup(buf);
		if (!text) {
			fprintf(stderr, "rdrive: out of memory\n");
			bad = 1;
			break;
		}
		int rc = parse_line(text, lineno, &steps[nsteps], open);
		if (rc <= 0) {
			ct_free(text);
			if (rc < 0)
				bad = 1;
			continue;
		}
		steps[nsteps].echo = ct_strdup(buf);
		steps[nsteps++].text = text;
	}
	if (ferror(f)) {
		fprintf(stderr, "rdrive: reading the script: %s\n", strerror(errno));
		bad = 1;
	}
	*out = steps;
	return bad ? -1 : nsteps;
}

static void free_script(struct step *steps, int n)
{
	if (!steps)
		return;
	for (int i = 0; i < n; i++) {
		ct_free(steps[i].argv);
		ct_free(steps[i].text);
		ct_free(steps[i].echo);
	}
	ct_free(steps);
}

/* ---- running it ---- */

/* Replies a command is owed: the subscribe family answers once per channel. */
static unsigned replies_owed(int argc, char **argv)
{
	const char *c = argv[0];
	if (ieq(c, "subscribe") || ieq(c, "psubscribe") || ieq(c, "ssubscribe") ||
	    ieq(c, "unsubscribe") || ieq(c, "punsubscribe") || ieq(c, "sunsubscribe"))
		return argc > 1 ? (unsigned)(argc - 1) : 1u;
	return 1u;
}

static int is_subscribe(const char *c)
{
	return ieq(c, "subscribe") || ieq(c, "psubscribe") || ieq(c, "ssubscribe");
}

/* A RESP2 pub/sub message (not a reply): ["message"|"pmessage"|"smessage", ...]. */
static int is_push(const struct conn *c, const redisReply *r)
{
	if (!c->subscribed || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return 0;
	const redisReply *k = r->element[0];
	size_t n = (size_t)k->len;
	return (n == 7 && !memcmp(k->str, "message", 7)) ||
	       (n == 8 && (!memcmp(k->str, "pmessage", 8) || !memcmp(k->str, "smessage", 8)));
}

static int send_cmd(struct conn *c, const struct step *st)
{
	const char *argv[RD_ARGS];
	size_t lens[RD_ARGS];
	for (int i = 0; i < st->argc; i++) {
		const char *a = st->argv[i];
		if (a[0] == '$' && a[1] == '$') {
			argv[i] = a + 1;
			lens[i] = strlen(a + 1);
		} else if (a[0] == '$') {
			const struct conn *src = &conns[find_conn(a + 1)];
			if (!src->has_var) {
				fprintf(stderr, "rdrive: line %d: '%s': no integer, string or status "
					"reply on '%s' yet\n", st->lineno, a, src->name);
				return -1;
			}
			argv[i] = src->var;
			lens[i] = src->var_len;
		} else {
			argv[i] = a;
			lens[i] = strlen(a);
		}
	}
	redisContext *ctx = c->ctx;
	int done = 0;
	if (redisAppendCommandArgv(ctx, st->argc, argv, lens) != REDIS_OK)
		goto fail;
	while (!done)
		if (redisBufferWrite(ctx, &done) != REDIS_OK)
			goto fail;
	if (!c->resp3) {
		c->pending += replies_owed(st->argc, st->argv);
		if (is_subscribe(st->argv[0]))
			c->subscribed = 1;
	}
	return 0;
fail:
	fprintf(stderr, "rdrive: line %d: sending %s on '%s': %s\n", st->lineno, st->argv[0],
		c->name, ctx->errstr[0] ? ctx->errstr : "error");
	return -1;
}

/* Waits until fd is readable or deadline passes: 1 readable, 0 timed out, -1 error. */
static int wait_readable(int fd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return 0;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int rc = poll(&p, 1, (int)(deadline - now));
		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* RESP2: the next reply or message, waiting until deadline: 1 got one, 0 timed out, -1 error. */
static int next_reply(struct conn *c, uint64_t deadline, redisReply **out, int lineno)
{
	redisContext *ctx = c->ctx;
	for (;;) {
		void *r = NULL;
		if (redisGetReplyFromReader(ctx, &r) != REDIS_OK)
			break;
		if (r) {
			*out = r;
			return 1;
		}
		int w = wait_readable(ctx->fd, deadline);
		if (w == 0)
			return 0;
		if (w < 0) {
			fprintf(stderr, "rdrive: line %d: poll on '%s': %s\n", lineno, c->name,
				strerror(errno));
			return -1;
		}
		if (redisBufferRead(ctx) != REDIS_OK)
			break;
	}
	fprintf(stderr, "rdrive: line %d: reading from '%s': %s\n", lineno, c->name,
		ctx->err == REDIS_ERR_EOF ? "the server closed the connection" : ctx->errstr);
	return -1;
}

static void keep_var(struct conn *c, const redisReply *r)
{
	if (r->type != REDIS_REPLY_INTEGER && r->type != REDIS_REPLY_STRING &&
	    r->type != REDIS_REPLY_STATUS)
		return;
	if (r->type == REDIS_REPLY_INTEGER) {
		int n = snprintf(c->var, sizeof c->var, "%lld", r->integer);
		c->var_len = (size_t)n;
	} else {
		size_t n = (size_t)r->len < sizeof c->var ? (size_t)r->len : sizeof c->var;
		memcpy(c->var, r->str, n);
		c->var_len = n;
	}
	c->has_var = 1;
}

/* Prints one RESP2 reply or message; a reply pays off one owed. */
static void show_reply(struct conn *c, const redisReply *r)
{
	int push = is_push(c, r);
	printf("%s %s ", push ? "push" : "reply", c->name);
	put_reply(r, 0);
	putchar('\n');
	if (!push) {
		if (c->pending)
			c->pending--;
		keep_var(c, r);
	}
}

/* resp3: reads and discards raw input (hiredis 0.14 cannot parse RESP3, and cachetap is what
 * is under test). With want_first, waits until the deadline for a first byte (none: sets
 * *timed_out), then reads until RD_QUIET_MS of silence or the deadline, since without parsing
 * silence is the only sign that a reply is complete. Without want_first, reads until the
 * deadline. Prints one "raw" line unless it timed out. */
static int raw_read(struct conn *c, uint64_t deadline, int want_first, int lineno, size_t *total,
		    int *timed_out)
{
	unsigned char buf[RD_RAW_CHUNK_BYTES];
	unsigned char head[RD_RAW_SHOW_BYTES];
	size_t nhead = 0;
	*total = 0;
	*timed_out = 0;
	for (;;) {
		uint64_t until = deadline;
		if (want_first && *total > 0) {
			uint64_t quiet = now_ms() + RD_QUIET_MS;
			if (quiet < until)
				until = quiet;
		}
		int w = wait_readable(c->ctx->fd, until);
		if (w < 0) {
			fprintf(stderr, "rdrive: line %d: poll on '%s': %s\n", lineno, c->name,
				strerror(errno));
			return -1;
		}
		if (w == 0) {
			if (want_first && *total == 0)
				*timed_out = 1;
			break;
		}
		ssize_t n = read(c->ctx->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "rdrive: line %d: reading from '%s': %s\n", lineno, c->name,
				n == 0 ? "the server closed the connection" : strerror(errno));
			return -1;
		}
		size_t take = (size_t)n < sizeof head - nhead ? (size_t)n : sizeof head - nhead;
		memcpy(head + nhead, buf, take);
		nhead += take;
		*total += (size_t)n;
	}
	if (*timed_out)
		return 0;
	printf("raw %s %zu ", c->name, *total);
	put_quoted(head, nhead, sizeof head);
	if (*total > nhead)
		printf("...(%zu bytes)", *total);
	putchar('\n');
	return 0;
}

static int do_conn(struct conn *c, const struct step *st)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000u,
			      .tv_usec = (suseconds_t)(timeout_ms % 1000u) * 1000 };
	redisContext *ctx = redisConnectWithTimeout("127.0.0.1", st->port, tv);
	if (!ctx || ctx->err) {
		fprintf(stderr, "rdrive: line %d: conn %s: cannot connect to 127.0.0.1:%d: %s\n",
			st->lineno, c->name, st->port, ctx ? ctx->errstr : "out of memory");
		if (ctx)
			redisFree(ctx);
		return -1;
	}
	if (redisSetTimeout(ctx, tv) != REDIS_OK) {
		fprintf(stderr, "rdrive: line %d: conn %s: setting the timeout: %s\n", st->lineno,
			c->name, ctx->errstr);
		redisFree(ctx);
		return -1;
	}
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	char ip[INET_ADDRSTRLEN];
	if (getsockname(ctx->fd, (struct sockaddr *)&sin, &sl) != 0 || sin.sin_family != AF_INET ||
	    !inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip)) {
		fprintf(stderr, "rdrive: line %d: conn %s: getsockname: %s\n", st->lineno, c->name,
			strerror(errno));
		redisFree(ctx);
		return -1;
	}
	c->ctx = ctx;
	c->resp3 = st->resp3;
	c->subscribed = 0;
	c->pending = 0;
	c->has_var = 0;
	printf("conn %s %s:%u\n", c->name, ip, (unsigned)ntohs(sin.sin_port));
	return 0;
}

static int run_step(const struct step *st)
{
	struct conn *c = st->conn >= 0 ? &conns[st->conn] : NULL;
	size_t total;
	int timed_out;
	switch (st->verb) {
	case V_SLEEP: sleep_ms(st->ms); return 0;
	case V_CONN: return do_conn(c, st);
	case V_CLOSE:
		redisFree(c->ctx);
		c->ctx = NULL;
		return 0;
	case V_SEND: return send_cmd(c, st);
	case V_CMD: {
		uint64_t deadline = now_ms() + timeout_ms;
		if (send_cmd(c, st) < 0)
			return -1;
		if (c->resp3) {
			if (raw_read(c, deadline, 1, st->lineno, &total, &timed_out) < 0)
				return -1;
			if (timed_out) {
				fprintf(stderr, "rdrive: line %d: no reply to %s on '%s' within %u ms\n",
					st->lineno, st->argv[0], c->name, timeout_ms);
				return -1;
			}
			return 0;
		}
		while (c->pending) {
			redisReply *r = NULL;
			int rc = next_reply(c, deadline, &r, st->lineno);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				fprintf(stderr, "rdrive: line %d: no reply to %s on '%s' within %u ms "
					"(%u replies owed)\n", st->lineno, st->argv[0], c->name,
					timeout_ms, c->pending);
				return -1;
			}
			show_reply(c, r);
			freeReplyObject(r);
		}
		return 0;
	}
	case V_DRAIN: {
		uint64_t deadline = now_ms() + st->ms;
		if (c->resp3)
			return raw_read(c, deadline, 0, st->lineno, &total, &timed_out);
		for (;;) {
			redisReply *r = NULL;
			int rc = next_reply(c, deadline, &r, st->lineno);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return 0;
			show_reply(c, r);
			freeReplyObject(r);
		}
	}
	default: return -1;
	}
}

static void usage(FILE *f)
{
	fputs("usage: rdrive [-t MS] [-v] [SCRIPT]\n"
	      "\n"
	      "Runs a script of Redis connections to 127.0.0.1 (SCRIPT, or stdin when absent or\n"
	      "'-') and prints what each one received. Steps, one per line ('#' = comment):\n"
	      "  conn NAME PORT [resp3]  connect; prints \"conn NAME 127.0.0.1:LOCALPORT\"; resp3:\n"
	      "                          input is read raw, never parsed (send HELLO 3 yourself)\n"
	      "  cmd NAME ARG...         send and wait for the reply: \"reply NAME SUMMARY\"\n"
	      "                          (\"push NAME ...\" for pub/sub messages, \"raw NAME BYTES\n"
	      "                          ...\" on resp3: read until 100 ms of silence)\n"
	      "  send NAME ARG...        send without waiting\n"
	      "  drain NAME MS           read for MS ms and print what came\n"
	      "  sleep MS\n"
	      "  close NAME\n"
	      "An argument $NAME is the last integer/string/status reply on NAME; $$x is \"$x\".\n"
	      "\n"
	      "options:\n"
	      "  -t, --timeout MS  wait this long for a connection or a reply (default 2000)\n"
	      "  -v, --verbose     echo each step as \"> STEP\" before running it\n"
	      "  -h, --help        this text\n"
	      "\n"
	      "Exit status: 0 done, 1 connection failure, closed connection or reply timeout,\n"
	      "2 bad usage or script (checked whole before anything is sent).\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose = 1;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--timeout")) {
			if (i + 1 >= argc || parse_uint(argv[i + 1], RD_WAIT_MS_MAX, &timeout_ms) ||
			    timeout_ms == 0) {
				fprintf(stderr, "rdrive: %s needs milliseconds, 1..%d\n", a,
					RD_WAIT_MS_MAX);
				return 2;
			}
			i++;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "rdrive: unknown option '%s' (try --help)\n", a);
			return 2;
		} else if (path) {
			fprintf(stderr, "rdrive: one script only (got '%s' and '%s')\n", path, a);
			return 2;
		} else {
			path = a;
		}
	}
	FILE *f = stdin;
	if (path && strcmp(path, "-")) {
		f = fopen(path, "r");
		if (!f) {
			fprintf(stderr, "rdrive: %s: %s\n", path, strerror(errno));
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	struct step *steps = NULL;
	int n = load_script(f, &steps);
	if (f != stdin)
		fclose(f);
	if (n < 0) {
		free_script(steps, RD_SCRIPT_LINES);
		return 2;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (verbose)
			printf("> %s\n", steps[i].echo ? steps[i].echo : "?");
		if (run_step(&steps[i]) < 0) {
			rc = 1;
			break;
		}
	}
	for (int i = 0; i < nconns; i++)
		if (conns[i].ctx)
			redisFree(conns[i].ctx);
	free_script(steps, RD_SCRIPT_LINES);
	return rc;
}
