// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo core: the hrservo class, /dev/hrservoN, sysfs, channel state,
 * limits and the frame schedule shared by every output backend.
 *
 * Locking: all channel state, limits and the frame schedule of a controller
 * live under ctrl->lock, a raw spinlock, because the backends read them from
 * their frame clock, which may run in hard interrupt context, also on
 * PREEMPT_RT (hrservo-pca9685's timer). Every user request is validated and
 * applied inside one critical section, so a batch is applied whole or not
 * at all and never straddles a frame boundary; what it does there is
 * bounded by the channel count, never by anything else a user controls.
 */
#include <linux/bitmap.h>
#include <linux/cdev.h>
#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iopoll.h>
#include <linux/kernel.h>
#include <linux/kfifo.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "hrservo-priv.h"

#define CREATE_TRACE_POINTS
#include "hrservo_trace.h"

EXPORT_TRACEPOINT_SYMBOL_GPL(hrservo_edge);
EXPORT_TRACEPOINT_SYMBOL_GPL(hrservo_bus_update);

static dev_t hrservo_devt;
static DEFINE_IDA(hrservo_ida);

static struct class hrservo_class = {
	.name = "hrservo",
};

static struct hrservo_ctrl *to_ctrl(struct device *dev)
{
	return container_of(dev, struct hrservo_ctrl, dev);
}

/**
 * hrservo_priv() - backend private data of a controller
 * @ctrl: the controller
 *
 * Return: the priv_size bytes allocated by devm_hrservo_alloc().
 */
void *hrservo_priv(struct hrservo_ctrl *ctrl)
{
	return ctrl->priv;
}
EXPORT_SYMBOL_GPL(hrservo_priv);

/**
 * hrservo_channels() - number of channels of a controller
 * @ctrl: the controller
 *
 * Return: the channel count given to devm_hrservo_alloc().
 */
unsigned int hrservo_channels(struct hrservo_ctrl *ctrl)
{
	return ctrl->nchannels;
}
EXPORT_SYMBOL_GPL(hrservo_channels);

/**
 * hrservo_id() - N of the controller's hrservoN name
 * @ctrl: the controller
 *
 * Return: the controller's id, as used in trace events.
 */
int hrservo_id(struct hrservo_ctrl *ctrl)
{
	return ctrl->id;
}
EXPORT_SYMBOL_GPL(hrservo_id);

/* Call with ctrl->lock held. Starts the frame clock if it is needed. */
void hrservo_kick_locked(struct hrservo_ctrl *ctrl)
{
	unsigned int i;
	bool need = hrservo_traj_active(ctrl);

	if (ctrl->running || ctrl->dead)
		return;
	for (i = 0; i < ctrl->nchannels && !need; i++)
		need = ctrl->ch[i].enabled;
	if (need) {
		ctrl->running = true;
		ctrl->ops->start(ctrl, ktime_add_ns(ktime_get(),
						    HRSERVO_START_LEAD_NS));
	}
}

/**
 * hrservo_next_frame() - when the next frame starts
 * @ctrl: the controller, its lock held
 * @now: the time now
 *
 * Return: the next frame boundary, or when a stopped clock would start.
 */
u64 hrservo_next_frame(struct hrservo_ctrl *ctrl, u64 now)
{
	u64 next;

	if (!ctrl->running)
		return now + HRSERVO_START_LEAD_NS;
	/*
	 * The frame latched last (the one in progress, or the next one once
	 * a backend began it ahead) ends after its own period: a change made
	 * now reaches the frame after it.
	 */
	next = ctrl->frame_start_ns + ctrl->period_ns;
	return next > now ? next : now;
}

/**
 * hrservo_frame_begin() - latch the pulses of the frame that begins next
 * @ctrl: the controller
 * @scheduled: the frame's scheduled start (CLOCK_MONOTONIC)
 * @pulse_ns: output, @ctrl's channel count of pulse widths, 0 for no pulse
 * @period_ns: output, the period of this frame
 * @active_mask: output, the channels with a pulse in this frame
 *
 * Called by the backend at every frame boundary, typically from its hrtimer
 * in hard interrupt context, or, by a backend whose description says
 * begins_ahead, a little ahead of the boundary: it then calls
 * hrservo_frame_rise() at the start of every frame that has a pulse.
 * Targets, releases and period changes made since the previous call take
 * effect here, all at once.
 *
 * Return: true if the frame clock must go on (there are pulses, or a
 * trajectory waits to start); false if not, in which case the clock is
 * considered stopped and the backend must stop it without touching its
 * state (a new start may already be under way). A frame may have no pulse
 * and still go on.
 */
bool hrservo_frame_begin(struct hrservo_ctrl *ctrl, ktime_t scheduled,
			 u32 *pulse_ns, u32 *period_ns, u64 *active_mask)
{
	unsigned long flags;
	u64 active = 0, held = 0, seq;
	bool keep;
	unsigned int i;
	u32 period;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	/* The per-frame rates were computed for it in process context. */
	ctrl->period_ns = ctrl->next_period_ns;
	ctrl->frame_start_ns = ktime_to_ns(scheduled);
	WRITE_ONCE(ctrl->released, 0);
	ctrl->fresh = 0;
	hrservo_traj_frame(ctrl, ctrl->frame_start_ns);
	for (i = 0; i < ctrl->nchannels; i++) {
		struct hrservo_channel *ch = &ctrl->ch[i];
		bool h;

		if (!ch->enabled) {
			ch->pulse_ns = 0;
			ch->motion.valid = false;
		} else {
			if (!ch->motion.valid)
				ctrl->fresh |= BIT_ULL(i);
			/* A trajectory's point moves; a target rests. */
			ch->pulse_ns = hrservo_chan_step(&ch->motion,
							 &ctrl->lim[i],
							 ch->target_ns,
							 ch->vmax_frame,
							 ch->amax_frame,
							 hrservo_traj_owns(ctrl, i),
							 &h);
			if (h)
				held |= BIT_ULL(i);
		}
		pulse_ns[i] = ch->pulse_ns;
		if (ch->pulse_ns)
			active |= BIT_ULL(i);
	}
	if (ctrl->ops->quantize && active) {
		/* What the hardware emits: that is the pulse users read. */
		ctrl->ops->quantize(ctrl, pulse_ns, ctrl->nchannels,
				    ctrl->period_ns);
		for (i = 0; i < ctrl->nchannels; i++)
			ctrl->ch[i].pulse_ns = pulse_ns[i];
	}
	hrservo_traj_clamped(ctrl, held);
	keep = active || hrservo_traj_active(ctrl);
	if (!keep)
		ctrl->running = false;
	/* Begun ahead: hrservo_frame_rise() follows, at the frame start. */
	WRITE_ONCE(ctrl->begun_ahead, active && ctrl->begins_ahead);
	seq = ++ctrl->frame_seq;
	hrservo_record_locked(ctrl, seq, pulse_ns);
	period = ctrl->period_ns;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	*period_ns = period;
	*active_mask = active;
	if (trace_hrservo_frame_enabled())
		trace_hrservo_frame(ctrl->id, seq, ktime_to_ns(scheduled),
				    ktime_get_ns(), active, period);
	return keep;
}
EXPORT_SYMBOL_GPL(hrservo_frame_begin);

/**
 * hrservo_frame_rise() - the channels that still pulse in a frame begun ahead
 * @ctrl: the controller
 * @active_mask: what hrservo_frame_begin() returned for the frame
 *
 * For a backend that calls hrservo_frame_begin() ahead of the frame's start,
 * so that the start itself only writes the lines: call this just before
 * writing them. A release made since hrservo_frame_begin() (by a user, a
 * failsafe, the e-stop or removal) still wins: its channels get no pulse in
 * this frame, and the frame record and the channels' pulses say so. Every
 * other change takes effect in the next frame.
 *
 * Context: the frame clock, any context. Without a release since
 * hrservo_frame_begin() it takes no lock.
 *
 * Return: @active_mask without the channels released since.
 */
u64 hrservo_frame_rise(struct hrservo_ctrl *ctrl, u64 active_mask)
{
	unsigned long flags;
	u64 drop, m;

	if (likely(!(READ_ONCE(ctrl->released) & active_mask))) {
		WRITE_ONCE(ctrl->begun_ahead, false);
		return active_mask;
	}
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	drop = ctrl->released & active_mask;
	/*
	 * Their motion state stays as the frame's work left it: a release
	 * invalidates it at the next frame begun, a channel enabled again
	 * meanwhile steps on from there, within its limits.
	 */
	for (m = drop; m; m &= m - 1)
		ctrl->ch[__ffs64(m)].pulse_ns = 0;
	hrservo_record_drop_locked(ctrl, ctrl->frame_seq, drop);
	WRITE_ONCE(ctrl->begun_ahead, false);
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return active_mask & ~drop;
}
EXPORT_SYMBOL_GPL(hrservo_frame_rise);

/*
 * Release the channels of @mask: no pulse from the next frame on, nor in a
 * frame begun ahead that has not started (hrservo_frame_rise()). The lock
 * held; any context.
 */
void hrservo_disable_locked(struct hrservo_ctrl *ctrl, u64 mask)
{
	unsigned int c;

	for (c = 0; c < ctrl->nchannels; c++)
		if (mask & BIT_ULL(c))
			ctrl->ch[c].enabled = false;
	/* Bits only added until the next frame_begin: see @released. */
	WRITE_ONCE(ctrl->released, ctrl->released | mask);
}

/*
 * The width channel @c pulses with in the frame playing now: before a
 * frame begun ahead starts (@ahead, READ_ONCE(ctrl->begun_ahead) read once
 * by the caller for all its channels), the one of the frame before (its
 * record). The lock held.
 */
u32 hrservo_pulse_locked(struct hrservo_ctrl *ctrl, unsigned int c,
			 bool ahead)
{
	u64 seq = ctrl->frame_seq - 1;

	if (!ahead)
		return ctrl->ch[c].pulse_ns;
	if (!seq)
		return 0;
	return ctrl->rec_pulse[(seq & (HRSERVO_FRAMES_KEPT - 1)) *
			       ctrl->nchannels + c];
}

/**
 * hrservo_frames_missed() - account frames the backend had to skip
 * @ctrl: the controller
 * @n: number of frames skipped
 *
 * Context: any, including hard interrupt.
 */
void hrservo_frames_missed(struct hrservo_ctrl *ctrl, u64 n)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ctrl->frames_missed += n;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
}
EXPORT_SYMBOL_GPL(hrservo_frames_missed);

