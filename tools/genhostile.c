/* genhostile: writes the hostile captures of captures/hostile/ (see its README.md), each built
 * to hit one limit or one malformation: absurd RESP and memcached lengths, deep nesting, huge
 * lines and key lists, garbage, thousands of flows cut inside values, random sequence numbers,
 * snaplen cuts inside headers, files cut off mid-record, absurd record headers, files that are
 * not captures at all. tests/golden/hostile.t replays each with `cachetap replay` (exit 0 or 2,
 * under 10 s and 200 MB) and checks that this tool still writes the committed files byte for
 * byte.
 *
 * Usage: genhostile OUTDIR
 *
 * Files are written by hand, with no libpcap writer (as tools/gencap.c does): classic pcap,
 * little-endian with the nanosecond magic 0xa1b23c4d, and pcapng (SHB, IDB, EPB). Frames are
 * Ethernet II or RAW IPv4 + TCP/UDP; IPv4 header checksums are real, TCP/UDP checksums are 0
 * (cachetap checks none). Output is deterministic: a fixed PRNG seed per file, fixed clock.
 * Every file stays under HOSTILE_FILE_MAX_BYTES; the tool fails if one would not. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/buf.h"
#include "cachetap/common.h"
#include "bytes.h"

#define HOSTILE_FILE_MAX_BYTES (2u << 20) /* a committed capture must stay below 2 MiB */
#define SEG_MAX_BYTES 16384u              /* payload per TCP segment (loopback-sized) */
#define BASE_TIME_NS 1700000000000000000ull

enum { LT_ETHERNET = 1, LT_RAW = 101 };

static const char *outdir;

/* Writes `b` as OUTDIR/name. */
static void save(const char *name, const struct ct_buf *b)
{
	char path[4096];
	if (b->len >= HOSTILE_FILE_MAX_BYTES)
		tool_die("%s: would be over HOSTILE_FILE_MAX_BYTES", name);
	snprintf(path, sizeof path, "%s/%s", outdir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (b->len && fwrite(b->p, 1, b->len, f) != b->len) || fclose(f) != 0)
		tool_die("%s: %s", path, strerror(errno));
	printf("%-28s %8zu bytes\n", name, b->len);
}

/* ---- a capture being written ---- */

struct cap {
	struct ct_buf b;
	int pcapng;      /* 0: classic pcap */
	int linktype;
	uint64_t now;    /* ns */
	uint16_t ip_id;
	size_t last_rec; /* offset of the last record written */
};

/* pcap file header: magic(4) major(2) minor(2) thiszone(4) sigfigs(4) snaplen(4) linktype(4)
 * pcapng: SHB type(4) len(4) bom(4) major(2) minor(2) section_len(8) len(4)
 *         IDB type(4) len(4) linktype(2) reserved(2) snaplen(4) if_tsresol option len(4) */
static void cap_start(struct cap *c, int pcapng, int linktype, uint32_t snaplen)
{
	memset(c, 0, sizeof *c);
	c->pcapng = pcapng;
	c->linktype = linktype;
	c->now = BASE_TIME_NS;
	if (!pcapng) {
		put_le32(&c->b, 0xa1b23c4du);
		put_le16(&c->b, 2);
		put_le16(&c->b, 4);
		put_le32(&c->b, 0);
		put_le32(&c->b, 0);
		put_le32(&c->b, snaplen);
		put_le32(&c->b, (uint32_t)linktype);
		return;
	}
	put_le32(&c->b, 0x0a0d0d0au);
	put_le32(&c->b, 28);
	put_le32(&c->b, 0x1a2b3c4du);
	put_le16(&c->b, 1);
	put_le16(&c->b, 0);
	put_le32(&c->b, 0xffffffffu);
	put_le32(&c->b, 0xffffffffu);
	put_le32(&c->b, 28);
	put_le32(&c->b, 1);
	put_le32(&c->b, 32);
	put_le16(&c->b, (unsigned)linktype);
	put_le16(&c->b, 0);
	put_le32(&c->b, snaplen);
	put_le16(&c->b, 9); /* if_tsresol */
	put_le16(&c->b, 1);
	put_u8(&c->b, 9); /* 10^-9 s */
	put_u8(&c->b, 0);
	put_u8(&c->b, 0);
	put_u8(&c->b, 0);
	put_le16(&c->b, 0); /* opt_endofopt */
	put_le16(&c->b, 0);
	put_le32(&c->b, 32);
}

