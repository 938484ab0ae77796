// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of driver/hrservo-logic.c, the kernel-independent logic
 * compiled unchanged into hrservo.ko.
 */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "hrservo-logic.h"

static struct hrservo_chan_limits lim8[8];

static void default_limits(void)
{
	for (unsigned int i = 0; i < 8; i++) {
		lim8[i].min_ns = HRSERVO_DEFAULT_MIN_NS;
		lim8[i].max_ns = HRSERVO_DEFAULT_MAX_NS;
	}
}

TEST(batch_good)
{
	struct hrservo_target t[] = { { 0, 1500000 }, { 7, 500000 },
				      { 3, 2500000 } };
	unsigned int bad = 99;

	default_limits();
	ASSERT_EQ(0, hrservo_check_batch(t, 3, 8, lim8, &bad));
	EXPECT_EQ(99, bad);
}

TEST(batch_count)
{
	struct hrservo_target t[9] = { { 0, 1500000 } };
	unsigned int bad;

	default_limits();
	EXPECT_EQ(-EINVAL, hrservo_check_batch(t, 0, 8, lim8, &bad));
	EXPECT_EQ(0, bad);
	for (unsigned int i = 0; i < 9; i++)
		t[i] = (struct hrservo_target){ i, 1500000 };
	EXPECT_EQ(-EINVAL, hrservo_check_batch(t, 9, 8, lim8, &bad));
	EXPECT_EQ(9, bad);
}

TEST(batch_channel_out_of_range)
{
	struct hrservo_target t[] = { { 1, 1500000 }, { 8, 1500000 } };
	unsigned int bad;

	default_limits();
	EXPECT_EQ(-EINVAL, hrservo_check_batch(t, 2, 8, lim8, &bad));
	EXPECT_EQ(1, bad);
}

TEST(batch_duplicate)
{
	struct hrservo_target t[] = { { 1, 1500000 }, { 2, 1500000 },
				      { 1, 1600000 } };
	unsigned int bad;

	default_limits();
	EXPECT_EQ(-EINVAL, hrservo_check_batch(t, 3, 8, lim8, &bad));
	EXPECT_EQ(2, bad);
}

TEST(batch_range_edges)
{
	struct hrservo_target t[1];
	unsigned int bad;

	default_limits();
	lim8[4].min_ns = 1000000;
	lim8[4].max_ns = 2000000;
	t[0] = (struct hrservo_target){ 4, 1000000 };
	EXPECT_EQ(0, hrservo_check_batch(t, 1, 8, lim8, &bad));
	t[0].pulse_ns = 2000000;
	EXPECT_EQ(0, hrservo_check_batch(t, 1, 8, lim8, &bad));
	t[0].pulse_ns = 999999;
	EXPECT_EQ(-ERANGE, hrservo_check_batch(t, 1, 8, lim8, &bad));
	t[0].pulse_ns = 2000001;
	EXPECT_EQ(-ERANGE, hrservo_check_batch(t, 1, 8, lim8, &bad));
	t[0].pulse_ns = 0;
	EXPECT_EQ(-ERANGE, hrservo_check_batch(t, 1, 8, lim8, &bad));
}

/* A structural error wins over a range error that comes first. */
TEST(batch_structure_before_range)
{
	struct hrservo_target t[] = { { 0, 9000000 }, { 0, 1500000 } };
	unsigned int bad;

	default_limits();
	EXPECT_EQ(-EINVAL, hrservo_check_batch(t, 2, 8, lim8, &bad));
	EXPECT_EQ(1, bad);
}

TEST(limits)
{
	EXPECT_EQ(0, hrservo_check_limits(500000, 2500000, 20000000));
	EXPECT_EQ(0, hrservo_check_limits(HRSERVO_PULSE_MIN_NS,
					  20000000 - HRSERVO_FRAME_GUARD_NS,
					  20000000));
	EXPECT_EQ(-ERANGE, hrservo_check_limits(HRSERVO_PULSE_MIN_NS - 1,
						2500000, 20000000));
	EXPECT_EQ(-ERANGE, hrservo_check_limits(1500000, 1500000, 20000000));
	EXPECT_EQ(-ERANGE, hrservo_check_limits(1600000, 1500000, 20000000));
	EXPECT_EQ(-ERANGE, hrservo_check_limits(500000, 2500000, 2500000));
	EXPECT_EQ(0, hrservo_check_limits(500000, 2400000, 2500000));
}

TEST(period)
{
	unsigned int bad;

	default_limits();
	EXPECT_EQ(0, hrservo_check_period(20000000, HRSERVO_PERIOD_MIN_NS,
					  HRSERVO_PERIOD_MAX_NS, lim8, 8,
					  &bad));
	EXPECT_EQ(-ERANGE, hrservo_check_period(2499999, HRSERVO_PERIOD_MIN_NS,
						HRSERVO_PERIOD_MAX_NS, lim8, 8,
						&bad));
	EXPECT_EQ(8, bad);
	EXPECT_EQ(-ERANGE, hrservo_check_period(50000001,
						HRSERVO_PERIOD_MIN_NS,
						HRSERVO_PERIOD_MAX_NS, lim8, 8,
						&bad));
	/* 2.5 ms leaves 2.4 ms for pulses: default max 2.5 ms does not fit. */
	EXPECT_EQ(-EBUSY, hrservo_check_period(2500000, HRSERVO_PERIOD_MIN_NS,
					       HRSERVO_PERIOD_MAX_NS, lim8, 8,
					       &bad));
	EXPECT_EQ(0, bad);
	for (unsigned int i = 0; i < 8; i++)
		lim8[i].max_ns = 2400000;
	EXPECT_EQ(0, hrservo_check_period(2500000, HRSERVO_PERIOD_MIN_NS,
					  HRSERVO_PERIOD_MAX_NS, lim8, 8,
					  &bad));
}