/**
 * hrservo_set_period_range() - change the frame periods a backend supports
 * @ctrl: the controller
 * @min_ns: new lowest frame period, at least %HRSERVO_PERIOD_MIN_NS
 * @max_ns: new highest frame period
 *
 * For hardware whose period range follows a setting, such as a clock.
 * Nothing changes if the frame period in use falls outside the new range.
 *
 * Context: process or atomic; takes the controller's lock.
 * Return: 0; -EINVAL for a bad range; -ERANGE if the frame period in use is
 * outside it.
 */
int hrservo_set_period_range(struct hrservo_ctrl *ctrl, u32 min_ns, u32 max_ns)
{
	unsigned long flags;
	int ret = 0;

	if (min_ns < HRSERVO_PERIOD_MIN_NS || min_ns > max_ns)
		return -EINVAL;
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (ctrl->next_period_ns < min_ns || ctrl->next_period_ns > max_ns ||
	    ctrl->period_ns < min_ns || ctrl->period_ns > max_ns) {
		ret = -ERANGE;
	} else {
		ctrl->period_min_ns = min_ns;
		ctrl->period_max_ns = max_ns;
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(hrservo_set_period_range);

/**
 * hrservo_report_fault() - tell users that the hardware missed an update
 * @ctrl: the controller
 * @mask: channels whose new pulse widths did not reach the hardware
 * @err: the negative errno of the failure
 *
 * Raises %HRSERVO_EVENT_FAULT on every open file. The backend is expected
 * to retry at the next frame.
 *
 * Context: process context.
 */
void hrservo_report_fault(struct hrservo_ctrl *ctrl, u64 mask, int err)
{
	hrservo_emit(ctrl, HRSERVO_EVENT_FAULT, mask, (u32)-err);
}
EXPORT_SYMBOL_GPL(hrservo_report_fault);

/*
 * Queue an event to every open file and wake their readers. A full queue
 * drops the event; the file's sequence number still counts it, so the
 * reader sees the gap. Process context only.
 */
void hrservo_emit(struct hrservo_ctrl *ctrl, u32 type, u64 mask,
		  u32 value)
{
	struct hrservo_event ev = {
		.timestamp_ns = ktime_get_ns(),
		.mask = mask,
		.type = type,
		.value = value,
	};
	struct hrservo_file *f;

	spin_lock(&ctrl->ev_lock);
	list_for_each_entry(f, &ctrl->files, node) {
		ev.seq = ++f->seq;
		kfifo_put(&f->events, ev);
	}
	spin_unlock(&ctrl->ev_lock);
	wake_up_poll(&ctrl->ev_wait, EPOLLIN | EPOLLRDNORM);
}

/*
 * Count @n events lost before they were queued in every open file's
 * sequence number, so that readers see the gap. Process context only.
 */
void hrservo_events_lost(struct hrservo_ctrl *ctrl, u32 n)
{
	struct hrservo_file *f;

	spin_lock(&ctrl->ev_lock);
	list_for_each_entry(f, &ctrl->files, node)
		f->seq += n;
	spin_unlock(&ctrl->ev_lock);
}

/* ---- operations shared by the ioctls and sysfs ---- */

static int hrservo_set_targets(struct hrservo_ctrl *ctrl,
			       const struct hrservo_target *t,
			       unsigned int count)
{
	struct hrservo_chan_limits lim = { };
	unsigned long flags;
	unsigned int i, bad = 0;
	u64 mask = 0;
	int ret;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (ctrl->dead) {
		ret = -ENODEV;
		goto out;
	}
	if (ctrl->estop) {
		ret = -EPERM;
		goto out;
	}
	ret = hrservo_check_batch(t, count, ctrl->nchannels, ctrl->lim, &bad);
	if (ret == -ERANGE)
		lim = ctrl->lim[t[bad].channel];
	if (ret)
		goto out;
	for (i = 0; i < count; i++) {
		if (hrservo_traj_owns(ctrl, t[i].channel)) {
			bad = i;
			ret = -EBUSY;
			goto out;
		}
	}
	for (i = 0; i < count; i++) {
		ctrl->ch[t[i].channel].target_ns = t[i].pulse_ns;
		ctrl->ch[t[i].channel].enabled = true;
		mask |= BIT_ULL(t[i].channel);
	}
	hrservo_kick_locked(ctrl);
out:
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	if (!ret)
		hrservo_emit(ctrl, HRSERVO_EVENT_STATE, mask, 0);

	if (ret == -ERANGE)
		dev_dbg_ratelimited(&ctrl->dev,
				    "channel %u: %u ns outside [%u, %u] ns, batch of %u rejected\n",
				    t[bad].channel, t[bad].pulse_ns,
				    lim.min_ns, lim.max_ns, count);
	else if (ret == -EINVAL && bad < count)
		dev_dbg_ratelimited(&ctrl->dev,
				    "element %u: channel %u out of range or repeated (%u channels)\n",
				    bad, t[bad].channel, ctrl->nchannels);
	else if (ret == -EINVAL)
		dev_dbg_ratelimited(&ctrl->dev, "bad batch count %u (1..%u)\n",
				    count, ctrl->nchannels);
	else if (ret == -EBUSY)
		dev_dbg_ratelimited(&ctrl->dev,
				    "channel %u is moved by a trajectory\n",
				    t[bad].channel);
	else if (ret == -EPERM)
		dev_dbg_ratelimited(&ctrl->dev,
				    "targets refused: the e-stop is latched\n");
	return ret;
}

static int hrservo_release_mask(struct hrservo_ctrl *ctrl, u64 mask)
{
	unsigned long flags;
	int ret = 0;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (ctrl->dead) {
		ret = -ENODEV;
	} else {
		/*
		 * Release wins: no pulse from the next frame on, also a frame
		 * already begun (hrservo_frame_rise()).
		 */
		hrservo_disable_locked(ctrl, mask);
		hrservo_traj_release_locked(ctrl, mask);
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	if (!ret && mask)
		hrservo_emit(ctrl, HRSERVO_EVENT_STATE, mask, 0);
	return ret;
}

static int hrservo_enable_channel(struct hrservo_ctrl *ctrl, unsigned int c)
{
	struct hrservo_target t;
	unsigned long flags;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	t.channel = c;
	t.pulse_ns = ctrl->ch[c].target_ns;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	if (!t.pulse_ns) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "channel %u: enable without a target\n", c);
		return -EINVAL;
	}
	/* Revalidated against the limits under the lock, like any target. */
	return hrservo_set_targets(ctrl, &t, 1);
}

/* Which limits hrservo_set_limits() changes; the others keep their value. */
#define HRSERVO_SET_MIN		BIT(0)
#define HRSERVO_SET_MAX		BIT(1)
#define HRSERVO_SET_SPEED	BIT(2)
#define HRSERVO_SET_ACCEL	BIT(3)
/* Not a limit: the initial-pulse-ns of a channel node. */
#define HRSERVO_FW_INITIAL	BIT(4)

/**
 * struct hrservo_lim_req - new limits of a channel
 * @min_ns: lower pulse limit
 * @max_ns: upper pulse limit
 * @speed: speed limit, ns/s
 * @accel: acceleration limit, ns/s^2
 */
struct hrservo_lim_req {
	u32 min_ns;
	u32 max_ns;
	u32 speed;
	u32 accel;
};

static int hrservo_set_limits(struct hrservo_ctrl *ctrl, unsigned int c,
			      struct hrservo_lim_req r, unsigned int which)
{
	struct hrservo_channel *ch = &ctrl->ch[c];
	struct hrservo_div brake;
	unsigned long flags;
	s64 vmax, amax;
	u32 period;
	int ret;

	/* The limits and the period change only under cfg_lock. */
	mutex_lock(&ctrl->cfg_lock);
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (!(which & HRSERVO_SET_MIN))
		r.min_ns = ctrl->lim[c].min_ns;
	if (!(which & HRSERVO_SET_MAX))
		r.max_ns = ctrl->lim[c].max_ns;
	if (!(which & HRSERVO_SET_SPEED))
		r.speed = ch->max_speed;
	if (!(which & HRSERVO_SET_ACCEL))
		r.accel = ch->max_accel;
	period = ctrl->next_period_ns;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	/* Divisions in process context, with interrupts on. */
	vmax = hrservo_rate_per_frame(r.speed, period, 1);
	amax = hrservo_rate_per_frame(r.accel, period, 2);
	hrservo_brake_prepare(&brake, amax);

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (ctrl->dead)
		ret = -ENODEV;
	else if (hrservo_check_limits(r.min_ns, r.max_ns, period))
		ret = -ERANGE;
	else if (ch->enabled &&
		 (ch->target_ns < r.min_ns || ch->target_ns > r.max_ns))
		ret = -EBUSY;
	else
		ret = 0;
	if (!ret) {
		ctrl->lim[c].min_ns = r.min_ns;
		ctrl->lim[c].max_ns = r.max_ns;
		ch->max_speed = r.speed;
		ch->max_accel = r.accel;
		ch->vmax_frame = vmax;
		ch->amax_frame = amax;
		ch->brake = brake;
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	mutex_unlock(&ctrl->cfg_lock);

	if (!ret)
		hrservo_emit(ctrl, HRSERVO_EVENT_STATE, BIT_ULL(c), 0);
	else if (ret == -ERANGE)
		dev_dbg_ratelimited(&ctrl->dev,
				    "channel %u: limits [%u, %u] ns invalid, need %u <= min < max <= %u\n",
				    c, r.min_ns, r.max_ns, HRSERVO_PULSE_MIN_NS,
				    hrservo_pulse_max_for_period(period));
	else if (ret == -EBUSY)
		dev_dbg_ratelimited(&ctrl->dev,
				    "channel %u: limits [%u, %u] ns exclude its target\n",
				    c, r.min_ns, r.max_ns);
	return ret;
}

static int hrservo_set_period(struct hrservo_ctrl *ctrl, u32 period_ns)
{
	unsigned long flags;
	unsigned int bad = 0, c;
	u32 max_ns = 0, lo, hi;
	struct hrservo_div *brake;
	s64 (*rates)[2];
	int ret;

	rates = kcalloc(ctrl->nchannels, sizeof(*rates), GFP_KERNEL);
	brake = kcalloc(ctrl->nchannels, sizeof(*brake), GFP_KERNEL);
	if (!rates || !brake) {
		kfree(rates);
		kfree(brake);
		return -ENOMEM;
	}
	/*
	 * The per-frame rates at the new period, computed with interrupts
	 * on: under cfg_lock the speed and acceleration limits cannot change.
	 */
	mutex_lock(&ctrl->cfg_lock);
	for (c = 0; c < ctrl->nchannels; c++) {
		rates[c][0] = hrservo_rate_per_frame(ctrl->ch[c].max_speed,
						     period_ns, 1);
		rates[c][1] = hrservo_rate_per_frame(ctrl->ch[c].max_accel,
						     period_ns, 2);
		hrservo_brake_prepare(&brake[c], rates[c][1]);
	}
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	lo = ctrl->period_min_ns;
	hi = ctrl->period_max_ns;
	if (ctrl->dead)
		ret = -ENODEV;
	else
		ret = hrservo_check_period(period_ns, lo, hi, ctrl->lim,
					   ctrl->nchannels, &bad);
	if (!ret) {
		ctrl->next_period_ns = period_ns;
		for (c = 0; c < ctrl->nchannels; c++) {
			ctrl->ch[c].vmax_frame = rates[c][0];
			ctrl->ch[c].amax_frame = rates[c][1];
			ctrl->ch[c].brake = brake[c];
		}
	} else if (ret == -EBUSY) {
		max_ns = ctrl->lim[bad].max_ns;
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	mutex_unlock(&ctrl->cfg_lock);
	kfree(rates);
	kfree(brake);

	if (!ret)
		hrservo_emit(ctrl, HRSERVO_EVENT_PERIOD, 0, period_ns);

	if (ret == -ERANGE)
		dev_dbg_ratelimited(&ctrl->dev,
				    "frame period %u ns outside [%u, %u] ns\n",
				    period_ns, lo, hi);
	else if (ret == -EBUSY)
		dev_dbg_ratelimited(&ctrl->dev,
				    "frame period %u ns too short for channel %u max %u ns\n",
				    period_ns, bad, max_ns);
	return ret;
}

/* ---- character device ---- */

static int hrservo_open(struct inode *inode, struct file *file)
{
	struct hrservo_ctrl *ctrl = container_of(inode->i_cdev,
						 struct hrservo_ctrl, cdev);
	struct hrservo_file *f;

	/* The event queue is the user's: charged to its memory cgroup. */
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	INIT_KFIFO(f->events);
	f->ctrl = ctrl;
	hrservo_wd_open(f);
	if (hrservo_traj_open(f)) {
		kfree(f);
		return -ENOMEM;
	}
	spin_lock(&ctrl->ev_lock);
	if (ctrl->nfiles >= HRSERVO_FILES_MAX) {
		spin_unlock(&ctrl->ev_lock);
		hrservo_traj_release(f);
		kfree(f);
		dev_dbg_ratelimited(&ctrl->dev, "already %u open files\n",
				    HRSERVO_FILES_MAX);
		return -EMFILE;
	}
	ctrl->nfiles++;
	list_add_tail(&f->node, &ctrl->files);
	spin_unlock(&ctrl->ev_lock);
	get_device(&ctrl->dev);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int hrservo_release(struct inode *inode, struct file *file)
{
	struct hrservo_file *f = file->private_data;
	struct hrservo_ctrl *ctrl = f->ctrl;

	/* Closing an armed file is what a dying process does: failsafe. */
	hrservo_wd_close(f);
	spin_lock(&ctrl->ev_lock);
	list_del(&f->node);
	ctrl->nfiles--;
	spin_unlock(&ctrl->ev_lock);
	hrservo_traj_release(f);
	kfree(f);
	put_device(&ctrl->dev);
	return 0;
}

static bool hrservo_dead(struct hrservo_ctrl *ctrl)
{
	unsigned long flags;
	bool dead;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	dead = ctrl->dead;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return dead;
}

static bool hrservo_get_event(struct hrservo_file *f,
			      struct hrservo_event *ev)
{
	bool got;

	spin_lock(&f->ctrl->ev_lock);
	got = kfifo_get(&f->events, ev);
	spin_unlock(&f->ctrl->ev_lock);
	return got;
}

static bool hrservo_events_queued(struct hrservo_file *f)
{
	bool queued;

	spin_lock(&f->ctrl->ev_lock);
	queued = !kfifo_is_empty(&f->events);
	spin_unlock(&f->ctrl->ev_lock);
	return queued;
}

static ssize_t hrservo_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct hrservo_file *f = file->private_data;
	struct hrservo_ctrl *ctrl = f->ctrl;
	struct hrservo_event ev;
	size_t done = 0;
	int ret;

	if (count < sizeof(ev))
		return -EINVAL;
	while (done + sizeof(ev) <= count) {
		if (!hrservo_get_event(f, &ev)) {
			if (done || hrservo_dead(ctrl))
				break;
			if (file->f_flags & O_NONBLOCK)
				return -EAGAIN;
			ret = wait_event_interruptible(ctrl->ev_wait,
						       hrservo_events_queued(f) ||
						       hrservo_dead(ctrl));
			if (ret)
				return ret;
			continue;
		}
		if (copy_to_user(buf + done, &ev, sizeof(ev)))
			return done ? done : -EFAULT;
		done += sizeof(ev);
	}
	return done;
}

static __poll_t hrservo_poll(struct file *file, poll_table *wait)
{
	struct hrservo_file *f = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &f->ctrl->ev_wait, wait);
	if (hrservo_events_queued(f))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (hrservo_dead(f->ctrl))
		mask |= EPOLLHUP | EPOLLERR;
	return mask;
}

static long hrservo_ioc_get_info(struct hrservo_ctrl *ctrl, void __user *arg)
{
	struct hrservo_info info = { };
	unsigned long flags;

	strscpy(info.name, dev_name(&ctrl->dev), sizeof(info.name));
	strscpy(info.backend, ctrl->backend, sizeof(info.backend));
	info.abi_version = HRSERVO_ABI_VERSION;
	info.channels = ctrl->nchannels;
	info.pulse_min_ns = HRSERVO_PULSE_MIN_NS;
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	/* No backend op once removal began: the backend may be gone. */
	if (ctrl->dead) {
		raw_spin_unlock_irqrestore(&ctrl->lock, flags);
		return -ENODEV;
	}
	info.frame_period_min_ns = ctrl->period_min_ns;
	info.frame_period_max_ns = ctrl->period_max_ns;
	info.frame_period_ns = ctrl->next_period_ns;
	info.resolution_ns = ctrl->ops->resolution ?
			     ctrl->ops->resolution(ctrl, ctrl->next_period_ns) :
			     ctrl->resolution_ns;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	info.pulse_max_ns = hrservo_pulse_max_for_period(info.frame_period_ns);

	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long hrservo_ioc_set_targets(struct hrservo_ctrl *ctrl,
				    void __user *arg)
{
	struct hrservo_target *t;
	struct hrservo_targets req;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.padding, 0, sizeof(req.padding))) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "set targets: non-zero flags or padding\n");
		return -EINVAL;
	}
	if (req.count == 0 || req.count > ctrl->nchannels) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "set targets: count %u outside 1..%u\n",
				    req.count, ctrl->nchannels);
		return -EINVAL;
	}
	t = memdup_user(u64_to_user_ptr(req.targets),
			array_size(req.count, sizeof(*t)));
	if (IS_ERR(t))
		return PTR_ERR(t);
	ret = hrservo_set_targets(ctrl, t, req.count);
	kfree(t);
	return ret;
}

