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

for c in list info get set release period limits monitor move traj calibrate estop record teleop; do
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
t 2 "monitor --rate -1" "$bin" monitor --rate -1 hrservo0
t 2 "monitor --rate fast" "$bin" monitor --rate fast hrservo0
# The help says what the new options do.
for w in "monitor:--rate HZ" "calibrate:--from VALUE" "calibrate:SIGHUP" \
	 "get:TARGET_POS" "estop:--release" "estop:--clear" "estop:--status" \
	 "record:--duration S" "record:# interp: linear" "monitor:e-stop"; do
	"$bin" "${w%%:*}" --help | grep -qF -- "${w#*:}" ||
		{ n=$((n + 1)); echo "not ok $n ${w%%:*} --help mentions ${w#*:}"; fail=$((fail + 1)); }
done
for w in --no-calibration --strict-limits; do
	"$bin" --help | grep -qF -- "$w" ||
		{ n=$((n + 1)); echo "not ok $n --help mentions $w"; fail=$((fail + 1)); }
done
t 0 "list on a system without controllers" "$bin" list
[ -s /tmp/cli_out.$$ ] && { echo "not ok $n list prints nothing"; fail=$((fail + 1)); }
[ -s /tmp/cli_err.$$ ] && { echo "not ok $n list says nothing: the module is loaded"; fail=$((fail + 1)); }
t 0 "list --json on a system without controllers" "$bin" --json list
[ "$(tr -d ' \n' < /tmp/cli_out.$$)" = "[]" ] ||
	{ echo "not ok $n list --json prints []"; fail=$((fail + 1)); }
t 1 "info of a missing controller" "$bin" info hrservo9
grep -qx "servoctl: info: hrservo9: no such controller (see 'servoctl list')" /tmp/cli_err.$$ ||
	{ echo "not ok $n names the missing controller"; fail=$((fail + 1)); }
