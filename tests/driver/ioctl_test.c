// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo ioctl and sysfs ABI: every call, good and bad, with the exact
 * errno, and nothing applied when a call fails. Runs in the test guest on an
 * 8-channel controller on loopback lines 0..7.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U

FIXTURE(ctrl) {
	struct tl_ctrl c;
};

FIXTURE_SETUP(ctrl)
{
	ASSERT_EQ(0, tl_create(&self->c, 0, 8));
}

FIXTURE_TEARDOWN(ctrl)
{
	EXPECT_EQ(0, tl_destroy(&self->c));
}

/* Snapshot of every channel, to prove that a failed call changed nothing. */
static void snapshot(int fd, struct hrservo_channel_state st[8])
{
	struct hrservo_state_req req = {
		.states = (uintptr_t)st, .first = 0, .count = 8,
	};

	memset(st, 0xa5, 8 * sizeof(*st));
	if (ioctl(fd, HRSERVO_IOC_GET_STATE, &req))
		memset(st, 0, 8 * sizeof(*st));
}

TEST_F(ctrl, get_info)
{
	struct hrservo_info info;

	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_INFO, &info));
	EXPECT_STREQ(self->c.name, info.name);
	EXPECT_STREQ("hrservo-gpio", info.backend);
	EXPECT_EQ(HRSERVO_ABI_VERSION, info.abi_version);
	EXPECT_EQ(8, info.channels);
	EXPECT_EQ(20000000, info.frame_period_ns);
	EXPECT_EQ(2500000, info.frame_period_min_ns);
	EXPECT_EQ(50000000, info.frame_period_max_ns);
	EXPECT_EQ(50000, info.pulse_min_ns);
	EXPECT_EQ(19900000, info.pulse_max_ns);
	EXPECT_EQ(1, info.resolution_ns);
	EXPECT_EQ(0, info.flags);
	for (unsigned int i = 0; i < 7; i++)
		EXPECT_EQ(0, info.reserved[i]);
}

TEST_F(ctrl, wrong_size_and_unknown_ioctl)
{
	char buf[512] = { 0 };

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->c.fd, _IOC(_IOC_READ, HRSERVO_IOC_MAGIC, 0,
					     sizeof(struct hrservo_info) + 8),
			    buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->c.fd, _IOC(_IOC_WRITE, HRSERVO_IOC_MAGIC, 1,
					     sizeof(struct hrservo_targets) - 8),
			    buf));
	EXPECT_EQ(EINVAL, errno);
	/* Right size, wrong direction. */
	EXPECT_EQ(-1, ioctl(self->c.fd, _IOC(_IOC_READ, HRSERVO_IOC_MAGIC, 4,
					     sizeof(struct hrservo_limits)),
			    buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->c.fd, _IO(HRSERVO_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->c.fd, _IOR('x', 0, struct hrservo_info),
			    buf));
	EXPECT_EQ(ENOTTY, errno);
}

