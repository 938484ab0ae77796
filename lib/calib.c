// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo - calibration: per-joint maps from positions (deg, rad, %) to
 * pulse widths, stored one file per robot.
 *
 * The file is INI, read with inih (Debian's libinih) through the library's
 * reader (lib/ini.c), every error naming FILE:LINE. A robot file holds
 * [controller NAME] sections (an alias for a device, "device = hrservo0")
 * and [joint NAME] sections; see Documentation/libhrservo.rst for every key.
 *
 * Numbers are read and written in the C locale whatever the program's, and
 * a save writes each number so that it reads back to the same double.
 *
 * Saving writes the whole file to a temporary file in the same directory,
 * fsyncs it, renames it over the old one and fsyncs the directory, so a
 * crash or a full disk leaves the old file or the new one, never a mix.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
/* Pulse widths of a map: the kernel's absolute range. */
#define CALIB_PULSE_MIN_NS	50000.0
#define CALIB_PULSE_MAX_NS	50000000.0
#define CALIB_TRIM_MAX_NS	1000000.0
/*
 * Positions of a map: within +-1e9 units and at least 1e-6 units apart, so
 * that every slope, tangent and interpolation of the map is finite.
 */
#define CALIB_POS_MAX		1e9
#define CALIB_POS_STEP_MIN	1e-6

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

/* ASCII classes: names must not depend on the locale. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * "/dev/hrservo3", "hrservo3", "3" and each of them after "chardev:" are
 * one controller: "hrservo3". So are the spellings of a gpiod spec
 * (chip by path, name or label; lines as ranges or not; options): the
 * name its handle would have, where the chip is here.
 */
static void canonical(const char *spec, char *out, size_t size)
{
	const char *s = spec;

#ifdef HRSERVO_HAVE_GPIOD
	if (!strncmp(s, "gpiod:", 6) &&
	    !hrservo_gpiod_canonical(s + 6, out, size))
		return;
#endif

	if (!strncmp(s, "chardev:", 8))
		s += 8;
	if (!strncmp(s, "/dev/", 5))
		s += 5;
	if (is_digit(*s))
		snprintf(out, size, "hrservo%s", s);
	else
		snprintf(out, size, "%s", s);
}

HRSERVO_API const struct hrservo_joint *
hrservo_calib_find_channel(const struct hrservo_calib *c,
			   const char *controller, unsigned int channel)
{
	char want[HRSERVO_DEVICE_MAX + 8], have[HRSERVO_DEVICE_MAX + 8];

	const char *dev = hrservo_calib_device(c, controller);

	canonical(dev, want, sizeof(want));
	for (unsigned int i = 0; i < c->njoints; i++) {
		const struct hrservo_joint *j = &c->joint[i];
		const char *jdev;

		if (j->channel != channel)
			continue;
		/* The same words need no lookup (a gpiod label's is a scan). */
		jdev = hrservo_calib_device(c, j->controller);
		if (!strcmp(jdev, dev))
			return j;
		canonical(jdev, have, sizeof(have));
		if (!strcmp(want, have))
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

/*
 * Why the value @s, written as "key = @s", would not read back as itself
 * (inih strips white space around a value, ends it at a ';' that follows
 * white space, and a line at its end), or NULL if it would.
 */
static const char *unsaveable(const char *s)
{
	size_t n = strlen(s);

	if (!n)
		return "it is empty";
	if (hrservo_is_space(s[0]) || hrservo_is_space(s[n - 1]))
		return "it begins or ends with white space";
	if (s[0] == ';')
		return "it begins with ';', which starts a comment";
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "it holds a control character (a newline, a tab...)";
		if (s[i] == ';' && i && s[i - 1] == ' ')
			return "' ;' would start a comment";
	}
	return NULL;
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
		       double x)
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
		return y0 + (y1 - y0) * t;
	} else {
		double t2 = t * t, t3 = t2 * t;

		return (2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + t) * h * m[k] +
		       (-2 * t3 + 3 * t2) * y1 + (t3 - t2) * h * m[k + 1];
	}
}

/* A user position in map coordinates (direction invert). */
static double map_x(const struct hrservo_joint *j, double pos)
{
	return j->invert ? j->pos[0] + j->pos[j->npoints - 1] - pos : pos;
}

/* The pulse at user position @pos of a checked joint; @m from map_tangents(). */
static double pulse_at(const struct hrservo_joint *j, const double *m,
		       double pos)
{
	return map_eval(j, m, map_x(j, pos)) + j->trim_ns;
}

