/* A streaming XXH3-64 state (libxxhash) that can be embedded in any struct, malloced or not.
 *
 * XXH3_state_t demands 64-byte alignment, which malloc does not give, and a struct that
 * demanded it would be misaligned inside any malloced connection (UBSan rejects both). So the
 * state lives at the first 64-byte boundary inside `mem`; if the struct holding it was moved
 * (memcpy, realloc), ct_hash_state() moves the state to the new boundary before use. */
#ifndef CACHETAP_HASH_H
#define CACHETAP_HASH_H

#include <stdint.h>
#include <string.h>

#ifndef XXH_STATIC_LINKING_ONLY
#define XXH_STATIC_LINKING_ONLY /* for sizeof(XXH3_state_t): the state is embedded */
#endif
#include <xxhash.h>

struct ct_hash {
	uint8_t at; /* offset of the state in mem, where it was last placed (0..63) */
	uint8_t mem[sizeof(XXH3_state_t) + 64];
};

static inline XXH3_state_t *ct_hash_state(struct ct_hash *h)
{
	uintptr_t a = ((uintptr_t)h->mem + 63) & ~(uintptr_t)63;
	uint8_t at = (uint8_t)(a - (uintptr_t)h->mem);
	if (at != h->at) {
		/* An `at` past 63 was never placed (uninitialised memory): nothing to move. */
		if (h->at < 64)
			memmove(h->mem + at, h->mem + h->at, sizeof(XXH3_state_t));
		h->at = at;
	}
	return (XXH3_state_t *)(void *)(h->mem + at);
}

static inline void ct_hash_reset(struct ct_hash *h)
{
	(void)XXH3_64bits_reset(ct_hash_state(h));
}

static inline void ct_hash_update(struct ct_hash *h, const void *p, size_t n)
{
	(void)XXH3_64bits_update(ct_hash_state(h), p, n);
}

static inline uint64_t ct_hash_digest(struct ct_hash *h)
{
	return XXH3_64bits_digest(ct_hash_state(h));
}

#endif
