# SPDX-License-Identifier: GPL-2.0
# hrservo: kernel modules, userspace, tests.
#
#   make              modules for KDIR, libhrservo and servoctl
#   make deps         install the Debian packages everything needs (as root)
#   make check        deps, build, host tests, guest tests on 6.1, 6.12, 6.1-rt
#   make demo         boot a guest and show commanded vs measured pulses
#   make bench        timing figures (edges, trajectories, userspace)
#   make cost         instructions per frame of the kernel's pure logic
#                     (callgrind, host): build/bench/cost.txt
#   make tests        the test programs (make check builds them)
#   make lint         checkpatch --strict and sparse on the kernel code
#   make dtbs         overlays (dts/) to build/dts/*.dtbo; bindings linted,
#                     their examples compiled and checked (warnings fail)
#   make modules-cross    modules for arm64 and armhf (Debian's headers)
#   make userspace-cross  libhrservo and servoctl for arm64 and armhf
#   make unit-armhf   the pure-logic unit tests as armhf programs, under qemu-arm
#   make tests-arm64  the arm64 device-tree guest's programs (static) and its
#                     test overlay (tests/vm/run-guest-arm64)
#   make install      modules (for KDIR), library, header, servoctl, man page,
#                     udev rules, overlays; DESTDIR, PREFIX (/usr/local)
#   make uninstall    removes what make install installs (same variables)
#   make install-dkms the module sources and dkms.conf in /usr/src/hrservo-VER
#   make deb          Debian packages (debian/) in build/deb/, from a copy
#
# KDIR defaults to the running kernel's build tree, else the newest
# installed Debian linux-headers-*-amd64. Modules land in build/kmod/KVER/.

KVER ?= $(shell uname -r)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/hrservo
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
OVERLAYDIR ?= $(DATADIR)/hrservo/overlays
# udev's own directory for a /usr install (a package), else the admin's.
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/udev/rules.d,/etc/udev/rules.d)
# Below /lib/modules/KREL/: extra/ is the kernel's default for out-of-tree
# modules; DKMS (Debian) uses updates/dkms, which depmod prefers, so a DKMS
# build for a kernel wins over a make install one.
MODDIR ?= extra/hrservo
KDIR ?= $(or $(wildcard /lib/modules/$(KVER)/build),$(lastword $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V)))
# The release the kernel reports (uname -r, /lib/modules/KREL): UTS_RELEASE.
# Debian's 6.1 headers have the upstream version in kernel.release
# (6.1.192 for 6.1.0-57-amd64), so that file comes second.
KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null | grep . || \
	cat $(KDIR)/include/config/kernel.release 2>/dev/null || basename $(KDIR))

BUILD := build
KSRC := $(BUILD)/ksrc
TESTBIN := $(BUILD)/tests

CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
# libevdev (lib/teleop.c, servoctl teleop, gamepad_test): its header is
# under a directory of its own.
EVDEV_CFLAGS = $$(pkg-config --cflags libevdev)
EVDEV_LIBS = $$(pkg-config --libs libevdev)
# The gpiod backend (lib/gpiod.c), where pkg-config finds libgpiod v2
# (bookworm-backports' libgpiod-dev, installed by make deps; for
# userspace-cross, that of the target architecture): without it, "gpiod:"
# specs fail with ENOTSUP. HRSERVO_GPIOD=n leaves it out.
HRSERVO_GPIOD ?= $(shell pkg-config --atleast-version=2 libgpiod 2>/dev/null && echo y)
ifeq ($(HRSERVO_GPIOD),y)
GPIOD_SRCS := lib/gpiod.c
GPIOD_CFLAGS := -DHRSERVO_HAVE_GPIOD
GPIOD_LIBS := $$(pkg-config --libs libgpiod) -pthread
endif

# The kselftest harness macros expand an unused parameter and mixed-sign
# comparisons inside test bodies: silenced for harness programs only.
HARNESS_CFLAGS := -std=gnu11 $(WARN) -Wno-unused-parameter -Wno-sign-compare \
	-I$(KSRC)/include -Itests/include -Idriver $(EVDEV_CFLAGS) $(GPIOD_CFLAGS)

GUEST_TESTS := ioctl_test pulse_test lifecycle_test event_test servoctl_test \
	lib_test traj_test pca9685_test safety_test record_test gamepad_test \
	fwnode_test
