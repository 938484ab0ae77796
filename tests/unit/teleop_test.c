// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of libhrservo's teleoperation (lib/teleop.c): the stick
 * shaping (deadzone, expo, scale, invert, axis normalisation, rate limit)
 * against values computed here from the formulas; the mapping file, one
 * test per class of error, each with its exact FILE:LINE message; the
 * example map against the example calibration; and the engine: rate and
 * position modes, the deadman (nothing moves without it, releasing holds,
 * pressing again does not jump), turbo, pose and step buttons, soft
 * limits, the e-stop button and a lost gamepad.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/input-event-codes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tmpdir.h"
#include "hrservo.h"

/* ---- helpers ---- */

/*
 * The test robot: base without a speed limit (an axis gives it one),
 * elbow with soft limits inside its map, wrist and grip (in %) with speed
 * limits.
 */
static const char robot[] =
	"[controller arm]\ndevice = hrservo0\n"
	"[joint base]\ncontroller = arm\nchannel = 0\nmap = -90:1000us 90:2000us\n"
	"[joint elbow]\ncontroller = arm\nchannel = 1\nmap = -90:1000us 90:2000us\n"
	"min = -45\nmax = 80\nmax_speed = 60\n"
	"[joint wrist]\ncontroller = arm\nchannel = 2\nmap = -90:1000us 90:2000us\n"
	"max_speed = 30\n"
	"[joint grip]\ncontroller = arm\nchannel = 3\nunit = %\n"
	"map = 0:1000us 100:2000us\nmax_speed = 100\n";

static struct hrservo_calib *robot_calib(void)
{
	char err[512];
	struct hrservo_calib *c;

	c = hrservo_calib_load(write_tmp("robot.conf", robot), err, sizeof(err));
	if (!c)
		fprintf(stderr, "robot.conf: %s\n", err);
	return c;
}

/*
 * Load @text as a map against the test robot: the map, or NULL with the
 * error, without the "DIR/bad.map:" prefix, in @err.
 */
static struct hrservo_teleop_map *load(const char *text, char *err,
				       size_t size)
{
	struct hrservo_calib *c = robot_calib();
	struct hrservo_teleop_map *m;
	const char *p;
	char full[512];
	size_t n;

	if (!c) {
		snprintf(err, size, "no calibration");
		return NULL;
	}
	p = write_tmp("bad.map", text);
	m = hrservo_teleop_map_load(p, c, full, sizeof(full));
	hrservo_calib_free(c);
	n = strlen(p);
	if (!m)
		snprintf(err, size, "%s", !strncmp(full, p, n) && full[n] == ':' ?
			 full + n + 1 : full);
	return m;
}

struct bad {
	const char *text;
	const char *error;	/* after "FILE:" */
};

/* Each map must fail with its message, and with errno EINVAL. */
#define EXPECT_BAD(cases) do {						\
	char err_[512];							\
									\
	make_dir();							\
	for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++) { \
		struct hrservo_teleop_map *m_;				\
									\
		m_ = load(cases[i_].text, err_, sizeof(err_));		\
		EXPECT_EQ(NULL, m_) TH_LOG("case %zu loaded", i_);	\
		if (!m_)						\
			EXPECT_EQ(EINVAL, errno) TH_LOG("case %zu", i_); \
		hrservo_teleop_map_free(m_);				\
		EXPECT_STREQ(cases[i_].error, err_) TH_LOG("case %zu", i_); \
	}								\
	remove_dir();							\
} while (0)

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1, fabs(b));
}

/* ---- shaping ---- */

/* The shaping, computed here from its definition. */
static double shaped(double d, double e, double scale, bool invert, double x)
{
	double a = fabs(x) > 1 ? 1 : fabs(x);
	double r, y;

	if (a <= d)
		return 0;
	r = (a - d) / (1 - d);
	y = scale * ((1 - e) * r + e * pow(r, 3));
	if (x < 0)
		y = -y;
	return invert ? -y : y;
}

TEST(shape_deadzone_expo_scale)
{
	static const double dz[] = { 0, 0.05, 0.1, 0.5, 0.95 };
	static const double ex[] = { 0, 0.3, 1 };
	static const double sc[] = { 1, 45, 0.25 };

	for (size_t i = 0; i < 5; i++)
		for (size_t k = 0; k < 3; k++)
			for (size_t l = 0; l < 3; l++)
				for (int inv = 0; inv < 2; inv++)
					for (double x = -1.25; x <= 1.25; x += 0.03125) {
						struct hrservo_shape s = {
							dz[i], ex[k], sc[l], inv,
						};
						double want = shaped(dz[i], ex[k], sc[l], inv, x);
						double got = hrservo_shape(&s, x);

						ASSERT_TRUE(near(got, want)) {
							TH_LOG("d %g e %g s %g inv %d x %g: %.17g, want %.17g",
							       dz[i], ex[k], sc[l], inv, x, got, want);
						}
					}
}

TEST(shape_hand_values)
{
	struct hrservo_shape s = { .deadzone = 0.1, .expo = 0.3, .scale = 45 };

	/* half deflection: r = 0.4 / 0.9, y = 45 (0.7 r + 0.3 r^3) */
	EXPECT_TRUE(near(hrservo_shape(&s, 0.5),
			 45 * (0.7 * (4.0 / 9) + 0.3 * (64.0 / 729))));
	EXPECT_EQ(0, hrservo_shape(&s, 0.1));
	EXPECT_EQ(0, hrservo_shape(&s, -0.05));
	EXPECT_TRUE(near(hrservo_shape(&s, 1), 45));
	EXPECT_TRUE(near(hrservo_shape(&s, -1), -45));
	EXPECT_TRUE(near(hrservo_shape(&s, 7), 45));	/* clamped */
	s.invert = true;
	EXPECT_TRUE(near(hrservo_shape(&s, 1), -45));
}

TEST(shape_has_no_step_at_the_deadzone_edge)
{
	struct hrservo_shape s = { .deadzone = 0.2, .expo = 0, .scale = 100 };
	double just = hrservo_shape(&s, 0.2 + 1e-9);

	EXPECT_EQ(0, hrservo_shape(&s, 0.2));
	EXPECT_GT(just, 0);
	/* slope scale / (1 - d) = 125 per unit of deflection */
	EXPECT_LT(just, 1e-6);
	EXPECT_TRUE(near(hrservo_shape(&s, 0.6), 100 * 0.4 / 0.8));
}

