/* Unit tests of the scenario parser (src/scenario.c, IFACES C): a scenario using every
 * statement parsed into the expected steps; variable expansion; durations; then every error
 * path, each checked for its "FILE:LINE: " prefix and its message; the limits; the file
 * loader; and a failed allocation at every point of a parse, which must fail cleanly with a
 * message and leak nothing. Every input is an exact-size heap copy, so ASan sees over-reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachetap/buf.h"
#include "cachetap/common.h"
#include "cachetap/limits.h"
#include "cachetap/scenario.h"
#include "tap.h"

static int parse_text(const char *text, size_t len, struct ct_scenario **s, char *err,
		      size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	memcpy(copy, text, len);
	int rc = ct_scenario_parse("t.scn", copy, len, s, err, errlen);
	free(copy);
	return rc;
}

/* The parse fails with "t.scn:LINE: ..." containing want. */
static void bad_len(const char *text, size_t len, unsigned line, const char *want,
		    const char *name)
{
	char err[1024] = "", prefix[32];
	struct ct_scenario *s = NULL;
	int rc = parse_text(text, len, &s, err, sizeof err);
	snprintf(prefix, sizeof prefix, "t.scn:%u: ", line);
	int good = rc < 0 && !s && strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, want);
	ok(good, "error: %s", name);
	if (!good)
		diag("rc %d, message '%s'; wanted '%s...%s'", rc, err, prefix, want);
	ct_scenario_free(s);
}

static void bad(const char *text, unsigned line, const char *want)
{
	bad_len(text, strlen(text), line, want, want);
}

static struct ct_scenario *good(const char *text, const char *name)
{
	char err[1024] = "";
	struct ct_scenario *s = NULL;
	int rc = parse_text(text, strlen(text), &s, err, sizeof err);
	ok(rc == 0 && s, "parses: %s", name);
	if (rc)
		diag("message: %s", err);
	return s;
}

static const char full[] =
	"\xef\xbb\xbf# a scenario with every statement\r\n"
	"base http://127.0.0.1:7210/\r\n"
	"header X-Team: qa\n"
	"\n"
	"node r0 redis://127.0.0.1:7201\n"
	"node m0 memcached://localhost:7202\n"
	"node r6 redis://[::1]:7203\n"
	"let id = 42\n"
	"call PUT /items/{id} {\"name\":\"v{id}\", \"tag\":\"#1\"}\n"
	"expect status 200\n"
	"expect json .name == \"v{id}\"\n"
	"expect json .list.0.x != null\n"
	"check r0 GET item:{id} == nil\n"
	"check all get item:{id} != any\n"
	"check m0 GET item:{id} == \"v 1\"\n"
	"check m0 mg item:{id} v == 12\n"
	"check all GET item:{id} == -3\n"
	"\tsleep 1.5s\n"
	"wait invalidation item:{id} on r0,m0 within 500ms\n"
	"repeat i 1..3\n"
	"  repeat j -1..0\n"
	"    call GET /items/{i}/{j}\n"
	"  end\n"
	"  let id = {i}{id}\n"
	"end\n"
	"repeat i 5..5\n"
	"end\n"
	"wait invalidation k on all within 1s\n";

