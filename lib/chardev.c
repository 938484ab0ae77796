// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo chardev backend: the hrservo kernel driver, through
 * /dev/hrservoN and /sys/class/hrservo/hrservoN.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"
#include "uapi/hrservo.h"

struct chardev {
	int fd;
	unsigned int abi;	/* the driver's HRSERVO_ABI_VERSION */
	char sysfs[256];	/* /sys/class/hrservo/hrservoN */
};

static struct chardev *cd(struct hrservo *h)
{
	return h->priv;
}

/* A decimal controller number: 1 to 6 digits. */
static bool is_number(const char *s)
{
	size_t n = 0;

	while (isdigit((unsigned char)s[n]))
		n++;
	return n && n <= 6 && !s[n];
}

/* "hrservoN" */
static bool is_devname(const char *s)
{
	return !strncmp(s, "hrservo", 7) && is_number(s + 7);
}

bool hrservo_chardev_spec_path(const char *spec, char *path, size_t size)
{
	const char *name;

	if (is_number(spec))
		name = NULL;
	else if (is_devname(spec))
		name = spec;
	else if (!strncmp(spec, "/dev/", 5) && is_devname(spec + 5))
		name = spec + 5;
	else
		return false;
	if (name)
		snprintf(path, size, "/dev/%s", name);
	else
		snprintf(path, size, "/dev/hrservo%s", spec);
	return true;
}

/*
 * Another path: one that resolves (a udev symlink such as /dev/servo/arm)
 * to a character device named hrservoN whose device number is that of
 * the class device hrservoN ($HRSERVO_SYSFS_CLASS/hrservoN/dev). Nothing
 * is opened: another backend's device (/dev/gpiochip0, /dev/ttyACM0) is
 * left alone.
 */
static bool chardev_claims_path(const char *spec)
{
	char real[PATH_MAX], attr[PATH_MAX + 64], dev[32];
	unsigned int maj, min;
	const char *base;
	struct stat st;
	FILE *f;
	int n = 0;

	if (!strchr(spec, '/') || !realpath(spec, real))
		return false;
	base = strrchr(real, '/') + 1;
	if (!is_devname(base) || stat(real, &st) || !S_ISCHR(st.st_mode))
		return false;
	snprintf(attr, sizeof(attr), "%s/%s/dev", hrservo_sysfs_class(), base);
	f = fopen(attr, "re");
	if (!f)
		return false;
	if (!fgets(dev, sizeof(dev), f))
		dev[0] = '\0';
	fclose(f);
	return sscanf(dev, "%u:%u%n", &maj, &min, &n) == 2 &&
	       (dev[n] == '\n' || !dev[n]) &&
	       maj == major(st.st_rdev) && min == minor(st.st_rdev);
}

/* "N", "hrservoN", "/dev/hrservoN", or a path to an hrservo device. */
static bool chardev_claims(const char *spec)
{
	char path[32];

	return hrservo_chardev_spec_path(spec, path, sizeof(path)) ||
	       chardev_claims_path(spec);
}

static int chardev_get_info(struct hrservo *h, struct hrservo_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(cd(h)->fd, HRSERVO_IOC_GET_INFO, info) ? -1 : 0;
}

