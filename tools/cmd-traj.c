// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl traj, move: trajectories from CSV files, checked against a
 * controller's limits, uploaded and followed; and smooth moves of channels
 * to targets, all arriving together.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "servoctl.h"

static const char *const limit_names[] = {
	[HRSERVO_LIMIT_MIN] = "below min",
	[HRSERVO_LIMIT_MAX] = "above max",
	[HRSERVO_LIMIT_SPEED] = "speed above max",
	[HRSERVO_LIMIT_ACCEL] = "acceleration above max",
	[HRSERVO_LIMIT_INTERVAL] = "interval out of range",
};

static const struct hrservo_joint *joint_on(struct hrservo *h,
					    unsigned int ch);

/*
 * A speed or acceleration limit of joint @j broken by @v, in the joint's
 * unit: the value through the map's slope where the joint was (the
 * library checks pulse widths against the kernel's limits, which the
 * calibration derives from the joint's). 0, or -1 if it cannot say.
 */
static int joint_violation(const char *file, const char *sep,
			   const struct hrservo_joint *j,
			   const struct hrservo_violation *v, double pos_ns)
{
	const char *u = hrservo_unit_name(j->unit);
	double p0, p1, slope, val, lim;

	if (hrservo_joint_from_ns(j, pos_ns - 500, &p0) ||
	    hrservo_joint_from_ns(j, pos_ns + 500, &p1) || p1 == p0)
		return -1;
	slope = fabs(p1 - p0) / 1000;	/* joint unit per ns */
	val = v->value * slope;
	lim = v->kind == HRSERVO_LIMIT_SPEED ? j->max_speed : j->max_accel;
	if (!(lim > 0))
		lim = v->limit * slope;
	err("%s%sjoint %s at %.3f s: %s %.4g %s/s%s above max %.4g %s/s%s",
	    file, sep, j->name, v->time_s,
	    v->kind == HRSERVO_LIMIT_SPEED ? "speed" : "acceleration", val, u,
	    v->kind == HRSERVO_LIMIT_ACCEL ? "\u00b2" : "", lim, u,
	    v->kind == HRSERVO_LIMIT_ACCEL ? "\u00b2" : "");
	return 0;
}

/*
 * The first limit @v that trajectory @t on @h breaks; @file names it, or
 * NULL for a move (err() names the command already). A calibrated joint
 * is named, in its unit.
 */
static void report_violation(const char *file, struct hrservo *h,
			     const struct hrservo_traj *t,
			     const struct hrservo_violation *v)
{
	const struct hrservo_joint *j = h && v->channel < HRSERVO_MAX_CHANNELS ?
					joint_on(h, v->channel) : NULL;
	const char *sep = file ? ": " : "";
	char a[24], b[24];

	if (!file)
		file = "";
	if (j && (v->kind == HRSERVO_LIMIT_MIN || v->kind == HRSERVO_LIMIT_MAX)) {
		double pos, lim;

		if (!hrservo_joint_from_ns(j, v->value, &pos) &&
		    !hrservo_joint_from_ns(j, v->limit, &lim)) {
			err("%s%sjoint %s at %.3f s: %.4g%s is beyond its kernel limit %.4g%s (%s %s %s)",
			    file, sep, j->name, v->time_s, pos,
			    hrservo_unit_name(j->unit), lim,
			    hrservo_unit_name(j->unit),
			    fmt_ns((uint32_t)llround(fmax(v->value, 0)), a),
			    limit_names[v->kind],
			    fmt_ns((uint32_t)v->limit, b));
			return;
		}
	}
	if (j && t && (v->kind == HRSERVO_LIMIT_SPEED ||
		       v->kind == HRSERVO_LIMIT_ACCEL)) {
		double pos[HRSERVO_MAX_CHANNELS];
		unsigned int a_ix;

		for (a_ix = 0; a_ix < hrservo_traj_num_axes(t); a_ix++)
			if (hrservo_traj_channel(t, a_ix) == v->channel)
				break;
		if (a_ix < hrservo_traj_num_axes(t) &&
		    !hrservo_traj_eval(t, v->time_s, pos, NULL, NULL) &&
		    !joint_violation(file, sep, j, v, pos[a_ix]))
			return;
	}
	if (v->kind == HRSERVO_LIMIT_MIN || v->kind == HRSERVO_LIMIT_MAX)
		err("%s%schannel %u at %.3f s: %s is %s %s", file, sep,
		    v->channel, v->time_s,
		    fmt_ns((uint32_t)llround(fmax(v->value, 0)), a),
		    limit_names[v->kind], fmt_ns((uint32_t)v->limit, b));
	else
		err("%s%schannel %u at %.3f s: %s %.0f ns/s%s > %.0f", file,
		    sep, v->channel, v->time_s, limit_names[v->kind], v->value,
		    v->kind == HRSERVO_LIMIT_ACCEL ? "^2" : "", v->limit);
}

/* ---- traj (and the options move shares) ---- */

static enum hrservo_interp opt_interp = HRSERVO_INTERP_MIN_JERK;
/* --interp given: it overrides the file's "# interp:" line. */
static bool opt_interp_set;
static bool opt_fit, opt_replace, opt_wait;
static double opt_at = -1, opt_time = -1, opt_timeout = -1;
static const char *opt_capture;

