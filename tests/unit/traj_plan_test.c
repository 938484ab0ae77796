// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of libhrservo's trajectory planning (lib/traj.c):
 * interpolation, continuity, time scaling, segment lengths and the CSV
 * loader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "hrservo.h"
#include "internal.h"

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

/*
 * A backend that records what hrservo_traj_upload() sends, and emulates the
 * kernel's player as far as uploads see it: the per-file quota (the
 * kernel's charge per segment, computed here independently of the
 * library), HRSERVO_TRAJ_SUBMIT_MAX, the segment numbering of the status,
 * stop, and the continuity rule of appends (the first segment starts where
 * the queue's last one ends, or, with nothing queued, where the axes are,
 * within HRSERVO_SPLICE_TOL_NS; EDOM otherwise unless HRSERVO_UPLOAD_JUMP).
 * Time passes only when the test says: fake.play_per_status segments play
 * at each status read (the upload reads it while it waits), or
 * fake_play().
 */
#define FAKE_QUOTA	(256 * 1024)	/* HRSERVO_TRAJ_FILE_BYTES */
#define FAKE_SUBMIT_MAX	1024		/* HRSERVO_TRAJ_SUBMIT_MAX */
#define FAKE_TOL_NS	1000		/* HRSERVO_SPLICE_TOL_NS */
/* hrservo_traj_info.state */
enum { FAKE_IDLE, FAKE_WAITING, FAKE_RUNNING, FAKE_UNDERRUN };

struct fake_seg {
	uint64_t duration_ns, mask;
	bool last, ours;
	size_t bytes;
	double start[HRSERVO_MAX_CHANNELS], end[HRSERVO_MAX_CHANNELS];
};

static struct {
	/* What the test sets. */
	unsigned int play_per_status;
	unsigned int enospc_from;	/* submits from this one on: ENOSPC */
	unsigned int fail_at;		/* this submit fails with fail_errno */
	unsigned int guard;		/* submits from this one on: EIO */
	int fail_errno;
	void (*before_submit)(unsigned int k);
	/* Someone stops the player once this many parts were submitted. */
	unsigned int stop_after;
	bool foreign;			/* the next segments queued are others' */
	/* The player. */
	struct fake_seg q[8192];
	size_t head, tail;
	unsigned int state;		/* FAKE_* */
	uint64_t next_idx, first_idx;
	size_t bytes;
	double axis[HRSERVO_MAX_CHANNELS];
	bool known[HRSERVO_MAX_CHANNELS];
	/* What happened. */
	unsigned int submits, statuses, stops, edoms, enospcs;
	unsigned int flags[256];
	size_t counts[256], max_bytes, accepted, lasts;
	bool gap;			/* a part did not continue the one before */
} fake;

static size_t submits, sent_segs;
static uint64_t shortest_ns;

static void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.enospc_from = fake.fail_at = UINT_MAX;
	fake.guard = 1000;
	submits = sent_segs = 0;
	shortest_ns = 0;
}

/* @n queued segments play: the axes end where they end. */
static void fake_play(size_t n)
{
	for (; n && fake.head < fake.tail; n--) {
		struct fake_seg *s = &fake.q[fake.head++];

		for (unsigned int c = 0; c < HRSERVO_MAX_CHANNELS; c++)
			if (s->mask & (1ULL << c)) {
				fake.axis[c] = s->end[c];
				fake.known[c] = true;
			}
		fake.bytes -= s->bytes;
		if (fake.head == fake.tail)
			fake.state = s->last ? FAKE_IDLE :
					       FAKE_UNDERRUN;
		else
			fake.state = FAKE_RUNNING;
	}
}

/* Another client stops the player: the axes brake and hold mid-way. */
static void fake_stop_now(void)
{
	if (fake.head < fake.tail) {
		struct fake_seg *s = &fake.q[fake.head];

		for (unsigned int c = 0; c < HRSERVO_MAX_CHANNELS; c++)
			if (s->mask & (1ULL << c)) {
				fake.axis[c] = 0.5 * (s->start[c] + s->end[c]);
				fake.known[c] = true;
			}
	}
	fake.head = fake.tail;
	fake.bytes = 0;
	fake.state = FAKE_IDLE;
}

/* Where an axis is, or will be at the end of what is queued. */
static bool fake_queue_end(unsigned int c, double *p)
{
	for (size_t i = fake.tail; i > fake.head; i--)
		if (fake.q[i - 1].mask & (1ULL << c)) {
			*p = fake.q[i - 1].end[c];
			return true;
		}
	*p = fake.axis[c];
	return fake.known[c];
}

static int fake_traj_submit(struct hrservo *h,
			    const struct hrservo_seg_item *segs, size_t n,
			    const int64_t *coefs, size_t ncoefs,
			    unsigned int flags, uint64_t at_ns)
{
	unsigned int k = fake.submits++;
	size_t bytes = 0, used = 0;

	submits++;
	for (size_t i = 0; i < n; i++, sent_segs++)
		if (!shortest_ns || segs[i].duration_ns < shortest_ns)
			shortest_ns = segs[i].duration_ns;
	if (k < 256) {
		fake.flags[k] = flags;
		fake.counts[k] = n;
	}
	if (fake.before_submit)
		fake.before_submit(k);
	/* Not the library's formula: struct hrservo_seg on x86_64. */
	for (size_t i = 0; i < n; i++)
		bytes += 88 + 48 * (size_t)__builtin_popcountll(segs[i].mask);
	if (bytes > fake.max_bytes)
		fake.max_bytes = bytes;
	if (!n || n > FAKE_SUBMIT_MAX || fake.tail + n > 8192) {
		errno = EINVAL;
		return -1;
	}
	if (k >= fake.guard) {		/* an upload that never gives up */
		errno = EIO;
		return -1;
	}
	if (k == fake.fail_at) {
		errno = fake.fail_errno;
		return -1;
	}
	if (k >= fake.enospc_from || fake.bytes + bytes > FAKE_QUOTA) {
		fake.enospcs++;
		errno = ENOSPC;
		return -1;
	}
	/* Continuity of an append: its first segment's p(0). */
	if (!(flags & (HRSERVO_UPLOAD_REPLACE | HRSERVO_UPLOAD_JUMP))) {
		for (unsigned int c = 0, a = 0; c < HRSERVO_MAX_CHANNELS; c++) {
			double ref;

			if (!(segs[0].mask & (1ULL << c)))
				continue;
			if (fake_queue_end(c, &ref) &&
			    fabs(coefs[6 * a] / 65536.0 - ref) > FAKE_TOL_NS) {
				fake.edoms++;
				errno = EDOM;
				return -1;
			}
			a++;
		}
	}
	if (fake.state == FAKE_IDLE)
		fake.first_idx = fake.next_idx;
	for (size_t i = 0; i < n; i++) {
		struct fake_seg *s = &fake.q[fake.tail++];

		memset(s, 0, sizeof(*s));
		s->duration_ns = segs[i].duration_ns;
		s->mask = segs[i].mask;
		s->last = segs[i].last;
		s->ours = !fake.foreign;
		s->bytes = 88 + 48 * (size_t)__builtin_popcountll(s->mask);
		for (unsigned int c = 0; c < HRSERVO_MAX_CHANNELS; c++) {
			double sum = 0;

			if (!(s->mask & (1ULL << c)))
				continue;
			for (int j = 0; j < 6; j++)
				sum += coefs[used + j] / 65536.0;
			s->start[c] = coefs[used] / 65536.0;
			s->end[c] = sum;
			used += 6;
		}
		fake.lasts += s->last;
	}
	if (!fake.foreign)
		fake.accepted += n;
	fake.bytes += bytes;
	fake.next_idx += n;
	if (fake.state != FAKE_RUNNING)
		fake.state = FAKE_WAITING;
	return 0;
}

