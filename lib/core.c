// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo: the backend-independent part of the API.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct hrservo_backend *const hrservo_backends[] = {
	&hrservo_chardev_backend,
#ifdef HRSERVO_HAVE_GPIOD
	&hrservo_gpiod_backend,
#endif
};

/*
 * hrservo_last_error(): per thread, cleared by every hrservo_open() and
 * hrservo_traj_upload().
 */
static _Thread_local char last_error[512];

HRSERVO_API const char *hrservo_last_error(void)
{
	return last_error;
}

void hrservo_clear_error(void)
{
	last_error[0] = 0;
}

void hrservo_set_error(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	if (hrservo_vsnprintf_c(last_error, sizeof(last_error), fmt, ap) < 0)
		last_error[0] = 0;
	va_end(ap);
	errno = err;
}

HRSERVO_API unsigned int hrservo_api_version(void)
{
	return HRSERVO_API_VERSION;
}

const char *hrservo_sysfs_class(void)
{
	const char *s = getenv("HRSERVO_SYSFS_CLASS");

	return s && *s ? s : "/sys/class/hrservo";
}

/* ---- list ---- */

struct hrservo_list {
	size_t n, cap;
	char **names;
};

static int cmp_names(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	/* hrservo2 before hrservo10 */
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

#define NBACKENDS (sizeof(hrservo_backends) / sizeof(*hrservo_backends))

int hrservo_list_add(struct hrservo_list *list, const char *name)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 8;
		char **n = realloc(list->names, cap * sizeof(*n));

		if (!n)
			goto nomem;
		list->names = n;
		list->cap = cap;
	}
	list->names[list->n] = strdup(name);
	if (!list->names[list->n])
		goto nomem;
	list->n++;
	return 0;

nomem:
	errno = ENOMEM;
	return -1;
}

/* Every backend's controllers: each backend enumerates its own. */
HRSERVO_API struct hrservo_list *hrservo_list_new(void)
{
	struct hrservo_list *list = calloc(1, sizeof(*list));

	if (!list)
		return NULL;
	for (size_t i = 0; i < NBACKENDS; i++) {
		if (hrservo_backends[i]->list &&
		    hrservo_backends[i]->list(list)) {
			int e = errno;

			hrservo_list_free(list);
			errno = e;
			return NULL;
		}
	}
	if (list->n)
		qsort(list->names, list->n, sizeof(*list->names), cmp_names);
	return list;
}

HRSERVO_API void hrservo_list_free(struct hrservo_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		free(list->names[i]);
	free(list->names);
	free(list);
}

HRSERVO_API size_t hrservo_list_count(const struct hrservo_list *list)
{
	return list->n;
}

HRSERVO_API const char *hrservo_list_name(const struct hrservo_list *list,
					  size_t index)
{
	if (index >= list->n) {
		errno = EINVAL;
		return NULL;
	}
	return list->names[index];
}

/* ---- controllers ---- */

size_t hrservo_spec_scheme(const char *spec, const char **rest)
{
	size_t n = 0;

	if (!spec || spec[0] < 'a' || spec[0] > 'z')
		return 0;
	while ((spec[n] >= 'a' && spec[n] <= 'z') ||
	       (spec[n] >= '0' && spec[n] <= '9'))
		n++;
	if (spec[n] != ':' || n > 15)
		return 0;
	*rest = spec + n + 1;
	return n;
}

bool hrservo_scheme_reserved(const char *scheme, size_t len)
{
	static const char *const reserved[] = { "gpiod", "usb" };

	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (strlen(reserved[i]) == len &&
		    !strncmp(reserved[i], scheme, len))
			return true;
	return false;
}

/*
 * The backend for @spec, *@rest what its open gets; NULL with errno EINVAL
 * (nobody's) or ENOTSUP (a reserved scheme, not built in).
 */