/*
 * The smallest |slope| (ns per unit) of the map between map coordinates
 * @a < @b. The cubic's slope on an interval is a quadratic in t, so its
 * smallest magnitude is at an end or at the vertex: exact, not sampled.
 */
static double min_slope(const struct hrservo_joint *j, const double *m,
			double a, double b)
{
	double best = INFINITY;

	for (unsigned int k = 0; k + 1 < j->npoints; k++) {
		double x0 = j->pos[k], x1 = j->pos[k + 1], h = x1 - x0;
		double y0 = j->pulse_ns[k], y1 = j->pulse_ns[k + 1];
		double lo = fmax(a, x0), hi = fmin(b, x1);
		double qa, qb, qc, t[3];
		int nt = 2;

		if (lo > hi)
			continue;
		if (!m) {
			best = fmin(best, fabs((y1 - y0) / h));
			continue;
		}
		/* slope * h = qa t^2 + qb t + qc (the Hermite basis' derivative) */
		qa = 6 * (y0 - y1) + 3 * h * (m[k] + m[k + 1]);
		qb = 6 * (y1 - y0) - h * (4 * m[k] + 2 * m[k + 1]);
		qc = h * m[k];
		t[0] = (lo - x0) / h;
		t[1] = (hi - x0) / h;
		if (qa != 0) {
			double tv = -qb / (2 * qa);

			if (tv > t[0] && tv < t[1])
				t[nt++] = tv;
		}
		for (int i = 0; i < nt; i++)
			best = fmin(best, fabs((qa * t[i] + qb) * t[i] + qc) / h);
	}
	return best;
}

/*
 * Everything the map's evaluation relies on, so that a struct filled in by
 * the caller gives an error, never a crash or a NaN: hrservo_joint_check()
 * without the name, controller, channel and unit. @err as there.
 */
static int check_map(const struct hrservo_joint *j, char *err, size_t errsize)
{
	const char *u = hrservo_unit_name(j->unit);
	double m[HRSERVO_MAP_POINTS_MAX], a, b;
	unsigned int n = j->npoints;
	const double *mt;
	bool rising;

	errno = EINVAL;
	if (n < 2 || n > HRSERVO_MAP_POINTS_MAX) {
		hrservo_seterr(err, errsize, "joint %s: map has %u points, needs 2..%d",
			       j->name, n, HRSERVO_MAP_POINTS_MAX);
		return -1;
	}
	if (j->map != HRSERVO_MAP_LINEAR && j->map != HRSERVO_MAP_CUBIC) {
		hrservo_seterr(err, errsize, "joint %s: interpolation %d is neither linear nor cubic",
			       j->name, (int)j->map);
		return -1;
	}
	rising = j->pulse_ns[1] > j->pulse_ns[0];
	for (unsigned int k = 0; k < n; k++) {
		if (!(fabs(j->pos[k]) <= CALIB_POS_MAX)) {
			hrservo_seterr(err, errsize, "joint %s: point %u: position %g%s outside -%g..%g",
				       j->name, k, j->pos[k], u, CALIB_POS_MAX,
				       CALIB_POS_MAX);
			return -1;
		}
		if (!(j->pulse_ns[k] >= CALIB_PULSE_MIN_NS &&
		      j->pulse_ns[k] <= CALIB_PULSE_MAX_NS)) {
			hrservo_seterr(err, errsize, "joint %s: point %g%s: pulse %.0fns outside %.0fns..%.0fns",
				       j->name, j->pos[k], u, j->pulse_ns[k],
				       CALIB_PULSE_MIN_NS, CALIB_PULSE_MAX_NS);
			return -1;
		}
		if (k && !(j->pos[k] > j->pos[k - 1])) {
			hrservo_seterr(err, errsize, "joint %s: positions not increasing: %g%s after %g%s",
				       j->name, j->pos[k], u, j->pos[k - 1], u);
			return -1;
		}
		if (k && !(j->pos[k] - j->pos[k - 1] >= CALIB_POS_STEP_MIN)) {
			hrservo_seterr(err, errsize, "joint %s: points %g%s and %g%s less than %g%s apart",
				       j->name, j->pos[k - 1], u, j->pos[k], u,
				       CALIB_POS_STEP_MIN, u);
			return -1;
		}
		if (k && (j->pulse_ns[k] > j->pulse_ns[k - 1]) != rising) {
			hrservo_seterr(err, errsize, "joint %s: pulses not monotonic at %g%s",
				       j->name, j->pos[k], u);
			return -1;
		}
		if (k && j->pulse_ns[k] == j->pulse_ns[k - 1]) {
			hrservo_seterr(err, errsize, "joint %s: two points with one pulse at %g%s",
				       j->name, j->pos[k], u);
			return -1;
		}
	}
	if (!(fabs(j->trim_ns) <= CALIB_TRIM_MAX_NS)) {
		hrservo_seterr(err, errsize, "joint %s: trim %.0fns outside -%.0fns..%.0fns",
			       j->name, j->trim_ns, CALIB_TRIM_MAX_NS, CALIB_TRIM_MAX_NS);
		return -1;
	}
	if (!(j->min >= j->pos[0] && j->max <= j->pos[n - 1] &&
	      j->min < j->max)) {
		hrservo_seterr(err, errsize, "joint %s: soft limits %g%s..%g%s must lie within the map, %g%s..%g%s",
			       j->name, j->min, u, j->max, u, j->pos[0], u,
			       j->pos[n - 1], u);
		return -1;
	}
	if (j->has_home && !(j->home >= j->min && j->home <= j->max)) {
		hrservo_seterr(err, errsize, "joint %s: home %g%s outside the soft limits %g%s..%g%s",
			       j->name, j->home, u, j->min, u, j->max, u);
		return -1;
	}
	if (!(j->max_speed >= 0 && j->max_accel >= 0 &&
	      isfinite(j->max_speed) && isfinite(j->max_accel))) {
		hrservo_seterr(err, errsize, "joint %s: max_speed and max_accel must be >= 0",
			       j->name);
		return -1;
	}
	/* Trim must not push a pulse out of range either. */
	mt = map_tangents(j, m);
	a = pulse_at(j, mt, j->min);
	b = pulse_at(j, mt, j->max);
	if (!(fmin(a, b) >= CALIB_PULSE_MIN_NS &&
	      fmax(a, b) <= CALIB_PULSE_MAX_NS)) {
		hrservo_seterr(err, errsize, "joint %s: trim takes pulses outside %.0fns..%.0fns",
			       j->name, CALIB_PULSE_MIN_NS, CALIB_PULSE_MAX_NS);
		return -1;
	}
	errno = 0;
	return 0;
}

