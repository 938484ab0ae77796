// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo gpiod backend: software PWM on GPIO lines from userspace,
 * through libgpiod v2, for systems where the hrservo module cannot be
 * loaded, and the baseline that shows what the kernel driver buys.
 *
 * Spec: "gpiod:CHIP:LINES[:OPTIONS]"
 *   CHIP     a GPIO chip by path ("/dev/gpiochip0"), name ("gpiochip0") or
 *            label ("pinctrl-bcm2835")
 *   LINES    the offsets of channel 0, 1, ...: "4,17,27" or ranges "0-7"
 *   OPTIONS  comma-separated: "prio=N" (SCHED_FIFO priority 1..99, default
 *            HRSERVO_GPIOD_PRIO), "no-rt" (run without real-time priority
 *            and locked memory: timing suffers, hrservo_caps() lacks
 *            HRSERVO_CAP_RT_TIMING)
 *
 * One thread per handle plays the frames: SCHED_FIFO, its stack and the
 * state it touches locked in memory, sleeping on clock_nanosleep(
 * TIMER_ABSTIME) from edge to edge. A frame's work (latching the targets,
 * the trajectory, the motion limits, the edge plan) runs PREP_LEAD_NS
 * before the frame starts, so that the rising edge is only a write of the
 * lines; a change made after that work takes effect one frame later. The
 * work is the kernel's own (lib/logic.c): hrservo_chan_step(),
 * hrservo_plan_falls(), hrservo_poly_eval().
 *
 * Locking: g->lock (a priority-inheriting mutex) guards everything marked
 * "lock" below; the player thread takes it once per frame, for the work,
 * never while it waits for an edge. While an upload holds it past
 * PREP_LEAD_NS / 2 before a frame and no call that changes anything has
 * let it go since the last work (g->api_gen), the frame repeats the last
 * one's pulses instead of waiting (lock_for_frame()).
 * Fields marked "thread" belong to the player thread alone (the API reads
 * the last frame's copy under the lock).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <gpiod.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "hrservo-logic.h"

#define NS_PER_S		1000000000ULL
/* The frame's work starts this long before the frame. */
#define PREP_LEAD_NS		500000ULL
/* The player tries a lock an upload holds this often... */
#define LOCK_POLL_NS		20000ULL
/* ...repeating frames meanwhile for this long at most, then it waits. */
#define REPEAT_FOR_NS		250000000ULL
/* The first frame after an idle player starts this long after the kick. */
#define START_LEAD_NS		1000000ULL
/* Stack of the player thread, locked. */
#define STACK_BYTES		(256 * 1024)
/* Events kept for the reader. */
#define EVQ_LEN			64
/*
 * Segments queued at most: 21 min of 20 ms segments. A trajectory comes
 * whole (traj_whole), so this bounds its length; the memory is the
 * caller's own (locked: RLIMIT_MEMLOCK bounds it first).
 */
#define TRAJ_QUEUE_MAX		65536U
#define CONSUMER		"hrservo"
/* Frames the frame record keeps (the kernel keeps 512). */
#define FRAMES_KEPT		128

enum { TRAJ_IDLE, TRAJ_WAITING, TRAJ_RUNNING, TRAJ_UNDERRUN };

struct gseg {
	uint64_t start_ns;
	uint64_t end_ns;	/* start + duration, or earlier: cut by a splice */
	struct hrservo_div dur;
	uint64_t mask;		/* its axes, as submitted */
	uint64_t live;		/* ...less those released since */
	bool last;
	s64 *coef;		/* 6 per axis of @mask, in channel order */
};

struct gchan {
	/* lock */
	bool enabled;
	uint32_t target_ns;
	struct hrservo_chan_limits lim;
	uint32_t speed, accel;		/* ns/s, ns/s^2; 0: no limit */
	s64 vmax, amax;			/* the same per frame */
	struct hrservo_div brake;
	/* thread, copied under the lock at the end of the work */
	struct hrservo_motion motion;
	uint32_t pulse_ns;		/* this frame's width, 0: none */
};

struct gpiod_servo {
	struct gpiod_chip *chip;
	struct gpiod_line_request *req;
	unsigned int nch;
	unsigned int offset[HRSERVO_MAX_CHANNELS];
	bool rt;			/* SCHED_FIFO and memory locked */
	int prio;
	bool prio_given;		/* prio=N or no-rt in the spec */
	pid_t pid;			/* that opened it: no thread in a child */
	int efd;			/* eventfd: events queued */

	pthread_t thread;
	void *stack;
	pthread_mutex_t lock;
	pthread_cond_t kick;		/* lock: the player may have work */

	/* lock */
	bool stop;
	bool running;			/* the frame clock runs */
	uint32_t period_ns;		/* of the frame being played */
	uint32_t next_period_ns;	/* from the next frame on */
	uint64_t frame_start_ns;	/* of the frame being played */
	uint64_t frames, missed;
	uint64_t api_gen;		/* lock; read by the player without */
	bool upload_holds;		/* atomic: an upload holds the lock */
	struct gchan ch[HRSERVO_MAX_CHANNELS];
	struct hrservo_event_data evq[EVQ_LEN];
	unsigned int ev_head, ev_count;
	uint32_t ev_seq;
	/* the trajectory player, lock */
	struct hrservo_arena arena;	/* seg and coefs: locked when rt */
	struct gseg *seg;		/* seg[head..head+nseg) queued */
	size_t head, nseg, segcap;
	uint64_t seg_idx;		/* index of seg[head] since the start */
	uint64_t axes;			/* channels it owns */
	uint64_t held;			/* ...the limits held back last frame */
	unsigned int tstate;
	/* the frame record: frames seq - FRAMES_KEPT + 1 .. seq, lock */
	struct hrservo_frame_data rec[FRAMES_KEPT];
	/* the watchdog, lock */
	unsigned int wd_ms;		/* 0: disarmed */
	int wd_action;
	bool wd_fired;			/* ran; waits for a change or keep-alive */
	uint64_t wd_deadline_ns;
	size_t wd_npose;
	struct hrservo_target_item wd_pose[HRSERVO_MAX_CHANNELS];
	/* the e-stop latch of this handle (its lines have no other), lock */
	bool estop;
	int estop_applied;		/* HRSERVO_FS_* it ran */
	int estop_source;		/* HRSERVO_ESTOP_BY_USER, 0: never */
	uint64_t estop_ns;

	/* thread */
	struct hrservo_edge_group groups[HRSERVO_MAX_CHANNELS];
	unsigned int ngroups;
	enum gpiod_line_value val[HRSERVO_MAX_CHANNELS];
	uint64_t fault_mask;		/* lines whose writes failed, since */
	int fault_err;			/* ...the last FAULT event; its errno */
};

static struct gpiod_servo *gs(struct hrservo *h)
{
	return h->priv;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / NS_PER_S),
		.tv_nsec = (long)(t % NS_PER_S),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

static unsigned int ffs64(uint64_t m)
{
	return (unsigned int)__builtin_ctzll(m);
}

/* An op's result: 0, or -1 with errno @err. */
static int ret_errno(int err)
{
	if (!err)
		return 0;
	errno = err;
	return -1;
}

/* ---- events ---- */

/* Queue an event; lock held. A full queue drops the oldest. */
static void ev_push_locked(struct gpiod_servo *g, unsigned int type,
			   uint64_t mask, uint32_t value)
{
	struct hrservo_event_data *e;
	uint64_t one = 1;

	if (g->ev_count == EVQ_LEN) {
		g->ev_head = (g->ev_head + 1) % EVQ_LEN;
		g->ev_count--;
	} else if (write(g->efd, &one, sizeof(one)) != sizeof(one)) {
		return;		/* cannot happen below 2^64 - 1 */
	}
	e = &g->evq[(g->ev_head + g->ev_count) % EVQ_LEN];
	e->timestamp_ns = now_ns();
	e->mask = mask;
	e->type = type;
	e->value = value;
	e->seq = ++g->ev_seq;
	g->ev_count++;
}

static int gpiod_event_fd(struct hrservo *h)
{
	return gs(h)->efd;
}

static int gpiod_read_event(struct hrservo *h, struct hrservo_event_data *ev,
			    int timeout_ms)
{
	struct gpiod_servo *g = gs(h);
	struct pollfd pfd = { .fd = g->efd, .events = POLLIN };
	uint64_t one;
	int n;

	for (;;) {
		pthread_mutex_lock(&g->lock);
		if (g->ev_count && read(g->efd, &one, sizeof(one)) ==
				   sizeof(one)) {
			*ev = g->evq[g->ev_head];
			g->ev_head = (g->ev_head + 1) % EVQ_LEN;
			g->ev_count--;
			pthread_mutex_unlock(&g->lock);
			return 0;
		}
		pthread_mutex_unlock(&g->lock);
		if (timeout_ms == 0) {
			errno = EAGAIN;
			return -1;
		}
		/* A signal ends the wait: EINTR reaches the caller. */
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
}

/* ---- the trajectory player (lock held) ---- */

static void *arena_alloc(struct gpiod_servo *g, size_t bytes, size_t more);

static struct gseg *seg_at(struct gpiod_servo *g, size_t i)
{
	return &g->seg[g->head + i];
}

/* Normalised time of @s at @t; 2^32 at and after its full duration. */
static uint64_t seg_u(const struct gseg *s, uint64_t t)
{
	if (t >= s->start_ns + s->dur.d)
		return 1ULL << 32;
	return hrservo_poly_u(t - s->start_ns, &s->dur);
}

/* Position (1/65536 ns) of axis @k of @s at normalised time @u. */
static s64 seg_eval(const struct gseg *s, unsigned int k, uint64_t u)
{
	const s64 *c = s->coef + 6 * k;

	return u >> 32 ? hrservo_poly_end(c) : hrservo_poly_eval(c, (u32)u);
}

/* The position in ns of @q (1/65536 ns), for a target. */
static uint32_t q_to_ns(s64 q)
{
	s64 ns = (q + (1 << (HRSERVO_Q - 1))) >> HRSERVO_Q;

	return ns < 1 ? 1 : ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Targets of the live axes of @s: its position at @t. */
static void seg_set(struct gpiod_servo *g, const struct gseg *s, uint64_t t)
{
	uint64_t u = seg_u(s, t), m;
	unsigned int k = 0, c;

	for (m = s->mask; m; m &= m - 1, k++) {
		c = ffs64(m);
		if (!(s->live & (1ULL << c)))
			continue;
		g->ch[c].target_ns = q_to_ns(seg_eval(s, k, u));
		g->ch[c].enabled = true;
	}
}

/*
 * Free what the player retired, seg[0..head), and move the queue to the
 * front. The player never frees (no allocator on its path): uploads and
 * close collect, with the lock held.
 */
static void traj_collect(struct gpiod_servo *g)
{
	for (size_t i = 0; i < g->head; i++)
		hrservo_arena_free(&g->arena, g->seg[i].coef);
	if (g->head && g->nseg)
		memmove(g->seg, g->seg + g->head, g->nseg * sizeof(*g->seg));
	g->head = 0;
}

/* Drop the queued segments from @from on. Lock held; API calls only. */
static void traj_free_segs(struct gpiod_servo *g, size_t from)
{
	traj_collect(g);
	for (size_t i = from; i < g->nseg; i++)
		hrservo_arena_free(&g->arena, seg_at(g, i)->coef);
	g->nseg = from;
}

/*
 * Drop the queue in O(1), freeing nothing (the player's failsafe runs it):
 * the next upload (or close) collects it. The axes keep their targets.
 * Lock held.
 */
static void traj_drop(struct gpiod_servo *g)
{
	g->head += g->nseg;
	g->nseg = 0;
	g->axes = 0;
	g->held = 0;
	g->tstate = TRAJ_IDLE;
}

/* Play the trajectory for the frame that starts at @t. Lock held. */
static void traj_frame(struct gpiod_servo *g, uint64_t t)
{
	bool done = false;
	struct gseg *s;

	if (!g->nseg || t < seg_at(g, 0)->start_ns)
		return;
	g->tstate = TRAJ_RUNNING;
	while (g->nseg) {
		s = seg_at(g, 0);
		if (s->live && t < s->end_ns)
			break;
		/* Ended, or left without an axis: its axes end where it ends. */
		if (s->live)
			seg_set(g, s, s->end_ns);
		done |= s->last;
		/* Retired: an API call frees it (traj_collect()). */
		g->head++;
		g->nseg--;
		g->seg_idx++;
	}
	if (g->nseg && t >= seg_at(g, 0)->start_ns)
		seg_set(g, seg_at(g, 0), t);
	if (done)
		ev_push_locked(g, HRSERVO_EV_TRAJ_DONE, g->axes, 0);
	if (!g->nseg) {
		if (done) {
			g->tstate = TRAJ_IDLE;
			g->axes = 0;
			g->held = 0;
		} else if (g->tstate != TRAJ_UNDERRUN) {
			g->tstate = TRAJ_UNDERRUN;
			ev_push_locked(g, HRSERVO_EV_TRAJ_UNDERRUN, g->axes, 0);
		}
	}
}

/* ---- the watchdog (a userspace one: it dies with the process) ---- */

static void brake_locked(struct gpiod_servo *g, uint64_t mask);

/* A change or a keep-alive: the timeout starts anew. Lock held. */
static void wd_feed_locked(struct gpiod_servo *g)
{
	if (!g->wd_ms)
		return;
	g->wd_fired = false;
	g->wd_deadline_ns = now_ns() + g->wd_ms * 1000000ULL;
	pthread_cond_signal(&g->kick);
}

/* Every channel of @g. */
static uint64_t all_channels(const struct gpiod_servo *g)
{
	return g->nch == 64 ? ~0ULL : (1ULL << g->nch) - 1;
}

/*
 * Run HRSERVO_FS_* @action on every channel (a pose: the watchdog's, held
 * instead while the e-stop is latched) and drop the trajectory, as the
 * kernel's hrservo_failsafe_locked(). Lock held; the player may run it.
 * Return: the channels that were on.
 */
static uint64_t failsafe_locked(struct gpiod_servo *g, int action)
{
	uint64_t on = 0, posed = 0;

	for (unsigned int c = 0; c < g->nch; c++)
		if (g->ch[c].enabled)
			on |= 1ULL << c;
	if (action == HRSERVO_FS_POSE && g->estop)
		action = HRSERVO_FS_HOLD;
	/*
	 * A channel on since the last frame's work has emitted nothing: it
	 * has no position to hold, and its first pulse would jump to its
	 * target. Whatever the action, it gets no pulse.
	 */
	for (uint64_t m = on; m; m &= m - 1)
		if (!g->ch[ffs64(m)].motion.valid)
			g->ch[ffs64(m)].enabled = false;
	if (action == HRSERVO_FS_RELEASE) {
		for (unsigned int c = 0; c < g->nch; c++)
			g->ch[c].enabled = false;
	} else if (action == HRSERVO_FS_POSE) {
		/* The pose's channels that are on go there; the rest hold. */
		for (size_t i = 0; i < g->wd_npose; i++) {
			unsigned int c = g->wd_pose[i].channel;
			struct gchan *ch = &g->ch[c];
			uint32_t p = g->wd_pose[i].pulse_ns;

			if (!ch->enabled)
				continue;
			/* Within the limits of the moment. */
			ch->target_ns = p < ch->lim.min_ns ? ch->lim.min_ns :
					p > ch->lim.max_ns ? ch->lim.max_ns : p;
			posed |= 1ULL << c;
		}
		brake_locked(g, on & ~posed);
	} else {
		brake_locked(g, on);
	}
	traj_drop(g);
	return on;
}

/* Run the failsafe if the armed watchdog's time is up. Lock held. */
static void wd_check_locked(struct gpiod_servo *g, uint64_t now)
{
	uint64_t on;

	if (!g->wd_ms || g->wd_fired || now < g->wd_deadline_ns)
		return;
	g->wd_fired = true;
	on = failsafe_locked(g, g->wd_action);
	ev_push_locked(g, HRSERVO_EV_WATCHDOG, on, HRSERVO_EV_WATCHDOG_EXPIRED);
}

/* ---- the player thread ---- */

/* The next frame's start, or when an idle clock would start. Lock held. */
static uint64_t next_frame_locked(struct gpiod_servo *g, uint64_t now)
{
	uint64_t next;

	if (!g->running)
		return now + START_LEAD_NS;
	next = g->frame_start_ns + g->period_ns;
	return next > now ? next : now;
}

/*
 * Raise a clamp event for the trajectory's axes that the limits hold back
 * (@held: emitted width differs from the target) and did not in the last
 * frame, as the kernel's hrservo_traj_clamped(). Lock held.
 */
static void traj_clamped(struct gpiod_servo *g, uint64_t held)
{
	uint64_t fresh;

	if (g->tstate != TRAJ_RUNNING)
		return;
	held &= g->axes;
	fresh = held & ~g->held;
	g->held = held;
	if (fresh)
		ev_push_locked(g, HRSERVO_EV_CLAMP, fresh, 0);
}

/* The queue's capacity for @want segments: doubling, within the bound. */
static size_t queue_cap(const struct gpiod_servo *g, size_t want)
{
	size_t cap = want > 2 * g->segcap ? want : 2 * g->segcap;

	return cap < TRAJ_QUEUE_MAX ? cap : TRAJ_QUEUE_MAX;
}

static bool player_needed(struct gpiod_servo *g)
{
	if (g->nseg)
		return true;
	for (unsigned int c = 0; c < g->nch; c++)
		if (g->ch[c].enabled)
			return true;
	return false;
}

/*
 * The work of the frame at @t, before it starts: latch, play, step, plan.
 * Lock held. Return: the channels with a pulse.
 */
static uint64_t frame_work(struct gpiod_servo *g, uint64_t t)
{
	uint32_t pulse[HRSERVO_MAX_CHANNELS];
	uint64_t active = 0, held_back = 0;

	g->period_ns = g->next_period_ns;
	g->frame_start_ns = t;
	wd_check_locked(g, now_ns());
	traj_frame(g, t);
	for (unsigned int c = 0; c < g->nch; c++) {
		struct gchan *ch = &g->ch[c];
		bool held;

		if (!ch->enabled) {
			ch->pulse_ns = 0;
			ch->motion.valid = false;
		} else {
			ch->pulse_ns = hrservo_chan_step(&ch->motion, &ch->lim,
							 ch->target_ns,
							 ch->vmax, ch->amax,
							 (g->axes >> c) & 1,
							 &held);
			if (held)
				held_back |= 1ULL << c;
		}
		pulse[c] = ch->pulse_ns;
		if (ch->pulse_ns)
			active |= 1ULL << c;
	}
	traj_clamped(g, held_back);
	/* Falls closer than the coalescing window would need no extra wake. */
	g->ngroups = hrservo_plan_falls(pulse, g->nch,
					HRSERVO_COALESCE_DEFAULT_NS, g->groups);
	for (unsigned int i = 0; i < g->ngroups; i++)
		for (uint64_t m = g->groups[i].mask; m; m &= m - 1)
			g->ch[ffs64(m)].pulse_ns = g->groups[i].offset_ns;
	g->frames++;
	{
		struct hrservo_frame_data *f = &g->rec[g->frames % FRAMES_KEPT];

		memset(f, 0, sizeof(*f));
		f->seq = g->frames;
		f->start_ns = t;
		f->active = active;
		f->period_ns = g->period_ns;
		for (unsigned int c = 0; c < g->nch; c++)
			f->pulse_ns[c] = g->ch[c].pulse_ns;
	}
	return active;
}

/*
 * Write the lines, of which @mask change. A failed write (the chip gone:
 * ENODEV) leaves them; the next edge writes them again, as the kernel's
 * backend retries, and the frame's end raises a FAULT event for it
 * (fault_report_locked()).
 */
static void lines_write(struct gpiod_servo *g, uint64_t mask)
{
	if (gpiod_line_request_set_values(g->req, g->val) < 0) {
		g->fault_mask |= mask;
		g->fault_err = errno;
	}
}

/* After a frame's edges: one FAULT event for its failed writes. Lock held. */
static void fault_report_locked(struct gpiod_servo *g)
{
	if (!g->fault_mask)
		return;
	ev_push_locked(g, HRSERVO_EV_FAULT, g->fault_mask,
		       (uint32_t)g->fault_err);
	g->fault_mask = 0;
}

/* One frame's edges: @active rise at @t, then the planned groups fall. */
static void frame_edges(struct gpiod_servo *g, uint64_t t, uint64_t active)
{
	uint64_t rise;

	for (unsigned int c = 0; c < g->nch; c++)
		g->val[c] = (active >> c) & 1 ? GPIOD_LINE_VALUE_ACTIVE :
					       GPIOD_LINE_VALUE_INACTIVE;
	sleep_until(t);
	/*
	 * The falls count from when the lines rose, as the kernel's do: a
	 * late wake-up delays a pulse, never shortens it.
	 */
	rise = now_ns();
	if (active)
		lines_write(g, active);
	for (unsigned int i = 0; i < g->ngroups; i++) {
		for (uint64_t m = g->groups[i].mask; m; m &= m - 1)
			g->val[ffs64(m)] = GPIOD_LINE_VALUE_INACTIVE;
		sleep_until(rise + g->groups[i].offset_ns);
		lines_write(g, g->groups[i].mask & active);
	}
}

/*
 * Take the lock for the work of the frame at @t (true), or let the frame
 * repeat the last one's pulses (false, not locked) if @may_repeat and an
 * upload still holds it by PREP_LEAD_NS / 2 before the frame, when the
 * work would be too late (player()). An upload works through the queue
 * with the lock held, for milliseconds on a small board with a long queue.
 * Any other call holds it for microseconds, and is waited for, lent this
 * thread's priority. So is an upload once a call that changes something
 * has let the lock go since the last frame's work, when g->api_gen was
 * @gen: the change is due in the next frame. (A stale read of api_gen
 * makes it one frame later at most.)
 *
 * The upload is polled, not waited for with pthread_mutex_clocklock(): a
 * waiter on a priority-inheriting lock lends the holder its priority, and
 * on one CPU the holder then keeps the CPU from it past any timeout.
 */
static bool lock_for_frame(struct gpiod_servo *g, uint64_t t, uint64_t gen,
			   bool may_repeat)
{
	uint64_t by = t - PREP_LEAD_NS / 2, now;

	if (!pthread_mutex_trylock(&g->lock))
		return true;
	while (may_repeat &&
	       __atomic_load_n(&g->upload_holds, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&g->api_gen, __ATOMIC_ACQUIRE) == gen) {
		now = now_ns();
		if (now >= by)
			return false;
		sleep_until(now + LOCK_POLL_NS < by ? now + LOCK_POLL_NS : by);
		if (!pthread_mutex_trylock(&g->lock))
			return true;
	}
	pthread_mutex_lock(&g->lock);
	return true;
}

/*
 * Let the lock go after an API call that may have changed what the next
 * frame plays; one that only read lets it go with pthread_mutex_unlock().
 */
static void api_unlock(struct gpiod_servo *g)
{
	__atomic_store_n(&g->api_gen, g->api_gen + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g->lock);
}

/* At most this many frames repeat in a row (REPEAT_FOR_NS). */
#define REPEATS_MAX	(REPEAT_FOR_NS / HRSERVO_PERIOD_MIN_NS + 1)
_Static_assert(REPEATS_MAX <= FRAMES_KEPT, "a repeat overwrote its own record");

/* An upload takes the lock: frames may repeat while it holds it. */
static void upload_lock(struct gpiod_servo *g)
{
	pthread_mutex_lock(&g->lock);
	__atomic_store_n(&g->upload_holds, true, __ATOMIC_RELAXED);
}

/* ...and lets it go: with api_unlock() if it changed the queue. */
static void upload_unlock(struct gpiod_servo *g, bool changed)
{
	__atomic_store_n(&g->upload_holds, false, __ATOMIC_RELAXED);
	if (changed)
		api_unlock(g);
	else
		pthread_mutex_unlock(&g->lock);
}

/*
 * Record the frames at @t[0..@n) that repeated the last frame's pulses, as
 * the frame clock's; @n is REPEATS_MAX at most. Lock held.
 */
static void frames_repeated(struct gpiod_servo *g, const uint64_t *t,
			    unsigned int n)
{
	const struct hrservo_frame_data *last = &g->rec[g->frames % FRAMES_KEPT];
	struct hrservo_frame_data *f;

	for (unsigned int i = 0; i < n; i++) {
		f = &g->rec[(g->frames + 1) % FRAMES_KEPT];
		*f = *last;
		f->seq = ++g->frames;
		f->start_ns = t[i];
		last = f;
	}
	g->frame_start_ns = t[n - 1];
}

static void *player(void *arg)
{
	struct gpiod_servo *g = arg;
	uint64_t t = 0, active, now, gen, missed, wd_by;
	uint64_t rep[REPEATS_MAX];
	unsigned int nrep;
	uint32_t period;

	/* No timer slack: 50 us would be 5% of a servo's travel. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	pthread_mutex_lock(&g->lock);
	for (;;) {
		bool wait = false;

		/* The lock is held here, and t is the next frame's start. */
		while (!g->stop && !g->running) {
			if (player_needed(g)) {
				g->running = true;
				g->frame_start_ns = 0;
				t = now_ns() + START_LEAD_NS;
				wait = true;
				break;
			}
			if (g->wd_ms && !g->wd_fired) {
				struct timespec ts = {
					.tv_sec = (time_t)(g->wd_deadline_ns / NS_PER_S),
					.tv_nsec = (long)(g->wd_deadline_ns % NS_PER_S),
				};

				pthread_cond_timedwait(&g->kick, &g->lock, &ts);
				wd_check_locked(g, now_ns());
			} else {
				pthread_cond_wait(&g->kick, &g->lock);
			}
		}
		if (g->stop)
			break;
		now = now_ns();
		if (!wait && now + PREP_LEAD_NS / 2 > t) {
			/* Too late for this frame's work: skip frames. */
			uint64_t n = (now + PREP_LEAD_NS / 2 - t) /
				     g->period_ns + 1;

			g->missed += n;
			t += n * g->period_ns;
			wait = true;
		}
		if (wait) {
			pthread_mutex_unlock(&g->lock);
			sleep_until(t - PREP_LEAD_NS);
			pthread_mutex_lock(&g->lock);
			if (g->stop)
				break;
		}
		active = frame_work(g, t);
		if (!active && !g->nseg) {
			g->running = false;
			continue;
		}
		gen = __atomic_load_n(&g->api_gen, __ATOMIC_RELAXED);
		period = g->period_ns;
		/* No repeat past it: the failsafe is due. */
		wd_by = g->wd_ms && !g->wd_fired ? g->wd_deadline_ns : UINT64_MAX;
		pthread_mutex_unlock(&g->lock);

		/* Only line writes from here to the frame's last fall. */
		nrep = 0;
		missed = 0;
		for (;;) {
			frame_edges(g, t, active);
			t += period;
			now = now_ns();
			if (now + PREP_LEAD_NS / 2 > t) {
				uint64_t n = (now + PREP_LEAD_NS / 2 - t) /
					     period + 1;

				missed += n;
				t += n * period;
			}
			sleep_until(t - PREP_LEAD_NS);
			if (lock_for_frame(g, t, gen, t < wd_by &&
					   (!nrep || t - rep[0] < REPEAT_FOR_NS)))
				break;
			/* Held by an upload: this frame repeats the last. */
			rep[nrep++] = t;
		}
		g->missed += missed;
		if (nrep)
			frames_repeated(g, rep, nrep);
		fault_report_locked(g);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* Call with the lock held after a change: the player may have work. */
static void kick_locked(struct gpiod_servo *g)
{
	pthread_cond_signal(&g->kick);
}

/* ---- operations ---- */

static int gpiod_apply(struct hrservo *h, const struct hrservo_target_item *t,
		       size_t n)
{
	struct gpiod_servo *g = gs(h);
	uint64_t mask = 0;
	int err = 0;

	pthread_mutex_lock(&g->lock);
	if (g->estop)
		err = EPERM;
	for (size_t i = 0; i < n && !err; i++) {
		const struct gchan *ch = &g->ch[t[i].channel];

		if (mask & (1ULL << t[i].channel))
			err = EINVAL;
		else if (t[i].pulse_ns < ch->lim.min_ns ||
			 t[i].pulse_ns > ch->lim.max_ns)
			err = ERANGE;
		else if (g->axes & (1ULL << t[i].channel))
			err = EBUSY;
		mask |= 1ULL << t[i].channel;
	}
	if (!err) {
		for (size_t i = 0; i < n; i++) {
			g->ch[t[i].channel].target_ns = t[i].pulse_ns;
			g->ch[t[i].channel].enabled = true;
		}
		ev_push_locked(g, HRSERVO_EV_STATE, mask, 0);
		wd_feed_locked(g);
		kick_locked(g);
	}
	api_unlock(g);
	return ret_errno(err);
}

static int gpiod_release(struct hrservo *h, uint64_t mask)
{
	struct gpiod_servo *g = gs(h);
	uint64_t dropped = 0;

	mask &= all_channels(g);
	pthread_mutex_lock(&g->lock);
	/* Release wins: no pulse from the next frame on, none from a trajectory. */
	for (unsigned int c = 0; c < g->nch; c++)
		if (mask & (1ULL << c))
			g->ch[c].enabled = false;
	if (g->axes & mask) {
		uint64_t left = g->axes & ~mask;

		for (size_t i = 0; i < g->nseg; i++)
			seg_at(g, i)->live &= ~mask;
		/* No axis left: the queue goes, and the event counts it. */
		if (!left)
			dropped = g->nseg;
		ev_push_locked(g, HRSERVO_EV_TRAJ_DROPPED, g->axes & mask,
			       (uint32_t)dropped);
		g->axes = left;
		g->held &= left;
		if (!left)
			traj_drop(g);
	}
	if (mask)
		ev_push_locked(g, HRSERVO_EV_STATE, mask, 0);
	wd_feed_locked(g);
	api_unlock(g);
	return 0;
}

static int gpiod_read_state(struct hrservo *h, struct hrservo_state *st)
{
	struct gpiod_servo *g = gs(h);

	pthread_mutex_lock(&g->lock);
	st->n = g->nch;
	for (unsigned int c = 0; c < g->nch; c++) {
		const struct gchan *ch = &g->ch[c];

		st->ch[c].target_ns = ch->enabled || ch->pulse_ns ?
				      ch->target_ns : 0;
		st->ch[c].pulse_ns = g->running ? ch->pulse_ns : 0;
		st->ch[c].min_ns = ch->lim.min_ns;
		st->ch[c].max_ns = ch->lim.max_ns;
		st->ch[c].enabled = ch->enabled;
		st->ch[c].active = g->running && ch->pulse_ns;
	}
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int gpiod_get_limits(struct hrservo *h, unsigned int c,
			    uint32_t *min_ns, uint32_t *max_ns)
{
	struct gpiod_servo *g = gs(h);

	pthread_mutex_lock(&g->lock);
	*min_ns = g->ch[c].lim.min_ns;
	*max_ns = g->ch[c].lim.max_ns;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int gpiod_set_limits(struct hrservo *h, unsigned int c,
			    uint32_t min_ns, uint32_t max_ns)
{
	struct gpiod_servo *g = gs(h);
	struct gchan *ch = &g->ch[c];
	int err = 0;

	pthread_mutex_lock(&g->lock);
	if (hrservo_check_limits(min_ns, max_ns, g->next_period_ns))
		err = ERANGE;
	else if (ch->enabled &&
		 (ch->target_ns < min_ns || ch->target_ns > max_ns))
		err = EBUSY;
	if (!err) {
		ch->lim.min_ns = min_ns;
		ch->lim.max_ns = max_ns;
		ev_push_locked(g, HRSERVO_EV_STATE, 1ULL << c, 0);
		wd_feed_locked(g);
	}
	api_unlock(g);
	return ret_errno(err);
}

static int gpiod_get_period(struct hrservo *h, uint32_t *period_ns,
			    uint32_t *min_ns, uint32_t *max_ns)
{
	struct gpiod_servo *g = gs(h);

	pthread_mutex_lock(&g->lock);
	*period_ns = g->next_period_ns;
	pthread_mutex_unlock(&g->lock);
	*min_ns = HRSERVO_PERIOD_MIN_NS;
	*max_ns = HRSERVO_PERIOD_MAX_NS;
	return 0;
}

static void chan_rates(struct gchan *ch, uint32_t period_ns)
{
	ch->vmax = (s64)hrservo_rate_per_frame(ch->speed, period_ns, 1);
	ch->amax = (s64)hrservo_rate_per_frame(ch->accel, period_ns, 2);
	hrservo_brake_prepare(&ch->brake, ch->amax);
}

static int gpiod_set_period(struct hrservo *h, uint32_t period_ns)
{
	struct gpiod_servo *g = gs(h);
	struct hrservo_chan_limits lim[HRSERVO_MAX_CHANNELS];
	unsigned int bad;
	int ret;

	pthread_mutex_lock(&g->lock);
	for (unsigned int c = 0; c < g->nch; c++)
		lim[c] = g->ch[c].lim;
	ret = hrservo_check_period(period_ns, HRSERVO_PERIOD_MIN_NS,
				   HRSERVO_PERIOD_MAX_NS, lim, g->nch, &bad);
	if (!ret) {
		g->next_period_ns = period_ns;
		for (unsigned int c = 0; c < g->nch; c++)
			chan_rates(&g->ch[c], period_ns);
		ev_push_locked(g, HRSERVO_EV_PERIOD, 0, period_ns);
	}
	api_unlock(g);
	return ret_errno(-ret);
}

static int gpiod_get_motion(struct hrservo *h, unsigned int c,
			    uint32_t *speed, uint32_t *accel)
{
	struct gpiod_servo *g = gs(h);

	pthread_mutex_lock(&g->lock);
	*speed = g->ch[c].speed;
	*accel = g->ch[c].accel;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int gpiod_set_motion(struct hrservo *h, unsigned int c,
			    uint32_t speed, uint32_t accel)
{
	struct gpiod_servo *g = gs(h);

	pthread_mutex_lock(&g->lock);
	g->ch[c].speed = speed;
	g->ch[c].accel = accel;
	chan_rates(&g->ch[c], g->next_period_ns);
	ev_push_locked(g, HRSERVO_EV_STATE, 1ULL << c, 0);
	wd_feed_locked(g);
	api_unlock(g);
	return 0;
}

/* ---- trajectories ---- */

/*
 * Where axis @c is at @t, for a submission that starts there: where the
 * kept queue, seg[0..keep), has it then (a splice cuts its last segment at
 * @t), or else its target, as the kernel's hrservo_traj_ref(). False if it
 * has neither.
 */
static bool axis_ref(struct gpiod_servo *g, unsigned int c, size_t keep,
		     uint64_t t, s64 *pos)
{
	for (size_t i = keep; i-- > 0;) {
		const struct gseg *s = seg_at(g, i);
		unsigned int k = 0;

		if (!(s->live & (1ULL << c)))
			continue;
		for (uint64_t m = s->mask & ((1ULL << c) - 1); m; m &= m - 1)
			k++;
		*pos = seg_eval(s, k, seg_u(s, t < s->end_ns ? t : s->end_ns));
		return true;
	}
	if (g->ch[c].enabled && g->ch[c].target_ns) {
		*pos = (s64)g->ch[c].target_ns << HRSERVO_Q;
		return true;
	}
	return false;
}

/*
 * HRSERVO_GPIOD_TEST_HOLD_US=N (up to 1 s): an upload keeps the lock N us
 * longer, busy as work would, so that a test sees what a long upload does
 * to the frames without a queue that takes that long on its machine. For
 * tests only. Read before the lock is taken.
 */
static uint64_t test_hold_ns(void)
{
	const char *s = getenv("HRSERVO_GPIOD_TEST_HOLD_US");
	unsigned long long us;

	if (!s || !*s)
		return 0;
	us = strtoull(s, NULL, 10);
	return us > 1000000 ? NS_PER_S : us * 1000;
}

/* How far ahead a trajectory may be scheduled, as the kernel: one day. */
#define TRAJ_AT_MAX_NS		(86400ULL * NS_PER_S)

static int gpiod_traj_submit(struct hrservo *h,
			     const struct hrservo_seg_item *segs, size_t n,
			     const int64_t *coefs, size_t ncoefs,
			     unsigned int flags, uint64_t at_ns)
{
	struct gpiod_servo *g = gs(h);
	bool replace = flags & HRSERVO_UPLOAD_REPLACE;
	uint64_t axes = 0, seen = 0, t = 0, now, next;
	size_t need = 0, keep = 0, qcap = 0, qmore = 0;
	struct gseg *ns, *q = NULL, *old = NULL;
	uint64_t hold = test_hold_ns();
	int err = 0;

	if (!n) {
		errno = EINVAL;
		return -1;
	}
	if (n > TRAJ_QUEUE_MAX) {
		hrservo_set_error("gpiod: a trajectory of %zu segments: the queue holds at most %u",
				  n, TRAJ_QUEUE_MAX);
		errno = ENOSPC;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!segs[i].mask || segs[i].duration_ns < HRSERVO_SEG_MIN_NS ||
		    segs[i].duration_ns > HRSERVO_SEG_MAX_NS ||
		    (g->nch < 64 && segs[i].mask >> g->nch)) {
			errno = EINVAL;
			return -1;
		}
		need += 6 * (size_t)__builtin_popcountll(segs[i].mask);
		axes |= segs[i].mask;
	}
	if (need != ncoefs) {
		errno = EINVAL;
		return -1;
	}
	ns = calloc(n, sizeof(*ns));
	if (!ns)
		return -1;
	/*
	 * What has played is given back first: its memory serves again. The
	 * queue may have to grow too (for the words if locking is refused).
	 * The player may repeat frames while this holds the lock
	 * (lock_for_frame()).
	 */
	upload_lock(g);
	traj_collect(g);
	if (g->nseg + n > g->segcap)
		qmore = hrservo_arena_need(1, sizeof(struct gseg) *
					   queue_cap(g, g->nseg + n));
	upload_unlock(g, false);
	for (size_t i = 0, off = 0; i < n; i++) {
		size_t k = 6 * (size_t)__builtin_popcountll(segs[i].mask);

		/* What the player reads is in locked memory. */
		ns[i].coef = arena_alloc(g, k * sizeof(*ns[i].coef),
					 hrservo_arena_need(n - i,
							    k * sizeof(s64)) +
					 qmore);
		if (!ns[i].coef) {
			err = errno;
			goto fail;
		}
		memcpy(ns[i].coef, coefs + off, k * sizeof(*coefs));
		off += k;
		ns[i].mask = ns[i].live = segs[i].mask;
		ns[i].last = segs[i].last;
		hrservo_div_init(&ns[i].dur, segs[i].duration_ns);
	}

again:
	upload_lock(g);
	traj_collect(g);
	now = now_ns();
	next = next_frame_locked(g, now);
	/* Where it goes: as the kernel's hrservo_traj_place(). */
	if (g->estop) {
		err = EPERM;
	} else if (at_ns > now + TRAJ_AT_MAX_NS) {
		err = EINVAL;
	} else if (!replace) {
		keep = g->nseg;
		if (g->nseg) {
			t = seg_at(g, g->nseg - 1)->end_ns;
			if (at_ns)
				err = EINVAL;	/* it follows the queue */
		} else {
			t = at_ns ? at_ns : next;
			if (t < now)
				err = EINVAL;
		}
	} else {
		/* Splice into the segment playing at @t; the rest goes. */
		t = at_ns ? at_ns : next;
		keep = 0;
		while (keep < g->nseg && seg_at(g, keep)->end_ns <= t)
			keep++;
		if (!g->nseg || t < next || keep == g->nseg)
			err = EINVAL;	/* nothing to splice into at @t */
		else if (seg_at(g, keep)->start_ns < t)
			keep++;		/* cut short at @t */
	}
	if (!err && keep + n > TRAJ_QUEUE_MAX) {
		hrservo_set_error("gpiod: a trajectory of %zu segments after the %zu queued: the queue holds at most %u",
				  n, keep, TRAJ_QUEUE_MAX);
		err = ENOSPC;
	} else if (!err && keep + n > g->segcap) {
		if (!q || qcap < keep + n) {
			/* The queue must grow: mapped with no lock held. */
			qcap = queue_cap(g, keep + n);
			upload_unlock(g, false);
			hrservo_arena_free(&g->arena, q);
			q = arena_alloc(g, qcap * sizeof(*q), 0);
			if (!q) {
				err = errno;
				goto fail;
			}
			goto again;
		}
		/* Collected above: the queue is seg[0..nseg). */
		if (g->nseg)
			memcpy(q, g->seg, g->nseg * sizeof(*q));
		old = g->seg;
		g->seg = q;
		g->segcap = qcap;
		q = NULL;
	}
	/*
	 * Each axis starts where the queue (or the channel) leaves it: its
	 * first segment decides, so the loop ends once every axis is seen.
	 */
	for (size_t i = 0; !err && seen != axes && i < n; i++) {
		unsigned int k = 0;

		for (uint64_t m = ns[i].mask; m; m &= m - 1, k++) {
			unsigned int c = ffs64(m);
			s64 ref, start = ns[i].coef[6 * k];

			if (seen & (1ULL << c))
				continue;
			seen |= 1ULL << c;
			/* A splice is always continuous; an append may jump. */
			if (!replace && (flags & HRSERVO_UPLOAD_JUMP))
				continue;
			if (!axis_ref(g, c, keep, t, &ref) ||
			    start < ref - ((s64)HRSERVO_SPLICE_TOL_NS << HRSERVO_Q) ||
			    start > ref + ((s64)HRSERVO_SPLICE_TOL_NS << HRSERVO_Q))
				err = replace ? EINVAL : EDOM;
		}
	}
	if (err) {
		upload_unlock(g, false);
		goto fail;
	}
	traj_free_segs(g, keep);
	if (keep) {
		/* Cut short at @t (a splice); the new part carries on. */
		if (seg_at(g, keep - 1)->end_ns > t)
			seg_at(g, keep - 1)->end_ns = t;
		seg_at(g, keep - 1)->last = false;
	}
	for (size_t i = 0; i < n; i++) {
		ns[i].start_ns = t;
		ns[i].end_ns = t + segs[i].duration_ns;
		t = ns[i].end_ns;
		*seg_at(g, g->nseg++) = ns[i];
	}
	if (!g->axes && !keep)
		g->seg_idx = 0;
	g->axes |= axes;
	if (g->tstate == TRAJ_IDLE || g->tstate == TRAJ_UNDERRUN)
		g->tstate = TRAJ_WAITING;
	if (hold) {
		hold += now_ns();
		while (now_ns() < hold)
			;
	}
	wd_feed_locked(g);
	kick_locked(g);
	upload_unlock(g, true);
	hrservo_arena_free(&g->arena, old);
	hrservo_arena_free(&g->arena, q);
	free(ns);
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		hrservo_arena_free(&g->arena, ns[i].coef);
	hrservo_arena_free(&g->arena, q);
	/* The queue grew before a start was refused: the old array goes. */
	hrservo_arena_free(&g->arena, old);
	free(ns);
	errno = err;
	return -1;
}

static int gpiod_traj_status(struct hrservo *h, struct hrservo_traj_info *info)
{
	struct gpiod_servo *g = gs(h);
	uint64_t now = now_ns();

	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&g->lock);
	info->state = g->tstate;
	info->segment = g->seg_idx;
	info->depth = (unsigned int)g->nseg;
	if (g->nseg) {
		const struct gseg *s = seg_at(g, 0);
		uint64_t end = seg_at(g, g->nseg - 1)->end_ns;

		if (now > s->start_ns)
			info->time_in_segment_ns = now - s->start_ns;
		info->queued_ns = end > now ? end - now : 0;
		if (info->state == TRAJ_WAITING && now >= s->start_ns)
			info->state = TRAJ_RUNNING;
	}
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int gpiod_traj_owned(struct hrservo *h, uint64_t *axes)
{
	struct gpiod_servo *g = gs(h);

	pthread_mutex_lock(&g->lock);
	*axes = g->axes;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/* Channels @mask brake within their acceleration limits and hold. Lock held. */
static void brake_locked(struct gpiod_servo *g, uint64_t mask)
{
	for (uint64_t m = mask; m; m &= m - 1) {
		struct gchan *ch = &g->ch[ffs64(m)];

		/* The kernel's own rule (hrservo-logic.c). */
		if (ch->motion.valid)
			ch->target_ns = hrservo_stop_point(&ch->motion,
							   ch->accel != 0,
							   &ch->brake,
							   &ch->lim);
	}
}

static int gpiod_traj_stop(struct hrservo *h)
{
	struct gpiod_servo *g = gs(h);
	uint64_t axes;

	pthread_mutex_lock(&g->lock);
	axes = g->axes;
	brake_locked(g, axes);
	traj_drop(g);
	wd_feed_locked(g);
	if (axes)
		ev_push_locked(g, HRSERVO_EV_STATE, axes, 0);
	api_unlock(g);
	return 0;
}

static int gpiod_watchdog(struct hrservo *h, unsigned int timeout_ms,
			  int action, const struct hrservo_target_item *pose,
			  size_t npose)
{
	struct gpiod_servo *g = gs(h);
	int err = 0;

	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < npose && !err; i++) {
		const struct gchan *ch = &g->ch[pose[i].channel];

		if (pose[i].pulse_ns < ch->lim.min_ns ||
		    pose[i].pulse_ns > ch->lim.max_ns)
			err = ERANGE;
	}
	if (!err) {
		g->wd_ms = timeout_ms;
		g->wd_action = action;
		g->wd_npose = npose;
		if (npose)
			memcpy(g->wd_pose, pose, npose * sizeof(*pose));
		wd_feed_locked(g);
	}
	api_unlock(g);
	return ret_errno(err);
}

static int gpiod_keepalive(struct hrservo *h)
{
	struct gpiod_servo *g = gs(h);
	int err = 0;

	pthread_mutex_lock(&g->lock);
	if (g->wd_ms)
		wd_feed_locked(g);
	else
		err = EINVAL;
	/* Not api_unlock(): a later deadline needs no frame sooner. */
	pthread_mutex_unlock(&g->lock);
	return ret_errno(err);
}

/*
 * The e-stop latch, as the kernel's (hrservo-safety.c) for one client: the
 * lines of a gpiod handle are requested by it alone, so the latch is the
 * handle's and ends with it. No input line.
 */
static int gpiod_estop(struct hrservo *h, int op, int action,
		       struct hrservo_estop_info *info)
{
	struct gpiod_servo *g = gs(h);
	uint64_t on;

	pthread_mutex_lock(&g->lock);
	if (op == HRSERVO_ESTOP_OP_TRIP &&
	    (!g->estop || (action == HRSERVO_FS_RELEASE &&
			   g->estop_applied != HRSERVO_FS_RELEASE))) {
		on = failsafe_locked(g, action);
		g->estop = true;
		g->estop_applied = action;
		g->estop_source = HRSERVO_ESTOP_BY_USER;
		g->estop_ns = now_ns();
		ev_push_locked(g, HRSERVO_EV_ESTOP, on, HRSERVO_ESTOP_BY_USER);
	} else if (op == HRSERVO_ESTOP_OP_CLEAR && g->estop) {
		g->estop = false;
		ev_push_locked(g, HRSERVO_EV_ESTOP, 0, 0);
	}
	info->latched = g->estop;
	info->source = g->estop_source;
	info->tripped_ns = g->estop_ns;
	api_unlock(g);
	return 0;
}

static int gpiod_read_frames(struct hrservo *h, uint64_t seq,
			     struct hrservo_frame_data *out, size_t room,
			     size_t *count, uint64_t *next_seq)
{
	struct gpiod_servo *g = gs(h);
	uint64_t oldest, s;
	size_t n = 0;

	pthread_mutex_lock(&g->lock);
	oldest = g->frames > FRAMES_KEPT ? g->frames - FRAMES_KEPT + 1 : 1;
	s = seq > oldest ? seq : oldest;
	for (; s <= g->frames && n < room; s++)
		out[n++] = g->rec[s % FRAMES_KEPT];
	pthread_mutex_unlock(&g->lock);
	*count = n;
	*next_seq = n ? s : seq;
	return 0;
}

static uint32_t gpiod_caps(struct hrservo *h)
{
	return gs(h)->rt ? ~0u : ~HRSERVO_CAP_RT_TIMING;
}

/* ---- open and close ---- */

/* An offset list: "4,17,27", "0-7", "0-3,8". */
static int parse_lines(const char *s, const char *end, unsigned int *off,
		       unsigned int *n)
{
	*n = 0;
	while (s < end) {
		unsigned long a, b;
		char *e;

		if (!isdigit((unsigned char)*s))
			return -1;
		a = strtoul(s, &e, 10);
		b = a;
		if (e < end && *e == '-') {
			if (!isdigit((unsigned char)e[1]))
				return -1;
			b = strtoul(e + 1, &e, 10);
		}
		if (e > end || (e < end && *e != ',') || b < a || b > 65535)
			return -1;
		for (unsigned long o = a; o <= b; o++) {
			if (*n == HRSERVO_MAX_CHANNELS) {
				hrservo_set_error("gpiod: more than %d lines",
						  HRSERVO_MAX_CHANNELS);
				return -1;
			}
			for (unsigned int i = 0; i < *n; i++) {
				if (off[i] == o) {
					hrservo_set_error("gpiod: line %lu given twice",
							  o);
					return -1;
				}
			}
			off[(*n)++] = (unsigned int)o;
		}
		s = e < end ? e + 1 : e;
		if (s == end && e < end)
			return -1;	/* a trailing comma */
	}
	return *n ? 0 : -1;
}

static int parse_options(struct gpiod_servo *g, const char *s)
{
	bool no_rt = false, prio = false;

	if (!*s)
		return -1;
	while (*s) {
		size_t len = strcspn(s, ",");
		char *e;

		if (len == 5 && !strncmp(s, "no-rt", 5)) {
			no_rt = true;
			g->prio = 0;
		} else if (!strncmp(s, "prio=", 5) && isdigit((unsigned char)s[5])) {
			unsigned long p = strtoul(s + 5, &e, 10);

			if (e != s + len || p < 1 || p > 99) {
				hrservo_set_error("gpiod: option '%.*s': the priority must be 1..99",
						  (int)len, s);
				return -1;
			}
			if (prio) {
				hrservo_set_error("gpiod: option prio given twice");
				return -1;
			}
			prio = true;
			g->prio = (int)p;
		} else {
			hrservo_set_error("gpiod: unknown option '%.*s' (options: prio=N, no-rt)",
					  (int)len, s);
			return -1;
		}
		s += len;
		if (*s == ',' && !*++s)
			return -1;
	}
	if (no_rt && prio) {
		hrservo_set_error("gpiod: options no-rt and prio=N contradict each other");
		return -1;
	}
	g->prio_given = no_rt || prio;
	return 0;
}

/* Open chip @name: a path, a /dev name, or a label (unique). */
static struct gpiod_chip *open_chip(const char *name)
{
	struct gpiod_chip *chip, *found = NULL;
	char path[PATH_MAX], first[sizeof(((struct dirent *)0)->d_name)] = "";
	struct dirent *d;
	DIR *dir;

	if (strchr(name, '/')) {
		chip = gpiod_chip_open(name);
		if (!chip)
			hrservo_set_error("gpiod: %s: %s", name, strerror(errno));
		return chip;
	}
	snprintf(path, sizeof(path), "/dev/%s", name);
	if (!strncmp(name, "gpiochip", 8) && gpiod_is_gpiochip_device(path)) {
		chip = gpiod_chip_open(path);
		if (!chip)
			hrservo_set_error("gpiod: %s: %s", path, strerror(errno));
		return chip;
	}
	dir = opendir("/dev");
	if (!dir)
		return NULL;
	while ((d = readdir(dir))) {
		struct gpiod_chip_info *info;
		bool match;

		if (strncmp(d->d_name, "gpiochip", 8))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", d->d_name);
		chip = gpiod_chip_open(path);
		if (!chip)
			continue;
		info = gpiod_chip_get_info(chip);
		match = info && !strcmp(gpiod_chip_info_get_label(info), name);
		if (info)
			gpiod_chip_info_free(info);
		if (!match) {
			gpiod_chip_close(chip);
		} else if (found) {
			hrservo_set_error("gpiod: label '%s' names %s and %s: give the chip's name",
					  name, first, d->d_name);
			gpiod_chip_close(chip);
			gpiod_chip_close(found);
			closedir(dir);
			errno = EINVAL;
			return NULL;
		} else {
			found = chip;
			snprintf(first, sizeof(first), "%s", d->d_name);
		}
	}
	closedir(dir);
	if (!found) {
		hrservo_set_error("gpiod: no GPIO chip '%s' (by path, name or label; gpiodetect lists them)",
				  name);
		errno = ENODEV;
	}
	return found;
}

static int request_lines(struct gpiod_servo *g, const char *chipname)
{
	struct gpiod_line_settings *ls = gpiod_line_settings_new();
	struct gpiod_line_config *lc = gpiod_line_config_new();
	struct gpiod_request_config *rc = gpiod_request_config_new();
	int ret = -1, err;

	if (!ls || !lc || !rc)
		goto out;
	gpiod_line_settings_set_direction(ls, GPIOD_LINE_DIRECTION_OUTPUT);
	gpiod_line_settings_set_output_value(ls, GPIOD_LINE_VALUE_INACTIVE);
	if (gpiod_line_config_add_line_settings(lc, g->offset, g->nch, ls))
		goto out;
	gpiod_request_config_set_consumer(rc, CONSUMER);
	g->req = gpiod_chip_request_lines(g->chip, rc, lc);
	if (g->req)
		ret = 0;
	else
		hrservo_set_error("gpiod: %s: requesting the lines: %s%s",
				  chipname, strerror(errno),
				  errno == EBUSY ? " (another user holds one: gpioinfo shows it)" : "");
out:
	err = errno;
	gpiod_request_config_free(rc);
	gpiod_line_config_free(lc);
	gpiod_line_settings_free(ls);
	errno = err;
	return ret;
}

static void rlimit_text(int res, char *buf, size_t size, unsigned long div)
{
	struct rlimit rl;

	if (getrlimit(res, &rl))
		snprintf(buf, size, "unknown");
	else if (rl.rlim_cur == RLIM_INFINITY)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%lu", (unsigned long)(rl.rlim_cur / div));
}

/*
 * Locking @bytes more memory (@what: "" or " for the trajectory") was
 * refused with errno: say so, naming the capability and the rlimit that
 * would let @total bytes be locked. errno kept.
 */
static void memlock_refused(const char *what, size_t bytes, size_t total)
{
	int err = errno;
	char lim[32];

	rlimit_text(RLIMIT_MEMLOCK, lim, sizeof(lim), 1024);
	hrservo_set_error("gpiod: locking %zu KiB of memory%s refused (%s): needs CAP_IPC_LOCK or RLIMIT_MEMLOCK of at least %zu KiB (now %s KiB; ulimit -l); add ':no-rt' to run without (timing suffers)",
			  (bytes + 1023) / 1024, what, strerror(err),
			  (total + 1023) / 1024, lim);
	errno = err;
}

/* Bytes @n bytes of locked memory take: whole pages. */
static size_t pages_of(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

/*
 * @bytes from the handle's arena, which the player may read: locked while
 * the handle runs in real time. NULL with errno, and the words of
 * hrservo_last_error() if locking was refused: the rlimit that lets it be
 * locked, with @more bytes of new chunks that it and what the caller asks
 * for next take (0: it alone). Maps memory: not with the handle's lock
 * held.
 */
static void *arena_alloc(struct gpiod_servo *g, size_t bytes, size_t more)
{
	size_t refused, locked;
	void *p = hrservo_arena_alloc(&g->arena, bytes, &refused, &locked);

	if (!p && refused)
		memlock_refused(" for the trajectory", refused,
				STACK_BYTES + pages_of(sizeof(*g)) + locked +
				(more > refused ? more : refused));
	return p;
}

/* The player thread: SCHED_FIFO and locked memory, or neither (no-rt). */
static int start_player(struct gpiod_servo *g)
{
	pthread_attr_t attr;
	struct sched_param sp = { .sched_priority = g->prio };
	sigset_t all, old;
	char lim[32];
	int ret;

	g->stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (g->stack == MAP_FAILED) {
		g->stack = NULL;
		return -1;
	}
	if (g->prio) {
		/* The thread's stack and the state it touches, in RAM. */
		if (mlock(g->stack, STACK_BYTES) ||
		    mlock(g, sizeof(*g))) {
			memlock_refused("", STACK_BYTES + pages_of(sizeof(*g)),
					STACK_BYTES + pages_of(sizeof(*g)));
			return -1;
		}
	}
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, g->stack, STACK_BYTES);
	if (g->prio) {
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &sp);
	}
	/* No signal handler of the program may run on the player (sigmask inherited). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&g->thread, &attr, player, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret == EPERM && g->prio) {
		rlimit_text(RLIMIT_RTPRIO, lim, sizeof(lim), 1);
		hrservo_set_error("gpiod: real-time priority (SCHED_FIFO %d) refused: needs CAP_SYS_NICE or RLIMIT_RTPRIO of at least %d (now %s; ulimit -r); add ':no-rt' to run without (timing suffers)",
				  g->prio, g->prio, lim);
	}
	if (ret) {
		errno = ret;
		return -1;
	}
	g->rt = g->prio != 0;
	return 0;
}

/* @child: in a child of fork(), where the thread and its locks are not. */
static void gpiod_free(struct gpiod_servo *g, bool child)
{
	if (g->req)
		gpiod_line_request_release(g->req);
	if (g->chip)
		gpiod_chip_close(g->chip);
	if (g->stack)
		munmap(g->stack, STACK_BYTES);
	if (g->efd >= 0)
		close(g->efd);
	/* A child may have forked mid-retire: leave the queue to the parent. */
	if (!child) {
		traj_free_segs(g, 0);
		hrservo_arena_free(&g->arena, g->seg);
		hrservo_arena_destroy(&g->arena);
	}
	if (!child) {
		/* In a child they may look held or waited on: leave them. */
		pthread_cond_destroy(&g->kick);
		pthread_mutex_destroy(&g->lock);
	}
	/* Unmapping unlocks its pages: no munlock of anyone else's. */
	munmap(g, sizeof(*g));
}

/* The lines of @g as a spec's list, ranges folded: "0-7,9". */
static void lines_text(const unsigned int *off, unsigned int n, char *buf,
		       size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < n && len < size; i++) {
		unsigned int j = i;

		while (j + 1 < n && off[j + 1] == off[j] + 1)
			j++;
		if (j > i + 1)
			len += (size_t)snprintf(buf + len, size - len, "%s%u-%u",
						i ? "," : "", off[i], off[j]);
		else
			j = i, len += (size_t)snprintf(buf + len, size - len,
						       "%s%u", i ? "," : "",
						       off[i]);
		i = j;
	}
}

/*
 * Split @spec, "CHIP:LINES[:OPTIONS]" (after "gpiod:"): CHIP into @chip
 * (@size bytes with its NUL), LINES as *@lines of *@nl bytes, OPTIONS as
 * *@opts (NULL: none). 0, or -1 if @spec has no CHIP or no ':'.
 */
static int split_spec(const char *spec, char *chip, size_t size,
		      const char **lines, size_t *nl, const char **opts)
{
	const char *c1 = strchr(spec, ':'), *c2;

	if (!c1 || c1 == spec || (size_t)(c1 - spec) >= size)
		return -1;
	memcpy(chip, spec, (size_t)(c1 - spec));
	chip[c1 - spec] = 0;
	*lines = c1 + 1;
	c2 = strchr(c1 + 1, ':');
	*nl = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	*opts = c2 ? c2 + 1 : NULL;
	return 0;
}

/* All decimal digits, at least one. */
static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int hrservo_gpiod_canonical(const char *spec, char *out, size_t size)
{
	unsigned int off[HRSERVO_MAX_CHANNELS], n;
	char chipname[128], lines[400], words[512];
	const char *name, *ls, *opts;
	struct gpiod_chip_info *info;
	struct gpiod_chip *chip;
	int err = errno, ret = -1;
	size_t nl;

	if (split_spec(spec, chipname, sizeof(chipname), &ls, &nl, &opts))
		return -1;
	/* Quiet: what a failed open said stays said. */
	snprintf(words, sizeof(words), "%s", hrservo_last_error());
	if (parse_lines(ls, ls + nl, off, &n))
		goto out;
	lines_text(off, n, lines, sizeof(lines));
	ret = 0;
	/* A chip's name needs no lookup; a path of /dev/ is its name. */
	name = chipname;
	if (!strncmp(name, "/dev/", 5) && !strncmp(name + 5, "gpiochip", 8))
		name += 5;
	if (!strncmp(name, "gpiochip", 8) && is_number(name + 8)) {
		snprintf(out, size, "gpiod:%s:%s", name, lines);
		goto out;
	}
	/* A label: its chip's name, where the chip is here. */
	snprintf(out, size, "gpiod:%s:%s", chipname, lines);
	chip = open_chip(chipname);
	if (!chip)
		goto out;
	info = gpiod_chip_get_info(chip);
	if (info) {
		snprintf(out, size, "gpiod:%s:%s",
			 gpiod_chip_info_get_name(info), lines);
		gpiod_chip_info_free(info);
	}
	gpiod_chip_close(chip);
out:
	hrservo_set_error("%s", words);
	errno = err;
	return ret;
}

static int gpiod_open(struct hrservo *h, const char *spec,
		      const struct hrservo_open_config *cfg)
{
	pthread_mutexattr_t ma;
	struct gpiod_chip_info *info;
	struct gpiod_servo *g;
	char chipname[128], lines[384];
	const char *ls, *opts;
	size_t nl;
	int err;

	if (split_spec(spec, chipname, sizeof(chipname), &ls, &nl, &opts)) {
		hrservo_set_error("gpiod: '%s': want gpiod:CHIP:LINES[:OPTIONS]",
				  spec);
		errno = EINVAL;
		return -1;
	}
	/* Whole pages of its own: locking them locks nothing of the program's. */
	g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		return -1;
	g->efd = -1;
	g->prio = HRSERVO_GPIOD_PRIO;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&g->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	/* Locked or not: decided once the priority is known, below. */
	hrservo_arena_init(&g->arena, false);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&g->kick, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (parse_lines(ls, ls + nl, g->offset, &g->nch)) {
		if (!*hrservo_last_error())
			hrservo_set_error("gpiod: '%.*s': bad line list (offsets such as 4,17,27 or ranges 0-7)",
					  (int)nl, ls);
		errno = EINVAL;
		goto fail;
	}
	if (opts && parse_options(g, opts)) {
		if (!*hrservo_last_error())
			hrservo_set_error("gpiod: '%s': bad options (prio=N, no-rt)",
					  opts);
		errno = EINVAL;
		goto fail;
	}
	if (cfg->rt_prio != HRSERVO_RT_DEFAULT) {
		/* The spec's words and the open config's must agree. */
		if (g->prio_given && g->prio != cfg->rt_prio) {
			char said[16];

			if (g->prio)
				snprintf(said, sizeof(said), "prio=%d", g->prio);
			else
				snprintf(said, sizeof(said), "no-rt");
			hrservo_set_error("gpiod: the spec's %s and the open config's real-time priority %d contradict each other",
					  said, cfg->rt_prio);
			errno = EINVAL;
			goto fail;
		}
		g->prio = cfg->rt_prio;
	}
	g->arena.lock = g->prio != 0;
	g->chip = open_chip(chipname);
	if (!g->chip)
		goto fail;
	info = gpiod_chip_get_info(g->chip);
	if (!info)
		goto fail;
	for (unsigned int i = 0; i < g->nch; i++) {
		if (g->offset[i] >= gpiod_chip_info_get_num_lines(info)) {
			hrservo_set_error("gpiod: %s has lines 0..%zu: no line %u",
					  gpiod_chip_info_get_name(info),
					  gpiod_chip_info_get_num_lines(info) - 1,
					  g->offset[i]);
			gpiod_chip_info_free(info);
			errno = EINVAL;
			goto fail;
		}
	}
	lines_text(g->offset, g->nch, lines, sizeof(lines));
	snprintf(h->name, sizeof(h->name), "gpiod:%s:%s",
		 gpiod_chip_info_get_name(info), lines);
	gpiod_chip_info_free(info);
	if (request_lines(g, chipname))
		goto fail;
	g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	if (g->efd < 0)
		goto fail;
	g->period_ns = g->next_period_ns = HRSERVO_PERIOD_DEFAULT_NS;
	for (unsigned int c = 0; c < g->nch; c++) {
		g->ch[c].lim.min_ns = HRSERVO_DEFAULT_MIN_NS;
		g->ch[c].lim.max_ns = HRSERVO_DEFAULT_MAX_NS;
		hrservo_brake_prepare(&g->ch[c].brake, 0);
	}
	g->pid = getpid();
	if (start_player(g))
		goto fail;
	snprintf(h->backend, sizeof(h->backend), "gpiod");
	h->nch = g->nch;
	h->pulse_min_ns = HRSERVO_PULSE_MIN_NS;
	h->pulse_max_ns = hrservo_pulse_max_for_period(g->period_ns);
	h->resolution_ns = 1;
	h->priv = g;
	return 0;
fail:
	err = errno;
	gpiod_free(g, false);
	errno = err;
	return -1;
}

/*
 * Close: the player finishes the frame it plays (no pulse is cut short),
 * raises no more, and the lines are left low and given back. A trajectory
 * stops with it: nothing plays without the handle, unlike the kernel's.
 */
static void gpiod_close(struct hrservo *h)
{
	struct gpiod_servo *g = gs(h);

	if (g->pid == getpid()) {
		pthread_mutex_lock(&g->lock);
		g->stop = true;
		pthread_cond_signal(&g->kick);
		api_unlock(g);
		pthread_join(g->thread, NULL);
		for (unsigned int c = 0; c < g->nch; c++)
			g->val[c] = GPIOD_LINE_VALUE_INACTIVE;
		/* Closing: no one is left to see a failure. */
		(void)gpiod_line_request_set_values(g->req, g->val);
	}
	/* In a child of fork() the thread is the parent's: the lines too. */
	gpiod_free(g, g->pid != getpid());
}

const struct hrservo_backend hrservo_gpiod_backend = {
	.name = "gpiod",
	.scheme = "gpiod",
	.open = gpiod_open,
	.close = gpiod_close,
	.caps = gpiod_caps,
	.apply = gpiod_apply,
	.release = gpiod_release,
	.read_state = gpiod_read_state,
	.get_limits = gpiod_get_limits,
	.set_limits = gpiod_set_limits,
	.get_period = gpiod_get_period,
	.set_period = gpiod_set_period,
	.get_motion = gpiod_get_motion,
	.set_motion = gpiod_set_motion,
	.traj_submit = gpiod_traj_submit,
	.traj_whole = true,
	.traj_status = gpiod_traj_status,
	.traj_owned = gpiod_traj_owned,
	.traj_stop = gpiod_traj_stop,
	.event_fd = gpiod_event_fd,
	.read_event = gpiod_read_event,
	.watchdog = gpiod_watchdog,
	.keepalive = gpiod_keepalive,
	.estop = gpiod_estop,
	.read_frames = gpiod_read_frames,
};