static int fake_traj_status(struct hrservo *h, struct hrservo_traj_info *info)
{
	fake.statuses++;
	if (fake.stop_after && fake.submits >= fake.stop_after) {
		fake.stop_after = 0;
		fake_stop_now();
	}
	fake_play(fake.play_per_status);
	memset(info, 0, sizeof(*info));
	info->state = fake.state;
	info->depth = (unsigned int)(fake.tail - fake.head);
	info->segment = fake.next_idx - info->depth - fake.first_idx;
	for (size_t i = fake.head; i < fake.tail; i++)
		info->queued_ns += fake.q[i].duration_ns;
	return 0;
}

static int fake_traj_stop(struct hrservo *h)
{
	fake.stops++;
	fake_stop_now();
	return 0;
}

/* Segments of others in the queue. */
static size_t fake_foreign_queued(void)
{
	size_t n = 0;

	for (size_t i = fake.head; i < fake.tail; i++)
		n += !fake.q[i].ours;
	return n;
}

/* Another client queues a 1 ms segment of channel @c from @from to @to. */
static void fake_push_foreign(unsigned int c, double from, double to)
{
	struct fake_seg *s = &fake.q[fake.tail++];

	memset(s, 0, sizeof(*s));
	s->duration_ns = 1000000;
	s->mask = 1ULL << c;
	s->last = true;
	s->bytes = 136;
	s->start[c] = from;
	s->end[c] = to;
	if (fake.state == FAKE_IDLE)
		fake.first_idx = fake.next_idx;
	fake.next_idx++;
	fake.bytes += s->bytes;
	if (fake.state != FAKE_RUNNING)
		fake.state = FAKE_WAITING;
}

/* Where the queue ends on channel @c (or the axis is). */
static double fake_end_of(unsigned int c)
{
	double p;

	fake_queue_end(c, &p);
	return p;
}

/* Limits of the fake controller's channels: min, max, speed, acceleration. */
static uint32_t fake_min = 500000, fake_max = 2500000;
static uint32_t fake_vmax[HRSERVO_MAX_CHANNELS], fake_amax[HRSERVO_MAX_CHANNELS];
static uint32_t fake_period = 20000000;

static int fake_get_limits(struct hrservo *h, unsigned int ch,
			   uint32_t *min_ns, uint32_t *max_ns)
{
	*min_ns = fake_min;
	*max_ns = fake_max;
	return 0;
}

static int fake_get_motion(struct hrservo *h, unsigned int ch,
			   uint32_t *speed, uint32_t *accel)
{
	*speed = fake_vmax[ch];
	*accel = fake_amax[ch];
	return 0;
}

static int fake_get_period(struct hrservo *h, uint32_t *period_ns,
			   uint32_t *min_ns, uint32_t *max_ns)
{
	*period_ns = fake_period;
	*min_ns = 2000000;
	*max_ns = 50000000;
	return 0;
}

static void fake_no_limits(void)
{
	fake_min = 500000;
	fake_max = 2500000;
	memset(fake_vmax, 0, sizeof(fake_vmax));
	memset(fake_amax, 0, sizeof(fake_amax));
	fake_period = 20000000;
}

/* Motion limits are a pair (HRSERVO_CAP_MOTION_LIMITS): never set here. */
static int fake_set_motion(struct hrservo *h, unsigned int ch, uint32_t speed,
			   uint32_t accel)
{
	errno = EPERM;
	return -1;
}

static const struct hrservo_backend fake_backend = {
	.name = "fake",
	.traj_submit = fake_traj_submit,
	.traj_status = fake_traj_status,
	.traj_stop = fake_traj_stop,
	.get_limits = fake_get_limits,
	.get_motion = fake_get_motion,
	.set_motion = fake_set_motion,
	.get_period = fake_get_period,
};

/*
 * A trajectory with 0 or 1 waypoints is no trajectory, whatever the
 * interpolation: every function that needs one refuses it (EINVAL) without
 * touching memory outside what it allocated (the cubic spline's knot speeds
 * were written at index n - 1 = -1: a heap overflow that ASan reports).
 */
TEST(too_few_waypoints_refused_everywhere)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	unsigned int ch[2] = { 0, 1 };
	double p[2] = { 1500e3, 1500e3 }, pos[2], vel[2], acc[2], f;
	struct hrservo_violation v;

	fake_no_limits();
	for (int m = 0; m < 3; m++) {
		for (int n = 0; n < 2; n++) {
			struct hrservo_traj *t = hrservo_traj_new(2, ch);

			ASSERT_NE(NULL, t);
			hrservo_traj_set_interp(t, m);
			if (n)
				ASSERT_EQ(0, hrservo_traj_add(t, 0, p));
			errno = 0;
			EXPECT_EQ(-1, hrservo_traj_eval(t, 0, pos, vel, acc));
			EXPECT_EQ(EINVAL, errno);
			errno = 0;
			EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
			EXPECT_EQ(EINVAL, errno);
			errno = 0;
			EXPECT_EQ(-1, hrservo_traj_fit_time(t, &h, &f));
			EXPECT_EQ(EINVAL, errno);
			fake_reset();
			errno = 0;
			EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
			EXPECT_EQ(EINVAL, errno);
			EXPECT_EQ(0, submits);
			EXPECT_EQ(0, hrservo_traj_duration(t));
			hrservo_traj_free(t);
		}
	}
}

