/* Tests for memcached over UDP (src/mc_udp.c): the frame header, and per-request-id
 * reassembly of multi-datagram responses in order, out of order, duplicated, interleaved and
 * with a datagram lost. The message log comes from the fixture runner of test_mc_text.c. */
#define MC_TEST_NO_MAIN
#include "test_mc_text.c"

struct dg {
	uint16_t id, seq, total;
	const char *p;
	uint32_t len;
	uint64_t ts;
};

/* Feeds datagrams (frame header built here) and returns the log. `stream` is the payloads in
 * delivery order, so that values can be shown from their offsets. */
static char *udp_log(int side, const struct dg *d, size_t n, const char *stream, size_t slen,
		     struct ct_mc_udp_counters *uc, struct ct_mc_counters *dc)
{
	struct fx *fx = stream_case(side, NULL, stream, slen);
	struct ct_mc_udp *u = ct_malloc(sizeof *u);
	if (!u)
		abort();
	struct run r = { .fx = fx, .d = &u->dec }; /* no clock: byte times are not checked here */
	if (ct_mc_udp_init(u, (enum ct_mc_side)side, &fx->o, &test_cb, &r) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		uint8_t *buf = ct_malloc(d[i].len + 8);
		if (!buf)
			abort();
		uint8_t h[8] = { (uint8_t)(d[i].id >> 8), (uint8_t)d[i].id,
				 (uint8_t)(d[i].seq >> 8), (uint8_t)d[i].seq,
				 (uint8_t)(d[i].total >> 8), (uint8_t)d[i].total, 0, 0 };
		memcpy(buf, h, 8);
		memcpy(buf + 8, d[i].p, d[i].len);
		(void)ct_mc_udp_datagram(u, buf, d[i].len + 8, d[i].ts ? d[i].ts : 1000 + i);
		ct_free(buf); /* the decoder must not keep a pointer into it */
	}
	ct_mc_udp_flush(u, 99999);
	if (uc)
		*uc = u->c;
	if (dc)
		*dc = u->dec.c;
	ct_free(u);
	ct_fx_case_free(&fx->c);
	return r.log.p ? r.log.p : ct_strdup("");
}

