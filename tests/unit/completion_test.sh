#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test of tools/servoctl.bash-completion against a fake sysfs class
# directory. Prints TAP.
top=$(cd "$(dirname "$0")/../.." && pwd)
. /usr/share/bash-completion/bash_completion
. "$top/tools/servoctl.bash-completion"
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/hrservo0" "$fake/hrservo1"
echo 3 > "$fake/hrservo0/channels"
export HRSERVO_SYSFS_CLASS=$fake

n=0 fail=0
check() {	# expected-words... -- command line (last word is completed)
	local expect=() line
	while [ "$1" != -- ]; do expect+=("$1"); shift; done
	shift
	line="$*"
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_servoctl
	n=$((n + 1))
	if [ "${COMPREPLY[*]}" = "${expect[*]}" ]; then
		echo "ok $n completes '$line'"
	else
		echo "not ok $n completes '$line': got '${COMPREPLY[*]}', expected '${expect[*]}'"
		fail=$((fail + 1))
	fi
}

echo "1..24"
check set -- servoctl se
check list limits -- servoctl li
check list -- servoctl lis
check hrservo0 hrservo1 -- servoctl get hr
check 0= 1= 2= -- servoctl set hrservo0 ""
check all 0 1 2 -- servoctl release hrservo0 ""
check --json --help --count --rate -- servoctl monitor --
check --no-calibration -- servoctl --no
check --from -- servoctl calibrate --f
check 0 1 2 -- servoctl calibrate jog --from 1500us hrservo0 ""
check status stop -- servoctl traj st
check linear cubic minjerk -- servoctl traj --interp ""
check set show -- servoctl calibrate s
check hrservo0 hrservo1 -- servoctl calibrate apply hr
check 0 1 2 -- servoctl calibrate jog hrservo0 ""
check estop -- servoctl es
check hrservo0 hrservo1 -- servoctl estop hrservo0 hr
check --release -- servoctl estop --rel
check --duration -- servoctl record --du
check 0 1 2 -- servoctl record -o x.csv --duration 5 hrservo0 ""
check teleop -- servoctl tel
check hold release home -- servoctl teleop --failsafe ""
check --device -- servoctl teleop --d
check hrservo0 hrservo1 -- servoctl teleop --map x.map --watchdog 100 hr
check where home -- servoctl teleop --start ""
check hrservo0 hrservo1 -- servoctl teleop --start home hr
exit $((fail > 0))
