/* cmdkeys: shows what cachetap's Redis command table (src/cmdtab_redis.c) makes of a command
 * line, and checks the table against a live Redis server.
 *
 * Usage:
 *   cmdkeys [-i] CMD [ARG...]      the final keys, one per line, in argument order, like
 *                                  `redis-cli COMMAND GETKEYS CMD ARG...` prints them
 *   cmdkeys -v [-i] CMD [ARG...]   every argument: index, role, class, pending (provisional),
 *                                  secret; then the effects and status
 *   cmdkeys --check PORT [FILE]    TAP against the Redis server on 127.0.0.1:PORT (hiredis):
 *                                  every command and subcommand the server has is in the table
 *                                  with the same arity, key range and flags; then for every
 *                                  line of FILE ('-' = stdin; space-separated arguments, ""
 *                                  for an empty one, '#' comments) our keys equal what
 *                                  COMMAND GETKEYS answers (an error answer = no keys), with
 *                                  argc known up front and with argc known only at the end.
 *   -i: classify as an inline command (argc known only at the end).
 *
 * Exit status: 0, 1 when a check failed, 2 on bad usage or when the server is unreachable. */
#include <hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/cmdtab_redis.h"

#define MAX_ARGS 256

struct cmdline {
	int argc;
	const char *argv[MAX_ARGS];
	size_t len[MAX_ARGS];
};

/* Our final keys of the command line, as indexes into it. */
static int our_keys(const struct cmdline *cl, int known, int *keys, struct ct_redis_cmdstate *st,
		    int verbose)
{
	struct ct_redis_arg a;
	int kept[MAX_ARGS] = { 0 };
	(void)ct_redis_cmd_begin(st, (const uint8_t *)cl->argv[0], cl->len[0],
				 known ? cl->argc : -1);
	for (int i = 1; i < cl->argc; i++) {
		(void)ct_redis_cmd_arg(st, (uint32_t)i, (const uint8_t *)cl->argv[i], cl->len[i],
				       cl->len[i], &a);
		kept[i] = !a.secret && a.role == CT_REDIS_ARG_KEY;
		if (verbose)
			printf("%d %s %s%s%s%s '%.*s'\n", i, ct_redis_role_name(a.role),
			       ct_class_name(a.cls), a.pending ? " pending" : "",
			       a.secret ? " secret" : "", a.db >= 0 ? " db" : "",
			       a.secret ? 3 : (int)cl->len[i], a.secret ? "***" : cl->argv[i]);
	}
	ct_redis_cmd_end(st, cl->argc, 0);
	int n = 0;
	for (int i = 1; i < cl->argc; i++) {
		ct_redis_cmd_final(st, (uint32_t)i, &a);
		if (verbose)
			printf("final %d %s %s db=%d key_index=%u\n", i, ct_redis_role_name(a.role),
			       ct_class_name(a.cls), (int)a.db, a.key_index);
		if (a.role == CT_REDIS_ARG_KEY && kept[i])
			keys[n++] = i;
	}
	return n;
}

static int classify_main(int argc, char **argv, int known, int verbose)
{
	struct cmdline cl = { 0 };
	for (int i = 0; i < argc && cl.argc < MAX_ARGS; i++) {
		cl.argv[cl.argc] = argv[i];
		cl.len[cl.argc++] = strlen(argv[i]);
	}
	struct ct_redis_cmdstate st;
	int keys[MAX_ARGS];
	int n = our_keys(&cl, known, keys, &st, verbose);
	if (verbose) {
		printf("command %s%s%s class %s eff 0x%x status 0x%x\n",
		       st.top ? st.top->name : "(unknown)", st.cmd != st.top ? " " : "",
		       st.cmd != st.top ? st.cmd->name : "", ct_class_name(ct_redis_cmd_class(&st)),
		       st.eff, st.status);
		return 0;
	}
	for (int i = 0; i < n; i++)
		printf("%s\n", cl.argv[keys[i]]);
	return 0;
}

/* ---- --check ---- */

static int tap_n, tap_fail;

