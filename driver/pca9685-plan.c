// SPDX-License-Identifier: GPL-2.0
/*
 * hrservo-pca9685 - register arithmetic and write planning of the PCA9685.
 *
 * Built into hrservo-pca9685.ko and, unchanged, into the host unit tests
 * (tests/unit/pca9685_test.c). See pca9685-plan.h.
 */
#include "pca9685-plan.h"

#ifdef __KERNEL__
#include <linux/math64.h>
#endif

#define PCA_NS_PER_S	1000000000ULL
/* 4096 counts per period, in the same unit as osc_hz * period_ns. */
#define PCA_PERIOD_UNIT	(PCA9685_COUNTS * PCA_NS_PER_S)

/*
 * Every division here is exact and safe on 32-bit machines. The *_by()
 * variants take a divisor prepared in process context (hrservo_div_init())
 * and divide with multiplications only (hrservo_div_u64()): they are the
 * ones that run in hard interrupt context, at every frame. A constant
 * divisor is prepared by the compiler; pca_div() divides by a variable, in
 * process context.
 */
static const struct hrservo_div pca_unit = {
	PCA_PERIOD_UNIT, ~0ULL / PCA_PERIOD_UNIT
};

static u64 pca_div(u64 n, u32 d)
{
#ifdef __KERNEL__
	return div_u64(n, d);
#else
	return n / d;
#endif
}

static u64 pca_div_by(u64 n, const struct hrservo_div *d)
{
	u64 rem;

	return hrservo_div_u64(n, d, &rem);
}

/**
 * pca9685_prescale() - PRE_SCALE for a PWM period, as the datasheet defines it
 * @osc_hz: oscillator frequency
 * @period_ns: wanted PWM period
 *
 * Return: round(osc_hz / (4096 * f)) - 1 with f = 1 / @period_ns; not
 * clamped, so that the caller can check it against 3..255.
 */
int pca9685_prescale(u32 osc_hz, u32 period_ns)
{
	u64 x = (u64)osc_hz * period_ns;

	/* Round half up; osc_hz * period_ns < 2^64 for any u32 pair. */
	return (int)pca_div_by(x + PCA_PERIOD_UNIT / 2, &pca_unit) - 1;
}

/**
 * pca9685_period_range() - the PWM periods whose PRE_SCALE lies in 3..255
 * @osc_hz: oscillator frequency
 * @min_ns: output, shortest such period
 * @max_ns: output, longest such period
 *
 * pca9685_prescale() is in range exactly for @min_ns <= period <= @max_ns.
 */
void pca9685_period_range(u32 osc_hz, u32 *min_ns, u32 *max_ns)
{
	/* prescale = p  <=>  (p + 0.5) * U <= osc * period < (p + 1.5) * U */
	u64 lo = (2ULL * PCA9685_PRESCALE_MIN + 1) * (PCA_PERIOD_UNIT / 2);
	u64 hi = (2ULL * PCA9685_PRESCALE_MAX + 3) * (PCA_PERIOD_UNIT / 2);
	u64 min = pca_div(lo + osc_hz - 1, osc_hz);
	u64 max = pca_div(hi - 1, osc_hz);

	*min_ns = min > 0xffffffffULL ? 0xffffffffU : (u32)min;
	*max_ns = max > 0xffffffffULL ? 0xffffffffU : (u32)max;
}

/**
 * pca9685_pwm_period_ns() - the PWM period the chip really makes
 * @osc_hz: oscillator frequency
 * @prescale: PRE_SCALE
 *
 * Return: 4096 * (@prescale + 1) / @osc_hz in ns, rounded.
 */
u32 pca9685_pwm_period_ns(u32 osc_hz, unsigned int prescale)
{
	u64 x = (u64)PCA_PERIOD_UNIT * (prescale + 1);

	return (u32)pca_div(x + osc_hz / 2, osc_hz);
}

/**
 * pca9685_counts() - counter ticks of a pulse
 * @osc_hz: oscillator frequency
 * @prescale: PRE_SCALE
 * @pulse_ns: pulse width, 0 for none
 *
 * Return: @pulse_ns in ticks of f_osc / (@prescale + 1), rounded to the
 * nearest, at least 1 for a pulse and at most 4095; 0 for no pulse.
 */
