// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo - calibration: per-joint maps from positions (deg, rad, %) to
 * pulse widths, stored one file per robot.
 *
 * The file is INI, read with inih (Debian's libinih). A robot file holds
 * [controller NAME] sections (an alias for a device, "device = hrservo0")
 * and [joint NAME] sections; see Documentation/libhrservo.rst for every key.
 * inih hands over (section, key, value) without line numbers, so the file is
 * fed to it through a reader that counts lines; each key's line is kept
 * until its section is complete, and every error names FILE:LINE.
 *
 * Saving writes the whole file to a temporary file in the same directory,
 * fsyncs it, renames it over the old one and fsyncs the directory, so a
 * crash or a full disk leaves the old file or the new one, never a mix.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define CALIB_JOINTS_MAX	256
#define CALIB_CTRLS_MAX		16
#define CALIB_KEYS_MAX		16
/* Pulse widths of a map: the kernel's absolute range. */
#define CALIB_PULSE_MIN_NS	50000.0
#define CALIB_PULSE_MAX_NS	50000000.0
#define CALIB_TRIM_MAX_NS	1000000.0

struct calib_ctrl {
	char name[HRSERVO_JOINT_NAME_MAX];
	char device[HRSERVO_DEVICE_MAX];
};

struct hrservo_calib {
	unsigned int njoints;
	struct hrservo_joint joint[CALIB_JOINTS_MAX];
	unsigned int nctrls;
	struct calib_ctrl ctrl[CALIB_CTRLS_MAX];
};

static void seterr(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!err || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

HRSERVO_API struct hrservo_calib *hrservo_calib_new(void)
{
	return calloc(1, sizeof(struct hrservo_calib));
}

HRSERVO_API void hrservo_calib_free(struct hrservo_calib *c)
{
	free(c);
}

HRSERVO_API unsigned int hrservo_calib_count(const struct hrservo_calib *c)
{
	return c->njoints;
}

HRSERVO_API const struct hrservo_joint *
hrservo_calib_joint(const struct hrservo_calib *c, unsigned int i)
{
	return i < c->njoints ? &c->joint[i] : NULL;
}

HRSERVO_API const struct hrservo_joint *
hrservo_calib_find(const struct hrservo_calib *c, const char *name)
{
	for (unsigned int i = 0; i < c->njoints; i++)
		if (!strcmp(c->joint[i].name, name))
			return &c->joint[i];
	return NULL;
}

HRSERVO_API const char *hrservo_calib_device(const struct hrservo_calib *c,
					      const char *controller)
{
	for (unsigned int i = 0; i < c->nctrls; i++)
		if (!strcmp(c->ctrl[i].name, controller))
			return c->ctrl[i].device;
	return controller;
}

/* "/dev/hrservo3", "hrservo3" and "3" are one controller: "hrservo3". */
static void canonical(const char *spec, char *out, size_t size)
{
	const char *s = spec;

	if (!strncmp(s, "/dev/", 5))
		s += 5;
	if (isdigit((unsigned char)*s))
		snprintf(out, size, "hrservo%s", s);
	else
		snprintf(out, size, "%s", s);
}

HRSERVO_API const struct hrservo_joint *
hrservo_calib_find_channel(const struct hrservo_calib *c,
			   const char *controller, unsigned int channel)
{
	char want[HRSERVO_DEVICE_MAX + 8], have[HRSERVO_DEVICE_MAX + 8];

	canonical(hrservo_calib_device(c, controller), want, sizeof(want));
	for (unsigned int i = 0; i < c->njoints; i++) {
		const struct hrservo_joint *j = &c->joint[i];

		canonical(hrservo_calib_device(c, j->controller), have,
			  sizeof(have));
		if (j->channel == channel && !strcmp(want, have))
			return j;
	}
	return NULL;
}

HRSERVO_API const char *hrservo_unit_name(enum hrservo_unit u)
{
	switch (u) {
	case HRSERVO_UNIT_NS: return "ns";
	case HRSERVO_UNIT_US: return "us";
	case HRSERVO_UNIT_MS: return "ms";
	case HRSERVO_UNIT_S: return "s";
	case HRSERVO_UNIT_PERCENT: return "%";
	case HRSERVO_UNIT_DEG: return "deg";
	case HRSERVO_UNIT_RAD: return "rad";
	}
	return "?";
}

static bool is_position_unit(enum hrservo_unit u)
{
	return u == HRSERVO_UNIT_DEG || u == HRSERVO_UNIT_RAD ||
	       u == HRSERVO_UNIT_PERCENT;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= HRSERVO_JOINT_NAME_MAX ||
	    !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* ---- The map ---- */

/* Hermite tangents of the monotone cubic (Fritsch-Carlson). */
static void tangents(const struct hrservo_joint *j, double *m)
{
	unsigned int n = j->npoints;
	double d[HRSERVO_MAP_POINTS_MAX] = { 0 };

	for (unsigned int k = 0; k + 1 < n; k++)
		d[k] = (j->pulse_ns[k + 1] - j->pulse_ns[k]) /
		       (j->pos[k + 1] - j->pos[k]);
	m[0] = d[0];
	m[n - 1] = d[n - 2];
	for (unsigned int k = 1; k + 1 < n; k++)
		m[k] = d[k - 1] * d[k] <= 0 ? 0 : (d[k - 1] + d[k]) / 2;
	for (unsigned int k = 0; k + 1 < n; k++) {
		double a, b, s;

		if (d[k] == 0) {
			m[k] = m[k + 1] = 0;
			continue;
		}
		a = m[k] / d[k];
		b = m[k + 1] / d[k];
		s = a * a + b * b;
		if (s > 9) {
			double t = 3 / sqrt(s);

			m[k] = t * a * d[k];
			m[k + 1] = t * b * d[k];
		}
	}
}

/* The tangents @m of @j's cubic, or NULL for a piecewise linear map. */
static const double *map_tangents(const struct hrservo_joint *j, double *m)
{
	if (j->map == HRSERVO_MAP_LINEAR || j->npoints == 2)
		return NULL;
	tangents(j, m);
	return m;
}

/*
 * The map alone (no invert, no trim), at @x within the points; @m from
 * map_tangents().
 */
static double map_eval(const struct hrservo_joint *j, const double *m,
		       double x, double *slope)
{
	unsigned int n = j->npoints, k = 0;
	double h, t, y0, y1;

	while (k + 2 < n && x > j->pos[k + 1])
		k++;
	h = j->pos[k + 1] - j->pos[k];
	t = (x - j->pos[k]) / h;
	y0 = j->pulse_ns[k];
	y1 = j->pulse_ns[k + 1];
	if (!m) {
		if (slope)
			*slope = (y1 - y0) / h;
		return y0 + (y1 - y0) * t;
	} else {
		double t2 = t * t, t3 = t2 * t;

		if (slope)
			*slope = ((6 * t2 - 6 * t) * y0 +
				  (3 * t2 - 4 * t + 1) * h * m[k] +
				  (-6 * t2 + 6 * t) * y1 +
				  (3 * t2 - 2 * t) * h * m[k + 1]) / h;
		return (2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + t) * h * m[k] +
		       (-2 * t3 + 3 * t2) * y1 + (t3 - t2) * h * m[k + 1];
	}
}

/* A user position in map coordinates (direction invert). */
static double map_x(const struct hrservo_joint *j, double pos)
{
	return j->invert ? j->pos[0] + j->pos[j->npoints - 1] - pos : pos;
}

HRSERVO_API int hrservo_joint_to_ns(const struct hrservo_joint *j, double pos,
				    double *pulse_ns)
{
	double m[HRSERVO_MAP_POINTS_MAX];

	if (!(pos >= j->min && pos <= j->max)) {
		errno = ERANGE;
		return -1;
	}
	*pulse_ns = map_eval(j, map_tangents(j, m), map_x(j, pos), NULL) +
		    j->trim_ns;
	return 0;
}

HRSERVO_API int hrservo_joint_from_ns(const struct hrservo_joint *j,
				      double pulse_ns, double *pos)
{
	double m[HRSERVO_MAP_POINTS_MAX];
	const double *mt = map_tangents(j, m);
	double lo = j->pos[0], hi = j->pos[j->npoints - 1];
	double y = pulse_ns - j->trim_ns;
	bool rising = j->pulse_ns[j->npoints - 1] > j->pulse_ns[0];
	double ylo = map_eval(j, mt, lo, NULL), yhi = map_eval(j, mt, hi, NULL);

	if (rising ? (y < ylo - 0.5 || y > yhi + 0.5) :
		     (y > ylo + 0.5 || y < yhi - 0.5)) {
		errno = ERANGE;
		return -1;
	}
	/* The map is monotone: bisection to well below a nanosecond. */
	for (int i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if ((map_eval(j, mt, mid, NULL) < y) == rising)
			lo = mid;
		else
			hi = mid;
	}
	*pos = map_x(j, (lo + hi) / 2);
	return 0;
}

HRSERVO_API int hrservo_joint_kernel_limits(const struct hrservo_joint *j,
					    struct hrservo_limits_ns *l)
{
	double a, b, steep = 0, m[HRSERVO_MAP_POINTS_MAX];
	const double *mt = map_tangents(j, m);

	if (hrservo_joint_to_ns(j, j->min, &a) ||
	    hrservo_joint_to_ns(j, j->max, &b))
		return -1;
	/* The steepest part of the map between the soft limits. */
	for (int i = 0; i <= 1000; i++) {
		double s;

		map_eval(j, mt,
			 map_x(j, j->min + (j->max - j->min) * i / 1000.0), &s);
		steep = fmax(steep, fabs(s));
	}
	l->min_ns = (uint32_t)floor(fmin(a, b));
	l->max_ns = (uint32_t)ceil(fmax(a, b));
	l->max_speed_ns_per_s = (uint32_t)fmin(ceil(j->max_speed * steep),
					       UINT32_MAX);
	l->max_accel_ns_per_s2 = (uint32_t)fmin(ceil(j->max_accel * steep),
						UINT32_MAX);
	return 0;
}

/* ---- Checks ---- */

HRSERVO_API int hrservo_joint_check(const struct hrservo_joint *j, char *err,
				    size_t errsize)
{
	const char *u = hrservo_unit_name(j->unit);
	unsigned int n = j->npoints;
	bool rising;

	errno = EINVAL;
	if (!valid_name(j->name)) {
		seterr(err, errsize, "joint name '%s': letters, digits and _ only, at most %d characters",
		       j->name, HRSERVO_JOINT_NAME_MAX - 1);
		return -1;
	}
	if (!j->controller[0]) {
		seterr(err, errsize, "joint %s: no controller", j->name);
		return -1;
	}
	if (j->channel >= HRSERVO_MAX_CHANNELS) {
		seterr(err, errsize, "joint %s: channel %u above %d", j->name,
		       j->channel, HRSERVO_MAX_CHANNELS - 1);
		return -1;
	}
	if (!is_position_unit(j->unit)) {
		seterr(err, errsize, "joint %s: unit must be deg, rad or %%",
		       j->name);
		return -1;
	}
	if (n < 2 || n > HRSERVO_MAP_POINTS_MAX) {
		seterr(err, errsize, "joint %s: map has %u points, needs 2..%d",
		       j->name, n, HRSERVO_MAP_POINTS_MAX);
		return -1;
	}
	rising = j->pulse_ns[1] > j->pulse_ns[0];
	for (unsigned int k = 0; k < n; k++) {
		if (!isfinite(j->pos[k]) || !(j->pulse_ns[k] >= CALIB_PULSE_MIN_NS &&
					      j->pulse_ns[k] <= CALIB_PULSE_MAX_NS)) {
			seterr(err, errsize, "joint %s: point %g%s: pulse %.0fns outside %.0fns..%.0fns",
			       j->name, j->pos[k], u, j->pulse_ns[k],
			       CALIB_PULSE_MIN_NS, CALIB_PULSE_MAX_NS);
			return -1;
		}
		if (k && !(j->pos[k] > j->pos[k - 1])) {
			seterr(err, errsize, "joint %s: positions not increasing: %g%s after %g%s",
			       j->name, j->pos[k], u, j->pos[k - 1], u);
			return -1;
		}
		if (k && (j->pulse_ns[k] > j->pulse_ns[k - 1]) != rising) {
			seterr(err, errsize, "joint %s: pulses not monotonic at %g%s",
			       j->name, j->pos[k], u);
			return -1;
		}
		if (k && j->pulse_ns[k] == j->pulse_ns[k - 1]) {
			seterr(err, errsize, "joint %s: two points with one pulse at %g%s",
			       j->name, j->pos[k], u);
			return -1;
		}
	}
	if (!(fabs(j->trim_ns) <= CALIB_TRIM_MAX_NS)) {
		seterr(err, errsize, "joint %s: trim %.0fns outside -%.0fns..%.0fns",
		       j->name, j->trim_ns, CALIB_TRIM_MAX_NS, CALIB_TRIM_MAX_NS);
		return -1;
	}
	if (!(j->min >= j->pos[0] && j->max <= j->pos[n - 1] &&
	      j->min < j->max)) {
		seterr(err, errsize, "joint %s: soft limits %g%s..%g%s must lie within the map, %g%s..%g%s",
		       j->name, j->min, u, j->max, u, j->pos[0], u,
		       j->pos[n - 1], u);
		return -1;
	}
	if (j->has_home && !(j->home >= j->min && j->home <= j->max)) {
		seterr(err, errsize, "joint %s: home %g%s outside the soft limits %g%s..%g%s",
		       j->name, j->home, u, j->min, u, j->max, u);
		return -1;
	}
	if (!(j->max_speed >= 0 && j->max_accel >= 0 &&
	      isfinite(j->max_speed) && isfinite(j->max_accel))) {
		seterr(err, errsize, "joint %s: max_speed and max_accel must be >= 0",
		       j->name);
		return -1;
	}
	{
		double a, b;

		/* Trim must not push a pulse out of range either. */
		hrservo_joint_to_ns(j, j->min, &a);
		hrservo_joint_to_ns(j, j->max, &b);
		if (fmin(a, b) < CALIB_PULSE_MIN_NS ||
		    fmax(a, b) > CALIB_PULSE_MAX_NS) {
			seterr(err, errsize, "joint %s: trim takes pulses outside %.0fns..%.0fns",
			       j->name, CALIB_PULSE_MIN_NS, CALIB_PULSE_MAX_NS);
			return -1;
		}
	}
	errno = 0;
	return 0;
}

HRSERVO_API int hrservo_calib_put(struct hrservo_calib *c,
				  const struct hrservo_joint *j, char *err,
				  size_t errsize)
{
	const struct hrservo_joint *same;
	unsigned int i;

	if (hrservo_joint_check(j, err, errsize))
		return -1;
	same = hrservo_calib_find_channel(c, j->controller, j->channel);
	for (i = 0; i < c->njoints; i++) {
		if (&c->joint[i] == same)
			continue;
		if (!strcmp(c->joint[i].name, j->name)) {
			seterr(err, errsize, "joint %s: the name is taken by channel %u of %s",
			       j->name, c->joint[i].channel,
			       c->joint[i].controller);
			errno = EEXIST;
			return -1;
		}
	}
	if (same) {
		c->joint[same - c->joint] = *j;
		return 0;
	}
	if (c->njoints == CALIB_JOINTS_MAX) {
		seterr(err, errsize, "more than %d joints", CALIB_JOINTS_MAX);
		errno = E2BIG;
		return -1;
	}
	c->joint[c->njoints++] = *j;
	return 0;
}

HRSERVO_API int hrservo_calib_set_device(struct hrservo_calib *c,
					 const char *name, const char *device)
{
	unsigned int i;

	if (!valid_name(name) || !*device ||
	    strlen(device) >= HRSERVO_DEVICE_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < c->nctrls && strcmp(c->ctrl[i].name, name); i++)
		;
	if (i == CALIB_CTRLS_MAX) {
		errno = E2BIG;
		return -1;
	}
	snprintf(c->ctrl[i].name, sizeof(c->ctrl[i].name), "%s", name);
	snprintf(c->ctrl[i].device, sizeof(c->ctrl[i].device), "%s", device);
	if (i == c->nctrls)
		c->nctrls++;
	return 0;
}

/* ---- Loading ---- */

struct key {
	char name[24];
	char value[512];
	int line;
};

struct loader {
	FILE *f;
	const char *path;
	int line;		/* of the last line read */
	int section_line;	/* of the last [section] line */
	bool continuation;	/* the last line read began with white space */
	struct hrservo_calib *c;
	char section[80];	/* the section being collected */
	int sline;		/* its header's line */
	unsigned int nkeys;
	struct key keys[CALIB_KEYS_MAX];
	char *err;
	size_t errsize;
	bool failed;
};

static char *calib_reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	char *s = fgets(str, num, ld->f);
	const char *p;

	if (!s)
		return NULL;
	ld->line++;
	ld->continuation = *s == ' ' || *s == '\t';
	for (p = s; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '[')
		ld->section_line = ld->line;
	return s;
}

static int fail(struct loader *ld, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, int line, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	if (ld->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	seterr(ld->err, ld->errsize, "%s:%d: %s", ld->path, line, msg);
	ld->failed = true;
	return 0;
}

static struct key *find_key(struct loader *ld, const char *name)
{
	for (unsigned int i = 0; i < ld->nkeys; i++)
		if (!strcmp(ld->keys[i].name, name))
			return &ld->keys[i];
	return NULL;
}

/* A position: a number, with the joint's unit as optional suffix. */
static int parse_pos(struct loader *ld, const struct key *k, const char *s,
		     enum hrservo_unit unit, double *out)
{
	struct hrservo_value v;
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (end != s && !*end && !errno && isfinite(*out))
		return 0;
	if (hrservo_value_parse(s, &v) || v.sign) {
		fail(ld, k->line, "%s: '%s' is not a position", k->name, s);
		return -1;
	}
	if (v.unit != unit) {
		fail(ld, k->line, "%s: unit mismatch: '%s' in a joint measured in %s",
		     k->name, s, hrservo_unit_name(unit));
		return -1;
	}
	*out = (double)v.nano / 1e9;
	return 0;
}

/* A pulse width: "1500us", "1.5ms", "1500000ns"; signed for a trim. */
static int parse_pulse(struct loader *ld, const struct key *k, const char *s,
		       bool allow_sign, double *out)
{
	struct hrservo_value v;

	if (hrservo_value_parse(s, &v) || (v.sign && !allow_sign) ||
	    hrservo_value_time_ns(&v, out)) {
		fail(ld, k->line, "%s: '%s' is not a pulse width (e.g. 1500us)",
		     k->name, s);
		return -1;
	}
	if (v.sign < 0)
		*out = -*out;
	return 0;
}

static int parse_bool(struct loader *ld, const struct key *k, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(k->value, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(k->value, no[i])) {
			*out = false;
			return 0;
		}
	}
	fail(ld, k->line, "%s: '%s' is not yes or no", k->name, k->value);
	return -1;
}

static int parse_map(struct loader *ld, const struct key *k,
		     struct hrservo_joint *j)
{
	char buf[sizeof(k->value)], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", k->value);
	j->npoints = 0;
	for (tok = strtok_r(buf, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		char *colon = strchr(tok, ':');

		if (!colon) {
			fail(ld, k->line, "map: '%s' is not POSITION:PULSE", tok);
			return -1;
		}
		if (j->npoints == HRSERVO_MAP_POINTS_MAX) {
			fail(ld, k->line, "map: more than %d points",
			     HRSERVO_MAP_POINTS_MAX);
			return -1;
		}
		*colon = '\0';
		if (parse_pos(ld, k, tok, j->unit, &j->pos[j->npoints]) ||
		    parse_pulse(ld, k, colon + 1, false,
				&j->pulse_ns[j->npoints]))
			return -1;
		j->npoints++;
	}
	return 0;
}

static const char *const joint_keys[] = {
	"controller", "channel", "unit", "map", "interp", "invert", "trim",
	"min", "max", "home", "max_speed", "max_accel", NULL
};

/* A whole [joint NAME] section. */
static void finish_joint(struct loader *ld, const char *name)
{
	struct hrservo_joint j = { 0 };
	struct key *k;
	char msg[256];
	unsigned long ch;
	char *end;

	snprintf(j.name, sizeof(j.name), "%s", name);
	if (!valid_name(name) || strlen(name) >= sizeof(j.name)) {
		fail(ld, ld->sline, "joint name '%s': letters, digits and _ only, at most %d characters",
		     name, HRSERVO_JOINT_NAME_MAX - 1);
		return;
	}
	if (hrservo_calib_find(ld->c, name)) {
		fail(ld, ld->sline, "duplicate joint '%s'", name);
		return;
	}
	k = find_key(ld, "controller");
	if (!k || !*k->value || strlen(k->value) >= sizeof(j.controller)) {
		fail(ld, k ? k->line : ld->sline, "joint %s: controller missing or too long",
		     name);
		return;
	}
	snprintf(j.controller, sizeof(j.controller), "%s", k->value);
	k = find_key(ld, "channel");
	if (!k) {
		fail(ld, ld->sline, "joint %s: no channel", name);
		return;
	}
	errno = 0;
	ch = strtoul(k->value, &end, 10);
	if (!*k->value || *end || errno || ch >= HRSERVO_MAX_CHANNELS) {
		fail(ld, k->line, "channel: '%s' is not a channel (0..%d)", k->value,
		     HRSERVO_MAX_CHANNELS - 1);
		return;
	}
	j.channel = (unsigned int)ch;
	k = find_key(ld, "unit");
	if (!k) {
		j.unit = HRSERVO_UNIT_DEG;
	} else if (!strcmp(k->value, "deg")) {
		j.unit = HRSERVO_UNIT_DEG;
	} else if (!strcmp(k->value, "rad")) {
		j.unit = HRSERVO_UNIT_RAD;
	} else if (!strcmp(k->value, "%")) {
		j.unit = HRSERVO_UNIT_PERCENT;
	} else {
		fail(ld, k->line, "unit: '%s' is not deg, rad or %%", k->value);
		return;
	}
	k = find_key(ld, "map");
	if (!k) {
		fail(ld, ld->sline, "joint %s: no map", name);
		return;
	}
	if (parse_map(ld, k, &j))
		return;
	k = find_key(ld, "interp");
	if (k && !strcmp(k->value, "cubic")) {
		j.map = HRSERVO_MAP_CUBIC;
	} else if (k && strcmp(k->value, "linear")) {
		fail(ld, k->line, "interp: '%s' is not linear or cubic", k->value);
		return;
	}
	k = find_key(ld, "invert");
	if (k && parse_bool(ld, k, &j.invert))
		return;
	k = find_key(ld, "trim");
	if (k && parse_pulse(ld, k, k->value, true, &j.trim_ns))
		return;
	j.min = j.npoints ? j.pos[0] : 0;
	j.max = j.npoints ? j.pos[j.npoints - 1] : 0;
	k = find_key(ld, "min");
	if (k && parse_pos(ld, k, k->value, j.unit, &j.min))
		return;
	k = find_key(ld, "max");
	if (k && parse_pos(ld, k, k->value, j.unit, &j.max))
		return;
	k = find_key(ld, "home");
	if (k) {
		if (parse_pos(ld, k, k->value, j.unit, &j.home))
			return;
		j.has_home = true;
	}
	k = find_key(ld, "max_speed");
	if (k && parse_pos(ld, k, k->value, j.unit, &j.max_speed))
		return;
	k = find_key(ld, "max_accel");
	if (k && parse_pos(ld, k, k->value, j.unit, &j.max_accel))
		return;
	{
		const struct hrservo_joint *o;

		o = hrservo_calib_find_channel(ld->c, j.controller, j.channel);
		if (o) {
			fail(ld, ld->sline, "joint %s: channel %u of %s already belongs to joint %s",
			     name, j.channel, j.controller, o->name);
			return;
		}
	}
	if (hrservo_calib_put(ld->c, &j, msg, sizeof(msg)))
		fail(ld, ld->sline, "%s", msg);
}

static void finish_section(struct loader *ld)
{
	if (!ld->section[0] || ld->failed)
		goto out;
	if (!strncmp(ld->section, "joint ", 6)) {
		finish_joint(ld, ld->section + 6);
	} else if (!strncmp(ld->section, "controller ", 11)) {
		struct key *k = find_key(ld, "device");
		const char *name = ld->section + 11;

		if (!k) {
			fail(ld, ld->sline, "controller %s: no device", name);
		} else if (hrservo_calib_device(ld->c, name) != name) {
			fail(ld, ld->sline, "duplicate controller '%s'", name);
		} else if (hrservo_calib_set_device(ld->c, name, k->value)) {
			fail(ld, ld->sline, "controller '%s': bad name or device '%s'",
			     name, k->value);
		}
	}
out:
	ld->section[0] = '\0';
	ld->nkeys = 0;
}

static int calib_handler(void *user, const char *section, const char *name,
			 const char *value)
{
	struct loader *ld = user;
	const char *const *allowed;
	struct key *k;

	/* A new [section], even one with the same name as the last. */
	if (strcmp(section, ld->section) || ld->sline != ld->section_line) {
		finish_section(ld);
		snprintf(ld->section, sizeof(ld->section), "%s", section);
		ld->sline = ld->section_line;
	}
	if (ld->failed)
		return 0;
	if (!strncmp(section, "joint ", 6)) {
		allowed = joint_keys;
	} else if (!strncmp(section, "controller ", 11)) {
		static const char *const ctrl_keys[] = { "device", NULL };

		allowed = ctrl_keys;
	} else {
		return fail(ld, ld->sline, "unknown section [%s]: expected [joint NAME] or [controller NAME]",
			    section);
	}
	while (*allowed && strcmp(*allowed, name))
		allowed++;
	if (!*allowed)
		return fail(ld, ld->line, "unknown key '%s' in [%s]", name,
			    section);
	k = find_key(ld, name);
	if (k && ld->continuation && !strcmp(name, "map")) {
		/* A continuation line of the map: more points. */
		size_t len = strlen(k->value);

		if (len + strlen(value) + 2 > sizeof(k->value))
			return fail(ld, ld->line, "map: too long");
		snprintf(k->value + len, sizeof(k->value) - len, " %s", value);
		return 1;
	}
	if (k)
		return fail(ld, ld->line, "key '%s' given twice in [%s]", name,
			    section);
	if (ld->nkeys == CALIB_KEYS_MAX)
		return fail(ld, ld->line, "too many keys in [%s]", section);
	k = &ld->keys[ld->nkeys++];
	snprintf(k->name, sizeof(k->name), "%s", name);
	if (strlen(value) >= sizeof(k->value))
		return fail(ld, ld->line, "%s: value too long", name);
	snprintf(k->value, sizeof(k->value), "%s", value);
	k->line = ld->line;
	return 1;
}

HRSERVO_API struct hrservo_calib *hrservo_calib_load(const char *path,
						     char *err,
						     size_t errsize)
{
	struct loader *ld = calloc(1, sizeof(*ld));
	struct hrservo_calib *c = hrservo_calib_new();
	int ret, saved;

	if (!ld || !c) {
		free(ld);
		hrservo_calib_free(c);
		seterr(err, errsize, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	ld->f = fopen(path, "re");
	if (!ld->f) {
		saved = errno;
		seterr(err, errsize, "%s: %s", path, strerror(saved));
		free(ld);
		hrservo_calib_free(c);
		errno = saved;
		return NULL;
	}
	ld->path = path;
	ld->c = c;
	ld->err = err;
	ld->errsize = errsize;
	ret = ini_parse_stream(calib_reader, ld, calib_handler, ld);
	if (ret && !ld->failed) {
		/* inih's own complaint: a line that is not INI. */
		seterr(err, errsize, "%s:%d: not 'key = value' or '[section]'",
		       path, ret);
		ld->failed = true;
	}
	finish_section(ld);
	fclose(ld->f);
	if (ld->failed) {
		free(ld);
		hrservo_calib_free(c);
		errno = EINVAL;
		return NULL;
	}
	free(ld);
	return c;
}

/* ---- Saving ---- */

/* A number for the file: as short as it can be without losing it. */
static void fmt_num(char *buf, size_t size, double v)
{
	/* Plain decimals: the value parser takes no exponents. */
	for (int prec = 0; prec <= 17; prec++) {
		snprintf(buf, size, "%.*f", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void fmt_pulse(char *buf, size_t size, double ns)
{
	char n[32];

	fmt_num(n, sizeof(n), ns / 1e3);
	snprintf(buf, size, "%sus", n);
}

static int emit(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int emit(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		}
		{
			char *nb = realloc(*buf, *cap * 2 + (size_t)n);

			if (!nb)
				return -1;
			*buf = nb;
			*cap = *cap * 2 + (size_t)n;
		}
	}
}

/* The text of the whole file. Caller frees. */
static char *calib_text(const struct hrservo_calib *c, size_t *len)
{
	size_t cap = 4096;
	char *b = malloc(cap), n1[40], n2[40];
	int r = 0;

	*len = 0;
	if (!b)
		return NULL;
	b[0] = '\0';
	r |= emit(&b, len, &cap, "# hrservo calibration of one robot, written by libhrservo.\n"
		  "# Keys: see Documentation/libhrservo.rst. Comments are not kept.\n");
	for (unsigned int i = 0; i < c->nctrls; i++)
		r |= emit(&b, len, &cap, "\n[controller %s]\ndevice = %s\n",
			  c->ctrl[i].name, c->ctrl[i].device);
	for (unsigned int i = 0; i < c->njoints; i++) {
		const struct hrservo_joint *j = &c->joint[i];

		r |= emit(&b, len, &cap, "\n[joint %s]\ncontroller = %s\nchannel = %u\nunit = %s\nmap =",
			  j->name, j->controller, j->channel,
			  hrservo_unit_name(j->unit));
		for (unsigned int k = 0; k < j->npoints; k++) {
			fmt_num(n1, sizeof(n1), j->pos[k]);
			fmt_pulse(n2, sizeof(n2), j->pulse_ns[k]);
			/* Four points a line; more continue indented. */
			r |= emit(&b, len, &cap, "%s%s:%s",
				  k && k % 4 == 0 ? "\n      " : " ", n1, n2);
		}
		r |= emit(&b, len, &cap, "\ninterp = %s\ninvert = %s\n",
			  j->map == HRSERVO_MAP_CUBIC ? "cubic" : "linear",
			  j->invert ? "yes" : "no");
		if (j->trim_ns != 0) {
			fmt_num(n1, sizeof(n1), j->trim_ns);
			r |= emit(&b, len, &cap, "trim = %sns\n", n1);
		}
		fmt_num(n1, sizeof(n1), j->min);
		fmt_num(n2, sizeof(n2), j->max);
		r |= emit(&b, len, &cap, "min = %s\nmax = %s\n", n1, n2);
		if (j->has_home) {
			fmt_num(n1, sizeof(n1), j->home);
			r |= emit(&b, len, &cap, "home = %s\n", n1);
		}
		if (j->max_speed > 0) {
			fmt_num(n1, sizeof(n1), j->max_speed);
			r |= emit(&b, len, &cap, "max_speed = %s\n", n1);
		}
		if (j->max_accel > 0) {
			fmt_num(n1, sizeof(n1), j->max_accel);
			r |= emit(&b, len, &cap, "max_accel = %s\n", n1);
		}
	}
	if (r) {
		free(b);
		return NULL;
	}
	return b;
}

HRSERVO_API int hrservo_calib_save(const struct hrservo_calib *c,
				   const char *path)
{
	char *text, *tmp = NULL, *dircopy = NULL;
	size_t len, off = 0;
	int fd = -1, dfd = -1, saved = 0;

	text = calib_text(c, &len);
	if (!text || asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		free(text);
		errno = ENOMEM;
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, 0644) || fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path))
		goto fail;
	/* The rename itself must reach the disk: fsync the directory. */
	dircopy = strdup(path);
	if (!dircopy)
		goto fail_renamed;
	dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		goto fail_renamed;
	close(dfd);
	free(dircopy);
	free(tmp);
	free(text);
	return 0;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	free(text);
	errno = saved;
	return -1;
fail_renamed:
	/* The new file is in place; only its durability is in doubt. */
	saved = errno;
	if (dfd >= 0)
		close(dfd);
	free(dircopy);
	free(tmp);
	free(text);
	errno = saved;
	return -1;
}

/* ---- Applying a calibration to a controller ---- */

/* A channel's kernel limits: the joint's, and the ones to put back. */
struct calib_apply_item {
	const struct hrservo_joint *j;
	struct hrservo_limits_ns l;
	uint32_t old_min, old_max, old_speed, old_accel;
};

/* Put back the limits of items [0, @n): what hrservo_calib_apply() set. */
static void calib_apply_undo(struct hrservo *h,
			     const struct calib_apply_item *set, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		hrservo_set_limits(h, set[k].j->channel, set[k].old_min,
				   set[k].old_max);
		hrservo_set_motion_limits(h, set[k].j->channel,
					  set[k].old_speed, set[k].old_accel);
	}
}

HRSERVO_API int hrservo_calib_apply(const struct hrservo_calib *c,
				    struct hrservo *h, char *err,
				    size_t errsize)
{
	struct calib_apply_item set[HRSERVO_MAX_CHANNELS];
	unsigned int n = 0, nch;
	int saved;

	if (!c || !h) {
		seterr(err, errsize, "no calibration or no controller");
		errno = EINVAL;
		return -1;
	}
	nch = hrservo_num_channels(h);
	/* Everything is derived and read before anything is set. */
	for (unsigned int i = 0; i < c->njoints; i++) {
		const struct hrservo_joint *j = &c->joint[i];
		struct calib_apply_item *s = &set[n];

		if (hrservo_calib_find_channel(c, hrservo_name(h),
					       j->channel) != j)
			continue;
		/* One joint a channel: n stays below nch. */
		if (j->channel >= nch) {
			seterr(err, errsize, "joint %s: channel %u: %s has %u channels",
			       j->name, j->channel, hrservo_name(h), nch);
			errno = EINVAL;
			return -1;
		}
		s->j = j;
		if (hrservo_joint_kernel_limits(j, &s->l) ||
		    hrservo_get_limits(h, j->channel, &s->old_min,
				       &s->old_max) ||
		    hrservo_get_motion_limits(h, j->channel, &s->old_speed,
					      &s->old_accel)) {
			saved = errno;
			seterr(err, errsize, "joint %s: %s", j->name,
			       strerror(saved));
			errno = saved;
			return -1;
		}
		n++;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct calib_apply_item *s = &set[i];
		char a[24], b[24];

		if (!hrservo_set_limits(h, s->j->channel, s->l.min_ns,
					s->l.max_ns) &&
		    !hrservo_set_motion_limits(h, s->j->channel,
					       s->l.max_speed_ns_per_s,
					       s->l.max_accel_ns_per_s2))
			continue;
		saved = errno;
		seterr(err, errsize, "joint %s: limits %s..%s: %s", s->j->name,
		       hrservo_format_ns(s->l.min_ns, a, sizeof(a)),
		       hrservo_format_ns(s->l.max_ns, b, sizeof(b)),
		       saved == EBUSY ? "its target lies outside; move it inside first" :
		       strerror(saved));
		/* This one may be half set: undo it and the ones before. */
		calib_apply_undo(h, set, i + 1);
		errno = saved;
		return -1;
	}
	return (int)n;
}
