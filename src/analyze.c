/* The propagation analysis (SPEC section 6): from the timeline of a cachetap database it finds
 * the write origins, every recipient of each origin's key, when the change arrived there, which
 * recipients missed it, and who read or re-wrote stale data afterwards. It writes the tables
 * analyze.h lists; `cachetap report` renders them.
 *
 * Definitions (the contract's words are SPEC 6; these are the exact rules behind them):
 *
 *  - Change: a timeline row of class write, delete, invalidate, expire or flush that did not
 *    fail (status error), and is not a write the server refused (write with status miss:
 *    memcached add/replace NOT_STORED). Flush rows (FLUSHDB, FLUSHALL, flush_all: no key)
 *    change every key of their node; a FLUSHDB only keys of its own database when both are
 *    known. Keys are compared by name; the Redis database is not used to tell keys apart,
 *    because pushes do not carry it.
 *  - Mode: "api" when api_calls holds at least one write call (method POST, PUT, PATCH or
 *    DELETE), else "self". A database without an api_calls table has no API calls.
 *  - Origin, api mode: a write call C and a key K such that the application sent a change or a
 *    publish of K (dir c2s, via command, class write/delete/invalidate/expire/publish, not
 *    failed) with its last byte in [C.ts_start_ns, C.ts_end_ns] (to ts_start + deadline when
 *    the call has no end), on a cache connection whose client IP is the IP of C's server (the
 *    application host) when that host is known and opened any cache connection that sent
 *    changes; otherwise on any connection. origin_ts = C.ts_start_ns, ack = C.ts_end_ns, event =
 *    the first such command. A --key-map that matches C (method, and path without its query
 *    string) makes the mapped key an origin of C too, if C did not fail (status >= 400); its
 *    event is the first such command for the key in [ts_start, ts_start + deadline], or none.
 *    Flushes have no key and are never origins (they are arrivals).
 *  - Origin, self mode: candidate events are client changes (dir c2s, via command, class
 *    write/delete/invalidate/publish; expire is left out because EXPIRE/touch also only set a
 *    TTL). Taken in time order, a candidate e at node N starts a new origin unless the key's
 *    latest origin O (with deadline D = O.origin_ts + deadline) explains it:
 *      (a) e.ts <= D, e is a change that is not a write of an old value (below), and N had no
 *          arrival for O before e: e is N's arrival for O (write-through, fan-out deletes);
 *      (b) e.ts <= D, e writes an old value of O and N's arrival for O came before e: e is a
 *          stale set of O (the cache-aside race).
 *    So the first write or delete of a key is an origin, and so is every later one that starts
 *    a new round: after the deadline, or at a node where O has already arrived.
 *    origin_ts = the event's first byte, ack = its reply (last byte + latency; its last byte
 *    when it had no reply).
 *  - Search start S of an origin: the first byte of its event when it has one and that is
 *    later than origin_ts, else origin_ts. Nothing the origin caused can reach a node before
 *    its first command was sent, so arrivals, holders and stale sets are reckoned from S (this
 *    keeps a concurrent call's earlier write from counting as this call's arrival).
 *  - Old values of an origin: every value fingerprint of the key seen (written or read hit, at
 *    any node) before S, except the origin's new values (the values written by its own
 *    commands). A write of an old value is never an arrival: it does not replace the old value.
 *  - Recipients (timeline.recipient: the server for c2s rows, the client for s2c rows, a
 *    replica's replication link named by the replica, node_links) of origin O of key K:
 *      * a node that has any row of K (read hit or miss, write, ...; replication included)
 *        before S: it holds or was asked for K;
 *      * a client-side cache under Redis tracking: the client of a connection that ever
 *        received a tracking invalidation push (RESP3 "invalidate", or RESP2 "message" on
 *        __redis__:invalidate) holds K when it read K on that connection before S and after its
 *        last tracking invalidation of K (or flush-all push): Redis sends one invalidation per
 *        read, so a client that was already invalidated is owed nothing. A RESP2 REDIRECT
 *        client reads on another connection and so becomes a recipient only by receiving;
 *        BCAST clients likewise;
 *      * a subscriber that received a keyspace or bus message for K before S;
 *      * any recipient with a keyed arrival for K within the deadline (it received an
 *        invalidation; a flush alone does not make a recipient of a node that never held K).
 *    The origin's own node is a recipient through its own command (its arrival).
 *  - Arrival at recipient R: R's first change of K (or flush) with last byte in
 *    [S, origin_ts + deadline] that is not a write of an old value. A push (tracking, keyspace
 *    or bus message) counts only when the server that sent it recorded a change or publish of
 *    K (for a flush-all push: a flush) in [S, push time]: that is how tracking-table-max-keys
 *    evictions and flush-all pushes from unrelated flushes are told from real arrivals. A
 *    server with no change rows at all in the capture is not observed, and its pushes are
 *    taken as they are. latency = arrival - origin_ts; via, class, cmd, proto: the arrival's.
 *  - Missed: a recipient with no arrival within the deadline (missed = 1, arrival NULL).
 *    Pending: the same, but the capture ended (last event, connection end, run end or drop
 *    sample) before origin_ts + deadline: missed = 0, pending = 1, and one warning.
 *  - Stale read: a read hit (class read, status hit, with a fingerprint, not flagged stale by a
 *    memcached meta reply) of K at any node, checked against the latest origin of K
 *    acknowledged strictly before it (largest ack < read time): stale when its value is an old
 *    value of that origin. A read at exactly the acknowledgement is not stale. stale_for_ns =
 *    read time - ack. An origin without ack (no response seen) has no stale reads.
 *  - Stale set: a client write (c2s command, class write, with a fingerprint) of K at node N,
 *    checked against the latest origin with S <= its time: stale when it writes an old value
 *    of that origin after that origin's arrival at N (the arrival of its propagation row),
 *    and, in self mode, within the deadline.
 *    after_arrival_ns = write time - arrival. Replicated copies are not counted again.
 *  - Validity: an origin's window is [origin_ts, origin_ts + deadline]. It is invalid when
 *    kernel or interface drops grew between two capture_drops samples whose interval meets the
 *    window (before the first sample, after the last sample as run_stats totals tell, or
 *    anywhere when run_stats has drops and no samples place them), or when a connection that
 *    carried any row of K had reassembly gaps and its [first_ts, last_ts] meets the window.
 *    Each invalid window gets one warning naming it (at most CT_ANALYZE_WARNINGS_MAX), and the
 *    whole analysis is then valid = 0.
 *
 * Concurrency: the capture may still be writing. The analysis reads inside one read
 * transaction (a WAL snapshot of what was committed when it began), computes everything in
 * memory, then replaces its tables in one short write transaction, so the capture's writer
 * is blocked only for the final insert. The indexes events(key, ts_ns) and events(ts_ns) are
 * created once, when missing.
 *
 * Limits (limits.h, CT_ANALYZE_*): rows of one key held at once, result rows held, warning
 * rows written, mapped key bytes, key-map pattern matching work. Hitting one never aborts the
 * analysis: rows or results left out make it valid = 0 with a warning; a mapped key too long
 * is left out with a warning; warnings past the cap are counted in a last one; a path that
 * takes too much work to match a --key-map does not match it. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "cachetap/analyze.h"
#include "cachetap/event.h"
#include "cachetap/limits.h"
#include "cachetap/report.h"

#define NONE32 UINT32_MAX
#define NO_TS INT64_MIN
#define NO_DB INT64_MIN
#define TS_MAX INT64_MAX

enum cls { C_READ, C_WRITE, C_DELETE, C_INVALIDATE, C_EXPIRE, C_FLUSH, C_PUBLISH, C_OTHER, C_NONE };
enum via { V_COMMAND, V_PUSH, V_REPLICATION, V_NONE };
enum status { S_OK, S_HIT, S_MISS, S_ERROR, S_NOREPLY, S_UNANSWERED, S_NONE };

static const char *const cls_names[] = { "read",  "write",   "delete", "invalidate",
					 "expire", "flush", "publish", "other" };
static const char *const via_names[] = { "command", "push", "replication" };
static const char *const status_names[] = { "ok", "hit", "miss", "error", "noreply", "unanswered" };

/* What a row is for the analysis (struct row.kind). */
enum {
	K_FROMF = 1u << 0,     /* a keyless flush row merged into a key's rows */
	K_CHANGE = 1u << 1,    /* a change: can be an arrival */
	K_SRC = 1u << 2,       /* a change or publish at a server (not a push): causes pushes */
	K_CAND = 1u << 3,      /* can be (part of) an origin */
	K_TRKPUSH = 1u << 4,   /* a tracking invalidation push (keyed or flush-all) */
	K_FLUSHALL = 1u << 5,  /* a flush-all push */
	K_SUBPUSH = 1u << 6,   /* a keyspace or bus message to a subscriber */
	K_READHIT = 1u << 7,   /* a read hit with a fingerprint: may be a stale read */
	K_SETCAND = 1u << 8,   /* a client write with a fingerprint: may be a stale set */
	K_TRKREAD = 1u << 9,   /* a read on a connection with client-side tracking */
};

enum { EP_OBSERVED = 1u << 0, /* an endpoint with change rows that are not pushes */
       IP_APPCAND = 1u << 1   /* an IP that opened a cache connection and sent changes */
};

/* ---- small containers ---- */

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	void **p = pp;
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 16;
	while (nc < need) {
		if (nc > SIZE_MAX / 4 / elem)
			return CT_ENOMEM;
		nc *= 2;
	}
	void *q = ct_realloc(*p, nc * elem);
	if (!q)
		return CT_ENOMEM;
	*p = q;
	*cap = nc;
	return 0;
}

/* grow() that zero-fills what it adds. */
static int grow_zero(void *pp, size_t *cap, size_t need, size_t elem)
{
	size_t old = *cap;
	int rc = grow(pp, cap, need, elem);
	if (!rc && *cap > old)
		memset(*(char **)pp + old * elem, 0, (*cap - old) * elem);
	return rc;
}

/* qsort_r, which may not be given NULL, even for nothing to sort. */
static void sort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
		   void *arg)
{
	if (n > 1)
		qsort_r(base, n, size, cmp, arg);
}

/* Interned strings: endpoints, IPs, commands, protocols and keys (keys may hold NULs). */
struct strtab {
	char **str;
	uint32_t *len;
	uint64_t *hash;
	size_t n, cap;
	uint32_t *slot; /* id + 1, 0 = empty */
	size_t nslot;   /* power of two */
};

static int st_rehash(struct strtab *t, size_t nslot)
{
	uint32_t *s = ct_calloc(nslot, sizeof *s);
	if (!s)
		return CT_ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = t->hash[i] & (nslot - 1);
		while (s[j])
			j = (j + 1) & (nslot - 1);
		s[j] = (uint32_t)i + 1;
	}
	ct_free(t->slot);
	t->slot = s;
	t->nslot = nslot;
	return 0;
}

static int st_find(const struct strtab *t, const void *p, size_t n, uint64_t h, uint32_t *id)
{
	if (!t->nslot)
		return 0;
	for (size_t j = h & (t->nslot - 1);; j = (j + 1) & (t->nslot - 1)) {
		uint32_t s = t->slot[j];
		if (!s)
			return 0;
		if (t->hash[s - 1] == h && t->len[s - 1] == n && memcmp(t->str[s - 1], p, n) == 0) {
			*id = s - 1;
			return 1;
		}
	}
}

