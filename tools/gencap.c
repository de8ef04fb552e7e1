/* gencap: writes synthetic captures whose stream bytes are known, each with NAME.expect, the
 * exact reassembly result ctdump must print for it (grammar: the comment atop tools/ctdump.c).
 *
 * Usage: gencap OUTDIR
 *
 * Files are written by hand, with no libpcap writer: classic pcap (tcpdump.org "pcap savefile
 * format", microsecond magic 0xa1b2c3d4 and nanosecond magic 0xa1b23c4d) and pcapng
 * (draft-ietf-opsawg-pcapng: SHB, IDB with if_tsresol, EPB), all little-endian. Frames are
 * built here too: Ethernet II, 802.1Q, QinQ (802.1ad), Linux SLL and SLL2, BSD NULL and LOOP,
 * RAW; IPv4 (RFC 791) and IPv6 (RFC 8200, with extension headers); TCP (RFC 9293) and UDP.
 * Checksums are real except where a snaplen cut makes them moot.
 *
 * How the expectation is computed: every scenario talks through a model connection that keeps,
 * per direction, the intended stream ("truth") and, per byte offset, the first copy that
 * arrived (first copy wins; a byte cut off by the snaplen arrives as a gap). At the end a byte
 * never covered, below the highest offset any segment reached, is a gap. This is the
 * reassembly contract of include/cachetap/reasm.h provided a scenario
 *  - never fills a hole after it may have become a gap (CT_REASM_GAP_WAIT_NS passed, or a
 *    queue cap was hit), unless it first tells the model so with model_expire();
 *  - never queues a snaplen-cut segment out of order;
 *  - starts each mid-stream direction with in-order data;
 *  - sends nothing beyond CT_REASM_WINDOW_BYTES through the model (emit_tcp bypasses it).
 * Every scenario below keeps to those rules; they are what makes the model exact. Timing and
 * sizes that matter come from include/cachetap/limits.h, so the scenarios follow the limits.
 *
 * Output is deterministic: a fixed PRNG seed per scenario, fixed timestamps. Limits: a model
 * stream holds at most MODEL_STREAM_MAX_BYTES per direction (plenty for synthetic traffic). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachetap/buf.h"
#include "cachetap/common.h"
#include "cachetap/limits.h"
#include "bytes.h"

#define MODEL_STREAM_MAX_BYTES (1u << 20) /* model bytes per direction, gencap only */
#define FRAME_MAX_BYTES 65600u            /* one built frame */
#define BASE_TIME_S 1700000000ull         /* 2023-11-14T22:13:20Z, start of every capture */
#define GAP_WAIT_PAST_NS (CT_REASM_GAP_WAIT_NS + 300000000ull) /* a pause that makes holes gaps */

/* ------------------------------------------------------------------------------------------ */
/* The model: endpoints, connections, per-direction streams. */

enum { C2S = 0, S2C = 1 };
enum { ST_NONE = 0, ST_DATA = 1, ST_GAP = 2 };

struct ep {
	int v6;
	uint8_t a[16];
	uint16_t port;
};

struct dirm {
	struct ct_buf truth;   /* what the application wrote, by absolute offset */
	uint8_t *got;       /* first copy that arrived, per absolute offset */
	uint8_t *st;        /* ST_* per absolute offset */
	uint64_t end;       /* highest offset any segment reached (absolute) */
	int started;        /* mid-stream: the first data segment fixed the origin */
	uint64_t origin;    /* absolute offset reported as 0 */
	uint32_t base;      /* sequence number of absolute offset 0 */
	uint64_t sent_hi;   /* highest offset sent, for ACK numbers */
	uint64_t pkts, payload_bytes;
	int fin_sent;
	struct ct_buf dgram_lines; /* UDP: expected "datagram" lines */
};

struct conn {
	struct conn *next;
	int tcp;
	struct ep cli, srv;
	uint32_t isn[2];
	int handshake;        /* the connection began with a SYN we emit */
	const char *orient;   /* syn, port, guess */
	const char *close;    /* fin, rst, idle, reuse, end */
	uint64_t id;          /* 0 until its first packet is written */
	uint64_t first_ts, last_ts;
	uint32_t tsval;       /* TCP timestamp option value */
	struct dirm d[2];
};

enum { FMT_PCAP_US, FMT_PCAP_NS, FMT_PCAPNG_US, FMT_PCAPNG_NS };

/* LINKTYPE_* values as written in file headers (tcpdump.org link-layer header types). */
enum {
	LT_NULL = 0,
	LT_ETHERNET = 1,
	LT_RAW = 101,
	LT_LOOP = 108,
	LT_LINUX_SLL = 113,
	LT_LINUX_SLL2 = 276,
};

/* Ethernet encapsulations selected per capture for LT_ETHERNET. */
enum { ENC_PLAIN, ENC_VLAN, ENC_QINQ };

struct gen {
	FILE *f;
	int fmt;
	int linktype;
	int enc;
	uint32_t snaplen;
	uint64_t now;      /* ns since the epoch */
	uint64_t step;     /* added after every frame */
	uint64_t rng;
	int tcp_opts;      /* add TCP timestamp (and SYN) options */
	int ip4_opts;      /* add an IPv4 option (IHL 6) */
	int ip6_ext;       /* add IPv6 hop-by-hop and destination-options headers */
	uint16_t ip_id;
	struct conn *conns, **conns_tail;
	uint64_t next_id;
	uint64_t frames;
};

static struct ep ep4(unsigned a, unsigned b, unsigned c, unsigned d, uint16_t port)
{
	struct ep e;
	memset(&e, 0, sizeof e);
	e.a[0] = (uint8_t)a;
	e.a[1] = (uint8_t)b;
	e.a[2] = (uint8_t)c;
	e.a[3] = (uint8_t)d;
	e.port = port;
	return e;
}

static struct ep ep6(const char *s, uint16_t port)
{
	struct ep e;
	memset(&e, 0, sizeof e);
	e.v6 = 1;
	if (inet_pton(AF_INET6, s, e.a) != 1)
		tool_die("bad IPv6 literal %s", s);
	e.port = port;
	return e;
}

static struct conn *conn_new(struct gen *g, int tcp, struct ep cli, struct ep srv, uint32_t isn_c,
			     uint32_t isn_s)
{
	struct conn *c = ct_calloc(1, sizeof *c);
	if (!c)
		tool_die("out of memory");
	c->tcp = tcp;
	c->cli = cli;
	c->srv = srv;
	c->isn[C2S] = isn_c;
	c->isn[S2C] = isn_s;
	c->orient = "port";
	c->close = "end";
	c->tsval = 1000 + (uint32_t)rng_below(&g->rng, 100000);
	/* Without a handshake offset 0 sits at the ISN; tcp_open moves it to ISN+1. */
	c->d[C2S].base = isn_c;
	c->d[S2C].base = isn_s;
	*g->conns_tail = c;
	g->conns_tail = &c->next;
	return c;
}

static void conn_free(struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		ct_buf_free(&c->d[i].truth);
		ct_buf_free(&c->d[i].dgram_lines);
		ct_free(c->d[i].got);
		ct_free(c->d[i].st);
	}
	ct_free(c);
}

/* Appends application bytes to one direction's stream; returns their absolute offset. */
static uint64_t say(struct conn *c, int dir, const void *p, size_t n)
{
	struct dirm *d = &c->d[dir];
	uint64_t off = d->truth.len;
	if (off + n > MODEL_STREAM_MAX_BYTES)
		tool_die("model stream over %u bytes", MODEL_STREAM_MAX_BYTES);
	put(&d->truth, p, n);
	return off;
}

static uint64_t says(struct conn *c, int dir, const char *s)
{
	return say(c, dir, s, strlen(s));
}

/* One RESP bulk-string argument: bytes and length, so values may hold NUL and CR LF. */
struct arg {
	const char *p;
	size_t n;
};
#define A(s) ((struct arg){ (s), sizeof(s) - 1 })

/* Appends a RESP array of bulk strings (a client command); returns its offset.
 *   *<argc>\r\n  then per argument  $<len>\r\n<bytes>\r\n */
static uint64_t say_cmd(struct conn *c, int dir, int argc, const struct arg *argv)
{
	struct ct_buf b = { 0 };
	put_printf(&b, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++) {
		put_printf(&b, "$%zu\r\n", argv[i].n);
		put(&b, argv[i].p, argv[i].n);
		put_str(&b, "\r\n");
	}
	uint64_t off = say(c, dir, b.p, b.len);
	ct_buf_free(&b);
	return off;
}
#define CMD(c, dir, ...)                                                                  \
	say_cmd((c), (dir), (int)(sizeof((struct arg[]){ __VA_ARGS__ }) / sizeof(struct arg)), \
		(struct arg[]){ __VA_ARGS__ })

/* Appends a RESP bulk string reply: $<len>\r\n<bytes>\r\n */
static uint64_t say_bulk(struct conn *c, int dir, const char *p, size_t n)
{
	struct ct_buf b = { 0 };
	put_printf(&b, "$%zu\r\n", n);
	put(&b, p, n);
	put_str(&b, "\r\n");
	uint64_t off = say(c, dir, b.p, b.len);
	ct_buf_free(&b);
	return off;
}

/* Records, in the model, one segment's arrival: first copy wins; the part the snaplen cut off
 * (caplen..wirelen) arrives as a gap. */
static void model_segment(struct conn *c, int dir, uint64_t off, const uint8_t *p, uint32_t caplen,
			  uint32_t wirelen)
{
	struct dirm *d = &c->d[dir];
	if (!wirelen)
		return;
	if (!d->got) {
		d->got = ct_calloc(MODEL_STREAM_MAX_BYTES, 1);
		d->st = ct_calloc(MODEL_STREAM_MAX_BYTES, 1);
		if (!d->got || !d->st)
			tool_die("out of memory");
	}
	if (off + wirelen > MODEL_STREAM_MAX_BYTES)
		tool_die("model segment beyond %u bytes", MODEL_STREAM_MAX_BYTES);
	if (!c->handshake && !d->started) {
		d->started = 1;
		d->origin = off;
	}
	for (uint32_t i = 0; i < wirelen; i++) {
		uint64_t o = off + i;
		if (o < d->origin || d->st[o] != ST_NONE)
			continue;
		d->st[o] = i < caplen ? ST_DATA : ST_GAP;
		d->got[o] = i < caplen ? p[i] : 0;
	}
	if (off + wirelen > d->end)
		d->end = off + wirelen;
}

