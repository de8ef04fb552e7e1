/* `cachetap drive SCENARIO` (issue 5, IFACES C): runs a scenario (scenario.h) against an
 * application and its caches, and records what happened next to what the capture saw.
 *
 *  - HTTP calls go through one libcurl easy handle (connections kept alive). Each carries an
 *    X-Request-Id "ct-<pid>-<n>", and records its start (CLOCK_REALTIME just before
 *    curl_easy_perform, the clock capture timestamps use) and libcurl's timing breakdown.
 *    A `spawn` makes the same call on a thread of its own, with an easy handle of its own
 *    (the main thread's is never shared); its request is built on the main thread, and its
 *    api_calls row is handed back to the main thread when it is joined (at `await`, when
 *    CT_DRIVE_SPAWN_MAX are in flight, or at the end of the scenario).
 *  - Cache checks use hiredis (GET, TTL, EXISTS) and a small memcached client over TCP
 *    (`get KEY`, `mg KEY v`; memcached protocol.txt), its replies read through a cursor.
 *  - With -i IFACE the capture pipeline runs on a thread of its own, into the SQLite store.
 *    The driver interposes on the store's ops to learn each connection's endpoints, the
 *    node links and every delete/invalidate/write/expire/flush event (its recipient as the
 *    timeline view computes it), so `wait invalidation KEY on NODES within D` is satisfied by
 *    the first such event for KEY at each node's endpoint at or after the origin, arriving
 *    within D of it. The origin is the start of the last write call (POST, PUT, PATCH,
 *    DELETE; SPEC 6) before the wait, so reads made between the write and the wait do not
 *    move it; without a write before, the last call; without a call, the wait's own start.
 *    An invalidation that arrived before the wait began counts. It wraps the live source, to know
 *    how far the capture has read, so a wait that fails has really seen every packet.
 *  - The driver's own rows (api_calls, checks, assertions, waits) are held in memory and
 *    written at the end through a connection of its own, after the capture has stopped: the
 *    store keeps a write transaction open while it captures. Then each driver call absorbs
 *    the wire row with the same request id (IFACES A).
 *
 * Exit: 0 every assertion held; 1 one failed ("FILE:LINE: expected X, got Y") or the run
 * failed; 2 bad scenario or usage. The first failure stops the run unless --keep-going.
 * Limits: limits.h, CT_DRIVE_*. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include "cachetap/buf.h"
#include "cachetap/capture.h"
#include "cachetap/cursor.h"
#include "cachetap/cli.h"
#include "cachetap/drive.h"
#include "cachetap/flow.h"
#include "cachetap/limits.h"
#include "cachetap/net.h"
#include "cachetap/pipeline.h"
#include "cachetap/privdrop.h"
#include "cachetap/proto.h"
#include "cachetap/scenario.h"
#include "cachetap/sink_async.h"
#include "cachetap/store.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* ======== the memcached reply parser ========
 *
 *   get KEY          ->  "END\r\n"                                          a miss
 *                    ->  "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\nEND\r\n"
 *   mg KEY v         ->  "EN\r\n"                                           a miss
 *                    ->  "VA <bytes>[ <flags>]*\r\n<data>\r\n"
 *   either           ->  "ERROR\r\n", "CLIENT_ERROR <text>\r\n", "SERVER_ERROR <text>\r\n"
 */

/* The line at the cursor: its length without CRLF, -1 when it has not ended yet, -2 when it
 * is too long or ends in a bare LF. */
static int64_t mc_line(const struct ct_cur *c)
{
	size_t left = ct_cur_left(c);
	size_t lim = left < CT_DRIVE_MC_LINE_MAX_BYTES + 2 ? left : CT_DRIVE_MC_LINE_MAX_BYTES + 2;
	const uint8_t *nl = memchr(c->p, '\n', lim);
	if (!nl)
		return left >= CT_DRIVE_MC_LINE_MAX_BYTES + 2 ? -2 : -1;
	size_t n = (size_t)(nl - c->p);
	uint8_t cr;
	if (n == 0 || !ct_cur_peek_u8(c, n - 1, &cr) || cr != '\r')
		return -2;
	return (int64_t)(n - 1);
}

/* The next space-separated token of a line cursor. */
static int mc_token(struct ct_cur *c, const uint8_t **t, size_t *n)
{
	uint8_t b;
	while (ct_cur_peek_u8(c, 0, &b) && b == ' ')
		ct_cur_skip(c, 1);
	size_t k = 0;
	while (ct_cur_peek_u8(c, k, &b) && b != ' ')
		k++;
	if (!k)
		return 0;
	*t = ct_cur_take(c, k);
	*n = k;
	return *t != NULL;
}

static int mc_is(const uint8_t *t, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(t, w, n) == 0;
}

static int mc_number(const uint8_t *t, size_t n, uint64_t *v)
{
	if (n == 0 || n > 19)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(t[i] - '0');
	}
	*v = x;
	return 0;
}

int64_t ct_drive_mc_reply(const uint8_t *p, size_t len, int mg, struct ct_mc_reply *r)
{
	struct ct_cur c = ct_cur_make(p, len);
	memset(r, 0, sizeof *r);
	int64_t ll = mc_line(&c);
	if (ll == -1)
		return 0;
	if (ll < 0)
		return CT_EPROTO;
	r->text = c.p;
	r->text_len = (size_t)ll;
	struct ct_cur line = ct_cur_make(c.p, (size_t)ll);
	ct_cur_skip(&c, (size_t)ll + 2);
	const uint8_t *w;
	size_t wn;
	if (!mc_token(&line, &w, &wn))
		return CT_EPROTO;
	if (mc_is(w, wn, "ERROR") || mc_is(w, wn, "CLIENT_ERROR") || mc_is(w, wn, "SERVER_ERROR")) {
		r->kind = CT_MC_REPLY_ERROR;
		return (int64_t)(c.p - p);
	}
	if (mc_is(w, wn, mg ? "EN" : "END")) {
		if (ct_cur_left(&line))
			return CT_EPROTO;
		r->kind = CT_MC_REPLY_MISS;
		return (int64_t)(c.p - p);
	}
	if (mg && (mc_is(w, wn, "HD") || mc_is(w, wn, "NF") || mc_is(w, wn, "EX") ||
		   mc_is(w, wn, "NS"))) {
		r->kind = CT_MC_REPLY_ERROR; /* a status where a value or EN was due */
		return (int64_t)(c.p - p);
	}
	const uint8_t *t;
	size_t tn;
	uint64_t size;
	if (mg) {
		if (!mc_is(w, wn, "VA") || !mc_token(&line, &t, &tn) || mc_number(t, tn, &size))
			return CT_EPROTO;
	} else {
		/* VALUE <key> <flags> <bytes> [<cas>] */
		uint64_t flags;
		if (!mc_is(w, wn, "VALUE") || !mc_token(&line, &t, &tn) ||
		    !mc_token(&line, &t, &tn) || mc_number(t, tn, &flags) ||
		    !mc_token(&line, &t, &tn) || mc_number(t, tn, &size))
			return CT_EPROTO;
	}
	if (size > CT_DRIVE_VALUE_MAX_BYTES)
		return CT_ELIMIT;
	if (ct_cur_left(&c) < size + 2)
		return 0;
	r->value = ct_cur_take(&c, (size_t)size);
	r->value_len = (size_t)size;
	uint8_t cr = ct_cur_u8(&c), lf = ct_cur_u8(&c);
	if (cr != '\r' || lf != '\n')
		return CT_EPROTO;
	if (!mg) {
		ll = mc_line(&c);
		if (ll == -1)
			return 0;
		if (ll != 3 || memcmp(c.p, "END", 3) != 0)
			return CT_EPROTO; /* one key asked, one value and END */
		ct_cur_skip(&c, 5);
	}
	r->kind = CT_MC_REPLY_VALUE;
	return (int64_t)(c.p - p);
}

/* ======== values shown in messages and rows ======== */

/* Quotes bytes the way a scenario writes a string: printable ASCII as is, the rest escaped,
 * cut at CT_DRIVE_SHOW_BYTES. */
static void show_bytes(const uint8_t *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	out[o++] = '"';
	for (size_t i = 0; i < n && o + 8 < outlen; i++) {
		if (i == CT_DRIVE_SHOW_BYTES) {
			o += (size_t)snprintf(out + o, outlen - o, "...");
			break;
		}
		uint8_t b = s[i];
		if (b == '"' || b == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c", b);
		else if (b >= 0x20 && b < 0x7f)
			out[o++] = (char)b;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", b);
	}
	out[o++] = '"';
	out[o] = '\0';
}

#define SHOW_LEN (CT_DRIVE_SHOW_BYTES * 4 + 64)

static void show_json(const json_t *j, char *out, size_t outlen)
{
	char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!t) {
		snprintf(out, outlen, "(unprintable)");
		return;
	}
	size_t n = strlen(t);
	if (n > CT_DRIVE_SHOW_BYTES)
		snprintf(out, outlen, "%.*s...", (int)CT_DRIVE_SHOW_BYTES, t);
	else
		snprintf(out, outlen, "%s", t);
	ct_free(t); /* jansson allocates through ct_malloc (set at start) */
}

static void show_ms(uint64_t ns, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.3f ms", (double)ns / 1e6);
}

/* ======== the driver's rows, held until the end ======== */

struct call_row {
	char request_id[48];
	char *method, *path;
	char client[CT_ENDPOINT_STRLEN], server[CT_ENDPOINT_STRLEN];
	long status;          /* 0: no response */
	uint32_t line;
	uint64_t ts_start, ts_end, req_bytes, resp_bytes;
	uint64_t dns, connect, ttfb, total; /* ns */
};

struct check_row {
	uint32_t line;
	int ok;
	const char *node, *endpoint, *cmd; /* owned by the scenario / the node table */
	char *key, *expected, *actual;
	uint64_t ts;
};

struct assert_row {
	uint32_t line;
	int ok;
	char kind[32];
	char *expected, *actual;
	char request_id[48];
	uint64_t ts;
};

struct wait_row {
	uint32_t line;
	int satisfied;
	const char *node, *endpoint;
	char *key;
	char request_id[48]; /* the origin call, "" when the wait had none */
	uint64_t origin, arrival, within, event_id; /* arrival 0: none */
};

struct rows {
	struct call_row *calls;
	struct check_row *checks;
	struct assert_row *asserts;
	struct wait_row *waits;
	uint32_t ncalls, nchecks, nasserts, nwaits;
	uint32_t cap[4];
	uint64_t dropped; /* past CT_DRIVE_ROWS_MAX, or an allocation failed */
};

/* Room for one more row in *arr; NULL (counted) when the cap is reached. */
static void *row_add(struct rows *r, void **arr, uint32_t *n, uint32_t *cap, size_t size)
{
	if ((uint64_t)r->ncalls + r->nchecks + r->nasserts + r->nwaits >= CT_DRIVE_ROWS_MAX) {
		r->dropped++;
		return NULL;
	}
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 64;
		void *q = ct_realloc(*arr, (size_t)nc * size);
		if (!q) {
			r->dropped++;
			return NULL;
		}
		*arr = q;
		*cap = nc;
	}
	void *row = (char *)*arr + (size_t)(*n)++ * size;
	memset(row, 0, size);
	return row;
}

