// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the guest driver tests. Functions return 0 or a negative errno
 * unless their comment says otherwise; they never exit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

int tl_write(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t w;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, s, len);
	if (w < 0)
		ret = -errno;
	else if ((size_t)w != len)
		ret = -EIO;
	close(fd);
	return ret;
}

/* Returns the number of bytes read, or a negative errno. */
int tl_read(const char *path, char *buf, size_t size)
{
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, size - 1);
	close(fd);
	if (r < 0)
		return -errno;
	buf[r] = '\0';
	return (int)r;
}

/* Returns the value, or a negative errno. */
long tl_read_u64(const char *path)
{
	char buf[64];
	int ret = tl_read(path, buf, sizeof(buf));

	return ret < 0 ? ret : strtol(buf, NULL, 0);
}

/* Returns the number of entries of @path whose name starts with @prefix. */
int tl_count_dir(const char *path, const char *prefix)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int n = 0;

	if (!dir)
		return -errno;
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, prefix, strlen(prefix)))
			n++;
	closedir(dir);
	return n;
}

int tl_nr_controllers(void)
{
	return tl_count_dir("/sys/class/hrservo", "hrservo");
}

int tl_nr_gpio_pdevs(void)
{
	return tl_count_dir("/sys/bus/platform/devices", "hrservo-gpio.");
}

int tl_new_device_refused(const char *spec, int err, const char *log,
			  const char *const *also, char *why, size_t size)
{
	int ctrls = tl_nr_controllers(), pdevs = tl_nr_gpio_pdevs();
	int kmsg = tl_kmsg_open(), ret, found;
	size_t k;

	if (kmsg < 0 || ctrls < 0 || pdevs < 0) {
		snprintf(why, size, "input \"%s\": cannot read the kernel log or sysfs",
			 spec);
		return -1;
	}
	tl_log_expect(log);
	for (k = 0; also && also[k]; k++)
		tl_log_expect(also[k]);
	ret = tl_write(TL_GPIO_DRV "/new_device", spec);
	while (also && k--)
		tl_log_expect_end(also[k]);
	tl_log_expect_end(log);
	found = tl_kmsg_find(kmsg, log);
	close(kmsg);
	if (ret != err)
		snprintf(why, size, "input \"%s\": %d, expected %d", spec, ret,
			 err);
	else if (!found)
		snprintf(why, size, "input \"%s\": no log line \"%s\"", spec,
			 log);
	else if (tl_nr_controllers() != ctrls || tl_nr_gpio_pdevs() != pdevs)
		snprintf(why, size, "input \"%s\": a controller or device is left",
			 spec);
	else
		return 0;
	return -1;
}

static int tl_list_pdevs(char names[][64], int max)
{
	struct dirent *d;
	DIR *dir = opendir(TL_GPIO_DRV);
	int n = 0;

	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && n < max)
		if (!strncmp(d->d_name, "hrservo-gpio.", 13))
			snprintf(names[n++], 64, "%.63s", d->d_name);
	closedir(dir);
	return n;
}

/* The test process that removed the leftovers of earlier tests. */
static pid_t tl_clean_pid;

/*
 * Every test starts from a clean state, whatever an earlier test left: one
 * killed by its timeout never ran its teardown, and its controllers would
 * hold the loopback lines and the i2c-stub addresses. The first controller
 * a test process creates removes every controller it finds.
 */
static void tl_remove_leftovers(void)
{
	char names[64][64], path[128], val[16];
	int n, i, bus;

	if (tl_clean_pid == getpid())
		return;
	tl_clean_pid = getpid();
	n = tl_list_pdevs(names, 64);
	for (i = 0; i < n; i++) {
		fprintf(stderr, "# removing %s, left by an earlier test\n",
			names[i]);
		tl_write(TL_GPIO_DRV "/delete_device", names[i]);
	}
	bus = tl_i2c_bus();
	for (i = 0; bus >= 0 && i < 8; i++) {
		snprintf(path, sizeof(path), "/sys/bus/i2c/devices/%d-%04x",
			 bus, TL_PCA_ADDR + i);
		if (access(path, F_OK))
			continue;
		fprintf(stderr, "# removing i2c device %d-%04x, left by an earlier test\n",
			bus, TL_PCA_ADDR + i);
		snprintf(path, sizeof(path),
			 "/sys/bus/i2c/devices/i2c-%d/delete_device", bus);
		snprintf(val, sizeof(val), "0x%02x", TL_PCA_ADDR + i);
		tl_write(path, val);
	}
}

