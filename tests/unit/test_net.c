/* Unit tests for src/net.c: every link type, VLAN/QinQ, IPv4 options and fragments, IPv6
 * extension headers, TSO lengths, Ethernet padding, snaplen cuts, contradictory headers, and
 * every prefix of every valid frame fed from an exactly-sized heap buffer (so ASan catches
 * any read past caplen). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/limits.h"
#include "cachetap/net.h"
#include "tap.h"

/* ---- frame builders ---- */

static const uint8_t SRC4[4] = { 10, 0, 0, 1 }, DST4[4] = { 10, 0, 0, 2 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t PAYLOAD[] = "*1\r\n$4\r\nPING\r\n"; /* 14 bytes + NUL (not sent) */
#define PLEN ((uint32_t)(sizeof PAYLOAD - 1))
enum { SPORT = 40000, DPORT = 6379 };
static const uint32_t SEQ = 0x11223344u, ACK = 0x55667788u;

static size_t w16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t w32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* TCP header with `optwords` 4-byte words of NOP options, then the payload. Flags carry ECE
 * (0x40) too, which ct_pkt.tcp_flags must mask off. */
static size_t put_tcp(uint8_t *p, int optwords, const uint8_t *pl, size_t plen)
{
	size_t n = 0;
	n += w16(p + n, SPORT);
	n += w16(p + n, DPORT);
	n += w32(p + n, SEQ);
	n += w32(p + n, ACK);
	p[n++] = (uint8_t)((5 + optwords) << 4);
	p[n++] = 0x40 | CT_TCP_PSH | CT_TCP_ACK;
	n += w16(p + n, 65535);
	n += w16(p + n, 0xbeef); /* checksum: never validated */
	n += w16(p + n, 0);
	memset(p + n, 1, (size_t)optwords * 4);
	n += (size_t)optwords * 4;
	memcpy(p + n, pl, plen);
	return n + plen;
}

/* UDP header; ulen < 0 means the right value. */
static size_t put_udp(uint8_t *p, long ulen, const uint8_t *pl, size_t plen)
{
	size_t n = 0;
	n += w16(p + n, SPORT);
	n += w16(p + n, 11211);
	n += w16(p + n, ulen < 0 ? (unsigned)(8 + plen) : (unsigned)ulen);
	n += w16(p + n, 0);
	memcpy(p + n, pl, plen);
	return n + plen;
}

/* IPv4 header with `optwords` option words, then l4. total < 0 means the right value. */
static size_t put_ipv4(uint8_t *p, uint8_t proto, int optwords, unsigned frag, long total,
		       const uint8_t *l4, size_t l4len)
{
	size_t h = 20 + (size_t)optwords * 4, n = 0;
	p[n++] = (uint8_t)(0x40 | (5 + optwords));
	p[n++] = 0;
	n += w16(p + n, total < 0 ? (unsigned)(h + l4len) : (unsigned)total);
	n += w16(p + n, 0x1234);
	n += w16(p + n, frag);
	p[n++] = 64;
	p[n++] = proto;
	n += w16(p + n, 0);
	memcpy(p + n, SRC4, 4);
	memcpy(p + n + 4, DST4, 4);
	n += 8;
	memset(p + n, 1, (size_t)optwords * 4); /* NOP options */
	n += (size_t)optwords * 4;
	memcpy(p + n, l4, l4len);
	return n + l4len;
}

/* IPv6 header, then `rest` (extension headers and L4). plen < 0 means the right value. */
static size_t put_ipv6(uint8_t *p, uint8_t next, long plen, const uint8_t *rest, size_t restlen)
{
	size_t n = 0;
	n += w32(p + n, 0x60012345u);
	n += w16(p + n, plen < 0 ? (unsigned)restlen : (unsigned)plen);
	p[n++] = next;
	p[n++] = 64;
	memcpy(p + n, SRC6, 16);
	memcpy(p + n + 16, DST6, 16);
	n += 32;
	memcpy(p + n, rest, restlen);
	return n + restlen;
}

/* Ethernet header with VLAN tags, then body. */
static size_t put_eth(uint8_t *p, const uint16_t *tpids, int ntags, uint16_t type,
		      const uint8_t *body, size_t blen)
{
	size_t n = 0;
	memset(p, 0xaa, 6);
	memset(p + 6, 0xbb, 6);
	n = 12;
	for (int i = 0; i < ntags; i++) {
		n += w16(p + n, tpids[i]);
		n += w16(p + n, (unsigned)(100 + i)); /* TCI */
	}
	n += w16(p + n, type);
	memcpy(p + n, body, blen);
	return n + blen;
}

/* ---- checking ---- */

struct want {
	int v6;
	uint8_t l4;
	uint32_t payload_off; /* offset of the payload in the frame */
	uint32_t payload_len, wire_len;
	const uint8_t *bytes; /* the payload's first bytes; NULL means PAYLOAD */
};

static struct ct_net_stats gstats;

/* Decodes from an exactly-sized heap copy so an over-read is an ASan error. The first n bytes
 * are captured; the frame was `wire` bytes on the wire (a prefix models a snaplen cut). */
static int decode_cut(int dlt, const uint8_t *f, size_t n, size_t wire, struct ct_pkt *k,
		      uint8_t **copy)
{
	uint8_t *c = malloc(n ? n : 1);
	if (n)
		memcpy(c, f, n);
	*copy = c;
	return ct_net_decode(dlt, 777, n ? c : NULL, (uint32_t)n, (uint32_t)wire, k, &gstats);
}

static int decode_copy(int dlt, const uint8_t *f, size_t n, struct ct_pkt *k, uint8_t **copy)
{
	return decode_cut(dlt, f, n, n, k, copy);
}

/* The frame's wire length is taken as unbounded: cut frames here model snaplen cuts, where the
 * wire held everything the IP header declares (test_wire_clamp covers the other case). */
static void check_ok(const char *name, int dlt, const uint8_t *f, size_t n, const struct want *w)
{
	struct ct_pkt k;
	uint8_t *c;
	int r = decode_cut(dlt, f, n, UINT32_MAX, &k, &c);

	is_str(ct_net_result_name(r), "ok", "%s: result", name);
	if (r != CT_NET_OK) {
		free(c);
		return;
	}
	is_int(k.ts_ns, 777, "%s: ts_ns", name);
	is_int(k.src.family, w->v6 ? 6 : 4, "%s: src family", name);
	is_int(k.dst.family, w->v6 ? 6 : 4, "%s: dst family", name);
	if (w->v6) {
		is_mem(k.src.a, 16, SRC6, 16, "%s: src addr", name);
		is_mem(k.dst.a, 16, DST6, 16, "%s: dst addr", name);
	} else {
		static const uint8_t z[12];
		is_mem(k.src.a, 4, SRC4, 4, "%s: src addr", name);
		is_mem(k.dst.a, 4, DST4, 4, "%s: dst addr", name);
		is_mem(k.src.a + 4, 12, z, 12, "%s: src addr rest zero", name);
	}
	is_int(k.l4, w->l4, "%s: l4", name);
	is_int(k.sport, SPORT, "%s: sport", name);
	is_int(k.dport, w->l4 == CT_L4_TCP ? DPORT : 11211, "%s: dport", name);
	if (w->l4 == CT_L4_TCP) {
		is_int(k.seq, SEQ, "%s: seq", name);
		is_int(k.ack, ACK, "%s: ack", name);
		is_int(k.tcp_flags, CT_TCP_PSH | CT_TCP_ACK, "%s: flags", name);
	} else {
		is_int(k.seq, 0, "%s: udp seq 0", name);
		is_int(k.tcp_flags, 0, "%s: udp flags 0", name);
	}
	ok(k.payload == c + w->payload_off, "%s: payload at offset %u (got %ld)", name,
	   w->payload_off, (long)(k.payload - c));
	is_int(k.payload_len, w->payload_len, "%s: payload_len", name);
	is_int(k.payload_wire_len, w->wire_len, "%s: payload_wire_len", name);
	if (k.payload_len == w->payload_len)
		is_mem(k.payload, k.payload_len, w->bytes ? w->bytes : PAYLOAD, w->payload_len,
		       "%s: payload bytes", name);
	free(c);
}

static void check_res(const char *name, int dlt, const uint8_t *f, size_t n, int want)
{
	struct ct_pkt k;
	uint8_t *c;
	int r = decode_copy(dlt, f, n, &k, &c);
	is_str(ct_net_result_name(r), ct_net_result_name(want), "%s", name);
	/* A failed decode leaves no half-filled packet. */
	if (r != CT_NET_OK)
		ok(k.payload == NULL && k.payload_len == 0 && k.sport == 0 && k.ts_ns == 777,
		   "%s: packet cleared", name);
	free(c);
}

/* Every prefix of a valid frame: shorter than the headers is TRUNCATED, otherwise OK with the
 * payload that is present, never more. `ip_end` is where the IP packet ends (padding after). */
static void check_prefixes(const char *name, int dlt, const uint8_t *f, size_t n, size_t hdr,
			   size_t ip_end, uint32_t wire, int tso)
{
	int bad = 0;
	for (size_t k = 0; k <= n; k++) {
		struct ct_pkt p;
		uint8_t *c;
		int r = decode_cut(dlt, f, k, n, &p, &c);
		if (k < hdr) {
			if (r != CT_NET_TRUNCATED) {
				diag("%s: prefix %zu gave %s", name, k, ct_net_result_name(r));
				bad++;
			}
		} else {
			size_t have = (k < ip_end ? k : ip_end) - hdr;
			uint32_t w = tso ? (uint32_t)have : wire;
			if (r != CT_NET_OK || p.payload != c + hdr || p.payload_len != have ||
			    p.payload_wire_len != w) {
				diag("%s: prefix %zu gave %s len %u wire %u", name, k,
				     ct_net_result_name(r), p.payload_len, p.payload_wire_len);
				bad++;
			}
		}
		free(c);
	}
	is_int(bad, 0, "%s: all %zu prefixes", name, n + 1);
}

/* ---- tests ---- */

static void test_ethernet(void)
{
	uint8_t l4[256], ip[512], f[1024];
	size_t l4n, ipn, n;
	struct want w;

	/* Plain IPv4/TCP. */
	l4n = put_tcp(l4, 0, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 6, 0, 0x4000 /* DF is not a fragment */, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_TCP, 14 + 20 + 20, PLEN, PLEN, NULL };
	check_ok("eth ipv4 tcp", 1, f, n, &w);
	check_prefixes("eth ipv4 tcp", 1, f, n, 54, n, PLEN, 0);

	/* IPv4 options and TCP options move the payload. */
	l4n = put_tcp(l4, 3, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 6, 2, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_TCP, 14 + 28 + 32, PLEN, PLEN, NULL };
	check_ok("eth ipv4 opts tcp opts", 1, f, n, &w);
	check_prefixes("eth ipv4 opts tcp opts", 1, f, n, 74, n, PLEN, 0);

	/* UDP. */
	l4n = put_udp(l4, -1, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 17, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_UDP, 14 + 20 + 8, PLEN, PLEN, NULL };
	check_ok("eth ipv4 udp", 1, f, n, &w);
	check_prefixes("eth ipv4 udp", 1, f, n, 42, n, PLEN, 0);

	/* IPv6/TCP and IPv6/UDP. */
	l4n = put_tcp(l4, 0, PAYLOAD, PLEN);
	ipn = put_ipv6(ip, 6, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x86dd, ip, ipn);
	w = (struct want){ 1, CT_L4_TCP, 14 + 40 + 20, PLEN, PLEN, NULL };
	check_ok("eth ipv6 tcp", 1, f, n, &w);
	check_prefixes("eth ipv6 tcp", 1, f, n, 74, n, PLEN, 0);
	l4n = put_udp(l4, -1, PAYLOAD, PLEN);
	ipn = put_ipv6(ip, 17, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x86dd, ip, ipn);
	w = (struct want){ 1, CT_L4_UDP, 14 + 40 + 8, PLEN, PLEN, NULL };
	check_ok("eth ipv6 udp", 1, f, n, &w);

	/* Not IP: ARP, an 802.3 length field (LLC), the undefined 0x05dc..0x0600 range. */
	n = put_eth(f, NULL, 0, 0x0806, ip, 28);
	check_res("eth arp", 1, f, n, CT_NET_NOT_IP);
	n = put_eth(f, NULL, 0, 0x0026, ip, 38);
	check_res("eth 802.3 length", 1, f, n, CT_NET_NOT_IP);
	n = put_eth(f, NULL, 0, 0x05ff, ip, 38);
	check_res("eth 802.3 0x05ff", 1, f, n, CT_NET_NOT_IP);
	check_res("eth empty", 1, f, 0, CT_NET_TRUNCATED);
	check_res("eth 13 bytes", 1, f, 13, CT_NET_TRUNCATED);
}

static void test_vlan(void)
{
	uint8_t l4[256], ip[512], f[1024];
	size_t l4n = put_tcp(l4, 0, PAYLOAD, PLEN);
	size_t ipn = put_ipv4(ip, 6, 0, 0, -1, l4, l4n);
	size_t n;
	struct want w;
	static const uint16_t q[] = { 0x8100 };
	static const uint16_t qinq[] = { 0x88a8, 0x8100 };
	static const uint16_t old[] = { 0x9100, 0x8100 };
	static const uint16_t four[] = { 0x88a8, 0x8100, 0x9100, 0x8100 };
	static const uint16_t five[] = { 0x88a8, 0x8100, 0x9100, 0x8100, 0x8100 };

	n = put_eth(f, q, 1, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_TCP, 18 + 40, PLEN, PLEN, NULL };
	check_ok("802.1Q", 1, f, n, &w);
	check_prefixes("802.1Q", 1, f, n, 58, n, PLEN, 0);

	n = put_eth(f, qinq, 2, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_TCP, 22 + 40, PLEN, PLEN, NULL };
	check_ok("QinQ 88a8+8100", 1, f, n, &w);
	check_prefixes("QinQ 88a8+8100", 1, f, n, 62, n, PLEN, 0);

	n = put_eth(f, old, 2, 0x0800, ip, ipn);
	check_ok("QinQ 9100+8100", 1, f, n, &w);

	n = put_eth(f, four, 4, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_TCP, 30 + 40, PLEN, PLEN, NULL };
	check_ok("4 tags (the limit)", 1, f, n, &w);

	struct ct_net_stats before = gstats;
	n = put_eth(f, five, 5, 0x0800, ip, ipn);
	check_res("5 tags over CT_NET_MAX_VLAN_TAGS", 1, f, n, CT_NET_MALFORMED);
	is_int(gstats.vlan_limit - before.vlan_limit, 1, "vlan_limit counted");

	n = put_eth(f, q, 1, 0x0806, ip, 28);
	check_res("802.1Q then ARP", 1, f, n, CT_NET_NOT_IP);
	n = put_eth(f, qinq, 2, 0x0800, ip, ipn);
	check_res("QinQ cut inside second tag", 1, f, 19, CT_NET_TRUNCATED);
}

static void test_null_loop(void)
{
	uint8_t l4[256], ip4[512], ip6[512], f[1024];
	size_t l4n = put_tcp(l4, 0, PAYLOAD, PLEN);
	size_t n4 = put_ipv4(ip4, 6, 0, 0, -1, l4, l4n);
	size_t n6 = put_ipv6(ip6, 6, -1, l4, l4n);
	struct want w4 = { 0, CT_L4_TCP, 4 + 40, PLEN, PLEN, NULL };
	struct want w6 = { 1, CT_L4_TCP, 4 + 60, PLEN, PLEN, NULL };
	static const uint32_t v6afs[] = { 10, 24, 28, 30 };
	char name[64];

	/* NULL: the writer's byte order, so both. */
	f[0] = 2, f[1] = 0, f[2] = 0, f[3] = 0;
	memcpy(f + 4, ip4, n4);
	check_ok("NULL AF_INET little-endian", 0, f, 4 + n4, &w4);
	check_prefixes("NULL AF_INET", 0, f, 4 + n4, 44, 4 + n4, PLEN, 0);
	w32(f, 2);
	check_ok("NULL AF_INET big-endian", 0, f, 4 + n4, &w4);
	memcpy(f + 4, ip6, n6);
	for (size_t i = 0; i < CT_ARRAY_LEN(v6afs); i++) {
		w32(f, v6afs[i]);
		snprintf(name, sizeof name, "NULL AF_INET6=%u big-endian", (unsigned)v6afs[i]);
		check_ok(name, 0, f, 4 + n6, &w6);
		f[0] = (uint8_t)v6afs[i], f[1] = f[2] = f[3] = 0;
		snprintf(name, sizeof name, "NULL AF_INET6=%u little-endian", (unsigned)v6afs[i]);
		check_ok(name, 0, f, 4 + n6, &w6);
		/* LOOP is big-endian only. */
		w32(f, v6afs[i]);
		snprintf(name, sizeof name, "LOOP AF_INET6=%u", (unsigned)v6afs[i]);
		check_ok(name, 108, f, 4 + n6, &w6);
	}
	check_prefixes("NULL AF_INET6", 0, f, 4 + n6, 64, 4 + n6, PLEN, 0);
	w32(f, 7);
	check_res("NULL AF 7", 0, f, 4 + n6, CT_NET_NOT_IP);
	check_res("NULL 3 bytes", 0, f, 3, CT_NET_TRUNCATED);

	memcpy(f + 4, ip4, n4);
	w32(f, 2);
	check_ok("LOOP AF_INET", 108, f, 4 + n4, &w4);
	f[0] = 2, f[1] = f[2] = f[3] = 0;
	check_res("LOOP little-endian AF_INET is not ours", 108, f, 4 + n4, CT_NET_NOT_IP);
}

static void test_raw_sll(void)
{
	uint8_t l4[256], ip4[512], ip6[512], f[1024];
	size_t l4n = put_tcp(l4, 0, PAYLOAD, PLEN);
	size_t n4 = put_ipv4(ip4, 6, 0, 0, -1, l4, l4n);
	size_t n6 = put_ipv6(ip6, 6, -1, l4, l4n);
	struct want w4 = { 0, CT_L4_TCP, 40, PLEN, PLEN, NULL };
	struct want w6 = { 1, CT_L4_TCP, 60, PLEN, PLEN, NULL };
	static const int raws[] = { 12, 14, 101 };
	char name[64];

	for (size_t i = 0; i < CT_ARRAY_LEN(raws); i++) {
		snprintf(name, sizeof name, "RAW %d v4", raws[i]);
		check_ok(name, raws[i], ip4, n4, &w4);
		snprintf(name, sizeof name, "RAW %d v6", raws[i]);
		check_ok(name, raws[i], ip6, n6, &w6);
	}
	check_prefixes("RAW v4", 101, ip4, n4, 40, n4, PLEN, 0);
	check_prefixes("RAW v6", 12, ip6, n6, 60, n6, PLEN, 0);
	memcpy(f, ip4, n4);
	f[0] = 0x55;
	check_res("RAW version 5", 12, f, n4, CT_NET_NOT_IP);

	check_ok("DLT_IPV4", 228, ip4, n4, &w4);
	check_ok("DLT_IPV6", 229, ip6, n6, &w6);
	check_res("DLT_IPV4 carrying v6", 228, ip6, n6, CT_NET_MALFORMED);
	check_res("DLT_IPV6 carrying v4", 229, ip4, n4, CT_NET_MALFORMED);
	check_prefixes("DLT_IPV4", 228, ip4, n4, 40, n4, PLEN, 0);

	/* Linux SLL: pkttype, ARPHRD, addr len, 8 address bytes, protocol. */
	memset(f, 0, 16);
	w16(f + 0, 0);
	w16(f + 2, 772); /* ARPHRD_LOOPBACK */
	w16(f + 4, 6);
	w16(f + 14, 0x0800);
	memcpy(f + 16, ip4, n4);
	struct want ws4 = { 0, CT_L4_TCP, 16 + 40, PLEN, PLEN, NULL };
	check_ok("SLL v4", 113, f, 16 + n4, &ws4);
	check_prefixes("SLL v4", 113, f, 16 + n4, 56, 16 + n4, PLEN, 0);
	w16(f + 14, 0x86dd);
	memcpy(f + 16, ip6, n6);
	struct want ws6 = { 1, CT_L4_TCP, 16 + 60, PLEN, PLEN, NULL };
	check_ok("SLL v6", 113, f, 16 + n6, &ws6);
	w16(f + 14, 0x0806);
	check_res("SLL ARP", 113, f, 16 + 28, CT_NET_NOT_IP);
	/* A VLAN tag left in front of IP (some drivers do this under SLL). */
	w16(f + 14, 0x8100);
	w16(f + 16, 5);
	w16(f + 18, 0x0800);
	memcpy(f + 20, ip4, n4);
	struct want wsv = { 0, CT_L4_TCP, 20 + 40, PLEN, PLEN, NULL };
	check_ok("SLL 802.1Q v4", 113, f, 20 + n4, &wsv);

	/* SLL2: protocol, reserved, ifindex, ARPHRD, pkttype, addr len, 8 address bytes. */
	memset(f, 0, 20);
	w16(f + 0, 0x86dd);
	w32(f + 4, 3);
	w16(f + 8, 1);
	f[11] = 6;
	memcpy(f + 20, ip6, n6);
	struct want ws26 = { 1, CT_L4_TCP, 20 + 60, PLEN, PLEN, NULL };
	check_ok("SLL2 v6", 276, f, 20 + n6, &ws26);
	check_prefixes("SLL2 v6", 276, f, 20 + n6, 80, 20 + n6, PLEN, 0);
	w16(f + 0, 0x0800);
	memcpy(f + 20, ip4, n4);
	struct want ws24 = { 0, CT_L4_TCP, 20 + 40, PLEN, PLEN, NULL };
	check_ok("SLL2 v4", 276, f, 20 + n4, &ws24);
	w16(f + 0, 0x0806);
	check_res("SLL2 ARP", 276, f, 20 + 28, CT_NET_NOT_IP);

	check_res("unknown link type 147", 147, ip4, n4, CT_NET_LINKTYPE);
	check_res("unknown link type -1", -1, ip4, n4, CT_NET_LINKTYPE);
}

static void test_ipv4_edges(void)
{
	uint8_t l4[2048], ip[2048], f[4096];
	size_t l4n, ipn, n;
	struct want w;
	uint8_t big[200];

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)i;

	/* Fragments: MF set, then a later piece; DF alone is not one. */
	l4n = put_tcp(l4, 0, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 6, 0, 0x2000, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 MF", 1, f, n, CT_NET_FRAGMENT);
	ipn = put_ipv4(ip, 6, 0, 0x0010, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 offset 16", 1, f, n, CT_NET_FRAGMENT);
	ipn = put_ipv4(ip, 6, 0, 0x4000 | 0x0001, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 DF + offset 1", 1, f, n, CT_NET_FRAGMENT);

	/* Other transport protocols. */
	ipn = put_ipv4(ip, 1, 0, 0, -1, l4, 8);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 icmp", 1, f, n, CT_NET_OTHER_L4);
	ipn = put_ipv4(ip, 132, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 sctp", 1, f, n, CT_NET_OTHER_L4);

	/* TSO: total length 0, the capture is the packet. */
	l4n = put_tcp(l4, 0, big, sizeof big);
	ipn = put_ipv4(ip, 6, 0, 0, 0, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_TCP, 54, sizeof big, sizeof big, big };
	check_ok("ipv4 TSO total 0", 1, f, n, &w);
	check_prefixes("ipv4 TSO total 0", 1, f, n, 54, n, 0, 1);

	/* Ethernet padding: a bare ACK padded to the 60-byte minimum has no payload. */
	l4n = put_tcp(l4, 0, PAYLOAD, 0);
	ipn = put_ipv4(ip, 6, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	memset(f + n, 0xee, 6);
	n += 6;
	w = (struct want){ 0, CT_L4_TCP, 54, 0, 0, NULL };
	check_ok("ipv4 ack + ethernet padding", 1, f, n, &w);
	check_prefixes("ipv4 ack + ethernet padding", 1, f, n, 54, 54, 0, 0);
	/* Same for a tiny UDP datagram. */
	l4n = put_udp(l4, -1, PAYLOAD, 2);
	ipn = put_ipv4(ip, 17, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	memset(f + n, 0xee, 60 - n);
	w = (struct want){ 0, CT_L4_UDP, 42, 2, 2, NULL };
	check_ok("ipv4 udp + ethernet padding", 1, f, 60, &w);
	check_prefixes("ipv4 udp + ethernet padding", 1, f, 60, 42, 44, 2, 0);

	/* Snaplen cut the payload: what is present, and what the wire had. */
	l4n = put_tcp(l4, 0, big, sizeof big);
	ipn = put_ipv4(ip, 6, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_TCP, 54, 10, sizeof big, big };
	check_ok("ipv4 snaplen cut", 1, f, 64, &w);

	/* Headers that contradict each other. */
	l4n = put_tcp(l4, 0, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 6, 0, 0, 30, l4, l4n); /* IP says 10 bytes of TCP */
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 total shorter than tcp header", 1, f, n, CT_NET_MALFORMED);
	ipn = put_ipv4(ip, 6, 0, 0, 19, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 total < 20", 1, f, n, CT_NET_MALFORMED);
	l4n = put_udp(l4, -1, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 17, 0, 0, 24, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 total shorter than udp header", 1, f, n, CT_NET_MALFORMED);
	ipn = put_ipv4(ip, 6, 0, 0, -1, l4, l4n);
	ip[0] = 0x44; /* IHL 4 */
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 IHL 4", 1, f, n, CT_NET_MALFORMED);
	ip[0] = 0x65; /* version 6 behind EtherType IPv4 */
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 ethertype, version 6", 1, f, n, CT_NET_MALFORMED);
	ip[0] = 0x4f; /* IHL 15 = 60 bytes, more than total */
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 IHL beyond total", 1, f, n, CT_NET_MALFORMED);
	/* IHL beyond the capture but within total: the capture ended early. */
	ipn = put_ipv4(ip, 6, 10, 0, -1, l4, 0);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("ipv4 options cut by snaplen", 1, f, 14 + 40, CT_NET_TRUNCATED);

	l4n = put_tcp(l4, 0, PAYLOAD, PLEN);
	l4[12] = 0x40; /* data offset 4 */
	ipn = put_ipv4(ip, 6, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("tcp data offset 4", 1, f, n, CT_NET_MALFORMED);
	l4[12] = 0xf0; /* 60 bytes, IP carries only 34 */
	ipn = put_ipv4(ip, 6, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("tcp data offset beyond IP length", 1, f, n, CT_NET_MALFORMED);
	l4n = put_tcp(l4, 10, PAYLOAD, 0); /* 60-byte TCP header, cut by snaplen */
	ipn = put_ipv4(ip, 6, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("tcp options cut by snaplen", 1, f, n - 4, CT_NET_TRUNCATED);

	l4n = put_udp(l4, 7, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 17, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("udp length 7", 1, f, n, CT_NET_MALFORMED);
	l4n = put_udp(l4, 8 + PLEN + 1, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 17, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	check_res("udp length beyond IP", 1, f, n, CT_NET_MALFORMED);
	/* UDP length shorter than IP's: trailing bytes are not payload. */
	l4n = put_udp(l4, 8 + 4, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 17, 0, 0, -1, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_UDP, 42, 4, 4, NULL };
	check_ok("udp length shorter than IP", 1, f, n, &w);
	/* UDP under TSO/GSO: IP length 0, the UDP field is the witness. */
	l4n = put_udp(l4, 8 + 100, PAYLOAD, PLEN);
	ipn = put_ipv4(ip, 17, 0, 0, 0, l4, l4n);
	n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	w = (struct want){ 0, CT_L4_UDP, 42, PLEN, 100, NULL };
	check_ok("udp under TSO, cut", 1, f, n, &w);
}

/* Builds an IPv6 extension header of `len` bytes (a multiple of 8, or AH's 4) in front of
 * `next`. */
static size_t put_ext(uint8_t *p, uint8_t type, uint8_t next, size_t len)
{
	memset(p, 0, len);
	p[0] = next;
	if (type == 51)
		p[1] = (uint8_t)(len / 4 - 2);
	else if (type != 44)
		p[1] = (uint8_t)(len / 8 - 1);
	return len;
}

static void test_ipv6_ext(void)
{
	uint8_t rest[1024], ip[2048], f[4096], l4[256];
	size_t l4n = put_tcp(l4, 0, PAYLOAD, PLEN), r, n;
	struct want w;

	/* HBH(8) -> DST(16) -> ROUTING(24) -> AH(24) -> FRAG atomic(8) -> TCP. */
	r = 0;
	r += put_ext(rest + r, 0, 60, 8);
	r += put_ext(rest + r, 60, 43, 16);
	r += put_ext(rest + r, 43, 51, 24);
	r += put_ext(rest + r, 51, 44, 24);
	r += put_ext(rest + r, 44, 6, 8);
	size_t ext = r;
	memcpy(rest + r, l4, l4n);
	r += l4n;
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 0, -1, rest, r));
	w = (struct want){ 1, CT_L4_TCP, (uint32_t)(14 + 40 + ext + 20), PLEN, PLEN, NULL };
	check_ok("ipv6 ext chain + atomic fragment", 1, f, n, &w);
	check_prefixes("ipv6 ext chain", 1, f, n, 14 + 40 + ext + 20, n, PLEN, 0);

	/* Real fragments. */
	r = put_ext(rest, 44, 6, 8);
	rest[3] = 1; /* M */
	memcpy(rest + r, l4, l4n);
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 44, -1, rest, r + l4n));
	check_res("ipv6 fragment M=1", 1, f, n, CT_NET_FRAGMENT);
	w16(rest + 2, 185 << 3);
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 44, -1, rest, r + l4n));
	check_res("ipv6 fragment offset 185", 1, f, n, CT_NET_FRAGMENT);

	/* Eight extension headers are fine, nine hit the limit. */
	for (int count = CT_NET_MAX_IPV6_EXTHDRS; count <= CT_NET_MAX_IPV6_EXTHDRS + 1; count++) {
		r = 0;
		for (int i = 0; i < count; i++)
			r += put_ext(rest + r, 60, i + 1 < count ? 60 : 17, 8);
		size_t u = put_udp(rest + r, -1, PAYLOAD, PLEN);
		n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 60, -1, rest, r + u));
		struct ct_net_stats before = gstats;
		if (count == CT_NET_MAX_IPV6_EXTHDRS) {
			w = (struct want){ 1, CT_L4_UDP, (uint32_t)(14 + 40 + r + 8), PLEN, PLEN, NULL };
			check_ok("ipv6 8 dest-opts headers", 1, f, n, &w);
		} else {
			check_res("ipv6 9 dest-opts headers", 1, f, n, CT_NET_MALFORMED);
			is_int(gstats.ipv6_ext_limit - before.ipv6_ext_limit, 1,
			       "ipv6_ext_limit counted");
		}
	}

	/* No next header, ESP, ICMPv6: not ours. */
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 59, -1, rest, 8));
	check_res("ipv6 no next header", 1, f, n, CT_NET_OTHER_L4);
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 50, -1, rest, 16));
	check_res("ipv6 esp", 1, f, n, CT_NET_OTHER_L4);
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 58, -1, rest, 8));
	check_res("ipv6 icmpv6", 1, f, n, CT_NET_OTHER_L4);

	/* Jumbogram: payload length 0. */
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 6, 0, l4, l4n));
	check_res("ipv6 payload length 0", 1, f, n, CT_NET_MALFORMED);
	/* An extension header longer than the payload length. */
	r = put_ext(rest, 60, 6, 8);
	rest[1] = 10; /* 88 bytes */
	memcpy(rest + 8, l4, l4n);
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 60, -1, rest, 8 + l4n));
	check_res("ipv6 ext header beyond payload length", 1, f, n, CT_NET_MALFORMED);
	/* Payload length shorter than a TCP header. */
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 6, 12, l4, l4n));
	check_res("ipv6 payload length < tcp header", 1, f, n, CT_NET_MALFORMED);
	/* Version 4 behind EtherType IPv6. */
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 6, -1, l4, l4n));
	f[14] = 0x45;
	check_res("ipv6 ethertype, version 4", 1, f, n, CT_NET_MALFORMED);
	/* Trailing bytes after the declared payload are not payload. */
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 6, 20 + 4, l4, l4n));
	w = (struct want){ 1, CT_L4_TCP, 74, 4, 4, NULL };
	check_ok("ipv6 trailing bytes", 1, f, n, &w);
	/* Snaplen cut. */
	n = put_eth(f, NULL, 0, 0x86dd, ip, put_ipv6(ip, 6, -1, l4, l4n));
	w = (struct want){ 1, CT_L4_TCP, 74, 3, PLEN, NULL };
	check_ok("ipv6 snaplen cut", 1, f, 77, &w);
}

