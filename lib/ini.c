// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhrservo - the INI reader of the library's files (calibration, teleop
 * mapping), over inih (Debian's libinih).
 *
 * inih hands over (section, key, value) without line numbers, so the file is
 * fed to it through a reader that counts lines; each key's line is kept
 * until its section is complete, and every error names FILE:LINE. The
 * reader also refuses what inih would misread: a line longer than inih's
 * buffer (inih would cut it and read the rest as a line of its own), a NUL
 * byte, a [section line without its ']' and a line that is not
 * "key = value", so that the error names the line where the mistake is.
 * Sections are followed here, from their header lines, so that a section
 * with no key at all is still handed to its owner, and a key given before
 * any section is refused.
 *
 * The number and name helpers of those files live here too: numbers in the
 * C locale, positions that may carry a joint's unit, yes/no, suggestions
 * for a misspelt key.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

void hrservo_seterr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap, ap2;

	if (!err || !size)
		return;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	/* Numbers with a '.', as the files want them, whatever the locale. */
	if (hrservo_vsnprintf_c(err, size, fmt, ap) < 0)
		vsnprintf(err, size, fmt, ap2);
	va_end(ap2);
	va_end(ap);
}

/* ASCII classes: names must not depend on the locale. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool hrservo_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= HRSERVO_JOINT_NAME_MAX || !(is_alpha(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_')
			return false;
	return true;
}

bool hrservo_ini_is_key(const char *const *keys, const char *name)
{
	while (keys && *keys && strcmp(*keys, name))
		keys++;
	return keys && *keys;
}

unsigned int hrservo_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned int d[33][33];

	if (n > 32 || m > 32)
		return 99;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (unsigned int)i;
	for (size_t k = 0; k <= m; k++)
		d[0][k] = (unsigned int)k;
	for (size_t i = 1; i <= n; i++) {
		for (size_t k = 1; k <= m; k++) {
			unsigned int v = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);

			if (d[i - 1][k] + 1 < v)
				v = d[i - 1][k] + 1;
			if (d[i][k - 1] + 1 < v)
				v = d[i][k - 1] + 1;
			if (i > 1 && k > 1 && a[i - 1] == b[k - 2] &&
			    a[i - 2] == b[k - 1] && d[i - 2][k - 2] + 1 < v)
				v = d[i - 2][k - 2] + 1;
			d[i][k] = v;
		}
	}
	return d[n][m];
}

const char *hrservo_ini_suggest(const char *name, const char *const *keys,
				char *buf, size_t size)
{
	unsigned int best = strlen(name) <= 4 ? 2 : 3;
	const char *pick = NULL;

	for (; keys && *keys; keys++) {
		unsigned int d = hrservo_distance(name, *keys);

		if (!strncmp(*keys, "max_", 4) &&
		    hrservo_distance(name, *keys + 4) < d)
			d = hrservo_distance(name, *keys + 4);
		if (d < best) {
			best = d;
			pick = *keys;
		}
	}
	if (!pick)
		return "";
	snprintf(buf, size, "; did you mean '%s'?", pick);
	return buf;
}

static const char *key_hint(const struct hrservo_ini *ini, const char *name,
			    char *buf, size_t size)
{
	if (ini->ops->key_hint)
		return ini->ops->key_hint(ini, name, buf, size);
	return hrservo_ini_suggest(name, ini->allowed, buf, size);
}

int hrservo_ini_fail(struct hrservo_ini *ini, int line, const char *fmt, ...)
{
	char msg[384];
	va_list ap, ap2;

	if (ini->failed)
		return 0;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	if (hrservo_vsnprintf_c(msg, sizeof(msg), fmt, ap) < 0)
		vsnprintf(msg, sizeof(msg), fmt, ap2);
	va_end(ap2);
	va_end(ap);
	hrservo_seterr(ini->err, ini->errsize, "%s:%d: %s", ini->path, line, msg);
	ini->failed = true;
	return 0;
}

/* inih's find_chars_or_comment(): the first of @chars, or a ';' after space. */
static const char *chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !(chars && strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = hrservo_is_space(*s);
		s++;
	}
	return s;
}

