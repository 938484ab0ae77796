/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SERVOCTL_PLOT_H
#define SERVOCTL_PLOT_H

#include "hrservo.h"

/*
 * Draw @t's planned widths over time into the PNG @out, with the
 * waypoints of @meas (may be NULL) as measured dots. 0, or -1 with errno.
 */
int plot_traj(const struct hrservo_traj *t, const struct hrservo_traj *meas,
	      const char *title, const char *out);

/*
 * Measured pulses of @t's axes from a loopback chip capture whose line
 * first_line + N carries channel N. NULL with errno on failure.
 */
struct hrservo_traj *capture_load(const char *path,
				  const struct hrservo_traj *t,
				  unsigned int first_line);

#endif
