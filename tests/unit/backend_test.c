// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the backend interface (issue 14), without a device:
 *  - specs: the scheme of "SCHEME:REST", the chardev backend's pure forms,
 *    and what hrservo_open() does with every other spec (another backend's
 *    device is claimed by nobody: EINVAL; a reserved scheme: ENOTSUP);
 *  - capabilities: they follow from the backend's ops (a backend with none
 *    of the optional ones has none, and every call needing one fails with
 *    ENOTSUP, with or without its other arguments right), and a backend's
 *    caps op can only take some away;
 *  - hrservo_list_new(): the chardev backend's enumeration of the class
 *    directory, sorted as before.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "internal.h"
#include "tmpdir.h"

TEST(scheme_of_a_spec)
{
	const char *rest = NULL;

	EXPECT_EQ(7, hrservo_spec_scheme("chardev:/dev/hrservo0", &rest));
	EXPECT_STREQ("/dev/hrservo0", rest);
	EXPECT_EQ(5, hrservo_spec_scheme("gpiod:gpiochip0:4,5", &rest));
	EXPECT_STREQ("gpiochip0:4,5", rest);
	EXPECT_EQ(3, hrservo_spec_scheme("usb:", &rest));
	EXPECT_STREQ("", rest);
	EXPECT_EQ(2, hrservo_spec_scheme("x1:y", &rest));
	/* No scheme: none before a '/', upper case, a digit first, none. */
	rest = NULL;
	EXPECT_EQ(0, hrservo_spec_scheme("/dev/a:b", &rest));
	EXPECT_EQ(0, hrservo_spec_scheme("Chardev:0", &rest));
	EXPECT_EQ(0, hrservo_spec_scheme("1a:0", &rest));
	EXPECT_EQ(0, hrservo_spec_scheme(":0", &rest));
	EXPECT_EQ(0, hrservo_spec_scheme("hrservo0", &rest));
	EXPECT_EQ(0, hrservo_spec_scheme("a_b:0", &rest));
	EXPECT_EQ(0, hrservo_spec_scheme("abcdefghijklmnop:0", &rest));
	EXPECT_EQ(NULL, rest);	/* untouched */
	EXPECT_EQ(15, hrservo_spec_scheme("abcdefghijklmno:0", &rest));
	EXPECT_STREQ("0", rest);

	EXPECT_TRUE(hrservo_scheme_reserved("gpiod", 5));
	EXPECT_TRUE(hrservo_scheme_reserved("usb:x", 3));
	EXPECT_FALSE(hrservo_scheme_reserved("gpio", 4));
	EXPECT_FALSE(hrservo_scheme_reserved("chardev", 7));
}

#ifdef HRSERVO_HAVE_GPIOD
/*
 * The one name of a gpiod controller, as calibrations compare them: the
 * chip by name (a path of /dev/ is its name; no chip needs to be here for
 * that), the lines folded, the options aside; a label not here is kept as
 * given. It says nothing: hrservo_last_error() and errno stay.
 */
TEST(gpiod_canonical_names)
{
	char out[64], words[512];

	EXPECT_EQ(NULL, hrservo_open("gpiod:nochip-here:0-3"));
	ASSERT_NE(0, strlen(hrservo_last_error()));
	snprintf(words, sizeof(words), "%s", hrservo_last_error());
	errno = EXDEV;
	ASSERT_EQ(0, hrservo_gpiod_canonical("gpiochip7:0,1,2,3:no-rt", out,
					     sizeof(out)));
	EXPECT_STREQ("gpiod:gpiochip7:0-3", out);
	EXPECT_EQ(EXDEV, errno);
	/* A label looked up in vain says nothing either. */
	ASSERT_EQ(0, hrservo_gpiod_canonical("other-label:1", out, 64));
	EXPECT_STREQ("gpiod:other-label:1", out);
	EXPECT_STREQ(words, hrservo_last_error());
	ASSERT_EQ(0, hrservo_gpiod_canonical("/dev/gpiochip7:0-3", out, 64));
	EXPECT_STREQ("gpiod:gpiochip7:0-3", out);
	ASSERT_EQ(0, hrservo_gpiod_canonical("gpiochip7:3,1,2:prio=20", out, 64));
	EXPECT_STREQ("gpiod:gpiochip7:3,1,2", out);
	ASSERT_EQ(0, hrservo_gpiod_canonical("nochip-here:4,5,6", out, 64));
	EXPECT_STREQ("gpiod:nochip-here:4-6", out);
	EXPECT_EQ(-1, hrservo_gpiod_canonical("gpiochip7", out, 64));
	EXPECT_EQ(-1, hrservo_gpiod_canonical(":0-3", out, 64));
	EXPECT_EQ(-1, hrservo_gpiod_canonical("gpiochip7:x", out, 64));
}
#endif

