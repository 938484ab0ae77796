// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl calibrate: per-servo maps from positions (deg, rad, %) to pulse
 * widths, made interactively (jog) or from the command line (set, points),
 * shown, and applied to a controller as kernel limits. The model and the
 * file are libhrservo's (lib/calib.c); this file is the user interface.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "servoctl.h"

static bool opt_cubic;
static const char *opt_step;

static int calib_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'C':
		opt_cubic = true;
		return 0;
	case 's':
		opt_step = arg;
		return 0;
	}
	return -1;
}

static const struct option calib_opts[] = {
	{ "cubic", no_argument, NULL, 'C' },
	{ "step", required_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 }
};

/* mkdir -p of the file's directory, then the atomic save. */
static int calib_store(struct hrservo_calib *c)
{
	char *copy = strdup(calib_path()), *dir, *p;

	if (!copy)
		return -1;
	dir = dirname(copy);
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0755);
		*p = '/';
	}
	mkdir(dir, 0755);
	free(copy);
	if (hrservo_calib_save(c, calib_path())) {
		err("cannot save %s: %s (the old file is unchanged)",
		    calib_path(), strerror(errno));
		return -1;
	}
	return 0;
}

/* A pulse width in ns from "1500us", "1.5ms"... */
static int pulse_of(const char *s, double *ns)
{
	uint32_t v;

	if (parse_abs_ns(s, &v))
		return -1;
	*ns = v;
	return 0;
}

/* A position "90deg", "-1.2rad", "50%" (sign allowed): value and unit. */
static int position_of(const char *s, double *pos, enum hrservo_unit *u)
{
	struct hrservo_value v;
	const char *p = s;
	int neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (hrservo_value_parse(p, &v) || v.sign ||
	    !(v.unit == HRSERVO_UNIT_DEG || v.unit == HRSERVO_UNIT_RAD ||
	      v.unit == HRSERVO_UNIT_PERCENT))
		return -1;
	*pos = (double)v.nano / 1e9 * (neg ? -1 : 1);
	*u = v.unit;
	return 0;
}

/*
 * The joint of CTRL's channel @chs (a number or a joint name), from @c or
 * a fresh one named CTRL_chN. Returns 0 or an exit status.
 */
static int joint_for(struct hrservo_calib *c, struct hrservo *h,
		     const char *ctrl, const char *chs, struct hrservo_joint *j)
{
	const struct hrservo_joint *old;
	int ch;

	if (isdigit((unsigned char)chs[0])) {
		ch = parse_channel(h, chs);
		if (ch < 0)
			return EXIT_USAGE;
		old = hrservo_calib_find_channel(c, ctrl, (unsigned int)ch);
	} else {
		old = hrservo_calib_find(c, chs);
		if (!old) {
			err("'%s' is neither a channel number nor a joint of %s",
			    chs, calib_path());
			return EXIT_USAGE;
		}
		ch = (int)old->channel;
	}
	if (old) {
		*j = *old;
		return 0;
	}
	memset(j, 0, sizeof(*j));
	snprintf(j->name, sizeof(j->name), "%s_ch%d", ctrl, ch);
	for (char *p = j->name; *p; p++)
		if (!isalnum((unsigned char)*p))
			*p = '_';
	snprintf(j->controller, sizeof(j->controller), "%s", ctrl);
	j->channel = (unsigned int)ch;
	j->unit = HRSERVO_UNIT_DEG;
	return 0;
}

/*
 * Split "CH=REST" and find or make CH's joint; *@rest is REST. Returns 0
 * or an exit status.
 */
static int joint_arg(struct hrservo_calib *c, struct hrservo *h,
		     const char *ctrl, char *arg, const char *example,
		     struct hrservo_joint *j, char **rest)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		err("'%s': expected %s", arg, example);
		return EXIT_USAGE;
	}
	*eq = '\0';
	*rest = eq + 1;
	return joint_for(c, h, ctrl, arg, j);
}

