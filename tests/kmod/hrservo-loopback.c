// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-loopback: a GPIO chip that records every line transition.
 *
 * The logic analyser of the tests, the demo and the benchmarks; never
 * installed. It registers one gpio_chip labelled "hrservo-loopback" with
 * `ngpio` output lines that never sleep. Each level change of a line is
 * recorded as (CLOCK_MONOTONIC ns, line, level) in a ring buffer; lines set
 * in one set_multiple() call share one timestamp.
 *
 * A second chip, "hrservo-loopback-sleepy", has 4 lines whose chip claims
 * it can sleep (like an I2C expander), to test that hrservo-gpio refuses
 * such lines. It records nothing.
 *
 * A third chip, "hrservo-loopback-in", has 4 input lines with interrupts
 * on either edge: the e-stop button of the tests. The tests drive them.
 *
 * A fourth, "hrservo-loopback-hotplug", has 4 output lines and comes and
 * goes through debugfs, lines requested or not: a chip unplugged under its
 * users (their line requests then fail with ENODEV). It records nothing.
 * On 6.1, gpiolib leaks the references of lines freed after their chip
 * went (the module's and the gpio_device's): after such an unplug this
 * module cannot be unloaded until the guest reboots. 6.12 does not leak.
 *
 * Device tree (the arm64 guest): a node compatible with
 * "hrservo,test-loopback" becomes the main chip's firmware node, so that a
 * device-tree hrservo-gpio node reaches its lines ("servo-gpios =
 * <&loopback 8 0>"). A driver that does nothing binds that node's platform
 * device, so that fw_devlink sees the supplier of those lines ready.
 *
 * debugfs, under hrservo-loopback/:
 *   events   read: one record per line, "TIME_NS LINE LEVEL\n", oldest first;
 *            records are consumed as they are read
 *   clear    write anything: drop every record and the dropped count
 *   dropped  records lost because the ring was full
 *   oe_dev   write a device name (an I2C device, "0-0042"): its "oe" GPIO
 *            becomes the chip's last line, active low, through a GPIO
 *            lookup table (the OE line of the PCA9685 tests); one device at
 *            a time, replaced by the next write
 *   estop_dev write "DEVICE OFFSET" (an I2C device, "0-0040"): its "estop"
 *            GPIO becomes line OFFSET of the input chip, active high, as
 *            oe_dev does for "oe"
 *   servo_dev write "DEVICE FIRST N" (a platform device, "PRP0001:00"): its
 *            "servo" GPIOs 0..N-1 become lines FIRST..FIRST+N-1 of the
 *            main chip, through a GPIO lookup table (the ACPI test's
 *            controller, whose lines ACPI cannot reach), as oe_dev does
 *   hotplug  write 1: add the hotplug chip (no-op if it is there); 0:
 *            remove it, whoever holds its lines (gpiolib then says
 *            "REMOVING GPIOCHIP WITH GPIOS STILL REQUESTED"). Read: 1 or 0
 *   input    write "OFFSET LEVEL": drive an input line of the input chip;
 *            an enabled interrupt for that edge fires from an irq_work,
 *            in hard interrupt context. Read: each line's last edge time,
 *            "OFFSET LEVEL TIME_NS\n" per line (TIME_NS 0: no edge yet)
 */
#include <linux/debugfs.h>
#include <linux/gpio/driver.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irq_work.h>
#include <linux/gpio/machine.h>
#include <linux/mutex.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

static unsigned int ngpio = 64;
module_param(ngpio, uint, 0444);
MODULE_PARM_DESC(ngpio, "number of lines (1..512)");

static unsigned int ring_order = 17;
module_param(ring_order, uint, 0444);
MODULE_PARM_DESC(ring_order, "ring buffer holds 2^ring_order records (8..22)");

struct lb_record {
	u64 ts;
	u16 line;
	u8 level;
};

/**
 * struct lb_chip - the loopback chip
 * @gc: the GPIO chip
 * @lock: protects every field below it; taken in hard interrupt context
 * @levels: current level of each line
 * @ring: recorded transitions
 * @head: index of the next record to write (free-running)
 * @tail: index of the oldest unread record (free-running)
 * @dropped: records lost to a full ring
 */
struct lb_chip {
	struct gpio_chip gc;
	raw_spinlock_t lock;
	unsigned long *levels;
	struct lb_record *ring;
	u64 head;
	u64 tail;
	u64 dropped;
};

static struct lb_chip *lb;
static struct dentry *lb_dir;

#define LB_IN_LINES	4

/**
 * struct lb_in - the input chip
 * @gc: the GPIO chip, with a gpiolib irqchip
 * @work: fires the interrupts of the edges the tests made
 * @lock: protects every field below it
 * @levels: level of each line
 * @enabled: lines whose interrupt is unmasked
 * @rising: lines whose interrupt fires on a rising edge
 * @falling: ...on a falling edge
 * @pending: interrupts to fire
 * @edge_ns: time of each line's last edge
 */
struct lb_in {
	struct gpio_chip gc;
	struct irq_work work;
	raw_spinlock_t lock;
	unsigned long levels;
	unsigned long enabled;
	unsigned long rising;
	unsigned long falling;
	unsigned long pending;
	u64 edge_ns[LB_IN_LINES];
};

static struct lb_in lb_in;

/* The "sleepy" chip; its levels are only touched by its own callbacks. */
/*
 * A chip of 4 lines that records nothing: its levels are bits of @levels,
 * reached from the chip with container_of(), never gpiochip_get_data()
 * (gpiolib clears that when the chip is removed).
 */
struct lb_bits {
	struct gpio_chip gc;
	unsigned long levels;
};

static struct lb_bits lb_sleepy;

static void lb_record_locked(unsigned int line, int level, u64 ts)
{
	u64 size = 1ULL << ring_order;

	if (!!test_bit(line, lb->levels) == !!level)
		return;
	assign_bit(line, lb->levels, level);
	if (lb->head - lb->tail >= size) {
		lb->dropped++;
		return;
	}
	lb->ring[lb->head & (size - 1)] = (struct lb_record) {
		.ts = ts, .line = line, .level = level,
	};
	lb->head++;
}

static void lb_set(struct gpio_chip *gc, unsigned int offset, int value)
{
	unsigned long flags;
	u64 ts = ktime_get_ns();

	raw_spin_lock_irqsave(&lb->lock, flags);
	lb_record_locked(offset, value, ts);
	raw_spin_unlock_irqrestore(&lb->lock, flags);
}

static void lb_set_multiple(struct gpio_chip *gc, unsigned long *mask,
			    unsigned long *bits)
{
	unsigned long flags;
	unsigned int i;
	u64 ts = ktime_get_ns();

	raw_spin_lock_irqsave(&lb->lock, flags);
	for_each_set_bit(i, mask, gc->ngpio)
		lb_record_locked(i, test_bit(i, bits), ts);
	raw_spin_unlock_irqrestore(&lb->lock, flags);
}

static int lb_get(struct gpio_chip *gc, unsigned int offset)
{
	unsigned long flags;
	int v;

	raw_spin_lock_irqsave(&lb->lock, flags);
	v = test_bit(offset, lb->levels);
	raw_spin_unlock_irqrestore(&lb->lock, flags);
	return v;
}

static int lb_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	return GPIO_LINE_DIRECTION_OUT;
}

