/* memcached binary protocol framing for the decoder in mc_text.c: one message per packet,
 * after the memcached binary protocol ("BinaryProtocolRevamped", protocol_binary.h).
 *
 * Limits (limits.h): CT_MC_BIN_BODY_MAX_BYTES total body length; keys over
 * CT_MC_KEY_MAX_BYTES are skipped and flagged; when resyncing, a header is only believed with
 * a known opcode, matching extras, data type 0 and a body up to
 * CT_MC_BIN_RESYNC_BODY_MAX_BYTES. Nothing is buffered but the 24-byte header, the extras
 * (at most 255 bytes) and a key cut by a chunk boundary; values are hashed in place. */
#include <string.h>

#include "cachetap/mc.h"

/* Header, 24 bytes, all fields big endian:
 *
 *   byte  0       1       2       3       4       5       6       7
 *       +-------+-------+-------+-------+-------+-------+-------+-------+
 *     0 | magic |opcode |  key length   |extlen | dtype | vbucket/status|
 *       +-------+-------+-------+-------+-------+-------+-------+-------+
 *     8 |      total body length        |            opaque             |
 *       +-------+-------+-------+-------+-------+-------+-------+-------+
 *    16 |                              cas                              |
 *       +-------+-------+-------+-------+-------+-------+-------+-------+
 *
 * magic 0x80 = request (vbucket), 0x81 = response (status). The body follows:
 * extras (extlen) | key (key length) | value (total body - extlen - key length). */

enum { B_HDR, B_EXT, B_KEY, B_VALUE, B_SCAN };

enum {
	OP_Q = 1u << 0,      /* quiet variant */
	OP_K = 1u << 1,      /* the response carries the key */
	OP_GETFAM = 1u << 2, /* get/gat family: a hit has 4 bytes of flags in its extras */
	OP_VAL = 1u << 3,    /* the request carries a value */
	OP_KEY = 1u << 4,    /* the request must have a key */
	OP_OPTKEY = 1u << 5, /* the request may have a key */
	OP_MC = 1u << 6,     /* memcached implements it: good enough to resync on */
	OP_INCR = 1u << 7,   /* incr/decr: the response value is a 64-bit counter */
};

struct op_def {
	uint8_t cmd;
	uint8_t fl;
	int8_t ext; /* request extras length; -1: 0 or 4 (flush); -2: anything */
	const char *name;
};

#define G (OP_GETFAM | OP_KEY | OP_MC)
#define S (OP_VAL | OP_KEY | OP_MC)
#define I (OP_KEY | OP_MC | OP_INCR)
#define X(name) { CT_MC_CMD_BIN_OTHER, 0, -2, name }

