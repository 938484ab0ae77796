// SPDX-License-Identifier: GPL-2.0
/*
 * libhrservo against the driver, in the guest: opening by every spec,
 * batches, state snapshots, limits, period, events, read-only access and
 * removal. Built with ASan and UBSan, the library compiled in.
 *
 * Run as lib_test@gpiod (HRSERVO_TEST_BACKEND=gpiod), the same tests drive
 * the library's gpiod backend on the same loopback lines (tests that are
 * about the kernel's controller, sysfs or /dev skip there), and the gpiod_*
 * tests run: spec errors, real-time refusals, close and release that finish
 * the pulse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "hrservo.h"
#include "testlib.h"

#define US	1000U
#define MS_NS	1000000ULL

/* Skip a test about the kernel's controller when the backend is gpiod. */
#define KERNEL_ONLY()							\
	do {								\
		if (tl_backend() == TL_GPIOD)				\
			SKIP(return, "about the kernel's controller");	\
	} while (0)
#define GPIOD_ONLY()							\
	do {								\
		if (tl_backend() != TL_GPIOD)				\
			SKIP(return, "gpiod backend (lib_test@gpiod)");	\
	} while (0)

FIXTURE(lib) {
	struct tl_ctrl c;
	struct hrservo *h;
};

FIXTURE_SETUP(lib)
{
	ASSERT_EQ(0, tl_create(&self->c, 0, 8));
	self->h = hrservo_open(self->c.name);
	ASSERT_NE(NULL, self->h);
}

FIXTURE_TEARDOWN(lib)
{
	hrservo_close(self->h);
	EXPECT_EQ(0, tl_destroy(&self->c));
}

TEST_F(lib, open_by_every_spec)
{
	char spec[64];
	struct hrservo *h;

	KERNEL_ONLY();
	EXPECT_EQ(HRSERVO_API_VERSION, hrservo_api_version());
	EXPECT_STREQ(self->c.name, hrservo_name(self->h));
	EXPECT_STREQ("hrservo-gpio", hrservo_backend(self->h));
	EXPECT_EQ(8, hrservo_num_channels(self->h));
	EXPECT_EQ(50000, hrservo_pulse_min_ns(self->h));
	EXPECT_EQ(19900000, hrservo_pulse_max_ns(self->h));
	EXPECT_EQ(1, hrservo_resolution_ns(self->h));

	snprintf(spec, sizeof(spec), "/dev/%s", self->c.name);
	h = hrservo_open(spec);
	ASSERT_NE(NULL, h);
	EXPECT_STREQ(self->c.name, hrservo_name(h));
	hrservo_close(h);
	h = hrservo_open(self->c.name + strlen("hrservo"));
	ASSERT_NE(NULL, h);
	hrservo_close(h);

	errno = 0;
	EXPECT_EQ(NULL, hrservo_open("hrservo63"));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(NULL, hrservo_open("servo"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hrservo_open(""));
	EXPECT_EQ(EINVAL, errno);
	/* A character device that is not an hrservo: claimed by nobody... */
	EXPECT_EQ(NULL, hrservo_open("/dev/null"));
	EXPECT_EQ(EINVAL, errno);
	/* ...but chardev: opens it, and asks. */
	EXPECT_EQ(NULL, hrservo_open("chardev:/dev/null"));
	EXPECT_EQ(ENOENT, errno);
	snprintf(spec, sizeof(spec), "chardev:/dev/%s", self->c.name);
	h = hrservo_open(spec);
	ASSERT_NE(NULL, h);
	hrservo_close(h);
	/* A malformed gpiod spec (no lines); usb: is not built in. */
	EXPECT_EQ(NULL, hrservo_open("gpiod:gpiochip0"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hrservo_open("usb:1"));
	EXPECT_EQ(ENOTSUP, errno);
}

/*
 * Options for opening, on either backend: their defaults, the frame period
 * set at open, and a period refused failing the open whole.
 */
TEST_F(lib, open_with_options)
{
	struct hrservo_open_config *cfg = hrservo_open_config_new();
	uint32_t period = 0, min = 0, max = 0, kept;
	char words[96];
	struct hrservo *h;

	ASSERT_NE(NULL, cfg);
	EXPECT_EQ(0, hrservo_open_config_get_frame_period(cfg));
	EXPECT_EQ(-1, hrservo_open_config_get_rt_priority(cfg));
	errno = 0;
	EXPECT_EQ(-1, hrservo_open_config_set_rt_priority(cfg, 100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, hrservo_open_config_set_rt_priority(cfg, -2));
	EXPECT_EQ(-1, hrservo_open_config_get_rt_priority(cfg));
	/* The gpiod backend's lines take one handle at a time. */
	hrservo_close(self->h);
	self->h = NULL;

	ASSERT_EQ(0, hrservo_open_config_set_frame_period(cfg, 10000000));
	EXPECT_EQ(10000000, hrservo_open_config_get_frame_period(cfg));
	h = hrservo_open_with(self->c.name, cfg);
	ASSERT_NE(NULL, h) TH_LOG("%s", hrservo_last_error());
	ASSERT_EQ(0, hrservo_get_frame_period(h, &period, &min, &max));
	EXPECT_EQ(10000000, period);
	hrservo_close(h);
	/* The kernel's controller keeps it; a gpiod player starts anew. */
	kept = tl_backend() == TL_GPIOD ? 20000000 : 10000000;

	ASSERT_EQ(0, hrservo_open_config_set_frame_period(cfg, 1000));
	errno = 0;
	EXPECT_EQ(NULL, hrservo_open_with(self->c.name, cfg));
	EXPECT_EQ(ERANGE, errno);
	snprintf(words, sizeof(words), "frame period 1000 ns: it takes %u..%u ns",
		 min, max);
	EXPECT_NE(NULL, strstr(hrservo_last_error(), words))
		TH_LOG("last error \"%s\", wanted \"%s\"",
		       hrservo_last_error(), words);
	self->h = hrservo_open_with(self->c.name, NULL);
	ASSERT_NE(NULL, self->h);
	ASSERT_EQ(0, hrservo_get_frame_period(self->h, &period, NULL, NULL));
	EXPECT_EQ(kept, period);
	hrservo_open_config_free(cfg);
	hrservo_open_config_free(NULL);
}

TEST_F(lib, list_finds_it)
{
	struct hrservo_list *l = hrservo_list_new();
	bool found = false;

	KERNEL_ONLY();
	ASSERT_NE(NULL, l);
	for (size_t i = 0; i < hrservo_list_count(l); i++)
		found |= !strcmp(hrservo_list_name(l, i), self->c.name);
	EXPECT_TRUE(found);
	errno = 0;
	EXPECT_EQ(NULL, hrservo_list_name(l, hrservo_list_count(l)));
	EXPECT_EQ(EINVAL, errno);
	hrservo_list_free(l);
}

TEST_F(lib, batch_is_atomic)
{
	struct hrservo_batch *b = hrservo_batch_new();
	struct hrservo_state *st;

	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, hrservo_batch_add(b, 0, 1000 * US));
	ASSERT_EQ(0, hrservo_batch_add(b, 7, 2000 * US));
	EXPECT_EQ(-1, hrservo_batch_add(b, 7, 1500 * US));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, hrservo_batch_add(b, 64, 1500 * US));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(2, hrservo_batch_count(b));
	ASSERT_EQ(0, hrservo_apply(self->h, b));

	/* One bad element: nothing of the batch is applied. */
	hrservo_batch_clear(b);
	EXPECT_EQ(0, hrservo_batch_count(b));
	ASSERT_EQ(0, hrservo_batch_add(b, 0, 1100 * US));
	ASSERT_EQ(0, hrservo_batch_add(b, 3, 3000 * US));
	EXPECT_EQ(-1, hrservo_apply(self->h, b));
	EXPECT_EQ(ERANGE, errno);
	hrservo_batch_clear(b);
	ASSERT_EQ(0, hrservo_batch_add(b, 8, 1100 * US));
	EXPECT_EQ(-1, hrservo_apply(self->h, b));
	EXPECT_EQ(EINVAL, errno);
	hrservo_batch_clear(b);
	EXPECT_EQ(-1, hrservo_apply(self->h, b));
	EXPECT_EQ(EINVAL, errno);

	st = hrservo_read_state(self->h);
	ASSERT_NE(NULL, st);
	EXPECT_EQ(8, hrservo_state_num_channels(st));
	EXPECT_EQ(1000 * US, hrservo_state_target_ns(st, 0));
	EXPECT_TRUE(hrservo_state_enabled(st, 0));
	EXPECT_EQ(0, hrservo_state_target_ns(st, 3));
	EXPECT_FALSE(hrservo_state_enabled(st, 3));
	EXPECT_EQ(2000 * US, hrservo_state_target_ns(st, 7));
	EXPECT_EQ(500 * US, hrservo_state_min_ns(st, 7));
	EXPECT_EQ(2500 * US, hrservo_state_max_ns(st, 7));
	/* Out-of-range channels read as idle. */
	EXPECT_EQ(0, hrservo_state_target_ns(st, 40));
	hrservo_state_free(st);
	hrservo_batch_free(b);
}

TEST_F(lib, limits_period_release)
{
	struct hrservo_state *st;
	uint32_t mn, mx, p, pmin, pmax;

	ASSERT_EQ(0, hrservo_set_limits(self->h, 2, 900 * US, 2100 * US));
	ASSERT_EQ(0, hrservo_get_limits(self->h, 2, &mn, &mx));
	EXPECT_EQ(900 * US, mn);
	EXPECT_EQ(2100 * US, mx);
	EXPECT_EQ(-1, hrservo_set_limits(self->h, 2, 2100 * US, 900 * US));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, hrservo_get_limits(self->h, 8, &mn, &mx));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, hrservo_set_frame_period(self->h, 10000000));
	ASSERT_EQ(0, hrservo_get_frame_period(self->h, &p, &pmin, &pmax));
	EXPECT_EQ(10000000, p);
	EXPECT_EQ(2500000, pmin);
	EXPECT_EQ(50000000, pmax);
	EXPECT_EQ(-1, hrservo_set_frame_period(self->h, 1000000));
	EXPECT_EQ(ERANGE, errno);

	ASSERT_EQ(0, hrservo_set_target(self->h, 2, 1500 * US));
	EXPECT_EQ(-1, hrservo_set_target(self->h, 8, 1500 * US));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, hrservo_release(self->h, 1ULL << 8));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, hrservo_release(self->h, 1ULL << 2));
	st = hrservo_read_state(self->h);
	ASSERT_NE(NULL, st);
	EXPECT_FALSE(hrservo_state_enabled(st, 2));
	hrservo_state_free(st);
}

