/* Unit tests of the Redis protocol module (src/redis_pair.c): whole conversations, both
 * directions interleaved as they would arrive, turned into an event log that must match the
 * expected one exactly. Every conversation is fed whole, split at every byte of each step, and
 * one byte at a time, and the three logs must be identical. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/flow.h"
#include "cachetap/proto.h"
#include "tap.h"

/* A step is one direction's bytes: "C..." client to server, "S..." server to client, or
 * "G<offset>,<len>" a gap in the server stream, "g..." in the client stream. */
struct conv {
	const char *name;
	int midstream;
	const char *steps[16];
	const char *want;
};

struct log {
	char buf[16384];
	size_t len;
};

static void on_event(void *ctx, const struct ct_event *e)
{
	struct log *l = ctx;
	char key[256] = "-";
	if (e->flags & CT_EV_HAS_KEY) {
		size_t n = 0;
		for (uint32_t i = 0; i < e->key_len && n + 5 < sizeof key; i++) {
			uint8_t ch = e->key[i];
			if (ch > 0x20 && ch < 0x7f)
				key[n++] = (char)ch;
			else
				n += (size_t)snprintf(key + n, sizeof key - n, "\\x%02x", ch);
		}
		key[n] = '\0';
	}
	char lat[32] = "-";
	if (e->flags & CT_EV_HAS_LATENCY)
		snprintf(lat, sizeof lat, "%" PRIu64, e->latency_ns);
	l->len += (size_t)snprintf(l->buf + l->len, sizeof l->buf - l->len,
				   "%" PRIu64 " %s %s %.*s %s %s %s %s db=%d%s%s%s\n", e->ts_ns,
				   e->dir == CT_C2S ? "c2s" : "s2c", ct_via_name(e->via),
				   (int)e->cmd_len, e->cmd, ct_class_name(e->cls), key,
				   ct_status_name(e->status), lat, e->db,
				   (e->flags & CT_EV_HAS_VALUE) ? " value" : "",
				   e->detail ? " " : "", e->detail ? e->detail : "");
}

/* Runs a conversation feeding each step in pieces of `piece` bytes (0 = whole). */
static void run(const struct conv *cv, const char *const *channels, size_t piece, struct log *l,
		struct ct_proto_stats *st)
{
	struct ct_proto_config cfg = { .values = CT_VALUES_HASH, .channels = channels };
	while (channels && channels[cfg.nchannels])
		cfg.nchannels++;
	struct ct_emit emit = { .event = on_event, .ctx = l };
	struct ct_proto_open o = {
		.conn_id = 1, .midstream = cv->midstream, .cfg = &cfg, .emit = &emit, .stats = st,
	};
	memset(l, 0, sizeof *l);
	memset(st, 0, sizeof *st);
	void *c = ct_proto_redis.open(&o);
	if (!c) {
		ok(0, "%s: open", cv->name);
		return;
	}
	uint64_t off[2] = { 0, 0 };
	for (int i = 0; cv->steps[i]; i++) {
		const char *s = cv->steps[i];
		uint64_t ts = (uint64_t)(i + 1) * 1000;
		int dir = (s[0] == 'C' || s[0] == 'g') ? CT_C2S : CT_S2C;
		if (s[0] == 'G' || s[0] == 'g') {
			uint64_t n = strtoull(s + 1, NULL, 10);
			ct_proto_redis.gap(c, dir, off[dir], n, ts);
			off[dir] += n;
			continue;
		}
		size_t len = strlen(s + 1);
		/* Each piece is a fresh heap copy, so a kept pointer shows up under ASan. */
		for (size_t at = 0; at < len;) {
			size_t n = piece && len - at > piece ? piece : len - at;
			uint8_t *q = malloc(n);
			memcpy(q, s + 1 + at, n);
			ct_proto_redis.data(c, dir, off[dir], q, (uint32_t)n, ts);
			free(q);
			off[dir] += n;
			at += n;
		}
	}
	ct_proto_redis.close(c, 99000);
}