# Guest runs: TEST@BACKEND runs a test on another backend (tests/vm/guest-suite).
# i386/TEST runs the 32-bit x86 build of TEST: a 32-bit userland on the 64-bit
# kernel (compat ioctls).
I386_TESTS := ioctl_test
GUEST_RUNS := $(GUEST_TESTS) traj_test@pca9685 servoctl_test@pca9685 \
	safety_test@pca9685 record_test@pca9685 \
	$(addprefix i386/,$(I386_TESTS))
# lib_test@gpiod, gamepad_test@gpiod: the library's tests and teleop
# through the gpiod backend.
ifeq ($(HRSERVO_GPIOD),y)
GUEST_RUNS += lib_test@gpiod gamepad_test@gpiod
endif
UNIT_TESTS := logic_test value_test traj_plan_test pca9685_plan_test calib_test \
	leadin_test calib_apply_test judge_test cli_fake_test teleop_test \
	bench_stats_test backend_test arena_test testlib_test
# The arm64 device-tree guest: dt_test and a subset of the core tests, as
# static arm64 programs (tests/vm/run-guest-arm64), in this order (see
# tests/vm/guest-suite-arm64).
ARM64_TESTS := dt_test fwnode_test ioctl_test pulse_test event_test \
	traj_test safety_test lifecycle_test
ARM64_CC := aarch64-linux-gnu-gcc
# The unit tests of the kernel's pure logic, also built for 32-bit ARM.
ARMHF_UNIT_TESTS := logic_test pca9685_plan_test arena_test

# Cross compilers (Debian's gcc-*-linux-gnu*, installed by make deps).
CROSS_ARCHS := arm64:aarch64-linux-gnu armhf:arm-linux-gnueabihf
ARMHF_CC := arm-linux-gnueabihf-gcc
I386_CC := i686-linux-gnu-gcc
QEMU_ARM := qemu-arm -L /usr/arm-linux-gnueabihf

# libhrservo and servoctl
LIB_VERSION := 0.5.0
LIB_SONAME := libhrservo.so.0
LIB_SRCS := lib/core.c lib/chardev.c lib/value.c lib/traj.c lib/ini.c \
	lib/calib.c lib/leadin.c lib/teleop.c lib/logic.c lib/arena.c \
	$(GPIOD_SRCS)
LIB_HDRS := lib/hrservo.h lib/internal.h driver/uapi/hrservo.h \
	driver/hrservo-logic.h driver/hrservo-logic.c
# inih reads calibration and teleop map files, libevdev names the evdev
# codes of a teleop map.
USER_CFLAGS := -std=c11 $(WARN) -Wshadow -Ilib -Idriver $(EVDEV_CFLAGS) \
	$(GPIOD_CFLAGS)
LIB_LIBS := -linih $$(pkg-config --libs libevdev) -lm $(GPIOD_LIBS)
LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIBS := $(BUILD)/lib/libhrservo.so.$(LIB_VERSION) $(BUILD)/lib/$(LIB_SONAME) \
	$(BUILD)/lib/libhrservo.so $(BUILD)/lib/libhrservo.a \
	$(BUILD)/lib/hrservo.pc
TOOLS := $(BUILD)/bin/servoctl $(BUILD)/bin/servoctl-plot
# Sanitizer builds of the CLI (library compiled in) for the tests.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_TOOLS := $(BUILD)/asan/servoctl $(BUILD)/asan/servoctl-plot

.PHONY: all modules modules-test tests harness unit check demo bench lint dtbs \
	deps clean help cost print-guest-tests print-unit-tests userspace \
	modules-cross userspace-cross lib-servoctl tests-armhf unit-armhf \
	tests-i386 print-armhf-unit-tests tests-arm64 print-arm64-tests

all: modules userspace

userspace: $(LIBS) $(TOOLS) $(BUILD)/examples/sweep

# The library and servoctl alone (no cairo): what userspace-cross builds.
lib-servoctl: $(LIBS) $(BUILD)/bin/servoctl