/* Bracket kernel log lines a test provokes (tests/vm/check-hrservo-log). */
static void tl_log_mark(const char *what, const char *text)
{
	char rec[256];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC), n;

	if (fd < 0)
		return;
	/* One write() is one log record. */
	n = snprintf(rec, sizeof(rec), "hrservo-test: %s %s\n", what, text);
	if (n > 0 && write(fd, rec, (size_t)n) != n)
		fprintf(stderr, "# cannot log to /dev/kmsg: %m\n");
	close(fd);
}

void tl_log_expect(const char *text)
{
	tl_log_mark("expect", text);
}

void tl_log_expect_end(const char *text)
{
	tl_log_mark("expect-end", text);
}

int tl_create_spec(struct tl_ctrl *c, const char *spec)
{
	char before[64][64], after[64][64], path[256];
	int nb, na, i, j, ret;
	struct dirent *d;
	DIR *dir;

	tl_remove_leftovers();
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	nb = tl_list_pdevs(before, 64);
	if (nb < 0)
		return nb;
	ret = tl_write(TL_GPIO_DRV "/new_device", spec);
	if (ret)
		return ret;
	na = tl_list_pdevs(after, 64);
	for (i = 0; i < na && !c->pdev[0]; i++) {
		for (j = 0; j < nb; j++)
			if (!strcmp(after[i], before[j]))
				break;
		if (j == nb)
			snprintf(c->pdev, sizeof(c->pdev), "%.63s", after[i]);
	}
	if (!c->pdev[0])
		return -ENOENT;

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/hrservo",
		 c->pdev);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, "hrservo", 7))
			snprintf(c->name, sizeof(c->name), "%.31s", d->d_name);
	closedir(dir);
	if (!c->name[0])
		return -ENOENT;
	snprintf(c->sysfs, sizeof(c->sysfs), "/sys/class/hrservo/%s", c->name);
	snprintf(path, sizeof(path), "/dev/%s", c->name);
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	return c->fd < 0 ? -errno : 0;
}

enum tl_backend tl_backend(void)
{
	const char *s = getenv("HRSERVO_TEST_BACKEND");

	if (s && !strcmp(s, "pca9685"))
		return TL_PCA9685;
	return s && !strcmp(s, "gpiod") ? TL_GPIOD : TL_GPIO;
}

const char *tl_backend_name(void)
{
	static const char *const names[] = {
		[TL_GPIO] = "hrservo-gpio",
		[TL_PCA9685] = "hrservo-pca9685",
		[TL_GPIOD] = "gpiod",
	};

	return names[tl_backend()];
}

/* The register model of a PCA9685 made by tl_create(), for the capture. */
struct tl_pca_model {
	int used;
	unsigned int addr;
	unsigned int first_line;
	int id;			/* M of hrservoM */
	uint8_t reg[256];	/* the chip's registers, as written */
	uint32_t osc_hz;
	int open;		/* a frame started at @sched, not closed yet */
	uint64_t sched;
};

static struct tl_pca_model tl_pcas[TL_PCA_CHIPS];

int tl_create(struct tl_ctrl *c, unsigned int first_line, unsigned int n)
{
	char spec[64];
	int ret;

	if (tl_backend() == TL_PCA9685) {
		unsigned int k = first_line / 16;

		if (k >= TL_PCA_CHIPS || n > 16)
			return -EINVAL;
		ret = tl_pca_create(c, TL_PCA_ADDR + k);
		c->first_line = first_line;
		if (!ret) {
			memset(&tl_pcas[k], 0, sizeof(tl_pcas[k]));
			tl_pcas[k].used = 1;
			tl_pcas[k].addr = TL_PCA_ADDR + k;
			tl_pcas[k].first_line = first_line;
			tl_pcas[k].id = atoi(c->name + 7);
		}
		return ret;
	}
	if (tl_backend() == TL_GPIOD) {
		/* The library's controller: hrservo_open(c->name) makes it. */
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "gpiod:" TL_LB_LABEL ":%u-%u",
			 first_line, first_line + n - 1);
		c->first_line = first_line;
		c->nchannels = n;
		c->fd = -1;
		return 0;
	}
	snprintf(spec, sizeof(spec), TL_LB_LABEL " %u-%u", first_line,
		 first_line + n - 1);
	ret = tl_create_spec(c, spec);
	c->first_line = first_line;
	c->nchannels = n;
	return ret;
}