TEST(chardev_pure_forms)
{
	static const char *const bad[] = {
		"", "hrservo", "hrservo-1", "hrservo0a", "hrservo 0", "servo0",
		"/dev/hrservo", "/dev/hrservox", "dev/hrservo0", "/dev//hrservo0",
		"/dev/gpiochip0", "/dev/ttyACM0", "/dev/ttyUSB0", "/dev/null",
		"/tmp/hrservo0", "-1", "+1", "0x1", "1234567", "hrservo1234567",
		"chardev:0", " 0", "0 ",
	};
	char path[32];

	ASSERT_TRUE(hrservo_chardev_spec_path("0", path, sizeof(path)));
	EXPECT_STREQ("/dev/hrservo0", path);
	ASSERT_TRUE(hrservo_chardev_spec_path("12", path, sizeof(path)));
	EXPECT_STREQ("/dev/hrservo12", path);
	ASSERT_TRUE(hrservo_chardev_spec_path("hrservo3", path, sizeof(path)));
	EXPECT_STREQ("/dev/hrservo3", path);
	ASSERT_TRUE(hrservo_chardev_spec_path("/dev/hrservo45", path,
					      sizeof(path)));
	EXPECT_STREQ("/dev/hrservo45", path);
	ASSERT_TRUE(hrservo_chardev_spec_path("999999", path, sizeof(path)));
	EXPECT_STREQ("/dev/hrservo999999", path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		EXPECT_FALSE(hrservo_chardev_spec_path(bad[i], path,
						       sizeof(path)))
			TH_LOG("'%s'", bad[i]);
	}
}

/* hrservo_open(@spec) fails with @err. */
static void open_fails(struct __test_metadata *_metadata, const char *spec,
		       int err)
{
	struct hrservo *h;

	errno = 0;
	h = hrservo_open(spec);
	EXPECT_EQ(NULL, h) TH_LOG("'%s' opened", spec);
	EXPECT_EQ(err, errno) TH_LOG("'%s': %s", spec, strerror(errno));
	hrservo_close(h);
}

