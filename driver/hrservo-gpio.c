// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-gpio: servo pulses on GPIO lines, timed by one hrtimer.
 *
 * Edge engine: one hrtimer walks through each frame.
 * A lead (lead_ns, 500 us by default) before the frame starts, one expiry
 * does the frame's work: hrservo_frame_begin() latches what users changed,
 * moves trajectories and ramps, and plans the falling edges. At the frame
 * start every active line rises in one gpiod_set_array_value() call, and
 * that expiry does nothing else (hrservo_frame_rise() only checks, without
 * a lock, that no channel was released meanwhile). Then the lines fall in
 * order of pulse width, and falling edges whose end times lie within the
 * coalescing window share one expiry and one array call. Expiries per frame
 * are thus at most (distinct end times + 2), or + 1 with lead_ns 0 (or a
 * work expiry late for the start), where one expiry does both. A change
 * made within the lead of a frame start takes effect in the frame after,
 * but for a release, which still wins in that frame.
 * Falling edges are timed from the time read just before the rising edges
 * are written, so a late frame start delays pulses but does not shorten
 * them, and the rising and falling writes (the same array call) have the
 * same delay to the pins. Frame starts are always re-armed from the
 * scheduled grid, never from "now", so the frame clock never drifts.
 *
 * Timer context: HRTIMER_MODE_ABS, neither _HARD nor _SOFT. Without
 * PREEMPT_RT the timer expires in hard interrupt context, so the edges are
 * as close to their time as the machine allows; with PREEMPT_RT the hrtimer
 * core itself makes such a timer expire in the softirq thread, as mainline
 * pwm-gpio's timer does. That matters because a GPIO chip's ->set() may
 * take a spinlock_t (regmap-mmio without raw locks, the Raspberry Pi 5's
 * RP1), which sleeps on PREEMPT_RT and must not be taken in hard interrupt
 * context; lockdep models this mode correctly on both. The core's lock is a
 * raw spinlock, so frames may begin in either context.
 *
 * Without high-resolution timers the edges would land on scheduler ticks,
 * making milliseconds-long pulses that drive servos into their end stops:
 * probing then fails.
 *
 * Instantiation: from device tree or ACPI ("servo-gpios"), or at run time by
 * writing "CHIP-LABEL OFFSET..." to
 * /sys/bus/platform/drivers/hrservo-gpio/new_device (and "hrservo-gpio.N"
 * to delete_device), as gpio-aggregator does. An e-stop input line
 * ("estop-gpios", or "estop=CHIP-LABEL:OFFSET[:low]" in the new_device line)
 * trips the controller's e-stop latch from its interrupt.
 *
 * Every property is read through the device property API, so one probe
 * serves every firmware: a new_device line's "PROPERTY=VALUE" and
 * "channel@N/PROPERTY=VALUE" words become a software node, with a child
 * node per channel, holding the same properties as a device-tree node (the
 * lines themselves go through a GPIO lookup table: 6.1's gpiolib cannot
 * resolve GPIO references of software nodes).
 */
#include <linux/bitmap.h>
#include <linux/gpio/consumer.h>
#include <linux/gpio/driver.h>
#include <linux/gpio/machine.h>
#include <linux/hrtimer.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "hrservo-compat.h"
#include "hrservo-core.h"
#include "hrservo_trace.h"

#define DRV_NAME	"hrservo-gpio"

/**
 * struct hrservo_gpio_inst - a controller created through new_device
 * @id: platform device id, N in hrservo-gpio.N
 * @pdev: the platform device
 * @lookup: GPIO lookup table that maps the device's "servo" GPIOs, and its
 *	"estop" GPIO if it has one
 * @estop_key: chip label of the "estop" entry of @lookup, or NULL
 * @probe_err: result of the last probe of @pdev
 * @props: the properties of the new_device line; the property entries'
 *	names and string values point into it
 * @nodes: the software nodes: the controller's, then one per channel with
 *	properties; their names are allocated
 * @group: @nodes, NULL-terminated, as registered
 * @entries: every node's property entries, each node's list ending in an
 *	empty entry
 * @nnodes: number of @nodes
 * @registered: @group is registered
 *
 * Instances are created and destroyed under hrservo_gpio_lock.
 */
struct hrservo_gpio_inst {
	int id;
	struct platform_device *pdev;
	struct gpiod_lookup_table *lookup;
	char *estop_key;
	int probe_err;
	struct hrservo_prop *props;
	struct software_node *nodes;
	const struct software_node **group;
	struct property_entry *entries;
	unsigned int nnodes;
	bool registered;
};

/* Most PROPERTY=VALUE words in one new_device line (of one page at most). */
#define HRSERVO_GPIO_PROPS_MAX	256U

/**
 * struct hrservo_gpio_estop - the e-stop line of a new_device line
 * @label: its chip's label; empty for none
 * @offset: its offset
 * @active_low: the button pulls it low
 */
struct hrservo_gpio_estop {
	char label[HRSERVO_LABEL_MAX];
	u32 offset;
	bool active_low;
};

