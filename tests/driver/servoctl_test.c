// SPDX-License-Identifier: GPL-2.0
/*
 * servoctl end to end, in the guest, against the loopback chip: output,
 * exit codes, error messages, and the pulses it makes.
 *
 * $HRSERVO_SERVOCTL names the binary: the sanitizer build (ASan + UBSan +
 * LeakSanitizer) by default, so a leak or a memory error fails the run.
 * $HRSERVO_VALGRIND, when set, is the valgrind binary for the valgrind test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000U
#define MAXP_CLI	256

extern char **environ;

struct run {
	int status;		/* exit status, or 128 + signal */
	char out[16384];
	char err[4096];
};

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static int count_of(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

static void drain(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t r = read(fd, buf + *len, size - 1 - *len);

	if (r > 0)
		*len += (size_t)r;
	buf[*len] = '\0';
}

/* A command running with its output captured. */
struct proc {
	pid_t pid;
	int out, err;
	size_t lo, le;
};

static int proc_start(char *const argv[], struct proc *p, struct run *r)
{
	int po[2], pe[2];
	posix_spawn_file_actions_t fa;

	memset(r, 0, sizeof(*r));
	memset(p, 0, sizeof(*p));
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	if (posix_spawn(&p->pid, argv[0], &fa, NULL, argv, environ))
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	p->out = po[0];
	p->err = pe[0];
	return 0;
}

/*
 * Collect output until @needle appears on stdout (NULL: until both pipes
 * close) or @timeout_ms passes, of guest time and of the host's (tl_bound:
 * under -icount guest time runs ahead while valgrind and the sanitizer
 * builds load over 9p). Returns 1 if the needle was seen.
 */
static int proc_collect(struct proc *p, struct run *r, const char *needle,
			int timeout_ms)
{
	bool out_open = true, err_open = true;
	struct tl_bound b;

	tl_bound_ms(&b, (unsigned int)timeout_ms);

	while (out_open || err_open) {
		struct pollfd f[2] = { { p->out, POLLIN, 0 },
				       { p->err, POLLIN, 0 } };

		if (needle && strstr(r->out, needle))
			return 1;
		if (tl_bound_passed(&b))
			return 0;
		f[0].fd = out_open ? p->out : -1;
		f[1].fd = err_open ? p->err : -1;
		/* A second at most: the host's clock is read between polls. */
		if (poll(f, 2, 1000) < 0)
			return 0;
		if (f[0].revents) {
			size_t before = p->lo;

			drain(p->out, r->out, sizeof(r->out), &p->lo);
			out_open = p->lo != before;
		}
		if (f[1].revents) {
			size_t before = p->le;

			drain(p->err, r->err, sizeof(r->err), &p->le);
			err_open = p->le != before;
		}
	}
	return needle ? strstr(r->out, needle) != NULL : 1;
}

/*
 * Wait for the end of the command, killing it after 240 s of guest time
 * and of the host's: under -icount guest time jumps ahead while the guest
 * waits for a loaded host (valgrind and the sanitizer builds load much over
 * 9p), so a bound of guest time alone fails healthy commands (CI saw
 * valgrind's servoctl killed after 245 s of guest time on PREEMPT_RT).
 */
static void proc_finish(struct proc *p, struct run *r)
{
	int status;

	if (!proc_collect(p, r, NULL, 240000))
		kill(p->pid, SIGKILL);
	close(p->out);
	close(p->err);
	waitpid(p->pid, &status, 0);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
}

/* Run a command to completion, capturing its output. */
static int run_argv(char *const argv[], struct run *r)
{
	struct proc p;

	if (proc_start(argv, &p, r))
		return -1;
	proc_finish(&p, r);
	return 0;
}

static const char *servoctl(void)
{
	const char *s = getenv("HRSERVO_SERVOCTL");

	return s ? s : "servoctl";
}

/* servoctl with up to 8 arguments, NULL-terminated. */
#define SERVOCTL(r, ...) \
	run_argv((char *const[]){ (char *)servoctl(), __VA_ARGS__, NULL }, r)

/* Sanitizers print here and exit non-zero; say so in the log. */
static void no_sanitizer_report(struct __test_metadata *_metadata,
				const struct run *r)
{
	EXPECT_EQ(NULL, strstr(r->err, "Sanitizer")) {
		TH_LOG("%s", r->err);
	}
	EXPECT_EQ(NULL, strstr(r->err, "runtime error")) {
		TH_LOG("%s", r->err);
	}
}

FIXTURE(cli) {
	struct tl_ctrl c;
	struct run r;
};

FIXTURE_SETUP(cli)
{
	ASSERT_EQ(0, tl_create(&self->c, 0, 8));
	tl_capture_clear();
}

FIXTURE_TEARDOWN(cli)
{
	no_sanitizer_report(_metadata, &self->r);
	EXPECT_EQ(0, tl_destroy(&self->c));
}

TEST_F(cli, list_and_info)
{
	char expect[128], dev[64];

	ASSERT_EQ(0, SERVOCTL(&self->r, "list"));
	EXPECT_EQ(0, self->r.status);
	snprintf(expect, sizeof(expect), "%s", self->c.name);
	EXPECT_NE(NULL, strstr(self->r.out, expect));
	EXPECT_NE(NULL, strstr(self->r.out, tl_backend_name()));

	ASSERT_EQ(0, SERVOCTL(&self->r, "--json", "list"));
	EXPECT_EQ(0, self->r.status);
	snprintf(expect, sizeof(expect), "\"name\": \"%s\"", self->c.name);
	EXPECT_NE(NULL, strstr(self->r.out, expect)) TH_LOG("%s", self->r.out);
	snprintf(expect, sizeof(expect), "\"channels\": %u",
		 self->c.nchannels);
	EXPECT_NE(NULL, strstr(self->r.out, expect));

	/* Every spelling of the controller. */
	snprintf(dev, sizeof(dev), "/dev/%s", self->c.name);
	ASSERT_EQ(0, SERVOCTL(&self->r, "info", dev));
	EXPECT_EQ(0, self->r.status);
	snprintf(expect, sizeof(expect), "channels:      %u",
		 self->c.nchannels);
	EXPECT_NE(NULL, strstr(self->r.out, expect));
	EXPECT_NE(NULL, strstr(self->r.out, "frame period:  20000us"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "info", self->c.name + 7));
	EXPECT_EQ(0, self->r.status);
	ASSERT_EQ(0, SERVOCTL(&self->r, "info", "--json", self->c.name));
	EXPECT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "\"pulse_max_ns\": 19900000"));

	ASSERT_EQ(0, SERVOCTL(&self->r, "info", "hrservo63"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: info: hrservo63: no such controller (see 'servoctl list')\n",
		     self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "info", "bogus"));
	EXPECT_EQ(1, self->r.status);
	ASSERT_EQ(0, SERVOCTL(&self->r, "info"));
	EXPECT_EQ(2, self->r.status);
}

TEST_F(cli, set_makes_pulses)
{
	struct tl_pulse *p;
	uint64_t tol = tl_tolerance_ns();
	struct tl_edge *e;
	size_t n, np;

	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=1500us",
			      "1=1.2ms", "2=50%", "3=900000ns"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_STREQ("", self->r.out);
	tl_sleep_ns(4 * TL_FRAME_NS);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=+=100us",
			      "3=-=10%"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	tl_sleep_ns(4 * TL_FRAME_NS);
	ASSERT_EQ(0, SERVOCTL(&self->r, "release", self->c.name));
	ASSERT_EQ(0, self->r.status);
	tl_sleep_ns(2 * TL_FRAME_NS);

	/*
	 * Room for every pulse of the capture, however long the servoctl
	 * runs made it on a loaded host: p[np - 1] must be the last.
	 */
	n = tl_capture(&e);
	p = calloc(n + 1, sizeof(*p));
	ASSERT_NE(NULL, p);
	np = tl_pulses(e, n, 1, p, n + 1);
	ASSERT_GE(np, 6);
	for (size_t i = 0; i < np; i++)
		EXPECT_LE(absdiff(p[i].width, 1200 * US), tol);
	np = tl_pulses(e, n, 2, p, n + 1);
	ASSERT_GE(np, 6);
	EXPECT_LE(absdiff(p[0].width, 1500 * US), tol);
	/* Channel 0: 1500 us, then 1600 us; channel 3: 900 us, then 700. */
	np = tl_pulses(e, n, 0, p, n + 1);
	ASSERT_GE(np, 6);
	EXPECT_LE(absdiff(p[0].width, 1500 * US), tol);
	EXPECT_LE(absdiff(p[np - 1].width, 1600 * US), tol);
	np = tl_pulses(e, n, 3, p, n + 1);
	ASSERT_GE(np, 6);
	EXPECT_LE(absdiff(p[0].width, 900 * US), tol);
	EXPECT_LE(absdiff(p[np - 1].width, 700 * US), tol);
	for (size_t i = 0; i < n; i++)
		EXPECT_LT(e[i].line, 4);
	free(p);
	free(e);
}

/*
 * Only += and -= are relative: a bare sign is ambiguous ('+20us' was 20 us
 * more, '+10deg' the angle 10 deg), refused with both meanings.
 */
