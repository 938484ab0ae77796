// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of driver/pca9685-plan.c, the register arithmetic and
 * write planning compiled unchanged into hrservo-pca9685.ko. References are
 * computed here in double precision from the datasheet's formulas.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pca9685-plan.h"

/* The datasheet's formula, in doubles. */
static int ref_prescale(double osc, double period_ns)
{
	return (int)floor(osc * period_ns / 1e9 / 4096.0 + 0.5) - 1;
}

TEST(prescale_datasheet_values)
{
	/* Datasheet: 200 Hz at 25 MHz gives 0x1E (the power-up value). */
	EXPECT_EQ(0x1e, pca9685_prescale(25000000, 5000000));
	/* Servos: 50 Hz at 25 MHz. */
	EXPECT_EQ(121, pca9685_prescale(25000000, 20000000));
	EXPECT_EQ(19988480, pca9685_pwm_period_ns(25000000, 121));
	/* One tick at 50 Hz: 122 / 25 MHz = 4880 ns. */
	EXPECT_EQ(4880, pca9685_step_ns(25000000, 121));
	EXPECT_EQ(4884, pca9685_step_ns(24980000, 121));
}

TEST(prescale_matches_reference)
{
	srand(1);
	for (int i = 0; i < 20000; i++) {
		uint32_t osc = 1000000 + (uint32_t)rand() % 49000001;
		uint32_t period = 100000 + (uint32_t)rand() % 60000000;

		ASSERT_EQ(ref_prescale(osc, period),
			  pca9685_prescale(osc, period)) {
			TH_LOG("osc %u period %u", osc, period);
		}
	}
}

TEST(period_range_edges)
{
	static const uint32_t oscs[] = { 23000000, 25000000, 27000000,
					 1000000, 50000000, 24576000 };

	for (unsigned int i = 0; i < sizeof(oscs) / sizeof(oscs[0]); i++) {
		uint32_t lo, hi;

		pca9685_period_range(oscs[i], &lo, &hi);
		EXPECT_EQ(3, pca9685_prescale(oscs[i], lo));
		EXPECT_EQ(2, pca9685_prescale(oscs[i], lo - 1));
		EXPECT_EQ(255, pca9685_prescale(oscs[i], hi));
		EXPECT_EQ(256, pca9685_prescale(oscs[i], hi + 1));
	}
}

TEST(counts_and_widths)
{
	srand(2);
	for (int i = 0; i < 20000; i++) {
		uint32_t osc = 23000000 + (uint32_t)rand() % 4000001;
		unsigned int pre = 3 + (unsigned int)rand() % 253;
		uint32_t pulse = 50000 + (uint32_t)rand() % 3000000;
		double tick = (pre + 1) * 1e9 / osc;
		double ref = floor(pulse / tick + 0.5);
		uint32_t c = pca9685_counts(osc, pre, pulse);

		if (ref < 1)
			ref = 1;
		if (ref > 4095)
			ref = 4095;
		ASSERT_EQ((uint32_t)ref, c);
		/* Round trip: the width of c ticks gives c ticks back. */
		ASSERT_EQ(c, pca9685_counts(osc, pre,
					    pca9685_width_ns(osc, pre, c)));
		ASSERT_LE(fabs(pca9685_width_ns(osc, pre, c) - c * tick), 0.5);
	}
	EXPECT_EQ(0, pca9685_counts(25000000, 121, 0));
	EXPECT_EQ(4095, pca9685_counts(25000000, 121, 40000000));
	EXPECT_EQ(1, pca9685_counts(25000000, 121, 1));
	/* 1.5 ms at 50 Hz: 307.2 ticks -> 307. */
	EXPECT_EQ(307, pca9685_counts(25000000, 121, 1500000));
}

TEST(channel_regs_stagger_and_wrap)
{
	struct pca9685_regs r;

	pca9685_channel_regs(0, 307, &r);
	EXPECT_EQ(0, r.on);
	EXPECT_EQ(307, r.off);
	pca9685_channel_regs(5, 307, &r);
	EXPECT_EQ(5 * 256, r.on);
	EXPECT_EQ(5 * 256 + 307, r.off);
	/* Channel 15 rises at 3840; 512 ticks wrap past 4095 to 256. */
	pca9685_channel_regs(15, 512, &r);
	EXPECT_EQ(3840, r.on);
	EXPECT_EQ(256, r.off);
	pca9685_channel_regs(7, 0, &r);
	EXPECT_EQ(7 * 256, r.on);
	EXPECT_EQ(PCA9685_FULL, r.off);
}

/* Apply planned blocks to a register image, as the chip would. */
static void apply(uint8_t *img, const struct pca9685_block *b, unsigned int n,
		  const uint8_t *buf)
{
	for (unsigned int i = 0; i < n; i++)
		memcpy(img + b[i].reg, buf + b[i].offset, b[i].len);
}

static void image_of(uint8_t *img, const struct pca9685_regs *r)
{
	for (unsigned int ch = 0; ch < PCA9685_CHANNELS; ch++) {
		uint8_t *p = img + PCA9685_REG_ON(ch);

		p[0] = r[ch].on & 0xff;
		p[1] = r[ch].on >> 8;
		p[2] = r[ch].off & 0xff;
		p[3] = r[ch].off >> 8;
	}
}

static void all_regs(struct pca9685_regs *r, uint32_t counts)
{
	for (unsigned int ch = 0; ch < PCA9685_CHANNELS; ch++)
		pca9685_channel_regs(ch, counts, &r[ch]);
}

