// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl record: what the servos did, frame by frame, as a trajectory
 * file that 'servoctl traj upload' replays.
 *
 * The widths and times come from the controller's frame record
 * (hrservo_read_frames()): each frame's scheduled start on the controller's
 * frame clock and the widths the hardware emitted in it, never the
 * recorder's own wake-ups. The controller keeps its last 512 frames; the
 * recorder reads them every 50 ms (10 s of frames at 50 Hz, 1.28 s at
 * 400 Hz), so it loses none unless it is not scheduled for that long, and
 * then it says how many.
 *
 * The file is the CSV of hrservo_traj_load_csv(): "# interp: linear" (a
 * frame's widths hold for the frame: straight lines between the frames
 * replay the same width at every frame start), then t_s and a column per
 * channel, chN_ns, or JOINT_UNIT for a calibrated joint. Times are the
 * integer ns since the first recorded frame, written with 9 decimals:
 * exact. Widths are integers; a joint's position is the shortest decimal
 * that the joint's map takes back to the same width (to 1/65536 ns, the
 * kernel's trajectory resolution), so the replay is the recording within
 * the backend's resolution.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "servoctl.h"

/* Frames read in one go: what the controller keeps. */
#define RECORD_ROOM		512
/* How often the record is read. */
#define RECORD_POLL_MS		50
/*
 * No frame for this long (wall clock) after recording started: the frame
 * clock stopped, which it does when no channel has a pulse. Then the
 * recording ends on a release, or on --duration.
 */
#define RECORD_IDLE_NS		200000000ULL
/* How often the progress line is redrawn. */
#define RECORD_PROGRESS_NS	200000000ULL

static volatile sig_atomic_t rec_signal;

static void rec_on_signal(int sig)
{
	rec_signal = sig;
}

static const char *opt_output;
static double opt_duration = -1;

static int record_opt(int opt, const char *arg)
{
	char *end;

	if (opt == 'o') {
		opt_output = arg;
		return 0;
	}
	if (opt != 'd')
		return -1;
	errno = 0;
	opt_duration = strtod(arg, &end);
	if (!*arg || *end || errno || !(opt_duration > 0) ||
	    opt_duration > 1e6) {
		err("--duration: '%s' is not a time in seconds (more than 0, at most 1e6)",
		    arg);
		exit(EXIT_USAGE);
	}
	return 0;
}

/* One column of the file: a channel, in ns or as its joint. */
struct rec_col {
	unsigned int ch;
	const struct hrservo_joint *j;
};

struct rec {
	struct hrservo *h;
	FILE *out;
	const char *name;		/* of the output, for messages */
	bool to_stdout;
	unsigned int ncol;
	struct rec_col col[HRSERVO_MAX_CHANNELS];
	char val[HRSERVO_MAX_CHANNELS][32];	/* a row's values */
	uint64_t mask;			/* the channels recorded */
	bool started;
	uint64_t t0;			/* start_ns of the first frame written */
	uint64_t last;			/* ...and of the last, from t0 */
	uint64_t frames, lost;
	uint64_t limit_ns;		/* --duration, or UINT64_MAX */
	bool tty;
	bool progress_shown;
	uint64_t progress_at;
};

/* "joint elbow (channel 1)", or "channel 1". */
static const char *col_name(const struct rec_col *c, char *buf, size_t size)
{
	if (c->j)
		snprintf(buf, size, "joint %s (channel %u)", c->j->name, c->ch);
	else
		snprintf(buf, size, "channel %u", c->ch);
	return buf;
}

/* The CSV suffix of a joint's unit. */
static const char *csv_unit(enum hrservo_unit u)
{
	return u == HRSERVO_UNIT_RAD ? "rad" :
	       u == HRSERVO_UNIT_PERCENT ? "pct" : "deg";
}

/* "1.234567890": integer ns as seconds, exactly. */
static const char *fmt_t(uint64_t ns, char *buf, size_t size)
{
	snprintf(buf, size, "%llu.%09llu",
		 (unsigned long long)(ns / 1000000000ULL),
		 (unsigned long long)(ns % 1000000000ULL));
	return buf;
}

/* Does position @s of @j give width @ns, to 1/65536 ns (what is sent)? */
static bool joint_gives(const struct hrservo_joint *j, const char *s,
			uint32_t ns)
{
	double back;

	return !hrservo_joint_to_ns(j, strtod(s, NULL), &back) &&
	       llround(back * 65536.0) == (long long)ns * 65536;
}

