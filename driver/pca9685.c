// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-pca9685: servo pulses from an NXP PCA9685 16-channel PWM chip on
 * I2C, as a backend of the hrservo core.
 *
 * The chip makes the pulses itself, from its own oscillator; the driver only
 * keeps its registers up to date. The core's frame clock is an hrtimer
 * (ABS_HARD, re-armed from the scheduled grid like hrservo-gpio's): at each
 * frame boundary it latches the frame's pulse widths with
 * hrservo_frame_begin() and hands them to a kthread_worker running at
 * SCHED_FIFO, because I2C transfers sleep. The worker writes only the
 * channels that changed, in as few SMBus I2C block writes as possible (see
 * pca9685_plan()). If the worker has not taken a frame when the next one
 * begins, the older frame is dropped and counted as missed: the chip always
 * gets the latest widths.
 *
 * A channel's ON and OFF registers always travel in one transfer, and the
 * chip (MODE2.OCH = 0) takes them at the transfer's STOP and applies them
 * at the end of the current PWM cycle, so no output ever makes a pulse of
 * mixed old and new values. A failed transfer is counted, reported to users
 * as an HRSERVO_EVENT_FAULT event naming the channels that did not get their
 * new values, and the channels are rewritten at the next frame (or, after
 * the last frame, by a retry one period later).
 *
 * Instantiation: "hrservo-pca9685 0x40" into an adapter's new_device, or
 * device tree (compatible "hrservo,pca9685"). Device properties:
 * frame-period-ns, clock-frequency (the internal oscillator's measured
 * frequency), clocks (an external clock on EXTCLK), oe-gpios (the chip's
 * output enable, to cut every output at once).
 */
#include <linux/clk.h>
#include <linux/delay.h>
#include <linux/gpio/consumer.h>
#include <linux/hrtimer.h>
#include <linux/i2c.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/property.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "hrservo-compat.h"
#include "hrservo-core.h"
#include "hrservo_trace.h"
#include "pca9685-plan.h"

#define DRV_NAME	"hrservo-pca9685"
/* Oscillator start-up time after SLEEP is cleared (datasheet: 500 us). */
#define PCA_OSC_SETTLE_US	500

/**
 * struct hrservo_pca - one PCA9685
 *
 * @client, @ctrl, @oe, @extclk, @worker and the work items are constant
 * after probe.
 *
 * @client: the I2C device
 * @ctrl: the core controller
 * @oe: the chip's OE line (logical 1 = outputs enabled), or NULL
 * @extclk: the chip runs from an external clock on EXTCLK
 * @timer: the frame clock
 * @worker: writes the frames, at SCHED_FIFO
 * @work: writes the latest frame
 * @retry: rewrites the latest frame after a failure when no frame follows
 * @lock: protects @next_ns, @next_period, @next_sched, @next_last,
 *	@pending, @bus_errors, @latency_ns and @osc_div; taken in hard interrupt
 *	context, also nested in the core's lock
 * @next_ns: pulse widths of the frame not yet written
 * @next_period: frame period of that frame
 * @next_sched: scheduled start of that frame
 * @next_last: that frame is the last one before the clock stops
 * @pending: a frame waits for the worker
 * @bus_errors: frames (and oscillator changes) whose transfers failed
 * @latency_ns: scheduled frame start to the end of its last write, for the
 *	last frame that wrote registers
 * @osc_div: the oscillator frequency (.d), prepared for division for the
 *	frame clock; the one copy of it, under @lock (see hrservo_pca_osc())
 * @bus_lock: serialises access to the chip and protects every field below
 * @stopped: the controller is going away; write no more frames
 * @prescale: PRE_SCALE on the chip, -1 if unknown
 * @period_ns: frame period of the last frame written
 * @cur_ns: pulse widths of the last frame taken from @next_ns
 * @cur_sched: its scheduled start
 * @cur_last: it was the last frame before the clock stopped
 * @have: LEDn registers on the chip, for the channels in @valid
 * @valid: channels whose @have is known to be on the chip
 * @oe_on: @oe is asserted
 */
struct hrservo_pca {
	struct i2c_client *client;
	struct hrservo_ctrl *ctrl;
	struct gpio_desc *oe;
	bool extclk;
	struct hrtimer timer;
	struct kthread_worker *worker;
	struct kthread_work work;
	struct kthread_delayed_work retry;

	raw_spinlock_t lock;
	u32 next_ns[PCA9685_CHANNELS];
	u32 next_period;
	ktime_t next_sched;
	bool next_last;
	bool pending;
	u64 bus_errors;
	u64 latency_ns;
	struct hrservo_div osc_div;

	struct mutex bus_lock;	/* protects the chip and the fields below */
	bool stopped;
	int prescale;
	u32 period_ns;
	u32 cur_ns[PCA9685_CHANNELS];
	ktime_t cur_sched;
	bool cur_last;
	struct pca9685_regs have[PCA9685_CHANNELS];
	u16 valid;
	bool oe_on;
};

/* The tick of every PRE_SCALE, prepared for division at module load. */
static struct hrservo_div hrservo_pca_ticks[PCA9685_PRESCALE_MAX + 1];

/* Set the oscillator frequency. Process context. */
static void hrservo_pca_set_osc(struct hrservo_pca *p, u32 hz)
{
	struct hrservo_div d;
	unsigned long flags;

	hrservo_div_init(&d, hz);
	raw_spin_lock_irqsave(&p->lock, flags);
	p->osc_div = d;
	raw_spin_unlock_irqrestore(&p->lock, flags);
}

/* The oscillator frequency. */
static u32 hrservo_pca_osc(struct hrservo_pca *p)
{
	unsigned long flags;
	u32 hz;

	raw_spin_lock_irqsave(&p->lock, flags);
	hz = (u32)p->osc_div.d;
	raw_spin_unlock_irqrestore(&p->lock, flags);
	return hz;
}

/* PRE_SCALE for @period_ns, clamped to the chip's range. */
static unsigned int hrservo_pca_prescale(u32 osc_hz, u32 period_ns)
{
	return clamp_t(int, pca9685_prescale(osc_hz, period_ns),
		       PCA9685_PRESCALE_MIN, PCA9685_PRESCALE_MAX);
}

static void hrservo_pca_oe(struct hrservo_pca *p, bool on)
{
	if (p->oe && p->oe_on != on) {
		gpiod_set_value_cansleep(p->oe, on);
		p->oe_on = on;
	}
}

static void hrservo_pca_count_error(struct hrservo_pca *p)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&p->lock, flags);
	p->bus_errors++;
	raw_spin_unlock_irqrestore(&p->lock, flags);
}

