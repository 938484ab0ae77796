// SPDX-License-Identifier: GPL-2.0
/*
 * The library's trajectory check and the kernel's per-frame limiter judge a
 * trajectory the same way: what hrservo_traj_check() passes, the limiter
 * (driver/hrservo-logic.c, the code the kernel runs) plays exactly, at any
 * frame phase; and a trajectory well over a limit is both refused by the
 * check and held back by the limiter. Random trajectories, all three
 * interpolations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hrservo-logic.h"
#include "internal.h"

#define NAXES	3
#define PERIOD	20000000U

static uint32_t speeds[NAXES], accels[NAXES];

static int fake_get_limits(struct hrservo *h, unsigned int ch,
			   uint32_t *min_ns, uint32_t *max_ns)
{
	*min_ns = HRSERVO_PULSE_MIN_NS;
	*max_ns = 3000000;
	return 0;
}

static int fake_get_motion(struct hrservo *h, unsigned int ch,
			   uint32_t *speed, uint32_t *accel)
{
	*speed = speeds[ch];
	*accel = accels[ch];
	return 0;
}

static int fake_get_period(struct hrservo *h, uint32_t *period_ns,
			   uint32_t *min_ns, uint32_t *max_ns)
{
	*period_ns = PERIOD;
	*min_ns = HRSERVO_PERIOD_MIN_NS;
	*max_ns = HRSERVO_PERIOD_MAX_NS;
	return 0;
}

/* Motion limits are a pair (HRSERVO_CAP_MOTION_LIMITS): never set here. */
static int fake_set_motion(struct hrservo *h, unsigned int ch, uint32_t speed,
			   uint32_t accel)
{
	errno = EPERM;
	return -1;
}

static const struct hrservo_backend fake = {
	.name = "fake",
	.get_limits = fake_get_limits,
	.get_period = fake_get_period,
	.get_motion = fake_get_motion,
	.set_motion = fake_set_motion,
};

static double rnd(double lo, double hi)
{
	return lo + (hi - lo) * (double)random() / RAND_MAX;
}

/* Random waypoints between 1 and 2 ms, 0.2..1 s apart, at rest at the ends. */
static int interp;

static struct hrservo_traj *random_traj(void)
{
	unsigned int ch[NAXES] = { 0, 1, 2 };
	struct hrservo_traj *t = hrservo_traj_new(NAXES, ch);
	int n = 2 + (int)(random() % 6);
	double time = 0;

	for (int k = 0; t && k < n; k++) {
		double p[NAXES];

		for (int a = 0; a < NAXES; a++)
			p[a] = round(rnd(1000e3, 2000e3));
		if (hrservo_traj_add(t, time, p)) {
			hrservo_traj_free(t);
			return NULL;
		}
		time += round(rnd(0.2, 1.0) * 1000) / 1000;
	}
	interp = (int)(random() % 3);
	if (t)
		hrservo_traj_set_interp(t, (enum hrservo_interp)interp);
	return t;
}

/* Peak |speed| and |acceleration| of each axis, sampled finely. */
static void peaks(const struct hrservo_traj *t, double *v, double *a)
{
	double dur = hrservo_traj_duration(t);

	for (int i = 0; i < NAXES; i++)
		v[i] = a[i] = 0;
	for (int k = 0; k <= 20000; k++) {
		double pos[NAXES], vel[NAXES], acc[NAXES];

		hrservo_traj_eval(t, dur * k / 20000, pos, vel, acc);
		for (int i = 0; i < NAXES; i++) {
			v[i] = fmax(v[i], fabs(vel[i]));
			a[i] = fmax(a[i], fabs(acc[i]));
		}
	}
}

/*
 * Play @t through the kernel's limiter, frames @phase_ns after its start:
 * returns the frames in which an axis was held, *@dev the largest distance
 * (ns) from the plan.
 */