static const struct op_def ops[256] = {
	[0x00] = { CT_MC_CMD_GET, G, 0, "GET" },
	[0x01] = { CT_MC_CMD_SET, S, 8, "SET" },
	[0x02] = { CT_MC_CMD_ADD, S, 8, "ADD" },
	[0x03] = { CT_MC_CMD_REPLACE, S, 8, "REPLACE" },
	[0x04] = { CT_MC_CMD_DELETE, OP_KEY | OP_MC, 0, "DELETE" },
	[0x05] = { CT_MC_CMD_INCR, I, 20, "INCREMENT" },
	[0x06] = { CT_MC_CMD_DECR, I, 20, "DECREMENT" },
	[0x07] = { CT_MC_CMD_QUIT, OP_MC, 0, "QUIT" },
	[0x08] = { CT_MC_CMD_FLUSH_ALL, OP_MC, -1, "FLUSH" },
	[0x09] = { CT_MC_CMD_GET, G | OP_Q, 0, "GETQ" },
	[0x0a] = { CT_MC_CMD_NOOP, OP_MC, 0, "NOOP" },
	[0x0b] = { CT_MC_CMD_VERSION, OP_MC, 0, "VERSION" },
	[0x0c] = { CT_MC_CMD_GET, G | OP_K, 0, "GETK" },
	[0x0d] = { CT_MC_CMD_GET, G | OP_K | OP_Q, 0, "GETKQ" },
	[0x0e] = { CT_MC_CMD_APPEND, S, 0, "APPEND" },
	[0x0f] = { CT_MC_CMD_PREPEND, S, 0, "PREPEND" },
	[0x10] = { CT_MC_CMD_STATS, OP_OPTKEY | OP_MC, 0, "STAT" },
	[0x11] = { CT_MC_CMD_SET, S | OP_Q, 8, "SETQ" },
	[0x12] = { CT_MC_CMD_ADD, S | OP_Q, 8, "ADDQ" },
	[0x13] = { CT_MC_CMD_REPLACE, S | OP_Q, 8, "REPLACEQ" },
	[0x14] = { CT_MC_CMD_DELETE, OP_KEY | OP_MC | OP_Q, 0, "DELETEQ" },
	[0x15] = { CT_MC_CMD_INCR, I | OP_Q, 20, "INCREMENTQ" },
	[0x16] = { CT_MC_CMD_DECR, I | OP_Q, 20, "DECREMENTQ" },
	[0x17] = { CT_MC_CMD_QUIT, OP_MC | OP_Q, 0, "QUITQ" },
	[0x18] = { CT_MC_CMD_FLUSH_ALL, OP_MC | OP_Q, -1, "FLUSHQ" },
	[0x19] = { CT_MC_CMD_APPEND, S | OP_Q, 0, "APPENDQ" },
	[0x1a] = { CT_MC_CMD_PREPEND, S | OP_Q, 0, "PREPENDQ" },
	[0x1b] = { CT_MC_CMD_VERBOSITY, OP_MC, 4, "VERBOSITY" },
	[0x1c] = { CT_MC_CMD_TOUCH, OP_KEY | OP_MC, 4, "TOUCH" },
	[0x1d] = { CT_MC_CMD_GAT, G, 4, "GAT" },
	[0x1e] = { CT_MC_CMD_GAT, G | OP_Q, 4, "GATQ" },
	[0x20] = { CT_MC_CMD_SASL_LIST_MECHS, OP_MC, 0, "SASL_LIST_MECHS" },
	[0x21] = { CT_MC_CMD_SASL_AUTH, OP_KEY | OP_VAL | OP_MC, 0, "SASL_AUTH" },
	[0x22] = { CT_MC_CMD_SASL_STEP, OP_KEY | OP_VAL | OP_MC, 0, "SASL_STEP" },
	[0x23] = { CT_MC_CMD_GAT, G | OP_K, 4, "GATK" },
	[0x24] = { CT_MC_CMD_GAT, G | OP_K | OP_Q, 4, "GATKQ" },
	[0x30] = X("RGET"), [0x31] = X("RSET"), [0x32] = X("RSETQ"), [0x33] = X("RAPPEND"),
	[0x34] = X("RAPPENDQ"), [0x35] = X("RPREPEND"), [0x36] = X("RPREPENDQ"),
	[0x37] = X("RDELETE"), [0x38] = X("RDELETEQ"), [0x39] = X("RINCR"), [0x3a] = X("RINCRQ"),
	[0x3b] = X("RDECR"), [0x3c] = X("RDECRQ"), [0x3d] = X("SET_VBUCKET"),
	[0x3e] = X("GET_VBUCKET"), [0x3f] = X("DEL_VBUCKET"), [0x40] = X("TAP_CONNECT"),
	[0x41] = X("TAP_MUTATION"), [0x42] = X("TAP_DELETE"), [0x43] = X("TAP_FLUSH"),
	[0x44] = X("TAP_OPAQUE"), [0x45] = X("TAP_VBUCKET_SET"),
	[0x46] = X("TAP_CHECKPOINT_START"), [0x47] = X("TAP_CHECKPOINT_END"),
};

