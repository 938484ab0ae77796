// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo trajectories: waypoints in, polynomial segments out.
 *
 * Each interval between two waypoints becomes one kernel segment whose
 * polynomial, in normalised time u in [0, 1), is:
 *   linear:   p0 + (p1 - p0) u
 *   min jerk: p0 + (p1 - p0)(10u^3 - 15u^4 + 6u^5), at rest at both ends
 *   cubic:    the Hermite cubic through p0, p1 with the knot speeds of a
 *             clamped C2 spline (at rest at the first and last waypoint)
 * Coefficients go to the kernel in 1/65536 ns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The ABI's sizes and quotas (HRSERVO_TRAJ_FILE_BYTES, ...) come from the
 * one ABI header, whose submission struct is also called hrservo_traj: it
 * is renamed here, out of the way of the library's trajectory.
 */
#define hrservo_traj hrservo_uapi_traj
#include "uapi/hrservo.h"
#undef hrservo_traj

#include "internal.h"

#define MAX_WAYPOINTS	HRSERVO_TRAJ_MAX_WAYPOINTS

struct hrservo_traj {
	unsigned int naxes;
	unsigned int ch[HRSERVO_MAX_CHANNELS];
	enum hrservo_interp interp;
	size_t n, cap;
	double *t;		/* [n] seconds */
	double *p;		/* [n][naxes] ns */
};

HRSERVO_API struct hrservo_traj *hrservo_traj_new(unsigned int naxes,
						  const unsigned int *channels)
{
	struct hrservo_traj *t;
	uint64_t seen = 0;

	if (!naxes || naxes > HRSERVO_MAX_CHANNELS || !channels)
		goto inval;
	for (unsigned int i = 0; i < naxes; i++) {
		if (channels[i] >= HRSERVO_MAX_CHANNELS ||
		    (seen & (1ULL << channels[i])))
			goto inval;
		seen |= 1ULL << channels[i];
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->naxes = naxes;
	memcpy(t->ch, channels, naxes * sizeof(*channels));
	t->interp = HRSERVO_INTERP_MIN_JERK;
	return t;
inval:
	errno = EINVAL;
	return NULL;
}

HRSERVO_API void hrservo_traj_free(struct hrservo_traj *t)
{
	if (!t)
		return;
	free(t->t);
	free(t->p);
	free(t);
}

HRSERVO_API int hrservo_traj_add(struct hrservo_traj *t, double time_s,
				 const double *pulse_ns)
{
	if (!t || !pulse_ns || !isfinite(time_s) || time_s < 0 ||
	    (t->n && !(time_s > t->t[t->n - 1])) || t->n >= MAX_WAYPOINTS)
		goto inval;
	for (unsigned int a = 0; a < t->naxes; a++)
		if (!isfinite(pulse_ns[a]) || pulse_ns[a] < 0 ||
		    pulse_ns[a] > 4294967295.0)
			goto inval;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		double *nt = realloc(t->t, cap * sizeof(*nt));
		double *np;

		if (!nt)
			return -1;
		t->t = nt;
		np = realloc(t->p, cap * t->naxes * sizeof(*np));
		if (!np)
			return -1;
		t->p = np;
		t->cap = cap;
	}
	t->t[t->n] = time_s;
	memcpy(&t->p[t->n * t->naxes], pulse_ns, t->naxes * sizeof(*pulse_ns));
	t->n++;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

HRSERVO_API void hrservo_traj_set_interp(struct hrservo_traj *t,
					 enum hrservo_interp interp)
{
	/* An unknown value is ignored: the function cannot report it. */
	if (t && (interp == HRSERVO_INTERP_LINEAR ||
		  interp == HRSERVO_INTERP_CUBIC ||
		  interp == HRSERVO_INTERP_MIN_JERK))
		t->interp = interp;
}

HRSERVO_API enum hrservo_interp hrservo_traj_interp(const struct hrservo_traj *t)
{
	return t ? t->interp : HRSERVO_INTERP_MIN_JERK;
}

HRSERVO_API size_t hrservo_traj_num_waypoints(const struct hrservo_traj *t)
{
	return t ? t->n : 0;
}

HRSERVO_API unsigned int hrservo_traj_num_axes(const struct hrservo_traj *t)
{
	return t ? t->naxes : 0;
}

HRSERVO_API unsigned int hrservo_traj_channel(const struct hrservo_traj *t,
					      unsigned int axis)
{
	return t && axis < t->naxes ? t->ch[axis] : 0;
}

HRSERVO_API int hrservo_traj_waypoint(const struct hrservo_traj *t,
				      size_t index, double *time_s,
				      double *pulse_ns)
{
	if (!t || !time_s || !pulse_ns || index >= t->n) {
		errno = EINVAL;
		return -1;
	}
	*time_s = t->t[index] - t->t[0];
	memcpy(pulse_ns, &t->p[index * t->naxes], t->naxes * sizeof(*pulse_ns));
	return 0;
}

HRSERVO_API double hrservo_traj_duration(const struct hrservo_traj *t)
{
	return t && t->n ? t->t[t->n - 1] - t->t[0] : 0;
}

HRSERVO_API int hrservo_traj_scale_time(struct hrservo_traj *t, double factor)
{
	if (!t || !(factor > 0) || !isfinite(factor) ||
	    (t->n && !isfinite(t->t[t->n - 1] * factor))) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < t->n; i++)
		t->t[i] *= factor;
	return 0;
}

/* Knot speeds (ns/s) of the clamped cubic spline of one axis. */
static int spline_speeds(const struct hrservo_traj *t, unsigned int a,
			 double *v)
{
	size_t n = t->n;
	double *c, *d;

	if (n < 2)	/* callers check; no knot, no end to clamp */
		return 0;
	v[0] = v[n - 1] = 0;
	if (n < 3)
		return 0;
	c = calloc(n, sizeof(*c));
	d = calloc(n, sizeof(*d));
	if (!c || !d) {
		free(c);
		free(d);
		return -1;
	}
	/*
	 * For interior knots k: h_k v_{k-1} + 2 (h_{k-1} + h_k) v_k +
	 * h_{k-1} v_{k+1} = 3 (h_k s_{k-1} + h_{k-1} s_k), with h the
	 * interval lengths and s the slopes; v_0 = v_{n-1} = 0. Thomas
	 * algorithm.
	 */
	for (size_t k = 1; k + 1 < n; k++) {
		double h0 = t->t[k] - t->t[k - 1], h1 = t->t[k + 1] - t->t[k];
		double s0 = (t->p[k * t->naxes + a] -
			     t->p[(k - 1) * t->naxes + a]) / h0;
		double s1 = (t->p[(k + 1) * t->naxes + a] -
			     t->p[k * t->naxes + a]) / h1;
		double lo = k > 1 ? h1 : 0, diag = 2 * (h0 + h1);
		double up = k + 2 < n ? h0 : 0, rhs = 3 * (h1 * s0 + h0 * s1);
		double m = k > 1 ? diag - lo * c[k - 1] : diag;

		c[k] = up / m;
		d[k] = (rhs - (k > 1 ? lo * d[k - 1] : 0)) / m;
	}
	for (size_t k = n - 2; k >= 1; k--) {
		v[k] = d[k] - (k + 2 < n ? c[k] * v[k + 1] : 0);
		if (k == 1)
			break;
	}
	free(c);
	free(d);
	return 0;
}

