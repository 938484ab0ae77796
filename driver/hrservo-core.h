/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hrservo - interface between the core (hrservo.ko) and its output backends
 *
 * A backend turns "these pulse widths for this frame" into electrical
 * reality. It allocates a controller with devm_hrservo_alloc(), fills in its
 * description, and registers it with devm_hrservo_register(). From then on the
 * core owns channels, limits, the user ABI and the frame schedule; the backend
 * only runs the frame clock it is asked to start, calls hrservo_frame_begin()
 * at every frame boundary and emits the pulses that call returns. A backend
 * may call it for a frame a little ahead of the frame's start, so that the
 * start only writes the outputs; it then calls hrservo_frame_rise() just
 * before, and leaves out the channels released meanwhile.
 */
#ifndef _HRSERVO_CORE_H
#define _HRSERVO_CORE_H

#include <linux/device.h>
#include <linux/ktime.h>
#include <linux/types.h>

#include "hrservo-logic.h"

struct hrservo_ctrl;

/**
 * struct hrservo_ops - backend operations
 * @start: start the frame clock; the first frame begins at @first (absolute
 *	CLOCK_MONOTONIC). Called with the controller's spinlock held and
 *	interrupts off, so it must not sleep: arm a timer and return. The clock
 *	stops by itself when hrservo_frame_begin() returns false.
 * @stop: stop the frame clock synchronously and drive every output to its
 *	idle level. Called from process context after the core has let the
 *	last pulse finish; may sleep. After it returns the backend must not
 *	call hrservo_frame_begin() again until the next @start.
 * @quantize: optional, for hardware that does not make every width
 *	exactly (a coarse resolution, edges that share a timer expiry):
 *	replace each of the @n widths of @pulse_ns (0: no pulse, leave it) by
 *	the width the hardware really emits in a frame of @period_ns. Called
 *	only from hrservo_frame_begin(), once per frame that has a pulse,
 *	with the controller's spinlock held and interrupts off: bounded
 *	arithmetic; it may keep per-frame state for the backend that called
 *	hrservo_frame_begin(). The core reports these widths as the channels'
 *	pulses and hands them to the backend; speed and acceleration limits
 *	keep working on the exact widths.
 * @resolution: optional, with @quantize: the quantisation step at
 *	@period_ns, rounded up to whole ns (shown as resolution_ns). Same
 *	context as @quantize.
 */
struct hrservo_ops {
	void (*start)(struct hrservo_ctrl *ctrl, ktime_t first);
	void (*stop)(struct hrservo_ctrl *ctrl);
	void (*quantize)(struct hrservo_ctrl *ctrl, u32 *pulse_ns,
			 unsigned int n, u32 period_ns);
	u32 (*resolution)(struct hrservo_ctrl *ctrl, u32 period_ns);
};

/**
 * struct hrservo_desc - what a backend tells the core about a controller
 * @backend: backend name shown to users, e.g. "hrservo-gpio"
 * @ops: backend operations
 * @frame_period_ns: initial frame period
 * @frame_period_min_ns: smallest frame period the backend supports
 * @frame_period_max_ns: largest frame period the backend supports
 * @resolution_ns: pulse width quantisation (1 for exact); ignored when the
 *	ops have a @resolution
 * @begins_ahead: the backend calls hrservo_frame_begin() ahead of a
 *	frame's start, and hrservo_frame_rise() at the start of every frame
 *	that has a pulse, before its outputs change
 */
struct hrservo_desc {
	const char *backend;
	const struct hrservo_ops *ops;
	u32 frame_period_ns;
	u32 frame_period_min_ns;
	u32 frame_period_max_ns;
	u32 resolution_ns;
	bool begins_ahead;
};

struct hrservo_ctrl *devm_hrservo_alloc(struct device *parent,
					unsigned int nchannels,
					size_t priv_size);
int devm_hrservo_register(struct device *parent, struct hrservo_ctrl *ctrl,
			  const struct hrservo_desc *desc);
void *hrservo_priv(struct hrservo_ctrl *ctrl);
unsigned int hrservo_channels(struct hrservo_ctrl *ctrl);
int hrservo_id(struct hrservo_ctrl *ctrl);
bool hrservo_frame_begin(struct hrservo_ctrl *ctrl, ktime_t scheduled,
			 u32 *pulse_ns, u32 *period_ns, u64 *active_mask);
u64 hrservo_frame_rise(struct hrservo_ctrl *ctrl, u64 active_mask);
void hrservo_frames_missed(struct hrservo_ctrl *ctrl, u64 n);
int hrservo_set_period_range(struct hrservo_ctrl *ctrl, u32 min_ns, u32 max_ns);
void hrservo_report_fault(struct hrservo_ctrl *ctrl, u64 mask, int err);

struct gpio_desc;
int devm_hrservo_estop_input(struct device *dev, struct hrservo_ctrl *ctrl,
			     struct gpio_desc *gpiod);

#endif /* _HRSERVO_CORE_H */
