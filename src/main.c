/* The cachetap command line (SPEC section 2): parses options and wires a source, the pipeline
 * and a sink together. It holds no logic of its own beyond argument checking: every bad
 * argument gets a one-line error naming it and exit code 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachetap/capture.h"
#include "cachetap/cli.h"
#include "cachetap/drive.h"
#include "cachetap/limits.h"
#include "cachetap/net.h"
#include "cachetap/pipeline.h"
#include "cachetap/privdrop.h"
#include "cachetap/proto.h"
#include "cachetap/report.h"
#include "cachetap/sink_async.h"
#include "cachetap/store.h"

#define EXIT_USAGE 2

static atomic_int stop_flag; /* lock-free: safe in a signal handler */
static struct ct_source *running_source;

/* The first SIGINT/SIGTERM stops reading: everything decoded so far is committed, then the
 * connections still open are finished, and the run ends with its summary line. A second
 * signal exits at once, from here: SQLite's WAL keeps the database consistent, and it holds
 * every batch committed before (the pipeline commits as soon as it sees the first signal), so
 * what is lost is at most the events of the finishing step. */
static void on_signal(int sig)
{
	if (stop_flag) {
		static const char msg[] = "cachetap: second signal: exiting at once; the database "
					  "holds what was committed before it\n";
		ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
		(void)w;
		_exit(128 + sig);
	}
	stop_flag = 1;
	if (running_source)
		ct_source_break(running_source);
}

/* Installed before anything is opened, so that a signal during start-up still ends the run
 * with its summary line rather than killing it. */
static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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
		"  drive   [OPTIONS] SCENARIO  run a test scenario (HTTP calls, cache checks, waits for\n"
		"                              invalidations); with -i IFACE it also captures\n"
		"  report  [OPTIONS] DB        propagation report: --format text|json|html|csv\n"
		"\n"
		"'cachetap COMMAND --help' describes each command. cachetap --version prints the version.\n");
}

static const char common_help[] =
	"  -w, --db FILE          SQLite database to write (default cachetap.db); an existing\n"
	"                         file is replaced only if it is a cachetap database\n"
	"      --redis PORTS      TCP ports decoded as RESP, comma list (default 6379)\n"
	"      --memcached PORTS  TCP/UDP ports decoded as memcached (default 11211)\n"
	"      --http PORTS       TCP ports of the HTTP API (default 80,8080): HTTP/1.x calls go\n"
	"                         to api_calls; never guessed as Redis or memcached\n"
	"      --decode LIST      protocols to decode: redis,memcached,http (default all), or\n"
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
		"      --user NAME        once the interface and the database are open, run as NAME\n"
		"                         (default: nobody, when it exists); --user '' (or no user\n"
		"                         nobody) keeps the uid but gives up every capability\n"
		"%s",
		common_help);
}

enum {
	OPT_DURATION = CT_CLI_OPT_OWN,
	OPT_LIMIT,
	OPT_USER,
};

static const struct option long_opts[] = {
	CT_CLI_LONG_OPTIONS,
	{ "user", required_argument, NULL, OPT_USER },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	const char *cmd;
	const char *db;
	const char *iface;
	uint32_t buffer_bytes, snaplen;
	int no_promisc, quiet;
	const char *user; /* --user: NULL = the default (privdrop.h) */
	struct ct_cli_capture cap; /* ports, nodes, channels, decode, values, filter (cli.h) */
	struct ct_pipeline_opts po;
};

static int parse_duration(const char *arg, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > 0) || v > 1e7)
		return ct_cli_bad("--duration", arg, "is not a number of seconds (> 0)");
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

static int is_live_only(int ch)
{
	return ch == 'i' || ch == 'B' || ch == 's' || ch == 'p' || ch == OPT_DURATION ||
	       ch == CT_CLI_OPT_ALL_PORTS || ch == OPT_USER;
}

