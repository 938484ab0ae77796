// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl - control hrservo servo controllers from the shell
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error.
 * See servoctl(1).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hrservo.h"
#include "servoctl.h"

static const char *prog = "servoctl";
static const char *cmd = "";
bool opt_json;
static const char *opt_calibration;

void err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", prog, cmd, *cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *fmt_ns(uint32_t ns, char *buf)
{
	return hrservo_format_ns(ns, buf, 24);
}

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

/* The sysfs class directory the library reads controllers from. */
static const char *sysfs_class(void)
{
	const char *s = getenv("HRSERVO_SYSFS_CLASS");

	return s && *s ? s : "/sys/class/hrservo";
}

/* Why no controller can be found, when the driver is not loaded; or NULL. */
static const char *no_driver(void)
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

/* Print a JSON value and release it. */
void put_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/*
 * Parse a channel index. Returns the channel, or -1 after printing an
 * error that names it and the controller's range.
 */
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

/* Common option parsing of the subcommands: --json and --help. */
int sub_opts(int argc, char **argv, const struct command *c,
	     const char *extra_short, const struct option *extra,
	     int (*handle)(int opt, const char *arg))
{
	struct option opts[16] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
	};
	char shortopts[32];
	int n = 2, opt;

	for (; extra && extra->name && n < 15; extra++)
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
			printf("Usage: servoctl %s %s\n\n%s\n%s", c->name, c->args,
			       c->summary, c->help);
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

static const struct command commands[];

const struct command *find_command(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* The fields list and info share, as a JSON object. */
static json_object *ctrl_json(struct hrservo *h, uint32_t period)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name",
			       json_object_new_string(hrservo_name(h)));
	json_object_object_add(o, "backend",
			       json_object_new_string(hrservo_backend(h)));
	json_object_object_add(o, "channels",
			       json_object_new_int(hrservo_num_channels(h)));
	json_object_object_add(o, "frame_period_ns",
			       json_object_new_int64(period));
	return o;
}

/* ---- list ---- */

static int cmd_list(int argc, char **argv)
{
	struct hrservo_list *list;
	json_object *arr = NULL;
	const char *why;
	int ret = 0;

	if (sub_opts(argc, argv, find_command("list"), NULL, NULL, NULL) !=
	    argc) {
		err("takes no arguments");
		return EXIT_USAGE;
	}
	list = hrservo_list_new();
	if (!list) {
		err("%s", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* No controller is not an error, but say why there is none. */
	why = hrservo_list_count(list) ? NULL : no_driver();
	if (why)
		err("%s", why);
	if (opt_json)
		arr = json_object_new_array();
	else if (hrservo_list_count(list))
		printf("%-10s %-16s %8s %12s\n", "NAME", "BACKEND", "CHANNELS",
		       "PERIOD");
	for (size_t i = 0; i < hrservo_list_count(list); i++) {
		const char *name = hrservo_list_name(list, i);
		struct hrservo *h = hrservo_open(name);
		uint32_t period = 0;
		char b[24];

		if (!h || hrservo_get_frame_period(h, &period, NULL, NULL)) {
			err("%s: %s", name, strerror(errno));
			ret = EXIT_RUNTIME;
			hrservo_close(h);
			continue;
		}
		if (opt_json) {
			json_object_array_add(arr, ctrl_json(h, period));
		} else {
			printf("%-10s %-16s %8u %12s\n", name,
			       hrservo_backend(h), hrservo_num_channels(h),
			       fmt_ns(period, b));
		}
		hrservo_close(h);
	}
	if (opt_json)
		put_json(arr);
	hrservo_list_free(list);
	return ret;
}

/* ---- info ---- */

static int cmd_info(int argc, char **argv)
{
	uint32_t period, pmin, pmax;
	struct hrservo *h;
	int i;

	i = sub_opts(argc, argv, find_command("info"), NULL, NULL, NULL);
	if (argc - i != 1) {
		err("expects one controller");
		return EXIT_USAGE;
	}
	h = open_ctrl(argv[i]);
	if (!h)
		return EXIT_RUNTIME;
	if (hrservo_get_frame_period(h, &period, &pmin, &pmax)) {
		err("%s: %s", argv[i], strerror(errno));
		hrservo_close(h);
		return EXIT_RUNTIME;
	}
	if (opt_json) {
		json_object *o = ctrl_json(h, period);

		json_object_object_add(o, "frame_period_min_ns",
				       json_object_new_int64(pmin));
		json_object_object_add(o, "frame_period_max_ns",
				       json_object_new_int64(pmax));
		json_object_object_add(o, "pulse_min_ns",
				       json_object_new_int64(hrservo_pulse_min_ns(h)));
		json_object_object_add(o, "pulse_max_ns",
				       json_object_new_int64(hrservo_pulse_max_ns(h)));
		json_object_object_add(o, "resolution_ns",
				       json_object_new_int64(hrservo_resolution_ns(h)));
		put_json(o);
	} else {
		char a[24], b[24], c[24];

		printf("name:          %s\n", hrservo_name(h));
		printf("backend:       %s\n", hrservo_backend(h));
		printf("channels:      %u\n", hrservo_num_channels(h));
		printf("frame period:  %s (%s..%s)\n", fmt_ns(period, a),
		       fmt_ns(pmin, b), fmt_ns(pmax, c));
		printf("pulse bounds:  %s..%s\n",
		       fmt_ns(hrservo_pulse_min_ns(h), a),
		       fmt_ns(hrservo_pulse_max_ns(h), b));
		printf("resolution:    %uns\n", hrservo_resolution_ns(h));
	}
	hrservo_close(h);
	return 0;
}

/* ---- get ---- */

/* Channels named on the command line, or all of them: a mask. */
static int channel_or_joint(struct hrservo *h, const char *s,
			    const struct hrservo_joint **jp);

static int channel_args(struct hrservo *h, int argc, char **argv,
			uint64_t *mask)
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

/* CTRL [CH...|all]: open the controller, parse the channels. */
static int open_channels(int argc, char **argv, struct hrservo **h,
			 uint64_t *mask)
{
	if (argc < 1) {
		err("expects a controller");
		return EXIT_USAGE;
	}
	*h = open_ctrl(argv[0]);
	if (!*h)
		return EXIT_RUNTIME;
	if (channel_args(*h, argc - 1, argv + 1, mask)) {
		hrservo_close(*h);
		return EXIT_USAGE;
	}
	return 0;
}

static json_object *channel_json(const struct hrservo_state *st,
				 unsigned int c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "channel", json_object_new_int(c));
	json_object_object_add(o, "enabled",
			       json_object_new_boolean(hrservo_state_enabled(st, c)));
	json_object_object_add(o, "active",
			       json_object_new_boolean(hrservo_state_active(st, c)));
	json_object_object_add(o, "target_ns",
			       json_object_new_int64(hrservo_state_target_ns(st, c)));
	json_object_object_add(o, "pulse_ns",
			       json_object_new_int64(hrservo_state_pulse_ns(st, c)));
	json_object_object_add(o, "min_ns",
			       json_object_new_int64(hrservo_state_min_ns(st, c)));
	json_object_object_add(o, "max_ns",
			       json_object_new_int64(hrservo_state_max_ns(st, c)));
	return o;
}

static void print_state_header(void)
{
	printf("%3s %-8s %10s %10s %10s %10s\n", "CH", "STATE", "TARGET",
	       "PULSE", "MIN", "MAX");
}

static void print_state_row(const struct hrservo_state *st, unsigned int c)
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

static int cmd_get(int argc, char **argv)
{
	struct hrservo_state *st;
	struct hrservo *h;
	uint64_t mask;
	int i, ret = EXIT_RUNTIME;

	i = sub_opts(argc, argv, find_command("get"), NULL, NULL, NULL);
	ret = open_channels(argc - i, argv + i, &h, &mask);
	if (ret)
		return ret;
	ret = EXIT_RUNTIME;
	st = hrservo_read_state(h);
	if (!st) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		goto out;
	}
	if (opt_json) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		json_object_object_add(o, "controller",
				       json_object_new_string(hrservo_name(h)));
		for (unsigned int c = 0; c < hrservo_num_channels(h); c++)
			if (mask & (1ULL << c))
				json_object_array_add(arr, channel_json(st, c));
		json_object_object_add(o, "channels", arr);
		put_json(o);
	} else {
		print_state_header();
		for (unsigned int c = 0; c < hrservo_num_channels(h); c++)
			if (mask & (1ULL << c))
				print_state_row(st, c);
	}
	ret = 0;
	hrservo_state_free(st);
