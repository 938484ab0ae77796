// SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later
/*
 * hrservo - pure logic: batch and limit validation, falling-edge planning,
 * new_device line parsing.
 *
 * Built into hrservo.ko and, unchanged, into the host unit tests
 * (tests/unit/) and libhrservo (lib/logic.c: its userspace player steps
 * channels, plans edges and plays trajectories with these very functions),
 * hence the dual licence: the library is LGPL. See hrservo-logic.h for the
 * rules this file follows.
 */
#include "hrservo-logic.h"

#ifdef __KERNEL__
#include <linux/export.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/string.h>
#else
#include <string.h>
#define EXPORT_SYMBOL_GPL(sym)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The kernel's 32-bit-safe division helpers, for the host builds. */
static u64 div_u64_rem(u64 a, u32 b, u32 *rem)
{
	*rem = (u32)(a % b);
	return a / b;
}

static u64 div64_u64(u64 a, u64 b)
{
	return a / b;
}
#endif

/**
 * hrservo_pulse_max_for_period() - longest pulse that fits a frame period
 * @period_ns: frame period
 *
 * Return: @period_ns less the guard time that keeps every falling edge
 * before the next frame's rising edge.
 */
u32 hrservo_pulse_max_for_period(u32 period_ns)
{
	if (period_ns <= HRSERVO_FRAME_GUARD_NS + HRSERVO_PULSE_MIN_NS)
		return HRSERVO_PULSE_MIN_NS;
	return period_ns - HRSERVO_FRAME_GUARD_NS;
}
EXPORT_SYMBOL_GPL(hrservo_pulse_max_for_period);

/**
 * hrservo_check_batch() - validate an atomic batch of targets
 * @t: the batch
 * @count: number of elements in @t
 * @nchannels: channels of the controller
 * @lim: limits of each of the @nchannels channels
 * @bad: set to the index in @t of the first bad element, or to @count when
 *	@count itself is bad
 *
 * Return: 0 if every element may be applied; -EINVAL for a bad count, a
 * channel out of range or a channel given twice; -ERANGE for a pulse width
 * outside its channel's limits. Structural errors are reported before range
 * errors, whatever their order in @t.
 */
int hrservo_check_batch(const struct hrservo_target *t, unsigned int count,
			unsigned int nchannels,
			const struct hrservo_chan_limits *lim,
			unsigned int *bad)
{
	u64 seen = 0;
	unsigned int i;

	if (count == 0 || count > nchannels ||
	    nchannels > HRSERVO_CHANNELS_MAX) {
		*bad = count;
		return -EINVAL;
	}
	for (i = 0; i < count; i++) {
		u32 ch = t[i].channel;

		if (ch >= nchannels || (seen & ((u64)1 << ch))) {
			*bad = i;
			return -EINVAL;
		}
		seen |= (u64)1 << ch;
	}
	for (i = 0; i < count; i++) {
		const struct hrservo_chan_limits *l = &lim[t[i].channel];

		if (t[i].pulse_ns < l->min_ns || t[i].pulse_ns > l->max_ns) {
			*bad = i;
			return -ERANGE;
		}
	}
	return 0;
}
EXPORT_SYMBOL_GPL(hrservo_check_batch);

/**
 * hrservo_check_limits() - validate new pulse limits for one channel
 * @min_ns: proposed lower limit
 * @max_ns: proposed upper limit
 * @period_ns: the controller's frame period
 *
 * Return: 0, or -ERANGE unless %HRSERVO_PULSE_MIN_NS <= @min_ns < @max_ns <=
 * hrservo_pulse_max_for_period(@period_ns).
 */
int hrservo_check_limits(u32 min_ns, u32 max_ns, u32 period_ns)
{
	if (min_ns < HRSERVO_PULSE_MIN_NS || min_ns >= max_ns ||
	    max_ns > hrservo_pulse_max_for_period(period_ns))
		return -ERANGE;
	return 0;
}
EXPORT_SYMBOL_GPL(hrservo_check_limits);

