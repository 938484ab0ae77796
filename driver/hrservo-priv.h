/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hrservo core internals, shared by the files of hrservo.ko. Backends use
 * hrservo-core.h only.
 */
#ifndef _HRSERVO_PRIV_H
#define _HRSERVO_PRIV_H

#include <linux/cdev.h>
#include <linux/irq_work.h>
#include <linux/kfifo.h>
#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "hrservo-core.h"

/**
 * struct hrservo_quota - trajectory memory charged to one open file
 * @ref: held by the file and by each of its queued segments
 * @bytes: memory of the queued segments; under the controller's lock
 */
struct hrservo_quota {
	refcount_t ref;
	u32 bytes;
};

/**
 * struct hrservo_seg - a queued trajectory segment
 * @node: in hrservo_player.queue or .garbage
 * @start_ns: absolute start
 * @duration_ns: the polynomial's time scale
 * @end_ns: where the segment ends: start + duration, or a splice time
 * @mask: its axes
 * @flags: HRSERVO_SEG_*
 * @bytes: memory charged to @quota
 * @quota: the submitting file's quota
 * @coef: six coefficients per axis of @mask, axes in increasing order
 */
struct hrservo_seg {
	struct list_head node;
	u64 start_ns;
	u64 duration_ns;
	u64 end_ns;
	u64 mask;
	u32 flags;
	u32 bytes;
	struct hrservo_quota *quota;
	s64 coef[][6];
};

/**
 * struct hrservo_player - the trajectory player of a controller
 * @queue: segments to play, in order; the first may be playing
 * @garbage: played or dropped segments, freed by @work
 * @state: HRSERVO_TRAJ_*
 * @index: index of the first segment of @queue since the start
 * @axes: axes of the queued segments and of the trajectory's past ones;
 *	direct targets for them are refused until it ends or is stopped
 * @held: trajectory axes the limits held back in the last frame
 * @bytes: memory of every queued segment, of all files
 * @ev_pending: events to raise: bit N for event type N
 * @ev_mask: channel mask of the pending clamp event
 * @ev_axes: channel mask of the pending done/underrun event
 * @irq_work: hands events and garbage from the frame clock to @work
 * @work: frees garbage and raises events, in process context
 *
 * Every field but @irq_work and @work is under the controller's lock.
 */
struct hrservo_player {
	struct list_head queue;
	struct list_head garbage;
	u32 state;
	u64 index;
	u64 axes;
	u64 held;
	u32 bytes;
	u32 ev_pending;
	u64 ev_mask;
	u64 ev_axes;
	struct irq_work irq_work;
	struct work_struct work;
};

/**
 * struct hrservo_channel - state of one channel
 * @target_ns: last target given, 0 if none yet
 * @pulse_ns: pulse width in effect in the current frame, 0 for none
 * @enabled: emit pulses from the next frame on
 * @max_speed: speed limit in ns/s, 0 for none
 * @max_accel: acceleration limit in ns/s^2, 0 for none
 * @motion: emitted position and speed, for the speed and acceleration limits
 * @vmax_frame: @max_speed per frame at the current period (1/65536 ns)
 * @amax_frame: @max_accel per frame squared at the current period
 *
 * All fields are protected by the owning controller's lock.
 */
struct hrservo_channel {
	u32 target_ns;
	u32 pulse_ns;
	bool enabled;
	u32 max_speed;
	u32 max_accel;
	struct hrservo_motion motion;
	s64 vmax_frame;
	s64 amax_frame;
};

/**
 * struct hrservo_ch_attr - a sysfs attribute of one channel
 * @attr: the device attribute
 * @ch: channel index
 */
struct hrservo_ch_attr {
	struct device_attribute attr;
	unsigned int ch;
};

#define HRSERVO_CH_ATTRS	7