TEST(plan_empty)
{
	u32 p[4] = { 0 };
	struct hrservo_edge_group g[4];

	EXPECT_EQ(0, hrservo_plan_falls(p, 4, 2000, g));
}

TEST(plan_sorted_distinct)
{
	u32 p[5] = { 2000000, 0, 1000000, 1500000, 500000 };
	struct hrservo_edge_group g[5];

	ASSERT_EQ(4, hrservo_plan_falls(p, 5, 0, g));
	EXPECT_EQ(500000, g[0].offset_ns);
	EXPECT_EQ(1ULL << 4, g[0].mask);
	EXPECT_EQ(1000000, g[1].offset_ns);
	EXPECT_EQ(1ULL << 2, g[1].mask);
	EXPECT_EQ(1500000, g[2].offset_ns);
	EXPECT_EQ(1ULL << 3, g[2].mask);
	EXPECT_EQ(2000000, g[3].offset_ns);
	EXPECT_EQ(1ULL << 0, g[3].mask);
}

TEST(plan_equal_ends_share_expiry)
{
	u32 p[4] = { 1500000, 1500000, 1500000, 1200000 };
	struct hrservo_edge_group g[4];

	ASSERT_EQ(2, hrservo_plan_falls(p, 4, 0, g));
	EXPECT_EQ(1200000, g[0].offset_ns);
	EXPECT_EQ(0x8ULL, g[0].mask);
	EXPECT_EQ(1500000, g[1].offset_ns);
	EXPECT_EQ(0x7ULL, g[1].mask);
}

/*
 * The window is anchored at a group's earliest end: a chain of edges 1 us
 * apart with a 2 us window makes groups {0,1,2} {3,4,5} ..., never one group
 * that would cut the last pulse short by more than the window.
 */
TEST(plan_coalesce_window_anchored)
{
	u32 p[7];
	struct hrservo_edge_group g[7];

	for (unsigned int i = 0; i < 7; i++)
		p[i] = 1000000 + i * 1000;
	ASSERT_EQ(3, hrservo_plan_falls(p, 7, 2000, g));
	EXPECT_EQ(1000000, g[0].offset_ns);
	EXPECT_EQ(0x07ULL, g[0].mask);
	EXPECT_EQ(1003000, g[1].offset_ns);
	EXPECT_EQ(0x38ULL, g[1].mask);
	EXPECT_EQ(1006000, g[2].offset_ns);
	EXPECT_EQ(0x40ULL, g[2].mask);
}

/* Expiries per frame <= distinct end times + 1, for many patterns. */
TEST(plan_expiry_bound_64)
{
	u32 p[64];
	struct hrservo_edge_group g[64];
	unsigned int seed = 12345;

	for (int round = 0; round < 200; round++) {
		unsigned int distinct = 0, n;
		u64 all = 0, covered = 0;

		for (unsigned int i = 0; i < 64; i++) {
			seed = seed * 1103515245 + 12345;
			p[i] = (seed >> 8) % 5 == 0 ? 0 :
			       500000 + ((seed >> 4) % 40) * 50000;
		}
		for (unsigned int i = 0; i < 64; i++) {
			bool seen = false;

			if (!p[i])
				continue;
			all |= 1ULL << i;
			for (unsigned int j = 0; j < i; j++)
				seen |= p[j] == p[i];
			distinct += !seen;
		}
		n = hrservo_plan_falls(p, 64, 0, g);
		ASSERT_EQ(distinct, n);
		for (unsigned int k = 0; k < n; k++) {
			/* Groups are disjoint and sorted. */
			ASSERT_EQ(0ULL, g[k].mask & covered);
			covered |= g[k].mask;
			if (k)
				ASSERT_LT(g[k - 1].offset_ns, g[k].offset_ns);
			for (unsigned int i = 0; i < 64; i++)
				if (g[k].mask & (1ULL << i))
					ASSERT_EQ(g[k].offset_ns, p[i]);
			all &= ~g[k].mask;
		}
		ASSERT_EQ(0ULL, all);
	}
}

TEST(rate_per_frame)
{
	/* 1000 us/s at 20 ms: 20 us per frame. */
	EXPECT_EQ(20000ULL << 16, hrservo_rate_per_frame(1000000, 20000000, 1));
	/* 50 ms/s^2 at 20 ms: 20 us per frame^2. */
	EXPECT_EQ(20000ULL << 16, hrservo_rate_per_frame(50000000, 20000000, 2));
	EXPECT_EQ(0, hrservo_rate_per_frame(0, 20000000, 1));
	/* Tiny limits never become "no limit". */
	EXPECT_EQ(1, hrservo_rate_per_frame(1, 2500000, 2));
	/* The largest values do not overflow. */
	EXPECT_EQ((u64)4294967295U * 65536 / 20,
		  hrservo_rate_per_frame(4294967295U, 50000000, 1));
}

