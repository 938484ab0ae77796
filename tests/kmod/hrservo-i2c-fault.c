// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-i2c-fault: bus errors on demand for the PCA9685 tests.
 *
 * A kretprobe on i2c-stub's transfer function makes chosen SMBus I2C block
 * writes return -EIO, as a chip that NAKs would. The stub has already stored
 * the bytes by then; what the test checks is the driver's reaction: the
 * fault event, the counter, and the rewrite at the next frame.
 *
 * debugfs, hrservo-i2c-fault/:
 *   fail      write "SKIP COUNT": let SKIP block writes pass, fail the next
 *             COUNT; read: the number of failures injected so far
 *
 * Load after i2c-stub. Test-only: built, never installed.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/i2c.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/uaccess.h>

static atomic_t fault_skip = ATOMIC_INIT(0);
static atomic_t fault_count = ATOMIC_INIT(0);
static atomic_t fault_injected = ATOMIC_INIT(0);
static struct dentry *fault_dir;

/* stub_xfer(adap, addr, flags, read_write, command, size, data) */
static int fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (regs_get_kernel_argument(regs, 3) != I2C_SMBUS_WRITE ||
	    regs_get_kernel_argument(regs, 5) != I2C_SMBUS_I2C_BLOCK_DATA)
		return 1;	/* not ours: no return handler */
	if (atomic_add_unless(&fault_skip, -1, 0))
		return 1;
	if (!atomic_add_unless(&fault_count, -1, 0))
		return 1;
	return 0;
}

static int fault_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	regs_set_return_value(regs, -EIO);
	atomic_inc(&fault_injected);
	return 0;
}

static struct kretprobe fault_probe = {
	.kp.symbol_name = "stub_xfer",
	.entry_handler = fault_entry,
	.handler = fault_ret,
	.maxactive = 4,
};

static ssize_t fault_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	char buf[32];
	int skip, count;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%d %d", &skip, &count) != 2 || skip < 0 || count < 0)
		return -EINVAL;
	atomic_set(&fault_count, 0);
	atomic_set(&fault_skip, skip);
	atomic_set(&fault_count, count);
	return len;
}

static ssize_t fault_read(struct file *file, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	char buf[16];
	int n = scnprintf(buf, sizeof(buf), "%d\n",
			  atomic_read(&fault_injected));

	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations fault_fops = {
	.owner = THIS_MODULE,
	.read = fault_read,
	.write = fault_write,
	.llseek = default_llseek,
};

static int __init fault_init(void)
{
	int ret = register_kretprobe(&fault_probe);

	if (ret) {
		pr_err("hrservo-i2c-fault: cannot probe stub_xfer (is i2c-stub loaded?): %d\n",
		       ret);
		return ret;
	}
	fault_dir = debugfs_create_dir("hrservo-i2c-fault", NULL);
	debugfs_create_file("fail", 0600, fault_dir, NULL, &fault_fops);
	return 0;
}
module_init(fault_init);

static void __exit fault_exit(void)
{
	debugfs_remove_recursive(fault_dir);
	unregister_kretprobe(&fault_probe);
}
module_exit(fault_exit);

MODULE_DESCRIPTION("hrservo test fault injection: failing i2c-stub block writes");
MODULE_LICENSE("GPL");
