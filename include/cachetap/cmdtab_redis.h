/* The Redis command table and an incremental, allocation-free argument classifier: which
 * arguments of a command are keys, which event class (event.h) each key gets, which arguments
 * are secrets that must never be stored, and what the command does to the connection (SELECT,
 * HELLO 3, SUBSCRIBE, CLIENT REPLY, MULTI, PSYNC, ...). SPEC section 3 is the contract: "Decoding
 * is driven by tables (command -> class, key positions), never by substring matching".
 *
 * Sources: what a Redis 7.0 server reports (COMMAND, COMMAND DOCS, COMMAND GETKEYS), and for
 * the commands it does not know yet the redis.io command reference (7.2: WAITAOF, CLIENT
 * NO-TOUCH/SETINFO; 7.4: HEXPIRE and friends; 8.0: HGETDEL, HGETEX, HSETEX).
 *
 * How it is used. A command is a sequence of arguments argv[0..argc-1], argv[0] being its name
 * (a RESP array of bulk strings, or an inline command). The caller embeds one
 * struct ct_redis_cmdstate per command being decoded and, as arguments arrive one at a time:
 *
 *     ct_redis_cmd_begin(&st, name, name_len, argc);       argc = -1 when not known yet (inline)
 *     for i = 1, 2, ...:
 *         ct_redis_cmd_arg(&st, i, p, n, full_len, &a);     p/n: the bytes seen (may be cut),
 *                                                          full_len: the argument's real length
 *         a.secret            -> never store, log or hash this argument
 *         a.role == KEY/CHANNEL/PATTERN/VALUE -> keep it (a key, a channel, a written value) ...
 *     ct_redis_cmd_end(&st, argc, now_ns);
 *     for every argument i kept above:
 *         ct_redis_cmd_final(&st, i, &a);                  ... and ask for its final meaning
 *
 * Why a final pass: the meaning of an argument can depend on LATER arguments. EXPIRE key -1
 * deletes the key (the value comes after it); MIGRATE ... key ... COPY reads rather than deletes;
 * COPY src dst DB 3 writes dst in database 3; SORT k STORE a STORE b stores into b only; and when
 * argc is not known up front (inline commands), BLPOP's last argument (the timeout) or XREAD's
 * split between keys and ids cannot be known until the end. ct_redis_cmd_arg() therefore gives a
 * provisional answer with `pending` set whenever the final one may differ. The contract:
 *   - an argument that is not reported as KEY/CHANNEL/PATTERN/VALUE by ct_redis_cmd_arg() (pending
 *     or not) never becomes one: only what was reported needs to be kept;
 *   - an answer without `pending` is final: ct_redis_cmd_final() gives the same role and class;
 *   - `secret` is decided at once, conservatively, and only by ct_redis_cmd_arg(): anything we do
 *     not understand (unknown commands and subcommands, arguments after a parse went wrong,
 *     truncated ACL rules) is secret.
 * The state is a few plain fields: no per-argument storage, no allocation. The caller stores the
 * keys it wants (with its own cap) and asks for their final meaning by index; ct_redis_cmd_final
 * is O(1) and can be called any number of times, in any order.
 *
 * Commands that Redis would reject without executing them (wrong arity, bad numkeys, an XREAD
 * with an odd number of stream arguments, MIGRATE with both a key and KEYS) end with no keys and
 * no effects, and with a CT_REDIS_ST_* bit in `status` saying why. Commands with a bad option
 * further on that Redis only notices while executing keep their keys (the reply will say error).
 *
 * Classes (SPEC section 3), per key:
 *   read      GET, MGET, HGET, EXISTS, TTL, OBJECT ENCODING, XREAD(GROUP), SORT's source, the
 *             sources of *STORE commands, GETEX without options, BITFIELD with GETs only, ...
 *   write     SET, MSET, HSET, LPUSH, INCR, ZADD, XADD, HDEL, LPOP (anything that changes the
 *             value; removing elements is a write, not a delete), destinations of *STORE, RENAME
 *             and COPY, EVAL/EVALSHA/FCALL keys (a script may write any key it was given: Redis
 *             marks them may-write, and so do we; the *_RO variants are read).
 *   delete    DEL, UNLINK, GETDEL, the source of RENAME/RENAMENX, MOVE's key (it leaves this
 *             database), MIGRATE's keys (unless COPY), EXPIRE/PEXPIRE with a value <= 0,
 *             EXPIREAT/PEXPIREAT and GETEX EXAT/PXAT with a time not after `now_ns`.
 *   expire    EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST, GETEX with EX/PX/EXAT/PXAT/PERSIST.
 *             (SET ... EX n is a write: the value changes.)
 *   publish   PUBLISH / SPUBLISH: their channel argument (role CHANNEL). Whether the channel is an
 *             application invalidation bus (--channel) is the protocol module's business.
 *   other     WATCH, PFDEBUG, and the channels/patterns of (P|S)(UN)SUBSCRIBE.
 * Per command (keyless): FLUSHDB, FLUSHALL and SWAPDB are class flush (every key of the
 * database(s)); everything else without keys is other. */
