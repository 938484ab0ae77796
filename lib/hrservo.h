/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhrservo - one C API over every hrservo backend
 *
 * Conventions, for every function unless its comment says otherwise:
 *  - Functions returning int return 0 on success, or -1 with errno set.
 *    Functions returning a pointer return NULL with errno set on failure.
 *  - Objects are opaque. Each object made by a _new or _open function is
 *    owned by the caller and released with the matching _free or _close
 *    function; passing NULL to those is a no-op.
 *  - Strings returned by getters belong to the object they came from and
 *    live as long as it does.
 *  - Pulse widths and periods are in nanoseconds, times are CLOCK_MONOTONIC
 *    nanoseconds.
 *  - A function that changes a controller either applies everything or
 *    nothing.
 *
 * Thread safety: distinct objects may be used from distinct threads; one
 * object must not be used from two threads at once.
 */
#ifndef HRSERVO_H
#define HRSERVO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Predefined empty, the header is plain declarations (a cffi cdef). */
#ifndef HRSERVO_API
#if defined(__GNUC__)
#define HRSERVO_API __attribute__((visibility("default")))
#else
#define HRSERVO_API
#endif
#endif

/*
 * The API version this header describes; see hrservo_api_version().
 * 4: hrservo_value_parse() takes only += and -= as relative (a bare sign
 * is EDOM); joint limits derive from the map's shallowest slope, rounded
 * down, and a bad joint is EINVAL; hrservo_traj_check() also applies the
 * kernel's interval rules (HRSERVO_LIMIT_INTERVAL, channel
 * HRSERVO_MAX_CHANNELS for every axis); uploads must start where the axes
 * are (EDOM; HRSERVO_UPLOAD_JUMP), and can fail with EINTR and ECANCELED;
 * new: hrservo_traj_lead_in(), hrservo_traj_owned(), hrservo_calib_apply(),
 * hrservo_set_limits_all().
 * 5: the watchdog, the e-stop latch and the frame record
 * (hrservo_watchdog_arm(), hrservo_keepalive(), hrservo_estop_get(),
 * hrservo_estop_trip(), hrservo_estop_clear(), hrservo_read_frames(),
 * HRSERVO_EV_WATCHDOG, HRSERVO_EV_ESTOP); targets and trajectories fail
 * with EPERM while the e-stop is latched; a trajectory file may carry its
 * interpolation ("# interp: linear"), read by hrservo_traj_interp();
 * teleoperation: stick shaping (hrservo_shape(), hrservo_axis_norm(),
 * hrservo_rate_limit()), the mapping file (hrservo_teleop_map_load()) and
 * the teleop engine (hrservo_teleop_new()...).
 * 6: the backend interface made ready for more backends: hrservo_caps()
 * and HRSERVO_CAP_*; every call needing a capability the controller lacks
 * fails with ENOTSUP (hrservo_get_motion_limits() no longer reads zeros,
 * hrservo_set_frame_period(), hrservo_traj_upload() and the others no
 * longer reach a missing operation); specs are claimed by their form only
 * (a scheme "chardev:", reserved "gpiod:" and "usb:", ENOTSUP), another
 * path is EINVAL. First symbols of node HRSERVO_0.4.
 * 7: the gpiod backend ("gpiod:CHIP:LINES[:OPTIONS]", software PWM from a
 * real-time thread of the library, where libhrservo is built with
 * libgpiod v2), HRSERVO_CAP_RT_TIMING, and hrservo_last_error(): what went
 * wrong, in words, after a failed hrservo_open(); options for opening in
 * an object (hrservo_open_config_new(), hrservo_open_with()). Node
 * HRSERVO_0.5.
 */
#define HRSERVO_API_VERSION		7

/* Most channels a controller can have. */
#define HRSERVO_MAX_CHANNELS		64

/**
 * hrservo_api_version() - API version of the library at run time
 *
 * Return: the library's HRSERVO_API_VERSION; compare it with the one the
 * program was built against.
 */
HRSERVO_API unsigned int hrservo_api_version(void);

/* ---- Finding controllers ---- */

struct hrservo_list;

/**
 * hrservo_list_new() - list the controllers present on the system
 *
 * Every backend lists its own: the kernel driver's from /sys/class/hrservo
 * (or $HRSERVO_SYSFS_CLASS, for tests). No controller present is not an
 * error: the list is then empty.
 *
 * Return: a new list, sorted by name, owned by the caller
 * (hrservo_list_free()), or NULL.
 */
HRSERVO_API struct hrservo_list *hrservo_list_new(void);
/** hrservo_list_free() - release a list made by hrservo_list_new() */
HRSERVO_API void hrservo_list_free(struct hrservo_list *list);
/** hrservo_list_count() - number of controllers in @list */
HRSERVO_API size_t hrservo_list_count(const struct hrservo_list *list);
/**
 * hrservo_list_name() - name of the @index-th controller, e.g. "hrservo0"
 *
 * Return: the name, owned by @list; NULL with errno EINVAL if @index is out
 * of range.
 */
HRSERVO_API const char *hrservo_list_name(const struct hrservo_list *list,
					  size_t index);

/* ---- Controllers ---- */

struct hrservo;

/**
 * hrservo_open() - open a controller
 * @spec: which one, and through which backend:
 *	"N", "hrservoN", "/dev/hrservoN": the kernel driver's controller N;
 *	a symlink to /dev/hrservoN (a udev rule's /dev/servo/arm): a path
 *	whose real path is a character device named hrservoN with the
 *	device number of the hrservo class' hrservoN;
 *	"chardev:SPEC": the kernel driver's, SPEC one of the above or any
 *	path (opened and asked, as an hrservo device, for its info);
 *	"gpiod:CHIP:LINES[:OPTIONS]": software PWM on GPIO lines from a
 *	thread of this library (libgpiod v2; see "The gpiod backend" in
 *	Documentation/libhrservo.rst): CHIP a path ("/dev/gpiochip0"), a
 *	name ("gpiochip0") or a label ("pinctrl-bcm2835"); LINES the
 *	offsets of channel 0, 1, ... ("4,17,27", ranges "0-7"); OPTIONS
 *	comma-separated "prio=N" (SCHED_FIFO priority, 1..99, default
 *	HRSERVO_GPIOD_PRIO) and "no-rt" (no real-time priority, no locked
 *	memory: timing suffers);
 *	"usb:...": reserved for a backend to come.
 *
 * Any other spec (another path such as /dev/gpiochip0 or /dev/ttyACM0, an
 * unknown "scheme:") is claimed by no backend.
 *
 * Return: a new handle owned by the caller (hrservo_close()), or NULL with
 * errno: ENOENT (no such controller), EACCES, EINVAL (no backend claims
 * @spec, or it is malformed), ENOTSUP (a reserved scheme whose backend is
 * not built into this library: "usb:", and "gpiod:" in a library built
 * without libgpiod v2), EPROTO (the driver speaks an ABI this library does
 * not know), EBUSY (a GPIO line is held by another user), EPERM or ENOMEM
 * (gpiod: real-time priority or memory locking refused; the words of
 * hrservo_last_error() name the capability and the rlimit).
 */
HRSERVO_API struct hrservo *hrservo_open(const char *spec);

/*
 * Options for opening a controller (API version 7), in an object of their
 * own so that options can be added without changing a struct's layout:
 * what the spec string does not say. Each option's default leaves it to
 * the controller or the backend. hrservo_open_with() only reads them
 * during the call: free them right after, or share them read-only between
 * threads opening at once.
 */
struct hrservo_open_config;
/* hrservo_open_config_set_rt_priority(): the backend's own priority. */
#define HRSERVO_RT_DEFAULT		(-1)

/** hrservo_open_config_new() - options, every one at its default */
HRSERVO_API struct hrservo_open_config *hrservo_open_config_new(void);
/** hrservo_open_config_free() - free options made by _new */
HRSERVO_API void hrservo_open_config_free(struct hrservo_open_config *cfg);
/**
 * hrservo_open_config_set_frame_period() - the frame period to set at open
 * @cfg: the options
 * @period_ns: set this frame period once the controller is open, as
 *	hrservo_set_frame_period() would (it is the controller's, also for
 *	its other users); 0 (the default): leave it as it is
 *
 * Return: 0, or -1 with errno EINVAL for a NULL @cfg (the controller's
 * range is checked at open).
 */
HRSERVO_API int hrservo_open_config_set_frame_period(
	struct hrservo_open_config *cfg, uint32_t period_ns);
/**
 * hrservo_open_config_get_frame_period() - the frame period to set, or 0
 * (also for a NULL @cfg)
 */
HRSERVO_API uint32_t
hrservo_open_config_get_frame_period(const struct hrservo_open_config *cfg);
/**
 * hrservo_open_config_set_rt_priority() - a library thread's priority
 * @cfg: the options
 * @prio: the SCHED_FIFO priority (1..99) of the thread that times the
 *	pulses in the library (the gpiod backend), 0 for none (as "no-rt"),
 *	HRSERVO_RT_DEFAULT (-1, the default) for the backend's. A backend whose timing is the
 *	kernel's (the chardev backend) has no such thread and ignores it. A
 *	spec that says otherwise ("prio=N", "no-rt") fails the open
 *	(EINVAL).
 *
 * Return: 0, or -1 with errno EINVAL for a @prio outside -1..99 or a
 * NULL @cfg.
 */
HRSERVO_API int hrservo_open_config_set_rt_priority(
	struct hrservo_open_config *cfg, int prio);
