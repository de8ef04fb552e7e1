/* ctdump: "tcpflow for cachetap": reads captures through cachetap's own capture, link/IP
 * decode, flow table and TCP reassembly, and prints every connection's reassembled streams as
 * text, so reassembly can be diffed byte for byte against the NAME.expect files tools/gencap
 * writes (and eyeballed on real captures).
 *
 * Usage: ctdump [OPTIONS] FILE...      (see usage() or --help)
 *
 * Output grammar (one block per connection, in connection-id order = order of each
 * connection's first packet; tools/gencap.c writes the same grammar):
 *
 *   block    := header time stream(c2s) stream(s2c) counters close blank
 *   header   := "conn " ID " tcp " CLI " > " SRV " orient=" ORIENT " midstream=" ("0"|"1") NL
 *             | "conn " ID " udp " CLI " > " SRV " orient=" ORIENT NL
 *   time     := "time " TS " " TS NL          first and last packet of the connection,
 *                                             TS = seconds "." nine digits of nanoseconds
 *   stream   := (data | gap | error)* [truncated]      for TCP
 *             | datagram* [truncated]                  for UDP
 *   data     := DIR " data " OFF " " QUOTED NL  one maximal run of contiguous delivered bytes
 *   gap      := DIR " gap " OFF " " LEN NL      one maximal run of contiguous gap bytes
 *   error    := DIR " error offset " OFF " expected " OFF NL
 *                                             a callback broke the reassembly contract (its
 *                                             offset is not where the previous one ended)
 *   datagram := DIR " datagram " QUOTED [" wirelen=" N] NL
 *                                             one UDP payload; wirelen when the snaplen cut it
 *   truncated:= DIR " truncated " OFF " data=" N " gap=" N NL          (TCP)
 *             | DIR " truncated datagrams=" N NL                       (UDP)
 *                                             --max-bytes of text was reached: from OFF on,
 *                                             N data bytes and N gap bytes were not shown
 *   counters := DIR " pkts " N NL DIR " payload_bytes " N NL   for c2s, then for s2c
 *   close    := "close " ("none"|"fin"|"rst"|"idle"|"evict"|"reuse"|"end") NL
 *   DIR      := "c2s" | "s2c"
 *   ORIENT   := "syn" | "port" | "guess" | "decoder"
 *   CLI, SRV := a.b.c.d:port | [v6]:port       (ct_endpoint_str)
 *   OFF      := stream offset, 0 = byte after the SYN or first byte seen mid-stream
 *   QUOTED   := '"' bytes '"': printable ASCII as is, except \ and " which are written \\ and
 *               \"; CR is \r, LF is \n, every other byte \xNN with exactly two lowercase
 *               hex digits (so "\x124" is the byte 0x12 then the character 4)
 *
 * How data and gaps are split into callbacks (chunking) never shows: consecutive chunks merge
 * into one line, so only the stream contents and the placement of gaps are compared. With
 * --counters, "# DIR reasm ..." comment lines add the per-direction reassembly counters.
 *
 * Limits: --max-bytes (default CTDUMP_MAX_TEXT_BYTES) of text per connection direction; past
 * it a "truncated" line says what was left out. Blocks wait in memory until every
 * lower-numbered connection has been printed; --release-order prints each block as soon as
 * its connection leaves the flow table, which bounds memory on long captures. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/buf.h"
#include "cachetap/capture.h"
#include "cachetap/common.h"
#include "cachetap/flow.h"
#include "cachetap/net.h"
#include "cachetap/reasm.h"

#define CTDUMP_MAX_TEXT_BYTES (1u << 20) /* default text kept per connection direction */

/* ------------------------------------------------------------------------------------------ */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ctdump: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Our growable buffer (buf.h); running out of memory ends the tool with a message. */
static void tb_put(struct ct_buf *b, const void *p, size_t n)
{
	if (ct_buf_add(b, p, n))
		die("out of memory");
}

static void tb_printf(struct ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(struct ct_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ct_buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc)
		die("out of memory");
}

static void tb_free(struct ct_buf *b)
{
	ct_buf_free(b);
}

