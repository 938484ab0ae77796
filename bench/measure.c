// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-measure: drive a controller on the loopback GPIO chip and report
 * commanded vs measured pulse widths, edge timing error and hrtimer expiries
 * per frame. Runs in the test guest (make demo, make bench); needs the
 * modules loaded, debugfs and tracefs mounted. With --ctrl it measures a
 * controller that exists (real GPIO lines, on the robot's board) through
 * the trace events alone: no pulse widths, as no loopback chip records
 * them.
 *
 * Sources of each figure:
 *  - pulse widths: the loopback chip's edge capture (fall - rise);
 *  - edge timing error: the hrservo_edge trace event, actual - scheduled
 *    time of every timer expiry (rising edges against the frame grid,
 *    falling edges against rise + pulse width);
 *  - line writes per frame: hrservo_edge events per frame, against the
 *    bound distinct end times + 1;
 *  - the frames' phase: the first hrservo_frame event's scheduled start mod
 *    20 ms, for the bare timer to run at (bench/probe.c);
 *  - the frame's work: the hrservo_frame event, when hrservo_frame_begin()
 *    ended against the frame's start (negative: done ahead, lead_ns
 *    before); a frame whose work ran ahead of its start cost one expiry
 *    more than its line writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"
#include "testlib.h"

#define TRACE		"/sys/kernel/tracing"
#define MAX_EDGES	(1 << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hrservo-measure [options]\n"
		"  -c, --channels N     channels (1..64, default 8)\n"
		"  -l, --first-line L   first loopback line (default 0)\n"
		"  -f, --frames F       frames to measure (default 100)\n"
		"  -d, --distinct K     only K distinct widths (default: all)\n"
		"  -L, --lead-ns NS     the backend's lead_ns (default: as it is)\n"
		"  -u, --cpu            measure the CPU time of the backend's timer\n"
		"                       instead (function_graph on it): ms per s\n"
		"  -C, --ctrl NAME      measure hrservoN, which exists, instead of a\n"
		"                       controller on the loopback chip (its servos\n"
		"                       move to 1000..2000 us: disconnect them)\n"
		"  -t, --table          print the per-channel table\n"
		"  -h, --help           this text\n");
}

static int trace_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACE "/%s", file);
	return tl_write(path, val);
}

/* Empty the trace buffer: opening "trace" with O_TRUNC does that. */
static void trace_clear(void)
{
	int fd = open(TRACE "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
}

/*
 * Measure the controller @name, which exists: its first @nch channels
 * (the backend's lead_ns file is its device's, wherever that is).
 */
static int existing(struct tl_ctrl *c, const char *name, unsigned int nch)
{
	char path[256], link[256], buf[32];
	ssize_t len;
	char *base;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strncmp(name, "hrservo", 7) || strlen(name) >= sizeof(c->name))
		return -EINVAL;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->sysfs, sizeof(c->sysfs), "/sys/class/hrservo/%s", name);
	snprintf(path, sizeof(path), "%s/device", c->sysfs);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return -errno;
	link[len] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (strlen(base) >= sizeof(c->pdev))
		return -ENAMETOOLONG;
	memcpy(c->pdev, base, strlen(base) + 1);
	if (tl_attr(c, "channels", buf, sizeof(buf)))
		return -ENODEV;
	if (strtoul(buf, NULL, 10) < nch) {
		fprintf(stderr, "hrservo-measure: %s has %s channels, not %u\n",
			name, buf, nch);
		return -ERANGE;
	}
	c->nchannels = nch;
	snprintf(path, sizeof(path), "/dev/%s", name);
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	return c->fd < 0 ? -errno : 0;
}

/*
 * The CPU time of the backend's timer callback over @frames frames, from
 * the function_graph trace: per second of output, and per call.
 */
static int timer_cpu(unsigned int frames)
{
	int64_t *ns = calloc(MAX_EDGES, sizeof(*ns));
	FILE *f = fopen(TRACE "/trace", "r");
	double us, sum = 0;
	struct bench_stats st;
	char line[512];
	size_t n = 0;

	if (!ns || !f) {
		free(ns);
		if (f)
			fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) && n < MAX_EDGES)
		if (!bench_parse_graph(line, "hrservo_gpio_timer", &us)) {
			ns[n++] = (int64_t)(us * 1000 + 0.5);
			sum += us;
		}
	fclose(f);
	st = bench_stats_of(ns, n);
	/* The frames played, and the 3 after the release that end it. */
	printf("timer_cpu_ms_per_s   %.3f (%zu calls in %u frames of 20 ms)\n",
	       sum / 1e3 / ((frames + 3) * 0.02), n, frames + 3);
	printf("timer_call_us        p50=%.3f p99=%.3f max=%.3f\n",
	       st.p50 / 1e3, st.p99 / 1e3, st.max / 1e3);
	free(ns);
	return n ? 0 : -1;
}

