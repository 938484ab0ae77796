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
 * to the microsecond; info shows the I2C bus and address from sysfs, and
 * the capabilities the fake's ops give.
 *
 * The safety part of issue 12, against the fake's e-stop latch, watchdog
 * and frame record: estop trips, clears and shows the latch, and every
 * command that moves says it is latched; monitor prints the safety events;
 * hrservo_read_frames() reads in calls of 64 and counts the frames lost;
 * hrservo_watchdog_arm() checks its arguments; record writes the frames
 * exactly (times, widths, joints), says what it lost, waits for its
 * channels, ends at a release, a removal and a signal with the file whole,
 * and its file replays through traj upload with the recorded width at
 * every frame start.
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
/* Frames the fake can play, and keeps (as the kernel: its last 512). */
#define FAKE_FRAMES	4096
#define FAKE_KEPT	512
#define FAKE_EVENTS	16
#define FAKE_SEGS	256

/* The fake controller, shared with the commands run in children. */
struct fake {
	uint32_t target[NCH], pulse[NCH], min[NCH], max[NCH];
	uint32_t speed[NCH], accel[NCH];
	bool enabled[NCH];
	unsigned int opens, applies, releases, stops;
	uint64_t released;
	uint32_t drift;		/* channel 7 moves by this at every read */

	/* The e-stop latch: has_estop false is a driver before ABI 4. */
	bool has_estop, readonly;
	bool latched, input, input_active;
	int source, action;
	uint64_t tripped_ns;
	unsigned int trips, clears;

	/* The watchdog: what the last call asked. */
	unsigned int wd_calls, wd_timeout, keepalives;
	int wd_action;
	size_t wd_npose;
	struct hrservo_target_item wd_pose[NCH];

	/*
	 * The frame record: frame[k] is frame seq k + 1; the first @played
	 * are played. Each backend call plays @per_call more first (at most
	 * @nframes); call number @jump_at (from 1) plays @jump more, as a
	 * reader that was not scheduled for a while finds. Once every frame
	 * is played and read, @removed_at_end makes the controller go away.
	 */
	bool has_frames, removed_at_end;
	bool realtime;		/* played: the frames started by now */
	uint64_t nframes, played, per_call, jump_at, jump;
	unsigned int frame_calls, fail_at;	/* that call: ENODEV */
	size_t max_room;		/* the most frames one call was asked */
	struct hrservo_frame_data frame[FAKE_FRAMES];

	/* Events to read, queued by the test with fake_event(). */
	struct hrservo_event_data ev[FAKE_EVENTS];
	unsigned int nev, evread;

	/* The trajectory submitted last. */
	unsigned int submits;
	size_t nseg, ncoef;
	uint64_t seg_ns[FAKE_SEGS], seg_mask[FAKE_SEGS];
	int64_t coef[FAKE_SEGS * 6 * 3];
};

static struct fake *fk;
static int fake_evpipe[2] = { -1, -1 };

static void fake_close(struct hrservo *h)
{
}