/**
 * struct hrservo_gpio - one GPIO servo controller
 * @ctrl: the core controller
 * @dev: the platform device's device
 * @descs: the servo lines, in channel order
 * @timer: the edge engine
 * @coalesce_ns: coalescing window; written by sysfs, read by the frame's
 *	work
 * @lead_ns: how long before a frame's start its work is done; written by
 *	sysfs, read when the next frame is armed
 * @lines: the servo lines, for the "lines" attribute: per channel in turn,
 *	"CHIP-LABEL OFFSET", one a line; written at probe, read-only after
 * @frame_start: scheduled start of the current frame
 * @next_start: scheduled start of the next frame
 * @prepared: the next frame is begun (hrservo_frame_begin()); its lines
 *	rise at @next_start
 * @prep_mask: the channels that pulse in the next frame, when @prepared
 * @rise: measured time of the current frame's rising edge
 * @period_ns: period of the current frame, or of the next once its work
 *	is done (@prepared, or a frame without pulses)
 * @ngroups: falling-edge groups of the current frame
 * @planned: groups planned by hrservo_gpio_quantize() for the frame that
 *	begins
 * @next_group: next group to fall; == @ngroups at a frame boundary
 * @seq: frame number, for trace events
 * @high: lines driven high now
 * @pulse_ns: pulse widths of the current frame
 * @groups: falling-edge groups of the current frame
 * @values: scratch bitmap for gpiod_set_array_value()
 * @set_errors: failed writes of the lines; read locklessly by sysfs and
 *	@err_work (an unsigned long, so that a 32-bit reader cannot see it
 *	torn)
 * @err_mask: lines of the last failed write, for @err_work
 * @err: errno of the last failed write, for @err_work
 * @err_work: logs failed writes and reports them to users as
 *	%HRSERVO_EVENT_FAULT, in process context; cancelled by ->stop()
 *
 * The fields from @frame_start on belong to the timer callback. ->start()
 * writes them only while the frame clock is stopped, ->stop() only after
 * cancelling the timer.
 */
struct hrservo_gpio {
	struct hrservo_ctrl *ctrl;
	struct device *dev;
	struct gpio_descs *descs;
	struct hrtimer timer;
	u32 coalesce_ns;
	u32 lead_ns;
	char *lines;

	ktime_t frame_start;
	ktime_t next_start;
	bool prepared;
	u64 prep_mask;
	ktime_t rise;
	u32 period_ns;
	unsigned int ngroups;
	unsigned int planned;
	unsigned int next_group;
	u64 seq;
	u64 high;
	u32 pulse_ns[HRSERVO_CHANNELS_MAX];
	struct hrservo_edge_group groups[HRSERVO_CHANNELS_MAX];
	DECLARE_BITMAP(values, HRSERVO_CHANNELS_MAX);
	unsigned long set_errors;
	u64 err_mask;
	int err;
	struct work_struct err_work;
};

/*
 * The frame's work is done this long before its start by default: more
 * than it takes (bench/cost-figures counts about 17500 instructions of its
 * pure logic for 32 channels) plus the timer's latency on a loaded board,
 * and small against a change's time to take effect (a frame). At most
 * 5 ms, and half the period: a frame's work always comes after the
 * previous frame's last fall (right after it, when that fall is later) and
 * after the previous frame's start.
 */
#define HRSERVO_GPIO_LEAD_NS		500000U
#define HRSERVO_GPIO_LEAD_MAX_NS	5000000U

/* Hard interrupt context, except on PREEMPT_RT: see the top of the file. */
#define HRSERVO_GPIO_TIMER_MODE	HRTIMER_MODE_ABS

/* Serialises new_device, delete_device and module exit; protects the idr. */
static DEFINE_MUTEX(hrservo_gpio_lock);
static DEFINE_IDR(hrservo_gpio_idr);

/* Drive the lines in @mask to @level, leave the others as they are. */
static void hrservo_gpio_drive(struct hrservo_gpio *g, u64 mask, int level)
{
	unsigned int n = g->descs->ndescs;
	int ret;

	if (level)
		g->high |= mask;
	else
		g->high &= ~mask;
	bitmap_from_arr64(g->values, &g->high, n);
	ret = gpiod_set_array_value(n, g->descs->desc, g->descs->info,
				    g->values);
	if (unlikely(ret)) {
		/* No printing from the timer: the work item does it. */
		WRITE_ONCE(g->err_mask, mask);
		WRITE_ONCE(g->err, ret);
		WRITE_ONCE(g->set_errors, g->set_errors + 1);
		schedule_work(&g->err_work);
	}
}

static void hrservo_gpio_err_work(struct work_struct *work)
{
	struct hrservo_gpio *g = container_of(work, struct hrservo_gpio,
					      err_work);
	u64 mask = READ_ONCE(g->err_mask);
	int err = READ_ONCE(g->err);

	dev_err_ratelimited(g->dev, "cannot drive lines 0x%llx: %d (%lu failed writes)\n",
			    mask, err, READ_ONCE(g->set_errors));
	hrservo_report_fault(g->ctrl, mask, err);
}

/*
 * Arm the timer for the work of the frame that starts at @next, lead_ns
 * before it, or, if the clock is a whole frame or more late for it, of the
 * latest frame start it can still make, counting the frames skipped (the
 * hrtimer API's overrun count): a late frame clock never replays missed
 * frames back to back. A frame less than a period late starts late: its
 * pulses are delayed, not shortened.
 */