/* NULL where the API wants an object: EINVAL (or a neutral value), no crash. */
TEST(null_arguments_refused)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	unsigned int ch = 0;
	struct hrservo_traj *t = hrservo_traj_new(1, &ch);
	struct hrservo_traj_info info;
	double p = 1500e3, s;
	char err[64];

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_traj_add(t, 0, &p));
	ASSERT_EQ(0, hrservo_traj_add(t, 1, &p));
	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_new(1, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_add(NULL, 2, &p));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_add(t, 2, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(2, hrservo_traj_num_waypoints(t));
	EXPECT_EQ(0, hrservo_traj_num_waypoints(NULL));
	EXPECT_EQ(0, hrservo_traj_num_axes(NULL));
	EXPECT_EQ(0, hrservo_traj_channel(NULL, 0));
	EXPECT_EQ(0, hrservo_traj_duration(NULL));
	hrservo_traj_set_interp(NULL, HRSERVO_INTERP_CUBIC);
	/* An unknown interpolation is ignored: still minimum jerk. */
	hrservo_traj_set_interp(t, (enum hrservo_interp)42);
	{
		double v;

		ASSERT_EQ(0, hrservo_traj_eval(t, 0.5, NULL, &v, NULL));
		EXPECT_EQ(0, v);	/* 1500 to 1500 us */
	}
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_waypoint(NULL, 0, &s, &p));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_waypoint(t, 0, NULL, &p));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_waypoint(t, 0, &s, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_eval(NULL, 0, &p, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_scale_time(NULL, 2));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check(NULL, &h, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check(t, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_fit_time(NULL, &h, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_fit_time(t, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check_times(NULL, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(NULL, &h, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, NULL, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_status(NULL, &info));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_status(&h, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_stop(NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_load_csv(NULL, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	/* No room for a message: still an error, no write through NULL. */
	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_load_csv("/nonexistent.csv", NULL, 64));
	EXPECT_EQ(ENOENT, errno);
	hrservo_traj_free(NULL);
	hrservo_traj_free(t);
}

/* Waypoints of channel 0 at @n times (s), from 1000 us up by 100 us. */
static struct hrservo_traj *at_times(const double *times, size_t n)
{
	unsigned int ch = 0;
	struct hrservo_traj *t = hrservo_traj_new(1, &ch);

	for (size_t i = 0; t && i < n; i++) {
		double p = 1000e3 + 100e3 * (double)i;

		if (hrservo_traj_add(t, times[i], &p)) {
			hrservo_traj_free(t);
			return NULL;
		}
	}
	return t;
}

/*
 * The kernel refuses segments shorter than 1 ms (HRSERVO_SEG_MIN_NS): the
 * library refuses them first, naming the waypoints, and sends nothing.
 */
TEST(segments_of_at_least_1ms)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	struct hrservo_traj *t;
	char err[256];

	t = at_times((double[]){ 0, 0.1, 0.1005, 0.2 }, 4);
	ASSERT_NE(NULL, t);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check_times(t, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_STREQ("waypoint 2 (t=0.1005 s) is 0.5 ms after waypoint 1 (t=0.1 s); the segment between two waypoints must last at least 1 ms",
		     err);
	fake_reset();
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, submits);	/* nothing sent */
	hrservo_traj_free(t);

	/* 1 ms exactly is fine, as t_ms rows 1 ms apart. */
	t = at_times((double[]){ 0, 0.001, 0.002, 0.003 }, 4);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(0, hrservo_traj_check_times(t, err, sizeof(err))) TH_LOG("%s", err);
	fake_reset();
	shortest_ns = 0;
	EXPECT_EQ(0, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(1, submits);
	EXPECT_EQ(3, sent_segs);
	EXPECT_EQ(1000000, shortest_ns);

	/* After time scaling: 0.5 ms. */
	ASSERT_EQ(0, hrservo_traj_scale_time(t, 0.5));
	EXPECT_EQ(-1, hrservo_traj_check_times(t, NULL, 0));
	fake_reset();
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(0, submits);
	hrservo_traj_free(t);

	/* Nor more than 60 s (HRSERVO_SEG_MAX_NS). */
	t = at_times((double[]){ 0, 1, 62 }, 3);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(-1, hrservo_traj_check_times(t, err, sizeof(err)));
	EXPECT_STREQ("waypoint 2 (t=62 s) is 61 s after waypoint 1 (t=1 s); the segment between two waypoints may last at most 60 s",
		     err);
	fake_reset();
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(0, submits);
	hrservo_traj_free(t);

	/* One waypoint is no trajectory. */
	t = at_times((double[]){ 0 }, 1);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(-1, hrservo_traj_check_times(t, err, sizeof(err)));
	EXPECT_STREQ("1 waypoint: a trajectory needs at least 2", err);
	hrservo_traj_free(t);
}

/* @naxes axes (channels 0...), @n waypoints @dt apart, every axis moving. */
static struct hrservo_traj *many(unsigned int naxes, size_t n, double dt)
{
	unsigned int ch[HRSERVO_MAX_CHANNELS];
	struct hrservo_traj *t;

	for (unsigned int a = 0; a < naxes; a++)
		ch[a] = a;
	t = hrservo_traj_new(naxes, ch);
	for (size_t i = 0; t && i < n; i++) {
		double p[HRSERVO_MAX_CHANNELS];

		for (unsigned int a = 0; a < naxes; a++)
			p[a] = 1500e3 + 100e3 * sin(0.01 * (double)i + a);
		if (hrservo_traj_add(t, dt * (double)i, p)) {
			hrservo_traj_free(t);
			return NULL;
		}
	}
	return t;
}

static double now_s(void);

/*
 * Parts were 256 segments: with 21 axes or more the first part alone was
 * beyond the kernel's per-file quota (256 KiB), and the upload failed with
 * ENOSPC on an empty queue. Parts are sized from the quota: every part
 * fits, every later part continues the one before (the fake checks), one
 * segment is the last, and only the first part carries the flags.
 */
TEST(upload_parts_fit_the_quota)
{
	static const struct { unsigned int naxes; size_t n; } c[] = {
		{ 21, 600 }, { 40, 600 }, { 64, 300 }, { 1, 1500 },
	};
	struct hrservo h = { .be = &fake_backend, .nch = 64 };

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct hrservo_traj *t = many(c[i].naxes, c[i].n, 0.001);

		ASSERT_NE(NULL, t);
		fake_reset();
		fake.play_per_status = 16;
		errno = 0;
		EXPECT_EQ(0, hrservo_traj_upload(t, &h, 0, HRSERVO_UPLOAD_REPLACE))
			TH_LOG("%u axes: %s", c[i].naxes, strerror(errno));
		EXPECT_EQ(c[i].n - 1, fake.accepted);
		EXPECT_LE(fake.max_bytes, FAKE_QUOTA);
		EXPECT_EQ(1, fake.lasts);
		EXPECT_EQ(0, fake.edoms);
		EXPECT_GT(fake.submits, 1);
		EXPECT_EQ(HRSERVO_UPLOAD_REPLACE, fake.flags[0]);
		for (unsigned int k = 1; k < fake.submits && k < 256; k++)
			EXPECT_EQ(0, fake.flags[k]);
		EXPECT_EQ(0, fake.stops);
		hrservo_traj_free(t);
	}
}

/* What fits the quota goes in one submission: all or nothing, by the kernel. */
TEST(upload_small_in_one_submission)
{
	struct hrservo h = { .be = &fake_backend, .nch = 64 };
	struct hrservo_traj *t = many(1, 1025, 0.001);	/* 1024 segments */

	ASSERT_NE(NULL, t);
	fake_reset();
	EXPECT_EQ(0, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(1, fake.submits);
	EXPECT_EQ(1024, fake.counts[0]);
	hrservo_traj_free(t);
	t = many(20, 100, 0.001);			/* 99 x 1048 bytes */
	ASSERT_NE(NULL, t);
	fake_reset();
	EXPECT_EQ(0, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(1, fake.submits);
	hrservo_traj_free(t);
}

/*
 * A later part that met a full queue was retried every 20 ms for ever.
 * Now it polls the status and gives up (ENOSPC) after the time the queue
 * needed to play plus 1 s; what it queued is stopped, the queue holding
 * nothing else.
 */
TEST(upload_wait_is_bounded)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	struct hrservo_traj *t = many(1, 3000, 0.001);	/* parts of 481 */
	double t0, el;

	ASSERT_NE(NULL, t);
	fake_reset();
	fake.enospc_from = 1;		/* nothing ever plays */
	fake.guard = 300;		/* 6 s of the old retries */
	t0 = now_s();
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	el = now_s() - t0;
	EXPECT_EQ(ENOSPC, errno);
	/* 481 ms queued, plus the margin. */
	EXPECT_GT(el, 1.4);
	EXPECT_LT(el, 2.5);
	EXPECT_GT(fake.statuses, 5);
	EXPECT_EQ(1, fake.stops);
	EXPECT_EQ(0, fake.tail - fake.head);
	hrservo_traj_free(t);
}

/* A part that fails leaves no half-queued trajectory: ours is stopped. */
TEST(upload_failed_part_stops_ours)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	struct hrservo_traj *t = many(1, 3000, 0.001);

	ASSERT_NE(NULL, t);
	fake_reset();
	fake.fail_at = 2;
	fake.fail_errno = ENOMEM;
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(2 * 481, fake.accepted);
	EXPECT_EQ(1, fake.stops);
	EXPECT_EQ(0, fake.tail - fake.head);
	EXPECT_EQ(FAKE_IDLE, fake.state);
	hrservo_traj_free(t);
}

static double foreign_to;

static void hook_foreign_append(unsigned int k)
{
	if (k == 2)
		fake_push_foreign(0, fake_end_of(0), foreign_to);
}

/*
 * A stop drops the whole queue: with others' segments queued, before ours
 * or after, the library does not stop (it would cut their motion short);
 * ours plays what was queued.
 */
TEST(upload_failed_part_leaves_others)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	struct hrservo_traj *t = many(1, 3000, 0.001);
	double tm, p0;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_traj_waypoint(t, 0, &tm, &p0));
	/* Appended to another client's trajectory, which ends where ours starts. */
	fake_reset();
	fake_push_foreign(0, 1000e3, p0);
	fake.fail_at = 2;
	fake.fail_errno = ENOMEM;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(0, fake.stops);
	EXPECT_EQ(1, fake_foreign_queued());
	EXPECT_EQ(1 + 2 * 481, fake.tail - fake.head);

	/* Another client appended after our second part. */
	fake_reset();
	foreign_to = 1000e3;
	fake.before_submit = hook_foreign_append;
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(0, fake.stops);
	EXPECT_EQ(1, fake_foreign_queued());
	hrservo_traj_free(t);
}

static void hook_stop(unsigned int k)
{
	if (k == 2)
		fake_stop_now();	/* another client's stop */
}

static void hook_drain(unsigned int k)
{
	if (k == 2)
		fake_play(SIZE_MAX);	/* the process slept: underrun */
}

static void hook_drain_move(unsigned int k)
{
	if (k == 2) {
		fake_play(SIZE_MAX);
		fake.axis[0] += 200e3;	/* and someone moved the axis */
	}
}

/*
 * A continuation never jumps: after a stop (the axes braked mid-way) or
 * when the axes moved, the kernel refuses it (EDOM, emulated) and the
 * upload fails, the queue clean; the flag HRSERVO_UPLOAD_JUMP only goes
 * with the first part. After a plain underrun the axes hold where our last
 * part ended: the next part goes on from there.
 */
TEST(upload_continuation_never_jumps)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	struct hrservo_traj *t = many(1, 3000, 0.001);

	ASSERT_NE(NULL, t);
	fake_reset();
	fake.before_submit = hook_stop;
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, HRSERVO_UPLOAD_JUMP));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(HRSERVO_UPLOAD_JUMP, fake.flags[0]);
	EXPECT_EQ(0, fake.flags[1]);
	EXPECT_EQ(0, fake.flags[2]);
	EXPECT_EQ(3, fake.submits);
	EXPECT_EQ(0, fake.tail - fake.head);
	EXPECT_EQ(FAKE_IDLE, fake.state);

	/* Drained, then moved: refused; our underrun hold is ended. */
	fake_reset();
	fake.before_submit = hook_drain_move;
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(1, fake.stops);
	EXPECT_EQ(FAKE_IDLE, fake.state);

	/*
	 * Stopped by someone between two parts, where the axes happen to
	 * hold still: nothing more is sent (the kernel would take it, and
	 * the robot would move again), ECANCELED.
	 */
	fake_reset();
	fake.stop_after = 1;
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(ECANCELED, errno);
	EXPECT_EQ(1, fake.submits);
	EXPECT_EQ(FAKE_IDLE, fake.state);

	/* Drained only: it pauses and goes on from where it holds. */
	fake_reset();
	fake.before_submit = hook_drain;
	fake.play_per_status = 100;
	EXPECT_EQ(0, hrservo_traj_upload(t, &h, 0, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(2999, fake.accepted);
	EXPECT_EQ(0, fake.edoms);
	hrservo_traj_free(t);
}

/*
 * HRSERVO_UPLOAD_JUMP reaches the backend with the first part: without it
 * an upload that does not start where the axes are is refused (EDOM,
 * emulated), nothing queued. Unknown flags are refused before anything is
 * sent.
 */
TEST(upload_jump_flag)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	struct hrservo_traj *t = many(2, 10, 0.01);

	ASSERT_NE(NULL, t);
	fake_reset();
	fake.known[1] = true;
	fake.axis[1] = 1000e3;		/* the trajectory starts at 1584 us */
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 0));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(0, fake.tail - fake.head);
	EXPECT_EQ(0, fake.stops);
	EXPECT_EQ(0, hrservo_traj_upload(t, &h, 0, HRSERVO_UPLOAD_JUMP));
	EXPECT_EQ(HRSERVO_UPLOAD_JUMP, fake.flags[1]);
	EXPECT_EQ(9, fake.accepted);
	fake_reset();
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, &h, 0, 1U << 7));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, fake.submits);
	hrservo_traj_free(t);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * hrservo_traj_check() applies the kernel's rules on intervals too, as
 * hrservo_traj_check_times() and the upload do: an interval longer than
 * 60 s or one that rounds to 0 ns passed the check, then failed the upload
 * with a bare EINVAL. The violation names the waypoint (by its time), the
 * interval and the bound.
 */