/* Tiny deterministic PRNG (xorshift32) so failures reproduce. */
static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Random bytes and random mutations of a valid frame, for every link type: whatever comes
 * back, an OK packet's payload lies inside the frame and payload_len <= payload_wire_len. */
static void test_garbage(void)
{
	static const int dlts[] = { 0, 1, 12, 14, 101, 108, 113, 228, 229, 276 };
	uint8_t l4[256], ip[512], base[1024];
	size_t l4n = put_tcp(l4, 2, PAYLOAD, PLEN);
	size_t ipn = put_ipv4(ip, 6, 1, 0, -1, l4, l4n);
	static const uint16_t qinq[] = { 0x88a8, 0x8100 };
	size_t bn = put_eth(base, qinq, 2, 0x0800, ip, ipn);
	int bad = 0, oks = 0;

	for (int it = 0; it < 200000; it++) {
		int dlt = dlts[rnd() % CT_ARRAY_LEN(dlts)];
		size_t n = rnd() % (bn + 1);
		uint8_t *c = malloc(n ? n : 1);
		if (it % 2) {
			for (size_t i = 0; i < n; i++)
				c[i] = (uint8_t)rnd();
		} else {
			memcpy(c, base, n);
			for (int m = (int)(rnd() % 4); m >= 0 && n; m--)
				c[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
			dlt = rnd() % 4 ? 1 : dlt;
		}
		struct ct_pkt k;
		int r = ct_net_decode(dlt, 1, c, (uint32_t)n, (uint32_t)n, &k, NULL);
		if (r < 0 || r >= CT_NET_RESULT_COUNT)
			bad++;
		if (r == CT_NET_OK) {
			oks++;
			if (k.payload < c || k.payload + k.payload_len > c + n ||
			    k.payload_len > k.payload_wire_len ||
			    (k.l4 != CT_L4_TCP && k.l4 != CT_L4_UDP))
				bad++;
		}
		free(c);
	}
	is_int(bad, 0, "200000 random/mutated frames keep every invariant");
	ok(oks > 1000, "and some of them decode (%d)", oks);
}

static void test_names_and_stats(void)
{
	is_str(ct_net_result_name(CT_NET_OK), "ok", "name ok");
	is_str(ct_net_result_name(CT_NET_NOT_IP), "not-ip", "name not-ip");
	is_str(ct_net_result_name(CT_NET_FRAGMENT), "fragment", "name fragment");
	is_str(ct_net_result_name(CT_NET_OTHER_L4), "other-l4", "name other-l4");
	is_str(ct_net_result_name(CT_NET_TRUNCATED), "truncated", "name truncated");
	is_str(ct_net_result_name(CT_NET_MALFORMED), "malformed", "name malformed");
	is_str(ct_net_result_name(CT_NET_LINKTYPE), "linktype", "name linktype");
	is_str(ct_net_result_name(99), "unknown", "name of an unknown result");
	is_str(ct_net_result_name(-1), "unknown", "name of a negative result");

	char buf[CT_ENDPOINT_STRLEN];
	struct ct_ip a = { 4, { 1, 2, 3, 4 } };
	ct_endpoint_str(&a, 80, buf, sizeof buf);
	is_str(buf, "1.2.3.4:80", "endpoint v4");
	struct ct_ip l6 = { 6, { [15] = 1 } };
	ct_endpoint_str(&l6, 6379, buf, sizeof buf);
	is_str(buf, "[::1]:6379", "endpoint v6 loopback");
	struct ct_ip full6 = { 6, { 0xfe, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 } };
	ct_endpoint_str(&full6, 65535, buf, sizeof buf);
	is_str(buf, "[fe80:102:304:506:708:90a:b0c:d0e]:65535", "endpoint v6 full");
	struct ct_ip bad = { 0, { 0 } };
	ct_endpoint_str(&bad, 1, buf, sizeof buf);
	is_str(buf, "?:1", "endpoint with no family");
	char small[8];
	memset(small, 'x', sizeof small);
	ct_endpoint_str(&a, 6379, small, 6);
	is_str(small, "1.2.3", "endpoint truncated to the buffer");
	is_int(small[6], 'x', "no write past the given length");

	/* Stats add up: every frame is counted under exactly one result. */
	uint64_t sum = 0;
	for (int i = 0; i < CT_NET_RESULT_COUNT; i++)
		sum += gstats.by_result[i];
	is_int(sum, gstats.frames, "by_result sums to frames (%llu)",
	       (unsigned long long)gstats.frames);
	ok(gstats.by_result[CT_NET_OK] && gstats.by_result[CT_NET_NOT_IP] &&
		   gstats.by_result[CT_NET_FRAGMENT] && gstats.by_result[CT_NET_OTHER_L4] &&
		   gstats.by_result[CT_NET_TRUNCATED] && gstats.by_result[CT_NET_MALFORMED] &&
		   gstats.by_result[CT_NET_LINKTYPE],
	   "every result was exercised");

	struct ct_net_stats one = { 0 };
	struct ct_pkt k;
	is_int(ct_net_decode(1, 5, NULL, 0, 0, &k, &one), CT_NET_TRUNCATED, "NULL frame, caplen 0");
	is_int(one.frames, 1, "counted once");
	is_int(one.by_result[CT_NET_TRUNCATED], 1, "as truncated");
	is_int(k.ts_ns, 5, "ts kept on failure");
}

/* An IP length beyond the frame's wire length is not a snaplen cut (the frame was stripped or
 * rewritten): the declared payload is clamped to the wire, as tshark's tcp.len is. A frame
 * whose wire length covers the declared payload keeps it: that is a genuine snaplen cut. */
static void test_wire_clamp(void)
{
	uint8_t l4[2048], ip[2048], f[4096];
	uint8_t big[600];
	memset(big, 'v', sizeof big);
	size_t l4n = put_tcp(l4, 0, big, sizeof big);
	size_t ipn = put_ipv4(ip, 6, 0, 0, -1, l4, l4n);
	size_t n = put_eth(f, NULL, 0, 0x0800, ip, ipn);
	struct ct_pkt k;
	struct ct_net_stats st;
	memset(&st, 0, sizeof st);
	/* Only the headers captured, and the wire frame was no longer: payload 0. */
	is_int(ct_net_decode(1, 1, f, 54, 54, &k, &st), CT_NET_OK, "stripped frame decodes");
	is_int(k.payload_wire_len, 0, "stripped frame: declared payload clamped to the wire");
	is_int(k.payload_len, 0, "stripped frame: no captured payload");
	is_int(st.len_exceeds_frame, 1, "stripped frame counted");
	/* Wire length 100: 46 payload bytes were on the wire, none captured. */
	is_int(ct_net_decode(1, 1, f, 54, 100, &k, &st), CT_NET_OK, "partly stripped decodes");
	is_int(k.payload_wire_len, 46, "partly stripped: clamped to 46 wire bytes");
	is_int(st.len_exceeds_frame, 2, "partly stripped counted");
	/* Snaplen cut: the wire frame held everything the IP header declares. */
	is_int(ct_net_decode(1, 1, f, 54, (uint32_t)n, &k, &st), CT_NET_OK, "snaplen cut decodes");
	is_int(k.payload_wire_len, sizeof big, "snaplen cut keeps the declared payload");
	is_int(st.len_exceeds_frame, 2, "snaplen cut is not counted as a lie");
}

int main(void)
{
	test_wire_clamp();
	test_ethernet();
	test_vlan();
	test_null_loop();
	test_raw_sll();
	test_ipv4_edges();
	test_ipv6_ext();
	test_garbage();
	test_names_and_stats();
	return done_testing();
}
