// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-cost: a deterministic cost figure of the kernel's per-frame pure
 * logic, for bench/cost-run, which runs it under
 * valgrind --tool=callgrind --toggle-collect=cost_frames and divides the
 * instructions collected by the number of frames.
 *
 *   hrservo-cost WORKLOAD AXES [FRAMES]
 *   hrservo-cost --built     the compiler and flags it was built with
 *
 * WORKLOAD is one of:
 *   edges   the GPIO backend's falling-edge plan (hrservo_gpio_quantize():
 *           hrservo_plan_falls() and the write-back of each group's width)
 *           over AXES widths that change at every frame, some of them equal
 *           or within the coalescing window of another;
 *   motion  the channel loop of hrservo_frame_begin(): hrservo_chan_step()
 *           (hrservo_motion_step() with speed and acceleration limits, the
 *           rounding and the clamp to the pulse limits) for AXES channels
 *           whose targets jump between two positions;
 *   traj    hrservo_traj_frame() with AXES axes on a queue of quintic
 *           (minimum-jerk) segments: once per frame hrservo_poly_u() on the
 *           segment playing, per axis hrservo_poly_eval() (hrservo_poly_end()
 *           for the segment that ended);
 *   frame   the frame boundary, hrservo_frame_begin() with the three: the
 *           even channels play the trajectory, the odd ones take direct
 *           targets; the GPIO backend's plan last.
 *
 * The per-frame rates (hrservo_rate_per_frame()) and the segments' divisors
 * (hrservo_div_init()) are computed in process context by the kernel, when
 * limits, the period or a trajectory are set, never per frame: here they are
 * computed in the setup, outside cost_frames(), which callgrind alone counts.
 *
 * The pure functions are the kernel's own, driver/hrservo-logic.c compiled
 * in. The loops around them live in kernel-only code (hrservo-core.c,
 * hrservo-traj.c, hrservo-gpio.c): cost_frame_begin(),
 * cost_traj_frame(), cost_traj_set() and cost_quantize() reproduce their
 * structure, without locking, events, tracing and the frame record (a
 * memcpy), which are not pure logic. Keep them in step with the driver.
 *
 * Inputs are fixed: no clock, no random numbers. Nothing in cost_frames()
 * calls the C library, whose code (ifuncs) depends on the host's CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrservo-logic.h"

#define COST_FRAMES_DEFAULT	1000U
#define COST_FRAMES_MAX		10000U
#define COST_PERIOD_NS		HRSERVO_PERIOD_DEFAULT_NS
#define COST_T0_NS		1000000000ULL
/* Segments: 970 ms each (not a whole number of frames), enough to play. */
#define COST_SEG_NS		970000000ULL
#define COST_SEGS	(COST_FRAMES_MAX * (u64)COST_PERIOD_NS / COST_SEG_NS + 2)
/* As in hrservo-traj.c. */
#define COST_TRAJ_RETIRE_MAX	64
/* Direct targets jump every this many frames (a power of two). */
#define COST_HOLD_FRAMES	64U

enum cost_workload { COST_EDGES, COST_MOTION, COST_TRAJ, COST_FRAME };

static const char *const cost_names[] = {
	[COST_EDGES] = "edges",
	[COST_MOTION] = "motion",
	[COST_TRAJ] = "traj",
	[COST_FRAME] = "frame",
};

/* The fields of struct hrservo_channel the frame uses. */
struct cost_chan {
	u32 target_ns;
	u32 pulse_ns;
	bool enabled;
	struct hrservo_motion motion;
	s64 vmax_frame;
	s64 amax_frame;
};

/* The fields of struct hrservo_seg and its batch that the frame uses. */
struct cost_seg {
	u64 start_ns;
	u64 end_ns;
	struct hrservo_div dur;
	u64 mask;
	u32 gen;
	s64 coef[HRSERVO_CHANNELS_MAX][6];
};

struct cost {
	enum cost_workload w;
	unsigned int n;
	unsigned int frames;
	u32 coalesce_ns;
	struct cost_chan ch[HRSERVO_CHANNELS_MAX];
	struct hrservo_chan_limits lim[HRSERVO_CHANNELS_MAX];
	/* Direct targets: the two positions and each channel's phase. */
	u32 lo[HRSERVO_CHANNELS_MAX], hi[HRSERVO_CHANNELS_MAX];
	u32 phase[HRSERVO_CHANNELS_MAX];
	/* The trajectory player: its queue, head and release generations. */
	struct cost_seg seg[COST_SEGS];
	unsigned int nseg, head;
	u64 traj_axes;
	u32 rel_gen[HRSERVO_CHANNELS_MAX];
	/* The GPIO backend's plan. */
	struct hrservo_edge_group groups[HRSERVO_CHANNELS_MAX];
	unsigned int planned;
	u32 pulse_ns[HRSERVO_CHANNELS_MAX];
	/* edges: the widths of every frame, made in the setup. */
	u32 *widths;
	/* What the frames did, printed at the end. */
	u64 groups_total, held_total, sum_ns;
};

