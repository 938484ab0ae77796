// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-timer-probe: run the bare hrtimer of bench/kmod/hrservo-timer-probe
 * on hrservo-measure's expiry schedule for N channels and print its lateness
 * in hrservo-measure's format, so that bench/guest-bench sets the two side
 * by side. Runs in the guest; needs the module loaded and debugfs mounted.
 *
 * usage: hrservo-timer-probe CHANNELS FRAMES [LEAD_NS [PHASE_NS]]
 *
 * LEAD_NS: an expiry that long before each frame start, as hrservo-gpio's
 * lead_ns (default 0: none). PHASE_NS: the frames start at that phase of
 * 20 ms of CLOCK_MONOTONIC, hrservo-measure's frame_phase_ns (default:
 * wherever the run starts); see bench/kmod/hrservo-timer-probe.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define DIR	"/sys/kernel/debug/hrservo-timer-probe"

int main(int argc, char **argv)
{
	unsigned int ch, frames, lead = 0, phase = 0;
	int64_t *rise, *fall;
	size_t nr = 0, nf = 0, nw = 0, max;
	struct bench_stats r, f;
	char line[64];
	FILE *in;
	int tries;

	if (argc < 3 || argc > 5 || sscanf(argv[1], "%u", &ch) != 1 ||
	    sscanf(argv[2], "%u", &frames) != 1 || !ch || ch > 64 || !frames ||
	    (argc >= 4 && sscanf(argv[3], "%u", &lead) != 1) ||
	    (argc == 5 && (sscanf(argv[4], "%u", &phase) != 1 ||
			   phase >= 20000000))) {
		fprintf(stderr, "usage: hrservo-timer-probe CHANNELS(1..64) FRAMES [LEAD_NS [PHASE_NS(0..19999999)]]\n");
		return 2;
	}
	in = fopen(DIR "/start", "w");
	if (!in || (argc == 5 ?
		    fprintf(in, "%u %u %u %u\n", ch, frames, lead, phase) :
		    fprintf(in, "%u %u %u\n", ch, frames, lead)) < 0 ||
	    fclose(in)) {
		fprintf(stderr, "hrservo-timer-probe: cannot start: %s\n",
			strerror(errno));
		return 1;
	}
	/* A 20 ms frame each, and time for a slow guest to finish. */
	usleep((useconds_t)frames * 20000);
	max = (size_t)frames * (ch + 1);
	rise = calloc(max, sizeof(*rise));
	fall = calloc(max, sizeof(*fall));
	if (!rise || !fall)
		return 1;
	for (tries = 0; tries < 100; tries++) {
		in = fopen(DIR "/late", "r");
		if (in && fgets(line, sizeof(line), in))
			break;
		if (in)
			fclose(in);
		in = NULL;
		usleep(100000);
	}
	if (!in) {
		fprintf(stderr, "hrservo-timer-probe: the run did not end\n");
		return 1;
	}
	do {
		long long late;
		int is_rise;

		nw += line[0] == 'W';
		if (bench_parse_probe(line, &is_rise, &late))
			continue;
		if (is_rise && nr < max)
			rise[nr++] = late;
		else if (!is_rise && nf < max)
			fall[nf++] = late;
	} while (fgets(line, sizeof(line), in));
	fclose(in);
	r = bench_stats_of(rise, nr);
	f = bench_stats_of(fall, nf);
	printf("probe channels=%u frames=%zu lead_ns=%u phase_ns=%s expiries_per_frame=%.2f\n",
	       ch, nr, lead, argc == 5 ? argv[4] : "any", nr ? (double)(nr + nf + nw) / (double)nr : 0.0);
	printf("probe_rise_late_us   p50=%.3f p99=%.3f max=%.3f\n",
	       r.p50 / 1e3, r.p99 / 1e3, r.max / 1e3);
	printf("probe_fall_late_us   p50=%.3f p99=%.3f max=%.3f\n",
	       f.p50 / 1e3, f.p99 / 1e3, f.max / 1e3);
	free(rise);
	free(fall);
	return 0;
}
