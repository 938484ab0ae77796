/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hrservo core internals, shared by the files of hrservo.ko. Backends use
 * hrservo-core.h only.
 */
#ifndef _HRSERVO_PRIV_H
#define _HRSERVO_PRIV_H

#include <linux/cdev.h>
#include <linux/hrtimer.h>
#include <linux/kfifo.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "hrservo-core.h"

/**
 * struct hrservo_quota - trajectory memory charged to one open file
 * @ref: held by the file and by each of its segments until they are freed
 * @bytes: memory of the file's segments not freed yet; under the player's
 *	mutex
 */
struct hrservo_quota {
	refcount_t ref;
	u32 bytes;
};

/**
 * struct hrservo_batch - what the segments of one submission share
 * @ref: one per segment not freed yet
 * @start_ns: absolute start of the first segment
 * @idx: idx of the first segment (see hrservo_player.next_idx)
 * @gen: submission number; an axis released after it was queued is no
 *	longer moved by its segments (see hrservo_player.rel_gen)
 *
 * Set when the submission is queued, in O(1) under the controller's lock,
 * whatever the number of segments; constant afterwards.
 */
struct hrservo_batch {
	refcount_t ref;
	u64 start_ns;
	u64 idx;
	u64 gen;
};

/**
 * struct hrservo_seg - a queued trajectory segment
 * @node: in hrservo_player.queue
 * @batch: its submission's start, index and number
 * @off_ns: its start, from the batch's start
 * @end_off_ns: its end, from the batch's start: the start plus the
 *	duration, or a splice time
 * @dur: the polynomial's time scale, the duration, prepared for division so
 *	that the frame clock never divides
 * @pos: its position in the batch
 * @mask: its axes
 * @flags: HRSERVO_SEG_*
 * @bytes: memory charged to @quota
 * @quota: the submitting file's quota
 * @coef: six coefficients per axis of @mask, axes in increasing order
 *
 * Every field but @node, @end_off_ns and @flags is constant once queued;
 * those change only under the player's mutex and the controller's lock (a
 * splice cuts the segment short and clears %HRSERVO_SEG_LAST).
 */
struct hrservo_seg {
	struct list_head node;
	struct hrservo_batch *batch;
	u64 off_ns;
	u64 end_off_ns;
	struct hrservo_div dur;
	u32 pos;
	u32 flags;
	u64 mask;
	u32 bytes;
	struct hrservo_quota *quota;
	s64 coef[][6];
};

/**
 * struct hrservo_player - the trajectory player of a controller
 * @mutex: serialises the changes of @queue's links (append, splice,
 *	collect), of @next_idx and of @gen; they are written under @mutex and
 *	the controller's lock, and read under either. Taken before the
 *	controller's lock, never while user memory is copied. The frame clock
 *	never changes a link: it only moves @head, so a holder of @mutex may
 *	walk the queue without the controller's lock.
 * @queue: the segments, in time order: those before @head (or all, when
 *	@head is NULL) have ended or were dropped and wait to be collected
 *	and freed; @head and the ones after it are to play
 * @head: the first segment to play (it may be playing), or NULL
 * @next_idx: idx of the next segment queued; depth = @next_idx - @head->idx
 * @gen: number of submissions so far
 * @rel_gen: per channel, @gen when the channel was last released
 * @state: HRSERVO_TRAJ_*
 * @first_idx: idx of the trajectory's first segment
 * @axes: axes that the queued segments still move, and the trajectory's
 *	past ones; direct targets for them are refused until it ends or is
 *	stopped
 * @held: trajectory axes the limits held back in the last frame
 * @tail: per axis of @tail_mask, where the queued segments leave it (1/65536
 *	ns): an APPEND starts there
 * @tail_mask: the axes of @tail; meaningful while @head is not NULL
 * @bytes: memory of every segment not freed yet, of all files; under @mutex
 * @ev_pending: events to raise: bit N for event type N
 * @ev_mask: channel mask of the pending clamp event
 * @ev_axes: channel mask of the pending done/underrun event
 * @ev_dropped: axes released out of the trajectory, for the pending
 *	%HRSERVO_EVENT_TRAJ_DROPPED event
 * @ev_nseg: segments dropped with them
 * @work: collects and frees ended segments and raises events, in process
 *	context; queued from the frame clock too
 *
 * Every field but @mutex, @queue's links, @bytes and @work is under the
 * controller's lock; every request does a bounded amount of work under it.
 */
struct hrservo_player {
	struct mutex mutex;	/* see the kernel-doc above */
	struct list_head queue;
	struct hrservo_seg *head;
	u64 next_idx;
	u64 gen;
	u64 rel_gen[HRSERVO_CHANNELS_MAX];
	u32 state;
	u64 first_idx;
	u64 axes;
	u64 held;
	s64 tail[HRSERVO_CHANNELS_MAX];
	u64 tail_mask;
	u32 bytes;
	u32 ev_pending;
	u64 ev_mask;
	u64 ev_axes;
	u64 ev_dropped;
	u64 ev_nseg;
	struct work_struct work;
};