static int lb_direction_output(struct gpio_chip *gc, unsigned int offset,
			       int value)
{
	lb_set(gc, offset, value);
	return 0;
}

static void lb_bits_set(struct gpio_chip *gc, unsigned int offset, int value)
{
	assign_bit(offset, &container_of(gc, struct lb_bits, gc)->levels,
		   value);
}

static int lb_bits_get(struct gpio_chip *gc, unsigned int offset)
{
	return test_bit(offset, &container_of(gc, struct lb_bits, gc)->levels);
}

static int lb_bits_direction_output(struct gpio_chip *gc, unsigned int offset,
				    int value)
{
	lb_bits_set(gc, offset, value);
	return 0;
}

/* Fill @b's chip: 4 lines labelled @label. */
static void lb_bits_init(struct lb_bits *b, const char *label, bool can_sleep)
{
	b->gc.label = label;
	b->gc.owner = THIS_MODULE;
	b->gc.base = -1;
	b->gc.ngpio = 4;
	b->gc.can_sleep = can_sleep;
	b->gc.get = lb_bits_get;
	b->gc.set = lb_bits_set;
	b->gc.get_direction = lb_get_direction;
	b->gc.direction_output = lb_bits_direction_output;
}

/*
 * The hotplug chip. Static and reused: gpiolib clears a removed chip's
 * data, and 6.1 waits only for the character device's calls at removal,
 * not for the kernel's; the callbacks touch only the static levels
 * (atomic bit operations).
 */