/*
 * Width @ns as a position of @j: the decimal with the fewest decimals
 * (1500us on a 1000..2000us map over +-90deg is "0", not the map's
 * inverse "-2.13163e-14") that the joint's map takes back to @ns within
 * half of 1/65536 ns (hrservo_traj_upload() sends 1/65536 ns), within the
 * soft limits (the loader refuses others); 17 significant digits if none
 * does (a position beyond 1e12). 0, or -1 if no position gives @ns.
 */
static int joint_value(const struct hrservo_joint *j, uint32_t ns, char *buf,
		       size_t size)
{
	double pos;

	if (hrservo_joint_from_ns(j, ns, &pos))
		return -1;
	for (int dec = 0; dec <= 12; dec++) {
		snprintf(buf, size, "%.*f", dec, pos);
		if (strtod(buf, NULL) == 0)
			snprintf(buf, size, "0");	/* not "-0" */
		if (joint_gives(j, buf, ns))
			return 0;
	}
	snprintf(buf, size, "%.17g", pos);
	return joint_gives(j, buf, ns) ? 0 : -1;
}

static void progress_clear(struct rec *r)
{
	if (r->progress_shown)
		fputc('\n', stderr);
	r->progress_shown = false;
}

static void progress(struct rec *r, bool force)
{
	uint64_t now = now_ns();

	if (!r->tty || (!force && now < r->progress_at))
		return;
	r->progress_at = now + RECORD_PROGRESS_NS;
	fprintf(stderr, "\rrecorded %llu frames, lost %llu, %.1f s",
		(unsigned long long)r->frames, (unsigned long long)r->lost,
		r->last / 1e9);
	fflush(stderr);
	r->progress_shown = true;
}

/* err(), after the progress line. */
#define rec_err(r, ...) do { progress_clear(r); err(__VA_ARGS__); } while (0)

/* Why the recording ended, if it did. */
enum rec_end {
	REC_ON,			/* still recording */
	REC_DONE,		/* a clean end: the duration, a release... */
	REC_FAILED,		/* an end that is an error: exit 1 */
};

/* Write frame @f (a row), or end the recording. */
static enum rec_end rec_frame(struct rec *r, const struct hrservo_frame_data *f)
{
	char buf[64], name[64], t[32];
	uint64_t dt;

	if (!r->started) {
		/* From the first frame in which every channel has a pulse. */
		if ((f->active & r->mask) != r->mask)
			return REC_ON;
		r->started = true;
		r->t0 = f->start_ns;
	}
	dt = f->start_ns - r->t0;
	if ((f->active & r->mask) != r->mask) {
		unsigned int k;

		for (k = 0; k < r->ncol; k++)
			if (!(f->active & (1ULL << r->col[k].ch)))
				break;
		rec_err(r, "%s: %s lost its pulse (released) at t=%s s: the recording ends there",
			hrservo_name(r->h), col_name(&r->col[k], name, sizeof(name)),
			fmt_t(dt, t, sizeof(t)));
		return REC_DONE;
	}
	if (dt > r->limit_ns)
		return REC_DONE;
	if (r->frames && dt - r->last > HRSERVO_TRAJ_MAX_INTERVAL_NS) {
		rec_err(r, "%s: no frame for %.1f s before t=%s s, longer than a trajectory's interval may be (%g s): the recording ends there",
			hrservo_name(r->h), (dt - r->last) / 1e9,
			fmt_t(dt, t, sizeof(t)),
			HRSERVO_TRAJ_MAX_INTERVAL_NS / 1e9);
		return REC_FAILED;
	}
	if (r->frames == HRSERVO_TRAJ_MAX_WAYPOINTS) {
		rec_err(r, "%s: %d frames, the most a trajectory file holds: the recording ends at t=%s s",
			hrservo_name(r->h), HRSERVO_TRAJ_MAX_WAYPOINTS,
			fmt_t(r->last, t, sizeof(t)));
		return REC_DONE;
	}
	/* Every value first: a row is written whole or not at all. */
	for (unsigned int k = 0; k < r->ncol; k++) {
		const struct rec_col *c = &r->col[k];

		if (!c->j) {
			snprintf(r->val[k], sizeof(r->val[k]), "%u",
				 f->pulse_ns[c->ch]);
		} else if (joint_value(c->j, f->pulse_ns[c->ch], r->val[k],
				       sizeof(r->val[k]))) {
			rec_err(r, "%s: joint %s at t=%s s: %s is outside its calibrated soft limits, which a trajectory file cannot hold: the recording ends there (record with --no-calibration for widths)",
				hrservo_name(r->h), c->j->name,
				fmt_t(dt, t, sizeof(t)),
				fmt_ns(f->pulse_ns[c->ch], buf));
			return REC_FAILED;
		}
	}
	fputs(fmt_t(dt, t, sizeof(t)), r->out);
	for (unsigned int k = 0; k < r->ncol; k++)
		fprintf(r->out, ",%s", r->val[k]);
	fputc('\n', r->out);
	r->frames++;
	r->last = dt;
	return REC_ON;
}

