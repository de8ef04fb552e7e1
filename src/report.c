/* `cachetap report DB`: runs the propagation analysis (SPEC section 6, src/analyze.c) on a
 * cachetap database and writes the report (SPEC section 7) as aligned text, JSON, CSV files
 * (RFC 4180) or one self-contained HTML file (src/report_html.c), then checks the SLO flags.
 *
 * The database may still be written by a live capture: it is opened read-write in WAL mode
 * with a busy timeout (CT_REPORT_BUSY_TIMEOUT_MS) so the analysis can wait for the capture's
 * batch to commit, and everything is rendered inside one read transaction, from one snapshot.
 * Long lists are streamed from SQLite; memory grows with the number of recipients only
 * (CT_REPORT_RECIPIENTS_MAX). Percentiles are nearest-rank: the p-th percentile of n sorted
 * latencies is the ceil(p * n / 100)-th one. Keys are untrusted wire bytes: text escapes
 * every byte that is not printable ASCII as \xNN, JSON keeps well-formed UTF-8 and escapes
 * the other bytes the same way, CSV keeps the bytes and quotes them. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachetap/analyze.h"
#include "cachetap/buf.h"
#include "cachetap/limits.h"
#include "cachetap/report.h"
#include "report_model.h"

enum { EXIT_DONE = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_SLO = 3 };
enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_HTML };


struct opts {
	enum fmt format;
	const char *out;
	const char *db;
	uint64_t deadline_ns;
	struct ct_key_map maps[CT_REPORT_KEY_MAPS_MAX];
	uint32_t nmaps;
	int have_p99, have_missed, have_stale;
	uint64_t max_p99_ns, max_missed, max_stale;
	const char *p99_arg;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cachetap report [OPTIONS] DB\n"
		"\n"
		"Analyses the cache traffic recorded in DB (SPEC section 6) and reports, per\n"
		"recipient (every cache node and client-side cache that held a written key), how\n"
		"long each write took to arrive there, which ones never did, and who read stale\n"
		"data in between. DB may still be written by a live capture: the report covers\n"
		"what was committed so far. The analysis tables in DB (origins, propagation,\n"
		"stale_reads, stale_sets, analysis_warnings, analysis_meta) are recomputed.\n"
		"\n"
		"options:\n"
		"  -f, --format FORMAT    text (default): header and an aligned table per recipient,\n"
		"                         then the worst missed invalidations, stale reads and\n"
		"                         stale sets (at most %u each);\n"
		"                         json: SPEC section 7, every row;\n"
		"                         csv: origins, propagation, recipients, stale_reads,\n"
		"                         stale_sets and api_calls, one RFC 4180 file each;\n"
		"                         html: one self-contained file (inline SVG, no network):\n"
		"                         latency CDFs, the fraction still stale after t, swim-lane\n"
		"                         timelines of the worst keys, and the tables\n"
		"  -o, --out PATH         text, json: file to write (default, or '-': standard\n"
		"                         output); html: file to write (default report.html, '-':\n"
		"                         standard output);\n"
		"                         csv: directory to write the files into (default: DB's\n"
		"                         path without its extension, plus -report)\n"
		"      --deadline DURATION\n"
		"                         a recipient with no arrival this long after the origin\n"
		"                         is a missed invalidation (default 5s); one still\n"
		"                         waiting when the capture ended sooner is pending\n"
		"      --key-map 'METHOD /path/{id} -> key:{id}'\n"
		"                         an API call that matches METHOD and path is an origin of\n"
		"                         that key even when the key is invalidated only after the\n"
		"                         response; repeatable (at most %u)\n"
		"      --max-p99 DURATION SLO: fail when any recipient's p99 latency is above it\n"
		"      --max-missed N     SLO: fail when more than N invalidations were missed\n"
		"      --max-stale N      SLO: fail when there were more than N stale reads\n"
		"  -h, --help             this help\n"
		"\n"
		"DURATION is a number with a unit: ns, us, ms or s (500ms, 1.5s). Latency is the\n"
		"arrival time minus the origin's start. Percentiles are nearest-rank over the\n"
		"arrivals at each recipient: with n latencies sorted, the p-th percentile is the\n"
		"ceil(p * n / 100)-th one, so it is always a measured latency; missed\n"
		"invalidations are counted apart, not in the percentiles. Times are ms in text and\n"
		"JSON.\n"
		"\n"
		"It ends with one summary line on stderr (origins, recipients, arrivals, missed,\n"
		"stale reads, stale sets, valid), after one line per SLO breach.\n"
		"Exit status: 0 done, 1 runtime failure (out of memory, a write failed, the\n"
		"database stayed busy), 2 bad usage or input (not a cachetap database), 3 an SLO\n"
		"flag was breached.\n",
		CT_REPORT_TEXT_LIST_MAX, CT_REPORT_KEY_MAPS_MAX);
}

static int bad(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "cachetap report: %s: '%s' %s\n", opt, arg, why);
	return CT_EINVAL;
}

/* "500ms", "1.5s", "250us", "100ns": a non-negative number and a unit. */
static int parse_duration(const char *opt, const char *arg, uint64_t min_ns, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || arg[0] == '-' || arg[0] == '+' || !(v >= 0))
		return bad(opt, arg, "is not a duration (a number and ns, us, ms or s: 500ms)");
	for (size_t i = 0; i < CT_ARRAY_LEN(units); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		double t = v * units[i].mult;
		if (t > (double)CT_REPORT_DEADLINE_MAX_NS)
			return bad(opt, arg, "is too long (at most 3600s)");
		if (t + 0.5 < (double)min_ns)
			return bad(opt, arg, "is too short (at least 1ns)");
		*ns = (uint64_t)(t + 0.5);
		return 0;
	}
	return bad(opt, arg, "has no unit (ns, us, ms or s: 500ms)");
}

static int parse_count(const char *opt, const char *arg, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ')
		return bad(opt, arg, "is not a count (0 or more)");
	*out = v;
	return 0;
}

static void free_maps(struct opts *o)
{
	for (uint32_t i = 0; i < o->nmaps; i++)
		ct_key_map_free(&o->maps[i]);
	o->nmaps = 0;
}

