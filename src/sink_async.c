/* A sink that applies everything to another sink on a writer thread (sink_async.h).
 *
 * The producer fills one batch at a time: records (tagged copies of what the sink ops were
 * given) plus an arena for their strings. A full batch goes on a queue; the writer thread
 * takes batches in order, applies each record to the inner sink, and returns the batch to
 * the free list. Batches are allocated once (CT_ASYNC_BATCHES of them), so the steady state
 * allocates nothing. A record whose strings do not fit in an empty arena is applied by the
 * producer itself once the writer is idle, which keeps the order without a size limit. */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "cachetap/limits.h"
#include "cachetap/sink_async.h"

enum rec_kind { R_META, R_CONN, R_EVENT, R_NODE, R_DROPS, R_RUN, R_API };

struct rec {
	uint8_t kind;
	union {
		struct {
			const char *key, *value;
		} meta;
		struct ct_conn_rec conn;
		struct ct_event ev;
		struct ct_node_rec node;
		struct ct_drop_sample drop;
		struct ct_run_stats run;
		struct ct_api_call api;
	} u;
};

struct batch {
	struct batch *next;
	uint32_t nrec;
	size_t used; /* arena bytes */
	struct rec rec[CT_ASYNC_BATCH_RECORDS];
	char arena[CT_ASYNC_ARENA_BYTES];
};

struct async {
	struct ct_sink base;
	struct ct_sink *inner;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* any change of the fields below */
	struct batch *free_list; /* batches ready to fill */
	struct batch *head, *tail; /* full batches, oldest first */
	struct batch *cur;       /* the batch the producer fills (never on a list) */
	int busy;                /* the writer is applying a batch */
	int quit;
};

static void apply(struct ct_sink *in, const struct rec *r)
{
	switch (r->kind) {
	case R_META:
		in->ops->meta(in, r->u.meta.key, r->u.meta.value);
		break;
	case R_CONN:
		in->ops->conn(in, &r->u.conn);
		break;
	case R_EVENT:
		in->ops->event(in, &r->u.ev);
		break;
	case R_NODE:
		in->ops->node(in, &r->u.node);
		break;
	case R_DROPS:
		in->ops->drops(in, &r->u.drop);
		break;
	case R_RUN:
		in->ops->run_stats(in, &r->u.run);
		break;
	case R_API:
		if (in->ops->api_call)
			in->ops->api_call(in, &r->u.api);
		break;
	}
}

static void *writer(void *arg)
{
	struct async *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->head && !a->quit)
			pthread_cond_wait(&a->cv, &a->mu);
		struct batch *b = a->head;
		if (!b)
			break; /* quit, and nothing left */
		a->head = b->next;
		if (!a->head)
			a->tail = NULL;
		a->busy = 1;
		pthread_mutex_unlock(&a->mu);
		for (uint32_t i = 0; i < b->nrec; i++)
			apply(a->inner, &b->rec[i]);
		b->nrec = 0;
		b->used = 0;
		pthread_mutex_lock(&a->mu);
		b->next = a->free_list;
		a->free_list = b;
		a->busy = 0;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* Queues the current batch (if it holds anything) and takes a free one. */
static void hand_over(struct async *a)
{
	pthread_mutex_lock(&a->mu);
	if (a->cur->nrec) {
		a->cur->next = NULL;
		if (a->tail)
			a->tail->next = a->cur;
		else
			a->head = a->cur;
		a->tail = a->cur;
		a->cur = NULL;
		pthread_cond_broadcast(&a->cv);
		while (!a->free_list)
			pthread_cond_wait(&a->cv, &a->mu);
		a->cur = a->free_list;
		a->free_list = a->cur->next;
	}
	pthread_mutex_unlock(&a->mu);
}

/* Hands over everything and waits until the writer has applied it. */
static void drain(struct async *a)
{
	hand_over(a);
	pthread_mutex_lock(&a->mu);
	while (a->head || a->busy)
		pthread_cond_wait(&a->cv, &a->mu);
	a->base.rows = a->inner->rows;
	a->base.errors = a->inner->errors;
	pthread_mutex_unlock(&a->mu);
}

static size_t slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copies n bytes into the current arena (the caller checked they fit). */
static const void *keep(struct async *a, const void *p, size_t n)
{
	if (!p)
		return NULL;
	char *d = a->cur->arena + a->cur->used;
	memcpy(d, p, n);
	a->cur->used += n;
	return d;
}

static const char *keep_str(struct async *a, const char *s)
{
	return keep(a, s, slen(s));
}

/* Makes room for one record with `bytes` of strings. Returns the record slot, or NULL when
 * the strings can never fit in an arena: the caller then applies the record itself, after
 * drain(). */
static struct rec *slot(struct async *a, size_t bytes)
{
	if (bytes > CT_ASYNC_ARENA_BYTES) {
		drain(a);
		return NULL;
	}
	struct batch *b = a->cur;
	if (b->nrec == CT_ASYNC_BATCH_RECORDS || CT_ASYNC_ARENA_BYTES - b->used < bytes)
		hand_over(a);
	return &a->cur->rec[a->cur->nrec++];
}

static int as_meta(struct ct_sink *s, const char *key, const char *value)
{
	struct async *a = (struct async *)s;
	struct rec *r = slot(a, slen(key) + slen(value));
	if (!r)
		return a->inner->ops->meta(a->inner, key, value);
	r->kind = R_META;
	r->u.meta.key = keep_str(a, key);
	r->u.meta.value = keep_str(a, value);
	return 0;
}