const char *ct_mc_bin_opcode_name(uint8_t opcode)
{
	return ops[opcode].name;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int status_known(uint16_t s)
{
	return s <= 0x09 || s == 0x20 || s == 0x21 || (s >= 0x81 && s <= 0x86);
}

/* The strict test used to resync and to detect: could these 24 bytes start a message that
 * memcached would send or accept? */
int ct_mc_bin_plausible(const uint8_t *h, int side, uint16_t *cmd)
{
	const struct op_def *op = &ops[h[1]];
	uint16_t keylen = be16(h + 2);
	uint8_t extlen = h[4];
	uint32_t body = be32(h + 8);

	if (h[0] != (side == CT_MC_SIDE_CLIENT ? 0x80 : 0x81) || !(op->fl & OP_MC) || h[5] != 0)
		return 0;
	if (keylen > CT_MC_KEY_MAX_BYTES || (uint64_t)extlen + keylen > body ||
	    body > CT_MC_BIN_RESYNC_BODY_MAX_BYTES)
		return 0;
	if (side == CT_MC_SIDE_CLIENT) {
		if (op->ext >= 0 ? extlen != op->ext : (extlen != 0 && extlen != 4))
			return 0;
		if ((op->fl & OP_KEY) ? keylen == 0 : (!(op->fl & OP_OPTKEY) && keylen != 0))
			return 0;
		if (!(op->fl & OP_VAL) && body != (uint32_t)extlen + keylen)
			return 0;
	} else {
		uint16_t status = be16(h + 6);
		if (!status_known(status))
			return 0;
		if (extlen != 0 && !(extlen == 4 && (op->fl & OP_GETFAM) && status == 0))
			return 0;
		if (keylen && !(op->fl & OP_K) && op->cmd != CT_MC_CMD_STATS && status == 0)
			return 0;
	}
	if (cmd)
		*cmd = op->cmd;
	return 1;
}

void ct_mc_bin_reset(struct ct_mc *d)
{
	d->b.st = d->resync ? B_SCAN : B_HDR;
	d->b.hlen = 0;
	d->b.got = 0;
}

static uint64_t body_end(const struct ct_mc *d)
{
	return d->b.hdr_off + 24 + d->b.bodylen - 1;
}

static void finish(struct ct_mc *d, uint64_t last_off)
{
	struct ct_mc_msg *m = &d->m;
	if (m->flags & CT_MC_MF_VALUE)
		ct_mc_value_end(d);
	if (d->side == CT_MC_SIDE_SERVER && (ops[m->opcode].fl & OP_INCR) && m->status == 0 &&
	    d->b.vhead_len == 8 && m->value_len == 8 && !(m->flags & CT_MC_MF_GAP)) {
		m->number = be64(d->b.vhead);
		m->have |= CT_MC_HAVE_NUMBER;
	}
	d->b.st = B_HDR;
	d->b.hlen = 0;
	ct_mc_msg_emit(d, last_off);
}

/* After the extras, the key, and the value: move to the next part that has bytes. */
static void next_part(struct ct_mc *d)
{
	d->b.got = 0;
	if (d->b.st == B_EXT && d->b.keylen) {
		d->b.st = B_KEY;
		return;
	}
	if (d->b.left) {
		d->b.st = B_VALUE;
		return;
	}
	finish(d, body_end(d));
}

/* Starts a message from an accepted header. */
static void start(struct ct_mc *d, const uint8_t *h)
{
	struct ct_mc_msg *m = &d->m;
	const struct op_def *op = &ops[h[1]];

	ct_mc_msg_begin(d, d->b.hdr_off, d->b.hdr_ts, CT_MC_PROTO_BINARY);
	ct_mc_msg_accept(d);
	m->opcode = h[1];
	m->cmd = op->cmd ? op->cmd : CT_MC_CMD_UNKNOWN;
	if (!op->cmd)
		d->c.unknown_cmds++;
	if (op->fl & OP_Q)
		m->flags |= CT_MC_MF_QUIET;
	if (op->fl & OP_K)
		m->flags |= CT_MC_MF_RETKEY;
	d->b.keylen = be16(h + 2);
	d->b.extlen = h[4];
	m->datatype = h[5];
	if (d->side == CT_MC_SIDE_CLIENT)
		m->vbucket = be16(h + 6);
	else
		m->status = be16(h + 6);
	d->b.bodylen = be32(h + 8);
	m->opaque = be32(h + 12);
	m->cas = be64(h + 16);
	if (m->cas)
		m->have |= CT_MC_HAVE_CAS;
	if (d->b.keylen > CT_MC_KEY_MAX_BYTES) {
		m->flags |= CT_MC_MF_KEY_TOO_LONG;
		d->c.keys_too_long++;
	}
	uint64_t vlen = (uint64_t)d->b.bodylen - d->b.extlen - d->b.keylen;
	int is_req = d->side == CT_MC_SIDE_CLIENT;
	int info = m->cmd == CT_MC_CMD_VERSION || m->cmd == CT_MC_CMD_STATS;
	int value;
	if (is_req)
		value = (op->fl & OP_VAL) || vlen > 0;
	else
		value = m->status == 0 && !info && (vlen > 0 || (op->fl & OP_GETFAM));
	d->b.capture = !is_req && (m->status != 0 || info);
	if (d->b.capture && vlen > CT_MC_TEXT_MAX_BYTES)
		m->flags |= CT_MC_MF_TEXT_TRUNC;
	d->b.vhead_len = 0;
	d->b.left = vlen;
	if (value)
		ct_mc_value_begin(d, vlen);
	if (is_req && op->cmd && op->ext >= 0 && d->b.extlen != op->ext)
		m->flags |= CT_MC_MF_BAD_ARGS;
	d->b.got = 0;
	if (d->b.extlen)
		d->b.st = B_EXT;
	else if (d->b.keylen)
		d->b.st = B_KEY;
	else if (vlen)
		d->b.st = B_VALUE;
	else
		finish(d, body_end(d));
}

/* Extras, by opcode. Lengths other than the expected ones are kept but not read. */
static void extras(struct ct_mc *d)
{
	struct ct_mc_msg *m = &d->m;
	const uint8_t *e = d->extbuf;
	uint8_t n = d->b.extlen;
	uint8_t fl = ops[m->opcode].fl;
	m->extras.p = e;
	m->extras.len = n;
	if (d->side == CT_MC_SIDE_SERVER) {
		if ((fl & OP_GETFAM) && n == 4) {
			m->client_flags = be32(e);
			m->have |= CT_MC_HAVE_FLAGS;
		}
		return;
	}
	switch (m->cmd) {
	case CT_MC_CMD_SET:
	case CT_MC_CMD_ADD:
	case CT_MC_CMD_REPLACE:
		if (n == 8) {
			m->client_flags = be32(e);
			m->exptime = be32(e + 4);
			m->have |= CT_MC_HAVE_FLAGS | CT_MC_HAVE_EXPTIME;
		}
		break;
	case CT_MC_CMD_INCR:
	case CT_MC_CMD_DECR:
		if (n == 20) {
			m->number = be64(e);
			m->initial = be64(e + 8);
			m->exptime = be32(e + 16);
			m->have |= CT_MC_HAVE_NUMBER | CT_MC_HAVE_INITIAL | CT_MC_HAVE_EXPTIME;
		}
		break;
	case CT_MC_CMD_TOUCH:
	case CT_MC_CMD_GAT:
		if (n == 4) {
			m->exptime = be32(e);
			m->have |= CT_MC_HAVE_EXPTIME;
		}
		break;
	case CT_MC_CMD_FLUSH_ALL: /* the delay, like text flush_all's argument */
	case CT_MC_CMD_VERBOSITY:
		if (n == 4) {
			m->number = be32(e);
			m->have |= CT_MC_HAVE_NUMBER;
		} else if (n != 0 || m->cmd == CT_MC_CMD_VERBOSITY) {
			m->flags |= CT_MC_MF_BAD_ARGS;
		}
		break;
	default:
		break;
	}
}

/* The header check while in step: only what framing needs (the magic for this direction,
 * lengths that add up, the body limit). Unknown opcodes are framed and delivered. */
static int header_ok(struct ct_mc *d, const uint8_t *h)
{
	uint8_t magic = d->side == CT_MC_SIDE_CLIENT ? 0x80 : 0x81;
	uint32_t body = be32(h + 8);
	if (h[0] != magic) {
		d->c.bad_frames++;
		ct_mc_fail(d, CT_EPROTO, "bad binary magic byte", d->b.hdr_off);
		return 0;
	}
	if (body > CT_MC_BIN_BODY_MAX_BYTES) {
		d->c.body_too_long++;
		ct_mc_fail(d, CT_ELIMIT, "binary body length over the limit", d->b.hdr_off);
		return 0;
	}
	if ((uint64_t)h[4] + be16(h + 2) > body) {
		d->c.bad_frames++;
		ct_mc_fail(d, CT_EPROTO, "binary key and extras longer than the body", d->b.hdr_off);
		return 0;
	}
	return 1;
}

/* Drops the window's first byte and slides to the next magic byte in it, if any. */
static void slide(struct ct_mc *d)
{
	uint8_t magic = d->side == CT_MC_SIDE_CLIENT ? 0x80 : 0x81;
	uint32_t i = d->b.hlen;
	if (d->b.hlen > 1) {
		const uint8_t *q = memchr(d->b.hdr + 1, magic, d->b.hlen - 1u);
		if (q)
			i = (uint32_t)(q - d->b.hdr);
	}
	memmove(d->b.hdr, d->b.hdr + i, d->b.hlen - i);
	memmove(d->b.hts, d->b.hts + i, (d->b.hlen - i) * sizeof d->b.hts[0]);
	d->b.hlen = (uint8_t)(d->b.hlen - i);
	d->b.hdr_off += i;
	d->b.hdr_ts = d->b.hts[0];
	d->c.resync_bytes += i;
}

/* Appends chunk bytes to the header window, remembering each byte's capture time (a window
 * can span many chunks, and the message's first_ts_ns is its first byte's). */
static uint32_t window_fill(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	uint32_t n = 24u - d->b.hlen;
	if (n > len - pos)
		n = len - pos;
	memcpy(d->b.hdr + d->b.hlen, p + pos, n);
	for (uint32_t i = 0; i < n; i++)
		d->b.hts[d->b.hlen + i] = d->ts_ns;
	d->b.hlen = (uint8_t)(d->b.hlen + n);
	return pos + n;
}

/* One step of the search for a plausible header. When one is found it is in b.hdr (with
 * b.hdr_off, b.hdr_ts), *found is set, and the return value is the position after it. */
static uint32_t scan_step(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos,
			  int *found)
{
	uint8_t magic = d->side == CT_MC_SIDE_CLIENT ? 0x80 : 0x81;
	*found = 0;
	if (d->b.hlen) {
		pos = window_fill(d, p, len, pos);
		if (d->b.hlen < 24)
			return pos;
		if (ct_mc_bin_plausible(d->b.hdr, d->side, NULL)) {
			d->b.hlen = 0;
			*found = 1;
		} else {
			slide(d);
		}
		return pos;
	}
	const uint8_t *q = memchr(p + pos, magic, len - pos);
	if (!q) {
		d->c.resync_bytes += len - pos;
		return len;
	}
	d->c.resync_bytes += (uint64_t)(q - (p + pos));
	pos = (uint32_t)(q - p);
	d->b.hdr_off = d->base + pos;
	d->b.hdr_ts = d->ts_ns;
	if (len - pos >= 24) {
		if (ct_mc_bin_plausible(p + pos, d->side, NULL)) {
			memcpy(d->b.hdr, p + pos, 24);
			*found = 1;
			return pos + 24;
		}
		d->c.resync_bytes++;
		return pos + 1;
	}
	return window_fill(d, p, len, pos);
}

static uint32_t scan(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	int found;
	pos = scan_step(d, p, len, pos, &found);
	if (found)
		start(d, d->b.hdr);
	return pos;
}

/* For AUTO framing mid-stream: looks for a plausible header in [pos, len) without starting a
 * message, keeping a partial window for the next chunk. Returns 1 and the position after the
 * header when one completes in this chunk. */
int ct_mc_bin_probe(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos, uint32_t *end)
{
	uint64_t skipped = d->c.resync_bytes; /* the text side accounts for the bytes it skips */
	while (pos < len) {
		int found;
		pos = scan_step(d, p, len, pos, &found);
		if (found) {
			d->c.resync_bytes = skipped;
			*end = pos;
			return 1;
		}
	}
	d->c.resync_bytes = skipped;
	return 0;
}

/* Starts binary decoding with the header the probe found. */
void ct_mc_bin_start_probed(struct ct_mc *d)
{
	d->b.hlen = 0;
	start(d, d->b.hdr);
}

static uint32_t header(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	const uint8_t *h;
	int in_chunk = 0;
	if (d->b.hlen == 0) {
		d->b.hdr_off = d->base + pos;
		d->b.hdr_ts = d->ts_ns;
	}
	if (d->b.hlen == 0 && len - pos >= 24) {
		h = p + pos;
		in_chunk = 1;
		pos += 24;
	} else {
		pos = window_fill(d, p, len, pos);
		if (d->b.hlen < 24)
			return pos;
		h = d->b.hdr;
	}
	int ok = d->resync ? ct_mc_bin_plausible(h, d->side, NULL) : header_ok(d, h);
	if (ok) {
		d->b.hlen = 0;
		start(d, h);
		return pos;
	}
	/* look again from the byte after this header's first */
	d->b.st = B_SCAN;
	if (in_chunk) {
		d->b.hlen = 0;
		d->c.resync_bytes++;
		return (uint32_t)(h - p) + 1;
	}
	slide(d);
	return pos;
}

uint32_t ct_mc_bin_feed(struct ct_mc *d, const uint8_t *p, uint32_t len, uint32_t pos)
{
	struct ct_mc_msg *m = &d->m;
	uint32_t avail = len - pos, n;

	switch (d->b.st) {
	case B_HDR:
		return header(d, p, len, pos);
	case B_SCAN:
		return scan(d, p, len, pos);
	case B_EXT:
		n = d->b.extlen - d->b.got;
		if (n > avail)
			n = avail;
		memcpy(d->extbuf + d->b.got, p + pos, n);
		d->b.got = (uint16_t)(d->b.got + n);
		if (d->b.got == d->b.extlen) {
			extras(d);
			next_part(d);
		}
		return pos + n;
	case B_KEY:
		n = d->b.keylen - d->b.got;
		if (n > avail)
			n = avail;
		if (d->b.keylen > CT_MC_KEY_MAX_BYTES) {
			/* skipped: too long to keep */
		} else if (d->b.got == 0 && n == d->b.keylen) {
			m->key.p = p + pos; /* zero copy; spilled at the chunk end if still open */
			d->key_in_chunk = 1;
		} else {
			memcpy(d->keybuf + d->b.got, p + pos, n);
			m->key.p = d->keybuf;
		}
		d->b.got = (uint16_t)(d->b.got + n);
		if (d->b.got == d->b.keylen) {
			if (d->b.keylen <= CT_MC_KEY_MAX_BYTES) {
				m->key.len = d->b.keylen;
				m->nkeys = 1;
			}
			next_part(d);
		}
		return pos + n;
	case B_VALUE:
	default: {
		uint64_t want = d->b.left;
		n = want < avail ? (uint32_t)want : avail;
		if (d->b.vhead_len < 8) {
			uint32_t k = 8u - d->b.vhead_len;
			if (k > n)
				k = n;
			memcpy(d->b.vhead + d->b.vhead_len, p + pos, k);
			d->b.vhead_len = (uint8_t)(d->b.vhead_len + k);
		}
		if (d->b.capture && m->text.len < CT_MC_TEXT_MAX_BYTES) {
			uint32_t k = CT_MC_TEXT_MAX_BYTES - m->text.len;
			if (k > n)
				k = n;
			memcpy(d->textbuf + m->text.len, p + pos, k);
			m->text.p = d->textbuf;
			m->text.len += k;
		}
		d->b.left -= n;
		if (m->flags & CT_MC_MF_VALUE)
			ct_mc_value_update(d, p + pos, n, d->b.left == 0);
		if (d->b.left == 0)
			finish(d, body_end(d));
		return pos + n;
	}
	}
}

/* A gap of len bytes at `off`. Inside a body the framing holds: the rest of the body is
 * skipped and the message delivered with CT_MC_MF_GAP. */
void ct_mc_bin_gap(struct ct_mc *d, uint64_t off, uint64_t len)
{
	struct ct_mc_msg *m = &d->m;
	if (d->in_msg) {
		uint64_t rem = d->b.left;
		if (d->b.st == B_EXT)
			rem += (uint64_t)(d->b.extlen - d->b.got) + d->b.keylen;
		else if (d->b.st == B_KEY)
			rem += (uint64_t)(d->b.keylen - d->b.got);
		m->flags |= CT_MC_MF_GAP;
		d->hashing = 0;
		d->b.capture = 0;
		if (d->b.st == B_EXT || d->b.st == B_KEY) { /* a part cut: do not trust it */
			m->key.p = NULL;
			m->key.len = 0;
			m->nkeys = 0;
			d->key_in_chunk = 0;
		}
		if (len < rem) {
			d->b.left = rem - len;
			d->b.st = B_VALUE;
			d->b.vhead_len = 8; /* nothing more to capture */
			d->c.gaps_in_value++;
			return;
		}
		d->b.left = 0;
		finish(d, off + rem - 1);
		if (len == rem) {
			d->c.gaps_in_value++;
			return;
		}
	} else if (d->b.hlen && !d->resync) {
		d->c.aborted++;
	}
	d->resync = 1;
	d->resynced_pending = 1;
	d->b.st = B_SCAN;
	d->b.hlen = 0;
}