/**
 * hrservo_check_period() - validate a new frame period
 * @period_ns: proposed period
 * @period_min_ns: lowest period the backend accepts
 * @period_max_ns: highest period the backend accepts
 * @lim: current limits of each channel
 * @nchannels: number of channels
 * @bad: set to the first channel whose max limit does not fit, or to
 *	@nchannels if the period itself is out of range
 *
 * Return: 0; -ERANGE if the period is outside the backend's range; -EBUSY if
 * a channel's max limit would not fit in the frame (lower it first).
 */
int hrservo_check_period(u32 period_ns, u32 period_min_ns, u32 period_max_ns,
			 const struct hrservo_chan_limits *lim,
			 unsigned int nchannels, unsigned int *bad)
{
	u32 pmax = hrservo_pulse_max_for_period(period_ns);
	unsigned int i;

	if (period_ns < period_min_ns || period_ns > period_max_ns) {
		*bad = nchannels;
		return -ERANGE;
	}
	for (i = 0; i < nchannels; i++) {
		if (lim[i].max_ns > pmax) {
			*bad = i;
			return -EBUSY;
		}
	}
	return 0;
}
EXPORT_SYMBOL_GPL(hrservo_check_period);

/**
 * hrservo_plan_falls() - group the falling edges of one frame
 * @pulse_ns: pulse width of each channel, 0 for no pulse
 * @nchannels: number of channels, at most %HRSERVO_CHANNELS_MAX
 * @coalesce_ns: edges whose end times lie within this window of the earliest
 *	edge of a group share that group's expiry
 * @groups: output, at least @nchannels elements, sorted by offset
 *
 * A group falls at the earliest end time in it, so that a pulse is never
 * longer than commanded, and at most @coalesce_ns shorter.
 * Insertion sort: n is at most 64 and the input is usually nearly sorted,
 * and this runs in hard interrupt context, where no allocation is allowed.
 *
 * Return: the number of groups written (0 when no channel has a pulse).
 */
unsigned int hrservo_plan_falls(const u32 *pulse_ns, unsigned int nchannels,
				u32 coalesce_ns,
				struct hrservo_edge_group *groups)
{
	u8 order[HRSERVO_CHANNELS_MAX];
	unsigned int n = 0, ngroups = 0, i, j;

	if (nchannels > HRSERVO_CHANNELS_MAX)
		nchannels = HRSERVO_CHANNELS_MAX;

	for (i = 0; i < nchannels; i++) {
		if (!pulse_ns[i])
			continue;
		for (j = n; j > 0 && pulse_ns[order[j - 1]] > pulse_ns[i]; j--)
			order[j] = order[j - 1];
		order[j] = (u8)i;
		n++;
	}

	for (i = 0; i < n; i++) {
		u32 end = pulse_ns[order[i]];

		if (ngroups &&
		    end - groups[ngroups - 1].offset_ns <= coalesce_ns) {
			groups[ngroups - 1].mask |= (u64)1 << order[i];
			continue;
		}
		groups[ngroups].offset_ns = end;
		groups[ngroups].mask = (u64)1 << order[i];
		ngroups++;
	}
	return ngroups;
}
EXPORT_SYMBOL_GPL(hrservo_plan_falls);

static bool hrservo_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static bool hrservo_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse a decimal u32 at *p; advance *p. */
static int hrservo_parse_u32(const char **p, u32 *val)
{
	const char *s = *p;
	u64 v = 0;

	if (!hrservo_is_digit(*s))
		return -EINVAL;
	while (hrservo_is_digit(*s)) {
		v = v * 10 + (u64)(*s - '0');
		if (v > 0xffffffffULL)
			return -ERANGE;
		s++;
	}
	*p = s;
	*val = (u32)v;
	return 0;
}

static int hrservo_add_line(u32 off, u32 *offsets, unsigned int max_lines,
			    unsigned int *n)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (offsets[i] == off)
			return -EEXIST;
	if (*n >= max_lines)
		return -E2BIG;
	offsets[(*n)++] = off;
	return 0;
}

