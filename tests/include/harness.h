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

/*
 * The harness's 30 s per test is guest time, and under -icount guest time
 * jumps ahead while the guest waits for the host (9p): on a loaded host a
 * healthy test hit it. The tests use this longer bound; the host's own
 * timeout of the whole guest run (tests/check) catches a real hang.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#endif
