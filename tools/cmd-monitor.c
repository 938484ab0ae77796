// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl monitor: follow the state of a controller, as a table redrawn on
 * a terminal, else as one line (or JSON object) per channel change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "servoctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static bool chan_changed(const struct hrservo_state *a,
			 const struct hrservo_state *b, unsigned int c)
{
	return hrservo_state_enabled(a, c) != hrservo_state_enabled(b, c) ||
	       hrservo_state_target_ns(a, c) != hrservo_state_target_ns(b, c) ||
	       hrservo_state_pulse_ns(a, c) != hrservo_state_pulse_ns(b, c) ||
	       hrservo_state_min_ns(a, c) != hrservo_state_min_ns(b, c) ||
	       hrservo_state_max_ns(a, c) != hrservo_state_max_ns(b, c);
}

static void draw_table(struct hrservo *h, const struct hrservo_state *st)
{
	/* Home, clear: redraw in place. */
	printf("\033[H\033[J%s (%s), %u channels; Ctrl-C to quit\n\n",
	       hrservo_name(h), hrservo_backend(h), hrservo_num_channels(h));
	print_state_header();
	for (unsigned int c = 0; c < hrservo_num_channels(h); c++)
		print_state_row(st, c);
	fflush(stdout);
}

/* One line (or JSON object) per changed channel; returns lines printed. */
static long print_changes(struct hrservo *h, const struct hrservo_state *old,
			  const struct hrservo_state *st)
{
	double t = (double)now_ns() / 1e9;
	long lines = 0;

	for (unsigned int c = 0; c < hrservo_num_channels(h); c++) {
		char a[24], b[24];

		if (old && !chan_changed(old, st, c))
			continue;
		if (opt_json) {
			json_object *o = channel_json(st, c);

			json_object_object_add(o, "time", json_object_new_double(t));
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		} else {
			uint32_t tg = hrservo_state_target_ns(st, c);
			uint32_t p = hrservo_state_pulse_ns(st, c);

			printf("%.6f %s ch%u %s target=%s pulse=%s\n", t,
			       hrservo_name(h), c,
			       hrservo_state_enabled(st, c) ? "on" : "off",
			       tg ? fmt_ns(tg, a) : "-", p ? fmt_ns(p, b) : "-");
		}
		lines++;
	}
	fflush(stdout);
	return lines;
}

/* @st: redrawn on a terminal, else its changes from @old; lines printed. */
static long show(struct hrservo *h, const struct hrservo_state *old,
		 const struct hrservo_state *st, bool tty)
{
	if (!tty)
		return print_changes(h, old, st);
	draw_table(h, st);
	return 0;
}

static long opt_count = -1;

static int monitor_opt(int opt, const char *arg)
{
	char *end;

	if (opt != 'n')
		return -1;
	errno = 0;
	opt_count = strtol(arg, &end, 10);
	if (!*arg || *end || errno || opt_count < 1) {
		err("--count: '%s' is not a positive number", arg);
		exit(EXIT_USAGE);
	}
	return 0;
}

int cmd_monitor(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct hrservo_state *st = NULL, *old = NULL;
	uint64_t reread_at = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	struct hrservo *h;
	uint32_t period;
	bool tty;
	int i, fd, ret = 0;
	long printed = 0;

	i = sub_opts(argc, argv, find_command("monitor"), "n:", extra,
		     monitor_opt);
	ret = open_ctrl_arg(argc - i, argv + i, 1, 1, "expects one controller",
			    &h);
	if (ret)
		return ret;
	fd = hrservo_event_fd(h);
	if (fd < 0 || hrservo_get_frame_period(h, &period, NULL, NULL)) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		hrservo_close(h);
		return EXIT_RUNTIME;
	}
	tty = !opt_json && isatty(STDOUT_FILENO);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	st = hrservo_read_state(h);
	if (!st)
		goto fail;
	/* The initial state is shown in full; --count counts changes only. */
	show(h, NULL, st, tty);

	while (!stop && (opt_count < 0 || printed < opt_count)) {
		struct hrservo_event_data ev;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int timeout = -1, n;
		bool changed = false;

		if (reread_at) {
			uint64_t now = now_ns();

			timeout = reread_at > now ?
				  (int)((reread_at - now) / 1000000) + 1 : 0;
		}
		n = poll(&pfd, 1, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		while (!hrservo_read_event(h, &ev, 0)) {
			if (ev.type == HRSERVO_EV_REMOVED) {
				err("%s: controller removed", hrservo_name(h));
				ret = EXIT_RUNTIME;
				goto out;
			}
			if (ev.type == HRSERVO_EV_PERIOD)
				period = ev.value;
			if (ev.type == HRSERVO_EV_FAULT)
				err("%s: channels 0x%llx not updated: %s (the driver retries)",
				    hrservo_name(h), (unsigned long long)ev.mask,
				    strerror((int)ev.value));
			if (ev.type == HRSERVO_EV_TRAJ_DROPPED)
				err("%s: channels 0x%llx released out of the trajectory",
				    hrservo_name(h), (unsigned long long)ev.mask);
			changed = true;
		}
		if (errno == ENODEV) {
			err("%s: controller removed", hrservo_name(h));
			ret = EXIT_RUNTIME;
			goto out;
		}
		/* The pulse in effect follows at the next frame boundary. */
		if (changed)
			reread_at = now_ns() + period + 2000000;
		else if (reread_at && now_ns() >= reread_at)
			reread_at = 0;
		else if (!changed)
			continue;

		hrservo_state_free(old);
		old = st;
		st = hrservo_read_state(h);
		if (!st)
			goto fail;
		printed += show(h, old, st, tty);
	}
	goto out;

fail:
	err("%s: %s", hrservo_name(h), strerror(errno));
	ret = EXIT_RUNTIME;
out:
	hrservo_state_free(old);
	hrservo_state_free(st);
	hrservo_close(h);
	return ret;
}