TEST(open_claims_only_its_forms)
{
	char link[128], file[128];

	make_dir();
	setenv("HRSERVO_SYSFS_CLASS", dir, 1);
	/* Other backends' devices: claimed by none, not opened. */
	open_fails(_metadata, "/dev/gpiochip0", EINVAL);
	open_fails(_metadata, "/dev/ttyACM0", EINVAL);
	open_fails(_metadata, "/dev/ttyUSB0", EINVAL);
	open_fails(_metadata, "/dev/null", EINVAL);
	open_fails(_metadata, "servo", EINVAL);
	open_fails(_metadata, "", EINVAL);
	open_fails(_metadata, NULL, EINVAL);
	/* Reserved schemes; unknown ones; an empty rest. */
#ifdef HRSERVO_HAVE_GPIOD
	/* gpiod: built in; no GPIO chip by that name here. */
	open_fails(_metadata, "gpiod:no-such-chip:4", ENODEV);
	open_fails(_metadata, "gpiod:gpiochip0", EINVAL);
#else
	open_fails(_metadata, "gpiod:gpiochip0:4", ENOTSUP);
#endif
	open_fails(_metadata, "usb:00012345", ENOTSUP);
	open_fails(_metadata, "usb:", ENOTSUP);
	open_fails(_metadata, "serial:/dev/ttyUSB0", EINVAL);
	open_fails(_metadata, "chardev:", EINVAL);
	open_fails(_metadata, "chardev:servo", EINVAL);
	/* chardev: takes any path, and asks it: /dev/null is no hrservo. */
	open_fails(_metadata, "chardev:/dev/null", ENOENT);
	/* The pure forms of a controller that is not there. */
	open_fails(_metadata, "hrservo999999", ENOENT);
	open_fails(_metadata, "chardev:999999", ENOENT);
	/* A link named hrservo0 to another device; a link to a file. */
	snprintf(link, sizeof(link), "%s/hrservo0", dir);
	ASSERT_EQ(0, symlink("/dev/null", link));
	open_fails(_metadata, link, EINVAL);
	snprintf(file, sizeof(file), "%s", write_tmp("hrservo7", ""));
	snprintf(link, sizeof(link), "%s/arm", dir);
	ASSERT_EQ(0, symlink(file, link));
	open_fails(_metadata, link, EINVAL);
	open_fails(_metadata, file, EINVAL);
	unsetenv("HRSERVO_SYSFS_CLASS");
	remove_dir();
}

TEST(list_is_the_backends)
{
	static const char *const names[] = {
		"hrservo10", "hrservo2", "hrservo0", ".hidden",
	};
	struct hrservo_list *l;
	char path[128];

	make_dir();
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ASSERT_EQ(0, mkdir(path, 0755));
	}
	setenv("HRSERVO_SYSFS_CLASS", dir, 1);
	l = hrservo_list_new();
	ASSERT_NE(NULL, l);
	ASSERT_EQ(3, hrservo_list_count(l));
	EXPECT_STREQ("hrservo0", hrservo_list_name(l, 0));
	EXPECT_STREQ("hrservo2", hrservo_list_name(l, 1));
	EXPECT_STREQ("hrservo10", hrservo_list_name(l, 2));
	EXPECT_EQ(NULL, hrservo_list_name(l, 3));
	hrservo_list_free(l);
	/* No class directory: no controller, no error. */
	snprintf(path, sizeof(path), "%s/none", dir);
	setenv("HRSERVO_SYSFS_CLASS", path, 1);
	l = hrservo_list_new();
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0, hrservo_list_count(l));
	hrservo_list_free(l);
	unsetenv("HRSERVO_SYSFS_CLASS");
	remove_dir();
}

/* ---- capabilities ---- */

static unsigned int calls;	/* ops of the full fake called */

static int ok_apply(struct hrservo *h, const struct hrservo_target_item *t,
		    size_t n)
{
	calls++;
	return 0;
}

static int ok_apply_one(struct hrservo *h, const struct hrservo_target_item *t)
{
	calls++;
	return 0;
}

static int ok_mask(struct hrservo *h, uint64_t mask)
{
	calls++;
	return 0;
}

static int ok_state(struct hrservo *h, struct hrservo_state *st)
{
	calls++;
	return 0;
}

static int ok_limits(struct hrservo *h, unsigned int ch, uint32_t *a,
		     uint32_t *b)
{
	calls++;
	*a = 1000000;
	*b = 2000000;
	return 0;
}

static int ok_set2(struct hrservo *h, unsigned int ch, uint32_t a, uint32_t b)
{
	calls++;
	return 0;
}

static int ok_period(struct hrservo *h, uint32_t *p, uint32_t *mn,
		     uint32_t *mx)
{
	calls++;
	*p = *mn = *mx = 20000000;
	return 0;
}

static int ok_set_period(struct hrservo *h, uint32_t p)
{
	calls++;
	return 0;
}

static int ok_submit(struct hrservo *h, const struct hrservo_seg_item *s,
		     size_t n, const int64_t *c, size_t nc, unsigned int f,
		     uint64_t at)
{
	calls++;
	return 0;
}

static int ok_h(struct hrservo *h)
{
	calls++;
	return 0;
}

