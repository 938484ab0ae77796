// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo trajectory player: a queue of timed polynomial segments per
 * controller, evaluated at every frame boundary in integer fixed point.
 *
 * Userspace plans (splines, minimum jerk, time scaling); the kernel plays.
 *
 * Bounded work with interrupts off. The queue can hold tens of thousands of
 * segments, so nothing that runs under the controller's raw spinlock walks
 * it:
 *  - the frame clock only moves the player's head pointer past the
 *    segments that ended or lost every axis, at most
 *    %HRSERVO_TRAJ_RETIRE_MAX per frame (segments last at least
 *    %HRSERVO_SEG_MIN_NS, so a frame of at most 50 ms normally ends at most
 *    51; the rest, after a stall, follow in the next frames), and never
 *    changes a link of the list;
 *  - dropping the queue (TRAJ_STOP, release of every trajectory axis,
 *    removal) is a pointer store: the head becomes NULL;
 *  - the depth is a difference of sequence numbers;
 *  - links change only under the player's mutex, in O(1) list cuts and
 *    splices under the spinlock; the segments of a submission share one
 *    start time (struct hrservo_batch), so queueing a thousand of them
 *    sets one; the REPLACE splice finds its segment under the mutex alone,
 *    with interrupts on, and no user memory is copied under the mutex;
 *  - ended and dropped segments are cut off the list and freed in process
 *    context, by the submitter or by a work item.
 *
 * Release always wins: a released channel leaves the trajectory for good.
 * Every segment carries the number of its submission (gen); a channel
 * released when the count was G is no longer moved by any segment of gen
 * <= G, at O(1) cost, whatever the queue holds. Segments left with no axis
 * are skipped when they come up; when no trajectory axis is left, the
 * queue is dropped at once.
 */
#include <linux/bitops.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "hrservo-priv.h"

/* Segments the frame clock passes at most in one frame (see above). */
/* REPLACE at the next frame: how often to look again if frames pass. */
#define HRSERVO_TRAJ_SPLICE_TRIES	3
#define HRSERVO_TRAJ_RETIRE_MAX	64
/* How far ahead a trajectory may be scheduled: one day. */
#define HRSERVO_TRAJ_AT_MAX_NS	(86400ULL * NSEC_PER_SEC)

static u64 hrservo_seg_start(const struct hrservo_seg *seg)
{
	return seg->batch->start_ns + seg->off_ns;
}

static u64 hrservo_seg_end(const struct hrservo_seg *seg)
{
	return seg->batch->start_ns + seg->end_off_ns;
}

static u64 hrservo_seg_idx(const struct hrservo_seg *seg)
{
	return seg->batch->idx + seg->pos;
}

/* The segment after @seg, or NULL. Lock or mutex held. */
static struct hrservo_seg *hrservo_seg_next(struct hrservo_player *p,
					    struct hrservo_seg *seg)
{
	return list_is_last(&seg->node, &p->queue) ? NULL :
	       list_next_entry(seg, node);
}

/* The last segment to play, or NULL. Mutex held (no ended tail then). */
static struct hrservo_seg *hrservo_traj_last(struct hrservo_player *p)
{
	return p->head ? list_last_entry(&p->queue, struct hrservo_seg, node) :
	       NULL;
}

/* Segments to play. Lock held. */
static u32 hrservo_traj_depth(const struct hrservo_player *p)
{
	return p->head ? (u32)(p->next_idx - hrservo_seg_idx(p->head)) : 0;
}

/* Collection or an event is due: get to process context. Lock held. */
static void hrservo_traj_defer(struct hrservo_ctrl *ctrl)
{
	/* After removal began, hrservo_traj_shutdown() does the rest. */
	if (!ctrl->dead)
		schedule_work(&ctrl->traj.work);
}

/* The axes of @seg that no release took away since it was queued. */
static u64 hrservo_seg_live(const struct hrservo_player *p,
			    const struct hrservo_seg *seg)
{
	u64 m, live = 0;

	for (m = seg->mask; m; m &= m - 1)
		if (seg->batch->gen > p->rel_gen[__ffs64(m)])
			live |= m & -m;
	return live;
}

/* Normalised time of @seg at @t_ns; U32_MAX + 1 (as u64) past its end. */
static u64 hrservo_seg_u(const struct hrservo_seg *seg, u64 t_ns)
{
	u64 start = hrservo_seg_start(seg);

	if (t_ns >= start + seg->dur.d)
		return 1ULL << 32;
	return hrservo_poly_u(t_ns - start, &seg->dur);
}

static s64 hrservo_seg_eval(const struct hrservo_seg *seg, unsigned int k,
			    u64 u)
{
	return u >> 32 ? hrservo_poly_end(seg->coef[k]) :
			 hrservo_poly_eval(seg->coef[k], (u32)u);
}

/*
 * Positions of a submission, worked out in process context (1/65536 ns):
 * where each of its axes starts (@start: in the first segment that moves
 * it) and ends (@end: in the last), and for REPLACE where the queue before
 * the splice segment leaves each axis of @walk_mask (@walk).
 */