#ifndef CACHETAP_CMDTAB_REDIS_H
#define CACHETAP_CMDTAB_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "cachetap/common.h"
#include "cachetap/event.h"
#include "cachetap/limits.h"

/* What an argument is (struct ct_redis_arg.role). */
enum ct_redis_role {
	CT_REDIS_ARG_PLAIN = 0, /* anything else: an option, a number, a field, a script, ... */
	CT_REDIS_ARG_KEY,       /* a key (of the connection's database unless arg.db >= 0) */
	CT_REDIS_ARG_CHANNEL,   /* a pub/sub channel: PUBLISH, SPUBLISH, (S)SUBSCRIBE, (S)UNSUBSCRIBE */
	CT_REDIS_ARG_PATTERN,   /* a pub/sub pattern: PSUBSCRIBE, PUNSUBSCRIBE */
	CT_REDIS_ARG_VALUE,     /* the whole new value of the key at arg.key_index (SET, SETNX,
				   SETEX, PSETEX, GETSET, MSET, MSETNX): fingerprint it for
				   value_hash (SPEC section 5) */
	CT_REDIS_ARG_SUBCMD,    /* the subcommand name of a container (CLIENT REPLY: "REPLY") */
	CT_REDIS_ARG_COUNT
};

/* The meaning of one argument. */
struct ct_redis_arg {
	uint8_t role;       /* enum ct_redis_role */
	uint8_t cls;        /* enum ct_class of a KEY, CHANNEL or PATTERN (VALUE: of its key);
			       CT_CLASS_OTHER for anything else */
	uint8_t pending;    /* provisional: ask ct_redis_cmd_final() after ct_redis_cmd_end() */
	uint8_t secret;     /* a password or an argument we cannot vouch for: never store, log or
			       hash it (ct_redis_cmd_arg only; ct_redis_cmd_final leaves it 0) */
	int32_t db;         /* KEY: its database when it is not the connection's current one
			       (COPY src dst DB n: dst is in n), else -1 */
	uint32_t key_index; /* VALUE: the index of the key it is written to; else 0 */
};

/* Static command flags (struct ct_redis_cmd.flags): those of Redis's COMMAND INFO flags that a
 * passive observer can use, plus CONTAINER. */
