// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of hrservo_traj_lead_in(): the move from where the axes are to
 * a trajectory's start keeps within each axis's limits, starts exactly where
 * the axes are and ends exactly where the trajectory starts, and is refused
 * for an axis with no position.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

/* A controller of 4 channels whose state and limits the tests set. */
static struct hrservo_chan_snapshot chans[4];
static uint32_t speeds[4], accels[4];

static int fake_read_state(struct hrservo *h, struct hrservo_state *st)
{
	st->n = h->nch;
	memcpy(st->ch, chans, sizeof(chans));
	return 0;
}

static int fake_get_motion(struct hrservo *h, unsigned int ch,
			   uint32_t *speed, uint32_t *accel)
{
	*speed = speeds[ch];
	*accel = accels[ch];
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
	.read_state = fake_read_state,
	.get_motion = fake_get_motion,
	.set_motion = fake_set_motion,
};

static void at(unsigned int ch, uint32_t ns)
{
	chans[ch].target_ns = ns;
	chans[ch].enabled = ns != 0;
}

/* Channels 1 and 3, from 1500/1500 us, starting at 2000 and 1000 us. */
static struct hrservo_traj *plan(void)
{
	unsigned int ch[2] = { 1, 3 };
	struct hrservo_traj *t = hrservo_traj_new(2, ch);
	double p0[2] = { 2000e3, 1000e3 }, p1[2] = { 1800e3, 1200e3 };

	if (t && (hrservo_traj_add(t, 0, p0) || hrservo_traj_add(t, 1, p1))) {
		hrservo_traj_free(t);
		return NULL;
	}
	return t;
}

/* Largest |speed| and |acceleration| of axis @a over the lead-in. */
static void peaks(const struct hrservo_traj *t, unsigned int a, double *v,
		  double *acc)
{
	double dur = hrservo_traj_duration(t);

	*v = *acc = 0;
	for (int i = 0; i <= 10000; i++) {
		double pos[2], vel[2], ac[2];

		hrservo_traj_eval(t, dur * i / 10000, pos, vel, ac);
		*v = fmax(*v, fabs(vel[a]));
		*acc = fmax(*acc, fabs(ac[a]));
	}
}

TEST(lead_in_within_limits)
{
	struct hrservo h = { .be = &fake, .nch = 4 };
	struct hrservo_traj *t = plan(), *lead;
	double time, p[2], v, a;
	unsigned int bad = 99;

	ASSERT_NE(NULL, t);
	memset(chans, 0, sizeof(chans));
	at(1, 1500000);
	at(3, 1500000);
	speeds[1] = 500000;	/* 500 us/s: the 500 us move takes 1.875 s */
	accels[1] = 0;
	speeds[3] = 2000000;
	accels[3] = 100000;	/* 100 us/s^2: sqrt(5.77 * 500 / 100) = 5.4 s */
	lead = hrservo_traj_lead_in(t, &h, 0.1, &bad);
	ASSERT_NE(NULL, lead);
	EXPECT_EQ(99, bad);
	EXPECT_GE(hrservo_traj_duration(lead), 5.37);
	EXPECT_LE(hrservo_traj_duration(lead), 5.45);
	/* From where the axes are to where the plan starts. */
	ASSERT_EQ(0, hrservo_traj_waypoint(lead, 0, &time, p));
	EXPECT_EQ(1500000, p[0]);
	EXPECT_EQ(1500000, p[1]);
	ASSERT_EQ(0, hrservo_traj_waypoint(lead, 1, &time, p));
	EXPECT_EQ(2000000, p[0]);
	EXPECT_EQ(1000000, p[1]);
	peaks(lead, 0, &v, &a);
	EXPECT_LE(v, 500000);
	peaks(lead, 1, &v, &a);
	EXPECT_LE(a, 100000);
	hrservo_traj_free(lead);
	hrservo_traj_free(t);
}

/* Without limits, the lead-in moves at most HRSERVO_LEAD_IN_SPEED_NS. */
TEST(lead_in_default_speed)
{
	struct hrservo h = { .be = &fake, .nch = 4 };
	struct hrservo_traj *t = plan(), *lead;
	double v, a;

	ASSERT_NE(NULL, t);
	memset(chans, 0, sizeof(chans));
	memset(speeds, 0, sizeof(speeds));
	memset(accels, 0, sizeof(accels));
	at(1, 1000000);
	at(3, 1000000);
	lead = hrservo_traj_lead_in(t, &h, 0.1, NULL);
	ASSERT_NE(NULL, lead);
	peaks(lead, 0, &v, &a);
	EXPECT_LE(v, HRSERVO_LEAD_IN_SPEED_NS);
	EXPECT_GE(v, 0.95 * HRSERVO_LEAD_IN_SPEED_NS);
	hrservo_traj_free(lead);
	/* Already there (within 1 us): none needed. */
	at(1, 2000000);
	at(3, 1000000);
	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_lead_in(t, &h, 0.1, NULL));
	EXPECT_EQ(ENODATA, errno);
	hrservo_traj_free(t);
}

/* An axis never set, or released, has no position to lead in from. */
TEST(lead_in_needs_positions)
{
	struct hrservo h = { .be = &fake, .nch = 4 };
	struct hrservo_traj *t = plan();
	unsigned int bad = 99;

	ASSERT_NE(NULL, t);
	memset(chans, 0, sizeof(chans));
	at(1, 1500000);
	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_lead_in(t, &h, 0.1, &bad));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(3, bad);
	/* Released: the target is remembered, but there is no pulse. */
	chans[3].target_ns = 1500000;
	chans[3].enabled = false;
	bad = 99;
	EXPECT_EQ(NULL, hrservo_traj_lead_in(t, &h, 0.1, &bad));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(3, bad);
	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_lead_in(t, &h, -1, NULL));
	EXPECT_EQ(EINVAL, errno);
	hrservo_traj_free(t);
}

TEST_HARNESS_MAIN