struct hrservo_traj_pos {
	s64 start[HRSERVO_CHANNELS_MAX];
	s64 end[HRSERVO_CHANNELS_MAX];
	s64 walk[HRSERVO_CHANNELS_MAX];
	u64 walk_mask;
};

/*
 * Whether position @b is within %HRSERVO_SPLICE_TOL_NS of @a. @a is a
 * segment's start, checked to be a pulse width (below 2^48); @b may be
 * anything a user's polynomial evaluates to: no overflow either way.
 */
static bool hrservo_traj_near(s64 a, s64 b)
{
	s64 tol = (s64)HRSERVO_SPLICE_TOL_NS << HRSERVO_Q;

	return b >= a - tol && b <= a + tol;
}

/* How far @from jumps to @to, in ns, for a message: no overflow. */
static s64 hrservo_traj_jump(s64 to, s64 from)
{
	return (to >> HRSERVO_Q) - (from >> HRSERVO_Q);
}

/* Set the targets of the @live axes of a segment to its position at @t_ns. */
static void hrservo_traj_set(struct hrservo_ctrl *ctrl,
			     const struct hrservo_seg *seg, u64 live, u64 t_ns)
{
	u64 m, u = hrservo_seg_u(seg, t_ns);	/* once for all axes */
	unsigned int c, k = 0;
	s64 ns;

	for (m = seg->mask; m; m &= m - 1, k++) {
		c = __ffs64(m);
		if (c >= ctrl->nchannels)
			break;
		if (!(live & BIT_ULL(c)))
			continue;
		ns = (hrservo_seg_eval(seg, k, u) +
		      (1 << (HRSERVO_Q - 1))) >> HRSERVO_Q;
		/* The core clamps to the channel's limits. */
		ctrl->ch[c].target_ns = clamp_t(s64, ns, 1, U32_MAX);
		ctrl->ch[c].enabled = true;
	}
}

/**
 * hrservo_traj_frame() - play the trajectory for the frame starting now
 * @ctrl: the controller, its lock held
 * @t_ns: scheduled start of the frame
 *
 * Context: hard interrupt, controller lock held. Bounded: passes at most
 * %HRSERVO_TRAJ_RETIRE_MAX segments and evaluates one.
 */
void hrservo_traj_frame(struct hrservo_ctrl *ctrl, u64 t_ns)
{
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *seg = p->head;
	bool done = false;
	unsigned int n;
	u64 live = 0;

	if (!seg || t_ns < hrservo_seg_start(seg))
		return;
	p->state = HRSERVO_TRAJ_RUNNING;
	for (n = 0; seg && n < HRSERVO_TRAJ_RETIRE_MAX; n++) {
		live = hrservo_seg_live(p, seg);
		if (live && t_ns < hrservo_seg_end(seg))
			break;
		/* Ended, or left without an axis: its axes end where it ends. */
		if (live)
			hrservo_traj_set(ctrl, seg, live, hrservo_seg_end(seg));
		done |= seg->flags & HRSERVO_SEG_LAST;
		seg = hrservo_seg_next(p, seg);
		live = 0;
	}
	p->head = seg;
	if (seg && live && t_ns >= hrservo_seg_start(seg))
		hrservo_traj_set(ctrl, seg, live, t_ns);
	if (done) {
		p->ev_pending |= BIT(HRSERVO_EVENT_TRAJ_DONE);
		p->ev_axes = p->axes;
	}
	if (!seg) {
		if (!done) {
			p->state = HRSERVO_TRAJ_UNDERRUN;
			p->ev_pending |= BIT(HRSERVO_EVENT_TRAJ_UNDERRUN);
			p->ev_axes = p->axes;
		} else {
			p->state = HRSERVO_TRAJ_IDLE;
			p->axes = 0;
			p->held = 0;
		}
	}
	if (n || p->ev_pending)
		hrservo_traj_defer(ctrl);
}

/**
 * hrservo_traj_clamped() - note which trajectory axes the limits held back
 * @ctrl: the controller, its lock held
 * @held: channels whose emitted width differs from their target
 *
 * Raises a clamp event for the axes that were not held in the last frame.
 */
void hrservo_traj_clamped(struct hrservo_ctrl *ctrl, u64 held)
{
	struct hrservo_player *p = &ctrl->traj;
	u64 fresh;

	if (p->state != HRSERVO_TRAJ_RUNNING)
		return;
	held &= p->axes;
	fresh = held & ~p->held;
	p->held = held;
	if (fresh) {
		p->ev_mask |= fresh;
		p->ev_pending |= BIT(HRSERVO_EVENT_CLAMP);
		hrservo_traj_defer(ctrl);
	}
}

/**
 * hrservo_traj_active() - whether the frame clock must run for the player
 * @ctrl: the controller, its lock held
 *
 * Return: true while segments are to play.
 */
bool hrservo_traj_active(struct hrservo_ctrl *ctrl)
{
	return ctrl->traj.head;
}

/**
 * hrservo_traj_owns() - whether a trajectory moves a channel
 * @ctrl: the controller, its lock held
 * @c: the channel
 *
 * Return: true if direct targets for @c must be refused.
 */
