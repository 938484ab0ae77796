// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel trajectory player, measured on the loopback chip against a
 * reference evaluated here in double precision: segments, axes switching
 * together, append, replace, underrun, clamping by the limits, the memory
 * limit, stop, and playback after the uploader dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U
#define MS	1000000ULL
#define MAXP	512

/* One axis of a segment: polynomial in u in [0, 1), in ns. */
struct axis {
	unsigned int ch;
	double c[6];
};

struct seg {
	uint64_t duration_ns;
	uint32_t flags;
	unsigned int naxes;
	struct axis ax[4];
};

static double eval(const struct axis *a, double u)
{
	double r = 0, p = 1;

	for (int k = 0; k < 6; k++, p *= u)
		r += a->c[k] * p;
	return r;
}

static struct axis linear(unsigned int ch, double from_us, double to_us)
{
	return (struct axis){ ch, { from_us * 1e3, (to_us - from_us) * 1e3 } };
}

static struct axis min_jerk(unsigned int ch, double from_us, double to_us)
{
	double d = (to_us - from_us) * 1e3;

	return (struct axis){ ch, { from_us * 1e3, 0, 0, 10 * d, -15 * d,
				    6 * d } };
}

static struct axis hold(unsigned int ch, double at_us)
{
	return (struct axis){ ch, { at_us * 1e3 } };
}

/* Submit segments with @flags; returns 0 or -errno. */
static int submit_flags(int fd, const struct seg *s, unsigned int n,
			uint32_t mode, uint64_t at_ns, uint32_t flags)
{
	struct hrservo_segment ks[16];
	int64_t kc[16 * 4 * 6];
	unsigned int nc = 0;
	struct hrservo_traj req;

	memset(ks, 0, sizeof(ks));
	for (unsigned int i = 0; i < n; i++) {
		ks[i].duration_ns = s[i].duration_ns;
		ks[i].flags = s[i].flags;
		/* Coefficients go in increasing channel order. */
		for (unsigned int ch = 0; ch < 64; ch++) {
			for (unsigned int a = 0; a < s[i].naxes; a++) {
				if (s[i].ax[a].ch != ch)
					continue;
				ks[i].mask |= 1ULL << ch;
				for (int k = 0; k < 6; k++)
					kc[nc++] = llround(s[i].ax[a].c[k] *
							   65536.0);
			}
		}
	}
	memset(&req, 0, sizeof(req));
	req.segments = (uintptr_t)ks;
	req.coefs = (uintptr_t)kc;
	req.count = n;
	req.ncoefs = nc;
	req.mode = mode;
	req.at_ns = at_ns;
	req.flags = flags;
	return ioctl(fd, HRSERVO_IOC_TRAJ_SUBMIT, &req) ? -errno : 0;
}

/*
 * Submit segments; returns 0 or -errno. An APPEND may jump: these tests
 * start trajectories on channels never set. The continuity of APPEND has
 * tests of its own (append_*_joins, below).
 */
static int submit(int fd, const struct seg *s, unsigned int n, uint32_t mode,
		  uint64_t at_ns)
{
	return submit_flags(fd, s, n, mode, at_ns,
			    mode == HRSERVO_TRAJ_APPEND ? HRSERVO_TRAJ_JUMP : 0);
}

static int status(int fd, struct hrservo_traj_status *st)
{
	return ioctl(fd, HRSERVO_IOC_TRAJ_STATUS, st) ? -errno : 0;
}

static int stop(int fd)
{
	struct hrservo_traj_stop req = { 0 };

	return ioctl(fd, HRSERVO_IOC_TRAJ_STOP, &req) ? -errno : 0;
}

/* Wait for an event of @type, up to @ms; returns its mask, or -1. */
static int64_t wait_event(int fd, uint32_t type, int ms)
{
	uint64_t end = tl_now() + (uint64_t)ms * MS;
	struct hrservo_event ev;

	while (tl_now() < end) {
		if (read(fd, &ev, sizeof(ev)) == sizeof(ev)) {
			if (ev.type == type)
				return (int64_t)ev.mask;
			continue;
		}
		tl_sleep_ns(2 * MS);
	}
	return -1;
}

/* Reference position of one channel at time t for segments from t0. */
static double reference(const struct seg *s, unsigned int n, uint64_t t0,
			unsigned int ch, uint64_t t, double before)
{
	double pos = before;

	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int a = 0; a < s[i].naxes; a++) {
			if (s[i].ax[a].ch != ch)
				continue;
			if (t >= t0 + s[i].duration_ns)
				pos = eval(&s[i].ax[a], 1.0);
			else if (t >= t0)
				pos = eval(&s[i].ax[a],
					   (double)(t - t0) / s[i].duration_ns);
		}
		t0 += s[i].duration_ns;
	}
	return pos;
}

/*
 * Every pulse of @line from @t_from on matches the reference. Returns the
 * largest deviation, in ns.
 */
static double check_reference(struct __test_metadata *_metadata,
			      const struct tl_edge *e, size_t n, unsigned int line,
			      const struct seg *s, unsigned int ns, uint64_t t0,
			      unsigned int ch, uint64_t t_from, size_t min)
{
	double tol = 1000.0 + (double)tl_tolerance_ns();
	struct tl_pulse p[MAXP];
	size_t np = tl_pulses(e, n, line, p, MAXP), checked = 0;
	double worst = 0;

	for (size_t i = 0; i < np; i++) {
		double ref;

		if (!p[i].width || p[i].rise < t_from)
			continue;
		ref = reference(s, ns, t0, ch, p[i].rise, NAN);
		if (isnan(ref))
			continue;
		checked++;
		worst = fmax(worst, fabs((double)p[i].width - ref));
		EXPECT_LE(fabs((double)p[i].width - ref), tol) {
			TH_LOG("line %u pulse at +%.3f ms: %llu ns, reference %.0f",
			       line, (p[i].rise - t0) / 1e6,
			       (unsigned long long)p[i].width, ref);
		}
	}
	EXPECT_GE(checked, min);
	return worst;
}

FIXTURE(tr) {
	struct tl_ctrl c;
};

