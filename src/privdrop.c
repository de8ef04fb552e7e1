/* Privilege drop for live captures (privdrop.h): setgroups/setgid/setuid to a user, or every
 * capability given up with libcap-ng. Each step is checked afterwards, since a drop that
 * silently did not happen is worse than none: a capture that cannot drop does not run.
 * Limits: one supplementary group (the user's own); no NSS beyond getpwnam(). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cap-ng.h>

#include "cachetap/privdrop.h"

int ct_privdrop_check(const char *user, char *err, size_t errlen)
{
	if (!user || !user[0])
		return 0;
	errno = 0;
	if (!getpwnam(user)) {
		snprintf(err, errlen, "--user: '%s' is not a user on this system%s%s", user,
			 errno ? ": " : "", errno ? strerror(errno) : "");
		return CT_EINVAL;
	}
	return 0;
}

/* The process holds no capability in its permitted or effective set. */
static int no_caps_left(void)
{
	if (capng_get_caps_process() != 0)
		return 0;
	return capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE;
}

/* Stays the same uid, gives up every capability (and the ambient and bounding sets when we
 * may), and locks the securebits so that root cannot regain them through execve. */
static int drop_caps(char *err, size_t errlen)
{
	if (capng_get_caps_process() != 0) {
		snprintf(err, errlen, "cannot read the process capabilities");
		return CT_EIO;
	}
	int may_bound = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	if (may_bound)
		(void)capng_lock(); /* best effort: SECBIT_NOROOT and friends */
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(may_bound ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) != 0 ||
	    !no_caps_left()) {
		snprintf(err, errlen, "cannot drop capabilities");
		return CT_EIO;
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

static int become(const struct passwd *pw, char *err, size_t errlen)
{
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	/* The bounding set goes first, while we still may (CAP_SETPCAP); setuid() below clears
	 * the permitted, effective and ambient sets. */
	if (capng_get_caps_process() == 0 && capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP)) {
		capng_clear(CAPNG_SELECT_BOUNDS);
		(void)capng_apply(CAPNG_SELECT_BOUNDS);
	}
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		snprintf(err, errlen, "cannot become user %s (uid %lu): %s", pw->pw_name,
			 (unsigned long)uid, strerror(errno));
		return CT_EIO;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    (uid != 0 && setuid(0) == 0) || !no_caps_left()) {
		snprintf(err, errlen, "became user %s but root could be regained", pw->pw_name);
		return CT_EIO;
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

int ct_privdrop(const char *user, char *done, size_t donelen, char *err, size_t errlen)
{
	int rc;
	snprintf(done, donelen, "%s", "");
	if (user && user[0]) {
		errno = 0;
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "--user: '%s' is not a user on this system", user);
			return CT_EINVAL;
		}
		if (pw->pw_uid == geteuid() && pw->pw_uid == getuid()) {
			/* Already that user (root included): what is left to give up are the
			 * capabilities. */
			rc = drop_caps(err, errlen);
			if (rc == 0)
				snprintf(done, donelen, "capabilities dropped (uid %lu)",
					 (unsigned long)getuid());
			return rc;
		}
		if (geteuid() != 0) {
			snprintf(err, errlen, "--user %s: only root can change user", user);
			return CT_EINVAL;
		}
		char name[64];
		snprintf(name, sizeof name, "%s", pw->pw_name);
		rc = become(pw, err, errlen);
		if (rc == 0)
			snprintf(done, donelen, "uid %lu (%s)", (unsigned long)getuid(), name);
		return rc;
	}
	if (!user && geteuid() == 0) {
		struct passwd *pw = getpwnam(CT_PRIVDROP_DEFAULT_USER);
		if (pw && pw->pw_uid != 0) {
			rc = become(pw, err, errlen);
			if (rc == 0) {
				snprintf(done, donelen, "uid %lu (%s)", (unsigned long)getuid(),
					 CT_PRIVDROP_DEFAULT_USER);
				return 0;
			}
			/* Not allowed to change user (a container without CAP_SETUID, say): the
			 * default falls back to the other way of dropping, below. */
		}
	}
	rc = drop_caps(err, errlen);
	if (rc == 0)
		snprintf(done, donelen, "capabilities dropped (uid %lu)", (unsigned long)getuid());
	return rc;
}