#define ROW_ADD(r, arr, n, capi)                                                          \
	row_add((r), (void **)&(r)->arr, &(r)->n, &(r)->cap[capi], sizeof *(r)->arr)

static void rows_free(struct rows *r)
{
	for (uint32_t i = 0; i < r->ncalls; i++) {
		ct_free(r->calls[i].method);
		ct_free(r->calls[i].path);
	}
	for (uint32_t i = 0; i < r->nchecks; i++) {
		ct_free(r->checks[i].key);
		ct_free(r->checks[i].expected);
		ct_free(r->checks[i].actual);
	}
	for (uint32_t i = 0; i < r->nasserts; i++) {
		ct_free(r->asserts[i].expected);
		ct_free(r->asserts[i].actual);
	}
	for (uint32_t i = 0; i < r->nwaits; i++)
		ct_free(r->waits[i].key);
	ct_free(r->calls);
	ct_free(r->checks);
	ct_free(r->asserts);
	ct_free(r->waits);
}

/* ======== the tap: what the capture tells the driver ======== */

struct conn_ent {
	struct conn_ent *next;
	uint64_t id;
	char ep[2][CT_ENDPOINT_STRLEN];   /* [0] client, [1] server */
	char link[2][CT_ENDPOINT_STRLEN]; /* node_links: [0] client side, [1] server side; "" none */
};

#define CONN_BUCKETS 4096u

struct arrival {
	uint64_t ts_ns;
	uint64_t event_id; /* the events row, if the store numbered it as we counted */
	char recipient[CT_ENDPOINT_STRLEN];
	uint8_t *key;      /* NULL with any_key */
	uint32_t key_len;
	uint8_t any_key;   /* a flush without a key: every key */
};

struct tap {
	struct ct_sink_ops ops;          /* the store's, with conn, node and event replaced */
	const struct ct_sink_ops *inner; /* the store's own, put back before it is closed */
	struct ct_source base;           /* wraps the live source */
	struct ct_source *live;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Capture thread only. */
	struct conn_ent *buckets[CONN_BUCKETS];
	uint32_t nconns;
	uint64_t conns_over;       /* connections not tracked: CT_DRIVE_CONNS_MAX */
	uint64_t events_stored;
	uint64_t prev_frame_ts;
	uint64_t caught_local;
	/* Under mu. */
	struct arrival *ring;      /* CT_DRIVE_ARRIVALS_MAX, oldest at head */
	uint32_t head, count;
	uint64_t arrivals_dropped;
	/* The capture has read and processed every packet stamped before this (ns). */
	_Atomic uint64_t caught_ts;
};

static struct tap *tap_of_sink(struct ct_sink *s)
{
	return (struct tap *)(void *)((char *)(uintptr_t)s->ops - offsetof(struct tap, ops));
}

static struct tap *tap_of_source(struct ct_source *s)
{
	return (struct tap *)(void *)((char *)s - offsetof(struct tap, base));
}

static struct conn_ent **conn_slot(struct tap *t, uint64_t id)
{
	struct conn_ent **pp = &t->buckets[(id * 0x9e3779b97f4a7c15ull) >> 52];
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static int tap_conn(struct ct_sink *s, const struct ct_conn_rec *c)
{
	struct tap *t = tap_of_sink(s);
	struct conn_ent **pp = conn_slot(t, c->id);
	int released = c->close_reason && strcmp(c->close_reason, "none") != 0;
	if (released) {
		/* It has left the flow table: no event of it comes after this. */
		struct conn_ent *e = *pp;
		if (e) {
			*pp = e->next;
			ct_free(e);
			t->nconns--;
		}
	} else if (!*pp) {
		struct conn_ent *e = NULL;
		if (t->nconns >= CT_DRIVE_CONNS_MAX || !(e = ct_calloc(1, sizeof *e))) {
			t->conns_over++;
		} else {
			e->id = c->id;
			snprintf(e->ep[0], sizeof e->ep[0], "%s", c->client ? c->client : "");
			snprintf(e->ep[1], sizeof e->ep[1], "%s", c->server ? c->server : "");
			*pp = e;
			t->nconns++;
		}
	}
	return t->inner->conn(s, c);
}

static int tap_node(struct ct_sink *s, const struct ct_node_rec *n)
{
	struct tap *t = tap_of_sink(s);
	if (n->conn_id && n->endpoint) {
		struct conn_ent *e = *conn_slot(t, n->conn_id);
		char *l = e ? e->link[n->client_side ? 0 : 1] : NULL;
		if (l && !l[0]) /* the first link wins, as in node_links */
			snprintf(l, CT_ENDPOINT_STRLEN, "%s", n->endpoint);
	}
	return t->inner->node(s, n);
}

static int is_arrival_class(unsigned cls)
{
	return cls == CT_CLASS_DELETE || cls == CT_CLASS_INVALIDATE || cls == CT_CLASS_WRITE ||
	       cls == CT_CLASS_EXPIRE || cls == CT_CLASS_FLUSH;
}

static void arrival_drop_head(struct tap *t)
{
	ct_free(t->ring[t->head].key);
	t->ring[t->head].key = NULL;
	t->head = (t->head + 1) % CT_DRIVE_ARRIVALS_MAX;
	t->count--;
}

/* An arrival: its recipient as the timeline view computes it (the server, or the node
 * linked to the server side, for c2s; the client, or its linked node, for s2c). */
static void note_arrival(struct tap *t, const struct ct_event *e, uint64_t event_id)
{
	int has_key = (e->flags & CT_EV_HAS_KEY) && !(e->flags & CT_EV_KEY_TRUNCATED);
	if (!has_key && e->cls != CT_CLASS_FLUSH)
		return;
	if (has_key && e->key_len > CT_DRIVE_KEY_MAX_BYTES)
		return;
	struct conn_ent *c = *conn_slot(t, e->conn_id);
	if (!c)
		return;
	int side = e->dir == CT_C2S ? 1 : 0;
	const char *rcpt = c->link[side][0] ? c->link[side] : c->ep[side];
	uint8_t *key = NULL;
	if (has_key && !(key = ct_malloc(e->key_len ? e->key_len : 1))) {
		pthread_mutex_lock(&t->mu);
		t->arrivals_dropped++;
		pthread_mutex_unlock(&t->mu);
		return;
	}
	if (has_key && e->key_len)
		memcpy(key, e->key, e->key_len); /* a copy of the decoded key bytes, nothing parsed */
	pthread_mutex_lock(&t->mu);
	if (t->count == CT_DRIVE_ARRIVALS_MAX) {
		arrival_drop_head(t);
		t->arrivals_dropped++;
	}
	struct arrival *a = &t->ring[(t->head + t->count++) % CT_DRIVE_ARRIVALS_MAX];
	a->ts_ns = e->ts_ns;
	a->event_id = event_id;
	snprintf(a->recipient, sizeof a->recipient, "%s", rcpt);
	a->key = key;
	a->key_len = has_key ? e->key_len : 0;
	a->any_key = !has_key;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

static int tap_event(struct ct_sink *s, const struct ct_event *e)
{
	struct tap *t = tap_of_sink(s);
	int rc = t->inner->event(s, e);
	/* A fresh database numbers events 1, 2, ... in the order they are stored. */
	uint64_t id = rc == 0 ? ++t->events_stored : 0;
	if (is_arrival_class(e->cls))
		note_arrival(t, e, id);
	return rc;
}

static void caught_up_to(struct tap *t, uint64_t ts)
{
	if (ts > t->caught_local) {
		t->caught_local = ts;
		atomic_store_explicit(&t->caught_ts, ts, memory_order_release);
	}
}

/* The pipeline calls next() again only once it has processed the previous frame, and an idle
 * return means the ring was empty for a whole poll: either tells how far the capture is. */
static int wrap_next(struct ct_source *s, struct ct_frame *f)
{
	struct tap *t = tap_of_source(s);
	if (t->prev_frame_ts)
		caught_up_to(t, t->prev_frame_ts);
	int r = ct_source_next(t->live, f);
	if (r == 1) {
		t->prev_frame_ts = f->ts_ns;
	} else if (r == CT_SOURCE_IDLE) {
		/* The poll began CT_CAPTURE_TIMEOUT_MS ago with nothing buffered; the kernel hands
		 * over a block of packets at most that long after they came. */
		caught_up_to(t, now_ns() - (uint64_t)CT_CAPTURE_TIMEOUT_MS * 1000000ull);
		pthread_mutex_lock(&t->mu);
		pthread_cond_broadcast(&t->cv);
		pthread_mutex_unlock(&t->mu);
	}
	return r;
}

static void wrap_stats(struct ct_source *s, struct ct_source_stats *st)
{
	ct_source_stats(tap_of_source(s)->live, st);
}

static void wrap_brk(struct ct_source *s)
{
	ct_source_break(tap_of_source(s)->live);
}

static void wrap_close(struct ct_source *s)
{
	CT_UNUSED(s); /* the live source is closed by its owner */
}

static const char *wrap_describe(struct ct_source *s)
{
	return ct_source_describe(tap_of_source(s)->live);
}

static const struct ct_source_ops wrap_ops = {
	.next = wrap_next,
	.stats = wrap_stats,
	.brk = wrap_brk,
	.close = wrap_close,
	.describe = wrap_describe,
};

static struct tap *tap_new(struct ct_sink *sink, struct ct_source *live)
{
	struct tap *t = ct_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->ring = ct_calloc(CT_DRIVE_ARRIVALS_MAX, sizeof *t->ring);
	if (!t->ring) {
		ct_free(t);
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->live = live;
	t->base.ops = &wrap_ops;
	atomic_init(&t->caught_ts, 0);
	/* Every op of the store as it is, so ops added to sink.h later pass through untouched;
	 * only these three are looked at on their way. */
	t->inner = sink->ops;
	t->ops = *sink->ops;
	t->ops.conn = tap_conn;
	t->ops.node = tap_node;
	t->ops.event = tap_event;
	sink->ops = &t->ops;
	return t;
}

/* Puts the store's own ops back (before the sink is closed) and frees the tap. */
static void tap_free(struct tap *t, struct ct_sink *sink)
{
	if (!t)
		return;
	if (sink && sink->ops == &t->ops)
		sink->ops = t->inner;
	for (uint32_t i = 0; i < CONN_BUCKETS; i++)
		for (struct conn_ent *e = t->buckets[i], *n; e; e = n) {
			n = e->next;
			ct_free(e);
		}
	while (t->count)
		arrival_drop_head(t);
	ct_free(t->ring);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	ct_free(t);
}

/* Arrivals before ts can no longer be anyone's: a later wait's origin is at least ts. */
static void tap_forget_before(struct tap *t, uint64_t ts)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	while (t->count && t->ring[t->head].ts_ns < ts)
		arrival_drop_head(t);
	pthread_mutex_unlock(&t->mu);
}

/* The first arrival of key at recipient at or after origin; NULL when none yet. Under mu. */
static const struct arrival *tap_find(const struct tap *t, const char *recipient,
				      const uint8_t *key, size_t key_len, uint64_t origin)
{
	const struct arrival *best = NULL;
	for (uint32_t i = 0; i < t->count; i++) {
		const struct arrival *a = &t->ring[(t->head + i) % CT_DRIVE_ARRIVALS_MAX];
		if (a->ts_ns < origin || strcmp(a->recipient, recipient) != 0)
			continue;
		if (!a->any_key && (a->key_len != key_len || memcmp(a->key, key, key_len) != 0))
			continue;
		if (!best || a->ts_ns < best->ts_ns)
			best = a;
	}
	return best;
}

/* Waits until the capture has processed every packet stamped before ts, or until max_ns of
 * wall time have passed. Returns 1 when it has. */
static int tap_catch_up(struct tap *t, uint64_t ts, uint64_t max_ns,
			atomic_int *stop)
{
	uint64_t give_up = now_ns() + max_ns;
	pthread_mutex_lock(&t->mu);
	int done;
	while (!(done = atomic_load_explicit(&t->caught_ts, memory_order_acquire) >= ts) &&
	       now_ns() < give_up && !*stop) {
		uint64_t wake = now_ns() + 20000000ull;
		struct timespec ts_wake = { (time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull) };
		pthread_cond_timedwait(&t->cv, &t->mu, &ts_wake);
	}
	pthread_mutex_unlock(&t->mu);
	return done;
}

/* ======== cache nodes ======== */

struct node_rt {
	const struct ct_scn_node *n;
	char ip[INET6_ADDRSTRLEN];
	char endpoint[CT_ENDPOINT_STRLEN]; /* as the capture writes it */
	const char *role;
	redisContext *redis;
	int fd; /* memcached; -1 when not connected */
	struct ct_buf in;
};

/* Resolves host to an address (IPv4 first: servers on loopback usually bind 127.0.0.1). */
static int resolve(const char *host, uint16_t port, char *ip, size_t iplen, char *ep, size_t eplen,
		   char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(rc));
		return CT_EINVAL;
	}
	const struct addrinfo *pick = NULL;
	for (const struct addrinfo *a = res; a; a = a->ai_next)
		if (a->ai_family == AF_INET && !pick)
			pick = a;
	for (const struct addrinfo *a = res; a && !pick; a = a->ai_next)
		if (a->ai_family == AF_INET6)
			pick = a;
	struct ct_ip cip;
	memset(&cip, 0, sizeof cip);
	if (pick && pick->ai_family == AF_INET) {
		const struct sockaddr_in *sa = (const void *)pick->ai_addr;
		cip.family = 4;
		memcpy(cip.a, &sa->sin_addr, 4);
		inet_ntop(AF_INET, &sa->sin_addr, ip, (socklen_t)iplen);
	} else if (pick) {
		const struct sockaddr_in6 *sa = (const void *)pick->ai_addr;
		cip.family = 6;
		memcpy(cip.a, &sa->sin6_addr, 16);
		inet_ntop(AF_INET6, &sa->sin6_addr, ip, (socklen_t)iplen);
	}
	freeaddrinfo(res);
	if (!pick) {
		snprintf(err, errlen, "host '%s' has no IPv4 or IPv6 address", host);
		return CT_EINVAL;
	}
	ct_endpoint_str(&cip, port, ep, eplen);
	return 0;
}

