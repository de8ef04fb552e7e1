/* The memcached command table: what each command means for invalidation (SPEC section 3), how
 * its reply is framed, and what each reply says about the key (SPEC section 5 statuses).
 *
 * The memcached protocol module (src/mc_pair.c) asks these tables every question about
 * meaning; it holds no per-command ifs of its own. The decisions, and why, are written next to
 * the rows in src/cmdtab_mc.c. Everything here is constant data and pure functions. */
#ifndef CACHETAP_CMDTAB_MC_H
#define CACHETAP_CMDTAB_MC_H

#include <stdint.h>

#include "cachetap/event.h"
#include "cachetap/mc.h"

/* How the reply of a request is framed: which reply words can open it and which keep it
 * going. Text and meta requests take their kind from the table; binary requests are always
 * one response packet, except STAT (packets until one with an empty key). */
enum ct_mc_reply_kind {
	CT_MC_RK_NONE = 0, /* no reply, ever (text quit) */
	CT_MC_RK_STORE,    /* STORED | NOT_STORED | EXISTS | NOT_FOUND */
	CT_MC_RK_GET,      /* VALUE ... END: one VALUE per hit, in request order */
	CT_MC_RK_DELETE,   /* DELETED | NOT_FOUND */
	CT_MC_RK_ARITH,    /* <number> | NOT_FOUND */
	CT_MC_RK_TOUCH,    /* TOUCHED | NOT_FOUND */
	CT_MC_RK_OK,       /* OK */
	CT_MC_RK_VERSION,  /* VERSION <text> */
	CT_MC_RK_LINES,    /* STAT or other lines ... END, or one OK/RESET (stats, lru_crawler) */
	CT_MC_RK_ANY,      /* one line, whatever its word (admin and unknown commands) */
	CT_MC_RK_STREAM,   /* OK, then log lines for as long as the connection lives (watch) */
	CT_MC_RK_MG,       /* VA | HD | EN */
	CT_MC_RK_MS,       /* HD | NS | EX | NF */
	CT_MC_RK_MD,       /* HD | NF | EX */
	CT_MC_RK_MA,       /* HD | VA | NF | NS | EX */
	CT_MC_RK_MN,       /* MN */
	CT_MC_RK_ME,       /* ME <text> | EN */
	CT_MC_RK_BINARY,   /* one response packet with the request's opcode and opaque */
	CT_MC_RK_BINSTAT,  /* response packets until one with an empty key (binary STAT) */
	CT_MC_RK__COUNT
};

/* What a reply says, whatever its protocol: the row of the status table it selects. */
enum ct_mc_outcome {
	CT_MC_OUT_SUCCESS = 0, /* STORED DELETED TOUCHED OK <number> VALUE HD VA MN ME, status 0 */
	CT_MC_OUT_NOTFOUND,    /* NOT_FOUND EN NF, KEY_ENOENT */
	CT_MC_OUT_NOTSTORED,   /* NOT_STORED NS, NOT_STORED */
	CT_MC_OUT_EXISTS,      /* EXISTS EX, KEY_EEXISTS */
	CT_MC_OUT_ERROR,       /* ERROR CLIENT_ERROR SERVER_ERROR, any other binary status */
	CT_MC_OUT__COUNT
};

/* Row flags. */
enum {
	CT_MC_CI_KEYED = 1u << 0,    /* names one key */
	CT_MC_CI_MULTIKEY = 1u << 1, /* names keys through the key callback (get gets gat gats) */
	CT_MC_CI_NOREPLY = 1u << 2,  /* text "noreply" is honoured: no reply comes */
	CT_MC_CI_VALUE = 1u << 3,    /* the request carries the value it writes */
};

/* Notes: short words that go into the event's detail (bit i = ct_mc_note_name(i)). */
enum {
	CT_MC_NOTE_TOUCH = 1u << 0,      /* gat, gats, mg T: a read that also sets the TTL */
	CT_MC_NOTE_INVALIDATE = 1u << 1, /* ms I: set-to-stale when the CAS is older */
	CT_MC_NOTE_ADD = 1u << 2,        /* ms ME */
	CT_MC_NOTE_APPEND = 1u << 3,     /* ms MA */
	CT_MC_NOTE_PREPEND = 1u << 4,    /* ms MP */
	CT_MC_NOTE_REPLACE = 1u << 5,    /* ms MR */
	CT_MC_NOTE_VIVIFY = 1u << 6,     /* mg N without R: a W reply means the key was created */
	CT_MC_NOTE__COUNT = 7
};

struct ct_mc_cmdinfo {
	uint8_t cls;          /* enum ct_class */
	uint8_t reply;        /* enum ct_mc_reply_kind of the text/meta form */
	uint8_t quiet_status; /* status of a quiet request a later reply proved done */
	uint8_t flags;        /* CT_MC_CI_* */
	uint16_t notes;       /* CT_MC_NOTE_* every such request carries */
	uint8_t status[CT_MC_OUT__COUNT]; /* enum ct_status per outcome */
};

/* One request as the table reads it: the class, the row whose statuses apply (ms modes borrow
 * the row of add/append/prepend/replace), the reply framing, and the detail notes. */
struct ct_mc_class {
	const struct ct_mc_cmdinfo *ci; /* the command's own row */
	const struct ct_mc_cmdinfo *st; /* the row whose status[] and quiet_status apply */
	uint8_t cls;                    /* enum ct_class, after meta flags (md I = invalidate) */
	uint8_t reply;                  /* enum ct_mc_reply_kind, for this request's protocol */
	uint16_t notes;                 /* CT_MC_NOTE_* */
	uint32_t quiet_fits;            /* meta q: the reply words (bit = CT_MC_R_x - CT_MC_R_VALUE)
					   it can still be answered with; quiet mode suppresses
					   the common one and its flags rule out others */
};

/* The row of a command (CT_MC_CMD_*); unknown values get the CT_MC_CMD_UNKNOWN row. */
const struct ct_mc_cmdinfo *ct_mc_cmdinfo(unsigned cmd);

/* Reads one decoded request (client side message) through the table. */
void ct_mc_classify(const struct ct_mc_msg *req, struct ct_mc_class *out);

/* Can a quiet meta request read as k be answered with reply word reply_cmd? */
int ct_mc_quiet_fits(const struct ct_mc_class *k, unsigned reply_cmd);

/* What a reply message says (server side message). */
unsigned ct_mc_outcome(const struct ct_mc_msg *reply);

/* Text/meta reply words (CT_MC_R_*): can `reply_cmd` be part of a reply of kind `rk`, and
 * does that reply go on after it? */
int ct_mc_reply_fits(unsigned rk, unsigned reply_cmd);
int ct_mc_reply_more(unsigned rk, unsigned reply_cmd);

/* Does an event for a request of this reply kind go out at the first reply message, rather
 * than at the last (a stream has no last)? */
int ct_mc_reply_emit_early(unsigned rk);

/* The status a reply gives one request (or one key of a multi-key get): the status row's
 * entry for the outcome, with the meta rules applied (mg N: a W without X is a miss). */
unsigned ct_mc_status(const struct ct_mc_class *k, unsigned outcome, const struct ct_mc_msg *reply);

/* The event flags of a meta reply: X -> CT_EV_STALE, W -> CT_EV_WIN, Z -> CT_EV_WON_ALREADY. */
uint32_t ct_mc_reply_evflags(const struct ct_mc_msg *reply);

/* Names: a note bit's word ("touch"), a binary response status ("KEY_ENOENT", NULL when not
 * known). */
const char *ct_mc_note_name(unsigned bit);
const char *ct_mc_bin_status_name(uint16_t status);

#endif
