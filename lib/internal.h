/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhrservo internals: the backend interface and the objects behind the
 * opaque types of hrservo.h. Nothing here is part of the API.
 */
#ifndef HRSERVO_INTERNAL_H
#define HRSERVO_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

struct hrservo_list;

/*
 * A backend. hrservo_open() gives a spec "SCHEME:REST" to the backend whose
 * scheme is SCHEME (REST to its open), and asks each backend in turn
 * whether it claims any other spec, then opens it with that backend. A
 * backend claims only its own forms: never "any path".
 *
 * Every operation follows the API's error convention (0, or -1 with
 * errno). The core has already checked channel numbers against
 * hrservo.nch where the API takes one. Operations marked optional may be
 * NULL: the calls that need them fail with ENOTSUP, and hrservo_caps()
 * derives the capabilities from which are there (see core.c's
 * ops_caps()), so that a backend cannot claim what it cannot do.
 */
/*
 * The options of hrservo_open_with() (struct hrservo_open_config in the
 * API): @period_ns the frame period to set once open (0: as it is),
 * @rt_prio the SCHED_FIFO priority of a library thread of the backend
 * (HRSERVO_RT_DEFAULT: the backend's; 0: none).
 */
struct hrservo_open_config {
	uint32_t period_ns;
	int rt_prio;
};

struct hrservo_backend {
	const char *name;
	/* The scheme of "SCHEME:SPEC" (optional: no such form). */
	const char *scheme;
	/* Claims a spec without a scheme (optional: none). No side effect. */
	bool (*claims)(const char *spec);
	/*
	 * Fill in name, backend, nch, pulse bounds, resolution and priv.
	 * @cfg: the caller's options, never NULL (defaults without); the core
	 * applies the frame period itself after a successful open.
	 */
	int (*open)(struct hrservo *h, const char *spec,
		    const struct hrservo_open_config *cfg);
	void (*close)(struct hrservo *h);
	/*
	 * Optional: add the controllers of this backend present on the system
	 * to @list (hrservo_list_add()). None present is not an error.
	 */
	int (*list)(struct hrservo_list *list);
	/*
	 * Optional: the capabilities of this controller among those its ops
	 * give (a driver too old for some): the core keeps only those.
	 */
	uint32_t (*caps)(struct hrservo *h);
	/*
	 * apply: @n targets at one frame boundary (HRSERVO_CAP_ATOMIC_BATCH).
	 * apply_one: one target, for a backend without apply. One of the two.
	 */
	int (*apply)(struct hrservo *h, const struct hrservo_target_item *t,
		     size_t n);
	int (*apply_one)(struct hrservo *h, const struct hrservo_target_item *t);
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
	/*
	 * Six coefficients (1/65536 ns) per axis, axes in channel order.
	 * Queued whole or refused whole. The kernel's queue is bounded: the
	 * core sends a long trajectory in parts (HRSERVO_TRAJ_SUBMIT_MAX
	 * segments at most) and waits for room between them; see traj_whole.
	 */
	int (*traj_submit)(struct hrservo *h,
			   const struct hrservo_seg_item *segs, size_t n,
			   const int64_t *coefs, size_t ncoefs,
			   unsigned int flags, uint64_t at_ns);
	int (*traj_status)(struct hrservo *h, struct hrservo_traj_info *info);
	/*
	 * A backend that plays trajectories in the library (gpiod) owns its
	 * flow control: its traj_submit takes a whole trajectory of any
	 * length in one call (ENOSPC, nothing queued, beyond what its own
	 * queue holds), and the core neither splits it nor polls for room.
	 */
	bool traj_whole;
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
	char name[400];		/* a gpiod spec lists up to 64 lines */
	char backend[32];
	unsigned int nch;
	uint32_t pulse_min_ns;
	uint32_t pulse_max_ns;
	uint32_t resolution_ns;
	void *priv;			/* the backend's */
};

HRSERVO_HIDDEN extern const struct hrservo_backend hrservo_chardev_backend;
/* Built where libgpiod v2 is (HRSERVO_HAVE_GPIOD): lib/gpiod.c. */
HRSERVO_HIDDEN extern const struct hrservo_backend hrservo_gpiod_backend;
/*
 * The name a gpiod handle of @spec (after "gpiod:") would have: its chip
 * by name, its lines folded, no options; any spelling of the chip (path,
 * name, label) gives the same where the chip is here (a label is looked
 * up; a chip not here keeps the spelling given). 0, or -1 if @spec is no
 * CHIP:LINES. Keeps errno and hrservo_last_error().
 */
HRSERVO_HIDDEN int hrservo_gpiod_canonical(const char *spec, char *out,
					   size_t size);