static void node_close(struct node_rt *n)
{
	if (n->redis)
		redisFree(n->redis);
	n->redis = NULL;
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->in.len = 0;
}

static int redis_connect(struct node_rt *n, char *err, size_t errlen)
{
	if (n->redis)
		return 0;
	struct timeval tv = { CT_DRIVE_IO_TIMEOUT_MS / 1000, (CT_DRIVE_IO_TIMEOUT_MS % 1000) * 1000 };
	n->redis = redisConnectWithTimeout(n->ip, n->n->port, tv);
	if (!n->redis || n->redis->err) {
		snprintf(err, errlen, "cannot connect: %s", n->redis ? n->redis->errstr : "out of memory");
		node_close(n);
		return CT_EIO;
	}
	redisSetTimeout(n->redis, tv);
	return 0;
}

static int mc_connect(struct node_rt *n, char *err, size_t errlen)
{
	if (n->fd >= 0)
		return 0;
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	if (inet_pton(AF_INET, n->ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(n->n->port);
		sl = sizeof *s4;
	} else {
		inet_pton(AF_INET6, n->ip, &s6->sin6_addr);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(n->n->port);
		sl = sizeof *s6;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect: %s", strerror(errno));
		return CT_EIO;
	}
	int rc = connect(fd, (struct sockaddr *)&ss, sl);
	if (rc < 0 && errno == EINPROGRESS) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int soerr = 0;
		socklen_t el = sizeof soerr;
		if (poll(&pfd, 1, CT_DRIVE_IO_TIMEOUT_MS) != 1)
			errno = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) == 0 && soerr == 0)
			rc = 0;
		else
			errno = soerr;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot connect: %s", strerror(errno));
		close(fd);
		return CT_EIO;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	n->fd = fd;
	n->in.len = 0;
	return 0;
}

/* Sends a whole request, then reads until one reply is complete. */
static int mc_request(struct node_rt *n, const char *req, size_t len, int mg,
		      struct ct_mc_reply *r, char *err, size_t errlen)
{
	uint64_t deadline = now_ns() + (uint64_t)CT_DRIVE_IO_TIMEOUT_MS * 1000000ull;
	size_t off = 0;
	n->in.len = 0;
	while (off < len) {
		ssize_t w = send(n->fd, req + off, len - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(err, errlen, "send: %s", strerror(errno));
			return CT_EIO;
		}
		struct pollfd pfd = { .fd = n->fd, .events = POLLOUT };
		if (poll(&pfd, 1, CT_DRIVE_IO_TIMEOUT_MS) <= 0 || now_ns() > deadline) {
			snprintf(err, errlen, "send: timed out");
			return CT_EIO;
		}
	}
	for (;;) {
		int64_t used = ct_drive_mc_reply((const uint8_t *)ct_buf_str(&n->in), n->in.len, mg, r);
		if (used > 0)
			return 0;
		if (used < 0) {
			snprintf(err, errlen, "%s", used == CT_ELIMIT ? "reply value too large"
								 : "not a memcached reply");
			return CT_EPROTO;
		}
		char chunk[16384];
		ssize_t got = recv(n->fd, chunk, sizeof chunk, 0);
		if (got > 0) {
			if (ct_buf_add(&n->in, chunk, (size_t)got)) {
				snprintf(err, errlen, "reply too large");
				return CT_ELIMIT;
			}
			continue;
		}
		if (got == 0) {
			snprintf(err, errlen, "connection closed by the server");
			return CT_EIO;
		}
		if (errno != EAGAIN && errno != EINTR) {
			snprintf(err, errlen, "recv: %s", strerror(errno));
			return CT_EIO;
		}
		uint64_t now = now_ns();
		struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
		if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0) {
			snprintf(err, errlen, "no reply within %d ms", CT_DRIVE_IO_TIMEOUT_MS);
			return CT_EIO;
		}
	}
}

/* ======== the run ======== */

struct opts {
	const char *db, *iface, *scenario;
	int keep_going, quiet, no_promisc;
	uint32_t buffer_bytes, snaplen;
	struct ct_cli_capture cap; /* ports, nodes, channels, decode, values, filter (cli.h) */
};

struct drive {
	const struct opts *o;
	const struct ct_scenario *sc;
	char *values[CT_SCENARIO_MAX_VARS];
	int64_t *counters; /* per repeat step */
	struct node_rt *nodes;
	struct rows rows;
	struct tap *tap;
	/* HTTP */
	CURL *curl;
	char curl_err[CURL_ERROR_SIZE];
	struct ct_buf body;
	int body_cut;
	uint64_t ncalls_made;
	/* the last call, for expect and wait */
	int have_call, call_ok;
	long status;
	char call_error[CURL_ERROR_SIZE + 64];
	char request_id[48];
	/* the origin of a later wait: the last write call (POST, PUT, PATCH, DELETE), or the
	 * last call when there has been no write yet */
	int have_origin, origin_is_write;
	uint64_t origin_start;
	char origin_rid[48];
	json_t *json;
	int json_parsed;
	/* spawned calls in flight, oldest at spawn_head */
	struct spawn *spawns[CT_DRIVE_SPAWN_MAX];
	uint32_t spawn_head, nspawns;
	/* counts */
	uint64_t nchecks, nasserts, nwaits, failures;
	int scenario_error; /* exit 2 */
	int stopped;        /* the first failure ends the run (without --keep-going) */
};

static atomic_int drive_stop; /* set by the signal handler, read by every thread */

static void on_signal(int sig)
{
	if (drive_stop)
		_exit(128 + sig);
	drive_stop = 1;
}

__attribute__((format(printf, 3, 4))) static void failure(struct drive *d, uint32_t line,
							   const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%u: ", d->sc->file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	d->failures++;
	if (!d->o->keep_going)
		d->stopped = 1;
}

__attribute__((format(printf, 3, 4))) static void scenario_error(struct drive *d, uint32_t line,
								  const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%u: ", d->sc->file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	d->scenario_error = 1;
	d->stopped = 1;
}

/* Expands a template into b (emptied first). */
static int expand(struct drive *d, const struct ct_scn_step *st, const char *tmpl,
		  struct ct_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
	int rc = ct_scenario_expand(d->sc, (const char *const *)d->values, tmpl, b);
	if (rc)
		scenario_error(d, st->line, "'%.60s...' is longer than %u bytes once its variables "
					    "are expanded", tmpl, CT_SCENARIO_VALUE_MAX_BYTES);
	return rc;
}

static char *xstrdup(const char *s)
{
	return s ? ct_strdup(s) : NULL;
}

/* ---- call ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct drive *d = ud;
	size_t len = size * n;
	if (!d->body_cut && ct_buf_add(&d->body, p, len))
		d->body_cut = 1;
	return len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t e)
{
	CT_UNUSED(ud), CT_UNUSED(a), CT_UNUSED(b), CT_UNUSED(c), CT_UNUSED(e);
	return drive_stop ? 1 : 0; /* a signal aborts the transfer */
}

static void endpoint_of(const char *ip, long port, char *out, size_t len)
{
	if (!ip || !ip[0])
		out[0] = '\0';
	else if (strchr(ip, ':'))
		snprintf(out, len, "[%s]:%ld", ip, port);
	else
		snprintf(out, len, "%s:%ld", ip, port);
}

static uint64_t curl_ns(CURL *h, CURLINFO what)
{
	curl_off_t us = 0;
	if (curl_easy_getinfo(h, what, &us) != CURLE_OK || us < 0)
		return 0;
	return (uint64_t)us * 1000u;
}

static int is_write_method(const char *m)
{
	return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 ||
	       strcmp(m, "DELETE") == 0;
}

/* What a call or a spawn sends: its path and body expanded, the URL, and the headers with a
 * new X-Request-Id (written into rid). Returns 0, or -1 with the scenario error reported. */
