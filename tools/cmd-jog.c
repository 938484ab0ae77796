// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl calibrate jog: on a terminal, move one servo with the arrow keys,
 * mark its min, center and max (or points at positions), and save the
 * joint to the robot's calibration: the marks make its map, the rest of the
 * joint and of the file stay. It starts where the servo is held (or at
 * --from), never from nowhere. The servo is released on every way out,
 * signals included.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "servoctl.h"

static struct termios jog_saved;
static bool jog_raw;
static volatile sig_atomic_t jog_stop;	/* the signal that ends the jog */

static void jog_restore(void)
{
	if (jog_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &jog_saved);
	jog_raw = false;
}

static void jog_signal(int sig)
{
	jog_stop = sig;
}

struct jog_state {
	uint32_t pulse;
	struct jog_marks m;
};

static const unsigned int jog_steps[] = { 1, 5, 10, 50, 100 };

/*
 * The range the marks cover: the ends of @j's map, or for a fresh joint
 * the default span in its unit (-90..90deg, -pi/2..pi/2 rad, 0..100%).
 */
static void jog_range(const struct hrservo_joint *j, double *lo, double *hi)
{
	double span = joint_default_range(j->unit);

	if (j->npoints >= 2 && j->npoints <= HRSERVO_MAP_POINTS_MAX) {
		*lo = j->pos[0];
		*hi = j->pos[j->npoints - 1];
		return;
	}
	*lo = j->unit == HRSERVO_UNIT_PERCENT ? 0 : -span / 2;
	*hi = *lo + span;
}

int jog_merge(const struct hrservo_joint *old, const struct jog_marks *m,
	      bool cubic, struct hrservo_joint *out, char *note, size_t size)
{
	double pos[HRSERVO_MAP_POINTS_MAX], pulse[HRSERVO_MAP_POINTS_MAX];
	enum hrservo_unit unit = old->unit;
	unsigned int n = 0;

	*out = *old;
	if (m->npoints >= 2) {
		if (m->npoints > HRSERVO_MAP_POINTS_MAX) {
			snprintf(note, size, "%d points at most",
				 HRSERVO_MAP_POINTS_MAX);
			return -1;
		}
		for (n = 0; n < m->npoints; n++) {
			pos[n] = m->pos[n];
			pulse[n] = m->pulse_ns[n];
		}
		unit = m->unit;
	} else if (!isnan(m->mark[0]) && !isnan(m->mark[2])) {
		double lo, hi;

		/* The pulses at the ends (and the middle) of the joint's range. */
		jog_range(old, &lo, &hi);
		pos[n] = lo;
		pulse[n++] = m->mark[0];
		if (!isnan(m->mark[1])) {
			pos[n] = (lo + hi) / 2;
			pulse[n++] = m->mark[1];
		}
		pos[n] = hi;
		pulse[n++] = m->mark[2];
	} else {
		snprintf(note, size, "mark min and max (or two points) first");
		return -1;
	}
	if (joint_remap(out, pos, pulse, n, unit, note, size))
		return -1;
	if (cubic)
		out->map = HRSERVO_MAP_CUBIC;
	return 0;
}

static void jog_draw(const struct hrservo_joint *j, const struct jog_state *s,
		     unsigned int step, const char *ctrl, uint32_t effect,
		     const char *msg)
{
	static const char *const names[] = { "min", "center", "max" };
	char a[24], b[24], lo[40], hi[40];
	double l, h;

	jog_range(j, &l, &h);
	printf("\033[H\033[J");
	printf("servoctl calibrate jog: %s channel %u, joint %s\r\n\r\n", ctrl,
	       j->channel, j->name);
	printf("  pulse  %s   (in effect: %s)\r\n", fmt_ns(s->pulse, a),
	       effect ? fmt_ns(effect, b) : "-");
	printf("  step   %uus\r\n", jog_steps[step]);
	printf("  marks ");
	for (int i = 0; i < 3; i++)
		printf(" %s=%s", names[i],
		       isnan(s->m.mark[i]) ? "-" :
		       fmt_ns((uint32_t)s->m.mark[i], a));
	printf("   (the pulses at %s, %s%s)\r\n",
	       fmt_joint_pos(j, l, lo, sizeof(lo)),
	       fmt_joint_pos(j, h, hi, sizeof(hi)),
	       j->npoints >= 2 ? ", the joint's range" : "");
	printf("  points");
	for (unsigned int k = 0; k < s->m.npoints; k++)
		printf(" %g:%s", s->m.pos[k],
		       fmt_ns((uint32_t)s->m.pulse_ns[k], a));
	printf("%s\r\n\r\n", s->m.npoints ? "" : " -");
	printf("  arrows jog   +/- step   [ min   c center   ] max   p point at a position\r\n");
	printf("  u undo   s save   q quit (releases the servo)\r\n\r\n");
	printf("  %s\r\n", msg);
	fflush(stdout);
}