static struct lb_bits lb_hotplug;
static bool lb_hotplug_live;		/* under lb_hotplug_lock */
static DEFINE_MUTEX(lb_hotplug_lock);

/* Add (@live) or remove the hotplug chip; lb_hotplug_lock held. */
static int lb_hotplug_switch(bool live)
{
	int ret;

	if (live == lb_hotplug_live)
		return 0;
	if (!live) {
		gpiochip_remove(&lb_hotplug.gc);
		lb_hotplug_live = false;
		return 0;
	}
	/* gpiolib may have written some (base): set them again each time. */
	lb_bits_init(&lb_hotplug, "hrservo-loopback-hotplug", false);
	lb_hotplug.levels = 0;
	ret = gpiochip_add_data(&lb_hotplug.gc, NULL);
	if (!ret)
		lb_hotplug_live = true;
	return ret;
}

static ssize_t lb_hotplug_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	bool live;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &live);
	if (ret)
		return ret;
	mutex_lock(&lb_hotplug_lock);
	ret = lb_hotplug_switch(live);
	mutex_unlock(&lb_hotplug_lock);
	return ret ? ret : count;
}

static ssize_t lb_hotplug_read(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char buf[3];

	mutex_lock(&lb_hotplug_lock);
	snprintf(buf, sizeof(buf), "%d\n", lb_hotplug_live);
	mutex_unlock(&lb_hotplug_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, 2);
}

static const struct file_operations lb_hotplug_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = lb_hotplug_read,
	.write = lb_hotplug_write,
};

static int lb_in_get(struct gpio_chip *gc, unsigned int offset)
{
	unsigned long flags;
	int v;

	raw_spin_lock_irqsave(&lb_in.lock, flags);
	v = test_bit(offset, &lb_in.levels);
	raw_spin_unlock_irqrestore(&lb_in.lock, flags);
	return v;
}

static int lb_in_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	return GPIO_LINE_DIRECTION_IN;
}

static int lb_in_direction_input(struct gpio_chip *gc, unsigned int offset)
{
	return 0;
}

static void lb_in_irq_mask(struct irq_data *d)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&lb_in.lock, flags);
	clear_bit(irqd_to_hwirq(d), &lb_in.enabled);
	raw_spin_unlock_irqrestore(&lb_in.lock, flags);
	gpiochip_disable_irq(&lb_in.gc, irqd_to_hwirq(d));
}

static void lb_in_irq_unmask(struct irq_data *d)
{
	unsigned long flags;

	gpiochip_enable_irq(&lb_in.gc, irqd_to_hwirq(d));
	raw_spin_lock_irqsave(&lb_in.lock, flags);
	set_bit(irqd_to_hwirq(d), &lb_in.enabled);
	raw_spin_unlock_irqrestore(&lb_in.lock, flags);
}

static int lb_in_irq_set_type(struct irq_data *d, unsigned int type)
{
	unsigned long flags, hw = irqd_to_hwirq(d);

	if (type & ~IRQ_TYPE_EDGE_BOTH)
		return -EINVAL;
	raw_spin_lock_irqsave(&lb_in.lock, flags);
	assign_bit(hw, &lb_in.rising, type & IRQ_TYPE_EDGE_RISING);
	assign_bit(hw, &lb_in.falling, type & IRQ_TYPE_EDGE_FALLING);
	raw_spin_unlock_irqrestore(&lb_in.lock, flags);
	return 0;
}

static const struct irq_chip lb_in_irqchip = {
	.name = "hrservo-loopback-in",
	.irq_mask = lb_in_irq_mask,
	.irq_unmask = lb_in_irq_unmask,
	.irq_set_type = lb_in_irq_set_type,
	.flags = IRQCHIP_IMMUTABLE,
	GPIOCHIP_IRQ_RESOURCE_HELPERS,
};

/* Hard interrupt context (IRQ_WORK_INIT_HARD), like a chip's own irq. */
static void lb_in_fire(struct irq_work *work)
{
	unsigned long flags, pending;
	unsigned int i;

	raw_spin_lock_irqsave(&lb_in.lock, flags);
	pending = lb_in.pending;
	lb_in.pending = 0;
	raw_spin_unlock_irqrestore(&lb_in.lock, flags);
	for_each_set_bit(i, &pending, LB_IN_LINES)
		generic_handle_domain_irq(lb_in.gc.irq.domain, i);
}

