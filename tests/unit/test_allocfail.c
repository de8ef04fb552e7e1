/* Allocation failure (issue 7): every module that allocates runs a scenario with its Nth
 * allocation failing, for every N from 1 to k, k being the number of allocations the scenario
 * makes (counted by the shim, src/alloc.c). Each failure must be clean:
 *   - no crash, and no leak: the shim's count of live blocks is back where it was after every
 *     run (and ASan/LSan or valgrind watch the same runs in those builds);
 *   - a proper outcome: the constructor refuses (NULL, CT_ENOMEM or CT_ESQL), or the module
 *     counts the loss (alloc_fail, pending_overflow, a reassembly cap hit or gap, a store
 *     error), or the result is exactly the one without a failure (the loss was absorbed).
 *     A run whose result differs with nothing counted is a silent loss, and fails the test.
 * The modules: the Redis, memcached and HTTP protocol modules (with the decoders inside them),
 * TCP reassembly, the flow table, the SQLite store (SQLite allocates through the shim too),
 * also behind its writer thread (sink_async), and the whole pipeline from pcap files. The
 * decoders allocate nothing at all, which is checked directly: with the first allocation set
 * to fail, decoding must make none. */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachetap/capture.h"
#include "cachetap/flow.h"
#include "cachetap/mc.h"
#include "cachetap/pipeline.h"
#include "cachetap/proto.h"
#include "cachetap/reasm.h"
#include "cachetap/resp.h"
#include "cachetap/sink_async.h"
#include "cachetap/store.h"
#include "tap.h"

/* ---- what a run produced ---- */

struct outcome {
	int created;      /* the module's constructor succeeded */
	int refusal;      /* the constructor's error code when it did not (0: NULL pointer) */
	uint64_t counted; /* losses the module counted */
	uint64_t sig;     /* digest of everything the run produced */
	uint64_t used;    /* allocations attempted by the failing part of the run */
	int broken;       /* an invariant of the result did not hold */
	char why[160];
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= s[i];
		*h *= 0x100000001b3ull;
	}
}

static void mix_u64(uint64_t *h, uint64_t v)
{
	mix(h, &v, sizeof v);
}

static void mix_event(uint64_t *h, const struct ct_event *e)
{
	mix_u64(h, e->conn_id);
	mix_u64(h, e->ts_ns);
	mix_u64(h, ((uint64_t)e->dir << 32) | ((uint64_t)e->cls << 16) | e->status);
	mix_u64(h, e->flags & (CT_EV_HAS_KEY | CT_EV_HAS_VALUE | CT_EV_HAS_LATENCY));
	if (e->cmd)
		mix(h, e->cmd, e->cmd_len);
	if ((e->flags & CT_EV_HAS_KEY) && e->key)
		mix(h, e->key, e->key_len);
	if (e->flags & CT_EV_HAS_VALUE)
		mix_u64(h, e->value_hash);
}

static void broken(struct outcome *o, const char *why)
{
	if (!o->broken)
		snprintf(o->why, sizeof o->why, "%s", why);
	o->broken = 1;
}

struct scenario {
	const char *name;
	void (*run)(struct outcome *o);      /* the part that may fail */
	void (*verify)(struct outcome *o);   /* optional: checks after it, allocations allowed */
};

static void run_once(const struct scenario *s, uint64_t fail_at, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	o->sig = 0xcbf29ce484222325ull;
	int64_t live = ct_alloc_live();
	ct_alloc_fail_at(fail_at);
	s->run(o);
	o->used = ct_alloc_count();
	ct_alloc_fail_at(0);
	if (ct_alloc_live() != live) {
		char why[96];
		snprintf(why, sizeof why, "%" PRId64 " blocks leaked",
			 ct_alloc_live() - live);
		broken(o, why);
	}
	if (s->verify)
		s->verify(o);
}

/* Runs the scenario once as it is (twice: the first run warms up library state such as
 * SQLite's), then with each of its k allocations failing in turn. */
static void sweep(const struct scenario *s)
{
	struct outcome ref, o;
	run_once(s, 0, &ref);
	run_once(s, 0, &ref);
	uint64_t k = ref.used;
	ok(ref.created && !ref.broken && ref.counted == 0,
	   "%s: without a failure it runs clean (%s)", s->name, ref.broken ? ref.why : "ok");
	ok(k > 0, "%s: makes allocations (k = %" PRIu64 ")", s->name, k);

	uint64_t refused = 0, counted = 0, absorbed = 0, bad = 0, first_bad = 0;
	char first_why[200] = "";
	for (uint64_t n = 1; n <= k; n++) {
		run_once(s, n, &o);
		const char *why = NULL;
		if (o.broken)
			why = o.why;
		else if (o.used < n)
			why = "the failing allocation was never reached (nondeterministic run)";
		else if (!o.created && o.refusal != 0 && o.refusal != CT_ENOMEM && o.refusal != CT_ESQL)
			why = "refused with an unexpected error code";
		else if (!o.created)
			refused++;
		else if (o.counted > 0)
			counted++;
		else if (o.sig == ref.sig)
			absorbed++;
		else
			why = "the result differs and nothing counted the loss";
		if (why) {
			if (!bad++) {
				first_bad = n;
				snprintf(first_why, sizeof first_why, "%s", why);
			}
		}
	}
	ok(bad == 0,
	   "%s: each of allocations 1..%" PRIu64 " fails cleanly (%" PRIu64 " refused, %" PRIu64
	   " counted, %" PRIu64 " absorbed)",
	   s->name, k, refused, counted, absorbed);
	if (bad)
		diag("%" PRIu64 " unclean; the first at N = %" PRIu64 ": %s", bad, first_bad,
		     first_why);
}

