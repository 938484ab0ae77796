// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel driver's pure logic (driver/hrservo-logic.c, dual-licensed
 * GPL-2.0 OR LGPL-2.1-or-later), compiled into the library unchanged for the
 * backends that play pulses in userspace (lib/gpiod.c): the same edge plan,
 * motion limiter and polynomial evaluation as the kernel, never a copy.
 * None of its symbols is exported from the library.
 */
/* The system headers first: their functions are libc's, not hidden. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <linux/types.h>

#pragma GCC visibility push(hidden)
#include "hrservo-logic.c"
#pragma GCC visibility pop
