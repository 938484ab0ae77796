// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo trajectory player: a queue of timed polynomial segments per
 * controller, evaluated at every frame boundary in integer fixed point.
 *
 * Userspace plans (splines, minimum jerk, time scaling); the kernel plays.
 * Submitting validates every segment first and charges its memory to the
 * submitting file. At each frame boundary, in hard interrupt context and
 * under the controller's lock, hrservo_traj_frame() retires finished
 * segments and sets the targets of the moving axes; the core then applies
 * the speed, acceleration and pulse limits as for any target. Freeing
 * retired segments and raising events cannot happen there (not on
 * PREEMPT_RT), so an irq_work hands them to a work item.
 */
#include <linux/bitops.h>
#include <linux/irq_work.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "hrservo-priv.h"

/* The last queued segment, or NULL (list_last_entry_or_null is 6.2+). */
static struct hrservo_seg *hrservo_traj_last(struct hrservo_player *p)
{
	return list_empty(&p->queue) ? NULL :
	       list_last_entry(&p->queue, struct hrservo_seg, node);
}

/* Segments left the queue or an event is due: get to process context. */
static void hrservo_traj_defer(struct hrservo_player *p)
{
	irq_work_queue(&p->irq_work);
}

/* Move a segment out of the queue. Call with the controller's lock held. */
static void hrservo_traj_retire(struct hrservo_player *p,
				struct hrservo_seg *seg)
{
	seg->quota->bytes -= seg->bytes;
	p->bytes -= seg->bytes;
	list_move_tail(&seg->node, &p->garbage);
}

/* Normalised time of @seg at @t_ns; U32_MAX + 1 (as u64) past its end. */
static u64 hrservo_seg_u(const struct hrservo_seg *seg, u64 t_ns)
{
	if (t_ns >= seg->start_ns + seg->duration_ns)
		return 1ULL << 32;
	return hrservo_poly_u(t_ns - seg->start_ns, seg->duration_ns);
}

static s64 hrservo_seg_eval(const struct hrservo_seg *seg, unsigned int k,
			    u64 u)
{
	return u >> 32 ? hrservo_poly_end(seg->coef[k]) :
			 hrservo_poly_eval(seg->coef[k], (u32)u);
}

static s64 hrservo_seg_value(const struct hrservo_seg *seg, unsigned int k,
			     u64 t_ns)
{
	return hrservo_seg_eval(seg, k, hrservo_seg_u(seg, t_ns));
}