FIXTURE_SETUP(tr)
{
	ASSERT_EQ(0, tl_create(&self->c, 0, 4));
	ASSERT_EQ(0, fcntl(self->c.fd, F_SETFL, O_NONBLOCK));
	tl_capture_clear();
}

FIXTURE_TEARDOWN(tr)
{
	EXPECT_EQ(0, tl_destroy(&self->c));
}

/* Linear and minimum-jerk segments, then a hold: pulses = reference. */
TEST_F(tr, plays_reference)
{
	struct seg s[2] = {
		{ 200 * MS, 0, 2, { linear(0, 1000, 2000),
				    min_jerk(1, 1500, 1000) } },
		{ 100 * MS, HRSERVO_SEG_LAST, 2, { hold(0, 2000),
						   min_jerk(1, 1000, 1200) } },
	};
	struct hrservo_traj_status st;
	uint64_t t0 = tl_now() + 100 * MS;
	struct tl_edge *e;
	size_t n;

	ASSERT_EQ(0, submit(self->c.fd, s, 2, HRSERVO_TRAJ_APPEND, t0));
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_WAITING, st.state);
	EXPECT_EQ(2, st.depth);
	EXPECT_LT(0, st.file_bytes);
	EXPECT_EQ(3ULL, (uint64_t)wait_event(self->c.fd,
					     HRSERVO_EVENT_TRAJ_DONE, 2000));
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.file_bytes);
	EXPECT_EQ(2, st.segment);

	n = tl_capture(&e);
	check_reference(_metadata, e, n, 0, s, 2, t0, 0, 0, 16);
	check_reference(_metadata, e, n, 1, s, 2, t0, 1, 0, 16);
	/* Nothing before the start. */
	for (size_t i = 0; i < n; i++)
		EXPECT_GE(e[i].ts, t0);
	free(e);
}

/* All axes switch segments on the same frame. */
TEST_F(tr, axes_switch_together)
{
	struct seg s[2] = {
		{ 100 * MS, 0, 3, { hold(0, 1000), hold(1, 1100),
				    hold(3, 1200) } },
		{ 100 * MS, HRSERVO_SEG_LAST, 3, { hold(0, 2000),
						   hold(1, 2100),
						   hold(3, 2200) } },
	};
	struct tl_pulse p0[MAXP], p1[MAXP], p3[MAXP];
	struct tl_edge *e;
	size_t n, n0, n1, n3, i;

	ASSERT_EQ(0, submit(self->c.fd, s, 2, HRSERVO_TRAJ_APPEND, 0));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 2000));
	n = tl_capture(&e);
	n0 = tl_pulses(e, n, 0, p0, MAXP);
	n1 = tl_pulses(e, n, 1, p1, MAXP);
	n3 = tl_pulses(e, n, 3, p3, MAXP);
	ASSERT_EQ(n0, n1);
	ASSERT_EQ(n0, n3);
	for (i = 0; i < n0 && p0[i].width < 1500 * US; i++)
		;
	ASSERT_LT(i, n0);
	ASSERT_GT(i, 2);
	EXPECT_EQ(p0[i].rise, p1[i].rise);
	EXPECT_EQ(p0[i].rise, p3[i].rise);
	EXPECT_GT(p1[i].width, 2000 * US);
	EXPECT_GT(p3[i].width, 2100 * US);
	EXPECT_LT(p1[i - 1].width, 1200 * US);
	EXPECT_LT(p3[i - 1].width, 1300 * US);
	free(e);
}

/* An append while playing continues with no gap frame. */
TEST_F(tr, append_is_seamless)
{
	struct seg s[2] = {
		{ 200 * MS, 0, 1, { linear(2, 1000, 1400) } },
		{ 200 * MS, HRSERVO_SEG_LAST, 1, { linear(2, 1400, 1000) } },
	};
	struct tl_pulse p[MAXP];
	uint64_t t0 = tl_now() + 60 * MS;
	struct tl_edge *e;
	size_t n, np;

	ASSERT_EQ(0, submit(self->c.fd, &s[0], 1, HRSERVO_TRAJ_APPEND, t0));
	tl_sleep_ns(150 * MS);
	ASSERT_EQ(0, submit(self->c.fd, &s[1], 1, HRSERVO_TRAJ_APPEND, 0));
	/* APPEND while playing takes no start time. */
	EXPECT_EQ(-EINVAL, submit(self->c.fd, &s[1], 1, HRSERVO_TRAJ_APPEND,
				  tl_now() + 10 * MS));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 2000));
	n = tl_capture(&e);
	check_reference(_metadata, e, n, 2, s, 2, t0, 2, 0, 19);
	np = tl_pulses(e, n, 2, p, MAXP);
	for (size_t i = 1; i < np; i++)
		EXPECT_LE(p[i].rise - p[i - 1].rise,
			  TL_FRAME_NS + tl_tolerance_ns());
	free(e);
}

/*
 * An APPEND to an idle controller starts where each axis is, or it is
 * refused (-EDOM) and nothing moves; a channel with no position (never
 * set, or released) cannot start a trajectory without an explicit jump.
 */