/* @s, without trailing white space, as an error message shows it. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	while (n && hrservo_is_space(s[n - 1]))
		n--;
	if (n > 60)
		snprintf(buf, size, "%.57s...", s);
	else
		snprintf(buf, size, "%.*s", (int)n, s);
	return buf;
}

/* The section being collected is complete: hand it to its owner. */
static void finish_section(struct hrservo_ini *ini)
{
	if (ini->sline && !ini->failed)
		ini->ops->finish(ini);
	ini->section[0] = '\0';
	ini->sline = 0;
	ini->allowed = NULL;
	ini->nkeys = 0;
}

/* A [section] header at this line: the last section is complete. */
static int begin_section(struct hrservo_ini *ini, const char *name, size_t n)
{
	finish_section(ini);
	if (ini->failed)
		return -1;
	snprintf(ini->section, sizeof(ini->section), "%.*s", (int)n, name);
	ini->sline = ini->line;
	ini->allowed = ini->ops->section_keys(ini, ini->section);
	if (!ini->allowed)
		return hrservo_ini_fail(ini, ini->line, "unknown section [%s]: expected %s",
					ini->section, ini->ops->sections) - 1;
	return 0;
}

/*
 * What inih is about to make of a line, to refuse here, with this line's
 * number, what it would misread or report later without one. It follows
 * inih's rules (a BOM, comments, continuation lines, inline comments), and
 * cuts the inline comment of a continuation line, which inih keeps.
 */
