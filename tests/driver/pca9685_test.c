// SPDX-License-Identifier: GPL-2.0
/*
 * The PCA9685 backend on i2c-stub: register values against the datasheet's
 * formulas computed here, the order of the PRE_SCALE sequence and the
 * number of transfers per frame from the smbus trace events, released
 * channels, bus errors (injected by hrservo-i2c-fault), probe and period
 * errors, and removal while in use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U
#define MS	1000000ULL
#define OSC	25000000.0
#define FAULT	"/sys/kernel/debug/hrservo-i2c-fault/fail"

/* Registers of the chip at @addr against @pulse (0: released). */
static void check_regs(struct __test_metadata *_metadata, int i2c, double osc,
		       double period_ns, const unsigned int *pulse)
{
	int pre = tl_pca_prescale(osc, period_ns);

	/* i2c-stub keeps RESTART, which a real chip clears by itself. */
	EXPECT_EQ(0x20, tl_i2c_read(i2c, 0x00) & ~0x80);	/* AI */
	EXPECT_EQ(0x04, tl_i2c_read(i2c, 0x01));		/* OUTDRV */
	EXPECT_EQ(pre, tl_i2c_read(i2c, 0xfe));
	for (unsigned int ch = 0; ch < 16; ch++) {
		unsigned int on, off, want_off;

		ASSERT_EQ(0, tl_pca_led(i2c, ch, &on, &off));
		EXPECT_EQ(ch * 256, on);
		want_off = pulse[ch] ?
			   (on + tl_pca_counts(osc, pre, pulse[ch])) % 4096 :
			   0x1000;
		EXPECT_EQ(want_off, off) {
			TH_LOG("channel %u, pulse %u ns, period %.0f ns", ch,
			       pulse[ch], period_ns);
		}
	}
}

/* One block write of the trace. */
struct xfer {
	double t;
	unsigned int addr, cmd, len;	/* len: data bytes */
	int block;
	unsigned int byte;		/* the value of a byte write */
};

/* Parse smbus_write lines of @text for @addr; returns the count. */
static size_t parse_writes(const char *text, unsigned int addr,
			   struct xfer *x, size_t max)
{
	const char *line = text;
	size_t n = 0;

	while (line && *line && n < max) {
		const char *p = strstr(line, "smbus_write: ");
		const char *eol = strchr(line, '\n');
		unsigned int bus, a, f, cmd, l, b0;
		char proto[32];

		if (p && (!eol || p < eol) &&
		    sscanf(p, "smbus_write: i2c-%u a=%x f=%x c=%x %31s l=%u [%x",
			   &bus, &a, &f, &cmd, proto, &l, &b0) == 7 &&
		    a == addr) {
			const char *ts = p;

			/* "... [000] .....  12.345678: smbus_write:" */
			while (ts > line && ts[-1] != ' ')
				ts--;
			while (ts > line && ts[-1] == ' ')
				ts--;
			while (ts > line && ts[-1] != ' ')
				ts--;
			x[n].t = strtod(ts, NULL);
			x[n].addr = a;
			x[n].cmd = cmd;
			x[n].block = !strcmp(proto, "I2C_BLOCK_DATA");
			x[n].len = x[n].block ? l - 1 : l;
			x[n].byte = b0;
			n++;
		}
		line = eol ? eol + 1 : NULL;
	}
	return n;
}

static size_t count_frames(const char *text, const char *name)
{
	char needle[48];
	size_t n = 0;

	snprintf(needle, sizeof(needle), "hrservo_frame: %s ", name);
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static const char *const events[] = {
	"hrservo/hrservo_frame", "smbus/smbus_write", NULL
};

FIXTURE(pca) {
	struct tl_ctrl c;
	int i2c;
};

FIXTURE_SETUP(pca)
{
	ASSERT_EQ(0, tl_pca_create(&self->c, 0x40));
	self->i2c = tl_i2c_open(0x40);
	ASSERT_LE(0, self->i2c);
	ASSERT_EQ(0, fcntl(self->c.fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, tl_trace_enable(events, 1));
	tl_trace_clear();
}

FIXTURE_TEARDOWN(pca)
{
	close(self->i2c);
	EXPECT_EQ(0, tl_destroy(&self->c));
}

static int set_period(struct tl_ctrl *c, unsigned long long ns)
{
	char v[32];

	snprintf(v, sizeof(v), "%llu", ns);
	return tl_set_attr(c, "frame_period_ns", v);
}

static int dev_attr(struct tl_ctrl *c, const char *attr, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/i2c/devices/%s/%s", c->pdev,
		 attr);
	return tl_write(path, val);
}

static long dev_attr_u64(struct tl_ctrl *c, const char *attr)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/i2c/devices/%s/%s", c->pdev,
		 attr);
	return tl_read_u64(path);
}

