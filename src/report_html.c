/* The HTML propagation report (SPEC section 7): one self-contained file with inline SVG charts
 * and no network fetches (no external scripts, styles, fonts or images; a Content Security
 * Policy of default-src 'none' makes sure of it), and no script at all. It holds the header,
 * per-recipient latency CDFs, the fraction of (origin, recipient) pairs still stale after t
 * (the shape of Figure 3 of "Scaling Memcache at Facebook", NSDI 2013; missed invalidations
 * never arrive), a swim-lane timeline of the worst keys (API call, then the arrival at each
 * recipient, then the reads, stale ones in red), and the tables.
 *
 * Everything from the database is escaped: keys are untrusted wire bytes, so well-formed UTF-8
 * is kept, other bytes and control characters are shown as \xNN, and & < > " ' become entities.
 * Limits: CT_REPORT_HTML_ROWS_MAX rows per table, CT_REPORT_CDF_SERIES_MAX recipients per CDF
 * chart, CT_REPORT_SWIM_KEYS timelines of CT_REPORT_SWIM_LANES_MAX lanes and
 * CT_REPORT_SWIM_READS_MAX reads each, CT_REPORT_KEY_SHOWN_MAX_BYTES of each key. */
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cachetap/limits.h"
#include "cachetap/report.h"
#include "report_model.h"

static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79",
};

#define COLOR_STALE "#d62728"
#define TEXT_MAX_BYTES 4096u

/* Escaped untrusted bytes, at most max of them (then "...(N bytes)"). */
static void hbytes(FILE *out, const void *p, size_t n, size_t max)
{
	const unsigned char *s = p;
	size_t shown = n < max ? n : max;
	for (size_t i = 0; i < shown;) {
		unsigned char ch = s[i];
		if (ch >= 0x80) {
			int k = ct_report_utf8_seq(s + i, shown - i);
			if (k) {
				fwrite(s + i, 1, (size_t)k, out);
				i += (size_t)k;
				continue;
			}
			fprintf(out, "\\x%02x", ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(out, "\\x%02x", ch);
		} else if (ch == '&') {
			fputs("&amp;", out);
		} else if (ch == '<') {
			fputs("&lt;", out);
		} else if (ch == '>') {
			fputs("&gt;", out);
		} else if (ch == '"') {
			fputs("&quot;", out);
		} else if (ch == '\'') {
			fputs("&#39;", out);
		} else {
			fputc(ch, out);
		}
		i++;
	}
	if (shown < n)
		fprintf(out, "...(%zu bytes)", n);
}

static void hs(FILE *out, const char *s)
{
	if (s)
		hbytes(out, s, strlen(s), TEXT_MAX_BYTES);
	else
		fputs("-", out);
}

/* A column of a row, escaped; "-" when NULL. */
static void hcol(FILE *out, sqlite3_stmt *st, int i, size_t max)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		fputs("-", out);
	else
		hbytes(out, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i), max);
}

static void hkey(FILE *out, sqlite3_stmt *st, int i)
{
	hcol(out, st, i, CT_REPORT_KEY_SHOWN_MAX_BYTES);
}

static void hms(FILE *out, int has, int64_t ns)
{
	char b[48];
	if (!has) {
		fputs("-", out);
		return;
	}
	ct_report_ms(ns, b, sizeof b);
	fputs(b, out);
}

static void htime(FILE *out, int64_t ns)
{
	char b[CT_TIME_STRLEN];
	ct_format_time((uint64_t)ns, b, sizeof b);
	fputs(b, out);
}

static void hlabel(FILE *out, const struct rp_recipient *r)
{
	if (r->name) {
		hs(out, r->name);
		fputs(" (", out);
		hs(out, r->recipient);
		fputs(")", out);
	} else {
		hs(out, r->recipient);
	}
}

static const struct rp_recipient *find_rec(const struct rp_model *m, const void *ep, size_t n)
{
	for (uint32_t i = 0; i < m->nrec; i++)
		if (strlen(m->rec[i].recipient) == n && memcmp(m->rec[i].recipient, ep, n) == 0)
			return &m->rec[i];
	return NULL;
}