/* One record: `caplen` of the frame's `len` bytes are written; the record says wirelen.
 * pcap record: ts_sec(4) ts_nsec(4) caplen(4) wirelen(4) data
 * pcapng EPB:  type 6(4) len(4) ifid(4) ts_hi(4) ts_lo(4) caplen(4) wirelen(4) data pad len(4) */
static void cap_record(struct cap *c, const uint8_t *frame, uint32_t caplen, uint32_t wirelen)
{
	c->last_rec = c->b.len;
	if (!c->pcapng) {
		put_le32(&c->b, (uint32_t)(c->now / 1000000000ull));
		put_le32(&c->b, (uint32_t)(c->now % 1000000000ull));
		put_le32(&c->b, caplen);
		put_le32(&c->b, wirelen);
		put(&c->b, frame, caplen);
	} else {
		uint32_t pad = (4 - caplen % 4) % 4, blen = 32 + caplen + pad;
		put_le32(&c->b, 6);
		put_le32(&c->b, blen);
		put_le32(&c->b, 0);
		put_le32(&c->b, (uint32_t)(c->now >> 32));
		put_le32(&c->b, (uint32_t)c->now);
		put_le32(&c->b, caplen);
		put_le32(&c->b, wirelen);
		put(&c->b, frame, caplen);
		for (uint32_t i = 0; i < pad; i++)
			put_u8(&c->b, 0);
		put_le32(&c->b, blen);
	}
	c->now += 10000; /* 10 us between frames */
}

struct ep {
	uint8_t ip[4];
	uint16_t port;
};

static struct ep ep4(unsigned a, unsigned b, unsigned cc, unsigned d, uint16_t port)
{
	struct ep e = { { (uint8_t)a, (uint8_t)b, (uint8_t)cc, (uint8_t)d }, port };
	return e;
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Builds a frame into `f` and returns its length. `paylen` payload bytes are at `pl`; the IP
 * header declares `wirelen` payload bytes (>= paylen: the rest is what a snaplen would cut).
 *   Ethernet: dst(6) src(6) type 0x0800(2)
 *   IPv4:     ver/ihl tos totlen(2) id(2) frag(2) ttl proto csum(2) src(4) dst(4)
 *   TCP:      sport dport seq(4) ack(4) doff<<4 flags win(2) csum(2) urg(2)
 *   UDP:      sport dport len(2) csum(2) */
static size_t build(struct cap *c, struct ct_buf *f, int tcp, struct ep src, struct ep dst,
		    uint32_t seq, uint32_t ack, unsigned flags, const uint8_t *pl, uint32_t paylen,
		    uint32_t wirelen)
{
	f->len = 0;
	if (c->linktype == LT_ETHERNET) {
		static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
		put(f, mac, 12);
		put_be16(f, 0x0800);
	}
	size_t iph = f->len;
	uint32_t l4 = tcp ? 20 : 8;
	uint32_t tot = 20 + l4 + wirelen;
	put_u8(f, 0x45);
	put_u8(f, 0);
	put_be16(f, tot > 0xffff ? 0xffff : tot);
	put_be16(f, c->ip_id++);
	put_be16(f, 0x4000); /* DF */
	put_u8(f, 64);
	put_u8(f, tcp ? 6 : 17);
	put_be16(f, 0);
	put(f, src.ip, 4);
	put(f, dst.ip, 4);
	uint16_t ck = ip_csum((const uint8_t *)f->p + iph, 20);
	((uint8_t *)f->p)[iph + 10] = (uint8_t)(ck >> 8);
	((uint8_t *)f->p)[iph + 11] = (uint8_t)ck;
	put_be16(f, src.port);
	put_be16(f, dst.port);
	if (tcp) {
		put_be32(f, seq);
		put_be32(f, ack);
		put_u8(f, 5 << 4);
		put_u8(f, flags);
		put_be16(f, 65535);
		put_be16(f, 0);
		put_be16(f, 0);
	} else {
		put_be16(f, 8 + wirelen);
		put_be16(f, 0);
	}
	if (paylen)
		put(f, pl, paylen);
	return f->len;
}

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

/* A TCP connection: client and server, next sequence number per direction. */
struct conn {
	struct cap *c;
	struct ep ep[2]; /* [0] client, [1] server */
	uint32_t seq[2];
	struct ct_buf frame;
};

static void conn_init(struct conn *k, struct cap *c, struct ep cli, struct ep srv, uint64_t *rng)
{
	memset(k, 0, sizeof *k);
	k->c = c;
	k->ep[0] = cli;
	k->ep[1] = srv;
	k->seq[0] = (uint32_t)rng_next(rng);
	k->seq[1] = (uint32_t)rng_next(rng);
}

static void conn_pkt(struct conn *k, int dir, unsigned flags, const uint8_t *p, uint32_t n,
		     uint32_t wirelen)
{
	size_t len = build(k->c, &k->frame, 1, k->ep[dir], k->ep[!dir], k->seq[dir], k->seq[!dir],
			   flags, p, n, wirelen);
	uint32_t hdr = (uint32_t)len - n;
	cap_record(k->c, (const uint8_t *)k->frame.p, (uint32_t)len, hdr + wirelen);
	k->seq[dir] += wirelen + ((flags & (F_SYN | F_FIN)) ? 1u : 0u);
}

static void conn_open(struct conn *k)
{
	conn_pkt(k, 0, F_SYN, NULL, 0, 0);
	conn_pkt(k, 1, F_SYN | F_ACK, NULL, 0, 0);
	conn_pkt(k, 0, F_ACK, NULL, 0, 0);
}

/* Sends bytes in segments of at most SEG_MAX_BYTES. */
static void conn_send(struct conn *k, int dir, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n) {
		uint32_t m = n > SEG_MAX_BYTES ? SEG_MAX_BYTES : (uint32_t)n;
		conn_pkt(k, dir, F_ACK | F_PSH, q, m, m);
		q += m;
		n -= m;
	}
}