static int st_intern(struct strtab *t, const void *p, size_t n, uint32_t *id)
{
	if (n > UINT32_MAX - 1)
		return CT_ELIMIT;
	uint64_t h = XXH3_64bits(p, n);
	if (st_find(t, p, n, h, id))
		return 0;
	if (t->n >= NONE32 - 1)
		return CT_ELIMIT;
	if ((t->n + 1) * 2 > t->nslot) {
		int rc = st_rehash(t, t->nslot ? t->nslot * 2 : 256);
		if (rc)
			return rc;
	}
	size_t cap = t->cap;
	if (grow(&t->str, &cap, t->n + 1, sizeof *t->str))
		return CT_ENOMEM;
	cap = t->cap;
	if (grow(&t->len, &cap, t->n + 1, sizeof *t->len))
		return CT_ENOMEM;
	cap = t->cap;
	if (grow(&t->hash, &cap, t->n + 1, sizeof *t->hash))
		return CT_ENOMEM;
	t->cap = cap;
	char *s = ct_malloc(n + 1);
	if (!s)
		return CT_ENOMEM;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	t->str[t->n] = s;
	t->len[t->n] = (uint32_t)n;
	t->hash[t->n] = h;
	size_t j = h & (t->nslot - 1);
	while (t->slot[j])
		j = (j + 1) & (t->nslot - 1);
	t->slot[j] = (uint32_t)t->n + 1;
	*id = (uint32_t)t->n++;
	return 0;
}

static void st_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		ct_free(t->str[i]);
	ct_free(t->str);
	ct_free(t->len);
	ct_free(t->hash);
	ct_free(t->slot);
	memset(t, 0, sizeof *t);
}

static int st_cmp(const struct strtab *t, uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	if (a == NONE32 || b == NONE32)
		return a == NONE32 ? -1 : 1;
	size_t n = t->len[a] < t->len[b] ? t->len[a] : t->len[b];
	int c = memcmp(t->str[a], t->str[b], n);
	if (c)
		return c;
	return t->len[a] < t->len[b] ? -1 : t->len[a] > t->len[b];
}

/* First-seen time of each value fingerprint of one key (open addressing). */
struct vmap {
	uint64_t *k;
	int64_t *v;
	uint8_t *used;
	size_t cap, n;
};

static int vm_reset(struct vmap *m, size_t want)
{
	size_t cap = 64;
	while (cap < want * 2)
		cap *= 2;
	if (cap > m->cap) {
		ct_free(m->k);
		ct_free(m->v);
		ct_free(m->used);
		m->k = ct_malloc(cap * sizeof *m->k);
		m->v = ct_malloc(cap * sizeof *m->v);
		m->used = ct_malloc(cap);
		if (!m->k || !m->v || !m->used) {
			m->cap = 0;
			return CT_ENOMEM;
		}
		m->cap = cap;
	}
	memset(m->used, 0, m->cap);
	m->n = 0;
	return 0;
}

static size_t vm_slot(const struct vmap *m, uint64_t k)
{
	size_t j = (size_t)(k * 0x9E3779B97F4A7C15ull) & (m->cap - 1);
	while (m->used[j] && m->k[j] != k)
		j = (j + 1) & (m->cap - 1);
	return j;
}

static void vm_min(struct vmap *m, uint64_t k, int64_t ts)
{
	size_t j = vm_slot(m, k);
	if (!m->used[j]) {
		m->used[j] = 1;
		m->k[j] = k;
		m->v[j] = ts;
		m->n++;
	} else if (ts < m->v[j]) {
		m->v[j] = ts;
	}
}

static int64_t vm_get(const struct vmap *m, uint64_t k)
{
	if (!m->cap)
		return TS_MAX;
	size_t j = vm_slot(m, k);
	return m->used[j] ? m->v[j] : TS_MAX;
}

/* ---- the model ---- */

struct conn {
	int64_t id;
	uint32_t client_ep, server_ep; /* as timeline.recipient names them (node_links aliases) */
	uint32_t client_ip;
	int64_t first_ts, last_ts;
	uint64_t gaps;
	uint32_t client, server;       /* raw endpoints, for warnings */
	uint8_t tracking;              /* received a tracking invalidation push */
};

struct row {
	int64_t id, ts, first_ts, latency, db;
	uint64_t val;
	uint32_t rcpt, cmd, proto, conn; /* conn: index into ctx.conns, NONE32 when unknown */
	uint32_t local, clocal;          /* per-key recipient index of rcpt / tracking client */
	uint32_t kind;                   /* K_* */
	uint32_t evflags;
	uint8_t dir, via, cls, status, has_val;
};

struct call {
	int64_t id, start, end; /* end NO_TS when the response was not seen */
	int64_t status;         /* -1 unknown */
	char *method, *path;
	uint32_t server_ip;     /* NONE32 unknown */
};

struct origin {
	int64_t call_id;        /* api_calls.id or -1 */
	uint32_t call;          /* index into calls or NONE32 */
	uint32_t key;
	int64_t db, origin_ts, ack, S, D;
	int64_t event_id, ev_ts;
	uint32_t cmd, node;
	uint8_t cls, has_ev_val, keymap, valid;
	uint64_t ev_val;
	uint32_t nv_off, nv_n;  /* the call's window values of this key, in ctx.nv */
	uint32_t id;            /* 1-based, in (origin_ts, call, key) order */
	uint64_t drops;         /* drops in its window (UINT64_MAX: not placeable) */
	uint32_t gapconn, ngapconns;
};

struct prop {
	uint32_t o, rcpt, cmd, proto;
	int64_t arr_ts, arr_id;
	uint8_t via, cls, missed, pending;
};

struct stale {
	uint32_t o, node;
	int64_t ts, d, event_id;
	uint64_t val;
};

struct span {
	int64_t lo, hi; /* drops happened in (lo, hi] */
	uint64_t count;
};

struct warn {
	char *text;
	int64_t lo, hi;
	uint32_t o;     /* origin index or NONE32 */
};

struct nvpair {
	uint32_t o;
	uint64_t v;
};

struct lrcpt {
	uint32_t ep, proto;
	uint8_t held_srv, held_trk, held_sub;
};

struct ctx {
	sqlite3 *db;
	int64_t deadline;
	const struct ct_analyze_opts *o;
	int api_mode;
	struct strtab S;
	uint8_t *epflags;
	size_t nepflags;

	struct conn *conns;
	size_t nconns, capconns;
	struct row *flush;
	size_t nflush, capflush;
	struct call *calls;
	size_t ncalls, capcalls;
	struct span *spans;
	size_t nspans, capspans;
	uint64_t total_drops, total_gaps;
	int64_t capture_end, last_event_id;

	struct origin *org;
	size_t norg, caporg;
	struct nvpair *nv;
	size_t nnv, capnv;
	struct prop *prop;
	size_t nprop, capprop;
	struct stale *sread, *sset;
	size_t nsread, capsread, nsset, capsset;
	struct warn *warns;
	size_t nwarns, capwarns;
	uint64_t warns_dropped;
	int truncated_rows, truncated_results;
	uint64_t keymap_too_long;
	uint64_t pending;

	/* per key */
	struct row *rows, *tmp;
	size_t nrows, caprows, captmp;
	uint32_t *local_of, *stamp_of;
	size_t caplocal;
	uint32_t stamp;
	struct lrcpt *lr;
	size_t nlr, caplr;
	uint32_t *chg_off, *chg, *src_off, *src;
	size_t capchg_off, capchg, capsrc_off, capsrc;
	uint32_t *ko, *kack;
	size_t nko, capko, capkack;
	uint32_t *gapc;
	size_t ngapc, capgapc;
	struct vmap vm;
	int64_t key_db;

	sqlite3_stmt *q_key;
};

/* ---- SQL helpers ---- */

static int prep(struct ctx *c, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(c->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : CT_ESQL;
}

static int exec(struct ctx *c, const char *sql)
{
	return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : CT_ESQL;
}

static int64_t col_i64(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

static int col_text_is(sqlite3_stmt *st, int i, const char *s)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	return t && n == strlen(s) && memcmp(t, s, n) == 0;
}

static int col_enum(sqlite3_stmt *st, int i, const char *const *names, int n)
{
	for (int k = 0; k < n; k++)
		if (col_text_is(st, i, names[k]))
			return k;
	return n;
}

static int col_intern(struct ctx *c, sqlite3_stmt *st, int i, uint32_t *id)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL) {
		*id = NONE32;
		return 0;
	}
	const void *p = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	return st_intern(&c->S, p ? p : "", n, id);
}

/* The IP part of "ip:port" or "[v6]:port". */
static int intern_ip(struct ctx *c, const char *ep, size_t n, uint32_t *id)
{
	size_t end = n;
	if (n && ep[0] == '[') {
		const char *b = memchr(ep, ']', n);
		if (b)
			end = (size_t)(b - ep) + 1;
	} else {
		for (size_t i = n; i > 0; i--)
			if (ep[i - 1] == ':') {
				end = i - 1;
				break;
			}
	}
	return st_intern(&c->S, ep, end, id);
}

static uint8_t epflag(const struct ctx *c, uint32_t id)
{
	return id != NONE32 && id < c->nepflags ? c->epflags[id] : 0;
}

static int set_epflag(struct ctx *c, uint32_t id, uint8_t f)
{
	if (id == NONE32)
		return 0;
	if (id >= c->nepflags) {
		if (grow_zero(&c->epflags, &c->nepflags, (size_t)id + 1, 1))
			return CT_ENOMEM;
	}
	c->epflags[id] |= f;
	return 0;
}

/* Parses the stored fingerprint (16 hex digits); any other text is hashed instead. */
static uint64_t parse_hash(const unsigned char *t, size_t n)
{
	uint64_t v = 0;
	if (n == 16) {
		size_t i;
		for (i = 0; i < 16; i++) {
			unsigned ch = t[i], d;
			if (ch >= '0' && ch <= '9')
				d = ch - '0';
			else if (ch >= 'a' && ch <= 'f')
				d = ch - 'a' + 10;
			else if (ch >= 'A' && ch <= 'F')
				d = ch - 'A' + 10;
			else
				break;
			v = v << 4 | d;
		}
		if (i == 16)
			return v;
	}
	return XXH3_64bits(t, n);
}

static struct conn *find_conn(struct ctx *c, int64_t id, uint32_t *idx)
{
	size_t lo = 0, hi = c->nconns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->conns[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nconns && c->conns[lo].id == id) {
		*idx = (uint32_t)lo;
		return &c->conns[lo];
	}
	*idx = NONE32;
	return NULL;
}

static int is_write_method(const char *m)
{
	static const char *const w[] = { "POST", "PUT", "PATCH", "DELETE" };
	if (!m)
		return 0;
	for (size_t i = 0; i < CT_ARRAY_LEN(w); i++) {
		size_t k = 0;
		while (w[i][k] && m[k] && (m[k] & ~0x20) == w[i][k])
			k++;
		if (!w[i][k] && !m[k])
			return 1;
	}
	return 0;
}

/* ---- loading ---- */

#define ROW_COLS                                                                               \
	"event_id, ts_ns, first_ts_ns, dir, via, cmd, class, status, latency_ns, value_hash, db," \
	" detail, flags, conn_id, recipient, proto"

