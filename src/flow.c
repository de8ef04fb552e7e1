/* Flow table: maps each TCP/UDP packet to its connection, orients it, feeds TCP reassembly,
 * and retires connections on FIN, RST, idle, eviction or the end of the capture (flow.h).
 *
 * Connections live in a chained hash table keyed by the canonical 5-tuple (the two endpoints
 * in a fixed order, so both directions hash alike) and hashed with XXH3. Open connections are
 * kept on an LRU list (least recently active first) for idle expiry and eviction; closed ones
 * wait on a FIFO list for CT_FLOW_LINGER_NS so late packets land in them. Idle expiry runs on
 * capture time, never wall time, so a replay gives the same result at any speed.
 *
 * Limits: CT_FLOW_MAX_CONNS connections (least recently used evicted, counted),
 * CT_REASM_MEM_MAX_BYTES of out-of-order data over all connections. */
#include <string.h>
#include <xxhash.h>

#include "cachetap/flow.h"
#include "cachetap/limits.h"

struct list {
	struct ct_conn *head, *tail;
};

struct ct_flow {
	struct ct_flow_cb cb;
	void *ctx;
	uint8_t server_ports[CT_PORTMAP_BYTES];
	int have_server_ports;
	uint32_t max_conns;
	uint64_t idle_ns, linger_ns;
	uint64_t next_scan_ns;
	uint64_t next_id;
	struct ct_conn **buckets;
	uint64_t nbuckets; /* power of two */
	struct list live;   /* open connections, least recently active first */
	struct list closed; /* closed, lingering, oldest first */
	struct ct_reasm_shared reasm;
	struct ct_flow_stats st;
};

/* Canonical key: the smaller endpoint first, so both directions give the same key. */
struct key {
	uint8_t l4, family;
	uint16_t port_a, port_b;
	uint8_t a[16], b[16];
};

static int endpoint_cmp(const struct ct_ip *x, uint16_t xp, const struct ct_ip *y, uint16_t yp)
{
	int c = memcmp(x->a, y->a, 16);
	if (c)
		return c;
	return (int)xp - (int)yp;
}

static uint64_t packet_hash(const struct ct_pkt *p)
{
	struct key k;
	memset(&k, 0, sizeof k);
	k.l4 = p->l4;
	k.family = p->src.family;
	if (endpoint_cmp(&p->src, p->sport, &p->dst, p->dport) <= 0) {
		memcpy(k.a, p->src.a, 16);
		memcpy(k.b, p->dst.a, 16);
		k.port_a = p->sport;
		k.port_b = p->dport;
	} else {
		memcpy(k.a, p->dst.a, 16);
		memcpy(k.b, p->src.a, 16);
		k.port_a = p->dport;
		k.port_b = p->sport;
	}
	return XXH3_64bits(&k, sizeof k);
}

static int ip_eq(const struct ct_ip *x, const struct ct_ip *y)
{
	return x->family == y->family && memcmp(x->a, y->a, 16) == 0;
}

/* Which direction the packet travels in c, or -1 when it is not c's. */
static int packet_dir(const struct ct_conn *c, const struct ct_pkt *p)
{
	if (c->l4 != p->l4)
		return -1;
	if (c->cli_port == p->sport && c->srv_port == p->dport && ip_eq(&c->cli_ip, &p->src) &&
	    ip_eq(&c->srv_ip, &p->dst))
		return CT_C2S;
	if (c->srv_port == p->sport && c->cli_port == p->dport && ip_eq(&c->srv_ip, &p->src) &&
	    ip_eq(&c->cli_ip, &p->dst))
		return CT_S2C;
	return -1;
}

/* ---- intrusive lists ---- */

