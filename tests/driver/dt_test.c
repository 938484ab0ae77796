// SPDX-License-Identifier: GPL-2.0
/*
 * Controllers bound from device tree (the arm64 guest, tests/vm/
 * run-guest-arm64, with dts/hrservo-gpio-example.dtso on the virt machine's
 * PL061 and tests/dt/arm64-loopback.dtso on the loopback chip).
 *
 * Reads every hrservo,gpio-servo node of the live tree itself and checks
 * that a controller bound to each, with each property applied: the frame
 * period, the number of lines, each channel node's label, limits and
 * initial state, the defaults elsewhere. Measures pulses: on the loopback
 * chip (the initial pulse of its node, and a pulse set by a test), and on
 * the PL061 from the edge trace events (nothing can watch those pins).
 * Skips where the tree has no such node.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U
#define DT	"/sys/firmware/devicetree/base"

/* A controller bound from device tree. */
struct dt_ctrl {
	char sysfs[128];	/* /sys/class/hrservo/hrservoN */
	char node[PATH_MAX];	/* its device's of_node directory */
	char name[64];		/* the node's name */
	int id;
};

/* Read a whole property; return its length or a negative errno. */
static int dt_prop(const char *node, const char *prop, void *buf, size_t size)
{
	char path[PATH_MAX + 64];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", node, prop);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, size);
	close(fd);
	return r < 0 ? -errno : (int)r;
}

/* A u32 property (big-endian in the tree), or @def if absent. */
static long dt_u32(const char *node, const char *prop, long def)
{
	unsigned char b[4];
	int r = dt_prop(node, prop, b, sizeof(b));

	if (r != 4)
		return r == -ENOENT ? def : -1;
	return (long)((uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
}

static int is_servo_node(const char *node)
{
	char compat[256];
	int r = dt_prop(node, "compatible", compat, sizeof(compat) - 1);

	if (r <= 0)
		return 0;
	compat[r] = '\0';
	/* The first string of the list. */
	return !strcmp(compat, "hrservo,gpio-servo");
}

/* Count the hrservo,gpio-servo nodes under @dir, recursively. */
static int count_nodes(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	int n = 0;
	DIR *dd = opendir(dir);

	if (!dd)
		return 0;
	while ((d = readdir(dd))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n += is_servo_node(path) + count_nodes(path);
	}
	closedir(dd);
	return n;
}

/* The controllers whose backend device has a device-tree node. */
static int dt_ctrls(struct dt_ctrl *c, int max)
{
	char path[256], real[PATH_MAX];
	struct dirent *d;
	int n = 0;
	DIR *dd = opendir("/sys/class/hrservo");

	if (!dd)
		return 0;
	while ((d = readdir(dd)) && n < max) {
		if (strncmp(d->d_name, "hrservo", 7))
			continue;
		snprintf(path, sizeof(path), "/sys/class/hrservo/%.32s/device/of_node",
			 d->d_name);
		if (!realpath(path, real) || !is_servo_node(real))
			continue;
		snprintf(c[n].sysfs, sizeof(c[n].sysfs), "/sys/class/hrservo/%.32s",
			 d->d_name);
		snprintf(c[n].node, sizeof(c[n].node), "%s", real);
		snprintf(c[n].name, sizeof(c[n].name), "%s",
			 strrchr(real, '/') + 1);
		c[n].id = atoi(d->d_name + 7);
		n++;
	}
	closedir(dd);
	return n;
}

static long attr(const struct dt_ctrl *c, const char *a)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", c->sysfs, a);
	return tl_read_u64(path);
}

static int attr_str(const struct dt_ctrl *c, const char *a, char *buf,
		    size_t size)
{
	char path[256];
	int r;

	snprintf(path, sizeof(path), "%s/%s", c->sysfs, a);
	r = tl_read(path, buf, size);
	if (r > 0 && buf[r - 1] == '\n')
		buf[--r] = '\0';
	return r;
}

static int find(struct dt_ctrl *all, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(all[i].name, name))
			return i;
	return -1;
}

FIXTURE(dt) {
	struct dt_ctrl c[8];
	int n;
};

