/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hrservo - user ABI of the hrservo servo controller driver
 *
 * This header is the one ABI between the kernel driver and userspace. It is
 * included by the driver and by libhrservo; no struct is defined twice.
 *
 * Rules (see Documentation/hrservo.rst):
 *  - every struct has a fixed size and explicit widths;
 *  - every "padding" and "reserved" field, and every undefined flag bit, must
 *    be zero on input, otherwise the ioctl fails with -EINVAL, so that the
 *    fields can be given a meaning later without a new ioctl number;
 *  - arrays are passed as a __u64 user address plus a count;
 *  - pulse widths and periods are in nanoseconds (*_ns), times are
 *    CLOCK_MONOTONIC nanoseconds.
 */
#ifndef _UAPI_LINUX_HRSERVO_H
#define _UAPI_LINUX_HRSERVO_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Bumped when the ABI grows or changes; userspace may check it against its
 * own. 3 changed the meaning of an APPEND with flags 0: it must start where
 * its axes are and be continuous (else -EDOM); %HRSERVO_TRAJ_JUMP asks for
 * what version 2 did. 4 added the watchdog, the e-stop latch and the frame
 * record (%HRSERVO_IOC_WATCHDOG, %HRSERVO_IOC_KEEPALIVE, %HRSERVO_IOC_ESTOP,
 * %HRSERVO_IOC_GET_FRAMES); a target or trajectory refused because the
 * e-stop is latched gets -EPERM.
 */
#define HRSERVO_ABI_VERSION	4

/* Maximum number of channels of one controller (bitmasks are __u64). */
#define HRSERVO_CHANNELS_MAX	64

/* Size of the name strings, including the terminating NUL. */
#define HRSERVO_NAME_SIZE	32

/**
 * struct hrservo_info - controller information, from %HRSERVO_IOC_GET_INFO
 * @name: controller name (the device name, e.g. "hrservo0"), NUL-terminated
 * @backend: backend driver name (e.g. "hrservo-gpio"), NUL-terminated
 * @abi_version: %HRSERVO_ABI_VERSION of the running driver
 * @channels: number of channels, 1..%HRSERVO_CHANNELS_MAX
 * @frame_period_ns: current frame period (pulse repetition interval)
 * @frame_period_min_ns: smallest frame period the backend accepts
 * @frame_period_max_ns: largest frame period the backend accepts
 * @pulse_min_ns: smallest pulse width any channel limit may allow
 * @pulse_max_ns: largest pulse width any channel limit may allow at the
 *	current frame period
 * @resolution_ns: pulse width quantisation of the backend (1 = exact ns)
 * @flags: reserved for capability flags, zero for now
 * @reserved: zero
 */
struct hrservo_info {
	char name[HRSERVO_NAME_SIZE];
	char backend[HRSERVO_NAME_SIZE];
	__u32 abi_version;
	__u32 channels;
	__u32 frame_period_ns;
	__u32 frame_period_min_ns;
	__u32 frame_period_max_ns;
	__u32 pulse_min_ns;
	__u32 pulse_max_ns;
	__u32 resolution_ns;
	__u32 flags;
	__u32 reserved[7];
};

/**
 * struct hrservo_target - one element of a target batch
 * @channel: channel index, 0..channels-1
 * @pulse_ns: pulse width to emit from the next frame on (a backend that does
 *	a frame's work ahead of its start, as hrservo-gpio does lead_ns
 *	before, takes it from the frame after when the change comes within
 *	that lead)
 */
struct hrservo_target {
	__u32 channel;
	__u32 pulse_ns;
};

/**
 * struct hrservo_targets - an atomic batch of targets, %HRSERVO_IOC_SET_TARGETS
 * @targets: user address of an array of @count struct hrservo_target
 * @count: number of elements, 1..channels; each channel at most once
 * @flags: zero
 * @padding: zero
 *
 * Either every target is applied, at the same frame boundary, or none is.
 */
struct hrservo_targets {
	__u64 targets;
	__u32 count;
	__u32 flags;
	__u32 padding[4];
};

/* struct hrservo_channel_state.flags */
#define HRSERVO_STATE_ENABLED	_BITUL(0)	/* has a target; pulses run */
#define HRSERVO_STATE_ACTIVE	_BITUL(1)	/* a pulse is in this frame */