/* Coefficients (ns, in u) of interval @i for axis @a. */
static void interval_coefs(const struct hrservo_traj *t, const double *speeds,
			   size_t i, unsigned int a, double c[6])
{
	double p0 = t->p[i * t->naxes + a], p1 = t->p[(i + 1) * t->naxes + a];
	double d = p1 - p0, h = t->t[i + 1] - t->t[i];

	memset(c, 0, 6 * sizeof(*c));
	c[0] = p0;
	switch (t->interp) {
	case HRSERVO_INTERP_LINEAR:
		c[1] = d;
		break;
	case HRSERVO_INTERP_CUBIC: {
		double m0 = speeds[a * t->n + i] * h;
		double m1 = speeds[a * t->n + i + 1] * h;

		c[1] = m0;
		c[2] = 3 * d - 2 * m0 - m1;
		c[3] = -2 * d + m0 + m1;
		break;
	}
	default:
		c[3] = 10 * d;
		c[4] = -15 * d;
		c[5] = 6 * d;
	}
}

/* Knot speeds of every axis for cubic interpolation, or NULL. */
static double *all_speeds(const struct hrservo_traj *t)
{
	double *s;

	if (t->interp != HRSERVO_INTERP_CUBIC || t->n < 2)
		return NULL;
	s = calloc((size_t)t->naxes * t->n, sizeof(*s));
	if (!s)
		return NULL;
	for (unsigned int a = 0; a < t->naxes; a++) {
		if (spline_speeds(t, a, &s[a * t->n])) {
			free(s);
			return NULL;
		}
	}
	return s;
}

static int eval_with(const struct hrservo_traj *t, const double *speeds,
		     double time_s, double *pos, double *vel, double *acc)
{
	size_t i = 0;
	double h, u;

	if (t->n < 2 || !isfinite(time_s)) {
		errno = EINVAL;
		return -1;
	}
	time_s += t->t[0];
	if (time_s <= t->t[0]) {
		time_s = t->t[0];
	} else if (time_s >= t->t[t->n - 1]) {
		time_s = t->t[t->n - 1];
		i = t->n - 2;
	} else {
		/* Binary search for the interval. */
		size_t lo = 0, hi = t->n - 1;

		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;

			if (t->t[mid] <= time_s)
				lo = mid;
			else
				hi = mid;
		}
		i = lo;
	}
	h = t->t[i + 1] - t->t[i];
	u = (time_s - t->t[i]) / h;
	for (unsigned int a = 0; a < t->naxes; a++) {
		double c[6];

		interval_coefs(t, speeds, i, a, c);
		if (pos)
			pos[a] = c[0] + u * (c[1] + u * (c[2] + u * (c[3] +
				 u * (c[4] + u * c[5]))));
		if (vel)
			vel[a] = (c[1] + u * (2 * c[2] + u * (3 * c[3] +
				  u * (4 * c[4] + u * 5 * c[5])))) / h;
		if (acc)
			acc[a] = (2 * c[2] + u * (6 * c[3] + u * (12 * c[4] +
				  u * 20 * c[5]))) / (h * h);
	}
	return 0;
}

HRSERVO_API int hrservo_traj_eval(const struct hrservo_traj *t, double time_s,
				  double *pos_ns, double *vel, double *acc)
{
	double *speeds;
	int ret;

	if (!t || t->n < 2) {
		errno = EINVAL;
		return -1;
	}
	speeds = all_speeds(t);
	if (t->interp == HRSERVO_INTERP_CUBIC && !speeds)
		return -1;
	ret = eval_with(t, speeds, time_s, pos_ns, vel, acc);
	free(speeds);
	return ret;
}

/* ---- Checking against the limits ---- */

/*
 * The check judges the continuous plan: |p| within min..max, |p'| <= max
 * speed, |p''| <= max acceleration. The kernel's per-frame limiter follows
 * a trajectory exactly when, frame by frame (period T), |p_k - p_k-1| <=
 * vmax T and |p_k+1 - 2 p_k + p_k-1| <= amax T^2, which the continuous
 * bounds imply wherever p is C1. Where it is not (linear interpolation: a
 * speed step dv at a waypoint, and at the start and end, from and to rest),
 * the second difference across the step is up to |dv| T: the step fits if
 * |dv| <= amax T, so it counts as an acceleration of |dv| / T.
 *
 * Each segment is a polynomial of degree <= 5 in u in [0, 1]: its extrema
 * are at u = 0, u = 1 or a root of its derivative. The roots of a
 * polynomial in (0, 1) come from those of its derivative: between two
 * consecutive ones it is monotone, so a sign change there brackets exactly
 * one root, found by bisection. Starting from the linear 4th derivative
 * this costs a bounded amount of work per segment and axis, whatever the
 * segment's duration.
 */
#define CHECK_TOL	1.0001		/* relative tolerance on speed, accel */
#define CHECK_POS_TOL	0.5		/* ns, on min and max */

struct axis_limits {
	double mn[HRSERVO_MAX_CHANNELS], mx[HRSERVO_MAX_CHANNELS];
	double vmax[HRSERVO_MAX_CHANNELS], amax[HRSERVO_MAX_CHANNELS];
	double period_s;		/* 0 if the backend does not say */
};

static double poly_at(const double *c, int deg, double u)
{
	double r = 0;

	for (int k = deg; k >= 0; k--)
		r = r * u + c[k];
	return r;
}

/*
 * Roots in (0, 1) of the polynomial @c of degree @deg, in increasing order,
 * given the roots in (0, 1) of its derivative, @crit[@ncrit], in increasing
 * order. Returns their number (at most @deg).
 */
