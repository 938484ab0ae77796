/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hrservo - the one place for kernel API differences between the kernels our
 * users run: Debian bookworm's 6.1 and the 6.12 of bookworm-backports.
 * Up to 6.6 a GPIO chip is found with gpiochip_find(); from 6.7 on with
 * gpio_device_find_by_label(), which returns a reference. Up to 6.5 an I2C
 * driver without an id argument binds through .probe_new; from 6.3 on
 * .probe has no id argument, and .probe_new is gone from 6.6.
 */
#ifndef _HRSERVO_COMPAT_H
#define _HRSERVO_COMPAT_H

#include <linux/gpio/driver.h>

/*
 * HRSERVO_HAVE_* are feature tests on the target kernel's headers, made by
 * Kbuild, rather than version checks: distribution kernels backport.
 */
#ifdef HRSERVO_HAVE_GPIO_DEVICE_FIND_BY_LABEL
/**
 * hrservo_compat_chip_ngpio() - number of lines of a GPIO chip, by label
 * @label: the chip's label
 *
 * Return: the chip's line count, or -ENODEV if no chip has that label.
 */
static inline int hrservo_compat_chip_ngpio(const char *label)
{
	struct gpio_device *gdev = gpio_device_find_by_label(label);
	int ngpio;

	if (!gdev)
		return -ENODEV;
	ngpio = gpio_device_get_chip(gdev)->ngpio;
	gpio_device_put(gdev);
	return ngpio;
}
#else
static inline int hrservo_compat_match_label(struct gpio_chip *gc, void *data)
{
	return gc->label && !strcmp(gc->label, data);
}

static inline int hrservo_compat_chip_ngpio(const char *label)
{
	struct gpio_chip *gc;

	gc = gpiochip_find((void *)label, hrservo_compat_match_label);
	return gc ? gc->ngpio : -ENODEV;
}
#endif

/* The i2c_driver member for int probe(struct i2c_client *). */
#ifdef HRSERVO_HAVE_I2C_PROBE_NEW
#define HRSERVO_I2C_PROBE	probe_new
#else
#define HRSERVO_I2C_PROBE	probe
#endif

#endif /* _HRSERVO_COMPAT_H */