TEST(shape_refuses_nan_and_bad_parameters)
{
	struct hrservo_shape ok = { .deadzone = 0.1, .expo = 0.5, .scale = 2 };
	struct hrservo_shape bad[] = {
		{ .deadzone = 1, .scale = 1 }, { .deadzone = -0.1, .scale = 1 },
		{ .expo = 1.5, .scale = 1 }, { .expo = -1, .scale = 1 },
		{ .scale = 0 }, { .scale = -1 }, { .scale = NAN },
		{ .scale = INFINITY }, { .deadzone = NAN, .scale = 1 },
		{ .expo = NAN, .scale = 1 },
	};

	EXPECT_EQ(0, hrservo_shape(&ok, NAN));
	EXPECT_EQ(0, hrservo_shape(NULL, 1));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(0, hrservo_shape(&bad[i], 1)) TH_LOG("case %zu", i);
	}
	EXPECT_TRUE(near(hrservo_shape(&ok, -INFINITY), -2));
}

TEST(axis_normalisation)
{
	/* A stick of -32768..32767: half = 32767.5, centre -0.5. */
	EXPECT_EQ(-1, hrservo_axis_norm(-32768, -32768, 32767));
	EXPECT_EQ(1, hrservo_axis_norm(32767, -32768, 32767));
	EXPECT_TRUE(near(hrservo_axis_norm(0, -32768, 32767), 0.5 / 32767.5));
	EXPECT_TRUE(near(hrservo_axis_norm(16384, -32768, 32767),
			 16384.5 / 32767.5));
	EXPECT_EQ(0, hrservo_axis_norm(128, 0, 256));
	EXPECT_EQ(0.5, hrservo_axis_norm(192, 0, 256));
	EXPECT_EQ(-1, hrservo_axis_norm(-5, 0, 256));	/* clamped */
	EXPECT_EQ(1, hrservo_axis_norm(INT_MAX, INT_MIN, 0));
	EXPECT_EQ(-1, hrservo_axis_norm(INT_MIN, INT_MIN, INT_MAX));
	EXPECT_EQ(1, hrservo_axis_norm(1, -1, 1));	/* a hat */
	EXPECT_EQ(0, hrservo_axis_norm(5, 3, 3));
	EXPECT_EQ(0, hrservo_axis_norm(5, 4, 3));
	/* triggers: 0 at rest (min), 1 pulled */
	EXPECT_EQ(0, hrservo_axis_norm_trigger(0, 0, 255));
	EXPECT_EQ(1, hrservo_axis_norm_trigger(255, 0, 255));
	EXPECT_TRUE(near(hrservo_axis_norm_trigger(51, 0, 255), 0.2));
	EXPECT_TRUE(near(hrservo_axis_norm_trigger(-512, -1024, 1023),
			 512.0 / 2047));
	EXPECT_EQ(0, hrservo_axis_norm_trigger(-9, 0, 255));
	EXPECT_EQ(1, hrservo_axis_norm_trigger(300, 0, 255));
	EXPECT_EQ(0, hrservo_axis_norm_trigger(9, 9, 9));
}

TEST(rate_limit)
{
	static const struct {
		double cur, want, rate, dt;
	} c[] = {
		{ 0, 10, 90, 0.02 }, { 0, -10, 90, 0.02 }, { 5, 5.5, 90, 0.02 },
		{ 5, 3.2, 90, 0.02 }, { -30, 60, 45, 1.5 }, { 1, 1, 10, 1 },
		{ 0, 1e6, 1e5, 1e-3 }, { 100, -100, 0.5, 0.25 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		double lim = c[i].rate * c[i].dt, d = c[i].want - c[i].cur;
		double want = fabs(d) <= lim ? c[i].want :
			      c[i].cur + (d > 0 ? lim : -lim);

		EXPECT_TRUE(near(hrservo_rate_limit(c[i].cur, c[i].want,
						    c[i].rate, c[i].dt), want)) {
			TH_LOG("case %zu: %.17g, want %.17g", i,
			       hrservo_rate_limit(c[i].cur, c[i].want,
						  c[i].rate, c[i].dt), want);
		}
	}
	EXPECT_EQ(3.5, hrservo_rate_limit(3.5, 3.5, 10, 0.1));
	/* no limit */
	EXPECT_EQ(77, hrservo_rate_limit(0, 77, 0, 0.01));
	EXPECT_EQ(77, hrservo_rate_limit(0, 77, -1, 0.01));
	/* a limit but no time: no motion */
	EXPECT_EQ(2, hrservo_rate_limit(2, 77, 10, 0));
	EXPECT_EQ(2, hrservo_rate_limit(2, 77, 10, -1));
	/* NaN */
	EXPECT_EQ(2, hrservo_rate_limit(2, NAN, 10, 0.1));
	EXPECT_EQ(2, hrservo_rate_limit(2, 77, NAN, 0.1));
	EXPECT_EQ(2, hrservo_rate_limit(2, 77, 10, NAN));
	EXPECT_EQ(77, hrservo_rate_limit(NAN, 77, 10, 0.1));
	EXPECT_EQ(77, hrservo_rate_limit(NAN, 77, 10, 0));
}

/* ---- the mapping file: one test per class of error ---- */

TEST(map_unknown_section)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[stick ABS_X]\njoint = base\n",
		  "3: unknown section [stick ABS_X]: expected [teleop], [axis EVENT], [button EVENT] or [pose NAME]" },
		{ "[teleop]\ndeadman = BTN_TL\n[posture]\n",
		  "3: unknown section [posture]: expected [teleop], [axis EVENT], [button EVENT] or [pose NAME]" },
		{ "deadman = BTN_TL\n[teleop]\n",
		  "1: key 'deadman' before any [section]" },
	};

	EXPECT_BAD(bad);
}

TEST(map_unknown_key)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\ndeadzon = 0.1\n",
		  "6: unknown key 'deadzon' in [axis ABS_X]; did you mean 'deadzone'?" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\nrate = 10\n",
		  "6: unknown key 'rate' in [axis ABS_X]: the mode is 'mode = rate'; the rate limit is 'max_rate'" },
		{ "[teleop]\ndeadman = BTN_TL\nenable = BTN_TR\n",
		  "3: unknown key 'enable' in [teleop]; did you mean 'deadman'?" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose home]\nelbw = 10\n",
		  "4: unknown key 'elbw' in [pose home]: the calibration has no joint 'elbw'; did you mean 'elbow'?" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_SOUTH]\npose = home\n",
		  "4: unknown key 'pose' in [button BTN_SOUTH]: a button's 'action = pose NAME', 'step JOINT DELTA', 'estop' or 'turbo'" },
		{ "[teleop]\ndeadman BTN_TL\n",
		  "2: 'deadman BTN_TL': no '=' after 'deadman'" },
		{ "[teleop]\ndeadman = BTN_TL\n  turbo = BTN_TR\n",
		  "3: 'turbo = BTN_TR': an indented line continues the 'deadman' above (no key takes more lines): unindent it" },
	};

	EXPECT_BAD(bad);
}