/*
 * How an upload starts when the trajectory does not start where the axes
 * are: a lead-in move there (the default), a refusal, or a jump.
 */
enum start_mode { START_LEAD_IN, START_NO_LEAD_IN, START_JUMP };
static enum start_mode opt_start = START_LEAD_IN;
static const char *opt_start_name;	/* the option that chose it, or NULL */

/* Long options without a short one. */
enum { OPT_LEAD_IN = 256, OPT_NO_LEAD_IN, OPT_JUMP };

static int traj_opt(int opt, const char *arg)
{
	static const char *const start_names[] = {
		[START_LEAD_IN] = "--lead-in",
		[START_NO_LEAD_IN] = "--no-lead-in",
		[START_JUMP] = "--jump",
	};
	char *end;

	switch (opt) {
	case OPT_LEAD_IN:
	case OPT_NO_LEAD_IN:
	case OPT_JUMP: {
		enum start_mode m = opt == OPT_LEAD_IN ? START_LEAD_IN :
				    opt == OPT_NO_LEAD_IN ? START_NO_LEAD_IN :
				    START_JUMP;

		/* Two different answers to one question: ask, do not guess. */
		if (opt_start_name && m != opt_start) {
			err("%s and %s: choose one", opt_start_name,
			    start_names[m]);
			exit(EXIT_USAGE);
		}
		opt_start = m;
		opt_start_name = start_names[m];
		return 0;
	}
	case 'i':
		if (!strcmp(arg, "linear"))
			opt_interp = HRSERVO_INTERP_LINEAR;
		else if (!strcmp(arg, "cubic"))
			opt_interp = HRSERVO_INTERP_CUBIC;
		else if (!strcmp(arg, "minjerk"))
			opt_interp = HRSERVO_INTERP_MIN_JERK;
		else
			return -1;
		opt_interp_set = true;
		return 0;
	case 'f':
		opt_fit = true;
		return 0;
	case 'r':
		opt_replace = true;
		return 0;
	case 'w':
		opt_wait = true;
		return 0;
	case 'c':
		/* upload: where to record the start; plot: the capture. */
		opt_capture = arg;
		return 0;
	case 'o':
	case 'm':
	case 'l':
	case 'S':
		/* traj plot's: its arguments go to servoctl-plot as given. */
		return 0;
	case 'a':
	case 't':
	case 'T':
		errno = 0;
		{
			double v = strtod(arg, &end);

			if (!*arg || *end || errno || !(v >= 0) || v > 1e6) {
				err("'%s' is not a time in seconds", arg);
				exit(EXIT_USAGE);
			}
			if (opt == 'a')
				opt_at = v;
			else if (opt == 't')
				opt_time = v;
			else
				opt_timeout = v;
		}
		return 0;
	}
	return -1;
}

static const struct option traj_opts[] = {
	{ "interp", required_argument, NULL, 'i' },
	{ "fit", no_argument, NULL, 'f' },
	{ "replace", no_argument, NULL, 'r' },
	{ "wait", no_argument, NULL, 'w' },
	{ "at", required_argument, NULL, 'a' },
	{ "time", required_argument, NULL, 't' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "output", required_argument, NULL, 'o' },
	{ "measured", required_argument, NULL, 'm' },
	{ "capture", required_argument, NULL, 'c' },
	{ "first-line", required_argument, NULL, 'l' },
	{ "print-series", no_argument, NULL, 'S' },
	{ "lead-in", no_argument, NULL, OPT_LEAD_IN },
	{ "no-lead-in", no_argument, NULL, OPT_NO_LEAD_IN },
	{ "jump", no_argument, NULL, OPT_JUMP },
	{ NULL, 0, NULL, 0 }
};

/* move's: only those that mean something for a move. */
static const struct option move_opts[] = {
	{ "time", required_argument, NULL, 't' },
	{ "wait", no_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 'T' },
	{ NULL, 0, NULL, 0 }
};

/*
 * ---- signals ----
 *
 * While servoctl waits for a trajectory it started (traj upload --wait,
 * move --wait), SIGINT, SIGTERM and SIGHUP stop it: the handler only notes
 * the signal, and the wait loop, which polls with a timeout, stops the
 * trajectory and exits with 128 + the signal's number. traj wait notes them
 * too, but only waits: it leaves the trajectory playing.
 */
static volatile sig_atomic_t got_signal;
/* Set around hrservo_traj_upload(), which may wait for queue space. */
static volatile sig_atomic_t in_upload;

static void on_signal(int sig)
{
	/*
	 * The first signal ends a wait of the library's for queue space
	 * (hrservo_traj_upload() fails with EINTR) and is acted on then; a
	 * second one while still in the upload ends servoctl at once, as
	 * without a handler.
	 */
	if (got_signal && in_upload) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	got_signal = sig;
}

static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		sigaddset(&sa.sa_mask, sigs[k]);
	/* No SA_RESTART: a blocking call returns, the loop looks. */
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++) {
		struct sigaction old;

		/* Ignored from the start (nohup, a script's background job): so be it. */
		if (!sigaction(sigs[k], NULL, &old) && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[k], &sa, NULL);
	}
}

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" :
	       sig == SIGHUP ? "SIGHUP" : "a signal";
}