/*
 * Program PRE_SCALE with the datasheet's sequence: PRE_SCALE can only be
 * written while SLEEP is set; after SLEEP is cleared the oscillator needs
 * 500 us, then writing RESTART resumes the PWM channels with their
 * registers. Call with bus_lock held.
 */
static int hrservo_pca_set_prescale(struct hrservo_pca *p, unsigned int pre)
{
	struct i2c_client *c = p->client;
	int mode1, base, ret;

	p->prescale = -1;
	mode1 = i2c_smbus_read_byte_data(c, PCA9685_MODE1);
	if (mode1 < 0)
		return mode1;
	mode1 &= ~PCA9685_MODE1_RESTART;
	base = (mode1 & ~(PCA9685_MODE1_SLEEP | PCA9685_MODE1_ALLCALL)) |
	       PCA9685_MODE1_AI;
	ret = i2c_smbus_write_byte_data(c, PCA9685_MODE1,
					mode1 | PCA9685_MODE1_SLEEP);
	if (ret)
		return ret;
	if (p->extclk && !(mode1 & PCA9685_MODE1_EXTCLK)) {
		/* EXTCLK is set in a second write, with SLEEP still set. */
		base |= PCA9685_MODE1_EXTCLK;
		ret = i2c_smbus_write_byte_data(c, PCA9685_MODE1,
						base | PCA9685_MODE1_SLEEP);
		if (ret)
			return ret;
	}
	ret = i2c_smbus_write_byte_data(c, PCA9685_PRE_SCALE, pre);
	if (ret)
		return ret;
	ret = i2c_smbus_write_byte_data(c, PCA9685_MODE1, base);
	if (ret)
		return ret;
	usleep_range(PCA_OSC_SETTLE_US, 2 * PCA_OSC_SETTLE_US);
	ret = i2c_smbus_write_byte_data(c, PCA9685_MODE1,
					base | PCA9685_MODE1_RESTART);
	if (ret)
		return ret;
	p->prescale = pre;
	return 0;
}