/* Set the targets of a segment's axes to its position at @t_ns. */
static void hrservo_traj_set(struct hrservo_ctrl *ctrl,
			     const struct hrservo_seg *seg, u64 t_ns)
{
	u64 m, u = hrservo_seg_u(seg, t_ns);	/* once for all axes */
	unsigned int c, k = 0;
	s64 ns;

	for (m = seg->mask; m; m &= m - 1) {
		c = __ffs64(m);
		if (c >= ctrl->nchannels)
			break;
		ns = (hrservo_seg_eval(seg, k++, u) +
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
 * Context: hard interrupt, controller lock held.
 */
void hrservo_traj_frame(struct hrservo_ctrl *ctrl, u64 t_ns)
{
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *seg, *next;
	bool retired = false, done = false;

	seg = list_first_entry_or_null(&p->queue, struct hrservo_seg, node);
	if (!seg || t_ns < seg->start_ns)
		return;
	p->state = HRSERVO_TRAJ_RUNNING;
	list_for_each_entry_safe(seg, next, &p->queue, node) {
		if (t_ns < seg->end_ns)
			break;
		/* Finished: its axes end where it ends. */
		hrservo_traj_set(ctrl, seg, seg->end_ns);
		done |= seg->flags & HRSERVO_SEG_LAST;
		hrservo_traj_retire(p, seg);
		p->index++;
		retired = true;
	}
	seg = list_first_entry_or_null(&p->queue, struct hrservo_seg, node);
	if (seg)
		hrservo_traj_set(ctrl, seg, t_ns);
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
	if (retired || p->ev_pending)
		hrservo_traj_defer(p);
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
		hrservo_traj_defer(p);
	}
}

/**
 * hrservo_traj_active() - whether the frame clock must run for the player
 * @ctrl: the controller, its lock held
 *
 * Return: true while segments are queued.
 */
bool hrservo_traj_active(struct hrservo_ctrl *ctrl)
{
	return !list_empty(&ctrl->traj.queue);
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

static void hrservo_seg_free(struct hrservo_seg *seg)
{
	if (refcount_dec_and_test(&seg->quota->ref))
		kfree(seg->quota);
	kfree(seg);
}

static void hrservo_traj_work(struct work_struct *work)
{
	struct hrservo_ctrl *ctrl = container_of(work, struct hrservo_ctrl,
						 traj.work);
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *seg, *next;
	unsigned long flags;
	u64 clamp, axes;
	u32 pending;
	LIST_HEAD(dead);

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	list_splice_init(&p->garbage, &dead);
	pending = p->ev_pending;
	clamp = p->ev_mask;
	axes = p->ev_axes;
	p->ev_pending = 0;
	p->ev_mask = 0;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	list_for_each_entry_safe(seg, next, &dead, node)
		hrservo_seg_free(seg);
	if (pending & BIT(HRSERVO_EVENT_CLAMP))
		hrservo_emit(ctrl, HRSERVO_EVENT_CLAMP, clamp, 0);
	if (pending & BIT(HRSERVO_EVENT_TRAJ_DONE))
		hrservo_emit(ctrl, HRSERVO_EVENT_TRAJ_DONE, axes, 0);
	if (pending & BIT(HRSERVO_EVENT_TRAJ_UNDERRUN))
		hrservo_emit(ctrl, HRSERVO_EVENT_TRAJ_UNDERRUN, axes, 0);
}

static void hrservo_traj_irq_work(struct irq_work *w)
{
	struct hrservo_player *p = container_of(w, struct hrservo_player,
						irq_work);

	schedule_work(&p->work);
}

/**
 * hrservo_traj_init() - set up the player of a new controller
 * @ctrl: the controller
 */
void hrservo_traj_init(struct hrservo_ctrl *ctrl)
{
	struct hrservo_player *p = &ctrl->traj;

	INIT_LIST_HEAD(&p->queue);
	INIT_LIST_HEAD(&p->garbage);
	init_irq_work(&p->irq_work, hrservo_traj_irq_work);
	INIT_WORK(&p->work, hrservo_traj_work);
}

/**
 * hrservo_traj_shutdown() - free every segment of a dead controller
 * @ctrl: the controller, its frame clock stopped for good
 */
void hrservo_traj_shutdown(struct hrservo_ctrl *ctrl)
{
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *seg, *next;
	unsigned long flags;

	irq_work_sync(&p->irq_work);
	cancel_work_sync(&p->work);
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	list_for_each_entry_safe(seg, next, &p->queue, node)
		hrservo_traj_retire(p, seg);
	p->state = HRSERVO_TRAJ_IDLE;
	p->axes = 0;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	/* Runs the pending events too; the controller is dead, no more. */
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
	f->quota = kzalloc(sizeof(*f->quota), GFP_KERNEL);
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

/* Next frame boundary, or when a stopped clock would start. Lock held. */
static u64 hrservo_next_frame(struct hrservo_ctrl *ctrl, u64 now)
{
	u64 next;

	if (!ctrl->running)
		return now + HRSERVO_START_LEAD_NS;
	next = ctrl->frame_start_ns + ctrl->next_period_ns;
	return next > now ? next : now;
}

/* Copy and check a submission; build the kernel segments in @list. */
static int hrservo_traj_build(struct hrservo_ctrl *ctrl,
			      const struct hrservo_traj *req,
			      struct list_head *list, u32 *bytes, u64 *axes)
{
	u64 valid = GENMASK_ULL(ctrl->nchannels - 1, 0);
	struct hrservo_segment *us;
	struct hrservo_seg *seg;
	size_t used = 0;
	s64 *uc;
	u32 i;
	int ret = 0;

	us = vmemdup_user(u64_to_user_ptr(req->segments),
			  array_size(req->count, sizeof(*us)));
	if (IS_ERR(us))
		return PTR_ERR(us);
	uc = vmemdup_user(u64_to_user_ptr(req->coefs),
			  array_size(req->ncoefs, sizeof(*uc)));
	if (IS_ERR(uc)) {
		kvfree(us);
		return PTR_ERR(uc);
	}

	*bytes = 0;
	*axes = 0;
	for (i = 0; i < req->count; i++) {
		unsigned int n = hweight64(us[i].mask);

		if (!us[i].duration_ns ||
		    us[i].duration_ns > HRSERVO_SEG_MAX_NS ||
		    !us[i].mask || (us[i].mask & ~valid) ||
		    (us[i].flags & ~HRSERVO_SEG_LAST) ||
		    memchr_inv(us[i].padding, 0, sizeof(us[i].padding)) ||
		    used + 6 * n > req->ncoefs) {
			dev_dbg_ratelimited(&ctrl->dev,
					    "trajectory: segment %u invalid (duration %llu ns, mask 0x%llx)\n",
					    i, us[i].duration_ns, us[i].mask);
			ret = -EINVAL;
			goto out;
		}
		seg = kzalloc(struct_size(seg, coef, n), GFP_KERNEL);
		if (!seg) {
			ret = -ENOMEM;
			goto out;
		}
		seg->duration_ns = us[i].duration_ns;
		seg->mask = us[i].mask;
		seg->flags = us[i].flags;
		seg->bytes = struct_size(seg, coef, n);
		memcpy(seg->coef, uc + used, 6 * n * sizeof(*uc));
		used += 6 * n;
		*bytes += seg->bytes;
		*axes |= seg->mask;
		list_add_tail(&seg->node, list);
	}
	if (used != req->ncoefs) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: %u coefficients given, %zu used\n",
				    req->ncoefs, used);
		ret = -EINVAL;
	}
out:
	kvfree(uc);
	kvfree(us);
	return ret;
}

/*
 * REPLACE: drop what is queued from @ts on, after checking that the first
 * new segment starts where the old ones are at @ts. Lock held.
 */
static int hrservo_traj_splice(struct hrservo_ctrl *ctrl, u64 ts,
			       const struct hrservo_seg *first)
{
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *seg, *next, *at = NULL;
	unsigned int c, k = 0, j;
	s64 diff;
	u64 m;

	list_for_each_entry(seg, &p->queue, node) {
		if (ts >= seg->start_ns && ts < seg->end_ns) {
			at = seg;
			break;
		}
	}
	if (!at)
		return -EINVAL;
	/* Continuity of every axis the old and the new segment share. */
	for (m = first->mask; m; m &= m - 1) {
		c = __ffs64(m);
		if (at->mask & BIT_ULL(c)) {
			j = hweight64(at->mask & (BIT_ULL(c) - 1));
			diff = first->coef[k][0] - hrservo_seg_value(at, j, ts);
			if (abs(diff) > ((s64)HRSERVO_SPLICE_TOL_NS << HRSERVO_Q)) {
				dev_dbg_ratelimited(&ctrl->dev,
						    "trajectory: splice of channel %u jumps %lld ns\n",
						    c, diff >> HRSERVO_Q);
				return -EINVAL;
			}
		}
		k++;
	}
	list_for_each_entry_safe_reverse(seg, next, &p->queue, node) {
		if (seg == at)
			break;
		hrservo_traj_retire(p, seg);
	}
	if (at->start_ns == ts) {
		hrservo_traj_retire(p, at);
	} else {
		/* Cut short: the new segments carry on, so it is not last. */
		at->end_ns = ts;
		at->flags &= ~HRSERVO_SEG_LAST;
	}
	return 0;
}

static long hrservo_traj_submit(struct hrservo_file *f, void __user *arg)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *seg, *next, *last;
	struct hrservo_traj req;
	unsigned long flags;
	u64 now, start, axes;
	u32 bytes = 0;
	LIST_HEAD(list);
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.padding, 0, sizeof(req.padding)) ||
	    req.mode > HRSERVO_TRAJ_REPLACE || !req.count ||
	    req.count > HRSERVO_TRAJ_SUBMIT_MAX ||
	    req.ncoefs > req.count * 6 * HRSERVO_CHANNELS_MAX) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: bad submission (mode %u, %u segments, %u coefficients)\n",
				    req.mode, req.count, req.ncoefs);
		return -EINVAL;
	}
	ret = hrservo_traj_build(ctrl, &req, &list, &bytes, &axes);
	if (ret)
		goto err_free;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	now = ktime_get_ns();
	last = hrservo_traj_last(p);
	if (ctrl->dead) {
		ret = -ENODEV;
	} else if (f->quota->bytes + bytes > HRSERVO_TRAJ_FILE_BYTES ||
		   p->bytes + bytes > HRSERVO_TRAJ_CTRL_BYTES) {
		ret = -ENOSPC;
	} else if (req.mode == HRSERVO_TRAJ_APPEND) {
		if (!last) {
			start = req.at_ns ? req.at_ns :
				hrservo_next_frame(ctrl, now);
			ret = start < now ? -EINVAL : 0;
		} else {
			start = last->end_ns;
			ret = req.at_ns ? -EINVAL : 0;
		}
	} else {
		start = req.at_ns ? req.at_ns : hrservo_next_frame(ctrl, now);
		seg = list_first_entry(&list, struct hrservo_seg, node);
		if (!last || start < hrservo_next_frame(ctrl, now))
			ret = -EINVAL;
		else
			ret = hrservo_traj_splice(ctrl, start, seg);
	}
	if (!ret) {
		list_for_each_entry(seg, &list, node) {
			seg->start_ns = start;
			seg->end_ns = start + seg->duration_ns;
			start = seg->end_ns;
			seg->quota = f->quota;
			refcount_inc(&f->quota->ref);
		}
		f->quota->bytes += bytes;
		p->bytes += bytes;
		list_splice_tail_init(&list, &p->queue);
		if (p->state == HRSERVO_TRAJ_IDLE) {
			p->index = 0;
			p->held = 0;
		}
		if (p->state != HRSERVO_TRAJ_RUNNING)
			p->state = HRSERVO_TRAJ_WAITING;
		p->axes |= axes;
		hrservo_kick_locked(ctrl);
		if (!list_empty(&p->garbage))
			hrservo_traj_defer(p);
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	if (ret == -ENOSPC)
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: %u more bytes would pass the limit of this file (%u) or controller (%u)\n",
				    bytes, HRSERVO_TRAJ_FILE_BYTES,
				    HRSERVO_TRAJ_CTRL_BYTES);
	else if (ret == -EINVAL)
		dev_dbg_ratelimited(&ctrl->dev,
				    "trajectory: start or splice time invalid\n");
