/* The memcached protocol module: pairs each connection's requests with their replies and turns
 * them into timeline events (SPEC sections 3 and 5), over the decoders of mc.h, for the text,
 * meta and binary protocols on TCP and for memcached's UDP frames.
 *
 * Specs: memcached doc/protocol.txt (1.6: text, meta, quiet mode, UDP) and the binary protocol
 * (protocol_binary.h). What each command and reply means lives in the table (cmdtab_mc.c);
 * this file only pairs.
 *
 * Pairing. memcached answers the requests of one connection in order, so the pending
 * requests form a FIFO and a reply belongs to the oldest pending request it fits: its reply
 * words fit the request's reply kind, a meta O token or returned key (k) equals the
 * request's, a binary reply has the request's opcode and opaque, a UDP reply the request id
 * of its frame. Requests a reply passes over were either quiet (meta q, binary ...Q: their
 * common answer is suppressed, and the later reply proves the server did them, so they take
 * the table's quiet status: a quiet mg or GETQ was a miss, a quiet ms/md/SETQ/DELETEQ was ok)
 * or had their reply lost (unanswered). mn and NOOP are just such later replies. Without O or
 * k a quiet mg hit cannot be told from the next request's hit: the earliest one takes it.
 * A multi-key get's VALUE lines come for its hits in request order and END closes it: every
 * key gets one event, a hit with the value's fingerprint or a miss, timed at the reply line
 * that decided it. noreply requests (and text quit, binary QUITQ) get their event at once,
 * status noreply; the decoder's rejects (bad arguments, key too long, bad base64 or data
 * chunk) get status error instead, since memcached refuses them silently.
 *
 * Decisions:
 *  - Events are anchored on requests: ts_ns/first_ts_ns are the request's last/first byte,
 *    dir is c2s, latency is the reply's last byte minus the request's last byte. A reply with
 *    no request (mid-stream pickup) is counted in unmatched_replies and emits nothing, even a
 *    VALUE with its key: without the request we know neither when it was asked nor whether it
 *    was part of a larger get.
 *  - Every request is an event, keyless commands (stats, version, mn, flush_all...) included.
 *  - Until the first reply pairs on a mid-stream connection, and after a gap, a reply whose
 *    first byte was captured before a request's last byte cannot answer it (it answers
 *    something we never saw).
 *  - A gap on either side that the decoder could not step over flushes every pending request
 *    as unanswered: after it, which reply answers what is not knowable.
 *  - The connection's end flushes pending requests as unanswered, quiet ones too: no later
 *    reply proved they were done.
 *
 * Limits (limits.h, CT_MC_PAIR_*): PENDING_MAX requests wait per connection and their keys
 * share an ARENA_MAX_BYTES arena. A request that does not fit is counted in pending_overflow
 * and pairing stops on the connection: pending requests are flushed as unanswered, new ones are
 * recorded at once as unanswered (detail "overflow") and replies are unmatched, until a request
 * comes RECOVER_IDLE_NS after the last traffic in both directions. Keys of one get that do not
 * fit are counted too; its hits are still recorded from the VALUE lines, its misses are lost.
 * Replies that match nothing may examine at most SCAN_BUDGET pending requests per connection
 * before pairing stops the same way; VALUE lines that match no requested key at most
 * VALUE_SCAN_BUDGET keys per get. UDP requests are given up after UDP_WAIT_NS. */
#include <stdio.h>
#include <string.h>

#include "cachetap/cmdtab_mc.h"
#include "cachetap/flow.h"
#include "cachetap/limits.h"
#include "cachetap/mc.h"
#include "cachetap/proto.h"

/* Pending request flags. */
enum {
	P_DONE = 1u << 0,      /* its events are out */
	P_QUIET = 1u << 1,     /* meta q or binary quiet opcode */
	P_OPAQUE = 1u << 2,    /* meta O token given: `opaque` is its fingerprint */
	P_VALUE = 1u << 3,     /* value_hash is the fingerprint of the value it writes */
	P_RESYNCED = 1u << 4,  /* first request after a decoder resync */
	P_KEYS_LOST = 1u << 5, /* keys of a multi-key get that did not fit the arena */
	P_BINARY = 1u << 6,
	P_UDP = 1u << 7,
	P_BAD = 1u << 8,       /* the decoder says memcached rejects it */
	P_HAS_KEY = 1u << 9,   /* one key, first in its arena bytes */
	P_MULTI = 1u << 10,    /* keys came through the key callback (get gets gat gats) */
};

