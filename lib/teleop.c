// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo - teleoperation: stick shaping, the mapping file and the
 * teleop engine.
 *
 * The mapping file is INI, read through the library's reader (lib/ini.c)
 * as calibration files are: every error names FILE:LINE, the bad value and
 * the limit it breaks. It maps evdev axes to calibrated joints (rate or
 * position mode) and buttons to actions (a pose, a step of a joint, e-stop,
 * turbo), behind a deadman; see "Teleoperation" in
 * Documentation/libhrservo.rst for every key. libevdev is used only to turn
 * evdev names (BTN_SOUTH, ABS_X) into codes and back.
 *
 * The engine is pure logic: events and the time in, desired joint
 * positions out. Every target (a position-mode stick, a pose, a step) is
 * approached at most at the joint's rate limit, rate-mode speeds are
 * capped by it, and every position stays within the joint's soft limits;
 * without the deadman nothing moves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libevdev/libevdev.h>

#include "internal.h"

/* ---- Shaping ---- */

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

HRSERVO_API double hrservo_shape(const struct hrservo_shape *s, double x)
{
	double a, r, y;

	if (!s || !(s->deadzone >= 0 && s->deadzone < 1) ||
	    !(s->expo >= 0 && s->expo <= 1) || !(s->scale > 0) ||
	    isinf(s->scale) || isnan(x))
		return 0;
	a = fabs(clamp(x, -1, 1));
	if (a <= s->deadzone)
		return 0;
	r = fmin((a - s->deadzone) / (1 - s->deadzone), 1);
	y = ((1 - s->expo) * r + s->expo * r * r * r) * s->scale;
	if (x < 0)
		y = -y;
	return s->invert ? -y : y;
}

HRSERVO_API double hrservo_axis_norm(int value, int min, int max)
{
	double half;

	if (max <= min)
		return 0;
	half = ((double)max - min) / 2;
	return clamp(((double)value - min - half) / half, -1, 1);
}

HRSERVO_API double hrservo_axis_norm_trigger(int value, int min, int max)
{
	if (max <= min)
		return 0;
	return clamp(((double)value - min) / ((double)max - min), 0, 1);
}

HRSERVO_API double hrservo_rate_limit(double current, double desired,
				      double max_rate, double dt_s)
{
	double step;

	if (isnan(desired) || isnan(max_rate) || isnan(dt_s))
		return current;
	if (isnan(current) || max_rate <= 0)
		return desired;
	if (dt_s <= 0)
		return current;
	step = max_rate * dt_s;
	if (desired > current + step)
		return current + step;
	if (desired < current - step)
		return current - step;
	return desired;
}

/* ---- The map ---- */

#define TELEOP_AXES_MAX		(ABS_MAX + 1)
#define TELEOP_BUTTONS_MAX	64
#define TELEOP_POSES_MAX	32

enum axis_mode { MODE_RATE, MODE_POSITION };

struct map_axis {
	unsigned int code;
	int line;				/* its [axis] header */
	char joint[HRSERVO_JOINT_NAME_MAX];
	enum axis_mode mode;
	bool trigger;
	struct hrservo_shape shape;
	double max_rate;			/* 0: none */
	double from, to;			/* position mode */
};

enum action { ACT_DEADMAN, ACT_TURBO, ACT_ESTOP, ACT_POSE, ACT_STEP };

struct map_button {
	unsigned int code;
	int line;				/* where it is given */
	int action_line;			/* its action's */
	enum action action;
	char arg[HRSERVO_JOINT_NAME_MAX];	/* pose or joint name */
	double delta;				/* step */
};

struct pose_value {
	char joint[HRSERVO_JOINT_NAME_MAX];
	double pos;
	int line;
};

struct map_pose {
	char name[HRSERVO_JOINT_NAME_MAX];
	int line;
	unsigned int n;
	struct pose_value *v;
};

struct hrservo_teleop_map {
	bool deadman_none;
	double turbo_scale;
	unsigned int naxes;
	struct map_axis axis[TELEOP_AXES_MAX];
	unsigned int nbuttons;
	struct map_button button[TELEOP_BUTTONS_MAX];
	unsigned int nposes;
	struct map_pose pose[TELEOP_POSES_MAX];
};

HRSERVO_API void hrservo_teleop_map_free(struct hrservo_teleop_map *m)
{
	if (!m)
		return;
	for (unsigned int i = 0; i < m->nposes; i++)
		free(m->pose[i].v);
	free(m);
}

/* ---- Loading ---- */

struct map_loader {
	struct hrservo_teleop_map *m;
	const struct hrservo_calib *calib;
	const char **joint_names;		/* NULL-terminated: pose keys */
	int teleop_line;			/* the [teleop] header, 0: none */
	bool deadman;				/* given (a button or none) */
};

static const char *const teleop_keys[] = {
	"deadman", "turbo", "turbo_scale", "estop", NULL
};

static const char *const axis_keys[] = {
	"joint", "mode", "trigger", "scale", "deadzone", "expo", "invert",
	"max_rate", "from", "to", NULL
};

static const char *const button_keys[] = { "action", NULL };

enum section_kind { SEC_NONE, SEC_TELEOP, SEC_AXIS, SEC_BUTTON, SEC_POSE };

/* What [@section] is, and its NAME (after the word) in *@name. */
static enum section_kind section_kind(const char *section, const char **name)
{
	static const struct {
		const char *word;
		enum section_kind kind;
	} kinds[] = {
		{ "axis ", SEC_AXIS }, { "button ", SEC_BUTTON },
		{ "pose ", SEC_POSE },
	};

