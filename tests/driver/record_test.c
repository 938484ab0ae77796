// SPDX-License-Identifier: GPL-2.0
/*
 * servoctl record and its replay: a recording has every frame the
 * controller played while it ran, with the kernel's frame times, and
 * `servoctl traj upload` of it replays the same widths frame by frame,
 * within the backend's resolution. On both backends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"

#define US	1000ULL
#define MS	1000000ULL
#define ROWS	400

static const char *servoctl(void)
{
	const char *s = getenv("HRSERVO_SERVOCTL");

	return s ? s : "servoctl";
}

/* Run servoctl with @argv (NULL-terminated, argv[0] left out). */
static pid_t spawn(char *const *args, const char *errfile)
{
	char *argv[16];
	pid_t pid;
	int i;

	argv[0] = (char *)servoctl();
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/*
 * The bound of a wait for servoctl: 60 s of guest time and 30 s of the
 * host's (tl_bound), within the tests' 900 s of guest time.
 */
#define WAIT_GUEST_NS	(60000 * MS)
#define WAIT_HOST_S	30
#define REC_TIMEOUT_S	900

/*
 * servoctl's exit status, or -1 if it did not end within the bound (then
 * it is killed): a hung servoctl fails its test with its own output
 * shown, not by the harness's timeout with nothing said, and leaves no
 * recorder behind on the next test's controller.
 */
static int wait_exit(pid_t pid)
{
	struct tl_bound b;
	pid_t got;
	int st;

	tl_bound_start(&b, WAIT_GUEST_NS, WAIT_HOST_S);
	while ((got = waitpid(pid, &st, WNOHANG)) == 0 && !tl_bound_passed(&b))
		tl_sleep_ns(10 * MS);
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	if (got != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void show(struct __test_metadata *_metadata, const char *path)
{
	char buf[2048];
	int n = tl_read(path, buf, sizeof(buf));

	if (n > 0)
		TH_LOG("%s", buf);
}

struct rec {
	size_t n;
	double t[ROWS];
	unsigned long w[ROWS][2];
};

/* Read a "t_s,ch0_ns,ch1_ns" recording; -1 if it is not one. */
static int load(const char *path, struct rec *r)
{
	FILE *f = fopen(path, "r");
	char line[256];
	bool header = false;

	if (!f)
		return -1;
	r->n = 0;
	while (fgets(line, sizeof(line), f) && r->n < ROWS) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!header) {
			header = !strncmp(line, "t_s,ch0_ns,ch1_ns", 17);
			if (!header)
				break;
			continue;
		}
		if (sscanf(line, "%lf,%lu,%lu", &r->t[r->n], &r->w[r->n][0],
			   &r->w[r->n][1]) != 3)
			break;
		r->n++;
	}
	fclose(f);
	return header && r->n ? 0 : -1;
}

static uint64_t diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

FIXTURE(rec) {
	struct tl_ctrl c;
	char dir[64];
	char csv[96];
	char err[96];
};

FIXTURE_SETUP(rec)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/record_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->csv, sizeof(self->csv), "%s/session.csv", self->dir);
	snprintf(self->err, sizeof(self->err), "%s/err", self->dir);
	ASSERT_EQ(0, tl_create(&self->c, 0, 2));
}

FIXTURE_TEARDOWN(rec)
{
	char cmd[160];

	EXPECT_EQ(0, tl_destroy(&self->c));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("could not remove %s", self->dir);
}

