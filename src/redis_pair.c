/* The Redis protocol module: decodes both directions of a Redis connection (resp.h), pairs
 * commands with replies, and turns them into timeline events (SPEC section 3): commands at the
 * server, RESP3 pushes and RESP2 pub/sub messages at the client (client-side tracking
 * invalidations, keyspace and keyevent notifications), and the command stream a primary
 * propagates to a replica after PSYNC/SYNC.
 *
 * Pairing is a FIFO of pending commands. Replies come in order, except that:
 *  - pushes ('>' in RESP3; message/pmessage/smessage and subscribe confirmations in RESP2
 *    subscribed mode) are never paired as replies, but the first confirmation of a
 *    (P|S)(UN)SUBSCRIBE (same kind, same first channel) answers it: Redis sends one per
 *    channel instead of a reply, and an error (NOPERM, wrong arity) in its place;
 *  - CLIENT REPLY OFF/SKIP suppress replies, so those commands are emitted at once as noreply;
 *  - inside MULTI every command is answered +QUEUED and takes effect at EXEC, whose array
 *    reply holds the real replies, in order;
 *  - after MONITOR every server message is a monitor line;
 *  - after PSYNC/SYNC the server side carries an RDB payload (skipped) and then commands, and
 *    the client side carries REPLCONF ACKs, which are never answered;
 *  - a request Redis cannot parse (unbalanced quotes, a bad multibulk or bulk length, a
 *    non-bulk argument, a line over Redis's limits) is rejected by the server with one
 *    "-ERR Protocol error: ..." reply, after which it closes the connection unread
 *    (networking.c, setProtocolError). The decoder reports it as an error and drops the
 *    request; we keep its place in the FIFO, with what was decoded of it, so that the -ERR
 *    pairs with it rather than with the next command, and whatever the client pipelined
 *    after it ends unanswered. Only an answered one becomes an event: Redis never read one
 *    that got no answer (it had closed, or the line never ended: TLS on the Redis port).
 * An event's time is the capture time of its command's last byte; its latency is the reply's
 * last byte minus that. Keys are held for pending commands in a bounded arena per connection.
 *
 * Channels matching a --channel glob are an application invalidation bus (SPEC section 3):
 * PUBLISH/SPUBLISH on one is a publish of the key its payload names, and each message delivery
 * an invalidate of that key at the subscriber. The key is the payload, or the "key" string of
 * a payload that is a JSON object (parsed with jansson, at most CT_RESP_ELEM_CAP_BYTES of it).
 *
 * Limits (limits.h, CT_REDIS_*): pending commands, MULTI depth, keys and key bytes held per
 * connection. A command that cannot be held is emitted at once as unanswered, and its reply is
 * still consumed in its turn, so pairing never slips. Argument bytes other than keys are never
 * kept, so AUTH and HELLO ... AUTH passwords cannot reach the database. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cachetap/cmdtab_redis.h"
#include "cachetap/flow.h"
#include "cachetap/glob.h"
#include "cachetap/limits.h"
#include "cachetap/proto.h"
#include "cachetap/resp.h"

/* ---- what a command means for the connection itself (beyond its keys) ---- */

enum sem {
	SEM_NONE = 0,
	SEM_MULTI,
	SEM_EXEC,
	SEM_DISCARD,
	SEM_HELLO,
	SEM_SELECT,
	SEM_SUBSCRIBE,     /* SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and the UN- forms */
	SEM_CLIENT_REPLY,
	SEM_MONITOR,
	SEM_PSYNC,         /* PSYNC: +FULLRESYNC then RDB, or +CONTINUE */
	SEM_SYNC,          /* SYNC: the RDB payload is the reply */
	SEM_RESET,
};

enum reply_mode { REPLY_ON = 0, REPLY_OFF, REPLY_SKIP };

/* One key of a command, its bytes in the arena. */
struct rkey {
	uint64_t off;   /* absolute arena offset */
	uint32_t len;   /* bytes kept */
	uint32_t argidx; /* the command argument it came from (for ct_redis_cmd_final) */
	int32_t db;     /* its database when not the command's (COPY ... DB n), else -1 */
	uint8_t cls;    /* enum ct_class */
	uint8_t flags;  /* K_* */
	uint8_t status; /* enum ct_status, with K_STATUS */
	uint64_t hash;  /* value written (request) or returned (reply), with K_VALUE */
};

enum {
	K_TRUNC = 1,
	K_VALUE = 2,
	K_STATUS = 4,
	K_DROP = 8,   /* not a key after all */
	K_BUS = 16,   /* the key a bus PUBLISH's payload names (settled already) */
	K_CHAN = 32,  /* the channel of a bus PUBLISH: kept for the detail, never an event */
};

/* One command, from its first byte to its events. */
struct req {
	uint64_t first_ts, ts;
	uint64_t first_off;    /* stream offset of its first byte */
	uint64_t key0;         /* absolute index of its first key */
	uint32_t nkeys;
	int32_t db;
	uint8_t cls;           /* class when it has no key */
	uint8_t sem;           /* enum sem */
	uint8_t queued;        /* sent inside MULTI: the reply is +QUEUED */
	uint8_t held;          /* keys are held (0: emitted already, reply just consumed) */
	uint8_t resynced;
	uint8_t cmd_len;
	uint8_t reply_mode;    /* CLIENT REPLY: CT_REDIS_REPLY_* */
	uint8_t noreply;       /* the table says no reply comes (CLIENT REPLY OFF/SKIP, REPLCONF ACK) */
	const char *rejected;  /* a request Redis rejects as a protocol error: the decoder's reason */
	int8_t proto;          /* HELLO: 2 or 3 once answered, 0 no switch */
	uint8_t bus;           /* PUBLISH on a --channel channel: its keys are K_CHAN and K_BUS */
	const char *bus_why;   /* why the bus payload named no key (a static string), or NULL */
	int32_t select_db;     /* SELECT: the database, -1 when invalid */
	int32_t listen_port;   /* REPLCONF listening-port: the replica's own port, else -1 */
	int64_t ack_offset;    /* REPLCONF ACK: the offset the replica acknowledged, else -1 */
	char cmd[CT_REDIS_CMD_NAME_BYTES];
};

/* Builds a command from decoder events, for one direction. */
struct builder {
	struct req r;
	struct ct_redis_cmdstate cs;
	int active;
	int overflow;          /* keys did not fit: emit at once as unanswered */
	int64_t argc;
};

/* The reply (or push) being decoded on the server side. */
struct reply {
	int active;
	int is_push;
	uint32_t kind;         /* PUSH_* once the first element is known */
	uint8_t top_type;
	uint8_t top_error, top_null;
	uint64_t top_hash;
	int top_hashed;
	uint64_t top_count_nonnull; /* children not null (ct_resp_msg.nonnull) */
	/* pushes: the first elements' bytes */
	uint8_t arg[4][CT_REDIS_PUSH_ARG_BYTES];
	uint32_t arg_len[4];
	uint8_t arg_type[4];
	uint8_t arg_null[4];
	uint8_t arg_trunc[4];  /* cut at CT_REDIS_PUSH_ARG_BYTES by the decoder */
	uint64_t key0;         /* keys collected from a nested array (invalidate) */
	uint32_t nkeys;
};

enum {
	PUSH_NONE = 0,
	PUSH_INVALIDATE,
	PUSH_MESSAGE,  /* message, smessage */
	PUSH_PMESSAGE,
	PUSH_SUBSCRIPTION, /* subscribe, unsubscribe, ... confirmations */
	PUSH_REDIR_BROKEN,
	PUSH_OTHER,
};