static void test_full(void)
{
	struct ct_scenario *s = good(full, "every statement");
	if (!s)
		return;
	is_str(s->file, "t.scn", "file name kept");
	is_str(s->base, "http://127.0.0.1:7210/", "base");
	is_int(s->base_line, 2, "base line");
	is_int(s->nheaders, 1, "one header");
	is_str(s->headers[0], "X-Team: qa", "header as written");
	is_int(s->nnodes, 3, "three nodes");
	is_str(s->nodes[1].host, "localhost", "memcached host");
	is_int(s->nodes[1].port, 7202, "memcached port");
	is_int(s->nodes[1].proto, CT_SCN_MEMCACHED, "memcached proto");
	is_str(s->nodes[2].host, "::1", "IPv6 host without brackets");
	is_int(s->nodes[2].port, 7203, "IPv6 port");
	is_int(s->nodes[0].line, 5, "node line");
	static const int kinds[] = {
		CT_SCN_LET, CT_SCN_CALL, CT_SCN_EXPECT_STATUS, CT_SCN_EXPECT_JSON, CT_SCN_EXPECT_JSON,
		CT_SCN_CHECK, CT_SCN_CHECK, CT_SCN_CHECK, CT_SCN_CHECK, CT_SCN_CHECK, CT_SCN_SLEEP,
		CT_SCN_WAIT, CT_SCN_REPEAT, CT_SCN_REPEAT, CT_SCN_CALL, CT_SCN_END, CT_SCN_LET,
		CT_SCN_END, CT_SCN_REPEAT, CT_SCN_END, CT_SCN_WAIT,
	};
	is_int(s->nsteps, CT_ARRAY_LEN(kinds), "step count");
	if (s->nsteps != CT_ARRAY_LEN(kinds)) {
		ct_scenario_free(s);
		return;
	}
	for (size_t i = 0; i < CT_ARRAY_LEN(kinds); i++)
		is_int(s->steps[i].kind, kinds[i], "step %zu kind", i);
	const struct ct_scn_step *st = s->steps;
	is_int(st[0].line, 8, "let line");
	is_str(st[0].value, "42", "let value");
	is_str(st[1].method, "PUT", "method");
	is_str(st[1].path, "/items/{id}", "path kept as a template");
	is_str(st[1].body, "{\"name\":\"v{id}\", \"tag\":\"#1\"}", "body is the rest of the line, '#' and all");
	is_int(st[2].status, 200, "status");
	is_str(st[3].path, ".name", "json path");
	is_str(st[3].value, "\"v{id}\"", "json value");
	is_int(st[3].negate, 0, "==");
	is_int(st[4].negate, 1, "!=");
	is_str(st[4].path, ".list.0.x", "indexed json path");
	is_int(st[5].node, 0, "check r0");
	is_int(st[5].cmd, CT_SCN_CMD_GET, "GET on Redis");
	is_int(st[6].node, CT_SCN_ALL_NODES, "check all");
	is_int(st[6].cmd, CT_SCN_CMD_MC_GET, "'get' with all is memcached");
	is_int(st[6].proto, CT_SCN_MEMCACHED, "proto of all get");
	is_int(st[7].cmd, CT_SCN_CMD_MC_GET, "GET on a memcached node is get");
	is_str(st[7].value, "\"v 1\"", "a string with a space");
	is_int(st[8].cmd, CT_SCN_CMD_MC_MG, "mg, with its v flag");
	is_str(st[8].value, "12", "integer");
	is_int(st[9].proto, CT_SCN_REDIS, "'GET' with all is Redis");
	is_str(st[9].value, "-3", "negative integer");
	is_int(st[10].ns, 1500000000ull, "1.5s");
	is_int(st[10].line, 18, "tab-indented line");
	is_str(st[11].key, "item:{id}", "wait key");
	is_int(st[11].nodes, 3, "wait on r0,m0");
	is_int(st[11].ns, 500000000ull, "within 500ms");
	is_int(s->first_wait_line, 19, "first wait line");
	is_int(st[12].jump, 17, "outer repeat -> its end");
	is_int(st[17].jump, 12, "outer end -> its repeat");
	is_int(st[13].jump, 15, "inner repeat -> its end");
	is_int(st[15].jump, 13, "inner end -> its repeat");
	is_int(st[13].from, -1, "negative from");
	is_int(st[13].to, 0, "to");
	is_int(st[12].var, st[18].var, "a counter name reused by a later loop");
	is_int(st[16].var, st[0].var, "let redefines the same variable");
	is_int(st[20].nodes, 7, "wait on all = every node");
	ct_scenario_free(s);
}

/* spawn and await: a call in the background, and waiting for every one of them. */
static const char spawns[] =
	"base http://127.0.0.1:7210\n"
	"let id = 7\n"
	"call PUT /items/{id} {\"name\":\"v1\"}\n"
	"spawn GET /items/{id}?node=m0\n"
	"sleep 10ms\n"
	"spawn PUT /items/{id} {\"name\":\"v{id}\"}\n"
	"call GET /items/{id}\n"
	"expect status 200\n"
	"spawn DELETE /items/{id}\n"
	"sleep 1ms\n"
	"expect status 200\n"
	"await\n"
	"repeat i 1..2\n"
	"  spawn POST /items\n"
	"  await\n"
	"end\n"
	"# a comment after the last spawn\n"
	"await\n";

