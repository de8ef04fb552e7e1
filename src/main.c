/* The cachetap command line (SPEC section 2): parses options and wires a source, the pipeline
 * and a sink together. It holds no logic of its own beyond argument checking: every bad
 * argument gets a one-line error naming it and exit code 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachetap/capture.h"
#include "cachetap/limits.h"
#include "cachetap/net.h"
#include "cachetap/pipeline.h"
#include "cachetap/proto.h"
#include "cachetap/report.h"
#include "cachetap/sink_async.h"
#include "cachetap/store.h"

#define EXIT_USAGE 2

static volatile sig_atomic_t stop_flag;
static struct ct_source *running_source;

static void on_signal(int sig)
{
	if (stop_flag) {
		/* A second signal: leave now. The database stays consistent (WAL); only the
		 * batch in flight is lost. */
		_exit(128 + sig);
	}
	stop_flag = 1;
	if (running_source)
		ct_source_break(running_source);
}

static void usage_main(FILE *out)
{
	fprintf(out,
		"usage: cachetap COMMAND [OPTIONS] ...\n"
		"\n"
		"Passive observer of Redis and memcached traffic: decodes it from the wire and\n"
		"records, in SQLite, when every cache node received each write, delete and\n"
		"invalidation.\n"
		"\n"
		"commands:\n"
		"  replay  [OPTIONS] FILE...   decode pcap/pcapng files ('-' = stdin), merged in time order\n"
		"  capture [OPTIONS] -i IFACE  live capture until SIGINT/SIGTERM or --duration SECONDS\n"
		"  timeline [OPTIONS] DB [KEY] print the event timeline (all keys, or one)\n"
		"\n"
		"'cachetap COMMAND --help' describes each command. cachetap --version prints the version.\n");
}

static const char common_help[] =
	"  -w, --db FILE          SQLite database to write (default cachetap.db); an existing\n"
	"                         file is replaced only if it is a cachetap database\n"
	"      --redis PORTS      TCP ports decoded as RESP, comma list (default 6379)\n"
	"      --memcached PORTS  TCP/UDP ports decoded as memcached (default 11211)\n"
	"      --http PORTS       TCP ports of the HTTP API (default 80,8080): never guessed as\n"
	"                         Redis or memcached (HTTP itself is not decoded yet)\n"
	"      --decode LIST      protocols to decode: redis,memcached (default both), or\n"
	"                         'none' for capture and TCP reassembly only\n"
	"      --values MODE      what is stored of values: none, or hash (XXH3 fingerprint,\n"
	"                         the default)\n"
	"      --channel GLOB     a pub/sub channel that carries application invalidations,\n"
	"                         as a PSUBSCRIBE glob (* ? [abc]); repeatable. PUBLISH on it is\n"
	"                         a publish, each delivery an invalidate at the subscriber, of\n"
	"                         the key in the payload (the payload, or the \"key\" string of\n"
	"                         a JSON object payload)\n"
	"      --node NAME=HOST:PORT[,role=ROLE]\n"
	"                         name a node (repeatable); ROLE is primary, replica,\n"
	"                         memcached or app. Replicas are also named by the port they\n"
	"                         announce (REPLCONF listening-port). See the nodes table.\n"
	"  -f, --filter BPF       extra BPF expression, ANDed with the capture's own\n"
	"  -q, --quiet            no progress on stderr\n"
	"  -h, --help             this help\n"
	"\n"
	"It ends with one summary line on stderr: packets, bytes, connections, events, gaps,\n"
	"drops, errors. Exit status: 0 done, 1 runtime failure, 2 bad usage or input.\n";

static void usage_replay(FILE *out)
{
	fprintf(out,
		"usage: cachetap replay [OPTIONS] FILE...\n"
		"\n"
		"Decodes pcap and pcapng files ('-' reads standard input). Several files are merged\n"
		"in timestamp order, as if captured at once. Timestamps are kept to the nanosecond.\n"
		"\n"
		"options:\n%s",
		common_help);
}

