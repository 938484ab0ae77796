// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the locked arena (lib/arena.c), which holds what the gpiod
 * backend's real-time thread reads of a trajectory: allocations are
 * 16-byte aligned (also as an armhf program, make unit-armhf) and carved
 * from shared chunks, an emptied chunk waits to be carved anew or trimmed,
 * a queue freed in order keeps its memory bounded and its bytes intact,
 * and the locked bytes are counted. (That mlock() itself is refused, and
 * said so, is tested in the guest through an unsanitized servoctl: ASan
 * makes mlock() a no-op.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

/* Pointers as numbers: the harness compares integers (32-bit ABIs too). */
#define ADDR(p)	((uintptr_t)(p))

TEST(small_allocations_share_a_chunk)
{
	struct hrservo_arena a;
	char *p[8];

	hrservo_arena_init(&a, false);
	for (int i = 0; i < 8; i++) {
		p[i] = hrservo_arena_alloc(&a, 1 + 100 * i, NULL, NULL);
		ASSERT_NE(0, ADDR(p[i]));
		EXPECT_EQ(0, (uintptr_t)p[i] % 16);
		memset(p[i], 0xa5, 1 + 100 * i);
	}
	EXPECT_EQ(1, a.chunks);
	EXPECT_EQ(HRSERVO_ARENA_CHUNK, a.mapped);
	EXPECT_EQ(0, a.locked);
	/* No overlap: each kept its bytes. */
	for (int i = 1; i < 8; i++)
		EXPECT_GE(ADDR(p[i]), ADDR(p[i - 1] + 1 + 100 * (i - 1)));
	for (int i = 0; i < 8; i++)
		hrservo_arena_free(&a, p[i]);
	/* The newest chunk stays, empty, and is carved anew. */
	EXPECT_EQ(1, a.chunks);
	EXPECT_EQ(ADDR(p[0]), ADDR(hrservo_arena_alloc(&a, 10, NULL, NULL)));
	hrservo_arena_free(&a, p[0]);
	hrservo_arena_free(&a, NULL);
	hrservo_arena_destroy(&a);
	EXPECT_EQ(0, a.chunks);
	EXPECT_EQ(0, a.mapped);
}

TEST(a_large_allocation_gets_a_chunk_of_its_size)
{
	struct hrservo_arena a;
	size_t big = 5 * HRSERVO_ARENA_CHUNK / 2;
	char *s, *b;

	hrservo_arena_init(&a, true);
	s = hrservo_arena_alloc(&a, 100, NULL, NULL);
	ASSERT_NE(0, ADDR(s));
	b = hrservo_arena_alloc(&a, big, NULL, NULL);
	ASSERT_NE(0, ADDR(b));
	memset(b, 1, big);
	EXPECT_EQ(2, a.chunks);
	EXPECT_GE(a.mapped, HRSERVO_ARENA_CHUNK + big);
	EXPECT_LE(a.mapped, 2 * HRSERVO_ARENA_CHUNK + big);
	/* Locked as mapped, for the gpiod backend's rlimit arithmetic. */
	EXPECT_EQ(a.mapped, a.locked);
	/* The older chunk waits, empty, until a trim unmaps it. */
	hrservo_arena_free(&a, s);
	EXPECT_EQ(2, a.chunks);
	hrservo_arena_trim(&a);
	EXPECT_EQ(1, a.chunks);
	EXPECT_GE(a.locked, big);
	EXPECT_LT(a.locked, HRSERVO_ARENA_CHUNK + big);
	hrservo_arena_free(&a, b);
	hrservo_arena_destroy(&a);
	EXPECT_EQ(0, a.locked);
	/* Beyond any mapping: refused, nothing counted. */
	hrservo_arena_init(&a, true);
	errno = 0;
	EXPECT_EQ(0, ADDR(hrservo_arena_alloc(&a, SIZE_MAX - 8, NULL, NULL)));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(0, a.chunks);
	hrservo_arena_destroy(&a);
}

/*
 * A trajectory's queue: segments appended, the oldest freed as they play.
 * However many pass, the arena holds about what is live, plus one chunk.
 */
TEST(a_queue_freed_in_order_stays_bounded)
{
	enum { LIVE = 200, SIZE = 384 };
	struct hrservo_arena a;
	void *q[LIVE] = { 0 };
	size_t most = 0;

	hrservo_arena_init(&a, true);
	for (int i = 0; i < 20000; i++) {
		unsigned char *p = q[i % LIVE];

		/* What it was given kept its bytes: no overlap, no reuse. */
		if (p) {
			for (int k = 0; k < SIZE; k++)
				if (p[k] != (unsigned char)(i - LIVE))
					ASSERT_EQ((unsigned char)(i - LIVE), p[k]);
		}
		hrservo_arena_free(&a, p);
		p = hrservo_arena_alloc(&a, SIZE, NULL, NULL);
		ASSERT_NE(0, ADDR(p));
		memset(p, (unsigned char)i, SIZE);
		q[i % LIVE] = p;
		if (a.mapped > most)
			most = a.mapped;
	}
	TH_LOG("%d live allocations of %d bytes: at most %zu KiB mapped",
	       LIVE, SIZE, most / 1024);
	EXPECT_LE(most, (size_t)LIVE * (SIZE + 16) + 2 * HRSERVO_ARENA_CHUNK);
	for (int i = 0; i < LIVE; i++)
		hrservo_arena_free(&a, q[i]);
	hrservo_arena_trim(&a);
	EXPECT_EQ(1, a.chunks);
	hrservo_arena_destroy(&a);
	EXPECT_EQ(0, a.mapped);
}

/*
 * An empty chunk too small for an allocation is unmapped by it; one big
 * enough is carved anew, with no new mapping.
 */
TEST(empty_chunks_serve_again)
{
	struct hrservo_arena a;
	size_t big = 3 * HRSERVO_ARENA_CHUNK;
	void *p, *b, *c;

	hrservo_arena_init(&a, false);
	b = hrservo_arena_alloc(&a, big, NULL, NULL);
	p = hrservo_arena_alloc(&a, 8192, NULL, NULL);	/* a chunk of its own */
	ASSERT_NE(0, ADDR(b));
	ASSERT_NE(0, ADDR(p));
	EXPECT_EQ(2, a.chunks);
	hrservo_arena_free(&a, b);			/* empty, waits */
	c = hrservo_arena_alloc(&a, big - 4096, NULL, NULL);
	EXPECT_EQ(ADDR(b), ADDR(c));				/* carved anew */
	EXPECT_EQ(2, a.chunks);
	hrservo_arena_free(&a, p);			/* empty, waits */
	hrservo_arena_free(&a, c);			/* the current: stays */
	/* Too big for either: they go, a new one comes. */
	c = hrservo_arena_alloc(&a, 2 * big, NULL, NULL);
	ASSERT_NE(0, ADDR(c));
	EXPECT_LE(a.chunks, 2);
	EXPECT_LT(a.mapped, 2 * big + 3 * HRSERVO_ARENA_CHUNK + big);
	hrservo_arena_free(&a, c);
	hrservo_arena_destroy(&a);
	EXPECT_EQ(0, a.mapped);
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>

/* Under ASan what is not handed out is poisoned, as malloc()'s. */
TEST(asan_sees_outside_an_allocation)
{
	struct hrservo_arena a;
	char *p, *q;

	hrservo_arena_init(&a, false);
	p = hrservo_arena_alloc(&a, 100, NULL, NULL);
	q = hrservo_arena_alloc(&a, 100, NULL, NULL);
	ASSERT_NE(0, ADDR(p));
	ASSERT_NE(0, ADDR(q));
	EXPECT_FALSE(__asan_address_is_poisoned(p));
	EXPECT_FALSE(__asan_address_is_poisoned(p + 99));
	EXPECT_TRUE(__asan_address_is_poisoned(q - 1));	/* q's header */
	EXPECT_TRUE(__asan_address_is_poisoned(q + 112));	/* never carved */
	hrservo_arena_free(&a, p);
	EXPECT_TRUE(__asan_address_is_poisoned(p));		/* freed */
	EXPECT_FALSE(__asan_address_is_poisoned(q));
	hrservo_arena_free(&a, q);
	hrservo_arena_destroy(&a);
}
#endif

TEST_HARNESS_MAIN