static int ok_event(struct hrservo *h, struct hrservo_event_data *ev, int t)
{
	calls++;
	errno = EAGAIN;
	return -1;
}

static int ok_traj_status(struct hrservo *h, struct hrservo_traj_info *i)
{
	calls++;
	memset(i, 0, sizeof(*i));
	return 0;
}

static int ok_owned(struct hrservo *h, uint64_t *axes)
{
	calls++;
	*axes = 0;
	return 0;
}

static int ok_watchdog(struct hrservo *h, unsigned int t, int a,
		       const struct hrservo_target_item *p, size_t n)
{
	calls++;
	return 0;
}

static int ok_estop(struct hrservo *h, int op, int a,
		    struct hrservo_estop_info *i)
{
	calls++;
	return 0;
}

static int ok_frames(struct hrservo *h, uint64_t seq,
		     struct hrservo_frame_data *out, size_t room, size_t *count,
		     uint64_t *next)
{
	calls++;
	*count = 0;
	*next = seq;
	return 0;
}

static uint32_t no_safety(struct hrservo *h)
{
	/* A made-up bit too: the core keeps only what the ops back. */
	return ~(HRSERVO_CAP_WATCHDOG | HRSERVO_CAP_ESTOP);
}

static uint32_t no_rt(struct hrservo *h)
{
	(void)h;
	return ~HRSERVO_CAP_RT_TIMING;
}

/* Only what every backend has: open, close, targets one by one, limits. */
static const struct hrservo_backend bare = {
	.name = "bare",
	.apply_one = ok_apply_one,
	.release = ok_mask,
	.read_state = ok_state,
	.get_limits = ok_limits,
	.set_limits = ok_set2,
	.get_period = ok_period,
};

static const struct hrservo_backend full = {
	.name = "full",
	.apply = ok_apply,
	.release = ok_mask,
	.read_state = ok_state,
	.get_limits = ok_limits,
	.set_limits = ok_set2,
	.get_period = ok_period,
	.set_period = ok_set_period,
	.get_motion = ok_limits,
	.set_motion = ok_set2,
	.traj_submit = ok_submit,
	.traj_status = ok_traj_status,
	.traj_owned = ok_owned,
	.traj_stop = ok_h,
	.event_fd = ok_h,
	.read_event = ok_event,
	.watchdog = ok_watchdog,
	.keepalive = ok_h,
	.estop = ok_estop,
	.read_frames = ok_frames,
};

#define ALL_BUT_FEEDBACK						\
	(HRSERVO_CAP_EVENTS | HRSERVO_CAP_TRAJ |			\
	 HRSERVO_CAP_MOTION_LIMITS | HRSERVO_CAP_ATOMIC_BATCH |		\
	 HRSERVO_CAP_WATCHDOG | HRSERVO_CAP_ESTOP |			\
	 HRSERVO_CAP_FRAME_RECORD | HRSERVO_CAP_FRAME_PERIOD |		\
	 HRSERVO_CAP_RT_TIMING)

/* A 2-waypoint trajectory on channel 0. */
static struct hrservo_traj *small_traj(void)
{
	static const unsigned int ch[] = { 0 };
	struct hrservo_traj *t = hrservo_traj_new(1, ch);
	double p = 1500000;

	if (t && (hrservo_traj_add(t, 0, &p) || hrservo_traj_add(t, 1, &p))) {
		hrservo_traj_free(t);
		return NULL;
	}
	return t;
}

/* Every call needing a capability, @bad_args: also with wrong arguments. */
static void every_optional_call(struct __test_metadata *_metadata,
				struct hrservo *h, uint32_t caps, int want,
				bool bad_args)
{
	struct hrservo_batch *two = hrservo_batch_new();
	struct hrservo_traj *t = small_traj();
	struct hrservo_event_data ev;
	struct hrservo_estop_info ei;
	struct hrservo_traj_info ti;
	struct hrservo_frame_data f;
	uint32_t a, b;
	uint64_t u, next;
	size_t n;

	ASSERT_NE(NULL, two);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_batch_add(two, 0, 1500000));
	ASSERT_EQ(0, hrservo_batch_add(two, 1, 1500000));
