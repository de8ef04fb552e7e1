/* mkcorpus: writes seed inputs for the fuzz targets (layouts in tests/fuzz/fuzz.h and each
 * target's header comment) from the spec fixtures and from captures. `make fuzz-corpus` runs
 * it and merges what adds coverage into tests/fuzz/corpus/TARGET/ with libFuzzer's -merge=1.
 *
 *   mkcorpus OUTDIR [CAPTURE|DIR]...   run from the top of the tree (it reads tests/fixtures/)
 *
 * Writes OUTDIR/TARGET/<xxh3 of the content>:
 *   fuzz_http                          every case of tests/fixtures/http, cut two ways
 *   fuzz_resp, fuzz_mc_text, fuzz_mc_bin  every fixture case (tests/fixtures/resp, mc,
 *             mc_pair) and every TCP/UDP connection of the captures that payload detection or
 *             its port (6379, 11211) calls Redis or memcached, as conversation records (first
 *             SEED_CONV_MAX_BYTES of each), for the bare decoders and for the protocol module;
 *   fuzz_reasm  the first TCP connection of each capture as segment records (sequence numbers,
 *             lengths, flags and pacing as captured), and a few shuffled synthetic streams;
 *   fuzz_pipeline  each capture, whole when at most SEED_PCAP_MAX_BYTES, otherwise its first
 *             packets rewritten by libpcap into a pcap of about that size. */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachetap/buf.h"
#include "cachetap/capture.h"
#include "cachetap/detect.h"
#include "cachetap/flow.h"
#include "cachetap/net.h"
#include "fuzz.h"

#define SEED_CONV_MAX_BYTES 2048u  /* records of one conversation seed */
#define SEED_PCAP_MAX_BYTES 6144u  /* one pipeline seed */
#define SEED_REASM_MAX_SEGS 200u   /* segments of one reassembly seed */
#define LINE_MAX_BYTES 70000u      /* one fixture line */

static const char *outdir;
static unsigned written;

static void die(const char *what)
{
	fprintf(stderr, "mkcorpus: %s\n", what);
	exit(1);
}

static void put(struct ct_buf *b, const void *p, size_t n)
{
	if (ct_buf_add(b, p, n))
		die("out of memory");
}

static void put8(struct ct_buf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;
	put(b, &x, 1);
}

/* Writes one seed, named by its content. */
static void emit(const char *target, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", outdir, target);
	mkdir(outdir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s/%016llx", outdir, target,
		 (unsigned long long)XXH3_64bits(p, n));
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		die("cannot write a seed");
	written++;
}

/* A conversation seed: mode byte, seed byte, then records (fuzz.h). */
struct conv {
	struct ct_buf b;
	int full;
};

static void conv_start(struct conv *c)
{
	memset(c, 0, sizeof *c);
	put8(&c->b, 0);   /* mode, set by conv_emit */
	put8(&c->b, 0x2a); /* PRNG seed */
}

static void conv_rec(struct conv *c, unsigned tag, const uint8_t *p, size_t n)
{
	do {
		size_t k = n > 65535 ? 65535 : n;
		if (c->b.len + 3 + k > SEED_CONV_MAX_BYTES) {
			c->full = 1;
			k = c->b.len + 3 < SEED_CONV_MAX_BYTES ? SEED_CONV_MAX_BYTES - c->b.len - 3 : 0;
			if (!k)
				return;
		}
		put8(&c->b, tag);
		put8(&c->b, (unsigned)k & 0xff);
		put8(&c->b, (unsigned)k >> 8);
		if (p)
			put(&c->b, p, k);
		if (p)
			p += k;
		n -= k;
	} while (n && !c->full);
}

static void conv_gap(struct conv *c, int dir, uint64_t len)
{
	if (c->b.len + 3 > SEED_CONV_MAX_BYTES)
		return;
	put8(&c->b, (unsigned)(dir | FZ_GAP << 1));
	put8(&c->b, (unsigned)(len > 65535 ? 65535 : len) & 0xff);
	put8(&c->b, (unsigned)(len > 65535 ? 65535 : len) >> 8);
}