	*name = "";
	if (!strcmp(section, "teleop"))
		return SEC_TELEOP;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].word);

		if (!strncmp(section, kinds[i].word, n)) {
			*name = section + n;
			return kinds[i].kind;
		}
	}
	return SEC_NONE;
}

static const char *const *section_keys(struct hrservo_ini *ini,
				       const char *section)
{
	struct map_loader *ml = ini->user;
	const char *name;

	switch (section_kind(section, &name)) {
	case SEC_TELEOP: return teleop_keys;
	case SEC_AXIS: return axis_keys;
	case SEC_BUTTON: return button_keys;
	case SEC_POSE: return ml->joint_names;
	case SEC_NONE: break;
	}
	return NULL;
}

static const char *key_hint(const struct hrservo_ini *ini, const char *name,
			    char *buf, size_t size)
{
	static const char from_to[] =
		": position mode maps the stick from 'from' (at -1) to 'to' (at +1)";
	static const char action[] =
		": a button's 'action = pose NAME', 'step JOINT DELTA', 'estop' or 'turbo'";
	static const struct {
		enum section_kind kind;
		const char *word, *hint;
	} words[] = {
		{ SEC_TELEOP, "enable", "; did you mean 'deadman'?" },
		{ SEC_TELEOP, "deadzone", ": a deadzone is an axis', in [axis EVENT]" },
		{ SEC_AXIS, "rate", ": the mode is 'mode = rate'; the rate limit is 'max_rate'" },
		{ SEC_AXIS, "speed", "; did you mean 'max_rate'? ('scale' is the rate at full deflection)" },
		{ SEC_AXIS, "max_speed", ": max_speed is the calibration's; here the rate limit is 'max_rate'" },
		{ SEC_AXIS, "min", from_to }, { SEC_AXIS, "max", from_to },
		{ SEC_AXIS, "reverse", "; did you mean 'invert'?" },
		{ SEC_BUTTON, "pose", action }, { SEC_BUTTON, "step", action },
		{ SEC_BUTTON, "estop", action }, { SEC_BUTTON, "turbo", action },
	};
	enum section_kind kind;
	const char *sname;
	char more[96];

	kind = section_kind(ini->section, &sname);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (words[i].kind == kind && !strcmp(name, words[i].word))
			return words[i].hint;
	if (kind != SEC_POSE)
		return hrservo_ini_suggest(name, ini->allowed, buf, size);
	/* A pose's keys are the calibration's joints. */
	snprintf(buf, size, ": the calibration has no joint '%s'%s", name,
		 hrservo_ini_suggest(name, ini->allowed, more, sizeof(more)));
	return buf;
}

/* The closest evdev name of @type to @name, as a hint, or "". */
static const char *event_hint(unsigned int type, const char *name, char *buf,
			      size_t size)
{
	unsigned int max = type == EV_KEY ? KEY_MAX : ABS_MAX;
	unsigned int best = 3;
	const char *pick = NULL;

	for (unsigned int code = 0; code <= max; code++) {
		const char *n = libevdev_event_code_get_name(type, code);
		unsigned int d;

		if (!n)
			continue;
		d = hrservo_distance(name, n);
		if (d < best) {
			best = d;
			pick = n;
		}
	}
	if (!pick)
		return "";
	snprintf(buf, size, "; did you mean '%s'?", pick);
	return buf;
}

/* The code of evdev name @name of @type (EV_KEY, EV_ABS), or -1 after fail. */
static int event_code(struct hrservo_ini *ini, int line, unsigned int type,
		      const char *name)
{
	const bool key = type == EV_KEY;
	char hint[64];
	int code;

	code = libevdev_event_code_from_name(type, name);
	if (code >= 0)
		return code;
	if (libevdev_event_code_from_name(key ? EV_ABS : EV_KEY, name) >= 0)
		return hrservo_ini_fail(ini, line, key ?
					"'%s' is an axis (EV_ABS), not a button: map it in [axis %s]" :
					"'%s' is a button (EV_KEY), not an axis: map it in [button %s]",
					name, name) - 1;
	return hrservo_ini_fail(ini, line, "unknown %s '%s': an evdev %s name such as %s%s",
				key ? "button" : "axis", name,
				key ? "EV_KEY" : "EV_ABS",
				key ? "BTN_SOUTH" : "ABS_X",
				event_hint(type, name, hint, sizeof(hint))) - 1;
}

static const char *action_name(enum action a)
{
	switch (a) {
	case ACT_DEADMAN: return "the deadman";
	case ACT_TURBO: return "turbo";
	case ACT_ESTOP: return "estop";
	case ACT_POSE: return "a pose";
	case ACT_STEP: return "a step";
	}
	return "?";
}

/*
 * A button @name (as written, at @line) for @action: a new entry of the
 * map, NULL after a failure (unknown, used twice, too many).
 */