/* ---- inputs, built once before any sweep (the builders use no allocation) ---- */

struct text {
	char b[16384];
	size_t n;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(t->b + t->n, sizeof t->b - t->n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof t->b - t->n) {
		printf("Bail out! test input buffer too small\n");
		exit(1);
	}
	t->n += (size_t)w;
}

static void put_bulk(struct text *t, const char *s)
{
	put(t, "$%zu\r\n%s\r\n", strlen(s), s);
}

/* A RESP command from its arguments. */
static void put_cmd(struct text *t, int argc, const char *const *argv)
{
	put(t, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++)
		put_bulk(t, argv[i]);
}

#define NSTEPS 12
struct conv {
	struct text c[NSTEPS], s[NSTEPS]; /* step i: client bytes, then server bytes */
	int n;
};

static struct conv redis_conv, mc_conv, mcb_conv;
static struct text mc_udp_req, mc_udp_rep;

static void build_redis(void)
{
	struct conv *v = &redis_conv;
	char k[40][16], val[40][16];
	/* 1: forty pipelined SETs (the pending queue grows twice) */
	for (int i = 0; i < 40; i++) {
		snprintf(k[i], sizeof k[i], "key:%d", i);
		snprintf(val[i], sizeof val[i], "value-%d", i);
		const char *a[] = { "SET", k[i], val[i] };
		put_cmd(&v->c[0], 3, a);
		put(&v->s[0], "+OK\r\n");
	}
	/* 2: an MGET of 30 keys (keys held in the arena) */
	const char *mget[31] = { "MGET" };
	for (int i = 0; i < 30; i++)
		mget[i + 1] = k[i];
	put_cmd(&v->c[1], 31, mget);
	put(&v->s[1], "*30\r\n");
	for (int i = 0; i < 30; i++)
		put_bulk(&v->s[1], val[i]);
	/* 3: DEL, then a transaction */
	const char *del[] = { "DEL", k[0], k[1], k[2] };
	put_cmd(&v->c[2], 4, del);
	put(&v->s[2], ":3\r\n");
	const char *multi[] = { "MULTI" }, *set[] = { "SET", "a", "1" }, *del2[] = { "DEL", "b" },
		   *exec[] = { "EXEC" };
	put_cmd(&v->c[3], 1, multi);
	put_cmd(&v->c[3], 3, set);
	put_cmd(&v->c[3], 2, del2);
	put_cmd(&v->c[3], 1, exec);
	put(&v->s[3], "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n");
	/* 4: an inline command and an AUTH (a secret: never kept) */
	put(&v->c[4], "GET key:5\r\n");
	put(&v->s[4], "$7\r\nvalue-5\r\n");
	const char *auth[] = { "AUTH", "hunter2" };
	put_cmd(&v->c[4], 2, auth);
	put(&v->s[4], "+OK\r\n");
	/* 5: the application invalidation bus: SUBSCRIBE, then JSON and plain payloads (jansson
	 * allocates through the shim) */
	const char *sub[] = { "SUBSCRIBE", "inv" };
	put_cmd(&v->c[5], 2, sub);
	put(&v->s[5], "*3\r\n$9\r\nsubscribe\r\n$3\r\ninv\r\n:1\r\n");
	const char *payloads[] = { "{\"key\":\"user:7\",\"v\":[1,2,{\"x\":null}]}", "user:8",
				   "{\"key\":\"user:9\"}" };
	for (size_t i = 0; i < 3; i++) {
		put(&v->s[6], "*3\r\n$7\r\nmessage\r\n$3\r\ninv\r\n");
		put_bulk(&v->s[6], payloads[i]);
	}
	v->n = 7;
}