TEST(check_applies_the_interval_rules)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	struct hrservo_violation v;
	struct hrservo_traj *t;

	fake_no_limits();
	t = at_times((double[]){ 0, 1, 62 }, 3);
	ASSERT_NE(NULL, t);
	memset(&v, 0, sizeof(v));
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(HRSERVO_LIMIT_INTERVAL, v.kind);
	EXPECT_EQ(62, v.time_s);
	EXPECT_EQ(61e9, v.value);
	EXPECT_EQ(60e9, v.limit);
	EXPECT_EQ(HRSERVO_MAX_CHANNELS, v.channel);
	hrservo_traj_free(t);

	/* 0.1 ns after the previous waypoint: 0 ns as sent. */
	t = at_times((double[]){ 0, 1, 1 + 1e-10, 2 }, 4);
	ASSERT_NE(NULL, t);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(HRSERVO_LIMIT_INTERVAL, v.kind);
	EXPECT_EQ(1 + 1e-10, v.time_s);
	EXPECT_EQ(0, v.value);
	EXPECT_EQ(1e6, v.limit);
	hrservo_traj_free(t);

	/* 60 s and 1 ms exactly are fine. */
	t = at_times((double[]){ 0, 60, 60.001 }, 3);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(0, hrservo_traj_check(t, &h, &v));
	hrservo_traj_free(t);
}