static struct map_button *add_button(struct hrservo_ini *ini, int line,
				     const char *name, enum action action)
{
	struct hrservo_teleop_map *m = ((struct map_loader *)ini->user)->m;
	struct map_button *b;
	int code = event_code(ini, line, EV_KEY, name);

	if (code < 0)
		return NULL;
	for (unsigned int i = 0; i < m->nbuttons; i++) {
		b = &m->button[i];
		if (b->code != (unsigned int)code)
			continue;
		hrservo_ini_fail(ini, line, "button %s is used twice: it is %s at line %d",
				 name, action_name(b->action), b->line);
		return NULL;
	}
	if (m->nbuttons == TELEOP_BUTTONS_MAX) {
		hrservo_ini_fail(ini, line, "more than %d buttons", TELEOP_BUTTONS_MAX);
		return NULL;
	}
	b = &m->button[m->nbuttons++];
	memset(b, 0, sizeof(*b));
	b->code = (unsigned int)code;
	b->line = line;
	b->action_line = line;
	b->action = action;
	return b;
}

/* @k's value, a number in [@lo, @hi] (@hi_open: below @hi); -1 after fail. */
static int number_in(struct hrservo_ini *ini, const struct hrservo_ini_key *k,
		     double lo, double hi, bool hi_open, double *out)
{
	if (hrservo_ini_number(ini, k, out))
		return -1;
	if (*out < lo || *out > hi || (hi_open && *out == hi)) {
		hrservo_ini_fail(ini, k->line, "%s: '%s' must be at least %g and %s %g",
				 k->name, k->value, lo,
				 hi_open ? "below" : "at most", hi);
		return -1;
	}
	return 0;
}

/* @k's value, a number above 0 (@j: in @j's unit per second); -1 after fail. */
static int positive(struct hrservo_ini *ini, const struct hrservo_ini_key *k,
		    const struct hrservo_joint *j, bool zero_ok, double *out)
{
	if (j ? hrservo_ini_pos(ini, k, k->value, j->unit, "speed", out) :
		hrservo_ini_number(ini, k, out))
		return -1;
	if (*out > 0 || (zero_ok && *out == 0))
		return 0;
	hrservo_ini_fail(ini, k->line, zero_ok ? "%s: '%s' must be 0 (none) or above" :
			 "%s: '%s' must be above 0", k->name, k->value);
	return -1;
}

/* @s, a position of joint @j within its soft limits; -1 after fail. */
static int joint_pos(struct hrservo_ini *ini, const struct hrservo_ini_key *k,
		     const char *s, const struct hrservo_joint *j, double *out)
{
	const char *u = hrservo_unit_name(j->unit);

	if (hrservo_ini_pos(ini, k, s, j->unit, "position", out))
		return -1;
	if (*out < j->min || *out > j->max) {
		hrservo_ini_fail(ini, k->line, "%s: '%s' is outside the soft limits of joint %s, %g%s..%g%s",
				 k->name, s, j->name, j->min, u, j->max, u);
		return -1;
	}
	return 0;
}

/* The calibration's joint @name, or NULL after fail (at @line). */
static const struct hrservo_joint *find_joint(struct hrservo_ini *ini,
					      int line, const char *what,
					      const char *name)
{
	struct map_loader *ml = ini->user;
	const struct hrservo_joint *j = hrservo_calib_find(ml->calib, name);
	char hint[64];

	if (!j)
		hrservo_ini_fail(ini, line, "%s: the calibration has no joint '%s'%s",
				 what, name,
				 hrservo_ini_suggest(name, ml->joint_names, hint,
						     sizeof(hint)));
	return j;
}

static void finish_teleop(struct hrservo_ini *ini)
{
	static const struct {
		const char *key;
		enum action action;
	} buttons[] = {
		{ "deadman", ACT_DEADMAN }, { "turbo", ACT_TURBO },
		{ "estop", ACT_ESTOP },
	};
	struct map_loader *ml = ini->user;
	struct hrservo_ini_key *k;

	if (ml->teleop_line) {
		hrservo_ini_fail(ini, ini->sline, "[teleop] given twice (first at line %d)",
				 ml->teleop_line);
		return;
	}
	ml->teleop_line = ini->sline;
	for (size_t i = 0; i < sizeof(buttons) / sizeof(buttons[0]); i++) {
		k = hrservo_ini_key(ini, buttons[i].key);
		if (!k)
			continue;
		if (buttons[i].action == ACT_DEADMAN && !strcmp(k->value, "none")) {
			ml->m->deadman_none = true;
		} else if (!add_button(ini, k->line, k->value, buttons[i].action)) {
			return;
		}
		if (buttons[i].action == ACT_DEADMAN)
			ml->deadman = true;
	}
	k = hrservo_ini_key(ini, "turbo_scale");
	if (k)
		positive(ini, k, NULL, false, &ml->m->turbo_scale);
}