/**
 * hrservo_open_config_get_rt_priority() - the priority, HRSERVO_RT_DEFAULT
 * for the backend's (also for a NULL @cfg)
 */
HRSERVO_API int
hrservo_open_config_get_rt_priority(const struct hrservo_open_config *cfg);
/**
 * hrservo_open_with() - open a controller with options
 * @spec: as hrservo_open()
 * @cfg: the options (NULL: every default; hrservo_open() is that)
 *
 * All or nothing: a frame period the controller refuses closes it again.
 *
 * Return: as hrservo_open(), and also NULL with errno ERANGE (a frame
 * period outside the controller's range, which hrservo_last_error()
 * names), ENOTSUP (a frame period for a controller whose period cannot be
 * set), EBUSY (a shorter period than a channel's limit allows) or EINVAL
 * (a spec's priority that contradicts @cfg's).
 */
HRSERVO_API struct hrservo *hrservo_open_with(
	const char *spec, const struct hrservo_open_config *cfg);
/* The SCHED_FIFO priority of the gpiod backend's thread, by default. */
#define HRSERVO_GPIOD_PRIO		50
/**
 * hrservo_last_error() - what went wrong, in words (API version 7)
 *
 * After hrservo_open() or hrservo_traj_upload() failed in this thread: a
 * message naming the bad value and the limit where the backend has one
 * ("gpiod: real-time priority (SCHED_FIFO 50) refused: needs CAP_SYS_NICE
 * or RLIMIT_RTPRIO ..."; "gpiod: locking 64 KiB of memory for the
 * trajectory refused ..."), or "" where errno says it all. Every
 * hrservo_open() and hrservo_traj_upload() clears it.
 *
 * Return: the message, owned by the library and valid in this thread until
 * its next hrservo_open() or hrservo_traj_upload(); never NULL.
 */
HRSERVO_API const char *hrservo_last_error(void);
/** hrservo_close() - close a handle made by hrservo_open() */
HRSERVO_API void hrservo_close(struct hrservo *h);

/** hrservo_name() - the controller's name, e.g. "hrservo0" */
HRSERVO_API const char *hrservo_name(const struct hrservo *h);
/** hrservo_backend() - the backend's name, e.g. "hrservo-gpio" */
HRSERVO_API const char *hrservo_backend(const struct hrservo *h);
/** hrservo_num_channels() - number of channels, 1..HRSERVO_MAX_CHANNELS */
HRSERVO_API unsigned int hrservo_num_channels(const struct hrservo *h);
/** hrservo_pulse_min_ns() - lowest pulse width any limit may allow */
HRSERVO_API uint32_t hrservo_pulse_min_ns(const struct hrservo *h);
/**
 * hrservo_pulse_max_ns() - highest pulse width any limit may allow, at the
 * frame period the controller had when it was opened
 */
HRSERVO_API uint32_t hrservo_pulse_max_ns(const struct hrservo *h);
/** hrservo_resolution_ns() - pulse width quantisation, 1 for exact */
HRSERVO_API uint32_t hrservo_resolution_ns(const struct hrservo *h);

/*
 * Capabilities (API version 6): what a controller can do beyond targets,
 * releases, pulse limits and state. Each follows from the operations its
 * backend has (and, for the kernel driver, the driver's ABI version): a
 * call that needs one the controller lacks fails with ENOTSUP, before it
 * looks at its other arguments but a NULL handle. See "Capabilities" in
 * Documentation/libhrservo.rst for the calls of each.
 */
#define HRSERVO_CAP_EVENTS		(1u << 0)	/* hrservo_event_fd(), _read_event() */
#define HRSERVO_CAP_TRAJ		(1u << 1)	/* the trajectory player */
#define HRSERVO_CAP_MOTION_LIMITS	(1u << 2)	/* speed and acceleration limits */
#define HRSERVO_CAP_ATOMIC_BATCH	(1u << 3)	/* hrservo_apply() of several targets */
#define HRSERVO_CAP_FEEDBACK		(1u << 4)	/* measured positions (none yet) */
#define HRSERVO_CAP_WATCHDOG		(1u << 5)	/* hrservo_watchdog_arm(), _keepalive() */
#define HRSERVO_CAP_ESTOP		(1u << 6)	/* hrservo_estop_*() */
#define HRSERVO_CAP_FRAME_RECORD	(1u << 7)	/* hrservo_read_frames() */
#define HRSERVO_CAP_FRAME_PERIOD	(1u << 8)	/* hrservo_set_frame_period() */
/*
 * Edges timed in real time: by the kernel, or by a SCHED_FIFO thread with
 * its memory locked (the gpiod backend but with "no-rt"). API version 7.
 */
#define HRSERVO_CAP_RT_TIMING		(1u << 9)

/**
 * hrservo_caps() - the controller's capabilities
 * @h: the controller
 *
 * Return: a mask of HRSERVO_CAP_*; 0 for a NULL @h. Bits not defined here
 * may be set by a later library: ignore them.
 */
HRSERVO_API uint32_t hrservo_caps(const struct hrservo *h);

/**
 * hrservo_get_frame_period() - the frame period and its allowed range
 * @h: the controller
 * @period_ns: output, the current period
 * @min_ns: output (may be NULL), the lowest period allowed
 * @max_ns: output (may be NULL), the highest period allowed
 */
HRSERVO_API int hrservo_get_frame_period(struct hrservo *h,
					 uint32_t *period_ns,
					 uint32_t *min_ns, uint32_t *max_ns);
/**
 * hrservo_set_frame_period() - change the frame period from the next frame
 *
 * errno: ERANGE outside the allowed range; EBUSY if a channel's max limit
 * does not fit in the new frame; EACCES without permission; ENOTSUP
 * without HRSERVO_CAP_FRAME_PERIOD.
 */
HRSERVO_API int hrservo_set_frame_period(struct hrservo *h,
					 uint32_t period_ns);

/* ---- Targets ---- */

struct hrservo_batch;

/**
 * hrservo_batch_new() - an empty batch of targets
 *
 * Return: a new batch owned by the caller (hrservo_batch_free()), or NULL.
 */
HRSERVO_API struct hrservo_batch *hrservo_batch_new(void);
/** hrservo_batch_free() - release a batch */
HRSERVO_API void hrservo_batch_free(struct hrservo_batch *b);
/** hrservo_batch_clear() - empty a batch for reuse */
HRSERVO_API void hrservo_batch_clear(struct hrservo_batch *b);
/**
 * hrservo_batch_add() - add a target to a batch
 *
 * errno: EINVAL for a channel >= HRSERVO_MAX_CHANNELS; EEXIST if the
 * channel is in the batch already.
 */
HRSERVO_API int hrservo_batch_add(struct hrservo_batch *b,
				  unsigned int channel, uint32_t pulse_ns);
/** hrservo_batch_count() - number of targets in a batch */
HRSERVO_API size_t hrservo_batch_count(const struct hrservo_batch *b);

/**
 * hrservo_apply() - apply a batch atomically
 *
 * Every target takes effect at the same frame boundary, or none does.
 * errno: EINVAL (empty batch, or a channel the controller does not have),
 * ERANGE (a width outside its channel's limits), ENODEV (controller gone),
 * EBUSY (a trajectory owns a channel), EPERM (the e-stop is latched: see
 * hrservo_estop_trip()), ENOTSUP (several targets without
 * HRSERVO_CAP_ATOMIC_BATCH).
 */
HRSERVO_API int hrservo_apply(struct hrservo *h,
			      const struct hrservo_batch *b);
/** hrservo_set_target() - apply a batch of one target (errno as hrservo_apply()) */
HRSERVO_API int hrservo_set_target(struct hrservo *h, unsigned int channel,
				   uint32_t pulse_ns);
/**
 * hrservo_release() - stop the pulses of the channels in @mask
 *
 * A pulse in progress ends at its full width; none follows.
 * errno: EINVAL for a bit beyond the controller's channels.
 */
HRSERVO_API int hrservo_release(struct hrservo *h, uint64_t mask);

/* ---- Limits ---- */

/** hrservo_get_limits() - pulse limits of a channel */
HRSERVO_API int hrservo_get_limits(struct hrservo *h, unsigned int channel,
				   uint32_t *min_ns, uint32_t *max_ns);
/**
 * hrservo_set_limits() - set the pulse limits of a channel
 *
 * errno: ERANGE (outside the pulse bounds, or min >= max), EBUSY (the
 * channel runs at a target outside the new limits), EINVAL (bad channel).
 */
HRSERVO_API int hrservo_set_limits(struct hrservo *h, unsigned int channel,
				   uint32_t min_ns, uint32_t max_ns);

/**
 * hrservo_get_motion_limits() - speed and acceleration limits of a channel
 * @h: the controller
 * @channel: the channel
 * @speed_ns_per_s: output, 0 for none
 * @accel_ns_per_s2: output, 0 for none
 *
 * errno: ENOTSUP without HRSERVO_CAP_MOTION_LIMITS (as for the setter).
 */
HRSERVO_API int hrservo_get_motion_limits(struct hrservo *h,
					  unsigned int channel,
					  uint32_t *speed_ns_per_s,
					  uint32_t *accel_ns_per_s2);
/**
 * hrservo_set_motion_limits() - set them; 0 for no limit
 *
 * With a limit, new targets are approached frame by frame (as a Pololu
 * Maestro does), and trajectories are held back (clamped) where too fast.
 */