/* A read-only file may look but not change anything. */
TEST_F(ctrl, read_only_file)
{
	struct hrservo_limits l = { .channel = 0 };
	struct hrservo_channel_state st;
	struct hrservo_info info;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", self->c.name);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ioctl(fd, HRSERVO_IOC_GET_INFO, &info));
	EXPECT_EQ(0, tl_state(fd, 0, &st));
	EXPECT_EQ(0, ioctl(fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(-EBADF, tl_set1(fd, 0, 1500 * US));
	EXPECT_EQ(-EBADF, tl_release(fd, 1));
	l.min_ns = 1000 * US;
	l.max_ns = 2000 * US;
	EXPECT_EQ(-1, ioctl(fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(EBADF, errno);
	close(fd);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(500 * US, st.min_ns);
}

TEST_F(ctrl, set_targets_applies_at_next_frame)
{
	struct hrservo_target t[] = { { 0, 1500 * US }, { 5, 900 * US } };
	struct hrservo_channel_state st;

	ASSERT_EQ(0, tl_set(self->c.fd, t, 2));
	ASSERT_EQ(0, tl_state(self->c.fd, 5, &st));
	EXPECT_EQ(5, st.channel);
	EXPECT_EQ(900 * US, st.target_ns);
	EXPECT_TRUE(st.flags & HRSERVO_STATE_ENABLED);
	EXPECT_EQ(500 * US, st.min_ns);
	EXPECT_EQ(2500 * US, st.max_ns);

	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_state(self->c.fd, 5, &st));
	EXPECT_EQ(900 * US, st.pulse_ns);
	EXPECT_TRUE(st.flags & HRSERVO_STATE_ACTIVE);
	ASSERT_EQ(0, tl_state(self->c.fd, 1, &st));
	EXPECT_EQ(0, st.target_ns);
	EXPECT_EQ(0, st.pulse_ns);
	EXPECT_EQ(0, st.flags);
}

TEST_F(ctrl, set_targets_bad_calls_apply_nothing)
{
	struct hrservo_channel_state before[8], after[8];
	struct hrservo_target t[9];
	struct hrservo_targets req;

	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1200 * US));
	snapshot(self->c.fd, before);

	/* Non-zero flags or padding. */
	t[0] = (struct hrservo_target){ 1, 1500 * US };
	memset(&req, 0, sizeof(req));
	req.targets = (uintptr_t)t;
	req.count = 1;
	req.flags = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_TARGETS, &req));
	EXPECT_EQ(EINVAL, errno);
	req.flags = 0;
	req.padding[3] = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_TARGETS, &req));
	EXPECT_EQ(EINVAL, errno);

	/* Counts. */
	EXPECT_EQ(-EINVAL, tl_set(self->c.fd, t, 0));
	for (unsigned int i = 0; i < 9; i++)
		t[i] = (struct hrservo_target){ i % 8, 1500 * US };
	EXPECT_EQ(-EINVAL, tl_set(self->c.fd, t, 9));

	/* Channel out of range, after a good element. */
	t[0] = (struct hrservo_target){ 1, 1500 * US };
	t[1] = (struct hrservo_target){ 8, 1500 * US };
	EXPECT_EQ(-EINVAL, tl_set(self->c.fd, t, 2));
	t[1].channel = 0xffffffff;
	EXPECT_EQ(-EINVAL, tl_set(self->c.fd, t, 2));

	/* Duplicate channel. */
	t[1] = (struct hrservo_target){ 3, 1500 * US };
	t[2] = (struct hrservo_target){ 1, 1600 * US };
	EXPECT_EQ(-EINVAL, tl_set(self->c.fd, t, 3));

	/* Limits: below, above, zero; with good elements around them. */
	t[2] = (struct hrservo_target){ 4, 499 * US };
	EXPECT_EQ(-ERANGE, tl_set(self->c.fd, t, 3));
	t[2].pulse_ns = 2500 * US + 1;
	EXPECT_EQ(-ERANGE, tl_set(self->c.fd, t, 3));
	t[2].pulse_ns = 0;
	EXPECT_EQ(-ERANGE, tl_set(self->c.fd, t, 3));

	/* Bad user pointer. */
	req.padding[3] = 0;
	req.targets = 8;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_TARGETS, &req));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_TARGETS, NULL));
	EXPECT_EQ(EFAULT, errno);

	snapshot(self->c.fd, after);
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));
	EXPECT_EQ(1200 * US, after[2].target_ns);
	EXPECT_EQ(0, after[1].target_ns);
	EXPECT_EQ(0, after[3].flags & HRSERVO_STATE_ENABLED);
}