static void finish_axis(struct hrservo_ini *ini, const char *name)
{
	struct map_loader *ml = ini->user;
	struct hrservo_teleop_map *m = ml->m;
	const struct hrservo_joint *j;
	struct map_axis a = { .shape.scale = 1 };
	struct hrservo_ini_key *k, *from, *to;
	int code = event_code(ini, ini->sline, EV_ABS, name);

	if (code < 0)
		return;
	a.code = (unsigned int)code;
	a.line = ini->sline;
	for (unsigned int i = 0; i < m->naxes; i++) {
		if (m->axis[i].code == a.code) {
			hrservo_ini_fail(ini, ini->sline, "axis %s mapped twice (first at line %d)",
					 name, m->axis[i].line);
			return;
		}
	}
	k = hrservo_ini_key(ini, "joint");
	if (!k) {
		hrservo_ini_fail(ini, ini->sline, "axis %s: no joint", name);
		return;
	}
	j = find_joint(ini, k->line, "joint", k->value);
	if (!j)
		return;
	for (unsigned int i = 0; i < m->naxes; i++) {
		if (!strcmp(m->axis[i].joint, j->name)) {
			hrservo_ini_fail(ini, k->line, "joint: %s is already mapped by the axis at line %d",
					 j->name, m->axis[i].line);
			return;
		}
	}
	snprintf(a.joint, sizeof(a.joint), "%s", j->name);
	k = hrservo_ini_key(ini, "mode");
	if (k && !strcmp(k->value, "position")) {
		a.mode = MODE_POSITION;
	} else if (k && strcmp(k->value, "rate")) {
		hrservo_ini_fail(ini, k->line, "mode: '%s' is not rate or position",
				 k->value);
		return;
	}
	k = hrservo_ini_key(ini, "trigger");
	if (k && hrservo_ini_bool(ini, k, &a.trigger))
		return;
	k = hrservo_ini_key(ini, "invert");
	if (k && hrservo_ini_bool(ini, k, &a.shape.invert))
		return;
	k = hrservo_ini_key(ini, "deadzone");
	if (k && number_in(ini, k, 0, 1, true, &a.shape.deadzone))
		return;
	k = hrservo_ini_key(ini, "expo");
	if (k && number_in(ini, k, 0, 1, false, &a.shape.expo))
		return;
	k = hrservo_ini_key(ini, "max_rate");
	if (k && positive(ini, k, j, true, &a.max_rate))
		return;
	/* Rate mode: the rate at full deflection; position: a plain factor. */
	k = hrservo_ini_key(ini, "scale");
	if (!k && a.mode == MODE_RATE) {
		hrservo_ini_fail(ini, ini->sline, "axis %s: rate mode needs 'scale', the rate at full deflection (%s/s)",
				 name, hrservo_unit_name(j->unit));
		return;
	}
	if (k && positive(ini, k, a.mode == MODE_RATE ? j : NULL, false,
			  &a.shape.scale))
		return;
	from = hrservo_ini_key(ini, "from");
	to = hrservo_ini_key(ini, "to");
	if (a.mode == MODE_RATE && (from || to)) {
		k = from ? from : to;
		hrservo_ini_fail(ini, k->line, "%s: only position mode has 'from' and 'to' (mode = position)",
				 k->name);
		return;
	}
	if (a.mode == MODE_POSITION) {
		if (!from || !to) {
			hrservo_ini_fail(ini, ini->sline, "axis %s: position mode needs 'from' and 'to', the positions at both ends",
					 name);
			return;
		}
		if (joint_pos(ini, from, from->value, j, &a.from) ||
		    joint_pos(ini, to, to->value, j, &a.to))
			return;
		if (a.from == a.to) {
			hrservo_ini_fail(ini, to->line, "to: '%s' is where 'from' is: the stick would move nothing",
					 to->value);
			return;
		}
	}
	m->axis[m->naxes++] = a;
}

static void finish_button(struct hrservo_ini *ini, const char *name)
{
	struct hrservo_ini_key *k = hrservo_ini_key(ini, "action");
	const struct hrservo_joint *j = NULL;
	char word[16], arg[64], delta[64], extra[2];
	struct map_button *b;
	enum action act;
	double d = 0;
	int n;

	if (!k) {
		hrservo_ini_fail(ini, ini->sline, "button %s: no action (pose NAME, step JOINT DELTA, estop or turbo)",
				 name);
		return;
	}
	n = sscanf(k->value, "%15s %63s %63s %1s", word, arg, delta, extra);
	if (n == 1 && !strcmp(word, "estop")) {
		act = ACT_ESTOP;
	} else if (n == 1 && !strcmp(word, "turbo")) {
		act = ACT_TURBO;
	} else if (n == 2 && !strcmp(word, "pose")) {
		act = ACT_POSE;
	} else if (n == 3 && !strcmp(word, "step")) {
		act = ACT_STEP;
	} else {
		hrservo_ini_fail(ini, k->line, "action: '%s' is not 'pose NAME', 'step JOINT DELTA', 'estop' or 'turbo'",
				 k->value);
		return;
	}
	if (act == ACT_POSE && !hrservo_valid_name(arg)) {
		hrservo_ini_fail(ini, k->line, "action: pose name '%s': letters, digits and _ only, at most %d characters",
				 arg, HRSERVO_JOINT_NAME_MAX - 1);
		return;
	}
	if (act == ACT_STEP) {
		const char *u;

		j = find_joint(ini, k->line, "action", arg);
		if (!j || hrservo_ini_pos(ini, k, delta, j->unit, "step delta", &d))
			return;
		u = hrservo_unit_name(j->unit);
		if (d == 0) {
			hrservo_ini_fail(ini, k->line, "action: step %s by '%s' moves nothing",
					 j->name, delta);
			return;
		}
		if (fabs(d) > j->max - j->min) {
			hrservo_ini_fail(ini, k->line, "action: step %s by '%s' is more than its soft range, %g%s (%g%s..%g%s)",
					 j->name, delta, j->max - j->min, u, j->min,
					 u, j->max, u);
			return;
		}
	}
	b = add_button(ini, ini->sline, name, act);
	if (!b)
		return;
	b->action_line = k->line;
	b->delta = d;
	if (act == ACT_POSE)
		snprintf(b->arg, sizeof(b->arg), "%.*s", (int)sizeof(b->arg) - 1, arg);
	else if (act == ACT_STEP)
		snprintf(b->arg, sizeof(b->arg), "%s", j->name);
}