static void test_spawn(void)
{
	struct ct_scenario *s = good(spawns, "spawn and await");
	if (!s)
		return;
	static const int kinds[] = {
		CT_SCN_LET, CT_SCN_CALL, CT_SCN_SPAWN, CT_SCN_SLEEP, CT_SCN_SPAWN, CT_SCN_CALL,
		CT_SCN_EXPECT_STATUS, CT_SCN_SPAWN, CT_SCN_SLEEP, CT_SCN_EXPECT_STATUS, CT_SCN_AWAIT,
		CT_SCN_REPEAT, CT_SCN_SPAWN, CT_SCN_AWAIT, CT_SCN_END, CT_SCN_AWAIT,
	};
	is_int(s->nsteps, CT_ARRAY_LEN(kinds), "spawn scenario: step count");
	if (s->nsteps != CT_ARRAY_LEN(kinds)) {
		ct_scenario_free(s);
		return;
	}
	for (size_t i = 0; i < CT_ARRAY_LEN(kinds); i++)
		is_int(s->steps[i].kind, kinds[i], "spawn scenario: step %zu kind", i);
	const struct ct_scn_step *st = s->steps;
	is_int(st[2].line, 4, "spawn line");
	is_str(st[2].method, "GET", "spawn method");
	is_str(st[2].path, "/items/{id}?node=m0", "spawn path kept as a template");
	ok(st[2].body == NULL, "a spawn without a body");
	is_str(st[4].method, "PUT", "spawn PUT");
	is_str(st[4].body, "{\"name\":\"v{id}\"}", "spawn body is the rest of the line");
	is_str(st[7].method, "DELETE", "spawn DELETE");
	is_int(st[9].line, 11, "an expect after a spawn and a sleep applies to the call before");
	is_int(st[10].line, 12, "await line");
	is_int(st[11].jump, 14, "a repeat around spawn and await");
	is_int(st[15].line, 18, "await at the end");
	ct_scenario_free(s);
}

static void test_expand(void)
{
	struct ct_scenario *s = good("let id = 1\nrepeat i 1..2\nlet body = {\"a\":{i}}\nend\n",
				     "variables");
	if (!s)
		return;
	const char *values[CT_SCENARIO_MAX_VARS] = { 0 };
	/* Indexes in order of first definition: id, i, body. */
	is_int(s->nvars, 3, "three variables");
	values[0] = "42";
	values[1] = "7";
	static const struct {
		const char *tmpl, *want;
	} cases[] = {
		{ "/items/{id}", "/items/42" },
		{ "{id}{i}{id}", "42742" },
		{ "{\"a\":{i}}", "{\"a\":7}" },
		{ "{ id}{id }{ {}{", "{ id}{id }{ {}{" },
		{ "{nope}", "{nope}" }, /* unknown at run time: literal (the parser refuses it) */
		{ "{body}", "" },       /* not set yet */
		{ "", "" },
		{ "{id", "{id" },
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(cases); i++) {
		struct ct_buf b = { 0 };
		int rc = ct_scenario_expand(s, values, cases[i].tmpl, &b);
		is_int(rc, 0, "expand '%s'", cases[i].tmpl);
		is_str(ct_buf_str(&b), cases[i].want, "expand '%s'", cases[i].tmpl);
		ct_buf_free(&b);
	}
	/* An expansion over CT_SCENARIO_VALUE_MAX_BYTES is refused. */
	char *big = malloc(CT_SCENARIO_VALUE_MAX_BYTES / 2 + 2);
	memset(big, 'x', CT_SCENARIO_VALUE_MAX_BYTES / 2 + 1);
	big[CT_SCENARIO_VALUE_MAX_BYTES / 2 + 1] = '\0';
	values[0] = big;
	struct ct_buf b = { 0 };
	is_int(ct_scenario_expand(s, values, "{id}{id}", &b), CT_ELIMIT, "expansion past the cap");
	ct_buf_free(&b);
	free(big);
	ct_scenario_free(s);
}

