// SPDX-License-Identifier: GPL-2.0
/*
 * Worst time of user requests with a full trajectory queue: the bound on
 * what they do with interrupts off (everything under the controller's
 * raw spinlock happens inside the ioctl).
 *
 * usage: hrservo-lock-bench /dev/hrservoN SEG_NS
 *
 * Fills the controller's queue (every file's quota, until the controller's
 * limit) with one-axis segments of SEG_NS, queued a minute ahead, then
 * makes TRAJ_STATUS, a REPLACE at the queue's end, TRAJ_STOP and RELEASE of
 * the axis, each on a full queue, and last plays a full queue from now.
 * Each phase is written to ftrace's trace_marker, so that
 * bench/guest-lock-bench can attribute the time spent with interrupts off
 * (function_graph) to it; the ioctl's wall time is printed too, but it
 * also counts work done with interrupts on. Built against the uapi header
 * it is compiled with, so that the same source measures an older driver.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "uapi/hrservo.h"

#define NFILES	24
#define BATCH	64

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int marker = -1;

/* Name the phase that follows in the trace. */
static void phase(const char *name)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "phase %s\n", name);

	if (marker >= 0 && write(marker, buf, (size_t)n) != n)
		perror("trace_marker");
}

static struct hrservo_segment segs[BATCH];
static int64_t coefs[BATCH * 6];

static int submit(int fd, unsigned int n, uint32_t mode, uint64_t at)
{
	struct hrservo_traj req = {
		.segments = (uintptr_t)segs, .coefs = (uintptr_t)coefs,
		.count = n, .ncoefs = n * 6, .mode = mode, .at_ns = at,
	};

	return ioctl(fd, HRSERVO_IOC_TRAJ_SUBMIT, &req) ? -errno : 0;
}

/* Fill the queue; returns the depth. */
static unsigned int fill(int *fds, uint64_t at)
{
	struct hrservo_traj_status st;
	int f, first = 1;

	for (f = 0; f < NFILES; f++) {
		while (!submit(fds[f], BATCH, HRSERVO_TRAJ_APPEND,
			       first ? at : 0))
			first = 0;
	}
	memset(&st, 0, sizeof(st));
	ioctl(fds[0], HRSERVO_IOC_TRAJ_STATUS, &st);
	return st.depth;
}

/* One ioctl's duration in ns, or 0 if it failed. */
static uint64_t timed(int fd, unsigned long cmd, void *arg)
{
	uint64_t t0 = now_ns();

	if (ioctl(fd, cmd, arg)) {
		fprintf(stderr, "ioctl %lx: %s\n", cmd, strerror(errno));
		return 0;
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	struct hrservo_traj_stop stop;
	struct hrservo_traj_status st;
	struct hrservo_release rel;
	uint64_t seg_ns, t, worst, at;
	unsigned int depth, i, round;
	int fds[NFILES], f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s /dev/hrservoN SEG_NS\n", argv[0]);
		return 2;
	}
	seg_ns = strtoull(argv[2], NULL, 0);
	marker = open("/sys/kernel/tracing/trace_marker", O_WRONLY);
	for (f = 0; f < NFILES; f++) {
		fds[f] = open(argv[1], O_RDWR);
		if (fds[f] < 0) {
			perror(argv[1]);
			return 1;
		}
	}
	for (i = 0; i < BATCH; i++) {
		segs[i].duration_ns = seg_ns;
		segs[i].mask = 1;
		coefs[6 * i] = 1500000LL << 16;
	}

	/* Three rounds: TCG translates code the first time it runs. */
	for (round = 0; round < 3; round++) {
		at = now_ns() + 60000000000ULL;
		phase("SUBMIT");
		depth = fill(fds, at);
		phase("STATUS");
		printf("segments queued: %u of %llu ns\n", depth,
		       (unsigned long long)seg_ns);
		worst = 0;
		for (i = 0; i < 20; i++) {
			t = timed(fds[0], HRSERVO_IOC_TRAJ_STATUS, &st);
			worst = t > worst ? t : worst;
		}
		printf("TRAJ_STATUS, full queue: worst %llu ns of 20\n",
		       (unsigned long long)worst);
		{
			/* REPLACE in the last segment: the longest splice. */
			struct hrservo_traj req = {
				.segments = (uintptr_t)segs,
				.coefs = (uintptr_t)coefs, .count = 1,
				.ncoefs = 6, .mode = HRSERVO_TRAJ_REPLACE,
				.at_ns = at + (uint64_t)(depth - 1) * seg_ns +
					 seg_ns / 2,
			};

			phase("REPLACE");
			printf("REPLACE at the end, full queue: %llu ns\n",
			       (unsigned long long)timed(fds[1],
					HRSERVO_IOC_TRAJ_SUBMIT, &req));
		}
		memset(&stop, 0, sizeof(stop));
		phase("STOP");
		printf("TRAJ_STOP, full queue: %llu ns\n",
		       (unsigned long long)timed(fds[0], HRSERVO_IOC_TRAJ_STOP,
						 &stop));
		phase("IDLE");
		usleep(200000);

		phase("SUBMIT");
		depth = fill(fds, now_ns() + 60000000000ULL);
		memset(&rel, 0, sizeof(rel));
		rel.mask = 1;
		phase("RELEASE");
		printf("RELEASE of the axis, full queue (%u): %llu ns\n", depth,
		       (unsigned long long)timed(fds[0], HRSERVO_IOC_RELEASE,
						 &rel));
		phase("STOP");
		ioctl(fds[0], HRSERVO_IOC_TRAJ_STOP, &stop);
		phase("IDLE");
		usleep(200000);
	}

	/* Play a full queue from now on: the frame figure. */
	phase("SUBMIT");
	depth = fill(fds, now_ns() + 50000000ULL);
	phase("PLAY");
	printf("playing %u segments\n", depth);
	fflush(stdout);
	usleep(600000);
	phase("STOP");
	ioctl(fds[0], HRSERVO_IOC_TRAJ_STOP, &stop);
	usleep(200000);
	phase("END");
	for (f = 0; f < NFILES; f++)
		close(fds[f]);
	return 0;
}
