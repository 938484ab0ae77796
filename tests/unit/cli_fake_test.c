// SPDX-License-Identifier: GPL-2.0
/*
 * servoctl on the host, against a fake controller: the whole program is
 * compiled in (its main renamed servoctl_main) with the library, and
 * hrservo_open() is wrapped (ld --wrap) to give "hrservo0", a controller
 * whose channels live in shared memory, so that a command run in a child
 * process leaves its traces for the test to read. calibrate jog runs on a
 * pseudo-terminal.
 *
 * What it checks: a calibration file that does not load fails the command
 * and nothing moves (unless --no-calibration, and but for release); jog
 * and calibrate set keep what the user did not change (a 270-degree map,
 * soft limits, home, speed, the other joints, the controller alias); jog
 * releases the servo on SIGHUP and refuses to start from nowhere; the
 * kernel limits check warns (or refuses under --strict-limits); get and
 * monitor show joints, monitor follows motion without events, with times
 * to the microsecond; info shows the I2C bus and address from sysfs.
 */
#define _GNU_SOURCE
#undef main	/* -Dmain=servoctl_main renames servoctl's, not ours */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "hrservo.h"
#include "internal.h"
#include "servoctl.h"

int servoctl_main(int argc, char **argv);

#define NCH	8

/* The fake controller, shared with the commands run in children. */
struct fake {
	uint32_t target[NCH], pulse[NCH], min[NCH], max[NCH];
	uint32_t speed[NCH], accel[NCH];
	bool enabled[NCH];
	unsigned int opens, applies, releases, stops;
	uint64_t released;
};

static struct fake *fk;
static int fake_evpipe[2] = { -1, -1 };

static void fake_close(struct hrservo *h)
{
}

static int fake_apply(struct hrservo *h, const struct hrservo_target_item *t,
		      size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].pulse_ns < fk->min[t[i].channel] ||
		    t[i].pulse_ns > fk->max[t[i].channel]) {
			errno = ERANGE;
			return -1;
		}
	for (size_t i = 0; i < n; i++) {
		fk->target[t[i].channel] = t[i].pulse_ns;
		fk->pulse[t[i].channel] = t[i].pulse_ns;
		fk->enabled[t[i].channel] = true;
	}
	fk->applies++;
	return 0;
}

static int fake_release(struct hrservo *h, uint64_t mask)
{
	for (unsigned int c = 0; c < NCH; c++)
		if (mask & (1ULL << c)) {
			fk->enabled[c] = false;
			fk->pulse[c] = 0;
		}
	fk->releases++;
	fk->released |= mask;
	return 0;
}

static int fake_read_state(struct hrservo *h, struct hrservo_state *st)
{
	for (unsigned int c = 0; c < NCH; c++) {
		st->ch[c].target_ns = fk->target[c];
		st->ch[c].pulse_ns = fk->pulse[c];
		st->ch[c].min_ns = fk->min[c];
		st->ch[c].max_ns = fk->max[c];
		st->ch[c].enabled = fk->enabled[c];
		st->ch[c].active = fk->enabled[c];
	}
	return 0;
}

static int fake_get_limits(struct hrservo *h, unsigned int ch, uint32_t *mn,
			   uint32_t *mx)
{
	*mn = fk->min[ch];
	*mx = fk->max[ch];
	return 0;
}

static int fake_set_limits(struct hrservo *h, unsigned int ch, uint32_t mn,
			   uint32_t mx)
{
	fk->min[ch] = mn;
	fk->max[ch] = mx;
	return 0;
}

static int fake_get_motion(struct hrservo *h, unsigned int ch, uint32_t *v,
			   uint32_t *a)
{
	*v = fk->speed[ch];
	*a = fk->accel[ch];
	return 0;
}

static int fake_set_motion(struct hrservo *h, unsigned int ch, uint32_t v,
			   uint32_t a)
{
	fk->speed[ch] = v;
	fk->accel[ch] = a;
	return 0;
}

static int fake_get_period(struct hrservo *h, uint32_t *p, uint32_t *mn,
			   uint32_t *mx)
{
	*p = 20000000;
	if (mn)
		*mn = 2500000;
	if (mx)
		*mx = 50000000;
	return 0;
}

/* No event ever: what monitor sees during a trajectory. */
static int fake_event_fd(struct hrservo *h)
{
	return fake_evpipe[0];
}

static int fake_read_event(struct hrservo *h, struct hrservo_event_data *ev,
			   int timeout_ms)
{
	errno = EAGAIN;
	return -1;
}

static int fake_traj_stop(struct hrservo *h)
{
	fk->stops++;
	return 0;
}