TEST_F(ctrl, get_state_bad_calls)
{
	struct hrservo_channel_state st[9];
	struct hrservo_state_req req = { .states = (uintptr_t)st };

	req.first = 0;
	req.count = 8;
	EXPECT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_STATE, &req));
	EXPECT_EQ(7, st[7].channel);
	req.count = 9;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_STATE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.first = 8;
	req.count = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_STATE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.first = 7;
	req.count = 2;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_STATE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.first = 0;
	req.count = 0;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_STATE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.first = 1;
	req.count = 0xffffffff;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_STATE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.count = 1;
	req.padding[0] = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_STATE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.padding[0] = 0;
	req.states = 16;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_STATE, &req));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(ctrl, release)
{
	struct hrservo_channel_state before[8], after[8], st;
	struct hrservo_release req;

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 7, 2000 * US));
	snapshot(self->c.fd, before);

	memset(&req, 0, sizeof(req));
	req.mask = 1ULL << 8;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_RELEASE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.mask = 1 | (1ULL << 63);
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_RELEASE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.mask = 1;
	req.flags = 2;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_RELEASE, &req));
	EXPECT_EQ(EINVAL, errno);
	req.flags = 0;
	req.padding[4] = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_RELEASE, &req));
	EXPECT_EQ(EINVAL, errno);
	snapshot(self->c.fd, after);
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));

	EXPECT_EQ(0, tl_release(self->c.fd, 1));
	EXPECT_EQ(0, tl_release(self->c.fd, 1)); /* again: not an error */
	EXPECT_EQ(0, tl_release(self->c.fd, 0));
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(0, st.flags & HRSERVO_STATE_ENABLED);
	EXPECT_EQ(1000 * US, st.target_ns); /* remembered, not emitted */
	ASSERT_EQ(0, tl_state(self->c.fd, 7, &st));
	EXPECT_TRUE(st.flags & HRSERVO_STATE_ENABLED);
	tl_sleep_ns(2 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(0, st.pulse_ns);
}

TEST_F(ctrl, limits)
{
	struct hrservo_limits l;

	memset(&l, 0, sizeof(l));
	l.channel = 3;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(500 * US, l.min_ns);
	EXPECT_EQ(2500 * US, l.max_ns);

	l.min_ns = 1000 * US;
	l.max_ns = 2000 * US;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	memset(&l, 0, sizeof(l));
	l.channel = 3;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(1000 * US, l.min_ns);
	EXPECT_EQ(2000 * US, l.max_ns);

	/* The new limits bind targets; other channels keep theirs. */
	EXPECT_EQ(-ERANGE, tl_set1(self->c.fd, 3, 999 * US));
	EXPECT_EQ(-ERANGE, tl_set1(self->c.fd, 3, 2001 * US));
	EXPECT_EQ(0, tl_set1(self->c.fd, 3, 2000 * US));
	EXPECT_EQ(0, tl_set1(self->c.fd, 2, 600 * US));
}

TEST_F(ctrl, motion_limits)
{
	struct hrservo_limits l;
	char buf[32];

	memset(&l, 0, sizeof(l));
	l.channel = 2;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(0, l.max_speed_ns_per_s);
	EXPECT_EQ(0, l.max_accel_ns_per_s2);
	l.max_speed_ns_per_s = 1000000;
	l.max_accel_ns_per_s2 = 50000000;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	ASSERT_EQ(0, tl_attr(&self->c, "channel2/max_speed_ns_per_s", buf,
			     sizeof(buf)));
	EXPECT_STREQ("1000000", buf);
	ASSERT_EQ(0, tl_attr(&self->c, "channel2/max_accel_ns_per_s2", buf,
			     sizeof(buf)));
	EXPECT_STREQ("50000000", buf);

	/* sysfs changes one limit and keeps the others. */
	EXPECT_EQ(0, tl_set_attr(&self->c, "channel2/max_speed_ns_per_s",
				 "2000000"));
	EXPECT_EQ(0, tl_set_attr(&self->c, "channel2/min_ns", "600000"));
	memset(&l, 0, sizeof(l));
	l.channel = 2;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(2000000, l.max_speed_ns_per_s);
	EXPECT_EQ(50000000, l.max_accel_ns_per_s2);
	EXPECT_EQ(600 * US, l.min_ns);
	EXPECT_EQ(-EINVAL, tl_set_attr(&self->c, "channel2/max_accel_ns_per_s2",
				       "-1"));
}