static void finish_pose(struct hrservo_ini *ini, const char *name)
{
	struct map_loader *ml = ini->user;
	struct hrservo_teleop_map *m = ml->m;
	struct map_pose *p;

	if (!hrservo_valid_name(name)) {
		hrservo_ini_fail(ini, ini->sline, "pose name '%s': letters, digits and _ only, at most %d characters",
				 name, HRSERVO_JOINT_NAME_MAX - 1);
		return;
	}
	for (unsigned int i = 0; i < m->nposes; i++) {
		if (!strcmp(m->pose[i].name, name)) {
			hrservo_ini_fail(ini, ini->sline, "pose %s defined twice (first at line %d)",
					 name, m->pose[i].line);
			return;
		}
	}
	if (!ini->nkeys) {
		hrservo_ini_fail(ini, ini->sline, "pose %s: no joint position (JOINT = POSITION)",
				 name);
		return;
	}
	if (m->nposes == TELEOP_POSES_MAX) {
		hrservo_ini_fail(ini, ini->sline, "more than %d poses", TELEOP_POSES_MAX);
		return;
	}
	p = &m->pose[m->nposes];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->line = ini->sline;
	p->v = calloc(ini->nkeys, sizeof(*p->v));
	if (!p->v) {
		hrservo_ini_fail(ini, ini->sline, "out of memory");
		return;
	}
	m->nposes++;
	for (unsigned int i = 0; i < ini->nkeys; i++) {
		const struct hrservo_ini_key *k = &ini->keys[i];
		/* a key of a pose is a joint's name: section_keys() */
		const struct hrservo_joint *j = hrservo_calib_find(ml->calib, k->name);
		struct pose_value *v = &p->v[p->n++];

		snprintf(v->joint, sizeof(v->joint), "%s", j->name);
		v->line = k->line;
		if (joint_pos(ini, k, k->value, j, &v->pos))
			return;
	}
}

static void finish_section(struct hrservo_ini *ini)
{
	const char *name;

	switch (section_kind(ini->section, &name)) {
	case SEC_TELEOP: finish_teleop(ini); break;
	case SEC_AXIS: finish_axis(ini, name); break;
	case SEC_BUTTON: finish_button(ini, name); break;
	case SEC_POSE: finish_pose(ini, name); break;
	case SEC_NONE: break;		/* refused at its header */
	}
}

static const struct map_axis *axis_of(const struct hrservo_teleop_map *m,
				      const char *joint)
{
	for (unsigned int i = 0; i < m->naxes; i++)
		if (!strcmp(m->axis[i].joint, joint))
			return &m->axis[i];
	return NULL;
}

/*
 * The rate limit of @j under @m: the smaller of its axis' max_rate and the
 * calibration's max_speed, where set; 0 for none.
 */
static double rate_cap(const struct hrservo_teleop_map *m,
		       const struct hrservo_joint *j)
{
	const struct map_axis *a = axis_of(m, j->name);
	double cap = j->max_speed > 0 ? j->max_speed : 0;

	if (a && a->max_rate > 0 && (cap == 0 || a->max_rate < cap))
		cap = a->max_rate;
	return cap;
}

/* Joint @name goes to targets (at @line, for @why): it needs a rate limit. */
static void need_cap(struct hrservo_ini *ini, int line, const char *why,
		     const char *name)
{
	struct map_loader *ml = ini->user;
	const struct hrservo_joint *j = hrservo_calib_find(ml->calib, name);

	if (rate_cap(ml->m, j) > 0)
		return;
	hrservo_ini_fail(ini, line, "joint %s: %s needs a rate limit to get there: 'max_rate' in the joint's [axis], or max_speed in the calibration",
			 name, why);
}

/* The whole file: what sections say about one another. */
static void finish_map(struct hrservo_ini *ini)
{
	struct map_loader *ml = ini->user;
	struct hrservo_teleop_map *m = ml->m;

	if (!ml->deadman) {
		hrservo_ini_fail(ini, ml->teleop_line ? ml->teleop_line : 1,
				 "no deadman: [teleop] needs 'deadman = BUTTON', the button held to move, or 'deadman = none' to move without one");
		return;
	}
	for (unsigned int i = 0; i < m->naxes; i++)
		if (m->axis[i].mode == MODE_POSITION)
			need_cap(ini, m->axis[i].line, "position mode",
				 m->axis[i].joint);
	for (unsigned int i = 0; i < m->nbuttons; i++) {
		const struct map_button *b = &m->button[i];
		const char *names[TELEOP_POSES_MAX + 1] = { NULL };
		char hint[64];
		unsigned int p;

		if (b->action == ACT_STEP)
			need_cap(ini, b->action_line, "a step", b->arg);
		if (b->action != ACT_POSE)
			continue;
		for (p = 0; p < m->nposes && strcmp(m->pose[p].name, b->arg); p++)
			names[p] = m->pose[p].name;
		if (p == m->nposes) {
			hrservo_ini_fail(ini, b->action_line, "action: unknown pose '%s'%s",
					 b->arg,
					 hrservo_ini_suggest(b->arg, names, hint,
							     sizeof(hint)));
			return;
		}
	}
	for (unsigned int p = 0; p < m->nposes; p++)
		for (unsigned int i = 0; i < m->pose[p].n; i++)
			need_cap(ini, m->pose[p].v[i].line, "a pose",
				 m->pose[p].v[i].joint);
}