static int fake_apply(struct hrservo *h, const struct hrservo_target_item *t,
		      size_t n)
{
	if (fk->latched) {
		errno = EPERM;
		return -1;
	}
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
	if (fk->drift) {
		fk->enabled[7] = true;
		fk->target[7] = fk->pulse[7] = fk->target[7] + fk->drift;
	}
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

/*
 * No event unless the test queues one (fake_event()): what monitor sees
 * during a trajectory. The pipe has a byte per queued event, for poll().
 */
static int fake_event_fd(struct hrservo *h)
{
	return fake_evpipe[0];
}

static int fake_read_event(struct hrservo *h, struct hrservo_event_data *ev,
			   int timeout_ms)
{
	char c;

	if (fk->evread == fk->nev) {
		errno = EAGAIN;
		return -1;
	}
	if (read(fake_evpipe[0], &c, 1) != 1)
		abort();
	*ev = fk->ev[fk->evread++];
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Queue an event for the commands to read. */
static void fake_event(unsigned int type, uint32_t value, uint64_t mask)
{
	struct hrservo_event_data *ev = &fk->ev[fk->nev];

	ev->timestamp_ns = mono_ns();
	ev->type = type;
	ev->value = value;
	ev->mask = mask;
	ev->seq = ++fk->nev;
	if (write(fake_evpipe[1], "e", 1) != 1)
		abort();
}

static int fake_estop(struct hrservo *h, int op, int action,
		      struct hrservo_estop_info *info)
{
	if (!fk->has_estop) {
		errno = ENOTSUP;
		return -1;
	}
	if (op != HRSERVO_ESTOP_OP_GET && fk->readonly) {
		errno = EBADF;
		return -1;
	}
	if (op == HRSERVO_ESTOP_OP_TRIP && !fk->latched) {
		fk->latched = true;
		fk->source = HRSERVO_ESTOP_BY_USER;
		fk->tripped_ns = mono_ns();
		fk->action = action;
		fk->trips++;
		if (action == HRSERVO_FS_RELEASE)
			for (unsigned int c = 0; c < NCH; c++)
				fk->enabled[c] = false, fk->pulse[c] = 0;
	}
	if (op == HRSERVO_ESTOP_OP_CLEAR) {
		if (fk->input_active) {
			errno = EBUSY;
			return -1;
		}
		fk->latched = false;
		fk->clears++;
	}
	info->latched = fk->latched;
	info->has_input = fk->input;
	info->input_active = fk->input_active;
	info->source = fk->source;
	info->tripped_ns = fk->tripped_ns;
	return 0;
}

static int fake_watchdog(struct hrservo *h, unsigned int timeout_ms,
			 int action, const struct hrservo_target_item *pose,
			 size_t npose)
{
	fk->wd_calls++;
	fk->wd_timeout = timeout_ms;
	fk->wd_action = action;
	fk->wd_npose = npose;
	if (npose)
		memcpy(fk->wd_pose, pose, npose * sizeof(*pose));
	return 0;
}

static int fake_keepalive(struct hrservo *h)
{
	fk->keepalives++;
	return 0;
}

/* As HRSERVO_IOC_GET_FRAMES, over fk->frame. */
static int fake_read_frames(struct hrservo *h, uint64_t seq,
			    struct hrservo_frame_data *out, size_t room,
			    size_t *count, uint64_t *next_seq)
{
	uint64_t oldest, from;
	size_t n = 0;

	if (!fk->has_frames) {
		errno = ENOTSUP;
		return -1;
	}
	fk->frame_calls++;
	if (fk->frame_calls == fk->fail_at) {
		errno = ENODEV;
		return -1;
	}
	if (room > fk->max_room)
		fk->max_room = room;
	fk->played += fk->per_call;
	if (fk->realtime)
		while (fk->played < fk->nframes &&
		       fk->frame[fk->played].start_ns <= mono_ns())
			fk->played++;
	if (fk->frame_calls == fk->jump_at)
		fk->played += fk->jump;
	if (fk->played > fk->nframes)
		fk->played = fk->nframes;
	if (fk->removed_at_end && fk->played == fk->nframes &&
	    seq > fk->played) {
		errno = ENODEV;
		return -1;
	}
	oldest = fk->played > FAKE_KEPT ? fk->played - FAKE_KEPT + 1 : 1;
	from = seq > oldest ? seq : oldest;
	for (; fk->played && from <= fk->played && n < room; from++)
		out[n++] = fk->frame[from - 1];
	*count = n;
	*next_seq = n ? out[n - 1].seq + 1 : seq;
	return 0;
}

/* Frames 1..@n, @period_ns apart from @start_ns, none active yet. */
static void fake_frames(uint64_t n, uint64_t start_ns, uint32_t period_ns)
{
	fk->has_frames = true;
	fk->nframes = n;
	for (uint64_t k = 0; k < n; k++) {
		struct hrservo_frame_data *f = &fk->frame[k];

		memset(f, 0, sizeof(*f));
		f->seq = k + 1;
		f->start_ns = start_ns + k * period_ns;
		f->period_ns = period_ns;
	}
}

/* Channel @ch of frames [@from, @to) (seq - 1) at @ns + @step each frame. */
static void fake_pulses(unsigned int ch, uint64_t from, uint64_t to,
			uint32_t ns, int32_t step)
{
	for (uint64_t k = from; k < to; k++) {
		fk->frame[k].active |= 1ULL << ch;
		fk->frame[k].pulse_ns[ch] = ns + (uint32_t)((int64_t)step *
							    (int64_t)(k - from));
	}
}

static int fake_traj_submit(struct hrservo *h,
			    const struct hrservo_seg_item *segs, size_t n,
			    const int64_t *coefs, size_t ncoefs,
			    unsigned int flags, uint64_t at_ns)
{
	if (fk->latched) {
		errno = EPERM;
		return -1;
	}
	if (n > FAKE_SEGS || ncoefs > sizeof(fk->coef) / sizeof(fk->coef[0])) {
		errno = ENOSPC;
		return -1;
	}
	fk->submits++;
	fk->nseg = n;
	fk->ncoef = ncoefs;
	for (size_t i = 0; i < n; i++) {
		fk->seg_ns[i] = segs[i].duration_ns;
		fk->seg_mask[i] = segs[i].mask;
	}
	memcpy(fk->coef, coefs, ncoefs * sizeof(*coefs));
	return 0;
}

static int fake_traj_stop(struct hrservo *h)
{
	fk->stops++;
	return 0;
}

static const struct hrservo_backend fake_backend = {
	.name = "fake",
	.traj_stop = fake_traj_stop,
	.traj_submit = fake_traj_submit,
	.estop = fake_estop,
	.watchdog = fake_watchdog,
	.keepalive = fake_keepalive,
	.read_frames = fake_read_frames,
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
	fk->has_estop = true;
	if (fake_evpipe[0] < 0 && pipe2(fake_evpipe, O_NONBLOCK))
		abort();
	/* Bytes of events another test queued and no one read. */
	while (read(fake_evpipe[0], path, sizeof(path)) > 0)
		;
	/* Each test is a process of its own: its pid names its directory. */
	snprintf(dir, sizeof(dir), "%s/%d.%u", base, (int)getpid(), ndirs++);
	if (mkdir(dir, 0700))
		abort();
	snprintf(path, sizeof(path), "%s/robot.conf", dir);
	setenv("HRSERVO_CALIBRATION", path, 1);
	setenv("HRSERVO_SYSFS_CLASS", dir, 1);	/* it exists: "loaded" */
	unsetenv("XDG_CONFIG_HOME");
}

static char *path_of(const char *name)
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
	/* The fake's ops: no frame period to set, no feedback. */
	EXPECT_NE(NULL, strstr(r.out, "resolution:    1ns\ncapabilities: events traj motion-limits atomic-batch watchdog estop frame-record rt-timing\n"))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "i2c:           bus 3 (SMBus stub driver), address 0x40, client hrservo-pca9685\n"))
		TH_LOG("%s", r.out);
	SERVOCTL(&r, "--json", "info", "hrservo0");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "\"capabilities\": [\n    \"events\",\n    \"traj\","))
		TH_LOG("%s", r.out);
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

/* ---- the e-stop latch ---- */

#define LATCHED_MSG "e-stop is latched: nothing moves until 'servoctl estop --clear hrservo0'"