/* Parses the options of replay/capture. Returns 0, 1 when --help was printed, or an error. */
static int parse(struct cli *c, int argc, char **argv, int live)
{
	int rc = 0;
	memset(c, 0, sizeof *c);
	c->cmd = argv[0];
	c->db = "cachetap.db";
	c->po.command = argv[0];
	ct_cli_set_command(c->cmd);
	ct_cli_capture_init(&c->cap);

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
		case 'f': c->cap.filter = optarg; break;
		case 'q': c->quiet = 1; break;
		case 'h': return 1;
		case CT_CLI_OPT_REDIS: rc = ct_cli_ports("--redis", optarg, &c->cap.redis); break;
		case CT_CLI_OPT_MEMCACHED: rc = ct_cli_ports("--memcached", optarg, &c->cap.memcached); break;
		case CT_CLI_OPT_HTTP: rc = ct_cli_ports("--http", optarg, &c->cap.http); break;
		case CT_CLI_OPT_DECODE: rc = ct_cli_decode(optarg, &c->cap.decode); break;
		case CT_CLI_OPT_CHANNEL: rc = ct_cli_channel(&c->cap, optarg); break;
		case CT_CLI_OPT_NODE: rc = ct_cli_node(&c->cap, optarg); break;
		case CT_CLI_OPT_VALUES: rc = ct_cli_values(optarg, &c->cap.values); break;
		case 'i': c->iface = optarg; break;
		case 'B':
			rc = ct_cli_size("--buffer-size", optarg, CT_CAPTURE_BUFFER_BYTES_MIN, 1u << 31,
					 &c->buffer_bytes);
			break;
		case 's': rc = ct_cli_size("--snaplen", optarg, 64, 262144, &c->snaplen); break;
		case OPT_DURATION: rc = parse_duration(optarg, &c->po.duration_ns); break;
		case CT_CLI_OPT_ALL_PORTS: c->cap.all_ports = 1; break;
		case OPT_USER: {
			char why[256];
			c->user = optarg;
			if (ct_privdrop_check(optarg, why, sizeof why))
				rc = ct_cli_bad("--user", optarg, "is not a user on this system");
			break;
		}
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
	memcpy(c->po.redis_ports, c->cap.redis.map, CT_PORTMAP_BYTES);
	memcpy(c->po.memcached_ports, c->cap.memcached.map, CT_PORTMAP_BYTES);
	memcpy(c->po.http_ports, c->cap.http.map, CT_PORTMAP_BYTES);
	c->po.decode = c->cap.decode;
	c->po.values = c->cap.values;
	c->po.channels = c->cap.channels;
	c->po.nchannels = c->cap.nchannels;
	return 0;
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
	/* A live capture needs no privilege from here on: the device is open, and so is the
	 * database with its WAL and shared-memory files (ct_store_open wrote to it). Before
	 * any thread starts, since capabilities are per thread. */
	char dropped[128] = "";
	if (c->iface && ct_privdrop(c->user, dropped, sizeof dropped, err, sizeof err)) {
		fprintf(stderr, "cachetap %s: %s\n", c->cmd, err);
		ct_sink_close(sink);
		ct_source_close(src);
		return 1;
	}
	/* SQLite writes on a thread of its own, so decoding and storing share two cores. */
	struct ct_sink *async = NULL;
	if (ct_sink_async_new(sink, &async) == 0)
		sink = async; /* else: store on this thread, slower but the same result */
	ct_cli_record(sink, &c->cap, c->cmd, argc, argv);
	if (dropped[0])
		sink->ops->meta(sink, "privileges", dropped);
	p = ct_pipeline_new(&c->po, sink);
	if (!p) {
		fprintf(stderr, "cachetap %s: out of memory\n", c->cmd);
		ct_sink_close(sink);
		ct_source_close(src);
		return 1;
	}
	running_source = src;

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
				  c.cap.filter, err, sizeof err);
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
	ct_cli_bpf(&c.cap, bpf, sizeof bpf);
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
				ct_cli_bad("--limit", optarg, "is not a positive number");
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
	if (strcmp(cmd, "replay") == 0) {
		catch_signals();
		return cmd_replay(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "capture") == 0) {
		catch_signals();
		return cmd_capture(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "timeline") == 0)
		return cmd_timeline(argc - 1, argv + 1);
	if (strcmp(cmd, "drive") == 0)
		return ct_cmd_drive(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return ct_cmd_report(argc - 1, argv + 1);
	fprintf(stderr, "cachetap: unknown command '%s' (see cachetap --help)\n", cmd);
	return EXIT_USAGE;
}
