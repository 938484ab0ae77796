/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhrservo internals: the backend interface and the objects behind the
 * opaque types of hrservo.h. Nothing here is part of the API.
 */
#ifndef HRSERVO_INTERNAL_H
#define HRSERVO_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "hrservo.h"

#define HRSERVO_HIDDEN __attribute__((visibility("hidden")))

struct hrservo_target_item {
	unsigned int channel;
	uint32_t pulse_ns;
};

struct hrservo_batch {
	size_t n;
	uint64_t used;			/* channels in the batch */
	struct hrservo_target_item t[HRSERVO_MAX_CHANNELS];
};

struct hrservo_chan_snapshot {
	uint32_t target_ns;
	uint32_t pulse_ns;
	uint32_t min_ns;
	uint32_t max_ns;
	bool enabled;
	bool active;
};

struct hrservo_state {
	unsigned int n;
	struct hrservo_chan_snapshot ch[HRSERVO_MAX_CHANNELS];
};

struct hrservo;

/* One trajectory segment for the backend; coefficients come separately. */
struct hrservo_seg_item {
	uint64_t duration_ns;
	uint64_t mask;
	bool last;
};

/*
 * A backend. hrservo_open() asks each backend in turn whether it claims a
 * spec, then opens it with that backend. Every operation follows the API's
 * error convention (0, or -1 with errno). The core has already checked
 * channel numbers against hrservo.nch where the API takes one.
 */
struct hrservo_backend {
	const char *name;
	bool (*claims)(const char *spec);
	/* Fill in name, backend, nch, pulse bounds, resolution and priv. */
	int (*open)(struct hrservo *h, const char *spec);
	void (*close)(struct hrservo *h);
	int (*apply)(struct hrservo *h, const struct hrservo_target_item *t,
		     size_t n);
	int (*release)(struct hrservo *h, uint64_t mask);
	int (*read_state)(struct hrservo *h, struct hrservo_state *st);
	int (*get_limits)(struct hrservo *h, unsigned int ch, uint32_t *min_ns,
			  uint32_t *max_ns);
	int (*set_limits)(struct hrservo *h, unsigned int ch, uint32_t min_ns,
			  uint32_t max_ns);
	int (*get_period)(struct hrservo *h, uint32_t *period_ns,
			  uint32_t *min_ns, uint32_t *max_ns);
	int (*set_period)(struct hrservo *h, uint32_t period_ns);
	int (*get_motion)(struct hrservo *h, unsigned int ch, uint32_t *speed,
			  uint32_t *accel);
	int (*set_motion)(struct hrservo *h, unsigned int ch, uint32_t speed,
			  uint32_t accel);
	/* Six coefficients (1/65536 ns) per axis, axes in channel order. */
	int (*traj_submit)(struct hrservo *h,
			   const struct hrservo_seg_item *segs, size_t n,
			   const int64_t *coefs, size_t ncoefs,
			   unsigned int flags, uint64_t at_ns);
	int (*traj_status)(struct hrservo *h, struct hrservo_traj_info *info);
	int (*traj_owned)(struct hrservo *h, uint64_t *axes);
	int (*traj_stop)(struct hrservo *h);
	int (*event_fd)(struct hrservo *h);
	int (*read_event)(struct hrservo *h, struct hrservo_event_data *ev,
			  int timeout_ms);
	/*
	 * Safety and the frame record (API version 5), optional: NULL, and
	 * the API fails with ENOTSUP. The core has checked the arguments as
	 * hrservo.h documents them.
	 *
	 * watchdog: arm with @timeout_ms (0: disarm; @action and @pose then
	 * HRSERVO_FS_HOLD and none) and HRSERVO_FS_* @action, @npose targets
	 * (only for HRSERVO_FS_POSE).
	 */
	int (*watchdog)(struct hrservo *h, unsigned int timeout_ms, int action,
			const struct hrservo_target_item *pose, size_t npose);
	int (*keepalive)(struct hrservo *h);
	/* @op HRSERVO_ESTOP_OP_*; @info gets the state after it. */
	int (*estop)(struct hrservo *h, int op, int action,
		     struct hrservo_estop_info *info);
	/*
	 * At most @room (1..HRSERVO_FRAMES_CALL) consecutive frames from
	 * max(@seq, the oldest kept) on; *@count of them, *@next_seq one
	 * after the last (@seq if none), as HRSERVO_IOC_GET_FRAMES.
	 */
	int (*read_frames)(struct hrservo *h, uint64_t seq,
			   struct hrservo_frame_data *out, size_t room,
			   size_t *count, uint64_t *next_seq);
};

/* The op of hrservo_backend.estop. */
enum {
	HRSERVO_ESTOP_OP_GET,
	HRSERVO_ESTOP_OP_TRIP,
	HRSERVO_ESTOP_OP_CLEAR,
};

/* Frames a backend's read_frames copies at most (the kernel's per ioctl). */
#define HRSERVO_FRAMES_CALL	64

struct hrservo {
	const struct hrservo_backend *be;
	char name[64];
	char backend[32];
	unsigned int nch;
	uint32_t pulse_min_ns;
	uint32_t pulse_max_ns;
	uint32_t resolution_ns;
	void *priv;			/* the backend's */
};

HRSERVO_HIDDEN extern const struct hrservo_backend hrservo_chardev_backend;

/* Default sysfs class directory, overridden by $HRSERVO_SYSFS_CLASS. */
HRSERVO_HIDDEN const char *hrservo_sysfs_class(void);
/*
 * Numbers whatever the program's locale (lib/value.c): a program that calls
 * setlocale(LC_ALL, "") under de_DE would otherwise read "0.5" as 0 and
 * write "1000,5". Use these, never strtod() or "%f"/"%g" with snprintf(),
 * for anything the library reads or writes.
 *
 * hrservo_strtod_c() is strtod() in the "C" locale (decimal point '.'):
 * the same syntax (it also takes "inf", "nan" and hex floats: check the
 * text first, with hrservo_scan_decimal(), where those are not wanted), the
 * same correctly rounded result, errno ERANGE on overflow and underflow;
 * errno ENOMEM and no conversion (*end = s) if the C locale object cannot
 * be made.
 *
 * hrservo_snprintf_c() and hrservo_vsnprintf_c() are snprintf() and
 * vsnprintf() in the "C" locale (through uselocale(), so other threads are
 * not affected); -1 with errno ENOMEM if the C locale cannot be made.
 *
 * hrservo_scan_decimal() is the length of the plain decimal number at @s:
 * [+-] DIGITS [. DIGITS] (at least one digit; ".5" and "5." count), then,
 * if @exponent, an optional e/E [+-] DIGITS; 0 if there is none. No white
 * space, "inf", "nan" or hex.
 */
HRSERVO_HIDDEN double hrservo_strtod_c(const char *s, char **end);
HRSERVO_HIDDEN int hrservo_vsnprintf_c(char *buf, size_t size,
				       const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
HRSERVO_HIDDEN int hrservo_snprintf_c(char *buf, size_t size,
				      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
HRSERVO_HIDDEN size_t hrservo_scan_decimal(const char *s, bool exponent);

#endif
