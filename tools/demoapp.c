/* demoapp: the testbed's demo application, a small REST items API (libmicrohttpd) over a SQLite
 * database that reads through Redis and memcached cache-aside, with a selectable invalidation
 * strategy and fault knobs, so cachetap has a real application to observe (issue 5).
 *
 *   demoapp [OPTIONS]                 serve the API
 *   demoapp --subscriber [OPTIONS]    an invalidation-bus subscriber (strategy pubsub)
 *
 * API (JSON bodies; every response echoes the request's X-Request-Id):
 *   GET    /items/{id}[?node=NAME]  cache read (miss -> SQLite -> fill the cache that missed);
 *                                   200 with the item, 404; headers X-Cache: hit|miss and
 *                                   X-Cache-Node: NAME say what happened
 *   PUT    /items/{id}  {"name":S}  write SQLite (an update, or a create with version 1), then
 *                                   invalidate per strategy; 200 (updated) or 201 (created)
 *   POST   /items       {"name":S}  create; 201 with the item (the caches are not touched)
 *   DELETE /items/{id}              delete the row, then invalidate; 204, or 404
 *   GET    /health                  200 {"status":"ok","strategy":"..."}
 *   POST   /admin/resync            make every replica reconnect to the primary (CLIENT KILL
 *                                   TYPE master) and wait until each link is up again: a
 *                                   capture started after the testbed then sees every
 *                                   replication link from its PSYNC, and can name it. 200
 *                                   {"replicas":N}, or 504 when a link is not back in time
 * The item is {"id":N,"name":S,"version":N}; its cache key is item:{id}, and the cached value
 * is exactly that JSON text. A cache failure is logged and counted in X-Cache-Errors, never
 * turned into an HTTP error (cache-aside: SQLite is the truth).
 *
 * Which cache a read uses: ?node=NAME names any node (a Redis read from NAME fills the primary;
 * a memcached read fills that node). Without it, reads use memcached (node by a hash of the
 * key) when a memcached strategy is on (mc-broadcast, pubsub, meta, or write-through without
 * Redis), otherwise a Redis replica, round-robin (the primary when there is none).
 *
 * Strategies (--strategy, a comma list; each write applies all of them):
 *   redis-del      DEL KEY on the Redis primary (replicas get it through replication)
 *   mc-broadcast   delete KEY on every memcached node
 *   pubsub         PUBLISH CHANNEL KEY on the primary (--channel, default "inval"); subscriber
 *                  processes (demoapp --subscriber) turn each message into a delete on their node
 *   meta           md KEY I on every memcached node; memcached reads then use mg/ms, and an
 *                  item marked stale (X flag) reads as a miss and is refilled
 *   write-through  SET / set of the new value on the primary and every memcached node (a
 *                  DELETE request deletes instead)
 * On one memcached node, write-through beats meta, which beats delete. The commands of one
 * write go out to every node before any reply is read, so a slow node delays no other node.
 *
 * Fault knobs:
 *   --stale-fill-delay MS  on a read miss, read SQLite, log "fill-wait KEY MS", sleep MS
 *                          (without holding the lock), then fill: a write landing meanwhile is
 *                          overwritten by the stale fill (the cache-aside race)
 *   --drop NODE:FRACTION   skip the invalidations to NODE (the primary or a memcached node) for
 *                          a deterministic FRACTION of keys, chosen by a hash of the key; each
 *                          skipped one is logged as "drop NODE KEY". A replica cannot be named:
 *                          its invalidations come through replication (drop at the primary).
 * Log lines on stderr: "listening ...", "req METHOD URL STATUS ...", "fill-wait KEY MS",
 * "fill KEY NODE", "drop NODE KEY", "error ...".
 *
 * Concurrency: libmicrohttpd runs a thread per connection; one mutex covers SQLite and the
 * cache connections, and only the stale-fill sleep runs outside it.
 *
 * Limits: the DA_* constants below (a tool, not part of the pipeline). Replies from the caches
 * are parsed with explicit lengths (memcached protocol.txt, meta commands in 1.6), never with
 * str* functions. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <hiredis.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cachetap/common.h"

#define DA_NODES 16                   /* cache nodes, Redis and memcached together */
#define DA_NAME_BYTES 32              /* a node name, NUL included */
#define DA_HOST_BYTES 256             /* a host name, NUL included */
#define DA_VALUE_BYTES 65536u         /* a cached value (an item's JSON text) */
#define DA_BODY_BYTES 65536u          /* a request body */
#define DA_ITEM_NAME_BYTES 4096u      /* an item's name (its JSON stays below DA_VALUE_BYTES) */
#define DA_KEY_BYTES 250u             /* a cache key (memcached's own limit) */
#define DA_MC_REPLY_BYTES (DA_VALUE_BYTES + 1024u) /* one memcached reply, header included */
#define DA_IO_TIMEOUT_MS 2000         /* connect, send and receive timeout per cache call */
#define DA_DELAY_MS_MAX 600000        /* --stale-fill-delay */
#define DA_DROP_SCALE 1000000u        /* --drop fraction resolution (parts per million) */
#define DA_CHANNEL_BYTES 128          /* --channel, NUL included */
#define DA_RESYNC_WAIT_MS 10000       /* POST /admin/resync: wait for the links to be up */
#define DA_RESYNC_POLL_MS 20          /* ... polling each replica's INFO this often */

enum kind { K_PRIMARY, K_REPLICA, K_MC };

enum strategy {
	S_REDIS_DEL = 1, S_MC_BROADCAST = 2, S_PUBSUB = 4, S_META = 8, S_WRITE_THROUGH = 16,
};

static const struct { const char *name; unsigned bit; } strategies[] = {
	{"redis-del", S_REDIS_DEL}, {"mc-broadcast", S_MC_BROADCAST}, {"pubsub", S_PUBSUB},
	{"meta", S_META}, {"write-through", S_WRITE_THROUGH},
};

