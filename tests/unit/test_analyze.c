/* Unit tests of the propagation analysis (src/analyze.c, SPEC section 6): small hand-made
 * timelines written through the real store (connections, events, nodes, drop samples) plus
 * api_calls rows, then ct_analyze, then the exact rows of every analysis table. Times are
 * small integers (ns); the deadline is set per test. One larger timeline (100k events) checks
 * that the analysis scales; its time is printed, never asserted. */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cachetap/analyze.h"
#include "cachetap/event.h"
#include "cachetap/sink.h"
#include "cachetap/store.h"
#include "tap.h"

#define R0 "10.0.0.10:6379"
#define R1 "10.0.0.11:6379"
#define R2 "10.0.0.12:6379"
#define R3 "10.0.0.13:6379"
#define R4 "10.0.0.14:6379"
#define M0 "10.0.0.20:11211"
#define M1 "10.0.0.21:11211"
#define API "10.0.0.1:8080"

static char tmpdir[] = "/tmp/ct-analyze-XXXXXX";
static char dbpath[512];
static struct ct_sink *sk;
static int ntest;

static void bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

static void db_new(void)
{
	char err[256];
	snprintf(dbpath, sizeof dbpath, "%s/t%d.db", tmpdir, ++ntest);
	if (ct_store_open(&sk, dbpath, err, sizeof err))
		bail(err);
}

static void conn_full(uint64_t id, const char *cli, const char *srv, uint64_t first, uint64_t last,
		      uint64_t gaps)
{
	struct ct_conn_rec c;
	memset(&c, 0, sizeof c);
	c.id = id;
	c.proto = "tcp";
	c.client = cli;
	c.server = srv;
	c.orient = "syn";
	c.close_reason = "end";
	c.first_ts_ns = first;
	c.last_ts_ns = last;
	c.gaps[0] = gaps;
	if (sk->ops->conn(sk, &c))
		bail("conn");
}

static void conn(uint64_t id, const char *cli, const char *srv)
{
	conn_full(id, cli, srv, 1, 1000000, 0);
}

/* A replica's replication link: its client side is the node `replica`. */
static void repl_link(uint64_t id, const char *cli, const char *primary, const char *replica)
{
	conn_full(id, cli, primary, 1, 1, 0);
	struct ct_node_rec n = { replica, replica, "replica", "replconf", id, 1 };
	if (sk->ops->node(sk, &n))
		bail("node");
}

enum { C2S = 0, S2C = 1 };
enum { CMD = CT_VIA_COMMAND, PUSH = CT_VIA_PUSH, REPL = CT_VIA_REPLICATION };

struct tev {
	uint64_t conn, ts, first;
	int dir, via, cls, st;
	const char *cmd, *key, *detail;
	uint64_t val, lat;
	int mc;
};

static int64_t nev;

static int64_t add_ev(const struct tev *t)
{
	struct ct_event e;
	memset(&e, 0, sizeof e);
	e.conn_id = t->conn;
	e.ts_ns = t->ts;
	e.first_ts_ns = t->first ? t->first : t->ts;
	e.db = t->mc ? -1 : 0;
	e.proto = t->mc ? CT_PROTO_MEMCACHED : CT_PROTO_REDIS;
	e.dir = (uint8_t)t->dir;
	e.via = (uint8_t)t->via;
	e.cls = (uint8_t)t->cls;
	e.status = (uint8_t)t->st;
	e.cmd = t->cmd;
	e.cmd_len = (uint32_t)strlen(t->cmd);
	e.detail = t->detail;
	if (t->key) {
		e.flags |= CT_EV_HAS_KEY;
		e.key = (const uint8_t *)t->key;
		e.key_len = (uint32_t)strlen(t->key);
	}
	if (t->val) {
		e.flags |= CT_EV_HAS_VALUE;
		e.value_hash = t->val;
	}
	if (t->lat) {
		e.flags |= CT_EV_HAS_LATENCY;
		e.latency_ns = t->lat;
	}
	if (sk->ops->event(sk, &e))
		bail("event");
	return ++nev;
}

#define EV(...) add_ev(&(struct tev){ __VA_ARGS__ })
#define GET(c, t, k, v) EV(.conn = c, .ts = t, .cls = CT_CLASS_READ, .cmd = "GET", .key = k, \
			   .val = v, .st = (v) ? CT_STATUS_HIT : CT_STATUS_MISS)
#define MGET(c, t, k, v) EV(.conn = c, .ts = t, .cls = CT_CLASS_READ, .cmd = "GET", .key = k, \
			    .val = v, .st = (v) ? CT_STATUS_HIT : CT_STATUS_MISS, .mc = 1)

static void drop_sample(uint64_t ts, uint64_t drops)
{
	struct ct_drop_sample d = { ts, 1000, drops, 0 };
	if (sk->ops->drops(sk, &d))
		bail("drops");
}