static void conn_sends(struct conn *k, int dir, const char *s)
{
	conn_send(k, dir, s, strlen(s));
}

static void conn_close(struct conn *k)
{
	conn_pkt(k, 0, F_FIN | F_ACK, NULL, 0, 0);
	conn_pkt(k, 1, F_FIN | F_ACK, NULL, 0, 0);
	conn_pkt(k, 0, F_ACK, NULL, 0, 0);
	ct_buf_free(&k->frame);
}

static void udp_send(struct cap *c, struct ep src, struct ep dst, const void *p, uint32_t n)
{
	struct ct_buf f = { 0 };
	size_t len = build(c, &f, 0, src, dst, 0, 0, 0, p, n, n);
	cap_record(c, (const uint8_t *)f.p, (uint32_t)len, (uint32_t)len);
	ct_buf_free(&f);
}

static void cap_save(struct cap *c, const char *name)
{
	save(name, &c->b);
	ct_buf_free(&c->b);
}

/* One connection per exchange, so that one absurd length cannot hide the next. */
static void exchange(struct cap *c, uint64_t *rng, unsigned host, uint16_t port, const char *req,
		     const char *rep)
{
	struct conn k;
	conn_init(&k, c, ep4(10, 0, 0, host, (uint16_t)(40000 + host)), ep4(10, 0, 1, 1, port), rng);
	conn_open(&k);
	if (req)
		conn_sends(&k, 0, req);
	if (rep)
		conn_sends(&k, 1, rep);
	conn_close(&k);
}

/* ---- the captures ---- */

/* RESP lengths and counts of 2^31-1, past it, and negative, on both sides. */
static void resp_lengths(void)
{
	static const char *const req[] = {
		"*2147483647\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"*2\r\n$2147483647\r\nGET\r\n$1\r\nk\r\n",
		"*2\r\n$3\r\nGET\r\n$2147483647\r\nkkkk",
		"*2147483648\r\n$3\r\nGET\r\n",
		"*-1\r\n*-2147483648\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"*2\r\n$-1\r\n$-2147483647\r\n*1\r\n$4\r\nPING\r\n",
		"*-9223372036854775808\r\n*9223372036854775807\r\n$99999999999999999999\r\n",
		"*2\r\n$3\r\nGET\r\n$-5\r\nk\r\n",
	};
	static const char *const rep[] = {
		"$2147483647\r\nabc",
		"*2147483647\r\n:1\r\n:2\r\n",
		"%2147483647\r\n+k\r\n+v\r\n",
		"~2147483647\r\n>2147483647\r\n|2147483647\r\n",
		"$-2147483648\r\n*-2147483648\r\n$-2\r\n*-7\r\n%-1\r\n",
		"!2147483647\r\nERR\r\n=2147483647\r\ntxt:x\r\n",
		":9223372036854775807\r\n:-9223372036854775808\r\n:99999999999999999999\r\n",
		"$2147483648\r\nabc\r\n$-1\r\n",
	};
	uint64_t rng = 1;
	struct cap c;
	cap_start(&c, 0, LT_ETHERNET, 262144);
	for (unsigned i = 0; i < CT_ARRAY_LEN(req); i++)
		exchange(&c, &rng, 1 + i, 6379, req[i], rep[i]);
	cap_save(&c, "resp-lengths.pcap");
}