u32 pca9685_counts(u32 osc_hz, unsigned int prescale, u32 pulse_ns)
{
	struct hrservo_div tick;

	pca9685_tick_init(&tick, prescale);
	return pca9685_counts_by(osc_hz, &tick, pulse_ns);
}

/**
 * pca9685_tick_init() - prepare the tick of a PRE_SCALE for division
 * @tick: output, for pca9685_counts_by()
 * @prescale: PRE_SCALE
 *
 * Divides: call it in process context.
 */
void pca9685_tick_init(struct hrservo_div *tick, unsigned int prescale)
{
	/* ns per tick * osc */
	hrservo_div_init(tick, PCA_NS_PER_S * (prescale + 1));
}

/**
 * pca9685_counts_by() - pca9685_counts() without a division
 * @osc_hz: oscillator frequency
 * @tick: the PRE_SCALE's tick, from pca9685_tick_init()
 * @pulse_ns: pulse width, 0 for none
 *
 * Return: as pca9685_counts().
 */
u32 pca9685_counts_by(u32 osc_hz, const struct hrservo_div *tick,
		      u32 pulse_ns)
{
	u64 c;

	if (!pulse_ns)
		return 0;
	c = pca_div_by((u64)pulse_ns * osc_hz + tick->d / 2, tick);
	if (c < 1)
		c = 1;
	if (c > PCA9685_COUNTS - 1)
		c = PCA9685_COUNTS - 1;
	return (u32)c;
}

/**
 * pca9685_width_ns() - the pulse width of a number of ticks
 * @osc_hz: oscillator frequency
 * @prescale: PRE_SCALE
 * @counts: ticks
 *
 * Return: @counts * (@prescale + 1) / @osc_hz in ns, rounded.
 */
u32 pca9685_width_ns(u32 osc_hz, unsigned int prescale, u32 counts)
{
	struct hrservo_div osc;

	hrservo_div_init(&osc, osc_hz);
	return pca9685_width_by(&osc, prescale, counts);
}

/**
 * pca9685_width_by() - pca9685_width_ns() without a division
 * @osc: the oscillator frequency, from hrservo_div_init()
 * @prescale: PRE_SCALE
 * @counts: ticks
 *
 * Return: as pca9685_width_ns().
 */
u32 pca9685_width_by(const struct hrservo_div *osc, unsigned int prescale,
		     u32 counts)
{
	u64 x = (u64)counts * (prescale + 1) * PCA_NS_PER_S;

	return (u32)pca_div_by(x + osc->d / 2, osc);
}

/**
 * pca9685_step_ns() - one tick, rounded up to whole ns
 * @osc_hz: oscillator frequency
 * @prescale: PRE_SCALE
 *
 * Return: the pulse width resolution.
 */
u32 pca9685_step_ns(u32 osc_hz, unsigned int prescale)
{
	struct hrservo_div osc;

	hrservo_div_init(&osc, osc_hz);
	return pca9685_step_by(&osc, prescale);
}

/**
 * pca9685_step_by() - pca9685_step_ns() without a division
 * @osc: the oscillator frequency, from hrservo_div_init()
 * @prescale: PRE_SCALE
 *
 * Return: as pca9685_step_ns().
 */
u32 pca9685_step_by(const struct hrservo_div *osc, unsigned int prescale)
{
	u64 x = (u64)(prescale + 1) * PCA_NS_PER_S;

	return (u32)pca_div_by(x + osc->d - 1, osc);
}

/**
 * pca9685_stagger() - the rising edge of a channel
 * @ch: channel
 *
 * The 16 rising edges are spread evenly over the period, so that the
 * servos do not all draw their start current at once.
 *
 * Return: LEDn_ON of @ch.
 */
u16 pca9685_stagger(unsigned int ch)
{
	return (u16)(ch * (PCA9685_COUNTS / PCA9685_CHANNELS));
}

/**
 * pca9685_channel_regs() - LEDn_ON and LEDn_OFF of a channel
 * @ch: channel
 * @counts: pulse width in ticks, 0 for no pulse (full off)
 * @r: output
 */
