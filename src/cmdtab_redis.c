/* The Redis command table and the incremental argument classifier (cmdtab_redis.h): which
 * arguments are keys, with which event class, which are secrets, and what each command does to
 * the connection. Spec: SPEC section 3; the table follows what a Redis 7.0 server answers to
 * COMMAND / COMMAND DOCS / COMMAND GETKEYS, plus the redis.io reference for later commands.
 *
 * Limits: command and subcommand names longer than CT_CMDTAB_REDIS_NAME_MAX_BYTES are unknown;
 * integer arguments longer than CT_CMDTAB_REDIS_NUM_MAX_BYTES (or cut by the decoder) are not
 * numbers. There is nothing to run out of: the state is a few fixed fields, nothing is
 * allocated, and every argument is read only within its explicit (p, len). */
#include <stdint.h>
#include <string.h>

#include "cachetap/cmdtab_redis.h"

/* ---- the table ----
 *
 * One row per command, sorted by name (binary search; a unit test checks the order):
 *
 *   name, arity, first, last, step   as Redis reports them (COMMAND INFO), except that the
 *                                    channel commands have their channels as a "range"
 *   cls, rest                        class of the first key, of the other keys (R W D E F P O)
 *   handler, kidx                    per-argument handler for value-dependent keys and effects,
 *                                    and its index parameter (enum ct_redis_handler)
 *   voff                             the value written to key i is argument i + voff
 *   eff                              effects the command always has (CT_REDIS_EFF_*)
 *   flags                            CT_REDIS_CMD_*
 *
 * Classes are derived from Redis's flags (write -> W, readonly -> R, else O) and overridden
 * where SPEC section 3 says more: DEL/UNLINK/GETDEL/MOVE delete, the EXPIRE family and PERSIST
 * expire, RENAME deletes its source, *STORE commands read their sources, and so on (the header
 * lists them). */

#define R CT_CLASS_READ
#define W CT_CLASS_WRITE
#define D CT_CLASS_DELETE
#define E CT_CLASS_EXPIRE
#define F CT_CLASS_FLUSH
#define P CT_CLASS_PUBLISH
#define O CT_CLASS_OTHER

#define F_WRITE CT_REDIS_CMD_WRITE
#define F_READONLY CT_REDIS_CMD_READONLY
#define F_ADMIN CT_REDIS_CMD_ADMIN
#define F_PUBSUB CT_REDIS_CMD_PUBSUB
#define F_BLOCKING CT_REDIS_CMD_BLOCKING
#define F_SKIP_MONITOR CT_REDIS_CMD_SKIP_MONITOR
#define F_NO_AUTH CT_REDIS_CMD_NO_AUTH
#define F_NO_MULTI CT_REDIS_CMD_NO_MULTI
#define F_MOVABLEKEYS CT_REDIS_CMD_MOVABLEKEYS
#define F_CONTAINER CT_REDIS_CMD_CONTAINER

#define EF_HELLO CT_REDIS_EFF_HELLO
#define EF_AUTH CT_REDIS_EFF_AUTH
#define EF_SUBSCRIBE CT_REDIS_EFF_SUBSCRIBE
#define EF_UNSUBSCRIBE CT_REDIS_EFF_UNSUBSCRIBE
#define EF_REPLY_PER_ARG CT_REDIS_EFF_REPLY_PER_ARG
#define EF_MULTI CT_REDIS_EFF_MULTI
#define EF_EXEC CT_REDIS_EFF_EXEC
#define EF_DISCARD CT_REDIS_EFF_DISCARD
#define EF_REPLICATION CT_REDIS_EFF_REPLICATION
#define EF_REPLCONF CT_REDIS_EFF_REPLCONF
#define EF_MONITOR CT_REDIS_EFF_MONITOR
#define EF_FLUSHDB CT_REDIS_EFF_FLUSHDB
#define EF_FLUSHALL CT_REDIS_EFF_FLUSHALL
#define EF_RESET CT_REDIS_EFF_RESET
#define EF_QUIT CT_REDIS_EFF_QUIT
#define EF_SHUTDOWN CT_REDIS_EFF_SHUTDOWN
#define EF_BLOCKING CT_REDIS_EFF_BLOCKING
#define EF_SCRIPT CT_REDIS_EFF_SCRIPT

#define CMD(n, ar, f, l, s, c1, c2, h, k, vo, ef, fl)                                           \
	{ .name = n, .len = sizeof(n) - 1, .arity = ar, .first = f, .last = l, .step = s,        \
	  .cls = c1, .cls_rest = c2, .handler = CT_REDIS_##h, .kidx = k, .value_off = vo,         \
	  .eff = ef, .flags = fl }
#define CMDS(n, ar, f, l, s, c1, c2, h, k, vo, ef, fl, sub)                                     \
	{ .name = n, .len = sizeof(n) - 1, .arity = ar, .first = f, .last = l, .step = s,        \
	  .cls = c1, .cls_rest = c2, .handler = CT_REDIS_##h, .kidx = k, .value_off = vo,         \
	  .eff = ef, .flags = fl, .subs = sub, .nsubs = CT_ARRAY_LEN(sub) }