FIXTURE_SETUP(dt)
{
	if (!count_nodes(DT))
		SKIP(return, "no hrservo,gpio-servo node in the device tree");
	self->n = dt_ctrls(self->c, 8);
}

FIXTURE_TEARDOWN(dt)
{
}

/* A controller for every node, and for nothing else. */
TEST_F(dt, every_node_binds)
{
	EXPECT_EQ(count_nodes(DT), self->n);
	/* The two overlays of the arm64 guest. */
	EXPECT_LE(0, find(self->c, self->n, "servo-loopback"));
	EXPECT_LE(2, self->n);
}

/* Each node's properties, read from the tree, are the controller's. */
TEST_F(dt, properties_applied)
{
	for (int i = 0; i < self->n; i++) {
		const struct dt_ctrl *c = &self->c[i];
		unsigned char gpios[64 * 12];
		char buf[128], want[128], ch[PATH_MAX + 32], a[64];
		long nlines;
		int r;

		TH_LOG("%s (%s)", c->name, c->sysfs);
		EXPECT_EQ(dt_u32(c->node, "frame-period-ns", 20000000),
			  attr(c, "frame_period_ns"));
		nlines = dt_prop(c->node, "servo-gpios", gpios, sizeof(gpios));
		ASSERT_LT(0, nlines);
		/* phandle and two cells per line */
		EXPECT_EQ(nlines / 12, attr(c, "channels"));
		for (long k = 0; k < nlines / 12; k++) {
			snprintf(ch, sizeof(ch), "%s/channel@%lx", c->node, k);
			if (access(ch, F_OK))
				snprintf(ch, sizeof(ch), "%s/none", c->node);
			snprintf(a, sizeof(a), "channel%ld/min_ns", k);
			EXPECT_EQ(dt_u32(ch, "min-pulse-ns", 500000), attr(c, a));
			snprintf(a, sizeof(a), "channel%ld/max_ns", k);
			EXPECT_EQ(dt_u32(ch, "max-pulse-ns", 2500000), attr(c, a));
			snprintf(a, sizeof(a), "channel%ld/max_speed_ns_per_s", k);
			EXPECT_EQ(dt_u32(ch, "max-speed-ns-per-s", 0), attr(c, a));
			snprintf(a, sizeof(a), "channel%ld/max_accel_ns_per_s2", k);
			EXPECT_EQ(dt_u32(ch, "max-accel-ns-per-s2", 0), attr(c, a));
			/* On only with an initial pulse: nothing else moves at boot. */
			snprintf(a, sizeof(a), "channel%ld/enable", k);
			EXPECT_EQ(dt_u32(ch, "initial-pulse-ns", 0) ? 1 : 0,
				  attr(c, a)) {
				TH_LOG("channel %ld", k);
			}
			if (dt_u32(ch, "initial-pulse-ns", 0) > 0) {
				snprintf(a, sizeof(a), "channel%ld/target_ns", k);
				EXPECT_EQ(dt_u32(ch, "initial-pulse-ns", 0),
					  attr(c, a));
			}
			snprintf(a, sizeof(a), "channel%ld/label", k);
			ASSERT_LE(0, attr_str(c, a, buf, sizeof(buf)));
			r = dt_prop(ch, "label", want, sizeof(want) - 1);
			/* The property holds its NUL. */
			want[r > 0 ? r - 1 : 0] = '\0';
			EXPECT_STREQ(want, buf) {
				TH_LOG("channel %ld", k);
			}
		}
	}
}

#define MAXP	64

static void expect_pulses(struct __test_metadata *_metadata,
			  const struct tl_edge *e, size_t n, unsigned int line,
			  uint64_t width, uint64_t period)
{
	struct tl_pulse p[MAXP];
	uint64_t tol = tl_tolerance_ns();
	size_t np = tl_pulses(e, n, line, p, MAXP);

	ASSERT_LE(3, np) {
		TH_LOG("line %u: %zu pulses", line, np);
	}
	if (!p[np - 1].width)
		np--;
	for (size_t i = 0; i < np; i++) {
		EXPECT_LE(llabs((long long)p[i].width - (long long)width), tol) {
			TH_LOG("line %u pulse %zu: %llu ns, want %llu", line, i,
			       (unsigned long long)p[i].width,
			       (unsigned long long)width);
		}
		if (i)
			EXPECT_LE(llabs((long long)(p[i].rise - p[i - 1].rise) -
					(long long)period), tol);
	}
}