/* Returns 0, 1 when --help was printed, or an error (message printed). */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	enum { OPT_DEADLINE = 256, OPT_KEY_MAP, OPT_MAX_P99, OPT_MAX_MISSED, OPT_MAX_STALE };
	static const struct option long_opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "deadline", required_argument, NULL, OPT_DEADLINE },
		{ "key-map", required_argument, NULL, OPT_KEY_MAP },
		{ "max-p99", required_argument, NULL, OPT_MAX_P99 },
		{ "max-missed", required_argument, NULL, OPT_MAX_MISSED },
		{ "max-stale", required_argument, NULL, OPT_MAX_STALE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int rc = 0, ch;
	memset(o, 0, sizeof *o);
	o->deadline_ns = CT_ANALYZE_DEADLINE_NS_DEFAULT;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:o:h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'h': return 1;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				o->format = FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = FMT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				o->format = FMT_CSV;
			else if (strcmp(optarg, "html") == 0)
				o->format = FMT_HTML;
			else
				rc = bad("--format", optarg, "is not one of text, json, csv, html");
			break;
		case 'o':
			if (!optarg[0])
				rc = bad("--out", optarg, "is empty");
			o->out = optarg;
			break;
		case OPT_DEADLINE: rc = parse_duration("--deadline", optarg, 1, &o->deadline_ns); break;
		case OPT_MAX_P99:
			rc = parse_duration("--max-p99", optarg, 0, &o->max_p99_ns);
			o->have_p99 = 1;
			o->p99_arg = optarg;
			break;
		case OPT_MAX_MISSED:
			rc = parse_count("--max-missed", optarg, &o->max_missed);
			o->have_missed = 1;
			break;
		case OPT_MAX_STALE:
			rc = parse_count("--max-stale", optarg, &o->max_stale);
			o->have_stale = 1;
			break;
		case OPT_KEY_MAP:
			if (o->nmaps >= CT_REPORT_KEY_MAPS_MAX) {
				char why[64];
				snprintf(why, sizeof why, "is one too many (at most %u)",
					 CT_REPORT_KEY_MAPS_MAX);
				rc = bad("--key-map", optarg, why);
				break;
			}
			if (ct_key_map_parse(optarg, &o->maps[o->nmaps]) != 0) {
				rc = bad("--key-map", optarg,
					 "is not 'METHOD /path/{var} -> key:{var}'");
				break;
			}
			o->nmaps++;
			break;
		case ':':
			fprintf(stderr, "cachetap report: option '%s' needs a value\n", argv[optind - 1]);
			return CT_EINVAL;
		default:
			fprintf(stderr, "cachetap report: unknown option '%s' (see cachetap report --help)\n",
				argv[optind - 1]);
			return CT_EINVAL;
		}
		if (rc)
			return rc;
	}
	if (argc - optind != 1) {
		if (argc - optind > 1)
			fprintf(stderr, "cachetap report: unexpected argument '%s' (one DB only)\n",
				argv[optind + 1]);
		else
			fprintf(stderr, "cachetap report: no DB given (see cachetap report --help)\n");
		return CT_EINVAL;
	}
	o->db = argv[optind];
	return 0;
}

/* ---- small helpers shared with report_html.c ---- */

