/* Names of the event model's enums, as the timeline view spells them (SPEC section 5). */
#include "cachetap/event.h"

const char *ct_class_name(unsigned cls)
{
	static const char *const n[CT_CLASS_COUNT] = { "read",	 "write",  "delete",  "invalidate",
						      "expire", "flush",  "publish", "other" };
	return cls < CT_CLASS_COUNT ? n[cls] : "other";
}

const char *ct_status_name(unsigned st)
{
	static const char *const n[CT_STATUS_COUNT] = { "ok",	 "hit",	    "miss",
						       "error", "noreply", "unanswered" };
	return st < CT_STATUS_COUNT ? n[st] : "error";
}

const char *ct_via_name(unsigned via)
{
	static const char *const n[CT_VIA_COUNT] = { "command", "push", "replication" };
	return via < CT_VIA_COUNT ? n[via] : "command";
}

const char *ct_proto_name(unsigned proto)
{
	switch (proto) {
	case CT_PROTO_REDIS: return "redis";
	case CT_PROTO_MEMCACHED: return "memcached";
	case CT_PROTO_HTTP: return "http";
	}
	return NULL;
}