/* Send @t (see hrservo_traj_upload()), with in_upload set meanwhile. */
static int upload(const struct hrservo_traj *t, struct hrservo *h,
		  uint64_t at, unsigned int flags)
{
	int ret;

	in_upload = 1;
	ret = hrservo_traj_upload(t, h, at, flags);
	in_upload = 0;
	return ret;
}

/* ---- axes: channels, or the joints of the calibration on them ---- */

/* The channels of @t, as a mask. */
static uint64_t traj_mask(const struct hrservo_traj *t)
{
	uint64_t m = 0;

	for (unsigned int a = 0; a < hrservo_traj_num_axes(t); a++)
		m |= 1ULL << hrservo_traj_channel(t, a);
	return m;
}

/* The joint of the calibration on channel @ch of @h, or NULL. */
static const struct hrservo_joint *joint_on(struct hrservo *h,
					    unsigned int ch)
{
	struct hrservo_calib *c = calib_get(false);

	return c ? hrservo_calib_find_channel(c, hrservo_name(h), ch) : NULL;
}

/* "joint elbow (channel 1)", or "channel 1". */
static const char *axis_name(struct hrservo *h, unsigned int ch, char *buf,
			     size_t size)
{
	const struct hrservo_joint *j = joint_on(h, ch);

	if (j)
		snprintf(buf, size, "joint %s (channel %u)", j->name, ch);
	else
		snprintf(buf, size, "channel %u", ch);
	return buf;
}

/* A width on @ch as its joint's position, "45deg (1750us)", or "1750us". */
static const char *axis_pos(struct hrservo *h, unsigned int ch, double ns,
			    char *buf, size_t size)
{
	const struct hrservo_joint *j = joint_on(h, ch);
	char w[24];
	double pos;

	fmt_ns((uint32_t)llround(fmin(fmax(ns, 0), UINT32_MAX)), w);
	if (j && !hrservo_joint_from_ns(j, ns, &pos)) {
		/* To a millionth: no "1e-14deg" from rounding, no "-0deg". */
		pos = nearbyint(pos * 1e6) / 1e6 + 0.0;
		snprintf(buf, size, "%g%s (%s)", pos, hrservo_unit_name(j->unit),
			 w);
	} else {
		snprintf(buf, size, "%s", w);
	}
	return buf;
}

/* "joints", "channels" or "joints and channels": what @t moves. */
static const char *axes_word(struct hrservo *h, const struct hrservo_traj *t)
{
	unsigned int joints = 0, n = hrservo_traj_num_axes(t);

	for (unsigned int a = 0; a < n; a++)
		joints += joint_on(h, hrservo_traj_channel(t, a)) != NULL;
	return joints == n ? "joints" : joints ? "joints and channels" :
	       "channels";
}

/*
 * The axis of the lead-in @lead that moves farthest: its index, with where
 * it is (*@from) and where the trajectory starts (*@to).
 */
static unsigned int farthest_axis(const struct hrservo_traj *lead,
				  double *from, double *to)
{
	double a[HRSERVO_MAX_CHANNELS], b[HRSERVO_MAX_CHANNELS], tt;
	unsigned int far = 0;

	if (hrservo_traj_waypoint(lead, 0, &tt, a) ||
	    hrservo_traj_waypoint(lead, 1, &tt, b)) {
		*from = *to = 0;
		return 0;
	}
	for (unsigned int k = 1; k < hrservo_traj_num_axes(lead); k++)
		if (fabs(b[k] - a[k]) > fabs(b[far] - a[far]))
			far = k;
	*from = a[far];
	*to = b[far];
	return far;
}

/* Why an upload to @h failed, from its errno @e. */
static const char *upload_why(int e)
{
	/* The backend's words, where it has them (gpiod: memory locking). */
	if (*hrservo_last_error())
		return hrservo_last_error();
	return e == EBUSY ? "a channel is in use by another trajectory" :
	       e == EINVAL && opt_replace ?
	       "the new trajectory does not start where the old one is" :
	       e == EDOM ? "it does not start where the axes are (they moved meanwhile)" :
	       strerror(e);
}

/*
 * A REPLACE refused: name the axes whose new start is away from where they
 * are now (the kernel compares with where the old trajectory is at the
 * splice time, which userspace cannot see; now is the best guess). True if
 * it named one.
 */
static bool replace_mismatch(const struct hrservo_traj *t, struct hrservo *h)
{
	double time, start[HRSERVO_MAX_CHANNELS];
	struct hrservo_state *st = hrservo_read_state(h);
	char name[64], a[24], b[24];
	bool named = false;

	if (!st)
		return false;
	if (hrservo_traj_waypoint(t, 0, &time, start)) {
		hrservo_state_free(st);
		return false;
	}
	for (unsigned int k = 0; k < hrservo_traj_num_axes(t); k++) {
		unsigned int ch = hrservo_traj_channel(t, k);
		uint32_t now = hrservo_state_target_ns(st, ch);

		if (ch >= hrservo_state_num_channels(st) ||
		    fabs(start[k] - now) <= HRSERVO_LEAD_IN_TOL_NS)
			continue;
		err("%s: the new trajectory starts %s at %s, but it is at %s now; a replace must start where the old trajectory is at the splice (within 1us)",
		    hrservo_name(h), axis_name(h, ch, name, sizeof(name)),
		    fmt_ns((uint32_t)llround(start[k]), a), fmt_ns(now, b));
		named = true;
		break;
	}
	hrservo_state_free(st);
	return named;
}

