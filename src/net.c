/* Link layer -> IPv4/IPv6 -> TCP/UDP decoding of one captured frame into a struct ct_pkt.
 *
 * Specs: IEEE 802.3 and 802.1Q (Ethernet, VLAN and QinQ tags), the tcpdump.org LINKTYPE_*
 * registry (NULL, LOOP, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2), RFC 791 (IPv4), RFC 8200
 * (IPv6 and its extension headers), RFC 4302 (AH), RFC 9293 (TCP), RFC 768 (UDP).
 *
 * Limits: CT_NET_MAX_VLAN_TAGS tags and CT_NET_MAX_IPV6_EXTHDRS extension headers are walked;
 * a frame with more is MALFORMED and counted in ct_net_stats.vlan_limit / ipv6_ext_limit.
 * Every byte is read through a bounds-checked cursor over exactly `caplen` bytes, so a frame
 * cut anywhere gives TRUNCATED (or OK with a shorter payload_len), never a read past the end.
 * Nothing is allocated and nothing is copied. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cachetap/cursor.h"
#include "cachetap/limits.h"
#include "cachetap/net.h"

/* Link types as pcap_datalink() reports them on the platforms we run on. Numbers, not the
 * DLT_* macros, because DLT_RAW and DLT_LOOP differ between OpenBSD and everyone else and we
 * want both readings of 12 and 14 to mean raw IP. */
enum {
	LINK_NULL = 0,
	LINK_EN10MB = 1,
	LINK_RAW_12 = 12,
	LINK_RAW_14 = 14,
	LINK_RAW_101 = 101,
	LINK_LOOP = 108,
	LINK_SLL = 113,
	LINK_IPV4 = 228,
	LINK_IPV6 = 229,
	LINK_SLL2 = 276,
};

enum {
	ETH_P_IPV4 = 0x0800,
	ETH_P_IPV6 = 0x86dd,
	ETH_P_8021Q = 0x8100,
	ETH_P_8021AD = 0x88a8,
	ETH_P_QINQ_OLD = 0x9100,
	ETH_LEN_MAX = 0x0600, /* below this the field is an 802.3 length, not an EtherType */
};

/* Address family values a BSD NULL/LOOP header may carry: AF_INET is 2 everywhere, AF_INET6
 * is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS). */
enum { BSD_AF_INET = 2 };

static int bsd_af_inet6(uint32_t af)
{
	return af == 10 || af == 24 || af == 28 || af == 30;
}

/* What the link layer found: the network-layer bytes and which protocol they hold. */
enum l3 { L3_V4 = 4, L3_V6 = 6, L3_ANY = 0 /* RAW: the version nibble decides */ };

/* Walks 802.1Q / 802.1ad tags starting at an EtherType that was just read, then maps the final
 * EtherType to an L3 kind. Each tag is:
 *
 *   +------------------+------------------+
 *   | TCI (PCP/DEI/VID)| inner EtherType  |
 *   +------------------+------------------+
 *          2 bytes            2 bytes
 */
static int ethertype_walk(struct ct_cur *c, uint16_t type, enum l3 *l3, struct ct_net_stats *st)
{
	unsigned tags = 0;

	while (type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ_OLD) {
		if (tags == CT_NET_MAX_VLAN_TAGS) {
			if (st)
				st->vlan_limit++;
			return CT_NET_MALFORMED;
		}
		tags++;
		ct_cur_skip(c, 2); /* TCI: the VLAN id is not part of a flow's identity here */
		type = ct_cur_be16(c);
		if (c->err)
			return CT_NET_TRUNCATED;
	}
	if (type == ETH_P_IPV4)
		*l3 = L3_V4;
	else if (type == ETH_P_IPV6)
		*l3 = L3_V6;
	else
		return CT_NET_NOT_IP; /* ARP, LLDP, 802.3 lengths, MPLS, PPPoE, ... */
	return CT_NET_OK;
}