/**
 * hrservo_parse_lines() - parse a new_device line: "LABEL OFFSETS"
 * @buf: NUL-terminated input, e.g. "gpiochip0 4 5 6" or "mychip 0-7,12"
 * @label: output, the GPIO chip label
 * @label_size: size of @label, including the NUL
 * @offsets: output, the line offsets in the order given
 * @max_lines: capacity of @offsets
 * @nlines: output, number of offsets written
 *
 * OFFSETS is a list of decimal offsets or ranges "A-B" (A <= B), separated by
 * commas and/or blanks. One trailing newline is allowed.
 *
 * Return: 0; -EINVAL for a missing label or offset list, or any character
 * that does not belong; -ENAMETOOLONG for a label that does not fit;
 * -ERANGE for a number that does not fit in 32 bits or a range A > B;
 * -EEXIST for an offset listed twice; -E2BIG for more than @max_lines lines.
 */
int hrservo_parse_lines(const char *buf, char *label, unsigned int label_size,
			u32 *offsets, unsigned int max_lines,
			unsigned int *nlines)
{
	const char *p = buf;
	unsigned int len = 0;
	int ret;

	*nlines = 0;
	while (hrservo_is_space(*p))
		p++;
	while (*p && !hrservo_is_space(*p)) {
		if (len + 1 >= label_size)
			return -ENAMETOOLONG;
		label[len++] = *p++;
	}
	if (!len)
		return -EINVAL;
	label[len] = '\0';

	for (;;) {
		u32 a, b;

		while (hrservo_is_space(*p) || *p == ',')
			p++;
		if (!*p)
			break;
		ret = hrservo_parse_u32(&p, &a);
		if (ret)
			return ret;
		b = a;
		if (*p == '-') {
			p++;
			ret = hrservo_parse_u32(&p, &b);
			if (ret)
				return ret;
			if (b < a)
				return -ERANGE;
		}
		if (*p && !hrservo_is_space(*p) && *p != ',')
			return -EINVAL;
		for (;;) {
			ret = hrservo_add_line(a, offsets, max_lines, nlines);
			if (ret)
				return ret;
			if (a == b)
				break;
			a++;
		}
	}
	return *nlines ? 0 : -EINVAL;
}
EXPORT_SYMBOL_GPL(hrservo_parse_lines);

/* The end of the first word of @buf (the chip label), past leading blanks. */
static char *hrservo_after_first_word(char *buf)
{
	while (hrservo_is_space(*buf))
		buf++;
	while (*buf && !hrservo_is_space(*buf))
		buf++;
	return buf;
}

/**
 * hrservo_parse_estop() - take an "estop=" option out of a new_device line
 * @buf: NUL-terminated line; the option, if any, is cut out of it in place
 * @label: output, the e-stop line's chip label
 * @label_size: size of @label, including the NUL
 * @offset: output, the e-stop line's offset
 * @active_low: output, true for ":low" (a button that pulls the line low)
 *
 * The option is one blank-separated word, anywhere after the first:
 * "estop=CHIP-LABEL:OFFSET" or "estop=CHIP-LABEL:OFFSET:low". The label ends
 * at the colon before the offset.
 *
 * Return: 1 if the option was there, 0 if not; -EINVAL for a malformed or
 * repeated option; -ENAMETOOLONG for a label that does not fit; -ERANGE for
 * an offset that does not fit in 32 bits.
 */