int tl_destroy(struct tl_ctrl *c)
{
	unsigned int bus, addr;
	char path[128], val[16];
	int ret = 0;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (sscanf(c->pdev, "%u-%x", &bus, &addr) == 2) {
		snprintf(path, sizeof(path),
			 "/sys/bus/i2c/devices/i2c-%u/delete_device", bus);
		snprintf(val, sizeof(val), "0x%02x", addr);
		ret = tl_write(path, val);
		if (addr >= TL_PCA_ADDR && addr < TL_PCA_ADDR + TL_PCA_CHIPS)
			tl_pcas[addr - TL_PCA_ADDR].used = 0;
	} else if (c->pdev[0]) {
		ret = tl_write(TL_GPIO_DRV "/delete_device", c->pdev);
	}
	c->pdev[0] = '\0';
	return ret;
}

/* Returns the number of the i2c-stub adapter, or a negative errno. */
int tl_i2c_bus(void)
{
	char path[128], name[64];
	struct dirent *d;
	int bus = -ENODEV;
	DIR *dir = opendir("/sys/bus/i2c/devices");

	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "i2c-", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/i2c/devices/%.64s/name",
			 d->d_name);
		if (tl_read(path, name, sizeof(name)) > 0 &&
		    !strncmp(name, "SMBus stub", 10)) {
			bus = atoi(d->d_name + 4);
			break;
		}
	}
	closedir(dir);
	return bus;
}

/* A PCA9685 controller at @addr on the stub's bus, through new_device. */
int tl_pca_create(struct tl_ctrl *c, unsigned int addr)
{
	char path[256], spec[64];
	int bus = tl_i2c_bus(), ret;
	struct dirent *d;
	DIR *dir;

	tl_remove_leftovers();
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (bus < 0)
		return bus;
	snprintf(path, sizeof(path), "/sys/bus/i2c/devices/i2c-%d/new_device",
		 bus);
	snprintf(spec, sizeof(spec), "hrservo-pca9685 0x%02x", addr);
	ret = tl_write(path, spec);
	if (ret)
		return ret;
	snprintf(c->pdev, sizeof(c->pdev), "%d-%04x", bus, addr);
	snprintf(path, sizeof(path), "/sys/bus/i2c/devices/%s/hrservo",
		 c->pdev);
	dir = opendir(path);
	if (dir) {
		while ((d = readdir(dir)))
			if (!strncmp(d->d_name, "hrservo", 7))
				snprintf(c->name, sizeof(c->name), "%.31s",
					 d->d_name);
		closedir(dir);
	}
	if (!c->name[0]) {
		tl_destroy(c);	/* the device stays without a driver */
		return -ENODEV;
	}
	c->nchannels = 16;
	snprintf(c->sysfs, sizeof(c->sysfs), "/sys/class/hrservo/%s", c->name);
	snprintf(path, sizeof(path), "/dev/%s", c->name);
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	return c->fd < 0 ? -errno : 0;
}

/* /dev/i2c-N of the stub, talking to @addr even while a driver holds it. */
int tl_i2c_open(unsigned int addr)
{
	char path[64];
	int bus = tl_i2c_bus(), fd;

	if (bus < 0)
		return bus;
	snprintf(path, sizeof(path), "/dev/i2c-%d", bus);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, I2C_SLAVE_FORCE, (unsigned long)addr)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* One register byte, or a negative errno. */
int tl_i2c_read(int fd, unsigned int reg)
{
	union i2c_smbus_data data;
	struct i2c_smbus_ioctl_data args = {
		.read_write = I2C_SMBUS_READ,
		.command = (uint8_t)reg,
		.size = I2C_SMBUS_BYTE_DATA,
		.data = &data,
	};

	if (ioctl(fd, I2C_SMBUS, &args))
		return -errno;
	return data.byte;
}

/* LEDn_ON and LEDn_OFF of channel @ch, 13 bits each. */
int tl_pca_led(int fd, unsigned int ch, unsigned int *on, unsigned int *off)
{
	int b[4];

	for (int i = 0; i < 4; i++) {
		b[i] = tl_i2c_read(fd, 6 + 4 * ch + i);
		if (b[i] < 0)
			return b[i];
	}
	*on = (unsigned int)(b[0] | b[1] << 8);
	*off = (unsigned int)(b[2] | b[3] << 8);
	return 0;
}