/* Escapes one byte into out (at most 4 chars); returns the length. Grammar: QUOTED above. */
static size_t esc_byte(uint8_t ch, char out[4])
{
	static const char hex[] = "0123456789abcdef";
	switch (ch) {
	case '\r':
		out[0] = '\\', out[1] = 'r';
		return 2;
	case '\n':
		out[0] = '\\', out[1] = 'n';
		return 2;
	case '\\':
	case '"':
		out[0] = '\\', out[1] = (char)ch;
		return 2;
	default:
		if (ch >= 0x20 && ch < 0x7f) {
			out[0] = (char)ch;
			return 1;
		}
		out[0] = '\\', out[1] = 'x', out[2] = hex[ch >> 4], out[3] = hex[ch & 15];
		return 4;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Per-connection state: the lines of each direction, built as callbacks arrive. */

enum { RUN_NONE, RUN_DATA, RUN_GAP };

struct dstate {
	struct ct_buf lines; /* finished lines */
	struct ct_buf cur;   /* escaped bytes of the data run being built */
	int kind;          /* RUN_* of the run being built */
	uint64_t run_off, run_len;
	uint64_t next;     /* where the next callback must start (contract check) */
	int truncated;
	uint64_t trunc_off, hidden_data, hidden_gap, hidden_dgrams;
};

struct dconn {
	uint64_t id;
	int midstream;
	struct dstate d[2];
	struct ct_buf block; /* the finished block, once released */
};

struct opts {
	uint8_t ports[CT_PORTMAP_BYTES];
	size_t max_bytes;
	int release_order;
	int counters;
	int stats;
	const char *filter;
	uint32_t max_conns;
};

struct dump {
	const struct opts *o;
	/* Released blocks waiting for lower ids: a binary min-heap on id. */
	struct dconn **heap;
	size_t nheap, capheap;
	uint64_t next_print;
	uint64_t printed;
};

static const char *dir_name(int dir)
{
	return dir == CT_C2S ? "c2s" : "s2c";
}

static void run_end(struct dstate *d, int dir)
{
	if (d->kind == RUN_DATA && d->run_len) {
		tb_printf(&d->lines, "%s data %" PRIu64 " \"", dir_name(dir), d->run_off);
		tb_put(&d->lines, d->cur.p, d->cur.len);
		tb_put(&d->lines, "\"\n", 2);
	} else if (d->kind == RUN_GAP && d->run_len) {
		tb_printf(&d->lines, "%s gap %" PRIu64 " %" PRIu64 "\n", dir_name(dir), d->run_off,
			  d->run_len);
	}
	d->cur.len = 0;
	d->kind = RUN_NONE;
	d->run_len = 0;
}

static void truncate_at(struct dstate *d, int dir, uint64_t off)
{
	run_end(d, dir);
	d->truncated = 1;
	d->trunc_off = off;
}

/* Notes a callback at `off`; a jump means the reassembler broke its contract. */
static void check_off(struct dstate *d, int dir, uint64_t off, uint64_t len)
{
	if (off != d->next && !d->truncated) {
		run_end(d, dir);
		tb_printf(&d->lines, "%s error offset %" PRIu64 " expected %" PRIu64 "\n",
			  dir_name(dir), off, d->next);
	}
	d->next = off + len;
}

static void add_data(struct dump *dm, struct dstate *d, int dir, uint64_t off, const uint8_t *p,
		     uint32_t len)
{
	check_off(d, dir, off, len);
	if (d->truncated) {
		d->hidden_data += len;
		return;
	}
	if (d->kind != RUN_DATA || off != d->run_off + d->run_len) {
		run_end(d, dir);
		d->kind = RUN_DATA;
		d->run_off = off;
	}
	for (uint32_t i = 0; i < len; i++) {
		char e[4];
		size_t n = esc_byte(p[i], e);
		if (d->lines.len + d->cur.len + n > dm->o->max_bytes) {
			truncate_at(d, dir, off + i);
			d->hidden_data += len - i;
			return;
		}
		tb_put(&d->cur, e, n);
		d->run_len++;
	}
}

static void add_gap(struct dump *dm, struct dstate *d, int dir, uint64_t off, uint64_t len)
{
	check_off(d, dir, off, len);
	if (d->truncated) {
		d->hidden_gap += len;
		return;
	}
	if (d->kind == RUN_GAP && off == d->run_off + d->run_len) {
		d->run_len += len;
		return;
	}
	run_end(d, dir);
	if (d->lines.len >= dm->o->max_bytes) {
		truncate_at(d, dir, off);
		d->hidden_gap += len;
		return;
	}
	d->kind = RUN_GAP;
	d->run_off = off;
	d->run_len = len;
}

static struct dconn *dconn_of(struct ct_conn *c)
{
	if (!c->app) {
		struct dconn *dc = ct_calloc(1, sizeof *dc);
		if (!dc)
			die("out of memory");
		dc->id = c->id;
		c->app = dc;
	}
	return c->app;
}

static void dconn_free(struct dconn *dc)
{
	for (int i = 0; i < 2; i++) {
		tb_free(&dc->d[i].lines);
		tb_free(&dc->d[i].cur);
	}
	tb_free(&dc->block);
	ct_free(dc);
}

/* ------------------------------------------------------------------------------------------ */
/* Flow callbacks. */

static void cb_open(void *ctx, struct ct_conn *c)
{
	(void)ctx;
	(void)dconn_of(c);
}

static void cb_data(void *ctx, struct ct_conn *c, int dir, uint64_t off, const uint8_t *p,
		    uint32_t len, uint64_t ts_ns)
{
	struct dconn *dc = dconn_of(c);
	CT_UNUSED(ts_ns);
	if (dir != CT_C2S && dir != CT_S2C)
		die("data callback with direction %d", dir);
	if (len)
		add_data(ctx, &dc->d[dir], dir, off, p, len);
}

static void cb_gap(void *ctx, struct ct_conn *c, int dir, uint64_t off, uint64_t len,
		   uint64_t ts_ns)
{
	struct dconn *dc = dconn_of(c);
	CT_UNUSED(ts_ns);
	if (dir != CT_C2S && dir != CT_S2C)
		die("gap callback with direction %d", dir);
	if (len)
		add_gap(ctx, &dc->d[dir], dir, off, len);
}

static void cb_datagram(void *ctx, struct ct_conn *c, int dir, const uint8_t *p, uint32_t len,
			uint32_t wirelen, uint64_t ts_ns)
{
	struct dump *dm = ctx;
	struct dconn *dc = dconn_of(c);
	CT_UNUSED(ts_ns);
	if (dir != CT_C2S && dir != CT_S2C)
		die("datagram callback with direction %d", dir);
	struct dstate *d = &dc->d[dir];
	if (d->truncated || d->lines.len + 4 * (size_t)len + 64 > dm->o->max_bytes) {
		d->truncated = 1;
		d->hidden_dgrams++;
		return;
	}
	tb_printf(&d->lines, "%s datagram \"", dir_name(dir));
	for (uint32_t i = 0; i < len; i++) {
		char e[4];
		tb_put(&d->lines, e, esc_byte(p[i], e));
	}
	tb_put(&d->lines, "\"", 1);
	if (wirelen != len)
		tb_printf(&d->lines, " wirelen=%" PRIu32, wirelen);
	tb_put(&d->lines, "\n", 1);
}

static void note_midstream(struct ct_conn *c)
{
	struct dconn *dc = dconn_of(c);
	if (c->l4 == CT_L4_TCP &&
	    ((c->r[0].flags | c->r[1].flags) & (uint32_t)CT_REASM_F_MIDSTREAM))
		dc->midstream = 1;
}

static void cb_close(void *ctx, struct ct_conn *c)
{
	(void)ctx;
	note_midstream(c);
}

static const char *orient_name(unsigned o)
{
	static const char *const n[] = { "syn", "port", "guess", "decoder" };
	return o < CT_ARRAY_LEN(n) ? n[o] : "?";
}

static const char *close_name(unsigned r)
{
	static const char *const n[] = { "none", "fin", "rst", "idle", "evict", "reuse", "end" };
	return r < CT_ARRAY_LEN(n) ? n[r] : "?";
}

static void ts_str(uint64_t ns, char *out, size_t n)
{
	snprintf(out, n, "%" PRIu64 ".%09" PRIu64, ns / UINT64_C(1000000000), ns % UINT64_C(1000000000));
}

/* The reassembly counters as "name=value" pairs. */
static void counters_fmt(struct ct_buf *b, const struct ct_reasm_counters *k)
{
	tb_printf(b,
		  "segments=%" PRIu64 " delivered=%" PRIu64 " dup=%" PRIu64 " overlap=%" PRIu64
		  " conflict=%" PRIu64 " ooo_segments=%" PRIu64 " gaps=%" PRIu64
		  " gap_bytes=%" PRIu64 " cap_hits=%" PRIu64 " bogus=%" PRIu64
		  " before_start=%" PRIu64 " snap_cut=%" PRIu64 "\n",
		  k->segments, k->bytes_delivered, k->dup_bytes, k->overlap_bytes, k->conflict_bytes,
		  k->ooo_segments, k->gaps, k->gap_bytes, k->cap_hits, k->bogus_segments,
		  k->before_start, k->snap_cut_bytes);
}

static void format_block(struct dump *dm, struct dconn *dc, const struct ct_conn *c)
{
	struct ct_buf *b = &dc->block;
	char cli[CT_ENDPOINT_STRLEN], srv[CT_ENDPOINT_STRLEN], t0[32], t1[32];
	ct_endpoint_str(&c->cli_ip, c->cli_port, cli, sizeof cli);
	ct_endpoint_str(&c->srv_ip, c->srv_port, srv, sizeof srv);
	int tcp = c->l4 == CT_L4_TCP;
	tb_printf(b, "conn %" PRIu64 " %s %s > %s orient=%s", c->id, tcp ? "tcp" : "udp", cli, srv,
		  orient_name(c->orient));
	if (tcp)
		tb_printf(b, " midstream=%d", dc->midstream);
	tb_put(b, "\n", 1);
	ts_str(c->first_ts_ns, t0, sizeof t0);
	ts_str(c->last_ts_ns, t1, sizeof t1);
	tb_printf(b, "time %s %s\n", t0, t1);
	for (int dir = 0; dir < 2; dir++) {
		struct dstate *d = &dc->d[dir];
		run_end(d, dir);
		tb_put(b, d->lines.p, d->lines.len);
		if (d->truncated && tcp)
			tb_printf(b, "%s truncated %" PRIu64 " data=%" PRIu64 " gap=%" PRIu64 "\n",
				  dir_name(dir), d->trunc_off, d->hidden_data, d->hidden_gap);
		else if (d->truncated)
			tb_printf(b, "%s truncated datagrams=%" PRIu64 "\n", dir_name(dir),
				  d->hidden_dgrams);
		tb_free(&d->lines);
		tb_free(&d->cur);
	}
	for (int dir = 0; dir < 2; dir++) {
		tb_printf(b, "%s pkts %" PRIu64 "\n", dir_name(dir), c->pkts[dir]);
		tb_printf(b, "%s payload_bytes %" PRIu64 "\n", dir_name(dir), c->payload_bytes[dir]);
	}
	if (dm->o->counters && tcp) {
		for (int dir = 0; dir < 2; dir++) {
			tb_printf(b, "# %s reasm ", dir_name(dir));
			counters_fmt(b, &c->r[dir].c);
		}
	}
	tb_printf(b, "close %s\n\n", close_name(c->close_reason));
}

static void emit_block(struct dump *dm, struct dconn *dc)
{
	if (dc->block.len)
		fwrite(dc->block.p, 1, dc->block.len, stdout);
	dm->printed++;
	dconn_free(dc);
}

static void heap_push(struct dump *dm, struct dconn *dc)
{
	if (dm->nheap == dm->capheap) {
		size_t ncap = dm->capheap ? dm->capheap * 2 : 64;
		struct dconn **nh = ct_realloc(dm->heap, ncap * sizeof *nh);
		if (!nh)
			die("out of memory");
		dm->heap = nh;
		dm->capheap = ncap;
	}
	size_t i = dm->nheap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (dm->heap[up]->id <= dc->id)
			break;
		dm->heap[i] = dm->heap[up];
		i = up;
	}
	dm->heap[i] = dc;
}

static struct dconn *heap_pop(struct dump *dm)
{
	struct dconn *top = dm->heap[0];
	struct dconn *last = dm->heap[--dm->nheap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t mid = last->id;
		if (l < dm->nheap && dm->heap[l]->id < mid)
			m = l, mid = dm->heap[l]->id;
		if (r < dm->nheap && dm->heap[r]->id < mid)
			m = r;
		if (m == i)
			break;
		dm->heap[i] = dm->heap[m];
		i = m;
	}
	if (dm->nheap)
		dm->heap[i] = last;
	return top;
}

static void cb_release(void *ctx, struct ct_conn *c)
{
	struct dump *dm = ctx;
	note_midstream(c);
	struct dconn *dc = dconn_of(c);
	c->app = NULL;
	format_block(dm, dc, c);
	if (dm->o->release_order) {
		emit_block(dm, dc);
		return;
	}
	heap_push(dm, dc);
	while (dm->nheap && dm->heap[0]->id <= dm->next_print) {
		struct dconn *top = heap_pop(dm);
		if (top->id == dm->next_print)
			dm->next_print++;
		emit_block(dm, top);
	}
}

/* ------------------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ctdump [OPTIONS] FILE...\n"
		"Reassembles every TCP connection and UDP flow in pcap/pcapng FILEs ('-' = stdin,\n"
		"several files are merged in time order) with cachetap's flow table and prints\n"
		"each one's streams as text, one block per connection in order of first packet.\n"
		"\n"
		"  -p, --server-ports LIST  comma-separated server ports for orientation when no\n"
		"                           SYN was seen (replaces the default 6379,11211)\n"
		"  -f, --filter BPF         only frames matching this BPF expression\n"
		"  -m, --max-bytes N        text kept per connection direction before a\n"
		"                           'truncated' line (default %u)\n"
		"  -r, --release-order      print each block when its connection is released\n"
		"                           instead of in id order (bounded memory)\n"
		"  -c, --counters           add '# DIR reasm ...' reassembly counter lines\n"
		"  -s, --stats              print decode/flow/reassembly totals on stderr\n"
		"      --max-conns N        flow table size (default: cachetap's)\n"
		"  -h, --help               this text\n"
		"\n"
		"Lines: 'DIR data OFF \"bytes\"' (a contiguous run), 'DIR gap OFF LEN' (bytes never\n"
		"seen), 'DIR datagram \"bytes\"' (UDP); DIR is c2s or s2c; bytes are escaped as\n"
		"\\r \\n \\\\ \\\" \\xNN. The full grammar is at the top of tools/ctdump.c.\n"
		"Exit status: 0 ok, 1 read or decode trouble, 2 bad usage.\n",
		CTDUMP_MAX_TEXT_BYTES);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s[0] || s[0] == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_ports(const char *list, uint8_t *map)
{
	memset(map, 0, CT_PORTMAP_BYTES);
	const char *s = list;
	for (;;) {
		char tok[16];
		size_t n = strcspn(s, ",");
		uint64_t v;
		if (n == 0 || n >= sizeof tok)
			return -1;
		memcpy(tok, s, n);
		tok[n] = 0;
		if (parse_u64(tok, 65535, &v) || v == 0)
			return -1;
		ct_portmap_set(map, (uint16_t)v);
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

static void print_stats(const struct ct_net_stats *ns, struct ct_flow *ft,
			struct ct_source *src)
{
	struct ct_source_stats ss;
	ct_source_stats(src, &ss);
	fprintf(stderr, "source %s: frames=%" PRIu64 " bytes=%" PRIu64 " truncated_files=%" PRIu64
			" read_errors=%" PRIu64 "\n",
		ct_source_describe(src), ss.frames, ss.bytes, ss.truncated_files, ss.read_errors);
	fprintf(stderr, "net: frames=%" PRIu64, ns->frames);
	for (int i = 0; i < CT_NET_RESULT_COUNT; i++)
		fprintf(stderr, " %s=%" PRIu64, ct_net_result_name(i), ns->by_result[i]);
	fputc('\n', stderr);
	const struct ct_flow_stats *fs = ct_flow_stats(ft);
	fprintf(stderr,
		"flow: packets=%" PRIu64 " conns=%" PRIu64 " fin=%" PRIu64 " rst=%" PRIu64
		" idle=%" PRIu64 " evicted=%" PRIu64 " reused=%" PRIu64 " ended=%" PRIu64
		" midstream=%" PRIu64 " alloc_fail=%" PRIu64 "\n",
		fs->packets, fs->conns, fs->closed_fin, fs->closed_rst, fs->expired_idle,
		fs->evicted, fs->reused, fs->ended, fs->midstream, fs->alloc_fail);
	const struct ct_reasm_shared *rs = ct_flow_reasm_stats(ft);
	struct ct_buf b = { 0 };
	counters_fmt(&b, &rs->c);
	fprintf(stderr, "reasm (all directions): mem_bytes=%" PRIu64 " %.*s", rs->mem_bytes,
		(int)b.len, b.p);
	tb_free(&b);
}

int main(int argc, char **argv)
{
	static struct opts o;
	o.max_bytes = CTDUMP_MAX_TEXT_BYTES;
	ct_portmap_set(o.ports, 6379);
	ct_portmap_set(o.ports, 11211);

	enum { OPT_MAX_CONNS = 1000 };
	static const struct option lopts[] = {
		{ "server-ports", required_argument, NULL, 'p' },
		{ "filter", required_argument, NULL, 'f' },
		{ "max-bytes", required_argument, NULL, 'm' },
		{ "release-order", no_argument, NULL, 'r' },
		{ "counters", no_argument, NULL, 'c' },
		{ "stats", no_argument, NULL, 's' },
		{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "p:f:m:rcsh", lopts, NULL)) != -1) {
		uint64_t v;
		switch (ch) {
		case 'p':
			if (parse_ports(optarg, o.ports)) {
				fprintf(stderr, "ctdump: --server-ports: '%s' is not a comma list of "
						"ports 1-65535\n",
					optarg);
				return 2;
			}
			break;
		case 'f':
			o.filter = optarg;
			break;
		case 'm':
			if (parse_u64(optarg, SIZE_MAX / 2, &v) || v < 256) {
				fprintf(stderr, "ctdump: --max-bytes: '%s' is not a number >= 256\n",
					optarg);
				return 2;
			}
			o.max_bytes = (size_t)v;
			break;
		case 'r':
			o.release_order = 1;
			break;
		case 'c':
			o.counters = 1;
			break;
		case 's':
			o.stats = 1;
			break;
		case OPT_MAX_CONNS:
			if (parse_u64(optarg, UINT32_MAX, &v) || v == 0) {
				fprintf(stderr, "ctdump: --max-conns: '%s' is not a number >= 1\n",
					optarg);
				return 2;
			}
			o.max_conns = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs("ctdump: no capture file given (try --help)\n", stderr);
		return 2;
	}

	char err[512] = "";
	struct ct_source *src = NULL;
	int rc = ct_source_open_files(&src, (const char *const *)argv + optind,
				      (uint32_t)(argc - optind), o.filter, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "ctdump: %s\n", err[0] ? err : ct_strerror(rc));
		return 1;
	}

	struct dump dm = { .o = &o, .next_print = 1 };
	struct ct_flow_cb cb = {
		.open = cb_open,
		.data = cb_data,
		.gap = cb_gap,
		.datagram = cb_datagram,
		.close = cb_close,
		.release = cb_release,
	};
	struct ct_flow_opts fo = { .server_ports = o.ports, .max_conns = o.max_conns };
	struct ct_flow *ft = ct_flow_new(&fo, &cb, &dm);
	if (!ft) {
		ct_source_close(src);
		die("cannot create the flow table (out of memory)");
	}

	struct ct_net_stats ns;
	memset(&ns, 0, sizeof ns);
	int status = 0;
	for (;;) {
		struct ct_frame f;
		rc = ct_source_next(src, &f);
		if (rc == 0)
			break;
		if (rc < 0) {
			fprintf(stderr, "ctdump: reading %s: %s\n", ct_source_describe(src),
				ct_strerror(rc));
			status = 1;
			break;
		}
		struct ct_pkt pkt;
		if (ct_net_decode(f.dlt, f.ts_ns, f.data, f.caplen, f.wirelen, &pkt, &ns) != CT_NET_OK)
			continue;
		(void)ct_flow_packet(ft, &pkt); /* failures are counted in the flow stats */
	}
	ct_flow_finish(ft);
	/* Blocks still waiting (an id was never released): print them in order anyway. */
	while (dm.nheap)
		emit_block(&dm, heap_pop(&dm));
	ct_free(dm.heap);

	if (ns.by_result[CT_NET_LINKTYPE]) {
		fprintf(stderr, "ctdump: %" PRIu64 " frames had an unsupported link type\n",
			ns.by_result[CT_NET_LINKTYPE]);
		status = 1;
	}
	struct ct_source_stats ss;
	ct_source_stats(src, &ss);
	if (ss.truncated_files || ss.read_errors) {
		fprintf(stderr, "ctdump: %" PRIu64 " truncated files, %" PRIu64 " read errors\n",
			ss.truncated_files, ss.read_errors);
		status = 1;
	}
	if (o.stats)
		print_stats(&ns, ft, src);
	ct_flow_free(ft);
	ct_source_close(src);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ctdump: writing output: %s\n", strerror(errno));
		status = 1;
	}
	return status;
}