TEST(map_unknown_event_name)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_SOTH\n",
		  "2: unknown button 'BTN_SOTH': an evdev EV_KEY name such as BTN_SOUTH; did you mean 'BTN_SOUTH'?" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_XX]\njoint = base\nscale = 1\n",
		  "3: unknown axis 'ABS_XX': an evdev EV_ABS name such as ABS_X; did you mean 'ABS_X'?" },
		{ "[teleop]\ndeadman = BTN_TL\n[button trigger]\naction = estop\n",
		  "3: unknown button 'trigger': an evdev EV_KEY name such as BTN_SOUTH" },
		/* axes are EV_ABS, buttons EV_KEY */
		{ "[teleop]\ndeadman = BTN_TL\n[axis BTN_SOUTH]\njoint = base\nscale = 1\n",
		  "3: 'BTN_SOUTH' is a button (EV_KEY), not an axis: map it in [button BTN_SOUTH]" },
		{ "[teleop]\ndeadman = ABS_Z\n",
		  "2: 'ABS_Z' is an axis (EV_ABS), not a button: map it in [axis ABS_Z]" },
	};

	EXPECT_BAD(bad);
}

TEST(map_key_given_twice)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\nscale = 2\n",
		  "6: key 'scale' given twice in [axis ABS_X]" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose p]\nelbow = 1\nelbow = 2\n",
		  "5: key 'elbow' given twice in [pose p]" },
		{ "[teleop]\ndeadman = BTN_TL\n[teleop]\nturbo = BTN_TR\n",
		  "3: [teleop] given twice (first at line 1)" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\n"
		  "[axis ABS_X]\njoint = elbow\nscale = 1\n",
		  "6: axis ABS_X mapped twice (first at line 3)" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose p]\nelbow = 1\n[pose p]\nelbow = 2\n",
		  "5: pose p defined twice (first at line 3)" },
	};

	EXPECT_BAD(bad);
}

TEST(map_deadzone_range)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\ndeadzone = 1\n",
		  "6: deadzone: '1' must be at least 0 and below 1" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\ndeadzone = -0.1\n",
		  "6: deadzone: '-0.1' must be at least 0 and below 1" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\ndeadzone = 10%\n",
		  "6: deadzone: '10%' is not a number" },
	};

	EXPECT_BAD(bad);
}

TEST(map_expo_range)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\nexpo = 1.01\n",
		  "6: expo: '1.01' must be at least 0 and at most 1" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\nexpo = -1e-9\n",
		  "6: expo: '-1e-9' must be at least 0 and at most 1" },
	};

	EXPECT_BAD(bad);
}

TEST(map_scale_and_rates_positive)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 0\n",
		  "5: scale: '0' must be above 0" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = -45deg\n",
		  "5: scale: '-45deg' must be above 0" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nmode = position\n"
		  "from = 0\nto = 10\nmax_rate = 10\nscale = 0\n",
		  "9: scale: '0' must be above 0" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\nmax_rate = -5\n",
		  "6: max_rate: '-5' must be 0 (none) or above" },
		{ "[teleop]\ndeadman = BTN_TL\nturbo_scale = 0\n",
		  "3: turbo_scale: '0' must be above 0" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\n",
		  "3: axis ABS_X: rate mode needs 'scale', the rate at full deflection (deg/s)" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = grip\nscale = 5deg\n",
		  "5: scale: unit mismatch: '5deg' in a joint measured in %" },
	};

	EXPECT_BAD(bad);
}

TEST(map_nan_and_inf_refused)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = nan\n",
		  "5: scale: 'nan' is not a speed" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\nexpo = inf\n",
		  "6: expo: 'inf' is not a number" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1e999\n",
		  "5: scale: '1e999' is not a speed" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose p]\nelbow = -inf\n",
		  "4: elbow: '-inf' is not a position" },
		{ "[teleop]\ndeadman = BTN_TL\nturbo_scale = 0x2\n",
		  "3: turbo_scale: '0x2' is not a number" },
	};

	EXPECT_BAD(bad);
}

TEST(map_from_to_within_soft_limits)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_Y]\njoint = elbow\nmode = position\n"
		  "from = -50\nto = 45\n",
		  "6: from: '-50' is outside the soft limits of joint elbow, -45deg..80deg" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_Y]\njoint = elbow\nmode = position\n"
		  "from = 0\nto = 80.5deg\n",
		  "7: to: '80.5deg' is outside the soft limits of joint elbow, -45deg..80deg" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_Y]\njoint = elbow\nmode = position\n"
		  "from = 10\nto = 10\n",
		  "7: to: '10' is where 'from' is: the stick would move nothing" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_Y]\njoint = elbow\nmode = position\nfrom = 10\n",
		  "3: axis ABS_Y: position mode needs 'from' and 'to', the positions at both ends" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_Y]\njoint = elbow\nscale = 1\nfrom = 10\n",
		  "6: from: only position mode has 'from' and 'to' (mode = position)" },
	};

	EXPECT_BAD(bad);
}

TEST(map_pose_within_soft_limits)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[pose home]\nelbow = 0\nwrist = 91\n",
		  "5: wrist: '91' is outside the soft limits of joint wrist, -90deg..90deg" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose home]\ngrip = 101%\n",
		  "4: grip: '101%' is outside the soft limits of joint grip, 0%..100%" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose home]\ngrip = 1rad\n",
		  "4: grip: unit mismatch: '1rad' in a joint measured in %" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose home]\n; nothing yet\n",
		  "3: pose home: no joint position (JOINT = POSITION)" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose 9lives]\nelbow = 1\n",
		  "3: pose name '9lives': letters, digits and _ only, at most 31 characters" },
	};

	EXPECT_BAD(bad);
}

TEST(map_joint_mapped_by_two_axes)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\n"
		  "[axis ABS_RX]\njoint = base\nscale = 2\n",
		  "7: joint: base is already mapped by the axis at line 3" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = bse\nscale = 1\n",
		  "4: joint: the calibration has no joint 'bse'; did you mean 'base'?" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\nscale = 1\n",
		  "3: axis ABS_X: no joint" },
	};

	EXPECT_BAD(bad);
}

TEST(map_button_used_twice)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\nturbo = BTN_TL\n",
		  "3: button BTN_TL is used twice: it is the deadman at line 2" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_TL]\naction = estop\n",
		  "3: button BTN_TL is used twice: it is the deadman at line 2" },
		/* BTN_A is BTN_SOUTH */
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_SOUTH]\naction = turbo\n"
		  "[button BTN_A]\naction = estop\n",
		  "5: button BTN_A is used twice: it is turbo at line 3" },
	};

	EXPECT_BAD(bad);
}