bool hrservo_traj_owns(struct hrservo_ctrl *ctrl, unsigned int c)
{
	return ctrl->traj.state != HRSERVO_TRAJ_IDLE &&
	       (ctrl->traj.axes & BIT_ULL(c));
}

/**
 * hrservo_traj_drop_locked() - drop every queued segment, in O(1)
 * @ctrl: the controller, its lock held
 *
 * The segments stay linked until they are collected in process context;
 * none plays from the next frame on.
 */
void hrservo_traj_drop_locked(struct hrservo_ctrl *ctrl)
{
	struct hrservo_player *p = &ctrl->traj;

	if (p->head)
		hrservo_traj_defer(ctrl);
	p->head = NULL;
	p->state = HRSERVO_TRAJ_IDLE;
	p->axes = 0;
	p->held = 0;
	p->tail_mask = 0;
}

/**
 * hrservo_traj_release_locked() - released channels leave the trajectory
 * @ctrl: the controller, its lock held
 * @mask: the channels released
 *
 * No queued segment moves them again: in O(popcount(@mask)), whatever the
 * queue holds. When no trajectory axis is left, the queue is dropped.
 * Raises %HRSERVO_EVENT_TRAJ_DROPPED.
 */
void hrservo_traj_release_locked(struct hrservo_ctrl *ctrl, u64 mask)
{
	struct hrservo_player *p = &ctrl->traj;
	u64 gone = mask & p->axes, m;
	u32 nseg = 0;

	if (p->state == HRSERVO_TRAJ_IDLE || !gone)
		return;
	for (m = gone; m; m &= m - 1)
		p->rel_gen[__ffs64(m)] = p->gen;
	p->axes &= ~gone;
	p->held &= ~gone;
	p->tail_mask &= ~gone;
	if (!p->axes) {
		nseg = hrservo_traj_depth(p);
		hrservo_traj_drop_locked(ctrl);
	}
	p->ev_dropped |= gone;
	p->ev_nseg += nseg;
	p->ev_pending |= BIT(HRSERVO_EVENT_TRAJ_DROPPED);
	hrservo_traj_defer(ctrl);
}

/* Give back a reservation of @bytes of @quota. Mutex held. */
static void hrservo_traj_uncharge(struct hrservo_player *p,
				  struct hrservo_quota *quota, u32 bytes)
{
	WRITE_ONCE(quota->bytes, quota->bytes - bytes);
	p->bytes -= bytes;
}

/* Free a segment and give back its memory. Mutex held. */
static void hrservo_seg_free(struct hrservo_player *p, struct hrservo_seg *seg)
{
	hrservo_traj_uncharge(p, seg->quota, seg->bytes);
	if (refcount_dec_and_test(&seg->quota->ref))
		kfree(seg->quota);
	if (refcount_dec_and_test(&seg->batch->ref))
		kfree(seg->batch);
	kfree(seg);
}

static void hrservo_seg_free_list(struct hrservo_player *p,
				  struct list_head *list)
{
	struct hrservo_seg *seg, *next;

	list_for_each_entry_safe(seg, next, list, node)
		hrservo_seg_free(p, seg);
}

/*
 * Cut the ended and dropped segments off the queue and free them. Call
 * with the player's mutex held; takes the controller's lock for an O(1)
 * cut.
 */
static void hrservo_traj_collect(struct hrservo_ctrl *ctrl)
{
	struct hrservo_player *p = &ctrl->traj;
	unsigned long flags;
	LIST_HEAD(ended);

	lockdep_assert_held(&p->mutex);
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (p->head)
		list_cut_before(&ended, &p->queue, &p->head->node);
	else
		list_splice_init(&p->queue, &ended);
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	hrservo_seg_free_list(p, &ended);
}

/* Raise the events the frame clock and the requests left pending. */
static void hrservo_traj_events(struct hrservo_ctrl *ctrl)
{
	struct hrservo_player *p = &ctrl->traj;
	u64 clamp, axes, dropped, nseg;
	unsigned long flags;
	u32 pending;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	pending = p->ev_pending;
	clamp = p->ev_mask;
	axes = p->ev_axes;
	dropped = p->ev_dropped;
	nseg = p->ev_nseg;
	p->ev_pending = 0;
	p->ev_mask = 0;
	p->ev_dropped = 0;
	p->ev_nseg = 0;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	if (pending & BIT(HRSERVO_EVENT_TRAJ_DROPPED))
		hrservo_emit(ctrl, HRSERVO_EVENT_TRAJ_DROPPED, dropped,
			     (u32)min_t(u64, nseg, U32_MAX));
	if (pending & BIT(HRSERVO_EVENT_CLAMP))
		hrservo_emit(ctrl, HRSERVO_EVENT_CLAMP, clamp, 0);
	if (pending & BIT(HRSERVO_EVENT_TRAJ_DONE))
		hrservo_emit(ctrl, HRSERVO_EVENT_TRAJ_DONE, axes, 0);
	if (pending & BIT(HRSERVO_EVENT_TRAJ_UNDERRUN))
		hrservo_emit(ctrl, HRSERVO_EVENT_TRAJ_UNDERRUN, axes, 0);
}