static void conv_emit(struct conv *c, const char *target, unsigned mode)
{
	if (c->b.len <= 2)
		return;
	((uint8_t *)c->b.p)[0] = (uint8_t)mode;
	emit(target, c->b.p, c->b.len);
}

/* ---- fixtures ---- */

/* Undoes the fixture escapes \r \n \t \s \\ \" \xNN. */
static void unescape(struct ct_buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			put8(out, (uint8_t)*s);
			continue;
		}
		s++;
		switch (*s) {
		case 'r': put8(out, '\r'); break;
		case 'n': put8(out, '\n'); break;
		case 't': put8(out, '\t'); break;
		case 's': put8(out, ' '); break;
		case 'x':
			if (s[1] && s[2]) {
				char h[3] = { s[1], s[2], 0 };
				put8(out, (unsigned)strtoul(h, NULL, 16));
				s += 2;
			}
			break;
		default: put8(out, (uint8_t)*s); break;
		}
	}
}

static void unhex(struct ct_buf *out, const char *s)
{
	int hi = -1;
	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			put8(out, (unsigned)(hi << 4 | v));
			hi = -1;
		}
	}
}

/* One fixture case being read. */
struct fcase {
	struct conv tcp, udp;  /* stream/packet records; datagrams */
	struct ct_buf pending; /* bytes of adjacent in/rep/hex lines (decoder fixtures) */
	int side, midstream, values_none, rdb, binary, has_tcp, has_udp;
};

static void fcase_flush_pending(struct fcase *fc)
{
	if (fc->pending.len) {
		conv_rec(&fc->tcp, (unsigned)fc->side, (const uint8_t *)fc->pending.p, fc->pending.len);
		fc->has_tcp = 1;
	}
	ct_buf_free(&fc->pending);
}

static void fcase_start(struct fcase *fc)
{
	memset(fc, 0, sizeof *fc);
	conv_start(&fc->tcp);
	conv_start(&fc->udp);
}

/* Emits the seeds of a finished case. kind: 'r' RESP decoder, 'm' mc decoder, 'p' mc pairing. */
static void fcase_end(struct fcase *fc, int kind)
{
	fcase_flush_pending(fc);
	unsigned common = (unsigned)(fc->midstream << 3 | fc->values_none << 4 | 0x20);
	if (kind == 'r') {
		conv_emit(&fc->tcp, "fuzz_resp", common | (fc->rdb ? 0x80u : 0) | FZ_SMALL << 1);
		/* The same bytes as one stream of that side, fed whole to the module too. */
		conv_emit(&fc->tcp, "fuzz_resp", common | 0x40u);
	} else if (kind == 'm') {
		const char *t = fc->binary ? "fuzz_mc_bin" : "fuzz_mc_text";
		conv_emit(&fc->tcp, t, common | FZ_SMALL << 1);
		conv_emit(&fc->tcp, t, common | 0x40u);
	} else if (kind == 'h') {
		conv_emit(&fc->tcp, "fuzz_http", common | FZ_SMALL << 1);
		conv_emit(&fc->tcp, "fuzz_http", common | FZ_LARGE << 1);
	} else {
		const char *t = fc->binary ? "fuzz_mc_bin" : "fuzz_mc_text";
		if (fc->has_tcp) {
			conv_emit(&fc->tcp, t, common | 0x40u | FZ_SMALL << 1);
			conv_emit(&fc->tcp, t, common | FZ_LARGE << 1);
		}
		if (fc->has_udp) {
			conv_emit(&fc->udp, "fuzz_mc_text", common | 0xc0u);
			conv_emit(&fc->udp, "fuzz_mc_text", common | 0x80u);
		}
	}
	ct_buf_free(&fc->tcp.b);
	ct_buf_free(&fc->udp.b);
	ct_buf_free(&fc->pending);
}

