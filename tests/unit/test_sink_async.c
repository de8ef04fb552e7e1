/* sink_async: the writer-thread sink applies every record to the inner sink, in order, with
 * its strings intact, whatever their size; commit() means "all applied"; close() closes the
 * inner sink. A recording sink logs what it is given; the same pseudo-random sequence is
 * applied directly and through the async sink, and the two logs must be identical. */
#include <stdarg.h>
#include <stdlib.h>

#include "cachetap/limits.h"
#include "cachetap/sink_async.h"
#include "tap.h"

struct rec_sink {
	struct ct_sink base;
	char *log;
	size_t len, cap;
	uint64_t applied; /* records seen */
	int commits, closed;
};

static void logf_(struct rec_sink *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct rec_sink *r, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(r->log + r->len, r->cap - r->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < r->cap - r->len) {
			r->len += (size_t)n;
			break;
		}
		r->cap = r->cap * 2 + (size_t)n + 64;
		r->log = realloc(r->log, r->cap);
		if (!r->log)
			abort();
	}
}

static const char *s_(const char *s)
{
	return s ? s : "(null)";
}

/* The log holds a digest of long byte strings, so it stays small. */
static uint64_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int r_meta(struct ct_sink *s, const char *k, const char *v)
{
	struct rec_sink *r = (struct rec_sink *)s;
	r->applied++;
	logf_(r, "M %s=%s\n", s_(k), s_(v));
	return 0;
}

static int r_conn(struct ct_sink *s, const struct ct_conn_rec *c)
{
	struct rec_sink *r = (struct rec_sink *)s;
	r->applied++;
	logf_(r, "C %" PRIu64 " %s %s %s %s %s %s %" PRIu64 " %" PRIu64 "\n", c->id, s_(c->proto),
	      s_(c->client), s_(c->server), s_(c->orient), s_(c->app), s_(c->close_reason),
	      c->pkts[0], c->delivered_bytes[1]);
	return 0;
}

static int r_event(struct ct_sink *s, const struct ct_event *e)
{
	struct rec_sink *r = (struct rec_sink *)s;
	r->applied++;
	r->base.rows++;
	logf_(r, "E %" PRIu64 " %" PRIu64 " %.*s key=%u:%016" PRIx64 " %s f=%u\n", e->conn_id,
	      e->ts_ns, (int)e->cmd_len, e->cmd ? e->cmd : "", e->key_len,
	      e->key ? fnv(e->key, e->key_len) : 0, s_(e->detail), e->flags);
	return 0;
}

static int r_node(struct ct_sink *s, const struct ct_node_rec *n)
{
	struct rec_sink *r = (struct rec_sink *)s;
	r->applied++;
	logf_(r, "N %s %s %s %s %" PRIu64 " %d\n", s_(n->name), s_(n->endpoint), s_(n->role),
	      s_(n->source), n->conn_id, n->client_side);
	return 0;
}

static int r_drops(struct ct_sink *s, const struct ct_drop_sample *d)
{
	struct rec_sink *r = (struct rec_sink *)s;
	r->applied++;
	logf_(r, "D %" PRIu64 " %" PRIu64 "\n", d->ts_ns, d->kernel_drops);
	return 0;
}

static int r_run(struct ct_sink *s, const struct ct_run_stats *st)
{
	struct rec_sink *r = (struct rec_sink *)s;
	r->applied++;
	r->base.errors = st->parse_errors; /* so the test sees errors propagate */
	logf_(r, "R %" PRIu64 " %" PRIu64 "\n", st->packets, st->events);
	return 0;
}

static int r_commit(struct ct_sink *s)
{
	struct rec_sink *r = (struct rec_sink *)s;
	r->commits++;
	logf_(r, "COMMIT\n");
	return 0;
}

static void r_close(struct ct_sink *s)
{
	((struct rec_sink *)s)->closed = 1;
}

static int r_api(struct ct_sink *s, const struct ct_api_call *a)
{
	struct rec_sink *r = (struct rec_sink *)s;
	r->applied++;
	logf_(r, "A %" PRIu64 " %s path=%u:%016" PRIx64 " %s %s %u %" PRIu64 "\n", a->conn_id,
	      s_(a->method), a->path_len, fnv(a->path, a->path_len), s_(a->request_id),
	      s_(a->traceparent), a->status, a->ts_end_ns);
	return 0;
}

static const struct ct_sink_ops rec_ops = { r_meta, r_conn, r_event, r_node,   r_drops,
					    r_run,  r_commit, r_close, r_api };

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint8_t big[3 * CT_ASYNC_ARENA_BYTES];
static char path[CT_ASYNC_ARENA_BYTES + 100]; /* an API call's path, now and then too big */

