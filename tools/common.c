// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl - the helpers every command uses: errors and output, option
 * parsing, opening controllers, channel arguments, the state table, and the
 * robot's calibration file.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "servoctl.h"

/* ---- errors and output ---- */

void err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "servoctl: %s%s", cmd_name, *cmd_name ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *fmt_ns(uint32_t ns, char *buf)
{
	return hrservo_format_ns(ns, buf, 24);
}

void put_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void json_add_int64(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- the e-stop latch ---- */

const char *estop_words(struct hrservo *h)
{
	static char buf[160];

	snprintf(buf, sizeof(buf),
		 "e-stop is latched: nothing moves until 'servoctl estop --clear %s'",
		 hrservo_name(h));
	return buf;
}

bool estop_refused(struct hrservo *h, int e)
{
	struct hrservo_estop_info info;

	/* An upload in parts is cut short (ECANCELED) by a trip meanwhile. */
	if (e != EPERM &&
	    !(e == ECANCELED && !hrservo_estop_get(h, &info) && info.latched))
		return false;
	err("%s: %s", hrservo_name(h), estop_words(h));
	errno = e;
	return true;
}

/* ---- options ---- */

void print_command_help(const struct command *c)
{
	printf("Usage: servoctl %s %s\n\n%s\n%s", c->name, c->args, c->summary,
	       c->help);
}

int sub_opts(int argc, char **argv, const struct command *c,
	     const char *extra_short, const struct option *extra,
	     int (*handle)(int opt, const char *arg))
{
	/* traj has 15 options of its own: room for them and the end. */
	struct option opts[24] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
	};
	char shortopts[32];
	int n = 2, opt;

	for (; extra && extra->name && n < 23; extra++)
		opts[n++] = *extra;
	snprintf(shortopts, sizeof(shortopts), "jh%s",
		 extra_short ? extra_short : "");
	optind = 0;	/* restart getopt; options may follow arguments */
	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			opt_json = true;
			break;
		case 'h':
			print_command_help(c);
			exit(0);
		default:
			if (handle && handle(opt, optarg) == 0)
				break;
			fprintf(stderr, "Try 'servoctl %s --help'.\n", c->name);
			exit(EXIT_USAGE);
		}
	}
	return optind;
}

/* ---- controllers and channels ---- */

const char *sysfs_class(void)
{
	const char *s = getenv("HRSERVO_SYSFS_CLASS");

	return s && *s ? s : "/sys/class/hrservo";
}

const char *no_driver(void)
{
	static char why[512];
	struct stat st;

	if (!stat(sysfs_class(), &st) || errno != ENOENT)
		return NULL;
	snprintf(why, sizeof(why),
		 "%s does not exist: the hrservo kernel module is not loaded (load it with 'sudo modprobe hrservo', or 'sudo insmod hrservo.ko' from a build)",
		 sysfs_class());
	return why;
}

/* The controller open_ctrl() opened last, whose joints the state table shows. */
static char table_ctrl[64];

bool calib_optional;

struct hrservo *open_ctrl(const char *spec)
{
	struct hrservo *h;
	struct hrservo_calib *c;
	char words[512];

	/*
	 * A calibration that does not load fails the command before any
	 * controller is touched, but for release and traj stop: what makes a
	 * robot safe needs no calibration.
	 */
	if (strcmp(cmd_name, "release") && !calib_optional && calib_broken())
		return NULL;
	h = hrservo_open(spec);
	/* The backend's own words, before another open clears them. */
	snprintf(words, sizeof(words), "%s", hrservo_last_error());

	/* A [controller NAME] of the calibration stands for its device. */
	if (!h && (errno == ENOENT || errno == EINVAL)) {
		int e = errno;

		c = calib_get(false);
		if (c && hrservo_calib_device(c, spec) != spec)
			h = hrservo_open(hrservo_calib_device(c, spec));
		else
			errno = e;
	}