/* Reads one timeline row (ROW_COLS) and says what it is for the analysis. */
static int load_row(struct ctx *c, sqlite3_stmt *st, struct row *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->ts = sqlite3_column_int64(st, 1);
	r->first_ts = col_i64(st, 2, r->ts);
	if (r->first_ts <= 0 || r->first_ts > r->ts)
		r->first_ts = r->ts;
	r->dir = col_text_is(st, 3, "s2c");
	r->via = (uint8_t)col_enum(st, 4, via_names, V_NONE);
	r->cls = (uint8_t)col_enum(st, 6, cls_names, C_NONE);
	r->status = (uint8_t)col_enum(st, 7, status_names, S_NONE);
	r->latency = col_i64(st, 8, -1);
	if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
		r->has_val = 1;
		r->val = parse_hash(sqlite3_column_text(st, 9), (size_t)sqlite3_column_bytes(st, 9));
	}
	r->db = col_i64(st, 10, NO_DB);
	r->evflags = (uint32_t)col_i64(st, 12, 0);
	int rc;
	if ((rc = col_intern(c, st, 5, &r->cmd)) || (rc = col_intern(c, st, 14, &r->rcpt)) ||
	    (rc = col_intern(c, st, 15, &r->proto)))
		return rc;
	struct conn *cn = find_conn(c, sqlite3_column_int64(st, 13), &r->conn);
	r->local = r->clocal = NONE32;

	int failed = r->status == S_ERROR || (r->cls == C_WRITE && r->status == S_MISS);
	int push = r->via == V_PUSH;
	int flushall = push && r->cls == C_INVALIDATE && col_text_is(st, 11, "flush all");
	int tracking = push && (col_text_is(st, 5, "INVALIDATE") || col_text_is(st, 11, "tracking") ||
				flushall);
	if (!failed && (r->cls == C_WRITE || r->cls == C_DELETE || r->cls == C_INVALIDATE ||
			r->cls == C_EXPIRE || r->cls == C_FLUSH))
		r->kind |= K_CHANGE;
	if (!failed && !push && (r->kind & K_CHANGE || r->cls == C_PUBLISH))
		r->kind |= K_SRC;
	if (!failed && !push && r->dir == 0 && r->via == V_COMMAND &&
	    (r->cls == C_WRITE || r->cls == C_DELETE || r->cls == C_INVALIDATE ||
	     r->cls == C_PUBLISH || (r->cls == C_EXPIRE && c->api_mode)))
		r->kind |= K_CAND;
	if (push && r->cls == C_INVALIDATE) {
		if (tracking)
			r->kind |= K_TRKPUSH;
		else
			r->kind |= K_SUBPUSH;
	}
	if (r->cls == C_READ && r->status == S_HIT && r->has_val && !(r->evflags & CT_EV_STALE))
		r->kind |= K_READHIT;
	if (r->cls == C_WRITE && r->dir == 0 && r->via == V_COMMAND && r->has_val && !failed)
		r->kind |= K_SETCAND;
	if (r->cls == C_READ && r->dir == 0 && cn && cn->tracking)
		r->kind |= K_TRKREAD;
	return 0;
}

static int load_conns(struct ctx *c)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(c,
		      "SELECT c.id, c.client, c.server, c.first_ts_ns, c.last_ts_ns,"
		      " COALESCE(c.gaps_c2s, 0) + COALESCE(c.gaps_s2c, 0),"
		      " COALESCE(lc.endpoint, c.client), COALESCE(ls.endpoint, c.server)"
		      " FROM connections c"
		      " LEFT JOIN node_links lc ON lc.conn_id = c.id AND lc.side = 'client'"
		      " LEFT JOIN node_links ls ON ls.conn_id = c.id AND ls.side = 'server'"
		      " ORDER BY c.id",
		      &st);
	while (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = CT_ESQL;
			break;
		}
		if ((rc = grow(&c->conns, &c->capconns, c->nconns + 1, sizeof *c->conns)))
			break;
		struct conn *k = &c->conns[c->nconns];
		memset(k, 0, sizeof *k);
		k->id = sqlite3_column_int64(st, 0);
		k->first_ts = col_i64(st, 3, 0);
		k->last_ts = col_i64(st, 4, 0);
		if (k->last_ts <= 0)
			k->last_ts = TS_MAX; /* still open in a live capture */
		k->gaps = (uint64_t)col_i64(st, 5, 0);
		if ((rc = col_intern(c, st, 1, &k->client)) || (rc = col_intern(c, st, 2, &k->server)) ||
		    (rc = col_intern(c, st, 6, &k->client_ep)) ||
		    (rc = col_intern(c, st, 7, &k->server_ep)))
			break;
		k->client_ip = NONE32;
		if (k->client != NONE32 &&
		    (rc = intern_ip(c, c->S.str[k->client], c->S.len[k->client], &k->client_ip)))
			break;
		c->nconns++;
		if (c->nconns > 1 && c->conns[c->nconns - 2].id >= k->id)
			c->nconns--; /* duplicate id (cannot happen: primary key) */
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;

	/* Which connections carry tracking pushes; which servers' changes are observed; which
	 * client IPs send changes (application hosts). */
	rc = prep(c,
		  "SELECT conn_id, dir, via,"
		  " (cmd = 'INVALIDATE' OR detail IN ('tracking', 'flush all'))"
		  " FROM events WHERE class IN ('write','delete','invalidate','expire','flush','publish')"
		  " GROUP BY 1, 2, 3, 4",
		  &st);
	while (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = CT_ESQL;
			break;
		}
		uint32_t idx;
		struct conn *k = find_conn(c, sqlite3_column_int64(st, 0), &idx);
		if (!k)
			continue;
		int s2c = col_text_is(st, 1, "s2c");
		int push = col_text_is(st, 2, "push");
		if (push) {
			if (sqlite3_column_int(st, 3))
				k->tracking = 1;
			continue;
		}
		if ((rc = set_epflag(c, s2c ? k->client_ep : k->server_ep, EP_OBSERVED)))
			break;
		if (!s2c && col_text_is(st, 2, "command") &&
		    (rc = set_epflag(c, k->client_ip, IP_APPCAND)))
			break;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Keyless flush rows and flush-all pushes: they are merged into every key's rows. */
static int load_flushes(struct ctx *c)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(c,
		      "SELECT " ROW_COLS " FROM timeline WHERE key IS NULL"
		      " AND class IN ('flush', 'invalidate') ORDER BY ts_ns, event_id",
		      &st);
	while (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = CT_ESQL;
			break;
		}
		struct row r;
		if ((rc = load_row(c, st, &r)))
			break;
		if (r.cls == C_FLUSH) {
			if (r.via == V_PUSH || !(r.kind & K_CHANGE))
				continue;
		} else if (r.via == V_PUSH && col_text_is(st, 11, "flush all")) {
			r.kind |= K_FLUSHALL | K_CHANGE;
			r.kind &= ~(uint32_t)K_SRC;
		} else {
			continue;
		}
		r.kind |= K_FROMF;
		r.kind &= ~(uint32_t)(K_CAND | K_SETCAND | K_READHIT);
		if ((rc = grow(&c->flush, &c->capflush, c->nflush + 1, sizeof *c->flush)))
			break;
		c->flush[c->nflush++] = r;
	}
	sqlite3_finalize(st);
	return rc;
}

static int table_exists(struct ctx *c, const char *name, int *yes)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(c, "SELECT 1 FROM sqlite_master WHERE name = ?1", &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	*yes = s == SQLITE_ROW;
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? 0 : CT_ESQL;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *s = ct_malloc(n + 1);
	if (!s)
		return NULL;
	if (t && n)
		memcpy(s, t, n);
	s[n] = '\0';
	return s;
}

static int load_calls(struct ctx *c)
{
	int yes;
	int rc = table_exists(c, "api_calls", &yes);
	if (rc || !yes)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = prep(c,
		  "SELECT id, method, path, status, ts_start_ns, ts_end_ns, server FROM api_calls"
		  " WHERE ts_start_ns IS NOT NULL ORDER BY ts_start_ns, id",
		  &st);
	while (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = CT_ESQL;
			break;
		}
		if (!is_write_method((const char *)sqlite3_column_text(st, 1)))
			continue;
		if ((rc = grow(&c->calls, &c->capcalls, c->ncalls + 1, sizeof *c->calls)))
			break;
		struct call *k = &c->calls[c->ncalls];
		memset(k, 0, sizeof *k);
		k->id = sqlite3_column_int64(st, 0);
		k->method = col_dup(st, 1);
		k->path = col_dup(st, 2);
		if (!k->method || !k->path) {
			ct_free(k->method);
			ct_free(k->path);
			rc = CT_ENOMEM;
			break;
		}
		c->ncalls++;
		k->status = col_i64(st, 3, -1);
		k->start = sqlite3_column_int64(st, 4);
		k->end = col_i64(st, 5, NO_TS);
		if (k->end != NO_TS && k->end < k->start)
			k->end = k->start;
		k->server_ip = NONE32;
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			rc = intern_ip(c, (const char *)sqlite3_column_text(st, 6),
				       (size_t)sqlite3_column_bytes(st, 6), &k->server_ip);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Drop intervals from the live samples and the run totals. */
static int load_drops(struct ctx *c)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(c,
		      "SELECT ts_ns, COALESCE(kernel_drops, 0) + COALESCE(iface_drops, 0)"
		      " FROM capture_drops ORDER BY ts_ns",
		      &st);
	int64_t prev_ts = NO_TS;
	uint64_t prev = 0;
	int nsamples = 0;
	while (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = CT_ESQL;
			break;
		}
		int64_t ts = sqlite3_column_int64(st, 0);
		uint64_t d = (uint64_t)sqlite3_column_int64(st, 1);
		nsamples++;
		if (ts > c->capture_end)
			c->capture_end = ts;
		if (d > prev) {
			if ((rc = grow(&c->spans, &c->capspans, c->nspans + 1, sizeof *c->spans)))
				break;
			c->spans[c->nspans++] = (struct span){ prev_ts, ts, d - prev };
		}
		if (d > prev)
			prev = d;
		prev_ts = ts;
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	rc = prep(c,
		  "SELECT COALESCE(kernel_drops, 0) + COALESCE(interface_drops, 0),"
		  " COALESCE(reassembly_gaps, 0), last_ts_ns FROM run_stats",
		  &st);
	uint64_t run_drops = 0;
	while (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = CT_ESQL;
			break;
		}
		run_drops += (uint64_t)sqlite3_column_int64(st, 0);
		c->total_gaps += (uint64_t)sqlite3_column_int64(st, 1);
		int64_t last = col_i64(st, 2, 0);
		if (last > c->capture_end)
			c->capture_end = last;
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	c->total_drops = run_drops > prev ? run_drops : prev;
	if (run_drops > prev) {
		if ((rc = grow(&c->spans, &c->capspans, c->nspans + 1, sizeof *c->spans)))
			return rc;
		/* Drops after the last sample, or anywhere when no sample places them. */
		c->spans[c->nspans++] =
			(struct span){ nsamples ? prev_ts : NO_TS, TS_MAX, run_drops - prev };
	}
	return 0;
}

static int scalar(struct ctx *c, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(c, sql, &st);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		*out = col_i64(st, 0, 0);
	else if (s != SQLITE_DONE)
		rc = CT_ESQL;
	sqlite3_finalize(st);
	return rc;
}

/* ---- origins of the API write calls ---- */

static int add_origin(struct ctx *c, struct origin **out)
{
	if (c->norg >= CT_ANALYZE_RESULT_ROWS_MAX) {
		c->truncated_results = 1;
		*out = NULL;
		return 0;
	}
	if (grow(&c->org, &c->caporg, c->norg + 1, sizeof *c->org))
		return CT_ENOMEM;
	struct origin *o = &c->org[c->norg++];
	memset(o, 0, sizeof *o);
	o->call_id = -1;
	o->call = NONE32;
	o->db = NO_DB;
	o->ack = NO_TS;
	o->event_id = -1;
	o->ev_ts = NO_TS;
	o->cmd = o->node = NONE32;
	o->cls = C_NONE;
	o->valid = 1;
	o->gapconn = NONE32;
	*out = o;
	return 0;
}

/* Does the call's application host filter apply, and does connection k pass it? */
static int app_conn(const struct ctx *c, const struct call *k, const struct conn *cn)
{
	if (k->server_ip == NONE32 || !(epflag(c, k->server_ip) & IP_APPCAND))
		return 1;
	return cn && cn->client_ip == k->server_ip;
}