static const struct hrservo_backend *spec_backend(const char *spec,
						  const char **rest)
{
	size_t len = hrservo_spec_scheme(spec, rest);

	if (len) {
		for (size_t i = 0; i < NBACKENDS; i++) {
			const char *sc = hrservo_backends[i]->scheme;

			if (sc && strlen(sc) == len && !strncmp(sc, spec, len))
				return **rest ? hrservo_backends[i] :
					(errno = EINVAL, NULL);
		}
		errno = hrservo_scheme_reserved(spec, len) ? ENOTSUP : EINVAL;
		return NULL;
	}
	*rest = spec;
	for (size_t i = 0; i < NBACKENDS; i++)
		if (hrservo_backends[i]->claims &&
		    hrservo_backends[i]->claims(spec))
			return hrservo_backends[i];
	errno = EINVAL;
	return NULL;
}

HRSERVO_API struct hrservo_open_config *hrservo_open_config_new(void)
{
	struct hrservo_open_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg)
		cfg->rt_prio = HRSERVO_RT_DEFAULT;
	return cfg;
}

HRSERVO_API void hrservo_open_config_free(struct hrservo_open_config *cfg)
{
	free(cfg);
}

HRSERVO_API int hrservo_open_config_set_frame_period(
	struct hrservo_open_config *cfg, uint32_t period_ns)
{
	if (!cfg) {
		errno = EINVAL;
		return -1;
	}
	cfg->period_ns = period_ns;
	return 0;
}

HRSERVO_API uint32_t
hrservo_open_config_get_frame_period(const struct hrservo_open_config *cfg)
{
	return cfg ? cfg->period_ns : 0;
}

HRSERVO_API int hrservo_open_config_set_rt_priority(
	struct hrservo_open_config *cfg, int prio)
{
	if (!cfg || prio < HRSERVO_RT_DEFAULT || prio > 99) {
		errno = EINVAL;
		return -1;
	}
	cfg->rt_prio = prio;
	return 0;
}

HRSERVO_API int
hrservo_open_config_get_rt_priority(const struct hrservo_open_config *cfg)
{
	return cfg ? cfg->rt_prio : HRSERVO_RT_DEFAULT;
}

/* The open config's frame period, on a handle just opened; 0 or -1. */
static int open_period(struct hrservo *h, uint32_t period_ns)
{
	uint32_t cur, min = 0, max = 0;
	int err;

	if (!period_ns)
		return 0;
	if (!(hrservo_caps(h) & HRSERVO_CAP_FRAME_PERIOD)) {
		hrservo_set_error("%s: the frame period of a %s controller cannot be set",
				  h->name, h->backend);
		errno = ENOTSUP;
		return -1;
	}
	if (!hrservo_set_frame_period(h, period_ns))
		return 0;
	err = errno;
	if (!hrservo_get_frame_period(h, &cur, &min, &max))
		hrservo_set_error("%s: frame period %u ns: it takes %u..%u ns (%s)",
				  h->name, period_ns, min, max, strerror(err));
	errno = err;
	return -1;
}

HRSERVO_API struct hrservo *hrservo_open_with(const char *spec,
					      const struct hrservo_open_config *cfg)
{
	static const struct hrservo_open_config defaults = {
		.rt_prio = HRSERVO_RT_DEFAULT,
	};
	const struct hrservo_backend *be;
	const char *rest;
	struct hrservo *h;
	int err;

	hrservo_clear_error();
	if (!spec || !*spec) {
		errno = EINVAL;
		return NULL;
	}
	if (!cfg)
		cfg = &defaults;
	be = spec_backend(spec, &rest);
	if (!be)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->be = be;
	if (be->open(h, rest, cfg)) {
		err = errno;
		free(h);
		errno = err;
		return NULL;
	}
	/* All or nothing: a period refused closes the handle again. */
	if (open_period(h, cfg->period_ns)) {
		err = errno;
		hrservo_close(h);
		errno = err;
		return NULL;
	}
	return h;
}

HRSERVO_API struct hrservo *hrservo_open(const char *spec)
{
	return hrservo_open_with(spec, NULL);
}

HRSERVO_API void hrservo_close(struct hrservo *h)
{
	if (!h)
		return;
	h->be->close(h);
	free(h);
}

HRSERVO_API const char *hrservo_name(const struct hrservo *h)
{
	return h->name;
}

HRSERVO_API const char *hrservo_backend(const struct hrservo *h)
{
	return h->backend;
}