TEST_F(tr, append_idle_joins)
{
	struct seg away = { 100 * MS, HRSERVO_SEG_LAST, 1, { hold(0, 1000) } };
	struct seg here = { 100 * MS, HRSERVO_SEG_LAST, 1,
			    { linear(0, 1500.5, 1400) } };
	struct seg fresh = { 100 * MS, HRSERVO_SEG_LAST, 1, { hold(3, 1500) } };
	struct hrservo_traj_status st;
	struct hrservo_channel_state cs;

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	EXPECT_EQ(-EDOM, submit_flags(self->c.fd, &away, 1,
				      HRSERVO_TRAJ_APPEND, 0, 0));
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &cs));
	EXPECT_EQ(1500 * US, cs.target_ns);
	EXPECT_EQ(-EDOM, submit_flags(self->c.fd, &fresh, 1,
				      HRSERVO_TRAJ_APPEND, 0, 0));
	/* Within the tolerance of where it is: accepted. */
	ASSERT_EQ(0, submit_flags(self->c.fd, &here, 1, HRSERVO_TRAJ_APPEND,
				  0, 0));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 2000));
	/* Asked for explicitly, the jump is made. */
	EXPECT_EQ(0, submit_flags(self->c.fd, &away, 1, HRSERVO_TRAJ_APPEND,
				  0, HRSERVO_TRAJ_JUMP));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 2000));
	tl_sleep_ns(2 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &cs));
	EXPECT_EQ(1000 * US, cs.target_ns);
	/* A released channel has no position any more. */
	ASSERT_EQ(0, tl_release(self->c.fd, 1));
	away.ax[0] = hold(0, 1000);
	EXPECT_EQ(-EDOM, submit_flags(self->c.fd, &away, 1,
				      HRSERVO_TRAJ_APPEND, 0, 0));
	/* REPLACE never jumps. */
	EXPECT_EQ(-EINVAL, submit_flags(self->c.fd, &here, 1,
					HRSERVO_TRAJ_REPLACE, 0,
					HRSERVO_TRAJ_JUMP));
}

/*
 * An APPEND while a trajectory is queued starts where the queue leaves
 * each axis; an axis the queue does not move starts where it is.
 */
TEST_F(tr, append_queued_joins)
{
	struct seg first = { 300 * MS, 0, 1, { linear(1, 1000, 1400) } };
	struct seg snap = { 100 * MS, HRSERVO_SEG_LAST, 1,
			    { linear(1, 1000, 1400) } };
	struct seg next = { 100 * MS, HRSERVO_SEG_LAST, 2,
			    { linear(1, 1400, 1200), hold(2, 1700) } };
	struct seg other = { 100 * MS, HRSERVO_SEG_LAST, 2,
			     { linear(1, 1400, 1200), hold(2, 1500) } };
	struct hrservo_traj_status st;

	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1000 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1700 * US));
	ASSERT_EQ(0, submit_flags(self->c.fd, &first, 1, HRSERVO_TRAJ_APPEND,
				  tl_now() + 100 * MS, 0));
	/* Channel 1 would jump from 1400 back to 1000 us. */
	EXPECT_EQ(-EDOM, submit_flags(self->c.fd, &snap, 1,
				      HRSERVO_TRAJ_APPEND, 0, 0));
	/* Channel 2 is at 1700 us, not 1500. */
	EXPECT_EQ(-EDOM, submit_flags(self->c.fd, &other, 1,
				      HRSERVO_TRAJ_APPEND, 0, 0));
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, submit_flags(self->c.fd, &next, 1, HRSERVO_TRAJ_APPEND,
				  0, 0));
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(2, st.depth);
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 3000));
}

/*
 * Inside one APPEND, a segment starts where the one before it left the
 * axis; an axis that first moves in a later segment starts where it is.
 */
TEST_F(tr, append_segments_join)
{
	struct seg gap[2] = {
		{ 100 * MS, 0, 1, { linear(1, 1000, 1200) } },
		{ 100 * MS, HRSERVO_SEG_LAST, 1, { linear(1, 1300, 1000) } },
	};
	struct seg late[2] = {
		{ 100 * MS, 0, 1, { linear(1, 1000, 1200) } },
		{ 100 * MS, HRSERVO_SEG_LAST, 2, { linear(1, 1200, 1000),
						   hold(2, 1600) } },
	};
	struct hrservo_traj_status st;

	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1000 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1700 * US));
	EXPECT_EQ(-EDOM, submit_flags(self->c.fd, gap, 2, HRSERVO_TRAJ_APPEND,
				      0, 0));
	/* Channel 2 is at 1700 us, its segment starts at 1600. */
	EXPECT_EQ(-EDOM, submit_flags(self->c.fd, late, 2, HRSERVO_TRAJ_APPEND,
				      0, 0));
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(0, st.depth);
	late[1].ax[1] = hold(2, 1700);
	EXPECT_EQ(0, submit_flags(self->c.fd, late, 2, HRSERVO_TRAJ_APPEND, 0,
				  0));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 2000));
	/* Asked for, the jump between segments is made. */
	EXPECT_EQ(0, submit_flags(self->c.fd, gap, 2, HRSERVO_TRAJ_APPEND, 0,
				  HRSERVO_TRAJ_JUMP));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 2000));
}

/*
 * After a REPLACE, an APPEND still starts where the queue leaves each
 * axis, also an axis that only segments before the splice move (the
 * segment playing then does not): not at its target of the moment.
 */
TEST_F(tr, append_after_replace_joins)
{
	struct seg q[2] = {
		{ 200 * MS, 0, 1, { linear(1, 1000, 1400) } },
		{ 1000 * MS, HRSERVO_SEG_LAST, 1, { hold(2, 1700) } },
	};
	struct seg neu = { 100 * MS, 0, 1, { hold(2, 1700) } };
	struct seg from_start = { 100 * MS, HRSERVO_SEG_LAST, 1,
				  { linear(1, 1000, 1100) } };
	struct seg from_end = { 100 * MS, HRSERVO_SEG_LAST, 1,
				{ linear(1, 1400, 1100) } };
	struct seg new_axis = { 100 * MS, 0, 2, { hold(2, 1700),
						  hold(3, 1500) } };
	uint64_t t0 = tl_now() + 300 * MS;

	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1000 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1700 * US));
	ASSERT_EQ(0, submit_flags(self->c.fd, q, 2, HRSERVO_TRAJ_APPEND, t0,
				  0));
	/* A REPLACE must not bring in an axis that has no position. */
	EXPECT_EQ(-EINVAL, submit_flags(self->c.fd, &new_axis, 1,
					HRSERVO_TRAJ_REPLACE,
					t0 + 600 * MS, 0));
	/* Into the second segment, long before the first has played. */
	ASSERT_EQ(0, submit_flags(self->c.fd, &neu, 1, HRSERVO_TRAJ_REPLACE,
				  t0 + 600 * MS, 0));
	EXPECT_EQ(-EDOM, submit_flags(self->c.fd, &from_start, 1,
				      HRSERVO_TRAJ_APPEND, 0, 0));
	EXPECT_EQ(0, submit_flags(self->c.fd, &from_end, 1,
				  HRSERVO_TRAJ_APPEND, 0, 0));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 3000));
}

