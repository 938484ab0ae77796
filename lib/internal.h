/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhrservo internals: the backend interface and the objects behind the
 * opaque types of hrservo.h. Nothing here is part of the API.
 */
#ifndef HRSERVO_INTERNAL_H
#define HRSERVO_INTERNAL_H

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
	int (*traj_stop)(struct hrservo *h);
	int (*event_fd)(struct hrservo *h);
	int (*read_event)(struct hrservo *h, struct hrservo_event_data *ev,
			  int timeout_ms);
};

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
HRSERVO_HIDDEN int hrservo_value_time_ns(const struct hrservo_value *v,
					 double *ns);

#endif
