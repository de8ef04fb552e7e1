/* Text for cachetap's error codes (common.h). */
#include "cachetap/common.h"

const char *ct_strerror(int err)
{
	switch (err) {
	case CT_OK: return "success";
	case CT_ENOMEM: return "out of memory";
	case CT_EINVAL: return "invalid argument";
	case CT_EIO: return "input/output error";
	case CT_ELIMIT: return "limit reached";
	case CT_EPROTO: return "protocol error";
	case CT_EPCAP: return "libpcap error";
	case CT_ESQL: return "SQLite error";
	case CT_ETRUNC: return "truncated input";
	case CT_EUNSUP: return "not supported";
	}
	return "unknown error";
}