struct pend {
	uint64_t seq;
	uint64_t first_ts, ts; /* request's first and last byte */
	uint64_t first_off;    /* stream offset of its first byte (UDP: of the datagram payloads) */
	uint64_t value_hash;
	uint64_t opaque;       /* binary opaque, or the meta O token's fingerprint */
	uint64_t koff;         /* arena offset of its bytes: keys (length byte + key), then word */
	uint64_t kcur;         /* multi-key: arena offset of the next key without an event */
	uint32_t kleft;        /* multi-key: keys without an event yet */
	uint32_t budget;       /* CT_MC_PAIR_VALUE_SCAN_BUDGET left */
	uint32_t emitted;      /* events emitted for it */
	uint32_t fl;           /* P_* */
	uint16_t cmd, udp_id;
	uint8_t opcode, wordlen;
	struct ct_mc_class k;
};

struct mc_conn {
	uint64_t conn_id;
	struct ct_emit emit;
	struct ct_proto_stats *stats;
	uint8_t values;    /* CT_MC_VALUES_* */
	uint8_t strict_ts; /* replies must start after the request ended (see the decisions) */
	uint8_t dropped;   /* pairing stopped by a cap */
	uint8_t watching;  /* "watch" answered OK: the rest of the stream is log lines */
	uint8_t udp_failed;
	uint8_t staging;   /* keys of a get are arriving */
	uint8_t cur_active; /* cur_seq's reply has begun and goes on */
	uint64_t cur_seq;
	uint64_t next_off[2];
	uint64_t last_ts[2];
	uint64_t scan_used; /* CT_MC_PAIR_SCAN_BUDGET spent */
	/* pending requests: a ring, oldest at qhead */
	struct pend *q;
	uint32_t qcap, qhead, qlen;
	uint64_t next_seq;
	/* key arena: virtual offsets [ahead, atail) are live; ab[0] is offset abase */
	uint8_t *ab;
	uint32_t acap;
	uint64_t abase, ahead, atail;
	uint64_t stage_off;
	uint32_t stage_keys;
	struct ct_mc dec[2];     /* TCP: CT_C2S client side, CT_S2C server side */
	struct ct_mc_udp *udp;   /* UDP: two, made at the first datagram */
	char detail[CT_MC_PAIR_DETAIL_BYTES];
	char cmdbuf[CT_MC_WORD_MAX_BYTES + 1];
};

/* ------------------------------------------------------------------------------------------ */
/* Key arena: the bytes of pending requests, in FIFO order, so the oldest request's are first
 * and letting go of requests only moves `ahead`.
 *
 *   abase        ahead                                                   atail
 *   |  (freed)   | len|key bytes| len|key bytes|...| WORD |  (a get being  |
 *                  ^ request 1 (a get: many keys)     ^ req 2 staged here)
 *
 * A key is one length byte (keys are at most 250 bytes) and its bytes; an unknown text command
 * keeps its upper-cased word instead. Offsets are virtual (they never decrease), so moving the
 * live bytes to the buffer's start changes no request.                                        */

static uint8_t *arena_at(const struct mc_conn *c, uint64_t voff)
{
	return c->ab + (size_t)(voff - c->abase);
}

/* Makes room for n more bytes at the tail, within CT_MC_PAIR_ARENA_MAX_BYTES. */
static int arena_reserve(struct mc_conn *c, uint32_t n)
{
	uint64_t live = c->atail - c->ahead;
	if (live + n > CT_MC_PAIR_ARENA_MAX_BYTES)
		return CT_ELIMIT;
	if (c->atail - c->abase + n <= c->acap)
		return 0;
	if (c->ahead > c->abase) {
		if (live)
			memmove(c->ab, arena_at(c, c->ahead), (size_t)live);
		c->abase = c->ahead;
		if (live + n <= c->acap)
			return 0;
	}
	uint64_t cap = c->acap ? c->acap : 1024;
	while (cap < live + n)
		cap *= 2;
	if (cap > CT_MC_PAIR_ARENA_MAX_BYTES)
		cap = CT_MC_PAIR_ARENA_MAX_BYTES;
	uint8_t *nb = ct_realloc(c->ab, (size_t)cap);
	if (!nb)
		return CT_ENOMEM;
	c->ab = nb;
	c->acap = (uint32_t)cap;
	return 0;
}