/*
 * A locked arena (lib/arena.c): memory a backend's real-time thread reads,
 * mapped in chunks of at least HRSERVO_ARENA_CHUNK bytes, locked in RAM
 * when .lock. Thread-safe: its mutex (priority-inheriting) is held only
 * for pointer work, never across a system call, so hrservo_arena_free()
 * may be called with a lock the real-time thread takes. A chunk whose
 * allocations are all freed waits, mapped, to be carved anew or unmapped
 * by hrservo_arena_trim() or the next hrservo_arena_alloc().
 */
#define HRSERVO_ARENA_CHUNK	(64 * 1024)
/* Bytes an allocation of @bytes takes in its chunk (header included). */
#define HRSERVO_ARENA_COST(bytes)	(16 + (((bytes) + 15) & ~(size_t)15))
struct hrservo_arena_chunk;
struct hrservo_arena {
	pthread_mutex_t mutex;
	bool lock;			/* mlock() each chunk; set before use */
	/* mutex */
	struct hrservo_arena_chunk *cur;	/* carved from, or NULL */
	struct hrservo_arena_chunk *empty;	/* all freed, still mapped */
	size_t chunks;			/* mapped now */
	size_t mapped, locked;		/* bytes mapped, locked now */
};
HRSERVO_HIDDEN void hrservo_arena_init(struct hrservo_arena *a, bool lock);
/*
 * @bytes, 16-byte aligned, or NULL with errno: ENOMEM, or what mlock()
 * said (ENOMEM, EPERM, EAGAIN), and then *@refused (if given) the bytes
 * it was asked to lock and *@locked (if given) those locked then; 0
 * otherwise. May map a chunk: not with a lock the real-time thread takes.
 */
HRSERVO_HIDDEN void *hrservo_arena_alloc(struct hrservo_arena *a,
					 size_t bytes, size_t *refused,
					 size_t *locked);
/* Bytes of new chunks that @count allocations of @bytes each take. */
HRSERVO_HIDDEN size_t hrservo_arena_need(size_t count, size_t bytes);
/* Give back @p (NULL: nothing); no system call. */
HRSERVO_HIDDEN void hrservo_arena_free(struct hrservo_arena *a, void *p);
/* Unmap the chunks with nothing allocated: not with such a lock held. */
HRSERVO_HIDDEN void hrservo_arena_trim(struct hrservo_arena *a);
/* Every allocation must be freed first. */
HRSERVO_HIDDEN void hrservo_arena_destroy(struct hrservo_arena *a);