struct node {
	char name[DA_NAME_BYTES];
	char host[DA_HOST_BYTES];
	int port;
	enum kind kind;
	int drop_set;
	uint32_t drop_ppm;            /* keys whose drop hash falls below this are dropped */
	redisContext *rc;             /* Redis: NULL until connected, and after a failure */
	int fd;                       /* memcached: -1 until connected, and after a failure */
	size_t rlen;                  /* memcached: bytes in rbuf */
	char rbuf[DA_MC_REPLY_BYTES];
};

static struct node nodes[DA_NODES];
static unsigned nnodes;
static struct node *primary;
static unsigned strat;
static char strat_text[128];
static char channel[DA_CHANNEL_BYTES] = "inval";
static int stale_fill_ms;
static sqlite3 *db;
static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned rr_next;

/* ---- small helpers ---- */

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0) return;
	size_t len = (size_t)n < sizeof line - 1 ? (size_t)n : sizeof line - 2;
	line[len++] = '\n';
	/* one write per line, so lines of concurrent threads never interleave */
	ssize_t w = write(STDERR_FILENO, line, len);
	CT_UNUSED(w);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* FNV-1a over the key: picks a memcached node for a read. */
static uint64_t key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

/* The drop decision uses the key hash run through the splitmix64 finalizer, so which keys
 * are dropped is independent of which node a key is read from. */
static int dropped(const struct node *n, const char *key)
{
	if (!n->drop_set) return 0;
	uint64_t z = key_hash(key) + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	if (z % DA_DROP_SCALE >= n->drop_ppm) return 0;
	logf_("drop %s %s", n->name, key);
	return 1;
}

static struct node *node_by_name(const char *name)
{
	for (unsigned i = 0; i < nnodes; i++)
		if (strcmp(nodes[i].name, name) == 0) return &nodes[i];
	return NULL;
}

/* ---- Redis (hiredis) ---- */

static redisContext *rd_conn(struct node *n)
{
	if (n->rc) return n->rc;
	struct timeval tv = {DA_IO_TIMEOUT_MS / 1000, (DA_IO_TIMEOUT_MS % 1000) * 1000};
	redisContext *c = redisConnectWithTimeout(n->host, n->port, tv);
	if (!c || c->err) {
		logf_("error redis %s: connect %s:%d: %s", n->name, n->host, n->port,
		      c ? c->errstr : "out of memory");
		if (c) redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		logf_("error redis %s: set timeout: %s", n->name, c->errstr);
		redisFree(c);
		return NULL;
	}
	n->rc = c;
	return c;
}

static void rd_fail(struct node *n, const char *what)
{
	logf_("error redis %s: %s: %s", n->name, what, n->rc ? n->rc->errstr : "not connected");
	if (n->rc) redisFree(n->rc);
	n->rc = NULL;
}

/* GET KEY: 1 hit (the value in out), 0 miss, -1 error. */
static int rd_get(struct node *n, const char *key, char *out, size_t *len)
{
	redisContext *c = rd_conn(n);
	if (!c) return -1;
	redisReply *r = redisCommand(c, "GET %s", key);
	if (!r) { rd_fail(n, "GET"); return -1; }
	int rc = -1;
	if (r->type == REDIS_REPLY_NIL) {
		rc = 0;
	} else if (r->type == REDIS_REPLY_STRING && r->len <= DA_VALUE_BYTES) {
		memcpy(out, r->str, r->len);
		*len = r->len;
		rc = 1;
	} else {
		logf_("error redis %s: GET %s: unexpected reply type %d", n->name, key, r->type);
	}
	freeReplyObject(r);
	return rc;
}

/* Queue one command (hiredis formats it); rd_reply() collects its reply later. */
static int rd_append(struct node *n, const char *fmt, ...)
{
	redisContext *c = rd_conn(n);
	if (!c) return -1;
	va_list ap;
	va_start(ap, fmt);
	int rc = redisvAppendCommand(c, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK) { rd_fail(n, "append"); return -1; }
	return 0;
}

static int rd_flush(struct node *n)
{
	int done = 0;
	while (!done)
		if (redisBufferWrite(n->rc, &done) != REDIS_OK) { rd_fail(n, "write"); return -1; }
	return 0;
}

