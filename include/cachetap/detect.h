/* Payload detection: which protocol a connection on an unconfigured port speaks, from the
 * first bytes of either direction. It decides only on evidence: a complete RESP command whose
 * name Redis knows, a complete memcached command or reply line (or binary header), a RESP
 * reply that memcached could never send. Anything less is "unknown" or "need more". */
#ifndef CACHETAP_DETECT_H
#define CACHETAP_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "cachetap/event.h"

enum ct_detect_status {
	CT_DETECT_UNKNOWN = 0, /* not one of ours, as far as these bytes show */
	CT_DETECT_NEED_MORE,   /* could be: no complete message yet */
	CT_DETECT_FOUND,       /* proto and from_client are set */
};

struct ct_detect {
	uint8_t proto;       /* enum ct_proto */
	uint8_t from_client; /* the bytes are requests (1) or replies (0) */
};

/* Looks at the first bytes of a stream (a whole chunk; it is not kept). `allow` is a mask of
 * (1u << CT_PROTO_*) protocols that may be chosen. */
enum ct_detect_status ct_detect(const uint8_t *p, size_t len, unsigned allow, struct ct_detect *out);

#endif