/* Arrays nested 100,000 deep on both sides; maps (nested in key position) and sets 100,000 deep
 * on the server side. */
static void resp_nested(void)
{
	uint64_t rng = 2;
	struct ct_buf a = { 0 }, m = { 0 };
	for (unsigned i = 0; i < 100000; i++) {
		put_str(&a, "*1\r\n");
		put_str(&m, i % 2 ? "~1\r\n" : "%1\r\n");
	}
	put_str(&a, ":1\r\n");
	put_str(&m, "+k\r\n");
	for (unsigned i = 0; i < 100000; i += 2)
		put_str(&m, "+v\r\n"); /* the values of the maps */
	for (int file = 0; file < 2; file++) {
		struct cap c;
		cap_start(&c, 0, LT_RAW, 262144);
		struct conn k;
		conn_init(&k, &c, ep4(10, 0, 0, 1, 40001), ep4(10, 0, 1, 1, 6379), &rng);
		conn_open(&k);
		if (file == 0)
			conn_send(&k, 0, a.p, a.len);
		conn_sends(&k, 0, "*1\r\n$4\r\nPING\r\n");
		conn_sends(&k, 1, "+PONG\r\n");
		if (file == 0)
			conn_send(&k, 1, a.p, a.len);
		else
			conn_send(&k, 1, m.p, m.len);
		conn_sends(&k, 0, "*1\r\n$4\r\nPING\r\n");
		conn_sends(&k, 1, "+PONG\r\n");
		conn_close(&k);
		cap_save(&c, file == 0 ? "resp-nested-arrays-100k.pcap" : "resp-nested-maps-100k.pcap");
	}
	ct_buf_free(&a);
	ct_buf_free(&m);
}

/* memcached lengths of 2^32-1 and 10^20 in every field that takes one: text, meta, replies. */
static void mc_lengths(void)
{
	static const char *const req[] = {
		"set k 0 0 4294967295\r\nabc\r\n",
		"set k 0 0 100000000000000000000\r\nabc\r\n",
		"set k 4294967295 4294967295 4\r\nabcd\r\n",
		"set k 100000000000000000000 0 4\r\nabcd\r\n",
		"cas k 0 0 4 100000000000000000000\r\nabcd\r\nget k\r\n",
		"incr k 100000000000000000000\r\ndecr k 18446744073709551615\r\n",
		"ms k 4294967295\r\nabc\r\nms k 100000000000000000000 T100000000000000000000\r\n",
		"mg k v\r\nma k D100000000000000000000 N4294967295\r\n",
		"get k\r\n",
		"gat 100000000000000000000 k\r\ntouch k 4294967295\r\n",
	};
	static const char *const rep[] = {
		"CLIENT_ERROR bad data chunk\r\n",
		"CLIENT_ERROR bad command line format\r\n",
		"STORED\r\n",
		"CLIENT_ERROR bad command line format\r\n",
		"EXISTS\r\nVALUE k 0 4294967295\r\nabc",
		"18446744073709551615\r\n100000000000000000000\r\n",
		"HD\r\nHD\r\n",
		"VA 4294967295\r\nabcVA 100000000000000000000 t-1\r\n",
		"VALUE k 0 100000000000000000000\r\nabc\r\nEND\r\n",
		"VALUE k 4294967295 4294967295 18446744073709551616\r\nabcd\r\nEND\r\nTOUCHED\r\n",
	};
	uint64_t rng = 3;
	struct cap c;
	cap_start(&c, 0, LT_ETHERNET, 262144);
	for (unsigned i = 0; i < CT_ARRAY_LEN(req); i++)
		exchange(&c, &rng, 1 + i, 11211, req[i], rep[i]);
	cap_save(&c, "mc-lengths.pcap");
}

