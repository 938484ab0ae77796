// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of libhrservo's calibration (lib/calib.c): maps against
 * hand-computed values, invert and trim, soft and kernel limits, the file
 * round trip (also as a property over random calibrations), bad files with
 * FILE:LINE errors that name the mistake, over-long lines, strings that a
 * file cannot hold, the validation of caller-filled joints, kernel speed
 * limits that hold on every part of a map, numbers under a decimal-comma
 * locale, and atomic saves under injected failures. The library's write(), fsync() and rename() are
 * wrapped at link time (-Wl,--wrap) so that a test can make them fail.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tmpdir.h"
#include "comma_locale.h"
#include "hrservo.h"

/* ---- failure injection ---- */

static int fail_write = -1;	/* fail the Nth write from now (0: next) */
static int fail_fsync = -1;
static int fail_rename = -1;
static bool skip_fsync;		/* for thousands of saves: no disk flushes */

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_rename(const char *a, const char *b);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (fail_write > 0) {
		fail_write--;
	} else if (fail_write == 0) {
		/* A disk that fills up: half of it lands, then ENOSPC. */
		fail_write = -2;
		if (n > 1)
			return __real_write(fd, buf, n / 2);
		errno = ENOSPC;
		return -1;
	} else if (fail_write == -2) {
		errno = ENOSPC;
		return -1;
	}
	return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
	if (skip_fsync)
		return 0;
	if (fail_fsync == 0) {
		fail_fsync = -1;
		errno = EIO;
		return -1;
	}
	if (fail_fsync > 0)
		fail_fsync--;
	return __real_fsync(fd);
}

int __wrap_rename(const char *a, const char *b)
{
	if (fail_rename == 0) {
		fail_rename = -1;
		errno = EIO;
		return -1;
	}
	return __real_rename(a, b);
}

/* ---- helpers ---- */

static struct hrservo_joint joint(const char *name, unsigned int ch,
				  unsigned int n, const double *pos,
				  const double *us)
{
	struct hrservo_joint j;

	memset(&j, 0, sizeof(j));
	snprintf(j.name, sizeof(j.name), "%s", name);
	snprintf(j.controller, sizeof(j.controller), "arm");
	j.channel = ch;
	j.unit = HRSERVO_UNIT_DEG;
	j.npoints = n;
	for (unsigned int k = 0; k < n; k++) {
		j.pos[k] = pos[k];
		j.pulse_ns[k] = us[k] * 1000;
	}
	j.min = pos[0];
	j.max = pos[n - 1];
	return j;
}

static double ns_at(const struct hrservo_joint *j, double pos)
{
	double ns = NAN;

	if (hrservo_joint_to_ns(j, pos, &ns))
		return NAN;
	return ns;
}

/* ---- maps ---- */

TEST(linear_two_and_three_points)
{
	struct hrservo_joint a = joint("a", 0, 2, (double[]){ 0, 180 },
				       (double[]){ 1000, 2000 });
	struct hrservo_joint b = joint("b", 1, 3, (double[]){ 0, 90, 180 },
				       (double[]){ 1000, 1400, 2000 });

	ASSERT_EQ(0, hrservo_joint_check(&a, NULL, 0));
	ASSERT_EQ(0, hrservo_joint_check(&b, NULL, 0));
	EXPECT_EQ(1000000.0, ns_at(&a, 0));
	EXPECT_EQ(1250000.0, ns_at(&a, 45));
	EXPECT_EQ(2000000.0, ns_at(&a, 180));
	EXPECT_EQ(1200000.0, ns_at(&b, 45));
	EXPECT_EQ(1400000.0, ns_at(&b, 90));
	EXPECT_EQ(1700000.0, ns_at(&b, 135));
}

TEST(monotone_cubic)
{
	struct hrservo_joint c = joint("c", 0, 3, (double[]){ 0, 90, 180 },
				       (double[]){ 1000, 1500, 2000 });
	struct hrservo_joint d = joint("d", 0, 3, (double[]){ 0, 1, 2 },
				       (double[]){ 1000, 2000, 2500 });
	double prev = 0;

	c.map = d.map = HRSERVO_MAP_CUBIC;
	/* Collinear points: the tangents equal the slope, so it is a line. */
	EXPECT_LE(fabs(ns_at(&c, 45) - 1250000.0), 1e-6);
	/*
	 * d: slopes 1000 and 500 us/unit; Fritsch-Carlson tangents m0 = 1000,
	 * m1 = 750, m2 = 500 (no limiting: alpha^2 + beta^2 <= 9). At u = 0.5
	 * of the first interval, Hermite: 0.5*1000 + 0.125*1000 + 0.5*2000
	 * - 0.125*750 = 1531.25 us.
	 */
	EXPECT_LE(fabs(ns_at(&d, 0.5) - 1531250.0), 1e-6);
	EXPECT_EQ(2000000.0, ns_at(&d, 1));
	/* Monotonic everywhere, through the knots. */
	for (double x = 0; x <= 2; x += 0.01) {
		double y = ns_at(&d, x);

		EXPECT_GE(y, prev);
		prev = y;
	}
}

TEST(invert_and_trim)
{
	struct hrservo_joint j = joint("j", 0, 2, (double[]){ 0, 180 },
				       (double[]){ 1000, 2000 });
	double pos;

	j.invert = true;
	EXPECT_EQ(2000000.0, ns_at(&j, 0));
	EXPECT_EQ(1750000.0, ns_at(&j, 45));
	EXPECT_EQ(1000000.0, ns_at(&j, 180));
	j.trim_ns = 10000;
	EXPECT_EQ(1760000.0, ns_at(&j, 45));
	ASSERT_EQ(0, hrservo_joint_from_ns(&j, 1760000.0, &pos));
	EXPECT_LE(fabs(pos - 45), 1e-9);
	j.map = HRSERVO_MAP_CUBIC;
	j.npoints = 3;
	j.pos[1] = 180;
	j.pulse_ns[1] = 2000000;
	j.pos[2] = 200;
	j.pulse_ns[2] = 2050000;
	j.max = 200;
	ASSERT_EQ(0, hrservo_joint_from_ns(&j, ns_at(&j, 123.4), &pos));
	EXPECT_LE(fabs(pos - 123.4), 1e-9);
}

