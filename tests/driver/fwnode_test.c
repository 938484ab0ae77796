// SPDX-License-Identifier: GPL-2.0
/*
 * Firmware properties: a new_device line's PROPERTY=VALUE and
 * channel@N/PROPERTY=VALUE words become a software node with a child per
 * channel, read by the same probe code as a device-tree node. Checks that
 * each property reaches the controller, that channels start off unless
 * their node has an initial-pulse-ns (then they pulse from the probe on,
 * measured on the loopback chip), that bad properties fail the probe with
 * a message naming the value and the limit and leave nothing behind, and
 * that the nodes go with the controller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U
#define SWNODES	"/sys/kernel/software_nodes"

static void attr_eq(struct __test_metadata *_metadata, const struct tl_ctrl *c,
		    const char *attr, const char *want)
{
	char buf[128];

	ASSERT_EQ(0, tl_attr(c, attr, buf, sizeof(buf))) {
		TH_LOG("%s: cannot read", attr);
	}
	EXPECT_STREQ(want, buf) {
		TH_LOG("%s", attr);
	}
}

static int gpio_attr(const struct tl_ctrl *c, const char *attr, char *buf,
		     size_t size)
{
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/%s",
		 c->pdev, attr);
	ret = tl_read(path, buf, size);
	if (ret > 0 && buf[ret - 1] == '\n')
		buf[ret - 1] = '\0';
	return ret < 0 ? ret : 0;
}

TEST(properties_reach_the_controller)
{
	struct tl_ctrl c;
	char buf[64];

	ASSERT_EQ(0, tl_create_spec(&c, TL_LB_LABEL " 40 41 42"
				    " frame-period-ns=10000000 coalesce-ns=0"
				    " lead-ns=1000000"
				    " channel@1/label=elbow"
				    " channel@1/min-pulse-ns=800000"
				    " channel@1/max-pulse-ns=2200000"
				    " channel@1/max-speed-ns-per-s=1000000"
				    " channel@1/max-accel-ns-per-s2=5000000"
				    " channel@2/label=gripper\n"));
	attr_eq(_metadata, &c, "frame_period_ns", "10000000");
	ASSERT_EQ(0, gpio_attr(&c, "coalesce_ns", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, gpio_attr(&c, "lead_ns", buf, sizeof(buf)));
	EXPECT_STREQ("1000000", buf);
	attr_eq(_metadata, &c, "channel1/label", "elbow");
	attr_eq(_metadata, &c, "channel1/min_ns", "800000");
	attr_eq(_metadata, &c, "channel1/max_ns", "2200000");
	attr_eq(_metadata, &c, "channel1/max_speed_ns_per_s", "1000000");
	attr_eq(_metadata, &c, "channel1/max_accel_ns_per_s2", "5000000");
	attr_eq(_metadata, &c, "channel2/label", "gripper");
	/* A channel without a node keeps the defaults. */
	attr_eq(_metadata, &c, "channel0/label", "");
	attr_eq(_metadata, &c, "channel0/min_ns", "500000");
	attr_eq(_metadata, &c, "channel0/max_ns", "2500000");
	attr_eq(_metadata, &c, "channel0/max_speed_ns_per_s", "0");
	attr_eq(_metadata, &c, "channel2/min_ns", "500000");
	/* The label is the firmware's: read-only. */
	EXPECT_EQ(-EACCES, tl_set_attr(&c, "channel1/label", "wrist"));
	EXPECT_EQ(0, tl_destroy(&c));
}

TEST(defaults_without_properties)
{
	struct tl_ctrl c;
	char buf[64];

	ASSERT_EQ(0, tl_create_spec(&c, TL_LB_LABEL " 40 41"));
	attr_eq(_metadata, &c, "frame_period_ns", "20000000");
	ASSERT_EQ(0, gpio_attr(&c, "coalesce_ns", buf, sizeof(buf)));
	EXPECT_STREQ("2000", buf);
	ASSERT_EQ(0, gpio_attr(&c, "lead_ns", buf, sizeof(buf)));
	EXPECT_STREQ("500000", buf);
	attr_eq(_metadata, &c, "channel1/label", "");
	EXPECT_EQ(0, tl_destroy(&c));
}

/* Nothing moves at probe: no edge on any line of the controller. */
TEST(channels_start_off)
{
	struct tl_edge *e;
	struct tl_ctrl c;
	size_t n, i;

	tl_capture_clear();
	ASSERT_EQ(0, tl_create_spec(&c, TL_LB_LABEL " 40 41 42"
				    " channel@0/label=a channel@1/max-pulse-ns=2000000"));
	tl_sleep_ns(4 * TL_FRAME_NS);
	n = tl_capture(&e);
	for (i = 0; i < n; i++)
		EXPECT_FALSE(e[i].line >= 40 && e[i].line <= 42) {
			TH_LOG("edge on line %u at %llu", e[i].line,
			       (unsigned long long)e[i].ts);
		}
	free(e);
	attr_eq(_metadata, &c, "channel0/enable", "0");
	attr_eq(_metadata, &c, "channel1/enable", "0");
	attr_eq(_metadata, &c, "channel2/enable", "0");
	EXPECT_EQ(0, tl_destroy(&c));
}

#define MAXP	64