/*
 * An axis with speed and acceleration limits follows a trajectory that
 * keeps within them exactly, as an axis without limits does: the limiter
 * must not brake toward each frame's point as if it were a stop (that lagged
 * 188 us behind this plan), and raises no clamp event.
 */
TEST_F(tr, limited_axis_follows_plan)
{
	/* 1000 -> 2000 us in 1 s: peaks 1.875 ms/s and 5.77 ms/s^2. */
	struct seg s = { 1000 * MS, HRSERVO_SEG_LAST, 2,
			 { min_jerk(0, 1000, 2000), min_jerk(1, 1000, 2000) } };
	struct hrservo_limits l = { .channel = 0 };
	struct hrservo_event ev;
	uint64_t t0 = tl_now() + 100 * MS;
	struct tl_edge *e;
	size_t n;

	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	l.max_speed_ns_per_s = 2000000;
	l.max_accel_ns_per_s2 = 6000000;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1000 * US));
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_capture_clear();
	while (read(self->c.fd, &ev, sizeof(ev)) == sizeof(ev))
		;
	ASSERT_EQ(0, submit_flags(self->c.fd, &s, 1, HRSERVO_TRAJ_APPEND, t0,
				  0));
	/* Every event up to the end: no clamp among them. */
	for (uint64_t end = tl_now() + 3000 * MS;;) {
		ASSERT_LT(tl_now(), end);
		if (read(self->c.fd, &ev, sizeof(ev)) != sizeof(ev)) {
			tl_sleep_ns(2 * MS);
			continue;
		}
		EXPECT_NE(HRSERVO_EVENT_CLAMP, ev.type);
		if (ev.type == HRSERVO_EVENT_TRAJ_DONE)
			break;
	}
	n = tl_capture(&e);
	/* Both within the same bound of the plan, at every frame. */
	TH_LOG("largest deviation from the plan: limited %.0f ns, unlimited %.0f ns",
	       check_reference(_metadata, e, n, 0, &s, 1, t0, 0, t0, 45),
	       check_reference(_metadata, e, n, 1, &s, 1, t0, 1, t0, 45));
	free(e);
}

/* A replace splices in at its time, continuous in position. */
TEST_F(tr, replace_is_continuous)
{
	struct seg old = { 1000 * MS, HRSERVO_SEG_LAST, 1,
			   { linear(1, 1000, 2000) } };
	struct seg bad, neu;
	struct tl_pulse p[MAXP];
	uint64_t t0 = tl_now() + 60 * MS, ts;
	double at;
	struct tl_edge *e;
	size_t n, np, i;

	ASSERT_EQ(0, submit(self->c.fd, &old, 1, HRSERVO_TRAJ_APPEND, t0));
	tl_sleep_ns(300 * MS);
	ts = tl_now() + 100 * MS;
	at = eval(&old.ax[0], (double)(ts - t0) / old.duration_ns) / 1e3;
	neu = (struct seg){ 200 * MS, HRSERVO_SEG_LAST, 1,
			    { min_jerk(1, at, 1200) } };
	bad = (struct seg){ 200 * MS, HRSERVO_SEG_LAST, 1,
			    { min_jerk(1, at + 5, 1200) } };
	EXPECT_EQ(-EINVAL, submit(self->c.fd, &bad, 1, HRSERVO_TRAJ_REPLACE,
				  ts));
	ASSERT_EQ(0, submit(self->c.fd, &neu, 1, HRSERVO_TRAJ_REPLACE, ts));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 3000));
	n = tl_capture(&e);
	np = tl_pulses(e, n, 1, p, MAXP);
	/* Before ts: the old line; from ts: the new curve. */
	for (i = 0; i < np && p[i].rise < ts; i++)
		EXPECT_LE(fabs(p[i].width - reference(&old, 1, t0, 1,
							p[i].rise, NAN)),
			  1000.0 + tl_tolerance_ns());
	EXPECT_GT(i, 10);
	if (np && !p[np - 1].width)
		np--;	/* still high when captured */
	for (; i < np; i++)
		EXPECT_LE(fabs(p[i].width - reference(&neu, 1, ts, 1,
							p[i].rise, NAN)),
			  1000.0 + tl_tolerance_ns());
	ASSERT_GT(np, 0);
	EXPECT_LE(fabs(p[np - 1].width - 1200e3), 1000.0 + tl_tolerance_ns());
	free(e);
}

/* Running dry before a last segment: an underrun event, and a hold. */
TEST_F(tr, underrun_holds)
{
	struct seg s = { 100 * MS, 0, 1, { linear(0, 1000, 1300) } };
	struct hrservo_traj_status st;
	struct tl_pulse p[MAXP];
	struct tl_edge *e;
	size_t n, np;

	ASSERT_EQ(0, submit(self->c.fd, &s, 1, HRSERVO_TRAJ_APPEND, 0));
	EXPECT_EQ(1, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_UNDERRUN, 2000));
	tl_sleep_ns(5 * TL_FRAME_NS);
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_UNDERRUN, st.state);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 0, p, MAXP);
	ASSERT_GT(np, 8);
	for (size_t i = np - 4; i < np; i++)
		if (p[i].width)
			EXPECT_LE(fabs(p[i].width - 1300e3),
				  (double)tl_tolerance_ns());
	/* The axis stays the trajectory's until it is stopped. */
	EXPECT_EQ(-EBUSY, tl_set1(self->c.fd, 0, 1500 * US));
	ASSERT_EQ(0, stop(self->c.fd));
	EXPECT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	free(e);
}