TEST_F(cli, relative_values_are_explicit)
{
	struct hrservo_channel_state st;

	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=1500us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=+20us"));
	EXPECT_EQ(2, self->r.status);
	EXPECT_STREQ("servoctl: set: channel 0: '+20us' is ambiguous: write '+=20us' for 20us more, or '20us' for a pulse of 20us (nothing applied)\n",
		     self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=-5%"));
	EXPECT_EQ(2, self->r.status);
	EXPECT_STREQ("servoctl: set: channel 0: '-5%' is ambiguous: write '-=5%' for 5% less; a pulse width is never negative (nothing applied)\n",
		     self->r.err);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(1500 * US, st.target_ns);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=-=20us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(1480 * US, st.target_ns);
}

TEST_F(cli, set_errors_apply_nothing)
{
	struct hrservo_channel_state st;
	char msg[256], arg[32];

	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=1000us",
			      "3=2600us"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: set: channel 3: 2600us is above max 2500us (nothing applied)\n",
		     self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "5=499.5us"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: set: channel 5: 499.5us is below min 500us (nothing applied)\n",
		     self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=+=10us"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "has no position (never set, or released)"));

	/* Usage errors: exit 2. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "3"));
	EXPECT_EQ(2, self->r.status);
	snprintf(arg, sizeof(arg), "%u=1500us", self->c.nchannels);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, arg));
	EXPECT_EQ(2, self->r.status);
	snprintf(msg, sizeof(msg),
		 "servoctl: set: channel %u: %s has %u channels (0-%u)\n",
		 self->c.nchannels, self->c.name, self->c.nchannels,
		 self->c.nchannels - 1);
	EXPECT_STREQ(msg, self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "1=1ms",
			      "1=2ms"));
	EXPECT_EQ(2, self->r.status);
	EXPECT_STREQ("servoctl: set: channel 1 is given twice (nothing applied)\n",
		     self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "1=fast"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "x=1ms"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", "--bogus", self->c.name));
	EXPECT_EQ(2, self->r.status);

	for (unsigned int c = 0; c < self->c.nchannels; c++) {
		ASSERT_EQ(0, tl_state(self->c.fd, c, &st));
		EXPECT_EQ(0, st.flags);
		EXPECT_EQ(0, st.target_ns);
	}
	tl_sleep_ns(2 * TL_FRAME_NS);
	{
		struct tl_edge *e;

		EXPECT_EQ(0, tl_capture(&e));
		free(e);
	}
}

TEST_F(cli, get_and_release)
{
	char pulse[32], line[128];

	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1700 * US));
	tl_sleep_ns(2 * TL_FRAME_NS);
	ASSERT_EQ(0, SERVOCTL(&self->r, "get", self->c.name, "2", "3"));
	EXPECT_EQ(0, self->r.status);
	/* The pulse column is what the hardware emits (quantised by a PCA9685). */
	snprintf(line, sizeof(line), "  2 on           1700us %10s      500us     2500us",
		 tl_fmt_ns(tl_emitted_ns(&self->c, 1700 * US), pulse,
			   sizeof(pulse)));
	EXPECT_NE(NULL, strstr(self->r.out, line)) TH_LOG("%s", self->r.out);
	EXPECT_NE(NULL, strstr(self->r.out,
			       "  3 off               -          -      500us     2500us"))
		TH_LOG("%s", self->r.out);
	ASSERT_EQ(0, SERVOCTL(&self->r, "get", "--json", self->c.name, "2"));
	EXPECT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "\"target_ns\": 1700000"));
	EXPECT_NE(NULL, strstr(self->r.out, "\"enabled\": true"));

	ASSERT_EQ(0, SERVOCTL(&self->r, "release", self->c.name, "2"));
	EXPECT_EQ(0, self->r.status);
	ASSERT_EQ(0, SERVOCTL(&self->r, "get", "--json", self->c.name, "2"));
	EXPECT_NE(NULL, strstr(self->r.out, "\"enabled\": false"));
	snprintf(line, sizeof(line), "%u", self->c.nchannels + 1);
	ASSERT_EQ(0, SERVOCTL(&self->r, "release", self->c.name, line));
	EXPECT_EQ(2, self->r.status);
}

TEST_F(cli, period)
{
	struct hrservo_info info;
	char buf[32], lo[32], hi[32], msg[160];

	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_INFO, &info));
	tl_fmt_ns(info.frame_period_min_ns, lo, sizeof(lo));
	tl_fmt_ns(info.frame_period_max_ns, hi, sizeof(hi));
	ASSERT_EQ(0, SERVOCTL(&self->r, "period", self->c.name));
	EXPECT_EQ(0, self->r.status);
	snprintf(msg, sizeof(msg), "20000us (%s..%s)\n", lo, hi);
	EXPECT_STREQ(msg, self->r.out);
	ASSERT_EQ(0, SERVOCTL(&self->r, "period", self->c.name, "10ms"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, tl_attr(&self->c, "frame_period_ns", buf, sizeof(buf)));
	EXPECT_STREQ("10000000", buf);
	/* A rate is a period too: 100Hz is 10 ms. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "period", self->c.name, "50Hz"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, tl_attr(&self->c, "frame_period_ns", buf, sizeof(buf)));
	EXPECT_STREQ("20000000", buf);
	ASSERT_EQ(0, SERVOCTL(&self->r, "period", self->c.name, "100Hz"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, tl_attr(&self->c, "frame_period_ns", buf, sizeof(buf)));
	EXPECT_STREQ("10000000", buf);
	ASSERT_EQ(0, SERVOCTL(&self->r, "period", self->c.name, "60ms"));
	EXPECT_EQ(1, self->r.status);
	snprintf(msg, sizeof(msg),
		 "servoctl: period: 60000us is outside %s..%s (nothing applied)\n",
		 lo, hi);
	EXPECT_STREQ(msg, self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "period", self->c.name, "2.5ms"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "lower the max limits first"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "period", self->c.name, "fast"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, tl_attr(&self->c, "frame_period_ns", buf, sizeof(buf)));
	EXPECT_STREQ("10000000", buf);
}

TEST_F(cli, limits)
{
	struct hrservo_limits l = { .channel = 4 };

	ASSERT_EQ(0, SERVOCTL(&self->r, "limits", self->c.name,
			      "4=1000us:2000us", "5=:2100us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(1000 * US, l.min_ns);
	EXPECT_EQ(2000 * US, l.max_ns);
	l.channel = 5;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(500 * US, l.min_ns);
	EXPECT_EQ(2100 * US, l.max_ns);

	ASSERT_EQ(0, SERVOCTL(&self->r, "limits", self->c.name, "4"));
	EXPECT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "  4     1000us     2000us"));

	/* The second change is invalid: the first is not applied either. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "limits", self->c.name,
			      "6=800us:2200us", "7=2000us:1000us"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: limits: channel 7: limits 2000us:1000us invalid; need 50us <= min < max <= 19900us (nothing applied)\n",
		     self->r.err);
	l.channel = 6;
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(500 * US, l.min_ns);

	/* Limits that would move a running servo are refused. */
	ASSERT_EQ(0, tl_set1(self->c.fd, 6, 2400 * US));
	ASSERT_EQ(0, SERVOCTL(&self->r, "limits", self->c.name,
			      "6=800us:2200us"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "its target 2400us lies outside"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "limits", self->c.name, "6=1ms"));
	EXPECT_EQ(2, self->r.status);
}

/* monitor: the initial state, then one line per change, then --count. */
TEST_F(cli, monitor_follows_changes)
{
	struct proc p;

	ASSERT_EQ(0, proc_start((char *const[]){ (char *)servoctl(), "monitor",
		  "--count", "2", self->c.name, NULL }, &p, &self->r));
	/* Act once monitor has shown the initial state. */
	EXPECT_EQ(1, proc_collect(&p, &self->r, " ch7 off target=- pulse=-\n",
				  120000));
	EXPECT_EQ(0, tl_set1(self->c.fd, 1, 1300 * US));
	proc_finish(&p, &self->r);
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, " ch1 on target=1300us pulse=-\n"))
		TH_LOG("%s", self->r.out);
	{
		char line[96], pulse[32];

		snprintf(line, sizeof(line), " ch1 on target=1300us pulse=%s\n",
			 tl_fmt_ns(tl_emitted_ns(&self->c, 1300 * US), pulse,
				   sizeof(pulse)));
		EXPECT_NE(NULL, strstr(self->r.out, line)) TH_LOG("%s",
								 self->r.out);
	}
}

/* On a terminal (a pty from script(1)), monitor redraws a table. */
TEST_F(cli, monitor_table_on_a_tty)
{
	char cmdline[512], row[64], pulse[32];
	struct proc p;

	snprintf(cmdline, sizeof(cmdline), "%s monitor %s", servoctl(),
		 self->c.name);
	ASSERT_EQ(0, proc_start((char *const[]){ "/usr/bin/script", "-q",
		  "-e", "-c", cmdline, "/dev/null", NULL }, &p, &self->r));
	EXPECT_EQ(1, proc_collect(&p, &self->r, "Ctrl-C to quit", 120000));
	snprintf(row, sizeof(row), "1800us %10s",
		 tl_fmt_ns(tl_emitted_ns(&self->c, 1800 * US), pulse,
			   sizeof(pulse)));
	EXPECT_EQ(0, tl_set1(self->c.fd, 5, 1800 * US));
	EXPECT_EQ(1, proc_collect(&p, &self->r, row, 120000))
		TH_LOG("%s", self->r.out);
	kill(p.pid, SIGTERM);
	proc_finish(&p, &self->r);
	EXPECT_NE(NULL, strstr(self->r.out, " CH STATE "));
	/* Redrawn in place: the initial table, then at least one change. */
	EXPECT_GE(count_of(self->r.out, "\033[H\033[J"), 2);
	memset(self->r.err, 0, sizeof(self->r.err));
}

TEST(monitor_ends_on_removal)
{
	struct tl_ctrl c;
	struct proc p;
	struct run r;

	ASSERT_EQ(0, tl_create(&c, 16, 2));
	ASSERT_EQ(0, proc_start((char *const[]){ (char *)servoctl(), "monitor",
		  "--json", c.name, NULL }, &p, &r));
	EXPECT_EQ(1, proc_collect(&p, &r, "{\"channel\":1,", 20000));
	EXPECT_EQ(0, tl_destroy(&c));
	proc_finish(&p, &r);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "controller removed"));
	no_sanitizer_report(_metadata, &r);
}

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/%s", name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

/*
 * Tests that start many servoctl processes get more than the harness's
 * 30 s: under -icount sleep=off, guest time jumps ahead while the guest
 * waits for the host's 9p file system, so a busy host ages them faster.
 */
/* Another client releases the axes: upload --wait says so and fails. */
TEST_F_TIMEOUT(cli, traj_wait_reports_release, 600)
{
	char file[128], ctrl[32];
	int status;
	pid_t pid;

	snprintf(ctrl, sizeof(ctrl), "%s", self->c.name);
	snprintf(file, sizeof(file), "%s", write_file("long.csv",
		 "t_s,ch0_us,ch1_us\n0,1000,2000\n2,2000,1000\n"));
	/* Where it starts: no lead-in. */
	ASSERT_EQ(0, tl_set(self->c.fd, (struct hrservo_target[]){
		  { 0, 1000 * US }, { 1, 2000 * US } }, 2));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct hrservo_traj_status st = { 0 };

		/* Release once it plays, however long servoctl takes to start. */
		for (int i = 0; i < 6000 && st.state != HRSERVO_TRAJ_RUNNING; i++) {
			tl_sleep_ns(10 * 1000000ULL);
			if (ioctl(self->c.fd, HRSERVO_IOC_TRAJ_STATUS, &st))
				_exit(2);
		}
		tl_sleep_ns(200 * 1000000ULL);
		_exit(tl_release(self->c.fd, 0x3) ? 1 : 0);
	}
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--wait", file,
			      ctrl));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(1, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err,
			       "channels 0x3 were released: they left the trajectory, which was dropped"))
		TH_LOG("%s", self->r.err);
}