static int api_origins(struct ctx *c)
{
	sqlite3_stmt *st = NULL;
	uint32_t *stamp = NULL, *which = NULL;
	size_t capstamp = 0, capwhich = 0;
	char *key = NULL;
	int rc = prep(c,
		      "SELECT id, key, conn_id, ts_ns, class, value_hash, status FROM events"
		      " WHERE ts_ns BETWEEN ?1 AND ?2 AND dir = 'c2s' AND via = 'command'"
		      " AND key IS NOT NULL"
		      " AND class IN ('write','delete','invalidate','expire','publish')"
		      " ORDER BY ts_ns, id",
		      &st);
	if (!rc && c->o->nkey_maps && !(key = ct_malloc(CT_ANALYZE_KEY_BYTES_MAX + 1)))
		rc = CT_ENOMEM;
	for (size_t i = 0; !rc && i < c->ncalls; i++) {
		struct call *k = &c->calls[i];
		int64_t hi = k->end != NO_TS ? k->end : k->start + c->deadline;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, k->start);
		sqlite3_bind_int64(st, 2, hi);
		for (;;) {
			int s = sqlite3_step(st);
			if (s == SQLITE_DONE)
				break;
			if (s != SQLITE_ROW) {
				rc = CT_ESQL;
				break;
			}
			int status = col_enum(st, 6, status_names, S_NONE);
			int cls = col_enum(st, 4, cls_names, C_NONE);
			if (status == S_ERROR || (cls == C_WRITE && status == S_MISS))
				continue;
			uint32_t ci;
			struct conn *cn = find_conn(c, sqlite3_column_int64(st, 2), &ci);
			if (!app_conn(c, k, cn))
				continue;
			uint32_t kid;
			if ((rc = col_intern(c, st, 1, &kid)))
				break;
			if (grow_zero(&stamp, &capstamp, (size_t)kid + 1, sizeof *stamp) ||
			    grow(&which, &capwhich, (size_t)kid + 1, sizeof *which)) {
				rc = CT_ENOMEM;
				break;
			}
			struct origin *o;
			if (stamp[kid] != i + 1) {
				if ((rc = add_origin(c, &o)))
					break;
				if (!o)
					continue;
				stamp[kid] = (uint32_t)i + 1;
				which[kid] = (uint32_t)(o - c->org);
				o->call_id = k->id;
				o->call = (uint32_t)i;
				o->key = kid;
				o->origin_ts = k->start;
				o->ack = k->end;
				o->event_id = sqlite3_column_int64(st, 0);
				o->ev_ts = sqlite3_column_int64(st, 3);
			} else {
				o = &c->org[which[kid]];
			}
			if (cls == C_WRITE && sqlite3_column_type(st, 5) != SQLITE_NULL) {
				if (grow(&c->nv, &c->capnv, c->nnv + 1, sizeof *c->nv)) {
					rc = CT_ENOMEM;
					break;
				}
				c->nv[c->nnv++] = (struct nvpair){
					(uint32_t)(o - c->org),
					parse_hash(sqlite3_column_text(st, 5),
						   (size_t)sqlite3_column_bytes(st, 5))
				};
			}
		}
		if (rc)
			break;
		/* --key-map: the mapped key is an origin of a call that did not fail. */
		if (k->status >= 400)
			continue;
		for (uint32_t m = 0; !rc && m < c->o->nkey_maps; m++) {
			int n = ct_key_map_apply(&c->o->key_maps[m], k->method, k->path, key,
						 CT_ANALYZE_KEY_BYTES_MAX + 1);
			if (n == CT_ELIMIT)
				c->keymap_too_long++;
			if (n < 0)
				continue;
			uint32_t kid;
			if ((rc = st_intern(&c->S, key, (size_t)n, &kid)))
				break;
			if (kid < capstamp && stamp[kid] == i + 1)
				continue;
			if (grow_zero(&stamp, &capstamp, (size_t)kid + 1, sizeof *stamp) ||
			    grow(&which, &capwhich, (size_t)kid + 1, sizeof *which)) {
				rc = CT_ENOMEM;
				break;
			}
			struct origin *o;
			if ((rc = add_origin(c, &o)) || !o)
				continue;
			stamp[kid] = (uint32_t)i + 1;
			which[kid] = (uint32_t)(o - c->org);
			o->call_id = k->id;
			o->call = (uint32_t)i;
			o->key = kid;
			o->origin_ts = k->start;
			o->ack = k->end;
			o->keymap = 1;
		}
	}
	sqlite3_finalize(st);
	ct_free(stamp);
	ct_free(which);
	ct_free(key);
	return rc;
}

/* ---- one key ---- */

static int is_new_val(const struct ctx *c, const struct origin *o, uint64_t v)
{
	if (o->has_ev_val && o->ev_val == v)
		return 1;
	for (uint32_t i = 0; i < o->nv_n; i++)
		if (c->nv[o->nv_off + i].v == v)
			return 1;
	return 0;
}

static int is_old(const struct ctx *c, const struct origin *o, uint64_t v)
{
	return vm_get(&c->vm, v) < o->S && !is_new_val(c, o, v);
}

static uint32_t local_find(const struct ctx *c, uint32_t ep)
{
	if (ep == NONE32 || ep >= c->caplocal || c->stamp_of[ep] != c->stamp)
		return NONE32;
	return c->local_of[ep];
}

static int local_get(struct ctx *c, uint32_t ep, uint32_t proto, uint32_t *out)
{
	*out = NONE32;
	if (ep == NONE32)
		return 0;
	if (ep >= c->caplocal) {
		size_t cap = c->caplocal, cap2 = c->caplocal;
		if (grow(&c->local_of, &cap, (size_t)ep + 1, sizeof *c->local_of) ||
		    grow(&c->stamp_of, &cap2, (size_t)ep + 1, sizeof *c->stamp_of))
			return CT_ENOMEM;
		size_t m = cap < cap2 ? cap : cap2;
		memset(c->stamp_of + c->caplocal, 0, (m - c->caplocal) * sizeof *c->stamp_of);
		c->caplocal = m;
	}
	if (c->stamp_of[ep] == c->stamp) {
		*out = c->local_of[ep];
		return 0;
	}
	if (grow(&c->lr, &c->caplr, c->nlr + 1, sizeof *c->lr))
		return CT_ENOMEM;
	c->stamp_of[ep] = c->stamp;
	c->local_of[ep] = (uint32_t)c->nlr;
	c->lr[c->nlr] = (struct lrcpt){ .ep = ep, .proto = proto };
	*out = (uint32_t)c->nlr++;
	return 0;
}

static size_t lower_ts(const struct ctx *c, const uint32_t *list, size_t n, int64_t ts)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->rows[list[mid]].ts < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Did the server that sent push y record what causes it, in [o->S, y->ts]? */
static int push_caused(const struct ctx *c, const struct origin *o, const struct row *y)
{
	const struct conn *cn = y->conn != NONE32 ? &c->conns[y->conn] : NULL;
	if (!cn || !(epflag(c, cn->server_ep) & EP_OBSERVED))
		return 1; /* the server's own changes are not in the capture */
	uint32_t p = local_find(c, cn->server_ep);
	if (p == NONE32)
		return 0;
	const uint32_t *l = c->src + c->src_off[p];
	size_t n = c->src_off[p + 1] - c->src_off[p];
	for (size_t i = lower_ts(c, l, n, o->S); i < n; i++) {
		const struct row *s = &c->rows[l[i]];
		if (s->ts > y->ts)
			break;
		if (!(y->kind & K_FLUSHALL) || s->cls == C_FLUSH)
			return 1;
	}
	return 0;
}

/* The first arrival of origin o at local recipient L: a change with ts in [o->S, hi_ts] and
 * row index below hi_idx. keyed: flush rows do not count. Returns the row index or -1. */
static int64_t first_arrival(const struct ctx *c, const struct origin *o, uint32_t L,
			     int64_t hi_ts, size_t hi_idx, int keyed)
{
	if (L == NONE32)
		return -1;
	const uint32_t *l = c->chg + c->chg_off[L];
	size_t n = c->chg_off[L + 1] - c->chg_off[L];
	for (size_t i = lower_ts(c, l, n, o->S); i < n; i++) {
		const struct row *y = &c->rows[l[i]];
		if (y->ts > hi_ts || l[i] >= hi_idx)
			return -1;
		if (keyed && (y->kind & K_FROMF))
			continue;
		if (y->cls == C_WRITE && y->has_val && is_old(c, o, y->val))
			continue;
		if (y->via == V_PUSH && !push_caused(c, o, y))
			continue;
		return l[i];
	}
	return -1;
}

static int load_key_rows(struct ctx *c, uint32_t key, int64_t lo, int64_t hi)
{
	sqlite3_stmt *st = c->q_key;
	int rc = 0;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, c->S.str[key], (int)c->S.len[key], SQLITE_STATIC);
	c->nrows = 0;
	c->key_db = NO_DB;
	for (;;) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW)
			return CT_ESQL;
		if (c->nrows >= CT_ANALYZE_KEY_ROWS_MAX) {
			c->truncated_rows = 1;
			break;
		}
		if (grow(&c->rows, &c->caprows, c->nrows + 1, sizeof *c->rows))
			return CT_ENOMEM;
		struct row *r = &c->rows[c->nrows];
		if ((rc = load_row(c, st, r)))
			return rc;
		if (c->key_db == NO_DB && r->db != NO_DB && r->via != V_PUSH)
			c->key_db = r->db;
		c->nrows++;
	}
	sqlite3_reset(st);
	if (c->nrows) {
		if (c->rows[0].ts < lo)
			lo = c->rows[0].ts;
		if (c->rows[c->nrows - 1].ts + c->deadline > hi)
			hi = c->rows[c->nrows - 1].ts + c->deadline;
	}
	/* Merge the flushes of [lo, hi] in (ts, event id) order. */
	size_t f = 0, fn = c->nflush;
	{
		size_t a = 0, b = fn;
		while (a < b) {
			size_t m = a + (b - a) / 2;
			if (c->flush[m].ts < lo)
				a = m + 1;
			else
				b = m;
		}
		f = a;
	}
	size_t fend = f;
	while (fend < fn && c->flush[fend].ts <= hi)
		fend++;
	if (f == fend)
		return 0;
	if (grow(&c->tmp, &c->captmp, c->nrows + (fend - f), sizeof *c->tmp))
		return CT_ENOMEM;
	size_t i = 0, n = 0;
	while (i < c->nrows || f < fend) {
		const struct row *fr = f < fend ? &c->flush[f] : NULL;
		if (fr && c->key_db != NO_DB && fr->db != NO_DB && fr->db != c->key_db &&
		    fr->cmd != NONE32 && c->S.len[fr->cmd] == 7 &&
		    memcmp(c->S.str[fr->cmd], "FLUSHDB", 7) == 0) {
			f++;
			continue;
		}
		if (i < c->nrows &&
		    (!fr || c->rows[i].ts < fr->ts || (c->rows[i].ts == fr->ts && c->rows[i].id < fr->id)))
			c->tmp[n++] = c->rows[i++];
		else
			c->tmp[n++] = c->flush[f++];
	}
	struct row *t = c->rows;
	size_t tc = c->caprows;
	c->rows = c->tmp;
	c->caprows = c->captmp;
	c->tmp = t;
	c->captmp = tc;
	c->nrows = n;
	return 0;
}