/* Raw segments beyond the limits are clamped by the kernel. */
TEST_F(tr, limits_clamp_raw_segments)
{
	struct seg s = { 200 * MS, HRSERVO_SEG_LAST, 2,
			 { linear(0, 2000, 3000), linear(1, 1000, 1000) } };
	struct hrservo_limits l = { .channel = 1 };
	struct tl_pulse p[MAXP];
	struct tl_edge *e;
	size_t n, np;

	/* Channel 1 may move 1 ms/s: 20 us per frame. */
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	l.max_speed_ns_per_s = 1000000;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	s.ax[1] = (struct axis){ 1, { 1000e3, 1000e3 } };	/* 5 ms/s */
	ASSERT_EQ(0, submit(self->c.fd, &s, 1, HRSERVO_TRAJ_APPEND, 0));
	EXPECT_NE(-1, wait_event(self->c.fd, HRSERVO_EVENT_CLAMP, 2000));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 2000));
	n = tl_capture(&e);
	np = tl_pulses(e, n, 0, p, MAXP);
	if (np && !p[np - 1].width)
		np--;	/* still high when captured */
	ASSERT_GT(np, 5);
	for (size_t i = 0; i < np; i++)
		EXPECT_LE(p[i].width, 2500 * US + tl_tolerance_ns());
	EXPECT_LE(fabs(p[np - 1].width - 2500e3), (double)tl_tolerance_ns());
	np = tl_pulses(e, n, 1, p, MAXP);
	for (size_t i = 1; i < np; i++)
		if (p[i].width && p[i - 1].width)
			EXPECT_LE(fabs((double)p[i].width - p[i - 1].width),
				  20e3 + tl_tolerance_ns());
	free(e);
}

/* The queue memory of a file is bounded: -ENOSPC, nothing queued. */
TEST_F(tr, queue_limit)
{
	static struct seg s[16];
	/* As big as the submissions that filled the quota. */
	static struct hrservo_segment ks[16];
	struct hrservo_traj bad_coefs = { .segments = (uintptr_t)ks,
					  .coefs = 8, .count = 16,
					  .ncoefs = 16 * 4 * 6 };
	struct hrservo_traj_status st;
	int ret = 0, i;

	for (i = 0; i < 16; i++)
		ks[i] = (struct hrservo_segment){ .duration_ns = 10 * MS,
						  .mask = 0xf };

	for (i = 0; i < 16; i++)
		s[i] = (struct seg){ 10 * MS, 0, 4,
				     { hold(0, 1500), hold(1, 1500),
				       hold(2, 1500), hold(3, 1500) } };
	ASSERT_EQ(0, submit(self->c.fd, s, 16, HRSERVO_TRAJ_APPEND,
			    tl_now() + 60000 * MS));
	for (i = 0; i < 2000 && !ret; i++)
		ret = submit(self->c.fd, s, 16, HRSERVO_TRAJ_APPEND, 0);
	EXPECT_EQ(-ENOSPC, ret);
	/* The quota is checked before the coefficients are even read. */
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_TRAJ_SUBMIT, &bad_coefs));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(16 * i, st.depth);
	EXPECT_LE(st.file_bytes, HRSERVO_TRAJ_FILE_BYTES);
	EXPECT_GT(st.file_bytes + 16 * 250, HRSERVO_TRAJ_FILE_BYTES);
	ASSERT_EQ(0, stop(self->c.fd));
	tl_sleep_ns(50 * MS);
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.file_bytes);
}

/* All files of one controller together are bounded too. */
TEST_F(tr, controller_queue_limit)
{
	static struct seg s[16];
	struct hrservo_traj_status st;
	uint64_t total = 0;
	int fds[17], ret;
	char path[64];

	for (int i = 0; i < 16; i++)
		s[i] = (struct seg){ 10 * MS, 0, 4,
				     { hold(0, 1500), hold(1, 1500),
				       hold(2, 1500), hold(3, 1500) } };
	snprintf(path, sizeof(path), "/dev/%s", self->c.name);
	ASSERT_EQ(0, submit(self->c.fd, s, 16, HRSERVO_TRAJ_APPEND,
			    tl_now() + 60000 * MS));
	for (int f = 0; f < 17; f++) {
		fds[f] = open(path, O_RDWR);
		ASSERT_LE(0, fds[f]);
		ret = 0;
		for (int i = 0; i < 2000 && !ret; i++)
			ret = submit(fds[f], s, 16, HRSERVO_TRAJ_APPEND, 0);
		ASSERT_EQ(-ENOSPC, ret);
		ASSERT_EQ(0, status(fds[f], &st));
		total += st.file_bytes;
		if (f == 0)
			EXPECT_GT(st.file_bytes + 16 * 250,
				  HRSERVO_TRAJ_FILE_BYTES);
	}
	/* The last file was refused with room of its own: the controller was full. */
	ASSERT_EQ(0, status(fds[16], &st));
	EXPECT_LT(st.file_bytes + 16 * 512, HRSERVO_TRAJ_FILE_BYTES);
	EXPECT_LE(total, HRSERVO_TRAJ_CTRL_BYTES);
	EXPECT_GT(total + 2 * 16 * 250, HRSERVO_TRAJ_CTRL_BYTES - 16 * 250);
	ASSERT_EQ(0, stop(self->c.fd));
	tl_sleep_ns(50 * MS);
	/* Everything was given back: the last file can queue now. */
	EXPECT_EQ(0, submit(fds[16], s, 16, HRSERVO_TRAJ_APPEND,
			    tl_now() + 60000 * MS));
	ASSERT_EQ(0, stop(self->c.fd));
	for (int f = 0; f < 17; f++)
		close(fds[f]);
}

TEST_F(tr, bad_submissions)
{
	struct seg s = { 100 * MS, 0, 1, { hold(0, 1500) } };
	struct hrservo_segment ks = { .duration_ns = 100 * MS, .mask = 1 };
	int64_t kc[6] = { 1500000LL << 16 };
	struct hrservo_traj req;

	memset(&req, 0, sizeof(req));
	req.segments = (uintptr_t)&ks;
	req.coefs = (uintptr_t)kc;
	req.count = 1;
	req.ncoefs = 6;
	req.at_ns = tl_now() + 60000 * MS;
	req.flags = HRSERVO_TRAJ_JUMP;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_TRAJ_SUBMIT, &req));
	ASSERT_EQ(0, stop(self->c.fd));