static void hrservo_traj_work(struct work_struct *work)
{
	struct hrservo_ctrl *ctrl = container_of(work, struct hrservo_ctrl,
						 traj.work);

	mutex_lock(&ctrl->traj.mutex);
	hrservo_traj_collect(ctrl);
	mutex_unlock(&ctrl->traj.mutex);
	hrservo_traj_events(ctrl);
}

/**
 * hrservo_traj_init() - set up the player of a new controller
 * @ctrl: the controller
 */
void hrservo_traj_init(struct hrservo_ctrl *ctrl)
{
	struct hrservo_player *p = &ctrl->traj;

	mutex_init(&p->mutex);
	INIT_LIST_HEAD(&p->queue);
	INIT_WORK(&p->work, hrservo_traj_work);
}

/**
 * hrservo_traj_shutdown() - free every segment of a dead controller
 * @ctrl: the controller: dead, its queue dropped, its frame clock stopped
 *
 * Afterwards no deferred work of the player is pending or can be queued.
 */
void hrservo_traj_shutdown(struct hrservo_ctrl *ctrl)
{
	struct hrservo_player *p = &ctrl->traj;

	cancel_work_sync(&p->work);
	/* Runs what the work would have: collection and the last events. */
	hrservo_traj_work(&p->work);
}

/**
 * hrservo_traj_open() - give a new file its trajectory quota
 * @f: the file
 *
 * Return: 0 or -ENOMEM.
 */
int hrservo_traj_open(struct hrservo_file *f)
{
	f->quota = kzalloc(sizeof(*f->quota), GFP_KERNEL_ACCOUNT);
	if (!f->quota)
		return -ENOMEM;
	refcount_set(&f->quota->ref, 1);
	return 0;
}

/**
 * hrservo_traj_release() - a file is closed; its segments play on
 * @f: the file
 */
void hrservo_traj_release(struct hrservo_file *f)
{
	if (refcount_dec_and_test(&f->quota->ref))
		kfree(f->quota);
}

/* A copy of a user array, charged to the caller's memory cgroup. */
static void *hrservo_copy_user(u64 uaddr, size_t n, size_t size)
{
	size_t bytes = array_size(n, size);
	void *buf;

	if (bytes == SIZE_MAX)
		return ERR_PTR(-EINVAL);
	buf = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(buf, u64_to_user_ptr(uaddr), bytes)) {
		kvfree(buf);
		return ERR_PTR(-EFAULT);
	}
	return buf;
}

/*
 * Check the segment headers of a submission; compute the memory its
 * segments will take, before anything else is copied or allocated.
 */
static int hrservo_traj_check(struct hrservo_ctrl *ctrl,
			      const struct hrservo_traj *req,
			      const struct hrservo_segment *us, u32 *bytes)
{
	u64 valid = GENMASK_ULL(ctrl->nchannels - 1, 0);
	struct hrservo_seg *seg;
	size_t used = 0, total = 0;
	u32 i;

	for (i = 0; i < req->count; i++) {
		unsigned int n = hweight64(us[i].mask);

		if (us[i].duration_ns < HRSERVO_SEG_MIN_NS ||
		    us[i].duration_ns > HRSERVO_SEG_MAX_NS ||
		    !us[i].mask || (us[i].mask & ~valid) ||
		    (us[i].flags & ~HRSERVO_SEG_LAST) ||
		    memchr_inv(us[i].padding, 0, sizeof(us[i].padding)) ||
		    used + 6 * n > req->ncoefs) {
			dev_dbg_ratelimited(&ctrl->dev,
					    "trajectory: segment %u invalid (duration %llu ns, %llu..%llu; mask 0x%llx)\n",
					    i, us[i].duration_ns,
					    HRSERVO_SEG_MIN_NS,
					    HRSERVO_SEG_MAX_NS, us[i].mask);
			return -EINVAL;
		}
		used += 6 * n;
		total += struct_size(seg, coef, n);
	}
	if (used != req->ncoefs) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: %u coefficients given, %zu used\n",
				    req->ncoefs, used);
		return -EINVAL;
	}
	/* At most 1024 segments of 64 axes: fits. */
	*bytes = (u32)total;
	return 0;
}

/*
 * Note where @seg takes and leaves each of its axes in @pos; @seen: the axes
 * earlier segments of the submission moved. Each axis must start at a pulse
 * width (-EINVAL), and, unless @jump, where the segment before it left it
 * (-EDOM); the channel in *@bad.
 */
static int hrservo_seg_positions(const struct hrservo_seg *seg,
				 struct hrservo_traj_pos *pos, u64 *seen,
				 bool jump, unsigned int *bad)
{
	unsigned int c, k = 0;
	s64 c0;
	u64 m;

	for (m = seg->mask; m; m &= m - 1, k++) {
		c = __ffs64(m);
		c0 = seg->coef[k][0];
		if (c0 < 0 || c0 > ((s64)U32_MAX << HRSERVO_Q)) {
			*bad = c;
			return -EINVAL;
		}
		if (!(*seen & BIT_ULL(c))) {
			pos->start[c] = c0;
		} else if (!jump && !hrservo_traj_near(c0, pos->end[c])) {
			*bad = c;
			return -EDOM;
		}
		*seen |= BIT_ULL(c);
		pos->end[c] = hrservo_poly_end(seg->coef[k]);
	}
	return 0;
}

