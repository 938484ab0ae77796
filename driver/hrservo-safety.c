// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo safety: the failsafe, the per-file watchdog, the e-stop latch and
 * its input line, and the record of played frames.
 *
 * A failsafe changes channel state under the controller's lock, in O(number
 * of channels), so it runs where it is needed: from a watchdog's hrtimer in
 * hard interrupt context (also on PREEMPT_RT: the timers are _HARD, so a
 * starved softirq thread cannot delay them), from the e-stop input's
 * interrupt, and from process context. The events it raises are queued
 * under the lock and raised by hrservo_safety_events() in process context.
 */
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/gpio/consumer.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "hrservo-priv.h"

/* Channels with a pulse (or about to get one): what a failsafe acts on. */
static u64 hrservo_enabled_locked(struct hrservo_ctrl *ctrl)
{
	u64 mask = 0;
	unsigned int c;

	for (c = 0; c < ctrl->nchannels; c++)
		if (ctrl->ch[c].enabled)
			mask |= BIT_ULL(c);
	return mask;
}

/**
 * hrservo_brake_locked() - stop channels where they can stop
 * @ctrl: the controller, its lock held
 * @mask: the channels
 *
 * Each channel of @mask with an emitted position gets, as its target, the
 * point where it stops when it decelerates within its acceleration limit
 * from its speed now (where it is, without an acceleration limit), clamped
 * to its pulse limits. Constant work per channel, no division: any
 * context.
 */
void hrservo_brake_locked(struct hrservo_ctrl *ctrl, u64 mask)
{
	unsigned int c;
	u64 m;

	for (m = mask; m; m &= m - 1) {
		struct hrservo_channel *ch;

		c = __ffs64(m);
		if (c >= ctrl->nchannels)
			break;
		ch = &ctrl->ch[c];
		if (!ch->motion.valid)
			continue;
		/* ch->brake was prepared in process context: no division. */
		ch->target_ns = hrservo_stop_point(&ch->motion, ch->max_accel,
						   &ch->brake, &ctrl->lim[c]);
	}
}

/*
 * Queue a safety event for process context. One like the last queued is
 * merged into it; one that finds the queue full is counted as lost.
 */
static void hrservo_sev_queue_locked(struct hrservo_ctrl *ctrl, u32 type,
				     u32 value, u64 mask)
{
	struct hrservo_safety_ev *e = ctrl->sev_n ?
				      &ctrl->sev[ctrl->sev_n - 1] : NULL;

	if (e && e->type == type && e->value == value) {
		e->mask |= mask;
	} else if (ctrl->sev_n < HRSERVO_SAFETY_EVQ) {
		e = &ctrl->sev[ctrl->sev_n++];
		e->type = type;
		e->value = value;
		e->mask = mask;
	} else {
		ctrl->sev_lost++;
	}
}

/*
 * Run a failsafe on the whole controller. Call with the lock held; any
 * context. Return: the channels that had a pulse.
 */
static u64 hrservo_failsafe_locked(struct hrservo_ctrl *ctrl, u32 action,
				   const struct hrservo_wd *wd)
{
	u64 on = hrservo_enabled_locked(ctrl), m;
	unsigned int c;

	if (action == HRSERVO_FAILSAFE_POSE && (ctrl->estop || !wd))
		action = HRSERVO_FAILSAFE_HOLD;
	/*
	 * A channel enabled since the last frame has emitted nothing yet: it
	 * has no position to hold, and its first pulse would jump to its
	 * target. Whatever the action, it gets no pulse.
	 */
	for (m = on; m; m &= m - 1) {
		c = __ffs64(m);
		if (!ctrl->ch[c].motion.valid)
			hrservo_disable_locked(ctrl, BIT_ULL(c));
	}
	/*
	 * Nor has one whose first pulse is in a frame begun ahead that has
	 * not started: its motion state is valid already.
	 */
	if (READ_ONCE(ctrl->begun_ahead) && (on & ctrl->fresh))
		hrservo_disable_locked(ctrl, on & ctrl->fresh);
	switch (action) {
	case HRSERVO_FAILSAFE_RELEASE:
		hrservo_disable_locked(ctrl, ~0ULL);
		hrservo_traj_drop_locked(ctrl);
		break;
	case HRSERVO_FAILSAFE_POSE:
		hrservo_traj_drop_locked(ctrl);
		hrservo_brake_locked(ctrl, on & ~wd->pose_mask);
		for (m = on & wd->pose_mask; m; m &= m - 1) {
			c = __ffs64(m);
			if (!ctrl->ch[c].enabled)
				continue;
			ctrl->ch[c].target_ns = clamp(wd->pose_ns[c],
						      ctrl->lim[c].min_ns,
						      ctrl->lim[c].max_ns);
		}
		break;
	default:
		/* The stop points of the moving axes, then no trajectory. */
		hrservo_brake_locked(ctrl, on);
		hrservo_traj_drop_locked(ctrl);
		break;
	}
	return on;
}