TEST(soft_limits_and_kernel_limits)
{
	struct hrservo_joint j = joint("j", 0, 2, (double[]){ 0, 180 },
				       (double[]){ 1000, 2000 });
	struct hrservo_limits_ns l;
	char err[256];
	double ns;

	j.min = 10;
	j.max = 170;
	j.max_speed = 90;
	j.max_accel = 180;
	ASSERT_EQ(0, hrservo_joint_check(&j, err, sizeof(err)));
	EXPECT_EQ(-1, hrservo_joint_to_ns(&j, 5, &ns));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, hrservo_joint_to_ns(&j, 170.5, &ns));
	ASSERT_EQ(0, hrservo_joint_kernel_limits(&j, &l));
	/* 1000 + 10/180 * 1000 us = 1055.555 us; 1944.444 us; 50/9 us/deg. */
	EXPECT_EQ(1055555, l.min_ns);
	EXPECT_EQ(1944445, l.max_ns);
	EXPECT_EQ(500000, l.max_speed_ns_per_s);
	EXPECT_EQ(1000000, l.max_accel_ns_per_s2);
	/* Inverted: the same pulses, from the other end. */
	j.invert = true;
	ASSERT_EQ(0, hrservo_joint_kernel_limits(&j, &l));
	EXPECT_EQ(1055555, l.min_ns);
	EXPECT_EQ(1944445, l.max_ns);

	j.min = -5;
	EXPECT_EQ(-1, hrservo_joint_check(&j, err, sizeof(err)));
	EXPECT_STREQ("joint j: soft limits -5deg..170deg must lie within the map, 0deg..180deg",
		     err);
	j.min = 10;
	j.has_home = true;
	j.home = 175;
	EXPECT_EQ(-1, hrservo_joint_check(&j, err, sizeof(err)));
	EXPECT_STREQ("joint j: home 175deg outside the soft limits 10deg..170deg",
		     err);
}

/* ---- the file ---- */

TEST(round_trip)
{
	struct hrservo_calib *c = hrservo_calib_new(), *r;
	struct hrservo_joint j[3];
	char path[128], err[256];

	make_dir();
	j[0] = joint("shoulder_pitch", 0, 2, (double[]){ 0, 180 },
		     (double[]){ 1010, 2010 });
	j[1] = joint("elbow", 3, 3, (double[]){ -90, 0.1, 90 },
		     (double[]){ 2400.5, 1500, 600 });
	j[1].invert = true;
	j[1].trim_ns = -12.5;
	j[1].min = -80;
	j[1].max = 85.25;
	j[1].has_home = true;
	j[1].home = 1.0 / 3;
	j[1].max_speed = 120;
	j[1].max_accel = 600;
	j[2] = joint("wrist", 7, 6, (double[]){ 0, 10, 20, 30, 40, 50 },
		     (double[]){ 1000, 1100, 1210, 1330, 1460, 1600 });
	j[2].unit = HRSERVO_UNIT_PERCENT;
	j[2].map = HRSERVO_MAP_CUBIC;
	snprintf(j[2].controller, sizeof(j[2].controller), "hrservo2");
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, hrservo_calib_set_device(c, "arm", "hrservo0"));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, hrservo_calib_put(c, &j[i], err, sizeof(err)))
			TH_LOG("%s", err);
	snprintf(path, sizeof(path), "%s/robot.conf", dir);
	ASSERT_EQ(0, hrservo_calib_save(c, path));
	r = hrservo_calib_load(path, err, sizeof(err));
	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	ASSERT_EQ(3, hrservo_calib_count(r));
	EXPECT_STREQ("hrservo0", hrservo_calib_device(r, "arm"));
	for (int i = 0; i < 3; i++) {
		const struct hrservo_joint *a = &j[i];
		const struct hrservo_joint *b = hrservo_calib_find(r, a->name);

		ASSERT_NE(NULL, b);
		EXPECT_STREQ(a->controller, b->controller);
		EXPECT_EQ(a->channel, b->channel);
		EXPECT_EQ(a->unit, b->unit);
		EXPECT_EQ(a->npoints, b->npoints);
		for (unsigned int k = 0; k < a->npoints; k++) {
			EXPECT_EQ(a->pos[k], b->pos[k]);
			EXPECT_EQ(a->pulse_ns[k], b->pulse_ns[k]);
		}
		EXPECT_EQ(a->map, b->map);
		EXPECT_EQ(a->invert, b->invert);
		EXPECT_EQ(a->trim_ns, b->trim_ns);
		EXPECT_EQ(a->min, b->min);
		EXPECT_EQ(a->max, b->max);
		EXPECT_EQ(a->has_home, b->has_home);
		EXPECT_EQ(a->home, b->home);
		EXPECT_EQ(a->max_speed, b->max_speed);
		EXPECT_EQ(a->max_accel, b->max_accel);
	}
	/* The channel lookup follows the alias and any spelling. */
	EXPECT_EQ(hrservo_calib_find(r, "elbow"),
		  hrservo_calib_find_channel(r, "/dev/hrservo0", 3));
	EXPECT_EQ(hrservo_calib_find(r, "wrist"),
		  hrservo_calib_find_channel(r, "2", 7));
	EXPECT_EQ(hrservo_calib_find(r, "elbow"),
		  hrservo_calib_find_channel(r, "chardev:/dev/hrservo0", 3));
	EXPECT_EQ(hrservo_calib_find(r, "elbow"),
		  hrservo_calib_find_channel(r, "chardev:hrservo0", 3));
	EXPECT_EQ(NULL, hrservo_calib_find_channel(r, "hrservo1", 3));
	hrservo_calib_free(r);
	hrservo_calib_free(c);
	remove_dir();
}