/* Applies the same sequence of N records (seeded) to sink `s`; returns records made. */
static uint64_t play(struct ct_sink *s, uint64_t seed, int n, struct rec_sink *inner,
		     int *commit_ok)
{
	rng = seed;
	uint64_t made = 0;
	char a[64], b[64];
	for (int i = 0; i < n; i++) {
		uint64_t r = next();
		switch (r % 16) {
		case 0: {
			snprintf(a, sizeof a, "k%d", i);
			snprintf(b, sizeof b, "v%" PRIu64, r);
			s->ops->meta(s, a, (r & 256) ? b : NULL);
			break;
		}
		case 1: {
			snprintf(a, sizeof a, "10.0.0.%d:%d", (int)(r % 250), i);
			struct ct_conn_rec c = { .id = (uint64_t)i, .proto = "tcp", .client = a,
						 .server = "10.0.0.1:6379", .orient = "syn",
						 .app = (r & 512) ? "redis" : NULL,
						 .close_reason = "fin" };
			c.pkts[0] = r >> 20;
			c.delivered_bytes[1] = r >> 30;
			s->ops->conn(s, &c);
			break;
		}
		case 2: {
			struct ct_node_rec nd = { "replica-1", "10.0.0.2:6380", "replica", "replconf",
						  (uint64_t)i, (int)(r & 1) };
			s->ops->node(s, &nd);
			break;
		}
		case 3: {
			struct ct_drop_sample d = { .ts_ns = r, .kernel_drops = (uint64_t)i };
			s->ops->drops(s, &d);
			break;
		}
		case 5: {
			/* An HTTP API call (api_call op), its path sometimes bigger than an arena. */
			size_t pl = (r >> 16) % 32 == 0 ? sizeof path - 1 : (size_t)((r >> 16) % 2000);
			memset(path, 'a' + (int)(r % 26), pl);
			path[pl] = '\0';
			struct ct_api_call ac = { .conn_id = r % 100, .method = (r & 2) ? "PUT" : "GET",
						  .path = path, .path_len = (uint32_t)pl,
						  .request_id = (r & 4) ? "req-1" : NULL,
						  .traceparent = (r & 8) ? "00-ab-cd-01" : NULL,
						  .status = (uint16_t)(r & 16 ? 200 : 0),
						  .ts_end_ns = r >> 5 };
			s->ops->api_call(s, &ac);
			break;
		}
		case 4:
			if ((r >> 8) % 8 == 0) {
				/* commit(): everything made so far has reached the inner sink */
				s->ops->commit(s);
				if (inner->applied != made)
					*commit_ok = 0;
				continue;
			}
			/* fall through */
		default: {
			/* Keys of every size, now and then bigger than a whole arena. */
			size_t kl = (r >> 16) % 64 == 0 ? sizeof big - (r >> 40) % 1000
							: (size_t)((r >> 16) % 3000);
			size_t ko = (r >> 32) % 1000;
			for (size_t j = 0; j < 8; j++)
				big[(ko + j * 7919) % sizeof big] ^= (uint8_t)(r >> j);
			if (ko + kl > sizeof big)
				kl = sizeof big - ko;
			struct ct_event e = { .conn_id = r % 100, .ts_ns = r >> 3, .flags = (uint32_t)i,
					      .cmd = (r & 2) ? "SET" : "DEL", .cmd_len = 3,
					      .key = (r & 4) ? big + ko : NULL,
					      .key_len = (r & 4) ? (uint32_t)kl : 0,
					      .detail = (r & 8) ? "keyspace del" : NULL };
			s->ops->event(s, &e);
			break;
		}
		}
		made++;
	}
	struct ct_run_stats st = { .packets = made, .events = 7, .parse_errors = 3 };
	s->ops->run_stats(s, &st);
	return made + 1;
}

int main(void)
{
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 131 + (i >> 9));
	static const uint64_t seeds[] = { 1, 42, 0x9e3779b97f4a7c15ull };
	for (size_t k = 0; k < CT_ARRAY_LEN(seeds); k++) {
		uint8_t saved[sizeof big];
		memcpy(saved, big, sizeof big);
		struct rec_sink direct = { .base.ops = &rec_ops };
		int dummy = 1;
		play(&direct.base, seeds[k], 20000, &direct, &dummy);
		direct.base.ops->commit(&direct.base);

		memcpy(big, saved, sizeof big);
		struct rec_sink *inner = calloc(1, sizeof *inner);
		inner->base.ops = &rec_ops;
		struct ct_sink *as = NULL;
		is_int(ct_sink_async_new(&inner->base, &as), 0, "seed %zu: async sink created", k);
		int commit_ok = 1;
		uint64_t made = play(as, seeds[k], 20000, inner, &commit_ok);
		ok(commit_ok, "seed %zu: at every commit() the inner sink had applied every record", k);
		as->ops->commit(as);
		is_int(inner->applied, made, "seed %zu: all %" PRIu64 " records applied", k, made);
		is_int(as->errors, 3, "seed %zu: the inner sink's error count is seen after commit",
		       k);
		is_int(as->rows, inner->base.rows, "seed %zu: and its row count", k);
		/* Both logs hold the COMMITs too, at the same places. */
		is_int(direct.len == inner->len && memcmp(direct.log, inner->log, direct.len) == 0,
		       1, "seed %zu: identical record logs, direct and through the writer thread (%zu"
		       " bytes)", k, inner->len);
		ct_sink_close(as);
		ok(inner->closed, "seed %zu: close() closes the inner sink", k);
		free(direct.log);
		free(inner->log);
		free(inner);
	}
	return done_testing();
}