static void hrservo_gpio_next_frame(struct hrservo_gpio *g, struct hrtimer *t,
				    ktime_t next)
{
	u64 late;

	hrtimer_set_expires(t, next);
	late = hrtimer_forward(t, ktime_sub_ns(ktime_get(), g->period_ns),
			       ns_to_ktime(g->period_ns));
	if (late)
		hrservo_frames_missed(g->ctrl, late);
	g->next_start = hrtimer_get_expires(t);
	g->prepared = false;
	g->ngroups = 0;
	g->next_group = 0;
	/* Never before the frame before it starts: at most half a period. */
	hrtimer_set_expires(t, ktime_sub_ns(g->next_start,
					    min(READ_ONCE(g->lead_ns),
						g->period_ns / 2)));
}

/* The frame's start: the lines rise, and nothing else is done. */
static enum hrtimer_restart hrservo_gpio_rise(struct hrservo_gpio *g,
					      struct hrtimer *t)
{
	ktime_t sched = g->next_start;
	u64 mask;

	g->prepared = false;
	g->frame_start = sched;
	mask = hrservo_frame_rise(g->ctrl, g->prep_mask);
	if (!mask) {
		/* A frame without pulses: wait for the next one. */
		hrservo_gpio_next_frame(g, t, ktime_add_ns(sched, g->period_ns));
		return HRTIMER_RESTART;
	}
	g->rise = ktime_get();
	hrservo_gpio_drive(g, mask, 1);
	g->seq++;
	/* Planned by hrservo_gpio_quantize(), in frame_begin. */
	g->ngroups = g->planned;
	g->next_group = 0;
	trace_hrservo_edge(hrservo_id(g->ctrl), g->seq, 1, mask,
			   ktime_to_ns(sched), ktime_to_ns(g->rise));
	hrtimer_set_expires(t, ktime_add_ns(g->rise, g->groups[0].offset_ns));
	return HRTIMER_RESTART;
}

static enum hrtimer_restart hrservo_gpio_timer(struct hrtimer *t)
{
	struct hrservo_gpio *g = container_of(t, struct hrservo_gpio, timer);
	ktime_t sched = hrtimer_get_expires(t);
	ktime_t next, now;
	u64 mask;

	if (g->next_group == g->ngroups) {
		if (g->prepared)
			return hrservo_gpio_rise(g, t);
		/*
		 * The next frame's work, lead_ns before it: frame_begin plans
		 * the falls (through hrservo_gpio_quantize()).
		 */
		if (!hrservo_frame_begin(g->ctrl, g->next_start, g->pulse_ns,
					 &g->period_ns, &mask))
			return HRTIMER_NORESTART; /* stopped: touch nothing */
		if (!mask) {
			g->frame_start = g->next_start;
			hrservo_gpio_next_frame(g, t,
						ktime_add_ns(g->frame_start,
							     g->period_ns));
			return HRTIMER_RESTART;
		}
		g->prep_mask = mask;
		g->prepared = true;
		if (ktime_before(ktime_get(), g->next_start)) {
			hrtimer_set_expires(t, g->next_start);
			return HRTIMER_RESTART;
		}
		/* Already late for the start: the lines rise now. */
		return hrservo_gpio_rise(g, t);
	}

	/* A group of falling edges; lines released before the rise are low. */
	mask = g->groups[g->next_group].mask & g->high;
	if (mask) {
		now = ktime_get();
		hrservo_gpio_drive(g, mask, 0);
		trace_hrservo_edge(hrservo_id(g->ctrl), g->seq, 0, mask,
				   ktime_to_ns(sched), ktime_to_ns(now));
	}
	g->next_group++;
	if (g->next_group < g->ngroups) {
		next = ktime_add_ns(g->rise, g->groups[g->next_group].offset_ns);
		hrtimer_set_expires(t, next);
	} else {
		/* Skip whole frames we can no longer start on time. */
		hrservo_gpio_next_frame(g, t, ktime_add_ns(g->frame_start,
							   g->period_ns));
	}
	return HRTIMER_RESTART;
}

static void hrservo_gpio_start(struct hrservo_ctrl *ctrl, ktime_t first)
{
	struct hrservo_gpio *g = hrservo_priv(ctrl);

	g->ngroups = 0;
	g->next_group = 0;
	g->prepared = false;
	g->next_start = first;
	/* The first frame's work: now (first is a short lead from now). */
	hrtimer_start(&g->timer, ktime_sub_ns(first, READ_ONCE(g->lead_ns)),
		      HRSERVO_GPIO_TIMER_MODE);
}

static void hrservo_gpio_stop(struct hrservo_ctrl *ctrl)
{
	struct hrservo_gpio *g = hrservo_priv(ctrl);

	hrtimer_cancel(&g->timer);
	g->ngroups = 0;
	g->next_group = 0;
	g->prepared = false;
	hrservo_gpio_drive(g, ~0ULL, 0);
	/* Last: the writes above may have queued it. */
	cancel_work_sync(&g->err_work);
}

