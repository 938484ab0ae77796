// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl period, limits: the frame period of a controller and the pulse
 * limits of its channels.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "servoctl.h"

/* ---- period ---- */

/* A frame rate "50Hz" (decimals allowed) as a period in ns: 0 or -1. */
static int rate_ns(const char *s, uint32_t *ns)
{
	size_t n = strspn(s, "0123456789.");
	double hz, v;
	char *end;

	if (!n || strcmp(s + n, "Hz"))
		return -1;
	hz = strtod(s, &end);
	if (end != s + n || !(hz > 0))
		return -1;
	v = nearbyint(1e9 / hz);
	if (v > UINT32_MAX)
		return -1;
	*ns = (uint32_t)v;
	return 0;
}

int cmd_period(int argc, char **argv)
{
	uint32_t period, pmin, pmax, ns;
	struct hrservo *h;
	char a[24], b[24], c[24];
	int i, ret = 0;

	i = sub_opts(argc, argv, find_command("period"), NULL, NULL, NULL);
	ret = open_ctrl_arg(argc - i, argv + i, 1, 2,
			    "expects a controller and, to set it, a period", &h);
	if (ret)
		return ret;
	if (hrservo_get_frame_period(h, &period, &pmin, &pmax)) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	if (argc - i == 1) {
		if (opt_json) {
			json_object *o = json_object_new_object();

			json_add_int64(o, "frame_period_ns", period);
			json_add_int64(o, "frame_period_min_ns", pmin);
			json_add_int64(o, "frame_period_max_ns", pmax);
			put_json(o);
		} else {
			printf("%s (%s..%s)\n", fmt_ns(period, a), fmt_ns(pmin, b),
			       fmt_ns(pmax, c));
		}
		goto out;
	}
	if (parse_abs_ns(argv[i + 1], &ns) && rate_ns(argv[i + 1], &ns)) {
		err("'%s' is not a period; use e.g. 20ms, 20000us, or a rate: 50Hz",
		    argv[i + 1]);
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

struct limit_change {
	unsigned int ch;
	uint32_t min_ns, max_ns, old_min, old_max;
};

int cmd_limits(int argc, char **argv)
{
	const struct hrservo_joint *joint;
	struct limit_change chg[HRSERVO_MAX_CHANNELS];
	struct hrservo_state *st = NULL;
	struct hrservo *h;
	uint64_t seen = 0;
	int i, n = 0, ret = EXIT_RUNTIME;

	i = sub_opts(argc, argv, find_command("limits"), NULL, NULL, NULL);
	ret = open_ctrl_arg(argc - i, argv + i, 1, INT_MAX,
			    "expects a controller", &h);
	if (ret)
		return ret;
	ret = EXIT_RUNTIME;
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
				json_add_int64(o, "min_ns", hrservo_state_min_ns(st, c));
				json_add_int64(o, "max_ns", hrservo_state_max_ns(st, c));
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
	{
		struct hrservo_limit_change set[HRSERVO_MAX_CHANNELS];
		size_t bad = 0;

		for (int k = 0; k < n; k++)
			set[k] = (struct hrservo_limit_change){
				.channel = chg[k].ch, .min_ns = chg[k].min_ns,
				.max_ns = chg[k].max_ns,
			};
		/* All or nothing: the library puts back what it set. */
		if (hrservo_set_limits_all(h, set, (size_t)n, &bad)) {
			err("channel %u: %s (nothing applied)", set[bad].channel,
			    strerror(errno));
			goto out;
		}
	}
	ret = 0;
out:
	hrservo_state_free(st);
	hrservo_close(h);
	return ret;
}