/*
 * Build the kernel segments of a checked submission in @list: one batch,
 * the coefficients copied from the user. Called without the mutex, after
 * their memory was reserved: copying may fault for as long as the user
 * likes. @pos gets where the axes start and end (see
 * hrservo_seg_positions() for the checks, whose failure sets *@bad).
 */
static int hrservo_traj_build(const struct hrservo_traj *req,
			      const struct hrservo_segment *us,
			      struct hrservo_quota *quota,
			      struct list_head *list,
			      struct hrservo_traj_pos *pos, unsigned int *bad)
{
	bool jump = req->flags & HRSERVO_TRAJ_JUMP;
	struct hrservo_batch *batch;
	struct hrservo_seg *seg;
	size_t used = 0;
	u64 off = 0, seen = 0;
	int ret = 0;
	s64 *uc;
	u32 i;

	uc = hrservo_copy_user(req->coefs, req->ncoefs, sizeof(*uc));
	if (IS_ERR(uc))
		return PTR_ERR(uc);
	batch = kzalloc(sizeof(*batch), GFP_KERNEL_ACCOUNT);
	if (!batch) {
		kvfree(uc);
		return -ENOMEM;
	}
	refcount_set(&batch->ref, 1);	/* the builder's, dropped below */
	for (i = 0; i < req->count; i++) {
		unsigned int n = hweight64(us[i].mask);

		seg = kzalloc(struct_size(seg, coef, n), GFP_KERNEL_ACCOUNT);
		if (!seg)
			break;
		hrservo_div_init(&seg->dur, us[i].duration_ns);
		seg->batch = batch;
		refcount_inc(&batch->ref);
		seg->off_ns = off;
		off += us[i].duration_ns;
		seg->end_off_ns = off;
		seg->pos = i;
		seg->mask = us[i].mask;
		seg->flags = us[i].flags;
		seg->bytes = struct_size(seg, coef, n);
		seg->quota = quota;
		refcount_inc(&quota->ref);
		memcpy(seg->coef, uc + used, 6 * n * sizeof(*uc));
		used += 6 * n;
		list_add_tail(&seg->node, list);
		ret = hrservo_seg_positions(seg, pos, &seen, jump, bad);
		if (ret)
			break;
	}
	if (refcount_dec_and_test(&batch->ref))
		kfree(batch);
	kvfree(uc);
	if (ret)
		return ret;
	return i == req->count ? 0 : -ENOMEM;
}

/*
 * The segment that plays at @ts, from @from on; mutex held, lock not. Notes
 * in @pos where the segments before it leave their axes.
 */
static struct hrservo_seg *hrservo_traj_find(struct hrservo_player *p,
					     struct hrservo_seg *from, u64 ts,
					     struct hrservo_traj_pos *pos)
{
	struct hrservo_seg *seg;
	unsigned int k;
	u64 m;

	for (seg = from; seg; seg = hrservo_seg_next(p, seg)) {
		if (ts < hrservo_seg_start(seg))
			return NULL;
		if (ts < hrservo_seg_end(seg))
			return seg;
		for (m = seg->mask, k = 0; m; m &= m - 1, k++)
			pos->walk[__ffs64(m)] = hrservo_poly_end(seg->coef[k]);
		pos->walk_mask |= seg->mask;
		cond_resched();
	}
	return NULL;
}

/*
 * Where an APPEND finds channel @c: where the queue leaves it, else its last
 * target. False if it has none (never set, or released). Lock held.
 */
static bool hrservo_traj_ref(struct hrservo_ctrl *ctrl, unsigned int c,
			     s64 *pos)
{
	const struct hrservo_player *p = &ctrl->traj;
	const struct hrservo_channel *ch = &ctrl->ch[c];

	if (p->head && (p->tail_mask & BIT_ULL(c))) {
		*pos = p->tail[c];
		return true;
	}
	if (!ch->enabled || !ch->target_ns)
		return false;
	*pos = (s64)ch->target_ns << HRSERVO_Q;
	return true;
}

/*
 * APPEND without %HRSERVO_TRAJ_JUMP: each of the submission's @axes starts
 * where it is left. At most 64 axes, lock held: prints nothing, returns the
 * channel in *@bad and the jump in *@jump (S64_MAX: no known position).
 */
static int hrservo_traj_joins(struct hrservo_ctrl *ctrl, u64 axes,
			      const struct hrservo_traj_pos *pos,
			      unsigned int *bad, s64 *jump)
{
	unsigned int c;
	s64 ref;
	u64 m;

	for (m = axes; m; m &= m - 1) {
		c = __ffs64(m);
		if (!hrservo_traj_ref(ctrl, c, &ref)) {
			*bad = c;
			*jump = S64_MAX;
			return -EDOM;
		}
		if (!hrservo_traj_near(pos->start[c], ref)) {
			*bad = c;
			*jump = hrservo_traj_jump(pos->start[c], ref);
			return -EDOM;
		}
	}
	return 0;
}

