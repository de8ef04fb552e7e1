#!/usr/bin/env bash
# Checks cachetap's Redis command table (src/cmdtab_redis.c) against a live redis-server, as TAP:
# every command and subcommand the server knows must be in the table with the same arity, key
# range and flags, and for every sample command below our keys must equal what
# COMMAND GETKEYS answers (with argc known up front and only at the end, as for inline
# commands). Run it after changing the table, or when a new Redis comes out; the server's
# answers are the ground truth the table was derived from.
#
# Usage: tools/gen-cmdtab-check.sh [BUILD_DIR]      (default: $CT_BUILD, else build)
#        PORT=6379 tools/gen-cmdtab-check.sh        use a server already running on PORT
# Exit status: 0 all good, 1 a mismatch, 2 missing tool or server.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${CT_BUILD:-$top/build}}
tool=$build/tools/cmdkeys
if [ ! -x "$tool" ]; then
	echo "1..0 # SKIP $tool not built (make)"
	exit 0
fi
pid=
tmp=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
	if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
port=${PORT:-}
if [ -z "$port" ]; then
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		echo "1..0 # SKIP redis-server/redis-cli not installed"
		exit 0
	fi
	tmp=$(mktemp -d)
	for _ in 1 2 3 4 5; do
		port=$(( 20000 + RANDOM % 30000 ))
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--dir "$tmp" --logfile "$tmp/redis.log" &
		pid=$!
		for _ in $(seq 50); do
			redis-cli -p "$port" ping >/dev/null 2>&1 && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		redis-cli -p "$port" ping >/dev/null 2>&1 && break
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
	done
	if [ -z "$pid" ]; then
		echo "1..0 # SKIP could not start redis-server on a loopback port"
		exit 0
	fi
fi
echo "# $(redis-server --version 2>/dev/null | head -1), port $port"