static int roots_between(const double *c, int deg, const double *crit,
			 int ncrit, double *r)
{
	double a = 0, fa;
	int nr = 0;

	while (deg > 0 && c[deg] == 0)
		deg--;
	if (deg < 1)
		return 0;
	if (deg == 1) {
		double u = -c[0] / c[1];

		if (u > 0 && u < 1)
			r[nr++] = u;
		return nr;
	}
	fa = poly_at(c, deg, 0);
	for (int i = 0; i <= ncrit; i++) {
		double b = i < ncrit ? crit[i] : 1, fb = poly_at(c, deg, b);

		if ((fa < 0 && fb > 0) || (fa > 0 && fb < 0)) {
			double lo = a, hi = b;

			/* Monotone on [a, b]: one root, bisected to ~1e-13. */
			for (int it = 0; it < 44 && hi - lo > 1e-13; it++) {
				double mid = 0.5 * (lo + hi);
				double fm = poly_at(c, deg, mid);

				if ((fm < 0) == (fa < 0) && fm != 0)
					lo = mid;
				else
					hi = mid;
			}
			r[nr++] = 0.5 * (lo + hi);
		} else if (fb == 0 && i < ncrit) {
			r[nr++] = b;	/* a double root at a turning point */
		}
		if (nr == deg)
			break;
		a = b;
		fa = fb;
	}
	return nr;
}

/*
 * The interior turning points of a segment p(u) = c0 + ... + c5 u^5 of
 * trajectory @t: the roots in (0, 1) of p' (@r1, extrema of the position),
 * p'' (@r2, of the speed) and p''' (@r3, of the acceleration), each in
 * increasing order.
 */
static void turning_points(const struct hrservo_traj *t, const double c[6],
			   double *r1, int *n1, double *r2, int *n2,
			   double *r3, int *n3)
{
	double d1[5], d2[4], d3[3], d4[2], r4[1];
	int n4 = 0;

	switch (t->interp) {
	case HRSERVO_INTERP_LINEAR:	/* p' constant */
		*n1 = *n2 = *n3 = 0;
		return;
	case HRSERVO_INTERP_MIN_JERK:
		/*
		 * p' = 30 d u^2 (1 - u)^2 >= 0, p'' = 60 d u (1 - u)(1 - 2u),
		 * p''' = 60 d (1 - 6u + 6u^2).
		 */
		*n1 = 0;
		*n2 = 1;
		r2[0] = 0.5;
		*n3 = 2;
		r3[0] = (3 - sqrt(3)) / 6;
		r3[1] = (3 + sqrt(3)) / 6;
		return;
	default:
		break;
	}

	for (int k = 0; k < 5; k++)
		d1[k] = (k + 1) * c[k + 1];
	for (int k = 0; k < 4; k++)
		d2[k] = (k + 1) * d1[k + 1];
	for (int k = 0; k < 3; k++)
		d3[k] = (k + 1) * d2[k + 1];
	for (int k = 0; k < 2; k++)
		d4[k] = (k + 1) * d3[k + 1];
	if (d4[1] != 0) {
		double u = -d4[0] / d4[1];

		if (u > 0 && u < 1)
			r4[n4++] = u;
	}
	*n3 = roots_between(d3, 2, r4, n4, r3);
	*n2 = roots_between(d2, 3, r3, *n3, r2);
	*n1 = roots_between(d1, 4, r2, *n2, r1);
}

/* What check_traj() found: the first violations, and the worst ratios. */
struct verdict {
	bool pos_bad, motion_bad;
	struct hrservo_violation pos, motion;
	double vratio;		/* max |p'| / vmax: scales with 1/stretch */
	double aratio;		/* max |p''| / amax: 1/stretch^2 */
	double kratio;		/* max speed step / (amax T): 1/stretch */
};

static void verdict_add(struct verdict *vd, double time_s, unsigned int ch,
			enum hrservo_limit_kind kind, double value,
			double limit)
{
	struct hrservo_violation w = { time_s, ch, kind, value, limit };

	if (kind == HRSERVO_LIMIT_MIN || kind == HRSERVO_LIMIT_MAX) {
		if (!vd->pos_bad || time_s < vd->pos.time_s)
			vd->pos = w;
		vd->pos_bad = true;
	} else {
		if (!vd->motion_bad || time_s < vd->motion.time_s)
			vd->motion = w;
		vd->motion_bad = true;
	}
}

static int axis_limits_get(const struct hrservo_traj *t, struct hrservo *h,
			   struct axis_limits *l)
{
	uint32_t period, pmin, pmax;

	for (unsigned int a = 0; a < t->naxes; a++) {
		uint32_t mn, mx, vmax, amax;

		if (t->ch[a] >= hrservo_num_channels(h) ||
		    hrservo_get_limits(h, t->ch[a], &mn, &mx) ||
		    hrservo_motion_or_none(h, t->ch[a], &vmax, &amax)) {
			errno = EINVAL;
			return -1;
		}
		l->mn[a] = mn;
		l->mx[a] = mx;
		l->vmax[a] = vmax;
		l->amax[a] = amax;
	}
	l->period_s = 0;
	if (h->be->get_period && !h->be->get_period(h, &period, &pmin, &pmax))
		l->period_s = period / 1e9;
	return 0;
}

/* A speed step of @dv ns/s at waypoint @k of axis @a. */
static void check_step(const struct hrservo_traj *t,
		       const struct axis_limits *l, struct verdict *vd,
		       size_t k, unsigned int a, double dv)
{
	double acc;

	if (!l->amax[a] || !l->period_s)
		return;
	acc = fabs(dv) / l->period_s;
	if (acc / l->amax[a] > vd->kratio)
		vd->kratio = acc / l->amax[a];
	if (acc > l->amax[a] * CHECK_TOL)
		verdict_add(vd, t->t[k] - t->t[0], t->ch[a], HRSERVO_LIMIT_ACCEL,
			    acc, l->amax[a]);
}

