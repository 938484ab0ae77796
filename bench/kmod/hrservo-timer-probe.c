// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-timer-probe: the floor of hrservo-gpio's edge timing, for make
 * bench only (never installed).
 *
 * One HRTIMER_MODE_ABS_HARD timer fires the expiry schedule that
 * hrservo-gpio fires for bench/measure.c's pulses, and does nothing else:
 * per 20 ms frame, one expiry LEAD_NS before the frame start (the frame's
 * work, with hrservo-gpio's lead_ns; none with 0), one at the frame start
 * (the rising edge) and one per distinct pulse width (the falling edges),
 * the widths of hrservo-measure (1000..2000 us spread over N channels, in
 * whole us). Each expiry records how late it ran (ktime_get() - its
 * expiry), so that the driver's lateness can be set beside the timer's own.
 *
 * The frames' phase matters: the kernel's tick lies on a grid of
 * CLOCK_MONOTONIC (multiples of its period, which divides 20 ms), and with
 * the tick stopped in idle the first interrupt after a tick boundary pays
 * the jiffies update. With frames of 20 ms that is the same expiry in every
 * frame, so a floor is only one at the driver's phase: PHASE_NS puts the
 * frame starts at it.
 *
 * debugfs, under hrservo-timer-probe/:
 *   start  write "CHANNELS FRAMES [LEAD_NS [PHASE_NS]]": run that schedule
 *          for FRAMES frames (CHANNELS 1..64, FRAMES 1..10000, LEAD_NS
 *          0..5000000, default 0), the frames starting at PHASE_NS mod
 *          20 ms of CLOCK_MONOTONIC (0..19999999; default: a lead and
 *          1 ms from now);
 *          -EBUSY while a run goes on
 *   late   read once the run ended (-EBUSY before): one line per expiry,
 *          "R LATE_NS" for a frame start, "F LATE_NS" for a fall, "W
 *          LATE_NS" for a work expiry
 */
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#define PROBE_PERIOD_NS		20000000LL
#define PROBE_PERIOD_U32	20000000U
#define PROBE_LEAD_NS		1000000LL
#define PROBE_MAX_CH		64
#define PROBE_MAX_FRAMES	10000
#define PROBE_MAX_LEAD_NS	5000000U

/*
 * The run: written by start_write() while no run goes on, then owned by
 * the timer until it sets @done; read by late_show() once @done is set.
 */
static struct {
	struct hrtimer timer;
	struct mutex lock;	/* serialises start and late, guards @busy */
	bool busy;
	bool done;		/* release/acquire: the timer's last write */
	unsigned int nfall;
	s64 offset[PROBE_MAX_CH];
	unsigned int frames;
	unsigned int frame;
	unsigned int next;	/* 0: the frame start, else fall next - 1 */
	bool work;		/* the next expiry is the frame's work */
	u32 lead_ns;
	ktime_t start;
	s64 *late;
	char *kind;
	size_t n, max;
} pr;

static enum hrtimer_restart probe_timer(struct hrtimer *t)
{
	ktime_t exp = hrtimer_get_expires(t);
	s64 late = ktime_to_ns(ktime_sub(ktime_get(), exp));

	if (pr.n < pr.max) {
		pr.late[pr.n] = late;
		pr.kind[pr.n] = pr.work ? 'W' : pr.next ? 'F' : 'R';
		pr.n++;
	}
	if (pr.work) {
		pr.work = false;
		hrtimer_set_expires(t, pr.start);
		return HRTIMER_RESTART;
	}
	if (pr.next < pr.nfall) {
		pr.next++;
		hrtimer_set_expires(t, ktime_add_ns(pr.start,
						    pr.offset[pr.next - 1]));
		return HRTIMER_RESTART;
	}
	pr.next = 0;
	if (++pr.frame == pr.frames) {
		/* Pairs with the acquires of start and late: the records first. */
		smp_store_release(&pr.done, true);
		return HRTIMER_NORESTART;
	}
	pr.start = ktime_add_ns(pr.start, PROBE_PERIOD_NS);
	pr.work = pr.lead_ns;
	hrtimer_set_expires(t, ktime_sub_ns(pr.start, pr.lead_ns));
	return HRTIMER_RESTART;
}

/* hrservo-measure's widths for @n channels, distinct, ascending. */
static void probe_plan(unsigned int n)
{
	unsigned int i;

	/* u32: at most 2 ms, and no 64-bit division on 32-bit ARM. */
	for (i = 0; i < n; i++) {
		u32 w = 1000000 + (n > 1 ? i * (1000000 / (n - 1)) : 500000);

		pr.offset[i] = w - w % 1000;
	}
	pr.nfall = n;
}

static void probe_stop(void)
{
	hrtimer_cancel(&pr.timer);
	vfree(pr.late);
	vfree(pr.kind);
	pr.late = NULL;
	pr.kind = NULL;
}

static ssize_t start_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	unsigned int ch, frames, lead = 0, phase = 0;
	char buf[64];
	size_t len = min(count, sizeof(buf) - 1);
	u32 rem;
	int n;

	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	n = sscanf(buf, "%u %u %u %u", &ch, &frames, &lead, &phase);
	if (n < 2 || !ch || ch > PROBE_MAX_CH || !frames ||
	    frames > PROBE_MAX_FRAMES || lead > PROBE_MAX_LEAD_NS ||
	    phase >= PROBE_PERIOD_U32)
		return -EINVAL;

	mutex_lock(&pr.lock);
	/* Pairs with the timer's release: it is done with the records. */
	if (pr.busy && !smp_load_acquire(&pr.done)) {
		mutex_unlock(&pr.lock);
		return -EBUSY;
	}
	probe_stop();
	pr.max = (size_t)frames * (ch + 2);
	pr.late = vmalloc(array_size(pr.max, sizeof(*pr.late)));
	pr.kind = vmalloc(array_size(pr.max, sizeof(*pr.kind)));
	if (!pr.late || !pr.kind) {
		probe_stop();
		pr.busy = false;
		mutex_unlock(&pr.lock);
		return -ENOMEM;
	}
	probe_plan(ch);
	pr.n = 0;
	pr.frames = frames;
	pr.frame = 0;
	pr.next = 0;
	pr.lead_ns = lead;
	/* Every frame, the first too, has its work expiry a lead before. */
	pr.work = lead;
	pr.done = false;
	pr.busy = true;
	pr.start = ktime_add_ns(ktime_get(), PROBE_LEAD_NS + lead);
	if (n == 4) {
		/* The next start at @phase, in u32: no 64-bit division. */
		div_u64_rem(ktime_to_ns(pr.start), PROBE_PERIOD_U32, &rem);
		pr.start = ktime_add_ns(pr.start,
					(phase + PROBE_PERIOD_U32 - rem) %
					PROBE_PERIOD_U32);
	}
	hrtimer_start(&pr.timer, ktime_sub_ns(pr.start, lead),
		      HRTIMER_MODE_ABS_HARD);
	mutex_unlock(&pr.lock);
	return count;
}