/* Records that the reassembler has declared every hole below the highest offset seen a gap:
 * a scenario calls it once a packet has arrived more than CT_REASM_GAP_WAIT_NS after the
 * hole appeared. Bytes that arrive later for those holes are dropped, as the contract says. */
static void model_expire(struct conn *c, int dir)
{
	struct dirm *d = &c->d[dir];
	for (uint64_t o = d->origin; o < d->end; o++)
		if (d->st[o] == ST_NONE)
			d->st[o] = ST_GAP;
}

/* ------------------------------------------------------------------------------------------ */
/* Frame building. */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16at(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet MACs: the client's host and the server's host. */
static const uint8_t mac_cli[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };
static const uint8_t mac_srv[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x03 };

/* Wraps an IP packet in this capture's link layer.
 *
 * Ethernet II:  dst(6) src(6) type(2)                         type 0x0800 IPv4, 0x86dd IPv6
 * 802.1Q:       dst(6) src(6) 0x8100 TCI(2) type(2)           TCI = PCP(3) DEI(1) VID(12)
 * QinQ:         dst(6) src(6) 0x88a8 TCI(2) 0x8100 TCI(2) type(2)
 * Linux SLL:    pkttype(2) arphrd(2) addrlen(2) addr(8) protocol(2)                 16 bytes
 * Linux SLL2:   protocol(2) reserved(2) ifindex(4) arphrd(2) pkttype(1) addrlen(1) addr(8)
 * NULL:         AF(4) in the writer's byte order (this file is little-endian: 2 = AF_INET)
 * LOOP:         AF(4) in network byte order
 * RAW:          nothing; the IP version nibble says v4 or v6 */
static void link_wrap(struct gen *g, struct ct_buf *out, const uint8_t *ip, size_t iplen, int v6,
		      int from_cli)
{
	unsigned ethertype = v6 ? 0x86dd : 0x0800;
	const uint8_t *smac = from_cli ? mac_cli : mac_srv;
	const uint8_t *dmac = from_cli ? mac_srv : mac_cli;
	switch (g->linktype) {
	case LT_ETHERNET:
		put(out, dmac, 6);
		put(out, smac, 6);
		if (g->enc == ENC_VLAN) {
			put_be16(out, 0x8100);
			put_be16(out, (3u << 13) | 100); /* PCP 3, VID 100 */
		} else if (g->enc == ENC_QINQ) {
			put_be16(out, 0x88a8);
			put_be16(out, 10); /* service VID 10 */
			put_be16(out, 0x8100);
			put_be16(out, 200); /* customer VID 200 */
		}
		put_be16(out, ethertype);
		break;
	case LT_LINUX_SLL:
		put_be16(out, from_cli ? 4 : 0); /* captured on the client host: 4 = outgoing */
		put_be16(out, 1);                /* ARPHRD_ETHER */
		put_be16(out, 6);
		put(out, smac, 6);
		put_be16(out, 0);
		put_be16(out, ethertype);
		break;
	case LT_LINUX_SLL2:
		put_be16(out, ethertype);
		put_be16(out, 0);
		put_be32(out, 3); /* ifindex */
		put_be16(out, 1); /* ARPHRD_ETHER */
		put_u8(out, from_cli ? 4 : 0);
		put_u8(out, 6);
		put(out, smac, 6);
		put_be16(out, 0);
		break;
	case LT_NULL:
		put_le32(out, v6 ? 30 : 2); /* only IPv4 is used with NULL: AF_INET6 varies by OS */
		break;
	case LT_LOOP:
		put_be32(out, v6 ? 30 : 2);
		break;
	case LT_RAW:
		break;
	default:
		tool_die("unknown link type %d", g->linktype);
	}
	put(out, ip, iplen);
}

/* Builds IP + L4 into `out`.
 *
 * IPv4:  ver/ihl(1) tos(1) totlen(2) id(2) flags/frag(2) ttl(1) proto(1) csum(2) src(4) dst(4)
 *        [options, IHL*4 - 20 bytes]
 * IPv6:  ver/tc/flow(4) paylen(2) next(1) hlim(1) src(16) dst(16)  [extension headers]
 *        hop-by-hop / destination options: next(1) hdrlen(1, 8-byte units - 1) options(6+)
 * TCP:   sport(2) dport(2) seq(4) ack(4) doff/rsvd(1) flags(1) win(2) csum(2) urg(2) [options]
 * UDP:   sport(2) dport(2) len(2) csum(2) */
static void build_ip(struct gen *g, struct ct_buf *out, const struct ep *src, const struct ep *dst,
		     int tcp, const uint8_t *l4hdr, size_t l4hlen, const uint8_t *pl, size_t pllen)
{
	uint8_t proto = tcp ? 6 : 17;
	size_t l4len = l4hlen + pllen;
	uint8_t l4[128];
	if (l4hlen > sizeof l4)
		tool_die("L4 header too long");
	memcpy(l4, l4hdr, l4hlen);

	/* L4 checksum over the pseudo-header, header and payload. */
	uint32_t sum = 0;
	if (src->v6) {
		sum = csum_add(sum, src->a, 16);
		sum = csum_add(sum, dst->a, 16);
		sum += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff) + proto;
	} else {
		sum = csum_add(sum, src->a, 4);
		sum = csum_add(sum, dst->a, 4);
		sum += (uint32_t)l4len + proto;
	}
	uint8_t *ck = tcp ? l4 + 16 : l4 + 6;
	put16at(ck, 0);
	sum = csum_add(sum, l4, l4hlen);
	/* Odd-length header never happens (TCP/UDP headers are even), so chaining is safe. */
	sum = csum_add(sum, pl, pllen);
	uint16_t c = csum_fold(sum);
	if (!tcp && c == 0)
		c = 0xffff;
	put16at(ck, c);

	if (src->v6) {
		struct ct_buf ext = { 0 };
		uint8_t first = proto;
		if (g->ip6_ext) {
			/* Hop-by-hop (0) -> destination options (60) -> L4; each 8 bytes with PadN. */
			first = 0;
			put_u8(&ext, 60);
			put_u8(&ext, 0);
			put_u8(&ext, 1); /* PadN */
			put_u8(&ext, 4);
			put_be32(&ext, 0);
			put_u8(&ext, proto);
			put_u8(&ext, 0);
			put_u8(&ext, 1);
			put_u8(&ext, 4);
			put_be32(&ext, 0);
		}
		put_be32(out, 0x60000000u | 0x12345u);
		put_be16(out, (unsigned)(ext.len + l4len));
		put_u8(out, first);
		put_u8(out, 64);
		put(out, src->a, 16);
		put(out, dst->a, 16);
		put(out, ext.p, ext.len);
		ct_buf_free(&ext);
	} else {
		size_t hl = g->ip4_opts ? 24 : 20;
		uint8_t h[24];
		memset(h, 0, sizeof h);
		h[0] = (uint8_t)(0x40 | (hl / 4));
		put16at(h + 2, (unsigned)(hl + l4len));
		put16at(h + 4, g->ip_id++);
		put16at(h + 6, 0x4000); /* DF */
		h[8] = 64;
		h[9] = proto;
		memcpy(h + 12, src->a, 4);
		memcpy(h + 16, dst->a, 4);
		if (g->ip4_opts) {
			h[20] = 0x94; /* Router Alert, RFC 2113 */
			h[21] = 4;
		}
		put16at(h + 10, csum_fold(csum_add(0, h, hl)));
		put(out, h, hl);
	}
	put(out, l4, l4hlen);
	put(out, pl, pllen);
}

/* ------------------------------------------------------------------------------------------ */
/* Capture file writing. */

static void write_or_die(struct gen *g, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, g->f) != n)
		tool_die("write failed: %s", strerror(errno));
}

/* pcap file header (24 bytes), little-endian:
 *   magic(4) major(2)=2 minor(2)=4 thiszone(4) sigfigs(4) snaplen(4) linktype(4)
 * pcapng Section Header Block:
 *   type(4)=0x0a0d0d0a len(4) bom(4)=0x1a2b3c4d major(2)=1 minor(2)=0 seclen(8)=-1 len(4)
 * pcapng Interface Description Block:
 *   type(4)=1 len(4) linktype(2) reserved(2) snaplen(4) options... len(4)
 *   option if_tsresol: code(2)=9 len(2)=1 value(1)=9 (10^-9 s) pad(3); opt_endofopt: 0 0 */
static void file_header(struct gen *g)
{
	struct ct_buf b = { 0 };
	if (g->fmt == FMT_PCAP_US || g->fmt == FMT_PCAP_NS) {
		put_le32(&b, g->fmt == FMT_PCAP_US ? 0xa1b2c3d4u : 0xa1b23c4du);
		put_le16(&b, 2);
		put_le16(&b, 4);
		put_le32(&b, 0);
		put_le32(&b, 0);
		put_le32(&b, g->snaplen);
		put_le32(&b, (uint32_t)g->linktype);
	} else {
		put_le32(&b, 0x0a0d0d0au);
		put_le32(&b, 28);
		put_le32(&b, 0x1a2b3c4du);
		put_le16(&b, 1);
		put_le16(&b, 0);
		put_le32(&b, 0xffffffffu);
		put_le32(&b, 0xffffffffu);
		put_le32(&b, 28);

		int ns = g->fmt == FMT_PCAPNG_NS;
		uint32_t len = 20 + (ns ? 12 : 0);
		put_le32(&b, 1);
		put_le32(&b, len);
		put_le16(&b, (unsigned)g->linktype);
		put_le16(&b, 0);
		put_le32(&b, g->snaplen);
		if (ns) {
			put_le16(&b, 9);
			put_le16(&b, 1);
			put_u8(&b, 9);
			put_u8(&b, 0);
			put_u8(&b, 0);
			put_u8(&b, 0);
			put_le32(&b, 0); /* opt_endofopt */
		}
		put_le32(&b, len);
	}
	write_or_die(g, b.p, b.len);
	ct_buf_free(&b);
}

/* pcap record:  ts_sec(4) ts_usec_or_nsec(4) incl_len(4) orig_len(4) data
 * pcapng Enhanced Packet Block:
 *   type(4)=6 len(4) ifid(4) ts_high(4) ts_low(4) caplen(4) origlen(4) data pad4 len(4)
 *   the timestamp counts units of the interface's if_tsresol (default 10^-6 s). */
