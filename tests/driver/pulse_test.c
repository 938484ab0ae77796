// SPDX-License-Identifier: GPL-2.0
/*
 * Pulses as the loopback GPIO chip records them: widths, frame periods, the
 * first target, release, a new target, 32 channels, two controllers.
 *
 * The guest runs with QEMU -icount, so guest time is deterministic and edges
 * land within about 1 us of their schedule; the tolerance (tl_tolerance_ns())
 * is 10 us, against 0.7 us p50 measured by make bench under -icount. These
 * tests check behaviour; make bench measures timing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US		1000U
#define MAXP		256

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/*
 * Check that @line carries at least @min_pulses pulses, every one @width_ns
 * wide and one @period_ns after the previous, within the tolerance.
 */
static void check_line(struct __test_metadata *_metadata,
		       const struct tl_edge *e, size_t n, unsigned int line,
		       uint64_t width_ns, uint64_t period_ns,
		       size_t min_pulses)
{
	struct tl_pulse p[MAXP];
	uint64_t tol = tl_tolerance_ns();
	size_t np = tl_pulses(e, n, line, p, MAXP);

	ASSERT_GE(np, min_pulses) {
		TH_LOG("line %u: %zu pulses, expected >= %zu", line, np,
		       min_pulses);
	}
	/* A pulse still high when the capture was read is not judged. */
	if (np && !p[np - 1].width)
		np--;
	for (size_t i = 0; i < np; i++) {
		ASSERT_LE(absdiff(p[i].width, width_ns), tol) {
			TH_LOG("line %u pulse %zu: width %llu ns, target %llu",
			       line, i, (unsigned long long)p[i].width,
			       (unsigned long long)width_ns);
		}
		if (i) {
			ASSERT_LE(absdiff(p[i].rise - p[i - 1].rise,
					  period_ns), tol) {
				TH_LOG("line %u pulse %zu: period %llu ns", line,
				       i, (unsigned long long)(p[i].rise -
							       p[i - 1].rise));
			}
		}
	}
}

FIXTURE(c8) {
	struct tl_ctrl c;
};

FIXTURE_SETUP(c8)
{
	ASSERT_EQ(0, tl_create(&self->c, 0, 8));
	tl_capture_clear();
}

FIXTURE_TEARDOWN(c8)
{
	EXPECT_EQ(0, tl_destroy(&self->c));
}

TEST_F(c8, widths_equal_targets)
{
	struct hrservo_target t[8];
	struct tl_edge *e;
	size_t n;

	for (unsigned int i = 0; i < 8; i++)
		t[i] = (struct hrservo_target){ i, (600 + 250 * i) * US };
	ASSERT_EQ(0, tl_set(self->c.fd, t, 8));
	tl_sleep_ns(6 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_release(self->c.fd, 0xff));
	tl_sleep_ns(2 * TL_FRAME_NS);

	n = tl_capture(&e);
	for (unsigned int i = 0; i < 8; i++)
		check_line(_metadata, e, n, i, t[i].pulse_ns, TL_FRAME_NS, 5);
	/* All eight lines rise together, in one array call: one timestamp. */
	for (size_t i = 0; i < n; i++) {
		unsigned int together = 0;

		if (!e[i].level)
			continue;
		for (size_t j = 0; j < n; j++)
			together += e[j].level && e[j].ts == e[i].ts;
		ASSERT_EQ(8, together);
	}
	free(e);
}

/*
 * Falling edges within coalesce_ns share one expiry at the group's shortest
 * width: the channel set to 1490 us really makes 1488.6 us, and that is the
 * width it reports; target_ns keeps what was asked for. The two lines fall
 * in one GPIO write (one timestamp).
 */