HRSERVO_API unsigned int hrservo_num_channels(const struct hrservo *h)
{
	return h->nch;
}

HRSERVO_API uint32_t hrservo_pulse_min_ns(const struct hrservo *h)
{
	return h->pulse_min_ns;
}

HRSERVO_API uint32_t hrservo_pulse_max_ns(const struct hrservo *h)
{
	return h->pulse_max_ns;
}

HRSERVO_API uint32_t hrservo_resolution_ns(const struct hrservo *h)
{
	return h->resolution_ns;
}

/* What the ops of @be can do at most. */
static uint32_t ops_caps(const struct hrservo_backend *be)
{
	uint32_t c = 0;

	if (be->event_fd && be->read_event)
		c |= HRSERVO_CAP_EVENTS;
	if (be->traj_submit && be->traj_stop)
		c |= HRSERVO_CAP_TRAJ;
	if (be->get_motion && be->set_motion)
		c |= HRSERVO_CAP_MOTION_LIMITS;
	if (be->apply)
		c |= HRSERVO_CAP_ATOMIC_BATCH;
	/* HRSERVO_CAP_FEEDBACK: no backend operation reads positions yet. */
	if (be->watchdog && be->keepalive)
		c |= HRSERVO_CAP_WATCHDOG;
	if (be->estop)
		c |= HRSERVO_CAP_ESTOP;
	if (be->read_frames)
		c |= HRSERVO_CAP_FRAME_RECORD;
	if (be->set_period)
		c |= HRSERVO_CAP_FRAME_PERIOD;
	/* Real-time timing unless the backend says otherwise. */
	c |= HRSERVO_CAP_RT_TIMING;
	return c;
}

HRSERVO_API uint32_t hrservo_caps(const struct hrservo *h)
{
	uint32_t c;

	if (!h)
		return 0;
	c = ops_caps(h->be);
	/* The backend can only take away (the cast: its ops take no const). */
	if (h->be->caps)
		c &= h->be->caps((struct hrservo *)h);
	return c;
}

/* 0 if @h has all of @caps, else -1 with errno ENOTSUP (EINVAL: NULL @h). */
static int need(const struct hrservo *h, uint32_t caps)
{
	if (!h) {
		errno = EINVAL;
		return -1;
	}
	if ((hrservo_caps(h) & caps) != caps) {
		errno = ENOTSUP;
		return -1;
	}
	return 0;
}

/* A mandatory op the backend lacks all the same: ENOTSUP, never a crash. */
#define NEED_OP(h, op)						\
	do {							\
		if (!(h)->be->op) {				\
			errno = ENOTSUP;			\
			return -1;				\
		}						\
	} while (0)

HRSERVO_API int hrservo_get_frame_period(struct hrservo *h,
					 uint32_t *period_ns,
					 uint32_t *min_ns, uint32_t *max_ns)
{
	uint32_t mn, mx;

	if (!h->be->get_period) {
		errno = ENOTSUP;
		return -1;
	}
	return h->be->get_period(h, period_ns, min_ns ? min_ns : &mn,
				 max_ns ? max_ns : &mx);
}

HRSERVO_API int hrservo_set_frame_period(struct hrservo *h,
					 uint32_t period_ns)
{
	if (need(h, HRSERVO_CAP_FRAME_PERIOD))
		return -1;
	return h->be->set_period(h, period_ns);
}

/* ---- targets ---- */

HRSERVO_API struct hrservo_batch *hrservo_batch_new(void)
{
	return calloc(1, sizeof(struct hrservo_batch));
}

HRSERVO_API void hrservo_batch_free(struct hrservo_batch *b)
{
	free(b);
}

HRSERVO_API void hrservo_batch_clear(struct hrservo_batch *b)
{
	b->n = 0;
	b->used = 0;
}

HRSERVO_API int hrservo_batch_add(struct hrservo_batch *b,
				  unsigned int channel, uint32_t pulse_ns)
{
	if (channel >= HRSERVO_MAX_CHANNELS) {
		errno = EINVAL;
		return -1;
	}
	if (b->used & (1ULL << channel)) {
		errno = EEXIST;
		return -1;
	}
	b->used |= 1ULL << channel;
	b->t[b->n].channel = channel;
	b->t[b->n].pulse_ns = pulse_ns;
	b->n++;
	return 0;
}