out:
	hrservo_close(h);
	return ret;
}

/* ---- set ---- */

/*
 * A channel number or a joint name of the calibration. Returns the channel
 * with *@jp the channel's joint (or NULL), or -1 (usage) / -2 (runtime)
 * after printing why.
 */
static int channel_or_joint(struct hrservo *h, const char *s,
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

/*
 * A position of joint @j ("45deg", "+5deg") as a pulse width; relative
 * positions start from the position of @current_ns. 0 or an exit status.
 */
static int joint_value_ns(const struct hrservo_joint *j,
			  const struct hrservo_value *v, const char *text,
			  uint32_t current_ns, uint32_t *ns)
{
	const char *u = hrservo_unit_name(j->unit);
	double pos = (double)v->nano / 1e9, base, pulse;

	if (v->sign) {
		if (!current_ns) {
			err("joint %s: '%s' is relative, but the joint has no target yet (nothing applied)",
			    j->name, text);
			return EXIT_RUNTIME;
		}
		if (hrservo_joint_from_ns(j, current_ns, &base)) {
			err("joint %s: its target is off its calibrated map (nothing applied)",
			    j->name);
			return EXIT_RUNTIME;
		}
		pos = base + v->sign * pos;
	}
	if (hrservo_joint_to_ns(j, pos, &pulse)) {
		err("joint %s: %g%s is %s its soft %s %g%s (nothing applied)",
		    j->name, pos, u, pos < j->min ? "below" : "above",
		    pos < j->min ? "min" : "max", pos < j->min ? j->min : j->max,
		    u);
		return EXIT_RUNTIME;
	}
	*ns = (uint32_t)lround(pulse);
	return 0;
}

/*
 * Resolve CH=VALUE arguments into a batch against a state snapshot. Every
 * argument is checked before anything is applied; on error, the message
 * names the channel, the value and the limit.
 */
static int build_batch(struct hrservo *h, const struct hrservo_state *st,
		       int argc, char **argv, struct hrservo_batch *b,
		       unsigned int *out_ch, uint32_t *out_ns)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '='), chs[32], a[24], l[24];
		const struct hrservo_joint *j;
		struct hrservo_value v;
		uint32_t ns, mn, mx;
		int ch, ret;

		if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(chs)) {
			err("'%s': expected CHANNEL=VALUE, e.g. 3=1500us (nothing applied)",
			    argv[i]);
			return EXIT_USAGE;
		}
		snprintf(chs, sizeof(chs), "%.*s", (int)(eq - argv[i]), argv[i]);
		ch = channel_or_joint(h, chs, &j);
		if (ch < 0)
			return ch == -2 ? EXIT_RUNTIME : EXIT_USAGE;
		if (j && !strcmp(eq + 1, "home")) {
			/* The joint's home position. */
			double pulse;

			if (!j->has_home ||
			    hrservo_joint_to_ns(j, j->home, &pulse)) {
				err("joint %s has no home position; see 'servoctl calibrate set' (nothing applied)",
				    j->name);
				return EXIT_RUNTIME;
			}
			v.unit = j->unit;
			v.sign = 0;
			v.nano = (int64_t)llround(j->home * 1e9);
		} else if (hrservo_value_parse(eq + 1, &v)) {
			err("channel %d: '%s' is not a value; use e.g. 1500us, 1.5ms, 50%%, +10us (nothing applied)",
			    ch, eq + 1);
			return EXIT_USAGE;
		}
		mn = hrservo_state_min_ns(st, ch);
		mx = hrservo_state_max_ns(st, ch);
		if (j && v.unit == j->unit) {
			/* A position of the joint, through its map. */
			ret = joint_value_ns(j, &v, eq + 1,
					     hrservo_state_target_ns(st, ch), &ns);
			if (ret)
				return ret;
		} else if (j && (v.unit == HRSERVO_UNIT_DEG ||
				 v.unit == HRSERVO_UNIT_RAD)) {
			err("joint %s: '%s': unit mismatch, the joint is calibrated in %s (nothing applied)",
			    j->name, eq + 1, hrservo_unit_name(j->unit));
			return EXIT_USAGE;
		} else if (hrservo_value_to_ns(&v, mn, mx,
					       hrservo_state_target_ns(st, ch),
					       &ns)) {
			if (errno == ENODATA)
				err("channel %d: '%s' is relative, but the channel has no target yet (nothing applied)",
				    ch, eq + 1);
			else if (errno == ENOTSUP)
				err("channel %d: '%s' needs a calibration for angles; see 'servoctl calibrate' (nothing applied)",
				    ch, eq + 1);
			else
				err("channel %d: '%s' is out of range (nothing applied)",
				    ch, eq + 1);
			return EXIT_RUNTIME;
		}
		if (ns < mn || ns > mx) {
			err("channel %d: %s is %s %s %s (nothing applied)", ch,
			    fmt_ns(ns, a), ns < mn ? "below" : "above",
			    ns < mn ? "min" : "max", fmt_ns(ns < mn ? mn : mx, l));
			return EXIT_RUNTIME;
		}
		if (hrservo_batch_add(b, (unsigned int)ch, ns)) {
			err("channel %d is given twice (nothing applied)", ch);
			return EXIT_USAGE;
		}
		out_ch[i] = (unsigned int)ch;
		out_ns[i] = ns;
	}
	return 0;
}

