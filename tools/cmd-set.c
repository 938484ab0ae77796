// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl get, set, release: the state of channels, their targets, and
 * the CH=VALUE targets that move shares.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "servoctl.h"

/* ---- get ---- */

int cmd_get(int argc, char **argv)
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
 * A value with a bare sign ("+10deg", "+20us", "-5%"): it could be read
 * two ways, so it is refused, with both spelled out.
 */
static void ambiguous(const struct hrservo_joint *j, int ch,
		      const char *text, const struct hrservo_value *v)
{
	const char *mag = text + 1;
	bool position = v->unit == HRSERVO_UNIT_DEG ||
			v->unit == HRSERVO_UNIT_RAD || (j && v->unit == j->unit);
	char who[96];

	if (j)
		snprintf(who, sizeof(who), "joint %s", j->name);
	else
		snprintf(who, sizeof(who), "channel %d", ch);
	if (v->sign > 0 && position)
		err("%s: '%s' is ambiguous: write '%s' for the position %s, or '+=%s' for %s more (nothing applied)",
		    who, text, mag, mag, mag, mag);
	else if (v->sign > 0)
		err("%s: '%s' is ambiguous: write '+=%s' for %s more, or '%s' for a pulse of %s (nothing applied)",
		    who, text, mag, mag, mag, mag);
	else
		err("%s: '%s' is ambiguous: write '-=%s' for %s less; a pulse width is never negative (nothing applied)",
		    who, text, mag, mag);
}