enum {
	CT_REDIS_CMD_WRITE = 1u << 0,        /* may modify the dataset */
	CT_REDIS_CMD_READONLY = 1u << 1,     /* only reads */
	CT_REDIS_CMD_ADMIN = 1u << 2,        /* administrative (CONFIG, DEBUG, REPLICAOF, ...) */
	CT_REDIS_CMD_PUBSUB = 1u << 3,       /* pub/sub: allowed in RESP2 subscribed mode (with PING,
						QUIT, RESET) */
	CT_REDIS_CMD_BLOCKING = 1u << 4,     /* may block (BLPOP; XREAD only with BLOCK) */
	CT_REDIS_CMD_SKIP_MONITOR = 1u << 5, /* not shown in MONITOR output */
	CT_REDIS_CMD_NO_AUTH = 1u << 6,      /* allowed before authentication */
	CT_REDIS_CMD_NO_MULTI = 1u << 7,     /* rejected inside MULTI */
	CT_REDIS_CMD_MOVABLEKEYS = 1u << 8,  /* key positions depend on argument values */
	CT_REDIS_CMD_CONTAINER = 1u << 9,    /* argv[1] names a subcommand (subs/nsubs) */
};

/* What a command does to the connection or the server beyond its keys
 * (struct ct_redis_cmdstate.eff, final after ct_redis_cmd_end). The values it carries are in
 * the state fields named in each comment. */
enum {
	CT_REDIS_EFF_HELLO = 1u << 0,       /* HELLO; proto = 2 or 3 when a valid protover was
					       given (the reply then comes in that protocol),
					       else 0 (no switch) */
	CT_REDIS_EFF_AUTH = 1u << 1,        /* credentials presented (AUTH, HELLO ... AUTH) */
	CT_REDIS_EFF_SUBSCRIBE = 1u << 2,   /* SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: RESP2
					       connections enter subscribed mode */
	CT_REDIS_EFF_UNSUBSCRIBE = 1u << 3, /* (P|S)UNSUBSCRIBE */
	CT_REDIS_EFF_REPLY_PER_ARG = 1u << 4, /* one reply (push) per channel/pattern argument, or
					       with none, one per current subscription */
	CT_REDIS_EFF_REPLY_MODE = 1u << 5,  /* CLIENT REPLY; reply_mode = CT_REDIS_REPLY_* */
	CT_REDIS_EFF_NOREPLY = 1u << 6,     /* no reply to THIS command: CLIENT REPLY OFF/SKIP
					       (SKIP also silences the next one), REPLCONF ACK */
	CT_REDIS_EFF_TRACKING = 1u << 7,    /* CLIENT TRACKING; tracking, tracking_opts, redirect */
	CT_REDIS_EFF_CACHING = 1u << 8,     /* CLIENT CACHING; caching = 1 yes, 0 no */
	CT_REDIS_EFF_MULTI = 1u << 9,       /* MULTI: commands are queued until EXEC */
	CT_REDIS_EFF_EXEC = 1u << 10,       /* EXEC: the queued commands run now */
	CT_REDIS_EFF_DISCARD = 1u << 11,    /* DISCARD: the queued commands are dropped */
	CT_REDIS_EFF_REPLICATION = 1u << 12, /* SYNC / PSYNC: the connection becomes a replication
					       link (+FULLRESYNC, RDB, then the command stream) */
	CT_REDIS_EFF_REPLCONF = 1u << 13,   /* REPLCONF; listen_port when listening-port was given */
	CT_REDIS_EFF_MONITOR = 1u << 14,    /* MONITOR: the server streams every command after +OK */
	CT_REDIS_EFF_SELECT = 1u << 15,     /* SELECT; db */
	CT_REDIS_EFF_SWAPDB = 1u << 16,     /* SWAPDB; db and db2 */
	CT_REDIS_EFF_FLUSHDB = 1u << 17,    /* FLUSHDB: every key of the current database */
	CT_REDIS_EFF_FLUSHALL = 1u << 18,   /* FLUSHALL: every key of every database */
	CT_REDIS_EFF_RESET = 1u << 19,      /* RESET: RESP2, db 0, no MULTI, no tracking, reply ON,
					       unsubscribed, unauthenticated (default user) */
	CT_REDIS_EFF_QUIT = 1u << 20,       /* QUIT: the server closes after its reply */
	CT_REDIS_EFF_SHUTDOWN = 1u << 21,   /* SHUTDOWN: no reply when it succeeds */
	CT_REDIS_EFF_BLOCKING = 1u << 22,   /* the reply may wait (BLPOP, XREAD BLOCK, WAIT, ...) */
	CT_REDIS_EFF_SCRIPT = 1u << 23,     /* EVAL/EVALSHA/FCALL(_RO): keys are what the caller
					       declared; the writes themselves replicate as effects */
};