static int build_call(struct drive *d, const struct ct_scn_step *st, struct ct_buf *path,
		      struct ct_buf *body, struct ct_buf *url, struct curl_slist **hdrs, char *rid,
		      size_t ridlen)
{
	if (expand(d, st, st->path, path) || (st->body && expand(d, st, st->body, body)))
		return -1;
	const char *base = d->sc->base;
	size_t bl = strlen(base);
	if (bl && base[bl - 1] == '/')
		bl--;
	if (ct_buf_add(url, base, bl) || ct_buf_add(url, path->p, path->len)) {
		scenario_error(d, st->line, "the URL is too long");
		return -1;
	}
	d->ncalls_made++;
	snprintf(rid, ridlen, "ct-%ld-%" PRIu64, (long)getpid(), d->ncalls_made);
	char hrid[80];
	snprintf(hrid, sizeof hrid, "X-Request-Id: %s", rid);
	int has_ctype = 0;
	struct curl_slist *h = NULL;
	for (uint32_t i = 0; i < d->sc->nheaders; i++) {
		h = curl_slist_append(h, d->sc->headers[i]);
		has_ctype |= strncasecmp(d->sc->headers[i], "Content-Type:", 13) == 0;
	}
	h = curl_slist_append(h, hrid);
	if (st->body && !has_ctype)
		h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	*hdrs = h;
	if (!h) {
		scenario_error(d, st->line, "out of memory");
		return -1;
	}
	return 0;
}

/* The options of one call on handle h (the caller sets where the body goes). */
static void setup_call(CURL *h, const struct ct_scn_step *st, const char *url,
		       struct curl_slist *hdrs, const char *body, size_t body_len, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, CT_DRIVE_HTTP_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	if (strcmp(st->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(st->method, "GET") != 0 || st->body)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, st->method);
	if (st->body || strcmp(st->method, "POST") == 0 || strcmp(st->method, "PUT") == 0 ||
	    strcmp(st->method, "PATCH") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, st->body && body ? body : "");
	}
}

/* What libcurl tells of a finished call: sizes, timings, and with a response the endpoints. */
static void call_row_info(CURL *h, struct call_row *r, int call_ok)
{
	curl_off_t down = 0;
	curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
	r->resp_bytes = down > 0 ? (uint64_t)down : 0;
	r->dns = curl_ns(h, CURLINFO_NAMELOOKUP_TIME_T);
	r->connect = curl_ns(h, CURLINFO_CONNECT_TIME_T);
	r->ttfb = curl_ns(h, CURLINFO_STARTTRANSFER_TIME_T);
	r->total = curl_ns(h, CURLINFO_TOTAL_TIME_T);
	char *ip = NULL;
	long port = 0;
	if (call_ok && curl_easy_getinfo(h, CURLINFO_LOCAL_IP, &ip) == CURLE_OK &&
	    curl_easy_getinfo(h, CURLINFO_LOCAL_PORT, &port) == CURLE_OK)
		endpoint_of(ip, port, r->client, sizeof r->client);
	if (call_ok && curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
	    curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK)
		endpoint_of(ip, port, r->server, sizeof r->server);
}

static void step_call(struct drive *d, const struct ct_scn_step *st)
{
	struct ct_buf path = { 0 }, body = { 0 }, url = { 0 };
	struct curl_slist *hdrs = NULL;
	if (build_call(d, st, &path, &body, &url, &hdrs, d->request_id, sizeof d->request_id))
		goto out;

	CURL *h = d->curl;
	curl_easy_reset(h); /* options only: live connections stay in the handle's cache */
	setup_call(h, st, url.p, hdrs, body.p, body.len, d->curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, d);

	d->body.len = 0;
	if (d->body.p)
		d->body.p[0] = '\0';
	d->body_cut = 0;
	d->curl_err[0] = '\0';
	json_decref(d->json);
	d->json = NULL;
	d->json_parsed = 0;

	/* A write call is the origin of the waits after it; arrivals before it can be no later
	 * wait's. (A read call is one only until the first write.) */
	int write = is_write_method(st->method);
	int origin = write || !d->origin_is_write;
	if (origin)
		tap_forget_before(d->tap, now_ns());
	uint64_t start = now_ns();
	CURLcode cc = curl_easy_perform(h);
	uint64_t end = now_ns();

	d->have_call = 1;
	if (origin) {
		d->have_origin = 1;
		d->origin_is_write = write;
		d->origin_start = start;
		snprintf(d->origin_rid, sizeof d->origin_rid, "%s", d->request_id);
	}
	d->call_ok = cc == CURLE_OK;
	d->status = 0;
	if (d->call_ok)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &d->status);
	else
		snprintf(d->call_error, sizeof d->call_error, "no response (%s)",
			 d->curl_err[0] ? d->curl_err : curl_easy_strerror(cc));

	struct call_row *r = ROW_ADD(&d->rows, calls, ncalls, 0);
	if (r) {
		snprintf(r->request_id, sizeof r->request_id, "%s", d->request_id);
		r->method = xstrdup(st->method);
		r->path = xstrdup(path.p ? path.p : "");
		r->status = d->status;
		r->line = st->line;
		r->ts_start = start;
		r->ts_end = end;
		r->req_bytes = body.len;
		call_row_info(h, r, d->call_ok);
	}
	if (!d->call_ok && !drive_stop)
		failure(d, st->line, "call %s %s: expected a response, got %s", st->method,
			path.p, d->call_error);
out:
	curl_slist_free_all(hdrs);
	ct_buf_free(&path);
	ct_buf_free(&body);
	ct_buf_free(&url);
}

/* ---- spawn, await ---- */

/* A call in the background. The main thread fills the request and the row's request id,
 * method, path, line and request size before the thread starts; the thread writes cc,
 * curl_err and the rest of the row; the main thread reads them after pthread_join. */
struct spawn {
	pthread_t th;
	const struct ct_scn_step *st;
	char *url, *body; /* body NULL when the step has none */
	size_t body_len;
	struct curl_slist *hdrs;
	CURLcode cc;
	char curl_err[CURL_ERROR_SIZE];
	struct call_row row;
};

static size_t discard_body(char *p, size_t size, size_t n, void *ud)
{
	CT_UNUSED(p), CT_UNUSED(ud);
	return size * n; /* no expect applies to a spawned call: its body is only counted */
}