static const struct hrservo_ini_ops teleop_ini = {
	.section_keys = section_keys,
	.sections = "[teleop], [axis EVENT], [button EVENT] or [pose NAME]",
	.key_hint = key_hint,
	.finish = finish_section,
	.end = finish_map,
};

HRSERVO_API struct hrservo_teleop_map *
hrservo_teleop_map_load(const char *path, const struct hrservo_calib *calib,
			char *err, size_t errlen)
{
	struct map_loader ml = { .calib = calib };
	unsigned int n;
	int ret, saved;

	if (!path || !calib) {
		hrservo_seterr(err, errlen, "no mapping file or no calibration");
		errno = EINVAL;
		return NULL;
	}
	n = hrservo_calib_count(calib);
	ml.m = calloc(1, sizeof(*ml.m));
	ml.joint_names = calloc(n + 1, sizeof(*ml.joint_names));
	if (!ml.m || !ml.joint_names) {
		free(ml.m);
		free(ml.joint_names);
		hrservo_seterr(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned int i = 0; i < n; i++)
		ml.joint_names[i] = hrservo_calib_joint(calib, i)->name;
	ml.m->turbo_scale = 2;
	ret = hrservo_ini_load(path, &teleop_ini, &ml, err, errlen);
	saved = errno;
	free(ml.joint_names);
	if (ret) {
		hrservo_teleop_map_free(ml.m);
		errno = saved;
		return NULL;
	}
	return ml.m;
}

/* ---- The engine ---- */

struct tp_joint {
	unsigned int calib;		/* its index in the calibration */
	double min, max;		/* soft limits */
	double cap;			/* rate limit, 0: none */
	int axis;			/* the axis driving it, -1: none */
	bool seeded;
	double pos;			/* the desired position */
	bool seeking;			/* going to @goal (a pose, a step) */
	double goal;
};

struct tp_axis {
	struct map_axis a;
	unsigned int joint;
	int min, max;			/* 0, 0 until told: centred */
	int value;
	bool have_value;
	bool parked;		/* a pose or step holds its joint */
};

struct tp_button {
	unsigned int code;
	enum action action;
	unsigned int index;	/* the pose, or the step's joint */
	double delta;		/* step */
	bool down;
};

struct tp_pose_value {
	unsigned int joint;
	double pos;
};

struct tp_pose {
	unsigned int n;
	struct tp_pose_value *v;
};

struct hrservo_teleop {
	size_t njoints;
	struct tp_joint *joint;
	unsigned int naxes;
	struct tp_axis axis[TELEOP_AXES_MAX];
	unsigned int nbuttons;
	struct tp_button button[TELEOP_BUTTONS_MAX];
	unsigned int nposes;
	struct tp_pose pose[TELEOP_POSES_MAX];
	bool deadman_none;
	bool armed;		/* the deadman was pressed since reset / e-stop */
	double turbo_scale;
	bool estop;		/* pressed, not yet reported */
	bool was_enabled;	/* as last reported */
	bool clock;		/* @last_ns is set */
	uint64_t last_ns;
	const char *mode;
};

HRSERVO_API void hrservo_teleop_free(struct hrservo_teleop *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < t->nposes; i++)
		free(t->pose[i].v);
	free(t->joint);
	free(t);
}

static bool map_uses(const struct hrservo_teleop_map *m, const char *joint)
{
	if (axis_of(m, joint))
		return true;
	for (unsigned int b = 0; b < m->nbuttons; b++)
		if (m->button[b].action == ACT_STEP &&
		    !strcmp(m->button[b].arg, joint))
			return true;
	for (unsigned int p = 0; p < m->nposes; p++)
		for (unsigned int i = 0; i < m->pose[p].n; i++)
			if (!strcmp(m->pose[p].v[i].joint, joint))
				return true;
	return false;
}

/*
 * The engine's index of joint @name (that needs a rate limit if @cap), or
 * -1: not in the calibration, or without the rate limit.
 */
static int tp_joint_index(const struct hrservo_teleop *t,
			  const struct hrservo_calib *calib, const char *name,
			  bool cap)
{
	for (size_t i = 0; i < t->njoints; i++)
		if (!strcmp(hrservo_calib_joint(calib, t->joint[i].calib)->name,
			    name))
			return !cap || t->joint[i].cap > 0 ? (int)i : -1;
	return -1;
}

/*
 * Everything of @m, with its joints as the engine's indices (the joints
 * @m uses, in the calibration's order). -1 with errno.
 */