/* Raise the queued safety events, in order. Process context. */
static void hrservo_safety_events(struct hrservo_ctrl *ctrl)
{
	struct hrservo_safety_ev e;
	unsigned long flags;
	u32 lost;
	bool got;

	mutex_lock(&ctrl->sev_lock);
	for (;;) {
		raw_spin_lock_irqsave(&ctrl->lock, flags);
		got = ctrl->sev_n;
		if (got) {
			e = ctrl->sev[0];
			ctrl->sev_n--;
			memmove(&ctrl->sev[0], &ctrl->sev[1],
				ctrl->sev_n * sizeof(ctrl->sev[0]));
		}
		/* Lost after the queued ones: their gap comes after them. */
		lost = ctrl->sev_n ? 0 : ctrl->sev_lost;
		if (!ctrl->sev_n)
			ctrl->sev_lost = 0;
		raw_spin_unlock_irqrestore(&ctrl->lock, flags);
		if (got)
			hrservo_emit(ctrl, e.type, e.mask, e.value);
		if (lost)
			hrservo_events_lost(ctrl, lost);
		if (!got)
			break;
	}
	mutex_unlock(&ctrl->sev_lock);
}

static void hrservo_sev_work(struct work_struct *work)
{
	hrservo_safety_events(container_of(work, struct hrservo_ctrl,
					   sev_work));
}

/* ---- the e-stop latch ---- */

/* Trip the latch; the lock held, any context. */
static void hrservo_estop_trip_locked(struct hrservo_ctrl *ctrl, u32 action,
				      u32 source)
{
	u64 on;

	if (ctrl->dead)
		return;
	/* Latched: only a release of a latch that held changes anything. */
	if (ctrl->estop && (action != HRSERVO_FAILSAFE_RELEASE ||
			    ctrl->estop_applied == HRSERVO_FAILSAFE_RELEASE))
		return;
	ctrl->estop = true;
	ctrl->estop_applied = action;
	ctrl->estop_source = source;
	ctrl->estop_ns = ktime_get_ns();
	on = hrservo_failsafe_locked(ctrl, action, NULL);
	hrservo_sev_queue_locked(ctrl, HRSERVO_EVENT_ESTOP, source, on);
}

/* Trip (@trip) or clear the latch from process context. */
static int hrservo_estop_set(struct hrservo_ctrl *ctrl, bool trip, u32 action)
{
	unsigned long flags;
	int ret = 0;

	/*
	 * A clear reads the line itself: an edge may have been lost, or
	 * bounced, since the interrupt last read it.
	 */
	mutex_lock(&ctrl->estop_lock);
	if (!trip && ctrl->estop_gpio) {
		int active = gpiod_get_value_cansleep(ctrl->estop_gpio);

		raw_spin_lock_irqsave(&ctrl->lock, flags);
		ctrl->estop_input_active = active != 0;
		raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	}
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (ctrl->dead) {
		ret = -ENODEV;
	} else if (trip) {
		hrservo_estop_trip_locked(ctrl, action, HRSERVO_ESTOP_SRC_USER);
	} else if (ctrl->estop_input_active) {
		ret = -EBUSY;
	} else if (ctrl->estop) {
		ctrl->estop = false;
		hrservo_sev_queue_locked(ctrl, HRSERVO_EVENT_ESTOP, 0, 0);
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	mutex_unlock(&ctrl->estop_lock);
	hrservo_safety_events(ctrl);
	if (ret == -EBUSY)
		dev_dbg_ratelimited(&ctrl->dev,
				    "e-stop: not cleared, its input is active\n");
	return ret;
}

static void hrservo_estop_fill(struct hrservo_ctrl *ctrl,
			       struct hrservo_estop *st)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	st->flags = (ctrl->estop ? HRSERVO_ESTOP_LATCHED : 0) |
		    (ctrl->estop_input ? HRSERVO_ESTOP_INPUT : 0) |
		    (ctrl->estop_input_active ? HRSERVO_ESTOP_INPUT_ACTIVE : 0);
	st->source = ctrl->estop_source;
	st->tripped_ns = ctrl->estop_ns;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
}