static long hrservo_ioc_get_state(struct hrservo_ctrl *ctrl, void __user *arg)
{
	struct hrservo_channel_state *st;
	struct hrservo_state_req req;
	unsigned long flags;
	unsigned int i;
	int ret = 0;
	bool ahead;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (memchr_inv(req.padding, 0, sizeof(req.padding)))
		return -EINVAL;
	if (req.first >= ctrl->nchannels || req.count == 0 ||
	    req.count > ctrl->nchannels - req.first) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "get state: channels %u+%u outside 0..%u\n",
				    req.first, req.count, ctrl->nchannels - 1);
		return -EINVAL;
	}
	st = kcalloc(req.count, sizeof(*st), GFP_KERNEL_ACCOUNT);
	if (!st)
		return -ENOMEM;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	if (ctrl->dead)
		ret = -ENODEV;
	ahead = READ_ONCE(ctrl->begun_ahead);
	for (i = 0; !ret && i < req.count; i++) {
		unsigned int c = req.first + i;
		struct hrservo_channel *ch = &ctrl->ch[c];

		st[i].channel = c;
		st[i].pulse_ns = hrservo_pulse_locked(ctrl, c, ahead);
		st[i].flags = (ch->enabled ? HRSERVO_STATE_ENABLED : 0) |
			      (st[i].pulse_ns ? HRSERVO_STATE_ACTIVE : 0);
		st[i].target_ns = ch->target_ns;
		st[i].min_ns = ctrl->lim[c].min_ns;
		st[i].max_ns = ctrl->lim[c].max_ns;
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	if (!ret && copy_to_user(u64_to_user_ptr(req.states), st,
				 array_size(req.count, sizeof(*st))))
		ret = -EFAULT;
	kfree(st);
	return ret;
}