/* Local recipients, their change and source lists, first-seen values, gap connections. */
static int build_locals(struct ctx *c)
{
	int rc;
	c->stamp++;
	if (c->stamp == 0) { /* wrapped: forget every stamp */
		if (c->stamp_of)
			memset(c->stamp_of, 0, c->caplocal * sizeof *c->stamp_of);
		c->stamp = 1;
	}
	c->nlr = 0;
	c->ngapc = 0;
	size_t nval = 0;
	for (size_t i = 0; i < c->nrows; i++) {
		struct row *r = &c->rows[i];
		if ((rc = local_get(c, r->rcpt, r->proto, &r->local)))
			return rc;
		if ((r->kind & K_TRKREAD) && r->conn != NONE32 &&
		    (rc = local_get(c, c->conns[r->conn].client_ep, r->proto, &r->clocal)))
			return rc;
		if (r->has_val && !(r->kind & K_FROMF))
			nval++;
	}
	size_t R = c->nlr;
	if (grow(&c->chg_off, &c->capchg_off, R + 1, sizeof *c->chg_off) ||
	    grow(&c->src_off, &c->capsrc_off, R + 1, sizeof *c->src_off))
		return CT_ENOMEM;
	memset(c->chg_off, 0, (R + 1) * sizeof *c->chg_off);
	memset(c->src_off, 0, (R + 1) * sizeof *c->src_off);
	size_t nchg = 0, nsrc = 0;
	for (size_t i = 0; i < c->nrows; i++) {
		const struct row *r = &c->rows[i];
		if (r->local == NONE32)
			continue;
		if (r->kind & K_CHANGE) {
			c->chg_off[r->local + 1]++;
			nchg++;
		}
		if (r->kind & K_SRC) {
			c->src_off[r->local + 1]++;
			nsrc++;
		}
	}
	for (size_t L = 0; L < R; L++) {
		c->chg_off[L + 1] += c->chg_off[L];
		c->src_off[L + 1] += c->src_off[L];
	}
	if (grow(&c->chg, &c->capchg, nchg + 1, sizeof *c->chg) ||
	    grow(&c->src, &c->capsrc, nsrc + 1, sizeof *c->src))
		return CT_ENOMEM;
	{
		/* Filled in row order, so that each list is sorted; cursors start at the offsets. */
		uint32_t *cur = ct_malloc((2 * R + 2) * sizeof *cur);
		if (!cur)
			return CT_ENOMEM;
		memcpy(cur, c->chg_off, (R + 1) * sizeof *cur);
		memcpy(cur + R + 1, c->src_off, (R + 1) * sizeof *cur);
		for (size_t i = 0; i < c->nrows; i++) {
			const struct row *r = &c->rows[i];
			if (r->local == NONE32)
				continue;
			if (r->kind & K_CHANGE)
				c->chg[cur[r->local]++] = (uint32_t)i;
			if (r->kind & K_SRC)
				c->src[cur[R + 1 + r->local]++] = (uint32_t)i;
		}
		ct_free(cur);
	}
	if ((rc = vm_reset(&c->vm, nval)))
		return rc;
	for (size_t i = 0; i < c->nrows; i++) {
		const struct row *r = &c->rows[i];
		if (r->kind & K_FROMF)
			continue;
		if (r->has_val)
			vm_min(&c->vm, r->val, r->ts);
		if (r->conn != NONE32 && c->conns[r->conn].gaps) {
			size_t j;
			for (j = 0; j < c->ngapc && c->gapc[j] != r->conn; j++)
				;
			if (j == c->ngapc) {
				if (grow(&c->gapc, &c->capgapc, c->ngapc + 1, sizeof *c->gapc))
					return CT_ENOMEM;
				c->gapc[c->ngapc++] = r->conn;
			}
		}
	}
	return 0;
}

static void set_search(struct ctx *c, struct origin *o, const struct row *ev)
{
	o->S = o->origin_ts;
	o->D = o->origin_ts > TS_MAX - c->deadline ? TS_MAX : o->origin_ts + c->deadline;
	if (!ev)
		return;
	if (ev->first_ts > o->S)
		o->S = ev->first_ts;
	o->event_id = ev->id;
	o->cmd = ev->cmd;
	o->cls = ev->cls;
	o->node = ev->rcpt;
	o->db = ev->db;
	if (ev->cls == C_WRITE && ev->has_val) {
		o->has_ev_val = 1;
		o->ev_val = ev->val;
	}
}

/* API mode: finds each origin's event among the key's rows (or, for a --key-map origin, the
 * first client change of the key within the deadline). */
static void resolve_api(struct ctx *c, struct origin *o)
{
	const struct row *ev = NULL;
	if (o->event_id >= 0) {
		for (size_t i = 0; i < c->nrows; i++)
			if (c->rows[i].id == o->event_id) {
				ev = &c->rows[i];
				break;
			}
	} else if (o->keymap) {
		const struct call *k = &c->calls[o->call];
		int64_t hi = o->origin_ts > TS_MAX - c->deadline ? TS_MAX : o->origin_ts + c->deadline;
		for (size_t i = 0; i < c->nrows; i++) {
			const struct row *r = &c->rows[i];
			if (r->ts < o->origin_ts || !(r->kind & K_CAND))
				continue;
			if (r->ts > hi)
				break;
			if (app_conn(c, k, r->conn != NONE32 ? &c->conns[r->conn] : NULL)) {
				ev = r;
				break;
			}
		}
	}
	set_search(c, o, ev);
	if (o->db == NO_DB)
		o->db = c->key_db;
}

/* Self mode: decides which client changes start origins (see the top of this file). */
static int self_origins(struct ctx *c, uint32_t key)
{
	uint32_t cur = NONE32;
	for (size_t i = 0; i < c->nrows; i++) {
		const struct row *x = &c->rows[i];
		if (!(x->kind & K_CAND))
			continue;
		if (cur != NONE32) {
			const struct origin *o = &c->org[cur];
			int in_dl = x->ts <= o->D;
			int old = x->cls == C_WRITE && x->has_val && is_old(c, o, x->val);
			int64_t a = first_arrival(c, o, x->local, TS_MAX, i, 0);
			if (in_dl && old && a >= 0)
				continue; /* a stale set of the current origin */
			if (in_dl && !old && a < 0 && (x->kind & K_CHANGE))
				continue; /* its node's arrival for the current origin */
		}
		struct origin *o;
		int rc = add_origin(c, &o);
		if (rc)
			return rc;
		if (!o)
			return 0;
		o->key = key;
		o->origin_ts = x->first_ts;
		o->ack = x->latency >= 0 && x->ts <= TS_MAX - x->latency ? x->ts + x->latency : x->ts;
		set_search(c, o, x);
		if ((rc = grow(&c->ko, &c->capko, c->nko + 1, sizeof *c->ko)))
			return rc;
		c->ko[c->nko++] = (uint32_t)(o - c->org);
		cur = (uint32_t)(o - c->org);
	}
	return 0;
}

static int cmp_by_S(const void *a, const void *b, void *arg)
{
	const struct ctx *sort_ctx = arg;
	const struct origin *x = &sort_ctx->org[*(const uint32_t *)a];
	const struct origin *y = &sort_ctx->org[*(const uint32_t *)b];
	if (x->S != y->S)
		return x->S < y->S ? -1 : 1;
	if (x->origin_ts != y->origin_ts)
		return x->origin_ts < y->origin_ts ? -1 : 1;
	if (x->call_id != y->call_id)
		return x->call_id < y->call_id ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int cmp_by_ack(const void *a, const void *b, void *arg)
{
	const struct ctx *sort_ctx = arg;
	const struct origin *x = &sort_ctx->org[*(const uint32_t *)a];
	const struct origin *y = &sort_ctx->org[*(const uint32_t *)b];
	if (x->ack != y->ack)
		return x->ack < y->ack ? -1 : 1;
	return cmp_by_S(a, b, arg);
}

static int add_prop(struct ctx *c, struct prop **out)
{
	*out = NULL;
	if (c->nprop >= CT_ANALYZE_RESULT_ROWS_MAX) {
		c->truncated_results = 1;
		return 0;
	}
	if (grow(&c->prop, &c->capprop, c->nprop + 1, sizeof *c->prop))
		return CT_ENOMEM;
	*out = &c->prop[c->nprop++];
	memset(*out, 0, sizeof **out);
	return 0;
}

static int add_stale(struct ctx *c, struct stale **v, size_t *n, size_t *cap, struct stale s)
{
	if (*n >= CT_ANALYZE_RESULT_ROWS_MAX) {
		c->truncated_results = 1;
		return 0;
	}
	if (grow(v, cap, *n + 1, sizeof **v))
		return CT_ENOMEM;
	(*v)[(*n)++] = s;
	return 0;
}

/* Held state before each origin, then its recipients and their arrivals. */
static int propagate(struct ctx *c)
{
	size_t p = 0;
	for (size_t q = 0; q < c->nko; q++) {
		uint32_t oi = c->ko[q];
		for (; p < c->nrows && c->rows[p].ts < c->org[oi].S; p++) {
			const struct row *r = &c->rows[p];
			if (r->local == NONE32)
				continue;
			struct lrcpt *L = &c->lr[r->local];
			L->proto = r->proto;
			if (r->kind & K_FROMF) {
				if (r->kind & K_FLUSHALL)
					L->held_trk = 0;
				continue;
			}
			if (r->via != V_PUSH)
				L->held_srv = 1;
			if (r->kind & K_TRKPUSH)
				L->held_trk = 0;
			if (r->kind & K_SUBPUSH)
				L->held_sub = 1;
			if (r->clocal != NONE32) {
				c->lr[r->clocal].held_trk = 1;
				c->lr[r->clocal].proto = r->proto;
			}
		}
		const struct origin *o = &c->org[oi];
		for (uint32_t L = 0; L < c->nlr; L++) {
			const struct lrcpt *lr = &c->lr[L];
			int held = lr->held_srv || lr->held_trk || lr->held_sub;
			int64_t a = first_arrival(c, o, L, o->D, c->nrows, 0);
			if (!held && (a < 0 || ((c->rows[a].kind & K_FROMF) &&
						first_arrival(c, o, L, o->D, c->nrows, 1) < 0)))
				continue;
			struct prop *pr;
			int rc = add_prop(c, &pr);
			if (rc)
				return rc;
			if (!pr)
				return 0;
			pr->o = oi;
			pr->rcpt = lr->ep;
			pr->proto = lr->proto;
			pr->cmd = NONE32;
			pr->via = V_NONE;
			pr->cls = C_NONE;
			pr->arr_ts = NO_TS;
			pr->arr_id = -1;
			if (a >= 0) {
				const struct row *y = &c->rows[a];
				pr->arr_ts = y->ts;
				pr->arr_id = y->id;
				pr->via = y->via;
				pr->cls = y->cls;
				pr->cmd = y->cmd;
				pr->proto = y->proto;
			} else if (c->capture_end < o->D) {
				pr->pending = 1;
				c->pending++;
			} else {
				pr->missed = 1;
			}
		}
	}
	return 0;
}

static int stale_checks(struct ctx *c)
{
	/* Origins by acknowledgement, for reads; ko is by search start, for sets. */
	size_t nack = 0;
	if (grow(&c->kack, &c->capkack, c->nko + 1, sizeof *c->kack))
		return CT_ENOMEM;
	for (size_t q = 0; q < c->nko; q++)
		if (c->org[c->ko[q]].ack != NO_TS)
			c->kack[nack++] = c->ko[q];
	sort_r(c->kack, nack, sizeof *c->kack, cmp_by_ack, c);
	for (size_t i = 0; i < c->nrows; i++) {
		const struct row *r = &c->rows[i];
		int rc = 0;
		if (r->kind & K_READHIT) {
			size_t lo = 0, hi = nack; /* first origin with ack >= ts */
			while (lo < hi) {
				size_t m = lo + (hi - lo) / 2;
				if (c->org[c->kack[m]].ack < r->ts)
					lo = m + 1;
				else
					hi = m;
			}
			if (lo > 0) {
				uint32_t oi = c->kack[lo - 1];
				const struct origin *o = &c->org[oi];
				if (is_old(c, o, r->val))
					rc = add_stale(c, &c->sread, &c->nsread, &c->capsread,
						       (struct stale){ oi, r->rcpt, r->ts, r->ts - o->ack,
								       r->id, r->val });
			}
		}
		if (!rc && (r->kind & K_SETCAND)) {
			size_t lo = 0, hi = c->nko; /* first origin with S > ts */
			while (lo < hi) {
				size_t m = lo + (hi - lo) / 2;
				if (c->org[c->ko[m]].S <= r->ts)
					lo = m + 1;
				else
					hi = m;
			}
			if (lo > 0) {
				uint32_t oi = c->ko[lo - 1];
				const struct origin *o = &c->org[oi];
				int64_t a;
				if (is_old(c, o, r->val) && (c->api_mode || r->ts <= o->D) &&
				    (a = first_arrival(c, o, r->local, o->D, i, 0)) >= 0 &&
				    c->rows[a].ts < r->ts)
					rc = add_stale(c, &c->sset, &c->nsset, &c->capsset,
						       (struct stale){ oi, r->rcpt, r->ts,
								       r->ts - c->rows[a].ts, r->id,
								       r->val });
			}
		}
		if (rc)
			return rc;
	}
	return 0;
}

static void validity(struct ctx *c)
{
	for (size_t q = 0; q < c->nko; q++) {
		struct origin *o = &c->org[c->ko[q]];
		for (size_t s = 0; s < c->nspans; s++) {
			const struct span *sp = &c->spans[s];
			if (sp->lo >= o->D || sp->hi < o->origin_ts)
				continue;
			o->valid = 0;
			if (sp->lo == NO_TS && sp->hi == TS_MAX)
				o->drops = UINT64_MAX; /* no sample places them */
			else if (o->drops != UINT64_MAX)
				o->drops += sp->count;
		}
		for (size_t g = 0; g < c->ngapc; g++) {
			const struct conn *cn = &c->conns[c->gapc[g]];
			if (cn->first_ts <= o->D && cn->last_ts >= o->origin_ts) {
				o->valid = 0;
				if (o->gapconn == NONE32)
					o->gapconn = c->gapc[g];
				o->ngapconns++;
			}
		}
	}
}

static int do_key(struct ctx *c, uint32_t key, const uint32_t *cand, size_t ncand)
{
	int64_t lo = TS_MAX, hi = NO_TS;
	for (size_t i = 0; i < ncand; i++) {
		const struct origin *o = &c->org[cand[i]];
		if (o->origin_ts < lo)
			lo = o->origin_ts;
		int64_t d = o->origin_ts > TS_MAX - c->deadline ? TS_MAX : o->origin_ts + c->deadline;
		if (d > hi)
			hi = d;
	}
	int rc = load_key_rows(c, key, lo, hi);
	if (!rc)
		rc = build_locals(c);
	if (rc)
		return rc;
	c->nko = 0;
	if (c->api_mode) {
		if (grow(&c->ko, &c->capko, ncand + 1, sizeof *c->ko))
			return CT_ENOMEM;
		for (size_t i = 0; i < ncand; i++) {
			resolve_api(c, &c->org[cand[i]]);
			c->ko[c->nko++] = cand[i];
		}
	} else if ((rc = self_origins(c, key))) {
		return rc;
	}
	sort_r(c->ko, c->nko, sizeof *c->ko, cmp_by_S, c);
	if ((rc = propagate(c)) || (rc = stale_checks(c)))
		return rc;
	validity(c);
	return 0;
}

/* ---- output ---- */

static int cmp_origin(const void *a, const void *b, void *arg)
{
	const struct ctx *sort_ctx = arg;
	const struct origin *x = &sort_ctx->org[*(const uint32_t *)a];
	const struct origin *y = &sort_ctx->org[*(const uint32_t *)b];
	if (x->origin_ts != y->origin_ts)
		return x->origin_ts < y->origin_ts ? -1 : 1;
	if (x->call_id != y->call_id)
		return x->call_id < y->call_id ? -1 : 1;
	int k = st_cmp(&sort_ctx->S, x->key, y->key);
	if (k)
		return k;
	if (x->event_id != y->event_id)
		return x->event_id < y->event_id ? -1 : 1;
	return 0;
}

static int cmp_prop(const void *a, const void *b, void *arg)
{
	const struct ctx *sort_ctx = arg;
	const struct prop *x = a, *y = b;
	uint32_t ix = sort_ctx->org[x->o].id, iy = sort_ctx->org[y->o].id;
	if (ix != iy)
		return ix < iy ? -1 : 1;
	return st_cmp(&sort_ctx->S, x->rcpt, y->rcpt);
}

static int cmp_stale(const void *a, const void *b, void *arg)
{
	const struct ctx *sort_ctx = arg;
	const struct stale *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->event_id != y->event_id)
		return x->event_id < y->event_id ? -1 : 1;
	uint32_t ix = sort_ctx->org[x->o].id, iy = sort_ctx->org[y->o].id;
	return ix < iy ? -1 : ix > iy;
}