static int check_line(struct hrservo_ini *ini, char *line)
{
	char *s = line;
	const char *e, *ke;
	char text[72], hint[96], word[32];
	size_t n;

	if (ini->line == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
		s += 3;		/* a UTF-8 BOM, which inih skips */
	while (hrservo_is_space(*s))
		s++;
	if (!*s || *s == ';' || *s == '#')
		return 0;
	if (ini->prev_key && s > line) {
		/*
		 * More of the last key's value. Debian's inih keeps an inline
		 * comment there: cut it, as on a key's own line.
		 */
		line[chars_or_comment(s, NULL) - line] = '\0';
		ini->continuation = true;
		return 0;
	}
	if (*s == '[') {
		e = chars_or_comment(s + 1, "]");
		if (*e != ']')
			return hrservo_ini_fail(ini, ini->line, "section header '%s' has no closing ']'",
						shown(s, text, sizeof(text))) - 1;
		ini->prev_key = false;
		return begin_section(ini, s + 1, (size_t)(e - s - 1));
	}
	e = chars_or_comment(s, "=:");
	ke = e;
	while (ke > s && hrservo_is_space(ke[-1]))
		ke--;
	for (n = 0; s + n < ke && !hrservo_is_space(s[n]); n++)
		;
	snprintf(word, sizeof(word), "%.*s", (int)n, s);
	if ((*e != '=' && *e != ':') || s + n < ke) {
		/* No '=', or white space in the key: inih would misread it. */
		if (hrservo_ini_is_key(ini->allowed, word))
			return hrservo_ini_fail(ini, ini->line, "'%s': no '=' after '%s'",
						shown(s, text, sizeof(text)), word) - 1;
		return hrservo_ini_fail(ini, ini->line, "'%s' is not 'key = value', a [section] or a comment%s",
					shown(s, text, sizeof(text)),
					key_hint(ini, word, hint, sizeof(hint))) - 1;
	}
	ini->prev_key = true;
	return 0;
}

/*
 * inih's reader. inih reads into a buffer of @num bytes and would take the
 * rest of a longer line for a line of its own (a comment's tail becoming
 * "max = 5"): the whole line is read here, and refused if it does not fit.
 */
static char *counting_reader(char *str, int num, void *stream)
{
	struct hrservo_ini *ini = stream;
	size_t len, max = num > 3 ? (size_t)num - 3 : 0;
	ssize_t n;

	if (ini->failed)
		return NULL;	/* the first error ends the parse */
	errno = 0;
	n = getline(&ini->buf, &ini->bufsize, ini->f);
	if (n < 0) {
		if (ferror(ini->f))
			hrservo_ini_fail(ini, ini->line + 1, "%s",
					 strerror(errno ? errno : EIO));
		return NULL;
	}
	ini->line++;
	ini->continuation = false;
	len = (size_t)n;
	if (len && ini->buf[len - 1] == '\n')
		len--;
	if (len && ini->buf[len - 1] == '\r')
		len--;
	if (memchr(ini->buf, '\0', (size_t)n)) {
		hrservo_ini_fail(ini, ini->line, "a NUL byte in the line");
		return NULL;
	}
	/* inih keeps room for "\r\n" and the NUL. */
	if (len > max) {
		hrservo_ini_fail(ini, ini->line, "line too long: %zu bytes, at most %zu",
				 len, max);
		return NULL;
	}
	memcpy(str, ini->buf, (size_t)n + 1);
	if (check_line(ini, str))
		return NULL;
	return str;
}

struct hrservo_ini_key *hrservo_ini_key(struct hrservo_ini *ini,
					const char *name)
{
	for (unsigned int i = 0; i < ini->nkeys; i++)
		if (!strcmp(ini->keys[i].name, name))
			return &ini->keys[i];
	return NULL;
}

static int key_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	struct hrservo_ini *ini = user;
	const char *multi = ini->ops->multiline;
	struct hrservo_ini_key *k;

	(void)section;		/* followed by the reader, with its line */
	if (ini->failed)
		return 0;
	if (!ini->sline)
		return hrservo_ini_fail(ini, ini->line, "key '%s' before any [section]",
					name);
	if (!hrservo_ini_is_key(ini->allowed, name)) {
		char hint[160];

		return hrservo_ini_fail(ini, ini->line, "unknown key '%s' in [%s]%s",
					name, ini->section,
					key_hint(ini, name, hint, sizeof(hint)));
	}
	k = hrservo_ini_key(ini, name);
	if (ini->continuation && (!multi || strcmp(name, multi) || strchr(value, '='))) {
		if (multi)
			return hrservo_ini_fail(ini, ini->line, "'%s': an indented line continues the '%s' above (only a %s takes more lines): unindent it",
						value, name, multi);
		return hrservo_ini_fail(ini, ini->line, "'%s': an indented line continues the '%s' above (no key takes more lines): unindent it",
					value, name);
	}
	if (k && ini->continuation) {
		/* A continuation line of the multi-line key. */
		size_t len = strlen(k->value);

		if (len + strlen(value) + 2 > sizeof(k->value))
			return hrservo_ini_fail(ini, ini->line, "%s: too long", name);
		snprintf(k->value + len, sizeof(k->value) - len, " %s", value);
		return 1;
	}
	if (k)
		return hrservo_ini_fail(ini, ini->line, "key '%s' given twice in [%s]",
					name, ini->section);
	if (strlen(name) >= sizeof(k->name))
		return hrservo_ini_fail(ini, ini->line, "%s: key too long", name);
	if (strlen(value) >= sizeof(k->value))
		return hrservo_ini_fail(ini, ini->line, "%s: value too long", name);
	if (ini->nkeys == ini->keycap) {
		unsigned int cap = ini->keycap ? ini->keycap * 2 : 16;
		struct hrservo_ini_key *nk = reallocarray(ini->keys, cap,
							  sizeof(*nk));

		if (!nk)
			return hrservo_ini_fail(ini, ini->line, "out of memory");
		ini->keys = nk;
		ini->keycap = cap;
	}
	k = &ini->keys[ini->nkeys++];
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->value, sizeof(k->value), "%s", value);
	k->line = ini->line;
	return 1;
}