static void usage_capture(FILE *out)
{
	fprintf(out,
		"usage: cachetap capture [OPTIONS] -i IFACE\n"
		"\n"
		"Captures live from IFACE (needs root or CAP_NET_RAW) until SIGINT/SIGTERM or\n"
		"--duration. Kernel and interface drops are sampled every second into the\n"
		"capture_drops table and reported in the summary. The capture filter is the\n"
		"configured ports (--redis, --memcached, --http) ANDed with --filter, unless\n"
		"--all-ports is given.\n"
		"\n"
		"options:\n"
		"  -i, --interface IFACE  interface to capture on (required)\n"
		"  -B, --buffer-size N    kernel capture buffer in bytes, K/M/G suffixes allowed\n"
		"                         (default 32M, at least 4096)\n"
		"  -s, --snaplen N        bytes kept per packet (default 262144)\n"
		"      --duration SECONDS stop after this many seconds (decimals allowed)\n"
		"      --all-ports        capture all TCP/UDP, so payload detection sees every port\n"
		"  -p, --no-promisc       do not put the interface in promiscuous mode\n"
		"%s",
		common_help);
}

enum {
	OPT_REDIS = 256,
	OPT_MEMCACHED,
	OPT_HTTP,
	OPT_DECODE,
	OPT_DURATION,
	OPT_ALL_PORTS,
	OPT_VALUES,
	OPT_LIMIT,
	OPT_CHANNEL,
	OPT_NODE,
};

static const struct option long_opts[] = {
	{ "db", required_argument, NULL, 'w' },
	{ "redis", required_argument, NULL, OPT_REDIS },
	{ "memcached", required_argument, NULL, OPT_MEMCACHED },
	{ "http", required_argument, NULL, OPT_HTTP },
	{ "decode", required_argument, NULL, OPT_DECODE },
	{ "values", required_argument, NULL, OPT_VALUES },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "filter", required_argument, NULL, 'f' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "interface", required_argument, NULL, 'i' },
	{ "buffer-size", required_argument, NULL, 'B' },
	{ "snaplen", required_argument, NULL, 's' },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "all-ports", no_argument, NULL, OPT_ALL_PORTS },
	{ "no-promisc", no_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	const char *cmd;
	const char *db;
	const char *filter;
	const char *iface;
	uint32_t buffer_bytes, snaplen;
	int all_ports, no_promisc, quiet;
	/* Port lists as given (for the BPF and the meta table). */
	char redis[256], memcached[256], http[256];
	/* --channel globs, pointing into argv (po.channels points here). */
	const char *channels[CT_CHANNEL_MAX_GLOBS];
	uint32_t nchannels;
	/* --node NAME=HOST:PORT[,role=ROLE], parsed; written to the nodes table at the start. */
	struct node_opt {
		char name[CT_NODE_NAME_MAX_BYTES + 1];
		char endpoint[CT_ENDPOINT_STRLEN];
		const char *role;
	} nodes[CT_NODE_MAX_OPTIONS];
	uint32_t nnodes;
	struct ct_pipeline_opts po;
};

static int bad(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "cachetap: %s: '%s' %s\n", opt, arg, why);
	return CT_EINVAL;
}

/* Parses "6379,6380" into a port bitmap; keeps a normalised copy for the BPF. */
static int parse_ports(const char *opt, const char *arg, uint8_t *map, char *out, size_t outlen)
{
	char buf[256];
	if (strlen(arg) >= sizeof buf)
		return bad(opt, arg, "is too long a port list");
	memset(map, 0, CT_PORTMAP_BYTES);
	out[0] = '\0';
	snprintf(buf, sizeof buf, "%s", arg);
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(tok, &end, 10);
		if (errno || end == tok || *end || v == 0 || v > 65535)
			return bad(opt, tok, "is not a port number (1-65535)");
		ct_portmap_set(map, (uint16_t)v);
		size_t used = strlen(out);
		snprintf(out + used, outlen - used, "%s%lu", n++ ? "," : "", v);
	}
	if (n == 0)
		return bad(opt, arg, "is not a port list");
	return 0;
}

/* One more --channel glob (SPEC section 2): kept as given, matched by src/glob.c. */
static int add_channel(struct cli *c, const char *arg)
{
	char why[96];
	size_t n = strlen(arg);
	if (n == 0)
		return bad("--channel", arg, "is empty (give a channel name or a glob)");
	if (n > CT_CHANNEL_GLOB_MAX_BYTES) {
		snprintf(why, sizeof why, "is too long a glob (at most %u bytes)",
			 CT_CHANNEL_GLOB_MAX_BYTES);
		return bad("--channel", arg, why);
	}
	if (c->nchannels >= CT_CHANNEL_MAX_GLOBS) {
		snprintf(why, sizeof why, "is one glob too many (at most %u --channel options)",
			 CT_CHANNEL_MAX_GLOBS);
		return bad("--channel", arg, why);
	}
	c->channels[c->nchannels++] = arg;
	return 0;
}