/*
 * No new frame: if the frame clock has stopped, a recorded channel was
 * released (the last frame of a release may never come: a clock with no
 * pulse to make stops), or the duration ran out on the wall clock.
 */
static enum rec_end rec_idle(struct rec *r)
{
	uint64_t now = now_ns(), since = now > r->t0 ? now - r->t0 : 0;
	struct hrservo_state *st;
	char name[64], t[32];
	enum rec_end end = REC_ON;

	if (since < r->last + RECORD_IDLE_NS)
		return REC_ON;
	st = hrservo_read_state(r->h);
	for (unsigned int k = 0; st && k < r->ncol && end == REC_ON; k++) {
		if (hrservo_state_enabled(st, r->col[k].ch))
			continue;
		rec_err(r, "%s: %s lost its pulse (released) after t=%s s: the recording ends there",
			hrservo_name(r->h),
			col_name(&r->col[k], name, sizeof(name)),
			fmt_t(r->last, t, sizeof(t)));
		end = REC_DONE;
	}
	hrservo_state_free(st);
	if (end == REC_ON && r->limit_ns != UINT64_MAX && since > r->limit_ns)
		end = REC_DONE;
	return end;
}

/*
 * The newest frame played (*@have false if none yet), and the seq to read
 * from next. 0, or -1 with errno.
 */
static int newest_frame(struct hrservo *h, struct hrservo_frame_data *buf,
			struct hrservo_frame_data *newest, bool *have,
			uint64_t *next)
{
	uint64_t seq = 0, lost;
	size_t n;

	*have = false;
	do {
		if (hrservo_read_frames(h, seq, buf, RECORD_ROOM, &n, &seq,
					&lost))
			return -1;
		if (n) {
			*newest = buf[n - 1];
			*have = true;
		}
	} while (n == RECORD_ROOM);
	/* The newest is the first candidate: recording starts now. */
	*next = *have ? newest->seq : 0;
	return 0;
}

/* The header: comments, "# interp: linear", then the columns. */
static void write_header(struct rec *r)
{
	fprintf(r->out,
		"# servoctl record %s: the frames it played, from its frame record\n"
		"# t_s: each frame's scheduled start, from the first; widths as emitted\n"
		"# replay: servoctl traj upload %s %s (frame-exact within the backend's resolution)\n"
		"# interp: linear\n"
		"t_s", hrservo_name(r->h),
		r->to_stdout ? "FILE" : r->name,
		hrservo_name(r->h));
	for (unsigned int k = 0; k < r->ncol; k++) {
		const struct rec_col *c = &r->col[k];

		if (c->j)
			fprintf(r->out, ",%s_%s", c->j->name, csv_unit(c->j->unit));
		else
			fprintf(r->out, ",ch%u_ns", c->ch);
	}
	fputc('\n', r->out);
	fflush(r->out);
}

/* "channels 0, 3 and 5" / "channel 2" (joints by name). */
static void cols_list(const struct rec *r, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';

	for (unsigned int k = 0; k < r->ncol && len + 48 < size; k++) {
		char name[64];

		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					!k ? "" : k + 1 == r->ncol ? " and " : ", ",
					col_name(&r->col[k], name, sizeof(name)));
	}
}