TEST(hand_written_file)
{
	struct hrservo_calib *c;
	const struct hrservo_joint *j;
	char err[256];
	const char *p;

	make_dir();
	p = write_tmp("hand.conf",
		      "# my robot\n"
		      "[controller arm]\n"
		      "device = /dev/hrservo0\n"
		      "\n"
		      "[joint knee]\n"
		      "controller = arm   ; the left leg\n"
		      "channel = 2\n"
		      "unit = rad\n"
		      "map = 0:1ms 0.5rad:1.25ms\n"
		      "      ; an indented comment is a comment\n"
		      "      1:1500us 1.5:1.75ms   ; and so is this\n"
		      "\n"
		      "      2:2000000ns\n"
		      "min = 0.1rad\n"
		      "invert = yes\n");
	c = hrservo_calib_load(p, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	j = hrservo_calib_find(c, "knee");
	ASSERT_NE(NULL, j);
	EXPECT_EQ(HRSERVO_UNIT_RAD, j->unit);
	EXPECT_EQ(5, j->npoints);
	EXPECT_EQ(1750000.0, j->pulse_ns[3]);
	EXPECT_EQ(0.1, j->min);
	EXPECT_EQ(2, j->max);
	EXPECT_TRUE(j->invert);
	hrservo_calib_free(c);
	remove_dir();
}

struct bad {
	const char *text;
	const char *error;	/* after "PATH:" */
};

TEST(bad_files)
{
	static const struct bad bad[] = {
		{ "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "[joint a]\ncontroller = x\nchannel = 1\nmap = 0:1ms 90:2ms\n",
		  "5: duplicate joint 'a'" },
		{ "[joint a]\ncontroller = x\nchannel = 0\n"
		  "map = 0:1ms 90:2ms 80:2.5ms\n",
		  "1: joint a: positions not increasing: 80deg after 90deg" },
		{ "[joint a]\ncontroller = x\nchannel = 0\n"
		  "map = 0:1ms 90:2ms 180:1.5ms\n",
		  "1: joint a: pulses not monotonic at 180deg" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nunit = deg\n"
		  "map = 0:1ms 1.5rad:2ms\n",
		  "5: map: unit mismatch: '1.5rad' in a joint measured in deg" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nunit = deg\n"
		  "map = 0:1ms 90:2ms\nmax = 50%\n",
		  "6: max: unit mismatch: '50%' in a joint measured in deg" },
		{ "[joint a]\ncontroller = x\nchannel = 0\n"
		  "map = 0:1ms 90:60ms\n",
		  "1: joint a: point 90deg: pulse 60000000ns outside 50000ns..50000000ns" },
		{ "[joint a]\ncontroller = x\nchannel = 64\nmap = 0:1ms 90:2ms\n",
		  "3: channel: '64' is not a channel (0..63)" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "spped = 10\n",
		  "5: unknown key 'spped' in [joint a]; did you mean 'max_speed'?" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nchannel = 1\n",
		  "4: key 'channel' given twice in [joint a]" },
		{ "[servo a]\nchannel = 0\n",
		  "1: unknown section [servo a]: expected [joint NAME] or [controller NAME]" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "trim = 2ms\n",
		  "1: joint a: trim 2000000ns outside -1000000ns..1000000ns" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "invert = maybe\n",
		  "5: invert: 'maybe' is not yes or no" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90\n",
		  "4: map: '90' is not POSITION:PULSE" },
		{ "[joint a]\ncontroller = x\nmap = 0:1ms 90:2ms\n",
		  "1: joint a: no channel" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "[joint b]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n",
		  "5: joint b: channel 0 of x already belongs to joint a" },
		{ "[joint 2a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n",
		  "1: joint name '2a': letters, digits and _ only, at most 31 characters" },
		{ "[joint a]\ncontroller = x\nthis is not ini\n",
		  "3: 'this is not ini' is not 'key = value', a [section] or a comment" },
		/* Sections are followed from their headers, keys or not. */
		{ "channel = 0\n[joint a]\ncontroller = x\n",
		  "1: key 'channel' before any [section]" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "[joint b]\n; all of it commented out\n",
		  "5: joint b: controller missing or too long" },
		{ "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "[servo b]\n",
		  "5: unknown section [servo b]: expected [joint NAME] or [controller NAME]" },
	};
	char err[512], want[512];

	make_dir();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = write_tmp("bad.conf", bad[i].text);
		struct hrservo_calib *c = hrservo_calib_load(p, err, sizeof(err));

		EXPECT_EQ(NULL, c) TH_LOG("case %zu loaded", i);
		hrservo_calib_free(c);
		EXPECT_EQ(EINVAL, errno);
		snprintf(want, sizeof(want), "%s:%s", p, bad[i].error);
		EXPECT_STREQ(want, err) TH_LOG("case %zu", i);
	}
	EXPECT_EQ(NULL, hrservo_calib_load("/nonexistent/robot.conf", err,
					   sizeof(err)));
	EXPECT_EQ(ENOENT, errno);
	remove_dir();
}

/* ---- atomic saves ---- */

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int count_files(void)
{
	struct dirent *d;
	DIR *dd = opendir(dir);
	int n = 0;

	while (dd && (d = readdir(dd)))
		if (d->d_name[0] != '.')
			n++;
	if (dd)
		closedir(dd);
	return n;
}