static int play(const struct hrservo_traj *t, uint64_t phase_ns, double *dev)
{
	struct hrservo_motion m[NAXES];
	double dur = hrservo_traj_duration(t);
	s64 vmax[NAXES], amax[NAXES];
	int held = 0;

	memset(m, 0, sizeof(m));
	for (int a = 0; a < NAXES; a++) {
		vmax[a] = hrservo_rate_per_frame(speeds[a], PERIOD, 1);
		amax[a] = hrservo_rate_per_frame(accels[a], PERIOD, 2);
	}
	*dev = 0;
	/* From rest at the start, to rest past the end. */
	for (uint64_t f = 0;; f++) {
		double s = f ? ((double)(f - 1) * PERIOD + phase_ns) / 1e9 : 0;
		double pos[NAXES];

		if (s > dur + 0.2)
			break;
		hrservo_traj_eval(t, s, pos, NULL, NULL);
		for (int a = 0; a < NAXES; a++) {
			s64 want = (s64)llround(pos[a]) << HRSERVO_Q;

			if (hrservo_motion_step(&m[a], want, vmax[a], amax[a],
						true))
				held++;
			*dev = fmax(*dev, fabs((double)(m[a].pos - want)) /
					  65536.0);
		}
	}
	return held;
}

TEST(check_pass_means_played_exactly)
{
	struct hrservo h = { .be = &fake, .nch = NAXES };
	int checked = 0;

	srandom(11);
	for (int i = 0; i < 200; i++) {
		struct hrservo_traj *t = random_traj();
		struct hrservo_violation v;
		double pv[NAXES], pa[NAXES], dev;
		int held;

		ASSERT_NE(NULL, t);
		peaks(t, pv, pa);
		/* Limits at 100..130% of what the trajectory needs. */
		for (int a = 0; a < NAXES; a++) {
			speeds[a] = (uint32_t)ceil(pv[a] * rnd(1.0, 1.3)) + 1;
			accels[a] = (uint32_t)ceil(pa[a] * rnd(1.0, 1.3)) + 1;
		}
		if (hrservo_traj_check(t, &h, &v)) {
			/*
			 * Sampling may pass by a peak the check finds; linear
			 * moves start and turn with steps of speed that an
			 * acceleration limit refuses.
			 */
			hrservo_traj_free(t);
			continue;
		}
		checked++;
		held = play(t, (uint64_t)rnd(0, PERIOD), &dev);
		EXPECT_EQ(0, held) {
			TH_LOG("trajectory %d (interpolation %d): held %d times, %.1f ns off",
			       i, interp, held, dev);
		}
		EXPECT_LE(dev, 0.5);
		hrservo_traj_free(t);
	}
	/* The minimum-jerk and cubic ones (two thirds) pass. */
	EXPECT_GE(checked, 110);
}

TEST(over_limit_refused_and_held)
{
	struct hrservo h = { .be = &fake, .nch = NAXES };

	srandom(12);
	for (int i = 0; i < 200; i++) {
		struct hrservo_traj *t = random_traj();
		struct hrservo_violation v;
		double pv[NAXES], pa[NAXES], dev;

		ASSERT_NE(NULL, t);
		peaks(t, pv, pa);
		for (int a = 0; a < NAXES; a++) {
			speeds[a] = (uint32_t)ceil(pv[a] * 2);
			accels[a] = (uint32_t)ceil(pa[a] * 2);
		}
		/* Axis 1 gets half the speed it needs. */
		speeds[1] = (uint32_t)(pv[1] * 0.5);
		errno = 0;
		EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
		EXPECT_EQ(ERANGE, errno);
		EXPECT_EQ(1, v.channel);
		EXPECT_EQ(HRSERVO_LIMIT_SPEED, v.kind);
		EXPECT_LT(0, play(t, (uint64_t)rnd(0, PERIOD), &dev));
		hrservo_traj_free(t);
	}
}

TEST_HARNESS_MAIN
