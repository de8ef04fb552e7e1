/* Unit tests for the Redis command table and argument classifier (cmdtab_redis.h): the table's
 * own consistency, lookups, dozens of sample commands with their key positions, classes,
 * values, secrets and effects, value-dependent classes, truncated arguments, bad numkeys, and
 * a deterministic random walk that checks the provisional/final contract and never reads out
 * of bounds (every argument sits in a heap buffer of exactly its length). */
#include <stdlib.h>

#include "cachetap/cmdtab_redis.h"
#include "tap.h"

#define MAX_ARGS 64

/* ---- helpers ---- */

struct argv {
	int argc;
	uint8_t *p[MAX_ARGS];
	size_t len[MAX_ARGS];
	uint64_t full[MAX_ARGS];
};

/* Splits a test command line on single spaces; the token "" is an empty argument. Every
 * argument is copied into its own exact-size heap buffer, so an over-read trips ASan. */
static void split(struct argv *a, const char *line)
{
	memset(a, 0, sizeof *a);
	const char *s = line;
	while (*s && a->argc < MAX_ARGS) {
		const char *e = strchr(s, ' ');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && s[0] == '"' && s[1] == '"')
			n = 0;
		uint8_t *buf = ct_malloc(n ? n : 1);
		if (!buf)
			abort();
		memcpy(buf, s, n);
		a->p[a->argc] = buf;
		a->len[a->argc] = n;
		a->full[a->argc] = n;
		a->argc++;
		s = e ? e + 1 : s + n;
	}
}

static void argv_free(struct argv *a)
{
	for (int i = 0; i < a->argc; i++)
		ct_free(a->p[i]);
	a->argc = 0;
}

static char class_letter(unsigned cls)
{
	static const char l[CT_CLASS_COUNT] = { 'r', 'w', 'd', 'i', 'e', 'f', 'p', 'o' };
	return cls < CT_CLASS_COUNT ? l[cls] : '?';
}

/* One argument as text: "-" plain, "S" secret, "U" subcommand, "K<c>" key of class c,
 * "C<c>" channel, "P<c>" pattern, "V<c>" value, "@n" for an explicit database, "?" pending. */
static void render_one(char *out, size_t cap, const struct ct_redis_arg *a, int show_pending)
{
	static const char roles[CT_REDIS_ARG_COUNT] = { '-', 'K', 'C', 'P', 'V', 'U' };
	if (a->secret) {
		snprintf(out, cap, "S");
		return;
	}
	if (a->role == CT_REDIS_ARG_PLAIN || a->role == CT_REDIS_ARG_SUBCMD) {
		snprintf(out, cap, "%c%s", roles[a->role], show_pending && a->pending ? "?" : "");
		return;
	}
	char db[16] = "";
	if (a->db >= 0)
		snprintf(db, sizeof db, "@%d", (int)a->db);
	snprintf(out, cap, "%c%c%s%s", a->role < CT_REDIS_ARG_COUNT ? roles[a->role] : '!',
		 class_letter(a->cls), db, show_pending && a->pending ? "?" : "");
}

static void append(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);
	snprintf(buf + n, cap - n, "%s%s", n ? " " : "", s);
}

struct run {
	struct ct_redis_cmdstate st;
	int begin_rc;
	char prov[512];  /* provisional answers, pending marked */
	char final[512]; /* final answers (secrets from the provisional pass) */
	uint8_t secret[MAX_ARGS]; /* secret flags from the provisional pass */
	int contract_ok; /* the header's provisional/final contract held */
	char why[256];
};

/* Classifies argv: argc given to begin (known) or only at the end (inline), now in ns. */
static void run_cmd(struct run *r, const struct argv *a, int known, uint64_t now_ns)
{
	struct ct_redis_arg prov[MAX_ARGS];
	memset(r, 0, sizeof *r);
	r->contract_ok = 1;
	r->begin_rc = ct_redis_cmd_begin(&r->st, a->p[0], a->len[0], known ? a->argc : -1);
	for (int i = 1; i < a->argc; i++) {
		int rc = ct_redis_cmd_arg(&r->st, (uint32_t)i, a->p[i], a->len[i], a->full[i],
					  &prov[i]);
		if (rc != 0) {
			r->contract_ok = 0;
			snprintf(r->why, sizeof r->why, "arg %d returned %d", i, rc);
		}
		r->secret[i] = prov[i].secret;
		char one[32];
		render_one(one, sizeof one, &prov[i], 1);
		append(r->prov, sizeof r->prov, one);
	}
	ct_redis_cmd_end(&r->st, known ? -1 : a->argc, now_ns);
	for (int i = 1; i < a->argc; i++) {
		struct ct_redis_arg f;
		ct_redis_cmd_final(&r->st, (uint32_t)i, &f);
		const struct ct_redis_arg *p = &prov[i];
		int p_kept = p->role == CT_REDIS_ARG_KEY || p->role == CT_REDIS_ARG_CHANNEL ||
			     p->role == CT_REDIS_ARG_PATTERN || p->role == CT_REDIS_ARG_VALUE;
		int f_kept = f.role == CT_REDIS_ARG_KEY || f.role == CT_REDIS_ARG_CHANNEL ||
			     f.role == CT_REDIS_ARG_PATTERN || f.role == CT_REDIS_ARG_VALUE;
		if (f.pending || f.secret) {
			r->contract_ok = 0;
			snprintf(r->why, sizeof r->why, "arg %d: final pending/secret", i);
		}
		if (f_kept && (!p_kept || p->secret)) {
			r->contract_ok = 0;
			snprintf(r->why, sizeof r->why, "arg %d: final %s was not kept", i,
				 ct_redis_role_name(f.role));
		}
		if (!p->pending && !p->secret &&
		    (p->role != f.role || p->cls != f.cls || p->db != f.db ||
		     p->key_index != f.key_index)) {
			r->contract_ok = 0;
			snprintf(r->why, sizeof r->why, "arg %d: not pending but changed (%s->%s)", i,
				 ct_redis_role_name(p->role), ct_redis_role_name(f.role));
		}
		if (p->secret)
			f.secret = 1;
		char one[32];
		render_one(one, sizeof one, &f, 0);
		append(r->final, sizeof r->final, one);
	}
}

/* ---- the table itself ---- */