static int chardev_open(struct hrservo *h, const char *spec,
			const struct hrservo_open_config *cfg)
{
	struct hrservo_info info;
	struct chardev *c;
	char path[256];
	int err;

	/* Its timing is the kernel's: no library thread to prioritise. */
	(void)cfg;

	/* Claimed, or after "chardev:": any path, opened and asked. */
	if (!hrservo_chardev_spec_path(spec, path, sizeof(path))) {
		if (!strchr(spec, '/')) {
			errno = EINVAL;
			return -1;
		}
		if (snprintf(path, sizeof(path), "%s", spec) >=
		    (int)sizeof(path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
	}

	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	h->priv = c;
	/* Read-only access still allows info, state, limits and events. */
	c->fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (c->fd < 0 && (errno == EACCES || errno == EPERM))
		c->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (c->fd < 0)
		goto err;
	if (chardev_get_info(h, &info)) {
		if (errno == ENOTTY)
			errno = ENOENT;	/* not an hrservo device */
		goto err_close;
	}
	if (info.abi_version < 1) {
		errno = EPROTO;
		goto err_close;
	}
	c->abi = info.abi_version;
	snprintf(h->name, sizeof(h->name), "%.*s", HRSERVO_NAME_SIZE,
		 info.name);
	snprintf(h->backend, sizeof(h->backend), "%.*s", HRSERVO_NAME_SIZE,
		 info.backend);
	snprintf(c->sysfs, sizeof(c->sysfs), "%s/%.*s", hrservo_sysfs_class(),
		 HRSERVO_NAME_SIZE, h->name);
	h->nch = info.channels;
	h->pulse_min_ns = info.pulse_min_ns;
	h->pulse_max_ns = info.pulse_max_ns;
	h->resolution_ns = info.resolution_ns ? info.resolution_ns : 1;
	return 0;

err_close:
	err = errno;
	close(c->fd);
	errno = err;
err:
	free(c);
	h->priv = NULL;
	return -1;
}

static void chardev_close(struct hrservo *h)
{
	if (cd(h)) {
		close(cd(h)->fd);
		free(cd(h));
	}
}

static int chardev_apply(struct hrservo *h,
			 const struct hrservo_target_item *t, size_t n)
{
	struct hrservo_target kt[HRSERVO_CHANNELS_MAX];
	struct hrservo_targets req = { 0 };

	if (n == 0 || n > HRSERVO_CHANNELS_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		kt[i].channel = t[i].channel;
		kt[i].pulse_ns = t[i].pulse_ns;
	}
	req.targets = (uintptr_t)kt;
	req.count = (uint32_t)n;
	return ioctl(cd(h)->fd, HRSERVO_IOC_SET_TARGETS, &req) ? -1 : 0;
}

static int chardev_release(struct hrservo *h, uint64_t mask)
{
	struct hrservo_release req = { .mask = mask };

	return ioctl(cd(h)->fd, HRSERVO_IOC_RELEASE, &req) ? -1 : 0;
}

static int chardev_read_state(struct hrservo *h, struct hrservo_state *st)
{
	struct hrservo_channel_state ks[HRSERVO_CHANNELS_MAX];
	struct hrservo_state_req req = {
		.states = (uintptr_t)ks,
		.first = 0,
		.count = h->nch,
	};

	/*
	 * The kernel fills ks through a pointer inside an _IOW struct, which
	 * tools such as valgrind cannot see: start from defined memory.
	 */
	memset(ks, 0, sizeof(ks));
	if (ioctl(cd(h)->fd, HRSERVO_IOC_GET_STATE, &req))
		return -1;
	st->n = h->nch;
	for (unsigned int i = 0; i < h->nch; i++) {
		st->ch[i].target_ns = ks[i].target_ns;
		st->ch[i].pulse_ns = ks[i].pulse_ns;
		st->ch[i].min_ns = ks[i].min_ns;
		st->ch[i].max_ns = ks[i].max_ns;
		st->ch[i].enabled = ks[i].flags & HRSERVO_STATE_ENABLED;
		st->ch[i].active = ks[i].flags & HRSERVO_STATE_ACTIVE;
	}
	return 0;
}

/* All four limits of a channel. */
static int chardev_read_limits(struct hrservo *h, unsigned int ch,
			       struct hrservo_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->channel = ch;
	return ioctl(cd(h)->fd, HRSERVO_IOC_GET_LIMITS, l) ? -1 : 0;
}

static int chardev_get_limits(struct hrservo *h, unsigned int ch,
			      uint32_t *min_ns, uint32_t *max_ns)
{
	struct hrservo_limits l;

	if (chardev_read_limits(h, ch, &l))
		return -1;
	*min_ns = l.min_ns;
	*max_ns = l.max_ns;
	return 0;
}

/* Read-modify-write: SET_LIMITS takes all four limits at once. */
static int chardev_update_limits(struct hrservo *h, unsigned int ch,
				 const uint32_t *min_ns, const uint32_t *max_ns,
				 const uint32_t *speed, const uint32_t *accel)
{
	struct hrservo_limits l;

	if (chardev_read_limits(h, ch, &l))
		return -1;
	if (min_ns)
		l.min_ns = *min_ns;
	if (max_ns)
		l.max_ns = *max_ns;
	if (speed)
		l.max_speed_ns_per_s = *speed;
	if (accel)
		l.max_accel_ns_per_s2 = *accel;
	return ioctl(cd(h)->fd, HRSERVO_IOC_SET_LIMITS, &l) ? -1 : 0;
}

static int chardev_set_limits(struct hrservo *h, unsigned int ch,
			      uint32_t min_ns, uint32_t max_ns)
{
	return chardev_update_limits(h, ch, &min_ns, &max_ns, NULL, NULL);
}

static int chardev_get_motion(struct hrservo *h, unsigned int ch,
			      uint32_t *speed, uint32_t *accel)
{
	struct hrservo_limits l;

	if (chardev_read_limits(h, ch, &l))
		return -1;
	*speed = l.max_speed_ns_per_s;
	*accel = l.max_accel_ns_per_s2;
	return 0;
}

static int chardev_set_motion(struct hrservo *h, unsigned int ch,
			      uint32_t speed, uint32_t accel)
{
	return chardev_update_limits(h, ch, NULL, NULL, &speed, &accel);
}

/* hrservo_traj_check_times() keeps every segment within the ABI's bounds. */
_Static_assert(HRSERVO_TRAJ_MIN_INTERVAL_NS == HRSERVO_SEG_MIN_NS &&
	       HRSERVO_TRAJ_MAX_INTERVAL_NS == HRSERVO_SEG_MAX_NS,
	       "the library's interval bounds are the ABI's segment bounds");

/*
 * A driver before ABI version 3 takes any start: here, an APPEND to an idle
 * player must start where each axis is, as the newer kernel checks (what
 * is queued cannot be seen from here: appends to it go through). 0, or -1
 * with EDOM.
 */
static int chardev_old_abi_joins(struct hrservo *h,
				 const struct hrservo_seg_item *seg,
				 const int64_t *coefs)
{
	struct hrservo_traj_status ts;
	struct hrservo_state st;
	unsigned int k = 0;

	memset(&ts, 0, sizeof(ts));
	if (ioctl(cd(h)->fd, HRSERVO_IOC_TRAJ_STATUS, &ts) ||
	    ts.state != HRSERVO_TRAJ_IDLE)
		return 0;
	memset(&st, 0, sizeof(st));
	st.n = h->nch;
	if (chardev_read_state(h, &st))
		return -1;
	for (unsigned int c = 0; c < h->nch && c < HRSERVO_MAX_CHANNELS; c++) {
		double c0;

		if (!(seg->mask & (1ULL << c)))
			continue;
		c0 = (double)coefs[6 * k++] / 65536.0;
		if (!st.ch[c].enabled ||
		    fabs(c0 - st.ch[c].target_ns) > HRSERVO_SPLICE_TOL_NS) {
			errno = EDOM;
			return -1;
		}
	}
	return 0;
}

static int chardev_traj_submit(struct hrservo *h,
			       const struct hrservo_seg_item *segs, size_t n,
			       const int64_t *coefs, size_t ncoefs,
			       unsigned int flags, uint64_t at_ns)
{
	struct hrservo_segment *ks;
	struct hrservo_traj req = { 0 };
	int ret;

	if (cd(h)->abi < 3 && !(flags & (HRSERVO_UPLOAD_JUMP |
					 HRSERVO_UPLOAD_REPLACE)) && n &&
	    chardev_old_abi_joins(h, &segs[0], coefs))
		return -1;
	ks = calloc(n, sizeof(*ks));
	if (!ks)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ks[i].duration_ns = segs[i].duration_ns;
		ks[i].mask = segs[i].mask;
		ks[i].flags = segs[i].last ? HRSERVO_SEG_LAST : 0;
	}
	req.segments = (uintptr_t)ks;
	req.coefs = (uintptr_t)coefs;
	req.count = (uint32_t)n;
	req.ncoefs = (uint32_t)ncoefs;
	req.mode = (flags & HRSERVO_UPLOAD_REPLACE) ? HRSERVO_TRAJ_REPLACE :
						      HRSERVO_TRAJ_APPEND;
	req.at_ns = at_ns;
	/* Before version 3 the driver had no check to lift (nor the flag). */
	if ((flags & HRSERVO_UPLOAD_JUMP) && cd(h)->abi >= 3)
		req.flags = HRSERVO_TRAJ_JUMP;
	ret = ioctl(cd(h)->fd, HRSERVO_IOC_TRAJ_SUBMIT, &req) ? -1 : 0;
	free(ks);
	return ret;
}

static int chardev_traj_owned(struct hrservo *h, uint64_t *axes)
{
	struct hrservo_traj_status st;

	if (cd(h)->abi < 3) {
		errno = ENOTSUP;
		return -1;
	}
	memset(&st, 0, sizeof(st));
	if (ioctl(cd(h)->fd, HRSERVO_IOC_TRAJ_STATUS, &st))
		return -1;
	*axes = st.axes;
	return 0;
}

static int chardev_traj_status(struct hrservo *h,
			       struct hrservo_traj_info *info)
{
	struct hrservo_traj_status st;

	memset(&st, 0, sizeof(st));
	if (ioctl(cd(h)->fd, HRSERVO_IOC_TRAJ_STATUS, &st))
		return -1;
	info->state = st.state;
	info->segment = st.segment;
	info->depth = st.depth;
	info->time_in_segment_ns = st.time_in_segment_ns;
	info->queued_ns = st.queued_ns;
	return 0;
}

static int chardev_traj_stop(struct hrservo *h)
{
	struct hrservo_traj_stop req = { 0 };

	return ioctl(cd(h)->fd, HRSERVO_IOC_TRAJ_STOP, &req) ? -1 : 0;
}

static int chardev_get_period(struct hrservo *h, uint32_t *period_ns,
			      uint32_t *min_ns, uint32_t *max_ns)
{
	struct hrservo_info info;

	if (chardev_get_info(h, &info))
		return -1;
	*period_ns = info.frame_period_ns;
	*min_ns = info.frame_period_min_ns;
	*max_ns = info.frame_period_max_ns;
	return 0;
}

/* The period is set through sysfs: the driver has no ioctl for it. */
static int chardev_set_period(struct hrservo *h, uint32_t period_ns)
{
	char path[300], val[16];
	int fd, len, err;
	ssize_t w;

	snprintf(path, sizeof(path), "%s/frame_period_ns", cd(h)->sysfs);
	len = snprintf(val, sizeof(val), "%u", period_ns);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	w = write(fd, val, (size_t)len);
	err = errno;
	close(fd);
	if (w != len) {
		errno = w < 0 ? err : EIO;
		return -1;
	}
	return 0;
}

static int chardev_event_fd(struct hrservo *h)
{
	return cd(h)->fd;
}

static int chardev_read_event(struct hrservo *h,
			      struct hrservo_event_data *ev, int timeout_ms)
{
	struct pollfd pfd = { .fd = cd(h)->fd, .events = POLLIN };
	struct hrservo_event kev;
	ssize_t r;
	int n;

	for (;;) {
		r = read(cd(h)->fd, &kev, sizeof(kev));
		if (r == sizeof(kev))
			break;
		if (r == 0) {
			errno = ENODEV;	/* removed, everything read */
			return -1;
		}
		if (r > 0) {
			errno = EIO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || timeout_ms == 0)
			return -1;
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
	ev->timestamp_ns = kev.timestamp_ns;
	ev->mask = kev.mask;
	ev->type = kev.type;
	ev->value = kev.value;
	ev->seq = kev.seq;
	return 0;
}

/* ---- safety and the frame record: ABI version 4 ---- */

/* The library's numbers are the ABI's, passed through as they are. */
_Static_assert(HRSERVO_FS_HOLD == HRSERVO_FAILSAFE_HOLD &&
	       HRSERVO_FS_RELEASE == HRSERVO_FAILSAFE_RELEASE &&
	       HRSERVO_FS_POSE == HRSERVO_FAILSAFE_POSE,
	       "failsafe actions");
_Static_assert(HRSERVO_EV_WATCHDOG == HRSERVO_EVENT_WATCHDOG &&
	       HRSERVO_EV_ESTOP == HRSERVO_EVENT_ESTOP &&
	       HRSERVO_EV_WATCHDOG_EXPIRED == HRSERVO_WD_EXPIRED &&
	       HRSERVO_EV_WATCHDOG_CLOSED == HRSERVO_WD_CLOSED &&
	       HRSERVO_ESTOP_BY_USER == HRSERVO_ESTOP_SRC_USER &&
	       HRSERVO_ESTOP_BY_INPUT == HRSERVO_ESTOP_SRC_INPUT,
	       "event types and values");
_Static_assert(HRSERVO_WATCHDOG_MIN_MS == HRSERVO_WD_TIMEOUT_MIN_MS &&
	       HRSERVO_WATCHDOG_MAX_MS == HRSERVO_WD_TIMEOUT_MAX_MS,
	       "watchdog timeouts");
_Static_assert(HRSERVO_FRAMES_CALL == HRSERVO_FRAMES_MAX &&
	       HRSERVO_MAX_CHANNELS == HRSERVO_CHANNELS_MAX,
	       "frames per call, channels per frame");

/* A driver before ABI version 4 has none of these ioctls. */
static int chardev_safety(struct hrservo *h)
{
	if (cd(h)->abi < 4) {
		errno = ENOTSUP;
		return -1;
	}
	return 0;
}

static int chardev_watchdog(struct hrservo *h, unsigned int timeout_ms,
			    int action, const struct hrservo_target_item *pose,
			    size_t npose)
{
	struct hrservo_target kt[HRSERVO_CHANNELS_MAX];
	struct hrservo_watchdog req = { 0 };

	if (chardev_safety(h))
		return -1;
	if (npose > HRSERVO_CHANNELS_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < npose; i++) {
		kt[i].channel = pose[i].channel;
		kt[i].pulse_ns = pose[i].pulse_ns;
	}
	req.pose = npose ? (uintptr_t)kt : 0;
	req.timeout_ms = timeout_ms;
	req.action = (uint32_t)action;
	req.npose = (uint32_t)npose;
	return ioctl(cd(h)->fd, HRSERVO_IOC_WATCHDOG, &req) ? -1 : 0;
}

static int chardev_keepalive(struct hrservo *h)
{
	if (chardev_safety(h))
		return -1;
	return ioctl(cd(h)->fd, HRSERVO_IOC_KEEPALIVE, 0) ? -1 : 0;
}

static int chardev_estop(struct hrservo *h, int op, int action,
			 struct hrservo_estop_info *info)
{
	struct hrservo_estop req = { 0 };

	if (chardev_safety(h))
		return -1;
	req.op = op == HRSERVO_ESTOP_OP_TRIP ? HRSERVO_ESTOP_TRIP :
		 op == HRSERVO_ESTOP_OP_CLEAR ? HRSERVO_ESTOP_CLEAR :
		 HRSERVO_ESTOP_GET;
	req.action = op == HRSERVO_ESTOP_OP_TRIP ? (uint32_t)action : 0;
	if (ioctl(cd(h)->fd, HRSERVO_IOC_ESTOP, &req))
		return -1;
	info->latched = req.flags & HRSERVO_ESTOP_LATCHED;
	info->has_input = req.flags & HRSERVO_ESTOP_INPUT;
	info->input_active = req.flags & HRSERVO_ESTOP_INPUT_ACTIVE;
	info->source = (int)req.source;
	info->tripped_ns = req.tripped_ns;
	return 0;
}

static int chardev_read_frames(struct hrservo *h, uint64_t seq,
			       struct hrservo_frame_data *out, size_t room,
			       size_t *count, uint64_t *next_seq)
{
	struct hrservo_frame kf[HRSERVO_FRAMES_MAX];
	struct hrservo_frames req = { 0 };

	if (chardev_safety(h))
		return -1;
	if (room > HRSERVO_FRAMES_MAX)
		room = HRSERVO_FRAMES_MAX;
	/* Filled through a pointer in the struct: start from defined memory. */
	memset(kf, 0, room * sizeof(kf[0]));
	req.frames = (uintptr_t)kf;
	req.seq = seq;
	req.count = (uint32_t)room;
	if (ioctl(cd(h)->fd, HRSERVO_IOC_GET_FRAMES, &req))
		return -1;
	if (req.count > room) {
		errno = EIO;
		return -1;
	}
	for (size_t i = 0; i < req.count; i++) {
		out[i].seq = kf[i].seq;
		out[i].start_ns = kf[i].start_ns;
		out[i].active = kf[i].active;
		out[i].period_ns = kf[i].period_ns;
		memcpy(out[i].pulse_ns, kf[i].pulse_ns, sizeof(out[i].pulse_ns));
	}
	*count = req.count;
	*next_seq = req.count ? req.next_seq : seq;
	return 0;
}

/* The class directory's entries: every hrservo device present. */
static int chardev_list(struct hrservo_list *list)
{
	struct dirent *d;
	DIR *dir;

	dir = opendir(hrservo_sysfs_class());
	if (!dir)
		return errno == ENOENT ? 0 : -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (hrservo_list_add(list, d->d_name)) {
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	return 0;
}

/* A driver before ABI version 4 has no watchdog, e-stop or frame record. */
static uint32_t chardev_caps(struct hrservo *h)
{
	uint32_t all = ~0u;

	if (cd(h)->abi < 4)
		all &= ~(HRSERVO_CAP_WATCHDOG | HRSERVO_CAP_ESTOP |
			 HRSERVO_CAP_FRAME_RECORD);
	return all;
}

const struct hrservo_backend hrservo_chardev_backend = {
	.name = "chardev",
	.scheme = "chardev",
	.claims = chardev_claims,
	.open = chardev_open,
	.close = chardev_close,
	.list = chardev_list,
	.caps = chardev_caps,
	.apply = chardev_apply,
	.release = chardev_release,
	.read_state = chardev_read_state,
	.get_limits = chardev_get_limits,
	.set_limits = chardev_set_limits,
	.get_period = chardev_get_period,
	.set_period = chardev_set_period,
	.get_motion = chardev_get_motion,
	.set_motion = chardev_set_motion,
	.traj_submit = chardev_traj_submit,
	.traj_status = chardev_traj_status,
	.traj_owned = chardev_traj_owned,
	.traj_stop = chardev_traj_stop,
	.event_fd = chardev_event_fd,
	.read_event = chardev_read_event,
	.watchdog = chardev_watchdog,
	.keepalive = chardev_keepalive,
	.estop = chardev_estop,
	.read_frames = chardev_read_frames,
};