HRSERVO_API size_t hrservo_batch_count(const struct hrservo_batch *b)
{
	return b->n;
}

HRSERVO_API int hrservo_apply(struct hrservo *h,
			      const struct hrservo_batch *b)
{
	if (!b->n || (h->nch < 64 && (b->used >> h->nch))) {
		errno = EINVAL;
		return -1;
	}
	if (!h->be->apply) {
		if (b->n == 1 && h->be->apply_one)
			return h->be->apply_one(h, &b->t[0]);
		errno = ENOTSUP;	/* no HRSERVO_CAP_ATOMIC_BATCH */
		return -1;
	}
	return h->be->apply(h, b->t, b->n);
}

HRSERVO_API int hrservo_set_target(struct hrservo *h, unsigned int channel,
				   uint32_t pulse_ns)
{
	struct hrservo_target_item t = { channel, pulse_ns };

	if (channel >= h->nch) {
		errno = EINVAL;
		return -1;
	}
	if (!h->be->apply) {
		NEED_OP(h, apply_one);
		return h->be->apply_one(h, &t);
	}
	return h->be->apply(h, &t, 1);
}

HRSERVO_API int hrservo_release(struct hrservo *h, uint64_t mask)
{
	if (h->nch < 64 && (mask >> h->nch)) {
		errno = EINVAL;
		return -1;
	}
	NEED_OP(h, release);
	return h->be->release(h, mask);
}

/* ---- limits ---- */

HRSERVO_API int hrservo_get_limits(struct hrservo *h, unsigned int channel,
				   uint32_t *min_ns, uint32_t *max_ns)
{
	if (channel >= h->nch) {
		errno = EINVAL;
		return -1;
	}
	NEED_OP(h, get_limits);
	return h->be->get_limits(h, channel, min_ns, max_ns);
}

HRSERVO_API int hrservo_set_limits(struct hrservo *h, unsigned int channel,
				   uint32_t min_ns, uint32_t max_ns)
{
	if (channel >= h->nch) {
		errno = EINVAL;
		return -1;
	}
	NEED_OP(h, set_limits);
	return h->be->set_limits(h, channel, min_ns, max_ns);
}

HRSERVO_API int hrservo_get_motion_limits(struct hrservo *h,
					  unsigned int channel,
					  uint32_t *speed_ns_per_s,
					  uint32_t *accel_ns_per_s2)
{
	if (need(h, HRSERVO_CAP_MOTION_LIMITS))
		return -1;
	if (channel >= h->nch) {
		errno = EINVAL;
		return -1;
	}
	return h->be->get_motion(h, channel, speed_ns_per_s, accel_ns_per_s2);
}

HRSERVO_API int hrservo_set_motion_limits(struct hrservo *h,
					  unsigned int channel,
					  uint32_t speed_ns_per_s,
					  uint32_t accel_ns_per_s2)
{
	if (need(h, HRSERVO_CAP_MOTION_LIMITS))
		return -1;
	if (channel >= h->nch) {
		errno = EINVAL;
		return -1;
	}
	return h->be->set_motion(h, channel, speed_ns_per_s, accel_ns_per_s2);
}

int hrservo_motion_or_none(struct hrservo *h, unsigned int ch,
			   uint32_t *speed, uint32_t *accel)
{
	if (!(hrservo_caps(h) & HRSERVO_CAP_MOTION_LIMITS)) {
		*speed = *accel = 0;
		return 0;
	}
	return hrservo_get_motion_limits(h, ch, speed, accel);
}

/* Put back the limits of @c[0, @n) from @old. */
static void limits_undo(struct hrservo *h, const struct hrservo_limit_change *c,
			const struct hrservo_limit_change *old, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		hrservo_set_limits(h, c[k].channel, old[k].min_ns,
				   old[k].max_ns);
		if (c[k].motion)
			hrservo_set_motion_limits(h, c[k].channel,
						  old[k].speed_ns_per_s,
						  old[k].accel_ns_per_s2);
	}
}