static void test_durations(void)
{
	static const struct {
		const char *t;
		uint64_t ns;
	} goodd[] = {
		{ "1ns", 1 },		{ "250us", 250000 },	 { "50ms", 50000000 },
		{ "2s", 2000000000 },	{ "1.5s", 1500000000 },	 { "0.000000001s", 1 },
		{ "3600s", 3600000000000ull }, { "0.5ms", 500000 }, { "007ms", 7000000 },
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(goodd); i++) {
		uint64_t ns = 0;
		int rc = ct_scenario_duration(goodd[i].t, &ns);
		ok(rc == 0 && ns == goodd[i].ns, "duration %s", goodd[i].t);
		if (rc || ns != goodd[i].ns)
			diag("rc %d, got %llu", rc, (unsigned long long)ns);
	}
	static const char *const badd[] = {
		"", "50", "ms", "5x", "5 ms", "-5ms", "0ms", "0.0s", "1.ms", ".5s", "1.0000000001s",
		"3601s", "3600.1s", "2h", "99999999999999999999s", "18446744073709551615ns", "5MS",
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(badd); i++) {
		uint64_t ns = 0;
		is_int(ct_scenario_duration(badd[i], &ns), CT_EINVAL, "not a duration: '%s'", badd[i]);
	}
}

#define R "node r0 redis://127.0.0.1:7201\n"
#define M "node m0 memcached://127.0.0.1:7202\n"
#define B "base http://127.0.0.1:7210\n"

