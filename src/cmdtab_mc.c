/* The memcached command table: class, reply framing and statuses of every text, meta and
 * binary command (SPEC sections 3 and 5), after memcached doc/protocol.txt (1.6) and the binary
 * protocol (protocol_binary.h), checked against memcached 1.6.18 where the documents are
 * silent. Constant tables and pure functions only: no limits apply here.
 *
 * Decisions (each is what the reply tells us about the key on that node):
 *  - A write that was applied is ok. A write refused because the key was absent (replace,
 *    append, prepend: NOT_STORED; cas, incr, decr, touch: NOT_FOUND; binary KEY_ENOENT) is
 *    a miss: like a delete that finds nothing, it shows the node holds no value. A write
 *    refused because the key is present or changed (add: NOT_STORED; cas: EXISTS; ms: NS in
 *    add mode, EX) is an error, with the reply word in the event's detail.
 *  - delete/md NOT_FOUND (NF, KEY_ENOENT) is a miss: nothing to remove, the node holds no
 *    value, which is what an invalidation wants to be true.
 *  - Reads: VALUE, VA, HD and binary success are hits; END without the key, EN and KEY_ENOENT
 *    are misses. mg with N (vivify) and no R answers a miss with W and no X: that is a miss.
 *  - ERROR, CLIENT_ERROR, SERVER_ERROR, unknown reply lines and binary statuses other than
 *    the ones above are errors.
 *  - gat/gats are reads (they return the value) and carry the note "touch"; touch is expire.
 *  - md with I marks the item stale instead of removing it: invalidate. ms with I is still a
 *    write (set-to-stale when the supplied CAS is older), noted "invalidate". ms modes E A P
 *    R borrow the statuses of add, append, prepend and replace.
 *  - incr/decr/ma are writes without a value fingerprint: memcached stores the number padded
 *    in place, so a fingerprint of the reply's digits would not match a later read.
 *  - Every request becomes an event, admin commands (stats, version, verbosity, mn, me, ...)
 *    as class other with no key, so the timeline is complete.
 *  - A quiet meta request can only be answered by what quiet mode does not suppress and its
 *    flags allow (quiet_rules): mg by VA/HD, md by NF (EX with C), ms by NS in modes E A P R
 *    (EX/NF with C), ma by NF (NS with N, EX with C); errors always. This is what tells
 *    "ms a q" from "ms b q ME" when an NS comes back with no O token.
 *  - Quiet requests (meta q, binary ...Q) that a later reply proved done take quiet_status:
 *    mg q and GETQ/GETKQ/GATQ/GATKQ suppress only the miss, so they were misses; every other
 *    quiet command suppresses only its success, so it was ok. A quiet quit has no reply at
 *    all: noreply. */
#include "cachetap/cmdtab_mc.h"

#define OK CT_STATUS_OK
#define HIT CT_STATUS_HIT
#define MISS CT_STATUS_MISS
#define ERR CT_STATUS_ERROR
#define NOR CT_STATUS_NOREPLY

#define KEYED CT_MC_CI_KEYED
#define MULTI (CT_MC_CI_KEYED | CT_MC_CI_MULTIKEY)
#define NRP CT_MC_CI_NOREPLY
#define VAL CT_MC_CI_VALUE

/* status[] columns: success, not found, not stored, exists, error */
#define S_READ { HIT, MISS, ERR, ERR, ERR }
#define S_WRITE { OK, MISS, ERR, ERR, ERR }     /* set, add, cas, delete, incr, touch, ms, md */
#define S_NEEDKEY { OK, MISS, MISS, ERR, ERR }  /* replace, append, prepend: NOT_STORED = absent */
#define S_ADMIN { OK, OK, ERR, ERR, ERR }       /* stats, lru_crawler mgdump (ends with EN) */
#define S_OTHER { OK, MISS, ERR, ERR, ERR }