	if (!h) {
		int e = errno;
		const char *why = e == ENOENT ? no_driver() : NULL;

		if (*words)
			err("%s: %s", spec, words);
		else if (why)
			err("%s: no such controller: %s", spec, why);
		else if (e == ENOENT)
			err("%s: no such controller (see 'servoctl list')",
			    spec);
		else if (e == EINVAL)
			err("%s: not a controller; use hrservoN, N, /dev/hrservoN (or a link to it), chardev:PATH, gpiod:CHIP:LINES or a calibration's controller name",
			    spec);
		else if (e == ENOTSUP && strchr(spec, ':'))
			err("%s: the %.*s backend is not built into this libhrservo yet",
			    spec, (int)(strchr(spec, ':') - spec), spec);
		else
			err("%s: %s", spec, strerror(e));
		errno = e;
	} else {
		snprintf(table_ctrl, sizeof(table_ctrl), "%s", hrservo_name(h));
		if (!(hrservo_caps(h) & HRSERVO_CAP_RT_TIMING))
			fprintf(stderr, "servoctl: warning: %s: no real-time priority or locked memory: pulse timing suffers\n",
				hrservo_name(h));
	}
	return h;
}

int open_ctrl_arg(int argc, char **argv, int min, int max, const char *usage,
		  struct hrservo **h)
{
	*h = NULL;
	if (argc < min || argc > max) {
		err("%s", usage);
		return EXIT_USAGE;
	}
	*h = open_ctrl(argv[0]);
	return *h ? 0 : EXIT_RUNTIME;
}

int parse_channel(struct hrservo *h, const char *s)
{
	unsigned int n = hrservo_num_channels(h);
	char *end;
	unsigned long ch;

	errno = 0;
	ch = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || s[0] == '+') {
		err("'%s' is not a channel number", s);
		return -1;
	}
	if (ch >= n) {
		err("channel %lu: %s has %u channels (0-%u)", ch,
		    hrservo_name(h), n, n - 1);
		return -1;
	}
	return (int)ch;
}

int channel_or_joint(struct hrservo *h, const char *s,
		     const struct hrservo_joint **jp)
{
	struct hrservo_calib *c;
	const struct hrservo_joint *j;
	int ch;

	*jp = NULL;
	if (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+') {
		ch = parse_channel(h, s);
		c = ch >= 0 ? calib_get(false) : NULL;
		if (c)
			*jp = hrservo_calib_find_channel(c, hrservo_name(h),
							 (unsigned int)ch);
		return ch;
	}
	c = calib_get(false);
	if (!c)
		return -2;
	j = hrservo_calib_find(c, s);
	if (!j) {
		err("'%s' is neither a channel number nor a joint of %s",
		    s, calib_path());
		return -1;
	}
	if (hrservo_calib_find_channel(c, hrservo_name(h), j->channel) != j) {
		err("joint %s is on controller %s, not %s", s, j->controller,
		    hrservo_name(h));
		return -1;
	}
	if (j->channel >= hrservo_num_channels(h)) {
		err("joint %s: channel %u: %s has %u channels", s, j->channel,
		    hrservo_name(h), hrservo_num_channels(h));
		return -2;
	}
	*jp = j;
	return (int)j->channel;
}

int channel_args(struct hrservo *h, int argc, char **argv, uint64_t *mask)
{
	const struct hrservo_joint *j;
	unsigned int n = hrservo_num_channels(h);
	int i, ch;

	*mask = 0;
	if (argc == 0 || (argc == 1 && !strcmp(argv[0], "all"))) {
		*mask = n == 64 ? ~0ULL : (1ULL << n) - 1;
		return 0;
	}
	for (i = 0; i < argc; i++) {
		ch = channel_or_joint(h, argv[i], &j);
		if (ch < 0)
			return -1;
		*mask |= 1ULL << ch;
	}
	return 0;
}

int open_channels(int argc, char **argv, struct hrservo **h, uint64_t *mask)
{
	int ret = open_ctrl_arg(argc, argv, 1, INT_MAX, "expects a controller",
				h);

	if (ret)
		return ret;
	if (channel_args(*h, argc - 1, argv + 1, mask)) {
		hrservo_close(*h);
		return EXIT_USAGE;
	}
	return 0;
}