TEST(estop_trips_refuses_every_move_and_clears)
{
	struct run r;
	struct pty t;
	int status;

	setup();
	fk->enabled[0] = true;
	fk->target[0] = fk->pulse[0] = 1500000;
	SERVOCTL(&r, "estop", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("hrservo0: e-stop latched: every channel holds; nothing moves until 'servoctl estop --clear hrservo0'\n",
		     r.out);
	EXPECT_TRUE(fk->latched);
	EXPECT_EQ(HRSERVO_FS_HOLD, fk->action);
	EXPECT_TRUE(fk->enabled[0]);	/* held, not released */
	EXPECT_EQ(0, fk->releases);

	/* Every command that moves says why, the same way. */
	SERVOCTL(&r, "set", "hrservo0", "0=1600us");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: set: hrservo0: " LATCHED_MSG "\n", r.err);
	EXPECT_EQ(1500000, fk->target[0]);
	SERVOCTL(&r, "move", "--time", "0.5", "hrservo0", "0=1600us");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: move: hrservo0: " LATCHED_MSG "\n", r.err);
	put_file("t.csv", "t_s,ch0_us\n0,1500\n0.5,1600\n");
	SERVOCTL(&r, "traj", "upload", path_of("t.csv"), "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: traj: hrservo0: " LATCHED_MSG "\n", r.err);
	EXPECT_EQ(0, fk->submits);
	/* jog says it before it takes the terminal. */
	ASSERT_EQ(0, pty_start(&t, (char *[]){ "calibrate", "jog", "--from",
					       "1500us", "hrservo0", "2", NULL }));
	EXPECT_EQ(1, pty_wait(&t, 0, "servoctl: calibrate: hrservo0: " LATCHED_MSG,
			      10000)) TH_LOG("%s", t.screen);
	status = pty_finish(&t);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	EXPECT_EQ(0, fk->applies);
	EXPECT_FALSE(fk->enabled[2]);
	/* Release is no move: it works, latched or not. */
	SERVOCTL(&r, "release", "hrservo0", "0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_FALSE(fk->enabled[0]);

	/* The state, as estop --status and info show it. */
	fk->tripped_ns = mono_ns() - 5500000000ULL;
	SERVOCTL(&r, "estop", "--status", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("estop:         latched (by user, 5 s ago)\nestop input:   none\n",
		     r.out);
	SERVOCTL(&r, "info", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "\nestop:         latched (by user, 5 s ago)\nestop input:   none\n"))
		TH_LOG("%s", r.out);
	SERVOCTL(&r, "--json", "estop", "--status", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "\"latched\": true,\n  \"source\": \"user\",\n  \"tripped_ns\": "))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"input\": \"none\",\n  \"controller\": \"hrservo0\"\n"))
		TH_LOG("%s", r.out);
	SERVOCTL(&r, "--json", "info", "hrservo0");
	EXPECT_NE(NULL, strstr(r.out, "\"estop\": {\n    \"latched\": true,\n    \"source\": \"user\","))
		TH_LOG("%s", r.out);

	/* Tripped again with --release: the channels go limp all the same. */
	fk->enabled[3] = true;
	fk->target[3] = fk->pulse[3] = 1500000;
	SERVOCTL(&r, "estop", "--release", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("hrservo0: e-stop was latched (by user, 5 s ago) already; every channel released\n",
		     r.out);
	EXPECT_EQ(1, fk->trips);
	EXPECT_EQ(0xffULL, fk->released);
	EXPECT_FALSE(fk->enabled[3]);

	/* The button still pressed: not cleared. */
	fk->input = fk->input_active = true;
	fk->source = HRSERVO_ESTOP_BY_INPUT;
	SERVOCTL(&r, "estop", "--status", "hrservo0");
	EXPECT_STREQ("estop:         latched (by input, 5 s ago)\nestop input:   active\n",
		     r.out);
	SERVOCTL(&r, "estop", "--clear", "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: estop: hrservo0: the e-stop input is active: release the e-stop button first\n",
		     r.err);
	EXPECT_TRUE(fk->latched);
	fk->input_active = false;
	SERVOCTL(&r, "estop", "--clear", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("hrservo0: e-stop cleared; nothing moved: the channels are as the failsafe left them\n",
		     r.out);
	EXPECT_FALSE(fk->latched);
	EXPECT_EQ(0, fk->applies);
	SERVOCTL(&r, "estop", "--status", "hrservo0");
	EXPECT_STREQ("estop:         clear\nestop input:   inactive\n", r.out);
	SERVOCTL(&r, "estop", "--clear", "hrservo0");
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("hrservo0: e-stop was not latched\n", r.out);
	SERVOCTL(&r, "set", "hrservo0", "0=1600us");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(1600000, fk->target[0]);
}

TEST(estop_options_controllers_and_old_drivers)
{
	struct run r;

	setup();
	SERVOCTL(&r, "estop");
	EXPECT_EQ(2, r.status);
	SERVOCTL(&r, "estop", "--clear", "--status", "hrservo0");
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("servoctl: estop: --clear and --status: choose one\n", r.err);
	SERVOCTL(&r, "estop", "--release", "--clear", "hrservo0");
	EXPECT_EQ(2, r.status);
	SERVOCTL(&r, "estop", "--status", "hrservo0", "hrservo0");
	EXPECT_EQ(2, r.status);
	SERVOCTL(&r, "--json", "estop", "hrservo0");
	EXPECT_EQ(2, r.status);
	EXPECT_FALSE(fk->latched);

	/* A bad controller does not keep the others from being tripped. */
	SERVOCTL(&r, "estop", "--release", "hrservo9", "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "hrservo9: no such controller")) TH_LOG("%s", r.err);
	EXPECT_TRUE(fk->latched);
	EXPECT_EQ(HRSERVO_FS_RELEASE, fk->action);
	EXPECT_STREQ("hrservo0: e-stop latched: every channel released; nothing moves until 'servoctl estop --clear hrservo0'\n",
		     r.out);

	/* Nor does a calibration file that does not load. */
	fk->latched = false;
	put_file("robot.conf", "[joint x\n");
	SERVOCTL(&r, "estop", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_TRUE(fk->latched);
	unlink(getenv("HRSERVO_CALIBRATION"));

	/* Read-only: say what is missing. */
	fk->readonly = true;
	SERVOCTL(&r, "estop", "--clear", "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: estop: hrservo0: clearing the e-stop needs write access to the controller, and it is open read-only (no permission): use sudo, or the udev rule's group\n",
		     r.err);
	EXPECT_TRUE(fk->latched);
	fk->readonly = false;

	/* No latch: what can be done is done, and the exit says it was not all. */
	fk->has_estop = false;
	fk->latched = false;
	SERVOCTL(&r, "estop", "--release", "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: estop: hrservo0: no e-stop latch (a driver before ABI version 4, or a backend without one): its trajectory was stopped and every channel released, but nothing is latched: anything may move it again\n",
		     r.err);
	EXPECT_EQ(1, fk->stops);
	EXPECT_EQ(0xffULL, fk->released);
	SERVOCTL(&r, "estop", "--status", "hrservo0");
	EXPECT_EQ(1, r.status);
	SERVOCTL(&r, "info", "hrservo0");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "estop:         no e-stop latch (a driver before ABI version 4, or a backend without one)\n"))
		TH_LOG("%s", r.out);
	SERVOCTL(&r, "--json", "info", "hrservo0");
	EXPECT_NE(NULL, strstr(r.out, "\"estop\": null")) TH_LOG("%s", r.out);
}

/* monitor: the watchdog and e-stop events, as lines and as JSON. */
TEST(monitor_prints_safety_events)
{
	struct run r;
	char *p;

	setup();
	fake_event(HRSERVO_EV_WATCHDOG, HRSERVO_EV_WATCHDOG_EXPIRED, 0x3);
	fake_event(HRSERVO_EV_ESTOP, HRSERVO_ESTOP_BY_INPUT, 0x3);
	fake_event(HRSERVO_EV_ESTOP, 0, 0);
	fake_event(HRSERVO_EV_WATCHDOG, HRSERVO_EV_WATCHDOG_CLOSED, 0x4);
	/* --count counts channel changes only: one, after the events. */
	fk->drift = 1000;
	fk->target[7] = 1000000;
	SERVOCTL(&r, "--no-calibration", "monitor", "--count", "1", "--rate",
		 "0", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	p = strstr(r.out, " hrservo0 watchdog expired channels=0x3\n");
	ASSERT_NE(NULL, p) TH_LOG("%s", r.out);
	p = strstr(p, " hrservo0 estop tripped by input channels=0x3\n");
	ASSERT_NE(NULL, p) TH_LOG("%s", r.out);
	p = strstr(p, " hrservo0 estop cleared\n");
	ASSERT_NE(NULL, p) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(p, " hrservo0 watchdog closed channels=0x4\n")) TH_LOG("%s", r.out);

	/* A latch set already is in the state shown first. */
	fk->latched = true;
	fk->source = HRSERVO_ESTOP_BY_USER;
	fk->tripped_ns = 123456789000ULL;
	fake_event(HRSERVO_EV_WATCHDOG, HRSERVO_EV_WATCHDOG_CLOSED, 0x5);
	SERVOCTL(&r, "--json", "--no-calibration", "monitor", "--count", "1",
		 "--rate", "0", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, strncmp(r.out, "{\"event\":\"estop\",\"state\":\"latched\",\"source\":\"user\",\"mask\":0,\"time\":123.456789}\n",
			     strlen("{\"event\":\"estop\",\"state\":\"latched\",\"source\":\"user\",\"mask\":0,\"time\":123.456789}\n")))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "{\"event\":\"watchdog\",\"reason\":\"closed\",\"mask\":5,\"time\":"))
		TH_LOG("%s", r.out);
}

