// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo locked arenas: memory that a backend's real-time thread reads
 * (trajectory segments) kept in RAM, so that the thread never waits on a
 * page fault. Chunks of at least HRSERVO_ARENA_CHUNK bytes are mapped and
 * locked as they are needed; allocations are carved from the newest chunk
 * in order. A chunk whose allocations are all freed goes on the empty
 * list, still mapped: the next allocation carves it anew or unmaps it, or
 * hrservo_arena_trim() does. Freeing is pointer work under a
 * priority-inheriting mutex, so that code holding a lock the real-time
 * thread waits for may free; system calls happen only in
 * hrservo_arena_alloc() and hrservo_arena_trim(), with no lock held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/*
 * Under ASan, what is not handed out is poisoned: a read or write past an
 * allocation, or after its free, is reported as with malloc().
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

struct hrservo_arena_chunk {
	struct hrservo_arena_chunk *next;	/* on the empty list */
	size_t size;		/* mapped, this header included */
	size_t used;		/* carved so far, this header included */
	size_t live;		/* allocations not freed */
};

/* What precedes each allocation: its chunk. 16 bytes on every ABI. */
struct arena_hdr {
	struct hrservo_arena_chunk *chunk;
	size_t need;		/* carved for it, this header included */
} __attribute__((aligned(16)));

_Static_assert(sizeof(struct arena_hdr) == 16,
	       "HRSERVO_ARENA_COST() counts a 16-byte header");

#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((size_t)(a) - 1))
#define CHUNK_HDR	ALIGN_UP(sizeof(struct hrservo_arena_chunk), 16)

void hrservo_arena_init(struct hrservo_arena *a, bool lock)
{
	pthread_mutexattr_t ma;

	memset(a, 0, sizeof(*a));
	a->lock = lock;
	pthread_mutexattr_init(&ma);
	/* Freed into under the real-time thread's lock: no inversion. */
	pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&a->mutex, &ma);
	pthread_mutexattr_destroy(&ma);
}

/* Take @c off the books before it is unmapped. Mutex held. */
static void chunk_forget(struct hrservo_arena *a, struct hrservo_arena_chunk *c)
{
	if (a->lock)
		a->locked -= c->size;
	a->mapped -= c->size;
	a->chunks--;
}

/* Unmap a list of chunks taken off the books. No lock held. */
static void chunks_unmap(struct hrservo_arena_chunk *c)
{
	while (c) {
		struct hrservo_arena_chunk *next = c->next;

		/* The address may serve another mapping: no stale poison. */
		UNPOISON(c, c->size);
		munmap(c, c->size);
		c = next;
	}
}

/* @c has nothing allocated: it waits on the empty list. Mutex held. */
static void chunk_empty(struct hrservo_arena *a, struct hrservo_arena_chunk *c)
{
	POISON((char *)c + CHUNK_HDR, c->size - CHUNK_HDR);
	c->used = CHUNK_HDR;
	c->next = a->empty;
	a->empty = c;
}

/* Carve @need bytes from the current chunk, if they fit. Mutex held. */
static void *carve(struct hrservo_arena *a, size_t need)
{
	struct hrservo_arena_chunk *c = a->cur;
	struct arena_hdr *h;

	if (!c || c->size - c->used < need)
		return NULL;
	h = (struct arena_hdr *)((char *)c + c->used);
	UNPOISON(h, need);
	h->chunk = c;
	h->need = need;
	/* The header is the library's: poisoned for the caller. */
	POISON(h, sizeof(*h));
	c->used += need;
	c->live++;
	return h + 1;
}

/* @c becomes the chunk carved from; the old one, if empty, waits. */
static void make_current(struct hrservo_arena *a, struct hrservo_arena_chunk *c)
{
	if (a->cur && !a->cur->live)
		chunk_empty(a, a->cur);
	a->cur = c;
}

