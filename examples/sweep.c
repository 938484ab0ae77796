// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sweep: move channel 0 of a controller from one end of its limits to the
 * other and back, then release it. An example of libhrservo.
 *
 *   cc -o sweep sweep.c $(pkg-config --cflags --libs hrservo)
 *   ./sweep hrservo0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hrservo.h>

int main(int argc, char **argv)
{
	const struct timespec step = { .tv_nsec = 20000000 };	/* 20 ms */
	struct hrservo_state *st;
	uint32_t min_ns, max_ns;
	struct hrservo *h;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: sweep CTRL\n");
		return 2;
	}
	h = hrservo_open(argv[1]);	/* "hrservo0", "0" or "/dev/hrservo0" */
	if (!h) {
		fprintf(stderr, "sweep: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (hrservo_get_limits(h, 0, &min_ns, &max_ns))
		goto out;
	/* 2% steps up, then down: one target per frame. */
	for (int i = 0; i <= 100; i += 2) {
		if (hrservo_set_target(h, 0, min_ns + (max_ns - min_ns) / 100 * i))
			goto out;
		nanosleep(&step, NULL);
	}
	for (int i = 100; i >= 0; i -= 2) {
		if (hrservo_set_target(h, 0, min_ns + (max_ns - min_ns) / 100 * i))
			goto out;
		nanosleep(&step, NULL);
	}
	st = hrservo_read_state(h);
	if (st) {
		printf("channel 0 at %u ns\n", hrservo_state_pulse_ns(st, 0));
		hrservo_state_free(st);
	}
	ret = hrservo_release(h, 1) ? 1 : 0;
out:
	if (ret)
		fprintf(stderr, "sweep: %s\n", strerror(errno));
	hrservo_close(h);
	return ret;
}