/* A UDP datagram of the pairing fixtures: frame header (id, seq, total, 0) + payload. */
static void fixture_udp(struct fcase *fc, int dir, const char *args, int explicit_seq)
{
	char *end;
	unsigned long id = strtoul(args, &end, 10), seq = 0, total = 1;
	if (explicit_seq) {
		seq = strtoul(end, &end, 10);
		total = strtoul(end, &end, 10);
	}
	if (*end == ' ')
		end++;
	struct ct_buf d = { 0 };
	uint8_t h[8] = { (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(seq >> 8), (uint8_t)seq,
			 (uint8_t)(total >> 8), (uint8_t)total, 0, 0 };
	put(&d, h, 8);
	unescape(&d, end);
	conv_rec(&fc->udp, (unsigned)dir, (const uint8_t *)d.p, d.len);
	fc->has_udp = 1;
	ct_buf_free(&d);
}

static void fixture_file(const char *path, int kind)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char *line = ct_malloc(LINE_MAX_BYTES);
	if (!line)
		die("out of memory");
	struct fcase fc;
	int open = 0;
	int binary_file = strstr(path, "binary") != NULL;
	while (fgets(line, (int)LINE_MAX_BYTES, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "=== ", 4) == 0) {
			if (open)
				fcase_end(&fc, kind);
			fcase_start(&fc);
			fc.binary = binary_file;
			open = 1;
			continue;
		}
		if (!open || !line[0] || line[0] == '#' || strncmp(line, "out ", 4) == 0)
			continue;
		if (strncmp(line, "side ", 5) == 0) {
			fc.side = strcmp(line + 5, "server") == 0;
		} else if (strncmp(line, "opts", 4) == 0) {
			fc.midstream |= strstr(line, "midstream") != NULL;
			fc.values_none |= strstr(line, "values=none") != NULL;
			fc.rdb |= strstr(line, "rdb") != NULL;
		} else if (strncmp(line, "in ", 3) == 0) {
			unescape(&fc.pending, line + 3);
		} else if (strncmp(line, "hex ", 4) == 0) {
			unhex(&fc.pending, line + 4);
		} else if (strncmp(line, "rep ", 4) == 0) {
			char *end;
			unsigned long n = strtoul(line + 4, &end, 10);
			if (*end == ' ')
				end++;
			for (unsigned long i = 0; i < n && i < 100000; i++)
				unescape(&fc.pending, end);
		} else if (strncmp(line, "gap ", 4) == 0) {
			fcase_flush_pending(&fc);
			int dir = fc.side;
			const char *n = line + 4;
			if (kind == 'p' || kind == 'h') {
				dir = line[4] == 's';
				n = line + 6;
			}
			conv_gap(&fc.tcp, dir, strtoull(n, NULL, 10));
		} else if ((kind == 'p' || kind == 'h') &&
			   (strncmp(line, "c> ", 3) == 0 || strncmp(line, "s> ", 3) == 0)) {
			struct ct_buf d = { 0 };
			unescape(&d, line + 3);
			conv_rec(&fc.tcp, line[0] == 's', (const uint8_t *)d.p, d.len);
			fc.has_tcp = 1;
			fc.binary |= d.len && (uint8_t)d.p[0] == 0x80;
			ct_buf_free(&d);
		} else if (kind == 'p' && (strncmp(line, "cx ", 3) == 0 || strncmp(line, "sx ", 3) == 0)) {
			struct ct_buf d = { 0 };
			unhex(&d, line + 3);
			conv_rec(&fc.tcp, line[0] == 's', (const uint8_t *)d.p, d.len);
			fc.has_tcp = 1;
			fc.binary |= d.len && (uint8_t)d.p[0] == 0x80;
			ct_buf_free(&d);
		} else if (kind == 'p' && (strncmp(line, "cu ", 3) == 0 || strncmp(line, "su ", 3) == 0)) {
			fixture_udp(&fc, line[0] == 's', line + 3, 0);
		} else if (kind == 'p' && (strncmp(line, "cuf ", 4) == 0 || strncmp(line, "suf ", 4) == 0)) {
			fixture_udp(&fc, line[0] == 's', line + 4, 1);
		}
	}
	if (open)
		fcase_end(&fc, kind);
	ct_free(line);
	fclose(f);
}

static void fixture_dir(const char *dir, int kind)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(list[i]->d_name);
		if (l > 4 && strcmp(list[i]->d_name + l - 4, ".txt") == 0) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
			fixture_file(path, kind);
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/* ---- captures: conversations through the flow table ---- */