/* `channels`: the --channel globs, NULL-terminated, or NULL for none. */
static void check(const struct conv *cv, const char *const *channels)
{
	static struct log whole, bytes;
	struct ct_proto_stats st, st1;
	run(cv, channels, 0, &whole, &st);
	is_str(whole.buf, cv->want, "%s", cv->name);
	run(cv, channels, 1, &bytes, &st1);
	is_str(bytes.buf, whole.buf, "%s: one byte at a time", cv->name);
	/* Split each step in two at every position of the longest step. */
	size_t longest = 0;
	for (int i = 0; cv->steps[i]; i++)
		if (strlen(cv->steps[i]) > longest)
			longest = strlen(cv->steps[i]);
	int bad = 0;
	for (size_t p = 2; p < longest; p++) {
		static struct log split;
		run(cv, channels, p, &split, &st1);
		if (strcmp(split.buf, whole.buf) != 0 && !bad++)
			diag("pieces of %zu bytes give:\n%s", p, split.buf);
	}
	is_int(bad, 0, "%s: every piece size", cv->name);
}

static const struct conv convs[] = {
	/* Aggregate answers to one-key reads are framed without being reported (ct_resp_quiet):
	 * hit or miss comes from their non-null children, nested arrays included. */
	{ "LRANGE, XRANGE (nested), empty and all-nil answers, then a pipelined GET",
	  0,
	  { "C*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n"
	    "*4\r\n$6\r\nLRANGE\r\n$1\r\ne\r\n$1\r\n0\r\n$2\r\n-1\r\n"
	    "*4\r\n$6\r\nXRANGE\r\n$1\r\ns\r\n$1\r\n-\r\n$1\r\n+\r\n"
	    "*4\r\n$5\r\nHMGET\r\n$1\r\nh\r\n$1\r\na\r\n$1\r\nb\r\n"
	    "*2\r\n$3\r\nGET\r\n$1\r\ng\r\n",
	    "S*3\r\n$1\r\nx\r\n$2\r\nyy\r\n$-1\r\n*0\r\n"
	    "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$-1\r\n$-1\r\n$2\r\ngv\r\n",
	    NULL },
	  "1000 c2s command LRANGE read l hit 1000 db=0\n"
	  "1000 c2s command LRANGE read e miss 1000 db=0\n"
	  "1000 c2s command XRANGE read s hit 1000 db=0\n"
	  "1000 c2s command HMGET read h miss 1000 db=0\n"
	  "1000 c2s command GET read g hit 1000 db=0 value\n" },
	{ "pipelined SET, GET hit, GET miss",
	  0,
	  { "C*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
	    "*2\r\n$3\r\nget\r\n$1\r\nb\r\n",
	    "S+OK\r\n$1\r\n1\r\n$-1\r\n", NULL },
	  "1000 c2s command SET write a ok 1000 db=0 value\n"
	  "1000 c2s command GET read a hit 1000 db=0 value\n"
	  "1000 c2s command GET read b miss 1000 db=0\n" },
	{ "MGET with a miss, DEL of two keys, an error",
	  0,
	  { "C*3\r\n$4\r\nMGET\r\n$1\r\nx\r\n$1\r\ny\r\n", "S*2\r\n$2\r\nvx\r\n$-1\r\n",
	    "C*3\r\n$3\r\nDEL\r\n$1\r\nx\r\n$1\r\ny\r\n", "S:1\r\n",
	    "C*2\r\n$4\r\nINCR\r\n$1\r\nh\r\n", "S-WRONGTYPE Operation against a key\r\n", NULL },
	  "1000 c2s command MGET read x hit 1000 db=0 value\n"
	  "1000 c2s command MGET read y miss 1000 db=0\n"
	  "3000 c2s command DEL delete x ok 1000 db=0\n"
	  "3000 c2s command DEL delete y ok 1000 db=0\n"
	  "5000 c2s command INCR write h error 1000 db=0\n" },
	{ "CLIENT REPLY OFF, SKIP and ON",
	  0,
	  { "C*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"
	    "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n",
	    "S+OK\r\n",
	    "C*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n*2\r\n$3\r\nDEL\r\n$1\r\nm\r\n"
	    "*2\r\n$3\r\nDEL\r\n$1\r\nn\r\n",
	    "S:1\r\n", NULL },
	  "1000 c2s command CLIENT other - noreply - db=0\n"
	  "1000 c2s command DEL delete k noreply - db=0\n"
	  "1000 c2s command CLIENT other - ok 1000 db=0\n"
	  "3000 c2s command CLIENT other - noreply - db=0\n"
	  "3000 c2s command DEL delete m noreply - db=0\n"
	  "3000 c2s command DEL delete n ok 1000 db=0\n" },
	{ "MULTI/EXEC: writes take effect at EXEC",
	  0,
	  { "C*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n2\r\n"
	    "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n",
	    "S+OK\r\n+QUEUED\r\n+QUEUED\r\n", "C*1\r\n$4\r\nEXEC\r\n",
	    "S*2\r\n+OK\r\n$-1\r\n", NULL },
	  "1000 c2s command MULTI other - ok 1000 db=0\n"
	  "3000 c2s command SET write a ok 1000 db=0 value in MULTI\n"
	  "3000 c2s command GET read b miss 1000 db=0 in MULTI\n"
	  "3000 c2s command EXEC other - ok 1000 db=0\n" },
	{ "HELLO 3, an invalidate push between replies, flush-all push",
	  0,
	  { "C*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", "S%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n",
	    "C*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n",
	    "S$1\r\nv\r\n>2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\nk1\r\n$2\r\nk9\r\n$-1\r\n",
	    "S>2\r\n$10\r\ninvalidate\r\n_\r\n", NULL },
	  "1000 c2s command HELLO other - ok 1000 db=0\n"
	  "3000 c2s command GET read k1 hit 1000 db=0 value\n"
	  "4000 s2c push INVALIDATE invalidate k1 ok - db=-1\n"
	  "4000 s2c push INVALIDATE invalidate k9 ok - db=-1\n"
	  "3000 c2s command GET read k2 miss 1000 db=0\n"
	  "5000 s2c push INVALIDATE invalidate - ok - db=-1 flush all\n" },
	{ "RESP2 tracking redirect, keyspace and keyevent notifications",
	  0,
	  { "C*2\r\n$9\r\nSUBSCRIBE\r\n$20\r\n__redis__:invalidate\r\n",
	    "S*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n",
	    "S*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$3\r\nfoo\r\n",
	    "C*2\r\n$10\r\nPSUBSCRIBE\r\n$12\r\n__key*@0__:*\r\n",
	    "S*3\r\n$10\r\npsubscribe\r\n$12\r\n__key*@0__:*\r\n:2\r\n",
	    "S*4\r\n$8\r\npmessage\r\n$12\r\n__key*@0__:*\r\n$18\r\n__keyspace@0__:bar\r\n"
	    "$3\r\ndel\r\n",
	    "S*4\r\n$8\r\npmessage\r\n$12\r\n__key*@0__:*\r\n$22\r\n__keyevent@0__:expired\r\n"
	    "$3\r\nbaz\r\n",
	    "S*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n", NULL },
	  "1000 c2s command SUBSCRIBE other __redis__:invalidate ok 1000 db=0\n"
	  "3000 s2c push MESSAGE invalidate foo ok - db=-1 tracking\n"
	  "4000 c2s command PSUBSCRIBE other __key*@0__:* ok 1000 db=0\n"
	  "6000 s2c push PMESSAGE invalidate bar ok - db=0 keyspace del\n"
	  "7000 s2c push PMESSAGE invalidate baz ok - db=0 keyevent expired\n"
	  "8000 s2c push MESSAGE other - ok - db=-1 channel news\n" },
	{ "replication: PSYNC, disk RDB, propagated stream, REPLCONF ACK",
	  0,
	  { "C*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n",
	    "S+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0\r\n",
	    "S\n\n$5\r\nREDIS*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n",
	    "S*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n",
	    "C*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n42\r\n", NULL },
	  "1000 c2s command PSYNC other - ok 1000 db=0\n"
	  "3000 s2c replication SELECT other - ok - db=0\n"
	  "4000 s2c replication SET write k ok - db=3 value\n"
	  "4000 s2c replication DEL delete k ok - db=3\n"
	  "5000 c2s command REPLCONF other - noreply - db=0 ack 42\n" },
	{ "mid-stream: a reply with no command, then SELECT",
	  1,
	  { "S+OK\r\n", "C*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$3\r\nDEL\r\n$1\r\nq\r\n",
	    "S+OK\r\n:0\r\n", NULL },
	  "2000 c2s command SELECT other - ok 1000 db=-1\n"
	  "2000 c2s command DEL delete q ok 1000 db=2\n" },
	{ "a gap in the server stream: pending commands are unanswered",
	  0,
	  { "C*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n", "G9",
	    "C*2\r\n$3\r\nGET\r\n$1\r\nc\r\n", "S$1\r\nz\r\n", NULL },
	  "1000 c2s command GET read a unanswered - db=0\n"
	  "1000 c2s command GET read b unanswered - db=0\n"
	  "3000 c2s command GET read c hit 1000 db=0 value\n" },
	{ "inline commands and the connection ends with one pending",
	  0,
	  { "CSET foo bar\r\nGET foo\r\n", "S+OK\r\n", NULL },
	  "1000 c2s command SET write foo ok 1000 db=0 value\n"
	  "1000 c2s command GET read foo unanswered - db=0\n" },
	/* Regressions from the golden comparisons (tests/golden/redis_zeek.t). */
	{ "unbalanced quotes: the -ERR answers the rejected request, not the next one",
	  /* zeek pipeline-quotes.pcap: Redis answers the bad line and closes unread */
	  0,
	  { "CSET a 1\r\nSET b \"x y\r\nGET a\r\nSET c 'z\r\n",
	    "S+OK\r\n-ERR Protocol error: unbalanced quotes in request\r\n", NULL },
	  "1000 c2s command SET write a ok 1000 db=0 value\n"
	  "1000 c2s command SET write b error 1000 db=0 protocol error: unbalanced quotes in an "
	  "inline command\n"
	  "1000 c2s command GET read a unanswered - db=0\n" },
	{ "a rejected request nobody answered gives no event (Redis never read it)",
	  /* zeek-history tls.pcap: a TLS ClientHello on 6379 is no Redis request */
	  0,
	  { "CSET a \"x\r\n", "S", NULL },
	  "" },
	{ "invalid multibulk length: the -ERR answers it, the PING after it is unanswered",
	  /* tcpdump resp_3_malicious.pcap, the connection from port 52767 */
	  0,
	  { "C*2\r\n$4\r\nPING\r\n$1\r\nx\r\n*100000000000000000000000000\r\n*1\r\n$4\r\nPING\r\n",
	    "S$1\r\nx\r\n-ERR Protocol error: invalid multibulk length\r\n", NULL },
	  "1000 c2s command PING other - ok 1000 db=0\n"
	  "1000 c2s command  other - error 1000 db=0 protocol error: count out of range\n"
	  "1000 c2s command PING other - unanswered - db=0\n" },
	{ "SUBSCRIBE answered by an error: pairing does not slip",
	  0,
	  { "C*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
	    "S-NOPERM this user has no permissions to access one of the channels\r\n$1\r\nv\r\n",
	    NULL },
	  "1000 c2s command SUBSCRIBE other ch error 1000 db=0\n"
	  "1000 c2s command GET read k hit 1000 db=0 value\n" },
	{ "SUBSCRIBE a b, SUBSCRIBE c: each answered by its own first confirmation",
	  0,
	  { "C*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n",
	    "S*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
	    "S*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n",
	    "S*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:3\r\n", NULL },
	  "1000 c2s command SUBSCRIBE other a ok 1000 db=0\n"
	  "1000 c2s command SUBSCRIBE other b ok 1000 db=0\n"
	  "1000 c2s command SUBSCRIBE other c ok 3000 db=0\n" },
	{ "the capture ends between a value and its CRLF: the reply is whole",
	  /* deepflow redis.pcap: a 490 KB GET reply whose last 2 bytes were not captured */
	  0,
	  { "C*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "S$5\r\nhel", "Slo", NULL },
	  "1000 c2s command GET read k hit 2000 db=0 value\n" },
};

/* The application invalidation bus (--channel): the publisher's side, then a subscriber's. */
#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X600 X100 X100 X100 X100 X100 X100
static const struct {
	struct conv cv;
	const char *channels[4]; /* --channel globs, NULL-terminated */
} bus_convs[] = {
	{ { "bus: PUBLISH on a --channel channel is a publish of the key in its payload",
	  0,
	  { "C*3\r\n$7\r\nPUBLISH\r\n$9\r\napp-inval\r\n$2\r\nk2\r\n", "S:1\r\n",
	    "C*3\r\n$7\r\nPUBLISH\r\n$9\r\napp-inval\r\n$23\r\n{\"key\":\"user:42\",\"v\":7}\r\n",
	    "S:1\r\n",
	    "C*3\r\n$7\r\nPUBLISH\r\n$9\r\napp-inval\r\n$7\r\n{\"v\":7}\r\n", "S:0\r\n",
	    "C*3\r\n$7\r\nPUBLISH\r\n$4\r\nnews\r\n$5\r\nhello\r\n", "S:0\r\n",
	    "C*3\r\n$8\r\nSPUBLISH\r\n$7\r\ninval:x\r\n$9\r\n{user}:42\r\n", "S:1\r\n",
	    "C*3\r\n$7\r\nPUBLISH\r\n$9\r\napp-inval\r\n$600\r\n" X600 "\r\n", "S:1\r\n",
	    "C*1\r\n$5\r\nMULTI\r\n*3\r\n$7\r\nPUBLISH\r\n$9\r\napp-inval\r\n$2\r\nk5\r\n"
	    "*1\r\n$4\r\nEXEC\r\n",
	    "S+OK\r\n+QUEUED\r\n*1\r\n:1\r\n", NULL },
	  "1000 c2s command PUBLISH publish k2 ok 1000 db=0 channel app-inval\n"
	  "3000 c2s command PUBLISH publish user:42 ok 1000 db=0 channel app-inval\n"
	  "5000 c2s command PUBLISH publish - ok 1000 db=0 channel app-inval: JSON payload "
	  "without a string \"key\"\n"
	  "7000 c2s command PUBLISH publish news ok 1000 db=0\n"
	  "9000 c2s command SPUBLISH publish {user}:42 ok 1000 db=0 channel inval:x\n"
	  "11000 c2s command PUBLISH publish - ok 1000 db=0 channel app-inval: payload too long "
	  "(cut by the decoder)\n"
	  "13000 c2s command MULTI other - ok 1000 db=0\n"
	  "13000 c2s command PUBLISH publish k5 ok 1000 db=0 channel app-inval; in MULTI\n"
	  "13000 c2s command EXEC other - ok 1000 db=0\n" },
	  { "app-inval", "inval:*", NULL } },
	{ { "bus: message and pmessage on a --channel channel invalidate the key at the subscriber",
	  0,
	  { "C*2\r\n$9\r\nSUBSCRIBE\r\n$9\r\napp-inval\r\n",
	    "S*3\r\n$9\r\nsubscribe\r\n$9\r\napp-inval\r\n:1\r\n",
	    "S*3\r\n$7\r\nmessage\r\n$9\r\napp-inval\r\n$2\r\nk2\r\n",
	    "S*3\r\n$7\r\nmessage\r\n$9\r\napp-inval\r\n$12\r\n{\"key\":\"k3\"}\r\n",
	    "S*3\r\n$7\r\nmessage\r\n$9\r\napp-inval\r\n$11\r\n{\"nokey\":1}\r\n",
	    "S*3\r\n$7\r\nmessage\r\n$9\r\napp-inval\r\n$600\r\n" X600 "\r\n",
	    "S*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n",
	    "C*2\r\n$10\r\nPSUBSCRIBE\r\n$5\r\napp-*\r\n",
	    "S*3\r\n$10\r\npsubscribe\r\n$5\r\napp-*\r\n:2\r\n",
	    "S*4\r\n$8\r\npmessage\r\n$5\r\napp-*\r\n$9\r\napp-inval\r\n$2\r\nk4\r\n",
	    "S*4\r\n$8\r\npmessage\r\n$5\r\napp-*\r\n$8\r\napp-news\r\n$2\r\nk6\r\n", NULL },
	  "1000 c2s command SUBSCRIBE other app-inval ok 1000 db=0\n"
	  "3000 s2c push MESSAGE invalidate k2 ok - db=-1 channel app-inval\n"
	  "4000 s2c push MESSAGE invalidate k3 ok - db=-1 channel app-inval\n"
	  "5000 s2c push MESSAGE invalidate - ok - db=-1 channel app-inval: JSON payload without a "
	  "string \"key\"\n"
	  "6000 s2c push MESSAGE invalidate - ok - db=-1 channel app-inval: payload too long (cut by "
	  "the decoder)\n"
	  "7000 s2c push MESSAGE other - ok - db=-1 channel news\n"
	  "8000 c2s command PSUBSCRIBE other app-* ok 1000 db=0\n"
	  "10000 s2c push PMESSAGE invalidate k4 ok - db=-1 channel app-inval\n"
	  "11000 s2c push PMESSAGE other - ok - db=-1 channel app-news\n" },
	  { "app-inval", NULL } },
};

int main(void)
{
	for (size_t i = 0; i < CT_ARRAY_LEN(convs); i++)
		check(&convs[i], NULL);
	for (size_t i = 0; i < CT_ARRAY_LEN(bus_convs); i++)
		check(&bus_convs[i].cv, bus_convs[i].channels);
	return done_testing();
}