TEST_F(c8, coalesced_width_is_reported)
{
	struct hrservo_target t[2] = { { 0, 1488600 }, { 1, 1490000 } };
	struct hrservo_channel_state st;
	struct tl_edge *e;
	size_t n, falls = 0;

	ASSERT_EQ(0, tl_set(self->c.fd, t, 2));
	tl_sleep_ns(4 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_state(self->c.fd, 1, &st));
	EXPECT_EQ(1490000, st.target_ns);
	EXPECT_EQ(1488600, st.pulse_ns);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(1488600, st.pulse_ns);
	/* Apart by more than the window: each its own width. */
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1495000));
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_state(self->c.fd, 1, &st));
	EXPECT_EQ(1495000, st.pulse_ns);
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1490000));
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_release(self->c.fd, 0x3));
	tl_sleep_ns(2 * TL_FRAME_NS);
	n = tl_capture(&e);
	for (size_t i = 0; i < n; i++) {
		if (e[i].level || e[i].line != 1)
			continue;
		for (size_t j = 0; j < n; j++)
			if (!e[j].level && e[j].line == 0 && e[j].ts == e[i].ts)
				falls++;
	}
	/* Coalesced in the first 4 frames and the last 3 at least. */
	EXPECT_GE(falls, 5);
	free(e);
}

TEST_F(c8, nothing_before_first_target)
{
	struct tl_edge *e;
	size_t n;

	tl_sleep_ns(5 * TL_FRAME_NS);
	n = tl_capture(&e);
	EXPECT_EQ(0, n);
	free(e);

	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1500 * US));
	tl_sleep_ns(4 * TL_FRAME_NS);
	n = tl_capture(&e);
	ASSERT_GT(n, 4);
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(2, e[i].line);
	check_line(_metadata, e, n, 2, 1500 * US, TL_FRAME_NS, 3);
	free(e);
}

/*
 * Release lands in the middle of a pulse: that pulse still ends at its full
 * width, and no edge follows.
 */
TEST_F(c8, release_finishes_current_pulse)
{
	const uint64_t width = 2000 * US;
	struct tl_pulse p[MAXP];
	uint64_t rel0 = 0, rel1 = 0, tol = tl_tolerance_ns();
	struct tl_edge *e;
	size_t n, np;
	int tries;

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, width));
	for (tries = 0; tries < 5; tries++) {
		tl_sleep_ns(3 * TL_FRAME_NS);
		n = tl_capture(&e);
		np = tl_pulses(e, n, 0, p, MAXP);
		free(e);
		ASSERT_GT(np, 1);
		/* Aim at the middle of a pulse, a few frames ahead. */
		tl_sleep_until(p[np - 1].rise + 3 * TL_FRAME_NS + width / 2);
		rel0 = tl_now();
		ASSERT_EQ(0, tl_release(self->c.fd, 1));
		rel1 = tl_now();
		tl_sleep_ns(3 * TL_FRAME_NS);
		n = tl_capture(&e);
		np = tl_pulses(e, n, 0, p, MAXP);
		ASSERT_GT(np, 0);
		if (p[np - 1].rise < rel0 && p[np - 1].rise + width > rel1) {
			/* The release fell inside the last pulse. */
			EXPECT_LE(absdiff(p[np - 1].width, width), tol);
			EXPECT_EQ(0, e[n - 1].level);
			for (size_t i = 0; i < n; i++)
				EXPECT_LT(e[i].ts, p[np - 1].rise + width + tol);
			free(e);
			break;
		}
		free(e);
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, width));
	}
	ASSERT_LT(tries, 5) TH_LOG("could not release in mid-pulse");
}