#define CHECK(cap, call)						\
	do {								\
		int r_;							\
		errno = 0;						\
		r_ = (call);						\
		if (caps & (cap)) {					\
			EXPECT_EQ(0, r_) TH_LOG("%s: %s", #call,	\
						strerror(errno));	\
		} else {						\
			EXPECT_EQ(-1, r_) TH_LOG("%s", #call);		\
			EXPECT_EQ(want, errno) TH_LOG("%s: %s", #call,	\
						      strerror(errno));	\
		}							\
	} while (0)
	if (!bad_args) {
		CHECK(HRSERVO_CAP_EVENTS, hrservo_event_fd(h) < 0 ? -1 : 0);
		CHECK(HRSERVO_CAP_EVENTS, hrservo_read_event(h, &ev, 0) &&
					  errno == EAGAIN ? 0 : -1);
		CHECK(HRSERVO_CAP_MOTION_LIMITS,
		      hrservo_get_motion_limits(h, 0, &a, &b));
		CHECK(HRSERVO_CAP_MOTION_LIMITS,
		      hrservo_set_motion_limits(h, 0, 1000, 1000));
		CHECK(HRSERVO_CAP_ATOMIC_BATCH, hrservo_apply(h, two));
		CHECK(HRSERVO_CAP_TRAJ, hrservo_traj_upload(t, h, 0, 0));
		CHECK(HRSERVO_CAP_TRAJ, hrservo_traj_status(h, &ti));
		CHECK(HRSERVO_CAP_TRAJ, hrservo_traj_owned(h, &u));
		CHECK(HRSERVO_CAP_TRAJ, hrservo_traj_stop(h));
		CHECK(HRSERVO_CAP_WATCHDOG,
		      hrservo_watchdog_arm(h, 100, HRSERVO_FS_HOLD, NULL));
		CHECK(HRSERVO_CAP_WATCHDOG, hrservo_keepalive(h));
		CHECK(HRSERVO_CAP_ESTOP, hrservo_estop_get(h, &ei));
		CHECK(HRSERVO_CAP_ESTOP, hrservo_estop_trip(h, HRSERVO_FS_HOLD));
		CHECK(HRSERVO_CAP_ESTOP, hrservo_estop_clear(h));
		CHECK(HRSERVO_CAP_FRAME_RECORD,
		      hrservo_read_frames(h, 0, &f, 1, &n, &next, NULL));
		CHECK(HRSERVO_CAP_FRAME_PERIOD,
		      hrservo_set_frame_period(h, 20000000));
	} else {
		/* The capability is checked first: ENOTSUP, not EINVAL. */
		caps = 0;
		CHECK(0, hrservo_traj_upload(t, h, 0, ~0u));
		CHECK(0, hrservo_watchdog_arm(h, 1, 99, two));
		CHECK(0, hrservo_set_motion_limits(h, 99, 0, 0));
		CHECK(0, hrservo_get_motion_limits(h, 99, &a, &b));
	}
#undef CHECK
	hrservo_batch_free(two);
	hrservo_traj_free(t);
}

TEST(bare_backend_has_no_optional_caps)
{
	struct hrservo h = { .be = &bare, .nch = 8 };
	struct hrservo_state *st;

	/* Real-time timing is not an op: every backend has it by default. */
	EXPECT_EQ(HRSERVO_CAP_RT_TIMING, hrservo_caps(&h));
	EXPECT_EQ(0, hrservo_caps(NULL));
	every_optional_call(_metadata, &h, 0, ENOTSUP, false);
	every_optional_call(_metadata, &h, 0, ENOTSUP, true);
	/* What every backend does still works: one target, reads. */
	EXPECT_EQ(0, hrservo_set_target(&h, 2, 1500000));
	st = hrservo_read_state(&h);
	EXPECT_NE(NULL, st);
	hrservo_state_free(st);
	/* A batch of one goes through apply_one. */
	{
		struct hrservo_batch *one = hrservo_batch_new();

		ASSERT_EQ(0, hrservo_batch_add(one, 3, 1500000));
		EXPECT_EQ(0, hrservo_apply(&h, one));
		hrservo_batch_free(one);
	}
}

