// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl estop: trip, clear and show the e-stop latch of controllers.
 *
 * Tripping comes first and asks nothing: the trip is sent as soon as a
 * controller is open, before the state is read for the message, and a
 * controller that cannot be opened does not keep the others from being
 * tripped. A broken calibration file is no bar either (calib_optional):
 * what stops a robot needs no calibration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "servoctl.h"

/* ---- the latch in words, shared with info ---- */

static const char *source_name(int source)
{
	return source == HRSERVO_ESTOP_BY_USER ? "user" :
	       source == HRSERVO_ESTOP_BY_INPUT ? "input" : "unknown";
}

static const char *input_name(const struct hrservo_estop_info *e)
{
	return !e->has_input ? "none" : e->input_active ? "active" : "inactive";
}

/* Whole seconds since @ns (CLOCK_MONOTONIC), 0 for a time not yet come. */
static unsigned long long seconds_since(uint64_t ns)
{
	uint64_t now = now_ns();

	return now > ns ? (now - ns) / 1000000000ULL : 0;
}

/* "latched (by user, 3 s ago)" or "clear". */
static const char *latch_words(const struct hrservo_estop_info *e, char *buf,
			       size_t size)
{
	if (!e->latched)
		snprintf(buf, size, "clear");
	else if (e->source && e->tripped_ns)
		snprintf(buf, size, "latched (by %s, %llu s ago)",
			 source_name(e->source), seconds_since(e->tripped_ns));
	else
		snprintf(buf, size, "latched");
	return buf;
}

void estop_print(const struct hrservo_estop_info *e)
{
	char buf[64];

	printf("estop:         %s\n", latch_words(e, buf, sizeof(buf)));
	printf("estop input:   %s\n", input_name(e));
}

json_object *estop_json(const struct hrservo_estop_info *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "latched", json_object_new_boolean(e->latched));
	json_object_object_add(o, "source", e->source ?
			       json_object_new_string(source_name(e->source)) :
			       NULL);
	json_add_int64(o, "tripped_ns", (int64_t)e->tripped_ns);
	json_object_object_add(o, "input", json_object_new_string(input_name(e)));
	return o;
}

/* ---- estop ---- */

enum estop_mode { TRIP, CLEAR, STATUS };

static enum estop_mode opt_mode = TRIP;
static const char *opt_mode_name;	/* the option that chose it */
static bool opt_release;

static int estop_opt(int opt, const char *arg)
{
	(void)arg;
	if (opt == 'r') {
		opt_release = true;
		return 0;
	}
	if (opt != 'C' && opt != 's')
		return -1;
	if (opt_mode_name && opt_mode != (opt == 'C' ? CLEAR : STATUS)) {
		err("%s and %s: choose one", opt_mode_name,
		    opt == 'C' ? "--clear" : "--status");
		exit(EXIT_USAGE);
	}
	opt_mode = opt == 'C' ? CLEAR : STATUS;
	opt_mode_name = opt == 'C' ? "--clear" : "--status";
	return 0;
}

/* Why an e-stop op on @h failed, from errno @e. */
static void estop_failed(struct hrservo *h, const char *what, int e)
{
	if (e == EBADF)
		err("%s: %s needs write access to the controller, and it is open read-only (no permission): use sudo, or the udev rule's group",
		    hrservo_name(h), what);
	else if (e == ENOTSUP)
		err("%s: %s", hrservo_name(h), ESTOP_NONE_WHY);
	else
		err("%s: %s: %s", hrservo_name(h), what, strerror(e));
}

/*
 * A controller without the latch still gets what can be done: its
 * trajectory stopped (the axes brake and hold) and, with --release, every
 * channel released. Nothing is latched: EXIT_RUNTIME.
 */
static int trip_without_latch(struct hrservo *h, uint64_t all)
{
	bool stopped = !hrservo_traj_stop(h);
	bool released = opt_release && !hrservo_release(h, all);

	err("%s: %s: %s%s, but nothing is latched: anything may move it again",
	    hrservo_name(h), ESTOP_NONE_WHY,
	    stopped ? "its trajectory was stopped" :
	    "its trajectory could not be stopped",
	    opt_release ? (released ? " and every channel released" :
			   " and its channels could not be released") : "");
	return EXIT_RUNTIME;
}