TEST(isqrt)
{
	EXPECT_EQ(0, hrservo_isqrt(0));
	EXPECT_EQ(1, hrservo_isqrt(3));
	EXPECT_EQ(2, hrservo_isqrt(4));
	EXPECT_EQ(999999, hrservo_isqrt(999999999999ULL));
	EXPECT_EQ(4294967295ULL, hrservo_isqrt(~0ULL));
}

static s64 q(s64 ns)
{
	return ns << HRSERVO_Q;
}

TEST(motion_no_limit_jumps)
{
	struct hrservo_motion m = { 0 };

	EXPECT_FALSE(hrservo_motion_step(&m, q(1000000), 0, 0, false));
	EXPECT_EQ(q(1000000), m.pos);
	EXPECT_FALSE(hrservo_motion_step(&m, q(2000000), 0, 0, false));
	EXPECT_EQ(q(2000000), m.pos);
}

/* The first position after an enable is taken at once, even when limited. */
TEST(motion_first_step_jumps)
{
	struct hrservo_motion m = { 0 };

	EXPECT_FALSE(hrservo_motion_step(&m, q(1500000), q(20000), q(1000), false));
	EXPECT_EQ(q(1500000), m.pos);
	EXPECT_EQ(0, m.vel);
}

TEST(motion_speed_limit_ramps)
{
	struct hrservo_motion m = { 0 };
	int steps = 0;

	hrservo_motion_step(&m, q(1000000), q(20000), 0, false);
	while (hrservo_motion_step(&m, q(1500000), q(20000), 0, false)) {
		steps++;
		ASSERT_EQ(q(1000000 + 20000 * steps), m.pos);
		ASSERT_LT(steps, 100);
	}
	/* 24 limited steps of 20 us, then the 25th arrives. */
	EXPECT_EQ(24, steps);
	EXPECT_EQ(q(1500000), m.pos);
	/* And down again. */
	steps = 0;
	while (hrservo_motion_step(&m, q(1000000), q(20000), 0, false))
		steps++;
	EXPECT_EQ(24, steps);
	EXPECT_EQ(q(1000000), m.pos);
}

/* Speed changes by at most amax per frame; it stops at the target. */
TEST(motion_accel_limit)
{
	struct hrservo_motion m = { 0 };
	s64 vmax = q(200000), amax = q(20000), prev_vel = 0;
	int steps = 0;

	hrservo_motion_step(&m, q(1000000), vmax, amax, false);
	while (hrservo_motion_step(&m, q(2000000), vmax, amax, false)) {
		s64 dv = m.vel - prev_vel;

		ASSERT_LE(dv < 0 ? -dv : dv, amax);
		ASSERT_LE(m.vel, vmax);
		ASSERT_GT(m.vel, 0);
		ASSERT_LE(m.pos, q(2000000));
		prev_vel = m.vel;
		ASSERT_LT(++steps, 1000);
	}
	EXPECT_EQ(q(2000000), m.pos);
	/* It arrived slowly: the last speed was small. */
	EXPECT_LE(prev_vel, 2 * amax);
	/* 1 ms at 20 us/frame^2: about 2*sqrt(1000/20) = 14 frames. */
	EXPECT_GE(steps, 12);
	EXPECT_LE(steps, 18);
}

/*
 * A target that moves within the limits, as a trajectory sampled at every
 * frame does, is followed exactly: the limiter must not brake to a stop
 * at each frame's point and lag behind it.
 */
TEST(motion_follows_moving_target)
{
	/* 20 ms frames, 1000 us/s and 5000 us/s^2. */
	s64 vmax = hrservo_rate_per_frame(1000000, 20000000, 1);
	s64 amax = hrservo_rate_per_frame(5000000, 20000000, 2);
	/* p = 1.5 ms - A cos(w t): 99.95% of the speed, 99.9% of the accel. */
	double A = 200000, w = sqrt(5e6 * 0.999 / A);
	struct hrservo_motion m = { 0 };
	int k, held = 0;

	ASSERT_LE(A * w, 1e6);
	for (k = 0; k < 500; k++) {
		s64 want = llround(1500000 - A * cos(w * k * 0.02));

		if (hrservo_motion_step(&m, q(want), vmax, amax,
						true))
			held++;
		ASSERT_EQ(q(want), m.pos) {
			TH_LOG("frame %d: at %lld ns, target %lld ns", k,
			       (long long)(m.pos >> HRSERVO_Q),
			       (long long)want);
		}
	}
	EXPECT_EQ(0, held);
}

/* The same target with only a speed limit: followed exactly too. */
TEST(motion_follows_moving_target_speed_only)
{
	s64 vmax = hrservo_rate_per_frame(1000000, 20000000, 1);
	double A = 200000, w = 1e6 * 0.999 / A;
	struct hrservo_motion m = { 0 };
	int k;

	for (k = 0; k < 500; k++) {
		s64 want = llround(1500000 - A * cos(w * k * 0.02));

		EXPECT_FALSE(hrservo_motion_step(&m, q(want), vmax, 0, true));
		ASSERT_EQ(q(want), m.pos);
	}
}