/* After probe: every output off, datasheet set-up, 50 Hz. */
TEST_F(pca, registers_at_probe)
{
	unsigned int none[16] = { 0 };
	int pre = tl_pca_prescale(OSC, 20 * MS);

	check_regs(_metadata, self->i2c, OSC, 20 * MS, none);
	EXPECT_EQ(pre, dev_attr_u64(&self->c, "prescale"));
	EXPECT_EQ(lround(4096.0 * (pre + 1) / OSC * 1e9),
		  dev_attr_u64(&self->c, "pwm_period_ns"));
	EXPECT_EQ(25000000, dev_attr_u64(&self->c, "oscillator_hz"));
	EXPECT_EQ(0, dev_attr_u64(&self->c, "bus_errors"));
}

/* Several targets at several frame periods; state reads back honestly. */
TEST_F(pca, targets_and_periods)
{
	static const unsigned long long periods[] = {
		20 * MS, 10 * MS, 5 * MS, 40 * MS, 3 * MS
	};
	struct hrservo_target t[] = {
		{ 0, 1000 * US }, { 5, 1500 * US }, { 9, 2000 * US },
		{ 15, 2400 * US }, { 7, 600 * US },
	};

	for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		unsigned int pulse[16] = { 0 };
		int pre = tl_pca_prescale(OSC, (double)periods[i]);
		struct hrservo_info info;

		ASSERT_EQ(0, set_period(&self->c, periods[i]));
		t[0].pulse_ns = 1000 * US + 37 * US * (unsigned int)i;
		ASSERT_EQ(0, tl_set(self->c.fd, t, 5));
		tl_sleep_ns(4 * periods[i] + 20 * MS);
		for (size_t k = 0; k < 5; k++)
			pulse[t[k].channel] = t[k].pulse_ns;
		check_regs(_metadata, self->i2c, OSC, (double)periods[i], pulse);
		for (size_t k = 0; k < 5; k++) {
			struct hrservo_channel_state st;
			unsigned int w = tl_pca_width(OSC, pre,
						   tl_pca_counts(OSC, pre,
							      t[k].pulse_ns));

			ASSERT_EQ(0, tl_state(self->c.fd, t[k].channel, &st));
			EXPECT_EQ(t[k].pulse_ns, st.target_ns);
			EXPECT_EQ(w, st.pulse_ns);
		}
		ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_INFO, &info));
		EXPECT_EQ((unsigned int)ceil((pre + 1) * 1e9 / OSC),
			  info.resolution_ns);
	}
}

/* PRE_SCALE is written only while SLEEP is set, then the restart. */
TEST_F(pca, prescale_sequence)
{
	unsigned int pulse[16] = { [2] = 1500 * US };
	struct xfer x[256];
	size_t n, i, ps = 0, found = 0;
	char *text;

	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1500 * US));
	tl_sleep_ns(3 * 20 * MS);
	tl_trace_clear();
	ASSERT_EQ(0, set_period(&self->c, 10 * MS));
	tl_sleep_ns(4 * 10 * MS + 20 * MS);
	text = tl_trace_read();
	ASSERT_NE(NULL, text);
	n = parse_writes(text, 0x40, x, 256);
	free(text);
	for (i = 0; i < n; i++) {
		if (x[i].block || x[i].cmd != 0xfe)
			continue;
		found++;
		ps = i;
		EXPECT_EQ(tl_pca_prescale(OSC, 10 * MS), x[i].byte);
	}
	ASSERT_EQ(1, found);
	/* MODE1: SLEEP before, awake after, then RESTART >= 500 us later. */
	ASSERT_LT(0, ps);
	ASSERT_GT(n, ps + 2);
	EXPECT_EQ(0, x[ps - 1].cmd);
	EXPECT_EQ(0x10, x[ps - 1].byte & 0x10);
	EXPECT_EQ(0, x[ps + 1].cmd);
	EXPECT_EQ(0x20, x[ps + 1].byte);
	EXPECT_EQ(0, x[ps + 2].cmd);
	EXPECT_EQ(0xa0, x[ps + 2].byte);
	EXPECT_GE(x[ps + 2].t - x[ps + 1].t, 499e-6);
	/* Then the channel, in counts of the new period. */
	check_regs(_metadata, self->i2c, OSC, 10 * MS, pulse);
}

