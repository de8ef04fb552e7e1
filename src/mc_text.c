/* The memcached decoder: its front end (setup, feeding, gaps, payload detection) and the text
 * and meta protocol framing, after memcached doc/protocol.txt (1.6) and, where the document is
 * silent, what memcached 1.6.18 does.
 *
 * Framing rules taken from memcached 1.6.18 (checked against the real server):
 *  - a line ends at '\n'; one '\r' before it is dropped; tokens are separated by spaces, and
 *    runs of spaces count as one. An empty line is a command (memcached answers ERROR).
 *  - a storage command is followed by exactly <bytes> + 2 bytes; when those two bytes are not
 *    "\r\n" memcached still consumes them (CLIENT_ERROR bad data chunk): CT_MC_MF_BAD_DATA.
 *  - a storage command memcached rejects (bad numbers, wrong token count, key too long) is NOT
 *    followed by a data block: memcached reads the would-be data as commands, and so do we.
 *    ms is different: once its key and length are good, a bad flag or base64 key still
 *    swallows the data block.
 *  - keys are at most 250 bytes (the base64 form for meta b keys).
 * A reply's data block that does not end in "\r\n" means our framing is wrong: that is a
 * stream error.
 *
 * Limits (limits.h): CT_MC_LINE_MAX_BYTES per line (CT_MC_GET_LINE_MAX_BYTES for
 * get/gets/gat/gats, which may carry tens of thousands of keys), CT_MC_LINE_MAX_TOKENS tokens,
 * CT_MC_VALUE_MAX_BYTES per value. Lines are never buffered whole: tokens are handled as they
 * complete, and only a token cut by a chunk boundary is assembled, in CT_MC_TOKEN_MAX_BYTES. */
#include <string.h>

#include "cachetap/mc.h"
#include "cachetap/reasm.h"

/* ------------------------------------------------------------------------------------------ */
/* Command tables: what each token of a line means. The semantics live here, not in ifs.      */

enum { T_LINE, T_SKIP, T_DATA, T_DATA_END };

/* argument kinds */
enum {
	A_NONE,    /* no argument expected here: bad arguments */
	A_KEY,     /* the key */
	A_KEYS,    /* one of many keys (key callback) */
	A_FLAGS,   /* 32-bit client flags */
	A_EXPTIME, /* signed 32-bit expiry */
	A_BYTES,   /* data block length */
	A_CAS,     /* 64-bit cas unique */
	A_NUM,     /* 64-bit number: delta, level, delay, memory limit */
	A_ZERO,    /* delete's legacy time: only "0" is accepted */
	A_META,    /* meta flag: letter + token */
	A_TEXT,    /* kept as text */
};

/* definition options */
enum {
	D_NOREPLY = 1u << 0, /* "noreply" accepted as the last token */
	D_DATA = 1u << 1,    /* a data block follows */
	D_GETLINE = 1u << 2, /* long line allowed (multi-key retrieval) */
	D_SWALLOW = 1u << 3, /* the data block is consumed even when the flags are bad (ms) */
	D_WEAK = 1u << 4,    /* not enough evidence to resync on (unknown words, bare numbers) */
};

struct cmd_def {
	uint8_t cmd, proto;
	uint8_t nreq, nopt; /* required and optional positional arguments */
	uint8_t rest;       /* kind of the tokens after them */
	uint8_t opts;
	uint8_t args[5];
};

#define TXT CT_MC_PROTO_TEXT
#define MET CT_MC_PROTO_META

enum {
	Q_UNKNOWN, Q_GET, Q_GETS, Q_GAT, Q_GATS, Q_SET, Q_ADD, Q_REPLACE, Q_APPEND, Q_PREPEND,
	Q_CAS, Q_DELETE, Q_INCR, Q_DECR, Q_TOUCH, Q_FLUSH_ALL, Q_VERBOSITY, Q_VERSION, Q_QUIT,
	Q_STATS, Q_SHUTDOWN, Q_CACHE_MEMLIMIT, Q_SLABS, Q_LRU, Q_LRU_CRAWLER, Q_WATCH,
	Q_MISBEHAVE, Q_DEBUGTIME, Q_MG, Q_MS, Q_MD, Q_MA, Q_MN, Q_ME, Q__N
};

#define STORE(c) { c, TXT, 4, 0, A_NONE, D_NOREPLY | D_DATA, { A_KEY, A_FLAGS, A_EXPTIME, A_BYTES } }
#define OTHER(c) { c, TXT, 0, 0, A_TEXT, D_NOREPLY, { 0 } }

static const struct cmd_def req_defs[Q__N] = {
	[Q_UNKNOWN] = { CT_MC_CMD_UNKNOWN, TXT, 0, 0, A_TEXT, D_WEAK, { 0 } },
	[Q_GET] = { CT_MC_CMD_GET, TXT, 1, 0, A_KEYS, D_GETLINE, { A_KEYS } },
	[Q_GETS] = { CT_MC_CMD_GETS, TXT, 1, 0, A_KEYS, D_GETLINE, { A_KEYS } },
	[Q_GAT] = { CT_MC_CMD_GAT, TXT, 2, 0, A_KEYS, D_GETLINE, { A_EXPTIME, A_KEYS } },
	[Q_GATS] = { CT_MC_CMD_GATS, TXT, 2, 0, A_KEYS, D_GETLINE, { A_EXPTIME, A_KEYS } },
	[Q_SET] = STORE(CT_MC_CMD_SET),
	[Q_ADD] = STORE(CT_MC_CMD_ADD),
	[Q_REPLACE] = STORE(CT_MC_CMD_REPLACE),
	[Q_APPEND] = STORE(CT_MC_CMD_APPEND),
	[Q_PREPEND] = STORE(CT_MC_CMD_PREPEND),
	[Q_CAS] = { CT_MC_CMD_CAS, TXT, 5, 0, A_NONE, D_NOREPLY | D_DATA,
		    { A_KEY, A_FLAGS, A_EXPTIME, A_BYTES, A_CAS } },
	[Q_DELETE] = { CT_MC_CMD_DELETE, TXT, 1, 1, A_NONE, D_NOREPLY, { A_KEY, A_ZERO } },
	[Q_INCR] = { CT_MC_CMD_INCR, TXT, 2, 0, A_NONE, D_NOREPLY, { A_KEY, A_NUM } },
	[Q_DECR] = { CT_MC_CMD_DECR, TXT, 2, 0, A_NONE, D_NOREPLY, { A_KEY, A_NUM } },
	[Q_TOUCH] = { CT_MC_CMD_TOUCH, TXT, 2, 0, A_NONE, D_NOREPLY, { A_KEY, A_EXPTIME } },
	[Q_FLUSH_ALL] = { CT_MC_CMD_FLUSH_ALL, TXT, 0, 1, A_NONE, D_NOREPLY, { A_NUM } },
	[Q_VERBOSITY] = { CT_MC_CMD_VERBOSITY, TXT, 1, 0, A_NONE, D_NOREPLY, { A_NUM } },
	[Q_VERSION] = { CT_MC_CMD_VERSION, TXT, 0, 0, A_NONE, 0, { 0 } },
	[Q_QUIT] = { CT_MC_CMD_QUIT, TXT, 0, 0, A_NONE, 0, { 0 } },
	[Q_STATS] = { CT_MC_CMD_STATS, TXT, 0, 0, A_TEXT, 0, { 0 } },
	[Q_SHUTDOWN] = OTHER(CT_MC_CMD_SHUTDOWN),
	[Q_CACHE_MEMLIMIT] = { CT_MC_CMD_CACHE_MEMLIMIT, TXT, 1, 0, A_NONE, D_NOREPLY, { A_NUM } },
	[Q_SLABS] = OTHER(CT_MC_CMD_SLABS),
	[Q_LRU] = OTHER(CT_MC_CMD_LRU),
	[Q_LRU_CRAWLER] = OTHER(CT_MC_CMD_LRU_CRAWLER),
	[Q_WATCH] = OTHER(CT_MC_CMD_WATCH),
	[Q_MISBEHAVE] = OTHER(CT_MC_CMD_MISBEHAVE),
	[Q_DEBUGTIME] = OTHER(CT_MC_CMD_DEBUGTIME),
	[Q_MG] = { CT_MC_CMD_MG, MET, 1, 0, A_META, 0, { A_KEY } },
	[Q_MS] = { CT_MC_CMD_MS, MET, 2, 0, A_META, D_DATA | D_SWALLOW, { A_KEY, A_BYTES } },
	[Q_MD] = { CT_MC_CMD_MD, MET, 1, 0, A_META, 0, { A_KEY } },
	[Q_MA] = { CT_MC_CMD_MA, MET, 1, 0, A_META, 0, { A_KEY } },
	[Q_MN] = { CT_MC_CMD_MN, MET, 0, 0, A_NONE, 0, { 0 } },
	[Q_ME] = { CT_MC_CMD_ME, MET, 1, 0, A_META, 0, { A_KEY } },
};