static long hrservo_ioc_release(struct hrservo_ctrl *ctrl, void __user *arg)
{
	struct hrservo_release req;
	u64 valid = GENMASK_ULL(ctrl->nchannels - 1, 0);

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.padding, 0, sizeof(req.padding)))
		return -EINVAL;
	if (req.mask & ~valid) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "release: mask 0x%llx beyond %u channels\n",
				    req.mask, ctrl->nchannels);
		return -EINVAL;
	}
	return hrservo_release_mask(ctrl, req.mask);
}

static long hrservo_ioc_limits(struct hrservo_ctrl *ctrl, void __user *arg,
			       bool set)
{
	struct hrservo_limits req;
	unsigned long flags;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.reserved, 0, sizeof(req.reserved)))
		return -EINVAL;
	if (req.channel >= ctrl->nchannels) {
		dev_dbg_ratelimited(&ctrl->dev, "limits: channel %u >= %u\n",
				    req.channel, ctrl->nchannels);
		return -EINVAL;
	}
	if (set) {
		struct hrservo_lim_req r = {
			.min_ns = req.min_ns,
			.max_ns = req.max_ns,
			.speed = req.max_speed_ns_per_s,
			.accel = req.max_accel_ns_per_s2,
		};

		return hrservo_set_limits(ctrl, req.channel, r,
					  HRSERVO_SET_MIN | HRSERVO_SET_MAX |
					  HRSERVO_SET_SPEED |
					  HRSERVO_SET_ACCEL);
	}

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	req.min_ns = ctrl->lim[req.channel].min_ns;
	req.max_ns = ctrl->lim[req.channel].max_ns;
	req.max_speed_ns_per_s = ctrl->ch[req.channel].max_speed;
	req.max_accel_ns_per_s2 = ctrl->ch[req.channel].max_accel;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}