TEST(save_is_atomic)
{
	struct hrservo_calib *c = hrservo_calib_new(), *r;
	struct hrservo_joint j = joint("a", 0, 2, (double[]){ 0, 180 },
				       (double[]){ 1000, 2000 });
	char path[128], old[65536], err[256];

	make_dir();
	snprintf(path, sizeof(path), "%s/robot.conf", dir);
	ASSERT_EQ(0, hrservo_calib_put(c, &j, err, sizeof(err)));
	ASSERT_EQ(0, hrservo_calib_save(c, path));
	snprintf(old, sizeof(old), "%s", slurp(path));
	ASSERT_NE(NULL, strstr(old, "[joint a]"));

	/* A bigger calibration, so that a torn file would show. */
	for (unsigned int i = 1; i < 40; i++) {
		char name[16];

		snprintf(name, sizeof(name), "j%u", i);
		j = joint(name, i % 64, 2, (double[]){ 0, 180 },
			  (double[]){ 1000, 2000 });
		ASSERT_EQ(0, hrservo_calib_put(c, &j, err, sizeof(err)));
	}

	fail_write = 0;		/* half is written, then the disk is full */
	ASSERT_EQ(-1, hrservo_calib_save(c, path));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-2, fail_write);	/* it did hit the full disk */
	fail_write = -1;
	EXPECT_STREQ(old, slurp(path));
	EXPECT_EQ(1, count_files());	/* no temporary file left */

	fail_fsync = 0;
	ASSERT_EQ(-1, hrservo_calib_save(c, path));
	EXPECT_EQ(EIO, errno);
	EXPECT_STREQ(old, slurp(path));
	EXPECT_EQ(1, count_files());

	fail_rename = 0;
	ASSERT_EQ(-1, hrservo_calib_save(c, path));
	EXPECT_EQ(EIO, errno);
	EXPECT_STREQ(old, slurp(path));
	EXPECT_EQ(1, count_files());

	/* Nothing fails: the new file, whole. */
	ASSERT_EQ(0, hrservo_calib_save(c, path));
	EXPECT_NE(NULL, strstr(slurp(path), "[joint j39]"));
	r = hrservo_calib_load(path, err, sizeof(err));
	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_EQ(40, hrservo_calib_count(r));
	hrservo_calib_free(r);
	hrservo_calib_free(c);
	remove_dir();
}

/* ---- every save reloads to the same calibration ---- */

/* Every field of two joints, as EXPECTs; the number of differences. */
static int joint_diffs(struct __test_metadata *_metadata,
		       const struct hrservo_joint *a,
		       const struct hrservo_joint *b)
{
	int d = 0;

#define SAME(x)	do { if (!(a->x == b->x)) { d++; \
		TH_LOG("joint %s: " #x " differs", a->name); } } while (0)
	d += !!strcmp(a->name, b->name);
	d += !!strcmp(a->controller, b->controller);
	SAME(channel);
	SAME(unit);
	SAME(npoints);
	for (unsigned int k = 0; k < a->npoints && k < HRSERVO_MAP_POINTS_MAX; k++) {
		if (!(a->pos[k] == b->pos[k]) ||
		    !(a->pulse_ns[k] == b->pulse_ns[k])) {
			d++;
			TH_LOG("joint %s: point %u: %.17g:%.17gns became %.17g:%.17gns",
			       a->name, k, a->pos[k], a->pulse_ns[k], b->pos[k],
			       b->pulse_ns[k]);
		}
	}
	SAME(map);
	SAME(invert);
	SAME(trim_ns);
	SAME(min);
	SAME(max);
	SAME(has_home);
	if (a->has_home)
		SAME(home);
	SAME(max_speed);
	SAME(max_accel);
#undef SAME
	EXPECT_EQ(0, d);
	return d;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* xorshift64*: the same calibrations on every run. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) * 0x1p-53;
}