static int tp_build(struct hrservo_teleop *t, const struct hrservo_teleop_map *m,
		    const struct hrservo_calib *calib)
{
	unsigned int n = hrservo_calib_count(calib);
	bool rate = false, position = false;
	int i;

	t->joint = calloc(n ? n : 1, sizeof(*t->joint));
	if (!t->joint)
		return -1;
	for (unsigned int c = 0; c < n; c++) {
		const struct hrservo_joint *j = hrservo_calib_joint(calib, c);

		if (!map_uses(m, j->name))
			continue;
		t->joint[t->njoints++] = (struct tp_joint){
			.calib = c, .min = j->min, .max = j->max,
			.cap = rate_cap(m, j), .axis = -1,
		};
	}
	errno = EINVAL;		/* a joint @calib does not have, or no limit */
	for (unsigned int a = 0; a < m->naxes; a++) {
		struct tp_axis *ax = &t->axis[a];

		ax->a = m->axis[a];
		i = tp_joint_index(t, calib, ax->a.joint,
				   ax->a.mode == MODE_POSITION);
		if (i < 0)
			return -1;
		ax->joint = (unsigned int)i;
		t->joint[i].axis = (int)a;
		rate |= ax->a.mode == MODE_RATE;
		position |= ax->a.mode == MODE_POSITION;
	}
	t->naxes = m->naxes;
	for (unsigned int b = 0; b < m->nbuttons; b++) {
		const struct map_button *mb = &m->button[b];
		struct tp_button *tb = &t->button[b];

		tb->code = mb->code;
		tb->action = mb->action;
		tb->delta = mb->delta;
		if (mb->action == ACT_STEP) {
			i = tp_joint_index(t, calib, mb->arg, true);
			if (i < 0)
				return -1;
			tb->index = (unsigned int)i;
		}
		for (unsigned int p = 0; mb->action == ACT_POSE && p < m->nposes; p++)
			if (!strcmp(m->pose[p].name, mb->arg))
				tb->index = p;
	}
	t->nbuttons = m->nbuttons;
	for (unsigned int p = 0; p < m->nposes; p++) {
		struct tp_pose *tp = &t->pose[t->nposes++];

		tp->v = calloc(m->pose[p].n, sizeof(*tp->v));
		if (!tp->v) {
			errno = ENOMEM;
			return -1;
		}
		for (unsigned int k = 0; k < m->pose[p].n; k++) {
			i = tp_joint_index(t, calib, m->pose[p].v[k].joint, true);
			if (i < 0)
				return -1;
			tp->v[k] = (struct tp_pose_value){
				.joint = (unsigned int)i,
				.pos = m->pose[p].v[k].pos,
			};
			tp->n++;
		}
	}
	t->mode = rate && position ? "mixed" : rate ? "rate" :
		  position ? "position" : "none";
	return 0;
}

HRSERVO_API struct hrservo_teleop *
hrservo_teleop_new(const struct hrservo_teleop_map *m,
		   const struct hrservo_calib *calib)
{
	struct hrservo_teleop *t;
	int saved;

	if (!m || !calib) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (tp_build(t, m, calib)) {
		saved = errno;
		hrservo_teleop_free(t);
		errno = saved;
		return NULL;
	}
	t->deadman_none = m->deadman_none;
	t->turbo_scale = m->turbo_scale;
	t->was_enabled = hrservo_teleop_deadman(t);
	return t;
}

HRSERVO_API size_t hrservo_teleop_num_joints(const struct hrservo_teleop *t)
{
	return t->njoints;
}

HRSERVO_API unsigned int hrservo_teleop_joint(const struct hrservo_teleop *t,
					      size_t i)
{
	return i < t->njoints ? t->joint[i].calib : UINT_MAX;
}

HRSERVO_API double hrservo_teleop_position(const struct hrservo_teleop *t,
					   size_t i)
{
	return i < t->njoints && t->joint[i].seeded ? t->joint[i].pos : NAN;
}

HRSERVO_API const char *hrservo_teleop_mode(const struct hrservo_teleop *t)
{
	return t->mode;
}

static bool held(const struct hrservo_teleop *t, enum action a)
{
	for (unsigned int b = 0; b < t->nbuttons; b++)
		if (t->button[b].action == a && t->button[b].down)
			return true;
	return false;
}

HRSERVO_API bool hrservo_teleop_deadman(const struct hrservo_teleop *t)
{
	return t->deadman_none || (t->armed && held(t, ACT_DEADMAN));
}

HRSERVO_API bool hrservo_teleop_turbo(const struct hrservo_teleop *t)
{
	return held(t, ACT_TURBO);
}

static void drop_goals(struct hrservo_teleop *t)
{
	for (size_t i = 0; i < t->njoints; i++)
		t->joint[i].seeking = false;
}

HRSERVO_API int hrservo_teleop_set_position(struct hrservo_teleop *t,
					    size_t i, double pos)
{
	struct tp_joint *j;
	double tol;

	if (i >= t->njoints || !isfinite(pos)) {
		errno = EINVAL;
		return -1;
	}
	j = &t->joint[i];
	tol = (j->max - j->min) * 1e-6;
	if (pos < j->min - tol || pos > j->max + tol) {
		errno = ERANGE;
		return -1;
	}
	j->pos = clamp(pos, j->min, j->max);
	j->seeded = true;
	j->seeking = false;
	return 0;
}

/* The axis' shaped value: a rate (unit/s) or a place -1..1 (trigger 0..1). */
static double axis_value(const struct tp_axis *ax)
{
	struct hrservo_shape s = ax->a.shape;
	double x = 0, y;

	if (ax->have_value)
		x = ax->a.trigger ?
		    hrservo_axis_norm_trigger(ax->value, ax->min, ax->max) :
		    hrservo_axis_norm(ax->value, ax->min, ax->max);
	if (ax->a.mode == MODE_RATE)
		return hrservo_shape(&s, x);
	/* Position mode: invert swaps from and to. */
	s.invert = false;
	y = clamp(hrservo_shape(&s, x), ax->a.trigger ? 0 : -1, 1);
	if (ax->a.shape.invert)
		y = ax->a.trigger ? 1 - y : -y;
	return y;
}

/* Where a position-mode axis puts its joint. */
static double axis_target(const struct tp_axis *ax)
{
	double y = axis_value(ax);

	if (!ax->a.trigger)
		y = (y + 1) / 2;
	return ax->a.from + y * (ax->a.to - ax->a.from);
}

