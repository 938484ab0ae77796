// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's safety: the per-file watchdog and its failsafes (hold,
 * release, pose), on expiry, on close and on kill -9, also during a
 * trajectory; the e-stop latch across clients, and its input line (an
 * input of the loopback module's input chip that the test drives); the
 * record of played frames. Every failsafe is measured on the captured
 * pulses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000ULL
#define MS	1000000ULL
#define LB_INPUT	TL_LB_DIR "/input"

static int wd_arm(int fd, uint32_t ms, uint32_t action,
		  const struct hrservo_target *pose, uint32_t npose)
{
	struct hrservo_watchdog w = {
		.pose = (uintptr_t)pose,
		.timeout_ms = ms,
		.action = action,
		.npose = npose,
	};

	return ioctl(fd, HRSERVO_IOC_WATCHDOG, &w) ? -errno : 0;
}

static int keepalive(int fd)
{
	return ioctl(fd, HRSERVO_IOC_KEEPALIVE) ? -errno : 0;
}

static int estop_op(int fd, uint32_t op, uint32_t action,
		    struct hrservo_estop *out)
{
	struct hrservo_estop e = { .op = op, .action = action };
	int ret = ioctl(fd, HRSERVO_IOC_ESTOP, &e) ? -errno : 0;

	if (out)
		*out = e;
	return ret;
}

/* Wait for an event of @type, up to @ms; 0 with *ev, or -ETIMEDOUT. */
static int wait_event(int fd, uint32_t type, int ms, struct hrservo_event *ev)
{
	uint64_t end = tl_now() + (uint64_t)ms * MS;

	while (tl_now() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (read(fd, ev, sizeof(*ev)) == sizeof(*ev)) {
			if (ev->type == type)
				return 0;
			continue;
		}
		poll(&p, 1, 10);
	}
	return -ETIMEDOUT;
}

static void drain_events(int fd)
{
	struct hrservo_event ev;

	while (read(fd, &ev, sizeof(ev)) == sizeof(ev))
		;
}

static int open_ctrl(const struct tl_ctrl *c, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/%s", c->name);
	return open(path, flags | O_NONBLOCK);
}

/* The pulses of channel @ch in the capture so far (consumed). */
static size_t pulses(const struct tl_ctrl *c, unsigned int ch,
		     struct tl_pulse *p, size_t max)
{
	struct tl_edge *e;
	size_t n = tl_capture(&e), np;

	np = tl_pulses(e, n, c->first_line + ch, p, max);
	free(e);
	return np;
}

static uint64_t diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

FIXTURE(wd) {
	struct tl_ctrl c;
};

FIXTURE_SETUP(wd)
{
	ASSERT_EQ(0, tl_create(&self->c, 0, 4));
	ASSERT_EQ(0, fcntl(self->c.fd, F_SETFL, O_NONBLOCK));
}

FIXTURE_TEARDOWN(wd)
{
	EXPECT_EQ(0, tl_destroy(&self->c));
}

TEST_F(wd, bad_arguments_change_nothing)
{
	struct hrservo_target pose[2] = { { 1, 1500 * US }, { 1, 1600 * US } };
	struct hrservo_target far = { 2, 100 * US };
	struct hrservo_target none = { 63, 1500 * US };
	struct hrservo_watchdog w = { .timeout_ms = 100 };
	char buf[32];
	int ro;

	EXPECT_EQ(-EINVAL, wd_arm(self->c.fd, 9, HRSERVO_FAILSAFE_HOLD,
				  NULL, 0));
	EXPECT_EQ(-EINVAL, wd_arm(self->c.fd, 60001, HRSERVO_FAILSAFE_HOLD,
				  NULL, 0));
	EXPECT_EQ(-EINVAL, wd_arm(self->c.fd, 100, 3, NULL, 0));
	/* A pose with POSE and only then, each channel once, in range. */
	EXPECT_EQ(-EINVAL, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_POSE,
				  NULL, 0));
	EXPECT_EQ(-EINVAL, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_HOLD,
				  pose, 1));
	EXPECT_EQ(-EINVAL, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_POSE,
				  pose, 2));
	EXPECT_EQ(-EINVAL, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_POSE,
				  &none, 1));
	EXPECT_EQ(-EINVAL, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_POSE,
				  pose, 5));
	EXPECT_EQ(-ERANGE, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_POSE,
				  &far, 1));
	EXPECT_EQ(-EFAULT, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_POSE,
				  (void *)8, 1));
	w.flags = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_WATCHDOG, &w));
	EXPECT_EQ(EINVAL, errno);
	w.flags = 0;
	w.padding[3] = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_WATCHDOG, &w));
	EXPECT_EQ(EINVAL, errno);
	/* Keep-alive needs an armed watchdog; both need a writable file. */
	EXPECT_EQ(-EINVAL, keepalive(self->c.fd));
	ro = open_ctrl(&self->c, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, wd_arm(ro, 100, HRSERVO_FAILSAFE_HOLD, NULL, 0));
	EXPECT_EQ(-EBADF, keepalive(ro));
	close(ro);

	/* Nothing was armed: no watchdog, and closing runs no failsafe. */
	ASSERT_EQ(0, tl_attr(&self->c, "watchdogs", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	tl_sleep_ns(200 * MS);
	ASSERT_EQ(0, tl_attr(&self->c, "watchdog_fired", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, tl_attr(&self->c, "channel0/enable", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);

	/* Arm, count, disarm: disarming runs no failsafe either. */
	ASSERT_EQ(0, wd_arm(self->c.fd, 50, HRSERVO_FAILSAFE_RELEASE, NULL, 0));
	ASSERT_EQ(0, tl_attr(&self->c, "watchdogs", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(0, keepalive(self->c.fd));
	ASSERT_EQ(0, wd_arm(self->c.fd, 0, HRSERVO_FAILSAFE_HOLD, NULL, 0));
	ASSERT_EQ(0, tl_attr(&self->c, "watchdogs", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	tl_sleep_ns(150 * MS);
	ASSERT_EQ(0, tl_attr(&self->c, "watchdog_fired", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, tl_attr(&self->c, "channel0/enable", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
}

/*
 * Keep-alives hold the watchdog off; without them it releases within one
 * frame of the timeout, and a target through the file counts as one.
 */
TEST_F(wd, expiry_releases)
{
	struct hrservo_event ev;
	struct tl_pulse p[256];
	uint64_t last_pet, deadline, last_rise = 0;
	size_t np;
	char buf[32];

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1200 * US));
	ASSERT_EQ(0, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_RELEASE,
			    NULL, 0));
	tl_capture_clear();
	drain_events(self->c.fd);
	/* 240 ms of targets only, then 240 ms of keep-alives only. */
	for (int i = 0; i < 12; i++) {
		tl_sleep_ns(40 * MS);
		if (i >= 6) {
			ASSERT_EQ(0, keepalive(self->c.fd));
		} else {
			ASSERT_EQ(0, tl_set1(self->c.fd, 0, (1500 + i) * US));
		}
	}
	last_pet = tl_now();
	deadline = last_pet + 100 * MS;
	ASSERT_EQ(0, wait_event(self->c.fd, HRSERVO_EVENT_WATCHDOG, 2000,
				&ev));
	EXPECT_EQ(HRSERVO_WD_EXPIRED, ev.value);
	EXPECT_EQ(3, ev.mask);
	/* Not before the timeout. */
	EXPECT_LE(deadline, ev.timestamp_ns);
	tl_sleep_ns(3 * TL_FRAME_NS);

	np = pulses(&self->c, 0, p, 256);
	ASSERT_GT(np, 10);
	/* Pulses all along the keep-alives: no frame missing before. */
	for (size_t i = 1; i < np; i++) {
		EXPECT_LE(p[i].rise - p[i - 1].rise, TL_FRAME_NS + 2 * MS);
		last_rise = p[i].rise;
	}
	EXPECT_NE(0, p[np - 1].width);
	TH_LOG("last keep-alive to last rise: %.1f ms (timeout 100 ms, frame 20 ms)",
	       (double)(last_rise - last_pet) / MS);
	/* The last pulse starts at most one frame after the timeout. */
	EXPECT_LE(last_rise, deadline + TL_FRAME_NS + tl_tolerance_ns());
	EXPECT_GE(last_rise + TL_FRAME_NS + 2 * MS, deadline);
	ASSERT_EQ(0, tl_attr(&self->c, "channel1/enable", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, tl_attr(&self->c, "watchdog_fired", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	/* Still armed: the next target starts the timeout anew. */
	ASSERT_EQ(0, tl_attr(&self->c, "watchdogs", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(0, keepalive(self->c.fd));
}

/* A client whose every request fails is not kept alive by them. */
TEST_F(wd, failing_requests_do_not_keep_alive)
{
	struct hrservo_event ev;
	uint64_t t0;
	int fired = 0;

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	drain_events(self->c.fd);
	ASSERT_EQ(0, wd_arm(self->c.fd, 100, HRSERVO_FAILSAFE_HOLD, NULL, 0));
	t0 = tl_now();
	while (tl_now() - t0 < 400 * MS && !fired) {
		EXPECT_EQ(-ERANGE, tl_set1(self->c.fd, 0, 100 * US));
		EXPECT_EQ(-EINVAL, tl_release(self->c.fd, 1ULL << 40));
		tl_sleep_ns(20 * MS);
		fired = !wait_event(self->c.fd, HRSERVO_EVENT_WATCHDOG, 1, &ev);
	}
	EXPECT_TRUE(fired);
}

/* At most HRSERVO_WD_ARMED_MAX (16) armed watchdogs per controller. */
TEST_F(wd, armed_at_most_16)
{
	int fd[17];

	for (int i = 0; i < 17; i++) {
		fd[i] = open_ctrl(&self->c, O_RDWR);
		ASSERT_LE(0, fd[i]);
	}
	for (int i = 0; i < 16; i++)
		EXPECT_EQ(0, wd_arm(fd[i], 60000, HRSERVO_FAILSAFE_HOLD,
				    NULL, 0));
	EXPECT_EQ(-EBUSY, wd_arm(fd[16], 60000, HRSERVO_FAILSAFE_HOLD,
				 NULL, 0));
	/* Re-arming an armed one is no new watchdog. */
	EXPECT_EQ(0, wd_arm(fd[3], 50000, HRSERVO_FAILSAFE_RELEASE, NULL, 0));
	EXPECT_EQ(0, wd_arm(fd[0], 0, HRSERVO_FAILSAFE_HOLD, NULL, 0));
	EXPECT_EQ(0, wd_arm(fd[16], 60000, HRSERVO_FAILSAFE_HOLD, NULL, 0));
	for (int i = 0; i < 17; i++)
		close(fd[i]);
}

/* HOLD stops a ramp where it is and keeps the pulse. */
TEST_F(wd, expiry_holds)
{
	struct hrservo_limits l = { .channel = 2, .min_ns = 500 * US,
				    .max_ns = 2500 * US,
				    .max_speed_ns_per_s = 1000 * US };
	struct hrservo_channel_state st;
	struct hrservo_event ev;
	struct tl_pulse p[256];
	size_t np, held = 0;
	uint64_t t_exp;

	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	drain_events(self->c.fd);
	/* 1000 -> 2000 us at 1000 us/s: a 1 s ramp, stopped after 0.2 s. */
	ASSERT_EQ(0, wd_arm(self->c.fd, 200, HRSERVO_FAILSAFE_HOLD, NULL, 0));
	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 2000 * US));
	tl_capture_clear();
	ASSERT_EQ(0, wait_event(self->c.fd, HRSERVO_EVENT_WATCHDOG, 2000,
				&ev));
	t_exp = ev.timestamp_ns;
	tl_sleep_ns(400 * MS);
	ASSERT_EQ(0, tl_state(self->c.fd, 2, &st));
	EXPECT_TRUE(st.flags & HRSERVO_STATE_ENABLED);
	EXPECT_LT(st.target_ns, 1400 * US);
	EXPECT_GT(st.target_ns, 1100 * US);

	np = pulses(&self->c, 2, p, 256);
	ASSERT_GT(np, 20);
	for (size_t i = 0; i < np; i++) {
		if (p[i].rise < t_exp + TL_FRAME_NS || !p[i].width)
			continue;
		held++;
		EXPECT_LE(diff(p[i].width, st.target_ns), tl_tolerance_ns());
	}
	/* It went on pulsing, at the hold width, to the end. */
	EXPECT_GT(held, 15);
	TH_LOG("held at %u ns after a ramp of 200 ms at 1000 us/s",
	       st.target_ns);
}

/* POSE: the pose's channels go there within their limits; others hold. */
TEST_F(wd, expiry_goes_to_pose)
{
	struct hrservo_limits l = { .channel = 1, .min_ns = 500 * US,
				    .max_ns = 2500 * US,
				    .max_speed_ns_per_s = 2000 * US };
	struct hrservo_target pose = { 1, 2000 * US };
	struct hrservo_event ev;
	struct tl_pulse p[256];
	struct tl_edge *e;
	size_t n, np, at_pose = 0;

	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1300 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	tl_capture_clear();
	drain_events(self->c.fd);
	ASSERT_EQ(0, wd_arm(self->c.fd, 50, HRSERVO_FAILSAFE_POSE, &pose, 1));
	ASSERT_EQ(0, wait_event(self->c.fd, HRSERVO_EVENT_WATCHDOG, 2000,
				&ev));
	/* 1000 us at 2000 us/s: 0.5 s; then it holds. */
	tl_sleep_ns(900 * MS);

	n = tl_capture(&e);
	np = tl_pulses(e, n, self->c.first_line + 1, p, 256);
	ASSERT_GT(np, 30);
	for (size_t i = 1; i < np; i++) {
		if (!p[i].width || !p[i - 1].width)
			continue;
		/* 2000 us/s: at most 40 us per 20 ms frame. */
		EXPECT_LE(p[i].width, p[i - 1].width + 40 * US +
			  tl_tolerance_ns());
		EXPECT_GE(p[i].width + tl_tolerance_ns(), p[i - 1].width);
		if (diff(p[i].width, 2000 * US) <= tl_tolerance_ns())
			at_pose++;
	}
	EXPECT_GT(at_pose, 10);
	/* Channel 0 is not in the pose: it holds. */
	np = tl_pulses(e, n, self->c.first_line, p, 256);
	free(e);
	ASSERT_GT(np, 30);
	for (size_t i = 0; i < np; i++)
		if (p[i].width)
			EXPECT_LE(diff(p[i].width, 1300 * US),
				  tl_tolerance_ns());
}

/* Closing the armed file, or the process dying, runs the failsafe. */
TEST_F(wd, kill_runs_failsafe)
{
	struct hrservo_event ev;
	struct tl_pulse p[256];
	uint64_t t_kill, last = 0;
	int ready[2], status;
	size_t np;
	pid_t pid;
	char b;

	ASSERT_EQ(0, pipe(ready));
	drain_events(self->c.fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open_ctrl(&self->c, O_RDWR);

		if (fd < 0 || tl_set1(fd, 3, 1700 * US) ||
		    wd_arm(fd, 10000, HRSERVO_FAILSAFE_RELEASE, NULL, 0))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(ready[0], &b, 1));
	tl_sleep_ns(5 * TL_FRAME_NS);
	tl_capture_clear();
	tl_sleep_ns(3 * TL_FRAME_NS);
	t_kill = tl_now();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, wait_event(self->c.fd, HRSERVO_EVENT_WATCHDOG, 2000,
				&ev));
	EXPECT_EQ(HRSERVO_WD_CLOSED, ev.value);
	EXPECT_EQ(1ULL << 3, ev.mask);
	tl_sleep_ns(3 * TL_FRAME_NS);

	np = pulses(&self->c, 3, p, 256);
	ASSERT_GT(np, 1);
	for (size_t i = 0; i < np; i++) {
		EXPECT_NE(0, p[i].width);	/* none cut short */
		last = p[i].rise;
	}
	TH_LOG("kill -9 to last rise: %.1f ms; to the failsafe event: %.1f ms",
	       ((double)last - (double)t_kill) / MS,
	       ((double)ev.timestamp_ns - (double)t_kill) / MS);
	EXPECT_LE(last, ev.timestamp_ns + TL_FRAME_NS + tl_tolerance_ns());
	close(ready[0]);
	close(ready[1]);
}

/* The watchdog stops a trajectory as TRAJ_STOP does. */
TEST_F(wd, fires_during_trajectory)
{
	struct hrservo_segment seg = {
		.duration_ns = 2000 * MS, .mask = 1, .flags = HRSERVO_SEG_LAST,
	};
	int64_t c[6] = { (int64_t)(1000 * US) << 16,
			 (int64_t)(1000 * US) << 16 };
	struct hrservo_traj req = {
		.segments = (uintptr_t)&seg, .coefs = (uintptr_t)c,
		.count = 1, .ncoefs = 6,
	};
	struct hrservo_traj_status ts;
	struct hrservo_channel_state st;
	struct hrservo_event ev;
	struct tl_pulse p[256];
	size_t np, after = 0;

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	drain_events(self->c.fd);
	ASSERT_EQ(0, wd_arm(self->c.fd, 300, HRSERVO_FAILSAFE_HOLD, NULL, 0));
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_TRAJ_SUBMIT, &req));
	tl_capture_clear();
	ASSERT_EQ(0, wait_event(self->c.fd, HRSERVO_EVENT_WATCHDOG, 3000,
				&ev));
	tl_sleep_ns(300 * MS);
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_TRAJ_STATUS, &ts));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, ts.state);
	EXPECT_EQ(0, ts.axes);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	/* 500 us/s for about 0.3 s. */
	EXPECT_GT(st.target_ns, 1100 * US);
	EXPECT_LT(st.target_ns, 1250 * US);
	np = pulses(&self->c, 0, p, 256);
	for (size_t i = 0; i < np; i++) {
		if (p[i].rise < ev.timestamp_ns + TL_FRAME_NS || !p[i].width)
			continue;
		after++;
		EXPECT_LE(diff(p[i].width, st.target_ns), tl_tolerance_ns());
	}
	EXPECT_GT(after, 8);
}

FIXTURE(es) {
	struct tl_ctrl c;
	int fd2;
};

FIXTURE_SETUP(es)
{
	ASSERT_EQ(0, tl_create(&self->c, 8, 4));
	ASSERT_EQ(0, fcntl(self->c.fd, F_SETFL, O_NONBLOCK));
	self->fd2 = open_ctrl(&self->c, O_RDWR);
	ASSERT_LE(0, self->fd2);
}

FIXTURE_TEARDOWN(es)
{
	close(self->fd2);
	EXPECT_EQ(0, tl_destroy(&self->c));
}

TEST_F(es, latch_holds_across_clients)
{
	struct hrservo_segment seg = {
		.duration_ns = 100 * MS, .mask = 1, .flags = HRSERVO_SEG_LAST,
	};
	int64_t c[6] = { (int64_t)(1500 * US) << 16 };
	struct hrservo_traj req = {
		.segments = (uintptr_t)&seg, .coefs = (uintptr_t)c,
		.count = 1, .ncoefs = 6,
	};
	struct hrservo_limits l = { .channel = 1, .min_ns = 600 * US,
				    .max_ns = 2400 * US };
	struct hrservo_estop st;
	struct hrservo_event ev;
	struct tl_pulse p[64];
	char buf[32];
	uint64_t t0;
	size_t np;

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, estop_op(self->fd2, HRSERVO_ESTOP_GET, 0, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(0, st.source);
	drain_events(self->fd2);

	t0 = tl_now();
	ASSERT_EQ(0, estop_op(self->c.fd, HRSERVO_ESTOP_TRIP,
			      HRSERVO_FAILSAFE_HOLD, &st));
	EXPECT_EQ(HRSERVO_ESTOP_LATCHED, st.flags);
	EXPECT_EQ(HRSERVO_ESTOP_SRC_USER, st.source);
	EXPECT_LE(t0, st.tripped_ns);
	ASSERT_EQ(0, wait_event(self->fd2, HRSERVO_EVENT_ESTOP, 1000, &ev));
	EXPECT_EQ(HRSERVO_ESTOP_SRC_USER, ev.value);
	EXPECT_EQ(3, ev.mask);

	/* Nothing moves, from any client or sysfs. */
	EXPECT_EQ(-EPERM, tl_set1(self->fd2, 0, 1600 * US));
	EXPECT_EQ(-EPERM, tl_set1(self->c.fd, 2, 1600 * US));
	EXPECT_EQ(-EPERM, tl_set_attr(&self->c, "channel0/target_ns",
				      "1700000"));
	EXPECT_EQ(-1, ioctl(self->fd2, HRSERVO_IOC_TRAJ_SUBMIT, &req));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, tl_attr(&self->c, "estop", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	/* Tripping again with HOLD changes nothing. */
	ASSERT_EQ(0, estop_op(self->fd2, HRSERVO_ESTOP_TRIP,
			      HRSERVO_FAILSAFE_HOLD, &st));
	ASSERT_EQ(0, tl_attr(&self->c, "channel0/enable", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	/* The held pulses go on; releases and limits still work. */
	tl_capture_clear();
	tl_sleep_ns(5 * TL_FRAME_NS);
	np = pulses(&self->c, 0, p, 64);
	EXPECT_GE(np, 3);
	for (size_t i = 0; i < np; i++)
		if (p[i].width)
			EXPECT_LE(diff(p[i].width, 1500 * US),
				  tl_tolerance_ns());
	EXPECT_EQ(0, ioctl(self->fd2, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(0, tl_release(self->fd2, 2));
	ASSERT_EQ(0, tl_attr(&self->c, "channel1/enable", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);

	/* Cleared by another client: nothing moves until asked. */
	drain_events(self->c.fd);
	ASSERT_EQ(0, estop_op(self->fd2, HRSERVO_ESTOP_CLEAR, 0, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(HRSERVO_ESTOP_SRC_USER, st.source);
	ASSERT_EQ(0, wait_event(self->c.fd, HRSERVO_EVENT_ESTOP, 1000, &ev));
	EXPECT_EQ(0, ev.value);
	EXPECT_EQ(0, ev.mask);
	EXPECT_EQ(0, tl_set1(self->fd2, 0, 1600 * US));
	EXPECT_EQ(0, tl_set_attr(&self->c, "channel1/enable", "1"));
	/* Clearing a clear latch is no error. */
	EXPECT_EQ(0, estop_op(self->fd2, HRSERVO_ESTOP_CLEAR, 0, NULL));
}

/*
 * A channel given its first target in the frame of the trip has emitted
 * nothing: it gets no pulse, rather than one that jumps to its target.
 */
TEST_F(es, trip_before_first_pulse)
{
	struct hrservo_event ev;
	struct tl_pulse p[64];
	char buf[32];

	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1500 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	tl_capture_clear();
	drain_events(self->fd2);
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 2000 * US));
	ASSERT_EQ(0, estop_op(self->c.fd, HRSERVO_ESTOP_TRIP,
			      HRSERVO_FAILSAFE_HOLD, NULL));
	tl_sleep_ns(3 * TL_FRAME_NS);
	EXPECT_EQ(0, pulses(&self->c, 0, p, 64));
	ASSERT_EQ(0, tl_attr(&self->c, "channel0/enable", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, tl_attr(&self->c, "channel1/enable", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_EQ(0, wait_event(self->fd2, HRSERVO_EVENT_ESTOP, 1000, &ev));
	EXPECT_EQ(3, ev.mask);

	/* A release trip of a latch that holds releases. */
	ASSERT_EQ(0, estop_op(self->fd2, HRSERVO_ESTOP_TRIP,
			      HRSERVO_FAILSAFE_RELEASE, NULL));
	ASSERT_EQ(0, tl_attr(&self->c, "channel1/enable", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	EXPECT_EQ(0, estop_op(self->fd2, HRSERVO_ESTOP_CLEAR, 0, NULL));
}

TEST_F(es, bad_requests)
{
	struct hrservo_estop e = { .op = HRSERVO_ESTOP_GET };
	char buf[32];
	int ro;

	EXPECT_EQ(-EINVAL, estop_op(self->c.fd, 3, 0, NULL));
	EXPECT_EQ(-EINVAL, estop_op(self->c.fd, HRSERVO_ESTOP_TRIP,
				    HRSERVO_FAILSAFE_POSE, NULL));
	EXPECT_EQ(-EINVAL, estop_op(self->c.fd, HRSERVO_ESTOP_CLEAR, 1, NULL));
	EXPECT_EQ(-EINVAL, estop_op(self->c.fd, HRSERVO_ESTOP_GET, 1, NULL));
	/* Outputs are ignored on input: a GET's result may be reused. */
	e.flags = 1;
	e.tripped_ns = 1;
	EXPECT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_ESTOP, &e));
	EXPECT_EQ(0, e.flags);
	e.padding[0] = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_ESTOP, &e));
	EXPECT_EQ(EINVAL, errno);
	ro = open_ctrl(&self->c, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, estop_op(ro, HRSERVO_ESTOP_TRIP, 0, NULL));
	EXPECT_EQ(-EBADF, estop_op(ro, HRSERVO_ESTOP_CLEAR, 0, NULL));
	EXPECT_EQ(0, estop_op(ro, HRSERVO_ESTOP_GET, 0, NULL));
	close(ro);
	EXPECT_EQ(-EINVAL, tl_set_attr(&self->c, "estop", "2"));
	EXPECT_EQ(-EINVAL, tl_set_attr(&self->c, "estop_action", "pose"));
	/* None of it tripped the latch. */
	ASSERT_EQ(0, tl_attr(&self->c, "estop", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	EXPECT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
}

/* sysfs trips with estop_action; RELEASE: no pulse after the next frame. */
TEST_F(es, sysfs_release)
{
	struct tl_pulse p[64];
	uint64_t t_trip;
	char buf[32];
	size_t np;

	ASSERT_EQ(0, tl_attr(&self->c, "estop_action", buf, sizeof(buf)));
	EXPECT_STREQ("hold", buf);
	ASSERT_EQ(0, tl_set_attr(&self->c, "estop_action", "release"));
	ASSERT_EQ(0, tl_set1(self->c.fd, 3, 2000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	tl_capture_clear();
	tl_sleep_ns(2 * TL_FRAME_NS);
	t_trip = tl_now();
	ASSERT_EQ(0, tl_set_attr(&self->c, "estop", "1"));
	tl_sleep_ns(3 * TL_FRAME_NS);
	np = pulses(&self->c, 3, p, 64);
	ASSERT_GT(np, 0);
	EXPECT_LT(p[np - 1].rise, t_trip + TL_FRAME_NS);
	EXPECT_NE(0, p[np - 1].width);
	ASSERT_EQ(0, tl_attr(&self->c, "channel3/enable", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, tl_set_attr(&self->c, "estop", "0"));
	ASSERT_EQ(0, tl_attr(&self->c, "estop_input", buf, sizeof(buf)));
	EXPECT_STREQ("none", buf);
}

static int lb_input(unsigned int line, int level)
{
	char s[16];

	snprintf(s, sizeof(s), "%u %d", line, level);
	return tl_write(LB_INPUT, s);
}

/* The edge time of input @line, from the loopback module. */
static uint64_t lb_edge_ns(unsigned int line)
{
	char buf[256], *p = buf;
	unsigned int l, lv;
	unsigned long long t;
	int n;

	if (tl_read(LB_INPUT, buf, sizeof(buf)) < 0)
		return 0;
	while (sscanf(p, "%u %u %llu%n", &l, &lv, &t, &n) == 3) {
		if (l == line)
			return t;
		p += n;
	}
	return 0;
}

/*
 * A controller on lines 16..19 whose e-stop input is line @in of the input
 * chip: hrservo-gpio through new_device, hrservo-pca9685 through a GPIO
 * lookup for its I2C device (as device tree's estop-gpios would).
 */
static int create_with_estop(struct tl_ctrl *c, unsigned int in)
{
	char spec[96];
	int ret;

	if (tl_backend() == TL_GPIO) {
		snprintf(spec, sizeof(spec), TL_LB_LABEL
			 " 16-19 estop=hrservo-loopback-in:%u", in);
		ret = tl_create_spec(c, spec);
		c->first_line = 16;
		return ret;
	}
	snprintf(spec, sizeof(spec), "%d-%04x %u", tl_i2c_bus(),
		 TL_PCA_ADDR + 1, in);
	ret = tl_write(TL_LB_DIR "/estop_dev", spec);
	return ret ? ret : tl_create(c, 16, 4);
}

/* The e-stop button trips the latch from its interrupt. */
TEST(estop_input)
{
	struct tl_pulse p[64];
	struct hrservo_estop st;
	struct tl_ctrl c;
	uint64_t edge, last;
	char buf[32];
	size_t np;

	ASSERT_EQ(0, lb_input(0, 0));
	ASSERT_EQ(0, create_with_estop(&c, 0));
	ASSERT_EQ(0, tl_attr(&c, "estop_input", buf, sizeof(buf)));
	EXPECT_STREQ("inactive", buf);
	ASSERT_EQ(0, tl_set_attr(&c, "estop_action", "release"));
	ASSERT_EQ(0, tl_set1(c.fd, 0, 1500 * US));
	ASSERT_EQ(0, tl_set1(c.fd, 2, 1100 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	tl_capture_clear();
	tl_sleep_ns(2 * TL_FRAME_NS + 7 * MS);
	ASSERT_EQ(0, lb_input(0, 1));
	edge = lb_edge_ns(0);
	ASSERT_NE(0, edge);
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, estop_op(c.fd, HRSERVO_ESTOP_GET, 0, &st));
	EXPECT_EQ(HRSERVO_ESTOP_LATCHED | HRSERVO_ESTOP_INPUT |
		  HRSERVO_ESTOP_INPUT_ACTIVE, st.flags);
	EXPECT_EQ(HRSERVO_ESTOP_SRC_INPUT, st.source);
	TH_LOG("edge to latch: %.3f ms", ((double)st.tripped_ns - edge) / MS);
	np = pulses(&c, 0, p, 64);
	ASSERT_GT(np, 0);
	last = p[np - 1].rise + p[np - 1].width;
	TH_LOG("edge to the end of the last pulse: %.3f ms (its rise %.3f ms before the edge)",
	       ((double)last - edge) / MS, ((double)edge - p[np - 1].rise) / MS);
	/* At most the pulse in progress, at full width. */
	EXPECT_LT(p[np - 1].rise, edge);
	EXPECT_LE(diff(p[np - 1].width, tl_emitted_ns(&c, 1500 * US)),
		  tl_tolerance_ns());
	EXPECT_EQ(-EPERM, tl_set1(c.fd, 0, 1500 * US));

	/* Held down: no clear. Let go: clear. */
	EXPECT_EQ(-EBUSY, estop_op(c.fd, HRSERVO_ESTOP_CLEAR, 0, NULL));
	EXPECT_EQ(-EBUSY, tl_set_attr(&c, "estop", "0"));
	ASSERT_EQ(0, lb_input(0, 0));
	tl_sleep_ns(5 * MS);
	ASSERT_EQ(0, tl_attr(&c, "estop_input", buf, sizeof(buf)));
	EXPECT_STREQ("inactive", buf);
	ASSERT_EQ(0, tl_attr(&c, "estop", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(0, estop_op(c.fd, HRSERVO_ESTOP_CLEAR, 0, NULL));
	EXPECT_EQ(0, tl_set1(c.fd, 0, 1500 * US));
	EXPECT_EQ(0, tl_destroy(&c));

	/* Pressed when the controller comes: it comes latched. */
	ASSERT_EQ(0, lb_input(1, 1));
	ASSERT_EQ(0, create_with_estop(&c, 1));
	ASSERT_EQ(0, tl_attr(&c, "estop", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(-EPERM, tl_set1(c.fd, 0, 1500 * US));
	EXPECT_EQ(0, tl_destroy(&c));
	ASSERT_EQ(0, lb_input(1, 0));
	if (tl_backend() != TL_GPIO) {
		/* No other I2C device gets the line. */
		EXPECT_EQ(0, tl_write(TL_LB_DIR "/estop_dev", "none 0"));
		return;
	}

	/* Active low: a button that pulls the line low. */
	ASSERT_EQ(0, lb_input(2, 1));
	ASSERT_EQ(0, tl_create_spec(&c, TL_LB_LABEL
				    " 16 estop=hrservo-loopback-in:2:low"));
	ASSERT_EQ(0, tl_attr(&c, "estop", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, lb_input(2, 0));
	tl_sleep_ns(5 * MS);
	ASSERT_EQ(0, tl_attr(&c, "estop", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_EQ(0, lb_input(2, 1));
	EXPECT_EQ(0, tl_destroy(&c));

	/* A bad option creates nothing. */
	tl_log_expect("new_device: ");
	EXPECT_EQ(-EINVAL, tl_write(TL_GPIO_DRV "/new_device",
				    TL_LB_LABEL " 16 estop=nochip"));
	EXPECT_EQ(-ENODEV, tl_write(TL_GPIO_DRV "/new_device",
				    TL_LB_LABEL " 16 estop=nochip:1"));
	EXPECT_EQ(-ENODEV, tl_write(TL_GPIO_DRV "/new_device",
				    TL_LB_LABEL " 16 estop=hrservo-loopback-in:9"));
	tl_log_expect_end("new_device: ");
}

/* The frame record: every frame, its start and the widths it emitted. */
TEST_F(es, frame_record)
{
	struct hrservo_frame *fr = calloc(HRSERVO_FRAMES_MAX, sizeof(*fr));
	struct hrservo_frames req = { .frames = (uintptr_t)fr };
	struct tl_pulse p[64];
	uint64_t first;
	size_t np, matched = 0;
	int changes = 0;

	ASSERT_TRUE(fr != NULL);
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_capture_clear();
	for (int i = 1; i <= 4; i++) {
		tl_sleep_ns(2 * TL_FRAME_NS);
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, (1000 + 100 * i) * US));
	}
	tl_sleep_ns(2 * TL_FRAME_NS);
	np = pulses(&self->c, 0, p, 64);
	ASSERT_GT(np, 8);

	/* The newest frames: ask from a frame before the capture. */
	req.count = HRSERVO_FRAMES_MAX;
	req.seq = 0;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_FRAMES, &req));
	ASSERT_GT(req.count, 0);
	EXPECT_EQ(1, req.oldest);
	EXPECT_EQ(1, fr[0].seq);
	EXPECT_EQ(req.next_seq, fr[req.count - 1].seq + 1);
	first = fr[0].seq;
	for (unsigned int k = 0; k < req.count; k++) {
		EXPECT_EQ(first + k, fr[k].seq);
		EXPECT_EQ(TL_FRAME_NS, fr[k].period_ns);
		if (k)
			EXPECT_EQ(fr[k - 1].start_ns + fr[k - 1].period_ns,
				  fr[k].start_ns);
		EXPECT_EQ(fr[k].pulse_ns[0] ? 1 : 0, fr[k].active);
		if (k && fr[k].pulse_ns[0] != fr[k - 1].pulse_ns[0])
			changes++;
		for (unsigned int c = 1; c < HRSERVO_CHANNELS_MAX; c++)
			ASSERT_EQ(0, fr[k].pulse_ns[c]);
		/* The captured pulse of that frame has the recorded width. */
		for (size_t i = 0; i < np; i++) {
			if (p[i].rise < fr[k].start_ns ||
			    p[i].rise >= fr[k].start_ns + fr[k].period_ns ||
			    !p[i].width)
				continue;
			matched++;
			EXPECT_LE(diff(p[i].width, fr[k].pulse_ns[0]),
				  tl_tolerance_ns());
		}
	}
	EXPECT_EQ(4, changes);
	EXPECT_GE(matched + 1, np);

	/* Nothing newer yet: count 0, next_seq unchanged. */
	req.seq = fr[req.count - 1].seq + 1000;
	req.count = 4;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_FRAMES, &req));
	EXPECT_EQ(0, req.count);
	EXPECT_EQ(req.seq, req.next_seq);

	req.count = 0;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_FRAMES, &req));
	EXPECT_EQ(EINVAL, errno);
	req.count = HRSERVO_FRAMES_MAX + 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_FRAMES, &req));
	EXPECT_EQ(EINVAL, errno);
	req.count = 1;
	req.padding = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_FRAMES, &req));
	EXPECT_EQ(EINVAL, errno);
	req.padding = 0;
	req.seq = 1;
	req.frames = 8;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_FRAMES, &req));
	EXPECT_EQ(EFAULT, errno);
	free(fr);
}

/* Frames older than the last HRSERVO_FRAMES_KEPT are gone. */
TEST_F(es, frame_record_keeps_the_last)
{
	struct hrservo_frame fr[2];
	struct hrservo_frames req = { .frames = (uintptr_t)fr, .count = 2,
				      .seq = 1 };
	char path[160];
	long a, b;

	ASSERT_EQ(0, tl_set_attr(&self->c, "frame_period_ns", "5000000"));
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1000 * US));
	tl_sleep_ns((HRSERVO_FRAMES_KEPT + 100) * 5 * MS);
	snprintf(path, sizeof(path), "%s/frame_count", self->c.sysfs);
	a = tl_read_u64(path);
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_FRAMES, &req));
	b = tl_read_u64(path);
	ASSERT_EQ(2, req.count);
	EXPECT_GT(req.oldest, 1);
	EXPECT_LE(a - HRSERVO_FRAMES_KEPT + 1, req.oldest);
	EXPECT_GE(b - HRSERVO_FRAMES_KEPT + 1, req.oldest);
	EXPECT_EQ(req.oldest, fr[0].seq);
	EXPECT_EQ(fr[0].seq + 2, req.next_seq);
	EXPECT_EQ(5000000, fr[1].period_ns);
}

TEST_HARNESS_MAIN