static void list_remove(struct list *l, struct ct_conn *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		l->head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		l->tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void list_append(struct list *l, struct ct_conn *c)
{
	c->lru_next = NULL;
	c->lru_prev = l->tail;
	if (l->tail)
		l->tail->lru_next = c;
	else
		l->head = c;
	l->tail = c;
}

/* ---- hash table ---- */

static struct ct_conn **bucket(struct ct_flow *ft, uint64_t hash)
{
	return &ft->buckets[hash & (ft->nbuckets - 1)];
}

static void unhash(struct ct_flow *ft, struct ct_conn *c)
{
	struct ct_conn **pp = bucket(ft, c->hash);
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	c->hnext = NULL;
}

/* Finds the connection of a packet. When several share the 4-tuple (an old one lingering
 * while a new one runs), the open one comes first because new connections are pushed at the
 * head of their chain. */
static struct ct_conn *lookup(struct ct_flow *ft, uint64_t hash, const struct ct_pkt *p, int *dir)
{
	for (struct ct_conn *c = *bucket(ft, hash); c; c = c->hnext) {
		if (c->hash != hash)
			continue;
		int d = packet_dir(c, p);
		if (d >= 0) {
			*dir = d;
			return c;
		}
	}
	return NULL;
}

/* ---- delivery from reassembly to the consumer ---- */

struct dctx {
	struct ct_flow *ft;
	struct ct_conn *c;
	int dir;
};

static void on_data(void *ctx, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	struct dctx *d = ctx;
	if (d->ft->cb.data)
		d->ft->cb.data(d->ft->ctx, d->c, d->dir, off, p, len, ts_ns);
}

static void on_gap(void *ctx, uint64_t off, uint64_t len, uint64_t ts_ns)
{
	struct dctx *d = ctx;
	if (d->ft->cb.gap)
		d->ft->cb.gap(d->ft->ctx, d->c, d->dir, off, len, ts_ns);
}

static const struct ct_reasm_cb reasm_cb = { on_data, on_gap };

/* ---- connection life cycle ---- */

/* Ends the streams: delivers whatever is queued, then tells the consumer. */
static void conn_close(struct ct_flow *ft, struct ct_conn *c, enum ct_close_reason why,
		       uint64_t now_ns)
{
	if (c->closed)
		return;
	if (c->l4 == CT_L4_TCP) {
		for (int dir = 0; dir < 2; dir++) {
			struct dctx d = { ft, c, dir };
			ct_reasm_flush(&c->r[dir], &ft->reasm, now_ns, &reasm_cb, &d);
		}
	}
	c->closed = 1;
	c->close_reason = (uint8_t)why;
	switch (why) {
	case CT_CLOSE_FIN: ft->st.closed_fin++; break;
	case CT_CLOSE_RST: ft->st.closed_rst++; break;
	case CT_CLOSE_IDLE: ft->st.expired_idle++; break;
	case CT_CLOSE_EVICT: ft->st.evicted++; break;
	case CT_CLOSE_REUSE: ft->st.reused++; break;
	case CT_CLOSE_END: ft->st.ended++; break;
	case CT_CLOSE_NONE: break;
	}
	if (ft->cb.close)
		ft->cb.close(ft->ctx, c);
	list_remove(&ft->live, c);
	c->linger_until_ns = now_ns + ft->linger_ns;
	list_append(&ft->closed, c);
}

/* Takes a closed connection out of the table for good. */
static void conn_release(struct ct_flow *ft, struct ct_conn *c)
{
	if (ft->cb.release)
		ft->cb.release(ft->ctx, c);
	list_remove(&ft->closed, c);
	unhash(ft, c);
	for (int dir = 0; dir < 2; dir++)
		ct_reasm_free(&c->r[dir], &ft->reasm);
	ft->st.conns_live--;
	ct_free(c);
}

static void close_and_release(struct ct_flow *ft, struct ct_conn *c, enum ct_close_reason why,
			      uint64_t now_ns)
{
	conn_close(ft, c, why, now_ns);
	conn_release(ft, c);
}

/* Idle expiry and the end of lingering, on capture time, at most once per scan period. */
static void expire(struct ct_flow *ft, uint64_t now_ns)
{
	if (now_ns < ft->next_scan_ns)
		return;
	ft->next_scan_ns = now_ns + CT_FLOW_EXPIRE_SCAN_NS;
	while (ft->closed.head && ft->closed.head->linger_until_ns <= now_ns)
		conn_release(ft, ft->closed.head);
	while (ft->live.head && ft->live.head->last_ts_ns + ft->idle_ns <= now_ns)
		close_and_release(ft, ft->live.head, CT_CLOSE_IDLE, now_ns);
}

/* Decides who is the client of a new connection from its first packet. */
static void orient(struct ct_flow *ft, struct ct_conn *c, const struct ct_pkt *p)
{
	int src_is_client;
	if (p->l4 == CT_L4_TCP && (p->tcp_flags & CT_TCP_SYN)) {
		/* SYN comes from the client; SYN+ACK from the server. */
		src_is_client = !(p->tcp_flags & CT_TCP_ACK);
		c->orient = CT_ORIENT_SYN;
	} else if (ft->have_server_ports &&
		   ct_portmap_has(ft->server_ports, p->dport) !=
			   ct_portmap_has(ft->server_ports, p->sport)) {
		src_is_client = ct_portmap_has(ft->server_ports, p->dport);
		c->orient = CT_ORIENT_PORT;
	} else {
		/* Servers usually listen on the lower port; a decoder may know better. */
		src_is_client = p->sport >= p->dport;
		c->orient = CT_ORIENT_GUESS;
	}
	if (src_is_client) {
		c->cli_ip = p->src, c->cli_port = p->sport;
		c->srv_ip = p->dst, c->srv_port = p->dport;
	} else {
		c->cli_ip = p->dst, c->cli_port = p->dport;
		c->srv_ip = p->src, c->srv_port = p->sport;
	}
}

static struct ct_conn *conn_new(struct ct_flow *ft, uint64_t hash, const struct ct_pkt *p)
{
	/* Make room: lingering connections go first, then the least recently active. */
	while (ft->st.conns_live >= ft->max_conns) {
		if (ft->closed.head)
			conn_release(ft, ft->closed.head);
		else if (ft->live.head)
			close_and_release(ft, ft->live.head, CT_CLOSE_EVICT, p->ts_ns);
		else
			break;
	}
	struct ct_conn *c = ct_calloc(1, sizeof *c);
	if (!c) {
		ft->st.alloc_fail++;
		return NULL;
	}
	c->id = ++ft->next_id;
	c->l4 = p->l4;
	c->hash = hash;
	c->first_ts_ns = c->last_ts_ns = p->ts_ns;
	ct_reasm_init(&c->r[0]);
	ct_reasm_init(&c->r[1]);
	orient(ft, c, p);
	struct ct_conn **b = bucket(ft, hash);
	c->hnext = *b;
	*b = c;
	list_append(&ft->live, c);
	ft->st.conns++;
	ft->st.conns_live++;
	if (p->l4 == CT_L4_TCP && !(p->tcp_flags & CT_TCP_SYN))
		ft->st.midstream++;
	if (ft->cb.open)
		ft->cb.open(ft->ctx, c);
	return c;
}

/* A SYN on a known 4-tuple: the same handshake again, or a new connection? */
static int syn_starts_new(const struct ct_conn *c, int dir, const struct ct_pkt *p)
{
	if (c->closed)
		return 1;
	const struct ct_reasm *r = &c->r[dir];
	if (!(r->flags & CT_REASM_F_STARTED))
		return 0; /* first SYN (or SYN+ACK) of this direction */
	if (!(r->flags & CT_REASM_F_SYN))
		return 1; /* data flowed before any SYN: this is someone new */
	/* A retransmitted SYN carries the same ISN; reasm knows it as next_off 0 at ISN+1. */
	return !(r->next_off == 0 && r->next_seq == p->seq + 1u);
}

int ct_flow_packet(struct ct_flow *ft, const struct ct_pkt *p)
{
	int dir = CT_C2S;
	ft->st.packets++;
	expire(ft, p->ts_ns);

	uint64_t hash = packet_hash(p);
	struct ct_conn *c = lookup(ft, hash, p, &dir);

	if (c && p->l4 == CT_L4_TCP && (p->tcp_flags & CT_TCP_SYN) && syn_starts_new(c, dir, p)) {
		if (!c->closed)
			conn_close(ft, c, CT_CLOSE_REUSE, p->ts_ns);
		conn_release(ft, c);
		c = NULL;
	}
	if (!c) {
		c = conn_new(ft, hash, p);
		if (!c)
			return CT_ENOMEM;
		dir = packet_dir(c, p);
	}

	c->pkts[dir]++;
	c->payload_bytes[dir] += p->payload_wire_len;
	if (p->ts_ns > c->last_ts_ns)
		c->last_ts_ns = p->ts_ns;
	if (c->closed)
		return 0; /* a late packet of a closed connection: counted, absorbed */
	if (ft->live.tail != c) {
		list_remove(&ft->live, c);
		list_append(&ft->live, c);
	}

	if (p->l4 == CT_L4_UDP) {
		if (ft->cb.datagram)
			ft->cb.datagram(ft->ctx, c, dir, p->payload, p->payload_len,
					p->payload_wire_len, p->ts_ns);
		return 0;
	}

	struct dctx d = { ft, c, dir };
	/* A segment reassembly could not queue is counted there (cap_hits) and becomes a gap;
	 * the connection goes on, so there is nothing more to do with the result here. */
	if (p->payload_wire_len || (p->tcp_flags & (CT_TCP_SYN | CT_TCP_FIN)))
		(void)ct_reasm_segment(&c->r[dir], &ft->reasm, p->seq, p->tcp_flags, p->payload,
				      p->payload_len, p->payload_wire_len, p->ts_ns, &reasm_cb, &d);
	/* Holes wait on capture time; any packet of the connection moves its clock. */
	for (int i = 0; i < 2; i++) {
		if (ct_reasm_pending(&c->r[i])) {
			struct dctx di = { ft, c, i };
			ct_reasm_tick(&c->r[i], &ft->reasm, p->ts_ns, &reasm_cb, &di);
		}
	}
	if (p->tcp_flags & CT_TCP_RST)
		conn_close(ft, c, CT_CLOSE_RST, p->ts_ns);
	else if ((c->r[0].flags & CT_REASM_F_DONE) && (c->r[1].flags & CT_REASM_F_DONE))
		conn_close(ft, c, CT_CLOSE_FIN, p->ts_ns);
	return 0;
}

void ct_flow_finish(struct ct_flow *ft)
{
	while (ft->live.head) {
		struct ct_conn *c = ft->live.head;
		conn_close(ft, c, CT_CLOSE_END, c->last_ts_ns);
	}
	while (ft->closed.head)
		conn_release(ft, ft->closed.head);
}

void ct_flow_swap(struct ct_flow *ft, struct ct_conn *c)
{
	CT_UNUSED(ft);
	struct ct_ip ip = c->cli_ip;
	uint16_t port = c->cli_port;
	c->cli_ip = c->srv_ip, c->cli_port = c->srv_port;
	c->srv_ip = ip, c->srv_port = port;
	uint64_t t = c->pkts[0];
	c->pkts[0] = c->pkts[1], c->pkts[1] = t;
	t = c->payload_bytes[0];
	c->payload_bytes[0] = c->payload_bytes[1], c->payload_bytes[1] = t;
	struct ct_reasm r = c->r[0];
	c->r[0] = c->r[1], c->r[1] = r;
	c->orient = CT_ORIENT_DECODER;
}

const struct ct_flow_stats *ct_flow_stats(const struct ct_flow *ft)
{
	return &ft->st;
}

const struct ct_reasm_shared *ct_flow_reasm_stats(const struct ct_flow *ft)
{
	return &ft->reasm;
}

struct ct_flow *ct_flow_new(const struct ct_flow_opts *o, const struct ct_flow_cb *cb, void *ctx)
{
	struct ct_flow *ft = ct_calloc(1, sizeof *ft);
	if (!ft)
		return NULL;
	ft->cb = *cb;
	ft->ctx = ctx;
	ft->max_conns = o && o->max_conns ? o->max_conns : CT_FLOW_MAX_CONNS;
	ft->idle_ns = o && o->idle_ns ? o->idle_ns : CT_FLOW_IDLE_NS;
	ft->linger_ns = o && o->linger_ns ? o->linger_ns : CT_FLOW_LINGER_NS;
	ft->reasm.mem_max_bytes =
		o && o->reasm_mem_max_bytes ? o->reasm_mem_max_bytes : CT_REASM_MEM_MAX_BYTES;
	if (o && o->server_ports) {
		memcpy(ft->server_ports, o->server_ports, CT_PORTMAP_BYTES);
		ft->have_server_ports = 1;
	}
	/* About two buckets per connection keeps chains short at the cap. */
	ft->nbuckets = 1;
	while (ft->nbuckets < 2ull * ft->max_conns)
		ft->nbuckets <<= 1;
	ft->buckets = ct_calloc(ft->nbuckets, sizeof *ft->buckets);
	if (!ft->buckets) {
		ct_free(ft);
		return NULL;
	}
	return ft;
}

void ct_flow_free(struct ct_flow *ft)
{
	if (!ft)
		return;
	struct list *lists[] = { &ft->live, &ft->closed };
	for (size_t i = 0; i < CT_ARRAY_LEN(lists); i++) {
		while (lists[i]->head) {
			struct ct_conn *c = lists[i]->head;
			list_remove(lists[i], c);
			for (int dir = 0; dir < 2; dir++)
				ct_reasm_free(&c->r[dir], &ft->reasm);
			ct_free(c);
		}
	}
	ct_free(ft->buckets);
	ct_free(ft);
}