static long hrservo_ioc_estop(struct hrservo_file *f, struct file *file,
			      void __user *arg)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_estop req;
	int ret = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	/* flags, source and tripped_ns are outputs: ignored on input. */
	if (memchr_inv(req.padding, 0, sizeof(req.padding)) ||
	    req.op > HRSERVO_ESTOP_CLEAR ||
	    (req.op == HRSERVO_ESTOP_TRIP &&
	     req.action > HRSERVO_FAILSAFE_RELEASE) ||
	    (req.op != HRSERVO_ESTOP_TRIP && req.action)) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "estop: op %u action %u or non-zero padding\n",
				    req.op, req.action);
		return -EINVAL;
	}
	if (req.op != HRSERVO_ESTOP_GET) {
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		ret = hrservo_estop_set(ctrl, req.op == HRSERVO_ESTOP_TRIP,
					req.action);
		if (ret)
			return ret;
	}
	hrservo_estop_fill(ctrl, &req);
	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}

static irqreturn_t hrservo_estop_irq(int irq, void *data)
{
	struct hrservo_ctrl *ctrl = data;
	unsigned long flags;
	int active;

	/* Threaded (nested) for a chip that sleeps, else hard interrupt. */
	if (gpiod_cansleep(ctrl->estop_gpio))
		active = gpiod_get_value_cansleep(ctrl->estop_gpio);
	else
		active = gpiod_get_value(ctrl->estop_gpio);
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	/* A failed read counts as pressed: this line is there for safety. */
	ctrl->estop_input_active = active != 0;
	if (active)
		hrservo_estop_trip_locked(ctrl, ctrl->estop_action,
					  HRSERVO_ESTOP_SRC_INPUT);
	if (ctrl->sev_n && !ctrl->dead)
		queue_work(system_highpri_wq, &ctrl->sev_work);
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return IRQ_HANDLED;
}

/* devm action: the line is about to be given back; no one reads it. */
static void hrservo_estop_forget(void *data)
{
	struct hrservo_ctrl *ctrl = data;

	mutex_lock(&ctrl->estop_lock);
	ctrl->estop_gpio = NULL;
	mutex_unlock(&ctrl->estop_lock);
}

/**
 * devm_hrservo_estop_input() - give a controller an e-stop input line
 * @dev: the backend's device; the interrupt is freed with it
 * @ctrl: the controller, allocated with devm_hrservo_alloc() on @dev and
 *	not registered yet, so that no user can move a servo before the line
 *	is watched
 * @gpiod: an input line got with devm_gpiod_get*() on @dev, its active
 *	level the pressed button (active-low lines are flagged so in their
 *	lookup or device tree)
 *
 * Each edge of @gpiod interrupts; when the line is active, the e-stop latch
 * trips from the interrupt, with the controller's estop_action, without
 * userspace. While it is active the latch cannot be cleared. A line active
 * now trips the latch at once.
 *
 * Context: process context.
 * Return: 0 or a negative errno.
 */
int devm_hrservo_estop_input(struct device *dev, struct hrservo_ctrl *ctrl,
			     struct gpio_desc *gpiod)
{
	unsigned long flags;
	int irq, ret;

	if (!gpiod || ctrl->estop_gpio || ctrl->ops)
		return -EINVAL;
	irq = gpiod_to_irq(gpiod);
	if (irq < 0)
		return dev_err_probe(dev, irq, "e-stop line has no interrupt\n");
	ctrl->estop_gpio = gpiod;
	/* Runs before the line is put, after the interrupt is freed. */
	ret = devm_add_action_or_reset(dev, hrservo_estop_forget, ctrl);
	if (ret)
		return ret;
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ctrl->estop_input = true;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	ret = devm_request_any_context_irq(dev, irq, hrservo_estop_irq,
					   IRQF_TRIGGER_RISING |
					   IRQF_TRIGGER_FALLING,
					   dev_name(&ctrl->dev), ctrl);
	if (ret < 0)
		return dev_err_probe(dev, ret, "e-stop interrupt %d\n", irq);
	/* The state before the first edge, read as the interrupt reads it. */
	disable_irq(irq);
	hrservo_estop_irq(irq, ctrl);
	enable_irq(irq);
	hrservo_safety_events(ctrl);
	return 0;
}
EXPORT_SYMBOL_GPL(devm_hrservo_estop_input);