/* CTRL CH=VALUE... resolved against the controller's state. */
struct targets {
	struct hrservo *h;
	struct hrservo_state *st;
	struct hrservo_batch *b;
	size_t n;
	unsigned int ch[HRSERVO_MAX_CHANNELS];
	uint32_t ns[HRSERVO_MAX_CHANNELS];
};

static void targets_free(struct targets *tg)
{
	hrservo_state_free(tg->st);
	hrservo_batch_free(tg->b);
	hrservo_close(tg->h);
}

/* Open the controller and check every CH=VALUE; 0 or an exit status. */
static int targets_prepare(struct targets *tg, int argc, char **argv)
{
	int ret;

	memset(tg, 0, sizeof(*tg));
	if (argc < 2) {
		err("expects a controller and CHANNEL=VALUE arguments");
		return EXIT_USAGE;
	}
	if (argc - 1 > HRSERVO_MAX_CHANNELS) {
		err("more than %d channels (nothing applied)",
		    HRSERVO_MAX_CHANNELS);
		return EXIT_USAGE;
	}
	tg->h = open_ctrl(argv[0]);
	if (!tg->h)
		return EXIT_RUNTIME;
	tg->b = hrservo_batch_new();
	tg->st = hrservo_read_state(tg->h);
	if (!tg->b || !tg->st) {
		err("%s: %s", hrservo_name(tg->h), strerror(errno));
		targets_free(tg);
		return EXIT_RUNTIME;
	}
	ret = build_batch(tg->h, tg->st, argc - 1, argv + 1, tg->b, tg->ch,
			  tg->ns);
	if (ret) {
		targets_free(tg);
		return ret;
	}
	tg->n = (size_t)argc - 1;
	return 0;
}

static int cmd_set(int argc, char **argv)
{
	struct targets tg;
	int i, ret;

	i = sub_opts(argc, argv, find_command("set"), NULL, NULL, NULL);
	ret = targets_prepare(&tg, argc - i, argv + i);
	if (ret)
		return ret;
	if (hrservo_apply(tg.h, tg.b)) {
		err("%s: %s (nothing applied)", hrservo_name(tg.h),
		    errno == ERANGE ? "a value is outside its limits (they changed meanwhile)" :
		    errno == EBUSY ? "a channel is moved by a trajectory" :
		    strerror(errno));
		ret = EXIT_RUNTIME;
	}
	targets_free(&tg);
	return ret;
}

