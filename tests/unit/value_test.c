// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of libhrservo's value parsing (lib/value.c), shared by
 * the library's users and servoctl: units, exact rounding in integers, and
 * the library's locale-independent number helpers under a decimal-comma
 * locale.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "comma_locale.h"
#include "internal.h"		/* the library's C-locale number helpers */

#define MIN	500000U
#define MAX	2500000U

/* Parse and resolve against [MIN, MAX] with current target @cur. */
static int ns_of(const char *s, uint32_t cur, uint32_t *ns)
{
	struct hrservo_value v;

	*ns = 0xdeadbeef;
	if (hrservo_value_parse(s, &v))
		return -errno;
	if (hrservo_value_to_ns(&v, MIN, MAX, cur, ns))
		return -errno;
	return 0;
}

TEST(absolute_units)
{
	uint32_t ns;

	EXPECT_EQ(0, ns_of("1500us", 0, &ns));
	EXPECT_EQ(1500000, ns);
	EXPECT_EQ(0, ns_of("1.5ms", 0, &ns));
	EXPECT_EQ(1500000, ns);
	EXPECT_EQ(0, ns_of("1500000ns", 0, &ns));
	EXPECT_EQ(1500000, ns);
	EXPECT_EQ(0, ns_of("0.0015s", 0, &ns));
	EXPECT_EQ(1500000, ns);
	EXPECT_EQ(0, ns_of("1500\xc2\xb5s", 0, &ns));
	EXPECT_EQ(1500000, ns);
	EXPECT_EQ(0, ns_of("1234.567us", 0, &ns));
	EXPECT_EQ(1234567, ns);
	EXPECT_EQ(0, ns_of("0.5ns", 0, &ns));	/* rounds to even */
	EXPECT_EQ(0, ns);
	EXPECT_EQ(0, ns_of("1.000000001ms", 0, &ns));
	EXPECT_EQ(1000000, ns);
	EXPECT_EQ(0, ns_of("0us", 0, &ns));
	EXPECT_EQ(0, ns);
	EXPECT_EQ(0, ns_of(".5ms", 0, &ns));
	EXPECT_EQ(500000, ns);
	EXPECT_EQ(0, ns_of("2.ms", 0, &ns));
	EXPECT_EQ(2000000, ns);
}

TEST(percent_of_range)
{
	uint32_t ns;

	EXPECT_EQ(0, ns_of("0%", 0, &ns));
	EXPECT_EQ(MIN, ns);
	EXPECT_EQ(0, ns_of("50%", 0, &ns));
	EXPECT_EQ(1500000, ns);
	EXPECT_EQ(0, ns_of("100%", 0, &ns));
	EXPECT_EQ(MAX, ns);
	EXPECT_EQ(0, ns_of("12.5%", 0, &ns));
	EXPECT_EQ(750000, ns);
	/* Beyond the range resolves; the limit check is the caller's. */
	EXPECT_EQ(0, ns_of("150%", 0, &ns));
	EXPECT_EQ(3500000, ns);
}

TEST(relative)
{
	uint32_t ns;

	EXPECT_EQ(0, ns_of("+=10us", 1500000, &ns));
	EXPECT_EQ(1510000, ns);
	EXPECT_EQ(0, ns_of("-=10us", 1500000, &ns));
	EXPECT_EQ(1490000, ns);
	EXPECT_EQ(0, ns_of("-=5%", 1500000, &ns));
	EXPECT_EQ(1400000, ns);
	EXPECT_EQ(0, ns_of("+=0.1ms", 1500000, &ns));
	EXPECT_EQ(1600000, ns);
	EXPECT_EQ(0, ns_of("-=1500us", 1500000, &ns));
	EXPECT_EQ(0, ns);
	EXPECT_EQ(-ENODATA, ns_of("+=10us", 0, &ns));
	EXPECT_EQ(-ERANGE, ns_of("-=1501us", 1500000, &ns));
	EXPECT_EQ(-ERANGE, ns_of("+=5s", 1500000, &ns));
}