int ct_report_utf8_seq(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	int len;
	unsigned min, cp;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (n < (size_t)len)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void ct_report_ms(int64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%.3f", (double)ns / 1e6);
}

const char *ct_report_label(const struct rp_recipient *r)
{
	return r->name ? r->name : r->recipient;
}

/* Text display of untrusted bytes: printable ASCII except backslash (and space, unless
 * spaces is set) as is, the rest \xNN, at most CT_REPORT_KEY_SHOWN_MAX_BYTES of input (then
 * "...(N bytes)"). */
static void esc_bytes(const void *p, size_t n, int spaces, char *out, size_t outlen)
{
	const unsigned char *s = p;
	size_t o = 0, shown = n < CT_REPORT_KEY_SHOWN_MAX_BYTES ? n : CT_REPORT_KEY_SHOWN_MAX_BYTES;
	out[0] = '\0';
	for (size_t i = 0; i < shown && o + 5 < outlen; i++) {
		if ((s[i] >= 0x21 || (spaces && s[i] == ' ')) && s[i] < 0x7f && s[i] != '\\')
			out[o++] = (char)s[i];
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", s[i]);
	}
	out[o < outlen ? o : outlen - 1] = '\0';
	if (shown < n && o + 24 < outlen)
		snprintf(out + o, outlen - o, "...(%zu bytes)", n);
}

static void esc_text(const void *p, size_t n, char *out, size_t outlen)
{
	esc_bytes(p, n, 0, out, outlen);
}

static void esc_line(const void *p, size_t n, char *out, size_t outlen)
{
	esc_bytes(p, n, 1, out, outlen);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	const void *b = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *s = ct_malloc(n + 1);
	if (s) {
		if (n)
			memcpy(s, b, n);
		s[n] = '\0';
	}
	return s;
}

/* ---- loading the model ---- */

struct ctx {
	sqlite3 *db;
	const char *path;
	char err[512];
};

static int sql_fail(struct ctx *c, const char *what)
{
	snprintf(c->err, sizeof c->err, "%s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
	return CT_ESQL;
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?1", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* Runs a query that returns one row of integers into v[0..n). NULL columns give 0. */
static int query_ints(struct ctx *c, const char *sql, int64_t *v, int n)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(c, "query");
	int rc = sqlite3_step(st);
	for (int i = 0; i < n; i++)
		v[i] = rc == SQLITE_ROW ? sqlite3_column_int64(st, i) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_fail(c, "query");
	return 0;
}

static void model_free(struct rp_model *m)
{
	ct_free(m->input);
	ct_free(m->command);
	ct_free(m->tool_version);
	for (uint32_t i = 0; i < m->nwarnings; i++)
		ct_free(m->warnings[i]);
	ct_free(m->warnings);
	for (uint32_t i = 0; i < m->nrec; i++) {
		struct rp_recipient *r = &m->rec[i];
		ct_free(r->recipient);
		ct_free(r->name);
		ct_free(r->role);
		ct_free(r->proto);
		ct_free(r->cdf);
	}
	ct_free(m->rec);
	ct_free(m->stale_curve);
	memset(m, 0, sizeof *m);
}

static int load_meta(struct ctx *c, struct rp_model *m)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT key, value FROM meta WHERE key IN"
				      " ('source', 'command', 'tool_version')",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(c, "meta");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		char **dst = !k ? NULL
			     : strcmp(k, "source") == 0	 ? &m->input
			     : strcmp(k, "command") == 0 ? &m->command
							 : &m->tool_version;
		if (dst && !*dst && !(*dst = col_dup(st, 1)) &&
		    sqlite3_column_type(st, 1) != SQLITE_NULL) {
			sqlite3_finalize(st);
			return CT_ENOMEM;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(c, "meta");
	return 0;
}

/* Capture counters: run_stats once the run ended; while it runs, what is known so far (the
 * connections and the latest live drop sample). */
static int load_capture(struct ctx *c, struct rp_model *m)
{
	int64_t v[7];
	int rc = query_ints(c,
			    "SELECT count(*), sum(packets), sum(kernel_drops) + sum(interface_drops),"
			    " sum(reassembly_gaps), sum(parse_errors), min(first_ts_ns), max(last_ts_ns)"
			    " FROM run_stats",
			    v, 7);
	if (rc)
		return rc;
	m->complete = v[0] > 0;
	if (m->complete) {
		m->packets = (uint64_t)v[1];
		m->drops = (uint64_t)v[2];
		m->gaps = (uint64_t)v[3];
		m->parse_errors = (uint64_t)v[4];
		m->first_ts_ns = v[5];
		m->last_ts_ns = v[6];
		return 0;
	}
	rc = query_ints(c,
			"SELECT sum(pkts_c2s) + sum(pkts_s2c), sum(gaps_c2s) + sum(gaps_s2c),"
			" (SELECT kernel_drops + iface_drops FROM capture_drops ORDER BY ts_ns DESC"
			"  LIMIT 1), (SELECT min(ts_ns) FROM events), (SELECT max(ts_ns) FROM events)"
			" FROM connections",
			v, 5);
	if (rc)
		return rc;
	m->packets = (uint64_t)v[0];
	m->gaps = (uint64_t)v[1];
	m->drops = (uint64_t)v[2];
	m->first_ts_ns = v[3];
	m->last_ts_ns = v[4];
	return 0;
}

static int add_warning(struct rp_model *m, const void *text, size_t n)
{
	m->warnings_total++;
	if (m->nwarnings >= CT_REPORT_WARNINGS_MAX)
		return 0;
	if (!m->warnings) {
		m->warnings = ct_calloc(CT_REPORT_WARNINGS_MAX, sizeof *m->warnings);
		if (!m->warnings)
			return CT_ENOMEM;
	}
	char *s = ct_malloc(n + 1);
	if (!s)
		return CT_ENOMEM;
	memcpy(s, text, n);
	s[n] = '\0';
	m->warnings[m->nwarnings++] = s;
	return 0;
}

static int load_warnings(struct ctx *c, struct rp_model *m)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT text FROM analysis_warnings ORDER BY rowid", -1, &st,
			       NULL) != SQLITE_OK)
		return sql_fail(c, "analysis_warnings");
	int rc, err = 0;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = add_warning(m, sqlite3_column_blob(st, 0),
				  (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	if (err)
		return err;
	if (rc != SQLITE_DONE)
		return sql_fail(c, "analysis_warnings");
	if (!m->complete) {
		static const char w[] = "the capture has not finished: counts cover what was "
					"committed so far";
		return add_warning(m, w, sizeof w - 1);
	}
	return 0;
}

/* Recipients: every recipient of the propagation table, and every node with a stale read or
 * set, with names and roles from the nodes table; named nodes first, by name. */
static int load_recipients(struct ctx *c, struct rp_model *m)
{
	static const char sql[] =
		"WITH p AS (SELECT recipient, max(proto) AS proto,"
		"   sum(missed = 0 AND arrival_ts_ns IS NOT NULL) AS arrivals,"
		"   sum(missed <> 0) AS missed, sum(missed = 0 AND arrival_ts_ns IS NULL) AS pending,"
		"   sum(missed = 0 AND arrival_ts_ns IS NOT NULL AND latency_ns IS NOT NULL) AS nlat"
		"   FROM propagation WHERE recipient IS NOT NULL GROUP BY recipient),"
		" s AS (SELECT node, count(*) AS n, max(stale_for_ns) AS mx FROM stale_reads"
		"   WHERE node IS NOT NULL GROUP BY node),"
		" ss AS (SELECT node, count(*) AS n FROM stale_sets WHERE node IS NOT NULL"
		"   GROUP BY node),"
		" r AS (SELECT recipient FROM p UNION SELECT node FROM s UNION SELECT node FROM ss)"
		" SELECT r.recipient, n.name, n.role, COALESCE(p.proto, (SELECT c.app FROM"
		"   connections c WHERE c.server = r.recipient OR c.client = r.recipient LIMIT 1)),"
		"   COALESCE(p.arrivals, 0), COALESCE(p.missed, 0), COALESCE(s.n, 0), s.mx,"
		"   COALESCE(ss.n, 0), COALESCE(p.nlat, 0), COALESCE(p.pending, 0)"
		" FROM r LEFT JOIN p ON p.recipient = r.recipient"
		"   LEFT JOIN s ON s.node = r.recipient LEFT JOIN ss ON ss.node = r.recipient"
		"   LEFT JOIN nodes n ON n.endpoint = r.recipient"
		" ORDER BY n.name IS NULL, n.name, r.recipient";
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(c, "recipients");
	uint32_t cap = 0;
	uint64_t dropped = 0;
	int rc, err = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (m->nrec >= CT_REPORT_RECIPIENTS_MAX) {
			dropped++;
			continue;
		}
		if (m->nrec == cap) {
			uint32_t ncap = cap ? cap * 2 : 16;
			if (ncap > CT_REPORT_RECIPIENTS_MAX)
				ncap = CT_REPORT_RECIPIENTS_MAX;
			struct rp_recipient *nr = ct_realloc(m->rec, (size_t)ncap * sizeof *nr);
			if (!nr) {
				err = CT_ENOMEM;
				break;
			}
			m->rec = nr;
			cap = ncap;
		}
		struct rp_recipient *r = &m->rec[m->nrec++];
		memset(r, 0, sizeof *r);
		r->recipient = col_dup(st, 0);
		r->name = col_dup(st, 1);
		r->role = col_dup(st, 2);
		r->proto = col_dup(st, 3);
		if (!r->recipient || (!r->name && sqlite3_column_type(st, 1) != SQLITE_NULL) ||
		    (!r->role && sqlite3_column_type(st, 2) != SQLITE_NULL) ||
		    (!r->proto && sqlite3_column_type(st, 3) != SQLITE_NULL)) {
			err = CT_ENOMEM;
			break;
		}
		r->arrivals = (uint64_t)sqlite3_column_int64(st, 4);
		r->missed = (uint64_t)sqlite3_column_int64(st, 5);
		r->stale_reads = (uint64_t)sqlite3_column_int64(st, 6);
		r->has_stale = sqlite3_column_type(st, 7) != SQLITE_NULL;
		r->max_stale_ns = sqlite3_column_int64(st, 7);
		r->stale_sets = (uint64_t)sqlite3_column_int64(st, 8);
		r->nlat = (uint64_t)sqlite3_column_int64(st, 9);
		r->pending = (uint64_t)sqlite3_column_int64(st, 10);
	}
	sqlite3_finalize(st);
	if (err)
		return err;
	if (rc != SQLITE_DONE)
		return sql_fail(c, "recipients");
	if (dropped) {
		char w[160];
		int n = snprintf(w, sizeof w,
				 "%" PRIu64 " more recipients are not listed (at most %u)", dropped,
				 CT_REPORT_RECIPIENTS_MAX);
		return add_warning(m, w, (size_t)n);
	}
	return 0;
}

/* The rank (1-based) of the p-th percentile of n values, nearest-rank method. */
static uint64_t rank_of(unsigned p, uint64_t n)
{
	uint64_t r = (p * n + 99) / 100;
	return r ? r : 1;
}

/* Keeps about CT_REPORT_CDF_POINTS of n ranked values: the first, the last, and one each
 * time the rank crosses a step of n / CT_REPORT_CDF_POINTS. */
static int keep_point(uint64_t i, uint64_t n)
{
	const uint64_t P = CT_REPORT_CDF_POINTS - 3;
	return i == 1 || i == n || (i * P) / n != ((i - 1) * P) / n;
}

static int cmp_rec_ptr(const void *a, const void *b)
{
	const struct rp_recipient *x = *(const struct rp_recipient *const *)a;
	const struct rp_recipient *y = *(const struct rp_recipient *const *)b;
	return strcmp(x->recipient, y->recipient);
}

/* Streams every arrival's latency once, in (recipient, latency) order, for percentiles and
 * the sampled CDFs; then once more in latency order for the "still stale after t" curve. */