TEST_F(lib, events)
{
	struct hrservo_event_data ev;
	struct pollfd pfd;
	uint64_t t0;

	pfd.fd = hrservo_event_fd(self->h);
	pfd.events = POLLIN;
	ASSERT_LE(0, pfd.fd);
	EXPECT_EQ(-1, hrservo_read_event(self->h, &ev, 0));
	EXPECT_EQ(EAGAIN, errno);
	t0 = tl_now();
	EXPECT_EQ(-1, hrservo_read_event(self->h, &ev, 50));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_GE(tl_now() - t0, 50000000);

	ASSERT_EQ(0, hrservo_set_target(self->h, 1, 1500 * US));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(0, hrservo_read_event(self->h, &ev, -1));
	EXPECT_EQ(HRSERVO_EV_STATE, ev.type);
	EXPECT_EQ(1ULL << 1, ev.mask);
	EXPECT_EQ(1, ev.seq);
	ASSERT_EQ(0, hrservo_set_frame_period(self->h, 25000000));
	ASSERT_EQ(0, hrservo_read_event(self->h, &ev, 1000));
	EXPECT_EQ(HRSERVO_EV_PERIOD, ev.type);
	EXPECT_EQ(25000000, ev.value);
}

/*
 * What a userspace wake-up may add to a pulse (gpiod), beyond the kernel's:
 * under -icount, as make check runs the guest, the wave's pulses came
 * within 20 us of their plan (98th percentile); this leaves room for a
 * loaded host.
 */