/* A get of 20,000 keys (text and meta-less), answered with a few hits and END. */
static void mc_get_20000(void)
{
	uint64_t rng = 4;
	struct cap c;
	cap_start(&c, 0, LT_RAW, 262144);
	struct ct_buf g = { 0 }, r = { 0 };
	put_str(&g, "get");
	for (unsigned i = 0; i < 20000; i++)
		put_printf(&g, " key:%u", i);
	put_str(&g, "\r\n");
	for (unsigned i = 0; i < 20000; i += 997)
		put_printf(&r, "VALUE key:%u 0 1\r\nx\r\n", i);
	put_str(&r, "END\r\n");
	struct conn k;
	conn_init(&k, &c, ep4(10, 0, 0, 1, 40001), ep4(10, 0, 1, 1, 11211), &rng);
	conn_open(&k);
	conn_send(&k, 0, g.p, g.len);
	conn_send(&k, 1, r.p, r.len);
	/* the same keys again, as gets, never answered */
	conn_sends(&k, 0, "gets");
	conn_send(&k, 0, g.p + 3, g.len - 3);
	conn_close(&k);
	ct_buf_free(&g);
	ct_buf_free(&r);
	cap_save(&c, "mc-get-20000-keys.pcap");
}

/* Binary packets whose total body length is 0xFFFFFFFF (and key/extras longer than the body).
 *   magic opcode keylen(2) extlen datatype vbucket/status(2) bodylen(4) opaque(4) cas(8) */
static void mc_bin_body(void)
{
	uint64_t rng = 5;
	struct cap c;
	cap_start(&c, 0, LT_ETHERNET, 262144);
	for (unsigned i = 0; i < 4; i++) {
		struct ct_buf q = { 0 }, p = { 0 };
		uint32_t body = i == 2 ? 0x7fffffffu : 0xffffffffu;
		put_u8(&q, 0x80);
		put_u8(&q, i == 1 ? 0x00 : 0x01); /* GET / SET */
		put_be16(&q, i == 3 ? 0xffff : 1);
		put_u8(&q, i == 3 ? 0xff : 8);
		put_u8(&q, 0);
		put_be16(&q, 0);
		put_be32(&q, body);
		put_be32(&q, i);
		put_be32(&q, 0);
		put_be32(&q, 0);
		put_str(&q, "\xde\xad\xbe\xef\x00\x00\x0e\x10kvalue bytes that stop long before the body does");
		put_u8(&p, 0x81);
		put_u8(&p, 0x00);
		put_be16(&p, 0);
		put_u8(&p, 4);
		put_u8(&p, 0);
		put_be16(&p, 0);
		put_be32(&p, body);
		put_be32(&p, i);
		put_be32(&p, 0);
		put_be32(&p, 1);
		put_str(&p, "\x00\x00\x00\x00partial value");
		struct conn k;
		conn_init(&k, &c, ep4(10, 0, 0, 1 + i, (uint16_t)(40001 + i)), ep4(10, 0, 1, 1, 11211), &rng);
		conn_open(&k);
		conn_send(&k, 0, q.p, q.len);
		conn_send(&k, 1, p.p, p.len);
		conn_close(&k);
		ct_buf_free(&q);
		ct_buf_free(&p);
	}
	cap_save(&c, "mc-bin-body-ffffffff.pcap");
}