static int load_latencies(struct ctx *c, struct rp_model *m)
{
	struct rp_recipient **idx = NULL;
	sqlite3_stmt *st = NULL;
	int rc, err = 0;
	if (m->nrec) {
		idx = ct_malloc((size_t)m->nrec * sizeof *idx);
		if (!idx)
			return CT_ENOMEM;
		for (uint32_t i = 0; i < m->nrec; i++)
			idx[i] = &m->rec[i];
		qsort(idx, m->nrec, sizeof *idx, cmp_rec_ptr);
	}
	if (sqlite3_prepare_v2(c->db,
			       "SELECT recipient, latency_ns FROM propagation WHERE missed = 0 AND"
			       " arrival_ts_ns IS NOT NULL AND latency_ns IS NOT NULL AND"
			       " recipient IS NOT NULL"
			       " ORDER BY recipient, latency_ns",
			       -1, &st, NULL) != SQLITE_OK) {
		ct_free(idx);
		return sql_fail(c, "propagation");
	}
	struct rp_recipient *cur = NULL;
	uint64_t i = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rcp = (const char *)sqlite3_column_text(st, 0);
		if (!rcp)
			continue;
		if (!cur || strcmp(cur->recipient, rcp) != 0) {
			struct rp_recipient key = { .recipient = (char *)rcp }, *kp = &key;
			struct rp_recipient **hit =
				m->nrec ? bsearch(&kp, idx, m->nrec, sizeof *idx, cmp_rec_ptr) : NULL;
			cur = hit ? *hit : NULL;
			i = 0;
			if (!cur)
				continue; /* past CT_REPORT_RECIPIENTS_MAX */
		}
		if (!cur || ++i > cur->nlat)
			continue;
		int64_t ns = sqlite3_column_int64(st, 1);
		uint64_t n = cur->nlat;
		if (i == rank_of(50, n))
			cur->p50 = ns;
		if (i == rank_of(90, n))
			cur->p90 = ns;
		if (i == rank_of(99, n))
			cur->p99 = ns;
		if (i == n)
			cur->max = ns;
		if (keep_point(i, n)) {
			if (!cur->cdf && !(cur->cdf = ct_malloc(CT_REPORT_CDF_POINTS * sizeof *cur->cdf))) {
				err = CT_ENOMEM;
				break;
			}
			if (cur->ncdf < CT_REPORT_CDF_POINTS)
				cur->cdf[cur->ncdf++] = (struct rp_point){ ns, (double)i / (double)n };
		}
	}
	sqlite3_finalize(st);
	ct_free(idx);
	if (err)
		return err;
	if (rc != SQLITE_DONE)
		return sql_fail(c, "propagation");

	int64_t tot[2];
	if ((rc = query_ints(c, "SELECT sum(missed = 0 AND arrival_ts_ns IS NOT NULL AND"
				" latency_ns IS NOT NULL), sum(missed <> 0) FROM propagation"
				" WHERE recipient IS NOT NULL",
			     tot, 2)))
		return rc;
	uint64_t n_arr = (uint64_t)tot[0], total = n_arr + (uint64_t)tot[1];
	if (!total)
		return 0;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT latency_ns FROM propagation WHERE missed = 0 AND"
			       " arrival_ts_ns IS NOT NULL AND latency_ns IS NOT NULL AND"
			       " recipient IS NOT NULL ORDER BY latency_ns",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(c, "propagation");
	m->stale_curve = ct_malloc(CT_REPORT_CDF_POINTS * sizeof *m->stale_curve);
	if (!m->stale_curve) {
		sqlite3_finalize(st);
		return CT_ENOMEM;
	}
	i = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (++i > n_arr)
			break;
		if (keep_point(i, n_arr) && m->nstale_curve < CT_REPORT_CDF_POINTS)
			m->stale_curve[m->nstale_curve++] = (struct rp_point){
				sqlite3_column_int64(st, 0), (double)(total - i) / (double)total
			};
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sql_fail(c, "propagation");
	return 0;
}

static int load_model(struct ctx *c, struct rp_model *m)
{
	int rc;
	int64_t v[7];
	if ((rc = load_meta(c, m)) || (rc = load_capture(c, m)))
		return rc;
	if ((rc = query_ints(c,
			     "SELECT (SELECT count(*) FROM origins), (SELECT count(*) FROM propagation),"
			     " (SELECT count(*) FROM propagation WHERE missed = 0 AND"
			     "  arrival_ts_ns IS NOT NULL),"
			     " (SELECT count(*) FROM propagation WHERE missed <> 0),"
			     " (SELECT count(*) FROM stale_reads), (SELECT count(*) FROM stale_sets),"
			     " (SELECT count(*) FROM propagation WHERE missed = 0 AND"
			     "  arrival_ts_ns IS NULL)",
			     v, 7)))
		return rc;
	m->origins = (uint64_t)v[0];
	m->propagation_rows = (uint64_t)v[1];
	m->arrivals = (uint64_t)v[2];
	m->missed = (uint64_t)v[3];
	m->stale_reads = (uint64_t)v[4];
	m->stale_sets = (uint64_t)v[5];
	m->pending = (uint64_t)v[6];
	m->has_api_calls = table_exists(c->db, "api_calls");
	if ((rc = load_warnings(c, m)) || (rc = load_recipients(c, m)) ||
	    (rc = load_latencies(c, m)))
		return rc;
	return 0;
}

/* SQL for "METHOD path" of a row's api_call_id (NULL without an api_calls table). */
static const char *call_expr(const struct rp_model *m, int which)
{
	static const char *const with[] = {
		"(SELECT a.method || ' ' || a.path FROM api_calls a WHERE a.id = x.api_call_id)",
	};
	return m->has_api_calls ? with[which] : "NULL";
}

/* ---- text ---- */

static void put_cell(FILE *out, const char *s, int width, int right)
{
	if (right)
		fprintf(out, "%*s", width, s);
	else
		fprintf(out, "%-*s", width, s);
}

static void ms_or_dash(int has, int64_t ns, char *buf, size_t len)
{
	if (has)
		ct_report_ms(ns, buf, len);
	else
		snprintf(buf, len, "-");
}

enum { TC_RECIPIENT, TC_NAME, TC_ROLE, TC_PROTO, TC_ARRIVALS, TC_MISSED, TC_STALE, TC_MAXSTALE,
       TC_P50, TC_P90, TC_P99, TC_MAX, TC_COUNT };

static void text_cells(const struct rp_recipient *r, char cell[TC_COUNT][256])
{
	esc_text(r->recipient, strlen(r->recipient), cell[TC_RECIPIENT], 256);
	esc_text(r->name ? r->name : "-", strlen(r->name ? r->name : "-"), cell[TC_NAME], 256);
	esc_text(r->role ? r->role : "-", strlen(r->role ? r->role : "-"), cell[TC_ROLE], 256);
	esc_text(r->proto ? r->proto : "-", strlen(r->proto ? r->proto : "-"), cell[TC_PROTO], 256);
	snprintf(cell[TC_ARRIVALS], 256, "%" PRIu64, r->arrivals);
	snprintf(cell[TC_MISSED], 256, "%" PRIu64, r->missed);
	snprintf(cell[TC_STALE], 256, "%" PRIu64, r->stale_reads);
	ms_or_dash(r->has_stale, r->max_stale_ns, cell[TC_MAXSTALE], 256);
	ms_or_dash(r->nlat > 0, r->p50, cell[TC_P50], 256);
	ms_or_dash(r->nlat > 0, r->p90, cell[TC_P90], 256);
	ms_or_dash(r->nlat > 0, r->p99, cell[TC_P99], 256);
	ms_or_dash(r->nlat > 0, r->max, cell[TC_MAX], 256);
}