/**
 * struct hrservo_channel_state - state of one channel
 * @channel: channel index
 * @flags: %HRSERVO_STATE_* bits
 * @target_ns: last target given (0 if never given one)
 * @pulse_ns: pulse width in effect in the current frame (0 = no pulse)
 * @min_ns: lower pulse limit of the channel
 * @max_ns: upper pulse limit of the channel
 * @reserved: zero
 */
struct hrservo_channel_state {
	__u32 channel;
	__u32 flags;
	__u32 target_ns;
	__u32 pulse_ns;
	__u32 min_ns;
	__u32 max_ns;
	__u32 reserved[2];
};

/**
 * struct hrservo_state_req - read channel state, %HRSERVO_IOC_GET_STATE
 * @states: user address of an array of @count struct hrservo_channel_state,
 *	filled by the kernel for channels @first..@first+@count-1
 * @first: first channel
 * @count: number of channels, 1..channels-@first
 * @padding: zero
 */
struct hrservo_state_req {
	__u64 states;
	__u32 first;
	__u32 count;
	__u32 padding[4];
};

/**
 * struct hrservo_release - stop pulses, %HRSERVO_IOC_RELEASE
 * @mask: bit N set releases channel N; bits at or above channels must be 0
 * @flags: zero
 * @padding: zero
 *
 * A released channel finishes the pulse in progress, if any, and emits no
 * pulse from the next frame on. Releasing a released channel is not an error.
 */
struct hrservo_release {
	__u64 mask;
	__u32 flags;
	__u32 padding[5];
};

/**
 * struct hrservo_limits - pulse limits of one channel
 * @channel: channel index
 * @min_ns: lowest pulse width, >= hrservo_info.pulse_min_ns
 * @max_ns: highest pulse width, > @min_ns, <= hrservo_info.pulse_max_ns
 * @flags: zero
 * @max_speed_ns_per_s: fastest change of the pulse width, in ns per second;
 *	0 for no limit
 * @max_accel_ns_per_s2: fastest change of that speed, in ns per second
 *	squared; 0 for no limit
 * @reserved: zero
 *
 * Set with %HRSERVO_IOC_SET_LIMITS; read with %HRSERVO_IOC_GET_LIMITS, for
 * which only @channel is input. With a speed or acceleration limit, a new
 * target is approached gradually, frame by frame, as a Pololu Maestro does.
 */
struct hrservo_limits {
	__u32 channel;
	__u32 min_ns;
	__u32 max_ns;
	__u32 flags;
	__u32 max_speed_ns_per_s;
	__u32 max_accel_ns_per_s2;
	__u32 reserved[2];
};

/* struct hrservo_event.type */
#define HRSERVO_EVENT_STATE	1	/* targets, releases or limits of @mask changed */
#define HRSERVO_EVENT_PERIOD	2	/* frame period changed to @value ns */
#define HRSERVO_EVENT_REMOVED	3	/* controller removed; the last event */

/**
 * struct hrservo_event - one event, read() from /dev/hrservoN
 * @timestamp_ns: CLOCK_MONOTONIC time of the event
 * @mask: channels concerned (bit N = channel N), 0 if none
 * @type: %HRSERVO_EVENT_*
 * @value: type-specific value, see the types
 * @seq: sequence number of the event for this open file, from 1; a gap
 *	means that events were lost because the file's queue was full
 * @reserved: zero
 *
 * Every open file has its own queue of %HRSERVO_EVENT_QUEUE events. read()
 * returns whole events only (a buffer smaller than one event: -EINVAL),
 * blocks unless O_NONBLOCK (then -EAGAIN), and returns 0 once the controller
 * is removed and the queue is empty. poll() reports EPOLLIN while events are
 * queued and EPOLLHUP | EPOLLERR after removal. Unknown types must be
 * ignored: new ones will be added.
 */
struct hrservo_event {
	__u64 timestamp_ns;
	__u64 mask;
	__u32 type;
	__u32 value;
	__u32 seq;
	__u32 reserved[3];
};

#define HRSERVO_EVENT_TRAJ_DONE	4	/* the trajectory played its last segment */
#define HRSERVO_EVENT_TRAJ_UNDERRUN	5	/* the queue ran dry; @mask axes hold */
#define HRSERVO_EVENT_CLAMP	6	/* limits held @mask axes off the trajectory */
/*
 * The hardware did not take the new pulse widths of @mask (a bus error);
 * @value is the positive errno. The backend retries at the next frame.
 */