int hrservo_ini_load(const char *path, const struct hrservo_ini_ops *ops,
		     void *user, char *err, size_t errsize)
{
	struct hrservo_ini *ini = calloc(1, sizeof(*ini));
	int ret, saved;

	if (!ini) {
		hrservo_seterr(err, errsize, "%s: out of memory", path);
		errno = ENOMEM;
		return -1;
	}
	ini->f = fopen(path, "re");
	if (!ini->f) {
		saved = errno;
		hrservo_seterr(err, errsize, "%s: %s", path, strerror(saved));
		free(ini);
		errno = saved;
		return -1;
	}
	ini->path = path;
	ini->ops = ops;
	ini->user = user;
	ini->err = err;
	ini->errsize = errsize;
	ret = ini_parse_stream(counting_reader, ini, key_handler, ini);
	if (ret && !ini->failed) {
		/* inih's own complaint: a line that is not INI. */
		hrservo_seterr(err, errsize, "%s:%d: not 'key = value' or '[section]'",
			       path, ret);
		ini->failed = true;
	}
	finish_section(ini);
	if (!ini->failed && ops->end)
		ops->end(ini);
	fclose(ini->f);
	free(ini->buf);
	free(ini->keys);
	ret = ini->failed ? -1 : 0;
	free(ini);
	if (ret)
		errno = EINVAL;
	return ret;
}

/* ---- Numbers ---- */

bool hrservo_file_number(const char *s, size_t n, int shift, double *out)
{
	char buf[320], *end;
	size_t m = 0, i;
	long e = 0;

	while (m < n && s[m] != 'e' && s[m] != 'E')
		m++;
	i = m + 1;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n; i++)
		if (e < 100000)
			e = e * 10 + (s[i] - '0');
	if (m + 1 < n && s[m + 1] == '-')
		e = -e;
	if (m > 256)
		return false;
	snprintf(buf, sizeof(buf), "%.*se%ld", (int)m, s, e + shift);
	*out = hrservo_strtod_c(buf, &end);
	return !*end && isfinite(*out);
}

static bool is_unit_name(const char *s)
{
	static const char *const names[] = {
		"ns", "us", "\xc2\xb5s", "ms", "s", "%", "deg", "rad",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return true;
	return false;
}

int hrservo_ini_pos(struct hrservo_ini *ini, const struct hrservo_ini_key *k,
		    const char *s, enum hrservo_unit unit, const char *what,
		    double *out)
{
	size_t n = hrservo_scan_decimal(s, true);

	if (n && s[n] && strcmp(s + n, hrservo_unit_name(unit))) {
		if (is_unit_name(s + n)) {
			hrservo_ini_fail(ini, k->line, "%s: unit mismatch: '%s' in a joint measured in %s",
					 k->name, s, hrservo_unit_name(unit));
			return -1;
		}
		n = 0;
	}
	if (!n || !hrservo_file_number(s, n, 0, out)) {
		hrservo_ini_fail(ini, k->line, "%s: '%s' is not a %s", k->name, s,
				 what);
		return -1;
	}
	return 0;
}

int hrservo_ini_number(struct hrservo_ini *ini,
		       const struct hrservo_ini_key *k, double *out)
{
	const char *s = k->value;
	size_t n = hrservo_scan_decimal(s, true);

	if (!n || s[n] || !hrservo_file_number(s, n, 0, out)) {
		hrservo_ini_fail(ini, k->line, "%s: '%s' is not a number", k->name,
				 s);
		return -1;
	}
	return 0;
}

int hrservo_ini_bool(struct hrservo_ini *ini, const struct hrservo_ini_key *k,
		     bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(k->value, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(k->value, no[i])) {
			*out = false;
			return 0;
		}
	}
	hrservo_ini_fail(ini, k->line, "%s: '%s' is not yes or no", k->name,
			 k->value);
	return -1;
}
