/* The scenario parser for `cachetap drive` (IFACES C; the format is drawn in scenario.h): one
 * pass over the lines, declarations into tables, everything else into a flat step list in
 * which repeat and end point at each other.
 *
 * What can be checked before running is checked here, each with "FILE:LINE: what is wrong":
 * names declared before use, variables in scope, JSON literals well formed (with every
 * variable reference standing in as 0), durations and ranges in range, blocks balanced.
 * Limits: limits.h, CT_SCENARIO_*. The text is our user's file, not network bytes.
 *
 * Besides the statements scenario.h draws, two run calls side by side (to make races):
 *   spawn METHOD PATH [BODY]   the same call as `call`, started in the background: it has its
 *                              own HTTP connection and thread, its own X-Request-Id, and goes
 *                              into api_calls like any call; the next step runs at once. No
 *                              expect applies to it ("expect" right after a spawn is an
 *                              error), and it is neither the call later expects apply to nor
 *                              the origin of a wait. At most CT_DRIVE_SPAWN_MAX are in flight;
 *                              one more first waits for the oldest.
 *   await                      waits until every spawned call has finished (each is bounded by
 *                              the HTTP timeout); an await needs a spawn above it. The end of
 *                              the scenario awaits whatever is still running.
 * For example, a read miss whose fill lands after a write:
 *   spawn GET /items/{id}?node=m0
 *   sleep 100ms
 *   call PUT /items/{id} {"name":"v2"}
 *   await
 *   check m0 get item:{id} == nil */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "cachetap/limits.h"
#include "cachetap/scenario.h"

enum { VAR_LET = 1, VAR_LOOP = 2 };

struct varinfo {
	uint32_t line;   /* where it was last defined */
	uint8_t kind;    /* VAR_LET or VAR_LOOP */
	uint8_t in_scope;
};

struct parser {
	struct ct_scenario *s;
	uint32_t line;
	char *err;
	size_t errlen;
	uint32_t stack[CT_SCENARIO_MAX_DEPTH]; /* open repeats: their step indexes */
	uint32_t depth;
	uint32_t ncalls;                     /* call steps so far */
	uint32_t nspawns;                    /* spawn steps so far */
	uint8_t last_kind;                   /* the kind of the last step, 0 before the first */
	uint32_t last_line;                  /* ... and its line */
	uint32_t cap_steps;
	struct varinfo vi[CT_SCENARIO_MAX_VARS];
};

__attribute__((format(printf, 3, 4))) static int fail_at(struct parser *ps, uint32_t line,
							  const char *fmt, ...)
{
	int n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->s->file, line);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return CT_EINVAL;
}

#define fail(ps, ...) fail_at((ps), (ps)->line, __VA_ARGS__)

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int is_ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Splits off the next whitespace-separated word; NULL at the end of the line. */
static char *word(char **p)
{
	char *q = *p;
	while (is_space(*q))
		q++;
	if (!*q) {
		*p = q;
		return NULL;
	}
	char *w = q;
	while (*q && !is_space(*q))
		q++;
	if (*q)
		*q++ = '\0';
	*p = q;
	return w;
}

/* The rest of the line, without the whitespace around it ("" when nothing is left). */
static char *rest(char *p)
{
	while (is_space(*p))
		p++;
	size_t n = strlen(p);
	while (n && is_space(p[n - 1]))
		p[--n] = '\0';
	return p;
}

static int no_more(struct parser *ps, char **p, const char *what)
{
	char *w = word(p);
	if (w)
		return fail(ps, "unexpected '%s' after %s", w, what);
	return 0;
}

static int valid_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > CT_SCENARIO_NAME_MAX_BYTES || !is_ident_start(n[0]))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!is_ident(n[i]) && n[i] != '-' && n[i] != '.')
			return 0;
	return 1;
}

static int valid_var_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > CT_SCENARIO_NAME_MAX_BYTES || !is_ident_start(n[0]))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!is_ident(n[i]))
			return 0;
	return 1;
}

static int find_var(const struct ct_scenario *s, const char *name, size_t len)
{
	for (uint32_t i = 0; i < s->nvars; i++)
		if (strlen(s->vars[i]) == len && memcmp(s->vars[i], name, len) == 0)
			return (int)i;
	return -1;
}

