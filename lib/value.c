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
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- Numbers in the C locale, whatever the program's locale ---- */

static _Atomic(locale_t) c_locale;

/* The "C" locale object, made once; (locale_t)0 if it cannot be made. */
static locale_t c_loc(void)
{
	locale_t l = atomic_load(&c_locale), none = (locale_t)0;

	if (l)
		return l;
	l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (!l)
		return (locale_t)0;
	if (!atomic_compare_exchange_strong(&c_locale, &none, l)) {
		freelocale(l);		/* another thread was first */
		l = none;
	}
	return l;
}

double hrservo_strtod_c(const char *s, char **end)
{
	locale_t l = c_loc();

	if (!l) {
		if (end)
			*end = (char *)s;
		errno = ENOMEM;
		return 0;
	}
	return strtod_l(s, end, l);
}

int hrservo_vsnprintf_c(char *buf, size_t size, const char *fmt, va_list ap)
{
	locale_t l = c_loc(), old;
	int n;

	if (!l) {
		errno = ENOMEM;
		return -1;
	}
	/* uselocale() is per thread: other threads keep their locale. */
	old = uselocale(l);
	if (!old) {
		errno = ENOMEM;
		return -1;
	}
	n = vsnprintf(buf, size, fmt, ap);
	uselocale(old);
	return n;
}

int hrservo_snprintf_c(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = hrservo_vsnprintf_c(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

size_t hrservo_scan_decimal(const char *s, bool exponent)
{
	size_t i = 0, digits = 0;

	if (s[i] == '+' || s[i] == '-')
		i++;
	for (; is_digit(s[i]); i++)
		digits++;
	if (s[i] == '.')
		for (i++; is_digit(s[i]); i++)
			digits++;
	if (!digits)
		return 0;
	if (exponent && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = i + 1;

		if (s[e] == '+' || s[e] == '-')
			e++;
		if (is_digit(s[e])) {
			while (is_digit(s[e]))
				e++;
			i = e;
		}
	}
	return i;
}

/* ---- Values ---- */

/*
 * An exact magnitude: q + rem / den, with 0 <= rem < den. Pulse widths are
 * computed from it in integers, so that a value just below a half rounds
 * down however many digits it has (doubles hold 16).
 */
struct exact {
	uint64_t q, rem, den;
};

/*
 * What the value amounts to in ns, before its sign and base: 0, or -1 with
 * errno ERANGE or ENOTSUP (an angle).
 */
static int magnitude_ns(const struct hrservo_value *v, uint32_t min_ns,
			uint32_t max_ns, struct exact *m, bool *negate)
{
	/* (Negated as unsigned: a caller's INT64_MIN is no overflow.) */
	uint64_t nano = v->nano < 0 ? 0 - (uint64_t)v->nano : (uint64_t)v->nano;
	uint64_t range, ip, frac, a, x;

	*negate = v->nano < 0;
	switch (v->unit) {
	case HRSERVO_UNIT_NS:
		m->den = 1000000000;
		break;
	case HRSERVO_UNIT_US:
		m->den = 1000000;
		break;
	case HRSERVO_UNIT_MS:
		m->den = 1000;
		break;
	case HRSERVO_UNIT_S:
		m->den = 1;
		break;
	case HRSERVO_UNIT_PERCENT:
		/* range * nano / 1e11, in parts that fit in 64 bits. */
		if (max_ns >= min_ns) {
			range = max_ns - min_ns;
		} else {
			range = min_ns - max_ns;
			*negate = !*negate;
		}
		ip = nano / 1000000000;
		frac = nano % 1000000000;
		/* Beyond 2^34 ns either way is out of range from any base. */
		if (range && ip > (100ULL << 34) / range) {
			errno = ERANGE;
			return -1;
		}
		a = range * ip;			/* < 100 * 2^34 + range */
		x = (a % 100) * 1000000000 + range * frac;	/* < 2^63 */
		m->q = a / 100 + x / 100000000000ULL;
		m->rem = x % 100000000000ULL;
		m->den = 100000000000ULL;
		return 0;
	default:
		errno = ENOTSUP;	/* angles need a calibration */
		return -1;
	}
	m->q = nano / m->den;
	m->rem = nano % m->den;
	return 0;
}

HRSERVO_API int hrservo_value_to_ns(const struct hrservo_value *v,
				    uint32_t min_ns, uint32_t max_ns,
				    uint32_t current_ns, uint32_t *pulse_ns)
{
	struct exact m;
	int64_t base = 0, ip;
	uint64_t frac;
	bool negate;

	if (magnitude_ns(v, min_ns, max_ns, &m, &negate))
		return -1;
	if (v->sign) {
		if (!current_ns) {
			errno = ENODATA;
			return -1;
		}
		base = current_ns;
		if (v->sign < 0)
			negate = !negate;
	} else if (v->unit == HRSERVO_UNIT_PERCENT) {
		base = min_ns;		/* absolute percentages count from min */
	}
	if (m.q > (uint64_t)1 << 40) {	/* far beyond 32 bits either way */
		errno = ERANGE;
		return -1;
	}
	/* base +- (q + rem/den) = ip + frac/den, 0 <= frac < den */
	if (!negate) {
		ip = base + (int64_t)m.q;
		frac = m.rem;
	} else {
		ip = base - (int64_t)m.q - (m.rem ? 1 : 0);
		frac = m.rem ? m.den - m.rem : 0;
	}
	/* To the nearest ns, ties to even (as nearbyint() did). */
	if (frac * 2 > m.den || (frac * 2 == m.den && (ip & 1)))
		ip++;
	if (ip < 0 || ip > (int64_t)UINT32_MAX) {
		errno = ERANGE;
		return -1;
	}
	*pulse_ns = (uint32_t)ip;
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