/*
 * Read a key within @timeout_ms (-1: no limit); arrows come as ESC [ A..D.
 * Returns the key, 'U'/'D' for the arrows, 0 on timeout, -1 at the end.
 */
static int jog_key(int timeout_ms)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char c, seq[2];
	int n = poll(&p, 1, timeout_ms);

	if (n == 0 || (n < 0 && errno == EINTR && !jog_stop))
		return 0;
	if (n < 0 || read(STDIN_FILENO, &c, 1) != 1)
		return -1;
	if (c != 27)
		return c;
	if (poll(&p, 1, 50) <= 0 || read(STDIN_FILENO, &seq[0], 1) != 1)
		return 27;
	if (poll(&p, 1, 50) <= 0 || read(STDIN_FILENO, &seq[1], 1) != 1)
		return 27;
	if (seq[0] == '[' && (seq[1] == 'A' || seq[1] == 'C'))
		return 'U';
	if (seq[0] == '[' && (seq[1] == 'B' || seq[1] == 'D'))
		return 'D';
	return 0;
}

/* A line typed in raw mode, for the position of a point. */
static int jog_line(char *buf, size_t size)
{
	size_t n = 0;
	int k;

	while ((k = jog_key(-1)) != -1) {
		if (k == '\r' || k == '\n') {
			buf[n] = '\0';
			return 0;
		}
		if (k == 27 || k == 3)
			return -1;
		if ((k == 127 || k == 8) && n) {
			n--;
			printf("\b \b");
		} else if (isprint(k) && n + 1 < size) {
			buf[n++] = (char)k;
			putchar(k);
		}
		fflush(stdout);
	}
	return -1;
}

/* "joint elbow (channel 3)" or "channel 3", for messages. */
static const char *jog_label(const struct hrservo_joint *j, char *buf,
			     size_t size)
{
	if (j->npoints >= 2)
		snprintf(buf, size, "joint %s (channel %u)", j->name,
			 j->channel);
	else
		snprintf(buf, size, "channel %u", j->channel);
	return buf;
}

/*
 * --from VALUE: a pulse width (1500us), a percentage of the channel's
 * limits, or a position of the joint in its unit (10deg). 0, or an exit
 * status after saying why.
 */
static int jog_from(const char *s, const struct hrservo_joint *j,
		    uint32_t mn, uint32_t mx, uint32_t *ns)
{
	char a[24], b[24], c[24], who[64], lo[40], hi[40];
	enum hrservo_unit u;
	double pos, pulse;

	jog_label(j, who, sizeof(who));
	if (!position_of(s, &pos, &u)) {
		if (j->npoints >= 2 && u == j->unit) {
			if (hrservo_joint_to_ns(j, pos, &pulse)) {
				err("--from %s: %s: outside its soft limits %s..%s",
				    s, who, fmt_joint_pos(j, j->min, lo, sizeof(lo)),
				    fmt_joint_pos(j, j->max, hi, sizeof(hi)));
				return EXIT_RUNTIME;
			}
		} else if (u == HRSERVO_UNIT_PERCENT && s[0] != '-') {
			pulse = mn + (mx - mn) * pos / 100;
		} else {
			err("--from %s: %s is not calibrated in %s; use a pulse width (1500us) or a %% of its limits",
			    s, who, hrservo_unit_name(u));
			return EXIT_USAGE;
		}
	} else if (pulse_of(s, &pulse)) {
		err("--from: '%s' is not a pulse width (1500us), a %% of the channel's limits or a position of the joint (10deg)",
		    s);
		return EXIT_USAGE;
	}
	pulse = round(pulse);
	if (!(pulse >= mn && pulse <= mx)) {
		err("--from %s: %s is outside the limits of %s, %s..%s", s,
		    fmt_ns(pulse >= 0 && pulse < 4e9 ? (uint32_t)pulse : 0, a),
		    who, fmt_ns(mn, b), fmt_ns(mx, c));
		return EXIT_RUNTIME;
	}
	*ns = (uint32_t)pulse;
	return 0;
}