static unsigned int rnd_below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* A random double within [lo, hi], of one of several kinds. */
static double rnd_value(double lo, double hi)
{
	switch (rnd_below(5)) {
	case 0:		/* 0.1 steps, as a user types them */
		return fmin(hi, fmax(lo, round((lo + (hi - lo) * rnd01()) * 10) / 10));
	case 1:		/* whole numbers */
		return fmin(hi, fmax(lo, round(lo + (hi - lo) * rnd01())));
	case 2:		/* an end */
		return rnd_below(2) ? lo : hi;
	default:	/* any double: all 53 bits of it */
		return lo + (hi - lo) * rnd01();
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* @n strictly increasing values within [lo, hi], at least @step apart. */
static bool rnd_sorted(double *v, unsigned int n, double lo, double hi,
		       double step)
{
	for (unsigned int k = 0; k < n; k++)
		v[k] = rnd_value(lo, hi);
	qsort(v, n, sizeof(*v), cmp_double);
	for (unsigned int k = 1; k < n; k++)
		if (!(v[k] - v[k - 1] >= step))
			return false;
	return true;
}

static const char *const devices[] = {
	"hrservo0", "/dev/hrservo7", "3", "usb:1ffb:0089;serial=00012345",
	"a=b:c", "x # y", "gpio \xc2\xb5" "chip", "left;arm",
};

static void rnd_name(char *name, size_t size)
{
	static const char first[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
	static const char rest[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
	size_t n = 1 + rnd_below(HRSERVO_JOINT_NAME_MAX - 1);

	if (n >= size)
		n = size - 1;
	name[0] = first[rnd_below(sizeof(first) - 1)];
	for (size_t i = 1; i < n; i++)
		name[i] = rest[rnd_below(sizeof(rest) - 1)];
	name[n] = '\0';
}

/* A random joint that hrservo_joint_check() takes. */
static void rnd_joint(struct hrservo_joint *j, unsigned int channel,
		      unsigned int nctrls, char ctrls[][HRSERVO_JOINT_NAME_MAX])
{
	static const double scales[] = { 1e-3, 1, 100, 360, 1e4, 1e6, 1e9 };
	static const enum hrservo_unit units[] = {
		HRSERVO_UNIT_DEG, HRSERVO_UNIT_RAD, HRSERVO_UNIT_PERCENT,
	};

	do {
		double scale = scales[rnd_below(7)], lim[2];

		memset(j, 0, sizeof(*j));
		rnd_name(j->name, sizeof(j->name));
		if (nctrls && rnd_below(2))
			snprintf(j->controller, sizeof(j->controller), "%s",
				 ctrls[rnd_below(nctrls)]);
		else
			snprintf(j->controller, sizeof(j->controller), "%s",
				 devices[rnd_below(8)]);
		j->channel = channel;
		j->unit = units[rnd_below(3)];
		j->npoints = 2 + rnd_below(HRSERVO_MAP_POINTS_MAX - 1);
		j->map = rnd_below(2) ? HRSERVO_MAP_CUBIC : HRSERVO_MAP_LINEAR;
		j->invert = rnd_below(2);
		if (!rnd_sorted(j->pos, j->npoints, -fmin(scale, 1e9),
				fmin(scale, 1e9), 1e-6) ||
		    !rnd_sorted(j->pulse_ns, j->npoints, 50000, 50000000, 1e-6))
			continue;
		if (rnd_below(2))	/* falling pulses */
			for (unsigned int k = 0; k < j->npoints / 2; k++) {
				double t = j->pulse_ns[k];

				j->pulse_ns[k] = j->pulse_ns[j->npoints - 1 - k];
				j->pulse_ns[j->npoints - 1 - k] = t;
			}
		if (rnd_below(2))
			j->trim_ns = rnd_below(4) ? rnd_value(-1e6, 1e6) :
						    1e-20 * (rnd01() - 0.5);
		j->min = j->pos[0];
		j->max = j->pos[j->npoints - 1];
		if (rnd_below(2)) {
			lim[0] = rnd_value(j->min, j->max);
			lim[1] = rnd_value(j->min, j->max);
			j->min = fmin(lim[0], lim[1]);
			j->max = fmax(lim[0], lim[1]);
		}
		j->has_home = rnd_below(2);
		if (j->has_home)
			j->home = rnd_value(j->min, j->max);
		if (rnd_below(2))
			j->max_speed = rnd_below(5) ? rnd_value(0, 1e4) :
				       pow(10, rnd_value(-300, 300));
		if (rnd_below(2))
			j->max_accel = rnd_below(5) ? rnd_value(0, 1e5) :
				       pow(10, rnd_value(-300, 300));
	} while (hrservo_joint_check(j, NULL, 0));
}

TEST(every_save_reloads_to_the_same_calibration)
{
	char path[128], err[256];
	int bad = 0;

	make_dir();
	snprintf(path, sizeof(path), "%s/robot.conf", dir);
	skip_fsync = true;
	for (int it = 0; it < 2000 && !bad; it++) {
		struct hrservo_calib *c = hrservo_calib_new(), *r;
		char ctrls[4][HRSERVO_JOINT_NAME_MAX];
		unsigned int nctrls = rnd_below(4), njoints = 1 + rnd_below(8);
		unsigned int used[HRSERVO_MAX_CHANNELS] = { 0 };

		ASSERT_NE(NULL, c);
		for (unsigned int i = 0; i < nctrls; i++) {
			rnd_name(ctrls[i], sizeof(ctrls[i]));
			ASSERT_EQ(0, hrservo_calib_set_device(c, ctrls[i],
							      devices[rnd_below(8)]));
		}
		for (unsigned int i = 0; i < njoints; i++) {
			struct hrservo_joint j;
			unsigned int ch;

			/* Distinct channels: no put replaces another joint. */
			do
				ch = rnd_below(HRSERVO_MAX_CHANNELS);
			while (used[ch]);
			used[ch] = 1;
			rnd_joint(&j, ch, nctrls, ctrls);
			if (hrservo_calib_put(c, &j, err, sizeof(err))) {
				ASSERT_EQ(EEXIST, errno) TH_LOG("%s", err);
				continue;	/* a name drawn twice */
			}
		}
		ASSERT_EQ(0, hrservo_calib_save(c, path));
		r = hrservo_calib_load(path, err, sizeof(err));
		EXPECT_NE(NULL, r) TH_LOG("calibration %d: %s", it, err);
		if (!r) {
			bad++;
			hrservo_calib_free(c);
			break;
		}
		EXPECT_EQ(hrservo_calib_count(c), hrservo_calib_count(r));
		for (unsigned int i = 0; i < nctrls; i++)
			EXPECT_STREQ(hrservo_calib_device(c, ctrls[i]),
				     hrservo_calib_device(r, ctrls[i]));
		for (unsigned int i = 0; i < hrservo_calib_count(c); i++) {
			const struct hrservo_joint *a = hrservo_calib_joint(c, i);
			const struct hrservo_joint *b;

			b = hrservo_calib_find(r, a->name);
			EXPECT_NE(NULL, b);
			if (!b || joint_diffs(_metadata, a, b)) {
				TH_LOG("calibration %d, joint %s", it, a->name);
				bad++;
			}
		}
		if (bad)
			TH_LOG("the file:\n%s", slurp(path));
		hrservo_calib_free(r);
		hrservo_calib_free(c);
	}
	skip_fsync = false;
	EXPECT_EQ(0, bad);
	remove_dir();
}

/* Save @c, load it back, and compare its joint @name. */
static void reload_same(struct __test_metadata *_metadata,
			struct hrservo_calib *c, const char *name, char **text)
{
	const struct hrservo_joint *a = hrservo_calib_find(c, name), *b;
	struct hrservo_calib *r;
	char path[128], err[256];

	snprintf(path, sizeof(path), "%s/robot.conf", dir);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, hrservo_calib_save(c, path));
	*text = slurp(path);
	r = hrservo_calib_load(path, err, sizeof(err));
	ASSERT_NE(NULL, r) TH_LOG("%s\n%s", err, *text);
	b = hrservo_calib_find(r, name);
	ASSERT_NE(NULL, b);
	joint_diffs(_metadata, a, b);
	hrservo_calib_free(r);
}

TEST(saved_numbers_reload_exactly)
{
	struct hrservo_calib *c = hrservo_calib_new();
	struct hrservo_joint j = joint("a", 0, 3, (double[]){ 0, 90, 180 },
				       (double[]){ 1000, 1500, 2000 });
	char err[256], *text;

	make_dir();
	/* The width: 1500000.3 ns was written 1500.0003000000002us. */
	j.pulse_ns[1] = 1500000.3;
	j.pulse_ns[2] = 50000000;
	j.trim_ns = -0.1;
	/* A speed far beyond any buffer for plain decimals, and a tiny one. */
	j.max_speed = 1e300;
	j.max_accel = 1.5e-300;
	j.has_home = true;
	j.home = 1.0 / 3;
	ASSERT_EQ(0, hrservo_calib_put(c, &j, err, sizeof(err))) TH_LOG("%s", err);
	reload_same(_metadata, c, "a", &text);
	EXPECT_NE(NULL, strstr(text, "90:1500.0003us")) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "180:50000us")) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "trim = -0.1ns")) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "max_speed = 1e+300\n")) TH_LOG("%s", text);
	/* Sixteen long points wrap onto lines that inih reads whole. */
	j.npoints = 16;
	for (unsigned int k = 0; k < 16; k++) {
		j.pos[k] = -1e9 + k * (2e9 / 15) + 1.0 / 7;
		j.pulse_ns[k] = 50000.123456789 + k * 3311111.1111111113;
	}
	j.pos[15] = 1e9;
	j.min = j.pos[0];
	j.max = j.pos[15];
	j.home = 0;
	j.trim_ns = 0;
	ASSERT_EQ(0, hrservo_calib_put(c, &j, err, sizeof(err))) TH_LOG("%s", err);
	reload_same(_metadata, c, "a", &text);
	for (char *l = text; *l; l = strchr(l, '\n') + 1) {
		EXPECT_LE(strcspn(l, "\n"), 120);
		if (!strchr(l, '\n'))
			break;
	}
	hrservo_calib_free(c);
	remove_dir();
}

