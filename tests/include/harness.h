/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Include the kselftest harness (extracted at build time from Debian's
 * linux-source-6.1, never committed) with the warnings its 6.1 version trips
 * under -Wall -Wextra silenced for the header itself. Its macros also expand
 * an unused parameter and signed/unsigned comparisons in the test bodies, so
 * the Makefile adds -Wno-unused-parameter -Wno-sign-compare for programs that
 * use the harness, and for those only.
 */
#ifndef HRSERVO_TEST_HARNESS_H
#define HRSERVO_TEST_HARNESS_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <kselftest_harness.h>
#pragma GCC diagnostic pop

#endif