static double wake_tol_ns(void)
{
	return 5.0 * tl_tolerance_ns();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The @pct-th percentile of @v[0..@n) (nearest rank); sorts @v. */
static double percentile(double *v, size_t n, unsigned int pct)
{
	size_t r = (n * pct + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	return v[r ? r - 1 : 0];
}

/*
 * Read @h's events up to HRSERVO_EV_TRAJ_DONE: the clamp events among them
 * into *@clamps, the axes they name into *@clamped. 0, or -1 if no event
 * came within 5 s.
 */
static int clamps_until_done(struct hrservo *h, unsigned int *clamps,
			     uint64_t *clamped)
{
	struct hrservo_event_data ev;

	*clamps = 0;
	*clamped = 0;
	do {
		if (hrservo_read_event(h, &ev, 5000))
			return -1;
		if (ev.type == HRSERVO_EV_CLAMP) {
			(*clamps)++;
			*clamped |= ev.mask;
		}
	} while (ev.type != HRSERVO_EV_TRAJ_DONE);
	return 0;
}

/*
 * Frames the controller skipped since @t (a start more than a period
 * after the one before), as far back as its frame record reaches (128
 * frames); -1 if it cannot be read.
 */
static int frames_skipped_since(struct hrservo *h, uint64_t t)
{
	struct hrservo_frame_data fr[128];
	uint64_t next, lost;
	size_t nf;
	int skipped = 0;

	if (hrservo_read_frames(h, 0, fr, 128, &nf, &next, &lost))
		return -1;
	for (size_t i = 1; i < nf; i++)
		if (fr[i].start_ns >= t &&
		    fr[i].start_ns - fr[i - 1].start_ns > fr[i].period_ns)
			skipped++;
	return skipped;
}

/*
 * A six-joint wave, the way a robot builder plays one: three joints with
 * speed and acceleration limits just above what the wave needs, three
 * without. hrservo_traj_check() passes it, and every joint follows the plan
 * as closely as the unlimited ones: the limiter must not brake toward each
 * frame's point (that lagged limited joints by tens of us, in most frames).
 * No clamp event.
 *
 * Each joint is judged by its 98th-percentile deviation: one edge late
 * under a loaded guest (it shifted one pulse of one joint by 10 us against
 * a 1 us margin) is not what the limiter did, a lag in most frames is.
 */
TEST_F(lib, wave_follows_plan_on_limited_joints)
{
	static const double amp_us[6] = { 300, 250, 200, 300, 250, 200 };
	unsigned int ch[6] = { 0, 1, 2, 3, 4, 5 };
	struct hrservo_traj *t = hrservo_traj_new(6, ch);
	struct tl_pulse p[256];
	struct hrservo_event_data ev;
	struct hrservo_violation v;
	double dev[256], worst[6] = { 0 };
	unsigned int clamps;
	uint64_t clamped;
	struct tl_edge *e;
	int skipped;
	uint64_t t0;
	size_t n;

	ASSERT_NE(NULL, t);
	/* Waypoints every 100 ms of 1.5 ms + A sin^2(m pi t / 2.4 s). */
	for (int k = 0; k <= 24; k++) {
		double pos[6], x = k * 0.1;

		for (int a = 0; a < 6; a++) {
			double s = sin((1 + a % 2) * M_PI * x / 2.4);

			pos[a] = (1500 + amp_us[a] * s * s) * US;
		}
		ASSERT_EQ(0, hrservo_traj_add(t, x, pos));
	}
	hrservo_traj_set_interp(t, HRSERVO_INTERP_CUBIC);
	/* Limits of joints 0..2: 10% above the wave's peaks. */
	for (int a = 0; a < 3; a++) {
		double vmax = 0, amax = 0;

		for (int i = 0; i <= 24000; i++) {
			double pos[6], vel[6], acc[6];

			hrservo_traj_eval(t, i * 1e-4, pos, vel, acc);
			vmax = fmax(vmax, fabs(vel[a]));
			amax = fmax(amax, fabs(acc[a]));
		}
		ASSERT_EQ(0, hrservo_set_motion_limits(self->h, a,
						       (uint32_t)(vmax * 1.1),
						       (uint32_t)(amax * 1.1)));
	}
	ASSERT_EQ(0, hrservo_traj_check(t, self->h, &v));
	/* The joints stand where the wave starts. */
	for (int a = 0; a < 6; a++)
		ASSERT_EQ(0, hrservo_set_target(self->h, a, 1500 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	while (!hrservo_read_event(self->h, &ev, 0))
		;
	tl_capture_clear();
	t0 = tl_now() + 100000000ULL;
	ASSERT_EQ(0, hrservo_traj_upload(t, self->h, t0, 0));
	ASSERT_EQ(0, clamps_until_done(self->h, &clamps, &clamped));
	/*
	 * No clamp, unless a frame was skipped: then the joints had two
	 * frames of the plan to make in one, more than their limits allow
	 * (a thread woken too late for a frame's work skips it, gpiod).
	 */
	skipped = frames_skipped_since(self->h, t0);
	TH_LOG("%u clamp event(s), %d frame(s) skipped", clamps, skipped);
	if (skipped <= 0)
		EXPECT_EQ(0, clamps);
	n = tl_capture(&e);
	for (int a = 0; a < 6; a++) {
		size_t np = tl_pulses(e, n, a, p, 256), used = 0;
		uint64_t base = UINT64_MAX;

		/*
		 * The kernel samples the plan at each frame's scheduled start,
		 * on a grid of 20 ms; a rise comes some latency later. The
		 * grid is where the earliest rise puts it: the reference does
		 * not move with the latency of each frame.
		 */
		for (size_t i = 0; i < np; i++)
			if (p[i].rise - i * TL_FRAME_NS < base)
				base = p[i].rise - i * TL_FRAME_NS;
		for (size_t i = 0; i < np; i++) {
			uint64_t frame = base + i * TL_FRAME_NS;
			double pos[6];

			if (!p[i].width || frame < t0)
				continue;
			hrservo_traj_eval(t, (frame - t0) / 1e9, pos, NULL,
					  NULL);
			dev[used++] = fabs(p[i].width - pos[a]);
		}
		ASSERT_GE(used, 100);
		worst[a] = percentile(dev, used, 98);
	}
	free(e);
	TH_LOG("98th-percentile deviation from the plan (ns): limited %.0f %.0f %.0f, unlimited %.0f %.0f %.0f",
	       worst[0], worst[1], worst[2], worst[3], worst[4], worst[5]);
	/*
	 * The gpiod backend's widths carry its wake-up latency, different at
	 * each edge: the limited joints may be worse by that much. That is
	 * coarse there: a limiter braking toward each point (55 us at the
	 * 98th percentile against 15) is caught by its clamp events.
	 */
	for (int a = 0; a < 3; a++)
		EXPECT_LE(worst[a], fmax(fmax(worst[3], worst[4]), worst[5]) +
			  (tl_backend() == TL_GPIOD ? wake_tol_ns() : 1000));
	hrservo_traj_free(t);
}

/*
 * A trajectory faster than its axis's speed limit, on either backend: the
 * limiter holds the axis back and one HRSERVO_EV_CLAMP names it, once
 * while it stays held; the unlimited axis is not named.
 */
TEST_F(lib, clamp_event_names_held_axes)
{
	static const unsigned int ch[] = { 0, 1 };
	struct hrservo_traj *t = hrservo_traj_new(2, ch);
	double a[2] = { 1000.0 * US, 1000.0 * US };
	double b[2] = { 2000.0 * US, 2000.0 * US };
	struct hrservo_event_data ev;
	unsigned int clamps;
	uint64_t clamped;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_traj_add(t, 0, a));
	/* 2.5 ms/s: 50 us a frame, where channel 1 may move 20. */
	ASSERT_EQ(0, hrservo_traj_add(t, 0.4, b));
	ASSERT_EQ(0, hrservo_set_motion_limits(self->h, 1, 1000000, 0));
	ASSERT_EQ(0, hrservo_set_target(self->h, 0, 1000 * US));
	ASSERT_EQ(0, hrservo_set_target(self->h, 1, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	while (!hrservo_read_event(self->h, &ev, 0))
		;
	ASSERT_EQ(0, hrservo_traj_upload(t, self->h, 0, 0));
	ASSERT_EQ(0, clamps_until_done(self->h, &clamps, &clamped));
	EXPECT_EQ(1, clamps);
	EXPECT_EQ(1ULL << 1, clamped);
	/* A new trajectory that the limits hold back: the axis is named again. */
	hrservo_traj_free(t);
	t = hrservo_traj_new(2, ch);
	ASSERT_NE(NULL, t);
	tl_sleep_ns(1000000000);	/* channel 1 arrives at 2000 us */
	while (!hrservo_read_event(self->h, &ev, 0))
		;
	ASSERT_EQ(0, hrservo_traj_add(t, 0, b));
	ASSERT_EQ(0, hrservo_traj_add(t, 0.4, a));
	ASSERT_EQ(0, hrservo_traj_upload(t, self->h, 0, 0));
	ASSERT_EQ(0, clamps_until_done(self->h, &clamps, &clamped));
	EXPECT_EQ(1, clamps);
	EXPECT_EQ(1ULL << 1, clamped);
	hrservo_traj_free(t);
}

TEST(read_only_access)
{
	struct hrservo_state *st;
	struct tl_ctrl c;
	struct hrservo *h;
	char path[64];

	KERNEL_ONLY();
	ASSERT_EQ(0, tl_create(&c, 20, 2));
	snprintf(path, sizeof(path), "/dev/%s", c.name);
	ASSERT_EQ(0, chmod(path, 0444));
	ASSERT_EQ(0, setegid(65534));
	ASSERT_EQ(0, seteuid(65534));
	h = hrservo_open(c.name);
	EXPECT_EQ(0, seteuid(0));
	EXPECT_EQ(0, setegid(0));
	ASSERT_NE(NULL, h);
	st = hrservo_read_state(h);
	EXPECT_NE(NULL, st);
	hrservo_state_free(st);
	EXPECT_EQ(-1, hrservo_set_target(h, 0, 1500 * US));
	EXPECT_EQ(EBADF, errno);
	hrservo_close(h);
	EXPECT_EQ(0, tl_destroy(&c));
}

TEST(removal)
{
	struct hrservo_event_data ev;
	struct tl_ctrl c;
	struct hrservo *h;

	KERNEL_ONLY();
	ASSERT_EQ(0, tl_create(&c, 24, 2));
	h = hrservo_open(c.name);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, tl_destroy(&c));
	EXPECT_EQ(-1, hrservo_set_target(h, 0, 1500 * US));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(NULL, hrservo_read_state(h));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, hrservo_read_event(h, &ev, 1000));
	EXPECT_EQ(HRSERVO_EV_REMOVED, ev.type);
	EXPECT_EQ(-1, hrservo_read_event(h, &ev, 1000));
	EXPECT_EQ(ENODEV, errno);
	hrservo_close(h);
}


/*
 * The e-stop latch, through the library on either backend: a trip runs
 * its action, raises HRSERVO_EV_ESTOP and refuses targets and trajectories
 * with EPERM until cleared; releases still work; a clear moves nothing.
 */
TEST_F(lib, estop_latch)
{
	static const unsigned int ch[] = { 3 };
	struct hrservo_estop_info info;
	struct hrservo_event_data ev;
	struct hrservo_traj *t = hrservo_traj_new(1, ch);
	double a = 1500.0 * US, b = 1600.0 * US;
	struct tl_pulse p[64];
	struct tl_edge *e;
	size_t n;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, hrservo_traj_add(t, 0, &a));
	ASSERT_EQ(0, hrservo_traj_add(t, 0.2, &b));
	ASSERT_EQ(0, hrservo_estop_get(self->h, &info));
	EXPECT_FALSE(info.latched);
	EXPECT_EQ(0, info.source);
	ASSERT_EQ(0, hrservo_set_target(self->h, 3, 1500 * US));
	tl_sleep_ns(100000000);
	while (!hrservo_read_event(self->h, &ev, 0))
		;

	ASSERT_EQ(0, hrservo_estop_trip(self->h, HRSERVO_FS_RELEASE));
	ASSERT_EQ(0, hrservo_read_event(self->h, &ev, 1000));
	EXPECT_EQ(HRSERVO_EV_ESTOP, ev.type);
	EXPECT_EQ(HRSERVO_ESTOP_BY_USER, ev.value);
	EXPECT_EQ(1ULL << 3, ev.mask);
	ASSERT_EQ(0, hrservo_estop_get(self->h, &info));
	EXPECT_TRUE(info.latched);
	EXPECT_EQ(HRSERVO_ESTOP_BY_USER, info.source);
	EXPECT_NE(0, info.tripped_ns);
	errno = 0;
	EXPECT_EQ(-1, hrservo_set_target(self->h, 3, 1500 * US));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(t, self->h, 0, HRSERVO_UPLOAD_JUMP));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, hrservo_release(self->h, 3));
	/* Released: after the pulse in progress, none. */
	tl_sleep_ns(60000000);
	tl_capture_clear();
	tl_sleep_ns(100000000);
	n = tl_capture(&e);
	EXPECT_EQ(0, tl_pulses(e, n, 3, p, 64));
	free(e);

	ASSERT_EQ(0, hrservo_estop_clear(self->h));
	ASSERT_EQ(0, hrservo_estop_get(self->h, &info));
	EXPECT_FALSE(info.latched);
	do {
		ASSERT_EQ(0, hrservo_read_event(self->h, &ev, 1000));
	} while (ev.type != HRSERVO_EV_ESTOP);
	EXPECT_EQ(0, ev.value);
	EXPECT_EQ(0, ev.mask);
	EXPECT_EQ(0, hrservo_set_target(self->h, 3, 1500 * US));
	EXPECT_EQ(0, hrservo_estop_clear(self->h));
	hrservo_traj_free(t);
}

/*
 * A watchdog's pose goes within the limits of the moment, on either
 * backend: narrowed after arming, the pose channel stops at the new
 * limit, not at the pose.
 */