static const struct ct_mc_cmdinfo rows[CT_MC_R_VALUE] = {
	/*                        class                 reply              quiet  flags            notes */
	[CT_MC_CMD_NONE] =      { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  0,               0, S_OTHER },
	[CT_MC_CMD_UNKNOWN] =   { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  0,               0, S_OTHER },
	[CT_MC_CMD_GET] =       { CT_CLASS_READ,       CT_MC_RK_GET,      MISS, MULTI,          0, S_READ },
	[CT_MC_CMD_GETS] =      { CT_CLASS_READ,       CT_MC_RK_GET,      MISS, MULTI,          0, S_READ },
	[CT_MC_CMD_GAT] =       { CT_CLASS_READ,       CT_MC_RK_GET,      MISS, MULTI, CT_MC_NOTE_TOUCH, S_READ },
	[CT_MC_CMD_GATS] =      { CT_CLASS_READ,       CT_MC_RK_GET,      MISS, MULTI, CT_MC_NOTE_TOUCH, S_READ },
	[CT_MC_CMD_SET] =       { CT_CLASS_WRITE,      CT_MC_RK_STORE,    OK,  KEYED | NRP | VAL, 0, S_WRITE },
	[CT_MC_CMD_ADD] =       { CT_CLASS_WRITE,      CT_MC_RK_STORE,    OK,  KEYED | NRP | VAL, 0, S_WRITE },
	[CT_MC_CMD_REPLACE] =   { CT_CLASS_WRITE,      CT_MC_RK_STORE,    OK,  KEYED | NRP | VAL, 0, S_NEEDKEY },
	[CT_MC_CMD_APPEND] =    { CT_CLASS_WRITE,      CT_MC_RK_STORE,    OK,  KEYED | NRP | VAL, 0, S_NEEDKEY },
	[CT_MC_CMD_PREPEND] =   { CT_CLASS_WRITE,      CT_MC_RK_STORE,    OK,  KEYED | NRP | VAL, 0, S_NEEDKEY },
	[CT_MC_CMD_CAS] =       { CT_CLASS_WRITE,      CT_MC_RK_STORE,    OK,  KEYED | NRP | VAL, 0, S_WRITE },
	[CT_MC_CMD_DELETE] =    { CT_CLASS_DELETE,     CT_MC_RK_DELETE,   OK,  KEYED | NRP,     0, S_WRITE },
	[CT_MC_CMD_INCR] =      { CT_CLASS_WRITE,      CT_MC_RK_ARITH,    OK,  KEYED | NRP,     0, S_WRITE },
	[CT_MC_CMD_DECR] =      { CT_CLASS_WRITE,      CT_MC_RK_ARITH,    OK,  KEYED | NRP,     0, S_WRITE },
	[CT_MC_CMD_TOUCH] =     { CT_CLASS_EXPIRE,     CT_MC_RK_TOUCH,    OK,  KEYED | NRP,     0, S_WRITE },
	[CT_MC_CMD_FLUSH_ALL] = { CT_CLASS_FLUSH,      CT_MC_RK_OK,       OK,  NRP,             0, S_OTHER },
	[CT_MC_CMD_VERBOSITY] = { CT_CLASS_OTHER,      CT_MC_RK_OK,       OK,  NRP,             0, S_OTHER },
	[CT_MC_CMD_VERSION] =   { CT_CLASS_OTHER,      CT_MC_RK_VERSION,  OK,  0,               0, S_OTHER },
	[CT_MC_CMD_STATS] =     { CT_CLASS_OTHER,      CT_MC_RK_LINES,    OK,  0,               0, S_ADMIN },
	/* quit closes the connection: no reply in text, none for binary QUITQ either */
	[CT_MC_CMD_QUIT] =      { CT_CLASS_OTHER,      CT_MC_RK_NONE,     NOR, 0,               0, S_OTHER },
	/* shutdown answers ERROR unless enabled (-A), then the connection just ends */
	[CT_MC_CMD_SHUTDOWN] =  { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  NRP,             0, S_OTHER },
	[CT_MC_CMD_CACHE_MEMLIMIT] = { CT_CLASS_OTHER, CT_MC_RK_ANY,      OK,  NRP,             0, S_OTHER },
	/* slabs answers OK or words of its own (BUSY, NOSPARE, ...): those are errors */
	[CT_MC_CMD_SLABS] =     { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  NRP,             0, S_OTHER },
	[CT_MC_CMD_LRU] =       { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  NRP,             0, S_OTHER },
	[CT_MC_CMD_LRU_CRAWLER] = { CT_CLASS_OTHER,    CT_MC_RK_LINES,    OK,  NRP,             0, S_ADMIN },
	[CT_MC_CMD_WATCH] =     { CT_CLASS_OTHER,      CT_MC_RK_STREAM,   OK,  NRP,             0, S_OTHER },
	[CT_MC_CMD_MISBEHAVE] = { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  NRP,             0, S_OTHER },
	[CT_MC_CMD_DEBUGTIME] = { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  NRP,             0, S_OTHER },
	[CT_MC_CMD_MG] =        { CT_CLASS_READ,       CT_MC_RK_MG,       MISS, KEYED,          0, S_READ },
	[CT_MC_CMD_MS] =        { CT_CLASS_WRITE,      CT_MC_RK_MS,       OK,  KEYED | VAL,     0, S_WRITE },
	[CT_MC_CMD_MD] =        { CT_CLASS_DELETE,     CT_MC_RK_MD,       OK,  KEYED,           0, S_WRITE },
	[CT_MC_CMD_MA] =        { CT_CLASS_WRITE,      CT_MC_RK_MA,       OK,  KEYED,           0, S_WRITE },
	[CT_MC_CMD_MN] =        { CT_CLASS_OTHER,      CT_MC_RK_MN,       OK,  0,               0, S_OTHER },
	[CT_MC_CMD_ME] =        { CT_CLASS_OTHER,      CT_MC_RK_ME,       OK,  KEYED,           0, S_OTHER },
	[CT_MC_CMD_NOOP] =      { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  0,               0, S_OTHER },
	[CT_MC_CMD_SASL_LIST_MECHS] = { CT_CLASS_OTHER, CT_MC_RK_ANY,     OK,  0,               0, S_OTHER },
	[CT_MC_CMD_SASL_AUTH] = { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  0,               0, S_OTHER },
	[CT_MC_CMD_SASL_STEP] = { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  0,               0, S_OTHER },
	[CT_MC_CMD_BIN_OTHER] = { CT_CLASS_OTHER,      CT_MC_RK_ANY,      OK,  0,               0, S_OTHER },
};

