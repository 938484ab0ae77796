// SPDX-License-Identifier: GPL-2.0
/*
 * A controller described by ACPI (tests/acpi/hrservo-ssdt.asl, loaded by
 * run-guest --acpi-table, run by tests/vm/guest-acpi): PRP0001 with the
 * device-tree compatible and properties in _DSD, channel nodes as _DSD
 * hierarchical data. The expected values below are that table's. Checks
 * that the controller bound with its ACPI companion, that each property was
 * applied as from device tree, and measures the initial pulse of channel 0
 * on the loopback chip (lines 60..62, mapped by guest-acpi).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U
#define MAXP	64

FIXTURE(acpi) {
	char sysfs[128];
};

FIXTURE_SETUP(acpi)
{
	char path[256], real[PATH_MAX];
	struct dirent *d;
	DIR *dd = opendir("/sys/class/hrservo");

	ASSERT_NE(NULL, dd);
	self->sysfs[0] = '\0';
	while ((d = readdir(dd))) {
		if (strncmp(d->d_name, "hrservo", 7))
			continue;
		snprintf(path, sizeof(path), "/sys/class/hrservo/%.32s/device",
			 d->d_name);
		if (realpath(path, real) && strstr(real, "/PRP0001:00"))
			snprintf(self->sysfs, sizeof(self->sysfs),
				 "/sys/class/hrservo/%.32s", d->d_name);
	}
	closedir(dd);
	ASSERT_NE(0, self->sysfs[0]) {
		TH_LOG("no controller bound to the ACPI device PRP0001:00");
	}
}

FIXTURE_TEARDOWN(acpi)
{
}

static long attr(const char *sysfs, const char *a)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", sysfs, a);
	return tl_read_u64(path);
}

static void label_eq(struct __test_metadata *_metadata, const char *sysfs,
		     unsigned int ch, const char *want)
{
	char path[256], buf[96];
	int r;

	snprintf(path, sizeof(path), "%s/channel%u/label", sysfs, ch);
	r = tl_read(path, buf, sizeof(buf));
	ASSERT_LT(0, r);
	if (buf[r - 1] == '\n')
		buf[r - 1] = '\0';
	EXPECT_STREQ(want, buf);
}

TEST_F(acpi, bound_through_its_companion)
{
	char path[256];

	/* The driver matched the _DSD compatible through PRP0001. */
	snprintf(path, sizeof(path), "%s/device/firmware_node", self->sysfs);
	EXPECT_EQ(0, access(path, F_OK));
	snprintf(path, sizeof(path), "%s/device/driver", self->sysfs);
	EXPECT_EQ(0, access(path, F_OK));
	EXPECT_EQ(3, attr(self->sysfs, "channels"));
}

TEST_F(acpi, dsd_properties_applied)
{
	EXPECT_EQ(10000000, attr(self->sysfs, "frame_period_ns"));
	EXPECT_EQ(0, tl_read_u64("/sys/bus/platform/devices/PRP0001:00/coalesce_ns"));
	label_eq(_metadata, self->sysfs, 0, "shoulder");
	EXPECT_EQ(700000, attr(self->sysfs, "channel0/min_ns"));
	EXPECT_EQ(2300000, attr(self->sysfs, "channel0/max_ns"));
	EXPECT_EQ(2000000, attr(self->sysfs, "channel0/max_speed_ns_per_s"));
	EXPECT_EQ(0, attr(self->sysfs, "channel0/max_accel_ns_per_s2"));
	EXPECT_EQ(1, attr(self->sysfs, "channel0/enable"));
	EXPECT_EQ(1500000, attr(self->sysfs, "channel0/target_ns"));
	/* No node: the defaults, off. */
	label_eq(_metadata, self->sysfs, 1, "");
	EXPECT_EQ(500000, attr(self->sysfs, "channel1/min_ns"));
	EXPECT_EQ(2500000, attr(self->sysfs, "channel1/max_ns"));
	EXPECT_EQ(0, attr(self->sysfs, "channel1/enable"));
	label_eq(_metadata, self->sysfs, 2, "gripper");
	EXPECT_EQ(8000000, attr(self->sysfs, "channel2/max_accel_ns_per_s2"));
	EXPECT_EQ(0, attr(self->sysfs, "channel2/enable"));
}

TEST_F(acpi, initial_pulse_measured)
{
	struct tl_pulse p[MAXP], q[MAXP];
	uint64_t tol = tl_tolerance_ns();
	struct tl_edge *e;
	size_t n, np;

	tl_capture_clear();
	tl_sleep_ns(5 * 10000000ULL);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 60, p, MAXP);
	EXPECT_EQ(0, tl_pulses(e, n, 61, q, MAXP));
	EXPECT_EQ(0, tl_pulses(e, n, 62, q, MAXP));
	free(e);
	ASSERT_LE(3, np);
	if (!p[np - 1].width)
		np--;
	for (size_t i = 0; i < np; i++) {
		EXPECT_LE(llabs((long long)p[i].width - 1500LL * US), tol) {
			TH_LOG("pulse %zu: %llu ns", i,
			       (unsigned long long)p[i].width);
		}
		if (i)
			EXPECT_LE(llabs((long long)(p[i].rise - p[i - 1].rise) -
					10000000LL), tol);
	}
}

TEST_HARNESS_MAIN