/* Points from min/center/max pulses over a position range. */
static void three_points(struct hrservo_joint *j, double range, double lo_ns,
			 double mid_ns, double hi_ns, bool has_mid)
{
	double start = j->unit == HRSERVO_UNIT_PERCENT ? 0 : -range / 2;

	j->npoints = 0;
	j->pos[j->npoints] = start;
	j->pulse_ns[j->npoints++] = lo_ns;
	if (has_mid) {
		j->pos[j->npoints] = start + range / 2;
		j->pulse_ns[j->npoints++] = mid_ns;
	}
	j->pos[j->npoints] = start + range;
	j->pulse_ns[j->npoints++] = hi_ns;
	j->min = j->pos[0];
	j->max = j->pos[j->npoints - 1];
}

/*
 * One CH=KEY:VALUE,... of 'calibrate set'. Keys: name, min, center, max
 * (pulses), range (span, default 180deg), invert, trim, lo, hi (soft
 * limits), home, speed, accel (per second, in the unit).
 */
static int set_one(struct hrservo_calib *c, struct hrservo *h,
		   const char *ctrl, char *arg)
{
	double lo = NAN, mid = NAN, hi = NAN, range = 180;
	char *rest, *save, *tok, msg[384];
	struct hrservo_joint j;
	enum hrservo_unit ru = HRSERVO_UNIT_DEG;
	bool lim_lo = false, lim_hi = false, unit_given = false;
	double soft_lo = 0, soft_hi = 0;
	int ret;

	ret = joint_arg(c, h, ctrl, arg,
			"CH=KEY:VALUE,... e.g. 0=min:1000us,center:1500us,max:2000us",
			&j, &rest);
	if (ret)
		return ret;
	for (tok = strtok_r(rest, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':'), *val;
		enum hrservo_unit u;
		double d;

		if (!colon) {
			err("channel %u: '%s' is not KEY:VALUE", j.channel, tok);
			return EXIT_USAGE;
		}
		*colon = '\0';
		val = colon + 1;
		if (!strcmp(tok, "name")) {
			snprintf(j.name, sizeof(j.name), "%s", val);
		} else if (!strcmp(tok, "min") || !strcmp(tok, "center") ||
			   !strcmp(tok, "max") || !strcmp(tok, "trim")) {
			bool trim = !strcmp(tok, "trim");
			const char *v = val + (trim && (*val == '-' || *val == '+'));

			if (pulse_of(v, &d)) {
				err("channel %u: %s: '%s' is not a pulse width (e.g. 1500us)",
				    j.channel, tok, val);
				return EXIT_USAGE;
			}
			if (trim)
				j.trim_ns = *val == '-' ? -d : d;
			else if (!strcmp(tok, "min"))
				lo = d;
			else if (!strcmp(tok, "center"))
				mid = d;
			else
				hi = d;
		} else if (!strcmp(tok, "invert")) {
			if (strcmp(val, "yes") && strcmp(val, "no")) {
				err("channel %u: invert: '%s' is not yes or no",
				    j.channel, val);
				return EXIT_USAGE;
			}
			j.invert = !strcmp(val, "yes");
		} else {
			if (position_of(val, &d, &u)) {
				err("channel %u: %s: '%s' is not a position (e.g. 90deg, 1.5rad, 50%%)",
				    j.channel, tok, val);
				return EXIT_USAGE;
			}
			if (!strcmp(tok, "range")) {
				range = d;
				ru = u;
				unit_given = true;
				continue;
			}
			if (unit_given || j.npoints) {
				enum hrservo_unit want = unit_given ? ru : j.unit;

				if (u != want) {
					err("channel %u: %s: unit mismatch: '%s', the joint is in %s",
					    j.channel, tok, val,
					    hrservo_unit_name(want));
					return EXIT_USAGE;
				}
			}
			ru = u;
			unit_given = true;
			if (!strcmp(tok, "lo")) {
				soft_lo = d;
				lim_lo = true;
			} else if (!strcmp(tok, "hi")) {
				soft_hi = d;
				lim_hi = true;
			} else if (!strcmp(tok, "home")) {
				j.home = d;
				j.has_home = true;
			} else if (!strcmp(tok, "speed")) {
				j.max_speed = d;
			} else if (!strcmp(tok, "accel")) {
				j.max_accel = d;
			} else {
				err("channel %u: unknown key '%s' (name, min, center, max, range, invert, trim, lo, hi, home, speed, accel)",
				    j.channel, tok);
				return EXIT_USAGE;
			}
		}
	}
	if (unit_given)
		j.unit = ru;
	if (!isnan(lo) || !isnan(hi) || !isnan(mid)) {
		if (isnan(lo) || isnan(hi)) {
			err("channel %u: min and max go together", j.channel);
			return EXIT_USAGE;
		}
		if (!(range > 0)) {
			err("channel %u: range must be positive", j.channel);
			return EXIT_USAGE;
		}
		three_points(&j, range, lo, mid, hi, !isnan(mid));
	}
	if (!j.npoints) {
		err("channel %u: no map yet: give min and max (and center)",
		    j.channel);
		return EXIT_USAGE;
	}
	if (lim_lo)
		j.min = soft_lo;
	if (lim_hi)
		j.max = soft_hi;
	if (hrservo_calib_put(c, &j, msg, sizeof(msg))) {
		err("%s (nothing saved)", msg);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* One CH=POS:PULSE,... of 'calibrate points' (and name:NAME). */
static int points_one(struct hrservo_calib *c, struct hrservo *h,
		      const char *ctrl, char *arg)
{
	char *rest, *save, *tok, msg[384];
	struct hrservo_joint j;
	unsigned int n = 0;
	int ret;

	ret = joint_arg(c, h, ctrl, arg,
			"CH=POS:PULSE,... e.g. 0=0deg:1010us,90deg:1490us",
			&j, &rest);
	if (ret)
		return ret;
	for (tok = strtok_r(rest, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		enum hrservo_unit u;
		double pos, ns;

		if (colon && !strncmp(tok, "name:", 5)) {
			snprintf(j.name, sizeof(j.name), "%s", colon + 1);
			continue;
		}
		if (!colon) {
			err("channel %u: '%s' is not POSITION:PULSE", j.channel,
			    tok);
			return EXIT_USAGE;
		}
		*colon = '\0';
		if (position_of(tok, &pos, &u) || pulse_of(colon + 1, &ns)) {
			err("channel %u: '%s:%s' is not POSITION:PULSE (e.g. 90deg:1490us)",
			    j.channel, tok, colon + 1);
			return EXIT_USAGE;
		}
		if (n && u != j.unit) {
			err("channel %u: unit mismatch: %s after %s", j.channel,
			    hrservo_unit_name(u), hrservo_unit_name(j.unit));
			return EXIT_USAGE;
		}
		if (n == HRSERVO_MAP_POINTS_MAX) {
			err("channel %u: more than %d points", j.channel,
			    HRSERVO_MAP_POINTS_MAX);
			return EXIT_USAGE;
		}
		j.unit = u;
		j.pos[n] = pos;
		j.pulse_ns[n++] = ns;
	}
	if (n < 2) {
		err("channel %u: needs at least 2 points", j.channel);
		return EXIT_USAGE;
	}
	j.npoints = n;
	j.min = j.pos[0];
	j.max = j.pos[n - 1];
	if (j.has_home && (j.home < j.min || j.home > j.max))
		j.has_home = false;
	j.map = opt_cubic ? HRSERVO_MAP_CUBIC : HRSERVO_MAP_LINEAR;
	if (hrservo_calib_put(c, &j, msg, sizeof(msg))) {
		err("%s (nothing saved)", msg);
		return EXIT_RUNTIME;
	}
	return 0;
}

static int cal_change(int argc, char **argv,
		      int (*one)(struct hrservo_calib *, struct hrservo *,
				 const char *, char *))
{
	struct hrservo_calib *c;
	struct hrservo *h;
	int ret = 0;

	if (argc < 2) {
		err("expects a controller and CH=... arguments");
		return EXIT_USAGE;
	}
	h = open_ctrl(argv[0]);
	if (!h)
		return EXIT_RUNTIME;
	c = calib_get(false);
	if (!c) {
		hrservo_close(h);
		return EXIT_RUNTIME;
	}
	for (int i = 1; i < argc && !ret; i++)
		ret = one(c, h, argv[0], argv[i]);
	if (!ret && calib_store(c))
		ret = EXIT_RUNTIME;
	hrservo_close(h);
	return ret;
}

static void fmt_pos(char *buf, size_t size, double v,
		    const struct hrservo_joint *j)
{
	snprintf(buf, size, "%g%s", v, hrservo_unit_name(j->unit));
}

static json_object *joint_json(const struct hrservo_joint *j)
{
	json_object *o = json_object_new_object(), *pts = json_object_new_array();
	struct hrservo_limits_ns l;

	json_object_object_add(o, "joint", json_object_new_string(j->name));
	json_object_object_add(o, "controller",
			       json_object_new_string(j->controller));
	json_object_object_add(o, "channel", json_object_new_int((int)j->channel));
	json_object_object_add(o, "unit",
			       json_object_new_string(hrservo_unit_name(j->unit)));
	for (unsigned int k = 0; k < j->npoints; k++) {
		json_object *p = json_object_new_array();

		json_object_array_add(p, json_object_new_double(j->pos[k]));
		json_object_array_add(p, json_object_new_double(j->pulse_ns[k]));
		json_object_array_add(pts, p);
	}
	json_object_object_add(o, "map", pts);
	json_object_object_add(o, "interp", json_object_new_string(
		j->map == HRSERVO_MAP_CUBIC ? "cubic" : "linear"));
	json_object_object_add(o, "invert", json_object_new_boolean(j->invert));
	json_object_object_add(o, "trim_ns", json_object_new_double(j->trim_ns));
	json_object_object_add(o, "min", json_object_new_double(j->min));
	json_object_object_add(o, "max", json_object_new_double(j->max));
	if (j->has_home)
		json_object_object_add(o, "home", json_object_new_double(j->home));
	json_object_object_add(o, "max_speed",
			       json_object_new_double(j->max_speed));
	json_object_object_add(o, "max_accel",
			       json_object_new_double(j->max_accel));
	if (!hrservo_joint_kernel_limits(j, &l)) {
		json_object_object_add(o, "min_ns", json_object_new_int64(l.min_ns));
		json_object_object_add(o, "max_ns", json_object_new_int64(l.max_ns));
	}
	return o;
}

static int cal_show(int argc, char **argv)
{
	struct hrservo_calib *c = calib_get(true);
	json_object *arr = opt_json ? json_object_new_array() : NULL;
	char canon[80];
	unsigned int shown = 0;

	if (!c)
		return EXIT_RUNTIME;
	if (argc > 1) {
		err("expects at most one controller");
		return EXIT_USAGE;
	}
	if (argc == 1) {
		/* Any spelling of the controller, or its alias. */
		struct hrservo *h = open_ctrl(argv[0]);

		if (!h)
			return EXIT_RUNTIME;
		snprintf(canon, sizeof(canon), "%s", hrservo_name(h));
		hrservo_close(h);
	}
	if (!opt_json)
		printf("%-16s %-10s %3s %-5s %-21s %-21s %s\n", "JOINT", "CTRL",
		       "CH", "UNIT", "SOFT LIMITS", "PULSES", "MAP");
	for (unsigned int i = 0; i < hrservo_calib_count(c); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(c, i);
		struct hrservo_limits_ns l;
		char a[40], b[40], lim[96], pul[64], x[24], y[24];

		if (argc == 1 &&
		    hrservo_calib_find_channel(c, canon, j->channel) != j)
			continue;
		shown++;
		if (opt_json) {
			json_object_array_add(arr, joint_json(j));
			continue;
		}
		fmt_pos(a, sizeof(a), j->min, j);
		fmt_pos(b, sizeof(b), j->max, j);
		snprintf(lim, sizeof(lim), "%s..%s", a, b);
		if (hrservo_joint_kernel_limits(j, &l))
			snprintf(pul, sizeof(pul), "-");
		else
			snprintf(pul, sizeof(pul), "%s..%s", fmt_ns(l.min_ns, x),
				 fmt_ns(l.max_ns, y));
		printf("%-16s %-10s %3u %-5s %-21s %-21s %s", j->name,
		       j->controller, j->channel, hrservo_unit_name(j->unit),
		       lim, pul, j->map == HRSERVO_MAP_CUBIC ? "cubic" : "linear");
		for (unsigned int k = 0; k < j->npoints; k++) {
			fmt_pos(a, sizeof(a), j->pos[k], j);
			printf(" %s:%s", a,
			       fmt_ns((uint32_t)lround(j->pulse_ns[k]), x));
		}
		if (j->invert)
			printf(" invert");
		if (j->trim_ns)
			printf(" trim=%gus", j->trim_ns / 1e3);
		if (j->has_home) {
			fmt_pos(a, sizeof(a), j->home, j);
			printf(" home=%s", a);
		}
		if (j->max_speed)
			printf(" speed=%g%s/s", j->max_speed,
			       hrservo_unit_name(j->unit));
		if (j->max_accel)
			printf(" accel=%g%s/s2", j->max_accel,
			       hrservo_unit_name(j->unit));
		putchar('\n');
	}
	if (opt_json)
		put_json(arr);
	if (argc == 1 && !shown)
		err("%s: no joint in %s", argv[0], calib_path());
	return 0;
}

/* Derived kernel limits of every joint of CTRL, all or none. */
static int cal_apply(int argc, char **argv)
{
	struct {
		unsigned int ch;
		struct hrservo_limits_ns l;
		uint32_t old_min, old_max, old_v, old_a;
		const char *name;
	} set[HRSERVO_MAX_CHANNELS];
	struct hrservo_calib *c = calib_get(true);
	struct hrservo *h;
	unsigned int n = 0, i;
	int ret = 0;

	if (!c)
		return EXIT_RUNTIME;
	if (argc != 1) {
		err("expects one controller");
		return EXIT_USAGE;
	}
	h = open_ctrl(argv[0]);
	if (!h)
		return EXIT_RUNTIME;
	for (i = 0; i < hrservo_calib_count(c); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(c, i);

		if (hrservo_calib_find_channel(c, hrservo_name(h), j->channel) != j)
			continue;
		if (j->channel >= hrservo_num_channels(h)) {
			err("joint %s: channel %u: %s has %u channels (nothing applied)",
			    j->name, j->channel, hrservo_name(h),
			    hrservo_num_channels(h));
			ret = EXIT_RUNTIME;
			goto out;
		}
		set[n].ch = j->channel;
		set[n].name = j->name;
		if (hrservo_joint_kernel_limits(j, &set[n].l) ||
		    hrservo_get_limits(h, j->channel, &set[n].old_min,
				       &set[n].old_max) ||
		    hrservo_get_motion_limits(h, j->channel, &set[n].old_v,
					      &set[n].old_a)) {
			err("joint %s: %s (nothing applied)", j->name,
			    strerror(errno));
			ret = EXIT_RUNTIME;
			goto out;
		}
		n++;
	}
	if (!n) {
		err("%s: no joint in %s", argv[0], calib_path());
		ret = EXIT_RUNTIME;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (hrservo_set_limits(h, set[i].ch, set[i].l.min_ns,
				       set[i].l.max_ns) ||
		    hrservo_set_motion_limits(h, set[i].ch,
					      set[i].l.max_speed_ns_per_s,
					      set[i].l.max_accel_ns_per_s2)) {
			char a[24], b[24];

			err("joint %s: limits %s..%s: %s (nothing applied)",
			    set[i].name, fmt_ns(set[i].l.min_ns, a),
			    fmt_ns(set[i].l.max_ns, b),
			    errno == EBUSY ? "its target lies outside; move it inside first" :
			    strerror(errno));
			/* Undo this one and the ones before. */
			for (unsigned int k = 0; k <= i; k++) {
				hrservo_set_limits(h, set[k].ch, set[k].old_min,
						   set[k].old_max);
				hrservo_set_motion_limits(h, set[k].ch,
							  set[k].old_v,
							  set[k].old_a);
			}
			ret = EXIT_RUNTIME;
			goto out;
		}
	}
	for (i = 0; i < n && !opt_json; i++) {
		char a[24], b[24];

		printf("%s (channel %u): %s..%s", set[i].name, set[i].ch,
		       fmt_ns(set[i].l.min_ns, a), fmt_ns(set[i].l.max_ns, b));
		if (set[i].l.max_speed_ns_per_s)
			printf(", speed %u ns/s", set[i].l.max_speed_ns_per_s);
		if (set[i].l.max_accel_ns_per_s2)
			printf(", accel %u ns/s2", set[i].l.max_accel_ns_per_s2);
		putchar('\n');
	}
out:
	hrservo_close(h);
	return ret;
}

/* ---- jog ---- */

static struct termios jog_saved;
static bool jog_raw;
static volatile sig_atomic_t jog_stop;

static void jog_restore(void)
{
	if (jog_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &jog_saved);
	jog_raw = false;
}

static void jog_signal(int sig)
{
	(void)sig;
	jog_stop = 1;
}

struct jog_state {
	uint32_t pulse;
	double mark[3];			/* min, center, max; NAN if unset */
	unsigned int npoints;
	double pos[HRSERVO_MAP_POINTS_MAX];
	double pulse_at[HRSERVO_MAP_POINTS_MAX];
};

static const unsigned int jog_steps[] = { 1, 5, 10, 50, 100 };

static void jog_draw(const struct hrservo_joint *j, const struct jog_state *s,
		     unsigned int step, const char *ctrl, uint32_t effect,
		     const char *msg)
{
	static const char *const names[] = { "min", "center", "max" };
	char a[24], b[24];

	printf("\033[H\033[J");
	printf("servoctl calibrate jog: %s channel %u, joint %s\r\n\r\n", ctrl,
	       j->channel, j->name);
	printf("  pulse  %s   (in effect: %s)\r\n", fmt_ns(s->pulse, a),
	       effect ? fmt_ns(effect, b) : "-");
	printf("  step   %uus\r\n", jog_steps[step]);
	printf("  marks ");
	for (int i = 0; i < 3; i++)
		printf(" %s=%s", names[i],
		       isnan(s->mark[i]) ? "-" :
		       fmt_ns((uint32_t)s->mark[i], a));
	printf("\r\n  points");
	for (unsigned int k = 0; k < s->npoints; k++)
		printf(" %g:%s", s->pos[k], fmt_ns((uint32_t)s->pulse_at[k], a));
	printf("%s\r\n\r\n", s->npoints ? "" : " -");
	printf("  arrows jog   +/- step   [ min   c center   ] max   p point at a position\r\n");
	printf("  u undo   s save   q quit (releases the servo)\r\n\r\n");
	printf("  %s\r\n", msg);
	fflush(stdout);
}

/*
 * Read a key within @timeout_ms (-1: no limit); arrows come as ESC [ A..D.
 * Returns the key, 'U'/'D' for the arrows, 0 on timeout, -1 at the end.
 */
static int jog_key(int timeout_ms)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char c, seq[2];
	int n = poll(&p, 1, timeout_ms);

	if (n == 0 || (n < 0 && errno == EINTR && !jog_stop))
		return 0;
	if (n < 0 || read(STDIN_FILENO, &c, 1) != 1)
		return -1;
	if (c != 27)
		return c;
	if (poll(&p, 1, 50) <= 0 || read(STDIN_FILENO, &seq[0], 1) != 1)
		return 27;
	if (poll(&p, 1, 50) <= 0 || read(STDIN_FILENO, &seq[1], 1) != 1)
		return 27;
	if (seq[0] == '[' && (seq[1] == 'A' || seq[1] == 'C'))
		return 'U';
	if (seq[0] == '[' && (seq[1] == 'B' || seq[1] == 'D'))
		return 'D';
	return 0;
}

/* A line typed in raw mode, for the position of a point. */
static int jog_line(char *buf, size_t size)
{
	size_t n = 0;
	int k;

	while ((k = jog_key(-1)) != -1) {
		if (k == '\r' || k == '\n') {
			buf[n] = '\0';
			return 0;
		}
		if (k == 27 || k == 3)
			return -1;
		if ((k == 127 || k == 8) && n) {
			n--;
			printf("\b \b");
		} else if (isprint(k) && n + 1 < size) {
			buf[n++] = (char)k;
			putchar(k);
		}
		fflush(stdout);
	}
	return -1;
}

/* The joint from the marks or the points; 0, or -1 with @msg set. */
static int jog_joint(struct hrservo_joint *j, const struct jog_state *s,
		     char *msg, size_t size)
{
	if (s->npoints >= 2) {
		j->npoints = 0;
		for (unsigned int k = 0; k < s->npoints; k++) {
			j->pos[k] = s->pos[k];
			j->pulse_ns[k] = s->pulse_at[k];
		}
		j->npoints = s->npoints;
		j->min = j->pos[0];
		j->max = j->pos[j->npoints - 1];
		return 0;
	}
	if (isnan(s->mark[0]) || isnan(s->mark[2])) {
		snprintf(msg, size, "mark min and max (or two points) first");
		return -1;
	}
	three_points(j, j->unit == HRSERVO_UNIT_RAD ? M_PI :
		     j->unit == HRSERVO_UNIT_PERCENT ? 100 : 180,
		     s->mark[0], s->mark[1], s->mark[2], !isnan(s->mark[1]));
	return 0;
}

static int cal_jog(int argc, char **argv)
{
	struct hrservo_calib *c = NULL;
	struct jog_state hist[256], s;
	struct hrservo_joint j;
	struct sigaction sa = { .sa_handler = jog_signal };
	struct termios raw;
	struct hrservo *h;
	unsigned int nhist = 0, step = 2;
	uint32_t applied = 0;
	char msg[512] = "ready";
	uint32_t mn, mx;
	int ret = 0, ch;

	if (argc != 2) {
		err("expects a controller and a channel");
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		err("jog needs a terminal; use 'calibrate set' or 'points' in scripts");
		return EXIT_USAGE;
	}
	if (opt_step) {
		double ns;

		if (pulse_of(opt_step, &ns)) {
			err("--step: '%s' is not a width (1us, 5us, 10us, 50us, 100us)",
			    opt_step);
			return EXIT_USAGE;
		}
		for (step = 0; step + 1 < 5 && jog_steps[step] * 1000.0 < ns;
		     step++)
			;
	}
	h = open_ctrl(argv[0]);
	if (!h)
		return EXIT_RUNTIME;
	c = calib_get(false);
	if (!c) {
		ret = EXIT_RUNTIME;
		goto out;
	}
	ret = joint_for(c, h, argv[0], argv[1], &j);
	if (ret)
		goto out;
	ch = (int)j.channel;
	if (hrservo_get_limits(h, (unsigned int)ch, &mn, &mx)) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	{
		struct hrservo_state *st = hrservo_read_state(h);

		s.pulse = st ? hrservo_state_target_ns(st, (unsigned int)ch) : 0;
		hrservo_state_free(st);
	}
	if (!s.pulse)
		s.pulse = (mn + mx) / 2;
	s.mark[0] = s.mark[1] = s.mark[2] = NAN;
	s.npoints = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	tcgetattr(STDIN_FILENO, &jog_saved);
	raw = jog_saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
	raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	jog_raw = true;
	atexit(jog_restore);

	while (!jog_stop) {
		struct jog_state before = s;
		uint32_t want = s.pulse;
		char a[24], line[32];
		int k;

		struct hrservo_state *st;
		uint32_t effect = 0;

		if (s.pulse != applied) {
			applied = s.pulse;
			if (hrservo_set_target(h, (unsigned int)ch, s.pulse))
				snprintf(msg, sizeof(msg), "cannot set %s: %s",
					 fmt_ns(s.pulse, a), strerror(errno));
		}
		/* The width the hardware makes now, redrawn 10 times a second. */
		st = hrservo_read_state(h);
		if (st)
			effect = hrservo_state_pulse_ns(st, (unsigned int)ch);
		hrservo_state_free(st);
		jog_draw(&j, &s, step, argv[0], effect, msg);
		k = jog_key(100);
		if (k == -1 || k == 'q' || k == 3)
			break;
		if (k == 0)
			continue;
		msg[0] = '\0';
		switch (k) {
		case 'U':
		case 'D':
			want = k == 'U' ? s.pulse + jog_steps[step] * 1000 :
					  s.pulse - jog_steps[step] * 1000;
			if (want > mx || want < mn || (k == 'D' && want > s.pulse)) {
				want = k == 'U' ? mx : mn;
				snprintf(msg, sizeof(msg), "at the %s limit %s",
					 k == 'U' ? "max" : "min",
					 fmt_ns(want, a));
			}
			s.pulse = want;
			break;
		case '+':
		case '=':
			step += step + 1 < 5;
			break;
		case '-':
			step -= step > 0;
			break;
		case '[':
		case 'c':
		case ']':
			s.mark[k == '[' ? 0 : k == 'c' ? 1 : 2] = s.pulse;
			snprintf(msg, sizeof(msg), "%s marked at %s",
				 k == '[' ? "min" : k == 'c' ? "center" : "max",
				 fmt_ns(s.pulse, a));
			break;
		case 'p': {
			enum hrservo_unit u;
			double pos;

			printf("  position of this point (e.g. 90deg): ");
			fflush(stdout);
			if (jog_line(line, sizeof(line)) ||
			    position_of(line, &pos, &u)) {
				snprintf(msg, sizeof(msg), "not a position: no point added");
				break;
			}
			if (s.npoints && u != j.unit) {
				snprintf(msg, sizeof(msg), "unit mismatch: the points are in %s",
					 hrservo_unit_name(j.unit));
				break;
			}
			if (s.npoints == HRSERVO_MAP_POINTS_MAX) {
				snprintf(msg, sizeof(msg), "%d points at most",
					 HRSERVO_MAP_POINTS_MAX);
				break;
			}
			j.unit = u;
			/* Keep the points sorted by position. */
			{
				unsigned int at = s.npoints;

				while (at && s.pos[at - 1] > pos) {
					s.pos[at] = s.pos[at - 1];
					s.pulse_at[at] = s.pulse_at[at - 1];
					at--;
				}
				s.pos[at] = pos;
				s.pulse_at[at] = s.pulse;
				s.npoints++;
			}
			snprintf(msg, sizeof(msg), "point %g%s at %s", pos,
				 hrservo_unit_name(u), fmt_ns(s.pulse, a));
			break;
		}
		case 'u':
			if (nhist) {
				s = hist[--nhist];
				snprintf(msg, sizeof(msg), "undone");
			} else {
				snprintf(msg, sizeof(msg), "nothing to undo");
			}
			continue;
		case 's': {
			char e[384];

			if (jog_joint(&j, &s, msg, sizeof(msg)))
				break;
			j.map = opt_cubic ? HRSERVO_MAP_CUBIC : HRSERVO_MAP_LINEAR;
			if (j.has_home && (j.home < j.min || j.home > j.max))
				j.has_home = false;
			if (hrservo_calib_put(c, &j, e, sizeof(e))) {
				snprintf(msg, sizeof(msg), "not saved: %s", e);
				break;
			}
			jog_restore();
			if (calib_store(c)) {
				snprintf(msg, sizeof(msg), "not saved");
			} else {
				snprintf(msg, sizeof(msg), "saved to %s",
					 calib_path());
			}
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
			jog_raw = true;
			break;
		}
		default:
			snprintf(msg, sizeof(msg), "unknown key");
			break;
		}
		if (memcmp(&before, &s, sizeof(s)) && nhist < 256)
			hist[nhist++] = before;
	}
	/* The safe way out: the servo goes limp. */
	jog_restore();
	hrservo_release(h, 1ULL << ch);
	printf("\r\nchannel %d released\n", ch);
out:
	hrservo_close(h);
	return ret;
}

int cmd_calibrate(int argc, char **argv)
{
	const struct command *c = find_command("calibrate");
	int i = sub_opts(argc, argv, c, "Cs:", calib_opts, calib_opt);
	const char *sub;

	if (i >= argc) {
		err("expects set, points, show, apply or jog (see --help)");
		return EXIT_USAGE;
	}
	sub = argv[i++];
	if (!strcmp(sub, "set"))
		return cal_change(argc - i, argv + i, set_one);
	if (!strcmp(sub, "points"))
		return cal_change(argc - i, argv + i, points_one);
	if (!strcmp(sub, "show"))
		return cal_show(argc - i, argv + i);
	if (!strcmp(sub, "apply"))
		return cal_apply(argc - i, argv + i);
	if (!strcmp(sub, "jog"))
		return cal_jog(argc - i, argv + i);
	err("unknown subcommand '%s' (set, points, show, apply, jog)", sub);
	return EXIT_USAGE;
}