TEST_F_TIMEOUT(cli, traj_check_upload_wait, 600)
{
	char bad[128], fast[128], good[128], ctrl[32];
	struct tl_pulse p[MAXP_CLI];
	struct tl_edge *e;
	size_t n, np;

	snprintf(ctrl, sizeof(ctrl), "%s", self->c.name);
	snprintf(bad, sizeof(bad), "%s", write_file("bad.csv",
		 "t_s,ch0_us,ch1_us\n0,1000,1000\n0.2,1500\n"));
	snprintf(fast, sizeof(fast), "%s", write_file("fast.csv",
		 "t_s,ch0_us\n0,1000\n0.1,2000\n"));
	snprintf(good, sizeof(good), "%s", write_file("good.csv",
		 "t_s,ch0_us,ch1_us\n0,1000,2000\n0.2,1500,1500\n"
		 "0.4,2000,1000\n"));

	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "check", bad, ctrl));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: traj: /tmp/bad.csv:3: missing column: 2 of 3 values\n",
		     self->r.err);

	/* 1 ms in 0.1 s of minimum jerk peaks at 18.75 ms/s. */
	{
		char attr[192];

		snprintf(attr, sizeof(attr), "%s/channel0/max_speed_ns_per_s",
			 self->c.sysfs);
		ASSERT_EQ(0, tl_write(attr, "5000000"));
	}
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "check", fast, ctrl));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "/tmp/fast.csv: channel 0 at "))
		TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err, "speed above max"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", fast, ctrl));
	EXPECT_EQ(1, self->r.status);
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "status", "--json", ctrl));
	EXPECT_NE(NULL, strstr(self->r.out, "\"state\": \"idle\""));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "check", "--fit", fast, ctrl));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);

	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "check", good, ctrl));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, "3 waypoints, 0.400 s"));
	/* Where it starts: no lead-in. */
	ASSERT_EQ(0, tl_set(self->c.fd, (struct hrservo_target[]){
		  { 0, 1000 * US }, { 1, 2000 * US } }, 2));
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_capture_clear();
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--wait",
			      "--interp", "cubic", good, ctrl));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(NULL, strstr(self->r.err, "lead-in")) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "status", ctrl));
	EXPECT_NE(NULL, strstr(self->r.out, "state:      idle"));
	tl_sleep_ns(2 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = tl_pulses(e, n, 1, p, MAXP_CLI);
	if (np && !p[np - 1].width)
		np--;
	ASSERT_GT(np, 15);
	EXPECT_LE(absdiff(p[0].width, 2000 * US), tl_tolerance_ns());
	EXPECT_LE(absdiff(p[np - 1].width, 1000 * US), tl_tolerance_ns());
	for (size_t i = 1; i < np; i++)
		EXPECT_LE(p[i].width, p[i - 1].width + tl_tolerance_ns()) {
			for (size_t k = 0; k < np; k++)
				TH_LOG("pulse %zu at %llu: %llu", k,
				       (unsigned long long)p[k].rise,
				       (unsigned long long)p[k].width);
		}
	free(e);
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "frob", ctrl));
	EXPECT_EQ(2, self->r.status);
}

TEST_F(cli, move_arrives_together)
{
	struct tl_pulse p0[MAXP_CLI], p2[MAXP_CLI];
	struct tl_edge *e;
	size_t n, n0, n2;

	ASSERT_EQ(0, SERVOCTL(&self->r, "move", self->c.name, "0=2000us"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "has no position to move from"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=1000us",
			      "2=1800us"));
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_capture_clear();
	ASSERT_EQ(0, SERVOCTL(&self->r, "move", "--time", "0.3", "--wait",
			      self->c.name, "0=2000us", "2=1200us"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	/* The trajectory is over: direct sets work again. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=+=0us"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	tl_sleep_ns(2 * TL_FRAME_NS);
	n = tl_capture(&e);
	n0 = tl_pulses(e, n, 0, p0, MAXP_CLI);
	n2 = tl_pulses(e, n, 2, p2, MAXP_CLI);
	ASSERT_EQ(n0, n2);
	ASSERT_GT(n0, 15);
	/*
	 * Both arrive on the same frame: within 10 us of their targets, which
	 * PREEMPT_RT's soft timer cannot show (see tl_tolerance_ns()).
	 */
	if (tl_tolerance_ns() > 10000) {
		free(e);
		SKIP(return, "arrival within 10 us is not measurable with a %llu ns tolerance",
		     (unsigned long long)tl_tolerance_ns());
	}
	for (size_t i = 0; i + 1 < n0; i++) {
		bool a0 = absdiff(p0[i].width, 2000 * US) <= tl_tolerance_ns();
		bool a2 = absdiff(p2[i].width, 1200 * US) <= tl_tolerance_ns();

		EXPECT_EQ(a0, a2) TH_LOG("pulse %zu: %llu %llu", i,
					 (unsigned long long)p0[i].width,
					 (unsigned long long)p2[i].width);
	}
	free(e);
}

/* On a terminal, upload --wait shows a progress bar. */
TEST_F(cli, traj_progress_on_a_tty)
{
	char cmdline[512];
	const char *plan = write_file("bar.csv",
				      "t_s,ch0_us\n0,1500\n0.5,1600\n");

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));	/* no lead-in */
	snprintf(cmdline, sizeof(cmdline), "%s traj upload --wait %s %s",
		 servoctl(), plan, self->c.name);
	ASSERT_EQ(0, run_argv((char *const[]){ "/usr/bin/script", "-q", "-e",
		  "-c", cmdline, "/dev/null", NULL }, &self->r));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	EXPECT_NE(NULL, strstr(self->r.out, "] "));
	EXPECT_NE(NULL, strstr(self->r.out,
			       "[########################################]   0.5/0.5 s"))
		TH_LOG("%s", self->r.out);
	memset(self->r.err, 0, sizeof(self->r.err));
}

/* A plot of the plan with the pulses measured on the loopback chip. */
TEST_F_TIMEOUT(cli, traj_plot_with_measured, 600)
{
	char plan[128], meas[128], png[256], hdr[24];
	struct tl_pulse p1[MAXP_CLI], p3[MAXP_CLI];
	const char *dir = getenv("HRSERVO_RESULTS");
	struct tl_edge *e;
	size_t n, n1, n3;
	FILE *f;

	snprintf(plan, sizeof(plan), "%s", write_file("plan.csv",
		 "t_s,ch1_us,ch3_us\n0,1000,2000\n0.3,1800,1500\n"
		 "0.7,1200,1000\n1.0,1500,1500\n"));
	snprintf(png, sizeof(png), "%s/traj-plot.png", dir ? dir : "/tmp");
	/*
	 * --jump: the channels, never set, start at the plan's start, so the
	 * capture's first pulse is the plan's first frame.
	 */
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--wait", "--jump",
			      "--interp", "cubic", plan, self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	n = tl_capture(&e);
	n1 = tl_pulses(e, n, 1, p1, MAXP_CLI);
	n3 = tl_pulses(e, n, 3, p3, MAXP_CLI);
	ASSERT_GT(n1, 40);
	ASSERT_EQ(n1, n3);
	snprintf(meas, sizeof(meas), "/tmp/measured.csv");
	f = fopen(meas, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "t_s,ch1_ns,ch3_ns\n");
	for (size_t i = 0; i < n1; i++)
		if (p1[i].width && p3[i].width)
			fprintf(f, "%.6f,%llu,%llu\n",
				(p1[i].rise - p1[0].rise) / 1e9,
				(unsigned long long)p1[i].width,
				(unsigned long long)p3[i].width);
	fclose(f);
	free(e);
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "plot", "--interp", "cubic",
			      "--measured", meas, plan, "-o", png));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	/* A 1200 x 700 PNG. */
	f = fopen(png, "rb");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(sizeof(hdr), fread(hdr, 1, sizeof(hdr), f));
	fclose(f);
	EXPECT_EQ(0, memcmp(hdr, "\x89PNG\r\n\x1a\n", 8));
	EXPECT_EQ(1200, (hdr[18] & 0xff) << 8 | (hdr[19] & 0xff));
	EXPECT_EQ(700, (hdr[22] & 0xff) << 8 | (hdr[23] & 0xff));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "plot", plan));
	EXPECT_EQ(2, self->r.status);

	/* Straight from a capture in the loopback chip's format. */
	tl_capture_clear();
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--wait", "--jump",
			      plan, self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, tl_capture_save("/tmp/capture.txt"));
	snprintf(png, sizeof(png), "%s/traj-plot-capture.png",
		 dir ? dir : "/tmp");
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "plot", "--capture",
			      "/tmp/capture.txt", "--first-line", "0", plan,
			      "-o", png));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(0, access(png, R_OK));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "plot", "--capture",
			      "/tmp/capture.txt", "--first-line", "40", plan,
			      "-o", png));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "no complete frame"));
}

/* ---- calibration ---- */

/* A fresh calibration file for this test, in $HRSERVO_CALIBRATION. */
static const char *calib_file(void)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/robot-%d.conf", (int)getpid());
	unlink(path);
	setenv("HRSERVO_CALIBRATION", path, 1);
	return path;
}

/* The pulse width of @ch's target. */
static uint32_t target_of(int fd, unsigned int ch)
{
	struct hrservo_channel_state st;

	return tl_state(fd, ch, &st) ? 0 : st.target_ns;
}

/* Median width of the last @n pulses of @line in a fresh capture. */
static uint64_t settled_width(unsigned int line, unsigned int n)
{
	struct tl_pulse p[MAXP_CLI];
	struct tl_edge *e;
	size_t ne, np;
	uint64_t w;

	tl_sleep_ns(4 * TL_FRAME_NS);	/* past any ramp of the limits */
	tl_capture_clear();
	tl_sleep_ns((n + 2) * TL_FRAME_NS);
	ne = tl_capture(&e);
	np = tl_pulses(e, ne, line, p, MAXP_CLI);
	if (np && !p[np - 1].width)
		np--;
	w = np ? p[np / 2].width : 0;
	free(e);
	return w;
}

/*
 * Calibrate by points, add soft limits, apply them to the kernel, then set
 * and move in degrees by joint name and by channel; measure the pulses.
 */