const struct ct_mc_cmdinfo *ct_mc_cmdinfo(unsigned cmd)
{
	if (cmd >= CT_ARRAY_LEN(rows) || cmd == CT_MC_CMD_NONE)
		return &rows[CT_MC_CMD_UNKNOWN];
	return &rows[cmd];
}

/* Meta flags that change what a request means. */
struct meta_rule {
	uint16_t cmd;
	char flag;
	uint8_t cls;    /* new class, or CT_CLASS_COUNT to keep the row's */
	uint16_t notes; /* CT_MC_NOTE_* added */
	uint16_t unless; /* ... unless this flag is present too (0: no condition) */
};

static const struct meta_rule meta_rules[] = {
	{ CT_MC_CMD_MD, 'I', CT_CLASS_INVALIDATE, 0, 0 },
	{ CT_MC_CMD_MS, 'I', CT_CLASS_COUNT, CT_MC_NOTE_INVALIDATE, 0 },
	{ CT_MC_CMD_MG, 'T', CT_CLASS_COUNT, CT_MC_NOTE_TOUCH, 0 },
	{ CT_MC_CMD_MG, 'N', CT_CLASS_COUNT, CT_MC_NOTE_VIVIFY, 'R' },
};

/* ms M<mode>: memcached takes these upper-case letters only (others: CLIENT_ERROR). */
static const struct {
	uint8_t mode;
	uint16_t row;
	uint16_t note;
} ms_modes[] = {
	{ 'E', CT_MC_CMD_ADD, CT_MC_NOTE_ADD },
	{ 'A', CT_MC_CMD_APPEND, CT_MC_NOTE_APPEND },
	{ 'P', CT_MC_CMD_PREPEND, CT_MC_NOTE_PREPEND },
	{ 'R', CT_MC_CMD_REPLACE, CT_MC_NOTE_REPLACE },
	{ 'S', CT_MC_CMD_SET, 0 },
};

/* What a quiet meta request can still be answered with: the answers quiet mode does not
 * suppress (memcached 1.6: mg hides EN; ms, md and ma hide HD), when the request's flags make
 * them possible. Errors can always come. */
static const struct {
	uint16_t cmd;
	uint16_t reply;
	char need;         /* a flag the request must carry, or 0 */
	const char *modes; /* ... or one of these M modes, or NULL */
} quiet_rules[] = {
	{ CT_MC_CMD_MG, CT_MC_R_VA, 0, NULL },   { CT_MC_CMD_MG, CT_MC_R_HD, 0, NULL },
	{ CT_MC_CMD_MS, CT_MC_R_NS, 0, "EAPR" }, { CT_MC_CMD_MS, CT_MC_R_EX, 'C', NULL },
	{ CT_MC_CMD_MS, CT_MC_R_NF, 'C', NULL }, { CT_MC_CMD_MD, CT_MC_R_NF, 0, NULL },
	{ CT_MC_CMD_MD, CT_MC_R_EX, 'C', NULL }, { CT_MC_CMD_MA, CT_MC_R_NF, 0, NULL },
	{ CT_MC_CMD_MA, CT_MC_R_NS, 'N', NULL }, { CT_MC_CMD_MA, CT_MC_R_EX, 'C', NULL },
};

