// SPDX-License-Identifier: GPL-2.0
/*
 * libhrservo against the driver, in the guest: opening by every spec,
 * batches, state snapshots, limits, period, events, read-only access and
 * removal. Built with ASan and UBSan, the library compiled in.
 */
#define _GNU_SOURCE
#include <errno.h>
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
	/* A character device that is not an hrservo. */
	EXPECT_EQ(NULL, hrservo_open("/dev/null"));
	EXPECT_EQ(ENOENT, errno);
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
