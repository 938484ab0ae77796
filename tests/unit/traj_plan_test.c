// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of libhrservo's trajectory planning (lib/traj.c):
 * interpolation, continuity, time scaling and the CSV loader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "hrservo.h"

static struct hrservo_traj *three_points(enum hrservo_interp interp)
{
	unsigned int ch[2] = { 0, 5 };
	struct hrservo_traj *t = hrservo_traj_new(2, ch);
	double p0[2] = { 1000e3, 2000e3 }, p1[2] = { 2000e3, 1500e3 };
	double p2[2] = { 1200e3, 1500e3 };

	if (!t || hrservo_traj_add(t, 0, p0) || hrservo_traj_add(t, 0.5, p1) ||
	    hrservo_traj_add(t, 1.5, p2))
		return NULL;
	hrservo_traj_set_interp(t, interp);
	return t;
}

TEST(waypoints_are_hit)
{
	for (int m = 0; m < 3; m++) {
		struct hrservo_traj *t = three_points(m);
		double pos[2];

		ASSERT_NE(NULL, t);
		EXPECT_EQ(3, hrservo_traj_num_waypoints(t));
		EXPECT_EQ(1.5, hrservo_traj_duration(t));
		ASSERT_EQ(0, hrservo_traj_eval(t, 0.5, pos, NULL, NULL));
		EXPECT_LT(fabs(pos[0] - 2000e3), 1e-6);
		EXPECT_LT(fabs(pos[1] - 1500e3), 1e-6);
		ASSERT_EQ(0, hrservo_traj_eval(t, 1.5, pos, NULL, NULL));
		EXPECT_LT(fabs(pos[0] - 1200e3), 1e-6);
		ASSERT_EQ(0, hrservo_traj_eval(t, 0, pos, NULL, NULL));
		EXPECT_LT(fabs(pos[0] - 1000e3), 1e-6);
		/* Beyond the ends: the end positions. */
		ASSERT_EQ(0, hrservo_traj_eval(t, 9, pos, NULL, NULL));
		EXPECT_LT(fabs(pos[0] - 1200e3), 1e-6);
		hrservo_traj_free(t);
	}
}

TEST(linear_midpoint_and_speed)
{
	struct hrservo_traj *t = three_points(HRSERVO_INTERP_LINEAR);
	double pos[2], vel[2];

	ASSERT_EQ(0, hrservo_traj_eval(t, 0.25, pos, vel, NULL));
	EXPECT_LT(fabs(pos[0] - 1500e3), 1e-6);
	EXPECT_LT(fabs(vel[0] - 2000e3), 1e-3);	/* 1 ms in 0.5 s */
	hrservo_traj_free(t);
}

TEST(min_jerk_rests_at_waypoints)
{
	struct hrservo_traj *t = three_points(HRSERVO_INTERP_MIN_JERK);
	double pos[2], vel[2], acc[2];

	for (int k = 0; k < 3; k++) {
		double s = (double[]){ 0, 0.5, 1.5 }[k];

		ASSERT_EQ(0, hrservo_traj_eval(t, s, pos, vel, acc));
		EXPECT_LT(fabs(vel[0]), 1e-6);
		EXPECT_LT(fabs(acc[0]), 1e-3);
	}
	/* Halfway through the first interval: halfway there. */
	ASSERT_EQ(0, hrservo_traj_eval(t, 0.25, pos, NULL, NULL));
	EXPECT_LT(fabs(pos[0] - 1500e3), 1e-6);
	hrservo_traj_free(t);
}

/* The clamped cubic spline: at rest at the ends, C1 and C2 inside. */
TEST(cubic_is_smooth)
{
	struct hrservo_traj *t = three_points(HRSERVO_INTERP_CUBIC);
	double v0[2], a0[2], v1[2], a1[2];

	ASSERT_EQ(0, hrservo_traj_eval(t, 0, NULL, v0, NULL));
	EXPECT_LT(fabs(v0[0]), 1e-6);
	ASSERT_EQ(0, hrservo_traj_eval(t, 1.5, NULL, v0, NULL));
	EXPECT_LT(fabs(v0[0]), 1e-6);
	ASSERT_EQ(0, hrservo_traj_eval(t, 0.5 - 1e-7, NULL, v0, a0));
	ASSERT_EQ(0, hrservo_traj_eval(t, 0.5 + 1e-7, NULL, v1, a1));
	/* Speeds agree but for 2e-7 s of acceleration. */
	EXPECT_LT(fabs(v0[0] - v1[0]), 10.0);
	EXPECT_LT(fabs(a0[0] - a1[0]), 1e3);
	EXPECT_GT(fabs(v0[0]), 1e3);	/* it moves through the knot */
	hrservo_traj_free(t);
}

TEST(scale_time)
{
	struct hrservo_traj *t = three_points(HRSERVO_INTERP_LINEAR);
	double pos[2], vel[2];

	ASSERT_EQ(0, hrservo_traj_scale_time(t, 2));
	EXPECT_EQ(3.0, hrservo_traj_duration(t));
	ASSERT_EQ(0, hrservo_traj_eval(t, 0.5, pos, vel, NULL));
	EXPECT_LT(fabs(pos[0] - 1500e3), 1e-6);
	EXPECT_LT(fabs(vel[0] - 1000e3), 1e-3);
	EXPECT_EQ(-1, hrservo_traj_scale_time(t, 0));
	hrservo_traj_free(t);
}