static int valid_cmd(const struct ct_redis_cmd *c, int is_sub, char *why, size_t cap)
{
	if (!c->name || strlen(c->name) != c->len || c->len == 0 ||
	    c->len > CT_CMDTAB_REDIS_NAME_MAX_BYTES)
		return snprintf(why, cap, "name/len"), 0;
	for (size_t i = 0; i < c->len; i++)
		if (c->name[i] >= 'a' && c->name[i] <= 'z')
			return snprintf(why, cap, "not upper case"), 0;
	if (c->arity == 0 || (is_sub && c->arity > -2 && c->arity < 2))
		return snprintf(why, cap, "arity"), 0;
	if (c->cls >= CT_CLASS_COUNT || c->cls_rest >= CT_CLASS_COUNT)
		return snprintf(why, cap, "class"), 0;
	if (c->handler >= CT_REDIS_H_COUNT)
		return snprintf(why, cap, "handler"), 0;
	if (c->first < 0 || c->step < 0)
		return snprintf(why, cap, "negative first/step"), 0;
	if (c->first == 0 && (c->last != 0 || c->step != 0))
		return snprintf(why, cap, "range without first"), 0;
	if (c->first > 0 && (c->step == 0 || (c->last >= 0 && c->last < c->first)))
		return snprintf(why, cap, "bad range"), 0;
	if (is_sub && c->first > 0 && c->first < 2)
		return snprintf(why, cap, "subcommand key before argv[2]"), 0;
	/* A fixed range must fit the arity (a key is never required beyond argc). */
	if (c->first > 0 && c->last > 0 && c->arity > 0 && c->last >= c->arity)
		return snprintf(why, cap, "range beyond arity"), 0;
	if (c->value_off && c->first == 0)
		return snprintf(why, cap, "value without key"), 0;
	switch (c->handler) {
	case CT_REDIS_H_NUMKEYS:
	case CT_REDIS_H_NUMKEYS0:
		if (c->kidx == 0 || (c->first > 0 && (c->last < 0 || c->last >= c->kidx)))
			return snprintf(why, cap, "numkeys index"), 0;
		break;
	case CT_REDIS_H_SECRET_TAIL:
	case CT_REDIS_H_MIGRATE:
	case CT_REDIS_H_GEORADIUS:
	case CT_REDIS_H_SORT:
	case CT_REDIS_H_XREAD:
		if (c->kidx == 0)
			return snprintf(why, cap, "handler needs kidx"), 0;
		break;
	case CT_REDIS_H_CHANNEL:
	case CT_REDIS_H_PATTERN:
		if (c->first != 1)
			return snprintf(why, cap, "channels start at 1"), 0;
		break;
	default:
		if (c->kidx != 0)
			return snprintf(why, cap, "kidx without use"), 0;
	}
	if (c->first == 0 && c->handler == CT_REDIS_H_NONE && c->cls != CT_CLASS_OTHER &&
	    c->cls != CT_CLASS_FLUSH)
		return snprintf(why, cap, "keyless command with a key class"), 0;
	if (!!(c->flags & CT_REDIS_CMD_CONTAINER) != (c->subs != NULL && c->nsubs > 0))
		return snprintf(why, cap, "container flag vs subs"), 0;
	if (is_sub && c->subs)
		return snprintf(why, cap, "nested container"), 0;
	if ((c->flags & CT_REDIS_CMD_WRITE) && (c->flags & CT_REDIS_CMD_READONLY))
		return snprintf(why, cap, "write and readonly"), 0;
	return 1;
}

static void test_table(void)
{
	size_t n = 0;
	const struct ct_redis_cmd *t = ct_redis_cmd_table(&n);
	ok(n >= 240, "table has every Redis 7.0 command (%zu entries)", n);
	int sorted = 1, valid = 1, subs_ok = 1, found_all = 1, nsubs = 0;
	char why[128] = "";
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(t[i - 1].name, t[i].name) >= 0) {
			sorted = 0;
			diag("not sorted/unique: %s, %s", t[i - 1].name, t[i].name);
		}
		if (!valid_cmd(&t[i], 0, why, sizeof why)) {
			valid = 0;
			diag("%s: %s", t[i].name, why);
		}
		if (ct_redis_cmd_lookup((const uint8_t *)t[i].name, t[i].len) != &t[i]) {
			found_all = 0;
			diag("lookup of %s fails", t[i].name);
		}
		for (uint16_t j = 0; j < t[i].nsubs; j++) {
			const struct ct_redis_cmd *s = &t[i].subs[j];
			nsubs++;
			if (j > 0 && strcmp(t[i].subs[j - 1].name, s->name) >= 0) {
				subs_ok = 0;
				diag("%s: subcommands not sorted/unique at %s", t[i].name, s->name);
			}
			if (!valid_cmd(s, 1, why, sizeof why)) {
				subs_ok = 0;
				diag("%s %s: %s", t[i].name, s->name, why);
			}
			if (ct_redis_cmd_lookup_sub(&t[i], (const uint8_t *)s->name, s->len) != s) {
				subs_ok = 0;
				diag("lookup of %s %s fails", t[i].name, s->name);
			}
		}
	}
	ok(sorted, "table names are sorted and unique");
	ok(valid, "every entry is consistent (name, arity, range, handler, classes, flags)");
	ok(found_all, "every entry is found by lookup");
	ok(subs_ok, "subcommand tables are sorted, unique, consistent and found");
	ok(nsubs >= 120, "subcommands present (%d)", nsubs);
}

static void test_lookup(void)
{
	struct {
		const char *name;
		const char *want;
	} cases[] = {
		{ "get", "GET" },       { "GET", "GET" },         { "GeT", "GET" },
		{ "gEtDeL", "GETDEL" }, { "restore-asking", "RESTORE-ASKING" },
		{ "eval_ro", "EVAL_RO" }, { "evalsha", "EVALSHA" }, { "ZUNIONSTORE", "ZUNIONSTORE" },
		{ "a", NULL },          { "ge", NULL },           { "getx", NULL },
		{ "g\xc9t", NULL },     { "zzzzzzzzzz", NULL },   { "AAAA", NULL },
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(cases); i++) {
		const struct ct_redis_cmd *c =
			ct_redis_cmd_lookup((const uint8_t *)cases[i].name, strlen(cases[i].name));
		is_str(c ? c->name : NULL, cases[i].want, "lookup '%s'", cases[i].name);
	}
	ok(ct_redis_cmd_lookup(NULL, 0) == NULL, "lookup of nothing");
	ok(ct_redis_cmd_lookup((const uint8_t *)"GET", 0) == NULL, "lookup of an empty name");
	ok(ct_redis_cmd_lookup((const uint8_t *)"GET\0", 4) == NULL, "a NUL is part of the name");
	uint8_t longname[CT_CMDTAB_REDIS_NAME_MAX_BYTES + 8];
	memset(longname, 'A', sizeof longname);
	ok(ct_redis_cmd_lookup(longname, sizeof longname) == NULL, "an over-long name is unknown");
	const struct ct_redis_cmd *obj = ct_redis_cmd_lookup((const uint8_t *)"object", 6);
	const struct ct_redis_cmd *enc = ct_redis_cmd_lookup_sub(obj, (const uint8_t *)"encoding", 8);
	is_str(enc ? enc->name : NULL, "ENCODING", "subcommand lookup is case-insensitive");
	ok(ct_redis_cmd_lookup_sub(obj, (const uint8_t *)"nope", 4) == NULL, "unknown subcommand");
	const struct ct_redis_cmd *get = ct_redis_cmd_lookup((const uint8_t *)"get", 3);
	ok(ct_redis_cmd_lookup_sub(get, (const uint8_t *)"x", 1) == NULL, "no subs of GET");
	ok(ct_redis_cmd_lookup_sub(NULL, (const uint8_t *)"x", 1) == NULL, "no parent");
}