struct rconn {
	struct ct_resp dec[2];
	struct builder b[2];       /* [CT_C2S] commands, [CT_S2C] the replication stream */
	struct reply rep;
	uint64_t conn_id;
	const struct ct_proto_config *cfg;
	struct ct_emit emit;
	struct ct_proto_stats *st;
	/* pending commands: a ring of requests */
	struct req *fifo;
	uint32_t fifo_cap, fifo_head, fifo_n;
	/* commands queued in MULTI, answered +QUEUED, waiting for EXEC */
	struct req *tx;
	uint32_t tx_cap, tx_n;
	int in_multi;              /* MULTI sent, EXEC/DISCARD not yet */
	/* keys of held commands */
	struct rkey *keys;
	uint32_t keys_cap;
	uint64_t keys_base, keys_end; /* absolute indices held: [keys_base, keys_end) */
	uint8_t *arena;
	uint32_t arena_cap;
	uint64_t arena_base, arena_end;
	/* connection state */
	int32_t db[2];
	uint8_t reply_mode;
	uint8_t resp3;
	uint8_t subscribing;       /* RESP2: arrays may be pub/sub messages */
	uint8_t monitor;
	uint8_t replica;           /* PSYNC/SYNC answered: client side sends unanswered ACKs */
	uint8_t repl_stream;       /* the server side is the propagated command stream */
	uint64_t resync_ts;        /* after a gap: replies ending before this are not ours */
	uint64_t feed_ts[2];       /* capture time of the chunk being fed, per direction */
	int c2s_framed;            /* a command has completed since the start or the last gap:
				      a client-side decoder error is then the client's, not ours */
	const char *c2s_err;       /* the last client-side decoder error (a static string) */
};

/* ---- small helpers on wire bytes (explicit lengths, never str*) ---- */

static int ieq(const uint8_t *p, uint32_t n, const char *lit)
{
	uint32_t i = 0;
	for (; i < n && lit[i]; i++) {
		uint8_t c = p[i];
		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 32);
		uint8_t l = (uint8_t)lit[i];
		if (l >= 'a' && l <= 'z')
			l = (uint8_t)(l - 32);
		if (c != l)
			return 0;
	}
	return i == n && lit[i] == '\0';
}

static int has_prefix(const uint8_t *p, uint32_t n, const char *lit, uint32_t *plen)
{
	uint32_t i = 0;
	for (; lit[i]; i++)
		if (i >= n || p[i] != (uint8_t)lit[i])
			return 0;
	*plen = i;
	return 1;
}