/*
 * One syntax for relative values, in every unit: "+=" and "-=". A bare
 * sign that could be read either way is refused (EDOM), the value filled
 * in so that the caller can show both meanings: "+10deg" was the absolute
 * 10 deg while "+20us" was 20 us more.
 */
TEST(bare_signs_are_ambiguous)
{
	static const struct {
		const char *s;
		int sign;
		enum hrservo_unit unit;
		int64_t nano;
	} amb[] = {
		{ "+10deg", 1, HRSERVO_UNIT_DEG, 10000000000LL },
		{ "+0.5rad", 1, HRSERVO_UNIT_RAD, 500000000LL },
		{ "+20us", 1, HRSERVO_UNIT_US, 20000000000LL },
		{ "-20us", -1, HRSERVO_UNIT_US, 20000000000LL },
		{ "+10%", 1, HRSERVO_UNIT_PERCENT, 10000000000LL },
		{ "-5%", -1, HRSERVO_UNIT_PERCENT, 5000000000LL },
		{ "-1ms", -1, HRSERVO_UNIT_MS, 1000000000LL },
	};
	struct hrservo_value v;

	for (size_t i = 0; i < sizeof(amb) / sizeof(amb[0]); i++) {
		memset(&v, 0, sizeof(v));
		errno = 0;
		EXPECT_EQ(-1, hrservo_value_parse(amb[i].s, &v)) {
			TH_LOG("accepted \"%s\"", amb[i].s);
		}
		EXPECT_EQ(EDOM, errno);
		EXPECT_EQ(amb[i].sign, v.sign);
		EXPECT_EQ(amb[i].unit, v.unit);
		EXPECT_EQ(amb[i].nano, v.nano);
	}
	/* A negative angle is an angle. */
	ASSERT_EQ(0, hrservo_value_parse("-45deg", &v));
	EXPECT_EQ(0, v.sign);
	EXPECT_EQ(-45000000000LL, v.nano);
	ASSERT_EQ(0, hrservo_value_parse("+=10deg", &v));
	EXPECT_EQ(1, v.sign);
	ASSERT_EQ(0, hrservo_value_parse("-=10deg", &v));
	EXPECT_EQ(-1, v.sign);
	EXPECT_EQ(10000000000LL, v.nano);
}

TEST(angles_parse_but_need_calibration)
{
	struct hrservo_value v;
	uint32_t ns;

	ASSERT_EQ(0, hrservo_value_parse("-10deg", &v));
	EXPECT_EQ(0, v.sign);			/* an absolute angle */
	EXPECT_EQ(HRSERVO_UNIT_DEG, v.unit);
	EXPECT_EQ(-10000000000LL, v.nano);
	ASSERT_EQ(0, hrservo_value_parse("+=1.5rad", &v));
	EXPECT_EQ(1, v.sign);
	EXPECT_EQ(HRSERVO_UNIT_RAD, v.unit);
	EXPECT_EQ(1500000000LL, v.nano);
	EXPECT_EQ(-ENOTSUP, ns_of("90deg", 0, &ns));
}

TEST(garbage)
{
	static const char *const bad[] = {
		"", "us", "1500", "1500 us", " 1500us", "1500us ", "1500uss",
		"15x00us", "1.5.0ms", "1e3us", "0x10us", "--5us", "+-5us",
		"+", "-", "=5us", "1500US", "1,5ms", "abc", "1500u", "%",
		"1.0000000001ms", "nan", "inf",
	};
	struct hrservo_value v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, hrservo_value_parse(bad[i], &v)) {
			TH_LOG("accepted \"%s\"", bad[i]);
		}
		EXPECT_EQ(EINVAL, errno) {
			TH_LOG("\"%s\": errno %d", bad[i], errno);
		}
	}
	errno = 0;
	EXPECT_EQ(-1, hrservo_value_parse(NULL, &v));
	EXPECT_EQ(EINVAL, errno);
}