HRSERVO_API int hrservo_joint_to_ns(const struct hrservo_joint *j, double pos,
				    double *pulse_ns)
{
	double m[HRSERVO_MAP_POINTS_MAX];

	if (check_map(j, NULL, 0))
		return -1;
	if (!(pos >= j->min && pos <= j->max)) {
		errno = ERANGE;
		return -1;
	}
	*pulse_ns = pulse_at(j, map_tangents(j, m), pos);
	return 0;
}

HRSERVO_API int hrservo_joint_from_ns(const struct hrservo_joint *j,
				      double pulse_ns, double *pos)
{
	double m[HRSERVO_MAP_POINTS_MAX], lo, hi, y, ylo, yhi;
	const double *mt;
	bool rising;

	if (check_map(j, NULL, 0))
		return -1;
	mt = map_tangents(j, m);
	lo = j->pos[0];
	hi = j->pos[j->npoints - 1];
	y = pulse_ns - j->trim_ns;
	rising = j->pulse_ns[j->npoints - 1] > j->pulse_ns[0];
	ylo = map_eval(j, mt, lo);
	yhi = map_eval(j, mt, hi);
	/* Written so that NaN is off the map too. */
	if (!(rising ? (y >= ylo - 0.5 && y <= yhi + 0.5) :
		       (y <= ylo + 0.5 && y >= yhi - 0.5))) {
		errno = ERANGE;
		return -1;
	}
	/* The map is monotone: bisection to well below a nanosecond. */
	for (int i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if ((map_eval(j, mt, mid) < y) == rising)
			lo = mid;
		else
			hi = mid;
	}
	*pos = map_x(j, (lo + hi) / 2);
	return 0;
}

/*
 * A kernel limit (ns/s or ns/s^2) from a joint's (@limit, unit/s or unit/s^2)
 * at map slope @slope: rounded down (but for a relative 1e-12, so that
 * 90 deg/s at 50/9 us/deg is 500000 ns/s, not 499999), at least 1 (0 would
 * mean no limit), at most what the ABI holds; 0 for none.
 */
