// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl - control hrservo servo controllers from the shell
 *
 * This file: the global options, the command table and main. The commands
 * live one family per file (see servoctl.h).
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error.
 * See servoctl(1).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "servoctl.h"

bool opt_json;
const char *opt_calibration;
bool opt_no_calibration;
bool opt_strict_limits;
const char *cmd_name = "";

static const struct command commands[] = {
	{ "list", "[--json]", "List the controllers on this system.",
	  "\nOne line per controller: name, backend, channels, frame period.\n",
	  cmd_list },
	{ "info", "[--json] CTRL", "Show a controller's properties.",
	  "\nCTRL is hrservoN, N or /dev/hrservoN.\n", cmd_info },
	{ "get", "[--json] CTRL [CH...|all]",
	  "Show the state of channels (all by default).",
	  "\nFor each channel: on/off, target, pulse width in effect, limits;\n"
	  "for a calibrated joint also its name and the positions of the\n"
	  "target and of the pulse in its unit (TARGET_POS, PULSE_POS).\n",
	  cmd_get },
	{ "set", "CTRL CH=VALUE [CH=VALUE...] | CTRL home",
	  "Set targets, all at once at the next frame, or none.",
	  "\nVALUE is a pulse width: 1500us, 1.5ms, 1500000ns; 50% (of the\n"
	  "channel's min..max); or relative to the current target: +=10us,\n"
	  "-=5% (a bare + or - is refused: '+20us' could be 20 us or 20 us\n"
	  "more). Values outside the channel's limits are refused.\n\n"
	  "With a calibration (see 'servoctl calibrate'), CH may be a joint\n"
	  "name and VALUE a position in the joint's unit, through its map and\n"
	  "within its soft limits: elbow=45deg, wrist=-0.5rad, grip=50% (a\n"
	  "joint in percent); relative: elbow=+=5deg, elbow=-=5deg; or\n"
	  "elbow=home. 'CTRL home' sets every joint of CTRL that has a home\n"
	  "position to it; the others are not touched.\n\n"
	  "A set is immediate: the servos go there as fast as the kernel's\n"
	  "speed limits let them (at once without limits); a channel that was\n"
	  "off jumps to its first pulse. 'servoctl move' goes smoothly.\n",
	  cmd_set },
	{ "release", "CTRL [CH...|all]",
	  "Stop the pulses of channels (all by default).",
	  "\nA pulse in progress ends at its full width; none follows.\n",
	  cmd_release },
	{ "period", "[--json] CTRL [PERIOD]",
	  "Show or set the frame period (the pulse repetition interval).",
	  "\nPERIOD is a time, e.g. 20ms or 10000us, or a rate, e.g. 50Hz; it\n"
	  "takes effect at the next frame. Every channel's max limit must fit\n"
	  "in the frame.\n",
	  cmd_period },
	{ "limits", "[--json] CTRL [CH...] | CTRL CH=MIN:MAX...",
	  "Show or set the pulse limits of channels.",
	  "\nCH=MIN:MAX sets both (1000us:2000us); leave one out to keep it\n"
	  "(3=:2100us). All changes are checked first; nothing is applied\n"
	  "unless all are valid.\n",
	  cmd_limits },
	{ "monitor", "[--json] [--count N] [--rate HZ] CTRL",
	  "Follow the state of a controller.",
	  "\nOn a terminal, a table that redraws on every change; otherwise\n"
	  "the state of every channel, then one line per channel change\n"
	  "(JSON Lines with --json), with the joint and its positions for\n"
	  "calibrated channels. The state is read at every event and --rate\n"
	  "times a second (default 10; 0: on events only), so that a\n"
	  "trajectory or a ramp shows as it moves. --count N exits after N\n"
	  "change lines. Exits 1 if the controller is removed.\n\n"
	  "The watchdog and e-stop events are lines of their own ('watchdog\n"
	  "expired|closed', 'estop tripped by user|input', 'estop cleared'),\n"
	  "not counted by --count; a latched e-stop shows first (on a terminal,\n"
	  "above the table).\n",
	  cmd_monitor },
	{ "move", "[--time S] [--wait [--timeout S]] CTRL CH=VALUE... | CTRL home",
	  "Move channels smoothly so that they all arrive together.",
	  "\nA minimum-jerk trajectory from where each channel is (its target)\n"
	  "to its VALUE (see 'set'), played by the kernel. Without --time, the\n"
	  "shortest time of at least 1 s that keeps within the speed and\n"
	  "acceleration limits. 'CTRL home' moves every calibrated joint of\n"
	  "CTRL that has a home position to it.\n\n"
	  "Every channel needs a position to move from: one never set, or\n"
	  "released, is refused; 'set' it first (a hobby servo jumps there at\n"
	  "its first pulse).\n\n"
	  "  --wait       return when everything queued has played\n"
	  "  --timeout S  with --wait: give up waiting after S seconds\n\n"
	  "During --wait, Ctrl-C (SIGINT), SIGTERM and SIGHUP stop the move\n"
	  "(the channels brake within their limits and hold) and exit with\n"
	  "130, 143 and 129.\n",
	  cmd_move },
	{ "traj", "[options] check FILE [CTRL] | upload FILE CTRL | status|stop|wait CTRL | plot FILE -o PNG|--print-series",
	  "Check, upload and follow trajectories.",
	  "\nFILE is CSV: a header 't_s,ch0_us,ch3_us' (units us, ns or ms;\n"
	  "t_ms for times in ms; joints of the calibration: elbow_deg), then one\n"
	  "waypoint per row, times increasing, at least 1 ms (and at most 60 s)\n"
	  "apart: each interval is one kernel segment.\n\n"
	  "  check    check FILE: syntax, times, units, joints (all on one\n"
	  "           controller); with CTRL, also CTRL's limits: the first\n"
	  "           violation is reported with its time, channel, value and\n"
	  "           limit\n"
	  "  upload   check, then send it to be played (nothing is sent if\n"
	  "           the check fails); if it does not start where the axes\n"
	  "           are, a lead-in move within the limits takes them there\n"
	  "           first (said on stderr)\n"
	  "  status   the player: state, segment, queue\n"
	  "  stop     drop the queue; axes brake within their limits and hold\n"
	  "  wait     until the player is idle: everything queued has played\n"
	  "           (exit 1 on an underrun)\n"
	  "  plot     draw FILE's planned widths into a PNG (-o); with\n"
	  "           --measured M.csv (same format), or --capture EVENTS\n"
	  "           (the loopback chip's debugfs capture; --first-line N if\n"
	  "           channel 0 is on line N), measured pulses as dots; times\n"
	  "           count from the trajectory's start recorded in EVENTS\n"
	  "           by 'upload --capture EVENTS'\n\n"
	  "Options:\n"
	  "  --interp linear|cubic|minjerk  between waypoints (default minjerk)\n"
	  "  --fit         stretch time until speeds and accelerations fit\n"
	  "  --at S        start S seconds from now (upload)\n"
	  "  --replace     splice in at --at (or the next frame), continuous\n"
	  "  --lead-in     upload: a lead-in move if the axes are away from the\n"
	  "                start (the default)\n"
	  "  --no-lead-in  upload: refuse a trajectory that does not start\n"
	  "                where the axes are\n"
	  "  --jump        upload: let the axes jump to the start (and play\n"
	  "                from channels with no position)\n"
	  "  --wait        after upload, wait until everything queued has\n"
	  "                played (progress on a tty)\n"
	  "  --timeout S   give up waiting after S seconds\n"
	  "  --capture FILE  upload: write the start time (# start_ns=N) to\n"
	  "                FILE, to append the capture to; plot: the capture\n"
	  "  -o, --output PNG, --measured CSV, --first-line N   for plot\n"
	  "  --print-series  plot: print planned and measured widths as CSV\n\n"
	  "During upload --wait, Ctrl-C (SIGINT), SIGTERM and SIGHUP stop the\n"
	  "trajectory (the axes brake within their limits and hold) and exit\n"
	  "with 130, 143 and 129. 'traj wait' exits so too, but only waits:\n"
	  "the trajectory plays on ('traj stop' stops it).\n",
	  cmd_traj },
	{ "calibrate", "[options] set|points CTRL CH=... | show [CTRL] | apply CTRL | jog CTRL CH",
	  "Calibrate servos: maps from deg, rad or % to pulse widths.",
	  "\nThe calibration of the robot lives in one file: --calibration FILE,\n"
	  "else $HRSERVO_CALIBRATION, else ~/.config/hrservo/robot.conf. CH is a\n"
	  "channel number or a joint name. Once calibrated, 'set', 'move' and\n"
	  "trajectory files take joint names and positions: set arm elbow=45deg,\n"
	  "set arm elbow=home.\n\n"
	  "  set      CH=KEY:VALUE,...  keys: name, min, center, max (pulses at\n"
	  "           the ends and the middle of range), range (default 180deg;\n"
	  "           deg and rad centred on 0, % from 0), invert:yes|no,\n"
	  "           trim (a pulse offset), lo, hi (soft limits), home, speed,\n"
	  "           accel (per second, in the joint's unit)\n"
	  "           e.g. 0=name:elbow,min:1000us,center:1500us,max:2000us\n"
	  "  points   CH=POS:PULSE,...  a map through measured points (2 to 16;\n"
	  "           --cubic for a monotone cubic), e.g. 0=0deg:1010us,90deg:1490us\n"
	  "  show     the joints (of CTRL); --json\n"
	  "  apply    set CTRL's kernel limits from its joints: pulses at the\n"
	  "           soft limits, speed and acceleration at the map's shallowest\n"
	  "  jog      on a terminal: move the servo with the arrow keys, +/-\n"
	  "           for the step (--step W to start), mark [ min, c center,\n"
	  "           ] max (the ends and the middle of the joint's range), p a\n"
	  "           point at a position; u undo, s save, q quit. It starts\n"
	  "           where the channel is held; a channel that is off needs\n"
	  "           --from VALUE (1500us, 50%, 10deg: it moves there at once).\n"
	  "           q, Ctrl-C, SIGINT, SIGTERM, SIGHUP, SIGQUIT release it\n\n"
	  "Keys given change only themselves: new pulses or points make a new\n"
	  "map over the joint's range, its soft limits, home and speed stay.\n"
	  "Saves are atomic: the file holds the old or the new calibration.\n",
	  cmd_calibrate },
	{ "estop", "[--release] CTRL... | --clear CTRL... | --status [--json] CTRL",
	  "Trip, clear or show the e-stop latch.",
	  "\nTrip (the default): every channel of each CTRL brakes within its\n"
	  "acceleration limit and holds (--release: every channel is\n"
	  "released, no pulse after the one in progress), the trajectory is\n"
	  "dropped, and the latch is set: from then on every target, move and\n"
	  "trajectory, from any program, is refused, until it is cleared.\n"
	  "Releases, limits and reads still work. Each CTRL is tripped as soon\n"
	  "as it is open; one that cannot be opened does not stop the others.\n\n"
	  "  --release  release every channel (also when already latched)\n"
	  "  --clear    clear the latch; nothing moves (refused while the\n"
	  "             e-stop input is active: release the button first)\n"
	  "  --status   show the latch: clear or latched (by user or by input,\n"
	  "             when), and the e-stop input line: none, inactive, active\n\n"
	  "A trip or a clear needs write access to the controller. Exit 1 if\n"
	  "any CTRL could not be tripped (or cleared); a controller without a\n"
	  "latch (a driver before ABI version 4) gets its trajectory stopped\n"
	  "(and its channels released with --release), and exit 1.\n",
	  cmd_estop },
	{ "record", "[-o FILE] [--duration S] CTRL [CH...]",
	  "Record what the servos do, as a trajectory file to replay.",
	  "\nWrites the pulse widths of every frame the controller plays, from\n"
	  "its frame record, in the CSV format of 'servoctl traj' (to stdout\n"
	  "without -o): 't_s,ch0_ns,...', the time of each frame (its scheduled\n"
	  "start on the controller's clock, from the first frame recorded) and\n"
	  "each channel's width in ns. A channel that is a calibrated joint is\n"
	  "written as the joint, in its unit (elbow_deg). 'servoctl traj upload\n"
	  "FILE CTRL' replays it frame by frame, with straight lines between the\n"
	  "frames (the file says '# interp: linear').\n\n"
	  "CH... are channels or joints; without them, every channel that has a\n"
	  "pulse when recording starts. Recording starts at the first frame in\n"
	  "which all of them have a pulse, and ends on Ctrl-C, SIGINT, SIGTERM\n"
	  "or SIGHUP (the file is complete), after --duration S seconds, when a\n"
	  "recorded channel is released (said, with the time), when the\n"
	  "controller is removed, or at 100000 frames (the most a trajectory\n"
	  "file holds).\n\n"
	  "  -o, --output FILE  write to FILE\n"
	  "  --duration S       record S seconds of frames\n\n"
	  "On a terminal, progress on stderr; at the end a summary, 'recorded N\n"
	  "frames (F s), lost L'. The controller keeps its last 512 frames; if\n"
	  "the recorder falls behind, the frames lost are said (the file then\n"
	  "has a longer interval there) and the exit status is 1.\n",
	  cmd_record },
	{ "teleop", "[--json] [--device DEV] [--map FILE] [--watchdog MS] [--failsafe hold|release|home] [--start where|home] CTRL",
	  "Drive the calibrated joints of CTRL from a gamepad.",
	  "\nReads a gamepad through evdev (--device /dev/input/eventN, or the\n"
	  "first device with gamepad buttons and a stick) and moves CTRL's\n"
	  "joints as the mapping file says: sticks and triggers to joints in\n"
	  "rate or position mode, buttons to poses, steps, turbo and the e-stop.\n"
	  "The map is --map FILE, else ~/.config/hrservo/gamepad.map, else\n"
	  "/etc/hrservo/gamepad.map (examples/teleop/gamepad.map is a start).\n"
	  "Joints start where the servos are; one that is off is not driven\n"
	  "until it is set, or, with --start home, gets its home position.\n\n"
	  "  -d, --device DEV    the gamepad (a /dev/input/by-id/ path stays\n"
	  "                      the same across reconnects)\n"
	  "  -m, --map FILE      the mapping file\n"
	  "      --watchdog MS   the kernel watchdog's timeout, 10..60000\n"
	  "                      (default 200; at least two frame periods)\n"
	  "      --failsafe hold|release|home\n"
	  "                      what the kernel does when teleop stops\n"
	  "                      commanding: hold where the servos are (default),\n"
	  "                      release them, or go to the joints' home positions\n"
	  "      --start where|home\n"
	  "                      where the joints start: where the servos are\n"
	  "                      (default), or, for a joint whose channel is off,\n"
	  "                      at its home: a first pulse, which the servo goes\n"
	  "                      to at its own speed (a gpiod: controller starts\n"
	  "                      with every channel off)\n\n"
	  "Safety: nothing moves without the deadman button (but --start home's\n"
	  "first pulses), and releasing it holds. The watchdog is armed all\n"
	  "along: if teleop is killed or hangs, the kernel runs the failsafe.\n"
	  "If the gamepad goes away, the failsafe runs within 10 ms and a\n"
	  "frame; the pad is looked for every 500 ms and used again when it is\n"
	  "back, the deadman pressed anew. The e-stop button trips the kernel's\n"
	  "latch ('servoctl estop --clear' clears it).\n"
	  "SIGINT, SIGTERM and SIGHUP run the failsafe and exit 0.\n\n"
	  "On a terminal, a status redrawn in place; otherwise one line per\n"
	  "happening (JSON Lines with --json), joint values 10 times a second\n"
	  "at most. See servoctl(1), TELEOP.\n",
	  cmd_teleop },
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct command *find_command(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: servoctl [--json] [--calibration FILE|--no-calibration]\n"
		"                [--strict-limits] COMMAND [ARGS...]\n\n"
		"Control hrservo servo controllers.\n\nCommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "\nOptions:\n"
		"  -j, --json     machine-readable output (commands that read)\n"
		"  -c, --calibration FILE  the robot's calibration (joints)\n"
		"      --no-calibration  none: no joints, the file is not read (a\n"
		"                 file that does not load fails every command but\n"
		"                 release)\n"
		"      --strict-limits   refuse joint commands when the kernel's\n"
		"                 limits are not the calibration's (else a warning)\n"
		"  -h, --help     this help; 'servoctl COMMAND --help' for one command\n"
		"  -V, --version  show the version\n\n"
		"Exit status: 0 success, 1 runtime error, 2 usage error.\n"
		"See servoctl(1).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "calibration", required_argument, NULL, 'c' },
		{ "no-calibration", no_argument, NULL, 'N' },
		{ "strict-limits", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	const struct command *c;
	int opt;

	while ((opt = getopt_long(argc, argv, "+jhVc:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			opt_json = true;
			break;
		case 'c':
			opt_calibration = optarg;
			break;
		case 'N':
			opt_no_calibration = true;
			break;
		case 'S':
			opt_strict_limits = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("servoctl (hrservo) API %u\n", hrservo_api_version());
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (opt_calibration && opt_no_calibration) {
		fprintf(stderr, "servoctl: --calibration and --no-calibration exclude each other\n");
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc && (c = find_command(argv[optind + 1]))) {
			print_command_help(c);
			return 0;
		}
		usage(stdout);
		return 0;
	}
	c = find_command(argv[optind]);
	if (!c) {
		fprintf(stderr, "servoctl: unknown command '%s'\n",
			argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd_name = c->name;
	return c->run(argc - optind, argv + optind);
}