__attribute__((format(printf, 2, 3))) static void tap(int cond, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	if (!cond)
		tap_fail++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const struct {
	const char *name;
	uint32_t bit;
} flag_names[] = {
	{ "write", CT_REDIS_CMD_WRITE },       { "readonly", CT_REDIS_CMD_READONLY },
	{ "admin", CT_REDIS_CMD_ADMIN },       { "pubsub", CT_REDIS_CMD_PUBSUB },
	{ "blocking", CT_REDIS_CMD_BLOCKING }, { "skip_monitor", CT_REDIS_CMD_SKIP_MONITOR },
	{ "no_auth", CT_REDIS_CMD_NO_AUTH },   { "no_multi", CT_REDIS_CMD_NO_MULTI },
	{ "movablekeys", CT_REDIS_CMD_MOVABLEKEYS },
};

/* One COMMAND entry: [name, arity, [flags], first, last, step, [acl], [tips], [specs],
 * [subcommands]]. Returns the number of mismatches. */
static int check_entry(const redisReply *e, const struct ct_redis_cmd *parent, int *count)
{
	char what[160], name[96];
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 6 ||
	    e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_INTEGER) {
		tap(0, "malformed COMMAND entry");
		return 1;
	}
	snprintf(name, sizeof name, "%s", e->element[0]->str);
	const char *sub = strchr(name, '|');
	const char *leaf = sub ? sub + 1 : name;
	const struct ct_redis_cmd *c =
		parent ? ct_redis_cmd_lookup_sub(parent, (const uint8_t *)leaf, strlen(leaf))
		       : ct_redis_cmd_lookup((const uint8_t *)leaf, strlen(leaf));
	(*count)++;
	if (!c) {
		tap(0, "%s is in the table", name);
		return 1;
	}
	int bad = 0;
	long long arity = e->element[1]->integer;
	long long first = e->element[3]->integer, last = e->element[4]->integer,
		  step = e->element[5]->integer;
	uint32_t flags = 0;
	const redisReply *fl = e->element[2];
	for (size_t i = 0; fl->type == REDIS_REPLY_ARRAY && i < fl->elements; i++) {
		const redisReply *f = fl->element[i];
		if (f->type != REDIS_REPLY_STATUS && f->type != REDIS_REPLY_STRING)
			continue;
		for (size_t k = 0; k < sizeof flag_names / sizeof flag_names[0]; k++)
			if (strcmp(f->str, flag_names[k].name) == 0)
				flags |= flag_names[k].bit;
	}
	int channels = c->handler == CT_REDIS_H_CHANNEL || c->handler == CT_REDIS_H_PATTERN;
	if (arity != c->arity) {
		snprintf(what, sizeof what, "arity %lld, table %d", arity, c->arity);
		bad++;
	} else if (!channels && (first != c->first || last != c->last || step != c->step)) {
		snprintf(what, sizeof what, "key range %lld %lld %lld, table %d %d %d", first, last,
			 step, c->first, c->last, c->step);
		bad++;
	} else if (flags != (c->flags & ~CT_REDIS_CMD_CONTAINER)) {
		snprintf(what, sizeof what, "flags 0x%x, table 0x%x", flags,
			 c->flags & ~CT_REDIS_CMD_CONTAINER);
		bad++;
	} else {
		snprintf(what, sizeof what, "arity, key range and flags match");
	}
	tap(!bad, "%s: %s", name, what);
	if (e->elements >= 10 && e->element[9]->type == REDIS_REPLY_ARRAY) {
		const redisReply *subs = e->element[9];
		if (subs->elements && !(c->flags & CT_REDIS_CMD_CONTAINER)) {
			tap(0, "%s has subcommands", name);
			bad++;
		}
		for (size_t i = 0; i < subs->elements; i++)
			bad += check_entry(subs->element[i], c, count);
	}
	return bad;
}

