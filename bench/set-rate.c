// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-set-rate: how many atomic target batches per second libhrservo
 * applies through the chardev backend, for a batch of N channels.
 *
 * usage: hrservo-set-rate CTRL CHANNELS SECONDS
 * Prints "channels=N batches=B seconds=S rate=R/s".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hrservo.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct hrservo_batch *b[2];
	struct hrservo *h;
	unsigned int n;
	double secs, t0, t;
	long count = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: hrservo-set-rate CTRL CHANNELS SECONDS\n");
		return 2;
	}
	h = hrservo_open(argv[1]);
	if (!h) {
		fprintf(stderr, "hrservo-set-rate: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	n = (unsigned int)strtoul(argv[2], NULL, 0);
	secs = strtod(argv[3], NULL);
	if (n < 1 || n > hrservo_num_channels(h) || secs <= 0) {
		fprintf(stderr, "hrservo-set-rate: bad channel count or time\n");
		return 2;
	}
	/* Two alternating batches, so that every apply changes something. */
	for (int k = 0; k < 2; k++) {
		b[k] = hrservo_batch_new();
		for (unsigned int c = 0; c < n; c++)
			hrservo_batch_add(b[k], c, 1400000 + 100000 * k);
	}
	t0 = now();
	do {
		for (int i = 0; i < 100; i++, count++) {
			if (hrservo_apply(h, b[count & 1])) {
				fprintf(stderr, "hrservo-set-rate: %s\n",
					strerror(errno));
				return 1;
			}
		}
		t = now();
	} while (t - t0 < secs);
	printf("channels=%u batches=%ld seconds=%.2f rate=%.0f/s\n", n, count,
	       t - t0, (double)count / (t - t0));
	hrservo_release(h, n == 64 ? ~0ULL : (1ULL << n) - 1);
	hrservo_batch_free(b[0]);
	hrservo_batch_free(b[1]);
	hrservo_close(h);
	return 0;
}