/* A released channel goes full off; the others keep their pulses. */
TEST_F(pca, released_channel_is_full_off)
{
	unsigned int pulse[16] = { [3] = 1500 * US, [4] = 1200 * US };
	struct hrservo_target t[] = { { 3, 1500 * US }, { 4, 1200 * US } };
	long frames;

	ASSERT_EQ(0, tl_set(self->c.fd, t, 2));
	tl_sleep_ns(3 * 20 * MS);
	check_regs(_metadata, self->i2c, OSC, 20 * MS, pulse);
	ASSERT_EQ(0, tl_release(self->c.fd, 1 << 3));
	tl_sleep_ns(3 * 20 * MS);
	pulse[3] = 0;
	check_regs(_metadata, self->i2c, OSC, 20 * MS, pulse);
	ASSERT_EQ(0, tl_release(self->c.fd, ~0ULL >> 48));
	tl_sleep_ns(3 * 20 * MS);
	pulse[4] = 0;
	check_regs(_metadata, self->i2c, OSC, 20 * MS, pulse);
	/* Nothing left to do: the frame clock stopped. */
	{
		char path[192];

		snprintf(path, sizeof(path), "%s/frame_count", self->c.sysfs);
		frames = tl_read_u64(path);
		tl_sleep_ns(5 * 20 * MS);
		EXPECT_EQ(frames, tl_read_u64(path));
	}
}

/* Only changed channels are written, in the fewest block writes. */
TEST_F(pca, only_changed_channels_are_written)
{
	struct hrservo_target t[16];
	struct xfer x[256];
	size_t n;
	char *text;

	for (unsigned int ch = 0; ch < 16; ch++)
		t[ch] = (struct hrservo_target){ ch, 1000 * US + ch * 50 * US };
	ASSERT_EQ(0, tl_set(self->c.fd, t, 16));
	tl_sleep_ns(3 * 20 * MS);

	/* One channel: one transfer, its two OFF registers. */
	tl_trace_clear();
	ASSERT_EQ(0, tl_set1(self->c.fd, 6, 1777 * US));
	tl_sleep_ns(4 * 20 * MS);
	text = tl_trace_read();
	ASSERT_NE(NULL, text);
	n = parse_writes(text, 0x40, x, 256);
	EXPECT_GE(count_frames(text, self->c.name), 3);
	free(text);
	ASSERT_EQ(1, n);
	EXPECT_TRUE(x[0].block);
	EXPECT_EQ(0x06 + 4 * 6 + 2, x[0].cmd);
	EXPECT_EQ(2, x[0].len);

	/* All sixteen: two transfers of 8 channels (the SMBus block limit). */
	for (unsigned int ch = 0; ch < 16; ch++)
		t[ch].pulse_ns += 10 * US;
	tl_trace_clear();
	ASSERT_EQ(0, tl_set(self->c.fd, t, 16));
	tl_sleep_ns(4 * 20 * MS);
	text = tl_trace_read();
	ASSERT_NE(NULL, text);
	n = parse_writes(text, 0x40, x, 256);
	free(text);
	ASSERT_EQ(2, n);
	EXPECT_EQ(0x06 + 2, x[0].cmd);
	EXPECT_EQ(30, x[0].len);
	EXPECT_EQ(0x06 + 4 * 8 + 2, x[1].cmd);
	EXPECT_EQ(30, x[1].len);

	/* Nothing changes: frames go on, no transfer. */
	tl_trace_clear();
	tl_sleep_ns(5 * 20 * MS);
	text = tl_trace_read();
	ASSERT_NE(NULL, text);
	EXPECT_EQ(0, parse_writes(text, 0x40, x, 256));
	EXPECT_GE(count_frames(text, self->c.name), 4);
	free(text);
}