/*
 * Plan the falling edges of the frame that begins: channels whose edges
 * share an expiry fall together, at the group's time, the shortest width of
 * the group. That is the width they really get, so it is the one the core
 * reports (pulse_ns) and the one measured. Called by hrservo_frame_begin()
 * from this backend's timer, with the controller's lock held: the plan is
 * the timer's, like the other fields it owns.
 */
static void hrservo_gpio_quantize(struct hrservo_ctrl *ctrl, u32 *pulse_ns,
				  unsigned int n, u32 period_ns)
{
	struct hrservo_gpio *g = hrservo_priv(ctrl);
	unsigned int i;
	u64 m;

	g->planned = hrservo_plan_falls(pulse_ns, n, READ_ONCE(g->coalesce_ns),
					g->groups);
	for (i = 0; i < g->planned; i++)
		for (m = g->groups[i].mask; m; m &= m - 1)
			pulse_ns[__ffs64(m)] = g->groups[i].offset_ns;
}

/* Edges land on the ns (coalescing aside, which quantize reports). */
static u32 hrservo_gpio_resolution(struct hrservo_ctrl *ctrl, u32 period_ns)
{
	return 1;
}

static const struct hrservo_ops hrservo_gpio_ops = {
	.start = hrservo_gpio_start,
	.stop = hrservo_gpio_stop,
	.quantize = hrservo_gpio_quantize,
	.resolution = hrservo_gpio_resolution,
};

static ssize_t coalesce_ns_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct hrservo_gpio *g = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(g->coalesce_ns));
}

/* Store a u32 attribute of at most @max into @field, read locklessly. */
static ssize_t hrservo_gpio_store_u32(struct device *dev, const char *buf,
				      size_t len, u32 *field, u32 max,
				      const char *name)
{
	u32 val;
	int ret;

	ret = kstrtou32(buf, 0, &val);
	if (ret)
		return ret;
	if (val > max) {
		dev_dbg_ratelimited(dev, "%s %u above %u\n", name, val, max);
		return -ERANGE;
	}
	WRITE_ONCE(*field, val);
	return len;
}

static ssize_t coalesce_ns_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t len)
{
	struct hrservo_gpio *g = dev_get_drvdata(dev);

	return hrservo_gpio_store_u32(dev, buf, len, &g->coalesce_ns,
				      HRSERVO_COALESCE_MAX_NS, "coalesce_ns");
}
static DEVICE_ATTR_RW(coalesce_ns);

static ssize_t lead_ns_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct hrservo_gpio *g = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(g->lead_ns));
}

static ssize_t lead_ns_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t len)
{
	struct hrservo_gpio *g = dev_get_drvdata(dev);

	return hrservo_gpio_store_u32(dev, buf, len, &g->lead_ns,
				      HRSERVO_GPIO_LEAD_MAX_NS, "lead_ns");
}
static DEVICE_ATTR_RW(lead_ns);

static ssize_t set_errors_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct hrservo_gpio *g = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%lu\n", READ_ONCE(g->set_errors));
}
static DEVICE_ATTR_RO(set_errors);

static ssize_t lines_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct hrservo_gpio *g = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", g->lines);
}
static DEVICE_ATTR_RO(lines);

static struct attribute *hrservo_gpio_attrs[] = {
	&dev_attr_coalesce_ns.attr,
	&dev_attr_lead_ns.attr,
	&dev_attr_set_errors.attr,
	&dev_attr_lines.attr,
	NULL
};

/*
 * Note which chip and offset each servo line is (the "lines" attribute),
 * and name each line after its channel, so that gpioinfo tells the
 * controllers apart ("hrservo-gpio.0:ch3").
 */
static int hrservo_gpio_describe(struct hrservo_gpio *g)
{
	struct gpio_descs *descs = g->descs;
	size_t size = PAGE_SIZE, len = 0;
	unsigned int i;

	g->lines = devm_kzalloc(g->dev, size, GFP_KERNEL);
	if (!g->lines)
		return -ENOMEM;
	for (i = 0; i < descs->ndescs; i++) {
		struct gpio_chip *gc = gpiod_to_chip(descs->desc[i]);
		const char *name;

		if (gc && len < size)
			len += scnprintf(g->lines + len, size - len, "%s%s %d",
					 i ? "\n" : "",
					 gc->label ? gc->label : "?",
					 desc_to_gpio(descs->desc[i]) -
					 gc->base);
		name = devm_kasprintf(g->dev, GFP_KERNEL, "%s:ch%u",
				      dev_name(g->dev), i);
		/* Best effort: the line works under its old name too. */
		if (name)
			gpiod_set_consumer_name(descs->desc[i], name);
	}
	return 0;
}
ATTRIBUTE_GROUPS(hrservo_gpio);