#define HRSERVO_EVENT_FAULT	7
/*
 * Released channels @mask left the trajectory for good: its queued segments
 * no longer move them. When no trajectory axis is left the whole queue is
 * dropped and @value counts its segments; otherwise @value is 0, and the
 * segments left without an axis are skipped as their turn comes.
 */
#define HRSERVO_EVENT_TRAJ_DROPPED	8

/*
 * A watchdog ran its failsafe: @value is %HRSERVO_WD_EXPIRED (no keep-alive
 * in time) or %HRSERVO_WD_CLOSED (its arming file was closed); @mask is the
 * channels that had a pulse then.
 */
#define HRSERVO_EVENT_WATCHDOG	9
/*
 * The e-stop latch was tripped (@value is the %HRSERVO_ESTOP_SRC_* that
 * tripped it; @mask the channels that had a pulse then) or cleared
 * (@value 0, @mask 0).
 */
#define HRSERVO_EVENT_ESTOP	10

/* hrservo_event.value of %HRSERVO_EVENT_WATCHDOG */
#define HRSERVO_WD_EXPIRED	1
#define HRSERVO_WD_CLOSED	2

/* Events queued per open file; more are dropped (see hrservo_event.seq). */
#define HRSERVO_EVENT_QUEUE	64

/* struct hrservo_segment.flags */
#define HRSERVO_SEG_LAST	_BITUL(0)	/* the trajectory ends here */

/**
 * struct hrservo_segment - one timed segment of a trajectory
 * @duration_ns: length, %HRSERVO_SEG_MIN_NS .. %HRSERVO_SEG_MAX_NS
 * @mask: the axes (channels) the segment moves; at least one
 * @flags: %HRSERVO_SEG_* bits
 * @padding: zero
 *
 * For t in [start, start + @duration_ns), every axis in @mask is at
 * p(u) = c0 + c1 u + c2 u^2 + c3 u^3 + c4 u^4 + c5 u^5 with
 * u = (t - start) / @duration_ns in [0, 1), the c_k in 1/65536 ns. A
 * segment starts where the one before it ends. At its end its axes are at
 * p(1) until a segment moves them again.
 */
struct hrservo_segment {
	__u64 duration_ns;
	__u64 mask;
	__u32 flags;
	__u32 padding[3];
};

/*
 * Shortest segment: 1 ms. The player retires the segments that end in a
 * frame at that frame's start, in hard interrupt context; with this bound a
 * frame of at most 50 ms ends at most 51 of them, so the work per frame is
 * bounded whatever a user submits.
 */
#define HRSERVO_SEG_MIN_NS	1000000ULL
/* Longest segment: 60 s. */
#define HRSERVO_SEG_MAX_NS	60000000000ULL

/* struct hrservo_traj.mode */
#define HRSERVO_TRAJ_APPEND	0	/* queue after the last segment */
#define HRSERVO_TRAJ_REPLACE	1	/* splice in at @at_ns */

/**
 * struct hrservo_traj - queue segments, %HRSERVO_IOC_TRAJ_SUBMIT
 * @segments: user address of @count struct hrservo_segment
 * @coefs: user address of @ncoefs __s64: for each segment in turn, for
 *	each axis of its mask in increasing order, c0..c5
 * @at_ns: APPEND to an idle controller: when to start (CLOCK_MONOTONIC),
 *	0 for the next frame; APPEND while playing: 0. REPLACE: the splice
 *	time, 0 for the next frame; what was queued from then on is dropped,
 *	and the new segments must start where the old ones are then (within
 *	%HRSERVO_SPLICE_TOL_NS)
 * @count: number of segments, 1..%HRSERVO_TRAJ_SUBMIT_MAX
 * @ncoefs: 6 times the number of axes of all segments
 * @mode: %HRSERVO_TRAJ_APPEND or %HRSERVO_TRAJ_REPLACE
 * @flags: 0, or %HRSERVO_TRAJ_JUMP
 * @padding: zero
 *
 * APPEND must be continuous: on every axis, the first segment starts where
 * the queue leaves that axis, or where the axis is when nothing queued moves
 * it (its last target), within %HRSERVO_SPLICE_TOL_NS; -EDOM otherwise, and
 * for an axis with no position (never set, or released). %HRSERVO_TRAJ_JUMP
 * lifts that check: the axes jump to the first segment's start. REPLACE
 * never jumps (-EINVAL with %HRSERVO_TRAJ_JUMP).
 *
 * Every segment is checked before any is queued. Segments use kernel
 * memory that counts against the submitting file, at most
 * %HRSERVO_TRAJ_FILE_BYTES, and against the controller, at most
 * %HRSERVO_TRAJ_CTRL_BYTES (-ENOSPC beyond either); it is given back as they
 * are played. Playback goes on if the file is closed.
 */