/* ---- the library's frame record and watchdog, over the fake ---- */

TEST(read_frames_loops_and_counts_the_lost)
{
	struct hrservo_frame_data *out = calloc(700, sizeof(*out));
	uint64_t next, lost;
	struct hrservo *h;
	size_t n;

	setup();
	ASSERT_NE(NULL, out);
	fake_frames(FAKE_FRAMES, 1000000000ULL, 20000000);
	fk->played = 1000;	/* 489..1000 kept */
	h = hrservo_open("hrservo0");
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, hrservo_read_frames(h, 0, out, 700, &n, &next, &lost));
	EXPECT_EQ(512, n);
	EXPECT_EQ(489, out[0].seq);
	EXPECT_EQ(1000, out[511].seq);
	EXPECT_EQ(1001, next);
	EXPECT_EQ(0, lost);
	/* In calls of at most 64, the kernel's bound; the last finds no more. */
	EXPECT_EQ(64, fk->max_room);
	EXPECT_EQ(9, fk->frame_calls);
	EXPECT_EQ(1000000000ULL + 488 * 20000000ULL, out[0].start_ns);

	/* Asked for frames no longer kept: they are lost. */
	ASSERT_EQ(0, hrservo_read_frames(h, 100, out, 10, &n, &next, &lost));
	EXPECT_EQ(10, n);
	EXPECT_EQ(489, out[0].seq);
	EXPECT_EQ(389, lost);
	EXPECT_EQ(499, next);
	/* Caught up: nothing, and next stays. */
	ASSERT_EQ(0, hrservo_read_frames(h, 1001, out, 10, &n, &next, NULL));
	EXPECT_EQ(0, n);
	EXPECT_EQ(1001, next);

	/* The controller plays on between two calls of one read. */
	fk->played = 600;	/* 89..600 */
	fk->jump_at = fk->frame_calls + 2;
	fk->jump = 600;		/* 689..1200 at the second call */
	ASSERT_EQ(0, hrservo_read_frames(h, 89, out, 128, &n, &next, &lost));
	EXPECT_EQ(128, n);
	EXPECT_EQ(152, out[63].seq);
	EXPECT_EQ(689, out[64].seq);
	EXPECT_EQ(689 - 153, lost);
	EXPECT_EQ(753, next);

	/* A later call fails: what came before it is returned. */
	fk->fail_at = fk->frame_calls + 2;
	ASSERT_EQ(0, hrservo_read_frames(h, 753, out, 512, &n, &next, &lost));
	EXPECT_EQ(64, n);
	EXPECT_EQ(817, next);
	fk->fail_at = fk->frame_calls + 1;
	EXPECT_EQ(-1, hrservo_read_frames(h, next, out, 512, &n, &next, &lost));
	EXPECT_EQ(ENODEV, errno);

	errno = 0;
	EXPECT_EQ(-1, hrservo_read_frames(h, 0, out, 0, &n, &next, &lost));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, hrservo_read_frames(h, 0, NULL, 1, &n, &next, &lost));
	EXPECT_EQ(-1, hrservo_read_frames(h, 0, out, 1, NULL, &next, &lost));
	fk->has_frames = false;
	EXPECT_EQ(-1, hrservo_read_frames(h, 0, out, 1, &n, &next, &lost));
	EXPECT_EQ(ENOTSUP, errno);
	hrservo_close(h);
	free(out);
}