HRSERVO_API int hrservo_set_motion_limits(struct hrservo *h,
					  unsigned int channel,
					  uint32_t speed_ns_per_s,
					  uint32_t accel_ns_per_s2);

/**
 * struct hrservo_limit_change - new limits of one channel
 * @channel: the channel, at most once in a call
 * @min_ns: lowest pulse
 * @max_ns: highest pulse
 * @motion: also set @speed_ns_per_s and @accel_ns_per_s2
 * @speed_ns_per_s: speed limit, 0 for none
 * @accel_ns_per_s2: acceleration limit, 0 for none
 */
struct hrservo_limit_change {
	unsigned int channel;
	uint32_t min_ns;
	uint32_t max_ns;
	bool motion;
	uint32_t speed_ns_per_s;
	uint32_t accel_ns_per_s2;
};

/**
 * hrservo_set_limits_all() - set the limits of several channels, or none
 * @h: the controller
 * @c: the @n changes
 * @n: their number, at most HRSERVO_MAX_CHANNELS
 * @failed: set to the index of the change that failed, if one did (may be
 *	NULL)
 *
 * Reads every channel's limits first, then sets them in turn; if one is
 * refused, puts back those set before it (and what of it was set).
 *
 * Return: 0, or -1 with the errno of hrservo_set_limits() or
 * hrservo_set_motion_limits() for the failed change (EINVAL for a channel
 * given twice or beyond the controller, before anything is set).
 */
HRSERVO_API int hrservo_set_limits_all(struct hrservo *h,
				       const struct hrservo_limit_change *c,
				       size_t n, size_t *failed);

/* ---- State ---- */

struct hrservo_state;

/**
 * hrservo_read_state() - a snapshot of every channel, taken at one instant
 *
 * Return: a new snapshot owned by the caller (hrservo_state_free()), or NULL.
 */
HRSERVO_API struct hrservo_state *hrservo_read_state(struct hrservo *h);
/** hrservo_state_free() - release a snapshot */
HRSERVO_API void hrservo_state_free(struct hrservo_state *st);
/** hrservo_state_num_channels() - channels in the snapshot */
HRSERVO_API unsigned int
hrservo_state_num_channels(const struct hrservo_state *st);
/** hrservo_state_enabled() - the channel emits pulses (has a target) */
HRSERVO_API bool hrservo_state_enabled(const struct hrservo_state *st,
				       unsigned int channel);
/** hrservo_state_active() - the channel had a pulse in the current frame */
HRSERVO_API bool hrservo_state_active(const struct hrservo_state *st,
				      unsigned int channel);
/** hrservo_state_target_ns() - the last target given, 0 if none */
HRSERVO_API uint32_t hrservo_state_target_ns(const struct hrservo_state *st,
					     unsigned int channel);
/** hrservo_state_pulse_ns() - the width in effect this frame, 0 if none */
HRSERVO_API uint32_t hrservo_state_pulse_ns(const struct hrservo_state *st,
					    unsigned int channel);
/** hrservo_state_min_ns() - the channel's lower limit */
HRSERVO_API uint32_t hrservo_state_min_ns(const struct hrservo_state *st,
					  unsigned int channel);
/** hrservo_state_max_ns() - the channel's upper limit */
HRSERVO_API uint32_t hrservo_state_max_ns(const struct hrservo_state *st,
					  unsigned int channel);

/* ---- Events ---- */

/* hrservo_event_data.type; unknown types must be ignored. */
#define HRSERVO_EV_STATE	1	/* targets/releases/limits of .mask changed */
#define HRSERVO_EV_PERIOD	2	/* frame period changed to .value ns */
#define HRSERVO_EV_REMOVED	3	/* the controller is gone; the last event */
#define HRSERVO_EV_TRAJ_DONE	4	/* a trajectory ended (.mask: its axes) */
#define HRSERVO_EV_TRAJ_UNDERRUN 5	/* the queue ran dry; axes hold */
#define HRSERVO_EV_CLAMP	6	/* limits held .mask axes off the trajectory */
#define HRSERVO_EV_FAULT	7	/* the hardware missed the new pulses of .mask
					 * (bus error .value, an errno); retried */
#define HRSERVO_EV_TRAJ_DROPPED	8	/* released channels .mask left the
					 * trajectory; .value segments dropped */
#define HRSERVO_EV_WATCHDOG	9	/* a watchdog ran its failsafe: .value
					 * HRSERVO_EV_WATCHDOG_EXPIRED or _CLOSED;
					 * .mask the channels with a pulse then */
#define HRSERVO_EV_ESTOP	10	/* the e-stop latch was tripped (.value
					 * HRSERVO_ESTOP_BY_USER or _BY_INPUT, .mask
					 * the channels with a pulse then) or
					 * cleared (.value 0, .mask 0) */

/* .value of HRSERVO_EV_WATCHDOG */
#define HRSERVO_EV_WATCHDOG_EXPIRED	1	/* no keep-alive in time */
#define HRSERVO_EV_WATCHDOG_CLOSED	2	/* its file was closed armed */

/**
 * struct hrservo_event_data - one event
 * @timestamp_ns: when it happened (CLOCK_MONOTONIC)
 * @mask: channels concerned
 * @type: HRSERVO_EV_*
 * @value: type-specific value
 * @seq: per-handle sequence number; a gap means events were lost
 */
struct hrservo_event_data {
	uint64_t timestamp_ns;
	uint64_t mask;
	unsigned int type;
	uint32_t value;
	uint32_t seq;
};

/**
 * hrservo_event_fd() - a file descriptor that poll() reports readable when
 * an event is waiting
 *
 * Return: the descriptor, owned by @h (do not close it); -1 if the backend
 * has no events (errno ENOTSUP).
 */
HRSERVO_API int hrservo_event_fd(struct hrservo *h);
/**
 * hrservo_read_event() - read the next event
 * @h: the controller
 * @ev: output
 * @timeout_ms: -1 to wait, 0 to poll, or a time limit
 *
 * errno: EAGAIN (no event within the time limit), ENODEV (the controller was
 * removed and every event has been read).
 */
HRSERVO_API int hrservo_read_event(struct hrservo *h,
				   struct hrservo_event_data *ev,
				   int timeout_ms);

/* ---- Safety: the watchdog and the e-stop latch (API version 5) ---- */

/* Failsafe actions of hrservo_watchdog_arm() and hrservo_estop_trip(). */
#define HRSERVO_FS_HOLD		0	/* stop where it is and hold */
#define HRSERVO_FS_RELEASE	1	/* no pulses */
#define HRSERVO_FS_POSE		2	/* watchdog only: go to the pose, hold */

/* The watchdog's timeout, ms. */
#define HRSERVO_WATCHDOG_MIN_MS	10
#define HRSERVO_WATCHDOG_MAX_MS	60000

/**
 * hrservo_watchdog_arm() - arm, re-arm or disarm this handle's watchdog
 * @h: the controller
 * @timeout_ms: HRSERVO_WATCHDOG_MIN_MS .. HRSERVO_WATCHDOG_MAX_MS; 0
 *	disarms, without running the failsafe (@action and @pose are then
 *	not looked at)
 * @action: HRSERVO_FS_HOLD, HRSERVO_FS_RELEASE or HRSERVO_FS_POSE
 * @pose: NULL, but for HRSERVO_FS_POSE: the safe pose, a batch of 1 to
 *	hrservo_num_channels() targets within their channels' limits
 *
 * Arming starts the timeout anew. From then on every change made through
 * @h that succeeds (targets, releases, limits, trajectories) and
 * hrservo_keepalive() restart it. If @timeout_ms pass without one, the
 * controller runs the failsafe on every channel and raises
 * HRSERVO_EV_WATCHDOG; the watchdog stays armed, so the next change or
 * keep-alive starts the timeout again. Closing @h while armed (also when
 * the process dies) runs the failsafe too. HRSERVO_FS_HOLD stops a
 * trajectory as hrservo_traj_stop() does and brakes every channel within
 * its acceleration limit; HRSERVO_FS_POSE drops the trajectory and moves
 * the pose's channels there within their speed and acceleration limits
 * (held instead while the e-stop is latched).
 *
 * errno: EINVAL (a timeout outside the range, an unknown @action, a @pose
 * that is missing, not wanted, empty or names a channel @h does not
 * have), ERANGE (a pose target outside its channel's limits), EBUSY (16
 * handles of the controller are armed already: the kernel's
 * HRSERVO_WD_ARMED_MAX), EBADF (@h could only be opened read-only),
 * ENOTSUP (the backend, or a driver before ABI version 4, has no
 * watchdog).
 */
HRSERVO_API int hrservo_watchdog_arm(struct hrservo *h,
				     unsigned int timeout_ms, int action,
				     const struct hrservo_batch *pose);
/**
 * hrservo_keepalive() - restart the armed watchdog's timeout
 *
 * errno: EINVAL if the watchdog of @h is not armed; ENOTSUP as
 * hrservo_watchdog_arm().
 */
HRSERVO_API int hrservo_keepalive(struct hrservo *h);

/* struct hrservo_estop_info.source, and .value of HRSERVO_EV_ESTOP */
#define HRSERVO_ESTOP_BY_USER	1	/* hrservo_estop_trip() or sysfs */
#define HRSERVO_ESTOP_BY_INPUT	2	/* the hardware e-stop input line */

