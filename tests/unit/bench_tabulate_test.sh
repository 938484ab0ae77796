#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of bench/tabulate on a known bench/guest-bench output: every
# figure in its row, the sections that are no backend left out. TAP.
top=$(cd "$(dirname "$0")/../.." && pwd)
in=$(mktemp) exp=$(mktemp)
trap 'rm -f "$in" "$exp"' EXIT
cat > "$in" <<'OUT'
## idle cyclictest
T: 0 (  121) P:90 I:1000 C:   2000 Min:      3 Act:    3 Avg:  154 Max:    2220
## idle channels=8
lead_ns              500000
width_error_us       p50=0.612 p99=0.622 max=0.622
edge_late_us         p50=0.612 p99=0.803 max=1.218 (n=2250)
rise_late_us         p50=0.796 p99=1.200 max=1.218
fall_late_us         p50=0.612 p99=0.622 max=0.623
## idle channels=8, CPU time of the timer (function_graph)
lead_ns              500000
timer_cpu_ms_per_s   1.234 (2000 calls in 253 frames of 20 ms)
timer_call_us        p50=0.500 p99=2.000 max=3.000
## idle channels=8, lead_ns=0: the frame's work at its start
rise_late_us         p50=3.558 p99=3.770 max=3.785
## idle bare hrtimer (HRTIMER_MODE_ABS_HARD), the same expiries, channels=8
probe_rise_late_us   p50=0.594 p99=0.603 max=0.603
probe_fall_late_us   p50=0.595 p99=0.604 max=0.605
ratio_rise (driver / bare timer) p50=1.34 p99=1.99
## idle bare hrtimer, the same expiries with lead_ns=0, channels=8
probe_rise_late_us   p50=1.083 p99=1.143 max=1.211
## stress gpiod backend (libhrservo, SCHED_FIFO 50), channels=32
rise_late_us         p50=10.607 p99=10.674 max=10.688
cpu_ms_per_s         21.621
## stress channels=32, 4 distinct widths (shared expiries)
rise_late_us         p50=9 p99=9 max=9
## stress trajectories
fall_late_us         p50=9 p99=9 max=9
OUT
want='mode,load,channels,what,edge,p50_us,p99_us,max_us,avg_us,cpu_ms_per_s
tcg,idle,,cyclictest,wakeup,,,2220,154,
tcg,idle,8,driver,width,0.612,0.622,0.622,,
tcg,idle,8,driver,rise,0.796,1.200,1.218,,
tcg,idle,8,driver,fall,0.612,0.622,0.623,,
tcg,idle,8,driver,cpu,,,,,1.234
tcg,idle,8,driver-lead0,rise,3.558,3.770,3.785,,
tcg,idle,8,bare,rise,0.594,0.603,0.603,,
tcg,idle,8,bare,fall,0.595,0.604,0.605,,
tcg,idle,8,bare-lead0,rise,1.083,1.143,1.211,,
tcg,stress,32,gpiod,rise,10.607,10.674,10.688,,
tcg,stress,32,gpiod,cpu,,,,,21.621'
echo "1..2"
got=$("$top/bench/tabulate" "tcg=$in")
if [ "$got" = "$want" ]; then
	echo "ok 1 bench/tabulate puts every figure in its row"
else
	echo "not ok 1 bench/tabulate puts every figure in its row"
	printf '%s\n' "$want" > "$exp"
	printf '%s\n' "$got" | diff -u "$exp" - | sed 's/^/# /'
fi
if "$top/bench/tabulate" "tcg=/nonexistent" > /dev/null 2>&1; then
	echo "not ok 2 a missing output is an error"
else
	echo "ok 2 a missing output is an error"
fi
