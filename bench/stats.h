/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics and trace-line parsing of the benchmark programs (bench/),
 * host-tested by tests/unit/bench_stats_test.c.
 */
#ifndef _HRSERVO_BENCH_STATS_H
#define _HRSERVO_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/**
 * struct bench_stats - order statistics of a sample
 * @p50: median (the upper one of an even sample)
 * @p99: 99th percentile: the value at index floor(n * 99 / 100)
 * @max: largest
 * @min: smallest
 * @mean: arithmetic mean
 * @n: sample size; all zero when it is 0
 */
struct bench_stats {
	int64_t p50, p99, max, min;
	double mean;
	size_t n;
};

/* Sorts @v in place. */
struct bench_stats bench_stats_of(int64_t *v, size_t n);

/**
 * struct bench_edge - one hrservo_edge trace event
 * @id: N of hrservoN
 * @seq: frame number
 * @level: 1 rising, 0 falling
 * @mask: lines that changed
 * @scheduled: scheduled time, ns
 * @late: actual - scheduled, ns
 */
struct bench_edge {
	unsigned int id;
	unsigned long long seq;
	int level;
	unsigned long long mask;
	long long scheduled;
	long long late;
};

/* Parse a line of the trace file; 0, or -1 if it holds no hrservo_edge. */
int bench_parse_edge(const char *line, struct bench_edge *e);

/**
 * struct bench_frame - one hrservo_frame trace event: a frame's work done
 * @id: N of hrservoN
 * @seq: frame number
 * @scheduled: the frame's scheduled start, ns
 * @late: when the work ended - @scheduled, ns (negative: done ahead)
 */
struct bench_frame {
	unsigned int id;
	unsigned long long seq;
	long long scheduled;
	long long late;
};

/* Parse a line of the trace file; 0, or -1 if it holds no hrservo_frame. */
int bench_parse_frame(const char *line, struct bench_frame *f);

/*
 * Parse a line of the function_graph tracer's output for a call of @func
 * that returned ("0) + 12.345 us   |  func [mod]();"); set *@us to its
 * duration. 0, or -1 for another line.
 */
int bench_parse_graph(const char *line, const char *func, double *us);

/*
 * Parse a line of the timer probe's "late" file, "R LATE_NS" or
 * "F LATE_NS"; set *@rise and *@late. 0, or -1 for another line.
 */
int bench_parse_probe(const char *line, int *rise, long long *late);

/*
 * The phase of the time @t_ns in a grid of @period_ns (> 0): @t_ns mod
 * @period_ns, in [0, @period_ns) for a negative @t_ns too. The bench runs
 * the bare timer at the phase of the driver's frames: the kernel's tick
 * lies on a grid of CLOCK_MONOTONIC that 20 ms frames keep, so with the
 * tick stopped in idle, an expiry that comes first after a tick boundary
 * pays the jiffies update at every frame, or never, by its phase alone.
 */
long long bench_phase_ns(long long t_ns, long long period_ns);

/* a / b, or 0 when b is 0: the ratios of the bench tables. */
double bench_ratio(double a, double b);

#endif /* _HRSERVO_BENCH_STATS_H */
