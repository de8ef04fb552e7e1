/* SQLite sink: the schema, its prepared statements and batched transactions (SPEC section 5).
 *
 * Writes go into one open transaction that is committed every CT_STORE_BATCH_ROWS rows, or
 * once CT_STORE_BATCH_NS of wall time has passed since it began, and always on commit/close,
 * so nothing already decoded is lost on a stop. A failed write is counted and logged once; it
 * does not stop the capture. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cachetap/limits.h"
#include "cachetap/store.h"

/* The schema. Tables are the implementation's choice; the views named in SPEC section 5 are
 * the contract and may only grow. */
static const char schema_sql[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE connections("
	"  id INTEGER PRIMARY KEY, proto TEXT NOT NULL, client TEXT NOT NULL,"
	"  server TEXT NOT NULL, orient TEXT, app TEXT, close_reason TEXT,"
	"  first_ts_ns INTEGER, last_ts_ns INTEGER,"
	"  pkts_c2s INTEGER, pkts_s2c INTEGER,"
	"  bytes_c2s INTEGER, bytes_s2c INTEGER,"         /* payload as IP declares, retransmits included */
	"  delivered_c2s INTEGER, delivered_s2c INTEGER," /* unique stream bytes */
	"  gaps_c2s INTEGER, gaps_s2c INTEGER, gap_bytes_c2s INTEGER, gap_bytes_s2c INTEGER,"
	"  dup_bytes_c2s INTEGER, dup_bytes_s2c INTEGER,"
	"  conflict_bytes_c2s INTEGER, conflict_bytes_s2c INTEGER,"
	"  midstream INTEGER);"
	"CREATE TABLE events("
	"  id INTEGER PRIMARY KEY, conn_id INTEGER NOT NULL, ts_ns INTEGER NOT NULL,"
	"  first_ts_ns INTEGER, proto TEXT, dir TEXT, via TEXT, cmd TEXT, class TEXT, key TEXT,"
	"  status TEXT, latency_ns INTEGER, value_hash TEXT, db INTEGER, flags INTEGER,"
	"  detail TEXT, stream_off INTEGER);"
	/* SPEC 5: the timeline, one row per (event, key). */
	"CREATE VIEW timeline AS SELECT e.ts_ns AS ts_ns, e.proto AS proto, c.server AS server,"
	"  c.client AS client, e.dir AS dir, e.via AS via, e.cmd AS cmd, e.class AS class,"
	"  e.key AS key, e.status AS status, e.latency_ns AS latency_ns,"
	"  e.value_hash AS value_hash, e.first_ts_ns AS first_ts_ns, e.db AS db,"
	"  e.detail AS detail, e.flags AS flags, e.conn_id AS conn_id, e.id AS event_id,"
	"  e.stream_off AS stream_off,"
	/* The recipient (SPEC 5: server for c2s, client for s2c), with a replica's replication
	 * link named by the node it announced (REPLCONF listening-port), so that the replica is
	 * one recipient whether it is read from or replicated to. */
	"  CASE WHEN e.dir = 'c2s' THEN COALESCE(ls.endpoint, c.server)"
	"       ELSE COALESCE(lc.endpoint, c.client) END AS recipient"
	"  FROM events e JOIN connections c ON c.id = e.conn_id"
	"  LEFT JOIN node_links lc ON lc.conn_id = e.conn_id AND lc.side = 'client'"
	"  LEFT JOIN node_links ls ON ls.conn_id = e.conn_id AND ls.side = 'server';"
	/* Which side of a connection is a named node (from the traffic, e.g. a replica link). */
	"CREATE TABLE node_links(conn_id INTEGER NOT NULL, side TEXT NOT NULL, endpoint TEXT NOT NULL,"
	"  PRIMARY KEY(conn_id, side));"
	"CREATE TABLE nodes(name TEXT NOT NULL, endpoint TEXT NOT NULL UNIQUE, role TEXT,"
	"  source TEXT);"
	"CREATE TABLE capture_drops("
	"  ts_ns INTEGER, kernel_recv INTEGER, kernel_drops INTEGER, iface_drops INTEGER);"
	"CREATE TABLE run_stats("
	"  packets INTEGER, bytes INTEGER, kernel_drops INTEGER, interface_drops INTEGER,"
	"  connections INTEGER, reassembly_gaps INTEGER, gap_bytes INTEGER,"
	"  parse_errors INTEGER, resyncs INTEGER, unmatched_replies INTEGER,"
	"  not_ip INTEGER, fragments INTEGER, other_l4 INTEGER, truncated_frames INTEGER,"
	"  malformed_frames INTEGER, bad_linktype INTEGER, dup_bytes INTEGER,"
	"  conflict_bytes INTEGER, evicted INTEGER, truncated_files INTEGER, read_errors INTEGER,"
	"  events INTEGER, started_ns INTEGER, ended_ns INTEGER,"
	"  first_ts_ns INTEGER, last_ts_ns INTEGER, unanswered INTEGER, pending_overflow INTEGER,"
	"  alloc_failures INTEGER, truncated_fields INTEGER);"
	/* SPEC 5: api_calls, one row per API call. Rows seen on the wire have source 'wire'
	 * (src/http_pair.c); the driver adds its own and merges them by request_id. Times of 0
	 * (unknown) are NULL. */
	"CREATE TABLE api_calls("
	"  id INTEGER PRIMARY KEY, request_id TEXT, method TEXT, path TEXT, status INTEGER,"
	"  ts_start_ns INTEGER, ts_end_ns INTEGER, source TEXT NOT NULL,"
	"  conn_id INTEGER, client TEXT, server TEXT, traceparent TEXT,"
	"  ts_req_end_ns INTEGER, ts_resp_start_ns INTEGER,"
	"  req_body_bytes INTEGER, resp_body_bytes INTEGER,"
	"  wire INTEGER NOT NULL DEFAULT 0, driver INTEGER NOT NULL DEFAULT 0, step TEXT,"
	"  curl_dns_ns INTEGER, curl_connect_ns INTEGER, curl_ttfb_ns INTEGER,"
	"  curl_total_ns INTEGER);"
	"CREATE INDEX api_calls_request_id ON api_calls(request_id);"
	/* SPEC 5: capture_stats, one row per run; per connection detail is in connections. */
	"CREATE VIEW capture_stats AS SELECT packets, bytes, kernel_drops, interface_drops,"
	"  reassembly_gaps, parse_errors, resyncs, unmatched_replies, connections, gap_bytes,"
	"  started_ns, ended_ns, first_ts_ns, last_ts_ns FROM run_stats;";

enum stmt_id { ST_META, ST_CONN, ST_EVENT, ST_NODE, ST_LINK, ST_DROPS, ST_RUN, ST_API, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
	[ST_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
	[ST_EVENT] = "INSERT INTO events(conn_id, ts_ns, first_ts_ns, proto, dir, via, cmd, class,"
		     " key, status, latency_ns, value_hash, db, flags, detail, stream_off)"
		     " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
	[ST_CONN] = "INSERT OR REPLACE INTO connections VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
		    "?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24)",
	[ST_NODE] = "INSERT OR IGNORE INTO nodes VALUES (?1, ?2, ?3, ?4)",
	[ST_LINK] = "INSERT OR IGNORE INTO node_links VALUES (?1, ?2, ?3)",
	[ST_DROPS] = "INSERT INTO capture_drops VALUES (?1, ?2, ?3, ?4)",
	[ST_RUN] = "INSERT INTO run_stats VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
		   "?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30)",
	/* client and server come from the connection's row, written when it opened */
	[ST_API] = "INSERT INTO api_calls(request_id, method, path, status, ts_start_ns, ts_end_ns,"
		   " source, conn_id, client, server, traceparent, ts_req_end_ns, ts_resp_start_ns,"
		   " req_body_bytes, resp_body_bytes, wire) VALUES (?1,?2,?3,?4,?5,?6,'wire',?7,"
		   " (SELECT client FROM connections WHERE id = ?7),"
		   " (SELECT server FROM connections WHERE id = ?7),?8,?9,?10,?11,?12,1)",
};

struct store {
	struct ct_sink base;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int in_txn;
	uint32_t txn_rows;
	uint64_t txn_began_ns;
	int logged_error;
	int bind_failed; /* a bind of the row being built failed */
};

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void log_once(struct store *s, const char *what)
{
	s->base.errors++;
	if (!s->logged_error) {
		s->logged_error = 1;
		fprintf(stderr, "cachetap: database: %s: %s (further errors are counted)\n", what,
			sqlite3_errmsg(s->db));
	}
}

static int exec(struct store *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		log_once(s, sql);
		return CT_ESQL;
	}
	return 0;
}

static int commit(struct store *s)
{
	if (!s->in_txn)
		return 0;
	s->in_txn = 0;
	return exec(s, "COMMIT");
}

/* Opens a transaction if none is open; commits the current one when it is full or old. */
static int begin_row(struct store *s)
{
	if (s->in_txn && (s->txn_rows >= CT_STORE_BATCH_ROWS ||
			  mono_ns() - s->txn_began_ns >= CT_STORE_BATCH_NS)) {
		int rc = commit(s);
		if (rc)
			return rc;
	}
	if (!s->in_txn) {
		int rc = exec(s, "BEGIN");
		if (rc)
			return rc;
		s->in_txn = 1;
		s->txn_rows = 0;
		s->txn_began_ns = mono_ns();
	}
	return 0;
}

static int step(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	if (s->bind_failed) {
		/* A value could not be bound (out of memory): the row would hold a NULL in its
		 * place, so it is not written at all, and counted. */
		s->bind_failed = 0;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		log_once(s, "binding a value");
		return CT_ENOMEM;
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_once(s, stmt_sql[id]);
		return CT_ESQL;
	}
	s->txn_rows++;
	s->base.rows++;
	return 0;
}

/* Every bind goes through here: a failed one (SQLite out of memory) fails the row in step(). */
static void bound(struct store *s, int rc)
{
	if (rc != SQLITE_OK)
		s->bind_failed = 1;
}

static void bind_u64(struct store *s, sqlite3_stmt *st, int i, uint64_t v)
{
	bound(s, sqlite3_bind_int64(st, i, (sqlite3_int64)v));
}

static void bind_text(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		bound(s, sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT));
	else
		bound(s, sqlite3_bind_null(st, i));
}

/* Our own constant strings (class, status, via, proto names): SQLite need not copy them. */
static void bind_static(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int store_meta(struct ct_sink *sink, const char *key, const char *value)
{
	struct store *s = (struct store *)sink;
	int rc = begin_row(s);
	if (rc)
		return rc;
	bind_text(s, s->st[ST_META], 1, key);
	bind_text(s, s->st[ST_META], 2, value);
	return step(s, ST_META);
}

static int store_conn(struct ct_sink *sink, const struct ct_conn_rec *c)
{
	struct store *s = (struct store *)sink;
	sqlite3_stmt *st = s->st[ST_CONN];
	int rc = begin_row(s);
	if (rc)
		return rc;
	bind_u64(s, st, 1, c->id);
	bind_text(s, st, 2, c->proto);
	bind_text(s, st, 3, c->client);
	bind_text(s, st, 4, c->server);
	bind_text(s, st, 5, c->orient);
	bind_text(s, st, 6, c->app);
	bind_text(s, st, 7, c->close_reason);
	bind_u64(s, st, 8, c->first_ts_ns);
	bind_u64(s, st, 9, c->last_ts_ns);
	const uint64_t *pairs[] = { c->pkts, c->payload_bytes, c->delivered_bytes, c->gaps,
				    c->gap_bytes, c->dup_bytes, c->conflict_bytes };
	int col = 10;
	for (size_t i = 0; i < CT_ARRAY_LEN(pairs); i++) {
		bind_u64(s, st, col++, pairs[i][0]);
		bind_u64(s, st, col++, pairs[i][1]);
	}
	bound(s, sqlite3_bind_int(st, col, c->midstream));
	return step(s, ST_CONN);
}

static int store_event(struct ct_sink *sink, const struct ct_event *e)
{
	struct store *s = (struct store *)sink;
	sqlite3_stmt *st = s->st[ST_EVENT];
	int rc = begin_row(s);
	if (rc)
		return rc;
	bind_u64(s, st, 1, e->conn_id);
	bind_u64(s, st, 2, e->ts_ns);
	bind_u64(s, st, 3, e->first_ts_ns);
	bind_static(st, 4, ct_proto_name(e->proto));
	sqlite3_bind_text(st, 5, e->dir == 0 ? "c2s" : "s2c", 3, SQLITE_STATIC);
	bind_static(st, 6, ct_via_name(e->via));
	bound(s, sqlite3_bind_text(st, 7, e->cmd ? e->cmd : "", (int)e->cmd_len,
				   SQLITE_TRANSIENT));
	bind_static(st, 8, ct_class_name(e->cls));
	if (e->flags & CT_EV_HAS_KEY)
		bound(s, sqlite3_bind_text(st, 9, e->key ? (const char *)e->key : "",
					   (int)e->key_len, SQLITE_TRANSIENT));
	bind_static(st, 10, ct_status_name(e->status));
	if (e->flags & CT_EV_HAS_LATENCY)
		bind_u64(s, st, 11, e->latency_ns);
	if (e->flags & CT_EV_HAS_VALUE) {
		static const char digits[] = "0123456789abcdef";
		char hex[16];
		for (int i = 0; i < 16; i++)
			hex[i] = digits[(e->value_hash >> (60 - 4 * i)) & 0xf];
		bound(s, sqlite3_bind_text(st, 12, hex, 16, SQLITE_TRANSIENT));
	}
	if (e->db >= 0)
		bound(s, sqlite3_bind_int(st, 13, e->db));
	bound(s, sqlite3_bind_int64(st, 14, e->flags));
	bind_text(s, st, 15, e->detail);
	bind_u64(s, st, 16, e->stream_off);
	return step(s, ST_EVENT);
}

static int store_node(struct ct_sink *sink, const struct ct_node_rec *n)
{
	struct store *s = (struct store *)sink;
	sqlite3_stmt *st = s->st[ST_NODE];
	int rc = begin_row(s);
	if (rc)
		return rc;
	bind_text(s, st, 1, n->name);
	bind_text(s, st, 2, n->endpoint);
	bind_text(s, st, 3, n->role);
	bind_text(s, st, 4, n->source);
	rc = step(s, ST_NODE);
	if (rc || !n->conn_id)
		return rc;
	st = s->st[ST_LINK];
	bind_u64(s, st, 1, n->conn_id);
	bind_text(s, st, 2, n->client_side ? "client" : "server");
	bind_text(s, st, 3, n->endpoint);
	return step(s, ST_LINK);
}

static int store_drops(struct ct_sink *sink, const struct ct_drop_sample *d)
{
	struct store *s = (struct store *)sink;
	sqlite3_stmt *st = s->st[ST_DROPS];
	int rc = begin_row(s);
	if (rc)
		return rc;
	bind_u64(s, st, 1, d->ts_ns);
	bind_u64(s, st, 2, d->kernel_recv);
	bind_u64(s, st, 3, d->kernel_drops);
	bind_u64(s, st, 4, d->iface_drops);
	return step(s, ST_DROPS);
}

static int store_run(struct ct_sink *sink, const struct ct_run_stats *r)
{
	struct store *s = (struct store *)sink;
	sqlite3_stmt *st = s->st[ST_RUN];
	int rc = begin_row(s);
	if (rc)
		return rc;
	const uint64_t v[] = { r->packets,	    r->bytes,		 r->kernel_drops,
			       r->iface_drops,	    r->connections,	 r->gaps,
			       r->gap_bytes,	    r->parse_errors,	 r->resyncs,
			       r->unmatched_replies, r->not_ip,		 r->fragments,
			       r->other_l4,	    r->truncated_frames, r->malformed_frames,
			       r->bad_linktype,	    r->dup_bytes,	 r->conflict_bytes,
			       r->evicted,	    r->truncated_files,	 r->read_errors,
			       r->events,	    r->started_ns,	 r->ended_ns,
			       r->first_ts_ns,	    r->last_ts_ns,	 r->unanswered,
			       r->pending_overflow, r->alloc_failures, r->truncated_fields };
	for (size_t i = 0; i < CT_ARRAY_LEN(v); i++)
		bind_u64(s, st, (int)i + 1, v[i]);
	return step(s, ST_RUN);
}

/* Binds a time, NULL when it is 0 (unknown). */
static void bind_ts(struct store *s, sqlite3_stmt *st, int i, uint64_t v)
{
	if (v)
		bind_u64(s, st, i, v);
}

static void bind_textn(struct store *s, sqlite3_stmt *st, int i, const char *v, uint32_t n)
{
	if (v)
		bound(s, sqlite3_bind_text(st, i, v, (int)n, SQLITE_TRANSIENT));
}

static int store_api(struct ct_sink *sink, const struct ct_api_call *a)
{
	struct store *s = (struct store *)sink;
	sqlite3_stmt *st = s->st[ST_API];
	int rc = begin_row(s);
	if (rc)
		return rc;
	bind_textn(s, st, 1, a->request_id, a->request_id_len);
	bind_text(s, st, 2, a->method);
	bind_textn(s, st, 3, a->path, a->path_len);
	if (a->status)
		bound(s, sqlite3_bind_int(st, 4, a->status));
	bind_ts(s, st, 5, a->ts_start_ns);
	bind_ts(s, st, 6, a->ts_end_ns);
	bind_u64(s, st, 7, a->conn_id);
	bind_textn(s, st, 8, a->traceparent, a->traceparent_len);
	bind_ts(s, st, 9, a->ts_req_end_ns);
	bind_ts(s, st, 10, a->ts_resp_start_ns);
	bind_u64(s, st, 11, a->req_body_bytes);
	bind_u64(s, st, 12, a->resp_body_bytes);
	return step(s, ST_API);
}

static int store_commit(struct ct_sink *sink)
{
	return commit((struct store *)sink);
}

/* No index is built here: on a 1.7 M-event capture the two an analysis wants cost 2 s, which
 * is 20 % of the whole replay. The readers (report, analysis) create what their queries need. */

static void store_close(struct ct_sink *sink)
{
	struct store *s = (struct store *)sink;
	if (s->db) {
		commit(s);
		for (int i = 0; i < ST_COUNT; i++)
			sqlite3_finalize(s->st[i]);
		/* Copy the WAL into the database file here: sqlite3_close() skips its own
		 * checkpoint when it cannot stat the file by its path ("renamed while open"),
		 * which is the case once a capture has given up root (privdrop.h) in a directory
		 * only root may search. PASSIVE never waits for readers. */
		(void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		sqlite3_close(s->db);
	}
	ct_free(s);
}

static const struct ct_sink_ops store_ops = {
	.meta = store_meta,
	.conn = store_conn,
	.event = store_event,
	.node = store_node,
	.drops = store_drops,
	.run_stats = store_run,
	.commit = store_commit,
	.close = store_close,
	.api_call = store_api,
};

/* SQLite allocates through our shim too (common.h), so that a test can fail its Nth
 * allocation like any other and prove the store's failure paths clean. SQLite wants the size
 * of a block back (xSize): it is kept in an 8-byte header, which also keeps the 8-byte
 * alignment SQLite needs. Installed once, before SQLite initialises. */
#define SQ_HDR 8

static void *sq_malloc(int n)
{
	if (n <= 0)
		return NULL;
	uint8_t *p = ct_malloc((size_t)n + SQ_HDR);
	if (!p)
		return NULL;
	memcpy(p, &(uint64_t){ (uint64_t)n }, sizeof(uint64_t));
	return p + SQ_HDR;
}

static void sq_free(void *q)
{
	if (q)
		ct_free((uint8_t *)q - SQ_HDR);
}

static void *sq_realloc(void *q, int n)
{
	if (!q)
		return sq_malloc(n);
	if (n <= 0)
		return NULL;
	uint8_t *p = ct_realloc((uint8_t *)q - SQ_HDR, (size_t)n + SQ_HDR);
	if (!p)
		return NULL;
	memcpy(p, &(uint64_t){ (uint64_t)n }, sizeof(uint64_t));
	return p + SQ_HDR;
}

static int sq_size(void *q)
{
	uint64_t n = 0;
	if (q)
		memcpy(&n, (uint8_t *)q - SQ_HDR, sizeof n);
	return (int)n;
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *unused)
{
	CT_UNUSED(unused);
	return SQLITE_OK;
}

static void sq_shutdown(void *unused)
{
	CT_UNUSED(unused);
}

static void sqlite_use_shim(void)
{
	static const sqlite3_mem_methods m = { sq_malloc, sq_free, sq_realloc, sq_size,
					       sq_roundup, sq_init, sq_shutdown, NULL };
	static int done;
	if (done)
		return;
	done = 1;
	/* SQLITE_MISUSE when SQLite was already initialised (a reader ran first): it then keeps
	 * its own allocator, which is correct, only not failable by tests. */
	(void)sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
	/* No allocation statistics: they take a global mutex on every SQLite malloc and free,
	 * which was 10 % of a decode-and-store run. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Is the existing file a cachetap database? Only then may it be replaced. */
static int is_cachetap_db(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int yes = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema_version'", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		yes = 1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return yes;
}

static int remove_db(const char *path, char *err, size_t errlen)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[4096];
	for (size_t i = 0; i < CT_ARRAY_LEN(suffix); i++) {
		if ((size_t)snprintf(p, sizeof p, "%s%s", path, suffix[i]) >= sizeof p) {
			snprintf(err, errlen, "%s: path too long", path);
			return CT_EINVAL;
		}
		if (unlink(p) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "%s: cannot replace: %s", p, strerror(errno));
			return CT_EIO;
		}
	}
	return 0;
}

int ct_store_open(struct ct_sink **out, const char *path, char *err, size_t errlen)
{
	struct store *s = NULL;
	struct stat sb;
	int rc;

	*out = NULL;
	sqlite_use_shim();
	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			return CT_EINVAL;
		}
		if (sb.st_size > 0 && !is_cachetap_db(path)) {
			snprintf(err, errlen,
				 "%s: exists and is not a cachetap database; refusing to overwrite",
				 path);
			return CT_EINVAL;
		}
		rc = remove_db(path, err, errlen);
		if (rc)
			return rc;
	}
	/* Create the file ourselves so it is 0600 whatever the umask: it may hold keys. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return CT_EIO;
	}
	close(fd);

	s = ct_calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return CT_ENOMEM;
	}
	s->base.ops = &store_ops;
	/* One thread uses this connection: no SQLite mutexes on the per-row path. */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK)
			goto fail;
	char ver[16];
	snprintf(ver, sizeof ver, "%d", CT_STORE_SCHEMA_VERSION);
	if (store_meta(&s->base, "schema_version", ver) || commit(s))
		goto fail;
	*out = &s->base;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
	s->logged_error = 1; /* the message above is the one line the user sees */
	store_close(&s->base);
	return CT_ESQL;
}
