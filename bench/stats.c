// SPDX-License-Identifier: GPL-2.0
/* Statistics and parsers of the benchmark programs: see stats.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct bench_stats bench_stats_of(int64_t *v, size_t n)
{
	struct bench_stats s = { 0 };
	double sum = 0;

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	s.n = n;
	s.min = v[0];
	s.p50 = v[n / 2];
	s.p99 = v[(n * 99) / 100];
	s.max = v[n - 1];
	s.mean = sum / (double)n;
	return s;
}

int bench_parse_edge(const char *line, struct bench_edge *e)
{
	const char *s = strstr(line, "hrservo_edge: ");

	if (!s || sscanf(s, "hrservo_edge: hrservo%u seq=%llu level=%d mask=0x%llx scheduled=%lld late=%lld",
			 &e->id, &e->seq, &e->level, &e->mask, &e->scheduled,
			 &e->late) != 6)
		return -1;
	return 0;
}

int bench_parse_frame(const char *line, struct bench_frame *f)
{
	const char *s = strstr(line, "hrservo_frame: ");

	if (!s || sscanf(s, "hrservo_frame: hrservo%u seq=%llu scheduled=%lld late=%lld",
			 &f->id, &f->seq, &f->scheduled, &f->late) != 4)
		return -1;
	return 0;
}

int bench_parse_graph(const char *line, const char *func, double *us)
{
	const char *q = strchr(line, ')'), *f = strstr(line, func);
	size_t n = strlen(func);

	/* The call itself, whole: "func();" or "func [mod]();". */
	if (!q || !f || f < q || (f[n] != '(' && f[n] != ' ') ||
	    !strstr(f + n, "();"))
		return -1;
	for (q++; *q && strchr(" +!#*@$", *q); q++)
		;
	return sscanf(q, "%lf us", us) == 1 ? 0 : -1;
}

int bench_parse_probe(const char *line, int *rise, long long *late)
{
	char kind;

	if (sscanf(line, "%c %lld", &kind, late) != 2 ||
	    (kind != 'R' && kind != 'F'))
		return -1;
	*rise = kind == 'R';
	return 0;
}

long long bench_phase_ns(long long t_ns, long long period_ns)
{
	long long r = t_ns % period_ns;

	return r < 0 ? r + period_ns : r;
}

double bench_ratio(double a, double b)
{
	return b ? a / b : 0;
}