/* --node NAME=HOST:PORT[,role=ROLE]: HOST is an IP address ([v6] in brackets), because a
 * passive capture sees addresses, not names. The endpoint is normalised the way the timeline
 * prints servers and clients, so the two can be joined. */
static int add_node(struct cli *c, const char *arg)
{
	static const char *const roles[] = { "primary", "replica", "memcached", "app" };
	char buf[512], why[96];
	if (c->nnodes >= CT_NODE_MAX_OPTIONS) {
		snprintf(why, sizeof why, "is one node too many (at most %u --node options)",
			 CT_NODE_MAX_OPTIONS);
		return bad("--node", arg, why);
	}
	if (strlen(arg) >= sizeof buf)
		return bad("--node", arg, "is too long");
	snprintf(buf, sizeof buf, "%s", arg);
	struct node_opt *n = &c->nodes[c->nnodes];
	char *eq = strchr(buf, '=');
	if (!eq || eq == buf)
		return bad("--node", arg, "is not NAME=HOST:PORT[,role=ROLE]");
	*eq = '\0';
	size_t nl = strlen(buf);
	if (nl > CT_NODE_NAME_MAX_BYTES || strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
						     "qrstuvwxyz0123456789_.-") != nl)
		return bad("--node", arg, "has a bad NAME (letters, digits, _ . -; at most 64)");
	snprintf(n->name, sizeof n->name, "%s", buf);
	char *ep = eq + 1, *role = strchr(ep, ',');
	n->role = NULL;
	if (role) {
		*role++ = '\0';
		if (strncmp(role, "role=", 5) != 0)
			return bad("--node", arg, "has something other than role=ROLE after the comma");
		for (size_t i = 0; i < CT_ARRAY_LEN(roles); i++)
			if (strcmp(role + 5, roles[i]) == 0)
				n->role = roles[i];
		if (!n->role)
			return bad("--node", arg, "has a role other than primary, replica, memcached, app");
	}
	char *colon = strrchr(ep, ':');
	if (!colon)
		return bad("--node", arg, "has no :PORT");
	*colon = '\0';
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port == 0 || port > 65535)
		return bad("--node", arg, "has a bad PORT (1-65535)");
	struct ct_ip ip;
	memset(&ip, 0, sizeof ip);
	size_t hl = strlen(ep);
	if (hl >= 2 && ep[0] == '[' && ep[hl - 1] == ']') {
		ep[hl - 1] = '\0';
		ip.family = 6;
		if (inet_pton(AF_INET6, ep + 1, ip.a) != 1)
			return bad("--node", arg, "has a bad IPv6 address");
	} else {
		ip.family = 4;
		if (inet_pton(AF_INET, ep, ip.a) != 1)
			return bad("--node", arg, "has a HOST that is not an IP address ([v6] in brackets)");
	}
	ct_endpoint_str(&ip, (uint16_t)port, n->endpoint, sizeof n->endpoint);
	c->nnodes++;
	return 0;
}

static int parse_size(const char *opt, const char *arg, uint64_t min, uint64_t max,
		      uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg || arg[0] == '-')
		return bad(opt, arg, "is not a size");
	uint64_t mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mult = 1024ull * 1024 * 1024, end++;
	if (*end)
		return bad(opt, arg, "is not a size (N, NK, NM or NG)");
	if (v > max / mult || v * mult < min || v * mult > max) {
		char why[96];
		snprintf(why, sizeof why, "is out of range (%llu to %llu bytes)",
			 (unsigned long long)min, (unsigned long long)max);
		return bad(opt, arg, why);
	}
	*out = (uint32_t)(v * mult);
	return 0;
}

static int parse_duration(const char *arg, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > 0) || v > 1e7)
		return bad("--duration", arg, "is not a number of seconds (> 0)");
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