/* ---- release ---- */

static int cmd_release(int argc, char **argv)
{
	struct hrservo *h;
	uint64_t mask;
	int i, ret = 0;

	i = sub_opts(argc, argv, find_command("release"), NULL, NULL, NULL);
	ret = open_channels(argc - i, argv + i, &h, &mask);
	if (ret)
		return ret;
	if (hrservo_release(h, mask)) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		ret = EXIT_RUNTIME;
	}
	hrservo_close(h);
	return ret;
}

/* ---- period ---- */

static int cmd_period(int argc, char **argv)
{
	uint32_t period, pmin, pmax, ns;
	struct hrservo_value v;
	struct hrservo *h;
	char a[24], b[24], c[24];
	int i, ret = 0;

	i = sub_opts(argc, argv, find_command("period"), NULL, NULL, NULL);
	if (argc - i < 1 || argc - i > 2) {
		err("expects a controller and, to set it, a period");
		return EXIT_USAGE;
	}
	h = open_ctrl(argv[i]);
	if (!h)
		return EXIT_RUNTIME;
	if (hrservo_get_frame_period(h, &period, &pmin, &pmax)) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	if (argc - i == 1) {
		if (opt_json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "frame_period_ns",
					       json_object_new_int64(period));
			json_object_object_add(o, "frame_period_min_ns",
					       json_object_new_int64(pmin));
			json_object_object_add(o, "frame_period_max_ns",
					       json_object_new_int64(pmax));
			put_json(o);
		} else {
			printf("%s (%s..%s)\n", fmt_ns(period, a), fmt_ns(pmin, b),
			       fmt_ns(pmax, c));
		}
		goto out;
	}
	if (hrservo_value_parse(argv[i + 1], &v) || v.sign ||
	    v.unit == HRSERVO_UNIT_PERCENT || v.unit == HRSERVO_UNIT_DEG ||
	    v.unit == HRSERVO_UNIT_RAD || hrservo_value_to_ns(&v, 0, 0, 0, &ns)) {
		err("'%s' is not a period; use e.g. 20ms or 20000us", argv[i + 1]);
		ret = EXIT_USAGE;
		goto out;
	}
	if (ns < pmin || ns > pmax) {
		err("%s is outside %s..%s (nothing applied)", fmt_ns(ns, a),
		    fmt_ns(pmin, b), fmt_ns(pmax, c));
		ret = EXIT_RUNTIME;
	} else if (hrservo_set_frame_period(h, ns)) {
		if (errno == EBUSY)
			err("%s leaves no room for a channel's max limit; lower the max limits first (nothing applied)",
			    fmt_ns(ns, a));
		else
			err("%s: %s (nothing applied)", hrservo_name(h),
			    strerror(errno));
		ret = EXIT_RUNTIME;
	}
out:
	hrservo_close(h);
	return ret;
}

/* ---- limits ---- */

/* An absolute time value ("1000us"), for limits. */
int parse_abs_ns(const char *s, uint32_t *ns)
{
	struct hrservo_value v;

	if (hrservo_value_parse(s, &v) || v.sign ||
	    v.unit == HRSERVO_UNIT_PERCENT || v.unit == HRSERVO_UNIT_DEG ||
	    v.unit == HRSERVO_UNIT_RAD)
		return -1;
	return hrservo_value_to_ns(&v, 0, 0, 0, ns);
}

struct limit_change {
	unsigned int ch;
	uint32_t min_ns, max_ns, old_min, old_max;
};