/* 70 KB lines with no newline, each side of Redis and memcached. */
static void long_line(void)
{
	uint64_t rng = 6;
	struct cap c;
	cap_start(&c, 0, LT_RAW, 262144);
	static const struct {
		uint16_t port;
		const char *req, *rep;
	} x[] = {
		{ 6379, "GET ", "+" },      /* inline command, simple string */
		{ 6379, "*1\r\n$4\r\nPING\r\n", "-" }, /* then an error line */
		{ 6379, "*1\r\n$4\r\nPING\r\n", "$" }, /* a bulk length line */
		{ 11211, "get ", "VALUE " },
		{ 11211, "mg ", "VA " },
		{ 11211, "set k 0 0 ", "STAT " },
	};
	struct ct_buf big = { 0 };
	for (unsigned i = 0; i < 70000; i++)
		put_u8(&big, (i % 7) == 6 ? ' ' : 'a' + i % 26);
	struct ct_buf digits = { 0 };
	for (unsigned i = 0; i < 70000; i++)
		put_u8(&digits, '1' + i % 9);
	for (unsigned i = 0; i < CT_ARRAY_LEN(x); i++) {
		struct conn k;
		conn_init(&k, &c, ep4(10, 0, 0, 1 + i, (uint16_t)(40001 + i)), ep4(10, 0, 1, 1, x[i].port), &rng);
		conn_open(&k);
		conn_sends(&k, 0, x[i].req);
		if (x[i].req[0] != '*')
			conn_send(&k, 0, big.p, big.len);
		conn_sends(&k, 1, x[i].rep);
		if (x[i].rep[0] == '$')
			conn_send(&k, 1, digits.p, digits.len);
		else
			conn_send(&k, 1, big.p, big.len);
		conn_close(&k);
	}
	ct_buf_free(&big);
	ct_buf_free(&digits);
	cap_save(&c, "long-line-70k.pcap");
}

/* Random bytes on the cache ports, TCP both ways and memcached UDP, plus garbage that starts
 * like a protocol. */
static void garbage(void)
{
	uint64_t rng = 7;
	struct cap c;
	cap_start(&c, 0, LT_ETHERNET, 262144);
	uint8_t buf[4096];
	static const char *const starts[] = { "*", "$", "+", "get ", "VALUE ", "\x80", "\x81", "mg " };
	for (unsigned i = 0; i < 40; i++) {
		uint16_t port = i % 2 ? 11211 : 6379;
		struct conn k;
		conn_init(&k, &c, ep4(10, 0, 0, 1 + i, (uint16_t)(40001 + i)), ep4(10, 0, 1, 1, port), &rng);
		if (i % 3)
			conn_open(&k);
		for (unsigned j = 0; j < 6; j++) {
			int dir = (int)(rng_next(&rng) & 1);
			uint32_t n = 1 + (uint32_t)(rng_next(&rng) % sizeof buf);
			for (uint32_t b = 0; b < n; b++)
				buf[b] = (uint8_t)rng_next(&rng);
			if (j == 0) {
				const char *s = starts[i % CT_ARRAY_LEN(starts)];
				memcpy(buf, s, strlen(s) < n ? strlen(s) : n);
			}
			conn_send(&k, dir, buf, n);
		}
		if (i % 4)
			conn_close(&k);
		else
			ct_buf_free(&k.frame);
	}
	for (unsigned i = 0; i < 200; i++) {
		uint32_t n = (uint32_t)(rng_next(&rng) % 1400);
		for (uint32_t b = 0; b < n; b++)
			buf[b] = (uint8_t)rng_next(&rng);
		if (i % 2 && n >= 8) {
			buf[4] = 0; /* total 1, seq 0: a frame header that parses */
			buf[5] = 1;
			buf[2] = buf[3] = 0;
		}
		struct ep cli = ep4(10, 0, 2, 1 + i % 5, (uint16_t)(50000 + i % 5));
		struct ep srv = ep4(10, 0, 1, 1, 11211);
		if (i % 3)
			udp_send(&c, cli, srv, buf, n);
		else
			udp_send(&c, srv, cli, buf, n);
	}
	cap_save(&c, "garbage-cache-ports.pcap");
}

/* 8000 connections picked up mid-stream, each one packet that starts a 100 KB value and is
 * cut by the snaplen a few bytes into it (the rest of the value never comes). Half Redis (a
 * SET, or a bulk reply), half memcached (a set, or a VALUE reply). */
