/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SERVOCTL_PLOT_H
#define SERVOCTL_PLOT_H

#include <stdbool.h>
#include <stdio.h>

#include "hrservo.h"

/*
 * Measured pulse widths, one row per frame, on the plan's clock: @t counts
 * seconds from the trajectory's start (its first waypoint).
 */
struct series {
	unsigned int naxes;
	unsigned int ch[HRSERVO_MAX_CHANNELS];
	size_t n, cap;
	double *t;	/* [n] s */
	double *p;	/* [n][naxes] ns */
};

void series_free(struct series *s);
/* The waypoints of @m (a --measured CSV), times from its first row. */
struct series *series_from_traj(const struct hrservo_traj *m);

/*
 * Draw @t's planned widths over time into the PNG @out, with @meas (may be
 * NULL) as measured dots. With @joints (one per axis of @t, all of one
 * unit; or NULL), positions in the joints' unit instead. 0, or -1 with
 * errno.
 */
int plot_traj(const struct hrservo_traj *t, const struct series *meas,
	      const struct hrservo_joint *const *joints, const char *title,
	      const char *out);

/*
 * Measured pulses of @t's axes from a loopback chip capture whose line
 * first_line + N carries channel N. Times count from the capture's
 * "# start_ns=N" line (written by 'servoctl traj upload --capture'), and
 * frames that rise before it are left out; *@has_start tells whether there
 * was one: without, they count from the first rising edge. NULL with errno
 * on failure (ENODATA: fewer than 2 complete frames; ERANGE: after the
 * start).
 */
struct series *capture_load(const char *path, const struct hrservo_traj *t,
			    unsigned int first_line, bool *has_start);

/*
 * Print the series as CSV to @f: one row per frame of @meas, "t_s" then for
 * each axis the planned and measured widths in ns; without @meas, one row
 * per waypoint of @t with the planned widths. 0, or -1 with errno.
 */
int print_series(FILE *f, const struct hrservo_traj *t,
		 const struct series *meas,
		 const struct hrservo_joint *const *joints);

#endif
