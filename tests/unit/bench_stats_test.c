// SPDX-License-Identifier: GPL-2.0
/* The benchmark's statistics and parsers (bench/stats.c), on known inputs. */
#include <string.h>

#include "harness.h"
#include "../../bench/stats.h"

TEST(stats_of_known_samples)
{
	int64_t v[] = { 5, 1, 3 };
	int64_t w[200];
	struct bench_stats s = bench_stats_of(v, 3);

	EXPECT_EQ(3, s.n);
	EXPECT_EQ(1, s.min);
	EXPECT_EQ(3, s.p50);
	EXPECT_EQ(5, s.p99);
	EXPECT_EQ(5, s.max);
	EXPECT_EQ(3.0, s.mean);
	/* Sorted in place. */
	EXPECT_EQ(1, v[0]);
	EXPECT_EQ(5, v[2]);

	/* 0..199 shuffled: p50 the upper median, p99 index 198. */
	for (int i = 0; i < 200; i++)
		w[i] = (i * 67) % 200;
	s = bench_stats_of(w, 200);
	EXPECT_EQ(100, s.p50);
	EXPECT_EQ(198, s.p99);
	EXPECT_EQ(199, s.max);
	EXPECT_EQ(0, s.min);
	EXPECT_EQ(99.5, s.mean);

	/* Negative lateness (an early expiry) sorts first. */
	int64_t x[] = { 10, -4, 2, 7 };

	s = bench_stats_of(x, 4);
	EXPECT_EQ(-4, s.min);
	EXPECT_EQ(7, s.p50);
}

TEST(stats_of_nothing_is_zero)
{
	struct bench_stats s = bench_stats_of(NULL, 0);

	EXPECT_EQ(0, s.n);
	EXPECT_EQ(0, s.p50);
	EXPECT_EQ(0, s.max);
}

TEST(parse_edge_lines)
{
	struct bench_edge e;

	ASSERT_EQ(0, bench_parse_edge("  <idle>-0  [000] d.h2.  12.345678: hrservo_edge: hrservo3 seq=17 level=1 mask=0xff scheduled=1000000 late=1736\n", &e));
	EXPECT_EQ(3, e.id);
	EXPECT_EQ(17, e.seq);
	EXPECT_EQ(1, e.level);
	EXPECT_EQ(0xff, e.mask);
	EXPECT_EQ(1000000, e.scheduled);
	EXPECT_EQ(1736, e.late);
	ASSERT_EQ(0, bench_parse_edge("x: hrservo_edge: hrservo0 seq=1 level=0 mask=0x1 scheduled=5 late=-3", &e));
	EXPECT_EQ(0, e.level);
	EXPECT_EQ(-3, e.late);
	EXPECT_EQ(-1, bench_parse_edge("x: hrservo_frame: hrservo0 seq=1", &e));
	EXPECT_EQ(-1, bench_parse_edge("x: hrservo_edge: hrservo0 seq=1 level=0", &e));
	EXPECT_EQ(-1, bench_parse_edge("# tracer: nop", &e));
}

TEST(parse_frame_lines)
{
	struct bench_frame f;

	ASSERT_EQ(0, bench_parse_frame("  <idle>-0  [000] d.h2.  12.345678: hrservo_frame: hrservo2 seq=41 scheduled=20000000 late=-499310 active=0xff period=20000000\n", &f));
	EXPECT_EQ(2, f.id);
	EXPECT_EQ(41, f.seq);
	EXPECT_EQ(20000000, f.scheduled);
	EXPECT_EQ(-499310, f.late);
	ASSERT_EQ(0, bench_parse_frame("x: hrservo_frame: hrservo0 seq=1 scheduled=5 late=7", &f));
	EXPECT_EQ(7, f.late);
	EXPECT_EQ(-1, bench_parse_frame("x: hrservo_edge: hrservo0 seq=1 level=0 mask=0x1 scheduled=5 late=-3", &f));
	EXPECT_EQ(-1, bench_parse_frame("x: hrservo_frame: hrservo0 seq=1", &f));
	EXPECT_EQ(-1, bench_parse_frame("# tracer: nop", &f));
}

TEST(parse_graph_lines)
{
	double us = -1;

	ASSERT_EQ(0, bench_parse_graph(" 0)   2.345 us    |  hrservo_gpio_timer [hrservo_gpio]();\n", "hrservo_gpio_timer", &us));
	EXPECT_EQ(2345, (int)(us * 1000 + 0.5));
	ASSERT_EQ(0, bench_parse_graph(" 0) + 12.500 us   |  hrservo_gpio_timer();", "hrservo_gpio_timer", &us));
	EXPECT_EQ(12500, (int)(us * 1000 + 0.5));
	ASSERT_EQ(0, bench_parse_graph(" 1) ! 101.250 us  |  hrservo_gpio_timer [hrservo_gpio]();", "hrservo_gpio_timer", &us));
	EXPECT_EQ(101250, (int)(us * 1000 + 0.5));
	/* An entry that has not returned, another function, a comment. */
	EXPECT_EQ(-1, bench_parse_graph(" 0)               |  hrservo_gpio_timer [hrservo_gpio]() {", "hrservo_gpio_timer", &us));
	EXPECT_EQ(-1, bench_parse_graph(" 0)   1.000 us    |  hrservo_gpio_timer_x();", "hrservo_gpio_timer", &us));
	EXPECT_EQ(-1, bench_parse_graph(" 0)   1.000 us    |  hrservo_frame_begin [hrservo]();", "hrservo_gpio_timer", &us));
	EXPECT_EQ(-1, bench_parse_graph("# CPU  DURATION                  FUNCTION CALLS", "hrservo_gpio_timer", &us));
}

TEST(parse_probe_lines)
{
	long long late;
	int rise;

	ASSERT_EQ(0, bench_parse_probe("R 594\n", &rise, &late));
	EXPECT_EQ(1, rise);
	EXPECT_EQ(594, late);
	ASSERT_EQ(0, bench_parse_probe("F -12\n", &rise, &late));
	EXPECT_EQ(0, rise);
	EXPECT_EQ(-12, late);
	EXPECT_EQ(-1, bench_parse_probe("X 1\n", &rise, &late));
	EXPECT_EQ(-1, bench_parse_probe("R\n", &rise, &late));
	EXPECT_EQ(-1, bench_parse_probe("\n", &rise, &late));
}

/* The driver's frame in er3's trace: start 5036272125 ns, 20 ms frames. */
TEST(phase_of_a_frame_start)
{
	EXPECT_EQ(16272125LL, bench_phase_ns(5036272125LL, 20000000));
	EXPECT_EQ(0LL, bench_phase_ns(40000000LL, 20000000));
	EXPECT_EQ(19999999LL, bench_phase_ns(-1, 20000000));
	EXPECT_EQ(0LL, bench_phase_ns(0, 20000000));
}

TEST(ratio)
{
	EXPECT_EQ(2.0, bench_ratio(4.0, 2.0));
	EXPECT_EQ(0.0, bench_ratio(4.0, 0.0));
}

TEST_HARNESS_MAIN