/* Judge @t against @l: 0, or -1 (errno ENOMEM). */
static int check_traj(const struct hrservo_traj *t,
		      const struct axis_limits *l, struct verdict *vd)
{
	double *speeds = all_speeds(t);
	double vprev[HRSERVO_MAX_CHANNELS] = { 0 };

	memset(vd, 0, sizeof(*vd));
	if (t->interp == HRSERVO_INTERP_CUBIC && !speeds)
		return -1;
	for (size_t i = 0; i + 1 < t->n; i++) {
		double h = t->t[i + 1] - t->t[i], t0 = t->t[i] - t->t[0];

		for (unsigned int a = 0; a < t->naxes; a++) {
			double c[6], d1[5], d2[4], r1[4], r2[3], r3[2], u[6];
			int n1, n2, n3, nu;
			unsigned int ch = t->ch[a];

			interval_coefs(t, speeds, i, a, c);
			for (int k = 0; k < 5; k++)
				d1[k] = (k + 1) * c[k + 1];
			for (int k = 0; k < 4; k++)
				d2[k] = (k + 1) * d1[k + 1];
			/* The step from the speed before (rest at the start). */
			check_step(t, l, vd, i, a, d1[0] / h - vprev[a]);
			vprev[a] = poly_at(d1, 4, 1) / h;
			turning_points(t, c, r1, &n1, r2, &n2, r3, &n3);

			/* Position: at the ends and where p' = 0. */
			nu = 0;
			u[nu++] = 0;
			for (int k = 0; k < n1; k++)
				u[nu++] = r1[k];
			u[nu++] = 1;
			for (int k = 0; k < nu; k++) {
				double p = poly_at(c, 5, u[k]);

				if (p < l->mn[a] - CHECK_POS_TOL)
					verdict_add(vd, t0 + u[k] * h, ch,
						    HRSERVO_LIMIT_MIN, p, l->mn[a]);
				else if (p > l->mx[a] + CHECK_POS_TOL)
					verdict_add(vd, t0 + u[k] * h, ch,
						    HRSERVO_LIMIT_MAX, p, l->mx[a]);
			}
			/* Speed: at the ends and where p'' = 0. */
			nu = 0;
			u[nu++] = 0;
			for (int k = 0; k < n2; k++)
				u[nu++] = r2[k];
			u[nu++] = 1;
			for (int k = 0; l->vmax[a] && k < nu; k++) {
				double v = fabs(poly_at(d1, 4, u[k])) / h;

				if (v / l->vmax[a] > vd->vratio)
					vd->vratio = v / l->vmax[a];
				if (v > l->vmax[a] * CHECK_TOL)
					verdict_add(vd, t0 + u[k] * h, ch,
						    HRSERVO_LIMIT_SPEED, v,
						    l->vmax[a]);
			}
			/* Acceleration: at the ends and where p''' = 0. */
			nu = 0;
			u[nu++] = 0;
			for (int k = 0; k < n3; k++)
				u[nu++] = r3[k];
			u[nu++] = 1;
			for (int k = 0; l->amax[a] && k < nu; k++) {
				double acc = fabs(poly_at(d2, 3, u[k])) / (h * h);

				if (acc / l->amax[a] > vd->aratio)
					vd->aratio = acc / l->amax[a];
				if (acc > l->amax[a] * CHECK_TOL)
					verdict_add(vd, t0 + u[k] * h, ch,
						    HRSERVO_LIMIT_ACCEL, acc,
						    l->amax[a]);
			}
		}
	}
	/* To rest at the end. */
	for (unsigned int a = 0; a < t->naxes; a++)
		check_step(t, l, vd, t->n - 1, a, -vprev[a]);
	free(speeds);
	return 0;
}

/* The duration of the segment from waypoint @i to @i + 1, as it is sent. */
static uint64_t interval_ns(const struct hrservo_traj *t, size_t i)
{
	return (uint64_t)llround((t->t[i + 1] - t->t[i]) * 1e9);
}

/*
 * The first interval the kernel would refuse: its index, or t->n - 1 if
 * every one can be played. @d gets its duration (ns, as sent).
 */
static size_t bad_interval(const struct hrservo_traj *t, double *d)
{
	for (size_t i = 0; i + 1 < t->n; i++) {
		double s = (t->t[i + 1] - t->t[i]) * 1e9;

		/* Beyond what llround() can return: far too long anyway. */
		*d = s > 1e18 ? s : (double)interval_ns(t, i);
		if (*d < HRSERVO_TRAJ_MIN_INTERVAL_NS ||
		    *d > HRSERVO_TRAJ_MAX_INTERVAL_NS)
			return i;
	}
	return t->n - 1;
}

HRSERVO_API int hrservo_traj_check(const struct hrservo_traj *t,
				   struct hrservo *h,
				   struct hrservo_violation *v)
{
	struct axis_limits l;
	struct verdict vd;
	size_t i;
	double d;

	if (!t || !h || t->n < 2) {
		errno = EINVAL;
		return -1;
	}
	/* What the kernel refuses first: a segment too short or too long. */
	i = bad_interval(t, &d);
	if (i + 1 < t->n) {
		if (v) {
			v->time_s = t->t[i + 1] - t->t[0];
			v->channel = HRSERVO_MAX_CHANNELS;
			v->kind = HRSERVO_LIMIT_INTERVAL;
			v->value = d;
			v->limit = d < HRSERVO_TRAJ_MIN_INTERVAL_NS ?
				   HRSERVO_TRAJ_MIN_INTERVAL_NS :
				   HRSERVO_TRAJ_MAX_INTERVAL_NS;
		}
		errno = EINVAL;
		return -1;
	}
	if (axis_limits_get(t, h, &l) || check_traj(t, &l, &vd))
		return -1;
	if (!vd.pos_bad && !vd.motion_bad)
		return 0;
	if (v)
		*v = vd.pos_bad ? vd.pos : vd.motion;
	errno = ERANGE;
	return -1;
}

/* A margin on the stretch, for the rounding of times and coefficients. */
#define FIT_MARGIN	1.01

HRSERVO_API int hrservo_traj_fit_time(struct hrservo_traj *t,
				      struct hrservo *h, double *factor)
{
	struct axis_limits l;
	struct verdict vd;
	double total = 1, d;

