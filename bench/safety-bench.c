// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-safety-bench: how fast the kernel's safety acts, in the guest
 * (make bench), on a hrservo-gpio controller of the loopback chip whose
 * e-stop input is a line of the loopback input chip:
 *  - watchdog: from the timeout's end (last keep-alive + timeout) to the
 *    first frame without a pulse (failsafe: release);
 *  - kill -9 of a process holding an armed watchdog: from kill() to the
 *    first frame without a pulse;
 *  - the e-stop input: from the edge to the latch (the time it records),
 *    and to the first frame without a pulse.
 * Frame starts and widths come from the kernel's frame record
 * (HRSERVO_IOC_GET_FRAMES), so "the first frame without a pulse" is the
 * frame the hardware was told to emit nothing in. Each figure is measured
 * at random phases of the frame: p50, p99 and max over the runs.
 *
 * usage: hrservo-safety-bench [RUNS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define US	1000ULL
#define MS	1000000ULL

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void stats(const char *name, double *v, size_t n)
{
	if (!n) {
		printf("%-34s no samples\n", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_d);
	printf("%-34s p50=%.3f p99=%.3f max=%.3f ms (n=%zu)\n", name,
	       v[n / 2], v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1],
	       v[n - 1], n);
}

/* Start of the first recorded frame at or after @t without a pulse on @ch. */
static uint64_t first_empty_frame(int fd, unsigned int ch, uint64_t t)
{
	static struct hrservo_frame fr[HRSERVO_FRAMES_KEPT];
	size_t n = tl_frames(fd, 0, fr, HRSERVO_FRAMES_KEPT);

	for (size_t k = 0; k < n; k++)
		if (fr[k].start_ns >= t && !fr[k].pulse_ns[ch])
			return fr[k].start_ns;
	return 0;
}

static int arm(int fd, uint32_t ms)
{
	struct hrservo_watchdog w = { .timeout_ms = ms,
				      .action = HRSERVO_FAILSAFE_RELEASE };

	return ioctl(fd, HRSERVO_IOC_WATCHDOG, &w);
}

static void random_phase(void)
{
	tl_sleep_ns((uint64_t)(rand() % 20000) * US);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 20;
	double *wd = calloc(runs, sizeof(double));
	double *kl = calloc(runs, sizeof(double));
	double *latch = calloc(runs, sizeof(double));
	double *edge = calloc(runs, sizeof(double));
	size_t nwd = 0, nkl = 0, nlatch = 0, nedge = 0;
	struct tl_ctrl c;
	char path[64];

	if (!wd || !kl || !latch || !edge)
		return 1;
	srand(1);
	tl_write(TL_LB_DIR "/input", "3 0");
	if (tl_create_spec(&c, TL_LB_LABEL " 0-1 estop=hrservo-loopback-in:3")) {
		fprintf(stderr, "safety-bench: cannot create the controller\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/%s", c.name);
	tl_set_attr(&c, "estop_action", "release");

	for (int i = 0; i < runs; i++) {
		uint64_t t, f;
		int status, p[2];
		pid_t pid;
		char b;

		/* Watchdog expiry. */
		tl_set1(c.fd, 0, 1500 * US);
		tl_sleep_ns(3 * TL_FRAME_NS);
		random_phase();
		arm(c.fd, 50);
		t = tl_now() + 50 * MS;
		tl_sleep_ns(50 * MS + 3 * TL_FRAME_NS);
		f = first_empty_frame(c.fd, 0, t - 50 * MS);
		if (f)
			wd[nwd++] = ((double)f - (double)t) / MS;
		arm(c.fd, 0);

		/* kill -9 of the armed process. */
		if (pipe(p))
			return 1;
		pid = fork();
		if (pid == 0) {
			int fd = open(path, O_RDWR);

			if (fd < 0 || tl_set1(fd, 0, 1500 * US) ||
			    arm(fd, 60000) || write(p[1], "r", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		if (read(p[0], &b, 1) != 1)
			return 1;
		tl_sleep_ns(3 * TL_FRAME_NS);
		random_phase();
		t = tl_now();
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		tl_sleep_ns(3 * TL_FRAME_NS);
		f = first_empty_frame(c.fd, 0, t);
		if (f)
			kl[nkl++] = ((double)f - (double)t) / MS;
		close(p[0]);
		close(p[1]);

		/* The e-stop input. */
		tl_set1(c.fd, 0, 1500 * US);
		tl_sleep_ns(3 * TL_FRAME_NS);
		random_phase();
		tl_write(TL_LB_DIR "/input", "3 1");
		{
			struct hrservo_estop e = { .op = HRSERVO_ESTOP_GET };
			char buf[256];
			unsigned long long ts = 0;
			unsigned int l, lv;
			char *s = buf;
			int n;

			tl_read(TL_LB_DIR "/input", buf, sizeof(buf));
			while (sscanf(s, "%u %u %llu%n", &l, &lv, &ts, &n) == 3 &&
			       l != 3)
				s += n;
			tl_sleep_ns(3 * TL_FRAME_NS);
			ioctl(c.fd, HRSERVO_IOC_ESTOP, &e);
			if (ts && e.tripped_ns >= ts)
				latch[nlatch++] = ((double)e.tripped_ns -
						   (double)ts) / MS;
			f = first_empty_frame(c.fd, 0, ts);
			if (f && ts)
				edge[nedge++] = ((double)f - (double)ts) / MS;
		}
		tl_write(TL_LB_DIR "/input", "3 0");
		tl_sleep_ns(2 * MS);
		{
			struct hrservo_estop e = { .op = HRSERVO_ESTOP_CLEAR };

			ioctl(c.fd, HRSERVO_IOC_ESTOP, &e);
		}
	}
	printf("frame period 20 ms; the first frame without a pulse is at most one frame after the event\n");
	stats("watchdog timeout -> no pulse", wd, nwd);
	stats("kill -9 -> no pulse", kl, nkl);
	stats("e-stop edge -> latch", latch, nlatch);
	stats("e-stop edge -> no pulse", edge, nedge);
	tl_destroy(&c);
	free(wd);
	free(kl);
	free(latch);
	free(edge);
	return 0;
}