#define BAD(field, value, err) do {					\
		struct hrservo_traj r = req;				\
		struct hrservo_segment k = ks;				\
		r.segments = (uintptr_t)&k;				\
		field = value;						\
		EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_TRAJ_SUBMIT, &r)); \
		EXPECT_EQ(err, errno) TH_LOG(#field " = " #value);	\
	} while (0)
	BAD(r.count, 0, EINVAL);
	BAD(r.count, HRSERVO_TRAJ_SUBMIT_MAX + 1, EINVAL);
	BAD(r.mode, 2, EINVAL);
	BAD(r.flags, 2, EINVAL);
	BAD(r.flags, HRSERVO_TRAJ_JUMP | 2, EINVAL);
	BAD(r.padding[1], 1, EINVAL);
	BAD(r.ncoefs, 5, EINVAL);
	BAD(r.ncoefs, 12, EINVAL);	/* more than the segments use */
	BAD(k.mask, 0, EINVAL);
	BAD(k.mask, 1ULL << self->c.nchannels, EINVAL);
	BAD(k.duration_ns, 0, EINVAL);
	BAD(k.duration_ns, HRSERVO_SEG_MIN_NS - 1, EINVAL);
	BAD(k.duration_ns, HRSERVO_SEG_MAX_NS + 1, EINVAL);
	BAD(k.flags, 2, EINVAL);
	BAD(k.padding[2], 1, EINVAL);
	BAD(r.at_ns, tl_now() - MS, EINVAL);
	/* More than a day ahead: start plus durations could wrap. */
	BAD(r.at_ns, tl_now() + 2 * 86400000 * MS, EINVAL);
	BAD(r.at_ns, ~0ULL, EINVAL);
	BAD(r.coefs, 8, EFAULT);
	BAD(r.mode, HRSERVO_TRAJ_REPLACE, EINVAL);	/* nothing to replace */
	BAD(r.flags, 0, EDOM);		/* channel 0 was never set */
	/* A segment starts at a pulse width: 0..2^32-1 ns. */
	kc[0] = -1;
	BAD(r.flags, HRSERVO_TRAJ_JUMP, EINVAL);
	kc[0] = (int64_t)1 << 60;
	BAD(r.flags, HRSERVO_TRAJ_JUMP, EINVAL);
	kc[0] = 1500000LL << 16;
#undef BAD
	EXPECT_EQ(-EINVAL, submit(self->c.fd, &s, 1, HRSERVO_TRAJ_REPLACE, 0));
	/* The shortest segment is accepted. */
	s.duration_ns = HRSERVO_SEG_MIN_NS;
	EXPECT_EQ(0, submit(self->c.fd, &s, 1, HRSERVO_TRAJ_APPEND,
			    tl_now() + 60000 * MS));
	ASSERT_EQ(0, stop(self->c.fd));
}

/* Rises of @line at or after @t, in the capture. */
static size_t rises_after(const struct tl_edge *e, size_t n, unsigned int line,
			  uint64_t t)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += e[i].line == line && e[i].level && e[i].ts >= t;
	return k;
}

/* The last event of @type queued on @fd, or type 0. */
static struct hrservo_event last_event(int fd, uint32_t type, int ms)
{
	uint64_t end = tl_now() + (uint64_t)ms * MS;
	struct hrservo_event ev, got = { 0 };

	while (tl_now() < end) {
		if (read(fd, &ev, sizeof(ev)) == sizeof(ev)) {
			if (ev.type == type)
				got = ev;
			continue;
		}
		if (got.type)
			break;
		tl_sleep_ns(2 * MS);
	}
	return got;
}

/*
 * Release wins over a trajectory, on every path: a released axis leaves it
 * for good and has no pulse from the next frame on; the others play on;
 * when no axis is left the queue is dropped, and the status and events
 * say so.
 */
TEST_F(tr, release_leaves_trajectory)
{
	struct seg s[3] = {
		{ 1000 * MS, 0, 2, { linear(0, 1000, 2000),
				     linear(1, 2000, 1000) } },
		/* Only channel 0: dropped once channel 0 is released. */
		{ 500 * MS, 0, 1, { hold(0, 2000) } },
		{ 500 * MS, HRSERVO_SEG_LAST, 2, { hold(0, 2000),
						   hold(1, 1000) } },
	};
	struct hrservo_channel_state cs;
	struct hrservo_traj_status st;
	struct hrservo_event ev;
	uint64_t t_rel0, t_rel1, tol = TL_FRAME_NS + tl_tolerance_ns();
	unsigned int l0 = self->c.first_line, l1 = l0 + 1;
	struct tl_edge *e;
	size_t n;

	ASSERT_EQ(0, submit(self->c.fd, s, 3, HRSERVO_TRAJ_APPEND, 0));
	tl_sleep_ns(300 * MS);
	ASSERT_EQ(0, status(self->c.fd, &st));
	ASSERT_EQ(HRSERVO_TRAJ_RUNNING, st.state);
	ASSERT_EQ(3, st.depth);

	/* The ioctl releases channel 0. */
	t_rel0 = tl_now();
	ASSERT_EQ(0, tl_release(self->c.fd, 1));
	tl_sleep_ns(200 * MS);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &cs));
	EXPECT_EQ(0, cs.flags & HRSERVO_STATE_ENABLED);
	EXPECT_EQ(0, cs.pulse_ns);
	ASSERT_EQ(0, tl_state(self->c.fd, 1, &cs));
	EXPECT_NE(0, cs.flags & HRSERVO_STATE_ENABLED);
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_RUNNING, st.state);
	ev = last_event(self->c.fd, HRSERVO_EVENT_TRAJ_DROPPED, 1000);
	EXPECT_EQ(HRSERVO_EVENT_TRAJ_DROPPED, ev.type);
	EXPECT_EQ(1, ev.mask);
	EXPECT_EQ(0, ev.value);
	n = tl_capture(&e);
	EXPECT_EQ(0, rises_after(e, n, l0, t_rel0 + tol));
	EXPECT_LT(5, rises_after(e, n, l1, t_rel0 + tol));
	free(e);

	/* It is no longer the trajectory's: direct targets are taken. */
	EXPECT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	EXPECT_EQ(-EBUSY, tl_set1(self->c.fd, 1, 1500 * US));
	EXPECT_EQ(0, tl_release(self->c.fd, 1));

	/* sysfs releases the last axis: the queue goes, all of it. */
	t_rel1 = tl_now();
	ASSERT_EQ(0, tl_set_attr(&self->c, "channel1/enable", "0"));
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_EQ(0, st.depth);
	ev = last_event(self->c.fd, HRSERVO_EVENT_TRAJ_DROPPED, 1000);
	EXPECT_EQ(2, ev.mask);
	/* The first segment playing, and the two after it. */
	EXPECT_EQ(3, ev.value);
	tl_sleep_ns(1500 * MS);
	n = tl_capture(&e);
	EXPECT_EQ(0, rises_after(e, n, l0, t_rel1 + tol));
	EXPECT_EQ(0, rises_after(e, n, l1, t_rel1 + tol));
	free(e);
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(0, st.file_bytes);
	EXPECT_EQ(0, tl_state(self->c.fd, 1, &cs));
	EXPECT_EQ(0, cs.flags & HRSERVO_STATE_ENABLED);
}