static void test_errors(void)
{
	/* lines */
	bad("sleep 1ms\nfrobnicate x\n", 2, "unknown statement 'frobnicate'");
	bad_len("sleep 1ms\ncall GET /\0x\n", 22, 2, "NUL byte", "NUL byte");
	/* call */
	bad(B "call\n", 2, "call needs METHOD PATH [BODY]");
	bad(B "call get /x\n", 2, "'get' is not an HTTP method");
	bad(B "call ABCDEFGHIJKLMNOPQ /x\n", 2, "is not an HTTP method");
	bad(B "call GET\n", 2, "call GET needs a PATH");
	bad(B "call GET items\n", 2, "path 'items' does not start with '/'");
	bad(B "call GET /items/{id}\n", 2, "unknown variable {id}");
	bad(B "call PUT /x {\"a\":\"{v}\"}\n", 2, "unknown variable {v}");
	bad("sleep 1ms\ncall GET /x\n", 2, "call without a base URL");
	/* expect */
	bad(B "call GET /\nexpect\n", 3, "expect needs 'status N'");
	bad("expect status 200\n", 1, "expect status has no call before it");
	bad(B "call GET /\nexpect status\n", 3, "expect status needs a number");
	bad(B "call GET /\nexpect status 99\n", 3, "'99' is not an HTTP status");
	bad(B "call GET /\nexpect status 600\n", 3, "'600' is not an HTTP status");
	bad(B "call GET /\nexpect status 2x0\n", 3, "'2x0' is not an HTTP status");
	bad(B "call GET /\nexpect status 200 ok\n", 3, "unexpected 'ok' after the status");
	bad(B "call GET /\nexpect header x\n", 3, "expect 'header': expected status or json");
	bad(B "call GET /\nexpect json\n", 3, "expect json needs .PATH == VALUE");
	bad(B "call GET /\nexpect json name == 1\n", 3, "'name' is not a JSON path");
	bad(B "call GET /\nexpect json .a..b == 1\n", 3, "'.a..b' is not a JSON path");
	bad(B "call GET /\nexpect json .a. == 1\n", 3, "'.a.' is not a JSON path");
	bad(B "call GET /\nexpect json .a\n", 3, "expected == or != and a value");
	bad(B "call GET /\nexpect json .a = 1\n", 3, "expected == or !=, got '='");
	bad(B "call GET /\nexpect json .a ==\n", 3, "expect json .a == needs a value");
	bad(B "call GET /\nexpect json .a == v1\n", 3, "value 'v1' is not a JSON value");
	bad(B "call GET /\nexpect json .{p} == 1\n", 3, "unknown variable {p}");
	bad(B "call GET /\nexpect json .a == {v}\n", 3, "unknown variable {v}");
	/* check */
	bad(R "check r0 GET\n", 2, "check needs NODE COMMAND KEY == VALUE");
	bad(R "check r9 GET k == nil\n", 2, "unknown node 'r9'");
	bad(R "check r0 SET k == nil\n", 2, "'SET' is not a check command");
	bad(R "check r0 mg k == nil\n", 2, "mg is a memcached command, and this node is Redis");
	bad(M "check m0 TTL k == nil\n", 2, "TTL is a Redis command, and this node is memcached");
	bad(R M "check all Get k == nil\n", 3, "write GET for the Redis nodes or get");
	bad(R "check r0 GET k\n", 2, "expected == or != and a value");
	bad(R "check r0 GET k is nil\n", 2, "expected == or !=, got 'is'");
	bad(R "check r0 GET k ==\n", 2, "check needs a value after ==");
	bad(R "check r0 GET k == 1.5\n", 2, "'1.5' is not nil, any, a \"string\" or an integer");
	bad(R "check r0 GET k == true\n", 2, "'true' is not nil, any");
	bad(R "check r0 GET k == v\n", 2, "'v' is not nil, any");
	bad(R "check r0 GET k{x} == nil\n", 2, "unknown variable {x}");
	bad(R "check r0 GET k == \"{x}\"\n", 2, "unknown variable {x}");
	bad(R "sleep 1ms\ncheck all get k == nil\n", 3, "check all get: the scenario has no memcached node");
	bad(M "check all EXISTS k == 1\n", 2, "check all EXISTS: the scenario has no Redis node");
	/* sleep */
	bad("sleep\n", 1, "sleep needs a duration");
	bad("sleep 50\n", 1, "'50' is not a duration");
	bad("sleep 0ms\n", 1, "'0ms' is not a duration");
	bad("sleep 2h\n", 1, "'2h' is not a duration");
	bad("sleep 5ms now\n", 1, "unexpected 'now' after the duration");
	/* wait */
	bad(R "wait for k\n", 2, "wait needs: invalidation KEY on");
	bad(R "wait\n", 2, "wait needs: invalidation KEY on");
	bad(R "wait invalidation k on r0 within\n", 2, "wait needs: invalidation KEY on");
	bad(R "wait invalidation k at r0 within 5ms\n", 2, "wait needs: invalidation KEY on");
	bad(R "wait invalidation k on r0 in 5ms\n", 2, "wait needs: invalidation KEY on");
	bad(R "wait invalidation k on r0 within 5\n", 2, "'5' is not a duration");
	bad(R "wait invalidation k on r0 within 5ms x\n", 2, "unexpected 'x' after the duration");
	bad(R "wait invalidation {k} on r0 within 5ms\n", 2, "unknown variable {k}");
	bad(R "wait invalidation k on r0,r9 within 5ms\n", 2, "unknown node 'r9'");
	bad(R "wait invalidation k on , within 5ms\n", 2, "wait needs: invalidation KEY on");
	bad("sleep 1ms\nwait invalidation k on all within 5ms\n", 2, "wait on all: the scenario has no nodes");
	/* let */
	bad("let x\n", 1, "let needs NAME = VALUE");
	bad("let x-y = 1\n", 1, "let needs NAME = VALUE");
	bad("let 1x = 3\n", 1, "'1x' is not a variable name");
	bad("let = 3\n", 1, "'' is not a variable name");
	bad("let x =   \n", 1, "let x needs a value after '='");
	bad("let x = {y}\n", 1, "unknown variable {y}");
	bad("let x = {x}\n", 1, "unknown variable {x}");
	bad("repeat i 1..2\nlet i = 3\nend\n", 2, "i is the counter of the repeat at line 1");
	/* repeat, end */
	bad("repeat\n", 1, "repeat needs VAR FROM..TO");
	bad("repeat i\n", 1, "repeat needs VAR FROM..TO");
	bad("repeat 1i 1..2\nend\n", 1, "'1i' is not a variable name");
	bad("repeat i 1-2\nend\n", 1, "'1-2' is not a range FROM..TO");
	bad("repeat i a..2\nend\n", 1, "'a..2' is not a range");
	bad("repeat i 1..\nend\n", 1, "'1..' is not a range");
	bad("repeat i +1..2\nend\n", 1, "'+1..2' is not a range");
	bad("repeat i 1..99999999999999999999\nend\n", 1, "is not a range");
	bad("repeat i 5..1\nend\n", 1, "range 5..1 is empty");
	bad("repeat i 1..1000001\nend\n", 1, "range 1..1000001 has more than 1000000 iterations");
	bad("repeat i -9223372036854775808..9223372036854775807\nend\n", 1, "has more than");
	bad("repeat i 1..2 x\nend\n", 1, "unexpected 'x' after the range");
	bad("repeat i 1..2\nrepeat i 1..2\nend\nend\n", 2, "variable i is already defined (line 1)");
	bad("let i = 1\nrepeat i 1..2\nend\n", 2, "variable i is already defined (line 1)");
	bad("end\n", 1, "end without a repeat");
	bad("repeat i 1..2\nend x\n", 2, "unexpected 'x' after end");
	bad("sleep 1ms\nrepeat i 1..2\nsleep 1ms\n", 2, "repeat has no matching end");
	bad("repeat i 1..2\nrepeat j 1..2\nend\n", 1, "repeat has no matching end");
	/* base */
	bad("base\n", 1, "base needs a URL");
	bad("base http://a:1 x\n", 1, "unexpected 'x' after the URL");
	bad(B B, 2, "base given twice (first at line 1)");
	bad("base ftp://h/\n", 1, "base URL 'ftp://h/' is not http:// or https://");
	bad("base http://\n", 1, "base URL 'http://': ");
	bad("base http://h:99999/\n", 1, "base URL 'http://h:99999/': ");
	bad("base http://h/?q=1\n", 1, "has a query");
	bad("repeat i 1..2\nbase http://h/\nend\n", 2, "base is a declaration; it cannot be inside a repeat (line 1)");
	/* header */
	bad("header\n", 1, "header needs 'Name: value'");
	bad("header X\n", 1, "header needs 'Name: value'");
	bad("header : v\n", 1, "header needs 'Name: value'");
	bad("header X Y: v\n", 1, "header name 'X Y' is not an HTTP token");
	bad("header x-request-id: 1\n", 1, "X-Request-Id is set by the driver");
	bad("header A: b\x01\n", 1, "header value has a control character");
	bad("repeat i 1..2\nheader A: b\nend\n", 2, "header is a declaration");
	/* node */
	bad("node r0\n", 1, "node needs NAME redis://HOST:PORT");
	bad("node\n", 1, "node needs NAME");
	bad("node r0 redis://h:1 x\n", 1, "unexpected 'x' after the URL");
	bad("node 0r redis://h:1\n", 1, "'0r' is not a node name");
	bad("node r/0 redis://h:1\n", 1, "'r/0' is not a node name");
	bad("node all redis://h:1\n", 1, "'all' is reserved");
	bad(R R, 2, "node r0 declared twice (first at line 1)");
	bad("node r0 http://h:1\n", 1, "is not redis://HOST:PORT or memcached://HOST:PORT");
	bad("node r0 redis://[::1\n", 1, "has a bad [IPv6] host");
	bad("node r0 redis://[::1]\n", 1, "has a bad [IPv6] host");
	bad("node r0 redis://[]:1\n", 1, "has a bad [IPv6] host");
	bad("node r0 redis://h\n", 1, "has no :PORT");
	bad("node r0 redis://:1\n", 1, "has no host");
	bad("node r0 redis://h:0\n", 1, "bad port '0'");
	bad("node r0 redis://h:x\n", 1, "bad port 'x'");
	bad("node r0 redis://h:70000\n", 1, "bad port '70000'");
	bad("node r0 redis://h:1/x\n", 1, "bad port '1/x'");
	bad("node r0 redis://h:-1\n", 1, "bad port '-1'");
	bad("repeat i 1..2\nnode r0 redis://h:1\nend\n", 2, "node is a declaration");
	/* spawn */
	bad(B "spawn\n", 2, "spawn needs METHOD PATH [BODY]");
	bad(B "spawn get /x\n", 2, "'get' is not an HTTP method");
	bad(B "spawn ABCDEFGHIJKLMNOPQ /x\n", 2, "is not an HTTP method");
	bad(B "spawn GET\n", 2, "spawn GET needs a PATH");
	bad(B "spawn GET items\n", 2, "path 'items' does not start with '/'");
	bad(B "spawn GET /items/{id}\n", 2, "unknown variable {id}");
	bad(B "spawn PUT /x {\"a\":\"{v}\"}\n", 2, "unknown variable {v}");
	bad("sleep 1ms\nspawn GET /x\n", 2, "spawn without a base URL");
	bad(B "call GET /\nspawn GET /a\nexpect status 200\n", 4,
	    "expect right after the spawn at line 3: a spawned call runs in the background");
	bad(B "call GET /\nspawn GET /a\n# c\n\nexpect json .a == 1\n", 6,
	    "expect right after the spawn at line 3");
	bad(B "spawn GET /a\nexpect status 200\n", 3, "expect right after the spawn at line 2");
	bad(B "call GET /\nspawn GET /a\nheader A: b\nexpect status 200\n", 5,
	    "expect right after the spawn at line 3");
	bad(B "spawn GET /a\nsleep 1ms\nexpect status 200\n", 4,
	    "expect status has no call before it");
	/* await */
	bad("await\n", 1, "await has no spawn before it to wait for");
	bad(B "await\nspawn GET /\n", 2, "await has no spawn before it");
	bad(B "spawn GET /\nawait now\n", 3, "unexpected 'now' after await");
}