/*
 * Bring the chip to the widths of the last frame taken (cur_ns). Call with
 * bus_lock held. Returns the channels that failed, with *err set.
 */
static u16 hrservo_pca_write(struct hrservo_pca *p, u32 *transfers,
			     u32 *bytes, u16 *written, int *err)
{
	struct pca9685_regs want[PCA9685_CHANNELS];
	struct pca9685_block blocks[PCA9685_BLOCKS_MAX];
	u8 buf[PCA9685_CHANNELS * 4];
	u32 osc = hrservo_pca_osc(p);
	unsigned int pre, n, nbytes, i;
	u16 failed = 0;
	int ret;

	*transfers = 0;
	*bytes = 0;
	*written = 0;
	*err = 0;
	pre = hrservo_pca_prescale(osc, p->period_ns);
	if (p->prescale != pre) {
		ret = hrservo_pca_set_prescale(p, pre);
		if (ret) {
			p->valid = 0;
			*err = ret;
			return GENMASK(PCA9685_CHANNELS - 1, 0);
		}
	}
	for (i = 0; i < PCA9685_CHANNELS; i++) {
		u32 counts = pca9685_counts_by(osc, &hrservo_pca_ticks[pre],
					       p->cur_ns[i]);

		pca9685_channel_regs(i, counts, &want[i]);
	}
	n = pca9685_plan(want, p->have, p->valid, blocks, buf, &nbytes);
	for (i = 0; i < n; i++) {
		const struct pca9685_block *b = &blocks[i];
		unsigned long m = b->mask;
		unsigned int ch;

		ret = i2c_smbus_write_i2c_block_data(p->client, b->reg, b->len,
						     buf + b->offset);
		(*transfers)++;
		/* On the wire: address byte, register byte, data. */
		*bytes += 2 + b->len;
		if (ret) {
			failed |= b->mask;
			p->valid &= ~b->mask;
			*err = ret;
			continue;
		}
		for_each_set_bit(ch, &m, PCA9685_CHANNELS)
			p->have[ch] = want[ch];
		p->valid |= b->mask;
		*written |= b->mask;
	}
	return failed;
}

/* Write the last frame taken; report failures. Call with bus_lock held. */
static void hrservo_pca_update(struct hrservo_pca *p)
{
	bool active = !!memchr_inv(p->cur_ns, 0, sizeof(p->cur_ns));
	u32 transfers, bytes;
	unsigned long flags;
	u16 failed, written;
	ktime_t done;
	int err;

	if (p->stopped)
		return;
	/* Releasing everything: cut the outputs first, the bus follows. */
	if (!active)
		hrservo_pca_oe(p, false);
	failed = hrservo_pca_write(p, &transfers, &bytes, &written, &err);
	if (!transfers && !err)
		return;		/* nothing changed: no bus update */
	done = ktime_get();
	raw_spin_lock_irqsave(&p->lock, flags);
	p->latency_ns = ktime_to_ns(ktime_sub(done, p->cur_sched));
	raw_spin_unlock_irqrestore(&p->lock, flags);
	trace_hrservo_bus_update(hrservo_id(p->ctrl), ktime_to_ns(p->cur_sched),
				 ktime_to_ns(done), written, transfers, bytes,
				 err);
	if (!failed) {
		if (active)
			hrservo_pca_oe(p, true);
		return;
	}
	hrservo_pca_count_error(p);
	dev_warn_ratelimited(&p->client->dev,
			     "channels 0x%04x not updated: %d; retrying\n",
			     failed, err);
	hrservo_report_fault(p->ctrl, failed, err);
	if (p->cur_last)
		kthread_mod_delayed_work(p->worker, &p->retry,
					 nsecs_to_jiffies(p->period_ns) + 1);
}

static void hrservo_pca_work(struct kthread_work *work)
{
	struct hrservo_pca *p = container_of(work, struct hrservo_pca, work);
	bool pending;

	mutex_lock(&p->bus_lock);
	raw_spin_lock_irq(&p->lock);
	pending = p->pending;
	if (pending) {
		memcpy(p->cur_ns, p->next_ns, sizeof(p->cur_ns));
		p->period_ns = p->next_period;
		p->cur_sched = p->next_sched;
		p->cur_last = p->next_last;
		p->pending = false;
	}
	raw_spin_unlock_irq(&p->lock);
	if (pending)
		hrservo_pca_update(p);
	mutex_unlock(&p->bus_lock);
}