/* A pose or step makes @goal where joint @i goes, until its axis moves. */
static void seek(struct hrservo_teleop *t, unsigned int i, double goal)
{
	struct tp_joint *j = &t->joint[i];

	if (!j->seeded)
		return;
	j->goal = clamp(goal, j->min, j->max);
	j->seeking = true;
	if (j->axis >= 0)
		t->axis[j->axis].parked = true;
}

static void press(struct hrservo_teleop *t, const struct tp_button *b)
{
	switch (b->action) {
	case ACT_ESTOP:
		t->estop = true;
		t->armed = false;
		drop_goals(t);
		return;
	case ACT_DEADMAN:
		t->armed = true;
		return;
	case ACT_TURBO:
		return;
	case ACT_POSE:
		if (!hrservo_teleop_deadman(t))
			return;
		for (unsigned int i = 0; i < t->pose[b->index].n; i++)
			seek(t, t->pose[b->index].v[i].joint,
			     t->pose[b->index].v[i].pos);
		return;
	case ACT_STEP:
		if (hrservo_teleop_deadman(t)) {
			struct tp_joint *j = &t->joint[b->index];

			seek(t, b->index, (j->seeking ? j->goal : j->pos) + b->delta);
		}
		return;
	}
}

HRSERVO_API void hrservo_teleop_input(struct hrservo_teleop *t,
				      unsigned int type, unsigned int code,
				      int value)
{
	if (type == EV_KEY) {
		for (unsigned int b = 0; b < t->nbuttons; b++) {
			struct tp_button *tb = &t->button[b];
			bool was = tb->down;

			if (tb->code != code)
				continue;
			tb->down = value != 0;
			if (!was && value == 1)
				press(t, tb);
			if (!hrservo_teleop_deadman(t))
				drop_goals(t);
			return;
		}
	} else if (type == EV_ABS) {
		for (unsigned int a = 0; a < t->naxes; a++) {
			struct tp_axis *ax = &t->axis[a];
			double before;

			if (ax->a.code != code)
				continue;
			before = axis_value(ax);
			ax->value = value;
			ax->have_value = true;
			if (axis_value(ax) != before && ax->parked) {
				/* The stick moved: it has its joint back. */
				ax->parked = false;
				t->joint[ax->joint].seeking = false;
			}
			return;
		}
	}
}

HRSERVO_API void hrservo_teleop_set_absinfo(struct hrservo_teleop *t,
					    unsigned int code, int min,
					    int max)
{
	for (unsigned int a = 0; a < t->naxes; a++) {
		if (t->axis[a].a.code != code)
			continue;
		t->axis[a].min = min;
		t->axis[a].max = max;
	}
}

HRSERVO_API void hrservo_teleop_reset_input(struct hrservo_teleop *t)
{
	for (unsigned int b = 0; b < t->nbuttons; b++)
		t->button[b].down = false;
	t->armed = false;
	/* No catch-up over the time without input: the next step is dt 0. */
	t->clock = false;
	for (unsigned int a = 0; a < t->naxes; a++) {
		t->axis[a].have_value = false;
		t->axis[a].parked = false;
	}
	drop_goals(t);
}

/* One joint over @dt seconds; true if it moved. */
static bool move_joint(struct hrservo_teleop *t, struct tp_joint *j, double dt)
{
	struct tp_axis *ax = j->axis >= 0 ? &t->axis[j->axis] : NULL;
	double to = j->pos;

	if (!j->seeded)
		return false;
	if (ax && ax->a.mode == MODE_RATE) {
		double v = axis_value(ax);

		if (v != 0 && held(t, ACT_TURBO))
			v *= t->turbo_scale;
		if (j->cap > 0)
			v = clamp(v, -j->cap, j->cap);
		if (v != 0) {
			j->seeking = false;	/* the stick wins */
			to = j->pos + v * dt;
		}
	} else if (ax && !ax->parked) {
		to = hrservo_rate_limit(j->pos, axis_target(ax), j->cap, dt);
	}
	if (j->seeking) {
		to = hrservo_rate_limit(j->pos, j->goal, j->cap, dt);
		if (to == j->goal)
			j->seeking = false;
	}
	to = clamp(to, j->min, j->max);
	if (to == j->pos)
		return false;
	j->pos = to;
	return true;
}

HRSERVO_API unsigned int hrservo_teleop_step(struct hrservo_teleop *t,
					     uint64_t now_ns)
{
	unsigned int what = 0;
	uint64_t dt_ns = 0;
	bool enabled = hrservo_teleop_deadman(t);

	if (t->clock && now_ns > t->last_ns)
		dt_ns = now_ns - t->last_ns;
	if (dt_ns > HRSERVO_TELEOP_MAX_DT_NS)
		dt_ns = HRSERVO_TELEOP_MAX_DT_NS;
	if (!t->clock || now_ns > t->last_ns)
		t->last_ns = now_ns;
	t->clock = true;
	if (t->estop)
		what |= HRSERVO_TELEOP_ESTOP;
	t->estop = false;
	if (enabled != t->was_enabled)
		what |= HRSERVO_TELEOP_DEADMAN;
	t->was_enabled = enabled;
	if (!enabled)
		return what;
	for (size_t i = 0; i < t->njoints; i++)
		if (move_joint(t, &t->joint[i], (double)dt_ns / 1e9))
			what |= HRSERVO_TELEOP_MOVED;
	return what;
}