static void text_table(FILE *out, const struct rp_model *m)
{
	static const char *const head[TC_COUNT] = {
		"recipient", "name", "role", "proto", "arrivals", "missed", "stale_reads",
		"max_stale_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms",
	};
	char cell[TC_COUNT][256];
	int width[TC_COUNT];
	for (int k = 0; k < TC_COUNT; k++)
		width[k] = (int)strlen(head[k]);
	for (uint32_t i = 0; i < m->nrec; i++) {
		text_cells(&m->rec[i], cell);
		for (int k = 0; k < TC_COUNT; k++)
			if ((int)strlen(cell[k]) > width[k])
				width[k] = (int)strlen(cell[k]);
	}
	for (int k = 0; k < TC_COUNT; k++) {
		if (k)
			fputs("  ", out);
		put_cell(out, head[k], width[k], k >= TC_ARRIVALS);
	}
	fputc('\n', out);
	for (uint32_t i = 0; i < m->nrec; i++) {
		text_cells(&m->rec[i], cell);
		for (int k = 0; k < TC_COUNT; k++) {
			if (k)
				fputs("  ", out);
			put_cell(out, cell[k], width[k], k >= TC_ARRIVALS);
		}
		fputc('\n', out);
	}
}

/* Formats "name (ip:port)" or "ip:port" for a node of a list row. */
static void node_label(sqlite3_stmt *st, int ep_col, int name_col, char *buf, size_t len)
{
	char ep[128], name[160];
	esc_text(sqlite3_column_blob(st, ep_col), (size_t)sqlite3_column_bytes(st, ep_col), ep,
		 sizeof ep);
	if (sqlite3_column_type(st, name_col) == SQLITE_NULL) {
		snprintf(buf, len, "%s", ep);
		return;
	}
	esc_text(sqlite3_column_blob(st, name_col), (size_t)sqlite3_column_bytes(st, name_col),
		 name, sizeof name);
	snprintf(buf, len, "%s (%s)", name, ep);
}

/* One text list: a title with the total, at most CT_REPORT_TEXT_LIST_MAX rows, "... N more".
 * Each row of sql gives: time, node, node name, key, a value in ns (shown under value_head
 * unless that is NULL), api call. */
static int text_list(struct ctx *c, FILE *out, const char *title, const char *value_head,
		     const char *sql, uint64_t total)
{
	fprintf(out, "\n%s: %" PRIu64 "\n", title, total);
	if (!total)
		return 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(c, title);
	sqlite3_bind_int64(st, 1, CT_REPORT_TEXT_LIST_MAX);
	fprintf(out, "  %-30s  ", "time (UTC)");
	if (value_head)
		fprintf(out, "%12s  ", value_head);
	fprintf(out, "%-32s  %s\n", "recipient", "key [api call]");
	int rc;
	uint64_t shown = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char when[CT_TIME_STRLEN], node[320], key[4 * CT_REPORT_KEY_SHOWN_MAX_BYTES + 32],
			val[48], call[4 * CT_REPORT_KEY_SHOWN_MAX_BYTES + 32];
		ct_format_time((uint64_t)sqlite3_column_int64(st, 0), when, sizeof when);
		node_label(st, 1, 2, node, sizeof node);
		esc_text(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), key,
			 sizeof key);
		ms_or_dash(sqlite3_column_type(st, 4) != SQLITE_NULL, sqlite3_column_int64(st, 4), val,
			   sizeof val);
		fprintf(out, "  %-30s  ", when);
		if (value_head)
			fprintf(out, "%12s  ", val);
		fprintf(out, "%-32s  %s", node, key);
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			esc_line(sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5), call,
				 sizeof call);
			fprintf(out, " [%s]", call);
		}
		fputc('\n', out);
		shown++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(c, title);
	if (shown < total)
		fprintf(out, "  ... %" PRIu64 " more\n", total - shown);
	return 0;
}

static void print_ms_field(FILE *out, uint64_t ns)
{
	char b[48];
	ct_report_ms((int64_t)ns, b, sizeof b);
	fprintf(out, "%s ms", b);
}

static int write_text(struct ctx *c, const struct rp_model *m, FILE *out)
{
	char buf[1024], a[CT_TIME_STRLEN], b[CT_TIME_STRLEN];
	esc_line(m->db_path, strlen(m->db_path), buf, sizeof buf);
	fprintf(out, "cachetap propagation report: %s\n", buf);
	esc_line(m->input ? m->input : "-", strlen(m->input ? m->input : "-"), buf, sizeof buf);
	fprintf(out, "source        %s (%s, cachetap %s)%s\n", buf, m->command ? m->command : "-",
		m->tool_version ? m->tool_version : "-", m->complete ? "" : ", still running");
	if (m->first_ts_ns || m->last_ts_ns) {
		ct_format_time((uint64_t)m->first_ts_ns, a, sizeof a);
		ct_format_time((uint64_t)m->last_ts_ns, b, sizeof b);
		fprintf(out, "window        %s to %s\n", a, b);
	}
	fprintf(out,
		"capture       packets %" PRIu64 ", drops %" PRIu64 ", gaps %" PRIu64
		", parse errors %" PRIu64 "\n",
		m->packets, m->drops, m->gaps, m->parse_errors);
	fprintf(out, "origins       %" PRIu64 " (deadline ", m->origins);
	print_ms_field(out, m->deadline_ns);
	fputs(")\n", out);
	fprintf(out,
		"totals        arrivals %" PRIu64 ", missed %" PRIu64 ", pending %" PRIu64
		", stale reads %" PRIu64 ", stale sets %" PRIu64 "\n",
		m->arrivals, m->missed, m->pending, m->stale_reads, m->stale_sets);
	fprintf(out, "valid         %s\n", m->valid ? "yes" : "no");
	for (uint32_t i = 0; i < m->nwarnings; i++) {
		esc_line(m->warnings[i], strlen(m->warnings[i]), buf, sizeof buf);
		fprintf(out, "warning       %s\n", buf);
	}
	if (m->warnings_total > m->nwarnings)
		fprintf(out, "warning       ... %" PRIu64 " more\n", m->warnings_total - m->nwarnings);
	fputc('\n', out);
	if (m->nrec)
		text_table(out, m);
	else
		fputs("no recipients: no origins were found\n", out);

	char sql[1024];
	int rc;
	snprintf(sql, sizeof sql,
		 "SELECT x.origin_ts_ns, x.recipient, n.name, x.key, NULL, %s FROM propagation x"
		 " LEFT JOIN nodes n ON n.endpoint = x.recipient WHERE x.missed <> 0"
		 " ORDER BY x.origin_ts_ns, x.key, x.recipient LIMIT ?1",
		 call_expr(m, 0));
	if ((rc = text_list(c, out, "missed invalidations", NULL, sql, m->missed)))
		return rc;
	snprintf(sql, sizeof sql,
		 "SELECT x.ts_ns, x.node, n.name, x.key, x.stale_for_ns, %s FROM stale_reads x"
		 " LEFT JOIN nodes n ON n.endpoint = x.node"
		 " ORDER BY x.stale_for_ns DESC, x.ts_ns, x.node LIMIT ?1",
		 call_expr(m, 0));
	if ((rc = text_list(c, out, "stale reads (worst first)", "stale_for_ms", sql,
			    m->stale_reads)))
		return rc;
	snprintf(sql, sizeof sql,
		 "SELECT x.ts_ns, x.node, n.name, x.key, x.after_arrival_ns, %s FROM stale_sets x"
		 " LEFT JOIN nodes n ON n.endpoint = x.node"
		 " ORDER BY x.after_arrival_ns DESC, x.ts_ns, x.node LIMIT ?1",
		 call_expr(m, 0));
	return text_list(c, out, "stale sets (worst first)", "after_ms", sql, m->stale_sets);
}