struct capconv {
	struct conv c;
	int udp, decided; /* decided: 'r' Redis, 't' memcached text, 'b' memcached binary, 'x' none */
};

static uint8_t decide(const struct ct_conn *c, const uint8_t *p, uint32_t len)
{
	struct ct_detect d;
	const uint8_t *q = p;
	uint32_t n = len;
	if (c->l4 == CT_L4_UDP && n > 8) {
		q += 8;
		n -= 8;
	}
	int mcport = c->srv_port == 11211 || c->cli_port == 11211;
	if (ct_detect(q, n, 1u << CT_PROTO_REDIS | 1u << CT_PROTO_MEMCACHED, &d) == CT_DETECT_FOUND)
		return d.proto == CT_PROTO_REDIS ? 'r' : (n && (q[0] == 0x80 || q[0] == 0x81)) ? 'b' : 't';
	if (c->srv_port == 6379 || c->cli_port == 6379)
		return 'r';
	if (mcport)
		return (n && (q[0] == 0x80 || q[0] == 0x81)) ? 'b' : 't';
	return 0;
}

static struct capconv *cc_of(struct ct_conn *c)
{
	if (!c->app) {
		struct capconv *k = ct_calloc(1, sizeof *k);
		if (!k)
			die("out of memory");
		conv_start(&k->c);
		c->app = k;
	}
	return c->app;
}

static void f_open(void *ctx, struct ct_conn *c)
{
	CT_UNUSED(ctx);
	CT_UNUSED(cc_of(c));
}

static void f_data(void *ctx, struct ct_conn *c, int dir, uint64_t off, const uint8_t *p,
		   uint32_t len, uint64_t ts_ns)
{
	CT_UNUSED(ctx);
	CT_UNUSED(off);
	CT_UNUSED(ts_ns);
	struct capconv *k = cc_of(c);
	if (!k->decided)
		k->decided = decide(c, p, len) ? decide(c, p, len) : 'x';
	conv_rec(&k->c, (unsigned)dir, p, len);
}

static void f_gap(void *ctx, struct ct_conn *c, int dir, uint64_t off, uint64_t len,
		  uint64_t ts_ns)
{
	CT_UNUSED(ctx);
	CT_UNUSED(off);
	CT_UNUSED(ts_ns);
	conv_gap(&cc_of(c)->c, dir, len);
}

static void f_datagram(void *ctx, struct ct_conn *c, int dir, const uint8_t *p, uint32_t len,
		       uint32_t wirelen, uint64_t ts_ns)
{
	CT_UNUSED(wirelen);
	struct capconv *k = cc_of(c);
	k->udp = 1;
	f_data(ctx, c, dir, 0, p, len, ts_ns);
}

static void f_close(void *ctx, struct ct_conn *c)
{
	CT_UNUSED(ctx);
	CT_UNUSED(c);
}

static void f_release(void *ctx, struct ct_conn *c)
{
	CT_UNUSED(ctx);
	struct capconv *k = c->app;
	if (!k)
		return;
	unsigned mid = c->orient != CT_ORIENT_SYN && c->l4 == CT_L4_TCP ? 0x08u : 0;
	if (k->decided == 'r') {
		conv_emit(&k->c, "fuzz_resp", 0x60u | mid);
		conv_emit(&k->c, "fuzz_resp", 0x20u | mid | FZ_LARGE << 1);
	} else if (k->decided == 't' || k->decided == 'b') {
		const char *t = k->decided == 'b' ? "fuzz_mc_bin" : "fuzz_mc_text";
		if (k->udp) {
			conv_emit(&k->c, t, 0xe0u);
			conv_emit(&k->c, t, 0xa0u);
		} else {
			conv_emit(&k->c, t, 0x60u | mid);
			conv_emit(&k->c, t, 0x20u | mid | FZ_LARGE << 1);
		}
	}
	ct_buf_free(&k->c.b);
	ct_free(k);
	c->app = NULL;
}

static const struct ct_flow_cb flow_cb = { f_open, f_data, f_gap, f_datagram, f_close, f_release };