static void midstream_flows(void)
{
	uint64_t rng = 8;
	struct cap c;
	cap_start(&c, 0, LT_RAW, 128);
	struct ct_buf pl = { 0 }, f = { 0 };
	for (unsigned i = 0; i < 8000; i++) {
		pl.len = 0;
		int redis = i % 2 == 0, reply = (i / 2) % 2;
		if (redis && !reply)
			put_printf(&pl, "*3\r\n$3\r\nSET\r\n$6\r\nk%05u\r\n$102400\r\n", i);
		else if (redis)
			put_str(&pl, "$102400\r\n");
		else if (!reply)
			put_printf(&pl, "set k%05u 0 0 102400\r\n", i);
		else
			put_printf(&pl, "VALUE k%05u 0 102400\r\n", i);
		put_str(&pl, "0123456789abcdef0123456789abcdef0123456789abcdef");
		struct ep cli = ep4(10, 1 + i / 250, i % 250, 1, (uint16_t)(20000 + i));
		struct ep srv = ep4(10, 0, 1, 1, redis ? 6379 : 11211);
		uint32_t seq = (uint32_t)rng_next(&rng);
		size_t len = reply ? build(&c, &f, 1, srv, cli, seq, 1, F_ACK, (const uint8_t *)pl.p,
					    (uint32_t)pl.len, 1448)
				   : build(&c, &f, 1, cli, srv, seq, 1, F_ACK, (const uint8_t *)pl.p,
					    (uint32_t)pl.len, 1448);
		uint32_t caplen = (uint32_t)len < 128 ? (uint32_t)len : 128;
		cap_record(&c, (const uint8_t *)f.p, caplen, (uint32_t)(len - pl.len) + 1448);
	}
	ct_buf_free(&pl);
	ct_buf_free(&f);
	cap_save(&c, "midstream-8000-flows.pcap");
}

/* One Redis connection (with a handshake) whose client sends 6000 segments at random sequence
 * numbers: half anywhere in the 2^32 space, half within a few MB of the next expected byte. */
static void random_seq(void)
{
	uint64_t rng = 9;
	struct cap c;
	cap_start(&c, 0, LT_RAW, 262144);
	struct conn k;
	conn_init(&k, &c, ep4(10, 0, 0, 1, 40001), ep4(10, 0, 1, 1, 6379), &rng);
	conn_open(&k);
	conn_sends(&k, 0, "*1\r\n$4\r\nPING\r\n");
	conn_sends(&k, 1, "+PONG\r\n");
	uint32_t base = k.seq[0];
	uint8_t pl[48];
	for (unsigned i = 0; i < 6000; i++) {
		for (unsigned b = 0; b < sizeof pl; b++)
			pl[b] = (uint8_t)("*1\r\n$4\r\nPING\r\n"[(i + b) % 14]);
		uint32_t seq = i % 2 ? (uint32_t)rng_next(&rng)
				     : base + (uint32_t)(rng_next(&rng) % (4u << 20));
		uint32_t n = 1 + (uint32_t)(rng_next(&rng) % sizeof pl);
		k.seq[0] = seq;
		conn_pkt(&k, 0, F_ACK | F_PSH, pl, n, n);
	}
	ct_buf_free(&k.frame);
	cap_save(&c, "random-seq-6000.pcap");
}

/* Frames cut by the snaplen inside the TCP header (and inside the IP and Ethernet headers),
 * each a copy of the next packet of a working connection, which follows it whole. */