int tl_trace_enable(const char *const *events, int on)
{
	char path[256];
	int ret;

	for (; *events; events++) {
		snprintf(path, sizeof(path), TL_TRACE "/events/%s/enable",
			 *events);
		ret = tl_write(path, on ? "1" : "0");
		if (ret)
			return ret;
	}
	return tl_write(TL_TRACE "/tracing_on", "1");
}

/* Empty the trace buffer (opening "trace" with O_TRUNC does it). */
void tl_trace_clear(void)
{
	int fd = open(TL_TRACE "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
}

/* Consume the trace buffer; returns its text (caller frees) or NULL. */
char *tl_trace_read(void)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), *nb;
	int fd = open(TL_TRACE "/trace_pipe", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static const char *const tl_pca_events[] = {
	"hrservo/hrservo_frame", "smbus/smbus_write", NULL
};

/* Start the PCA capture: trace on, empty, registers read from the chips. */
static void tl_pca_capture_clear(void)
{
	char path[256];

	tl_trace_enable(tl_pca_events, 1);
	tl_trace_clear();
	for (int k = 0; k < TL_PCA_CHIPS; k++) {
		struct tl_pca_model *m = &tl_pcas[k];
		int fd, bus = tl_i2c_bus();

		if (!m->used)
			continue;
		m->open = 0;
		fd = tl_i2c_open(m->addr);
		if (fd < 0)
			continue;
		for (int r = 0; r < 256; r++) {
			int v = tl_i2c_read(fd, (unsigned int)r);

			m->reg[r] = v < 0 ? 0 : (uint8_t)v;
		}
		close(fd);
		snprintf(path, sizeof(path),
			 "/sys/bus/i2c/devices/%d-%04x/oscillator_hz", bus,
			 m->addr);
		m->osc_hz = (uint32_t)tl_read_u64(path);
	}
}

static int tl_push(struct tl_edge **e, size_t *n, size_t *cap,
		   struct tl_edge x)
{
	struct tl_edge *ne;

	if (*n == *cap) {
		ne = realloc(*e, *cap * 2 * sizeof(**e));
		if (!ne)
			return -ENOMEM;
		*e = ne;
		*cap *= 2;
	}
	(*e)[(*n)++] = x;
	return 0;
}

/* The pulses of the frame that began at m->sched, from the registers. */
static int tl_pca_close_frame(struct tl_pca_model *m, struct tl_edge **e,
			      size_t *n, size_t *cap)
{
	unsigned int pre = m->reg[0xfe];

	if (!m->open || (m->reg[0] & 0x10) || !m->osc_hz)
		return 0;	/* no frame, or the chip sleeps */
	m->open = 0;
	for (unsigned int ch = 0; ch < 16; ch++) {
		const uint8_t *r = &m->reg[6 + 4 * ch];
		unsigned int on = r[0] | r[1] << 8, off = r[2] | r[3] << 8;
		unsigned int counts = ((off & 0xfff) + 4096 - (on & 0xfff)) %
				      4096;
		uint64_t w;

		if ((off & 0x1000) || (on & 0x1000) || !counts)
			continue;
		w = tl_pca_width(m->osc_hz, (int)pre, counts);
		if (tl_push(e, n, cap, (struct tl_edge){ m->sched,
			    m->first_line + ch, 1 }) ||
		    tl_push(e, n, cap, (struct tl_edge){ m->sched + w,
			    m->first_line + ch, 0 }))
			return -ENOMEM;
	}
	return 0;
}

static struct tl_pca_model *tl_pca_by_id(int id)
{
	for (int k = 0; k < TL_PCA_CHIPS; k++)
		if (tl_pcas[k].used && tl_pcas[k].id == id)
			return &tl_pcas[k];
	return NULL;
}

static struct tl_pca_model *tl_pca_by_addr(unsigned int addr)
{
	for (int k = 0; k < TL_PCA_CHIPS; k++)
		if (tl_pcas[k].used && tl_pcas[k].addr == addr)
			return &tl_pcas[k];
	return NULL;
}

/* Apply one smbus_write trace line ("... l=N [aa-bb-...]") to the model. */
static void tl_pca_apply(struct tl_pca_model *m, unsigned int cmd,
			 const char *proto, const char *p)
{
	unsigned int b[40], nb = 0;
	const char *q = strchr(p, '[');

	if (!q)
		return;
	for (q++; nb < 40 && sscanf(q, "%2x", &b[nb]) == 1; nb++) {
		q += 2;
		if (*q != '-')
			break;
		q++;
	}
	nb += nb < 40;
	if (!strcmp(proto, "BYTE_DATA") && nb >= 1) {
		m->reg[cmd & 0xff] = (uint8_t)b[0];
	} else if (!strcmp(proto, "I2C_BLOCK_DATA") && nb >= 1) {
		/* b[0] is the length byte. */
		for (unsigned int i = 1; i < nb && i <= b[0]; i++)
			m->reg[(cmd + i - 1) & 0xff] = (uint8_t)b[i];
	}
}

static int tl_edge_cmp(const void *a, const void *b)
{
	const struct tl_edge *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (int)x->line - (int)y->line;
}

static size_t tl_pca_capture(struct tl_edge **edges)
{
	size_t n = 0, cap = 1024;
	struct tl_edge *e = malloc(cap * sizeof(*e));
	char *text = tl_trace_read(), *line, *save;

	*edges = NULL;
	if (!e || !text) {
		free(e);
		free(text);
		return 0;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p, proto[32];
		unsigned int bus, addr, flags, cmd, len;
		long long sched;
		unsigned long long seq;
		struct tl_pca_model *m;
		int id;

		if ((p = strstr(line, "hrservo_frame: ")) &&
		    sscanf(p, "hrservo_frame: hrservo%d seq=%llu scheduled=%lld",
			   &id, &seq, &sched) == 3) {
			m = tl_pca_by_id(id);
			if (!m)
				continue;
			if (tl_pca_close_frame(m, &e, &n, &cap))
				break;
			m->open = 1;
			m->sched = (uint64_t)sched;
		} else if ((p = strstr(line, "smbus_write: ")) &&
			   sscanf(p, "smbus_write: i2c-%u a=%x f=%x c=%x %31s l=%u",
				  &bus, &addr, &flags, &cmd, proto, &len) == 6) {
			m = tl_pca_by_addr(addr);
			if (m && (int)bus == tl_i2c_bus())
				tl_pca_apply(m, cmd, proto, p);
		}
	}
	for (int k = 0; k < TL_PCA_CHIPS; k++)
		if (tl_pcas[k].used)
			tl_pca_close_frame(&tl_pcas[k], &e, &n, &cap);
	free(text);
	/* In time order, as the loopback chip records them. */
	qsort(e, n, sizeof(*e), tl_edge_cmp);
	*edges = e;
	return n;
}

int tl_attr(const struct tl_ctrl *c, const char *attr, char *buf, size_t size)
{
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", c->sysfs, attr);
	ret = tl_read(path, buf, size);
	if (ret > 0 && buf[ret - 1] == '\n')
		buf[ret - 1] = '\0';
	return ret < 0 ? ret : 0;
}

int tl_set_attr(const struct tl_ctrl *c, const char *attr, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", c->sysfs, attr);
	return tl_write(path, val);
}

int tl_set(int fd, const struct hrservo_target *t, unsigned int n)
{
	struct hrservo_targets req = {
		.targets = (uintptr_t)t,
		.count = n,
	};

	return ioctl(fd, HRSERVO_IOC_SET_TARGETS, &req) ? -errno : 0;
}

int tl_set1(int fd, unsigned int ch, unsigned int pulse_ns)
{
	struct hrservo_target t = { .channel = ch, .pulse_ns = pulse_ns };

	return tl_set(fd, &t, 1);
}

int tl_release(int fd, uint64_t mask)
{
	struct hrservo_release req = { .mask = mask };

	return ioctl(fd, HRSERVO_IOC_RELEASE, &req) ? -errno : 0;
}

int tl_state(int fd, unsigned int ch, struct hrservo_channel_state *st)
{
	struct hrservo_state_req req = {
		.states = (uintptr_t)st,
		.first = ch,
		.count = 1,
	};

	return ioctl(fd, HRSERVO_IOC_GET_STATE, &req) ? -errno : 0;
}

void tl_capture_clear(void)
{
	if (tl_backend() == TL_PCA9685)
		tl_pca_capture_clear();
	else
		tl_write(TL_LB_DIR "/clear", "1");
}

/* The datasheet: PRE_SCALE = round(f_osc / (4096 * f)) - 1. */
int tl_pca_prescale(double osc_hz, double period_ns)
{
	return (int)floor(osc_hz * period_ns / 1e9 / 4096.0 + 0.5) - 1;
}

/* Ticks of f_osc / (PRE_SCALE + 1) nearest to @ns, 1..4095. */
unsigned int tl_pca_counts(double osc_hz, int prescale, double ns)
{
	double c = floor(ns * osc_hz / ((prescale + 1) * 1e9) + 0.5);

	return c < 1 ? 1 : c > 4095 ? 4095 : (unsigned int)c;
}

/* The width of @counts ticks, rounded to the ns. */
unsigned int tl_pca_width(double osc_hz, int prescale, unsigned int counts)
{
	return (unsigned int)floor(counts * (prescale + 1) * 1e9 / osc_hz + 0.5);
}

/*
 * The pulse width the backend of @c really emits for @ns: @ns itself on the
 * loopback chip; on a PCA9685, the nearest whole number of counter ticks at
 * the chip's PRE_SCALE.
 */
uint32_t tl_emitted_ns(const struct tl_ctrl *c, uint32_t ns)
{
	char path[256], buf[32];
	double osc;
	int pre;

	if (!strncmp(c->pdev, "hrservo-gpio.", 13))
		return ns;
	snprintf(path, sizeof(path), "/sys/bus/i2c/devices/%s/oscillator_hz",
		 c->pdev);
	osc = (double)tl_read_u64(path);
	if (tl_attr(c, "frame_period_ns", buf, sizeof(buf)))
		return 0;
	pre = tl_pca_prescale(osc, strtod(buf, NULL));
	return tl_pca_width(osc, pre, tl_pca_counts(osc, pre, ns));
}

/* A width as servoctl prints it: "1500us", "1498.16us". */
const char *tl_fmt_ns(uint32_t ns, char *buf, size_t size)
{
	int n;

	if (ns % 1000 == 0) {
		snprintf(buf, size, "%uus", ns / 1000);
		return buf;
	}
	n = snprintf(buf, size, "%u.%03u", ns / 1000, ns % 1000);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	snprintf(buf + n, size - (size_t)n, "us");
	return buf;
}

/* The loopback chip's capture. */
static size_t tl_lb_capture(struct tl_edge **edges)
{
	size_t n = 0, cap = 1024;
	struct tl_edge *e = malloc(cap * sizeof(*e));
	char buf[8192], *line, *save;
	int fd = open(TL_LB_DIR "/events", O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || !e) {
		free(e);
		if (fd >= 0)
			close(fd);
		*edges = NULL;
		return 0;
	}
	/* The file hands out whole lines only, so a read never splits one. */
	while ((r = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[r] = '\0';
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			unsigned long long ts;
			unsigned int l;
			int lv;

			if (sscanf(line, "%llu %u %d", &ts, &l, &lv) != 3)
				continue;
			if (n == cap) {
				cap *= 2;
				e = realloc(e, cap * sizeof(*e));
				if (!e)
					break;
			}
			e[n++] = (struct tl_edge){ ts, l, lv };
		}
		if (!e)
			break;
	}
	close(fd);
	*edges = e;
	return e ? n : 0;
}

/* Read and consume every recorded edge; returns the count. Caller frees. */
size_t tl_capture(struct tl_edge **edges)
{
	if (tl_backend() == TL_PCA9685)
		return tl_pca_capture(edges);
	return tl_lb_capture(edges);
}

/* Consume the capture into @path, in the loopback chip's format. */
int tl_capture_save(const char *path)
{
	struct tl_edge *e;
	size_t n = tl_capture(&e);
	FILE *f = fopen(path, "w");

	if (!f) {
		free(e);
		return -errno;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%llu %u %d\n", (unsigned long long)e[i].ts,
			e[i].line, e[i].level);
	free(e);
	return fclose(f) ? -errno : 0;
}

/*
 * The first @max pulses of @line, in order. A pulse still high at the end
 * of the capture is returned with width 0. Returns the number of pulses
 * stored; a capture with more says so on stderr (a TAP comment), since a
 * caller that reads out[np - 1] as the last pulse then reads another.
 */
size_t tl_pulses(const struct tl_edge *e, size_t n, unsigned int line,
		 struct tl_pulse *out, size_t max)
{
	size_t i, np = 0;
	int high = 0;

	for (i = 0; i < n; i++) {
		if (e[i].line != line)
			continue;
		if (e[i].level && !high) {
			if (np == max) {
				fprintf(stderr,
					"# tl_pulses: line %u has more than %zu pulses; only the first %zu are read\n",
					line, max, max);
				break;
			}
			out[np].rise = e[i].ts;
			out[np].width = 0;
			np++;
		} else if (!e[i].level && high && np) {
			out[np - 1].width = e[i].ts - out[np - 1].rise;
		}
		high = e[i].level;
	}
	return np;
}

uint64_t tl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The RTC's seconds (the host's, in the guest), else the guest's own. */
static uint64_t tl_host_s(void)
{
	long s = tl_read_u64("/sys/class/rtc/rtc0/since_epoch");

	return s > 0 ? (uint64_t)s : tl_now() / 1000000000ULL;
}