/* Known ioctls, indexed by _IOC_NR. */
static const unsigned int hrservo_ioctls[] = {
	HRSERVO_IOC_GET_INFO,
	HRSERVO_IOC_SET_TARGETS,
	HRSERVO_IOC_GET_STATE,
	HRSERVO_IOC_RELEASE,
	HRSERVO_IOC_SET_LIMITS,
	HRSERVO_IOC_GET_LIMITS,
	HRSERVO_IOC_TRAJ_SUBMIT,
	HRSERVO_IOC_TRAJ_STATUS,
	HRSERVO_IOC_TRAJ_STOP,
	HRSERVO_IOC_WATCHDOG,
	HRSERVO_IOC_KEEPALIVE,
	HRSERVO_IOC_ESTOP,
	HRSERVO_IOC_GET_FRAMES,
};

/* Whether an ioctl changes something: it needs FMODE_WRITE, and pets. */
static bool hrservo_ioctl_writes(unsigned int cmd)
{
	switch (cmd) {
	case HRSERVO_IOC_SET_TARGETS:
	case HRSERVO_IOC_RELEASE:
	case HRSERVO_IOC_SET_LIMITS:
	case HRSERVO_IOC_TRAJ_SUBMIT:
	case HRSERVO_IOC_TRAJ_STOP:
	case HRSERVO_IOC_WATCHDOG:
	case HRSERVO_IOC_KEEPALIVE:
		return true;
	}
	return false;
}

static long hrservo_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct hrservo_file *f = file->private_data;
	struct hrservo_ctrl *ctrl = f->ctrl;
	void __user *uarg = (void __user *)arg;
	unsigned int nr = _IOC_NR(cmd);
	long ret;

	if (_IOC_TYPE(cmd) != HRSERVO_IOC_MAGIC ||
	    nr >= ARRAY_SIZE(hrservo_ioctls))
		return -ENOTTY;
	if (cmd != hrservo_ioctls[nr]) {
		dev_dbg_ratelimited(&ctrl->dev,
				    "ioctl %u: size %u or direction %u wrong, expected %u/%u\n",
				    nr, _IOC_SIZE(cmd), _IOC_DIR(cmd),
				    _IOC_SIZE(hrservo_ioctls[nr]),
				    _IOC_DIR(hrservo_ioctls[nr]));
		return -EINVAL;
	}
	if (hrservo_dead(ctrl))
		return -ENODEV;
	/* Changing anything needs a file opened for writing. */
	if (hrservo_ioctl_writes(cmd) && !(file->f_mode & FMODE_WRITE))
		return -EBADF;

	switch (cmd) {
	case HRSERVO_IOC_GET_INFO:
		return hrservo_ioc_get_info(ctrl, uarg);
	case HRSERVO_IOC_SET_TARGETS:
		ret = hrservo_ioc_set_targets(ctrl, uarg);
		break;
	case HRSERVO_IOC_GET_STATE:
		return hrservo_ioc_get_state(ctrl, uarg);
	case HRSERVO_IOC_RELEASE:
		ret = hrservo_ioc_release(ctrl, uarg);
		break;
	case HRSERVO_IOC_SET_LIMITS:
		ret = hrservo_ioc_limits(ctrl, uarg, true);
		break;
	case HRSERVO_IOC_GET_LIMITS:
		return hrservo_ioc_limits(ctrl, uarg, false);
	case HRSERVO_IOC_TRAJ_SUBMIT:
	case HRSERVO_IOC_TRAJ_STATUS:
	case HRSERVO_IOC_TRAJ_STOP:
		ret = hrservo_traj_ioctl(f, cmd, uarg);
		break;
	default:
		ret = hrservo_safety_ioctl(f, file, cmd, uarg);
		break;
	}
	/*
	 * A change through the file that succeeded is a sign of life; a
	 * client whose every request fails is not kept alive by them.
	 */
	if (!ret && hrservo_ioctl_writes(cmd))
		hrservo_wd_pet(f);
	return ret;
}

static const struct file_operations hrservo_fops = {
	.owner = THIS_MODULE,
	.open = hrservo_open,
	.release = hrservo_release,
	.read = hrservo_read,
	.poll = hrservo_poll,
	.unlocked_ioctl = hrservo_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* ---- sysfs: controller attributes ---- */

static ssize_t channels_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", to_ctrl(dev)->nchannels);
}
static DEVICE_ATTR_RO(channels);

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", to_ctrl(dev)->backend);
}
static DEVICE_ATTR_RO(backend);

static ssize_t frame_period_ns_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct hrservo_ctrl *ctrl = to_ctrl(dev);
	unsigned long flags;
	u32 period;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	period = ctrl->next_period_ns;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return sysfs_emit(buf, "%u\n", period);
}

static ssize_t frame_period_ns_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t len)
{
	u32 val;
	int ret;

	ret = kstrtou32(buf, 0, &val);
	if (ret)
		return ret;
	ret = hrservo_set_period(to_ctrl(dev), val);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(frame_period_ns);

/* Show a u64 counter of the controller, read under its lock. */
ssize_t hrservo_counter_show(struct hrservo_ctrl *ctrl, const u64 *v,
			     char *buf)
{
	unsigned long flags;
	u64 val;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	val = *v;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return sysfs_emit(buf, "%llu\n", val);
}

static ssize_t frame_count_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct hrservo_ctrl *ctrl = to_ctrl(dev);
	unsigned long flags;
	u64 val;

	/* The frames started: not one begun ahead. */
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	val = ctrl->frame_seq - READ_ONCE(ctrl->begun_ahead);
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return sysfs_emit(buf, "%llu\n", val);
}
static DEVICE_ATTR_RO(frame_count);

static ssize_t missed_frames_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return hrservo_counter_show(to_ctrl(dev), &to_ctrl(dev)->frames_missed,
				    buf);
}
static DEVICE_ATTR_RO(missed_frames);

static struct attribute *hrservo_ctrl_attrs[] = {
	&dev_attr_channels.attr,
	&dev_attr_backend.attr,
	&dev_attr_frame_period_ns.attr,
	&dev_attr_frame_count.attr,
	&dev_attr_missed_frames.attr,
	NULL
};

static const struct attribute_group hrservo_ctrl_group = {
	.attrs = hrservo_ctrl_attrs,
};

/* ---- sysfs: channelN/ attributes ---- */

enum hrservo_ch_attr_kind {
	HRSERVO_CH_TARGET,
	HRSERVO_CH_PULSE,
	HRSERVO_CH_MIN,
	HRSERVO_CH_MAX,
	HRSERVO_CH_ENABLE,
	HRSERVO_CH_SPEED,
	HRSERVO_CH_ACCEL,
	HRSERVO_CH_LABEL,
};

static const char * const hrservo_ch_attr_names[HRSERVO_CH_ATTRS] = {
	[HRSERVO_CH_TARGET] = "target_ns",
	[HRSERVO_CH_PULSE] = "pulse_ns",
	[HRSERVO_CH_MIN] = "min_ns",
	[HRSERVO_CH_MAX] = "max_ns",
	[HRSERVO_CH_ENABLE] = "enable",
	[HRSERVO_CH_SPEED] = "max_speed_ns_per_s",
	[HRSERVO_CH_ACCEL] = "max_accel_ns_per_s2",
	[HRSERVO_CH_LABEL] = "label",
};