TEST_F(ctrl, limits_bad_calls_apply_nothing)
{
	struct hrservo_limits l, g;

	memset(&l, 0, sizeof(l));
	l.channel = 1;
	l.min_ns = 2000 * US;
	l.max_ns = 1000 * US;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(ERANGE, errno);
	l.min_ns = l.max_ns = 1500 * US;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(ERANGE, errno);
	l.min_ns = 49 * US;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(ERANGE, errno);
	l.min_ns = 500 * US;
	l.max_ns = 19900 * US + 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(ERANGE, errno);
	l.max_ns = 2000 * US;
	l.channel = 8;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(EINVAL, errno);
	l.channel = 1;
	l.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(EINVAL, errno);
	l.reserved[1] = 0;
	l.flags = 1;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(EINVAL, errno);
	l.flags = 0;

	/* Limits that would exclude the running target are refused. */
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 2400 * US));
	l.min_ns = 500 * US;
	l.max_ns = 2000 * US;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	EXPECT_EQ(EBUSY, errno);

	memset(&g, 0, sizeof(g));
	g.channel = 1;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &g));
	EXPECT_EQ(500 * US, g.min_ns);
	EXPECT_EQ(2500 * US, g.max_ns);
	g.channel = 9;
	EXPECT_EQ(-1, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &g));
	EXPECT_EQ(EINVAL, errno);

	/* Once released, the same limits are accepted. */
	ASSERT_EQ(0, tl_release(self->c.fd, 1 << 1));
	EXPECT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
}

TEST_F(ctrl, sysfs_controller)
{
	char buf[64];

	ASSERT_EQ(0, tl_attr(&self->c, "channels", buf, sizeof(buf)));
	EXPECT_STREQ("8", buf);
	ASSERT_EQ(0, tl_attr(&self->c, "backend", buf, sizeof(buf)));
	EXPECT_STREQ("hrservo-gpio", buf);
	ASSERT_EQ(0, tl_attr(&self->c, "frame_period_ns", buf, sizeof(buf)));
	EXPECT_STREQ("20000000", buf);

	EXPECT_EQ(0, tl_set_attr(&self->c, "frame_period_ns", "10000000"));
	ASSERT_EQ(0, tl_attr(&self->c, "frame_period_ns", buf, sizeof(buf)));
	EXPECT_STREQ("10000000", buf);
	EXPECT_EQ(-ERANGE, tl_set_attr(&self->c, "frame_period_ns", "2499999"));
	EXPECT_EQ(-ERANGE, tl_set_attr(&self->c, "frame_period_ns",
				       "50000001"));
	EXPECT_EQ(-EINVAL, tl_set_attr(&self->c, "frame_period_ns", "fast"));
	/* 2.5 ms leaves 2.4 ms for pulses; the default max is 2.5 ms. */
	EXPECT_EQ(-EBUSY, tl_set_attr(&self->c, "frame_period_ns", "2500000"));
	ASSERT_EQ(0, tl_attr(&self->c, "frame_period_ns", buf, sizeof(buf)));
	EXPECT_STREQ("10000000", buf);
	EXPECT_EQ(-EACCES, tl_set_attr(&self->c, "channels", "4"));
}

