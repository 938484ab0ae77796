# SPDX-License-Identifier: GPL-2.0
# hrservo: kernel modules, userspace, tests.
#
#   make              modules for KDIR, and the test programs
#   make deps         install the Debian packages everything needs (as root)
#   make check        deps, build, host tests, guest tests on 6.1 and 6.12
#   make demo         boot a guest and show commanded vs measured pulses
#   make bench        timing figures (edge error, expiries per frame)
#   make lint         checkpatch --strict and sparse on the kernel code
#
# KDIR defaults to the running kernel's build tree, else the newest
# installed Debian linux-headers-*-amd64. Modules land in build/kmod/KVER/.

KVER ?= $(shell uname -r)
KDIR ?= $(or $(wildcard /lib/modules/$(KVER)/build),$(lastword $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V)))
KREL = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null || basename $(KDIR))

BUILD := build
KSRC := $(BUILD)/ksrc
TESTBIN := $(BUILD)/tests

CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
# The kselftest harness macros expand an unused parameter and mixed-sign
# comparisons inside test bodies: silenced for harness programs only.
HARNESS_CFLAGS := -std=gnu11 $(WARN) -Wno-unused-parameter -Wno-sign-compare \
	-I$(KSRC)/include -Itests/include -Idriver

GUEST_TESTS := ioctl_test pulse_test lifecycle_test event_test
UNIT_TESTS := logic_test

.PHONY: all modules modules-test tests harness unit check demo bench lint \
	deps clean help print-guest-tests

all: modules tests

help:
	@sed -n '2,/^$$/s/^# \{0,1\}//p' Makefile

deps:
	@scripts/deps

modules:
	@scripts/build-modules $(KDIR) $(BUILD)/kmod/$(KREL) HRSERVO_WERROR=y

# The modules for every test kernel (Debian 6.1 and 6.12).
modules-test:
	@set -e; for k in $$(scripts/test-kernels); do \
		scripts/build-modules /lib/modules/$$k/build $(BUILD)/kmod/$$k \
			HRSERVO_WERROR=y; \
	done

harness: $(KSRC)/.stamp
$(KSRC)/.stamp:
	@scripts/kernel-tools $(KSRC)

tests: $(addprefix $(TESTBIN)/,$(GUEST_TESTS) $(UNIT_TESTS) hrservo-measure)

$(TESTBIN)/%_test: tests/driver/%_test.c tests/driver/testlib.c \
		tests/driver/testlib.h driver/uapi/hrservo.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Itests/driver -o $@ $< \
		tests/driver/testlib.c

# Guest program of make demo and make bench.
$(TESTBIN)/hrservo-measure: bench/measure.c tests/driver/testlib.c \
		tests/driver/testlib.h driver/uapi/hrservo.h
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) -std=gnu11 $(WARN) -Itests/driver -Idriver -o $@ $< \
		tests/driver/testlib.c

# Host unit tests run under ASan and UBSan.
$(TESTBIN)/logic_test: tests/unit/logic_test.c driver/hrservo-logic.c \
		driver/hrservo-logic.h driver/uapi/hrservo.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -fsanitize=address,undefined \
		-fno-sanitize-recover=all -o $@ $< driver/hrservo-logic.c

unit: $(TESTBIN)/logic_test
	$(TESTBIN)/logic_test

check:
	@tests/check

demo: deps modules-test tests
	@tests/demo

bench: deps modules-test tests
	@bench/run

lint: harness
	@tests/lint

print-guest-tests:
	@echo $(GUEST_TESTS)

clean:
	rm -rf $(BUILD)