static void write_frame(struct gen *g, const uint8_t *p, uint32_t caplen, uint32_t wirelen)
{
	struct ct_buf b = { 0 };
	uint64_t t = g->now;
	if (caplen > g->snaplen)
		tool_die("frame caplen %u over snaplen %u", caplen, g->snaplen);
	switch (g->fmt) {
	case FMT_PCAP_US:
	case FMT_PCAP_NS:
		put_le32(&b, (uint32_t)(t / 1000000000ull));
		put_le32(&b, (uint32_t)(g->fmt == FMT_PCAP_US ? t % 1000000000ull / 1000
							      : t % 1000000000ull));
		put_le32(&b, caplen);
		put_le32(&b, wirelen);
		put(&b, p, caplen);
		break;
	default: {
		uint64_t units = g->fmt == FMT_PCAPNG_NS ? t : t / 1000;
		uint32_t pad = (4 - caplen % 4) % 4;
		uint32_t len = 32 + caplen + pad;
		put_le32(&b, 6);
		put_le32(&b, len);
		put_le32(&b, 0);
		put_le32(&b, (uint32_t)(units >> 32));
		put_le32(&b, (uint32_t)units);
		put_le32(&b, caplen);
		put_le32(&b, wirelen);
		put(&b, p, caplen);
		for (uint32_t i = 0; i < pad; i++)
			put_u8(&b, 0);
		put_le32(&b, len);
		break;
	}
	}
	write_or_die(g, b.p, b.len);
	ct_buf_free(&b);
	g->frames++;
	g->now += g->step;
}

static void pause_ns(struct gen *g, uint64_t ns)
{
	g->now += ns;
}

/* ------------------------------------------------------------------------------------------ */
/* Emitting packets of a model connection. */

static void conn_touch(struct gen *g, struct conn *c, int dir, uint32_t wirelen)
{
	if (!c->id) {
		c->id = ++g->next_id;
		c->first_ts = g->now;
	}
	c->last_ts = g->now;
	c->d[dir].pkts++;
	c->d[dir].payload_bytes += wirelen;
}

/* Writes one TCP segment of `c` in direction `dir`; `keep` of the `len` payload bytes are
 * captured (keep < len: the snaplen cut the frame). */
static void emit_tcp(struct gen *g, struct conn *c, int dir, uint8_t flags, uint32_t seq,
		     const uint8_t *pl, uint32_t len, uint32_t keep)
{
	const struct ep *src = dir == C2S ? &c->cli : &c->srv;
	const struct ep *dst = dir == C2S ? &c->srv : &c->cli;
	struct dirm *peer = &c->d[!dir];
	uint32_t ack = peer->base + (uint32_t)peer->sent_hi + (uint32_t)(peer->fin_sent ? 1 : 0);
	if (!(flags & 0x10))
		ack = 0;

	uint8_t h[60];
	size_t hl = 20;
	memset(h, 0, sizeof h);
	put16at(h, src->port);
	put16at(h + 2, dst->port);
	put16at(h + 4, seq >> 16);
	put16at(h + 6, seq & 0xffff);
	put16at(h + 8, ack >> 16);
	put16at(h + 10, ack & 0xffff);
	put16at(h + 14, 502);
	if (g->tcp_opts) {
		uint32_t tsv = c->tsval + (uint32_t)((g->now - BASE_TIME_S * 1000000000ull) / 1000000);
		uint8_t *o = h + 20;
		if (flags & 0x02) {
			/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7: 20 bytes */
			o[0] = 2, o[1] = 4, put16at(o + 2, 1460);
			o[4] = 4, o[5] = 2;
			o[6] = 8, o[7] = 10;
			put16at(o + 8, tsv >> 16), put16at(o + 10, tsv & 0xffff);
			o[16] = 1;
			o[17] = 3, o[18] = 3, o[19] = 7;
			hl = 40;
		} else {
			/* NOP, NOP, timestamps: 12 bytes */
			o[0] = 1, o[1] = 1, o[2] = 8, o[3] = 10;
			put16at(o + 4, tsv >> 16), put16at(o + 6, tsv & 0xffff);
			hl = 32;
		}
	}
	h[12] = (uint8_t)((hl / 4) << 4);
	h[13] = flags;

	struct ct_buf ip = { 0 }, fr = { 0 };
	build_ip(g, &ip, src, dst, 1, h, hl, pl, len);
	link_wrap(g, &fr, put_bytes_of(&ip), ip.len, src->v6, dir == C2S);
	if (fr.len > FRAME_MAX_BYTES)
		tool_die("frame too long");
	conn_touch(g, c, dir, len);
	write_frame(g, put_bytes_of(&fr), (uint32_t)(fr.len - (len - keep)), (uint32_t)fr.len);
	ct_buf_free(&ip);
	ct_buf_free(&fr);
}

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

/* SYN, SYN-ACK, ACK. The SYN's sender is the client; offset 0 is the byte after the ISN. */
static void tcp_open(struct gen *g, struct conn *c)
{
	c->handshake = 1;
	c->orient = "syn";
	c->d[C2S].base = c->isn[C2S] + 1;
	c->d[S2C].base = c->isn[S2C] + 1;
	emit_tcp(g, c, C2S, F_SYN, c->isn[C2S], NULL, 0, 0);
	emit_tcp(g, c, S2C, F_SYN | F_ACK, c->isn[S2C], NULL, 0, 0);
	emit_tcp(g, c, C2S, F_ACK, c->d[C2S].base, NULL, 0, 0);
}

/* Sends explicit bytes at absolute offset `off`, of which `keep` are captured. */
static void tcp_bytes(struct gen *g, struct conn *c, int dir, uint64_t off, const uint8_t *p,
		      uint32_t len, uint32_t keep, uint8_t extra_flags)
{
	struct dirm *d = &c->d[dir];
	emit_tcp(g, c, dir, (uint8_t)(F_PSH | F_ACK | extra_flags), d->base + (uint32_t)off, p,
		 len, keep);
	model_segment(c, dir, off, p, keep, len);
	if (off + len > d->sent_hi)
		d->sent_hi = off + len;
}

/* Sends the truth bytes [off, off+len) as one segment. */
static void tcp_seg(struct gen *g, struct conn *c, int dir, uint64_t off, uint32_t len)
{
	struct dirm *d = &c->d[dir];
	if (off + len > d->truth.len)
		tool_die("segment past the stream end");
	tcp_bytes(g, c, dir, off, put_bytes_of(&d->truth) + off, len, len, 0);
}

/* Sends the truth bytes [from, to) in order, `mss` bytes per segment. */
static void tcp_range(struct gen *g, struct conn *c, int dir, uint64_t from, uint64_t to,
		      uint32_t mss)
{
	for (uint64_t o = from; o < to; o += mss)
		tcp_seg(g, c, dir, o, (uint32_t)(to - o < mss ? to - o : mss));
}

/* Sends everything said in `dir` but not yet sent, in order. */
static void tcp_flush(struct gen *g, struct conn *c, int dir, uint32_t mss)
{
	tcp_range(g, c, dir, c->d[dir].sent_hi, c->d[dir].truth.len, mss);
}

static void tcp_ack(struct gen *g, struct conn *c, int dir)
{
	struct dirm *d = &c->d[dir];
	emit_tcp(g, c, dir, F_ACK, d->base + (uint32_t)d->sent_hi + (d->fin_sent ? 1u : 0u), NULL,
		 0, 0);
}

/* FIN after the last byte of `dir` (every byte must have been said by now). */
static void tcp_fin(struct gen *g, struct conn *c, int dir)
{
	struct dirm *d = &c->d[dir];
	emit_tcp(g, c, dir, F_FIN | F_ACK, d->base + (uint32_t)d->truth.len, NULL, 0, 0);
	d->fin_sent = 1;
}

/* The usual close: FIN, FIN-ACK, ACK. */
static void tcp_close(struct gen *g, struct conn *c, int first)
{
	tcp_fin(g, c, first);
	tcp_fin(g, c, !first);
	tcp_ack(g, c, first);
	c->close = "fin";
}

static void tcp_rst(struct gen *g, struct conn *c, int dir)
{
	struct dirm *d = &c->d[dir];
	emit_tcp(g, c, dir, F_RST | F_ACK, d->base + (uint32_t)d->sent_hi, NULL, 0, 0);
	c->close = "rst";
}

/* One request/response round trip: says both, sends both in order. */
static void xchg(struct gen *g, struct conn *c, const char *req, size_t reqlen, const char *rep,
		 size_t replen, uint32_t mss)
{
	say(c, C2S, req, reqlen);
	tcp_flush(g, c, C2S, mss);
	say(c, S2C, rep, replen);
	tcp_flush(g, c, S2C, mss);
}
#define XCHG(g, c, req, rep) xchg((g), (c), (req), sizeof(req) - 1, (rep), sizeof(rep) - 1, 1400)

/* Escapes bytes the way ctdump prints them: printable ASCII as is except \ and ", then
 * \r \n \\ \" and \xNN (two lowercase hex digits) for everything else. */
static void escape_into(struct ct_buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];
		if (ch == '\r')
			put_str(out, "\\r");
		else if (ch == '\n')
			put_str(out, "\\n");
		else if (ch == '\\')
			put_str(out, "\\\\");
		else if (ch == '"')
			put_str(out, "\\\"");
		else if (ch >= 0x20 && ch < 0x7f)
			put_u8(out, ch);
		else
			put_printf(out, "\\x%02x", ch);
	}
}

/* One UDP datagram; `keep` of `len` payload bytes are captured. */
static void udp_send(struct gen *g, struct conn *c, int dir, const void *pv, uint32_t len,
		     uint32_t keep)
{
	const uint8_t *pl = pv;
	const struct ep *src = dir == C2S ? &c->cli : &c->srv;
	const struct ep *dst = dir == C2S ? &c->srv : &c->cli;
	uint8_t h[8];
	put16at(h, src->port);
	put16at(h + 2, dst->port);
	put16at(h + 4, 8 + len);
	put16at(h + 6, 0);
	struct ct_buf ip = { 0 }, fr = { 0 };
	build_ip(g, &ip, src, dst, 0, h, 8, pl, len);
	link_wrap(g, &fr, put_bytes_of(&ip), ip.len, src->v6, dir == C2S);
	conn_touch(g, c, dir, len);
	write_frame(g, put_bytes_of(&fr), (uint32_t)(fr.len - (len - keep)), (uint32_t)fr.len);
	ct_buf_free(&ip);
	ct_buf_free(&fr);

	struct ct_buf *l = &c->d[dir].dgram_lines;
	put_printf(l, "%s datagram \"", dir == C2S ? "c2s" : "s2c");
	escape_into(l, pl, keep);
	put_str(l, "\"");
	if (keep != len)
		put_printf(l, " wirelen=%u", len);
	put_str(l, "\n");
}