int cmd_record(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct hrservo_frame_data *buf = NULL, newest;
	struct rec r = { .limit_ns = UINT64_MAX };
	struct hrservo_calib *cal;
	struct sigaction sa;
	uint64_t next, mask = 0;
	bool have, waiting = false;
	enum rec_end end = REC_ON;
	int i, ret = EXIT_RUNTIME;
	char t[32];

	i = sub_opts(argc, argv, find_command("record"), "o:", extra,
		     record_opt);
	argc -= i;
	argv += i;
	if (opt_json) {
		err("writes CSV: --json does not apply");
		return EXIT_USAGE;
	}
	if (argc < 1) {
		err("expects a controller, and channels or joints");
		return EXIT_USAGE;
	}
	if (opt_duration > 0)
		r.limit_ns = (uint64_t)llround(opt_duration * 1e9);
	r.h = open_ctrl(argv[0]);
	if (!r.h)
		return EXIT_RUNTIME;
	if (argc > 1 && channel_args(r.h, argc - 1, argv + 1, &mask)) {
		ret = EXIT_USAGE;
		goto out;
	}
	buf = calloc(RECORD_ROOM, sizeof(*buf));
	if (!buf) {
		err("%s", strerror(errno));
		goto out;
	}
	if (newest_frame(r.h, buf, &newest, &have, &next)) {
		if (errno == ENOTSUP)
			err("%s: no frame record (a driver before ABI version 4, or a backend without one)",
			    hrservo_name(r.h));
		else if (errno == ENODEV)
			err("%s: controller removed", hrservo_name(r.h));
		else
			err("%s: %s", hrservo_name(r.h), strerror(errno));
		goto out;
	}
	if (argc == 1) {
		/* Every channel that has a pulse now. */
		mask = have ? newest.active : 0;
		if (hrservo_num_channels(r.h) < 64)
			mask &= (1ULL << hrservo_num_channels(r.h)) - 1;
		if (!mask) {
			err("%s: no channel has a pulse: name the channels (or joints) to record; recording starts once they all have one",
			    hrservo_name(r.h));
			goto out;
		}
	}
	cal = calib_get(false);
	for (unsigned int c = 0; c < HRSERVO_MAX_CHANNELS; c++) {
		if (!(mask & (1ULL << c)))
			continue;
		r.col[r.ncol].ch = c;
		r.col[r.ncol].j = cal ? hrservo_calib_find_channel(cal,
						hrservo_name(r.h), c) : NULL;
		r.ncol++;
	}
	r.mask = mask;

	/* Opened once the arguments are good; a bad path records nothing. */
	r.to_stdout = !opt_output || !strcmp(opt_output, "-");
	r.name = r.to_stdout ? "stdout" : opt_output;
	r.out = r.to_stdout ? stdout : fopen(opt_output, "w");
	if (!r.out) {
		err("%s: %s", opt_output, strerror(errno));
		goto out;
	}
	write_header(&r);
	r.tty = isatty(STDERR_FILENO);

	/* The signals end the recording cleanly, with the file complete. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rec_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++) {
		struct sigaction old;

		if (!sigaction(sigs[k], NULL, &old) && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[k], &sa, NULL);
	}

	for (;;) {
		/* After a signal, what was played until then, and the end. */
		bool final = rec_signal != 0;
		uint64_t lost = 0;
		size_t n = 0;

		if (hrservo_read_frames(r.h, next, buf, RECORD_ROOM, &n, &next,
					&lost)) {
			if (errno == ENODEV)
				rec_err(&r, "%s: controller removed: the recording ends there",
					hrservo_name(r.h));
			else
				rec_err(&r, "%s: %s", hrservo_name(r.h),
					strerror(errno));
			end = REC_FAILED;
			break;
		}
		if (lost && r.started) {
			r.lost += lost;
			rec_err(&r, "%s: fell behind: %llu frames lost before t=%s s (the controller keeps its last 512); recording goes on",
				hrservo_name(r.h), (unsigned long long)lost,
				n ? fmt_t(buf[0].start_ns - r.t0, t, sizeof(t)) : "?");
		}
		for (size_t k = 0; k < n && end == REC_ON; k++)
			end = rec_frame(&r, &buf[k]);
		if (end == REC_ON && r.started && !n)
			end = rec_idle(&r);
		if (!r.started && !waiting) {
			char list[1024];

			cols_list(&r, list, sizeof(list));
			rec_err(&r, "%s: waiting until %s %s a pulse",
				hrservo_name(r.h), list,
				r.ncol == 1 ? "has" : "have");
			waiting = true;
		}
		if (fflush(r.out) || ferror(r.out)) {
			rec_err(&r, "%s: %s", r.name, strerror(errno));
			end = REC_FAILED;
			break;
		}
		progress(&r, false);
		if (end != REC_ON)
			break;
		/* More waiting: read again at once. */
		if (n == RECORD_ROOM)
			continue;
		if (final)
			break;
		/* A signal ends the wait (no SA_RESTART). */
		poll(NULL, 0, RECORD_POLL_MS);
	}
	progress(&r, true);
	progress_clear(&r);
	fprintf(stderr, "recorded %llu frames (%.3f s), lost %llu\n",
		(unsigned long long)r.frames, r.last / 1e9,
		(unsigned long long)r.lost);
	ret = end == REC_FAILED || r.lost ? EXIT_RUNTIME : 0;
	if (r.frames < 2) {
		err("%s: fewer than 2 frames recorded: nothing to replay",
		    hrservo_name(r.h));
		ret = EXIT_RUNTIME;
	}
	if (r.out != stdout && fclose(r.out)) {
		err("%s: %s", r.name, strerror(errno));
		ret = EXIT_RUNTIME;
	}
out:
	free(buf);
	hrservo_close(r.h);
	return ret;
}