/* A new target shows from the next frame on, with no glitched frame. */
TEST_F(c8, new_target_from_next_frame)
{
	struct tl_pulse p[MAXP];
	uint64_t tol = tl_tolerance_ns(), t_set;
	struct tl_edge *e;
	size_t n, np, i, old = 0, new = 0;

	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 1, p, MAXP);
	free(e);
	ASSERT_GT(np, 0);
	/* Between pulses: 10 ms into a frame. */
	tl_sleep_until(p[np - 1].rise + 2 * TL_FRAME_NS + 10000 * US);
	t_set = tl_now();
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 2000 * US));
	tl_sleep_ns(4 * TL_FRAME_NS);

	n = tl_capture(&e);
	np = tl_pulses(e, n, 1, p, MAXP);
	for (i = 0; i < np; i++) {
		if (p[i].rise < t_set) {
			EXPECT_LE(absdiff(p[i].width, 1000 * US), tol);
			old++;
		} else {
			EXPECT_LE(absdiff(p[i].width, 2000 * US), tol);
			new++;
		}
	}
	EXPECT_GE(old, 1);
	EXPECT_GE(new, 3);
	/* The first new pulse starts in the frame right after t_set. */
	for (i = 0; i < np && p[i].rise < t_set; i++)
		;
	ASSERT_LT(i, np);
	EXPECT_LT(p[i].rise - t_set, TL_FRAME_NS - 10000 * US + tol);
	free(e);
}

/* The backend's lead_ns: how long before a frame starts its work is done. */
static uint64_t lead_of(const struct tl_ctrl *c)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/lead_ns",
		 c->pdev);
	if (tl_read(path, buf, sizeof(buf)) <= 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

static int set_lead(const struct tl_ctrl *c, uint64_t ns)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/lead_ns",
		 c->pdev);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ns);
	return tl_write(path, buf);
}

/*
 * Sleep until @before_ns before a frame start a few frames after channel
 * @ch's last captured rise, and return that start (as the rise shows it,
 * within a few us), 0 without a pulse.
 */
static uint64_t before_a_start(unsigned int ch, uint64_t before_ns)
{
	struct tl_pulse p[MAXP];
	struct tl_edge *e;
	uint64_t start;
	size_t n, np;

	tl_sleep_ns(3 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, ch, p, MAXP);
	free(e);
	if (!np)
		return 0;
	start = p[np - 1].rise + 3 * TL_FRAME_NS;
	tl_sleep_until(start - before_ns);
	return start;
}

static const char *const frame_events[] = { "hrservo/hrservo_frame", NULL };

/*
 * From the hrservo_frame trace event: the scheduled start of @c's frame
 * that starts near @start, and when its work was done; 0 if none.
 */
static uint64_t work_of(const struct tl_ctrl *c, uint64_t *start)
{
	char *text = tl_trace_read(), *q = text, needle[48];
	long long sched, late;
	unsigned long long seq;
	uint64_t work = 0;

	snprintf(needle, sizeof(needle), "hrservo_frame: %s ", c->name);
	while (q && (q = strstr(q, needle))) {
		if (sscanf(q + strlen(needle), "seq=%llu scheduled=%lld late=%lld",
			   &seq, &sched, &late) == 3 &&
		    absdiff((uint64_t)sched, *start) < TL_FRAME_NS / 4) {
			*start = (uint64_t)sched;
			work = (uint64_t)(sched + late);
		}
		q++;
	}
	free(text);
	return work;
}

/* The newest frame of the record: its start, and @ch's width in it. */
static uint64_t newest_frame(int fd, unsigned int ch, uint32_t *width,
			     struct hrservo_frame *fr)
{
	size_t nf = tl_frames(fd, 0, fr, HRSERVO_FRAMES_KEPT);

	if (!nf)
		return 0;
	*width = fr[nf - 1].pulse_ns[ch];
	return fr[nf - 1].start_ns;
}

/*
 * The work of a frame is done lead_ns (500 us) before it starts, so that
 * its rising edge only writes the lines. A release made in between still
 * wins: the frame begun with the channel's pulse starts without it, and the
 * frame record and the channel's pulse say so. Until it starts, the record
 * and the pulse show the frame before it.
 */