/* memcached UDP frame header (protocol.txt "UDP protocol"), 8 bytes before the text:
 *   request id(2) sequence number(2) total datagrams(2) reserved(2) = 0 */
static void mc_udp(struct gen *g, struct conn *c, int dir, unsigned reqid, unsigned seq,
		   unsigned total, const char *text, uint32_t keep_text)
{
	struct ct_buf b = { 0 };
	put_be16(&b, reqid);
	put_be16(&b, seq);
	put_be16(&b, total);
	put_be16(&b, 0);
	put_str(&b, text);
	uint32_t len = (uint32_t)b.len;
	udp_send(g, c, dir, b.p, len, keep_text == UINT32_MAX ? len : 8 + keep_text);
	ct_buf_free(&b);
}

/* A frame that is not IP at all (ARP request), to prove it is skipped cleanly. */
static void emit_arp(struct gen *g)
{
	struct ct_buf b = { 0 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	put(&b, bcast, 6);
	put(&b, mac_cli, 6);
	put_be16(&b, 0x0806);
	put_be16(&b, 1);      /* htype Ethernet */
	put_be16(&b, 0x0800); /* ptype IPv4 */
	put_u8(&b, 6);
	put_u8(&b, 4);
	put_be16(&b, 1); /* request */
	put(&b, mac_cli, 6);
	put_be32(&b, 0x0a000001);
	put(&b, bcast, 6);
	put_be32(&b, 0x0a000002);
	write_frame(g, put_bytes_of(&b), (uint32_t)b.len, (uint32_t)b.len);
	ct_buf_free(&b);
}

/* ------------------------------------------------------------------------------------------ */
/* Real-looking payloads, shared by several scenarios. */

/* A value with CR LF inside, a NUL and bytes above 0x7f: the decoders must use the length. */
static const char val_crlf[] = "line one\r\nline two\r\n\x00\xff\xfe end";
#define VAL_CRLF A(val_crlf)

/* SET with a CR LF value, GET of it, INCR, DEL: the bread and butter of a cache. */
static void redis_session(struct gen *g, struct conn *c, uint32_t mss)
{
	CMD(c, C2S, A("HELLO"), A("2"));
	tcp_flush(g, c, C2S, mss);
	says(c, S2C, "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n"
		     "$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
		     "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
	tcp_flush(g, c, S2C, mss);
	CMD(c, C2S, A("SET"), A("user:1001:profile"), VAL_CRLF, A("EX"), A("300"));
	tcp_flush(g, c, C2S, mss);
	says(c, S2C, "+OK\r\n");
	tcp_flush(g, c, S2C, mss);
	CMD(c, C2S, A("GET"), A("user:1001:profile"));
	tcp_flush(g, c, C2S, mss);
	say_bulk(c, S2C, val_crlf, sizeof val_crlf - 1);
	tcp_flush(g, c, S2C, mss);
	CMD(c, C2S, A("INCR"), A("counter:hits"));
	tcp_flush(g, c, C2S, mss);
	says(c, S2C, ":42\r\n");
	tcp_flush(g, c, S2C, mss);
	CMD(c, C2S, A("DEL"), A("user:1001:profile"), A("user:1001:avatar"));
	tcp_flush(g, c, C2S, mss);
	says(c, S2C, ":1\r\n");
	tcp_flush(g, c, S2C, mss);
}

/* A pipelined batch of commands and its replies, said but not sent. */
static void say_pipeline(struct conn *c, int n)
{
	for (int i = 0; i < n; i++) {
		char key[32], val[64];
		int kl = snprintf(key, sizeof key, "session:%04d", i);
		int vl = snprintf(val, sizeof val, "{\"uid\":%d,\"ttl\":60}\r\n#%d", 1000 + i, i);
		struct arg argv[3] = { A("SET"), { key, (size_t)kl }, { val, (size_t)vl } };
		say_cmd(c, C2S, 3, argv);
		says(c, S2C, "+OK\r\n");
	}
	CMD(c, C2S, A("MGET"), A("session:0000"), A("session:0001"), A("missing"));
	says(c, S2C, "*3\r\n$25\r\n{\"uid\":1000,\"ttl\":60}\r\n#0\r\n$25\r\n{\"uid\":1001,\"ttl\":60}\r\n#1"
		     "\r\n$-1\r\n");
}

/* memcached text protocol: set with a data block (holding CR LF), get, delete. */
static void mc_text_session(struct gen *g, struct conn *c, uint32_t mss)
{
	says(c, C2S, "set product:77 0 3600 26\r\n{\"price\":19,\r\n\"stock\":3}\r\n\r\n");
	tcp_flush(g, c, C2S, mss);
	says(c, S2C, "STORED\r\n");
	tcp_flush(g, c, S2C, mss);
	says(c, C2S, "get product:77 product:78\r\n");
	tcp_flush(g, c, C2S, mss);
	says(c, S2C, "VALUE product:77 0 26\r\n{\"price\":19,\r\n\"stock\":3}\r\n\r\nEND\r\n");
	tcp_flush(g, c, S2C, mss);
	says(c, C2S, "delete product:77\r\n");
	tcp_flush(g, c, C2S, mss);
	says(c, S2C, "DELETED\r\n");
	tcp_flush(g, c, S2C, mss);
}

/* ------------------------------------------------------------------------------------------ */
/* Scenarios: each writes one capture through the model. */

/* Ethernet, IPv4, TCP options, a plain session closed by FIN from both sides; one ARP frame. */
static void sc_basic(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 0, 0, 1, 40000), ep4(10, 0, 0, 2, 6379),
				  0x1a2b3c4d, 0x5e6f7081);
	emit_arp(g);
	tcp_open(g, c);
	redis_session(g, c, 1400);
	tcp_close(g, c, C2S);
}

/* Every segment carries one byte: client in order, server replies in reverse order (all
 * queued until the first byte arrives). */
static void sc_onebyte(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 0, 1, 1, 40001), ep4(10, 0, 1, 2, 6379), 1000, 2000);
	tcp_open(g, c);
	CMD(c, C2S, A("SET"), A("k:1"), A("a\r\nb"));
	tcp_flush(g, c, C2S, 1);
	says(c, S2C, "+OK\r\n");
	CMD(c, C2S, A("GET"), A("k:1"));
	tcp_flush(g, c, C2S, 1);
	uint64_t from = c->d[S2C].sent_hi;
	say_bulk(c, S2C, "a\r\nb", 4);
	for (uint64_t o = c->d[S2C].truth.len; o-- > from;)
		tcp_seg(g, c, S2C, o, 1);
	tcp_close(g, c, S2C);
}

static void shuffle(uint64_t *rng, uint64_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(rng, (uint32_t)i);
		uint64_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* Sends truth [from, to) in `mss` segments, in a shuffled order. */
static void tcp_range_shuffled(struct gen *g, struct conn *c, int dir, uint64_t from, uint64_t to,
			       uint32_t mss)
{
	uint64_t offs[512];
	size_t n = 0;
	for (uint64_t o = from; o < to; o += mss) {
		if (n == CT_ARRAY_LEN(offs))
			tool_die("too many segments to shuffle");
		offs[n++] = o;
	}
	shuffle(&g->rng, offs, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t o = offs[i];
		tcp_seg(g, c, dir, o, (uint32_t)(to - o < mss ? to - o : mss));
	}
}

/* A pipelined batch whose segments arrive in a shuffled order, both directions. */
static void sc_shuffled(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 0, 2, 1, 40002), ep4(10, 0, 2, 2, 6379),
				  0x01000000, 0x02000000);
	tcp_open(g, c);
	say_pipeline(c, 12);
	tcp_range_shuffled(g, c, C2S, 0, c->d[C2S].truth.len, 37);
	tcp_range_shuffled(g, c, S2C, 0, c->d[S2C].truth.len, 11);
	tcp_close(g, c, C2S);
}

/* Duplicated SYN and SYN-ACK; each data segment twice; whole-range and partial retransmits
 * of delivered data; a duplicate FIN. */
static void sc_duplicates(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 0, 3, 1, 40003), ep4(10, 0, 3, 2, 6379), 77777,
				  88888);
	c->handshake = 1;
	c->orient = "syn";
	c->d[C2S].base = c->isn[C2S] + 1;
	c->d[S2C].base = c->isn[S2C] + 1;
	emit_tcp(g, c, C2S, F_SYN, c->isn[C2S], NULL, 0, 0);
	emit_tcp(g, c, C2S, F_SYN, c->isn[C2S], NULL, 0, 0); /* SYN retransmit, same ISN */
	emit_tcp(g, c, S2C, F_SYN | F_ACK, c->isn[S2C], NULL, 0, 0);
	emit_tcp(g, c, S2C, F_SYN | F_ACK, c->isn[S2C], NULL, 0, 0);
	emit_tcp(g, c, C2S, F_ACK, c->d[C2S].base, NULL, 0, 0);

	say_pipeline(c, 4);
	uint64_t n = c->d[C2S].truth.len;
	for (uint64_t o = 0; o < n; o += 50) {
		uint32_t len = (uint32_t)(n - o < 50 ? n - o : 50);
		tcp_seg(g, c, C2S, o, len);
		tcp_seg(g, c, C2S, o, len);
	}
	tcp_seg(g, c, C2S, 0, (uint32_t)n); /* everything again in one segment */
	tcp_seg(g, c, C2S, 25, 50);          /* straddles two delivered segments */
	tcp_range(g, c, S2C, 0, c->d[S2C].truth.len, 20);
	tcp_seg(g, c, S2C, 10, 20);
	tcp_seg(g, c, S2C, 0, 5);
	tcp_fin(g, c, C2S);
	tcp_fin(g, c, C2S); /* FIN retransmit */
	tcp_fin(g, c, S2C);
	tcp_ack(g, c, C2S);
	c->close = "fin";
}