/*
 * A 5 ms minimum-jerk segment peaks at 1.875 d/h at u = 0.5, between the
 * old 1 ms samples (u = 0.4 gives 1.728 d/h): the peak is found, with its
 * time and value.
 */
TEST(check_finds_peaks_between_samples)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	double p0 = 1000e3, p1 = 1010e3, peak = 1.875 * 10e3 / 0.005;
	double apeak = 10 / sqrt(3) * 10e3 / 25e-6;	/* 2.309e9 */
	struct hrservo_violation v;
	unsigned int ch = 0;
	struct hrservo_traj *t = hrservo_traj_new(1, &ch);

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_traj_add(t, 0, &p0));
	ASSERT_EQ(0, hrservo_traj_add(t, 0.005, &p1));
	fake_no_limits();
	fake_vmax[0] = 3600000;
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(HRSERVO_LIMIT_SPEED, v.kind);
	EXPECT_EQ(0, v.channel);
	EXPECT_LT(fabs(v.value - peak), peak * 1e-9) TH_LOG("%.9g", v.value);
	EXPECT_LT(fabs(v.time_s - 0.0025), 1e-12);
	EXPECT_EQ(3600000, v.limit);
	/* Just above the peak: fine. */
	fake_vmax[0] = (uint32_t)ceil(peak);
	EXPECT_EQ(0, hrservo_traj_check(t, &h, &v));
	/* The acceleration peaks at 10/sqrt(3) d/h^2, u = (3 -+ sqrt(3))/6. */
	fake_vmax[0] = 0;
	fake_amax[0] = 2300000000U;
	EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
	EXPECT_EQ(HRSERVO_LIMIT_ACCEL, v.kind);
	EXPECT_LT(fabs(v.value - apeak), 1e-9 * apeak);
	EXPECT_LT(fabs(v.time_s - 0.005 * (3 - sqrt(3)) / 6), 1e-12);
	fake_amax[0] = (uint32_t)ceil(apeak);
	EXPECT_EQ(0, hrservo_traj_check(t, &h, &v));
	fake_no_limits();
	hrservo_traj_free(t);
}

/* A pseudo-random cubic trajectory of one axis, seeded. */
static struct hrservo_traj *random_cubic(unsigned int *seed, size_t n)
{
	unsigned int ch = 2;
	struct hrservo_traj *t = hrservo_traj_new(1, &ch);
	double time = 0;

	for (size_t i = 0; t && i < n; i++) {
		double p = 1000e3 + 1000e3 * (rand_r(seed) / (double)RAND_MAX);

		if (hrservo_traj_add(t, time, &p)) {
			hrservo_traj_free(t);
			return NULL;
		}
		time += 0.01 + 0.3 * (rand_r(seed) / (double)RAND_MAX);
	}
	if (t)
		hrservo_traj_set_interp(t, HRSERVO_INTERP_CUBIC);
	return t;
}

/*
 * Property: the analytic extrema are those of the plan. Peaks measured by
 * sampling hrservo_traj_eval() every 10 microseconds: a limit 0.02 % below the
 * peak is reported with the peak's value, one 0.005 % above it passes.
 */