/* ---- the watchdog ---- */

static enum hrtimer_restart hrservo_wd_expire(struct hrtimer *t)
{
	struct hrservo_file *f = container_of(t, struct hrservo_file, wd.timer);
	struct hrservo_ctrl *ctrl = f->ctrl;
	unsigned long flags;
	u64 on;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (f->wd.timeout_ms && !ctrl->dead) {
		on = hrservo_failsafe_locked(ctrl, f->wd.action, &f->wd);
		ctrl->wd_fired++;
		hrservo_sev_queue_locked(ctrl, HRSERVO_EVENT_WATCHDOG,
					 HRSERVO_WD_EXPIRED, on);
		queue_work(system_highpri_wq, &ctrl->sev_work);
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return HRTIMER_NORESTART;
}

/**
 * hrservo_wd_open() - set up the watchdog of a new open file, disarmed
 * @f: the file
 */
void hrservo_wd_open(struct hrservo_file *f)
{
	mutex_init(&f->wd.lock);
	hrtimer_init(&f->wd.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	f->wd.timer.function = hrservo_wd_expire;
}

/**
 * hrservo_wd_pet() - restart the timeout of an armed watchdog
 * @f: the file
 */
void hrservo_wd_pet(struct hrservo_file *f)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	unsigned long flags;
	u32 ms;

	mutex_lock(&f->wd.lock);
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ms = f->wd.timeout_ms;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	if (ms)
		hrtimer_start(&f->wd.timer, ms_to_ktime(ms),
			      HRTIMER_MODE_REL_HARD);
	mutex_unlock(&f->wd.lock);
}

/**
 * hrservo_wd_close() - the file closes: an armed watchdog's failsafe runs
 * @f: the file
 */
void hrservo_wd_close(struct hrservo_file *f)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	unsigned long flags;
	bool armed;
	u64 on;

	hrtimer_cancel(&f->wd.timer);
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	armed = f->wd.timeout_ms;
	if (armed) {
		f->wd.timeout_ms = 0;
		ctrl->wd_armed--;
	}
	if (armed && !ctrl->dead) {
		on = hrservo_failsafe_locked(ctrl, f->wd.action, &f->wd);
		ctrl->wd_fired++;
		hrservo_sev_queue_locked(ctrl, HRSERVO_EVENT_WATCHDOG,
					 HRSERVO_WD_CLOSED, on);
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	if (armed)
		hrservo_safety_events(ctrl);
}

/* A pose is given with POSE and only then. */
static bool hrservo_wd_bad_pose(const struct hrservo_watchdog *req)
{
	bool pose = req->action == HRSERVO_FAILSAFE_POSE;

	return pose != !!req->npose;
}

static long hrservo_ioc_watchdog(struct hrservo_file *f, void __user *arg)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_target *t = NULL;
	struct hrservo_watchdog req;
	unsigned int i, bad = 0;
	unsigned long flags;
	int ret = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.padding, 0, sizeof(req.padding)) ||
	    req.action > HRSERVO_FAILSAFE_POSE ||
	    (req.timeout_ms && (req.timeout_ms < HRSERVO_WD_TIMEOUT_MIN_MS ||
				req.timeout_ms > HRSERVO_WD_TIMEOUT_MAX_MS)) ||
	    hrservo_wd_bad_pose(&req) ||
	    (!req.npose && req.pose) || req.npose > ctrl->nchannels) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "watchdog: timeout %u ms (0 or %u..%u), action %u, %u pose targets (1..%u for a pose only)\n",
				    req.timeout_ms, HRSERVO_WD_TIMEOUT_MIN_MS,
				    HRSERVO_WD_TIMEOUT_MAX_MS, req.action,
				    req.npose, ctrl->nchannels);
		return -EINVAL;
	}
	if (req.npose) {
		t = memdup_user(u64_to_user_ptr(req.pose),
				array_size(req.npose, sizeof(*t)));
		if (IS_ERR(t))
			return PTR_ERR(t);
	}

	mutex_lock(&f->wd.lock);
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (ctrl->dead) {
		ret = -ENODEV;
		goto out;
	}
	if (t) {
		ret = hrservo_check_batch(t, req.npose, ctrl->nchannels,
					  ctrl->lim, &bad);
		if (ret)
			goto out;
	}
	if (!f->wd.timeout_ms && req.timeout_ms) {
		if (ctrl->wd_armed >= HRSERVO_WD_ARMED_MAX) {
			ret = -EBUSY;
			goto out;
		}
		ctrl->wd_armed++;
	} else if (f->wd.timeout_ms && !req.timeout_ms) {
		ctrl->wd_armed--;
	}
	f->wd.timeout_ms = req.timeout_ms;
	f->wd.action = req.action;
	f->wd.pose_mask = 0;
	for (i = 0; i < req.npose; i++) {
		f->wd.pose_mask |= BIT_ULL(t[i].channel);
		f->wd.pose_ns[t[i].channel] = t[i].pulse_ns;
	}