/**
 * struct hrservo_estop_info - the e-stop latch of a controller
 * @latched: the latch is set: nothing moves until it is cleared
 * @has_input: the controller has a hardware e-stop input line
 * @input_active: ...and it is active now (the button is pressed)
 * @source: what tripped the latch last: HRSERVO_ESTOP_BY_USER,
 *	HRSERVO_ESTOP_BY_INPUT, or 0 if it never was
 * @tripped_ns: when (CLOCK_MONOTONIC), 0 if never
 */
struct hrservo_estop_info {
	bool latched;
	bool has_input;
	bool input_active;
	int source;
	uint64_t tripped_ns;
};

/**
 * hrservo_estop_get() - read the e-stop latch
 * @h: the controller
 * @info: output
 *
 * errno: ENOTSUP (the backend, or a driver before ABI version 4, has no
 * e-stop), EINVAL (NULL @info).
 */
HRSERVO_API int hrservo_estop_get(struct hrservo *h,
				  struct hrservo_estop_info *info);
/**
 * hrservo_estop_trip() - trip the e-stop latch
 * @h: the controller
 * @action: HRSERVO_FS_HOLD (every channel brakes within its acceleration
 *	limit and holds) or HRSERVO_FS_RELEASE (no pulse after the one in
 *	progress)
 *
 * Runs @action on every channel at once, drops the trajectory, latches,
 * and raises HRSERVO_EV_ESTOP. From then on hrservo_apply(),
 * hrservo_set_target() and hrservo_traj_upload() fail with EPERM for
 * every client of the controller, until hrservo_estop_clear(); releases,
 * limits, the frame period and reads still work. Tripping a latched
 * controller changes nothing, but that HRSERVO_FS_RELEASE on a latch that
 * held releases every channel.
 *
 * errno: EINVAL (another @action), EBADF (@h is read-only), ENOTSUP as
 * hrservo_estop_get().
 */
HRSERVO_API int hrservo_estop_trip(struct hrservo *h, int action);
/**
 * hrservo_estop_clear() - clear the e-stop latch
 *
 * Moves nothing: the channels stay as the failsafe left them. Clearing a
 * latch that is not set is not an error.
 * errno: EBUSY while the e-stop input line is active (the button is still
 * pressed); EBADF, ENOTSUP as hrservo_estop_trip().
 */
HRSERVO_API int hrservo_estop_clear(struct hrservo *h);

/* ---- Frame record: what the controller played (API version 5) ---- */

/**
 * struct hrservo_frame_data - one frame as the controller played it
 * @seq: the frame's number, counted from 1 since the controller appeared
 * @start_ns: its scheduled start (CLOCK_MONOTONIC): the frame in which its
 *	widths took effect, from the controller's frame clock
 * @active: the channels with a pulse in it
 * @period_ns: its period
 * @pulse_ns: each channel's pulse width in it as the hardware emits it
 *	(within hrservo_resolution_ns()), 0 for no pulse
 */
struct hrservo_frame_data {
	uint64_t seq;
	uint64_t start_ns;
	uint64_t active;
	uint32_t period_ns;
	uint32_t pulse_ns[HRSERVO_MAX_CHANNELS];
};

/**
 * hrservo_read_frames() - copy frames the controller played
 * @h: the controller
 * @seq: the first frame wanted, 0 for the oldest one kept (the kernel
 *	keeps its last 512)
 * @out: room for @room frames
 * @room: at least 1
 * @count: output, frames copied, in order (0: none from @seq on was
 *	played yet)
 * @next_seq: output, the @seq to ask for next: one after the last frame
 *	copied, or @seq if none was
 * @lost: output (may be NULL), frames from @seq on that are gone, not
 *	copied: the controller no longer kept them (0 when @seq is 0). The
 *	frames of @out follow each other but where frames were lost: a
 *	reader that asks for its @next_seq each time and gets no loss has
 *	every frame
 *
 * Copies as many frames as @room holds or have been played, in several
 * kernel calls when @room is larger than one takes (64 frames). If a later
 * call fails, the frames copied before it are returned, and the error
 * comes at the next call.
 *
 * errno: EINVAL (@room 0, or a NULL pointer but @lost), ENODEV (the
 * controller was removed), ENOTSUP (the backend, or a driver before ABI
 * version 4, keeps no frames).
 */
HRSERVO_API int hrservo_read_frames(struct hrservo *h, uint64_t seq,
				    struct hrservo_frame_data *out,
				    size_t room, size_t *count,
				    uint64_t *next_seq, uint64_t *lost);

/* ---- Trajectories: planned here, played by the kernel ---- */

enum hrservo_interp {
	HRSERVO_INTERP_LINEAR,		/* straight lines between waypoints */
	HRSERVO_INTERP_CUBIC,		/* clamped cubic spline: C2, at rest at both ends */
	HRSERVO_INTERP_MIN_JERK,	/* quintic, at rest at every waypoint */
};

struct hrservo_traj;

/**
 * hrservo_traj_new() - an empty trajectory over some channels (axes)
 * @naxes: number of axes, 1..HRSERVO_MAX_CHANNELS
 * @channels: the channel of each axis; each at most once
 *
 * Return: a new trajectory owned by the caller (hrservo_traj_free()), or
 * NULL (errno EINVAL for bad axes or NULL @channels).
 *
 * The functions taking a trajectory refuse a NULL one (errno EINVAL); those
 * that cannot report an error return 0 for it. Every function that needs a
 * trajectory to move (eval, check, fit, upload) refuses fewer than 2
 * waypoints with EINVAL, whatever the interpolation.
 */
HRSERVO_API struct hrservo_traj *hrservo_traj_new(unsigned int naxes,
						  const unsigned int *channels);
/** hrservo_traj_free() - release a trajectory */
HRSERVO_API void hrservo_traj_free(struct hrservo_traj *t);
/**
 * hrservo_traj_add() - append a waypoint
 * @t: the trajectory
 * @time_s: its time, seconds from the start; after the previous waypoint's
 * @pulse_ns: a pulse width per axis
 *
 * errno: EINVAL for a time not after the previous one, or a value that is
 * not finite or not in 0..4.29 s.
 */
HRSERVO_API int hrservo_traj_add(struct hrservo_traj *t, double time_s,
				 const double *pulse_ns);
/**
 * hrservo_traj_set_interp() - how to move between waypoints
 *
 * A value that is not an enum hrservo_interp is ignored (the trajectory keeps
 * its interpolation; minimum jerk by default).
 */
HRSERVO_API void hrservo_traj_set_interp(struct hrservo_traj *t,
					 enum hrservo_interp interp);
/**
 * hrservo_traj_interp() - the interpolation of @t (minimum jerk for NULL)
 *
 * What hrservo_traj_set_interp() set last, or the file's "# interp:" line
 * (hrservo_traj_load_csv()), else minimum jerk.
 */
HRSERVO_API enum hrservo_interp hrservo_traj_interp(const struct hrservo_traj *t);
/** hrservo_traj_num_waypoints() - number of waypoints */
HRSERVO_API size_t hrservo_traj_num_waypoints(const struct hrservo_traj *t);
/** hrservo_traj_num_axes() - number of axes */
HRSERVO_API unsigned int hrservo_traj_num_axes(const struct hrservo_traj *t);
/** hrservo_traj_channel() - the channel of an axis */
HRSERVO_API unsigned int hrservo_traj_channel(const struct hrservo_traj *t,
					      unsigned int axis);
/**
 * hrservo_traj_waypoint() - read back waypoint @index
 * @t: the trajectory
 * @index: 0..hrservo_traj_num_waypoints()-1
 * @time_s: output, seconds from the first waypoint
 * @pulse_ns: output, one value per axis
 */
HRSERVO_API int hrservo_traj_waypoint(const struct hrservo_traj *t,
				      size_t index, double *time_s,
				      double *pulse_ns);
/** hrservo_traj_duration() - time from the first to the last waypoint, s */
HRSERVO_API double hrservo_traj_duration(const struct hrservo_traj *t);
/**
 * hrservo_traj_eval() - the planned position, speed and acceleration
 * @t: the trajectory, with at least 2 waypoints
 * @time_s: seconds from the first waypoint
 * @pos_ns: output per axis (may be NULL)
 * @vel: output per axis in ns/s (may be NULL)
 * @acc: output per axis in ns/s^2 (may be NULL)
 */
HRSERVO_API int hrservo_traj_eval(const struct hrservo_traj *t, double time_s,
				  double *pos_ns, double *vel, double *acc);
/**
 * hrservo_traj_scale_time() - stretch (factor > 1) or compress time
 *
 * Every waypoint time is multiplied by @factor (> 0).
 */
HRSERVO_API int hrservo_traj_scale_time(struct hrservo_traj *t, double factor);

enum hrservo_limit_kind {
	HRSERVO_LIMIT_MIN,
	HRSERVO_LIMIT_MAX,
	HRSERVO_LIMIT_SPEED,
	HRSERVO_LIMIT_ACCEL,
	/*
	 * An interval between two waypoints the kernel cannot play (shorter
	 * than HRSERVO_TRAJ_MIN_INTERVAL_NS or longer than
	 * HRSERVO_TRAJ_MAX_INTERVAL_NS, as sent: rounded to the ns).
	 */
	HRSERVO_LIMIT_INTERVAL,
};