/* The end: a controller of ours goes, one that existed stays. */
static int done(struct tl_ctrl *c, const char *existed)
{
	if (!existed)
		return tl_destroy(c);
	close(c->fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channels", required_argument, NULL, 'c' },
		{ "first-line", required_argument, NULL, 'l' },
		{ "frames", required_argument, NULL, 'f' },
		{ "distinct", required_argument, NULL, 'd' },
		{ "lead-ns", required_argument, NULL, 'L' },
		{ "ctrl", required_argument, NULL, 'C' },
		{ "cpu", no_argument, NULL, 'u' },
		{ "table", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned int nch = 8, first = 0, frames = 100, table = 0, id;
	unsigned int distinct = 0, cpu = 0;
	struct hrservo_target t[HRSERVO_CHANNELS_MAX];
	int64_t *werr, *rise_late, *fall_late, *work_ahead;
	size_t nwork = 0, nahead = 0;
	long long first_start = 0;
	size_t nw = 0, nr = 0, nf = 0, n;
	uint64_t nseq = 0, nexp = 0, max_exp = 0, last_seq = 0, cur = 0;
	struct tl_pulse *p;
	struct tl_edge *e;
	struct tl_ctrl c;
	char line[512], missed[32] = "?", path[256];
	const char *lead = NULL, *ctrl = NULL;
	FILE *tr;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "c:l:f:d:L:C:uth", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': nch = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'l': first = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'f': frames = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'd': distinct = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'L': lead = optarg; break;
		case 'C': ctrl = optarg; break;
		case 'u': cpu = 1; break;
		case 't': table = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (nch < 1 || nch > HRSERVO_CHANNELS_MAX || frames < 2 ||
	    frames > 10000) {
		fprintf(stderr, "hrservo-measure: channels 1..64, frames 2..10000\n");
		return 2;
	}

	ret = ctrl ? existing(&c, ctrl, nch) : tl_create(&c, first, nch);
	if (ret) {
		fprintf(stderr, "hrservo-measure: %s: %s\n",
			ctrl ? ctrl : "new_device", strerror(-ret));
		return 1;
	}
	id = (unsigned int)strtoul(c.name + strlen("hrservo"), NULL, 10);
	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/lead_ns",
		 c.pdev);
	ret = lead ? tl_write(path, lead) : 0;
	if (ret) {
		fprintf(stderr, "hrservo-measure: lead_ns %s: %s\n", lead,
			strerror(-ret));
		done(&c, ctrl);
		return 1;
	}
	if (tl_read(path, line, sizeof(line)) > 0)
		printf("lead_ns              %s", line);

	trace_write("tracing_on", "0");
	trace_write("buffer_size_kb", "16384");
	trace_clear();
	if (cpu) {
		/* Hook the timer callback only: no tracer cost inside it. */
		trace_write("current_tracer", "nop");
		trace_write("set_ftrace_filter", "hrservo_gpio_timer");
		trace_write("max_graph_depth", "1");
		trace_write("current_tracer", "function_graph");
		trace_clear();
	} else {
		trace_write("events/hrservo/hrservo_edge/enable", "1");
		trace_write("events/hrservo/hrservo_frame/enable", "1");
	}
	trace_write("tracing_on", "1");
	tl_capture_clear();

	/*
	 * Widths spread over 1000..2000 us in whole us; with --distinct K,
	 * channel i gets the (i mod K)-th of K widths.
	 */
	if (!distinct || distinct > nch)
		distinct = nch;
	for (unsigned int i = 0; i < nch; i++) {
		unsigned int k = i % distinct;

		t[i] = (struct hrservo_target){
			i, 1000000 + (distinct > 1 ?
				      k * (1000000 / (distinct - 1)) : 500000)
		};
	}
	for (unsigned int i = 0; i < nch; i++)
		t[i].pulse_ns -= t[i].pulse_ns % 1000;
	ret = tl_set(c.fd, t, nch);
	if (ret) {
		fprintf(stderr, "hrservo-measure: set: %s\n", strerror(-ret));
		done(&c, ctrl);
		return 1;
	}
	tl_sleep_ns((uint64_t)frames * TL_FRAME_NS);
	tl_release(c.fd, nch == 64 ? ~0ULL : (1ULL << nch) - 1);
	tl_sleep_ns(3 * TL_FRAME_NS);
	tl_attr(&c, "missed_frames", missed, sizeof(missed));
	trace_write("tracing_on", "0");
	trace_write("events/hrservo/hrservo_edge/enable", "0");

	if (cpu) {
		ret = timer_cpu(frames);
		trace_write("current_tracer", "nop");
		trace_write("set_ftrace_filter", "");
		tl_capture_clear();
		return done(&c, ctrl) || ret ? 1 : 0;
	}
	e = NULL;
	n = ctrl ? 0 : tl_capture(&e);
	p = calloc(frames + 16, sizeof(*p));
	werr = calloc((size_t)nch * (frames + 16), sizeof(*werr));
	rise_late = calloc(MAX_EDGES, sizeof(*rise_late));
	fall_late = calloc(MAX_EDGES, sizeof(*fall_late));
	work_ahead = calloc(MAX_EDGES, sizeof(*work_ahead));
	if (!p || !werr || !rise_late || !fall_late || !work_ahead)
		return 1;

	if (table)
		printf("%4s %11s %11s %11s %11s %7s\n", "ch", "target_us",
		       "mean_us", "min_us", "max_us", "pulses");
	for (unsigned int i = 0; i < nch; i++) {
		size_t np = tl_pulses(e, n, first + i, p, frames + 16);
		int64_t mn = INT64_MAX, mx = INT64_MIN;
		double sum = 0;
		size_t k = 0;

		for (size_t j = 0; j < np; j++) {
			int64_t d;

			if (!p[j].width)
				continue;
			d = (int64_t)p[j].width - t[i].pulse_ns;
			werr[nw++] = d < 0 ? -d : d;
			sum += (double)p[j].width;
			mn = (int64_t)p[j].width < mn ? (int64_t)p[j].width : mn;
			mx = (int64_t)p[j].width > mx ? (int64_t)p[j].width : mx;
			k++;
		}
		if (table && k)
			printf("%4u %11.3f %11.3f %11.3f %11.3f %7zu\n", i,
			       t[i].pulse_ns / 1e3, sum / (double)k / 1e3,
			       (double)mn / 1e3, (double)mx / 1e3, k);
	}

	tr = fopen(TRACE "/trace", "r");
	while (tr && fgets(line, sizeof(line), tr)) {
		struct bench_frame fr;
		struct bench_edge ed;

		if (!bench_parse_frame(line, &fr) && fr.id == id) {
			if (!nwork)
				first_start = fr.scheduled;
			if (nwork < MAX_EDGES)
				work_ahead[nwork++] = -fr.late;
			nahead += fr.late < 0;
			continue;
		}
		if (bench_parse_edge(line, &ed) || ed.id != id)
			continue;
		if (ed.level && nr < MAX_EDGES)
			rise_late[nr++] = ed.late;
		else if (!ed.level && nf < MAX_EDGES)
			fall_late[nf++] = ed.late;
		if (ed.seq != last_seq) {
			if (cur > max_exp)
				max_exp = cur;
			cur = 0;
			nseq++;
			last_seq = ed.seq;
		}
		cur++;
		nexp++;
	}
	if (cur > max_exp)
		max_exp = cur;
	if (tr)
		fclose(tr);

	{
		struct bench_stats w = bench_stats_of(werr, nw);
		struct bench_stats r = bench_stats_of(rise_late, nr);
		struct bench_stats f = bench_stats_of(fall_late, nf);
		struct bench_stats wk = bench_stats_of(work_ahead, nwork);
		int64_t *all = calloc(nr + nf + 1, sizeof(*all));
		struct bench_stats a;

		memcpy(all, rise_late, nr * sizeof(*all));
		memcpy(all + nr, fall_late, nf * sizeof(*all));
		a = bench_stats_of(all, nr + nf);
		printf("channels=%u frames=%llu pulses=%zu missed_frames=%s\n",
		       nch, (unsigned long long)nseq, w.n, missed);
		if (ctrl)
			printf("width_error_us       n/a (no loopback chip records %s's lines)\n",
			       ctrl);
		else
			printf("width_error_us       p50=%.3f p99=%.3f max=%.3f\n",
			       w.p50 / 1e3, w.p99 / 1e3, w.max / 1e3);
		printf("edge_late_us         p50=%.3f p99=%.3f max=%.3f (n=%zu)\n",
		       a.p50 / 1e3, a.p99 / 1e3, a.max / 1e3, a.n);
		printf("rise_late_us         p50=%.3f p99=%.3f max=%.3f\n",
		       r.p50 / 1e3, r.p99 / 1e3, r.max / 1e3);
		printf("fall_late_us         p50=%.3f p99=%.3f max=%.3f\n",
		       f.p50 / 1e3, f.p99 / 1e3, f.max / 1e3);
		printf("writes_per_frame     mean=%.2f max=%llu bound=%u (distinct end times + 1)\n",
		       nseq ? (double)nexp / (double)nseq : 0.0,
		       (unsigned long long)max_exp, distinct + 1);
		printf("work_ahead_us        p50=%.3f p99=%.3f min=%.3f (n=%zu, before the start)\n",
		       wk.p50 / 1e3, wk.p99 / 1e3, wk.min / 1e3, wk.n);
		/* bench/guest-bench runs the bare timer at this phase. */
		if (nwork)
			printf("frame_phase_ns       %lld (the frames' start mod 20 ms of CLOCK_MONOTONIC)\n",
			       bench_phase_ns(first_start, (long long)TL_FRAME_NS));
		printf("expiries_per_frame   mean=%.2f (writes + the frames whose work ran ahead, %zu of %zu)\n",
		       nseq ? ((double)nexp + (double)nahead) / (double)nseq : 0.0,
		       nahead, nwork);
		free(all);
	}
	free(e);
	free(p);
	free(werr);
	free(rise_late);
	free(fall_late);
	free(work_ahead);
	ret = done(&c, ctrl);
	return ret ? 1 : 0;
}