HRSERVO_API int hrservo_set_limits_all(struct hrservo *h,
				       const struct hrservo_limit_change *c,
				       size_t n, size_t *failed)
{
	struct hrservo_limit_change old[HRSERVO_MAX_CHANNELS];
	uint64_t seen = 0;
	int e;

	if (!h || (n && !c) || n > HRSERVO_MAX_CHANNELS) {
		errno = EINVAL;
		return -1;
	}
	/* Everything is checked and read before anything is set. */
	for (size_t k = 0; k < n; k++) {
		if (failed)
			*failed = k;
		if (c[k].channel >= h->nch || (seen & (1ULL << c[k].channel))) {
			errno = EINVAL;
			return -1;
		}
		seen |= 1ULL << c[k].channel;
		old[k].channel = c[k].channel;
		if (hrservo_get_limits(h, c[k].channel, &old[k].min_ns,
				       &old[k].max_ns) ||
		    (c[k].motion &&
		     hrservo_get_motion_limits(h, c[k].channel,
					       &old[k].speed_ns_per_s,
					       &old[k].accel_ns_per_s2)))
			return -1;
	}
	for (size_t k = 0; k < n; k++) {
		if (!hrservo_set_limits(h, c[k].channel, c[k].min_ns,
					c[k].max_ns) &&
		    (!c[k].motion ||
		     !hrservo_set_motion_limits(h, c[k].channel,
						c[k].speed_ns_per_s,
						c[k].accel_ns_per_s2)))
			continue;
		e = errno;
		/* This one may be half set: undo it and the ones before. */
		limits_undo(h, c, old, k + 1);
		if (failed)
			*failed = k;
		errno = e;
		return -1;
	}
	return 0;
}

/* ---- state ---- */

HRSERVO_API struct hrservo_state *hrservo_read_state(struct hrservo *h)
{
	struct hrservo_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->n = h->nch;
	if (!h->be->read_state) {
		free(st);
		errno = ENOTSUP;
		return NULL;
	}
	if (h->be->read_state(h, st)) {
		int err = errno;

		free(st);
		errno = err;
		return NULL;
	}
	return st;
}

HRSERVO_API void hrservo_state_free(struct hrservo_state *st)
{
	free(st);
}

HRSERVO_API unsigned int
hrservo_state_num_channels(const struct hrservo_state *st)
{
	return st->n;
}

/* Out-of-range channels read as an idle channel with no limits. */
static const struct hrservo_chan_snapshot *
snap(const struct hrservo_state *st, unsigned int ch)
{
	static const struct hrservo_chan_snapshot none;

	return ch < st->n ? &st->ch[ch] : &none;
}

HRSERVO_API bool hrservo_state_enabled(const struct hrservo_state *st,
				       unsigned int channel)
{
	return snap(st, channel)->enabled;
}

HRSERVO_API bool hrservo_state_active(const struct hrservo_state *st,
				      unsigned int channel)
{
	return snap(st, channel)->active;
}

HRSERVO_API uint32_t hrservo_state_target_ns(const struct hrservo_state *st,
					     unsigned int channel)
{
	return snap(st, channel)->target_ns;
}

HRSERVO_API uint32_t hrservo_state_pulse_ns(const struct hrservo_state *st,
					    unsigned int channel)
{
	return snap(st, channel)->pulse_ns;
}

HRSERVO_API uint32_t hrservo_state_min_ns(const struct hrservo_state *st,
					  unsigned int channel)
{
	return snap(st, channel)->min_ns;
}

HRSERVO_API uint32_t hrservo_state_max_ns(const struct hrservo_state *st,
					  unsigned int channel)
{
	return snap(st, channel)->max_ns;
}

/* ---- events ---- */

HRSERVO_API int hrservo_event_fd(struct hrservo *h)
{
	if (need(h, HRSERVO_CAP_EVENTS))
		return -1;
	return h->be->event_fd(h);
}

HRSERVO_API int hrservo_read_event(struct hrservo *h,
				   struct hrservo_event_data *ev,
				   int timeout_ms)
{
	if (need(h, HRSERVO_CAP_EVENTS))
		return -1;
	return h->be->read_event(h, ev, timeout_ms);
}

