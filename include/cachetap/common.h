/* Shared basics for every cachetap module: error codes, attributes and the allocation shim.
 *
 * Convention (STYLE.md): 0 is success, a negative CT_E* value is an error and ct_strerror()
 * names it. Anything the network can cause goes down an error path with a named counter;
 * assert() is only for our own invariants. */
#ifndef CACHETAP_COMMON_H
#define CACHETAP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define CT_VERSION "0.1.0"

#define CT_WUR __attribute__((warn_unused_result))
#define CT_UNUSED(x) ((void)(x))
#define CT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum ct_err {
	CT_OK = 0,
	CT_ENOMEM = -1,   /* an allocation failed */
	CT_EINVAL = -2,   /* bad argument or option */
	CT_EIO = -3,      /* a file or device failed */
	CT_ELIMIT = -4,   /* a named limit (limits.h) was hit */
	CT_EPROTO = -5,   /* bytes do not follow the protocol */
	CT_EPCAP = -6,    /* libpcap reported an error */
	CT_ESQL = -7,     /* SQLite reported an error */
	CT_ETRUNC = -8,   /* input ended inside a record */
	CT_EUNSUP = -9,   /* well-formed but not supported (link type, ...) */
};

const char *ct_strerror(int err);

/* Allocation shim: every allocation in cachetap goes through these, so that a test mode can
 * fail the Nth allocation (ct_alloc_fail_at) and prove every failure path is clean. */
void *ct_malloc(size_t n) CT_WUR;
void *ct_calloc(size_t count, size_t size) CT_WUR;
void *ct_realloc(void *p, size_t n) CT_WUR;
void ct_free(void *p);
char *ct_strdup(const char *s) CT_WUR; /* for our own strings (argv, config), never wire bytes */

/* Test hooks: make allocation number n (1-based, counted from this call) fail; 0 disables.
 * ct_alloc_count() returns how many allocations were attempted since the last reset. Nothing
 * is counted before the first ct_alloc_fail_at() call. */
void ct_alloc_fail_at(uint64_t n);
uint64_t ct_alloc_count(void);
/* Blocks allocated through the shim and not yet freed: a test compares it before and after a
 * run to find leaks in any build. */
int64_t ct_alloc_live(void);

#endif