TEST_F(ctrl, sysfs_channel)
{
	struct hrservo_channel_state st;
	char buf[64];

	ASSERT_EQ(0, tl_attr(&self->c, "channel4/enable", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	EXPECT_EQ(-EINVAL, tl_set_attr(&self->c, "channel4/enable", "1"));
	EXPECT_EQ(-EINVAL, tl_set_attr(&self->c, "channel4/enable", "2"));

	EXPECT_EQ(0, tl_set_attr(&self->c, "channel4/target_ns", "1300000"));
	ASSERT_EQ(0, tl_state(self->c.fd, 4, &st));
	EXPECT_EQ(1300 * US, st.target_ns);
	EXPECT_TRUE(st.flags & HRSERVO_STATE_ENABLED);
	ASSERT_EQ(0, tl_attr(&self->c, "channel4/enable", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(-ERANGE, tl_set_attr(&self->c, "channel4/target_ns", "3000000"));
	EXPECT_EQ(-EINVAL, tl_set_attr(&self->c, "channel4/target_ns", "-5"));
	ASSERT_EQ(0, tl_attr(&self->c, "channel4/target_ns", buf, sizeof(buf)));
	EXPECT_STREQ("1300000", buf);

	tl_sleep_ns(2 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_attr(&self->c, "channel4/pulse_ns", buf, sizeof(buf)));
	EXPECT_STREQ("1300000", buf);
	EXPECT_EQ(-EACCES, tl_set_attr(&self->c, "channel4/pulse_ns", "1"));

	/* Limits through sysfs, bound by the running target. */
	EXPECT_EQ(0, tl_set_attr(&self->c, "channel4/max_ns", "2000000"));
	EXPECT_EQ(-EBUSY, tl_set_attr(&self->c, "channel4/min_ns", "1400000"));
	EXPECT_EQ(-ERANGE, tl_set_attr(&self->c, "channel4/min_ns", "2000000"));
	ASSERT_EQ(0, tl_attr(&self->c, "channel4/min_ns", buf, sizeof(buf)));
	EXPECT_STREQ("500000", buf);
	ASSERT_EQ(0, tl_attr(&self->c, "channel4/max_ns", buf, sizeof(buf)));
	EXPECT_STREQ("2000000", buf);

	EXPECT_EQ(0, tl_set_attr(&self->c, "channel4/enable", "0"));
	ASSERT_EQ(0, tl_state(self->c.fd, 4, &st));
	EXPECT_EQ(0, st.flags & HRSERVO_STATE_ENABLED);
	EXPECT_EQ(0, tl_set_attr(&self->c, "channel4/enable", "1"));
	ASSERT_EQ(0, tl_state(self->c.fd, 4, &st));
	EXPECT_TRUE(st.flags & HRSERVO_STATE_ENABLED);
	EXPECT_EQ(1300 * US, st.target_ns);
}

TEST_F(ctrl, backend_coalesce_attr)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/coalesce_ns",
		 self->c.pdev);
	ASSERT_LT(0, tl_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("2000\n", buf);
	EXPECT_EQ(0, tl_write(path, "0"));
	EXPECT_EQ(-ERANGE, tl_write(path, "50001"));
	ASSERT_LT(0, tl_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("0\n", buf);
}

/* lead_ns: 500 us by default, 0..5 ms. */
TEST_F(ctrl, backend_lead_attr)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/lead_ns",
		 self->c.pdev);
	ASSERT_LT(0, tl_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("500000\n", buf);
	EXPECT_EQ(0, tl_write(path, "0"));
	EXPECT_EQ(0, tl_write(path, "5000000"));
	EXPECT_EQ(-ERANGE, tl_write(path, "5000001"));
	EXPECT_EQ(-EINVAL, tl_write(path, "1ms"));
	ASSERT_LT(0, tl_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("5000000\n", buf);
}

/*
 * The lines attribute says which chip and offset each channel drives, and
 * each line is named after its channel (as gpioinfo shows it).
 */
TEST_F(ctrl, backend_lines_attr)
{
	char path[256], buf[512], want[512], name[96], *dbg;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/lines",
		 self->c.pdev);
	ASSERT_LT(0, tl_read(path, buf, sizeof(buf)));
	for (unsigned int i = 0; i < 8; i++)
		len += (size_t)snprintf(want + len, sizeof(want) - len,
					"%s %u\n", TL_LB_LABEL, i);
	EXPECT_STREQ(want, buf);
	EXPECT_NE(0, tl_write(path, "x"));	/* read-only */
	/* The consumer names, in the GPIO debugfs summary. */
	f = fopen("/sys/kernel/debug/gpio", "r");
	if (!f)
		SKIP(return, "no /sys/kernel/debug/gpio");
	dbg = calloc(1, 65536);
	ASSERT_TRUE(dbg != NULL);
	len = fread(dbg, 1, 65535, f);
	fclose(f);
	snprintf(name, sizeof(name), "%s:ch3", self->c.pdev);
	EXPECT_TRUE(strstr(dbg, name) != NULL) TH_LOG("%.2000s", dbg);
	free(dbg);
}

TEST_HARNESS_MAIN