int calibrate_jog(int argc, char **argv, const char *step_opt,
		  const char *from, bool cubic)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct hrservo_calib *c = NULL;
	/* Zeroed, padding too: states are compared with memcmp(). */
	struct jog_state hist[256], s = { 0 };
	struct hrservo_joint j;
	struct sigaction sa = { .sa_handler = jog_signal };
	struct termios raw;
	struct hrservo *h;
	unsigned int nhist = 0, step = 2;
	uint32_t applied = 0;
	char msg[512] = "ready", who[64];
	uint32_t mn, mx;
	int ret = 0, ch;
	bool gone = false;

	if (argc != 2) {
		err("expects a controller and a channel");
		return EXIT_USAGE;
	}
	if (opt_no_calibration) {
		err("jog saves the calibration: not with --no-calibration");
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		err("jog needs a terminal; use 'calibrate set' or 'points' in scripts");
		return EXIT_USAGE;
	}
	if (step_opt) {
		double ns;

		if (pulse_of(step_opt, &ns)) {
			err("--step: '%s' is not a width (1us, 5us, 10us, 50us, 100us)",
			    step_opt);
			return EXIT_USAGE;
		}
		for (step = 0; step + 1 < 5 && jog_steps[step] * 1000.0 < ns;
		     step++)
			;
	}
	h = open_ctrl(argv[0]);
	if (!h)
		return EXIT_RUNTIME;
	c = calib_get(false);
	if (!c) {
		ret = EXIT_RUNTIME;
		goto out;
	}
	ret = joint_for(c, h, argv[0], argv[1], &j);
	if (ret)
		goto out;
	ch = (int)j.channel;
	jog_label(&j, who, sizeof(who));
	if (hrservo_get_limits(h, (unsigned int)ch, &mn, &mx)) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	/*
	 * Where to start: where the servo is held now. A channel that is off
	 * (never set, or released) has no known position: its first pulse
	 * would make the servo jump, which only --from may ask for.
	 */
	{
		struct hrservo_state *st = hrservo_read_state(h);

		s.pulse = st && hrservo_state_enabled(st, (unsigned int)ch) ?
			  hrservo_state_target_ns(st, (unsigned int)ch) : 0;
		hrservo_state_free(st);
	}
	if (from) {
		ret = jog_from(from, &j, mn, mx, &s.pulse);
		if (ret)
			goto out;
	} else if (!s.pulse) {
		err("%s has no position: set it first ('servoctl set %s %u=1500us'), or give the start with --from VALUE (the servo moves there at once)",
		    who, argv[0], j.channel);
		ret = EXIT_RUNTIME;
		goto out;
	}
	if (s.pulse < mn || s.pulse > mx) {
		char a[24], b[24], x[24];

		err("%s: its target %s is outside its limits %s..%s", who,
		    fmt_ns(s.pulse, a), fmt_ns(mn, b), fmt_ns(mx, x));
		ret = EXIT_RUNTIME;
		goto out;
	}
	/* Latched, nothing would move: say so before the screen is taken. */
	{
		struct hrservo_estop_info e;

		if (!hrservo_estop_get(h, &e) && e.latched) {
			estop_refused(h, EPERM);
			ret = EXIT_RUNTIME;
			goto out;
		}
	}
	s.m.mark[0] = s.m.mark[1] = s.m.mark[2] = NAN;
	s.m.npoints = 0;
	s.m.unit = j.unit;

	/*
	 * Every way out releases the servo: q, Ctrl-C (a key in raw mode),
	 * the end of input, and SIGINT, SIGTERM, SIGHUP (the terminal or the
	 * ssh session is gone) and SIGQUIT.
	 */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	tcgetattr(STDIN_FILENO, &jog_saved);
	raw = jog_saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
	raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	jog_raw = true;
	atexit(jog_restore);

	while (!jog_stop) {
		struct jog_state before = s;
		uint32_t want = s.pulse;
		char a[24], line[32];
		int k;

		struct hrservo_state *st;
		uint32_t effect = 0;

		if (s.pulse != applied) {
			if (hrservo_set_target(h, (unsigned int)ch, s.pulse)) {
				/* Not reached: marks must not take it. */
				snprintf(msg, sizeof(msg), "cannot set %s: %s",
					 fmt_ns(s.pulse, a), errno == EPERM ?
					 estop_words(h) : strerror(errno));
				if (applied) {
					s.pulse = applied;
					if (nhist)
						nhist--;
				}
			} else {
				applied = s.pulse;
			}
		}
		/* The width the hardware makes now, redrawn 10 times a second. */
		st = hrservo_read_state(h);
		if (st)
			effect = hrservo_state_pulse_ns(st, (unsigned int)ch);
		hrservo_state_free(st);
		jog_draw(&j, &s, step, argv[0], effect, msg);
		k = jog_key(100);
		/* The end of input on a raw terminal: it has hung up. */
		gone = k == -1 && !jog_stop;
		if (k == -1 || k == 'q' || k == 3)
			break;
		if (k == 0)
			continue;
		msg[0] = '\0';
		switch (k) {
		case 'U':
		case 'D':
			want = k == 'U' ? s.pulse + jog_steps[step] * 1000 :
					  s.pulse - jog_steps[step] * 1000;
			if (want > mx || want < mn || (k == 'D' && want > s.pulse)) {
				want = k == 'U' ? mx : mn;
				snprintf(msg, sizeof(msg), "at the %s limit %s",
					 k == 'U' ? "max" : "min",
					 fmt_ns(want, a));
			}
			s.pulse = want;
			break;
		case '+':
		case '=':
			step += step + 1 < 5;
			break;
		case '-':
			step -= step > 0;
			break;
		case '[':
		case 'c':
		case ']':
			s.m.mark[k == '[' ? 0 : k == 'c' ? 1 : 2] = s.pulse;
			snprintf(msg, sizeof(msg), "%s marked at %s",
				 k == '[' ? "min" : k == 'c' ? "center" : "max",
				 fmt_ns(s.pulse, a));
			break;
		case 'p': {
			enum hrservo_unit u;
			double pos;

			printf("  position of this point (e.g. 90deg): ");
			fflush(stdout);
			if (jog_line(line, sizeof(line)) ||
			    position_of(line, &pos, &u)) {
				snprintf(msg, sizeof(msg), "not a position: no point added");
				break;
			}
			/* The points of a calibrated joint stay in its unit. */
			if ((s.m.npoints || j.npoints >= 2) && u != s.m.unit) {
				snprintf(msg, sizeof(msg), "unit mismatch: %s is in %s",
					 s.m.npoints ? "the points" : "the joint",
					 hrservo_unit_name(s.m.unit));
				break;
			}
			if (s.m.npoints == HRSERVO_MAP_POINTS_MAX) {
				snprintf(msg, sizeof(msg), "%d points at most",
					 HRSERVO_MAP_POINTS_MAX);
				break;
			}
			s.m.unit = u;
			/* Keep the points sorted by position. */
			{
				unsigned int at = s.m.npoints;

				while (at && s.m.pos[at - 1] > pos) {
					s.m.pos[at] = s.m.pos[at - 1];
					s.m.pulse_ns[at] = s.m.pulse_ns[at - 1];
					at--;
				}
				s.m.pos[at] = pos;
				s.m.pulse_ns[at] = s.pulse;
				s.m.npoints++;
			}
			snprintf(msg, sizeof(msg), "point %g%s at %s", pos,
				 hrservo_unit_name(u), fmt_ns(s.pulse, a));
			break;
		}
		case 'u':
			if (nhist) {
				s = hist[--nhist];
				snprintf(msg, sizeof(msg), "undone");
			} else {
				snprintf(msg, sizeof(msg), "nothing to undo");
			}
			continue;
		case 's': {
			struct hrservo_joint nj;
			char note[384], e[384];

			/* The marks make the map; the rest of the joint stays. */
			if (jog_merge(&j, &s.m, cubic, &nj, note, sizeof(note))) {
				snprintf(msg, sizeof(msg), "not saved: %s", note);
				break;
			}
			if (hrservo_calib_put(c, &nj, e, sizeof(e))) {
				snprintf(msg, sizeof(msg), "not saved: %s", e);
				break;
			}
			jog_restore();
			if (calib_store(c)) {
				snprintf(msg, sizeof(msg), "not saved");
			} else {
				snprintf(msg, sizeof(msg), "saved to %s%s%s",
					 calib_path(), note[0] ? "; " : "",
					 note);
				j = nj;
			}
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
			jog_raw = true;
			break;
		}
		default:
			snprintf(msg, sizeof(msg), "unknown key");
			break;
		}
		if (memcmp(&before, &s, sizeof(s)) && nhist < 256)
			hist[nhist++] = before;
	}
	/* The safe way out: the servo goes limp. */
	jog_restore();
	if (hrservo_release(h, 1ULL << ch)) {
		err("%s: cannot release %s: %s", hrservo_name(h), who,
		    strerror(errno));
		ret = EXIT_RUNTIME;
	} else if (jog_stop) {
		printf("\r\n");
		err("%s: %s released", strsignal(jog_stop), who);
		ret = EXIT_RUNTIME;
	} else if (gone) {
		/*
		 * As for SIGHUP, which a hang-up sends only after it wakes the
		 * reader: the exit status must not depend on which came first.
		 */
		printf("\r\n");
		err("the terminal is gone (end of input): %s released", who);
		ret = EXIT_RUNTIME;
	} else {
		printf("\r\nchannel %d released\n", ch);
	}
out:
	hrservo_close(h);
	return ret;
}
