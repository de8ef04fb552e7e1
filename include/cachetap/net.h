/* Link layer -> IPv4/IPv6 -> TCP/UDP: one captured frame in, one decoded packet out.
 *
 * Link types: Ethernet (with 802.1Q/802.1ad/QinQ tags), Linux SLL and SLL2, BSD NULL and
 * LOOP, RAW (DLT_RAW 12/14, LINKTYPE_RAW 101, DLT_IPV4, DLT_IPV6). IPv4 honours IHL; fragments
 * are counted and skipped. IPv6 walks extension headers. TCP honours the data-offset field.
 * Checksums are not validated: captures with offloaded checksums are the norm.
 *
 * Nothing is copied: `payload` points into the caller's frame. */
#ifndef CACHETAP_NET_H
#define CACHETAP_NET_H

#include <stdint.h>

#include "cachetap/common.h"

/* An IP address; IPv4 is stored in the first 4 bytes of `a` with the rest zero. */
struct ct_ip {
	uint8_t family; /* 4 or 6 */
	uint8_t a[16];
};

enum { CT_L4_TCP = 6, CT_L4_UDP = 17 };

enum {
	CT_TCP_FIN = 0x01,
	CT_TCP_SYN = 0x02,
	CT_TCP_RST = 0x04,
	CT_TCP_PSH = 0x08,
	CT_TCP_ACK = 0x10,
};

struct ct_pkt {
	uint64_t ts_ns;       /* capture time, ns since the Unix epoch */
	struct ct_ip src, dst;
	uint16_t sport, dport;
	uint8_t l4;           /* CT_L4_TCP or CT_L4_UDP */
	uint8_t tcp_flags;    /* CT_TCP_*; 0 for UDP */
	uint32_t seq, ack;    /* TCP only */
	const uint8_t *payload;
	uint32_t payload_len;      /* payload bytes present in the capture */
	uint32_t payload_wire_len; /* payload length the IP header declares (>= payload_len);
				    * larger when snaplen cut the frame */
};

/* Why a frame produced no packet. Each has a counter in struct ct_net_stats. */
enum ct_net_result {
	CT_NET_OK = 0,
	CT_NET_NOT_IP = 1,      /* ARP, LLDP, ... */
	CT_NET_FRAGMENT = 2,    /* IPv4/IPv6 fragment: counted and skipped */
	CT_NET_OTHER_L4 = 3,    /* ICMP, SCTP, ... */
	CT_NET_TRUNCATED = 4,   /* capture ended inside a link/IP/TCP/UDP header */
	CT_NET_MALFORMED = 5,   /* header fields contradict each other */
	CT_NET_LINKTYPE = 6,    /* link type not supported */
	CT_NET_RESULT_COUNT
};

struct ct_net_stats {
	uint64_t frames;
	uint64_t by_result[CT_NET_RESULT_COUNT];
	/* Limit hits (limits.h), each also counted as CT_NET_MALFORMED above. */
	uint64_t vlan_limit;     /* more than CT_NET_MAX_VLAN_TAGS 802.1Q/802.1ad tags */
	uint64_t ipv6_ext_limit; /* more than CT_NET_MAX_IPV6_EXTHDRS IPv6 extension headers */
	uint64_t len_exceeds_frame; /* IP declared more than the frame held on the wire */
};

/* Decodes one frame of link type `dlt` (a DLT_* value as libpcap returns it). `caplen` bytes
 * are at `frame`; `wirelen` is the frame's length on the wire (pcap orig_len). A payload
 * length the IP header declares beyond the wire length is a lie (a rewritten or stripped
 * frame, not a snaplen cut): it is clamped to the wire length and counted, as tshark does.
 * Returns CT_NET_OK and fills *out, or another enum ct_net_result. `out->ts_ns` is set from
 * `ts_ns`. Updates *st when it is not NULL. */
int ct_net_decode(int dlt, uint64_t ts_ns, const uint8_t *frame, uint32_t caplen,
		  uint32_t wirelen, struct ct_pkt *out, struct ct_net_stats *st);

/* Human name of a result, for logs. */
const char *ct_net_result_name(int result);

/* Formats "a.b.c.d:port" or "[v6]:port" into buf (at least CT_ENDPOINT_STRLEN bytes). */
#define CT_ENDPOINT_STRLEN 64
void ct_endpoint_str(const struct ct_ip *ip, uint16_t port, char *buf, size_t len);

#endif
