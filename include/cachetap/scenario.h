/* Scenario files for `cachetap drive` (IFACES C): a line-oriented test script, parsed into a
 * flat list of steps that src/drive.c runs.
 *
 *   # a comment (only at the start of a line, so bodies and keys may hold '#')
 *   base http://127.0.0.1:8080                 the API; declarations (base, header, node) are
 *   header X-Team: qa                          global, top level only, and apply to the whole
 *   node r0 redis://127.0.0.1:7001             scenario wherever they stand
 *   node m0 memcached://127.0.0.1:7101
 *   let id = 42                                a variable; {id} is replaced in later arguments
 *   call PUT /items/{id} {"name":"v{i}"}       METHOD PATH [BODY = rest of the line]
 *   expect status 200                          on the call before it
 *   spawn GET /items/{id}?node=m0              a call in the background (METHOD PATH [BODY]);
 *                                              no expect applies to it
 *   await                                      waits until every spawned call has finished
 *   expect json .name == "v{i}"                dotted path (.a.0.b), == or !=, a JSON literal
 *   check r0 GET item:{id} == nil              redis GET/TTL/EXISTS; memcached get/mg
 *   check all GET item:{id} != any             all = every node of the command's protocol
 *   sleep 50ms                                 ns, us, ms, s (decimals allowed: 1.5s)
 *   wait invalidation item:{id} on r0,m0 within 500ms     (or: on all; measured from the
 *                                              last write call before it)
 *   repeat i 1..20                             inclusive, nested up to CT_SCENARIO_MAX_DEPTH
 *   end
 *
 * A variable reference is '{' NAME '}' with NAME a known variable ([A-Za-z_][A-Za-z0-9_]*);
 * any other '{' is literal text, so JSON bodies need no escaping. Variables are expanded when
 * a step runs (loop counters change), in every argument of a step; declarations are literal.
 *
 * Every error is one line "FILE:LINE: what is wrong". Limits: limits.h, CT_SCENARIO_*. */
#ifndef CACHETAP_SCENARIO_H
#define CACHETAP_SCENARIO_H

#include <stdint.h>

#include "cachetap/buf.h"
#include "cachetap/common.h"

enum ct_scn_proto { CT_SCN_REDIS = 1, CT_SCN_MEMCACHED = 2 };

struct ct_scn_node {
	char *name;
	char *host;     /* as written: a name, an IPv4 address, or IPv6 without its brackets */
	uint16_t port;
	uint8_t proto;  /* enum ct_scn_proto */
	uint32_t line;
};

enum ct_scn_kind {
	CT_SCN_CALL = 1,
	CT_SCN_EXPECT_STATUS,
	CT_SCN_EXPECT_JSON,
	CT_SCN_CHECK,
	CT_SCN_SLEEP,
	CT_SCN_WAIT,
	CT_SCN_LET,
	CT_SCN_REPEAT,
	CT_SCN_END,
	CT_SCN_SPAWN, /* a call in the background: method, path, body as for CT_SCN_CALL */
	CT_SCN_AWAIT,
};

/* What a check sends. Redis: GET, TTL, EXISTS; memcached: get (text), mg KEY v (meta). */
enum ct_scn_cmd { CT_SCN_CMD_GET = 1, CT_SCN_CMD_TTL, CT_SCN_CMD_EXISTS, CT_SCN_CMD_MC_GET,
		  CT_SCN_CMD_MC_MG };

#define CT_SCN_ALL_NODES (-1)

/* One step. Text fields are templates: expand them with ct_scenario_expand() when the step
 * runs. Fields not named for a kind are zero/NULL. */
struct ct_scn_step {
	uint8_t kind;     /* enum ct_scn_kind */
	uint8_t negate;   /* expect json, check: the operator is != */
	uint8_t cmd;      /* check: enum ct_scn_cmd */
	uint8_t proto;    /* check: the protocol of cmd (enum ct_scn_proto) */
	uint32_t line;    /* 1-based line in the file */
	int32_t node;     /* check: node index, or CT_SCN_ALL_NODES (every node of proto) */
	uint64_t nodes;   /* wait: bitmap of node indexes */
	uint32_t var;     /* let, repeat: variable index */
	uint32_t jump;    /* repeat: index of its end; end: index of its repeat */
	int64_t from, to; /* repeat: inclusive range, from <= to */
	int status;       /* expect status */
	uint64_t ns;      /* sleep, wait: duration */
	char *method;     /* call, spawn: upper-case method */
	char *path;       /* call, spawn: starts with '/'; expect json: ".a.b" ("." = the whole
			     body) */
	char *body;       /* call, spawn: NULL when none */
	char *value;      /* expect json: JSON literal; check: nil, any, "string" or integer;
			     let: the value */
	char *key;        /* check, wait */
};

struct ct_scenario {
	char *file;              /* the name errors print */
	char *base;              /* base URL, NULL when the scenario has none */
	uint32_t base_line;
	char **headers;          /* "Name: value" as written */
	uint32_t nheaders;
	struct ct_scn_node *nodes;
	uint32_t nnodes;
	char **vars;             /* variable names; a step's var indexes this */
	uint32_t nvars;
	struct ct_scn_step *steps;
	uint32_t nsteps;
	uint32_t first_wait_line; /* line of the first `wait invalidation`, 0 when none */
};

/* Parses `len` bytes of scenario text. `file` is the name used in messages. On error returns
 * a negative code and writes "FILE:LINE: what is wrong" into err. */
int ct_scenario_parse(const char *file, const char *text, size_t len, struct ct_scenario **out,
		      char *err, size_t errlen) CT_WUR;

/* Reads and parses a file (at most CT_SCENARIO_FILE_MAX_BYTES). */
int ct_scenario_load(const char *path, struct ct_scenario **out, char *err, size_t errlen) CT_WUR;

void ct_scenario_free(struct ct_scenario *s);

/* Replaces each {NAME} of tmpl with values[index of NAME] (NULL values expand to "") and
 * appends the result to out, whose own cap applies too. Fails with CT_ELIMIT past
 * CT_SCENARIO_VALUE_MAX_BYTES. */
int ct_scenario_expand(const struct ct_scenario *s, const char *const *values, const char *tmpl,
		       struct ct_buf *out) CT_WUR;

/* "50ms" -> 50000000. Units ns, us, ms, s; an integer or a decimal; more than 0 and at most
 * CT_SCENARIO_DURATION_MAX_NS. Returns 0 or CT_EINVAL. */
int ct_scenario_duration(const char *text, uint64_t *ns) CT_WUR;

/* The name of a check command as a scenario writes it: "GET", "get", "mg", ... */
const char *ct_scenario_cmd_name(unsigned cmd);

#endif