/* CLIENT REPLY modes (struct ct_redis_cmdstate.reply_mode). */
enum { CT_REDIS_REPLY_ON = 0, CT_REDIS_REPLY_OFF = 1, CT_REDIS_REPLY_SKIP = 2 };

/* CLIENT TRACKING options (struct ct_redis_cmdstate.tracking_opts). */
enum {
	CT_REDIS_TRK_BCAST = 1u << 0,
	CT_REDIS_TRK_OPTIN = 1u << 1,
	CT_REDIS_TRK_OPTOUT = 1u << 2,
	CT_REDIS_TRK_NOLOOP = 1u << 3,
	CT_REDIS_TRK_REDIRECT = 1u << 4, /* REDIRECT <client-id> was given: redirect */
	CT_REDIS_TRK_PREFIX = 1u << 5,   /* at least one PREFIX was given */
};

/* Why a command will not run as classified (struct ct_redis_cmdstate.status). */
enum {
	CT_REDIS_ST_UNKNOWN = 1u << 0,     /* not a command we know (module command, typo, garbage) */
	CT_REDIS_ST_UNKNOWN_SUB = 1u << 1, /* a container with an unknown or missing subcommand */
	CT_REDIS_ST_ARITY = 1u << 2,       /* argc does not fit the arity: Redis rejects it */
	CT_REDIS_ST_SYNTAX = 1u << 3,      /* numkeys, STREAMS or MIGRATE arguments Redis rejects
					      before touching any key */
	CT_REDIS_ST_ORDER = 1u << 4,       /* the caller skipped or repeated an argument index */
};

/* Per-argument handlers (struct ct_redis_cmd.handler): the few commands whose keys or effects
 * depend on argument values. Callers should use roles and effects rather than these. */
enum ct_redis_handler {
	CT_REDIS_H_NONE = 0,       /* the legacy key range says it all */
	CT_REDIS_H_CHANNEL,        /* the range holds channels */
	CT_REDIS_H_PATTERN,        /* the range holds patterns */
	CT_REDIS_H_NUMKEYS,        /* argv[kidx] = numkeys >= 1, the keys follow it */
	CT_REDIS_H_NUMKEYS0,       /* the same, numkeys >= 0 (EVAL, FCALL) */
	CT_REDIS_H_XREAD,          /* [GROUP g c] [COUNT n] [BLOCK ms] [NOACK] STREAMS k.. id.. */
	CT_REDIS_H_SORT,           /* SORT k [BY p] [LIMIT o c] [GET p].. [STORE dst] */
	CT_REDIS_H_GEORADIUS,      /* ... [STORE dst] [STOREDIST dst] from argv[kidx] on */
	CT_REDIS_H_MIGRATE,        /* key or "" at 3, options from 6, KEYS k.. */
	CT_REDIS_H_EXPIRE_S,       /* EXPIRE key seconds: <= 0 deletes */
	CT_REDIS_H_EXPIRE_MS,      /* PEXPIRE key ms: <= 0 deletes */
	CT_REDIS_H_EXPIREAT_S,     /* EXPIREAT key unix-s: not after now deletes */
	CT_REDIS_H_EXPIREAT_MS,    /* PEXPIREAT key unix-ms: not after now deletes */
	CT_REDIS_H_GETEX,          /* GETEX key [EX|PX|EXAT|PXAT n | PERSIST] */
	CT_REDIS_H_COPY,           /* COPY src dst [DB n] [REPLACE] */
	CT_REDIS_H_BITFIELD,       /* BITFIELD key: write with SET/INCRBY, else read */
	CT_REDIS_H_SECRET_TAIL,    /* argv[kidx..] are all secret (AUTH, ACL DRYRUN, ...) */
	CT_REDIS_H_HELLO,          /* HELLO [protover [AUTH user pass] [SETNAME name]] */
	CT_REDIS_H_CONFIG_SET,     /* CONFIG SET param value ...: values of *pass*|*auth* secret */
	CT_REDIS_H_ACL_SETUSER,    /* ACL SETUSER user rule...: rules with > < # ! secret */
	CT_REDIS_H_SELECT,         /* SELECT db */
	CT_REDIS_H_SWAPDB,         /* SWAPDB a b */
	CT_REDIS_H_REPLCONF,       /* REPLCONF option value ... */
	CT_REDIS_H_CLIENT_REPLY,   /* CLIENT REPLY ON|OFF|SKIP */
	CT_REDIS_H_CLIENT_TRACKING, /* CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p].. [BCAST]... */
	CT_REDIS_H_CLIENT_CACHING, /* CLIENT CACHING YES|NO */
	CT_REDIS_H_COUNT
};

