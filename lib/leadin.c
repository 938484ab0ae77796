// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo lead-in moves: from where the axes are to where a trajectory
 * starts, within the axes' speed and acceleration limits, so that playing a
 * trajectory never makes a servo jump to its first waypoint.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/*
 * Minimum-jerk move of distance D in time L: peak speed 15/8 D/L, peak
 * acceleration 10/sqrt(3) D/L^2.
 */
#define MJ_PEAK_SPEED	1.875
#define MJ_PEAK_ACCEL	5.773502691896258

HRSERVO_API struct hrservo_traj *
hrservo_traj_lead_in(const struct hrservo_traj *t, struct hrservo *h,
		     double min_s, unsigned int *bad)
{
	unsigned int naxes, ch[HRSERVO_MAX_CHANNELS];
	double from[HRSERVO_MAX_CHANNELS], to[HRSERVO_MAX_CHANNELS];
	double dur = 0, t0, far = 0;
	uint32_t period = 0;
	struct hrservo_state *st;
	struct hrservo_traj *lead;

	if (!t || !h || !(min_s >= 0) || !isfinite(min_s) ||
	    hrservo_traj_num_waypoints(t) < 2) {
		errno = EINVAL;
		return NULL;
	}
	naxes = hrservo_traj_num_axes(t);
	if (hrservo_traj_waypoint(t, 0, &t0, to))
		return NULL;
	st = hrservo_read_state(h);
	if (!st)
		return NULL;
	for (unsigned int a = 0; a < naxes; a++) {
		uint32_t speed = 0, accel = 0;
		double d, v;

		ch[a] = hrservo_traj_channel(t, a);
		if (ch[a] >= hrservo_state_num_channels(st) ||
		    !hrservo_state_enabled(st, ch[a]) ||
		    !hrservo_state_target_ns(st, ch[a])) {
			if (bad)
				*bad = ch[a];
			hrservo_state_free(st);
			errno = EDOM;
			return NULL;
		}
		from[a] = hrservo_state_target_ns(st, ch[a]);
		d = fabs(to[a] - from[a]);
		if (d > far)
			far = d;
		if (hrservo_motion_or_none(h, ch[a], &speed, &accel)) {
			hrservo_state_free(st);
			return NULL;
		}
		v = speed ? speed : HRSERVO_LEAD_IN_SPEED_NS;
		if (MJ_PEAK_SPEED * d / v > dur)
			dur = MJ_PEAK_SPEED * d / v;
		if (accel && sqrt(MJ_PEAK_ACCEL * d / accel) > dur)
			dur = sqrt(MJ_PEAK_ACCEL * d / accel);
	}
	hrservo_state_free(st);
	if (far <= HRSERVO_LEAD_IN_TOL_NS) {
		errno = ENODATA;
		return NULL;
	}
	/*
	 * A margin for the rounding of the segment's duration and
	 * coefficients; whole milliseconds, at least the shortest segment and
	 * at most the longest.
	 */
	dur = ceil(dur * 1.001 * 1e3) / 1e3;
	if (dur < min_s)
		dur = min_s;
	if (dur < HRSERVO_TRAJ_MIN_INTERVAL_NS / 1e9)
		dur = HRSERVO_TRAJ_MIN_INTERVAL_NS / 1e9;
	/*
	 * Whole frames: a trajectory that starts on a frame then has its
	 * waypoints where they fall after the lead-in, on the frame grid (a
	 * recording replays frame by frame).
	 */
	if (!hrservo_get_frame_period(h, &period, NULL, NULL) && period)
		dur = ceil(dur * 1e9 / period - 1e-9) * (period / 1e9);
	if (dur > HRSERVO_TRAJ_MAX_INTERVAL_NS / 1e9) {
		errno = ERANGE;
		return NULL;
	}
	lead = hrservo_traj_new(naxes, ch);
	if (!lead)
		return NULL;
	hrservo_traj_set_interp(lead, HRSERVO_INTERP_MIN_JERK);
	if (hrservo_traj_add(lead, 0, from) || hrservo_traj_add(lead, dur, to)) {
		hrservo_traj_free(lead);
		return NULL;
	}
	return lead;
}