TEST(strings_a_file_cannot_hold_are_refused)
{
	static const char *const bad[] = {
		"arm ; left arm",		/* an inline comment */
		"arm\n[joint evil]",		/* a section of its own */
		"arm\ncontroller = x",
		" arm", "arm ", "arm\t", ";arm", "",
	};
	struct hrservo_calib *c = hrservo_calib_new();
	struct hrservo_joint j = joint("a", 0, 2, (double[]){ 0, 180 },
				       (double[]){ 1000, 2000 });
	char err[256], *text;

	make_dir();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(j.controller, sizeof(j.controller), "%s", bad[i]);
		errno = 0;
		EXPECT_EQ(-1, hrservo_calib_put(c, &j, err, sizeof(err)))
			TH_LOG("controller '%s' taken", bad[i]);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, hrservo_calib_set_device(c, "arm", bad[i]))
			TH_LOG("device '%s' taken", bad[i]);
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(0, hrservo_calib_count(c));
	EXPECT_STREQ("arm", hrservo_calib_device(c, "arm"));	/* no alias */
	snprintf(j.controller, sizeof(j.controller), "arm ; left arm");
	hrservo_calib_put(c, &j, err, sizeof(err));
	EXPECT_STREQ("joint a: controller 'arm ; left arm' cannot be saved in a calibration file: ' ;' would start a comment",
		     err);

	/* What a file can hold goes through unchanged. */
	snprintf(j.controller, sizeof(j.controller), "usb:1ffb;x=1 # 2");
	ASSERT_EQ(0, hrservo_calib_put(c, &j, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, hrservo_calib_set_device(c, "arm", "/dev/hrservo0;a=b"));
	reload_same(_metadata, c, "a", &text);
	hrservo_calib_free(c);
	remove_dir();
}

/* ---- the parser names the line and the mistake ---- */