void pca9685_channel_regs(unsigned int ch, u32 counts, struct pca9685_regs *r)
{
	r->on = pca9685_stagger(ch);
	if (!counts)
		r->off = PCA9685_FULL;
	else
		r->off = (u16)((r->on + counts) % PCA9685_COUNTS);
}

static bool pca9685_dirty(const struct pca9685_regs *want,
			  const struct pca9685_regs *have, u16 valid,
			  unsigned int ch)
{
	return !(valid & (1U << ch)) || want[ch].on != have[ch].on ||
	       want[ch].off != have[ch].off;
}

static void pca9685_put(u8 *buf, u16 v)
{
	buf[0] = v & 0xff;
	buf[1] = v >> 8;
}

/*
 * One block over channels first..last: from LEDn_OFF_L of the first
 * channel if its LEDn_ON is already right, else from its LEDn_ON_L.
 */
static void pca9685_block(const struct pca9685_regs *want,
			  const struct pca9685_regs *have, u16 valid,
			  unsigned int first, unsigned int last,
			  struct pca9685_block *b, u8 *buf, unsigned int *nbytes)
{
	bool skip_on = (valid & (1U << first)) && want[first].on == have[first].on;
	u8 *p = buf + *nbytes;
	unsigned int ch;

	b->reg = skip_on ? PCA9685_REG_OFF(first) : PCA9685_REG_ON(first);
	b->offset = (u16)*nbytes;
	b->mask = 0;
	for (ch = first; ch <= last; ch++) {
		if (ch != first || !skip_on) {
			pca9685_put(p, want[ch].on);
			p += 2;
		}
		pca9685_put(p, want[ch].off);
		p += 2;
		b->mask |= 1U << ch;
	}
	b->len = (u8)(p - (buf + *nbytes));
	*nbytes += b->len;
}

/**
 * pca9685_plan() - the fewest block writes that bring the chip to @want
 * @want: registers wanted, one per channel
 * @have: registers on the chip, valid for the channels in @valid
 * @valid: channels whose @have is known to be on the chip
 * @blocks: output, at most %PCA9685_BLOCKS_MAX blocks
 * @buf: output, the bytes of the blocks, at least
 *	%PCA9685_CHANNELS * 4 bytes
 * @nbytes: output, bytes used in @buf
 *
 * Only channels that change (or whose chip state is unknown) are written.
 * Consecutive ones go in one block of at most %PCA9685_BLOCK_MAX bytes
 * (eight channels); two runs with a single unchanged channel between them
 * are joined, rewriting that channel, because its 4 bytes cost less than
 * a second transaction (start, address, register, stop, and the adapter's
 * per-transfer overhead). A block starts at LEDn_OFF_L of its first
 * channel when LEDn_ON is already right (2 bytes less). Each channel's ON
 * and OFF registers always travel in one block, so the chip, which latches
 * a channel's new values at the STOP of the transfer, never sees a channel
 * half written.
 *
 * Return: number of blocks, 0 if nothing changed.
 */
unsigned int pca9685_plan(const struct pca9685_regs *want,
			  const struct pca9685_regs *have, u16 valid,
			  struct pca9685_block *blocks, u8 *buf,
			  unsigned int *nbytes)
{
	unsigned int ch = 0, n = 0;

	*nbytes = 0;
	while (ch < PCA9685_CHANNELS) {
		unsigned int first, last;

		if (!pca9685_dirty(want, have, valid, ch)) {
			ch++;
			continue;
		}
		first = ch;
		last = ch;
		/* Extend: dirty neighbours, and single clean gaps. */
		while (last + 1 < PCA9685_CHANNELS && last - first + 1 < 8) {
			if (pca9685_dirty(want, have, valid, last + 1)) {
				last++;
			} else if (last + 2 < PCA9685_CHANNELS &&
				   last - first + 2 < 8 &&
				   pca9685_dirty(want, have, valid, last + 2)) {
				last += 2;
			} else {
				break;
			}
		}
		pca9685_block(want, have, valid, first, last, &blocks[n++],
			      buf, nbytes);
		ch = last + 1;
	}
	return n;
}