/* ---- JSON ---- */

#define JFLAGS (JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* A JSON string of untrusted bytes: well-formed UTF-8 as is, any other byte as "\xNN". */
static json_t *jbytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;
	while (i < n) {
		int k = ct_report_utf8_seq(s + i, n - i);
		if (!k)
			break;
		i += (size_t)k;
	}
	if (i == n)
		return json_stringn_nocheck((const char *)s, n);
	struct ct_buf b = { 0 };
	json_t *j = NULL;
	for (i = 0; i < n;) {
		int k = ct_report_utf8_seq(s + i, n - i);
		if (k ? ct_buf_add(&b, s + i, (size_t)k) : ct_buf_printf(&b, "\\x%02x", s[i]))
			goto out;
		i += k ? (size_t)k : 1;
	}
	j = json_stringn_nocheck(ct_buf_str(&b), b.len);
out:
	ct_buf_free(&b);
	return j;
}

static json_t *jcol_str(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return jbytes(sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
}

static json_t *jcol_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

static json_t *jms(int64_t ns)
{
	return json_real((double)ns / 1e6);
}

static json_t *jcol_ms(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return jms(sqlite3_column_int64(st, i));
}

static json_t *jstr_or_null(const char *s)
{
	return s ? jbytes(s, strlen(s)) : json_null();
}

/* Adds v under k; a NULL v (allocation failure) marks the object bad. */
static int jset(json_t *o, const char *k, json_t *v)
{
	return !o || !v || json_object_set_new(o, k, v) != 0;
}

/* Dumps j (and drops it); 0 or CT_ENOMEM. */
static int jdump(FILE *out, json_t *j, int bad_flag)
{
	int rc = (!j || bad_flag || json_dumpf(j, out, JFLAGS) != 0) ? CT_ENOMEM : 0;
	json_decref(j);
	return rc;
}

static json_t *json_recipient(const struct rp_recipient *r)
{
	json_t *o = json_object(), *lat;
	int bad_ = 0;
	bad_ |= jset(o, "recipient", jbytes(r->recipient, strlen(r->recipient)));
	bad_ |= jset(o, "name", jstr_or_null(r->name));
	bad_ |= jset(o, "role", jstr_or_null(r->role));
	bad_ |= jset(o, "proto", jstr_or_null(r->proto));
	bad_ |= jset(o, "arrivals", json_integer((json_int_t)r->arrivals));
	bad_ |= jset(o, "missed", json_integer((json_int_t)r->missed));
	bad_ |= jset(o, "stale_reads", json_integer((json_int_t)r->stale_reads));
	bad_ |= jset(o, "max_stale_ms", r->has_stale ? jms(r->max_stale_ns) : json_null());
	if (r->nlat) {
		lat = json_object();
		bad_ |= jset(lat, "p50", jms(r->p50));
		bad_ |= jset(lat, "p90", jms(r->p90));
		bad_ |= jset(lat, "p99", jms(r->p99));
		bad_ |= jset(lat, "max", jms(r->max));
	} else {
		lat = json_null();
	}
	bad_ |= jset(o, "latency_ms", lat);
	bad_ |= jset(o, "stale_sets", json_integer((json_int_t)r->stale_sets));
	bad_ |= jset(o, "pending", json_integer((json_int_t)r->pending));
	if (bad_) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Streams one list of SPEC 7 as "  "name": [ {...}, ... ]". Each column of sql becomes a
 * field named by names[i], typed by kinds[i]: 's' string, 'i' integer, 'm' ns as ms. */
static int json_list(struct ctx *c, FILE *out, const char *name, const char *sql,
		     const char *const *names, const char *kinds)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(c, name);
	fprintf(out, "  \"%s\": [", name);
	int rc, err = 0;
	uint64_t n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		int bad_ = 0;
		for (int i = 0; names[i]; i++)
			bad_ |= jset(o, names[i],
				     kinds[i] == 's'   ? jcol_str(st, i)
				     : kinds[i] == 'i' ? jcol_int(st, i)
						       : jcol_ms(st, i));
		fputs(n++ ? ",\n    " : "\n    ", out);
		if ((err = jdump(out, o, bad_)))
			break;
	}
	sqlite3_finalize(st);
	if (err)
		return err;
	if (rc != SQLITE_DONE)
		return sql_fail(c, name);
	fputs(n ? "\n  ],\n" : "],\n", out);
	return 0;
}

static int write_json(struct ctx *c, const struct rp_model *m, FILE *out)
{
	int bad_ = 0, rc;
	json_t *src = json_object();
	bad_ |= jset(src, "input", jstr_or_null(m->input));
	bad_ |= jset(src, "command", jstr_or_null(m->command));
	bad_ |= jset(src, "tool_version", jstr_or_null(m->tool_version));
	bad_ |= jset(src, "first_ts_ns", json_integer(m->first_ts_ns));
	bad_ |= jset(src, "last_ts_ns", json_integer(m->last_ts_ns));
	bad_ |= jset(src, "complete", json_boolean(m->complete));
	fputs("{\n  \"schema\": 1,\n  \"source\": ", out);
	if ((rc = jdump(out, src, bad_)))
		return rc;
	json_t *cap = json_object();
	bad_ = 0;
	bad_ |= jset(cap, "packets", json_integer((json_int_t)m->packets));
	bad_ |= jset(cap, "drops", json_integer((json_int_t)m->drops));
	bad_ |= jset(cap, "gaps", json_integer((json_int_t)m->gaps));
	bad_ |= jset(cap, "parse_errors", json_integer((json_int_t)m->parse_errors));
	fputs(",\n  \"capture\": ", out);
	if ((rc = jdump(out, cap, bad_)))
		return rc;
	fprintf(out, ",\n  \"origins\": %" PRIu64 ",\n  \"deadline_ms\": ", m->origins);
	if ((rc = jdump(out, jms((int64_t)m->deadline_ns), 0)))
		return rc;
	json_t *tot = json_object();
	bad_ = 0;
	bad_ |= jset(tot, "propagation", json_integer((json_int_t)m->propagation_rows));
	bad_ |= jset(tot, "arrivals", json_integer((json_int_t)m->arrivals));
	bad_ |= jset(tot, "missed", json_integer((json_int_t)m->missed));
	bad_ |= jset(tot, "pending", json_integer((json_int_t)m->pending));
	bad_ |= jset(tot, "stale_reads", json_integer((json_int_t)m->stale_reads));
	bad_ |= jset(tot, "stale_sets", json_integer((json_int_t)m->stale_sets));
	fputs(",\n  \"totals\": ", out);
	if ((rc = jdump(out, tot, bad_)))
		return rc;
	fputs(",\n  \"recipients\": [", out);
	for (uint32_t i = 0; i < m->nrec; i++) {
		fputs(i ? ",\n    " : "\n    ", out);
		if ((rc = jdump(out, json_recipient(&m->rec[i]), 0)))
			return rc;
	}
	fputs(m->nrec ? "\n  ],\n" : "],\n", out);

	static const char *const missed_names[] = { "origin_id", "api_call_id", "key",
						    "recipient", "name", "origin_ts_ns", NULL };
	if ((rc = json_list(c, out, "missed",
			    "SELECT x.origin_id, x.api_call_id, x.key, x.recipient, n.name,"
			    " x.origin_ts_ns FROM propagation x LEFT JOIN nodes n"
			    " ON n.endpoint = x.recipient WHERE x.missed <> 0"
			    " ORDER BY x.origin_ts_ns, x.key, x.recipient",
			    missed_names, "iisssi")))
		return rc;
	static const char *const sr_names[] = { "ts_ns", "node", "name", "key", "api_call_id",
						"origin_id", "event_id", "stale_for_ms",
						"value_hash", NULL };
	if ((rc = json_list(c, out, "stale_reads",
			    "SELECT x.ts_ns, x.node, n.name, x.key, x.api_call_id, x.origin_id,"
			    " x.event_id, x.stale_for_ns, x.value_hash FROM stale_reads x"
			    " LEFT JOIN nodes n ON n.endpoint = x.node"
			    " ORDER BY x.stale_for_ns DESC, x.ts_ns, x.node, x.event_id",
			    sr_names, "isssiiims")))
		return rc;
	static const char *const ss_names[] = { "ts_ns", "node", "name", "key", "api_call_id",
						"origin_id", "event_id", "after_arrival_ms",
						"value_hash", NULL };
	if ((rc = json_list(c, out, "stale_sets",
			    "SELECT x.ts_ns, x.node, n.name, x.key, x.api_call_id, x.origin_id,"
			    " x.event_id, x.after_arrival_ns, x.value_hash FROM stale_sets x"
			    " LEFT JOIN nodes n ON n.endpoint = x.node"
			    " ORDER BY x.after_arrival_ns DESC, x.ts_ns, x.node, x.event_id",
			    ss_names, "isssiiims")))
		return rc;
	fprintf(out, "  \"valid\": %s,\n  \"warnings\": [", m->valid ? "true" : "false");
	for (uint32_t i = 0; i < m->nwarnings; i++) {
		fputs(i ? ",\n    " : "\n    ", out);
		if ((rc = jdump(out, jbytes(m->warnings[i], strlen(m->warnings[i])), 0)))
			return rc;
	}
	fputs(m->nwarnings ? "\n  ]\n}\n" : "]\n}\n", out);
	return 0;
}

