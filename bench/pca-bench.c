// SPDX-License-Identifier: GPL-2.0
/*
 * PCA9685 backend figures, in the guest, on i2c-stub: I2C transfers and
 * bytes per frame with 1 and with 16 channels changing at every frame
 * (a linear trajectory on those channels), against a naive driver that
 * writes each changed register with its own SMBus byte write; and the
 * bus-update latency (scheduled frame start to the end of the frame's last
 * transfer) p50/p99/max. All from the hrservo_bus_update trace event.
 *
 * usage: hrservo-pca-bench [FRAMES]   (hrservo-pca9685 and i2c-stub loaded)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "testlib.h"

#define MS	1000000ULL

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/*
 * All @axes move linearly 500 -> 2500 us over @frames frames: at least one
 * tick (4.88 us at 50 Hz) per frame for up to 400 frames, so that every
 * frame changes every moving channel.
 */
static int ramp(int fd, unsigned int axes, unsigned int frames)
{
	struct hrservo_segment seg = {
		.duration_ns = frames * 20 * MS,
		.mask = (1ULL << axes) - 1,
		.flags = HRSERVO_SEG_LAST,
	};
	int64_t coef[16 * 6] = { 0 };
	struct hrservo_traj req = {
		.segments = (uintptr_t)&seg,
		.coefs = (uintptr_t)coef,
		.count = 1,
		.ncoefs = axes * 6,
	};

	for (unsigned int a = 0; a < axes; a++) {
		coef[a * 6] = 500000LL << 16;
		coef[a * 6 + 1] = 2000000LL << 16;
	}
	return ioctl(fd, HRSERVO_IOC_TRAJ_SUBMIT, &req) ? -1 : 0;
}

static void report(const char *label, const char *text, unsigned int want)
{
	long long lat[8192];
	unsigned long long tr = 0, by = 0;
	size_t n = 0;
	const char *p = text;

	while ((p = strstr(p, "hrservo_bus_update: "))) {
		unsigned long long mask;
		long long sched, l;
		unsigned int t, b;
		int id, err;

		if (sscanf(p, "hrservo_bus_update: hrservo%d scheduled=%lld latency=%lld mask=0x%llx transfers=%u bytes=%u err=%d",
			   &id, &sched, &l, &mask, &t, &b, &err) == 7 &&
		    (unsigned int)__builtin_popcountll(mask) == want &&
		    !err && n < 8192) {
			lat[n++] = l;
			tr += t;
			by += b;
		}
		p++;
	}
	if (!n) {
		printf("%s: no frames\n", label);
		return;
	}
	qsort(lat, n, sizeof(lat[0]), cmp_ll);
	printf("%s: frames=%zu transfers/frame=%.2f bytes/frame=%.2f (naive, one byte write per register: %u transfers, %u bytes) latency_us p50=%.1f p99=%.1f max=%.1f\n",
	       label, n, (double)tr / n, (double)by / n, 4 * want, 12 * want,
	       lat[n / 2] / 1e3, lat[(n * 99) / 100] / 1e3, lat[n - 1] / 1e3);
}

int main(int argc, char **argv)
{
	static const char *const ev[] = { "hrservo/hrservo_bus_update", NULL };
	unsigned int frames = argc > 1 ? (unsigned int)atoi(argv[1]) : 250;
	unsigned int axes[] = { 1, 16 };
	struct tl_ctrl c;
	char *text;

	if (tl_pca_create(&c, 0x40) || tl_trace_enable(ev, 1)) {
		fprintf(stderr, "pca-bench: cannot set up the PCA9685\n");
		return 1;
	}
	for (unsigned int i = 0; i < 2; i++) {
		char label[64];

		/* Park every channel first, so that only the ramp changes. */
		for (unsigned int ch = 0; ch < 16; ch++)
			tl_set1(c.fd, ch, 500000);
		tl_sleep_ns(100 * MS);
		tl_trace_clear();
		if (ramp(c.fd, axes[i], frames)) {
			perror("pca-bench: trajectory");
			return 1;
		}
		tl_sleep_ns((frames + 10) * 20 * MS);
		text = tl_trace_read();
		snprintf(label, sizeof(label), "%u channel(s) changed per frame",
			 axes[i]);
		report(label, text ? text : "", axes[i]);
		free(text);
	}
	tl_release(c.fd, 0xffff);
	tl_sleep_ns(100 * MS);
	return tl_destroy(&c) ? 1 : 0;
}