/* A node column of a row as "name (ip:port)" when it is a known recipient. */
static void hnode(FILE *out, const struct rp_model *m, sqlite3_stmt *st, int i)
{
	const struct rp_recipient *r =
		find_rec(m, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
	if (r)
		hlabel(out, r);
	else
		hcol(out, st, i, TEXT_MAX_BYTES);
}

static const char style[] =
	"body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
	"h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}"
	"h3{font-size:15px;margin-bottom:4px}"
	"table{border-collapse:collapse;font-size:13px;margin:8px 0}"
	"th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
	"th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"td.k{font-family:monospace;word-break:break-all}"
	".bad{color:" COLOR_STALE ";font-weight:bold}.ok{color:#2ca02c;font-weight:bold}"
	".warn{color:#a05a00}svg{display:block;margin:8px 0;font-size:11px;font-family:sans-serif}"
	".legend span{display:inline-block;margin-right:16px}";

/* ---- charts ---- */

#define CH_W 1000.0
#define CH_H 340.0
#define CH_L 64.0
#define CH_R 250.0
#define CH_T 12.0
#define CH_B 44.0

/* A log10 time axis in ms, whole decades. */
struct logaxis {
	double lo, hi;
};

static void logaxis_add(double *lo, double *hi, int64_t ns)
{
	double ms = (double)ns / 1e6;
	if (ms <= 0)
		return;
	if (*lo == 0 || ms < *lo)
		*lo = ms;
	if (ms > *hi)
		*hi = ms;
}

static struct logaxis logaxis_of(const struct rp_model *m, uint32_t nseries)
{
	double lo = 0, hi = 0;
	for (uint32_t i = 0; i < nseries; i++)
		for (uint32_t k = 0; k < m->rec[i].ncdf; k++)
			logaxis_add(&lo, &hi, m->rec[i].cdf[k].ns);
	for (uint32_t k = 0; k < m->nstale_curve; k++)
		logaxis_add(&lo, &hi, m->stale_curve[k].ns);
	struct logaxis a;
	if (lo <= 0) {
		a.lo = 0.01;
		a.hi = 10;
		return a;
	}
	a.lo = pow(10, floor(log10(lo)));
	a.hi = pow(10, ceil(log10(hi)));
	if (a.hi <= a.lo * 1.0001)
		a.hi = a.lo * 10;
	return a;
}

static double lx(const struct logaxis *a, int64_t ns)
{
	double ms = (double)ns / 1e6;
	if (ms < a->lo)
		ms = a->lo;
	if (ms > a->hi)
		ms = a->hi;
	return CH_L + (log10(ms) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) *
			      (CH_W - CH_L - CH_R);
}

static double fy(double frac)
{
	return CH_T + (1.0 - frac) * (CH_H - CH_T - CH_B);
}

/* Axes, grid and labels of a chart: log ms on x, a fraction on y. */
static void chart_frame(FILE *out, const struct logaxis *a, const char *xtitle,
			const char *ytitle)
{
	double x0 = CH_L, x1 = CH_W - CH_R, y0 = fy(0), y1 = fy(1);
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\""
		     " stroke=\"#999\"/>\n",
		x0, y1, x1 - x0, y0 - y1);
	/* Ticks at each decade, and at 2 and 5 times it when there are few decades. */
	int decades = (int)lround(log10(a->hi / a->lo));
	for (double d = log10(a->lo); d <= log10(a->hi) + 1e-9; d += 1) {
		static const double mult[] = { 1, 2, 5 };
		for (size_t k = 0; k < (decades <= 3 ? 3u : 1u); k++) {
			double v = pow(10, d) * mult[k];
			if (v > a->hi * 1.0001)
				break;
			double x = lx(a, (int64_t)llround(v * 1e6));
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\""
				     " stroke=\"#e5e5e5\"/><text x=\"%.1f\" y=\"%.1f\""
				     " text-anchor=\"middle\">%g</text>\n",
				x, y1, x, y0, x, y0 + 16, v);
		}
	}
	for (int k = 0; k <= 4; k++) {
		double y = fy(k / 4.0);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
			     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n",
			x0, y, x1, y, x0 - 6, y + 4, k / 4.0);
	}
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
		(x0 + x1) / 2, CH_H - 8, xtitle);
	fprintf(out, "<text transform=\"translate(14,%.1f) rotate(-90)\" text-anchor=\"middle\">%s"
		     "</text>\n",
		(y0 + y1) / 2, ytitle);
}