/* A progress bar on a terminal, one line updated in place. */
static void progress(double done, double total)
{
	int width = 40, n = total > 0 ? (int)(width * done / total) : width;

	if (n > width)
		n = width;
	if (n < 0)
		n = 0;
	fprintf(stderr, "\r[%.*s%*s] %5.1f/%.1f s", n,
		"########################################", width - n, "",
		done > total ? total : done, total);
	fflush(stderr);
}

/*
 * A signal ended a wait: with @stop (servoctl started the trajectory),
 * stop it; else say that it plays on. Returns 128 + the signal's number.
 */
static int wait_interrupted(struct hrservo *h, bool tty, bool stop)
{
	int sig = got_signal;

	if (tty)
		fputc('\n', stderr);
	if (!stop)
		err("%s: interrupted by %s; the trajectory plays on ('servoctl traj stop %s' stops it)",
		    hrservo_name(h), signal_name(sig), hrservo_name(h));
	else if (hrservo_traj_stop(h))
		err("%s: interrupted by %s, but the trajectory could not be stopped: %s",
		    hrservo_name(h), signal_name(sig), strerror(errno));
	else
		err("%s: stopped on %s: the axes brake within their limits and hold",
		    hrservo_name(h), signal_name(sig));
	return 128 + sig;
}

/*
 * Wait until the player is idle: everything queued has played, not only the
 * first trajectory to end (a lead-in, or one of several queued). Returns 0
 * when done; EXIT_RUNTIME on an underrun, a dropped trajectory, removal or
 * the time limit; 128 + the signal's number after SIGINT, SIGTERM or SIGHUP
 * (see catch_signals()), having stopped the trajectory if @stop.
 */
static int traj_wait(struct hrservo *h, double total_s, bool stop)
{
	bool tty = isatty(STDERR_FILENO);
	uint64_t t0 = now_ns();
	struct hrservo_event_data ev;
	struct hrservo_traj_info info;

	for (;;) {
		bool removed = false;

		if (got_signal)
			return wait_interrupted(h, tty, stop);
		if (!hrservo_read_event(h, &ev, 100)) {
			switch (ev.type) {
			case HRSERVO_EV_TRAJ_DONE:
				/* One ended; another may be queued after it. */
				break;
			case HRSERVO_EV_TRAJ_DROPPED:
				if (tty)
					fputc('\n', stderr);
				err("%s: channels 0x%llx were released: they left the trajectory%s",
				    hrservo_name(h), (unsigned long long)ev.mask,
				    ev.value ? ", which was dropped" : "");
				if (ev.value)
					return EXIT_RUNTIME;
				continue;
			case HRSERVO_EV_TRAJ_UNDERRUN:
				if (tty)
					fputc('\n', stderr);
				err("%s: underrun: the queue ran dry; the axes hold",
				    hrservo_name(h));
				return EXIT_RUNTIME;
			case HRSERVO_EV_ESTOP:
				/* A trip drops the trajectory; a clear moves nothing. */
				if (!ev.value)
					continue;
				if (tty)
					fputc('\n', stderr);
				err("%s: the e-stop was tripped (by %s): the trajectory was dropped; %s",
				    hrservo_name(h),
				    ev.value == HRSERVO_ESTOP_BY_INPUT ? "its input" :
				    "a user", estop_words(h));
				return EXIT_RUNTIME;
			case HRSERVO_EV_WATCHDOG:
				if (tty)
					fputc('\n', stderr);
				err("%s: a watchdog ran its failsafe (%s): the trajectory was stopped",
				    hrservo_name(h),
				    ev.value == HRSERVO_EV_WATCHDOG_CLOSED ?
				    "its program closed the controller, or died" :
				    "no keep-alive in time");
				return EXIT_RUNTIME;
			case HRSERVO_EV_REMOVED:
				removed = true;
				break;
			default:
				continue;
			}
		} else if (errno == ENODEV) {
			removed = true;
		}
		if (removed) {
			err("%s: controller removed", hrservo_name(h));
			return EXIT_RUNTIME;
		}
		if (got_signal)
			continue;
		if (hrservo_traj_status(h, &info)) {
			err("%s: %s", hrservo_name(h), strerror(errno));
			return EXIT_RUNTIME;
		}
		if (info.state == 0 && !info.depth)
			break;	/* idle: nothing left to play */
		if (tty)
			progress(total_s - info.queued_ns / 1e9, total_s);
		if (opt_timeout >= 0 &&
		    now_ns() - t0 > (uint64_t)(opt_timeout * 1e9)) {
			if (tty)
				fputc('\n', stderr);
			err("%s: still playing after %.1f s", hrservo_name(h),
			    opt_timeout);
			return EXIT_RUNTIME;
		}
	}
	if (tty) {
		progress(total_s, total_s);
		fputc('\n', stderr);
	}
	return 0;
}

/*
 * Load a trajectory file and check what needs no controller: syntax, times,
 * units, joints of the calibration (on @ctrl, or on one controller if NULL)
 * and, unless --fit may still stretch it, the length of every segment.
 * @what follows each error: "" or " (nothing uploaded)".
 */