static enum hrservo_ch_attr_kind hrservo_ch_kind(struct hrservo_ctrl *ctrl,
						 struct hrservo_ch_attr *a)
{
	return (a - ctrl->ch_attrs) % HRSERVO_CH_ATTRS;
}

static ssize_t hrservo_ch_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct hrservo_ch_attr *a = container_of(attr, struct hrservo_ch_attr,
						 attr);
	struct hrservo_ctrl *ctrl = to_ctrl(dev);
	struct hrservo_channel *ch = &ctrl->ch[a->ch];
	unsigned long flags;
	u32 v = 0;

	/* Constant after registration. */
	if (hrservo_ch_kind(ctrl, a) == HRSERVO_CH_LABEL)
		return sysfs_emit(buf, "%s\n",
				  ctrl->labels ? ctrl->labels[a->ch] : "");

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	switch (hrservo_ch_kind(ctrl, a)) {
	case HRSERVO_CH_TARGET:
		v = ch->target_ns;
		break;
	case HRSERVO_CH_PULSE:
		v = hrservo_pulse_locked(ctrl, a->ch,
					 READ_ONCE(ctrl->begun_ahead));
		break;
	case HRSERVO_CH_MIN:
		v = ctrl->lim[a->ch].min_ns;
		break;
	case HRSERVO_CH_MAX:
		v = ctrl->lim[a->ch].max_ns;
		break;
	case HRSERVO_CH_ENABLE:
		v = ch->enabled;
		break;
	case HRSERVO_CH_SPEED:
		v = ch->max_speed;
		break;
	case HRSERVO_CH_ACCEL:
		v = ch->max_accel;
		break;
	case HRSERVO_CH_LABEL:
		break;	/* answered above, without the lock */
	}
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t hrservo_ch_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t len)
{
	struct hrservo_ch_attr *a = container_of(attr, struct hrservo_ch_attr,
						 attr);
	struct hrservo_ctrl *ctrl = to_ctrl(dev);
	struct hrservo_target t = { .channel = a->ch };
	struct hrservo_lim_req r = { };
	u32 val;
	int ret;

	ret = kstrtou32(buf, 0, &val);
	if (ret)
		return ret;

	switch (hrservo_ch_kind(ctrl, a)) {
	case HRSERVO_CH_TARGET:
		t.pulse_ns = val;
		ret = hrservo_set_targets(ctrl, &t, 1);
		break;
	case HRSERVO_CH_MIN:
		r.min_ns = val;
		ret = hrservo_set_limits(ctrl, a->ch, r, HRSERVO_SET_MIN);
		break;
	case HRSERVO_CH_MAX:
		r.max_ns = val;
		ret = hrservo_set_limits(ctrl, a->ch, r, HRSERVO_SET_MAX);
		break;
	case HRSERVO_CH_SPEED:
		r.speed = val;
		ret = hrservo_set_limits(ctrl, a->ch, r, HRSERVO_SET_SPEED);
		break;
	case HRSERVO_CH_ACCEL:
		r.accel = val;
		ret = hrservo_set_limits(ctrl, a->ch, r, HRSERVO_SET_ACCEL);
		break;
	case HRSERVO_CH_ENABLE:
		if (val > 1)
			ret = -EINVAL;
		else if (val)
			ret = hrservo_enable_channel(ctrl, a->ch);
		else
			ret = hrservo_release_mask(ctrl, BIT_ULL(a->ch));
		break;
	default:
		ret = -EPERM;
	}
	return ret ? ret : len;
}

/*
 * Build ctrl->groups: the controller group, the safety group, then one
 * "channelN" group per channel. Whatever was allocated is freed by
 * hrservo_dev_release().
 */
static int hrservo_build_groups(struct hrservo_ctrl *ctrl)
{
	unsigned int n = ctrl->nchannels, c, k;

	ctrl->groups = kcalloc(n + 3, sizeof(*ctrl->groups), GFP_KERNEL);
	ctrl->ch_groups = kcalloc(n, sizeof(*ctrl->ch_groups), GFP_KERNEL);
	ctrl->ch_attr_ptrs = kcalloc(n * (HRSERVO_CH_ATTRS + 1),
				     sizeof(*ctrl->ch_attr_ptrs), GFP_KERNEL);
	ctrl->ch_attrs = kcalloc(n * HRSERVO_CH_ATTRS,
				 sizeof(*ctrl->ch_attrs), GFP_KERNEL);
	if (!ctrl->groups || !ctrl->ch_groups || !ctrl->ch_attr_ptrs ||
	    !ctrl->ch_attrs)
		return -ENOMEM;

	ctrl->groups[0] = &hrservo_ctrl_group;
	ctrl->groups[1] = &hrservo_safety_group;
	for (c = 0; c < n; c++) {
		struct attribute **ca =
			&ctrl->ch_attr_ptrs[c * (HRSERVO_CH_ATTRS + 1)];
		struct attribute_group *grp = &ctrl->ch_groups[c];

		grp->name = kasprintf(GFP_KERNEL, "channel%u", c);
		if (!grp->name)
			return -ENOMEM;
		for (k = 0; k < HRSERVO_CH_ATTRS; k++) {
			struct hrservo_ch_attr *a =
				&ctrl->ch_attrs[c * HRSERVO_CH_ATTRS + k];

			sysfs_attr_init(&a->attr.attr);
			a->ch = c;
			a->attr.attr.name = hrservo_ch_attr_names[k];
			a->attr.show = hrservo_ch_show;
			if (k == HRSERVO_CH_PULSE || k == HRSERVO_CH_LABEL) {
				a->attr.attr.mode = 0444;
			} else {
				a->attr.attr.mode = 0644;
				a->attr.store = hrservo_ch_store;
			}
			ca[k] = &a->attr.attr;
		}
		grp->attrs = ca;
		ctrl->groups[c + 2] = grp;
	}
	return 0;
}

/* ---- allocation and registration ---- */

static void hrservo_dev_release(struct device *dev)
{
	struct hrservo_ctrl *ctrl = to_ctrl(dev);

	unsigned int c;

	for (c = 0; ctrl->ch_groups && c < ctrl->nchannels; c++)
		kfree(ctrl->ch_groups[c].name);
	kfree(ctrl->ch_groups);
	kfree(ctrl->ch_attr_ptrs);
	kfree(ctrl->ch_attrs);
	kfree(ctrl->groups);
	kfree(ctrl->labels);
	hrservo_safety_free(ctrl);
	if (ctrl->id >= 0)
		ida_free(&hrservo_ida, ctrl->id);
	kfree(ctrl);
}

static void hrservo_put(void *data)
{
	put_device(data);
}

/**
 * devm_hrservo_alloc() - allocate a controller
 * @parent: the backend's device; the allocation is released with it
 * @nchannels: number of channels, 1..%HRSERVO_CHANNELS_MAX
 * @priv_size: bytes of backend private data, see hrservo_priv()
 *
 * The controller is refcounted: an open /dev/hrservoN keeps it allocated
 * after @parent is gone, and the core makes sure no backend code runs then.
 *
 * Return: the controller, or an ERR_PTR().
 */