static const struct file_operations start_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = start_write,
};

static int late_show(struct seq_file *m, void *v)
{
	size_t i;
	int ret = 0;

	mutex_lock(&pr.lock);
	/* Pairs with the timer's release: the records are complete. */
	if (!pr.busy || !smp_load_acquire(&pr.done))
		ret = -EBUSY;
	for (i = 0; !ret && i < pr.n; i++)
		seq_printf(m, "%c %lld\n", pr.kind[i], pr.late[i]);
	mutex_unlock(&pr.lock);
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(late);

static struct dentry *probe_dir;

static int __init probe_init(void)
{
	mutex_init(&pr.lock);
	hrtimer_init(&pr.timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	pr.timer.function = probe_timer;
	probe_dir = debugfs_create_dir("hrservo-timer-probe", NULL);
	debugfs_create_file("start", 0200, probe_dir, NULL, &start_fops);
	debugfs_create_file("late", 0400, probe_dir, NULL, &late_fops);
	return 0;
}
module_init(probe_init);

static void __exit probe_exit(void)
{
	debugfs_remove_recursive(probe_dir);
	mutex_lock(&pr.lock);
	probe_stop();
	mutex_unlock(&pr.lock);
}
module_exit(probe_exit);

MODULE_DESCRIPTION("hrservo-timer-probe: bare hrtimer expiries, the floor of make bench");
MODULE_AUTHOR("The hrservo developers");
MODULE_LICENSE("GPL");