# libhrservo and servoctl for arm64 and armhf in build/cross/ARCH/, against
# json-c and inih of that architecture (multiarch, found by pkg-config).
userspace-cross:
	@set -e; for a in $(CROSS_ARCHS); do \
		t=$${a#*:}; \
		PKG_CONFIG_LIBDIR=/usr/lib/$$t/pkgconfig:/usr/share/pkgconfig \
		$(MAKE) --no-print-directory BUILD=$(BUILD)/cross/$${a%%:*} \
			CC=$$t-gcc AR=$$t-ar lib-servoctl; \
	done

# The examples build as a user would: against the header and the library.
$(BUILD)/examples/%: examples/%.c lib/hrservo.h $(BUILD)/lib/libhrservo.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=c11 $(WARN) -Ilib -o $@ $< -L$(BUILD)/lib -lhrservo \
		-Wl,-rpath,'$$ORIGIN/../lib'

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(USER_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/lib/libhrservo.so.$(LIB_VERSION): $(LIB_OBJS) lib/libhrservo.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=lib/libhrservo.map -Wl,--no-undefined \
		-o $@ $(LIB_OBJS) $(LIB_LIBS)

$(BUILD)/lib/$(LIB_SONAME) $(BUILD)/lib/libhrservo.so: \
		$(BUILD)/lib/libhrservo.so.$(LIB_VERSION)
	ln -sf libhrservo.so.$(LIB_VERSION) $@

$(BUILD)/lib/libhrservo.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# libdir and includedir relative to ${prefix} when under it, so that
# pkg-config --define-prefix can relocate a staged (DESTDIR) tree.
pc_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|' \
	-e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|' \
	-e 's|@VERSION@|$(LIB_VERSION)|' \
	-e 's|@REQUIRES_PRIVATE@|inih libevdev$(if $(GPIOD_SRCS), libgpiod >= 2)|' \
	-e 's|@LIBS_PRIVATE@|-lm$(if $(GPIOD_SRCS), -pthread)|'

$(BUILD)/lib/hrservo.pc: lib/hrservo.pc.in
	$(PC_SED) $< > $@

PLOT_LIBS = $$(pkg-config --libs cairo fontconfig) -lm
PLOT_CFLAGS = $$(pkg-config --cflags cairo fontconfig)

SERVOCTL_SRCS := tools/servoctl.c tools/common.c tools/cmd-list.c \
	tools/cmd-set.c tools/cmd-limits.c tools/cmd-monitor.c tools/cmd-traj.c \
	tools/calibrate.c tools/cmd-jog.c tools/cmd-estop.c tools/cmd-record.c \
	tools/cmd-teleop.c

$(BUILD)/bin/servoctl: $(SERVOCTL_SRCS) tools/servoctl.h lib/hrservo.h \
		$(BUILD)/lib/$(LIB_SONAME) $(BUILD)/lib/libhrservo.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(USER_CFLAGS) -o $@ $(SERVOCTL_SRCS) -L$(BUILD)/lib -lhrservo \
		$$(pkg-config --libs json-c) $(EVDEV_LIBS) -lm \
		-Wl,-rpath,'$$ORIGIN/../lib'

# The drawing of 'servoctl traj plot', so that servoctl loads no cairo.
$(BUILD)/bin/servoctl-plot: tools/servoctl-plot.c tools/plot.c tools/plot.h \
		lib/hrservo.h $(BUILD)/lib/$(LIB_SONAME) $(BUILD)/lib/libhrservo.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(USER_CFLAGS) $(PLOT_CFLAGS) -o $@ \
		tools/servoctl-plot.c tools/plot.c -L$(BUILD)/lib -lhrservo \
		$(PLOT_LIBS) -Wl,-rpath,'$$ORIGIN/../lib'

$(BUILD)/asan/servoctl: $(SERVOCTL_SRCS) tools/servoctl.h $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(USER_CFLAGS) $(SAN) -o $@ $(SERVOCTL_SRCS) \
		$(LIB_SRCS) $$(pkg-config --libs json-c) $(LIB_LIBS)

$(BUILD)/asan/servoctl-plot: tools/servoctl-plot.c tools/plot.c tools/plot.h \
		$(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(USER_CFLAGS) $(PLOT_CFLAGS) $(SAN) -o $@ \
		tools/servoctl-plot.c tools/plot.c $(LIB_SRCS) $(PLOT_LIBS) $(LIB_LIBS)

help:
	@sed -n '2,/^$$/s/^# \{0,1\}//p' Makefile

deps:
	@scripts/deps

modules:
	@scripts/build-modules $(KDIR) $(BUILD)/kmod/$(KREL) HRSERVO_WERROR=y

# The modules for every test kernel (Debian 6.1, 6.12 and 6.1 PREEMPT_RT).
modules-test:
	@set -e; for k in $$(scripts/test-kernels); do \
		scripts/build-modules /lib/modules/$$k/build $(BUILD)/kmod/$$k \
			HRSERVO_WERROR=y; \
	done

# The modules for arm64 and armhf against Debian's headers of the 6.1 and 6.12
# series (scripts/cross-headers, fetched by make deps), in
# build/kmod-cross/ARCH-KREL/, checked for libgcc's 64-bit division helpers.
modules-cross:
	@scripts/modules-cross $(BUILD)/kmod-cross

harness: $(KSRC)/.stamp
$(KSRC)/.stamp:
	@scripts/kernel-tools $(KSRC)

tests: $(ASAN_TOOLS) $(addprefix $(TESTBIN)/,$(GUEST_TESTS) $(UNIT_TESTS) \
	hrservo-measure hrservo-set-rate hrservo-traj-bench hrservo-pca-bench \
	hrservo-safety-bench hrservo-timer-probe acpi_test \
	$(if $(GPIOD_SRCS),hrservo-gpiod-bench)) $(BUILD)/acpi/hrservo-ssdt.aml \
	$(BUILD)/bench/cost tests-i386

# Other ABIs reuse the host rules below with another compiler, statically
# linked (the guest's root, the host's, has no i386 or armhf libraries) and
# without the sanitizers.
CROSS_TEST_MAKE = $(MAKE) --no-print-directory SAN= CFLAGS='$(CFLAGS) -static'

# 32-bit x86 guest programs: build/tests/i386/.
tests-i386:
	@$(CROSS_TEST_MAKE) CC=$(I386_CC) TESTBIN=$(TESTBIN)/i386 \
		$(addprefix $(TESTBIN)/i386/,$(I386_TESTS))

# The arm64 guest's programs (tests/vm/run-guest-arm64; its root is busybox
# alone): build/tests/arm64/.
tests-arm64: $(BUILD)/dts/test/arm64-loopback.dtbo
	@$(CROSS_TEST_MAKE) CC=$(ARM64_CC) TESTBIN=$(TESTBIN)/arm64 \
		$(addprefix $(TESTBIN)/arm64/,$(ARM64_TESTS))

# The ACPI test's table (tests/vm/run-guest --acpi-table), warnings as errors.
$(BUILD)/acpi/%.aml: tests/acpi/%.asl
	@mkdir -p $(dir $@)
	@iasl -we -p $(basename $@) $< > $(basename $@).log 2>&1 || \
		{ cat $(basename $@).log; rm -f $@; exit 1; }

# The arm64 guest's own overlay: the loopback chip as a device-tree node.
$(BUILD)/dts/test/%.dtbo: tests/dt/%.dtso
	@mkdir -p $(dir $@)
	dtc -@ -q -I dts -O dtb -o $@ $<

# The pure logic's unit tests as 32-bit ARM programs: build/tests/armhf/.
tests-armhf:
	@$(CROSS_TEST_MAKE) CC=$(ARMHF_CC) TESTBIN=$(TESTBIN)/armhf \
		$(addprefix $(TESTBIN)/armhf/,$(ARMHF_UNIT_TESTS))

unit-armhf: tests-armhf
	@for t in $(ARMHF_UNIT_TESTS); do $(QEMU_ARM) $(TESTBIN)/armhf/$$t || exit 1; done

$(TESTBIN)/%_test: tests/driver/%_test.c tests/driver/testlib.c \
		tests/driver/testlib.h driver/uapi/hrservo.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Itests/driver -o $@ $< \
		tests/driver/testlib.c -lm

# servoctl teleop driven by a uinput gamepad, made with libevdev.
$(TESTBIN)/gamepad_test: tests/driver/gamepad_test.c tests/driver/testlib.c \
		tests/driver/testlib.h driver/uapi/hrservo.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Itests/driver -o $@ $< \
		tests/driver/testlib.c $(EVDEV_LIBS) -lm

# The library test compiles the library in, under the sanitizers.
$(TESTBIN)/lib_test: tests/driver/lib_test.c tests/driver/testlib.c \
		tests/driver/testlib.h $(LIB_SRCS) $(LIB_HDRS) $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Ilib -Itests/driver $(SAN) -o $@ $< \
		tests/driver/testlib.c $(LIB_SRCS) $(LIB_LIBS)

# Guest program of make demo and make bench.
$(TESTBIN)/hrservo-measure: bench/measure.c bench/stats.c bench/stats.h \
		tests/driver/testlib.c tests/driver/testlib.h driver/uapi/hrservo.h
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) -std=gnu11 $(WARN) -Ibench -Itests/driver -Idriver -o $@ $< \
		bench/stats.c tests/driver/testlib.c

# The gpiod backend measured as hrservo-measure measures the driver.
$(TESTBIN)/hrservo-gpiod-bench: bench/gpiod-bench.c bench/stats.c bench/stats.h \
		tests/driver/testlib.c tests/driver/testlib.h $(LIB_SRCS) \
		$(LIB_HDRS) $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Ilib -Ibench -Itests/driver -o $@ $< \
		bench/stats.c tests/driver/testlib.c $(LIB_SRCS) $(LIB_LIBS)

# The bare hrtimer of make bench (bench/kmod/hrservo-timer-probe.c).
$(TESTBIN)/hrservo-timer-probe: bench/probe.c bench/stats.c bench/stats.h
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) -std=gnu11 $(WARN) -Ibench -o $@ $< bench/stats.c

# The benchmark's statistics and parsers, on known inputs.
$(TESTBIN)/bench_stats_test: tests/unit/bench_stats_test.c bench/stats.c \
		bench/stats.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(SAN) -o $@ $< bench/stats.c

$(TESTBIN)/hrservo-pca-bench: bench/pca-bench.c tests/driver/testlib.c \
		tests/driver/testlib.h driver/uapi/hrservo.h
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) -std=gnu11 $(WARN) -Itests/driver -Idriver -o $@ $< \
		tests/driver/testlib.c -lm