/**
 * struct hrservo_violation - the first place a trajectory breaks a limit
 * @time_s: when, seconds from the first waypoint: the first waypoint or
 *	turning point (a local extremum of the position, speed or
 *	acceleration) beyond the limit; for HRSERVO_LIMIT_INTERVAL, the time of
 *	the waypoint that ends the interval
 * @channel: which channel (HRSERVO_MAX_CHANNELS for an interval: every axis)
 * @kind: which limit
 * @value: the planned value there (ns, ns/s or ns/s^2; magnitude for speed
 *	and acceleration; the interval in ns as sent)
 * @limit: the limit (ns, ns/s, ns/s^2; the bound on the interval in ns)
 */
struct hrservo_violation {
	double time_s;
	unsigned int channel;
	enum hrservo_limit_kind kind;
	double value;
	double limit;
};

/**
 * hrservo_traj_check() - check a trajectory against a controller's limits
 * @t: the trajectory
 * @h: the controller
 * @v: output, the first violation in time (may be NULL)
 *
 * First the kernel's rules on intervals, as hrservo_traj_check_times()
 * (EINVAL, @v of kind HRSERVO_LIMIT_INTERVAL). Then the plan, exactly: the
 * extrema of each segment's position, speed and acceleration, found where
 * the derivatives vanish (a bounded amount of work per segment, whatever
 * its duration), against the pulse limits (within 0.5 ns) and the speed and
 * acceleration limits (within 0.01 %). A plan within them is played
 * exactly by the kernel's per-frame limiter. Where the speed steps (linear
 * interpolation: at every waypoint, and from and to rest at the ends), the
 * limiter follows a step dv only if dv <= max acceleration x frame period:
 * a larger step counts as an acceleration of dv / period. A position
 * violation is reported before any speed or acceleration one.
 *
 * Return: 0, or -1 with errno ERANGE and @v filled in if a limit is broken;
 * EINVAL (with @v filled in) for an interval the kernel refuses; EINVAL for
 * a channel the controller does not have, fewer than 2 waypoints or NULL
 * @t or @h.
 */
HRSERVO_API int hrservo_traj_check(const struct hrservo_traj *t,
				   struct hrservo *h,
				   struct hrservo_violation *v);
/**
 * hrservo_traj_fit_time() - stretch time until speeds and accelerations fit
 * @t: the trajectory
 * @h: the controller
 * @factor: output (may be NULL), the total stretch applied (>= 1)
 *
 * Speeds (and speed steps) scale with 1/f, accelerations with 1/f^2: the
 * stretch is computed at once from the worst ratios to the limits (see
 * hrservo_traj_check()), plus 1 % for rounding; 1 if @t fits already.
 *
 * Return: 0, or -1 with errno ERANGE if a position limit is broken
 * (stretching cannot help; @t is unchanged), or if the stretch needed makes
 * an interval longer than HRSERVO_TRAJ_MAX_INTERVAL_NS (60 s, the longest
 * segment the kernel plays): then @t is left stretched and @factor set, so
 * that hrservo_traj_check_times() names the interval; EINVAL as
 * hrservo_traj_check().
 */
HRSERVO_API int hrservo_traj_fit_time(struct hrservo_traj *t,
				      struct hrservo *h, double *factor);

/*
 * Each interval between consecutive waypoints becomes one segment, which
 * lasts from HRSERVO_TRAJ_MIN_INTERVAL_NS (1 ms) to
 * HRSERVO_TRAJ_MAX_INTERVAL_NS (60 s): the bounds of the kernel ABI
 * (HRSERVO_SEG_MIN_NS, HRSERVO_SEG_MAX_NS).
 */
#define HRSERVO_TRAJ_MIN_INTERVAL_NS	1000000ULL
#define HRSERVO_TRAJ_MAX_INTERVAL_NS	60000000000ULL
/* Most waypoints a trajectory holds (hrservo_traj_add(): EINVAL beyond). */
#define HRSERVO_TRAJ_MAX_WAYPOINTS	100000

/**
 * hrservo_traj_check_times() - can the trajectory's times be played?
 * @t: the trajectory
 * @err: output (may be NULL), what is wrong, naming the waypoints (counted
 *	from 0), their times, the interval and the bound:
 *	"waypoint 3 (t=0.1005 s) is 0.5 ms after waypoint 2 (t=0.1 s); ..."
 * @errsize: size of @err
 *
 * Checks what hrservo_traj_upload() checks before it sends anything: at
 * least 2 waypoints, and every interval between consecutive waypoints,
 * rounded to the ns as it is sent, within HRSERVO_TRAJ_MIN_INTERVAL_NS ..
 * HRSERVO_TRAJ_MAX_INTERVAL_NS. Call it after any time scaling
 * (hrservo_traj_scale_time(), hrservo_traj_fit_time()).
 *
 * Return: 0, or -1 with errno EINVAL.
 */
HRSERVO_API int hrservo_traj_check_times(const struct hrservo_traj *t,
					 char *err, size_t errsize);

/* hrservo_traj_upload() flags */
#define HRSERVO_UPLOAD_REPLACE	(1U << 0)	/* splice in at start_ns */
/*
 * Start even where the queue (or, on an idle controller, the axes) is not:
 * the servos jump to the trajectory's first waypoint. Without it, the
 * kernel refuses (EDOM) an append whose first waypoint is more than
 * HRSERVO_SPLICE_TOL_NS from where the queue ends or the axes are.
 */
#define HRSERVO_UPLOAD_JUMP	(1U << 1)

/**
 * hrservo_traj_upload() - send a trajectory to the controller to play
 * @t: the trajectory, at least 2 waypoints
 * @h: the controller
 * @start_ns: CLOCK_MONOTONIC start (or splice) time, 0 for the next frame
 * @flags: HRSERVO_UPLOAD_* bits
 *
 * Appends to what is queued (or splices, with HRSERVO_UPLOAD_REPLACE). The
 * trajectory ends with it. Nothing is sent if hrservo_traj_check_times()
 * fails (errno EINVAL).
 *
 * A backend whose player is in the library (gpiod) takes the trajectory
 * whole in one submission, of any length its queue holds (ENOSPC, nothing
 * queued, beyond), and nothing waits. For the kernel's player: a
 * trajectory that fits the kernel's per-file quota (HRSERVO_TRAJ_FILE_BYTES:
 * about 1,900 single-axis or 130 forty-axis segments) and
 * HRSERVO_TRAJ_SUBMIT_MAX segments goes in one submission, queued whole or
 * not at all. A larger one goes in parts of at most a quarter of the quota;
 * the first part starts (splices, jumps) as asked, each later part is
 * appended and taken by the kernel only where the one before it ended, never
 * with a jump. A later part that finds the queue full waits while the
 * controller plays, polling its status, at most the time the queue then
 * needs to play plus 1 s (10 s without a status); then ENOSPC. If a later
 * part fails, what this upload queued is stopped (hrservo_traj_stop()) when
 * the queue holds nothing else; a stop drops the whole queue, so when
 * others' segments are queued too (a trajectory this one was appended to,
 * or one appended meanwhile) the queue is left to play: ours then ends
 * where its last queued part ends, and the player holds there
 * (HRSERVO_EV_TRAJ_UNDERRUN). If the queue ran dry between two parts (the
 * process was not scheduled for a long time), the next part starts where
 * the axes hold, at the next frame: the trajectory pauses but does not jump.
 *
 * Return: 0, or -1 with errno: EINVAL for unknown @flags, a channel the
 * controller does not have or what hrservo_traj_check_times() refuses;
 * those of the kernel (EBUSY, ENOSPC, EINVAL for a time in the past or a
 * discontinuous splice, EDOM for an append that does not start where the
 * queue or the axes are or that moves an axis with no position, unless
 * HRSERVO_UPLOAD_JUMP; see hrservo_traj_lead_in()); ENOSPC also when a
 * later part waited too long; EINTR when a signal came while a later part
 * waited for room; ECANCELED when the player was stopped (by anyone, or
 * by the e-stop) between two parts: the rest is not sent. In all three
 * cases what this upload queued is stopped as described above. EPERM
 * while the e-stop is latched (nothing is sent). ENOTSUP without
 * HRSERVO_CAP_TRAJ (as hrservo_traj_stop(), _status() and _owned()).
 */
HRSERVO_API int hrservo_traj_upload(const struct hrservo_traj *t,
				    struct hrservo *h, uint64_t start_ns,
				    unsigned int flags);

/* Lead-in speed on an axis without a kernel speed limit: 1 ms per second. */
#define HRSERVO_LEAD_IN_SPEED_NS	1000000.0
/* An axis this close (ns) to the start needs no lead-in: the kernel's
 * continuity tolerance. */
#define HRSERVO_LEAD_IN_TOL_NS		1000.0

/**
 * hrservo_traj_lead_in() - a move from where the axes are to the start
 * @t: the trajectory to lead into
 * @h: the controller it will play on
 * @min_s: shortest lead-in, seconds
 * @bad: on EDOM, set to the channel that has no position
 *
 * Plays well before @t: a minimum-jerk move of every axis from its last
 * target to @t's first waypoint, as short as the axes' speed and
 * acceleration limits allow (on an axis without a speed limit, at most
 * HRSERVO_LEAD_IN_SPEED_NS), and at least @min_s. It lasts a whole number
 * of the controller's frame periods, so that @t's waypoints, uploaded right
 * after it, fall where they would without it relative to the frame grid (a
 * recording replays frame by frame). Upload it, then @t right after it: @t
 * then starts where the lead-in ends, with no jump.
 *
 * Return: a new trajectory (hrservo_traj_free()), or NULL with errno EDOM
 * (an axis has no position: never set, or released; *@bad says which),
 * ENODATA (every axis is within HRSERVO_LEAD_IN_TOL_NS of the start: no
 * lead-in needed), ERANGE (it would last more than a segment may), EINVAL,
 * or those of hrservo_read_state().
 */