/* The reassembly seed of one capture: its first TCP connection's segments (fuzz_reasm.c). */
struct rseed {
	struct ct_buf b;
	int have;
	struct ct_ip a[2];
	uint16_t port[2];
	uint32_t first_seq[2];
	int seen[2];
	uint64_t last_ts;
	unsigned segs;
};

static void reasm_packet(struct rseed *r, const struct ct_pkt *k)
{
	if (k->l4 != CT_L4_TCP || r->segs >= SEED_REASM_MAX_SEGS)
		return;
	if (!r->have) {
		r->have = 1;
		r->a[0] = k->src;
		r->a[1] = k->dst;
		r->port[0] = k->sport;
		r->port[1] = k->dport;
		put8(&r->b, 0x10); /* default cap, two streams */
		uint8_t isn[4] = { (uint8_t)k->seq, (uint8_t)(k->seq >> 8), (uint8_t)(k->seq >> 16),
				   (uint8_t)(k->seq >> 24) };
		put(&r->b, isn, 4);
		r->last_ts = k->ts_ns;
	}
	int dir;
	if (!memcmp(&k->src, &r->a[0], sizeof k->src) && k->sport == r->port[0] &&
	    !memcmp(&k->dst, &r->a[1], sizeof k->dst) && k->dport == r->port[1])
		dir = 0;
	else if (!memcmp(&k->src, &r->a[1], sizeof k->src) && k->sport == r->port[1] &&
		 !memcmp(&k->dst, &r->a[0], sizeof k->dst) && k->dport == r->port[0])
		dir = 1;
	else
		return;
	if (!k->payload_wire_len && !(k->tcp_flags & (CT_TCP_SYN | CT_TCP_FIN)))
		return;
	if (!r->seen[dir]) {
		r->seen[dir] = 1;
		r->first_seq[dir] = k->seq;
	}
	uint64_t dt = k->ts_ns > r->last_ts ? k->ts_ns - r->last_ts : 0;
	r->last_ts = k->ts_ns;
	unsigned tc = dt < 5000000 ? 0 : dt < 100000000 ? 1 : dt < 700000000 ? 2 : 3;
	uint32_t field = k->seq - r->first_seq[dir];
	uint32_t len = k->payload_wire_len & 0x1fff;
	unsigned cut = k->payload_len < k->payload_wire_len && len
			       ? 200 + (unsigned)((uint64_t)k->payload_len * 56 / len) : 0;
	if (cut > 255)
		cut = 0;
	uint8_t rec[8] = { (uint8_t)((k->tcp_flags & (CT_TCP_FIN | CT_TCP_SYN)) | dir << 2 | 1 << 4 |
				     tc << 6),
			   (uint8_t)field, (uint8_t)(field >> 8), (uint8_t)(field >> 16),
			   (uint8_t)(field >> 24), (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)cut };
	put(&r->b, rec, 8);
	r->segs++;
}

/* A pipeline seed: the file itself when small, else its first packets rewritten. */
static void pipeline_seed(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	struct ct_buf b = { 0 };
	uint8_t tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0 && b.len <= SEED_PCAP_MAX_BYTES)
		put(&b, tmp, n);
	fclose(f);
	if (b.len <= SEED_PCAP_MAX_BYTES) {
		emit("fuzz_pipeline", b.p, b.len);
		ct_buf_free(&b);
		return;
	}
	ct_buf_free(&b);
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!in)
		return;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *out = open_memstream(&mem, &memlen);
	pcap_dumper_t *d = out ? pcap_dump_fopen(in, out) : NULL;
	if (!d) {
		if (out)
			fclose(out);
		free(mem);
		pcap_close(in);
		return;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t total = 24;
	while (pcap_next_ex(in, &h, &data) == 1 && total + 16 + h->caplen <= SEED_PCAP_MAX_BYTES) {
		pcap_dump((u_char *)d, h, data);
		total += 16 + h->caplen;
	}
	pcap_dump_close(d); /* closes `out` */
	pcap_close(in);
	if (mem && memlen > 24)
		emit("fuzz_pipeline", mem, memlen);
	free(mem); /* open_memstream's buffer */
}