# Another backend's device, and a scheme not built in: named, with the forms.
t 1 "info of a GPIO chip" "$bin" info /dev/gpiochip0
grep -qxF "servoctl: info: /dev/gpiochip0: not a controller; use hrservoN, N, /dev/hrservoN (or a link to it), chardev:PATH, gpiod:CHIP:LINES or a calibration's controller name" /tmp/cli_err.$$ ||
	{ echo "not ok $n says which specs are controllers"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
t 1 "info of a usb: spec" "$bin" info usb:1
grep -qxF "servoctl: info: usb:1: the usb backend is not built into this libhrservo yet" /tmp/cli_err.$$ ||
	{ echo "not ok $n says usb is not built in"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
# The gpiod backend's own words: the spec's form, a chip that is not there.
t 1 "info of a gpiod: spec without lines" "$bin" info gpiod:gpiochip0
grep -qxF "servoctl: info: gpiod:gpiochip0: gpiod: 'gpiochip0': want gpiod:CHIP:LINES[:OPTIONS]" /tmp/cli_err.$$ ||
	{ echo "not ok $n says what a gpiod spec is"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
t 1 "info of a missing GPIO chip" "$bin" info gpiod:no-chip:4,17
grep -qxF "servoctl: info: gpiod:no-chip:4,17: gpiod: no GPIO chip 'no-chip' (by path, name or label; gpiodetect lists them)" /tmp/cli_err.$$ ||
	{ echo "not ok $n names the missing GPIO chip"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
# The module not loaded: no class directory. list says why, on stderr.
nomod="$empty/none: the hrservo kernel module is not loaded (load it with 'sudo modprobe hrservo', or 'sudo insmod hrservo.ko' from a build)"
nomod="$empty/none does not exist${nomod#$empty/none}"
HRSERVO_SYSFS_CLASS=$empty/none t 0 "list without the module" "$bin" list
[ -s /tmp/cli_out.$$ ] && { echo "not ok $n list without the module prints nothing"; fail=$((fail + 1)); }
grep -qxF "servoctl: list: $nomod" /tmp/cli_err.$$ ||
	{ echo "not ok $n list says the module is not loaded"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
HRSERVO_SYSFS_CLASS=$empty/none t 0 "list --json without the module" "$bin" --json list
[ "$(tr -d ' \n' < /tmp/cli_out.$$)" = "[]" ] ||
	{ echo "not ok $n list --json without the module prints []"; fail=$((fail + 1)); }
grep -qxF "servoctl: list: $nomod" /tmp/cli_err.$$ ||
	{ echo "not ok $n list --json says the module is not loaded, on stderr"; fail=$((fail + 1)); }
# "COMMAND CTRL [ARGS]": every command that opens a controller.
for c in "info hrservo0" "get hrservo0" "set hrservo0 0=1500us" "release 0" \
	 "limits /dev/hrservo0" "monitor hrservo0" "period hrservo0" \
	 "move hrservo0 0=1500us" "traj hrservo0 status" "traj hrservo0 stop" \
	 "traj hrservo0 wait" "calibrate hrservo0 set 1=min:1000us,max:2000us"; do
	set -- $c
	a=("$1" "$2" "${@:3}")
	[ "$1" = traj ] || [ "$1" = calibrate ] && a=("$1" "$3" "$2" "${@:4}")
	HRSERVO_CALIBRATION=$cal/none.conf HRSERVO_SYSFS_CLASS=$empty/none \
		t 1 "${a[*]} without the module" "$bin" "${a[@]}"
	grep -qxF "servoctl: $1: $2: no such controller: $nomod" /tmp/cli_err.$$ ||
		{ echo "not ok $n ${a[*]} says the module is not loaded"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
done
# traj check: the file's own errors whether CTRL exists or not; FILE alone.
printf 't_s,ch1_us,ch3_us\n0,1000,2000\n0.1,1800,1500\n0.2,1000,1000\n' > "$cal/plan.csv"
printf 't_s,ch1_us\n0,1000\n0.1,1800\nx,1000\n' > "$cal/bad.csv"
printf 't_s,ch1_us\n0,1000\n0.1,1800\n0.1005,1000\n' > "$cal/short.csv"
t 0 "traj check FILE" "$bin" traj check "$cal/plan.csv"
grep -qxF "$cal/plan.csv: 3 waypoints, 0.200 s, a valid trajectory (no CTRL: limits not checked)" /tmp/cli_out.$$ ||
	{ echo "not ok $n traj check FILE says the file is valid"; sed 's/^/# /' /tmp/cli_out.$$; fail=$((fail + 1)); }
t 1 "traj check FILE CTRL, no CTRL" "$bin" traj check "$cal/plan.csv" hrservo9
grep -qxF "servoctl: traj: hrservo9: no such controller (see 'servoctl list')" /tmp/cli_err.$$ ||
	{ echo "not ok $n traj check names the missing controller"; fail=$((fail + 1)); }
for c in "" hrservo9; do
	t 1 "traj check of a bad file${c:+, CTRL missing}" "$bin" traj check "$cal/bad.csv" $c
	grep -qxF "servoctl: traj: $cal/bad.csv:4: 'x' is not a number" /tmp/cli_err.$$ ||
		{ echo "not ok $n names the file's error"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
	t 1 "traj check of waypoints 0.5 ms apart${c:+, CTRL missing}" "$bin" traj check "$cal/short.csv" $c
	grep -qxF "servoctl: traj: $cal/short.csv: waypoint 2 (t=0.1005 s) is 0.5 ms after waypoint 1 (t=0.1 s); the segment between two waypoints must last at least 1 ms" /tmp/cli_err.$$ ||
		{ echo "not ok $n names the waypoints, the interval and 1 ms"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
done
t 1 "traj upload of a bad file to a missing controller" "$bin" traj upload "$cal/short.csv" hrservo9
grep -q "must last at least 1 ms (nothing uploaded)$" /tmp/cli_err.$$ ||
	{ echo "not ok $n upload names the file's error"; fail=$((fail + 1)); }
t 2 "traj check --fit FILE" "$bin" traj check --fit "$cal/plan.csv"
t 2 "traj check without FILE" "$bin" traj check
# traj plot --capture: the measured times count from the start recorded in
# the capture, not from its first pulse (frames before it are the pose held
# before the trajectory, left out).
{
	echo "# servoctl traj upload plan.csv hrservo0"
	echo "# start_ns=10000000000"
	for f in 9960 9980 10180 10200 10220; do
		echo "${f}000000 1 1"; echo "${f}000000 3 1"
		echo "${f}000000 1 0" | sed "s/^$f/$((f + 1))/"
		echo "${f}000000 3 0" | sed "s/^$f/$((f + 2))/"
	done
} > "$cal/capture.txt"
series="t_s,ch1_planned_ns,ch1_measured_ns,ch3_planned_ns,ch3_measured_ns
0.180000,1046336,1000000,1028960,2000000
0.200000,1000000,1000000,1000000,2000000
0.220000,1000000,1000000,1000000,2000000"
t 0 "traj plot --capture --print-series" "$bin" traj plot --capture "$cal/capture.txt" \
	--first-line 0 --print-series "$cal/plan.csv"
[ "$(cat /tmp/cli_out.$$)" = "$series" ] ||
	{ echo "not ok $n plots the capture from the trajectory's start"; sed 's/^/# /' /tmp/cli_out.$$; fail=$((fail + 1)); }
[ -s /tmp/cli_err.$$ ] && { echo "not ok $n no warning with a start"; fail=$((fail + 1)); }
grep -v start_ns "$cal/capture.txt" > "$cal/capture-nostart.txt"
t 0 "traj plot --capture without a start" "$bin" traj plot --capture "$cal/capture-nostart.txt" \
	--print-series "$cal/plan.csv"
grep -q "^0.000000," /tmp/cli_out.$$ && grep -q "no '# start_ns=' line" /tmp/cli_err.$$ ||
	{ echo "not ok $n without a start, from the first pulse, with a warning"; fail=$((fail + 1)); }
t 2 "traj plot without -o or --print-series" "$bin" traj plot "$cal/plan.csv"
# The help of the commands: what set takes with a calibration.
helps() {	# command description text...
	local c=$1 what=$2
	shift 2
	"$bin" "$c" --help > /tmp/cli_out.$$
	n=$((n + 1))
	for x in "$@"; do
		grep -qF -- "$x" /tmp/cli_out.$$ ||
			{ echo "not ok $n $c --help: $what: no '$x'"; fail=$((fail + 1)); return; }
	done
	echo "ok $n $c --help: $what"
}
helps set "joint positions in their units" "Usage: servoctl set CTRL CH=VALUE [CH=VALUE...] | CTRL home" \
	"joint" "elbow=45deg" "rad" "+=5deg" "elbow=home" "'CTRL home' sets every joint" "immediate"
# The man page documents the same.
man_has() {	# description text...
	local what=$1 x miss=
	shift
	command -v man > /dev/null || return
	MANWIDTH=200 man -l "$top/tools/servoctl.1" 2> /dev/null > /tmp/cli_out.$$
	n=$((n + 1))
	for x in "$@"; do
		grep -qF -- "$x" /tmp/cli_out.$$ || miss="$miss '$x'"
	done
	if [ -z "$miss" ]; then
		echo "ok $n servoctl.1 documents $what"
	else
		echo "not ok $n servoctl.1 lacks$miss"; fail=$((fail + 1))
	fi
}
man_has "set home" "set CTRL home" "joints without a home position" "A set is immediate"
# traj upload: how a trajectory that starts away from the axes starts. One
# of --lead-in (the default), --no-lead-in, --jump; no jump with --replace.
# Parsed before any controller is opened: usage errors, exit 2.
for o in "--lead-in" "--no-lead-in" "--jump"; do
	t 1 "traj upload $o parses" "$bin" traj upload $o "$cal/plan.csv" hrservo9
	grep -qxF "servoctl: traj: hrservo9: no such controller (see 'servoctl list')" /tmp/cli_err.$$ ||
		{ echo "not ok $n traj upload $o gets to the controller"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
done
t 0 "traj upload --jump --jump" "$bin" traj --jump --jump check "$cal/plan.csv"
for pair in "--jump --no-lead-in" "--no-lead-in --lead-in" "--lead-in --jump"; do
	set -- $pair
	t 2 "traj upload $pair" "$bin" traj upload $pair "$cal/plan.csv" hrservo9
	grep -qxF "servoctl: traj: $1 and $2: choose one" /tmp/cli_err.$$ ||
		{ echo "not ok $n traj upload $pair: choose one"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
done
t 2 "traj upload --jump --replace" "$bin" traj upload --jump --replace "$cal/plan.csv" hrservo9
grep -qxF "servoctl: traj: --jump and --replace: a splice continues the trajectory, it never jumps" /tmp/cli_err.$$ ||
	{ echo "not ok $n --jump --replace: a splice never jumps"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
helps traj "lead-in options" "--lead-in" "--no-lead-in" "--jump" "lead-in move"
man_has "lead-ins" "--no-lead-in" "--jump" "a lead-in: a minimum-jerk move"
# move takes only its own options: none of traj's is silently ignored.
for o in "--jump" "--interp linear" "--replace" "--fit"; do
	t 2 "move $o" "$bin" move $o hrservo9 0=1500us
done
t 1 "move --wait --timeout 1 parses" "$bin" move --wait --timeout 1 hrservo9 0=1500us
helps move "release, --timeout" "released, is refused" "first pulse" "--timeout S"
man_has "move after release" "first pulse after it was off" "was released, is refused"
helps traj "wait until idle, signals" "until the player is idle" "SIGINT" "SIGTERM" "SIGHUP" \
	"130, 143 and 129" "'traj wait' exits so too, but only waits"
helps move "signals" "return when everything queued has played" "SIGINT" "130, 143 and 129"
man_has "signals, waits" "SIGNALS" "stopped on SIGINT" "until the player is idle" \
	"leaves the trajectory playing"
# Calibration commands that need no controller.
export HRSERVO_CALIBRATION=$cal/robot.conf
t 2 "calibrate without a subcommand" "$bin" calibrate
t 2 "calibrate frob" "$bin" calibrate frob
t 1 "calibrate show without a file" "$bin" calibrate show
grep -q "no calibration file $cal/robot.conf" /tmp/cli_err.$$ ||
	{ echo "not ok $n names the missing file"; fail=$((fail + 1)); }
printf '[joint elbow]\ncontroller = arm\nchannel = 1\nmap = -90:1000us 90:2000us\nspeed = 10\n' > "$cal/robot.conf"
t 1 "calibrate show with an unknown key" "$bin" calibrate show
grep -qx "servoctl: calibrate: calibration: $cal/robot.conf:5: unknown key 'speed' in \[joint elbow\]; did you mean 'max_speed'? (fix it, or give --no-calibration to do without it)" /tmp/cli_err.$$ ||
	{ echo "not ok $n names file:line and the key"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
# A calibration that does not load fails the command before any controller
# is opened (here none could be: the module is not loaded), but release.
broken="servoctl: set: calibration: $cal/robot.conf:5: unknown key 'speed' in [joint elbow]; did you mean 'max_speed'? (fix it, or give --no-calibration to do without it)"
for c in "set hrservo0 0=1500us" "move hrservo0 0=1500us" "get hrservo0" \
	 "monitor hrservo0" "limits hrservo0" "info hrservo0"; do
	set -- $c
	HRSERVO_SYSFS_CLASS=$empty/none t 1 "$c with a broken calibration" "$bin" "$@"
	[ "$(cat /tmp/cli_err.$$)" = "${broken/set:/$1:}" ] ||
		{ echo "not ok $n $1 fails on the calibration alone"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
done
HRSERVO_SYSFS_CLASS=$empty/none t 1 "release with a broken calibration" "$bin" release hrservo0 0
grep -qF "servoctl: release: hrservo0: no such controller" /tmp/cli_err.$$ ||
	{ echo "not ok $n release goes on to the controller"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
HRSERVO_SYSFS_CLASS=$empty/none t 1 "--no-calibration set with a broken calibration" \
	"$bin" --no-calibration set hrservo0 0=1500us
grep -q "calibration:" /tmp/cli_err.$$ && { echo "not ok $n --no-calibration does not read the file"; fail=$((fail + 1)); }
grep -qF "servoctl: set: hrservo0: no such controller" /tmp/cli_err.$$ ||
	{ echo "not ok $n --no-calibration goes on to the controller"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
t 1 "--no-calibration calibrate show" "$bin" --no-calibration calibrate show
grep -qF "needs the calibration, and --no-calibration is given" /tmp/cli_err.$$ ||
	{ echo "not ok $n show says it needs the calibration"; fail=$((fail + 1)); }
t 2 "--no-calibration calibrate set" "$bin" --no-calibration calibrate set hrservo0 0=min:1ms,max:2ms
t 2 "--no-calibration calibrate jog" "$bin" --no-calibration calibrate jog hrservo0 0
t 2 "--calibration with --no-calibration" "$bin" --calibration "$cal/robot.conf" --no-calibration list
printf '[joint elbow]\ncontroller = arm\nchannel = 1\nmap = -90:1000us 90:2000us\n' > "$cal/robot.conf"
t 0 "calibrate show" "$bin" calibrate show
grep -q "^elbow  *arm  *1 deg  *-90deg..90deg  *1000us..2000us" /tmp/cli_out.$$ ||
	{ echo "not ok $n shows the joint"; sed 's/^/# /' /tmp/cli_out.$$; fail=$((fail + 1)); }
# A trajectory in joint positions is plotted in them (the calibration's).
printf 't_s,elbow_deg\n0,0\n1,45\n' > "$cal/deg.csv"
t 0 "traj plot --print-series of a degree file" "$bin" traj plot --print-series "$cal/deg.csv"
[ "$(cat /tmp/cli_out.$$)" = "t_s,elbow_deg_planned
0.000000,0
1.000000,45" ] ||
	{ echo "not ok $n in the joint's unit"; sed 's/^/# /' /tmp/cli_out.$$ /tmp/cli_err.$$; fail=$((fail + 1)); }
t 0 "traj plot -o of a degree file" "$bin" traj plot "$cal/deg.csv" -o "$cal/deg.png"
[ -s "$cal/deg.png" ] || { echo "not ok $n draws it"; fail=$((fail + 1)); }
t 1 "traj plot of a degree file without a calibration" "$bin" --no-calibration traj plot --print-series "$cal/deg.csv"
# Columns stay aligned whatever the lengths of names and values.
printf '[joint elbow]\ncontroller = arm\nchannel = 1\nmap = -90:1000us 90:2000us\n[joint a_rather_long_joint_name]\ncontroller = /dev/hrservo12\nchannel = 12\nunit = rad\nmap = -1.5707963:1000.5us 1.5707963:2000.25us\nmin = -1.2345678\nmax = 1.2345678\n' > "$cal/long.conf"
t 0 "calibrate show, long names and values" "$bin" -c "$cal/long.conf" calibrate show
# Each column but the right-aligned CH starts, in every row, where its
# title does (a field there, a blank before it).
bad=$(awk 'NR == 1 { for (i = 2; i <= length($0); i++)
		if (substr($0, i - 1, 1) == " " && substr($0, i, 1) != " ")
			title[++n] = substr($0, i, 2) ":" i
	next }
	{ for (k = 1; k <= n; k++) {
		split(title[k], t, ":"); at = t[2]
		if (t[1] != "CH" && t[1] != "LI" &&
		    (substr($0, at - 1, 1) != " " || substr($0, at, 1) == " "))
			print "row " NR - 1 " column " t[1]
	} }' /tmp/cli_out.$$)
[ -z "$bad" ] || { echo "not ok $n columns are aligned: $bad"; sed 's/^/# /' /tmp/cli_out.$$; fail=$((fail + 1)); }
t 2 "calibrate jog without a terminal" "$bin" calibrate jog arm 1 < /dev/null
t 0 "--calibration FILE" "$bin" --calibration "$cal/robot.conf" calibrate show --json
grep -q '"joint": "elbow"' /tmp/cli_out.$$ ||
	{ echo "not ok $n --calibration reads FILE"; fail=$((fail + 1)); }
# traj check FILE with joint columns: joints of the calibration, in their
# units, all on one controller.
printf '[joint elbow]\ncontroller = arm\nchannel = 1\nmap = -90:1000us 90:2000us\n[joint wrist]\ncontroller = leg\nchannel = 2\nmap = -90:1000us 90:2000us\n' > "$cal/two.conf"
printf 't_s,elbow_deg,ch3_us\n0,0,1500\n0.5,45,1600\n' > "$cal/joints.csv"
t 0 "traj check FILE with joints" "$bin" -c "$cal/two.conf" traj check "$cal/joints.csv"
for bad in "elbow_rad:unit mismatch: joint elbow is measured in deg" \
	   "knee_deg:no joint 'knee' in the calibration" \
	   "wrist_deg:joint wrist is on controller leg, not arm"; do
	printf 't_s,elbow_deg,%s\n0,0,0\n0.5,45,10\n' "${bad%%:*}" > "$cal/joints.csv"
	[ "${bad%%:*}" = elbow_rad ] && printf 't_s,elbow_rad\n0,0\n0.5,1\n' > "$cal/joints.csv"
	t 1 "traj check FILE with ${bad%%:*}" "$bin" -c "$cal/two.conf" traj check "$cal/joints.csv"
	grep -qF "$cal/joints.csv:1: column '${bad%%:*}': ${bad#*:}" /tmp/cli_err.$$ ||
		{ echo "not ok $n says ${bad#*:}"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
done
# set CTRL home: the home positions are the calibration's.
HRSERVO_CALIBRATION=$cal/none.conf t 1 "set CTRL home without a calibration" "$bin" set hrservo9 home
grep -qxF "servoctl: set: no calibration file $cal/none.conf (see 'servoctl calibrate'; --calibration FILE)" /tmp/cli_err.$$ ||
	{ echo "not ok $n set home needs the calibration"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
t 1 "set CTRL home, no CTRL" "$bin" -c "$cal/two.conf" set hrservo9 home
grep -qxF "servoctl: set: hrservo9: no such controller (see 'servoctl list')" /tmp/cli_err.$$ ||
	{ echo "not ok $n set home opens the controller"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
unset HRSERVO_CALIBRATION
# teleop: its options (2), then the calibration and the mapping file (1,
# FILE:LINE), before any controller or gamepad is looked for.
t 2 "teleop --watchdog 5" "$bin" teleop --watchdog 5 hrservo9
grep -qxF "servoctl: teleop: --watchdog: '5' is not a timeout from 10 to 60000 (ms)" /tmp/cli_err.$$ ||
	{ echo "not ok $n names the watchdog's range"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
t 2 "teleop --failsafe park" "$bin" teleop --failsafe park hrservo9
grep -qxF "servoctl: teleop: --failsafe: 'park' is not hold, release or home" /tmp/cli_err.$$ ||
	{ echo "not ok $n names the failsafes"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
t 2 "teleop without a controller" "$bin" teleop
t 2 "teleop with two controllers" "$bin" teleop a b
HRSERVO_CALIBRATION=$cal/none.conf t 1 "teleop without a calibration" "$bin" teleop hrservo9
grep -qxF "servoctl: teleop: no calibration file $cal/none.conf (see 'servoctl calibrate'; --calibration FILE)" /tmp/cli_err.$$ ||
	{ echo "not ok $n teleop needs the calibration"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
if [ ! -e /etc/hrservo/gamepad.map ]; then
	XDG_CONFIG_HOME=$cal/xdg t 1 "teleop without a map" "$bin" -c "$cal/two.conf" teleop hrservo9
	grep -qF "servoctl: teleop: no mapping file: neither $cal/xdg/hrservo/gamepad.map nor /etc/hrservo/gamepad.map exists; give --map FILE" /tmp/cli_err.$$ ||
		{ echo "not ok $n says where the map is looked for"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
fi
printf '[teleop]\ndeadman = BTN_TL\n\n[axis ABS_X]\njoint = knee\nmode = rate\nscale = 10\n' > "$cal/bad.map"
t 1 "teleop with a bad map" "$bin" -c "$cal/two.conf" teleop --map "$cal/bad.map" hrservo9
grep -qF "servoctl: teleop: $cal/bad.map:5: " /tmp/cli_err.$$ ||
	{ echo "not ok $n names the map's file and line"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
printf '[teleop]\ndeadman = BTN_TL\n\n[axis ABS_X]\njoint = elbow\nmode = rate\nscale = 10\n' > "$cal/pad.map"
t 1 "teleop, no CTRL" "$bin" -c "$cal/two.conf" teleop --map "$cal/pad.map" hrservo9
grep -qxF "servoctl: teleop: hrservo9: no such controller (see 'servoctl list')" /tmp/cli_err.$$ ||
	{ echo "not ok $n teleop opens the controller"; sed 's/^/# /' /tmp/cli_err.$$; fail=$((fail + 1)); }
helps teleop "safety" "--device DEV" "--watchdog MS" "--failsafe hold|release|home" \
	"deadman" "SIGTERM" "JSON Lines"
man_has "teleop" "TELEOPERATION" "BTN_SOUTH" "--failsafe" "10 ms" "servoctl-teleop.service"
if command -v valgrind > /dev/null; then
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
	t 0 "valgrind: --help" $vg "$bin" --help
	t 0 "valgrind: list --json" $vg "$bin" --json list
	t 1 "valgrind: info of a missing controller" $vg "$bin" info hrservo9
	t 2 "valgrind: usage error" $vg "$bin" set x
	t 0 "valgrind: calibrate show" $vg "$bin" --calibration "$cal/robot.conf" calibrate show
	HRSERVO_SYSFS_CLASS=$empty/none t 0 "valgrind: list without the module" $vg "$bin" list
	t 1 "valgrind: traj check of a bad file" $vg "$bin" traj check "$cal/short.csv" hrservo9
	t 1 "valgrind: teleop with a bad map" $vg "$bin" -c "$cal/two.conf" teleop --map "$cal/bad.map" hrservo9
	t 1 "valgrind: teleop, no CTRL" $vg "$bin" -c "$cal/two.conf" teleop --map "$cal/pad.map" hrservo9
	t 0 "valgrind: traj plot --capture --print-series" $vg "$top/build/bin/servoctl-plot" \
		--capture "$cal/capture.txt" --print-series "$cal/plan.csv"
fi
rm -f /tmp/cli_out.$$ /tmp/cli_err.$$
echo "1..$n"
exit $((fail > 0))