static void hrservo_pca_retry(struct kthread_work *work)
{
	struct hrservo_pca *p = container_of(work, struct hrservo_pca,
					     retry.work);

	mutex_lock(&p->bus_lock);
	if (p->cur_last)
		hrservo_pca_update(p);
	mutex_unlock(&p->bus_lock);
}

static enum hrtimer_restart hrservo_pca_timer(struct hrtimer *t)
{
	struct hrservo_pca *p = container_of(t, struct hrservo_pca, timer);
	ktime_t sched = hrtimer_get_expires(t);
	u32 pulse_ns[PCA9685_CHANNELS];
	u64 active;
	u32 period;
	bool keep, dropped;
	u64 late;

	keep = hrservo_frame_begin(p->ctrl, sched, pulse_ns, &period, &active);

	raw_spin_lock(&p->lock);
	dropped = p->pending;
	memcpy(p->next_ns, pulse_ns, sizeof(p->next_ns));
	p->next_period = period;
	p->next_sched = sched;
	p->next_last = !keep;
	p->pending = true;
	raw_spin_unlock(&p->lock);
	if (dropped)
		hrservo_frames_missed(p->ctrl, 1);
	kthread_queue_work(p->worker, &p->work);

	if (!keep)
		return HRTIMER_NORESTART;	/* stopped: touch the timer no more */
	/*
	 * The next frame, or the latest one the clock can still start if it
	 * is a whole frame late: the hrtimer API counts the frames skipped.
	 */
	hrtimer_set_expires(t, ktime_add_ns(sched, period));
	late = hrtimer_forward(t, ktime_sub_ns(ktime_get(), period),
			       ns_to_ktime(period));
	if (late)
		hrservo_frames_missed(p->ctrl, late);
	return HRTIMER_RESTART;
}

static void hrservo_pca_start(struct hrservo_ctrl *ctrl, ktime_t first)
{
	struct hrservo_pca *p = hrservo_priv(ctrl);

	hrtimer_start(&p->timer, first, HRTIMER_MODE_ABS_HARD);
}

/* Every channel full off, in one go; the chip's state is then known. */
static int hrservo_pca_all_off(struct hrservo_pca *p)
{
	u32 transfers, bytes;
	u16 written;
	int err;

	memset(p->cur_ns, 0, sizeof(p->cur_ns));
	p->valid = 0;
	hrservo_pca_write(p, &transfers, &bytes, &written, &err);
	return err;
}

static void hrservo_pca_stop(struct hrservo_ctrl *ctrl)
{
	struct hrservo_pca *p = hrservo_priv(ctrl);
	int ret;

	hrtimer_cancel(&p->timer);
	kthread_flush_worker(p->worker);
	mutex_lock(&p->bus_lock);
	p->stopped = true;
	mutex_unlock(&p->bus_lock);
	kthread_cancel_delayed_work_sync(&p->retry);

	mutex_lock(&p->bus_lock);
	hrservo_pca_oe(p, false);
	ret = hrservo_pca_all_off(p);
	if (!ret)
		ret = i2c_smbus_write_byte_data(p->client, PCA9685_MODE1,
						PCA9685_MODE1_AI |
						PCA9685_MODE1_SLEEP |
						(p->extclk ?
						 PCA9685_MODE1_EXTCLK : 0));
	mutex_unlock(&p->bus_lock);
	if (ret)
		dev_warn(&p->client->dev,
			 "cannot turn the outputs off on removal: %d\n", ret);
}

/* Hard interrupt context, under the core's lock: no division. */
static void hrservo_pca_quantize(struct hrservo_ctrl *ctrl, u32 *pulse_ns,
				 unsigned int n, u32 period_ns)
{
	struct hrservo_pca *p = hrservo_priv(ctrl);
	const struct hrservo_div *tick;
	struct hrservo_div osc;
	unsigned int pre, i;
	u32 counts;

	raw_spin_lock(&p->lock);
	osc = p->osc_div;
	raw_spin_unlock(&p->lock);
	pre = hrservo_pca_prescale(osc.d, period_ns);
	tick = &hrservo_pca_ticks[pre];
	for (i = 0; i < n; i++) {
		if (!pulse_ns[i])
			continue;
		counts = pca9685_counts_by(osc.d, tick, pulse_ns[i]);
		pulse_ns[i] = pca9685_width_by(&osc, pre, counts);
	}
}