static uint32_t derived_limit(double limit, double slope)
{
	double x = limit * slope;

	if (limit == 0)
		return 0;
	x += x * 1e-12;
	if (!(x < (double)UINT32_MAX))
		return UINT32_MAX;
	return x < 1 ? 1 : (uint32_t)floor(x);
}

HRSERVO_API int hrservo_joint_kernel_limits(const struct hrservo_joint *j,
					    struct hrservo_limits_ns *l)
{
	double a, b, lo, hi, shallow, m[HRSERVO_MAP_POINTS_MAX];
	const double *mt;

	if (check_map(j, NULL, 0))
		return -1;
	mt = map_tangents(j, m);
	a = pulse_at(j, mt, j->min);
	b = pulse_at(j, mt, j->max);
	lo = fmin(map_x(j, j->min), map_x(j, j->max));
	hi = fmax(map_x(j, j->min), map_x(j, j->max));
	/*
	 * The joint moves at (pulse speed) / slope: the kernel's pulse speed
	 * limit keeps it within max_speed everywhere only at the map's
	 * shallowest slope between the soft limits.
	 */
	shallow = min_slope(j, mt, lo, hi);
	l->min_ns = (uint32_t)floor(fmin(a, b));
	l->max_ns = (uint32_t)ceil(fmax(a, b));
	l->max_speed_ns_per_s = derived_limit(j->max_speed, shallow);
	l->max_accel_ns_per_s2 = derived_limit(j->max_accel, shallow);
	return 0;
}

/* ---- Checks ---- */