out:
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	if (ret == -EBUSY)
		dev_dbg_ratelimited(&ctrl->dev,
				    "watchdog: already %u armed\n",
				    HRSERVO_WD_ARMED_MAX);
	else if ((ret == -EINVAL || ret == -ERANGE) && t)
		dev_dbg_ratelimited(&ctrl->dev,
				    "watchdog: pose element %u (channel %u, %u ns) bad: %d\n",
				    bad, t[bad].channel, t[bad].pulse_ns, ret);
	kfree(t);
	if (!ret && req.timeout_ms)
		hrtimer_start(&f->wd.timer, ms_to_ktime(req.timeout_ms),
			      HRTIMER_MODE_REL_HARD);
	else if (!ret)
		hrtimer_cancel(&f->wd.timer);
	mutex_unlock(&f->wd.lock);
	return ret;
}

static long hrservo_ioc_keepalive(struct hrservo_file *f)
{
	struct hrservo_ctrl *ctrl = f->ctrl;
	unsigned long flags;
	u32 ms;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ms = f->wd.timeout_ms;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	if (!ms) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "keep-alive without an armed watchdog\n");
		return -EINVAL;
	}
	/* hrservo_ioctl() restarts the timeout when this returns 0. */
	return 0;
}

/* ---- the record of played frames ---- */

/**
 * hrservo_record_locked() - keep the widths of the frame that begins
 * @ctrl: the controller, its lock held
 * @seq: the frame's number
 * @pulse_ns: its widths, one per channel
 *
 * Context: the frame clock, any context. O(channels).
 */
void hrservo_record_locked(struct hrservo_ctrl *ctrl, u64 seq,
			   const u32 *pulse_ns)
{
	unsigned int i = seq & (HRSERVO_FRAMES_KEPT - 1);

	ctrl->rec_start[i] = ctrl->frame_start_ns;
	ctrl->rec_period[i] = ctrl->period_ns;
	memcpy(&ctrl->rec_pulse[i * ctrl->nchannels], pulse_ns,
	       ctrl->nchannels * sizeof(*pulse_ns));
}

/**
 * hrservo_record_drop_locked() - take channels out of a kept frame
 * @ctrl: the controller, its lock held
 * @seq: the frame's number
 * @mask: the channels that got no pulse in it after all
 *
 * Context: the frame clock, any context. O(channels).
 */
void hrservo_record_drop_locked(struct hrservo_ctrl *ctrl, u64 seq, u64 mask)
{
	u32 *w = &ctrl->rec_pulse[(seq & (HRSERVO_FRAMES_KEPT - 1)) *
				  ctrl->nchannels];

	for (; mask; mask &= mask - 1)
		w[__ffs64(mask)] = 0;
}