static struct cost cost;

static unsigned int cost_ffs64(u64 m)
{
	return (unsigned int)__builtin_ctzll(m);
}

/* hrservo_traj_owns(): the player runs for the whole measurement. */
static bool cost_traj_owns(const struct cost *c, unsigned int i)
{
	return c->traj_axes & ((u64)1 << i);
}

/* hrservo-gpio.c: hrservo_gpio_quantize(). */
static void cost_quantize(struct cost *c, u32 *pulse_ns, unsigned int n)
{
	unsigned int i;
	u64 m;

	c->planned = hrservo_plan_falls(pulse_ns, n, c->coalesce_ns, c->groups);
	for (i = 0; i < c->planned; i++)
		for (m = c->groups[i].mask; m; m &= m - 1)
			pulse_ns[cost_ffs64(m)] = c->groups[i].offset_ns;
}

/* hrservo-traj.c: hrservo_seg_live(). */
static u64 cost_seg_live(const struct cost *c, const struct cost_seg *seg)
{
	u64 m, live = 0;

	for (m = seg->mask; m; m &= m - 1)
		if (seg->gen > c->rel_gen[cost_ffs64(m)])
			live |= m & -m;
	return live;
}

/* hrservo-traj.c: hrservo_seg_u(). */
static u64 cost_seg_u(const struct cost_seg *seg, u64 t_ns)
{
	if (t_ns >= seg->start_ns + seg->dur.d)
		return 1ULL << 32;
	return hrservo_poly_u(t_ns - seg->start_ns, &seg->dur);
}

/* hrservo-traj.c: hrservo_seg_eval(). */
static s64 cost_seg_eval(const struct cost_seg *seg, unsigned int k, u64 u)
{
	return u >> 32 ? hrservo_poly_end(seg->coef[k]) :
			 hrservo_poly_eval(seg->coef[k], (u32)u);
}

/* hrservo-traj.c: hrservo_traj_set(). */
static void cost_traj_set(struct cost *c, const struct cost_seg *seg,
			  u64 live, u64 t_ns)
{
	u64 m, u = cost_seg_u(seg, t_ns);	/* once for all axes */
	unsigned int i, k = 0;
	s64 ns;

	for (m = seg->mask; m; m &= m - 1, k++) {
		i = cost_ffs64(m);
		if (i >= c->n)
			break;
		if (!(live & ((u64)1 << i)))
			continue;
		ns = (cost_seg_eval(seg, k, u) + (1 << (HRSERVO_Q - 1))) >>
		     HRSERVO_Q;
		c->ch[i].target_ns = ns < 1 ? 1 : ns > 0xffffffff ?
				     0xffffffff : (u32)ns;
		c->ch[i].enabled = true;
	}
}

/* hrservo-traj.c: hrservo_traj_frame(), without its events. */
static void cost_traj_frame(struct cost *c, u64 t_ns)
{
	unsigned int s = c->head, n;
	u64 live = 0;

	if (s == c->nseg || t_ns < c->seg[s].start_ns)
		return;
	for (n = 0; s < c->nseg && n < COST_TRAJ_RETIRE_MAX; n++) {
		live = cost_seg_live(c, &c->seg[s]);
		if (live && t_ns < c->seg[s].end_ns)
			break;
		if (live)
			cost_traj_set(c, &c->seg[s], live, c->seg[s].end_ns);
		s++;
		live = 0;
	}
	c->head = s;
	if (s < c->nseg && live && t_ns >= c->seg[s].start_ns)
		cost_traj_set(c, &c->seg[s], live, t_ns);
}

/* The channel loop of hrservo_frame_begin(); returns the active mask. */
static u64 cost_channels(struct cost *c, u64 *held)
{
	u64 active = 0;
	unsigned int i;

	*held = 0;
	for (i = 0; i < c->n; i++) {
		struct cost_chan *ch = &c->ch[i];
		bool h;

		if (!ch->enabled) {
			ch->pulse_ns = 0;
			ch->motion.valid = false;
		} else {
			ch->pulse_ns = hrservo_chan_step(&ch->motion, &c->lim[i],
							 ch->target_ns,
							 ch->vmax_frame,
							 ch->amax_frame,
							 cost_traj_owns(c, i),
							 &h);
			if (h)
				*held |= (u64)1 << i;
		}
		c->pulse_ns[i] = ch->pulse_ns;
		if (ch->pulse_ns)
			active |= (u64)1 << i;
	}
	return active;
}