/* Under the core's lock, interrupts off: no division. */
static u32 hrservo_pca_resolution(struct hrservo_ctrl *ctrl, u32 period_ns)
{
	struct hrservo_pca *p = hrservo_priv(ctrl);
	struct hrservo_div osc;

	raw_spin_lock(&p->lock);
	osc = p->osc_div;
	raw_spin_unlock(&p->lock);
	return pca9685_step_by(&osc, hrservo_pca_prescale(osc.d, period_ns));
}

static const struct hrservo_ops hrservo_pca_ops = {
	.start = hrservo_pca_start,
	.stop = hrservo_pca_stop,
	.quantize = hrservo_pca_quantize,
	.resolution = hrservo_pca_resolution,
};

/* Frame periods the core may use at @osc_hz: PRE_SCALE 3..255. */
static void hrservo_pca_range(u32 osc_hz, u32 *min_ns, u32 *max_ns)
{
	pca9685_period_range(osc_hz, min_ns, max_ns);
	*min_ns = max(*min_ns, HRSERVO_PERIOD_MIN_NS);
	*max_ns = min(*max_ns, HRSERVO_PERIOD_MAX_NS);
}

static int hrservo_pca_check_osc(struct hrservo_pca *p, u32 hz)
{
	u32 lo = p->extclk ? PCA9685_EXTCLK_MIN_HZ : PCA9685_OSC_INT_MIN_HZ;
	u32 hi = p->extclk ? PCA9685_EXTCLK_MAX_HZ : PCA9685_OSC_INT_MAX_HZ;

	if (hz >= lo && hz <= hi)
		return 0;
	dev_err(&p->client->dev, "%s frequency %u Hz outside %u..%u Hz\n",
		p->extclk ? "external clock" : "oscillator", hz, lo, hi);
	return -ERANGE;
}

static ssize_t oscillator_hz_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct hrservo_pca *p = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", hrservo_pca_osc(p));
}

static ssize_t oscillator_hz_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t len)
{
	struct hrservo_pca *p = dev_get_drvdata(dev);
	unsigned int pre;
	u32 hz, lo, hi;
	int ret;

	ret = kstrtou32(buf, 0, &hz);
	if (ret)
		return ret;
	ret = hrservo_pca_check_osc(p, hz);
	if (ret)
		return ret;
	mutex_lock(&p->bus_lock);
	hrservo_pca_range(hz, &lo, &hi);
	ret = hrservo_set_period_range(p->ctrl, lo, hi);
	if (ret) {
		dev_err(dev,
			"frame period %u ns needs PRE_SCALE %d at %u Hz, outside %u..%u\n",
			p->period_ns, pca9685_prescale(hz, p->period_ns), hz,
			PCA9685_PRESCALE_MIN, PCA9685_PRESCALE_MAX);
		goto out;
	}
	hrservo_pca_set_osc(p, hz);
	pre = hrservo_pca_prescale(hz, p->period_ns);
	if (p->prescale != pre) {
		/* Counts follow at the next frame; the prescale goes now. */
		ret = hrservo_pca_set_prescale(p, pre);
		if (ret)
			hrservo_pca_count_error(p);
	}
out:
	mutex_unlock(&p->bus_lock);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(oscillator_hz);

static ssize_t prescale_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct hrservo_pca *p = dev_get_drvdata(dev);
	int pre;

	mutex_lock(&p->bus_lock);
	pre = p->prescale;
	mutex_unlock(&p->bus_lock);
	return sysfs_emit(buf, "%d\n", pre);
}
static DEVICE_ATTR_RO(prescale);

static ssize_t pwm_period_ns_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct hrservo_pca *p = dev_get_drvdata(dev);
	int pre;

	mutex_lock(&p->bus_lock);
	pre = p->prescale;
	mutex_unlock(&p->bus_lock);
	if (pre < 0)
		return -EIO;
	return sysfs_emit(buf, "%u\n",
			  pca9685_pwm_period_ns(hrservo_pca_osc(p), pre));
}
static DEVICE_ATTR_RO(pwm_period_ns);