static long hrservo_ioc_get_frames(struct hrservo_ctrl *ctrl,
				   void __user *arg)
{
	struct hrservo_frames __user *uarg = arg;
	struct hrservo_frame __user *out;
	struct hrservo_frames req;
	struct hrservo_frame fr;
	u64 last, oldest, seq, n = 0;
	unsigned long flags;
	unsigned int c, i;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.padding || req.count == 0 || req.count > HRSERVO_FRAMES_MAX) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "get frames: count %u outside 1..%u, or padding\n",
				    req.count, HRSERVO_FRAMES_MAX);
		return -EINVAL;
	}
	out = u64_to_user_ptr(req.frames);

	/* One frame per hold of the lock, then copied out with it released. */
	seq = req.seq;
	for (;;) {
		memset(&fr, 0, sizeof(fr));
		raw_spin_lock_irqsave(&ctrl->lock, flags);
		if (ctrl->dead) {
			raw_spin_unlock_irqrestore(&ctrl->lock, flags);
			return -ENODEV;
		}
		/*
		 * A frame begun ahead is not played yet, and its record has
		 * taken the slot of the oldest: one frame fewer is kept.
		 */
		last = ctrl->frame_seq - READ_ONCE(ctrl->begun_ahead);
		oldest = ctrl->frame_seq > HRSERVO_FRAMES_KEPT ?
			 ctrl->frame_seq - HRSERVO_FRAMES_KEPT + 1 : !!last;
		/* The first, or a frame overwritten meanwhile: from the oldest. */
		if (!n || seq < oldest)
			seq = max(seq, oldest);
		if (!oldest || seq > last || n == req.count) {
			raw_spin_unlock_irqrestore(&ctrl->lock, flags);
			break;
		}
		i = seq & (HRSERVO_FRAMES_KEPT - 1);
		fr.seq = seq;
		fr.start_ns = ctrl->rec_start[i];
		fr.period_ns = ctrl->rec_period[i];
		for (c = 0; c < ctrl->nchannels; c++) {
			fr.pulse_ns[c] = ctrl->rec_pulse[i * ctrl->nchannels + c];
			if (fr.pulse_ns[c])
				fr.active |= BIT_ULL(c);
		}
		raw_spin_unlock_irqrestore(&ctrl->lock, flags);
		if (n && seq != req.next_seq)
			break;	/* overwritten while copying: stop at the gap */
		if (!n)
			req.seq = seq;
		if (copy_to_user(&out[n], &fr, sizeof(fr)))
			return -EFAULT;
		n++;
		req.next_seq = ++seq;
	}
	req.count = n;
	if (!n)
		req.next_seq = req.seq;
	req.oldest = oldest;
	if (copy_to_user(&uarg->count, &req.count, sizeof(req.count)) ||
	    copy_to_user(&uarg->next_seq, &req.next_seq,
			 sizeof(req.next_seq)) ||
	    copy_to_user(&uarg->oldest, &req.oldest, sizeof(req.oldest)))
		return -EFAULT;
	return 0;
}

/**
 * hrservo_safety_ioctl() - the watchdog, e-stop and frame ioctls
 * @f: the open file
 * @file: its struct file, for its mode
 * @cmd: the ioctl
 * @arg: its user argument
 *
 * Return: 0 or a negative errno.
 */
long hrservo_safety_ioctl(struct hrservo_file *f, struct file *file,
			  unsigned int cmd, void __user *arg)
{
	switch (cmd) {
	case HRSERVO_IOC_ESTOP:
		return hrservo_ioc_estop(f, file, arg);
	case HRSERVO_IOC_WATCHDOG:
		return hrservo_ioc_watchdog(f, arg);
	case HRSERVO_IOC_KEEPALIVE:
		return hrservo_ioc_keepalive(f);
	case HRSERVO_IOC_GET_FRAMES:
		return hrservo_ioc_get_frames(f->ctrl, arg);
	}
	return -ENOTTY;
}

/* ---- sysfs ---- */

static struct hrservo_ctrl *hrservo_dev_ctrl(struct device *dev)
{
	return container_of(dev, struct hrservo_ctrl, dev);
}

static ssize_t estop_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct hrservo_estop st;

	hrservo_estop_fill(hrservo_dev_ctrl(dev), &st);
	return sysfs_emit(buf, "%u\n", !!(st.flags & HRSERVO_ESTOP_LATCHED));
}

static ssize_t estop_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t len)
{
	struct hrservo_ctrl *ctrl = hrservo_dev_ctrl(dev);
	unsigned long flags;
	u32 action;
	bool trip;
	int ret;

	ret = kstrtobool(buf, &trip);
	if (ret)
		return ret;
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	action = ctrl->estop_action;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	ret = hrservo_estop_set(ctrl, trip, action);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(estop);

static const char * const hrservo_fs_names[] = {
	[HRSERVO_FAILSAFE_HOLD] = "hold",
	[HRSERVO_FAILSAFE_RELEASE] = "release",
};

static ssize_t estop_action_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct hrservo_ctrl *ctrl = hrservo_dev_ctrl(dev);
	unsigned long flags;
	u32 action;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	action = ctrl->estop_action;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return sysfs_emit(buf, "%s\n", hrservo_fs_names[action]);
}

