// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the locked arena (lib/arena.c), which holds what the gpiod
 * backend's real-time thread reads of a trajectory: allocations are
 * aligned and carved from shared chunks, a chunk goes when its last
 * allocation does, a queue freed in order keeps its memory bounded, and
 * the locked bytes are counted. (That mlock() itself is refused, and said
 * so, is tested in the guest through an unsanitized servoctl: ASan makes
 * mlock() a no-op.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

TEST(small_allocations_share_a_chunk)
{
	struct hrservo_arena a;
	char *p[8];

	hrservo_arena_init(&a, false);
	for (int i = 0; i < 8; i++) {
		p[i] = hrservo_arena_alloc(&a, 1 + 100 * i, NULL);
		ASSERT_NE(NULL, p[i]);
		EXPECT_EQ(0, (uintptr_t)p[i] % 16);
		memset(p[i], 0xa5, 1 + 100 * i);
	}
	EXPECT_EQ(1, a.chunks);
	EXPECT_EQ(HRSERVO_ARENA_CHUNK, a.mapped);
	EXPECT_EQ(0, a.locked);
	/* No overlap: each kept its bytes. */
	for (int i = 1; i < 8; i++)
		EXPECT_GE(p[i], p[i - 1] + 1 + 100 * (i - 1));
	for (int i = 0; i < 8; i++)
		hrservo_arena_free(&a, p[i]);
	/* The newest chunk stays, empty, and is carved anew. */
	EXPECT_EQ(1, a.chunks);
	EXPECT_EQ(p[0], hrservo_arena_alloc(&a, 10, NULL));
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
	s = hrservo_arena_alloc(&a, 100, NULL);
	ASSERT_NE(NULL, s);
	b = hrservo_arena_alloc(&a, big, NULL);
	ASSERT_NE(NULL, b);
	memset(b, 1, big);
	EXPECT_EQ(2, a.chunks);
	EXPECT_GE(a.mapped, HRSERVO_ARENA_CHUNK + big);
	EXPECT_LE(a.mapped, 2 * HRSERVO_ARENA_CHUNK + big);
	/* Locked as mapped, for the gpiod backend's rlimit arithmetic. */
	EXPECT_EQ(a.mapped, a.locked);
	EXPECT_EQ(a.locked, hrservo_arena_locked(&a));
	/* The older chunk goes with its last allocation. */
	hrservo_arena_free(&a, s);
	EXPECT_EQ(1, a.chunks);
	hrservo_arena_free(&a, b);
	hrservo_arena_destroy(&a);
	EXPECT_EQ(0, a.locked);
	/* Beyond any mapping: refused, nothing counted. */
	hrservo_arena_init(&a, true);
	errno = 0;
	EXPECT_EQ(NULL, hrservo_arena_alloc(&a, SIZE_MAX - 8, NULL));
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
		hrservo_arena_free(&a, q[i % LIVE]);
		q[i % LIVE] = hrservo_arena_alloc(&a, SIZE, NULL);
		ASSERT_NE(NULL, q[i % LIVE]);
		if (a.mapped > most)
			most = a.mapped;
	}
	TH_LOG("%d live allocations of %d bytes: at most %zu KiB mapped",
	       LIVE, SIZE, most / 1024);
	EXPECT_LE(most, (size_t)LIVE * (SIZE + 16) + 2 * HRSERVO_ARENA_CHUNK);
	for (int i = 0; i < LIVE; i++)
		hrservo_arena_free(&a, q[i]);
	EXPECT_EQ(1, a.chunks);
	hrservo_arena_destroy(&a);
	EXPECT_EQ(0, a.mapped);
}

TEST_HARNESS_MAIN