/* ---- sample commands ---- */

struct sample {
	const char *line;  /* command, arguments separated by single spaces; "" = empty */
	const char *final; /* final meaning of arguments 1.. (render_one without '?') */
	const char *prov;  /* provisional meaning with argc known up front, or NULL */
	uint32_t eff;      /* expected effects, or ~0u to skip */
	uint32_t status;   /* expected status */
};

#define ANY ~0u
#define EF(x) CT_REDIS_EFF_##x
#define ST(x) CT_REDIS_ST_##x

static const struct sample samples[] = {
	/* strings */
	{ "GET k", "Kr", "Kr", 0, 0 },
	{ "get k", "Kr", "Kr", 0, 0 },
	{ "SET k v", "Kw Vw", "Kw Vw", 0, 0 },
	{ "set k v EX 10 GET", "Kw Vw - - -", "Kw Vw - - -", 0, 0 },
	{ "SET k v KEEPTTL NX", "Kw Vw - -", NULL, 0, 0 },
	{ "SETEX k 10 v", "Kw - Vw", "Kw - Vw", 0, 0 },
	{ "PSETEX k 100 v", "Kw - Vw", NULL, 0, 0 },
	{ "SETNX k v", "Kw Vw", NULL, 0, 0 },
	{ "GETSET k v", "Kw Vw", NULL, 0, 0 },
	{ "APPEND k v", "Kw -", NULL, 0, 0 },
	{ "INCR k", "Kw", NULL, 0, 0 },
	{ "MGET a b c", "Kr Kr Kr", "Kr Kr Kr", 0, 0 },
	{ "MSET a 1 b 2", "Kw Vw Kw Vw", "Kw Vw Kw Vw", 0, 0 },
	{ "MSETNX a 1 b 2 c 3", "Kw Vw Kw Vw Kw Vw", NULL, 0, 0 },
	{ "GETDEL k", "Kd", "Kd", 0, 0 },
	{ "GETEX k", "Kr", "Kr?", 0, 0 },
	{ "GETEX k EX 100", "Ke - -", "Kr? - -", 0, 0 },
	{ "GETEX k PERSIST", "Ke -", NULL, 0, 0 },
	{ "GETEX k PXAT 1", "Kd - -", NULL, 0, 0 },
	{ "GETEX k EXAT 0", "Ke - -", NULL, 0, 0 },
	{ "GETEX k BOGUS", "- -", "Kr? -", 0, ST(SYNTAX) },
	/* deletes, expiry */
	{ "DEL a b c", "Kd Kd Kd", "Kd Kd Kd", 0, 0 },
	{ "UNLINK a", "Kd", NULL, 0, 0 },
	{ "EXPIRE k 10", "Ke -", "Ke? -", 0, 0 },
	{ "EXPIRE k 0", "Kd -", "Ke? -", 0, 0 },
	{ "EXPIRE k -1", "Kd -", NULL, 0, 0 },
	{ "EXPIRE k 10 NX", "Ke - -", NULL, 0, 0 },
	{ "EXPIRE k -5 GT", "Kd - -", NULL, 0, 0 },
	{ "EXPIRE k abc", "Ke -", NULL, 0, 0 },
	{ "EXPIRE k 01", "Ke -", NULL, 0, 0 },
	{ "EXPIRE k -0", "Ke -", NULL, 0, 0 },
	{ "PEXPIRE k -100", "Kd -", NULL, 0, 0 },
	{ "PEXPIRE k 100", "Ke -", NULL, 0, 0 },
	{ "EXPIREAT k 1", "Kd -", NULL, 0, 0 },          /* 1970: before now */
	{ "EXPIREAT k 4102444800", "Ke -", NULL, 0, 0 }, /* 2100 */
	{ "PEXPIREAT k 1700000000000", "Kd -", NULL, 0, 0 },
	{ "PEXPIREAT k 1800000000000", "Ke -", NULL, 0, 0 },
	{ "EXPIREAT k 9223372036854775807", "Ke -", NULL, 0, 0 },
	{ "PERSIST k", "Ke", "Ke", 0, 0 },
	{ "TTL k", "Kr", NULL, 0, 0 },
	/* two keys, different classes */
	{ "RENAME a b", "Kd Kw", "Kd Kw", 0, 0 },
	{ "RENAMENX a b", "Kd Kw", NULL, 0, 0 },
	{ "COPY a b", "Kr Kw", "Kr Kw?", 0, 0 },
	{ "COPY a b DB 3 REPLACE", "Kr Kw@3 - - -", "Kr Kw? - - -", 0, 0 },
	{ "COPY a b db x", "Kr Kw - -", NULL, 0, 0 },
	{ "MOVE k 2", "Kd -", NULL, 0, 0 },
	{ "LMOVE a b LEFT RIGHT", "Kw Kw - -", NULL, 0, 0 },
	{ "RPOPLPUSH a b", "Kw Kw", NULL, 0, 0 },
	{ "SMOVE a b m", "Kw Kw -", NULL, 0, 0 },
	{ "BITOP AND d a b", "- Kw Kr Kr", "- Kw Kr Kr", 0, 0 },
	{ "SINTERSTORE d a b", "Kw Kr Kr", NULL, 0, 0 },
	{ "SUNIONSTORE d a", "Kw Kr", NULL, 0, 0 },
	{ "PFMERGE d a b", "Kw Kr Kr", NULL, 0, 0 },
	{ "ZRANGESTORE d s 0 -1", "Kw Kr - -", NULL, 0, 0 },
	{ "GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 km", "Kw Kr - - - - -", NULL, 0, 0 },
	{ "LCS a b", "Kr Kr", NULL, 0, 0 },
	/* hashes, lists, sets: elements change, the key is written */
	{ "HSET h f v f2 v2", "Kw - - - -", NULL, 0, 0 },
	{ "HDEL h f", "Kw -", NULL, 0, 0 },
	{ "HGET h f", "Kr -", NULL, 0, 0 },
	{ "HMGET h a b", "Kr - -", NULL, 0, 0 },
	{ "LPUSH l a b", "Kw - -", NULL, 0, 0 },
	{ "LPOP l", "Kw", NULL, 0, 0 },
	{ "SADD s a", "Kw -", NULL, 0, 0 },
	{ "ZADD z 1 a", "Kw - -", NULL, 0, 0 },
	{ "XADD s * f v", "Kw - - -", NULL, 0, 0 },
	{ "PFADD h a", "Kw -", NULL, 0, 0 },
	{ "PFCOUNT a b", "Kr Kr", NULL, 0, 0 },
	{ "BITFIELD k GET u8 0", "Kr - - -", "Kr? - - -", 0, 0 },
	{ "BITFIELD k GET u8 0 SET u8 0 1", "Kw - - - - - - -", NULL, 0, 0 },
	{ "BITFIELD k OVERFLOW SAT INCRBY u8 0 1", "Kw - - - - - -", NULL, 0, 0 },
	{ "BITFIELD_RO k GET u8 0", "Kr - - -", NULL, 0, 0 },
	{ "HEXPIRE h 10 FIELDS 1 f", "Kw - - - -", NULL, 0, 0 },
	/* blocking */
	{ "BLPOP a b 0", "Kw Kw -", "Kw Kw -", EF(BLOCKING), 0 },
	{ "BRPOP a 1.5", "Kw -", NULL, EF(BLOCKING), 0 },
	{ "BZPOPMIN a b 0", "Kw Kw -", NULL, EF(BLOCKING), 0 },
	{ "BLMOVE a b LEFT LEFT 0", "Kw Kw - - -", NULL, EF(BLOCKING), 0 },
	{ "WAIT 1 0", "- -", NULL, EF(BLOCKING), 0 },
	/* numkeys */
	{ "EVAL s 2 a b x y", "- - Kw Kw - -", "- - Kw Kw - -", EF(SCRIPT), 0 },
	{ "EVAL s 0", "- -", NULL, EF(SCRIPT), 0 },
	{ "EVAL s 0 x y", "- - - -", NULL, EF(SCRIPT), 0 },
	{ "EVALSHA abc 1 k", "- - Kw", NULL, EF(SCRIPT), 0 },
	{ "EVAL_RO s 1 k", "- - Kr", NULL, EF(SCRIPT), 0 },
	{ "FCALL f 1 k a", "- - Kw -", NULL, EF(SCRIPT), 0 },
	{ "FCALL_RO f 2 a b", "- - Kr Kr", NULL, EF(SCRIPT), 0 },
	{ "EVAL s 3 a b", "- - - -", "- - - -", 0, ST(SYNTAX) },
	{ "EVAL s -1 a", "- - -", NULL, 0, ST(SYNTAX) },
	{ "EVAL s x a", "- - -", NULL, 0, ST(SYNTAX) },
	{ "EVAL s 01 a", "- - -", NULL, 0, ST(SYNTAX) },
	{ "EVAL s +1 a", "- - -", NULL, 0, ST(SYNTAX) },
	{ "EVAL s 9223372036854775807 a", "- - -", NULL, 0, ST(SYNTAX) },
	{ "EVAL s 99999999999999999999 a", "- - -", NULL, 0, ST(SYNTAX) },
	{ "EVAL s -9223372036854775808 a", "- - -", NULL, 0, ST(SYNTAX) },
	{ "ZUNIONSTORE d 2 a b WEIGHTS 1 2", "Kw - Kr Kr - - -", "Kw? - Kr Kr - - -", 0, 0 },
	{ "ZUNIONSTORE d 0 a", "- - -", "Kw? - -", 0, ST(SYNTAX) },
	{ "ZUNIONSTORE d 3 a b", "- - - -", NULL, 0, ST(SYNTAX) },
	{ "ZINTERSTORE d 1 a AGGREGATE MAX", "Kw - Kr - -", NULL, 0, 0 },
	{ "ZDIFFSTORE d 2 a b", "Kw - Kr Kr", NULL, 0, 0 },
	{ "ZUNION 2 a b WITHSCORES", "- Kr Kr -", NULL, 0, 0 },
	{ "ZINTERCARD 2 a b LIMIT 1", "- Kr Kr - -", NULL, 0, 0 },
	{ "SINTERCARD 1 a", "- Kr", NULL, 0, 0 },
	{ "ZDIFF 1 a", "- Kr", NULL, 0, 0 },
	{ "LMPOP 2 a b LEFT COUNT 2", "- Kw Kw - - -", NULL, 0, 0 },
	{ "ZMPOP 1 a MIN", "- Kw -", NULL, 0, 0 },
	{ "BLMPOP 0 2 a b LEFT", "- - Kw Kw -", NULL, EF(BLOCKING), 0 },
	{ "BZMPOP 1.5 1 a MAX", "- - Kw -", NULL, EF(BLOCKING), 0 },
	/* streams */
	{ "XREAD STREAMS a b 0 0", "- Kr Kr - -", "- Kr Kr - -", 0, 0 },
	{ "XREAD COUNT 2 BLOCK 0 STREAMS a 0", "- - - - - Kr -", NULL, EF(BLOCKING), 0 },
	{ "xread count 10 streams a b c 1 2 3", "- - - Kr Kr Kr - - -", NULL, 0, 0 },
	{ "XREAD STREAMS a b 0", "- - - -", "- - - -", 0, ST(SYNTAX) },
	{ "XREAD COUNT 1 STREAMS", "- - -", NULL, 0, ST(SYNTAX) },
	{ "XREAD BOGUS STREAMS a 0", "- - - -", NULL, 0, ST(SYNTAX) },
	{ "XREAD COUNT STREAMS STREAMS a 0", "- - - Kr -", NULL, 0, 0 },
	{ "XREADGROUP GROUP g c STREAMS a >", "- - - - Kr -", NULL, 0, 0 },
	{ "XREADGROUP GROUP STREAMS STREAMS COUNT 1 BLOCK 5 NOACK STREAMS a b 0 0",
	  "- - - - - - - - - Kr Kr - -", NULL, EF(BLOCKING), 0 },
	{ "XRANGE s - +", "Kr - -", NULL, 0, 0 },
	{ "XINFO STREAM s", "U Kr", "U Kr", 0, 0 },
	{ "XGROUP CREATE s g $ MKSTREAM", "U Kw - - -", NULL, 0, 0 },
	{ "XGROUP HELP", "U", NULL, 0, 0 },
	/* sort, georadius */
	{ "SORT k", "Kr", "Kr", 0, 0 },
	{ "SORT k STORE d", "Kr - Kw", "Kr - Kw", 0, 0 },
	{ "SORT k STORE d STORE e", "Kr - - - Kw", "Kr - Kw? - Kw", 0, 0 },
	{ "SORT k GET STORE", "Kr - -", NULL, 0, 0 },
	{ "SORT k BY STORE STORE d", "Kr - - - Kw", NULL, 0, 0 },
	{ "SORT k LIMIT STORE d STORE e", "Kr - - - - Kw", NULL, 0, 0 },
	{ "SORT k LIMIT 0 10 GET # ALPHA DESC STORE d", "Kr - - - - - - - - Kw", NULL, 0, 0 },
	{ "SORT k STORE", "Kr -", NULL, 0, 0 },
	{ "SORT_RO k BY w", "Kr - -", NULL, 0, 0 },
	{ "GEORADIUS k 1 2 3 m STORE d", "Kr - - - - - Kw", NULL, 0, 0 },
	{ "GEORADIUS k 1 2 3 m STOREDIST d WITHDIST", "Kr - - - - - Kw -", NULL, 0, 0 },
	{ "GEORADIUS k 1 2 3 STORE d", "Kr - - - - -", NULL, 0, 0 },
	{ "GEORADIUSBYMEMBER k m 3 km STORE d", "Kr - - - - Kw", NULL, 0, 0 },
	{ "GEORADIUS_RO k 1 2 3 m", "Kr - - - -", NULL, 0, 0 },
	/* migrate */
	{ "MIGRATE h 6379 k 0 10", "- - Kd - -", "- - Kd? - -", 0, 0 },
	{ "MIGRATE h 6379 k 0 10 COPY REPLACE", "- - Kr - - - -", NULL, 0, 0 },
	{ "MIGRATE h 6379 \"\" 0 10 KEYS a b", "- - - - - - Kd Kd", "- - Kd? - - - Kd Kd", 0, 0 },
	{ "MIGRATE h 6379 \"\" 0 10 COPY KEYS a", "- - - - - - - Kr", NULL, 0, 0 },
	{ "MIGRATE h 6379 \"\" 0 10 AUTH pw KEYS a", "- - - - - - S - Kd", NULL, 0, 0 },
	{ "MIGRATE h 6379 \"\" 0 10 AUTH KEYS KEYS a", "- - - - - - S - Kd", NULL, 0, 0 },
	{ "MIGRATE h 6379 \"\" 0 10 AUTH2 u pw KEYS a b", "- - - - - - S S - Kd Kd", NULL, 0, 0 },
	{ "MIGRATE h 6379 k 0 10 AUTH2 u pw", "- - Kd - - - S S", NULL, 0, 0 },
	{ "MIGRATE h 6379 k 0 10 KEYS a b", "- - - - - - - -", NULL, 0, ST(SYNTAX) },
	{ "MIGRATE h 6379 \"\" 0 10", "- - Kd - -", NULL, 0, 0 }, /* "" is a key name too */
	{ "MIGRATE h 6379 k 0 10 AUTHX pw", "- - - - - S S", NULL, 0, ST(SYNTAX) },
	/* subcommands */
	{ "OBJECT ENCODING k", "U Kr", "U Kr", 0, 0 },
	{ "object freq k", "U Kr", NULL, 0, 0 },
	{ "MEMORY USAGE k SAMPLES 5", "U Kr - -", NULL, 0, 0 },
	{ "OBJECT HELP", "U", NULL, 0, 0 },
	{ "OBJECT NOPE k", "S S", NULL, 0, ST(UNKNOWN_SUB) },
	{ "OBJECT", "", NULL, 0, ST(ARITY) },
	{ "CLIENT", "", NULL, 0, ST(ARITY) },
	{ "COMMAND", "", NULL, 0, 0 },
	{ "COMMAND COUNT", "U", NULL, 0, 0 },
	{ "CLIENT SETNAME app", "U -", NULL, 0, 0 },
	{ "CLIENT LIST", "U", NULL, 0, 0 },
	{ "CLIENT KILL ID 5", "U - -", NULL, 0, 0 },
	{ "CLIENT NO-EVICT on", "U -", NULL, 0, 0 },
	{ "PFDEBUG GETREG k", "- Ko", NULL, 0, 0 },
	/* pub/sub */
	{ "PUBLISH ch msg", "Cp -", "Cp -", 0, 0 },
	{ "SPUBLISH ch msg", "Cp -", NULL, 0, 0 },
	{ "SUBSCRIBE a b", "Co Co", "Co Co", EF(SUBSCRIBE) | EF(REPLY_PER_ARG), 0 },
	{ "SSUBSCRIBE a", "Co", NULL, EF(SUBSCRIBE) | EF(REPLY_PER_ARG), 0 },
	{ "PSUBSCRIBE __key*__:*", "Po", NULL, EF(SUBSCRIBE) | EF(REPLY_PER_ARG), 0 },
	{ "UNSUBSCRIBE", "", NULL, EF(UNSUBSCRIBE) | EF(REPLY_PER_ARG), 0 },
	{ "UNSUBSCRIBE a", "Co", NULL, EF(UNSUBSCRIBE) | EF(REPLY_PER_ARG), 0 },
	{ "PUNSUBSCRIBE p*", "Po", NULL, EF(UNSUBSCRIBE) | EF(REPLY_PER_ARG), 0 },
	{ "SUNSUBSCRIBE a b", "Co Co", NULL, EF(UNSUBSCRIBE) | EF(REPLY_PER_ARG), 0 },
	{ "PUBSUB NUMSUB a b", "U - -", NULL, 0, 0 },
	/* connection state */
	{ "WATCH a b", "Ko Ko", NULL, 0, 0 },
	{ "MULTI", "", NULL, EF(MULTI), 0 },
	{ "EXEC", "", NULL, EF(EXEC), 0 },
	{ "DISCARD", "", NULL, EF(DISCARD), 0 },
	{ "SELECT 3", "-", NULL, EF(SELECT), 0 },
	{ "SELECT x", "-", NULL, 0, 0 },
	{ "SELECT -1", "-", NULL, 0, 0 },
	{ "SWAPDB 0 1", "- -", NULL, EF(SWAPDB), 0 },
	{ "SWAPDB 0 x", "- -", NULL, 0, 0 },
	{ "FLUSHDB", "", NULL, EF(FLUSHDB), 0 },
	{ "FLUSHDB ASYNC", "-", NULL, EF(FLUSHDB), 0 },
	{ "FLUSHALL SYNC", "-", NULL, EF(FLUSHALL), 0 },
	{ "HELLO", "", NULL, EF(HELLO), 0 },
	{ "HELLO 3", "-", NULL, EF(HELLO), 0 },
	{ "HELLO 3 AUTH user pass SETNAME app", "- - S S - -", NULL, EF(HELLO) | EF(AUTH), 0 },
	{ "HELLO 2 SETNAME AUTH", "- - -", NULL, EF(HELLO), 0 },
	{ "HELLO 3 AUTH user", "- - S", NULL, ANY, ANY },
	{ "HELLO 4", "-", NULL, 0, ST(SYNTAX) },
	{ "HELLO 3 BOGUS pw", "- S S", NULL, 0, ST(SYNTAX) },
	{ "AUTH pw", "S", "S", EF(AUTH), 0 },
	{ "AUTH user pw", "S S", NULL, EF(AUTH), 0 },
	{ "auth GET k", "S S", NULL, EF(AUTH), 0 },
	{ "CLIENT REPLY OFF", "U -", NULL, EF(REPLY_MODE) | EF(NOREPLY), 0 },
	{ "CLIENT REPLY SKIP", "U -", NULL, EF(REPLY_MODE) | EF(NOREPLY), 0 },
	{ "client reply on", "U -", NULL, EF(REPLY_MODE), 0 },
	{ "CLIENT REPLY MAYBE", "U -", NULL, 0, ST(SYNTAX) },
	{ "CLIENT TRACKING on REDIRECT 7 BCAST PREFIX user: NOLOOP", "U - - - - - - -", NULL,
	  EF(TRACKING), 0 },
	{ "CLIENT TRACKING off", "U -", NULL, EF(TRACKING), 0 },
	{ "CLIENT CACHING yes", "U -", NULL, EF(CACHING), 0 },
	{ "SYNC", "", NULL, EF(REPLICATION), 0 },
	{ "PSYNC ? -1", "- -", NULL, EF(REPLICATION), 0 },
	{ "REPLCONF listening-port 6380 capa eof capa psync2", "- - - - - -", NULL, EF(REPLCONF),
	  0 },
	{ "REPLCONF ACK 12345", "- -", NULL, EF(REPLCONF) | EF(NOREPLY), 0 },
	{ "REPLCONF GETACK *", "- -", NULL, EF(REPLCONF) | EF(NOREPLY), 0 },
	{ "MONITOR", "", NULL, EF(MONITOR), 0 },
	{ "RESET", "", NULL, EF(RESET), 0 },
	{ "QUIT", "", NULL, EF(QUIT), 0 },
	{ "SHUTDOWN NOSAVE", "-", NULL, EF(SHUTDOWN), 0 },
	{ "PING", "", NULL, 0, 0 },
	{ "PING hello", "-", NULL, 0, 0 },
	/* secrets */
	{ "CONFIG SET requirepass s3cret", "U - S", NULL, 0, 0 },
	{ "CONFIG SET maxmemory 1gb masterauth pw", "U - - - S", NULL, 0, 0 },
	{ "CONFIG SET tls-key-file-pass x appendonly yes", "U - S - -", NULL, 0, 0 },
	{ "CONFIG GET requirepass", "U -", NULL, 0, 0 },
	{ "ACL SETUSER alice on >pw ~* +@all", "U - - S - -", NULL, 0, 0 },
	{ "ACL SETUSER alice #5e884898da28 <old !abc resetpass", "U - S S S -", NULL, 0, 0 },
	{ "ACL SETUSER bob (~k*>x)", "U - S", NULL, 0, 0 },
	{ "ACL DRYRUN alice AUTH pw", "U - S S", NULL, 0, 0 },
	{ "ACL GETUSER alice", "U -", NULL, 0, 0 },
	{ "COMMAND GETKEYS MIGRATE h p \"\" 0 1 AUTH pw KEYS a", "U S S S S S S S S S S", NULL, 0,
	  0 },
	{ "MODULE LOAD /x.so secret", "U - S", NULL, 0, 0 },
	/* unknown */
	{ "NOSUCH a b", "S S", "S S", 0, ST(UNKNOWN) },
	{ "JSON.SET k $ 1", "S S S", NULL, 0, ST(UNKNOWN) },
	/* arity */
	{ "GET", "", NULL, 0, ST(ARITY) },
	{ "GET a b", "- -", "- -", 0, ST(ARITY) },
	{ "SET k", "-", NULL, 0, ST(ARITY) },
	{ "MSET a", "-", NULL, 0, ST(ARITY) },
	{ "OBJECT ENCODING", "U", NULL, 0, ST(ARITY) },
	{ "OBJECT ENCODING a b", "U - -", NULL, 0, ST(ARITY) },
	{ "SELECT 1 2", "- -", NULL, 0, ST(ARITY) },
};