/* Parses a non-negative decimal (at most 9 digits); -1 when it is not one. */
static int32_t small_uint(const uint8_t *p, uint32_t n)
{
	if (n == 0 || n > 9)
		return -1;
	int32_t v = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* ---- key arena ---- */

static struct rkey *key_at(struct rconn *c, uint64_t idx)
{
	return &c->keys[idx - c->keys_base];
}

static const uint8_t *key_bytes(struct rconn *c, const struct rkey *k)
{
	/* Only empty keys were added while the arena was never allocated (NULL + 0 is UB). */
	if (!c->arena)
		return (const uint8_t *)"";
	return c->arena + (k->off - c->arena_base);
}

/* Frees keys below `low` (no held command needs them), and compacts. */
static void keys_release(struct rconn *c, uint64_t low)
{
	if (low <= c->keys_base)
		return;
	if (low >= c->keys_end) {
		c->keys_base = c->keys_end = low;
		c->arena_base = c->arena_end;
		return;
	}
	uint64_t drop = low - c->keys_base;
	uint64_t new_arena_base = c->keys[drop].off;
	memmove(c->keys, c->keys + drop, (size_t)(c->keys_end - low) * sizeof *c->keys);
	c->keys_base = low;
	uint64_t adrop = new_arena_base - c->arena_base;
	if (c->arena) /* NULL while every key was empty */
		memmove(c->arena, c->arena + adrop, (size_t)(c->arena_end - new_arena_base));
	c->arena_base = new_arena_base;
}

/* The lowest key any held command (pending, queued in MULTI, or being built) still needs. */
static uint64_t keys_low_water(struct rconn *c)
{
	uint64_t low = c->keys_end;
	if (c->fifo_n)
		low = c->fifo[c->fifo_head].key0 < low ? c->fifo[c->fifo_head].key0 : low;
	if (c->tx_n && c->tx[0].key0 < low)
		low = c->tx[0].key0;
	for (int d = 0; d < 2; d++)
		if (c->b[d].active && c->b[d].r.key0 < low)
			low = c->b[d].r.key0;
	if (c->rep.active && c->rep.nkeys && c->rep.key0 < low)
		low = c->rep.key0;
	return low;
}

static int grow(void **p, uint32_t *cap, uint64_t need, size_t elem, uint64_t max)
{
	if (need <= *cap)
		return 0;
	if (need > max)
		return CT_ELIMIT;
	uint64_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	if (n > max)
		n = max;
	void *q = ct_realloc(*p, (size_t)n * elem);
	if (!q)
		return CT_ENOMEM;
	*p = q;
	*cap = (uint32_t)n;
	return 0;
}

/* Appends a key; returns its record, or NULL when a cap was hit. */
static struct rkey *key_add(struct rconn *c, const uint8_t *p, uint32_t n, int truncated)
{
	keys_release(c, keys_low_water(c));
	uint64_t nk = c->keys_end - c->keys_base + 1;
	uint64_t na = c->arena_end - c->arena_base + n;
	if (grow((void **)&c->keys, &c->keys_cap, nk, sizeof *c->keys, CT_REDIS_KEYS_MAX) ||
	    grow((void **)&c->arena, &c->arena_cap, na, 1, CT_REDIS_ARENA_MAX_BYTES))
		return NULL;
	struct rkey *k = &c->keys[c->keys_end - c->keys_base];
	memset(k, 0, sizeof *k);
	k->off = c->arena_end;
	k->len = n;
	k->db = -1;
	k->flags = truncated ? K_TRUNC : 0;
	if (n)
		memcpy(c->arena + (c->arena_end - c->arena_base), p, n);
	c->arena_end += n;
	c->keys_end++;
	return k;
}

/* ---- application invalidation bus (--channel) ---- */

/* Is this channel a --channel one? A channel the decoder cut short is never taken for one:
 * its end, which the glob may need, was not seen. */
static int bus_channel(const struct rconn *c, const uint8_t *p, uint32_t n, int truncated)
{
	return c->cfg->nchannels && !truncated &&
	       ct_glob_match_any(c->cfg->channels, c->cfg->nchannels, p, n);
}

/* Adds the key a bus payload names and returns its record. The payload is the key itself:
 *
 *   PUBLISH app-inval user:42                    key user:42
 *   PUBLISH app-inval {"key":"user:42","v":7}    key user:42 (a JSON object: its "key")
 *   PUBLISH app-inval {user}:42                  key {user}:42 (not JSON: a hash-tagged key)
 *
 * Returns NULL with *why set when it names no key (cut by the decoder, or a JSON object
 * without a string "key"), or NULL with *why NULL when the key arena is full. jansson parses at
 * most CT_RESP_ELEM_CAP_BYTES bytes, through ct_malloc (redis_open), and nothing is kept of
 * its tree: the key is copied into the arena like any other. */
/* jansson allocates through this: its error codes do not reliably tell an allocation that
 * failed from bad JSON, and a payload whose parse ran out of memory must not be taken for the
 * key itself. Single-threaded, like the allocation shim. */
static int json_nomem;

static void *json_alloc(size_t n)
{
	void *p = ct_malloc(n);
	if (!p)
		json_nomem = 1;
	return p;
}

static struct rkey *bus_key_add(struct rconn *c, const uint8_t *p, uint32_t n, int truncated,
				const char **why)
{
	*why = NULL;
	if (truncated) {
		*why = "payload too long (cut by the decoder)";
		return NULL;
	}
	json_error_t jerr;
	json_nomem = 0;
	json_t *j = n ? json_loadb((const char *)p, n, JSON_ALLOW_NUL, &jerr) : NULL;
	if (json_nomem) {
		json_decref(j);
		c->st->alloc_fail++;
		*why = "out of memory parsing the payload";
		return NULL;
	}
	if (!json_is_object(j)) { /* not JSON, or JSON but no object: the payload is the key */
		json_decref(j);
		return key_add(c, p, n, 0);
	}
	json_t *kv = json_object_get(j, "key");
	struct rkey *k = NULL;
	if (json_is_string(kv)) {
		size_t kl = json_string_length(kv);
		k = key_add(c, (const uint8_t *)json_string_value(kv), (uint32_t)kl, 0);
	} else {
		*why = "JSON payload without a string \"key\"";
	}
	json_decref(j);
	return k;
}

/* "channel NAME", then why no key when none, then the caller's own detail. */
static const char *bus_detail(struct rconn *c, const struct req *r, const char *detail,
			      char *buf, size_t len)
{
	const uint8_t *ch = (const uint8_t *)"";
	uint32_t clen = 0;
	for (uint32_t i = 0; r->held && i < r->nkeys; i++) {
		const struct rkey *k = key_at(c, r->key0 + i);
		if (k->flags & K_CHAN) {
			ch = key_bytes(c, k);
			clen = k->len;
			break;
		}
	}
	snprintf(buf, len, "channel %.*s%s%s%s%s", (int)(clen < 128 ? clen : 128),
		 (const char *)ch, r->bus_why ? ": " : "", r->bus_why ? r->bus_why : "",
		 detail ? "; " : "", detail ? detail : "");
	return buf;
}

/* A PUBLISH/SPUBLISH argument `e` (its payload, argument 2): when its channel (argument 1, the
 * only key held so far, class publish in the table) is a --channel one, the payload names the
 * key the event is about. Returns 1 when it took the argument. */
static int bus_publish(struct rconn *c, struct builder *b, const struct ct_resp_elem *e)
{
	if (!c->cfg->nchannels || e->index != 2 || b->overflow || b->r.nkeys != 1)
		return 0;
	struct rkey *ch = key_at(c, b->r.key0);
	if (ch->argidx != 1 || ch->cls != CT_CLASS_PUBLISH ||
	    !bus_channel(c, key_bytes(c, ch), ch->len, (ch->flags & K_TRUNC) != 0))
		return 0;
	ch->flags |= K_CHAN | K_DROP;
	b->r.bus = 1;
	const char *why;
	struct rkey *k = bus_key_add(c, e->p, e->n, (e->flags & CT_RESP_EF_TRUNCATED) != 0, &why);
	if (!k) {
		if (why)
			b->r.bus_why = why;
		else
			b->overflow = 1;
		return 1;
	}
	k->argidx = e->index;
	k->cls = CT_CLASS_PUBLISH;
	k->flags |= K_BUS;
	b->r.nkeys++;
	return 1;
}

/* ---- emitting ---- */

static void emit_one(struct rconn *c, const struct req *r, int dir, int via, uint8_t cls,
		     uint8_t status, const struct rkey *k, uint64_t latency, int has_latency,
		     const char *detail)
{
	struct ct_event e;
	memset(&e, 0, sizeof e);
	e.conn_id = c->conn_id;
	e.ts_ns = r->ts;
	e.first_ts_ns = r->first_ts;
	e.stream_off = r->first_off;
	e.db = k && k->db >= 0 ? k->db : r->db;
	e.proto = CT_PROTO_REDIS;
	e.dir = (uint8_t)dir;
	e.via = (uint8_t)via;
	e.cls = cls;
	e.status = status;
	e.cmd = r->cmd;
	e.cmd_len = r->cmd_len;
	e.detail = detail;
	if (r->resynced)
		e.flags |= CT_EV_RESYNCED;
	if (has_latency) {
		e.flags |= CT_EV_HAS_LATENCY;
		e.latency_ns = latency;
	}
	if (k) {
		e.flags |= CT_EV_HAS_KEY;
		e.key = key_bytes(c, k);
		e.key_len = k->len;
		if (k->flags & K_TRUNC)
			e.flags |= CT_EV_KEY_TRUNCATED;
		if ((k->flags & K_VALUE) && c->cfg->values != CT_VALUES_NONE) {
			e.flags |= CT_EV_HAS_VALUE;
			e.value_hash = k->hash;
		}
	}
	c->st->events++;
	c->emit.event(c->emit.ctx, &e);
}

/* Emits one event per key of r (or one keyless event), with `status` for keys whose reply did
 * not give them one of their own. */
static void emit_req(struct rconn *c, const struct req *r, int dir, int via, uint8_t status,
		     uint64_t reply_ts, int answered, const char *detail)
{
	uint64_t lat = answered && reply_ts > r->ts ? reply_ts - r->ts : 0;
	char why[96];
	if (r->rejected && !detail) {
		snprintf(why, sizeof why, "protocol error: %s", r->rejected);
		detail = why;
	}
	char busd[320];
	if (r->bus)
		detail = bus_detail(c, r, detail, busd, sizeof busd);
	if (!r->held || r->nkeys == 0) {
		emit_one(c, r, dir, via, r->cls, status, NULL, lat, answered, detail);
		return;
	}
	int any = 0;
	for (uint32_t i = 0; i < r->nkeys; i++) {
		const struct rkey *k = key_at(c, r->key0 + i);
		if (k->flags & K_DROP)
			continue;
		uint8_t s = (k->flags & K_STATUS) ? k->status : status;
		emit_one(c, r, dir, via, k->cls, s, k, lat, answered, detail);
		any = 1;
	}
	if (!any) /* a command Redis rejects before touching its keys */
		emit_one(c, r, dir, via, r->cls, status, NULL, lat, answered, detail);
}

/* ---- the pending FIFO ---- */

static struct req *fifo_head(struct rconn *c)
{
	return c->fifo_n ? &c->fifo[c->fifo_head] : NULL;
}

static void fifo_pop(struct rconn *c)
{
	c->fifo_head = (c->fifo_head + 1) % c->fifo_cap;
	c->fifo_n--;
	if (c->fifo_n == 0)
		c->fifo_head = 0;
}

static int fifo_push(struct rconn *c, const struct req *r)
{
	if (c->fifo_n == c->fifo_cap) {
		if (c->fifo_cap >= CT_REDIS_PENDING_MAX)
			return CT_ELIMIT;
		uint32_t ncap = c->fifo_cap ? c->fifo_cap * 2 : 16;
		struct req *q = ct_malloc((size_t)ncap * sizeof *q);
		if (!q)
			return CT_ENOMEM;
		for (uint32_t i = 0; i < c->fifo_n; i++)
			q[i] = c->fifo[(c->fifo_head + i) % c->fifo_cap];
		ct_free(c->fifo);
		c->fifo = q;
		c->fifo_cap = ncap;
		c->fifo_head = 0;
	}
	c->fifo[(c->fifo_head + c->fifo_n) % c->fifo_cap] = *r;
	c->fifo_n++;
	return 0;
}

/* Everything still pending gets its events as unanswered (connection end, or a gap). */
static void flush_pending(struct rconn *c)
{
	struct req *r;
	while ((r = fifo_head(c)) != NULL) {
		if (!r->rejected) { /* a rejected request never answered was never read either */
			if (r->held)
				emit_req(c, r, CT_C2S, CT_VIA_COMMAND, CT_STATUS_UNANSWERED, 0, 0, NULL);
			c->st->unanswered++;
		}
		fifo_pop(c);
	}
	for (uint32_t i = 0; i < c->tx_n; i++) {
		emit_req(c, &c->tx[i], CT_C2S, CT_VIA_COMMAND, CT_STATUS_UNANSWERED, 0, 0,
			 "queued in MULTI, EXEC not seen");
		c->st->unanswered++;
	}
	c->tx_n = 0;
}

/* ---- commands: building from decoder events ---- */

static void builder_start(struct rconn *c, int dir, const struct ct_resp_agg *a, uint64_t ts)
{
	struct builder *b = &c->b[dir];
	memset(b, 0, sizeof *b);
	b->active = 1;
	b->argc = a->count;
	b->r.first_ts = ts ? ts : c->feed_ts[dir];
	b->r.db = c->db[dir];
	b->r.key0 = c->keys_end;
	b->r.held = 1;
	b->r.cls = CT_CLASS_OTHER;
}

static void builder_arg(struct rconn *c, int dir, const struct ct_resp_elem *e)
{
	struct builder *b = &c->b[dir];
	if (!b->active || e->depth != 1)
		return;
	if (e->index == 0) {
		uint32_t n = e->n < CT_REDIS_CMD_NAME_BYTES - 1 ? e->n : CT_REDIS_CMD_NAME_BYTES - 1;
		for (uint32_t i = 0; i < n; i++) {
			uint8_t ch = e->p[i];
			b->r.cmd[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
		}
		b->r.cmd[n] = '\0';
		b->r.cmd_len = (uint8_t)n;
		/* An inline command's argument count is known only at its end. */
		(void)ct_redis_cmd_begin(&b->cs, e->p, e->n,
					 (e->flags & CT_RESP_EF_INLINE) ? -1 : b->argc);
		return;
	}
	struct ct_redis_arg a;
	uint64_t full = e->len < 0 ? 0 : (uint64_t)e->len;
	if (ct_redis_cmd_arg(&b->cs, e->index, e->p, e->n, full, &a) != 0 || a.secret)
		return; /* secrets are never kept, not even as a fingerprint */
	if (bus_publish(c, b, e))
		return;
	if (a.role == CT_REDIS_ARG_VALUE) {
		/* The value written to an earlier key: its fingerprint goes with that key. */
		for (uint32_t i = b->r.nkeys; i-- > 0;) {
			struct rkey *k = key_at(c, b->r.key0 + i);
			if (k->argidx == a.key_index) {
				if (e->flags & CT_RESP_EF_HASHED) {
					k->hash = e->hash;
					k->flags |= K_VALUE;
				}
				break;
			}
		}
		return;
	}
	if (a.role != CT_REDIS_ARG_KEY && a.role != CT_REDIS_ARG_CHANNEL &&
	    a.role != CT_REDIS_ARG_PATTERN)
		return;
	if (b->overflow)
		return;
	struct rkey *k = key_add(c, e->p, e->n, (e->flags & CT_RESP_EF_TRUNCATED) != 0);
	if (!k) {
		b->overflow = 1;
		return;
	}
	k->argidx = e->index;
	k->cls = a.cls;
	k->db = a.db;
	b->r.nkeys++;
}

/* Settles a command once its last argument is in: the final class of each key, and what the
 * command does to the connection. */
static void builder_end(struct rconn *c, int dir, const struct ct_resp_msg *m, struct req *r)
{
	struct builder *b = &c->b[dir];
	struct ct_redis_cmdstate *cs = &b->cs;
	b->active = 0;
	*r = b->r;
	r->first_ts = m->first_ts_ns;
	r->ts = m->ts_ns;
	r->first_off = m->first_off;
	r->resynced = (m->flags & CT_RESP_MF_RESYNCED) != 0;
	ct_redis_cmd_end(cs, (m->flags & CT_RESP_MF_INLINE) ? m->count : -1, m->ts_ns);
	r->cls = (uint8_t)ct_redis_cmd_class(cs);
	for (uint32_t i = 0; i < r->nkeys; i++) {
		struct rkey *k = key_at(c, r->key0 + i);
		struct ct_redis_arg a;
		if (k->flags & (K_BUS | K_CHAN))
			continue; /* a bus PUBLISH: settled by bus_publish */
		ct_redis_cmd_final(cs, k->argidx, &a);
		if (a.role == CT_REDIS_ARG_PLAIN || a.role == CT_REDIS_ARG_VALUE)
			k->flags |= K_DROP;
		k->cls = a.cls;
		k->db = a.db;
	}
	if (b->overflow)
		r->held = 0;
	uint32_t eff = cs->eff;
	r->select_db = -1;
	r->sem = SEM_NONE;
	if (eff & CT_REDIS_EFF_MULTI)
		r->sem = SEM_MULTI;
	else if (eff & CT_REDIS_EFF_EXEC)
		r->sem = SEM_EXEC;
	else if (eff & CT_REDIS_EFF_DISCARD)
		r->sem = SEM_DISCARD;
	else if (eff & CT_REDIS_EFF_HELLO)
		r->sem = SEM_HELLO;
	else if (eff & CT_REDIS_EFF_SELECT)
		r->sem = SEM_SELECT;
	else if (eff & (CT_REDIS_EFF_SUBSCRIBE | CT_REDIS_EFF_UNSUBSCRIBE))
		r->sem = SEM_SUBSCRIBE;
	else if (eff & CT_REDIS_EFF_REPLY_MODE)
		r->sem = SEM_CLIENT_REPLY;
	else if (eff & CT_REDIS_EFF_MONITOR)
		r->sem = SEM_MONITOR;
	else if (eff & CT_REDIS_EFF_REPLICATION)
		r->sem = ieq((const uint8_t *)r->cmd, r->cmd_len, "SYNC") ? SEM_SYNC : SEM_PSYNC;
	else if (eff & CT_REDIS_EFF_RESET)
		r->sem = SEM_RESET;
	r->noreply = (eff & CT_REDIS_EFF_NOREPLY) != 0;
	r->reply_mode = cs->reply_mode;
	r->proto = (int8_t)cs->proto;
	if (r->sem == SEM_SELECT && cs->db >= 0 && cs->db <= INT32_MAX)
		r->select_db = (int32_t)cs->db;
	r->listen_port = (eff & CT_REDIS_EFF_REPLCONF) && cs->listen_port > 0 &&
				 cs->listen_port <= 65535
			       ? (int32_t)cs->listen_port
			       : -1;
	r->ack_offset = (eff & CT_REDIS_EFF_REPLCONF) ? cs->ack_offset : -1;
}

/* ---- commands: what they do to the connection, then pairing ---- */

/* The next bulk from the server is the replication snapshot. */
static void expect_rdb(struct rconn *c)
{
	/* Only a client-side decoder refuses, and dec[CT_S2C] is a server-side one. */
	if (ct_resp_expect_rdb(&c->dec[CT_S2C]) != 0)
		c->st->parse_errors++;
}

/* Replies are suppressed by CLIENT REPLY OFF/SKIP: is this command answered? */
static int answered_under_reply_mode(struct rconn *c, const struct req *r)
{
	if (r->sem == SEM_CLIENT_REPLY) {
		int was_off = c->reply_mode == REPLY_OFF;
		switch (r->reply_mode) {
		case CT_REDIS_REPLY_OFF: c->reply_mode = REPLY_OFF; return 0;
		case CT_REDIS_REPLY_SKIP:
			if (!was_off)
				c->reply_mode = REPLY_SKIP;
			return 0;
		default: c->reply_mode = REPLY_ON; return 1;
		}
	}
	if (c->reply_mode == REPLY_OFF)
		return 0;
	if (c->reply_mode == REPLY_SKIP) {
		c->reply_mode = REPLY_ON;
		return 0;
	}
	return !r->noreply;
}

static void tx_drop(struct rconn *c, const char *why)
{
	for (uint32_t i = 0; i < c->tx_n; i++)
		emit_req(c, &c->tx[i], CT_C2S, CT_VIA_COMMAND, CT_STATUS_ERROR, 0, 0, why);
	c->tx_n = 0;
}

static void command_pair(struct rconn *c, struct req *r);

/* A complete command from the client. */
static void command_done(struct rconn *c, const struct ct_resp_msg *m)
{
	if (!c->b[CT_C2S].active)
		return;
	c->c2s_framed = 1;
	struct req r;
	builder_end(c, CT_C2S, m, &r);
	if (!r.held)
		c->st->pending_overflow++;
	if (r.listen_port > 0 && c->emit.node) {
		/* The client is a replica, and this is the port it serves on: its name. */
		struct ct_node_hint h = { c->conn_id, 1, (uint16_t)r.listen_port, "replica" };
		c->emit.node(c->emit.ctx, &h);
	}

	/* What it does to the connection, at the time the server reads it. */
	switch (r.sem) {
	case SEM_SELECT:
		if (r.select_db >= 0)
			c->db[CT_C2S] = r.select_db;
		break;
	case SEM_MULTI: break;
	case SEM_EXEC:
	case SEM_DISCARD: c->in_multi = 0; break;
	case SEM_RESET:
		c->db[CT_C2S] = 0;
		c->reply_mode = REPLY_ON;
		c->subscribing = 0;
		c->in_multi = 0;
		c->resp3 = 0;
		tx_drop(c, "dropped by RESET");
		break;
	case SEM_SUBSCRIBE:
		/* Answered by its first confirmation (push_done), which in RESP2 is an array that
		 * must be told from a reply: from here on, pub/sub arrays are pushes. */
		c->subscribing = 1;
		break;
	case SEM_SYNC:
		/* The reply to SYNC is the RDB payload itself, then the command stream. */
		expect_rdb(c);
		c->replica = 1;
		emit_req(c, &r, CT_C2S, CT_VIA_COMMAND, CT_STATUS_OK, 0, 0, NULL);
		return;
	default: break;
	}
	command_pair(c, &r);
}

/* A command (or a rejected request) as the server reads it: answered, or not, in its turn. */
static void command_pair(struct rconn *c, struct req *r)
{
	if (c->replica) {
		/* REPLCONF ACK and friends from a replica are never answered. An ACK carries the
		 * replication offset the replica has processed: kept as "ack OFFSET". */
		char ack[32];
		if (r->ack_offset >= 0)
			snprintf(ack, sizeof ack, "ack %" PRId64, r->ack_offset);
		emit_req(c, r, CT_C2S, CT_VIA_COMMAND, CT_STATUS_NOREPLY, 0, 0,
			 r->ack_offset >= 0 ? ack : NULL);
		return;
	}
	r->queued = c->in_multi;
	if (r->sem == SEM_MULTI)
		c->in_multi = 1;
	if (!answered_under_reply_mode(c, r)) {
		emit_req(c, r, CT_C2S, CT_VIA_COMMAND, CT_STATUS_NOREPLY, 0, 0, NULL);
		return;
	}
	if (!r->held)
		emit_req(c, r, CT_C2S, CT_VIA_COMMAND, CT_STATUS_UNANSWERED, 0, 0,
			 "too many keys pending to pair");
	if (fifo_push(c, r)) {
		/* Pairing will slip from here; say so on the events and in the counters. */
		c->st->pending_overflow++;
		if (r->held)
			emit_req(c, r, CT_C2S, CT_VIA_COMMAND, CT_STATUS_UNANSWERED, 0, 0,
				 "too many commands pending to pair");
	}
}

/* The client sent a request Redis rejects as a protocol error (the decoder's error, at
 * `first_off`, made it drop the request). The server answers it with one -ERR and then reads
 * nothing more, so it takes its turn in the FIFO like a command, with what was decoded of it
 * (its name and keys, if they came before the fault) but no effect on the connection. It
 * becomes an event only when that answer comes (reply_done); with replies off (CLIENT REPLY,
 * a replica's stream) none will, so it is not held at all. */
static void command_rejected(struct rconn *c, uint64_t first_off)
{
	struct builder *b = &c->b[CT_C2S];
	struct req r;
	if (c->replica || c->reply_mode != REPLY_ON)
		return;
	if (b->active) {
		/* Not settled with ct_redis_cmd_end: the arguments after the fault are unknown, so
		 * the provisional meaning of those before it is the best there is (SET k "x...:
		 * k is SET's key even though SET with two arguments would be refused). */
		r = b->r;
		r.ts = c->feed_ts[CT_C2S];
		r.first_off = first_off;
		r.cls = (uint8_t)ct_redis_cmd_class(&b->cs);
		r.held = !b->overflow;
	} else {
		memset(&r, 0, sizeof r);
		r.first_ts = r.ts = c->feed_ts[CT_C2S];
		r.first_off = first_off;
		r.db = c->db[CT_C2S];
		r.key0 = c->keys_end;
		r.held = 1;
		r.cls = CT_CLASS_OTHER;
	}
	r.sem = SEM_NONE;
	r.noreply = 0;
	r.proto = 0;
	r.select_db = -1;
	r.rejected = c->c2s_err ? c->c2s_err : "malformed request";
	r.queued = c->in_multi;
	if (!r.held) /* its keys did not fit: it still takes its reply, but gives no event */
		c->st->pending_overflow++;
	if (fifo_push(c, &r))
		c->st->pending_overflow++;
}

/* A command the primary propagated to a replica. */
static void propagated_done(struct rconn *c, const struct ct_resp_msg *m)
{
	if (!c->b[CT_S2C].active)
		return;
	struct req r;
	builder_end(c, CT_S2C, m, &r);
	if (r.sem == SEM_SELECT && r.select_db >= 0)
		c->db[CT_S2C] = r.select_db;
	emit_req(c, &r, CT_S2C, CT_VIA_REPLICATION, CT_STATUS_OK, 0, 0, NULL);
}

/* ---- replies and pushes ---- */

static uint32_t push_kind(const uint8_t *p, uint32_t n)
{
	if (ieq(p, n, "invalidate"))
		return PUSH_INVALIDATE;
	if (ieq(p, n, "message") || ieq(p, n, "smessage"))
		return PUSH_MESSAGE;
	if (ieq(p, n, "pmessage"))
		return PUSH_PMESSAGE;
	if (ieq(p, n, "subscribe") || ieq(p, n, "unsubscribe") || ieq(p, n, "psubscribe") ||
	    ieq(p, n, "punsubscribe") || ieq(p, n, "ssubscribe") || ieq(p, n, "sunsubscribe"))
		return PUSH_SUBSCRIPTION;
	if (ieq(p, n, "tracking-redir-broken"))
		return PUSH_REDIR_BROKEN;
	return PUSH_OTHER;
}

static void reply_start(struct rconn *c, uint8_t type, int is_push)
{
	struct reply *rp = &c->rep;
	memset(rp, 0, offsetof(struct reply, arg));
	memset(rp->arg_len, 0, sizeof rp->arg_len);
	memset(rp->arg_null, 0, sizeof rp->arg_null);
	memset(rp->arg_trunc, 0, sizeof rp->arg_trunc);
	rp->nkeys = 0;
	rp->active = 1;
	rp->top_type = type;
	rp->is_push = is_push;
	rp->key0 = c->keys_end;
}

/* A leaf of the server side at depth 1: part of a push, of an EXEC reply, or one key's answer
 * in a multi-key read (MGET). */
static void reply_elem_depth1(struct rconn *c, const struct ct_resp_elem *e)
{
	struct reply *rp = &c->rep;
	int null = (e->flags & CT_RESP_EF_NULL) != 0;
	if (e->index < 4) {
		uint32_t n = e->n < CT_REDIS_PUSH_ARG_BYTES ? e->n : CT_REDIS_PUSH_ARG_BYTES;
		memcpy(rp->arg[e->index], e->p, n);
		rp->arg_len[e->index] = n;
		rp->arg_type[e->index] = e->type;
		rp->arg_null[e->index] = (uint8_t)null;
		rp->arg_trunc[e->index] = (e->flags & CT_RESP_EF_TRUNCATED) != 0 ||
					  e->n > CT_REDIS_PUSH_ARG_BYTES;
	}
	if (e->index == 0 && (rp->is_push || (rp->top_type == '*' && c->subscribing && !c->resp3))) {
		uint32_t kind = push_kind(e->p, e->n);
		/* In RESP2 only pub/sub arrays are pushes; "pong" and the rest are replies. */
		if (rp->is_push || (kind != PUSH_OTHER && kind != PUSH_INVALIDATE &&
				    kind != PUSH_REDIR_BROKEN)) {
			rp->is_push = 1;
			rp->kind = kind;
		}
	}
	if (rp->is_push)
		return;
	struct req *r = fifo_head(c);
	if (!r || !r->held)
		return;
	if (r->sem == SEM_EXEC) {
		if (e->index < c->tx_n) {
			struct req *t = &c->tx[e->index];
			uint8_t st = e->type == '-' || e->type == '!' ? CT_STATUS_ERROR
				     : null			  ? CT_STATUS_MISS
								  : CT_STATUS_HIT;
			for (uint32_t i = 0; t->held && i < t->nkeys; i++) {
				struct rkey *k = key_at(c, t->key0 + i);
				k->status = k->cls == CT_CLASS_READ || st == CT_STATUS_ERROR ? st
											 : CT_STATUS_OK;
				k->flags |= K_STATUS;
				if (t->nkeys == 1 && st == CT_STATUS_HIT && (e->flags & CT_RESP_EF_HASHED) &&
				    k->cls == CT_CLASS_READ) {
					k->hash = e->hash;
					k->flags |= K_VALUE;
				}
			}
		}
		return;
	}
	/* MGET-like: the i-th element answers the i-th key. */
	if (e->index < r->nkeys && r->nkeys > 1) {
		struct rkey *k = key_at(c, r->key0 + e->index);
		if (k->cls != CT_CLASS_READ)
			return;
		k->status = null ? CT_STATUS_MISS : CT_STATUS_HIT;
		k->flags |= K_STATUS;
		if (!null && (e->flags & CT_RESP_EF_HASHED)) {
			k->hash = e->hash;
			k->flags |= K_VALUE;
		}
	}
}

/* Depth 2: the keys of an invalidation (RESP3 push, or RESP2 message on __redis__:invalidate),
 * or one key's answer inside an EXEC element. */
static void reply_elem_depth2(struct rconn *c, const struct ct_resp_elem *e)
{
	struct reply *rp = &c->rep;
	if (rp->is_push) {
		int keys_at = rp->kind == PUSH_INVALIDATE ? 1 : rp->kind == PUSH_MESSAGE ? 2 : 3;
		if (rp->kind == PUSH_OTHER || rp->kind == PUSH_SUBSCRIPTION ||
		    e->top_index != (uint32_t)keys_at)
			return;
		if (e->flags & CT_RESP_EF_NULL)
			return;
		struct rkey *k = key_add(c, e->p, e->n, (e->flags & CT_RESP_EF_TRUNCATED) != 0);
		if (!k) {
			c->st->pending_overflow++;
			return;
		}
		k->cls = CT_CLASS_INVALIDATE;
		rp->nkeys++;
		return;
	}
	struct req *r = fifo_head(c);
	if (!r || r->sem != SEM_EXEC || e->top_index >= c->tx_n)
		return;
	struct req *t = &c->tx[e->top_index];
	if (!t->held || e->index >= t->nkeys)
		return;
	struct rkey *k = key_at(c, t->key0 + e->index);
	if (k->cls != CT_CLASS_READ)
		return;
	int null = (e->flags & CT_RESP_EF_NULL) != 0;
	k->status = null ? CT_STATUS_MISS : CT_STATUS_HIT;
	k->flags |= K_STATUS;
	if (!null && (e->flags & CT_RESP_EF_HASHED)) {
		k->hash = e->hash;
		k->flags |= K_VALUE;
	}
}

/*   *3\r\n$9\r\nsubscribe\r\n$3\r\nFoo\r\n:1\r\n      (RESP3: >3 ...)
 * kind, channel (null for UNSUBSCRIBE when none was held), subscriptions now held. One comes
 * per channel: the first one of the command at the head of the FIFO answers it. Later ones
 * (SUBSCRIBE a b: "b") name another channel than the next command's first, so they are not
 * taken for its answer. */
static void subscription_confirmed(struct rconn *c, const struct ct_resp_msg *m)
{
	const struct reply *rp = &c->rep;
	struct req *h = fifo_head(c);
	if (!h || h->sem != SEM_SUBSCRIBE || h->queued ||
	    !ieq(rp->arg[0], rp->arg_len[0], h->cmd))
		return;
	if (h->held && h->nkeys) {
		const struct rkey *k = key_at(c, h->key0);
		uint32_t n = k->len < rp->arg_len[1] ? k->len : rp->arg_len[1];
		int cut = (k->flags & K_TRUNC) || rp->arg_len[1] == CT_REDIS_PUSH_ARG_BYTES;
		if ((!cut && k->len != rp->arg_len[1]) || memcmp(key_bytes(c, k), rp->arg[1], n) != 0)
			return;
	}
	struct req done = *h;
	fifo_pop(c);
	if (done.held)
		emit_req(c, &done, CT_C2S, CT_VIA_COMMAND, CT_STATUS_OK, m->ts_ns, 1, NULL);
}

/* A message on a --channel channel, delivered to a subscriber: an invalidate there of the key
 * its payload names (bus_key_add), or of no key with the reason in the detail.
 *
 *   *3 $7 message  $9 app-inval  $2 k2                 (RESP3: >3 ...)
 *   *4 $8 pmessage $5 app-*  $9 app-inval  $2 k2       (pay = the payload's index) */
static void bus_message(struct rconn *c, struct req *r, int pay)
{
	struct reply *rp = &c->rep;
	int ch = pay - 1;
	const char *why = NULL;
	struct rkey *k = NULL;
	/* Keep the channel for the detail, and the key after it, both in the arena. */
	struct rkey *chk = key_add(c, rp->arg[ch], rp->arg_len[ch], 0);
	if (!chk) {
		c->st->pending_overflow++;
		return;
	}
	chk->flags |= K_CHAN | K_DROP;
	if (!rp->nkeys) { /* hold it while the key is added (keys_low_water) */
		rp->key0 = c->keys_end - 1;
		rp->nkeys = 1;
	}
	r->key0 = c->keys_end - 1;
	r->nkeys = 1;
	r->bus = 1;
	if (rp->arg_null[pay] || (rp->arg_type[pay] != '$' && rp->arg_type[pay] != '+'))
		why = "payload not a string";
	else
		k = bus_key_add(c, rp->arg[pay], rp->arg_len[pay], rp->arg_trunc[pay], &why);
	if (!k && !why) {
		c->st->pending_overflow++;
		return;
	}
	if (k) {
		k->cls = CT_CLASS_INVALIDATE;
		r->nkeys = 2;
	}
	r->bus_why = why;
	emit_req(c, r, CT_S2C, CT_VIA_PUSH, CT_STATUS_OK, 0, 0, NULL);
}

/* Emits the events of a finished push (client-side tracking, keyspace and keyevent
 * notifications, pub/sub messages). */
static void push_done(struct rconn *c, const struct ct_resp_msg *m)
{
	struct reply *rp = &c->rep;
	struct req r;
	memset(&r, 0, sizeof r);
	r.first_ts = m->first_ts_ns;
	r.ts = m->ts_ns;
	r.first_off = m->first_off;
	r.db = -1;
	r.held = 1;
	r.cls = CT_CLASS_INVALIDATE;
	r.resynced = (m->flags & CT_RESP_MF_RESYNCED) != 0;
	r.key0 = rp->key0;
	r.nkeys = rp->nkeys;
	char detail[CT_REDIS_PUSH_ARG_BYTES + 32];
	detail[0] = '\0';

	/* The command name is the push kind, upper case, as the timeline spells commands. */
	uint32_t n = rp->arg_len[0] < CT_REDIS_CMD_NAME_BYTES - 1 ? rp->arg_len[0]
								  : CT_REDIS_CMD_NAME_BYTES - 1;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ch = rp->arg[0][i];
		r.cmd[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
	}
	r.cmd_len = (uint8_t)n;

	switch (rp->kind) {
	case PUSH_SUBSCRIPTION: {
		/* RESP2: the subscription count says whether we are still subscribed. */
		if (rp->arg_type[2] == ':' && rp->arg_len[2] == 1 && rp->arg[2][0] == '0' && !c->resp3)
			c->subscribing = 0;
		subscription_confirmed(c, m);
		return;
	}
	case PUSH_INVALIDATE:
		if (rp->nkeys == 0) {
			r.held = 0;
			emit_req(c, &r, CT_S2C, CT_VIA_PUSH, CT_STATUS_OK, 0, 0, "flush all");
		} else {
			emit_req(c, &r, CT_S2C, CT_VIA_PUSH, CT_STATUS_OK, 0, 0, NULL);
		}
		return;
	case PUSH_MESSAGE:
	case PUSH_PMESSAGE: {
		int ch = rp->kind == PUSH_MESSAGE ? 1 : 2, pay = ch + 1;
		const uint8_t *chan = rp->arg[ch];
		uint32_t clen = rp->arg_len[ch], plen;
		if (ieq(chan, clen, "__redis__:invalidate")) {
			/* RESP2 tracking with REDIRECT: the payload is the array of keys, or null. */
			if (rp->nkeys == 0 && (rp->arg_null[pay] || rp->arg_type[pay] != '$')) {
				r.held = 0;
				emit_req(c, &r, CT_S2C, CT_VIA_PUSH, CT_STATUS_OK, 0, 0, "flush all");
				return;
			}
			if (rp->nkeys == 0) { /* a single key as a plain string */
				struct rkey *k = key_add(c, rp->arg[pay], rp->arg_len[pay], 0);
				if (!k)
					return;
				k->cls = CT_CLASS_INVALIDATE;
				r.key0 = c->keys_end - 1;
				r.nkeys = 1;
			}
			emit_req(c, &r, CT_S2C, CT_VIA_PUSH, CT_STATUS_OK, 0, 0, "tracking");
			return;
		}
		const uint8_t *key = NULL;
		uint32_t klen = 0;
		int32_t db = -1;
		if (has_prefix(chan, clen, "__keyspace@", &plen) ||
		    has_prefix(chan, clen, "__keyevent@", &plen)) {
			int space = chan[2] == 'k' && chan[5] == 's';
			uint32_t i = plen;
			while (i < clen && chan[i] >= '0' && chan[i] <= '9')
				i++;
			db = small_uint(chan + plen, i - plen);
			if (i + 3 <= clen && chan[i] == '_' && chan[i + 1] == '_' && chan[i + 2] == ':') {
				const uint8_t *rest = chan + i + 3;
				uint32_t rlen = clen - i - 3;
				/* keyspace: the key is in the channel, the event in the payload;
				 * keyevent: the other way round. */
				const uint8_t *ev = space ? rp->arg[pay] : rest;
				uint32_t evlen = space ? rp->arg_len[pay] : rlen;
				key = space ? rest : rp->arg[pay];
				klen = space ? rlen : rp->arg_len[pay];
				snprintf(detail, sizeof detail, "%s %.*s", space ? "keyspace" : "keyevent",
					 (int)(evlen < 64 ? evlen : 64), (const char *)ev);
			}
		}
		if (!key && bus_channel(c, chan, clen, rp->arg_trunc[ch])) {
			bus_message(c, &r, pay);
			return;
		}
		if (!key) {
			/* Ordinary pub/sub traffic: recorded, but it invalidates nothing. */
			r.held = 0;
			r.cls = CT_CLASS_OTHER;
			snprintf(detail, sizeof detail, "channel %.*s", (int)(clen < 128 ? clen : 128),
				 (const char *)chan);
			emit_req(c, &r, CT_S2C, CT_VIA_PUSH, CT_STATUS_OK, 0, 0, detail);
			return;
		}
		struct rkey *k = key_add(c, key, klen, 0);
		if (!k)
			return;
		k->cls = CT_CLASS_INVALIDATE;
		r.key0 = c->keys_end - 1;
		r.nkeys = 1;
		r.db = db;
		emit_req(c, &r, CT_S2C, CT_VIA_PUSH, CT_STATUS_OK, 0, 0, detail);
		return;
	}
	case PUSH_REDIR_BROKEN:
	default:
		r.held = 0;
		r.cls = CT_CLASS_OTHER;
		emit_req(c, &r, CT_S2C, CT_VIA_PUSH, CT_STATUS_OK, 0, 0, NULL);
		return;
	}
}

/* Status of a whole reply for a command's keys that got no status of their own. */
static uint8_t reply_status(const struct rconn *c, const struct req *r)
{
	const struct reply *rp = &c->rep;
	if (rp->top_error)
		return CT_STATUS_ERROR;
	if (r->cls != CT_CLASS_READ && !(r->held && r->nkeys && r->nkeys == 1 &&
					   c->keys[r->key0 - c->keys_base].cls == CT_CLASS_READ))
		return CT_STATUS_OK;
	if (rp->top_null)
		return CT_STATUS_MISS;
	if ((rp->top_type == '*' || rp->top_type == '~' || rp->top_type == '%') &&
	    rp->top_count_nonnull == 0)
		return CT_STATUS_MISS;
	return CT_STATUS_HIT;
}

/* A complete reply: pair it with the oldest pending command. */
static void reply_done(struct rconn *c, const struct ct_resp_msg *m)
{
	struct reply *rp = &c->rep;
	struct req *r = fifo_head(c);
	if (!r) {
		c->st->unmatched_replies++;
		return;
	}
	if (c->resync_ts && m->first_ts_ns < r->ts) {
		/* It began before the command was sent: the answer to a command lost in a gap. */
		c->st->unmatched_replies++;
		return;
	}
	struct req done = *r;
	fifo_pop(c);
	uint8_t status = reply_status(c, &done);
	uint64_t lat = m->ts_ns > done.ts ? m->ts_ns - done.ts : 0;

	if (done.queued && !rp->top_error && done.sem != SEM_EXEC && done.sem != SEM_DISCARD &&
	    done.sem != SEM_MULTI) {
		/* +QUEUED: the command takes effect at EXEC. */
		if (c->tx_n < CT_REDIS_TX_MAX &&
		    !grow((void **)&c->tx, &c->tx_cap, c->tx_n + 1, sizeof *c->tx, CT_REDIS_TX_MAX)) {
			c->tx[c->tx_n++] = done;
		} else {
			c->st->pending_overflow++;
			emit_req(c, &done, CT_C2S, CT_VIA_COMMAND, CT_STATUS_UNANSWERED, 0, 0,
				 "too many commands queued in MULTI");
		}
		return;
	}
	switch (done.sem) {
	case SEM_EXEC:
		if (rp->top_error || rp->top_null) {
			tx_drop(c, rp->top_null ? "EXEC aborted (WATCH)" : "EXEC failed");
		} else {
			for (uint32_t i = 0; i < c->tx_n; i++) {
				struct req t = c->tx[i];
				/* Queued commands take effect when EXEC runs. */
				t.ts = done.ts;
				emit_req(c, &t, CT_C2S, CT_VIA_COMMAND,
					 t.cls == CT_CLASS_READ ? CT_STATUS_HIT : CT_STATUS_OK, m->ts_ns, 1,
					 "in MULTI");
			}
			c->tx_n = 0;
		}
		break;
	case SEM_DISCARD: tx_drop(c, "discarded"); break;
	case SEM_HELLO:
		if (!rp->top_error && done.proto)
			c->resp3 = done.proto == 3;
		break;
	case SEM_MONITOR:
		if (!rp->top_error)
			c->monitor = 1;
		break;
	case SEM_PSYNC: {
		uint32_t plen;
		if (rp->top_type == '+' && has_prefix(rp->arg[0], rp->arg_len[0], "FULLRESYNC", &plen)) {
			expect_rdb(c);
			c->replica = 1;
		} else if (rp->top_type == '+' &&
			   has_prefix(rp->arg[0], rp->arg_len[0], "CONTINUE", &plen)) {
			c->replica = 1;
			c->repl_stream = 1;
		}
		break;
	}
	default: break;
	}
	if (!done.held)
		return; /* emitted already, when it could not be held */
	if (done.sem == SEM_EXEC || done.sem == SEM_DISCARD)
		done.cls = CT_CLASS_OTHER;
	if (done.nkeys == 1 && rp->top_hashed && status == CT_STATUS_HIT) {
		struct rkey *k = key_at(c, done.key0);
		if (k->cls == CT_CLASS_READ && !(k->flags & K_VALUE)) {
			k->hash = rp->top_hash;
			k->flags |= K_VALUE;
		}
	}
	emit_req(c, &done, CT_C2S, CT_VIA_COMMAND, status, m->ts_ns, 1, NULL);
	(void)lat;
}

/* ---- decoder callbacks ---- */

static void c2s_agg_begin(void *ctx, const struct ct_resp_agg *a)
{
	struct rconn *c = ctx;
	if (a->depth == 0 && !(a->flags & CT_RESP_EF_ATTR))
		builder_start(c, CT_C2S, a, 0);
}

static void c2s_elem(void *ctx, const struct ct_resp_elem *e)
{
	if (!(e->flags & CT_RESP_EF_ATTR))
		builder_arg(ctx, CT_C2S, e);
}

static void c2s_msg(void *ctx, const struct ct_resp_msg *m)
{
	struct rconn *c = ctx;
	c->st->messages++;
	command_done(c, m);
}

static void on_error(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct rconn *c = ctx;
	CT_UNUSED(err), CT_UNUSED(errstr), CT_UNUSED(off);
	c->st->parse_errors++;
}

static void c2s_error(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct rconn *c = ctx;
	c->c2s_err = errstr;
	on_error(ctx, err, errstr, off);
}

static void c2s_abort(void *ctx, uint64_t first_off, int why)
{
	struct rconn *c = ctx;
	/* A request cut by a gap or the end of the capture was never seen whole: drop it. One
	 * the decoder rejected after a clean start is the client's fault, and Redis answers it. */
	if (why != CT_ETRUNC && c->c2s_framed)
		command_rejected(c, first_off);
	c->b[CT_C2S].active = 0;
}

static void s2c_agg_begin(void *ctx, const struct ct_resp_agg *a)
{
	struct rconn *c = ctx;
	if (a->depth != 0 || (a->flags & CT_RESP_EF_ATTR))
		return;
	if (c->repl_stream) {
		builder_start(c, CT_S2C, a, 0);
		return;
	}
	reply_start(c, a->type, a->type == '>');
	/* An ordinary answer to an ordinary command (an LRANGE's 600 strings): only whether it
	 * was empty matters (ct_resp_msg.nonnull), so its elements are framed, not reported.
	 * Pushes, RESP2 pub/sub arrays, MGET-like answers (an element per key) and the answers
	 * the pairing reads (EXEC, HELLO, ...) are decoded in full. */
	const struct req *r = fifo_head(c);
	if (a->type != '>' && !(c->subscribing && !c->resp3) && !c->monitor && r && r->held &&
	    r->sem == SEM_NONE && r->nkeys <= 1)
		ct_resp_quiet(&c->dec[CT_S2C]);
}

static void s2c_elem(void *ctx, const struct ct_resp_elem *e)
{
	struct rconn *c = ctx;
	struct reply *rp = &c->rep;
	if (e->flags & CT_RESP_EF_ATTR)
		return;
	if (c->repl_stream) {
		builder_arg(c, CT_S2C, e);
		return;
	}
	if (c->monitor)
		return;
	if (e->depth == 0) {
		/* A scalar reply: the whole message. */
		reply_start(c, e->type, 0);
		rp->top_error = e->type == '-' || e->type == '!';
		rp->top_null = (e->flags & CT_RESP_EF_NULL) != 0;
		rp->top_hashed = (e->flags & CT_RESP_EF_HASHED) != 0;
		rp->top_hash = e->hash;
		uint32_t n = e->n < CT_REDIS_PUSH_ARG_BYTES ? e->n : CT_REDIS_PUSH_ARG_BYTES;
		memcpy(rp->arg[0], e->p, n);
		rp->arg_len[0] = n;
		return;
	}
	if (!rp->active)
		return;
	if (e->depth == 1)
		reply_elem_depth1(c, e);
	else if (e->depth == 2)
		reply_elem_depth2(c, e);
}

static void s2c_msg(void *ctx, const struct ct_resp_msg *m)
{
	struct rconn *c = ctx;
	c->st->messages++;
	if (m->flags & CT_RESP_MF_RDB) {
		/* The snapshot is skipped; what follows is the propagated command stream. */
		c->repl_stream = 1;
		c->db[CT_S2C] = 0;
		return;
	}
	if (c->repl_stream) {
		propagated_done(c, m);
		return;
	}
	if (c->monitor)
		return;
	if (!c->rep.active)
		return;
	c->rep.top_count_nonnull = m->nonnull;
	if (c->rep.is_push)
		push_done(c, m);
	else
		reply_done(c, m);
	c->rep.active = 0;
}

static void s2c_abort(void *ctx, uint64_t first_off, int why)
{
	struct rconn *c = ctx;
	CT_UNUSED(first_off), CT_UNUSED(why);
	c->rep.active = 0;
	c->b[CT_S2C].active = 0;
}

static const struct ct_resp_cb cb[2] = {
	[CT_C2S] = { .elem = c2s_elem, .agg_begin = c2s_agg_begin, .msg = c2s_msg,
		     .error = c2s_error, .abort = c2s_abort },
	[CT_S2C] = { .elem = s2c_elem, .agg_begin = s2c_agg_begin, .msg = s2c_msg,
		     .error = on_error, .abort = s2c_abort },
};

/* ---- module operations ---- */

static void *redis_open(const struct ct_proto_open *o)
{
	struct rconn *c = ct_calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->conn_id = o->conn_id;
	c->cfg = o->cfg;
	c->emit = *o->emit;
	c->st = o->stats;
	c->db[CT_C2S] = c->db[CT_S2C] = 0;
	if (o->cfg->nchannels) /* bus payloads are parsed with jansson: allocate through ours */
		json_set_alloc_funcs(json_alloc, ct_free);
	struct ct_resp_opts ro = {
		.values = o->cfg->values == CT_VALUES_NONE ? CT_RESP_VALUES_NONE : CT_RESP_VALUES_HASH,
		.midstream = (uint8_t)o->midstream,
	};
	if (ct_resp_init(&c->dec[CT_C2S], CT_RESP_SIDE_CLIENT, &ro) ||
	    ct_resp_init(&c->dec[CT_S2C], CT_RESP_SIDE_SERVER, &ro)) {
		ct_free(c);
		return NULL;
	}
	if (o->midstream) {
		/* Joined mid-stream: the database in use is unknown until a SELECT. */
		c->db[CT_C2S] = c->db[CT_S2C] = -1;
	} else {
		c->c2s_framed = 1;
	}
	return c;
}

static void redis_data(void *conn, int dir, uint64_t off, const uint8_t *p, uint32_t len,
		       uint64_t ts_ns)
{
	struct rconn *c = conn;
	c->feed_ts[dir] = ts_ns;
	(void)ct_resp_feed(&c->dec[dir], off, p, len, ts_ns, &cb[dir], c);
}

static void redis_gap(void *conn, int dir, uint64_t off, uint64_t len, uint64_t ts_ns)
{
	struct rconn *c = conn;
	c->feed_ts[dir] = ts_ns;
	uint64_t kept = c->dec[dir].c.gaps_in_bulk;
	ct_resp_gap(&c->dec[dir], off, len, ts_ns, &cb[dir], c);
	if (c->dec[dir].c.gaps_in_bulk != kept)
		return; /* inside a value of known length: framing and pairing hold */
	/* Commands or replies were lost: what is pending cannot be paired reliably. */
	flush_pending(c);
	c->resync_ts = ts_ns ? ts_ns : 1;
	if (dir == CT_C2S)
		c->c2s_framed = 0;
}

static void redis_close(void *conn, uint64_t ts_ns)
{
	struct rconn *c = conn;
	for (int dir = 0; dir < 2; dir++) {
		ct_resp_end(&c->dec[dir], ts_ns, &cb[dir], c);
		c->st->resyncs += c->dec[dir].c.resyncs;
	}
	flush_pending(c);
	ct_free(c->fifo);
	ct_free(c->tx);
	ct_free(c->keys);
	ct_free(c->arena);
	ct_free(c);
}

const struct ct_proto_ops ct_proto_redis = {
	.name = "redis",
	.proto = CT_PROTO_REDIS,
	.open = redis_open,
	.data = redis_data,
	.gap = redis_gap,
	.datagram = NULL,
	.close = redis_close,
};
