/* The allocation shim: every cachetap allocation goes through here so tests can fail the Nth
 * one (issue: allocation failure must be clean everywhere). Not thread-safe by design: the
 * pipeline is single-threaded. */
#include <stdlib.h>
#include <string.h>

#include "cachetap/common.h"

static uint64_t alloc_count, alloc_fail_at;

static int should_fail(void)
{
	alloc_count++;
	return alloc_fail_at != 0 && alloc_count == alloc_fail_at;
}

void ct_alloc_fail_at(uint64_t n)
{
	alloc_count = 0;
	alloc_fail_at = n;
}

uint64_t ct_alloc_count(void)
{
	return alloc_count;
}

void *ct_malloc(size_t n)
{
	return should_fail() ? NULL : malloc(n ? n : 1);
}

void *ct_calloc(size_t count, size_t size)
{
	return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *ct_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : realloc(p, n ? n : 1);
}

void ct_free(void *p)
{
	free(p);
}

char *ct_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = ct_malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}