/* ---- safety: the watchdog and the e-stop ---- */

HRSERVO_API int hrservo_watchdog_arm(struct hrservo *h,
				     unsigned int timeout_ms, int action,
				     const struct hrservo_batch *pose)
{
	if (!h) {
		errno = EINVAL;
		return -1;
	}
	if (need(h, HRSERVO_CAP_WATCHDOG))
		return -1;
	if (!timeout_ms)
		return h->be->watchdog(h, 0, HRSERVO_FS_HOLD, NULL, 0);
	if (timeout_ms < HRSERVO_WATCHDOG_MIN_MS ||
	    timeout_ms > HRSERVO_WATCHDOG_MAX_MS ||
	    (action != HRSERVO_FS_HOLD && action != HRSERVO_FS_RELEASE &&
	     action != HRSERVO_FS_POSE) ||
	    (action == HRSERVO_FS_POSE) != (pose != NULL) ||
	    (pose && (!pose->n || (h->nch < 64 && (pose->used >> h->nch))))) {
		errno = EINVAL;
		return -1;
	}
	return h->be->watchdog(h, timeout_ms, action, pose ? pose->t : NULL,
			       pose ? pose->n : 0);
}

HRSERVO_API int hrservo_keepalive(struct hrservo *h)
{
	if (!h) {
		errno = EINVAL;
		return -1;
	}
	if (need(h, HRSERVO_CAP_WATCHDOG))
		return -1;
	return h->be->keepalive(h);
}

static int estop_op(struct hrservo *h, int op, int action,
		    struct hrservo_estop_info *info)
{
	struct hrservo_estop_info dummy;

	if (!h) {
		errno = EINVAL;
		return -1;
	}
	if (need(h, HRSERVO_CAP_ESTOP))
		return -1;
	memset(info ? info : &dummy, 0, sizeof(dummy));
	return h->be->estop(h, op, action, info ? info : &dummy);
}

HRSERVO_API int hrservo_estop_get(struct hrservo *h,
				  struct hrservo_estop_info *info)
{
	if (!info) {
		errno = EINVAL;
		return -1;
	}
	return estop_op(h, HRSERVO_ESTOP_OP_GET, 0, info);
}

HRSERVO_API int hrservo_estop_trip(struct hrservo *h, int action)
{
	if (action != HRSERVO_FS_HOLD && action != HRSERVO_FS_RELEASE) {
		errno = EINVAL;
		return -1;
	}
	return estop_op(h, HRSERVO_ESTOP_OP_TRIP, action, NULL);
}

HRSERVO_API int hrservo_estop_clear(struct hrservo *h)
{
	return estop_op(h, HRSERVO_ESTOP_OP_CLEAR, 0, NULL);
}

/* ---- the frame record ---- */

HRSERVO_API int hrservo_read_frames(struct hrservo *h, uint64_t seq,
				    struct hrservo_frame_data *out,
				    size_t room, size_t *count,
				    uint64_t *next_seq, uint64_t *lost)
{
	uint64_t want = seq, gone = 0;
	size_t n = 0;

	if (!h || !out || !room || !count || !next_seq) {
		errno = EINVAL;
		return -1;
	}
	if (need(h, HRSERVO_CAP_FRAME_RECORD))
		return -1;
	while (n < room) {
		size_t chunk = room - n < HRSERVO_FRAMES_CALL ? room - n :
			       HRSERVO_FRAMES_CALL;
		size_t got = 0;
		uint64_t next = want;

		if (h->be->read_frames(h, want, out + n, chunk, &got, &next)) {
			/* What was copied stays good; the error comes next time. */
			if (n)
				break;
			return -1;
		}
		if (got > chunk) {	/* a backend bug */
			errno = EIO;
			return -1;
		}
		/* Asked for @want, given a later one: those between are gone. */
		if (got && want && out[n].seq > want)
			gone += out[n].seq - want;
		n += got;
		want = next;
		if (got < chunk)
			break;	/* caught up with the controller */
	}
	*count = n;
	*next_seq = want;
	if (lost)
		*lost = gone;
	return 0;
}