enum {
	P_UNKNOWN, P_VALUE, P_END, P_STORED, P_NOT_STORED, P_EXISTS, P_NOT_FOUND, P_DELETED,
	P_TOUCHED, P_OK, P_NUMBER, P_VERSION, P_STAT, P_RESET, P_ERROR, P_CLIENT_ERROR,
	P_SERVER_ERROR, P_HD, P_VA, P_EN, P_NF, P_NS, P_EX, P_MN, P_ME, P__N
};

#define BARE(c) { c, TXT, 0, 0, A_NONE, 0, { 0 } }
#define WITHTEXT(c) { c, TXT, 0, 0, A_TEXT, 0, { 0 } }
#define METAREPLY(c) { c, MET, 0, 0, A_META, 0, { 0 } }

static const struct cmd_def reply_defs[P__N] = {
	[P_UNKNOWN] = { CT_MC_R_UNKNOWN, TXT, 0, 0, A_TEXT, D_WEAK, { 0 } },
	/* a server's framing is trusted: its data block is consumed whatever else is wrong */
	[P_VALUE] = { CT_MC_R_VALUE, TXT, 3, 1, A_NONE, D_DATA | D_SWALLOW,
		      { A_KEY, A_FLAGS, A_BYTES, A_CAS } },
	[P_END] = BARE(CT_MC_R_END),
	[P_STORED] = BARE(CT_MC_R_STORED),
	[P_NOT_STORED] = BARE(CT_MC_R_NOT_STORED),
	[P_EXISTS] = BARE(CT_MC_R_EXISTS),
	[P_NOT_FOUND] = BARE(CT_MC_R_NOT_FOUND),
	[P_DELETED] = BARE(CT_MC_R_DELETED),
	[P_TOUCHED] = BARE(CT_MC_R_TOUCHED),
	[P_OK] = BARE(CT_MC_R_OK),
	[P_NUMBER] = { CT_MC_R_NUMBER, TXT, 0, 0, A_NONE, D_WEAK, { 0 } },
	[P_VERSION] = WITHTEXT(CT_MC_R_VERSION),
	[P_STAT] = WITHTEXT(CT_MC_R_STAT),
	[P_RESET] = BARE(CT_MC_R_RESET),
	[P_ERROR] = WITHTEXT(CT_MC_R_ERROR),
	[P_CLIENT_ERROR] = WITHTEXT(CT_MC_R_CLIENT_ERROR),
	[P_SERVER_ERROR] = WITHTEXT(CT_MC_R_SERVER_ERROR),
	[P_HD] = METAREPLY(CT_MC_R_HD),
	[P_VA] = { CT_MC_R_VA, MET, 1, 0, A_META, D_DATA | D_SWALLOW, { A_BYTES } },
	[P_EN] = METAREPLY(CT_MC_R_EN),
	[P_NF] = METAREPLY(CT_MC_R_NF),
	[P_NS] = METAREPLY(CT_MC_R_NS),
	[P_EX] = METAREPLY(CT_MC_R_EX),
	[P_MN] = { CT_MC_R_MN, MET, 0, 0, A_NONE, 0, { 0 } },
	[P_ME] = { CT_MC_R_ME, MET, 1, 0, A_TEXT, 0, { A_KEY } },
};

#define EQ(p, s) (memcmp((p), (s), sizeof(s) - 1) == 0)

/* Dispatch on the word's length, then a byte or two (memcached proto_parser.c does the same):
 * every comparison is against a literal of exactly that length, so nothing can overrun. */
static uint8_t lookup_request(const uint8_t *w, uint32_t n)
{
	switch (n) {
	case 2:
		if (w[0] != 'm')
			break;
		switch (w[1]) {
		case 'g': return Q_MG;
		case 's': return Q_MS;
		case 'd': return Q_MD;
		case 'a': return Q_MA;
		case 'n': return Q_MN;
		case 'e': return Q_ME;
		}
		break;
	case 3:
		if (EQ(w, "get")) return Q_GET;
		if (EQ(w, "set")) return Q_SET;
		if (EQ(w, "gat")) return Q_GAT;
		if (EQ(w, "add")) return Q_ADD;
		if (EQ(w, "cas")) return Q_CAS;
		if (EQ(w, "lru")) return Q_LRU;
		break;
	case 4:
		if (EQ(w, "gets")) return Q_GETS;
		if (EQ(w, "gats")) return Q_GATS;
		if (EQ(w, "incr")) return Q_INCR;
		if (EQ(w, "decr")) return Q_DECR;
		if (EQ(w, "quit")) return Q_QUIT;
		break;
	case 5:
		if (EQ(w, "touch")) return Q_TOUCH;
		if (EQ(w, "stats")) return Q_STATS;
		if (EQ(w, "slabs")) return Q_SLABS;
		if (EQ(w, "watch")) return Q_WATCH;
		break;
	case 6:
		if (EQ(w, "delete")) return Q_DELETE;
		if (EQ(w, "append")) return Q_APPEND;
		break;
	case 7:
		if (EQ(w, "replace")) return Q_REPLACE;
		if (EQ(w, "prepend")) return Q_PREPEND;
		if (EQ(w, "version")) return Q_VERSION;
		break;
	case 8:
		if (EQ(w, "shutdown")) return Q_SHUTDOWN;
		break;
	case 9:
		if (EQ(w, "flush_all")) return Q_FLUSH_ALL;
		if (EQ(w, "verbosity")) return Q_VERBOSITY;
		if (EQ(w, "misbehave")) return Q_MISBEHAVE;
		if (EQ(w, "debugtime")) return Q_DEBUGTIME;
		break;
	case 11:
		if (EQ(w, "lru_crawler")) return Q_LRU_CRAWLER;
		break;
	case 14:
		if (EQ(w, "cache_memlimit")) return Q_CACHE_MEMLIMIT;
		break;
	}
	return Q_UNKNOWN;
}

static int all_digits(const uint8_t *w, uint32_t n)
{
	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (w[i] < '0' || w[i] > '9')
			return 0;
	return 1;
}