/* 2023-11-14T22:13:20Z, between the samples' "past" and "future" times. */
#define NOW_NS (1700000000000ull * 1000000ull + 5000000ull)

static void test_samples(void)
{
	for (size_t i = 0; i < CT_ARRAY_LEN(samples); i++) {
		const struct sample *s = &samples[i];
		struct argv a;
		split(&a, s->line);
		struct run known, inl;
		run_cmd(&known, &a, 1, NOW_NS);
		run_cmd(&inl, &a, 0, NOW_NS);
		is_str(known.final, s->final, "%s", s->line);
		if (strcmp(inl.final, s->final) != 0)
			is_str(inl.final, s->final, "%s (argc known only at the end)", s->line);
		if (s->prov)
			is_str(known.prov, s->prov, "%s: provisional", s->line);
		if (!known.contract_ok || !inl.contract_ok)
			ok(0, "%.60s: contract: %.90s / %.90s", s->line, known.why, inl.why);
		if (s->eff != ANY) {
			if (known.st.eff != s->eff || inl.st.eff != s->eff)
				is_int(known.st.eff | (inl.st.eff != known.st.eff ? 1u << 31 : 0),
				       s->eff, "%s: effects", s->line);
		}
		if (s->status != ANY) {
			if (known.st.status != s->status || inl.st.status != s->status)
				is_int(known.st.status | (inl.st.status != known.st.status ? 1u << 31 : 0),
				       s->status, "%s: status", s->line);
		}
		int unknown = known.st.top == NULL;
		if (unknown != (known.begin_rc == CT_EUNSUP))
			is_int(known.begin_rc, unknown ? CT_EUNSUP : 0, "%s: begin", s->line);
		argv_free(&a);
	}
}