static int rd_reply(struct node *n, const char *what)
{
	redisReply *r = NULL;
	if (!n->rc || redisGetReply(n->rc, (void **)&r) != REDIS_OK || !r) {
		rd_fail(n, what);
		return -1;
	}
	int rc = 0;
	if (r->type == REDIS_REPLY_ERROR) {
		logf_("error redis %s: %s: %.*s", n->name, what, (int)r->len, r->str);
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

/* ---- memcached (text and meta protocol over TCP, our own small client) ---- */

struct tok { const char *p; size_t n; };

/* Split a line (no CRLF) on spaces into at most max tokens; returns the count. */
static size_t split(const char *s, size_t len, struct tok *t, size_t max)
{
	size_t n = 0, i = 0;
	while (i < len && n < max) {
		while (i < len && s[i] == ' ') i++;
		if (i == len) break;
		size_t start = i;
		while (i < len && s[i] != ' ') i++;
		t[n].p = s + start;
		t[n].n = i - start;
		n++;
	}
	return n;
}

static int tok_is(struct tok t, const char *lit)
{
	size_t n = strlen(lit);
	return t.n == n && memcmp(t.p, lit, n) == 0;
}

static int tok_uint(struct tok t, uint64_t max, uint64_t *out)
{
	if (t.n == 0 || t.n > 19) return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (t.p[i] < '0' || t.p[i] > '9') return -1;
		v = v * 10 + (uint64_t)(t.p[i] - '0');
	}
	if (v > max) return -1;
	*out = v;
	return 0;
}

static void mc_close(struct node *n)
{
	if (n->fd >= 0) close(n->fd);
	n->fd = -1;
	n->rlen = 0;
}

static void mc_fail(struct node *n, const char *what)
{
	logf_("error memcached %s: %s", n->name, what);
	mc_close(n);
}

static int mc_conn(struct node *n)
{
	if (n->fd >= 0) return 0;
	char port[16];
	snprintf(port, sizeof port, "%d", n->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int gai = getaddrinfo(n->host, port, &hints, &res);
	if (gai != 0) {
		logf_("error memcached %s: resolve %s: %s", n->name, n->host, gai_strerror(gai));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) continue;
		struct timeval tv = {DA_IO_TIMEOUT_MS / 1000, (DA_IO_TIMEOUT_MS % 1000) * 1000};
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		logf_("error memcached %s: connect %s:%d: %s", n->name, n->host, n->port,
		      strerror(errno));
		return -1;
	}
	n->fd = fd;
	n->rlen = 0;
	return 0;
}

static int mc_send(struct node *n, const char *p, size_t len)
{
	if (mc_conn(n) < 0) return -1;
	while (len) {
		ssize_t w = send(n->fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) { mc_fail(n, "send failed"); return -1; }
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read until rbuf holds at least want bytes. */
static int mc_need(struct node *n, size_t want)
{
	if (want > sizeof n->rbuf) { mc_fail(n, "reply larger than DA_MC_REPLY_BYTES"); return -1; }
	while (n->rlen < want) {
		if (n->fd < 0) return -1;
		ssize_t r = recv(n->fd, n->rbuf + n->rlen, sizeof n->rbuf - n->rlen, 0);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) { mc_fail(n, r == 0 ? "connection closed" : "receive failed or timed out"); return -1; }
		n->rlen += (size_t)r;
	}
	return 0;
}

/* Make rbuf start with a whole CRLF-terminated line; *len = its length without the CRLF. */
static int mc_line(struct node *n, size_t *len)
{
	size_t scanned = 0;
	for (;;) {
		for (size_t i = scanned; i + 1 < n->rlen; i++)
			if (n->rbuf[i] == '\r' && n->rbuf[i + 1] == '\n') { *len = i; return 0; }
		scanned = n->rlen ? n->rlen - 1 : 0;
		if (mc_need(n, n->rlen + 1) < 0) return -1;
	}
}

static void mc_consume(struct node *n, size_t k)
{
	memmove(n->rbuf, n->rbuf + k, n->rlen - k);
	n->rlen -= k;
}

/* Read a one-line reply and check it is one of the accepted words. */
static int mc_simple(struct node *n, const char *what, const char *ok1, const char *ok2)
{
	size_t len;
	if (mc_line(n, &len) < 0) return -1;
	struct tok t[1];
	int rc = 0;
	if (split(n->rbuf, len, t, 1) != 1 || !(tok_is(t[0], ok1) || (ok2 && tok_is(t[0], ok2)))) {
		logf_("error memcached %s: %s: unexpected reply \"%.*s\"", n->name, what,
		      (int)(len < 80 ? len : 80), n->rbuf);
		rc = -1;
	}
	mc_consume(n, len + 2);
	return rc;
}

/* get KEY (text) or mg KEY v (meta): 1 hit, 0 miss (meta: also an item marked stale), -1. */
static int mc_get(struct node *n, const char *key, char *out, size_t *len)
{
	int meta = (strat & S_META) != 0;
	char cmd[DA_KEY_BYTES + 16];
	int cl = snprintf(cmd, sizeof cmd, meta ? "mg %s v\r\n" : "get %s\r\n", key);
	if (mc_send(n, cmd, (size_t)cl) < 0) return -1;
	size_t ll;
	if (mc_line(n, &ll) < 0) return -1;
	struct tok t[24];
	size_t nt = split(n->rbuf, ll, t, CT_ARRAY_LEN(t));
	if (nt == 1 && tok_is(t[0], meta ? "EN" : "END")) { mc_consume(n, ll + 2); return 0; }
	uint64_t bytes;
	/* text:  VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\nEND\r\n
	 * meta:  VA <size> <flag>*\r\n<data>\r\n */
	size_t at = meta ? 1 : 3;
	if (nt <= at || !tok_is(t[0], meta ? "VA" : "VALUE") ||
	    tok_uint(t[at], DA_VALUE_BYTES, &bytes) < 0) {
		mc_fail(n, "unexpected reply to a read");
		return -1;
	}
	int stale = 0;
	for (size_t i = 2; meta && i < nt; i++) stale |= tok_is(t[i], "X");
	size_t tail = meta ? 2 : 7;   /* "\r\n" or "\r\nEND\r\n" */
	size_t total = ll + 2 + (size_t)bytes + tail;
	if (mc_need(n, total) < 0) return -1;
	const char *data = n->rbuf + ll + 2;
	if (memcmp(data + bytes, meta ? "\r\n" : "\r\nEND\r\n", tail) != 0) {
		mc_fail(n, "bad value framing");
		return -1;
	}
	memcpy(out, data, (size_t)bytes);
	*len = (size_t)bytes;
	mc_consume(n, total);
	return stale ? 0 : 1;
}

/* Send a store (set, or ms under meta) without reading its reply. */
static int mc_send_store(struct node *n, const char *key, const char *val, size_t len)
{
	char head[DA_KEY_BYTES + 64];
	int hl = snprintf(head, sizeof head, (strat & S_META) ? "ms %s %zu\r\n" : "set %s 0 0 %zu\r\n",
			  key, len);
	if (mc_send(n, head, (size_t)hl) < 0 || mc_send(n, val, len) < 0 || mc_send(n, "\r\n", 2) < 0)
		return -1;
	return 0;
}

static int mc_store_reply(struct node *n)
{
	return (strat & S_META) ? mc_simple(n, "ms", "HD", NULL) : mc_simple(n, "set", "STORED", NULL);
}

/* ---- the items table ---- */

static int db_exec(const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		logf_("error sqlite: %s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static char *item_json(int64_t id, const char *name, size_t name_len, int64_t version)
{
	json_t *o = json_object();
	if (!o) return NULL;
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "name", json_stringn(name, name_len));
	json_object_set_new(o, "version", json_integer(version));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* The item's JSON text (ct_free it): 1 found, 0 absent, -1 error. */
static int db_item(int64_t id, char **json)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT name, version FROM items WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	int s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		rc = 0;
	} else if (s == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t nl = (size_t)sqlite3_column_bytes(st, 0);
		*json = item_json(id, name ? name : "", name ? nl : 0, sqlite3_column_int64(st, 1));
		rc = *json ? 1 : -1;
	}
out:
	if (rc < 0) logf_("error sqlite: read item %lld: %s", (long long)id, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

static int db_run(const char *sql, int64_t id, const char *name, size_t name_len)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) goto out;
	if (id) sqlite3_bind_int64(st, 1, id);
	if (name) sqlite3_bind_text(st, 2, name, (int)name_len, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_DONE) rc = sqlite3_changes(db);
out:
	if (rc < 0) logf_("error sqlite: %s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* ---- cache-aside ---- */

struct reply {
	unsigned status;
	char *body;                   /* ct_free'd after the response is queued */
	const char *cache;            /* "hit" / "miss" / NULL */
	const char *node;
	int errors;                   /* cache calls that failed */
};

static int mc_tier(void)
{
	unsigned mcs = 0;
	for (unsigned i = 0; i < nnodes; i++) mcs += nodes[i].kind == K_MC;
	if (!mcs) return 0;
	return (strat & (S_MC_BROADCAST | S_PUBSUB | S_META)) || !primary;
}

static struct node *read_node(const char *key)
{
	struct node *list[DA_NODES];
	unsigned n = 0;
	int mc = mc_tier();
	for (unsigned i = 0; i < nnodes; i++)
		if (mc ? nodes[i].kind == K_MC : nodes[i].kind == K_REPLICA) list[n++] = &nodes[i];
	if (mc) return list[key_hash(key) % n];
	if (!n) return primary;
	return list[rr_next++ % n];
}

static char *errbody(const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static void item_get(int64_t id, const char *node_name, struct reply *rp)
{
	static char val[DA_VALUE_BYTES];   /* used under big_lock only */
	char key[32];
	snprintf(key, sizeof key, "item:%lld", (long long)id);
	pthread_mutex_lock(&big_lock);
	struct node *n = node_name ? node_by_name(node_name) : read_node(key);
	if (!n) {
		pthread_mutex_unlock(&big_lock);
		rp->status = 400;
		rp->body = errbody("unknown node");
		return;
	}
	rp->node = n->name;
	size_t len = 0;
	int hit = n->kind == K_MC ? mc_get(n, key, val, &len) : rd_get(n, key, val, &len);
	if (hit < 0) rp->errors++;
	if (hit == 1) {
		rp->body = ct_malloc(len + 1);
		if (rp->body) { memcpy(rp->body, val, len); rp->body[len] = 0; }
		pthread_mutex_unlock(&big_lock);
		rp->status = rp->body ? 200 : 500;
		rp->cache = "hit";
		return;
	}
	rp->cache = "miss";
	char *json = NULL;
	int found = db_item(id, &json);
	if (found <= 0) {
		pthread_mutex_unlock(&big_lock);
		rp->status = found == 0 ? 404 : 500;
		rp->body = errbody(found == 0 ? "no such item" : "database error");
		return;
	}
	if (stale_fill_ms > 0) {
		pthread_mutex_unlock(&big_lock);
		logf_("fill-wait %s %d", key, stale_fill_ms);
		sleep_ms(stale_fill_ms);
		pthread_mutex_lock(&big_lock);
	}
	struct node *fill = n->kind == K_MC ? n : primary;
	size_t jl = strlen(json);
	int rc;
	if (fill->kind == K_MC) {
		rc = mc_send_store(fill, key, json, jl);
		if (rc == 0) rc = mc_store_reply(fill);
	} else {
		rc = rd_append(fill, "SET %s %b", key, json, jl);
		if (rc == 0) rc = rd_reply(fill, "SET");
	}
	if (rc < 0) rp->errors++;
	else logf_("fill %s %s", key, fill->name);
	pthread_mutex_unlock(&big_lock);
	rp->status = 200;
	rp->body = json;
}

/* Invalidate KEY everywhere the strategies say: VAL is the new JSON (NULL for a delete).
 * Every command is sent before any reply is read. Returns the number of failed calls. */
static int invalidate(const char *key, const char *val)
{
	size_t vl = val ? strlen(val) : 0;
	int errors = 0;
	int wt = (strat & S_WRITE_THROUGH) && val;
	int rd_ops = 0;
	/* Redis primary: one SET or DEL, and the PUBLISH */
	int want_primary = primary && (strat & (S_REDIS_DEL | S_WRITE_THROUGH | S_PUBSUB));
	if (want_primary && !dropped(primary, key)) {
		int bad = 0;
		if (wt) {
			bad |= rd_append(primary, "SET %s %b", key, val, vl) < 0;
			rd_ops++;
		} else if (strat & (S_REDIS_DEL | S_WRITE_THROUGH)) {
			bad |= rd_append(primary, "DEL %s", key) < 0;
			rd_ops++;
		}
		if (strat & S_PUBSUB) {
			bad |= rd_append(primary, "PUBLISH %s %s", channel, key) < 0;
			rd_ops++;
		}
		if (bad || rd_flush(primary) < 0) {
			errors++;
			rd_ops = 0;
		}
	}
	/* memcached nodes: set (write-through) > md I (meta) > delete */
	enum { OP_NONE, OP_SET, OP_MD, OP_DEL } op = OP_NONE;
	if (wt) op = OP_SET;
	else if (strat & S_META) op = OP_MD;
	else if (strat & (S_MC_BROADCAST | S_WRITE_THROUGH)) op = OP_DEL;
	int sent[DA_NODES] = {0};
	for (unsigned i = 0; op != OP_NONE && i < nnodes; i++) {
		struct node *n = &nodes[i];
		if (n->kind != K_MC || dropped(n, key)) continue;
		char cmd[DA_KEY_BYTES + 16];
		int rc;
		if (op == OP_SET) {
			rc = mc_send_store(n, key, val, vl);
		} else {
			int cl = snprintf(cmd, sizeof cmd, op == OP_MD ? "md %s I\r\n" : "delete %s\r\n", key);
			rc = mc_send(n, cmd, (size_t)cl);
		}
		if (rc < 0) errors++;
		else sent[i] = 1;
	}
	for (int i = 0; i < rd_ops; i++)
		if (rd_reply(primary, "invalidate") < 0) { errors++; break; }
	for (unsigned i = 0; i < nnodes; i++) {
		if (!sent[i]) continue;
		struct node *n = &nodes[i];
		int rc = op == OP_SET ? mc_store_reply(n)
			 : op == OP_MD ? mc_simple(n, "md", "HD", "NF")
				       : mc_simple(n, "delete", "DELETED", "NOT_FOUND");
		if (rc < 0) errors++;
	}
	return errors;
}

/* The "name" string of a JSON body, or an error reply. */
static json_t *body_name(const char *body, size_t len, const char **name, size_t *nl,
			 struct reply *rp)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	json_t *s = o ? json_object_get(o, "name") : NULL;
	if (!json_is_string(s) || json_string_length(s) > DA_ITEM_NAME_BYTES) {
		rp->status = 400;
		rp->body = errbody("body must be a JSON object with a string \"name\"");
		json_decref(o);
		return NULL;
	}
	*name = json_string_value(s);
	*nl = json_string_length(s);
	return o;
}

static void item_put(int64_t id, const char *body, size_t blen, struct reply *rp)
{
	const char *name;
	size_t nl;
	json_t *o = body_name(body, blen, &name, &nl, rp);
	if (!o) return;
	char key[32];
	snprintf(key, sizeof key, "item:%lld", (long long)id);
	pthread_mutex_lock(&big_lock);
	int created = 0;
	int ch = db_run("UPDATE items SET name = ?2, version = version + 1 WHERE id = ?1", id, name, nl);
	if (ch == 0) {
		ch = db_run("INSERT INTO items(id, name, version) VALUES (?1, ?2, 1)", id, name, nl);
		created = 1;
	}
	char *json = NULL;
	if (ch != 1 || db_item(id, &json) != 1) {
		pthread_mutex_unlock(&big_lock);
		json_decref(o);
		rp->status = 500;
		rp->body = errbody("database error");
		return;
	}
	rp->errors += invalidate(key, json);
	pthread_mutex_unlock(&big_lock);
	json_decref(o);
	rp->status = created ? 201 : 200;
	rp->body = json;
}

static void item_create(const char *body, size_t blen, struct reply *rp)
{
	const char *name;
	size_t nl;
	json_t *o = body_name(body, blen, &name, &nl, rp);
	if (!o) return;
	pthread_mutex_lock(&big_lock);
	char *json = NULL;
	int ok = db_run("INSERT INTO items(name, version) VALUES (?2, 1)", 0, name, nl) == 1 &&
		 db_item(sqlite3_last_insert_rowid(db), &json) == 1;
	pthread_mutex_unlock(&big_lock);
	json_decref(o);
	rp->status = ok ? 201 : 500;
	rp->body = ok ? json : errbody("database error");
}

static void item_delete(int64_t id, struct reply *rp)
{
	char key[32];
	snprintf(key, sizeof key, "item:%lld", (long long)id);
	pthread_mutex_lock(&big_lock);
	int ch = db_run("DELETE FROM items WHERE id = ?1", id, NULL, 0);
	if (ch == 1) rp->errors += invalidate(key, NULL);
	pthread_mutex_unlock(&big_lock);
	rp->status = ch == 1 ? 204 : ch == 0 ? 404 : 500;
	if (ch != 1) rp->body = errbody(ch == 0 ? "no such item" : "database error");
}

/* 1 when the replica reports master_link_status:up, 0 when not (yet), -1 on an error. */
static int link_up(struct node *n)
{
	static const char want[] = "master_link_status:up\r\n";
	redisContext *c = rd_conn(n);
	if (!c) return -1;
	redisReply *r = redisCommand(c, "INFO replication");
	if (!r) { rd_fail(n, "INFO"); return -1; }
	int up = r->type == REDIS_REPLY_STRING &&
		 memmem(r->str, r->len, want, sizeof want - 1) != NULL;
	freeReplyObject(r);
	return up;
}

static void admin_resync(struct reply *rp)
{
	unsigned reps = 0, up = 0;
	int bad = 0;
	pthread_mutex_lock(&big_lock);
	for (unsigned i = 0; i < nnodes; i++) {
		struct node *n = &nodes[i];
		if (n->kind != K_REPLICA) continue;
		reps++;
		redisContext *c = rd_conn(n);
		redisReply *r = c ? redisCommand(c, "CLIENT KILL TYPE master") : NULL;
		if (!r) { rd_fail(n, "CLIENT KILL"); bad = 1; continue; }
		freeReplyObject(r);
	}
	for (int waited = 0; !bad && waited <= DA_RESYNC_WAIT_MS; waited += DA_RESYNC_POLL_MS) {
		up = 0;
		for (unsigned i = 0; i < nnodes && !bad; i++) {
			if (nodes[i].kind != K_REPLICA) continue;
			int u = link_up(&nodes[i]);
			if (u < 0) bad = 1;
			else up += (unsigned)u;
		}
		if (up == reps) break;
		sleep_ms(DA_RESYNC_POLL_MS);
	}
	pthread_mutex_unlock(&big_lock);
	if (bad || up != reps) {
		rp->status = bad ? 502 : 504;
		rp->body = errbody(bad ? "a replica failed" : "a replica link is not up again");
		return;
	}
	logf_("resync %u replicas", reps);
	json_t *o = json_pack("{s:i}", "replicas", (int)reps);
	rp->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	rp->status = rp->body ? 200 : 500;
}

/* ---- HTTP ---- */

struct req {
	char *body;
	size_t len, cap;
	int too_big;
};

/* "/items/{id}" -> id (1..10^18), or 0 when the path is anything else. */
static int64_t path_id(const char *url)
{
	static const char prefix[] = "/items/";
	if (strncmp(url, prefix, sizeof prefix - 1) != 0) return 0;
	const char *p = url + sizeof prefix - 1;
	int64_t id = 0;
	int digits = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++digits > 18) return 0;
		id = id * 10 + (*p - '0');
	}
	return *p == 0 ? id : 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, const char *method, const char *url,
				  struct reply *rp)
{
	const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	size_t len = rp->body ? strlen(rp->body) : 0;
	struct MHD_Response *r = MHD_create_response_from_buffer(len, rp->body ? rp->body : (char *)"",
							       MHD_RESPMEM_MUST_COPY);
	ct_free(rp->body);
	rp->body = NULL;
	if (!r) return MHD_NO;
	if (len) MHD_add_response_header(r, "Content-Type", "application/json");
	if (rid) MHD_add_response_header(r, "X-Request-Id", rid);
	if (rp->cache) MHD_add_response_header(r, "X-Cache", rp->cache);
	if (rp->node) MHD_add_response_header(r, "X-Cache-Node", rp->node);
	if (rp->errors) {
		char e[16];
		snprintf(e, sizeof e, "%d", rp->errors);
		MHD_add_response_header(r, "X-Cache-Errors", e);
	}
	enum MHD_Result ret = MHD_queue_response(conn, rp->status, r);
	MHD_destroy_response(r);
	logf_("req %s %s %u%s%s%s%s%s%s", method, url, rp->status,
	      rp->cache ? " cache=" : "", rp->cache ? rp->cache : "",
	      rp->node ? " node=" : "", rp->node ? rp->node : "",
	      rid ? " rid=" : "", rid ? rid : "");
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	CT_UNUSED(cls);
	CT_UNUSED(version);
	struct req *rq = *con_cls;
	if (!rq) {
		rq = ct_calloc(1, sizeof *rq);
		if (!rq) return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t add = *upload_size;
		*upload_size = 0;
		if (rq->too_big || rq->len + add > DA_BODY_BYTES) { rq->too_big = 1; return MHD_YES; }
		if (rq->len + add > rq->cap) {
			size_t cap = rq->cap ? rq->cap : 1024;
			while (cap < rq->len + add) cap *= 2;
			char *nb = ct_realloc(rq->body, cap);
			if (!nb) return MHD_NO;
			rq->body = nb;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload, add);
		rq->len += add;
		return MHD_YES;
	}
	struct reply rp = {0};
	int64_t id = path_id(url);
	int is_get = strcmp(method, "GET") == 0, is_put = strcmp(method, "PUT") == 0;
	int is_post = strcmp(method, "POST") == 0, is_del = strcmp(method, "DELETE") == 0;
	if (rq->too_big) {
		rp.status = 413;
		rp.body = errbody("body larger than 64 KiB");
	} else if (strcmp(url, "/health") == 0 && is_get) {
		json_t *o = json_pack("{s:s,s:s}", "status", "ok", "strategy", strat_text);
		rp.body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		rp.status = rp.body ? 200 : 500;
	} else if (id && is_get) {
		item_get(id, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "node"), &rp);
	} else if (id && is_put) {
		item_put(id, rq->body ? rq->body : "", rq->len, &rp);
	} else if (id && is_del) {
		item_delete(id, &rp);
	} else if (strcmp(url, "/items") == 0 && is_post) {
		item_create(rq->body ? rq->body : "", rq->len, &rp);
	} else if (strcmp(url, "/admin/resync") == 0 && is_post) {
		admin_resync(&rp);
	} else if (id || strcmp(url, "/items") == 0 || strcmp(url, "/health") == 0) {
		rp.status = 405;
		rp.body = errbody("method not allowed");
	} else {
		rp.status = 404;
		rp.body = errbody("not found");
	}
	return send_reply(conn, method, url, &rp);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	CT_UNUSED(cls);
	CT_UNUSED(conn);
	CT_UNUSED(toe);
	struct req *rq = *con_cls;
	if (rq) {
		ct_free(rq->body);
		ct_free(rq);
	}
	*con_cls = NULL;
}

/* ---- subscriber mode ---- */

/* SUBSCRIBE to the channel on the primary; each message's payload is a key, deleted (or
 * marked stale under meta) on every memcached node given to this process. */
static int subscriber(void)
{
	redisContext *c = rd_conn(primary);
	if (!c) return 1;
	redisReply *r = redisCommand(c, "SUBSCRIBE %s", channel);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		rd_fail(primary, "SUBSCRIBE");
		if (r) freeReplyObject(r);
		return 1;
	}
	freeReplyObject(r);
	struct timeval forever = {0, 0};
	if (redisSetTimeout(c, forever) != REDIS_OK) { rd_fail(primary, "set timeout"); return 1; }
	logf_("subscribed %s", channel);
	for (;;) {
		r = NULL;
		if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
			rd_fail(primary, "read");
			return 1;
		}
		/* ["message", channel, payload]: the payload is untrusted bytes, checked here */
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == 7 &&
		    memcmp(r->element[0]->str, "message", 7) == 0 &&
		    r->element[2]->type == REDIS_REPLY_STRING) {
			const redisReply *p = r->element[2];
			int ok = p->len >= 1 && p->len <= DA_KEY_BYTES;
			for (size_t i = 0; ok && i < p->len; i++)
				ok = (unsigned char)p->str[i] > 0x20 && (unsigned char)p->str[i] != 0x7f;
			if (ok) {
				char key[DA_KEY_BYTES + 1];
				memcpy(key, p->str, p->len);
				key[p->len] = 0;
				for (unsigned i = 0; i < nnodes; i++) {
					struct node *n = &nodes[i];
					if (n->kind != K_MC || dropped(n, key)) continue;
					char cmd[DA_KEY_BYTES + 16];
					int meta = (strat & S_META) != 0;
					int cl = snprintf(cmd, sizeof cmd, meta ? "md %s I\r\n" : "delete %s\r\n", key);
					if (mc_send(n, cmd, (size_t)cl) == 0)
						(void)(meta ? mc_simple(n, "md", "HD", "NF")
							    : mc_simple(n, "delete", "DELETED", "NOT_FOUND"));
				}
			} else {
				logf_("error subscriber: message payload is not a memcached key (%zu bytes)", p->len);
			}
		}
		freeReplyObject(r);
	}
}