static void *spawn_main(void *arg)
{
	struct spawn *sp = arg;
	CURL *h = curl_easy_init();
	if (!h) {
		sp->cc = CURLE_FAILED_INIT;
		snprintf(sp->curl_err, sizeof sp->curl_err, "libcurl cannot start a handle");
		return NULL;
	}
	setup_call(h, sp->st, sp->url, sp->hdrs, sp->body, sp->body_len, sp->curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	sp->row.ts_start = now_ns();
	sp->cc = curl_easy_perform(h);
	sp->row.ts_end = now_ns();
	if (sp->cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &sp->row.status);
	call_row_info(h, &sp->row, sp->cc == CURLE_OK);
	curl_easy_cleanup(h); /* its connection closes: the capture sees it end */
	return NULL;
}

static void spawn_free(struct spawn *sp)
{
	curl_slist_free_all(sp->hdrs);
	ct_free(sp->url);
	ct_free(sp->body);
	ct_free(sp->row.method);
	ct_free(sp->row.path);
	ct_free(sp);
}

/* Joins the oldest spawned call: its row joins the others, and a call without a response is
 * a failure at the spawn's line. */
static void spawn_join_oldest(struct drive *d)
{
	struct spawn *sp = d->spawns[d->spawn_head];
	d->spawns[d->spawn_head] = NULL;
	d->spawn_head = (d->spawn_head + 1) % CT_DRIVE_SPAWN_MAX;
	d->nspawns--;
	pthread_join(sp->th, NULL);
	if (sp->cc != CURLE_OK && !drive_stop)
		failure(d, sp->st->line, "spawn %s %s: expected a response, got no response (%s)",
			sp->st->method, sp->row.path,
			sp->curl_err[0] ? sp->curl_err : curl_easy_strerror(sp->cc));
	struct call_row *r = ROW_ADD(&d->rows, calls, ncalls, 0);
	if (r) {
		*r = sp->row; /* the row's strings move with it */
		sp->row.method = sp->row.path = NULL;
	}
	spawn_free(sp);
}

static void step_await(struct drive *d)
{
	while (d->nspawns)
		spawn_join_oldest(d);
}

static void step_spawn(struct drive *d, const struct ct_scn_step *st)
{
	struct ct_buf path = { 0 }, body = { 0 }, url = { 0 };
	struct spawn *sp = ct_calloc(1, sizeof *sp);
	if (!sp) {
		scenario_error(d, st->line, "out of memory");
		return;
	}
	if (build_call(d, st, &path, &body, &url, &sp->hdrs, sp->row.request_id,
		       sizeof sp->row.request_id))
		goto fail;
	sp->st = st;
	sp->url = ct_strdup(ct_buf_str(&url));
	sp->row.method = ct_strdup(st->method);
	sp->row.path = ct_strdup(ct_buf_str(&path));
	sp->row.line = st->line;
	sp->row.req_bytes = body.len;
	if (st->body && (sp->body = ct_malloc(body.len + 1))) {
		memcpy(sp->body, ct_buf_str(&body), body.len + 1);
		sp->body_len = body.len;
	}
	if (!sp->url || !sp->row.method || !sp->row.path || (st->body && !sp->body)) {
		scenario_error(d, st->line, "out of memory");
		goto fail;
	}
	if (d->nspawns == CT_DRIVE_SPAWN_MAX)
		spawn_join_oldest(d); /* at most CT_DRIVE_SPAWN_MAX in flight */
	/* Signals are the main thread's: a spawned call sees drive_stop through on_progress. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&sp->th, NULL, spawn_main, sp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		failure(d, st->line, "spawn %s %s: cannot start a thread: %s", st->method,
			sp->row.path, strerror(rc));
		goto fail;
	}
	d->spawns[(d->spawn_head + d->nspawns++) % CT_DRIVE_SPAWN_MAX] = sp;
	sp = NULL;
fail:
	if (sp)
		spawn_free(sp);
	ct_buf_free(&path);
	ct_buf_free(&body);
	ct_buf_free(&url);
}

/* ---- expect ---- */

static void add_assert(struct drive *d, const struct ct_scn_step *st, const char *kind, int ok,
		       const char *expected, const char *actual)
{
	d->nasserts++;
	struct assert_row *r = ROW_ADD(&d->rows, asserts, nasserts, 2);
	if (r) {
		r->line = st->line;
		r->ok = ok;
		snprintf(r->kind, sizeof r->kind, "%s", kind);
		r->expected = xstrdup(expected);
		r->actual = xstrdup(actual);
		snprintf(r->request_id, sizeof r->request_id, "%s", d->request_id);
		r->ts = now_ns();
	}
	if (!ok)
		failure(d, st->line, "expected %s, got %s", expected, actual);
}

static void step_expect_status(struct drive *d, const struct ct_scn_step *st)
{
	char want[16], got[sizeof d->call_error];
	snprintf(want, sizeof want, "status %d", st->status);
	if (d->call_ok)
		snprintf(got, sizeof got, "status %ld", d->status);
	else
		snprintf(got, sizeof got, "%s", d->have_call ? d->call_error : "no call");
	add_assert(d, st, "status", d->call_ok && d->status == st->status, want, got);
}

/* Walks ".a.0.b": members of objects, indexes of arrays. */
static json_t *json_walk(json_t *j, const char *path)
{
	const char *p = path + 1;
	while (j && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (json_is_object(j)) {
			j = json_object_getn(j, p, n);
		} else if (json_is_array(j)) {
			size_t idx = 0, i;
			for (i = 0; i < n && p[i] >= '0' && p[i] <= '9' && idx < 100000000; i++)
				idx = idx * 10 + (size_t)(p[i] - '0');
			j = i == n && n ? json_array_get(j, idx) : NULL;
		} else {
			j = NULL;
		}
		p += n + (dot ? 1 : 0);
	}
	return j;
}

static void step_expect_json(struct drive *d, const struct ct_scn_step *st)
{
	struct ct_buf path = { 0 }, val = { 0 };
	char kind[32], want[SHOW_LEN + 8], got[SHOW_LEN + sizeof d->call_error];
	json_t *expect = NULL;
	if (expand(d, st, st->path, &path) || expand(d, st, st->value, &val))
		goto out;
	json_error_t je;
	expect = json_loadb(val.p, val.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!expect) {
		scenario_error(d, st->line, "value '%s' is not a JSON value once expanded (%s)",
			       val.p, je.text);
		goto out;
	}
	snprintf(kind, sizeof kind, "json %.26s", path.p);
	char shown[SHOW_LEN];
	show_json(expect, shown, sizeof shown);
	snprintf(want, sizeof want, "%s%s %s", path.p, st->negate ? " !=" : " ==", shown);
	int ok = 0;
	if (!d->call_ok) {
		snprintf(got, sizeof got, "%s", d->have_call ? d->call_error : "no call");
	} else if (d->body_cut) {
		snprintf(got, sizeof got, "a body over %u bytes (not kept)", CT_DRIVE_BODY_MAX_BYTES);
	} else {
		if (!d->json_parsed) {
			d->json_parsed = 1;
			d->json = json_loadb(ct_buf_str(&d->body), d->body.len,
					     JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		}
		json_t *at = d->json ? json_walk(d->json, path.p) : NULL;
		if (!d->json) {
			show_bytes((const uint8_t *)ct_buf_str(&d->body), d->body.len, shown,
				   sizeof shown);
			snprintf(got, sizeof got, "a body that is not JSON: %s", shown);
		} else if (!at) {
			snprintf(got, sizeof got, "no %s in the body", path.p);
		} else {
			show_json(at, got, sizeof got);
		}
		ok = (at && json_equal(at, expect)) != st->negate;
	}
	add_assert(d, st, kind, ok, want, got);
out:
	json_decref(expect);
	ct_buf_free(&path);
	ct_buf_free(&val);
}

/* ---- check ---- */

enum { ACT_NIL, ACT_STR, ACT_INT, ACT_ERR };

struct actual {
	int kind;
	const uint8_t *s;
	size_t n;
	long long i;
	char err[SHOW_LEN + 64];
};

/* Does what a check read equal the expected value (a string or an integer)? */
static int same_value(const struct actual *a, const json_t *want)
{
	char num[32];
	if (json_is_integer(want)) {
		if (a->kind == ACT_INT)
			return a->i == json_integer_value(want);
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(want));
		return a->kind == ACT_STR && a->n == strlen(num) && memcmp(a->s, num, a->n) == 0;
	}
	const char *ws = json_string_value(want);
	size_t wn = json_string_length(want);
	if (a->kind == ACT_STR)
		return a->n == wn && memcmp(a->s, ws, wn) == 0;
	if (a->kind == ACT_INT) {
		snprintf(num, sizeof num, "%lld", a->i);
		return wn == strlen(num) && memcmp(ws, num, wn) == 0;
	}
	return 0;
}

static void show_actual(const struct actual *a, char *out, size_t len)
{
	switch (a->kind) {
	case ACT_NIL: snprintf(out, len, "nil"); break;
	case ACT_STR: show_bytes(a->s, a->n, out, len); break;
	case ACT_INT: snprintf(out, len, "%lld", a->i); break;
	default: snprintf(out, len, "%s", a->err); break;
	}
}

/* Valid memcached key: 1-250 bytes, no space or control character. */
static int mc_key_ok(const char *k, size_t n)
{
	if (n == 0 || n > CT_MC_KEY_MAX_BYTES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] == 0x7f)
			return 0;
	return 1;
}

static void check_node(struct drive *d, const struct ct_scn_step *st, struct node_rt *n,
		       const struct ct_buf *key, const char *wanted, const json_t *want)
{
	struct actual a;
	memset(&a, 0, sizeof a);
	redisReply *rr = NULL;
	char cerr[200] = "";
	uint64_t ts = now_ns();
	if (st->proto == CT_SCN_REDIS) {
		const char *argv[2] = { ct_scenario_cmd_name(st->cmd), key->p };
		size_t argl[2] = { strlen(argv[0]), key->len };
		if (redis_connect(n, cerr, sizeof cerr) == 0 &&
		    !(rr = redisCommandArgv(n->redis, 2, argv, argl)))
			snprintf(cerr, sizeof cerr, "%s", n->redis->errstr);
		if (!rr) {
			node_close(n); /* a broken context cannot be reused */
			a.kind = ACT_ERR;
			snprintf(a.err, sizeof a.err, "an error: %s", cerr);
		} else if (rr->type == REDIS_REPLY_NIL) {
			a.kind = ACT_NIL;
		} else if (rr->type == REDIS_REPLY_INTEGER) {
			a.kind = ACT_INT;
			a.i = rr->integer;
		} else if (rr->type == REDIS_REPLY_STRING || rr->type == REDIS_REPLY_STATUS) {
			a.kind = ACT_STR;
			a.s = (const uint8_t *)rr->str;
			a.n = rr->len;
		} else if (rr->type == REDIS_REPLY_ERROR) {
			a.kind = ACT_ERR;
			snprintf(a.err, sizeof a.err, "the error %.*s",
				 (int)(rr->len > CT_DRIVE_SHOW_BYTES ? CT_DRIVE_SHOW_BYTES : rr->len), rr->str);
		} else {
			a.kind = ACT_ERR;
			snprintf(a.err, sizeof a.err, "a reply of type %d", rr->type);
		}
	} else {
		int mg = st->cmd == CT_SCN_CMD_MC_MG;
		struct ct_mc_reply r;
		memset(&r, 0, sizeof r);
		char req[CT_MC_KEY_MAX_BYTES + 16];
		snprintf(req, sizeof req, mg ? "mg %s v\r\n" : "get %s\r\n", key->p);
		if (mc_connect(n, cerr, sizeof cerr) == 0 &&
		    mc_request(n, req, strlen(req), mg, &r, cerr, sizeof cerr) != 0)
			node_close(n);
		if (cerr[0]) {
			a.kind = ACT_ERR;
			snprintf(a.err, sizeof a.err, "an error: %s", cerr);
		} else if (r.kind == CT_MC_REPLY_MISS) {
			a.kind = ACT_NIL;
		} else if (r.kind == CT_MC_REPLY_VALUE) {
			a.kind = ACT_STR;
			a.s = r.value;
			a.n = r.value_len;
		} else {
			a.kind = ACT_ERR;
			char t[SHOW_LEN];
			show_bytes(r.text, r.text_len, t, sizeof t);
			snprintf(a.err, sizeof a.err, "the reply %s", t);
		}
	}
	int ok;
	if (a.kind == ACT_ERR)
		ok = 0; /* an error is never the value expected */
	else if (strcmp(st->value, "any") == 0)
		ok = !st->negate;
	else if (strcmp(st->value, "nil") == 0)
		ok = (a.kind == ACT_NIL) != st->negate;
	else
		ok = same_value(&a, want) != st->negate;
	char got[SHOW_LEN + 300];
	show_actual(&a, got, sizeof got);
	if (rr)
		freeReplyObject(rr);

	d->nchecks++;
	struct check_row *row = ROW_ADD(&d->rows, checks, nchecks, 1);
	if (row) {
		row->line = st->line;
		row->ok = ok;
		row->node = n->n->name;
		row->endpoint = n->endpoint;
		row->cmd = ct_scenario_cmd_name(st->cmd);
		row->key = xstrdup(key->p);
		row->expected = xstrdup(wanted);
		row->actual = xstrdup(got);
		row->ts = ts;
	}
	if (!ok)
		failure(d, st->line, "at %s (%s %s %s): expected %s, got %s", n->n->name,
			n->endpoint, ct_scenario_cmd_name(st->cmd), key->p, wanted, got);
}

static void step_check(struct drive *d, const struct ct_scn_step *st)
{
	struct ct_buf key = { 0 }, val = { 0 };
	json_t *want = NULL;
	char wanted[SHOW_LEN + 8];
	if (expand(d, st, st->key, &key) || expand(d, st, st->value, &val))
		goto out;
	if (st->proto == CT_SCN_MEMCACHED && !mc_key_ok(key.p, key.len)) {
		scenario_error(d, st->line, "'%s' is not a memcached key (1-%u bytes, no spaces or "
					    "control characters)", key.p, CT_MC_KEY_MAX_BYTES);
		goto out;
	}
	const char *v = val.p;
	if (strcmp(st->value, "nil") == 0 || strcmp(st->value, "any") == 0) {
		snprintf(wanted, sizeof wanted, "%s%s", st->negate ? "not " : "", st->value);
	} else {
		want = json_loadb(v, val.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (!want || !(json_is_string(want) || json_is_integer(want))) {
			scenario_error(d, st->line, "'%s' is not a \"string\" or an integer once "
						    "expanded", v);
			goto out;
		}
		char shown[SHOW_LEN];
		if (json_is_string(want))
			show_bytes((const uint8_t *)json_string_value(want), json_string_length(want),
				   shown, sizeof shown);
		else
			show_json(want, shown, sizeof shown);
		snprintf(wanted, sizeof wanted, "%s%s", st->negate ? "not " : "", shown);
	}
	for (uint32_t i = 0; i < d->sc->nnodes; i++) { /* every node, even after a failure */
		if (st->node == CT_SCN_ALL_NODES ? d->sc->nodes[i].proto != st->proto
						  : (int32_t)i != st->node)
			continue;
		check_node(d, st, &d->nodes[i], &key, wanted, want);
	}
out:
	json_decref(want);
	ct_buf_free(&key);
	ct_buf_free(&val);
}

/* ---- sleep, wait ---- */

static void step_sleep(const struct ct_scn_step *st)
{
	uint64_t until = now_ns() + st->ns;
	for (uint64_t now; !drive_stop && (now = now_ns()) < until;) {
		uint64_t left = until - now;
		if (left > 50000000ull)
			left = 50000000ull; /* so that a signal is noticed soon */
		struct timespec ts = { (time_t)(left / 1000000000ull), (long)(left % 1000000000ull) };
		nanosleep(&ts, NULL);
	}
}

static void step_wait(struct drive *d, const struct ct_scn_step *st)
{
	struct ct_buf key = { 0 };
	if (expand(d, st, st->key, &key))
		return;
	struct tap *t = d->tap;
	const struct ct_scenario *sc = d->sc;
	/* The origin: the start of the last write call before this step (SPEC 6: an API write
	 * is an origin), else of the last call, else this step's own start. */
	uint64_t origin = d->have_origin ? d->origin_start : now_ns();
	uint64_t deadline = origin + st->ns;
	uint64_t at[CT_SCENARIO_MAX_NODES], ev[CT_SCENARIO_MAX_NODES];
	memset(at, 0, sizeof at);
	memset(ev, 0, sizeof ev);
	uint64_t give_up = (deadline > now_ns() ? deadline : now_ns()) + CT_DRIVE_WAIT_GRACE_NS;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		int pending = 0;
		for (uint32_t i = 0; i < sc->nnodes; i++) {
			if (!(st->nodes >> i & 1) || at[i])
				continue;
			const struct arrival *a = tap_find(t, d->nodes[i].endpoint,
							   (const uint8_t *)key.p, key.len, origin);
			if (a) {
				at[i] = a->ts_ns;
				ev[i] = a->event_id;
			} else {
				pending++;
			}
		}
		/* Done when every node has an arrival, or the capture has read past the deadline
		 * (nothing in time can come any more), or it lags by more than the grace. */
		if (!pending || drive_stop ||
		    atomic_load_explicit(&t->caught_ts, memory_order_acquire) >= deadline ||
		    now_ns() >= give_up)
			break;
		uint64_t wake = now_ns() + 20000000ull;
		struct timespec ts_wake = { (time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull) };
		pthread_cond_timedwait(&t->cv, &t->mu, &ts_wake);
	}
	pthread_mutex_unlock(&t->mu);

	char within[32];
	show_ms(st->ns, within, sizeof within);
	for (uint32_t i = 0; i < sc->nnodes; i++) {
		if (!(st->nodes >> i & 1))
			continue;
		struct node_rt *n = &d->nodes[i];
		int ok = at[i] && at[i] - origin <= st->ns;
		d->nwaits++;
		struct wait_row *r = ROW_ADD(&d->rows, waits, nwaits, 3);
		if (r) {
			r->line = st->line;
			r->satisfied = ok;
			r->node = n->n->name;
			r->endpoint = n->endpoint;
			r->key = xstrdup(key.p);
			if (d->have_origin)
				snprintf(r->request_id, sizeof r->request_id, "%s", d->origin_rid);
			r->origin = origin;
			r->arrival = at[i];
			r->within = st->ns;
			r->event_id = ev[i];
		}
		char lat[32];
		if (at[i])
			show_ms(at[i] - origin, lat, sizeof lat);
		if (ok && !d->o->quiet)
			printf("%s:%u: invalidation of %s at %s (%s) after %s\n", sc->file, st->line,
			       key.p, n->n->name, n->endpoint, lat);
		else if (!ok)
			failure(d, st->line, "at %s (%s): expected an invalidation of %s within %s, "
					     "got %s%s", n->n->name, n->endpoint, key.p, within,
				at[i] ? "one after " : "none", at[i] ? lat : "");
	}
	fflush(stdout);
	ct_buf_free(&key);
}

static void set_var(struct drive *d, uint32_t var, const char *v)
{
	char *copy = ct_strdup(v);
	if (!copy) {
		fprintf(stderr, "cachetap drive: out of memory\n");
		d->stopped = 1;
		d->scenario_error = 1;
		return;
	}
	ct_free(d->values[var]);
	d->values[var] = copy;
}

static void run_steps(struct drive *d)
{
	const struct ct_scenario *sc = d->sc;
	uint32_t pc = 0;
	while (pc < sc->nsteps && !d->stopped && !drive_stop) {
		const struct ct_scn_step *st = &sc->steps[pc];
		switch (st->kind) {
		case CT_SCN_CALL: step_call(d, st); break;
		case CT_SCN_SPAWN: step_spawn(d, st); break;
		case CT_SCN_AWAIT: step_await(d); break;
		case CT_SCN_EXPECT_STATUS: step_expect_status(d, st); break;
		case CT_SCN_EXPECT_JSON: step_expect_json(d, st); break;
		case CT_SCN_CHECK: step_check(d, st); break;
		case CT_SCN_SLEEP: step_sleep(st); break;
		case CT_SCN_WAIT: step_wait(d, st); break;
		case CT_SCN_LET: {
			struct ct_buf v = { 0 };
			if (expand(d, st, st->value, &v) == 0)
				set_var(d, st->var, ct_buf_str(&v));
			ct_buf_free(&v);
			break;
		}
		case CT_SCN_REPEAT: {
			char num[24];
			d->counters[pc] = st->from;
			snprintf(num, sizeof num, "%" PRId64, st->from);
			set_var(d, st->var, num);
			break;
		}
		case CT_SCN_END: {
			const struct ct_scn_step *r = &sc->steps[st->jump];
			if (d->counters[st->jump] < r->to) {
				char num[24];
				snprintf(num, sizeof num, "%" PRId64, ++d->counters[st->jump]);
				set_var(d, r->var, num);
				pc = st->jump + 1;
				continue;
			}
			break;
		}
		default: break;
		}
		pc++;
	}
	step_await(d); /* spawned calls still running, even after a failure */
	if (drive_stop)
		fprintf(stderr, "%s:%u: interrupted\n", sc->file,
			pc < sc->nsteps ? sc->steps[pc].line : 0);
}

/* ======== the database ======== */

static const char tables_sql[] =
	/* IFACES A; the store creates it too (the first CREATE wins). */
	"CREATE TABLE IF NOT EXISTS api_calls("
	"  id INTEGER PRIMARY KEY, request_id TEXT, method TEXT, path TEXT, status INTEGER,"
	"  ts_start_ns INTEGER, ts_end_ns INTEGER, source TEXT NOT NULL,"
	"  conn_id INTEGER, client TEXT, server TEXT, traceparent TEXT,"
	"  ts_req_end_ns INTEGER, ts_resp_start_ns INTEGER,"
	"  req_body_bytes INTEGER, resp_body_bytes INTEGER,"
	"  wire INTEGER NOT NULL DEFAULT 0, driver INTEGER NOT NULL DEFAULT 0, step TEXT,"
	"  curl_dns_ns INTEGER, curl_connect_ns INTEGER, curl_ttfb_ns INTEGER, curl_total_ns INTEGER);"
	"CREATE INDEX IF NOT EXISTS api_calls_request_id ON api_calls(request_id);"
	/* One row per node a check read. */
	"CREATE TABLE IF NOT EXISTS checks(id INTEGER PRIMARY KEY, step TEXT, node TEXT, cmd TEXT,"
	"  key TEXT, expected TEXT, actual TEXT, ok INTEGER, ts_ns INTEGER, endpoint TEXT);"
	/* expect status / expect json, on the call request_id. */
	"CREATE TABLE IF NOT EXISTS assertions(id INTEGER PRIMARY KEY, step TEXT, kind TEXT,"
	"  expected TEXT, actual TEXT, ok INTEGER, ts_ns INTEGER, request_id TEXT);"
	/* One row per node a wait invalidation waited on; arrival NULL when none came. */
	"CREATE TABLE IF NOT EXISTS waits(id INTEGER PRIMARY KEY, step TEXT, key TEXT, node TEXT,"
	"  endpoint TEXT, origin_ts_ns INTEGER, arrival_ts_ns INTEGER, latency_ns INTEGER,"
	"  satisfied INTEGER, event_id INTEGER, within_ns INTEGER, request_id TEXT);";

/* Each driver call absorbs the wire row with its request id (IFACES A). */
static const char merge_sql[] =
	"UPDATE api_calls SET ts_start_ns = w.ts_start_ns, ts_end_ns = w.ts_end_ns,"
	"  ts_req_end_ns = w.ts_req_end_ns, ts_resp_start_ns = w.ts_resp_start_ns,"
	"  conn_id = w.conn_id, client = w.client, server = w.server, wire = 1"
	"  FROM (SELECT request_id, ts_start_ns, ts_end_ns, ts_req_end_ns, ts_resp_start_ns,"
	"          conn_id, client, server, min(id) FROM api_calls"
	"        WHERE source = 'wire' AND request_id IS NOT NULL GROUP BY request_id) AS w"
	"  WHERE api_calls.source = 'driver' AND api_calls.request_id = w.request_id;"
	"DELETE FROM api_calls WHERE source = 'wire' AND request_id IN"
	"  (SELECT request_id FROM api_calls WHERE source = 'driver' AND wire = 1);";

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v && v[0])
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v, int null_if_zero)
{
	if (null_if_zero && !v)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static int run_stmt(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : CT_ESQL;
}

/* Is events row id the one stamped ts? (The count may be off if the store lost a row.) */
static int event_matches(sqlite3 *db, uint64_t id, uint64_t ts)
{
	sqlite3_stmt *st = NULL;
	int yes = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM events WHERE id = ?1 AND ts_ns = ?2", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)ts);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

static int write_rows(struct drive *d, int have_events)
{
	const struct rows *r = &d->rows;
	sqlite3 *db = NULL;
	sqlite3_stmt *st[4] = { NULL };
	static const char *const ins[4] = {
		"INSERT INTO api_calls(request_id, method, path, status, ts_start_ns, ts_end_ns,"
		" source, client, server, req_body_bytes, resp_body_bytes, wire, driver, step,"
		" curl_dns_ns, curl_connect_ns, curl_ttfb_ns, curl_total_ns) VALUES"
		" (?1,?2,?3,?4,?5,?6,'driver',?7,?8,?9,?10,0,1,?11,?12,?13,?14,?15)",
		"INSERT INTO checks(step, node, cmd, key, expected, actual, ok, ts_ns, endpoint)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
		"INSERT INTO assertions(step, kind, expected, actual, ok, ts_ns, request_id)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7)",
		"INSERT INTO waits(step, key, node, endpoint, origin_ts_ns, arrival_ts_ns,"
		" latency_ns, satisfied, event_id, within_ns, request_id)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
	};
	int rc = CT_ESQL;
	char step[4096 + 16];
	const char *file = d->sc->file;
	if (sqlite3_open_v2(d->o->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(db, tables_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	for (int i = 0; i < 4; i++)
		if (sqlite3_prepare_v2(db, ins[i], -1, &st[i], NULL) != SQLITE_OK)
			goto out;
	for (uint32_t i = 0; i < r->ncalls; i++) {
		const struct call_row *c = &r->calls[i];
		snprintf(step, sizeof step, "%s:%u", file, c->line);
		bind_text(st[0], 1, c->request_id);
		bind_text(st[0], 2, c->method);
		bind_text(st[0], 3, c->path);
		bind_u64(st[0], 4, (uint64_t)c->status, 1);
		bind_u64(st[0], 5, c->ts_start, 0);
		bind_u64(st[0], 6, c->ts_end, 0);
		bind_text(st[0], 7, c->client);
		bind_text(st[0], 8, c->server);
		bind_u64(st[0], 9, c->req_bytes, 0);
		bind_u64(st[0], 10, c->resp_bytes, 0);
		bind_text(st[0], 11, step);
		bind_u64(st[0], 12, c->dns, 0);
		bind_u64(st[0], 13, c->connect, 0);
		bind_u64(st[0], 14, c->ttfb, 0);
		bind_u64(st[0], 15, c->total, 0);
		if (run_stmt(st[0]))
			goto out;
	}
	for (uint32_t i = 0; i < r->nchecks; i++) {
		const struct check_row *c = &r->checks[i];
		snprintf(step, sizeof step, "%s:%u", file, c->line);
		bind_text(st[1], 1, step);
		bind_text(st[1], 2, c->node);
		bind_text(st[1], 3, c->cmd);
		bind_text(st[1], 4, c->key);
		bind_text(st[1], 5, c->expected);
		bind_text(st[1], 6, c->actual);
		sqlite3_bind_int(st[1], 7, c->ok);
		bind_u64(st[1], 8, c->ts, 0);
		bind_text(st[1], 9, c->endpoint);
		if (run_stmt(st[1]))
			goto out;
	}
	for (uint32_t i = 0; i < r->nasserts; i++) {
		const struct assert_row *a = &r->asserts[i];
		snprintf(step, sizeof step, "%s:%u", file, a->line);
		bind_text(st[2], 1, step);
		bind_text(st[2], 2, a->kind);
		bind_text(st[2], 3, a->expected);
		bind_text(st[2], 4, a->actual);
		sqlite3_bind_int(st[2], 5, a->ok);
		bind_u64(st[2], 6, a->ts, 0);
		bind_text(st[2], 7, a->request_id);
		if (run_stmt(st[2]))
			goto out;
	}
	for (uint32_t i = 0; i < r->nwaits; i++) {
		const struct wait_row *w = &r->waits[i];
		snprintf(step, sizeof step, "%s:%u", file, w->line);
		uint64_t ev = w->event_id;
		if (ev && (!have_events || !event_matches(db, ev, w->arrival)))
			ev = 0;
		bind_text(st[3], 1, step);
		bind_text(st[3], 2, w->key);
		bind_text(st[3], 3, w->node);
		bind_text(st[3], 4, w->endpoint);
		bind_u64(st[3], 5, w->origin, 0);
		bind_u64(st[3], 6, w->arrival, 1);
		if (w->arrival)
			bind_u64(st[3], 7, w->arrival - w->origin, 0);
		sqlite3_bind_int(st[3], 8, w->satisfied);
		bind_u64(st[3], 9, ev, 1);
		bind_u64(st[3], 10, w->within, 0);
		bind_text(st[3], 11, w->request_id);
		if (run_stmt(st[3]))
			goto out;
	}
	if (sqlite3_exec(db, merge_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "cachetap drive: %s: cannot write the driver's tables: %s\n",
			d->o->db, db ? sqlite3_errmsg(db) : "cannot open");
	for (int i = 0; i < 4; i++)
		sqlite3_finalize(st[i]);
	sqlite3_close(db);
	return rc;
}

/* ======== the command line ======== */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cachetap drive [OPTIONS] SCENARIO\n"
		"\n"
		"Runs a test scenario against an application and its caches: HTTP calls with\n"
		"libcurl (each with an X-Request-Id), direct cache checks with hiredis and a\n"
		"memcached client, sleeps, and waits for invalidations. With -i IFACE the live\n"
		"capture runs in the same process: 'wait invalidation' is satisfied by the\n"
		"invalidation seen on the wire at each node, and its latency (arrival minus the\n"
		"start of the write call before the wait) is recorded.\n"
		"\n"
		"The scenario, one statement per line ('#' at the start of a line: a comment):\n"
		"  base http://127.0.0.1:8080             the API            (base, header and node\n"
		"  header X-Team: qa                      on every call       are declarations)\n"
		"  node r0 redis://127.0.0.1:6379         a cache node: redis:// or memcached://\n"
		"  let id = 42                            a variable: {id} in every later argument\n"
		"  call PUT /items/{id} {\"name\":\"v1\"}     METHOD PATH [BODY]\n"
		"  expect status 200                      on the call before it\n"
		"  expect json .name == \"v1\"              dotted path (.a.0.b), == or !=, JSON value\n"
		"  check r0 GET item:{id} == nil          Redis GET, TTL, EXISTS; memcached get, mg;\n"
		"  check all get item:{id} != any         NODE or all; nil, any, \"string\", integer\n"
		"  sleep 50ms                             ns, us, ms, s\n"
		"  wait invalidation item:{id} on r0,m0 within 500ms   (or 'on all'; needs -i)\n"
		"                                         from the last write call (POST, PUT, PATCH,\n"
		"                                         DELETE) before it, else the last call\n"
		"  repeat i 1..20  ...  end               a loop; blocks nest\n"
		"  spawn GET /items/{id}?node=m0          METHOD PATH [BODY] in the background, on a\n"
		"                                         thread and connection of its own (at most\n"
		"                                         %u in flight); into api_calls like a call,\n"
		"                                         but no expect applies to it\n"
		"  await                                  wait until every spawned call has finished\n"
		"                                         (the end of the scenario awaits them too)\n"
		"\n"
		"options:\n"
		"  -i, --interface IFACE  capture on IFACE meanwhile (root or CAP_NET_RAW); the\n"
		"                         scenario's node ports and API port join the port lists\n"
		"  -w, --db FILE          SQLite database (default cachetap.db): api_calls, checks,\n"
		"                         assertions and waits, and with -i the capture's tables\n"
		"  -k, --keep-going       run every step after a failure (default: stop at the first)\n"
		"  -q, --quiet            print only failures and the summary\n"
		"  -h, --help             this help\n"
		"  and, as for cachetap capture: --redis PORTS, --memcached PORTS, --http PORTS,\n"
		"  --node NAME=HOST:PORT[,role=ROLE], --channel GLOB, --values MODE, --decode LIST,\n"
		"  -f BPF, -B SIZE, -s SNAPLEN, -p, --all-ports\n"
		"\n"
		"It ends with a summary line on stderr (calls, checks, assertions, waits, failures),\n"
		"after the capture's own with -i. Exit status: 0 every assertion held; 1 one failed\n"
		"(FILE:LINE: expected X, got Y) or the run failed; 2 bad scenario (FILE:LINE: what\n"
		"is wrong) or bad usage.\n",
		CT_DRIVE_SPAWN_MAX);
}


/* Returns 0, 1 when --help was asked for, or an error (the message printed). */
static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		CT_CLI_LONG_OPTIONS,
		{ "keep-going", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	o->db = "cachetap.db";
	ct_cli_set_command("drive");
	ct_cli_capture_init(&o->cap);
	optind = 1;
	opterr = 0;
	int ch, rc = 0, live_only = 0;
	const char *live_name = NULL;
	while ((ch = getopt_long(argc, argv, ":i:w:kqhf:B:s:p", lo, NULL)) != -1) {
		switch (ch) {
		case 'i': o->iface = optarg; break;
		case 'w': o->db = optarg; break;
		case 'k': o->keep_going = 1; break;
		case 'q': o->quiet = 1; break;
		case 'h': return 1;
		case 'f': o->cap.filter = optarg; live_only = 1, live_name = "-f"; break;
		case 'B':
			rc = ct_cli_size("--buffer-size", optarg, CT_CAPTURE_BUFFER_BYTES_MIN, 1u << 31,
				      &o->buffer_bytes);
			live_only = 1, live_name = "-B";
			break;
		case 's':
			rc = ct_cli_size("--snaplen", optarg, 64, 262144, &o->snaplen);
			live_only = 1, live_name = "-s";
			break;
		case 'p': o->no_promisc = 1; live_only = 1, live_name = "-p"; break;
		case CT_CLI_OPT_ALL_PORTS: o->cap.all_ports = 1; live_only = 1, live_name = "--all-ports"; break;
		case CT_CLI_OPT_REDIS: rc = ct_cli_ports("--redis", optarg, &o->cap.redis); break;
		case CT_CLI_OPT_MEMCACHED: rc = ct_cli_ports("--memcached", optarg, &o->cap.memcached); break;
		case CT_CLI_OPT_HTTP: rc = ct_cli_ports("--http", optarg, &o->cap.http); break;
		case CT_CLI_OPT_DECODE:
			rc = ct_cli_decode(optarg, &o->cap.decode);
			live_only = 1, live_name = "--decode";
			break;
		case CT_CLI_OPT_VALUES:
			rc = ct_cli_values(optarg, &o->cap.values);
			live_only = 1, live_name = "--values";
			break;
		case CT_CLI_OPT_CHANNEL:
			rc = ct_cli_channel(&o->cap, optarg);
			live_only = 1, live_name = "--channel";
			break;
		case CT_CLI_OPT_NODE: rc = ct_cli_node(&o->cap, optarg); break;
		case ':':
			fprintf(stderr, "cachetap drive: option '%s' needs a value\n", argv[optind - 1]);
			return CT_EINVAL;
		default:
			fprintf(stderr, "cachetap drive: unknown option '%s' (see cachetap drive --help)\n",
				argv[optind - 1]);
			return CT_EINVAL;
		}
		if (rc)
			return rc;
	}
	if (live_only && !o->iface) {
		fprintf(stderr, "cachetap drive: %s is for the live capture (give -i IFACE)\n",
			live_name);
		return CT_EINVAL;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "cachetap drive: %s (see cachetap drive --help)\n",
			argc - optind < 1 ? "no SCENARIO given" : "one SCENARIO only");
		return CT_EINVAL;
	}
	o->scenario = argv[optind];
	return 0;
}

/* The API's host and port, from the base URL. */
static int base_endpoint(const char *base, char **host, uint16_t *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL;
	int rc = CT_EINVAL;
	if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		size_t hl = strlen(h);
		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* IPv6: no brackets to resolve */
			memmove(h, h + 1, hl - 2);
			h[hl - 2] = '\0';
		}
		long v = strtol(p, NULL, 10);
		*host = ct_strdup(h);
		*port = (uint16_t)v;
		rc = *host && v > 0 && v <= 65535 ? 0 : CT_EINVAL;
	}
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}


/* ROLE on a Redis node names it primary or replica for the nodes table. */
static const char *redis_role(struct node_rt *n)
{
	char err[200];
	const char *role = NULL;
	if (redis_connect(n, err, sizeof err))
		return NULL;
	redisReply *r = redisCommand(n->redis, "ROLE");
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING) {
		if (strcmp(r->element[0]->str, "master") == 0)
			role = "primary";
		else if (strcmp(r->element[0]->str, "slave") == 0)
			role = "replica";
	}
	if (r)
		freeReplyObject(r);
	node_close(n); /* the checks open their own, so the capture sees them from the start */
	return role;
}