	if (!t || !h || t->n < 2) {
		errno = EINVAL;
		return -1;
	}
	if (axis_limits_get(t, h, &l))
		return -1;
	/*
	 * Speeds and speed steps scale with 1/f, accelerations with 1/f^2:
	 * one stretch fits; a second pass only catches rounding.
	 */
	for (int pass = 0;; pass++) {
		double f;

		if (check_traj(t, &l, &vd))
			return -1;
		if (vd.pos_bad) {
			errno = ERANGE;	/* time cannot fix a position */
			return -1;
		}
		if (!vd.motion_bad)
			break;
		if (pass == 3) {
			errno = ERANGE;
			return -1;
		}
		f = fmax(fmax(vd.vratio, vd.kratio), sqrt(vd.aratio)) *
		    FIT_MARGIN;
		if (!(f > 1) || !isfinite(f) ||
		    hrservo_traj_scale_time(t, f)) {
			errno = ERANGE;
			return -1;
		}
		total *= f;
	}
	if (factor)
		*factor = total;
	/* The kernel plays segments of at most 60 s. */
	if (bad_interval(t, &d) + 1 < t->n && d > HRSERVO_TRAJ_MAX_INTERVAL_NS) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

HRSERVO_API int hrservo_traj_check_times(const struct hrservo_traj *t,
					 char *err, size_t errsize)
{
	char dummy[1];
	size_t i;
	double d;

	if (!err || !errsize) {
		err = dummy;
		errsize = sizeof(dummy);
	}
	if (!t) {
		snprintf(err, errsize, "no trajectory");
		errno = EINVAL;
		return -1;
	}
	if (t->n < 2) {
		snprintf(err, errsize, "%zu waypoint%s: a trajectory needs at least 2",
			 t->n, t->n == 1 ? "" : "s");
		errno = EINVAL;
		return -1;
	}
	i = bad_interval(t, &d);
	if (i + 1 == t->n)
		return 0;
	if (d < HRSERVO_TRAJ_MIN_INTERVAL_NS)
		snprintf(err, errsize,
			 "waypoint %zu (t=%.9g s) is %.9g ms after waypoint %zu (t=%.9g s); the segment between two waypoints must last at least %g ms",
			 i + 1, t->t[i + 1], d / 1e6, i, t->t[i],
			 HRSERVO_TRAJ_MIN_INTERVAL_NS / 1e6);
	else
		snprintf(err, errsize,
			 "waypoint %zu (t=%.9g s) is %.9g s after waypoint %zu (t=%.9g s); the segment between two waypoints may last at most %g s",
			 i + 1, t->t[i + 1], d / 1e9, i, t->t[i],
			 HRSERVO_TRAJ_MAX_INTERVAL_NS / 1e9);
	errno = EINVAL;
	return -1;
}

/* ---- Upload ---- */

/*
 * Kernel memory one queued segment of @naxes axes is charged
 * (driver/hrservo-traj.c, hrservo_traj_check(): struct_size() of struct
 * hrservo_seg, driver/hrservo-priv.h): a header of 88 bytes on 64-bit
 * kernels (72 or 68 on 32-bit ones) and six s64 coefficients per axis. The
 * one place the library knows it. Parts take at most a quarter of the
 * quota (below), so a header grown in a later driver costs queue depth,
 * not failed uploads.
 */
#define TRAJ_SEG_HEADER_BYTES	88

static size_t traj_seg_bytes(unsigned int naxes)
{
	return TRAJ_SEG_HEADER_BYTES + 6 * sizeof(int64_t) * naxes;
}

/*
 * Segments per submission for @nseg segments of @naxes axes. A trajectory
 * that fits the file's quota (and HRSERVO_TRAJ_SUBMIT_MAX) goes in one
 * submission, which the kernel takes whole or not at all. A larger one
 * goes in parts of at most a quarter of the quota: while one part waits
 * for room, three are queued ahead of it and play.
 */
static size_t traj_part_segments(size_t nseg, unsigned int naxes)
{
	size_t per = traj_seg_bytes(naxes);
	size_t whole = HRSERVO_TRAJ_FILE_BYTES / per, part;

	if (whole > HRSERVO_TRAJ_SUBMIT_MAX)
		whole = HRSERVO_TRAJ_SUBMIT_MAX;
	if (nseg <= whole)
		return nseg;
	part = HRSERVO_TRAJ_FILE_BYTES / 4 / per;
	if (part > HRSERVO_TRAJ_SUBMIT_MAX)
		part = HRSERVO_TRAJ_SUBMIT_MAX;
	return part ? part : 1;
}

/*
 * A later part that finds no room waits for the queue to play: at most the
 * time everything queued then needs to play, plus this margin (after that,
 * what was queued has played and given its memory back: if there is still
 * no room, someone else is filling the queue). Without a status to read,
 * a fixed bound.
 */
#define UPLOAD_WAIT_MARGIN_S	1.0
#define UPLOAD_WAIT_BLIND_S	10.0

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep @s seconds: 0, or -1 with EINTR if a signal came (caller's call). */
static int sleep_s(double s)
{
	struct timespec ts;

	if (!(s > 0))
		return 0;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	return nanosleep(&ts, NULL) ? -1 : 0;
}

/*
 * Which queued segments are this upload's, in the player's numbering
 * (hrservo_traj_info.segment counts from the first segment queued to an
 * idle player): [@first, @end), as the status said after each part.
 */
struct upload_track {
	bool known;		/* the numbering of our segments is known */
	bool foreign;		/* others' segments came between ours */
	uint64_t first, end;
};

/* After a part of @n segments was queued. */
static void upload_track_part(struct hrservo *h, struct upload_track *tr,
			      bool first_part, size_t n)
{
	struct hrservo_traj_info st;
	uint64_t e;

	if (!h->be->traj_status || h->be->traj_status(h, &st)) {
		tr->known = false;
		return;
	}
	e = st.segment + st.depth;
	if (first_part || (tr->known && !tr->foreign && e == n)) {
		/* The first part, or ours went on after the player idled. */
		tr->known = true;
		tr->first = e - n;
		tr->end = e;
	} else if (e == tr->end + n) {
		tr->end = e;
	} else {
		tr->foreign = true;
	}
}

/*
 * A later part failed: take back what this upload queued, if the queue
 * holds nothing else. A stop drops the whole queue (the kernel cannot drop
 * one submission): with others' segments in it, before ours (a trajectory
 * playing now that ours was appended to) or after (appended meanwhile),
 * stopping would cut their motion short too, so the queue is left alone;
 * ours then plays what was queued and the player holds at its end
 * (HRSERVO_EV_TRAJ_UNDERRUN). Without a status to tell, stop: all or
 * nothing first.
 */
static void upload_undo(struct hrservo *h, const struct upload_track *tr)
{
	struct hrservo_traj_info st;
	int e = errno;

	if (!h->be->traj_stop)
		goto out;
	if (h->be->traj_status && !h->be->traj_status(h, &st)) {
		/* Nothing queued or held: nothing of ours left. */
		if (st.state == HRSERVO_TRAJ_IDLE)
			goto out;
		/* Ours alone, played from the first on (an underrun holds it). */
		if (!tr->known || tr->foreign || st.segment + st.depth != tr->end ||
		    st.segment < tr->first)
			goto out;
	}
	h->be->traj_stop(h);
out:
	errno = e;
}

/* Submit a later part, waiting (bounded) while the queue has no room. */
static int upload_part_wait(struct hrservo *h,
			    const struct hrservo_seg_item *segs, size_t n,
			    const int64_t *coefs, size_t nc)
{
	double deadline = 0;

	for (;;) {
		struct hrservo_traj_info st;
		double now, wait;

		/*
		 * Our parts never end the trajectory, so the player is idle
		 * only if someone stopped it: then nothing more may start.
		 */
		if (h->be->traj_status && !h->be->traj_status(h, &st) &&
		    st.state == HRSERVO_TRAJ_IDLE) {
			errno = ECANCELED;
			return -1;
		}
		if (!h->be->traj_submit(h, segs, n, coefs, nc, 0, 0))
			return 0;
		if (errno != ENOSPC)
			return -1;
		now = mono_s();
		if (h->be->traj_status && !h->be->traj_status(h, &st)) {
			double queued = st.queued_ns / 1e9;

			if (!deadline)
				deadline = now + queued + UPLOAD_WAIT_MARGIN_S;
			/* About one part of the queue ahead of us plays. */
			wait = fmin(fmax(queued / 4, 0.001), 0.1);
		} else {
			if (!deadline)
				deadline = now + UPLOAD_WAIT_BLIND_S;
			wait = 0.02;
		}
		if (now >= deadline) {
			errno = ENOSPC;
			return -1;
		}
		/* A signal: give up, so that the caller can stop what plays. */
		if (sleep_s(fmin(wait, deadline - now)))
			return -1;
	}
}

HRSERVO_API int hrservo_traj_upload(const struct hrservo_traj *t,
				    struct hrservo *h, uint64_t start_ns,
				    unsigned int flags)
{
	struct upload_track tr = { 0 };
	size_t nseg, part, done = 0;
	double *speeds;
	uint64_t mask = 0;
	int ret = 0;

	hrservo_clear_error();
	if (!h) {
		errno = EINVAL;
		return -1;
	}
	if (!(hrservo_caps(h) & HRSERVO_CAP_TRAJ)) {
		errno = ENOTSUP;
		return -1;
	}
	if (flags & ~(HRSERVO_UPLOAD_REPLACE | HRSERVO_UPLOAD_JUMP)) {
		errno = EINVAL;
		return -1;
	}
	/* Nothing is sent unless every segment can be played. */
	if (hrservo_traj_check_times(t, NULL, 0))
		return -1;
	speeds = all_speeds(t);
	if (t->interp == HRSERVO_INTERP_CUBIC && !speeds)
		return -1;
	for (unsigned int a = 0; a < t->naxes; a++) {
		if (t->ch[a] >= h->nch) {
			free(speeds);
			errno = EINVAL;
			return -1;
		}
		mask |= 1ULL << t->ch[a];
	}
	nseg = t->n - 1;
	/* An in-library player takes it whole; the kernel, in parts. */
	part = h->be->traj_whole ? nseg : traj_part_segments(nseg, t->naxes);
	while (done < nseg && !ret) {
		size_t n = nseg - done < part ? nseg - done : part;
		struct hrservo_seg_item *segs = calloc(n, sizeof(*segs));
		int64_t *coefs = calloc(n * t->naxes * 6, sizeof(*coefs));
		size_t nc = 0;

		if (!segs || !coefs) {
			free(segs);
			free(coefs);
			ret = -1;
			if (done)
				upload_undo(h, &tr);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			size_t iv = done + i;

			segs[i].duration_ns = interval_ns(t, iv);
			segs[i].mask = mask;
			segs[i].last = iv + 1 == nseg;
			/* Axes in increasing channel order, as the kernel. */
			for (unsigned int ch = 0; ch < HRSERVO_MAX_CHANNELS; ch++) {
				for (unsigned int a = 0; a < t->naxes; a++) {
					double c[6];

					if (t->ch[a] != ch)
						continue;
					interval_coefs(t, speeds, iv, a, c);
					for (int k = 0; k < 6; k++)
						coefs[nc++] = llround(c[k] * 65536.0);
				}
			}
		}
		/*
		 * The first part starts, splices or jumps as asked; a later one
		 * only appends, and the kernel takes it only where the queue
		 * (or, idle, the axes) ends: where the part before it ended.
		 */
		if (!done)
			ret = h->be->traj_submit(h, segs, n, coefs, nc, flags,
						 start_ns);
		else
			ret = upload_part_wait(h, segs, n, coefs, nc);
		if (!ret)
			upload_track_part(h, &tr, !done, n);
		else if (done)
			upload_undo(h, &tr);
		free(segs);
		free(coefs);
		done += n;
	}
	free(speeds);
	return ret;
}

HRSERVO_API int hrservo_traj_status(struct hrservo *h,
				    struct hrservo_traj_info *info)
{
	if (!h || !info) {
		errno = EINVAL;
		return -1;
	}
	if (!(hrservo_caps(h) & HRSERVO_CAP_TRAJ) || !h->be->traj_status) {
		errno = ENOTSUP;
		return -1;
	}
	return h->be->traj_status(h, info);
}

HRSERVO_API int hrservo_traj_owned(struct hrservo *h, uint64_t *axes)
{
	if (!h || !axes) {
		errno = EINVAL;
		return -1;
	}
	if (!(hrservo_caps(h) & HRSERVO_CAP_TRAJ) || !h->be->traj_owned) {
		errno = ENOTSUP;
		return -1;
	}
	return h->be->traj_owned(h, axes);
}

HRSERVO_API int hrservo_traj_stop(struct hrservo *h)
{
	if (!h) {
		errno = EINVAL;
		return -1;
	}
	if (!(hrservo_caps(h) & HRSERVO_CAP_TRAJ) || !h->be->traj_stop) {
		errno = ENOTSUP;
		return -1;
	}
	return h->be->traj_stop(h);
}

/* ---- CSV ---- */

/* "PATH:LINE: msg", or "PATH:LINE:COL: msg" for a field (@col from 1). */
__attribute__((format(printf, 7, 8)))
static int csv_err(char *err, size_t size, const char *path, size_t line,
		   size_t col, int e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (col)
		snprintf(err, size, "%s:%zu:%zu: %s", path, line, col, msg);
	else
		snprintf(err, size, "%s:%zu: %s", path, line, msg);
	errno = e;
	return -1;
}

/* @s for a message: at most 64 bytes, other bytes than printable ASCII
 * escaped (an invisible character shows). */
static const char *csv_quote(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; s[i] && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 64) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

/*
 * A decimal number as people write them: [+-]digits[.digits][e[+-]digits]
 * (or .digits). strtod() also takes hex floats, inf and nan: not here.
 */
static bool csv_decimal(const char *s)
{
	bool digits = false;

	if (*s == '+' || *s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits = true;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits = true;
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return !*s;
}

/*
 * The next field of a line at *@p: blanks around it removed, NUL
 * terminated; *@p moves past its comma (NULL after the last field). @col
 * gets the column (from 1) where the field starts in @line.
 */
static char *csv_field(char *line, char **p, size_t *col)
{
	char *s = *p, *comma = strchr(s, ','), *e;

	*col = (size_t)(s - line) + 1;
	if (comma)
		*comma = '\0';
	*p = comma ? comma + 1 : NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/*
 * A comment line "# interp: WORD": 1 with *@interp set from WORD, 0 if the
 * line is another comment, -1 if WORD is not an interpolation.
 */
static int csv_interp(const char *l, enum hrservo_interp *interp,
		      const char **word)
{
	const char *e;

	l++;	/* the '#' */
	while (*l == ' ' || *l == '\t')
		l++;
	if (strncmp(l, "interp", 6))
		return 0;
	l += 6;
	while (*l == ' ' || *l == '\t')
		l++;
	if (*l != ':')
		return 0;
	for (l++; *l == ' ' || *l == '\t'; l++)
		;
	for (e = l + strlen(l); e > l && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*word = l;
	if (e - l == 6 && !strncmp(l, "linear", 6))
		*interp = HRSERVO_INTERP_LINEAR;
	else if (e - l == 5 && !strncmp(l, "cubic", 5))
		*interp = HRSERVO_INTERP_CUBIC;
	else if (e - l == 7 && !strncmp(l, "minjerk", 7))
		*interp = HRSERVO_INTERP_MIN_JERK;
	else
		return -1;
	return 1;
}

/* Longer than this, a t_s trajectory with whole-number times looks like ms. */
#define CSV_SUSPECT_S	1000.0

/* Parse a header column "chN_UNIT": channel and ns per unit. */
static int csv_column(const char *s, unsigned int *ch, double *scale)
{
	char *end;
	unsigned long n;

	if (strncmp(s, "ch", 2))
		return -1;
	n = strtoul(s + 2, &end, 10);
	if (end == s + 2 || *end != '_' || n >= HRSERVO_MAX_CHANNELS)
		return -1;
	if (!strcmp(end, "_us"))
		*scale = 1e3;
	else if (!strcmp(end, "_ns"))
		*scale = 1;
	else if (!strcmp(end, "_ms"))
		*scale = 1e6;
	else
		return -1;
	*ch = (unsigned int)n;
	return 0;
}

/*
 * A header column "JOINT_UNIT" (UNIT deg, rad or pct) of @calib, on
 * @controller (any controller if NULL). Returns the joint, or NULL with @why
 * set.
 */
static const struct hrservo_joint *csv_joint(const char *s,
					     const struct hrservo_calib *calib,
					     const char *controller,
					     char *why, size_t whysize)
{
	const struct hrservo_joint *j;
	const char *us = strrchr(s, '_');
	char name[HRSERVO_JOINT_NAME_MAX];
	enum hrservo_unit u;

	if (!us || us == s || (size_t)(us - s) >= sizeof(name)) {
		snprintf(why, whysize, "expected chN_us, chN_ns, chN_ms or JOINT_deg, JOINT_rad, JOINT_pct");
		return NULL;
	}
	if (!strcmp(us, "_deg"))
		u = HRSERVO_UNIT_DEG;
	else if (!strcmp(us, "_rad"))
		u = HRSERVO_UNIT_RAD;
	else if (!strcmp(us, "_pct"))
		u = HRSERVO_UNIT_PERCENT;
	else {
		snprintf(why, whysize, "expected chN_us, chN_ns, chN_ms or JOINT_deg, JOINT_rad, JOINT_pct");
		return NULL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(us - s), s);
	j = hrservo_calib_find(calib, name);
	if (!j) {
		snprintf(why, whysize, "no joint '%s' in the calibration", name);
		return NULL;
	}
	if (controller &&
	    hrservo_calib_find_channel(calib, controller, j->channel) != j) {
		snprintf(why, whysize, "joint %s is on controller %s, not %.63s",
			 name, j->controller, controller);
		return NULL;
	}
	if (j->unit != u) {
		snprintf(why, whysize, "unit mismatch: joint %s is measured in %s",
			 name, hrservo_unit_name(j->unit));
		return NULL;
	}
	return j;
}

HRSERVO_API struct hrservo_traj *hrservo_traj_load_csv(const char *path,
						       char *err,
						       size_t errsize)
{
	return hrservo_traj_load_csv_calib(path, NULL, NULL, err, errsize);
}

HRSERVO_API struct hrservo_traj *
hrservo_traj_load_csv_calib(const char *path, const struct hrservo_calib *calib,
			    const char *controller, char *err, size_t errsize)
{
	const struct hrservo_joint *joint[HRSERVO_MAX_CHANNELS] = { NULL };
	unsigned int ch[HRSERVO_MAX_CHANNELS], naxes = 0;
	double scale[HRSERVO_MAX_CHANNELS], tscale = 1;
	char names[HRSERVO_MAX_CHANNELS + 1][80];
	const char *ctrl = controller;
	struct hrservo_traj *t = NULL;
	size_t cap = 0, lineno = 0, hline = 0, lastline = 0, iline = 0;
	enum hrservo_interp interp = HRSERVO_INTERP_MIN_JERK;
	bool whole_times = true;
	char *line = NULL, q[300];
	char dummy[1];
	ssize_t len;
	FILE *f;

	if (!err || !errsize) {
		err = dummy;
		errsize = sizeof(dummy);
	}
	if (!path) {
		snprintf(err, errsize, "no file name");
		errno = EINVAL;
		return NULL;
	}
	f = fopen(path, "r");
	if (!f) {
		int e = errno;

		snprintf(err, errsize, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		double tv = 0, pos[HRSERVO_MAX_CHANNELS];
		char *l = line, *p, *tok, *end;
		unsigned int col = 0;
		size_t c;

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/* A UTF-8 byte order mark, as some editors write: skipped. */
		if (lineno == 1 && !strncmp(l, "\xef\xbb\xbf", 3)) {
			l += 3;
			len -= 3;
		}
		if (len && l[0] == '#' && !t) {
			/* Before the header: "# interp: linear" is the file's. */
			const char *w;
			int r = csv_interp(l, &interp, &w);

			if (r < 0) {
				csv_err(err, errsize, path, lineno, 0, EINVAL,
					"interp: '%s' is not an interpolation (linear, cubic or minjerk)",
					csv_quote(w, q, sizeof(q)));
				goto fail;
			}
			if (r && iline) {
				csv_err(err, errsize, path, lineno, 0, EINVAL,
					"a second '# interp:' line (the first is line %zu)",
					iline);
				goto fail;
			}
			if (r)
				iline = lineno;
		}
		if (!len || l[0] == '#')
			continue;
		if (len > 65536) {
			csv_err(err, errsize, path, lineno, 0, E2BIG,
				"line longer than 64 KiB");
			goto fail;
		}
		p = l;
		if (!t) {
			/* The header. */
			hline = lineno;
			tok = csv_field(l, &p, &c);
			if (strcmp(tok, "t_s") && strcmp(tok, "t_ms")) {
				csv_err(err, errsize, path, lineno, 0, EINVAL,
					"header must start with t_s or t_ms, not '%s'",
					csv_quote(tok, q, sizeof(q)));
				goto fail;
			}
			snprintf(names[0], sizeof(names[0]), "%s", tok);
			tscale = strcmp(tok, "t_ms") ? 1 : 1e-3;
			while (p) {
				char why[256] = "expected chN_us, chN_ns or chN_ms";

				tok = csv_field(l, &p, &c);
				if (!*tok && !p) {
					csv_err(err, errsize, path, lineno, c,
						EINVAL,
						"trailing comma after column %u ('%s') of the header",
						naxes + 1, names[naxes]);
					goto fail;
				}
				if (!*tok) {
					csv_err(err, errsize, path, lineno, c,
						EINVAL,
						"column %u of the header is empty",
						naxes + 2);
					goto fail;
				}
				if (naxes == HRSERVO_MAX_CHANNELS) {
					csv_err(err, errsize, path, lineno, 0,
						EINVAL, "more than 64 columns");
					goto fail;
				}
				if (csv_column(tok, &ch[naxes], &scale[naxes]) &&
				    (!calib ||
				     !(joint[naxes] = csv_joint(tok, calib, ctrl, why,
								sizeof(why))))) {
					csv_err(err, errsize, path, lineno, 0,
						EINVAL, "column '%s': %s",
						csv_quote(tok, q, sizeof(q)), why);
					goto fail;
				}
				if (joint[naxes])
					ch[naxes] = joint[naxes]->channel;
				/* Without a controller, the first joint's. */
				if (joint[naxes] && !ctrl)
					ctrl = joint[naxes]->controller;
				csv_quote(tok, names[naxes + 1], sizeof(names[0]));
				naxes++;
			}
			t = naxes ? hrservo_traj_new(naxes, ch) : NULL;
			if (!t) {
				csv_err(err, errsize, path, lineno, 0, EINVAL,
					naxes ? "a channel is named twice" :
					"no channel columns");
				goto fail;
			}
			t->interp = interp;
			continue;
		}
		for (; p; col++) {
			double v;

			tok = csv_field(l, &p, &c);
			if (!*tok) {
				if (!p && col)
					csv_err(err, errsize, path, lineno, c,
						EINVAL,
						"trailing comma after field %u (%s)",
						col, col <= naxes + 1 ?
						names[col - 1] : "beyond the header");
				else
					csv_err(err, errsize, path, lineno, c,
						EINVAL, "field %u (%s) is empty",
						col + 1, col <= naxes ? names[col] :
						"beyond the header");
				goto fail;
			}
			v = hrservo_strtod_c(tok, &end);
			if (!csv_decimal(tok) || end == tok || *end ||
			    !isfinite(v)) {
				csv_err(err, errsize, path, lineno, 0, EINVAL,
					"'%s' is not a number",
					csv_quote(tok, q, sizeof(q)));
				goto fail;
			}
			if (col > naxes) {
				csv_err(err, errsize, path, lineno, 0, EINVAL,
					"more columns than the header has");
				goto fail;
			}
			if (col == 0) {
				tv = v * tscale;
				if (strpbrk(tok, ".eE"))
					whole_times = false;
			} else if (joint[col - 1]) {
				const struct hrservo_joint *j = joint[col - 1];

				if (hrservo_joint_to_ns(j, v, &pos[col - 1])) {
					const char *u = hrservo_unit_name(j->unit);

					csv_err(err, errsize, path, lineno, 0,
						EINVAL,
						"joint %s: %g%s is outside its soft limits %g%s..%g%s",
						j->name, v, u, j->min, u,
						j->max, u);
					goto fail;
				}
			} else {
				pos[col - 1] = v * scale[col - 1];
			}
		}
		if (col != naxes + 1) {
			csv_err(err, errsize, path, lineno, 0, EINVAL,
				"missing column: %u of %u values", col,
				naxes + 1);
			goto fail;
		}
		if (hrservo_traj_num_waypoints(t) >= MAX_WAYPOINTS) {
			csv_err(err, errsize, path, lineno, 0, E2BIG,
				"more than 100000 waypoints");
			goto fail;
		}
		if (hrservo_traj_add(t, tv, pos)) {
			if (t->n && !(tv > t->t[t->n - 1]))
				csv_err(err, errsize, path, lineno, 0, EINVAL,
					"time %g s is not after %g s", tv,
					t->t[t->n - 1]);
			else
				csv_err(err, errsize, path, lineno, 0, EINVAL,
					"a value is out of range");
			goto fail;
		}
		lastline = lineno;
	}
	if (!t || t->n < 2) {
		csv_err(err, errsize, path, lineno, 0, EINVAL,
			"needs a header and at least 2 waypoints");
		goto fail;
	}
	/* Milliseconds under a t_s header: 20, 40, 60... as seconds. */
	if (tscale == 1 && whole_times &&
	    hrservo_traj_duration(t) > CSV_SUSPECT_S) {
		csv_err(err, errsize, path, hline, 1, EINVAL,
			"t_s: the times make a %.0f s trajectory (to line %zu); did you mean t_ms? (write seconds with a decimal point, as %.1f, to keep them)",
			hrservo_traj_duration(t), lastline, t->t[t->n - 1]);
		goto fail;
	}
	free(line);
	fclose(f);
	return t;
fail:
	{
		int e = errno;

		free(line);
		fclose(f);
		hrservo_traj_free(t);
		errno = e;
	}
	return NULL;
}
