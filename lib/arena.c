// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo locked arenas: memory that a backend's real-time thread reads
 * (trajectory segments) kept in RAM, so that the thread never waits on a
 * page fault. Chunks of at least HRSERVO_ARENA_CHUNK bytes are mapped and
 * locked as they are needed; allocations are carved from the newest chunk
 * in order, and a chunk is unmapped (which unlocks it) when the last of its
 * allocations is freed. Queues that free roughly in the order they
 * allocate, as a trajectory's, keep about one chunk of slack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

struct hrservo_arena_chunk {
	size_t size;		/* mapped, this header included */
	size_t used;		/* carved so far, this header included */
	size_t live;		/* allocations not freed */
};

/* What precedes each allocation: its chunk. Keeps 16-byte alignment. */
struct arena_hdr {
	struct hrservo_arena_chunk *chunk;
	size_t pad;
};

#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((size_t)(a) - 1))
#define CHUNK_HDR	ALIGN_UP(sizeof(struct hrservo_arena_chunk), 16)

void hrservo_arena_init(struct hrservo_arena *a, bool lock)
{
	memset(a, 0, sizeof(*a));
	a->lock = lock;
	pthread_mutex_init(&a->mutex, NULL);
}

/* Unmap @c (its pages unlock with it). Mutex held. */
static void chunk_unmap(struct hrservo_arena *a, struct hrservo_arena_chunk *c)
{
	size_t size = c->size;

	if (a->lock)
		a->locked -= size;
	a->mapped -= size;
	a->chunks--;
	munmap(c, size);
}

/* A new chunk with room for @need bytes, locked if the arena locks. */
static struct hrservo_arena_chunk *chunk_map(struct hrservo_arena *a,
					     size_t need, size_t *refused)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = ALIGN_UP(CHUNK_HDR + need, page);
	struct hrservo_arena_chunk *c;

	if (size < HRSERVO_ARENA_CHUNK)
		size = HRSERVO_ARENA_CHUNK;
	c = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	if (a->lock && mlock(c, size)) {
		int err = errno;

		munmap(c, size);
		if (refused)
			*refused = size;
		errno = err;
		return NULL;
	}
	c->size = size;
	c->used = CHUNK_HDR;
	c->live = 0;
	if (a->lock)
		a->locked += size;
	a->mapped += size;
	a->chunks++;
	return c;
}

void *hrservo_arena_alloc(struct hrservo_arena *a, size_t bytes,
			  size_t *refused)
{
	size_t need;
	struct hrservo_arena_chunk *c;
	struct arena_hdr *h;

	if (refused)
		*refused = 0;
	if (bytes > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	need = sizeof(*h) + ALIGN_UP(bytes ? bytes : 1, 16);
	pthread_mutex_lock(&a->mutex);
	c = a->cur;
	if (!c || c->size - c->used < need) {
		c = chunk_map(a, need, refused);
		if (!c) {
			int err = errno;

			pthread_mutex_unlock(&a->mutex);
			errno = err;
			return NULL;
		}
		/* The old one goes with its last allocation, or now. */
		if (a->cur && !a->cur->live)
			chunk_unmap(a, a->cur);
		a->cur = c;
	}
	h = (struct arena_hdr *)((char *)c + c->used);
	h->chunk = c;
	c->used += need;
	c->live++;
	pthread_mutex_unlock(&a->mutex);
	return h + 1;
}

void hrservo_arena_free(struct hrservo_arena *a, void *p)
{
	struct hrservo_arena_chunk *c;

	if (!p)
		return;
	pthread_mutex_lock(&a->mutex);
	c = ((struct arena_hdr *)p - 1)->chunk;
	if (!--c->live) {
		if (c == a->cur)
			c->used = CHUNK_HDR;	/* empty: carve it anew */
		else
			chunk_unmap(a, c);
	}
	pthread_mutex_unlock(&a->mutex);
}

size_t hrservo_arena_locked(struct hrservo_arena *a)
{
	size_t n;

	pthread_mutex_lock(&a->mutex);
	n = a->locked;
	pthread_mutex_unlock(&a->mutex);
	return n;
}

void hrservo_arena_destroy(struct hrservo_arena *a)
{
	/* Every allocation is freed by now: only the newest chunk is left. */
	if (a->cur)
		chunk_unmap(a, a->cur);
	a->cur = NULL;
	pthread_mutex_destroy(&a->mutex);
}