/* initial-pulse-ns: that channel pulses from the probe on, the others not. */
TEST(initial_pulse_starts_the_channel)
{
	struct tl_pulse p[MAXP];
	uint64_t tol = tl_tolerance_ns();
	struct tl_edge *e;
	struct tl_ctrl c;
	size_t n, np, i;

	tl_capture_clear();
	ASSERT_EQ(0, tl_create_spec(&c, TL_LB_LABEL " 44 45"
				    " frame-period-ns=10000000"
				    " channel@1/initial-pulse-ns=1200000"));
	attr_eq(_metadata, &c, "channel1/enable", "1");
	attr_eq(_metadata, &c, "channel1/target_ns", "1200000");
	attr_eq(_metadata, &c, "channel0/enable", "0");
	tl_sleep_ns(6 * 10000000ULL);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 45, p, MAXP);
	EXPECT_EQ(0, tl_pulses(e, n, 44, p + np, MAXP - np));
	free(e);
	ASSERT_GE(np, 3);
	if (!p[np - 1].width)
		np--;
	for (i = 0; i < np; i++) {
		EXPECT_LE(llabs((long long)p[i].width - 1200 * US), tol) {
			TH_LOG("pulse %zu: %llu ns", i,
			       (unsigned long long)p[i].width);
		}
		if (i)
			EXPECT_LE(llabs((long long)(p[i].rise - p[i - 1].rise) -
					10000000LL), tol);
	}
	EXPECT_EQ(0, tl_destroy(&c));
}

struct bad_props {
	const char *spec;
	int err;
	const char *log;
	bool probe;		/* refused by the probe, not by the parser */
};

TEST(bad_properties_are_refused)
{
	static const struct bad_props bad[] = {
		{ TL_LB_LABEL " 40 41 bogus=1", -EINVAL,
		  "bogus=1: no such property (the controller has", false },
		{ TL_LB_LABEL " 40 41 channel@1/frame-period-ns=1", -EINVAL,
		  "channel@1/frame-period-ns=1: no such property of a channel", false },
		{ TL_LB_LABEL " 40 41 channel@2/label=x", -EINVAL,
		  "channel@2/label=x: no such channel", false },
		{ TL_LB_LABEL " 40 41 coalesce-ns=12us", -EINVAL,
		  "coalesce-ns=12us: not a number of 0..4294967295", false },
		{ TL_LB_LABEL " 40 coalesce-ns=1 coalesce-ns=2", -EINVAL,
		  "coalesce-ns=2: given twice", false },
		{ TL_LB_LABEL " 40 channel@0/label=", -EINVAL,
		  "expected PROPERTY=VALUE or channel@N/PROPERTY=VALUE", false },
		{ TL_LB_LABEL " 40 channel@40/label=x", -EINVAL,
		  "expected PROPERTY=VALUE or channel@N/PROPERTY=VALUE", false },
		{ TL_LB_LABEL " 40 41 channel@1/min-pulse-ns=2000000"
		  " channel@1/max-pulse-ns=1000000", -ERANGE,
		  "channel@1: pulse limits 2000000..1000000 ns: need 50000 <= min-pulse-ns < max-pulse-ns <= 19900000 (frame period 20000000 ns)",
		  true },
		{ TL_LB_LABEL " 40 frame-period-ns=10000000"
		  " channel@0/max-pulse-ns=9950000", -ERANGE,
		  "channel@0: pulse limits 500000..9950000 ns: need 50000 <= min-pulse-ns < max-pulse-ns <= 9900000 (frame period 10000000 ns)",
		  true },
		{ TL_LB_LABEL " 40 channel@0/initial-pulse-ns=3000000", -ERANGE,
		  "channel@0: initial-pulse-ns 3000000 outside the channel's limits 500000..2500000 ns",
		  true },
		{ TL_LB_LABEL " 40 channel@0/label=a\001b", -EINVAL,
		  "channel@0: label has a control character at byte 1", true },
		{ TL_LB_LABEL " 40 frame-period-ns=1000", -EINVAL,
		  "frame-period-ns 1000 (2500000..50000000) or coalesce-ns", true },
		{ TL_LB_LABEL " 40 coalesce-ns=50001", -EINVAL,
		  "coalesce-ns 50001 (0..50000) out of range", true },
		{ TL_LB_LABEL " 40 lead-ns=5000001", -EINVAL,
		  "lead-ns 5000001 out of range (0..5000000)", true },
	};
	/* A probe that fails says so after the property's own line. */
	static const char *const probe[] = {
		"failed with error -", "cannot register the controller",
		"controller not created", NULL
	};
	char why[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(0, tl_new_device_refused(bad[i].spec, bad[i].err,
						   bad[i].log,
						   bad[i].probe ? probe : NULL,
						   why, sizeof(why))) {
			TH_LOG("%s", why);
		}
		/* No software node left behind either. */
		EXPECT_EQ(0, tl_count_dir(SWNODES, "hrservo-gpio.")) {
			TH_LOG("input \"%s\"", bad[i].spec);
		}
	}
}

/* The software nodes live as long as the controller, and names come back. */
TEST(nodes_go_with_the_controller)
{
	char path[256];
	struct tl_ctrl c;

	for (int round = 0; round < 2; round++) {
		ASSERT_EQ(0, tl_create_spec(&c, TL_LB_LABEL " 40 41"
					    " channel@1/label=elbow"));
		snprintf(path, sizeof(path), SWNODES "/%s", c.pdev);
		EXPECT_EQ(0, access(path, F_OK)) {
			TH_LOG("no %s", path);
		}
		EXPECT_EQ(1, tl_count_dir(path, "channel@1"));
		attr_eq(_metadata, &c, "channel1/label", "elbow");
		EXPECT_EQ(0, tl_destroy(&c));
		EXPECT_NE(0, access(path, F_OK)) {
			TH_LOG("%s still there", path);
		}
	}
}

TEST_HARNESS_MAIN