static const struct hrservo_backend fake_backend = {
	.name = "fake",
	.traj_stop = fake_traj_stop,
	.close = fake_close,
	.apply = fake_apply,
	.release = fake_release,
	.read_state = fake_read_state,
	.get_limits = fake_get_limits,
	.set_limits = fake_set_limits,
	.get_motion = fake_get_motion,
	.set_motion = fake_set_motion,
	.get_period = fake_get_period,
	.event_fd = fake_event_fd,
	.read_event = fake_read_event,
};

struct hrservo *__wrap_hrservo_open(const char *spec);
struct hrservo *__wrap_hrservo_open(const char *spec)
{
	struct hrservo *h;

	if (strcmp(spec, "hrservo0") && strcmp(spec, "0") &&
	    strcmp(spec, "/dev/hrservo0")) {
		errno = ENOENT;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->be = &fake_backend;
	snprintf(h->name, sizeof(h->name), "hrservo0");
	snprintf(h->backend, sizeof(h->backend), "fake");
	h->nch = NCH;
	h->pulse_min_ns = 50000;
	h->pulse_max_ns = 19900000;
	h->resolution_ns = 1;
	fk->opens++;
	return h;
}

/* One directory for the run, made and removed by the main process. */
static char base[64], dir[96];
static pid_t base_owner;
static unsigned int ndirs;

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void __attribute__((constructor)) base_make(void)
{
	snprintf(base, sizeof(base), "/tmp/cli_fake.XXXXXX");
	if (!mkdtemp(base))
		abort();
	base_owner = getpid();
}

/* Not in the tests and commands it forks, which share the directory. */
static void __attribute__((destructor)) base_remove(void)
{
	if (getpid() == base_owner)
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh fake and a fresh directory ($HRSERVO_CALIBRATION in it). */
static void setup(void)
{
	char path[128];

	if (!fk)
		fk = mmap(NULL, sizeof(*fk), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(fk, 0, sizeof(*fk));
	for (int c = 0; c < NCH; c++) {
		fk->min[c] = 500000;
		fk->max[c] = 2500000;
	}
	if (fake_evpipe[0] < 0 && pipe(fake_evpipe))
		abort();
	/* Each test is a process of its own: its pid names its directory. */
	snprintf(dir, sizeof(dir), "%s/%d.%u", base, (int)getpid(), ndirs++);
	if (mkdir(dir, 0700))
		abort();
	snprintf(path, sizeof(path), "%s/robot.conf", dir);
	setenv("HRSERVO_CALIBRATION", path, 1);
	setenv("HRSERVO_SYSFS_CLASS", dir, 1);	/* it exists: "loaded" */
	unsetenv("XDG_CONFIG_HOME");
}

static const char *path_of(const char *name)
{
	static char p[4][160];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void put_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static char *file_text(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

struct run {
	int status;
	char out[16384];
	char err[8192];
};

static void read_back(FILE *f, char *buf, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* servoctl ARGS... (NULL-terminated) in a child, output captured. */
static void run_argv(struct run *r, char **args)
{
	char *argv[32] = { "servoctl" };
	FILE *fo = tmpfile(), *fe = tmpfile();
	int argc = 1, status;
	pid_t pid;

	/* Writable, as a program's arguments are. */
	while (args[argc - 1] && argc < 31) {
		argv[argc] = strdup(args[argc - 1]);
		argc++;
	}
	argv[argc] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(fileno(fo), 1);
		dup2(fileno(fe), 2);
		optind = 0;
		exit(servoctl_main(argc, argv));
	}
	waitpid(pid, &status, 0);
	while (--argc)
		free(argv[argc]);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
	read_back(fo, r->out, sizeof(r->out));
	read_back(fe, r->err, sizeof(r->err));
}

#define SERVOCTL(r, ...) run_argv(r, (char *[]){ __VA_ARGS__, NULL })

/* A joint over 270 degrees with soft limits, and more, on an alias. */
static const char robot_conf[] =
	"[controller arm]\n"
	"device = hrservo0\n"
	"\n"
	"[joint shoulder]\n"
	"controller = arm\n"
	"channel = 3\n"
	"unit = deg\n"
	"map = -135:900us 0:1500us 135:2100us\n"
	"interp = cubic\n"
	"min = -100\n"
	"max = 120\n"
	"home = 10\n"
	"max_speed = 60\n"
	"max_accel = 600\n"
	"\n"
	"[joint elbow]\n"
	"controller = arm\n"
	"channel = 1\n"
	"map = -90:1000us 90:2000us\n"
	"min = -45\n"
	"max = 60\n";

static struct hrservo_calib *load_robot(struct __test_metadata *_metadata)
{
	char msg[256] = "";
	struct hrservo_calib *c;

	c = hrservo_calib_load(getenv("HRSERVO_CALIBRATION"), msg, sizeof(msg));
	EXPECT_NE(NULL, c) TH_LOG("%s", msg);
	return c;
}

/* ---- a calibration that does not load ---- */

TEST(broken_calibration_fails_set_and_nothing_moves)
{
	struct run r;

	setup();
	put_file("robot.conf", "[joint elbow]\ncontroller = arm\nchannel = 1\n"
		 "map = -90:1000us 90:2000us\nspeed = 10\n");
	SERVOCTL(&r, "set", "hrservo0", "0=1500us");
	EXPECT_EQ(1, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "robot.conf:5: unknown key 'speed'"))
		TH_LOG("%s", r.err);
	EXPECT_EQ(0, fk->applies);
	EXPECT_EQ(0, fk->target[0]);
	EXPECT_EQ(0, fk->opens);	/* failed before opening it */

	SERVOCTL(&r, "move", "hrservo0", "0=1500us");
	EXPECT_EQ(1, r.status);
	SERVOCTL(&r, "get", "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(0, fk->opens);

	/* Release needs no calibration: it is what makes a robot safe. */
	fk->enabled[2] = true;
	fk->target[2] = fk->pulse[2] = 1500000;
	SERVOCTL(&r, "release", "hrservo0", "2");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(1ULL << 2, fk->released);

	/* Nor does stopping a trajectory. */
	SERVOCTL(&r, "traj", "stop", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(1, fk->stops);

	/* Unless the user says to do without one. */
	SERVOCTL(&r, "--no-calibration", "set", "hrservo0", "0=1500us");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("", r.err);
	EXPECT_EQ(1500000, fk->target[0]);
	SERVOCTL(&r, "--no-calibration", "set", "hrservo0", "elbow=10deg");
	EXPECT_EQ(2, r.status);
	EXPECT_EQ(1, fk->applies);
}

/*
 * A released channel keeps its last target in the kernel, but it has no
 * position: a relative value must not add to the stale target.
 */
TEST(relative_set_of_a_released_channel_refused)
{
	struct run r;

	setup();
	fk->target[0] = 1500000;	/* released: remembered, not enabled */
	fk->enabled[0] = false;
	SERVOCTL(&r, "--no-calibration", "set", "hrservo0", "0=+=20us");
	EXPECT_EQ(1, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "has no position (never set, or released)"))
		TH_LOG("%s", r.err);
	EXPECT_EQ(0, fk->applies);
	EXPECT_FALSE(fk->enabled[0]);
}

/* One sign: "--90deg" is not +90deg. */
TEST(position_takes_one_sign)
{
	enum hrservo_unit u;
	double pos;

	ASSERT_EQ(0, position_of("-90deg", &pos, &u));
	EXPECT_EQ(-90, pos);
	EXPECT_EQ(-1, position_of("--90deg", &pos, &u));
	EXPECT_EQ(-1, position_of("+-90deg", &pos, &u));
}

/* ---- jog and calibrate set keep what was not changed ---- */

TEST(jog_merge_keeps_range_limits_home_speed)
{
	struct hrservo_joint old = {
		.name = "shoulder", .controller = "arm", .channel = 3,
		.unit = HRSERVO_UNIT_DEG, .npoints = 3,
		.pos = { -135, 0, 135 },
		.pulse_ns = { 900000, 1500000, 2100000 },
		.map = HRSERVO_MAP_CUBIC, .trim_ns = 12000,
		.min = -100, .max = 120, .has_home = true, .home = 10,
		.max_speed = 60, .max_accel = 600,
	};
	struct jog_marks m = { .mark = { 950000, 1510000, 2050000 } };
	struct hrservo_joint j;
	char note[256] = "x";

	setup();
	ASSERT_EQ(0, jog_merge(&old, &m, false, &j, note, sizeof(note)))
		TH_LOG("%s", note);
	EXPECT_STREQ("", note);
	ASSERT_EQ(3, j.npoints);
	EXPECT_EQ(-135, j.pos[0]);	/* the joint's range, not 180 deg */
	EXPECT_EQ(0, j.pos[1]);
	EXPECT_EQ(135, j.pos[2]);
	EXPECT_EQ(950000, j.pulse_ns[0]);
	EXPECT_EQ(1510000, j.pulse_ns[1]);
	EXPECT_EQ(2050000, j.pulse_ns[2]);
	EXPECT_EQ(-100, j.min);
	EXPECT_EQ(120, j.max);
	EXPECT_TRUE(j.has_home);
	EXPECT_EQ(10, j.home);
	EXPECT_EQ(60, j.max_speed);
	EXPECT_EQ(600, j.max_accel);
	EXPECT_EQ(HRSERVO_MAP_CUBIC, j.map);
	EXPECT_EQ(12000, j.trim_ns);
	EXPECT_STREQ("shoulder", j.name);
	EXPECT_STREQ("arm", j.controller);
	EXPECT_EQ(0, hrservo_joint_check(&j, note, sizeof(note))) TH_LOG("%s", note);

	/* Only min and max marked: a two-point map over the same range. */
	m.mark[1] = NAN;
	ASSERT_EQ(0, jog_merge(&old, &m, false, &j, note, sizeof(note)));
	EXPECT_EQ(2, j.npoints);
	EXPECT_EQ(135, j.pos[1]);
	EXPECT_EQ(-100, j.min);

	/* Points over a narrower span: limits inside it stay, others clamp. */
	memset(&m, 0, sizeof(m));
	m.mark[0] = m.mark[1] = m.mark[2] = NAN;
	m.npoints = 3;
	m.unit = HRSERVO_UNIT_DEG;
	m.pos[0] = -90, m.pos[1] = 0, m.pos[2] = 150;
	m.pulse_ns[0] = 1100000, m.pulse_ns[1] = 1500000, m.pulse_ns[2] = 2150000;
	ASSERT_EQ(0, jog_merge(&old, &m, false, &j, note, sizeof(note)));
	EXPECT_EQ(-90, j.min);
	EXPECT_EQ(120, j.max);
	EXPECT_EQ(10, j.home);
	EXPECT_NE(NULL, strstr(note, "soft min -100deg is outside the new map: now -90deg"))
		TH_LOG("%s", note);

	/* Nothing marked: not saved, and says why. */
	memset(&m, 0, sizeof(m));
	m.mark[0] = m.mark[1] = m.mark[2] = NAN;
	EXPECT_EQ(-1, jog_merge(&old, &m, false, &j, note, sizeof(note)));
	EXPECT_STREQ("mark min and max (or two points) first", note);

	/* A fresh joint: the default 180 degrees, limits at its ends. */
	memset(&old, 0, sizeof(old));
	snprintf(old.name, sizeof(old.name), "hrservo0_ch5");
	snprintf(old.controller, sizeof(old.controller), "hrservo0");
	old.channel = 5;
	old.unit = HRSERVO_UNIT_DEG;
	m.mark[0] = 1000000;
	m.mark[2] = 2000000;
	ASSERT_EQ(0, jog_merge(&old, &m, true, &j, note, sizeof(note)));
	EXPECT_EQ(-90, j.pos[0]);
	EXPECT_EQ(90, j.pos[1]);
	EXPECT_EQ(-90, j.min);
	EXPECT_EQ(90, j.max);
	EXPECT_EQ(HRSERVO_MAP_CUBIC, j.map);
}

TEST(joint_remap_in_another_unit_resets_what_was_in_the_old_one)
{
	struct hrservo_joint j = {
		.name = "grip", .controller = "arm", .channel = 4,
		.unit = HRSERVO_UNIT_DEG, .npoints = 2, .pos = { -90, 90 },
		.pulse_ns = { 1000000, 2000000 }, .min = -45, .max = 45,
		.has_home = true, .home = 0, .max_speed = 90,
	};
	const double pos[] = { 0, 100 }, pulse[] = { 1100000, 1900000 };
	char note[256];

	ASSERT_EQ(0, joint_remap(&j, pos, pulse, 2, HRSERVO_UNIT_PERCENT, note,
				 sizeof(note)));
	EXPECT_EQ(0, j.min);
	EXPECT_EQ(100, j.max);
	EXPECT_FALSE(j.has_home);
	EXPECT_EQ(0, j.max_speed);
	EXPECT_STREQ("the unit changed from deg to %: soft limits, home, speed and accel reset",
		     note);
}

/* calibrate set with new pulses: the map over the joint's own range. */
TEST(calibrate_set_keeps_the_range_and_the_rest)
{
	struct hrservo_calib *c;
	const struct hrservo_joint *j;
	struct run r;

	setup();
	put_file("robot.conf", robot_conf);
	SERVOCTL(&r, "calibrate", "set", "arm",
		 "shoulder=min:800us,center:1450us,max:2200us");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	c = load_robot(_metadata);
	ASSERT_NE(NULL, c);
	j = hrservo_calib_find(c, "shoulder");
	ASSERT_NE(NULL, j);
	ASSERT_EQ(3, j->npoints);
	EXPECT_EQ(-135, j->pos[0]);
	EXPECT_EQ(135, j->pos[2]);
	EXPECT_EQ(800000, j->pulse_ns[0]);
	EXPECT_EQ(1450000, j->pulse_ns[1]);
	EXPECT_EQ(-100, j->min);
	EXPECT_EQ(120, j->max);
	EXPECT_EQ(10, j->home);
	EXPECT_EQ(60, j->max_speed);
	EXPECT_EQ(HRSERVO_MAP_CUBIC, j->map);
	EXPECT_NE(NULL, hrservo_calib_find(c, "elbow"));
	EXPECT_STREQ("hrservo0", hrservo_calib_device(c, "arm"));
	hrservo_calib_free(c);

	/* Saving commands are refused under --no-calibration: file unchanged. */
	put_file("robot.conf", robot_conf);
	SERVOCTL(&r, "--no-calibration", "calibrate", "set", "hrservo0",
		 "5=min:1000us,max:2000us");
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ(robot_conf, file_text(getenv("HRSERVO_CALIBRATION")));
	/* A range alone would change the unit without a map in it. */
	SERVOCTL(&r, "calibrate", "set", "arm", "shoulder=range:3rad");
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ(robot_conf, file_text(getenv("HRSERVO_CALIBRATION")));
}

/* ---- calibrate jog on a pseudo-terminal ---- */

struct pty {
	int master;
	pid_t pid;
	char screen[1 << 17];
	size_t len;
};

static int pty_start(struct pty *t, char **args)
{
	static char copies[16][64];	/* writable, as arguments are */
	char *argv[16] = { "servoctl" }, *name;
	int argc = 1, slave;

	while (args[argc - 1] && argc < 15) {
		snprintf(copies[argc], sizeof(copies[argc]), "%s", args[argc - 1]);
		argv[argc] = copies[argc];
		argc++;
	}
	argv[argc] = NULL;
	memset(t, 0, sizeof(*t));
	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0 || grantpt(t->master) || unlockpt(t->master))
		return -1;
	name = ptsname(t->master);
	fflush(NULL);
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (t->pid == 0) {
		close(t->master);	/* no exec: O_CLOEXEC does not close it */
		setsid();
		slave = open(name, O_RDWR);
		if (slave < 0)
			_exit(127);
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(slave);
		optind = 0;
		exit(servoctl_main(argc, argv));
	}
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read the screen until @needle shows up after @from; 1 if it did. */
static int pty_wait(struct pty *t, size_t from, const char *needle, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;

	while (mono_ms() < end) {
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
		if (t->len > sizeof(t->screen) / 2) {
			/* Keep the tail: the screen is redrawn 10 times a second. */
			size_t keep = sizeof(t->screen) / 4;

			memmove(t->screen, t->screen + t->len - keep, keep + 1);
			from = from > t->len - keep ? from - (t->len - keep) : 0;
			t->len = keep;
		}
	}
	return t->len > from && strstr(t->screen + from, needle) != NULL;
}

/* Send keys (an arrow is one write), then wait for @needle. */
static int pty_keys(struct pty *t, const char *keys, const char *needle)
{
	size_t from = t->len;

	for (const char *k = keys; *k; k++) {
		size_t n = *k == '\033' ? 3 : 1;

		if (write(t->master, k, n) != (ssize_t)n)
			return 0;
		k += n - 1;
		usleep(20000);
	}
	return pty_wait(t, from, needle, 10000);
}

/* Its exit status; killed if it does not end within 5 s. */
static int pty_finish(struct pty *t)
{
	int status = -1;

	/* Drain the output meanwhile, so that it never blocks on it. */
	for (int i = 0; i < 50; i++) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			goto out;
		pty_wait(t, t->len, "\001never\001", 100);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &status, 0);
out:
	close(t->master);
	return status;
}

#define RIGHT "\033[C"
#define LEFT "\033[D"

/* Jog a 270-degree joint and save: only its map changes. */
TEST(jog_save_keeps_the_joint_and_the_file)
{
	const struct hrservo_joint *j;
	struct hrservo_calib *c;
	struct pty t;
	int status;

	setup();
	put_file("robot.conf", robot_conf);
	fk->enabled[3] = true;
	fk->target[3] = fk->pulse[3] = 1500000;
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "arm",
					       "shoulder", NULL }));
	ASSERT_EQ(1, pty_wait(&t, 0, "pulse  1500us", 10000)) TH_LOG("%s", t.screen);
	/* The marks are at the joint's range, shown. */
	EXPECT_EQ(1, pty_wait(&t, 0, "the pulses at -135deg, 135deg", 1000));
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
	status = pty_finish(&t);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(1ULL << 3, fk->released);

	c = load_robot(_metadata);
	ASSERT_NE(NULL, c);
	j = hrservo_calib_find(c, "shoulder");
	ASSERT_NE(NULL, j);
	ASSERT_EQ(3, j->npoints);
	EXPECT_EQ(-135, j->pos[0]);
	EXPECT_EQ(0, j->pos[1]);
	EXPECT_EQ(135, j->pos[2]);
	EXPECT_EQ(900000, j->pulse_ns[0]);
	EXPECT_EQ(1600000, j->pulse_ns[1]);
	EXPECT_EQ(2100000, j->pulse_ns[2]);
	EXPECT_EQ(-100, j->min);
	EXPECT_EQ(120, j->max);
	EXPECT_TRUE(j->has_home);
	EXPECT_EQ(10, j->home);
	EXPECT_EQ(60, j->max_speed);
	EXPECT_EQ(600, j->max_accel);
	EXPECT_EQ(HRSERVO_MAP_CUBIC, j->map);
	EXPECT_STREQ("arm", j->controller);
	/* The other joint and the controller alias, as they were. */
	j = hrservo_calib_find(c, "elbow");
	ASSERT_NE(NULL, j);
	EXPECT_EQ(1, j->channel);
	EXPECT_EQ(-45, j->min);
	EXPECT_EQ(60, j->max);
	EXPECT_EQ(2000000, j->pulse_ns[1]);
	EXPECT_STREQ("hrservo0", hrservo_calib_device(c, "arm"));
	hrservo_calib_free(c);
}

/* A dropped ssh session: the terminal hangs up, the servo is released. */
TEST(jog_releases_on_sighup)
{
	struct pty t;
	int status;

	setup();
	fk->enabled[4] = true;
	fk->target[4] = fk->pulse[4] = 1200000;
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "hrservo0",
					       "4", NULL }));
	ASSERT_EQ(1, pty_wait(&t, 0, "pulse  1200us", 10000)) TH_LOG("%s", t.screen);
	EXPECT_EQ(1, pty_keys(&t, RIGHT, "pulse  1210us"));
	EXPECT_EQ(1210000, fk->target[4]);
	EXPECT_TRUE(fk->enabled[4]);
	close(t.master);	/* the session leader gets SIGHUP */
	ASSERT_EQ(t.pid, waitpid(t.pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status)) TH_LOG("killed by signal %d", WTERMSIG(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_FALSE(fk->enabled[4]);
	EXPECT_EQ(1ULL << 4, fk->released);
}

TEST(jog_releases_on_sigterm)
{
	struct pty t;
	int status;

	setup();
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "--from",
					       "50%", "hrservo0", "6", NULL }));
	ASSERT_EQ(1, pty_wait(&t, 0, "pulse  1500us", 10000)) TH_LOG("%s", t.screen);
	kill(t.pid, SIGTERM);
	EXPECT_EQ(1, pty_wait(&t, 0, "Terminated: channel 6 released", 10000))
		TH_LOG("%s", t.screen);
	status = pty_finish(&t);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	EXPECT_EQ(1ULL << 6, fk->released);
}