TEST_F(c8, release_in_the_lead_wins)
{
	struct hrservo_frame *fr = calloc(HRSERVO_FRAMES_KEPT, sizeof(*fr));
	uint64_t lead = lead_of(&self->c), start = 0, work = 0, t0 = 0, t1 = 0;
	uint64_t tol = tl_tolerance_ns(), newest = 0;
	struct hrservo_channel_state st_lead, st;
	struct tl_pulse p[MAXP];
	uint32_t width = 0;
	struct tl_edge *e;
	size_t n, np, nf;
	int tries;

	ASSERT_NE(NULL, fr);
	ASSERT_EQ(500 * US, lead);
	ASSERT_EQ(0, tl_trace_enable(frame_events, 1));
	for (tries = 0; tries < 5; tries++) {
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
		tl_trace_clear();
		start = before_a_start(0, lead / 2);
		t0 = tl_now();
		ASSERT_EQ(0, tl_release(self->c.fd, 1));
		t1 = tl_now();
		ASSERT_EQ(0, tl_state(self->c.fd, 0, &st_lead));
		newest = newest_frame(self->c.fd, 0, &width, fr);
		work = work_of(&self->c, &start);
		/* The frame's work done, the release after it, then the start. */
		if (work && work < t0 && tl_now() < start)
			break;
	}
	tl_trace_enable(frame_events, 0);
	ASSERT_LT(tries, 5) TH_LOG("no release landed in the lead of a frame");
	TH_LOG("work %llu us before the start, release %llu us before",
	       (unsigned long long)(start - work) / 1000,
	       (unsigned long long)(start - t1) / 1000);
	/* In the lead: the frame playing is the one before. */
	EXPECT_EQ(start - TL_FRAME_NS, newest);
	EXPECT_EQ(1500 * US, width);
	EXPECT_EQ(1500 * US, st_lead.pulse_ns);
	tl_sleep_until(start + 5000 * US);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(0, st.pulse_ns);
	tl_sleep_ns(2 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 0, p, MAXP);
	ASSERT_GT(np, 0);
	EXPECT_LT(p[np - 1].rise, start - TL_FRAME_NS / 2);
	EXPECT_LE(absdiff(p[np - 1].width, 1500 * US), tol);
	free(e);
	nf = tl_frames(self->c.fd, 0, fr, HRSERVO_FRAMES_KEPT);
	for (size_t i = 0; i < nf; i++)
		if (fr[i].start_ns == start)
			EXPECT_EQ(0, fr[i].pulse_ns[0]);
	free(fr);
}

/*
 * Any other change made in the lead takes effect in the frame after: the
 * frame begun keeps the width it was begun with, whole. With lead_ns 0 the
 * work is done at the start itself and the change makes that frame.
 */
TEST_F(c8, set_in_the_lead_takes_the_next_frame)
{
	uint64_t lead = lead_of(&self->c), start = 0, work = 0, t0 = 0;
	uint64_t tol = tl_tolerance_ns();
	struct tl_pulse p[MAXP];
	struct tl_edge *e;
	size_t n, np, i;
	int tries;

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	ASSERT_EQ(0, tl_trace_enable(frame_events, 1));
	for (tries = 0; tries < 5; tries++) {
		tl_trace_clear();
		start = before_a_start(0, lead / 2);
		t0 = tl_now();
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, 2000 * US));
		work = work_of(&self->c, &start);
		if (work && work < t0 && tl_now() < start)
			break;
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	}
	ASSERT_LT(tries, 5) TH_LOG("no set landed in the lead of a frame");
	tl_sleep_ns(3 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 0, p, MAXP);
	for (i = 0; i < np && p[i].rise < start - tol; i++)
		;
	ASSERT_LT(i + 1, np);
	EXPECT_LE(absdiff(p[i].rise, start), tol);
	EXPECT_LE(absdiff(p[i].width, 1000 * US), tol);
	EXPECT_LE(absdiff(p[i + 1].width, 2000 * US), tol);
	free(e);

	/* Without a lead, the same set makes the frame it precedes. */
	ASSERT_EQ(0, set_lead(&self->c, 0));
	for (tries = 0; tries < 5; tries++) {
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
		tl_trace_clear();
		start = before_a_start(0, lead / 2);
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, 2000 * US));
		work = work_of(&self->c, &start);
		if (!work && tl_now() < start)
			break;
	}
	tl_trace_enable(frame_events, 0);
	ASSERT_LT(tries, 5) TH_LOG("no set landed before a frame start");
	tl_sleep_ns(2 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 0, p, MAXP);
	for (i = 0; i < np && p[i].rise < start - tol; i++)
		;
	ASSERT_LT(i, np);
	EXPECT_LE(absdiff(p[i].rise, start), tol);
	EXPECT_LE(absdiff(p[i].width, 2000 * US), tol);
	free(e);
}