static int estop_trip(struct hrservo *h)
{
	unsigned int n = hrservo_num_channels(h);
	uint64_t all = n >= 64 ? ~0ULL : (1ULL << n) - 1;
	struct hrservo_estop_info e;
	uint64_t t0 = now_ns();
	char buf[64];

	if (hrservo_estop_trip(h, opt_release ? HRSERVO_FS_RELEASE :
					       HRSERVO_FS_HOLD)) {
		int eno = errno;

		if (eno == ENOTSUP)
			return trip_without_latch(h, all);
		estop_failed(h, "tripping the e-stop", eno);
		return EXIT_RUNTIME;
	}
	/*
	 * --release makes every channel go limp, also on a latch that held:
	 * the kernel's RELEASE trip does that already; releasing here too
	 * costs one ioctl and does not depend on it (releases work while
	 * latched, and releasing a released channel is no error).
	 */
	if (opt_release && hrservo_release(h, all)) {
		err("%s: e-stop latched, but releasing the channels failed: %s",
		    hrservo_name(h), strerror(errno));
		return EXIT_RUNTIME;
	}
	if (hrservo_estop_get(h, &e)) {
		printf("%s: e-stop latched\n", hrservo_name(h));
		return 0;
	}
	if (e.tripped_ns && e.tripped_ns < t0)
		printf("%s: e-stop was %s already%s\n", hrservo_name(h),
		       latch_words(&e, buf, sizeof(buf)),
		       opt_release ? "; every channel released" : "");
	else
		printf("%s: e-stop latched: every channel %s; nothing moves until 'servoctl estop --clear %s'\n",
		       hrservo_name(h), opt_release ? "released" : "holds",
		       hrservo_name(h));
	return 0;
}

static int estop_clear(struct hrservo *h)
{
	struct hrservo_estop_info e;
	bool was = !hrservo_estop_get(h, &e) && e.latched;

	if (hrservo_estop_clear(h)) {
		if (errno == EBUSY)
			err("%s: the e-stop input is active: release the e-stop button first",
			    hrservo_name(h));
		else
			estop_failed(h, "clearing the e-stop", errno);
		return EXIT_RUNTIME;
	}
	if (was)
		printf("%s: e-stop cleared; nothing moved: the channels are as the failsafe left them\n",
		       hrservo_name(h));
	else
		printf("%s: e-stop was not latched\n", hrservo_name(h));
	return 0;
}

static int estop_status(struct hrservo *h)
{
	struct hrservo_estop_info e;

	if (hrservo_estop_get(h, &e)) {
		estop_failed(h, "reading the e-stop", errno);
		return EXIT_RUNTIME;
	}
	if (opt_json) {
		json_object *o = estop_json(&e);

		json_object_object_add(o, "controller",
				       json_object_new_string(hrservo_name(h)));
		put_json(o);
	} else {
		estop_print(&e);
	}
	return 0;
}

int cmd_estop(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "release", no_argument, NULL, 'r' },
		{ "clear", no_argument, NULL, 'C' },
		{ "status", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int i, ret = 0;

	i = sub_opts(argc, argv, find_command("estop"), NULL, extra, estop_opt);
	argc -= i;
	argv += i;
	if (opt_release && opt_mode != TRIP) {
		err("--release goes with a trip, not with %s", opt_mode_name);
		return EXIT_USAGE;
	}
	if (opt_json && opt_mode != STATUS) {
		err("--json goes with --status");
		return EXIT_USAGE;
	}
	if (argc < 1 || (opt_mode == STATUS && argc != 1)) {
		err(opt_mode == STATUS ? "--status expects one controller" :
		    "expects one controller or more");
		return EXIT_USAGE;
	}
	calib_optional = true;
	for (int k = 0; k < argc; k++) {
		struct hrservo *h = open_ctrl(argv[k]);
		int r;

		if (!h) {
			ret = EXIT_RUNTIME;
			continue;	/* the others are still tripped */
		}
		r = opt_mode == TRIP ? estop_trip(h) :
		    opt_mode == CLEAR ? estop_clear(h) : estop_status(h);
		if (r)
			ret = r;
		hrservo_close(h);
	}
	return ret;
}