/* One table entry: a command, or a subcommand of a container. Key positions count argv[0] (and
 * for subcommands argv[1]) like Redis does: OBJECT ENCODING key has its key at 2. */
struct ct_redis_cmd {
	const char *name;      /* canonical, upper case: "GET", "ENCODING" (subcommand) */
	uint8_t len;           /* bytes in name */
	int8_t arity;          /* Redis arity: N > 0 exactly N arguments (with the name), -N at
				  least N */
	int8_t first, last, step; /* legacy key range: first key, last key (negative: from the end,
				     -1 = the last argument), step; 0, 0, 0: none */
	uint8_t cls;           /* enum ct_class of the first key; of the command when keyless */
	uint8_t cls_rest;      /* enum ct_class of every other key */
	uint8_t handler;       /* enum ct_redis_handler */
	uint8_t kidx;          /* handler parameter: numkeys index, first option index, ... */
	uint8_t value_off;     /* the value written to the key at i is argv[i + value_off]; 0 none */
	uint32_t eff;          /* CT_REDIS_EFF_* the command always has (others depend on args) */
	uint32_t flags;        /* CT_REDIS_CMD_* */
	const struct ct_redis_cmd *subs; /* CONTAINER: its subcommands, sorted by name */
	uint16_t nsubs;
};

/* The classifier's state for one command. Embed it; it needs no cleanup. Fields above the
 * private line are results (final after ct_redis_cmd_end). */
struct ct_redis_cmdstate {
	const struct ct_redis_cmd *top; /* the command, NULL when unknown */
	const struct ct_redis_cmd *cmd; /* the subcommand once argv[1] named it, else == top */
	int64_t argc;          /* arguments with the name, -1 while unknown */
	uint32_t eff;          /* CT_REDIS_EFF_* */
	uint32_t status;       /* CT_REDIS_ST_*: 0 when it looks runnable */
	int64_t db, db2;       /* SELECT db; SWAPDB db db2; COPY ... DB db2 (else -1) */
	int64_t proto;         /* HELLO protover (2 or 3), 0 when none or invalid */
	int64_t redirect;      /* CLIENT TRACKING REDIRECT client-id */
	int64_t listen_port;   /* REPLCONF listening-port, -1 when not given */
	int64_t ack_offset;    /* REPLCONF ACK: the replica's replication offset, -1 when not given */
	uint8_t reply_mode;    /* CT_REDIS_REPLY_* */
	uint8_t tracking;      /* CLIENT TRACKING: 1 ON, 0 OFF */
	uint8_t tracking_opts; /* CT_REDIS_TRK_* */
	uint8_t caching;       /* CLIENT CACHING: 1 YES, 0 NO */
	/* ---- private: the parse so far ---- */
	uint32_t next;         /* index the next ct_redis_cmd_arg must have */
	uint32_t kstart;       /* first index of movable keys (after numkeys, STREAMS or KEYS) */
	uint32_t store_idx;    /* SORT / GEORADIUS: index of the last STORE destination, 0 none */
	uint32_t skip;         /* option values still to pass over */
	uint32_t secret_left;  /* arguments still to come that are secret */
	int64_t num;           /* numkeys, or the expiry value */
	uint8_t expect;        /* what the next argument is (X_* in cmdtab_redis.c) */
	uint8_t pf;            /* parse flags (P_* in cmdtab_redis.c) */
	uint8_t xkind;         /* GETEX: which expiry option (K_* in cmdtab_redis.c) */
	uint8_t ended;         /* ct_redis_cmd_end was called */
	uint64_t now_ms;       /* ct_redis_cmd_end's now_ns in ms (0: unknown) */
};