/* Ends the capture and opens the database for the analysis. */
static sqlite3 *db_done(void)
{
	ct_sink_close(sk);
	sk = NULL;
	nev = 0;
	sqlite3 *db;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		bail("open");
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static void sql(sqlite3 *db, const char *s)
{
	char *msg = NULL;
	if (sqlite3_exec(db, s, NULL, NULL, &msg) != SQLITE_OK) {
		printf("# %s: %s\n", s, msg ? msg : "?");
		sqlite3_free(msg);
		bail("sql");
	}
}

/* IFACES section A. */
static void api_table(sqlite3 *db)
{
	sql(db, "CREATE TABLE IF NOT EXISTS api_calls(id INTEGER PRIMARY KEY, request_id TEXT,"
		" method TEXT, path TEXT, status INTEGER, ts_start_ns INTEGER, ts_end_ns INTEGER,"
		" source TEXT NOT NULL, conn_id INTEGER, client TEXT, server TEXT, traceparent TEXT,"
		" ts_req_end_ns INTEGER, ts_resp_start_ns INTEGER, req_body_bytes INTEGER,"
		" resp_body_bytes INTEGER, wire INTEGER NOT NULL DEFAULT 0,"
		" driver INTEGER NOT NULL DEFAULT 0, step TEXT, curl_dns_ns INTEGER,"
		" curl_connect_ns INTEGER, curl_ttfb_ns INTEGER, curl_total_ns INTEGER)");
}

static void call(sqlite3 *db, int id, const char *method, const char *path, int status,
		 long long start, long long end)
{
	char s[512];
	api_table(db);
	snprintf(s, sizeof s,
		 "INSERT INTO api_calls(id, method, path, status, ts_start_ns, ts_end_ns, source,"
		 " server, wire) VALUES (%d, '%s', '%s', %d, %lld, %lld, 'wire', '" API "', 1)",
		 id, method, path, status, start, end);
	sql(db, s);
}

/* The rows of a query: columns joined by '|', rows ended by '\n', NULL as '-'. */
static const char *q(sqlite3 *db, const char *s)
{
	static char out[16384];
	size_t o = 0;
	sqlite3_stmt *st;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, s, -1, &st, NULL) != SQLITE_OK) {
		snprintf(out, sizeof out, "error: %s", sqlite3_errmsg(db));
		return out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? "|" : "",
					      t ? (const char *)t : "-");
			if (o >= sizeof out)
				bail("query output too long");
		}
		o += (size_t)snprintf(out + o, sizeof out - o, "\n");
	}
	sqlite3_finalize(st);
	return out;
}

static struct ct_analyze_result run(sqlite3 *db, uint64_t deadline, const struct ct_key_map *maps,
				    uint32_t nmaps)
{
	struct ct_analyze_opts o = { deadline, maps, nmaps };
	struct ct_analyze_result r;
	int rc = ct_analyze(db, &o, &r);
	is_int(rc, 0, "ct_analyze returns 0 (%s)", rc ? sqlite3_errmsg(db) : "ok");
	return r;
}

#define PROP_COLS                                                                             \
	"SELECT origin_id, recipient, arrival_ts_ns, latency_ns, via, arrival_class, arrival_cmd," \
	" proto, missed FROM propagation ORDER BY origin_id, recipient"
#define ORIGIN_COLS                                                                           \
	"SELECT id, api_call_id, key, origin_ts_ns, ack_ts_ns, event_id, cmd, class, node, valid" \
	" FROM origins ORDER BY id"
#define STALE_READS "SELECT * FROM stale_reads ORDER BY ts_ns"
#define STALE_SETS "SELECT * FROM stale_sets ORDER BY ts_ns"

/* Every allocation of an analysis (SQLite's included) made to fail in turn: each run fails
 * cleanly (CT_ENOMEM or CT_ESQL) or gives the full result, leaks nothing, leaves no
 * transaction open, and never leaves half-written tables. */
static void alloc_fail_loop(const char *what, const struct ct_key_map *maps, uint32_t nmaps)
{
	struct ct_analyze_opts o = { 5000, maps, nmaps };
	struct ct_analyze_result r;
	sqlite3 *db;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		bail("open");
	is_int(ct_analyze(db, &o, &r), 0, "%s: reference run", what);
	char want[4096];
	snprintf(want, sizeof want, "%s", q(db, PROP_COLS));
	sqlite3_close(db);
	ct_alloc_fail_at(0);
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		bail("open");
	uint64_t before = ct_alloc_count();
	if (ct_analyze(db, &o, &r))
		bail("analyze");
	uint64_t k = ct_alloc_count() - before;
	sqlite3_close(db);
	uint64_t bad = 0, failed = 0;
	for (uint64_t n = 1; n <= k; n++) {
		int64_t live = ct_alloc_live();
		if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
			bail("open");
		sql(db, "PRAGMA synchronous=OFF"); /* thousands of commits: no fsync each */
		ct_alloc_fail_at(n);
		int rc = ct_analyze(db, &o, &r);
		ct_alloc_fail_at(0);
		failed += rc != 0;
		if ((rc != 0 && rc != CT_ENOMEM && rc != CT_ESQL) || !sqlite3_get_autocommit(db)) {
			if (!bad++)
				diag("%s: allocation %" PRIu64 " failed: rc %d, autocommit %d", what, n,
				     rc, sqlite3_get_autocommit(db));
		}
		/* A failed run changed nothing: the tables still hold the last full result. */
		if (strcmp(q(db, PROP_COLS), want) != 0 && !bad++)
			diag("%s: allocation %" PRIu64 " failed: the tables changed", what, n);
		sqlite3_close(db);
		if (ct_alloc_live() != live && !bad++)
			diag("%s: allocation %" PRIu64 " failed: %" PRId64 " blocks leaked", what, n,
			     ct_alloc_live() - live);
	}
	ok(k > 100, "%s: %" PRIu64 " allocations in one run", what, k);
	ok(failed > 0, "%s: %" PRIu64 " runs failed cleanly", what, failed);
	is_int(bad, 0, "%s: every allocation failure is clean", what);
}