TEST_F(lib, watchdog_pose_within_limits)
{
	struct hrservo_batch *pose = hrservo_batch_new();
	struct hrservo_event_data ev;
	struct tl_pulse p[64];
	uint64_t least = UINT64_MAX;
	struct hrservo_state *st;
	struct tl_edge *e;
	size_t n, np;

	ASSERT_NE(NULL, pose);
	ASSERT_EQ(0, hrservo_batch_add(pose, 0, 2000 * US));
	ASSERT_EQ(0, hrservo_set_target(self->h, 0, 1500 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, hrservo_watchdog_arm(self->h, 100, HRSERVO_FS_POSE, pose));
	hrservo_batch_free(pose);
	ASSERT_EQ(0, hrservo_set_limits(self->h, 0, 1000 * US, 1800 * US));
	/* Starved: the failsafe runs within the timeout and a frame. */
	tl_sleep_ns(300000000);
	do {
		ASSERT_EQ(0, hrservo_read_event(self->h, &ev, 1000));
	} while (ev.type != HRSERVO_EV_WATCHDOG);
	EXPECT_EQ(1ULL << 0, ev.mask);
	/* Its target too, not only what the limiter lets out. */
	st = hrservo_read_state(self->h);
	ASSERT_NE(NULL, st);
	EXPECT_EQ(1800 * US, hrservo_state_target_ns(st, 0));
	hrservo_state_free(st);
	tl_capture_clear();
	tl_sleep_ns(5 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 0, p, 64);
	if (np && !p[np - 1].width)
		np--;
	ASSERT_GE(np, 3);
	/* A late wake-up (gpiod) only lengthens a pulse: the shortest. */
	for (size_t i = 0; i < np; i++)
		if (p[i].width < least)
			least = p[i].width;
	EXPECT_LE(least > 1800 * US ? least - 1800 * US : 1800 * US - least,
		  tl_backend() == TL_GPIOD ? wake_tol_ns() : tl_tolerance_ns()) {
		for (size_t i = 0; i < np; i++)
			TH_LOG("pulse %zu at %llu: %llu ns", i,
			       (unsigned long long)p[i].rise,
			       (unsigned long long)p[i].width);
	}
	free(e);
	EXPECT_EQ(0, hrservo_watchdog_arm(self->h, 0, HRSERVO_FS_HOLD, NULL));
}

/* ---- the gpiod backend (lib_test@gpiod) ---- */

#define LB	"gpiod:" TL_LB_LABEL

/* Open @spec expecting failure with @err and @words in hrservo_last_error(). */
static void open_fails(struct __test_metadata *_metadata, const char *spec,
		       int err, const char *words)
{
	struct hrservo *h;

	errno = 0;
	h = hrservo_open(spec);
	EXPECT_EQ(NULL, h);
	EXPECT_EQ(err, errno);
	EXPECT_NE(NULL, strstr(hrservo_last_error(), words))
		TH_LOG("%s: last error \"%s\", wanted \"%s\"", spec,
		       hrservo_last_error(), words);
	if (h)
		hrservo_close(h);
}

/* The chip's name in a gpiod handle's name "gpiod:CHIP:LINES". */
static void chip_of(const struct hrservo *h, char *chip, size_t size)
{
	const char *n = hrservo_name(h) + strlen("gpiod:");

	snprintf(chip, size, "%.*s", (int)strcspn(n, ":"), n);
}

TEST_F(lib, gpiod_specs)
{
	uint32_t caps = hrservo_caps(self->h);
	char chip[64], spec[128];
	struct hrservo *h;

	GPIOD_ONLY();
	EXPECT_STREQ("gpiod", hrservo_backend(self->h));
	EXPECT_EQ(8, hrservo_num_channels(self->h));
	EXPECT_EQ(0, strncmp(hrservo_name(self->h), "gpiod:gpiochip", 14));
	EXPECT_NE(NULL, strstr(hrservo_name(self->h), ":0-7"));
	EXPECT_EQ(HRSERVO_CAP_EVENTS | HRSERVO_CAP_TRAJ |
		  HRSERVO_CAP_MOTION_LIMITS | HRSERVO_CAP_ATOMIC_BATCH |
		  HRSERVO_CAP_FRAME_PERIOD | HRSERVO_CAP_RT_TIMING |
		  HRSERVO_CAP_WATCHDOG | HRSERVO_CAP_FRAME_RECORD |
		  HRSERVO_CAP_ESTOP, caps & 0x3ff);

	/* The same chip by name and by path; lines held are busy. */
	chip_of(self->h, chip, sizeof(chip));
	snprintf(spec, sizeof(spec), "gpiod:%s:10,12", chip);
	h = hrservo_open(spec);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(2, hrservo_num_channels(h));
	EXPECT_STREQ("", hrservo_last_error());
	hrservo_close(h);
	snprintf(spec, sizeof(spec), "gpiod:/dev/%s:10-12:prio=10", chip);
	h = hrservo_open(spec);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(3, hrservo_num_channels(h));
	hrservo_close(h);
	open_fails(_metadata, LB ":7,8", EBUSY, "requesting the lines");

	open_fails(_metadata, "gpiod:no-such-chip:0", ENODEV,
		   "no GPIO chip 'no-such-chip'");
	open_fails(_metadata, LB ":", EINVAL, "bad line list");
	open_fails(_metadata, LB ":9,x", EINVAL, "bad line list");
	open_fails(_metadata, LB ":9,", EINVAL, "bad line list");
	open_fails(_metadata, LB ":12-10", EINVAL, "bad line list");
	open_fails(_metadata, LB ":9,10,9", EINVAL, "line 9 given twice");
	open_fails(_metadata, LB ":63,64", EINVAL, "has lines 0..63: no line 64");
	open_fails(_metadata, LB ":0-64", EINVAL, "more than 64 lines");
	open_fails(_metadata, LB ":9:fast", EINVAL, "unknown option 'fast'");
	open_fails(_metadata, LB ":9:prio=100", EINVAL,
		   "the priority must be 1..99");
	open_fails(_metadata, LB ":9:no-rt,prio=10", EINVAL,
		   "no-rt and prio=N contradict");
	open_fails(_metadata, LB ":9:prio=10,prio=20", EINVAL,
		   "prio given twice");
	open_fails(_metadata, LB ":9:", EINVAL, "bad options");
	open_fails(_metadata, "gpiod:" TL_LB_LABEL, EINVAL,
		   "want gpiod:CHIP:LINES[:OPTIONS]");
	/* A later open clears the words. */
	h = hrservo_open("nothing");
	EXPECT_EQ(NULL, h);
	EXPECT_STREQ("", hrservo_last_error());
}

/*
 * The library's watchdog: kept alive by changes and keep-alives, it runs
 * its failsafe (here: release) when they stop, raises HRSERVO_EV_WATCHDOG
 * once, and the pulses end.
 */
TEST_F(lib, gpiod_watchdog)
{
	struct hrservo_event_data ev;
	struct tl_pulse p[64];
	struct tl_edge *e;
	size_t n, np;

	GPIOD_ONLY();
	EXPECT_EQ(-1, hrservo_keepalive(self->h));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, hrservo_watchdog_arm(self->h, 100, HRSERVO_FS_RELEASE,
					  NULL));
	ASSERT_EQ(0, hrservo_set_target(self->h, 2, 1200 * US));
	/* Fed every 40 ms for 400 ms: it does not fire. */
	for (int i = 0; i < 10; i++) {
		tl_sleep_ns(40000000);
		ASSERT_EQ(0, hrservo_keepalive(self->h));
	}
	while (!hrservo_read_event(self->h, &ev, 0))
		EXPECT_NE(HRSERVO_EV_WATCHDOG, ev.type);
	tl_capture_clear();
	/* Starved: within the timeout and a frame, the pulses stop. */
	tl_sleep_ns(400000000);
	ASSERT_EQ(0, hrservo_read_event(self->h, &ev, 0));
	EXPECT_EQ(HRSERVO_EV_WATCHDOG, ev.type);
	EXPECT_EQ(HRSERVO_EV_WATCHDOG_EXPIRED, ev.value);
	EXPECT_EQ(1ULL << 2, ev.mask);
	EXPECT_EQ(-1, hrservo_read_event(self->h, &ev, 0));
	n = tl_capture(&e);
	np = tl_pulses(e, n, 2, p, 64);
	EXPECT_GE(np, 4);
	EXPECT_LE(np, 7);
	EXPECT_EQ(0, e[n - 1].level);
	free(e);
	EXPECT_EQ(0, hrservo_watchdog_arm(self->h, 0, HRSERVO_FS_HOLD, NULL));
}

/* A two-waypoint trajectory on channel 0 from @a_us to @b_us over @s. */
static struct hrservo_traj *line_traj(double a_us, double b_us, double s)
{
	static const unsigned int ch[] = { 0 };
	struct hrservo_traj *t = hrservo_traj_new(1, ch);
	double a = a_us * US, b = b_us * US;

	if (t && (hrservo_traj_add(t, 0, &a) || hrservo_traj_add(t, s, &b))) {
		hrservo_traj_free(t);
		return NULL;
	}
	return t;
}

/*
 * Trajectories are placed as the kernel places them: an append must start
 * where the axis is (EDOM, unless JUMP), at a time only when the queue is
 * empty; a splice needs a queue playing then and must be continuous.
 */
TEST_F(lib, gpiod_traj_placement)
{
	struct hrservo_traj *t1 = line_traj(1000, 2000, 1.0);
	struct hrservo_traj *far = line_traj(1800, 1200, 0.5);
	struct hrservo_traj *mid = line_traj(1500, 1000, 0.3);
	struct hrservo_traj_info info;
	struct hrservo_event_data ev;
	struct hrservo_state *st;
	uint64_t owned, t0;
	uint32_t target;

	GPIOD_ONLY();
	ASSERT_NE(NULL, t1);
	ASSERT_NE(NULL, far);
	ASSERT_NE(NULL, mid);
	/* No position yet: an append must jump. */
	EXPECT_EQ(-1, hrservo_traj_upload(t1, self->h, 0, 0));
	EXPECT_EQ(EDOM, errno);
	/* A splice into nothing. */
	EXPECT_EQ(-1, hrservo_traj_upload(t1, self->h, 0,
					  HRSERVO_UPLOAD_REPLACE));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, hrservo_set_target(self->h, 0, 1000 * US));
	/* In the past. */
	EXPECT_EQ(-1, hrservo_traj_upload(t1, self->h, tl_now() - 1000000, 0));
	EXPECT_EQ(EINVAL, errno);
	t0 = tl_now() + 100000000ULL;
	ASSERT_EQ(0, hrservo_traj_upload(t1, self->h, t0, 0));
	ASSERT_EQ(0, hrservo_traj_owned(self->h, &owned));
	EXPECT_EQ(1, owned);
	EXPECT_EQ(-1, hrservo_set_target(self->h, 0, 1500 * US));
	EXPECT_EQ(EBUSY, errno);
	/* An append has no time of its own, and starts where the queue ends. */
	EXPECT_EQ(-1, hrservo_traj_upload(far, self->h, t0 + 2000000000ULL, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, hrservo_traj_upload(far, self->h, 0, 0));
	EXPECT_EQ(EDOM, errno);
	/* A splice half way (1.5 ms then): where the queue is. */
	EXPECT_EQ(-1, hrservo_traj_upload(far, self->h, t0 + 500000000ULL,
					  HRSERVO_UPLOAD_REPLACE |
					  HRSERVO_UPLOAD_JUMP));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, hrservo_traj_upload(mid, self->h, t0 + 500000000ULL,
					 HRSERVO_UPLOAD_REPLACE));
	ASSERT_EQ(0, hrservo_traj_status(self->h, &info));
	EXPECT_EQ(2, info.depth);
	/* Played: the axis ends at the splice's end, 1.0 ms, and is free. */
	for (;;) {
		ASSERT_EQ(0, hrservo_read_event(self->h, &ev, 5000));
		if (ev.type == HRSERVO_EV_TRAJ_DONE)
			break;
	}
	ASSERT_EQ(0, hrservo_traj_owned(self->h, &owned));
	EXPECT_EQ(0, owned);
	ASSERT_EQ(0, hrservo_traj_status(self->h, &info));
	EXPECT_EQ(0, info.state);
	st = hrservo_read_state(self->h);
	ASSERT_NE(NULL, st);
	target = hrservo_state_target_ns(st, 0);
	hrservo_state_free(st);
	EXPECT_LE(abs((int)target - 1000 * (int)US), 1000);
	EXPECT_EQ(0, hrservo_set_target(self->h, 0, 1500 * US));
	hrservo_traj_free(t1);
	hrservo_traj_free(far);
	hrservo_traj_free(mid);
}

