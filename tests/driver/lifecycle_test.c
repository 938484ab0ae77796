// SPDX-License-Identifier: GPL-2.0
/*
 * Controller lifecycle: bad new_device and delete_device input, and removal
 * (delete_device, rmmod) under an open file with pulses running.
 *
 * Needs HRSERVO_KMOD_DIR, the directory of the freshly built modules, to
 * reload what it unloads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U

struct bad_input {
	const char *spec;
	int err;
	const char *log;
};

TEST(new_device_bad_input)
{
	static const struct bad_input bad[] = {
		{ "no-such-chip 1", -ENODEV, "no GPIO chip labelled \"no-such-chip\"" },
		{ TL_LB_LABEL " 64", -EINVAL, "offset 64 out of range, chip \"hrservo-loopback\" has 64 lines" },
		{ TL_LB_LABEL " 3 4 3", -EINVAL, "offset listed twice" },
		{ TL_LB_LABEL " 1-3,2", -EINVAL, "offset listed twice" },
		{ TL_LB_LABEL " two", -EINVAL, "expected \"CHIP-LABEL OFFSET...\"" },
		{ TL_LB_LABEL, -EINVAL, "expected \"CHIP-LABEL OFFSET...\"" },
		{ "\n", -EINVAL, "expected \"CHIP-LABEL OFFSET...\"" },
		{ TL_LB_LABEL " 5-2", -ERANGE, "offset too large or range reversed" },
		{ TL_LB_LABEL " 99999999999", -ERANGE, "offset too large or range reversed" },
		{ TL_LB_LABEL " 0-64", -E2BIG, "too many lines" },
	};
	char why[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(0, tl_new_device_refused(bad[i].spec, bad[i].err,
						   bad[i].log, NULL, why,
						   sizeof(why))) {
			TH_LOG("%s", why);
		}
}

/* A line already held by another controller: the probe error comes back. */
TEST(new_device_line_busy)
{
	struct tl_ctrl a;
	int ctrls, pdevs, kmsg;

	ASSERT_EQ(0, tl_create(&a, 40, 2));
	ctrls = tl_nr_controllers();
	pdevs = tl_nr_gpio_pdevs();
	kmsg = tl_kmsg_open();
	tl_log_expect("cannot get the servo GPIO lines");
	tl_log_expect("failed with error -16");
	tl_log_expect("controller not created (-16)");
	EXPECT_EQ(-EBUSY, tl_write(TL_GPIO_DRV "/new_device",
				   TL_LB_LABEL " 39 40"));
	tl_log_expect_end("cannot get the servo GPIO lines");
	tl_log_expect_end("failed with error -16");
	tl_log_expect_end("controller not created (-16)");
	EXPECT_TRUE(tl_kmsg_find(kmsg, "controller not created (-16)"));
	close(kmsg);
	EXPECT_EQ(ctrls, tl_nr_controllers());
	EXPECT_EQ(pdevs, tl_nr_gpio_pdevs());
	EXPECT_EQ(0, tl_destroy(&a));
	/* Line 39 is free again. */
	ASSERT_EQ(0, tl_create(&a, 39, 2));
	EXPECT_EQ(0, tl_destroy(&a));
}

/* Lines of a chip that can sleep cannot be driven from the hrtimer. */
TEST(new_device_sleeping_lines)
{
	int ctrls = tl_nr_controllers(), pdevs = tl_nr_gpio_pdevs(), kmsg;

	kmsg = tl_kmsg_open();
	ASSERT_LE(0, kmsg);
	tl_log_expect("line 0 can sleep");
	tl_log_expect("failed with error -22");
	tl_log_expect("controller not created (-22)");
	EXPECT_EQ(-EINVAL, tl_write(TL_GPIO_DRV "/new_device",
				    "hrservo-loopback-sleepy 0-1"));
	tl_log_expect_end("line 0 can sleep");
	tl_log_expect_end("failed with error -22");
	tl_log_expect_end("controller not created (-22)");
	EXPECT_TRUE(tl_kmsg_find(kmsg, "line 0 can sleep"));
	close(kmsg);
	EXPECT_EQ(ctrls, tl_nr_controllers());
	EXPECT_EQ(pdevs, tl_nr_gpio_pdevs());
}