_Static_assert(CT_MC_CMD__COUNT - CT_MC_R_VALUE <= 32, "reply words fit a 32-bit mask");
#define RBIT(c) (1u << ((c) - CT_MC_R_VALUE))

static uint32_t quiet_fits(const struct ct_mc_msg *req)
{
	uint32_t f = RBIT(CT_MC_R_ERROR) | RBIT(CT_MC_R_CLIENT_ERROR) | RBIT(CT_MC_R_SERVER_ERROR);
	for (size_t i = 0; i < CT_ARRAY_LEN(quiet_rules); i++) {
		if (quiet_rules[i].cmd != req->cmd)
			continue;
		if (quiet_rules[i].need && !ct_mc_meta_get(req, quiet_rules[i].need, NULL))
			continue;
		if (quiet_rules[i].modes) {
			const char *m = quiet_rules[i].modes;
			while (*m && (uint8_t)*m != req->meta_mode)
				m++;
			if (!req->meta_mode || !*m)
				continue;
		}
		f |= RBIT(quiet_rules[i].reply);
	}
	return f;
}

int ct_mc_quiet_fits(const struct ct_mc_class *k, unsigned reply_cmd)
{
	if (reply_cmd < CT_MC_R_VALUE || reply_cmd >= CT_MC_CMD__COUNT)
		return 0;
	return k->quiet_fits >> (reply_cmd - CT_MC_R_VALUE) & 1;
}

void ct_mc_classify(const struct ct_mc_msg *req, struct ct_mc_class *out)
{
	const struct ct_mc_cmdinfo *ci = ct_mc_cmdinfo(req->cmd);
	out->ci = out->st = ci;
	out->cls = ci->cls;
	out->notes = ci->notes;
	out->quiet_fits = 0;
	if (req->proto == CT_MC_PROTO_BINARY)
		out->reply = req->cmd == CT_MC_CMD_STATS ? CT_MC_RK_BINSTAT : CT_MC_RK_BINARY;
	else
		out->reply = ci->reply;
	if (req->proto != CT_MC_PROTO_META)
		return;
	out->quiet_fits = quiet_fits(req);
	for (size_t i = 0; i < CT_ARRAY_LEN(meta_rules); i++) {
		const struct meta_rule *r = &meta_rules[i];
		if (r->cmd != req->cmd || !ct_mc_meta_get(req, r->flag, NULL))
			continue;
		if (r->unless && ct_mc_meta_get(req, r->unless, NULL))
			continue;
		if (r->cls != CT_CLASS_COUNT)
			out->cls = r->cls;
		out->notes |= r->notes;
	}
	if (req->cmd == CT_MC_CMD_MS && req->meta_mode) {
		for (size_t i = 0; i < CT_ARRAY_LEN(ms_modes); i++) {
			if (ms_modes[i].mode == req->meta_mode) {
				out->st = &rows[ms_modes[i].row];
				out->notes |= ms_modes[i].note;
			}
		}
	}
}

/* ---- replies ---- */

#define RK(k) (1u << CT_MC_RK_##k)
/* every text/meta kind: errors can answer anything */
#define RK_TEXT_ALL                                                                            \
	(RK(STORE) | RK(GET) | RK(DELETE) | RK(ARITH) | RK(TOUCH) | RK(OK) | RK(VERSION) |     \
	 RK(LINES) | RK(ANY) | RK(STREAM) | RK(MG) | RK(MS) | RK(MD) | RK(MA) | RK(MN) | RK(ME))

struct reply_row {
	uint8_t outcome;
	uint32_t fits; /* reply kinds this word can be part of */
	uint32_t more; /* ... and after which that reply goes on */
};

