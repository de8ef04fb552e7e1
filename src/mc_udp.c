/* memcached over UDP: parses the 8-byte frame header (memcached doc/protocol.txt, "UDP
 * protocol") and puts each request id's datagrams back in sequence order before feeding them
 * to a decoder, each response starting at a message boundary.
 *
 * Limits (limits.h): at most CT_MC_UDP_SLOTS datagrams of up to CT_MC_UDP_SLOT_BYTES wait
 * out of order; a response missing datagrams is given up when the slots are full, when a
 * datagram of another response arrives more than CT_MC_UDP_WAIT_NS after its latest one, or
 * at flush. Lost datagrams are counted and the decoder resyncs over the hole (its length is
 * not known, so it cannot be skipped like a TCP gap). */
#include <string.h>

#include "cachetap/mc.h"

/* Frame header, all big endian:
 *
 *   0       2       4       6       8
 *   +-------+-------+-------+-------+---------
 *   | reqid |  seq  | total | rsvd  | payload
 *   +-------+-------+-------+-------+---------
 */
int ct_mc_udp_hdr_parse(const uint8_t *p, size_t len, struct ct_mc_udp_hdr *h)
{
	if (!p || len < 8)
		return CT_ETRUNC;
	h->req_id = (uint16_t)(p[0] << 8 | p[1]);
	h->seq = (uint16_t)(p[2] << 8 | p[3]);
	h->total = (uint16_t)(p[4] << 8 | p[5]);
	h->reserved = (uint16_t)(p[6] << 8 | p[7]);
	if (h->total == 0 || h->seq >= h->total)
		return CT_EPROTO;
	return 0;
}

int ct_mc_udp_init(struct ct_mc_udp *u, enum ct_mc_side side, const struct ct_mc_opts *o,
		   const struct ct_mc_cb *cb, void *ctx)
{
	struct ct_mc_opts opts = { CT_MC_VALUES_HASH, CT_MC_FRAMING_AUTO, 0, 0 };
	if (!u)
		return CT_EINVAL;
	if (o)
		opts = *o;
	opts.midstream = 0; /* every datagram sequence 0 starts a message */
	u->off = 0;
	u->last_ts_ns = 0;
	u->cur_id = u->cur_total = u->next_seq = 0;
	u->active = 0;
	u->nused = 0;
	memset(&u->c, 0, sizeof u->c);
	for (unsigned i = 0; i < CT_MC_UDP_SLOTS; i++)
		u->slot[i].used = 0;
	int r = ct_mc_init(&u->dec, side, &opts, cb, ctx);
	if (r)
		return r;
	u->dec.udp = 1;
	return 0;
}

/* The current response has had its last datagram (or is given up). */
static void complete(struct ct_mc_udp *u)
{
	if (u->cur_lost)
		u->c.incomplete++;
	else
		u->c.responses++;
	u->active = 0;
}

static void begin(struct ct_mc_udp *u, uint16_t id, uint16_t total)
{
	u->active = 1;
	u->cur_id = id;
	u->cur_total = total;
	u->next_seq = 0;
	u->cur_lost = 0;
	u->dec.udp_id = id;
	ct_mc_boundary(&u->dec);
}

/* Feeds datagram `seq` of the current response; a hole before it is lost. */
static void deliver(struct ct_mc_udp *u, uint16_t seq, const uint8_t *p, uint32_t len,
		    uint64_t ts_ns)
{
	if (seq > u->next_seq) {
		u->c.lost += (uint64_t)(seq - u->next_seq);
		u->cur_lost = 1;
		ct_mc_resync(&u->dec);
	}
	u->dec.udp_id = u->cur_id;
	(void)ct_mc_data(&u->dec, u->off, p, len, ts_ns);
	u->off += len;
	u->next_seq = (uint16_t)(seq + 1);
	u->last_ts_ns = ts_ns;
	if (u->next_seq == u->cur_total)
		complete(u);
}

static int stash(struct ct_mc_udp *u, const struct ct_mc_udp_hdr *h, const uint8_t *p,
		 uint32_t len, uint64_t ts_ns)
{
	if (len > CT_MC_UDP_SLOT_BYTES)
		return 0;
	for (unsigned i = 0; i < CT_MC_UDP_SLOTS; i++) {
		struct ct_mc_udp_slot *s = &u->slot[i];
		if (s->used)
			continue;
		s->used = 1;
		s->req_id = h->req_id;
		s->seq = h->seq;
		s->total = h->total;
		s->len = len;
		s->ts_ns = ts_ns;
		memcpy(s->buf, p, len);
		u->nused++;
		return 1;
	}
	return 0;
}

static void unstash(struct ct_mc_udp *u, struct ct_mc_udp_slot *s)
{
	s->used = 0;
	u->nused--;
}

/* The waiting datagram of the current response with the lowest seq (dropping duplicates of
 * what was delivered), or NULL. */