/* hrservo_frame_begin(), with the GPIO backend's quantize. */
static void cost_frame_begin(struct cost *c, u64 t_ns)
{
	u64 active, held;
	unsigned int i;

	cost_traj_frame(c, t_ns);
	active = cost_channels(c, &held);
	if (active) {
		cost_quantize(c, c->pulse_ns, c->n);
		for (i = 0; i < c->n; i++)
			c->ch[i].pulse_ns = c->pulse_ns[i];
	}
	c->held_total += held != 0;
}

/* What a SET ioctl does between frames: the direct targets jump. */
static void cost_set_targets(struct cost *c, unsigned int f)
{
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		struct cost_chan *ch = &c->ch[i];

		if (cost_traj_owns(c, i) ||
		    ((f + c->phase[i]) & (COST_HOLD_FRAMES - 1)))
			continue;
		ch->target_ns = ch->target_ns == c->lo[i] ? c->hi[i] : c->lo[i];
	}
}

/* The measured frames: callgrind counts this function and its callees. */
__attribute__((noinline)) void cost_frames(struct cost *c)
{
	unsigned int f, i;
	u64 held;

	for (f = 0; f < c->frames; f++) {
		u64 t_ns = COST_T0_NS + (u64)f * COST_PERIOD_NS;
		const u32 *w;

		switch (c->w) {
		case COST_EDGES:
			/* What the channel loop leaves for quantize. */
			w = &c->widths[(size_t)f * c->n];
			for (i = 0; i < c->n; i++)
				c->pulse_ns[i] = w[i];
			cost_quantize(c, c->pulse_ns, c->n);
			break;
		case COST_MOTION:
			cost_set_targets(c, f);
			cost_channels(c, &held);
			c->held_total += held != 0;
			break;
		case COST_TRAJ:
			cost_traj_frame(c, t_ns);
			break;
		case COST_FRAME:
			cost_set_targets(c, f);
			cost_frame_begin(c, t_ns);
			break;
		}
		c->groups_total += c->planned;
	}
}

/* A triangle wave of period 2 * half, between 0 and half. */
static u32 cost_tri(u32 x, u32 half)
{
	x %= 2 * half;
	return x < half ? x : 2 * half - x;
}

/*
 * Width of channel i at frame f for the edges workload: sweeps of different
 * speeds and phases, so that the order changes from frame to frame; every
 * fourth channel has the width of the one before, and the one after it
 * falls within the coalescing window of that pair.
 */
static u32 cost_width(unsigned int i, unsigned int f)
{
	unsigned int b = i & ~3U;

	switch (i & 3) {
	case 1:
		return cost_width(b, f);
	case 2:
		return cost_width(b, f) + HRSERVO_COALESCE_DEFAULT_NS / 2;
	default:
		return 600000 + cost_tri(f * (3000 + 700 * (i % 7)) +
					 i * 61000, 1800000);
	}
}

/* A minimum-jerk segment from a to b: a + (b - a) (10u^3 - 15u^4 + 6u^5). */
static void cost_quintic(s64 *coef, u32 a_ns, u32 b_ns)
{
	s64 a = (s64)a_ns << HRSERVO_Q, d = ((s64)b_ns - a_ns) * 65536;

	coef[0] = a;
	coef[1] = 0;
	coef[2] = 0;
	coef[3] = 10 * d;
	coef[4] = -15 * d;
	coef[5] = 6 * d;
}

/* Where axis i of the trajectory is at the start of segment s. */
static u32 cost_waypoint(unsigned int i, unsigned int s)
{
	return 800000 + cost_tri(s * 450000 + i * 97000, 1400000);
}