static void capture_file(const char *path)
{
	pipeline_seed(path);
	struct ct_source *src = NULL;
	char err[512];
	if (ct_source_open_files(&src, &path, 1, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "mkcorpus: %s\n", err);
		return;
	}
	struct ct_flow_opts fo;
	memset(&fo, 0, sizeof fo);
	uint8_t ports[CT_PORTMAP_BYTES];
	memset(ports, 0, sizeof ports);
	ct_portmap_set(ports, 6379);
	ct_portmap_set(ports, 11211);
	fo.server_ports = ports;
	struct ct_flow *ft = ct_flow_new(&fo, &flow_cb, NULL);
	if (!ft)
		die("out of memory");
	struct rseed rs;
	memset(&rs, 0, sizeof rs);
	struct ct_frame fr;
	struct ct_pkt k;
	while (ct_source_next(src, &fr) == 1) {
		if (ct_net_decode(fr.dlt, fr.ts_ns, fr.data, fr.caplen, fr.wirelen, &k, NULL) != CT_NET_OK)
			continue;
		reasm_packet(&rs, &k);
		(void)ct_flow_packet(ft, &k);
	}
	ct_flow_finish(ft);
	ct_flow_free(ft);
	ct_source_close(src);
	if (rs.segs > 1)
		emit("fuzz_reasm", rs.b.p, rs.b.len);
	ct_buf_free(&rs.b);
}

static void capture_path(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		size_t l = strlen(path);
		if ((l > 5 && !strcmp(path + l - 5, ".pcap")) || (l > 7 && !strcmp(path + l - 7, ".pcapng")) ||
		    (l > 4 && !strcmp(path + l - 4, ".cap")))
			capture_file(path);
		return;
	}
	struct dirent **list;
	int n = scandir(path, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.') {
			char sub[4096];
			snprintf(sub, sizeof sub, "%s/%s", path, list[i]->d_name);
			capture_path(sub);
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/* Synthetic reassembly seeds: a stream cut in 100-byte segments, shuffled, with duplicates. */
static void reasm_synthetic(void)
{
	uint64_t rng = 12345;
	for (unsigned v = 0; v < 8; v++) {
		struct ct_buf b = { 0 };
		put8(&b, v & 0x1f); /* caps, conflicts, SYN, two streams */
		uint32_t isn = (uint32_t)fz_rand(&rng);
		if (v & 1)
			isn = 0xfffff000u; /* wraps */
		uint8_t h[4] = { (uint8_t)isn, (uint8_t)(isn >> 8), (uint8_t)(isn >> 16), (uint8_t)(isn >> 24) };
		put(&b, h, 4);
		unsigned nseg = 60 + v * 20, order[260];
		for (unsigned i = 0; i < nseg; i++)
			order[i] = i;
		for (unsigned i = nseg - 1; i > 0; i--) {
			unsigned j = (unsigned)(fz_rand(&rng) % (i + 1)), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (unsigned i = 0; i < nseg; i++) {
			uint32_t field = order[i] * 100 + ((v & 8) ? 1 : 0);
			unsigned flags = (i == nseg - 1 ? 1u : 0u) | ((fz_rand(&rng) & 1) << 2) | 1u << 4 |
					 (unsigned)(fz_rand(&rng) % 3) << 6;
			uint8_t rec[8] = { (uint8_t)flags, (uint8_t)field, (uint8_t)(field >> 8),
					   (uint8_t)(field >> 16), (uint8_t)(field >> 24), 100 + (i % 3) * 50, 0,
					   (uint8_t)(i % 17 == 0 ? 230 : 0) };
			put(&b, rec, 8);
		}
		emit("fuzz_reasm", b.p, b.len);
		ct_buf_free(&b);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mkcorpus OUTDIR [CAPTURE|DIR]...\n");
		return 2;
	}
	outdir = argv[1];
	fixture_dir("tests/fixtures/resp", 'r');
	fixture_dir("tests/fixtures/mc", 'm');
	fixture_dir("tests/fixtures/mc_pair", 'p');
	fixture_dir("tests/fixtures/http", 'h');
	for (int i = 2; i < argc; i++)
		capture_path(argv[i]);
	reasm_synthetic();
	printf("mkcorpus: %u seeds in %s\n", written, outdir);
	return 0;
}