TEST(map_unknown_pose_and_bad_actions)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_SOUTH]\naction = pose hom\n"
		  "[pose home]\nelbow = 0\n",
		  "4: action: unknown pose 'hom'; did you mean 'home'?" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_SOUTH]\naction = pose away\n",
		  "4: action: unknown pose 'away'" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_SOUTH]\naction = jump\n",
		  "4: action: 'jump' is not 'pose NAME', 'step JOINT DELTA', 'estop' or 'turbo'" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_SOUTH]\naction = pose\n",
		  "4: action: 'pose' is not 'pose NAME', 'step JOINT DELTA', 'estop' or 'turbo'" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_SOUTH]\naction = estop now\n",
		  "4: action: 'estop now' is not 'pose NAME', 'step JOINT DELTA', 'estop' or 'turbo'" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_SOUTH]\n",
		  "3: button BTN_SOUTH: no action (pose NAME, step JOINT DELTA, estop or turbo)" },
	};

	EXPECT_BAD(bad);
}

TEST(map_missing_deadman)
{
	static const struct bad bad[] = {
		{ "[teleop]\nturbo = BTN_TR\n",
		  "1: no deadman: [teleop] needs 'deadman = BUTTON', the button held to move, or 'deadman = none' to move without one" },
		{ "# a map\n[axis ABS_X]\njoint = base\nscale = 1\n[teleop]\nestop = BTN_MODE\n",
		  "5: no deadman: [teleop] needs 'deadman = BUTTON', the button held to move, or 'deadman = none' to move without one" },
		{ "[axis ABS_X]\njoint = base\nscale = 1\n",
		  "1: no deadman: [teleop] needs 'deadman = BUTTON', the button held to move, or 'deadman = none' to move without one" },
	};
	char err[512];
	struct hrservo_teleop_map *m;

	EXPECT_BAD(bad);
	make_dir();
	m = load("[teleop]\ndeadman = none\n[axis ABS_X]\njoint = base\nscale = 1\n",
		 err, sizeof(err));
	EXPECT_NE(NULL, m) TH_LOG("%s", err);
	hrservo_teleop_map_free(m);
	remove_dir();
}

TEST(map_step_delta)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_NORTH]\naction = step wrist 0\n",
		  "4: action: step wrist by '0' moves nothing" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_NORTH]\naction = step elbow -126\n",
		  "4: action: step elbow by '-126' is more than its soft range, 125deg (-45deg..80deg)" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_NORTH]\naction = step wrist five\n",
		  "4: action: 'five' is not a step delta" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_NORTH]\naction = step grip 5deg\n",
		  "4: action: unit mismatch: '5deg' in a joint measured in %" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_NORTH]\naction = step wirst 5\n",
		  "4: action: the calibration has no joint 'wirst'; did you mean 'wrist'?" },
	};

	EXPECT_BAD(bad);
}

TEST(map_mode)
{
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nmode = velocity\nscale = 1\n",
		  "5: mode: 'velocity' is not rate or position" },
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nscale = 1\ntrigger = maybe\n",
		  "6: trigger: 'maybe' is not yes or no" },
	};

	EXPECT_BAD(bad);
}

TEST(map_targets_need_a_rate_limit)
{
	/* base has no max_speed in the calibration */
	static const struct bad bad[] = {
		{ "[teleop]\ndeadman = BTN_TL\n[axis ABS_X]\njoint = base\nmode = position\n"
		  "from = -10\nto = 10\n",
		  "3: joint base: position mode needs a rate limit to get there: 'max_rate' in the joint's [axis], or max_speed in the calibration" },
		{ "[teleop]\ndeadman = BTN_TL\n[pose p]\nelbow = 0\nbase = 0\n",
		  "5: joint base: a pose needs a rate limit to get there: 'max_rate' in the joint's [axis], or max_speed in the calibration" },
		{ "[teleop]\ndeadman = BTN_TL\n[button BTN_NORTH]\naction = step base 5\n",
		  "4: joint base: a step needs a rate limit to get there: 'max_rate' in the joint's [axis], or max_speed in the calibration" },
	};
	char err[512];
	struct hrservo_teleop_map *m;

	EXPECT_BAD(bad);
	/* a max_rate anywhere in the file gives it one */
	make_dir();
	m = load("[teleop]\ndeadman = BTN_TL\n[pose p]\nbase = 0\n"
		 "[button BTN_NORTH]\naction = step base 5\n"
		 "[axis ABS_X]\njoint = base\nscale = 10\nmax_rate = 20\n",
		 err, sizeof(err));
	EXPECT_NE(NULL, m) TH_LOG("%s", err);
	hrservo_teleop_map_free(m);
	remove_dir();
}

