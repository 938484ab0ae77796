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
#include <unistd.h>

#include "hrservo.h"
#include "plot.h"

/*
 * The calibration servoctl names in $HRSERVO_CALIBRATION ("" for none), or
 * NULL if there is none; a broken file sets *@broken, and says why.
 */
static struct hrservo_calib *plot_calib(bool *broken)
{
	const char *path = getenv("HRSERVO_CALIBRATION");
	struct hrservo_calib *c;
	char err[512];

	*broken = false;
	if (!path || !*path || access(path, R_OK))
		return NULL;
	c = hrservo_calib_load(path, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "servoctl: traj: calibration: %s\n", err);
		*broken = true;
	}
	return c;
}

/*
 * The joint of each axis of @t, from the header of its file @path, when
 * every column after the time is a joint column of one unit; else false
 * (the plot then shows pulse widths).
 */
static bool joints_of(const char *path, const struct hrservo_calib *c,
		      const struct hrservo_traj *t,
		      const struct hrservo_joint **j)
{
	unsigned int a = 0, na = hrservo_traj_num_axes(t);
	char line[4096], *tok, *save, *p;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p)
		return false;
	if (!strncmp(p, "\xef\xbb\xbf", 3))
		p += 3;		/* a UTF-8 BOM */
	p[strcspn(p, "\r\n")] = '\0';
	if (!strtok_r(p, ",", &save))
		return false;	/* the time column */
	while ((tok = strtok_r(NULL, ",", &save))) {
		char name[HRSERVO_JOINT_NAME_MAX + 8];
		size_t n;

		tok += strspn(tok, " \t");
		n = strcspn(tok, " \t");
		if (a >= na || n < 5 || n >= sizeof(name) ||
		    (strncmp(tok + n - 4, "_deg", 4) &&
		     strncmp(tok + n - 4, "_rad", 4) &&
		     strncmp(tok + n - 4, "_pct", 4)))
			return false;
		memcpy(name, tok, n - 4);
		name[n - 4] = '\0';
		j[a] = hrservo_calib_find(c, name);
		if (!j[a] || j[a]->channel != hrservo_traj_channel(t, a) ||
		    j[a]->unit != j[0]->unit)
			return false;
		a++;
	}
	return a == na;
}

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
	bool interp_set = false;	/* else the file's, or minimum jerk */
	const char *out = NULL, *measured = NULL, *capture = NULL;
	struct hrservo_traj *t, *mt;
	struct series *m = NULL;
	unsigned int first_line = 0;
	char msg[512], title[256], *end;
	const struct hrservo_joint *joint[HRSERVO_MAX_CHANNELS];
	const struct hrservo_joint *const *joints = NULL;
	struct hrservo_calib *calib;
	bool series = false, has_start, broken;
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
			interp_set = true;
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

	calib = plot_calib(&broken);
	if (broken)
		return 1;
	t = calib ? hrservo_traj_load_csv_calib(argv[optind], calib, NULL, msg,
						sizeof(msg)) :
		    hrservo_traj_load_csv(argv[optind], msg, sizeof(msg));
	if (!t) {
		fprintf(stderr, "servoctl: traj: %s\n", msg);
		hrservo_calib_free(calib);
		return 1;
	}
	/* A file in joint positions is drawn in them. */
	if (calib && joints_of(argv[optind], calib, t, joint))
		joints = joint;
	if (interp_set)
		hrservo_traj_set_interp(t, interp);
	interp = hrservo_traj_interp(t);
	if (measured) {
		mt = hrservo_traj_load_csv(measured, msg, sizeof(msg));
		if (!mt) {
			fprintf(stderr, "servoctl: traj: %s\n", msg);
			ret = 1;
			goto out;
		}
		m = series_from_traj(mt);
		hrservo_traj_free(mt);
		if (!m) {
			fprintf(stderr, "servoctl: traj: %s: %s\n", measured,
				strerror(errno));
			ret = 1;
			goto out;
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
			ret = 1;
			goto out;
		}
		if (!has_start)
			fprintf(stderr, "servoctl: traj: %s: no '# start_ns=' line: measured times count from the first pulse, not from the trajectory's start ('servoctl traj upload --capture %s' records it)\n",
				capture, capture);
	}
	if (series && print_series(stdout, t, m, joints)) {
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
	if (plot_traj(t, m, joints, title, out)) {
		fprintf(stderr, "servoctl: traj: plot: %s: %s\n", out,
			strerror(errno));
		ret = 1;
	}
out:
	series_free(m);
	hrservo_traj_free(t);
	hrservo_calib_free(calib);
	return ret;

usage:
	fprintf(stderr, "servoctl: traj: plot: expects FILE and -o OUT.png or --print-series\n");
	usage(stderr);
	return 2;
}