/*
 * A target that moves too fast is held back and reported, and the limits
 * hold (within the rounding slack) at every frame.
 */
TEST(motion_too_fast_target_is_held)
{
	s64 vmax = hrservo_rate_per_frame(1000000, 20000000, 1);
	s64 amax = hrservo_rate_per_frame(5000000, 20000000, 2);
	double A = 400000, w = sqrt(5e6 * 0.999 / 200000);
	struct hrservo_motion m = { 0 };
	s64 prev_vel = 0, worst = 0;
	int k, held = 0;

	for (k = 0; k < 500; k++) {
		s64 want = llround(1500000 - A * cos(w * k * 0.02));
		s64 dv;

		if (hrservo_motion_step(&m, q(want), vmax, amax,
						true))
			held++;
		if (k == 0)
			continue;
		dv = m.vel - prev_vel;
		ASSERT_LE(llabs(m.vel), vmax + HRSERVO_MOTION_SLACK);
		if (k > 1)
			ASSERT_LE(llabs(dv), amax + HRSERVO_MOTION_SLACK);
		prev_vel = m.vel;
		if (llabs(m.pos - q(want)) > worst)
			worst = llabs(m.pos - q(want));
	}
	EXPECT_GT(held, 100);
	TH_LOG("largest lag %lld ns", (long long)(worst >> HRSERVO_Q));
}

/*
 * A minimum-jerk move twice as hard as the acceleration limit allows: the
 * channel lags, and it must not run past the end point (an earlier
 * version braked for where the target was going and overshot by 300 us).
 */
TEST(motion_too_fast_move_does_not_overshoot)
{
	s64 vmax = hrservo_rate_per_frame(10000000, 20000000, 1);
	s64 amax = hrservo_rate_per_frame(2000000, 20000000, 2);
	struct hrservo_motion m = { 0 };
	int k, held = 0;

	/* 800 us in 1 s: peak acceleration 4.6 ms/s^2. */
	for (k = 0; k < 400; k++) {
		double u = k * 0.02 > 1 ? 1 : k * 0.02;
		s64 want = llround(1000000 + 800000 *
				   (10 * pow(u, 3) - 15 * pow(u, 4) +
				    6 * pow(u, 5)));

		held += hrservo_motion_step(&m, q(want), vmax, amax, u < 1);
		ASSERT_LE(m.pos, q(1800000) + HRSERVO_MOTION_SLACK) {
			TH_LOG("frame %d: %lld ns, past the end", k,
			       (long long)(m.pos >> HRSERVO_Q));
		}
		ASSERT_GE(m.pos, q(1000000));
	}
	EXPECT_GT(held, 10);
	EXPECT_EQ(q(1800000), m.pos);
}

/*
 * A stop: the trajectory's axis moves at speed, then its target becomes a
 * point at rest one braking distance ahead. From the first frame on it
 * brakes, within the limit (an earlier version took the jump of the target
 * for the target's speed and accelerated).
 */
TEST(motion_stop_point_brakes)
{
	s64 amax = q(1000), vel, prev;
	struct hrservo_motion m = { 0 };
	s64 p = q(1000000);
	int k;

	/* Cruise at 20 us per frame, on a moving target. */
	for (k = 0; k < 40; k++) {
		p += q(20000) * (k < 20 ? k : 20) / 20;
		hrservo_motion_step(&m, p, 0x7fffffffffffLL, amax, true);
	}
	vel = m.vel;
	ASSERT_EQ(q(20000), vel);
	/* Braking distance at a per frame: v (v + a) / 2a. */
	p = m.pos + q(20000LL * 21000 / 2000);
	prev = vel;
	for (k = 0; k < 100; k++) {
		hrservo_motion_step(&m, p, 0x7fffffffffffLL, amax, false);
		ASSERT_LE(m.vel, prev) TH_LOG("frame %d sped up", k);
		ASSERT_LE(prev - m.vel, amax + HRSERVO_MOTION_SLACK);
		prev = m.vel;
	}
	EXPECT_EQ(p, m.pos);
}

/*
 * floor(e * 2^32 / d) for e < d < 2^36 with the machine's own divider, 16
 * bits at a time (no 128-bit type: this test runs on 32-bit ARM too).
 */
static u32 frac32(u64 e, u64 d)
{
	u64 hi = (e << 16) / d, r = (e << 16) % d;

	return (u32)(hi << 16 | (r << 16) / d);
}

static u32 u_of(u64 elapsed, u64 duration)
{
	struct hrservo_div d;

	hrservo_div_init(&d, duration);
	return hrservo_poly_u(elapsed, &d);
}