static int cmd_limits(int argc, char **argv)
{
	const struct hrservo_joint *joint;
	struct limit_change chg[HRSERVO_MAX_CHANNELS];
	struct hrservo_state *st = NULL;
	struct hrservo *h;
	uint64_t seen = 0;
	int i, n = 0, ret = EXIT_RUNTIME;

	i = sub_opts(argc, argv, find_command("limits"), NULL, NULL, NULL);
	if (argc - i < 1) {
		err("expects a controller");
		return EXIT_USAGE;
	}
	h = open_ctrl(argv[i]);
	if (!h)
		return EXIT_RUNTIME;
	st = hrservo_read_state(h);
	if (!st) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		goto out;
	}

	/* Without CH=MIN:MAX arguments: show. */
	if (argc - i == 1 || !strchr(argv[i + 1], '=')) {
		uint64_t mask;

		if (channel_args(h, argc - i - 1, argv + i + 1, &mask)) {
			ret = EXIT_USAGE;
			goto out;
		}
		if (opt_json) {
			json_object *arr = json_object_new_array();

			for (unsigned int c = 0; c < hrservo_num_channels(h); c++) {
				json_object *o;

				if (!(mask & (1ULL << c)))
					continue;
				o = json_object_new_object();
				json_object_object_add(o, "channel",
						       json_object_new_int(c));
				json_object_object_add(o, "min_ns",
						       json_object_new_int64(hrservo_state_min_ns(st, c)));
				json_object_object_add(o, "max_ns",
						       json_object_new_int64(hrservo_state_max_ns(st, c)));
				json_object_array_add(arr, o);
			}
			put_json(arr);
		} else {
			printf("%3s %10s %10s\n", "CH", "MIN", "MAX");
			for (unsigned int c = 0; c < hrservo_num_channels(h); c++) {
				char a[24], b[24];

				if (mask & (1ULL << c))
					printf("%3u %10s %10s\n", c,
					       fmt_ns(hrservo_state_min_ns(st, c), a),
					       fmt_ns(hrservo_state_max_ns(st, c), b));
			}
		}
		ret = 0;
		goto out;
	}

	/* CH=MIN:MAX ...: check everything, then apply, undo on failure. */
	for (int k = i + 1; k < argc; k++, n++) {
		char *eq = strchr(argv[k], '='), *colon, chs[32], a[24], b[24];
		struct limit_change *c = &chg[n];
		int ch;

		colon = eq ? strchr(eq, ':') : NULL;
		if (!eq || !colon || eq == argv[k] ||
		    (size_t)(eq - argv[k]) >= sizeof(chs)) {
			err("'%s': expected CHANNEL=MIN:MAX, e.g. 3=1000us:2000us (nothing applied)",
			    argv[k]);
			ret = EXIT_USAGE;
			goto out;
		}
		snprintf(chs, sizeof(chs), "%.*s", (int)(eq - argv[k]), argv[k]);
		ch = channel_or_joint(h, chs, &joint);
		if (ch < 0) {
			ret = EXIT_USAGE;
			goto out;
		}
		if (seen & (1ULL << ch)) {
			err("channel %d is given twice (nothing applied)", ch);
			ret = EXIT_USAGE;
			goto out;
		}
		seen |= 1ULL << ch;
		*colon = '\0';
		c->ch = (unsigned int)ch;
		c->old_min = hrservo_state_min_ns(st, ch);
		c->old_max = hrservo_state_max_ns(st, ch);
		if ((eq[1] && parse_abs_ns(eq + 1, &c->min_ns)) ||
		    (colon[1] && parse_abs_ns(colon + 1, &c->max_ns))) {
			err("channel %d: limits must be times such as 1000us or 2.1ms (nothing applied)",
			    ch);
			ret = EXIT_USAGE;
			goto out;
		}
		if (!eq[1])
			c->min_ns = c->old_min;
		if (!colon[1])
			c->max_ns = c->old_max;
		if (c->min_ns < hrservo_pulse_min_ns(h) ||
		    c->max_ns > hrservo_pulse_max_ns(h) ||
		    c->min_ns >= c->max_ns) {
			char pa[24], pb[24];

			err("channel %d: limits %s:%s invalid; need %s <= min < max <= %s (nothing applied)",
			    ch, fmt_ns(c->min_ns, a), fmt_ns(c->max_ns, b),
			    fmt_ns(hrservo_pulse_min_ns(h), pa),
			    fmt_ns(hrservo_pulse_max_ns(h), pb));
			goto out;
		}
		if (hrservo_state_enabled(st, ch) &&
		    (hrservo_state_target_ns(st, ch) < c->min_ns ||
		     hrservo_state_target_ns(st, ch) > c->max_ns)) {
			err("channel %d: its target %s lies outside %s:%s; move or release it first (nothing applied)",
			    ch, fmt_ns(hrservo_state_target_ns(st, ch), a),
			    fmt_ns(c->min_ns, b), fmt_ns(c->max_ns, chs));
			goto out;
		}
	}
	for (int k = 0; k < n; k++) {
		if (!hrservo_set_limits(h, chg[k].ch, chg[k].min_ns,
					chg[k].max_ns))
			continue;
		err("channel %u: %s (nothing applied)", chg[k].ch,
		    strerror(errno));
		while (k-- > 0)
			hrservo_set_limits(h, chg[k].ch, chg[k].old_min,
					   chg[k].old_max);
		goto out;
	}
	ret = 0;
out:
	hrservo_state_free(st);
	hrservo_close(h);
	return ret;
}

/* ---- monitor ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
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

static int cmd_monitor(int argc, char **argv)
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
	if (argc - i != 1) {
		err("expects one controller");
		return EXIT_USAGE;
	}
	h = open_ctrl(argv[i]);
	if (!h)
		return EXIT_RUNTIME;
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
	if (tty)
		draw_table(h, st);
	else
		print_changes(h, NULL, st);

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
		if (tty)
			draw_table(h, st);
		else
			printed += print_changes(h, old, st);
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

/* ---- trajectories ---- */

static const char *const limit_names[] = {
	[HRSERVO_LIMIT_MIN] = "below min",
	[HRSERVO_LIMIT_MAX] = "above max",
	[HRSERVO_LIMIT_SPEED] = "speed above max",
	[HRSERVO_LIMIT_ACCEL] = "acceleration above max",
};

static void report_violation(const char *what,
			     const struct hrservo_violation *v)
{
	char a[24], b[24];

	if (v->kind == HRSERVO_LIMIT_MIN || v->kind == HRSERVO_LIMIT_MAX)
		err("%s: channel %u at %.3f s: %s is %s %s", what, v->channel,
		    v->time_s, fmt_ns((uint32_t)llround(fmax(v->value, 0)), a),
		    limit_names[v->kind],
		    fmt_ns((uint32_t)v->limit, b));
	else
		err("%s: channel %u at %.3f s: %s %.0f ns/s%s > %.0f", what,
		    v->channel, v->time_s, limit_names[v->kind], v->value,
		    v->kind == HRSERVO_LIMIT_ACCEL ? "^2" : "", v->limit);
}