static uint8_t lookup_reply(const uint8_t *w, uint32_t n)
{
	switch (n) {
	case 2:
		switch (w[0]) {
		case 'H': if (w[1] == 'D') return P_HD; break;
		case 'V': if (w[1] == 'A') return P_VA; break;
		case 'E':
			if (w[1] == 'N') return P_EN;
			if (w[1] == 'X') return P_EX;
			break;
		case 'N':
			if (w[1] == 'F') return P_NF;
			if (w[1] == 'S') return P_NS;
			break;
		case 'M':
			if (w[1] == 'N') return P_MN;
			if (w[1] == 'E') return P_ME;
			break;
		case 'O': if (w[1] == 'K') return P_OK; break;
		}
		break;
	case 3:
		if (EQ(w, "END")) return P_END;
		break;
	case 4:
		if (EQ(w, "STAT")) return P_STAT;
		break;
	case 5:
		if (EQ(w, "VALUE")) return P_VALUE;
		if (EQ(w, "ERROR")) return P_ERROR;
		if (EQ(w, "RESET")) return P_RESET;
		break;
	case 6:
		if (EQ(w, "STORED")) return P_STORED;
		if (EQ(w, "EXISTS")) return P_EXISTS;
		break;
	case 7:
		if (EQ(w, "DELETED")) return P_DELETED;
		if (EQ(w, "TOUCHED")) return P_TOUCHED;
		if (EQ(w, "VERSION")) return P_VERSION;
		break;
	case 9:
		if (EQ(w, "NOT_FOUND")) return P_NOT_FOUND;
		break;
	case 10:
		if (EQ(w, "NOT_STORED")) return P_NOT_STORED;
		break;
	case 12:
		if (EQ(w, "CLIENT_ERROR")) return P_CLIENT_ERROR;
		if (EQ(w, "SERVER_ERROR")) return P_SERVER_ERROR;
		break;
	}
	if (n <= CT_MC_TOKEN_MAX_BYTES && all_digits(w, n)) /* w holds at most that much */
		return P_NUMBER;
	return P_UNKNOWN;
}

static const struct cmd_def *def_of(const struct ct_mc *d)
{
	return d->side == CT_MC_SIDE_CLIENT ? &req_defs[d->t.def] : &reply_defs[d->t.def];
}

/* ------------------------------------------------------------------------------------------ */
/* Numbers and base64, from bytes with explicit lengths (no NUL, no strto*).                  */

static int parse_u64(const uint8_t *p, uint32_t n, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0 || n > 20)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		unsigned dg = (unsigned)p[i] - '0';
		if (dg > 9 || x > (UINT64_MAX - dg) / 10)
			return 0;
		x = x * 10 + dg;
	}
	*v = x;
	return 1;
}

/* Signed 32-bit, as memcached's safe_strtol into an int32_t. */
static int parse_i32(const uint8_t *p, uint32_t n, int64_t *v)
{
	uint64_t x;
	int neg = n > 0 && p[0] == '-';
	if (!parse_u64(p + neg, n - (uint32_t)neg, &x))
		return 0;
	if (x > (neg ? 2147483648ull : 2147483647ull))
		return 0;
	*v = neg ? -(int64_t)x : (int64_t)x;
	return 1;
}

static int parse_u32(const uint8_t *p, uint32_t n, uint32_t *v)
{
	uint64_t x;
	if (!parse_u64(p, n, &x) || x > UINT32_MAX)
		return 0;
	*v = (uint32_t)x;
	return 1;
}

static int b64_val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Standard base64 with '=' padding, as memcached encodes binary keys. Returns the decoded
 * length, or -1 when the input is not valid or does not fit. */