TEST(map_file_errors)
{
	char err[256];
	struct hrservo_calib *c;

	make_dir();
	c = robot_calib();
	ASSERT_NE(NULL, c);
	EXPECT_EQ(NULL, hrservo_teleop_map_load("/nonexistent/x.map", c, err,
						sizeof(err)));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_STREQ("/nonexistent/x.map: No such file or directory", err);
	EXPECT_EQ(NULL, hrservo_teleop_map_load(NULL, c, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hrservo_teleop_map_load("x.map", NULL, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	hrservo_calib_free(c);
	remove_dir();
}

/* The example map, against the example calibration, as shipped. */
TEST(example_map_loads)
{
	static const char me[] = __FILE__;
	char top[256], cpath[320], mpath[320], err[512];
	size_t n = strlen(me) - strlen("tests/unit/teleop_test.c");
	struct hrservo_teleop_map *m;
	struct hrservo_teleop *t;
	struct hrservo_calib *c;

	snprintf(top, sizeof(top), "%.*s", (int)n, me);
	snprintf(cpath, sizeof(cpath), "%sexamples/teleop/arm.conf", top);
	snprintf(mpath, sizeof(mpath), "%sexamples/teleop/gamepad.map", top);
	c = hrservo_calib_load(cpath, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	m = hrservo_teleop_map_load(mpath, c, err, sizeof(err));
	ASSERT_NE(NULL, m) TH_LOG("%s", err);
	t = hrservo_teleop_new(m, c);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(6, hrservo_teleop_num_joints(t));
	EXPECT_STREQ("mixed", hrservo_teleop_mode(t));
	for (size_t i = 0; i < hrservo_teleop_num_joints(t); i++)
		EXPECT_EQ(i, hrservo_teleop_joint(t, i));	/* calib order */
	EXPECT_FALSE(hrservo_teleop_deadman(t));
	hrservo_teleop_free(t);
	hrservo_teleop_map_free(m);
	hrservo_calib_free(c);
}

/* ---- the engine ---- */

#define MS	1000000ull
#define DT	(20 * MS)

struct rig {
	struct hrservo_calib *c;
	struct hrservo_teleop_map *m;
	struct hrservo_teleop *t;
	uint64_t now;
};

/*
 * An engine for @text against the test robot, every axis -100..100 (a
 * trigger 0..100), every joint seeded at 0 (grip at 50).
 */
static int rig_up(struct rig *r, const char *text)
{
	char err[512];

	memset(r, 0, sizeof(*r));
	make_dir();
	r->c = robot_calib();
	r->m = r->c ? hrservo_teleop_map_load(write_tmp("t.map", text), r->c,
					      err, sizeof(err)) : NULL;
	remove_dir();
	if (!r->m) {
		fprintf(stderr, "map: %s\n", r->c ? err : "no calibration");
		return -1;
	}
	r->t = hrservo_teleop_new(r->m, r->c);
	if (!r->t)
		return -1;
	for (unsigned int code = 0; code <= ABS_MAX; code++)
		hrservo_teleop_set_absinfo(r->t, code, -100, 100);
	hrservo_teleop_set_absinfo(r->t, ABS_Z, 0, 100);
	hrservo_teleop_set_absinfo(r->t, ABS_RZ, 0, 100);
	for (size_t i = 0; i < hrservo_teleop_num_joints(r->t); i++) {
		const struct hrservo_joint *j =
			hrservo_calib_joint(r->c, hrservo_teleop_joint(r->t, i));

		if (hrservo_teleop_set_position(r->t, i,
						j->unit == HRSERVO_UNIT_PERCENT ? 50 : 0))
			return -1;
	}
	r->now = 1000 * MS;
	hrservo_teleop_step(r->t, r->now);	/* starts the clock */
	return 0;
}

static void rig_down(struct rig *r)
{
	hrservo_teleop_free(r->t);
	hrservo_teleop_map_free(r->m);
	hrservo_calib_free(r->c);
}

static unsigned int run(struct rig *r, uint64_t dt)
{
	r->now += dt;
	return hrservo_teleop_step(r->t, r->now);
}

/* The engine index of joint @name. */
static size_t idx(struct rig *r, const char *name)
{
	for (size_t i = 0; i < hrservo_teleop_num_joints(r->t); i++)
		if (!strcmp(hrservo_calib_joint(r->c, hrservo_teleop_joint(r->t, i))->name,
			    name))
			return i;
	return SIZE_MAX;
}

static double pos(struct rig *r, const char *name)
{
	return hrservo_teleop_position(r->t, idx(r, name));
}

static void key(struct rig *r, unsigned int code, int value)
{
	hrservo_teleop_input(r->t, EV_KEY, code, value);
}

static void axis(struct rig *r, unsigned int code, int value)
{
	hrservo_teleop_input(r->t, EV_ABS, code, value);
}

static const char rate_map[] =
	"[teleop]\ndeadman = BTN_TL\nturbo = BTN_TR\nturbo_scale = 3\nestop = BTN_MODE\n"
	"[axis ABS_X]\njoint = base\nscale = 40\ndeadzone = 0.1\nexpo = 0.3\n"
	"[axis ABS_Y]\njoint = wrist\nscale = 20\ninvert = yes\n"	/* cap 30 */
	"[axis ABS_RX]\njoint = elbow\nscale = 100\nmax_rate = 50\n";	/* cap 50 */

TEST(rate_mode_direction_and_scale)
{
	struct rig r;
	double want;

	ASSERT_EQ(0, rig_up(&r, rate_map));
	EXPECT_STREQ("rate", hrservo_teleop_mode(r.t));
	key(&r, BTN_TL, 1);
	EXPECT_EQ(HRSERVO_TELEOP_DEADMAN, run(&r, DT));
	/* full right: 40 deg/s */
	axis(&r, ABS_X, 100);
	EXPECT_EQ(HRSERVO_TELEOP_MOVED, run(&r, DT));
	EXPECT_TRUE(near(pos(&r, "base"), 40 * 0.02));
	/* half left: -shaped(0.5) deg/s, from there */
	axis(&r, ABS_X, -50);
	run(&r, 50 * MS);
	want = 40 * 0.02 + shaped(0.1, 0.3, 40, false, -0.5) * 0.05;
	EXPECT_TRUE(near(pos(&r, "base"), want)) TH_LOG("%.17g want %.17g",
							pos(&r, "base"), want);
	EXPECT_LT(pos(&r, "base"), 40 * 0.02);
	/* inside the deadzone: no motion */
	axis(&r, ABS_X, 8);
	EXPECT_EQ(0, run(&r, DT));
	EXPECT_TRUE(near(pos(&r, "base"), want));
	/* inverted: stick down (positive ABS_Y) drives the wrist down */
	axis(&r, ABS_Y, 100);
	run(&r, 100 * MS);
	EXPECT_TRUE(near(pos(&r, "wrist"), -20 * 0.1));
	/* only the joints whose stick moved */
	EXPECT_EQ(0, pos(&r, "elbow"));
	rig_down(&r);
}

TEST(rate_mode_is_rate_limited)
{
	struct rig r;

	ASSERT_EQ(0, rig_up(&r, rate_map));
	key(&r, BTN_TL, 1);
	/* elbow: scale 100 deg/s, max_rate 50 (calibration: 60): 50 */
	axis(&r, ABS_RX, 100);
	run(&r, 100 * MS);
	EXPECT_TRUE(near(pos(&r, "elbow"), 5));
	/* wrist: scale 20, turbo x3 = 60 deg/s, max_speed 30: 30 */
	key(&r, BTN_TR, 1);
	EXPECT_TRUE(hrservo_teleop_turbo(r.t));
	axis(&r, ABS_Y, -100);
	run(&r, 100 * MS);
	EXPECT_TRUE(near(pos(&r, "wrist"), 3));
	rig_down(&r);
}

TEST(turbo)
{
	struct rig r;

	ASSERT_EQ(0, rig_up(&r, rate_map));
	key(&r, BTN_TL, 1);
	axis(&r, ABS_X, 100);
	key(&r, BTN_TR, 1);
	run(&r, 50 * MS);
	EXPECT_TRUE(near(pos(&r, "base"), 3 * 40 * 0.05));	/* base: no cap */
	key(&r, BTN_TR, 0);
	EXPECT_FALSE(hrservo_teleop_turbo(r.t));
	run(&r, 50 * MS);
	EXPECT_TRUE(near(pos(&r, "base"), 3 * 40 * 0.05 + 40 * 0.05));
	rig_down(&r);
}

TEST(deadman_holds_and_nothing_moves_without_it)
{
	struct rig r;
	double held;

	ASSERT_EQ(0, rig_up(&r, rate_map));
	EXPECT_FALSE(hrservo_teleop_deadman(r.t));
	axis(&r, ABS_X, 100);
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(0, run(&r, DT));
	EXPECT_EQ(0, pos(&r, "base"));
	key(&r, BTN_TL, 1);
	EXPECT_TRUE(hrservo_teleop_deadman(r.t));
	EXPECT_EQ(HRSERVO_TELEOP_DEADMAN | HRSERVO_TELEOP_MOVED, run(&r, DT));
	held = pos(&r, "base");
	EXPECT_TRUE(near(held, 40 * 0.02));
	/* released, the stick still pushed: it holds */
	key(&r, BTN_TL, 0);
	EXPECT_EQ(HRSERVO_TELEOP_DEADMAN, run(&r, DT));
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(0, run(&r, DT));
	EXPECT_EQ(held, pos(&r, "base"));
	rig_down(&r);
}

TEST(rate_mode_goes_on_from_where_it_is_when_pressed_again)
{
	struct rig r;
	double held;

	ASSERT_EQ(0, rig_up(&r, rate_map));
	key(&r, BTN_TL, 1);
	axis(&r, ABS_X, 100);
	run(&r, 100 * MS);
	key(&r, BTN_TL, 0);
	run(&r, DT);
	held = pos(&r, "base");
	run(&r, 90 * MS);	/* a long time released */
	key(&r, BTN_TL, 1);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "base"), held + 40 * 0.02)) {
		TH_LOG("%g after %g", pos(&r, "base"), held);
	}
	rig_down(&r);
}

static const char position_map[] =
	"[teleop]\ndeadman = BTN_TL\n"
	"[axis ABS_RY]\njoint = elbow\nmode = position\nfrom = -40\nto = 60\n"	/* cap 60 */
	"[axis ABS_RZ]\njoint = grip\nmode = position\ntrigger = yes\nfrom = 10%\nto = 90%\n"
	"max_rate = 400\ndeadzone = 0.05\n";

TEST(position_mode)
{
	struct rig r;
	double last;
	int i;

	ASSERT_EQ(0, rig_up(&r, position_map));
	EXPECT_STREQ("position", hrservo_teleop_mode(r.t));
	key(&r, BTN_TL, 1);
	/* the stick at +0.5: 3/4 of the way from -40 to 60, 35 deg */
	axis(&r, ABS_RY, 50);
	/* approached at 60 deg/s (the calibration's max_speed) */
	for (i = 0, last = 0; i < 100 && pos(&r, "elbow") != 35; i++) {
		run(&r, DT);
		EXPECT_LE(fabs(pos(&r, "elbow") - last), 60 * 0.02 + 1e-9);
		last = pos(&r, "elbow");
	}
	EXPECT_EQ(35, pos(&r, "elbow"));
	EXPECT_EQ(30, i);	/* 35 deg at 1.2 deg a step */
	/* centred: midway, 10 deg */
	axis(&r, ABS_RY, 0);
	for (i = 0; i < 100; i++)
		run(&r, DT);
	EXPECT_EQ(10, pos(&r, "elbow"));
	/* full down: 'from' */
	axis(&r, ABS_RY, -100);
	for (i = 0; i < 100; i++)
		run(&r, DT);
	EXPECT_EQ(-40, pos(&r, "elbow"));
	/* the trigger: at rest 'from', pulled 'to', shaped between */
	for (i = 0; i < 100; i++)
		run(&r, DT);
	EXPECT_EQ(10, pos(&r, "grip"));
	axis(&r, ABS_RZ, 60);
	for (i = 0; i < 100; i++)
		run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "grip"),
			 10 + 80 * shaped(0.05, 0, 1, false, 0.6)));
	axis(&r, ABS_RZ, 100);
	for (i = 0; i < 100; i++)
		run(&r, DT);
	EXPECT_EQ(90, pos(&r, "grip"));
	rig_down(&r);
}