int parse_abs_ns(const char *s, uint32_t *ns)
{
	struct hrservo_value v;

	if (hrservo_value_parse(s, &v) || v.sign ||
	    v.unit == HRSERVO_UNIT_PERCENT || v.unit == HRSERVO_UNIT_DEG ||
	    v.unit == HRSERVO_UNIT_RAD)
		return -1;
	return hrservo_value_to_ns(&v, 0, 0, 0, ns);
}

/* ---- the state of channels ---- */

const char *fmt_joint_pos(const struct hrservo_joint *j, double pos,
			  char *buf, size_t size)
{
	int decimals = j->unit == HRSERVO_UNIT_RAD ? 4 : 2;
	char *p;

	snprintf(buf, size, "%.*f", decimals, pos);
	/* 45.50 -> 45.5, 45.00 -> 45, -0.00 -> 0 */
	p = buf + strlen(buf);
	while (p > buf && p[-1] == '0')
		*--p = '\0';
	if (p > buf && p[-1] == '.')
		*--p = '\0';
	if (!strcmp(buf, "-0"))
		snprintf(buf, size, "0");
	snprintf(buf + strlen(buf), size - strlen(buf), "%s",
		 hrservo_unit_name(j->unit));
	return buf;
}

json_object *json_fixed(double v, int decimals, bool trim)
{
	char buf[64], *p;

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (trim && strchr(buf, '.')) {
		p = buf + strlen(buf);
		while (p[-1] == '0')
			*--p = '\0';
		if (p[-1] == '.')
			*--p = '\0';
		if (!strcmp(buf, "-0"))
			snprintf(buf, sizeof(buf), "0");
	}
	return json_object_new_double_s(v, buf);
}

const struct hrservo_joint *table_joint(unsigned int c)
{
	struct hrservo_calib *cal;

	if (!table_ctrl[0] || calib_broken())
		return NULL;
	cal = calib_get(false);
	return cal ? hrservo_calib_find_channel(cal, table_ctrl, c) : NULL;
}

/* Does the controller of the table have joints? */
static bool table_has_joints(void)
{
	struct hrservo_calib *cal;

	if (!table_ctrl[0] || calib_broken())
		return false;
	cal = calib_get(false);
	for (unsigned int i = 0; cal && i < hrservo_calib_count(cal); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(cal, i);

		if (hrservo_calib_find_channel(cal, table_ctrl, j->channel) == j)
			return true;
	}
	return false;
}

/* The position of width @ns on @j: 0, or -1 if none (0) or off its map. */
static int joint_pos(const struct hrservo_joint *j, uint32_t ns, double *pos)
{
	return ns && !hrservo_joint_from_ns(j, ns, pos) ? 0 : -1;
}

json_object *channel_json(const struct hrservo_state *st, unsigned int c)
{
	json_object *o = json_object_new_object();
	const struct hrservo_joint *j = table_joint(c);

	json_object_object_add(o, "channel", json_object_new_int(c));
	json_object_object_add(o, "enabled",
			       json_object_new_boolean(hrservo_state_enabled(st, c)));
	json_object_object_add(o, "active",
			       json_object_new_boolean(hrservo_state_active(st, c)));
	json_add_int64(o, "target_ns", hrservo_state_target_ns(st, c));
	json_add_int64(o, "pulse_ns", hrservo_state_pulse_ns(st, c));
	json_add_int64(o, "min_ns", hrservo_state_min_ns(st, c));
	json_add_int64(o, "max_ns", hrservo_state_max_ns(st, c));
	if (j) {
		json_object *jo = json_object_new_object();
		double pos;

		json_object_object_add(jo, "name",
				       json_object_new_string(j->name));
		json_object_object_add(jo, "unit",
				       json_object_new_string(hrservo_unit_name(j->unit)));
		json_object_object_add(jo, "target",
				       joint_pos(j, hrservo_state_target_ns(st, c), &pos) ?
				       NULL : json_fixed(pos, 6, true));
		json_object_object_add(jo, "pulse",
				       joint_pos(j, hrservo_state_pulse_ns(st, c), &pos) ?
				       NULL : json_fixed(pos, 6, true));
		json_object_object_add(o, "joint", jo);
	}
	return o;
}