static void chart_cdf(FILE *out, const struct rp_model *m)
{
	uint32_t nseries = m->nrec < CT_REPORT_CDF_SERIES_MAX ? m->nrec : CT_REPORT_CDF_SERIES_MAX;
	uint32_t drawn = 0;
	for (uint32_t i = 0; i < nseries; i++)
		drawn += m->rec[i].ncdf > 0;
	if (!drawn) {
		fputs("<p>No arrivals: nothing to plot.</p>\n", out);
		return;
	}
	struct logaxis a = logaxis_of(m, nseries);
	fprintf(out, "<svg id=\"cdf\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\""
		     " role=\"img\" aria-label=\"latency CDF per recipient\">\n",
		CH_W, CH_H, CH_W, CH_H);
	chart_frame(out, &a, "propagation latency (ms, log scale)", "fraction of arrivals");
	uint32_t slot = 0;
	for (uint32_t i = 0; i < nseries; i++) {
		const struct rp_recipient *r = &m->rec[i];
		if (!r->ncdf)
			continue;
		const char *color = palette[slot % CT_ARRAY_LEN(palette)];
		fprintf(out, "<path class=\"cdf\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"M%.1f,%.1f",
			color, lx(&a, r->cdf[0].ns), fy(0));
		double prev = 0;
		for (uint32_t k = 0; k < r->ncdf; k++) {
			double x = lx(&a, r->cdf[k].ns);
			fprintf(out, " L%.1f,%.1f L%.1f,%.1f", x, fy(prev), x, fy(r->cdf[k].frac));
			prev = r->cdf[k].frac;
		}
		fprintf(out, "\"><title>");
		hlabel(out, r);
		fprintf(out, "</title></path>\n");
		double ly = CH_T + 10 + slot * 16.0;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\""
			     " stroke-width=\"3\"/><text x=\"%.1f\" y=\"%.1f\">",
			CH_W - CH_R + 12, ly, CH_W - CH_R + 32, ly, color, CH_W - CH_R + 38, ly + 4);
		hbytes(out, ct_report_label(r), strlen(ct_report_label(r)), 32);
		fputs("</text>\n", out);
		slot++;
	}
	fputs("</svg>\n", out);
	if (m->nrec > nseries)
		fprintf(out, "<p>%u more recipients are not drawn (see the table).</p>\n",
			m->nrec - nseries);
}

static void chart_pending(FILE *out, const struct rp_model *m)
{
	uint64_t total = m->arrivals + m->missed;
	if (!total) {
		fputs("<p>No (origin, recipient) pairs: nothing to plot.</p>\n", out);
		return;
	}
	struct logaxis a = logaxis_of(m, m->nrec < CT_REPORT_CDF_SERIES_MAX ? m->nrec
									   : CT_REPORT_CDF_SERIES_MAX);
	fprintf(out, "<svg id=\"stale\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\""
		     " role=\"img\" aria-label=\"fraction still stale after t\">\n",
		CH_W, CH_H, CH_W, CH_H);
	chart_frame(out, &a, "time since the origin (ms, log scale)",
		    "fraction still stale");
	double x = lx(&a, (int64_t)llround(a.lo * 1e6));
	fprintf(out, "<path class=\"pending\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\""
		     " d=\"M%.1f,%.1f",
		COLOR_STALE, x, fy(1));
	double prev = 1;
	for (uint32_t k = 0; k < m->nstale_curve; k++) {
		x = lx(&a, m->stale_curve[k].ns);
		fprintf(out, " L%.1f,%.1f L%.1f,%.1f", x, fy(prev), x, fy(m->stale_curve[k].frac));
		prev = m->stale_curve[k].frac;
	}
	double missed_frac = (double)m->missed / (double)total;
	fprintf(out, " L%.1f,%.1f\"><title>fraction of (origin, recipient) pairs not yet arrived"
		     "</title></path>\n",
		CH_W - CH_R, fy(prev));
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">missed: %" PRIu64 " of %" PRIu64 " (%.4g%%)</text>\n",
		CH_W - CH_R + 12, fy(missed_frac) + 4, m->missed, total, 100 * missed_frac);
	fputs("</svg>\n", out);
}

/* ---- swim lanes ---- */

struct lane {
	char ep[128]; /* "ip:port" or "[v6]:port" */
	int64_t arrival_ns;
	int arrived, missed;
	char what[48];
};

struct swim {
	int64_t origin_id, origin_ns, ack_ns, call_id;
	int has_ack, has_call;
	unsigned char key[CT_REPORT_KEY_SHOWN_MAX_BYTES];
	size_t key_len;      /* bytes kept in key */
	size_t key_full_len; /* the key's whole length */
	uint64_t missed, stale;
};

static int lane_of(const struct lane *lanes, uint32_t n, const void *ep, size_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (strlen(lanes[i].ep) == len && memcmp(lanes[i].ep, ep, len) == 0)
			return (int)i;
	return -1;
}