/*
 * A channel whose first pulse is in a frame begun ahead has emitted
 * nothing yet: an e-stop that holds, tripped in the lead, releases it as
 * it would before the frame's work (its first pulse would jump to its
 * target), and the channel that was pulsing holds.
 */
TEST_F(c8, estop_in_the_lead_releases_a_first_pulse)
{
	struct hrservo_estop es = { .op = HRSERVO_ESTOP_TRIP,
				    .action = HRSERVO_FAILSAFE_HOLD };
	uint64_t lead = lead_of(&self->c), start = 0, work = 0, t0 = 0;
	struct hrservo_estop clr = { .op = HRSERVO_ESTOP_CLEAR };
	struct hrservo_channel_state st;
	struct tl_pulse p[MAXP];
	struct tl_edge *e;
	size_t n;
	int tries;

	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1500 * US));
	ASSERT_EQ(0, tl_trace_enable(frame_events, 1));
	for (tries = 0; tries < 5; tries++) {
		tl_trace_clear();
		/* The first target before the frame's work, the trip after. */
		start = before_a_start(1, lead + lead / 2);
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, 2000 * US));
		tl_sleep_until(start - lead / 2);
		t0 = tl_now();
		ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_ESTOP, &es));
		work = work_of(&self->c, &start);
		if (work && work < t0 && tl_now() < start)
			break;
		/* Again from a channel 0 that never pulsed, 1 pulsing. */
		ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_ESTOP, &clr));
		ASSERT_EQ(0, tl_release(self->c.fd, 1));
		ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1500 * US));
		tl_sleep_ns(2 * TL_FRAME_NS);
	}
	tl_trace_enable(frame_events, 0);
	ASSERT_LT(tries, 5) TH_LOG("no e-stop landed in the lead of a frame");
	tl_sleep_ns(3 * TL_FRAME_NS);
	n = tl_capture(&e);
	EXPECT_EQ(0, tl_pulses(e, n, 0, p, MAXP));
	EXPECT_LT(3, tl_pulses(e, n, 1, p, MAXP));
	free(e);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(0, st.flags & HRSERVO_STATE_ENABLED);
	ASSERT_EQ(0, tl_state(self->c.fd, 1, &st));
	EXPECT_TRUE(st.flags & HRSERVO_STATE_ENABLED);
	EXPECT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_ESTOP, &clr));
}

/* Set the speed (ns/s) and acceleration (ns/s^2) limits of a channel. */
static int motion_limits(int fd, unsigned int ch, uint32_t speed,
			 uint32_t accel)
{
	struct hrservo_limits l = { .channel = ch };

	if (ioctl(fd, HRSERVO_IOC_GET_LIMITS, &l))
		return -errno;
	l.max_speed_ns_per_s = speed;
	l.max_accel_ns_per_s2 = accel;
	return ioctl(fd, HRSERVO_IOC_SET_LIMITS, &l) ? -errno : 0;
}

/*
 * A set on a speed-limited channel ramps, as a Pololu Maestro does: at
 * 1000 us/s and 20 ms frames, 20 us more every frame, then the target.
 */