/**
 * struct hrservo_channel - state of one channel
 * @target_ns: last target given, 0 if none yet
 * @pulse_ns: pulse width in effect in the current frame, 0 for none
 * @enabled: emit pulses from the next frame on
 * @max_speed: speed limit in ns/s, 0 for none; written under the
 *	controller's cfg_lock and lock, read under either
 * @max_accel: acceleration limit in ns/s^2, 0 for none; as @max_speed
 * @motion: emitted position and speed, for the speed and acceleration limits
 * @vmax_frame: @max_speed per frame at the controller's next_period_ns
 *	(1/65536 ns); computed in process context, never by the frame clock
 * @amax_frame: @max_accel per frame squared at next_period_ns
 * @brake: twice @amax_frame in ns, prepared for hrservo_brake_dist(), so
 *	that a failsafe in hard interrupt context does not divide; computed
 *	with @amax_frame
 *
 * All other fields are protected by the owning controller's lock.
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
	struct hrservo_div brake;
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

#define HRSERVO_CH_ATTRS	8

/**
 * struct hrservo_safety_ev - a watchdog or e-stop event not raised yet
 * @type: %HRSERVO_EVENT_WATCHDOG or %HRSERVO_EVENT_ESTOP
 * @value: its value
 * @mask: its channels
 */
struct hrservo_safety_ev {
	u32 type;
	u32 value;
	u64 mask;
};

/* Safety events waiting for process context; more are merged. */
#define HRSERVO_SAFETY_EVQ	8

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
 *	taken in process context only, so interrupts stay on while an event
 *	is queued to every open file
 * @files: open files (struct hrservo_file), to queue events to
 * @nfiles: number of @files, at most %HRSERVO_FILES_MAX; under @ev_lock
 * @ev_wait: readers and pollers of events
 * @cfg_lock: serialises changes of the limits and of the frame period, so
 *	that the per-frame rates can be computed outside @lock
 * @sev_lock: serialises raising the safety events, so that they reach the
 *	files in the order they happened
 * @sev_work: raises the safety events queued in hard interrupt context
 * @estop_lock: protects @estop_gpio against its release, for process
 *	context reads of the line
 * @estop_gpio: the e-stop input line, or NULL; set before registration,
 *	cleared under @estop_lock before the line is given back
 * @lock: protects every field below it
 * @dead: the backend is gone; every user request fails with -ENODEV
 * @running: the backend's frame clock is armed
 * @period_min_ns: backend's lowest frame period
 * @period_max_ns: backend's highest frame period
 * @period_ns: frame period of the current frame
 * @next_period_ns: frame period from the next frame on
 * @frame_seq: number of frames begun since registration
 * @frames_missed: frames the backend could not emit on time
 * @frame_start_ns: scheduled start of the current frame, or of the next
 *	one once a backend that prepares frames ahead has begun it
 * @released: channels released (by a user, a failsafe or removal) since
 *	the last hrservo_frame_begin(), for hrservo_frame_rise(); written
 *	with WRITE_ONCE() (hrservo_disable_locked()), read locklessly there,
 *	where a value torn on 32-bit is a subset of the bits set meanwhile
 * @begins_ahead: the backend begins frames ahead (struct hrservo_desc);
 *	set before registration, read-only after
 * @begun_ahead: the newest frame (@frame_seq) has pulses and is begun, and
 *	has not started yet (@begins_ahead): the record, the frame count and
 *	the channels' pulses show the frame before it. Written with
 *	WRITE_ONCE(), by hrservo_frame_rise() also without the lock: read it
 *	once, with READ_ONCE()
 * @fresh: the channels whose first pulse since they were enabled is in
 *	the newest frame; while @begun_ahead, a failsafe releases them
 * @estop: the e-stop latch is set: targets and trajectories get -EPERM
 * @estop_source: HRSERVO_ESTOP_SRC_* of the last trip, 0 if never
 * @estop_ns: when the latch was last tripped
 * @estop_applied: the failsafe the latch applied: a later RELEASE trip of a
 *	latch that held releases
 * @estop_action: failsafe of the e-stop input and of the estop sysfs file
 * @estop_input: the controller has an e-stop input line
 * @estop_input_active: that line is active (the button is pressed)
 * @wd_armed: open files with an armed watchdog
 * @wd_fired: failsafes run by watchdogs (expired or closed armed)
 * @sev: safety events to raise, oldest first, @sev_n of them
 * @sev_n: number of @sev
 * @sev_lost: safety events lost to a full @sev, to count in the files'
 *	sequence numbers
 * @rec_start: per kept frame, its scheduled start (HRSERVO_FRAMES_KEPT)
 * @rec_period: per kept frame, its period
 * @rec_pulse: per kept frame, the channels' widths; frame seq is at
 *	index seq % HRSERVO_FRAMES_KEPT of the three
 * @labels: per channel, the label of its firmware node ("" for none), or
 *	NULL if no channel has one; written before registration, read-only
 *	after
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
	unsigned int nfiles;
	wait_queue_head_t ev_wait;
	struct mutex cfg_lock;	/* serialises limit and period changes */
	struct mutex sev_lock;	/* serialises raising safety events */
	struct work_struct sev_work;
	struct mutex estop_lock;	/* protects estop_gpio's lifetime */
	struct gpio_desc *estop_gpio;

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
	u64 released;
	bool begins_ahead;
	bool begun_ahead;
	u64 fresh;
	bool estop;
	u32 estop_source;
	u64 estop_ns;
	u32 estop_applied;
	u32 estop_action;
	bool estop_input;
	bool estop_input_active;
	unsigned int wd_armed;
	u64 wd_fired;
	struct hrservo_safety_ev sev[HRSERVO_SAFETY_EVQ];
	unsigned int sev_n;
	u32 sev_lost;
	u64 *rec_start;
	u32 *rec_period;
	u32 *rec_pulse;
	char (*labels)[HRSERVO_LABEL_MAX];
	struct hrservo_chan_limits *lim;
	struct hrservo_channel *ch;
};