/* Strips the link header of `dlt` from *c, leaving it at the network-layer header. */
static int link_decode(int dlt, struct ct_cur *c, enum l3 *l3, struct ct_net_stats *st)
{
	uint16_t type;
	uint32_t af;

	switch (dlt) {
	case LINK_EN10MB:
		/*
		 * +-------------+-------------+-----------------------+
		 * | dst MAC (6) | src MAC (6) | EtherType/length (2)  |
		 * +-------------+-------------+-----------------------+
		 */
		ct_cur_skip(c, 12);
		type = ct_cur_be16(c);
		if (c->err)
			return CT_NET_TRUNCATED;
		if (type < ETH_LEN_MAX)
			return CT_NET_NOT_IP; /* 802.3 length field: LLC/SNAP, STP, ... */
		return ethertype_walk(c, type, l3, st);

	case LINK_NULL:
	case LINK_LOOP: {
		/*
		 * +-------------------------------+
		 * | address family (4)            |  NULL: writer's byte order; LOOP: big-endian
		 * +-------------------------------+
		 */
		const uint8_t *h = ct_cur_take(c, 4);
		if (!h)
			return CT_NET_TRUNCATED;
		uint32_t be = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
		uint32_t le = (uint32_t)h[3] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[1] << 8 | h[0];
		/* A NULL file says nothing about the writer's byte order, so try both; the values
		 * we accept are small, so one reading never collides with the other. */
		af = be;
		if (dlt == LINK_NULL && af != BSD_AF_INET && !bsd_af_inet6(af))
			af = le;
		if (af == BSD_AF_INET)
			*l3 = L3_V4;
		else if (bsd_af_inet6(af))
			*l3 = L3_V6;
		else
			return CT_NET_NOT_IP;
		return CT_NET_OK;
	}

	case LINK_RAW_12:
	case LINK_RAW_14:
	case LINK_RAW_101:
		*l3 = L3_ANY;
		return CT_NET_OK;
	case LINK_IPV4:
		*l3 = L3_V4;
		return CT_NET_OK;
	case LINK_IPV6:
		*l3 = L3_V6;
		return CT_NET_OK;

	case LINK_SLL:
		/*
		 * +-------------+-------------+-------------+----------------------+-----------+
		 * | pkttype (2) | ARPHRD (2)  | addr len (2)| link-layer addr (8)  | proto (2) |
		 * +-------------+-------------+-------------+----------------------+-----------+
		 */
		ct_cur_skip(c, 14);
		type = ct_cur_be16(c);
		if (c->err)
			return CT_NET_TRUNCATED;
		return ethertype_walk(c, type, l3, st);

	case LINK_SLL2:
		/*
		 * +-----------+--------------+-------------+------------+-------------+----------+----------------+
		 * | proto (2) | reserved (2) | ifindex (4) | ARPHRD (2) | pkttype (1) | alen (1) | link addr (8)  |
		 * +-----------+--------------+-------------+------------+-------------+----------+----------------+
		 */
		type = ct_cur_be16(c);
		ct_cur_skip(c, 18);
		if (c->err)
			return CT_NET_TRUNCATED;
		return ethertype_walk(c, type, l3, st);
	}
	return CT_NET_LINKTYPE;
}

/* The network layer's verdict on where the transport header is and how long it is. */
struct l4_span {
	uint8_t proto;
	struct ct_cur cap; /* the transport bytes present: (start, min(declared end, caplen)) */
	uint32_t declared; /* transport bytes the IP header declares */
	int len_from_capture; /* IPv4 total length 0 (TSO/GSO): `declared` is only what we have */
};

/* IPv4 (RFC 791):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-------+-------+---------------+-------------------------------+
 * |Version|  IHL  |    DSCP/ECN   |          Total Length         |
 * +-------+-------+---------------+-----+-------------------------+
 * |         Identification        |Flags|     Fragment Offset     |
 * +---------------+---------------+-----+-------------------------+
 * |  Time to Live |    Protocol   |        Header Checksum        |
 * +---------------+---------------+-------------------------------+
 * |                        Source Address                         |
 * |                      Destination Address                      |
 * |                   Options (IHL > 5) ...                       |
 * +---------------------------------------------------------------+
 */