/* ---- CSV (RFC 4180: CRLF line ends; a field with a comma, quote, CR or LF is quoted and
 * its quotes doubled) ---- */

static void csv_field(FILE *out, const void *p, size_t n)
{
	const char *s = p;
	int quote = 0;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (!quote) {
		fwrite(s, 1, n, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

static void csv_col(FILE *out, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL: break;
	case SQLITE_INTEGER: fprintf(out, "%lld", (long long)sqlite3_column_int64(st, i)); break;
	case SQLITE_FLOAT: fprintf(out, "%.15g", sqlite3_column_double(st, i)); break;
	default:
		csv_field(out, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
		break;
	}
}

static int open_out(struct ctx *c, const char *path, FILE **f)
{
	*f = fopen(path, "w");
	if (!*f) {
		snprintf(c->err, sizeof c->err, "--out %.400s: %s", path, strerror(errno));
		return CT_EINVAL;
	}
	return 0;
}

static int close_out(struct ctx *c, const char *path, FILE *f, int rc)
{
	int bad_ = ferror(f);
	if (fclose(f) != 0)
		bad_ = 1;
	if (!rc && bad_) {
		snprintf(c->err, sizeof c->err, "%.400s: write failed: %s", path, strerror(errno));
		return CT_EIO;
	}
	return rc;
}

static int csv_path(struct ctx *c, const char *dir, const char *name, char *path, size_t len)
{
	if ((size_t)snprintf(path, len, "%s/%s.csv", dir, name) >= len) {
		snprintf(c->err, sizeof c->err, "--out %.400s: too long a path", dir);
		return CT_EINVAL;
	}
	return 0;
}

/* Writes one query into dir/name.csv, with the column names as its header. */
static int csv_query(struct ctx *c, const char *dir, const char *name, const char *sql)
{
	char path[4096];
	FILE *f;
	sqlite3_stmt *st = NULL;
	if (csv_path(c, dir, name, path, sizeof path))
		return CT_EINVAL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(c, name);
	int rc = open_out(c, path, &f);
	if (rc) {
		sqlite3_finalize(st);
		return rc;
	}
	int ncol = sqlite3_column_count(st);
	for (int i = 0; i < ncol; i++) {
		const char *h = sqlite3_column_name(st, i);
		if (i)
			fputc(',', f);
		csv_field(f, h, strlen(h));
	}
	fputs("\r\n", f);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++) {
			if (i)
				fputc(',', f);
			csv_col(f, st, i);
		}
		fputs("\r\n", f);
	}
	if (step != SQLITE_DONE)
		rc = sql_fail(c, name);
	sqlite3_finalize(st);
	return close_out(c, path, f, rc);
}

static void csv_text(FILE *f, const char *s)
{
	if (s)
		csv_field(f, s, strlen(s));
}

static void csv_ms(FILE *f, int has, int64_t ns)
{
	if (has)
		fprintf(f, "%.15g", (double)ns / 1e6);
}

static int csv_recipients(struct ctx *c, const struct rp_model *m, const char *dir)
{
	char path[4096];
	FILE *f;
	if (csv_path(c, dir, "recipients", path, sizeof path))
		return CT_EINVAL;
	int rc = open_out(c, path, &f);
	if (rc)
		return rc;
	fputs("recipient,name,role,proto,arrivals,missed,pending,stale_reads,stale_sets,"
	      "max_stale_ms,p50_ms,p90_ms,p99_ms,max_ms\r\n",
	      f);
	for (uint32_t i = 0; i < m->nrec; i++) {
		const struct rp_recipient *r = &m->rec[i];
		csv_text(f, r->recipient);
		fputc(',', f);
		csv_text(f, r->name);
		fputc(',', f);
		csv_text(f, r->role);
		fputc(',', f);
		csv_text(f, r->proto);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
			r->arrivals, r->missed, r->pending, r->stale_reads, r->stale_sets);
		csv_ms(f, r->has_stale, r->max_stale_ns);
		int64_t v[4] = { r->p50, r->p90, r->p99, r->max };
		for (int k = 0; k < 4; k++) {
			fputc(',', f);
			csv_ms(f, r->nlat > 0, v[k]);
		}
		fputs("\r\n", f);
	}
	return close_out(c, path, f, 0);
}

/* The default CSV directory: DB's path without its extension, plus "-report". */
static void default_csv_dir(const char *db, char *out, size_t len)
{
	const char *slash = strrchr(db, '/');
	const char *base = slash ? slash + 1 : db;
	const char *dot = strrchr(base, '.');
	size_t keep = dot && dot != base ? (size_t)(dot - db) : strlen(db);
	snprintf(out, len, "%.*s-report", (int)keep, db);
}