TEST(poly_u)
{
	EXPECT_EQ(0, u_of(0, 1000));
	EXPECT_EQ(0x80000000U, u_of(500, 1000));
	EXPECT_EQ(0x40000000U, u_of(15000000000ULL, 60000000000ULL));
	EXPECT_EQ(0xffffffffU, u_of(1000, 1000));
	/* 1/3, rounded down */
	EXPECT_EQ(0x55555555U, u_of(1, 3));
	/* The longest segment, a nanosecond before its end. */
	EXPECT_EQ(frac32(HRSERVO_SEG_MAX_NS - 1, HRSERVO_SEG_MAX_NS),
		  u_of(HRSERVO_SEG_MAX_NS - 1, HRSERVO_SEG_MAX_NS));
}

/* A small deterministic generator, so that a failure can be replayed. */
static u64 next_rand(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * The division the frame clock uses (multiplications only) is exact: the
 * same quotient and remainder as the machine's divider, for divisors and
 * dividends at the edges and at random, small and large.
 */
TEST(div_exact)
{
	static const u64 edge[] = {
		1, 2, 3, 7, 1000, 1000000000ULL, 4096000000000ULL,
		(1ULL << 32) - 1, 1ULL << 32, (1ULL << 32) + 1,
		(1ULL << 63) - 1, 1ULL << 63, ~0ULL - 1, ~0ULL,
	};
	u64 seed = 0x9e3779b97f4a7c15ULL, n, d, q, r;
	struct hrservo_div dv;
	unsigned int i, j, bad = 0;

	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		hrservo_div_init(&dv, edge[i]);
		for (j = 0; j < sizeof(edge) / sizeof(edge[0]); j++) {
			n = edge[j];
			q = hrservo_div_u64(n, &dv, &r);
			bad += q != n / edge[i] || r != n % edge[i];
			n = edge[j] - 1;
			q = hrservo_div_u64(n, &dv, &r);
			bad += q != n / edge[i] || r != n % edge[i];
		}
	}
	for (i = 0; i < 200000; i++) {
		d = next_rand(&seed) >> (next_rand(&seed) % 64);
		n = next_rand(&seed) >> (next_rand(&seed) % 64);
		if (!d)
			d = 1;
		hrservo_div_init(&dv, d);
		q = hrservo_div_u64(n, &dv, &r);
		if (q != n / d || r != n % d) {
			if (!bad)
				TH_LOG("%llu / %llu: got %llu rem %llu",
				       (unsigned long long)n,
				       (unsigned long long)d,
				       (unsigned long long)q,
				       (unsigned long long)r);
			bad++;
		}
	}
	EXPECT_EQ(0, bad);
}

/* The normalised time is the exactly rounded-down fraction. */
TEST(poly_u_exact)
{
	u64 seed = 42, d, e;
	unsigned int i, bad = 0;

	for (i = 0; i < 100000; i++) {
		d = HRSERVO_SEG_MIN_NS +
		    next_rand(&seed) % (HRSERVO_SEG_MAX_NS - HRSERVO_SEG_MIN_NS);
		e = next_rand(&seed) % d;
		bad += u_of(e, d) != frac32(e, d);
	}
	EXPECT_EQ(0, bad);
}

/* Minimum jerk from 1000 us to 2000 us: 10u^3 - 15u^4 + 6u^5, exactly. */
TEST(poly_min_jerk_exact)
{
	s64 d = q(1000000);
	s64 c[6] = { q(1000000), 0, 0, 10 * d, -15 * d, 6 * d };

	EXPECT_EQ(q(1000000), hrservo_poly_eval(c, 0));
	EXPECT_EQ(q(1500000), hrservo_poly_eval(c, 0x80000000U));
	EXPECT_EQ(q(2000000), hrservo_poly_end(c));
	/* u = 1/4: 10/64 - 15/256 + 6/1024 = 0.103515625 */
	EXPECT_EQ(q(1103515) + (s64)(0.625 * 65536),
		  hrservo_poly_eval(c, 0x40000000U));
}

/* Against double precision, over many random polynomials and times. */
TEST(poly_matches_double)
{
	unsigned int seed = 7;

	for (int i = 0; i < 10000; i++) {
		s64 c[6];
		double u, ref = 0, p = 1;
		u32 uq;

		for (int k = 0; k < 6; k++) {
			seed = seed * 1103515245 + 12345;
			c[k] = (s64)((int)(seed >> 1) % 40000000) * 65536 / 7;
		}
		seed = seed * 1103515245 + 12345;
		uq = seed;
		u = uq / 4294967296.0;
		for (int k = 0; k < 6; k++, p *= u)
			ref += (double)c[k] * p;
		/* Within 1 ns (65536 units) of the exact value. */
		ASSERT_LE(fabs(ref - (double)hrservo_poly_eval(c, uq)), 65536.0);
	}
}

struct parsed {
	int ret;
	char label[HRSERVO_LABEL_MAX];
	u32 off[HRSERVO_CHANNELS_MAX];
	unsigned int n;
};

static struct parsed parse(const char *s)
{
	struct parsed p;

	memset(&p, 0, sizeof(p));
	p.ret = hrservo_parse_lines(s, p.label, sizeof(p.label), p.off,
				    HRSERVO_CHANNELS_MAX, &p.n);
	return p;
}

TEST(parse_simple)
{
	struct parsed p = parse("gpiochip0 4 5 6\n");

	ASSERT_EQ(0, p.ret);
	EXPECT_STREQ("gpiochip0", p.label);
	ASSERT_EQ(3, p.n);
	EXPECT_EQ(4, p.off[0]);
	EXPECT_EQ(5, p.off[1]);
	EXPECT_EQ(6, p.off[2]);
}