/* A channel with no position: no jump to the middle, unless --from. */
TEST(jog_refuses_a_channel_without_position)
{
	struct pty t;
	int status;

	setup();
	put_file("robot.conf", robot_conf);
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "hrservo0",
					       "5", NULL }));
	EXPECT_EQ(1, pty_wait(&t, 0, "channel 5 has no position: set it first", 10000))
		TH_LOG("%s", t.screen);
	status = pty_finish(&t);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	EXPECT_EQ(0, fk->applies);

	/* A released channel remembers a target, but not where it is. */
	fk->target[3] = 1700000;
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "arm",
					       "shoulder", NULL }));
	EXPECT_EQ(1, pty_wait(&t, 0, "joint shoulder (channel 3) has no position", 10000))
		TH_LOG("%s", t.screen);
	status = pty_finish(&t);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	EXPECT_EQ(0, fk->applies);

	/* --from a position of the joint, through its map: 0 deg is 1500us. */
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "--from",
					       "0deg", "arm", "shoulder", NULL }));
	ASSERT_EQ(1, pty_wait(&t, 0, "pulse  1500us", 10000)) TH_LOG("%s", t.screen);
	EXPECT_EQ(1500000, fk->target[3]);
	EXPECT_EQ(1, pty_keys(&t, "q", "released")) TH_LOG("%s", t.screen);
	status = pty_finish(&t);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Outside the joint's soft limits, or the channel's: refused. */
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "--from",
					       "-120deg", "arm", "shoulder", NULL }));
	EXPECT_EQ(1, pty_wait(&t, 0, "outside its soft limits -100deg..120deg", 10000))
		TH_LOG("%s", t.screen);
	status = pty_finish(&t);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "--from",
					       "3000us", "hrservo0", "5", NULL }));
	EXPECT_EQ(1, pty_wait(&t, 0, "outside the limits of channel 5, 500us..2500us", 10000))
		TH_LOG("%s", t.screen);
	status = pty_finish(&t);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	EXPECT_EQ(1, fk->applies);
}