TEST(caps_follow_the_ops)
{
	struct hrservo_backend be = full;
	struct hrservo h = { .be = &be, .nch = 8 };

	EXPECT_EQ(ALL_BUT_FEEDBACK, hrservo_caps(&h));
	calls = 0;
	every_optional_call(_metadata, &h, ALL_BUT_FEEDBACK, 0, false);
	EXPECT_LT(0, calls);

	/* Half of a pair is not the capability. */
	be.set_motion = NULL;
	be.keepalive = NULL;
	be.read_event = NULL;
	be.traj_stop = NULL;
	EXPECT_EQ(ALL_BUT_FEEDBACK &
		  ~(HRSERVO_CAP_MOTION_LIMITS | HRSERVO_CAP_WATCHDOG |
		    HRSERVO_CAP_EVENTS | HRSERVO_CAP_TRAJ), hrservo_caps(&h));
	every_optional_call(_metadata, &h, hrservo_caps(&h), ENOTSUP, false);

	/* The backend's caps op takes away; its extra bits count for nothing. */
	be = full;
	be.caps = no_safety;
	EXPECT_EQ(ALL_BUT_FEEDBACK &
		  ~(HRSERVO_CAP_WATCHDOG | HRSERVO_CAP_ESTOP), hrservo_caps(&h));
	calls = 0;
	every_optional_call(_metadata, &h, hrservo_caps(&h), ENOTSUP, false);
	EXPECT_LT(0, calls);

	/* A backend without real-time timing (gpiod's "no-rt") says so. */
	be = full;
	be.caps = no_rt;
	EXPECT_EQ(ALL_BUT_FEEDBACK & ~HRSERVO_CAP_RT_TIMING, hrservo_caps(&h));
}

/* The open config's options: defaults, bounds, and NULL. */
TEST(open_config)
{
	struct hrservo_open_config *cfg = hrservo_open_config_new();

	ASSERT_NE(NULL, cfg);
	EXPECT_EQ(0, hrservo_open_config_get_frame_period(cfg));
	EXPECT_EQ(-1, hrservo_open_config_get_rt_priority(cfg));
	EXPECT_EQ(0, hrservo_open_config_set_frame_period(cfg, 10000000));
	EXPECT_EQ(10000000, hrservo_open_config_get_frame_period(cfg));
	EXPECT_EQ(0, hrservo_open_config_set_rt_priority(cfg, 0));
	EXPECT_EQ(0, hrservo_open_config_set_rt_priority(cfg, 99));
	errno = 0;
	EXPECT_EQ(-1, hrservo_open_config_set_rt_priority(cfg, 100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, hrservo_open_config_set_rt_priority(cfg, -2));
	EXPECT_EQ(99, hrservo_open_config_get_rt_priority(cfg));
	EXPECT_EQ(0, hrservo_open_config_set_rt_priority(cfg, -1));
	EXPECT_EQ(-1, hrservo_open_config_get_rt_priority(cfg));
	/* A spec nobody claims fails as with hrservo_open(). */
	errno = 0;
	EXPECT_EQ(NULL, hrservo_open_with("/dev/ttyACM0", cfg));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hrservo_open_with(NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	hrservo_open_config_free(cfg);
	hrservo_open_config_free(NULL);
	/* NULL options: EINVAL to set, the defaults to read. */
	errno = 0;
	EXPECT_EQ(-1, hrservo_open_config_set_frame_period(NULL, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, hrservo_open_config_set_rt_priority(NULL, 1));
	EXPECT_EQ(0, hrservo_open_config_get_frame_period(NULL));
	EXPECT_EQ(HRSERVO_RT_DEFAULT, hrservo_open_config_get_rt_priority(NULL));
}

TEST_HARNESS_MAIN