void tl_bound_start(struct tl_bound *b, uint64_t guest_ns, unsigned int host_s)
{
	b->guest_end = tl_now() + guest_ns;
	/* A second more: the RTC counts whole seconds. */
	b->host_end = tl_host_s() + host_s + 1;
}

void tl_bound_ms(struct tl_bound *b, unsigned int ms)
{
	tl_bound_start(b, (uint64_t)ms * 1000000ULL, ms / 1000);
}

bool tl_bound_passed(const struct tl_bound *b)
{
	return tl_now() >= b->guest_end && tl_host_s() >= b->host_end;
}

void tl_sleep_until(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / 1000000000ULL),
		.tv_nsec = (long)(t % 1000000000ULL),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

void tl_sleep_ns(uint64_t ns)
{
	tl_sleep_until(tl_now() + ns);
}

/*
 * Tolerance of measured pulse widths: HRSERVO_TOL_NS from the environment,
 * else 10 us, which holds under QEMU with -icount (deterministic guest
 * time, edges ~1 us late), or 100 us on PREEMPT_RT (below). Without -icount,
 * TCG delays timers by 0.1-4 ms.
 */
size_t tl_frames(int fd, uint64_t from, struct hrservo_frame *fr, size_t max)
{
	struct hrservo_frames req;
	size_t n = 0;

	while (n < max) {
		memset(&req, 0, sizeof(req));
		req.frames = (uintptr_t)&fr[n];
		req.seq = from;
		req.count = max - n < HRSERVO_FRAMES_MAX ? max - n :
			    HRSERVO_FRAMES_MAX;
		if (ioctl(fd, HRSERVO_IOC_GET_FRAMES, &req) || !req.count)
			break;
		n += req.count;
		from = req.next_seq;
	}
	return n;
}