static struct hrservo_traj *traj_load(const char *file, const char *ctrl,
				      const char *what)
{
	struct hrservo_calib *c = calib_get(false);
	struct hrservo_traj *t;
	char msg[512];

	/* A broken calibration file fails the command (calib_get() said why). */
	if (!c && calib_broken())
		return NULL;
	t = c ? hrservo_traj_load_csv_calib(file, c, ctrl, msg, sizeof(msg)) :
	    hrservo_traj_load_csv(file, msg, sizeof(msg));
	if (!t) {
		err("%s%s", msg, what);
		return NULL;
	}
	/* Else the file's own (a recording's is linear), or minimum jerk. */
	if (opt_interp_set)
		hrservo_traj_set_interp(t, opt_interp);
	if (!opt_fit && hrservo_traj_check_times(t, msg, sizeof(msg))) {
		err("%s: %s%s", file, msg, what);
		hrservo_traj_free(t);
		return NULL;
	}
	return t;
}

/* Fit (--fit) and check @t against the limits of @h: 0, or -1 and why. */
static int traj_limits(struct hrservo_traj *t, const char *file,
		       struct hrservo *h, const char *what)
{
	struct hrservo_violation v;
	char msg[512];
	double f;

	if (opt_fit && hrservo_traj_fit_time(t, h, &f) && errno != ERANGE) {
		err("%s: %s%s", file, strerror(errno), what);
		return -1;
	}
	if (hrservo_traj_check_times(t, msg, sizeof(msg))) {
		err("%s: %s%s", file, msg, what);
		return -1;
	}
	if (hrservo_traj_check(t, h, &v)) {
		if (errno == ERANGE)
			report_violation(file, h, t, &v);
		else
			err("%s: a channel %s does not have%s", file,
			    hrservo_name(h), what);
		return -1;
	}
	return 0;
}

/* The sum of the segments' durations, as the library sends them. */
static uint64_t traj_duration_ns(const struct hrservo_traj *t)
{
	double p[HRSERVO_MAX_CHANNELS], prev = 0, tt;
	uint64_t sum = 0;

	for (size_t k = 0; !hrservo_traj_waypoint(t, k, &tt, p); k++) {
		if (k)
			sum += (uint64_t)llround((tt - prev) * 1e9);
		prev = tt;
	}
	return sum;
}

/*
 * When the uploaded trajectory @t starts (CLOCK_MONOTONIC ns): @at if one
 * was asked for, else what the kernel chose, from the end of the queue it
 * reports (the trajectory is the last one queued). 0, or -1 with errno.
 */
static int traj_start_ns(struct hrservo *h, const struct hrservo_traj *t,
			 uint64_t at, uint64_t *start)
{
	struct hrservo_traj_info info;
	uint64_t before, after, dur = traj_duration_ns(t);

	if (at) {
		*start = at;
		return 0;
	}
	before = now_ns();
	if (hrservo_traj_status(h, &info))
		return -1;
	after = now_ns();
	if (!info.queued_ns) {
		errno = ENODATA;	/* over already: the end is unknown */
		return -1;
	}
	/* The kernel read its clock between before and after. */
	*start = before + (after - before) / 2 + info.queued_ns - dur;
	return 0;
}

/* @t would jump (--no-lead-in): say where from and where to. */
static void refuse_jump(struct hrservo *h, const struct hrservo_traj *lead,
			const char *file)
{
	char name[64], a[64], b[64];
	double from, to;
	unsigned int k = farthest_axis(lead, &from, &to);
	unsigned int ch = hrservo_traj_channel(lead, k);

	err("%s: %s is at %s, but the trajectory starts at %s (nothing uploaded); use --lead-in to move there first, or --jump to jump",
	    file, axis_name(h, ch, name, sizeof(name)),
	    axis_pos(h, ch, from, a, sizeof(a)),
	    axis_pos(h, ch, to, b, sizeof(b)));
}

/*
 * Queue @t on @h at @at (0: the next frame, or after what is queued). If it
 * does not start where the axes are, the kernel refuses it (EDOM); then,
 * with nothing queued, a lead-in from where they are (the default), or a
 * refusal (--no-lead-in); --jump asks the kernel for the jump. A lead-in is
 * queued at @at and @t right after it; if @t then fails, the lead-in is
 * stopped. *@lead_ns: the lead-in's duration, 0 if none. 0 or an exit
 * status, after saying why.
 */