/*
 * A position of joint @j ("45deg", "+=5deg") as a pulse width; relative
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
			err("joint %s: '%s' is relative, but the joint has no position (never set, or released) (nothing applied)",
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
			if (errno == EDOM) {
				ambiguous(j, ch, eq + 1, &v);
				return EXIT_USAGE;
			}
			err("channel %d: '%s' is not a value; use e.g. 1500us, 1.5ms, 50%%, +=10us (nothing applied)",
			    ch, eq + 1);
			return EXIT_USAGE;
		}
		mn = hrservo_state_min_ns(st, ch);
		mx = hrservo_state_max_ns(st, ch);
		if (j && v.unit == j->unit) {
			/* A position of the joint, through its map. */
			/* A released channel has no position to add to. */
			ret = joint_value_ns(j, &v, eq + 1,
					     hrservo_state_enabled(st, ch) ?
					     hrservo_state_target_ns(st, ch) : 0,
					     &ns);
			if (ret)
				return ret;
		} else if (j && (v.unit == HRSERVO_UNIT_DEG ||
				 v.unit == HRSERVO_UNIT_RAD)) {
			err("joint %s: '%s': unit mismatch, the joint is calibrated in %s (nothing applied)",
			    j->name, eq + 1, hrservo_unit_name(j->unit));
			return EXIT_USAGE;
		} else if (hrservo_value_to_ns(&v, mn, mx,
					       hrservo_state_enabled(st, ch) ?
					       hrservo_state_target_ns(st, ch) : 0,
					       &ns)) {
			if (errno == ENODATA)
				err("channel %d: '%s' is relative, but the channel has no position (never set, or released) (nothing applied)",
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

void targets_free(struct targets *tg)
{
	hrservo_state_free(tg->st);
	hrservo_batch_free(tg->b);
	hrservo_close(tg->h);
}

/*
 * CTRL home: JOINT=home for every joint of @c on @h that has a home
 * position, into @args (its storage @buf). The number of them, 0 if none.
 */
static int home_args(struct hrservo_calib *c, struct hrservo *h,
		     char buf[][HRSERVO_JOINT_NAME_MAX + 8], char **args)
{
	int n = 0;

	for (unsigned int i = 0; i < hrservo_calib_count(c); i++) {
		const struct hrservo_joint *j = hrservo_calib_joint(c, i);

		if (!j->has_home || n >= HRSERVO_MAX_CHANNELS ||
		    hrservo_calib_find_channel(c, hrservo_name(h), j->channel) != j)
			continue;
		snprintf(buf[n], sizeof(buf[0]), "%s=home", j->name);
		args[n] = buf[n];
		n++;
	}
	return n;
}

/*
 * Open the controller and check every CH=VALUE; 0 or an exit status.
 * "CTRL home" stands for JOINT=home for every joint of CTRL that has a home
 * position (the others are not touched).
 */
int targets_prepare(struct targets *tg, int argc, char **argv)
{
	char buf[HRSERVO_MAX_CHANNELS][HRSERVO_JOINT_NAME_MAX + 8];
	char *home[HRSERVO_MAX_CHANNELS];
	bool to_home = argc == 2 && !strcmp(argv[1], "home");
	struct hrservo_calib *c = NULL;
	int n = argc - 1, ret;

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
	/* Home positions are the calibration's: it must exist. */
	if (to_home && !(c = calib_get(true)))
		return EXIT_RUNTIME;
	tg->h = open_ctrl(argv[0]);
	if (!tg->h)
		return EXIT_RUNTIME;
	argv++;
	if (to_home) {
		n = home_args(c, tg->h, buf, home);
		if (!n) {
			err("%s: no joint with a home position in %s", argv[-1],
			    calib_path());
			targets_free(tg);
			return EXIT_RUNTIME;
		}
		argv = home;
	}
	tg->b = hrservo_batch_new();
	tg->st = hrservo_read_state(tg->h);
	if (!tg->b || !tg->st) {
		err("%s: %s", hrservo_name(tg->h), strerror(errno));
		targets_free(tg);
		return EXIT_RUNTIME;
	}
	ret = build_batch(tg->h, tg->st, n, argv, tg->b, tg->ch, tg->ns);
	if (!ret) {
		uint64_t m = 0;

		for (int k = 0; k < n; k++)
			m |= 1ULL << tg->ch[k];
		ret = joint_limits_check(tg->h, m) ? EXIT_RUNTIME : 0;
	}
	if (ret) {
		targets_free(tg);
		return ret;
	}
	tg->n = (size_t)n;
	return 0;
}

/*
 * EBUSY from a set: say which of the channels set a trajectory owns, by
 * joint name where there is one, and how to take them back.
 */
static void report_busy(const struct targets *tg)
{
	struct hrservo_calib *c = calib_get(false);
	char list[512] = "";
	uint64_t axes = 0;
	size_t len = 0;
	unsigned int n = 0;

	if (!hrservo_traj_owned(tg->h, &axes)) {
		for (size_t i = 0; i < tg->n && len < sizeof(list) - 80; i++) {
			const struct hrservo_joint *j;

			if (!(axes & (1ULL << tg->ch[i])))
				continue;
			j = c ? hrservo_calib_find_channel(c, hrservo_name(tg->h),
							   tg->ch[i]) : NULL;
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s%s%s%u%s", n ? ", " : "",
						j ? "joint " : "",
						j ? j->name : "",
						j ? " (channel " : "channel ",
						tg->ch[i], j ? ")" : "");
			n++;
		}
	}
	if (n)
		err("%s: %s %s moved by a trajectory: stop it first ('servoctl traj stop %s') (nothing applied)",
		    hrservo_name(tg->h), list, n == 1 ? "is" : "are",
		    hrservo_name(tg->h));
	else
		err("%s: a channel is moved by a trajectory: stop it first ('servoctl traj stop %s') (nothing applied)",
		    hrservo_name(tg->h), hrservo_name(tg->h));
}

int cmd_set(int argc, char **argv)
{
	struct targets tg;
	int i, ret;

	i = sub_opts(argc, argv, find_command("set"), NULL, NULL, NULL);
	ret = targets_prepare(&tg, argc - i, argv + i);
	if (ret)
		return ret;
	if (hrservo_apply(tg.h, tg.b)) {
		if (estop_refused(tg.h, errno))
			;	/* said, with how to clear it */
		else if (errno == EBUSY)
			report_busy(&tg);
		else
			err("%s: %s (nothing applied)", hrservo_name(tg.h),
			    errno == ERANGE ? "a value is outside its limits (they changed meanwhile)" :
			    strerror(errno));
		ret = EXIT_RUNTIME;
	}
	targets_free(&tg);
	return ret;
}

/* ---- release ---- */

int cmd_release(int argc, char **argv)
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