uint64_t tl_tolerance_ns(void)
{
	const char *s = getenv("HRSERVO_TOL_NS");
	struct utsname u;

	if (s)
		return strtoull(s, NULL, 0);
	/*
	 * PREEMPT_RT: hrservo-gpio's timer is a soft hrtimer there, and each
	 * falling edge waits for the ktimers thread, so pulses come out longer
	 * by its wake-up time (Documentation/hrservo.rst): measured in the
	 * guest on a loaded host up to 49 us (the first pulse after the clock
	 * started). Tests that detect steps or arrival use thresholds of their
	 * own.
	 */
	if (!uname(&u) && strstr(u.version, "PREEMPT_RT"))
		return 100000;
	return 10000;
}

/* Open the kernel log positioned at its end. */
int tl_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Returns 1 if a kernel log record since tl_kmsg_open() contains @needle. */
int tl_kmsg_find(int fd, const char *needle)
{
	char rec[2048];
	ssize_t r;

	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE)
			continue;
		if (r <= 0)
			return 0;
		rec[r] = '\0';
		/* Not the test's own marks (tl_log_expect()), which quote it. */
		if (strstr(rec, ";hrservo-test: "))
			continue;
		if (strstr(rec, needle))
			return 1;
	}
}

/* Load $HRSERVO_KMOD_DIR/@name.ko (name as in the file, e.g. hrservo-gpio). */
int tl_module_load(const char *name)
{
	const char *dir = getenv("HRSERVO_KMOD_DIR");
	char path[512];
	int fd, ret;

	if (!dir)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = (int)syscall(SYS_finit_module, fd, "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/* Unload a module without waiting (like rmmod); @name as in lsmod. */
int tl_module_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}
