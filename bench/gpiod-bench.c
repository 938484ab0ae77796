// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-gpiod-bench: the library's gpiod backend on the loopback GPIO chip,
 * measured as hrservo-measure measures the kernel driver, for make bench's
 * side-by-side table.
 *
 * usage: hrservo-gpiod-bench CHANNELS FRAMES [FIRST_LINE]
 *
 * The same widths as hrservo-measure (spread over 1000..2000 us in whole
 * us), the same 20 ms frame. Sources:
 *  - pulse widths: the loopback capture (fall - rise);
 *  - edge lateness: against the backend's own schedule, its frame record
 *    (hrservo_read_frames(): each frame's scheduled start and widths, read
 *    every half second): a rise is late by its distance from the start of
 *    the last frame that began before it, a fall by its distance from the
 *    rise plus the frame's width for the channel (the backend times falls
 *    from the rise, as the driver does), as hrservo-measure takes the
 *    driver's from its trace events;
 *  - line writes per frame: distinct widths + 1 (a rise and a write per
 *    group of falls), the same bound as the driver's expiries;
 *  - CPU time per second of output: the process' CPU time while only the
 *    player thread runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hrservo.h"
#include "stats.h"
#include "testlib.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned int nch, frames, first = 0;
	uint32_t width[HRSERVO_MAX_CHANNELS];
	int64_t *werr, *rise, *fall;
	size_t nw = 0, nr = 0, nf = 0, n, maxp;
	struct hrservo_batch *b;
	struct tl_pulse *p;
	struct tl_edge *e;
	struct hrservo *h;
	char spec[96];
	double c0, c1;
	struct hrservo_frame_data *rec;
	size_t nrec = 0, got;
	uint64_t next, lost, nlost = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: hrservo-gpiod-bench CHANNELS FRAMES [FIRST_LINE]\n");
		return 2;
	}
	nch = (unsigned int)strtoul(argv[1], NULL, 0);
	frames = (unsigned int)strtoul(argv[2], NULL, 0);
	if (argc > 3)
		first = (unsigned int)strtoul(argv[3], NULL, 0);
	if (nch < 1 || nch > HRSERVO_MAX_CHANNELS || frames < 2 ||
	    frames > 10000) {
		fprintf(stderr, "hrservo-gpiod-bench: channels 1..64, frames 2..10000\n");
		return 2;
	}
	snprintf(spec, sizeof(spec), "gpiod:" TL_LB_LABEL ":%u-%u", first,
		 first + nch - 1);
	h = hrservo_open(spec);
	if (!h) {
		fprintf(stderr, "hrservo-gpiod-bench: %s: %s\n", spec,
			*hrservo_last_error() ? hrservo_last_error() :
			strerror(errno));
		return 1;
	}
	b = hrservo_batch_new();
	for (unsigned int i = 0; i < nch; i++) {
		width[i] = 1000000 + (nch > 1 ? i * (1000000 / (nch - 1)) :
					  500000);
		width[i] -= width[i] % 1000;
		hrservo_batch_add(b, i, width[i]);
	}
	if (!b || hrservo_apply(h, b)) {
		fprintf(stderr, "hrservo-gpiod-bench: apply: %s\n",
			strerror(errno));
		return 1;
	}
	tl_sleep_ns(3 * TL_FRAME_NS);
	tl_capture_clear();
	rec = calloc(frames + 256, sizeof(*rec));
	if (!rec)
		return 1;
	/* From the frame after the capture was cleared on. */
	if (hrservo_read_frames(h, 0, rec, 1, &got, &next, NULL) || !got)
		next = 1;
	{
		struct hrservo_frame_data last[128];

		while (!hrservo_read_frames(h, next, last, 128, &got, &next,
					    NULL) && got)
			;
	}
	c0 = cpu_s();
	for (uint64_t end = tl_now() + (uint64_t)frames * TL_FRAME_NS;
	     tl_now() < end;) {
		tl_sleep_ns(500000000ULL);
		while (nrec < frames + 256 &&
		       !hrservo_read_frames(h, next, rec + nrec,
					    frames + 256 - nrec, &got, &next,
					    &lost) && got) {
			nrec += got;
			nlost += lost;
		}
	}
	c1 = cpu_s();
	hrservo_close(h);
	hrservo_batch_free(b);

	n = tl_capture(&e);
	maxp = frames + 16;
	p = calloc(maxp, sizeof(*p));
	werr = calloc((size_t)nch * maxp, sizeof(*werr));
	rise = calloc((size_t)nch * maxp, sizeof(*rise));
	fall = calloc((size_t)nch * maxp, sizeof(*fall));
	if (!p || !werr || !rise || !fall)
		return 1;
	for (unsigned int i = 0; i < nch; i++) {
		size_t np = tl_pulses(e, n, first + i, p, maxp), f = 0;

		for (size_t j = 0; j < np; j++) {
			uint64_t r = p[j].rise;
			int64_t d;

			if (!p[j].width)
				continue;
			/* The last frame that started before the rise. */
			while (f + 1 < nrec && rec[f + 1].start_ns <= r)
				f++;
			if (!nrec || rec[f].start_ns > r ||
			    r - rec[f].start_ns >= rec[f].period_ns)
				continue;	/* before or after the record */
			d = (int64_t)p[j].width - (int64_t)width[i];
			werr[nw++] = d < 0 ? -d : d;
			rise[nr++] = (int64_t)(r - rec[f].start_ns);
			/* Falls count from the rise, as the driver's do. */
			fall[nf++] = (int64_t)p[j].width -
				     (int64_t)rec[f].pulse_ns[i];
		}
	}
	{
		struct bench_stats w = bench_stats_of(werr, nw);
		struct bench_stats r = bench_stats_of(rise, nr);
		struct bench_stats f = bench_stats_of(fall, nf);
		double out_s = (double)frames * TL_FRAME_NS / 1e9;

		printf("channels=%u frames=%zu pulses=%zu frames_lost=%llu (gpiod backend, userspace)\n",
		       nch, nrec, w.n, (unsigned long long)nlost);
		printf("width_error_us       p50=%.3f p99=%.3f max=%.3f\n",
		       w.p50 / 1e3, w.p99 / 1e3, w.max / 1e3);
		printf("rise_late_us         p50=%.3f p99=%.3f max=%.3f\n",
		       r.p50 / 1e3, r.p99 / 1e3, r.max / 1e3);
		printf("fall_late_us         p50=%.3f p99=%.3f max=%.3f\n",
		       f.p50 / 1e3, f.p99 / 1e3, f.max / 1e3);
		printf("writes_per_frame     bound=%u (distinct widths + 1), wake-ups %u (+1 for the frame's work)\n",
		       nch + 1, nch + 2);
		printf("cpu_ms_per_s         %.3f\n", (c1 - c0) * 1e3 / out_s);
	}
	free(e);
	free(p);
	free(werr);
	free(rise);
	free(fall);
	free(rec);
	return 0;
}