TEST(plan_nothing_changed)
{
	struct pca9685_regs want[16], have[16];
	struct pca9685_block b[PCA9685_BLOCKS_MAX];
	uint8_t buf[64];
	unsigned int nb = 99;

	all_regs(want, 300);
	all_regs(have, 300);
	EXPECT_EQ(0, pca9685_plan(want, have, 0xffff, b, buf, &nb));
	EXPECT_EQ(0, nb);
}

TEST(plan_one_channel_writes_its_off_registers)
{
	struct pca9685_regs want[16], have[16];
	struct pca9685_block b[PCA9685_BLOCKS_MAX];
	uint8_t buf[64];
	unsigned int nb;

	all_regs(want, 300);
	all_regs(have, 300);
	pca9685_channel_regs(6, 310, &want[6]);
	ASSERT_EQ(1, pca9685_plan(want, have, 0xffff, b, buf, &nb));
	EXPECT_EQ(PCA9685_REG_OFF(6), b[0].reg);
	EXPECT_EQ(2, b[0].len);
	EXPECT_EQ(2, nb);
	EXPECT_EQ(1 << 6, b[0].mask);
	EXPECT_EQ((6 * 256 + 310) & 0xff, buf[0]);
	EXPECT_EQ((6 * 256 + 310) >> 8, buf[1]);
	/* Unknown chip state: ON goes too. */
	ASSERT_EQ(1, pca9685_plan(want, have, 0xffff & ~(1 << 6), b, buf, &nb));
	EXPECT_EQ(PCA9685_REG_ON(6), b[0].reg);
	EXPECT_EQ(4, b[0].len);
}

TEST(plan_all_channels_two_blocks)
{
	struct pca9685_regs want[16], have[16];
	struct pca9685_block b[PCA9685_BLOCKS_MAX];
	uint8_t buf[64];
	unsigned int nb;

	all_regs(want, 300);
	all_regs(have, 200);
	ASSERT_EQ(2, pca9685_plan(want, have, 0xffff, b, buf, &nb));
	EXPECT_EQ(PCA9685_REG_OFF(0), b[0].reg);
	EXPECT_EQ(30, b[0].len);
	EXPECT_EQ(0x00ff, b[0].mask);
	EXPECT_EQ(PCA9685_REG_OFF(8), b[1].reg);
	EXPECT_EQ(30, b[1].len);
	EXPECT_EQ(0xff00, b[1].mask);
	EXPECT_EQ(60, nb);
	/* From an unknown chip: full blocks of 32 bytes. */
	ASSERT_EQ(2, pca9685_plan(want, have, 0, b, buf, &nb));
	EXPECT_EQ(PCA9685_REG_ON(0), b[0].reg);
	EXPECT_EQ(32, b[0].len);
	EXPECT_EQ(PCA9685_REG_ON(8), b[1].reg);
	EXPECT_EQ(64, nb);
}

TEST(plan_joins_single_gaps_only)
{
	struct pca9685_regs want[16], have[16];
	struct pca9685_block b[PCA9685_BLOCKS_MAX];
	uint8_t buf[64];
	unsigned int nb;

	all_regs(want, 300);
	all_regs(have, 300);
	pca9685_channel_regs(2, 301, &want[2]);
	pca9685_channel_regs(4, 301, &want[4]);
	ASSERT_EQ(1, pca9685_plan(want, have, 0xffff, b, buf, &nb));
	EXPECT_EQ(PCA9685_REG_OFF(2), b[0].reg);
	EXPECT_EQ(2 + 4 + 4, b[0].len);
	EXPECT_EQ(0x1c, b[0].mask);

	pca9685_channel_regs(4, 300, &want[4]);
	pca9685_channel_regs(5, 301, &want[5]);
	ASSERT_EQ(2, pca9685_plan(want, have, 0xffff, b, buf, &nb));
	EXPECT_EQ(1 << 2, b[0].mask);
	EXPECT_EQ(1 << 5, b[1].mask);
	EXPECT_EQ(4, nb);
}

/* Random chip states and wishes: the plan always lands exactly on @want. */
TEST(plan_random_reaches_want)
{
	srand(3);
	for (int it = 0; it < 20000; it++) {
		struct pca9685_regs want[16], have[16];
		struct pca9685_block b[PCA9685_BLOCKS_MAX];
		uint8_t img[256], ref[256], buf[64];
		uint16_t valid = (uint16_t)rand(), covered = 0;
		unsigned int n, nb, dirty = 0;

		for (unsigned int ch = 0; ch < 16; ch++) {
			pca9685_channel_regs(ch, (uint32_t)rand() % 3 * 100,
					     &have[ch]);
			pca9685_channel_regs(ch, (uint32_t)rand() % 3 * 100,
					     &want[ch]);
			if (!(valid & (1 << ch)) ||
			    memcmp(&want[ch], &have[ch], sizeof(want[ch])))
				dirty |= 1U << ch;
		}
		/* The chip holds @have where valid, garbage elsewhere. */
		image_of(img, have);
		for (unsigned int ch = 0; ch < 16; ch++)
			if (!(valid & (1 << ch)))
				memset(img + PCA9685_REG_ON(ch), 0x5a, 4);
		n = pca9685_plan(want, have, valid, b, buf, &nb);
		apply(img, b, n, buf);
		image_of(ref, want);
		ASSERT_EQ(0, memcmp(img + PCA9685_LED0_ON_L,
				    ref + PCA9685_LED0_ON_L, 64));
		for (unsigned int i = 0; i < n; i++) {
			ASSERT_LE(b[i].len, PCA9685_BLOCK_MAX);
			ASSERT_EQ(0, covered & b[i].mask);
			covered |= b[i].mask;
		}
		/* Every dirty channel written; clean ones only in gaps. */
		ASSERT_EQ(dirty, covered & dirty);
		ASSERT_EQ(n == 0, dirty == 0);
	}
}

TEST_HARNESS_MAIN