/* Whether the table has the joint columns, from the last header. */
static bool table_joints;

void print_state_header(void)
{
	table_joints = table_has_joints();
	printf("%3s %-8s %10s %10s %10s %10s", "CH", "STATE", "TARGET",
	       "PULSE", "MIN", "MAX");
	if (table_joints)
		printf(" %-16s %11s %11s", "JOINT", "TARGET_POS", "PULSE_POS");
	putchar('\n');
}

/* The position of width @ns on @j for the table: "-" for none. */
static const char *table_pos(const struct hrservo_joint *j, uint32_t ns,
			     char *buf, size_t size)
{
	double pos;

	if (!ns)
		return "-";
	if (joint_pos(j, ns, &pos))
		return "off-map";
	return fmt_joint_pos(j, pos, buf, size);
}

void print_state_row(const struct hrservo_state *st, unsigned int c)
{
	char t[24], p[24], mn[24], mx[24], tp[40], pp[40];
	uint32_t target = hrservo_state_target_ns(st, c);
	uint32_t pulse = hrservo_state_pulse_ns(st, c);
	const struct hrservo_joint *j = table_joints ? table_joint(c) : NULL;

	printf("%3u %-8s %10s %10s %10s %10s", c,
	       hrservo_state_enabled(st, c) ? "on" : "off",
	       target ? fmt_ns(target, t) : "-",
	       pulse ? fmt_ns(pulse, p) : "-",
	       fmt_ns(hrservo_state_min_ns(st, c), mn),
	       fmt_ns(hrservo_state_max_ns(st, c), mx));
	if (j)
		printf(" %-16s %11s %11s", j->name,
		       table_pos(j, target, tp, sizeof(tp)),
		       table_pos(j, pulse, pp, sizeof(pp)));
	else if (table_joints)
		printf(" %-16s %11s %11s", "-", "-", "-");
	putchar('\n');
}

/* ---- the robot's calibration ---- */

const char *config_path(const char *name, char *buf, size_t size)
{
	const char *x = getenv("XDG_CONFIG_HOME");

	if (x && *x)
		snprintf(buf, size, "%s/hrservo/%s", x, name);
	else
		snprintf(buf, size, "%s/.config/hrservo/%s",
			 getenv("HOME") ? getenv("HOME") : "", name);
	return buf;
}

const char *calib_path(void)
{
	static char path[4096];
	const char *e = getenv("HRSERVO_CALIBRATION");

	if (opt_calibration)
		return opt_calibration;
	if (e && *e)
		return e;
	return config_path("robot.conf", path, sizeof(path));
}

static struct hrservo_calib *calib;
static bool calib_tried, calib_missing;

/* Load the calibration once; a file that does not load is reported once. */
static void calib_load(void)
{
	char msg[512];

	if (calib_tried)
		return;
	calib_tried = true;
	if (opt_no_calibration) {
		calib = hrservo_calib_new();
	} else {
		calib = hrservo_calib_load(calib_path(), msg, sizeof(msg));
		if (!calib && errno == ENOENT) {
			/* No file yet: an empty calibration, to fill. */
			calib_missing = true;
			calib = hrservo_calib_new();
		} else if (!calib) {
			err("calibration: %s (fix it, or give --no-calibration to do without it)",
			    msg);
			return;
		}
	}
	if (!calib)
		err("calibration: %s", strerror(errno));
}