/* A replica's link to its primary is decoded as replication only when the capture sees it
 * begin (PSYNC, then +FULLRESYNC or +CONTINUE, with REPLCONF listening-port naming the
 * replica). A link made before the capture started is taken mid-stream, so a wait on a
 * replica could never be satisfied: for every replica a wait names, the replica is asked to
 * reconnect (CLIENT KILL TYPE master; it resumes with a partial resync at once) once the
 * capture runs, and the drive waits, bounded, until its link is up again. */
static void resync_replicas(struct drive *d)
{
	uint64_t waited = 0;
	for (uint32_t s = 0; s < d->sc->nsteps; s++)
		if (d->sc->steps[s].kind == CT_SCN_WAIT)
			waited |= d->sc->steps[s].nodes;
	for (uint32_t i = 0; i < d->sc->nnodes && i < 64; i++) {
		struct node_rt *n = &d->nodes[i];
		char err[200];
		if (!(waited & (1ull << i)) || !n->role || strcmp(n->role, "replica") != 0 ||
		    redis_connect(n, err, sizeof err))
			continue;
		if (!d->o->quiet)
			fprintf(stderr, "cachetap drive: node %s is a replica: reconnecting it to its "
					"primary so that the capture sees its replication link\n",
				n->n->name);
		redisReply *r = redisCommand(n->redis, "CLIENT KILL TYPE master");
		if (r)
			freeReplyObject(r);
		int up = 0;
		for (int tries = 0; tries < CT_DRIVE_RESYNC_TRIES && !up && !drive_stop; tries++) {
			struct timespec ts = { 0, CT_DRIVE_RESYNC_POLL_NS };
			nanosleep(&ts, NULL);
			r = redisCommand(n->redis, "INFO replication");
			up = r && r->type == REDIS_REPLY_STRING &&
			     strstr(r->str, "master_link_status:up") != NULL;
			if (r)
				freeReplyObject(r);
		}
		if (!up)
			fprintf(stderr, "cachetap drive: node %s: its link to the primary is not up "
					"again after %.1f s\n",
				n->n->name,
				(double)CT_DRIVE_RESYNC_TRIES * CT_DRIVE_RESYNC_POLL_NS / 1e9);
		node_close(n);
	}
}