TEST(over_long_lines_are_refused)
{
	char line[300], text[600], want[600], err[512];
	const char *head = "[joint a]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n";
	struct hrservo_calib *c;
	const char *p;

	make_dir();
	/* inih reads 200 bytes a line: the comment's tail was "max = 5". */
	snprintf(line, sizeof(line), "# %0197d", 0);
	memset(line + 2, 'x', 197);
	snprintf(text, sizeof(text), "%s%smax = 5\n", head, line);
	p = write_tmp("long.conf", text);
	c = hrservo_calib_load(p, err, sizeof(err));
	EXPECT_EQ(NULL, c) {
		TH_LOG("loaded, with max = %g",
		       hrservo_calib_find(c, "a") ? hrservo_calib_find(c, "a")->max : NAN);
	}
	hrservo_calib_free(c);
	EXPECT_EQ(EINVAL, errno);
	snprintf(want, sizeof(want), "%s:5: line too long: 206 bytes, at most 197", p);
	EXPECT_STREQ(want, err);

	/* 197 bytes fit, with CRLF too, and the next line has its number. */
	line[197] = '\0';
	snprintf(text, sizeof(text), "%s%s\r\nmin = 10\r\nspeed = 5\n", head, line);
	p = write_tmp("long.conf", text);
	c = hrservo_calib_load(p, err, sizeof(err));
	EXPECT_EQ(NULL, c);
	hrservo_calib_free(c);
	snprintf(want, sizeof(want), "%s:7: unknown key 'speed' in [joint a]; did you mean 'max_speed'?", p);
	EXPECT_STREQ(want, err);
	snprintf(text, sizeof(text), "%s%s\nmin = 10\n", head, line);
	p = write_tmp("long.conf", text);
	c = hrservo_calib_load(p, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	EXPECT_EQ(10, hrservo_calib_find(c, "a")->min);
	hrservo_calib_free(c);

	/* A NUL byte would cut the line for inih. */
	p = write_tmp("nul.conf", "[joint a]\ncontroller = x\n");
	{
		FILE *f = fopen(p, "a");

		ASSERT_NE(NULL, f);
		fwrite("channel = 0\0max = 1\n", 1, 20, f);
		fclose(f);
	}
	c = hrservo_calib_load(p, err, sizeof(err));
	EXPECT_EQ(NULL, c);
	hrservo_calib_free(c);
	snprintf(want, sizeof(want), "%s:3: a NUL byte in the line", p);
	EXPECT_STREQ(want, err);
	remove_dir();
}

TEST(parse_errors_name_the_mistake)
{
	static const struct bad bad[] = {
		/* The next keys would have gone to [joint shoulder]. */
		{ "[joint shoulder]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "[joint elbow\ncontroller = x\nchannel = 1\nmap = 0:1ms 90:2ms\n",
		  "5: section header '[joint elbow' has no closing ']'" },
		{ "[joint elbow ; the left one]\n",
		  "1: section header '[joint elbow ; the left one]' has no closing ']'" },
		{ "[joint elbow]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "centre = 1500us\n",
		  "5: unknown key 'centre' in [joint elbow]: the centre is a point of the map (map = -90:1000us 0:1500us 90:2000us); 'trim' shifts every pulse, 'home' is a rest position" },
		{ "[joint elbow]\ncontroller = x\nchanel = 0\n",
		  "3: unknown key 'chanel' in [joint elbow]; did you mean 'channel'?" },
		{ "[joint elbow]\ncontroller = x\ninverted = yes\n",
		  "3: unknown key 'inverted' in [joint elbow]; did you mean 'invert'?" },
		{ "[joint elbow]\ndevice = hrservo0\n",
		  "2: unknown key 'device' in [joint elbow]: a joint names its 'controller'; 'device' belongs in [controller NAME]" },
		{ "[joint elbow]\ncontroller = x\nwobble = 3\n",
		  "3: unknown key 'wobble' in [joint elbow]" },
		{ "[controller arm]\ndevice = hrservo0\nperiod 100Hz\n",
		  "3: 'period 100Hz' is not 'key = value', a [section] or a comment: a calibration has no frame period ('servoctl period' sets a controller's)" },
		{ "[controller arm]\ndevice = hrservo0\nperiod = 100Hz\n",
		  "3: unknown key 'period' in [controller arm]: a calibration has no frame period ('servoctl period' sets a controller's)" },
		{ "[joint elbow]\ncontroller = x\nchannel = 0\nmap 0:1ms 90:2ms\n",
		  "4: 'map 0:1ms 90:2ms': no '=' after 'map'" },
		{ "[joint elbow]\ncontroller = x\nchannel 0\n",
		  "3: 'channel 0': no '=' after 'channel'" },
		{ "[joint elbow]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "min = 10\n  max = 80\n",
		  "6: 'max = 80': an indented line continues the 'min' above (only a map takes more lines): unindent it" },
		{ "[joint elbow]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "  max = 80\n",
		  "5: 'max = 80': an indented line continues the 'map' above (only a map takes more lines): unindent it" },
		{ "[joint elbow]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "max = 1e400\n",
		  "5: max: '1e400' is not a position" },
		{ "[joint elbow]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:2ms\n"
		  "max = 0x10\n",
		  "5: max: '0x10' is not a position" },
		{ "[joint elbow]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:1500us\n"
		  "max = 80us\n",
		  "5: max: unit mismatch: '80us' in a joint measured in deg" },
		{ "[joint elbow]\ncontroller = x\nchannel = 0\nmap = 0:1ms 90:+2ms\n",
		  "4: map: '+2ms' is not a pulse width (e.g. 1500us)" },
	};
	char err[512], want[512];

	make_dir();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = write_tmp("bad.conf", bad[i].text);
		struct hrservo_calib *c = hrservo_calib_load(p, err, sizeof(err));

		EXPECT_EQ(NULL, c) TH_LOG("case %zu loaded", i);
		hrservo_calib_free(c);
		EXPECT_EQ(EINVAL, errno);
		snprintf(want, sizeof(want), "%s:%s", p, bad[i].error);
		EXPECT_STREQ(want, err) TH_LOG("case %zu", i);
	}
	remove_dir();
}

/* ---- joint functions check the struct they are given ---- */

TEST(joint_functions_refuse_a_broken_struct)
{
	struct hrservo_joint good = joint("j", 0, 3, (double[]){ 0, 90, 180 },
					  (double[]){ 1000, 1400, 2000 });
	struct hrservo_limits_ns l;
	struct hrservo_joint j;
	double x;

	good.map = HRSERVO_MAP_CUBIC;
	ASSERT_EQ(0, hrservo_joint_check(&good, NULL, 0));
	for (int i = 0; i < 14; i++) {
		j = good;
		switch (i) {
		case 0: j.npoints = 0; break;		/* crashed with a cubic */
		case 1: j.npoints = 1; break;
		case 2: j.npoints = HRSERVO_MAP_POINTS_MAX + 1; break;
		case 3: j.pulse_ns[1] = NAN; break;
		case 4: j.pos[1] = NAN; break;
		case 5: j.pulse_ns[2] = 1e10; j.max = 180; break; /* beyond uint32 */
		case 6: j.min = NAN; break;
		case 7: j.max = 1e300; break;
		case 8: j.trim_ns = NAN; break;
		case 9: j.map = (enum hrservo_map_kind)7; break;
		case 10: j.pos[2] = 1e300; j.max = 1e300; break;
		case 11: j.pos[1] = 1e-9; break;	/* slopes beyond any use */
		case 12: j.max_speed = INFINITY; break;
		case 13: j.pulse_ns[0] = 2500000; break;	/* not monotonic */
		}
		errno = 0;
		EXPECT_EQ(-1, hrservo_joint_to_ns(&j, 45, &x)) TH_LOG("case %d", i);
		EXPECT_EQ(EINVAL, errno) TH_LOG("case %d", i);
		errno = 0;
		EXPECT_EQ(-1, hrservo_joint_from_ns(&j, 1200000, &x)) TH_LOG("case %d", i);
		EXPECT_EQ(EINVAL, errno) TH_LOG("case %d", i);
		errno = 0;
		EXPECT_EQ(-1, hrservo_joint_kernel_limits(&j, &l)) TH_LOG("case %d", i);
		EXPECT_EQ(EINVAL, errno) TH_LOG("case %d", i);
		EXPECT_EQ(-1, hrservo_joint_check(&j, NULL, 0)) TH_LOG("case %d", i);
	}
	/* A good joint, but NaN and infinities are no position or width. */
	EXPECT_EQ(-1, hrservo_joint_from_ns(&good, NAN, &x));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, hrservo_joint_from_ns(&good, INFINITY, &x));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, hrservo_joint_to_ns(&good, NAN, &x));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(0, hrservo_joint_from_ns(&good, 1400000, &x));
	EXPECT_LE(fabs(x - 90), 1e-9);
	/* A name without its NUL is refused, not read past. */
	memset(j.name, 'a', sizeof(j.name));
	EXPECT_EQ(-1, hrservo_joint_check(&j, NULL, 0));
}

/* ---- the kernel's speed limit keeps the joint within max_speed ---- */