/* Upper-cases a-z: a conflicting copy of the same length that keeps RESP framing valid. */
static void upcase(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 'a' && p[i] <= 'z')
			p[i] = (uint8_t)(p[i] - 32);
}

/* Sends truth [off, off+len) upper-cased: a retransmit whose bytes differ. */
static void tcp_seg_upcased(struct gen *g, struct conn *c, int dir, uint64_t off, uint32_t len)
{
	uint8_t tmp[2048];
	if (len > sizeof tmp || off + len > c->d[dir].truth.len)
		tool_die("upcased segment too long");
	memcpy(tmp, c->d[dir].truth.p + off, len);
	upcase(tmp, len);
	tcp_bytes(g, c, dir, off, tmp, len, len, 0);
}

/* Overlapping retransmits with different bytes; the first copy always wins.
 *  1. [40,60) arrives out of order and is queued; then [20,50) upper-cased: [20,40) is new and
 *     upper-case, [40,50) must stay as queued.
 *  2. [110,120) and [130,140) queued; then [100,150) upper-cased covering both and the holes.
 *  3. [150,200) delivered in order; then [160,170) upper-cased: already delivered, dropped.
 *  4. [215,230) queued; then [210,220) upper-cased: a conflict at the queued copy's start; then
 *     [200,215) plain fills the hole. */
static void sc_overlap_conflict(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 0, 4, 1, 40004), ep4(10, 0, 4, 2, 6379), 500000,
				  600000);
	tcp_open(g, c);
	say_pipeline(c, 5);
	if (c->d[C2S].truth.len < 300)
		tool_die("overlap scenario needs 300 bytes");
	tcp_seg(g, c, C2S, 0, 20);
	tcp_seg(g, c, C2S, 40, 20);
	tcp_seg_upcased(g, c, C2S, 20, 30);
	tcp_seg(g, c, C2S, 60, 40);
	tcp_seg(g, c, C2S, 110, 10);
	tcp_seg(g, c, C2S, 130, 10);
	tcp_seg_upcased(g, c, C2S, 100, 50);
	tcp_seg(g, c, C2S, 150, 50);
	tcp_seg_upcased(g, c, C2S, 160, 10);
	tcp_seg(g, c, C2S, 215, 15);
	tcp_seg_upcased(g, c, C2S, 210, 10);
	tcp_seg(g, c, C2S, 200, 15);
	tcp_range(g, c, C2S, 230, c->d[C2S].truth.len, 100);
	/* Server side: the reply overlaps itself the other way round: the later copy is longer. */
	uint64_t n = c->d[S2C].truth.len;
	tcp_seg(g, c, S2C, 8, 8);
	tcp_seg_upcased(g, c, S2C, 0, 24);
	tcp_range(g, c, S2C, 24, n, 30);
	tcp_close(g, c, C2S);
}

/* Sequence numbers wrap past 2^32 in the middle of a bulk value, both directions; the two
 * segments on either side of the wrap arrive swapped. */
static void sc_seqwrap(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 0, 5, 1, 40005), ep4(10, 0, 5, 2, 6379),
				  0xFFFFFF00u, 0xFFFFFFF0u);
	tcp_open(g, c);
	char big[700];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	memcpy(big + 250, "\r\nwrap-here\r\n", 13);
	struct arg argv[3] = { A("SET"), A("blob:wrap"), { big, sizeof big } };
	say_cmd(c, C2S, 3, argv);
	/* Offset 255 is sequence 0 (ISN+1+255 = 2^32). Segments: [0,200) [200,255) [255,400) ... */
	tcp_seg(g, c, C2S, 0, 200);
	tcp_seg(g, c, C2S, 255, 145);
	tcp_seg(g, c, C2S, 200, 55);
	tcp_range(g, c, C2S, 400, c->d[C2S].truth.len, 150);
	says(c, S2C, "+OK\r\n");
	tcp_flush(g, c, S2C, 1400);
	CMD(c, C2S, A("GET"), A("blob:wrap"));
	tcp_flush(g, c, C2S, 1400);
	uint64_t from = c->d[S2C].sent_hi;
	say_bulk(c, S2C, big, sizeof big);
	/* Server offset 15 is sequence 0; reply starts at offset 5. */
	tcp_seg(g, c, S2C, from + 10, 300);
	tcp_seg(g, c, S2C, from, 10);
	tcp_range(g, c, S2C, from + 310, c->d[S2C].truth.len, 200);
	tcp_close(g, c, S2C);
}

/* Three connections picked up mid-stream (no SYN):
 *  1. Redis on 6379; the first packet is a reply (server to client); later the client
 *     retransmits bytes from before its first captured byte (dropped); closed by FIN.
 *  2. memcached on 11211 from client port 1024, lower than the server's: the configured port
 *     decides, not the lower-port guess.
 *  3. Redis on 6380 (not configured): orientation is a guess, the lower port is the server. */
static void sc_midstream(struct gen *g)
{
	struct conn *a = conn_new(g, 1, ep4(10, 1, 0, 5, 51000), ep4(10, 1, 0, 9, 6379),
				  0x40000000u, 0x90000000u);
	struct conn *b = conn_new(g, 1, ep4(10, 1, 0, 6, 1024), ep4(10, 1, 0, 10, 11211),
				  0x12345678u, 0x23456789u);
	struct conn *c = conn_new(g, 1, ep4(10, 1, 0, 7, 40001), ep4(10, 1, 0, 11, 6380),
				  0x7fffff00u, 0x1u);
	c->orient = "guess";

	/* Before the capture: a request and most of its reply went by unseen. */
	CMD(a, C2S, A("GET"), A("greeting"));
	uint64_t before = a->d[C2S].truth.len;
	says(a, S2C, "$11\r\nhello");
	a->d[S2C].sent_hi = a->d[S2C].truth.len;
	a->d[C2S].sent_hi = before;
	uint64_t s0 = says(a, S2C, " world\r\n");
	tcp_seg(g, a, S2C, s0, 8);
	CMD(a, C2S, A("SET"), A("greeting"), A("hi\r\nthere"));
	tcp_flush(g, a, C2S, 1400);
	tcp_seg(g, a, C2S, 0, (uint32_t)before); /* retransmit from before the pickup */
	says(a, S2C, "+OK\r\n");
	tcp_flush(g, a, S2C, 1400);

	says(b, C2S, "get cart:9\r\n");
	b->d[C2S].sent_hi = b->d[C2S].truth.len;
	says(b, S2C, "VALUE cart:9 0 4\r\n");
	b->d[S2C].sent_hi = b->d[S2C].truth.len;
	says(b, S2C, "a\r\nb\r\nEND\r\n");
	tcp_flush(g, b, S2C, 1400);
	says(b, C2S, "set cart:9 0 0 2 noreply\r\nxy\r\nget cart:9\r\n");
	tcp_flush(g, b, C2S, 1400);
	says(b, S2C, "VALUE cart:9 0 2\r\nxy\r\nEND\r\n");
	tcp_flush(g, b, S2C, 1400);

	says(c, C2S, "PING\r\n");
	tcp_flush(g, c, C2S, 1400);
	says(c, S2C, "+PONG\r\n");
	tcp_flush(g, c, S2C, 1400);

	tcp_close(g, a, C2S);
	XCHG(g, b, "get cart:10\r\n", "END\r\n");
	XCHG(g, c, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
}

/* A lost segment (never retransmitted) followed 0.8 s later by more traffic: the hole is a gap
 * once 0.5 s have passed, then the stream goes on; closed by FIN. */
static void sc_lost_timeout(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 0, 6, 1, 40006), ep4(10, 0, 6, 2, 6379), 4242,
				  2424);
	tcp_open(g, c);
	say_pipeline(c, 5);
	uint64_t n = c->d[C2S].truth.len;
	tcp_seg(g, c, C2S, 0, 100);
	/* [100,160) is lost */
	tcp_range(g, c, C2S, 160, n, 100);
	tcp_flush(g, c, S2C, 1400);
	pause_ns(g, GAP_WAIT_PAST_NS);
	CMD(c, C2S, A("GET"), A("session:0002"));
	tcp_flush(g, c, C2S, 1400);
	say_bulk(c, S2C, "{\"uid\":1002,\"ttl\":60}\r\n#2", 25);
	tcp_flush(g, c, S2C, 1400);
	tcp_close(g, c, C2S);
}

/* A lost segment in each direction, then the capture just ends: the holes become gaps when
 * the connection is flushed at the end. */
static void sc_lost_end(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 0, 7, 1, 40007), ep4(10, 0, 7, 2, 6379), 99, 199);
	tcp_open(g, c);
	say_pipeline(c, 4);
	uint64_t n = c->d[C2S].truth.len;
	tcp_seg(g, c, C2S, 0, 64);
	tcp_seg(g, c, C2S, 128, (uint32_t)(n - 128)); /* [64,128) lost */
	uint64_t m = c->d[S2C].truth.len;
	tcp_seg(g, c, S2C, 0, 5);
	tcp_seg(g, c, S2C, 10, (uint32_t)(m - 10)); /* [5,10) lost */
}

/* 802.1Q VLAN, IPv4 with an option (IHL 6), no TCP options. */
static void sc_vlan(struct gen *g)
{
	g->ip4_opts = 1;
	g->tcp_opts = 0;
	struct conn *c = conn_new(g, 1, ep4(192, 168, 10, 20, 33000), ep4(192, 168, 10, 30, 6379),
				  11, 22);
	tcp_open(g, c);
	redis_session(g, c, 60);
	tcp_close(g, c, S2C);
}

/* QinQ: 802.1ad service tag then 802.1Q customer tag. memcached text over TCP. */
static void sc_qinq(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(172, 16, 0, 1, 45000), ep4(172, 16, 0, 2, 11211),
				  0xabcdef01u, 0x10fedcbau);
	tcp_open(g, c);
	mc_text_session(g, c, 1400);
	tcp_close(g, c, C2S);
}

/* Linux cooked capture v1: memcached meta commands. */
static void sc_sll(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(127, 0, 0, 1, 52000), ep4(127, 0, 0, 1, 11211), 5,
				  6);
	tcp_open(g, c);
	XCHG(g, c, "ms sess:1 5 T60 F0\r\nhello\r\n", "HD\r\n");
	XCHG(g, c, "mg sess:1 v t f\r\n", "VA 5 t59 f0\r\nhello\r\n");
	XCHG(g, c, "md sess:1 q\r\nmn\r\n", "MN\r\n");
	tcp_close(g, c, C2S);
}