/* The values commands carry, and the command-level class. */
static struct run *classify_line(const char *line, int known)
{
	static struct run r;
	struct argv a;
	split(&a, line);
	run_cmd(&r, &a, known, NOW_NS);
	argv_free(&a);
	return &r;
}

static void test_values(void)
{
	struct run *r;
	r = classify_line("SELECT 7", 1);
	is_int(r->st.db, 7, "SELECT 7: db");
	r = classify_line("SWAPDB 2 9", 0);
	is_int(r->st.db, 2, "SWAPDB: db");
	is_int(r->st.db2, 9, "SWAPDB: db2");
	is_int(ct_redis_cmd_class(&r->st), CT_CLASS_FLUSH, "SWAPDB is a flush");
	r = classify_line("HELLO 3 SETNAME x", 1);
	is_int(r->st.proto, 3, "HELLO 3: proto");
	r = classify_line("HELLO", 1);
	is_int(r->st.proto, 0, "HELLO: no switch");
	r = classify_line("CLIENT REPLY SKIP", 1);
	is_int(r->st.reply_mode, CT_REDIS_REPLY_SKIP, "CLIENT REPLY SKIP");
	r = classify_line("CLIENT TRACKING on REDIRECT 42 BCAST OPTIN OPTOUT NOLOOP PREFIX a", 1);
	is_int(r->st.tracking, 1, "tracking on");
	is_int(r->st.redirect, 42, "tracking redirect");
	is_int(r->st.tracking_opts,
	       CT_REDIS_TRK_REDIRECT | CT_REDIS_TRK_BCAST | CT_REDIS_TRK_OPTIN |
		       CT_REDIS_TRK_OPTOUT | CT_REDIS_TRK_NOLOOP | CT_REDIS_TRK_PREFIX,
	       "tracking options");
	r = classify_line("CLIENT TRACKING on REDIRECT x", 1);
	is_int(r->st.eff, 0, "tracking with a bad redirect is rejected");
	r = classify_line("CLIENT CACHING no", 1);
	is_int(r->st.caching, 0, "caching no");
	is_int(r->st.eff, CT_REDIS_EFF_CACHING, "caching effect");
	r = classify_line("REPLCONF listening-port 6380", 0);
	is_int(r->st.listen_port, 6380, "REPLCONF listening-port");
	r = classify_line("REPLCONF listening-port 99999", 1);
	is_int(r->st.listen_port, -1, "REPLCONF listening-port out of range");
	r = classify_line("COPY a b DB 12", 1);
	is_int(r->st.db2, 12, "COPY DB");

	struct {
		const char *line;
		unsigned cls;
	} cc[] = {
		{ "FLUSHDB", CT_CLASS_FLUSH },     { "FLUSHALL ASYNC", CT_CLASS_FLUSH },
		{ "PING", CT_CLASS_OTHER },        { "GET k", CT_CLASS_READ },
		{ "SET k v", CT_CLASS_WRITE },     { "DEL k", CT_CLASS_DELETE },
		{ "EXPIRE k 5", CT_CLASS_EXPIRE }, { "EXPIRE k -5", CT_CLASS_DELETE },
		{ "PUBLISH c m", CT_CLASS_PUBLISH }, { "NOSUCH", CT_CLASS_OTHER },
		{ "EVAL s 0", CT_CLASS_WRITE },    { "KEYS *", CT_CLASS_OTHER },
		{ "ZUNIONSTORE d 1 a", CT_CLASS_WRITE }, { "XREAD STREAMS s 0", CT_CLASS_READ },
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(cc); i++) {
		r = classify_line(cc[i].line, 1);
		is_str(ct_class_name(ct_redis_cmd_class(&r->st)), ct_class_name(cc[i].cls),
		       "class of '%s'", cc[i].line);
	}
	is_str(ct_redis_role_name(CT_REDIS_ARG_KEY), "KEY", "role name");
	is_str(ct_redis_role_name(99), "?", "role name out of range");
}