/*
 * Pulses of @width_ns on line @line, each within @tol_ns; their count.
 * None is ever shorter: falls are timed from the rise as it happened. One
 * may be longer, and its frame late: the player's wake-up delayed by the
 * guest itself (under -icount its clock jumps while it waits on the host's
 * 9p replies: once 1.5 ms, in lib_test@gpiod).
 */
static size_t pulses_of(struct __test_metadata *_metadata,
			const struct tl_edge *e, size_t n, unsigned int line,
			uint64_t width_ns, double tol_ns, uint64_t period_ns)
{
	struct tl_pulse p[256];
	size_t np = tl_pulses(e, n, line, p, 256), late = 0, off = 0;
	double worst = 0;

	for (size_t i = 0; i < np; i++) {
		double d = (double)p[i].width - (double)width_ns;

		worst = fmax(worst, fabs(d));
		EXPECT_NE(0, p[i].width)
			TH_LOG("line %u: pulse %zu of %zu never fell", line,
			       i, np);
		EXPECT_GE(d, -tol_ns)
			TH_LOG("line %u: pulse %zu is %llu ns, want %llu", line,
			       i, (unsigned long long)p[i].width,
			       (unsigned long long)width_ns);
		if (d > tol_ns && p[i].width) {
			late++;
			TH_LOG("line %u: pulse %zu is %llu ns, want %llu: late",
			       line, i, (unsigned long long)p[i].width,
			       (unsigned long long)width_ns);
		}
		if (i && period_ns &&
		    fabs((double)(p[i].rise - p[i - 1].rise) -
			 (double)period_ns) > 2 * tol_ns) {
			off++;
			TH_LOG("line %u: pulse %zu rose %lld ns after the one before",
			       line, i, (long long)(p[i].rise - p[i - 1].rise));
		}
	}
	/* One late frame: one long pulse, two periods off around it. */
	EXPECT_LE(late, 1);
	EXPECT_LE(off, 2);
	TH_LOG("line %u: %zu pulses of %llu ns, worst error %.0f ns", line, np,
	       (unsigned long long)width_ns, worst);
	return np;
}