/**
 * struct hrservo_wd - the watchdog of an open file
 * @lock: makes changing the fields and starting or cancelling @timer one
 *	step, for threads sharing the file
 * @timer: expires when no keep-alive came in time; hard interrupt context
 * @timeout_ms: 0 while disarmed
 * @action: HRSERVO_FAILSAFE_*
 * @pose_mask: the channels of the pose
 * @pose_ns: the pose, per channel of @pose_mask
 *
 * The fields but @timer are under the controller's lock, which the timer
 * takes; the timer is started and cancelled outside it.
 */
struct hrservo_wd {
	struct mutex lock;	/* see the kernel-doc above */
	struct hrtimer timer;
	u32 timeout_ms;
	u32 action;
	u64 pose_mask;
	u32 pose_ns[HRSERVO_CHANNELS_MAX];
};

/**
 * struct hrservo_file - an open /dev/hrservoN
 * @ctrl: the controller; the file holds a reference to its device
 * @node: entry in ctrl->files, under ctrl->ev_lock
 * @events: events not read yet, under ctrl->ev_lock
 * @seq: number of events raised for this file, under ctrl->ev_lock
 * @quota: trajectory memory of this file; outlives the file while its
 *	segments are queued
 * @wd: its watchdog
 */
struct hrservo_file {
	struct hrservo_ctrl *ctrl;
	struct list_head node;
	DECLARE_KFIFO(events, struct hrservo_event, HRSERVO_EVENT_QUEUE);
	u32 seq;
	struct hrservo_quota *quota;
	struct hrservo_wd wd;
};

#define HRSERVO_MINORS		256
/* Open files per controller: bounds the work of raising one event. */
#define HRSERVO_FILES_MAX	1024
/*
 * Armed watchdogs per controller: bounds the failsafes that one timer
 * interrupt can run when they all expire together.
 */
#define HRSERVO_WD_ARMED_MAX	16
/* Head start given to the first frame after the clock was idle. */
#define HRSERVO_START_LEAD_NS	(100 * NSEC_PER_USEC)

void hrservo_emit(struct hrservo_ctrl *ctrl, u32 type, u64 mask, u32 value);
void hrservo_events_lost(struct hrservo_ctrl *ctrl, u32 n);
ssize_t hrservo_counter_show(struct hrservo_ctrl *ctrl, const u64 *v,
			     char *buf);
void hrservo_kick_locked(struct hrservo_ctrl *ctrl);
u64 hrservo_next_frame(struct hrservo_ctrl *ctrl, u64 now);

void hrservo_brake_locked(struct hrservo_ctrl *ctrl, u64 mask);

int hrservo_safety_alloc(struct hrservo_ctrl *ctrl);
void hrservo_safety_free(struct hrservo_ctrl *ctrl);
void hrservo_safety_shutdown(struct hrservo_ctrl *ctrl);
void hrservo_safety_flush(struct hrservo_ctrl *ctrl);
void hrservo_record_locked(struct hrservo_ctrl *ctrl, u64 seq,
			   const u32 *pulse_ns);
void hrservo_disable_locked(struct hrservo_ctrl *ctrl, u64 mask);
u32 hrservo_pulse_locked(struct hrservo_ctrl *ctrl, unsigned int c,
			 bool ahead);
void hrservo_record_drop_locked(struct hrservo_ctrl *ctrl, u64 seq, u64 mask);
void hrservo_wd_open(struct hrservo_file *f);
void hrservo_wd_close(struct hrservo_file *f);
void hrservo_wd_pet(struct hrservo_file *f);
long hrservo_safety_ioctl(struct hrservo_file *f, struct file *file,
			  unsigned int cmd, void __user *arg);
extern const struct attribute_group hrservo_safety_group;

void hrservo_traj_init(struct hrservo_ctrl *ctrl);
void hrservo_traj_drop_locked(struct hrservo_ctrl *ctrl);
void hrservo_traj_release_locked(struct hrservo_ctrl *ctrl, u64 mask);
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
