/* `cachetap drive SCENARIO`: runs a scenario (scenario.h) against an application and its
 * caches, with libcurl for the HTTP calls and hiredis and a small memcached client for the
 * direct cache checks. With -i IFACE the capture runs in the same process, so that
 * `wait invalidation` is satisfied by invalidations observed on the wire. */
#ifndef CACHETAP_DRIVE_H
#define CACHETAP_DRIVE_H

#include <stddef.h>
#include <stdint.h>

#include "cachetap/common.h"

/* argv[0] is "drive". Returns the exit status: 0 every assertion held, 1 one failed (or the
 * run failed), 2 bad scenario or usage. */
int ct_cmd_drive(int argc, char **argv);

/* ---- the memcached client's reply parser (exposed for its unit test) ---- */

enum ct_mc_reply_kind {
	CT_MC_REPLY_MISS = 1, /* END (get) or EN (mg) */
	CT_MC_REPLY_VALUE,    /* VALUE ... END (get) or VA (mg): value/value_len */
	CT_MC_REPLY_ERROR,    /* ERROR, CLIENT_ERROR, SERVER_ERROR, or another status line:
				 the line is in text/text_len */
};

struct ct_mc_reply {
	int kind;
	const uint8_t *value; /* points into the caller's bytes */
	size_t value_len;
	const uint8_t *text;  /* the first line, CRLF excluded */
	size_t text_len;
};

/* Parses the reply to one `get KEY` (mg = 0) or `mg KEY v` (mg = 1) from the bytes received so
 * far. Returns the bytes the reply takes (> 0) with *r filled, 0 when more bytes are needed, or
 * CT_EPROTO (not such a reply, or a line over CT_DRIVE_MC_LINE_MAX_BYTES) or CT_ELIMIT (a value
 * over CT_DRIVE_VALUE_MAX_BYTES). Reads only through a bounds-checked cursor. */
int64_t ct_drive_mc_reply(const uint8_t *p, size_t len, int mg, struct ct_mc_reply *r);

#endif
