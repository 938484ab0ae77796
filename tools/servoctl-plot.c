// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl-plot: the drawing half of 'servoctl traj plot'. A program of its
 * own so that servoctl does not load cairo and fontconfig for every command
 * (it made each 'servoctl set' about 3 times slower); servoctl runs it from
 * its own directory with the same arguments.
 *
 * usage: servoctl-plot [--interp I] [--measured CSV | --capture FILE
 *        [--first-line N]] FILE -o PNG | --print-series
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrservo.h"
#include "plot.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: servoctl-plot [--interp linear|cubic|minjerk] "
		"[--measured CSV | --capture FILE [--first-line N]] FILE "
		"[-o PNG] [--print-series]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interp", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "measured", required_argument, NULL, 'm' },
		{ "capture", required_argument, NULL, 'c' },
		{ "first-line", required_argument, NULL, 'l' },
		{ "print-series", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum hrservo_interp interp = HRSERVO_INTERP_MIN_JERK;
	const char *out = NULL, *measured = NULL, *capture = NULL;
	struct hrservo_traj *t, *mt;
	struct series *m = NULL;
	unsigned int first_line = 0;
	char msg[512], title[256], *end;
	bool series = false, has_start;
	int opt, ret = 0;

	while ((opt = getopt_long(argc, argv, "i:o:m:c:l:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (!strcmp(optarg, "linear"))
				interp = HRSERVO_INTERP_LINEAR;
			else if (!strcmp(optarg, "cubic"))
				interp = HRSERVO_INTERP_CUBIC;
			else if (!strcmp(optarg, "minjerk"))
				interp = HRSERVO_INTERP_MIN_JERK;
			else
				goto usage;
			break;
		case 'o':
			out = optarg;
			break;
		case 'm':
			measured = optarg;
			break;
		case 'c':
			capture = optarg;
			break;
		case 'l':
			first_line = (unsigned int)strtoul(optarg, &end, 10);
			if (!*optarg || *end)
				goto usage;
			break;
		case 'S':
			series = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || (!out && !series))
		goto usage;

	t = hrservo_traj_load_csv(argv[optind], msg, sizeof(msg));
	if (!t) {
		fprintf(stderr, "servoctl: traj: %s\n", msg);
		return 1;
	}
	hrservo_traj_set_interp(t, interp);
	if (measured) {
		mt = hrservo_traj_load_csv(measured, msg, sizeof(msg));
		if (!mt) {
			fprintf(stderr, "servoctl: traj: %s\n", msg);
			hrservo_traj_free(t);
			return 1;
		}
		m = series_from_traj(mt);
		hrservo_traj_free(mt);
		if (!m) {
			fprintf(stderr, "servoctl: traj: %s: %s\n", measured,
				strerror(errno));
			hrservo_traj_free(t);
			return 1;
		}
	} else if (capture) {
		m = capture_load(capture, t, first_line, &has_start);
		if (!m) {
			fprintf(stderr, "servoctl: traj: %s: %s\n", capture,
				errno == ENODATA ?
				"no complete frame of pulses for these channels" :
				errno == ERANGE ?
				"no complete frame of pulses after the trajectory's start (# start_ns=)" :
				strerror(errno));
			hrservo_traj_free(t);
			return 1;
		}
		if (!has_start)
			fprintf(stderr, "servoctl: traj: %s: no '# start_ns=' line: measured times count from the first pulse, not from the trajectory's start ('servoctl traj upload --capture %s' records it)\n",
				capture, capture);
	}
	if (series && print_series(stdout, t, m)) {
		fprintf(stderr, "servoctl: traj: --print-series: %s\n",
			strerror(errno));
		ret = 1;
		goto out;
	}
	if (!out)
		goto out;
	snprintf(title, sizeof(title), "%s: %zu waypoints, %.3f s, %s%s",
		 argv[optind], hrservo_traj_num_waypoints(t),
		 hrservo_traj_duration(t),
		 interp == HRSERVO_INTERP_LINEAR ? "linear" :
		 interp == HRSERVO_INTERP_CUBIC ? "cubic spline" : "minimum jerk",
		 m ? "; dots: measured" : "");
	if (plot_traj(t, m, title, out)) {
		fprintf(stderr, "servoctl: traj: plot: %s: %s\n", out,
			strerror(errno));
		ret = 1;
	}
out:
	series_free(m);
	hrservo_traj_free(t);
	return ret;

usage:
	fprintf(stderr, "servoctl: traj: plot: expects FILE and -o OUT.png or --print-series\n");
	usage(stderr);
	return 2;
}
