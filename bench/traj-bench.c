// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-traj-bench: trajectory figures, in the guest (make bench):
 *  - upload rate, in segments per second, through libhrservo;
 *  - kernel time of hrservo_frame_begin() per frame with 32 axes playing,
 *    from the function_graph tracer hooked on that one function;
 *  - deviation of the measured pulses (loopback chip) from the planned
 *    trajectory evaluated in double precision at each pulse's rise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hrservo.h"
#include "testlib.h"

#define TRACE	"/sys/kernel/tracing"
#define AXES	32
#define MAXP	256

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void stats(const char *name, double *v, size_t n, const char *unit)
{
	if (!n) {
		printf("%-22s no samples\n", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_d);
	printf("%-22s p50=%.3f p99=%.3f max=%.3f %s (n=%zu)\n", name,
	       v[n / 2], v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1],
	       v[n - 1], unit, n);
}

static void trace_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACE "/%s", file);
	tl_write(path, val);
}

static struct hrservo_traj *wave(unsigned int naxes, int points, double dt)
{
	unsigned int ch[AXES];
	struct hrservo_traj *t;
	double p[AXES];

	for (unsigned int a = 0; a < naxes; a++)
		ch[a] = a;
	t = hrservo_traj_new(naxes, ch);
	for (int i = 0; t && i < points; i++) {
		for (unsigned int a = 0; a < naxes; a++)
			p[a] = 1500e3 + 400e3 * sin(2 * M_PI * i * dt *
						    (0.5 + 0.05 * a));
		hrservo_traj_add(t, i * dt, p);
	}
	if (t)
		hrservo_traj_set_interp(t, HRSERVO_INTERP_CUBIC);
	return t;
}

static void upload_rate(struct hrservo *h, unsigned int naxes)
{
	struct hrservo_traj *t = wave(naxes, 101, 0.02);
	uint64_t spent = 0;
	long segs = 0;

	for (int round = 0; round < 20; round++) {
		uint64_t t0 = tl_now();

		if (hrservo_traj_upload(t, h, tl_now() + 60000000000ULL, 0)) {
			printf("upload failed: %s\n", strerror(errno));
			break;
		}
		spent += tl_now() - t0;
		segs += 100;
		hrservo_traj_stop(h);
	}
	printf("upload_rate_%uaxes     %.0f segments/s (%ld segments in %.3f s)\n",
	       naxes, segs / (spent / 1e9), segs, spent / 1e9);
	hrservo_traj_free(t);
}

int main(void)
{
	static double dev[AXES * MAXP], frame_us[4096];
	struct hrservo_traj *t;
	struct hrservo_event_data ev;
	struct tl_pulse p[MAXP];
	struct tl_ctrl c;
	struct hrservo *h;
	uint64_t t0;
	size_t nd = 0, nf = 0, n;
	struct tl_edge *e;
	char line[512];
	FILE *f;

	if (tl_create(&c, 0, AXES)) {
		fprintf(stderr, "traj-bench: new_device failed\n");
		return 1;
	}
	h = hrservo_open(c.name);
	if (!h)
		return 1;

	upload_rate(h, 1);
	upload_rate(h, AXES);

	/*
	 * Play 2 s on 32 axes twice: once untraced for the deviation (the
	 * function_graph tracer slows every kernel function and so delays
	 * edges), once with function_graph timing hrservo_frame_begin().
	 */
	t = wave(AXES, 101, 0.02);
	for (int pass = 0; pass < 2; pass++) {
		if (pass) {
			int fd;

			trace_write("tracing_on", "0");
			trace_write("current_tracer", "nop");
			/* Hook this one function only: no tracer cost inside. */
			trace_write("set_ftrace_filter", "hrservo_frame_begin");
			trace_write("max_graph_depth", "1");
			trace_write("current_tracer", "function_graph");
			fd = open(TRACE "/trace", O_WRONLY | O_TRUNC);
			if (fd >= 0)
				close(fd);
			trace_write("tracing_on", "1");
		}
		tl_capture_clear();
		t0 = tl_now() + 100000000ULL;
		if (hrservo_traj_upload(t, h, t0, 0)) {
			printf("upload failed: %s\n", strerror(errno));
			return 1;
		}
		while (!hrservo_read_event(h, &ev, 5000) &&
		       ev.type != HRSERVO_EV_TRAJ_DONE)
			;
		if (pass) {
			trace_write("tracing_on", "0");
			break;
		}
		n = tl_capture(&e);
		for (unsigned int a = 0; a < AXES; a++) {
			size_t np = tl_pulses(e, n, a, p, MAXP);

			for (size_t i = 0; i < np; i++) {
				double pos[AXES];
				double s = (p[i].rise - (double)t0) / 1e9;

				if (!p[i].width || s < 0 ||
				    s > hrservo_traj_duration(t))
					continue;
				hrservo_traj_eval(t, s, pos, NULL, NULL);
				dev[nd++] = fabs((double)p[i].width - pos[a]) /
					    1e3;
			}
		}
		free(e);
	}

	f = fopen(TRACE "/trace", "r");
	while (f && fgets(line, sizeof(line), f) && nf < 4096) {
		/* " 0) + 12.345 us    |  hrservo_frame_begin [hrservo]();" */
		char *q = strchr(line, ')');
		double us;

		if (!strstr(line, "hrservo_frame_begin") || !q)
			continue;
		for (q++; *q && strchr(" +!#*@$", *q); q++)
			;
		if (sscanf(q, "%lf us", &us) == 1)
			frame_us[nf++] = us;
	}
	if (f)
		fclose(f);
	trace_write("current_tracer", "nop");
	trace_write("set_ftrace_filter", "");

	stats("deviation_us", dev, nd, "us");
	stats("frame_begin_32axes_us", frame_us, nf, "us");
	hrservo_traj_free(t);
	hrservo_close(h);
	return tl_destroy(&c) ? 1 : 0;
}