TEST_F(cli, calibrated_joints_in_degrees)
{
	const char *file = calib_file();
	struct hrservo_limits l = { .channel = 1 };
	struct hrservo_channel_state st;
	char plan[128];

	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "points", self->c.name,
			      "1=name:elbow,-90deg:1000us,0deg:1500us,90deg:2000us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(0, access(file, R_OK));
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "set", self->c.name,
			      "elbow=lo:-45deg,hi:60deg,home:0deg,speed:1000deg,accel:100000deg"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "set", self->c.name,
			      "2=name:wrist,min:1000us,max:2000us,invert:yes,trim:10us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "show", self->c.name));
	EXPECT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "-45deg..60deg")) TH_LOG("%s",
								    self->r.out);
	EXPECT_NE(NULL, strstr(self->r.out, "1250us..1833.334us"));

	/* The kernel enforces the soft limits from now on. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "apply", self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_LIMITS, &l));
	EXPECT_EQ(1250000, l.min_ns);
	EXPECT_EQ(1833334, l.max_ns);
	/* 1000 deg/s and 100000 deg/s^2 at 500000/90 ns per degree. */
	EXPECT_EQ(5555555, l.max_speed_ns_per_s);	/* rounded down */
	EXPECT_EQ(555555555, l.max_accel_ns_per_s2);

	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "elbow=45deg",
			      "wrist=-90deg"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(1750000, target_of(self->c.fd, 1));
	EXPECT_EQ(2010000, target_of(self->c.fd, 2));	/* inverted, trimmed */
	EXPECT_LE(absdiff(settled_width(1, 4), 1750 * US), tl_tolerance_ns());
	EXPECT_LE(absdiff(settled_width(2, 4), 2010 * US), tl_tolerance_ns());
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "1=30deg"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(1666667, target_of(self->c.fd, 1));
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "elbow=+=5deg"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	/* From 1666667 ns (30.00006 deg) on: 35.00006 deg. */
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1694445), 1);
	/* '+10deg' could be the angle or a nudge: refused, nothing moves. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "elbow=+10deg"));
	EXPECT_EQ(2, self->r.status);
	EXPECT_STREQ("servoctl: set: joint elbow: '+10deg' is ambiguous: write '10deg' for the position 10deg, or '+=10deg' for 10deg more (nothing applied)\n",
		     self->r.err);
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1694445), 1);

	/* Outside the soft limits, other units: refused, nothing applied. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "wrist=0deg",
			      "elbow=70deg"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: set: joint elbow: 70deg is above its soft max 60deg (nothing applied)\n",
		     self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "elbow=1rad"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "knee=10deg"));
	EXPECT_EQ(2, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "'knee' is neither a channel number nor a joint"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "3=10deg"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "needs a calibration"));
	EXPECT_EQ(2010000, target_of(self->c.fd, 2));
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1694445), 1);

	/* Home, and joint names where channels go. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "elbow=home"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(1500000, target_of(self->c.fd, 1));
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "wrist=home"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "joint wrist has no home position"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "get", self->c.name, "elbow"));
	EXPECT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "  1 on           1500us")) TH_LOG("%s",
									  self->r.out);
	ASSERT_EQ(0, SERVOCTL(&self->r, "release", self->c.name, "wrist"));
	EXPECT_EQ(0, self->r.status);
	ASSERT_EQ(0, tl_state(self->c.fd, 2, &st));
	EXPECT_EQ(0, st.flags & HRSERVO_STATE_ENABLED);

	/* A trajectory file in degrees, by joint name. */
	snprintf(plan, sizeof(plan), "%s", write_file("deg.csv",
		 "t_s,elbow_deg\n0,35\n0.3,-30\n"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--wait", plan,
			      self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	/* From home (0deg) to 35deg first, said in the joint's terms. */
	EXPECT_NE(NULL, strstr(self->r.err, "servoctl: traj: lead-in: 0.10 s from where the joints are to the trajectory's start (farthest: joint elbow (channel 1), from 0deg (1500us) to 35deg (1694.444us))\n"))
		TH_LOG("%s", self->r.err);
	EXPECT_LE(absdiff(settled_width(1, 4),
			  tl_emitted_ns(&self->c, 1333333)), 1000 + tl_tolerance_ns());
	/* Every joint with a home goes home, smoothly. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "move", "--wait", self->c.name, "home"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_LE(absdiff(settled_width(1, 4), tl_emitted_ns(&self->c, 1500000)),
		  tl_tolerance_ns());
	snprintf(plan, sizeof(plan), "%s", write_file("deg2.csv",
		 "t_s,elbow_deg\n0,35\n0.3,80\n"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "check", plan, self->c.name));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "deg2.csv:3: joint elbow: 80deg is outside its soft limits -45deg..60deg"))
		TH_LOG("%s", self->r.err);
	/* Too fast for the joint: said in its name and unit, not in ns. */
	snprintf(plan, sizeof(plan), "%s", write_file("deg3.csv",
		 "t_s,elbow_deg\n0,35\n0.02,-30\n"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "check", plan, self->c.name));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "deg3.csv: joint elbow at "))
		TH_LOG("%s", self->r.err);
	EXPECT_TRUE(strstr(self->r.err, " deg/s above max 1000 deg/s\n") ||
		    strstr(self->r.err, " deg/s\u00b2 above max 1e+05 deg/s\u00b2\n"))
		TH_LOG("%s", self->r.err);
	EXPECT_EQ(NULL, strstr(self->r.err, "ns/s")) TH_LOG("%s", self->r.err);
	unlink(file);
}

/* A terminal session of calibrate jog, through a pty. */
struct pty {
	int master;
	pid_t pid;
	char screen[65536];
	size_t len;
};

static int pty_start(struct pty *t, char *const argv[])
{
	char *name;
	int slave;

	memset(t, 0, sizeof(*t));
	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0 || grantpt(t->master) || unlockpt(t->master))
		return -1;
	name = ptsname(t->master);
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (t->pid == 0) {
		setsid();
		slave = open(name, O_RDWR);
		if (slave < 0)
			_exit(127);
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	return 0;
}

/* Read the screen until @needle shows up after @from; 1 if it did. */
static int pty_wait(struct pty *t, size_t from, const char *needle, int ms)
{
	struct tl_bound b;

	/* Of guest and host time both, like proc_collect(). */
	tl_bound_ms(&b, (unsigned int)ms);
	while (!tl_bound_passed(&b)) {
		struct pollfd f = { t->master, POLLIN, 0 };
		ssize_t r;

		if (t->len > from && strstr(t->screen + from, needle))
			return 1;
		if (poll(&f, 1, 50) <= 0)
			continue;
		r = read(t->master, t->screen + t->len,
			 sizeof(t->screen) - 1 - t->len);
		if (r <= 0)
			break;
		t->len += (size_t)r;
		t->screen[t->len] = '\0';
	}
	return t->len > from && strstr(t->screen + from, needle) != NULL;
}

/* Send keys, then wait until the screen shows @needle. */
static int pty_keys(struct pty *t, const char *keys, const char *needle)
{
	size_t from = t->len;

	for (const char *k = keys; *k; k++) {
		size_t n = 1;

		/* Arrows go as one write each, as a terminal sends them. */
		if (*k == '\033')
			n = 3;
		if (write(t->master, k, n) != (ssize_t)n)
			return 0;
		k += n - 1;
		tl_sleep_ns(20000000ULL);
	}
	return pty_wait(t, from, needle, 10000);
}

#define RIGHT "\033[C"
#define LEFT "\033[D"