/* ---- command line ---- */

static void usage(FILE *f)
{
	fputs("usage: demoapp [OPTIONS]               the items API\n"
	      "       demoapp --subscriber [OPTIONS]  an invalidation-bus subscriber\n"
	      "\n"
	      "  --port N                    HTTP port (default 8080)\n"
	      "  --bind ADDR                 IPv4 address to listen on (default 127.0.0.1)\n"
	      "  --db FILE                   SQLite database (created with table items)\n"
	      "  --redis-primary [NAME=]HOST:PORT       (name default r0)\n"
	      "  --redis-replica [NAME=]HOST:PORT       repeatable (names r1, r2, ...)\n"
	      "  --memcached [NAME=]HOST:PORT           repeatable (names m0, m1, ...)\n"
	      "  --strategy LIST             comma list of redis-del, mc-broadcast, pubsub, meta,\n"
	      "                              write-through (default redis-del)\n"
	      "  --channel NAME              pub/sub invalidation channel (default inval)\n"
	      "  --stale-fill-delay MS       sleep MS between the read miss and the fill\n"
	      "  --drop NODE:FRACTION        skip invalidations to NODE for FRACTION of the keys\n"
	      "  --subscriber                SUBSCRIBE to the channel on the primary and delete\n"
	      "                              each key on the --memcached nodes given\n"
	      "  -h, --help\n"
	      "Exit status: 0 on SIGINT/SIGTERM, 1 when a server or the database fails, 2 on bad usage.\n",
	      f);
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("demoapp: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static long parse_long(const char *s, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die_usage("%s: '%s' is not an integer in %ld..%ld", what, s, lo, hi);
	return v;
}

static void add_node(const char *arg, enum kind k, const char *opt)
{
	if (nnodes == DA_NODES) die_usage("%s: more than %d nodes", opt, DA_NODES);
	struct node *n = &nodes[nnodes];
	const char *eq = strchr(arg, '='), *hp = eq ? eq + 1 : arg;
	const char *colon = strrchr(hp, ':');
	if (!colon || colon == hp) die_usage("%s: '%s' is not [NAME=]HOST:PORT", opt, arg);
	size_t nl = eq ? (size_t)(eq - arg) : 0, hl = (size_t)(colon - hp);
	if (eq && (nl == 0 || nl >= DA_NAME_BYTES)) die_usage("%s: bad node name in '%s'", opt, arg);
	if (hl >= DA_HOST_BYTES) die_usage("%s: host too long in '%s'", opt, arg);
	if (eq) {
		memcpy(n->name, arg, nl);
	} else {
		unsigned same = 0;
		for (unsigned i = 0; i < nnodes; i++)
			same += (nodes[i].kind == K_MC) == (k == K_MC);
		snprintf(n->name, sizeof n->name, "%c%u", k == K_MC ? 'm' : 'r',
			 k == K_MC ? same : k == K_PRIMARY ? 0 : same + (primary ? 0 : 1));
	}
	memcpy(n->host, hp, hl);
	n->port = (int)parse_long(colon + 1, 1, 65535, opt);
	n->kind = k;
	n->fd = -1;
	if (node_by_name(n->name)) die_usage("%s: node name '%s' used twice", opt, n->name);
	if (k == K_PRIMARY) {
		if (primary) die_usage("--redis-primary given twice");
		primary = n;
	}
	nnodes++;
}

static void parse_strategy(const char *arg)
{
	strat = 0;
	if (strlen(arg) >= sizeof strat_text) die_usage("--strategy: '%s' too long", arg);
	snprintf(strat_text, sizeof strat_text, "%s", arg);
	const char *p = arg;
	while (*p) {
		size_t len = strcspn(p, ",");
		unsigned bit = 0;
		for (size_t i = 0; i < CT_ARRAY_LEN(strategies); i++)
			if (strlen(strategies[i].name) == len && memcmp(strategies[i].name, p, len) == 0)
				bit = strategies[i].bit;
		if (!bit) die_usage("--strategy: unknown strategy '%.*s' (redis-del, mc-broadcast, "
				    "pubsub, meta, write-through)", (int)len, p);
		strat |= bit;
		p += len;
		if (*p == ',') p++;
	}
	if (!strat) die_usage("--strategy: empty");
}

int main(int argc, char **argv)
{
	enum { O_PORT = 256, O_BIND, O_DB, O_PRI, O_REP, O_MC, O_STRAT, O_CHAN, O_STALE, O_DROP, O_SUB };
	static const struct option opts[] = {
		{"port", required_argument, NULL, O_PORT}, {"bind", required_argument, NULL, O_BIND},
		{"db", required_argument, NULL, O_DB}, {"redis-primary", required_argument, NULL, O_PRI},
		{"redis-replica", required_argument, NULL, O_REP},
		{"memcached", required_argument, NULL, O_MC}, {"strategy", required_argument, NULL, O_STRAT},
		{"channel", required_argument, NULL, O_CHAN},
		{"stale-fill-delay", required_argument, NULL, O_STALE},
		{"drop", required_argument, NULL, O_DROP}, {"subscriber", no_argument, NULL, O_SUB},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int port = 8080, sub = 0;
	const char *bind_addr = "127.0.0.1", *dbfile = NULL;
	const char *drops[DA_NODES];
	unsigned ndrops = 0;
	parse_strategy("redis-del");
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_PORT: port = (int)parse_long(optarg, 1, 65535, "--port"); break;
		case O_BIND: bind_addr = optarg; break;
		case O_DB: dbfile = optarg; break;
		case O_PRI: add_node(optarg, K_PRIMARY, "--redis-primary"); break;
		case O_REP: add_node(optarg, K_REPLICA, "--redis-replica"); break;
		case O_MC: add_node(optarg, K_MC, "--memcached"); break;
		case O_STRAT: parse_strategy(optarg); break;
		case O_CHAN:
			if (!*optarg || strlen(optarg) >= sizeof channel) die_usage("--channel: bad name");
			snprintf(channel, sizeof channel, "%s", optarg);
			break;
		case O_STALE: stale_fill_ms = (int)parse_long(optarg, 0, DA_DELAY_MS_MAX, "--stale-fill-delay"); break;
		case O_DROP:
			if (ndrops == DA_NODES) die_usage("--drop: more than %d", DA_NODES);
			drops[ndrops++] = optarg;
			break;
		case O_SUB: sub = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) die_usage("unexpected argument '%s'", argv[optind]);
	unsigned mcs = 0, reps = 0;
	for (unsigned i = 0; i < nnodes; i++) {
		mcs += nodes[i].kind == K_MC;
		reps += nodes[i].kind == K_REPLICA;
	}
	for (unsigned i = 0; i < ndrops; i++) {
		const char *a = drops[i], *colon = strrchr(a, ':');
		if (!colon || colon == a) die_usage("--drop: '%s' is not NODE:FRACTION", a);
		char name[DA_NAME_BYTES];
		if ((size_t)(colon - a) >= sizeof name) die_usage("--drop: bad node in '%s'", a);
		memcpy(name, a, (size_t)(colon - a));
		name[colon - a] = 0;
		struct node *n = node_by_name(name);
		if (!n) die_usage("--drop: no node named '%s'", name);
		if (n->kind == K_REPLICA)
			die_usage("--drop: %s is a replica, which gets its invalidations through "
				  "replication; drop at the primary instead", name);
		char *end;
		errno = 0;
		double f = strtod(colon + 1, &end);
		if (errno || end == colon + 1 || *end || !(f >= 0.0 && f <= 1.0))
			die_usage("--drop: '%s' is not a fraction in 0..1", colon + 1);
		n->drop_set = 1;
		n->drop_ppm = (uint32_t)(f * DA_DROP_SCALE + 0.5);
	}
	if (reps && !primary) die_usage("--redis-replica needs --redis-primary");
	if ((strat & (S_REDIS_DEL | S_PUBSUB)) && !primary)
		die_usage("--strategy %s needs --redis-primary", strat_text);
	if ((strat & (S_MC_BROADCAST | S_META)) && !mcs)
		die_usage("--strategy %s needs --memcached", strat_text);
	if (!nnodes) die_usage("no cache: give --redis-primary and/or --memcached");
	if (sub && (!primary || !mcs)) die_usage("--subscriber needs --redis-primary and --memcached");
	if (!sub && !dbfile) die_usage("--db FILE is required");
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	json_set_alloc_funcs(ct_malloc, ct_free);

	if (sub) return subscriber();

	if (sqlite3_open_v2(dbfile, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		logf_("error sqlite: open %s: %s", dbfile, db ? sqlite3_errmsg(db) : "out of memory");
		return 1;
	}
	sqlite3_busy_timeout(db, DA_IO_TIMEOUT_MS);
	/* WAL without an fsync per commit: a write's latency is the app's, not the disk's */
	if (db_exec("PRAGMA journal_mode = WAL") < 0 || db_exec("PRAGMA synchronous = NORMAL") < 0)
		return 1;
	if (db_exec("CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, name TEXT, version INTEGER)") < 0)
		return 1;
	/* Every cache must answer now: the testbed starts the servers first. */
	for (unsigned i = 0; i < nnodes; i++) {
		int bad = nodes[i].kind == K_MC ? mc_conn(&nodes[i]) < 0 : !rd_conn(&nodes[i]);
		if (bad) return 1;
	}

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, bind_addr, &sin.sin_addr) != 1) die_usage("--bind: '%s' is not an IPv4 address", bind_addr);
	/* SIGINT/SIGTERM are blocked before the server threads exist, so only sigwait sees them */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
		(uint16_t)port, NULL, NULL, handle, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
	if (!d) {
		logf_("error http: cannot listen on %s:%d", bind_addr, port);
		return 1;
	}
	logf_("listening on %s:%d strategy=%s", bind_addr, port, strat_text);
	int sig = 0;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	for (unsigned i = 0; i < nnodes; i++) {
		if (nodes[i].rc) redisFree(nodes[i].rc);
		mc_close(&nodes[i]);
	}
	sqlite3_close(db);
	logf_("stopped by signal %d", sig);
	return 0;
}