struct hrservo_traj {
	__u64 segments;
	__u64 coefs;
	__u64 at_ns;
	__u32 count;
	__u32 ncoefs;
	__u32 mode;
	__u32 flags;
	__u32 padding[4];
};

/* struct hrservo_traj.flags */
#define HRSERVO_TRAJ_JUMP	_BITUL(0)	/* APPEND may start anywhere */

#define HRSERVO_TRAJ_SUBMIT_MAX		1024
#define HRSERVO_TRAJ_FILE_BYTES		(256 * 1024)
/* ...and all the files of one controller together at most this. */
#define HRSERVO_TRAJ_CTRL_BYTES		(4 * 1024 * 1024)
#define HRSERVO_SPLICE_TOL_NS		1000

/* struct hrservo_traj_status.state */
#define HRSERVO_TRAJ_IDLE	0	/* nothing queued */
#define HRSERVO_TRAJ_WAITING	1	/* queued, starts later */
#define HRSERVO_TRAJ_RUNNING	2	/* playing */
#define HRSERVO_TRAJ_UNDERRUN	3	/* ran dry before a last segment; holding */

/**
 * struct hrservo_traj_status - the player, %HRSERVO_IOC_TRAJ_STATUS
 * @segment: index of the playing segment, counted from the start of the
 *	trajectory
 * @time_in_segment_ns: time since that segment started
 * @queued_ns: time from now to the end of the last queued segment
 * @state: %HRSERVO_TRAJ_*
 * @depth: segments queued, the playing one included
 * @file_bytes: kernel memory of this file's queued segments
 * @reserved0: zero
 * @axes: the channels the trajectory owns: direct targets for them get
 *	-EBUSY (ABI version 3; zero before)
 * @reserved: zero
 */
struct hrservo_traj_status {
	__u64 segment;
	__u64 time_in_segment_ns;
	__u64 queued_ns;
	__u32 state;
	__u32 depth;
	__u32 file_bytes;
	__u32 reserved0;
	__u64 axes;
	__u32 reserved[2];
};

/**
 * struct hrservo_traj_stop - stop the trajectory, %HRSERVO_IOC_TRAJ_STOP
 * @flags: zero
 * @padding: zero
 *
 * Drops the queue. Each moving axis decelerates within its acceleration
 * limit (at once if it has none) and holds where it stops.
 */
struct hrservo_traj_stop {
	__u32 flags;
	__u32 padding[7];
};

/* Failsafe actions: struct hrservo_watchdog.action, hrservo_estop.action */
/*
 * Stop where it is: a trajectory stops as %HRSERVO_IOC_TRAJ_STOP stops it,
 * and every channel with a pulse decelerates within its acceleration limit
 * (at once if it has none) and holds where it stops. Whatever the action,
 * a channel given its first target since the last frame boundary, which
 * has emitted nothing yet, is released: it has no position to hold (also
 * one whose first pulse is in a frame begun ahead that has not started).
 * Within a frame's lead (hrservo-gpio's lead_ns) the stop takes effect in
 * the frame after the one begun, which is emitted as begun.
 */
#define HRSERVO_FAILSAFE_HOLD		0
/* Release every channel: no pulse after the one in progress. */
#define HRSERVO_FAILSAFE_RELEASE	1
/*
 * Watchdog only: the trajectory is dropped, the channels of the pose go to
 * it within their speed and acceleration limits (clamped to their pulse
 * limits of the moment) and hold there; the other channels hold. A
 * released channel stays released. With the e-stop latched: as HOLD.
 */
#define HRSERVO_FAILSAFE_POSE		2