TEST_F(c8, speed_limited_set_ramps)
{
	struct tl_pulse p[MAXP];
	uint64_t tol = tl_tolerance_ns();
	struct tl_edge *e;
	size_t n, np, i, k;

	ASSERT_EQ(0, motion_limits(self->c.fd, 3, 1000000, 0));
	ASSERT_EQ(0, tl_set1(self->c.fd, 3, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_set1(self->c.fd, 3, 1500 * US));
	tl_sleep_ns(30 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 3, p, MAXP);
	ASSERT_GE(np, 30);
	/* The first pulse comes at once: nothing to ramp from. */
	EXPECT_LE(absdiff(p[0].width, 1000 * US), tol);
	for (i = 1; i < np && absdiff(p[i].width, 1000 * US) <= tol; i++)
		;
	/* Then 24 pulses 20 us apart, then the target. */
	for (k = 1; k <= 24; k++, i++) {
		ASSERT_LT(i, np);
		EXPECT_LE(absdiff(p[i].width, (1000 + 20 * k) * US), tol) {
			TH_LOG("ramp pulse %zu: %llu ns", k,
			       (unsigned long long)p[i].width);
		}
	}
	ASSERT_LT(i, np);
	EXPECT_LE(absdiff(p[i].width, 1500 * US), tol);
	for (; i < np; i++)
		if (p[i].width)
			EXPECT_LE(absdiff(p[i].width, 1500 * US), tol);
	free(e);
}

/* The speed limit binds sysfs writes too: a target_ns write ramps. */
TEST_F(c8, sysfs_set_ramps)
{
	struct tl_pulse p[MAXP];
	uint64_t tol = tl_tolerance_ns();
	struct tl_edge *e;
	size_t n, np, i, ramp = 0;

	ASSERT_EQ(0, tl_set_attr(&self->c, "channel6/max_speed_ns_per_s",
				 "2000000"));
	ASSERT_EQ(0, tl_set_attr(&self->c, "channel6/target_ns", "1000000"));
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_set_attr(&self->c, "channel6/target_ns", "1400000"));
	tl_sleep_ns(14 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 6, p, MAXP);
	if (np && !p[np - 1].width)
		np--;
	ASSERT_GT(np, 12);
	/* 2 ms/s at 20 ms frames: steps of 40 us, never more. */
	for (i = 1; i < np; i++) {
		EXPECT_LE(p[i].width, p[i - 1].width + 40 * US + tol);
		/* A step: more than half of one (the noise is below that). */
		if (p[i].width > p[i - 1].width + 20 * US)
			ramp++;
	}
	EXPECT_GE(ramp, 9);
	EXPECT_LE(absdiff(p[np - 1].width, 1400 * US), tol);
	free(e);
}

