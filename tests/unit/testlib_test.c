// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the guest tests' own reading of a capture
 * (tests/driver/testlib.c): tl_pulses() gives the pulses of one line in
 * order, each with its own width, and a capture with more pulses than the
 * room given yields the first ones intact. (It once kept folding the later
 * falls into the last stored pulse: on a loaded CI host a capture of 2 s
 * made "the last pulse" 840 ms wide, and cli.set_makes_pulses failed.)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "testlib.h"

#define US		1000ULL
#define FRAME		(20000 * US)

/*
 * Pulses on line 1 every frame, the first @early of width 1000 us and the
 * rest 2000 us, with line 0 toggling between them; the last pulse of line
 * 1 is still high at the end if @open. Returns the number of edges.
 */
static size_t capture(struct tl_edge *e, unsigned int pulses,
		      unsigned int early, int open)
{
	size_t n = 0;

	for (unsigned int i = 0; i < pulses; i++) {
		uint64_t t = 1000000000ULL + i * FRAME;
		uint64_t w = (i < early ? 1000 : 2000) * US;

		e[n++] = (struct tl_edge){ .ts = t, .line = 1, .level = 1 };
		e[n++] = (struct tl_edge){ .ts = t + 100, .line = 0, .level = 1 };
		e[n++] = (struct tl_edge){ .ts = t + 300 * US, .line = 0,
					   .level = 0 };
		if (open && i == pulses - 1)
			break;
		e[n++] = (struct tl_edge){ .ts = t + w, .line = 1, .level = 0 };
	}
	return n;
}

TEST(each_pulse_has_its_own_width)
{
	struct tl_edge e[4 * 10];
	struct tl_pulse p[10];
	size_t n = capture(e, 10, 4, 1), np;

	np = tl_pulses(e, n, 1, p, 10);
	ASSERT_EQ(10, np);
	for (size_t i = 0; i < np; i++) {
		EXPECT_EQ(1000000000ULL + i * FRAME, p[i].rise);
		if (i < 4) {
			EXPECT_EQ(1000 * US, p[i].width);
		} else if (i < 9) {
			EXPECT_EQ(2000 * US, p[i].width);
		}
	}
	/* Still high at the end of the capture. */
	EXPECT_EQ(0, p[9].width);
	np = tl_pulses(e, n, 0, p, 10);
	ASSERT_EQ(10, np);
	EXPECT_EQ(300 * US - 100, p[9].width);
	EXPECT_EQ(0, tl_pulses(e, n, 2, p, 10));
}

TEST(more_pulses_than_room_leave_the_first_intact)
{
	struct tl_edge *e = calloc(4 * 100, sizeof(*e));
	struct tl_pulse p[64];
	size_t n, np;

	ASSERT_NE(NULL, e);
	/* 64 pulses of 1000 us, then 36 of 2000 us. */
	n = capture(e, 100, 64, 0);
	np = tl_pulses(e, n, 1, p, 64);
	ASSERT_EQ(64, np);
	for (size_t i = 0; i < np; i++) {
		EXPECT_EQ(1000000000ULL + i * FRAME, p[i].rise);
		EXPECT_EQ(1000 * US, p[i].width);
	}
	/* With no room, nothing is written. */
	EXPECT_EQ(0, tl_pulses(e, n, 1, p, 0));
	free(e);
}

/* A bound passes when both its guest time and its host time have gone. */
TEST(bound_needs_both_clocks)
{
	struct tl_bound b;

	/* Guest time: not before it, and by then the host's second is gone. */
	tl_bound_start(&b, 1000000000ULL, 0);
	EXPECT_FALSE(tl_bound_passed(&b));
	tl_sleep_ns(1050000000ULL);
	EXPECT_TRUE(tl_bound_passed(&b));
	/* Host time: none of the guest's is needed, but 2 s (and one) are. */
	tl_bound_start(&b, 0, 2);
	EXPECT_FALSE(tl_bound_passed(&b));
}

TEST_HARNESS_MAIN