/* ---- the kernel's limits against the calibration's ---- */

TEST(limits_check_warns_until_applied)
{
	struct hrservo *h;
	struct run r;
	char *err;
	FILE *f;
	int saved, ret;

	setup();
	put_file("robot.conf", robot_conf);
	/* As after a module reload: 500..2500us, no speed limit. */
	f = tmpfile();
	ASSERT_NE(NULL, f);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	h = hrservo_open("hrservo0");
	ASSERT_NE(NULL, h);
	ret = joint_limits_check(h, 1ULL << 3);
	opt_strict_limits = true;
	EXPECT_EQ(EXIT_RUNTIME, joint_limits_check(h, 1ULL << 3 | 1ULL << 1));
	opt_strict_limits = false;
	EXPECT_EQ(0, joint_limits_check(h, 1ULL << 5));	/* no joint there */
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	EXPECT_EQ(0, ret);
	err = calloc(1, 8192);
	read_back(f, err, 8192);
	EXPECT_STREQ("servoctl: warning: joint shoulder: kernel limits 500us..2500us, no speed limit, no acceleration limit; the calibration says 1055.555us..2033.334us, 60deg/s, 600deg/s2: run 'servoctl calibrate apply arm'\n"
		     "servoctl: joint shoulder: kernel limits 500us..2500us, no speed limit, no acceleration limit; the calibration says 1055.555us..2033.334us, 60deg/s, 600deg/s2: run 'servoctl calibrate apply arm' (nothing applied: --strict-limits)\n"
		     "servoctl: joint elbow: kernel limits 500us..2500us, no speed limit, no acceleration limit; the calibration says 1250us..1833.334us, no speed limit, no acceleration limit: run 'servoctl calibrate apply arm' (nothing applied: --strict-limits)\n",
		     err);
	free(err);

	/* Once applied, nothing to say. */
	SERVOCTL(&r, "calibrate", "apply", "arm");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(1055555, fk->min[3]);
	f = tmpfile();
	saved = dup(2);
	dup2(fileno(f), 2);
	opt_strict_limits = true;
	ret = joint_limits_check(h, ~0ULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	EXPECT_EQ(0, ret);
	err = calloc(1, 8192);
	read_back(f, err, 8192);
	EXPECT_STREQ("", err);
	free(err);
	/* A speed limit set by hand is a mismatch too. */
	fk->speed[1] = 1000000;
	f = tmpfile();
	saved = dup(2);
	dup2(fileno(f), 2);
	ret = joint_limits_check(h, 1ULL << 1);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	opt_strict_limits = false;
	EXPECT_EQ(EXIT_RUNTIME, ret);
	err = calloc(1, 8192);
	read_back(f, err, 8192);
	EXPECT_NE(NULL, strstr(err, "joint elbow: kernel limits 1250us..1833.334us, speed 1000us/s, no acceleration limit; the calibration says 1250us..1833.334us, no speed limit"))
		TH_LOG("%s", err);
	free(err);
	hrservo_close(h);
}

/* ---- get and monitor speak in joints ---- */

TEST(get_shows_joints_and_their_positions)
{
	struct run r;

	setup();
	put_file("robot.conf", robot_conf);
	fk->enabled[1] = true;
	fk->target[1] = 1750000;		/* elbow at 45 deg */
	fk->pulse[1] = 1722222;			/* on its way: 40 deg */
	fk->target[2] = 1600000;		/* no joint */
	SERVOCTL(&r, "get", "hrservo0", "1", "2", "3");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, " CH STATE        TARGET      PULSE        MIN        MAX JOINT             TARGET_POS   PULSE_POS\n"))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "  1 on           1750us 1722.222us      500us     2500us elbow                  45deg       40deg\n"))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "  2 off          1600us          -      500us     2500us -                          -           -\n"))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "  3 off               -          -      500us     2500us shoulder                   -           -\n"))
		TH_LOG("%s", r.out);

	SERVOCTL(&r, "--json", "get", "hrservo0", "1", "2");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "\"joint\": {\n        \"name\": \"elbow\",\n        \"unit\": \"deg\",\n        \"target\": 45,\n        \"pulse\": 39.99996\n"))
		TH_LOG("%s", r.out);
	/* Channel 2 has no joint: no "joint" key. */
	ASSERT_NE(NULL, strstr(r.out, "\"joint\""));
	EXPECT_EQ(NULL, strstr(strstr(r.out, "\"joint\"") + 1, "\"joint\""));

	/* Without a calibration, the table of before. */
	SERVOCTL(&r, "--no-calibration", "get", "hrservo0", "1");
	EXPECT_STREQ(" CH STATE        TARGET      PULSE        MIN        MAX\n"
		     "  1 on           1750us 1722.222us      500us     2500us\n",
		     r.out);
}

