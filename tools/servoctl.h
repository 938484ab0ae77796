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
 *   cmd-estop.c    estop
 *   cmd-record.c   record
 *   calibrate.c    calibrate set, points, show, apply
 *   cmd-jog.c      calibrate jog
 *   cmd-teleop.c   teleop
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
extern bool opt_no_calibration;		/* --no-calibration */
extern bool opt_strict_limits;		/* --strict-limits */
/* The command being run ("" before one is chosen), for err(). */
extern const char *cmd_name;
/* Set by a command that needs no calibration (traj stop): see open_ctrl(). */
extern bool calib_optional;

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

/*
 * The e-stop latch refuses every target and trajectory with EPERM, from any
 * client. estop_words(): what to say about it, with how to clear it.
 * estop_refused(): if @e (an errno of a change of @h) is the latch's (EPERM,
 * or ECANCELED while it is latched), err() "CTRL: <those words>" and true;
 * else false, and the caller says what else went wrong. Every command that
 * moves reports the latch through these.
 */
const char *estop_words(struct hrservo *h);
bool estop_refused(struct hrservo *h, int e);

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

/* The sysfs class directory of controllers ($HRSERVO_SYSFS_CLASS, tests). */
const char *sysfs_class(void);
/* Why no controller can be found, when the driver is not loaded; or NULL. */
const char *no_driver(void);
/*
 * Open a controller, or a calibration's alias; NULL after an error. A
 * calibration file that does not load is such an error (but for the
 * release command), found before any controller is opened. The state
 * table and channel_json() show the joints of the controller opened last.
 */
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

/*
 * A channel of a state snapshot: JSON, and a row of the state table; with
 * the joint of the channel (name, positions of the target and of the
 * pulse) on the controller open_ctrl() opened last, if it has joints.
 */
json_object *channel_json(const struct hrservo_state *st, unsigned int c);
void print_state_header(void);
void print_state_row(const struct hrservo_state *st, unsigned int c);
/* The joint of channel @c of that controller, or NULL. */
const struct hrservo_joint *table_joint(unsigned int c);
/* A position for people: "45deg", "-12.5deg", "0.7854rad", "50%". */
const char *fmt_joint_pos(const struct hrservo_joint *j, double pos,
			  char *buf, size_t size);
/* A JSON number printed with @decimals (trailing zeros cut if @trim). */
json_object *json_fixed(double v, int decimals, bool trim);

/* $XDG_CONFIG_HOME/hrservo/@name, else ~/.config/hrservo/@name, in @buf. */
const char *config_path(const char *name, char *buf, size_t size);
/* The calibration file: --calibration, $HRSERVO_CALIBRATION, or default. */
const char *calib_path(void);
/*
 * The robot's calibration, loaded once and shared by every command (the
 * calibrate commands change it and save it). A missing file is an empty
 * calibration unless @required (then an error is printed and NULL
 * returned); a broken file is always reported and gives NULL.
 */
struct hrservo_calib *calib_get(bool required);
/*
 * Is the calibration file there but unusable (its error printed once)?
 * With --no-calibration, calib_get() gives an empty calibration, never
 * read from a file: false, and calib_get(true) is an error.
 */
bool calib_broken(void);

/*
 * The kernel limits of the joints on @channels (a mask) of @h against
 * those hrservo_joint_kernel_limits() derives from the calibration: on a
 * mismatch (after a module reload, or limits set by hand), a warning on
 * stderr naming the joint and both sets of limits, and 'calibrate apply'.
 * Channels without a joint are skipped. Returns 0; under --strict-limits a
 * mismatch is an error instead (EXIT_RUNTIME, nothing to be applied), as
 * is a calibration that does not load or limits that cannot be read.
 */
int joint_limits_check(struct hrservo *h, uint64_t channels);

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
/* The span of a fresh joint's map: 180 deg, pi rad, 100 %. */
double joint_default_range(enum hrservo_unit u);
/*
 * Give @j (the joint on file, or a fresh one: npoints 0) the map of @n
 * points @pos/@pulse_ns in @unit and keep the rest of it: soft limits at
 * the ends of its old map move to the ends of the new one, others stay
 * (clamped into the new map), the home stays if it is within them, the
 * interpolation stays. A new unit resets the limits, home, speed and
 * accel, which were in the old one. @note says what had to change ("" if
 * nothing). Returns 0, or -1 with @note saying why (nothing changed).
 */
int joint_remap(struct hrservo_joint *j, const double *pos,
		const double *pulse_ns, unsigned int n, enum hrservo_unit unit,
		char *note, size_t size);

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
int cmd_estop(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_teleop(int argc, char **argv);

/* ---- cmd-estop.c, shared with info ---- */

/* The latch as info shows it: "estop:" and "estop input:" lines. */
void estop_print(const struct hrservo_estop_info *e);
/* ...and as JSON: latched, source, tripped_ns, input. */
json_object *estop_json(const struct hrservo_estop_info *e);
/* Why hrservo_estop_*() failed with ENOTSUP, for messages. */
#define ESTOP_NONE_WHY	"no e-stop latch (a driver before ABI version 4, or a backend without one)"

/* What calibrate jog marked. */
struct jog_marks {
	double mark[3];		/* pulses at min, center, max; NAN if unset */
	unsigned int npoints;	/* or points at positions, sorted */
	enum hrservo_unit unit;	/* of the points */
	double pos[HRSERVO_MAP_POINTS_MAX];
	double pulse_ns[HRSERVO_MAP_POINTS_MAX];
};
/*
 * The joint calibrate jog saves: @old (the joint on file, or a fresh one)
 * with the map of the marks (two points or more; else min and max, and
 * center, at the ends and the middle of the old map's range, or of the
 * default range for a fresh joint), cubic if @cubic, the rest kept as
 * joint_remap() keeps it. 0 (@note: what had to change), or -1 (@note:
 * why not).
 */
int jog_merge(const struct hrservo_joint *old, const struct jog_marks *m,
	      bool cubic, struct hrservo_joint *out, char *note, size_t size);
/*
 * calibrate jog CTRL CH, with --step @step and --from @from (or NULL) and
 * --cubic.
 */
int calibrate_jog(int argc, char **argv, const char *step, const char *from,
		  bool cubic);

#endif