/* EXPIREAT / GETEX EXAT against the capture time. */
static void test_now(void)
{
	struct {
		const char *line;
		uint64_t now_ns;
		const char *want;
	} cases[] = {
		{ "EXPIREAT k 1700000000", NOW_NS, "Kd -" },
		{ "EXPIREAT k 1700000001", NOW_NS, "Ke -" },
		{ "EXPIREAT k 1700000001", 0, "Ke -" },
		{ "EXPIREAT k 0", 0, "Kd -" },
		{ "EXPIREAT k -3", 0, "Kd -" },
		{ "PEXPIREAT k 1700000000005", NOW_NS, "Kd -" },
		{ "PEXPIREAT k 1700000000006", NOW_NS, "Ke -" },
		{ "GETEX k EXAT 1700000000", NOW_NS, "Kd - -" },
		{ "GETEX k EXAT 1700000000", 0, "Ke - -" },
		{ "GETEX k PXAT 1700000000006", NOW_NS, "Ke - -" },
		{ "GETEX k EX 1", NOW_NS, "Ke - -" },
		{ "GETEX k EX -1", NOW_NS, "Ke - -" },
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(cases); i++) {
		struct argv a;
		split(&a, cases[i].line);
		struct run r;
		run_cmd(&r, &a, 1, cases[i].now_ns);
		is_str(r.final, cases[i].want, "%s at %llu", cases[i].line,
		       (unsigned long long)cases[i].now_ns);
		argv_free(&a);
	}
}