static int as_conn(struct ct_sink *s, const struct ct_conn_rec *c)
{
	struct async *a = (struct async *)s;
	struct rec *r = slot(a, slen(c->proto) + slen(c->client) + slen(c->server) +
				    slen(c->orient) + slen(c->app) + slen(c->close_reason));
	if (!r)
		return a->inner->ops->conn(a->inner, c);
	r->kind = R_CONN;
	r->u.conn = *c;
	r->u.conn.proto = keep_str(a, c->proto);
	r->u.conn.client = keep_str(a, c->client);
	r->u.conn.server = keep_str(a, c->server);
	r->u.conn.orient = keep_str(a, c->orient);
	r->u.conn.app = keep_str(a, c->app);
	r->u.conn.close_reason = keep_str(a, c->close_reason);
	return 0;
}

static int as_event(struct ct_sink *s, const struct ct_event *e)
{
	struct async *a = (struct async *)s;
	size_t cmd = e->cmd ? e->cmd_len : 0, key = e->key ? e->key_len : 0;
	struct rec *r = slot(a, cmd + key + slen(e->detail));
	if (!r)
		return a->inner->ops->event(a->inner, e);
	r->kind = R_EVENT;
	r->u.ev = *e;
	r->u.ev.cmd = keep(a, e->cmd, cmd);
	r->u.ev.key = keep(a, e->key, key);
	r->u.ev.detail = keep_str(a, e->detail);
	return 0;
}

static int as_node(struct ct_sink *s, const struct ct_node_rec *n)
{
	struct async *a = (struct async *)s;
	struct rec *r = slot(a, slen(n->name) + slen(n->endpoint) + slen(n->role) +
				    slen(n->source));
	if (!r)
		return a->inner->ops->node(a->inner, n);
	r->kind = R_NODE;
	r->u.node = *n;
	r->u.node.name = keep_str(a, n->name);
	r->u.node.endpoint = keep_str(a, n->endpoint);
	r->u.node.role = keep_str(a, n->role);
	r->u.node.source = keep_str(a, n->source);
	return 0;
}

static int as_drops(struct ct_sink *s, const struct ct_drop_sample *d)
{
	struct async *a = (struct async *)s;
	struct rec *r = slot(a, 0);
	r->kind = R_DROPS;
	r->u.drop = *d;
	return 0;
}

static int as_run(struct ct_sink *s, const struct ct_run_stats *st)
{
	struct async *a = (struct async *)s;
	struct rec *r = slot(a, 0);
	r->kind = R_RUN;
	r->u.run = *st;
	return 0;
}

static int as_api(struct ct_sink *s, const struct ct_api_call *c)
{
	struct async *a = (struct async *)s;
	struct rec *r = slot(a, slen(c->method) + slen(c->path) + slen(c->request_id) +
				    slen(c->traceparent));
	if (!r)
		return a->inner->ops->api_call ? a->inner->ops->api_call(a->inner, c) : 0;
	r->kind = R_API;
	r->u.api = *c;
	r->u.api.method = keep_str(a, c->method);
	r->u.api.path = keep_str(a, c->path);
	r->u.api.request_id = keep_str(a, c->request_id);
	r->u.api.traceparent = keep_str(a, c->traceparent);
	return 0;
}

static int as_commit(struct ct_sink *s)
{
	struct async *a = (struct async *)s;
	drain(a);
	/* The writer is idle until the next hand_over, which only this thread makes. */
	int rc = a->inner->ops->commit(a->inner);
	a->base.errors = a->inner->errors;
	return rc;
}

static void free_all(struct async *a)
{
	struct batch *b;
	while ((b = a->free_list)) {
		a->free_list = b->next;
		ct_free(b);
	}
	ct_free(a->cur);
}

static void as_close(struct ct_sink *s)
{
	struct async *a = (struct async *)s;
	drain(a);
	pthread_mutex_lock(&a->mu);
	a->quit = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	ct_sink_close(a->inner);
	free_all(a);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	ct_free(a);
}

static const struct ct_sink_ops async_ops = {
	.meta = as_meta,
	.conn = as_conn,
	.event = as_event,
	.node = as_node,
	.drops = as_drops,
	.run_stats = as_run,
	.commit = as_commit,
	.close = as_close,
	.api_call = as_api,
};

int ct_sink_async_new(struct ct_sink *inner, struct ct_sink **out)
{
	*out = NULL;
	struct async *a = ct_calloc(1, sizeof *a);
	if (!a)
		return CT_ENOMEM;
	a->base.ops = &async_ops;
	a->inner = inner;
	a->cur = ct_malloc(sizeof *a->cur);
	if (!a->cur)
		goto nomem;
	a->cur->nrec = 0;
	a->cur->used = 0;
	for (unsigned i = 1; i < CT_ASYNC_BATCHES; i++) {
		struct batch *b = ct_malloc(sizeof *b);
		if (!b)
			goto nomem;
		b->nrec = 0;
		b->used = 0;
		b->next = a->free_list;
		a->free_list = b;
	}
	if (pthread_mutex_init(&a->mu, NULL)) {
		free_all(a);
		ct_free(a);
		return CT_EIO;
	}
	if (pthread_cond_init(&a->cv, NULL)) {
		pthread_mutex_destroy(&a->mu);
		free_all(a);
		ct_free(a);
		return CT_EIO;
	}
	/* Signals stay with the thread that decodes (its handler stops the run). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int started = pthread_create(&a->thread, NULL, writer, a) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!started) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		free_all(a);
		ct_free(a);
		return CT_EIO;
	}
	*out = &a->base;
	return 0;
nomem:
	free_all(a);
	ct_free(a);
	return CT_ENOMEM;
}
