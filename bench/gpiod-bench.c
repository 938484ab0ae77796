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
 *  - edge lateness: the backend's schedule is not visible outside the
 *    library, so the frame grid is inferred from the capture: frame k of a
 *    rise is its distance from the first rise in periods, rounded, and the
 *    grid's origin is where the earliest rise puts it. A rise is late by
 *    its distance from the grid, a fall by its distance from the grid plus
 *    the commanded width. Lateness is thus measured from the least late
 *    rise, an underestimate by that rise's own lateness;
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
	int64_t origin = INT64_MAX, first_rise = -1;

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
	c0 = cpu_s();
	tl_sleep_ns((uint64_t)frames * TL_FRAME_NS);
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
	/* The grid: from the first rise, in periods; its origin the earliest. */
	for (unsigned int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < nch; i++) {
			size_t np = tl_pulses(e, n, first + i, p, maxp);

			for (size_t j = 0; j < np; j++) {
				int64_t r = (int64_t)p[j].rise, k;

				if (!pass) {
					if (first_rise < 0 || r < first_rise)
						first_rise = r;
					continue;
				}
				k = (r - first_rise + (int64_t)TL_FRAME_NS / 2) /
				    (int64_t)TL_FRAME_NS;
				if (r - k * (int64_t)TL_FRAME_NS < origin)
					origin = r - k * (int64_t)TL_FRAME_NS;
			}
		}
	}
	for (unsigned int i = 0; i < nch; i++) {
		size_t np = tl_pulses(e, n, first + i, p, maxp);

		for (size_t j = 0; j < np; j++) {
			int64_t r = (int64_t)p[j].rise, k, d;

			if (!p[j].width)
				continue;
			k = (r - origin + (int64_t)TL_FRAME_NS / 2) /
			    (int64_t)TL_FRAME_NS;
			d = (int64_t)p[j].width - (int64_t)width[i];
			werr[nw++] = d < 0 ? -d : d;
			rise[nr++] = r - origin - k * (int64_t)TL_FRAME_NS;
			fall[nf++] = r + (int64_t)p[j].width - origin -
				     k * (int64_t)TL_FRAME_NS - (int64_t)width[i];
		}
	}
	{
		struct bench_stats w = bench_stats_of(werr, nw);
		struct bench_stats r = bench_stats_of(rise, nr);
		struct bench_stats f = bench_stats_of(fall, nf);
		double out_s = (double)frames * TL_FRAME_NS / 1e9;

		printf("channels=%u frames=%u pulses=%zu (gpiod backend, userspace)\n",
		       nch, frames, w.n);
		printf("width_error_us       p50=%.3f p99=%.3f max=%.3f\n",
		       w.p50 / 1e3, w.p99 / 1e3, w.max / 1e3);
		printf("rise_late_us         p50=%.3f p99=%.3f max=%.3f (from the earliest rise)\n",
		       r.p50 / 1e3, r.p99 / 1e3, r.max / 1e3);
		printf("fall_late_us         p50=%.3f p99=%.3f max=%.3f (from the earliest rise)\n",
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
	return 0;
}
