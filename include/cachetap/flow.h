/* Flow table: canonical 5-tuple -> connection, with client/server orientation, TCP
 * reassembly per direction, expiry and a memory cap.
 *
 * Orientation comes from the SYN (its sender is the client), otherwise from the configured
 * server ports, otherwise it is a guess (the lower port is the server) flagged CT_ORIENT_GUESS
 * for a decoder to settle with ct_flow_swap(). A SYN on a 4-tuple whose connection has closed,
 * or whose ISN differs, starts a new connection. Connections end on FIN from both sides, RST,
 * idle expiry (CT_FLOW_IDLE_NS of capture time), eviction when CT_FLOW_MAX_CONNS is reached
 * (least recently used first, counted), or the end of the capture. A closed connection lingers
 * CT_FLOW_LINGER_NS so late retransmissions and ACKs are absorbed by it, not mistaken for a new
 * mid-stream connection. */
#ifndef CACHETAP_FLOW_H
#define CACHETAP_FLOW_H

#include <stdint.h>

#include "cachetap/common.h"
#include "cachetap/net.h"
#include "cachetap/reasm.h"

enum { CT_C2S = 0, CT_S2C = 1 };

enum ct_orient {
	CT_ORIENT_SYN = 0,   /* the client sent the SYN */
	CT_ORIENT_PORT = 1,  /* the server's port is a configured one */
	CT_ORIENT_GUESS = 2, /* neither: lower port taken as server; a decoder may swap */
	CT_ORIENT_DECODER = 3, /* settled by a decoder (ct_flow_swap or ct_flow_confirm) */
};

enum ct_close_reason {
	CT_CLOSE_NONE = 0,
	CT_CLOSE_FIN,    /* both sides sent FIN and their bytes were delivered */
	CT_CLOSE_RST,
	CT_CLOSE_IDLE,   /* no packet for CT_FLOW_IDLE_NS */
	CT_CLOSE_EVICT,  /* pushed out by CT_FLOW_MAX_CONNS */
	CT_CLOSE_REUSE,  /* a new SYN on the same 4-tuple */
	CT_CLOSE_END,    /* end of capture */
};

struct ct_conn {
	uint64_t id;          /* 1, 2, ... in order of creation */
	uint8_t l4;           /* CT_L4_TCP or CT_L4_UDP */
	uint8_t orient;       /* enum ct_orient */
	uint8_t closed;       /* streams ended; lingering until released */
	uint8_t close_reason; /* enum ct_close_reason */
	struct ct_ip cli_ip, srv_ip;
	uint16_t cli_port, srv_port;
	uint64_t first_ts_ns, last_ts_ns;
	uint64_t pkts[2];          /* packets per direction (CT_C2S, CT_S2C) */
	uint64_t payload_bytes[2]; /* payload per direction as IP declares it, retransmissions
				    * included (what tshark sums as tcp.len) */
	struct ct_reasm r[2];      /* TCP only */
	void *app;                 /* the consumer's per-connection state */
	const void *app_ops;       /* and whatever the consumer needs to handle it */
	uint8_t app_detect;        /* the consumer's payload-detection state */

	/* private to flow.c */
	uint64_t hash;
	uint64_t linger_until_ns;
	struct ct_conn *hnext;
	struct ct_conn *lru_prev, *lru_next;
};

/* Callbacks to the consumer (the protocol layer). `dir` is CT_C2S or CT_S2C. */
struct ct_flow_cb {
	void (*open)(void *ctx, struct ct_conn *c);
	void (*data)(void *ctx, struct ct_conn *c, int dir, uint64_t off, const uint8_t *p,
		     uint32_t len, uint64_t ts_ns);
	void (*gap)(void *ctx, struct ct_conn *c, int dir, uint64_t off, uint64_t len,
		    uint64_t ts_ns);
	/* UDP: one datagram; `wirelen` >= `len` when the snaplen cut it. */
	void (*datagram)(void *ctx, struct ct_conn *c, int dir, const uint8_t *p, uint32_t len,
			 uint32_t wirelen, uint64_t ts_ns);
	/* The streams ended (c->close_reason says why): every byte was delivered. */
	void (*close)(void *ctx, struct ct_conn *c);
	/* The connection leaves the table; its counters are final. Called after close. */
	void (*release)(void *ctx, struct ct_conn *c);
};

struct ct_flow_opts {
	const uint8_t *server_ports; /* bitmap, 65536 bits (8192 bytes), bit p = port p; or NULL */
	uint32_t max_conns;          /* 0 = CT_FLOW_MAX_CONNS */
	uint64_t idle_ns;            /* 0 = CT_FLOW_IDLE_NS */
	uint64_t linger_ns;          /* 0 = CT_FLOW_LINGER_NS */
	uint64_t reasm_mem_max_bytes; /* 0 = CT_REASM_MEM_MAX_BYTES */
};

struct ct_flow_stats {
	uint64_t packets;     /* TCP and UDP packets offered */
	uint64_t conns;       /* connections created */
	uint64_t conns_live;  /* in the table now */
	uint64_t closed_fin, closed_rst, expired_idle, evicted, reused, ended;
	uint64_t midstream;   /* TCP connections picked up without a SYN */
	uint64_t alloc_fail;  /* packets dropped because a connection could not be allocated */
};

struct ct_flow;

struct ct_flow *ct_flow_new(const struct ct_flow_opts *opts, const struct ct_flow_cb *cb,
			    void *ctx) CT_WUR;

/* Offers one decoded packet. Returns 0, or a negative error that was counted (the packet
 * was dropped; the table stays consistent). */
int ct_flow_packet(struct ct_flow *ft, const struct ct_pkt *pkt);

/* End of capture: flushes and releases every connection (close reason CT_CLOSE_END). */
void ct_flow_finish(struct ct_flow *ft);

/* A decoder settles orientation: swap client and server (with their counters and streams). */
void ct_flow_swap(struct ct_flow *ft, struct ct_conn *c);

const struct ct_flow_stats *ct_flow_stats(const struct ct_flow *ft);
const struct ct_reasm_shared *ct_flow_reasm_stats(const struct ct_flow *ft);

/* Frees the table without calling any callback (use ct_flow_finish first). NULL is safe. */
void ct_flow_free(struct ct_flow *ft);

/* Port bitmap helpers for ct_flow_opts.server_ports. */
#define CT_PORTMAP_BYTES 8192
static inline int ct_portmap_has(const uint8_t *map, uint16_t port)
{
	return map && (map[port >> 3] >> (port & 7)) & 1;
}
static inline void ct_portmap_set(uint8_t *map, uint16_t port)
{
	map[port >> 3] = (uint8_t)(map[port >> 3] | (1u << (port & 7)));
}

#endif