# One command per line, arguments separated by single spaces, "" for an empty argument.
"$tool" --check "$port" - <<'SAMPLES'
# strings
GET k
SET k v
SET k v EX 10 NX GET
SETEX k 10 v
PSETEX k 100 v
SETNX k v
GETSET k v
GETDEL k
GETEX k PERSIST
GETEX k EX 10
APPEND k v
STRLEN k
GETRANGE k 0 -1
SETRANGE k 0 v
INCR k
INCRBY k 2
DECR k
INCRBYFLOAT k 1.5
MGET a b c
MSET a 1 b 2 c 3
MSETNX a 1 b 2
LCS a b
SUBSTR k 0 1
# keyspace
DEL a b c
UNLINK a b
EXISTS a b
TOUCH a b
TYPE k
TTL k
PTTL k
EXPIRE k 10
EXPIRE k -1
EXPIRE k 10 NX
PEXPIRE k 100
EXPIREAT k 1
PEXPIREAT k 1
EXPIRETIME k
PEXPIRETIME k
PERSIST k
RENAME a b
RENAMENX a b
COPY a b
COPY a b DB 2 REPLACE
MOVE k 1
DUMP k
RESTORE k 0 payload
RESTORE k 0 payload REPLACE ABSTTL
OBJECT ENCODING k
OBJECT FREQ k
OBJECT IDLETIME k
OBJECT REFCOUNT k
MEMORY USAGE k
MEMORY USAGE k SAMPLES 5
SORT k
SORT k ALPHA
SORT k STORE d
SORT k BY w GET # LIMIT 0 10 DESC STORE d
SORT k LIMIT 0 1 STORE d
SORT k STORE d STORE e
SORT k GET STORE
SORT k BY STORE STORE d
SORT_RO k BY w
WATCH a b
# bits
SETBIT k 7 1
GETBIT k 7
BITCOUNT k
BITPOS k 1
BITOP AND d a b
BITOP NOT d a
BITFIELD k GET u8 0
BITFIELD k SET u8 0 1
BITFIELD_RO k GET u8 0
# hashes
HSET h f v
HSET h f v g w
HMSET h f v
HSETNX h f v
HGET h f
HMGET h f g
HGETALL h
HKEYS h
HVALS h
HLEN h
HEXISTS h f
HDEL h f g
HINCRBY h f 1
HINCRBYFLOAT h f 1.5
HSTRLEN h f
HRANDFIELD h 2
HSCAN h 0
# lists
LPUSH l a b
RPUSH l a
LPUSHX l a
RPUSHX l a
LPOP l
RPOP l 2
LLEN l
LINDEX l 0
LRANGE l 0 -1
LSET l 0 v
LREM l 0 v
LTRIM l 0 1
LINSERT l BEFORE a b
LPOS l a
LMOVE a b LEFT RIGHT
RPOPLPUSH a b
BLPOP a b 0
BRPOP a 1
BLMOVE a b LEFT LEFT 0
BRPOPLPUSH a b 0
LMPOP 2 a b LEFT
LMPOP 1 a RIGHT COUNT 2
BLMPOP 0 2 a b LEFT
# sets
SADD s a b
SREM s a
SMEMBERS s
SISMEMBER s a
SMISMEMBER s a b
SCARD s
SPOP s
SRANDMEMBER s 2
SMOVE a b m
SINTER a b
SUNION a b
SDIFF a b
SINTERSTORE d a b
SUNIONSTORE d a b
SDIFFSTORE d a b
SINTERCARD 2 a b
SINTERCARD 1 a LIMIT 5
SSCAN s 0
# sorted sets
ZADD z 1 a
ZADD z NX 1 a 2 b
ZREM z a
ZSCORE z a
ZMSCORE z a b
ZINCRBY z 1 a
ZCARD z
ZCOUNT z 0 1
ZLEXCOUNT z - +
ZRANK z a
ZREVRANK z a
ZRANGE z 0 -1
ZRANGE z 0 -1 WITHSCORES
ZRANGEBYSCORE z 0 1
ZREVRANGEBYSCORE z 1 0
ZRANGEBYLEX z - +
ZREVRANGE z 0 1
ZRANGESTORE d z 0 -1
ZREMRANGEBYRANK z 0 1
ZREMRANGEBYSCORE z 0 1
ZREMRANGEBYLEX z - +
ZPOPMIN z
ZPOPMAX z 2
BZPOPMIN a b 0
BZPOPMAX a 0
ZMPOP 2 a b MIN
BZMPOP 0 1 a MAX COUNT 2
ZUNION 2 a b
ZINTER 2 a b WITHSCORES
ZDIFF 2 a b
ZUNIONSTORE d 2 a b
ZUNIONSTORE d 2 a b WEIGHTS 1 2 AGGREGATE MAX
ZINTERSTORE d 1 a
ZDIFFSTORE d 2 a b
ZINTERCARD 2 a b
ZRANDMEMBER z
ZSCAN z 0
# hyperloglog
PFADD h a b
PFCOUNT a b
PFMERGE d a b
# geo
GEOADD g 1 2 m
GEOPOS g m
GEODIST g a b
GEOHASH g m
GEORADIUS g 1 2 3 m
GEORADIUS g 1 2 3 m STORE d
GEORADIUS g 1 2 3 km WITHDIST STOREDIST d
GEORADIUSBYMEMBER g m 3 km
GEORADIUSBYMEMBER g m 3 km STORE d
GEORADIUS_RO g 1 2 3 m
GEORADIUSBYMEMBER_RO g m 3 km
GEOSEARCH g FROMMEMBER m BYRADIUS 1 km
GEOSEARCHSTORE d g FROMMEMBER m BYRADIUS 1 km
# streams
XADD s * f v
XLEN s
XRANGE s - +
XREVRANGE s + -
XDEL s 1-0
XTRIM s MAXLEN 10
XREAD STREAMS a 0
XREAD COUNT 2 STREAMS a b 0 0
XREAD COUNT 2 BLOCK 0 STREAMS a b c 0 0 0
XREADGROUP GROUP g c STREAMS a >
XREADGROUP GROUP g c COUNT 1 BLOCK 10 NOACK STREAMS a b > >
XREADGROUP GROUP STREAMS c STREAMS a >
XACK s g 1-0
XCLAIM s g c 0 1-0
XAUTOCLAIM s g c 0 0
XPENDING s g
XSETID s 1-0
XGROUP CREATE s g $
XGROUP CREATE s g $ MKSTREAM
XGROUP SETID s g $
XGROUP DESTROY s g
XGROUP CREATECONSUMER s g c
XGROUP DELCONSUMER s g c
XINFO STREAM s
XINFO STREAM s FULL
XINFO GROUPS s
XINFO CONSUMERS s g
# scripting
EVAL s 0
EVAL s 2 a b x
EVAL s 1 a
EVALSHA sha 1 a x y
EVAL_RO s 1 a
EVALSHA_RO sha 2 a b
FCALL f 1 a x
FCALL_RO f 2 a b
EVAL s 3 a b
# migrate
MIGRATE h 6379 k 0 10
MIGRATE h 6379 k 0 10 COPY REPLACE
MIGRATE h 6379 "" 0 10 KEYS a b
MIGRATE h 6379 "" 0 10 COPY KEYS a
MIGRATE h 6379 "" 0 10 AUTH pw KEYS a b
MIGRATE h 6379 "" 0 10 AUTH2 u pw KEYS a
MIGRATE h 6379 k 0 10 AUTH KEYS
MIGRATE h 6379 "" 0 10
# no keys
PFDEBUG GETREG k
PING
ECHO x
DBSIZE
KEYS *
SCAN 0
RANDOMKEY
FLUSHDB
FLUSHALL ASYNC
SWAPDB 0 1
SELECT 1
PUBLISH ch msg
SPUBLISH ch msg
SUBSCRIBE a b
SSUBSCRIBE a b
PSUBSCRIBE p*
UNSUBSCRIBE
MULTI
EXEC
INFO
TIME
WAIT 0 0
CLIENT ID
CLIENT SETNAME x
CONFIG GET maxmemory
# arity and numkeys errors: no keys on either side
GET
GET a b
SET k
OBJECT ENCODING
ZUNIONSTORE d 0 a
ZUNIONSTORE d x a
ZUNIONSTORE d -1 a
ZUNION 0
LMPOP 0 a LEFT
MIGRATE h 6379 k 0 10 KEYS a b
XREAD STREAMS
SAMPLES