TEST(overflow)
{
	struct hrservo_value v;
	uint32_t ns;

	errno = 0;
	EXPECT_EQ(-1, hrservo_value_parse("9000000001s", &v));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, hrservo_value_parse("99999999999999999999999ns", &v));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(0, ns_of("4294967295ns", 0, &ns));
	EXPECT_EQ(4294967295U, ns);
	EXPECT_EQ(-ERANGE, ns_of("4294967296ns", 0, &ns));
	EXPECT_EQ(-ERANGE, ns_of("5s", 0, &ns));
	EXPECT_EQ(-ERANGE, ns_of("9000000000s", 0, &ns));
}

TEST(format)
{
	char buf[24];

	EXPECT_STREQ("1500us", hrservo_format_ns(1500000, buf, sizeof(buf)));
	EXPECT_STREQ("1500.5us", hrservo_format_ns(1500500, buf, sizeof(buf)));
	EXPECT_STREQ("0.001us", hrservo_format_ns(1, buf, sizeof(buf)));
	EXPECT_STREQ("0us", hrservo_format_ns(0, buf, sizeof(buf)));
	EXPECT_STREQ("4294967.295us",
		     hrservo_format_ns(4294967295U, buf, sizeof(buf)));
}

/* Round trip: every formatted width parses back to itself. */
TEST(format_parse_round_trip)
{
	uint32_t vals[] = { 0, 1, 999, 1000, 1500500, 2500000, 4294967295U };
	char buf[24];
	uint32_t ns;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		hrservo_format_ns(vals[i], buf, sizeof(buf));
		ASSERT_EQ(0, ns_of(buf, 0, &ns));
		EXPECT_EQ(vals[i], ns);
	}
}

/*
 * Values with decimals resolve in integers: doubles hold 16 digits, so
 * 10000001.499999999 ns was 10000001.5 and rounded up.
 */
TEST(decimals_round_exactly)
{
	struct hrservo_value v;
	uint32_t ns;

	EXPECT_EQ(0, ns_of("10000001.499999999ns", 0, &ns));
	EXPECT_EQ(10000001, ns);
	EXPECT_EQ(0, ns_of("10000001.500000001ns", 0, &ns));
	EXPECT_EQ(10000002, ns);
	EXPECT_EQ(0, ns_of("10000001.5ns", 0, &ns));	/* ties to even */
	EXPECT_EQ(10000002, ns);
	EXPECT_EQ(0, ns_of("10000002.5ns", 0, &ns));
	EXPECT_EQ(10000002, ns);
	EXPECT_EQ(0, ns_of("4294967.294999999us", 0, &ns));
	EXPECT_EQ(4294967295U, ns);
	EXPECT_EQ(0, ns_of("4294967.2954999us", 0, &ns));
	EXPECT_EQ(4294967295U, ns);
	EXPECT_EQ(-ERANGE, ns_of("4294967.2955us", 0, &ns));	/* ...296 */
	EXPECT_EQ(0, ns_of("4.294967295s", 0, &ns));
	EXPECT_EQ(4294967295U, ns);
	EXPECT_EQ(0, ns_of("2999.999999499ms", 0, &ns));
	EXPECT_EQ(2999999999U, ns);
	/* Relative: the sum is rounded, as one number. */
	EXPECT_EQ(0, ns_of("+=0.5ns", 1500001, &ns));
	EXPECT_EQ(1500002, ns);
	EXPECT_EQ(0, ns_of("-=0.5ns", 1500001, &ns));
	EXPECT_EQ(1500000, ns);
	EXPECT_EQ(0, ns_of("-=0.499999999ns", 1500001, &ns));
	EXPECT_EQ(1500001, ns);
	EXPECT_EQ(0, ns_of("-=1000000.500000001ns", 1500001, &ns));
	EXPECT_EQ(500000, ns);
	/* Percentages of the range, exactly. */
	EXPECT_EQ(0, ns_of("0.0000025%", 0, &ns));	/* 0.05 ns above min */
	EXPECT_EQ(MIN, ns);
	EXPECT_EQ(0, ns_of("33.333333333%", 0, &ns));	/* 666666.66666 */
	EXPECT_EQ(MIN + 666667, ns);
	EXPECT_EQ(0, ns_of("0.000025%", 0, &ns));	/* 0.5: even */
	EXPECT_EQ(MIN, ns);
	EXPECT_EQ(0, ns_of("0.000075%", 0, &ns));	/* 1.5: even */
	EXPECT_EQ(MIN + 2, ns);
	EXPECT_EQ(0, ns_of("-=0.000075%", MIN + 100, &ns));
	EXPECT_EQ(MIN + 98, ns);
	EXPECT_EQ(-ERANGE, ns_of("9000000000%", 0, &ns));
	EXPECT_EQ(-ERANGE, ns_of("-=9000000000%", MIN, &ns));
	/* A reversed range counts down from min. */
	ASSERT_EQ(0, hrservo_value_parse("25%", &v));
	ASSERT_EQ(0, hrservo_value_to_ns(&v, 2000000, 1000000, 0, &ns));
	EXPECT_EQ(1750000, ns);
}

