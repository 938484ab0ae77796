// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl calibrate: per-servo maps from positions (deg, rad, %) to pulse
 * widths, made interactively (jog, in cmd-jog.c) or from the command line
 * (set, points), shown, and applied to a controller as kernel limits. The
 * model, the file and the apply are libhrservo's (lib/calib.c); this file
 * is the user interface.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "servoctl.h"

static bool opt_cubic;
static const char *opt_step, *opt_from;

static int calib_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'C':
		opt_cubic = true;
		return 0;
	case 's':
		opt_step = arg;
		return 0;
	case 'F':
		opt_from = arg;
		return 0;
	}
	return -1;
}

static const struct option calib_opts[] = {
	{ "cubic", no_argument, NULL, 'C' },
	{ "step", required_argument, NULL, 's' },
	{ "from", required_argument, NULL, 'F' },
	{ NULL, 0, NULL, 0 }
};

int calib_store(struct hrservo_calib *c)
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

int pulse_of(const char *s, double *ns)
{
	uint32_t v;

	if (parse_abs_ns(s, &v))
		return -1;
	*ns = v;
	return 0;
}

/*
 * Past a leading sign of @s that belongs to the value ("-45deg" is a
 * position, not a step down): *@neg says whether it was '-'.
 */
static const char *skip_sign(const char *s, bool *neg)
{
	*neg = *s == '-';
	return s + (*s == '-' || *s == '+');
}

int position_of(const char *s, double *pos, enum hrservo_unit *u)
{
	struct hrservo_value v;
	bool neg;
	const char *p = skip_sign(s, &neg);

	/* One sign: "--90deg" is not +90deg. */
	if (*p == '-' || *p == '+' || hrservo_value_parse(p, &v) || v.sign ||
	    !(v.unit == HRSERVO_UNIT_DEG || v.unit == HRSERVO_UNIT_RAD ||
	      v.unit == HRSERVO_UNIT_PERCENT))
		return -1;
	*pos = (double)v.nano / 1e9 * (neg ? -1 : 1);
	*u = v.unit;
	return 0;
}

int joint_for(struct hrservo_calib *c, struct hrservo *h, const char *ctrl,
	      const char *chs, struct hrservo_joint *j)
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

double joint_default_range(enum hrservo_unit u)
{
	return u == HRSERVO_UNIT_RAD ? M_PI : u == HRSERVO_UNIT_PERCENT ? 100 : 180;
}

