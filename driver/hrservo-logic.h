/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * hrservo - pure logic shared by the kernel modules and the host unit tests
 *
 * Nothing in here may depend on the kernel: the same hrservo-logic.c is built
 * into hrservo.ko and into tests/unit/. No floating point, no allocation, no
 * locking; every function works on caller-provided memory and is safe in hard
 * interrupt context.
 */
#ifndef _HRSERVO_LOGIC_H
#define _HRSERVO_LOGIC_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <linux/types.h>
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;
#endif

#include "uapi/hrservo.h"

/* Frame period bounds and default of the GPIO backend, and the core default. */
#define HRSERVO_PERIOD_MIN_NS		2500000U
#define HRSERVO_PERIOD_MAX_NS		50000000U
#define HRSERVO_PERIOD_DEFAULT_NS	20000000U

/* Absolute pulse bounds: no channel limit may go beyond these. */
#define HRSERVO_PULSE_MIN_NS		50000U
/* Time kept free at the end of every frame, after the longest pulse. */
#define HRSERVO_FRAME_GUARD_NS		100000U

/* Channel limits at probe: the common hobby servo range. */
#define HRSERVO_DEFAULT_MIN_NS		500000U
#define HRSERVO_DEFAULT_MAX_NS		2500000U

/* Falling edges closer than this share one timer expiry (GPIO backend). */
#define HRSERVO_COALESCE_DEFAULT_NS	2000U
#define HRSERVO_COALESCE_MAX_NS		50000U

/**
 * struct hrservo_chan_limits - pulse limits of one channel
 * @min_ns: lowest allowed pulse width
 * @max_ns: highest allowed pulse width
 */
struct hrservo_chan_limits {
	u32 min_ns;
	u32 max_ns;
};

/**
 * struct hrservo_edge_group - falling edges that share one timer expiry
 * @offset_ns: expiry time, in ns after the frame start
 * @mask: channels whose line falls at this expiry
 */
struct hrservo_edge_group {
	u32 offset_ns;
	u64 mask;
};

/**
 * struct hrservo_motion - the emitted position of one channel and its speed
 * @pos: position (pulse width), in 1/65536 ns
 * @vel: change of @pos over the last frame, in 1/65536 ns per frame
 * @last: the target of the last frame, in 1/65536 ns
 * @valid: @pos is known (false before the first frame after an enable)
 */
struct hrservo_motion {
	s64 pos;
	s64 vel;
	s64 last;
	bool valid;
};

#define HRSERVO_Q		16	/* fractional bits of hrservo_motion */

/*
 * Targets are whole ns, rounded to nearest: the steps of a target that
 * keeps to a speed limit may pass it by up to 1 ns per frame, its speed
 * changes may pass an acceleration limit by up to 2 ns per frame squared.
 * The limiter allows 2 ns, so that such a target is followed exactly.
 */
#define HRSERVO_MOTION_SLACK	(2LL << HRSERVO_Q)

/**
 * struct hrservo_div - a divisor prepared for division without a divider
 * @d: the divisor
 * @inv: floor((2^64 - 1) / @d)
 */
struct hrservo_div {
	u64 d;
	u64 inv;
};

void hrservo_div_init(struct hrservo_div *r, u64 d);
u64 hrservo_div_u64(u64 n, const struct hrservo_div *r, u64 *rem);
void hrservo_brake_prepare(struct hrservo_div *r, s64 amax_frame);
s64 hrservo_brake_dist(s64 v, const struct hrservo_div *two_a);
u32 hrservo_stop_point(const struct hrservo_motion *m, bool accel_limited,
		       const struct hrservo_div *two_a,
		       const struct hrservo_chan_limits *lim);

u32 hrservo_pulse_max_for_period(u32 period_ns);

u64 hrservo_rate_per_frame(u32 rate, u32 period_ns, unsigned int power);
bool hrservo_motion_step(struct hrservo_motion *m, s64 desired, s64 vmax,
			 s64 amax, bool moving);
u32 hrservo_chan_step(struct hrservo_motion *m,
		      const struct hrservo_chan_limits *lim, u32 desired_ns,
		      s64 vmax, s64 amax, bool moving, bool *held);
u64 hrservo_isqrt(u64 x);

u32 hrservo_poly_u(u64 elapsed_ns, const struct hrservo_div *dur);
s64 hrservo_poly_eval(const s64 *c, u32 u);
s64 hrservo_poly_end(const s64 *c);

int hrservo_check_batch(const struct hrservo_target *t, unsigned int count,
			unsigned int nchannels,
			const struct hrservo_chan_limits *lim,
			unsigned int *bad);

int hrservo_check_limits(u32 min_ns, u32 max_ns, u32 period_ns);

int hrservo_check_period(u32 period_ns, u32 period_min_ns, u32 period_max_ns,
			 const struct hrservo_chan_limits *lim,
			 unsigned int nchannels, unsigned int *bad);

unsigned int hrservo_plan_falls(const u32 *pulse_ns, unsigned int nchannels,
				u32 coalesce_ns,
				struct hrservo_edge_group *groups);

/*
 * Size, with its NUL, of a chip label in a new_device line, of a property
 * value there, and of a channel's label.
 */
#define HRSERVO_LABEL_MAX		64

int hrservo_parse_lines(const char *buf, char *label, unsigned int label_size,
			u32 *offsets, unsigned int max_lines,
			unsigned int *nlines);
int hrservo_parse_estop(char *buf, char *label, unsigned int label_size,
			u32 *offset, bool *active_low);

/* Longest property name of a new_device line, with its NUL. */
#define HRSERVO_PROP_NAME_MAX		32

/**
 * struct hrservo_prop - a PROPERTY=VALUE word of a new_device line
 * @channel: the channel it is about ("channel@N/PROPERTY=VALUE"), or -1 for
 *	the controller ("PROPERTY=VALUE")
 * @name: the property name
 * @value: the value, as written
 * @kind: %HRSERVO_PROP_U32 or %HRSERVO_PROP_STRING, as hrservo_prop_check()
 *	found it; set by its caller
 * @num: the value of a %HRSERVO_PROP_U32; set by the caller too
 */
struct hrservo_prop {
	int channel;
	char name[HRSERVO_PROP_NAME_MAX];
	char value[HRSERVO_LABEL_MAX];
	int kind;
	u32 num;
};

/* What hrservo_prop_check() found a property to be. */
#define HRSERVO_PROP_U32		0
#define HRSERVO_PROP_STRING		1

int hrservo_parse_props(char *buf, struct hrservo_prop *props,
			unsigned int max, unsigned int *n);
int hrservo_prop_check(const struct hrservo_prop *p, u32 *val);

#endif /* _HRSERVO_LOGIC_H */