static ssize_t lb_in_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	unsigned int off, level;
	unsigned long flags;
	bool fire = false;
	char buf[32];

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (sscanf(buf, "%u %u", &off, &level) != 2 || off >= LB_IN_LINES ||
	    level > 1)
		return -EINVAL;
	raw_spin_lock_irqsave(&lb_in.lock, flags);
	if (test_bit(off, &lb_in.levels) != level) {
		assign_bit(off, &lb_in.levels, level);
		lb_in.edge_ns[off] = ktime_get_ns();
		if (test_bit(off, &lb_in.enabled) &&
		    test_bit(off, level ? &lb_in.rising : &lb_in.falling)) {
			set_bit(off, &lb_in.pending);
			fire = true;
		}
	}
	raw_spin_unlock_irqrestore(&lb_in.lock, flags);
	if (fire)
		irq_work_queue(&lb_in.work);
	return count;
}

static ssize_t lb_in_read(struct file *file, char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	char buf[LB_IN_LINES * 40];
	unsigned long flags;
	unsigned int i;
	int len = 0;

	raw_spin_lock_irqsave(&lb_in.lock, flags);
	for (i = 0; i < LB_IN_LINES; i++)
		len += scnprintf(buf + len, sizeof(buf) - len, "%u %u %llu\n",
				 i, test_bit(i, &lb_in.levels) ? 1 : 0,
				 lb_in.edge_ns[i]);
	raw_spin_unlock_irqrestore(&lb_in.lock, flags);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations lb_in_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = lb_in_read,
	.write = lb_in_write,
};

static int lb_in_add(void)
{
	struct gpio_irq_chip *girq = &lb_in.gc.irq;

	raw_spin_lock_init(&lb_in.lock);
	lb_in.work = IRQ_WORK_INIT_HARD(lb_in_fire);
	lb_in.gc.label = "hrservo-loopback-in";
	lb_in.gc.owner = THIS_MODULE;
	lb_in.gc.base = -1;
	lb_in.gc.ngpio = LB_IN_LINES;
	lb_in.gc.can_sleep = false;
	lb_in.gc.get = lb_in_get;
	lb_in.gc.get_direction = lb_in_get_direction;
	lb_in.gc.direction_input = lb_in_direction_input;
	gpio_irq_chip_set_chip(girq, &lb_in_irqchip);
	girq->handler = handle_simple_irq;
	girq->default_type = IRQ_TYPE_NONE;
	return gpiochip_add_data(&lb_in.gc, NULL);
}

static ssize_t lb_events_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	u64 size = 1ULL << ring_order;
	size_t len = 0, cap = min_t(size_t, count, PAGE_SIZE);
	struct lb_record batch[16];
	unsigned long flags;
	unsigned int n, i;
	char *buf;
	ssize_t ret;

	buf = kmalloc(cap, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	/*
	 * Take records in small batches and format them with interrupts on,
	 * so that reading the capture does not delay the timers it measures.
	 * A record is consumed only once its line fits in the buffer.
	 */
	for (;;) {
		raw_spin_lock_irqsave(&lb->lock, flags);
		for (n = 0; n < ARRAY_SIZE(batch) && lb->tail + n != lb->head;
		     n++)
			batch[n] = lb->ring[(lb->tail + n) & (size - 1)];
		raw_spin_unlock_irqrestore(&lb->lock, flags);
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			char line[48];
			int w = scnprintf(line, sizeof(line), "%llu %u %u\n",
					  batch[i].ts, batch[i].line,
					  batch[i].level);

			if (len + w > cap)
				break;
			memcpy(buf + len, line, w);
			len += w;
		}
		/* Writers only advance head; a "clear" may have moved tail. */
		raw_spin_lock_irqsave(&lb->lock, flags);
		lb->tail = min(lb->tail + i, lb->head);
		raw_spin_unlock_irqrestore(&lb->lock, flags);
		if (i < n)
			break;
	}

	ret = copy_to_user(ubuf, buf, len) ? -EFAULT : len;
	kfree(buf);
	return ret;
}

static const struct file_operations lb_events_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = lb_events_read,
};

static ssize_t lb_clear_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&lb->lock, flags);
	lb->tail = lb->head;
	lb->dropped = 0;
	raw_spin_unlock_irqrestore(&lb->lock, flags);
	return count;
}

static const struct file_operations lb_clear_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = lb_clear_write,
};