static int ipv4_decode(struct ct_cur *c, struct ct_pkt *out, struct l4_span *sp)
{
	const uint8_t *ip = c->p;
	size_t avail = ct_cur_left(c);

	if (avail < 20)
		return CT_NET_TRUNCATED;
	uint8_t vihl = ct_cur_u8(c);
	if (vihl >> 4 != 4)
		return CT_NET_MALFORMED;
	uint32_t hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < 20)
		return CT_NET_MALFORMED;
	ct_cur_skip(c, 1);
	uint32_t total = ct_cur_be16(c);
	ct_cur_skip(c, 2);
	uint16_t frag = ct_cur_be16(c);
	ct_cur_skip(c, 1);
	uint8_t proto = ct_cur_u8(c);
	ct_cur_skip(c, 2);
	const uint8_t *src = ct_cur_take(c, 4);
	const uint8_t *dst = ct_cur_take(c, 4);
	if (c->err)
		return CT_NET_TRUNCATED;

	sp->len_from_capture = 0;
	if (total == 0) {
		/* Segmentation offload: the stack handed the capture one big segment and left the
		 * length for the NIC to fill in; the capture is all we know. */
		sp->len_from_capture = 1;
		total = avail > UINT32_MAX ? UINT32_MAX : (uint32_t)avail;
	}
	if (total < hlen)
		return sp->len_from_capture ? CT_NET_TRUNCATED : CT_NET_MALFORMED;
	if (avail < hlen)
		return CT_NET_TRUNCATED;
	/* MF set or a non-zero offset: a piece of a datagram we do not reassemble. */
	if (frag & 0x3fff)
		return CT_NET_FRAGMENT;

	out->src.family = 4;
	out->dst.family = 4;
	memcpy(out->src.a, src, 4);
	memcpy(out->dst.a, dst, 4);
	sp->proto = proto;
	sp->declared = total - hlen;
	/* Bytes past `total` are link padding (Ethernet pads to 60), not transport data. */
	size_t present = avail < total ? avail : total;
	sp->cap = ct_cur_make(ip + hlen, present - hlen);
	return CT_NET_OK;
}

/* IPv6 (RFC 8200), then its extension headers:
 *
 *  0                   1                   2                   3
 * +-------+---------------+---------------------------------------+
 * |Version| Traffic Class |              Flow Label               |
 * +-------+---------------+-------+---------------+---------------+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-------------------------------+---------------+---------------+
 * |                    Source Address (16 bytes)                  |
 * |                 Destination Address (16 bytes)                |
 * +---------------------------------------------------------------+
 *
 * Hop-by-hop (0), Routing (43), Destination options (60):
 *   | Next Header | Hdr Ext Len (8-byte units, not counting the first 8) | ... |
 * Fragment (44), always 8 bytes:
 *   | Next Header | Reserved | Fragment Offset (13 bits) | Res (2) | M (1) | Identification (4) |
 * Authentication header (51, RFC 4302):
 *   | Next Header | Payload Len (4-byte units, minus 2) | Reserved (2) | SPI | Seq | ICV ... |
 */
enum {
	IP6_HOPOPTS = 0,
	IP6_ROUTING = 43,
	IP6_FRAGMENT = 44,
	IP6_AH = 51,
	IP6_DSTOPTS = 60,
};

static int ipv6_decode(struct ct_cur *c, struct ct_pkt *out, struct l4_span *sp,
		       struct ct_net_stats *st)
{
	size_t avail = ct_cur_left(c);

	if (avail < 40)
		return CT_NET_TRUNCATED;
	uint8_t v = ct_cur_u8(c);
	if (v >> 4 != 6)
		return CT_NET_MALFORMED;
	ct_cur_skip(c, 3);
	uint32_t plen = ct_cur_be16(c);
	uint8_t next = ct_cur_u8(c);
	ct_cur_skip(c, 1);
	const uint8_t *src = ct_cur_take(c, 16);
	const uint8_t *dst = ct_cur_take(c, 16);
	if (c->err)
		return CT_NET_TRUNCATED;
	/* A zero payload length announces a jumbogram (RFC 2675), whose real length hides in a
	 * hop-by-hop option; we do not follow it. */
	if (plen == 0)
		return CT_NET_MALFORMED;

	/* The region the header declares, clipped to what was captured. Extension headers are
	 * parsed inside it, so running past `plen` is MALFORMED and past the capture TRUNCATED. */
	size_t present = avail - 40 < plen ? avail - 40 : plen;
	const uint8_t *base = c->p;
	uint32_t off = 0; /* bytes of extension headers consumed */
	unsigned nhdr = 0;