/* Limits: line length, steps, nesting, variables, headers, nodes, names. */
static void test_limits(void)
{
	struct ct_buf b = { 0 };
	char name[CT_SCENARIO_NAME_MAX_BYTES + 2];

	/* A line of exactly the limit parses; one byte more does not. */
	int rc = ct_buf_printf(&b, "sleep 1ms\nlet x = ");
	for (size_t i = strlen("let x = "); !rc && i < CT_SCENARIO_LINE_MAX_BYTES; i++)
		rc = ct_buf_add(&b, "v", 1);
	rc |= ct_buf_add(&b, "\r\n", 2);
	struct ct_scenario *s = NULL;
	if (!rc)
		s = good(ct_buf_str(&b), "a line of CT_SCENARIO_LINE_MAX_BYTES");
	ct_scenario_free(s);
	b.len -= 2;
	rc |= ct_buf_add(&b, "v", 1);
	if (!rc)
		bad_len(ct_buf_str(&b), b.len, 2, "line longer than", "line one byte too long");
	ct_buf_free(&b);

	rc = 0;
	for (uint32_t i = 0; !rc && i < CT_SCENARIO_MAX_STEPS + 1; i++)
		rc = ct_buf_add(&b, "sleep 1ns\n", 10);
	if (!rc)
		bad(ct_buf_str(&b), CT_SCENARIO_MAX_STEPS + 1, "too many steps (at most 10000)");
	ct_buf_free(&b);

	rc = 0;
	for (uint32_t i = 0; !rc && i <= CT_SCENARIO_MAX_DEPTH; i++)
		rc = ct_buf_printf(&b, "repeat v%u 1..2\n", i);
	if (!rc)
		bad(ct_buf_str(&b), CT_SCENARIO_MAX_DEPTH + 1, "repeat blocks nested too deep (at most 8)");
	ct_buf_free(&b);

	rc = 0;
	for (uint32_t i = 0; !rc && i <= CT_SCENARIO_MAX_VARS; i++)
		rc = ct_buf_printf(&b, "let v%u = 1\n", i);
	if (!rc)
		bad(ct_buf_str(&b), CT_SCENARIO_MAX_VARS + 1, "too many variables (at most 64 names)");
	ct_buf_free(&b);

	rc = 0;
	for (uint32_t i = 0; !rc && i <= CT_SCENARIO_MAX_HEADERS; i++)
		rc = ct_buf_printf(&b, "header H%u: 1\n", i);
	if (!rc)
		bad(ct_buf_str(&b), CT_SCENARIO_MAX_HEADERS + 1, "too many headers (at most 32)");
	ct_buf_free(&b);

	rc = 0;
	for (uint32_t i = 0; !rc && i <= CT_SCENARIO_MAX_NODES; i++)
		rc = ct_buf_printf(&b, "node n%u redis://127.0.0.1:%u\n", i, 7200 + i);
	if (!rc)
		bad(ct_buf_str(&b), CT_SCENARIO_MAX_NODES + 1, "too many nodes (at most 64)");
	ct_buf_free(&b);

	/* 64 nodes are allowed, and 'on all' covers every one of them. */
	rc = 0;
	for (uint32_t i = 0; !rc && i < CT_SCENARIO_MAX_NODES; i++)
		rc = ct_buf_printf(&b, "node n%u redis://127.0.0.1:%u\n", i, 7200 + i);
	rc |= ct_buf_printf(&b, "wait invalidation k on all within 1ms\n");
	s = rc ? NULL : good(ct_buf_str(&b), "64 nodes");
	if (s)
		ok(s->steps[0].nodes == UINT64_MAX, "'on all' is all 64 nodes");
	ct_scenario_free(s);
	ct_buf_free(&b);

	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	rc = ct_buf_printf(&b, "let %s = 1\n", name);
	if (!rc)
		bad(ct_buf_str(&b), 1, "is not a variable name");
	ct_buf_free(&b);
	rc = ct_buf_printf(&b, "node %s redis://h:1\n", name);
	if (!rc)
		bad(ct_buf_str(&b), 1, "is not a node name");
	ct_buf_free(&b);
	name[sizeof name - 2] = '\0'; /* exactly the limit */
	rc = ct_buf_printf(&b, "let %s = 1\nnode %s redis://h:1\n", name, name);
	s = rc ? NULL : good(ct_buf_str(&b), "names of CT_SCENARIO_NAME_MAX_BYTES");
	ct_scenario_free(s);
	ct_buf_free(&b);
}