static int hrservo_gpio_probe(struct platform_device *pdev)
{
	struct hrservo_gpio_inst **pinst = dev_get_platdata(&pdev->dev);
	struct hrservo_gpio_inst *inst = pinst ? *pinst : NULL;
	struct device *dev = &pdev->dev;
	struct hrservo_desc desc = {
		.backend = DRV_NAME,
		.ops = &hrservo_gpio_ops,
		.frame_period_ns = HRSERVO_PERIOD_DEFAULT_NS,
		.frame_period_min_ns = HRSERVO_PERIOD_MIN_NS,
		.frame_period_max_ns = HRSERVO_PERIOD_MAX_NS,
		.begins_ahead = true,
	};
	struct hrservo_ctrl *ctrl;
	struct gpio_descs *descs;
	struct gpio_desc *estop;
	struct hrservo_gpio *g;
	u32 coalesce = HRSERVO_COALESCE_DEFAULT_NS;
	u32 lead = HRSERVO_GPIO_LEAD_NS;
	unsigned int i;
	int ret;

	descs = devm_gpiod_get_array(dev, "servo", GPIOD_OUT_LOW);
	if (IS_ERR(descs)) {
		ret = dev_err_probe(dev, PTR_ERR(descs),
				    "cannot get the servo GPIO lines\n");
		goto out;
	}
	if (descs->ndescs > HRSERVO_CHANNELS_MAX) {
		ret = dev_err_probe(dev, -EINVAL, "%u lines, at most %u\n",
				    descs->ndescs, HRSERVO_CHANNELS_MAX);
		goto out;
	}
	for (i = 0; i < descs->ndescs; i++) {
		if (gpiod_cansleep(descs->desc[i])) {
			ret = dev_err_probe(dev, -EINVAL,
					    "line %u can sleep; hrservo-gpio needs lines that can be set from hard interrupt context\n",
					    i);
			goto out;
		}
	}

	device_property_read_u32(dev, "frame-period-ns", &desc.frame_period_ns);
	device_property_read_u32(dev, "coalesce-ns", &coalesce);
	device_property_read_u32(dev, "lead-ns", &lead);
	if (lead > HRSERVO_GPIO_LEAD_MAX_NS) {
		ret = dev_err_probe(dev, -EINVAL,
				    "lead-ns %u out of range (0..%u)\n", lead,
				    HRSERVO_GPIO_LEAD_MAX_NS);
		goto out;
	}
	if (desc.frame_period_ns < HRSERVO_PERIOD_MIN_NS ||
	    desc.frame_period_ns > HRSERVO_PERIOD_MAX_NS ||
	    coalesce > HRSERVO_COALESCE_MAX_NS) {
		ret = dev_err_probe(dev, -EINVAL,
				    "frame-period-ns %u (%u..%u) or coalesce-ns %u (0..%u) out of range\n",
				    desc.frame_period_ns, HRSERVO_PERIOD_MIN_NS,
				    HRSERVO_PERIOD_MAX_NS, coalesce,
				    HRSERVO_COALESCE_MAX_NS);
		goto out;
	}

	ctrl = devm_hrservo_alloc(dev, descs->ndescs, sizeof(*g));
	if (IS_ERR(ctrl)) {
		ret = PTR_ERR(ctrl);
		goto out;
	}
	g = hrservo_priv(ctrl);
	g->ctrl = ctrl;
	g->dev = dev;
	g->descs = descs;
	g->coalesce_ns = coalesce;
	g->lead_ns = lead;
	INIT_WORK(&g->err_work, hrservo_gpio_err_work);
	hrtimer_init(&g->timer, CLOCK_MONOTONIC, HRSERVO_GPIO_TIMER_MODE);
	g->timer.function = hrservo_gpio_timer;
	if (!hrtimer_is_hres_active(&g->timer)) {
		ret = dev_err_probe(dev, -EOPNOTSUPP,
				    "high-resolution timers are not active (CONFIG_HIGH_RES_TIMERS, highres=): pulses would be as coarse as the scheduler tick\n");
		goto out;
	}
	ret = hrservo_gpio_describe(g);
	if (ret)
		goto out;
	platform_set_drvdata(pdev, g);

	/* Watched before any user can move a servo. */
	estop = devm_gpiod_get_optional(dev, "estop", GPIOD_IN);
	if (IS_ERR(estop)) {
		ret = dev_err_probe(dev, PTR_ERR(estop),
				    "cannot get the e-stop GPIO line\n");
		goto out;
	}
	if (estop) {
		ret = devm_hrservo_estop_input(dev, ctrl, estop);
		if (ret)
			goto out;
	}

	ret = devm_hrservo_register(dev, ctrl, &desc);
	if (ret)
		dev_err_probe(dev, ret, "cannot register the controller\n");
out:
	if (inst)
		inst->probe_err = ret;
	return ret;
}

static const struct of_device_id hrservo_gpio_of_match[] = {
	{ .compatible = "hrservo,gpio-servo" },
	{ }
};
MODULE_DEVICE_TABLE(of, hrservo_gpio_of_match);

static const char *hrservo_gpio_parse_err(int err)
{
	switch (err) {
	case -ENAMETOOLONG:
		return "chip label too long";
	case -ERANGE:
		return "offset too large or range reversed";
	case -EEXIST:
		return "offset listed twice";
	case -E2BIG:
		return "too many lines";
	default:
		return "expected \"CHIP-LABEL OFFSET...\"";
	}
}

static void hrservo_gpio_inst_free(struct hrservo_gpio_inst *inst)
{
	unsigned int i;

	if (inst->registered)
		software_node_unregister_node_group(inst->group);
	for (i = 0; inst->nodes && i < inst->nnodes; i++)
		kfree(inst->nodes[i].name);
	kfree(inst->nodes);
	kfree(inst->group);
	kfree(inst->entries);
	kfree(inst->props);
	if (inst->lookup) {
		gpiod_remove_lookup_table(inst->lookup);
		kfree(inst->lookup->table[0].key);
		kfree(inst->lookup->dev_id);
		kfree(inst->lookup);
	}
	kfree(inst->estop_key);
	kfree(inst);
}