static const struct hrservo_backend bare_backend = { .name = "bare" };

TEST(watchdog_arm_checks_before_the_backend)
{
	struct hrservo bare = { .be = &bare_backend, .nch = 8 };
	struct hrservo_batch *b = hrservo_batch_new(), *empty = hrservo_batch_new();
	struct hrservo_estop_info e;
	struct hrservo_frame_data f;
	uint64_t next;
	struct hrservo *h;
	size_t n;

	setup();
	h = hrservo_open("hrservo0");
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, hrservo_batch_add(b, 1, 1500000));
	ASSERT_EQ(0, hrservo_batch_add(b, 3, 1200000));
	EXPECT_EQ(-1, hrservo_watchdog_arm(h, 9, HRSERVO_FS_HOLD, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, hrservo_watchdog_arm(h, 60001, HRSERVO_FS_HOLD, NULL));
	EXPECT_EQ(-1, hrservo_watchdog_arm(h, 100, 3, NULL));
	EXPECT_EQ(-1, hrservo_watchdog_arm(h, 100, -1, NULL));
	EXPECT_EQ(-1, hrservo_watchdog_arm(h, 100, HRSERVO_FS_POSE, NULL));
	EXPECT_EQ(-1, hrservo_watchdog_arm(h, 100, HRSERVO_FS_HOLD, b));
	EXPECT_EQ(-1, hrservo_watchdog_arm(h, 100, HRSERVO_FS_POSE, empty));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, fk->wd_calls);

	ASSERT_EQ(0, hrservo_watchdog_arm(h, 10, HRSERVO_FS_RELEASE, NULL));
	EXPECT_EQ(10, fk->wd_timeout);
	EXPECT_EQ(HRSERVO_FS_RELEASE, fk->wd_action);
	EXPECT_EQ(0, fk->wd_npose);
	ASSERT_EQ(0, hrservo_watchdog_arm(h, 60000, HRSERVO_FS_POSE, b));
	EXPECT_EQ(60000, fk->wd_timeout);
	EXPECT_EQ(HRSERVO_FS_POSE, fk->wd_action);
	ASSERT_EQ(2, fk->wd_npose);
	EXPECT_EQ(3, fk->wd_pose[1].channel);
	EXPECT_EQ(1200000, fk->wd_pose[1].pulse_ns);
	/* Disarming looks at nothing else. */
	ASSERT_EQ(0, hrservo_watchdog_arm(h, 0, 42, empty));
	EXPECT_EQ(0, fk->wd_timeout);
	EXPECT_EQ(HRSERVO_FS_HOLD, fk->wd_action);
	EXPECT_EQ(0, fk->wd_npose);
	EXPECT_EQ(3, fk->wd_calls);
	/* A pose channel the controller does not have. */
	ASSERT_EQ(0, hrservo_batch_add(b, 8, 1500000));
	EXPECT_EQ(-1, hrservo_watchdog_arm(h, 100, HRSERVO_FS_POSE, b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(3, fk->wd_calls);
	ASSERT_EQ(0, hrservo_keepalive(h));
	EXPECT_EQ(1, fk->keepalives);

	EXPECT_EQ(-1, hrservo_estop_trip(h, HRSERVO_FS_POSE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_FALSE(fk->latched);
	EXPECT_EQ(-1, hrservo_estop_get(h, NULL));
	EXPECT_EQ(EINVAL, errno);

	/* A backend without the ops: ENOTSUP, whatever the arguments. */
	errno = 0;
	EXPECT_EQ(-1, hrservo_watchdog_arm(&bare, 100, HRSERVO_FS_HOLD, NULL));
	EXPECT_EQ(ENOTSUP, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_keepalive(&bare));
	EXPECT_EQ(ENOTSUP, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_estop_get(&bare, &e));
	EXPECT_EQ(ENOTSUP, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_estop_trip(&bare, HRSERVO_FS_HOLD));
	EXPECT_EQ(ENOTSUP, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_estop_clear(&bare));
	EXPECT_EQ(ENOTSUP, errno);
	errno = 0;
	EXPECT_EQ(-1, hrservo_read_frames(&bare, 0, &f, 1, &n, &next, NULL));
	EXPECT_EQ(ENOTSUP, errno);
	hrservo_batch_free(b);
	hrservo_batch_free(empty);
	hrservo_close(h);
}

/* ---- record ---- */

/* The file's text, whole (file_text() stops at 8 KiB). */
static char *whole_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		return strdup("");
	if (getdelim(&buf, &n, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

/* What record writes before the rows, for FILE (NULL: stdout). */
static void rec_header(char *buf, size_t size, const char *file,
		       const char *columns)
{
	snprintf(buf, size,
		 "# servoctl record hrservo0: the frames it played, from its frame record\n"
		 "# t_s: each frame's scheduled start, from the first; widths as emitted\n"
		 "# replay: servoctl traj upload %s hrservo0 (frame-exact within the backend's resolution)\n"
		 "# interp: linear\n"
		 "%s\n", file ? file : "FILE", columns);
}

/* Rows of frames [@from, @to) (seq - 1) of channels 0 and 2, from @from's. */
static void rec_rows(char *buf, size_t size, uint64_t from, uint64_t to)
{
	size_t len = strlen(buf);

	for (uint64_t k = from; k < to; k++) {
		uint64_t dt = fk->frame[k].start_ns - fk->frame[from].start_ns;

		len += (size_t)snprintf(buf + len, size - len,
					"%llu.%09llu,%u,%u\n",
					(unsigned long long)(dt / 1000000000ULL),
					(unsigned long long)(dt % 1000000000ULL),
					fk->frame[k].pulse_ns[0],
					fk->frame[k].pulse_ns[2]);
	}
}

TEST(record_writes_the_frames_exactly)
{
	char expect[8192], *text;
	struct hrservo_traj *t;
	char *file;
	struct run r;
	double tt, pos[2];

	setup();
	/* 20 ms frames whose start is not a round number, odd widths. */
	fake_frames(100, 5123456789ULL, 20000000);
	fake_pulses(0, 0, 100, 1500000, 1);
	fake_pulses(2, 0, 100, 1200000, 1007);
	/*
	 * 5 frames played before; each read plays 3 more: the newest when it
	 * starts is frame 8 (index 7), where the recording starts.
	 */
	fk->played = 5;
	fk->per_call = 3;
	file = path_of("rec.csv");
	SERVOCTL(&r, "--no-calibration", "record", "-o", file, "--duration",
		 "0.1", "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("recorded 6 frames (0.100 s), lost 0\n", r.err);
	rec_header(expect, sizeof(expect), file, "t_s,ch0_ns,ch2_ns");
	rec_rows(expect, sizeof(expect), 7, 13);
	text = whole_file(file);
	EXPECT_STREQ(expect, text);
	free(text);

	/* It loads back as it was: the same times and widths, linear. */
	t = hrservo_traj_load_csv(file, expect, sizeof(expect));
	ASSERT_NE(NULL, t) TH_LOG("%s", expect);
	EXPECT_EQ(HRSERVO_INTERP_LINEAR, hrservo_traj_interp(t));
	ASSERT_EQ(6, hrservo_traj_num_waypoints(t));
	EXPECT_EQ(2, hrservo_traj_channel(t, 1));
	for (size_t k = 0; k < 6; k++) {
		ASSERT_EQ(0, hrservo_traj_waypoint(t, k, &tt, pos));
		EXPECT_EQ((long long)(k * 20000000), llround(tt * 1e9));
		EXPECT_EQ(fk->frame[7 + k].pulse_ns[0], pos[0]);
		EXPECT_EQ(fk->frame[7 + k].pulse_ns[2], pos[1]);
	}
	hrservo_traj_free(t);

	/* To stdout without -o; the same rows. */
	fk->played = 5;
	fk->frame_calls = 0;
	SERVOCTL(&r, "--no-calibration", "record", "--duration", "0.1",
		 "hrservo0", "0", "2");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	rec_header(expect, sizeof(expect), NULL, "t_s,ch0_ns,ch2_ns");
	rec_rows(expect, sizeof(expect), 7, 13);
	EXPECT_STREQ(expect, r.out);
}

/* Replayed, every frame's widths are the segments' starts, frame by frame. */
TEST(record_replays_frame_exact_through_traj_upload)
{
	char *file;
	struct run r;

	setup();
	fake_frames(100, 777000001ULL, 20000000);
	fake_pulses(0, 0, 100, 1500000, 3);
	fake_pulses(2, 0, 100, 1200000, -1001);
	fk->played = 5;
	fk->per_call = 3;
	file = path_of("rec.csv");
	SERVOCTL(&r, "--no-calibration", "record", "-o", file, "--duration",
		 "1", "hrservo0");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("recorded 51 frames (1.000 s), lost 0\n", r.err);
	fk->enabled[0] = fk->enabled[2] = true;
	fk->target[0] = fk->frame[7].pulse_ns[0];
	fk->target[2] = fk->frame[7].pulse_ns[2];
	SERVOCTL(&r, "--no-calibration", "traj", "upload", file, "hrservo0");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(1, fk->submits);
	ASSERT_EQ(50, fk->nseg);
	ASSERT_EQ(50 * 2 * 6, fk->ncoef);
	for (size_t i = 0; i < 50; i++) {
		EXPECT_EQ(20000000, fk->seg_ns[i]);
		EXPECT_EQ(0x5, fk->seg_mask[i]);
		for (unsigned int a = 0; a < 2; a++) {
			const int64_t *c = &fk->coef[(i * 2 + a) * 6];
			unsigned int ch = a ? 2 : 0;
			int64_t p0 = fk->frame[7 + i].pulse_ns[ch];
			int64_t p1 = fk->frame[8 + i].pulse_ns[ch];

			/* At each frame start, the recorded width; lines between. */
			EXPECT_EQ(p0 * 65536, c[0]);
			EXPECT_EQ((p1 - p0) * 65536, c[1]);
			EXPECT_EQ(0, c[2] | c[3] | c[4] | c[5]);
		}
	}
}

TEST(record_says_how_many_frames_it_lost)
{
	char *text, *p, *q;
	char *file;
	struct run r;

	setup();
	fake_frames(2000, 1000000000ULL, 20000000);
	fake_pulses(0, 0, 2000, 1500000, 0);
	fk->played = 5;
	fk->per_call = 3;
	/*
	 * Reads 1-3 take frames 1..14; at the fourth the controller has
	 * played 700 more: it keeps 206..717, so 15..205 are lost.
	 */
	fk->jump_at = 4;
	fk->jump = 700;
	file = path_of("rec.csv");
	SERVOCTL(&r, "--no-calibration", "record", "-o", file, "--duration",
		 "10", "hrservo0");
	EXPECT_EQ(1, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("servoctl: record: hrservo0: fell behind: 191 frames lost before t=3.960000000 s (the controller keeps its last 512); recording goes on\n"
		     "recorded 310 frames (10.000 s), lost 191\n", r.err);
	/* The file goes on over the gap: one interval of 192 frames. */
	text = whole_file(file);
	p = strstr(text, "\n0.120000000,1500000\n");
	ASSERT_NE(NULL, p) TH_LOG("%s", text);
	q = strchr(p + 1, '\n');
	EXPECT_EQ(0, strncmp(q, "\n3.960000000,1500000\n", 21)) TH_LOG("%.60s", q);
	EXPECT_NE(NULL, strstr(text, "\n10.000000000,1500000\n"));
	free(text);
}

TEST(record_waits_for_its_channels_and_ends_at_a_release)
{
	char expect[8192], *text;
	char *file;
	struct run r;

	setup();
	fake_frames(100, 1000000000ULL, 20000000);
	fake_pulses(0, 0, 100, 1500000, 10);
	fake_pulses(2, 20, 26, 1000000, 10);	/* on at frame 21, off at 27 */
	fk->played = 5;
	fk->per_call = 3;
	file = path_of("rec.csv");
	SERVOCTL(&r, "--no-calibration", "record", "-o", file, "hrservo0", "0",
		 "2");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("servoctl: record: hrservo0: waiting until channel 0 and channel 2 have a pulse\n"
		     "servoctl: record: hrservo0: channel 2 lost its pulse (released) at t=0.120000000 s: the recording ends there\n"
		     "recorded 6 frames (0.100 s), lost 0\n", r.err);
	rec_header(expect, sizeof(expect), file, "t_s,ch0_ns,ch2_ns");
	rec_rows(expect, sizeof(expect), 20, 26);
	text = whole_file(file);
	EXPECT_STREQ(expect, text);
	free(text);

	/*
	 * Without channels, those with a pulse in the newest frame (33: 0 and
	 * 1); a joint is named as a joint.
	 */
	put_file("robot.conf", robot_conf);
	fake_pulses(1, 0, 40, 1500000, 0);
	fk->played = 30;
	SERVOCTL(&r, "record", "-o", file, "hrservo0");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "servoctl: record: hrservo0: joint elbow (channel 1) lost its pulse (released) at t=0.160000000 s: the recording ends there\n"))
		TH_LOG("%s", r.err);
	text = whole_file(file);
	EXPECT_NE(NULL, strstr(text, "\nt_s,ch0_ns,elbow_deg\n0.000000000,1500320,0\n"))
		TH_LOG("%s", text);
	free(text);
	/* No channel with a pulse, none named: what to record? */
	for (unsigned int k = 90; k < 100; k++)
		fk->frame[k].active = 0;
	fk->played = 100;
	SERVOCTL(&r, "--no-calibration", "record", "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: record: hrservo0: no channel has a pulse: name the channels (or joints) to record; recording starts once they all have one\n",
		     r.err);
}

TEST(record_in_joints_round_trips_through_the_calibration)
{
	struct hrservo_calib *c;
	struct hrservo_traj *t;
	char msg[512], *text;
	char *file;
	struct run r;

	setup();
	put_file("robot.conf", robot_conf);
	fake_frames(100, 1000000000ULL, 20000000);
	fake_pulses(0, 0, 100, 1500000, 7);
	/* elbow: -90:1000us 90:2000us, soft -45..60; 1500us is 0 deg */
	fake_pulses(1, 0, 100, 1500000, 12345);
	/* shoulder: a cubic map, soft -100..120 deg */
	fake_pulses(3, 0, 100, 1100001, 3333);
	fk->played = 5;
	fk->per_call = 3;
	file = path_of("rec.csv");
	SERVOCTL(&r, "record", "-o", file, "--duration", "0.2", "arm", "0",
		 "elbow", "3");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	text = whole_file(file);
	/*
	 * From frame 8: the elbow at 1586.415us is 15.5547 deg, 12.345us a
	 * frame is 2.2221 deg: the fewest decimals that give the width back,
	 * not the map's inverse to 17 digits.
	 */
	EXPECT_NE(NULL, strstr(text, "# interp: linear\nt_s,ch0_ns,elbow_deg,shoulder_deg\n"
			       "0.000000000,1500049,15.5547,-84.7503\n"
			       "0.020000000,1500056,17.7768,-84.000375\n"))
		TH_LOG("%s", text);
	free(text);
	c = hrservo_calib_load(getenv("HRSERVO_CALIBRATION"), msg, sizeof(msg));
	ASSERT_NE(NULL, c) TH_LOG("%s", msg);
	t = hrservo_traj_load_csv_calib(file, c, "hrservo0", msg, sizeof(msg));
	ASSERT_NE(NULL, t) TH_LOG("%s", msg);
	ASSERT_EQ(11, hrservo_traj_num_waypoints(t));
	ASSERT_EQ(3, hrservo_traj_num_axes(t));
	for (size_t k = 0; k < 11; k++) {
		double tt, pos[3];

		ASSERT_EQ(0, hrservo_traj_waypoint(t, k, &tt, pos));
		/* To 1/65536 ns, what the upload sends: the same widths. */
		for (unsigned int a = 0; a < 3; a++) {
			unsigned int ch = hrservo_traj_channel(t, a);

			EXPECT_EQ((long long)fk->frame[7 + k].pulse_ns[ch] * 65536,
				  llround(pos[a] * 65536.0)) {
				TH_LOG("waypoint %zu channel %u: %.9f", k, ch,
				       pos[a]);
			}
		}
	}
	hrservo_traj_free(t);
	hrservo_calib_free(c);

	/* Beyond a soft limit: a file cannot hold it; the recording ends. */
	fk->frame[12].pulse_ns[1] = 1900000;	/* 72 deg, above 60 */
	fk->played = 5;
	SERVOCTL(&r, "record", "-o", file, "arm", "0", "elbow");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: record: hrservo0: joint elbow at t=0.100000000 s: 1900us is outside its calibrated soft limits, which a trajectory file cannot hold: the recording ends there (record with --no-calibration for widths)\n"
		     "recorded 5 frames (0.080 s), lost 0\n", r.err);
	t = hrservo_traj_load_csv_calib(file, c = hrservo_calib_load(getenv("HRSERVO_CALIBRATION"), msg, sizeof(msg)),
					"hrservo0", msg, sizeof(msg));
	EXPECT_NE(NULL, t) TH_LOG("%s", msg);
	EXPECT_EQ(5, hrservo_traj_num_waypoints(t));
	hrservo_traj_free(t);
	hrservo_calib_free(c);
}

TEST(record_ends_cleanly_on_sigint_and_on_removal)
{
	struct hrservo_traj *t;
	char msg[512], *text;
	char *file;
	struct run r;
	uint64_t sig_ns, k;
	double tt, pos[1];
	size_t n;
	int status;
	pid_t pid;

	setup();
	fake_frames(20, 1000000000ULL, 20000000);
	fake_pulses(0, 0, 20, 1500000, 100);
	fk->played = 5;
	fk->per_call = 3;
	fk->removed_at_end = true;
	file = path_of("rec.csv");
	SERVOCTL(&r, "--no-calibration", "record", "-o", file, "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: record: hrservo0: controller removed: the recording ends there\n"
		     "recorded 13 frames (0.240 s), lost 0\n", r.err);
	t = hrservo_traj_load_csv(file, msg, sizeof(msg));
	ASSERT_NE(NULL, t) TH_LOG("%s", msg);
	EXPECT_EQ(13, hrservo_traj_num_waypoints(t));
	hrservo_traj_free(t);

	/*
	 * 400 Hz frames as time goes, until Ctrl-C: every frame until the
	 * signal, the file whole.
	 */
	fake_frames(FAKE_FRAMES, mono_ns() - 10000000, 2500000);
	fake_pulses(0, 0, FAKE_FRAMES, 1500000, 1);
	fk->played = 0;
	fk->per_call = 0;
	fk->realtime = true;
	fk->frame_calls = 0;
	fk->removed_at_end = false;
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { "servoctl", "--no-calibration", "record", "-o",
				 (char *)file, "hrservo0", NULL };
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		optind = 0;
		exit(servoctl_main(6, argv));
	}
	for (int i = 0; i < 200 && fk->frame_calls < 8; i++)
		usleep(10000);
	usleep(30000);	/* into its 50 ms wait between two reads */
	sig_ns = mono_ns();
	kill(pid, SIGINT);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("%d", status);
	t = hrservo_traj_load_csv(file, msg, sizeof(msg));
	ASSERT_NE(NULL, t) TH_LOG("%s", msg);
	/*
	 * Consecutive frames from the newest at the start, the last one
	 * started before the signal or after: read once more at the end.
	 */
	n = hrservo_traj_num_waypoints(t);
	ASSERT_LE(2, n);
	ASSERT_EQ(0, hrservo_traj_waypoint(t, 0, &tt, pos));
	for (k = 0; k < fk->played; k++)
		if (fk->frame[k].pulse_ns[0] == (uint32_t)pos[0])
			break;
	ASSERT_LT(k + n, FAKE_FRAMES + 1);
	EXPECT_LE(sig_ns, fk->frame[k + n - 1].start_ns + 2500000)
		TH_LOG("the last frame recorded started %.1f ms before the signal",
		       (sig_ns - fk->frame[k + n - 1].start_ns) / 1e6);
	ASSERT_EQ(0, hrservo_traj_waypoint(t, n - 1, &tt, pos));
	EXPECT_EQ(fk->frame[k + n - 1].pulse_ns[0], pos[0]);
	EXPECT_EQ((long long)(n - 1) * 2500000, llround(tt * 1e9));
	hrservo_traj_free(t);
	text = whole_file(file);
	EXPECT_EQ('\n', text[strlen(text) - 1]);
	free(text);
}

TEST(record_refuses_what_it_cannot_do)
{
	struct run r;

	setup();
	SERVOCTL(&r, "record", "--duration", "0", "hrservo0");
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("servoctl: record: --duration: '0' is not a time in seconds (more than 0, at most 1e6)\n",
		     r.err);
	SERVOCTL(&r, "--json", "record", "hrservo0");
	EXPECT_EQ(2, r.status);
	SERVOCTL(&r, "record");
	EXPECT_EQ(2, r.status);
	SERVOCTL(&r, "record", "hrservo0", "9");
	EXPECT_EQ(2, r.status);
	SERVOCTL(&r, "record", "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: record: hrservo0: no frame record (a driver before ABI version 4, or a backend without one)\n",
		     r.err);
	fake_frames(10, 1000000000ULL, 20000000);
	fake_pulses(0, 0, 10, 1500000, 0);
	fk->played = 10;
	SERVOCTL(&r, "record", "-o", "/nonexistent/rec.csv", "hrservo0");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("servoctl: record: /nonexistent/rec.csv: No such file or directory\n",
		     r.err);
}

TEST_HARNESS_MAIN