static int write_csv(struct ctx *c, const struct rp_model *m, const char *dir)
{
	struct stat sb;
	if (mkdir(dir, 0777) != 0 && (errno != EEXIST || stat(dir, &sb) != 0 ||
				      !S_ISDIR(sb.st_mode))) {
		snprintf(c->err, sizeof c->err, "--out %.400s: %s", dir,
			 errno == EEXIST ? "exists and is not a directory" : strerror(errno));
		return CT_EINVAL;
	}
	int rc;
	if ((rc = csv_query(c, dir, "origins", "SELECT * FROM origins ORDER BY id")) ||
	    (rc = csv_query(c, dir, "propagation", "SELECT * FROM propagation ORDER BY rowid")) ||
	    (rc = csv_query(c, dir, "stale_reads", "SELECT * FROM stale_reads ORDER BY rowid")) ||
	    (rc = csv_query(c, dir, "stale_sets", "SELECT * FROM stale_sets ORDER BY rowid")) ||
	    (rc = csv_recipients(c, m, dir)))
		return rc;
	if (m->has_api_calls)
		rc = csv_query(c, dir, "api_calls", "SELECT * FROM api_calls ORDER BY id");
	return rc;
}

/* ---- the command ---- */

static int analyze(struct ctx *c, const struct opts *o, struct ct_analyze_result *r)
{
	struct ct_analyze_opts ao = {
		.deadline_ns = o->deadline_ns,
		.key_maps = o->maps,
		.nkey_maps = o->nmaps,
	};
	memset(r, 0, sizeof *r);
	int rc = ct_analyze(c->db, &ao, r);
	if (rc)
		snprintf(c->err, sizeof c->err, "%s: analysis failed: %s (%s)", c->path,
			 ct_strerror(rc), sqlite3_errmsg(c->db));
	return rc;
}

/* Opens DB read-write (never creating it) and checks that it is a cachetap database. */
static int open_db(struct ctx *c, const char *path)
{
	c->path = path;
	if (access(path, R_OK) != 0) {
		snprintf(c->err, sizeof c->err, "%s: %s", path, strerror(errno));
		return CT_EINVAL;
	}
	if (access(path, W_OK) != 0) {
		snprintf(c->err, sizeof c->err, "%s: not writable (%s): the report writes its"
			 " analysis tables into it", path, strerror(errno));
		return CT_EINVAL;
	}
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(c->err, sizeof c->err, "%s: %s", path,
			 c->db ? sqlite3_errmsg(c->db) : "cannot open");
		return CT_EINVAL;
	}
	sqlite3_busy_timeout(c->db, CT_REPORT_BUSY_TIMEOUT_MS);
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = 'schema_version'",
				    -1, &st, NULL) == SQLITE_OK &&
		 sqlite3_step(st) == SQLITE_ROW && table_exists(c->db, "timeline");
	sqlite3_finalize(st);
	if (!ok) {
		snprintf(c->err, sizeof c->err, "%s: not a cachetap database", path);
		return CT_EINVAL;
	}
	return 0;
}

static int slo_check(const struct opts *o, const struct rp_model *m)
{
	int breached = 0;
	char a[48], b[48];
	if (o->have_p99) {
		for (uint32_t i = 0; i < m->nrec; i++) {
			const struct rp_recipient *r = &m->rec[i];
			if (!r->nlat || r->p99 <= (int64_t)o->max_p99_ns)
				continue;
			char who[256];
			esc_text(ct_report_label(r), strlen(ct_report_label(r)), who, sizeof who);
			ct_report_ms(r->p99, a, sizeof a);
			ct_report_ms((int64_t)o->max_p99_ns, b, sizeof b);
			fprintf(stderr,
				"cachetap report: SLO breached: --max-p99 %s: p99 at %s (%s) is %s ms,"
				" above %s ms\n",
				o->p99_arg, who, r->recipient, a, b);
			breached = 1;
		}
	}
	if (o->have_missed && m->missed > o->max_missed) {
		fprintf(stderr,
			"cachetap report: SLO breached: --max-missed %" PRIu64 ": %" PRIu64
			" missed invalidations\n",
			o->max_missed, m->missed);
		breached = 1;
	}
	if (o->have_stale && m->stale_reads > o->max_stale) {
		fprintf(stderr,
			"cachetap report: SLO breached: --max-stale %" PRIu64 ": %" PRIu64
			" stale reads\n",
			o->max_stale, m->stale_reads);
		breached = 1;
	}
	return breached;
}

static int render(struct ctx *c, const struct opts *o, const struct rp_model *m)
{
	char dir[4096];
	const char *path = o->out;
	FILE *f = stdout;
	int rc;
	if (o->format == FMT_CSV) {
		if (!path) {
			default_csv_dir(o->db, dir, sizeof dir);
			path = dir;
		}
		return write_csv(c, m, path);
	}
	if (o->format == FMT_HTML && !path)
		path = "report.html";
	if (path && strcmp(path, "-") == 0)
		path = NULL; /* standard output */
	if (path && (rc = open_out(c, path, &f)))
		return rc;
	switch (o->format) {
	case FMT_JSON: rc = write_json(c, m, f); break;
	case FMT_HTML:
		rc = ct_report_html(c->db, m, f);
		if (rc == CT_ESQL)
			sql_fail(c, "html");
		break;
	default: rc = write_text(c, m, f); break;
	}
	if (rc == CT_ENOMEM && !c->err[0])
		snprintf(c->err, sizeof c->err, "out of memory");
	if (path)
		return close_out(c, path, f, rc);
	if (fflush(stdout) != 0 && !rc) {
		snprintf(c->err, sizeof c->err, "standard output: %s", strerror(errno));
		return CT_EIO;
	}
	return rc;
}

int ct_cmd_report(int argc, char **argv)
{
	struct opts o;
	struct ctx c;
	struct rp_model m;
	struct ct_analyze_result ar;
	memset(&c, 0, sizeof c);
	memset(&m, 0, sizeof m);
	int rc = parse_opts(&o, argc, argv);
	if (rc == 1) {
		usage(stdout);
		free_maps(&o);
		return EXIT_DONE;
	}
	if (rc) {
		free_maps(&o);
		return EXIT_USAGE;
	}
	int status = EXIT_USAGE;
	if (open_db(&c, o.db))
		goto out;
	status = EXIT_RUNTIME;
	if (analyze(&c, &o, &ar))
		goto out;
	/* One snapshot for every query below, whatever the live capture commits meanwhile. */
	if (sqlite3_exec(c.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		sql_fail(&c, "begin");
		goto out;
	}
	m.db_path = o.db;
	m.deadline_ns = o.deadline_ns;
	m.valid = ar.valid;
	rc = load_model(&c, &m);
	if (!rc)
		rc = render(&c, &o, &m);
	sqlite3_exec(c.db, "COMMIT", NULL, NULL, NULL);
	if (rc) {
		if (rc == CT_EINVAL)
			status = EXIT_USAGE;
		if (rc == CT_ENOMEM && !c.err[0])
			snprintf(c.err, sizeof c.err, "out of memory");
		goto out;
	}
	status = slo_check(&o, &m) ? EXIT_SLO : EXIT_DONE;
	fprintf(stderr,
		"cachetap report: origins=%" PRIu64 " recipients=%u arrivals=%" PRIu64
		" missed=%" PRIu64 " stale_reads=%" PRIu64 " stale_sets=%" PRIu64 " valid=%s\n",
		m.origins, m.nrec, m.arrivals, m.missed, m.stale_reads, m.stale_sets,
		m.valid ? "yes" : "no");
out:
	if (status != EXIT_DONE && status != EXIT_SLO)
		fprintf(stderr, "cachetap report: %s\n", c.err[0] ? c.err : "failed");
	model_free(&m);
	sqlite3_close(c.db);
	free_maps(&o);
	return status;
}