/* A step of about 1, 2 or 5 x 10^k giving 5 to 10 ticks over span. */
static double nice_step(double span)
{
	double raw = span / 8, p = pow(10, floor(log10(raw))), f = raw / p;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

#define SW_LABEL 260.0
#define SW_RIGHT 20.0
#define SW_LANE 26.0
#define SW_TOP 28.0

static int swim_draw(FILE *out, sqlite3 *db, const struct rp_model *m, const struct swim *s,
		     uint32_t number)
{
	sqlite3_stmt *st = NULL;
	struct lane lanes[CT_REPORT_SWIM_LANES_MAX + 1];
	uint32_t nl = 0;
	int64_t end_ns = s->has_ack ? s->ack_ns : s->origin_ns;
	char call[512] = "";
	int64_t call_start = s->origin_ns, call_end = end_ns;
	int rc = CT_ESQL;

	if (m->has_api_calls && s->has_call) {
		if (sqlite3_prepare_v2(db, "SELECT method, path, status, ts_start_ns, ts_end_ns FROM"
					   " api_calls WHERE id = ?1",
				       -1, &st, NULL) != SQLITE_OK)
			return CT_ESQL;
		sqlite3_bind_int64(st, 1, s->call_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(call, sizeof call, "%.16s %.400s %d",
				 sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "?",
				 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "?",
				 sqlite3_column_int(st, 2));
			if (sqlite3_column_type(st, 3) != SQLITE_NULL)
				call_start = sqlite3_column_int64(st, 3);
			if (sqlite3_column_type(st, 4) != SQLITE_NULL)
				call_end = sqlite3_column_int64(st, 4);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (call_end > end_ns)
		end_ns = call_end;

	/* Lanes: the recipients of this origin, named, with their arrival. */
	if (sqlite3_prepare_v2(db, "SELECT recipient, arrival_ts_ns, missed, arrival_cmd FROM"
				   " propagation WHERE origin_id = ?1 AND recipient IS NOT NULL"
				   " ORDER BY recipient LIMIT ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return CT_ESQL;
	sqlite3_bind_int64(st, 1, s->origin_id);
	sqlite3_bind_int64(st, 2, CT_REPORT_SWIM_LANES_MAX);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW && nl < CT_REPORT_SWIM_LANES_MAX) {
		struct lane *l = &lanes[nl++];
		memset(l, 0, sizeof *l);
		snprintf(l->ep, sizeof l->ep, "%s", (const char *)sqlite3_column_text(st, 0));
		l->arrived = sqlite3_column_int64(st, 2) == 0 &&
			     sqlite3_column_type(st, 1) != SQLITE_NULL;
		l->missed = sqlite3_column_int64(st, 2) != 0;
		l->arrival_ns = sqlite3_column_int64(st, 1);
		snprintf(l->what, sizeof l->what, "%s",
			 sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
		if (l->arrived && l->arrival_ns > end_ns)
			end_ns = l->arrival_ns;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		return CT_ESQL;

	/* Stale reads and sets of this origin stretch the window too. */
	static const char *const marks_sql[2] = {
		"SELECT node, ts_ns, stale_for_ns FROM stale_reads WHERE origin_id = ?1"
		" ORDER BY ts_ns LIMIT ?2",
		"SELECT node, ts_ns, after_arrival_ns FROM stale_sets WHERE origin_id = ?1"
		" ORDER BY ts_ns LIMIT ?2",
	};
	for (int k = 0; k < 2; k++) {
		if (sqlite3_prepare_v2(db, marks_sql[k], -1, &st, NULL) != SQLITE_OK)
			return CT_ESQL;
		sqlite3_bind_int64(st, 1, s->origin_id);
		sqlite3_bind_int64(st, 2, CT_REPORT_SWIM_READS_MAX);
		while (sqlite3_step(st) == SQLITE_ROW)
			if (sqlite3_column_int64(st, 1) > end_ns)
				end_ns = sqlite3_column_int64(st, 1);
		sqlite3_finalize(st);
		st = NULL;
	}
	int64_t begin_ns = call_start < s->origin_ns ? call_start : s->origin_ns;
	int64_t span = end_ns - begin_ns;
	if (span < 1000000)
		span = 1000000;
	int64_t w_lo = begin_ns - span / 10, w_hi = end_ns + span / 20;

	double t_lo = (double)(w_lo - s->origin_ns) / 1e6, t_hi = (double)(w_hi - s->origin_ns) / 1e6;
	double px0 = SW_LABEL, px1 = CH_W - SW_RIGHT;
#define SX(ns) (px0 + ((double)((ns) - s->origin_ns) / 1e6 - t_lo) / (t_hi - t_lo) * (px1 - px0))
#define LY(i) (SW_TOP + SW_LANE * (double)(i) + SW_LANE / 2)
	double height = SW_TOP + SW_LANE * (nl + 1) + 28;

	fprintf(out, "<h3>%u. key <code>", number);
	hbytes(out, s->key, s->key_len, CT_REPORT_KEY_SHOWN_MAX_BYTES);
	if (s->key_full_len > s->key_len)
		fprintf(out, "...(%zu bytes)", s->key_full_len);
	fprintf(out, "</code>: origin ");
	htime(out, s->origin_ns);
	fprintf(out, ", %" PRIu64 " missed, %" PRIu64 " stale reads</h3>\n", s->missed, s->stale);
	fprintf(out, "<svg class=\"swim\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\""
		     " role=\"img\" aria-label=\"swim-lane timeline\">\n",
		CH_W, height, CH_W, height);
	/* Time axis, ms since the origin. */
	double stepms = nice_step(t_hi - t_lo);
	for (double t = ceil(t_lo / stepms) * stepms; t <= t_hi; t += stepms) {
		double x = px0 + (t - t_lo) / (t_hi - t_lo) * (px1 - px0);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
			     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
			x, SW_TOP - 6, x, height - 22, x, height - 8, fabs(t) < stepms / 1e6 ? 0 : t);
	}
	fprintf(out, "<text x=\"%.1f\" y=\"14\">ms since the origin</text>\n", px0);
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\""
		     " stroke-dasharray=\"4 3\"><title>origin</title></line>\n",
		SX(s->origin_ns), SW_TOP - 6, SX(s->origin_ns), height - 22);
	if (s->has_ack)
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#1f77b4\""
			     " stroke-dasharray=\"2 3\"><title>acknowledged</title></line>\n",
			SX(s->ack_ns), SW_TOP - 6, SX(s->ack_ns), height - 22);

	/* Lane 0: the API call (or the origin event when there is none). */
	fprintf(out, "<text x=\"8\" y=\"%.1f\">%s</text>\n", LY(0) + 4,
		call[0] ? "API call" : "origin");
	double cx0 = SX(call_start), cx1 = SX(call_end);
	fprintf(out, "<rect class=\"call\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\""
		     " fill=\"#9ecae1\" stroke=\"#1f77b4\"><title>",
		cx0, LY(0) - 7, cx1 - cx0 < 2 ? 2 : cx1 - cx0);
	hs(out, call[0] ? call : "origin");
	fputs("</title></rect>\n", out);
	if (call[0]) {
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", cx1 + 6, LY(0) + 4);
		hbytes(out, call, strlen(call), 80);
		fputs("</text>\n", out);
	}

	char deadline[48];
	ct_report_ms((int64_t)m->deadline_ns, deadline, sizeof deadline);
	for (uint32_t i = 0; i < nl; i++) {
		const struct lane *l = &lanes[i];
		const struct rp_recipient *r = find_rec(m, l->ep, strlen(l->ep));
		double y = LY(i + 1);
		fprintf(out, "<text x=\"8\" y=\"%.1f\">", y + 4);
		if (r)
			hbytes(out, ct_report_label(r), strlen(ct_report_label(r)), 24);
		else
			hs(out, l->ep);
		if (r && r->name) {
			fputs(" ", out);
			hbytes(out, r->recipient, strlen(r->recipient), 24);
		}
		fprintf(out, "</text>\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\""
			     " stroke=\"#ddd\"/>\n",
			px0, y, px1, y);
		if (l->arrived) {
			char ms[48];
			ct_report_ms(l->arrival_ns - s->origin_ns, ms, sizeof ms);
			fprintf(out, "<circle class=\"arrival\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\""
				     " fill=\"#2ca02c\"><title>arrival: ",
				SX(l->arrival_ns), y);
			hs(out, l->what);
			fprintf(out, " +%s ms</title></circle>\n", ms);
		} else if (l->missed) {
			double mx = SX(s->origin_ns);
			fprintf(out, "<rect class=\"missed\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
				     " height=\"10\" fill=\"#f7c6c6\"><title>missed: no arrival within"
				     " the deadline</title></rect><text x=\"%.1f\" y=\"%.1f\" fill=\"%s\""
				     " text-anchor=\"end\">missed: no arrival within %s ms</text>\n",
				mx, y - 5, px1 - mx, px1 - 4, y + 4, COLOR_STALE, deadline);
		} else {
			double mx = SX(s->origin_ns);
			fprintf(out, "<rect class=\"pending\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
				     " height=\"10\" fill=\"#e5e5e5\"><title>pending: the capture ended"
				     " before the deadline</title></rect><text x=\"%.1f\" y=\"%.1f\""
				     " text-anchor=\"end\">pending</text>\n",
				mx, y - 5, px1 - mx, px1 - 4, y + 4);
		}
	}

	/* Reads of the key at each lane in the window; then the stale ones, in red, and the
	 * stale sets. */
	if (sqlite3_prepare_v2(db, "SELECT ts_ns, recipient, status FROM timeline WHERE key ="
				   " (SELECT key FROM origins WHERE id = ?1)"
				   " AND class = 'read' AND ts_ns BETWEEN ?2 AND ?3"
				   " ORDER BY ts_ns LIMIT ?4",
			       -1, &st, NULL) != SQLITE_OK)
		return CT_ESQL;
	sqlite3_bind_int64(st, 1, s->origin_id);
	sqlite3_bind_int64(st, 2, w_lo);
	sqlite3_bind_int64(st, 3, w_hi);
	sqlite3_bind_int64(st, 4, CT_REPORT_SWIM_READS_MAX);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int li = lane_of(lanes, nl, sqlite3_column_blob(st, 1),
				 (size_t)sqlite3_column_bytes(st, 1));
		if (li < 0)
			continue;
		int64_t ts = sqlite3_column_int64(st, 0);
		char ms[48];
		ct_report_ms(ts - s->origin_ns, ms, sizeof ms);
		fprintf(out, "<line class=\"read\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\""
			     " stroke=\"#555\" stroke-width=\"1.5\"><title>read (",
			SX(ts), LY(li + 1) - 8, SX(ts), LY(li + 1) + 8);
		hcol(out, st, 2, 32);
		fprintf(out, ") %s ms</title></line>\n", ms);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (step != SQLITE_DONE)
		return CT_ESQL;
	for (int k = 0; k < 2; k++) {
		if (sqlite3_prepare_v2(db, marks_sql[k], -1, &st, NULL) != SQLITE_OK)
			return CT_ESQL;
		sqlite3_bind_int64(st, 1, s->origin_id);
		sqlite3_bind_int64(st, 2, CT_REPORT_SWIM_READS_MAX);
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			int li = lane_of(lanes, nl, sqlite3_column_blob(st, 0),
					 (size_t)sqlite3_column_bytes(st, 0));
			if (li < 0)
				continue;
			int64_t ts = sqlite3_column_int64(st, 1);
			char ms[48], v[48];
			ct_report_ms(ts - s->origin_ns, ms, sizeof ms);
			ct_report_ms(sqlite3_column_int64(st, 2), v, sizeof v);
			double x = SX(ts), y = LY(li + 1);
			if (k == 0)
				fprintf(out, "<line class=\"stale\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\""
					     " y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"><title>stale"
					     " read %s ms: stale for %s ms</title></line>\n",
					x, y - 10, x, y + 10, COLOR_STALE, ms, v);
			else
				fprintf(out, "<polygon class=\"staleset\" points=\"%.1f,%.1f %.1f,%.1f"
					     " %.1f,%.1f %.1f,%.1f\" fill=\"#ff7f0e\"><title>stale set"
					     " %s ms: %s ms after the arrival</title></polygon>\n",
					x, y - 7, x + 6, y, x, y + 7, x - 6, y, ms, v);
		}
		sqlite3_finalize(st);
		st = NULL;
		if (step != SQLITE_DONE)
			return CT_ESQL;
	}
#undef SX
#undef LY
	fputs("</svg>\n", out);
	rc = 0;
	return rc;
}

/* The worst keys: origins with the most missed invalidations, then stale reads, then the
 * slowest arrival; one origin per key. */
static int swim_lanes(FILE *out, sqlite3 *db, const struct rp_model *m)
{
	static const char sql[] =
		"WITH pm AS (SELECT origin_id, sum(missed <> 0) AS m, max(latency_ns) AS ml"
		"   FROM propagation GROUP BY origin_id),"
		" sr AS (SELECT origin_id, count(*) AS n FROM stale_reads GROUP BY origin_id)"
		" SELECT o.id, o.key, o.origin_ts_ns, o.ack_ts_ns, o.api_call_id,"
		"   COALESCE(pm.m, 0), COALESCE(sr.n, 0)"
		" FROM origins o JOIN pm ON pm.origin_id = o.id"
		"   LEFT JOIN sr ON sr.origin_id = o.id"
		" ORDER BY COALESCE(pm.m, 0) DESC, COALESCE(sr.n, 0) DESC, pm.ml DESC, o.id"
		" LIMIT ?1";
	struct swim sw[CT_REPORT_SWIM_KEYS];
	uint32_t n = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CT_ESQL;
	sqlite3_bind_int64(st, 1, CT_REPORT_SWIM_SCAN_ROWS);
	int step;
	while (n < CT_REPORT_SWIM_KEYS && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const void *k = sqlite3_column_blob(st, 1);
		size_t kl = (size_t)sqlite3_column_bytes(st, 1);
		size_t keep = kl < sizeof sw[0].key ? kl : sizeof sw[0].key;
		int dup = 0;
		for (uint32_t i = 0; i < n && !dup; i++)
			dup = sw[i].key_full_len == kl && sw[i].key_len == keep &&
			      (keep == 0 || memcmp(sw[i].key, k, keep) == 0);
		if (dup)
			continue;
		struct swim *s = &sw[n++];
		memset(s, 0, sizeof *s);
		s->origin_id = sqlite3_column_int64(st, 0);
		if (keep)
			memcpy(s->key, k, keep);
		s->key_len = keep;
		s->key_full_len = kl;
		s->origin_ns = sqlite3_column_int64(st, 2);
		s->has_ack = sqlite3_column_type(st, 3) != SQLITE_NULL;
		s->ack_ns = sqlite3_column_int64(st, 3);
		s->has_call = sqlite3_column_type(st, 4) != SQLITE_NULL;
		s->call_id = sqlite3_column_int64(st, 4);
		s->missed = (uint64_t)sqlite3_column_int64(st, 5);
		s->stale = (uint64_t)sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (!n) {
		fputs("<p>No origins: nothing to draw.</p>\n", out);
		return 0;
	}
	fputs("<p class=\"legend\"><span style=\"color:#1f77b4\">&#9632; API call</span>"
	      "<span style=\"color:#2ca02c\">&#9679; arrival</span>"
	      "<span style=\"color:#555\">| read</span>"
	      "<span style=\"color:" COLOR_STALE "\">| stale read</span>"
	      "<span style=\"color:#ff7f0e\">&#9670; stale set</span>"
	      "<span style=\"color:#e39090\">&#9632; missed</span></p>\n",
	      out);
	for (uint32_t i = 0; i < n; i++) {
		int rc = swim_draw(out, db, m, &sw[i], i + 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- tables ---- */

static void table_recipients(FILE *out, const struct rp_model *m)
{
	fputs("<table id=\"recipients\"><tr><th>recipient</th><th>name</th><th>role</th>"
	      "<th>proto</th><th>arrivals</th><th>missed</th><th>pending</th><th>stale reads</th>"
	      "<th>max stale ms</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th>"
	      "<th>stale sets</th></tr>\n",
	      out);
	uint32_t rows = m->nrec < CT_REPORT_HTML_ROWS_MAX ? m->nrec : CT_REPORT_HTML_ROWS_MAX;
	for (uint32_t i = 0; i < rows; i++) {
		const struct rp_recipient *r = &m->rec[i];
		fputs("<tr><td>", out);
		hs(out, r->recipient);
		fputs("</td><td>", out);
		hs(out, r->name);
		fputs("</td><td>", out);
		hs(out, r->role);
		fputs("</td><td>", out);
		hs(out, r->proto);
		fprintf(out, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n%s\">%" PRIu64
			     "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n%s\">%" PRIu64
			     "</td><td class=\"n\">",
			r->arrivals, r->missed ? " bad" : "", r->missed, r->pending,
			r->stale_reads ? " bad" : "", r->stale_reads);
		hms(out, r->has_stale, r->max_stale_ns);
		int64_t v[4] = { r->p50, r->p90, r->p99, r->max };
		for (int k = 0; k < 4; k++) {
			fputs("</td><td class=\"n\">", out);
			hms(out, r->nlat > 0, v[k]);
		}
		fprintf(out, "</td><td class=\"n\">%" PRIu64 "</td></tr>\n", r->stale_sets);
	}
	fputs("</table>\n", out);
	if (m->nrec > rows)
		fprintf(out, "<p>... %u more (see --format csv)</p>\n", m->nrec - rows);
}

/* One list table: time, node, key, a value in ms (unless value_head is NULL), the API call,
 * origin. */
static int table_list(FILE *out, sqlite3 *db, const struct rp_model *m, const char *id,
		      const char *value_head, const char *sql, uint64_t total)
{
	if (!total) {
		fputs("<p>None.</p>\n", out);
		return 0;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CT_ESQL;
	sqlite3_bind_int64(st, 1, CT_REPORT_HTML_ROWS_MAX);
	fprintf(out, "<table id=\"%s\"><tr><th>time (UTC)</th><th>recipient</th><th>key</th>",
		id);
	if (value_head)
		fprintf(out, "<th>%s</th>", value_head);
	fputs("<th>API call</th><th>origin</th></tr>\n", out);
	int step;
	uint64_t shown = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		fputs("<tr><td>", out);
		htime(out, sqlite3_column_int64(st, 0));
		fputs("</td><td>", out);
		hnode(out, m, st, 1);
		fputs("</td><td class=\"k\">", out);
		hkey(out, st, 2);
		if (value_head) {
			fputs("</td><td class=\"n\">", out);
			hms(out, sqlite3_column_type(st, 3) != SQLITE_NULL,
			    sqlite3_column_int64(st, 3));
		}
		fputs("</td><td>", out);
		hcol(out, st, 4, 512);
		fputs("</td><td class=\"n\">", out);
		hcol(out, st, 5, 32);
		fputs("</td></tr>\n", out);
		shown++;
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return CT_ESQL;
	fputs("</table>\n", out);
	if (shown < total)
		fprintf(out, "<p>... %" PRIu64 " more (see --format csv)</p>\n", total - shown);
	return 0;
}

int ct_report_html(sqlite3 *db, const struct rp_model *m, FILE *out)
{
	char sql[1024];
	const char *call = m->has_api_calls ? "(SELECT a.method || ' ' || a.path FROM api_calls a"
					      " WHERE a.id = x.api_call_id)"
					    : "NULL";
	int rc;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
	      " style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>cachetap report: ",
	      out);
	hs(out, m->db_path);
	fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n<h1>cachetap propagation report: ",
		style);
	hs(out, m->db_path);
	fputs("</h1>\n<table id=\"summary\">\n<tr><th>source</th><td>", out);
	hs(out, m->input);
	fputs(" (", out);
	hs(out, m->command);
	fputs(", cachetap ", out);
	hs(out, m->tool_version);
	fprintf(out, ")%s</td></tr>\n<tr><th>window</th><td>", m->complete ? "" : ", still running");
	htime(out, m->first_ts_ns);
	fputs(" to ", out);
	htime(out, m->last_ts_ns);
	fprintf(out, "</td></tr>\n<tr><th>capture</th><td>packets %" PRIu64 ", drops %" PRIu64
		     ", gaps %" PRIu64 ", parse errors %" PRIu64 "</td></tr>\n",
		m->packets, m->drops, m->gaps, m->parse_errors);
	fprintf(out, "<tr><th>origins</th><td>%" PRIu64 " (deadline ", m->origins);
	hms(out, 1, (int64_t)m->deadline_ns);
	fprintf(out, " ms)</td></tr>\n<tr><th>totals</th><td>arrivals %" PRIu64
		     ", missed %" PRIu64 ", pending %" PRIu64 ", stale reads %" PRIu64
		     ", stale sets %" PRIu64 "</td></tr>\n",
		m->arrivals, m->missed, m->pending, m->stale_reads, m->stale_sets);
	fprintf(out, "<tr><th>valid</th><td class=\"%s\">%s</td></tr>\n</table>\n",
		m->valid ? "ok" : "bad", m->valid ? "yes" : "no");
	if (m->nwarnings) {
		fputs("<ul id=\"warnings\">\n", out);
		for (uint32_t i = 0; i < m->nwarnings; i++) {
			fputs("<li class=\"warn\">", out);
			hs(out, m->warnings[i]);
			fputs("</li>\n", out);
		}
		if (m->warnings_total > m->nwarnings)
			fprintf(out, "<li class=\"warn\">... %" PRIu64 " more</li>\n",
				m->warnings_total - m->nwarnings);
		fputs("</ul>\n", out);
	}

	fputs("<h2>Recipients</h2>\n", out);
	table_recipients(out, m);
	fputs("<h2>Propagation latency per recipient (CDF)</h2>\n"
	      "<p>For each recipient, the fraction of its arrivals within a given latency (arrival"
	      " minus the origin's start). Missed invalidations are not in these curves.</p>\n",
	      out);
	chart_cdf(out, m);
	fputs("<h2>Fraction still stale after t</h2>\n"
	      "<p>Of all (origin, recipient) pairs, the fraction whose invalidation had not yet"
	      " arrived t after the origin; missed invalidations never arrive and stay as the"
	      " floor of the curve.</p>\n",
	      out);
	chart_pending(out, m);
	fputs("<h2>Worst keys</h2>\n", out);
	if ((rc = swim_lanes(out, db, m)))
		return rc;

	fputs("<h2>Missed invalidations</h2>\n", out);
	snprintf(sql, sizeof sql,
		 "SELECT x.origin_ts_ns, x.recipient, x.key, NULL, %s, x.origin_id FROM"
		 " propagation x WHERE x.missed <> 0 ORDER BY x.origin_ts_ns, x.key, x.recipient"
		 " LIMIT ?1",
		 call);
	if ((rc = table_list(out, db, m, "missed", NULL, sql, m->missed)))
		return rc;
	fputs("<h2>Stale reads</h2>\n", out);
	snprintf(sql, sizeof sql,
		 "SELECT x.ts_ns, x.node, x.key, x.stale_for_ns, %s, x.origin_id FROM stale_reads x"
		 " ORDER BY x.stale_for_ns DESC, x.ts_ns, x.node LIMIT ?1",
		 call);
	if ((rc = table_list(out, db, m, "stale_reads", "stale for ms", sql, m->stale_reads)))
		return rc;
	fputs("<h2>Stale sets</h2>\n", out);
	snprintf(sql, sizeof sql,
		 "SELECT x.ts_ns, x.node, x.key, x.after_arrival_ns, %s, x.origin_id FROM"
		 " stale_sets x ORDER BY x.after_arrival_ns DESC, x.ts_ns, x.node LIMIT ?1",
		 call);
	if ((rc = table_list(out, db, m, "stale_sets", "ms after the arrival", sql, m->stale_sets)))
		return rc;
	fputs("<p>Generated by cachetap " CT_VERSION ".</p>\n</body></html>\n", out);
	return 0;
}