/* A key is stored as one length byte (keys are at most 250 bytes) and its bytes. */
static int arena_put_key(struct mc_conn *c, const uint8_t *key, uint32_t len)
{
	if (len > CT_MC_KEY_MAX_BYTES || arena_reserve(c, len + 1) != 0)
		return CT_ELIMIT;
	uint8_t *p = arena_at(c, c->atail);
	p[0] = (uint8_t)len;
	if (len)
		memcpy(p + 1, key, len);
	c->atail += len + 1;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Pending requests.                                                                           */

static struct pend *q_at(const struct mc_conn *c, uint32_t i)
{
	return &c->q[(c->qhead + i) % c->qcap];
}

static struct pend *q_push(struct mc_conn *c)
{
	if (c->qlen == c->qcap) {
		if (c->qcap >= CT_MC_PAIR_PENDING_MAX)
			return NULL;
		uint32_t ncap = c->qcap ? c->qcap * 2 : 16;
		if (ncap > CT_MC_PAIR_PENDING_MAX)
			ncap = CT_MC_PAIR_PENDING_MAX;
		struct pend *nq = ct_calloc(ncap, sizeof *nq);
		if (!nq)
			return NULL;
		for (uint32_t i = 0; i < c->qlen; i++)
			nq[i] = *q_at(c, i);
		ct_free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	struct pend *e = &c->q[(c->qhead + c->qlen) % c->qcap];
	c->qlen++;
	memset(e, 0, sizeof *e);
	e->seq = c->next_seq++;
	return e;
}

/* Drops finished requests from the head and lets go of their arena bytes. */
static void q_advance(struct mc_conn *c)
{
	while (c->qlen && (q_at(c, 0)->fl & P_DONE)) {
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
	}
	if (c->qlen)
		c->ahead = q_at(c, 0)->koff;
	else if (c->staging)
		c->ahead = c->stage_off;
	else
		c->ahead = c->atail;
}

static struct pend *q_find(const struct mc_conn *c, uint64_t seq)
{
	for (uint32_t i = 0; i < c->qlen; i++) {
		struct pend *e = q_at(c, i);
		if (e->seq == seq)
			return e;
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Events.                                                                                     */

static void put_word(char *d, size_t cap, size_t *n, const char *w, size_t wl)
{
	if (*n + (*n ? 1 : 0) + wl + 1 > cap)
		return;
	if (*n)
		d[(*n)++] = ' ';
	memcpy(d + *n, w, wl);
	*n += wl;
	d[*n] = 0;
}

static void put_str(char *d, size_t cap, size_t *n, const char *w)
{
	put_word(d, cap, n, w, strlen(w)); /* our own NUL-terminated strings only */
}

/* The detail text: table notes, meta stale flags, and why it failed. */
static const char *detail(struct mc_conn *c, const struct pend *e, unsigned status,
			  const struct ct_mc_msg *reply, const char *why)
{
	char *d = c->detail;
	size_t n = 0, cap = sizeof c->detail;
	char tmp[CT_MC_WORD_MAX_BYTES + 1];
	d[0] = 0;
	for (unsigned b = 0; b < CT_MC_NOTE__COUNT; b++) {
		const char *nm = ct_mc_note_name(b);
		if ((e->k.notes >> b & 1) && nm)
			put_str(d, cap, &n, nm);
	}
	if ((e->fl & P_BINARY) && !ct_mc_bin_opcode_name(e->opcode)) {
		snprintf(tmp, sizeof tmp, "opcode=0x%02x", e->opcode);
		put_str(d, cap, &n, tmp);
	}
	if (reply && reply->proto == CT_MC_PROTO_META && e->cmd == CT_MC_CMD_MG) {
		static const char stale[] = "XWZ";
		for (int i = 0; i < 3; i++)
			if (ct_mc_meta_get(reply, stale[i], NULL))
				put_word(d, cap, &n, &stale[i], 1);
	}
	if (status == CT_STATUS_ERROR && reply) {
		if (reply->proto == CT_MC_PROTO_BINARY) {
			const char *nm = ct_mc_bin_status_name(reply->status);
			if (nm) {
				put_str(d, cap, &n, nm);
			} else {
				snprintf(tmp, sizeof tmp, "status=0x%04x", reply->status);
				put_str(d, cap, &n, tmp);
			}
		} else if (reply->cmd == CT_MC_R_UNKNOWN) {
			/* a word of the server's own (slabs: BUSY, NOSPARE): as sent, printable */
			uint32_t wl = reply->word.len < CT_MC_WORD_MAX_BYTES ? reply->word.len
									     : CT_MC_WORD_MAX_BYTES;
			for (uint32_t i = 0; i < wl; i++) {
				uint8_t ch = reply->word.p[i];
				tmp[i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
			}
			put_word(d, cap, &n, tmp, wl);
		} else {
			put_str(d, cap, &n, ct_mc_cmd_name(reply->cmd));
		}
	} else if (why) {
		put_str(d, cap, &n, why);
	}
	return n ? d : NULL;
}

/* The command as the timeline spells it: the binary opcode's name, the table's name, or an
 * unknown text word as sent (upper-cased when it was queued; it is the entry's only bytes). */
static const char *cmd_name(struct mc_conn *c, const struct pend *e, uint32_t *len)
{
	const char *nm;
	if (e->fl & P_BINARY) {
		nm = ct_mc_bin_opcode_name(e->opcode);
		if (!nm)
			nm = "UNKNOWN";
	} else if (e->wordlen) {
		memcpy(c->cmdbuf, arena_at(c, e->koff), e->wordlen);
		c->cmdbuf[e->wordlen] = 0;
		*len = e->wordlen;
		return c->cmdbuf;
	} else {
		nm = ct_mc_cmd_name(e->cmd);
	}
	*len = (uint32_t)strlen(nm);
	return nm;
}

/* One event: request e, with one of its keys (or none), and what became of it. */
static void emit_one(struct mc_conn *c, struct pend *e, const uint8_t *key, uint32_t klen,
		     int has_key, unsigned status, const struct ct_mc_msg *reply, const char *why)
{
	struct ct_event ev;
	memset(&ev, 0, sizeof ev);
	ev.conn_id = c->conn_id;
	ev.ts_ns = e->ts;
	ev.first_ts_ns = e->first_ts;
	ev.stream_off = e->first_off;
	ev.db = -1;
	ev.proto = CT_PROTO_MEMCACHED;
	ev.dir = CT_C2S;
	ev.via = CT_VIA_COMMAND;
	ev.cls = e->k.cls;
	ev.status = (uint8_t)status;
	ev.cmd = cmd_name(c, e, &ev.cmd_len);
	if (has_key) {
		ev.key = key;
		ev.key_len = klen;
		ev.flags |= CT_EV_HAS_KEY;
	}
	if (reply) {
		ev.flags |= CT_EV_HAS_LATENCY;
		ev.latency_ns = reply->ts_ns > e->ts ? reply->ts_ns - e->ts : 0;
		ev.flags |= ct_mc_reply_evflags(reply);
		if (reply->flags & CT_MC_MF_RESYNCED)
			ev.flags |= CT_EV_RESYNCED;
	}
	if (c->values != CT_MC_VALUES_NONE) {
		if (e->fl & P_VALUE) {
			ev.value_hash = e->value_hash;
			ev.flags |= CT_EV_HAS_VALUE;
		} else if (status == CT_STATUS_HIT && reply && (reply->flags & CT_MC_MF_HASHED)) {
			ev.value_hash = reply->value_hash;
			ev.flags |= CT_EV_HAS_VALUE;
		}
	}
	if (e->fl & P_RESYNCED)
		ev.flags |= CT_EV_RESYNCED;
	ev.detail = detail(c, e, status, reply, why);
	e->emitted++;
	c->stats->events++;
	if (c->emit.event)
		c->emit.event(c->emit.ctx, &ev);
}

/* Events for every key of e that has none yet; one keyless event if e had none at all. */
static void emit_rest(struct mc_conn *c, struct pend *e, unsigned status,
		      const struct ct_mc_msg *reply, const char *why)
{
	if (e->fl & P_MULTI) {
		while (e->kleft) {
			const uint8_t *k = arena_at(c, e->kcur);
			e->kcur += 1u + k[0];
			e->kleft--;
			emit_one(c, e, k + 1, k[0], 1, status, reply, why);
		}
	} else if ((e->fl & P_HAS_KEY) && !e->emitted) {
		const uint8_t *k = arena_at(c, e->koff);
		emit_one(c, e, k + 1, k[0], 1, status, reply, why);
	}
	if (!e->emitted)
		emit_one(c, e, NULL, 0, 0, status, reply, why);
}

/* e is answered (or given up): its remaining events go out and it leaves the FIFO at the next
 * q_advance. */
static void finish(struct mc_conn *c, struct pend *e, unsigned status,
		   const struct ct_mc_msg *reply, const char *why)
{
	uint32_t before = e->emitted;
	emit_rest(c, e, status, reply, why);
	if (status == CT_STATUS_UNANSWERED && e->emitted > before)
		c->stats->unanswered++;
	e->fl |= P_DONE;
	if (c->cur_active && c->cur_seq == e->seq)
		c->cur_active = 0;
}

static void flush_all(struct mc_conn *c, const char *why)
{
	for (uint32_t i = 0; i < c->qlen; i++) {
		struct pend *e = q_at(c, i);
		if (!(e->fl & P_DONE))
			finish(c, e, CT_STATUS_UNANSWERED, NULL, why);
	}
	c->cur_active = 0;
	q_advance(c);
}

/* A cap was hit: pending requests are given up and pairing stops until the connection has
 * been idle (see the limits at the top). */
static void stop_pairing(struct mc_conn *c)
{
	flush_all(c, "overflow");
	c->dropped = 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Pairing.                                                                                    */

static int key_eq(const struct mc_conn *c, const struct pend *e, const struct ct_mc_tok *k)
{
	const uint8_t *p = arena_at(c, e->koff);
	return p[0] == k->len && memcmp(p + 1, k->p, k->len) == 0;
}

/* Can reply message m be (`first`: the start of) the reply to e? */
static int fits(const struct mc_conn *c, const struct pend *e, const struct ct_mc_msg *m,
		int first)
{
	struct ct_mc_tok t;
	if ((e->fl & P_UDP) && (!(m->flags & CT_MC_MF_UDP) || e->udp_id != m->udp_id))
		return 0;
	if (first && c->strict_ts && m->first_ts_ns < e->ts)
		return 0;
	if (e->fl & P_BINARY) {
		if (m->proto != CT_MC_PROTO_BINARY || m->opcode != e->opcode || m->opaque != e->opaque)
			return 0;
		return !first || !m->key.len || !(e->fl & P_HAS_KEY) || key_eq(c, e, &m->key);
	}
	if (m->proto == CT_MC_PROTO_BINARY || !ct_mc_reply_fits(e->k.reply, m->cmd))
		return 0;
	if (first && (e->fl & P_QUIET) && !ct_mc_quiet_fits(&e->k, m->cmd))
		return 0;
	if (!first || m->proto != CT_MC_PROTO_META)
		return 1;
	/* meta replies echo the O token (all but me's); a k flag returns the key */
	if (ct_mc_meta_get(m, 'O', &t)) {
		if (!(e->fl & P_OPAQUE) || XXH3_64bits(t.p, t.len) != e->opaque)
			return 0;
	} else if ((e->fl & P_OPAQUE) && e->k.reply != CT_MC_RK_ME) {
		return 0;
	}
	return !m->key.len || !(e->fl & P_HAS_KEY) || key_eq(c, e, &m->key);
}

/* The pending request reply m opens, or NULL. The requests it passes over are settled: quiet
 * ones by their quiet status, the others as unanswered (their reply was lost). */
static struct pend *match(struct mc_conn *c, const struct ct_mc_msg *m)
{
	struct pend *hit = NULL;
	uint32_t i, steps = 0;
	for (i = 0; i < c->qlen; i++) {
		struct pend *e = q_at(c, i);
		if (e->fl & P_DONE)
			continue;
		steps++;
		if (fits(c, e, m, 1)) {
			hit = e;
			break;
		}
	}
	if (!hit) {
		c->scan_used += steps;
		if (c->scan_used > CT_MC_PAIR_SCAN_BUDGET && !c->dropped) {
			c->stats->pending_overflow++;
			stop_pairing(c);
		}
		return NULL;
	}
	for (uint32_t j = 0; j < i; j++) {
		struct pend *e = q_at(c, j);
		if ((e->fl & P_DONE) || ((e->fl & P_UDP) && e->udp_id != m->udp_id))
			continue;
		if (e->fl & P_QUIET)
			finish(c, e, e->k.st->quiet_status, NULL, NULL);
		else
			finish(c, e, CT_STATUS_UNANSWERED, NULL, "lost");
	}
	return hit;
}

/* A VALUE line of a multi-key get: the requested keys before its key were misses. */
static void value_line(struct mc_conn *c, struct pend *e, const struct ct_mc_msg *m)
{
	uint32_t limit = e->budget ? e->kleft : (e->kleft ? 1 : 0), i;
	uint64_t p = e->kcur;
	for (i = 0; i < limit; i++) {
		const uint8_t *k = arena_at(c, p);
		if (k[0] == m->key.len && memcmp(k + 1, m->key.p, m->key.len) == 0)
			break;
		p += 1u + k[0];
	}
	if (i == limit) {
		e->budget = e->budget > i ? e->budget - i : 0;
		if ((e->fl & P_KEYS_LOST) && m->key.len)
			emit_one(c, e, m->key.p, m->key.len, 1,
				 ct_mc_status(&e->k, CT_MC_OUT_SUCCESS, m), m, NULL);
		else
			c->stats->unmatched_replies++;
		return;
	}
	unsigned miss = ct_mc_status(&e->k, CT_MC_OUT_NOTFOUND, m);
	for (uint32_t j = 0; j <= i; j++) {
		const uint8_t *k = arena_at(c, e->kcur);
		e->kcur += 1u + k[0];
		e->kleft--;
		emit_one(c, e, k + 1, k[0], 1,
			 j < i ? miss : ct_mc_status(&e->k, CT_MC_OUT_SUCCESS, m), m, NULL);
	}
}

/* Reply message m belongs to e: record what it says; remember e if its reply goes on. */
static void take(struct mc_conn *c, struct pend *e, const struct ct_mc_msg *m)
{
	unsigned out = ct_mc_outcome(m);
	int more = 0;
	if (e->k.reply == CT_MC_RK_GET && m->cmd == CT_MC_R_VALUE) {
		value_line(c, e, m);
		more = 1;
	} else if (e->k.reply == CT_MC_RK_GET) {
		/* END: keys with no VALUE were misses; an error answers them all */
		unsigned o = m->cmd == CT_MC_R_END ? CT_MC_OUT_NOTFOUND : out;
		finish(c, e, ct_mc_status(&e->k, o, m), m, NULL);
	} else if (e->fl & P_BINARY) {
		more = e->k.reply == CT_MC_RK_BINSTAT && m->status == 0 && m->key.len > 0;
		if (!more)
			finish(c, e, ct_mc_status(&e->k, out, m), m, NULL);
	} else if (ct_mc_reply_emit_early(e->k.reply)) {
		finish(c, e, ct_mc_status(&e->k, out, m), m, NULL);
		if (ct_mc_reply_more(e->k.reply, m->cmd))
			c->watching = 1;
	} else {
		more = ct_mc_reply_more(e->k.reply, m->cmd);
		if (!more)
			finish(c, e, ct_mc_status(&e->k, out, m), m, NULL);
	}
	if (more) {
		c->cur_active = 1;
		c->cur_seq = e->seq;
	}
}

static void on_reply(struct mc_conn *c, const struct ct_mc_msg *m)
{
	if (m->flags & CT_MC_MF_ABORTED)
		return;
	c->stats->messages++;
	c->last_ts[CT_S2C] = m->ts_ns;
	if (c->watching)
		return;
	if (c->cur_active) {
		struct pend *e = q_find(c, c->cur_seq);
		if (e && fits(c, e, m, 0)) {
			take(c, e, m);
			q_advance(c);
			return;
		}
		/* something else: the rest of that reply was lost */
		if (e)
			finish(c, e, CT_STATUS_UNANSWERED, NULL, "lost");
		c->cur_active = 0;
	}
	struct pend *e = match(c, m);
	if (!e) {
		c->stats->unmatched_replies++;
		q_advance(c);
		return;
	}
	c->strict_ts = 0;
	take(c, e, m);
	q_advance(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Requests.                                                                                   */

static void stage_drop(struct mc_conn *c)
{
	if (!c->staging)
		return;
	c->atail = c->stage_off;
	c->staging = 0;
	q_advance(c);
}

static void on_key(void *ctx, const struct ct_mc_msg *m, const uint8_t *key, uint32_t len,
		   uint32_t index)
{
	struct mc_conn *c = ctx;
	CT_UNUSED(m);
	CT_UNUSED(index);
	if (!c->staging) {
		c->staging = 1;
		c->stage_off = c->atail;
		c->stage_keys = 0;
	}
	if (arena_put_key(c, key, len) == 0)
		c->stage_keys++;
	else
		c->stats->pending_overflow++; /* the get is marked P_KEYS_LOST at its msg */
}

/* Events for a request that is not queued: every key of it, or none. */
static void emit_now(struct mc_conn *c, struct pend *e, const struct ct_mc_msg *m,
		     unsigned status, const char *why)
{
	if (e->fl & P_MULTI) {
		uint64_t p = c->stage_off;
		for (uint32_t i = 0; i < c->stage_keys; i++) {
			const uint8_t *k = arena_at(c, p);
			p += 1u + k[0];
			emit_one(c, e, k + 1, k[0], 1, status, NULL, why);
		}
	} else if (m->key.len) {
		emit_one(c, e, m->key.p, m->key.len, 1, status, NULL, why);
	}
	if (!e->emitted)
		emit_one(c, e, NULL, 0, 0, status, NULL, why);
	stage_drop(c);
}

/* Stores an unknown command's word, upper-cased and printable, as the entry's bytes. */
static void keep_word(struct mc_conn *c, struct pend *e, const struct ct_mc_msg *m)
{
	uint32_t wl = m->word.len < CT_MC_WORD_MAX_BYTES ? m->word.len : CT_MC_WORD_MAX_BYTES;
	if (!wl || arena_reserve(c, wl) != 0)
		return;
	uint8_t *w = arena_at(c, c->atail);
	for (uint32_t i = 0; i < wl; i++) {
		uint8_t ch = m->word.p[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (uint8_t)(ch - 'a' + 'A');
		w[i] = ch > 0x20 && ch < 0x7f ? ch : '?';
	}
	c->atail += wl;
	e->wordlen = (uint8_t)wl;
}

static void on_request(struct mc_conn *c, const struct ct_mc_msg *m)
{
	struct ct_mc_tok t;
	struct pend tmp;

	if (m->flags & CT_MC_MF_ABORTED) {
		stage_drop(c);
		return;
	}
	c->stats->messages++;
	if (c->dropped && m->first_ts_ns >= c->last_ts[CT_S2C] + CT_MC_PAIR_RECOVER_IDLE_NS &&
	    m->first_ts_ns >= c->last_ts[CT_C2S] + CT_MC_PAIR_RECOVER_IDLE_NS) {
		/* both sides were idle: whatever was owed has been answered */
		c->dropped = 0;
		c->strict_ts = 1;
		c->scan_used = 0;
	}
	c->last_ts[CT_C2S] = m->ts_ns;

	memset(&tmp, 0, sizeof tmp);
	ct_mc_classify(m, &tmp.k);
	tmp.first_ts = m->first_ts_ns;
	tmp.ts = m->ts_ns;
	tmp.first_off = m->first_off;
	tmp.cmd = m->cmd;
	tmp.opcode = m->opcode;
	tmp.budget = CT_MC_PAIR_VALUE_SCAN_BUDGET;
	if (m->proto == CT_MC_PROTO_BINARY) {
		tmp.fl |= P_BINARY;
		tmp.opaque = m->opaque;
	}
	if (m->flags & CT_MC_MF_UDP) {
		tmp.fl |= P_UDP;
		tmp.udp_id = m->udp_id;
	}
	if (m->flags & CT_MC_MF_QUIET)
		tmp.fl |= P_QUIET;
	if (m->flags & CT_MC_MF_RESYNCED)
		tmp.fl |= P_RESYNCED;
	if (m->flags & (CT_MC_MF_BAD_ARGS | CT_MC_MF_KEY_TOO_LONG | CT_MC_MF_BAD_KEY | CT_MC_MF_BAD_DATA))
		tmp.fl |= P_BAD;
	if (c->staging)
		tmp.fl |= P_MULTI;
	if (m->proto == CT_MC_PROTO_META && ct_mc_meta_get(m, 'O', &t)) {
		tmp.fl |= P_OPAQUE;
		tmp.opaque = XXH3_64bits(t.p, t.len);
	}
	if ((tmp.k.ci->flags & CT_MC_CI_VALUE) && (m->flags & CT_MC_MF_HASHED) &&
	    !(m->flags & CT_MC_MF_BAD_DATA)) {
		tmp.fl |= P_VALUE;
		tmp.value_hash = m->value_hash;
	}

	/* Requests no reply will come for. memcached refuses the bad ones silently. */
	if (((m->flags & CT_MC_MF_NOREPLY) && (tmp.k.ci->flags & CT_MC_CI_NOREPLY)) ||
	    (tmp.k.reply == CT_MC_RK_NONE && !(tmp.fl & P_BAD)) ||
	    ((tmp.fl & P_QUIET) && tmp.k.st->quiet_status == CT_STATUS_NOREPLY)) {
		if (tmp.fl & P_BAD)
			emit_now(c, &tmp, m, CT_STATUS_ERROR, "rejected");
		else
			emit_now(c, &tmp, m, CT_STATUS_NOREPLY, NULL);
		return;
	}
	if (c->dropped) {
		c->stats->pending_overflow++;
		emit_now(c, &tmp, m, CT_STATUS_UNANSWERED, "overflow");
		return;
	}
	struct pend *e = q_push(c);
	if (!e) {
		c->stats->pending_overflow++;
		stop_pairing(c);
		emit_now(c, &tmp, m, CT_STATUS_UNANSWERED, "overflow");
		return;
	}
	uint64_t seq = e->seq;
	*e = tmp;
	e->seq = seq;
	if (tmp.fl & P_MULTI) {
		e->koff = e->kcur = c->stage_off;
		e->kleft = c->stage_keys;
		if (m->nkeys > c->stage_keys)
			e->fl |= P_KEYS_LOST;
		c->staging = 0;
		return;
	}
	e->koff = e->kcur = c->atail;
	if (m->key.len) {
		if (arena_put_key(c, m->key.p, m->key.len) != 0) {
			/* the arena is full: this request cannot wait, and neither can pairing */
			c->qlen--;
			c->stats->pending_overflow++;
			stop_pairing(c);
			emit_now(c, &tmp, m, CT_STATUS_UNANSWERED, "overflow");
			return;
		}
		e->fl |= P_HAS_KEY;
	} else if (!(e->fl & P_BINARY) && m->cmd == CT_MC_CMD_UNKNOWN) {
		keep_word(c, e, m);
	}
	if (c->qlen == 1)
		c->ahead = e->koff;
}

/* ------------------------------------------------------------------------------------------ */
/* Decoder callbacks and the module's operations.                                              */

static void on_msg(void *ctx, const struct ct_mc_msg *m)
{
	if (m->side == CT_MC_SIDE_CLIENT)
		on_request(ctx, m);
	else
		on_reply(ctx, m);
}

static void on_error(void *ctx, int err, const char *errstr, uint64_t off)
{
	struct mc_conn *c = ctx;
	CT_UNUSED(err);
	CT_UNUSED(errstr);
	CT_UNUSED(off);
	c->stats->parse_errors++;
}

static const struct ct_mc_cb decoder_cb = { on_msg, on_key, on_error };

static uint64_t dec_resyncs(const struct mc_conn *c)
{
	uint64_t n = c->dec[0].c.resyncs + c->dec[1].c.resyncs;
	if (c->udp)
		n += c->udp[0].dec.c.resyncs + c->udp[1].dec.c.resyncs;
	return n;
}

static struct ct_proto_stats no_stats_sink; /* for callers that pass no stats (tests) */

static void *mc_open(const struct ct_proto_open *o)
{
	struct mc_conn *c = ct_calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->conn_id = o->conn_id;
	if (o->emit)
		c->emit = *o->emit;
	c->stats = o->stats ? o->stats : &no_stats_sink;
	c->values = o->cfg && o->cfg->values == CT_VALUES_NONE ? CT_MC_VALUES_NONE : CT_MC_VALUES_HASH;
	c->strict_ts = o->midstream ? 1 : 0;
	struct ct_mc_opts mo = { c->values, CT_MC_FRAMING_AUTO, (uint8_t)(o->midstream ? 1 : 0), 0 };
	if (ct_mc_init(&c->dec[CT_C2S], CT_MC_SIDE_CLIENT, &mo, &decoder_cb, c) != 0 ||
	    ct_mc_init(&c->dec[CT_S2C], CT_MC_SIDE_SERVER, &mo, &decoder_cb, c) != 0) {
		ct_free(c);
		return NULL;
	}
	return c;
}

static void mc_gap(void *conn, int dir, uint64_t off, uint64_t len, uint64_t ts_ns)
{
	struct mc_conn *c = conn;
	if (!c || (dir != CT_C2S && dir != CT_S2C) || !len || off + len <= c->next_off[dir])
		return;
	struct ct_mc *d = &c->dec[dir];
	uint64_t kept = d->c.gaps_in_value, rs = dec_resyncs(c);
	ct_mc_gap(d, off, len, ts_ns);
	c->next_off[dir] = off + len;
	if (d->c.gaps_in_value == kept) {
		/* the decoder lost its footing: nobody can say which reply answers what */
		flush_all(c, "gap");
		c->strict_ts = 1;
	}
	c->stats->resyncs += dec_resyncs(c) - rs;
}

static void mc_data(void *conn, int dir, uint64_t off, const uint8_t *p, uint32_t len,
		    uint64_t ts_ns)
{
	struct mc_conn *c = conn;
	if (!c || (dir != CT_C2S && dir != CT_S2C) || !len)
		return;
	if (off > c->next_off[dir])
		mc_gap(c, dir, c->next_off[dir], off - c->next_off[dir], ts_ns);
	uint64_t rs = dec_resyncs(c);
	(void)ct_mc_data(&c->dec[dir], off, p, len, ts_ns);
	if (off + len > c->next_off[dir])
		c->next_off[dir] = off + len;
	c->stats->resyncs += dec_resyncs(c) - rs;
}

/* UDP requests whose reply has not come in CT_MC_PAIR_UDP_WAIT_NS are given up. */
static void udp_expire(struct mc_conn *c, uint64_t now)
{
	for (uint32_t i = 0; i < c->qlen; i++) {
		struct pend *e = q_at(c, i);
		if (e->fl & P_DONE)
			continue;
		if (e->ts + CT_MC_PAIR_UDP_WAIT_NS >= now)
			break;
		finish(c, e, CT_STATUS_UNANSWERED, NULL, "expired");
	}
	q_advance(c);
}

static void mc_datagram(void *conn, int dir, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	struct mc_conn *c = conn;
	if (!c || (dir != CT_C2S && dir != CT_S2C))
		return;
	if (!c->udp) {
		struct ct_mc_opts mo = { c->values, CT_MC_FRAMING_AUTO, 0, 0 };
		if (c->udp_failed)
			return;
		c->udp = ct_calloc(2, sizeof *c->udp);
		if (!c->udp || ct_mc_udp_init(&c->udp[CT_C2S], CT_MC_SIDE_CLIENT, &mo, &decoder_cb, c) != 0 ||
		    ct_mc_udp_init(&c->udp[CT_S2C], CT_MC_SIDE_SERVER, &mo, &decoder_cb, c) != 0) {
			ct_free(c->udp);
			c->udp = NULL;
			c->udp_failed = 1;
			c->stats->alloc_fail++;
			return;
		}
	}
	udp_expire(c, ts_ns);
	uint64_t rs = dec_resyncs(c);
	(void)ct_mc_udp_datagram(&c->udp[dir], p, len, ts_ns);
	c->stats->resyncs += dec_resyncs(c) - rs;
}

static void mc_close(void *conn, uint64_t ts_ns)
{
	struct mc_conn *c = conn;
	if (!c)
		return;
	uint64_t rs = dec_resyncs(c);
	if (c->udp) {
		ct_mc_udp_flush(&c->udp[CT_C2S], ts_ns);
		ct_mc_udp_flush(&c->udp[CT_S2C], ts_ns);
	}
	ct_mc_end(&c->dec[CT_C2S], ts_ns);
	ct_mc_end(&c->dec[CT_S2C], ts_ns);
	c->stats->resyncs += dec_resyncs(c) - rs;
	stage_drop(c);
	flush_all(c, "closed");
	ct_free(c->udp);
	ct_free(c->q);
	ct_free(c->ab);
	ct_free(c);
}

const struct ct_proto_ops ct_proto_memcached = {
	.name = "memcached",
	.proto = CT_PROTO_MEMCACHED,
	.open = mc_open,
	.data = mc_data,
	.gap = mc_gap,
	.datagram = mc_datagram,
	.close = mc_close,
};