static void test_load(void)
{
	char dir[] = "/tmp/ct-scn-XXXXXX", path[64], err[512];
	struct ct_scenario *s = NULL;
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/missing.scn", dir);
	int rc = ct_scenario_load(path, &s, err, sizeof err);
	ok(rc < 0 && strstr(err, "missing.scn: cannot read: ") && !s, "missing file");
	diag("%s", err);

	rc = ct_scenario_load(dir, &s, err, sizeof err);
	ok(rc < 0 && strstr(err, ": not a regular file") && !s, "directory");
	diag("%s", err);

	snprintf(path, sizeof path, "%s/ok.scn", dir);
	FILE *f = fopen(path, "w");
	fputs("sleep 1ms\nbogus\n", f);
	fclose(f);
	rc = ct_scenario_load(path, &s, err, sizeof err);
	char want[128];
	snprintf(want, sizeof want, "%s:2: unknown statement 'bogus'", path);
	ok(rc < 0 && strncmp(err, want, strlen(want)) == 0, "errors name the file");
	diag("%s", err);
	f = fopen(path, "w");
	fputs("sleep 1ms\n", f);
	fclose(f);
	rc = ct_scenario_load(path, &s, err, sizeof err);
	ok(rc == 0 && s && s->nsteps == 1 && strcmp(s->file, path) == 0, "a file loads");
	ct_scenario_free(s);
	s = NULL;

	f = fopen(path, "w");
	for (uint32_t i = 0; i <= CT_SCENARIO_FILE_MAX_BYTES / 63 + 1; i++)
		fprintf(f, "# %060u\n", i);
	fclose(f);
	rc = ct_scenario_load(path, &s, err, sizeof err);
	ok(rc < 0 && strstr(err, "larger than 4194304 bytes") && !s, "file too large");
	diag("%s", err);
	unlink(path);
	rmdir(dir);
}