static int find_node(const struct ct_scenario *s, const char *name)
{
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* A reference "{NAME}" at t: returns the length of NAME, or 0 when t is literal text. */
static size_t ref_len(const char *t)
{
	if (t[0] != '{' || !is_ident_start(t[1]))
		return 0;
	size_t n = 1;
	while (is_ident(t[1 + n]))
		n++;
	return t[1 + n] == '}' ? n : 0;
}

/* Every reference in t names a variable in scope here. */
static int check_refs(struct parser *ps, const char *t)
{
	for (; *t; t++) {
		size_t n = ref_len(t);
		if (!n)
			continue;
		int v = find_var(ps->s, t + 1, n);
		if (v < 0 || !ps->vi[v].in_scope)
			return fail(ps, "unknown variable {%.*s} (define it with let, or as a repeat "
					"counter, before this line)", (int)n, t + 1);
		t += n + 1;
	}
	return 0;
}

int ct_scenario_expand(const struct ct_scenario *s, const char *const *values, const char *tmpl,
		       struct ct_buf *out)
{
	const char *lit = tmpl;
	size_t start = out->len;
	for (const char *t = tmpl; *t; t++) {
		size_t n = ref_len(t);
		int v = n ? find_var(s, t + 1, n) : -1;
		if (v < 0)
			continue;
		const char *val = values ? values[v] : "0";
		if (!val)
			val = "";
		int rc = ct_buf_add(out, lit, (size_t)(t - lit));
		if (!rc)
			rc = ct_buf_add(out, val, strlen(val));
		if (rc)
			return rc;
		t += n + 1;
		lit = t + 1;
		if (out->len - start > CT_SCENARIO_VALUE_MAX_BYTES)
			return CT_ELIMIT;
	}
	int rc = ct_buf_add(out, lit, strlen(lit));
	if (!rc && out->len - start > CT_SCENARIO_VALUE_MAX_BYTES)
		rc = CT_ELIMIT;
	return rc;
}

/* Is t (with its references standing in as 0) one JSON value? */
static int check_json(struct parser *ps, const char *t, const char *what)
{
	struct ct_buf b = { .max = CT_SCENARIO_VALUE_MAX_BYTES + 1 };
	if (ct_scenario_expand(ps->s, NULL, t, &b)) { /* a line is shorter than the cap */
		ct_buf_free(&b);
		return fail(ps, "out of memory");
	}
	json_error_t je;
	json_t *j = json_loadb(ct_buf_str(&b), b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	ct_buf_free(&b);
	if (!j)
		return fail(ps, "%s '%s' is not a JSON value (%s)", what, t, je.text);
	json_decref(j);
	return 0;
}

int ct_scenario_duration(const char *text, uint64_t *ns)
{
	const char *p = text;
	uint64_t whole = 0, frac = 0, frac_scale = 1;
	int digits = 0;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return CT_EINVAL;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		int fd = 0;
		for (; *p >= '0' && *p <= '9'; p++, fd++) {
			if (fd >= 9)
				return CT_EINVAL; /* below a nanosecond in any unit */
			frac = frac * 10 + (uint64_t)(*p - '0');
			frac_scale *= 10;
		}
		if (fd == 0)
			return CT_EINVAL;
	}
	if (digits == 0)
		return CT_EINVAL;
	uint64_t unit;
	if (strcmp(p, "ns") == 0)
		unit = 1;
	else if (strcmp(p, "us") == 0)
		unit = 1000;
	else if (strcmp(p, "ms") == 0)
		unit = 1000000;
	else if (strcmp(p, "s") == 0)
		unit = 1000000000;
	else
		return CT_EINVAL;
	if (whole > CT_SCENARIO_DURATION_MAX_NS / unit)
		return CT_EINVAL;
	uint64_t v = whole * unit + frac * unit / frac_scale;
	if (v == 0 || v > CT_SCENARIO_DURATION_MAX_NS)
		return CT_EINVAL;
	*ns = v;
	return 0;
}

static int duration(struct parser *ps, const char *text, uint64_t *ns)
{
	if (ct_scenario_duration(text, ns))
		return fail(ps, "'%s' is not a duration (a number and ns, us, ms or s; more than 0, "
				"at most %llu s)", text,
			    (unsigned long long)(CT_SCENARIO_DURATION_MAX_NS / 1000000000ull));
	return 0;
}

const char *ct_scenario_cmd_name(unsigned cmd)
{
	switch (cmd) {
	case CT_SCN_CMD_GET: return "GET";
	case CT_SCN_CMD_TTL: return "TTL";
	case CT_SCN_CMD_EXISTS: return "EXISTS";
	case CT_SCN_CMD_MC_GET: return "get";
	case CT_SCN_CMD_MC_MG: return "mg";
	default: return "?";
	}
}

static char *dup_or_fail(struct parser *ps, const char *t, int *rc)
{
	char *d = ct_strdup(t);
	if (!d)
		*rc = fail(ps, "out of memory");
	return d;
}

/* ---- steps ---- */

static struct ct_scn_step *new_step(struct parser *ps, uint8_t kind)
{
	struct ct_scenario *s = ps->s;
	if (s->nsteps >= CT_SCENARIO_MAX_STEPS) {
		fail(ps, "too many steps (at most %u)", CT_SCENARIO_MAX_STEPS);
		return NULL;
	}
	if (s->nsteps == ps->cap_steps) {
		uint32_t cap = ps->cap_steps ? ps->cap_steps * 2 : 64;
		struct ct_scn_step *q = ct_realloc(s->steps, cap * sizeof *q);
		if (!q) {
			fail(ps, "out of memory");
			return NULL;
		}
		s->steps = q;
		ps->cap_steps = cap;
	}
	struct ct_scn_step *st = &s->steps[s->nsteps++];
	memset(st, 0, sizeof *st);
	st->kind = kind;
	st->line = ps->line;
	ps->last_kind = kind;
	ps->last_line = ps->line;
	return st;
}

/* call or spawn (kind CT_SCN_CALL or CT_SCN_SPAWN): METHOD PATH [BODY] */
static int parse_call(struct parser *ps, char *p, uint8_t kind)
{
	const char *what = kind == CT_SCN_SPAWN ? "spawn" : "call";
	char *method = word(&p), *path = word(&p);
	if (!method)
		return fail(ps, "%s needs METHOD PATH [BODY]", what);
	size_t ml = strlen(method);
	if (ml > 16 || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != ml)
		return fail(ps, "'%s' is not an HTTP method (upper-case letters, like GET or PUT)",
			    method);
	if (!path)
		return fail(ps, "%s %s needs a PATH", what, method);
	if (path[0] != '/')
		return fail(ps, "path '%s' does not start with '/'", path);
	char *body = rest(p);
	int rc = check_refs(ps, path);
	if (!rc && *body)
		rc = check_refs(ps, body);
	if (rc)
		return rc;
	struct ct_scn_step *st = new_step(ps, kind);
	if (!st)
		return CT_ELIMIT;
	st->method = dup_or_fail(ps, method, &rc);
	st->path = dup_or_fail(ps, path, &rc);
	if (*body)
		st->body = dup_or_fail(ps, body, &rc);
	if (kind == CT_SCN_SPAWN)
		ps->nspawns++;
	else
		ps->ncalls++;
	return rc;
}

static int parse_await(struct parser *ps, char *p)
{
	int rc = no_more(ps, &p, "await");
	if (rc)
		return rc;
	if (!ps->nspawns)
		return fail(ps, "await has no spawn before it to wait for");
	return new_step(ps, CT_SCN_AWAIT) ? 0 : CT_ELIMIT;
}

/* "==" or "!=" */
static int parse_op(struct parser *ps, const char *op, uint8_t *negate)
{
	if (!op)
		return fail(ps, "expected == or != and a value");
	if (strcmp(op, "==") == 0)
		*negate = 0;
	else if (strcmp(op, "!=") == 0)
		*negate = 1;
	else
		return fail(ps, "expected == or !=, got '%s'", op);
	return 0;
}

static int parse_expect(struct parser *ps, char *p)
{
	char *what = word(&p);
	if (!what)
		return fail(ps, "expect needs 'status N' or 'json .PATH == VALUE'");
	if (ps->last_kind == CT_SCN_SPAWN)
		return fail(ps, "expect right after the spawn at line %u: a spawned call runs in the "
				"background and no expect applies to it (use call)", ps->last_line);
	if (!ps->ncalls)
		return fail(ps, "expect %s has no call before it to apply to", what);
	int rc = 0;
	if (strcmp(what, "status") == 0) {
		char *n = word(&p);
		if (!n)
			return fail(ps, "expect status needs a number");
		char *end;
		errno = 0;
		long v = strtol(n, &end, 10);
		if (errno || *end || end == n || v < 100 || v > 599)
			return fail(ps, "'%s' is not an HTTP status (100-599)", n);
		if ((rc = no_more(ps, &p, "the status")))
			return rc;
		struct ct_scn_step *st = new_step(ps, CT_SCN_EXPECT_STATUS);
		if (!st)
			return CT_ELIMIT;
		st->status = (int)v;
		return 0;
	}
	if (strcmp(what, "json") != 0)
		return fail(ps, "expect '%s': expected status or json", what);
	char *path = word(&p), *op = word(&p);
	if (!path)
		return fail(ps, "expect json needs .PATH == VALUE");
	/* ".", ".a", ".a.0.b": no empty segment. */
	size_t pl = strlen(path);
	if (path[0] != '.' || (pl > 1 && path[pl - 1] == '.') || strstr(path, ".."))
		return fail(ps, "'%s' is not a JSON path (., .field, .field.0.sub)", path);
	uint8_t negate;
	if ((rc = parse_op(ps, op, &negate)))
		return rc;
	char *val = rest(p);
	if (!*val)
		return fail(ps, "expect json %s %s needs a value", path, op);
	if ((rc = check_refs(ps, path)) || (rc = check_refs(ps, val)) ||
	    (rc = check_json(ps, val, "value")))
		return rc;
	struct ct_scn_step *st = new_step(ps, CT_SCN_EXPECT_JSON);
	if (!st)
		return CT_ELIMIT;
	st->negate = negate;
	st->path = dup_or_fail(ps, path, &rc);
	st->value = dup_or_fail(ps, val, &rc);
	return rc;
}

/* The command of a check, for a node of protocol proto (0 for 'all': the case decides
 * between Redis GET and memcached get). */
static int check_cmd(struct parser *ps, const char *w, uint8_t proto, uint8_t *cmd, uint8_t *out)
{
	if (strcasecmp(w, "ttl") == 0 || strcasecmp(w, "exists") == 0) {
		*cmd = strcasecmp(w, "ttl") == 0 ? CT_SCN_CMD_TTL : CT_SCN_CMD_EXISTS;
		*out = CT_SCN_REDIS;
	} else if (strcasecmp(w, "mg") == 0) {
		*cmd = CT_SCN_CMD_MC_MG;
		*out = CT_SCN_MEMCACHED;
	} else if (strcasecmp(w, "get") == 0) {
		if (proto == CT_SCN_REDIS || (proto == 0 && strcmp(w, "GET") == 0)) {
			*cmd = CT_SCN_CMD_GET;
			*out = CT_SCN_REDIS;
		} else if (proto == CT_SCN_MEMCACHED || strcmp(w, "get") == 0) {
			*cmd = CT_SCN_CMD_MC_GET;
			*out = CT_SCN_MEMCACHED;
		} else {
			return fail(ps, "'%s' with all: write GET for the Redis nodes or get for the "
					"memcached nodes", w);
		}
	} else {
		return fail(ps, "'%s' is not a check command (Redis: GET, TTL, EXISTS; memcached: "
				"get, mg)", w);
	}
	if (proto && proto != *out)
		return fail(ps, "%s is a %s command, and this node is %s", w,
			    *out == CT_SCN_REDIS ? "Redis" : "memcached",
			    proto == CT_SCN_REDIS ? "Redis" : "memcached");
	return 0;
}

/* nil, any, a JSON string, or an integer. */
static int check_expected(struct parser *ps, const char *v)
{
	if (strcmp(v, "nil") == 0 || strcmp(v, "any") == 0)
		return 0;
	int rc = check_refs(ps, v);
	if (rc)
		return rc;
	struct ct_buf b = { .max = CT_SCENARIO_VALUE_MAX_BYTES + 1 };
	if (ct_scenario_expand(ps->s, NULL, v, &b)) { /* a line is shorter than the cap */
		ct_buf_free(&b);
		return fail(ps, "out of memory");
	}
	json_t *j = json_loadb(ct_buf_str(&b), b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	ct_buf_free(&b);
	int okay = j && (json_is_string(j) || json_is_integer(j));
	json_decref(j);
	if (!okay)
		return fail(ps, "'%s' is not nil, any, a \"string\" or an integer", v);
	return 0;
}

static int parse_check(struct parser *ps, char *p)
{
	char *node = word(&p), *cmdw = word(&p), *key = word(&p);
	if (!node || !cmdw || !key)
		return fail(ps, "check needs NODE COMMAND KEY == VALUE");
	int idx = CT_SCN_ALL_NODES;
	uint8_t proto = 0, cmd = 0, cproto = 0;
	if (strcmp(node, "all") != 0) {
		idx = find_node(ps->s, node);
		if (idx < 0)
			return fail(ps, "unknown node '%s' (declare it with a node line before this "
					"one)", node);
		proto = ps->s->nodes[idx].proto;
	}
	int rc = check_cmd(ps, cmdw, proto, &cmd, &cproto);
	if (rc)
		return rc;
	char *op = word(&p);
	if (op && cmd == CT_SCN_CMD_MC_MG && strcmp(op, "v") == 0)
		op = word(&p); /* "mg KEY v" as memcached writes it */
	uint8_t negate;
	if ((rc = parse_op(ps, op, &negate)))
		return rc;
	char *val = rest(p);
	if (!*val)
		return fail(ps, "check needs a value after %s (nil, any, \"string\", integer)", op);
	if ((rc = check_refs(ps, key)) || (rc = check_expected(ps, val)))
		return rc;
	struct ct_scn_step *st = new_step(ps, CT_SCN_CHECK);
	if (!st)
		return CT_ELIMIT;
	st->node = idx;
	st->cmd = cmd;
	st->proto = cproto;
	st->negate = negate;
	st->key = dup_or_fail(ps, key, &rc);
	st->value = dup_or_fail(ps, val, &rc);
	return rc;
}

static int parse_sleep(struct parser *ps, char *p)
{
	char *d = word(&p);
	if (!d)
		return fail(ps, "sleep needs a duration (50ms, 1s, ...)");
	uint64_t ns;
	int rc = duration(ps, d, &ns);
	if (rc || (rc = no_more(ps, &p, "the duration")))
		return rc;
	struct ct_scn_step *st = new_step(ps, CT_SCN_SLEEP);
	if (!st)
		return CT_ELIMIT;
	st->ns = ns;
	return 0;
}

static int parse_wait(struct parser *ps, char *p)
{
	static const char usage[] = "wait needs: invalidation KEY on NODE[,NODE...]|all within "
				    "DURATION";
	char *what = word(&p), *key = word(&p), *on = word(&p), *nodes = word(&p),
	     *within = word(&p), *d = word(&p);
	if (!what || strcmp(what, "invalidation") != 0)
		return fail(ps, "%s", usage);
	if (!key || !on || strcmp(on, "on") != 0 || !nodes || !within ||
	    strcmp(within, "within") != 0 || !d)
		return fail(ps, "%s", usage);
	uint64_t ns, set = 0;
	int rc = duration(ps, d, &ns);
	if (rc || (rc = no_more(ps, &p, "the duration")) || (rc = check_refs(ps, key)))
		return rc;
	if (strcmp(nodes, "all") == 0) {
		set = UINT64_MAX; /* narrowed to the declared nodes at the end */
	} else {
		for (char *save = NULL, *n = strtok_r(nodes, ",", &save); n;
		     n = strtok_r(NULL, ",", &save)) {
			int idx = find_node(ps->s, n);
			if (idx < 0)
				return fail(ps, "unknown node '%s' (declare it with a node line before "
						"this one)", n);
			set |= 1ull << idx;
		}
		if (!set)
			return fail(ps, "%s", usage);
	}
	struct ct_scn_step *st = new_step(ps, CT_SCN_WAIT);
	if (!st)
		return CT_ELIMIT;
	st->ns = ns;
	st->nodes = set;
	st->key = dup_or_fail(ps, key, &rc);
	if (!ps->s->first_wait_line)
		ps->s->first_wait_line = ps->line;
	return rc;
}

/* Finds or adds variable `name`; the caller sets its scope. */
static int var_slot(struct parser *ps, const char *name, uint32_t *idx)
{
	struct ct_scenario *s = ps->s;
	int v = find_var(s, name, strlen(name));
	if (v >= 0) {
		*idx = (uint32_t)v;
		return 0;
	}
	if (s->nvars >= CT_SCENARIO_MAX_VARS)
		return fail(ps, "too many variables (at most %u names)", CT_SCENARIO_MAX_VARS);
	if (!s->vars && !(s->vars = ct_calloc(CT_SCENARIO_MAX_VARS, sizeof *s->vars)))
		return fail(ps, "out of memory");
	if (!(s->vars[s->nvars] = ct_strdup(name)))
		return fail(ps, "out of memory");
	*idx = s->nvars++;
	return 0;
}

static int parse_let(struct parser *ps, char *p)
{
	while (is_space(*p))
		p++;
	char *name = p;
	while (is_ident(*p))
		p++;
	char *after = p;
	while (is_space(*p))
		p++;
	if (*p != '=')
		return fail(ps, "let needs NAME = VALUE");
	*after = '\0';
	if (!valid_var_name(name))
		return fail(ps, "'%s' is not a variable name (a letter or _, then letters, digits, "
				"_; at most %u)", name, CT_SCENARIO_NAME_MAX_BYTES);
	char *val = rest(p + 1);
	if (!*val)
		return fail(ps, "let %s needs a value after '='", name);
	int rc = check_refs(ps, val);
	if (rc)
		return rc;
	uint32_t v;
	if ((rc = var_slot(ps, name, &v)))
		return rc;
	if (ps->vi[v].in_scope && ps->vi[v].kind == VAR_LOOP)
		return fail(ps, "%s is the counter of the repeat at line %u; it cannot be set",
			    name, ps->vi[v].line);
	struct ct_scn_step *st = new_step(ps, CT_SCN_LET);
	if (!st)
		return CT_ELIMIT;
	st->var = v;
	st->value = dup_or_fail(ps, val, &rc);
	ps->vi[v] = (struct varinfo){ ps->line, VAR_LET, 1 };
	return rc;
}

static int parse_int64(const char *t, const char *end, int64_t *out)
{
	char buf[24];
	size_t n = (size_t)(end - t);
	if (n == 0 || n >= sizeof buf)
		return CT_EINVAL;
	memcpy(buf, t, n);
	buf[n] = '\0';
	char *e;
	errno = 0;
	long long v = strtoll(buf, &e, 10);
	if (errno || *e || !(isdigit((unsigned char)buf[0]) || buf[0] == '-'))
		return CT_EINVAL;
	*out = v;
	return 0;
}

static int parse_repeat(struct parser *ps, char *p)
{
	char *name = word(&p), *range = word(&p);
	if (!name || !range)
		return fail(ps, "repeat needs VAR FROM..TO");
	if (!valid_var_name(name))
		return fail(ps, "'%s' is not a variable name (a letter or _, then letters, digits, "
				"_; at most %u)", name, CT_SCENARIO_NAME_MAX_BYTES);
	char *dots = strstr(range, "..");
	int64_t from, to;
	if (!dots || parse_int64(range, dots, &from) ||
	    parse_int64(dots + 2, dots + 2 + strlen(dots + 2), &to))
		return fail(ps, "'%s' is not a range FROM..TO (integers)", range);
	if (to < from)
		return fail(ps, "range %s is empty (TO is less than FROM)", range);
	if ((uint64_t)to - (uint64_t)from >= CT_SCENARIO_REPEAT_MAX)
		return fail(ps, "range %s has more than %u iterations", range, CT_SCENARIO_REPEAT_MAX);
	int rc = no_more(ps, &p, "the range");
	if (rc)
		return rc;
	if (ps->depth >= CT_SCENARIO_MAX_DEPTH)
		return fail(ps, "repeat blocks nested too deep (at most %u)", CT_SCENARIO_MAX_DEPTH);
	uint32_t v;
	if ((rc = var_slot(ps, name, &v)))
		return rc;
	if (ps->vi[v].in_scope)
		return fail(ps, "variable %s is already defined (line %u); choose another counter",
			    name, ps->vi[v].line);
	struct ct_scn_step *st = new_step(ps, CT_SCN_REPEAT);
	if (!st)
		return CT_ELIMIT;
	st->var = v;
	st->from = from;
	st->to = to;
	ps->vi[v] = (struct varinfo){ ps->line, VAR_LOOP, 1 };
	ps->stack[ps->depth++] = ps->s->nsteps - 1;
	return 0;
}

static int parse_end(struct parser *ps, char *p)
{
	int rc = no_more(ps, &p, "end");
	if (rc)
		return rc;
	if (!ps->depth)
		return fail(ps, "end without a repeat");
	uint32_t open = ps->stack[--ps->depth];
	struct ct_scn_step *st = new_step(ps, CT_SCN_END);
	if (!st)
		return CT_ELIMIT;
	st->jump = open;
	ps->s->steps[open].jump = ps->s->nsteps - 1;
	ps->vi[ps->s->steps[open].var].in_scope = 0;
	return 0;
}

/* ---- declarations ---- */

static int top_level(struct parser *ps, const char *what)
{
	if (ps->depth)
		return fail(ps, "%s is a declaration; it cannot be inside a repeat (line %u)", what,
			    ps->s->steps[ps->stack[ps->depth - 1]].line);
	return 0;
}

static int parse_base(struct parser *ps, char *p)
{
	char *url = word(&p);
	int rc = top_level(ps, "base");
	if (rc)
		return rc;
	if (!url)
		return fail(ps, "base needs a URL (http://HOST:PORT)");
	if ((rc = no_more(ps, &p, "the URL")))
		return rc;
	if (ps->s->base)
		return fail(ps, "base given twice (first at line %u)", ps->s->base_line);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return fail(ps, "base URL '%s' is not http:// or https://", url);
	CURLU *u = curl_url();
	if (!u)
		return fail(ps, "out of memory");
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
	char *q = NULL;
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_QUERY, &q, 0);
	curl_free(q);
	curl_url_cleanup(u);
	if (uc == CURLUE_OK)
		return fail(ps, "base URL '%s' has a query; put it in the call paths", url);
	if (uc != CURLUE_NO_QUERY)
		return fail(ps, "base URL '%s': %s", url, curl_url_strerror(uc));
	ps->s->base = dup_or_fail(ps, url, &rc);
	ps->s->base_line = ps->line;
	return rc;
}

static int parse_header(struct parser *ps, char *p)
{
	int rc = top_level(ps, "header");
	if (rc)
		return rc;
	char *h = rest(p);
	char *colon = strchr(h, ':');
	if (!colon || colon == h)
		return fail(ps, "header needs 'Name: value'");
	size_t nl = (size_t)(colon - h);
	for (size_t i = 0; i < nl; i++)
		if (!(isalnum((unsigned char)h[i]) || strchr("!#$%&'*+-.^_`|~", h[i])))
			return fail(ps, "header name '%.*s' is not an HTTP token", (int)nl, h);
	if (nl == 12 && strncasecmp(h, "X-Request-Id", 12) == 0)
		return fail(ps, "X-Request-Id is set by the driver on every call");
	for (const char *c = colon + 1; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return fail(ps, "header value has a control character");
	struct ct_scenario *s = ps->s;
	if (s->nheaders >= CT_SCENARIO_MAX_HEADERS)
		return fail(ps, "too many headers (at most %u)", CT_SCENARIO_MAX_HEADERS);
	if (!s->headers && !(s->headers = ct_calloc(CT_SCENARIO_MAX_HEADERS, sizeof *s->headers)))
		return fail(ps, "out of memory");
	s->headers[s->nheaders] = dup_or_fail(ps, h, &rc);
	if (!rc)
		s->nheaders++;
	return rc;
}

/* redis://HOST:PORT or memcached://HOST:PORT; HOST may be [v6]. */
static int parse_node(struct parser *ps, char *p)
{
	char *name = word(&p), *url = word(&p);
	int rc = top_level(ps, "node");
	if (rc)
		return rc;
	if (!name || !url)
		return fail(ps, "node needs NAME redis://HOST:PORT or NAME memcached://HOST:PORT");
	if ((rc = no_more(ps, &p, "the URL")))
		return rc;
	if (!valid_name(name))
		return fail(ps, "'%s' is not a node name (a letter or _, then letters, digits, _ - .; "
				"at most %u)", name, CT_SCENARIO_NAME_MAX_BYTES);
	if (strcmp(name, "all") == 0)
		return fail(ps, "'all' is reserved (it means every node)");
	struct ct_scenario *s = ps->s;
	int prev = find_node(s, name);
	if (prev >= 0)
		return fail(ps, "node %s declared twice (first at line %u)", name, s->nodes[prev].line);
	if (s->nnodes >= CT_SCENARIO_MAX_NODES)
		return fail(ps, "too many nodes (at most %u)", CT_SCENARIO_MAX_NODES);
	uint8_t proto;
	char *h;
	if (strncmp(url, "redis://", 8) == 0)
		proto = CT_SCN_REDIS, h = url + 8;
	else if (strncmp(url, "memcached://", 12) == 0)
		proto = CT_SCN_MEMCACHED, h = url + 12;
	else
		return fail(ps, "node URL '%s' is not redis://HOST:PORT or memcached://HOST:PORT", url);
	char *colon;
	if (h[0] == '[') {
		char *close = strchr(h, ']');
		if (!close || close[1] != ':' || close == h + 1)
			return fail(ps, "node URL '%s' has a bad [IPv6] host", url);
		*close = '\0';
		colon = close + 1;
		h++;
	} else {
		colon = strchr(h, ':');
		if (!colon)
			return fail(ps, "node URL '%s' has no :PORT", url);
		*colon = '\0';
	}
	if (!*h)
		return fail(ps, "node URL '%s' has no host", url);
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port == 0 || port > 65535 ||
	    !isdigit((unsigned char)colon[1]))
		return fail(ps, "node URL has a bad port '%s' (1-65535, nothing after it)", colon + 1);
	if (!s->nodes && !(s->nodes = ct_calloc(CT_SCENARIO_MAX_NODES, sizeof *s->nodes)))
		return fail(ps, "out of memory");
	struct ct_scn_node *n = &s->nodes[s->nnodes];
	n->name = dup_or_fail(ps, name, &rc);
	n->host = dup_or_fail(ps, h, &rc);
	n->port = (uint16_t)port;
	n->proto = proto;
	n->line = ps->line;
	s->nnodes++; /* freed with the scenario even when a copy failed */
	return rc;
}

/* ---- lines ---- */

static int parse_line(struct parser *ps, char *line)
{
	char *p = line;
	char *w = word(&p);
	if (!w || w[0] == '#')
		return 0;
	if (strcmp(w, "call") == 0)
		return parse_call(ps, p, CT_SCN_CALL);
	if (strcmp(w, "spawn") == 0)
		return parse_call(ps, p, CT_SCN_SPAWN);
	if (strcmp(w, "await") == 0)
		return parse_await(ps, p);
	if (strcmp(w, "expect") == 0)
		return parse_expect(ps, p);
	if (strcmp(w, "check") == 0)
		return parse_check(ps, p);
	if (strcmp(w, "sleep") == 0)
		return parse_sleep(ps, p);
	if (strcmp(w, "wait") == 0)
		return parse_wait(ps, p);
	if (strcmp(w, "let") == 0)
		return parse_let(ps, p);
	if (strcmp(w, "repeat") == 0)
		return parse_repeat(ps, p);
	if (strcmp(w, "end") == 0)
		return parse_end(ps, p);
	if (strcmp(w, "base") == 0)
		return parse_base(ps, p);
	if (strcmp(w, "header") == 0)
		return parse_header(ps, p);
	if (strcmp(w, "node") == 0)
		return parse_node(ps, p);
	return fail(ps, "unknown statement '%s' (base, header, node, let, call, expect, check, "
			"sleep, wait, repeat, end, spawn, await)", w);
}

/* What needs the whole file: blocks closed, a base for the calls, nodes for 'all'. */
static int finish(struct parser *ps)
{
	struct ct_scenario *s = ps->s;
	if (ps->depth)
		return fail_at(ps, s->steps[ps->stack[ps->depth - 1]].line,
			       "repeat has no matching end");
	uint64_t declared = s->nnodes >= 64 ? UINT64_MAX : (1ull << s->nnodes) - 1;
	for (uint32_t i = 0; i < s->nsteps; i++) {
		struct ct_scn_step *st = &s->steps[i];
		if ((st->kind == CT_SCN_CALL || st->kind == CT_SCN_SPAWN) && !s->base)
			return fail_at(ps, st->line, "%s without a base URL (add a line 'base "
						     "http://HOST:PORT')",
				       st->kind == CT_SCN_SPAWN ? "spawn" : "call");
		if (st->kind == CT_SCN_CHECK && st->node == CT_SCN_ALL_NODES) {
			uint32_t n = 0;
			for (uint32_t j = 0; j < s->nnodes; j++)
				n += s->nodes[j].proto == st->proto;
			if (!n)
				return fail_at(ps, st->line, "check all %s: the scenario has no %s node",
					       ct_scenario_cmd_name(st->cmd),
					       st->proto == CT_SCN_REDIS ? "Redis" : "memcached");
		}
		if (st->kind == CT_SCN_WAIT) {
			st->nodes &= declared;
			if (!st->nodes)
				return fail_at(ps, st->line, "wait on all: the scenario has no nodes");
		}
	}
	return 0;
}

void ct_scenario_free(struct ct_scenario *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nsteps; i++) {
		struct ct_scn_step *st = &s->steps[i];
		ct_free(st->method);
		ct_free(st->path);
		ct_free(st->body);
		ct_free(st->value);
		ct_free(st->key);
	}
	ct_free(s->steps);
	for (uint32_t i = 0; i < s->nnodes; i++) {
		ct_free(s->nodes[i].name);
		ct_free(s->nodes[i].host);
	}
	ct_free(s->nodes);
	for (uint32_t i = 0; i < s->nheaders; i++)
		ct_free(s->headers[i]);
	ct_free(s->headers);
	for (uint32_t i = 0; i < s->nvars; i++)
		ct_free(s->vars[i]);
	ct_free(s->vars);
	ct_free(s->base);
	ct_free(s->file);
	ct_free(s);
}

