/* `cachetap timeline DB [KEY]`: the timeline view (SPEC section 5) printed one event per line,
 * in capture-time order, with the recipient (the server for c2s rows, the client for s2c) and
 * latencies in readable units. Keys are printed with non-printable bytes escaped. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cachetap/report.h"

void ct_format_time(uint64_t ts_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;
	char day[32];
	if (!gmtime_r(&secs, &tm) || !strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(day, sizeof day, "%" PRIu64, (uint64_t)(ts_ns / 1000000000u));
	snprintf(buf, len, "%s.%09" PRIu64 "Z", day, (uint64_t)(ts_ns % 1000000000u));
}

static void put_escaped(FILE *out, const unsigned char *s, int n)
{
	for (int i = 0; i < n; i++) {
		if (s[i] >= 0x21 && s[i] < 0x7f && s[i] != '\\')
			fputc(s[i], out);
		else
			fprintf(out, "\\x%02x", s[i]);
	}
}

static void put_latency(FILE *out, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		fprintf(out, "%10s", "-");
		return;
	}
	double ns = (double)sqlite3_column_int64(st, col);
	if (ns < 1e6)
		fprintf(out, "%8.1fus", ns / 1e3);
	else if (ns < 1e9)
		fprintf(out, "%8.3fms", ns / 1e6);
	else
		fprintf(out, "%9.3fs", ns / 1e9);
}

static const char *col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? (const char *)t : "-";
}

int ct_timeline_print(const char *db, const struct ct_timeline_opts *o, FILE *out, char *err,
		      size_t errlen)
{
	static const char sql[] =
		"SELECT ts_ns, proto, CASE dir WHEN 'c2s' THEN server ELSE client END, dir, via, cmd,"
		"  class, key, status, latency_ns, value_hash, detail"
		" FROM timeline WHERE (?1 IS NULL OR key = ?1)"
		" ORDER BY ts_ns, conn_id, dir, stream_off, event_id"
		" LIMIT ?2";
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int rc = CT_ESQL;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", db, h ? sqlite3_errmsg(h) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: not a cachetap database with a timeline (%s)", db,
			 sqlite3_errmsg(h));
		goto out;
	}
	if (o && o->key)
		sqlite3_bind_text(st, 1, (const char *)o->key, (int)o->key_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, o && o->limit ? (sqlite3_int64)o->limit : -1);
	fprintf(out, "%-30s %-9s %-22s %-11s %-12s %-10s %-10s %-10s %s\n", "time (UTC)", "proto",
		"recipient", "via", "cmd", "class", "status", "latency", "key");
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		char when[CT_TIME_STRLEN];
		ct_format_time((uint64_t)sqlite3_column_int64(st, 0), when, sizeof when);
		fprintf(out, "%-30s %-9s %-22s %-11s %-12s %-10s %-10s ", when, col_text(st, 1),
			col_text(st, 2), col_text(st, 4), col_text(st, 5), col_text(st, 6),
			col_text(st, 8));
		put_latency(out, st, 9);
		fputc(' ', out);
		if (sqlite3_column_type(st, 7) == SQLITE_NULL)
			fputs("-", out);
		else
			put_escaped(out, sqlite3_column_blob(st, 7), sqlite3_column_bytes(st, 7));
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			fprintf(out, " value=%s", col_text(st, 10));
		if (sqlite3_column_type(st, 11) != SQLITE_NULL)
			fprintf(out, " (%s)", col_text(st, 11));
		fputc('\n', out);
	}
	if (step != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", db, sqlite3_errmsg(h));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}