/* Wait for an event of @type, up to @ms; returns 1 and fills @ev. */
static int wait_event(int fd, uint32_t type, int ms, struct hrservo_event *ev)
{
	uint64_t end = tl_now() + (uint64_t)ms * MS;

	while (tl_now() < end) {
		if (read(fd, ev, sizeof(*ev)) == sizeof(*ev)) {
			if (ev->type == type)
				return 1;
			continue;
		}
		tl_sleep_ns(2 * MS);
	}
	return 0;
}

/* A failed block write: an event, the counter, a rewrite next frame. */
TEST_F(pca, bus_error_is_reported_and_retried)
{
	unsigned int none[16] = { 0 };
	struct hrservo_target t[16];
	struct hrservo_event ev;
	struct xfer x[256];
	size_t n, rewrites = 0;
	char *text;
	int ret;

	ret = tl_module_load("tests/kmod/hrservo-i2c-fault");
	ASSERT_TRUE(ret == 0 || ret == -EEXIST) TH_LOG("load: %d", ret);
	for (unsigned int ch = 0; ch < 16; ch++)
		t[ch] = (struct hrservo_target){ ch, 1500 * US };
	ASSERT_EQ(0, tl_set(self->c.fd, t, 16));
	tl_sleep_ns(3 * 20 * MS);
	while (read(self->c.fd, &ev, sizeof(ev)) == sizeof(ev))
		;

	/* The second block (channels 8-15) of the next frame fails. */
	tl_log_expect("not updated: -5; retrying");
	ASSERT_EQ(0, tl_write(FAULT, "1 1"));
	for (unsigned int ch = 0; ch < 16; ch++)
		t[ch].pulse_ns = 1600 * US;
	tl_trace_clear();
	ASSERT_EQ(0, tl_set(self->c.fd, t, 16));
	ASSERT_EQ(1, wait_event(self->c.fd, HRSERVO_EVENT_FAULT, 1000, &ev));
	EXPECT_EQ(0xff00, ev.mask);
	EXPECT_EQ(EIO, ev.value);
	tl_sleep_ns(3 * 20 * MS);
	EXPECT_EQ(1, dev_attr_u64(&self->c, "bus_errors"));
	text = tl_trace_read();
	ASSERT_NE(NULL, text);
	n = parse_writes(text, 0x40, x, 256);
	free(text);
	/* Channels 8-15 written twice; the second time with their ON too. */
	for (size_t i = 0; i < n; i++)
		if (x[i].block && (x[i].cmd == 0x06 + 4 * 8 + 2 ||
				   x[i].cmd == 0x06 + 4 * 8))
			rewrites++;
	EXPECT_EQ(2, rewrites);
	EXPECT_EQ(0x06 + 4 * 8, x[n - 1].cmd);
	EXPECT_EQ(32, x[n - 1].len);

	/* The last frame fails too: it is retried a period later. */
	ASSERT_EQ(0, tl_write(FAULT, "0 1"));
	tl_trace_clear();
	ASSERT_EQ(0, tl_release(self->c.fd, 0xffff));
	ASSERT_EQ(1, wait_event(self->c.fd, HRSERVO_EVENT_FAULT, 1000, &ev));
	EXPECT_EQ(0x00ff, ev.mask);
	tl_sleep_ns(4 * 20 * MS);
	text = tl_trace_read();
	ASSERT_NE(NULL, text);
	n = parse_writes(text, 0x40, x, 256);
	free(text);
	rewrites = 0;
	for (size_t i = 0; i < n; i++)
		if (x[i].block && x[i].cmd == 0x06)
			rewrites++;
	EXPECT_EQ(1, rewrites);	/* the retry writes ON and OFF of 0-7 */
	EXPECT_EQ(2, dev_attr_u64(&self->c, "bus_errors"));
	tl_log_expect_end("not updated: -5; retrying");
	check_regs(_metadata, self->i2c, OSC, 20 * MS, none);
}