/* A segment left with no axis is skipped, not played. */
TEST_F(tr, release_skips_axisless_segments)
{
	struct seg s[3] = {
		{ 300 * MS, 0, 2, { hold(0, 1000), hold(1, 1200) } },
		{ 300 * MS, 0, 1, { hold(0, 2000) } },
		{ 300 * MS, HRSERVO_SEG_LAST, 2, { hold(0, 1000),
						   hold(1, 1800) } },
	};
	uint64_t t0 = tl_now() + 50 * MS, tol = 50 * US;
	struct tl_pulse p[MAXP];
	struct tl_edge *e;
	size_t n, np, i;

	ASSERT_EQ(0, submit(self->c.fd, s, 3, HRSERVO_TRAJ_APPEND, t0));
	ASSERT_EQ(0, tl_release(self->c.fd, 1));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 3000));
	n = tl_capture(&e);
	EXPECT_EQ(0, tl_pulses(e, n, self->c.first_line, p, MAXP));
	/* Channel 1 holds 1200 us through the skipped segment, then 1800. */
	np = tl_pulses(e, n, self->c.first_line + 1, p, MAXP);
	ASSERT_LT(20, np);
	for (i = 0; i < np; i++) {
		if (!p[i].width)
			continue;
		long long want = 0;

		if (p[i].rise < t0 + 600 * MS - TL_FRAME_NS)
			want = 1200 * US;
		else if (p[i].rise > t0 + 600 * MS + TL_FRAME_NS)
			want = 1800 * US;
		if (!want)
			continue;
		EXPECT_LE(llabs((long long)p[i].width - want), (long long)tol);
	}
	free(e);
}

/* Stop: the queue is dropped; the axis brakes within its acceleration. */
TEST_F(tr, stop_decelerates_then_holds)
{
	struct seg s = { 1000 * MS, HRSERVO_SEG_LAST, 1,
			 { linear(3, 1000, 2000) } };
	struct hrservo_limits l = { .channel = 3 };
	struct hrservo_traj_status st;
	struct tl_pulse p[MAXP];
	uint64_t t_stop, at_stop;
	struct tl_edge *e;
	size_t n, np, i;

	/* 1 ms/s is the line's speed: 20 us per frame; brake at 2 us/f^2. */
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	l.max_accel_ns_per_s2 = 5000000;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	ASSERT_EQ(0, submit(self->c.fd, &s, 1, HRSERVO_TRAJ_APPEND, 0));
	tl_sleep_ns(500 * MS);
	t_stop = tl_now();
	ASSERT_EQ(0, stop(self->c.fd));
	ASSERT_EQ(0, status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_EQ(0, st.depth);
	tl_sleep_ns(500 * MS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 3, p, MAXP);
	for (i = 0; i < np && p[i].rise < t_stop; i++)
		;
	ASSERT_LT(i + 20, np);
	at_stop = p[i].width;
	/* It slows down: speeds fall, never rise, and it ends still. */
	for (i += 1; i + 1 < np; i++) {
		double v0 = (double)p[i].width - p[i - 1].width;
		double v1 = (double)p[i + 1].width - p[i].width;

		if (!p[i + 1].width)
			break;
		EXPECT_GE(v0, -(double)tl_tolerance_ns());
		EXPECT_LE(v1, v0 + (double)tl_tolerance_ns());
	}
	EXPECT_LE(fabs((double)p[np - 2].width - p[np - 3].width),
		  (double)tl_tolerance_ns());
	/* It braked: it went on past where it was, short of the end. */
	EXPECT_GT(p[np - 2].width, at_stop + 20 * US);
	EXPECT_LT(p[np - 2].width, 2000 * US);
	free(e);
}

/* The uploading process dies: playback goes on as queued. */
TEST_F(tr, uploader_killed)
{
	struct seg s = { 400 * MS, HRSERVO_SEG_LAST, 1,
			 { min_jerk(2, 1000, 2000) } };
	uint64_t t0 = tl_now() + 100 * MS;
	struct tl_edge *e;
	int status_;
	size_t n;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/dev/%s", self->c.name);
		fd = open(path, O_RDWR);
		if (fd < 0 || submit(fd, &s, 1, HRSERVO_TRAJ_APPEND, t0))
			_exit(1);
		tl_sleep_ns(200 * MS);
		kill(getpid(), SIGKILL);
	}
	ASSERT_EQ(pid, waitpid(pid, &status_, 0));
	ASSERT_TRUE(WIFSIGNALED(status_));
	ASSERT_LE(0, wait_event(self->c.fd, HRSERVO_EVENT_TRAJ_DONE, 2000));
	n = tl_capture(&e);
	check_reference(_metadata, e, n, 2, &s, 1, t0, 2, 0, 19);
	free(e);
}