#define R(c) [(c) - CT_MC_R_VALUE]
static const struct reply_row replies[CT_MC_CMD__COUNT - CT_MC_R_VALUE] = {
	R(CT_MC_R_VALUE) = { CT_MC_OUT_SUCCESS, RK(GET) | RK(ANY), RK(GET) },
	R(CT_MC_R_END) = { CT_MC_OUT_SUCCESS, RK(GET) | RK(LINES) | RK(ANY), 0 },
	R(CT_MC_R_STORED) = { CT_MC_OUT_SUCCESS, RK(STORE) | RK(ANY), 0 },
	R(CT_MC_R_NOT_STORED) = { CT_MC_OUT_NOTSTORED, RK(STORE) | RK(ANY), 0 },
	R(CT_MC_R_EXISTS) = { CT_MC_OUT_EXISTS, RK(STORE) | RK(ANY), 0 },
	R(CT_MC_R_NOT_FOUND) = { CT_MC_OUT_NOTFOUND,
				 RK(STORE) | RK(DELETE) | RK(ARITH) | RK(TOUCH) | RK(ANY), 0 },
	R(CT_MC_R_DELETED) = { CT_MC_OUT_SUCCESS, RK(DELETE) | RK(ANY), 0 },
	R(CT_MC_R_TOUCHED) = { CT_MC_OUT_SUCCESS, RK(TOUCH) | RK(ANY), 0 },
	/* "stats detail on", "lru_crawler crawl" answer one OK; watch keeps going after it */
	R(CT_MC_R_OK) = { CT_MC_OUT_SUCCESS, RK(OK) | RK(LINES) | RK(ANY) | RK(STREAM), RK(STREAM) },
	R(CT_MC_R_NUMBER) = { CT_MC_OUT_SUCCESS, RK(ARITH) | RK(ANY), 0 },
	R(CT_MC_R_VERSION) = { CT_MC_OUT_SUCCESS, RK(VERSION) | RK(ANY), 0 },
	R(CT_MC_R_STAT) = { CT_MC_OUT_SUCCESS, RK(LINES) | RK(ANY), RK(LINES) },
	R(CT_MC_R_RESET) = { CT_MC_OUT_SUCCESS, RK(LINES) | RK(ANY), 0 },
	R(CT_MC_R_ERROR) = { CT_MC_OUT_ERROR, RK_TEXT_ALL, 0 },
	R(CT_MC_R_CLIENT_ERROR) = { CT_MC_OUT_ERROR, RK_TEXT_ALL, 0 },
	R(CT_MC_R_SERVER_ERROR) = { CT_MC_OUT_ERROR, RK_TEXT_ALL, 0 },
	R(CT_MC_R_HD) = { CT_MC_OUT_SUCCESS, RK(MG) | RK(MS) | RK(MD) | RK(MA) | RK(ANY), 0 },
	R(CT_MC_R_VA) = { CT_MC_OUT_SUCCESS, RK(MG) | RK(MA) | RK(ANY), 0 },
	/* "lru_crawler mgdump" lists "mg <key>" lines and ends with EN */
	R(CT_MC_R_EN) = { CT_MC_OUT_NOTFOUND, RK(MG) | RK(ME) | RK(LINES) | RK(ANY), 0 },
	R(CT_MC_R_NF) = { CT_MC_OUT_NOTFOUND, RK(MS) | RK(MD) | RK(MA) | RK(ANY), 0 },
	R(CT_MC_R_NS) = { CT_MC_OUT_NOTSTORED, RK(MS) | RK(MA) | RK(ANY), 0 },
	R(CT_MC_R_EX) = { CT_MC_OUT_EXISTS, RK(MS) | RK(MD) | RK(MA) | RK(ANY), 0 },
	R(CT_MC_R_MN) = { CT_MC_OUT_SUCCESS, RK(MN) | RK(ANY), 0 },
	R(CT_MC_R_ME) = { CT_MC_OUT_SUCCESS, RK(ME) | RK(ANY), 0 },
	/* lines of stats cachedump, lru_crawler metadump, watch; alone: slabs' own error words */
	R(CT_MC_R_UNKNOWN) = { CT_MC_OUT_ERROR, RK(LINES) | RK(ANY) | RK(STREAM),
			       RK(LINES) | RK(STREAM) },
};
#undef R

static const struct reply_row *reply_row(unsigned reply_cmd)
{
	if (reply_cmd < CT_MC_R_VALUE || reply_cmd >= CT_MC_CMD__COUNT)
		return &replies[CT_MC_R_UNKNOWN - CT_MC_R_VALUE];
	return &replies[reply_cmd - CT_MC_R_VALUE];
}

int ct_mc_reply_fits(unsigned rk, unsigned reply_cmd)
{
	return rk < CT_MC_RK__COUNT && (reply_row(reply_cmd)->fits >> rk & 1);
}