/* With an acceleration limit the speed grows by at most a per frame. */
TEST_F(c8, accel_limited_set)
{
	struct tl_pulse p[MAXP];
	uint64_t tol = tl_tolerance_ns();
	struct tl_edge *e;
	size_t n, np, i;
	int64_t prev_v = 0;

	/* 50 ms/s^2: 20 us/frame^2; 10 ms/s: 200 us/frame. */
	ASSERT_EQ(0, motion_limits(self->c.fd, 5, 10000000, 50000000));
	ASSERT_EQ(0, tl_set1(self->c.fd, 5, 1000 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_set1(self->c.fd, 5, 2000 * US));
	tl_sleep_ns(25 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 5, p, MAXP);
	ASSERT_GE(np, 25);
	if (!p[np - 1].width)
		np--;
	for (i = 1; i < np; i++) {
		int64_t v = (int64_t)p[i].width - (int64_t)p[i - 1].width;
		int64_t dv = v - prev_v;

		EXPECT_GE(v, -(int64_t)tol);
		EXPECT_LE(dv < 0 ? -dv : dv, (int64_t)(20 * US + 2 * tol)) {
			TH_LOG("pulse %zu: %llu ns, speed change %lld ns/frame",
			       i, (unsigned long long)p[i].width,
			       (long long)dv);
		}
		prev_v = v;
	}
	EXPECT_LE(absdiff(p[np - 1].width, 2000 * US), tol);
	free(e);
}

TEST_F(c8, period_change_takes_effect)
{
	struct tl_edge *e;
	size_t n;

	ASSERT_EQ(0, tl_set_attr(&self->c, "frame_period_ns", "10000000"));
	ASSERT_EQ(0, tl_set1(self->c.fd, 6, 1700 * US));
	tl_sleep_ns(8 * 10000000ULL);
	n = tl_capture(&e);
	check_line(_metadata, e, n, 6, 1700 * US, 10000000ULL, 6);
	free(e);
}

/* Fixture for tests that make their own controllers: teardown removes them. */
FIXTURE(own) {
	struct tl_ctrl a, b;
};

FIXTURE_SETUP(own)
{
	memset(self, 0, sizeof(*self));
	self->a.fd = -1;
	self->b.fd = -1;
}

FIXTURE_TEARDOWN(own)
{
	EXPECT_EQ(0, tl_destroy(&self->a));
	EXPECT_EQ(0, tl_destroy(&self->b));
}

TEST_F(own, channels_32)
{
	struct hrservo_target t[32];
	struct hrservo_info info;
	struct tl_edge *e;
	size_t n;

	ASSERT_EQ(0, tl_create(&self->a, 16, 32));
	tl_capture_clear();
	ASSERT_EQ(0, ioctl(self->a.fd, HRSERVO_IOC_GET_INFO, &info));
	EXPECT_EQ(32, info.channels);
	for (unsigned int i = 0; i < 32; i++)
		t[i] = (struct hrservo_target){ i, (500 + 60 * i) * US };
	/* Two channels on one end time share an expiry. */
	t[31].pulse_ns = t[30].pulse_ns;
	ASSERT_EQ(0, tl_set(self->a.fd, t, 32));
	tl_sleep_ns(5 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_release(self->a.fd, 0xffffffffULL));
	tl_sleep_ns(2 * TL_FRAME_NS);
	n = tl_capture(&e);
	for (unsigned int i = 0; i < 32; i++)
		check_line(_metadata, e, n, 16 + i, t[i].pulse_ns,
			   TL_FRAME_NS, 4);
	free(e);
}

TEST_F(own, two_controllers)
{
	struct tl_ctrl *a = &self->a, *b = &self->b;
	struct tl_edge *e;
	size_t n;

	ASSERT_EQ(0, tl_create(a, 0, 4));
	ASSERT_EQ(0, tl_create(b, 8, 4));
	EXPECT_STRNE(a->name, b->name);
	ASSERT_EQ(0, tl_set_attr(b, "frame_period_ns", "10000000"));
	tl_capture_clear();
	ASSERT_EQ(0, tl_set1(a->fd, 0, 1100 * US));
	ASSERT_EQ(0, tl_set1(a->fd, 3, 1900 * US));
	ASSERT_EQ(0, tl_set1(b->fd, 0, 800 * US));
	ASSERT_EQ(0, tl_set1(b->fd, 3, 2200 * US));
	tl_sleep_ns(6 * TL_FRAME_NS);
	n = tl_capture(&e);
	check_line(_metadata, e, n, 0, 1100 * US, TL_FRAME_NS, 4);
	check_line(_metadata, e, n, 3, 1900 * US, TL_FRAME_NS, 4);
	check_line(_metadata, e, n, 8, 800 * US, 10000000ULL, 9);
	check_line(_metadata, e, n, 11, 2200 * US, 10000000ULL, 9);
	for (size_t i = 0; i < n; i++)
		EXPECT_TRUE(e[i].line == 0 || e[i].line == 3 ||
			    e[i].line == 8 || e[i].line == 11);
	free(e);
}

TEST_HARNESS_MAIN