TEST(bad_waypoints)
{
	unsigned int ch[2] = { 1, 1 };
	struct hrservo_traj *t;
	double p[1] = { 1500e3 };

	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_new(2, ch));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hrservo_traj_new(0, ch));
	t = hrservo_traj_new(1, ch);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_traj_add(t, 1, p));
	EXPECT_EQ(-1, hrservo_traj_add(t, 1, p));	/* not after */
	EXPECT_EQ(-1, hrservo_traj_add(t, 0.5, p));
	p[0] = NAN;
	EXPECT_EQ(-1, hrservo_traj_add(t, 2, p));
	p[0] = -1;
	EXPECT_EQ(-1, hrservo_traj_add(t, 2, p));
	EXPECT_EQ(-1, hrservo_traj_eval(t, 0, p, NULL, NULL));	/* 1 point */
	hrservo_traj_free(t);
}

static char *csv(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/hrservo-test-%d.csv", getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

TEST(csv_loads)
{
	char err[256];
	struct hrservo_traj *t;
	double pos[2];

	t = hrservo_traj_load_csv(csv("# comment\nt_s,ch0_us,ch3_ns\n"
				      "0,1000,1500000\n0.5,2000,1600000\n"
				      "\n1.0,1500,1500000\n"), err, sizeof(err));
	ASSERT_NE(NULL, t) TH_LOG("%s", err);
	EXPECT_EQ(2, hrservo_traj_num_axes(t));
	EXPECT_EQ(3, hrservo_traj_num_waypoints(t));
	EXPECT_EQ(3, hrservo_traj_channel(t, 1));
	ASSERT_EQ(0, hrservo_traj_eval(t, 0.5, pos, NULL, NULL));
	EXPECT_LT(fabs(pos[0] - 2000e3), 1e-6);
	EXPECT_LT(fabs(pos[1] - 1600e3), 1e-6);
	hrservo_traj_free(t);
	t = hrservo_traj_load_csv(csv("t_ms,ch1_ms\n0,1.5\n250,2\n"), err,
				  sizeof(err));
	ASSERT_NE(NULL, t) TH_LOG("%s", err);
	EXPECT_EQ(0.25, hrservo_traj_duration(t));
	hrservo_traj_free(t);
	unlink(csv(""));
}

struct bad_csv {
	const char *text;
	const char *msg;	/* after "FILE:" */
};

TEST(csv_errors_name_file_and_line)
{
	static const struct bad_csv bad[] = {
		{ "t_s,ch0_us\n0,1000\n0.5\n", "3: missing column: 1 of 2 values" },
		{ "t_s,ch0_us\n0,1000\n0.5,1200\n0.4,1300\n", "4: time 0.4 s is not after 0.5 s" },
		{ "t_s,ch0_us\n0,1000\n0.5,nan\n", "3: 'nan' is not a number" },
		{ "t_s,ch0_us\n0,1000\n0.5,12x\n", "3: '12x' is not a number" },
		{ "t_s,ch0_us\n0,1000\n0.5,1e30\n", "3: a value is out of range" },
		{ "time,ch0_us\n", "1: header must start with t_s or t_ms, not 'time'" },
		{ "t_s,ch0_deg\n", "1: column 'ch0_deg': expected chN_us, chN_ns or chN_ms" },
		{ "t_s,ch0_us,ch0_us\n", "1: a channel is named twice" },
		{ "t_s\n", "1: no channel columns" },
		{ "t_s,ch0_us\n0,1000,5\n", "2: more columns than the header has" },
		{ "t_s,ch0_us\n0,1000\n", "2: needs a header and at least 2 waypoints" },
	};
	char err[256], expect[320];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = csv(bad[i].text);

		errno = 0;
		EXPECT_EQ(NULL, hrservo_traj_load_csv(path, err, sizeof(err)));
		EXPECT_NE(0, errno);
		snprintf(expect, sizeof(expect), "%s:%s", path, bad[i].msg);
		EXPECT_STREQ(expect, err);
	}
	unlink(csv(""));
	EXPECT_EQ(NULL, hrservo_traj_load_csv("/nonexistent.csv", err,
					      sizeof(err)));
	EXPECT_STREQ("/nonexistent.csv: No such file or directory", err);
}

/* An absurd size is refused, not swallowed. */
TEST(csv_absurd_size)
{
	char path[64], err[256];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/hrservo-big-%d.csv", getpid());
	f = fopen(path, "w");
	fputs("t_s,ch0_us\n", f);
	for (int i = 0; i < 100001; i++)
		fprintf(f, "%d,1500\n", i);
	fclose(f);
	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_load_csv(path, err, sizeof(err)));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_NE(NULL, strstr(err, ":100002: more than 100000 waypoints"))
		TH_LOG("%s", err);
	unlink(path);
}

TEST_HARNESS_MAIN
