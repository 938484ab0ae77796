/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the unit tests: switch the test's process to a locale whose decimal
 * point is a comma, without installing anything.
 */
#ifndef HRSERVO_TEST_COMMA_LOCALE_H
#define HRSERVO_TEST_COMMA_LOCALE_H

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Switch to a locale whose decimal point is a comma, as setlocale(LC_ALL,
 * "") does for a German user. Each TEST runs in a child of its own, so the
 * others keep the C locale. An installed one if there is one, else one
 * made with localedef from glibc's locale sources into a directory of the
 * test's (LOCPATH): installing locales is not needed.
 */
static bool comma_locale(void)
{
	static const char *const have[] = {
		"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "nl_NL.UTF-8",
		"it_IT.UTF-8", "es_ES.UTF-8", "ru_RU.UTF-8", "pt_BR.UTF-8",
	};
	static const char src[] =
		"LC_CTYPE\ncopy \"POSIX\"\nEND LC_CTYPE\n"
		"LC_COLLATE\ncopy \"POSIX\"\nEND LC_COLLATE\n"
		"LC_NUMERIC\ndecimal_point \"<U002C>\"\nthousands_sep \"<U002E>\"\n"
		"grouping 3;3\nEND LC_NUMERIC\n"
		"LC_TIME\ncopy \"POSIX\"\nEND LC_TIME\n"
		"LC_MONETARY\ncopy \"POSIX\"\nEND LC_MONETARY\n"
		"LC_MESSAGES\ncopy \"POSIX\"\nEND LC_MESSAGES\n";
	char cmd[512], locdir[64];
	bool ok = false;
	FILE *f;

	for (size_t i = 0; i < sizeof(have) / sizeof(have[0]); i++) {
		setenv("LC_ALL", have[i], 1);
		if (setlocale(LC_ALL, "") &&
		    !strcmp(localeconv()->decimal_point, ","))
			return true;
	}
	snprintf(locdir, sizeof(locdir), "/tmp/calib_locale.XXXXXX");
	if (!mkdtemp(locdir))
		return false;
	snprintf(cmd, sizeof(cmd), "%s/comma.src", locdir);
	f = fopen(cmd, "w");
	if (f) {
		fputs(src, f);
		fclose(f);
	}
	/*
	 * An output path with a '/' and --no-archive: into the directory,
	 * never into the system's locale archive (the test may run as root).
	 */
	snprintf(cmd, sizeof(cmd),
		 "{ localedef --no-archive -c -i '%s/comma.src' -f UTF-8 '%s/xx_XX.UTF-8' ||"
		 " localedef --no-archive -c -i de_DE -f UTF-8 '%s/xx_XX.UTF-8'; } >/dev/null 2>&1",
		 locdir, locdir, locdir);
	if (system(cmd) != -1) {
		setenv("LOCPATH", locdir, 1);
		setenv("LC_ALL", "xx_XX.UTF-8", 1);
		ok = setlocale(LC_ALL, "") &&
		     !strcmp(localeconv()->decimal_point, ",");
	}
	/* Loaded (mapped) now, or not at all: the files can go. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", locdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", locdir);
	return ok;
}

#endif