HRSERVO_API int hrservo_joint_check(const struct hrservo_joint *j, char *err,
				    size_t errsize)
{
	const char *why;

	errno = EINVAL;
	if (!memchr(j->name, '\0', sizeof(j->name)) || !hrservo_valid_name(j->name)) {
		hrservo_seterr(err, errsize, "joint name '%.*s': letters, digits and _ only, at most %d characters",
			       (int)sizeof(j->name), j->name,
			       HRSERVO_JOINT_NAME_MAX - 1);
		return -1;
	}
	if (!memchr(j->controller, '\0', sizeof(j->controller)) ||
	    !j->controller[0]) {
		hrservo_seterr(err, errsize, "joint %s: no controller", j->name);
		return -1;
	}
	why = unsaveable(j->controller);
	if (why) {
		hrservo_seterr(err, errsize, "joint %s: controller '%s' cannot be saved in a calibration file: %s",
			       j->name, j->controller, why);
		return -1;
	}
	if (j->channel >= HRSERVO_MAX_CHANNELS) {
		hrservo_seterr(err, errsize, "joint %s: channel %u above %d", j->name,
			       j->channel, HRSERVO_MAX_CHANNELS - 1);
		return -1;
	}
	if (!is_position_unit(j->unit)) {
		hrservo_seterr(err, errsize, "joint %s: unit must be deg, rad or %%",
			       j->name);
		return -1;
	}
	return check_map(j, err, errsize);
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
			hrservo_seterr(err, errsize, "joint %s: the name is taken by channel %u of %s",
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
		hrservo_seterr(err, errsize, "more than %d joints", CALIB_JOINTS_MAX);
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

	if (!hrservo_valid_name(name) || strlen(device) >= HRSERVO_DEVICE_MAX ||
	    unsaveable(device)) {
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

static const char *const joint_keys[] = {
	"controller", "channel", "unit", "map", "interp", "invert", "trim",
	"min", "max", "home", "max_speed", "max_accel", NULL
};

static const char *const ctrl_keys[] = { "device", NULL };

/* The keys of a section, or NULL for a section that is neither. */
static const char *const *section_keys(struct hrservo_ini *ini,
				       const char *section)
{
	(void)ini;
	if (!strncmp(section, "joint ", 6))
		return joint_keys;
	if (!strncmp(section, "controller ", 11))
		return ctrl_keys;
	return NULL;
}

/*
 * What an unknown key @name of a section with @keys is probably meant to
 * be: "; did you mean 'max_speed'?", or what the thing is called here; ""
 * if nothing is close.
 */
static const char *key_hint(const struct hrservo_ini *ini, const char *name,
			    char *buf, size_t size)
{
	static const char period[] =
		": a calibration has no frame period ('servoctl period' sets a controller's)";
	static const char centre[] =
		": the centre is a point of the map (map = -90:1000us 0:1500us 90:2000us); 'trim' shifts every pulse, 'home' is a rest position";
	static const struct {
		const char *word, *hint;
	} words[] = {
		{ "centre", centre }, { "center", centre },
		{ "offset", ": an offset added to every pulse is 'trim'" },
		{ "period", period }, { "frequency", period }, { "freq", period },
		{ "hz", period }, { "rate", period },
		{ "speed", "; did you mean 'max_speed'?" },
		{ "velocity", "; did you mean 'max_speed'?" },
		{ "acceleration", "; did you mean 'max_accel'?" },
		{ "reverse", "; did you mean 'invert'?" },
		{ "reversed", "; did you mean 'invert'?" },
		{ "interpolation", "; did you mean 'interp'?" },
		{ "device", ": a joint names its 'controller'; 'device' belongs in [controller NAME]" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(name, words[i].word) &&
		    (words[i].hint[0] == ':' ||
		     hrservo_ini_is_key(ini->allowed, "max_speed")))
			return words[i].hint;
	return hrservo_ini_suggest(name, ini->allowed, buf, size);
}

/*
 * A pulse width: "1500us", "1.5ms", "1500000ns", a decimal number with any
 * number of digits; signed for a trim.
 */
static int parse_pulse(struct hrservo_ini *ld, const struct hrservo_ini_key *k,
		       const char *s, bool allow_sign, double *out)
{
	static const struct {
		const char *name;
		int shift;		/* to ns */
	} units[] = {
		{ "ns", 0 }, { "us", 3 }, { "\xc2\xb5s", 3 }, { "ms", 6 },
		{ "s", 9 },
	};
	size_t n = hrservo_scan_decimal(s, true);

	if (n && (allow_sign || (*s != '+' && *s != '-')))
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(s + n, units[i].name) &&
			    hrservo_file_number(s, n, units[i].shift, out))
				return 0;
	hrservo_ini_fail(ld, k->line, "%s: '%s' is not a pulse width (e.g. 1500us)",
			 k->name, s);
	return -1;
}

static int parse_map(struct hrservo_ini *ld, const struct hrservo_ini_key *k,
		     struct hrservo_joint *j)
{
	char buf[sizeof(k->value)], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", k->value);
	j->npoints = 0;
	for (tok = strtok_r(buf, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		char *colon = strchr(tok, ':');

		if (!colon) {
			hrservo_ini_fail(ld, k->line, "map: '%s' is not POSITION:PULSE", tok);
			return -1;
		}
		if (j->npoints == HRSERVO_MAP_POINTS_MAX) {
			hrservo_ini_fail(ld, k->line, "map: more than %d points",
					 HRSERVO_MAP_POINTS_MAX);
			return -1;
		}
		*colon = '\0';
		if (hrservo_ini_pos(ld, k, tok, j->unit, "position",
				    &j->pos[j->npoints]) ||
		    parse_pulse(ld, k, colon + 1, false,
				&j->pulse_ns[j->npoints]))
			return -1;
		j->npoints++;
	}
	return 0;
}

/* A whole [joint NAME] section. */
static void finish_joint(struct hrservo_ini *ld, const char *name)
{
	struct hrservo_calib *c = ld->user;
	struct hrservo_joint j = { 0 };
	struct hrservo_ini_key *k;
	char msg[256];
	unsigned long ch;
	char *end;

	snprintf(j.name, sizeof(j.name), "%s", name);
	if (!hrservo_valid_name(name) || strlen(name) >= sizeof(j.name)) {
		hrservo_ini_fail(ld, ld->sline, "joint name '%s': letters, digits and _ only, at most %d characters",
				 name, HRSERVO_JOINT_NAME_MAX - 1);
		return;
	}
	if (hrservo_calib_find(c, name)) {
		hrservo_ini_fail(ld, ld->sline, "duplicate joint '%s'", name);
		return;
	}
	k = hrservo_ini_key(ld, "controller");
	if (!k || !*k->value || strlen(k->value) >= sizeof(j.controller)) {
		hrservo_ini_fail(ld, k ? k->line : ld->sline, "joint %s: controller missing or too long",
				 name);
		return;
	}
	snprintf(j.controller, sizeof(j.controller), "%s", k->value);
	k = hrservo_ini_key(ld, "channel");
	if (!k) {
		hrservo_ini_fail(ld, ld->sline, "joint %s: no channel", name);
		return;
	}
	errno = 0;
	ch = strtoul(k->value, &end, 10);
	if (!*k->value || *end || errno || ch >= HRSERVO_MAX_CHANNELS) {
		hrservo_ini_fail(ld, k->line, "channel: '%s' is not a channel (0..%d)", k->value,
				 HRSERVO_MAX_CHANNELS - 1);
		return;
	}
	j.channel = (unsigned int)ch;
	k = hrservo_ini_key(ld, "unit");
	if (!k) {
		j.unit = HRSERVO_UNIT_DEG;
	} else if (!strcmp(k->value, "deg")) {
		j.unit = HRSERVO_UNIT_DEG;
	} else if (!strcmp(k->value, "rad")) {
		j.unit = HRSERVO_UNIT_RAD;
	} else if (!strcmp(k->value, "%")) {
		j.unit = HRSERVO_UNIT_PERCENT;
	} else {
		hrservo_ini_fail(ld, k->line, "unit: '%s' is not deg, rad or %%", k->value);
		return;
	}
	k = hrservo_ini_key(ld, "map");
	if (!k) {
		hrservo_ini_fail(ld, ld->sline, "joint %s: no map", name);
		return;
	}
	if (parse_map(ld, k, &j))
		return;
	k = hrservo_ini_key(ld, "interp");
	if (k && !strcmp(k->value, "cubic")) {
		j.map = HRSERVO_MAP_CUBIC;
	} else if (k && strcmp(k->value, "linear")) {
		hrservo_ini_fail(ld, k->line, "interp: '%s' is not linear or cubic", k->value);
		return;
	}
	k = hrservo_ini_key(ld, "invert");
	if (k && hrservo_ini_bool(ld, k, &j.invert))
		return;
	k = hrservo_ini_key(ld, "trim");
	if (k && parse_pulse(ld, k, k->value, true, &j.trim_ns))
		return;
	j.min = j.npoints ? j.pos[0] : 0;
	j.max = j.npoints ? j.pos[j.npoints - 1] : 0;
	k = hrservo_ini_key(ld, "min");
	if (k && hrservo_ini_pos(ld, k, k->value, j.unit, "position", &j.min))
		return;
	k = hrservo_ini_key(ld, "max");
	if (k && hrservo_ini_pos(ld, k, k->value, j.unit, "position", &j.max))
		return;
	k = hrservo_ini_key(ld, "home");
	if (k) {
		if (hrservo_ini_pos(ld, k, k->value, j.unit, "position", &j.home))
			return;
		j.has_home = true;
	}
	k = hrservo_ini_key(ld, "max_speed");
	if (k && hrservo_ini_pos(ld, k, k->value, j.unit, "position",
				 &j.max_speed))
		return;
	k = hrservo_ini_key(ld, "max_accel");
	if (k && hrservo_ini_pos(ld, k, k->value, j.unit, "position",
				 &j.max_accel))
		return;
	{
		const struct hrservo_joint *o;

		o = hrservo_calib_find_channel(c, j.controller, j.channel);
		if (o) {
			hrservo_ini_fail(ld, ld->sline, "joint %s: channel %u of %s already belongs to joint %s",
					 name, j.channel, j.controller, o->name);
			return;
		}
	}
	if (hrservo_calib_put(c, &j, msg, sizeof(msg)))
		hrservo_ini_fail(ld, ld->sline, "%s", msg);
}

static void finish_section(struct hrservo_ini *ld)
{
	struct hrservo_calib *c = ld->user;

	if (!strncmp(ld->section, "joint ", 6)) {
		finish_joint(ld, ld->section + 6);
	} else if (!strncmp(ld->section, "controller ", 11)) {
		struct hrservo_ini_key *k = hrservo_ini_key(ld, "device");
		const char *name = ld->section + 11;

		if (!k) {
			hrservo_ini_fail(ld, ld->sline, "controller %s: no device", name);
		} else if (hrservo_calib_device(c, name) != name) {
			hrservo_ini_fail(ld, ld->sline, "duplicate controller '%s'", name);
		} else if (hrservo_calib_set_device(c, name, k->value)) {
			hrservo_ini_fail(ld, ld->sline, "controller '%s': bad name or device '%s'",
					 name, k->value);
		}
	}
}

static const struct hrservo_ini_ops calib_ini = {
	.section_keys = section_keys,
	.sections = "[joint NAME] or [controller NAME]",
	.multiline = "map",
	.key_hint = key_hint,
	.finish = finish_section,
};

HRSERVO_API struct hrservo_calib *hrservo_calib_load(const char *path,
						     char *err,
						     size_t errsize)
{
	struct hrservo_calib *c = hrservo_calib_new();
	int saved;

	if (!c) {
		hrservo_seterr(err, errsize, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	if (hrservo_ini_load(path, &calib_ini, c, err, errsize)) {
		saved = errno;
		hrservo_calib_free(c);
		errno = saved;
		return NULL;
	}
	return c;
}

/* ---- Saving ---- */

/*
 * A number for the file, as short as it can be and still read back as
 * exactly @v (file_number()), with a '.' whatever the locale: plain
 * decimals where they are short, else with an exponent. @size >= 48.
 */
static int fmt_num(char *buf, size_t size, double v)
{
	double a = fabs(v);

	if (a == 0 || (a >= 1e-5 && a < 1e15))
		for (int prec = 0; prec <= 22; prec++) {
			if (hrservo_snprintf_c(buf, size, "%.*f", prec, v) < 0)
				return -1;
			if (hrservo_strtod_c(buf, NULL) == v)
				return 0;
		}
	for (int prec = 0; prec <= 16; prec++) {
		if (hrservo_snprintf_c(buf, size, "%.*e", prec, v) < 0)
			return -1;
		if (hrservo_strtod_c(buf, NULL) == v)
			return 0;
	}
	errno = EINVAL;		/* NaN or infinite: not in a checked joint */
	return -1;
}

/*
 * A pulse width in us: the decimal digits of its ns, the point moved three
 * places (an exact shift, not a division: 1500000.3 ns is "1500.0003us").
 */
static int fmt_pulse(char *buf, size_t size, double ns)
{
	char n[48], d[64];
	const char *dot;
	size_t il, pad, ul, len;

	if (fmt_num(n, sizeof(n), ns))
		return -1;
	if (strchr(n, 'e') || n[0] == '-') {
		snprintf(buf, size, "%sns", n);
		return 0;
	}
	dot = strchr(n, '.');
	il = dot ? (size_t)(dot - n) : strlen(n);
	pad = il < 4 ? 4 - il : 0;
	snprintf(d, sizeof(d), "%.*s%.*s%s", (int)pad, "000", (int)il, n,
		 dot ? dot + 1 : "");
	ul = pad + il - 3;		/* digits before the us point */
	len = strlen(d);
	while (len > ul && d[len - 1] == '0')
		d[--len] = '\0';
	snprintf(buf, size, "%.*s%s%sus", (int)ul, d, len > ul ? "." : "",
		 d + ul);
	return 0;
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

/* The map's points, wrapped so that no line comes near inih's limit. */
static int emit_map(char **b, size_t *len, size_t *cap,
		    const struct hrservo_joint *j)
{
	size_t col = strlen("map =");
	char n1[48], n2[48], point[100];
	int r = 0;

	r |= emit(b, len, cap, "map =");
	for (unsigned int k = 0; k < j->npoints; k++) {
		if (fmt_num(n1, sizeof(n1), j->pos[k]) ||
		    fmt_pulse(n2, sizeof(n2), j->pulse_ns[k]))
			return -1;
		snprintf(point, sizeof(point), "%s:%s", n1, n2);
		if (k && col + 1 + strlen(point) > 100) {
			/* more points continue on an indented line */
			r |= emit(b, len, cap, "\n     ");
			col = 5;
		}
		r |= emit(b, len, cap, " %s", point);
		col += 1 + strlen(point);
	}
	return r;
}

/*
 * The text of the whole file, or NULL with errno: EINVAL for what would not
 * read back as itself, ENOMEM. Caller frees.
 */
static char *calib_text(const struct hrservo_calib *c, size_t *len)
{
	size_t cap = 4096;
	char *b, n1[48], n2[48];
	int r = 0;

	*len = 0;
	/* Every string is checked when it comes in; this is the last guard. */
	for (unsigned int i = 0; i < c->nctrls; i++)
		if (!hrservo_valid_name(c->ctrl[i].name) ||
		    unsaveable(c->ctrl[i].device))
			goto inval;
	for (unsigned int i = 0; i < c->njoints; i++)
		if (hrservo_joint_check(&c->joint[i], NULL, 0))
			goto inval;
	b = malloc(cap);
	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	b[0] = '\0';
	r |= emit(&b, len, &cap, "# hrservo calibration of one robot, written by libhrservo.\n"
		  "# Keys: see Documentation/libhrservo.rst. Comments are not kept.\n");
	for (unsigned int i = 0; i < c->nctrls; i++)
		r |= emit(&b, len, &cap, "\n[controller %s]\ndevice = %s\n",
			  c->ctrl[i].name, c->ctrl[i].device);
	for (unsigned int i = 0; i < c->njoints; i++) {
		const struct hrservo_joint *j = &c->joint[i];

		r |= emit(&b, len, &cap, "\n[joint %s]\ncontroller = %s\nchannel = %u\nunit = %s\n",
			  j->name, j->controller, j->channel,
			  hrservo_unit_name(j->unit));
		r |= emit_map(&b, len, &cap, j);
		r |= emit(&b, len, &cap, "\ninterp = %s\ninvert = %s\n",
			  j->map == HRSERVO_MAP_CUBIC ? "cubic" : "linear",
			  j->invert ? "yes" : "no");
		if (j->trim_ns != 0) {
			r |= fmt_num(n1, sizeof(n1), j->trim_ns);
			r |= emit(&b, len, &cap, "trim = %sns\n", n1);
		}
		r |= fmt_num(n1, sizeof(n1), j->min);
		r |= fmt_num(n2, sizeof(n2), j->max);
		r |= emit(&b, len, &cap, "min = %s\nmax = %s\n", n1, n2);
		if (j->has_home) {
			r |= fmt_num(n1, sizeof(n1), j->home);
			r |= emit(&b, len, &cap, "home = %s\n", n1);
		}
		if (j->max_speed > 0) {
			r |= fmt_num(n1, sizeof(n1), j->max_speed);
			r |= emit(&b, len, &cap, "max_speed = %s\n", n1);
		}
		if (j->max_accel > 0) {
			r |= fmt_num(n1, sizeof(n1), j->max_accel);
			r |= emit(&b, len, &cap, "max_accel = %s\n", n1);
		}
	}
	if (r) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	return b;

inval:
	errno = EINVAL;
	return NULL;
}

HRSERVO_API int hrservo_calib_save(const struct hrservo_calib *c,
				   const char *path)
{
	char *text, *tmp = NULL, *dircopy = NULL;
	size_t len, off = 0;
	int fd = -1, dfd = -1, saved = 0;

	text = calib_text(c, &len);
	if (!text)
		return -1;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
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


HRSERVO_API int hrservo_calib_apply(const struct hrservo_calib *c,
				    struct hrservo *h, char *err,
				    size_t errsize)
{
	struct hrservo_limit_change set[HRSERVO_MAX_CHANNELS];
	const struct hrservo_joint *joint[HRSERVO_MAX_CHANNELS];
	unsigned int n = 0, nch;
	size_t bad = 0;
	int saved;

	if (!c || !h) {
		hrservo_seterr(err, errsize, "no calibration or no controller");
		errno = EINVAL;
		return -1;
	}
	nch = hrservo_num_channels(h);
	/* Everything is derived and read before anything is set. */
	for (unsigned int i = 0; i < c->njoints; i++) {
		const struct hrservo_joint *j = &c->joint[i];
		struct hrservo_limits_ns l;

		if (hrservo_calib_find_channel(c, hrservo_name(h),
					       j->channel) != j)
			continue;
		/* One joint a channel: n stays below nch. */
		if (j->channel >= nch) {
			hrservo_seterr(err, errsize, "joint %s: channel %u: %s has %u channels",
				       j->name, j->channel, hrservo_name(h), nch);
			errno = EINVAL;
			return -1;
		}
		if (hrservo_joint_kernel_limits(j, &l)) {
			saved = errno;
			hrservo_seterr(err, errsize, "joint %s: %s", j->name,
				       strerror(saved));
			errno = saved;
			return -1;
		}
		joint[n] = j;
		set[n++] = (struct hrservo_limit_change){
			.channel = j->channel, .min_ns = l.min_ns,
			.max_ns = l.max_ns, .motion = true,
			.speed_ns_per_s = l.max_speed_ns_per_s,
			.accel_ns_per_s2 = l.max_accel_ns_per_s2,
		};
	}
	if (hrservo_set_limits_all(h, set, n, &bad)) {
		char a[24], b[24];

		saved = errno;
		hrservo_seterr(err, errsize, "joint %s: limits %s..%s: %s",
			       joint[bad]->name,
			       hrservo_format_ns(set[bad].min_ns, a, sizeof(a)),
			       hrservo_format_ns(set[bad].max_ns, b, sizeof(b)),
			       saved == EBUSY ? "its target lies outside; move it inside first" :
			       strerror(saved));
		errno = saved;
		return -1;
	}
	return (int)n;
}