/* Key bytes for a warning: printable ASCII kept, others as \xNN, cut at a limit. */
static void show_key(const struct ctx *c, uint32_t key, char *buf, size_t len)
{
	size_t o = 0;
	const unsigned char *k = (const unsigned char *)c->S.str[key];
	size_t n = c->S.len[key];
	for (size_t i = 0; i < n && o + 8 < len; i++) {
		if (i >= CT_ANALYZE_KEY_SHOWN_MAX_BYTES) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '\\')
			buf[o++] = (char)k[i];
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", k[i]);
	}
	buf[o < len ? o : len - 1] = '\0';
}

static int add_warn(struct ctx *c, int64_t lo, int64_t hi, uint32_t o, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int add_warn(struct ctx *c, int64_t lo, int64_t hi, uint32_t o, const char *fmt, ...)
{
	if (c->nwarns >= CT_ANALYZE_WARNINGS_MAX) {
		c->warns_dropped++;
		return 0;
	}
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (grow(&c->warns, &c->capwarns, c->nwarns + 1, sizeof *c->warns))
		return CT_ENOMEM;
	char *t = ct_strdup(text);
	if (!t)
		return CT_ENOMEM;
	c->warns[c->nwarns++] = (struct warn){ t, lo, hi, o };
	return 0;
}

/* A duration in the largest unit that shows it exactly: "5 s", "250 ms", "1500 us", "7 ns". */
static void fmt_dur(int64_t ns, char *buf, size_t len)
{
	static const struct {
		int64_t div;
		const char *unit;
	} u[] = { { 1000000000, "s" }, { 1000000, "ms" }, { 1000, "us" }, { 1, "ns" } };
	for (size_t i = 0; i < CT_ARRAY_LEN(u); i++)
		if (ns % u[i].div == 0 || u[i].div == 1) {
			snprintf(buf, len, "%" PRId64 " %s", ns / u[i].div, u[i].unit);
			return;
		}
}

static int make_warnings(struct ctx *c, const uint32_t *order)
{
	int rc = 0, any_window = 0;
	char when[CT_TIME_STRLEN], dl[32], key[CT_ANALYZE_KEY_SHOWN_MAX_BYTES * 4 + 16];
	fmt_dur(c->deadline, dl, sizeof dl);
	for (size_t i = 0; !rc && i < c->norg; i++) {
		const struct origin *o = &c->org[order[i]];
		if (o->valid)
			continue;
		any_window = 1;
		ct_format_time((uint64_t)o->origin_ts, when, sizeof when);
		show_key(c, o->key, key, sizeof key);
		char call[48] = "";
		if (o->call_id >= 0)
			snprintf(call, sizeof call, ", API call %" PRId64, o->call_id);
		char drops[96] = "", gaps[512] = "";
		if (o->drops == UINT64_MAX)
			snprintf(drops, sizeof drops,
				 "; packets were dropped during the capture and no samples place them");
		else if (o->drops)
			snprintf(drops, sizeof drops, "; %" PRIu64 " packets dropped (kernel/interface)",
				 o->drops);
		if (o->gapconn != NONE32) {
			const struct conn *cn = &c->conns[o->gapconn];
			snprintf(gaps, sizeof gaps,
				 "; reassembly gaps on connection %" PRId64 " (%s -> %s)%s", cn->id,
				 cn->client != NONE32 ? c->S.str[cn->client] : "?",
				 cn->server != NONE32 ? c->S.str[cn->server] : "?",
				 o->ngapconns > 1 ? " and others" : "");
		}
		rc = add_warn(c, o->origin_ts, o->D, order[i],
			      "invalid window: origin %" PRIu32 " (key %s%s) from %s for %s%s%s", o->id,
			      key, call, when, dl, drops, gaps);
	}
	if (!rc && !any_window && (c->total_drops || c->total_gaps))
		rc = add_warn(c, NO_TS, NO_TS, NONE32,
			      "%" PRIu64 " dropped packets and %" PRIu64
			      " reassembly gaps fell outside every measured window",
			      c->total_drops, c->total_gaps);
	if (!rc && c->pending) {
		int64_t first = TS_MAX;
		uint64_t norg = 0;
		uint32_t last = NONE32;
		for (size_t i = 0; i < c->nprop; i++)
			if (c->prop[i].pending) {
				const struct origin *o = &c->org[c->prop[i].o];
				if (o->origin_ts < first)
					first = o->origin_ts;
				if (c->prop[i].o != last)
					norg++;
				last = c->prop[i].o;
			}
		ct_format_time((uint64_t)c->capture_end, when, sizeof when);
		rc = add_warn(c, first, c->capture_end, NONE32,
			      "%" PRIu64 " recipients of %" PRIu64
			      " origins are pending: the capture ended (%s) less than the deadline (%s)"
			      " after their origin",
			      c->pending, norg, when, dl);
	}
	if (!rc && c->truncated_rows)
		rc = add_warn(c, NO_TS, NO_TS, NONE32,
			      "a key had more than %u rows: only its first rows were analysed",
			      (unsigned)CT_ANALYZE_KEY_ROWS_MAX);
	if (!rc && c->keymap_too_long)
		rc = add_warn(c, NO_TS, NO_TS, NONE32,
			      "%" PRIu64 " keys made by --key-map were longer than %u bytes and left out",
			      c->keymap_too_long, (unsigned)CT_ANALYZE_KEY_BYTES_MAX);
	if (!rc && c->truncated_results)
		rc = add_warn(c, NO_TS, NO_TS, NONE32,
			      "more than %u result rows of one kind: the analysis is incomplete",
			      (unsigned)CT_ANALYZE_RESULT_ROWS_MAX);
	return rc;
}

static const char out_schema[] =
	"DROP TABLE IF EXISTS origins;"
	"DROP TABLE IF EXISTS propagation;"
	"DROP TABLE IF EXISTS stale_reads;"
	"DROP TABLE IF EXISTS stale_sets;"
	"DROP TABLE IF EXISTS analysis_warnings;"
	"DROP TABLE IF EXISTS analysis_meta;"
	"CREATE TABLE origins(id INTEGER PRIMARY KEY, api_call_id INTEGER, key TEXT NOT NULL,"
	"  db INTEGER, origin_ts_ns INTEGER NOT NULL, ack_ts_ns INTEGER, event_id INTEGER,"
	"  cmd TEXT, class TEXT, node TEXT, valid INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE propagation(origin_id INTEGER, api_call_id INTEGER, key TEXT,"
	"  recipient TEXT, origin_ts_ns INTEGER, arrival_ts_ns INTEGER, latency_ns INTEGER,"
	"  via TEXT, arrival_event_id INTEGER, arrival_class TEXT, arrival_cmd TEXT, proto TEXT,"
	"  missed INTEGER NOT NULL, pending INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX propagation_origin ON propagation(origin_id);"
	"CREATE INDEX propagation_recipient ON propagation(recipient);"
	"CREATE TABLE stale_reads(ts_ns INTEGER, node TEXT, key TEXT, api_call_id INTEGER,"
	"  stale_for_ns INTEGER, origin_id INTEGER, event_id INTEGER, value_hash TEXT);"
	"CREATE TABLE stale_sets(ts_ns INTEGER, node TEXT, key TEXT, api_call_id INTEGER,"
	"  after_arrival_ns INTEGER, origin_id INTEGER, event_id INTEGER, value_hash TEXT);"
	"CREATE TABLE analysis_warnings(text TEXT, window_start_ns INTEGER,"
	"  window_end_ns INTEGER, origin_id INTEGER);"
	"CREATE TABLE analysis_meta(key TEXT PRIMARY KEY, value TEXT);";

static void bind_str(const struct ctx *c, sqlite3_stmt *st, int i, uint32_t id)
{
	if (id == NONE32)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, c->S.str[id], (int)c->S.len[id], SQLITE_STATIC);
}

