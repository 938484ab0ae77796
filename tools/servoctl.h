/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * servoctl - what its source files share.
 *
 * servoctl.c holds main, the command table and the global options;
 * common.c the helpers every command uses (errors, option parsing, opening
 * controllers, channel arguments, the state table, the calibration file);
 * each command family has its file:
 *
 *   cmd-list.c     list, info
 *   cmd-set.c      get, set, release (and the CH=VALUE targets of move)
 *   cmd-limits.c   limits, period
 *   cmd-monitor.c  monitor
 *   cmd-traj.c     traj, move
 *   calibrate.c    calibrate set, points, show, apply
 *   cmd-jog.c      calibrate jog
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

/* ---- servoctl.c: global options, the command table ---- */

extern bool opt_json;
extern const char *opt_calibration;	/* --calibration FILE, or NULL */
/* The command being run ("" before one is chosen), for err(). */
extern const char *cmd_name;

const struct command *find_command(const char *name);

/* ---- common.c ---- */

/* "servoctl: CMD: " and the message, on stderr. */
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *fmt_ns(uint32_t ns, char *buf);
/* Print a JSON value and release it. */
void put_json(json_object *o);
/* @o[@key] = @v, a JSON integer. */
void json_add_int64(json_object *o, const char *key, int64_t v);
uint64_t now_ns(void);

/* "Usage: servoctl CMD ARGS", the summary and the help, on stdout. */
void print_command_help(const struct command *c);
/*
 * Parse --json, --help and the @extra options (@handle takes those; 0 if
 * it did) of command @c; exits on --help and on usage errors. Returns the
 * index of the first argument.
 */
int sub_opts(int argc, char **argv, const struct command *c,
	     const char *extra_short, const struct option *extra,
	     int (*handle)(int opt, const char *arg));

/* Why no controller can be found, when the driver is not loaded; or NULL. */
const char *no_driver(void);
/* Open a controller, or a calibration's alias; NULL after an error. */
struct hrservo *open_ctrl(const char *spec);
/*
 * CTRL and the arguments after it: @argc of them (from @min to @max, else
 * @usage is the error), CTRL opened into *@h. 0, or an exit status.
 */
int open_ctrl_arg(int argc, char **argv, int min, int max, const char *usage,
		  struct hrservo **h);
/* A channel index of @h, or -1 after an error naming the range. */
int parse_channel(struct hrservo *h, const char *s);
/*
 * A channel number or a joint name of the calibration. Returns the channel
 * with *@jp the channel's joint (or NULL), or -1 (usage) / -2 (runtime)
 * after printing why.
 */
int channel_or_joint(struct hrservo *h, const char *s,
		     const struct hrservo_joint **jp);
/* Channels named on the command line, or all of them: a mask. 0 or -1. */
int channel_args(struct hrservo *h, int argc, char **argv, uint64_t *mask);
/* CTRL [CH...|all]: open the controller, parse the channels. */
int open_channels(int argc, char **argv, struct hrservo **h, uint64_t *mask);
/* An absolute pulse width ("1500us", "1.5ms"): 0, or -1 if it is not one. */
int parse_abs_ns(const char *s, uint32_t *ns);

/* A channel of a state snapshot: JSON, and a row of the state table. */
json_object *channel_json(const struct hrservo_state *st, unsigned int c);
void print_state_header(void);
void print_state_row(const struct hrservo_state *st, unsigned int c);

/* The calibration file: --calibration, $HRSERVO_CALIBRATION, or default. */
const char *calib_path(void);
/*
 * The robot's calibration, loaded once and shared by every command (the
 * calibrate commands change it and save it). A missing file is an empty
 * calibration unless @required (then an error is printed and NULL
 * returned); a broken file is always reported and gives NULL.
 */
struct hrservo_calib *calib_get(bool required);

/* ---- cmd-set.c: CH=VALUE targets, shared by set and move ---- */

/* CTRL CH=VALUE... resolved against the controller's state. */
struct targets {
	struct hrservo *h;
	struct hrservo_state *st;
	struct hrservo_batch *b;
	size_t n;
	unsigned int ch[HRSERVO_MAX_CHANNELS];
	uint32_t ns[HRSERVO_MAX_CHANNELS];
};

/* Open the controller and check every CH=VALUE; 0 or an exit status. */
int targets_prepare(struct targets *tg, int argc, char **argv);
void targets_free(struct targets *tg);

/* ---- calibrate.c, shared with cmd-jog.c ---- */

/* mkdir -p of the file's directory, then the atomic save; 0 or -1. */
int calib_store(struct hrservo_calib *c);
/* A pulse width in ns from "1500us", "1.5ms"...: 0 or -1. */
int pulse_of(const char *s, double *ns);
/* A position "90deg", "-1.2rad", "50%" (sign allowed): 0 or -1. */
int position_of(const char *s, double *pos, enum hrservo_unit *u);
/*
 * The joint of CTRL's channel @chs (a number or a joint name), from @c or
 * a fresh one named CTRL_chN. Returns 0 or an exit status.
 */
int joint_for(struct hrservo_calib *c, struct hrservo *h, const char *ctrl,
	      const char *chs, struct hrservo_joint *j);
/* Points from min/center/max pulses over a position range. */
void three_points(struct hrservo_joint *j, double range, double lo_ns,
		  double mid_ns, double hi_ns, bool has_mid);

/* ---- the commands ---- */

int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_period(int argc, char **argv);
int cmd_limits(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_traj(int argc, char **argv);
int cmd_move(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
/* calibrate jog CTRL CH, with --step @step (or NULL) and --cubic. */
int calibrate_jog(int argc, char **argv, const char *step, bool cubic);

#endif