/* Linux cooked capture v2, IPv6: Redis with CLIENT TRACKING (RESP3 push invalidation). */
static void sc_sll2(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep6("2001:db8::10", 41000), ep6("2001:db8::20", 6379),
				  0xdead0000u, 0xbeef0000u);
	tcp_open(g, c);
	CMD(c, C2S, A("HELLO"), A("3"));
	CMD(c, C2S, A("CLIENT"), A("TRACKING"), A("on"));
	tcp_flush(g, c, C2S, 1400);
	says(c, S2C, "%1\r\n+server\r\n+redis\r\n+OK\r\n");
	tcp_flush(g, c, S2C, 1400);
	CMD(c, C2S, A("GET"), A("price:7"));
	tcp_flush(g, c, C2S, 1400);
	says(c, S2C, "$3\r\n9.5\r\n");
	tcp_flush(g, c, S2C, 1400);
	pause_ns(g, 3000000ull);
	says(c, S2C, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\nprice:7\r\n");
	tcp_flush(g, c, S2C, 1400);
	tcp_ack(g, c, C2S);
	tcp_close(g, c, C2S);
}

/* BSD NULL (AF in the writer's byte order): memcached binary protocol GET.
 *   header: magic(1) opcode(1) keylen(2) extlen(1) datatype(1) vbucket/status(2)
 *           bodylen(4) opaque(4) cas(8), then extras, key, value */
static void sc_null(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 9, 0, 1, 50123), ep4(10, 9, 0, 2, 11211), 1u << 31,
				  3);
	tcp_open(g, c);
	struct ct_buf q = { 0 }, r = { 0 };
	put_u8(&q, 0x80);
	put_u8(&q, 0x00); /* GET */
	put_be16(&q, 5);
	put_u8(&q, 0);
	put_u8(&q, 0);
	put_be16(&q, 0);
	put_be32(&q, 5);
	put_be32(&q, 0xcafe);
	put_be32(&q, 0);
	put_be32(&q, 0);
	put_str(&q, "k\r\n:1");
	put_u8(&r, 0x81);
	put_u8(&r, 0x00);
	put_be16(&r, 0);
	put_u8(&r, 4);
	put_u8(&r, 0);
	put_be16(&r, 0);
	put_be32(&r, 4 + 6);
	put_be32(&r, 0xcafe);
	put_be32(&r, 0);
	put_be32(&r, 0x1234);
	put_be32(&r, 0xdeadbeef); /* flags */
	put_str(&r, "v\r\n\r\n!");
	say(c, C2S, q.p, q.len);
	tcp_flush(g, c, C2S, 1400);
	say(c, S2C, r.p, r.len);
	tcp_flush(g, c, S2C, 1400);
	ct_buf_free(&q);
	ct_buf_free(&r);
	XCHG(g, c, "version\r\n", "VERSION 1.6.21\r\n");
	tcp_close(g, c, C2S);
}

/* OpenBSD LOOP (AF in network byte order): Redis pub/sub with a message carrying CR LF. */
static void sc_loop(struct gen *g)
{
	struct conn *sub = conn_new(g, 1, ep4(127, 0, 0, 1, 60001), ep4(127, 0, 0, 1, 6379), 100,
				    200);
	struct conn *pub = conn_new(g, 1, ep4(127, 0, 0, 1, 60002), ep4(127, 0, 0, 1, 6379), 300,
				    400);
	tcp_open(g, sub);
	CMD(sub, C2S, A("SUBSCRIBE"), A("invalidations"));
	tcp_flush(g, sub, C2S, 1400);
	says(sub, S2C, "*3\r\n$9\r\nsubscribe\r\n$13\r\ninvalidations\r\n:1\r\n");
	tcp_flush(g, sub, S2C, 1400);
	tcp_open(g, pub);
	CMD(pub, C2S, A("PUBLISH"), A("invalidations"), A("{\"key\":\"user:5\"}\r\n"));
	tcp_flush(g, pub, C2S, 1400);
	says(sub, S2C, "*3\r\n$7\r\nmessage\r\n$13\r\ninvalidations\r\n$18\r\n{\"key\":\"user:5\"}"
		       "\r\n\r\n");
	tcp_flush(g, sub, S2C, 1400);
	says(pub, S2C, ":1\r\n");
	tcp_flush(g, pub, S2C, 1400);
	tcp_close(g, pub, C2S);
	tcp_close(g, sub, C2S);
}

/* LINKTYPE_RAW: no link header; one IPv4 and one IPv6 connection, interleaved. */
static void sc_raw(struct gen *g)
{
	struct conn *a = conn_new(g, 1, ep4(10, 2, 0, 1, 43000), ep4(10, 2, 0, 2, 6379), 7, 8);
	struct conn *b = conn_new(g, 1, ep6("fd00:1::1", 43001), ep6("fd00:1::2", 11211), 9, 10);
	tcp_open(g, a);
	tcp_open(g, b);
	CMD(a, C2S, A("EXPIRE"), A("user:9"), A("60"));
	tcp_flush(g, a, C2S, 1400);
	says(b, C2S, "touch item:3 120\r\ngat 30 item:4\r\n");
	tcp_flush(g, b, C2S, 10);
	says(a, S2C, ":1\r\n");
	tcp_flush(g, a, S2C, 1400);
	says(b, S2C, "TOUCHED\r\nVALUE item:4 0 3\r\nabc\r\nEND\r\n");
	tcp_flush(g, b, S2C, 16);
	tcp_close(g, a, C2S);
	tcp_close(g, b, S2C);
}

/* Ethernet IPv6 with hop-by-hop and destination-options extension headers. */
static void sc_ipv6_ext(struct gen *g)
{
	g->ip6_ext = 1;
	struct conn *c = conn_new(g, 1, ep6("2001:db8:aa::1", 39000), ep6("2001:db8:bb::2", 6379),
				  0x31415926u, 0x27182818u);
	tcp_open(g, c);
	CMD(c, C2S, A("HSET"), A("user:1"), A("name"), A("Ada\r\nL."), A("age"), A("36"));
	tcp_flush(g, c, C2S, 1400);
	says(c, S2C, ":2\r\n");
	tcp_flush(g, c, S2C, 1400);
	CMD(c, C2S, A("HGETALL"), A("user:1"));
	tcp_flush(g, c, C2S, 1400);
	says(c, S2C, "*4\r\n$4\r\nname\r\n$7\r\nAda\r\nL.\r\n$3\r\nage\r\n$2\r\n36\r\n");
	tcp_flush(g, c, S2C, 7);
	tcp_close(g, c, C2S);
}

/* pcapng (either resolution): a Redis connection and a memcached one, shuffled a little. */
static void sc_pcapng(struct gen *g)
{
	struct conn *a = conn_new(g, 1, ep4(10, 3, 0, 1, 44000), ep4(10, 3, 0, 2, 6379),
				  0x11111111u, 0x22222222u);
	struct conn *b = conn_new(g, 1, ep4(10, 3, 0, 1, 44001), ep4(10, 3, 0, 3, 11211),
				  0x33333333u, 0x44444444u);
	tcp_open(g, a);
	tcp_open(g, b);
	say_pipeline(a, 3);
	tcp_range_shuffled(g, a, C2S, 0, a->d[C2S].truth.len, 64);
	mc_text_session(g, b, 20);
	tcp_range(g, a, S2C, 0, a->d[S2C].truth.len, 64);
	tcp_close(g, a, C2S);
	tcp_close(g, b, S2C);
}

/* Nanosecond pcap: the same session as basic, on other addresses; timestamps carry ns. */
static void sc_pcap_ns(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 4, 0, 1, 40100), ep4(10, 4, 0, 2, 6379), 31337,
				  73313);
	tcp_open(g, c);
	redis_session(g, c, 40);
	tcp_close(g, c, C2S);
}

/* Several connections in one file, interleaved:
 *  1. Redis A, closed by FIN, with a late retransmit after the close (absorbed while it
 *     lingers); then
 *  2. its 4-tuple reused by a new SYN (new ISN): a new connection;
 *  3. memcached, interleaved with the above;
 *  4. a connection reset by the client;
 *  5. a connection whose 4-tuple gets a new SYN with another ISN while still open (reuse), and
 *  6. the connection that SYN starts. */