$(TESTBIN)/hrservo-safety-bench: bench/safety-bench.c tests/driver/testlib.c \
		tests/driver/testlib.h driver/uapi/hrservo.h
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) -std=gnu11 $(WARN) -Itests/driver -Idriver -o $@ $< \
		tests/driver/testlib.c

$(TESTBIN)/hrservo-set-rate: bench/set-rate.c lib/hrservo.h \
		$(BUILD)/lib/$(LIB_SONAME) $(BUILD)/lib/libhrservo.so
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(USER_CFLAGS) -o $@ $< -L$(BUILD)/lib -lhrservo \
		-Wl,-rpath,'$$ORIGIN/../lib'

$(TESTBIN)/hrservo-traj-bench: bench/traj-bench.c tests/driver/testlib.c \
		tests/driver/testlib.h lib/hrservo.h $(BUILD)/lib/libhrservo.so
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(USER_CFLAGS) -Itests/driver -o $@ $< \
		tests/driver/testlib.c -L$(BUILD)/lib -lhrservo -lm \
		-Wl,-rpath,'$$ORIGIN/../lib'

# Instructions per frame of the kernel's pure logic (bench/cost-run, under
# callgrind). The counts depend on the compiler and its flags: fixed ones,
# not CFLAGS, and no sanitizers; the program reports them for the figures'
# header.
COST_CFLAGS := -O2 -g -std=c11 $(WARN) -Idriver
$(BUILD)/bench/cost: bench/cost.c driver/hrservo-logic.c \
		driver/hrservo-logic.h driver/uapi/hrservo.h
	@mkdir -p $(dir $@)
	$(CC) $(COST_CFLAGS) -DCOST_CFLAGS='"$(COST_CFLAGS)"' -o $@ bench/cost.c \
		driver/hrservo-logic.c