TEST(position_mode_invert_swaps_from_and_to)
{
	struct rig r;

	ASSERT_EQ(0, rig_up(&r,
		"[teleop]\ndeadman = none\n"
		"[axis ABS_RY]\njoint = elbow\nmode = position\nfrom = -40\nto = 60\ninvert = yes\n"
		"[axis ABS_RZ]\njoint = grip\nmode = position\ntrigger = yes\nfrom = 10\nto = 90\ninvert = yes\n"));
	axis(&r, ABS_RY, 50);
	axis(&r, ABS_RZ, 25);
	for (int i = 0; i < 200; i++)
		run(&r, DT);
	EXPECT_EQ(-15, pos(&r, "elbow"));	/* 1/4 of the way */
	EXPECT_EQ(70, pos(&r, "grip"));		/* 90 - 80 / 4 */
	rig_down(&r);
}

TEST(position_mode_does_not_jump_when_pressed_again)
{
	struct rig r;
	double last;

	ASSERT_EQ(0, rig_up(&r, position_map));
	/* the stick moved to the end while the deadman was up */
	axis(&r, ABS_RY, 100);
	for (int i = 0; i < 20; i++)
		run(&r, DT);
	EXPECT_EQ(0, pos(&r, "elbow"));
	key(&r, BTN_TL, 1);
	last = pos(&r, "elbow");
	for (int i = 0; i < 100; i++) {
		run(&r, DT);
		EXPECT_LE(fabs(pos(&r, "elbow") - last), 60 * 0.02 + 1e-9);
		last = pos(&r, "elbow");
	}
	EXPECT_EQ(60, pos(&r, "elbow"));
	/* released halfway back, then pressed again: no jump either */
	axis(&r, ABS_RY, -100);
	for (int i = 0; i < 20; i++)
		run(&r, DT);
	key(&r, BTN_TL, 0);
	run(&r, DT);
	last = pos(&r, "elbow");
	EXPECT_TRUE(near(last, 60 - 20 * 60 * 0.02));
	run(&r, 500 * MS);
	key(&r, BTN_TL, 1);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "elbow"), last - 60 * 0.02));
	rig_down(&r);
}

static const char button_map[] =
	"[teleop]\ndeadman = BTN_TL\nestop = BTN_MODE\n"
	"[axis ABS_X]\njoint = base\nscale = 40\nmax_rate = 20\n"
	"[axis ABS_RY]\njoint = elbow\nmode = position\nfrom = -40\nto = 60\n"
	"[button BTN_SOUTH]\naction = pose home\n"
	"[button BTN_NORTH]\naction = step wrist 5deg\n"
	"[button BTN_WEST]\naction = step wrist -25\n"
	"[button BTN_EAST]\naction = estop\n"
	"[pose home]\nbase = 10\nelbow = -30\nwrist = -12\ngrip = 80%\n";

TEST(pose_button)
{
	struct rig r;
	double last[4];
	static const char *const names[] = { "base", "elbow", "wrist", "grip" };
	static const double cap[] = { 20, 60, 30, 100 }, goal[] = { 10, -30, -12, 80 };
	int i;

	ASSERT_EQ(0, rig_up(&r, button_map));
	/* without the deadman a press does nothing, then or later */
	key(&r, BTN_SOUTH, 1);
	key(&r, BTN_SOUTH, 0);
	key(&r, BTN_TL, 1);
	for (i = 0; i < 10; i++)
		run(&r, DT);
	EXPECT_EQ(0, pos(&r, "base"));
	EXPECT_EQ(10, pos(&r, "elbow"));	/* its stick, centred */
	/* each joint goes there within its own rate limit */
	for (int k = 0; k < 4; k++)
		last[k] = pos(&r, names[k]);
	key(&r, BTN_SOUTH, 1);
	for (i = 0; i < 100; i++) {
		run(&r, DT);
		for (int k = 0; k < 4; k++) {
			EXPECT_LE(fabs(pos(&r, names[k]) - last[k]),
				  cap[k] * 0.02 + 1e-9) TH_LOG("%s", names[k]);
			last[k] = pos(&r, names[k]);
		}
	}
	for (int k = 0; k < 4; k++) {
		EXPECT_EQ(goal[k], pos(&r, names[k])) TH_LOG("%s", names[k]);
	}
	/* the elbow's stick has not moved: the pose keeps it */
	for (i = 0; i < 10; i++)
		EXPECT_EQ(0, run(&r, DT));
	/* until it moves: the joint follows the stick again */
	axis(&r, ABS_RY, 100);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "elbow"), -30 + 60 * 0.02));
	rig_down(&r);
}