/* Arguments cut by the decoder: keys stay keys, keywords and numbers stop matching, ACL rules
 * and CONFIG SET parameters we cannot read whole make secrets. */
static void test_truncated(void)
{
	struct {
		const char *line;
		int cut;         /* which argument is cut */
		uint64_t full;   /* its full length */
		const char *want;
		uint32_t status;
	} cases[] = {
		{ "GET kkkk", 1, 100000, "Kr", 0 },
		{ "MSET a 1 b 2", 2, 900, "Kw Vw Kw Vw", 0 },
		{ "XREAD STREAMS a 0", 1, 600, "- - -", CT_REDIS_ST_SYNTAX },
		{ "EVAL s 1 k", 2, 700, "- - -", CT_REDIS_ST_SYNTAX },
		{ "EXPIRE k 0", 2, 600, "Ke -", 0 },
		{ "SORT k STORE d", 2, 513, "Kr - -", 0 },
		{ "ACL SETUSER u on", 3, 1000, "U - S", 0 },
		{ "CONFIG SET maxmemory 1", 2, 1000, "U - S", 0 },
		{ "OBJECT ENCODING k", 1, 700, "S S", CT_REDIS_ST_UNKNOWN_SUB },
		{ "MIGRATE h 1 \"\" 0 1 KEYS a", 6, 600, "- - - - - S S", CT_REDIS_ST_SYNTAX },
		{ "HELLO 3 AUTH u p", 2, 600, "- S S S", CT_REDIS_ST_SYNTAX },
	};
	for (size_t i = 0; i < CT_ARRAY_LEN(cases); i++) {
		struct argv a;
		split(&a, cases[i].line);
		a.full[cases[i].cut] = cases[i].full;
		const char *want = cases[i].want;
		for (int known = 0; known <= 1; known++) {
			struct run r;
			run_cmd(&r, &a, known, NOW_NS);
			is_str(r.final, want, "%s with argument %d cut (%s)", cases[i].line,
			       cases[i].cut, known ? "argc known" : "inline");
			is_int(r.st.status, cases[i].status, "... status");
			ok(r.contract_ok, "... contract (%.200s)", r.why);
		}
		argv_free(&a);
	}
	/* A name cut by the decoder is no command. */
	struct ct_redis_cmdstate st;
	struct ct_redis_arg out;
	is_int(ct_redis_cmd_begin(&st, (const uint8_t *)"GETDEL", 5, 2), CT_EUNSUP,
	       "a command name prefix is unknown");
	is_int(ct_redis_cmd_arg(&st, 1, (const uint8_t *)"k", 1, 1, &out), 0, "... arg");
	ok(out.secret && out.role == CT_REDIS_ARG_PLAIN, "... its arguments are secret");
	/* len > full_len is clamped, p == NULL is an empty argument. */
	ct_redis_cmd_begin(&st, (const uint8_t *)"GET", 3, 2);
	is_int(ct_redis_cmd_arg(&st, 1, NULL, 5, 0, &out), 0, "NULL argument");
	ok(out.role == CT_REDIS_ARG_KEY, "an empty key is still a key");
}