static int parse_decode(const char *arg, unsigned *out)
{
	char buf[128];
	if (strlen(arg) >= sizeof buf)
		return bad("--decode", arg, "is too long");
	snprintf(buf, sizeof buf, "%s", arg);
	*out = 0;
	if (strcmp(buf, "none") == 0)
		return 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "redis") == 0)
			*out |= CT_DECODE_REDIS;
		else if (strcmp(tok, "memcached") == 0)
			*out |= CT_DECODE_MEMCACHED;
		else if (strcmp(tok, "http") == 0)
			return bad("--decode", tok, "is not decoded yet (redis and memcached are)");
		else
			return bad("--decode", tok, "is not one of redis, memcached, none");
	}
	return 0;
}

static int is_live_only(int ch)
{
	return ch == 'i' || ch == 'B' || ch == 's' || ch == 'p' || ch == OPT_DURATION ||
	       ch == OPT_ALL_PORTS;
}

/* Parses the options of replay/capture. Returns 0, 1 when --help was printed, or an error. */
static int parse(struct cli *c, int argc, char **argv, int live)
{
	int rc = 0;
	memset(c, 0, sizeof *c);
	c->cmd = argv[0];
	c->db = "cachetap.db";
	c->po.command = argv[0];
	c->po.decode = CT_DECODE_ALL;
	c->po.values = CT_VALUES_HASH;
	if (parse_ports("--redis", "6379", c->po.redis_ports, c->redis, sizeof c->redis) ||
	    parse_ports("--memcached", "11211", c->po.memcached_ports, c->memcached,
			sizeof c->memcached) ||
	    parse_ports("--http", "80,8080", c->po.http_ports, c->http, sizeof c->http))
		return CT_EINVAL;

	/* Options may come after the FILE operands, as with most GNU tools. */
	const char *shortopts = live ? ":w:f:qhi:B:s:p" : ":w:f:qh";
	optind = 1;
	opterr = 0;
	int ch;
	int li = -1;
	while ((ch = getopt_long(argc, argv, shortopts, long_opts, &li)) != -1) {
		if (!live && is_live_only(ch)) {
			/* A capture option given to replay: name it, not the value it consumed. */
			if (li >= 0)
				fprintf(stderr, "cachetap %s: --%s is for capture only\n", c->cmd,
					long_opts[li].name);
			else
				fprintf(stderr, "cachetap %s: -%c is for capture only\n", c->cmd, ch);
			return CT_EINVAL;
		}
		li = -1;
		switch (ch) {
		case 'w': c->db = optarg; break;
		case 'f': c->filter = optarg; break;
		case 'q': c->quiet = 1; break;
		case 'h': return 1;
		case OPT_REDIS:
			rc = parse_ports("--redis", optarg, c->po.redis_ports, c->redis, sizeof c->redis);
			break;
		case OPT_MEMCACHED:
			rc = parse_ports("--memcached", optarg, c->po.memcached_ports, c->memcached,
					 sizeof c->memcached);
			break;
		case OPT_HTTP:
			rc = parse_ports("--http", optarg, c->po.http_ports, c->http, sizeof c->http);
			break;
		case OPT_DECODE: rc = parse_decode(optarg, &c->po.decode); break;
		case OPT_CHANNEL: rc = add_channel(c, optarg); break;
		case OPT_NODE: rc = add_node(c, optarg); break;
		case OPT_VALUES:
			if (strcmp(optarg, "none") == 0)
				c->po.values = CT_VALUES_NONE;
			else if (strcmp(optarg, "hash") == 0)
				c->po.values = CT_VALUES_HASH;
			else if (strcmp(optarg, "full") == 0)
				rc = bad("--values", optarg, "is not implemented yet (use none or hash)");
			else
				rc = bad("--values", optarg, "is not one of none, hash");
			break;
		case 'i': c->iface = optarg; break;
		case 'B':
			rc = parse_size("--buffer-size", optarg, CT_CAPTURE_BUFFER_BYTES_MIN, 1u << 31,
					&c->buffer_bytes);
			break;
		case 's': rc = parse_size("--snaplen", optarg, 64, 262144, &c->snaplen); break;
		case OPT_DURATION: rc = parse_duration(optarg, &c->po.duration_ns); break;
		case OPT_ALL_PORTS: c->all_ports = 1; break;
		case 'p': c->no_promisc = 1; break;
		case ':':
			fprintf(stderr, "cachetap %s: option '%s' needs a value\n", c->cmd,
				argv[optind - 1]);
			return CT_EINVAL;
		default:
			fprintf(stderr, "cachetap %s: unknown option '%s' (see cachetap %s --help)\n",
				c->cmd, argv[optind - 1], c->cmd);
			return CT_EINVAL;
		}
		if (rc)
			return rc;
	}
	c->po.progress = !c->quiet;
	c->po.channels = c->channels;
	c->po.nchannels = c->nchannels;
	return 0;
}

