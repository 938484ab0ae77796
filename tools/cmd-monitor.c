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

/*
 * The e-stop latch (if the controller has one: mon_has_estop), read at the
 * start and at every HRSERVO_EV_ESTOP, and the last safety event, for the
 * table.
 */
static struct hrservo_estop_info mon_estop;
static bool mon_has_estop;
static char mon_last[160];

static void draw_table(struct hrservo *h, const struct hrservo_state *st)
{
	/* Home, clear: redraw in place. */
	printf("\033[H\033[J%s (%s), %u channels; Ctrl-C to quit\n",
	       hrservo_name(h), hrservo_backend(h), hrservo_num_channels(h));
	if (mon_has_estop && mon_estop.latched)
		printf("E-STOP LATCHED (by %s): %s\n",
		       mon_estop.source == HRSERVO_ESTOP_BY_INPUT ? "input" : "user",
		       estop_words(h));
	if (mon_last[0])
		printf("last: %s\n", mon_last);
	putchar('\n');
	print_state_header();
	for (unsigned int c = 0; c < hrservo_num_channels(h); c++)
		print_state_row(st, c);
	fflush(stdout);
}

/* " target_pos=45deg": the position of width @ns on @j, "-" for none. */
static void print_pos(const struct hrservo_joint *j, const char *key,
		      uint32_t ns)
{
	char buf[40];
	double pos;

	if (!ns)
		printf(" %s=-", key);
	else if (hrservo_joint_from_ns(j, ns, &pos))
		printf(" %s=off-map", key);
	else
		printf(" %s=%s", key, fmt_joint_pos(j, pos, buf, sizeof(buf)));
}

/* One line (or JSON object) per changed channel; returns lines printed. */
static long print_changes(struct hrservo *h, const struct hrservo_state *old,
			  const struct hrservo_state *st)
{
	double t = (double)now_ns() / 1e9;
	long lines = 0;

	for (unsigned int c = 0; c < hrservo_num_channels(h); c++) {
		const struct hrservo_joint *j;
		char a[24], b[24];

		if (old && !chan_changed(old, st, c))
			continue;
		if (opt_json) {
			json_object *o = channel_json(st, c);

			/* Microseconds, not 17 digits of binary noise. */
			json_object_object_add(o, "time", json_fixed(t, 6, false));
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		} else {
			uint32_t tg = hrservo_state_target_ns(st, c);
			uint32_t p = hrservo_state_pulse_ns(st, c);

			printf("%.6f %s ch%u %s target=%s pulse=%s", t,
			       hrservo_name(h), c,
			       hrservo_state_enabled(st, c) ? "on" : "off",
			       tg ? fmt_ns(tg, a) : "-", p ? fmt_ns(p, b) : "-");
			j = table_joint(c);
			if (j) {
				printf(" joint=%s", j->name);
				print_pos(j, "target_pos", tg);
				print_pos(j, "pulse_pos", p);
			}
			putchar('\n');
		}
		lines++;
	}
	fflush(stdout);
	return lines;
}

/* ---- the safety events: watchdog and e-stop ---- */

static const char *estop_source(uint32_t v)
{
	return v == HRSERVO_ESTOP_BY_USER ? "user" :
	       v == HRSERVO_ESTOP_BY_INPUT ? "input" : "unknown";
}

/*
 * One line (or JSON object) for a watchdog or e-stop event, or for the
 * latch found set at the start (@state "latched"), at @ns; on a terminal,
 * kept for the table instead.
 */
static void print_safety(struct hrservo *h, bool tty, uint64_t ns,
			 const char *event, const char *key,
			 const char *state, const char *source, uint64_t mask)
{
	double t = (double)ns / 1e9;

	if (tty) {
		snprintf(mon_last, sizeof(mon_last), "%.6f %s %s%s%s channels=0x%llx",
			 t, event, state, source ? " by " : "",
			 source ? source : "", (unsigned long long)mask);
		return;
	}
	if (opt_json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string(event));
		json_object_object_add(o, key, json_object_new_string(state));
		if (source)
			json_object_object_add(o, "source",
					       json_object_new_string(source));
		json_add_int64(o, "mask", (int64_t)mask);
		json_object_object_add(o, "time", json_fixed(t, 6, false));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		printf("%.6f %s %s %s", t, hrservo_name(h), event, state);
		if (source)
			printf(" by %s", source);
		if (mask)
			printf(" channels=0x%llx", (unsigned long long)mask);
		putchar('\n');
	}
	fflush(stdout);
}