HRSERVO_API struct hrservo_traj *
hrservo_traj_lead_in(const struct hrservo_traj *t, struct hrservo *h,
		     double min_s, unsigned int *bad);

/**
 * struct hrservo_traj_info - the controller's trajectory player
 * @state: 0 idle, 1 waiting to start, 2 running, 3 underrun (holding)
 * @segment: index of the playing segment since the start
 * @depth: segments queued, the playing one included
 * @time_in_segment_ns: time into the playing segment
 * @queued_ns: time left to play
 */
struct hrservo_traj_info {
	unsigned int state;
	uint64_t segment;
	unsigned int depth;
	uint64_t time_in_segment_ns;
	uint64_t queued_ns;
};

/** hrservo_traj_status() - what the player is doing */
HRSERVO_API int hrservo_traj_status(struct hrservo *h,
				    struct hrservo_traj_info *info);
/**
 * hrservo_traj_owned() - the channels a trajectory owns
 * @h: the controller
 * @axes: set to the mask of the channels that the queued (or holding)
 *	trajectory moves: direct targets for them fail with EBUSY
 *
 * errno: ENOTSUP if the backend or the driver (before its ABI version 3)
 * cannot say.
 */
HRSERVO_API int hrservo_traj_owned(struct hrservo *h, uint64_t *axes);
/** hrservo_traj_stop() - drop the queue; axes brake and hold */
HRSERVO_API int hrservo_traj_stop(struct hrservo *h);

/**
 * hrservo_traj_load_csv() - read waypoints from a CSV file
 * @path: the file: a header "t_s,chN_UNIT,..." (UNIT us, ns or ms; or
 *	t_ms for times in ms), then one row per waypoint. Fields are
 *	separated by commas, blanks around them ignored; none may be empty
 *	(no ",," and no trailing comma). Values are decimal numbers
 *	([+-]digits[.digits][e[+-]digits]; no hex, inf or nan). Empty lines
 *	and lines starting with # are skipped, and a UTF-8 byte order mark
 *	at the start of the file. A t_s trajectory longer than 1000 s whose
 *	times are all whole numbers is refused as probably in ms ("did you
 *	mean t_ms?"): write such seconds with a decimal point. A comment
 *	line "# interp: linear" (or cubic, minjerk) before the header sets
 *	the trajectory's interpolation (hrservo_traj_interp()), as servoctl
 *	record writes for a recording; another word there, or a second such
 *	line, is an error.
 * @err: output (may be NULL), a message "FILE:LINE: what is wrong", or
 *	"FILE:LINE:COLUMN: ..." for an empty field, naming the field
 * @errsize: size of @err
 *
 * Return: a new trajectory (hrservo_traj_free()), or NULL with errno
 * (EINVAL for bad content or a NULL @path, E2BIG for more than
 * HRSERVO_TRAJ_MAX_WAYPOINTS rows, or that of fopen()) and @err set.
 */
HRSERVO_API struct hrservo_traj *hrservo_traj_load_csv(const char *path,
						       char *err,
						       size_t errsize);

struct hrservo_calib;

/**
 * hrservo_traj_load_csv_calib() - read waypoints, with joint columns
 * @path: the file, as for hrservo_traj_load_csv(); columns may also be
 *	JOINT_deg, JOINT_rad or JOINT_pct for joints of @calib on @controller
 *	(in the joint's unit); their values go through the joint's map
 * @calib: the robot's calibration
 * @controller: the controller the trajectory is for (alias or spec), or
 *	NULL: the joints may be of any controller of @calib, but all of the
 *	same one (a trajectory plays on one controller)
 * @err: output, "FILE:LINE: what is wrong"
 * @errsize: size of @err
 *
 * Positions outside a joint's soft limits are errors.
 */
HRSERVO_API struct hrservo_traj *
hrservo_traj_load_csv_calib(const char *path, const struct hrservo_calib *calib,
			    const char *controller, char *err, size_t errsize);

/* ---- Values: parsing what users type ---- */

enum hrservo_unit {
	HRSERVO_UNIT_NS,
	HRSERVO_UNIT_US,
	HRSERVO_UNIT_MS,
	HRSERVO_UNIT_S,
	HRSERVO_UNIT_PERCENT,	/* of the channel's min..max range */
	HRSERVO_UNIT_DEG,	/* needs a calibration */
	HRSERVO_UNIT_RAD,	/* needs a calibration */
};

/**
 * struct hrservo_value - a parsed value such as "1.5ms", "50%" or "+=10us"
 * @sign: 0 for an absolute value; +1 or -1 for a relative one
 * @unit: its unit
 * @nano: its magnitude in billionths of @unit (exact: "1.5ms" is 1500000000
 *	with HRSERVO_UNIT_MS)
 */
struct hrservo_value {
	int sign;
	enum hrservo_unit unit;
	int64_t nano;
};

/**
 * hrservo_value_parse() - parse a value
 * @s: e.g. "1500us", "1.5ms", "1500000ns", "0.0015s", "50%", "90deg",
 *	"-45deg", "1.2rad"; relative: "+=10us", "-=5%", "+=2deg"; a unit is
 *	required; up to 9 decimals
 * @v: output
 *
 * Only "+=" and "-=" make a value relative. A bare "-" is the sign of an
 * angle; any other bare sign ("+10deg", "+20us", "-5%") is ambiguous and
 * refused with EDOM, @v filled in as if it were relative, so that the
 * caller can show both meanings.
 *
 * errno: EINVAL (empty, no or unknown unit, stray characters), EDOM (an
 * ambiguous sign), ERANGE (too large).
 */
HRSERVO_API int hrservo_value_parse(const char *s, struct hrservo_value *v);

/**
 * hrservo_value_to_ns() - turn a value into a pulse width for one channel
 * @v: the value
 * @min_ns: the channel's lower limit (for %)
 * @max_ns: the channel's upper limit (for %)
 * @current_ns: the channel's current target, 0 if none (for relative values)
 * @pulse_ns: output, rounded to the nearest ns (ties to even), computed in
 *	integers from the exact decimal: "10000001.499999999ns" is 10000001
 *
 * The result is not checked against the limits: the caller (and the kernel)
 * does that. errno: ENODATA (relative value, but no current target),
 * ERANGE (below 0 or beyond 32 bits), ENOTSUP (deg/rad without calibration).
 */
HRSERVO_API int hrservo_value_to_ns(const struct hrservo_value *v,
				    uint32_t min_ns, uint32_t max_ns,
				    uint32_t current_ns, uint32_t *pulse_ns);

/**
 * hrservo_format_ns() - format a width for people: "1500us", "1500.5us"
 * @ns: the width
 * @buf: output
 * @size: size of @buf; 24 bytes always suffice
 *
 * Return: @buf.
 */
HRSERVO_API const char *hrservo_format_ns(uint32_t ns, char *buf,
					  size_t size);

/* ---- Calibration: joints in deg, rad or % ---- */

#define HRSERVO_JOINT_NAME_MAX	32	/* with the NUL */
#define HRSERVO_DEVICE_MAX	64	/* a controller name or spec, with NUL */
#define HRSERVO_MAP_POINTS_MAX	16

enum hrservo_map_kind {
	HRSERVO_MAP_LINEAR,	/* piecewise linear between the points */
	HRSERVO_MAP_CUBIC,	/* monotone cubic (Fritsch-Carlson) through them */
};

/**
 * struct hrservo_joint - the calibration of one servo
 * @name: joint name, e.g. "shoulder_pitch" (letters, digits, _)
 * @controller: its controller: a [controller] alias of the file or a
 *	controller spec ("hrservo0"); a string that a file can hold (no
 *	control character, no white space at either end, no ';' at the start
 *	or after a space)
 * @channel: its channel
 * @unit: HRSERVO_UNIT_DEG, HRSERVO_UNIT_RAD or HRSERVO_UNIT_PERCENT
 * @npoints: points of the map, 2..HRSERVO_MAP_POINTS_MAX
 * @pos: their positions in @unit, strictly increasing, within -1e9..1e9
 *	and at least 1e-6 apart
 * @pulse_ns: the pulse width at each, strictly monotonic, 50 us..50 ms
 * @map: how to go between the points
 * @invert: the joint turns the other way: position p acts as
 *	pos[0] + pos[npoints - 1] - p on the map
 * @trim_ns: added to every pulse (centre trim)
 * @min: soft lower limit in @unit, within the map
 * @max: soft upper limit in @unit, within the map
 * @has_home: @home is set
 * @home: home position in @unit
 * @max_speed: speed limit in @unit per second, 0 for none
 * @max_accel: acceleration limit in @unit per second squared, 0 for none
 */
struct hrservo_joint {
	char name[HRSERVO_JOINT_NAME_MAX];
	char controller[HRSERVO_DEVICE_MAX];
	unsigned int channel;
	enum hrservo_unit unit;
	unsigned int npoints;
	double pos[HRSERVO_MAP_POINTS_MAX];
	double pulse_ns[HRSERVO_MAP_POINTS_MAX];
	enum hrservo_map_kind map;
	bool invert;
	double trim_ns;
	double min;
	double max;
	bool has_home;
	double home;
	double max_speed;
	double max_accel;
};