TEST_F_TIMEOUT(rec, records_every_frame_and_replays_it, REC_TIMEOUT_S)
{
	static struct hrservo_frame fr[1024];
	struct rec *r = calloc(1, sizeof(*r));
	struct hrservo_info info;
	char *args[12];
	uint64_t seq0, res;
	size_t nf, match = SIZE_MAX, best = 0;
	pid_t pid;

	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(0, ioctl(self->c.fd, HRSERVO_IOC_GET_INFO, &info));
	res = info.resolution_ns > 1 ? info.resolution_ns : 1;
	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1000 * US));
	ASSERT_EQ(0, tl_set1(self->c.fd, 1, 1500 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);

	/* Record 2 s while the widths change: steps, and a ramp. */
	args[0] = "--no-calibration";
	args[1] = "record";
	args[2] = "-o";
	args[3] = self->csv;
	args[4] = "--duration";
	args[5] = "2";
	args[6] = self->c.name;
	args[7] = "0";
	args[8] = "1";
	args[9] = NULL;
	pid = spawn(args, self->err);
	ASSERT_LT(0, pid);
	tl_sleep_ns(200 * MS);
	for (int i = 0; i < 60; i++) {
		ASSERT_EQ(0, tl_set1(self->c.fd, 0, (1000 + 10 * i) * US));
		if (i % 15 == 0)
			ASSERT_EQ(0, tl_set1(self->c.fd, 1,
					     (1500 + 20 * (i / 15)) * US));
		tl_sleep_ns(TL_FRAME_NS / 2 + (uint64_t)(i % 7) * MS);
	}
	ASSERT_EQ(0, wait_exit(pid))
		show(_metadata, self->err);
	show(_metadata, self->err);
	ASSERT_EQ(0, load(self->csv, r))
		show(_metadata, self->csv);

	/* About 2 s of frames, 20 ms apart exactly, none lost. */
	EXPECT_LE(95, r->n);
	EXPECT_GE(102, r->n);
	for (size_t k = 1; k < r->n; k++)
		EXPECT_EQ((long long)k * 20000000LL,
			  (long long)(r->t[k] * 1e9 + 0.5));
	/* They are the frames the controller played, as it played them. */
	nf = tl_frames(self->c.fd, 0, fr, 1024);
	ASSERT_LT(r->n, nf);
	for (size_t j = 0; j + r->n <= nf && match == SIZE_MAX; j++) {
		size_t k = 0;

		while (k < r->n && fr[j + k].pulse_ns[0] == r->w[k][0] &&
		       fr[j + k].pulse_ns[1] == r->w[k][1])
			k++;
		if (k == r->n)
			match = j;
	}
	ASSERT_NE(SIZE_MAX, match);
	seq0 = fr[match].seq;
	TH_LOG("recorded %zu frames from frame %llu: the kernel's, in order",
	       r->n, (unsigned long long)seq0);

	/* Replay: the same widths at every frame, within the resolution. */
	args[0] = "--no-calibration";
	args[1] = "traj";
	args[2] = "upload";
	args[3] = "--wait";
	args[4] = self->csv;
	args[5] = self->c.name;
	args[6] = NULL;
	seq0 = fr[nf - 1].seq;
	pid = spawn(args, self->err);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_exit(pid))
		show(_metadata, self->err);
	nf = tl_frames(self->c.fd, seq0, fr, 1024);
	ASSERT_LT(r->n, nf);
	match = SIZE_MAX;
	for (size_t j = 0; j + r->n <= nf && match == SIZE_MAX; j++) {
		size_t k = 0;

		while (k < r->n &&
		       diff(fr[j + k].pulse_ns[0], r->w[k][0]) <= res &&
		       diff(fr[j + k].pulse_ns[1], r->w[k][1]) <= res)
			k++;
		if (k > best)
			best = k;
		if (k == r->n)
			match = j;
	}
	EXPECT_NE(SIZE_MAX, match) {
		TH_LOG("the longest run of equal frames: %zu of %zu", best,
		       r->n);
	}
	free(r);
}

/* Whether the recording at @path has a frame: a row after its header. */
static bool recording(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	bool rows = false;

	while (f && !rows && fgets(line, sizeof(line), f))
		rows = line[0] != '#' && strncmp(line, "t_s", 3);
	if (f)
		fclose(f);
	return rows;
}

/*
 * A recorded channel that loses its pulse ends the recording, saying so.
 * The release comes once the recording has a frame: before it, servoctl
 * rightly waits for the channel's pulse, and a servoctl slow to start in
 * a loaded guest (it once took over 500 ms) then waited out the test.
 */
TEST_F_TIMEOUT(rec, release_ends_the_recording, REC_TIMEOUT_S)
{
	char *args[] = { "--no-calibration", "record", "-o", self->csv,
			 "--duration", "5", self->c.name, "0", NULL };
	struct tl_bound b;
	char buf[2048];
	pid_t pid;
	int rc;

	ASSERT_EQ(0, tl_set1(self->c.fd, 0, 1200 * US));
	tl_sleep_ns(3 * TL_FRAME_NS);
	pid = spawn(args, self->err);
	ASSERT_LT(0, pid);
	tl_bound_start(&b, WAIT_GUEST_NS, WAIT_HOST_S);
	while (!recording(self->csv) && !tl_bound_passed(&b))
		tl_sleep_ns(20 * MS);
	ASSERT_TRUE(recording(self->csv)) {
		show(_metadata, self->err);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	tl_sleep_ns(200 * MS);
	ASSERT_EQ(0, tl_release(self->c.fd, 1));
	rc = wait_exit(pid);
	ASSERT_LE(0, rc)
		show(_metadata, self->err);
	ASSERT_LE(0, tl_read(self->err, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "channel 0")) {
		TH_LOG("%s", buf);
	}
	/* It ended well before its 5 s, the file complete. */
	EXPECT_GE(1, rc);
	EXPECT_EQ(0, access(self->csv, R_OK));
}

TEST_HARNESS_MAIN