int ct_mc_reply_more(unsigned rk, unsigned reply_cmd)
{
	return rk < CT_MC_RK__COUNT && (reply_row(reply_cmd)->more >> rk & 1);
}

int ct_mc_reply_emit_early(unsigned rk)
{
	return rk == CT_MC_RK_STREAM;
}

/* Binary response statuses (protocol_binary.h and the binary protocol document). */
static const struct {
	uint16_t status;
	uint8_t outcome;
	const char *name;
} bin_status[] = {
	{ 0x00, CT_MC_OUT_SUCCESS, "SUCCESS" },
	{ 0x01, CT_MC_OUT_NOTFOUND, "KEY_ENOENT" },
	{ 0x02, CT_MC_OUT_EXISTS, "KEY_EEXISTS" },
	{ 0x03, CT_MC_OUT_ERROR, "E2BIG" },
	{ 0x04, CT_MC_OUT_ERROR, "EINVAL" },
	{ 0x05, CT_MC_OUT_NOTSTORED, "NOT_STORED" },
	{ 0x06, CT_MC_OUT_ERROR, "DELTA_BADVAL" },
	{ 0x07, CT_MC_OUT_ERROR, "NOT_MY_VBUCKET" },
	{ 0x08, CT_MC_OUT_ERROR, "NO_BUCKET" },
	{ 0x09, CT_MC_OUT_ERROR, "LOCKED" },
	{ 0x20, CT_MC_OUT_ERROR, "AUTH_ERROR" },
	{ 0x21, CT_MC_OUT_ERROR, "AUTH_CONTINUE" },
	{ 0x81, CT_MC_OUT_ERROR, "UNKNOWN_COMMAND" },
	{ 0x82, CT_MC_OUT_ERROR, "ENOMEM" },
	{ 0x83, CT_MC_OUT_ERROR, "NOT_SUPPORTED" },
	{ 0x84, CT_MC_OUT_ERROR, "EINTERNAL" },
	{ 0x85, CT_MC_OUT_ERROR, "EBUSY" },
	{ 0x86, CT_MC_OUT_ERROR, "ETMPFAIL" },
};

const char *ct_mc_bin_status_name(uint16_t status)
{
	for (size_t i = 0; i < CT_ARRAY_LEN(bin_status); i++)
		if (bin_status[i].status == status)
			return bin_status[i].name;
	return NULL;
}

unsigned ct_mc_outcome(const struct ct_mc_msg *reply)
{
	if (reply->proto == CT_MC_PROTO_BINARY) {
		for (size_t i = 0; i < CT_ARRAY_LEN(bin_status); i++)
			if (bin_status[i].status == reply->status)
				return bin_status[i].outcome;
		return CT_MC_OUT_ERROR;
	}
	return reply_row(reply->cmd)->outcome;
}

unsigned ct_mc_status(const struct ct_mc_class *k, unsigned outcome, const struct ct_mc_msg *reply)
{
	if (outcome >= CT_MC_OUT__COUNT)
		outcome = CT_MC_OUT_ERROR;
	unsigned st = k->st->status[outcome];
	/* mg N on a miss creates the item and hands this client the recache token: "W", with no
	 * "X" (a stale item's W comes with X, an R win's with the R flag, excluded by VIVIFY) */
	if ((k->notes & CT_MC_NOTE_VIVIFY) && reply && reply->proto == CT_MC_PROTO_META &&
	    st == CT_STATUS_HIT && ct_mc_meta_get(reply, 'W', NULL) && !ct_mc_meta_get(reply, 'X', NULL))
		st = CT_STATUS_MISS;
	return st;
}

uint32_t ct_mc_reply_evflags(const struct ct_mc_msg *reply)
{
	uint32_t f = 0;
	if (!reply || reply->proto != CT_MC_PROTO_META)
		return 0;
	if (ct_mc_meta_get(reply, 'X', NULL))
		f |= CT_EV_STALE;
	if (ct_mc_meta_get(reply, 'W', NULL))
		f |= CT_EV_WIN;
	if (ct_mc_meta_get(reply, 'Z', NULL))
		f |= CT_EV_WON_ALREADY;
	return f;
}

const char *ct_mc_note_name(unsigned bit)
{
	static const char *const names[CT_MC_NOTE__COUNT] = {
		"touch", "invalidate", "mode=add", "mode=append", "mode=prepend", "mode=replace",
		NULL, /* vivify changes the status, it needs no word */
	};
	return bit < CT_MC_NOTE__COUNT ? names[bit] : NULL;
}