/**
 * struct hrservo_limits_ns - kernel limits derived from a joint
 * @min_ns: pulse at the soft limit that gives the shorter pulse
 * @max_ns: pulse at the other soft limit
 * @max_speed_ns_per_s: the joint's speed limit times the map's shallowest
 *	slope between the soft limits (rounded down, at least 1): the joint
 *	moves at (pulse speed) / (slope), so this keeps it within max_speed on
 *	every part of the map; where the map is steeper it is held slower
 * @max_accel_ns_per_s2: the joint's acceleration limit times the same
 *	slope. It bounds the part of the joint's acceleration that comes from
 *	the pulse's; where the map bends (at the inner points of a linear
 *	map, anywhere on a cubic) the joint also accelerates at a constant
 *	pulse speed, and the kernel, which sees pulses only, cannot bound that
 *
 * 0 for a joint without that limit.
 */
struct hrservo_limits_ns {
	uint32_t min_ns;
	uint32_t max_ns;
	uint32_t max_speed_ns_per_s;
	uint32_t max_accel_ns_per_s2;
};

/** hrservo_unit_name() - "us", "deg", "%"... */
HRSERVO_API const char *hrservo_unit_name(enum hrservo_unit u);

/**
 * hrservo_joint_check() - is a joint consistent?
 * @j: the joint
 * @err: output (may be NULL), what is wrong, naming the joint and the value
 * @errsize: size of @err
 *
 * Every field is checked against its documentation in struct
 * hrservo_joint (the name and controller must also be NUL-terminated
 * within their arrays), and the trim must keep the pulses at the soft
 * limits within 50 us..50 ms. The functions below check the joint they
 * are given the same way (but for name, controller, channel and unit).
 *
 * Return: 0, or -1 with errno EINVAL.
 */
HRSERVO_API int hrservo_joint_check(const struct hrservo_joint *j, char *err,
				    size_t errsize);
/**
 * hrservo_joint_to_ns() - the pulse width of a position
 * Return: 0, or -1 with errno EINVAL for a joint hrservo_joint_check()
 * refuses, ERANGE if @pos is outside the soft limits (or NaN).
 */
HRSERVO_API int hrservo_joint_to_ns(const struct hrservo_joint *j, double pos,
				    double *pulse_ns);
/**
 * hrservo_joint_from_ns() - the position of a pulse width (the inverse)
 * Return: 0, or -1 with errno EINVAL for a joint hrservo_joint_check()
 * refuses, ERANGE if the width is off the map (or NaN).
 */
HRSERVO_API int hrservo_joint_from_ns(const struct hrservo_joint *j,
				      double pulse_ns, double *pos);
/**
 * hrservo_joint_kernel_limits() - the kernel limits that enforce the joint's
 * soft limits, speed and acceleration (what servoctl calibrate apply sets);
 * see struct hrservo_limits_ns for what they guarantee
 * Return: 0, or -1 with errno EINVAL for a joint hrservo_joint_check()
 * refuses (every value then fits the struct's 32 bits).
 */
HRSERVO_API int hrservo_joint_kernel_limits(const struct hrservo_joint *j,
					    struct hrservo_limits_ns *l);

/* A robot's calibration: its joints and controller aliases. */
struct hrservo_calib;

HRSERVO_API struct hrservo_calib *hrservo_calib_new(void);
HRSERVO_API void hrservo_calib_free(struct hrservo_calib *c);
/**
 * hrservo_calib_load() - read a calibration file
 * @path: the file
 * @err: output on failure: "FILE:LINE: what is wrong" (or "FILE: reason")
 * @errsize: size of @err
 *
 * Unknown sections and keys (with a suggestion for a misspelt one),
 * duplicates, bad values, unit mismatches, inconsistent maps, lines longer
 * than inih reads (197 bytes), a [section without its ']' and lines that
 * are not "key = value" are errors: nothing is loaded. Numbers are read in
 * the C locale, whatever the program's.
 *
 * Return: the calibration, or NULL with errno (ENOENT, EINVAL, ...).
 */
HRSERVO_API struct hrservo_calib *hrservo_calib_load(const char *path,
						     char *err,
						     size_t errsize);
/**
 * hrservo_calib_save() - write a calibration file atomically
 *
 * A temporary file next to @path is written and fsynced, renamed over
 * @path, and the directory is fsynced: after a crash or an error (ENOSPC,
 * EIO...) @path holds the old or the new calibration, never part of one.
 * Every number is written (in the C locale) so that hrservo_calib_load()
 * reads back the same double: the file loads to the same calibration.
 * Return: 0, or -1 with errno (EINVAL if a string could not be read back,
 * which hrservo_calib_put() and hrservo_calib_set_device() already refuse).
 */
HRSERVO_API int hrservo_calib_save(const struct hrservo_calib *c,
				   const char *path);
HRSERVO_API unsigned int hrservo_calib_count(const struct hrservo_calib *c);
/** hrservo_calib_joint() - joint @i, or NULL; valid until the next change */
HRSERVO_API const struct hrservo_joint *
hrservo_calib_joint(const struct hrservo_calib *c, unsigned int i);
/** hrservo_calib_find() - the joint named @name, or NULL */
HRSERVO_API const struct hrservo_joint *
hrservo_calib_find(const struct hrservo_calib *c, const char *name);
/**
 * hrservo_calib_find_channel() - the joint on @channel of @controller
 * (an alias or any spelling of a controller: "hrservo0", "/dev/hrservo0",
 * "chardev:0"),
 * or NULL
 */
HRSERVO_API const struct hrservo_joint *
hrservo_calib_find_channel(const struct hrservo_calib *c,
			   const char *controller, unsigned int channel);
/**
 * hrservo_calib_put() - add a joint, or replace the one on its channel
 * Return: 0, or -1 with errno EINVAL (see hrservo_joint_check()), EEXIST
 * (the name belongs to another channel), E2BIG; @err says why.
 */
HRSERVO_API int hrservo_calib_put(struct hrservo_calib *c,
				  const struct hrservo_joint *j, char *err,
				  size_t errsize);
/** hrservo_calib_device() - the device of alias @controller, else itself */
HRSERVO_API const char *hrservo_calib_device(const struct hrservo_calib *c,
					      const char *controller);
/** hrservo_calib_set_device() - make @name an alias of @device */
HRSERVO_API int hrservo_calib_set_device(struct hrservo_calib *c,
					 const char *name, const char *device);
/**
 * hrservo_calib_apply() - set a controller's kernel limits from its joints
 * @c: the calibration
 * @h: the controller
 * @err: output on failure: what is wrong, naming the joint (may be NULL)
 * @errsize: size of @err
 *
 * Every joint of @c on @h (the one hrservo_calib_find_channel() gives for
 * its channel) gets the pulse, speed and acceleration limits of
 * hrservo_joint_kernel_limits() on its channel. All or nothing: every
 * joint's limits are derived and the channel's current ones read before
 * any is set, and if the controller refuses one, the limits already set
 * are put back.
 *
 * Return: the number of joints applied (0 if @c has none on @h), or -1
 * with errno: EINVAL (a joint's channel beyond @h's channels; @c or @h
 * NULL), ERANGE (an inconsistent joint, or limits outside the controller's
 * pulse bounds), EBUSY (a channel runs at a target outside its new
 * limits), ENODEV (controller gone), or another errno of
 * hrservo_set_limits() or hrservo_set_motion_limits().
 */
HRSERVO_API int hrservo_calib_apply(const struct hrservo_calib *c,
				    struct hrservo *h, char *err,
				    size_t errsize);

/* ---- Teleoperation: stick shaping and the mapping file (API version 5) ---- */

/**
 * struct hrservo_shape - how a stick's deflection becomes a command
 * @deadzone: 0 <= d < 1, of full deflection: no output within it
 * @expo: 0..1: y = (1 - e) x + e x^3 (0 linear, 1 cubic: finer near centre)
 * @scale: > 0, the output at full deflection
 * @invert: flip the sign
 */
struct hrservo_shape {
	double deadzone;
	double expo;
	double scale;
	bool invert;
};

/**
 * hrservo_shape() - shape a normalised deflection
 * @s: the shaping
 * @x: deflection -1..1 (clamped to it)
 *
 * 0 for |x| <= deadzone; beyond it the deflection is rescaled,
 * r = (|x| - deadzone) / (1 - deadzone), so that just outside the
 * deadzone the output is ~0 and full deflection gives 1 (no step at the
 * deadzone's edge); then y = (1 - expo) r + expo r^3, times scale, with the
 * sign of @x, flipped if @invert.
 *
 * Return: the shaped value, -scale..scale; 0 for a NaN @x or an @s with a
 * field outside its range (or NaN, or an infinite scale).
 */
HRSERVO_API double hrservo_shape(const struct hrservo_shape *s, double x);
/**
 * hrservo_axis_norm() - a raw evdev axis value as a stick deflection
 * @value: the value
 * @min: the axis' minimum (struct input_absinfo, libevdev_get_abs_info())
 * @max: its maximum
 *
 * Return: -1 at @min, +1 at @max, 0 midway, linear between, clamped to
 * -1..1; 0 if @max <= @min.
 */
HRSERVO_API double hrservo_axis_norm(int value, int min, int max);
/**
 * hrservo_axis_norm_trigger() - a raw evdev axis value as a trigger's pull
 * @value: the value
 * @min: the axis' minimum: the trigger at rest
 * @max: its maximum: pulled fully
 *
 * Return: 0 at @min, 1 at @max, linear between, clamped to 0..1; 0 if
 * @max <= @min.
 */
