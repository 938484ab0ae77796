// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl traj plot: draw a trajectory's planned pulse widths over time
 * into a PNG with cairo, optionally with measured pulses overlaid.
 */
#define _GNU_SOURCE
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrservo.h"
#include "plot.h"

#define W	1200
#define H	700
#define ML	110	/* margins: left, right, top, bottom */
#define MR	30
#define MT	60
#define MB	70

static const double colors[][3] = {
	{ 0.12, 0.47, 0.71 }, { 0.84, 0.15, 0.16 }, { 0.17, 0.63, 0.17 },
	{ 1.00, 0.50, 0.05 }, { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 },
	{ 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
};

/* A "nice" tick step for a range: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int ticks)
{
	double raw = range / ticks, p = pow(10, floor(log10(raw)));
	double f = raw / p;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static struct series *series_new(unsigned int naxes, const unsigned int *ch)
{
	struct series *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->naxes = naxes;
	memcpy(s->ch, ch, naxes * sizeof(*ch));
	return s;
}

void series_free(struct series *s)
{
	if (!s)
		return;
	free(s->t);
	free(s->p);
	free(s);
}

static int series_add(struct series *s, double t, const double *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		double *nt = realloc(s->t, cap * sizeof(*nt)), *np;

		if (!nt)
			return -1;
		s->t = nt;
		np = realloc(s->p, cap * s->naxes * sizeof(*np));
		if (!np)
			return -1;
		s->p = np;
		s->cap = cap;
	}
	s->t[s->n] = t;
	memcpy(&s->p[s->n * s->naxes], p, s->naxes * sizeof(*p));
	s->n++;
	return 0;
}

struct series *series_from_traj(const struct hrservo_traj *m)
{
	unsigned int na = hrservo_traj_num_axes(m), ch[HRSERVO_MAX_CHANNELS];
	double tt, p[HRSERVO_MAX_CHANNELS];
	struct series *s;

	for (unsigned int a = 0; a < na; a++)
		ch[a] = hrservo_traj_channel(m, a);
	s = series_new(na, ch);
	for (size_t i = 0; s && !hrservo_traj_waypoint(m, i, &tt, p); i++) {
		if (series_add(s, tt, p)) {
			series_free(s);
			return NULL;
		}
	}
	return s;
}

/* What axis @a shows of a width @ns: the joint's position, or us. */
static double shown(const struct hrservo_joint *const *joints, unsigned int a,
		    double ns)
{
	double pos;

	if (!joints)
		return ns / 1e3;
	return hrservo_joint_from_ns(joints[a], ns, &pos) ? NAN : pos;
}

int plot_traj(const struct hrservo_traj *t, const struct series *meas,
	      const struct hrservo_joint *const *joints, const char *title,
	      const char *out)
{
	unsigned int na = hrservo_traj_num_axes(t);
	double dur = hrservo_traj_duration(t), lo = INFINITY, hi = -INFINITY;
	double pos[HRSERVO_MAX_CHANNELS], xs, ys, step;
	cairo_surface_t *s;
	cairo_status_t st;
	cairo_text_extents_t ext;
	cairo_t *cr;
	char label[128];
	const int samples = 1000;

	if (na == 0 || dur <= 0) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i <= samples; i++) {
		hrservo_traj_eval(t, dur * i / samples, pos, NULL, NULL);
		for (unsigned int a = 0; a < na; a++) {
			lo = fmin(lo, shown(joints, a, pos[a]));
			hi = fmax(hi, shown(joints, a, pos[a]));
		}
	}
	if (meas && meas->n)
		dur = fmax(dur, meas->t[meas->n - 1]);
	if (!isfinite(lo) || !isfinite(hi)) {
		errno = ERANGE;
		return -1;
	}
	/* With room: 50 us, or 5% of the range (at least 1) of positions. */
	step = joints ? fmax((hi - lo) * 0.05, 1) : 50;
	lo -= step;
	hi += step;
	xs = (W - ML - MR) / dur;
	ys = (H - MT - MB) / (hi - lo);

	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);

	/* Grid and tick labels. */
	cairo_set_font_size(cr, 14);
	cairo_set_line_width(cr, 1);
	step = nice_step(dur, 10);
	for (double x = 0; x <= dur + 1e-9; x += step) {
		double px = ML + x * xs;

		cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
		cairo_move_to(cr, px, MT);
		cairo_line_to(cr, px, H - MB);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		snprintf(label, sizeof(label), "%g", x);
		cairo_text_extents(cr, label, &ext);
		cairo_move_to(cr, px - ext.x_advance / 2, H - MB + 22);
		cairo_show_text(cr, label);
	}
	step = nice_step(hi - lo, 8);
	for (double y = ceil(lo / step) * step; y <= hi; y += step) {
		double py = H - MB - (y - lo) * ys;

		cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
		cairo_move_to(cr, ML, py);
		cairo_line_to(cr, W - MR, py);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		snprintf(label, sizeof(label), "%g", y);
		cairo_text_extents(cr, label, &ext);
		cairo_move_to(cr, ML - 8 - ext.x_advance, py + 5);
		cairo_show_text(cr, label);
	}
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
	cairo_stroke(cr);
	cairo_move_to(cr, W / 2 - 30, H - 20);
	cairo_show_text(cr, "time (s)");
	cairo_save(cr);
	cairo_move_to(cr, 24, H / 2 + 60);
	cairo_rotate(cr, -M_PI / 2);
	if (joints) {
		snprintf(label, sizeof(label), "position (%s)",
			 hrservo_unit_name(joints[0]->unit));
		cairo_show_text(cr, label);
	} else {
		cairo_show_text(cr, "pulse width (\xc2\xb5s)");
	}
	cairo_restore(cr);
	cairo_set_font_size(cr, 18);
	cairo_move_to(cr, ML, 35);
	cairo_show_text(cr, title);

	/* Planned curves. */
	cairo_set_line_width(cr, 2);
	for (unsigned int a = 0; a < na; a++) {
		const double *c = colors[hrservo_traj_channel(t, a) % 8];

		cairo_set_source_rgb(cr, c[0], c[1], c[2]);
		for (int i = 0; i <= samples; i++) {
			double tt = hrservo_traj_duration(t) * i / samples;

			hrservo_traj_eval(t, tt, pos, NULL, NULL);
			if (i)
				cairo_line_to(cr, ML + tt * xs,
					      H - MB - (shown(joints, a, pos[a]) -
							lo) * ys);
			else
				cairo_move_to(cr, ML + tt * xs,
					      H - MB - (shown(joints, a, pos[a]) -
							lo) * ys);
		}
		cairo_stroke(cr);
		/* Waypoints: hollow squares. */
		for (size_t i = 0; i < hrservo_traj_num_waypoints(t); i++) {
			double tt, p[HRSERVO_MAX_CHANNELS];

			hrservo_traj_waypoint(t, i, &tt, p);
			cairo_rectangle(cr, ML + tt * xs - 5,
					H - MB - (shown(joints, a, p[a]) - lo) *
					ys - 5, 10, 10);
			cairo_stroke(cr);
		}
	}

	/* Measured pulses: dots, same color per channel. */
	if (meas) {
		for (unsigned int m = 0; m < meas->naxes; m++) {
			const double *c = colors[meas->ch[m] % 8];
			unsigned int a = 0;

			/* The plan's axis of the same channel, for its unit. */
			while (a < na && hrservo_traj_channel(t, a) != meas->ch[m])
				a++;
			if (joints && a == na)
				continue;
			cairo_set_source_rgb(cr, c[0], c[1], c[2]);
			for (size_t i = 0; i < meas->n; i++) {
				double p = meas->p[i * meas->naxes + m];

				cairo_arc(cr, ML + meas->t[i] * xs,
					  H - MB - (shown(joints, a, p) - lo) *
					  ys, 3.5, 0, 2 * M_PI);
				cairo_fill(cr);
			}
		}
	}

	/* Legend. */
	cairo_set_font_size(cr, 14);
	for (unsigned int a = 0; a < na; a++) {
		const double *c = colors[hrservo_traj_channel(t, a) % 8];
		double y = MT + 20 + 20 * a;

		cairo_set_source_rgb(cr, c[0], c[1], c[2]);
		cairo_rectangle(cr, W - MR - 330, y - 10, 24, 4);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		if (joints)
			snprintf(label, sizeof(label), "%s planned (\xe2\x96\xa1 waypoints)%s",
				 joints[a]->name,
				 meas ? ", \xe2\x97\x8f measured" : "");
		else
			snprintf(label, sizeof(label), "ch%u planned (\xe2\x96\xa1 waypoints)%s",
				 hrservo_traj_channel(t, a),
				 meas ? ", \xe2\x97\x8f measured" : "");
		cairo_move_to(cr, W - MR - 300, y - 3);
		cairo_show_text(cr, label);
	}

	cairo_destroy(cr);
	st = cairo_surface_write_to_png(s, out);
	cairo_surface_destroy(s);
	/* Give back the font caches, so that leak checkers see no leak. */
	cairo_debug_reset_static_data();
	FcFini();
	if (st != CAIRO_STATUS_SUCCESS) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Measured pulses from a capture of the loopback GPIO chip, one
 * "TIME_NS LINE LEVEL" per line (its debugfs "events" file), with the
 * trajectory's start on the same clock in a line "# start_ns=N": for each
 * axis of @t, line @first_line + channel. A frame is kept when every axis
 * had a pulse in it, at the time of its rising edge.
 */
