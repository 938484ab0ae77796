/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A temporary directory for the files of a host test: make_dir() makes
 * /tmp/PROGRAM.XXXXXX, write_tmp() writes a file in it, remove_dir()
 * removes it with everything in it. Include once, after _GNU_SOURCE.
 */
#ifndef HRSERVO_TEST_TMPDIR_H
#define HRSERVO_TEST_TMPDIR_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", program_invocation_short_name);
	if (!mkdtemp(dir))
		abort();
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

/*
 * Write @text to the file @name in the directory. Return: its path, valid
 * until the call after the next (two files may be in use at once).
 */
static const char *write_tmp(const char *name, const char *text)
{
	static char path[2][128];
	static int which;
	char *p = path[which ^= 1];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return p;
}

#endif
