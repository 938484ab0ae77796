#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host tests of servoctl that need no driver: help, usage errors, exit
# codes, an empty system; the shared build under valgrind. Prints TAP.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin/servoctl
empty=$(mktemp -d)
cal=$(mktemp -d)
trap 'rm -rf "$empty" "$cal"' EXIT
export HRSERVO_SYSFS_CLASS=$empty
n=0 fail=0

t() {	# expected-status description command...
	local want=$1 what=$2 got
	shift 2
	"$@" > /tmp/cli_out.$$ 2> /tmp/cli_err.$$
	got=$?
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n $what"
	else
		echo "not ok $n $what: exit $got, expected $want"
		sed 's/^/# /' /tmp/cli_err.$$
		fail=$((fail + 1))
	fi
}

for c in list info get set release period limits monitor move traj calibrate; do
	t 0 "$c --help" "$bin" "$c" --help
	grep -q "^Usage: servoctl $c " /tmp/cli_out.$$ ||
		{ echo "not ok $n $c --help prints its usage"; fail=$((fail + 1)); }
done
t 0 "--help" "$bin" --help
t 0 "help set" "$bin" help set
t 0 "--version" "$bin" --version
t 2 "no command" "$bin"
t 2 "unknown command" "$bin" frobnicate
t 2 "unknown option" "$bin" --frobnicate
t 2 "set without arguments" "$bin" set
t 2 "info with two controllers" "$bin" info a b
t 2 "monitor --count 0" "$bin" monitor --count 0 hrservo0
t 0 "list on a system without controllers" "$bin" list
[ -s /tmp/cli_out.$$ ] && { echo "not ok $n list prints nothing"; fail=$((fail + 1)); }
t 0 "list --json on a system without controllers" "$bin" --json list
[ "$(tr -d ' \n' < /tmp/cli_out.$$)" = "[]" ] ||
	{ echo "not ok $n list --json prints []"; fail=$((fail + 1)); }
t 1 "info of a missing controller" "$bin" info hrservo9
grep -qx "servoctl: info: hrservo9: no such controller (see 'servoctl list')" /tmp/cli_err.$$ ||
	{ echo "not ok $n names the missing controller"; fail=$((fail + 1)); }
# Calibration commands that need no controller.
export HRSERVO_CALIBRATION=$cal/robot.conf
t 2 "calibrate without a subcommand" "$bin" calibrate
t 2 "calibrate frob" "$bin" calibrate frob
t 1 "calibrate show without a file" "$bin" calibrate show
grep -q "no calibration file $cal/robot.conf" /tmp/cli_err.$$ ||
	{ echo "not ok $n names the missing file"; fail=$((fail + 1)); }
printf '[joint elbow]\ncontroller = arm\nchannel = 1\nmap = -90:1000us 90:2000us\nspeed = 10\n' > "$cal/robot.conf"
t 1 "calibrate show with an unknown key" "$bin" calibrate show
grep -qx "servoctl: calibrate: calibration: $cal/robot.conf:5: unknown key 'speed' in \[joint elbow\]" /tmp/cli_err.$$ ||
	{ echo "not ok $n names file:line and the key"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
printf '[joint elbow]\ncontroller = arm\nchannel = 1\nmap = -90:1000us 90:2000us\n' > "$cal/robot.conf"
t 0 "calibrate show" "$bin" calibrate show
grep -q "^elbow  *arm  *1 deg   -90deg..90deg  *1000us..2000us" /tmp/cli_out.$$ ||
	{ echo "not ok $n shows the joint"; sed 's/^/# /' /tmp/cli_out.$$; fail=$((fail + 1)); }
t 2 "calibrate jog without a terminal" "$bin" calibrate jog arm 1 < /dev/null
t 0 "--calibration FILE" "$bin" --calibration "$cal/robot.conf" calibrate show --json
grep -q '"joint": "elbow"' /tmp/cli_out.$$ ||
	{ echo "not ok $n --calibration reads FILE"; fail=$((fail + 1)); }
unset HRSERVO_CALIBRATION
if command -v valgrind > /dev/null; then
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
	t 0 "valgrind: --help" $vg "$bin" --help
	t 0 "valgrind: list --json" $vg "$bin" --json list
	t 1 "valgrind: info of a missing controller" $vg "$bin" info hrservo9
	t 2 "valgrind: usage error" $vg "$bin" set x
	t 0 "valgrind: calibrate show" $vg "$bin" --calibration "$cal/robot.conf" calibrate show
fi
rm -f /tmp/cli_out.$$ /tmp/cli_err.$$
echo "1..$n"
exit $((fail > 0))