TEST(parse_ranges_and_commas)
{
	struct parsed p = parse("  my-chip 7,0-2, 12\t");

	ASSERT_EQ(0, p.ret);
	EXPECT_STREQ("my-chip", p.label);
	ASSERT_EQ(5, p.n);
	EXPECT_EQ(7, p.off[0]);
	EXPECT_EQ(0, p.off[1]);
	EXPECT_EQ(2, p.off[3]);
	EXPECT_EQ(12, p.off[4]);
}

TEST(parse_errors)
{
	EXPECT_EQ(-EINVAL, parse("").ret);
	EXPECT_EQ(-EINVAL, parse("\n").ret);
	EXPECT_EQ(-EINVAL, parse("chip").ret);
	EXPECT_EQ(-EINVAL, parse("chip \n").ret);
	EXPECT_EQ(-EINVAL, parse("chip x").ret);
	EXPECT_EQ(-EINVAL, parse("chip 1x").ret);
	EXPECT_EQ(-EINVAL, parse("chip -1").ret);
	EXPECT_EQ(-EINVAL, parse("chip 1-").ret);
	EXPECT_EQ(-EINVAL, parse("chip 1--2").ret);
	EXPECT_EQ(-ERANGE, parse("chip 3-1").ret);
	EXPECT_EQ(-ERANGE, parse("chip 4294967296").ret);
	EXPECT_EQ(0, parse("chip 4294967295").ret);
	EXPECT_EQ(-EEXIST, parse("chip 1 2 1").ret);
	EXPECT_EQ(-EEXIST, parse("chip 0-3 2").ret);
	EXPECT_EQ(-E2BIG, parse("chip 0-64").ret);
	EXPECT_EQ(0, parse("chip 0-63").ret);
	EXPECT_EQ(-E2BIG, parse("chip 0-4294967295").ret);
}

TEST(parse_label_too_long)
{
	char s[HRSERVO_LABEL_MAX + 8];

	memset(s, 'a', HRSERVO_LABEL_MAX);
	strcpy(s + HRSERVO_LABEL_MAX, " 1");
	EXPECT_EQ(-ENAMETOOLONG, parse(s).ret);
	s[HRSERVO_LABEL_MAX - 1] = ' ';
	EXPECT_EQ(0, parse(s).ret);
}

TEST(brake_dist)
{
	static const s64 a_ns[] = { 1, 2, 3, 7, 100, 4000, 123457 };
	static const s64 v_ns[] = { 0, 1, -1, 2, 5, -17, 999, 40000, -40000,
				    1000000, -2500000 };

	for (size_t i = 0; i < sizeof(a_ns) / sizeof(a_ns[0]); i++) {
		struct hrservo_div r;

		hrservo_brake_prepare(&r, a_ns[i] << HRSERVO_Q);
		for (size_t k = 0; k < sizeof(v_ns) / sizeof(v_ns[0]); k++) {
			s64 v = v_ns[k], m = v < 0 ? -v : v;
			/* The formula, with plain division. */
			s64 d = m * (m + a_ns[i]) / (2 * a_ns[i]);

			EXPECT_EQ(v < 0 ? -d : d, hrservo_brake_dist(v, &r)) {
				TH_LOG("v %lld a %lld", (long long)v,
				       (long long)a_ns[i]);
			}
		}
	}
	/* Below 1 ns per frame squared: braking at 1 ns. */
	{
		struct hrservo_div r;

		hrservo_brake_prepare(&r, 100);
		EXPECT_EQ(10 * 11 / 2, hrservo_brake_dist(10, &r));
	}
}

/* Where a channel stops: where it is, or a braking distance on; clamped. */
TEST(stop_point)
{
	const struct hrservo_chan_limits lim = { 500000, 2500000 };
	struct hrservo_motion m = { .valid = true };
	struct hrservo_div r;

	hrservo_brake_prepare(&r, q(1000));
	/* At rest, or without an acceleration limit: where it is, rounded. */
	m.pos = q(1500000) + (1 << (HRSERVO_Q - 1));
	m.vel = q(20000);
	EXPECT_EQ(1500001, hrservo_stop_point(&m, false, &r, &lim));
	m.vel = 0;
	EXPECT_EQ(1500001, hrservo_stop_point(&m, true, &r, &lim));
	/* v (v + a) / 2a further on, in the direction it moves. */
	m.pos = q(1500000);
	m.vel = q(20000);
	EXPECT_EQ(1500000 + 20000LL * 21000 / 2000,
		  hrservo_stop_point(&m, true, &r, &lim));
	m.vel = -q(20000);
	EXPECT_EQ(1500000 - 20000LL * 21000 / 2000,
		  hrservo_stop_point(&m, true, &r, &lim));
	/* Never beyond the pulse limits. */
	m.pos = q(2400000);
	m.vel = q(20000);
	EXPECT_EQ(2500000, hrservo_stop_point(&m, true, &r, &lim));
	m.pos = q(600000);
	m.vel = -q(20000);
	EXPECT_EQ(500000, hrservo_stop_point(&m, true, &r, &lim));
}