static void cost_setup(struct cost *c)
{
	/* Limits: 2 ms/s (40 us per frame), 10 ms/s^2 (4 us per frame^2). */
	u64 vmax = hrservo_rate_per_frame(2000000, COST_PERIOD_NS, 1);
	u64 amax = hrservo_rate_per_frame(10000000, COST_PERIOD_NS, 2);
	unsigned int i, s, f, k;

	c->coalesce_ns = HRSERVO_COALESCE_DEFAULT_NS;
	for (i = 0; i < c->n; i++) {
		c->lim[i].min_ns = HRSERVO_DEFAULT_MIN_NS;
		c->lim[i].max_ns = HRSERVO_DEFAULT_MAX_NS;
		c->ch[i].vmax_frame = (s64)vmax;
		c->ch[i].amax_frame = (s64)amax;
		/* Groups of four jump together, to the same positions. */
		c->lo[i] = 900000 + (i / 4) * 20000;
		c->hi[i] = 2100000 - (i / 4) * 15000;
		c->phase[i] = (i / 4) * 13;
		c->ch[i].target_ns = c->lo[i];
		c->ch[i].enabled = true;
	}

	if (c->w == COST_TRAJ)
		c->traj_axes = c->n == 64 ? ~0ULL : ((u64)1 << c->n) - 1;
	else if (c->w == COST_FRAME)
		for (i = 0; i < c->n; i += 2)
			c->traj_axes |= (u64)1 << i;
	if (c->traj_axes) {
		/* Queued in one submission, gen 1; no axis released (0). */
		c->nseg = (unsigned int)(((u64)c->frames * COST_PERIOD_NS) /
					 COST_SEG_NS + 2);
		for (s = 0; s < c->nseg; s++) {
			struct cost_seg *seg = &c->seg[s];
			u64 m;

			seg->start_ns = COST_T0_NS + s * COST_SEG_NS;
			seg->end_ns = seg->start_ns + COST_SEG_NS;
			hrservo_div_init(&seg->dur, COST_SEG_NS);
			seg->mask = c->traj_axes;
			seg->gen = 1;
			for (m = seg->mask, k = 0; m; m &= m - 1, k++) {
				i = cost_ffs64(m);
				cost_quintic(seg->coef[k], cost_waypoint(i, s),
					     cost_waypoint(i, s + 1));
			}
		}
		/* The trajectory's first point is where its axes are. */
		for (i = 0; i < c->n; i++)
			if (cost_traj_owns(c, i))
				c->ch[i].target_ns = cost_waypoint(i, 0);
	}

	/* One frame at the first targets: the positions are known. */
	if (c->w == COST_MOTION || c->w == COST_FRAME) {
		u64 held;

		cost_channels(c, &held);
	}

	if (c->w == COST_EDGES)
		for (f = 0; f < c->frames; f++)
			for (i = 0; i < c->n; i++)
				c->widths[(size_t)f * c->n + i] =
					cost_width(i, f);
}

/* The flags, given by the Makefile: instruction counts depend on them. */
#ifndef COST_CFLAGS
#define COST_CFLAGS "unknown"
#endif

#if defined(__clang__)
#define COST_CC "clang " __clang_version__
#elif defined(__GNUC__)
#define COST_CC "gcc " __VERSION__
#else
#define COST_CC "unknown"
#endif

static int cost_usage(void)
{
	fprintf(stderr, "usage: hrservo-cost edges|motion|traj|frame AXES [FRAMES]\n"
		"       hrservo-cost --built\n"
		"  AXES 1..%u, FRAMES 1..%u (default %u)\n",
		HRSERVO_CHANNELS_MAX, COST_FRAMES_MAX, COST_FRAMES_DEFAULT);
	return 2;
}

static int cost_number(const char *s, unsigned long max, unsigned int *v)
{
	char *end;
	unsigned long x;

	if (*s < '0' || *s > '9')
		return -1;
	x = strtoul(s, &end, 10);
	if (*end || x < 1 || x > max)
		return -1;
	*v = (unsigned int)x;
	return 0;
}

int main(int argc, char **argv)
{
	struct cost *c = &cost;
	unsigned int i;

	if (argc == 2 && !strcmp(argv[1], "--built")) {
		printf("compiler: %s\ncflags: %s\n", COST_CC, COST_CFLAGS);
		return 0;
	}
	if (argc < 3 || argc > 4)
		return cost_usage();
	for (i = 0; i < sizeof(cost_names) / sizeof(cost_names[0]); i++)
		if (!strcmp(argv[1], cost_names[i]))
			break;
	if (i == sizeof(cost_names) / sizeof(cost_names[0]))
		return cost_usage();
	c->w = (enum cost_workload)i;
	c->frames = COST_FRAMES_DEFAULT;
	if (cost_number(argv[2], HRSERVO_CHANNELS_MAX, &c->n) ||
	    (argc == 4 && cost_number(argv[3], COST_FRAMES_MAX, &c->frames)))
		return cost_usage();
	c->widths = calloc(c->w == COST_EDGES ? (size_t)c->frames * c->n : 1,
			   sizeof(*c->widths));
	if (!c->widths) {
		perror("hrservo-cost");
		return 1;
	}
	cost_setup(c);

	cost_frames(c);

	/* What the frames did: also keeps the compiler from dropping them. */
	for (i = 0; i < c->n; i++)
		c->sum_ns += c->w == COST_TRAJ ? c->ch[i].target_ns :
						 c->pulse_ns[i];
	printf("%s %u axes %u frames: %llu edge groups, %llu frames held back, last pulses sum %llu ns, head %u/%u\n",
	       cost_names[c->w], c->n, c->frames,
	       (unsigned long long)c->groups_total,
	       (unsigned long long)c->held_total,
	       (unsigned long long)c->sum_ns, c->head, c->nseg);
	free(c->widths);
	return 0;
}