/*
 * REPLACE: the new segments start where the old trajectory is at @ts, on
 * each of their @axes: in @at, for the axes it moves and no release took
 * from it; else where the queue before @at leaves the axis (@pos->walk);
 * else at the axis's last target. -EINVAL otherwise. Lock held: prints
 * nothing, returns the channel in *@bad and the jump in *@jump (S64_MAX:
 * no known position).
 */
static int hrservo_traj_continuous(struct hrservo_ctrl *ctrl,
				   const struct hrservo_seg *at, u64 ts,
				   u64 axes,
				   const struct hrservo_traj_pos *pos,
				   unsigned int *bad, s64 *jump)
{
	struct hrservo_player *p = &ctrl->traj;
	u64 m, u = hrservo_seg_u(at, ts), live = hrservo_seg_live(p, at);
	const struct hrservo_channel *ch;
	unsigned int c, k;
	bool known;
	s64 ref = 0;

	for (m = axes; m; m &= m - 1) {
		c = __ffs64(m);
		ch = &ctrl->ch[c];
		known = true;
		if (live & BIT_ULL(c)) {
			k = hweight64(at->mask & (BIT_ULL(c) - 1));
			ref = hrservo_seg_eval(at, k, u);
		} else if (pos->walk_mask & p->axes & BIT_ULL(c)) {
			ref = pos->walk[c];
		} else if (ch->enabled && ch->target_ns) {
			ref = (s64)ch->target_ns << HRSERVO_Q;
		} else {
			known = false;
		}
		if (!known || !hrservo_traj_near(pos->start[c], ref)) {
			*bad = c;
			*jump = known ? hrservo_traj_jump(pos->start[c], ref) :
					S64_MAX;
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * REPLACE: cut what is queued from @at (playing at @ts) on, in O(1). The
 * cut segments go to @cut. Mutex and lock held.
 */
static void hrservo_traj_splice(struct hrservo_player *p,
				struct hrservo_seg *at, u64 ts,
				const struct hrservo_traj_pos *pos,
				struct list_head *cut)
{
	u64 live = hrservo_seg_live(p, at), u = hrservo_seg_u(at, ts), m;
	unsigned int k = 0;
	LIST_HEAD(keep);

	/*
	 * Where the queue now leaves each axis: where the segments before @at
	 * left it, and @at's own axes where it is at @ts; the new batch adds
	 * its own. Axes released meanwhile have none.
	 */
	p->tail_mask = pos->walk_mask & p->axes;
	for (m = p->tail_mask; m; m &= m - 1)
		p->tail[__ffs64(m)] = pos->walk[__ffs64(m)];
	for (m = at->mask; m; m &= m - 1, k++) {
		if (!(live & m & -m))
			continue;
		p->tail[__ffs64(m)] = hrservo_seg_eval(at, k, u);
		p->tail_mask |= m & -m;
	}
	if (hrservo_seg_start(at) == ts) {
		list_cut_before(&keep, &p->queue, &at->node);
		p->next_idx = hrservo_seg_idx(at);
		if (p->head == at)
			p->head = NULL;
	} else {
		list_cut_position(&keep, &p->queue, &at->node);
		p->next_idx = hrservo_seg_idx(at) + 1;
		/* Cut short: the new segments carry on, so it is not last. */
		at->end_off_ns = ts - at->batch->start_ns;
		at->flags &= ~HRSERVO_SEG_LAST;
	}
	list_splice_init(&p->queue, cut);
	list_splice(&keep, &p->queue);
}

/*
 * Queue the new segments of @list from @start on: O(1), whatever their
 * number, since they share their batch's start. Mutex and lock held.
 */
static void hrservo_traj_enqueue(struct hrservo_ctrl *ctrl,
				 struct list_head *list, u32 count, u64 start,
				 u64 axes, const struct hrservo_traj_pos *pos)
{
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *first = list_first_entry(list, struct hrservo_seg,
						     node);
	struct hrservo_batch *batch = first->batch;
	u64 m;

	if (p->state == HRSERVO_TRAJ_IDLE) {
		p->first_idx = p->next_idx;
		p->held = 0;
	}
	if (!p->head)
		p->tail_mask = 0;
	for (m = axes; m; m &= m - 1)
		p->tail[__ffs64(m)] = pos->end[__ffs64(m)];
	p->tail_mask |= axes;
	batch->start_ns = start;
	batch->idx = p->next_idx;
	batch->gen = ++p->gen;
	p->next_idx += count;
	if (!p->head)
		p->head = first;
	list_splice_tail_init(list, &p->queue);
	if (p->state != HRSERVO_TRAJ_RUNNING)
		p->state = HRSERVO_TRAJ_WAITING;
	p->axes |= axes;
	hrservo_kick_locked(ctrl);
}

/*
 * Where a checked, built submission of @axes goes: its start, and for
 * REPLACE the segment it splices into (*@at). The controller's lock is held
 * on entry and on return; REPLACE drops it to walk the queue under the
 * mutex (noting in @pos where the queue leaves the axes). A start that
 * would jump sets *@bad (a channel, else U32_MAX) and *@jump (S64_MAX for
 * an axis with no position): -EDOM for APPEND, -EINVAL for REPLACE.
 */
static int hrservo_traj_place(struct hrservo_ctrl *ctrl,
			      const struct hrservo_traj *req, u64 axes,
			      struct hrservo_traj_pos *pos,
			      unsigned long *flags, u64 *start,
			      struct hrservo_seg **at, unsigned int *bad,
			      s64 *jump)
{
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *from, *last;
	unsigned int tries;
	u64 now;
	int ret;

	now = ktime_get_ns();
	*start = req->at_ns ? req->at_ns : hrservo_next_frame(ctrl, now);
	if (ctrl->dead)
		return -ENODEV;
	if (ctrl->estop)
		return -EPERM;
	if (req->at_ns > now + HRSERVO_TRAJ_AT_MAX_NS)
		return -EINVAL;
	if (req->mode == HRSERVO_TRAJ_APPEND) {
		last = hrservo_traj_last(&ctrl->traj);
		if (last) {
			*start = hrservo_seg_end(last);
			if (req->at_ns)
				return -EINVAL;
		} else if (*start < now) {
			return -EINVAL;
		}
		if (req->flags & HRSERVO_TRAJ_JUMP)
			return 0;
		return hrservo_traj_joins(ctrl, axes, pos, bad, jump);
	}
	if (!p->head || *start < hrservo_next_frame(ctrl, now))
		return -EINVAL;
	/*
	 * Find the splice point with interrupts on, then check it again: a
	 * frame may have passed. At the next frame (at_ns 0), look again
	 * from there a few times; a request that keeps losing the race gets
	 * -EAGAIN.
	 */
	from = p->head;
	for (tries = 0; tries < HRSERVO_TRAJ_SPLICE_TRIES; tries++) {
		raw_spin_unlock_irqrestore(&ctrl->lock, *flags);
		*at = hrservo_traj_find(p, from, *start, pos);
		raw_spin_lock_irqsave(&ctrl->lock, *flags);
		now = ktime_get_ns();
		if (ctrl->dead)
			return -ENODEV;
		if (ctrl->estop)
			return -EPERM;
		if (!*at || !p->head ||
		    hrservo_seg_idx(*at) < hrservo_seg_idx(p->head))
			return -EINVAL;	/* not found, or played meanwhile */
		if (!req->at_ns)
			*start = hrservo_next_frame(ctrl, now);
		if (*start < hrservo_next_frame(ctrl, now))
			return -EINVAL;
		if (*start < hrservo_seg_end(*at))
			break;
		from = *at;
	}
	if (tries == HRSERVO_TRAJ_SPLICE_TRIES)
		return -EAGAIN;
	ret = hrservo_traj_continuous(ctrl, *at, *start, axes, pos, bad, jump);
	if (ret)
		*at = NULL;
	return ret;
}

static long hrservo_traj_submit(struct hrservo_file *f, void __user *arg)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *first, *at = NULL;
	struct hrservo_segment *us;
	struct hrservo_traj_pos *pos = NULL;
	struct hrservo_traj req;
	unsigned long flags;
	u64 start = 0, axes = 0;
	unsigned int bad = U32_MAX;
	u32 bytes, i;
	s64 jump = 0;
	LIST_HEAD(list);
	LIST_HEAD(cut);
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~HRSERVO_TRAJ_JUMP) ||
	    memchr_inv(req.padding, 0, sizeof(req.padding)) ||
	    req.mode > HRSERVO_TRAJ_REPLACE ||
	    (req.mode == HRSERVO_TRAJ_REPLACE &&
	     (req.flags & HRSERVO_TRAJ_JUMP)) || !req.count ||
	    req.count > HRSERVO_TRAJ_SUBMIT_MAX ||
	    req.ncoefs > req.count * 6 * HRSERVO_CHANNELS_MAX) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: bad submission (mode %u, %u segments, %u coefficients)\n",
				    req.mode, req.count, req.ncoefs);
		return -EINVAL;
	}
	/* The headers first (at most 32 KiB): they give the size. */
	us = hrservo_copy_user(req.segments, req.count, sizeof(*us));
	if (IS_ERR(us))
		return PTR_ERR(us);
	ret = hrservo_traj_check(ctrl, &req, us, &bytes);
	if (ret)
		goto out_free_us;
	for (i = 0; i < req.count; i++)
		axes |= us[i].mask;

	/* Reserve the memory: the quotas before any copy or allocation. */
	ret = mutex_lock_killable(&p->mutex);
	if (ret)
		goto out_free_us;
	hrservo_traj_collect(ctrl);
	if (f->quota->bytes + bytes > HRSERVO_TRAJ_FILE_BYTES ||
	    p->bytes + bytes > HRSERVO_TRAJ_CTRL_BYTES) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: %u more bytes would pass the limit of this file (%u of %u used) or controller (%u of %u)\n",
				    bytes, f->quota->bytes,
				    HRSERVO_TRAJ_FILE_BYTES, p->bytes,
				    HRSERVO_TRAJ_CTRL_BYTES);
		mutex_unlock(&p->mutex);
		ret = -ENOSPC;
		goto out_free_us;
	}
	WRITE_ONCE(f->quota->bytes, f->quota->bytes + bytes);
	p->bytes += bytes;
	mutex_unlock(&p->mutex);

	/* User memory is copied with no lock held. */
	pos = kzalloc(sizeof(*pos), GFP_KERNEL_ACCOUNT);
	ret = pos ? hrservo_traj_build(&req, us, f->quota, &list, pos, &bad) :
		    -ENOMEM;

	mutex_lock(&p->mutex);
	if (ret) {
		if (bad != U32_MAX)
			dev_dbg_ratelimited(&ctrl->dev,
					    "trajectory: channel %u %s\n", bad,
					    ret == -EDOM ?
					    "jumps between two segments" :
					    "starts outside 0..4294967295 ns");
		goto out_unreserve;
	}
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ret = hrservo_traj_place(ctrl, &req, axes, pos, &flags, &start, &at,
				 &bad, &jump);
	if (!ret) {
		if (at)
			hrservo_traj_splice(p, at, start, pos, &cut);
		hrservo_traj_enqueue(ctrl, &list, req.count, start, axes, pos);
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	/* Printed here, with interrupts on. */
	if (ret == -EPERM)
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory refused: the e-stop is latched\n");
	else if (bad != U32_MAX && jump == S64_MAX)
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: channel %u has no position to start from\n",
				    bad);
	else if (bad != U32_MAX)
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: %s of channel %u jumps %lld ns (tolerance %u ns)\n",
				    req.mode == HRSERVO_TRAJ_APPEND ? "start" :
				    "splice", bad, jump,
				    HRSERVO_SPLICE_TOL_NS);
	else if (ret == -EINVAL || ret == -EAGAIN)
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: start %llu ns or splice time invalid (%d)\n",
				    start, ret);
	/* What REPLACE cut off. */
	hrservo_seg_free_list(p, &cut);