struct hrservo_calib *calib_get(bool required)
{
	calib_load();
	if (!calib)
		return NULL;
	if (required && opt_no_calibration) {
		err("needs the calibration, and --no-calibration is given");
		return NULL;
	}
	if (calib_missing && required) {
		err("no calibration file %s (see 'servoctl calibrate'; --calibration FILE)",
		    calib_path());
		return NULL;
	}
	return calib;
}

bool calib_broken(void)
{
	calib_load();
	return !calib;
}

/* ---- joints: the kernel's limits against the calibration's ---- */

/* "500us..2500us, no speed limit, accel 1000us/s2": a channel's limits. */
static void describe_kernel(char *buf, size_t size, uint32_t mn, uint32_t mx,
			    uint32_t speed, uint32_t accel)
{
	char a[24], b[24], v[24], x[24];

	snprintf(buf, size, "%s..%s, %s%s%s, %s%s%s", fmt_ns(mn, a),
		 fmt_ns(mx, b), speed ? "speed " : "no speed limit",
		 speed ? fmt_ns(speed, v) : "", speed ? "/s" : "",
		 accel ? "accel " : "no acceleration limit",
		 accel ? fmt_ns(accel, x) : "", accel ? "/s2" : "");
}

/* "900us..2100us, 60deg/s, 600deg/s2": what a joint's calibration says. */
static void describe_joint(char *buf, size_t size,
			   const struct hrservo_joint *j,
			   const struct hrservo_limits_ns *l)
{
	const char *u = hrservo_unit_name(j->unit);
	char a[24], b[24], v[48], x[48];

	if (j->max_speed > 0)
		snprintf(v, sizeof(v), "%g%s/s", j->max_speed, u);
	else
		snprintf(v, sizeof(v), "no speed limit");
	if (j->max_accel > 0)
		snprintf(x, sizeof(x), "%g%s/s2", j->max_accel, u);
	else
		snprintf(x, sizeof(x), "no acceleration limit");
	snprintf(buf, size, "%s..%s, %s, %s", fmt_ns(l->min_ns, a),
		 fmt_ns(l->max_ns, b), v, x);
}

int joint_limits_check(struct hrservo *h, uint64_t channels)
{
	struct hrservo_calib *c = calib_get(false);
	int ret = 0;

	if (!c)
		return EXIT_RUNTIME;	/* a broken file, already reported */
	for (unsigned int i = 0; i < hrservo_calib_count(c); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(c, i);
		struct hrservo_limits_ns want;
		uint32_t mn, mx, speed, accel;
		char have[160], says[160];

		if (j->channel >= hrservo_num_channels(h) ||
		    !(channels & (1ULL << j->channel)) ||
		    hrservo_calib_find_channel(c, hrservo_name(h), j->channel) != j ||
		    hrservo_joint_kernel_limits(j, &want))
			continue;
		/* A controller without motion limits has none to compare. */
		speed = accel = 0;
		if (hrservo_get_limits(h, j->channel, &mn, &mx) ||
		    ((hrservo_caps(h) & HRSERVO_CAP_MOTION_LIMITS) &&
		     hrservo_get_motion_limits(h, j->channel, &speed,
					       &accel))) {
			err("joint %s: cannot read the limits of %s channel %u: %s",
			    j->name, hrservo_name(h), j->channel,
			    strerror(errno));
			return EXIT_RUNTIME;
		}
		if (mn == want.min_ns && mx == want.max_ns &&
		    speed == want.max_speed_ns_per_s &&
		    accel == want.max_accel_ns_per_s2)
			continue;
		describe_kernel(have, sizeof(have), mn, mx, speed, accel);
		describe_joint(says, sizeof(says), j, &want);
		if (opt_strict_limits) {
			err("joint %s: kernel limits %s; the calibration says %s: run 'servoctl calibrate apply %s' (nothing applied: --strict-limits)",
			    j->name, have, says, j->controller);
			ret = EXIT_RUNTIME;
		} else {
			err("warning: joint %s: kernel limits %s; the calibration says %s: run 'servoctl calibrate apply %s'",
			    j->name, have, says, j->controller);
		}
	}
	return ret;
}
