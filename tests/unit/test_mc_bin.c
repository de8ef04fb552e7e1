/* Tests for the memcached binary protocol framing (src/mc_bin.c): the binary spec fixtures
 * (tests/fixtures/mc/binary.txt, run by the fixture runner of test_mc_text.c), then resync,
 * plausibility and robustness checks. */
#define MC_TEST_NO_MAIN
#include "test_mc_text.c"

static void put_hdr(struct ct_buf *s, uint8_t magic, uint8_t op, uint16_t keylen,
		    uint8_t extlen, uint32_t body, uint32_t opaque)
{
	uint8_t h[24] = { magic, op, (uint8_t)(keylen >> 8), (uint8_t)keylen, extlen, 0, 0, 0,
			  (uint8_t)(body >> 24), (uint8_t)(body >> 16), (uint8_t)(body >> 8),
			  (uint8_t)body, (uint8_t)(opaque >> 24), (uint8_t)(opaque >> 16),
			  (uint8_t)(opaque >> 8), (uint8_t)opaque };
	ct_fx_put(s, (const char *)h, sizeof h);
}

/* Every memcached request opcode, in its well-formed shape, is plausible (so the resync can
 * land on it), and a few near misses are not. */
static void test_plausible(void)
{
	static const struct {
		uint8_t op, ext;
		uint16_t key;
		uint32_t val;
	} good[] = {
		{ 0x00, 0, 1, 0 }, { 0x01, 8, 1, 3 }, { 0x02, 8, 1, 0 }, { 0x03, 8, 1, 1 },
		{ 0x04, 0, 1, 0 }, { 0x05, 20, 1, 0 }, { 0x06, 20, 1, 0 }, { 0x07, 0, 0, 0 },
		{ 0x08, 0, 0, 0 }, { 0x08, 4, 0, 0 }, { 0x09, 0, 1, 0 }, { 0x0a, 0, 0, 0 },
		{ 0x0b, 0, 0, 0 }, { 0x0c, 0, 1, 0 }, { 0x0d, 0, 1, 0 }, { 0x0e, 0, 1, 5 },
		{ 0x0f, 0, 1, 5 }, { 0x10, 0, 0, 0 }, { 0x10, 0, 5, 0 }, { 0x11, 8, 1, 1 },
		{ 0x14, 0, 1, 0 }, { 0x15, 20, 1, 0 }, { 0x17, 0, 0, 0 }, { 0x18, 4, 0, 0 },
		{ 0x19, 0, 1, 1 }, { 0x1b, 4, 0, 0 }, { 0x1c, 4, 1, 0 }, { 0x1d, 4, 1, 0 },
		{ 0x1e, 4, 1, 0 }, { 0x20, 0, 0, 0 }, { 0x21, 0, 5, 9 }, { 0x23, 4, 1, 0 },
		{ 0x24, 4, 1, 0 },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct ct_buf s = { 0 };
		put_hdr(&s, 0x80, good[i].op, good[i].key, good[i].ext,
			good[i].ext + good[i].key + good[i].val, 0);
		uint16_t cmd = 0;
		ok(ct_mc_bin_plausible((const uint8_t *)s.p, CT_MC_SIDE_CLIENT, &cmd) && cmd,
		   "opcode 0x%02x plausible", good[i].op);
		ok(!ct_mc_bin_plausible((const uint8_t *)s.p, CT_MC_SIDE_SERVER, NULL),
		   "opcode 0x%02x: a request is not a response", good[i].op);
		ok(ct_mc_bin_opcode_name(good[i].op) != NULL, "opcode 0x%02x has a name", good[i].op);
		ct_free(s.p);
	}
	static const struct {
		uint8_t op, ext;
		uint16_t key;
		uint32_t body;
		const char *why;
	} bad[] = {
		{ 0x00, 0, 0, 0, "get without a key" },
		{ 0x00, 0, 1, 2, "get with a value" },
		{ 0x01, 0, 1, 1, "set without extras" },
		{ 0x05, 8, 1, 9, "incr with short extras" },
		{ 0x0a, 0, 1, 1, "noop with a key" },
		{ 0x00, 0, 251, 251, "key over 250" },
		{ 0x01, 8, 1, 9u << 20, "body over the resync limit" },
		{ 0x00, 0, 3, 2, "key longer than the body" },
		{ 0x30, 0, 1, 1, "a range opcode memcached lacks" },
		{ 0x77, 0, 0, 0, "unknown opcode" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ct_buf s = { 0 };
		put_hdr(&s, 0x80, bad[i].op, bad[i].key, bad[i].ext, bad[i].body, 0);
		ok(!ct_mc_bin_plausible((const uint8_t *)s.p, CT_MC_SIDE_CLIENT, NULL), "not plausible: %s",
		   bad[i].why);
		ct_free(s.p);
	}
	ok(ct_mc_bin_opcode_name(0x77) == NULL, "unknown opcode has no name");
	is_str(ct_mc_bin_opcode_name(0x0d), "GETKQ", "opcode name");
}

/* After garbage of every length, the decoder finds the next real header, in any chunking. */
static void test_resync_after_garbage(void)
{
	uint32_t seed = 12345;
	for (int round = 0; round < 200; round++) {
		struct ct_buf s = { 0 };
		size_t glen = (size_t)round * 3;
		for (size_t i = 0; i < glen; i++) {
			seed = seed * 1103515245u + 12345u;
			uint8_t c = (uint8_t)(seed >> 16);
			if (c % 7 == 0)
				c = 0x80; /* plenty of false magic bytes */
			ct_fx_put(&s, (const char *)&c, 1);
		}
		/* three GETs with distinct keys; the last two must always be found */
		for (int k = 0; k < 3; k++) {
			put_hdr(&s, 0x80, 0x00, 2, 0, 2, (uint32_t)k + 100);
			char key[2] = { 'k', (char)('0' + k) };
			ct_fx_put(&s, key, 2);
		}
		struct ct_mc_opts o = { CT_MC_VALUES_HASH, CT_MC_FRAMING_BINARY, 1, 0 };
		char *whole = decode_log(CT_MC_SIDE_CLIENT, &o, s.p, s.len, NULL);
		int found = strstr(whole, "key=k1") && strstr(whole, "key=k2") &&
			    strstr(whole, "opaque=102");
		if (!found) {
			ok(0, "resync after %zu garbage bytes", glen);
			diag("%s", whole);
		}
		/* and the same log when fed one byte at a time */
		struct fx *fx = stream_case(CT_MC_SIDE_CLIENT, &o, s.p, s.len);
		struct ct_buf log = { 0 };
		run_case(&fx->c, &(struct ct_fx_how){ CT_FX_BYTES, 0, 0 }, &log);
		if (strcmp(ct_fx_str(&log), whole) != 0) {
			ok(0, "bytewise equals whole after %zu garbage bytes", glen);
			ct_fx_diff(ct_fx_str(&log), whole);
		}
		ct_fx_buf_free(&log);
		ct_fx_case_free(&fx->c);
		ct_free(whole);
		ct_free(s.p);
	}
	ok(1, "resync after garbage: 200 rounds");
}

/* Random bytes, random framings: never a crash, and chunking never changes the log. */
static void test_random_streams(void)
{
	uint32_t seed = 777;
	static const char *const frags[] = {
		"get a b\r\n", "set k 0 0 3\r\nabc\r\n", "VALUE k 0 2\r\nhi\r\n", "END\r\n",
		"mg k v\r\n", "ms k 2\r\nhi\r\n", "\x80", "\x81", "\r\n", " ", "\n",
		"\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00k",
		"\x81\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00x",
		"set k 0 0 99999999999\r\n", "VA 1 t\r\nx\r\n", "HD\r\n",
	};
	int all_same = 1;
	for (int round = 0; round < 300; round++) {
		struct ct_buf s = { 0 };
		int n = 1 + round % 40;
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 4 == 0) {
				uint8_t c = (uint8_t)(seed >> 8);
				ct_fx_put(&s, (const char *)&c, 1);
			} else {
				const char *f = frags[(seed >> 16) % (sizeof frags / sizeof frags[0])];
				size_t fl = f[0] == '\x80' || f[0] == '\x81' ? (strlen(f) > 1 ? 25 + (f[0] == '\x81' ? 4 : 0) : 1) : strlen(f);
				ct_fx_put(&s, f, fl);
			}
		}
		struct ct_mc_opts o = { CT_MC_VALUES_HASH, (uint8_t)(round % 3),
					(uint8_t)(round / 3 % 2), 0 };
		struct fx *fx = stream_case(round % 2, &o, s.p, s.len);
		struct ct_buf whole = { 0 }, bytes = { 0 }, split = { 0 };
		run_case(&fx->c, &(struct ct_fx_how){ CT_FX_WHOLE, 0, 0 }, &whole);
		run_case(&fx->c, &(struct ct_fx_how){ CT_FX_BYTES, 0, 0 }, &bytes);
		run_case(&fx->c, &(struct ct_fx_how){ CT_FX_SPLIT, 0, s.len / 2 ? s.len / 2 : 1 },
			 &split);
		const char *w = ct_fx_str(&whole);
		if (strcmp(w, ct_fx_str(&bytes)) || strcmp(w, ct_fx_str(&split))) {
			all_same = 0;
			diag("round %d differs", round);
			ct_fx_diff(ct_fx_str(&bytes), w);
			if (strcmp(w, ct_fx_str(&split)))
				ct_fx_diff(ct_fx_str(&split), w);
		}
		ct_fx_buf_free(&whole);
		ct_fx_buf_free(&bytes);
		ct_fx_buf_free(&split);
		ct_fx_case_free(&fx->c);
		ct_free(s.p);
	}
	ok(all_same, "random streams: whole, split and bytewise logs agree (300 rounds)");
}

int main(void)
{
	run_fixture_file("binary.txt");
	test_plausible();
	test_resync_after_garbage();
	test_random_streams();
	return done_testing();
}
