// SPDX-License-Identifier: GPL-2.0
/*
 * libhrservo against the driver, in the guest: opening by every spec,
 * batches, state snapshots, limits, period, events, read-only access and
 * removal. Built with ASan and UBSan, the library compiled in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "hrservo.h"
#include "testlib.h"

#define US	1000U

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
	EXPECT_EQ(NULL, hrservo_open("gpiod:gpiochip0"));
	EXPECT_EQ(ENOTSUP, errno);
}

TEST_F(lib, list_finds_it)
{
	struct hrservo_list *l = hrservo_list_new();
	bool found = false;

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
 * A six-joint wave, the way a robot builder plays one: three joints with
 * speed and acceleration limits just above what the wave needs, three
 * without. hrservo_traj_check() passes it, and every joint follows the plan
 * as closely as the unlimited ones: the limiter must not brake toward each
 * frame's point (that lagged limited joints by tens of us). No clamp event.
 */
TEST_F(lib, wave_follows_plan_on_limited_joints)
{
	static const double amp_us[6] = { 300, 250, 200, 300, 250, 200 };
	unsigned int ch[6] = { 0, 1, 2, 3, 4, 5 };
	struct hrservo_traj *t = hrservo_traj_new(6, ch);
	struct tl_pulse p[256];
	struct hrservo_event_data ev;
	struct hrservo_violation v;
	double worst[6] = { 0 };
	struct tl_edge *e;
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
	for (;;) {
		ASSERT_EQ(0, hrservo_read_event(self->h, &ev, 5000));
		EXPECT_NE(HRSERVO_EV_CLAMP, ev.type);
		if (ev.type == HRSERVO_EV_TRAJ_DONE)
			break;
	}
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
			worst[a] = fmax(worst[a], fabs(p[i].width - pos[a]));
			used++;
		}
		EXPECT_GE(used, 100);
	}
	free(e);
	TH_LOG("largest deviation from the plan (ns): limited %.0f %.0f %.0f, unlimited %.0f %.0f %.0f",
	       worst[0], worst[1], worst[2], worst[3], worst[4], worst[5]);
	for (int a = 0; a < 3; a++)
		EXPECT_LE(worst[a], fmax(fmax(worst[3], worst[4]), worst[5]) +
			  1000);
	hrservo_traj_free(t);
}

TEST(read_only_access)
{
	struct hrservo_state *st;
	struct tl_ctrl c;
	struct hrservo *h;
	char path[64];

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

TEST_HARNESS_MAIN
