/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the guest driver tests: controllers on the loopback GPIO chip,
 * its edge capture, and the hrservo ioctls.
 */
#ifndef HRSERVO_TESTLIB_H
#define HRSERVO_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/hrservo.h"

#define TL_GPIO_DRV	"/sys/bus/platform/drivers/hrservo-gpio"
#define TL_LB_DIR	"/sys/kernel/debug/hrservo-loopback"
#define TL_LB_LABEL	"hrservo-loopback"
#define TL_FRAME_NS	20000000ULL

#define TL_PCA_DRV	"/sys/bus/i2c/drivers/hrservo-pca9685"
#define TL_TRACE	"/sys/kernel/tracing"
/* i2c-stub answers at 0x40..0x43: tl_create() uses 0x40 + first_line / 16. */
#define TL_PCA_ADDR	0x40
#define TL_PCA_CHIPS	4

/*
 * The backend of the controllers tl_create() makes, from the environment
 * variable HRSERVO_TEST_BACKEND: "gpio" (default: the loopback GPIO chip,
 * whose debugfs capture records every edge) or "pca9685" (a PCA9685 on
 * i2c-stub; its "capture" is rebuilt from the frame and SMBus trace events:
 * at each frame start, every channel whose registers hold a pulse makes one
 * of the width those registers give), or "gpiod" (no kernel controller:
 * the library's gpiod backend on the same loopback lines, name
 * "gpiod:hrservo-loopback:FIRST-LAST", no fd, no sysfs).
 */
enum tl_backend { TL_GPIO, TL_PCA9685, TL_GPIOD };
enum tl_backend tl_backend(void);
const char *tl_backend_name(void);

/* A controller created through new_device. */
struct tl_ctrl {
	char pdev[64];		/* "hrservo-gpio.N", or the I2C device "B-00AA" */
	char name[32];		/* class device, "hrservoM" */
	char sysfs[128];	/* /sys/class/hrservo/hrservoM */
	unsigned int first_line; /* capture line of channel 0 */
	unsigned int nchannels;	/* channels of the controller */
	int fd;			/* /dev/hrservoM, or -1 */
};

struct tl_edge {
	uint64_t ts;
	unsigned int line;
	int level;
};

struct tl_pulse {
	uint64_t rise;
	uint64_t width;		/* 0 if the pulse had not ended */
};

int tl_write(const char *path, const char *s);
int tl_read(const char *path, char *buf, size_t size);
long tl_read_u64(const char *path);
int tl_count_dir(const char *path, const char *prefix);
/* The controllers, and the hrservo-gpio platform devices, there are now. */
int tl_nr_controllers(void);
int tl_nr_gpio_pdevs(void);
/*
 * Write @spec to hrservo-gpio's new_device expecting @err and the kernel
 * log line @log, and the lines of @also (NULL-terminated, or NULL) marked
 * expected around it for the log check: 0 if it came so and no
 * controller or device is left; else -1, with what went wrong in @why.
 */
int tl_new_device_refused(const char *spec, int err, const char *log,
			  const char *const *also, char *why, size_t size);

int tl_create(struct tl_ctrl *c, unsigned int first_line, unsigned int n);
int tl_create_spec(struct tl_ctrl *c, const char *spec);
int tl_destroy(struct tl_ctrl *c);
int tl_attr(const struct tl_ctrl *c, const char *attr, char *buf, size_t size);
int tl_set_attr(const struct tl_ctrl *c, const char *attr, const char *val);

int tl_set(int fd, const struct hrservo_target *t, unsigned int n);
int tl_set1(int fd, unsigned int ch, unsigned int pulse_ns);
int tl_release(int fd, uint64_t mask);
int tl_state(int fd, unsigned int ch, struct hrservo_channel_state *st);

/* The PCA9685 datasheet's formulas, in doubles: the tests' reference. */
int tl_pca_prescale(double osc_hz, double period_ns);
unsigned int tl_pca_counts(double osc_hz, int prescale, double ns);
unsigned int tl_pca_width(double osc_hz, int prescale, unsigned int counts);

uint32_t tl_emitted_ns(const struct tl_ctrl *c, uint32_t ns);
const char *tl_fmt_ns(uint32_t ns, char *buf, size_t size);

void tl_capture_clear(void);
int tl_capture_save(const char *path);
size_t tl_capture(struct tl_edge **edges);
size_t tl_pulses(const struct tl_edge *e, size_t n, unsigned int line,
		 struct tl_pulse *out, size_t max);

/* Frames of the frame record from @from (0: the oldest kept), up to @max. */
size_t tl_frames(int fd, uint64_t from, struct hrservo_frame *fr, size_t max);

uint64_t tl_now(void);
/*
 * A bound that holds when guest time jumps: under -icount guest time runs
 * ahead while the guest waits on the host (9p), so a bound of guest time
 * alone fires early on a loaded host. It passes once @guest_ns of guest
 * time and @host_s of the host's have gone by; the host's clock is QEMU's
 * RTC, which follows the host under -icount (the guest's own without one).
 */
struct tl_bound {
	uint64_t guest_end;
	uint64_t host_end;
};
void tl_bound_start(struct tl_bound *b, uint64_t guest_ns, unsigned int host_s);
/* The same @ms of guest time and of the host's (whole seconds of it). */
void tl_bound_ms(struct tl_bound *b, unsigned int ms);
bool tl_bound_passed(const struct tl_bound *b);
void tl_sleep_ns(uint64_t ns);
void tl_sleep_until(uint64_t t);
uint64_t tl_tolerance_ns(void);

int tl_kmsg_open(void);
/*
 * Kernel log warning and error lines of the hrservo modules fail the run
 * (tests/vm/check-hrservo-log), unless the test that provokes them says
 * so: lines containing @text, between these two calls, are expected.
 */
void tl_log_expect(const char *text);
void tl_log_expect_end(const char *text);
/* 1 if a kernel log record since @fd was opened, not a mark, has @needle. */
int tl_kmsg_find(int fd, const char *needle);

int tl_module_load(const char *name);

/* PCA9685 on i2c-stub: the stub's bus, and its registers over /dev/i2c-N. */
int tl_i2c_bus(void);
int tl_pca_create(struct tl_ctrl *c, unsigned int addr);
int tl_i2c_open(unsigned int addr);
int tl_i2c_read(int fd, unsigned int reg);
int tl_pca_led(int fd, unsigned int ch, unsigned int *on, unsigned int *off);

/* ftrace: enable "system/event" names (NULL-terminated), clear, read all. */
int tl_trace_enable(const char *const *events, int on);
void tl_trace_clear(void);
char *tl_trace_read(void);
int tl_module_unload(const char *name);

#endif