struct estop_opt {
	int ret;
	char line[128];
	char label[HRSERVO_LABEL_MAX];
	u32 off;
	bool low;
};

static struct estop_opt estop(const char *s)
{
	struct estop_opt o;

	memset(&o, 0, sizeof(o));
	snprintf(o.line, sizeof(o.line), "%s", s);
	o.ret = hrservo_parse_estop(o.line, o.label, sizeof(o.label), &o.off,
				    &o.low);
	return o;
}

TEST(estop_option)
{
	struct estop_opt o = estop("chip 0-3 estop=hrservo-loopback-in:2");

	ASSERT_EQ(1, o.ret);
	EXPECT_STREQ("hrservo-loopback-in", o.label);
	EXPECT_EQ(2, o.off);
	EXPECT_FALSE(o.low);
	/* The option is cut out; what is left parses as lines. */
	EXPECT_STREQ("chip 0-3 ", o.line);
	EXPECT_EQ(0, parse(o.line).ret);

	o = estop("chip 1 estop=a:b:17:low 2\n");
	ASSERT_EQ(1, o.ret);
	EXPECT_STREQ("a:b", o.label);
	EXPECT_EQ(17, o.off);
	EXPECT_TRUE(o.low);
	EXPECT_STREQ("chip 1  2\n", o.line);

	/* Leading blanks: the chip label is still the first word. */
	EXPECT_EQ(-EINVAL, estop("  estop=a:1 chip 1").ret);
	o = estop(" chip estop=a:1 1");
	EXPECT_EQ(1, o.ret);
	EXPECT_STREQ(" chip  1", o.line);

	o = estop("chip 1 2");
	EXPECT_EQ(0, o.ret);
	EXPECT_STREQ("chip 1 2", o.line);
	/* Part of a word is not the option. */
	EXPECT_EQ(0, estop("chip 1 xestop=a:1").ret);
}

TEST(estop_option_errors)
{
	EXPECT_EQ(-EINVAL, estop("estop=a:1 chip 1").ret);
	EXPECT_EQ(-EINVAL, estop("chip 1 estop=").ret);
	EXPECT_EQ(-EINVAL, estop("chip 1 estop=a").ret);
	EXPECT_EQ(-EINVAL, estop("chip 1 estop=:1").ret);
	EXPECT_EQ(-EINVAL, estop("chip 1 estop=a:").ret);
	EXPECT_EQ(-EINVAL, estop("chip 1 estop=a:1x").ret);
	EXPECT_EQ(-EINVAL, estop("chip 1 estop=a:low").ret);
	EXPECT_EQ(-EINVAL, estop("chip 1 estop=a:1 estop=b:2").ret);
	EXPECT_EQ(-ERANGE, estop("chip 1 estop=a:4294967296").ret);
	EXPECT_EQ(1, estop("chip 1 estop=a:4294967295").ret);
}

TEST(estop_option_label_too_long)
{
	char s[HRSERVO_LABEL_MAX + 32];

	strcpy(s, "chip 1 estop=");
	memset(s + 13, 'a', HRSERVO_LABEL_MAX);
	strcpy(s + 13 + HRSERVO_LABEL_MAX, ":1");
	EXPECT_EQ(-ENAMETOOLONG, estop(s).ret);
	strcpy(s + 13 + HRSERVO_LABEL_MAX - 1, ":1");
	EXPECT_EQ(1, estop(s).ret);
}

struct props_opt {
	char line[512];
	struct hrservo_prop p[8];
	unsigned int n;
	int ret;
};

static struct props_opt props(const char *s)
{
	struct props_opt o;

	memset(&o, 0, sizeof(o));
	snprintf(o.line, sizeof(o.line), "%s", s);
	o.ret = hrservo_parse_props(o.line, o.p, ARRAY_SIZE(o.p), &o.n);
	return o;
}