static enum hrservo_interp opt_interp = HRSERVO_INTERP_MIN_JERK;
static bool opt_fit, opt_replace, opt_wait;
static double opt_at = -1, opt_time = -1, opt_timeout = -1;
static const char *opt_capture;

static int traj_opt(int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'i':
		if (!strcmp(arg, "linear"))
			opt_interp = HRSERVO_INTERP_LINEAR;
		else if (!strcmp(arg, "cubic"))
			opt_interp = HRSERVO_INTERP_CUBIC;
		else if (!strcmp(arg, "minjerk"))
			opt_interp = HRSERVO_INTERP_MIN_JERK;
		else
			return -1;
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
	{ NULL, 0, NULL, 0 }
};

/* A progress bar on a terminal, one line updated in place. */
static void progress(double done, double total)
{
	int width = 40, n = total > 0 ? (int)(width * done / total) : width;

	if (n > width)
		n = width;
	fprintf(stderr, "\r[%.*s%*s] %5.1f/%.1f s", n,
		"########################################", width - n, "",
		done > total ? total : done, total);
	fflush(stderr);
}

/*
 * Wait until the trajectory ends. Returns 0 when done, EXIT_RUNTIME on an
 * underrun, removal or time limit.
 */
static int traj_wait(struct hrservo *h, double total_s)
{
	bool tty = isatty(STDERR_FILENO);
	uint64_t t0 = now_ns();
	struct hrservo_event_data ev;
	struct hrservo_traj_info info;

	for (;;) {
		if (!hrservo_read_event(h, &ev, 100)) {
			if (ev.type == HRSERVO_EV_TRAJ_DONE)
				break;
			if (ev.type == HRSERVO_EV_TRAJ_DROPPED) {
				if (tty)
					fputc('\n', stderr);
				err("%s: channels 0x%llx were released: they left the trajectory%s",
				    hrservo_name(h), (unsigned long long)ev.mask,
				    ev.value ? ", which was dropped" : "");
				if (ev.value)
					return EXIT_RUNTIME;
				continue;
			}
			if (ev.type == HRSERVO_EV_TRAJ_UNDERRUN) {
				if (tty)
					fputc('\n', stderr);
				err("%s: underrun: the queue ran dry; the axes hold",
				    hrservo_name(h));
				return EXIT_RUNTIME;
			}
			if (ev.type == HRSERVO_EV_REMOVED)
				errno = ENODEV;
			else
				continue;
		}
		if (errno == ENODEV) {
			err("%s: controller removed", hrservo_name(h));
			return EXIT_RUNTIME;
		}
		if (hrservo_traj_status(h, &info)) {
			err("%s: %s", hrservo_name(h), strerror(errno));
			return EXIT_RUNTIME;
		}
		if (info.state == 0 && !info.depth)
			break;	/* done before we listened */
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

	t = c ? hrservo_traj_load_csv_calib(file, c, ctrl, msg, sizeof(msg)) :
	    hrservo_traj_load_csv(file, msg, sizeof(msg));
	if (!t) {
		err("%s%s", msg, what);
		return NULL;
	}
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
			report_violation(file, &v);
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

static int cmd_traj(int argc, char **argv)
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
	h = open_ctrl(argv[argc - 1]);
	if (!h) {
		hrservo_traj_free(t);
		return EXIT_RUNTIME;
	}

	if (!strcmp(sub, "upload")) {
		uint64_t at = 0, start;
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
		if (hrservo_traj_upload(t, h, at, opt_replace ?
					HRSERVO_UPLOAD_REPLACE : 0)) {
			err("%s: %s", hrservo_name(h),
			    errno == EBUSY ? "a channel is in use by another trajectory" :
			    errno == EINVAL && opt_replace ?
			    "the new trajectory does not start where the old one is" :
			    strerror(errno));
			ret = EXIT_RUNTIME;
			if (cap)
				fclose(cap);
			goto out;
		}
		if (cap) {
			/* t=0 of the plan on the capture's clock, for plot. */
			if (traj_start_ns(h, t, at, &start)) {
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
					  (opt_at > 0 ? opt_at : 0));

			ret = ret ? ret : w;
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
			json_object_object_add(o, "segment",
					       json_object_new_int64((int64_t)info.segment));
			json_object_object_add(o, "depth",
					       json_object_new_int(info.depth));
			json_object_object_add(o, "time_in_segment_ns",
					       json_object_new_int64((int64_t)info.time_in_segment_ns));
			json_object_object_add(o, "queued_ns",
					       json_object_new_int64((int64_t)info.queued_ns));
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
			ret = traj_wait(h, info.queued_ns / 1e9);
		}
	}
out:
	hrservo_traj_free(t);
	hrservo_close(h);
	return ret;
}

/* move: every named axis arrives at its value at the same time. */
/* CTRL home: every joint of CTRL that has a home position goes there. */
static int home_prepare(struct targets *tg, const char *ctrl)
{
	char args[HRSERVO_MAX_CHANNELS][HRSERVO_JOINT_NAME_MAX + 8];
	char *argv[HRSERVO_MAX_CHANNELS + 1];
	struct hrservo_calib *c = calib_get(true);
	struct hrservo *h;
	int n = 0;

	if (!c)
		return EXIT_RUNTIME;
	h = open_ctrl(ctrl);
	if (!h)
		return EXIT_RUNTIME;
	argv[n++] = (char *)ctrl;
	for (unsigned int i = 0; i < hrservo_calib_count(c); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(c, i);

		if (!j->has_home || n > HRSERVO_MAX_CHANNELS ||
		    hrservo_calib_find_channel(c, hrservo_name(h), j->channel) != j)
			continue;
		snprintf(args[n - 1], sizeof(args[0]), "%s=home", j->name);
		argv[n] = args[n - 1];
		n++;
	}
	hrservo_close(h);
	if (n == 1) {
		err("%s: no joint with a home position in %s", ctrl,
		    calib_path());
		return EXIT_RUNTIME;
	}
	return targets_prepare(tg, n, argv);
}

static int cmd_move(int argc, char **argv)
{
	double from[HRSERVO_MAX_CHANNELS], to[HRSERVO_MAX_CHANNELS];
	struct hrservo_traj *t = NULL;
	struct hrservo_violation v;
	struct targets tg;
	int i, ret;

	i = sub_opts(argc, argv, find_command("move"), "t:wT:", traj_opts,
		     traj_opt);
	if (argc - i == 2 && !strcmp(argv[i + 1], "home"))
		ret = home_prepare(&tg, argv[i]);
	else
		ret = targets_prepare(&tg, argc - i, argv + i);
	if (ret)
		return ret;
	ret = EXIT_RUNTIME;
	for (size_t k = 0; k < tg.n; k++) {
		/* From the width in effect, else the target. */
		from[k] = hrservo_state_pulse_ns(tg.st, tg.ch[k]);
		if (!from[k])
			from[k] = hrservo_state_target_ns(tg.st, tg.ch[k]);
		if (!from[k]) {
			err("channel %u has no position to move from; 'set' it first (nothing applied)",
			    tg.ch[k]);
			goto out;
		}
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
		report_violation("move", &v);
		err("nothing applied; a longer --time would fit");
		goto out;
	}
	if (hrservo_traj_upload(t, tg.h, 0, 0)) {
		err("%s: %s (nothing applied)", hrservo_name(tg.h),
		    errno == EBUSY ? "a channel is in use by a trajectory" :
		    strerror(errno));
		goto out;
	}
	ret = opt_wait ? traj_wait(tg.h, hrservo_traj_duration(t)) : 0;
out:
	hrservo_traj_free(t);
	targets_free(&tg);
	return ret;
}

/* ---- main ---- */

static const struct command commands[] = {
	{ "list", "[--json]", "List the controllers on this system.",
	  "\nOne line per controller: name, backend, channels, frame period.\n",
	  cmd_list },
	{ "info", "[--json] CTRL", "Show a controller's properties.",
	  "\nCTRL is hrservoN, N or /dev/hrservoN.\n", cmd_info },
	{ "get", "[--json] CTRL [CH...|all]",
	  "Show the state of channels (all by default).",
	  "\nFor each channel: on/off, target, pulse width in effect, limits.\n",
	  cmd_get },
	{ "set", "CTRL CH=VALUE [CH=VALUE...]",
	  "Set targets, all at once at the next frame, or none.",
	  "\nVALUE is a pulse width: 1500us, 1.5ms, 1500000ns; 50% (of the\n"
	  "channel's min..max); or relative to the current target: +10us,\n"
	  "-5%. Values outside the channel's limits are refused.\n",
	  cmd_set },
	{ "release", "CTRL [CH...|all]",
	  "Stop the pulses of channels (all by default).",
	  "\nA pulse in progress ends at its full width; none follows.\n",
	  cmd_release },
	{ "period", "[--json] CTRL [PERIOD]",
	  "Show or set the frame period (the pulse repetition interval).",
	  "\nPERIOD is a time, e.g. 20ms (50 Hz) or 10000us; it takes effect at\n"
	  "the next frame. Every channel's max limit must fit in the frame.\n",
	  cmd_period },
	{ "limits", "[--json] CTRL [CH...] | CTRL CH=MIN:MAX...",
	  "Show or set the pulse limits of channels.",
	  "\nCH=MIN:MAX sets both (1000us:2000us); leave one out to keep it\n"
	  "(3=:2100us). All changes are checked first; nothing is applied\n"
	  "unless all are valid.\n",
	  cmd_limits },
	{ "monitor", "[--json] [--count N] CTRL",
	  "Follow the state of a controller.",
	  "\nOn a terminal, a table that redraws on every change; otherwise\n"
	  "the state of every channel, then one line per channel change\n"
	  "(JSON Lines with --json). Sleeps in poll() between changes.\n"
	  "--count N exits after N change lines. Exits 1 if the controller\n"
	  "is removed.\n",
	  cmd_monitor },
	{ "move", "[--time S] [--wait] CTRL CH=VALUE... | CTRL home",
	  "Move channels smoothly so that they all arrive together.",
	  "\nA minimum-jerk trajectory from where each channel is to its VALUE\n"
	  "(see 'set'), played by the kernel. Without --time, the shortest\n"
	  "time of at least 1 s that keeps within the speed and acceleration\n"
	  "limits. --wait returns when the move is done. 'CTRL home' moves\n"
	  "every calibrated joint of CTRL that has a home position to it.\n",
	  cmd_move },
	{ "traj", "[options] check FILE [CTRL] | upload FILE CTRL | status|stop|wait CTRL | plot FILE -o PNG|--print-series",
	  "Check, upload and follow trajectories.",
	  "\nFILE is CSV: a header 't_s,ch0_us,ch3_us' (units us, ns or ms;\n"
	  "t_ms for times in ms; joints of the calibration: elbow_deg), then one\n"
	  "waypoint per row, times increasing, at least 1 ms (and at most 60 s)\n"
	  "apart: each interval is one kernel segment.\n\n"
	  "  check    check FILE: syntax, times, units, joints (all on one\n"
	  "           controller); with CTRL, also CTRL's limits: the first\n"
	  "           violation is reported with its time, channel, value and\n"
	  "           limit\n"
	  "  upload   check, then send it to be played (nothing is sent if\n"
	  "           the check fails)\n"
	  "  status   the player: state, segment, queue\n"
	  "  stop     drop the queue; axes brake within their limits and hold\n"
	  "  wait     until the trajectory ends (exit 1 on an underrun)\n"
	  "  plot     draw FILE's planned widths into a PNG (-o); with\n"
	  "           --measured M.csv (same format), or --capture EVENTS\n"
	  "           (the loopback chip's debugfs capture; --first-line N if\n"
	  "           channel 0 is on line N), measured pulses as dots; times\n"
	  "           count from the trajectory's start recorded in EVENTS\n"
	  "           by 'upload --capture EVENTS'\n\n"
	  "Options:\n"
	  "  --interp linear|cubic|minjerk  between waypoints (default minjerk)\n"
	  "  --fit         stretch time until speeds and accelerations fit\n"
	  "  --at S        start S seconds from now (upload)\n"
	  "  --replace     splice in at --at (or the next frame), continuous\n"
	  "  --wait        wait for the end after upload (progress on a tty)\n"
	  "  --timeout S   give up waiting after S seconds\n"
	  "  --capture FILE  upload: write the start time (# start_ns=N) to\n"
	  "                FILE, to append the capture to; plot: the capture\n"
	  "  -o, --output PNG, --measured CSV, --first-line N   for plot\n"
	  "  --print-series  plot: print planned and measured widths as CSV\n",
	  cmd_traj },
	{ "calibrate", "[options] set|points CTRL CH=... | show [CTRL] | apply CTRL | jog CTRL CH",
	  "Calibrate servos: maps from deg, rad or % to pulse widths.",
	  "\nThe calibration of the robot lives in one file: --calibration FILE,\n"
	  "else $HRSERVO_CALIBRATION, else ~/.config/hrservo/robot.conf. CH is a\n"
	  "channel number or a joint name. Once calibrated, 'set', 'move' and\n"
	  "trajectory files take joint names and positions: set arm elbow=45deg,\n"
	  "set arm elbow=home.\n\n"
	  "  set      CH=KEY:VALUE,...  keys: name, min, center, max (pulses at\n"
	  "           the ends and the middle of range), range (default 180deg;\n"
	  "           deg and rad centred on 0, % from 0), invert:yes|no,\n"
	  "           trim (a pulse offset), lo, hi (soft limits), home, speed,\n"
	  "           accel (per second, in the joint's unit)\n"
	  "           e.g. 0=name:elbow,min:1000us,center:1500us,max:2000us\n"
	  "  points   CH=POS:PULSE,...  a map through measured points (2 to 16;\n"
	  "           --cubic for a monotone cubic), e.g. 0=0deg:1010us,90deg:1490us\n"
	  "  show     the joints (of CTRL); --json\n"
	  "  apply    set CTRL's kernel limits from its joints: pulses at the\n"
	  "           soft limits, speed and acceleration at the map's steepest\n"
	  "  jog      on a terminal: move the servo with the arrow keys, +/-\n"
	  "           for the step (--step W to start), mark [ min, c center,\n"
	  "           ] max, p a point at a position; u undo, s save, q quit\n"
	  "           (the servo is released)\n\n"
	  "Saves are atomic: the file holds the old or the new calibration.\n",
	  cmd_calibrate },
	{ NULL, NULL, NULL, NULL, NULL }
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: servoctl [--json] [--calibration FILE] COMMAND [ARGS...]\n\n"
		"Control hrservo servo controllers.\n\nCommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "\nOptions:\n"
		"  -j, --json     machine-readable output (commands that read)\n"
		"  -c, --calibration FILE  the robot's calibration (joints)\n"
		"  -h, --help     this help; 'servoctl COMMAND --help' for one command\n"
		"  -V, --version  show the version\n\n"
		"Exit status: 0 success, 1 runtime error, 2 usage error.\n"
		"See servoctl(1).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "calibration", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const struct command *c;
	int opt;

	while ((opt = getopt_long(argc, argv, "+jhVc:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			opt_json = true;
			break;
		case 'c':
			opt_calibration = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("servoctl (hrservo) API %u\n", hrservo_api_version());
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc && (c = find_command(argv[optind + 1]))) {
			printf("Usage: servoctl %s %s\n\n%s\n%s", c->name, c->args,
			       c->summary, c->help);
			return 0;
		}
		usage(stdout);
		return 0;
	}
	c = find_command(argv[optind]);
	if (!c) {
		fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = c->name;
	return c->run(argc - optind, argv + optind);
}