/* Live BPF: the configured ports, ANDed with --filter. */
static void build_bpf(const struct cli *c, char *out, size_t len)
{
	char ports[1024] = "";
	const char *lists[] = { c->redis, c->memcached, c->http };
	size_t used = 0;
	for (size_t i = 0; i < CT_ARRAY_LEN(lists); i++) {
		char tmp[256];
		snprintf(tmp, sizeof tmp, "%s", lists[i]);
		for (char *save = NULL, *tok = strtok_r(tmp, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save))
			used += (size_t)snprintf(ports + used, used < sizeof ports ? sizeof ports - used : 0,
						 "%sport %s", used ? " or " : "", tok);
	}
	if (c->all_ports || !ports[0])
		snprintf(out, len, "(tcp or udp)%s%s%s", c->filter ? " and (" : "",
			 c->filter ? c->filter : "", c->filter ? ")" : "");
	else
		snprintf(out, len, "(tcp or udp) and (%s)%s%s%s", ports, c->filter ? " and (" : "",
			 c->filter ? c->filter : "", c->filter ? ")" : "");
}

static void record_options(struct ct_sink *sink, const struct cli *c, int argc, char **argv)
{
	char line[4096];
	size_t used = 0;
	line[0] = '\0';
	for (int i = 0; i < argc && used < sizeof line; i++)
		used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? " " : "",
					 argv[i]);
	sink->ops->meta(sink, "tool_version", CT_VERSION);
	sink->ops->meta(sink, "command", c->cmd);
	sink->ops->meta(sink, "options", line);
	sink->ops->meta(sink, "redis_ports", c->redis);
	sink->ops->meta(sink, "memcached_ports", c->memcached);
	sink->ops->meta(sink, "http_ports", c->http);
	/* The --channel globs, comma separated like the port lists ("" when none). */
	char chans[CT_CHANNEL_MAX_GLOBS * (CT_CHANNEL_GLOB_MAX_BYTES + 1) + 1];
	used = 0;
	chans[0] = '\0';
	for (uint32_t i = 0; i < c->nchannels; i++)
		used += (size_t)snprintf(chans + used, sizeof chans - used, "%s%s", i ? "," : "",
					 c->channels[i]);
	sink->ops->meta(sink, "channels", chans);
	for (uint32_t i = 0; i < c->nnodes; i++) {
		struct ct_node_rec n = { c->nodes[i].name, c->nodes[i].endpoint, c->nodes[i].role,
					 "option", 0, 0 };
		sink->ops->node(sink, &n);
	}
}

static int run(struct cli *c, struct ct_source *src, int argc, char **argv)
{
	char err[512];
	struct ct_sink *sink = NULL;
	struct ct_pipeline *p = NULL;
	int rc = ct_store_open(&sink, c->db, err, sizeof err);
	if (rc) {
		fprintf(stderr, "cachetap %s: --db %s\n", c->cmd, err);
		ct_source_close(src);
		return EXIT_USAGE;
	}
	/* SQLite writes on a thread of its own, so decoding and storing share two cores. */
	struct ct_sink *async = NULL;
	if (ct_sink_async_new(sink, &async) == 0)
		sink = async; /* else: store on this thread, slower but the same result */
	record_options(sink, c, argc, argv);
	p = ct_pipeline_new(&c->po, sink);
	if (!p) {
		fprintf(stderr, "cachetap %s: out of memory\n", c->cmd);
		ct_sink_close(sink);
		ct_source_close(src);
		return 1;
	}
	running_source = src;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = ct_pipeline_run(p, src, &stop_flag);
	running_source = NULL;
	ct_pipeline_summary(p, stderr);
	ct_pipeline_free(p);
	ct_sink_close(sink);
	ct_source_close(src);
	return rc ? 1 : 0;
}