/**
 * struct hrservo_watchdog - arm this file's watchdog, %HRSERVO_IOC_WATCHDOG
 * @pose: user address of @npose struct hrservo_target, the safe pose of
 *	%HRSERVO_FAILSAFE_POSE; 0 otherwise
 * @timeout_ms: %HRSERVO_WD_TIMEOUT_MIN_MS .. %HRSERVO_WD_TIMEOUT_MAX_MS;
 *	0 disarms, without running the failsafe
 * @action: %HRSERVO_FAILSAFE_*
 * @npose: POSE: 1..channels elements, each channel at most once, each
 *	within its channel's pulse limits (-ERANGE); otherwise 0
 * @flags: zero
 * @padding: zero
 *
 * Arming (again) starts the timeout anew. From then on every change made
 * through this file that succeeds (%HRSERVO_IOC_SET_TARGETS, _RELEASE,
 * _SET_LIMITS, _TRAJ_SUBMIT, _TRAJ_STOP) and %HRSERVO_IOC_KEEPALIVE restart
 * it; a keep-alive on a file that is not armed fails with -EINVAL. At most
 * %HRSERVO_WD_ARMED_MAX files of a controller are armed at once (-EBUSY).
 * If @timeout_ms pass without one, the failsafe runs on the whole
 * controller, from the timer, and %HRSERVO_EVENT_WATCHDOG is raised;
 * the watchdog stays armed, so the next change or keep-alive starts the
 * timeout anew (and may move the servos again). Closing the file while it
 * is armed runs the failsafe too: closing is what happens when the process
 * dies. Needs a file opened for writing.
 */
struct hrservo_watchdog {
	__u64 pose;
	__u32 timeout_ms;
	__u32 action;
	__u32 npose;
	__u32 flags;
	__u32 padding[4];
};

#define HRSERVO_WD_TIMEOUT_MIN_MS	10
#define HRSERVO_WD_TIMEOUT_MAX_MS	60000
#define HRSERVO_WD_ARMED_MAX		16

/* struct hrservo_estop.op */
#define HRSERVO_ESTOP_GET	0	/* read the latch only */
#define HRSERVO_ESTOP_TRIP	1	/* latch it, with @action */
#define HRSERVO_ESTOP_CLEAR	2	/* clear it; -EBUSY while the input is active */

/* struct hrservo_estop.flags, output */
#define HRSERVO_ESTOP_LATCHED		_BITUL(0)
#define HRSERVO_ESTOP_INPUT		_BITUL(1)	/* has an e-stop input line */
#define HRSERVO_ESTOP_INPUT_ACTIVE	_BITUL(2)	/* ...and it is active now */

/* struct hrservo_estop.source, and @value of %HRSERVO_EVENT_ESTOP */
#define HRSERVO_ESTOP_SRC_USER	1	/* this ioctl or the estop sysfs file */
#define HRSERVO_ESTOP_SRC_INPUT	2	/* the e-stop input line */

/**
 * struct hrservo_estop - the e-stop latch, %HRSERVO_IOC_ESTOP
 * @op: %HRSERVO_ESTOP_GET, _TRIP or _CLEAR
 * @action: TRIP: %HRSERVO_FAILSAFE_HOLD or _RELEASE; otherwise 0
 * @flags: output, %HRSERVO_ESTOP_* bits (ignored on input)
 * @source: output, what tripped the latch last, 0 if never (ignored on
 *	input)
 * @tripped_ns: output, when (CLOCK_MONOTONIC; ignored on input)
 * @padding: zero
 *
 * Tripping runs the failsafe @action on every channel at once, drops the
 * trajectory and latches: from then on every target and trajectory, from
 * any client and sysfs, fails with -EPERM, and a watchdog's POSE failsafe
 * holds instead, until the latch is cleared. Releases, limits, the frame
 * period and reads still work. Tripping a latched controller changes
 * nothing, but for a RELEASE trip of a latch that held, which releases;
 * clearing moves nothing. A CLEAR reads the input line itself. TRIP and
 * CLEAR need a file opened for writing; all three ops return the state
 * after the op.
 */
struct hrservo_estop {
	__u32 op;
	__u32 action;
	__u32 flags;
	__u32 source;
	__u64 tripped_ns;
	__u32 padding[4];
};