static void build_mc(void)
{
	struct conv *v = &mc_conv;
	/* 1: twenty pipelined sets, then one get of them all */
	for (int i = 0; i < 20; i++) {
		put(&v->c[0], "set item:%d 0 0 %d\r\nv%0*d\r\n", i, 4, 3, i);
		put(&v->s[0], "STORED\r\n");
	}
	put(&v->c[1], "get");
	for (int i = 0; i < 20; i++)
		put(&v->c[1], " item:%d", i);
	put(&v->c[1], "\r\n");
	for (int i = 0; i < 20; i += 2)
		put(&v->s[1], "VALUE item:%d 0 4\r\nv%03d\r\n", i, i);
	put(&v->s[1], "END\r\n");
	/* 2: delete, touch, noreply, meta */
	put(&v->c[2], "delete item:3\r\ntouch item:4 10\r\nset q 0 0 1 noreply\r\nx\r\n");
	put(&v->s[2], "DELETED\r\nTOUCHED\r\n");
	put(&v->c[3], "mg item:4 v k\r\nms item:5 2 T0\r\nzz\r\nmd item:6 I q\r\nmn\r\n");
	put(&v->s[3], "VA 4 kitem:4\r\nv004\r\nHD\r\nMN\r\n");
	v->n = 4;

	/* binary: SET, GETQ x2 (one miss), NOOP */
	struct conv *b = &mcb_conv;
	static const uint8_t req[] = {
		/* SET key "bk" extras 8 value "vv" */
		0x80, 0x01, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00,
		0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'b', 'k', 'v', 'v',
		/* GETQ "bk" */
		0x80, 0x09, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
		0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 'b', 'k',
		/* GETQ "nk" */
		0x80, 0x09, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
		0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 'n', 'k',
		/* NOOP */
		0x80, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t rep[] = {
		/* SET ok */
		0x81, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1,
		/* GETQ hit: extras 4 (flags), value "vv" */
		0x81, 0x09, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00,
		0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 'v', 'v',
		/* NOOP */
		0x81, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	memcpy(b->c[0].b, req, sizeof req);
	b->c[0].n = sizeof req;
	memcpy(b->s[0].b, rep, sizeof rep);
	b->s[0].n = sizeof rep;
	b->n = 1;

	/* UDP: the 8-byte frame header (request id, sequence, total, reserved), then text */
	static const uint8_t hdr1[8] = { 0, 7, 0, 0, 0, 1, 0, 0 };
	memcpy(mc_udp_req.b, hdr1, 8);
	mc_udp_req.n = 8;
	put(&mc_udp_req, "get udpkey\r\n");
	memcpy(mc_udp_rep.b, hdr1, 8);
	mc_udp_rep.n = 8;
	put(&mc_udp_rep, "VALUE udpkey 0 2\r\nok\r\nEND\r\n");
}

/* ---- the protocol modules ---- */

struct evsink {
	uint64_t sig, events;
};

static void on_event(void *ctx, const struct ct_event *e)
{
	struct evsink *s = ctx;
	s->events++;
	mix_event(&s->sig, e);
}

static void feed_conv(const struct ct_proto_ops *ops, void *c, const struct conv *v)
{
	uint64_t off[2] = { 0, 0 }, ts = 1000;
	for (int i = 0; i < v->n; i++) {
		const struct text *t[2] = { &v->c[i], &v->s[i] };
		for (int dir = 0; dir < 2; dir++) {
			if (!t[dir]->n)
				continue;
			ops->data(c, dir, off[dir], (const uint8_t *)t[dir]->b, (uint32_t)t[dir]->n,
				  ts += 1000);
			off[dir] += t[dir]->n;
		}
	}
}

static void proto_outcome(struct outcome *o, const struct evsink *es,
			  const struct ct_proto_stats *st)
{
	o->sig = es->sig;
	mix_u64(&o->sig, es->events);
	o->counted = st->alloc_fail + st->pending_overflow;
	if (st->parse_errors)
		broken(o, "a parse error (an allocation failure must not look like bad bytes)");
}

static void run_redis(struct outcome *o)
{
	static const char *const channels[] = { "inv*" };
	struct ct_proto_config cfg = { .values = CT_VALUES_HASH, .channels = channels,
				       .nchannels = 1 };
	struct evsink es = { 0xcbf29ce484222325ull, 0 };
	struct ct_emit emit = { .event = on_event, .ctx = &es };
	struct ct_proto_stats st;
	memset(&st, 0, sizeof st);
	struct ct_proto_open op = { .conn_id = 1, .cfg = &cfg, .emit = &emit, .stats = &st };
	void *c = ct_proto_redis.open(&op);
	if (!c)
		return;
	o->created = 1;
	feed_conv(&ct_proto_redis, c, &redis_conv);
	ct_proto_redis.close(c, 1000000);
	proto_outcome(o, &es, &st);
}

static void run_mc(struct outcome *o)
{
	struct ct_proto_config cfg = { .values = CT_VALUES_HASH };
	struct evsink es = { 0xcbf29ce484222325ull, 0 };
	struct ct_emit emit = { .event = on_event, .ctx = &es };
	struct ct_proto_stats st;
	memset(&st, 0, sizeof st);
	struct ct_proto_open op = { .conn_id = 1, .cfg = &cfg, .emit = &emit, .stats = &st };
	/* text and meta over TCP, binary over TCP, text over UDP: three connections */
	void *c[3];
	int n = 0;
	for (; n < 3; n++) {
		op.conn_id = (uint64_t)n + 1;
		if (!(c[n] = ct_proto_memcached.open(&op)))
			break;
	}
	if (n == 3) {
		o->created = 1;
		feed_conv(&ct_proto_memcached, c[0], &mc_conv);
		feed_conv(&ct_proto_memcached, c[1], &mcb_conv);
		ct_proto_memcached.datagram(c[2], CT_C2S, (const uint8_t *)mc_udp_req.b,
					    (uint32_t)mc_udp_req.n, 5000);
		ct_proto_memcached.datagram(c[2], CT_S2C, (const uint8_t *)mc_udp_rep.b,
					    (uint32_t)mc_udp_rep.n, 6000);
	}
	while (n-- > 0)
		ct_proto_memcached.close(c[n], 1000000);
	if (o->created)
		proto_outcome(o, &es, &st);
}

static struct conv http_conv;

static void build_http(void)
{
	struct conv *v = &http_conv;
	/* eight pipelined requests (the pending queue grows from 2 to 8), then the responses */
	for (int i = 0; i < 8; i++) {
		put(&v->c[0], "%s /items/%d HTTP/1.1\r\nHost: api\r\nX-Request-Id: r%d\r\n%s",
		    i % 2 ? "PUT" : "GET", i, i, i % 2 ? "Content-Length: 2\r\n\r\nab" : "\r\n");
		put(&v->s[0], "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	}
	v->n = 1;
}

static void on_api(void *ctx, const struct ct_api_call *a)
{
	struct evsink *s = ctx;
	s->events++;
	mix_u64(&s->sig, a->status);
	mix_u64(&s->sig, a->ts_end_ns);
	if (a->path)
		mix(&s->sig, a->path, a->path_len);
	if (a->request_id)
		mix(&s->sig, a->request_id, a->request_id_len);
}

static void run_http(struct outcome *o)
{
	struct ct_proto_config cfg = { .values = CT_VALUES_HASH };
	struct evsink es = { 0xcbf29ce484222325ull, 0 };
	struct ct_emit emit = { .event = on_event, .ctx = &es, .api = on_api };
	struct ct_proto_stats st;
	memset(&st, 0, sizeof st);
	struct ct_proto_open op = { .conn_id = 1, .cfg = &cfg, .emit = &emit, .stats = &st };
	void *c = ct_proto_http.open(&op);
	if (!c)
		return;
	o->created = 1;
	feed_conv(&ct_proto_http, c, &http_conv);
	ct_proto_http.close(c, 1000000);
	proto_outcome(o, &es, &st);
}

/* ---- the decoders: no allocation at all ---- */

static void resp_elem(void *ctx, const struct ct_resp_elem *e)
{
	mix(ctx, e->p, e->n);
}

static void mc_msg(void *ctx, const struct ct_mc_msg *m)
{
	CT_UNUSED(m);
	mix_u64(ctx, 1);
}

static void mc_key(void *ctx, const struct ct_mc_msg *m, const uint8_t *key, uint32_t len,
		   uint32_t index)
{
	CT_UNUSED(m);
	CT_UNUSED(index);
	mix(ctx, key, len);
}

static void decoders_allocate_nothing(void)
{
	uint64_t h = 0;
	struct ct_resp_cb rcb = { .elem = resp_elem };
	struct ct_mc_cb mcb = { .msg = mc_msg, .key = mc_key };
	static struct ct_resp r[2];
	static struct ct_mc m[2];
	static struct ct_mc_udp u[2];
	ct_alloc_fail_at(1); /* any allocation would fail, and be counted */
	int rc = 0;
	rc |= ct_resp_init(&r[0], CT_RESP_SIDE_CLIENT, NULL);
	rc |= ct_resp_init(&r[1], CT_RESP_SIDE_SERVER, NULL);
	rc |= ct_mc_init(&m[0], CT_MC_SIDE_CLIENT, NULL, &mcb, &h);
	rc |= ct_mc_init(&m[1], CT_MC_SIDE_SERVER, NULL, &mcb, &h);
	rc |= ct_mc_udp_init(&u[0], CT_MC_SIDE_CLIENT, NULL, &mcb, &h);
	rc |= ct_mc_udp_init(&u[1], CT_MC_SIDE_SERVER, NULL, &mcb, &h);
	uint64_t off[2] = { 0, 0 }, moff[2] = { 0, 0 };
	for (int i = 0; i < redis_conv.n; i++) {
		const struct text *t[2] = { &redis_conv.c[i], &redis_conv.s[i] };
		for (int d = 0; d < 2; d++) {
			(void)ct_resp_feed(&r[d], off[d], (const uint8_t *)t[d]->b, (uint32_t)t[d]->n,
					   1, &rcb, &h);
			off[d] += t[d]->n;
		}
	}
	/* a RESP3 push and map, byte by byte */
	static const char resp3[] = ">3\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
				    "%1\r\n+a\r\n,1.5\r\n~1\r\n#t\r\n|1\r\n+x\r\n_\r\n_\r\n";
	for (size_t i = 0; i + 1 < sizeof resp3; i++)
		(void)ct_resp_feed(&r[1], off[1]++, (const uint8_t *)resp3 + i, 1, 2, &rcb, &h);
	for (int i = 0; i < mc_conv.n; i++) {
		const struct text *t[2] = { &mc_conv.c[i], &mc_conv.s[i] };
		for (int d = 0; d < 2; d++) {
			(void)ct_mc_data(&m[d], moff[d], (const uint8_t *)t[d]->b, (uint32_t)t[d]->n, 1);
			moff[d] += t[d]->n;
		}
	}
	(void)ct_mc_udp_datagram(&u[0], (const uint8_t *)mc_udp_req.b, (uint32_t)mc_udp_req.n, 3);
	(void)ct_mc_udp_datagram(&u[1], (const uint8_t *)mc_udp_rep.b, (uint32_t)mc_udp_rep.n, 4);
	ct_mc_udp_flush(&u[0], 5);
	ct_mc_udp_flush(&u[1], 5);
	for (int d = 0; d < 2; d++) {
		ct_resp_end(&r[d], 9, &rcb, &h);
		ct_mc_end(&m[d], 9);
	}
	uint64_t used = ct_alloc_count();
	ct_alloc_fail_at(0);
	is_int(rc, 0, "decoders: RESP, memcached and memcached UDP decoders initialise");
	ok(r[0].c.msgs > 0 && r[1].c.msgs > 0 && m[0].c.msgs > 0 && m[1].c.msgs > 0,
	   "decoders: they decoded messages (%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 ")",
	   r[0].c.msgs, r[1].c.msgs, m[0].c.msgs, m[1].c.msgs);
	is_int(used, 0, "decoders: RESP and memcached text/meta/binary/UDP decoding allocates nothing");
}

/* ---- TCP reassembly ---- */

#define RS_SEGS 48
#define RS_SEG_BYTES 100
#define RS_ISN 0xfffff000u /* the stream wraps past 2^32 */

static uint8_t pat(uint64_t off)
{
	uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ull;
	return (uint8_t)(x >> 40);
}

static uint8_t stream[RS_SEGS * RS_SEG_BYTES];

struct cover {
	uint64_t next, gaps, data;
	uint64_t sig;
	struct outcome *o;
};

static void cov_data(void *ctx, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts)
{
	struct cover *c = ctx;
	CT_UNUSED(ts);
	if (off != c->next)
		broken(c->o, "data offset skips or repeats");
	for (uint32_t i = 0; i < len; i++)
		if (off + i >= sizeof stream || p[i] != stream[off + i]) {
			broken(c->o, "delivered bytes differ from the stream");
			break;
		}
	c->next = off + len;
	c->data += len;
	mix_u64(&c->sig, off);
	mix_u64(&c->sig, len);
}

static void cov_gap(void *ctx, uint64_t off, uint64_t len, uint64_t ts)
{
	struct cover *c = ctx;
	CT_UNUSED(ts);
	if (off != c->next)
		broken(c->o, "gap offset skips or repeats");
	c->next = off + len;
	c->gaps++;
	mix_u64(&c->sig, off | (1ull << 63));
	mix_u64(&c->sig, len);
}

/* Segment order: 0 first, then a fixed shuffle of the rest (every one out of order). */
static uint32_t order[RS_SEGS];

static void build_reasm(void)
{
	for (size_t i = 0; i < sizeof stream; i++)
		stream[i] = pat(i);
	order[0] = 0;
	for (uint32_t i = 1; i < RS_SEGS; i++)
		order[i] = RS_SEGS - i; /* reversed: all but the last wait in the queue */
}

static void run_reasm(struct outcome *o)
{
	static const struct ct_reasm_cb cb = { cov_data, cov_gap };
	struct ct_reasm r;
	struct ct_reasm_shared sh;
	struct cover c = { 0, 0, 0, 0xcbf29ce484222325ull, o };
	memset(&sh, 0, sizeof sh);
	ct_reasm_init(&r);
	o->created = 1;
	uint64_t ts = 1000;
	(void)ct_reasm_segment(&r, &sh, RS_ISN, CT_TCP_SYN, NULL, 0, 0, ts, &cb, &c);
	for (uint32_t i = 0; i < RS_SEGS; i++) {
		uint32_t s = order[i];
		const uint8_t *p = stream + (size_t)s * RS_SEG_BYTES;
		uint32_t seq = RS_ISN + 1u + s * RS_SEG_BYTES;
		(void)ct_reasm_segment(&r, &sh, seq, CT_TCP_ACK, p, RS_SEG_BYTES, RS_SEG_BYTES,
				       ts += 1000, &cb, &c);
		if (sh.c.bytes_delivered > (uint64_t)(i + 1) * RS_SEG_BYTES)
			broken(o, "more bytes delivered than inserted");
	}
	ct_reasm_flush(&r, &sh, ts + 1000, &cb, &c);
	ct_reasm_free(&r, &sh);
	if (c.next != sizeof stream)
		broken(o, "the stream is not covered to its end");
	if (sh.mem_bytes != 0)
		broken(o, "queued memory still charged after the flush");
	o->sig = c.sig;
	o->counted = sh.c.cap_hits;
}

/* ---- the flow table ---- */

struct flowlog {
	uint64_t sig;
	uint64_t opened, closed, released;
};

static void fl_open(void *ctx, struct ct_conn *c)
{
	struct flowlog *l = ctx;
	l->opened++;
	mix_u64(&l->sig, c->id);
}

static void fl_data(void *ctx, struct ct_conn *c, int dir, uint64_t off, const uint8_t *p,
		    uint32_t len, uint64_t ts)
{
	struct flowlog *l = ctx;
	CT_UNUSED(ts);
	mix_u64(&l->sig, c->id * 2 + (uint64_t)dir);
	mix_u64(&l->sig, off);
	mix(&l->sig, p, len);
}

static void fl_gap(void *ctx, struct ct_conn *c, int dir, uint64_t off, uint64_t len,
		   uint64_t ts)
{
	struct flowlog *l = ctx;
	CT_UNUSED(ts);
	mix_u64(&l->sig, (c->id * 2 + (uint64_t)dir) | (1ull << 63));
	mix_u64(&l->sig, off);
	mix_u64(&l->sig, len);
}

static void fl_datagram(void *ctx, struct ct_conn *c, int dir, const uint8_t *p, uint32_t len,
			uint32_t wirelen, uint64_t ts)
{
	struct flowlog *l = ctx;
	CT_UNUSED(wirelen);
	CT_UNUSED(ts);
	mix_u64(&l->sig, c->id * 2 + (uint64_t)dir);
	mix(&l->sig, p, len);
}

static void fl_close(void *ctx, struct ct_conn *c)
{
	struct flowlog *l = ctx;
	l->closed++;
	mix_u64(&l->sig, c->close_reason);
}

static void fl_release(void *ctx, struct ct_conn *c)
{
	struct flowlog *l = ctx;
	CT_UNUSED(c);
	l->released++;
}

static struct ct_pkt mkpkt(int conn, int from_client, uint8_t flags, uint32_t seq,
			   const uint8_t *p, uint32_t len, uint64_t ts)
{
	struct ct_pkt k;
	memset(&k, 0, sizeof k);
	k.ts_ns = ts;
	k.src.family = k.dst.family = 4;
	uint8_t cli[4] = { 10, 0, 0, (uint8_t)(conn + 1) }, srv[4] = { 10, 0, 1, 1 };
	memcpy(k.src.a, from_client ? cli : srv, 4);
	memcpy(k.dst.a, from_client ? srv : cli, 4);
	uint16_t cport = (uint16_t)(40000 + conn), sport = conn >= 4 ? 11211 : 6379;
	k.sport = from_client ? cport : sport;
	k.dport = from_client ? sport : cport;
	k.l4 = conn >= 4 ? CT_L4_UDP : CT_L4_TCP;
	k.tcp_flags = k.l4 == CT_L4_TCP ? flags : 0;
	k.seq = seq;
	k.payload = p;
	k.payload_len = k.payload_wire_len = len;
	return k;
}

static void run_flow(struct outcome *o)
{
	static const struct ct_flow_cb cb = { fl_open, fl_data, fl_gap, fl_datagram, fl_close,
					      fl_release };
	struct flowlog l = { 0xcbf29ce484222325ull, 0, 0, 0 };
	struct ct_flow_opts fo = { .max_conns = 4 }; /* six flows: eviction runs too */
	struct ct_flow *ft = ct_flow_new(&fo, &cb, &l);
	if (!ft)
		return;
	o->created = 1;
	uint64_t ts = 1000000;
	const uint32_t isn_c = 1000, isn_s = 5000;
	/* four TCP connections, each: handshake, data out of order both ways, FIN */
	for (int conn = 0; conn < 4; conn++) {
		struct ct_pkt k;
		k = mkpkt(conn, 1, CT_TCP_SYN, isn_c, NULL, 0, ts += 1000);
		(void)ct_flow_packet(ft, &k);
		k = mkpkt(conn, 0, CT_TCP_SYN | CT_TCP_ACK, isn_s, NULL, 0, ts += 1000);
		(void)ct_flow_packet(ft, &k);
		for (int s = 5; s >= 0; s--) {
			k = mkpkt(conn, 1, CT_TCP_ACK, isn_c + 1 + (uint32_t)s * 100,
				  stream + s * 100, 100, ts += 1000);
			(void)ct_flow_packet(ft, &k);
			k = mkpkt(conn, 0, CT_TCP_ACK, isn_s + 1 + (uint32_t)s * 50, stream + 1000 + s * 50,
				  50, ts += 1000);
			(void)ct_flow_packet(ft, &k);
		}
		if (conn % 2 == 0) {
			k = mkpkt(conn, 1, CT_TCP_FIN | CT_TCP_ACK, isn_c + 601, NULL, 0, ts += 1000);
			(void)ct_flow_packet(ft, &k);
			k = mkpkt(conn, 0, CT_TCP_FIN | CT_TCP_ACK, isn_s + 301, NULL, 0, ts += 1000);
			(void)ct_flow_packet(ft, &k);
		}
	}
	/* two UDP flows */
	for (int conn = 4; conn < 6; conn++)
		for (int i = 0; i < 3; i++) {
			struct ct_pkt k = mkpkt(conn, i != 1, 0, 0, stream + 2000 + i * 10, 10,
						ts += 1000);
			(void)ct_flow_packet(ft, &k);
		}
	ct_flow_finish(ft);
	const struct ct_flow_stats *fs = ct_flow_stats(ft);
	o->counted = fs->alloc_fail + ct_flow_reasm_stats(ft)->c.cap_hits;
	if (l.opened != l.released || l.closed != l.released)
		broken(o, "connections opened, closed and released differ");
	if (fs->conns_live != 0)
		broken(o, "connections left in the table after finish");
	if (ct_flow_reasm_stats(ft)->mem_bytes != 0)
		broken(o, "reassembly memory still charged after finish");
	o->sig = l.sig;
	mix_u64(&o->sig, l.opened);
	ct_flow_free(ft);
}

/* ---- the SQLite store ---- */

static char db_path[256];

static void run_store(struct outcome *o)
{
	char err[256] = "";
	struct ct_sink *s = NULL;
	unlink(db_path);
	int rc = ct_store_open(&s, db_path, err, sizeof err);
	if (rc) {
		o->refusal = rc;
		if (s)
			broken(o, "a failed open returned a sink");
		if (!err[0])
			broken(o, "a failed open gave no message");
		return;
	}
	if (!s) {
		broken(o, "open succeeded without a sink");
		return;
	}
	o->created = 1;
	s->ops->meta(s, "source", "test");
	struct ct_node_rec nd = { "n1", "10.0.0.1:6379", "primary", "option", 0, 0 };
	s->ops->node(s, &nd);
	struct ct_conn_rec cr = { .id = 1, .proto = "tcp", .client = "10.0.0.2:40000",
				  .server = "10.0.0.1:6379", .orient = "syn", .app = "redis",
				  .close_reason = "fin" };
	s->ops->conn(s, &cr);
	for (int i = 0; i < 60; i++) {
		char key[32], detail[32];
		snprintf(key, sizeof key, "key:%d", i);
		snprintf(detail, sizeof detail, "detail %d", i);
		struct ct_event e = { .conn_id = 1, .ts_ns = 1000u + (uint64_t)i, .flags = CT_EV_HAS_KEY,
				      .db = 0, .proto = CT_PROTO_REDIS, .cls = CT_CLASS_WRITE,
				      .cmd = "SET", .cmd_len = 3, .key = (const uint8_t *)key,
				      .key_len = (uint32_t)strlen(key), .detail = detail };
		s->ops->event(s, &e);
		if (i == 30)
			s->ops->commit(s);
	}
	struct ct_drop_sample d = { 1, 2, 3, 4 };
	s->ops->drops(s, &d);
	struct ct_run_stats rs;
	memset(&rs, 0, sizeof rs);
	rs.events = 60;
	s->ops->run_stats(s, &rs);
	s->ops->commit(s);
	o->counted = s->errors;
	ct_sink_close(s);
}

/* The same rows through the writer thread (sink_async.c): the store allocates on that
 * thread, the test thread allocates nothing meanwhile, so N still names one allocation. */
static void run_store_async(struct outcome *o)
{
	char err[256] = "";
	struct ct_sink *inner = NULL, *s = NULL;
	unlink(db_path);
	int rc = ct_store_open(&inner, db_path, err, sizeof err);
	if (rc) {
		o->refusal = rc;
		return;
	}
	rc = ct_sink_async_new(inner, &s);
	if (rc) {
		o->refusal = rc;
		ct_sink_close(inner);
		return;
	}
	o->created = 1;
	for (int i = 0; i < 40; i++) {
		char key[32];
		snprintf(key, sizeof key, "key:%d", i);
		struct ct_event e = { .conn_id = 1, .ts_ns = 1000u + (uint64_t)i, .flags = CT_EV_HAS_KEY,
				      .db = 0, .proto = CT_PROTO_REDIS, .cls = CT_CLASS_DELETE,
				      .cmd = "DEL", .cmd_len = 3, .key = (const uint8_t *)key,
				      .key_len = (uint32_t)strlen(key) };
		s->ops->event(s, &e);
	}
	struct ct_conn_rec cr = { .id = 1, .proto = "tcp", .client = "10.0.0.2:40000",
				  .server = "10.0.0.1:6379", .orient = "syn", .app = "redis",
				  .close_reason = "fin" };
	s->ops->conn(s, &cr);
	s->ops->commit(s);
	/* the writer's errors are the inner sink's; read them once everything was applied */
	o->counted = inner->errors;
	ct_sink_close(s);
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The database after the run: when it opened, it must be a sound SQLite file, and what it
 * holds is the result compared with the run without a failure. */
static void verify_store(struct outcome *o)
{
	if (!o->created)
		return;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		broken(o, "the database does not open afterwards");
		sqlite3_close(db);
		return;
	}
	sqlite3_stmt *st = NULL;
	const unsigned char *ic = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW || !(ic = sqlite3_column_text(st, 0)) ||
	    strcmp((const char *)ic, "ok") != 0)
		broken(o, "PRAGMA integrity_check fails afterwards");
	sqlite3_finalize(st);
	static const char *const counts[] = {
		"SELECT count(*) FROM meta", "SELECT count(*) FROM nodes",
		"SELECT count(*) FROM connections", "SELECT count(*) FROM events",
		"SELECT count(*) FROM capture_drops", "SELECT count(*) FROM run_stats",
		"SELECT count(*) FROM timeline", "SELECT total(length(key)) FROM events",
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(counts); i++)
		mix_u64(&o->sig, (uint64_t)query_int(db, counts[i]));
	sqlite3_close(db);
}

/* ---- the whole pipeline, from pcap files ---- */

struct memsink {
	struct ct_sink base;
	uint64_t sig;
	struct ct_run_stats run;
	int have_run;
};

static int ms_meta(struct ct_sink *s, const char *k, const char *v)
{
	CT_UNUSED(s);
	CT_UNUSED(k);
	CT_UNUSED(v);
	return 0;
}

static int ms_conn(struct ct_sink *s, const struct ct_conn_rec *c)
{
	struct memsink *m = (struct memsink *)s;
	mix_u64(&m->sig, c->id);
	mix(&m->sig, c->client, strlen(c->client));
	mix(&m->sig, c->server, strlen(c->server));
	mix_u64(&m->sig, c->delivered_bytes[0] + c->delivered_bytes[1]);
	return 0;
}

static int ms_event(struct ct_sink *s, const struct ct_event *e)
{
	mix_event(&((struct memsink *)s)->sig, e);
	return 0;
}

static int ms_node(struct ct_sink *s, const struct ct_node_rec *n)
{
	mix(&((struct memsink *)s)->sig, n->endpoint, strlen(n->endpoint));
	return 0;
}

static int ms_drops(struct ct_sink *s, const struct ct_drop_sample *d)
{
	CT_UNUSED(s);
	CT_UNUSED(d);
	return 0;
}

static int ms_run(struct ct_sink *s, const struct ct_run_stats *r)
{
	struct memsink *m = (struct memsink *)s;
	m->run = *r;
	m->have_run = 1;
	return 0;
}

static int ms_commit(struct ct_sink *s)
{
	CT_UNUSED(s);
	return 0;
}

static void ms_close(struct ct_sink *s)
{
	CT_UNUSED(s);
}

static const struct ct_sink_ops memsink_ops = { ms_meta, ms_conn, ms_event, ms_node, ms_drops,
						ms_run,	 ms_commit, ms_close, NULL };

static char cap_paths[3][512];

static void run_pipeline(struct outcome *o)
{
	const char *paths[3] = { cap_paths[0], cap_paths[1], cap_paths[2] };
	char err[256] = "";
	struct ct_source *src = NULL;
	int rc = ct_source_open_files(&src, paths, 3, NULL, err, sizeof err);
	if (rc) {
		o->refusal = rc;
		if (src)
			broken(o, "a failed open returned a source");
		return;
	}
	struct memsink m;
	memset(&m, 0, sizeof m);
	m.base.ops = &memsink_ops;
	m.sig = 0xcbf29ce484222325ull;
	struct ct_pipeline_opts po;
	memset(&po, 0, sizeof po);
	ct_portmap_set(po.redis_ports, 6379);
	ct_portmap_set(po.memcached_ports, 11211);
	po.decode = CT_DECODE_ALL;
	po.values = CT_VALUES_HASH;
	po.command = "allocfail";
	struct ct_pipeline *p = ct_pipeline_new(&po, &m.base);
	if (!p) {
		ct_source_close(src);
		return;
	}
	o->created = 1;
	atomic_int stop = 0;
	if (ct_pipeline_run(p, src, &stop))
		broken(o, "the run failed");
	ct_pipeline_free(p);
	ct_source_close(src);
	if (!m.have_run) {
		broken(o, "no run totals written");
		return;
	}
	/* A gap or an overflow the run without failures did not have is a counted loss. */
	o->counted = m.run.alloc_failures + m.run.pending_overflow + m.run.gaps;
	o->sig = m.sig;
	mix_u64(&o->sig, m.run.events);
	mix_u64(&o->sig, m.run.connections);
}

static const struct scenario scenarios[] = {
	{ "redis_pair", run_redis, NULL },
	{ "mc_pair", run_mc, NULL },
	{ "reasm", run_reasm, NULL },
	{ "flow", run_flow, NULL },
	{ "http_pair", run_http, NULL },
	{ "store", run_store, verify_store },
	{ "store behind sink_async", run_store_async, verify_store },
	{ "pipeline", run_pipeline, NULL },
};

int main(void)
{
	const char *top = getenv("CT_TOP");
	static const char *const caps[3] = { "captures/public/zeek/pubsub.pcap",
					     "captures/public/packetbeat/memcache_bin_udp_multi_store.pcap",
					     "captures/public/deepflow/xiangdao-retrans.pcap" };
	for (int i = 0; i < 3; i++)
		snprintf(cap_paths[i], sizeof cap_paths[i], "%s%s%s", top ? top : "", top ? "/" : "",
			 caps[i]);
	/* Thousands of databases are written: on tmpfs their fsyncs cost nothing. */
	char dir[64];
	snprintf(dir, sizeof dir, "%s/ct-allocfail-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(db_path, sizeof db_path, "%s/t.db", dir);
	ct_alloc_fail_at(0); /* the shim counts from here on */

	build_redis();
	build_mc();
	build_reasm();
	build_http();
	decoders_allocate_nothing();

	/* The store logs its first error of each database on stderr: hundreds of lines here. */
	int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);
	for (size_t i = 0; i < CT_ARRAY_LEN(scenarios); i++) {
		fflush(stderr);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		sweep(&scenarios[i]);
		fflush(stderr);
		if (saved >= 0)
			dup2(saved, STDERR_FILENO);
	}
	if (devnull >= 0)
		close(devnull);
	if (saved >= 0)
		close(saved);

	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < CT_ARRAY_LEN(suffix); i++) {
		char p[300];
		snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return done_testing();
}