/*
 * Append the properties of channel @ch (-1: the controller) at @e, to the
 * list its node begins earlier or there; end the list. Returns where the
 * next list begins.
 */
static struct property_entry *
hrservo_gpio_node_props(struct property_entry *e,
			const struct hrservo_prop *props, unsigned int nprops,
			int ch)
{
	unsigned int i;

	for (i = 0; i < nprops; i++) {
		if (props[i].channel != ch)
			continue;
		if (props[i].kind == HRSERVO_PROP_STRING)
			*e++ = PROPERTY_ENTRY_STRING(props[i].name,
						     props[i].value);
		else
			*e++ = PROPERTY_ENTRY_U32(props[i].name, props[i].num);
	}
	return e + 1;	/* past the empty entry that ends the list */
}

/*
 * Build the software nodes of a new_device line: the controller's node with
 * its properties, and a "channel@N" child with "reg" = N and the channel's
 * properties for each channel named. Takes @props (checked by
 * hrservo_gpio_check_props()) into @inst.
 */
static int hrservo_gpio_nodes(struct hrservo_gpio_inst *inst,
			      struct hrservo_prop *props, unsigned int nprops)
{
	DECLARE_BITMAP(chans, HRSERVO_CHANNELS_MAX) = { };
	struct software_node *node;
	struct property_entry *e;
	unsigned int i, k, c;

	inst->props = props;
	for (i = 0; i < nprops; i++)
		if (props[i].channel >= 0)
			__set_bit(props[i].channel, chans);
	inst->nnodes = 1 + bitmap_weight(chans, HRSERVO_CHANNELS_MAX);
	inst->nodes = kcalloc(inst->nnodes, sizeof(*inst->nodes), GFP_KERNEL);
	inst->group = kcalloc(inst->nnodes + 1, sizeof(*inst->group),
			      GFP_KERNEL);
	/* Each property, a reg per channel node, an end per node. */
	inst->entries = kcalloc(nprops + 2 * inst->nnodes,
				sizeof(*inst->entries), GFP_KERNEL);
	if (!inst->nodes || !inst->group || !inst->entries)
		return -ENOMEM;

	k = 0;
	node = &inst->nodes[0];
	node->name = kasprintf(GFP_KERNEL, "%s.%d", DRV_NAME, inst->id);
	if (!node->name)
		return -ENOMEM;
	node->properties = inst->entries;
	e = hrservo_gpio_node_props(inst->entries, props, nprops, -1);
	inst->group[k++] = node;
	for_each_set_bit(c, chans, HRSERVO_CHANNELS_MAX) {
		node = &inst->nodes[k];
		node->parent = &inst->nodes[0];
		node->name = kasprintf(GFP_KERNEL, "channel@%x", c);
		if (!node->name)
			return -ENOMEM;
		node->properties = e;
		*e++ = PROPERTY_ENTRY_U32("reg", c);
		e = hrservo_gpio_node_props(e, props, nprops, c);
		inst->group[k++] = node;
	}
	return 0;
}

/* Called with hrservo_gpio_lock held. Takes @props, even on error. */
static int hrservo_gpio_create(const char *label, const u32 *offsets,
			       unsigned int n,
			       const struct hrservo_gpio_estop *estop,
			       struct hrservo_prop *props, unsigned int nprops)
{
	struct platform_device_info info = {
		.name = DRV_NAME,
	};
	struct hrservo_gpio_inst *inst;
	struct platform_device *pdev;
	char *key;
	unsigned int i;
	int ret;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst) {
		kfree(props);
		return -ENOMEM;
	}
	inst->id = idr_alloc(&hrservo_gpio_idr, inst, 0, 0, GFP_KERNEL);
	if (inst->id < 0) {
		ret = inst->id;
		kfree(props);
		kfree(inst);
		return ret;
	}

	ret = hrservo_gpio_nodes(inst, props, nprops);
	if (ret)
		goto err_idr;
	ret = software_node_register_node_group(inst->group);
	if (ret)
		goto err_idr;
	inst->registered = true;

	ret = -ENOMEM;
	if (estop->label[0]) {
		inst->estop_key = kstrdup(estop->label, GFP_KERNEL);
		if (!inst->estop_key)
			goto err_idr;
	}
	inst->lookup = kzalloc(struct_size(inst->lookup, table, n + 2),
			       GFP_KERNEL);
	if (!inst->lookup)
		goto err_idr;
	key = kstrdup(label, GFP_KERNEL);
	inst->lookup->dev_id = kasprintf(GFP_KERNEL, "%s.%d", DRV_NAME,
					 inst->id);
	if (!key || !inst->lookup->dev_id) {
		kfree(key);
		kfree(inst->lookup->dev_id);
		kfree(inst->lookup);
		inst->lookup = NULL;
		goto err_idr;
	}
	for (i = 0; i < n; i++)
		inst->lookup->table[i] = GPIO_LOOKUP_IDX(key, offsets[i],
							 "servo", i,
							 GPIO_ACTIVE_HIGH);
	if (inst->estop_key)
		inst->lookup->table[n] =
			GPIO_LOOKUP(inst->estop_key, estop->offset, "estop",
				    estop->active_low ? GPIO_ACTIVE_LOW :
				    GPIO_ACTIVE_HIGH);
	gpiod_add_lookup_table(inst->lookup);

	inst->probe_err = -ENODEV;
	info.id = inst->id;
	info.fwnode = software_node_fwnode(&inst->nodes[0]);
	info.data = &inst;
	info.size_data = sizeof(inst);
	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto err_idr;
	}
	if (inst->probe_err) {
		ret = inst->probe_err;
		if (ret == -EPROBE_DEFER)
			ret = -ENODEV;
		platform_device_unregister(pdev);
		goto err_idr;
	}
	inst->pdev = pdev;
	return 0;