out_unreserve:
	/* Not queued: the segments built and the rest of the reservation. */
	list_for_each_entry(first, &list, node)
		bytes -= first->bytes;
	hrservo_seg_free_list(p, &list);
	if (ret)
		hrservo_traj_uncharge(p, f->quota, bytes);
	mutex_unlock(&p->mutex);
	kfree(pos);
out_free_us:
	kvfree(us);
	return ret;
}

static long hrservo_traj_status(struct hrservo_file *f, void __user *arg)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_traj_status st = { };
	struct hrservo_seg *seg;
	unsigned long flags;
	u64 now;

	st.file_bytes = READ_ONCE(f->quota->bytes);
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	now = ktime_get_ns();
	seg = p->head;
	st.state = p->state;
	st.depth = hrservo_traj_depth(p);
	if (p->state != HRSERVO_TRAJ_IDLE)
		st.axes = p->axes;
	st.segment = (seg ? hrservo_seg_idx(seg) : p->next_idx) - p->first_idx;
	if (seg && now > hrservo_seg_start(seg))
		st.time_in_segment_ns = now - hrservo_seg_start(seg);
	if (seg) {
		/* The last queued segment: the list's tail. */
		seg = list_last_entry(&p->queue, struct hrservo_seg, node);
		if (hrservo_seg_end(seg) > now)
			st.queued_ns = hrservo_seg_end(seg) - now;
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long hrservo_traj_stop(struct hrservo_file *f, void __user *arg)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_traj_stop req;
	unsigned long flags;
	u64 stopped;
	int ret = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.padding, 0, sizeof(req.padding)))
		return -EINVAL;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (ctrl->dead) {
		ret = -ENODEV;
		goto out;
	}
	stopped = p->axes;
	hrservo_brake_locked(ctrl, stopped);
	hrservo_traj_drop_locked(ctrl);
out:
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	if (!ret && stopped)
		hrservo_emit(ctrl, HRSERVO_EVENT_STATE, stopped, 0);
	return ret;
}

/**
 * hrservo_traj_ioctl() - the trajectory ioctls
 * @f: the open file
 * @cmd: %HRSERVO_IOC_TRAJ_*
 * @arg: the user argument
 *
 * Return: 0 or a negative errno.
 */
long hrservo_traj_ioctl(struct hrservo_file *f, unsigned int cmd,
			void __user *arg)
{
	switch (cmd) {
	case HRSERVO_IOC_TRAJ_SUBMIT:
		return hrservo_traj_submit(f, arg);
	case HRSERVO_IOC_TRAJ_STATUS:
		return hrservo_traj_status(f, arg);
	case HRSERVO_IOC_TRAJ_STOP:
		return hrservo_traj_stop(f, arg);
	}
	return -ENOTTY;
}