void *hrservo_arena_alloc(struct hrservo_arena *a, size_t bytes,
			  size_t *refused, size_t *locked)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), need, size, was_locked;
	struct hrservo_arena_chunk *c, **pp, *spare;
	void *p;

	if (refused)
		*refused = 0;
	if (locked)
		*locked = 0;
	if (bytes > SIZE_MAX / 4) {
		errno = ENOMEM;
		return NULL;
	}
	need = HRSERVO_ARENA_COST(bytes);
	pthread_mutex_lock(&a->mutex);
	p = carve(a, need);
	/* An empty chunk that is big enough is carved anew. */
	for (pp = &a->empty; !p && *pp; pp = &(*pp)->next) {
		c = *pp;
		if (c->size - CHUNK_HDR >= need) {
			*pp = c->next;
			make_current(a, c);
			p = carve(a, need);
			break;
		}
	}
	if (p) {
		pthread_mutex_unlock(&a->mutex);
		return p;
	}
	/* A new chunk: the empty ones, too small, go first. */
	spare = a->empty;
	a->empty = NULL;
	for (c = spare; c; c = c->next)
		chunk_forget(a, c);
	was_locked = a->locked;
	pthread_mutex_unlock(&a->mutex);
	chunks_unmap(spare);

	size = ALIGN_UP(CHUNK_HDR + need, page);
	if (size < HRSERVO_ARENA_CHUNK)
		size = HRSERVO_ARENA_CHUNK;
	c = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	/*
	 * A child of fork() never touches the arena (its handle may not be
	 * used): it gets none of it, and the parent's locked pages are not
	 * made copy-on-write under its real-time thread.
	 */
	madvise(c, size, MADV_DONTFORK);
	if (a->lock && mlock(c, size)) {
		int err = errno;

		munmap(c, size);
		if (refused)
			*refused = size;
		if (locked)
			*locked = was_locked;
		errno = err;
		return NULL;
	}
	c->next = NULL;
	c->size = size;
	c->used = CHUNK_HDR;
	c->live = 0;
	POISON((char *)c + CHUNK_HDR, size - CHUNK_HDR);
	pthread_mutex_lock(&a->mutex);
	if (a->lock)
		a->locked += size;
	a->mapped += size;
	a->chunks++;
	make_current(a, c);
	p = carve(a, need);
	pthread_mutex_unlock(&a->mutex);
	return p;
}

size_t hrservo_arena_need(size_t count, size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t cost = HRSERVO_ARENA_COST(bytes);
	size_t room = HRSERVO_ARENA_CHUNK - CHUNK_HDR, per = room / cost;

	if (!count)
		return 0;
	if (!per)
		return count * ALIGN_UP(CHUNK_HDR + cost, page);
	return (count + per - 1) / per * HRSERVO_ARENA_CHUNK;
}

void hrservo_arena_free(struct hrservo_arena *a, void *p)
{
	struct hrservo_arena_chunk *c;
	struct arena_hdr *h;

	if (!p)
		return;
	pthread_mutex_lock(&a->mutex);
	h = (struct arena_hdr *)p - 1;
	UNPOISON(h, sizeof(*h));
	c = h->chunk;
	/* Freed: no more reads or writes of it. */
	POISON(h, h->need);
	if (!--c->live) {
		if (c == a->cur) {
			/* Empty: carve it anew. */
			POISON((char *)c + CHUNK_HDR, c->size - CHUNK_HDR);
			c->used = CHUNK_HDR;
		} else {
			chunk_empty(a, c);
		}
	}
	pthread_mutex_unlock(&a->mutex);
}

void hrservo_arena_trim(struct hrservo_arena *a)
{
	struct hrservo_arena_chunk *spare, *c;

	pthread_mutex_lock(&a->mutex);
	spare = a->empty;
	a->empty = NULL;
	for (c = spare; c; c = c->next)
		chunk_forget(a, c);
	pthread_mutex_unlock(&a->mutex);
	chunks_unmap(spare);
}

void hrservo_arena_destroy(struct hrservo_arena *a)
{
	hrservo_arena_trim(a);
	/* Every allocation is freed by now: only the newest chunk is left. */
	if (a->cur) {
		a->cur->next = NULL;
		chunk_forget(a, a->cur);
		chunks_unmap(a->cur);
	}
	a->cur = NULL;
	pthread_mutex_destroy(&a->mutex);
}