TEST(pose_is_dropped_by_the_stick_and_the_deadman)
{
	struct rig r;
	double held, wrist;

	ASSERT_EQ(0, rig_up(&r, button_map));
	key(&r, BTN_TL, 1);
	key(&r, BTN_SOUTH, 1);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "wrist"), -30 * 0.02));
	/* the base's stick wins over the pose */
	axis(&r, ABS_X, -100);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "base"), 20 * 0.02 - 20 * 0.02));
	axis(&r, ABS_X, 0);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "base"), 0));
	/* releasing the deadman drops the pose: pressed again, it stays */
	key(&r, BTN_TL, 0);
	run(&r, DT);
	held = pos(&r, "wrist");
	key(&r, BTN_TL, 1);
	for (int i = 0; i < 10; i++)
		run(&r, DT);
	EXPECT_EQ(held, pos(&r, "wrist"));
	/* a stick held when the pose is pressed keeps its joint */
	axis(&r, ABS_X, -100);
	run(&r, DT);
	held = pos(&r, "base");
	wrist = pos(&r, "wrist");
	key(&r, BTN_SOUTH, 0);
	key(&r, BTN_SOUTH, 1);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "base"), held - 20 * 0.02));	/* not to 10 */
	EXPECT_TRUE(near(pos(&r, "wrist"), wrist - 30 * 0.02));	/* the others go */
	rig_down(&r);
}

TEST(step_button)
{
	struct rig r;
	int i;

	ASSERT_EQ(0, rig_up(&r, button_map));
	key(&r, BTN_NORTH, 1);		/* no deadman: nothing */
	key(&r, BTN_NORTH, 0);
	key(&r, BTN_TL, 1);
	run(&r, DT);
	EXPECT_EQ(0, pos(&r, "wrist"));
	/* a press: +5 deg at 30 deg/s; two more while it goes: +15 */
	key(&r, BTN_NORTH, 1);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "wrist"), 30 * 0.02));
	key(&r, BTN_NORTH, 2);		/* autorepeat is not a press */
	key(&r, BTN_NORTH, 0);
	key(&r, BTN_NORTH, 1);
	key(&r, BTN_NORTH, 0);
	key(&r, BTN_NORTH, 1);
	for (i = 0; i < 100; i++)
		run(&r, DT);
	EXPECT_EQ(15, pos(&r, "wrist"));
	/* down: -25 */
	key(&r, BTN_WEST, 1);
	for (i = 0; i < 100; i++)
		run(&r, DT);
	EXPECT_EQ(-10, pos(&r, "wrist"));
	rig_down(&r);
}

TEST(soft_limits_clamp)
{
	struct rig r;
	int i;

	ASSERT_EQ(0, rig_up(&r, rate_map));
	key(&r, BTN_TL, 1);
	/* elbow: soft limits -45..80 */
	axis(&r, ABS_RX, 100);
	for (i = 0; i < 200; i++)
		run(&r, DT);
	EXPECT_EQ(80, pos(&r, "elbow"));
	axis(&r, ABS_RX, -100);
	for (i = 0; i < 200; i++)
		run(&r, DT);
	EXPECT_EQ(-45, pos(&r, "elbow"));
	/* at the limit, pushing on moves nothing */
	EXPECT_EQ(0, run(&r, DT));
	rig_down(&r);

	/* steps stop at the limit too */
	ASSERT_EQ(0, rig_up(&r, button_map));
	key(&r, BTN_TL, 1);
	for (i = 0; i < 5; i++) {
		key(&r, BTN_WEST, 1);
		key(&r, BTN_WEST, 0);
	}
	for (i = 0; i < 400; i++)
		run(&r, DT);
	EXPECT_EQ(-90, pos(&r, "wrist"));
	rig_down(&r);
}

TEST(estop_button)
{
	struct rig r;

	ASSERT_EQ(0, rig_up(&r, button_map));
	/* works without the deadman, reported once */
	key(&r, BTN_EAST, 1);
	EXPECT_EQ(HRSERVO_TELEOP_ESTOP, run(&r, DT));
	EXPECT_EQ(0, run(&r, DT));
	key(&r, BTN_EAST, 0);
	/* with it: disarms the deadman, drops the pose */
	key(&r, BTN_TL, 1);
	key(&r, BTN_SOUTH, 1);
	EXPECT_EQ(HRSERVO_TELEOP_DEADMAN | HRSERVO_TELEOP_MOVED, run(&r, DT));
	key(&r, BTN_MODE, 1);
	EXPECT_FALSE(hrservo_teleop_deadman(r.t));
	EXPECT_EQ(HRSERVO_TELEOP_ESTOP | HRSERVO_TELEOP_DEADMAN, run(&r, DT));
	axis(&r, ABS_X, 100);
	EXPECT_EQ(0, run(&r, DT));
	/* the deadman held on does not count: released and pressed again */
	key(&r, BTN_TL, 2);
	EXPECT_EQ(0, run(&r, DT));
	key(&r, BTN_TL, 0);
	key(&r, BTN_TL, 1);
	EXPECT_EQ(HRSERVO_TELEOP_DEADMAN | HRSERVO_TELEOP_MOVED, run(&r, DT));
	rig_down(&r);
}

TEST(reset_input_when_the_gamepad_is_lost)
{
	struct rig r;
	double held;

	ASSERT_EQ(0, rig_up(&r, button_map));
	key(&r, BTN_TL, 1);
	axis(&r, ABS_X, 100);
	key(&r, BTN_NORTH, 1);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "base"), 20 * 0.02));
	hrservo_teleop_reset_input(r.t);
	EXPECT_FALSE(hrservo_teleop_deadman(r.t));
	EXPECT_EQ(HRSERVO_TELEOP_DEADMAN, run(&r, DT));
	held = pos(&r, "base");
	/* a deadman held through the loss: its autorepeat is no press */
	key(&r, BTN_TL, 2);
	EXPECT_FALSE(hrservo_teleop_deadman(r.t));
	EXPECT_EQ(0, run(&r, DT));
	key(&r, BTN_TL, 0);
	/* back: the stick reads centred and the step is gone */
	key(&r, BTN_TL, 1);
	EXPECT_TRUE(hrservo_teleop_deadman(r.t));
	for (int i = 0; i < 20; i++)
		run(&r, DT);
	EXPECT_EQ(held, pos(&r, "base"));
	EXPECT_TRUE(near(pos(&r, "wrist"), 30 * 0.02));
	/* its range is kept */
	axis(&r, ABS_X, 100);
	run(&r, DT);
	EXPECT_TRUE(near(pos(&r, "base"), held + 20 * 0.02));
	rig_down(&r);
}