HRSERVO_API double hrservo_axis_norm_trigger(int value, int min, int max);
/**
 * hrservo_rate_limit() - move towards a value at a limited rate
 * @current: where it is
 * @desired: where it should go
 * @max_rate: at most this much per second; <= 0: no limit
 * @dt_s: over this time, seconds
 *
 * Return: @desired if it is within @max_rate * @dt_s of @current (or
 * there is no limit), else @current moved by @max_rate * @dt_s towards
 * it. With a limit, a @dt_s <= 0 returns @current. NaN: a NaN @desired,
 * @max_rate or @dt_s returns @current; a NaN @current returns @desired.
 */
HRSERVO_API double hrservo_rate_limit(double current, double desired,
				      double max_rate, double dt_s);

/* A mapping from gamepad axes and buttons to joints (a teleop map file). */
struct hrservo_teleop_map;

/**
 * hrservo_teleop_map_load() - read a mapping file
 * @path: the file: INI, read as calibration files are (inih, the same
 *	line rules); see "Teleoperation" in Documentation/libhrservo.rst
 * @calib: the robot's calibration: the map's joints are its joints, in
 *	their units, within their soft limits
 * @err: output on failure (may be NULL): "FILE:LINE: what is wrong" (or
 *	"FILE: reason"), naming the bad value and the limit it breaks
 * @errlen: size of @err
 *
 * Unknown sections, keys (with a suggestion) and evdev names, a key given
 * twice, a button used twice, a joint mapped by two axes, values outside
 * their ranges or the joints' soft limits, unknown poses, a missing
 * deadman and a joint that would move to a target with no rate limit are
 * errors: nothing is loaded.
 *
 * Return: the map (hrservo_teleop_map_free()), or NULL with errno (EINVAL
 * for the content or a NULL @path or @calib, ENOMEM, or that of fopen()).
 */
HRSERVO_API struct hrservo_teleop_map *
hrservo_teleop_map_load(const char *path, const struct hrservo_calib *calib,
			char *err, size_t errlen);
/** hrservo_teleop_map_free() - release a map */
HRSERVO_API void hrservo_teleop_map_free(struct hrservo_teleop_map *m);

/*
 * The teleop engine: pure logic, no I/O, host-testable. Feed it the
 * gamepad's events and the time; it keeps the desired position of every
 * joint the map drives. The caller sends those to the servos.
 */
struct hrservo_teleop;

/**
 * hrservo_teleop_new() - an engine for a map
 * @m: the map (copied: it may be freed afterwards)
 * @calib: the calibration, with every joint @m names (by name; normally
 *	the one @m was loaded with). The soft limits and max_speed are
 *	copied from it.
 *
 * The engine starts with no input (as after hrservo_teleop_reset_input())
 * and no joint position: seed each with hrservo_teleop_set_position().
 *
 * Return: the engine (hrservo_teleop_free()), or NULL with errno EINVAL
 * (NULL arguments, a joint of @m not in @calib, or one that needs a rate
 * limit and has none in @m or @calib), ENOMEM.
 */
HRSERVO_API struct hrservo_teleop *
hrservo_teleop_new(const struct hrservo_teleop_map *m,
		   const struct hrservo_calib *calib);
/** hrservo_teleop_free() - release an engine */
HRSERVO_API void hrservo_teleop_free(struct hrservo_teleop *t);
/**
 * hrservo_teleop_set_absinfo() - an absolute axis' range
 * @t: the engine
 * @code: the axis (ABS_X...)
 * @min: its minimum (libevdev_get_abs_info())
 * @max: its maximum
 *
 * An axis whose range is not known (or with @max <= @min) reads as
 * centred (a trigger: at rest). Axes the map does not use are ignored.
 * The ranges survive hrservo_teleop_reset_input().
 */
HRSERVO_API void hrservo_teleop_set_absinfo(struct hrservo_teleop *t,
					    unsigned int code, int min,
					    int max);
/**
 * hrservo_teleop_input() - feed one evdev event
 * @t: the engine
 * @type: EV_KEY or EV_ABS; others are ignored
 * @code: the button or axis
 * @value: a button's 1 (press), 0 (release), 2 (autorepeat: held, no new
 *	press); an axis' raw value
 *
 * A press of a pose or step button sets where its joints go (they move
 * in hrservo_teleop_step()); it is ignored while the engine may not move
 * (hrservo_teleop_deadman() false). An e-stop press works always: it
 * drops every pose and step in progress and disarms the deadman, which
 * must then be released and pressed again. Feed events as they come, not
 * a device's initial state: a deadman already held when a device comes
 * back must not count as a press.
 */
HRSERVO_API void hrservo_teleop_input(struct hrservo_teleop *t,
				      unsigned int type, unsigned int code,
				      int value);
/**
 * hrservo_teleop_reset_input() - forget every input (the gamepad is lost)
 * @t: the engine
 *
 * The deadman is released and disarmed (it must be pressed anew), sticks
 * centred, triggers at rest, buttons up, turbo off, poses and steps in
 * progress dropped. Joint positions and axis ranges are kept; an e-stop
 * press not yet reported by hrservo_teleop_step() still is.
 */
HRSERVO_API void hrservo_teleop_reset_input(struct hrservo_teleop *t);
/**
 * hrservo_teleop_set_position() - seed (or re-seed) a joint's position
 * @t: the engine
 * @i: the joint, 0..hrservo_teleop_num_joints() - 1
 * @pos: where it is, in the joint's unit (from the servo's current pulse,
 *	hrservo_joint_from_ns())
 *
 * A joint without a position does not move. Setting one drops the pose or
 * step the joint was going to. A @pos outside the soft limits by at most
 * 1e-6 of their span (the rounding of a pulse at a limit) is taken as the
 * limit.
 *
 * Return: 0, or -1 with errno EINVAL (@i out of range, @pos not finite) or
 * ERANGE (@pos outside the soft limits): the joint's position is then
 * unchanged.
 */
HRSERVO_API int hrservo_teleop_set_position(struct hrservo_teleop *t,
					    size_t i, double pos);

#define HRSERVO_TELEOP_MOVED	(1u << 0)	/* some joint's position changed */
#define HRSERVO_TELEOP_ESTOP	(1u << 1)	/* the e-stop button was pressed */
#define HRSERVO_TELEOP_DEADMAN	(1u << 2)	/* hrservo_teleop_deadman() changed */
/* The longest time one step integrates: after a stall nothing catches up. */
#define HRSERVO_TELEOP_MAX_DT_NS	100000000ull

/**
 * hrservo_teleop_step() - advance to @now_ns
 * @t: the engine
 * @now_ns: the time, CLOCK_MONOTONIC ns; the first call only sets the
 *	clock. The time since the last call counts up to
 *	HRSERVO_TELEOP_MAX_DT_NS; a time earlier than the last is 0 s.
 *
 * While the engine may move (hrservo_teleop_deadman()), every seeded joint
 * moves: a rate-mode axis integrates its shaped value (unit/s, times the
 * turbo scale while turbo is held); a position-mode axis makes its stick's
 * place between from and to the target; a pose or step button makes its
 * value the target, until the joint's axis moves. Targets are approached
 * at most at the joint's rate limit (the smaller of the axis' max_rate
 * and the calibration's max_speed, where set), rate-mode speeds are
 * capped by it, and every position stays within the joint's soft limits.
 * Without the deadman nothing moves: positions hold, and poses and steps
 * in progress are dropped; pressed again, rate mode goes on from where
 * the joint is and position mode approaches the stick's place within the
 * rate limit: nothing jumps.
 *
 * Return: a mask of HRSERVO_TELEOP_* for what happened since the last call.
 */
HRSERVO_API unsigned int hrservo_teleop_step(struct hrservo_teleop *t,
					     uint64_t now_ns);
/** hrservo_teleop_num_joints() - the joints the map drives */
HRSERVO_API size_t hrservo_teleop_num_joints(const struct hrservo_teleop *t);
/**
 * hrservo_teleop_joint() - the @i-th joint the map drives: its index in the
 * calibration given to hrservo_teleop_new() (hrservo_calib_joint()); the
 * joints come in the calibration's order. UINT_MAX if @i is out of range.
 */
HRSERVO_API unsigned int hrservo_teleop_joint(const struct hrservo_teleop *t,
					      size_t i);
/**
 * hrservo_teleop_position() - the @i-th joint's desired position, in its
 * unit; NaN if it has none yet (or @i is out of range)
 */
HRSERVO_API double hrservo_teleop_position(const struct hrservo_teleop *t,
					   size_t i);
/**
 * hrservo_teleop_deadman() - may the engine move? The deadman is held
 * (pressed since the last reset or e-stop), or the map says deadman = none
 */
HRSERVO_API bool hrservo_teleop_deadman(const struct hrservo_teleop *t);
/** hrservo_teleop_turbo() - is a turbo button held? */
HRSERVO_API bool hrservo_teleop_turbo(const struct hrservo_teleop *t);
/**
 * hrservo_teleop_mode() - "rate", "position" or "mixed": the modes of the
 * map's axes, for a status line; "none" for a map without axes
 */
HRSERVO_API const char *hrservo_teleop_mode(const struct hrservo_teleop *t);

#ifdef __cplusplus
}
#endif

#endif /* HRSERVO_H */
