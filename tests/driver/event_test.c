// SPDX-License-Identifier: GPL-2.0
/*
 * Events read() from /dev/hrservoN: what raises them, per-file queues,
 * poll(), blocking and non-blocking reads, overflow, and removal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U

FIXTURE(ev) {
	struct tl_ctrl c;
};

FIXTURE_SETUP(ev)
{
	ASSERT_EQ(0, tl_create(&self->c, 0, 8));
	ASSERT_EQ(0, fcntl(self->c.fd, F_SETFL, O_NONBLOCK));
}

FIXTURE_TEARDOWN(ev)
{
	EXPECT_EQ(0, tl_destroy(&self->c));
}

/* Read one event without blocking; 0 or -errno. */
static int read_event(int fd, struct hrservo_event *ev)
{
	ssize_t r = read(fd, ev, sizeof(*ev));

	if (r < 0)
		return -errno;
	return r == sizeof(*ev) ? 0 : -EIO;
}

TEST_F(ev, read_rules)
{
	struct hrservo_event ev;
	char small[sizeof(ev) - 1];

	EXPECT_EQ(-1, read(self->c.fd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EAGAIN, read_event(self->c.fd, &ev));
}

TEST_F(ev, state_events)
{
	struct hrservo_target t[] = { { 1, 1500 * US }, { 6, 1000 * US } };
	struct hrservo_limits l = { .channel = 3, .min_ns = 600 * US,
				    .max_ns = 2400 * US };
	struct hrservo_event ev;
	uint64_t t0 = tl_now(), t1;

	ASSERT_EQ(0, tl_set(self->c.fd, t, 2));
	t1 = tl_now();
	ASSERT_EQ(0, read_event(self->c.fd, &ev));
	EXPECT_EQ(HRSERVO_EVENT_STATE, ev.type);
	EXPECT_EQ((1ULL << 1) | (1ULL << 6), ev.mask);
	EXPECT_EQ(1, ev.seq);
	EXPECT_LE(t0, ev.timestamp_ns);
	EXPECT_GE(t1, ev.timestamp_ns);
	for (unsigned int i = 0; i < 3; i++)
		EXPECT_EQ(0, ev.reserved[i]);

	/* A rejected call raises nothing. */
	EXPECT_EQ(-ERANGE, tl_set1(self->c.fd, 2, 100 * US));
	EXPECT_EQ(-EAGAIN, read_event(self->c.fd, &ev));

	ASSERT_EQ(0, tl_release(self->c.fd, 1ULL << 6));
	ASSERT_EQ(0, read_event(self->c.fd, &ev));
	EXPECT_EQ(HRSERVO_EVENT_STATE, ev.type);
	EXPECT_EQ(1ULL << 6, ev.mask);
	EXPECT_EQ(2, ev.seq);

	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_SET_LIMITS, &l));
	ASSERT_EQ(0, read_event(self->c.fd, &ev));
	EXPECT_EQ(HRSERVO_EVENT_STATE, ev.type);
	EXPECT_EQ(1ULL << 3, ev.mask);

	/* sysfs writes raise events too. */
	ASSERT_EQ(0, tl_set_attr(&self->c, "channel5/target_ns", "1200000"));
	ASSERT_EQ(0, read_event(self->c.fd, &ev));
	EXPECT_EQ(HRSERVO_EVENT_STATE, ev.type);
	EXPECT_EQ(1ULL << 5, ev.mask);
	ASSERT_EQ(0, tl_set_attr(&self->c, "frame_period_ns", "15000000"));
	ASSERT_EQ(0, read_event(self->c.fd, &ev));
	EXPECT_EQ(HRSERVO_EVENT_PERIOD, ev.type);
	EXPECT_EQ(15000000, ev.value);
	EXPECT_EQ(5, ev.seq);
	EXPECT_EQ(-EAGAIN, read_event(self->c.fd, &ev));
}

TEST_F(ev, queues_per_file)
{
	struct hrservo_event ev[4];
	char path[64];
	int fd2, fd3;

	snprintf(path, sizeof(path), "/dev/%s", self->c.name);
	fd2 = open(path, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tl_set1(fd2, 0, 1500 * US));
	fd3 = open(path, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1600 * US));

	/* Both events for the first two files, one read returns both. */
	EXPECT_EQ(2 * (ssize_t)sizeof(ev[0]), read(self->c.fd, ev, sizeof(ev)));
	EXPECT_EQ(1, ev[0].seq);
	EXPECT_EQ(2, ev[1].seq);
	EXPECT_EQ(2 * (ssize_t)sizeof(ev[0]), read(fd2, ev, sizeof(ev)));
	/* The file opened in between saw only the second. */
	EXPECT_EQ((ssize_t)sizeof(ev[0]), read(fd3, ev, sizeof(ev)));
	EXPECT_EQ(1, ev[0].seq);
	close(fd2);
	close(fd3);
}

TEST_F(ev, poll_and_blocking_read)
{
	struct pollfd pfd = { .fd = self->c.fd, .events = POLLIN };
	struct hrservo_event ev;
	pid_t pid;
	int status;

	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, tl_set1(self->c.fd, 4, 1500 * US));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(0, read_event(self->c.fd, &ev));

	/* A blocking read wakes up when another process sets a target. */
	ASSERT_EQ(0, fcntl(self->c.fd, F_SETFL, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		tl_sleep_ns(50000000);
		_exit(tl_set1(self->c.fd, 4, 1700 * US) ? 1 : 0);
	}
	ASSERT_EQ((ssize_t)sizeof(ev), read(self->c.fd, &ev, sizeof(ev)));
	EXPECT_EQ(HRSERVO_EVENT_STATE, ev.type);
	EXPECT_EQ(1ULL << 4, ev.mask);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
}

TEST_F(ev, overflow_leaves_a_gap)
{
	struct hrservo_event ev;
	unsigned int i;

	for (i = 0; i < HRSERVO_EVENT_QUEUE + 6; i++)
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, (1000 + i) * US));
	for (i = 1; i <= HRSERVO_EVENT_QUEUE; i++) {
		ASSERT_EQ(0, read_event(self->c.fd, &ev));
		ASSERT_EQ(i, ev.seq);
	}
	EXPECT_EQ(-EAGAIN, read_event(self->c.fd, &ev));
	ASSERT_EQ(0, tl_release(self->c.fd, 1));
	ASSERT_EQ(0, read_event(self->c.fd, &ev));
	EXPECT_EQ(HRSERVO_EVENT_QUEUE + 7, ev.seq);
}

TEST(removal_ends_the_stream)
{
	struct tl_ctrl c;
	struct hrservo_event ev;
	struct pollfd pfd;
	int fd;

	ASSERT_EQ(0, tl_create(&c, 8, 2));
	fd = c.fd;
	c.fd = -1;
	ASSERT_EQ(0, tl_set1(fd, 0, 1500 * US));
	ASSERT_EQ(0, tl_destroy(&c));

	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLHUP | POLLERR, pfd.revents);
	ASSERT_EQ((ssize_t)sizeof(ev), read(fd, &ev, sizeof(ev)));
	EXPECT_EQ(HRSERVO_EVENT_STATE, ev.type);
	ASSERT_EQ((ssize_t)sizeof(ev), read(fd, &ev, sizeof(ev)));
	EXPECT_EQ(HRSERVO_EVENT_REMOVED, ev.type);
	EXPECT_EQ(0, read(fd, &ev, sizeof(ev)));
	pfd.revents = 0;
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLHUP | POLLERR, pfd.revents);
	close(fd);
}

TEST_HARNESS_MAIN