struct series *capture_load(const char *path, const struct hrservo_traj *t,
			    unsigned int first_line, bool *has_start)
{
	unsigned int na = hrservo_traj_num_axes(t), ch[HRSERVO_MAX_CHANNELS];
	unsigned long long ts, rise[HRSERVO_MAX_CHANNELS] = { 0 };
	unsigned long long frame = 0, start = 0, first = 0, *ft = NULL;
	uint64_t got = 0, all = na == 64 ? ~0ULL : (1ULL << na) - 1;
	double w[HRSERVO_MAX_CHANNELS];
	struct series *m, *out = NULL;
	unsigned int line, level;
	size_t nf = 0, capf = 0;
	char buf[128];
	int e = 0;
	FILE *f;

	*has_start = false;
	for (unsigned int a = 0; a < na; a++)
		ch[a] = hrservo_traj_channel(t, a);
	/* Frames with absolute times first: the start may come anywhere. */
	m = series_new(na, ch);
	f = fopen(path, "r");
	if (!m || !f) {
		e = errno;
		goto done;
	}
	while (fgets(buf, sizeof(buf), f)) {
		if (!*has_start &&
		    sscanf(buf, "# start_ns=%llu", &start) == 1) {
			*has_start = true;
			continue;
		}
		if (sscanf(buf, "%llu %u %u", &ts, &line, &level) != 3)
			continue;
		for (unsigned int a = 0; a < na; a++) {
			if (line != first_line + ch[a])
				continue;
			if (level) {
				rise[a] = ts;
				if (!first)
					first = ts;
			} else if (rise[a]) {
				if (rise[a] != frame) {
					frame = rise[a];
					got = 0;
				}
				w[a] = (double)(ts - rise[a]);
				got |= 1ULL << a;
				if (got != all)
					continue;
				if (nf == capf) {
					size_t c = capf ? 2 * capf : 256;
					unsigned long long *n =
						realloc(ft, c * sizeof(*n));

					if (!n) {
						e = ENOMEM;
						goto done;
					}
					ft = n;
					capf = c;
				}
				if (series_add(m, 0, w)) {
					e = ENOMEM;
					goto done;
				}
				ft[nf++] = frame;
				got = 0;
			}
		}
	}
	/*
	 * On the plan's clock. Frames that rose before the start show the
	 * pose held before it; 1 ms of slack for the start's estimate.
	 */
	out = series_new(na, ch);
	if (!out) {
		e = errno;
		goto done;
	}
	if (!*has_start)
		start = first;
	for (size_t i = 0; i < nf; i++) {
		if (ft[i] + 1000000ULL < start)
			continue;
		if (series_add(out, ((double)ft[i] - (double)start) / 1e9,
			       &m->p[i * na])) {
			e = ENOMEM;
			goto done;
		}
	}
	if (out->n < 2)
		e = nf >= 2 ? ERANGE : ENODATA;
done:
	if (f)
		fclose(f);
	free(ft);
	series_free(m);
	if (e) {
		series_free(out);
		errno = e;
		return NULL;
	}
	return out;
}

