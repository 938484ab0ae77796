// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl list, info: the controllers of this system and their properties.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "servoctl.h"

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
	json_add_int64(o, "frame_period_ns", period);
	return o;
}

/* ---- list ---- */

int cmd_list(int argc, char **argv)
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

int cmd_info(int argc, char **argv)
{
	uint32_t period, pmin, pmax;
	struct hrservo *h;
	int i, ret;

	i = sub_opts(argc, argv, find_command("info"), NULL, NULL, NULL);
	ret = open_ctrl_arg(argc - i, argv + i, 1, 1, "expects one controller",
			    &h);
	if (ret)
		return ret;
	if (hrservo_get_frame_period(h, &period, &pmin, &pmax)) {
		err("%s: %s", argv[i], strerror(errno));
		hrservo_close(h);
		return EXIT_RUNTIME;
	}
	if (opt_json) {
		json_object *o = ctrl_json(h, period);

		json_add_int64(o, "frame_period_min_ns", pmin);
		json_add_int64(o, "frame_period_max_ns", pmax);
		json_add_int64(o, "pulse_min_ns", hrservo_pulse_min_ns(h));
		json_add_int64(o, "pulse_max_ns", hrservo_pulse_max_ns(h));
		json_add_int64(o, "resolution_ns", hrservo_resolution_ns(h));
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