TEST(delete_device_bad_input)
{
	tl_log_expect("delete_device: ");
	EXPECT_EQ(-EINVAL, tl_write(TL_GPIO_DRV "/delete_device", "junk"));
	EXPECT_EQ(-EINVAL, tl_write(TL_GPIO_DRV "/delete_device",
				    "hrservo-gpio"));
	EXPECT_EQ(-EINVAL, tl_write(TL_GPIO_DRV "/delete_device",
				    "hrservo-gpio.x"));
	EXPECT_EQ(-ENOENT, tl_write(TL_GPIO_DRV "/delete_device",
				    "hrservo-gpio.999"));
	tl_log_expect_end("delete_device: ");
}

/* Every pulse that started also ended, at its full width. */
static void check_no_cut_pulse(struct __test_metadata *_metadata,
			       unsigned int line, uint64_t width)
{
	struct tl_pulse p[512];
	struct tl_edge *e;
	size_t n, np;

	n = tl_capture(&e);
	np = tl_pulses(e, n, line, p, 512);
	ASSERT_GT(np, 1);
	for (size_t i = 0; i < np; i++) {
		EXPECT_LE(p[i].width > width ? p[i].width - width :
			  width - p[i].width, tl_tolerance_ns()) {
			TH_LOG("pulse %zu of %zu: width %llu", i, np,
			       (unsigned long long)p[i].width);
		}
	}
	free(e);
}

TEST(delete_device_while_open)
{
	struct hrservo_info info;
	struct tl_ctrl c;
	char pdev[64];
	int fd;

	ASSERT_EQ(0, tl_create(&c, 48, 4));
	tl_capture_clear();
	ASSERT_EQ(0, tl_set1(c.fd, 1, 1800 * US));
	tl_sleep_ns(3 * TL_FRAME_NS + 700 * US);
	fd = c.fd;
	c.fd = -1;
	snprintf(pdev, sizeof(pdev), "%s", c.pdev);
	ASSERT_EQ(0, tl_destroy(&c));

	check_no_cut_pulse(_metadata, 49, 1800 * US);
	EXPECT_EQ(-1, ioctl(fd, HRSERVO_IOC_GET_INFO, &info));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-ENODEV, tl_set1(fd, 1, 1500 * US));
	EXPECT_EQ(-ENODEV, tl_release(fd, 1));
	tl_sleep_ns(2 * TL_FRAME_NS);
	{
		struct tl_edge *e;
		size_t n = tl_capture(&e);

		EXPECT_EQ(0, n);
		for (size_t i = 0; i < n && i < 8; i++)
			TH_LOG("edge after removal: %llu line %u level %d",
			       (unsigned long long)e[i].ts, e[i].line,
			       e[i].level);
		free(e);
	}
	close(fd);
	tl_log_expect("delete_device: no device");
	EXPECT_EQ(-ENOENT, tl_write(TL_GPIO_DRV "/delete_device", pdev));
	tl_log_expect_end("delete_device: no device");
}

/*
 * rmmod of the backend while a file is open and pulses run; the core stays
 * pinned by the open file until it is closed.
 */
TEST(rmmod_while_open)
{
	struct hrservo_info info;
	struct tl_ctrl c;
	/* hrservo-pca9685 uses hrservo too: out of the way for this test. */
	bool pca = tl_module_unload("hrservo_pca9685") == 0;

	ASSERT_EQ(0, tl_create(&c, 56, 2));
	tl_capture_clear();
	ASSERT_EQ(0, tl_set1(c.fd, 0, 1200 * US));
	tl_sleep_ns(3 * TL_FRAME_NS + 500 * US);

	ASSERT_EQ(0, tl_module_unload("hrservo_gpio"));
	check_no_cut_pulse(_metadata, 56, 1200 * US);
	EXPECT_EQ(-1, ioctl(c.fd, HRSERVO_IOC_GET_INFO, &info));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, tl_nr_controllers());

	EXPECT_EQ(-EWOULDBLOCK, tl_module_unload("hrservo"));
	close(c.fd);
	EXPECT_EQ(0, tl_module_unload("hrservo"));

	/* Both come back and work. */
	ASSERT_EQ(0, tl_module_load("hrservo"));
	ASSERT_EQ(0, tl_module_load("hrservo-gpio"));
	if (pca)
		ASSERT_EQ(0, tl_module_load("hrservo-pca9685"));
	ASSERT_EQ(0, tl_create(&c, 56, 2));
	EXPECT_EQ(0, tl_set1(c.fd, 0, 1200 * US));
	EXPECT_EQ(0, tl_destroy(&c));
}

TEST_HARNESS_MAIN