static int lb_dropped_get(void *data, u64 *val)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&lb->lock, flags);
	*val = lb->dropped;
	raw_spin_unlock_irqrestore(&lb->lock, flags);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(lb_dropped_fops, lb_dropped_get, NULL, "%llu\n");

/*
 * The lookup tables made through oe_dev, estop_dev and servo_dev, one each,
 * under lb_oe_lock.
 */
static DEFINE_MUTEX(lb_oe_lock);
static struct gpiod_lookup_table *lb_oe, *lb_estop, *lb_servo;

/* Drop the table in @slot, if any. Called with lb_oe_lock held. */
static void lb_table_remove(struct gpiod_lookup_table **slot)
{
	if (!*slot)
		return;
	gpiod_remove_lookup_table(*slot);
	kfree((*slot)->dev_id);
	kfree(*slot);
	*slot = NULL;
}

/* Put @t in @slot in place of the table there, and add it. */
static void lb_table_install(struct gpiod_lookup_table **slot,
			     struct gpiod_lookup_table *t)
{
	mutex_lock(&lb_oe_lock);
	lb_table_remove(slot);
	*slot = t;
	gpiod_add_lookup_table(t);
	mutex_unlock(&lb_oe_lock);
}

static ssize_t lb_oe_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct gpiod_lookup_table *t;
	char *name;

	name = strndup_user(ubuf, min_t(size_t, count + 1, 64));
	if (IS_ERR(name))
		return PTR_ERR(name);
	strim(name);
	t = kzalloc(struct_size(t, table, 2), GFP_KERNEL);
	if (!t) {
		kfree(name);
		return -ENOMEM;
	}
	t->dev_id = name;
	t->table[0] = GPIO_LOOKUP("hrservo-loopback", ngpio - 1, "oe",
				  GPIO_ACTIVE_LOW);
	lb_table_install(&lb_oe, t);
	return count;
}

static ssize_t lb_estop_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	struct gpiod_lookup_table *t;
	unsigned int off;
	char *buf, *name;

	if (count >= 64)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	name = kzalloc(64, GFP_KERNEL);
	t = kzalloc(struct_size(t, table, 2), GFP_KERNEL);
	if (!name || !t || sscanf(buf, "%63s %u", name, &off) != 2 ||
	    off >= LB_IN_LINES) {
		kfree(buf);
		kfree(name);
		kfree(t);
		return -EINVAL;
	}
	kfree(buf);
	t->dev_id = name;
	t->table[0] = GPIO_LOOKUP("hrservo-loopback-in", off, "estop",
				  GPIO_ACTIVE_HIGH);
	lb_table_install(&lb_estop, t);
	return count;
}

static ssize_t lb_servo_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	struct gpiod_lookup_table *t;
	unsigned int first, n, i;
	char *buf, *name;

	if (count >= 64)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	name = kzalloc(64, GFP_KERNEL);
	if (!name) {
		kfree(buf);
		return -ENOMEM;
	}
	if (sscanf(buf, "%63s %u %u", name, &first, &n) != 3 ||
	    !n || n > 64 || first >= ngpio || n > ngpio - first) {
		kfree(buf);
		kfree(name);
		return -EINVAL;
	}
	kfree(buf);
	t = kzalloc(struct_size(t, table, n + 1), GFP_KERNEL);
	if (!t) {
		kfree(name);
		return -ENOMEM;
	}
	t->dev_id = name;
	for (i = 0; i < n; i++)
		t->table[i] = GPIO_LOOKUP_IDX("hrservo-loopback", first + i,
					      "servo", i, GPIO_ACTIVE_HIGH);
	lb_table_install(&lb_servo, t);
	return count;
}

static const struct file_operations lb_servo_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = lb_servo_write,
};

static const struct file_operations lb_estop_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = lb_estop_write,
};

static const struct file_operations lb_oe_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = lb_oe_write,
};

static const struct of_device_id lb_of_match[] = {
	{ .compatible = "hrservo,test-loopback" },
	{ }
};

static int lb_pdev_probe(struct platform_device *pdev)
{
	return 0;
}

static struct platform_driver lb_pdrv = {
	.probe = lb_pdev_probe,
	.driver = {
		.name = "hrservo-loopback",
		.of_match_table = lb_of_match,
		/* Unbinding it would unbind its consumers: never by hand. */
		.suppress_bind_attrs = true,
	},
};

/* The device-tree node of the main chip, or NULL; a reference is held. */
static struct device_node *lb_np;