/* The largest joint speed the kernel's pulse speed limit allows on @j. */
static double fastest_joint_speed(const struct hrservo_joint *j,
				  double speed_ns, double *slowest)
{
	double worst = 0, dx = (j->max - j->min) * 1e-6;

	*slowest = INFINITY;
	for (int i = 0; i <= 20000; i++) {
		double x = j->min + (j->max - j->min) * i / 20000.0;
		double a = fmax(j->min, x - dx), b = fmin(j->max, x + dx);
		double ya, yb, v;

		if (hrservo_joint_to_ns(j, a, &ya) || hrservo_joint_to_ns(j, b, &yb))
			return NAN;
		/* pulse speed / (dpulse/dpos) = joint speed */
		v = speed_ns / (fabs(yb - ya) / (b - a));
		worst = fmax(worst, v);
		*slowest = fmin(*slowest, v);
	}
	return worst;
}

TEST(kernel_speed_limit_holds_on_every_part_of_the_map)
{
	/* Shallow first (1.11 us/deg), then steep (10 us/deg). */
	struct hrservo_joint j = joint("j", 0, 3, (double[]){ 0, 90, 180 },
				       (double[]){ 1000, 1100, 2000 });
	struct hrservo_limits_ns l;
	double fast, slow;

	j.max_speed = 10;
	j.max_accel = 20;
	ASSERT_EQ(0, hrservo_joint_kernel_limits(&j, &l));
	/* 10 deg/s at the shallowest 100000/90 ns/deg */
	EXPECT_EQ(11111, l.max_speed_ns_per_s);
	EXPECT_EQ(22222, l.max_accel_ns_per_s2);
	fast = fastest_joint_speed(&j, l.max_speed_ns_per_s, &slow);
	EXPECT_LE(fast, j.max_speed * (1 + 1e-6));
	EXPECT_GE(fast, j.max_speed * (1 - 1e-3));	/* and not tighter */

	/* Soft limits within the steep part: its slope is the one. */
	j.min = 100;
	ASSERT_EQ(0, hrservo_joint_kernel_limits(&j, &l));
	EXPECT_EQ(100000, l.max_speed_ns_per_s);
	j.min = 0;

	/* Cubic, inverted, trimmed, soft limits inside: the same bound. */
	j = joint("k", 0, 5, (double[]){ -90, -30, 0, 45, 90 },
		  (double[]){ 600, 1300, 1500, 1600, 2400 });
	j.map = HRSERVO_MAP_CUBIC;
	j.invert = true;
	j.trim_ns = 12345;
	j.min = -80;
	j.max = 70;
	j.max_speed = 90;
	ASSERT_EQ(0, hrservo_joint_check(&j, NULL, 0));
	ASSERT_EQ(0, hrservo_joint_kernel_limits(&j, &l));
	fast = fastest_joint_speed(&j, l.max_speed_ns_per_s, &slow);
	EXPECT_LE(fast, j.max_speed * (1 + 1e-6));
	EXPECT_GE(fast, j.max_speed * (1 - 1e-3));
	/* The steep parts then move slower than max_speed: the price. */
	EXPECT_LT(slow, j.max_speed / 3);

	/* A speed limit so small that it rounds to 0 ns/s stays a limit. */
	j.max_speed = 1e-9;
	ASSERT_EQ(0, hrservo_joint_kernel_limits(&j, &l));
	EXPECT_EQ(1, l.max_speed_ns_per_s);
}

/* ---- numbers do not depend on the locale ---- */

TEST(numbers_do_not_depend_on_the_locale)
{
	struct hrservo_calib *c;
	const struct hrservo_joint *j;
	char err[256], want[512], *text;
	const char *p;

	if (!comma_locale()) {
		SKIP(return, "no locale with a decimal comma is installed (locale -a) and localedef could not make one");
	}
	ASSERT_EQ(0.0, strtod("0.5", NULL)) TH_LOG("the locale is not in effect");
	make_dir();
	p = write_tmp("hand.conf",
		      "[joint a]\ncontroller = x\nchannel = 0\n"
		      "map = -90.5:1000.5us 0:1.5ms 90.25:2000000.5ns\n"
		      "min = -45.5\nmax_speed = 0.5\n");
	c = hrservo_calib_load(p, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	j = hrservo_calib_find(c, "a");
	ASSERT_NE(NULL, j);
	EXPECT_EQ(-90.5, j->pos[0]);
	EXPECT_EQ(1000500, j->pulse_ns[0]);
	EXPECT_EQ(2000000.5, j->pulse_ns[2]);
	EXPECT_EQ(-45.5, j->min);
	EXPECT_EQ(0.5, j->max_speed);
	/* Saved with points, not "1000,5us", and read back the same. */
	reload_same(_metadata, c, "a", &text);
	EXPECT_NE(NULL, strstr(text, "map = -90.5:1000.5us 0:1500us 90.25:2000.0005us\n"))
		TH_LOG("%s", text);
	ASSERT_NE(NULL, strstr(text, "[joint a]"));
	EXPECT_EQ(NULL, strchr(strstr(text, "[joint a]"), ',')) TH_LOG("%s", text);
	hrservo_calib_free(c);
	/* Messages write numbers as the file does. */
	p = write_tmp("bad.conf",
		      "[joint a]\ncontroller = x\nchannel = 0\n"
		      "map = 0:1ms 90.5:2ms 80.5:2.5ms\n");
	EXPECT_EQ(NULL, hrservo_calib_load(p, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:1: joint a: positions not increasing: 80.5deg after 90.5deg", p);
	EXPECT_STREQ(want, err);
	/* Trajectory CSVs too: "0.5" is half a second, not "not a number". */
	p = write_tmp("t.csv", "t_s,ch0_us\n0,1500\n0.5,1600.5\n");
	{
		struct hrservo_traj *t = hrservo_traj_load_csv(p, err,
								sizeof(err));
		double time, pulse;

		ASSERT_NE(NULL, t) TH_LOG("%s", err);
		ASSERT_EQ(0, hrservo_traj_waypoint(t, 1, &time, &pulse));
		EXPECT_EQ(0.5, time);
		EXPECT_EQ(1600500, pulse);
		hrservo_traj_free(t);
	}
	remove_dir();
}

TEST_HARNESS_MAIN