/**
 * struct hrservo_frame - one frame as the controller played it
 * @seq: the frame's number, counted from 1 since the controller was
 *	registered (the frame_count sysfs attribute is the last one's)
 * @start_ns: its scheduled start (CLOCK_MONOTONIC)
 * @active: the channels with a pulse in it
 * @period_ns: its period
 * @reserved: zero
 * @pulse_ns: the width of each channel's pulse in it (0: no pulse), as
 *	the hardware emits it (hrservo_channel_state.pulse_ns); channels at
 *	or above the controller's count are 0
 */
struct hrservo_frame {
	__u64 seq;
	__u64 start_ns;
	__u64 active;
	__u32 period_ns;
	__u32 reserved;
	__u32 pulse_ns[HRSERVO_CHANNELS_MAX];
};

/* The controller keeps its last frames, at most this many. */
#define HRSERVO_FRAMES_KEPT	512
/* Frames returned by one %HRSERVO_IOC_GET_FRAMES, at most. */
#define HRSERVO_FRAMES_MAX	64

/**
 * struct hrservo_frames - read played frames, %HRSERVO_IOC_GET_FRAMES
 * @frames: user address of room for @count struct hrservo_frame
 * @seq: the first frame wanted; 0 for the oldest one kept. Frames older
 *	than the oldest kept are gone: the copy starts at the oldest
 * @count: input, 1..%HRSERVO_FRAMES_MAX; output, frames copied (0 when
 *	none newer than @seq - 1 was played yet)
 * @padding: zero
 * @next_seq: output, the @seq to ask for next: one after the last copied,
 *	or @seq when nothing was copied
 * @oldest: output, the oldest frame kept (0: no frame was played yet)
 *
 * @next_seq and @oldest are ignored on input. The frames are copied one
 * at a time, so a frame overwritten during the copy ends it early.
 *
 * The copied frames are consecutive, in order, from max(@seq, @oldest); a
 * reader that asks for next_seq and gets a first frame beyond it lost the
 * frames between. Works on any open file.
 */
struct hrservo_frames {
	__u64 frames;
	__u64 seq;
	__u32 count;
	__u32 padding;
	__u64 next_seq;
	__u64 oldest;
};

/*
 * 0xC3: unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst
 * (0xB7, used until ABI version 1, belongs to remoteproc and nsfs).
 */
#define HRSERVO_IOC_MAGIC	0xC3

#define HRSERVO_IOC_GET_INFO	_IOR(HRSERVO_IOC_MAGIC, 0x00, struct hrservo_info)
#define HRSERVO_IOC_SET_TARGETS	_IOW(HRSERVO_IOC_MAGIC, 0x01, struct hrservo_targets)
#define HRSERVO_IOC_GET_STATE	_IOW(HRSERVO_IOC_MAGIC, 0x02, struct hrservo_state_req)
#define HRSERVO_IOC_RELEASE	_IOW(HRSERVO_IOC_MAGIC, 0x03, struct hrservo_release)
#define HRSERVO_IOC_SET_LIMITS	_IOW(HRSERVO_IOC_MAGIC, 0x04, struct hrservo_limits)
#define HRSERVO_IOC_GET_LIMITS	_IOWR(HRSERVO_IOC_MAGIC, 0x05, struct hrservo_limits)
#define HRSERVO_IOC_TRAJ_SUBMIT	_IOW(HRSERVO_IOC_MAGIC, 0x06, struct hrservo_traj)
#define HRSERVO_IOC_TRAJ_STATUS	_IOR(HRSERVO_IOC_MAGIC, 0x07, struct hrservo_traj_status)
#define HRSERVO_IOC_TRAJ_STOP	_IOW(HRSERVO_IOC_MAGIC, 0x08, struct hrservo_traj_stop)
#define HRSERVO_IOC_WATCHDOG	_IOW(HRSERVO_IOC_MAGIC, 0x09, struct hrservo_watchdog)
#define HRSERVO_IOC_KEEPALIVE	_IO(HRSERVO_IOC_MAGIC, 0x0A)
#define HRSERVO_IOC_ESTOP	_IOWR(HRSERVO_IOC_MAGIC, 0x0B, struct hrservo_estop)
#define HRSERVO_IOC_GET_FRAMES	_IOWR(HRSERVO_IOC_MAGIC, 0x0C, struct hrservo_frames)

#endif /* _UAPI_LINUX_HRSERVO_H */