static int __init lb_init(void)
{
	int ret;

	if (ngpio < 1 || ngpio > 512 || ring_order < 8 || ring_order > 22)
		return -EINVAL;
	lb = kzalloc(sizeof(*lb), GFP_KERNEL);
	if (!lb)
		return -ENOMEM;
	raw_spin_lock_init(&lb->lock);
	lb->levels = bitmap_zalloc(ngpio, GFP_KERNEL);
	lb->ring = kvcalloc(1UL << ring_order, sizeof(*lb->ring), GFP_KERNEL);
	if (!lb->levels || !lb->ring) {
		ret = -ENOMEM;
		goto err_free;
	}

	lb->gc.label = "hrservo-loopback";
	lb->gc.owner = THIS_MODULE;
	lb->gc.base = -1;
	lb->gc.ngpio = ngpio;
	lb->gc.can_sleep = false;
	lb->gc.get = lb_get;
	lb->gc.set = lb_set;
	lb->gc.set_multiple = lb_set_multiple;
	lb->gc.get_direction = lb_get_direction;
	lb->gc.direction_output = lb_direction_output;
	lb_np = of_find_matching_node(NULL, lb_of_match);
	lb->gc.fwnode = of_fwnode_handle(lb_np);
	ret = gpiochip_add_data(&lb->gc, lb);
	if (ret)
		goto err_free;

	lb_bits_init(&lb_sleepy, "hrservo-loopback-sleepy", true);
	ret = gpiochip_add_data(&lb_sleepy.gc, NULL);
	if (ret)
		goto err_remove;
	ret = lb_in_add();
	if (ret)
		goto err_remove_sleepy;

	lb_dir = debugfs_create_dir("hrservo-loopback", NULL);
	debugfs_create_file("events", 0400, lb_dir, NULL, &lb_events_fops);
	debugfs_create_file("clear", 0200, lb_dir, NULL, &lb_clear_fops);
	debugfs_create_file_unsafe("dropped", 0400, lb_dir, NULL,
				   &lb_dropped_fops);
	debugfs_create_file("oe_dev", 0200, lb_dir, NULL, &lb_oe_fops);
	debugfs_create_file("input", 0600, lb_dir, NULL, &lb_in_fops);
	debugfs_create_file("estop_dev", 0200, lb_dir, NULL, &lb_estop_fops);
	debugfs_create_file("servo_dev", 0200, lb_dir, NULL, &lb_servo_fops);
	debugfs_create_file("hotplug", 0600, lb_dir, NULL, &lb_hotplug_fops);
	/* Last: binding the node lets its consumers probe. */
	ret = platform_driver_register(&lb_pdrv);
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	debugfs_remove_recursive(lb_dir);
	irq_work_sync(&lb_in.work);
	mutex_lock(&lb_oe_lock);
	lb_table_remove(&lb_oe);
	lb_table_remove(&lb_estop);
	lb_table_remove(&lb_servo);
	mutex_unlock(&lb_oe_lock);
	gpiochip_remove(&lb_in.gc);
err_remove_sleepy:
	gpiochip_remove(&lb_sleepy.gc);
err_remove:
	gpiochip_remove(&lb->gc);
err_free:
	of_node_put(lb_np);
	kvfree(lb->ring);
	bitmap_free(lb->levels);
	kfree(lb);
	return ret;
}
module_init(lb_init);

static void __exit lb_exit(void)
{
	platform_driver_unregister(&lb_pdrv);
	debugfs_remove_recursive(lb_dir);
	mutex_lock(&lb_hotplug_lock);
	lb_hotplug_switch(false);
	mutex_unlock(&lb_hotplug_lock);
	/* No edge fires once the input chip is gone. */
	irq_work_sync(&lb_in.work);
	mutex_lock(&lb_oe_lock);
	lb_table_remove(&lb_oe);
	lb_table_remove(&lb_estop);
	lb_table_remove(&lb_servo);
	mutex_unlock(&lb_oe_lock);
	gpiochip_remove(&lb_in.gc);
	gpiochip_remove(&lb_sleepy.gc);
	gpiochip_remove(&lb->gc);
	of_node_put(lb_np);
	kvfree(lb->ring);
	bitmap_free(lb->levels);
	kfree(lb);
}
module_exit(lb_exit);

MODULE_DESCRIPTION("hrservo-loopback: GPIO chip that records line transitions (tests only)");
MODULE_AUTHOR("The hrservo developers");
MODULE_LICENSE("GPL");