struct capture {
	struct ct_pipeline *p;
	struct ct_source *src;
	atomic_int stop; /* set by the driver, read by the capture thread */
	int rc;
};

static void *capture_main(void *arg)
{
	struct capture *c = arg;
	c->rc = ct_pipeline_run(c->p, c->src, &c->stop);
	return NULL;
}

int ct_cmd_drive(int argc, char **argv)
{
	struct opts *o = ct_calloc(1, sizeof *o);
	struct drive *d = ct_calloc(1, sizeof *d);
	struct ct_scenario *sc = NULL;
	struct ct_sink *sink = NULL;
	struct ct_source *live = NULL;
	struct ct_pipeline *p = NULL;
	struct capture cap;
	int started = 0, exit_code = EXIT_FAIL, curl_inited = 0;
	char err[1024], *app_host = NULL;
	memset(&cap, 0, sizeof cap);
	if (!o || !d) {
		fprintf(stderr, "cachetap drive: out of memory\n");
		goto out;
	}
	int rc = parse_args(o, argc, argv);
	if (rc == 1) {
		usage(stdout);
		exit_code = 0;
		goto out;
	}
	exit_code = EXIT_USAGE;
	if (rc)
		goto out;
	json_set_alloc_funcs(ct_malloc, ct_free);
	if (ct_scenario_load(o->scenario, &sc, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (sc->first_wait_line && !o->iface) {
		fprintf(stderr, "%s:%u: wait invalidation needs -i IFACE (it is satisfied by the live "
				"capture)\n", sc->file, sc->first_wait_line);
		goto out;
	}
	d->o = o;
	d->sc = sc;
	d->nodes = ct_calloc(sc->nnodes ? sc->nnodes : 1, sizeof *d->nodes);
	d->counters = ct_calloc(sc->nsteps ? sc->nsteps : 1, sizeof *d->counters);
	if (!d->nodes || !d->counters) {
		fprintf(stderr, "cachetap drive: out of memory\n");
		goto out;
	}
	d->body.max = CT_DRIVE_BODY_MAX_BYTES;
	for (uint32_t i = 0; i < sc->nnodes; i++) {
		struct node_rt *n = &d->nodes[i];
		n->n = &sc->nodes[i];
		n->fd = -1;
		n->in.max = CT_DRIVE_VALUE_MAX_BYTES + CT_DRIVE_MC_LINE_MAX_BYTES * 2 + 16;
		if (resolve(n->n->host, n->n->port, n->ip, sizeof n->ip, n->endpoint,
			    sizeof n->endpoint, err, sizeof err)) {
			fprintf(stderr, "%s:%u: node %s: %s\n", sc->file, n->n->line, n->n->name, err);
			goto out;
		}
		ct_cli_port_add(n->n->proto == CT_SCN_REDIS ? &o->cap.redis : &o->cap.memcached, n->n->port);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(d->curl = curl_easy_init())) {
		fprintf(stderr, "cachetap drive: libcurl cannot start\n");
		exit_code = EXIT_FAIL;
		goto out;
	}
	curl_inited = 1;
	char app_ip[INET6_ADDRSTRLEN], app_ep[CT_ENDPOINT_STRLEN] = "";
	uint16_t app_port = 0;
	if (sc->base) {
		if (base_endpoint(sc->base, &app_host, &app_port)) {
			fprintf(stderr, "%s:%u: base URL '%s' has no host or port\n", sc->file,
				sc->base_line, sc->base);
			goto out;
		}
		ct_cli_port_add(&o->cap.http, app_port);
		if (resolve(app_host, app_port, app_ip, sizeof app_ip, app_ep, sizeof app_ep, err,
			    sizeof err))
			app_ep[0] = '\0'; /* curl says so, at the first call */
	}
	for (uint32_t i = 0; i < sc->nnodes; i++)
		d->nodes[i].role = d->nodes[i].n->proto == CT_SCN_MEMCACHED ? "memcached"
									 : redis_role(&d->nodes[i]);

	if (ct_store_open(&sink, o->db, err, sizeof err)) {
		fprintf(stderr, "cachetap drive: --db %s\n", err);
		goto out;
	}
	ct_cli_record(sink, &o->cap, "drive", argc, argv);
	sink->ops->meta(sink, "scenario", o->scenario);
	for (uint32_t i = 0; i < sc->nnodes; i++) {
		struct ct_node_rec n = { sc->nodes[i].name, d->nodes[i].endpoint, d->nodes[i].role,
					 "scenario", 0, 0 };
		sink->ops->node(sink, &n);
	}
	if (app_ep[0]) {
		struct ct_node_rec n = { "app", app_ep, "app", "scenario", 0, 0 };
		sink->ops->node(sink, &n);
	}

	if (o->iface) {
		char bpf[8192];
		ct_cli_bpf(&o->cap, bpf, sizeof bpf);
		struct ct_live_opts lo = {
			.iface = o->iface,
			.snaplen = o->snaplen,
			.buffer_bytes = o->buffer_bytes,
			.bpf = bpf,
			.promisc = !o->no_promisc,
		};
		if (ct_source_open_live(&live, &lo, err, sizeof err)) {
			fprintf(stderr, "cachetap drive: %s\n", err);
			goto out;
		}
		if (err[0] && !o->quiet)
			fprintf(stderr, "cachetap drive: %s\n", err);
		/* The device and the database are open: no privilege is needed from here on. The
		 * driver stays uid 0 without any capability (it writes its own rows into the
		 * database at the end, a file root owns), and this comes before any thread is
		 * made, since capabilities are per thread. */
		char dropped[128];
		if (ct_privdrop("", dropped, sizeof dropped, err, sizeof err)) {
			fprintf(stderr, "cachetap drive: %s\n", err);
			goto out;
		}
		sink->ops->meta(sink, "privileges", dropped);
		/* As for cachetap capture: SQLite writes on a thread of its own while the
		 * pipeline decodes. */
		struct ct_sink *async = NULL;
		if (ct_sink_async_new(sink, &async) == 0)
			sink = async;
		struct ct_pipeline_opts po;
		memset(&po, 0, sizeof po);
		memcpy(po.redis_ports, o->cap.redis.map, CT_PORTMAP_BYTES);
		memcpy(po.memcached_ports, o->cap.memcached.map, CT_PORTMAP_BYTES);
		memcpy(po.http_ports, o->cap.http.map, CT_PORTMAP_BYTES);
		po.decode = o->cap.decode;
		po.values = o->cap.values;
		po.channels = o->cap.channels;
		po.nchannels = o->cap.nchannels;
		po.command = "drive";
		exit_code = EXIT_FAIL;
		if (!(d->tap = tap_new(sink, live)) || !(p = ct_pipeline_new(&po, sink))) {
			fprintf(stderr, "cachetap drive: out of memory\n");
			goto out;
		}
		cap.p = p;
		cap.src = &d->tap->base;
		/* Signals are the driver's: the capture thread never takes them. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		pthread_t th;
		started = pthread_create(&th, NULL, capture_main, &cap) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!started) {
			fprintf(stderr, "cachetap drive: cannot start the capture thread\n");
			goto out;
		}
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);

		resync_replicas(d);
		run_steps(d);

		/* Close our connections so their ends are captured, let the capture read what is
		 * buffered, then stop it. */
		curl_easy_cleanup(d->curl);
		d->curl = NULL;
		for (uint32_t i = 0; i < sc->nnodes; i++)
			node_close(&d->nodes[i]);
		if (!tap_catch_up(d->tap, now_ns(), CT_DRIVE_DRAIN_MAX_NS, &drive_stop))
			fprintf(stderr, "cachetap drive: the capture did not catch up within %.1f s; the "
					"last packets may be missing\n",
				(double)CT_DRIVE_DRAIN_MAX_NS / 1e9);
		cap.stop = 1;
		ct_source_break(cap.src);
		pthread_join(th, NULL);
		started = 0;
		ct_pipeline_summary(p, stderr);
		if (cap.rc)
			d->failures++;
		if (d->tap->arrivals_dropped || d->tap->conns_over)
			fprintf(stderr, "cachetap drive: %" PRIu64 " invalidations and %" PRIu64
					" connections were past the driver's limits\n",
				d->tap->arrivals_dropped, d->tap->conns_over);
	} else {
		ct_sink_close(sink); /* the schema and the nodes; the driver's rows come at the end */
		sink = NULL;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		run_steps(d);
	}
	ct_pipeline_free(p);
	p = NULL;
	if (sink) {
		tap_free(d->tap, sink);
		d->tap = NULL;
		ct_sink_close(sink);
		sink = NULL;
	}
	if (write_rows(d, o->iface != NULL))
		d->failures++;
	fprintf(stderr,
		"cachetap drive: %s: calls=%" PRIu64 " checks=%" PRIu64 " assertions=%" PRIu64
		" waits=%" PRIu64 " failures=%" PRIu64 "%s\n",
		sc->file, d->ncalls_made, d->nchecks, d->nasserts, d->nwaits, d->failures,
		d->rows.dropped ? " (some rows past CT_DRIVE_ROWS_MAX were not stored)" : "");
	exit_code = d->scenario_error ? EXIT_USAGE : d->failures || drive_stop ? EXIT_FAIL : 0;
out:
	ct_pipeline_free(p);
	if (d && d->tap)
		tap_free(d->tap, sink);
	ct_sink_close(sink);
	ct_source_close(live);
	if (d) {
		if (d->curl)
			curl_easy_cleanup(d->curl);
		if (d->nodes)
			for (uint32_t i = 0; sc && i < sc->nnodes; i++) {
				node_close(&d->nodes[i]);
				ct_buf_free(&d->nodes[i].in);
			}
		for (uint32_t i = 0; i < CT_SCENARIO_MAX_VARS; i++)
			ct_free(d->values[i]);
		json_decref(d->json);
		ct_buf_free(&d->body);
		rows_free(&d->rows);
		ct_free(d->nodes);
		ct_free(d->counters);
	}
	if (curl_inited)
		curl_global_cleanup();
	ct_free(app_host);
	ct_scenario_free(sc);
	ct_free(d);
	ct_free(o);
	return exit_code;
}