/* Frame periods whose PRE_SCALE falls outside 3..255 are refused. */
TEST_F(pca, period_outside_prescale_range)
{
	char buf[32];

	ASSERT_EQ(tl_pca_prescale(OSC, 45 * MS) > 255, 1);
	EXPECT_EQ(-ERANGE, set_period(&self->c, 45 * MS));
	EXPECT_EQ(-ERANGE, set_period(&self->c, 42025 * 1000ULL));
	ASSERT_EQ(0, tl_attr(&self->c, "frame_period_ns", buf, sizeof(buf)));
	EXPECT_STREQ("20000000", buf);
	/* The longest period that fits: PRE_SCALE 255. */
	ASSERT_EQ(255, tl_pca_prescale(OSC, 42 * MS));
	ASSERT_EQ(0, set_period(&self->c, 42 * MS));
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	tl_sleep_ns(3 * 42 * MS + 20 * MS);
	EXPECT_EQ(255, tl_i2c_read(self->i2c, 0xfe));
	/* An oscillator that would push PRE_SCALE past 255 is refused. */
	ASSERT_GT(tl_pca_prescale(27000000, 42 * MS), 255);
	tl_log_expect("needs PRE_SCALE 276");
	tl_log_expect("oscillator frequency");
	EXPECT_EQ(-ERANGE, dev_attr(&self->c, "oscillator_hz", "27000000"));
	EXPECT_EQ(-ERANGE, dev_attr(&self->c, "oscillator_hz", "22999999"));
	EXPECT_EQ(-ERANGE, dev_attr(&self->c, "oscillator_hz", "27000001"));
	tl_log_expect_end("needs PRE_SCALE 276");
	tl_log_expect_end("oscillator frequency");
	EXPECT_EQ(-EINVAL, dev_attr(&self->c, "oscillator_hz", "fast"));
	EXPECT_EQ(25000000, dev_attr_u64(&self->c, "oscillator_hz"));
	EXPECT_EQ(255, tl_i2c_read(self->i2c, 0xfe));
}

/* A trimmed oscillator: new PRE_SCALE and counts, honest readback. */
TEST_F(pca, oscillator_trim)
{
	const double osc = 24000000.0;
	unsigned int pulse[16] = { [0] = 1500 * US, [11] = 2100 * US };
	struct hrservo_target t[] = { { 0, 1500 * US }, { 11, 2100 * US } };
	struct hrservo_channel_state st;
	int pre = tl_pca_prescale(osc, 20 * MS);

	ASSERT_NE(pre, tl_pca_prescale(OSC, 20 * MS));
	ASSERT_EQ(0, dev_attr(&self->c, "oscillator_hz", "24000000"));
	/* Written at once, even with the frame clock stopped. */
	EXPECT_EQ(pre, tl_i2c_read(self->i2c, 0xfe));
	ASSERT_EQ(0, tl_set(self->c.fd, t, 2));
	tl_sleep_ns(3 * 20 * MS);
	check_regs(_metadata, self->i2c, osc, 20 * MS, pulse);
	ASSERT_EQ(0, tl_state(self->c.fd, 11, &st));
	EXPECT_EQ(tl_pca_width(osc, pre, tl_pca_counts(osc, pre, 2100 * US)),
		  st.pulse_ns);
}

/* No chip at the address: probe fails, nothing is registered. */
TEST(no_chip_at_address)
{
	int before = tl_count_dir("/sys/class/hrservo", "hrservo");
	int kmsg = tl_kmsg_open();
	struct tl_ctrl c;

	ASSERT_LE(0, kmsg);
	tl_log_expect("no PCA9685 answers at 0x47");
	EXPECT_EQ(-ENODEV, tl_pca_create(&c, 0x47));
	tl_log_expect_end("no PCA9685 answers at 0x47");
	EXPECT_EQ(1, tl_kmsg_find(kmsg, "no PCA9685 answers at 0x47"));
	EXPECT_EQ(before, tl_count_dir("/sys/class/hrservo", "hrservo"));
	close(kmsg);
}