struct blocked {
	int fd;
	void *coefs;
	int ret;
};

/* A submission whose coefficients sit on a page nobody serves yet. */
static void *submit_blocked(void *arg)
{
	struct blocked *b = arg;
	struct hrservo_segment ks = { .duration_ns = 10 * MS, .mask = 1 };
	struct hrservo_traj r = { .segments = (uintptr_t)&ks,
				  .coefs = (uintptr_t)b->coefs, .count = 1,
				  .ncoefs = 6, .at_ns = tl_now() + 60000 * MS,
				  .flags = HRSERVO_TRAJ_JUMP };

	b->ret = ioctl(b->fd, HRSERVO_IOC_TRAJ_SUBMIT, &r) ? -errno : 0;
	return NULL;
}

static void *submit_other(void *arg)
{
	struct seg s = { 100 * MS, 0, 1, { hold(1, 1500) } };
	struct blocked *b = arg;

	b->ret = submit(b->fd, &s, 1, HRSERVO_TRAJ_APPEND,
			tl_now() + 60000 * MS);
	return NULL;
}

/*
 * A submission stuck copying the user's memory (a page fault that does not
 * end: userfaultfd, FUSE, a hung NFS mapping) holds up no one: other files
 * submit, stop and read the status meanwhile.
 */
TEST_F(tr, submit_stuck_in_copy_blocks_no_one)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_zeropage zp;
	struct hrservo_traj_status st;
	struct blocked stuck, other;
	pthread_t ts, to;
	struct timespec deadline;
	long page = sysconf(_SC_PAGESIZE);
	char path[64];
	void *mem;
	int uffd, ret;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	mem = mmap(NULL, page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	reg.range.start = (uintptr_t)mem;
	reg.range.len = page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	snprintf(path, sizeof(path), "/dev/%s", self->c.name);
	stuck.fd = open(path, O_RDWR);
	stuck.coefs = mem;
	stuck.ret = other.ret = -1;
	other.fd = open(path, O_RDWR);
	ASSERT_LE(0, stuck.fd);
	ASSERT_LE(0, other.fd);
	ASSERT_EQ(0, pthread_create(&ts, NULL, submit_blocked, &stuck));
	tl_sleep_ns(200 * MS);	/* it is in the copy now */
	ASSERT_EQ(0, status(other.fd, &st));
	ASSERT_EQ(0, st.depth) TH_LOG("the stuck submission was not stuck: %d",
				      stuck.ret);

	/* Another file submits and stops, within seconds. */
	ASSERT_EQ(0, pthread_create(&to, NULL, submit_other, &other));
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	ret = pthread_timedjoin_np(to, NULL, &deadline);
	EXPECT_EQ(0, ret) TH_LOG("the other submission waited for the stuck one");
	EXPECT_EQ(0, other.ret);
	EXPECT_EQ(0, status(other.fd, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, stop(other.fd));

	/* Serve the page: the stuck submission ends too. */
	zp.range.start = (uintptr_t)mem;
	zp.range.len = page;
	zp.mode = 0;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zp));
	ASSERT_EQ(0, pthread_join(ts, NULL));
	if (ret)
		pthread_join(to, NULL);
	EXPECT_EQ(0, stuck.ret);
	EXPECT_EQ(0, stop(stuck.fd));
	close(stuck.fd);
	close(other.fd);
	close(uffd);
	munmap(mem, page);
}

/* The controller goes away in the middle of a trajectory: a clean end. */
TEST(removal_mid_trajectory)
{
	struct seg s = { 2000 * MS, HRSERVO_SEG_LAST, 2,
			 { linear(0, 1000, 2000), linear(1, 2000, 1000) } };
	struct hrservo_traj_status st;
	struct hrservo_event ev;
	struct tl_ctrl c;
	int fd;

	uint64_t t_del, tol = tl_tolerance_ns();
	struct tl_pulse p[MAXP];
	struct tl_edge *e;
	size_t n, np, i;

	ASSERT_EQ(0, tl_create(&c, 32, 2));
	fd = c.fd;
	c.fd = -1;
	tl_capture_clear();
	ASSERT_EQ(0, submit(fd, &s, 1, HRSERVO_TRAJ_APPEND, 0));
	tl_sleep_ns(200 * MS);
	t_del = tl_now();
	ASSERT_EQ(0, tl_destroy(&c));
	/*
	 * No pulse starts after removal began (one frame may have begun
	 * while the write was on its way), and every pulse ended at full
	 * width: the trajectory is between 1000 and 2000 us.
	 */
	n = tl_capture(&e);
	EXPECT_EQ(0, rises_after(e, n, 32, t_del + TL_FRAME_NS + tol));
	EXPECT_EQ(0, rises_after(e, n, 33, t_del + TL_FRAME_NS + tol));
	/* The loopback chip records every edge; a PCA9685 makes its own. */
	for (unsigned int line = 32; tl_backend() == TL_GPIO && line < 34;
	     line++) {
		np = tl_pulses(e, n, line, p, MAXP);
		EXPECT_LT(5, np);
		for (i = 0; i < np; i++)
			EXPECT_LE(1000 * US - tol, p[i].width) {
				TH_LOG("line %u pulse at %llu cut to %llu ns",
				       line, (unsigned long long)p[i].rise,
				       (unsigned long long)p[i].width);
			}
	}
	free(e);
	EXPECT_EQ(-ENODEV, status(fd, &st));
	EXPECT_EQ(-ENODEV, submit(fd, &s, 1, HRSERVO_TRAJ_APPEND, 0));
	/* The last event says so; the lines are left low. */
	while (read(fd, &ev, sizeof(ev)) == sizeof(ev))
		if (ev.type == HRSERVO_EVENT_REMOVED)
			break;
	EXPECT_EQ(HRSERVO_EVENT_REMOVED, ev.type);
	close(fd);
	tl_capture_clear();
	tl_sleep_ns(3 * TL_FRAME_NS);
	{
		struct tl_edge *e;

		EXPECT_EQ(0, tl_capture(&e));
		free(e);
	}
}

TEST_HARNESS_MAIN