TEST_F(cli, calibrate_jog_on_a_terminal)
{
	const char *file = calib_file();
	struct hrservo_channel_state st;
	char *argv[] = { (char *)servoctl(), "calibrate", "jog", "--from",
			 "50%", self->c.name, "3", NULL };
	char effect[64], pulse[32];
	struct pty t;
	int status;

	ASSERT_EQ(0, pty_start(&t, argv));
	/* --from 50%: the middle of the limits (500..2500us), 10us steps. */
	ASSERT_EQ(1, pty_wait(&t, 0, "pulse  1500us", 120000)) TH_LOG("%s",
								      t.screen);
	EXPECT_EQ(1, pty_keys(&t, RIGHT RIGHT RIGHT, "pulse  1530us"));
	EXPECT_EQ(1530000, target_of(self->c.fd, 3));
	/* The width in effect follows live, as the hardware makes it. */
	snprintf(effect, sizeof(effect), "(in effect: %s)",
		 tl_fmt_ns(tl_emitted_ns(&self->c, 1530000), pulse,
			   sizeof(pulse)));
	EXPECT_EQ(1, pty_wait(&t, t.len, effect, 5000)) TH_LOG("%s", effect);
	EXPECT_EQ(1, pty_keys(&t, "+", "step   50us"));
	EXPECT_EQ(1, pty_keys(&t, LEFT LEFT LEFT LEFT LEFT LEFT LEFT LEFT LEFT LEFT LEFT,
			      "pulse  980us"));
	EXPECT_EQ(1, pty_keys(&t, "[", "min marked at 980us"));
	EXPECT_EQ(1, pty_keys(&t, "u", "undone"));
	EXPECT_EQ(1, pty_keys(&t, "u", "undone"));
	EXPECT_EQ(1, pty_keys(&t, "[", "min marked at 1030us"))
		TH_LOG("%s", t.screen);
	EXPECT_EQ(1, pty_keys(&t, RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT,
			      "pulse  1480us"));
	EXPECT_EQ(1, pty_keys(&t, "c", "center marked at 1480us"));
	EXPECT_EQ(1, pty_keys(&t, "s", "mark min and max"));
	EXPECT_EQ(1, pty_keys(&t, RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT,
			      "pulse  1980us"));
	EXPECT_EQ(1, pty_keys(&t, "]", "max marked at 1980us"));
	EXPECT_EQ(1, pty_keys(&t, "p", "position of this point"));
	EXPECT_EQ(1, pty_keys(&t, "45deg\r", "point 45deg at 1980us"));
	EXPECT_EQ(1, pty_keys(&t, "u", "undone"));	/* one point is no map */
	EXPECT_EQ(1, pty_keys(&t, "s", "saved to"));
	EXPECT_EQ(1, pty_keys(&t, "q", "channel 3 released"));
	ASSERT_EQ(t.pid, waitpid(t.pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(t.master);
	ASSERT_EQ(0, tl_state(self->c.fd, 3, &st));
	EXPECT_EQ(0, st.flags);		/* released */

	/* What was saved: min, center, max over 180 degrees. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "show", "--json",
			      self->c.name));
	EXPECT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "\"channel\": 3")) TH_LOG("%s",
								     self->r.out);
	EXPECT_NE(NULL, strstr(self->r.out, "1030000.0"));
	EXPECT_NE(NULL, strstr(self->r.out, "1480000.0"));
	EXPECT_NE(NULL, strstr(self->r.out, "1980000.0"));
	EXPECT_NE(NULL, strstr(self->r.out, "-90.0"));
	unlink(file);
}

/* ---- calibration: what must not be lost, and what must be said ---- */

/*
 * A calibration file that does not load fails the command before any
 * controller is touched: no pulse. --no-calibration goes without it;
 * release needs none.
 */
TEST_F(cli, broken_calibration_fails_set)
{
	const char *file = calib_file();
	struct hrservo_channel_state st;
	struct tl_edge *e;
	FILE *f;

	f = fopen(file, "w");
	ASSERT_NE(NULL, f);
	fputs("[joint elbow]\ncontroller = arm\nchannel = 1\n"
	      "map = -90:1000us 90:2000us\nspeed = 10\n", f);
	fclose(f);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=1500us"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, ":5: unknown key 'speed' in [joint elbow]"))
		TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "move", "--time", "0.1", self->c.name,
			      "0=1500us"));
	EXPECT_EQ(1, self->r.status);
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(0, st.target_ns);
	EXPECT_EQ(0, tl_capture(&e));	/* not one edge */
	free(e);

	ASSERT_EQ(0, SERVOCTL(&self->r, "--no-calibration", "set",
			      self->c.name, "0=1500us"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_STREQ("", self->r.err);
	EXPECT_EQ(1500000, target_of(self->c.fd, 0));
	ASSERT_EQ(0, SERVOCTL(&self->r, "release", self->c.name, "0"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, tl_state(self->c.fd, 0, &st));
	EXPECT_EQ(0, st.flags & HRSERVO_STATE_ENABLED);
	memset(self->r.err, 0, sizeof(self->r.err));
	unlink(file);
}

/* A robot's calibration: a 270-degree joint with limits, on an alias. */
static void write_robot(const char *file, const char *ctrl)
{
	FILE *f = fopen(file, "w");

	if (!f)
		return;
	fprintf(f, "[controller arm]\ndevice = %s\n\n"
		"[joint shoulder]\ncontroller = arm\nchannel = 3\nunit = deg\n"
		"map = -135:900us 0:1500us 135:2100us\ninterp = cubic\n"
		"min = -100\nmax = 120\nhome = 10\nmax_speed = 60\n"
		"max_accel = 600\n\n"
		"[joint elbow]\ncontroller = arm\nchannel = 1\n"
		"map = -90:1000us 90:2000us\nmin = -45\nmax = 60\n", ctrl);
	fclose(f);
}

/* Jog and save a 270-degree joint: its map changes, nothing else. */
TEST_F(cli, calibrate_jog_save_keeps_the_joint)
{
	const char *file = calib_file();
	char *argv[] = { (char *)servoctl(), "calibrate", "jog", "arm",
			 "shoulder", NULL };
	const char *o;
	struct pty t;
	int status;

	write_robot(file, self->c.name);
	ASSERT_EQ(0, tl_set1(self->c.fd, 3, 1500 * US));
	ASSERT_EQ(0, pty_start(&t, argv));
	ASSERT_EQ(1, pty_wait(&t, 0, "pulse  1500us", 120000)) TH_LOG("%s",
								      t.screen);
	EXPECT_EQ(1, pty_wait(&t, 0, "the pulses at -135deg, 135deg", 5000));
	EXPECT_EQ(1, pty_keys(&t, "++", "step   100us"));
	EXPECT_EQ(1, pty_keys(&t, LEFT LEFT LEFT LEFT LEFT LEFT, "pulse  900us"));
	EXPECT_EQ(1, pty_keys(&t, "[", "min marked at 900us"));
	EXPECT_EQ(1, pty_keys(&t, RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT,
			      "pulse  1600us"));
	EXPECT_EQ(1, pty_keys(&t, "c", "center marked at 1600us"));
	EXPECT_EQ(1, pty_keys(&t, RIGHT RIGHT RIGHT RIGHT RIGHT, "pulse  2100us"));
	EXPECT_EQ(1, pty_keys(&t, "]", "max marked at 2100us"));
	EXPECT_EQ(1, pty_keys(&t, "s", "saved to")) TH_LOG("%s", t.screen);
	EXPECT_EQ(1, pty_keys(&t, "q", "channel 3 released"));
	ASSERT_EQ(t.pid, waitpid(t.pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(t.master);

	/* The alias still names the controller; both joints are there. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "show", "--json", "arm"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	o = strstr(self->r.out, "\"joint\": \"shoulder\"");
	ASSERT_NE(NULL, o) TH_LOG("%s", self->r.out);
	/* The 270-degree range, the new pulses, the limits, home, speed. */
	EXPECT_NE(NULL, strstr(o, "-135.0")) TH_LOG("%s", o);
	EXPECT_NE(NULL, strstr(o, "900000.0"));
	EXPECT_NE(NULL, strstr(o, "1600000.0"));
	EXPECT_NE(NULL, strstr(o, "2100000.0"));
	EXPECT_NE(NULL, strstr(o, "\"interp\": \"cubic\""));
	EXPECT_NE(NULL, strstr(o, "\"min\": -100.0"));
	EXPECT_NE(NULL, strstr(o, "\"max\": 120.0"));
	EXPECT_NE(NULL, strstr(o, "\"home\": 10.0"));
	EXPECT_NE(NULL, strstr(o, "\"max_speed\": 60.0"));
	EXPECT_NE(NULL, strstr(o, "\"max_accel\": 600.0"));
	o = strstr(self->r.out, "\"joint\": \"elbow\"");
	ASSERT_NE(NULL, o) TH_LOG("%s", self->r.out);
	EXPECT_NE(NULL, strstr(o, "\"min\": -45.0"));
	EXPECT_NE(NULL, strstr(o, "\"max\": 60.0"));
	unlink(file);
}

/*
 * Hang up jog's terminal (@t): it must exit 1, channel @ch of the
 * controller at @fd released.
 */
static void jog_hang_up(struct __test_metadata *_metadata, struct pty *t,
			int fd, unsigned int ch)
{
	struct hrservo_channel_state st;
	int status;

	close(t->master);
	ASSERT_EQ(t->pid, waitpid(t->pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status)) TH_LOG("killed by signal %d",
					       WTERMSIG(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	ASSERT_EQ(0, tl_state(fd, ch, &st));
	EXPECT_EQ(0, st.flags & HRSERVO_STATE_ENABLED);
}

/* A dropped ssh session hangs the terminal up: the servo is released. */
TEST_F(cli, calibrate_jog_releases_on_sighup)
{
	char *argv[] = { (char *)servoctl(), "calibrate", "jog", self->c.name,
			 "4", NULL };
	const char *file = calib_file();
	struct hrservo_channel_state st;
	struct tl_pulse p[MAXP_CLI];
	struct tl_edge *e;
	struct pty t;
	size_t n;
	int status;

	ASSERT_EQ(0, tl_set1(self->c.fd, 4, 1200 * US));
	ASSERT_EQ(0, pty_start(&t, argv));
	ASSERT_EQ(1, pty_wait(&t, 0, "pulse  1200us", 120000)) TH_LOG("%s",
								      t.screen);
	EXPECT_EQ(1, pty_keys(&t, RIGHT, "pulse  1210us"));
	EXPECT_EQ(1210000, target_of(self->c.fd, 4));
	/* jog leads the session: SIGHUP */
	jog_hang_up(_metadata, &t, self->c.fd, 4);
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_capture_clear();
	tl_sleep_ns(4 * TL_FRAME_NS);
	n = tl_capture(&e);
	EXPECT_EQ(0, tl_pulses(e, n, 4, p, MAXP_CLI));
	free(e);

	/* Released, it has no known position: jog refuses to start there. */
	ASSERT_EQ(0, pty_start(&t, argv));
	EXPECT_EQ(1, pty_wait(&t, 0, "channel 4 has no position: set it first",
			      120000)) TH_LOG("%s", t.screen);
	ASSERT_EQ(t.pid, waitpid(t.pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	close(t.master);
	ASSERT_EQ(0, tl_state(self->c.fd, 4, &st));
	EXPECT_EQ(0, st.flags & HRSERVO_STATE_ENABLED);
	unlink(file);
}

/*
 * A hang-up wakes jog's read before it sends SIGHUP: the end of input
 * alone (SIGHUP blocked here, so that it never comes) releases the servo
 * with the same exit status, whichever comes first.
 */
TEST_F(cli, calibrate_jog_hangup_without_sighup)
{
	char *argv[] = { (char *)servoctl(), "calibrate", "jog", self->c.name,
			 "4", NULL };
	const char *file = calib_file();
	sigset_t hup, old;
	struct pty t;

	ASSERT_EQ(0, tl_set1(self->c.fd, 4, 1200 * US));
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	/* jog inherits the blocked SIGHUP; its handler cannot unblock it. */
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &hup, &old));
	ASSERT_EQ(0, pty_start(&t, argv));
	ASSERT_EQ(0, sigprocmask(SIG_SETMASK, &old, NULL));
	ASSERT_EQ(1, pty_wait(&t, 0, "pulse  1200us", 120000)) TH_LOG("%s",
								      t.screen);
	jog_hang_up(_metadata, &t, self->c.fd, 4);
	unlink(file);
}

/*
 * After a module reload the kernel limits are 500..2500us without speed
 * limits while the joints still take degrees: joint commands say so, and
 * refuse under --strict-limits. (set calls joint_limits_check().)
 */
TEST_F(cli, kernel_limits_mismatch_warns)
{
	const char *file = calib_file();
	char attr[192], msg[384];

	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "points", self->c.name,
			      "1=name:elbow,-90deg:1000us,90deg:2000us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "set", self->c.name,
			      "elbow=lo:-45deg,hi:60deg,speed:90deg"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "apply", self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "elbow=0deg"));
	EXPECT_EQ(0, self->r.status);
	EXPECT_STREQ("", self->r.err);		/* they match: nothing said */

	/* As a reload leaves them. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "limits", self->c.name,
			      "1=500us:2500us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	snprintf(attr, sizeof(attr), "%s/channel1/max_speed_ns_per_s",
		 self->c.sysfs);
	ASSERT_EQ(0, tl_write(attr, "0"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "elbow=10deg"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	snprintf(msg, sizeof(msg),
		 "servoctl: set: warning: joint elbow: kernel limits 500us..2500us, no speed limit, no acceleration limit; the calibration says 1250us..1833.334us, 90deg/s, no acceleration limit: run 'servoctl calibrate apply %s'\n",
		 self->c.name);
	EXPECT_STREQ(msg, self->r.err);
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1555556), 1);

	ASSERT_EQ(0, SERVOCTL(&self->r, "--strict-limits", "set", self->c.name,
			      "elbow=20deg"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "(nothing applied: --strict-limits)"))
		TH_LOG("%s", self->r.err);
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1555556), 1);

	/* Applied again: quiet, also under --strict-limits. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "apply", self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "--strict-limits", "set", self->c.name,
			      "elbow=20deg"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_STREQ("", self->r.err);
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1611111), 1);
	unlink(file);
}

/* info: the device behind the controller, as sysfs shows it. */
TEST_F(cli, info_shows_the_device)
{
	char expect[192];

	ASSERT_EQ(0, SERVOCTL(&self->r, "info", self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	if (tl_backend() == TL_PCA9685) {
		snprintf(expect, sizeof(expect),
			 "device:        %s (i2c, driver hrservo-pca9685)\n",
			 self->c.pdev);
		EXPECT_NE(NULL, strstr(self->r.out, expect)) TH_LOG("%s",
								 self->r.out);
		snprintf(expect, sizeof(expect),
			 "i2c:           bus %d (SMBus stub driver), address 0x%02x, client hrservo-pca9685\n",
			 tl_i2c_bus(), TL_PCA_ADDR);
		EXPECT_NE(NULL, strstr(self->r.out, expect)) TH_LOG("%s",
								 self->r.out);
	} else {
		snprintf(expect, sizeof(expect),
			 "device:        %s (platform, driver hrservo-gpio)\n",
			 self->c.pdev);
		EXPECT_NE(NULL, strstr(self->r.out, expect)) TH_LOG("%s",
								 self->r.out);
		/* Which GPIO chip and lines, channel by channel. */
		EXPECT_NE(NULL, strstr(self->r.out,
				       "lines:         channel 0: " TL_LB_LABEL " 0\n               channel 1: " TL_LB_LABEL " 1\n"))
			TH_LOG("%s", self->r.out);
		EXPECT_NE(NULL, strstr(self->r.out,
				       "               channel 7: " TL_LB_LABEL " 7\n"))
			TH_LOG("%s", self->r.out);
	}
	ASSERT_EQ(0, SERVOCTL(&self->r, "--json", "info", self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	snprintf(expect, sizeof(expect), "\"device\": {\n    \"name\": \"%s\",",
		 self->c.pdev);
	EXPECT_NE(NULL, strstr(self->r.out, expect)) TH_LOG("%s", self->r.out);
}

/* get and monitor name the joints and their positions, plain and JSON. */
TEST_F_TIMEOUT(cli, get_and_monitor_show_joints, 600)
{
	static struct run mv;
	const char *file = calib_file();
	char line[192], pulse[32], pos[32];
	const char *o, *l;
	struct proc p;
	int changes = 0;
	uint32_t last = 0;

	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "points", self->c.name,
			      "1=name:elbow,-90deg:1000us,90deg:2000us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "1=1750us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	tl_sleep_ns(3 * TL_FRAME_NS);
	ASSERT_EQ(0, SERVOCTL(&self->r, "get", self->c.name, "1", "2"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.out, "MAX JOINT             TARGET_POS   PULSE_POS\n"))
		TH_LOG("%s", self->r.out);
	{
		double d = (tl_emitted_ns(&self->c, 1750 * US) - 1500000.0) /
			   (500000.0 / 90);

		/* The position of the width the hardware makes. */
		snprintf(pos, sizeof(pos), "%.2f", d);
		while (strchr(pos, '.') && pos[strlen(pos) - 1] == '0')
			pos[strlen(pos) - 1] = '\0';
		if (pos[strlen(pos) - 1] == '.')
			pos[strlen(pos) - 1] = '\0';
	}
	snprintf(line, sizeof(line),
		 "  1 on           1750us %10s      500us     2500us elbow                  45deg %8sdeg\n",
		 tl_fmt_ns(tl_emitted_ns(&self->c, 1750 * US), pulse,
			   sizeof(pulse)), pos);
	EXPECT_NE(NULL, strstr(self->r.out, line)) TH_LOG("%s|%s", self->r.out, line);
	EXPECT_NE(NULL, strstr(self->r.out,
			       "  2 off               -          -      500us     2500us -                          -           -\n"))
		TH_LOG("%s", self->r.out);
	ASSERT_EQ(0, SERVOCTL(&self->r, "--json", "get", self->c.name, "1"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	o = strstr(self->r.out, "\"joint\": {");
	ASSERT_NE(NULL, o) TH_LOG("%s", self->r.out);
	EXPECT_NE(NULL, strstr(o, "\"name\": \"elbow\""));
	EXPECT_NE(NULL, strstr(o, "\"unit\": \"deg\""));
	EXPECT_NE(NULL, strstr(o, "\"target\": 45,")) TH_LOG("%s", o);

	/*
	 * A move plays without events: monitor shows it at --rate, in
	 * joint positions, with microsecond times.
	 */
	ASSERT_EQ(0, proc_start((char *const[]){ (char *)servoctl(), "--json",
		  "monitor", "--rate", "20", "--count", "20", self->c.name, NULL },
		  &p, &self->r));
	EXPECT_EQ(1, proc_collect(&p, &self->r, "{\"channel\":7,", 120000));
	/* Its own run: SERVOCTL() must not wipe what monitor printed. */
	ASSERT_EQ(0, SERVOCTL(&mv, "move", "--time", "2", self->c.name,
			      "1=1200us"));
	EXPECT_EQ(0, mv.status) TH_LOG("%s", mv.err);
	proc_finish(&p, &self->r);
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	/* The initial line of channel 1, then changes on the way. */
	for (l = self->r.out; (l = strstr(l, "{\"channel\":1,")); l++) {
		const char *pn = strstr(l, "\"pulse_ns\":");
		const char *t = strstr(l, "\"time\":");
		uint32_t w = pn ? (uint32_t)strtoul(pn + 11, NULL, 10) : 0;

		EXPECT_NE(NULL, strstr(l, "\"joint\":{\"name\":\"elbow\",\"unit\":\"deg\","));
		ASSERT_NE(NULL, t);
		/* "time":123.456789} */
		EXPECT_EQ(6, (int)(strchr(t, '}') - strchr(t, '.') - 1))
			TH_LOG("%.80s", t);
		if (w && last && w != last && w > 1200 * US + 1000 &&
		    w < 1750 * US - 1000)
			changes++;	/* a width between start and end */
		last = w;
	}
	EXPECT_GE(changes, 5) TH_LOG("%s", self->r.out);
	memset(self->r.err, 0, sizeof(self->r.err));
	unlink(file);
}

/* ---- trajectories that start away from the axes; waits; signals ---- */

#define MAXP_LONG	4096

/*
 * The complete pulses of @line in the capture @e (a pulse still high at
 * its end left out), into @p (MAXP_LONG of them).
 */
static size_t complete_pulses(const struct tl_edge *e, size_t n,
			      unsigned int line, struct tl_pulse *p)
{
	size_t np = tl_pulses(e, n, line, p, MAXP_LONG);

	if (np && !p[np - 1].width)
		np--;
	return np;
}

/* The largest change of width between consecutive pulses: a jump. */
static uint64_t largest_step(const struct tl_pulse *p, size_t np)
{
	uint64_t step = 0;

	for (size_t i = 1; i < np; i++)
		if (absdiff(p[i].width, p[i - 1].width) > step)
			step = absdiff(p[i].width, p[i - 1].width);
	return step;
}

static int traj_status(int fd, struct hrservo_traj_status *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(fd, HRSERVO_IOC_TRAJ_STATUS, st) ? -errno : 0;
}

/* Wait (up to 60 s) until the player runs; 0 if it does. */
static int wait_running(int fd)
{
	struct hrservo_traj_status st = { 0 };

	for (int i = 0; i < 6000; i++) {
		if (traj_status(fd, &st))
			return -1;
		if (st.state == HRSERVO_TRAJ_RUNNING)
			return 0;
		tl_sleep_ns(10 * 1000000ULL);
	}
	return -1;
}

/*
 * A set of a channel that a trajectory moves: refused, naming the channel
 * and saying how to take it back; the status says which channels it owns.
 */
TEST_F(cli, set_of_a_trajectory_axis_names_it)
{
	char *plan = (char *)write_file("own.csv",
					"t_s,ch0_us\n0,1500\n3,1600\n");
	struct hrservo_traj_status st;
	char want[256];

	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "0=1500us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", plan, self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, wait_running(self->c.fd));
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_EQ(1ULL, st.axes);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "1=1500us",
			      "0=1550us"));
	EXPECT_EQ(1, self->r.status);
	snprintf(want, sizeof(want),
		 "servoctl: set: %s: channel 0 is moved by a trajectory: stop it first ('servoctl traj stop %s') (nothing applied)\n",
		 self->c.name, self->c.name);
	EXPECT_STREQ(want, self->r.err);
	/* A replace that does not start where the trajectory is: named. */
	plan = (char *)write_file("rep.csv", "t_s,ch0_us\n0,1000\n1,1100\n");
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--replace", plan,
			      self->c.name));
	EXPECT_EQ(1, self->r.status);
	snprintf(want, sizeof(want),
		 "servoctl: traj: %s: the new trajectory starts channel 0 at 1000us, but it is at 15",
		 self->c.name);
	EXPECT_NE(NULL, strstr(self->r.err, want)) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "stop", self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_EQ(0ULL, st.axes);
}

/*
 * An upload to an idle controller, away from where the channels are: a
 * lead-in takes them there first, said on stderr, and no pulse jumps.
 */
TEST_F_TIMEOUT(cli, traj_upload_leads_in, 600)
{
	struct tl_pulse *p = calloc(MAXP_LONG, sizeof(*p));
	char *plan = (char *)write_file("away.csv",
				      "t_s,ch0_us,ch1_us\n0,1500,1500\n0.3,1800,1200\n");
	uint64_t tol = tl_tolerance_ns(), step;
	struct hrservo_traj_status st;
	struct tl_edge *e;
	size_t n, np;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, tl_set(self->c.fd, (struct hrservo_target[]){
		  { 0, 1000 * US }, { 1, 2000 * US } }, 2));
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_capture_clear();
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--wait", plan,
			      self->c.name));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err, "servoctl: traj: lead-in: "))
		TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err,
			       " s from where the channels are to the trajectory's start (farthest: channel 0, from 1000us to 1500us)\n"))
		TH_LOG("%s", self->r.err);
	/* --wait returned after the trajectory, not after the lead-in. */
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_EQ(0, st.depth);
	EXPECT_LE(absdiff(target_of(self->c.fd, 0), 1800 * US), 1);
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1200 * US), 1);
	tl_sleep_ns(2 * TL_FRAME_NS);
	n = tl_capture(&e);
	for (unsigned int ch = 0; ch < 2; ch++) {
		np = complete_pulses(e, n, ch, p);
		/* The lead-in (about 0.94 s) and the plan (0.3 s). */
		ASSERT_GT(np, 50);
		EXPECT_LE(absdiff(p[0].width, ch ? 2000 * US : 1000 * US), tol);
		EXPECT_LE(absdiff(p[np - 1].width, ch ? 1200 * US : 1800 * US),
			  tol);
		/*
		 * A jump to the start is 500 us in one frame; the lead-in
		 * moves at most 20 us a frame (1 ms/s), the plan 37.5 us.
		 */
		step = largest_step(p, np);
		TH_LOG("channel %u: largest step between frames %llu ns", ch,
		       (unsigned long long)step);
		EXPECT_LE(step, 50 * US + 2 * tol) {
			TH_LOG("channel %u: a step of %llu ns", ch,
			       (unsigned long long)step);
		}
	}
	free(e);
	free(p);
}