/* Clear the words of hrservo_last_error(). */
HRSERVO_HIDDEN void hrservo_clear_error(void);
/* Set the words of hrservo_last_error() (numbers in the C locale); errno kept. */
HRSERVO_HIDDEN void hrservo_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Add controller @name to @list (a backend's list op). 0, or -1 ENOMEM. */
HRSERVO_HIDDEN int hrservo_list_add(struct hrservo_list *list,
				    const char *name);
/*
 * The scheme of "SCHEME:REST" (SCHEME: a lower-case letter, then lower-case
 * letters and digits, at most 15, before any '/'): its length, *@rest set
 * to REST; 0 if @spec has none.
 */
HRSERVO_HIDDEN size_t hrservo_spec_scheme(const char *spec, const char **rest);
/* Schemes reserved for backends to come: "gpiod", "usb". */
HRSERVO_HIDDEN bool hrservo_scheme_reserved(const char *scheme, size_t len);
/*
 * The chardev backend's spec forms that need no file system: "N",
 * "hrservoN", "/dev/hrservoN" (N decimal, < 1000000). True, with the
 * device's path "/dev/hrservoN" into @path of @size, for one of them.
 */
HRSERVO_HIDDEN bool hrservo_chardev_spec_path(const char *spec, char *path,
					      size_t size);
/*
 * The motion limits of @ch, or 0 and 0 (no limit) if the controller has
 * none (no HRSERVO_CAP_MOTION_LIMITS): for the library's readers of limits.
 */
HRSERVO_HIDDEN int hrservo_motion_or_none(struct hrservo *h, unsigned int ch,
					  uint32_t *speed, uint32_t *accel);

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

/* ---- The INI files of the library (lib/ini.c) ---- */

/* White space as inih sees it (isspace() in the C locale). */
static inline bool hrservo_is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* snprintf() of a message into @err (may be NULL), numbers in the C locale. */
HRSERVO_HIDDEN void hrservo_seterr(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A joint (or pose) name: letters, digits and _, not a digit first, < 32. */
HRSERVO_HIDDEN bool hrservo_valid_name(const char *s);
/* Edit distance (with transpositions) of two short strings; 99 if long. */
HRSERVO_HIDDEN unsigned int hrservo_distance(const char *a, const char *b);

struct hrservo_ini_key {
	char name[32];
	char value[2048];	/* a map of 16 points of 20 digits each */
	int line;
};

struct hrservo_ini;

/* What one kind of file is made of. */
struct hrservo_ini_ops {
	/*
	 * The keys [@section] takes, NULL-terminated, or NULL for a section
	 * the file does not have. Called at the section's header line.
	 */
	const char *const *(*section_keys)(struct hrservo_ini *ini,
					   const char *section);
	/* The sections there are, for the error: "[joint NAME] or ..." */
	const char *sections;
	/* The one key whose value continues on indented lines, or NULL. */
	const char *multiline;
	/*
	 * What an unknown key is probably meant to be: "; did you mean
	 * 'max_speed'?", ": ..." or "". NULL: hrservo_ini_suggest() over the
	 * section's keys.
	 */
	const char *(*key_hint)(const struct hrservo_ini *ini, const char *name,
				char *buf, size_t size);
	/*
	 * A whole section has been read (also one with no key): its keys are
	 * in @ini (hrservo_ini_key()). Errors through hrservo_ini_fail().
	 */
	void (*finish)(struct hrservo_ini *ini);
	/* Optional: the whole file has been read, every section finished. */
	void (*end)(struct hrservo_ini *ini);
};

/* A file being read: what a section's owner may look at. */
struct hrservo_ini {
	const struct hrservo_ini_ops *ops;
	void *user;			/* the caller's, for the ops */
	const char *path;
	char section[200];		/* the section being collected */
	int sline;			/* its header's line, 0 before any */
	const char *const *allowed;	/* its keys */
	unsigned int nkeys;
	struct hrservo_ini_key *keys;
	/* The reader's own. */
	FILE *f;
	int line;			/* of the last line read */
	bool continuation;		/* the last line read continues a value */
	bool prev_key;			/* a key was read since the last header */
	char *buf;			/* the line being read, whole */
	size_t bufsize;
	unsigned int keycap;
	char *err;
	size_t errsize;
	bool failed;
};

/*
 * Read the INI file @path with inih, section by section (@ops->finish),
 * every error "FILE:LINE: what" into @err: unknown sections and keys, a
 * key twice in a section, lines inih would misread. The first error ends
 * the parse. Return: 0, or -1 with errno (EINVAL for the content, or that
 * of fopen()).
 */
HRSERVO_HIDDEN int hrservo_ini_load(const char *path,
				    const struct hrservo_ini_ops *ops,
				    void *user, char *err, size_t errsize);
/*
 * Fail the parse at @line: "FILE:LINE: message" into the error (the first
 * error wins). Return: 0, what inih's handler returns to stop.
 */
HRSERVO_HIDDEN int hrservo_ini_fail(struct hrservo_ini *ini, int line,
				    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The key @name of the section being finished, or NULL. */
HRSERVO_HIDDEN struct hrservo_ini_key *hrservo_ini_key(struct hrservo_ini *ini,
						       const char *name);
HRSERVO_HIDDEN bool hrservo_ini_is_key(const char *const *keys,
				       const char *name);
/* "; did you mean 'KEY'?" for the closest of @keys, or "". */
HRSERVO_HIDDEN const char *hrservo_ini_suggest(const char *name,
					       const char *const *keys,
					       char *buf, size_t size);
/*
 * The decimal number @s[0..@n) (hrservo_scan_decimal()) times 10^@shift,
 * correctly rounded from its exact value: "1500.0003" us and "1500000.3"
 * ns are the same double. False if it is not finite.
 */
HRSERVO_HIDDEN bool hrservo_file_number(const char *s, size_t n, int shift,
					double *out);
/*
 * A position (or a speed, ...: @what, for the error) @s of key @k: a
 * decimal number (an exponent allowed), with @unit as optional suffix;
 * another unit is a "unit mismatch". -1 after hrservo_ini_fail().
 */
HRSERVO_HIDDEN int hrservo_ini_pos(struct hrservo_ini *ini,
				   const struct hrservo_ini_key *k,
				   const char *s, enum hrservo_unit unit,
				   const char *what, double *out);
/* @k's value, a plain decimal number (no unit, inf or nan); -1 after _fail. */
HRSERVO_HIDDEN int hrservo_ini_number(struct hrservo_ini *ini,
				      const struct hrservo_ini_key *k,
				      double *out);
/* @k's value: yes/true/on/1 or no/false/off/0; -1 after hrservo_ini_fail(). */
HRSERVO_HIDDEN int hrservo_ini_bool(struct hrservo_ini *ini,
				    const struct hrservo_ini_key *k, bool *out);

#endif