/* The caller gets the order wrong: nothing is a key any more, everything is secret. */
static void test_order(void)
{
	struct ct_redis_cmdstate st;
	struct ct_redis_arg out;
	const uint8_t *k = (const uint8_t *)"k";
	ct_redis_cmd_begin(&st, (const uint8_t *)"DEL", 3, 4);
	is_int(ct_redis_cmd_arg(&st, 1, k, 1, 1, &out), 0, "DEL: arg 1");
	is_int(ct_redis_cmd_arg(&st, 3, k, 1, 1, &out), CT_EINVAL, "skipping arg 2 is refused");
	ok(out.secret, "... and the argument is secret");
	is_int(ct_redis_cmd_arg(&st, 2, k, 1, 1, &out), CT_EINVAL, "... and so is what follows");
	ct_redis_cmd_end(&st, -1, 0);
	ok(st.status & CT_REDIS_ST_ORDER, "... status ORDER");
	ct_redis_cmd_final(&st, 1, &out);
	is_int(out.role, CT_REDIS_ARG_PLAIN, "... and no keys");

	ct_redis_cmd_begin(&st, (const uint8_t *)"GET", 3, 2);
	is_int(ct_redis_cmd_arg(&st, 1, k, 1, 1, &out), 0, "GET: arg 1");
	is_int(ct_redis_cmd_arg(&st, 2, k, 1, 1, &out), CT_EINVAL, "more args than argc");

	ct_redis_cmd_begin(&st, (const uint8_t *)"MGET", 4, -1);
	is_int(ct_redis_cmd_arg(&st, 1, k, 1, 1, &out), 0, "MGET: arg 1");
	ct_redis_cmd_end(&st, 3, 0);
	ok(st.status & CT_REDIS_ST_ORDER, "ending with fewer args than declared is ORDER");
	is_int(ct_redis_cmd_arg(&st, 2, k, 1, 1, &out), CT_EINVAL, "no args after the end");

	ct_redis_cmd_begin(&st, (const uint8_t *)"GET", 3, 2);
	ct_redis_cmd_arg(&st, 1, k, 1, 1, &out);
	ct_redis_cmd_end(&st, -1, 0);
	ct_redis_cmd_final(&st, 0, &out);
	is_int(out.role, CT_REDIS_ARG_PLAIN, "argument 0 (the name) is plain");
	ct_redis_cmd_final(&st, 7, &out);
	is_int(out.role, CT_REDIS_ARG_PLAIN, "an index past argc is plain");
	is_int(st.status, 0, "GET k is fine");
	ct_redis_cmd_end(&st, 5, 0);
	is_int(st.argc, 2, "a second end() changes nothing");
}

/* ---- random walk: the contract holds for anything, and nothing is read out of bounds ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void test_random(void)
{
	static const char *const words[] = {
		"k", "", "0", "1", "2", "3", "-1", "01", "x", "STREAMS", "streams", "KEYS", "STORE",
		"STOREDIST", "AUTH", "AUTH2", "COPY", "REPLACE", "DB", "GET", "BY", "LIMIT", "SET",
		"INCRBY", "EX", "PX", "EXAT", "PXAT", "PERSIST", "COUNT", "BLOCK", "GROUP", "NOACK",
		"ON", "OFF", "SKIP", "REDIRECT", "PREFIX", "BCAST", "SETNAME", "listening-port",
		"ACK", "requirepass", ">pw", "9223372036854775807", "-9223372036854775808",
		"99999999999999999999", "1700000000000", "ENCODING", "USAGE", "STREAM", "CREATE",
	};
	size_t ncmd = 0;
	const struct ct_redis_cmd *t = ct_redis_cmd_table(&ncmd);
	int iters = 20000, bad = 0, secrets_differ = 0;
	for (int it = 0; it < iters; it++) {
		struct argv a;
		memset(&a, 0, sizeof a);
		const struct ct_redis_cmd *c = &t[rnd((uint32_t)ncmd)];
		int argc = 1 + (int)rnd(12);
		for (int i = 0; i < argc; i++) {
			const char *w;
			if (i == 0)
				w = c->name;
			else if (i == 1 && c->subs && rnd(4))
				w = c->subs[rnd(c->nsubs)].name;
			else
				w = words[rnd((uint32_t)CT_ARRAY_LEN(words))];
			size_t n = strlen(w);
			a.p[i] = ct_malloc(n ? n : 1);
			if (!a.p[i])
				abort();
			memcpy(a.p[i], w, n);
			a.len[i] = n;
			a.full[i] = rnd(20) ? n : n + 1000; /* now and then: cut */
		}
		a.argc = argc;
		struct run known, inl;
		run_cmd(&known, &a, 1, rnd(2) ? NOW_NS : 0);
		run_cmd(&inl, &a, 0, NOW_NS);
		if (!known.contract_ok || !inl.contract_ok) {
			if (bad++ < 5)
				diag("contract broken by '%s' (%d args): %s%s", c->name, argc,
				     known.why, inl.why);
		}
		/* Secrets never depend on whether argc was known. */
		if (memcmp(known.secret, inl.secret, sizeof known.secret) != 0)
			secrets_differ = 1;
		argv_free(&a);
	}
	is_int(bad, 0, "provisional/final contract holds over %d random commands", iters);
	ok(!secrets_differ, "secrets are the same with and without argc");
}

int main(void)
{
	test_table();
	test_lookup();
	test_samples();
	test_values();
	test_now();
	test_truncated();
	test_order();
	test_random();
	return done_testing();
}