/* --no-lead-in: refused, named, nothing plays; one that fits plays. */
TEST_F(cli, traj_upload_no_lead_in_refuses)
{
	struct hrservo_frame *fr = calloc(HRSERVO_FRAMES_KEPT, sizeof(*fr));
	struct tl_pulse *p = calloc(MAXP_LONG, sizeof(*p));
	struct hrservo_traj_status st;
	struct hrservo_info info;
	uint64_t seq0;
	uint32_t w0;
	char plan[128];
	struct tl_edge *e;
	size_t n, np, nf;

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fr);
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_INFO, &info));
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	snprintf(plan, sizeof(plan), "%s", write_file("away1.csv",
		 "t_s,ch0_us\n0,1500\n0.2,1600\n"));
	tl_sleep_ns(2 * TL_FRAME_NS);
	nf = tl_frames(self->c.fd, 0, fr, HRSERVO_FRAMES_KEPT);
	ASSERT_LT(0, nf);
	seq0 = fr[nf - 1].seq;
	/* 1000 us as the backend makes it (a PCA9685 in 4.88 us ticks). */
	w0 = fr[nf - 1].pulse_ns[0];
	EXPECT_LE(absdiff(w0, 1000 * US), info.resolution_ns);
	tl_capture_clear();
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--no-lead-in",
			      "--wait", plan, self->c.name));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: traj: /tmp/away1.csv: channel 0 is at 1000us, but the trajectory starts at 1500us (nothing uploaded); use --lead-in to move there first, or --jump to jump\n",
		     self->r.err);
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_EQ(0, st.depth);
	EXPECT_LE(absdiff(target_of(self->c.fd, 0), 1000 * US), 1);
	tl_sleep_ns(3 * TL_FRAME_NS);
	/* The frames played: exactly the width it had, none of the plan's. */
	nf = tl_frames(self->c.fd, seq0, fr, HRSERVO_FRAMES_KEPT);
	ASSERT_GE(nf, 3);
	for (size_t i = 0; i < nf; i++)
		EXPECT_EQ(w0, fr[i].pulse_ns[0]);
	/*
	 * And the line pulsed: at 1000 us, not on the way to 1500 us. The
	 * bound tells the two apart; the width's precision is pulse_test's
	 * (a guest's interrupt latency once made one pulse 10.019 us long).
	 */
	n = tl_capture(&e);
	np = complete_pulses(e, n, 0, p);
	ASSERT_GE(np, 3);
	for (size_t i = 0; i < np; i++)
		EXPECT_LE(absdiff(p[i].width, 1000 * US), 100 * US);
	free(e);
	free(fr);

	/* Starting where the channel is, it plays as it is. */
	snprintf(plan, sizeof(plan), "%s", write_file("here.csv",
		 "t_s,ch0_us\n0,1000\n0.2,1100\n"));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--no-lead-in",
			      "--wait", plan, self->c.name));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(NULL, strstr(self->r.err, "lead-in")) TH_LOG("%s", self->r.err);
	EXPECT_LE(absdiff(target_of(self->c.fd, 0), 1100 * US), 1);
	free(p);
}