/* A watchdog or e-stop event: printed; true if it was one. */
static bool safety_event(struct hrservo *h, bool tty,
			 const struct hrservo_event_data *ev)
{
	if (ev->type == HRSERVO_EV_WATCHDOG) {
		print_safety(h, tty, ev->timestamp_ns, "watchdog", "reason",
			     ev->value == HRSERVO_EV_WATCHDOG_EXPIRED ? "expired" :
			     ev->value == HRSERVO_EV_WATCHDOG_CLOSED ? "closed" :
			     "unknown", NULL, ev->mask);
		return true;
	}
	if (ev->type != HRSERVO_EV_ESTOP)
		return false;
	if (mon_has_estop && hrservo_estop_get(h, &mon_estop))
		mon_has_estop = false;
	print_safety(h, tty, ev->timestamp_ns, "estop", "state",
		     ev->value ? "tripped" : "cleared",
		     ev->value ? estop_source(ev->value) : NULL, ev->mask);
	return true;
}

static bool any_changed(struct hrservo *h, const struct hrservo_state *old,
			const struct hrservo_state *st)
{
	for (unsigned int c = 0; c < hrservo_num_channels(h); c++)
		if (chan_changed(old, st, c))
			return true;
	return false;
}

/*
 * @st: redrawn on a terminal (when it changed), else its changes from
 * @old; lines printed.
 */
static long show(struct hrservo *h, const struct hrservo_state *old,
		 const struct hrservo_state *st, bool tty)
{
	if (!tty)
		return print_changes(h, old, st);
	if (!old || any_changed(h, old, st))
		draw_table(h, st);
	return 0;
}

static long opt_count = -1;
static double opt_rate = 10;	/* state reads per second, 0: on events only */

static int monitor_opt(int opt, const char *arg)
{
	char *end;

	if (opt == 'r') {
		errno = 0;
		opt_rate = strtod(arg, &end);
		if (!*arg || *end || errno || !(opt_rate >= 0 && opt_rate <= 1000)) {
			err("--rate: '%s' is not a rate from 0 to 1000 (per second; 0: on events only)",
			    arg);
			exit(EXIT_USAGE);
		}
		return 0;
	}
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
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct hrservo_state *st = NULL, *old = NULL;
	uint64_t reread_at = 0, tick_at = 0, interval = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	struct hrservo *h;
	uint32_t period;
	bool tty;
	int i, fd, ret = 0;
	long printed = 0;

	i = sub_opts(argc, argv, find_command("monitor"), "n:r:", extra,
		     monitor_opt);
	if (opt_rate > 0)
		interval = (uint64_t)(1e9 / opt_rate);
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
	/* A latch set already is part of the state shown first. */
	mon_has_estop = !hrservo_estop_get(h, &mon_estop);
	if (mon_has_estop && mon_estop.latched && !tty)
		print_safety(h, tty, mon_estop.tripped_ns, "estop", "state",
			     "latched", mon_estop.source ?
			     estop_source((uint32_t)mon_estop.source) : NULL, 0);
	/* The initial state is shown in full; --count counts changes only. */
	show(h, NULL, st, tty);
	if (interval)
		tick_at = now_ns() + interval;

	/*
	 * The state is read at every event (and once more a frame later, for
	 * the pulse in effect), and --rate times a second: a trajectory or a
	 * ramp of the speed limits moves the pulses without events.
	 */
	while (!stop && (opt_count < 0 || printed < opt_count)) {
		struct hrservo_event_data ev;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ns(), wake = 0;
		int timeout = -1, n;
		bool changed = false, safety = false;

		if (reread_at)
			wake = reread_at;
		if (tick_at && (!wake || tick_at < wake))
			wake = tick_at;
		if (wake)
			timeout = wake > now ?
				  (int)((wake - now + 999999) / 1000000) : 0;
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
			if (safety_event(h, tty, &ev))
				safety = true;
			changed = true;
		}
		if (errno == ENODEV) {
			err("%s: controller removed", hrservo_name(h));
			ret = EXIT_RUNTIME;
			goto out;
		}
		now = now_ns();
		/* The pulse in effect follows at the next frame boundary. */
		if (changed) {
			reread_at = now + period + 2000000;
		} else if (reread_at && now >= reread_at) {
			reread_at = 0;
		} else if (!(tick_at && now >= tick_at)) {
			continue;
		}
		if (tick_at)
			tick_at = now + interval;

		hrservo_state_free(old);
		old = st;
		st = hrservo_read_state(h);
		if (!st)
			goto fail;
		/* On a terminal a safety event redraws, whatever changed. */
		printed += show(h, safety && tty ? NULL : old, st, tty);
	}
	goto out;

fail:
	if (errno == ENODEV)	/* removed between two events */
		err("%s: controller removed", hrservo_name(h));
	else
		err("%s: %s", hrservo_name(h), strerror(errno));
	ret = EXIT_RUNTIME;
out:
	hrservo_state_free(old);
	hrservo_state_free(st);
	hrservo_close(h);
	return ret;
}