static int traj_send(struct hrservo_traj *t, struct hrservo *h,
		     const char *file, uint64_t at, uint64_t *lead_ns)
{
	unsigned int flags = opt_replace ? HRSERVO_UPLOAD_REPLACE :
			     opt_start == START_JUMP ? HRSERVO_UPLOAD_JUMP : 0;
	struct hrservo_traj_info info;
	struct hrservo_traj *lead;
	unsigned int bad = UINT_MAX;
	char name[64], a[64], b[64];
	double from, to;
	int e;

	*lead_ns = 0;
	if (!upload(t, h, at, flags))
		return 0;	/* it starts where the axes are */
	e = errno;
	if (estop_refused(h, e))
		return EXIT_RUNTIME;
	if (e == EINVAL && opt_replace && replace_mismatch(t, h))
		return EXIT_RUNTIME;
	if (e != EDOM || flags) {
		err("%s: %s", hrservo_name(h), upload_why(e));
		return EXIT_RUNTIME;
	}
	/* Away from where the axes are, or an axis without a position. */
	if (hrservo_traj_status(h, &info)) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		return EXIT_RUNTIME;
	}
	if (info.depth) {
		/*
		 * After a queue, where it leaves the axes is the kernel's: a
		 * lead-in from their targets would not start there.
		 */
		err("%s: it does not start where the trajectory queued on %s leaves the axes (nothing uploaded); make it start there, upload it once the queue has played (for a lead-in), or use --jump",
		    file, hrservo_name(h));
		return EXIT_RUNTIME;
	}
	lead = hrservo_traj_lead_in(t, h, 0.1, &bad);
	if (!lead) {
		if (errno == EDOM)
			err("%s: %s has no position (never set, or released): set it first, or use --jump (nothing uploaded)",
			    hrservo_name(h), axis_name(h, bad, name, sizeof(name)));
		else if (errno == ERANGE)
			err("%s: the lead-in from where the %s are to the trajectory's start would last more than %g s (nothing uploaded); move them nearer first, or use --jump",
			    file, axes_word(h, t),
			    HRSERVO_TRAJ_MAX_INTERVAL_NS / 1e9);
		else if (errno == ENODATA)
			err("%s: the axes moved meanwhile (nothing uploaded); try again",
			    hrservo_name(h));
		else
			err("%s: lead-in: %s (nothing uploaded)", hrservo_name(h),
			    strerror(errno));
		return EXIT_RUNTIME;
	}
	if (opt_start == START_NO_LEAD_IN) {
		refuse_jump(h, lead, file);
		hrservo_traj_free(lead);
		return EXIT_RUNTIME;
	}
	if (upload(lead, h, at, 0)) {
		if (!estop_refused(h, errno))
			err("%s: lead-in: %s (nothing uploaded)",
			    hrservo_name(h), upload_why(errno));
		hrservo_traj_free(lead);
		return EXIT_RUNTIME;
	}
	{
		unsigned int k = farthest_axis(lead, &from, &to);
		unsigned int ch = hrservo_traj_channel(lead, k);

		err("lead-in: %.2f s from where the %s are to the trajectory's start (farthest: %s, from %s to %s)",
		    hrservo_traj_duration(lead), axes_word(h, t),
		    axis_name(h, ch, name, sizeof(name)),
		    axis_pos(h, ch, from, a, sizeof(a)),
		    axis_pos(h, ch, to, b, sizeof(b)));
	}
	*lead_ns = traj_duration_ns(lead);
	hrservo_traj_free(lead);
	/* A signal meanwhile: the lead-in is all that plays; stop it. */
	if (got_signal) {
		*lead_ns = 0;
		return wait_interrupted(h, false, true);
	}
	/* Right after the lead-in, where it ends. */
	if (upload(t, h, 0, 0)) {
		e = errno;
		/* Tripped meanwhile: the trip dropped the lead-in too. */
		if (estop_refused(h, e)) {
			*lead_ns = 0;
			return EXIT_RUNTIME;
		}
		if (hrservo_traj_stop(h))
			err("%s: %s, after the lead-in; stopping the lead-in failed too: %s",
			    hrservo_name(h), upload_why(e), strerror(errno));
		else
			err("%s: %s, after the lead-in: stopped (nothing of %s plays; the axes brake and hold)",
			    hrservo_name(h), upload_why(e), file);
		*lead_ns = 0;
		return EXIT_RUNTIME;
	}
	return 0;
}

/*
 * traj plot: run servoctl-plot, from servoctl's own directory, with the
 * arguments as given. Drawing lives there so that servoctl does not load
 * cairo for every command.
 */