static void sc_multi(struct gen *g)
{
	struct ep cli = ep4(10, 5, 0, 1, 40500), srv = ep4(10, 5, 0, 2, 6379);
	struct conn *a = conn_new(g, 1, cli, srv, 1000000, 2000000);
	struct conn *m = conn_new(g, 1, ep4(10, 5, 0, 3, 40501), ep4(10, 5, 0, 4, 11211), 5, 6);
	tcp_open(g, a);
	tcp_open(g, m);
	CMD(a, C2S, A("SET"), A("k:a"), A("v\r\n1"));
	tcp_flush(g, a, C2S, 1400);
	says(m, C2S, "incr visits 1\r\n");
	tcp_flush(g, m, C2S, 1400);
	says(a, S2C, "+OK\r\n");
	tcp_flush(g, a, S2C, 1400);
	says(m, S2C, "8\r\n");
	tcp_flush(g, m, S2C, 1400);
	tcp_close(g, a, C2S);
	tcp_seg(g, a, C2S, 0, 10); /* late retransmit, absorbed by the closed connection */
	pause_ns(g, 50000000ull);

	struct conn *a2 = conn_new(g, 1, cli, srv, 7000000, 8000000);
	tcp_open(g, a2);
	XCHG(g, m, "decr visits 2\r\n", "6\r\n");
	CMD(a2, C2S, A("GET"), A("k:a"));
	tcp_flush(g, a2, C2S, 1400);
	say_bulk(a2, S2C, "v\r\n1", 4);
	tcp_flush(g, a2, S2C, 1400);

	struct conn *r = conn_new(g, 1, ep4(10, 5, 0, 5, 40502), ep4(10, 5, 0, 2, 6379), 42, 43);
	tcp_open(g, r);
	CMD(r, C2S, A("BLPOP"), A("jobs"), A("0"));
	tcp_flush(g, r, C2S, 1400);
	tcp_rst(g, r, C2S);

	struct ep cli5 = ep4(10, 5, 0, 6, 40503);
	struct conn *u = conn_new(g, 1, cli5, srv, 0x50000000u, 0x60000000u);
	tcp_open(g, u);
	XCHG(g, u, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
	u->close = "reuse";
	struct conn *u2 = conn_new(g, 1, cli5, srv, 0x0badf00du, 0x0defacedu);
	tcp_open(g, u2);
	XCHG(g, u2, "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n", "+OK\r\n");
	tcp_close(g, a2, C2S);
	tcp_close(g, m, C2S);
}

/* File snaplen 200: one segment is cut (data, then a gap for the cut bytes), the next ones are
 * whole; and a UDP memcached reply is cut too. */
static void sc_snapcut(struct gen *g)
{
	struct conn *c = conn_new(g, 1, ep4(10, 6, 0, 1, 40600), ep4(10, 6, 0, 2, 6379), 600,
				  700);
	struct conn *u = conn_new(g, 0, ep4(10, 6, 0, 1, 40601), ep4(10, 6, 0, 3, 11211), 0, 0);
	tcp_open(g, c);
	char big[300];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('A' + i % 26);
	struct arg argv[3] = { A("SET"), A("big:1"), { big, sizeof big } };
	uint64_t off = say_cmd(c, C2S, 3, argv);
	uint64_t end = c->d[C2S].truth.len;
	/* 66 bytes of headers (Ethernet 14, IPv4 20, TCP 32): 134 payload bytes fit. */
	tcp_bytes(g, c, C2S, off, put_bytes_of(&c->d[C2S].truth) + off, 320, 134, 0);
	tcp_range(g, c, C2S, off + 320, end, 100);
	says(c, S2C, "+OK\r\n");
	tcp_flush(g, c, S2C, 1400);
	mc_udp(g, u, C2S, 1, 0, 1, "get big:2\r\n", UINT32_MAX);
	char text[400];
	memcpy(text, "VALUE big:2 0 300\r\n", 19);
	memcpy(text + 19, big, 300);
	memcpy(text + 319, "\r\nEND\r\n", 8);
	text[326] = 0;
	/* 14 + 20 + 8 + 8 = 50 bytes before the text: 150 bytes of text fit. */
	mc_udp(g, u, S2C, 1, 0, 1, text, 150);
	XCHG(g, c, "*2\r\n$3\r\nGET\r\n$5\r\nsmall\r\n", "$-1\r\n");
	tcp_close(g, c, C2S);
}

/* UDP: memcached over UDP (frame header + text), a multi-datagram reply, two clients, and a
 * stray DNS query (no configured port: the lower port is guessed as the server). */
static void sc_udp(struct gen *g)
{
	struct conn *a = conn_new(g, 0, ep4(10, 7, 0, 1, 50001), ep4(10, 7, 0, 9, 11211), 0, 0);
	struct conn *b = conn_new(g, 0, ep4(10, 7, 0, 2, 50002), ep4(10, 7, 0, 9, 11211), 0, 0);
	struct conn *d = conn_new(g, 0, ep4(10, 7, 0, 1, 53535), ep4(10, 7, 0, 53, 53), 0, 0);
	d->orient = "guess";
	mc_udp(g, a, C2S, 7, 0, 1, "get cfg:flags\r\n", UINT32_MAX);
	mc_udp(g, b, C2S, 1, 0, 1, "set hits 0 0 2\r\n10\r\n", UINT32_MAX);
	mc_udp(g, a, S2C, 7, 0, 2, "VALUE cfg:flags 0 12\r\nA\r\nB\r\nC\r\nD\r\n", UINT32_MAX);
	mc_udp(g, a, S2C, 7, 1, 2, "END\r\n", UINT32_MAX);
	mc_udp(g, b, S2C, 1, 0, 1, "STORED\r\n", UINT32_MAX);
	static const uint8_t dns[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
				       0x00, 0x00, 0x05, 'c',  'a',  'c',  'h',  'e',  0x00, 0x00,
				       0x01, 0x00, 0x01 };
	udp_send(g, d, C2S, dns, sizeof dns, sizeof dns);
	mc_udp(g, a, C2S, 8, 0, 1, "delete cfg:flags\r\n", UINT32_MAX);
	mc_udp(g, a, S2C, 8, 0, 1, "DELETED\r\n", UINT32_MAX);
}

/* A connection idle for more than CT_FLOW_IDLE_NS (300 s) while another one talks: the first
 * is closed for idleness. */
static void sc_idle(struct gen *g)
{
	struct conn *a = conn_new(g, 1, ep4(10, 8, 0, 1, 40800), ep4(10, 8, 0, 2, 6379), 1, 2);
	struct conn *b = conn_new(g, 1, ep4(10, 8, 0, 3, 40801), ep4(10, 8, 0, 2, 6379), 3, 4);
	tcp_open(g, a);
	XCHG(g, a, "*2\r\n$3\r\nGET\r\n$1\r\nx\r\n", "$-1\r\n");
	a->close = "idle";
	pause_ns(g, CT_FLOW_IDLE_NS + 100ull * 1000000000ull);
	tcp_open(g, b);
	/* Talk for longer than CT_FLOW_EXPIRE_SCAN_NS so the idle scan surely runs. */
	for (uint64_t t0 = g->now; g->now - t0 <= 2 * CT_FLOW_EXPIRE_SCAN_NS;) {
		XCHG(g, b, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
		pause_ns(g, CT_FLOW_EXPIRE_SCAN_NS * 7 / 10);
	}
}

/* The out-of-order queue caps: a lost segment that is never retransmitted, followed by more
 * segments than the queue may hold. The cap turns the hole into a gap early (no 0.5 s wait)
 * and the stream goes on; the bytes come out the same as if the timer had fired.
 *  1. CT_REASM_OOO_MAX_SEGS (256): 8-byte segments after a lost first one;
 *  2. CT_REASM_OOO_MAX_BYTES (256 KiB): 1400-byte segments of a 300 kB value;
 *  3. two holes: the cap settles the first, the second waits for the end of the capture. */
static void sc_ooo_caps(struct gen *g)
{
	struct conn *a = conn_new(g, 1, ep4(10, 9, 1, 1, 41001), ep4(10, 9, 1, 2, 6379), 10, 20);
	struct conn *b = conn_new(g, 1, ep4(10, 9, 1, 1, 41002), ep4(10, 9, 1, 2, 6379), 30, 40);
	struct conn *c = conn_new(g, 1, ep4(10, 9, 1, 1, 41003), ep4(10, 9, 1, 2, 6379), 50, 60);

	tcp_open(g, a);
	say_pipeline(a, 40);
	uint64_t n = a->d[C2S].truth.len;
	if (n / 8 < CT_REASM_OOO_MAX_SEGS + 20)
		tool_die("ooo_caps: stream too short for the segment cap");
	tcp_range(g, a, C2S, 8, n, 8); /* [0,8) lost */
	tcp_flush(g, a, S2C, 1400);

	tcp_open(g, b);
	size_t vlen = CT_REASM_OOO_MAX_BYTES + 40000;
	if (vlen / 1400 >= CT_REASM_OOO_MAX_SEGS)
		tool_die("ooo_caps: the byte cap would not be hit before the segment cap");
	char *v = ct_malloc(vlen);
	if (!v)
		tool_die("out of memory");
	for (size_t i = 0; i < vlen; i++)
		v[i] = (char)(i % 97 == 96 ? '\n' : 'a' + i % 23);
	struct arg argv[3] = { A("SET"), A("blob:big"), { v, vlen } };
	say_cmd(b, C2S, 3, argv);
	ct_free(v);
	tcp_range(g, b, C2S, 1400, b->d[C2S].truth.len, 1400); /* [0,1400) lost */
	says(b, S2C, "+OK\r\n");
	tcp_flush(g, b, S2C, 1400);

	tcp_open(g, c);
	say_pipeline(c, 40);
	n = c->d[C2S].truth.len;
	tcp_range(g, c, C2S, 8, 800, 8);  /* [0,8) lost */
	tcp_range(g, c, C2S, 808, n, 8);  /* [800,808) lost */
	tcp_flush(g, c, S2C, 1400);
}

/* Edge cases of the contract, one connection each:
 *  1. a late retransmit: the hole became a gap (0.8 s passed and new data arrived), then the
 *     lost bytes show up after all: dropped, the gap stays;
 *  2. the client's FIN arrives before its last data segment;
 *  3. a RST while data waits behind a hole: the hole is a gap, the queued data is delivered;
 *  4. a segment 1.5 GiB ahead of the stream (outside CT_REASM_WINDOW_BYTES): dropped;
 *  5. mid-stream pickup, then a retransmit straddling the first captured byte. */
static void sc_edge(struct gen *g)
{
	struct conn *a = conn_new(g, 1, ep4(10, 10, 0, 1, 42001), ep4(10, 10, 0, 2, 6379), 1, 2);
	tcp_open(g, a);
	say_pipeline(a, 4);
	uint64_t n = a->d[C2S].truth.len;
	tcp_seg(g, a, C2S, 0, 100);
	tcp_range(g, a, C2S, 160, n, 100); /* [100,160) late */
	pause_ns(g, GAP_WAIT_PAST_NS);
	CMD(a, C2S, A("PING"));
	tcp_flush(g, a, C2S, 1400);
	model_expire(a, C2S);
	tcp_seg(g, a, C2S, 100, 60); /* too late: already a gap */
	tcp_flush(g, a, S2C, 1400);
	says(a, S2C, "+PONG\r\n");
	tcp_flush(g, a, S2C, 1400);
	tcp_close(g, a, C2S);

	struct conn *b = conn_new(g, 1, ep4(10, 10, 0, 3, 42002), ep4(10, 10, 0, 2, 6379), 3, 4);
	tcp_open(g, b);
	CMD(b, C2S, A("SET"), A("last:words"), A("see\r\nyou"));
	n = b->d[C2S].truth.len;
	tcp_seg(g, b, C2S, 0, 20);
	tcp_fin(g, b, C2S);
	tcp_seg(g, b, C2S, 20, (uint32_t)(n - 20));
	says(b, S2C, "+OK\r\n");
	tcp_flush(g, b, S2C, 1400);
	tcp_fin(g, b, S2C);
	tcp_ack(g, b, C2S);
	b->close = "fin";

	struct conn *c = conn_new(g, 1, ep4(10, 10, 0, 4, 42003), ep4(10, 10, 0, 2, 6379), 5, 6);
	tcp_open(g, c);
	say_pipeline(c, 2);
	n = c->d[C2S].truth.len;
	tcp_seg(g, c, C2S, 0, 40);
	tcp_seg(g, c, C2S, 80, (uint32_t)(n - 80)); /* [40,80) lost */
	tcp_rst(g, c, C2S);

	struct conn *d = conn_new(g, 1, ep4(10, 10, 0, 5, 42004), ep4(10, 10, 0, 2, 6379),
				  0x7ff00000u, 8);
	tcp_open(g, d);
	CMD(d, C2S, A("GET"), A("k:1"));
	tcp_flush(g, d, C2S, 1400);
	static const uint8_t junk[] = "*1\r\n$4\r\nJUNK\r\n";
	uint32_t far = (uint32_t)CT_REASM_WINDOW_BYTES + 0x20000000u;
	emit_tcp(g, d, C2S, F_PSH | F_ACK, d->d[C2S].base + (uint32_t)d->d[C2S].sent_hi + far, junk,
		 sizeof junk - 1, sizeof junk - 1);
	CMD(d, C2S, A("GET"), A("k:2"));
	tcp_flush(g, d, C2S, 1400);
	says(d, S2C, "$-1\r\n$-1\r\n");
	tcp_flush(g, d, S2C, 1400);
	tcp_close(g, d, C2S);

	struct conn *e = conn_new(g, 1, ep4(10, 10, 0, 6, 42005), ep4(10, 10, 0, 2, 6379),
				  0x30000000u, 0x40000000u);
	CMD(e, C2S, A("GET"), A("before"));
	uint64_t start = e->d[C2S].truth.len;
	e->d[C2S].sent_hi = start;
	CMD(e, C2S, A("GET"), A("after:1"));
	tcp_flush(g, e, C2S, 1400);
	tcp_seg(g, e, C2S, start - 10, 30); /* 10 bytes before the pickup, 20 already seen */
	CMD(e, C2S, A("GET"), A("after:2"));
	tcp_flush(g, e, C2S, 1400);
	says(e, S2C, "$-1\r\n$-1\r\n");
	tcp_flush(g, e, S2C, 1400);
}

/* ------------------------------------------------------------------------------------------ */

struct scenario {
	const char *name;
	int fmt;
	int linktype;
	int enc;
	uint32_t snaplen;
	void (*fn)(struct gen *g);
};

static const struct scenario scenarios[] = {
	{ "basic", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_basic },
	{ "onebyte", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_onebyte },
	{ "shuffled", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_shuffled },
	{ "duplicates", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_duplicates },
	{ "overlap_conflict", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_overlap_conflict },
	{ "seqwrap", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_seqwrap },
	{ "midstream", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_midstream },
	{ "lost_timeout", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_lost_timeout },
	{ "lost_end", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_lost_end },
	{ "vlan", FMT_PCAP_US, LT_ETHERNET, ENC_VLAN, 262144, sc_vlan },
	{ "qinq", FMT_PCAP_US, LT_ETHERNET, ENC_QINQ, 262144, sc_qinq },
	{ "sll", FMT_PCAP_US, LT_LINUX_SLL, ENC_PLAIN, 262144, sc_sll },
	{ "sll2", FMT_PCAP_NS, LT_LINUX_SLL2, ENC_PLAIN, 262144, sc_sll2 },
	{ "null", FMT_PCAP_US, LT_NULL, ENC_PLAIN, 262144, sc_null },
	{ "loop", FMT_PCAP_US, LT_LOOP, ENC_PLAIN, 262144, sc_loop },
	{ "raw", FMT_PCAP_US, LT_RAW, ENC_PLAIN, 262144, sc_raw },
	{ "ipv6_ext", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_ipv6_ext },
	{ "pcapng_ns", FMT_PCAPNG_NS, LT_ETHERNET, ENC_PLAIN, 262144, sc_pcapng },
	{ "pcapng_us", FMT_PCAPNG_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_pcapng },
	{ "pcap_ns", FMT_PCAP_NS, LT_ETHERNET, ENC_PLAIN, 262144, sc_pcap_ns },
	{ "multi", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_multi },
	{ "snapcut", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 200, sc_snapcut },
	{ "udp", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_udp },
	{ "idle", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_idle },
	{ "ooo_caps", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_ooo_caps },
	{ "edge", FMT_PCAP_US, LT_ETHERNET, ENC_PLAIN, 262144, sc_edge },
};

static void ep_str(const struct ep *e, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(e->v6 ? AF_INET6 : AF_INET, e->a, a, sizeof a);
	if (e->v6)
		snprintf(out, n, "[%s]:%u", a, e->port);
	else
		snprintf(out, n, "%s:%u", a, e->port);
}

/* Prints one direction's stream runs: maximal data runs and maximal gap runs, offsets
 * relative to the origin. */
static void expect_stream(struct ct_buf *o, const struct conn *c, int dir)
{
	const struct dirm *d = &c->d[dir];
	const char *dn = dir == C2S ? "c2s" : "s2c";
	uint64_t i = d->origin;
	while (i < d->end) {
		uint64_t j = i;
		int data = d->st[i] == ST_DATA;
		while (j < d->end && (d->st[j] == ST_DATA) == data)
			j++;
		if (data) {
			put_printf(o, "%s data %llu \"", dn, (unsigned long long)(i - d->origin));
			escape_into(o, d->got + i, (size_t)(j - i));
			put_str(o, "\"\n");
		} else {
			put_printf(o, "%s gap %llu %llu\n", dn, (unsigned long long)(i - d->origin),
				   (unsigned long long)(j - i));
		}
		i = j;
	}
}

static void ts_str(uint64_t ns, char *out, size_t n)
{
	snprintf(out, n, "%llu.%09llu", (unsigned long long)(ns / 1000000000ull),
		 (unsigned long long)(ns % 1000000000ull));
}

static void write_expect(struct gen *g, const char *path)
{
	struct ct_buf o = { 0 };
	for (uint64_t id = 1; id <= g->next_id; id++) {
		const struct conn *c = g->conns;
		while (c && c->id != id)
			c = c->next;
		if (!c)
			tool_die("internal: connection %llu missing", (unsigned long long)id);
		char cs[80], ss[80], t0[32], t1[32];
		ep_str(&c->cli, cs, sizeof cs);
		ep_str(&c->srv, ss, sizeof ss);
		ts_str(c->first_ts, t0, sizeof t0);
		ts_str(c->last_ts, t1, sizeof t1);
		if (c->tcp)
			put_printf(&o, "conn %llu tcp %s > %s orient=%s midstream=%d\n",
				   (unsigned long long)id, cs, ss, c->orient, !c->handshake);
		else
			put_printf(&o, "conn %llu udp %s > %s orient=%s\n", (unsigned long long)id,
				   cs, ss, c->orient);
		put_printf(&o, "time %s %s\n", t0, t1);
		for (int dir = 0; dir < 2; dir++) {
			if (c->tcp)
				expect_stream(&o, c, dir);
			else
				put(&o, c->d[dir].dgram_lines.p, c->d[dir].dgram_lines.len);
		}
		for (int dir = 0; dir < 2; dir++) {
			const char *dn = dir == C2S ? "c2s" : "s2c";
			put_printf(&o, "%s pkts %llu\n", dn, (unsigned long long)c->d[dir].pkts);
			put_printf(&o, "%s payload_bytes %llu\n", dn,
				   (unsigned long long)c->d[dir].payload_bytes);
		}
		put_printf(&o, "close %s\n\n", c->close);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		tool_die("%s: %s", path, strerror(errno));
	if ((o.len && fwrite(o.p, 1, o.len, f) != o.len) || fclose(f) != 0)
		tool_die("%s: write failed", path);
	ct_buf_free(&o);
}

static void run_scenario(const char *outdir, const struct scenario *sc, size_t index)
{
	struct gen g;
	memset(&g, 0, sizeof g);
	g.fmt = sc->fmt;
	g.linktype = sc->linktype;
	g.enc = sc->enc;
	g.snaplen = sc->snaplen;
	int ns = sc->fmt == FMT_PCAP_NS || sc->fmt == FMT_PCAPNG_NS;
	/* Nanosecond files get timestamps that are not whole microseconds, so a reader that
	 * drops the nanoseconds shows up in the "time" lines. */
	g.now = (BASE_TIME_S + 1000 * index) * 1000000000ull + (ns ? 123 : 0);
	g.step = ns ? 100007 : 100000;
	g.rng = 0x9E3779B97F4A7C15ull ^ (index + 1);
	g.tcp_opts = 1;
	g.conns_tail = &g.conns;

	char path[4096], epath[4096];
	int pcapng = sc->fmt == FMT_PCAPNG_US || sc->fmt == FMT_PCAPNG_NS;
	snprintf(path, sizeof path, "%s/%s.%s", outdir, sc->name, pcapng ? "pcapng" : "pcap");
	snprintf(epath, sizeof epath, "%s/%s.expect", outdir, sc->name);
	g.f = fopen(path, "wb");
	if (!g.f)
		tool_die("%s: %s", path, strerror(errno));
	file_header(&g);
	sc->fn(&g);
	if (fclose(g.f) != 0)
		tool_die("%s: write failed", path);
	write_expect(&g, epath);
	while (g.conns) {
		struct conn *n = g.conns->next;
		conn_free(g.conns);
		g.conns = n;
	}
}

static void usage(FILE *f)
{
	fputs("usage: gencap OUTDIR\n"
	      "Writes synthetic captures (pcap, pcapng) with known TCP/UDP stream bytes into\n"
	      "OUTDIR, each with NAME.expect: what `ctdump NAME.pcap` must print.\n"
	      "  --list   print the scenario names and exit\n",
	      f);
}

int main(int argc, char **argv)
{
	tool_name = "gencap";
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < CT_ARRAY_LEN(scenarios); i++)
			printf("%s\n", scenarios[i].name);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	struct stat st;
	if (stat(argv[1], &st) != 0 || !S_ISDIR(st.st_mode))
		tool_die("%s: not a directory", argv[1]);
	for (size_t i = 0; i < CT_ARRAY_LEN(scenarios); i++)
		run_scenario(argv[1], &scenarios[i], i);
	return 0;
}