struct hrservo_ctrl *devm_hrservo_alloc(struct device *parent,
					unsigned int nchannels,
					size_t priv_size)
{
	struct hrservo_ctrl *ctrl;
	size_t size;
	unsigned int c;
	int ret;

	if (nchannels == 0 || nchannels > HRSERVO_CHANNELS_MAX)
		return ERR_PTR(-EINVAL);

	size = ALIGN(sizeof(*ctrl), 8);
	size += ALIGN(nchannels * sizeof(*ctrl->ch), 8);
	size += ALIGN(nchannels * sizeof(*ctrl->lim), 8);
	size += priv_size;
	ctrl = kzalloc(size, GFP_KERNEL);
	if (!ctrl)
		return ERR_PTR(-ENOMEM);
	ctrl->ch = (void *)ctrl + ALIGN(sizeof(*ctrl), 8);
	ctrl->lim = (void *)ctrl->ch + ALIGN(nchannels * sizeof(*ctrl->ch), 8);
	ctrl->priv = (void *)ctrl->lim +
		     ALIGN(nchannels * sizeof(*ctrl->lim), 8);
	ctrl->nchannels = nchannels;
	spin_lock_init(&ctrl->ev_lock);
	INIT_LIST_HEAD(&ctrl->files);
	init_waitqueue_head(&ctrl->ev_wait);
	mutex_init(&ctrl->cfg_lock);
	raw_spin_lock_init(&ctrl->lock);
	hrservo_traj_init(ctrl);
	for (c = 0; c < nchannels; c++) {
		ctrl->lim[c].min_ns = HRSERVO_DEFAULT_MIN_NS;
		ctrl->lim[c].max_ns = HRSERVO_DEFAULT_MAX_NS;
	}

	device_initialize(&ctrl->dev);
	ctrl->dev.release = hrservo_dev_release;
	ctrl->dev.class = &hrservo_class;
	ctrl->dev.parent = parent;
	ctrl->id = ida_alloc_max(&hrservo_ida, HRSERVO_MINORS - 1, GFP_KERNEL);
	if (ctrl->id < 0) {
		ret = ctrl->id;
		put_device(&ctrl->dev);
		return ERR_PTR(ret);
	}
	ctrl->dev.devt = MKDEV(MAJOR(hrservo_devt), ctrl->id);
	ret = dev_set_name(&ctrl->dev, "hrservo%d", ctrl->id);
	if (!ret)
		ret = hrservo_safety_alloc(ctrl);
	if (ret) {
		put_device(&ctrl->dev);
		return ERR_PTR(ret);
	}
	ret = devm_add_action_or_reset(parent, hrservo_put, &ctrl->dev);
	if (ret)
		return ERR_PTR(ret);
	return ctrl;
}
EXPORT_SYMBOL_GPL(devm_hrservo_alloc);

/* Wait until the frame clock stops by itself, at most two frames. */
static void hrservo_wait_idle(struct hrservo_ctrl *ctrl)
{
	unsigned long flags;
	u64 timeout_us;
	bool running;
	int ret;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	timeout_us = 2 * max(ctrl->period_ns, ctrl->next_period_ns) /
		     NSEC_PER_USEC + 10000;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	/* Lockless poll of a flag that only the frame clock clears. */
	ret = read_poll_timeout(READ_ONCE, running, !running, 500, timeout_us,
				false, ctrl->running);
	if (ret)
		dev_warn(&ctrl->dev, "frame clock did not stop, stopping it now\n");
}

static void hrservo_unregister(void *data)
{
	struct hrservo_ctrl *ctrl = data;
	unsigned long flags;
	unsigned int c;

	cdev_device_del(&ctrl->cdev, &ctrl->dev);

	/*
	 * Release every channel and drop the trajectory in the section that
	 * marks the controller dead: no frame begun after it has a pulse, and
	 * the clock stops at the next boundary, after the pulses in progress
	 * ended at full width. Then stop the backend.
	 */
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ctrl->dead = true;
	hrservo_disable_locked(ctrl, ~0ULL);
	hrservo_traj_drop_locked(ctrl);
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	hrservo_safety_shutdown(ctrl);
	hrservo_wait_idle(ctrl);
	ctrl->ops->stop(ctrl);
	hrservo_traj_shutdown(ctrl);

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ctrl->running = false;
	/* Also a frame begun whose start the stopped clock never reached. */
	WRITE_ONCE(ctrl->begun_ahead, false);
	for (c = 0; c < ctrl->nchannels; c++)
		ctrl->ch[c].pulse_ns = 0;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);

	/* Readers get the queued events, this one last, then EOF. */
	hrservo_safety_flush(ctrl);
	hrservo_emit(ctrl, HRSERVO_EVENT_REMOVED, 0, 0);
	wake_up_poll(&ctrl->ev_wait, EPOLLHUP | EPOLLERR);
}

/* ---- the firmware's description: channel nodes ---- */

/* A channel node's optional u32 property; -EINVAL if it is not a u32. */
static int hrservo_fw_u32(struct device *dev, struct fwnode_handle *node,
			  const char *name, u32 *val, unsigned int bit,
			  unsigned int *which)
{
	int ret;

	if (!fwnode_property_present(node, name))
		return 0;
	ret = fwnode_property_read_u32(node, name, val);
	if (ret)
		return dev_err_probe(dev, -EINVAL, "%pfwP: %s is not a u32 (%d)\n",
				     node, name, ret);
	*which |= bit;
	return 0;
}

/* A channel node's label: printable, short enough. */
static int hrservo_fw_label(struct hrservo_ctrl *ctrl, struct device *dev,
			    struct fwnode_handle *node, unsigned int c)
{
	const char *label, *p;
	int ret;

	if (!fwnode_property_present(node, "label"))
		return 0;
	ret = fwnode_property_read_string(node, "label", &label);
	if (ret)
		return dev_err_probe(dev, -EINVAL,
				     "%pfwP: label is not a string (%d)\n",
				     node, ret);
	if (strlen(label) >= HRSERVO_LABEL_MAX)
		return dev_err_probe(dev, -EINVAL,
				     "%pfwP: label of %zu bytes, at most %u\n",
				     node, strlen(label), HRSERVO_LABEL_MAX - 1);
	for (p = label; *p; p++)
		if (!isprint(*p))
			return dev_err_probe(dev, -EINVAL,
					     "%pfwP: label has a control character at byte %td\n",
					     node, p - label);
	if (!ctrl->labels) {
		ctrl->labels = kcalloc(ctrl->nchannels, sizeof(*ctrl->labels),
				       GFP_KERNEL);
		if (!ctrl->labels)
			return -ENOMEM;
	}
	strscpy(ctrl->labels[c], label, sizeof(ctrl->labels[c]));
	return 0;
}

/*
 * Apply one channel node: its label and limits, and its initial pulse as
 * the channel's target, enabled but not started (see
 * devm_hrservo_register()). @seen: the channels already described.
 * Returns 1 if the channel got an initial pulse.
 */
static int hrservo_fw_channel(struct hrservo_ctrl *ctrl, struct device *dev,
			      struct fwnode_handle *node, u64 *seen)
{
	struct hrservo_lim_req r = { };
	unsigned int which = 0;
	u32 c, pulse = 0, period, max;
	unsigned long flags;
	int ret;

	ret = fwnode_property_read_u32(node, "reg", &c);
	if (ret)
		return dev_err_probe(dev, -EINVAL,
				     "%pfwP: no reg (the channel number) (%d)\n",
				     node, ret);
	if (c >= ctrl->nchannels)
		return dev_err_probe(dev, -EINVAL,
				     "%pfwP: reg %u, but the controller has channels 0..%u\n",
				     node, c, ctrl->nchannels - 1);
	if (*seen & BIT_ULL(c))
		return dev_err_probe(dev, -EINVAL,
				     "%pfwP: channel %u described twice\n",
				     node, c);
	*seen |= BIT_ULL(c);

