// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo: values as users type them ("1500us", "1.5ms", "50%", "+=10us"),
 * shared by the library's users and servoctl.
 *
 * Grammar: [SIGN] DIGITS [ "." DIGITS ] UNIT, where SIGN is "+=", "-=",
 * or "-" before an angle, at most 9 decimals, and UNIT one of ns us µs ms s
 * % deg rad. "+=" and "-=" make a relative value, in every unit, and only
 * they do. "-" before deg or rad is the sign of an absolute angle
 * ("-10deg"). Any other bare sign is refused as ambiguous (errno EDOM):
 * "+10deg" could be the angle 10 deg or 10 deg more, "+20us" and "-20us"
 * read as nudges but are not; the caller says both meanings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NANO		1000000000LL
/* Integer parts beyond this would overflow nano (int64). */
#define INT_PART_MAX	9000000000LL

static const struct {
	const char *name;
	enum hrservo_unit unit;
} units[] = {
	{ "ns", HRSERVO_UNIT_NS },
	{ "us", HRSERVO_UNIT_US },
	{ "\xc2\xb5s", HRSERVO_UNIT_US },	/* µs, UTF-8 */
	{ "ms", HRSERVO_UNIT_MS },
	{ "s", HRSERVO_UNIT_S },
	{ "%", HRSERVO_UNIT_PERCENT },
	{ "deg", HRSERVO_UNIT_DEG },
	{ "rad", HRSERVO_UNIT_RAD },
};

static bool is_angle(enum hrservo_unit u)
{
	return u == HRSERVO_UNIT_DEG || u == HRSERVO_UNIT_RAD;
}

HRSERVO_API int hrservo_value_parse(const char *s, struct hrservo_value *v)
{
	int sign = 0, frac_digits = 0;
	bool explicit_rel = false, digits = false;
	int64_t ip = 0, frac = 0;
	size_t i;

	if (!s)
		goto inval;
	if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		s++;
		if (*s == '=') {
			explicit_rel = true;
			s++;
		}
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		digits = true;
		ip = ip * 10 + (*s - '0');
		if (ip > INT_PART_MAX) {
			errno = ERANGE;
			return -1;
		}
	}
	if (*s == '.') {
		s++;
		for (; *s >= '0' && *s <= '9'; s++) {
			digits = true;
			if (++frac_digits > 9)
				goto inval;
			frac = frac * 10 + (*s - '0');
		}
	}
	if (!digits)
		goto inval;
	for (; frac_digits < 9; frac_digits++)
		frac *= 10;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(s, units[i].name))
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		goto inval;

	v->unit = units[i].unit;
	v->nano = ip * NANO + frac;
	v->sign = sign;
	if (sign < 0 && is_angle(v->unit) && !explicit_rel) {
		/* A negative absolute angle. */
		v->nano = -v->nano;
		v->sign = 0;
	} else if (sign && !explicit_rel) {
		/* Filled in, so that the caller can show both meanings. */
		errno = EDOM;
		return -1;
	}
	return 0;

inval:
	errno = EINVAL;
	return -1;
}

/*
 * The magnitude of a time value in ns (exact to below 1e-6 ns); -1 if @v is
 * not a time. Shared with the calibration's file parser.
 */
int hrservo_value_time_ns(const struct hrservo_value *v, double *ns)
{
	switch (v->unit) {
	case HRSERVO_UNIT_NS:
		*ns = (double)v->nano / 1e9;
		return 0;
	case HRSERVO_UNIT_US:
		*ns = (double)v->nano / 1e6;
		return 0;
	case HRSERVO_UNIT_MS:
		*ns = (double)v->nano / 1e3;
		return 0;
	case HRSERVO_UNIT_S:
		*ns = (double)v->nano;
		return 0;
	default:
		return -1;
	}
}

HRSERVO_API int hrservo_value_to_ns(const struct hrservo_value *v,
				    uint32_t min_ns, uint32_t max_ns,
				    uint32_t current_ns, uint32_t *pulse_ns)
{
	double ns;

	if (!hrservo_value_time_ns(v, &ns))
		goto have_ns;
	switch (v->unit) {
	case HRSERVO_UNIT_PERCENT:
		/* Percent of the range; absolute ones count from min. */
		ns = ((double)max_ns - (double)min_ns) * (double)v->nano / 1e11;
		if (!v->sign)
			ns += min_ns;
		break;
	default:
		errno = ENOTSUP;	/* angles need a calibration */
		return -1;
	}
have_ns:
	if (v->sign) {
		if (!current_ns) {
			errno = ENODATA;
			return -1;
		}
		ns = (double)current_ns + v->sign * ns;
	}
	ns = nearbyint(ns);
	if (ns < 0 || ns > (double)UINT32_MAX) {
		errno = ERANGE;
		return -1;
	}
	*pulse_ns = (uint32_t)ns;
	return 0;
}

HRSERVO_API const char *hrservo_format_ns(uint32_t ns, char *buf,
					  size_t size)
{
	unsigned int frac = ns % 1000;
	int n;

	if (!frac) {
		snprintf(buf, size, "%uus", ns / 1000);
		return buf;
	}
	n = snprintf(buf, size, "%u.%03u", ns / 1000, frac);
	/* Trim trailing zeros of the decimals: 1500.500 -> 1500.5 */
	while (n > 0 && (size_t)n < size && buf[n - 1] == '0')
		buf[--n] = '\0';
	if ((size_t)n + 3 <= size)
		strcpy(buf + n, "us");
	return buf;
}