# Host unit tests run under ASan and UBSan.
$(TESTBIN)/logic_test: tests/unit/logic_test.c driver/hrservo-logic.c \
		driver/hrservo-logic.h driver/uapi/hrservo.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(SAN) -o $@ $< driver/hrservo-logic.c -lm

$(TESTBIN)/pca9685_plan_test: tests/unit/pca9685_plan_test.c \
		driver/pca9685-plan.c driver/pca9685-plan.h \
		driver/hrservo-logic.h driver/uapi/hrservo.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(SAN) -o $@ $< driver/pca9685-plan.c \
		driver/hrservo-logic.c -lm

# write, fsync and rename of the library wrapped: the test makes them fail.
$(TESTBIN)/calib_test: tests/unit/calib_test.c tests/unit/comma_locale.h \
		tests/unit/tmpdir.h $(LIB_SRCS) $(LIB_HDRS) \
		$(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Ilib $(SAN) -o $@ $< $(LIB_SRCS) \
		-Wl,--wrap=write,--wrap=fsync,--wrap=rename $(LIB_LIBS)

# The library's trajectory check against the kernel's limiter.
$(TESTBIN)/judge_test: tests/unit/judge_test.c $(LIB_SRCS) $(LIB_HDRS) \
		$(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Ilib $(SAN) -o $@ $< \
		$(LIB_SRCS) $(LIB_LIBS)

# The guest tests' capture reading (testlib.c), on the host.
$(TESTBIN)/testlib_test: tests/unit/testlib_test.c tests/driver/testlib.c \
		tests/driver/testlib.h driver/uapi/hrservo.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Itests/driver $(SAN) -o $@ $< \
		tests/driver/testlib.c -lm

# The locked arena alone: also an armhf program (32-bit alignment).
$(TESTBIN)/arena_test: tests/unit/arena_test.c lib/arena.c lib/internal.h \
		lib/hrservo.h $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Ilib $(SAN) -o $@ $< lib/arena.c -pthread

$(TESTBIN)/value_test $(TESTBIN)/traj_plan_test $(TESTBIN)/leadin_test \
		$(TESTBIN)/calib_apply_test $(TESTBIN)/teleop_test \
		$(TESTBIN)/backend_test: \
		$(TESTBIN)/%: tests/unit/%.c \
		tests/unit/comma_locale.h tests/unit/tmpdir.h $(LIB_SRCS) $(LIB_HDRS) \
		$(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Ilib $(SAN) -o $@ $< $(LIB_SRCS) $(LIB_LIBS)

# servoctl compiled in (its main renamed) against a fake controller: the
# test wraps hrservo_open().
$(TESTBIN)/cli_fake_test: tests/unit/cli_fake_test.c $(SERVOCTL_SRCS) \
		tools/servoctl.h $(LIB_SRCS) $(LIB_HDRS) $(KSRC)/.stamp
	@mkdir -p $(TESTBIN)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) -Ilib -Itools $(SAN) -Dmain=servoctl_main \
		-o $@ $< $(SERVOCTL_SRCS) $(LIB_SRCS) -Wl,--wrap=hrservo_open \
		$$(pkg-config --libs json-c) $(LIB_LIBS)

unit: $(addprefix $(TESTBIN)/,$(UNIT_TESTS))
	@for t in $(UNIT_TESTS); do $(TESTBIN)/$$t || exit 1; done

check:
	@tests/check

demo: deps modules-test userspace tests
	@tests/demo

bench: deps modules-test userspace tests
	@bench/run

cost: $(BUILD)/bench/cost
	@bench/cost-run

lint: harness
	@tests/lint

dtbs:
	@scripts/check-dts $(BUILD)/dts

print-guest-tests:
	@echo $(GUEST_RUNS)

print-unit-tests:
	@echo $(UNIT_TESTS)

print-arm64-tests:
	@echo $(ARM64_TESTS)

print-armhf-unit-tests:
	@echo $(ARMHF_UNIT_TESTS)

# Install. DESTDIR stages into a directory; KVER or KDIR choose the kernel
# the modules are built and installed for (one kernel per run).
INSTALL ?= install
D = $(abspath $(DESTDIR))
MODULES := hrservo hrservo-gpio hrservo-pca9685
KINST := $(BUILD)/kmod-install/$(KREL)
MODLIB = $(D)/lib/modules/$(KREL)
DEPMOD ?= $(firstword $(wildcard /sbin/depmod /usr/sbin/depmod) depmod)
LDCONFIG ?= $(firstword $(wildcard /sbin/ldconfig /usr/sbin/ldconfig) ldconfig)
# Debian's headers have no signing key (Debian signs its own modules
# elsewhere): sign only with a kernel tree that has one. DKMS signs with
# its MOK key.
KSIGN = $(if $(wildcard $(KDIR)/certs/signing_key.x509),,CONFIG_MODULE_SIG_ALL=)
DKMS_SRCDIR ?= /usr/src/hrservo-$(LIB_VERSION)
DKMS_SRCS := dkms.conf Kbuild $(wildcard driver/*.c driver/*.h) driver/uapi/hrservo.h
# Directories only hrservo uses: removed when empty by make uninstall. With
# DESTDIR (a staging tree), every directory an install path passes through
# that is left empty is removed too, up to DESTDIR.
OWN_DIRS = $(INCLUDEDIR)/hrservo/uapi $(INCLUDEDIR)/hrservo $(OVERLAYDIR) \
	$(DATADIR)/hrservo $(DOCDIR)/examples/modprobe.d \
	$(DOCDIR)/examples/modules-load.d $(DOCDIR)/examples $(DOCDIR)
SHARED_DIRS = $(BINDIR) $(LIBDIR)/pkgconfig $(MANDIR)/man1 $(BASHCOMPDIR) \
	$(UDEVRULESDIR)
prune = $(if $(D),$(prune_staged),$(prune_own))
prune_own = for d in $(1); do [ ! -d "$$d" ] || rmdir "$$d" 2>/dev/null || true; done
prune_staged = for d in $(1); do \
		while case "$$d" in "$(D)"/?*) true ;; *) false ;; esac; do \
			[ ! -d "$$d" ] || rmdir "$$d" 2>/dev/null || break; \
			d=$${d%/*}; \
		done; \
	done

.PHONY: install uninstall install-modules uninstall-modules install-userspace \
	uninstall-userspace modules-install-build install-dkms uninstall-dkms deb

install: install-modules install-userspace
uninstall: uninstall-userspace uninstall-modules

# The three modules alone (no test modules), in a build tree of their own.
modules-install-build:
	@scripts/build-modules $(KDIR) $(KINST) HRSERVO_TEST_MODULES=n

install-modules: modules-install-build
	$(MAKE) -C $(KDIR) M=$(abspath $(KINST)) INSTALL_MOD_PATH=$(D) \
		INSTALL_MOD_DIR=$(MODDIR) HRSERVO_TEST_MODULES=n $(KSIGN) \
		modules_install
	$(if $(D),$(DEPMOD) -b $(D)/ $(KREL),$(DEPMOD) -a $(KREL))

# depmod again; in a staging tree holding no other module, the index files
# depmod made go instead (modules.order and modules.builtin* are the
# kernel's, never depmod's, and stay).
DEPMOD_FILES := alias alias.bin builtin.alias.bin builtin.bin dep dep.bin \
	devname softdep symbols symbols.bin weakdep
uninstall-modules:
	for m in $(MODULES); do \
		rm -f $(MODLIB)/$(MODDIR)/$$m.ko $(MODLIB)/$(MODDIR)/$$m.ko.xz \
			$(MODLIB)/$(MODDIR)/$$m.ko.gz $(MODLIB)/$(MODDIR)/$$m.ko.zst; \
	done
	rmdir $(MODLIB)/$(MODDIR) 2>/dev/null || true
	@if [ -z "$(D)" ]; then \
		echo "$(DEPMOD) -a $(KREL)"; $(DEPMOD) -a $(KREL); \
	elif [ -n "$$(find $(MODLIB) -name '*.ko*' 2>/dev/null)" ]; then \
		echo "$(DEPMOD) -b $(D)/ $(KREL)"; $(DEPMOD) -b $(D)/ $(KREL); \
	else \
		for f in $(DEPMOD_FILES); do rm -f $(MODLIB)/modules.$$f; done; \
		$(call prune,$(MODLIB)/$(MODDIR)); \
	fi

install-userspace: $(LIBS) $(TOOLS)
	@mkdir -p $(BUILD)/install
	$(INSTALL) -d -m 0755 $(D)$(BINDIR) $(D)$(LIBDIR)/pkgconfig \
		$(D)$(INCLUDEDIR)/hrservo/uapi $(D)$(MANDIR)/man1 $(D)$(BASHCOMPDIR) \
		$(D)$(UDEVRULESDIR) $(D)$(DOCDIR)/examples/modprobe.d \
		$(D)$(DOCDIR)/examples/modules-load.d
	$(INSTALL) -m 0755 $(TOOLS) $(D)$(BINDIR)/
	$(INSTALL) -m 0644 $(BUILD)/lib/libhrservo.so.$(LIB_VERSION) \
		$(BUILD)/lib/libhrservo.a $(D)$(LIBDIR)/
	ln -sfn libhrservo.so.$(LIB_VERSION) $(D)$(LIBDIR)/$(LIB_SONAME)
	ln -sfn $(LIB_SONAME) $(D)$(LIBDIR)/libhrservo.so
	$(PC_SED) lib/hrservo.pc.in > $(BUILD)/install/hrservo.pc
	$(INSTALL) -m 0644 $(BUILD)/install/hrservo.pc $(D)$(LIBDIR)/pkgconfig/
	$(INSTALL) -m 0644 lib/hrservo.h $(D)$(INCLUDEDIR)/
	$(INSTALL) -m 0644 driver/uapi/hrservo.h $(D)$(INCLUDEDIR)/hrservo/uapi/
	$(INSTALL) -m 0644 tools/servoctl.1 $(D)$(MANDIR)/man1/
	$(INSTALL) -m 0644 tools/servoctl.bash-completion $(D)$(BASHCOMPDIR)/servoctl
	sed 's|/usr/local/bin/servoctl|$(BINDIR)/servoctl|' udev/60-hrservo.rules \
		> $(BUILD)/install/60-hrservo.rules
	$(INSTALL) -m 0644 $(BUILD)/install/60-hrservo.rules $(D)$(UDEVRULESDIR)/
	$(INSTALL) -m 0644 examples/modprobe.d/hrservo.conf \
		$(D)$(DOCDIR)/examples/modprobe.d/
	$(INSTALL) -m 0644 examples/modules-load.d/hrservo.conf \
		$(D)$(DOCDIR)/examples/modules-load.d/
	@# Overlays: compiled ones if make dtbs made them, and the sources.
	@for f in $(BUILD)/dts/*.dtbo dts/*.dtso; do \
		[ -f "$$f" ] || continue; \
		echo "$(INSTALL) -m 0644 $$f $(D)$(OVERLAYDIR)/"; \
		$(INSTALL) -d -m 0755 $(D)$(OVERLAYDIR) && \
		$(INSTALL) -m 0644 "$$f" $(D)$(OVERLAYDIR)/ || exit 1; \
	done
	$(if $(D),,$(LDCONFIG))

uninstall-userspace:
	rm -f $(addprefix $(D)$(BINDIR)/,servoctl servoctl-plot)
	rm -f $(addprefix $(D)$(LIBDIR)/,libhrservo.so.$(LIB_VERSION) \
		$(LIB_SONAME) libhrservo.so libhrservo.a pkgconfig/hrservo.pc)
	rm -f $(D)$(INCLUDEDIR)/hrservo.h $(D)$(INCLUDEDIR)/hrservo/uapi/hrservo.h
	rm -f $(D)$(MANDIR)/man1/servoctl.1 $(D)$(BASHCOMPDIR)/servoctl
	rm -f $(D)$(UDEVRULESDIR)/60-hrservo.rules
	rm -f $(D)$(DOCDIR)/examples/modprobe.d/hrservo.conf \
		$(D)$(DOCDIR)/examples/modules-load.d/hrservo.conf
	@for f in $(BUILD)/dts/*.dtbo dts/*.dtso; do \
		[ -f "$$f" ] || continue; \
		n=$${f##*/}; \
		rm -f "$(D)$(OVERLAYDIR)/$$n" "$(D)$(OVERLAYDIR)/$${n%.dtso}.dtbo"; \
	done
	@$(call prune,$(addprefix $(D),$(OWN_DIRS)))
	@$(if $(D),$(call prune,$(addprefix $(D),$(SHARED_DIRS))))
	$(if $(D),,$(LDCONFIG))

# The DKMS source tree: exactly what dkms.conf builds (then, as root:
# dkms add hrservo/$(LIB_VERSION); dkms install hrservo/$(LIB_VERSION)).
install-dkms:
	@v=$$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf); \
	[ "$$v" = "$(LIB_VERSION)" ] || { \
		echo "dkms.conf: PACKAGE_VERSION $$v is not $(LIB_VERSION)" >&2; exit 1; }
	@for f in $(DKMS_SRCS); do \
		echo "$(INSTALL) -D -m 0644 $$f $(D)$(DKMS_SRCDIR)/$$f"; \
		$(INSTALL) -D -m 0644 $$f $(D)$(DKMS_SRCDIR)/$$f || exit 1; \
	done

# dpkg-buildpackage writes its packages next to the source tree: build
# from a copy in build/deb/ (needs debhelper and dh-dkms).
deb:
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/hrservo-$(LIB_VERSION)
	tar -c --exclude=./$(BUILD) --exclude=./.git . | \
		tar -x -C $(BUILD)/deb/hrservo-$(LIB_VERSION)
	cd $(BUILD)/deb/hrservo-$(LIB_VERSION) && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

uninstall-dkms:
	rm -f $(addprefix $(D)$(DKMS_SRCDIR)/,$(DKMS_SRCS))
	@$(call prune,$(addprefix $(D)$(DKMS_SRCDIR)/,driver/uapi driver) \
		$(D)$(DKMS_SRCDIR))

clean:
	rm -rf $(BUILD)