/* Show a u64 counter of @p, read under p->lock. */
static ssize_t hrservo_pca_counter(struct hrservo_pca *p, const u64 *v,
				   char *buf)
{
	unsigned long flags;
	u64 val;

	raw_spin_lock_irqsave(&p->lock, flags);
	val = *v;
	raw_spin_unlock_irqrestore(&p->lock, flags);
	return sysfs_emit(buf, "%llu\n", val);
}

static ssize_t bus_errors_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct hrservo_pca *p = dev_get_drvdata(dev);

	return hrservo_pca_counter(p, &p->bus_errors, buf);
}
static DEVICE_ATTR_RO(bus_errors);

static ssize_t update_latency_ns_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct hrservo_pca *p = dev_get_drvdata(dev);

	return hrservo_pca_counter(p, &p->latency_ns, buf);
}
static DEVICE_ATTR_RO(update_latency_ns);

static struct attribute *hrservo_pca_attrs[] = {
	&dev_attr_oscillator_hz.attr,
	&dev_attr_prescale.attr,
	&dev_attr_pwm_period_ns.attr,
	&dev_attr_bus_errors.attr,
	&dev_attr_update_latency_ns.attr,
	NULL
};
ATTRIBUTE_GROUPS(hrservo_pca);

static void hrservo_pca_destroy_worker(void *data)
{
	kthread_destroy_worker(data);
}

static void hrservo_pca_clk_off(void *data)
{
	clk_disable_unprepare(data);
}

/* Find the clock: an external one, or the internal oscillator. */
static int hrservo_pca_clock(struct hrservo_pca *p)
{
	struct device *dev = &p->client->dev;
	u32 hz = PCA9685_OSC_DEFAULT_HZ;
	struct clk *clk;
	int ret;

	clk = devm_clk_get_optional(dev, NULL);
	if (IS_ERR(clk))
		return dev_err_probe(dev, PTR_ERR(clk), "cannot get the clock\n");
	if (clk) {
		ret = clk_prepare_enable(clk);
		if (ret)
			return dev_err_probe(dev, ret, "cannot enable the clock\n");
		ret = devm_add_action_or_reset(dev, hrservo_pca_clk_off, clk);
		if (ret)
			return ret;
		p->extclk = true;
		hz = clk_get_rate(clk);
	} else {
		device_property_read_u32(dev, "clock-frequency", &hz);
	}
	ret = hrservo_pca_check_osc(p, hz);
	if (!ret)
		hrservo_pca_set_osc(p, hz);
	return ret;
}

/* Chip set-up: every output off, totem pole, auto-increment, PRE_SCALE. */
static int hrservo_pca_init_chip(struct hrservo_pca *p)
{
	struct i2c_client *c = p->client;
	int ret;

	ret = i2c_smbus_read_byte_data(c, PCA9685_MODE1);
	if (ret < 0)
		return ret;
	ret = hrservo_pca_all_off(p);
	if (ret)
		return ret;
	ret = i2c_smbus_write_byte_data(c, PCA9685_MODE2, PCA9685_MODE2_SERVO);
	if (ret)
		return ret;
	return hrservo_pca_set_prescale(p,
					hrservo_pca_prescale(hrservo_pca_osc(p),
							     p->period_ns));
}