TEST(scan_decimal)
{
	static const struct {
		const char *s;
		size_t with, without;	/* exponent allowed, not */
	} c[] = {
		{ "1.5e3x", 5, 3 }, { "-2.5E-3", 7, 4 }, { "+.5", 3, 3 },
		{ "5.", 2, 2 }, { "5.e2", 4, 2 }, { "1e", 1, 1 }, { "1e+", 1, 1 },
		{ "e5", 0, 0 }, { ".", 0, 0 }, { "-.e1", 0, 0 }, { "", 0, 0 },
		{ "inf", 0, 0 }, { "nan", 0, 0 }, { "0x10", 1, 1 },
		{ " 1", 0, 0 }, { "1,5", 1, 1 }, { "12deg", 2, 2 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		EXPECT_EQ(c[i].with, hrservo_scan_decimal(c[i].s, true)) {
			TH_LOG("'%s'", c[i].s);
		}
		EXPECT_EQ(c[i].without, hrservo_scan_decimal(c[i].s, false)) {
			TH_LOG("'%s'", c[i].s);
		}
	}
}

TEST(numbers_do_not_depend_on_the_locale)
{
	char buf[64], *end;
	uint32_t ns;

	if (!comma_locale()) {
		SKIP(return, "no locale with a decimal comma is installed (locale -a) and localedef could not make one");
	}
	/* What the library did: strtod() stops at the '.'. */
	ASSERT_EQ(0.0, strtod("0.5", NULL)) TH_LOG("the locale is not in effect");
	EXPECT_EQ(0.5, hrservo_strtod_c("0.5", &end));
	EXPECT_EQ('\0', *end);
	EXPECT_EQ(1.0, hrservo_strtod_c("1,5", &end));	/* ',' is no point */
	EXPECT_STREQ(",5", end);
	EXPECT_EQ(6, hrservo_snprintf_c(buf, sizeof(buf), "%.1f", 1000.5));
	EXPECT_STREQ("1000.5", buf);
	EXPECT_EQ(9, hrservo_snprintf_c(buf, sizeof(buf), "%g", 0.0001234));
	EXPECT_STREQ("0.0001234", buf);
	/* The locale is back for the program once the call returns. */
	snprintf(buf, sizeof(buf), "%.1f", 0.5);
	EXPECT_STREQ("0,5", buf);
	EXPECT_EQ(0, ns_of("1500.5us", 0, &ns));
	EXPECT_EQ(1500500, ns);
	EXPECT_STREQ("1500.5us", hrservo_format_ns(1500500, buf, sizeof(buf)));
}

TEST_HARNESS_MAIN