TEST(props_are_cut_out_of_the_line)
{
	struct props_opt o = props("chip 0 1 frame-period-ns=10000000 2 "
				   "channel@1/label=elbow channel@a/max-pulse-ns=2000000\n");
	u32 v = 0;

	ASSERT_EQ(0, o.ret);
	ASSERT_EQ(3, o.n);
	EXPECT_EQ(-1, o.p[0].channel);
	EXPECT_STREQ("frame-period-ns", o.p[0].name);
	EXPECT_STREQ("10000000", o.p[0].value);
	EXPECT_EQ(1, o.p[1].channel);
	EXPECT_STREQ("label", o.p[1].name);
	EXPECT_STREQ("elbow", o.p[1].value);
	/* Unit addresses are hex, as in device tree. */
	EXPECT_EQ(10, o.p[2].channel);
	EXPECT_STREQ("max-pulse-ns", o.p[2].name);
	/* What is left parses as lines. */
	EXPECT_STREQ("chip 0 1  2  \n", o.line);
	EXPECT_EQ(0, parse(o.line).ret);

	EXPECT_EQ(HRSERVO_PROP_U32, hrservo_prop_check(&o.p[0], &v));
	EXPECT_EQ(10000000, v);
	EXPECT_EQ(HRSERVO_PROP_STRING, hrservo_prop_check(&o.p[1], &v));
	EXPECT_EQ(HRSERVO_PROP_U32, hrservo_prop_check(&o.p[2], &v));
	EXPECT_EQ(2000000, v);

	o = props("chip 1 2");
	EXPECT_EQ(0, o.ret);
	EXPECT_EQ(0, o.n);
	EXPECT_STREQ("chip 1 2", o.line);
	/* The first word is the chip label, whatever it holds. */
	o = props("a=b 1");
	EXPECT_EQ(0, o.ret);
	EXPECT_EQ(0, o.n);
	/* Also after leading blanks. */
	o = props("  \ta=b 1 c=d");
	EXPECT_EQ(0, o.ret);
	ASSERT_EQ(1, o.n);
	EXPECT_STREQ("c", o.p[0].name);
	EXPECT_STREQ("  \ta=b 1 ", o.line);
	/* Tabs separate words; the name ends at the first '='. */
	o = props("chip 1\tchannel@0/label=a=b\tx=1\n");
	ASSERT_EQ(0, o.ret);
	ASSERT_EQ(2, o.n);
	EXPECT_STREQ("label", o.p[0].name);
	EXPECT_STREQ("a=b", o.p[0].value);
	EXPECT_STREQ("x", o.p[1].name);
	EXPECT_STREQ("1", o.p[1].value);
	EXPECT_STREQ("chip 1\t\t\n", o.line);
	/* Unit addresses are lowercase hex; leading zeros are fine. */
	o = props("chip 1 channel@01/label=x");
	ASSERT_EQ(0, o.ret);
	EXPECT_EQ(1, o.p[0].channel);
	EXPECT_EQ(-EINVAL, props("chip 1 channel@A/label=x").ret);
}

TEST(props_errors)
{
	char s[HRSERVO_LABEL_MAX + 64];

	EXPECT_EQ(-EINVAL, props("chip 1 =5").ret);
	EXPECT_EQ(-EINVAL, props("chip 1 coalesce-ns=").ret);
	EXPECT_EQ(-EINVAL, props("chip 1 channel@/label=x").ret);
	EXPECT_EQ(-EINVAL, props("chip 1 channel@1label=x").ret);
	EXPECT_EQ(-EINVAL, props("chip 1 channel@1/=x").ret);
	EXPECT_EQ(-EINVAL, props("chip 1 channel@1x/label=x").ret);
	EXPECT_EQ(-ERANGE, props("chip 1 channel@40/label=x").ret);
	EXPECT_EQ(0, props("chip 1 channel@3f/label=x").ret);
	EXPECT_EQ(-E2BIG, props("c 1 a=1 a=2 a=3 a=4 a=5 a=6 a=7 a=8 a=9").ret);
	EXPECT_EQ(0, props("c 1 a=1 a=2 a=3 a=4 a=5 a=6 a=7 a=8").ret);

	/* Values up to HRSERVO_LABEL_MAX - 1 characters. */
	strcpy(s, "chip 1 channel@0/label=");
	memset(s + 23, 'x', HRSERVO_LABEL_MAX);
	s[23 + HRSERVO_LABEL_MAX] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, props(s).ret);
	s[23 + HRSERVO_LABEL_MAX - 1] = '\0';
	EXPECT_EQ(0, props(s).ret);
}

TEST(prop_check_names_and_values)
{
	struct hrservo_prop p = { .channel = -1 };
	u32 v;

	strcpy(p.name, "coalesce-ns");
	strcpy(p.value, "0");
	EXPECT_EQ(HRSERVO_PROP_U32, hrservo_prop_check(&p, &v));
	EXPECT_EQ(0, v);
	strcpy(p.value, "4294967296");
	EXPECT_EQ(-ERANGE, hrservo_prop_check(&p, &v));
	strcpy(p.value, "12us");
	EXPECT_EQ(-EINVAL, hrservo_prop_check(&p, &v));
	strcpy(p.value, "-1");
	EXPECT_EQ(-EINVAL, hrservo_prop_check(&p, &v));
	/* A channel's property is not the controller's, and back. */
	strcpy(p.value, "1");
	strcpy(p.name, "max-pulse-ns");
	EXPECT_EQ(-ENOENT, hrservo_prop_check(&p, &v));
	strcpy(p.name, "label");
	EXPECT_EQ(-ENOENT, hrservo_prop_check(&p, &v));
	p.channel = 0;
	EXPECT_EQ(HRSERVO_PROP_STRING, hrservo_prop_check(&p, &v));
	strcpy(p.name, "frame-period-ns");
	EXPECT_EQ(-ENOENT, hrservo_prop_check(&p, &v));
	strcpy(p.name, "max-speed");
	EXPECT_EQ(-ENOENT, hrservo_prop_check(&p, &v));
	static const char * const ok[] = {
		"min-pulse-ns", "max-pulse-ns", "max-speed-ns-per-s",
		"max-accel-ns-per-s2", "initial-pulse-ns",
	};
	for (unsigned int i = 0; i < ARRAY_SIZE(ok); i++) {
		strcpy(p.name, ok[i]);
		EXPECT_EQ(HRSERVO_PROP_U32, hrservo_prop_check(&p, &v));
	}
}

TEST_HARNESS_MAIN