static ssize_t estop_action_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t len)
{
	struct hrservo_ctrl *ctrl = hrservo_dev_ctrl(dev);
	unsigned long flags;
	int action;

	action = sysfs_match_string(hrservo_fs_names, buf);
	if (action < 0)
		return action;
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ctrl->estop_action = action;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return len;
}
static DEVICE_ATTR_RW(estop_action);

static ssize_t estop_input_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct hrservo_estop st;

	hrservo_estop_fill(hrservo_dev_ctrl(dev), &st);
	if (!(st.flags & HRSERVO_ESTOP_INPUT))
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%s\n", st.flags & HRSERVO_ESTOP_INPUT_ACTIVE ?
			  "active" : "inactive");
}
static DEVICE_ATTR_RO(estop_input);

static ssize_t watchdogs_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct hrservo_ctrl *ctrl = hrservo_dev_ctrl(dev);
	unsigned long flags;
	unsigned int n;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	n = ctrl->wd_armed;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return sysfs_emit(buf, "%u\n", n);
}
static DEVICE_ATTR_RO(watchdogs);

static ssize_t watchdog_fired_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct hrservo_ctrl *ctrl = hrservo_dev_ctrl(dev);

	return hrservo_counter_show(ctrl, &ctrl->wd_fired, buf);
}
static DEVICE_ATTR_RO(watchdog_fired);

static struct attribute *hrservo_safety_attrs[] = {
	&dev_attr_estop.attr,
	&dev_attr_estop_action.attr,
	&dev_attr_estop_input.attr,
	&dev_attr_watchdogs.attr,
	&dev_attr_watchdog_fired.attr,
	NULL
};

const struct attribute_group hrservo_safety_group = {
	.attrs = hrservo_safety_attrs,
};

/* ---- lifetime ---- */

/**
 * hrservo_safety_alloc() - allocate the frame record, set up the events
 * @ctrl: a controller being allocated
 *
 * Return: 0 or -ENOMEM; hrservo_safety_free() frees what was allocated.
 */
int hrservo_safety_alloc(struct hrservo_ctrl *ctrl)
{
	mutex_init(&ctrl->sev_lock);
	mutex_init(&ctrl->estop_lock);
	INIT_WORK(&ctrl->sev_work, hrservo_sev_work);
	ctrl->estop_action = HRSERVO_FAILSAFE_HOLD;
	ctrl->rec_start = kcalloc(HRSERVO_FRAMES_KEPT,
				  sizeof(*ctrl->rec_start), GFP_KERNEL);
	ctrl->rec_period = kcalloc(HRSERVO_FRAMES_KEPT,
				   sizeof(*ctrl->rec_period), GFP_KERNEL);
	ctrl->rec_pulse = kvcalloc(HRSERVO_FRAMES_KEPT * ctrl->nchannels,
				   sizeof(*ctrl->rec_pulse), GFP_KERNEL);
	if (!ctrl->rec_start || !ctrl->rec_period || !ctrl->rec_pulse)
		return -ENOMEM;
	return 0;
}

/**
 * hrservo_safety_free() - free the frame record
 * @ctrl: the controller, no longer used by anyone
 */
void hrservo_safety_free(struct hrservo_ctrl *ctrl)
{
	kfree(ctrl->rec_start);
	kfree(ctrl->rec_period);
	kvfree(ctrl->rec_pulse);
}

/**
 * hrservo_safety_shutdown() - no safety event after removal
 * @ctrl: the controller, marked dead
 *
 * Nothing queues the work once the controller is dead; this waits for
 * a queued one, which then raises nothing.
 */
void hrservo_safety_shutdown(struct hrservo_ctrl *ctrl)
{
	cancel_work_sync(&ctrl->sev_work);
}

/**
 * hrservo_safety_flush() - raise the safety events still queued
 * @ctrl: the controller, dead: nothing queues any more
 *
 * Waits for a raise in progress, so that none comes after the removal
 * event.
 */
void hrservo_safety_flush(struct hrservo_ctrl *ctrl)
{
	hrservo_safety_events(ctrl);
}
