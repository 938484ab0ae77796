// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of hrservo_calib_apply() (lib/calib.c) through a fake backend
 * that keeps each channel's limits: every joint of the controller gets its
 * derived limits, the joints of other controllers are left alone, and a
 * refusal anywhere leaves every channel as it was (all or nothing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "hrservo.h"
#include "internal.h"

#define NCH	8

/* The fake controller's channels. */
static uint32_t lim_min[NCH], lim_max[NCH], speed[NCH], accel[NCH];
static uint32_t target[NCH];		/* 0: none */
static int fail_motion_ch = -1;		/* set_motion fails with EIO here */
static unsigned int sets;		/* set_limits and set_motion calls */

static void fake_reset(void)
{
	for (int i = 0; i < NCH; i++) {
		lim_min[i] = 500000;
		lim_max[i] = 2500000;
		speed[i] = 111;
		accel[i] = 222;
		target[i] = 0;
	}
	fail_motion_ch = -1;
	sets = 0;
}

static int fake_get_limits(struct hrservo *h, unsigned int ch,
			   uint32_t *min_ns, uint32_t *max_ns)
{
	*min_ns = lim_min[ch];
	*max_ns = lim_max[ch];
	return 0;
}

/* As the kernel: a running target outside the new limits is EBUSY. */
static int fake_set_limits(struct hrservo *h, unsigned int ch,
			   uint32_t min_ns, uint32_t max_ns)
{
	sets++;
	if (target[ch] && (target[ch] < min_ns || target[ch] > max_ns)) {
		errno = EBUSY;
		return -1;
	}
	lim_min[ch] = min_ns;
	lim_max[ch] = max_ns;
	return 0;
}

static int fake_get_motion(struct hrservo *h, unsigned int ch,
			   uint32_t *v, uint32_t *a)
{
	*v = speed[ch];
	*a = accel[ch];
	return 0;
}

static int fake_set_motion(struct hrservo *h, unsigned int ch, uint32_t v,
			   uint32_t a)
{
	sets++;
	if ((int)ch == fail_motion_ch) {
		errno = EIO;
		return -1;
	}
	speed[ch] = v;
	accel[ch] = a;
	return 0;
}

static const struct hrservo_backend fake_backend = {
	.name = "fake",
	.get_limits = fake_get_limits,
	.set_limits = fake_set_limits,
	.get_motion = fake_get_motion,
	.set_motion = fake_set_motion,
};

static struct hrservo fake = {
	.be = &fake_backend, .name = "hrservo0", .backend = "fake",
	.nch = NCH, .pulse_min_ns = 50000, .pulse_max_ns = 50000000,
	.resolution_ns = 1,
};

/* A joint over -90..90 deg = 1000..2000 us, soft limits -45..45 deg. */
static void put_joint(struct hrservo_calib *c, const char *name,
		      const char *ctrl, unsigned int ch)
{
	struct hrservo_joint j = {
		.channel = ch, .unit = HRSERVO_UNIT_DEG, .npoints = 2,
		.pos = { -90, 90 }, .pulse_ns = { 1000000, 2000000 },
		.min = -45, .max = 45, .max_speed = 90, .max_accel = 180,
	};
	char e[256];

	snprintf(j.name, sizeof(j.name), "%s", name);
	snprintf(j.controller, sizeof(j.controller), "%s", ctrl);
	if (hrservo_calib_put(c, &j, e, sizeof(e)))
		fprintf(stderr, "put %s: %s\n", name, e);
}

/* Channel @ch as fake_reset() leaves it. */
static bool untouched(unsigned int ch)
{
	return lim_min[ch] == 500000 && lim_max[ch] == 2500000 &&
	       speed[ch] == 111 && accel[ch] == 222;
}

TEST(applies_every_joint_of_the_controller)
{
	struct hrservo_calib *c = hrservo_calib_new();
	struct hrservo_limits_ns l;
	char e[256] = "";

	fake_reset();
	put_joint(c, "a", "hrservo0", 1);
	put_joint(c, "other", "hrservo1", 2);
	put_joint(c, "b", "/dev/hrservo0", 3);	/* any spelling */
	ASSERT_EQ(3, hrservo_calib_count(c));
	ASSERT_EQ(0, hrservo_joint_kernel_limits(hrservo_calib_find(c, "a"),
						 &l));
	EXPECT_EQ(1250000, l.min_ns);
	EXPECT_EQ(1750000, l.max_ns);

	EXPECT_EQ(2, hrservo_calib_apply(c, &fake, e, sizeof(e)));
	for (unsigned int ch = 1; ch <= 3; ch += 2) {
		EXPECT_EQ(l.min_ns, lim_min[ch]);
		EXPECT_EQ(l.max_ns, lim_max[ch]);
		EXPECT_EQ(l.max_speed_ns_per_s, speed[ch]);
		EXPECT_EQ(l.max_accel_ns_per_s2, accel[ch]);
	}
	EXPECT_EQ(500000, l.max_speed_ns_per_s);	/* 90 deg/s * 1e6/180 */
	EXPECT_TRUE(untouched(2));	/* hrservo1's joint */
	EXPECT_TRUE(untouched(0));
	hrservo_calib_free(c);
}

TEST(no_joint_on_the_controller_is_zero)
{
	struct hrservo_calib *c = hrservo_calib_new();

	fake_reset();
	put_joint(c, "other", "hrservo1", 2);
	EXPECT_EQ(0, hrservo_calib_apply(c, &fake, NULL, 0));
	EXPECT_EQ(0, sets);
	hrservo_calib_free(c);
}

TEST(a_channel_beyond_the_controller_applies_nothing)
{
	struct hrservo_calib *c = hrservo_calib_new();
	char e[256] = "";

	fake_reset();
	put_joint(c, "a", "hrservo0", 1);
	put_joint(c, "wrist", "hrservo0", 9);
	errno = 0;
	EXPECT_EQ(-1, hrservo_calib_apply(c, &fake, e, sizeof(e)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_STREQ("joint wrist: channel 9: hrservo0 has 8 channels", e);
	EXPECT_EQ(0, sets);	/* checked before anything is set */
	EXPECT_TRUE(untouched(1));
	hrservo_calib_free(c);
}

/* The second joint's target lies outside its new limits: EBUSY. */
TEST(refused_limits_put_back_the_ones_set)
{
	struct hrservo_calib *c = hrservo_calib_new();
	char e[256] = "";

	fake_reset();
	put_joint(c, "a", "hrservo0", 1);
	put_joint(c, "b", "hrservo0", 3);
	target[3] = 1900000;
	errno = 0;
	EXPECT_EQ(-1, hrservo_calib_apply(c, &fake, e, sizeof(e)));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_STREQ("joint b: limits 1250us..1750us: its target lies outside; move it inside first",
		     e);
	EXPECT_GT(sets, 2);	/* a was set, then put back */
	EXPECT_TRUE(untouched(1));
	EXPECT_TRUE(untouched(3));
	hrservo_calib_free(c);
}

/* Pulse limits set, motion limits refused: that channel is put back too. */
TEST(refused_motion_limits_put_back_that_channel)
{
	struct hrservo_calib *c = hrservo_calib_new();
	char e[256] = "";

	fake_reset();
	put_joint(c, "a", "hrservo0", 1);
	put_joint(c, "b", "hrservo0", 3);
	fail_motion_ch = 3;
	errno = 0;
	EXPECT_EQ(-1, hrservo_calib_apply(c, &fake, e, sizeof(e)));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(0, strncmp(e, "joint b: limits 1250us..1750us: ", 32))
		TH_LOG("%s", e);
	EXPECT_TRUE(untouched(1));
	EXPECT_EQ(500000, lim_min[3]);
	EXPECT_EQ(2500000, lim_max[3]);
	hrservo_calib_free(c);
}

TEST(no_calibration_or_controller)
{
	struct hrservo_calib *c = hrservo_calib_new();

	errno = 0;
	EXPECT_EQ(-1, hrservo_calib_apply(NULL, &fake, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_calib_apply(c, NULL, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	hrservo_calib_free(c);
}

/*
 * hrservo_set_limits_all(), which servoctl limits uses too: a refused
 * change puts back every one before it; a channel twice sets nothing.
 */
TEST(set_limits_all_or_nothing)
{
	struct hrservo_limit_change c[3] = {
		{ .channel = 0, .min_ns = 1000000, .max_ns = 2000000 },
		{ .channel = 1, .min_ns = 1100000, .max_ns = 1900000,
		  .motion = true, .speed_ns_per_s = 5, .accel_ns_per_s2 = 6 },
		{ .channel = 2, .min_ns = 1200000, .max_ns = 1800000 },
	};
	size_t bad = 99;

	fake_reset();
	target[2] = 1000000;		/* outside channel 2's new limits */
	errno = 0;
	EXPECT_EQ(-1, hrservo_set_limits_all(&fake, c, 3, &bad));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(2, bad);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(500000, lim_min[i]);
		EXPECT_EQ(2500000, lim_max[i]);
	}
	EXPECT_EQ(111, speed[1]);
	EXPECT_EQ(222, accel[1]);

	fake_reset();
	c[2].channel = 0;
	sets = 0;
	EXPECT_EQ(-1, hrservo_set_limits_all(&fake, c, 3, &bad));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(2, bad);
	EXPECT_EQ(0, sets);		/* nothing was set */

	c[2].channel = 2;
	EXPECT_EQ(0, hrservo_set_limits_all(&fake, c, 3, NULL));
	EXPECT_EQ(1100000, lim_min[1]);
	EXPECT_EQ(5, speed[1]);
	EXPECT_EQ(1800000, lim_max[2]);
}

TEST_HARNESS_MAIN