static int b64_decode(const uint8_t *s, uint32_t n, uint8_t *out, uint32_t cap)
{
	uint32_t o = 0;
	if (n == 0 || n % 4)
		return -1;
	for (uint32_t i = 0; i < n; i += 4) {
		int v[4], pad = 0; /* the whole group is read before anything is written */
		for (int j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == n && j >= 2) {
				v[j] = 0;
				pad++;
			} else {
				if (pad) /* data after padding */
					return -1;
				v[j] = b64_val(s[i + j]);
				if (v[j] < 0)
					return -1;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		int k = 3 - pad;
		if (o + (uint32_t)k > cap)
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (k > 1)
			out[o++] = (uint8_t)(w >> 8);
		if (k > 2)
			out[o++] = (uint8_t)w;
	}
	return (int)o;
}

/* ------------------------------------------------------------------------------------------ */
/* Message life cycle, shared with mc_bin.c.                                                  */

void ct_mc_msg_begin(struct ct_mc *d, uint64_t off, uint64_t ts_ns, uint8_t proto)
{
	struct ct_mc_msg *m = &d->m;
	/* meta_tok is left alone: entries are only read where meta_flags has the bit */
	m->first_off = m->last_off = off;
	m->first_ts_ns = m->ts_ns = ts_ns;
	m->proto = proto;
	m->side = d->side;
	m->cmd = CT_MC_CMD_NONE;
	m->flags = d->udp ? CT_MC_MF_UDP : 0;
	m->have = 0;
	m->word.p = m->key.p = m->text.p = m->extras.p = NULL;
	m->word.len = m->key.len = m->text.len = m->extras.len = 0;
	m->nkeys = 0;
	m->client_flags = 0;
	m->exptime = 0;
	m->cas = m->number = m->initial = 0;
	m->value_len = m->value_hash = 0;
	m->meta_flags = 0;
	m->meta_mode = 0;
	m->meta_buf = d->metabuf;
	m->opcode = m->datatype = 0;
	m->status = m->vbucket = 0;
	m->opaque = 0;
	m->udp_id = d->udp_id;
	d->in_msg = 1;
	d->key_in_chunk = 0;
	d->hashing = 0;
}

/* The message is believed: a resync, if one was going on, is over. */
void ct_mc_msg_accept(struct ct_mc *d)
{
	if (d->resync) {
		d->resync = 0;
		d->c.resyncs++;
	}
}

void ct_mc_msg_emit(struct ct_mc *d, uint64_t last_off)
{
	struct ct_mc_msg *m = &d->m;
	m->last_off = last_off;
	m->ts_ns = d->ts_ns;
	if (d->resynced_pending && !(m->flags & CT_MC_MF_ABORTED)) {
		m->flags |= CT_MC_MF_RESYNCED;
		d->resynced_pending = 0;
	}
	if (m->flags & CT_MC_MF_BAD_ARGS)
		d->c.bad_args++;
	if (m->flags & CT_MC_MF_TEXT_TRUNC)
		d->c.text_truncated++;
	d->in_msg = 0;
	d->key_in_chunk = 0;
	d->c.msgs++;
	if (d->cb && d->cb->msg)
		d->cb->msg(d->ctx, m);
}

/* Forgets the message under construction; `aborted` counts it as cut short. */
void ct_mc_msg_drop(struct ct_mc *d, int aborted)
{
	if (d->in_msg && aborted)
		d->c.aborted++;
	d->in_msg = 0;
	d->key_in_chunk = 0;
	d->hashing = 0;
}

void ct_mc_fail(struct ct_mc *d, int err, const char *errstr, uint64_t off)
{
	d->c.errors++;
	if (!d->err) {
		d->err = err;
		d->errstr = errstr;
		d->err_offset = off;
	}
	if (!d->call_err)
		d->call_err = err;
	d->resync = 1;
	d->resynced_pending = 1;
	if (d->no_resync)
		d->stopped = 1;
	if (d->cb && d->cb->error)
		d->cb->error(d->ctx, err, errstr, off);
}

/* Value fingerprint: one-shot XXH3 when the whole value is in one piece (the common case),
 * else streaming through the embedded state. Both give the same XXH3-64 (seed 0). */
enum { H_OFF, H_FRESH, H_STREAM, H_DONE };

void ct_mc_value_begin(struct ct_mc *d, uint64_t len)
{
	d->m.flags |= CT_MC_MF_VALUE;
	d->m.value_len = len;
	d->c.values++;
	d->c.value_bytes += len;
	d->hashing = d->values == CT_MC_VALUES_HASH ? H_FRESH : H_OFF;
}

void ct_mc_value_update(struct ct_mc *d, const uint8_t *p, uint32_t n, int last)
{
	if (d->hashing == H_FRESH) {
		if (last) {
			d->m.value_hash = XXH3_64bits(p, n);
			d->hashing = H_DONE;
			return;
		}
		ct_hash_reset(&d->xxh);
		d->hashing = H_STREAM;
	}
	if (d->hashing == H_STREAM)
		ct_hash_update(&d->xxh, p, n);
}

void ct_mc_value_end(struct ct_mc *d)
{
	static const uint8_t empty[1];
	if (d->hashing == H_FRESH) {
		d->m.value_hash = XXH3_64bits(empty, 0);
		d->hashing = H_DONE;
	} else if (d->hashing == H_STREAM) {
		d->m.value_hash = ct_hash_digest(&d->xxh);
		d->hashing = H_DONE;
	}
	if (d->hashing == H_DONE && !(d->m.flags & CT_MC_MF_GAP))
		d->m.flags |= CT_MC_MF_HASHED;
	d->hashing = H_OFF;
}

/* ------------------------------------------------------------------------------------------ */
/* Text lines.                                                                                */

static void line_begin(struct ct_mc *d, uint64_t off)
{
	ct_mc_msg_begin(d, off, d->ts_ns, CT_MC_PROTO_TEXT);
	d->t.def = 0;
	d->t.ntok = 0;
	d->t.nargs = 0;
	d->t.noreply_last = 0;
	d->t.toklen = 0;
	d->t.meta_used = 0;
	d->t.bytes_ok = 0;
	d->t.line_len = 0;
	d->t.line_cap = CT_MC_LINE_MAX_BYTES;
}

/* A get line cut short after some of its keys were delivered still gets its one msg call,
 * flagged ABORTED, so that whoever collected the keys can let go of them. */
static void text_abort(struct ct_mc *d)
{
	if (!d->in_msg)
		return;
	if (d->t.ntok > 0 && def_of(d)->rest == A_KEYS && d->m.nkeys > 0) {
		d->m.flags |= CT_MC_MF_ABORTED;
		d->c.aborted++;
		uint64_t last = d->m.first_off + (d->t.line_len ? d->t.line_len - 1 : 0);
		ct_mc_msg_emit(d, last);
		return;
	}
	ct_mc_msg_drop(d, 1);
}

/* A line is given up: while resyncing that is just skipping, otherwise a stream error. */
static void line_reject(struct ct_mc *d, int err, const char *errstr, uint64_t off, int skip)
{
	if (d->resync) {
		d->c.resync_bytes += d->t.line_len;
		if (d->m.nkeys > 0)
			text_abort(d);
		else
			ct_mc_msg_drop(d, 0);
	} else {
		ct_mc_fail(d, err, errstr, off);
		text_abort(d);
	}
	d->t.toklen = 0;
	d->t.st = skip ? T_SKIP : T_LINE;
}

/* Appends a token to m->text, joined by one space; `readable` bytes of it are at p. */
static void text_append(struct ct_mc *d, const uint8_t *p, uint32_t n, uint32_t readable)
{
	struct ct_mc_msg *m = &d->m;
	uint32_t used = m->text.len;
	if (readable < n) {
		n = readable;
		m->flags |= CT_MC_MF_TEXT_TRUNC;
	}
	if (used) {
		if (used >= CT_MC_TEXT_MAX_BYTES) {
			m->flags |= CT_MC_MF_TEXT_TRUNC;
			return;
		}
		d->textbuf[used++] = ' ';
	}
	uint32_t room = CT_MC_TEXT_MAX_BYTES - used;
	if (n > room) {
		n = room;
		m->flags |= CT_MC_MF_TEXT_TRUNC;
	}
	memcpy(d->textbuf + used, p, n);
	m->text.p = d->textbuf;
	m->text.len = used + n;
}

static void set_word(struct ct_mc *d, const uint8_t *w, uint32_t n, uint32_t readable)
{
	uint32_t k = n < readable ? n : readable;
	if (k > CT_MC_WORD_MAX_BYTES)
		k = CT_MC_WORD_MAX_BYTES;
	memcpy(d->wordbuf, w, k);
	d->m.word.p = d->wordbuf;
	d->m.word.len = k;
}

static void meta_flag(struct ct_mc *d, const uint8_t *tp, uint32_t tl, int zc)
{
	struct ct_mc_msg *m = &d->m;
	int b = ct_mc_meta_bit(tp[0]);
	uint32_t n = tl - 1;
	/* The token cap holds whether or not the token was cut by a chunk boundary: the result
	 * must not depend on how the stream was cut. */
	CT_UNUSED(zc);
	if (b < 0 || tl > CT_MC_TOKEN_MAX_BYTES || d->t.meta_used + n > CT_MC_META_BUF_BYTES) {
		m->flags |= CT_MC_MF_BAD_ARGS;
		return;
	}
	memcpy(d->metabuf + d->t.meta_used, tp + 1, n);
	m->meta_tok[b].off = (uint16_t)d->t.meta_used;
	m->meta_tok[b].len = (uint16_t)n;
	m->meta_flags |= 1ull << b;
	d->t.meta_used += n;
}

static void set_key(struct ct_mc *d, const uint8_t *tp, uint32_t tl, int zc)
{
	struct ct_mc_msg *m = &d->m;
	if (tl > CT_MC_KEY_MAX_BYTES) {
		m->flags |= CT_MC_MF_KEY_TOO_LONG;
		d->c.keys_too_long++;
		return;
	}
	if (zc) {
		/* zero copy; copied out at the end of the chunk if the message is still open */
		m->key.p = tp;
		d->key_in_chunk = 1;
	} else {
		memcpy(d->keybuf, tp, tl);
		m->key.p = d->keybuf;
		d->key_in_chunk = 0;
	}
	m->key.len = tl;
	m->nkeys = 1;
}

/* The word of a line (its first token). Returns 0, or -1 when the line was rejected. */
static int line_word(struct ct_mc *d, const uint8_t *tp, uint32_t tl, int zc)
{
	struct ct_mc_msg *m = &d->m;
	uint32_t readable = zc ? tl : (tl < CT_MC_TOKEN_MAX_BYTES ? tl : CT_MC_TOKEN_MAX_BYTES);
	d->t.def = d->side == CT_MC_SIDE_CLIENT ? lookup_request(tp, tl) : lookup_reply(tp, tl);
	const struct cmd_def *def = def_of(d);
	set_word(d, tp, tl, readable);
	m->cmd = def->cmd;
	m->proto = def->proto;
	if (d->resync && (def->opts & D_WEAK)) {
		line_reject(d, 0, NULL, 0, 1);
		return -1;
	}
	if (def->opts & D_GETLINE)
		d->t.line_cap = CT_MC_GET_LINE_MAX_BYTES;
	if (def->cmd == CT_MC_R_NUMBER) {
		if (parse_u64(tp, tl, &m->number))
			m->have |= CT_MC_HAVE_NUMBER;
		else
			m->flags |= CT_MC_MF_BAD_ARGS;
	}
	return 0;
}

/* One complete token of a line (not the word). Returns 0, or -1 when the line was rejected. */
static int line_arg(struct ct_mc *d, const uint8_t *tp, uint32_t tl, int zc)
{
	struct ct_mc_msg *m = &d->m;
	const struct cmd_def *def = def_of(d);
	uint64_t off = d->t.tok_off; /* errors point at the token */

	if (def->rest != A_KEYS && d->t.ntok > CT_MC_LINE_MAX_TOKENS) {
		if (!d->resync)
			d->c.too_many_tokens++;
		line_reject(d, CT_ELIMIT, "too many tokens on a line", off, 1);
		return -1;
	}
	/* "noreply" is only meaningful as the last token; a token after it undoes that (in free
	 * text it was just a word) */
	if (d->t.noreply_last) {
		d->t.noreply_last = 0;
		if (def->rest == A_TEXT && d->t.nargs >= (uint32_t)def->nreq + def->nopt)
			text_append(d, (const uint8_t *)"noreply", 7, 7);
		else
			m->flags |= CT_MC_MF_BAD_ARGS;
	}
	if ((def->opts & D_NOREPLY) && d->t.nargs >= def->nreq && tl == 7 && EQ(tp, "noreply")) {
		d->t.noreply_last = 1;
		return 0;
	}
	uint32_t ai = d->t.nargs++;
	int kind = ai < (uint32_t)def->nreq + def->nopt ? def->args[ai] : def->rest;
	switch (kind) {
	case A_NONE:
		m->flags |= CT_MC_MF_BAD_ARGS;
		break;
	case A_KEY:
		set_key(d, tp, tl, zc);
		break;
	case A_KEYS:
		if (tl > CT_MC_KEY_MAX_BYTES) {
			m->flags |= CT_MC_MF_KEY_TOO_LONG;
			d->c.keys_too_long++;
			break;
		}
		d->c.keys++;
		if (d->cb && d->cb->key)
			d->cb->key(d->ctx, m, tp, tl, m->nkeys);
		m->nkeys++;
		break;
	case A_FLAGS:
		if (parse_u32(tp, tl, &m->client_flags))
			m->have |= CT_MC_HAVE_FLAGS;
		else
			m->flags |= CT_MC_MF_BAD_ARGS;
		break;
	case A_EXPTIME:
		if (parse_i32(tp, tl, &m->exptime))
			m->have |= CT_MC_HAVE_EXPTIME;
		else
			m->flags |= CT_MC_MF_BAD_ARGS;
		break;
	case A_BYTES: {
		uint64_t v;
		/* The length frames what follows: a bad one cannot be stepped over. memcached
		 * rejects it too (without swallowing), so the next line is a resync point. */
		if (!parse_u64(tp, tl, &v) || v > CT_MC_VALUE_MAX_BYTES) {
			if (!d->resync)
				d->c.value_too_long++;
			line_reject(d, CT_ELIMIT, "data length not a number or over the limit", off, 1);
			return -1;
		}
		m->value_len = v;
		d->t.bytes_ok = 1;
		break;
	}
	case A_CAS:
		if (parse_u64(tp, tl, &m->cas))
			m->have |= CT_MC_HAVE_CAS;
		else
			m->flags |= CT_MC_MF_BAD_ARGS;
		break;
	case A_NUM:
		if (parse_u64(tp, tl, &m->number))
			m->have |= CT_MC_HAVE_NUMBER;
		else
			m->flags |= CT_MC_MF_BAD_ARGS;
		break;
	case A_ZERO:
		if (!(tl == 1 && tp[0] == '0'))
			m->flags |= CT_MC_MF_BAD_ARGS;
		break;
	case A_META:
		meta_flag(d, tp, tl, zc);
		break;
	case A_TEXT:
		text_append(d, tp, tl, zc || tl < CT_MC_TOKEN_MAX_BYTES ? tl : CT_MC_TOKEN_MAX_BYTES);
		break;
	}
	return 0;
}

static int meta_i32(struct ct_mc_msg *m, int c, int64_t *v)
{
	struct ct_mc_tok t;
	if (!ct_mc_meta_get(m, c, &t))
		return 0;
	if (!parse_i32(t.p, t.len, v)) {
		m->flags |= CT_MC_MF_BAD_ARGS;
		return 0;
	}
	return 1;
}

static int meta_u64(struct ct_mc_msg *m, int c, uint64_t *v)
{
	struct ct_mc_tok t;
	if (!ct_mc_meta_get(m, c, &t))
		return 0;
	if (!parse_u64(t.p, t.len, v)) {
		m->flags |= CT_MC_MF_BAD_ARGS;
		return 0;
	}
	return 1;
}

/* Decodes a base64 key into keybuf. It is decoded into a scratch copy first: the key may
 * already be in keybuf (cut by a chunk boundary), and a key that turns out not to decode must
 * be left as it was sent, however the stream was cut. */
static void meta_key_b64(struct ct_mc *d)
{
	struct ct_mc_msg *m = &d->m;
	uint8_t out[sizeof d->keybuf];
	int n = b64_decode(m->key.p, m->key.len, out, sizeof out);
	if (n < 0) {
		m->flags |= CT_MC_MF_BAD_KEY;
		d->c.bad_keys++;
		return;
	}
	memcpy(d->keybuf, out, (size_t)n);
	m->key.p = d->keybuf;
	m->key.len = (uint32_t)n;
	m->flags |= CT_MC_MF_KEY_BASE64;
	d->key_in_chunk = 0;
}

/* Meta flags whose tokens we read, once the whole line is known (b may follow the key). */
static void meta_finish(struct ct_mc *d)
{
	struct ct_mc_msg *m = &d->m;
	struct ct_mc_tok t;
	uint64_t f = m->meta_flags;
	uint32_t u;
	if (!f)
		return;
	if (f & CT_MC_META('q'))
		m->flags |= CT_MC_MF_QUIET;
	if (f & CT_MC_META('k'))
		m->flags |= CT_MC_MF_RETKEY;
	if (d->side == CT_MC_SIDE_CLIENT) {
		if (meta_i32(m, 'T', &m->exptime))
			m->have |= CT_MC_HAVE_EXPTIME;
		if (ct_mc_meta_get(m, 'F', &t)) {
			if (parse_u32(t.p, t.len, &u)) {
				m->client_flags = u;
				m->have |= CT_MC_HAVE_FLAGS;
			} else {
				m->flags |= CT_MC_MF_BAD_ARGS;
			}
		}
		if (meta_u64(m, 'C', &m->cas))
			m->have |= CT_MC_HAVE_CAS;
		if (meta_u64(m, 'D', &m->number))
			m->have |= CT_MC_HAVE_NUMBER;
		if (meta_u64(m, 'J', &m->initial))
			m->have |= CT_MC_HAVE_INITIAL;
		if (ct_mc_meta_get(m, 'M', &t)) {
			if (t.len >= 1)
				m->meta_mode = t.p[0];
			else
				m->flags |= CT_MC_MF_BAD_ARGS;
		}
		if ((f & CT_MC_META('b')) && m->key.len)
			meta_key_b64(d);
	} else {
		/* replies: k returns the key, c/f/t the cas, client flags and remaining TTL */
		if (ct_mc_meta_get(m, 'k', &t) && t.len && t.len <= CT_MC_KEY_MAX_BYTES) {
			m->key = t;
			m->nkeys = 1;
			d->key_in_chunk = 0;
			if (f & CT_MC_META('b'))
				meta_key_b64(d);
		}
		if (meta_u64(m, 'c', &m->cas))
			m->have |= CT_MC_HAVE_CAS;
		if (ct_mc_meta_get(m, 'f', &t)) {
			if (parse_u32(t.p, t.len, &u)) {
				m->client_flags = u;
				m->have |= CT_MC_HAVE_FLAGS;
			} else {
				m->flags |= CT_MC_MF_BAD_ARGS;
			}
		}
		if (meta_i32(m, 't', &m->exptime))
			m->have |= CT_MC_HAVE_EXPTIME;
	}
}

/* The line ended at offset nl_off (the '\n'). */
static void line_end(struct ct_mc *d, uint64_t nl_off)
{
	struct ct_mc_msg *m = &d->m;

	if (d->t.ntok == 0) {
		/* an empty line is a command to memcached (it answers ERROR) */
		if (d->resync) {
			d->c.resync_bytes += d->t.line_len;
			ct_mc_msg_drop(d, 0);
			return;
		}
		m->cmd = d->side == CT_MC_SIDE_CLIENT ? CT_MC_CMD_UNKNOWN : CT_MC_R_UNKNOWN;
		d->c.unknown_cmds++;
		ct_mc_msg_emit(d, nl_off);
		return;
	}
	const struct cmd_def *def = def_of(d);
	if (d->t.noreply_last)
		m->flags |= CT_MC_MF_NOREPLY;
	if (d->t.nargs < def->nreq)
		m->flags |= CT_MC_MF_BAD_ARGS;
	if (def->rest == A_KEYS && m->nkeys == 0 && !(m->flags & CT_MC_MF_KEY_TOO_LONG))
		m->flags |= CT_MC_MF_BAD_ARGS;
	if (def->proto == CT_MC_PROTO_META)
		meta_finish(d);

	uint32_t bad = m->flags & (CT_MC_MF_BAD_ARGS | CT_MC_MF_KEY_TOO_LONG | CT_MC_MF_BAD_KEY);
	if (d->resync && bad) {
		line_reject(d, 0, NULL, 0, 0);
		return;
	}
	if (def->cmd == CT_MC_CMD_UNKNOWN || def->cmd == CT_MC_R_UNKNOWN)
		d->c.unknown_cmds++;
	ct_mc_msg_accept(d);

	if ((def->opts & D_DATA) && d->t.bytes_ok) {
		int consume;
		if (d->side == CT_MC_SIDE_SERVER)
			consume = 1;
		else if (m->flags & CT_MC_MF_KEY_TOO_LONG)
			consume = 0;
		else
			consume = !bad || (def->opts & D_SWALLOW);
		if (consume) {
			ct_mc_value_begin(d, m->value_len);
			d->t.left = m->value_len;
			d->t.st = m->value_len ? T_DATA : T_DATA_END;
			d->t.crlf = 0;
			return;
		}
	}
	m->value_len = 0;
	ct_mc_msg_emit(d, nl_off);
}

/* Text lines, and the data blocks some of them announce:
 *
 *   set <key> <flags> <exptime> <bytes> [noreply]\r\n       tokens split on ' '; the line ends
 *   <data: exactly <bytes> bytes, anything at all>\r\n     at '\n', a '\r' before it is dropped
 *   get <key> <key> ... <key>\r\n                           (tens of thousands of keys)
 *   VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n   ...   END\r\n
 *   mg <key> <flag>*\r\n                                    flag: a letter + optional token
 *   ms <key> <datalen> <flag>*\r\n<data>\r\n               (T30 O123 v q b ...)
 *   VA <datalen> <flag>*\r\n<data>\r\n          HD <flag>*\r\n          EN\r\n
 *
 * text_line() parses from pos to the end of the line or of the chunk. Tokens inside the chunk
 * are handed over in place; only a token cut by the chunk end is assembled in tokbuf. */
static uint32_t text_line(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	const uint8_t *nlp = memchr(p + pos, '\n', len - pos);
	uint32_t end = nlp ? (uint32_t)(nlp - p) : len;
	uint32_t q = pos;

	if (!d->in_msg)
		line_begin(d, d->base + pos);
	while (q < end) {
		if (d->t.toklen == 0) {
			while (q < end && p[q] == ' ')
				q++;
			if (q == end)
				break;
		}
		const uint8_t *sp = memchr(p + q, ' ', end - q);
		uint32_t tend = sp ? (uint32_t)(sp - p) : end;
		if (d->t.line_len + (tend - pos) > d->t.line_cap) {
			if (!d->resync)
				d->c.line_too_long++;
			d->t.line_len += tend - pos;
			line_reject(d, CT_ELIMIT, "line too long", d->m.first_off + d->t.line_cap, 1);
			return tend;
		}
		if (!sp && !nlp) {
			/* the token goes on in the next chunk */
			uint32_t n = tend - q;
			if (d->t.toklen < CT_MC_TOKEN_MAX_BYTES) {
				uint32_t room = CT_MC_TOKEN_MAX_BYTES - d->t.toklen;
				memcpy(d->tokbuf + d->t.toklen, p + q, n < room ? n : room);
			}
			d->t.toklen += n;
			d->t.tok_last = p[tend - 1];
			q = end;
			break;
		}
		const uint8_t *tp;
		uint32_t tl;
		int zc;
		uint8_t last;
		if (d->t.toklen) {
			uint32_t n = tend - q;
			if (d->t.toklen < CT_MC_TOKEN_MAX_BYTES) {
				uint32_t room = CT_MC_TOKEN_MAX_BYTES - d->t.toklen;
				memcpy(d->tokbuf + d->t.toklen, p + q, n < room ? n : room);
			}
			d->t.toklen += n;
			if (n)
				d->t.tok_last = p[tend - 1];
			tp = d->tokbuf;
			tl = d->t.toklen;
			last = d->t.tok_last;
			zc = 0;
		} else {
			tp = p + q;
			tl = tend - q;
			last = p[tend - 1];
			zc = 1;
		}
		d->t.tok_off = d->base + tend - tl;
		d->t.toklen = 0;
		if (!sp && last == '\r') /* the '\r' of "\r\n" */
			tl--;
		q = sp ? tend + 1 : end;
		if (tl) {
			uint32_t before = d->t.line_len;
			d->t.line_len = before + (q - pos); /* for offsets in errors and aborts */
			int r = d->t.ntok++ == 0 ? line_word(d, tp, tl, zc) : line_arg(d, tp, tl, zc);
			if (r < 0)
				return q;
			d->t.line_len = before;
		}
	}
	d->t.line_len += end - pos;
	if (d->t.line_len > d->t.line_cap) { /* e.g. a run of spaces */
		if (!d->resync)
			d->c.line_too_long++;
		line_reject(d, CT_ELIMIT, "line too long", d->m.first_off + d->t.line_cap, 1);
		return end;
	}
	if (!nlp)
		return len;
	if (d->t.toklen) {
		/* a token cut by the previous chunk ends right at the line end */
		uint32_t tl = d->t.toklen;
		d->t.tok_off = d->base + end - tl;
		if (d->t.tok_last == '\r')
			tl--;
		d->t.toklen = 0;
		if (tl) {
			int r = d->t.ntok++ == 0 ? line_word(d, d->tokbuf, tl, 0)
						 : line_arg(d, d->tokbuf, tl, 0);
			if (r < 0)
				return end;
		}
	}
	d->t.line_len++;
	line_end(d, d->base + end);
	return end + 1;
}

/* The "\r\n" after a data block. */
static uint32_t data_end(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	while (pos < len && d->t.crlf < 2) {
		uint8_t want = d->t.crlf == 0 ? '\r' : '\n';
		if (p[pos] != want) {
			if (d->side == CT_MC_SIDE_SERVER) {
				/* a server never does this: our framing is off */
				d->c.bad_frames++;
				ct_mc_fail(d, CT_EPROTO, "data block not followed by \\r\\n",
					   d->base + pos);
				ct_mc_msg_drop(d, 1);
				d->t.st = T_LINE;
				return pos;
			}
			if (!(d->m.flags & CT_MC_MF_BAD_DATA)) {
				d->m.flags |= CT_MC_MF_BAD_DATA;
				d->c.bad_data++;
			}
		}
		d->t.crlf++;
		pos++;
	}
	if (d->t.crlf == 2) {
		ct_mc_value_end(d);
		d->t.st = T_LINE;
		ct_mc_msg_emit(d, d->base + pos - 1);
	}
	return pos;
}

static uint32_t text_step(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	switch (d->t.st) {
	case T_LINE:
		return text_line(d, p, len, pos);
	case T_SKIP: {
		const uint8_t *nl = memchr(p + pos, '\n', len - pos);
		uint32_t end = nl ? (uint32_t)(nl - p) + 1 : len;
		d->c.resync_bytes += end - pos;
		if (nl)
			d->t.st = T_LINE;
		return end;
	}
	case T_DATA: {
		uint32_t n = len - pos;
		if (n > d->t.left)
			n = (uint32_t)d->t.left;
		d->t.left -= n;
		ct_mc_value_update(d, p + pos, n, d->t.left == 0);
		if (d->t.left == 0) {
			d->t.st = T_DATA_END;
			d->t.crlf = 0;
		}
		return pos + n;
	}
	default:
		return data_end(d, p, len, pos);
	}
}

/* A gap of len bytes at `off` (== d->off). */
static void text_gap(struct ct_mc *d, uint64_t off, uint64_t len)
{
	if (d->in_msg && d->t.st == T_DATA) {
		d->m.flags |= CT_MC_MF_GAP;
		d->hashing = H_OFF;
		if (len < d->t.left) {
			d->t.left -= len;
			d->c.gaps_in_value++;
			return;
		}
		len -= d->t.left;
		off += d->t.left;
		d->t.left = 0;
		d->t.st = T_DATA_END;
		d->t.crlf = 0;
	}
	if (d->in_msg && d->t.st == T_DATA_END) {
		uint64_t need = 2u - d->t.crlf;
		d->m.flags |= CT_MC_MF_GAP;
		d->hashing = H_OFF;
		if (len < need) {
			d->t.crlf = (uint8_t)(d->t.crlf + len);
			d->c.gaps_in_value++;
			return;
		}
		ct_mc_value_end(d);
		d->t.st = T_LINE;
		ct_mc_msg_emit(d, off + need - 1);
		if (len == need) {
			/* the gap ended exactly at a message boundary: still in step */
			d->c.gaps_in_value++;
			return;
		}
	}
	text_abort(d);
	d->t.st = T_LINE;
	d->t.toklen = 0;
	d->resync = 1;
	d->resynced_pending = 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Front end.                                                                                  */

int ct_mc_init(struct ct_mc *d, enum ct_mc_side side, const struct ct_mc_opts *o,
	       const struct ct_mc_cb *cb, void *ctx)
{
	struct ct_mc_opts def = { CT_MC_VALUES_HASH, CT_MC_FRAMING_AUTO, 0, 0 };
	if (!d || (side != CT_MC_SIDE_CLIENT && side != CT_MC_SIDE_SERVER))
		return CT_EINVAL;
	if (!o)
		o = &def;
	if (o->values > CT_MC_VALUES_HASH || o->framing > CT_MC_FRAMING_BINARY)
		return CT_EINVAL;
	memset(d, 0, offsetof(struct ct_mc, tokbuf)); /* the buffers need no clearing */
	d->xxh.at = 0xff; /* the hash state was never placed (hash.h): nothing to move */
	d->side = (uint8_t)side;
	d->values = o->values;
	d->framing = o->framing;
	d->no_resync = o->no_resync ? 1 : 0;
	d->cb = cb;
	d->ctx = ctx;
	if (o->framing == CT_MC_FRAMING_TEXT)
		d->proto = CT_MC_PROTO_TEXT;
	else if (o->framing == CT_MC_FRAMING_BINARY)
		d->proto = CT_MC_PROTO_BINARY;
	if (o->midstream) {
		d->resync = 1;
		d->resynced_pending = 1;
	}
	d->t.st = T_LINE;
	ct_mc_bin_reset(d);
	return 0;
}

/* AUTO framing, still undecided. At the start of a stream the first byte decides, as memcached
 * decides per connection (a server's reply is binary from its magic byte too). Mid-stream, a
 * text resync and a binary header scan run side by side over the same bytes: whichever finds
 * its footing first in stream order wins. */
static uint32_t decide(struct ct_mc *d, const uint8_t *p, uint32_t len)
{
	if (!d->resync) {
		d->proto = p[0] == 0x80 || p[0] == 0x81 ? CT_MC_PROTO_BINARY : CT_MC_PROTO_TEXT;
		ct_mc_bin_reset(d);
		return 0;
	}
	uint32_t end = len;
	int found = ct_mc_bin_probe(d, p, len, 0, &end);
	uint32_t pos = 0;
	while (pos < end && d->resync && !d->stopped)
		pos = text_step(d, p, end, pos);
	if (!d->resync) {
		d->proto = CT_MC_PROTO_TEXT;
		return pos;
	}
	if (found) {
		text_abort(d);
		d->t.st = T_LINE;
		d->t.toklen = 0;
		d->proto = CT_MC_PROTO_BINARY;
		ct_mc_bin_start_probed(d);
		return end;
	}
	return len;
}

/* Keys in the caller's chunk die with the call: copy the open message's key out. */
static void spill(struct ct_mc *d)
{
	if (d->in_msg && d->key_in_chunk) {
		memcpy(d->keybuf, d->m.key.p, d->m.key.len);
		d->m.key.p = d->keybuf;
	}
	d->key_in_chunk = 0;
}

int ct_mc_data(struct ct_mc *d, uint64_t off, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	if (d->stopped)
		return d->err;
	if (len == 0)
		return 0;
	d->call_err = 0;
	if (off != d->off) {
		if (off > d->off) {
			ct_mc_gap(d, d->off, off - d->off, ts_ns);
		} else {
			uint64_t skip = d->off - off;
			if (skip >= len) {
				d->c.overlap_bytes += len;
				return 0;
			}
			d->c.overlap_bytes += skip;
			p += skip;
			len -= (uint32_t)skip;
			off = d->off;
		}
	}
	d->base = off;
	d->ts_ns = ts_ns;
	d->c.bytes += len;
	uint32_t pos = 0;
	if (!d->proto)
		pos = decide(d, p, len);
	while (pos < len && !d->stopped) {
		if (d->proto == CT_MC_PROTO_BINARY)
			pos = ct_mc_bin_feed(d, p, len, pos);
		else
			pos = text_step(d, p, len, pos);
	}
	d->off = off + len;
	spill(d);
	return d->call_err;
}

void ct_mc_gap(struct ct_mc *d, uint64_t off, uint64_t len, uint64_t ts_ns)
{
	if (d->stopped || len == 0)
		return;
	len = ct_gap_from(d->off, off, len);
	if (len == 0)
		return;
	off = d->off;
	d->c.gaps++;
	d->c.gap_bytes += len;
	d->ts_ns = ts_ns;
	d->base = off;
	if (d->proto == CT_MC_PROTO_BINARY) {
		ct_mc_bin_gap(d, off, len);
	} else {
		text_gap(d, off, len); /* also while undecided: the text side may hold a line */
		if (!d->proto)
			ct_mc_bin_reset(d); /* and the binary probe a partial header */
	}
	d->off = off + len;
}

void ct_mc_resync(struct ct_mc *d)
{
	if (d->proto == CT_MC_PROTO_TEXT || !d->proto)
		text_abort(d);
	else
		ct_mc_msg_drop(d, 1);
	d->t.st = T_LINE;
	d->t.toklen = 0;
	d->resync = 1;
	d->resynced_pending = 1;
	ct_mc_bin_reset(d);
}

void ct_mc_boundary(struct ct_mc *d)
{
	if (d->proto == CT_MC_PROTO_TEXT || !d->proto)
		text_abort(d);
	else
		ct_mc_msg_drop(d, 1);
	d->t.st = T_LINE;
	d->t.toklen = 0;
	if (d->resync) {
		d->resync = 0;
		d->c.resyncs++;
	}
	ct_mc_bin_reset(d);
}

void ct_mc_end(struct ct_mc *d, uint64_t ts_ns)
{
	d->ts_ns = ts_ns;
	if (d->proto == CT_MC_PROTO_TEXT || !d->proto)
		text_abort(d);
	else
		ct_mc_msg_drop(d, 1);
	if (d->proto == CT_MC_PROTO_BINARY && d->b.hlen && !d->resync)
		d->c.aborted++;
	d->t.st = T_LINE;
	d->t.toklen = 0;
	ct_mc_bin_reset(d);
}

/* ------------------------------------------------------------------------------------------ */
/* Detection.                                                                                  */

static enum ct_mc_detect_result detect_text(const uint8_t *p, size_t len, struct ct_mc_guess *g)
{
	const uint8_t *nl = memchr(p, '\n', len < CT_MC_GET_LINE_MAX_BYTES ? len : CT_MC_GET_LINE_MAX_BYTES);
	if (!nl) {
		/* No line yet: say "unknown" as soon as the first word or the length rules
		 * memcached out, else wait for more. */
		size_t wmax = len < 16 ? len : 16;
		const uint8_t *sp = memchr(p, ' ', wmax);
		if (len >= CT_MC_GET_LINE_MAX_BYTES)
			return CT_MC_DETECT_UNKNOWN;
		if (!sp)
			return len >= 16 ? CT_MC_DETECT_UNKNOWN : CT_MC_DETECT_NEED_MORE;
		uint32_t wl = (uint32_t)(sp - p);
		uint8_t q = lookup_request(p, wl), r = lookup_reply(p, wl);
		if (q == Q_UNKNOWN && (r == P_UNKNOWN || r == P_NUMBER))
			return CT_MC_DETECT_UNKNOWN;
		if (len > CT_MC_LINE_MAX_BYTES && !(req_defs[q].opts & D_GETLINE))
			return CT_MC_DETECT_UNKNOWN;
		return CT_MC_DETECT_NEED_MORE;
	}
	uint32_t n = (uint32_t)(nl - p) + 1;
	struct ct_mc_opts o = { CT_MC_VALUES_NONE, CT_MC_FRAMING_TEXT, 1, 0 };
	for (int side = CT_MC_SIDE_CLIENT; side <= CT_MC_SIDE_SERVER; side++) {
		struct ct_mc dd;
		if (ct_mc_init(&dd, (enum ct_mc_side)side, &o, NULL, NULL) != 0)
			return CT_MC_DETECT_UNKNOWN;
		(void)ct_mc_data(&dd, 0, p, n, 0);
		if (!dd.resync && !dd.c.errors) {
			g->proto = dd.m.proto;
			g->side = (uint8_t)side;
			g->cmd = dd.m.cmd;
			g->evidence_len = n;
			return CT_MC_DETECT_TEXT;
		}
	}
	return CT_MC_DETECT_UNKNOWN;
}

enum ct_mc_detect_result ct_mc_detect(const uint8_t *p, size_t len, struct ct_mc_guess *g)
{
	struct ct_mc_guess dummy;
	if (!g)
		g = &dummy;
	memset(g, 0, sizeof *g);
	if (!p || len == 0)
		return CT_MC_DETECT_NEED_MORE;
	if (p[0] == 0x80 || p[0] == 0x81) {
		int side = p[0] == 0x80 ? CT_MC_SIDE_CLIENT : CT_MC_SIDE_SERVER;
		uint16_t cmd = 0;
		if (len < 24)
			return CT_MC_DETECT_NEED_MORE;
		if (!ct_mc_bin_plausible(p, side, &cmd))
			return CT_MC_DETECT_UNKNOWN;
		g->proto = CT_MC_PROTO_BINARY;
		g->side = (uint8_t)side;
		g->cmd = cmd;
		g->evidence_len = 24;
		return CT_MC_DETECT_BINARY;
	}
	return detect_text(p, len, g);
}

/* ------------------------------------------------------------------------------------------ */
/* Names.                                                                                      */

static const char *const cmd_names[CT_MC_CMD__COUNT] = {
	[CT_MC_CMD_NONE] = "NONE",
	[CT_MC_CMD_UNKNOWN] = "UNKNOWN",
	[CT_MC_CMD_GET] = "GET",
	[CT_MC_CMD_GETS] = "GETS",
	[CT_MC_CMD_GAT] = "GAT",
	[CT_MC_CMD_GATS] = "GATS",
	[CT_MC_CMD_SET] = "SET",
	[CT_MC_CMD_ADD] = "ADD",
	[CT_MC_CMD_REPLACE] = "REPLACE",
	[CT_MC_CMD_APPEND] = "APPEND",
	[CT_MC_CMD_PREPEND] = "PREPEND",
	[CT_MC_CMD_CAS] = "CAS",
	[CT_MC_CMD_DELETE] = "DELETE",
	[CT_MC_CMD_INCR] = "INCR",
	[CT_MC_CMD_DECR] = "DECR",
	[CT_MC_CMD_TOUCH] = "TOUCH",
	[CT_MC_CMD_FLUSH_ALL] = "FLUSH_ALL",
	[CT_MC_CMD_VERBOSITY] = "VERBOSITY",
	[CT_MC_CMD_VERSION] = "VERSION",
	[CT_MC_CMD_STATS] = "STATS",
	[CT_MC_CMD_QUIT] = "QUIT",
	[CT_MC_CMD_SHUTDOWN] = "SHUTDOWN",
	[CT_MC_CMD_CACHE_MEMLIMIT] = "CACHE_MEMLIMIT",
	[CT_MC_CMD_SLABS] = "SLABS",
	[CT_MC_CMD_LRU] = "LRU",
	[CT_MC_CMD_LRU_CRAWLER] = "LRU_CRAWLER",
	[CT_MC_CMD_WATCH] = "WATCH",
	[CT_MC_CMD_MISBEHAVE] = "MISBEHAVE",
	[CT_MC_CMD_DEBUGTIME] = "DEBUGTIME",
	[CT_MC_CMD_MG] = "MG",
	[CT_MC_CMD_MS] = "MS",
	[CT_MC_CMD_MD] = "MD",
	[CT_MC_CMD_MA] = "MA",
	[CT_MC_CMD_MN] = "MN",
	[CT_MC_CMD_ME] = "ME",
	[CT_MC_CMD_NOOP] = "NOOP",
	[CT_MC_CMD_SASL_LIST_MECHS] = "SASL_LIST_MECHS",
	[CT_MC_CMD_SASL_AUTH] = "SASL_AUTH",
	[CT_MC_CMD_SASL_STEP] = "SASL_STEP",
	[CT_MC_CMD_BIN_OTHER] = "BIN_OTHER",
	[CT_MC_R_VALUE] = "VALUE",
	[CT_MC_R_END] = "END",
	[CT_MC_R_STORED] = "STORED",
	[CT_MC_R_NOT_STORED] = "NOT_STORED",
	[CT_MC_R_EXISTS] = "EXISTS",
	[CT_MC_R_NOT_FOUND] = "NOT_FOUND",
	[CT_MC_R_DELETED] = "DELETED",
	[CT_MC_R_TOUCHED] = "TOUCHED",
	[CT_MC_R_OK] = "OK",
	[CT_MC_R_NUMBER] = "NUMBER",
	[CT_MC_R_VERSION] = "VERSION",
	[CT_MC_R_STAT] = "STAT",
	[CT_MC_R_RESET] = "RESET",
	[CT_MC_R_ERROR] = "ERROR",
	[CT_MC_R_CLIENT_ERROR] = "CLIENT_ERROR",
	[CT_MC_R_SERVER_ERROR] = "SERVER_ERROR",
	[CT_MC_R_HD] = "HD",
	[CT_MC_R_VA] = "VA",
	[CT_MC_R_EN] = "EN",
	[CT_MC_R_NF] = "NF",
	[CT_MC_R_NS] = "NS",
	[CT_MC_R_EX] = "EX",
	[CT_MC_R_MN] = "MN",
	[CT_MC_R_ME] = "ME",
	[CT_MC_R_UNKNOWN] = "UNKNOWN",
};

const char *ct_mc_cmd_name(unsigned cmd)
{
	if (cmd >= CT_MC_CMD__COUNT || !cmd_names[cmd])
		return "UNKNOWN";
	return cmd_names[cmd];
}

const char *ct_mc_proto_name(unsigned proto)
{
	switch (proto) {
	case CT_MC_PROTO_TEXT: return "text";
	case CT_MC_PROTO_META: return "meta";
	case CT_MC_PROTO_BINARY: return "binary";
	}
	return "unknown";
}