TEST(check_agrees_with_dense_sampling)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	unsigned int seed = 11;

	for (int trial = 0; trial < 20; trial++) {
		struct hrservo_traj *t = random_cubic(&seed, 6);
		double pmax = 0, vpk = 0, apk = 0, dur, s;
		struct hrservo_violation v;

		ASSERT_NE(NULL, t);
		dur = hrservo_traj_duration(t);
		/* Every 10 us, and exactly at every waypoint. */
		for (size_t i = 0, k = 0;;) {
			double p, vel, acc, tk = INFINITY;

			if (k < hrservo_traj_num_waypoints(t))
				ASSERT_EQ(0, hrservo_traj_waypoint(t, k, &tk, &p));
			if (tk <= i * 1e-5)
				s = tk, k++;
			else
				s = i++ * 1e-5;
			if (s > dur)
				break;
			ASSERT_EQ(0, hrservo_traj_eval(t, s, &p, &vel, &acc));
			pmax = fmax(pmax, p);
			vpk = fmax(vpk, fabs(vel));
			apk = fmax(apk, fabs(acc));
		}
		fake_no_limits();
		fake_min = 0;
		fake_max = 4000000000U;		/* the spline may overshoot */
		fake_vmax[2] = (uint32_t)(vpk * 0.9998);
		EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
		EXPECT_EQ(HRSERVO_LIMIT_SPEED, v.kind);
		fake_vmax[2] = (uint32_t)ceil(vpk * 1.00005);
		EXPECT_EQ(0, hrservo_traj_check(t, &h, &v))
			TH_LOG("trial %d: speed %g at %g s, peak %g", trial,
			       v.value, v.time_s, vpk);
		fake_vmax[2] = 0;
		fake_amax[2] = (uint32_t)fmin(apk * 0.9998, 4e9);
		if (apk * 0.9998 < 4e9) {
			EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
			EXPECT_EQ(HRSERVO_LIMIT_ACCEL, v.kind);
		}
		fake_amax[2] = apk * 1.00005 < 4e9 ? (uint32_t)ceil(apk * 1.00005) : 0;
		EXPECT_EQ(0, hrservo_traj_check(t, &h, &v))
			TH_LOG("trial %d: accel %g at %g s, peak %g", trial,
			       v.value, v.time_s, apk);
		fake_amax[2] = 0;
		/* The spline overshoots between knots: the max is found. */
		fake_max = (uint32_t)floor(pmax - 1);
		EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
		EXPECT_EQ(HRSERVO_LIMIT_MAX, v.kind);
		EXPECT_LE(v.value, pmax + 0.1);
		fake_max = (uint32_t)ceil(pmax);
		EXPECT_EQ(0, hrservo_traj_check(t, &h, &v))
			TH_LOG("trial %d: %g at %g s, max %g", trial, v.value,
			       v.time_s, pmax);
		hrservo_traj_free(t);
	}
	fake_no_limits();
}

/*
 * The check costs O(segments), not O(duration): 2000 waypoints 50 s apart
 * (28 hours) took the old check 10^8 samples.
 */
TEST(check_cost_does_not_grow_with_duration)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	unsigned int ch[3] = { 0, 1, 2 };
	struct hrservo_traj *t = hrservo_traj_new(3, ch);
	struct hrservo_violation v;
	double t0;

	ASSERT_NE(NULL, t);
	for (int i = 0; i < 2000; i++) {
		double p[3] = { 1000e3 + 500e3 * (i % 2), 1500e3,
				2000e3 - 400e3 * (i % 3) };

		ASSERT_EQ(0, hrservo_traj_add(t, 50.0 * i, p));
	}
	fake_no_limits();
	fake_vmax[0] = 100000;
	fake_amax[0] = 1000000;
	for (int m = 0; m < 3; m++) {
		hrservo_traj_set_interp(t, m);
		t0 = now_s();
		EXPECT_EQ(0, hrservo_traj_check(t, &h, &v))
			TH_LOG("interp %d: kind %d at %g s: %g > %g", m,
			       v.kind, v.time_s, v.value, v.limit);
		EXPECT_LT(now_s() - t0, 1.0);
	}
	fake_no_limits();
	hrservo_traj_free(t);
}

/*
 * Linear interpolation steps the speed at every waypoint, and at the start
 * and the end (from and to rest). The kernel's limiter follows a step dv
 * only if dv <= amax T (T the frame period): beyond, it is an acceleration
 * violation, of dv / T.
 */
TEST(check_linear_speed_steps)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	unsigned int ch = 1;
	struct hrservo_traj *t = hrservo_traj_new(1, &ch);
	double p0 = 1000e3, p1 = 2000e3, p2 = 1500e3, f;
	struct hrservo_violation v;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_traj_add(t, 0, &p0));
	ASSERT_EQ(0, hrservo_traj_add(t, 1, &p1));	/* 1e6 ns/s */
	ASSERT_EQ(0, hrservo_traj_add(t, 2, &p2));	/* -5e5 ns/s */
	hrservo_traj_set_interp(t, HRSERVO_INTERP_LINEAR);
	fake_no_limits();
	fake_amax[1] = 10000000;	/* 1e7 ns/s^2: steps of 2e5 ns/s */
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(HRSERVO_LIMIT_ACCEL, v.kind);
	EXPECT_EQ(0, v.time_s);		/* the start, from rest */
	EXPECT_LT(fabs(v.value - 1e6 / 0.02), 1e-3);
	/* Steps of 1e6, 1.5e6 and 5e5 ns/s in 20 ms: 7.5e7 ns/s^2 fits. */
	fake_amax[1] = 75000000;
	EXPECT_EQ(0, hrservo_traj_check(t, &h, &v));
	fake_amax[1] = 74000000;
	EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
	EXPECT_EQ(1, v.time_s);
	/* Stretching shrinks the steps as 1/f. */
	fake_amax[1] = 10000000;
	ASSERT_EQ(0, hrservo_traj_fit_time(t, &h, &f));
	EXPECT_LT(fabs(f - 7.5 * 1.01), 1e-6) TH_LOG("%g", f);
	EXPECT_EQ(0, hrservo_traj_check(t, &h, &v));
	/* Minimum jerk has no step. */
	hrservo_traj_set_interp(t, HRSERVO_INTERP_MIN_JERK);
	EXPECT_EQ(0, hrservo_traj_check(t, &h, &v));
	fake_no_limits();
	hrservo_traj_free(t);
}

/* A position violation is reported before any speed one, as before. */
TEST(check_reports_position_first)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	struct hrservo_violation v;
	struct hrservo_traj *t;

	t = at_times((double[]){ 0, 0.1, 0.2, 0.3 }, 4);	/* to 1300 us */
	ASSERT_NE(NULL, t);
	fake_no_limits();
	fake_vmax[0] = 1000000;		/* min jerk peaks at 1.875e6 ns/s */
	fake_max = 1250000;
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(HRSERVO_LIMIT_MAX, v.kind);
	EXPECT_LT(fabs(v.value - 1300e3), 1e-6);
	EXPECT_LT(fabs(v.time_s - 0.3), 1e-12);
	EXPECT_EQ(1250000, v.limit);
	fake_max = 2500000;
	EXPECT_EQ(-1, hrservo_traj_check(t, &h, &v));
	EXPECT_EQ(HRSERVO_LIMIT_SPEED, v.kind);
	EXPECT_LT(fabs(v.time_s - 0.05), 1e-12);	/* the first peak */
	fake_no_limits();
	hrservo_traj_free(t);
}

