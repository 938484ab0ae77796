// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl list, info: the controllers of this system and their properties.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * The hardware behind a controller, from sysfs, in the spirit of
 * gpioinfo: the class device's parent is the backend's device (the
 * platform device hrservo-gpio.N, or the I2C client B-00AA of a PCA9685
 * on bus B at address 0xAA), with its bus, driver and device tree node.
 */
struct ctrl_hw {
	char path[PATH_MAX];	/* the device in /sys/devices */
	char name[64];		/* hrservo-gpio.0, 1-0040 */
	char bus[32];		/* platform, i2c */
	char driver[64];
	char of_node[256];	/* its device tree node, or "" */
	bool i2c;
	unsigned int i2c_bus, i2c_addr;
	char adapter[128];	/* the I2C adapter's name */
	char client[64];	/* the I2C client's name */
	char lines[4096];	/* hrservo-gpio's lines attribute, or "" */
};

/* @src into @dst of @size, cut if it is longer. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* @dir/@attr, without its trailing newline; "" if it cannot be read. */
static void read_attr(const char *dir, const char *attr, char *buf,
		      size_t size)
{
	char path[PATH_MAX + 64];
	size_t n = 0;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
}

/* The last component of where the link @dir/@link leads; "" if none. */
static void link_name(const char *dir, const char *link, char *buf,
		      size_t size)
{
	char path[PATH_MAX + 64], real[PATH_MAX];
	const char *slash;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, link);
	if (!realpath(path, real))
		return;
	slash = strrchr(real, '/');
	copy_str(buf, size, slash ? slash + 1 : real);
}

/* 0, or -1 if sysfs shows no device behind controller @name. */
static int ctrl_hw(const char *name, struct ctrl_hw *hw)
{
	static const char dt[] = "/sys/firmware/devicetree/base";
	char path[PATH_MAX + 64], real[PATH_MAX], *slash;
	int n;

	memset(hw, 0, sizeof(*hw));
	snprintf(path, sizeof(path), "%s/%s/device", sysfs_class(), name);
	if (!realpath(path, hw->path))
		return -1;
	slash = strrchr(hw->path, '/');
	copy_str(hw->name, sizeof(hw->name), slash ? slash + 1 : hw->path);
	link_name(hw->path, "subsystem", hw->bus, sizeof(hw->bus));
	link_name(hw->path, "driver", hw->driver, sizeof(hw->driver));
	snprintf(path, sizeof(path), "%s/of_node", hw->path);
	if (realpath(path, real)) {
		const char *node = real;

		if (!strncmp(real, dt, sizeof(dt) - 1))
			node = real[sizeof(dt) - 1] ? real + sizeof(dt) - 1 : "/";
		copy_str(hw->of_node, sizeof(hw->of_node), node);
	}
	if (!strcmp(hw->bus, "i2c") &&
	    sscanf(hw->name, "%u-%x%n", &hw->i2c_bus, &hw->i2c_addr, &n) == 2 &&
	    !hw->name[n]) {
		hw->i2c = true;
		read_attr(hw->path, "name", hw->client, sizeof(hw->client));
		/* An I2C client's parent is its adapter. */
		snprintf(path, sizeof(path), "%s/..", hw->path);
		read_attr(path, "name", hw->adapter, sizeof(hw->adapter));
	}
	read_attr(hw->path, "lines", hw->lines, sizeof(hw->lines));
	return 0;
}

static json_object *ctrl_hw_json(const struct ctrl_hw *hw)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(hw->name));
	json_object_object_add(o, "bus", json_object_new_string(hw->bus));
	json_object_object_add(o, "driver", json_object_new_string(hw->driver));
	json_object_object_add(o, "sysfs", json_object_new_string(hw->path));
	if (hw->of_node[0])
		json_object_object_add(o, "of_node",
				       json_object_new_string(hw->of_node));
	if (hw->i2c) {
		json_object *i = json_object_new_object();

		json_object_object_add(i, "bus", json_object_new_int((int)hw->i2c_bus));
		json_object_object_add(i, "address",
				       json_object_new_int((int)hw->i2c_addr));
		json_object_object_add(i, "adapter",
				       json_object_new_string(hw->adapter));
		json_object_object_add(i, "client",
				       json_object_new_string(hw->client));
		json_object_object_add(o, "i2c", i);
	}
	if (hw->lines[0]) {
		json_object *arr = json_object_new_array();
		char copy[sizeof(hw->lines)], *save, *l;

		snprintf(copy, sizeof(copy), "%s", hw->lines);
		for (l = strtok_r(copy, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save))
			json_object_array_add(arr, json_object_new_string(l));
		json_object_object_add(o, "lines", arr);
	}
	return o;
}