TEST_F(lib, gpiod_pulses_and_period)
{
	struct tl_pulse none[4];
	struct tl_edge *e;
	size_t n;

	GPIOD_ONLY();
	ASSERT_EQ(0, hrservo_set_target(self->h, 0, 1500 * US));
	ASSERT_EQ(0, hrservo_set_target(self->h, 5, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	tl_capture_clear();
	tl_sleep_ns(10 * TL_FRAME_NS);
	n = tl_capture(&e);
	EXPECT_GE(pulses_of(_metadata, e, n, 0, 1500 * US, wake_tol_ns(),
			    TL_FRAME_NS), 8);
	EXPECT_GE(pulses_of(_metadata, e, n, 5, 1000 * US, wake_tol_ns(),
			    TL_FRAME_NS), 8);
	EXPECT_EQ(0, tl_pulses(e, n, 1, none, 4));
	free(e);
}

/*
 * Close with a pulse on: the player ends the frame it plays (no pulse is
 * cut short), raises none after, and leaves the lines low. A 2.5 ms frame
 * whose pulses fill most of it, so that close and release land in a pulse
 * most of the time; six tries.
 */
TEST_F(lib, gpiod_close_and_release_finish_the_pulse)
{
	struct tl_edge *e;
	size_t n;

	GPIOD_ONLY();
	for (unsigned int k = 0; k < 6; k++) {
		struct hrservo *h;
		uint64_t closed;

		h = hrservo_open(LB ":20,21");
		ASSERT_NE(NULL, h);
		ASSERT_EQ(0, hrservo_set_limits(h, 0, 500 * US, 2300 * US));
		ASSERT_EQ(0, hrservo_set_limits(h, 1, 500 * US, 2300 * US));
		ASSERT_EQ(0, hrservo_set_frame_period(h, 2500 * US));
		ASSERT_EQ(0, hrservo_set_target(h, 0, 2000 * US));
		ASSERT_EQ(0, hrservo_set_target(h, 1, 2300 * US));
		tl_sleep_ns(2 * TL_FRAME_NS);
		tl_capture_clear();
		tl_sleep_ns(TL_FRAME_NS + k * 700 * US);
		if (k % 2) {
			/* Release: the pulse in progress ends at its width. */
			ASSERT_EQ(0, hrservo_release(h, 3));
			tl_sleep_ns(TL_FRAME_NS);
		}
		hrservo_close(h);
		closed = tl_now();
		tl_sleep_ns(2 * TL_FRAME_NS);
		n = tl_capture(&e);
		ASSERT_GE(n, 4);
		/* Widths within a wake-up; the period not looked at. */
		EXPECT_GE(pulses_of(_metadata, e, n, 20, 2000 * US,
				    wake_tol_ns(), 0), 2);
		EXPECT_GE(pulses_of(_metadata, e, n, 21, 2300 * US,
				    wake_tol_ns(), 0), 2);
		EXPECT_EQ(0, e[n - 1].level);
		EXPECT_LE(e[n - 1].ts, closed);
		free(e);
	}
}

/*
 * Real-time priority and memory locking refused (an unprivileged user with
 * no RLIMIT_RTPRIO, then a small RLIMIT_MEMLOCK): a clear error naming the
 * capability and the rlimit; with "no-rt" it runs, without
 * HRSERVO_CAP_RT_TIMING.
 */
static int unprivileged_open(const char *spec, rlim_t memlock, char *words,
			     size_t size, uint32_t *caps)
{
	struct rlimit rl = { .rlim_cur = memlock, .rlim_max = memlock };
	struct rlimit no_rt = { 0, 0 };
	int fd[2], st;
	pid_t pid;

	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct { int err; uint32_t caps; char w[500]; } r = { 0 };
		struct hrservo *h;

		close(fd[0]);
		if (setrlimit(RLIMIT_MEMLOCK, &rl) ||
		    setrlimit(RLIMIT_RTPRIO, &no_rt) || setgid(65534) ||
		    setuid(65534))
			_exit(2);
		h = hrservo_open(spec);
		r.err = h ? 0 : errno;
		r.caps = hrservo_caps(h);
		snprintf(r.w, sizeof(r.w), "%s", hrservo_last_error());
		if (h && hrservo_set_target(h, 0, 1500 * US))
			r.err = -errno;
		if (h)
			usleep(100000);
		hrservo_close(h);
		_exit(write(fd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 3);
	}
	close(fd[1]);
	{
		struct { int err; uint32_t caps; char w[500]; } r = { 0 };
		ssize_t got = read(fd[0], &r, sizeof(r));

		close(fd[0]);
		waitpid(pid, &st, 0);
		if (got != sizeof(r) || !WIFEXITED(st) || WEXITSTATUS(st))
			return -1;
		snprintf(words, size, "%s", r.w);
		*caps = r.caps;
		return r.err;
	}
}

/*
 * servoctl (@env names the binary) with @args (at most 10): as root, or,
 * with @memlock not 0, as an unprivileged user with that RLIMIT_MEMLOCK
 * and real-time priority allowed. What it printed (stdout and stderr)
 * goes into @out. Its exit status, or -1 if it could not be run.
 */
static int servoctl_exec(const char *env, rlim_t memlock, char *out,
			 size_t size, const char *const *args)
{
	struct rlimit rl = { .rlim_cur = memlock, .rlim_max = memlock };
	struct rlimit rt = { 99, 99 };
	const char *servoctl = getenv(env);
	char *argv[12] = { "servoctl" };
	size_t len = 0;
	ssize_t r;
	int fd[2], st;
	pid_t pid;

	if (!servoctl || pipe(fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		if (memlock && (setrlimit(RLIMIT_MEMLOCK, &rl) ||
				setrlimit(RLIMIT_RTPRIO, &rt) ||
				setgid(65534) || setuid(65534)))
			_exit(126);
		for (int i = 0; i < 10 && args[i]; i++)
			argv[1 + i] = (char *)args[i];
		execv(servoctl, argv);
		_exit(127);
	}
	close(fd[1]);
	while (len + 1 < size && (r = read(fd[0], out + len, size - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = 0;
	close(fd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) != 126 &&
	       WEXITSTATUS(st) != 127 ? WEXITSTATUS(st) : -1;
}

/*
 * The shared servoctl (no sanitizers: they make mlock() a no-op) with
 * --no-calibration and @args (at most 9), as servoctl_exec() as a user.
 */
static int servoctl_as_user(rlim_t memlock, char *out, size_t size,
			    const char *const *args)
{
	const char *a[11] = { "--no-calibration" };

	for (int i = 0; i < 9 && args[i]; i++)
		a[1 + i] = args[i];
	return servoctl_exec("HRSERVO_SERVOCTL_SHARED", memlock, out, size, a);
}

/* servoctl info @spec, as servoctl_as_user(). */
static int servoctl_unprivileged(const char *spec, rlim_t memlock, char *out,
				 size_t size)
{
	return servoctl_as_user(memlock, out, size,
				(const char *const[]){ "info", spec, NULL });
}

/*
 * The open config's real-time priority: 0 runs without (as no-rt), and a
 * spec that says otherwise fails the open.
 */
TEST_F(lib, gpiod_open_config_priority)
{
	struct hrservo_open_config *cfg = hrservo_open_config_new();
	char spec[160];
	struct hrservo *h;

	GPIOD_ONLY();
	ASSERT_NE(NULL, cfg);
	hrservo_close(self->h);
	self->h = NULL;
	ASSERT_EQ(0, hrservo_open_config_set_rt_priority(cfg, 0));
	h = hrservo_open_with(self->c.name, cfg);
	ASSERT_NE(NULL, h) TH_LOG("%s", hrservo_last_error());
	EXPECT_EQ(0, hrservo_caps(h) & HRSERVO_CAP_RT_TIMING);
	hrservo_close(h);

	snprintf(spec, sizeof(spec), "%s:prio=50", self->c.name);
	ASSERT_EQ(0, hrservo_open_config_set_rt_priority(cfg, 60));
	errno = 0;
	EXPECT_EQ(NULL, hrservo_open_with(spec, cfg));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(NULL, strstr(hrservo_last_error(),
			       "the spec's prio=50 and the open config's real-time priority 60 contradict"))
		TH_LOG("%s", hrservo_last_error());
	/* The same words twice are no contradiction. */
	ASSERT_EQ(0, hrservo_open_config_set_rt_priority(cfg, 50));
	h = hrservo_open_with(spec, cfg);
	ASSERT_NE(NULL, h) TH_LOG("%s", hrservo_last_error());
	EXPECT_NE(0, hrservo_caps(h) & HRSERVO_CAP_RT_TIMING);
	hrservo_close(h);
	hrservo_open_config_free(cfg);
}

TEST_F(lib, gpiod_rt_refused)
{
	char chip[64], path[80], w[500];
	struct tl_pulse p[16];
	struct tl_edge *e;
	uint32_t caps;
	size_t n;

	GPIOD_ONLY();
	chip_of(self->h, chip, sizeof(chip));
	snprintf(path, sizeof(path), "/dev/%s", chip);
	ASSERT_EQ(0, chmod(path, 0666));

	EXPECT_EQ(EPERM, unprivileged_open(LB ":30", 64 << 20, w, sizeof(w),
					   &caps));
	EXPECT_NE(NULL, strstr(w, "SCHED_FIFO 50"));
	EXPECT_NE(NULL, strstr(w, "CAP_SYS_NICE"));
	EXPECT_NE(NULL, strstr(w, "RLIMIT_RTPRIO of at least 50 (now 0"));
	EXPECT_NE(NULL, strstr(w, "no-rt")) TH_LOG("%s", w);

	/*
	 * ASan makes mlock() a no-op: the refusal of memory locking is seen
	 * through the shared servoctl, a program without sanitizers, which
	 * also shows that servoctl prints the library's words.
	 */
	ASSERT_EQ(1, servoctl_unprivileged(LB ":30:prio=5", 64 << 10, w,
					   sizeof(w)));
	EXPECT_NE(NULL, strstr(w, "servoctl: info: " LB ":30:prio=5: gpiod: locking"));
	EXPECT_NE(NULL, strstr(w, "CAP_IPC_LOCK"));
	EXPECT_NE(NULL, strstr(w, "RLIMIT_MEMLOCK"));
	EXPECT_NE(NULL, strstr(w, "(now 64 KiB")) TH_LOG("%s", w);
	ASSERT_EQ(0, servoctl_unprivileged(LB ":30:no-rt", 64 << 10, w,
					   sizeof(w)));
	EXPECT_NE(NULL, strstr(w, "warning: gpiod:gpiochip")) TH_LOG("%s", w);
	EXPECT_NE(NULL, strstr(w, "pulse timing suffers")) TH_LOG("%s", w);

	tl_capture_clear();
	EXPECT_EQ(0, unprivileged_open(LB ":30:no-rt", 64 << 10, w, sizeof(w),
				       &caps));
	EXPECT_FALSE(caps & HRSERVO_CAP_RT_TIMING);
	EXPECT_TRUE(caps & HRSERVO_CAP_TRAJ);
	/* It played: pulses while it was open. */
	n = tl_capture(&e);
	EXPECT_GE(tl_pulses(e, n, 30, p, 16), 2);
	free(e);
	chmod(path, 0600);
}

/* servoctl (the sanitizer build) with @args (at most 10) as root. */
static int servoctl_run(char *out, size_t size, const char *const *args)
{
	return servoctl_exec("HRSERVO_SERVOCTL", 0, out, size, args);
}

/*
 * servoctl on the gpiod backend, end to end: a joint calibrated in
 * degrees, then a trajectory file in degrees played to its end by
 * traj upload --wait (the pulses live as long as servoctl's handle), and
 * a move refused where the axes have no position, as a fresh handle's.
 */
TEST_F(lib, gpiod_servoctl_traj_in_degrees)
{
	char conf[64], plan[64], out[2048];
	struct tl_pulse p[128];
	struct tl_edge *e;
	size_t n, np;
	FILE *f;

	GPIOD_ONLY();
	/* Its lines are servoctl's now. */
	hrservo_close(self->h);
	self->h = NULL;
	snprintf(conf, sizeof(conf), "/tmp/lib_test-%d.conf", getpid());
	snprintf(plan, sizeof(plan), "/tmp/lib_test-%d-deg.csv", getpid());
	unlink(conf);
	setenv("HRSERVO_CALIBRATION", conf, 1);
	f = fopen(plan, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "t_s,elbow_deg\n0,0\n0.4,45\n0.8,45\n");
	ASSERT_EQ(0, fclose(f));

	EXPECT_EQ(0, servoctl_run(out, sizeof(out), (const char *const[]){
		  "calibrate", "points", self->c.name,
		  "1=name:elbow,-90deg:1000us,0deg:1500us,90deg:2000us", NULL }))
		TH_LOG("%s", out);
	tl_capture_clear();
	EXPECT_EQ(0, servoctl_run(out, sizeof(out), (const char *const[]){
		  "traj", "upload", "--jump", "--wait", plan, self->c.name,
		  NULL }))
		TH_LOG("%s", out);
	n = tl_capture(&e);
	np = tl_pulses(e, n, self->c.first_line + 1, p, 128);
	if (np && !p[np - 1].width)
		np--;
	/* 0.8 s of 20 ms frames, from 0 deg (1500 us) to 45 deg (1750 us). */
	EXPECT_GE(np, 35);
	EXPECT_LE(np, 45);
	if (np >= 2) {
		EXPECT_LE(fabs((double)p[0].width - 1500e3), wake_tol_ns())
			TH_LOG("first: %llu ns", (unsigned long long)p[0].width);
		EXPECT_LE(fabs((double)p[np - 1].width - 1750e3), wake_tol_ns())
			TH_LOG("last: %llu ns", (unsigned long long)p[np - 1].width);
	}
	/* No other line moved. */
	EXPECT_EQ(0, tl_pulses(e, n, self->c.first_line, p, 128));
	free(e);

	EXPECT_EQ(1, servoctl_run(out, sizeof(out), (const char *const[]){
		  "move", self->c.name, "elbow=10deg", NULL }));
	EXPECT_NE(NULL, strstr(out, "no position")) TH_LOG("%s", out);
	unlink(plan);
	unlink(conf);
	unsetenv("HRSERVO_CALIBRATION");
}

/* A single-axis trajectory on channel 0 of @n segments of 10 ms. */
static struct hrservo_traj *long_traj(size_t n)
{
	static const unsigned int ch[] = { 0 };
	struct hrservo_traj *t = hrservo_traj_new(1, ch);

	for (size_t i = 0; t && i <= n; i++) {
		double pos = (1500.0 + (double)(i % 100)) * US;

		if (hrservo_traj_add(t, (double)i * 0.01, &pos)) {
			hrservo_traj_free(t);
			return NULL;
		}
	}
	return t;
}

/*
 * The player is the library's: a long trajectory is queued whole by one
 * upload, with no waiting for room as the kernel's parts do (its queue,
 * 4096 segments before, could not hold 5000), and one beyond the queue's
 * 65536 segments is refused whole, in words.
 */
TEST_F(lib, gpiod_long_trajectory_queued_whole)
{
	struct hrservo_traj *t = long_traj(5000);
	struct hrservo_traj *huge = long_traj(65537);
	struct hrservo_traj_info info;

	GPIOD_ONLY();
	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, huge);
	/* Not before 5 s from now: nothing has played when it is read. */
	ASSERT_EQ(0, hrservo_traj_upload(t, self->h, tl_now() + 5000000000ULL,
					 HRSERVO_UPLOAD_JUMP))
		TH_LOG("%s", hrservo_last_error());
	ASSERT_EQ(0, hrservo_traj_status(self->h, &info));
	EXPECT_EQ(5000, info.depth);
	EXPECT_EQ(HRSERVO_TRAJ_WAITING, info.state);
	/* Its 50 s, after what is left of the 5 s. */
	EXPECT_GT(info.queued_ns, 50000000000ULL);
	EXPECT_LE(info.queued_ns, 55000000000ULL);
	ASSERT_EQ(0, hrservo_traj_stop(self->h));

	errno = 0;
	EXPECT_EQ(-1, hrservo_traj_upload(huge, self->h, 0,
					  HRSERVO_UPLOAD_JUMP));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_NE(NULL, strstr(hrservo_last_error(),
			       "gpiod: a trajectory of 65537 segments: the queue holds at most 65536"))
		TH_LOG("%s", hrservo_last_error());
	ASSERT_EQ(0, hrservo_traj_status(self->h, &info));
	EXPECT_EQ(0, info.depth);
	hrservo_traj_free(t);
	hrservo_traj_free(huge);
}

/*
 * Upload @u to @self->h while it keeps the lock @hold_us longer (the test
 * knob); *@t0 and *@t1 get the times around it. The upload's result.
 */
static int held_upload(FIXTURE_DATA(lib) *self, struct hrservo_traj *u,
		       const char *hold_us, uint64_t *t0, uint64_t *t1)
{
	int ret;

	*t0 = tl_now();
	setenv("HRSERVO_GPIOD_TEST_HOLD_US", hold_us, 1);
	ret = hrservo_traj_upload(u, self->h, 0, 0);
	unsetenv("HRSERVO_GPIOD_TEST_HOLD_US");
	*t1 = tl_now();
	return ret;
}

/* A trajectory of channels 1..6 that holds them at 1500 us for 0.1 s. */
static struct hrservo_traj *hold_traj(void)
{
	static const unsigned int six[6] = { 1, 2, 3, 4, 5, 6 };
	struct hrservo_traj *u = hrservo_traj_new(6, six);
	double pos[6] = { 1500 * US, 1500 * US, 1500 * US, 1500 * US,
			  1500 * US, 1500 * US };

	if (u && (hrservo_traj_add(u, 0, pos) || hrservo_traj_add(u, 0.1, pos))) {
		hrservo_traj_free(u);
		u = NULL;
	}
	return u;
}

/*
 * Channels 1..7 on at 1500 us for a while, then the capture cleared and
 * two frames of it taken: rises before what a test does next. 0 or -1.
 */
static int steady_before_hold(FIXTURE_DATA(lib) *self)
{
	for (unsigned int c = 1; c <= 7; c++)
		if (hrservo_set_target(self->h, c, 1500 * US))
			return -1;
	tl_sleep_ns(3 * TL_FRAME_NS);
	tl_capture_clear();
	tl_sleep_ns(2 * TL_FRAME_NS);
	return 0;
}

/* The captured pulses of channel 7's line, at most @max. */
static size_t ch7_pulses(struct tl_pulse *p, size_t max)
{
	struct tl_edge *e;
	size_t n = tl_capture(&e), np = tl_pulses(e, n, 7, p, max);

	free(e);
	return np;
}

/*
 * No API call holds up an edge (gpiod). An upload works through the queue
 * with the lock held, for milliseconds on a small board with a long queue;
 * HRSERVO_GPIOD_TEST_HOLD_US makes one hold it 50 ms (two and a half
 * frames) here. A channel already on keeps its pulses at their frames
 * meanwhile, the frames repeating the last one's pulses, and the frame
 * record shows every frame at its time.
 */
TEST_F(lib, gpiod_upload_holds_up_no_edge)
{
	struct hrservo_traj *u = hold_traj();
	struct hrservo_frame_data *fr = calloc(128, sizeof(*fr));
	uint64_t t0, t1, worst = 0, next, lost;
	struct tl_pulse p[64];
	size_t np, used = 0, nf, seen = 0;

	GPIOD_ONLY();
	ASSERT_NE(NULL, u);
	ASSERT_NE(NULL, fr);
	/* Rises before it too: a pair of rises spans the upload. */
	ASSERT_EQ(0, steady_before_hold(self));
	EXPECT_EQ(0, held_upload(self, u, "50000", &t0, &t1))
		TH_LOG("%s", hrservo_last_error());
	/* The upload did hold the lock: 50 ms, two frames and more. */
	ASSERT_GE(t1 - t0, 45000000ULL);
	tl_sleep_ns(3 * TL_FRAME_NS);
	np = ch7_pulses(p, 64);
	for (size_t i = 1; i < np; i++) {
		uint64_t gap = p[i].rise - p[i - 1].rise;

		/* Pairs around the upload: [rise i - 1, rise i] meets [t0, t1]. */
		if (p[i].rise < t0 || p[i - 1].rise > t1)
			continue;
		used++;
		if (gap > TL_FRAME_NS && gap - TL_FRAME_NS > worst)
			worst = gap - TL_FRAME_NS;
	}
	TH_LOG("the upload took %.1f ms; of %zu frames around it, the latest rise came %.0f us after its frame",
	       (t1 - t0) / 1e6, used, worst / 1e3);
	EXPECT_GE(used, 2);
	/* A wake-up's lateness, not the upload's. */
	EXPECT_LE(worst, 2 * wake_tol_ns());
	/* One record a frame, 20 ms apart, the channel's pulse in each. */
	ASSERT_EQ(0, hrservo_read_frames(self->h, 0, fr, 128, &nf, &next,
					 &lost));
	for (size_t i = 1; i < nf; i++) {
		if (fr[i].start_ns < t0 || fr[i - 1].start_ns > t1)
			continue;
		seen++;
		EXPECT_EQ(fr[i - 1].seq + 1, fr[i].seq);
		EXPECT_EQ(TL_FRAME_NS, fr[i].start_ns - fr[i - 1].start_ns);
		EXPECT_EQ(1500 * US, fr[i].pulse_ns[7]);
	}
	EXPECT_GE(seen, 2);
	free(fr);
	hrservo_traj_free(u);
}

/*
 * An upload that holds the lock for half a second: the frames repeat for
 * a quarter of a second, no longer (a stale frame is not played for
 * ever); then the thread waits for the lock, and once the upload lets it
 * go the pulses go on.
 */
TEST_F(lib, gpiod_upload_held_long_repeats_a_quarter_second)
{
	struct hrservo_traj *u = hold_traj();
	uint64_t t0, t1, gap = 0, gap_at = 0, last_early = 0;
	struct tl_pulse p[128];
	size_t np, after = 0, late_rises = 0, late_falls = 0;

	GPIOD_ONLY();
	ASSERT_NE(NULL, u);
	ASSERT_EQ(0, steady_before_hold(self));
	EXPECT_EQ(0, held_upload(self, u, "500000", &t0, &t1))
		TH_LOG("%s", hrservo_last_error());
	ASSERT_GE(t1 - t0, 450000000ULL);
	tl_sleep_ns(5 * TL_FRAME_NS);
	np = ch7_pulses(p, 128);
	for (size_t i = 1; i < np; i++) {
		uint64_t g = p[i].rise - p[i - 1].rise;

		if (p[i].rise < t0)
			continue;
		/*
		 * Repeated, regular, for 200 ms of the hold at least. The
		 * guest wakes the thread up to 1.2 ms late now and then (see
		 * Documentation/libhrservo.rst): one such rise is allowed, a
		 * frame lost (40 ms) is not.
		 */
		if (p[i].rise < t0 + 200 * MS_NS) {
			if (g > TL_FRAME_NS + 2 * wake_tol_ns()) {
				late_rises++;
				EXPECT_GE(TL_FRAME_NS + 2 * MS_NS, g);
			}
			last_early = p[i].rise;
		}
		if (g > gap) {
			gap = g;
			gap_at = p[i - 1].rise;
		}
		if (p[i].rise > t1)
			after++;
		/*
		 * The last frame's pulse: never shorter; one late fall (under
		 * 2 ms) allowed, not a pulse the repeats forgot to end.
		 */
		if (p[i].width) {
			double d = (double)p[i].width - 1500 * US;

			EXPECT_GE(wake_tol_ns(), -d);
			if (d > wake_tol_ns()) {
				late_falls++;
				EXPECT_GE(2e6, d);
			}
		}
	}
	TH_LOG("held 500 ms: repeats to %.0f ms into it, then no pulse for %.0f ms; %zu pulses after it; %zu late rise(s), %zu late fall(s)",
	       ((double)gap_at - (double)t0) / 1e6, gap / 1e6, after,
	       late_rises, late_falls);
	EXPECT_GE(1, late_rises);
	EXPECT_GE(1, late_falls);
	EXPECT_LE(t0 + 180 * MS_NS, last_early);
	/* The repeats end after 250 ms (and a frame's wake-up). */
	EXPECT_LE(t0 + 230 * MS_NS, gap_at);
	EXPECT_GE(t0 + 250 * MS_NS + 2 * TL_FRAME_NS, gap_at);
	/* Until the upload ends, no pulse; then they go on. */
	EXPECT_LE(t1, gap_at + gap + TL_FRAME_NS);
	EXPECT_LE(3, after);
	hrservo_traj_free(u);
}

/*
 * A target set just before an upload that holds the lock: the thread
 * waits for the upload rather than repeat the old pulse, so the change is
 * in the next frame played, late but not lost.
 */
TEST_F(lib, gpiod_change_before_held_upload_waits)
{
	struct hrservo_traj *u = hold_traj();
	struct hrservo_frame_data fr[128];
	uint64_t t0, t1, gap = 0, tset, next, lost, start;
	struct tl_pulse p[64];
	size_t np, nf, old_after = 0, new_pulses = 0;

	GPIOD_ONLY();
	ASSERT_NE(NULL, u);
	ASSERT_EQ(0, steady_before_hold(self));
	/*
	 * 1 ms into a frame, its work done: the upload takes the lock well
	 * before the next frame's work, which then comes after the change.
	 */
	ASSERT_EQ(0, hrservo_read_frames(self->h, 0, fr, 128, &nf, &next,
					 &lost));
	ASSERT_LT(0, nf);
	start = fr[nf - 1].start_ns;
	while (start < tl_now())
		start += TL_FRAME_NS;
	tl_sleep_until(start + 1000000);
	ASSERT_EQ(0, hrservo_set_target(self->h, 7, 1600 * US));
	tset = tl_now();
	EXPECT_EQ(0, held_upload(self, u, "100000", &t0, &t1))
		TH_LOG("%s", hrservo_last_error());
	ASSERT_GE(t1 - t0, 90000000ULL);
	/* The frames after it resume on the grid: room for three of them. */
	tl_sleep_ns(6 * TL_FRAME_NS);
	np = ch7_pulses(p, 64);
	for (size_t i = 0; i < np; i++) {
		/* A frame whose work was done before the set may still rise. */
		if (p[i].rise > tset + 1000000 + (uint64_t)wake_tol_ns() &&
		    p[i].width && p[i].width < 1550 * US)
			old_after++;
		if (p[i].width > 1550 * US)
			new_pulses++;
		if (i && p[i].rise > tset && p[i].rise - p[i - 1].rise > gap)
			gap = p[i].rise - p[i - 1].rise;
	}
	TH_LOG("the upload held the lock %.1f ms; no pulse for %.1f ms, then %zu at the new width",
	       (t1 - t0) / 1e6, gap / 1e6, new_pulses);
	EXPECT_EQ(0, old_after);
	EXPECT_LE(3, new_pulses);
	/* It waited: a gap of about the hold, not frames repeated. */
	EXPECT_LE(60 * MS_NS, gap);
	hrservo_traj_free(u);
}

/* Write a trajectory CSV of @rows waypoints on channels 0..7 to @path. */
static int traj_csv(const char *path, unsigned int rows)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "t_s");
	for (int c = 0; c < 8; c++)
		fprintf(f, ",ch%d_us", c);
	fprintf(f, "\n");
	for (unsigned int r = 0; r < rows; r++) {
		fprintf(f, "%.3f", r * 0.01);
		for (int c = 0; c < 8; c++)
			fprintf(f, ",%u", 1400 + (r + c) % 200);
		fprintf(f, "\n");
	}
	return fclose(f) || chmod(path, 0644) ? -1 : 0;
}

/*
 * What the player thread reads of a trajectory is locked in memory with
 * its stack: a trajectory that would lock more than RLIMIT_MEMLOCK allows
 * is refused whole, with words naming the rlimit and what it needs, and
 * that much is enough; a small one fits, and with "no-rt" nothing is
 * locked. Seen through the shared servoctl (ASan makes mlock() a no-op).
 */
TEST_F(lib, gpiod_traj_memory_locked)
{
	char chip[64], path[80], w[1000], big[64], small[64];
	const char *at;
	unsigned long kib = 0;

	GPIOD_ONLY();
	chip_of(self->h, chip, sizeof(chip));
	snprintf(path, sizeof(path), "/dev/%s", chip);
	snprintf(big, sizeof(big), "/tmp/lib_test-%d-big.csv", getpid());
	snprintf(small, sizeof(small), "/tmp/lib_test-%d-small.csv", getpid());
	/* 800 segments of 8 axes: about 320 KiB of coefficients. */
	ASSERT_EQ(0, traj_csv(big, 801));
	EXPECT_EQ(0, traj_csv(small, 2));
	EXPECT_EQ(0, chmod(path, 0666));

	/* Opening locks about 304 KiB; 512 KiB leave room for one chunk. */
	EXPECT_EQ(1, servoctl_as_user(512 << 10, w, sizeof(w),
				      (const char *const[]){ "traj", "upload",
				      "--jump", big, LB ":30-37", NULL }));
	TH_LOG("%s", w);
	EXPECT_NE(NULL, strstr(w, "gpiod: locking 64 KiB of memory for the trajectory refused"))
		TH_LOG("%s", w);
	EXPECT_NE(NULL, strstr(w, "RLIMIT_MEMLOCK of at least")) TH_LOG("%s", w);
	EXPECT_NE(NULL, strstr(w, "(now 512 KiB")) TH_LOG("%s", w);
	/* As much as it says is enough. */
	at = strstr(w, "RLIMIT_MEMLOCK of at least ");
	if (at)
		kib = strtoul(at + strlen("RLIMIT_MEMLOCK of at least "), NULL,
			      10);
	EXPECT_GT(kib, 512);
	EXPECT_EQ(0, servoctl_as_user(kib << 10, w, sizeof(w),
				      (const char *const[]){ "traj", "upload",
				      "--jump", big, LB ":30-37", NULL }))
		TH_LOG("with %lu KiB: %s", kib, w);
	EXPECT_EQ(1, servoctl_as_user((kib - 64) << 10, w, sizeof(w),
				      (const char *const[]){ "traj", "upload",
				      "--jump", big, LB ":30-37", NULL }))
		TH_LOG("with %lu KiB: %s", kib - 64, w);
	EXPECT_EQ(0, servoctl_as_user(512 << 10, w, sizeof(w),
				      (const char *const[]){ "traj", "upload",
				      "--jump", small, LB ":30-37", NULL }))
		TH_LOG("%s", w);
	EXPECT_EQ(0, servoctl_as_user(512 << 10, w, sizeof(w),
				      (const char *const[]){ "traj", "upload",
				      "--jump", big, LB ":30-37:no-rt", NULL }))
		TH_LOG("%s", w);
	unlink(big);
	unlink(small);
	chmod(path, 0600);
}

#define HOTPLUG	"/sys/kernel/debug/hrservo-loopback/hotplug"

/*
 * The next event of @type within 2 s of guest time and of the host's;
 * 0, or -1 if none came.
 */
static int wait_event(struct hrservo *h, unsigned int type,
		      struct hrservo_event_data *ev)
{
	struct tl_bound b;

	tl_bound_ms(&b, 2000);
	while (!tl_bound_passed(&b))
		if (!hrservo_read_event(h, ev, 100) && ev->type == type)
			return 0;
	return -1;
}

/*
 * A chip unplugged under the handle: its line writes fail with ENODEV, and
 * each frame after raises one FAULT event naming the channels it could not
 * write. Both channels pulse, so a whole frame's event names both (the
 * first may name only channel 0: the unplug can come between the falls);
 * the handle still closes.
 */
TEST_F(lib, gpiod_chip_gone_raises_fault)
{
	struct hrservo_event_data ev;
	struct hrservo_batch *b = hrservo_batch_new();
	struct hrservo *h;
	uint64_t seq, ts;

	GPIOD_ONLY();
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, tl_write(HOTPLUG, "1"));
	h = hrservo_open("gpiod:hrservo-loopback-hotplug:0-1");
	ASSERT_NE(NULL, h) TH_LOG("%s", hrservo_last_error());
	ASSERT_EQ(0, hrservo_batch_add(b, 0, 1500 * US));
	ASSERT_EQ(0, hrservo_batch_add(b, 1, 1200 * US));
	ASSERT_EQ(0, hrservo_apply(h, b));
	hrservo_batch_free(b);
	tl_sleep_ns(5 * TL_FRAME_NS);
	/* Lines written: no fault while the chip is there. */
	while (!hrservo_read_event(h, &ev, 0))
		EXPECT_NE(HRSERVO_EV_FAULT, ev.type);

	ASSERT_EQ(0, tl_write(HOTPLUG, "0"));
	ASSERT_EQ(0, wait_event(h, HRSERVO_EV_FAULT, &ev));
	EXPECT_NE(0, ev.mask & 0x1);
	EXPECT_EQ(0, ev.mask & ~0x3ULL);
	EXPECT_EQ(ENODEV, ev.value);
	/* One a frame, not a write: the next event is the next frame's. */
	seq = ev.seq;
	ts = ev.timestamp_ns;
	ASSERT_EQ(0, wait_event(h, HRSERVO_EV_FAULT, &ev));
	EXPECT_EQ(seq + 1, ev.seq);
	EXPECT_EQ(0x3ULL, ev.mask);
	EXPECT_LE(10 * MS_NS, ev.timestamp_ns - ts);
	TH_LOG("two FAULT events %.1f ms apart", (double)(ev.timestamp_ns - ts) / 1e6);
	hrservo_close(h);
}

TEST_HARNESS_MAIN
