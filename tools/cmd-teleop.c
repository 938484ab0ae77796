// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl teleop: drive a controller's calibrated joints from a gamepad.
 *
 * The gamepad is read through libevdev; the mapping file and the engine
 * (deadman, shaping, rate and position modes, poses) are the library's
 * (hrservo_teleop_*). This file is the I/O around them: finding the pad,
 * one poll() loop on the pad, the controller's events and a timer at the
 * frame rate, the kernel watchdog, the e-stop, and the status.
 *
 * Safety, in the order things go wrong (see servoctl(1), TELEOP):
 *  - nothing moves without the deadman, and a released deadman holds (the
 *    engine);
 *  - the kernel watchdog is armed for the whole run: teleop killed, hung or
 *    starved past --watchdog ms, the kernel runs the failsafe;
 *  - a gamepad that goes away (ENODEV, POLLHUP: removal is the only loss
 *    evdev can show, an idle pad sends nothing) re-arms the watchdog with
 *    its shortest timeout and stops the keep-alives, so the kernel runs
 *    the same failsafe within that timeout and a frame; the pad is looked
 *    for every 500 ms and used again when it is back, its deadman pressed
 *    anew;
 *  - the e-stop button trips the kernel's latch; while it is latched,
 *    teleop shows it and keeps running, commanding nothing that moves;
 *  - SIGINT, SIGTERM, SIGHUP: the handle is closed armed, which is the
 *    kernel failsafe, and teleop exits 0.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "servoctl.h"

#define TELEOP_WD_DEFAULT_MS	200
#define TELEOP_RESCAN_NS	500000000ULL	/* looking for a lost pad */
#define TELEOP_SHOW_NS		100000000ULL	/* joint lines, redraws: 10/s */
#define TELEOP_MAP_ETC		"/etc/hrservo/gamepad.map"

static volatile sig_atomic_t teleop_stop;

static void teleop_signal(int sig)
{
	teleop_stop = sig;
}

/* ---- options ---- */

static const char *opt_device;	/* --device, or NULL: the first gamepad */
static const char *opt_map;
static unsigned int opt_wd_ms = TELEOP_WD_DEFAULT_MS;
static const char *opt_failsafe = "hold";
static bool opt_start_home;	/* --start home */

static int teleop_opt(int opt, const char *arg)
{
	char *end;
	long v;

	switch (opt) {
	case 'd':
		opt_device = arg;
		return 0;
	case 'm':
		opt_map = arg;
		return 0;
	case 'w':
		errno = 0;
		v = strtol(arg, &end, 10);
		if (!*arg || *end || errno || v < HRSERVO_WATCHDOG_MIN_MS ||
		    v > HRSERVO_WATCHDOG_MAX_MS) {
			err("--watchdog: '%s' is not a timeout from %d to %d (ms)",
			    arg, HRSERVO_WATCHDOG_MIN_MS, HRSERVO_WATCHDOG_MAX_MS);
			exit(EXIT_USAGE);
		}
		opt_wd_ms = (unsigned int)v;
		return 0;
	case 'f':
		if (strcmp(arg, "hold") && strcmp(arg, "release") &&
		    strcmp(arg, "home")) {
			err("--failsafe: '%s' is not hold, release or home", arg);
			exit(EXIT_USAGE);
		}
		opt_failsafe = arg;
		return 0;
	case 's':
		if (strcmp(arg, "home") && strcmp(arg, "where")) {
			err("--start: '%s' is not where or home", arg);
			exit(EXIT_USAGE);
		}
		opt_start_home = !strcmp(arg, "home");
		return 0;
	}
	return -1;
}

/*
 * The mapping file: --map, else ~/.config/hrservo/gamepad.map (or under
 * $XDG_CONFIG_HOME), else /etc/hrservo/gamepad.map. NULL after an error
 * naming both.
 */
static const char *map_path(void)
{
	static char user[4096];

	if (opt_map)
		return opt_map;
	config_path("gamepad.map", user, sizeof(user));
	if (!access(user, F_OK))
		return user;
	if (!access(TELEOP_MAP_ETC, F_OK))
		return TELEOP_MAP_ETC;
	err("no mapping file: neither %s nor %s exists; give --map FILE (examples/teleop/gamepad.map is a start: its joints must be the calibration's)",
	    user, TELEOP_MAP_ETC);
	return NULL;
}

/* ---- happenings: one JSON object or text line each, or the status ---- */

struct hap {
	json_object *o;
	json_object *joints;	/* the "joints" array, or NULL */
	char text[2048];
	size_t len;
};