int hrservo_parse_estop(char *buf, char *label, unsigned int label_size,
			u32 *offset, bool *active_low)
{
	static const char key[] = "estop=";
	char *w, *end, *colon, *p, *v, *first;
	const char *q;
	unsigned int len;
	int ret;

	first = hrservo_after_first_word(buf);
	for (w = buf; *w; w++)
		if ((w == buf || hrservo_is_space(w[-1])) &&
		    !strncmp(w, key, sizeof(key) - 1))
			break;
	if (!*w)
		return 0;
	if (w < first)
		return -EINVAL;	/* the chip label comes first */
	for (end = w; *end && !hrservo_is_space(*end); end++)
		;
	v = w + sizeof(key) - 1;
	*active_low = end - v > 4 && !strncmp(end - 4, ":low", 4);
	colon = *active_low ? end - 4 : end;
	/* The label is everything up to the last colon before the offset. */
	for (p = colon; p > v && p[-1] != ':'; p--)
		;
	if (p == v || p == colon)
		return -EINVAL;
	len = p - 1 - v;
	if (!len)
		return -EINVAL;
	if (len + 1 > label_size)
		return -ENAMETOOLONG;
	memcpy(label, v, len);
	label[len] = '\0';
	q = p;
	ret = hrservo_parse_u32(&q, offset);
	if (ret)
		return ret;
	if (q != colon)
		return -EINVAL;
	/* Cut the word out: the rest of the line moves over it. */
	memmove(w, end, strlen(end) + 1);
	for (p = buf; *p; p++)
		if ((p == buf || hrservo_is_space(p[-1])) &&
		    !strncmp(p, key, sizeof(key) - 1))
			return -EINVAL;
	return 1;
}
EXPORT_SYMBOL_GPL(hrservo_parse_estop);

/* The properties of the device-tree binding that new_device takes too. */
static const char * const hrservo_ctrl_u32_props[] = {
	"frame-period-ns", "coalesce-ns", "lead-ns",
};

static const char * const hrservo_chan_u32_props[] = {
	"min-pulse-ns", "max-pulse-ns", "max-speed-ns-per-s",
	"max-accel-ns-per-s2", "initial-pulse-ns",
};

static bool hrservo_is_hex(char c)
{
	return hrservo_is_digit(c) || (c >= 'a' && c <= 'f');
}

/* Parse "channel@HEX/" at @w; return the channel and move @w past it. */
static int hrservo_parse_unit(const char **w, const char *eq)
{
	static const char node[] = "channel@";
	const char *s = *w + sizeof(node) - 1;
	u32 c = 0;

	if (strncmp(*w, node, sizeof(node) - 1))
		return -1;
	if (!hrservo_is_hex(*s))
		return -EINVAL;
	for (; s < eq && hrservo_is_hex(*s); s++) {
		c = c * 16 + (hrservo_is_digit(*s) ? *s - '0' : *s - 'a' + 10);
		if (c >= HRSERVO_CHANNELS_MAX)
			return -ERANGE;
	}
	if (*s != '/')
		return -EINVAL;
	*w = s + 1;
	return c;
}

/**
 * hrservo_parse_props() - take the PROPERTY=VALUE words out of a line
 * @buf: a new_device line, NUL-terminated; the words are cut out of it
 * @props: the properties found, in the order written
 * @max: room in @props
 * @n: number of properties found
 *
 * A word other than the first (the chip label, leading blanks skipped) that
 * holds a '=' is a property:
 * "PROPERTY=VALUE" for the controller, "channel@N/PROPERTY=VALUE" for
 * channel N (N in lowercase hex, as a device-tree unit address). Neither the
 * name nor the value may be empty; the name ends at the first '=', the value
 * runs to the next blank. Names and
 * values are not checked here (hrservo_prop_check() does), nor are
 * properties given twice.
 *
 * Return: 0; -EINVAL for a malformed word, -ERANGE for a channel of
 * %HRSERVO_CHANNELS_MAX or more, -ENAMETOOLONG for a name or value too
 * long, -E2BIG for more than @max properties. On error the line is left
 * partly cut.
 */
int hrservo_parse_props(char *buf, struct hrservo_prop *props,
			unsigned int max, unsigned int *n)
{
	char *w, *end, *eq;
	const char *name;
	int c;

	*n = 0;
	w = hrservo_after_first_word(buf);
	while (*w) {
		if (hrservo_is_space(*w)) {
			w++;
			continue;
		}
		for (end = w, eq = NULL; *end && !hrservo_is_space(*end); end++)
			if (!eq && *end == '=')
				eq = end;
		if (!eq) {
			w = end;
			continue;
		}
		name = w;
		c = hrservo_parse_unit(&name, eq);
		if (c < -1)
			return c;
		if (name == eq || eq + 1 == end)
			return -EINVAL;
		if (eq - name + 1 > HRSERVO_PROP_NAME_MAX ||
		    end - eq > HRSERVO_LABEL_MAX)
			return -ENAMETOOLONG;
		if (*n == max)
			return -E2BIG;
		props[*n].channel = c;
		memcpy(props[*n].name, name, eq - name);
		props[*n].name[eq - name] = '\0';
		memcpy(props[*n].value, eq + 1, end - eq - 1);
		props[*n].value[end - eq - 1] = '\0';
		(*n)++;
		/* Cut the word out: w is then at what followed it. */
		memmove(w, end, strlen(end) + 1);
	}
	return 0;
}
EXPORT_SYMBOL_GPL(hrservo_parse_props);