static void test_header(void)
{
	struct ct_mc_udp_hdr h;
	static const uint8_t good[8] = { 0x12, 0x34, 0, 1, 0, 3, 0, 0 };
	is_int(ct_mc_udp_hdr_parse(good, 8, &h), 0, "good header");
	ok(h.req_id == 0x1234 && h.seq == 1 && h.total == 3 && h.reserved == 0, "fields");
	is_int(ct_mc_udp_hdr_parse(good, 7, &h), CT_ETRUNC, "short header");
	static const uint8_t zero_total[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	is_int(ct_mc_udp_hdr_parse(zero_total, 8, &h), CT_EPROTO, "total 0");
	static const uint8_t seq_past[8] = { 0, 1, 0, 2, 0, 2, 0, 0 };
	is_int(ct_mc_udp_hdr_parse(seq_past, 8, &h), CT_EPROTO, "seq >= total");
}

/* A 3000-byte value over three datagrams: VALUE line + value + END. */
static struct ct_buf big_response(void)
{
	struct ct_buf s = { 0 };
	ct_fx_put(&s, "VALUE big 7 3000\r\n", 18);
	for (int i = 0; i < 3000; i++) {
		char c = (char)('A' + i % 26);
		ct_fx_put(&s, &c, 1);
	}
	ct_fx_put(&s, "\r\nEND\r\n", 7);
	return s;
}

static const char want_big[] =
	"msg 0-3019 VALUE key=big flags=7 value=3000 hash=ok udp=5\n"
	"msg 3020-3024 END udp=5\n";

static void test_in_order_and_permutations(void)
{
	struct ct_buf s = big_response();
	/* cut as memcached would: 1392 payload bytes per datagram (1400 with the header) */
	uint32_t cut1 = 1392, cut2 = 2784;
	struct dg d[3] = {
		{ 5, 0, 3, s.p, cut1, 0 },
		{ 5, 1, 3, s.p + cut1, cut2 - cut1, 0 },
		{ 5, 2, 3, s.p + cut2, (uint32_t)s.len - cut2, 0 },
	};
	struct ct_mc_udp_counters uc;
	char *log = udp_log(CT_MC_SIDE_SERVER, d, 3, s.p, s.len, &uc, NULL);
	is_str(log, want_big, "three datagrams in order");
	is_int(uc.responses, 1, "one response completed");
	is_int(uc.lost + uc.reordered + uc.incomplete, 0, "nothing lost or reordered");
	ct_free(log);

	static const int perms[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
					 { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	for (int p = 0; p < 6; p++) {
		struct dg q[3] = { d[perms[p][0]], d[perms[p][1]], d[perms[p][2]] };
		log = udp_log(CT_MC_SIDE_SERVER, q, 3, s.p, s.len, &uc, NULL);
		is_str(log, want_big, "order %d%d%d gives the same messages", perms[p][0],
		       perms[p][1], perms[p][2]);
		is_int(uc.responses, 1, "order %d%d%d: complete", perms[p][0], perms[p][1],
		       perms[p][2]);
		is_int(uc.lost, 0, "order %d%d%d: nothing lost", perms[p][0], perms[p][1],
		       perms[p][2]);
		ct_free(log);
	}

	/* a duplicate of the first datagram is dropped */
	struct dg dup[4] = { d[0], d[0], d[1], d[2] };
	log = udp_log(CT_MC_SIDE_SERVER, dup, 4, s.p, s.len, &uc, NULL);
	is_str(log, want_big, "duplicate dropped");
	is_int(uc.duplicates, 1, "duplicate counted");
	ct_free(log);
	ct_free(s.p);
}

static void test_lost(void)
{
	struct ct_buf s = big_response();
	uint32_t cut1 = 1392, cut2 = 2784;
	struct dg d[3] = {
		{ 5, 0, 3, s.p, cut1, 1000 },
		{ 5, 2, 3, s.p + cut2, (uint32_t)s.len - cut2, 1001 },
		/* the next response, well after: the missing datagram is given up */
		{ 6, 0, 1, "END\r\n", 5, 1000 + CT_MC_UDP_WAIT_NS + 5000 },
	};
	/* delivery order: datagram 0, datagram 2, then response 6 */
	struct ct_buf st = { 0 };
	ct_fx_put(&st, s.p, cut1);
	ct_fx_put(&st, s.p + cut2, s.len - cut2);
	ct_fx_put(&st, "END\r\n", 5);
	struct ct_mc_udp_counters uc;
	struct ct_mc_counters dc;
	char *log = udp_log(CT_MC_SIDE_SERVER, d, 3, st.p, st.len, &uc, &dc);
	/* the value is cut: it is dropped, and the decoder resyncs on the END after it */
	is_str(log, "msg 1628-1632 END f=RESYNCED udp=5\nmsg 1633-1637 END udp=6\n",
	       "lost middle datagram");
	is_int(uc.lost, 1, "one datagram lost");
	is_int(uc.incomplete, 1, "one response incomplete");
	is_int(uc.responses, 1, "the next one complete");
	is_int(dc.aborted, 1, "the cut VALUE counted as aborted");
	ct_free(log);

	/* the last datagram lost: given up at flush */
	struct dg e[2] = { d[0], { 5, 1, 3, s.p + cut1, cut2 - cut1, 1001 } };
	log = udp_log(CT_MC_SIDE_SERVER, e, 2, s.p, cut2, &uc, &dc);
	is_str(log, "", "truncated response: nothing complete");
	is_int(uc.lost, 1, "tail datagram lost");
	is_int(uc.incomplete, 1, "incomplete");
	ct_free(log);

	/* only the tail arrived; its start never does */
	struct dg f[1] = { { 5, 2, 3, s.p + cut2, (uint32_t)s.len - cut2, 1000 } };
	log = udp_log(CT_MC_SIDE_SERVER, f, 1, s.p + cut2, s.len - cut2, &uc, &dc);
	is_str(log, "msg 236-240 END f=RESYNCED udp=5\n", "tail only: resync on its END");
	is_int(uc.lost, 2, "two datagrams lost");
	ct_free(log);
	ct_free(st.p);
	ct_free(s.p);
}

/* Two responses interleaved: both are put back together. */
static void test_interleaved(void)
{
	const char *a = "VALUE a 0 4\r\nAAAA\r\nEND\r\n", *b = "VALUE b 0 4\r\nBBBB\r\nEND\r\n";
	struct dg d[4] = {
		{ 1, 0, 2, a, 10, 0 }, { 2, 0, 2, b, 10, 0 },
		{ 1, 1, 2, a + 10, 14, 0 }, { 2, 1, 2, b + 10, 14, 0 },
	};
	struct ct_buf st = { 0 };
	ct_fx_put(&st, a, 24);
	ct_fx_put(&st, b, 24);
	struct ct_mc_udp_counters uc;
	char *log = udp_log(CT_MC_SIDE_SERVER, d, 4, st.p, st.len, &uc, NULL);
	is_str(log,
	       "msg 0-18 VALUE key=a flags=0 value=4:\"AAAA\" hash=ok udp=1\nmsg 19-23 END udp=1\n"
	       "msg 24-42 VALUE key=b flags=0 value=4:\"BBBB\" hash=ok udp=2\nmsg 43-47 END udp=2\n",
	       "interleaved responses");
	is_int(uc.responses, 2, "both complete");
	is_int(uc.lost, 0, "none lost");
	ct_free(log);
	ct_free(st.p);
}

/* Requests: one datagram each, request ids reused (some clients always send 0). */
static void test_requests(void)
{
	struct dg d[4] = {
		{ 0, 0, 1, "get a\r\n", 7, 0 }, { 0, 0, 1, "set b 0 0 1\r\nB\r\n", 16, 0 },
		{ 0, 0, 1, "get c d\r\n", 9, 0 }, { 9, 0, 1, "delete e\r\n", 10, 0 },
	};
	const char *stream = "get a\r\nset b 0 0 1\r\nB\r\nget c d\r\ndelete e\r\n";
	struct ct_mc_udp_counters uc;
	char *log = udp_log(CT_MC_SIDE_CLIENT, d, 4, stream, strlen(stream), &uc, NULL);
	is_str(log,
	       "key 0 a\nmsg 0-6 GET nkeys=1 udp=0\n"
	       "msg 7-22 SET key=b flags=0 exp=0 value=1:\"B\" hash=ok udp=0\n"
	       "key 0 c\nkey 1 d\nmsg 23-31 GET nkeys=2 udp=0\n"
	       "msg 32-41 DELETE key=e udp=9\n",
	       "one request per datagram, ids reused");
	is_int(uc.responses, 4, "four complete");
	ct_free(log);

	/* a datagram cut inside a command: the next datagram starts clean */
	struct dg e[2] = { { 1, 0, 1, "set b 0 0 5\r\nB", 14, 0 }, { 2, 0, 1, "get z\r\n", 7, 0 } };
	const char *s2 = "set b 0 0 5\r\nBget z\r\n";
	struct ct_mc_counters dc;
	log = udp_log(CT_MC_SIDE_CLIENT, e, 2, s2, strlen(s2), &uc, &dc);
	is_str(log, "key 0 z\nmsg 14-20 GET nkeys=1 udp=2\n", "cut request dropped at the boundary");
	is_int(dc.aborted, 1, "counted as aborted");
	ct_free(log);

	/* bad frame headers are counted and dropped */
	struct ct_mc_udp *u = ct_malloc(sizeof *u);
	if (!u || ct_mc_udp_init(u, CT_MC_SIDE_CLIENT, NULL, NULL, NULL) != 0)
		abort();
	static const uint8_t bad1[5] = { 0, 1, 0, 0, 0 };
	static const uint8_t bad2[8] = { 0, 1, 0, 5, 0, 1, 0, 0 };
	is_int(ct_mc_udp_datagram(u, bad1, sizeof bad1, 1), CT_ETRUNC, "short datagram");
	is_int(ct_mc_udp_datagram(u, bad2, sizeof bad2, 1), CT_EPROTO, "seq past total");
	is_int(u->c.bad_headers, 2, "bad headers counted");
	ct_free(u);
}

/* Binary protocol over UDP: a GETK response across two datagrams. */
static void test_binary(void)
{
	static const uint8_t pkt[] = {
		0x81, 0x0c, 0x00, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,
		0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x02, 'f', 'o', 'o', 'b', 'a', 'r',
	};
	struct dg d[2] = { { 3, 1, 2, (const char *)pkt + 20, sizeof pkt - 20, 0 },
			   { 3, 0, 2, (const char *)pkt, 20, 0 } };
	struct ct_mc_udp_counters uc;
	char *log = udp_log(CT_MC_SIDE_SERVER, d, 2, (const char *)pkt, sizeof pkt, &uc, NULL);
	is_str(log,
	       "msg 0-33 GET p=binary key=foo flags=2 cas=1 value=3:\"bar\" hash=ok f=RETKEY "
	       "op=0x0c status=0 opaque=7 ext=00000002 udp=3\n",
	       "binary response over two datagrams, out of order");
	is_int(uc.reordered, 1, "reordered counted");
	ct_free(log);
}

/* More out-of-order datagrams than slots: the oldest response goes ahead, nothing hangs. */
static void test_slots_full(void)
{
	struct dg d[CT_MC_UDP_SLOTS + 3];
	char bufs[CT_MC_UDP_SLOTS + 3][16];
	size_t n = 0;
	/* response 1 starts, then many tails of responses whose starts never come */
	d[n++] = (struct dg){ 1, 0, 2, "VALUE a 0 1\r\n", 13, 0 };
	for (unsigned i = 0; i < CT_MC_UDP_SLOTS + 2; i++) {
		snprintf(bufs[i], sizeof bufs[i], "END\r\n");
		d[n++] = (struct dg){ (uint16_t)(100 + i), 1, 2, bufs[i], 5, 0 };
	}
	struct ct_mc_udp_counters uc;
	char *log = udp_log(CT_MC_SIDE_SERVER, d, n, "", 0, &uc, NULL);
	ok(uc.lost >= CT_MC_UDP_SLOTS + 2, "starts and the tail of response 1 counted lost (%llu)",
	   (unsigned long long)uc.lost);
	is_int(uc.incomplete, CT_MC_UDP_SLOTS + 3, "every response incomplete");
	ok(strstr(log, "END f=RESYNCED") != NULL, "the tails still decode");
	ct_free(log);
}

int main(void)
{
	test_header();
	test_in_order_and_permutations();
	test_lost();
	test_interleaved();
	test_requests();
	test_binary();
	test_slots_full();
	return done_testing();
}
