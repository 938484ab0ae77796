/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * servoctl - what its source files share: errors, option parsing, opening
 * controllers, the robot's calibration.
 */
#ifndef SERVOCTL_H
#define SERVOCTL_H

#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "hrservo.h"

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

struct command {
	const char *name;
	const char *args;
	const char *summary;
	const char *help;
	int (*run)(int argc, char **argv);
};

extern bool opt_json;

void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *fmt_ns(uint32_t ns, char *buf);
struct hrservo *open_ctrl(const char *spec);
void put_json(json_object *o);
int parse_channel(struct hrservo *h, const char *s);
/* An absolute pulse width ("1500us", "1.5ms"): 0, or -1 if it is not one. */
int parse_abs_ns(const char *s, uint32_t *ns);
int sub_opts(int argc, char **argv, const struct command *c,
	     const char *extra_short, const struct option *extra,
	     int (*handle)(int opt, const char *arg));
const struct command *find_command(const char *name);

/* The calibration file: --calibration, $HRSERVO_CALIBRATION, or default. */
const char *calib_path(void);
/*
 * The robot's calibration, loaded once and shared by every command (the
 * calibrate commands change it and save it). A missing file is an empty
 * calibration unless @required (then an error is printed and NULL
 * returned); a broken file is always reported and gives NULL.
 */
struct hrservo_calib *calib_get(bool required);

int cmd_calibrate(int argc, char **argv);

#endif
