// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of libhrservo's calibration (lib/calib.c): maps against
 * hand-computed values, invert and trim, soft and kernel limits, the file
 * round trip, bad files with FILE:LINE errors, and atomic saves under
 * injected failures. The library's write(), fsync() and rename() are
 * wrapped at link time (-Wl,--wrap) so that a test can make them fail.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "hrservo.h"

/* ---- failure injection ---- */

static int fail_write = -1;	/* fail the Nth write from now (0: next) */
static int fail_fsync = -1;
static int fail_rename = -1;

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

static char dir[64];

static const char *write_tmp(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/calib_test.XXXXXX");
	if (!mkdtemp(dir))
		abort();
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
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
		      "      1:1500us 1.5:1.75ms\n"
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
		  "5: unknown key 'spped' in [joint a]" },
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
		  "3: not 'key = value' or '[section]'" },
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

TEST_HARNESS_MAIN