static void ctrl_hw_print(const struct ctrl_hw *hw)
{
	printf("device:        %s (%s%s%s)\n", hw->name,
	       hw->bus[0] ? hw->bus : "unknown bus",
	       hw->driver[0] ? ", driver " : "", hw->driver);
	if (hw->i2c)
		printf("i2c:           bus %u (%s), address 0x%02x, client %s\n",
		       hw->i2c_bus, hw->adapter[0] ? hw->adapter : "?",
		       hw->i2c_addr, hw->client[0] ? hw->client : "?");
	if (hw->of_node[0])
		printf("device tree:   %s\n", hw->of_node);
	if (hw->lines[0]) {
		char copy[sizeof(hw->lines)], *save, *l;
		unsigned int ch = 0;

		/* One channel a line, in channel order. */
		snprintf(copy, sizeof(copy), "%s", hw->lines);
		for (l = strtok_r(copy, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save), ch++)
			printf("%-15schannel %u: %s\n", ch ? "" : "lines:", ch,
			       l);
	}
}

/* The names servoctl info gives the capabilities, in this order. */
static const struct {
	uint32_t cap;
	const char *name;
} cap_names[] = {
	{ HRSERVO_CAP_EVENTS, "events" },
	{ HRSERVO_CAP_TRAJ, "traj" },
	{ HRSERVO_CAP_MOTION_LIMITS, "motion-limits" },
	{ HRSERVO_CAP_ATOMIC_BATCH, "atomic-batch" },
	{ HRSERVO_CAP_FEEDBACK, "feedback" },
	{ HRSERVO_CAP_WATCHDOG, "watchdog" },
	{ HRSERVO_CAP_ESTOP, "estop" },
	{ HRSERVO_CAP_FRAME_RECORD, "frame-record" },
	{ HRSERVO_CAP_FRAME_PERIOD, "frame-period" },
	{ HRSERVO_CAP_RT_TIMING, "rt-timing" },
};

static json_object *caps_json(uint32_t caps)
{
	json_object *arr = json_object_new_array();

	for (size_t k = 0; k < sizeof(cap_names) / sizeof(*cap_names); k++)
		if (caps & cap_names[k].cap)
			json_object_array_add(arr, json_object_new_string(
							   cap_names[k].name));
	return arr;
}

/* "capabilities: events traj ...", or "none" */
static void caps_print(uint32_t caps)
{
	bool any = false;

	printf("capabilities:");
	for (size_t k = 0; k < sizeof(cap_names) / sizeof(*cap_names); k++) {
		if (caps & cap_names[k].cap) {
			printf(" %s", cap_names[k].name);
			any = true;
		}
	}
	printf("%s\n", any ? "" : " none");
}

int cmd_info(int argc, char **argv)
{
	uint32_t period, pmin, pmax;
	static struct ctrl_hw hw;
	struct hrservo_estop_info estop;
	struct hrservo *h;
	bool have_hw, have_estop;
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
	have_hw = !ctrl_hw(hrservo_name(h), &hw);
	/* A controller without the latch (ENOTSUP) says so; others fail. */
	have_estop = !hrservo_estop_get(h, &estop);
	if (!have_estop && errno != ENOTSUP) {
		err("%s: e-stop: %s", hrservo_name(h), strerror(errno));
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
		json_object_object_add(o, "capabilities",
				       caps_json(hrservo_caps(h)));
		json_object_object_add(o, "estop",
				       have_estop ? estop_json(&estop) : NULL);
		if (have_hw)
			json_object_object_add(o, "device", ctrl_hw_json(&hw));
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
		caps_print(hrservo_caps(h));
		if (have_estop)
			estop_print(&estop);
		else
			printf("estop:         %s\n", ESTOP_NONE_WHY);
		if (have_hw)
			ctrl_hw_print(&hw);
	}
	hrservo_close(h);
	return 0;
}