/*	name                 arity first..step  cls   handler            kidx voff  eff, flags */
static const struct ct_redis_cmd sub_acl[] = {
	CMD("CAT",                 -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("DELUSER",             -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("DRYRUN",              -4, 0, 0, 0,   O, O, H_SECRET_TAIL,     3, 0, 0, F_ADMIN),
	CMD("GENPASS",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("GETUSER",             3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("LIST",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("LOAD",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("LOG",                 -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("SAVE",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("SETUSER",             -3, 0, 0, 0,   O, O, H_ACL_SETUSER,     0, 0, 0, F_ADMIN),
	CMD("USERS",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("WHOAMI",              2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
};

static const struct ct_redis_cmd sub_client[] = {
	CMD("CACHING",             3,  0, 0, 0,   O, O, H_CLIENT_CACHING,  0, 0, 0, 0),
	CMD("GETNAME",             2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("GETREDIR",            2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("ID",                  2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("INFO",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("KILL",                -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("LIST",                -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("NO-EVICT",            3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("NO-TOUCH",            3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0), /* 7.2 */
	CMD("PAUSE",               -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("REPLY",               3,  0, 0, 0,   O, O, H_CLIENT_REPLY,    0, 0, 0, 0),
	CMD("SETINFO",             4,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0), /* 7.2 */
	CMD("SETNAME",             3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("TRACKING",            -3, 0, 0, 0,   O, O, H_CLIENT_TRACKING, 0, 0, 0, 0),
	CMD("TRACKINGINFO",        2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("UNBLOCK",             -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("UNPAUSE",             2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
};

static const struct ct_redis_cmd sub_cluster[] = {
	CMD("ADDSLOTS",            -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("ADDSLOTSRANGE",       -4, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("BUMPEPOCH",           2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("COUNT-FAILURE-REPORTS",3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("COUNTKEYSINSLOT",     3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("DELSLOTS",            -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("DELSLOTSRANGE",       -4, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("FAILOVER",            -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("FLUSHSLOTS",          2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("FORGET",              3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("GETKEYSINSLOT",       4,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("INFO",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("KEYSLOT",             3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("LINKS",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("MEET",                -4, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("MYID",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("MYSHARDID",           2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0), /* 7.2 */
	CMD("NODES",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("REPLICAS",            3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("REPLICATE",           3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("RESET",               -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("SAVECONFIG",          2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("SET-CONFIG-EPOCH",    3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("SETSLOT",             -4, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("SHARDS",              2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("SLAVES",              3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("SLOTS",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
};

static const struct ct_redis_cmd sub_command[] = {
	CMD("COUNT",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("DOCS",                -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("GETKEYS",             -4, 0, 0, 0,   O, O, H_SECRET_TAIL,     2, 0, 0, 0),
	CMD("GETKEYSANDFLAGS",     -4, 0, 0, 0,   O, O, H_SECRET_TAIL,     2, 0, 0, 0),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("INFO",                -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("LIST",                -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
};

static const struct ct_redis_cmd sub_config[] = {
	CMD("GET",                 -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("RESETSTAT",           2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("REWRITE",             2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("SET",                 -4, 0, 0, 0,   O, O, H_CONFIG_SET,      0, 0, 0, F_ADMIN),
};

static const struct ct_redis_cmd sub_function[] = {
	CMD("DELETE",              3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_WRITE),
	CMD("DUMP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("FLUSH",               -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_WRITE),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("KILL",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("LIST",                -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("LOAD",                -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_WRITE),
	CMD("RESTORE",             -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_WRITE),
	CMD("STATS",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
};

static const struct ct_redis_cmd sub_latency[] = {
	CMD("DOCTOR",              2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("GRAPH",               3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("HISTOGRAM",           -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("HISTORY",             3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("LATEST",              2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("RESET",               -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
};

static const struct ct_redis_cmd sub_memory[] = {
	CMD("DOCTOR",              2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("MALLOC-STATS",        2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("PURGE",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("STATS",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("USAGE",               -3, 2, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
};

static const struct ct_redis_cmd sub_module[] = {
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("LIST",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("LOAD",                -3, 0, 0, 0,   O, O, H_SECRET_TAIL,     3, 0, 0, F_ADMIN),
	CMD("LOADEX",              -3, 0, 0, 0,   O, O, H_SECRET_TAIL,     3, 0, 0, F_ADMIN),
	CMD("UNLOAD",              3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
};

static const struct ct_redis_cmd sub_object[] = {
	CMD("ENCODING",            3,  2, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("FREQ",                3,  2, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("IDLETIME",            3,  2, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("REFCOUNT",            3,  2, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
};

static const struct ct_redis_cmd sub_pubsub[] = {
	CMD("CHANNELS",            -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_PUBSUB),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("NUMPAT",              2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_PUBSUB),
	CMD("NUMSUB",              -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_PUBSUB),
	CMD("SHARDCHANNELS",       -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_PUBSUB),
	CMD("SHARDNUMSUB",         -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_PUBSUB),
};

static const struct ct_redis_cmd sub_script[] = {
	CMD("DEBUG",               3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("EXISTS",              -3, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("FLUSH",               -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("KILL",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("LOAD",                3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
};

static const struct ct_redis_cmd sub_slowlog[] = {
	CMD("GET",                 -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("LEN",                 2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("RESET",               2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
};

static const struct ct_redis_cmd sub_xgroup[] = {
	CMD("CREATE",              -5, 2, 2, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("CREATECONSUMER",      5,  2, 2, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("DELCONSUMER",         5,  2, 2, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("DESTROY",             4,  2, 2, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("SETID",               -5, 2, 2, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
};

static const struct ct_redis_cmd sub_xinfo[] = {
	CMD("CONSUMERS",           4,  2, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GROUPS",              3,  2, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HELP",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("STREAM",              -3, 2, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
};

static const struct ct_redis_cmd table[] = {
	CMDS("ACL",                -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_acl),
	CMD("APPEND",              3,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ASKING",              1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("AUTH",                -2, 0, 0, 0,   O, O, H_SECRET_TAIL,     1, 0,
	    EF_AUTH, F_NO_AUTH),
	CMD("BGREWRITEAOF",        1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("BGSAVE",              -1, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("BITCOUNT",            -2, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("BITFIELD",            -2, 1, 1, 1,   W, W, H_BITFIELD,        0, 0, 0, F_WRITE),
	CMD("BITFIELD_RO",         -2, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("BITOP",               -4, 2, -1, 1,  W, R, H_NONE,            0, 0, 0, F_WRITE),
	CMD("BITPOS",              -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("BLMOVE",              6,  1, 2, 1,   W, W, H_NONE,            0, 0,
	    EF_BLOCKING, F_WRITE | F_BLOCKING),
	CMD("BLMPOP",              -5, 0, 0, 0,   W, W, H_NUMKEYS,         2, 0,
	    EF_BLOCKING, F_WRITE | F_BLOCKING | F_MOVABLEKEYS),
	CMD("BLPOP",               -3, 1, -2, 1,  W, W, H_NONE,            0, 0,
	    EF_BLOCKING, F_WRITE | F_BLOCKING),
	CMD("BRPOP",               -3, 1, -2, 1,  W, W, H_NONE,            0, 0,
	    EF_BLOCKING, F_WRITE | F_BLOCKING),
	CMD("BRPOPLPUSH",          4,  1, 2, 1,   W, W, H_NONE,            0, 0,
	    EF_BLOCKING, F_WRITE | F_BLOCKING),
	CMD("BZMPOP",              -5, 0, 0, 0,   W, W, H_NUMKEYS,         2, 0,
	    EF_BLOCKING, F_WRITE | F_BLOCKING | F_MOVABLEKEYS),
	CMD("BZPOPMAX",            -3, 1, -2, 1,  W, W, H_NONE,            0, 0,
	    EF_BLOCKING, F_WRITE | F_BLOCKING),
	CMD("BZPOPMIN",            -3, 1, -2, 1,  W, W, H_NONE,            0, 0,
	    EF_BLOCKING, F_WRITE | F_BLOCKING),
	CMDS("CLIENT",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_client),
	CMDS("CLUSTER",            -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_cluster),
	CMDS("COMMAND",            -1, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_command),
	CMDS("CONFIG",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_config),
	CMD("COPY",                -3, 1, 2, 1,   R, W, H_COPY,            0, 0, 0, F_WRITE),
	CMD("DBSIZE",              1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_READONLY),
	CMD("DEBUG",               -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("DECR",                2,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("DECRBY",              3,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("DEL",                 -2, 1, -1, 1,  D, D, H_NONE,            0, 0, 0, F_WRITE),
	CMD("DISCARD",             1,  0, 0, 0,   O, O, H_NONE,            0, 0, EF_DISCARD, 0),
	CMD("DUMP",                2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ECHO",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("EVAL",                -3, 0, 0, 0,   W, W, H_NUMKEYS0,        2, 0,
	    EF_SCRIPT, F_SKIP_MONITOR | F_MOVABLEKEYS),
	CMD("EVALSHA",             -3, 0, 0, 0,   W, W, H_NUMKEYS0,        2, 0,
	    EF_SCRIPT, F_SKIP_MONITOR | F_MOVABLEKEYS),
	CMD("EVALSHA_RO",          -3, 0, 0, 0,   R, R, H_NUMKEYS0,        2, 0,
	    EF_SCRIPT, F_READONLY | F_SKIP_MONITOR | F_MOVABLEKEYS),
	CMD("EVAL_RO",             -3, 0, 0, 0,   R, R, H_NUMKEYS0,        2, 0,
	    EF_SCRIPT, F_READONLY | F_SKIP_MONITOR | F_MOVABLEKEYS),
	CMD("EXEC",                1,  0, 0, 0,   O, O, H_NONE,            0, 0, EF_EXEC, 0),
	CMD("EXISTS",              -2, 1, -1, 1,  R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("EXPIRE",              -3, 1, 1, 1,   E, E, H_EXPIRE_S,        0, 0, 0, F_WRITE),
	CMD("EXPIREAT",            -3, 1, 1, 1,   E, E, H_EXPIREAT_S,      0, 0, 0, F_WRITE),
	CMD("EXPIRETIME",          2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("FAILOVER",            -1, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("FCALL",               -3, 0, 0, 0,   W, W, H_NUMKEYS0,        2, 0,
	    EF_SCRIPT, F_SKIP_MONITOR | F_MOVABLEKEYS),
	CMD("FCALL_RO",            -3, 0, 0, 0,   R, R, H_NUMKEYS0,        2, 0,
	    EF_SCRIPT, F_READONLY | F_SKIP_MONITOR | F_MOVABLEKEYS),
	CMD("FLUSHALL",            -1, 0, 0, 0,   F, F, H_NONE,            0, 0,
	    EF_FLUSHALL, F_WRITE),
	CMD("FLUSHDB",             -1, 0, 0, 0,   F, F, H_NONE,            0, 0,
	    EF_FLUSHDB, F_WRITE),
	CMDS("FUNCTION",           -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_function),
	CMD("GEOADD",              -5, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("GEODIST",             -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GEOHASH",             -2, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GEOPOS",              -2, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GEORADIUS",           -6, 1, 1, 1,   R, W, H_GEORADIUS,       6, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
	CMD("GEORADIUSBYMEMBER",   -5, 1, 1, 1,   R, W, H_GEORADIUS,       5, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
	CMD("GEORADIUSBYMEMBER_RO",-5, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GEORADIUS_RO",        -6, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GEOSEARCH",           -7, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GEOSEARCHSTORE",      -8, 1, 2, 1,   W, R, H_NONE,            0, 0, 0, F_WRITE),
	CMD("GET",                 2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GETBIT",              3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GETDEL",              2,  1, 1, 1,   D, D, H_NONE,            0, 0, 0, F_WRITE),
	CMD("GETEX",               -2, 1, 1, 1,   R, R, H_GETEX,           0, 0, 0, F_WRITE),
	CMD("GETRANGE",            4,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("GETSET",              3,  1, 1, 1,   W, W, H_NONE,            0, 1, 0, F_WRITE),
	CMD("HDEL",                -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("HELLO",               -1, 0, 0, 0,   O, O, H_HELLO,           0, 0,
	    EF_HELLO, F_NO_AUTH),
	CMD("HEXISTS",             3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HEXPIRE",             -6, 1, 1, 1,   W, W, H_NONE,            0, 0,
	    0, F_WRITE), /* 7.4 */
	CMD("HEXPIREAT",           -6, 1, 1, 1,   W, W, H_NONE,            0, 0,
	    0, F_WRITE), /* 7.4 */
	CMD("HEXPIRETIME",         -5, 1, 1, 1,   R, R, H_NONE,            0, 0,
	    0, F_READONLY), /* 7.4 */
	CMD("HGET",                3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HGETALL",             2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HGETDEL",             -5, 1, 1, 1,   W, W, H_NONE,            0, 0,
	    0, F_WRITE), /* 8.0 */
	CMD("HGETEX",              -5, 1, 1, 1,   W, W, H_NONE,            0, 0,
	    0, F_WRITE), /* 8.0 */
	CMD("HINCRBY",             4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("HINCRBYFLOAT",        4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("HKEYS",               2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HLEN",                2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HMGET",               -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HMSET",               -4, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("HPERSIST",            -5, 1, 1, 1,   W, W, H_NONE,            0, 0,
	    0, F_WRITE), /* 7.4 */
	CMD("HPEXPIRE",            -6, 1, 1, 1,   W, W, H_NONE,            0, 0,
	    0, F_WRITE), /* 7.4 */
	CMD("HPEXPIREAT",          -6, 1, 1, 1,   W, W, H_NONE,            0, 0,
	    0, F_WRITE), /* 7.4 */
	CMD("HPEXPIRETIME",        -5, 1, 1, 1,   R, R, H_NONE,            0, 0,
	    0, F_READONLY), /* 7.4 */
	CMD("HPTTL",               -5, 1, 1, 1,   R, R, H_NONE,            0, 0,
	    0, F_READONLY), /* 7.4 */
	CMD("HRANDFIELD",          -2, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HSCAN",               -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HSET",                -4, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("HSETEX",              -6, 1, 1, 1,   W, W, H_NONE,            0, 0,
	    0, F_WRITE), /* 8.0 */
	CMD("HSETNX",              4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("HSTRLEN",             3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("HTTL",                -5, 1, 1, 1,   R, R, H_NONE,            0, 0,
	    0, F_READONLY), /* 7.4 */
	CMD("HVALS",               2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("INCR",                2,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("INCRBY",              3,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("INCRBYFLOAT",         3,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("INFO",                -1, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("KEYS",                2,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_READONLY),
	CMD("LASTSAVE",            1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMDS("LATENCY",            -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_latency),
	CMD("LCS",                 -3, 1, 2, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("LINDEX",              3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("LINSERT",             5,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("LLEN",                2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("LMOVE",               5,  1, 2, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("LMPOP",               -4, 0, 0, 0,   W, W, H_NUMKEYS,         1, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
	CMD("LOLWUT",              -1, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_READONLY),
	CMD("LPOP",                -2, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("LPOS",                -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("LPUSH",               -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("LPUSHX",              -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("LRANGE",              4,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("LREM",                4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("LSET",                4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("LTRIM",               4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMDS("MEMORY",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_memory),
	CMD("MGET",                -2, 1, -1, 1,  R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("MIGRATE",             -6, 3, 3, 1,   D, D, H_MIGRATE,         6, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
	CMDS("MODULE",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_module),
	CMD("MONITOR",             1,  0, 0, 0,   O, O, H_NONE,            0, 0,
	    EF_MONITOR, F_ADMIN),
	CMD("MOVE",                3,  1, 1, 1,   D, D, H_NONE,            0, 0, 0, F_WRITE),
	CMD("MSET",                -3, 1, -1, 2,  W, W, H_NONE,            0, 1, 0, F_WRITE),
	CMD("MSETNX",              -3, 1, -1, 2,  W, W, H_NONE,            0, 1, 0, F_WRITE),
	CMD("MULTI",               1,  0, 0, 0,   O, O, H_NONE,            0, 0, EF_MULTI, 0),
	CMDS("OBJECT",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_object),
	CMD("PERSIST",             2,  1, 1, 1,   E, E, H_NONE,            0, 0, 0, F_WRITE),
	CMD("PEXPIRE",             -3, 1, 1, 1,   E, E, H_EXPIRE_MS,       0, 0, 0, F_WRITE),
	CMD("PEXPIREAT",           -3, 1, 1, 1,   E, E, H_EXPIREAT_MS,     0, 0, 0, F_WRITE),
	CMD("PEXPIRETIME",         2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("PFADD",               -2, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("PFCOUNT",             -2, 1, -1, 1,  R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("PFDEBUG",             3,  2, 2, 1,   O, O, H_NONE,            0, 0,
	    0, F_WRITE | F_ADMIN),
	CMD("PFMERGE",             -2, 1, -1, 1,  W, R, H_NONE,            0, 0, 0, F_WRITE),
	CMD("PFSELFTEST",          1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("PING",                -1, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("PSETEX",              4,  1, 1, 1,   W, W, H_NONE,            0, 2, 0, F_WRITE),
	CMD("PSUBSCRIBE",          -2, 1, -1, 1,  O, O, H_PATTERN,         0, 0,
	    EF_SUBSCRIBE | EF_REPLY_PER_ARG, F_PUBSUB),
	CMD("PSYNC",               -3, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    EF_REPLICATION, F_ADMIN | F_NO_MULTI),
	CMD("PTTL",                2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("PUBLISH",             3,  1, 1, 1,   P, P, H_CHANNEL,         0, 0, 0, F_PUBSUB),
	CMDS("PUBSUB",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_pubsub),
	CMD("PUNSUBSCRIBE",        -1, 1, -1, 1,  O, O, H_PATTERN,         0, 0,
	    EF_UNSUBSCRIBE | EF_REPLY_PER_ARG, F_PUBSUB),
	CMD("QUIT",                -1, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    EF_QUIT, F_NO_AUTH),
	CMD("RANDOMKEY",           1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_READONLY),
	CMD("READONLY",            1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("READWRITE",           1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("RENAME",              3,  1, 2, 1,   D, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("RENAMENX",            3,  1, 2, 1,   D, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("REPLCONF",            -1, 0, 0, 0,   O, O, H_REPLCONF,        0, 0,
	    EF_REPLCONF, F_ADMIN),
	CMD("REPLICAOF",           3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMD("RESET",               1,  0, 0, 0,   O, O, H_NONE,            0, 0,
	    EF_RESET, F_NO_AUTH),
	CMD("RESTORE",             -4, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("RESTORE-ASKING",      -4, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ROLE",                1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("RPOP",                -2, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("RPOPLPUSH",           3,  1, 2, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("RPUSH",               -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("RPUSHX",              -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SADD",                -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SAVE",                1,  0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_ADMIN | F_NO_MULTI),
	CMD("SCAN",                -2, 0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SCARD",               2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMDS("SCRIPT",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_script),
	CMD("SDIFF",               -2, 1, -1, 1,  R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SDIFFSTORE",          -3, 1, -1, 1,  W, R, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SELECT",              2,  0, 0, 0,   O, O, H_SELECT,          0, 0, 0, 0),
	CMD("SET",                 -3, 1, 1, 1,   W, W, H_NONE,            0, 1, 0, F_WRITE),
	CMD("SETBIT",              4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SETEX",               4,  1, 1, 1,   W, W, H_NONE,            0, 2, 0, F_WRITE),
	CMD("SETNX",               3,  1, 1, 1,   W, W, H_NONE,            0, 1, 0, F_WRITE),
	CMD("SETRANGE",            4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SHUTDOWN",            -1, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    EF_SHUTDOWN, F_ADMIN | F_NO_MULTI),
	CMD("SINTER",              -2, 1, -1, 1,  R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SINTERCARD",          -3, 0, 0, 0,   R, R, H_NUMKEYS,         1, 0,
	    0, F_READONLY | F_MOVABLEKEYS),
	CMD("SINTERSTORE",         -3, 1, -1, 1,  W, R, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SISMEMBER",           3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SLAVEOF",             3,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, F_ADMIN),
	CMDS("SLOWLOG",            -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_slowlog),
	CMD("SMEMBERS",            2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SMISMEMBER",          -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SMOVE",               4,  1, 2, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SORT",                -2, 1, 1, 1,   R, W, H_SORT,            2, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
	CMD("SORT_RO",             -2, 1, 1, 1,   R, R, H_NONE,            0, 0,
	    0, F_READONLY | F_MOVABLEKEYS),
	CMD("SPOP",                -2, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SPUBLISH",            3,  1, 1, 1,   P, P, H_CHANNEL,         0, 0, 0, F_PUBSUB),
	CMD("SRANDMEMBER",         -2, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SREM",                -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SSCAN",               -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SSUBSCRIBE",          -2, 1, -1, 1,  O, O, H_CHANNEL,         0, 0,
	    EF_SUBSCRIBE | EF_REPLY_PER_ARG, F_PUBSUB),
	CMD("STRLEN",              2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SUBSCRIBE",           -2, 1, -1, 1,  O, O, H_CHANNEL,         0, 0,
	    EF_SUBSCRIBE | EF_REPLY_PER_ARG, F_PUBSUB),
	CMD("SUBSTR",              4,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SUNION",              -2, 1, -1, 1,  R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("SUNIONSTORE",         -3, 1, -1, 1,  W, R, H_NONE,            0, 0, 0, F_WRITE),
	CMD("SUNSUBSCRIBE",        -1, 1, -1, 1,  O, O, H_CHANNEL,         0, 0,
	    EF_UNSUBSCRIBE | EF_REPLY_PER_ARG, F_PUBSUB),
	CMD("SWAPDB",              3,  0, 0, 0,   F, F, H_SWAPDB,          0, 0, 0, F_WRITE),
	CMD("SYNC",                1,  0, 0, 0,   O, O, H_NONE,            0, 0,
	    EF_REPLICATION, F_ADMIN | F_NO_MULTI),
	CMD("TIME",                1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("TOUCH",               -2, 1, -1, 1,  R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("TTL",                 2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("TYPE",                2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("UNLINK",              -2, 1, -1, 1,  D, D, H_NONE,            0, 0, 0, F_WRITE),
	CMD("UNSUBSCRIBE",         -1, 1, -1, 1,  O, O, H_CHANNEL,         0, 0,
	    EF_UNSUBSCRIBE | EF_REPLY_PER_ARG, F_PUBSUB),
	CMD("UNWATCH",             1,  0, 0, 0,   O, O, H_NONE,            0, 0, 0, 0),
	CMD("WAIT",                3,  0, 0, 0,   O, O, H_NONE,            0, 0, EF_BLOCKING, 0),
	CMD("WAITAOF",             4,  0, 0, 0,   O, O, H_NONE,            0, 0,
	    EF_BLOCKING, 0), /* 7.2 */
	CMD("WATCH",               -2, 1, -1, 1,  O, O, H_NONE,            0, 0, 0, 0),
	CMD("XACK",                -4, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("XADD",                -5, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("XAUTOCLAIM",          -6, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("XCLAIM",              -6, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("XDEL",                -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMDS("XGROUP",             -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_xgroup),
	CMDS("XINFO",              -2, 0, 0, 0,   O, O, H_NONE,            0, 0,
	    0, F_CONTAINER, sub_xinfo),
	CMD("XLEN",                2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("XPENDING",            -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("XRANGE",              -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("XREAD",               -4, 0, 0, 0,   R, R, H_XREAD,           1, 0,
	    0, F_READONLY | F_BLOCKING | F_MOVABLEKEYS),
	CMD("XREADGROUP",          -7, 0, 0, 0,   R, R, H_XREAD,           1, 0,
	    0, F_WRITE | F_BLOCKING | F_MOVABLEKEYS),
	CMD("XREVRANGE",           -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("XSETID",              -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("XTRIM",               -4, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZADD",                -4, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZCARD",               2,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZCOUNT",              4,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZDIFF",               -3, 0, 0, 0,   R, R, H_NUMKEYS,         1, 0,
	    0, F_READONLY | F_MOVABLEKEYS),
	CMD("ZDIFFSTORE",          -4, 1, 1, 1,   W, R, H_NUMKEYS,         2, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
	CMD("ZINCRBY",             4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZINTER",              -3, 0, 0, 0,   R, R, H_NUMKEYS,         1, 0,
	    0, F_READONLY | F_MOVABLEKEYS),
	CMD("ZINTERCARD",          -3, 0, 0, 0,   R, R, H_NUMKEYS,         1, 0,
	    0, F_READONLY | F_MOVABLEKEYS),
	CMD("ZINTERSTORE",         -4, 1, 1, 1,   W, R, H_NUMKEYS,         2, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
	CMD("ZLEXCOUNT",           4,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZMPOP",               -4, 0, 0, 0,   W, W, H_NUMKEYS,         1, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
	CMD("ZMSCORE",             -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZPOPMAX",             -2, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZPOPMIN",             -2, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZRANDMEMBER",         -2, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZRANGE",              -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZRANGEBYLEX",         -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZRANGEBYSCORE",       -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZRANGESTORE",         -5, 1, 2, 1,   W, R, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZRANK",               3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZREM",                -3, 1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZREMRANGEBYLEX",      4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZREMRANGEBYRANK",     4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZREMRANGEBYSCORE",    4,  1, 1, 1,   W, W, H_NONE,            0, 0, 0, F_WRITE),
	CMD("ZREVRANGE",           -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZREVRANGEBYLEX",      -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZREVRANGEBYSCORE",    -4, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZREVRANK",            3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZSCAN",               -3, 1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZSCORE",              3,  1, 1, 1,   R, R, H_NONE,            0, 0, 0, F_READONLY),
	CMD("ZUNION",              -3, 0, 0, 0,   R, R, H_NUMKEYS,         1, 0,
	    0, F_READONLY | F_MOVABLEKEYS),
	CMD("ZUNIONSTORE",         -4, 1, 1, 1,   W, R, H_NUMKEYS,         2, 0,
	    0, F_WRITE | F_MOVABLEKEYS),
};

#undef R
#undef W
#undef D
#undef E
#undef F
#undef P
#undef O

const struct ct_redis_cmd *ct_redis_cmd_table(size_t *n)
{
	if (n)
		*n = CT_ARRAY_LEN(table);
	return table;
}

/* ---- names: ASCII case folding over explicit lengths ---- */

static uint8_t upper(uint8_t b)
{
	return b >= 'a' && b <= 'z' ? (uint8_t)(b - ('a' - 'A')) : b;
}

/* Orders the wire name (p, len), folded to upper case, against an upper-case table name. */
static int cmp_name(const uint8_t *p, size_t len, const char *name, size_t nlen)
{
	size_t n = len < nlen ? len : nlen;
	for (size_t i = 0; i < n; i++) {
		uint8_t a = upper(p[i]), b = (uint8_t)name[i];
		if (a != b)
			return a < b ? -1 : 1;
	}
	return len < nlen ? -1 : len > nlen;
}

static const struct ct_redis_cmd *search(const struct ct_redis_cmd *t, size_t n, const uint8_t *p,
					 size_t len)
{
	if (!p || len == 0 || len > CT_CMDTAB_REDIS_NAME_MAX_BYTES)
		return NULL;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_name(p, len, t[mid].name, t[mid].len);
		if (c == 0)
			return &t[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct ct_redis_cmd *ct_redis_cmd_lookup(const uint8_t *p, size_t len)
{
	return search(table, CT_ARRAY_LEN(table), p, len);
}

const struct ct_redis_cmd *ct_redis_cmd_lookup_sub(const struct ct_redis_cmd *parent,
						    const uint8_t *p, size_t len)
{
	if (!parent || !parent->subs)
		return NULL;
	return search(parent->subs, parent->nsubs, p, len);
}

/* ---- argument helpers ---- */

/* A keyword matches only a whole (uncut) argument, case-insensitively. */
static int kw_eq(const uint8_t *p, size_t len, uint64_t full, const char *kw, size_t kwlen)
{
	return full == len && len == kwlen && cmp_name(p, len, kw, kwlen) == 0;
}
#define KW(lit) kw_eq(p, len, full, lit, sizeof(lit) - 1)

/* Does (p, len) contain the upper-case word w, case-insensitively? */
static int contains_ci(const uint8_t *p, size_t len, const char *w, size_t wlen)
{
	for (size_t i = 0; i + wlen <= len; i++)
		if (cmp_name(p + i, wlen, w, wlen) == 0)
			return 1;
	return 0;
}

/* A 64-bit integer the way Redis reads one (string2ll): an optional '-', then "0" or digits
 * without a leading zero, nothing else, in range. Returns 0 and sets *v, or -1. */
static int parse_i64(const uint8_t *p, size_t len, uint64_t full, int64_t *v)
{
	if (full != len || len == 0 || len > CT_CMDTAB_REDIS_NUM_MAX_BYTES)
		return -1;
	size_t i = 0;
	int neg = 0;
	if (p[0] == '-') {
		neg = 1;
		i = 1;
		if (len == 1)
			return -1;
	}
	if (p[i] == '0') {
		if (len != 1)
			return -1; /* "01", "-0", "0x1" */
		*v = 0;
		return 0;
	}
	uint64_t acc = 0;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		uint64_t d = (uint64_t)(p[i] - '0');
		if (acc > (UINT64_MAX - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	if (neg) {
		if (acc > (uint64_t)INT64_MAX + 1)
			return -1;
		*v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	} else {
		if (acc > (uint64_t)INT64_MAX)
			return -1;
		*v = (int64_t)acc;
	}
	return 0;
}

/* ---- the classifier ---- */

/* What the next argument is (st->expect). */
enum { X_NONE = 0, X_STORE_KEY, X_EXPIRY, X_DB, X_REDIRECT, X_PORT, X_ACK };

/* Parse flags (st->pf). */
enum {
	P_NUM_OK = 1u << 0,     /* st->num holds a valid number (numkeys, expiry, SWAPDB's first) */
	P_KEYS = 1u << 1,       /* STREAMS (XREAD) or KEYS (MIGRATE) seen: keys start at kstart */
	P_COPY = 1u << 2,       /* MIGRATE ... COPY */
	P_EMPTY3 = 1u << 3,     /* MIGRATE's key argument is "" (required with KEYS) */
	P_WRITE = 1u << 4,      /* BITFIELD ... SET/INCRBY */
	P_DB2 = 1u << 5,        /* COPY ... DB n / SWAPDB's second: db2 is valid */
	P_ALL_SECRET = 1u << 6, /* every argument from here on is secret */
};

/* GETEX expiry option (st->xkind). */
enum { K_NONE = 0, K_EX, K_PX, K_EXAT, K_PXAT, K_PERSIST };

/* Statuses under which Redis runs nothing: no keys, no effects. */
#define ST_DEAD (CT_REDIS_ST_UNKNOWN | CT_REDIS_ST_UNKNOWN_SUB | CT_REDIS_ST_ARITY |            \
		 CT_REDIS_ST_SYNTAX | CT_REDIS_ST_ORDER)

static int arity_ok(int arity, int64_t argc)
{
	return arity >= 0 ? argc == arity : argc >= -(int64_t)arity;
}

int ct_redis_cmd_begin(struct ct_redis_cmdstate *st, const uint8_t *p, size_t len, int64_t argc)
{
	memset(st, 0, sizeof *st);
	st->argc = argc < 0 ? -1 : argc;
	st->db = st->db2 = -1;
	st->listen_port = -1;
	st->ack_offset = -1;
	st->redirect = -1;
	st->next = 1;
	st->top = st->cmd = ct_redis_cmd_lookup(p, len);
	if (!st->top) {
		st->status = CT_REDIS_ST_UNKNOWN;
		return CT_EUNSUP;
	}
	st->eff = st->top->eff;
	if (st->argc >= 0 && !arity_ok(st->top->arity, st->argc))
		st->status |= CT_REDIS_ST_ARITY;
	return 0;
}

/* The first key's index: the range's start, or where the movable keys begin. */
static uint32_t first_key(const struct ct_redis_cmdstate *st)
{
	return st->cmd->first > 0 ? (uint32_t)st->cmd->first : st->kstart;
}

/* Is argument i inside the legacy range? Sets *pend when that depends on an argc not yet known
 * (a range that ends before the last argument, like BLPOP's). */
static int in_range(const struct ct_redis_cmdstate *st, uint32_t i, int *pend)
{
	const struct ct_redis_cmd *c = st->cmd;
	if (c->first <= 0 || i < (uint32_t)c->first || c->step <= 0)
		return 0;
	if ((i - (uint32_t)c->first) % (uint32_t)c->step)
		return 0;
	if (c->last >= 0)
		return i <= (uint32_t)c->last;
	if (c->last == -1)
		return 1;
	if (st->argc < 0) {
		*pend = 1;
		return 1;
	}
	return (int64_t)i <= st->argc + c->last;
}

/* Is argument i a key (or channel, or pattern)? *pend: only maybe, until the end. */
static int key_at(const struct ct_redis_cmdstate *st, uint32_t i, int *pend)
{
	const struct ct_redis_cmd *c = st->cmd;
	switch (c->handler) {
	case CT_REDIS_H_NUMKEYS:
	case CT_REDIS_H_NUMKEYS0:
		/* [fixed keys] numkeys key... : a bad numkeys (ST_SYNTAX) voids them all, so the
		 * fixed ones wait for it. */
		if (i < c->kidx) {
			if (!in_range(st, i, pend))
				return 0;
			if (!st->kstart)
				*pend = 1;
			return 1;
		}
		if (i == c->kidx || !st->kstart)
			return 0;
		return (uint64_t)(i - c->kidx) <= (uint64_t)st->num;
	case CT_REDIS_H_XREAD:
		/* ... STREAMS k1 .. kn id1 .. idn: half of what follows STREAMS. */
		if (!(st->pf & P_KEYS) || i < st->kstart)
			return 0;
		if (st->argc < 0) {
			*pend = 1;
			return 1;
		}
		return (int64_t)i < (int64_t)st->kstart + (st->argc - (int64_t)st->kstart) / 2;
	case CT_REDIS_H_SORT:
	case CT_REDIS_H_GEORADIUS:
		if (i == (uint32_t)c->first)
			return 1;
		if (!st->store_idx || i != st->store_idx)
			return 0;
		/* The last STORE wins: another "STORE x" may still come. */
		if (!st->ended && !(st->argc >= 0 && (int64_t)i + 2 >= st->argc))
			*pend = 1;
		return 1;
	case CT_REDIS_H_MIGRATE:
		/* host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 u pw] [KEYS k..]:
		 * argv[3] is the key (even "", a valid key name) unless KEYS follows. */
		if (i == 3) {
			if (st->pf & P_KEYS)
				return 0;
			if (!st->ended)
				*pend = 1;
			return 1;
		}
		return (st->pf & P_KEYS) && i >= st->kstart;
	default:
		return in_range(st, i, pend);
	}
}

/* Is the absolute time v (in units of `ms_per` ms) not after now? Unknown now: only v <= 0. */
static int abs_past(int64_t v, int64_t ms_per, uint64_t now_ms)
{
	if (v <= 0)
		return 1;
	if (v > INT64_MAX / ms_per)
		return 0;
	return now_ms && (uint64_t)(v * ms_per) <= now_ms;
}

/* The class of key i, which key_at() accepted. */
static uint8_t key_class(const struct ct_redis_cmdstate *st, uint32_t i, int *pend,
			 int32_t *db)
{
	const struct ct_redis_cmd *c = st->cmd;
	uint8_t cls = i == first_key(st) ? c->cls : c->cls_rest;
	int ok = (st->pf & P_NUM_OK) != 0;
	switch (c->handler) {
	case CT_REDIS_H_EXPIRE_S:
	case CT_REDIS_H_EXPIRE_MS:
		/* A relative expiry <= 0 deletes at once; a bad number is an error reply. */
		if (!st->ended)
			*pend = 1;
		return ok && st->num <= 0 ? CT_CLASS_DELETE : CT_CLASS_EXPIRE;
	case CT_REDIS_H_EXPIREAT_S:
	case CT_REDIS_H_EXPIREAT_MS:
		if (!st->ended)
			*pend = 1;
		if (ok && abs_past(st->num, c->handler == CT_REDIS_H_EXPIREAT_S ? 1000 : 1, st->now_ms))
			return CT_CLASS_DELETE;
		return CT_CLASS_EXPIRE;
	case CT_REDIS_H_GETEX:
		if (!st->ended)
			*pend = 1;
		switch (st->xkind) {
		case K_NONE:
			return CT_CLASS_READ;
		case K_EXAT:
		case K_PXAT:
			/* Redis refuses a time <= 0; a time in the past deletes the key. */
			if (ok && st->num > 0 &&
			    abs_past(st->num, st->xkind == K_EXAT ? 1000 : 1, st->now_ms))
				return CT_CLASS_DELETE;
			return CT_CLASS_EXPIRE;
		default:
			return CT_CLASS_EXPIRE;
		}
	case CT_REDIS_H_COPY:
		if (i == 2) {
			if (!st->ended)
				*pend = 1;
			if (st->pf & P_DB2)
				*db = st->db2 > INT32_MAX ? INT32_MAX : (int32_t)st->db2;
		}
		return cls;
	case CT_REDIS_H_BITFIELD:
		if (!st->ended)
			*pend = 1;
		return st->pf & P_WRITE ? CT_CLASS_WRITE : CT_CLASS_READ;
	case CT_REDIS_H_MIGRATE:
		return st->pf & P_COPY ? CT_CLASS_READ : CT_CLASS_DELETE;
	default:
		return cls;
	}
}

static void classify(const struct ct_redis_cmdstate *st, uint32_t i, struct ct_redis_arg *o)
{
	memset(o, 0, sizeof *o);
	o->cls = CT_CLASS_OTHER;
	o->db = -1;
	if (!st->cmd || i == 0)
		return;
	if (i == 1 && (st->top->flags & CT_REDIS_CMD_CONTAINER)) {
		o->role = CT_REDIS_ARG_SUBCMD; /* even when it is unknown or the command fails */
		return;
	}
	if (st->status & ST_DEAD)
		return;
	const struct ct_redis_cmd *c = st->cmd;
	/* Until argc is known the arity is unchecked, and a wrong one voids every key. */
	int pend = st->argc < 0 && !st->ended;
	int kpend = pend;
	if (key_at(st, i, &kpend)) {
		o->role = c->handler == CT_REDIS_H_CHANNEL   ? CT_REDIS_ARG_CHANNEL
			  : c->handler == CT_REDIS_H_PATTERN ? CT_REDIS_ARG_PATTERN
							     : CT_REDIS_ARG_KEY;
		o->cls = key_class(st, i, &kpend, &o->db);
		o->pending = (uint8_t)(kpend && !st->ended);
		return;
	}
	if (c->value_off && i > c->value_off) {
		uint32_t k = i - c->value_off;
		kpend = pend;
		if (key_at(st, k, &kpend)) {
			o->role = CT_REDIS_ARG_VALUE;
			o->key_index = k;
			o->cls = key_class(st, k, &kpend, &o->db);
			o->db = -1;
			o->pending = (uint8_t)(kpend && !st->ended);
		}
	}
}

/* What argument i means to the command's parse: keywords, numbers, secrets. Runs before
 * classify(i), so the state it leaves covers arguments 1..i. Returns 1 when i is secret. */
static int observe(struct ct_redis_cmdstate *st, uint32_t i, const uint8_t *p, size_t len,
		   uint64_t full)
{
	const struct ct_redis_cmd *c = st->cmd;
	int64_t v;

	if (st->pf & P_ALL_SECRET)
		return 1;
	if (st->secret_left) {
		st->secret_left--;
		return 1;
	}
	if (st->skip) {
		st->skip--;
		return 0;
	}
	uint8_t expect = st->expect;
	st->expect = X_NONE;

	switch (c->handler) {
	case CT_REDIS_H_SECRET_TAIL:
		if (i >= c->kidx) {
			st->pf |= P_ALL_SECRET;
			return 1;
		}
		return 0;

	case CT_REDIS_H_HELLO:
		/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
		if (i == 1) {
			if (parse_i64(p, len, full, &v) == 0 && (v == 2 || v == 3))
				st->proto = v;
			else
				st->status |= CT_REDIS_ST_SYNTAX; /* NOPROTO or not an integer */
			return 0;
		}
		if (KW("AUTH")) {
			st->secret_left = 2;
			st->eff |= CT_REDIS_EFF_AUTH;
		} else if (KW("SETNAME")) {
			st->skip = 1;
		} else {
			/* Lost: whatever follows might be a password. */
			st->status |= CT_REDIS_ST_SYNTAX;
			st->pf |= P_ALL_SECRET;
			return 1;
		}
		return 0;

	case CT_REDIS_H_CONFIG_SET:
		/* CONFIG SET param value [param value ...]: a parameter that names a password
		 * (requirepass, masterauth, tls-key-file-pass, ...), or one we cannot read whole,
		 * makes its value secret. */
		if (i >= 2 && (i - 2) % 2 == 0 &&
		    (full != len || contains_ci(p, len, "PASS", 4) || contains_ci(p, len, "AUTH", 4)))
			st->secret_left = 1;
		return 0;

	case CT_REDIS_H_ACL_SETUSER:
		/* ACL SETUSER user rule...: ">pw" "<pw" "#hash" "!hash" carry passwords, also
		 * inside selectors; a cut rule might hide one. */
		if (i < 3)
			return 0;
		if (full != len)
			return 1;
		for (size_t k = 0; k < len; k++)
			if (p[k] == '>' || p[k] == '<' || p[k] == '#' || p[k] == '!')
				return 1;
		return 0;

	case CT_REDIS_H_MIGRATE:
		if (i == 3) {
			if (full == 0)
				st->pf |= P_EMPTY3;
			return 0;
		}
		if (i < c->kidx || (st->pf & P_KEYS))
			return 0;
		if (KW("COPY")) {
			st->pf |= P_COPY;
		} else if (KW("REPLACE")) {
		} else if (KW("AUTH")) {
			st->secret_left = 1;
		} else if (KW("AUTH2")) {
			st->secret_left = 2;
		} else if (KW("KEYS")) {
			st->pf |= P_KEYS;
			st->kstart = i + 1;
			if (!(st->pf & P_EMPTY3))
				st->status |= CT_REDIS_ST_SYNTAX;
		} else {
			st->status |= CT_REDIS_ST_SYNTAX;
			st->pf |= P_ALL_SECRET;
			return 1;
		}
		return 0;

	case CT_REDIS_H_NUMKEYS:
	case CT_REDIS_H_NUMKEYS0:
		if (i != c->kidx)
			return 0;
		st->kstart = i + 1;
		if (parse_i64(p, len, full, &v) != 0 || v < (c->handler == CT_REDIS_H_NUMKEYS) ||
		    (st->argc >= 0 && v > st->argc - (int64_t)st->kstart)) {
			st->status |= CT_REDIS_ST_SYNTAX;
			return 0;
		}
		st->num = v;
		st->pf |= P_NUM_OK;
		return 0;

	case CT_REDIS_H_XREAD:
		/* [GROUP g c] [COUNT n] [BLOCK ms] [NOACK] STREAMS k.. id.. */
		if (st->pf & (P_KEYS))
			return 0;
		if (KW("COUNT")) {
			st->skip = 1;
		} else if (KW("BLOCK")) {
			st->skip = 1;
			st->eff |= CT_REDIS_EFF_BLOCKING;
		} else if (KW("GROUP")) {
			st->skip = 2;
		} else if (KW("NOACK")) {
		} else if (KW("STREAMS")) {
			st->pf |= P_KEYS;
			st->kstart = i + 1;
			if (st->argc >= 0) {
				int64_t n = st->argc - (int64_t)st->kstart;
				if (n <= 0 || n % 2)
					st->status |= CT_REDIS_ST_SYNTAX;
			}
		} else {
			st->status |= CT_REDIS_ST_SYNTAX;
		}
		return 0;

	case CT_REDIS_H_SORT:
		/* SORT key [BY p] [LIMIT off count] [GET p].. [ASC|DESC] [ALPHA] [STORE dst]: the
		 * option values are skipped so that "GET STORE" is a pattern, not a keyword. */
		if (i < 2)
			return 0;
		if (expect == X_STORE_KEY)
			st->store_idx = i;
		else if (KW("LIMIT"))
			st->skip = 2;
		else if (KW("GET") || KW("BY"))
			st->skip = 1;
		else if (KW("STORE"))
			st->expect = X_STORE_KEY;
		return 0;

	case CT_REDIS_H_GEORADIUS:
		if (i < c->kidx)
			return 0;
		if (expect == X_STORE_KEY)
			st->store_idx = i;
		else if (KW("STORE") || KW("STOREDIST"))
			st->expect = X_STORE_KEY;
		return 0;

	case CT_REDIS_H_EXPIRE_S:
	case CT_REDIS_H_EXPIRE_MS:
	case CT_REDIS_H_EXPIREAT_S:
	case CT_REDIS_H_EXPIREAT_MS:
		if (i == 2 && parse_i64(p, len, full, &v) == 0) {
			st->num = v;
			st->pf |= P_NUM_OK;
		}
		return 0;

	case CT_REDIS_H_GETEX:
		/* GETEX key [EX s | PX ms | EXAT unix-s | PXAT unix-ms | PERSIST] */
		if (i < 2)
			return 0;
		if (expect == X_EXPIRY) {
			if (parse_i64(p, len, full, &v) == 0) {
				st->num = v;
				st->pf |= P_NUM_OK;
			}
		} else if (KW("EX")) {
			st->xkind = K_EX;
			st->expect = X_EXPIRY;
		} else if (KW("PX")) {
			st->xkind = K_PX;
			st->expect = X_EXPIRY;
		} else if (KW("EXAT")) {
			st->xkind = K_EXAT;
			st->expect = X_EXPIRY;
		} else if (KW("PXAT")) {
			st->xkind = K_PXAT;
			st->expect = X_EXPIRY;
		} else if (KW("PERSIST")) {
			st->xkind = K_PERSIST;
		} else {
			st->status |= CT_REDIS_ST_SYNTAX;
		}
		return 0;

	case CT_REDIS_H_COPY:
		/* COPY src dst [DB n] [REPLACE] */
		if (i < 3)
			return 0;
		if (expect == X_DB) {
			if (parse_i64(p, len, full, &v) == 0 && v >= 0) {
				st->db2 = v;
				st->pf |= P_DB2;
			}
		} else if (KW("DB")) {
			st->expect = X_DB;
		}
		return 0;

	case CT_REDIS_H_BITFIELD:
		if (i >= 2 && (KW("SET") || KW("INCRBY")))
			st->pf |= P_WRITE;
		return 0;

	case CT_REDIS_H_SELECT:
		if (i == 1 && parse_i64(p, len, full, &v) == 0 && v >= 0 && v <= INT32_MAX) {
			st->db = v;
			st->eff |= CT_REDIS_EFF_SELECT;
		}
		return 0;

	case CT_REDIS_H_SWAPDB:
		if ((i == 1 || i == 2) && parse_i64(p, len, full, &v) == 0 && v >= 0 &&
		    v <= INT32_MAX) {
			if (i == 1) {
				st->db = v;
				st->pf |= P_NUM_OK;
			} else {
				st->db2 = v;
				st->pf |= P_DB2;
			}
		}
		return 0;

	case CT_REDIS_H_REPLCONF:
		/* REPLCONF option value [option value ...] */
		if (expect == X_PORT) {
			if (parse_i64(p, len, full, &v) == 0 && v >= 0 && v <= 65535)
				st->listen_port = v;
		} else if (expect == X_ACK) {
			if (parse_i64(p, len, full, &v) == 0 && v >= 0)
				st->ack_offset = v;
		} else if (i % 2 == 1) {
			if (KW("LISTENING-PORT"))
				st->expect = X_PORT;
			else if (KW("ACK") || KW("GETACK"))
				st->eff |= CT_REDIS_EFF_NOREPLY;
			if (i == 1 && KW("ACK"))
				st->expect = X_ACK;
		}
		return 0;

	case CT_REDIS_H_CLIENT_REPLY:
		if (i != 2)
			return 0;
		if (KW("ON"))
			st->reply_mode = CT_REDIS_REPLY_ON;
		else if (KW("OFF"))
			st->reply_mode = CT_REDIS_REPLY_OFF;
		else if (KW("SKIP"))
			st->reply_mode = CT_REDIS_REPLY_SKIP;
		else {
			st->status |= CT_REDIS_ST_SYNTAX;
			return 0;
		}
		st->eff |= CT_REDIS_EFF_REPLY_MODE;
		if (st->reply_mode != CT_REDIS_REPLY_ON)
			st->eff |= CT_REDIS_EFF_NOREPLY;
		return 0;

	case CT_REDIS_H_CLIENT_TRACKING:
		/* CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p].. [BCAST] [OPTIN] [OPTOUT]
		 * [NOLOOP] */
		if (i == 2) {
			if (KW("ON"))
				st->tracking = 1;
			else if (KW("OFF"))
				st->tracking = 0;
			else {
				st->status |= CT_REDIS_ST_SYNTAX;
				return 0;
			}
			st->eff |= CT_REDIS_EFF_TRACKING;
			return 0;
		}
		if (i < 3)
			return 0;
		if (expect == X_REDIRECT) {
			if (parse_i64(p, len, full, &v) == 0)
				st->redirect = v;
			else
				st->status |= CT_REDIS_ST_SYNTAX;
		} else if (KW("REDIRECT")) {
			st->tracking_opts |= CT_REDIS_TRK_REDIRECT;
			st->expect = X_REDIRECT;
		} else if (KW("PREFIX")) {
			st->tracking_opts |= CT_REDIS_TRK_PREFIX;
			st->skip = 1;
		} else if (KW("BCAST")) {
			st->tracking_opts |= CT_REDIS_TRK_BCAST;
		} else if (KW("OPTIN")) {
			st->tracking_opts |= CT_REDIS_TRK_OPTIN;
		} else if (KW("OPTOUT")) {
			st->tracking_opts |= CT_REDIS_TRK_OPTOUT;
		} else if (KW("NOLOOP")) {
			st->tracking_opts |= CT_REDIS_TRK_NOLOOP;
		} else {
			st->status |= CT_REDIS_ST_SYNTAX;
		}
		return 0;

	case CT_REDIS_H_CLIENT_CACHING:
		if (i != 2)
			return 0;
		if (KW("YES"))
			st->caching = 1;
		else if (KW("NO"))
			st->caching = 0;
		else {
			st->status |= CT_REDIS_ST_SYNTAX;
			return 0;
		}
		st->eff |= CT_REDIS_EFF_CACHING;
		return 0;

	default:
		return 0;
	}
}

int ct_redis_cmd_arg(struct ct_redis_cmdstate *st, uint32_t index, const uint8_t *p, size_t len,
		     uint64_t full_len, struct ct_redis_arg *out)
{
	memset(out, 0, sizeof *out);
	out->cls = CT_CLASS_OTHER;
	out->db = -1;
	if (!p)
		len = 0;
	if (len > full_len)
		len = (size_t)full_len;

	if ((st->status & CT_REDIS_ST_ORDER) || st->ended || index != st->next ||
	    (st->argc >= 0 && (int64_t)index >= st->argc)) {
		st->status |= CT_REDIS_ST_ORDER;
		out->secret = 1;
		return CT_EINVAL;
	}
	st->next++;
	if (!st->top) {
		out->secret = 1; /* unknown command: we cannot tell */
		return 0;
	}
	if (index == 1 && (st->top->flags & CT_REDIS_CMD_CONTAINER)) {
		const struct ct_redis_cmd *sub =
			full_len == len ? ct_redis_cmd_lookup_sub(st->top, p, len) : NULL;
		out->role = CT_REDIS_ARG_SUBCMD;
		if (!sub) {
			st->status |= CT_REDIS_ST_UNKNOWN_SUB;
			out->secret = 1;
			return 0;
		}
		st->cmd = sub;
		st->eff |= sub->eff;
		if (st->argc >= 0 && !arity_ok(sub->arity, st->argc))
			st->status |= CT_REDIS_ST_ARITY;
		return 0;
	}
	if (st->status & (CT_REDIS_ST_UNKNOWN_SUB | CT_REDIS_ST_UNKNOWN)) {
		out->secret = 1;
		return 0;
	}
	int secret = observe(st, index, p, len, full_len);
	if (secret) {
		out->secret = 1; /* never a key either */
		return 0;
	}
	classify(st, index, out);
	return 0;
}

void ct_redis_cmd_end(struct ct_redis_cmdstate *st, int64_t argc, uint64_t now_ns)
{
	if (st->ended)
		return;
	if (argc < 0)
		argc = st->argc >= 0 ? st->argc : (int64_t)st->next;
	st->argc = argc;
	st->now_ms = now_ns / 1000000u;
	st->ended = 1;
	/* Every argument must have been seen, in order. */
	if ((int64_t)st->next != argc)
		st->status |= CT_REDIS_ST_ORDER;
	const struct ct_redis_cmd *c = st->cmd;
	if (c) {
		if (!arity_ok(st->top->arity, argc) || !arity_ok(c->arity, argc))
			st->status |= CT_REDIS_ST_ARITY;
		if ((st->top->flags & CT_REDIS_CMD_CONTAINER) && c == st->top && argc > 1)
			st->status |= CT_REDIS_ST_UNKNOWN_SUB;
		switch (c->handler) {
		case CT_REDIS_H_NUMKEYS:
		case CT_REDIS_H_NUMKEYS0:
			if (!st->kstart || ((st->pf & P_NUM_OK) &&
					    st->num > argc - (int64_t)st->kstart))
				st->status |= CT_REDIS_ST_SYNTAX;
			break;
		case CT_REDIS_H_XREAD:
			if (!(st->pf & P_KEYS)) {
				st->status |= CT_REDIS_ST_SYNTAX;
			} else {
				int64_t n = argc - (int64_t)st->kstart;
				if (n <= 0 || n % 2)
					st->status |= CT_REDIS_ST_SYNTAX;
			}
			break;
		case CT_REDIS_H_SWAPDB:
			if ((st->pf & (P_NUM_OK | P_DB2)) == (P_NUM_OK | P_DB2))
				st->eff |= CT_REDIS_EFF_SWAPDB;
			break;
		default:
			break;
		}
	}
	if (st->status & ST_DEAD)
		st->eff = 0;
}

void ct_redis_cmd_final(const struct ct_redis_cmdstate *st, uint32_t index,
			struct ct_redis_arg *out)
{
	classify(st, index, out);
}

unsigned ct_redis_cmd_class(const struct ct_redis_cmdstate *st)
{
	if (!st->cmd)
		return CT_CLASS_OTHER;
	uint32_t k = first_key(st);
	if (k && !(st->status & ST_DEAD)) {
		struct ct_redis_arg a;
		classify(st, k, &a);
		if (a.role == CT_REDIS_ARG_KEY || a.role == CT_REDIS_ARG_CHANNEL)
			return a.cls;
	}
	return st->cmd->cls;
}

const char *ct_redis_role_name(unsigned role)
{
	static const char *const names[CT_REDIS_ARG_COUNT] = {
		[CT_REDIS_ARG_PLAIN] = "PLAIN",     [CT_REDIS_ARG_KEY] = "KEY",
		[CT_REDIS_ARG_CHANNEL] = "CHANNEL", [CT_REDIS_ARG_PATTERN] = "PATTERN",
		[CT_REDIS_ARG_VALUE] = "VALUE",     [CT_REDIS_ARG_SUBCMD] = "SUBCMD",
	};
	return role < CT_REDIS_ARG_COUNT ? names[role] : "?";
}