/* A failed allocation anywhere in a parse: an error with a message, nothing leaked. */
static void alloc_failures(const char *text, size_t len, const char *name)
{
	int64_t live0 = ct_alloc_live();
	ct_alloc_fail_at(0);
	struct ct_scenario *s = NULL;
	char err[1024];
	if (ct_scenario_parse("t.scn", text, len, &s, err, sizeof err))
		diag("the %s scenario failed: %s", name, err);
	uint64_t total = ct_alloc_count();
	ct_scenario_free(s);
	ok(total > 20, "the %s scenario makes %llu allocations", name, (unsigned long long)total);
	int clean = 1;
	for (uint64_t n = 1; n <= total; n++) {
		s = NULL;
		err[0] = '\0';
		ct_alloc_fail_at(n);
		int rc = ct_scenario_parse("t.scn", text, len, &s, err, sizeof err);
		ct_alloc_fail_at(0);
		/* jansson may fail inside a JSON check: that is reported as a bad value. */
		if (rc == 0 || s || strncmp(err, "t.scn:", 6) != 0 ||
		    !(strstr(err, "out of memory") || strstr(err, "is not"))) {
			clean = 0;
			diag("allocation %llu: rc %d, '%s'", (unsigned long long)n, rc, err);
		}
		ct_scenario_free(s);
	}
	ok(clean, "%s: each failed allocation fails the parse with a FILE: message", name);
	is_int(ct_alloc_live(), live0, "%s: and leaks nothing", name);
}

static void test_alloc_failures(void)
{
	alloc_failures(full, sizeof full - 1, "full");
	alloc_failures(spawns, sizeof spawns - 1, "spawn");
}

int main(void)
{
	test_full();
	test_spawn();
	test_expand();
	test_durations();
	test_errors();
	test_limits();
	test_load();
	test_alloc_failures();
	return done_testing();
}