	for (;;) {
		uint32_t len;
		struct ct_cur h = ct_cur_make(base + off, present - off);

		if (next != IP6_HOPOPTS && next != IP6_ROUTING && next != IP6_FRAGMENT &&
		    next != IP6_AH && next != IP6_DSTOPTS)
			break;
		if (nhdr == CT_NET_MAX_IPV6_EXTHDRS) {
			if (st)
				st->ipv6_ext_limit++;
			return CT_NET_MALFORMED;
		}
		nhdr++;
		if (plen - off < 2)
			return CT_NET_MALFORMED;
		uint8_t nn = ct_cur_u8(&h);
		uint8_t hl = ct_cur_u8(&h);
		if (h.err)
			return CT_NET_TRUNCATED;
		if (next == IP6_FRAGMENT) {
			len = 8;
			if (plen - off < len)
				return CT_NET_MALFORMED;
			uint16_t fo = ct_cur_be16(&h);
			if (h.err)
				return CT_NET_TRUNCATED;
			/* Offset 0 with M clear is an atomic fragment (RFC 6946): the whole datagram
			 * is here, so keep going. */
			if ((fo >> 3) != 0 || (fo & 1))
				return CT_NET_FRAGMENT;
		} else if (next == IP6_AH) {
			len = ((uint32_t)hl + 2) * 4;
		} else {
			len = ((uint32_t)hl + 1) * 8;
		}
		if (plen - off < len)
			return CT_NET_MALFORMED;
		if (present - off < len)
			return CT_NET_TRUNCATED;
		off += len;
		next = nn;
	}

	out->src.family = 6;
	out->dst.family = 6;
	memcpy(out->src.a, src, 16);
	memcpy(out->dst.a, dst, 16);
	sp->proto = next;
	sp->declared = plen - off;
	sp->len_from_capture = 0;
	sp->cap = ct_cur_make(base + off, present - off);
	return CT_NET_OK;
}

/* TCP (RFC 9293):
 *
 *  0                   1                   2                   3
 * +-------------------------------+-------------------------------+
 * |          Source Port          |       Destination Port        |
 * +-------------------------------+-------------------------------+
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * +-------+-------+---------------+-------------------------------+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * +-------+-------+---------------+-------------------------------+
 * |           Checksum            |         Urgent Pointer        |
 * |                     Options (data offset > 5) ...             |
 * +---------------------------------------------------------------+
 */
static int tcp_decode(struct l4_span *sp, struct ct_pkt *out)
{
	struct ct_cur *c = &sp->cap;
	const uint8_t *start = c->p;
	size_t have = ct_cur_left(c);

	/* The IP header promised fewer bytes than a TCP header needs: it contradicts itself.
	 * With a capture-derived length we only know the capture stopped early. */
	if (sp->declared < 20 && !sp->len_from_capture)
		return CT_NET_MALFORMED;
	if (have < 20)
		return CT_NET_TRUNCATED;
	out->sport = ct_cur_be16(c);
	out->dport = ct_cur_be16(c);
	out->seq = ct_cur_be32(c);
	out->ack = ct_cur_be32(c);
	uint8_t doff = ct_cur_u8(c);
	uint8_t flags = ct_cur_u8(c);
	if (c->err)
		return CT_NET_TRUNCATED;
	uint32_t hlen = (uint32_t)(doff >> 4) * 4;
	if (hlen < 20)
		return CT_NET_MALFORMED;
	if (hlen > sp->declared)
		return sp->len_from_capture ? CT_NET_TRUNCATED : CT_NET_MALFORMED;
	if (hlen > have)
		return CT_NET_TRUNCATED;

	out->l4 = CT_L4_TCP;
	out->tcp_flags = flags & (CT_TCP_FIN | CT_TCP_SYN | CT_TCP_RST | CT_TCP_PSH | CT_TCP_ACK);
	out->payload = start + hlen;
	out->payload_wire_len = sp->declared - hlen;
	out->payload_len = (uint32_t)(have - hlen);
	if (out->payload_len > out->payload_wire_len)
		out->payload_len = out->payload_wire_len;
	return CT_NET_OK;
}

/* UDP (RFC 768):
 *
 * +-------------------------------+-------------------------------+
 * |          Source Port          |       Destination Port        |
 * +-------------------------------+-------------------------------+
 * |            Length             |           Checksum            |
 * +-------------------------------+-------------------------------+
 */