err_free:
	list_for_each_entry_safe(seg, next, &list, node)
		kfree(seg);
	return ret;
}

static long hrservo_traj_status(struct hrservo_file *f, void __user *arg)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_traj_status st = { };
	struct hrservo_seg *seg, *last;
	unsigned long flags;
	u64 now;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	now = ktime_get_ns();
	st.state = p->state;
	st.segment = p->index;
	st.file_bytes = f->quota->bytes;
	list_for_each_entry(seg, &p->queue, node)
		st.depth++;
	seg = list_first_entry_or_null(&p->queue, struct hrservo_seg, node);
	last = hrservo_traj_last(p);
	if (seg && now > seg->start_ns)
		st.time_in_segment_ns = now - seg->start_ns;
	if (last && last->end_ns > now)
		st.queued_ns = last->end_ns - now;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long hrservo_traj_stop(struct hrservo_file *f, void __user *arg)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_player *p = &ctrl->traj;
	struct hrservo_seg *seg, *next;
	struct hrservo_traj_stop req;
	unsigned long flags;
	unsigned int c;
	u64 stopped, m;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.padding, 0, sizeof(req.padding)))
		return -EINVAL;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	list_for_each_entry_safe(seg, next, &p->queue, node)
		hrservo_traj_retire(p, seg);
	stopped = p->axes;
	for (m = stopped; m; m &= m - 1) {
		struct hrservo_channel *ch;
		s64 pos, v, a, d = 0;

		c = __ffs64(m);
		ch = &ctrl->ch[c];
		if (c >= ctrl->nchannels || !ch->motion.valid)
			continue;
		pos = ch->motion.pos >> HRSERVO_Q;
		v = ch->motion.vel >> HRSERVO_Q;
		a = hrservo_rate_per_frame(ch->max_accel, ctrl->period_ns, 2) >>
		    HRSERVO_Q;
		/* Brake at a per frame: v + (v - a) + ... = v (|v| + a) / 2a */
		if (ch->max_accel && v)
			d = div64_s64(v * (abs(v) + max_t(s64, a, 1)),
				      2 * max_t(s64, a, 1));
		ch->target_ns = clamp_t(s64, pos + d, ctrl->lim[c].min_ns,
					ctrl->lim[c].max_ns);
	}
	p->state = HRSERVO_TRAJ_IDLE;
	p->axes = 0;
	p->held = 0;
	if (!list_empty(&p->garbage))
		hrservo_traj_defer(p);
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	if (stopped)
		hrservo_emit(ctrl, HRSERVO_EVENT_STATE, stopped, 0);
	return 0;
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