static void bind_ts(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == NO_TS)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static void bind_name(sqlite3_stmt *st, int i, const char *const *names, unsigned n, unsigned v)
{
	if (v < n)
		sqlite3_bind_text(st, i, names[v], -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int step_reset(sqlite3_stmt *st)
{
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return s == SQLITE_DONE ? 0 : CT_ESQL;
}

static void bind_hash(sqlite3_stmt *st, int i, uint64_t v)
{
	char hex[17];
	snprintf(hex, sizeof hex, "%016" PRIx64, v);
	sqlite3_bind_text(st, i, hex, 16, SQLITE_TRANSIENT);
}

static int write_stale(struct ctx *c, const char *table, const struct stale *v, size_t n)
{
	char sql[160];
	snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", table);
	sqlite3_stmt *st = NULL;
	int rc = prep(c, sql, &st);
	for (size_t i = 0; !rc && i < n; i++) {
		const struct origin *o = &c->org[v[i].o];
		sqlite3_bind_int64(st, 1, v[i].ts);
		bind_str(c, st, 2, v[i].node);
		bind_str(c, st, 3, o->key);
		if (o->call_id >= 0)
			sqlite3_bind_int64(st, 4, o->call_id);
		sqlite3_bind_int64(st, 5, v[i].d);
		sqlite3_bind_int64(st, 6, o->id);
		sqlite3_bind_int64(st, 7, v[i].event_id);
		bind_hash(st, 8, v[i].val);
		rc = step_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int write_meta(sqlite3_stmt *st, const char *k, int64_t v)
{
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	return step_reset(st);
}

static int write_tables(struct ctx *c, const struct ct_analyze_result *r)
{
	int rc = exec(c, out_schema);
	sqlite3_stmt *st = NULL;
	if (!rc)
		rc = prep(c, "INSERT INTO origins VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)", &st);
	for (size_t i = 0; !rc && i < c->norg; i++) {
		const struct origin *o = &c->org[i];
		sqlite3_bind_int64(st, 1, o->id);
		if (o->call_id >= 0)
			sqlite3_bind_int64(st, 2, o->call_id);
		bind_str(c, st, 3, o->key);
		bind_ts(st, 4, o->db);
		sqlite3_bind_int64(st, 5, o->origin_ts);
		bind_ts(st, 6, o->ack);
		if (o->event_id >= 0)
			sqlite3_bind_int64(st, 7, o->event_id);
		bind_str(c, st, 8, o->cmd);
		bind_name(st, 9, cls_names, C_NONE, o->cls);
		bind_str(c, st, 10, o->node);
		sqlite3_bind_int(st, 11, o->valid);
		rc = step_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!rc)
		rc = prep(c,
			  "INSERT INTO propagation VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
			  &st);
	for (size_t i = 0; !rc && i < c->nprop; i++) {
		const struct prop *p = &c->prop[i];
		const struct origin *o = &c->org[p->o];
		sqlite3_bind_int64(st, 1, o->id);
		if (o->call_id >= 0)
			sqlite3_bind_int64(st, 2, o->call_id);
		bind_str(c, st, 3, o->key);
		bind_str(c, st, 4, p->rcpt);
		sqlite3_bind_int64(st, 5, o->origin_ts);
		if (p->arr_ts != NO_TS) {
			sqlite3_bind_int64(st, 6, p->arr_ts);
			sqlite3_bind_int64(st, 7, p->arr_ts - o->origin_ts);
			bind_name(st, 8, via_names, V_NONE, p->via);
			sqlite3_bind_int64(st, 9, p->arr_id);
			bind_name(st, 10, cls_names, C_NONE, p->cls);
			bind_str(c, st, 11, p->cmd);
		}
		bind_str(c, st, 12, p->proto);
		sqlite3_bind_int(st, 13, p->missed);
		sqlite3_bind_int(st, 14, p->pending);
		rc = step_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!rc)
		rc = write_stale(c, "stale_reads", c->sread, c->nsread);
	if (!rc)
		rc = write_stale(c, "stale_sets", c->sset, c->nsset);
	if (!rc)
		rc = prep(c, "INSERT INTO analysis_warnings VALUES (?1,?2,?3,?4)", &st);
	for (size_t i = 0; !rc && i < c->nwarns; i++) {
		const struct warn *w = &c->warns[i];
		sqlite3_bind_text(st, 1, w->text, -1, SQLITE_STATIC);
		bind_ts(st, 2, w->lo);
		bind_ts(st, 3, w->hi);
		if (w->o != NONE32)
			sqlite3_bind_int64(st, 4, c->org[w->o].id);
		rc = step_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!rc)
		rc = prep(c, "INSERT INTO analysis_meta VALUES (?1, ?2)", &st);
	if (!rc) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		const struct {
			const char *k;
			int64_t v;
		} m[] = {
			{ "deadline_ns", c->deadline },
			{ "valid", r->valid },
			{ "analyzed_at_ns", (int64_t)now.tv_sec * 1000000000 + now.tv_nsec },
			{ "last_event_id", c->last_event_id },
			{ "capture_end_ns", c->capture_end },
			{ "api_calls", (int64_t)c->ncalls },
			{ "origins", (int64_t)r->origins },
			{ "propagation_rows", (int64_t)r->propagation_rows },
			{ "arrivals", (int64_t)r->arrivals },
			{ "missed", (int64_t)r->missed },
			{ "pending", (int64_t)r->pending },
			{ "stale_reads", (int64_t)r->stale_reads },
			{ "stale_sets", (int64_t)r->stale_sets },
			{ "warnings", (int64_t)r->warnings },
		};
		for (size_t i = 0; !rc && i < CT_ARRAY_LEN(m); i++)
			rc = write_meta(st, m[i].k, m[i].v);
		if (!rc) {
			sqlite3_bind_text(st, 1, "mode", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, c->api_mode ? "api" : "self", -1, SQLITE_STATIC);
			rc = step_reset(st);
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- the analysis ---- */

/* Ends the transaction: commits when all went well, else (or when the commit fails) rolls
 * back. A rollback that could not even be prepared (out of memory) is tried again. */
static int end_txn(struct ctx *c, int rc)
{
	if (!rc && exec(c, "COMMIT"))
		rc = CT_ESQL;
	for (int i = 0; i < 3 && !sqlite3_get_autocommit(c->db); i++)
		(void)exec(c, "ROLLBACK");
	return rc;
}

static int ensure_indexes(struct ctx *c)
{
	static const char *const idx[][2] = {
		{ "events_key_ts", "CREATE INDEX IF NOT EXISTS events_key_ts ON events(key, ts_ns)" },
		{ "events_ts", "CREATE INDEX IF NOT EXISTS events_ts ON events(ts_ns)" },
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(idx); i++) {
		int yes, rc = table_exists(c, idx[i][0], &yes);
		if (rc)
			return rc;
		if (!yes && (rc = exec(c, idx[i][1])))
			return rc;
	}
	return 0;
}

static int cmp_key_group(const void *a, const void *b, void *arg)
{
	const struct ctx *sort_ctx = arg;
	const struct origin *x = &sort_ctx->org[*(const uint32_t *)a];
	const struct origin *y = &sort_ctx->org[*(const uint32_t *)b];
	int k = st_cmp(&sort_ctx->S, x->key, y->key);
	if (k)
		return k;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int cmp_nv(const void *a, const void *b, void *arg)
{
	(void)arg;
	const struct nvpair *x = a, *y = b;
	if (x->o != y->o)
		return x->o < y->o ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

static int cmp_u32_key(const void *a, const void *b, void *arg)
{
	const struct ctx *sort_ctx = arg;
	return st_cmp(&sort_ctx->S, *(const uint32_t *)a, *(const uint32_t *)b);
}

/* Self mode: every key a client changed. */
static int self_keys(struct ctx *c, uint32_t **keys, size_t *nkeys)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = prep(c,
		      "SELECT DISTINCT key FROM events WHERE key IS NOT NULL AND dir = 'c2s'"
		      " AND via = 'command' AND class IN ('write','delete','invalidate','publish')",
		      &st);
	while (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = CT_ESQL;
			break;
		}
		uint32_t k;
		if ((rc = col_intern(c, st, 0, &k)))
			break;
		if ((rc = grow(keys, &cap, *nkeys + 1, sizeof **keys)))
			break;
		(*keys)[(*nkeys)++] = k;
	}
	sqlite3_finalize(st);
	return rc;
}

static int analyze_all(struct ctx *c)
{
	int rc;
	if ((rc = load_conns(c)) || (rc = load_calls(c)) || (rc = load_drops(c)) ||
	    (rc = scalar(c, "SELECT MAX(id) FROM events", &c->last_event_id)))
		return rc;
	int64_t t = 0;
	if ((rc = scalar(c, "SELECT MAX(ts_ns) FROM events", &t)))
		return rc;
	if (t > c->capture_end)
		c->capture_end = t;
	for (size_t i = 0; i < c->nconns; i++)
		if (c->conns[i].last_ts != TS_MAX && c->conns[i].last_ts > c->capture_end)
			c->capture_end = c->conns[i].last_ts;
	uint64_t conn_gaps = 0;
	for (size_t i = 0; i < c->nconns; i++)
		conn_gaps += c->conns[i].gaps;
	if (conn_gaps > c->total_gaps)
		c->total_gaps = conn_gaps; /* a live capture has no run_stats row yet */
	c->api_mode = c->ncalls > 0;
	if ((rc = load_flushes(c)))
		return rc;
	if ((rc = prep(c, "SELECT " ROW_COLS " FROM timeline WHERE key = ?1 ORDER BY ts_ns, event_id",
		       &c->q_key)))
		return rc;

	if (c->api_mode) {
		if ((rc = api_origins(c)))
			return rc;
		/* The window values of each origin, grouped. */
		sort_r(c->nv, c->nnv, sizeof *c->nv, cmp_nv, c);
		for (size_t i = 0; i < c->nnv;) {
			size_t j = i;
			while (j < c->nnv && c->nv[j].o == c->nv[i].o)
				j++;
			c->org[c->nv[i].o].nv_off = (uint32_t)i;
			c->org[c->nv[i].o].nv_n = (uint32_t)(j - i);
			i = j;
		}
		size_t n = c->norg;
		uint32_t *idx = ct_malloc((n + 1) * sizeof *idx);
		if (!idx)
			return CT_ENOMEM;
		for (size_t i = 0; i < n; i++)
			idx[i] = (uint32_t)i;
		sort_r(idx, n, sizeof *idx, cmp_key_group, c);
		for (size_t i = 0; !rc && i < n;) {
			size_t j = i;
			while (j < n && c->org[idx[j]].key == c->org[idx[i]].key)
				j++;
			rc = do_key(c, c->org[idx[i]].key, idx + i, j - i);
			i = j;
		}
		ct_free(idx);
	} else {
		uint32_t *keys = NULL;
		size_t nkeys = 0;
		rc = self_keys(c, &keys, &nkeys);
		if (!rc)
			sort_r(keys, nkeys, sizeof *keys, cmp_u32_key, c);
		for (size_t i = 0; !rc && i < nkeys; i++)
			rc = do_key(c, keys[i], NULL, 0);
		ct_free(keys);
	}
	return rc;
}

static void ctx_free(struct ctx *c)
{
	sqlite3_finalize(c->q_key);
	for (size_t i = 0; i < c->ncalls; i++) {
		ct_free(c->calls[i].method);
		ct_free(c->calls[i].path);
	}
	for (size_t i = 0; i < c->nwarns; i++)
		ct_free(c->warns[i].text);
	void *arrays[] = { c->epflags, c->conns, c->flush, c->calls, c->spans, c->org, c->nv,
			   c->prop, c->sread, c->sset, c->warns, c->rows, c->tmp, c->local_of,
			   c->stamp_of, c->lr, c->chg_off, c->chg, c->src_off, c->src, c->ko,
			   c->kack, c->gapc, c->vm.k, c->vm.v, c->vm.used };
	for (size_t i = 0; i < CT_ARRAY_LEN(arrays); i++)
		ct_free(arrays[i]);
	st_free(&c->S);
}

int ct_analyze(sqlite3 *db, const struct ct_analyze_opts *o, struct ct_analyze_result *r)
{
	static const struct ct_analyze_opts dflt;
	struct ct_analyze_result res;
	memset(&res, 0, sizeof res);
	if (!db)
		return CT_EINVAL;
	if (!sqlite3_get_autocommit(db))
		return CT_EINVAL; /* inside the caller's transaction: no snapshot of our own */
	struct ctx c;
	memset(&c, 0, sizeof c);
	c.db = db;
	c.o = o ? o : &dflt;
	c.deadline = (int64_t)(c.o->deadline_ns ? c.o->deadline_ns : CT_ANALYZE_DEADLINE_NS_DEFAULT);
	if (c.deadline <= 0)
		c.deadline = TS_MAX / 4;

	int rc = ensure_indexes(&c);
	if (!rc)
		rc = exec(&c, "BEGIN");
	if (!rc) {
		rc = analyze_all(&c);
		sqlite3_finalize(c.q_key);
		c.q_key = NULL;
		rc = end_txn(&c, rc);
	}
	uint32_t *order = NULL;
	if (!rc && !(order = ct_malloc((c.norg + 1) * sizeof *order)))
		rc = CT_ENOMEM;
	if (!rc) {
		for (size_t i = 0; i < c.norg; i++)
			order[i] = (uint32_t)i;
		sort_r(order, c.norg, sizeof *order, cmp_origin, &c);
		for (size_t i = 0; i < c.norg; i++)
			c.org[order[i]].id = (uint32_t)i + 1;
		/* Origins are written in id order. */
		struct origin *sorted = ct_malloc((c.norg + 1) * sizeof *sorted);
		uint32_t *newpos = ct_malloc((c.norg + 1) * sizeof *newpos);
		if (!sorted || !newpos) {
			rc = CT_ENOMEM;
		} else {
			for (size_t i = 0; i < c.norg; i++) {
				sorted[i] = c.org[order[i]];
				newpos[order[i]] = (uint32_t)i;
			}
			for (size_t i = 0; i < c.nprop; i++)
				c.prop[i].o = newpos[c.prop[i].o];
			for (size_t i = 0; i < c.nsread; i++)
				c.sread[i].o = newpos[c.sread[i].o];
			for (size_t i = 0; i < c.nsset; i++)
				c.sset[i].o = newpos[c.sset[i].o];
			ct_free(c.org);
			c.org = sorted;
			c.caporg = c.norg + 1;
			sorted = NULL;
			for (size_t i = 0; i < c.norg; i++)
				order[i] = (uint32_t)i;
		}
		ct_free(sorted);
		ct_free(newpos);
	}
	if (!rc) {
		sort_r(c.prop, c.nprop, sizeof *c.prop, cmp_prop, &c);
		sort_r(c.sread, c.nsread, sizeof *c.sread, cmp_stale, &c);
		sort_r(c.sset, c.nsset, sizeof *c.sset, cmp_stale, &c);
		rc = make_warnings(&c, order);
	}
	if (!rc && c.warns_dropped)
		rc = add_warn(&c, NO_TS, NO_TS, NONE32, "%" PRIu64 " more warnings not listed",
			      c.warns_dropped);
	ct_free(order);
	if (!rc) {
		res.origins = c.norg;
		res.propagation_rows = c.nprop;
		for (size_t i = 0; i < c.nprop; i++) {
			res.arrivals += c.prop[i].arr_ts != NO_TS;
			res.missed += c.prop[i].missed;
		}
		res.pending = c.pending;
		res.stale_reads = c.nsread;
		res.stale_sets = c.nsset;
		res.valid = !c.truncated_rows && !c.truncated_results;
		for (size_t i = 0; i < c.norg; i++)
			if (!c.org[i].valid)
				res.valid = 0;
		res.warnings = c.nwarns;
		res.api_mode = c.api_mode;
		rc = exec(&c, "BEGIN IMMEDIATE");
		if (!rc) {
			rc = end_txn(&c, write_tables(&c, &res));
		}
	}
	ctx_free(&c);
	if (r)
		*r = rc ? (struct ct_analyze_result){ 0 } : res;
	return rc;
}

/* ---- --key-map ---- */

static int name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

/* Checks the {name} syntax of a pattern; counts its names. */
static int check_braces(const char *p, int path, uint32_t *nvars)
{
	*nvars = 0;
	int prev_var = 0;
	for (const char *s = p; *s; s++) {
		if (*s == '}')
			return CT_EINVAL;
		if (*s != '{') {
			prev_var = 0;
			continue;
		}
		if (path && prev_var)
			return CT_EINVAL; /* "{a}{b}": where would one end? */
		const char *n = s + 1;
		while (name_char((unsigned char)*n))
			n++;
		if (n == s + 1 || *n != '}')
			return CT_EINVAL;
		(*nvars)++;
		s = n;
		prev_var = 1;
	}
	return *nvars > CT_ANALYZE_KEYMAP_VARS_MAX ? CT_EINVAL : 0;
}

static int is_space(int ch)
{
	return ch == ' ' || ch == '\t';
}

int ct_key_map_parse(const char *arg, struct ct_key_map *out)
{
	memset(out, 0, sizeof *out);
	if (!arg)
		return CT_EINVAL;
	size_t n = strlen(arg);
	char *buf = ct_malloc(n + 3);
	if (!buf)
		return CT_ENOMEM;
	const char *s = arg;
	while (is_space((unsigned char)*s))
		s++;
	const char *m = s;
	while (*s && !is_space((unsigned char)*s))
		s++;
	size_t mlen = (size_t)(s - m);
	const char *arrow = strstr(s, "->");
	if (!mlen || !arrow)
		goto bad;
	const char *p = s;
	while (is_space((unsigned char)*p))
		p++;
	const char *pend = arrow;
	while (pend > p && is_space((unsigned char)pend[-1]))
		pend--;
	const char *k = arrow + 2;
	while (is_space((unsigned char)*k))
		k++;
	const char *kend = arg + n;
	while (kend > k && is_space((unsigned char)kend[-1]))
		kend--;
	if (pend == p || *p != '/' || kend == k)
		goto bad;
	for (const char *q = p; q < pend; q++)
		if (is_space((unsigned char)*q))
			goto bad;
	for (size_t i = 0; i < mlen; i++)
		if (!((m[i] >= 'A' && m[i] <= 'Z') || (m[i] >= 'a' && m[i] <= 'z') ||
		      (m[i] == '*' && mlen == 1)))
			goto bad;
	char *o = buf;
	for (size_t i = 0; i < mlen; i++)
		*o++ = (char)(m[i] >= 'a' && m[i] <= 'z' ? m[i] - 32 : m[i]);
	*o++ = '\0';
	char *path = o;
	memcpy(o, p, (size_t)(pend - p));
	o += pend - p;
	*o++ = '\0';
	char *key = o;
	memcpy(o, k, (size_t)(kend - k));
	o += kend - k;
	*o = '\0';
	uint32_t np, nk;
	if (check_braces(path, 1, &np) || check_braces(key, 0, &nk))
		goto bad;
	/* Every {name} of the key must be defined by the path. */
	for (const char *q = strchr(key, '{'); q; q = strchr(q + 1, '{')) {
		const char *e = strchr(q, '}');
		size_t len = (size_t)(e - q) + 1;
		int found = 0;
		for (const char *r = strchr(path, '{'); r && !found; r = strchr(r + 1, '{'))
			found = strncmp(r, q, len) == 0;
		if (!found)
			goto bad;
	}
	if (strcmp(buf, "*") != 0 && !is_write_method(buf))
		goto bad;
	out->method = buf;
	out->path_pattern = path;
	out->key_pattern = key;
	return 0;
bad:
	ct_free(buf);
	return CT_EINVAL;
}

void ct_key_map_free(struct ct_key_map *m)
{
	if (!m)
		return;
	ct_free((void *)m->method);
	memset(m, 0, sizeof *m);
}

struct capture {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
};

/* Matches pattern pat against s[0..n) with backtracking, a {name} matching a non-empty run
 * without '/'. *budget bounds the work (a path comes from the wire). */
static int km_match(const char *pat, const char *s, size_t n, struct capture *cap, uint32_t ncap,
		    uint32_t *budget)
{
	while (*pat) {
		if (!*budget)
			return 0;
		(*budget)--;
		if (*pat == '{') {
			const char *e = strchr(pat, '}');
			cap[ncap].name = pat + 1;
			cap[ncap].nlen = (size_t)(e - pat) - 1;
			cap[ncap].val = s;
			for (size_t len = 1; len <= n && s[len - 1] != '/'; len++) {
				cap[ncap].vlen = len;
				if (km_match(e + 1, s + len, n - len, cap, ncap + 1, budget))
					return 1;
				if (!*budget)
					return 0;
			}
			return 0;
		}
		if (!n || *s != *pat)
			return 0;
		pat++;
		s++;
		n--;
	}
	if (n == 0) {
		cap[ncap].name = NULL; /* terminator */
		return 1;
	}
	return 0;
}

int ct_key_map_apply(const struct ct_key_map *m, const char *method, const char *path, char *key,
		     size_t keylen)
{
	if (!m || !m->method || !method || !path || !keylen)
		return -1;
	if (strcmp(m->method, "*") != 0) {
		size_t i = 0;
		while (m->method[i] && method[i] && (method[i] & ~0x20) == m->method[i])
			i++;
		if (m->method[i] || method[i])
			return -1;
	}
	/* An absolute-form target ("http://host/path") is reduced to its path. */
	const char *p = path;
	const char *sch = strstr(p, "://");
	if (sch && p[0] != '/') {
		p = strchr(sch + 3, '/');
		if (!p)
			p = "/";
	}
	size_t n = strcspn(p, "?#");
	struct capture cap[CT_ANALYZE_KEYMAP_VARS_MAX + 1];
	uint32_t budget = CT_ANALYZE_KEYMAP_MATCH_STEPS;
	if (!km_match(m->path_pattern, p, n, cap, 0, &budget))
		return -1;
	size_t o = 0;
	for (const char *k = m->key_pattern; *k;) {
		const char *add = k;
		size_t alen = 1;
		if (*k == '{') {
			const char *e = strchr(k, '}');
			size_t nl = (size_t)(e - k) - 1;
			add = NULL;
			for (uint32_t i = 0; cap[i].name; i++)
				if (cap[i].nlen == nl && memcmp(cap[i].name, k + 1, nl) == 0) {
					add = cap[i].val;
					alen = cap[i].vlen;
					break;
				}
			if (!add)
				return -1;
			k = e + 1;
		} else {
			k++;
		}
		if (o + alen >= keylen)
			return CT_ELIMIT;
		memcpy(key + o, add, alen);
		o += alen;
	}
	key[o] = '\0';
	return (int)o;
}