/* --jump: the jump asked for, also onto a channel with no position. */
TEST_F(cli, traj_upload_jump_jumps)
{
	struct tl_pulse *p = calloc(MAXP_LONG, sizeof(*p));
	char *plan = (char *)write_file("jump.csv",
				      "t_s,ch0_us,ch1_us\n0,2000,1200\n0.2,2000,1300\n");
	uint64_t tol = tl_tolerance_ns();
	struct hrservo_traj_status st;
	struct tl_edge *e;
	size_t n, np;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_capture_clear();
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--jump", "--wait",
			      plan, self->c.name));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(NULL, strstr(self->r.err, "lead-in")) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_LE(absdiff(target_of(self->c.fd, 0), 2000 * US), 1);
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1300 * US), 1);
	tl_sleep_ns(2 * TL_FRAME_NS);
	n = tl_capture(&e);
	np = complete_pulses(e, n, 0, p);
	ASSERT_GE(np, 3);
	EXPECT_LE(absdiff(p[0].width, 1000 * US), tol);
	EXPECT_LE(absdiff(p[np - 1].width, 2000 * US), tol);
	/* 1000 us to 2000 us from one frame to the next. */
	EXPECT_GE(largest_step(p, np), 1000 * US - 2 * tol);
	/* Channel 1 starts at the trajectory's start. */
	np = complete_pulses(e, n, 1, p);
	ASSERT_GE(np, 3);
	EXPECT_LE(absdiff(p[0].width, 1200 * US), tol);
	free(e);
	free(p);
}

/* A channel never set, or released, has no position: refused, named. */
TEST_F(cli, traj_upload_no_position_refused)
{
	char *plan = (char *)write_file("nopos.csv",
				      "t_s,ch0_us,ch3_us\n0,1500,1500\n0.2,1600,1600\n");
	struct hrservo_channel_state cs;
	struct hrservo_traj_status st;
	char msg[256];

	snprintf(msg, sizeof(msg),
		 "servoctl: traj: %s: channel 3 has no position (never set, or released): set it first, or use --jump (nothing uploaded)\n",
		 self->c.name);
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1500 * US));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", plan, self->c.name));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ(msg, self->r.err);
	ASSERT_EQ(0, tl_state(self->c.fd, 3, &cs));
	EXPECT_EQ(0, cs.flags);
	EXPECT_EQ(0, cs.target_ns);

	/* Released: the same, with --no-lead-in too. */
	ASSERT_EQ(0, tl_set1(self->c.fd, 3, 1500 * US));
	ASSERT_EQ(0, tl_release(self->c.fd, 1ULL << 3));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--wait", plan,
			      self->c.name));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ(msg, self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--no-lead-in", plan,
			      self->c.name));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ(msg, self->r.err);
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_EQ(0, st.depth);
	ASSERT_EQ(0, tl_state(self->c.fd, 3, &cs));
	EXPECT_EQ(0, cs.flags & HRSERVO_STATE_ENABLED);
	EXPECT_LE(absdiff(target_of(self->c.fd, 0), 1500 * US), 1);
}

/*
 * Two trajectories queued one after the other: traj wait returns when the
 * second has played, not at the end of the first.
 */
TEST_F_TIMEOUT(cli, traj_wait_two_queued, 600)
{
	struct hrservo_traj_status st;
	char a[128], b[128];

	snprintf(a, sizeof(a), "%s", write_file("first.csv",
		 "t_s,ch0_us\n0,1000\n0.5,1500\n"));
	snprintf(b, sizeof(b), "%s", write_file("second.csv",
		 "t_s,ch0_us\n0,1500\n1.5,2000\n"));
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	/* Late enough that traj wait listens before the first one ends. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", "--at", "10", a,
			      self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	/* Appended: it starts where the first one leaves the channel. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", b, self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_EQ(NULL, strstr(self->r.err, "lead-in")) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "wait", self->c.name));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_EQ(0, st.depth);
	EXPECT_LE(absdiff(target_of(self->c.fd, 0), 2000 * US), 1);
}

/* move after release: the channel has no position; refused, no pulse. */
TEST_F(cli, move_after_release_refused)
{
	struct hrservo_channel_state cs;
	struct hrservo_traj_status st;
	struct tl_pulse p[MAXP_CLI];
	struct tl_edge *e;
	size_t n;

	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1500 * US));
	tl_sleep_ns(2 * TL_FRAME_NS);
	ASSERT_EQ(0, tl_release(self->c.fd, 1ULL << 2));
	tl_sleep_ns(2 * TL_FRAME_NS);
	tl_capture_clear();
	ASSERT_EQ(0, SERVOCTL(&self->r, "move", "--wait", self->c.name,
			      "2=1600us"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: move: channel 2 has no position to move from (never set, or released): 'set' it first, which makes a hobby servo jump there at its first pulse (nothing applied)\n",
		     self->r.err);
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	ASSERT_EQ(0, tl_state(self->c.fd, 2, &cs));
	EXPECT_EQ(0, cs.flags & HRSERVO_STATE_ENABLED);
	tl_sleep_ns(3 * TL_FRAME_NS);
	n = tl_capture(&e);
	EXPECT_EQ(0, tl_pulses(e, n, 2, p, MAXP_CLI));
	free(e);
}

/*
 * move starts where the kernel starts a trajectory, the target, even when
 * the width in effect differs: falls within coalesce_ns (2 us) share one
 * width, so one of two channels set 1.5 us apart makes the other's.
 */
TEST_F(cli, move_starts_at_the_target)
{
	struct hrservo_channel_state cs;
	char arg[32];
	int ch = -1;

	ASSERT_EQ(0, tl_set(self->c.fd, (struct hrservo_target[]){
		  { 0, 1498500 }, { 1, 1500 * US } }, 2));
	tl_sleep_ns(3 * TL_FRAME_NS);
	for (unsigned int c = 0; c < 2 && ch < 0; c++) {
		ASSERT_EQ(0, tl_state(self->c.fd, c, &cs));
		if (absdiff(cs.pulse_ns, cs.target_ns) > 1000)
			ch = (int)c;
	}
	if (ch < 0)
		SKIP(return, "%s makes both widths within 1 us of their targets",
		     tl_backend_name());
	snprintf(arg, sizeof(arg), "%d=1600us", ch);
	ASSERT_EQ(0, SERVOCTL(&self->r, "move", "--time", "0.2", "--wait",
			      self->c.name, arg));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_LE(absdiff(target_of(self->c.fd, (unsigned int)ch), 1600 * US), 1);
}

/* A calibration on this test's controller: elbow (ch 1) has a home. */
static void home_calibration(const char *file, const char *ctrl, bool home)
{
	FILE *f = fopen(file, "w");

	if (!f)
		return;
	fprintf(f, "[joint elbow]\ncontroller = %s\nchannel = 1\nmap = -90:1000us 90:2000us\n%s"
		"[joint wrist]\ncontroller = %s\nchannel = 2\nmap = -90:1000us 90:2000us\n",
		ctrl, home ? "home = 10\n" : "", ctrl);
	fclose(f);
}

/*
 * set CTRL home: every joint with a home goes there at once; the others
 * are not touched; within the kernel's limits, else nothing applied.
 */