static int udp_decode(struct l4_span *sp, struct ct_pkt *out)
{
	struct ct_cur *c = &sp->cap;
	const uint8_t *start = c->p;
	size_t have = ct_cur_left(c);

	if (sp->declared < 8 && !sp->len_from_capture)
		return CT_NET_MALFORMED;
	if (have < 8)
		return CT_NET_TRUNCATED;
	out->sport = ct_cur_be16(c);
	out->dport = ct_cur_be16(c);
	uint32_t ulen = ct_cur_be16(c);
	if (c->err)
		return CT_NET_TRUNCATED;
	if (ulen < 8)
		return CT_NET_MALFORMED;
	/* A UDP length beyond what IP carries is a lie, unless IP's length came from the
	 * capture (TSO/GSO), where the UDP field is the better witness. */
	if (ulen > sp->declared && !sp->len_from_capture)
		return CT_NET_MALFORMED;

	out->l4 = CT_L4_UDP;
	out->tcp_flags = 0;
	out->seq = out->ack = 0;
	out->payload = start + 8;
	out->payload_wire_len = ulen - 8;
	out->payload_len = (uint32_t)(have - 8);
	if (out->payload_len > out->payload_wire_len)
		out->payload_len = out->payload_wire_len;
	return CT_NET_OK;
}

static int decode(int dlt, const uint8_t *frame, uint32_t caplen, struct ct_pkt *out,
		  struct ct_net_stats *st)
{
	static const uint8_t none[1];
	struct l4_span sp;
	enum l3 l3 = L3_ANY;
	int r;

	if (!frame) {
		if (caplen)
			return CT_NET_TRUNCATED;
		frame = none; /* NULL + 0 is undefined behaviour in C */
	}
	struct ct_cur c = ct_cur_make(frame, caplen);
	r = link_decode(dlt, &c, &l3, st);
	if (r != CT_NET_OK)
		return r;
	if (l3 == L3_ANY) {
		uint8_t v;
		if (!ct_cur_peek_u8(&c, 0, &v))
			return CT_NET_TRUNCATED;
		if (v >> 4 == 4)
			l3 = L3_V4;
		else if (v >> 4 == 6)
			l3 = L3_V6;
		else
			return CT_NET_NOT_IP;
	}
	r = l3 == L3_V4 ? ipv4_decode(&c, out, &sp) : ipv6_decode(&c, out, &sp, st);
	if (r != CT_NET_OK)
		return r;
	if (sp.proto == CT_L4_TCP)
		return tcp_decode(&sp, out);
	if (sp.proto == CT_L4_UDP)
		return udp_decode(&sp, out);
	return CT_NET_OTHER_L4;
}

int ct_net_decode(int dlt, uint64_t ts_ns, const uint8_t *frame, uint32_t caplen,
		  uint32_t wirelen, struct ct_pkt *out, struct ct_net_stats *st)
{
	memset(out, 0, sizeof *out);
	out->ts_ns = ts_ns;
	int r = decode(dlt, frame, caplen, out, st);
	if (r == CT_NET_OK) {
		/* The payload cannot extend past the frame's end on the wire. */
		uint32_t off = (uint32_t)(out->payload - frame);
		uint32_t room = wirelen > caplen ? wirelen : caplen;
		room = room > off ? room - off : 0;
		if (out->payload_wire_len > room) {
			out->payload_wire_len = room;
			if (out->payload_len > room)
				out->payload_len = room;
			if (st)
				st->len_exceeds_frame++;
		}
	}
	if (r != CT_NET_OK) {
		/* Leave no half-filled packet behind for a caller that ignores the result. */
		memset(out, 0, sizeof *out);
		out->ts_ns = ts_ns;
	}
	if (st) {
		st->frames++;
		st->by_result[r]++;
	}
	return r;
}

const char *ct_net_result_name(int result)
{
	switch (result) {
	case CT_NET_OK: return "ok";
	case CT_NET_NOT_IP: return "not-ip";
	case CT_NET_FRAGMENT: return "fragment";
	case CT_NET_OTHER_L4: return "other-l4";
	case CT_NET_TRUNCATED: return "truncated";
	case CT_NET_MALFORMED: return "malformed";
	case CT_NET_LINKTYPE: return "linktype";
	}
	return "unknown";
}

void ct_endpoint_str(const struct ct_ip *ip, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!buf || len == 0)
		return;
	if (ip->family == 4 && inet_ntop(AF_INET, ip->a, a, sizeof a))
		snprintf(buf, len, "%s:%u", a, (unsigned)port);
	else if (ip->family == 6 && inet_ntop(AF_INET6, ip->a, a, sizeof a))
		snprintf(buf, len, "[%s]:%u", a, (unsigned)port);
	else
		snprintf(buf, len, "?:%u", (unsigned)port);
}