TEST(deadman_none)
{
	struct rig r;

	ASSERT_EQ(0, rig_up(&r, "[teleop]\ndeadman = none\n"
			    "[axis ABS_X]\njoint = base\nscale = 10\n"));
	EXPECT_TRUE(hrservo_teleop_deadman(r.t));
	axis(&r, ABS_X, -100);
	EXPECT_EQ(HRSERVO_TELEOP_MOVED, run(&r, DT));
	EXPECT_TRUE(near(pos(&r, "base"), -10 * 0.02));
	hrservo_teleop_reset_input(r.t);
	EXPECT_TRUE(hrservo_teleop_deadman(r.t));
	EXPECT_EQ(0, run(&r, DT));
	rig_down(&r);
}

TEST(time_steps)
{
	struct rig r;

	ASSERT_EQ(0, rig_up(&r, rate_map));
	key(&r, BTN_TL, 1);
	axis(&r, ABS_X, 100);
	/* a stall of 5 s integrates HRSERVO_TELEOP_MAX_DT_NS only */
	run(&r, 5000 * MS);
	EXPECT_TRUE(near(pos(&r, "base"), 40 * HRSERVO_TELEOP_MAX_DT_NS / 1e9));
	/* time going back moves nothing, and is not taken as the clock */
	r.now -= 500 * MS;
	EXPECT_EQ(0, hrservo_teleop_step(r.t, r.now));
	r.now += 510 * MS;
	run(&r, 0);
	EXPECT_TRUE(near(pos(&r, "base"), 40 * 0.1 + 40 * 0.01));
	rig_down(&r);
}

TEST(positions_and_joints)
{
	struct rig r;
	size_t e;

	ASSERT_EQ(0, rig_up(&r, button_map));
	/* every joint of the map, in calibration order */
	ASSERT_EQ(4, hrservo_teleop_num_joints(r.t));
	for (size_t i = 0; i < 4; i++)
		EXPECT_EQ(i, hrservo_teleop_joint(r.t, i));
	EXPECT_EQ(UINT_MAX, hrservo_teleop_joint(r.t, 4));
	EXPECT_TRUE(isnan(hrservo_teleop_position(r.t, 4)));
	EXPECT_STREQ("mixed", hrservo_teleop_mode(r.t));
	e = idx(&r, "elbow");
	/* soft limits -45..80; 1e-6 of the span rounds in */
	EXPECT_EQ(-1, hrservo_teleop_set_position(r.t, e, 81));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(0, pos(&r, "elbow"));
	EXPECT_EQ(-1, hrservo_teleop_set_position(r.t, e, -45.001));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(0, hrservo_teleop_set_position(r.t, e, 80 + 1e-5));
	EXPECT_EQ(80, pos(&r, "elbow"));
	EXPECT_EQ(-1, hrservo_teleop_set_position(r.t, e, NAN));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, hrservo_teleop_set_position(r.t, 4, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, hrservo_teleop_set_position(r.t, e, 12.5));
	EXPECT_EQ(12.5, pos(&r, "elbow"));
	rig_down(&r);
}

TEST(a_joint_without_a_position_does_not_move)
{
	struct rig r;
	char err[512];

	memset(&r, 0, sizeof(r));
	make_dir();
	r.c = robot_calib();
	ASSERT_NE(NULL, r.c);
	r.m = hrservo_teleop_map_load(write_tmp("t.map", button_map), r.c, err,
				      sizeof(err));
	ASSERT_NE(NULL, r.m) TH_LOG("%s", err);
	remove_dir();
	r.t = hrservo_teleop_new(r.m, r.c);
	ASSERT_NE(NULL, r.t);
	hrservo_teleop_set_absinfo(r.t, ABS_X, -100, 100);
	hrservo_teleop_step(r.t, 0);
	key(&r, BTN_TL, 1);
	axis(&r, ABS_X, 100);
	key(&r, BTN_SOUTH, 1);
	EXPECT_EQ(HRSERVO_TELEOP_DEADMAN, run(&r, DT));
	EXPECT_TRUE(isnan(pos(&r, "base")));
	EXPECT_TRUE(isnan(pos(&r, "wrist")));
	rig_down(&r);
}

TEST(an_axis_without_a_range_reads_centred)
{
	struct rig r;

	ASSERT_EQ(0, rig_up(&r, rate_map));
	hrservo_teleop_set_absinfo(r.t, ABS_X, 5, 5);
	key(&r, BTN_TL, 1);
	axis(&r, ABS_X, 100);
	run(&r, DT);
	EXPECT_EQ(0, pos(&r, "base"));
	rig_down(&r);
}

TEST(engine_needs_the_calibration_of_the_map)
{
	struct rig r;
	struct hrservo_calib *other;
	struct hrservo_joint j;

	ASSERT_EQ(0, rig_up(&r, button_map));
	EXPECT_EQ(NULL, hrservo_teleop_new(NULL, r.c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hrservo_teleop_new(r.m, NULL));
	EXPECT_EQ(EINVAL, errno);
	/* a calibration without the wrist */
	other = hrservo_calib_new();
	ASSERT_NE(NULL, other);
	for (unsigned int i = 0; i < hrservo_calib_count(r.c); i++)
		if (strcmp(hrservo_calib_joint(r.c, i)->name, "wrist"))
			ASSERT_EQ(0, hrservo_calib_put(other, hrservo_calib_joint(r.c, i),
						       NULL, 0));
	EXPECT_EQ(NULL, hrservo_teleop_new(r.m, other));
	EXPECT_EQ(EINVAL, errno);
	/* ... or whose elbow has no max_speed for its position axis */
	j = *hrservo_calib_find(r.c, "wrist");
	ASSERT_EQ(0, hrservo_calib_put(other, &j, NULL, 0));
	j = *hrservo_calib_find(r.c, "elbow");
	j.max_speed = 0;
	ASSERT_EQ(0, hrservo_calib_put(other, &j, NULL, 0));
	EXPECT_EQ(NULL, hrservo_teleop_new(r.m, other));
	EXPECT_EQ(EINVAL, errno);
	j.max_speed = 1;
	ASSERT_EQ(0, hrservo_calib_put(other, &j, NULL, 0));
	hrservo_teleop_free(r.t);
	r.t = hrservo_teleop_new(r.m, other);
	EXPECT_NE(NULL, r.t);
	hrservo_calib_free(other);
	rig_down(&r);
}

TEST_HARNESS_MAIN
