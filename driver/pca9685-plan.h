/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hrservo-pca9685 - register arithmetic and write planning of the PCA9685
 *
 * Like hrservo-logic.c, nothing in here depends on the kernel: the same
 * pca9685-plan.c is built into hrservo-pca9685.ko and into the host unit
 * tests. Integer arithmetic only, no allocation, no locking.
 *
 * Numbers from the NXP PCA9685 datasheet (rev. 4): a 12-bit counter runs at
 * f_osc / (PRE_SCALE + 1), so one PWM period is 4096 * (PRE_SCALE + 1) /
 * f_osc and PRE_SCALE = round(f_osc / (4096 * f_pwm)) - 1, with 3 <=
 * PRE_SCALE <= 255. Each output n rises when the counter reaches LEDn_ON and
 * falls when it reaches LEDn_OFF (wrapping past 4095 if OFF < ON); bit 4 of
 * LEDn_OFF_H forces the output off.
 */
#ifndef _PCA9685_PLAN_H
#define _PCA9685_PLAN_H

#include "hrservo-logic.h"

#define PCA9685_CHANNELS	16
#define PCA9685_COUNTS		4096U
#define PCA9685_PRESCALE_MIN	3U
#define PCA9685_PRESCALE_MAX	255U

/* Internal oscillator: 25 MHz nominal, 23..27 MHz from chip to chip. */
#define PCA9685_OSC_DEFAULT_HZ	25000000U
#define PCA9685_OSC_INT_MIN_HZ	23000000U
#define PCA9685_OSC_INT_MAX_HZ	27000000U
/* External clock on EXTCLK: up to 50 MHz. */
#define PCA9685_EXTCLK_MIN_HZ	1000000U
#define PCA9685_EXTCLK_MAX_HZ	50000000U

/* Registers. */
#define PCA9685_MODE1		0x00
#define PCA9685_MODE2		0x01
#define PCA9685_LED0_ON_L	0x06
#define PCA9685_PRE_SCALE	0xfe
#define PCA9685_REG_ON(ch)	(PCA9685_LED0_ON_L + 4 * (ch))
#define PCA9685_REG_OFF(ch)	(PCA9685_LED0_ON_L + 4 * (ch) + 2)

#define PCA9685_MODE1_RESTART	0x80
#define PCA9685_MODE1_EXTCLK	0x40
#define PCA9685_MODE1_AI	0x20
#define PCA9685_MODE1_SLEEP	0x10
#define PCA9685_MODE1_ALLCALL	0x01
/* MODE2: totem-pole outputs, outputs change on STOP (OCH = 0), not inverted */
#define PCA9685_MODE2_OUTDRV	0x04
#define PCA9685_MODE2_SERVO	PCA9685_MODE2_OUTDRV

/* Bit 12 of a 13-bit ON or OFF value: full on / full off. */
#define PCA9685_FULL		0x1000U

/* Bytes of one SMBus I2C block write: 8 channels of 4 registers. */
#define PCA9685_BLOCK_MAX	32U

/**
 * struct pca9685_regs - the LEDn_ON and LEDn_OFF values of one channel
 * @on: counter value of the rising edge, with %PCA9685_FULL for full on
 * @off: counter value of the falling edge, with %PCA9685_FULL for full off
 */
struct pca9685_regs {
	u16 on;
	u16 off;
};

/**
 * struct pca9685_block - one register block write
 * @reg: first register
 * @len: number of bytes, at most %PCA9685_BLOCK_MAX
 * @offset: where its bytes start in the planned byte buffer
 * @mask: channels whose registers it writes
 */
struct pca9685_block {
	u8 reg;
	u8 len;
	u16 offset;
	u16 mask;
};

/* Most blocks of one plan: each dirty run gives at least one. */
#define PCA9685_BLOCKS_MAX	PCA9685_CHANNELS

int pca9685_prescale(u32 osc_hz, u32 period_ns);
void pca9685_period_range(u32 osc_hz, u32 *min_ns, u32 *max_ns);
u32 pca9685_pwm_period_ns(u32 osc_hz, unsigned int prescale);
u32 pca9685_counts(u32 osc_hz, unsigned int prescale, u32 pulse_ns);
u32 pca9685_width_ns(u32 osc_hz, unsigned int prescale, u32 counts);
void pca9685_tick_init(struct hrservo_div *tick, unsigned int prescale);
u32 pca9685_counts_by(u32 osc_hz, const struct hrservo_div *tick,
		      u32 pulse_ns);
u32 pca9685_width_by(const struct hrservo_div *osc, unsigned int prescale,
		     u32 counts);
u32 pca9685_step_ns(u32 osc_hz, unsigned int prescale);
u32 pca9685_step_by(const struct hrservo_div *osc, unsigned int prescale);
u16 pca9685_stagger(unsigned int ch);
void pca9685_channel_regs(unsigned int ch, u32 counts,
			  struct pca9685_regs *r);
unsigned int pca9685_plan(const struct pca9685_regs *want,
			  const struct pca9685_regs *have, u16 valid,
			  struct pca9685_block *blocks, u8 *buf,
			  unsigned int *nbytes);

#endif /* _PCA9685_PLAN_H */
