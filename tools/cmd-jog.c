// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * servoctl calibrate jog: on a terminal, move one servo with the arrow keys,
 * mark its min, center and max (or points at positions), and save the
 * joint to the robot's calibration. The servo is released on the way out.
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
static volatile sig_atomic_t jog_stop;

static void jog_restore(void)
{
	if (jog_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &jog_saved);
	jog_raw = false;
}

static void jog_signal(int sig)
{
	(void)sig;
	jog_stop = 1;
}

struct jog_state {
	uint32_t pulse;
	double mark[3];			/* min, center, max; NAN if unset */
	unsigned int npoints;
	double pos[HRSERVO_MAP_POINTS_MAX];
	double pulse_at[HRSERVO_MAP_POINTS_MAX];
};

static const unsigned int jog_steps[] = { 1, 5, 10, 50, 100 };

static void jog_draw(const struct hrservo_joint *j, const struct jog_state *s,
		     unsigned int step, const char *ctrl, uint32_t effect,
		     const char *msg)
{
	static const char *const names[] = { "min", "center", "max" };
	char a[24], b[24];

	printf("\033[H\033[J");
	printf("servoctl calibrate jog: %s channel %u, joint %s\r\n\r\n", ctrl,
	       j->channel, j->name);
	printf("  pulse  %s   (in effect: %s)\r\n", fmt_ns(s->pulse, a),
	       effect ? fmt_ns(effect, b) : "-");
	printf("  step   %uus\r\n", jog_steps[step]);
	printf("  marks ");
	for (int i = 0; i < 3; i++)
		printf(" %s=%s", names[i],
		       isnan(s->mark[i]) ? "-" :
		       fmt_ns((uint32_t)s->mark[i], a));
	printf("\r\n  points");
	for (unsigned int k = 0; k < s->npoints; k++)
		printf(" %g:%s", s->pos[k], fmt_ns((uint32_t)s->pulse_at[k], a));
	printf("%s\r\n\r\n", s->npoints ? "" : " -");
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

/* The joint from the marks or the points; 0, or -1 with @msg set. */
static int jog_joint(struct hrservo_joint *j, const struct jog_state *s,
		     char *msg, size_t size)
{
	if (s->npoints >= 2) {
		j->npoints = 0;
		for (unsigned int k = 0; k < s->npoints; k++) {
			j->pos[k] = s->pos[k];
			j->pulse_ns[k] = s->pulse_at[k];
		}
		j->npoints = s->npoints;
		j->min = j->pos[0];
		j->max = j->pos[j->npoints - 1];
		return 0;
	}
	if (isnan(s->mark[0]) || isnan(s->mark[2])) {
		snprintf(msg, size, "mark min and max (or two points) first");
		return -1;
	}
	three_points(j, j->unit == HRSERVO_UNIT_RAD ? M_PI :
		     j->unit == HRSERVO_UNIT_PERCENT ? 100 : 180,
		     s->mark[0], s->mark[1], s->mark[2], !isnan(s->mark[1]));
	return 0;
}

int calibrate_jog(int argc, char **argv, const char *step_opt, bool cubic)
{
	struct hrservo_calib *c = NULL;
	struct jog_state hist[256], s;
	struct hrservo_joint j;
	struct sigaction sa = { .sa_handler = jog_signal };
	struct termios raw;
	struct hrservo *h;
	unsigned int nhist = 0, step = 2;
	uint32_t applied = 0;
	char msg[512] = "ready";
	uint32_t mn, mx;
	int ret = 0, ch;

	if (argc != 2) {
		err("expects a controller and a channel");
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
	if (hrservo_get_limits(h, (unsigned int)ch, &mn, &mx)) {
		err("%s: %s", hrservo_name(h), strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	{
		struct hrservo_state *st = hrservo_read_state(h);

		s.pulse = st ? hrservo_state_target_ns(st, (unsigned int)ch) : 0;
		hrservo_state_free(st);
	}
	if (!s.pulse)
		s.pulse = (mn + mx) / 2;
	s.mark[0] = s.mark[1] = s.mark[2] = NAN;
	s.npoints = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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
			applied = s.pulse;
			if (hrservo_set_target(h, (unsigned int)ch, s.pulse))
				snprintf(msg, sizeof(msg), "cannot set %s: %s",
					 fmt_ns(s.pulse, a), strerror(errno));
		}
		/* The width the hardware makes now, redrawn 10 times a second. */
		st = hrservo_read_state(h);
		if (st)
			effect = hrservo_state_pulse_ns(st, (unsigned int)ch);
		hrservo_state_free(st);
		jog_draw(&j, &s, step, argv[0], effect, msg);
		k = jog_key(100);
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
			s.mark[k == '[' ? 0 : k == 'c' ? 1 : 2] = s.pulse;
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
			if (s.npoints && u != j.unit) {
				snprintf(msg, sizeof(msg), "unit mismatch: the points are in %s",
					 hrservo_unit_name(j.unit));
				break;
			}
			if (s.npoints == HRSERVO_MAP_POINTS_MAX) {
				snprintf(msg, sizeof(msg), "%d points at most",
					 HRSERVO_MAP_POINTS_MAX);
				break;
			}
			j.unit = u;
			/* Keep the points sorted by position. */
			{
				unsigned int at = s.npoints;

				while (at && s.pos[at - 1] > pos) {
					s.pos[at] = s.pos[at - 1];
					s.pulse_at[at] = s.pulse_at[at - 1];
					at--;
				}
				s.pos[at] = pos;
				s.pulse_at[at] = s.pulse;
				s.npoints++;
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
			char e[384];

			if (jog_joint(&j, &s, msg, sizeof(msg)))
				break;
			j.map = cubic ? HRSERVO_MAP_CUBIC : HRSERVO_MAP_LINEAR;
			if (j.has_home && (j.home < j.min || j.home > j.max))
				j.has_home = false;
			if (hrservo_calib_put(c, &j, e, sizeof(e))) {
				snprintf(msg, sizeof(msg), "not saved: %s", e);
				break;
			}
			jog_restore();
			if (calib_store(c)) {
				snprintf(msg, sizeof(msg), "not saved");
			} else {
				snprintf(msg, sizeof(msg), "saved to %s",
					 calib_path());
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
	hrservo_release(h, 1ULL << ch);
	printf("\r\nchannel %d released\n", ch);
out:
	hrservo_close(h);
	return ret;
}