/* A position to print: to the micro-unit, no "-0" or 1e-14 noise. */
static double tidy(double v)
{
	v = nearbyint(v * 1e6) / 1e6;
	return v == 0 ? 0 : v;
}

int print_series(FILE *f, const struct hrservo_traj *t,
		 const struct series *meas,
		 const struct hrservo_joint *const *joints)
{
	unsigned int na = hrservo_traj_num_axes(t), ma[HRSERVO_MAX_CHANNELS];
	double pos[HRSERVO_MAX_CHANNELS], tt;
	size_t n = meas ? meas->n : hrservo_traj_num_waypoints(t);

	fprintf(f, "t_s");
	for (unsigned int a = 0; a < na; a++) {
		unsigned int c = hrservo_traj_channel(t, a);

		if (joints)
			fprintf(f, ",%s_%s_planned", joints[a]->name,
				hrservo_unit_name(joints[a]->unit));
		else
			fprintf(f, ",ch%u_planned_ns", c);
		if (!meas)
			continue;
		/* The measured axis of the same channel, if any. */
		ma[a] = meas->naxes;
		for (unsigned int m = 0; m < meas->naxes; m++)
			if (meas->ch[m] == c)
				ma[a] = m;
		if (joints)
			fprintf(f, ",%s_%s_measured", joints[a]->name,
				hrservo_unit_name(joints[a]->unit));
		else
			fprintf(f, ",ch%u_measured_ns", c);
	}
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		if (meas) {
			tt = meas->t[i];
			if (hrservo_traj_eval(t, tt, pos, NULL, NULL))
				return -1;
		} else if (hrservo_traj_waypoint(t, i, &tt, pos)) {
			return -1;
		}
		fprintf(f, "%.6f", tt);
		for (unsigned int a = 0; a < na; a++) {
			if (joints)
				fprintf(f, ",%.10g", tidy(shown(joints, a, pos[a])));
			else
				fprintf(f, ",%.0f", pos[a]);
			if (meas && ma[a] < meas->naxes && joints)
				fprintf(f, ",%.10g",
					tidy(shown(joints, a,
						   meas->p[i * meas->naxes + ma[a]])));
			else if (meas && ma[a] < meas->naxes)
				fprintf(f, ",%.0f",
					meas->p[i * meas->naxes + ma[a]]);
			else if (meas)
				fputc(',', f);
		}
		fputc('\n', f);
	}
	return fflush(f) ? -1 : 0;
}