/* No event comes while a trajectory plays: monitor reads at --rate. */
TEST(monitor_follows_motion_without_events)
{
	static char out[65536];
	FILE *fo = tmpfile(), *fe = tmpfile();
	char *p;
	int status, lines = 0;
	pid_t pid;

	setup();
	put_file("robot.conf", robot_conf);
	fk->enabled[1] = true;
	fk->target[1] = fk->pulse[1] = 1500000;
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { "servoctl", "--json", "monitor", "--rate", "50",
				 "--count", "3", "hrservo0", NULL };

		dup2(fileno(fo), 1);
		dup2(fileno(fe), 2);
		optind = 0;
		exit(servoctl_main(8, argv));
	}
	/* The pulse moves, as a trajectory moves it: 100 ms a step. */
	for (int i = 1; i <= 40; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (i == 40) {
			kill(pid, SIGKILL);	/* no change seen: hung */
			waitpid(pid, &status, 0);
		}
		usleep(100000);
		fk->target[1] = fk->pulse[1] = 1500000 + 5000 * i;
	}
	read_back(fo, out, 65536);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		read_back(fe, out, 65536);
		TH_LOG("status %d: %s", status, out);
		fe = NULL;
	}
	/* The initial state of 8 channels, then 3 changes of channel 1. */
	for (p = out; (p = strstr(p, "\"channel\":1,")); p++)
		lines++;
	EXPECT_EQ(4, lines) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"joint\":{\"name\":\"elbow\",\"unit\":\"deg\",\"target\":")) TH_LOG("%s", out);
	/* Times to the microsecond: "time":123.456789} */
	p = strstr(out, "\"time\":");
	ASSERT_NE(NULL, p);
	p += 7;
	EXPECT_EQ(6, (int)(strchr(p, '}') - strchr(p, '.') - 1)) TH_LOG("%s", out);
	if (fe)
		fclose(fe);
}