/* The loopback node: its initial pulse, then a pulse set through the ABI. */
TEST_F(dt, loopback_node_pulses)
{
	struct tl_pulse q[MAXP];
	struct tl_edge *e;
	char path[160];
	int k = find(self->c, self->n, "servo-loopback");
	size_t n;
	int fd;

	ASSERT_LE(0, k);
	tl_capture_clear();
	tl_sleep_ns(5 * 10000000ULL);
	n = tl_capture(&e);
	/* channel@0's initial-pulse-ns, at its node's 10 ms period. */
	expect_pulses(_metadata, e, n, 60, 1500 * US, 10000000);
	EXPECT_EQ(0, tl_pulses(e, n, 61, q, MAXP));
	free(e);

	snprintf(path, sizeof(path), "/dev/hrservo%d", self->c[k].id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tl_set1(fd, 1, 1000 * US));
	tl_sleep_ns(2 * 10000000ULL);
	tl_capture_clear();
	tl_sleep_ns(5 * 10000000ULL);
	n = tl_capture(&e);
	expect_pulses(_metadata, e, n, 61, 1000 * US, 10000000);
	expect_pulses(_metadata, e, n, 60, 1500 * US, 10000000);
	free(e);
	/* Beyond the node's max-pulse-ns: refused. */
	EXPECT_EQ(-ERANGE, tl_set1(fd, 0, 2400 * US));
	EXPECT_EQ(0, tl_release(fd, 1ULL << 1));
	close(fd);
}

/* A controller on the PL061: its edges, from the trace events. */
TEST_F(dt, pl061_node_pulses)
{
	static const char *const events[] = { "hrservo/hrservo_edge", NULL };
	unsigned long long seq, mask, rise_seq = 0;
	long long sched, late, rise = -1;
	uint64_t tol = tl_tolerance_ns();
	char path[160], want[32], *text, *l;
	int k, level, id, fd, widths = 0;

	for (k = 0; k < self->n; k++) {
		unsigned char b[16];

		/* The example overlay's, on the PL061. */
		if (strcmp(self->c[k].name, "servo-loopback") &&
		    dt_prop(self->c[k].node, "servo-gpios", b, sizeof(b)) > 0)
			break;
	}
	if (k == self->n)
		SKIP(return, "no controller on the PL061");
	snprintf(path, sizeof(path), "/dev/hrservo%d", self->c[k].id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tl_trace_enable(events, 1));
	ASSERT_EQ(0, tl_set1(fd, 0, 1200 * US));
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_trace_clear();
	tl_sleep_ns(5 * TL_FRAME_NS);
	text = tl_trace_read();
	ASSERT_EQ(0, tl_release(fd, 1));
	tl_trace_enable(events, 0);
	close(fd);
	ASSERT_NE(NULL, text);
	snprintf(want, sizeof(want), "hrservo%d ", self->c[k].id);
	for (l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char *s = strstr(l, "hrservo_edge: ");

		if (!s || strncmp(s + 14, want, strlen(want)))
			continue;
		if (sscanf(s + 14, "hrservo%d seq=%llu level=%d mask=%llx scheduled=%lld late=%lld",
			   &id, &seq, &level, &mask, &sched, &late) != 6 ||
		    !(mask & 1))
			continue;
		if (level) {
			rise = sched + late;
			rise_seq = seq;
		} else if (rise >= 0 && seq == rise_seq) {
			EXPECT_LE(llabs(sched + late - rise - 1200LL * US), tol) {
				TH_LOG("frame %llu: %lld ns", seq,
				       sched + late - rise);
			}
			widths++;
		}
	}
	free(text);
	EXPECT_LE(3, widths);
}

TEST_HARNESS_MAIN