/*
 * hrservo_traj_fit_time(): one stretch, the smallest that fits plus 1 %;
 * against a tiny limit it fails at once (ERANGE) instead of making a 21-day
 * trajectory for minutes, and hrservo_traj_check_times() then names the
 * interval beyond the kernel's 60 s.
 */
TEST(fit_time_is_fast_and_bounded)
{
	struct hrservo h = { .be = &fake_backend, .nch = 8 };
	unsigned int ch = 0;
	struct hrservo_traj *t = hrservo_traj_new(1, &ch);
	double p0 = 1000e3, p1 = 2000e3, f = 0, t0;
	struct hrservo_violation v;
	char err[256];

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_traj_add(t, 0, &p0));
	ASSERT_EQ(0, hrservo_traj_add(t, 1, &p1));
	fake_no_limits();
	/* 1.875e6 ns/s peak against 1e6: a stretch of 1.875 * 1.01. */
	fake_vmax[0] = 1000000;
	ASSERT_EQ(0, hrservo_traj_fit_time(t, &h, &f));
	EXPECT_LT(fabs(f - 1.875 * 1.01), 1e-9) TH_LOG("%.12g", f);
	EXPECT_LT(fabs(hrservo_traj_duration(t) - 1.875 * 1.01), 1e-9);
	EXPECT_EQ(0, hrservo_traj_check(t, &h, &v));
	/* Acceleration: 5.7735e6 ns/s^2 against 1e6: sqrt(5.77). */
	ASSERT_EQ(0, hrservo_traj_scale_time(t, 1 / f));
	fake_vmax[0] = 0;
	fake_amax[0] = 1000000;
	ASSERT_EQ(0, hrservo_traj_fit_time(t, &h, &f));
	EXPECT_LT(fabs(f - sqrt(10 / sqrt(3)) * 1.01), 1e-6) TH_LOG("%.12g", f);
	EXPECT_EQ(0, hrservo_traj_check(t, &h, &v));
	/* Within the limits: 1. */
	ASSERT_EQ(0, hrservo_traj_fit_time(t, &h, &f));
	EXPECT_EQ(1, f);

	/* 1 ns/s: 1.9e6 s for one segment; the kernel plays 60 s at most. */
	ASSERT_EQ(0, hrservo_traj_scale_time(t, 1 / hrservo_traj_duration(t)));
	fake_amax[0] = 0;
	fake_vmax[0] = 1;
	t0 = now_s();
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_fit_time(t, &h, &f));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_LT(now_s() - t0, 0.5);
	EXPECT_GT(f, 1e6);
	EXPECT_EQ(-1, hrservo_traj_check_times(t, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "may last at most 60 s")) TH_LOG("%s", err);

	/* A position beyond the limits cannot be fitted: untouched. */
	fake_vmax[0] = 0;
	ASSERT_EQ(0, hrservo_traj_scale_time(t, 1 / hrservo_traj_duration(t)));
	fake_max = 1500000;
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_fit_time(t, &h, &f));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_LT(fabs(hrservo_traj_duration(t) - 1), 1e-9);
	fake_no_limits();
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

/*
 * A recording (servoctl record) is frame samples, to replay with straight
 * lines: the file says so in a comment line before its header.
 */
TEST(csv_carries_its_interpolation)
{
	static const struct {
		const char *text;
		enum hrservo_interp interp;
	} ok[] = {
		{ "t_s,ch0_ns\n0,1000000\n0.02,1000100\n", HRSERVO_INTERP_MIN_JERK },
		{ "# interp: linear\nt_s,ch0_ns\n0,1000000\n0.02,1000100\n",
		  HRSERVO_INTERP_LINEAR },
		{ "# rec\n#interp:cubic  \nt_s,ch0_ns\n0,1000000\n0.02,1000100\n",
		  HRSERVO_INTERP_CUBIC },
		{ "# interp : minjerk\nt_s,ch0_ns\n0,1000000\n0.02,1000100\n",
		  HRSERVO_INTERP_MIN_JERK },
		/* Other comments, and comments after the header, are comments. */
		{ "# interpolation: smooth\nt_s,ch0_ns\n# interp: linear\n"
		  "0,1000000\n0.02,1000100\n", HRSERVO_INTERP_MIN_JERK },
	};
	static const struct bad_csv bad[] = {
		{ "# interp: spline\nt_s,ch0_ns\n0,1\n1,2\n",
		  "1: interp: 'spline' is not an interpolation (linear, cubic or minjerk)" },
		{ "# interp:\nt_s,ch0_ns\n0,1\n1,2\n",
		  "1: interp: '' is not an interpolation (linear, cubic or minjerk)" },
		{ "# interp: linear\n# interp: linear\nt_s,ch0_ns\n0,1\n1,2\n",
		  "2: a second '# interp:' line (the first is line 1)" },
	};
	char err[256], expect[320];
	struct hrservo_traj *t;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = hrservo_traj_load_csv(csv(ok[i].text), err, sizeof(err));
		ASSERT_NE(NULL, t) TH_LOG("%zu: %s", i, err);
		EXPECT_EQ(ok[i].interp, hrservo_traj_interp(t)) TH_LOG("%zu", i);
		/* Set by the program, it is the program's. */
		hrservo_traj_set_interp(t, HRSERVO_INTERP_CUBIC);
		EXPECT_EQ(HRSERVO_INTERP_CUBIC, hrservo_traj_interp(t));
		hrservo_traj_free(t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = csv(bad[i].text);

		errno = 0;
		EXPECT_EQ(NULL, hrservo_traj_load_csv(path, err, sizeof(err)));
		EXPECT_EQ(EINVAL, errno);
		snprintf(expect, sizeof(expect), "%s:%s", path, bad[i].msg);
		EXPECT_STREQ(expect, err);
	}
	EXPECT_EQ(HRSERVO_INTERP_MIN_JERK, hrservo_traj_interp(NULL));
	unlink(csv(""));
}

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

/*
 * Empty fields were merged by strtok() (0,1500,,1500 loaded as 3 values)
 * and trailing commas ignored: each is an error naming the line, the
 * column and the field. Hex floats (strtod() reads 0x10 as 16) are not
 * numbers here.
 */