static int cmd_replay(int argc, char **argv)
{
	struct cli c;
	int rc = parse(&c, argc, argv, 0);
	if (rc == 1) {
		usage_replay(stdout);
		return 0;
	}
	if (rc)
		return EXIT_USAGE;
	int nfiles = argc - optind;
	if (nfiles <= 0) {
		fprintf(stderr, "cachetap replay: no FILE given (see cachetap replay --help)\n");
		return EXIT_USAGE;
	}
	if (nfiles > (int)CT_CAPTURE_MAX_FILES) {
		fprintf(stderr, "cachetap replay: %d files given; at most %u\n", nfiles,
			CT_CAPTURE_MAX_FILES);
		return EXIT_USAGE;
	}
	char err[512];
	struct ct_source *src = NULL;
	rc = ct_source_open_files(&src, (const char *const *)&argv[optind], (uint32_t)nfiles,
				  c.filter, err, sizeof err);
	if (rc) {
		fprintf(stderr, "cachetap replay: %s\n", err);
		return EXIT_USAGE;
	}
	return run(&c, src, argc, argv);
}

static int cmd_capture(int argc, char **argv)
{
	struct cli c;
	int rc = parse(&c, argc, argv, 1);
	if (rc == 1) {
		usage_capture(stdout);
		return 0;
	}
	if (rc)
		return EXIT_USAGE;
	if (optind < argc) {
		fprintf(stderr, "cachetap capture: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!c.iface) {
		fprintf(stderr, "cachetap capture: -i IFACE is required (see cachetap capture --help)\n");
		return EXIT_USAGE;
	}
	char bpf[2048], err[512];
	build_bpf(&c, bpf, sizeof bpf);
	struct ct_live_opts lo = {
		.iface = c.iface,
		.snaplen = c.snaplen,
		.buffer_bytes = c.buffer_bytes,
		.bpf = bpf,
		.promisc = !c.no_promisc,
	};
	struct ct_source *src = NULL;
	rc = ct_source_open_live(&src, &lo, err, sizeof err);
	if (rc) {
		fprintf(stderr, "cachetap capture: %s\n", err);
		return EXIT_USAGE;
	}
	return run(&c, src, argc, argv);
}

static void usage_timeline(FILE *out)
{
	fprintf(out,
		"usage: cachetap timeline [OPTIONS] DB [KEY]\n"
		"\n"
		"Prints the event timeline of a cachetap database in capture-time order: when each\n"
		"node or client-side cache received each read, write, delete and invalidation of a\n"
		"key. The recipient is the server for client-to-server rows and the client for\n"
		"server-to-client rows (pushes). Works while a capture is still writing DB.\n"
		"\n"
		"options:\n"
		"  -n, --limit N   print at most N events\n"
		"  -h, --help      this help\n"
		"\n"
		"Exit status: 0 done, 2 bad usage or not a cachetap database.\n");
}

static int cmd_timeline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ct_timeline_opts o;
	memset(&o, 0, sizeof o);
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "+:n:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h': usage_timeline(stdout); return 0;
		case 'n': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v == 0) {
				bad("--limit", optarg, "is not a positive number");
				return EXIT_USAGE;
			}
			o.limit = v;
			break;
		}
		case ':':
			fprintf(stderr, "cachetap timeline: option '%s' needs a value\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "cachetap timeline: unknown option '%s' (see cachetap timeline --help)\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	int left = argc - optind;
	if (left < 1 || left > 2) {
		fprintf(stderr, "cachetap timeline: expected DB [KEY] (see cachetap timeline --help)\n");
		return EXIT_USAGE;
	}
	const char *db = argv[optind];
	if (access(db, R_OK) != 0) {
		fprintf(stderr, "cachetap timeline: %s: %s\n", db, strerror(errno));
		return EXIT_USAGE;
	}
	if (left == 2) {
		o.key = (const uint8_t *)argv[optind + 1];
		o.key_len = strlen(argv[optind + 1]);
	}
	char err[512];
	if (ct_timeline_print(db, &o, stdout, err, sizeof err)) {
		fprintf(stderr, "cachetap timeline: %s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage_main(stdout);
		return 0;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("cachetap %s\n", CT_VERSION);
		return 0;
	}
	if (strcmp(cmd, "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (strcmp(cmd, "capture") == 0)
		return cmd_capture(argc - 1, argv + 1);
	if (strcmp(cmd, "timeline") == 0)
		return cmd_timeline(argc - 1, argv + 1);
	fprintf(stderr, "cachetap: unknown command '%s' (see cachetap --help)\n", cmd);
	return EXIT_USAGE;
}