/* ---- info: the hardware behind the controller ---- */

static void mk(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	mkdir(path, 0755);
}

static void ln(const char *target, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (symlink(target, path))
		abort();
}

TEST(info_shows_the_i2c_bus_and_address)
{
	struct run r;

	setup();
	/* sysfs as the kernel makes it for a PCA9685 at 0x40 on i2c-3. */
	mk("sys");
	mk("sys/devices");
	mk("sys/devices/i2c-3");
	mk("sys/devices/i2c-3/3-0040");
	mk("sys/devices/i2c-3/3-0040/hrservo");
	mk("sys/devices/i2c-3/3-0040/hrservo/hrservo0");
	mk("sys/bus");
	mk("sys/bus/i2c");
	mk("sys/bus/i2c/drivers");
	mk("sys/bus/i2c/drivers/hrservo-pca9685");
	put_file("sys/devices/i2c-3/name", "SMBus stub driver\n");
	put_file("sys/devices/i2c-3/3-0040/name", "hrservo-pca9685\n");
	ln("../../../bus/i2c", "sys/devices/i2c-3/3-0040/subsystem");
	ln("../../../bus/i2c/drivers/hrservo-pca9685",
	   "sys/devices/i2c-3/3-0040/driver");
	ln("../..", "sys/devices/i2c-3/3-0040/hrservo/hrservo0/device");
	ln("sys/devices/i2c-3/3-0040/hrservo/hrservo0", "hrservo0");
	SERVOCTL(&r, "info", "hrservo0");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "device:        3-0040 (i2c, driver hrservo-pca9685)\n"))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "i2c:           bus 3 (SMBus stub driver), address 0x40, client hrservo-pca9685\n"))
		TH_LOG("%s", r.out);
	SERVOCTL(&r, "--json", "info", "hrservo0");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "\"i2c\": {\n      \"bus\": 3,\n      \"address\": 64,\n      \"adapter\": \"SMBus stub driver\",\n      \"client\": \"hrservo-pca9685\"\n"))
		TH_LOG("%s", r.out);

	/* A GPIO controller whose driver lists its lines. */
	mk("sys/devices/platform");
	mk("sys/devices/platform/hrservo-gpio.2");
	mk("sys/bus/platform");
	put_file("sys/devices/platform/hrservo-gpio.2/lines",
		 "gpio-sim.0 3\ngpio-sim.0 4\n");
	ln("../../../bus/platform", "sys/devices/platform/hrservo-gpio.2/subsystem");
	unlink(path_of("sys/devices/i2c-3/3-0040/hrservo/hrservo0/device"));
	ln("../../../../platform/hrservo-gpio.2",
	   "sys/devices/i2c-3/3-0040/hrservo/hrservo0/device");
	SERVOCTL(&r, "info", "hrservo0");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "device:        hrservo-gpio.2 (platform)\n"
			       "lines:         channel 0: gpio-sim.0 3\n"
			       "               channel 1: gpio-sim.0 4\n"))
		TH_LOG("%s", r.out);
}

TEST_HARNESS_MAIN