TEST_F(cli, set_home)
{
	const char *file = calib_file();
	struct hrservo_channel_state cs;

	home_calibration(file, self->c.name, true);
	/* The kernel's limits are the calibration's: no warning. */
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "apply", self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, tl_set1(self->c.fd, 2, 1700 * US));
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "home"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_STREQ("", self->r.err);
	/* 10deg on -90deg:1000us 90deg:2000us. */
	EXPECT_EQ(1555556, target_of(self->c.fd, 1));
	EXPECT_EQ(1700 * US, target_of(self->c.fd, 2));
	ASSERT_EQ(0, tl_state(self->c.fd, 3, &cs));
	EXPECT_EQ(0, cs.flags);
	EXPECT_LE(absdiff(settled_width(1, 4), tl_emitted_ns(&self->c, 1555556)),
		  tl_tolerance_ns());

	/* Home outside the kernel's limits: refused, nothing applied. */
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1200 * US));
	ASSERT_EQ(0, SERVOCTL(&self->r, "limits", self->c.name,
			      "1=1000us:1500us"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "home"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: set: channel 1: 1555.556us is above max 1500us (nothing applied)\n",
		     self->r.err);
	EXPECT_EQ(1200 * US, target_of(self->c.fd, 1));

	/* No joint with a home. */
	home_calibration(file, self->c.name, false);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "home"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "no joint with a home position in"))
		TH_LOG("%s", self->r.err);
	EXPECT_EQ(1200 * US, target_of(self->c.fd, 1));
	EXPECT_EQ(1700 * US, target_of(self->c.fd, 2));
	unlink(file);
}

/* move home after release: refused, named by joint, until set again. */
TEST_F(cli, move_home_after_release_refused)
{
	const char *file = calib_file();
	struct hrservo_channel_state cs;

	home_calibration(file, self->c.name, true);
	ASSERT_EQ(0, SERVOCTL(&self->r, "calibrate", "apply", self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1200 * US));
	ASSERT_EQ(0, tl_release(self->c.fd, 1ULL << 1));
	ASSERT_EQ(0, SERVOCTL(&self->r, "move", "--wait", self->c.name, "home"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_STREQ("servoctl: move: joint elbow (channel 1) has no position to move from (never set, or released): 'set' it first, which makes a hobby servo jump there at its first pulse (nothing applied)\n",
		     self->r.err);
	ASSERT_EQ(0, tl_state(self->c.fd, 1, &cs));
	EXPECT_EQ(0, cs.flags & HRSERVO_STATE_ENABLED);
	ASSERT_EQ(0, SERVOCTL(&self->r, "set", self->c.name, "elbow=-36deg"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, SERVOCTL(&self->r, "move", "--wait", self->c.name, "home"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_LE(absdiff(target_of(self->c.fd, 1), 1555556), 1);
	unlink(file);
}

/*
 * The signals servoctl is sent here take their default action in it unless
 * it handles them: an ignored one (inherited through exec, as from nohup)
 * would stay ignored.
 */
static void default_signals(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

/* After a stop: the player idle, the channel on, holding between @lo and @hi. */
static void expect_held(struct __test_metadata *_metadata, int fd,
			unsigned int ch, uint32_t lo, uint32_t hi)
{
	struct hrservo_channel_state cs;
	struct hrservo_traj_status st;
	uint32_t held;

	ASSERT_EQ(0, traj_status(fd, &st));
	EXPECT_EQ(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_EQ(0, st.depth);
	held = target_of(fd, ch);
	EXPECT_GT(held, lo);
	EXPECT_LT(held, hi);
	tl_sleep_ns(5 * TL_FRAME_NS);
	EXPECT_EQ(held, target_of(fd, ch));
	ASSERT_EQ(0, tl_state(fd, ch, &cs));
	EXPECT_TRUE(cs.flags & HRSERVO_STATE_ENABLED);
}

/*
 * traj upload --wait on a terminal: Ctrl-C, SIGTERM, and the terminal
 * hanging up (SIGHUP, as a dropped ssh session) stop the trajectory; the
 * channel holds where it was; exit 130, 143, 129.
 */
TEST_F_TIMEOUT(cli, traj_upload_wait_stops_on_signals, 900)
{
	static const struct {
		int sig;
		const char *said;
	} how[] = {
		{ SIGINT, "stopped on SIGINT" },
		{ SIGTERM, "stopped on SIGTERM" },
		{ SIGHUP, NULL },	/* the terminal is gone: nothing to read */
	};
	char *plan = (char *)write_file("slow.csv", "t_s,ch0_us\n0,1000\n4,2000\n");
	char *argv[] = { (char *)servoctl(), "traj", "upload", "--wait",
			 plan, self->c.name, NULL };

	default_signals();
	for (size_t k = 0; k < sizeof(how) / sizeof(how[0]); k++) {
		struct pty t;
		int status;

		ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
		ASSERT_EQ(0, pty_start(&t, argv));
		/* The progress bar: servoctl waits, its handlers are set. */
		ASSERT_EQ(1, pty_wait(&t, 0, "] ", 120000)) TH_LOG("%s", t.screen);
		ASSERT_EQ(0, wait_running(self->c.fd));
		tl_sleep_ns(1000000000ULL);
		if (how[k].sig == SIGINT) {
			ASSERT_EQ(1, write(t.master, "\003", 1));	/* Ctrl-C */
		} else if (how[k].sig == SIGTERM) {
			kill(t.pid, SIGTERM);
		} else {
			close(t.master);	/* hang up */
		}
		if (how[k].said) {
			EXPECT_EQ(1, pty_wait(&t, 0, how[k].said, 30000))
				TH_LOG("%s", t.screen);
		}
		ASSERT_EQ(t.pid, waitpid(t.pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status)) TH_LOG("signal %d", WTERMSIG(status));
		EXPECT_EQ(128 + how[k].sig, WEXITSTATUS(status));
		if (how[k].said)
			close(t.master);
		/* Stopped about a quarter of the way: 1000 us + some 100 us. */
		expect_held(_metadata, self->c.fd, 0, 1010 * US, 1900 * US);
	}
}

/* move --wait, SIGTERM: the move stops, the channel holds, exit 143. */
TEST_F_TIMEOUT(cli, move_wait_stops_on_sigterm, 600)
{
	struct proc p;

	default_signals();
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	ASSERT_EQ(0, proc_start((char *const[]){ (char *)servoctl(), "move",
		  "--time", "4", "--wait", self->c.name, "0=2000us", NULL },
		  &p, &self->r));
	/* Handlers are set before the upload: once it plays, they are. */
	ASSERT_EQ(0, wait_running(self->c.fd));
	tl_sleep_ns(1000000000ULL);
	kill(p.pid, SIGTERM);
	proc_finish(&p, &self->r);
	EXPECT_EQ(143, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err, ": stopped on SIGTERM: the axes brake within their limits and hold\n"))
		TH_LOG("%s", self->r.err);
	expect_held(_metadata, self->c.fd, 0, 1010 * US, 1900 * US);
}

/* traj wait only waits: Ctrl-C ends it, the trajectory plays on. */
TEST_F_TIMEOUT(cli, traj_wait_sigint_leaves_it_playing, 600)
{
	char *plan = (char *)write_file("slower.csv", "t_s,ch0_us\n0,1000\n20,2000\n");
	char *argv[] = { (char *)servoctl(), "traj", "wait", self->c.name,
			 NULL };
	struct hrservo_traj_status st;
	struct hrservo_traj_stop stop = { 0 };
	struct pty t;
	int status;

	default_signals();
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	ASSERT_EQ(0, SERVOCTL(&self->r, "traj", "upload", plan, self->c.name));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	ASSERT_EQ(0, pty_start(&t, argv));
	ASSERT_EQ(1, pty_wait(&t, 0, "] ", 120000)) TH_LOG("%s", t.screen);
	ASSERT_EQ(1, write(t.master, "\003", 1));
	EXPECT_EQ(1, pty_wait(&t, 0, "interrupted by SIGINT; the trajectory plays on", 30000))
		TH_LOG("%s", t.screen);
	ASSERT_EQ(t.pid, waitpid(t.pid, &status, 0));
	close(t.master);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(130, WEXITSTATUS(status));
	ASSERT_EQ(0, traj_status(self->c.fd, &st));
	EXPECT_NE(HRSERVO_TRAJ_IDLE, st.state);
	EXPECT_NE(0, st.depth);
	EXPECT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_TRAJ_STOP, &stop));
}

/*
 * The shared-library build under valgrind: no error and no lost memory
 * (memory that cairo's and glib's libraries keep reachable until exit is
 * theirs, not a leak). The harness's timeout is guest time, which runs
 * ahead of the host's while valgrind loads over 9p: 2400 s of it, for
 * three commands of up to 240 s of host time each; the guest's host-side
 * timeout ends a real hang.
 */
TEST_F_TIMEOUT(cli, valgrind_clean, 2400)
{
	const char *vg = getenv("HRSERVO_VALGRIND");
	const char *bin = getenv("HRSERVO_SERVOCTL_SHARED");
	/* Each command, and the exit status it must have. */
	static const struct {
		const char *args[4];
		int status;
	} cmd[] = {
		{ { "set", NULL, "0=1500us", "1=50%" }, 0 },
		{ { "--json", "get", NULL }, 0 },
		{ { "set", NULL, "0=9ms" }, 1 },
	};

	if (!vg || !bin)
		SKIP(return, "HRSERVO_VALGRIND or HRSERVO_SERVOCTL_SHARED unset");
	for (size_t i = 0; i < sizeof(cmd) / sizeof(cmd[0]); i++) {
		char *argv[12] = { (char *)vg, "-q", "--error-exitcode=99",
				   "--leak-check=full",
				   "--errors-for-leak-kinds=definite,indirect",
				   (char *)bin };
		size_t n = 6, named = 0;
		uint64_t t0 = tl_now();

		for (size_t k = 0; k < 4; k++) {
			const char *a = cmd[i].args[k];

			/* The controller's name goes in the first NULL. */
			if (!a && !named++)
				a = self->c.name;
			if (a)
				argv[n++] = (char *)a;
		}
		ASSERT_EQ(0, run_argv(argv, &self->r));
		/* 240 s of guest and host time kill it (proc_finish()). */
		TH_LOG("valgrind servoctl %s: exit %d after %.1f s of guest time",
		       cmd[i].args[0], self->r.status, (tl_now() - t0) / 1e9);
		EXPECT_EQ(cmd[i].status, self->r.status) TH_LOG("%s", self->r.err);
	}
	memset(self->r.err, 0, sizeof(self->r.err));
}

TEST_HARNESS_MAIN
