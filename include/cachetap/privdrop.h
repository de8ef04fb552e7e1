/* Giving up root after a live capture has opened what it needs (issue 7, item 4).
 *
 * cachetap often runs as root to open a tap, and then reads untrusted bytes for hours. Once
 * the capture device and the database (with its WAL and shared-memory files) are open, it
 * needs no privilege at all: the open descriptors keep working. So it becomes an ordinary
 * user (setgroups/setgid/setuid: every capability goes with root), or, when there is no user
 * to become, it stays uid 0 but gives up every capability (libcap-ng), its bounding set and
 * ambient set included, and locks them so that they cannot come back. */
#ifndef CACHETAP_PRIVDROP_H
#define CACHETAP_PRIVDROP_H

#include <stddef.h>

#include "cachetap/common.h"

/* The user a capture becomes by default, when it exists. */
#define CT_PRIVDROP_DEFAULT_USER "nobody"

/* Checks a --user value before anything is opened: NULL (the default) and "" are always
 * fine; a NAME must exist. Returns 0, or CT_EINVAL with a one-line message in err. */
int ct_privdrop_check(const char *user, char *err, size_t errlen) CT_WUR;

/* Drops privileges for good. `user`: NULL = CT_PRIVDROP_DEFAULT_USER when it exists and we
 * may become it, else capabilities only; "" = capabilities only (the uid stays); NAME = that
 * user. Not running as root: every capability the process holds is dropped, and a NAME
 * other than the current user is an error. Call it before creating threads: capabilities
 * are per thread. Returns 0 with
 * what was done in `done` (e.g. "uid 65534 (nobody)", "capabilities dropped (uid 0)"), or
 * CT_EINVAL / CT_EIO with a one-line message in err; the caller must then not go on. */
int ct_privdrop(const char *user, char *done, size_t donelen, char *err, size_t errlen) CT_WUR;

#endif