static void hap_text(struct hap *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void hap_text(struct hap *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e->len >= sizeof(e->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->text + e->len, sizeof(e->text) - e->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		e->len += (size_t)n;
	if (e->len >= sizeof(e->text))
		e->len = sizeof(e->text) - 1;
}

static void hap_begin(struct hap *e, const char *what)
{
	e->o = json_object_new_object();
	e->joints = NULL;
	e->len = 0;
	e->text[0] = '\0';
	json_object_object_add(e->o, "time",
			       json_fixed((double)now_ns() / 1e9, 6, false));
	json_object_object_add(e->o, "event", json_object_new_string(what));
	hap_text(e, "%s", what);
}

static void hap_str(struct hap *e, const char *key, const char *v)
{
	json_object_object_add(e->o, key, json_object_new_string(v));
	hap_text(e, strpbrk(v, " \t\"=") || !*v ? " %s=\"%s\"" : " %s=%s",
		 key, v);
}

static void hap_num(struct hap *e, const char *key, double v, int decimals)
{
	json_object_object_add(e->o, key, json_fixed(v, decimals, true));
	hap_text(e, " %s=%.*f", key, decimals, v);
}

static void hap_int(struct hap *e, const char *key, int64_t v)
{
	json_add_int64(e->o, key, v);
	hap_text(e, " %s=%lld", key, (long long)v);
}

static void hap_bool(struct hap *e, const char *key, bool v)
{
	json_object_object_add(e->o, key, json_object_new_boolean(v));
	hap_text(e, " %s=%s", key, v ? "yes" : "no");
}

/* A joint in the "joints" array: its position (none: NAN) and pulse. */
static void hap_joint(struct hap *e, const struct hrservo_joint *j, double pos,
		      uint32_t ns)
{
	json_object *o = json_object_new_object();
	char buf[48];

	if (!e->joints) {
		e->joints = json_object_new_array();
		json_object_object_add(e->o, "joints", e->joints);
	}
	json_object_object_add(o, "name", json_object_new_string(j->name));
	json_object_object_add(o, "position",
			       isnan(pos) ? NULL : json_fixed(pos, 6, true));
	json_object_object_add(o, "unit",
			       json_object_new_string(hrservo_unit_name(j->unit)));
	json_add_int64(o, "pulse_ns", ns);
	json_object_array_add(e->joints, o);
	hap_text(e, " %s=%s", j->name,
		 isnan(pos) ? "off" : fmt_joint_pos(j, pos, buf, sizeof(buf)));
}

/* ---- the gamepad ---- */

struct pad {
	int fd;			/* -1: none */
	struct libevdev *dev;
	char path[PATH_MAX];
	char name[128];
	/*
	 * Set once a pad was used: a pad looked for again must be that one
	 * (name, vendor, product), not whichever gamepad comes first.
	 */
	bool known;
	char id_name[128];
	int vendor;
	int product;
};

/* Why @dev is not a gamepad (buttons BTN_SOUTH, a stick ABS_X), or NULL. */
static const char *pad_lacks(const struct libevdev *dev)
{
	/* BTN_GAMEPAD is BTN_SOUTH: the first button of every gamepad. */
	if (!libevdev_has_event_code(dev, EV_KEY, BTN_SOUTH))
		return "no BTN_SOUTH";
	if (!libevdev_has_event_code(dev, EV_ABS, ABS_X))
		return "no ABS_X";
	return NULL;
}

static void pad_close(struct pad *p)
{
	libevdev_free(p->dev);
	if (p->fd >= 0)
		close(p->fd);
	p->dev = NULL;
	p->fd = -1;
}

/*
 * Open @path if it is a gamepad: 0, or -1 with @why it is not one (and
 * *@denied set if it may not be read).
 */
static int pad_open(struct pad *p, const char *path, char *why, size_t size,
		    bool *denied)
{
	const char *lack;
	int rc;

	p->dev = NULL;
	p->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0) {
		*denied |= errno == EACCES || errno == EPERM;
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	rc = libevdev_new_from_fd(p->fd, &p->dev);
	if (rc < 0) {
		p->dev = NULL;
		snprintf(why, size, "not an evdev device: %s", strerror(-rc));
		pad_close(p);
		return -1;
	}
	lack = pad_lacks(p->dev);
	if (!lack && p->known &&
	    (strcmp(p->id_name, libevdev_get_name(p->dev)) ||
	     p->vendor != libevdev_get_id_vendor(p->dev) ||
	     p->product != libevdev_get_id_product(p->dev)))
		lack = "not the gamepad that was lost";
	if (lack) {
		snprintf(why, size, "%s: %s", libevdev_get_name(p->dev), lack);
		pad_close(p);
		return -1;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(p->name, sizeof(p->name), "%s", libevdev_get_name(p->dev));
	if (!p->known) {
		p->known = true;
		snprintf(p->id_name, sizeof(p->id_name), "%s", p->name);
		p->vendor = libevdev_get_id_vendor(p->dev);
		p->product = libevdev_get_id_product(p->dev);
	}
	return 0;
}

/* eventN, in the order of N */
static int event_cmp(const void *a, const void *b)
{
	return atoi((const char *)a + 5) - atoi((const char *)b + 5);
}

/*
 * The first gamepad of /dev/input/event* by number, or --device. 0, or -1
 * with @seen saying what was looked at and why it is not one.
 */
static int pad_find(struct pad *p, char *seen, size_t size)
{
	char names[256][24], path[64], why[256];
	size_t n = 0, len = 0;
	bool denied = false;
	struct dirent *d;
	int ret = -1;
	DIR *dir;

	seen[0] = '\0';
	if (opt_device) {
		if (!pad_open(p, opt_device, why, sizeof(why), &denied))
			return 0;
		snprintf(seen, size, "%s: %s%s", opt_device, why, denied ?
			 " (reading input devices needs root or the 'input' group)" : "");
		return -1;
	}
	dir = opendir("/dev/input");
	if (!dir) {
		snprintf(seen, size, "/dev/input: %s (is the evdev module loaded?)",
			 strerror(errno));
		return -1;
	}
	while ((d = readdir(dir)) && n < 256)
		if (!strncmp(d->d_name, "event", 5))
			snprintf(names[n++], sizeof(names[0]), "%.23s", d->d_name);
	closedir(dir);
	qsort(names, n, sizeof(names[0]), event_cmp);
	for (size_t i = 0; i < n && ret; i++) {
		snprintf(path, sizeof(path), "/dev/input/%.23s", names[i]);
		if (!pad_open(p, path, why, sizeof(why), &denied))
			ret = 0;
		else if (len < size)
			len += (size_t)snprintf(seen + len, size - len, "%s%s (%s)",
						len ? ", " : "", path, why);
	}
	if (ret && !n)
		snprintf(seen, size, "/dev/input has no event device");
	else if (ret && denied && len < size)
		snprintf(seen + len, size - len,
			 "; reading input devices needs root or the 'input' group");
	return ret;
}

/* ---- the run ---- */

struct tjoint {
	const struct hrservo_joint *j;
	bool known;		/* has a position: commanded */
	uint32_t applied;	/* the target it has (ours or another's), 0: off */
	bool warned;		/* a conversion failure was said */
};

struct teleop {
	struct hrservo *h;
	struct hrservo_teleop *t;
	struct hrservo_batch *b;
	struct hrservo_batch *pose;	/* --failsafe home, or NULL */
	int action;			/* of the watchdog */
	int estop_action;
	const char *map;
	size_t n;
	struct tjoint tj[HRSERVO_MAX_CHANNELS];
	struct pad pad;
	int tfd;			/* the ticks: a timer at the frame rate */
	bool lost;
	uint64_t lost_at;		/* when the pad went away */
	uint64_t next_scan;
	bool latched;			/* the e-stop */
	int apply_errno;		/* the last apply's failure, said once */
	bool resync;			/* read the targets again */
	bool resync_all;		/* ...every joint's (after a failsafe) */
	bool tty;
	bool dirty;			/* the status changed */
	bool moved;			/* positions changed since the last joints line */
	uint64_t shown_at;
	char last[sizeof(((struct hap *)0)->text)]; /* the last happening */
};

static void hap_end(struct teleop *tp, struct hap *e)
{
	if (tp->tty) {
		snprintf(tp->last, sizeof(tp->last), "%s", e->text);
		tp->dirty = true;
	} else if (opt_json) {
		puts(json_object_to_json_string_ext(e->o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("%.6f %s\n", (double)now_ns() / 1e9, e->text);
	}
	fflush(stdout);
	json_object_put(e->o);
}

/* A happening with a message only. */
static void hap_say(struct teleop *tp, const char *what, const char *msg)
{
	struct hap e;

	hap_begin(&e, what);
	hap_str(&e, "message", msg);
	hap_end(tp, &e);
}

static const char *fs_name(int action)
{
	return action == HRSERVO_FS_RELEASE ? "release" :
	       action == HRSERVO_FS_POSE ? "home" : "hold";
}

static void draw_status(struct teleop *tp)
{
	char buf[48], pb[24];

	printf("\033[H\033[J");
	printf("servoctl teleop: %s (%s), map %s; Ctrl-C to stop\n\n",
	       hrservo_name(tp->h), hrservo_backend(tp->h), tp->map);
	if (tp->lost)
		printf("  gamepad   lost (looking for %s every 500 ms)\n",
		       opt_device ? opt_device : "a gamepad");
	else
		printf("  gamepad   %s (%s): connected\n", tp->pad.name,
		       tp->pad.path);
	printf("  deadman   %-8s  turbo %-3s  mode %s\n",
	       hrservo_teleop_deadman(tp->t) ? "held" : "released",
	       hrservo_teleop_turbo(tp->t) ? "on" : "off",
	       hrservo_teleop_mode(tp->t));
	printf("  e-stop    %s\n", tp->latched ?
	       "\033[1mE-STOP\033[0m latched ('servoctl estop --clear' to clear)" :
	       "clear");
	printf("  watchdog  %u ms, failsafe %s\n\n", opt_wd_ms,
	       fs_name(tp->action));
	printf("  %-16s %12s %12s\n", "JOINT", "POSITION", "PULSE");
	for (size_t i = 0; i < tp->n; i++) {
		const struct tjoint *x = &tp->tj[i];

		if (x->known)
			printf("  %-16s %12s %12s\n", x->j->name,
			       fmt_joint_pos(x->j,
					     hrservo_teleop_position(tp->t, i),
					     buf, sizeof(buf)),
			       fmt_ns(x->applied, pb));
		else
			printf("  %-16s %12s %12s  (no position: set it to drive it)\n",
			       x->j->name, "-", "off");
	}
	printf("\n  %s%s\n", tp->apply_errno && tp->apply_errno != EPERM ?
	       "not applied: " : "", tp->apply_errno && tp->apply_errno != EPERM ?
	       strerror(tp->apply_errno) : "");
	printf("  last: %s\n", tp->last);
	fflush(stdout);
	tp->dirty = false;
}

/* Every joint's position: a "joints" happening. */
static void show_joints(struct teleop *tp)
{
	struct hap e;

	hap_begin(&e, "joints");
	for (size_t i = 0; i < tp->n; i++)
		hap_joint(&e, tp->tj[i].j, tp->tj[i].known ?
			  hrservo_teleop_position(tp->t, i) : NAN,
			  tp->tj[i].applied);
	hap_end(tp, &e);
}

/* The status: redrawn, or a joints line, at most 10 times a second. */
static void show(struct teleop *tp, uint64_t now, bool force)
{
	if (!force && now - tp->shown_at < TELEOP_SHOW_NS)
		return;
	if (tp->tty) {
		if (tp->dirty || tp->moved || force)
			draw_status(tp);
	} else if (tp->moved) {
		show_joints(tp);
	}
	tp->moved = false;
	tp->shown_at = now;
}

/*
 * Read the controller's targets into the engine where they are not what
 * teleop applied last (another client's change), or all of them
 * (resync_all: at the start, after a failsafe, an e-stop or a refused
 * apply, where the engine's positions are not the robot's). A channel that
 * is off has no position and is not commanded until someone sets it. 0, or
 * -1 (errno) if the state cannot be read.
 */
static int resync(struct teleop *tp)
{
	struct hrservo_state *st = hrservo_read_state(tp->h);

	if (!st)
		return -1;
	for (size_t i = 0; i < tp->n; i++) {
		struct tjoint *x = &tp->tj[i];
		uint32_t target;
		double pos;

		if (!hrservo_state_enabled(st, x->j->channel)) {
			tp->dirty |= x->known;
			x->known = false;
			x->applied = 0;
			continue;
		}
		target = hrservo_state_target_ns(st, x->j->channel);
		if (x->known && target == x->applied && !tp->resync_all)
			continue;
		x->known = !hrservo_joint_from_ns(x->j, target, &pos) &&
			   !hrservo_teleop_set_position(tp->t, i,
							pos);
		x->applied = target;
		tp->dirty = tp->moved = true;
	}
	hrservo_state_free(st);
	tp->resync = tp->resync_all = false;
	return 0;
}

/*
 * The pad's axes as they are now (a stick held off centre); buttons are
 * not fed: one held now counts only when pressed anew.
 */
static void feed_axes(struct teleop *tp, bool absinfo)
{
	if (!tp->pad.dev)
		return;
	for (unsigned int code = 0; code <= ABS_MAX; code++) {
		const struct input_absinfo *ai;

		if (!libevdev_has_event_code(tp->pad.dev, EV_ABS, code))
			continue;
		ai = libevdev_get_abs_info(tp->pad.dev, code);
		if (absinfo)
			hrservo_teleop_set_absinfo(tp->t, code, ai->minimum,
						   ai->maximum);
		hrservo_teleop_input(tp->t, EV_ABS, code, ai->value);
	}
}

/* The e-stop latch as the kernel has it; a happening if it changed. */
static void estop_update(struct teleop *tp, bool latched, const char *by)
{
	struct hap e;

	if (latched == tp->latched)
		return;
	tp->latched = latched;
	/*
	 * Tripped or cleared: the deadman must be pressed anew; the sticks
	 * are where they are.
	 */
	hrservo_teleop_reset_input(tp->t);
	feed_axes(tp, false);
	tp->resync = tp->resync_all = true;
	hap_begin(&e, "estop");
	hap_bool(&e, "latched", latched);
	if (latched)
		hap_str(&e, "by", by);
	hap_end(tp, &e);
}

static void estop_refresh(struct teleop *tp)
{
	struct hrservo_estop_info info;

	/* EPERM is the latch, unless the latch says it is clear. */
	if (hrservo_estop_get(tp->h, &info))
		info = (struct hrservo_estop_info){ .latched = true };
	estop_update(tp, info.latched,
		     info.source == HRSERVO_ESTOP_BY_INPUT ? "input" : "user");
}

/*
 * The joints that moved, in one batch. 0, or -1 if the controller is gone.
 * EPERM (the e-stop) and other refusals are shown once, and teleop goes on.
 */
static int apply(struct teleop *tp)
{
	unsigned int idx[HRSERVO_MAX_CHANNELS];
	uint32_t ns[HRSERVO_MAX_CHANNELS];
	size_t m = 0;

	hrservo_batch_clear(tp->b);
	for (size_t i = 0; i < tp->n; i++) {
		struct tjoint *x = &tp->tj[i];
		double pos = hrservo_teleop_position(tp->t, i), w;
		char buf[48];

		if (!x->known)
			continue;
		if (hrservo_joint_to_ns(x->j, pos, &w)) {
			char msg[160];

			if (!x->warned) {
				snprintf(msg, sizeof(msg), "joint %s: position %s has no pulse: %s",
					 x->j->name, fmt_joint_pos(x->j, pos, buf,
					 sizeof(buf)), strerror(errno));
				hap_say(tp, "warning", msg);
			}
			x->warned = true;
			continue;
		}
		x->warned = false;
		ns[m] = (uint32_t)lround(w);
		if (ns[m] == x->applied)
			continue;
		hrservo_batch_add(tp->b, x->j->channel, ns[m]);
		idx[m++] = (unsigned int)i;
	}
	if (!m)
		return 0;
	if (hrservo_apply(tp->h, tp->b)) {
		int e = errno;
		char msg[256];

		if (e == ENODEV)
			return -1;
		/* Nothing moved: the engine goes back to where the robot is. */
		tp->resync = tp->resync_all = true;
		if (e == EPERM) {
			estop_refresh(tp);
		} else if (e != tp->apply_errno) {
			snprintf(msg, sizeof(msg), "%s: not applied: %s%s",
				 hrservo_name(tp->h), strerror(e),
				 e == EBUSY ? " (a trajectory owns the channels: 'servoctl traj stop')" :
				 e == ERANGE ? " (the kernel's limits are not the calibration's: 'servoctl calibrate apply')" : "");
			hap_say(tp, "warning", msg);
		}
		tp->apply_errno = e;
		return 0;
	}
	tp->apply_errno = 0;
	for (size_t k = 0; k < m; k++)
		tp->tj[idx[k]].applied = ns[k];
	tp->moved = true;
	return 0;
}

/* Arm the kernel watchdog (again) with @ms; 0, or -1 after saying why. */
static int arm(struct teleop *tp, unsigned int ms)
{
	if (!hrservo_watchdog_arm(tp->h, ms, tp->action, tp->pose))
		return 0;
	if (errno == ENOTSUP)
		err("%s (%s) has no watchdog: teleop needs one, so that the robot stops when teleop does",
		    hrservo_name(tp->h), hrservo_backend(tp->h));
	else
		err("%s: cannot arm the watchdog (%u ms, failsafe %s): %s",
		    hrservo_name(tp->h), ms, fs_name(tp->action),
		    strerror(errno));
	return -1;
}

static void pad_found(struct teleop *tp)
{
	struct hap e;

	feed_axes(tp, true);
	hap_begin(&e, "gamepad");
	hap_str(&e, "state", "found");
	hap_str(&e, "device", tp->pad.path);
	hap_str(&e, "name", tp->pad.name);
	hap_end(tp, &e);
	tp->dirty = true;
}

/*
 * The pad is gone: the kernel's failsafe at once (the shortest timeout, no
 * more keep-alives, nothing applied), its input forgotten. -1 if the
 * watchdog cannot be armed.
 */
static int pad_lost(struct teleop *tp, const char *why)
{
	struct hap e;
	int ret;

	tp->lost_at = now_ns();
	ret = arm(tp, HRSERVO_WATCHDOG_MIN_MS);
	pad_close(&tp->pad);
	tp->lost = true;
	tp->next_scan = tp->lost_at + TELEOP_RESCAN_NS;
	hrservo_teleop_reset_input(tp->t);
	hap_begin(&e, "gamepad");
	hap_str(&e, "state", "lost");
	hap_str(&e, "device", tp->pad.path);
	hap_str(&e, "why", why);
	hap_end(tp, &e);
	return ret;
}

/* Look for the pad again; when it is back, re-arm and read the targets. */
static int pad_rescan(struct teleop *tp, uint64_t now)
{
	char seen[2048];

	if (now < tp->next_scan)
		return 0;
	tp->next_scan = now + TELEOP_RESCAN_NS;
	if (pad_find(&tp->pad, seen, sizeof(seen)))
		return 0;
	if (arm(tp, opt_wd_ms))
		return -1;
	tp->lost = false;
	pad_found(tp);
	tp->resync = tp->resync_all = true;
	return 0;
}

/*
 * Feed what the pad sent to the engine. Returns the number of events, or
 * -1 if the pad is gone (@why says how).
 */
static int pad_read(struct teleop *tp, const char **why)
{
	unsigned int flag = LIBEVDEV_READ_FLAG_NORMAL;
	struct input_event ev;
	int rc, n = 0;

	for (;;) {
		rc = libevdev_next_event(tp->pad.dev, flag, &ev);
		if (rc == -EAGAIN) {
			if (flag == LIBEVDEV_READ_FLAG_NORMAL)
				return n;
			/* Resynced: back to the normal events. */
			flag = LIBEVDEV_READ_FLAG_NORMAL;
			continue;
		}
		if (rc == -EINTR)
			return n;
		if (rc < 0) {
			*why = strerror(-rc);
			return -1;
		}
		/*
		 * SYN_DROPPED: the kernel's buffer overflowed; libevdev
		 * replays the device's state as events, read with
		 * LIBEVDEV_READ_FLAG_SYNC.
		 */
		if (rc == LIBEVDEV_READ_STATUS_SYNC)
			flag = LIBEVDEV_READ_FLAG_SYNC;
		hrservo_teleop_input(tp->t, ev.type, ev.code, ev.value);
		n++;
	}
}

/* The watchdog ran a failsafe (this handle's, or another client's). */
static void failsafe_seen(struct teleop *tp,
			  const struct hrservo_event_data *ev)
{
	struct hap e;

	hap_begin(&e, "failsafe");
	hap_str(&e, "action", fs_name(tp->action));
	if (tp->lost && tp->lost_at) {
		hap_str(&e, "cause", "gamepad lost");
		hap_num(&e, "after_ms",
			ev->timestamp_ns > tp->lost_at ?
			(double)(ev->timestamp_ns - tp->lost_at) / 1e6 : 0, 3);
		tp->lost_at = 0;
	} else {
		/* Late keep-alives (teleop starved), or another client's. */
		hap_str(&e, "cause", ev->value == HRSERVO_EV_WATCHDOG_CLOSED ? "a watchdog's file closed" :
			"watchdog expired");
		hrservo_teleop_reset_input(tp->t);
	}
	hap_end(tp, &e);
	tp->resync = tp->resync_all = true;
}

/* The tick of frames of @period_ns: a frame, or a third of the watchdog. */
static uint32_t tick_period(uint32_t period_ns)
{
	uint64_t third = (uint64_t)opt_wd_ms * 1000000 / 3;

	return period_ns < third ? period_ns : (uint32_t)third;
}

/* A tick every @period_ns: 0, or -1 (errno). */
static int ticks_set(int fd, uint32_t period_ns)
{
	struct timespec p = {
		.tv_sec = (time_t)(period_ns / 1000000000U),
		.tv_nsec = (long)(period_ns % 1000000000U),
	};

	return timerfd_settime(fd, 0, &(struct itimerspec){ p, p }, NULL);
}

/*
 * Keep the watchdog alive: 0, or -1 if the controller is gone or the
 * watchdog cannot be armed again. A watchdog that is not armed (EINVAL) is
 * armed again; other failures are said once per errno.
 */
static int keepalive(struct teleop *tp)
{
	static int said;
	char msg[256];

	if (!hrservo_keepalive(tp->h))
		return 0;
	if (errno == ENODEV)
		return -1;
	if (errno == EINVAL)
		return arm(tp, opt_wd_ms);
	if (said != errno) {
		said = errno;
		snprintf(msg, sizeof(msg), "keep-alive of %s: %s",
			 hrservo_name(tp->h), strerror(errno));
		hap_say(tp, "warning", msg);
	}
	return 0;
}

/* The controller's events. 0, or -1 if it is gone. */
static int ctrl_events(struct teleop *tp)
{
	struct hrservo_event_data ev;

	while (!hrservo_read_event(tp->h, &ev, 0)) {
		switch (ev.type) {
		case HRSERVO_EV_REMOVED:
			errno = ENODEV;
			return -1;
		case HRSERVO_EV_WATCHDOG:
			failsafe_seen(tp, &ev);
			break;
		case HRSERVO_EV_ESTOP:
			estop_update(tp, ev.value != 0,
				     ev.value == HRSERVO_ESTOP_BY_INPUT ?
				     "input" : "user");
			break;
		case HRSERVO_EV_PERIOD:
			/*
			 * The ticks follow the frames, but keep-alives come at
			 * least three times per watchdog timeout.
			 */
			if (ticks_set(tp->tfd, tick_period(ev.value)))
				return -1;
			tp->resync = true;
			break;
		default:
			tp->resync = true;
			break;
		}
	}
	return errno == ENODEV ? -1 : 0;
}

/* What the engine says happened; -1 if the controller is gone. */
static int stepped(struct teleop *tp, unsigned int what)
{
	struct hap e;

	if (what & HRSERVO_TELEOP_DEADMAN) {
		hap_begin(&e, "deadman");
		hap_bool(&e, "held", hrservo_teleop_deadman(tp->t));
		hap_end(tp, &e);
	}
	if ((what & HRSERVO_TELEOP_ESTOP) && !tp->latched) {
		if (hrservo_estop_trip(tp->h, tp->estop_action)) {
			char msg[256];
			int err_no = errno;

			if (err_no == ENODEV)
				return -1;
			/*
			 * The button asked for a stop: teleop stops, and
			 * closing the armed controller runs the failsafe.
			 */
			snprintf(msg, sizeof(msg), "the e-stop button: cannot trip the e-stop of %s: %s; stopping (the watchdog's failsafe runs)",
				 hrservo_name(tp->h), strerror(err_no));
			hap_say(tp, "error", msg);
			errno = err_no;
			return -1;
		} else {
			estop_update(tp, true, "gamepad");
		}
	}
	if (!(what & HRSERVO_TELEOP_MOVED) || tp->lost)
		return 0;
	/* Latched, nothing can move: the engine stays where the robot is. */
	if (tp->latched) {
		tp->resync = tp->resync_all = true;
		return 0;
	}
	return apply(tp);
}

/* The joints of the map, all on @h; 0 or an exit status. */
static int teleop_joints(struct teleop *tp, const struct hrservo_calib *c,
			 uint64_t *mask)
{
	*mask = 0;
	tp->n = hrservo_teleop_num_joints(tp->t);
	if (tp->n > HRSERVO_MAX_CHANNELS) {
		err("%s: %zu joints; a controller has %d channels at most",
		    tp->map, tp->n, HRSERVO_MAX_CHANNELS);
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < tp->n; i++) {
		const struct hrservo_joint *j =
			hrservo_calib_joint(c, hrservo_teleop_joint(tp->t, i));

		if (!j || hrservo_calib_find_channel(c, hrservo_name(tp->h),
						     j->channel) != j) {
			err("%s: joint %s is on controller %s, not %s", tp->map,
			    j ? j->name : "?", j ? j->controller : "?",
			    hrservo_name(tp->h));
			return EXIT_RUNTIME;
		}
		if (j->channel >= hrservo_num_channels(tp->h)) {
			err("joint %s: channel %u: %s has %u channels", j->name,
			    j->channel, hrservo_name(tp->h),
			    hrservo_num_channels(tp->h));
			return EXIT_RUNTIME;
		}
		tp->tj[i] = (struct tjoint){ .j = j };
		*mask |= 1ULL << j->channel;
	}
	return 0;
}

/*
 * Add the home of every joint of @h that has one to @b, those whose
 * channel is on in @skip_on left out (@skip_on NULL: all). @opt names the
 * option in errors; one is that no joint has a home. 0, or EXIT_RUNTIME.
 */
static int homes_add(struct teleop *tp, const struct hrservo_calib *c,
		     const char *opt, const struct hrservo_state *skip_on,
		     struct hrservo_batch *b)
{
	unsigned int homes = 0;

	for (unsigned int i = 0; i < hrservo_calib_count(c); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(c, i);
		double w;

		if (!j->has_home || j->channel >= hrservo_num_channels(tp->h) ||
		    hrservo_calib_find_channel(c, hrservo_name(tp->h),
					       j->channel) != j)
			continue;
		if (hrservo_joint_to_ns(j, j->home, &w)) {
			err("%s: joint %s: its home %g%s has no pulse: %s",
			    opt, j->name, j->home, hrservo_unit_name(j->unit),
			    strerror(errno));
			return EXIT_RUNTIME;
		}
		homes++;
		if (skip_on && hrservo_state_enabled(skip_on, j->channel))
			continue;
		hrservo_batch_add(b, j->channel, (uint32_t)lround(w));
	}
	if (!homes) {
		err("%s: no joint of %s in %s has a home position ('servoctl calibrate set %s JOINT=home:POS')",
		    opt, hrservo_name(tp->h), calib_path(), hrservo_name(tp->h));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* --failsafe home: every joint of @h with a home, as a pose. */
static int home_pose(struct teleop *tp, const struct hrservo_calib *c)
{
	tp->pose = hrservo_batch_new();
	if (!tp->pose)
		return EXIT_RUNTIME;
	return homes_add(tp, c, "--failsafe home", NULL, tp->pose);
}

/*
 * --start home, before anything is armed or set: into *@bp, the home of
 * each joint with one whose channel is off (NULL if there is none). 0, or
 * EXIT_RUNTIME with nothing done.
 */
static int start_home_batch(struct teleop *tp, const struct hrservo_calib *c,
			    struct hrservo_batch **bp)
{
	struct hrservo_state *st = hrservo_read_state(tp->h);
	struct hrservo_batch *b = hrservo_batch_new();
	int ret = EXIT_RUNTIME;

	*bp = NULL;
	if (!st || !b) {
		err("%s: %s", hrservo_name(tp->h), strerror(errno));
		goto out;
	}
	ret = homes_add(tp, c, "--start home", st, b);
	if (!ret && hrservo_batch_count(b)) {
		*bp = b;
		b = NULL;
	}
out:
	hrservo_batch_free(b);
	hrservo_state_free(st);
	return ret;
}

/*
 * --start home, armed: the homes in one batch. Latched, the e-stop lets
 * nothing start, and teleop goes on showing it. 0, or -1 (errno) if the
 * batch was refused otherwise: then nothing was set.
 */
static int start_home(struct teleop *tp, const struct hrservo_batch *b)
{
	if (!hrservo_apply(tp->h, b))
		return 0;
	if (errno != EPERM)
		return -1;
	hap_say(tp, "warning",
		"--start home: the e-stop is latched: nothing is started; joints that are off stay off until set");
	return 0;
}

static void say_start(struct teleop *tp, uint32_t period)
{
	struct hap e;

	hap_begin(&e, "start");
	hap_str(&e, "controller", hrservo_name(tp->h));
	hap_str(&e, "map", tp->map);
	hap_int(&e, "period_ns", period);
	hap_int(&e, "watchdog_ms", opt_wd_ms);
	hap_str(&e, "failsafe", fs_name(tp->action));
	hap_str(&e, "start", opt_start_home ? "home" : "where");
	hap_str(&e, "mode", hrservo_teleop_mode(tp->t));
	hap_end(tp, &e);
	for (size_t i = 0; i < tp->n; i++) {
		char msg[320];

		if (tp->tj[i].known)
			continue;
		snprintf(msg, sizeof(msg),
			 "joint %s (channel %u) has no position: not driven until it is set ('servoctl set %s %s=home', 'servoctl move', or teleop --start home with a home for it)",
			 tp->tj[i].j->name, tp->tj[i].j->channel,
			 hrservo_name(tp->h), tp->tj[i].j->name);
		hap_say(tp, "warning", msg);
	}
}

/* The loop: until a signal (0) or the controller is gone (1). */
static int teleop_loop(struct teleop *tp)
{
	struct pollfd f[3] = {
		{ .fd = tp->tfd, .events = POLLIN },
		{ .fd = hrservo_event_fd(tp->h), .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};

	while (!teleop_stop) {
		uint64_t ticks = 0, now;
		bool input = false, tick;
		const char *why = NULL;

		f[2].fd = tp->lost ? -1 : tp->pad.fd;
		if (poll(f, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			err("poll: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		tick = (f[0].revents & POLLIN) &&
		       read(tp->tfd, &ticks, sizeof(ticks)) == sizeof(ticks);
		if (f[2].fd >= 0 && f[2].revents) {
			int n = pad_read(tp, &why);

			if (n < 0 || (!n && (f[2].revents & (POLLHUP | POLLERR)))) {
				/* An e-stop pressed as the pad went: now. */
				unsigned int w = hrservo_teleop_step(tp->t,
								     now_ns());

				if ((w & HRSERVO_TELEOP_ESTOP) &&
				    stepped(tp, HRSERVO_TELEOP_ESTOP))
					goto gone;
				if (pad_lost(tp, why ? why : "hung up"))
					return EXIT_RUNTIME;
			}
			input = n > 0;
		}
		/*
		 * The keep-alive, at every tick while the pad is there, before
		 * anything that prints (a slow terminal or journal must not
		 * starve the watchdog).
		 */
		if (tick && !tp->lost && keepalive(tp))
			goto gone;
		if (f[1].revents && ctrl_events(tp))
			goto gone;
		if (f[1].revents & (POLLHUP | POLLERR))
			goto gone;
		if (tp->resync && resync(tp))
			goto gone;
		now = now_ns();
		/*
		 * A step at every tick (rate mode integrates), and at once
		 * after input: the new target is in the next frame.
		 */
		if ((tick || input) && !tp->lost &&
		    stepped(tp, hrservo_teleop_step(tp->t, now)))
			goto gone;
		if (tp->lost && pad_rescan(tp, now))
			return EXIT_RUNTIME;
		show(tp, now, false);
	}
	return 0;
gone:
	if (errno == ENODEV)
		err("%s: controller removed", hrservo_name(tp->h));
	else
		err("%s: %s", hrservo_name(tp->h), strerror(errno));
	return EXIT_RUNTIME;
}

static int teleop_setup(struct teleop *tp, const char *ctrl,
			struct hrservo_teleop_map **mp)
{
	struct hrservo_calib *c = calib_get(true);
	struct hrservo_batch *home = NULL;
	struct hrservo_estop_info info;
	char msg[2048];
	uint32_t period;
	uint64_t mask;
	int ret;

	if (!c)
		return EXIT_RUNTIME;
	tp->map = map_path();
	if (!tp->map)
		return EXIT_RUNTIME;
	/* The map's errors first: they need no controller. */
	*mp = hrservo_teleop_map_load(tp->map, c, msg, sizeof(msg));
	if (!*mp) {
		err("%s", msg);
		return EXIT_RUNTIME;
	}
	tp->h = open_ctrl(ctrl);
	if (!tp->h)
		return EXIT_RUNTIME;
	tp->t = hrservo_teleop_new(*mp, c);
	tp->b = hrservo_batch_new();
	if (!tp->t || !tp->b) {
		err("%s", strerror(errno));
		return EXIT_RUNTIME;
	}
	ret = teleop_joints(tp, c, &mask);
	if (ret || (ret = joint_limits_check(tp->h, mask)))
		return ret;
	tp->action = !strcmp(opt_failsafe, "release") ? HRSERVO_FS_RELEASE :
		     !strcmp(opt_failsafe, "home") ? HRSERVO_FS_POSE :
		     HRSERVO_FS_HOLD;
	tp->estop_action = tp->action == HRSERVO_FS_RELEASE ?
			   HRSERVO_FS_RELEASE : HRSERVO_FS_HOLD;
	if (tp->action == HRSERVO_FS_POSE && (ret = home_pose(tp, c)))
		return ret;
	if (hrservo_get_frame_period(tp->h, &period, NULL, NULL) ||
	    hrservo_event_fd(tp->h) < 0) {
		err("%s: %s", hrservo_name(tp->h), strerror(errno));
		return EXIT_RUNTIME;
	}
	/* A keep-alive a frame: one late must not trip the watchdog. */
	if ((uint64_t)opt_wd_ms * 1000000 < 2ULL * period) {
		err("--watchdog %u: shorter than two frame periods of %s (2 x %.3g ms): a keep-alive goes out every frame; give %u or more",
		    opt_wd_ms, hrservo_name(tp->h), period / 1e6,
		    (unsigned int)((2ULL * period + 999999) / 1000000));
		return EXIT_USAGE;
	}
	if (pad_find(&tp->pad, msg, sizeof(msg))) {
		err("no gamepad found: %s", msg);
		return EXIT_RUNTIME;
	}
	/* --start home's errors come before anything is armed or set. */
	if (opt_start_home && (ret = start_home_batch(tp, c, &home)))
		return ret;
	tp->resync_all = true;
	if (resync(tp)) {
		err("%s: %s", hrservo_name(tp->h), strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	if (arm(tp, opt_wd_ms)) {
		ret = EXIT_RUNTIME;
		goto out;
	}
	/* Armed first: the homes move nothing that the watchdog misses. */
	if (home && start_home(tp, home)) {
		err("--start home: %s: %s", hrservo_name(tp->h),
		    strerror(errno));
		/* Nothing was set: closing must not run the failsafe. */
		hrservo_watchdog_arm(tp->h, 0, 0, NULL);
		ret = EXIT_RUNTIME;
		goto out;
	}
	/* The homes set are where the joints start. */
	if (home) {
		tp->resync_all = true;
		if (resync(tp)) {
			err("%s: %s", hrservo_name(tp->h), strerror(errno));
			ret = EXIT_RUNTIME;
			goto out;
		}
	}
	say_start(tp, period);
	pad_found(tp);
	if (!hrservo_estop_get(tp->h, &info) && info.latched)
		estop_update(tp, true, info.source == HRSERVO_ESTOP_BY_INPUT ?
			     "input" : "user");
	ret = 0;
out:
	hrservo_batch_free(home);
	return ret;
}

int cmd_teleop(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "map", required_argument, NULL, 'm' },
		{ "watchdog", required_argument, NULL, 'w' },
		{ "failsafe", required_argument, NULL, 'f' },
		{ "start", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = teleop_signal };
	struct hrservo_teleop_map *m = NULL;
	struct teleop tp = { .pad.fd = -1, .tfd = -1 };
	uint32_t period = 0;
	int i, ret;

	i = sub_opts(argc, argv, find_command("teleop"), "d:m:", extra,
		     teleop_opt);
	if (argc - i != 1) {
		err("expects one controller");
		return EXIT_USAGE;
	}
	tp.tty = !opt_json && isatty(STDOUT_FILENO);
	ret = teleop_setup(&tp, argv[i], &m);
	if (ret)
		goto out;
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		sigaction(sigs[k], &sa, NULL);
	hrservo_get_frame_period(tp.h, &period, NULL, NULL);
	tp.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tp.tfd < 0 || ticks_set(tp.tfd, tick_period(period))) {
		err("timerfd: %s", strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	show(&tp, now_ns(), true);
	ret = teleop_loop(&tp);
	if (teleop_stop) {
		struct hap e;
		char sig[32];

		snprintf(sig, sizeof(sig), "SIG%s", sigabbrev_np(teleop_stop) ?
			 sigabbrev_np(teleop_stop) : "?");
		hap_begin(&e, "exit");
		hap_str(&e, "signal", sig);
		hap_str(&e, "failsafe", fs_name(tp.action));
		hap_end(&tp, &e);
		if (tp.tty)
			draw_status(&tp);
	}
out:
	if (tp.tfd >= 0)
		close(tp.tfd);
	pad_close(&tp.pad);
	hrservo_teleop_free(tp.t);
	hrservo_teleop_map_free(m);
	hrservo_batch_free(tp.b);
	hrservo_batch_free(tp.pose);
	/* Closed armed: the kernel runs the failsafe. */
	hrservo_close(tp.h);
	return ret;
}