err_idr:
	idr_remove(&hrservo_gpio_idr, inst->id);
	hrservo_gpio_inst_free(inst);
	return ret;
}

#define HRSERVO_GPIO_NO_PROP \
	"no such property (the controller has frame-period-ns, coalesce-ns and lead-ns; channel@N/ names a channel's)"
#define HRSERVO_GPIO_NO_CH_PROP \
	"no such property of a channel (label, min-pulse-ns, max-pulse-ns, max-speed-ns-per-s, max-accel-ns-per-s2, initial-pulse-ns)"

static void hrservo_gpio_prop_err(const struct hrservo_prop *p,
				  const char *what)
{
	char node[16] = "";

	if (p->channel >= 0)
		snprintf(node, sizeof(node), "channel@%x/", p->channel);
	pr_err(DRV_NAME ": new_device: %s%s=%s: %s\n", node, p->name, p->value,
	       what);
}

/*
 * Check the properties of a new_device line: known names, numbers that
 * are numbers, channels that exist, nothing given twice. The values
 * themselves are checked by the probe, as for device tree.
 */
static int hrservo_gpio_check_props(struct hrservo_prop *p, unsigned int n,
				    unsigned int nlines)
{
	char what[96];
	unsigned int i, j;
	u32 val;
	int ret;

	for (i = 0; i < n; i++) {
		ret = hrservo_prop_check(&p[i], &val);
		if (ret == -ENOENT) {
			hrservo_gpio_prop_err(&p[i], p[i].channel < 0 ?
					      HRSERVO_GPIO_NO_PROP :
					      HRSERVO_GPIO_NO_CH_PROP);
			return -EINVAL;
		}
		if (ret < 0) {
			hrservo_gpio_prop_err(&p[i], "not a number of 0..4294967295");
			return -EINVAL;
		}
		p[i].kind = ret;
		p[i].num = val;
		if (p[i].channel >= (int)nlines) {
			snprintf(what, sizeof(what),
				 "no such channel: %u lines make channels 0..%x (N of channel@N is hex)",
				 nlines, nlines - 1);
			hrservo_gpio_prop_err(&p[i], what);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (p[j].channel == p[i].channel &&
			    !strcmp(p[j].name, p[i].name)) {
				hrservo_gpio_prop_err(&p[i], "given twice");
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* new_device, with the e-stop option taken out of @buf. */
static ssize_t hrservo_gpio_lines(char *buf,
				  const struct hrservo_gpio_estop *estop,
				  size_t count)
{
	char label[HRSERVO_LABEL_MAX];
	u32 offsets[HRSERVO_CHANNELS_MAX];
	struct hrservo_prop *props;
	unsigned int n, i, nprops, max;
	int ngpio, ret;

	/* At most one property per '=': no more room than the line needs. */
	for (i = 0, max = 0; buf[i]; i++)
		max += buf[i] == '=';
	max = min(max, HRSERVO_GPIO_PROPS_MAX);
	props = kcalloc(max ?: 1, sizeof(*props), GFP_KERNEL);
	if (!props)
		return -ENOMEM;
	ret = hrservo_parse_props(buf, props, max, &nprops);
	if (ret) {
		pr_err(DRV_NAME ": new_device: expected PROPERTY=VALUE or channel@N/PROPERTY=VALUE (N in lowercase hex, 0..%x; a name of at most %u and a value of at most %u characters; at most %u of them) (%d)\n",
		       HRSERVO_CHANNELS_MAX - 1, HRSERVO_PROP_NAME_MAX - 1,
		       HRSERVO_LABEL_MAX - 1, HRSERVO_GPIO_PROPS_MAX, ret);
		ret = -EINVAL;
		goto err;
	}

	ret = hrservo_parse_lines(buf, label, sizeof(label), offsets,
				  ARRAY_SIZE(offsets), &n);
	if (ret) {
		pr_err(DRV_NAME ": new_device: %s (%d)\n",
		       hrservo_gpio_parse_err(ret), ret);
		if (ret == -EEXIST || ret == -ENAMETOOLONG)
			ret = -EINVAL;
		goto err;
	}
	ngpio = hrservo_compat_chip_ngpio(label);
	if (ngpio < 0) {
		pr_err(DRV_NAME ": new_device: no GPIO chip labelled \"%s\"\n",
		       label);
		ret = -ENODEV;
		goto err;
	}
	for (i = 0; i < n; i++) {
		if (offsets[i] >= ngpio) {
			pr_err(DRV_NAME ": new_device: offset %u out of range, chip \"%s\" has %d lines\n",
			       offsets[i], label, ngpio);
			ret = -EINVAL;
			goto err;
		}
	}
	ret = hrservo_gpio_check_props(props, nprops, n);
	if (ret)
		goto err;

	mutex_lock(&hrservo_gpio_lock);
	ret = hrservo_gpio_create(label, offsets, n, estop, props, nprops);
	mutex_unlock(&hrservo_gpio_lock);
	if (ret) {
		pr_err(DRV_NAME ": new_device: \"%s\": controller not created (%d)\n",
		       label, ret);
		return ret;
	}
	return count;

err:
	kfree(props);
	return ret;
}

static ssize_t new_device_store(struct device_driver *drv, const char *buf,
				size_t count)
{
	struct hrservo_gpio_estop *estop;
	int ngpio, ret;
	char *line;

	line = kstrndup(buf, count, GFP_KERNEL);
	estop = kzalloc(sizeof(*estop), GFP_KERNEL);
	if (!line || !estop) {
		ret = -ENOMEM;
		goto out;
	}
	ret = hrservo_parse_estop(line, estop->label, sizeof(estop->label),
				  &estop->offset, &estop->active_low);
	if (ret < 0) {
		pr_err(DRV_NAME ": new_device: expected \"estop=CHIP-LABEL:OFFSET\" or \"estop=CHIP-LABEL:OFFSET:low\", once (%d)\n",
		       ret);
		ret = -EINVAL;
		goto out;
	}
	if (ret) {
		ngpio = hrservo_compat_chip_ngpio(estop->label);
		if (ngpio < 0 || estop->offset >= ngpio) {
			pr_err(DRV_NAME ": new_device: e-stop line: no GPIO chip labelled \"%s\" with a line %u\n",
			       estop->label, estop->offset);
			ret = -ENODEV;
			goto out;
		}
	}
	ret = hrservo_gpio_lines(line, estop, count);
out:
	kfree(estop);
	kfree(line);
	return ret;
}
static DRIVER_ATTR_WO(new_device);

static ssize_t delete_device_store(struct device_driver *drv, const char *buf,
				   size_t count)
{
	struct hrservo_gpio_inst *inst;
	unsigned int id;
	int ret;

	if (!sysfs_streq(buf, DRV_NAME) &&
	    strncmp(buf, DRV_NAME ".", strlen(DRV_NAME ".")) == 0)
		ret = kstrtouint(buf + strlen(DRV_NAME "."), 10, &id);
	else
		ret = -EINVAL;
	if (ret || id > INT_MAX) {
		pr_err(DRV_NAME ": delete_device: expected \"%s.N\"\n",
		       DRV_NAME);
		return -EINVAL;
	}

	/*
	 * Held until the device and its software nodes are gone, so that a
	 * new_device cannot reuse the id while their names are still taken.
	 */
	mutex_lock(&hrservo_gpio_lock);
	inst = idr_remove(&hrservo_gpio_idr, id);
	if (inst) {
		platform_device_unregister(inst->pdev);
		hrservo_gpio_inst_free(inst);
	}
	mutex_unlock(&hrservo_gpio_lock);
	if (!inst) {
		pr_err(DRV_NAME ": delete_device: no device %s.%u\n", DRV_NAME,
		       id);
		return -ENOENT;
	}
	return count;
}
static DRIVER_ATTR_WO(delete_device);

static struct attribute *hrservo_gpio_drv_attrs[] = {
	&driver_attr_new_device.attr,
	&driver_attr_delete_device.attr,
	NULL
};
ATTRIBUTE_GROUPS(hrservo_gpio_drv);

static struct platform_driver hrservo_gpio_driver = {
	.probe = hrservo_gpio_probe,
	.driver = {
		.name = DRV_NAME,
		.of_match_table = hrservo_gpio_of_match,
		.groups = hrservo_gpio_drv_groups,
		.dev_groups = hrservo_gpio_groups,
		.probe_type = PROBE_FORCE_SYNCHRONOUS,
	},
};

static int __init hrservo_gpio_init(void)
{
	return platform_driver_register(&hrservo_gpio_driver);
}
module_init(hrservo_gpio_init);

static void __exit hrservo_gpio_exit(void)
{
	struct hrservo_gpio_inst *inst;
	int id;

	/* Removes new_device/delete_device first, then unbinds every device. */
	platform_driver_unregister(&hrservo_gpio_driver);

	mutex_lock(&hrservo_gpio_lock);
	idr_for_each_entry(&hrservo_gpio_idr, inst, id) {
		platform_device_unregister(inst->pdev);
		hrservo_gpio_inst_free(inst);
	}
	idr_destroy(&hrservo_gpio_idr);
	mutex_unlock(&hrservo_gpio_lock);
}
module_exit(hrservo_gpio_exit);

MODULE_DESCRIPTION("hrservo-gpio: hrtimer-timed servo pulses on GPIO lines");
MODULE_AUTHOR("The hrservo developers");
MODULE_LICENSE("GPL");
