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

/* The sysfs class directory the library reads controllers from. */
static const char *sysfs_class(void)
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

struct hrservo *open_ctrl(const char *spec)
{
	struct hrservo *h = hrservo_open(spec);
	struct hrservo_calib *c;

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

		if (why)
			err("%s: no such controller: %s", spec, why);
		else if (e == ENOENT)
			err("%s: no such controller (see 'servoctl list')",
			    spec);
		else if (e == EINVAL)
			err("%s: not a controller; use hrservoN, N, /dev/hrservoN or a calibration's controller name",
			    spec);
		else
			err("%s: %s", spec, strerror(e));
		errno = e;
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
		return -1;
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

json_object *channel_json(const struct hrservo_state *st, unsigned int c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "channel", json_object_new_int(c));
	json_object_object_add(o, "enabled",
			       json_object_new_boolean(hrservo_state_enabled(st, c)));
	json_object_object_add(o, "active",
			       json_object_new_boolean(hrservo_state_active(st, c)));
	json_add_int64(o, "target_ns", hrservo_state_target_ns(st, c));
	json_add_int64(o, "pulse_ns", hrservo_state_pulse_ns(st, c));
	json_add_int64(o, "min_ns", hrservo_state_min_ns(st, c));
	json_add_int64(o, "max_ns", hrservo_state_max_ns(st, c));
	return o;
}

void print_state_header(void)
{
	printf("%3s %-8s %10s %10s %10s %10s\n", "CH", "STATE", "TARGET",
	       "PULSE", "MIN", "MAX");
}

void print_state_row(const struct hrservo_state *st, unsigned int c)
{
	char t[24], p[24], mn[24], mx[24];
	uint32_t target = hrservo_state_target_ns(st, c);
	uint32_t pulse = hrservo_state_pulse_ns(st, c);

	printf("%3u %-8s %10s %10s %10s %10s\n", c,
	       hrservo_state_enabled(st, c) ? "on" : "off",
	       target ? fmt_ns(target, t) : "-",
	       pulse ? fmt_ns(pulse, p) : "-",
	       fmt_ns(hrservo_state_min_ns(st, c), mn),
	       fmt_ns(hrservo_state_max_ns(st, c), mx));
}

/* ---- the robot's calibration ---- */

const char *calib_path(void)
{
	static char path[4096];
	const char *e = getenv("HRSERVO_CALIBRATION");
	const char *x = getenv("XDG_CONFIG_HOME");

	if (opt_calibration)
		return opt_calibration;
	if (e && *e)
		return e;
	if (x && *x)
		snprintf(path, sizeof(path), "%s/hrservo/robot.conf", x);
	else
		snprintf(path, sizeof(path), "%s/.config/hrservo/robot.conf",
			 getenv("HOME") ? getenv("HOME") : "");
	return path;
}

struct hrservo_calib *calib_get(bool required)
{
	static struct hrservo_calib *calib;
	static bool tried, missing;
	char msg[512];

	if (!tried) {
		tried = true;
		calib = hrservo_calib_load(calib_path(), msg, sizeof(msg));
		if (!calib && errno == ENOENT) {
			/* No file yet: an empty calibration, to fill. */
			missing = true;
			calib = hrservo_calib_new();
		} else if (!calib) {
			err("calibration: %s", msg);
		}
	}
	if (!calib)
		return NULL;
	if (missing && required) {
		err("no calibration file %s (see 'servoctl calibrate'; --calibration FILE)",
		    calib_path());
		return NULL;
	}
	return calib;
}
