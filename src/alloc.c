/* The allocation shim: every cachetap allocation goes through here so tests can fail the Nth
 * one (issue 7: allocation failure must be clean everywhere), SQLite's and jansson's included.
 *
 * Counting starts with the first ct_alloc_fail_at() call, which only tests make: a normal
 * run pays one load of a flag that never changes. The counters are atomic because the store
 * may run on the writer thread (sink_async.c); a test that fails the Nth allocation runs
 * single-threaded, so that N names the same allocation every time. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/common.h"

static atomic_int tracking;
static atomic_uint_fast64_t alloc_count, alloc_fail_at;
static atomic_int_fast64_t alloc_live; /* blocks handed out and not yet freed */

static int should_fail(void)
{
	if (!atomic_load_explicit(&tracking, memory_order_relaxed))
		return 0;
	uint64_t n = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;
	uint64_t at = atomic_load_explicit(&alloc_fail_at, memory_order_relaxed);
	return at != 0 && n == at;
}

static void live_add(int64_t d)
{
	if (atomic_load_explicit(&tracking, memory_order_relaxed))
		atomic_fetch_add_explicit(&alloc_live, d, memory_order_relaxed);
}

void ct_alloc_fail_at(uint64_t n)
{
	atomic_store(&alloc_count, 0);
	atomic_store(&alloc_fail_at, n);
	atomic_store(&tracking, 1);
}

uint64_t ct_alloc_count(void)
{
	return atomic_load(&alloc_count);
}

int64_t ct_alloc_live(void)
{
	return atomic_load(&alloc_live);
}

static void *counted(void *p)
{
	if (p)
		live_add(1);
	return p;
}

void *ct_malloc(size_t n)
{
	return should_fail() ? NULL : counted(malloc(n ? n : 1));
}

void *ct_calloc(size_t count, size_t size)
{
	return should_fail() ? NULL : counted(calloc(count ? count : 1, size ? size : 1));
}

void *ct_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	void *q = realloc(p, n ? n : 1);
	if (q && !p)
		live_add(1);
	return q;
}

void ct_free(void *p)
{
	if (p)
		live_add(-1);
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