static int hrservo_pca_probe(struct i2c_client *client)
{
	struct device *dev = &client->dev;
	struct hrservo_desc desc = {
		.backend = DRV_NAME,
		.ops = &hrservo_pca_ops,
		.frame_period_ns = HRSERVO_PERIOD_DEFAULT_NS,
	};
	struct hrservo_ctrl *ctrl;
	struct gpio_desc *estop;
	struct hrservo_pca *p;
	int ret;

	if (!i2c_check_functionality(client->adapter,
				     I2C_FUNC_SMBUS_BYTE_DATA |
				     I2C_FUNC_SMBUS_WRITE_I2C_BLOCK))
		return dev_err_probe(dev, -EOPNOTSUPP,
				     "adapter %s cannot do SMBus byte and I2C block writes\n",
				     client->adapter->name);

	ctrl = devm_hrservo_alloc(dev, PCA9685_CHANNELS, sizeof(*p));
	if (IS_ERR(ctrl))
		return PTR_ERR(ctrl);
	p = hrservo_priv(ctrl);
	p->client = client;
	p->ctrl = ctrl;
	p->prescale = -1;
	raw_spin_lock_init(&p->lock);
	mutex_init(&p->bus_lock);

	ret = hrservo_pca_clock(p);
	if (ret)
		return ret;
	device_property_read_u32(dev, "frame-period-ns", &desc.frame_period_ns);
	hrservo_pca_range(hrservo_pca_osc(p), &desc.frame_period_min_ns,
			  &desc.frame_period_max_ns);
	if (desc.frame_period_ns < desc.frame_period_min_ns ||
	    desc.frame_period_ns > desc.frame_period_max_ns)
		return dev_err_probe(dev, -ERANGE,
				     "frame-period-ns %u outside %u..%u (PRE_SCALE %u..%u at %u Hz)\n",
				     desc.frame_period_ns,
				     desc.frame_period_min_ns,
				     desc.frame_period_max_ns,
				     PCA9685_PRESCALE_MIN, PCA9685_PRESCALE_MAX,
				     hrservo_pca_osc(p));
	p->period_ns = desc.frame_period_ns;

	p->oe = devm_gpiod_get_optional(dev, "oe", GPIOD_OUT_LOW);
	if (IS_ERR(p->oe))
		return dev_err_probe(dev, PTR_ERR(p->oe),
				     "cannot get the OE line\n");

	p->worker = kthread_create_worker(0, "%s/%s", DRV_NAME, dev_name(dev));
	if (IS_ERR(p->worker))
		return dev_err_probe(dev, PTR_ERR(p->worker),
				     "cannot start the worker\n");
	ret = devm_add_action_or_reset(dev, hrservo_pca_destroy_worker,
				       p->worker);
	if (ret)
		return ret;
	sched_set_fifo(p->worker->task);
	kthread_init_work(&p->work, hrservo_pca_work);
	kthread_init_delayed_work(&p->retry, hrservo_pca_retry);
	hrtimer_init(&p->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	p->timer.function = hrservo_pca_timer;

	mutex_lock(&p->bus_lock);
	ret = hrservo_pca_init_chip(p);
	mutex_unlock(&p->bus_lock);
	if (ret)
		return dev_err_probe(dev, ret,
				     "no PCA9685 answers at 0x%02x on %s\n",
				     client->addr, client->adapter->name);
	i2c_set_clientdata(client, p);

	/* Watched before any user can move a servo. */
	estop = devm_gpiod_get_optional(dev, "estop", GPIOD_IN);
	if (IS_ERR(estop))
		return dev_err_probe(dev, PTR_ERR(estop),
				     "cannot get the e-stop GPIO line\n");
	if (estop) {
		ret = devm_hrservo_estop_input(dev, ctrl, estop);
		if (ret)
			return ret;
	}

	ret = devm_hrservo_register(dev, ctrl, &desc);
	if (ret)
		return dev_err_probe(dev, ret, "cannot register the controller\n");
	dev_info(dev, "hrservo%d: 16 channels, PRE_SCALE %d, %u Hz %s\n",
		 hrservo_id(ctrl), p->prescale, hrservo_pca_osc(p),
		 p->extclk ? "external clock" : "oscillator");
	return 0;
}

static const struct i2c_device_id hrservo_pca_id[] = {
	{ DRV_NAME, 0 },
	{ }
};
MODULE_DEVICE_TABLE(i2c, hrservo_pca_id);

static const struct of_device_id hrservo_pca_of_match[] = {
	{ .compatible = "hrservo,pca9685" },
	{ }
};
MODULE_DEVICE_TABLE(of, hrservo_pca_of_match);

static struct i2c_driver hrservo_pca_driver = {
	.driver = {
		.name = DRV_NAME,
		.of_match_table = hrservo_pca_of_match,
		.dev_groups = hrservo_pca_groups,
	},
	.HRSERVO_I2C_PROBE = hrservo_pca_probe,
	.id_table = hrservo_pca_id,
};

static int __init hrservo_pca_init(void)
{
	unsigned int pre;

	for (pre = PCA9685_PRESCALE_MIN; pre <= PCA9685_PRESCALE_MAX; pre++)
		pca9685_tick_init(&hrservo_pca_ticks[pre], pre);
	return i2c_add_driver(&hrservo_pca_driver);
}
module_init(hrservo_pca_init);

static void __exit hrservo_pca_exit(void)
{
	i2c_del_driver(&hrservo_pca_driver);
}
module_exit(hrservo_pca_exit);

MODULE_DESCRIPTION("hrservo backend for the NXP PCA9685 I2C PWM controller");
MODULE_LICENSE("GPL");