static bool hrservo_prop_in(const char *name, const char * const *names,
			    unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/**
 * hrservo_prop_check() - check a property of a new_device line
 * @p: the property
 * @val: its value, for a number
 *
 * Return: %HRSERVO_PROP_U32 (@val set) or %HRSERVO_PROP_STRING (the
 * channel's "label"); -ENOENT for a name that is not a property of the
 * controller or of a channel (whichever @p is about), -EINVAL for a value
 * that is not a decimal number, -ERANGE for one above 4294967295.
 */
int hrservo_prop_check(const struct hrservo_prop *p, u32 *val)
{
	const char *s = p->value;
	bool known;
	int ret;

	if (p->channel >= 0 && !strcmp(p->name, "label"))
		return HRSERVO_PROP_STRING;
	if (p->channel < 0)
		known = hrservo_prop_in(p->name, hrservo_ctrl_u32_props,
					ARRAY_SIZE(hrservo_ctrl_u32_props));
	else
		known = hrservo_prop_in(p->name, hrservo_chan_u32_props,
					ARRAY_SIZE(hrservo_chan_u32_props));
	if (!known)
		return -ENOENT;
	ret = hrservo_parse_u32(&s, val);
	if (ret)
		return ret;
	return *s ? -EINVAL : HRSERVO_PROP_U32;
}
EXPORT_SYMBOL_GPL(hrservo_prop_check);

/**
 * hrservo_brake_prepare() - the divisor of hrservo_brake_dist()
 * @r: output
 * @amax_frame: the acceleration limit per frame squared (1/65536 ns)
 *
 * Process context: it divides.
 */
void hrservo_brake_prepare(struct hrservo_div *r, s64 amax_frame)
{
	s64 a = amax_frame >> HRSERVO_Q;

	hrservo_div_init(r, 2 * (u64)(a > 1 ? a : 1));
}
EXPORT_SYMBOL_GPL(hrservo_brake_prepare);

/**
 * hrservo_brake_dist() - how far a channel moves while it brakes
 * @v: its speed, ns per frame
 * @two_a: twice its deceleration per frame squared, from
 *	hrservo_brake_prepare()
 *
 * Braking by a per frame from v covers v + (v - a) + ... = v (|v| + a) / 2a,
 * with the sign of @v. Multiplications only: any context.
 *
 * Return: the distance in ns.
 */
s64 hrservo_brake_dist(s64 v, const struct hrservo_div *two_a)
{
	u64 m = v < 0 ? -(u64)v : (u64)v, rem;
	u64 d = hrservo_div_u64(m * (m + two_a->d / 2), two_a, &rem);

	return v < 0 ? -(s64)d : (s64)d;
}
EXPORT_SYMBOL_GPL(hrservo_brake_dist);

/**
 * hrservo_stop_point() - where a channel stops if it brakes now
 * @m: its motion state, valid (it has emitted a pulse)
 * @accel_limited: it has an acceleration limit
 * @two_a: from hrservo_brake_prepare() for that limit
 * @lim: its pulse limits
 *
 * The width where the channel stops when it decelerates within its
 * acceleration limit from its speed now, or where it is without such a
 * limit, clamped to @lim: the target a failsafe that holds gives it.
 * Multiplications only: any context.
 *
 * Return: that width in ns.
 */
u32 hrservo_stop_point(const struct hrservo_motion *m, bool accel_limited,
		       const struct hrservo_div *two_a,
		       const struct hrservo_chan_limits *lim)
{
	s64 pos = (m->pos + (1 << (HRSERVO_Q - 1))) >> HRSERVO_Q;
	s64 v = m->vel >> HRSERVO_Q;

	if (accel_limited && v)
		pos += hrservo_brake_dist(v, two_a);
	if (pos < lim->min_ns)
		return lim->min_ns;
	if (pos > lim->max_ns)
		return lim->max_ns;
	return (u32)pos;
}
EXPORT_SYMBOL_GPL(hrservo_stop_point);

#define HRSERVO_NSEC_PER_SEC	1000000000U

/* a * b / 10^9 without overflow for a / 10^9 * b < 2^64. */
static u64 hrservo_mul_div_1e9(u64 a, u64 b)
{
	u32 rem;
	u64 q = div_u64_rem(a, HRSERVO_NSEC_PER_SEC, &rem);

	return q * b + div_u64_rem(rem * b, HRSERVO_NSEC_PER_SEC, &rem);
}

/* The high 64 bits of the 128-bit product @a * @b, in 32-bit pieces. */
static u64 hrservo_mulhi64(u64 a, u64 b)
{
	u64 a0 = (u32)a, a1 = a >> 32, b0 = (u32)b, b1 = b >> 32;
	u64 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	u64 mid = (p00 >> 32) + (u32)p01 + (u32)p10;

	return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/**
 * hrservo_div_init() - prepare exact division by a constant
 * @r: output
 * @d: the divisor, not 0
 *
 * Divides once, in the caller's (process) context, so that
 * hrservo_div_u64() can divide by @d with multiplications only: in hard
 * interrupt context, and on 32-bit machines without a 64-bit divider.
 */
void hrservo_div_init(struct hrservo_div *r, u64 d)
{
	r->d = d;
	r->inv = div64_u64(~0ULL, d);
}
EXPORT_SYMBOL_GPL(hrservo_div_init);

/**
 * hrservo_div_u64() - exact quotient by a prepared divisor
 * @n: the dividend
 * @r: the divisor, from hrservo_div_init()
 * @rem: output, the remainder
 *
 * inv = floor((2^64 - 1) / d) >= 2^64 / d - 1, so the estimate
 * floor(n * inv / 2^64) is floor(n / d) or one less; one comparison
 * corrects it.
 *
 * Return: floor(@n / @r->d).
 */
u64 hrservo_div_u64(u64 n, const struct hrservo_div *r, u64 *rem)
{
	u64 q = hrservo_mulhi64(n, r->inv);
	u64 m = n - q * r->d;

	if (m >= r->d) {
		q++;
		m -= r->d;
	}
	*rem = m;
	return q;
}
EXPORT_SYMBOL_GPL(hrservo_div_u64);

/**
 * hrservo_rate_per_frame() - a per-second limit in per-frame units
 * @rate: ns per second (@power 1: a speed) or ns per second squared
 *	(@power 2: an acceleration); 0 for no limit
 * @period_ns: frame period
 * @power: 1 or 2
 *
 * Return: the limit in 1/65536 ns per frame (or per frame squared); 0 if
 * @rate is 0. A non-zero rate never rounds down to 0.
 */
u64 hrservo_rate_per_frame(u32 rate, u32 period_ns, unsigned int power)
{
	u64 v = (u64)rate << HRSERVO_Q;

	if (!rate)
		return 0;
	while (power--)
		v = hrservo_mul_div_1e9(v, period_ns);
	return v ? v : 1;
}
EXPORT_SYMBOL_GPL(hrservo_rate_per_frame);

/**
 * hrservo_chan_step() - the pulse width of an enabled channel for one frame
 * @m: the channel's motion state
 * @lim: the channel's pulse limits
 * @desired_ns: where the channel should be this frame
 * @vmax: speed limit in 1/65536 ns per frame, 0 for none
 * @amax: acceleration limit in 1/65536 ns per frame squared, 0 for none
 * @moving: @desired_ns is a trajectory's point (see hrservo_motion_step())
 * @held: set if the limits (motion or pulse) held the channel away from
 *	@desired_ns
 *
 * @desired_ns approached within the speed and acceleration limits
 * (hrservo_motion_step()), rounded to the ns and never outside @lim. The
 * kernel's frame and the library's userspace player both step channels
 * with it.
 *
 * Return: the pulse width, in ns.
 */
u32 hrservo_chan_step(struct hrservo_motion *m,
		      const struct hrservo_chan_limits *lim, u32 desired_ns,
		      s64 vmax, s64 amax, bool moving, bool *held)
{
	s64 pos;

	*held = hrservo_motion_step(m, (s64)desired_ns << HRSERVO_Q, vmax,
				    amax, moving);
	pos = (m->pos + (1 << (HRSERVO_Q - 1))) >> HRSERVO_Q;
	if (pos < lim->min_ns) {
		pos = lim->min_ns;
		*held = true;
	} else if (pos > lim->max_ns) {
		pos = lim->max_ns;
		*held = true;
	}
	return (u32)pos;
}
EXPORT_SYMBOL_GPL(hrservo_chan_step);

/**
 * hrservo_isqrt() - integer square root, rounded down
 * @x: the radicand
 *
 * Return: floor(sqrt(@x)).
 */
u64 hrservo_isqrt(u64 x)
{
	u64 r = 0, bit = 1ULL << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}
EXPORT_SYMBOL_GPL(hrservo_isqrt);

static s64 hrservo_clamp_s64(s64 v, s64 lo, s64 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/**
 * hrservo_motion_step() - advance a channel by one frame toward a position
 * @m: the channel's motion state
 * @desired: where it should be this frame, in 1/65536 ns
 * @vmax: speed limit in 1/65536 ns per frame, 0 for none
 * @amax: acceleration limit in 1/65536 ns per frame squared, 0 for none
 * @moving: @desired is a trajectory's point for this frame; false for a
 *	target at rest (a set, or a trajectory's stop point)
 *
 * Without limits, or before the position is known, the channel goes to
 * @desired at once. Otherwise it moves toward @desired as a Pololu Maestro
 * does: never faster than @vmax, never changing speed by more than @amax per
 * frame, and slowing down in time to meet @desired.
 *
 * A @moving target is followed: while the channel is on it, the channel
 * moves with the target's own step and brakes only what is left, toward
 * where the target is going rather than toward a stop at this frame's
 * point, so a target that keeps within the limits is followed exactly. A
 * channel not on it (held back by the limits) approaches the target's
 * point of this frame, as it does a target at rest. A step
 * that ends within %HRSERVO_MOTION_SLACK of the target arrives at it: the
 * limits hold to within that, the rounding of targets to whole ns. A
 * channel too fast to stop at a moving target that came toward it
 * overshoots rather than brake beyond @amax; one that reaches a target at
 * rest stops there, as before.
 *
 * Return: true if the limits held the channel away from @desired.
 */
bool hrservo_motion_step(struct hrservo_motion *m, s64 desired, s64 vmax,
			 s64 amax, bool moving)
{
	s64 d, e, vt, vr, v, brake;
	u64 dist;

	if (!m->valid || (!vmax && !amax)) {
		m->vel = m->valid ? desired - m->pos : 0;
		m->pos = desired;
		m->last = desired;
		m->valid = true;
		return false;
	}
	d = desired - m->pos;
	/* How far the target itself moved since the last frame. */
	vt = moving ? desired - m->last : 0;
	m->last = desired;
	v = d;
	if (amax) {
		/*
		 * On the target (the gap e it left at the last frame within
		 * rounding): move with it, closing e. Otherwise, and for a
		 * target at rest, approach this frame's point: e = d. Either
		 * way slowly enough to stop (relative to the target) when the
		 * gap closes, decelerating by a per frame: w + (w - a) + ...
		 * <= e, i.e. w (w + a) <= 2 a e, w <= (sqrt(a^2 + 8 a e) -
		 * a) / 2 (computed in whole ns).
		 */
		u64 a = (u64)amax >> HRSERVO_Q ? (u64)amax >> HRSERVO_Q : 1;

		e = d - vt;
		vr = vt;
		if (e > HRSERVO_MOTION_SLACK || e < -HRSERVO_MOTION_SLACK) {
			e = d;
			vr = 0;
		}
		dist = (u64)(e < 0 ? -e : e) >> HRSERVO_Q;
		brake = (s64)(((hrservo_isqrt(a * a + 8 * a * dist) - a) / 2)
			      << HRSERVO_Q);
		brake = brake > amax ? brake : amax;
		v = vr + hrservo_clamp_s64(e, -brake, brake);
	}
	if (vmax)
		v = hrservo_clamp_s64(v, -vmax, vmax);
	if (amax)
		v = hrservo_clamp_s64(v, m->vel - amax, m->vel + amax);
	/*
	 * Within one step of the target, or within rounding of it: arrive,
	 * unless that would brake harder than the limit for a moving target
	 * (one that came back toward a channel moving fast): then it
	 * overshoots.
	 */
	if (((d >= 0 && v >= d - HRSERVO_MOTION_SLACK) ||
	     (d <= 0 && v <= d + HRSERVO_MOTION_SLACK)) &&
	    (!amax || !vt || (d >= m->vel - amax - HRSERVO_MOTION_SLACK &&
			      d <= m->vel + amax + HRSERVO_MOTION_SLACK))) {
		m->vel = d;
		m->pos = desired;
		return false;
	}
	m->vel = v;
	m->pos += v;
	return true;
}
EXPORT_SYMBOL_GPL(hrservo_motion_step);

/**
 * hrservo_poly_u() - normalised time of a segment
 * @elapsed_ns: time since the segment started, < the duration
 * @dur: the segment's length (at most 2^36 ns), from hrservo_div_init()
 *
 * Divides with multiplications only (see hrservo_div_u64()): this runs at
 * every frame, in hard interrupt context.
 *
 * Return: @elapsed_ns / duration as a 32-bit binary fraction, rounded
 * down.
 */
u32 hrservo_poly_u(u64 elapsed_ns, const struct hrservo_div *dur)
{
	u64 r = elapsed_ns, u = 0;
	int i;

	if (!dur->d || elapsed_ns >= dur->d)
		return 0xffffffff;
	/* Long division, 16 bits at a time: r < duration < 2^36. */
	for (i = 0; i < 2; i++)
		u = (u << 16) | hrservo_div_u64(r << 16, dur, &r);
	return (u32)u;
}
EXPORT_SYMBOL_GPL(hrservo_poly_u);

/* (a * u) / 2^32 for |a| < 2^62, truncated toward zero. */
static s64 hrservo_mul_u32(s64 a, u32 u)
{
	u64 m = a < 0 ? -(u64)a : (u64)a;
	u64 r = (m >> 32) * u + (((m & 0xffffffffULL) * u) >> 32);

	return a < 0 ? -(s64)r : (s64)r;
}

/**
 * hrservo_poly_eval() - evaluate a segment's polynomial
 * @c: the six coefficients c0..c5, in 1/65536 ns
 * @u: normalised time, a 32-bit binary fraction in [0, 1)
 *
 * Horner's scheme in integers: no floating point, hard-irq safe.
 *
 * Return: the position in 1/65536 ns.
 */
s64 hrservo_poly_eval(const s64 *c, u32 u)
{
	s64 acc = c[5];
	int k;

	for (k = 4; k >= 0; k--)
		acc = hrservo_mul_u32(acc, u) + c[k];
	return acc;
}
EXPORT_SYMBOL_GPL(hrservo_poly_eval);

/**
 * hrservo_poly_end() - a segment's polynomial at its end, u = 1
 * @c: the six coefficients
 *
 * Return: c0 + ... + c5, in 1/65536 ns.
 */
s64 hrservo_poly_end(const s64 *c)
{
	return c[0] + c[1] + c[2] + c[3] + c[4] + c[5];
}
EXPORT_SYMBOL_GPL(hrservo_poly_end);