static void snaplen_tcp_header(void)
{
	uint64_t rng = 10;
	struct cap c;
	cap_start(&c, 0, LT_ETHERNET, 65535);
	struct conn k;
	conn_init(&k, &c, ep4(10, 0, 0, 1, 40001), ep4(10, 0, 1, 1, 6379), &rng);
	conn_open(&k);
	static const uint32_t cuts[] = { 14 + 20 + 1, 14 + 20 + 12, 14 + 20 + 13, 14 + 20 + 19,
					 14 + 10, 14 + 20, 14, 5 };
	struct ct_buf f = { 0 };
	static const char *const say[2] = { "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "$1\r\nv\r\n" };
	for (unsigned i = 0; i < 2 * CT_ARRAY_LEN(cuts); i++) {
		int dir = i % 2;
		uint32_t n = (uint32_t)strlen(say[dir]);
		size_t len = build(&c, &f, 1, k.ep[dir], k.ep[!dir], k.seq[dir], k.seq[!dir],
				   F_ACK | F_PSH, (const uint8_t *)say[dir], n, n);
		uint32_t cut = cuts[i / 2];
		cap_record(&c, (const uint8_t *)f.p, cut < len ? cut : (uint32_t)len, (uint32_t)len);
		conn_sends(&k, dir, say[dir]);
	}
	conn_close(&k);
	ct_buf_free(&f);
	cap_save(&c, "snaplen-tcp-header.pcap");
}

/* A short working Redis conversation, the base of the truncated files. */
static void conversation(struct cap *c)
{
	uint64_t rng = 11;
	struct conn k;
	conn_init(&k, c, ep4(10, 0, 0, 1, 40001), ep4(10, 0, 1, 1, 6379), &rng);
	conn_open(&k);
	for (unsigned i = 0; i < 5; i++) {
		conn_sends(&k, 0, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
		conn_sends(&k, 1, "+OK\r\n");
	}
	conn_close(&k);
}

static void truncated(void)
{
	struct cap c;
	/* pcap: cut inside the last record's data, and inside a record header */
	cap_start(&c, 0, LT_ETHERNET, 262144);
	conversation(&c);
	c.b.len = c.last_rec + 16 + 30; /* 30 bytes of the last frame */
	save("truncated-data.pcap", &c.b);
	c.b.len = c.last_rec + 7; /* 7 bytes of its record header */
	save("truncated-header.pcap", &c.b);
	c.b.len = 20; /* inside the file header */
	save("truncated-filehdr.pcap", &c.b);
	ct_buf_free(&c.b);
	/* pcapng: cut inside an EPB's data, and inside a block header */
	cap_start(&c, 1, LT_ETHERNET, 262144);
	conversation(&c);
	c.b.len = c.last_rec + 28 + 30; /* 30 bytes of the last EPB's frame */
	save("truncated-data.pcapng", &c.b);
	c.b.len = c.last_rec + 6; /* 6 bytes of its block header */
	save("truncated-header.pcapng", &c.b);
	ct_buf_free(&c.b);
}

/* A record header claiming 0xFFFFFFF0 captured bytes, after good packets; and a pcapng whose
 * EPB says the same, and a section header with an absurd block length. */
static void caplen_huge(void)
{
	struct cap c;
	cap_start(&c, 0, LT_ETHERNET, 262144);
	conversation(&c);
	put_le32(&c.b, (uint32_t)(c.now / 1000000000ull));
	put_le32(&c.b, 0);
	put_le32(&c.b, 0xfffffff0u);
	put_le32(&c.b, 0xfffffff0u);
	put_str(&c.b, "not nearly 4 GB of packet data");
	cap_save(&c, "caplen-fffffff0.pcap");

	cap_start(&c, 1, LT_ETHERNET, 262144);
	conversation(&c);
	put_le32(&c.b, 6);
	put_le32(&c.b, 0xfffffff0u);
	put_le32(&c.b, 0);
	put_le32(&c.b, 0);
	put_le32(&c.b, 0);
	put_le32(&c.b, 0xfffffff0u);
	put_le32(&c.b, 0xfffffff0u);
	put_str(&c.b, "not nearly 4 GB of packet data");
	cap_save(&c, "caplen-fffffff0.pcapng");

	struct ct_buf b = { 0 };
	put_le32(&b, 0x0a0d0d0au);
	put_le32(&b, 0xfffffff0u);
	put_le32(&b, 0x1a2b3c4du);
	put_le16(&b, 1);
	put_le16(&b, 0);
	put_str(&b, "garbage after a section header that claims 4 GB");
	save("bad-shb.pcapng", &b);
	ct_buf_free(&b);
}

static void not_pcap(void)
{
	uint64_t rng = 12;
	struct ct_buf b = { 0 };
	put_str(&b, "This is not a capture file. It is text, followed by random bytes.\n");
	for (unsigned i = 0; i < 4000; i++)
		put_u8(&b, (unsigned)rng_next(&rng));
	save("not-a-pcap.pcap", &b);
	ct_buf_free(&b);
	save("empty.pcap", &b);
	/* a valid file header and no packet at all */
	struct cap c;
	cap_start(&c, 0, LT_ETHERNET, 262144);
	cap_save(&c, "header-only.pcap");
}

int main(int argc, char **argv)
{
	tool_name = "genhostile";
	if (argc != 2) {
		fprintf(stderr, "usage: genhostile OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	resp_lengths();
	resp_nested();
	mc_lengths();
	mc_get_20000();
	mc_bin_body();
	long_line();
	garbage();
	midstream_flows();
	random_seq();
	snaplen_tcp_header();
	truncated();
	caplen_huge();
	not_pcap();
	return 0;
}