	ret = hrservo_fw_label(ctrl, dev, node, c) ?:
	      hrservo_fw_u32(dev, node, "min-pulse-ns", &r.min_ns,
			     HRSERVO_SET_MIN, &which) ?:
	      hrservo_fw_u32(dev, node, "max-pulse-ns", &r.max_ns,
			     HRSERVO_SET_MAX, &which) ?:
	      hrservo_fw_u32(dev, node, "max-speed-ns-per-s", &r.speed,
			     HRSERVO_SET_SPEED, &which) ?:
	      hrservo_fw_u32(dev, node, "max-accel-ns-per-s2", &r.accel,
			     HRSERVO_SET_ACCEL, &which) ?:
	      hrservo_fw_u32(dev, node, "initial-pulse-ns", &pulse,
			     HRSERVO_FW_INITIAL, &which);
	if (ret)
		return ret;

	/* Nobody else sees the controller yet: these are its own values. */
	if (!(which & HRSERVO_SET_MIN))
		r.min_ns = ctrl->lim[c].min_ns;
	if (!(which & HRSERVO_SET_MAX))
		r.max_ns = ctrl->lim[c].max_ns;
	period = ctrl->next_period_ns;
	max = hrservo_pulse_max_for_period(period);
	if (hrservo_check_limits(r.min_ns, r.max_ns, period))
		return dev_err_probe(dev, -ERANGE,
				     "%pfwP: pulse limits %u..%u ns: need %u <= min-pulse-ns < max-pulse-ns <= %u (frame period %u ns)\n",
				     node, r.min_ns, r.max_ns,
				     HRSERVO_PULSE_MIN_NS, max, period);
	if ((which & HRSERVO_FW_INITIAL) &&
	    (pulse < r.min_ns || pulse > r.max_ns))
		return dev_err_probe(dev, -ERANGE,
				     "%pfwP: initial-pulse-ns %u outside the channel's limits %u..%u ns\n",
				     node, pulse, r.min_ns, r.max_ns);
	if (which & ~HRSERVO_FW_INITIAL) {
		ret = hrservo_set_limits(ctrl, c, r, which & ~HRSERVO_FW_INITIAL);
		if (ret)
			return dev_err_probe(dev, ret,
					     "%pfwP: cannot set the limits\n",
					     node);
	}
	if (!(which & HRSERVO_FW_INITIAL))
		return 0;
	raw_spin_lock_irqsave(&ctrl->lock, flags);
	ctrl->ch[c].target_ns = pulse;
	ctrl->ch[c].enabled = true;
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	return 1;
}

/*
 * Apply the channel nodes of the backend device's firmware node (device
 * tree, ACPI _DSD or software nodes alike): each child node named
 * "channel@N" (in device tree, each available one) describes the channel
 * its "reg" names. Called before the controller is visible. Returns the
 * number of initial pulses, or an errno.
 */
static int hrservo_fw_channels(struct hrservo_ctrl *ctrl, struct device *dev)
{
	struct fwnode_handle *node;
	int ret, ninit = 0;
	u64 seen = 0;

	/*
	 * Not fwnode_for_each_available_child_node(): ACPI data nodes, the
	 * channel nodes of a _DSD, are never "available". The name keeps out
	 * other children (ACPI devices below ours, present or not).
	 */
	device_for_each_child_node(dev, node) {
		if (strncmp(fwnode_get_name(node), "channel@", 8))
			continue;
		ret = hrservo_fw_channel(ctrl, dev, node, &seen);
		if (ret < 0) {
			fwnode_handle_put(node);
			return ret;
		}
		ninit += ret;
	}
	return ninit;
}

/*
 * Start the frame clock for the channels that the firmware gave an initial
 * pulse, once the controller is registered: they were enabled before any
 * user could see them. An e-stop already latched (its input active at
 * probe) keeps them off.
 */
static void hrservo_fw_start(struct hrservo_ctrl *ctrl, struct device *dev)
{
	unsigned long flags;
	u64 mask = 0;
	unsigned int c;
	bool latched;

	raw_spin_lock_irqsave(&ctrl->lock, flags);
	latched = ctrl->estop;
	for (c = 0; c < ctrl->nchannels; c++) {
		if (!ctrl->ch[c].enabled)
			continue;
		if (latched)
			hrservo_disable_locked(ctrl, BIT_ULL(c));
		else
			mask |= BIT_ULL(c);
	}
	if (!latched)
		hrservo_kick_locked(ctrl);
	raw_spin_unlock_irqrestore(&ctrl->lock, flags);
	if (latched)
		dev_warn(dev, "e-stop latched: the channels with an initial-pulse-ns stay off\n");
	else
		hrservo_emit(ctrl, HRSERVO_EVENT_STATE, mask, 0);
}

/**
 * devm_hrservo_register() - make a controller visible to users
 * @parent: the backend's device, as given to devm_hrservo_alloc()
 * @ctrl: the controller
 * @desc: backend name, operations and frame period range
 *
 * Applies the channel nodes of @parent's firmware node (device tree, ACPI
 * _DSD or software node): each child node named "channel@N" sets the
 * label, pulse, speed and acceleration limits of the channel its "reg"
 * names, and with "initial-pulse-ns" its first target, in place
 * before the controller is visible; such channels start pulsing once it is
 * registered, unless the e-stop is latched at probe (then they stay off,
 * with a warning). Every other channel starts off.
 * Creates /dev/hrservoN and its sysfs attributes. On @parent's removal every
 * channel is released, the frame in flight finishes, and the backend's
 * ->stop() is called; open files then get -ENODEV.
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
int devm_hrservo_register(struct device *parent, struct hrservo_ctrl *ctrl,
			  const struct hrservo_desc *desc)
{
	int ret, ninit;

	if (!desc->ops || !desc->ops->start || !desc->ops->stop ||
	    !desc->ops->quantize != !desc->ops->resolution ||
	    !desc->backend || desc->frame_period_min_ns < HRSERVO_PERIOD_MIN_NS ||
	    desc->frame_period_min_ns > desc->frame_period_max_ns ||
	    desc->frame_period_ns < desc->frame_period_min_ns ||
	    desc->frame_period_ns > desc->frame_period_max_ns)
		return -EINVAL;

	strscpy(ctrl->backend, desc->backend, sizeof(ctrl->backend));
	ctrl->ops = desc->ops;
	ctrl->period_min_ns = desc->frame_period_min_ns;
	ctrl->period_max_ns = desc->frame_period_max_ns;
	ctrl->resolution_ns = desc->resolution_ns ? desc->resolution_ns : 1;
	ctrl->begins_ahead = desc->begins_ahead;
	ctrl->period_ns = desc->frame_period_ns;
	ctrl->next_period_ns = desc->frame_period_ns;

	ret = hrservo_build_groups(ctrl);
	if (ret)
		return ret;
	ctrl->dev.groups = ctrl->groups;

	ninit = hrservo_fw_channels(ctrl, parent);
	if (ninit < 0)
		return ninit;

	cdev_init(&ctrl->cdev, &hrservo_fops);
	ctrl->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&ctrl->cdev, &ctrl->dev);
	if (ret)
		return ret;

	ret = devm_add_action_or_reset(parent, hrservo_unregister, ctrl);
	if (!ret && ninit)
		hrservo_fw_start(ctrl, parent);
	return ret;
}
EXPORT_SYMBOL_GPL(devm_hrservo_register);

static int __init hrservo_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&hrservo_devt, 0, HRSERVO_MINORS, "hrservo");
	if (ret)
		return ret;
	ret = class_register(&hrservo_class);
	if (ret)
		goto err_chrdev;
	return 0;

err_chrdev:
	unregister_chrdev_region(hrservo_devt, HRSERVO_MINORS);
	return ret;
}
module_init(hrservo_init);

static void __exit hrservo_exit(void)
{
	class_unregister(&hrservo_class);
	unregister_chrdev_region(hrservo_devt, HRSERVO_MINORS);
	ida_destroy(&hrservo_ida);
}
module_exit(hrservo_exit);

MODULE_DESCRIPTION("hrservo: servo controller core with hrtimer-timed frames");
MODULE_AUTHOR("The hrservo developers");
MODULE_LICENSE("GPL");