/**
 * struct hrservo_ctrl - one servo controller
 * @dev: the class device, hrservoN; its refcount keeps this struct alive
 * @cdev: the character device /dev/hrservoN
 * @id: N in hrservoN; constant
 * @nchannels: number of channels; constant
 * @backend: backend name; constant after registration
 * @ops: backend operations; constant after registration
 * @resolution_ns: backend's pulse quantisation, if it has no resolution op;
 *	constant after registration
 * @priv: backend private data, allocated with the controller
 * @groups: sysfs groups, NULL-terminated: the controller's, then one per
 *	channel; built at registration, freed at release, like the next three
 * @ch_groups: the channelN groups
 * @ch_attr_ptrs: NULL-terminated attribute lists of @ch_groups
 * @ch_attrs: the channel attributes
 * @traj: the trajectory player, see struct hrservo_player
 * @ev_lock: protects @files and the event queues of the files in it;
 *	events are raised from process context only
 * @files: open files (struct hrservo_file), to queue events to
 * @ev_wait: readers and pollers of events
 * @lock: protects every field below it
 * @dead: the backend is gone; every user request fails with -ENODEV
 * @running: the backend's frame clock is armed
 * @period_min_ns: backend's lowest frame period
 * @period_max_ns: backend's highest frame period
 * @period_ns: frame period of the current frame
 * @next_period_ns: frame period from the next frame on
 * @frame_seq: number of frames begun since registration
 * @frames_missed: frames the backend could not emit on time
 * @frame_start_ns: scheduled start of the current frame
 * @rates_stale: speed/acceleration limits changed; recompute the per-frame
 *	rates at the next frame
 * @lim: pulse limits, one per channel
 * @ch: channel state, one per channel
 */
struct hrservo_ctrl {
	struct device dev;
	struct cdev cdev;
	int id;
	unsigned int nchannels;
	char backend[HRSERVO_NAME_SIZE];
	const struct hrservo_ops *ops;
	u32 resolution_ns;
	void *priv;
	const struct attribute_group **groups;
	struct attribute_group *ch_groups;
	struct attribute **ch_attr_ptrs;
	struct hrservo_ch_attr *ch_attrs;

	struct hrservo_player traj;

	spinlock_t ev_lock; /* protects files and their event queues */
	struct list_head files;
	wait_queue_head_t ev_wait;

	raw_spinlock_t lock;
	bool dead;
	bool running;
	u32 period_min_ns;
	u32 period_max_ns;
	u32 period_ns;
	u32 next_period_ns;
	u64 frame_seq;
	u64 frames_missed;
	u64 frame_start_ns;
	bool rates_stale;
	struct hrservo_chan_limits *lim;
	struct hrservo_channel *ch;
};

/**
 * struct hrservo_file - an open /dev/hrservoN
 * @ctrl: the controller; the file holds a reference to its device
 * @node: entry in ctrl->files, under ctrl->ev_lock
 * @events: events not read yet, under ctrl->ev_lock
 * @seq: number of events raised for this file, under ctrl->ev_lock
 * @quota: trajectory memory of this file; outlives the file while its
 *	segments are queued
 */
struct hrservo_file {
	struct hrservo_ctrl *ctrl;
	struct list_head node;
	DECLARE_KFIFO(events, struct hrservo_event, HRSERVO_EVENT_QUEUE);
	u32 seq;
	struct hrservo_quota *quota;
};

#define HRSERVO_MINORS		256
/* Head start given to the first frame after the clock was idle. */
#define HRSERVO_START_LEAD_NS	(100 * NSEC_PER_USEC)

void hrservo_emit(struct hrservo_ctrl *ctrl, u32 type, u64 mask, u32 value);
void hrservo_kick_locked(struct hrservo_ctrl *ctrl);

void hrservo_traj_init(struct hrservo_ctrl *ctrl);
void hrservo_traj_shutdown(struct hrservo_ctrl *ctrl);
void hrservo_traj_frame(struct hrservo_ctrl *ctrl, u64 t_ns);
bool hrservo_traj_owns(struct hrservo_ctrl *ctrl, unsigned int c);
bool hrservo_traj_active(struct hrservo_ctrl *ctrl);
void hrservo_traj_clamped(struct hrservo_ctrl *ctrl, u64 held);
int hrservo_traj_open(struct hrservo_file *f);
void hrservo_traj_release(struct hrservo_file *f);
long hrservo_traj_ioctl(struct hrservo_file *f, unsigned int cmd,
			void __user *arg);

#endif /* _HRSERVO_PRIV_H */