/* An API write call; a delete arrives at the primary, then at the replica before the call
 * ends; a memcached node that held the key never gets it (missed); a node that never held the
 * key is no recipient, one that never held it but got a delete is; a read exactly at the
 * acknowledgement is not stale, one just after is. */
static void test_basic(void)
{
	db_new();
	conn(1, "10.0.0.1:5001", R0);
	repl_link(2, "10.0.0.11:50000", R0, R1);
	conn(3, "10.0.0.2:6000", R1);
	conn(4, "10.0.0.1:5002", M0);
	conn(5, "10.0.0.1:5003", R2);
	conn(6, "10.0.0.1:5004", R4);
	GET(1, 100, "k", 0xa);
	GET(3, 110, "k", 0xa);
	GET(5, 120, "other", 0);
	MGET(4, 130, "k", 0xa);
	EV(.conn = 1, .ts = 1100, .first = 1095, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k");
	EV(.conn = 2, .ts = 1150, .dir = S2C, .via = REPL, .cls = CT_CLASS_DELETE, .cmd = "DEL",
	   .key = "k");
	EV(.conn = 6, .ts = 1300, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k");
	MGET(4, 2000, "k", 0xa); /* at the acknowledgement: not stale */
	MGET(4, 2001, "k", 0xa); /* after it: stale */
	GET(3, 2002, "k", 0);
	GET(5, 10000, "other", 0);
	sqlite3 *db = db_done();
	call(db, 1, "PUT", "/items/1", 200, 1000, 2000);
	call(db, 2, "GET", "/items/1", 200, 2500, 2600);
	struct ct_analyze_result r = run(db, 5000, NULL, 0);
	is_int(r.api_mode, 1, "basic: api mode");
	is_int(r.origins, 1, "basic: one origin");
	is_int(r.propagation_rows, 4, "basic: four recipients");
	is_int(r.arrivals, 3, "basic: three arrivals");
	is_int(r.missed, 1, "basic: one missed");
	is_int(r.stale_reads, 1, "basic: one stale read");
	is_int(r.valid, 1, "basic: valid");
	is_str(q(db, ORIGIN_COLS), "1|1|k|1000|2000|5|DEL|delete|" R0 "|1\n", "basic: origin");
	is_str(q(db, PROP_COLS),
	       "1|" R0 "|1100|100|command|delete|DEL|redis|0\n"
	       "1|" R1 "|1150|150|replication|delete|DEL|redis|0\n"
	       "1|" R4 "|1300|300|command|delete|DEL|redis|0\n"
	       "1|" M0 "|-|-|-|-|-|memcached|1\n",
	       "basic: propagation (arrival before the call ended, missed, no R2)");
	is_str(q(db, STALE_READS), "2001|" M0 "|k|1|1|1|9|000000000000000a\n",
	       "basic: the read at the acknowledgement is not stale, the next one is");
	is_str(q(db, "SELECT value FROM analysis_meta WHERE key IN ('mode', 'valid', 'origins')"
		     " ORDER BY key"),
	       "api\n1\n1\n", "basic: analysis_meta");
	/* A rerun replaces the tables. */
	r = run(db, 5000, NULL, 0);
	is_int(r.propagation_rows, 4, "basic: rerun gives the same rows");
	is_str(q(db, "SELECT COUNT(*) FROM propagation"), "4\n", "basic: rerun replaced the table");
	sqlite3_close(db);
}

/* Two overlapping write calls on one key: each has its own origin, arrivals are reckoned from
 * each origin's first command, and a read is checked against the latest acknowledged one. */
static void test_concurrent(void)
{
	db_new();
	conn(1, "10.0.0.1:5001", R0);
	repl_link(2, "10.0.0.11:50000", R0, R1);
	conn(3, "10.0.0.2:6000", R1);
	GET(1, 100, "k", 0xa0);
	EV(.conn = 1, .ts = 1500, .first = 1490, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "k",
	   .val = 0xa1);
	EV(.conn = 2, .ts = 1600, .dir = S2C, .via = REPL, .cls = CT_CLASS_WRITE, .cmd = "SET",
	   .key = "k", .val = 0xa1);
	EV(.conn = 1, .ts = 2500, .first = 2490, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "k",
	   .val = 0xa2);
	EV(.conn = 2, .ts = 2600, .dir = S2C, .via = REPL, .cls = CT_CLASS_WRITE, .cmd = "SET",
	   .key = "k", .val = 0xa2);
	GET(3, 3500, "k", 0xa1); /* A's value after A's ack, during B: fine */
	GET(3, 3600, "k", 0xa0); /* the value before A after A's ack: stale for A */
	GET(3, 4500, "k", 0xa1); /* A's value after B's ack: stale for B */
	GET(3, 4600, "k", 0xa2);
	GET(3, 20000, "z", 0);
	sqlite3 *db = db_done();
	call(db, 1, "PUT", "/a", 200, 1000, 3000);
	call(db, 2, "PUT", "/b", 200, 2000, 4000);
	struct ct_analyze_result r = run(db, 5000, NULL, 0);
	is_int(r.origins, 2, "concurrent: two origins");
	is_str(q(db, ORIGIN_COLS),
	       "1|1|k|1000|3000|2|SET|write|" R0 "|1\n"
	       "2|2|k|2000|4000|4|SET|write|" R0 "|1\n",
	       "concurrent: origins");
	is_str(q(db, PROP_COLS),
	       "1|" R0 "|1500|500|command|write|SET|redis|0\n"
	       "1|" R1 "|1600|600|replication|write|SET|redis|0\n"
	       "2|" R0 "|2500|500|command|write|SET|redis|0\n"
	       "2|" R1 "|2600|600|replication|write|SET|redis|0\n",
	       "concurrent: each origin's own arrivals");
	is_str(q(db, STALE_READS),
	       "3600|" R1 "|k|1|600|1|7|00000000000000a0\n"
	       "4500|" R1 "|k|2|500|2|8|00000000000000a1\n",
	       "concurrent: stale reads against the latest acknowledged origin");
	sqlite3_close(db);
}

/* Write-through SETs to two memcached nodes (the second is an arrival); a reader re-sets the
 * old value after the arrival (stale set) and reads it back (stale read); --key-map origins
 * for an invalidation sent after the response, and for one never sent. */
static void test_write_through_keymap(void)
{
	db_new();
	conn(1, "10.0.0.1:5001", M0);
	conn(2, "10.0.0.1:5002", M1);
	conn(3, "10.0.0.3:7000", M1);
	MGET(1, 100, "item:7", 0xb0);
	MGET(2, 110, "item:7", 0xb0);
	MGET(1, 150, "item:8", 0xc0);
	MGET(1, 160, "item:9", 0xd0);
	EV(.conn = 1, .ts = 1100, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "item:7", .val = 0xb1,
	   .mc = 1);
	EV(.conn = 2, .ts = 1200, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "item:7", .val = 0xb1,
	   .mc = 1);
	EV(.conn = 3, .ts = 2500, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "item:7", .val = 0xb0,
	   .mc = 1);
	MGET(3, 2600, "item:7", 0xb0);
	EV(.conn = 1, .ts = 3600, .cls = CT_CLASS_DELETE, .cmd = "DELETE", .key = "item:8", .mc = 1);
	MGET(1, 20000, "zz", 0);
	sqlite3 *db = db_done();
	call(db, 1, "PUT", "/items/7", 200, 1000, 2000);
	call(db, 2, "PUT", "/items/8", 204, 3000, 3500);
	call(db, 3, "PUT", "/items/9?x=1", 200, 4000, 4500);
	call(db, 4, "GET", "/items/7", 200, 5000, 5100);
	call(db, 5, "PUT", "/items/10", 500, 6000, 6100);
	struct ct_key_map km;
	is_int(ct_key_map_parse("PUT /items/{id} -> item:{id}", &km), 0, "keymap: parsed");
	struct ct_analyze_result r = run(db, 5000, &km, 1);
	is_int(r.origins, 3, "keymap: three origins (one per write call that did not fail)");
	is_str(q(db, ORIGIN_COLS),
	       "1|1|item:7|1000|2000|5|SET|write|" M0 "|1\n"
	       "2|2|item:8|3000|3500|9|DELETE|delete|" M0 "|1\n"
	       "3|3|item:9|4000|4500|-|-|-|-|1\n",
	       "keymap: origins");
	is_str(q(db, PROP_COLS),
	       "1|" M0 "|1100|100|command|write|SET|memcached|0\n"
	       "1|" M1 "|1200|200|command|write|SET|memcached|0\n"
	       "2|" M0 "|3600|600|command|delete|DELETE|memcached|0\n"
	       "3|" M0 "|-|-|-|-|-|memcached|1\n",
	       "keymap: write-through arrival, delete after the response, never sent");
	is_str(q(db, STALE_SETS), "2500|" M1 "|item:7|1|1300|1|7|00000000000000b0\n",
	       "keymap: the stale set");
	is_str(q(db, STALE_READS), "2600|" M1 "|item:7|1|600|1|8|00000000000000b0\n",
	       "keymap: the stale read after it");
	sqlite3_close(db);
	alloc_fail_loop("keymap: allocation failures", &km, 1);
	ct_key_map_free(&km);
}

/* RESP3 tracking clients, a replica, a flush, an eviction push and flush-all pushes. */
static void test_tracking_flush(void)
{
	db_new();
	conn(1, "10.0.0.1:5001", R0);
	conn(2, "10.0.0.5:40000", R0);             /* C: tracking on the primary */
	repl_link(3, "10.0.0.11:50000", R0, R1);
	conn(4, "10.0.0.6:40000", R1);             /* C2: tracking on the replica */
	conn(5, "10.0.0.1:5002", R3);
	conn(6, "10.0.0.7:40000", R3);             /* C3: tracking on R3 */
	conn(7, "10.0.0.8:40000", R3);             /* C4: tracking on R3, never read k */
	GET(2, 100, "k", 0xe0);
	GET(4, 105, "k", 0xe0);
	GET(5, 120, "k", 0xe0);
	GET(6, 125, "k", 0xe0);
	GET(7, 126, "other", 0);
	EV(.conn = 1, .ts = 1100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k");
	EV(.conn = 2, .ts = 1150, .dir = S2C, .via = PUSH, .cls = CT_CLASS_INVALIDATE,
	   .cmd = "INVALIDATE", .key = "k");
	/* An eviction (tracking-table-max-keys): R1 has not changed k yet. */
	EV(.conn = 4, .ts = 1200, .dir = S2C, .via = PUSH, .cls = CT_CLASS_INVALIDATE,
	   .cmd = "INVALIDATE", .key = "k");
	/* A flush-all push with no flush at R1. */
	EV(.conn = 4, .ts = 1250, .dir = S2C, .via = PUSH, .cls = CT_CLASS_INVALIDATE,
	   .cmd = "INVALIDATE", .detail = "flush all");
	EV(.conn = 5, .ts = 1300, .cls = CT_CLASS_FLUSH, .cmd = "FLUSHALL");
	EV(.conn = 6, .ts = 1310, .dir = S2C, .via = PUSH, .cls = CT_CLASS_INVALIDATE,
	   .cmd = "INVALIDATE", .detail = "flush all");
	EV(.conn = 7, .ts = 1311, .dir = S2C, .via = PUSH, .cls = CT_CLASS_INVALIDATE,
	   .cmd = "INVALIDATE", .detail = "flush all");
	EV(.conn = 3, .ts = 1800, .dir = S2C, .via = REPL, .cls = CT_CLASS_DELETE, .cmd = "DEL",
	   .key = "k");
	GET(1, 20000, "zz", 0);
	sqlite3 *db = db_done();
	call(db, 1, "DELETE", "/k", 200, 1000, 2000);
	struct ct_analyze_result r = run(db, 5000, NULL, 0);
	is_int(r.origins, 1, "tracking: one origin");
	is_str(q(db, PROP_COLS),
	       "1|" R0 "|1100|100|command|delete|DEL|redis|0\n"
	       "1|" R1 "|1800|800|replication|delete|DEL|redis|0\n"
	       "1|" R3 "|1300|300|command|flush|FLUSHALL|redis|0\n"
	       "1|10.0.0.5:40000|1150|150|push|invalidate|INVALIDATE|redis|0\n"
	       "1|10.0.0.6:40000|-|-|-|-|-|redis|1\n"
	       "1|10.0.0.7:40000|1310|310|push|invalidate|INVALIDATE|redis|0\n",
	       "tracking: push arrival, eviction and unrelated flush-all ignored, flush arrivals,"
	       " C4 (flush-all only, never held k) no recipient");
	is_int(r.missed, 1, "tracking: C2 missed");
	sqlite3_close(db);
}

/* Without api_calls, client changes are their own origins: a write at a node that already
 * arrived starts a new round, a write-through copy within the deadline is an arrival, a write
 * after the deadline is a new origin, and a re-set of the old value after a delete is a stale
 * set, not an origin. */
static void test_self_origin(void)
{
	db_new();
	conn(1, "10.0.0.1:5001", R0);
	repl_link(2, "10.0.0.11:50000", R0, R1);
	conn(3, "10.0.0.1:5002", M0);
	conn(4, "10.0.0.1:5003", M1);
	conn(5, "10.0.0.2:6000", R0);
	EV(.conn = 1, .ts = 100, .first = 95, .lat = 10, .cls = CT_CLASS_WRITE, .cmd = "SET",
	   .key = "k", .val = 0x11);
	EV(.conn = 2, .ts = 150, .dir = S2C, .via = REPL, .cls = CT_CLASS_WRITE, .cmd = "SET",
	   .key = "k", .val = 0x11);
	EV(.conn = 1, .ts = 200, .first = 195, .lat = 10, .cls = CT_CLASS_WRITE, .cmd = "SET",
	   .key = "k", .val = 0x12);
	EV(.conn = 2, .ts = 250, .dir = S2C, .via = REPL, .cls = CT_CLASS_WRITE, .cmd = "SET",
	   .key = "k", .val = 0x12);
	EV(.conn = 3, .ts = 300, .lat = 5, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "j",
	   .val = 0x21, .mc = 1);
	EV(.conn = 4, .ts = 310, .lat = 5, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "j",
	   .val = 0x21, .mc = 1);
	EV(.conn = 3, .ts = 20000, .lat = 5, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "j",
	   .val = 0x22, .mc = 1);
	GET(5, 400, "s", 0x30);
	EV(.conn = 1, .ts = 500, .lat = 10, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "s");
	EV(.conn = 5, .ts = 520, .lat = 10, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = "s",
	   .val = 0x30);
	GET(5, 600, "s", 0x30);
	GET(5, 30000, "zz", 0);
	sqlite3 *db = db_done();
	struct ct_analyze_result r = run(db, 5000, NULL, 0);
	is_int(r.api_mode, 0, "self: self mode without api_calls");
	is_str(q(db, ORIGIN_COLS),
	       "1|-|k|95|110|1|SET|write|" R0 "|1\n"
	       "2|-|k|195|210|3|SET|write|" R0 "|1\n"
	       "3|-|j|300|305|5|SET|write|" M0 "|1\n"
	       "4|-|s|500|510|9|DEL|delete|" R0 "|1\n"
	       "5|-|j|20000|20005|7|SET|write|" M0 "|1\n",
	       "self: origins");
	is_str(q(db, PROP_COLS),
	       "1|" R0 "|100|5|command|write|SET|redis|0\n"
	       "1|" R1 "|150|55|replication|write|SET|redis|0\n"
	       "2|" R0 "|200|5|command|write|SET|redis|0\n"
	       "2|" R1 "|250|55|replication|write|SET|redis|0\n"
	       "3|" M0 "|300|0|command|write|SET|memcached|0\n"
	       "3|" M1 "|310|10|command|write|SET|memcached|0\n"
	       "4|" R0 "|500|0|command|delete|DEL|redis|0\n"
	       "5|" M0 "|20000|0|command|write|SET|memcached|0\n"
	       "5|" M1 "|-|-|-|-|-|memcached|1\n",
	       "self: propagation");
	is_str(q(db, STALE_SETS), "520|" R0 "|s|-|20|4|10|0000000000000030\n", "self: stale set");
	is_str(q(db, STALE_READS), "600|" R0 "|s|-|90|4|11|0000000000000030\n",
	       "self: stale read");
	sqlite3_close(db);

	/* An api_calls table with no write call is still "no API calls". */
	db_new();
	conn(1, "10.0.0.1:5001", R0);
	EV(.conn = 1, .ts = 100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k");
	db = db_done();
	call(db, 1, "GET", "/k", 200, 50, 60);
	r = run(db, 5000, NULL, 0);
	is_int(r.api_mode, 0, "self: GET calls only: self mode");
	is_int(r.origins, 1, "self: GET calls only: the delete is an origin");
	sqlite3_close(db);
}

/* Drops inside one window, a gap on a connection of the key inside another, a clean third. */
static void test_validity(void)
{
	db_new();
	conn(1, "10.0.0.1:5001", R0);
	conn_full(2, "10.0.0.1:5002", R0, 19000, 22000, 1);
	EV(.conn = 1, .ts = 1100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k");
	EV(.conn = 2, .ts = 20100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k2");
	EV(.conn = 1, .ts = 40100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k3");
	GET(1, 50000, "zz", 0);
	drop_sample(500, 0);
	drop_sample(1500, 3);
	drop_sample(30000, 3);
	sqlite3 *db = db_done();
	call(db, 1, "PUT", "/k", 200, 1000, 2000);
	call(db, 2, "PUT", "/k2", 200, 20000, 21000);
	call(db, 3, "PUT", "/k3", 200, 40000, 41000);
	struct ct_analyze_result r = run(db, 5000, NULL, 0);
	is_int(r.valid, 0, "validity: not valid");
	is_int(r.warnings, 2, "validity: two warnings");
	is_str(q(db, "SELECT id, key, valid FROM origins ORDER BY id"), "1|k|0\n2|k2|0\n3|k3|1\n",
	       "validity: per origin");
	is_str(q(db, "SELECT origin_id, window_start_ns, window_end_ns FROM analysis_warnings"
		     " ORDER BY rowid"),
	       "1|1000|6000\n2|20000|25000\n", "validity: warnings name the windows");
	const char *w = q(db, "SELECT text FROM analysis_warnings ORDER BY rowid");
	ok(strstr(w, "origin 1 (key k, API call 1) from 1970-01-01T00:00:00.000001000Z for 5 us; "
		     "3 packets dropped") != NULL,
	   "validity: drop warning text");
	ok(strstr(w, "origin 2 (key k2, API call 2)") &&
		   strstr(w, "reassembly gaps on connection 2 (10.0.0.1:5002 -> " R0 ")"),
	   "validity: gap warning text");
	if (!strstr(w, "3 packets dropped"))
		diag("%s", w);
	is_str(q(db, "SELECT value FROM analysis_meta WHERE key = 'valid'"), "0\n",
	       "validity: meta valid = 0");
	sqlite3_close(db);

	/* Run totals with drops and no samples to place them: every window is suspect. */
	db_new();
	conn(1, "10.0.0.1:5001", R0);
	EV(.conn = 1, .ts = 1100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k");
	struct ct_run_stats rs;
	memset(&rs, 0, sizeof rs);
	rs.kernel_drops = 5;
	rs.last_ts_ns = 9000;
	if (sk->ops->run_stats(sk, &rs))
		bail("run_stats");
	db = db_done();
	call(db, 1, "PUT", "/k", 200, 1000, 2000);
	r = run(db, 5000, NULL, 0);
	is_int(r.valid, 0, "validity: unplaced drops make it invalid");
	ok(strstr(q(db, "SELECT text FROM analysis_warnings"), "no samples place them") != NULL,
	   "validity: unplaced drops warning");
	sqlite3_close(db);

	/* Drops far from every window: valid, with a note; an origin whose deadline passes the
	 * end of the capture is pending, not missed. */
	db_new();
	conn_full(1, "10.0.0.1:5001", R0, 1, 1100, 0);
	conn_full(2, "10.0.0.1:5002", R1, 1, 100, 0);
	GET(2, 100, "k", 0xa);
	EV(.conn = 1, .ts = 1100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k");
	drop_sample(100, 0);
	drop_sample(500, 7);
	db = db_done();
	call(db, 1, "PUT", "/k", 200, 1000, 2000);
	r = run(db, 500000, NULL, 0);
	is_int(r.valid, 1, "validity: drops outside the windows keep it valid");
	is_int(r.missed, 0, "pending: not missed");
	is_int(r.pending, 1, "pending: one pending");
	is_str(q(db, "SELECT recipient, missed, pending FROM propagation ORDER BY recipient"),
	       R0 "|0|0\n" R1 "|0|1\n", "pending: R1 pending");
	w = q(db, "SELECT text FROM analysis_warnings ORDER BY rowid");
	ok(strstr(w, "7 dropped packets and 0 reassembly gaps fell outside every measured window") &&
		   strstr(w, "1 recipients of 1 origins are pending"),
	   "validity: notes for drops outside windows and pending recipients");
	sqlite3_close(db);
}

/* The analysis runs while the capture is still writing: it sees what was committed. */
static void test_live(void)
{
	db_new();
	conn_full(1, "10.0.0.1:5001", R0, 1, 1, 0); /* still open: no end time yet */
	conn_full(2, "10.0.0.2:6000", R1, 1, 1, 0);
	repl_link(3, "10.0.0.11:50000", R0, R1);
	GET(2, 100, "k", 0xa);
	EV(.conn = 1, .ts = 1100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k");
	if (sk->ops->commit(sk))
		bail("commit");
	sqlite3 *db;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		bail("open");
	sqlite3_busy_timeout(db, 10000);
	struct ct_analyze_result r = run(db, 5000, NULL, 0);
	is_int(r.origins, 1, "live: one origin so far");
	is_int(r.pending, 1, "live: the replica is pending");
	EV(.conn = 3, .ts = 1200, .dir = S2C, .via = REPL, .cls = CT_CLASS_DELETE, .cmd = "DEL",
	   .key = "k");
	EV(.conn = 1, .ts = 2100, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = "k2");
	if (sk->ops->commit(sk))
		bail("commit");
	r = run(db, 5000, NULL, 0);
	is_int(r.origins, 2, "live: committed events only");
	is_int(r.pending, 0, "live: the replica arrived");
	is_str(q(db, "SELECT value FROM analysis_meta WHERE key = 'last_event_id'"), "4\n",
	       "live: last_event_id");
	sql(db, "BEGIN");
	is_int(ct_analyze(db, NULL, &r), CT_EINVAL, "live: refused inside a transaction");
	sql(db, "COMMIT");
	sqlite3_close(db);
	ct_sink_close(sk);
	sk = NULL;
	nev = 0;
}

static void test_key_map(void)
{
	struct ct_key_map m;
	char key[64];
	is_int(ct_key_map_parse("PUT /items/{id} -> item:{id}", &m), 0, "km: parse");
	is_str(m.method, "PUT", "km: method");
	is_str(m.path_pattern, "/items/{id}", "km: path");
	is_str(m.key_pattern, "item:{id}", "km: key");
	is_int(ct_key_map_apply(&m, "PUT", "/items/42", key, sizeof key), 7, "km: match");
	is_str(key, "item:42", "km: mapped key");
	is_int(ct_key_map_apply(&m, "put", "/items/42?x=1#f", key, sizeof key), 7,
	       "km: query ignored");
	is_int(ct_key_map_apply(&m, "PUT", "http://h:8080/items/5", key, sizeof key), 6,
	       "km: absolute form");
	is_str(key, "item:5", "km: absolute form key");
	is_int(ct_key_map_apply(&m, "PUT", "/items/42/sub", key, sizeof key), -1,
	       "km: {id} is one segment");
	is_int(ct_key_map_apply(&m, "PUT", "/items/", key, sizeof key), -1, "km: empty segment");
	is_int(ct_key_map_apply(&m, "PATCH", "/items/42", key, sizeof key), -1, "km: method");
	is_int(ct_key_map_apply(&m, "PUT", "/items/1234567890", key, 8), CT_ELIMIT,
	       "km: key too long for the buffer");
	ct_key_map_free(&m);
	ok(m.method == NULL, "km: freed");

	is_int(ct_key_map_parse("post /a/{x}/b/{y}->k:{y}:{x}", &m), 0, "km: glued arrow");
	is_str(m.method, "POST", "km: method upper-cased");
	is_int(ct_key_map_apply(&m, "POST", "/a/1/b/2", key, sizeof key), 5, "km: two names");
	is_str(key, "k:2:1", "km: two names substituted");
	ct_key_map_free(&m);

	is_int(ct_key_map_parse("PUT /f/{id}.json -> f:{id}", &m), 0, "km: name inside a segment");
	is_int(ct_key_map_apply(&m, "PUT", "/f/a.b.json", key, sizeof key), 5, "km: backtracking");
	is_str(key, "f:a.b", "km: backtracking key");
	ct_key_map_free(&m);

	is_int(ct_key_map_parse("* /x/{id} -> x{id}", &m), 0, "km: any method");
	is_int(ct_key_map_apply(&m, "DELETE", "/x/9", key, sizeof key), 2, "km: any method match");
	ct_key_map_free(&m);

	static const char *const bad[] = {
		"GET /a -> b",        "PUT items -> x",     "PUT /a/{id -> x",
		"PUT /a/{} -> x",     "PUT /a/{id} -> x:{other}", "PUT /a/{a}{b} -> x",
		"PUT /a",             "",                   "PUT /a ->  ",
		"-> x",               "PUT /a b -> x",      "PUT /a} -> x",
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(bad); i++) {
		is_int(ct_key_map_parse(bad[i], &m), CT_EINVAL, "km: rejects '%s'", bad[i]);
		ok(m.method == NULL, "km: nothing kept for '%s'", bad[i]);
	}
}

/* 100k events: 5000 write calls of 4 keys each; each key's delete reaches the primary, the
 * replica (replication) and a tracking client on the replica (push). */
static void test_scale(void)
{
	db_new();
	conn(1, "10.0.0.1:5001", R0);
	repl_link(2, "10.0.0.11:50000", R0, R1);
	conn(3, "10.0.0.5:40000", R1);
	char key[32];
	const uint64_t step = 100000;
	for (uint64_t i = 0; i < 5000; i++) {
		for (uint64_t j = 0; j < 4; j++) {
			uint64_t t = 1000 + i * step + j * 1000;
			snprintf(key, sizeof key, "key:%llu", (unsigned long long)((i * 4 + j) % 2000));
			EV(.conn = 1, .ts = t, .cls = CT_CLASS_DELETE, .cmd = "DEL", .key = key);
			EV(.conn = 2, .ts = t + 10, .dir = S2C, .via = REPL, .cls = CT_CLASS_DELETE,
			   .cmd = "DEL", .key = key);
			EV(.conn = 3, .ts = t + 20, .dir = S2C, .via = PUSH,
			   .cls = CT_CLASS_INVALIDATE, .cmd = "INVALIDATE", .key = key);
			GET(3, t + 30, key, 0);
			EV(.conn = 1, .ts = t + 40, .cls = CT_CLASS_WRITE, .cmd = "SET", .key = key,
			   .val = i * 4 + j + 1);
		}
	}
	sqlite3 *db = db_done();
	api_table(db);
	sql(db, "BEGIN");
	for (uint64_t i = 0; i < 5000; i++) {
		char s[256];
		snprintf(s, sizeof s,
			 "INSERT INTO api_calls(id, method, path, status, ts_start_ns, ts_end_ns,"
			 " source, server) VALUES (%llu, 'PUT', '/x', 200, %llu, %llu, 'wire', '" API
			 "')",
			 (unsigned long long)i + 1, (unsigned long long)(1000 + i * step - 1),
			 (unsigned long long)(1000 + i * step + 3500));
		sql(db, s);
	}
	sql(db, "COMMIT");
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct ct_analyze_result r = run(db, 5000, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	diag("100k events analysed in %.3f s (indexes built)",
	     (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = run(db, 5000, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	diag("rerun in %.3f s", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	is_int(r.origins, 20000, "scale: origins");
	is_int(r.propagation_rows, 60000, "scale: propagation rows");
	is_int(r.arrivals, 60000, "scale: arrivals");
	is_int(r.missed, 0, "scale: none missed");
	is_int(r.stale_reads + r.stale_sets, 0, "scale: nothing stale");
	is_str(q(db, "SELECT COUNT(*), MIN(latency_ns), MAX(latency_ns) FROM propagation"
		     " WHERE recipient = '10.0.0.5:40000'"),
	       "20000|21|3021\n", "scale: tracking client latencies (from the call start)");
	sqlite3_close(db);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		bail(strerror(errno));
	test_key_map();
	test_basic();
	test_concurrent();
	test_write_through_keymap();
	test_tracking_flush();
	test_self_origin();
	test_validity();
	test_live();
	test_scale();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