static int traj_plot(int argc, char **argv, int sub)
{
	char self[PATH_MAX], *slash, **args;
	ssize_t n;
	int k = 0;

	n = readlink("/proc/self/exe", self, sizeof(self) - 32);
	if (n < 0) {
		err("plot: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	strcpy(slash ? slash + 1 : self, "servoctl-plot");
	/* The same arguments, without "traj" and "plot". */
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args) {
		err("plot: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	args[k++] = self;
	for (int j = 1; j < argc; j++)
		if (j != sub)
			args[k++] = argv[j];
	/* The calibration servoctl uses, for files in joint positions. */
	setenv("HRSERVO_CALIBRATION", opt_no_calibration ? "" : calib_path(), 1);
	execv(self, args);
	err("plot: %s: %s", self, strerror(errno));
	free(args);
	return EXIT_RUNTIME;
}

/* traj check FILE [CTRL]: the file, then CTRL's limits if given. */
static int traj_check(const char *file, const char *ctrl)
{
	struct hrservo_traj *t;
	struct hrservo *h;
	int ret = 0;

	t = traj_load(file, ctrl, "");
	if (!t)
		return EXIT_RUNTIME;
	if (!ctrl) {
		if (!opt_json)
			printf("%s: %zu waypoints, %.3f s, a valid trajectory (no CTRL: limits not checked)\n",
			       file, hrservo_traj_num_waypoints(t),
			       hrservo_traj_duration(t));
		hrservo_traj_free(t);
		return 0;
	}
	h = open_ctrl(ctrl);
	if (!h) {
		ret = EXIT_RUNTIME;
	} else if (joint_limits_check(h, traj_mask(t))) {
		ret = EXIT_RUNTIME;
	} else if (traj_limits(t, file, h, "")) {
		ret = EXIT_RUNTIME;
	} else if (!opt_json) {
		printf("%s: %zu waypoints, %.3f s, within the limits of %s\n",
		       file, hrservo_traj_num_waypoints(t),
		       hrservo_traj_duration(t), hrservo_name(h));
	}
	hrservo_close(h);
	hrservo_traj_free(t);
	return ret;
}

int cmd_traj(int argc, char **argv)
{
	const struct command *c = find_command("traj");
	struct hrservo_traj_info info;
	struct hrservo_traj *t = NULL;
	struct hrservo *h;
	const char *sub;
	int i, ret = 0;

	i = sub_opts(argc, argv, c, "i:frwa:T:o:m:c:l:", traj_opts, traj_opt);
	if (argc - i < 2) {
		err("expects a subcommand and its arguments (see 'servoctl traj --help')");
		return EXIT_USAGE;
	}
	if (opt_replace && opt_start == START_JUMP) {
		err("--jump and --replace: a splice continues the trajectory, it never jumps");
		return EXIT_USAGE;
	}
	sub = argv[i];
	if (!strcmp(sub, "plot"))
		return traj_plot(argc, argv, i);
	if (!strcmp(sub, "check")) {
		if (argc - i != 2 && argc - i != 3) {
			err("check: expects FILE [CTRL]");
			return EXIT_USAGE;
		}
		if (argc - i == 2 && opt_fit) {
			err("check: --fit needs CTRL, whose limits it fits");
			return EXIT_USAGE;
		}
		return traj_check(argv[i + 1],
				  argc - i == 3 ? argv[i + 2] : NULL);
	}
	if (!strcmp(sub, "upload")) {
		if (argc - i != 3) {
			err("%s: expects FILE CTRL", sub);
			return EXIT_USAGE;
		}
	} else if (!strcmp(sub, "status") || !strcmp(sub, "stop") ||
		   !strcmp(sub, "wait")) {
		if (argc - i != 2) {
			err("%s: expects CTRL", sub);
			return EXIT_USAGE;
		}
	} else {
		err("unknown subcommand '%s'", sub);
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "upload")) {
		/* The file's own errors first, whether CTRL exists or not. */
		t = traj_load(argv[i + 1], argv[argc - 1], " (nothing uploaded)");
		if (!t)
			return EXIT_RUNTIME;
	}
	/* Stopping, and looking, need no calibration: a broken one is no bar. */
	calib_optional = strcmp(sub, "upload") != 0;
	h = open_ctrl(argv[argc - 1]);
	if (!h) {
		hrservo_traj_free(t);
		return EXIT_RUNTIME;
	}
	if (t && joint_limits_check(h, traj_mask(t))) {
		hrservo_traj_free(t);
		hrservo_close(h);
		return EXIT_RUNTIME;
	}

	if (!strcmp(sub, "upload")) {
		uint64_t at = 0, start, lead_ns = 0;
		FILE *cap = NULL;

		if (traj_limits(t, argv[i + 1], h, " (nothing uploaded)")) {
			ret = EXIT_RUNTIME;
			goto out;
		}
		/* Opened first: a bad path uploads nothing. */
		if (opt_capture && !(cap = fopen(opt_capture, "w"))) {
			err("%s: %s (nothing uploaded)", opt_capture,
			    strerror(errno));
			ret = EXIT_RUNTIME;
			goto out;
		}
		if (opt_at >= 0)
			at = now_ns() + (uint64_t)(opt_at * 1e9);
		/* Before anything is queued: no signal is missed. */
		if (opt_wait)
			catch_signals();
		ret = traj_send(t, h, argv[i + 1], at, &lead_ns);
		/* A signal cut a long upload short: stop what was queued. */
		if (ret && ret < 128 && opt_wait && got_signal)
			ret = wait_interrupted(h, false, true);
		if (ret) {
			if (cap)
				fclose(cap);
			goto out;
		}
		if (cap) {
			/* t=0 of the plan on the capture's clock, for plot. */
			if (traj_start_ns(h, t, at ? at + lead_ns : 0, &start)) {
				err("%s: when the trajectory started is unknown: %s",
				    opt_capture, strerror(errno));
				ret = EXIT_RUNTIME;
			} else {
				fprintf(cap, "# servoctl traj upload %s %s\n# start_ns=%llu\n",
					argv[i + 1], hrservo_name(h),
					(unsigned long long)start);
			}
			if (ferror(cap) | fclose(cap)) {
				err("%s: %s", opt_capture, strerror(errno));
				ret = EXIT_RUNTIME;
			}
		}
		if (opt_wait) {
			int w = traj_wait(h, hrservo_traj_duration(t) +
					  lead_ns / 1e9 +
					  (opt_at > 0 ? opt_at : 0), true);

			/* A signal's status says what happened last. */
			ret = w > 128 || !ret ? w : ret;
		}
	} else if (!strcmp(sub, "status")) {
		static const char *const states[] = {
			"idle", "waiting", "running", "underrun",
		};

		if (hrservo_traj_status(h, &info)) {
			err("%s: %s", hrservo_name(h), strerror(errno));
			ret = EXIT_RUNTIME;
		} else if (opt_json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "state",
					       json_object_new_string(states[info.state & 3]));
			json_add_int64(o, "segment", info.segment);
			json_object_object_add(o, "depth",
					       json_object_new_int(info.depth));
			json_add_int64(o, "time_in_segment_ns", info.time_in_segment_ns);
			json_add_int64(o, "queued_ns", info.queued_ns);
			put_json(o);
		} else {
			printf("state:      %s\n", states[info.state & 3]);
			printf("segment:    %llu (%.3f s into it)\n",
			       (unsigned long long)info.segment,
			       info.time_in_segment_ns / 1e9);
			printf("queued:     %u segments, %.3f s\n", info.depth,
			       info.queued_ns / 1e9);
		}
	} else if (!strcmp(sub, "stop")) {
		if (hrservo_traj_stop(h)) {
			err("%s: %s", hrservo_name(h), strerror(errno));
			ret = EXIT_RUNTIME;
		}
	} else {
		if (hrservo_traj_status(h, &info)) {
			err("%s: %s", hrservo_name(h), strerror(errno));
			ret = EXIT_RUNTIME;
		} else if (info.state != 0 || info.depth) {
			catch_signals();
			ret = traj_wait(h, info.queued_ns / 1e9, false);
		}
	}
out:
	hrservo_traj_free(t);
	hrservo_close(h);
	return ret;
}

/* ---- move: every named axis arrives at its value at the same time ---- */

int cmd_move(int argc, char **argv)
{
	double from[HRSERVO_MAX_CHANNELS], to[HRSERVO_MAX_CHANNELS];
	struct hrservo_traj *t = NULL;
	struct hrservo_violation v;
	struct targets tg;
	int i, ret;

	i = sub_opts(argc, argv, find_command("move"), "t:wT:", move_opts,
		     traj_opt);
	/* CH=VALUE..., or "home" (every joint with a home position). */
	ret = targets_prepare(&tg, argc - i, argv + i);
	if (ret)
		return ret;
	ret = EXIT_RUNTIME;
	for (size_t k = 0; k < tg.n; k++) {
		unsigned int ch = tg.ch[k];
		char name[64];

		/*
		 * From its target, where the kernel starts a trajectory (the
		 * width in effect may differ by the hardware's rounding, or
		 * lag behind under speed limits). A released channel has none
		 * any more: its servo is wherever it was left, or pushed.
		 */
		if (!hrservo_state_enabled(tg.st, ch) ||
		    !hrservo_state_target_ns(tg.st, ch)) {
			err("%s has no position to move from (never set, or released): 'set' it first, which makes a hobby servo jump there at its first pulse (nothing applied)",
			    axis_name(tg.h, ch, name, sizeof(name)));
			goto out;
		}
		from[k] = hrservo_state_target_ns(tg.st, ch);
		to[k] = tg.ns[k];
	}
	t = hrservo_traj_new((unsigned int)tg.n, tg.ch);
	if (!t || hrservo_traj_add(t, 0, from) ||
	    hrservo_traj_add(t, opt_time > 0 ? opt_time : 1.0, to)) {
		err("%s", strerror(errno));
		goto out;
	}
	hrservo_traj_set_interp(t, HRSERVO_INTERP_MIN_JERK);
	if (opt_time <= 0 && hrservo_traj_fit_time(t, tg.h, NULL) &&
	    errno != ERANGE) {
		err("%s", strerror(errno));
		goto out;
	}
	if (hrservo_traj_check_times(t, NULL, 0)) {
		/* One segment: from 1 ms to 60 s. */
		if (opt_time > 0)
			err("--time %g s: a move lasts from %g ms to %g s (nothing applied)",
			    opt_time, HRSERVO_TRAJ_MIN_INTERVAL_NS / 1e6,
			    HRSERVO_TRAJ_MAX_INTERVAL_NS / 1e9);
		else
			err("the limits make the move last %.1f s, more than %g s (nothing applied)",
			    hrservo_traj_duration(t),
			    HRSERVO_TRAJ_MAX_INTERVAL_NS / 1e9);
		goto out;
	}
	if (hrservo_traj_check(t, tg.h, &v)) {
		if (errno != ERANGE) {
			err("%s: %s (nothing applied)", hrservo_name(tg.h),
			    strerror(errno));
		} else {
			report_violation(NULL, tg.h, t, &v);
			err(v.kind == HRSERVO_LIMIT_SPEED ||
			    v.kind == HRSERVO_LIMIT_ACCEL ?
			    "nothing applied; a longer --time would fit" :
			    "nothing applied");
		}
		goto out;
	}
	/* Before anything is queued: no signal is missed. */
	if (opt_wait)
		catch_signals();
	if (upload(t, tg.h, 0, 0)) {
		if (estop_refused(tg.h, errno))
			goto out;
		err("%s: %s (nothing applied)", hrservo_name(tg.h),
		    *hrservo_last_error() ? hrservo_last_error() :
		    errno == EBUSY ? "a channel is in use by a trajectory" :
		    errno == EDOM ? "the channels moved meanwhile; the move would start away from them" :
		    strerror(errno));
		goto out;
	}
	ret = opt_wait ? traj_wait(tg.h, hrservo_traj_duration(t), true) : 0;
out:
	hrservo_traj_free(t);
	targets_free(&tg);
	return ret;
}