static void sort_strings(const char **v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Splits a sample line in place on single spaces; "" is an empty argument. */
static int split_line(char *line, struct cmdline *cl)
{
	cl->argc = 0;
	char *s = line;
	while (*s && cl->argc < MAX_ARGS) {
		char *e = strchr(s, ' ');
		if (e)
			*e = '\0';
		if (strcmp(s, "\"\"") == 0)
			*s = '\0';
		cl->argv[cl->argc] = s;
		cl->len[cl->argc++] = strlen(s);
		if (!e)
			break;
		s = e + 1;
	}
	return cl->argc;
}

static void check_sample(redisContext *rc, char *line)
{
	struct cmdline cl;
	char shown[256];
	snprintf(shown, sizeof shown, "%.200s", line);
	if (split_line(line, &cl) == 0)
		return;
	const char *argv[MAX_ARGS + 2];
	size_t lens[MAX_ARGS + 2];
	argv[0] = "COMMAND";
	lens[0] = 7;
	argv[1] = "GETKEYS";
	lens[1] = 7;
	for (int i = 0; i < cl.argc; i++) {
		argv[i + 2] = cl.argv[i];
		lens[i + 2] = cl.len[i];
	}
	redisReply *r = redisCommandArgv(rc, cl.argc + 2, argv, lens);
	const char *theirs[MAX_ARGS];
	int nt = 0;
	if (!r) {
		tap(0, "%s: no answer from the server", shown);
		return;
	}
	if (r->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i < r->elements && nt < MAX_ARGS; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				theirs[nt++] = r->element[i]->str;
	sort_strings(theirs, nt);
	for (int known = 1; known >= 0; known--) {
		struct ct_redis_cmdstate st;
		int keys[MAX_ARGS];
		int n = our_keys(&cl, known, keys, &st, 0);
		const char *ours[MAX_ARGS];
		for (int i = 0; i < n; i++)
			ours[i] = cl.argv[keys[i]];
		sort_strings(ours, n);
		int same = n == nt;
		for (int i = 0; same && i < n; i++)
			same = strcmp(ours[i], theirs[i]) == 0;
		char got[256] = "", want[256] = "";
		for (int i = 0; i < n; i++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
				 ours[i]);
		for (int i = 0; i < nt; i++)
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
				 i ? "," : "", theirs[i]);
		char name[300];
		snprintf(name, sizeof name, "%s%s", shown, known ? "" : " (inline)");
		tap(same, "%s: keys [%s]", name, got);
		if (!same)
			printf("#   COMMAND GETKEYS says [%s]%s%s\n", want,
			       r->type == REDIS_REPLY_ERROR ? ": " : "",
			       r->type == REDIS_REPLY_ERROR ? r->str : "");
	}
	freeReplyObject(r);
}

static int check_main(const char *port_s, const char *file)
{
	int port = atoi(port_s);
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "cmdkeys: bad port '%s'\n", port_s);
		return 2;
	}
	redisContext *rc = redisConnect("127.0.0.1", port);
	if (!rc || rc->err) {
		fprintf(stderr, "cmdkeys: cannot connect to 127.0.0.1:%d: %s\n", port,
			rc ? rc->errstr : "out of memory");
		if (rc)
			redisFree(rc);
		return 2;
	}
	redisReply *r = redisCommand(rc, "COMMAND");
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "cmdkeys: COMMAND failed\n");
		if (r)
			freeReplyObject(r);
		redisFree(rc);
		return 2;
	}
	int count = 0;
	for (size_t i = 0; i < r->elements; i++)
		check_entry(r->element[i], NULL, &count);
	size_t ntab = 0;
	const struct ct_redis_cmd *t = ct_redis_cmd_table(&ntab);
	int ours = 0;
	for (size_t i = 0; i < ntab; i++)
		ours += 1 + t[i].nsubs;
	printf("# server: %d commands and subcommands; table: %d (the rest are newer)\n", count,
	       ours);
	freeReplyObject(r);

	if (file) {
		FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
		if (!f) {
			fprintf(stderr, "cmdkeys: cannot open %s\n", file);
			redisFree(rc);
			return 2;
		}
		char line[4096];
		while (fgets(line, sizeof line, f)) {
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0] == '\0' || line[0] == '#')
				continue;
			check_sample(rc, line);
		}
		if (f != stdin)
			fclose(f);
	}
	redisFree(rc);
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: cmdkeys [-v] [-i] CMD [ARG...]\n"
		    "       cmdkeys --check PORT [FILE|-]\n");
}

int main(int argc, char **argv)
{
	int known = 1, verbose = 0, i = 1;
	if (argc >= 2 && strcmp(argv[1], "--check") == 0) {
		if (argc < 3 || argc > 4) {
			usage(stderr);
			return 2;
		}
		return check_main(argv[2], argc == 4 ? argv[3] : NULL);
	}
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "-i") == 0)
			known = 0;
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	return classify_main(argc - i, argv + i, known, verbose);
}