int ct_scenario_parse(const char *file, const char *text, size_t len, struct ct_scenario **out,
		      char *err, size_t errlen)
{
	*out = NULL;
	json_set_alloc_funcs(ct_malloc, ct_free);
	struct parser *ps = ct_calloc(1, sizeof *ps);
	struct ct_scenario *s = ct_calloc(1, sizeof *s);
	char *line = ct_malloc(CT_SCENARIO_LINE_MAX_BYTES + 1);
	int rc = 0;
	if (!ps || !s || !line || !(s->file = ct_strdup(file))) {
		snprintf(err, errlen, "%s: out of memory", file);
		rc = CT_ENOMEM;
		goto done;
	}
	ps->s = s;
	ps->err = err;
	ps->errlen = errlen;
	size_t pos = 0;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* a UTF-8 byte order mark */
	while (pos < len && !rc) {
		ps->line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		size_t next = pos + n + (nl ? 1 : 0);
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n > CT_SCENARIO_LINE_MAX_BYTES)
			rc = fail(ps, "line longer than %u bytes", CT_SCENARIO_LINE_MAX_BYTES);
		else if (memchr(text + pos, '\0', n))
			rc = fail(ps, "NUL byte in the line");
		else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			rc = parse_line(ps, line);
		}
		pos = next;
	}
	if (!rc)
		rc = finish(ps);
done:
	ct_free(line);
	ct_free(ps);
	if (rc) {
		ct_scenario_free(s);
		return rc < 0 ? rc : CT_EINVAL;
	}
	*out = s;
	return 0;
}

int ct_scenario_load(const char *path, struct ct_scenario **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return CT_EIO;
	}
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode) &&
	    !S_ISCHR(sb.st_mode)) {
		fclose(f);
		snprintf(err, errlen, "%s: not a regular file", path);
		return CT_EINVAL;
	}
	struct ct_buf b = { .max = CT_SCENARIO_FILE_MAX_BYTES };
	char chunk[65536];
	size_t n;
	int rc = 0;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = ct_buf_add(&b, chunk, n);
	int rerr = ferror(f);
	fclose(f);
	if (rc == CT_ELIMIT)
		snprintf(err, errlen, "%s: larger than %u bytes", path, CT_SCENARIO_FILE_MAX_BYTES);
	else if (rc)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (rerr) {
		snprintf(err, errlen, "%s: read error", path);
		rc = CT_EIO;
	}
	if (!rc)
		rc = ct_scenario_parse(path, ct_buf_str(&b), b.len, out, err, errlen);
	ct_buf_free(&b);
	return rc;
}
