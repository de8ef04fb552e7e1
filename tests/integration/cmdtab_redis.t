#!/usr/bin/env bash
# The Redis command table against a live redis-server on a random loopback port: every
# command the server knows, with its arity, key range and flags, and COMMAND GETKEYS on a few
# hundred sample commands (tools/gen-cmdtab-check.sh; the server is killed by PID on exit).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/tools/gen-cmdtab-check.sh" "${CT_BUILD:-$top/build}"
