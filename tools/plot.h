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

#endif