static struct ct_mc_udp_slot *lowest_of_current(struct ct_mc_udp *u)
{
	struct ct_mc_udp_slot *best = NULL;
	for (unsigned i = 0; i < CT_MC_UDP_SLOTS; i++) {
		struct ct_mc_udp_slot *s = &u->slot[i];
		if (!s->used || s->req_id != u->cur_id || s->total != u->cur_total)
			continue;
		if (s->seq < u->next_seq) {
			u->c.duplicates++;
			unstash(u, s);
			continue;
		}
		if (!best || s->seq < best->seq)
			best = s;
	}
	return best;
}

/* The oldest waiting datagram, preferring the start of a response. */
static struct ct_mc_udp_slot *oldest(struct ct_mc_udp *u, int want_start)
{
	struct ct_mc_udp_slot *best = NULL;
	for (unsigned i = 0; i < CT_MC_UDP_SLOTS; i++) {
		struct ct_mc_udp_slot *s = &u->slot[i];
		if (!s->used || (want_start && s->seq != 0))
			continue;
		if (!best || s->ts_ns < best->ts_ns)
			best = s;
	}
	return best;
}

/* Delivers whatever is now in order, and starts waiting responses that begin with seq 0. */
static void drain(struct ct_mc_udp *u)
{
	for (;;) {
		struct ct_mc_udp_slot *s;
		if (u->active) {
			s = lowest_of_current(u);
			if (!s || s->seq != u->next_seq)
				return;
		} else {
			s = oldest(u, 1);
			if (!s)
				return;
			begin(u, s->req_id, s->total);
		}
		deliver(u, s->seq, s->buf, s->len, s->ts_ns);
		unstash(u, s);
	}
}

/* Stops waiting for the current response: what of it is waiting is delivered in order, the
 * rest is lost. */
static void give_up(struct ct_mc_udp *u)
{
	struct ct_mc_udp_slot *s;
	while (u->active && (s = lowest_of_current(u)) != NULL) {
		deliver(u, s->seq, s->buf, s->len, s->ts_ns);
		unstash(u, s);
	}
	if (u->active) {
		u->c.lost += (uint64_t)(u->cur_total - u->next_seq);
		u->cur_lost = 1;
		complete(u);
		ct_mc_resync(&u->dec);
	}
	drain(u);
}

/* Delivers datagram h of the current response now, without waiting for the hole before it. */
static void skip_hole(struct ct_mc_udp *u, const struct ct_mc_udp_hdr *h, const uint8_t *p,
		      uint32_t len, uint64_t ts_ns)
{
	struct ct_mc_udp_slot *s;
	while (u->active && (s = lowest_of_current(u)) != NULL && s->seq < h->seq) {
		deliver(u, s->seq, s->buf, s->len, s->ts_ns);
		unstash(u, s);
	}
	if (u->active && h->seq >= u->next_seq)
		deliver(u, h->seq, p, len, ts_ns);
	else
		u->c.duplicates++;
	drain(u);
}

int ct_mc_udp_datagram(struct ct_mc_udp *u, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	struct ct_mc_udp_hdr h;
	u->c.datagrams++;
	int r = ct_mc_udp_hdr_parse(p, len, &h);
	if (r) {
		u->c.bad_headers++;
		return r;
	}
	const uint8_t *pl = p + 8;
	uint32_t plen = len - 8;

	/* Each pass either handles the datagram or gives up one waiting response, which empties
	 * at least one slot or the current response; so this ends. */
	for (;;) {
		if (u->active && h.req_id == u->cur_id && h.total == u->cur_total) {
			if (h.seq < u->next_seq) {
				u->c.duplicates++;
			} else if (h.seq == u->next_seq) {
				deliver(u, h.seq, pl, plen, ts_ns);
				drain(u);
			} else if (stash(u, &h, pl, plen, ts_ns)) {
				u->c.reordered++;
			} else {
				skip_hole(u, &h, pl, plen, ts_ns); /* no room to wait for the hole */
			}
			return 0;
		}
		if (u->active) {
			/* another response while this one is missing datagrams: wait a little */
			int stale = ts_ns > u->last_ts_ns && ts_ns - u->last_ts_ns > CT_MC_UDP_WAIT_NS;
			if (!stale && stash(u, &h, pl, plen, ts_ns)) {
				u->c.reordered++;
				return 0;
			}
			give_up(u);
			continue;
		}
		if (h.seq == 0) {
			begin(u, h.req_id, h.total);
			deliver(u, h.seq, pl, plen, ts_ns);
			drain(u);
			return 0;
		}
		/* a later datagram of a response whose start has not come (yet) */
		if (stash(u, &h, pl, plen, ts_ns)) {
			u->c.reordered++;
			return 0;
		}
		struct ct_mc_udp_slot *s = oldest(u, 0);
		if (s) {
			/* full: the oldest waiting response goes ahead as it is */
			begin(u, s->req_id, s->total);
			give_up(u);
			continue;
		}
		begin(u, h.req_id, h.total);
		skip_hole(u, &h, pl, plen, ts_ns);
		return 0;
	}
}

void ct_mc_udp_flush(struct ct_mc_udp *u, uint64_t ts_ns)
{
	while (u->active || u->nused) {
		if (!u->active) {
			struct ct_mc_udp_slot *s = oldest(u, 0);
			begin(u, s->req_id, s->total);
		}
		give_up(u);
	}
	ct_mc_end(&u->dec, ts_ns);
}
