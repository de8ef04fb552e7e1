/* The command-line pieces that every command decoding traffic shares (replay and capture in
 * main.c, drive in drive.c): one-line errors naming the argument, port lists, --node,
 * --channel, --decode, --values and sizes, and the capture filter the ports make. Every
 * parser prints exactly one line, "cachetap CMD: OPT: 'ARG' WHY", and returns CT_EINVAL on
 * bad input; the caller exits 2. Only our own strings (argv) pass through here. */
#ifndef CACHETAP_CLI_H
#define CACHETAP_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "cachetap/flow.h"
#include "cachetap/limits.h"
#include "cachetap/net.h"
#include "cachetap/sink.h"

/* A port list option: the ports as a bitmap, and as a normalised comma list (for the BPF and
 * the meta table). The first --redis/--memcached/--http given replaces the default; more of
 * the same option add to it. */
struct ct_cli_ports {
	uint8_t map[CT_PORTMAP_BYTES];
	char text[512];
	int given;
};

/* --node NAME=HOST:PORT[,role=ROLE], with the endpoint written as the timeline writes them. */
struct ct_cli_node {
	char name[CT_NODE_NAME_MAX_BYTES + 1];
	char endpoint[CT_ENDPOINT_STRLEN];
	const char *role; /* "primary", "replica", "memcached", "app", or NULL */
};

/* The decoding and capture options shared by replay, capture and drive. */
struct ct_cli_capture {
	struct ct_cli_ports redis, memcached, http;
	const char *channels[CT_CHANNEL_MAX_GLOBS]; /* --channel globs, pointing into argv */
	uint32_t nchannels;
	struct ct_cli_node nodes[CT_NODE_MAX_OPTIONS];
	uint32_t nnodes;
	unsigned decode;  /* CT_DECODE_* (pipeline.h) */
	unsigned values;  /* CT_VALUES_* (proto.h) */
	const char *filter; /* -f BPF, ANDed with the ports */
	int all_ports;
};

/* getopt_long values of the long options every decoding command takes (CT_CLI_LONG_OPTIONS);
 * a command numbers its own long options from CT_CLI_OPT_OWN. */
enum {
	CT_CLI_OPT_REDIS = 256,
	CT_CLI_OPT_MEMCACHED,
	CT_CLI_OPT_HTTP,
	CT_CLI_OPT_DECODE,
	CT_CLI_OPT_VALUES,
	CT_CLI_OPT_CHANNEL,
	CT_CLI_OPT_NODE,
	CT_CLI_OPT_ALL_PORTS,
	CT_CLI_OPT_OWN,
};

/* Their entries, for a command's struct option table (needs <getopt.h>). */
#define CT_CLI_LONG_OPTIONS                                                      \
	{ "redis", required_argument, NULL, CT_CLI_OPT_REDIS },                  \
	{ "memcached", required_argument, NULL, CT_CLI_OPT_MEMCACHED },          \
	{ "http", required_argument, NULL, CT_CLI_OPT_HTTP },                    \
	{ "decode", required_argument, NULL, CT_CLI_OPT_DECODE },                \
	{ "values", required_argument, NULL, CT_CLI_OPT_VALUES },                \
	{ "channel", required_argument, NULL, CT_CLI_OPT_CHANNEL },              \
	{ "node", required_argument, NULL, CT_CLI_OPT_NODE },                    \
	{ "all-ports", no_argument, NULL, CT_CLI_OPT_ALL_PORTS },                \
	{ "filter", required_argument, NULL, 'f' },                              \
	{ "buffer-size", required_argument, NULL, 'B' },                         \
	{ "snaplen", required_argument, NULL, 's' },                             \
	{ "no-promisc", no_argument, NULL, 'p' },                                \
	{ "interface", required_argument, NULL, 'i' },                           \
	{ "db", required_argument, NULL, 'w' },                                  \
	{ "quiet", no_argument, NULL, 'q' },                                     \
	{ "help", no_argument, NULL, 'h' }

/* The command named in error lines ("replay", "drive", ...). */
void ct_cli_set_command(const char *cmd);

/* Prints "cachetap CMD: OPT: 'ARG' WHY" and returns CT_EINVAL. */
int ct_cli_bad(const char *opt, const char *arg, const char *why);

/* Defaults: Redis 6379, memcached 11211, HTTP 80,8080; every protocol decoded; values hashed. */
void ct_cli_capture_init(struct ct_cli_capture *c);

void ct_cli_port_add(struct ct_cli_ports *l, uint16_t port);
int ct_cli_ports(const char *opt, const char *arg, struct ct_cli_ports *l);
int ct_cli_node(struct ct_cli_capture *c, const char *arg);
int ct_cli_channel(struct ct_cli_capture *c, const char *arg);
int ct_cli_decode(const char *arg, unsigned *out);
int ct_cli_values(const char *arg, unsigned *out);
/* N, NK, NM or NG bytes, within [min, max]. */
int ct_cli_size(const char *opt, const char *arg, uint64_t min, uint64_t max, uint32_t *out);

/* The capture filter: TCP or UDP on the configured ports (every port with --all-ports), and
 * -f when given. */
void ct_cli_bpf(const struct ct_cli_capture *c, char *out, size_t len);

/* The run's meta rows (tool version, command, command line, port lists, channels) and the
 * --node nodes, written at the start of every run. */
void ct_cli_record(struct ct_sink *sink, const struct ct_cli_capture *c, const char *cmd, int argc,
		   char **argv);

#endif