TEST(csv_refuses_empty_fields_and_hex)
{
	static const struct bad_csv bad[] = {
		{ "t_s,ch0_us,ch1_us\n0,1500,,1500\n",
		  "2:8: field 3 (ch1_us) is empty" },
		{ "t_s,ch0_us,ch1_us\n,1500,1500\n",
		  "2:1: field 1 (t_s) is empty" },
		{ "t_s,ch0_us\n0,1000\n0.5,1000,\n",
		  "3:10: trailing comma after field 2 (ch0_us)" },
		{ "t_s,ch0_us\n0,1000,,\n",
		  "2:8: field 3 (beyond the header) is empty" },
		{ "t_s,ch0_us\n0,1000\n0.5, \n",
		  "3:5: trailing comma after field 1 (t_s)" },
		{ "t_s,ch0_us,\n0,1000\n",
		  "1:12: trailing comma after column 2 ('ch0_us') of the header" },
		{ "t_s,,ch0_us\n0,1000\n",
		  "1:5: column 2 of the header is empty" },
		{ "t_s,ch0_us\n0,1000\n0.5,0x5dc\n",
		  "3: '0x5dc' is not a number" },
		{ "t_s,ch0_us\n0,1000\n0x1p-1,1500\n",
		  "3: '0x1p-1' is not a number" },
		{ "t_s,ch0_us\n0,1000\n0.5,infinity\n",
		  "3: 'infinity' is not a number" },
		{ "t_s,ch0_us\n0,1000\n0.5,1e\n", "3: '1e' is not a number" },
		{ "t_s,ch0_us\n0,1000\n0.5,.\n", "3: '.' is not a number" },
		/* An invisible byte shows. */
		{ "t_s,ch0_us\n0,1000\n0.5,15\x01" "00\n",
		  "3: '15\\x0100' is not a number" },
	};
	char err[256], expect[320];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = csv(bad[i].text);

		errno = 0;
		EXPECT_EQ(NULL, hrservo_traj_load_csv(path, err, sizeof(err)));
		EXPECT_EQ(EINVAL, errno);
		snprintf(expect, sizeof(expect), "%s:%s", path, bad[i].msg);
		EXPECT_STREQ(expect, err);
	}
	unlink(csv(""));
}

/* What still loads: blanks around fields, signs, exponents, .5 and 5. */
TEST(csv_number_spellings)
{
	struct hrservo_traj *t;
	double tm, p[2];
	char err[256];

	t = hrservo_traj_load_csv(csv("t_s , ch0_us,ch1_ns\n0, 1000 ,+1.5e6\n"
				      ".5,\t2000.,1500000\n1E0,1500,15e5\n"),
				  err, sizeof(err));
	ASSERT_NE(NULL, t) TH_LOG("%s", err);
	EXPECT_EQ(3, hrservo_traj_num_waypoints(t));
	ASSERT_EQ(0, hrservo_traj_waypoint(t, 1, &tm, p));
	EXPECT_EQ(0.5, tm);
	EXPECT_EQ(2000e3, p[0]);
	ASSERT_EQ(0, hrservo_traj_waypoint(t, 0, &tm, p));
	EXPECT_EQ(1500000, p[1]);
	hrservo_traj_free(t);
	unlink(csv(""));
}

/* A UTF-8 byte order mark before the header is skipped. */
TEST(csv_utf8_bom)
{
	struct hrservo_traj *t;
	char err[256], expect[320], *path;

	t = hrservo_traj_load_csv(csv("\xef\xbb\xbft_s,ch0_us\n0,1000\n1,1500\n"),
				  err, sizeof(err));
	ASSERT_NE(NULL, t) TH_LOG("%s", err);
	EXPECT_EQ(2, hrservo_traj_num_waypoints(t));
	hrservo_traj_free(t);
	/* And the message of a bad header shows no invisible character. */
	path = csv("\xef\xbb\xbftime,ch0_us\n");
	EXPECT_EQ(NULL, hrservo_traj_load_csv(path, err, sizeof(err)));
	snprintf(expect, sizeof(expect),
		 "%s:1: header must start with t_s or t_ms, not 'time'", path);
	EXPECT_STREQ(expect, err);
	/* Only at the start of the file. */
	path = csv("t_s,ch0_us\n\xef\xbb\xbf" "0,1000\n1,1500\n");
	EXPECT_EQ(NULL, hrservo_traj_load_csv(path, err, sizeof(err)));
	snprintf(expect, sizeof(expect),
		 "%s:2: '\\xef\\xbb\\xbf0' is not a number", path);
	EXPECT_STREQ(expect, err);
	unlink(csv(""));
}

/*
 * Times in ms under a t_s header (0, 20, 40, ... 2000) make a 2000 s
 * trajectory that loads, checks and plays for half an hour: refused with a
 * hint, unless the times are written as seconds (with a decimal point).
 */
TEST(csv_t_s_that_looks_like_ms)
{
	char *text = malloc(4096), err[512], expect[600], *path;
	struct hrservo_traj *t;
	size_t o;

	ASSERT_NE(NULL, text);
	o = (size_t)sprintf(text, "t_s,ch0_us\n");
	for (int i = 0; i <= 100; i++)
		o += (size_t)sprintf(text + o, "%d,%d\n", 20 * i, 1000 + 5 * i);
	path = csv(text);
	errno = 0;
	EXPECT_EQ(NULL, hrservo_traj_load_csv(path, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	snprintf(expect, sizeof(expect),
		 "%s:1:1: t_s: the times make a 2000 s trajectory (to line 102); did you mean t_ms? (write seconds with a decimal point, as 2000.0, to keep them)",
		 path);
	EXPECT_STREQ(expect, err);
	/* The same as t_ms: 2 s. */
	text[2] = 'm';
	memmove(text + 4, text + 3, strlen(text + 3) + 1);
	text[3] = 's';
	t = hrservo_traj_load_csv(csv(text), err, sizeof(err));
	ASSERT_NE(NULL, t) TH_LOG("%s", err);
	EXPECT_EQ(2, hrservo_traj_duration(t));
	hrservo_traj_free(t);
	/* Seconds, said so: kept. */
	t = hrservo_traj_load_csv(csv("t_s,ch0_us\n0,1000\n1000.0,1100\n2000,1500\n"),
				  err, sizeof(err));
	ASSERT_NE(NULL, t) TH_LOG("%s", err);
	EXPECT_EQ(2000, hrservo_traj_duration(t));
	hrservo_traj_free(t);
	/* Whole seconds up to 1000 s are not suspect. */
	t = hrservo_traj_load_csv(csv("t_s,ch0_us\n0,1000\n60,1100\n1000,1500\n"),
				  err, sizeof(err));
	ASSERT_NE(NULL, t) TH_LOG("%s", err);
	hrservo_traj_free(t);
	free(text);
	unlink(csv(""));
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