/* Append "; " and a formatted part to @note. */
static void note_add(char *note, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note_add(char *note, size_t size, const char *fmt, ...)
{
	size_t len = strlen(note);
	va_list ap;

	if (len && len + 2 < size) {
		snprintf(note + len, size - len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(note + len, size - len, fmt, ap);
	va_end(ap);
}

int joint_remap(struct hrservo_joint *j, const double *pos,
		const double *pulse_ns, unsigned int n, enum hrservo_unit unit,
		char *note, size_t size)
{
	const struct hrservo_joint old = *j;
	const char *u = hrservo_unit_name(unit);
	bool had = old.npoints >= 2 && old.npoints <= HRSERVO_MAP_POINTS_MAX;
	double lo, hi;

	note[0] = '\0';
	if (n < 2 || n > HRSERVO_MAP_POINTS_MAX) {
		snprintf(note, size, "a map needs 2 to %d points, not %u",
			 HRSERVO_MAP_POINTS_MAX, n);
		return -1;
	}
	for (unsigned int k = 0; k < n; k++) {
		j->pos[k] = pos[k];
		j->pulse_ns[k] = pulse_ns[k];
	}
	j->npoints = n;
	j->unit = unit;
	lo = pos[0];
	hi = pos[n - 1];
	if (!had) {
		j->min = lo;
		j->max = hi;
		if (j->has_home && (j->home < lo || j->home > hi))
			j->has_home = false;
		return 0;
	}
	if (old.unit != unit) {
		/* Limits, home, speed and accel were in the old unit. */
		j->min = lo;
		j->max = hi;
		j->has_home = false;
		j->max_speed = j->max_accel = 0;
		note_add(note, size, "the unit changed from %s to %s: soft limits, home, speed and accel reset",
			 hrservo_unit_name(old.unit), u);
		return 0;
	}
	/* Limits at the old map's ends meant "the whole map". */
	j->min = old.min <= old.pos[0] ? lo : old.min;
	j->max = old.max >= old.pos[old.npoints - 1] ? hi : old.max;
	if (j->min < lo || j->min >= hi) {
		note_add(note, size, "soft min %g%s is outside the new map: now %g%s",
			 j->min, u, lo, u);
		j->min = lo;
	}
	if (j->max > hi || j->max <= lo) {
		note_add(note, size, "soft max %g%s is outside the new map: now %g%s",
			 j->max, u, hi, u);
		j->max = hi;
	}
	if (j->min >= j->max) {
		note_add(note, size, "soft limits reset to the map, %g%s..%g%s",
			 lo, u, hi, u);
		j->min = lo;
		j->max = hi;
	}
	if (j->has_home && (j->home < j->min || j->home > j->max)) {
		note_add(note, size, "home %g%s is outside the soft limits: dropped",
			 j->home, u);
		j->has_home = false;
	}
	return 0;
}

/* "joint elbow" for a joint on file, "channel 3" for a fresh one. */
static const char *label(const struct hrservo_joint *j, char *buf,
			 size_t size)
{
	if (j->npoints)
		snprintf(buf, size, "joint %s", j->name);
	else
		snprintf(buf, size, "channel %u", j->channel);
	return buf;
}

/*
 * One CH=KEY:VALUE,... of 'calibrate set'. Keys: name, min, center, max
 * (pulses), range (span, default 180deg), invert, trim, lo, hi (soft
 * limits), home, speed, accel (per second, in the unit). An existing joint
 * keeps what the keys do not change: new min/max pulses make a new map
 * over its range (unless range is given), its soft limits and home stay.
 */
static int set_one(struct hrservo_calib *c, struct hrservo *h,
		   const char *ctrl, char *arg)
{
	double lo = NAN, mid = NAN, hi = NAN, range = NAN;
	char *rest, *save, *tok, msg[384], who[48];
	struct hrservo_joint j;
	enum hrservo_unit ru = HRSERVO_UNIT_DEG;
	bool lim_lo = false, lim_hi = false, unit_given = false;
	bool home_given = false, speed_given = false, accel_given = false;
	double soft_lo = 0, soft_hi = 0, home = 0, speed = 0, accel = 0;
	int ret;

	ret = joint_arg(c, h, ctrl, arg,
			"CH=KEY:VALUE,... e.g. 0=min:1000us,center:1500us,max:2000us",
			&j, &rest);
	if (ret)
		return ret;
	label(&j, who, sizeof(who));
	for (tok = strtok_r(rest, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':'), *val;
		enum hrservo_unit u;
		double d;

		if (!colon) {
			err("%s: '%s' is not KEY:VALUE", who, tok);
			return EXIT_USAGE;
		}
		*colon = '\0';
		val = colon + 1;
		if (!strcmp(tok, "name")) {
			snprintf(j.name, sizeof(j.name), "%s", val);
		} else if (!strcmp(tok, "min") || !strcmp(tok, "center") ||
			   !strcmp(tok, "max") || !strcmp(tok, "trim")) {
			bool trim = !strcmp(tok, "trim"), neg = false;
			const char *v = trim ? skip_sign(val, &neg) : val;

			if (pulse_of(v, &d)) {
				err("%s: %s: '%s' is not a pulse width (e.g. 1500us)",
				    who, tok, val);
				return EXIT_USAGE;
			}
			if (trim)
				j.trim_ns = neg ? -d : d;
			else if (!strcmp(tok, "min"))
				lo = d;
			else if (!strcmp(tok, "center"))
				mid = d;
			else
				hi = d;
		} else if (!strcmp(tok, "invert")) {
			if (strcmp(val, "yes") && strcmp(val, "no")) {
				err("%s: invert: '%s' is not yes or no", who,
				    val);
				return EXIT_USAGE;
			}
			j.invert = !strcmp(val, "yes");
		} else {
			if (position_of(val, &d, &u)) {
				err("%s: %s: '%s' is not a position (e.g. 90deg, 1.5rad, 50%%)",
				    who, tok, val);
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
					err("%s: %s: unit mismatch: '%s', the joint is in %s",
					    who, tok, val,
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
				home = d;
				home_given = true;
			} else if (!strcmp(tok, "speed")) {
				speed = d;
				speed_given = true;
			} else if (!strcmp(tok, "accel")) {
				accel = d;
				accel_given = true;
			} else {
				err("%s: unknown key '%s' (name, min, center, max, range, invert, trim, lo, hi, home, speed, accel)",
				    who, tok);
				return EXIT_USAGE;
			}
		}
	}
	if (!isnan(lo) || !isnan(hi) || !isnan(mid)) {
		enum hrservo_unit unit = unit_given ? ru : j.unit;
		double pos[3], pulse[3], start, end;
		unsigned int n = 0;

		if (isnan(lo) || isnan(hi)) {
			err("%s: min and max go together", who);
			return EXIT_USAGE;
		}
		if (!isnan(range) && !(range > 0)) {
			err("%s: range must be positive", who);
			return EXIT_USAGE;
		}
		if (isnan(range) && j.npoints >= 2 && unit == j.unit) {
			/* The pulses at the ends of the joint's own range. */
			start = j.pos[0];
			end = j.pos[j.npoints - 1];
		} else {
			if (isnan(range))
				range = joint_default_range(unit);
			start = unit == HRSERVO_UNIT_PERCENT ? 0 : -range / 2;
			end = start + range;
		}
		pos[n] = start;
		pulse[n++] = lo;
		if (!isnan(mid)) {
			pos[n] = (start + end) / 2;
			pulse[n++] = mid;
		}
		pos[n] = end;
		pulse[n++] = hi;
		if (joint_remap(&j, pos, pulse, n, unit, msg, sizeof(msg))) {
			err("%s: %s (nothing saved)", who, msg);
			return EXIT_USAGE;
		}
		if (msg[0])
			err("note: %s: %s", who, msg);
	} else if (!isnan(range)) {
		err("%s: range is the span of min..max: give min and max (the pulses at its ends) with it",
		    who);
		return EXIT_USAGE;
	}
	if (!j.npoints) {
		err("%s: no map yet: give min and max (and center)", who);
		return EXIT_USAGE;
	}
	if (lim_lo)
		j.min = soft_lo;
	if (lim_hi)
		j.max = soft_hi;
	if (home_given) {
		j.home = home;
		j.has_home = true;
	}
	if (speed_given)
		j.max_speed = speed;
	if (accel_given)
		j.max_accel = accel;
	if (hrservo_calib_put(c, &j, msg, sizeof(msg))) {
		err("%s (nothing saved)", msg);
		return EXIT_RUNTIME;
	}
	return 0;
}

/*
 * One CH=POS:PULSE,... of 'calibrate points' (and name:NAME): the joint's
 * new map; the rest of an existing joint stays (see joint_remap()).
 */
static int points_one(struct hrservo_calib *c, struct hrservo *h,
		      const char *ctrl, char *arg)
{
	double pos[HRSERVO_MAP_POINTS_MAX], pulse[HRSERVO_MAP_POINTS_MAX];
	char *rest, *save, *tok, msg[384], who[48];
	enum hrservo_unit unit = HRSERVO_UNIT_DEG;
	struct hrservo_joint j;
	unsigned int n = 0;
	int ret;

	ret = joint_arg(c, h, ctrl, arg,
			"CH=POS:PULSE,... e.g. 0=0deg:1010us,90deg:1490us",
			&j, &rest);
	if (ret)
		return ret;
	label(&j, who, sizeof(who));
	for (tok = strtok_r(rest, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		enum hrservo_unit u;
		double p, ns;

		if (colon && !strncmp(tok, "name:", 5)) {
			snprintf(j.name, sizeof(j.name), "%s", colon + 1);
			continue;
		}
		if (!colon) {
			err("%s: '%s' is not POSITION:PULSE", who, tok);
			return EXIT_USAGE;
		}
		*colon = '\0';
		if (position_of(tok, &p, &u) || pulse_of(colon + 1, &ns)) {
			err("%s: '%s:%s' is not POSITION:PULSE (e.g. 90deg:1490us)",
			    who, tok, colon + 1);
			return EXIT_USAGE;
		}
		if (n && u != unit) {
			err("%s: unit mismatch: %s after %s", who,
			    hrservo_unit_name(u), hrservo_unit_name(unit));
			return EXIT_USAGE;
		}
		if (n == HRSERVO_MAP_POINTS_MAX) {
			err("%s: more than %d points", who,
			    HRSERVO_MAP_POINTS_MAX);
			return EXIT_USAGE;
		}
		unit = u;
		pos[n] = p;
		pulse[n++] = ns;
	}
	if (n < 2) {
		err("%s: needs at least 2 points", who);
		return EXIT_USAGE;
	}
	if (joint_remap(&j, pos, pulse, n, unit, msg, sizeof(msg))) {
		err("%s: %s (nothing saved)", who, msg);
		return EXIT_USAGE;
	}
	if (msg[0])
		err("note: %s: %s", who, msg);
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
	if (opt_no_calibration) {
		err("saves the calibration: not with --no-calibration");
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
		json_add_int64(o, "min_ns", l.min_ns);
		json_add_int64(o, "max_ns", l.max_ns);
	}
	return o;
}

/* The columns of a joint in 'calibrate show'. */
struct show_row {
	const struct hrservo_joint *j;
	char ch[8], lim[96], pul[64];
};

/* Is @j shown: all joints, or those of the controller @canon? */
static bool shown_joint(struct hrservo_calib *c, const struct hrservo_joint *j,
			const char *canon)
{
	return !canon || hrservo_calib_find_channel(c, canon, j->channel) == j;
}

static void widen(int *w, const char *s)
{
	if ((int)strlen(s) > *w)
		*w = (int)strlen(s);
}

static int cal_show(int argc, char **argv)
{
	struct hrservo_calib *c = calib_get(true);
	int w_name = 5, w_ctrl = 4, w_ch = 2, w_unit = 4, w_lim = 11, w_pul = 6;
	struct show_row *rows;
	json_object *arr;
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
	if (opt_json) {
		arr = json_object_new_array();
		for (unsigned int i = 0; i < hrservo_calib_count(c); i++) {
			const struct hrservo_joint *j = hrservo_calib_joint(c, i);

			if (shown_joint(c, j, argc == 1 ? canon : NULL)) {
				json_object_array_add(arr, joint_json(j));
				shown++;
			}
		}
		put_json(arr);
		goto out;
	}

	/* Two passes: the widths of the columns, then the rows. */
	rows = calloc(hrservo_calib_count(c) + 1, sizeof(*rows));
	if (!rows) {
		err("%s", strerror(errno));
		return EXIT_RUNTIME;
	}
	for (unsigned int i = 0; i < hrservo_calib_count(c); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(c, i);
		struct show_row *r = &rows[shown];
		struct hrservo_limits_ns l;
		char a[40], b[40], x[24], y[24];

		if (!shown_joint(c, j, argc == 1 ? canon : NULL))
			continue;
		shown++;
		r->j = j;
		snprintf(r->ch, sizeof(r->ch), "%u", j->channel);
		fmt_pos(a, sizeof(a), j->min, j);
		fmt_pos(b, sizeof(b), j->max, j);
		snprintf(r->lim, sizeof(r->lim), "%s..%s", a, b);
		if (hrservo_joint_kernel_limits(j, &l))
			snprintf(r->pul, sizeof(r->pul), "-");
		else
			snprintf(r->pul, sizeof(r->pul), "%s..%s",
				 fmt_ns(l.min_ns, x), fmt_ns(l.max_ns, y));
		widen(&w_name, j->name);
		widen(&w_ctrl, j->controller);
		widen(&w_ch, r->ch);
		widen(&w_unit, hrservo_unit_name(j->unit));
		widen(&w_lim, r->lim);
		widen(&w_pul, r->pul);
	}
	printf("%-*s %-*s %*s %-*s %-*s %-*s %s\n", w_name, "JOINT", w_ctrl,
	       "CTRL", w_ch, "CH", w_unit, "UNIT", w_lim, "SOFT LIMITS", w_pul,
	       "PULSES", "MAP");
	for (unsigned int i = 0; i < shown; i++) {
		const struct hrservo_joint *j = rows[i].j;
		char a[40], x[24];

		printf("%-*s %-*s %*s %-*s %-*s %-*s %s", w_name, j->name,
		       w_ctrl, j->controller, w_ch, rows[i].ch, w_unit,
		       hrservo_unit_name(j->unit), w_lim, rows[i].lim, w_pul,
		       rows[i].pul,
		       j->map == HRSERVO_MAP_CUBIC ? "cubic" : "linear");
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
	free(rows);
out:
	if (argc == 1 && !shown)
		err("%s: no joint in %s", argv[0], calib_path());
	return 0;
}

/* Derived kernel limits of every joint of CTRL, all or none. */
static int cal_apply(int argc, char **argv)
{
	struct hrservo_calib *c = calib_get(true);
	struct hrservo *h;
	char msg[384];
	int ret, n;

	if (!c)
		return EXIT_RUNTIME;
	ret = open_ctrl_arg(argc, argv, 1, 1, "expects one controller", &h);
	if (ret)
		return ret;
	n = hrservo_calib_apply(c, h, msg, sizeof(msg));
	if (n < 0)
		err("%s (nothing applied)", msg);
	else if (!n)
		err("%s: no joint in %s", argv[0], calib_path());
	for (unsigned int i = 0; n > 0 && !opt_json &&
	     i < hrservo_calib_count(c); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(c, i);
		struct hrservo_limits_ns l;
		char a[24], b[24];

		if (hrservo_calib_find_channel(c, hrservo_name(h), j->channel) != j ||
		    hrservo_joint_kernel_limits(j, &l))
			continue;
		printf("%s (channel %u): %s..%s", j->name, j->channel,
		       fmt_ns(l.min_ns, a), fmt_ns(l.max_ns, b));
		if (l.max_speed_ns_per_s)
			printf(", speed %u ns/s", l.max_speed_ns_per_s);
		if (l.max_accel_ns_per_s2)
			printf(", accel %u ns/s2", l.max_accel_ns_per_s2);
		putchar('\n');
	}
	hrservo_close(h);
	return n > 0 ? 0 : EXIT_RUNTIME;
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
		return calibrate_jog(argc - i, argv + i, opt_step, opt_from,
				     opt_cubic);
	err("unknown subcommand '%s' (set, points, show, apply, jog)", sub);
	return EXIT_USAGE;
}
