// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the guest driver tests. Functions return 0 or a negative errno
 * unless their comment says otherwise; they never exit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
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

int tl_create_spec(struct tl_ctrl *c, const char *spec)
{
	char before[64][64], after[64][64], path[256];
	int nb, na, i, j, ret;
	struct dirent *d;
	DIR *dir;

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

int tl_create(struct tl_ctrl *c, unsigned int first_line, unsigned int n)
{
	char spec[64];
	int ret;

	snprintf(spec, sizeof(spec), TL_LB_LABEL " %u-%u", first_line,
		 first_line + n - 1);
	ret = tl_create_spec(c, spec);
	c->first_line = first_line;
	return ret;
}

int tl_destroy(struct tl_ctrl *c)
{
	int ret = 0;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->pdev[0])
		ret = tl_write(TL_GPIO_DRV "/delete_device", c->pdev);
	c->pdev[0] = '\0';
	return ret;
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
	tl_write(TL_LB_DIR "/clear", "1");
}

/* Read and consume every recorded edge; returns the count. Caller frees. */
size_t tl_capture(struct tl_edge **edges)
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

/*
 * The pulses of @line, in order. A pulse still high at the end of the
 * capture is returned with width 0. Returns the number of pulses.
 */
size_t tl_pulses(const struct tl_edge *e, size_t n, unsigned int line,
		 struct tl_pulse *out, size_t max)
{
	size_t i, np = 0;
	int high = 0;

	for (i = 0; i < n; i++) {
		if (e[i].line != line)
			continue;
		if (e[i].level && !high && np < max) {
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
 * 10 us by default, which holds under QEMU with -icount (deterministic guest
 * time, edges ~1 us late). Without -icount, TCG delays timers by 0.1-4 ms.
 */
uint64_t tl_tolerance_ns(void)
{
	const char *s = getenv("HRSERVO_TOL_NS");

	return s ? strtoull(s, NULL, 0) : 10000;
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
