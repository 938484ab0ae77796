// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-i2c-fault: bus errors on demand for the PCA9685 tests.
 *
 * It stands between i2c-stub's adapter and its algorithm: its smbus_xfer
 * calls the stub's, then makes chosen SMBus I2C block writes return -EIO,
 * as a chip that NAKs would. The stub has already stored the bytes by then;
 * what the test checks is the driver's reaction: the fault event, the
 * counter, and the rewrite at the next frame. The algorithm is swapped
 * under the adapter's bus lock, which every transfer takes, so it works
 * alike on every architecture (no kprobes, no calling convention).
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
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define STUB_NAME	"SMBus stub driver"

static atomic_t fault_skip = ATOMIC_INIT(0);
static atomic_t fault_count = ATOMIC_INIT(0);
static atomic_t fault_injected = ATOMIC_INIT(0);
static struct dentry *fault_dir;
static struct i2c_adapter *fault_adap;
/* The stub's algorithm, and ours: a copy with smbus_xfer wrapped. */
static const struct i2c_algorithm *stub_algo;
static struct i2c_algorithm fault_algo;

static int fault_xfer(struct i2c_adapter *adap, u16 addr, unsigned short flags,
		      char read_write, u8 command, int size,
		      union i2c_smbus_data *data)
{
	int ret = stub_algo->smbus_xfer(adap, addr, flags, read_write, command,
					size, data);

	if (ret || read_write != I2C_SMBUS_WRITE ||
	    size != I2C_SMBUS_I2C_BLOCK_DATA)
		return ret;
	if (atomic_add_unless(&fault_skip, -1, 0))
		return ret;
	if (!atomic_add_unless(&fault_count, -1, 0))
		return ret;
	atomic_inc(&fault_injected);
	return -EIO;
}

static int fault_find(struct device *dev, void *data)
{
	struct i2c_adapter *adap = i2c_verify_adapter(dev);

	if (adap && !strcmp(adap->name, STUB_NAME)) {
		*(int *)data = adap->nr;
		return 1;
	}
	return 0;
}

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
	int nr = -1;

	i2c_for_each_dev(&nr, fault_find);
	fault_adap = nr >= 0 ? i2c_get_adapter(nr) : NULL;
	if (!fault_adap) {
		pr_err("hrservo-i2c-fault: no \"" STUB_NAME "\" adapter (is i2c-stub loaded?)\n");
		return -ENODEV;
	}
	i2c_lock_bus(fault_adap, I2C_LOCK_ROOT_ADAPTER);
	stub_algo = fault_adap->algo;
	fault_algo = *stub_algo;
	fault_algo.smbus_xfer = fault_xfer;
	fault_adap->algo = &fault_algo;
	i2c_unlock_bus(fault_adap, I2C_LOCK_ROOT_ADAPTER);
	fault_dir = debugfs_create_dir("hrservo-i2c-fault", NULL);
	debugfs_create_file("fail", 0600, fault_dir, NULL, &fault_fops);
	return 0;
}
module_init(fault_init);

static void __exit fault_exit(void)
{
	debugfs_remove_recursive(fault_dir);
	i2c_lock_bus(fault_adap, I2C_LOCK_ROOT_ADAPTER);
	fault_adap->algo = stub_algo;
	i2c_unlock_bus(fault_adap, I2C_LOCK_ROOT_ADAPTER);
	i2c_put_adapter(fault_adap);
}
module_exit(fault_exit);

MODULE_DESCRIPTION("hrservo test fault injection: failing i2c-stub block writes");
MODULE_LICENSE("GPL");