/* delete_device while a file is open and a trajectory plays. */
TEST(removal_in_use)
{
	struct hrservo_segment seg = {
		.duration_ns = 2000 * MS, .mask = 0x3,
		.flags = HRSERVO_SEG_LAST,
	};
	int64_t coef[12] = { 1000000LL << 16, 1000000LL << 16, 0, 0, 0, 0,
			     2000000LL << 16, -(1000000LL << 16), 0, 0, 0, 0 };
	struct hrservo_traj req = {
		.segments = (uintptr_t)&seg, .coefs = (uintptr_t)coef,
		.count = 1, .ncoefs = 12, .flags = HRSERVO_TRAJ_JUMP,
	};
	struct hrservo_channel_state st;
	struct hrservo_event ev;
	struct tl_ctrl c;
	int fd, i2c;

	ASSERT_EQ(0, tl_pca_create(&c, 0x41));
	i2c = tl_i2c_open(0x41);
	ASSERT_LE(0, i2c);
	fd = c.fd;
	c.fd = -1;
	ASSERT_EQ(0, ioctl(fd, HRSERVO_IOC_TRAJ_SUBMIT, &req));
	tl_sleep_ns(300 * MS);
	ASSERT_EQ(0, tl_state(fd, 0, &st));
	EXPECT_GT(st.pulse_ns, 1000 * US);
	ASSERT_EQ(0, tl_destroy(&c));
	EXPECT_EQ(-ENODEV, tl_state(fd, 0, &st));
	while (read(fd, &ev, sizeof(ev)) == sizeof(ev))
		if (ev.type == HRSERVO_EVENT_REMOVED)
			break;
	EXPECT_EQ(HRSERVO_EVENT_REMOVED, ev.type);
	close(fd);
	/* Every output full off, the chip asleep. */
	for (unsigned int ch = 0; ch < 16; ch++) {
		unsigned int on, off;

		ASSERT_EQ(0, tl_pca_led(i2c, ch, &on, &off));
		EXPECT_EQ(0x1000, off & 0x1000);
	}
	EXPECT_EQ(0x10, tl_i2c_read(i2c, 0x00) & 0x10);
	close(i2c);
}

/* Level of loopback line @line after the edges captured since last time. */
static int line_level(unsigned int line, int level)
{
	struct tl_edge *e;
	size_t n = tl_capture(&e);

	for (size_t i = 0; i < n; i++)
		if (e[i].line == line)
			level = e[i].level;
	free(e);
	return level;
}

/*
 * The OE line (the loopback chip's line 63, active low): outputs enabled
 * only once a frame with pulses is on the chip, cut at once when everything
 * is released and on removal.
 */
TEST(output_enable_line)
{
	const unsigned int oe = 63;
	char dev[32], path[128];
	struct tl_ctrl c;
	int level = -1;

	snprintf(dev, sizeof(dev), "%d-%04x", tl_i2c_bus(), 0x42);
	ASSERT_EQ(0, tl_write(TL_LB_DIR "/oe_dev", dev));
	tl_write(TL_LB_DIR "/clear", "1");
	ASSERT_EQ(0, tl_pca_create(&c, 0x42));
	level = line_level(oe, level);
	EXPECT_EQ(1, level);		/* high: outputs off */
	ASSERT_EQ(0, tl_set1(c.fd, 0, 1500 * US));
	tl_sleep_ns(3 * 20 * MS);
	level = line_level(oe, level);
	EXPECT_EQ(0, level);		/* low: outputs on */
	ASSERT_EQ(0, tl_release(c.fd, 1));
	tl_sleep_ns(3 * 20 * MS);
	level = line_level(oe, level);
	EXPECT_EQ(1, level);
	ASSERT_EQ(0, tl_set1(c.fd, 5, 1200 * US));
	tl_sleep_ns(3 * 20 * MS);
	level = line_level(oe, level);
	EXPECT_EQ(0, level);
	ASSERT_EQ(0, tl_destroy(&c));
	level = line_level(oe, level);
	EXPECT_EQ(1, level);
	/* The next PCA9685 at 0x42 gets no OE line. */
	snprintf(path, sizeof(path), "%s", "none");
	EXPECT_EQ(0, tl_write(TL_LB_DIR "/oe_dev", path));
}

TEST_HARNESS_MAIN