/* The whole table, sorted by name, for tests and tools. */
const struct ct_redis_cmd *ct_redis_cmd_table(size_t *n);

/* Case-insensitive lookup of a command name given as (p, len); no NUL needed, no str*()
 * on it. Returns NULL when unknown (also for names longer than CT_CMDTAB_REDIS_NAME_MAX_BYTES). */
const struct ct_redis_cmd *ct_redis_cmd_lookup(const uint8_t *p, size_t len);

/* The same within a container's subcommands; NULL when `parent` has none or does not know it. */
const struct ct_redis_cmd *ct_redis_cmd_lookup_sub(const struct ct_redis_cmd *parent,
						    const uint8_t *p, size_t len);

/* Starts classifying a command named (p, len) with `argc` arguments counting the name (-1 when
 * not known yet, e.g. an inline command). Returns 0 when the command is known, CT_EUNSUP when it
 * is not (the state is still valid: every argument is then plain and secret). */
int ct_redis_cmd_begin(struct ct_redis_cmdstate *st, const uint8_t *p, size_t len, int64_t argc);

/* Argument `index` (1, 2, ... in order) has `full_len` bytes, of which the first `len` are at
 * `p` (len < full_len when the decoder cut it; a cut argument never matches a keyword or a
 * number). Fills *out (see struct ct_redis_arg and the contract at the top). Returns 0, or
 * CT_EINVAL when `index` is not the one expected (the state is then marked CT_REDIS_ST_ORDER:
 * no keys, every later argument secret). */
int ct_redis_cmd_arg(struct ct_redis_cmdstate *st, uint32_t index, const uint8_t *p, size_t len,
		     uint64_t full_len, struct ct_redis_arg *out);

/* The command is complete with `argc` arguments (-1: the count given to begin still holds, or
 * the number of arguments seen). `now_ns` is the capture time of its last byte, in ns since the
 * Unix epoch (0: unknown), against which EXPIREAT/PEXPIREAT/GETEX EXAT/PXAT times are judged.
 * Settles eff and status. */
void ct_redis_cmd_end(struct ct_redis_cmdstate *st, int64_t argc, uint64_t now_ns);

/* The final meaning of argument `index` (0 = the name: PLAIN), after ct_redis_cmd_end (before
 * it, the provisional one). `secret` is always 0 here: secrets are decided by ct_redis_cmd_arg. */
void ct_redis_cmd_final(const struct ct_redis_cmdstate *st, uint32_t index,
			struct ct_redis_arg *out);

/* The class of the command as a whole: of a keyless command (FLUSHDB: flush, PING: other), or
 * of its first key. CT_CLASS_OTHER when unknown. */
unsigned ct_redis_cmd_class(const struct ct_redis_cmdstate *st);

/* "KEY", "CHANNEL", ... for a role; "?" when unknown. */
const char *ct_redis_role_name(unsigned role);

#endif
