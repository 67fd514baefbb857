/*
 * auth: the API's bearer token (see auth.h).  Only auth_load and its
 * helpers touch the file system; everything a request goes through, and
 * the parsing of a token file's content, is pure.
 */
#define _GNU_SOURCE /* mkostemp */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* token68 (RFC 9110 section 11.2) without its trailing '=' padding. */
static bool auth_token68_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == '+' || c == '/';
}

/* Returns the length of the token68 at s, or 0 when there is none. */
static size_t auth_token68_len(const char *s)
{
	size_t n = 0;

	while (auth_token68_char(s[n]))
		n++;
	if (n == 0)
		return 0;
	while (s[n] == '=')
		n++;
	return n;
}

void auth_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

bool auth_bearer_parse(const char *header, const char **cred, size_t *len)
{
	static const char scheme[] = "Bearer";
	size_t n;

	if (header == NULL ||
	    strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
		return false;
	header += sizeof(scheme) - 1;
	n = strspn(header, " \t");
	if (n == 0)
		return false;
	header += n;
	n = auth_token68_len(header);
	if (n == 0 || header[n + strspn(header + n, " \t")] != '\0')
		return false;
	*cred = header;
	*len = n;
	return true;
}

bool auth_token_equal(const char *given, size_t glen, const char *expected)
{
	size_t elen = strlen(expected);
	/* volatile: the compiler may not turn the loop into an early exit. */
	volatile unsigned char diff = glen != elen;

	/*
	 * Every byte of the expected token is visited whatever the guess,
	 * and a short guess is read as if padded with NULs, which no token
	 * holds.
	 */
	for (size_t i = 0; i < elen; i++) {
		unsigned char g = i < glen ? (unsigned char)given[i] : 0;

		diff |= g ^ (unsigned char)expected[i];
	}
	return diff == 0;
}

bool auth_check(const char *header, const char *expected)
{
	const char *cred;
	size_t len;

	return auth_bearer_parse(header, &cred, &len) &&
	       auth_token_equal(cred, len, expected);
}

bool auth_default_path(const char *db_path, char *out, size_t outlen)
{
	const char *slash = strrchr(db_path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(out, outlen, "api.token");
	else
		n = snprintf(out, outlen, "%.*s/api.token",
			     (int)(slash - db_path), db_path);
	return n >= 0 && (size_t)n < outlen;
}

/* ---- the token file --------------------------------------------------- */

_Static_assert(AUTH_TOKEN_MIN == 16 && AUTH_TOKEN_MAX == 257,
	       "auth_token_parse's message names these limits");

bool auth_token_parse(const char *buf, size_t len, char token[AUTH_TOKEN_MAX],
		      const char **why)
{
	size_t n = 0;

	while (len > 0 && memchr(" \t\r\n", buf[len - 1], 4) != NULL)
		len--;
	if (len == 0) {
		*why = "is empty, as a crash while an older portshared first wrote "
		       "it could leave it; delete it to have a new token made";
		return false;
	}
	while (n < len && auth_token68_char(buf[n]))
		n++;
	while (n > 0 && n < len && buf[n] == '=')
		n++;
	if (n != len || len < AUTH_TOKEN_MIN || len >= AUTH_TOKEN_MAX) {
		*why = "must hold one token of 16 to 256 characters "
		       "(letters, digits, - . _ ~ + /)";
		return false;
	}
	memcpy(token, buf, len);
	token[len] = '\0';
	return true;
}

bool auth_paths(const char *path, char *out, size_t outlen, char *tmp,
		size_t tmplen)
{
	const char *slash = strrchr(path, '/');
	int n, t;

	if (slash == NULL)
		n = snprintf(out, outlen, ".");
	else if (slash == path)
		n = snprintf(out, outlen, "/");
	else
		n = snprintf(out, outlen, "%.*s", (int)(slash - path), path);
	t = snprintf(tmp, tmplen, "%s.new-XXXXXX", path);
	return n >= 0 && (size_t)n < outlen && t >= 0 && (size_t)t < tmplen;
}

/* Writes all of buf; returns 0 or -1 with errno set. */
static int auth_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Fills line with a new token in hex and a newline.  Returns 0 or -1. */
static int auth_new_token(char line[2 * AUTH_RANDOM_BYTES + 2])
{
	unsigned char rnd[AUTH_RANDOM_BYTES];
	size_t got = 0;

	while (got < sizeof(rnd)) {
		ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	auth_hex(rnd, sizeof(rnd), line);
	memcpy(line + 2 * AUTH_RANDOM_BYTES, "\n", 2);
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

/* Makes a new directory entry in dir durable.  Returns 0 or -1 with errno set. */
static int auth_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret, saved;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

/*
 * Creates path with a new random token (see auth_load for how).  Returns
 * 0, or -1 with errno set (EEXIST when another process created the file
 * first) and errbuf filled.
 */
static int auth_create(const char *path, char token[AUTH_TOKEN_MAX],
		       char *errbuf, size_t errlen)
{
	char line[2 * AUTH_RANDOM_BYTES + 2];
	char dir[4096], tmp[4096 + 16];
	int fd = -1, saved, ret = -1;

	if (!auth_paths(path, dir, sizeof(dir), tmp, sizeof(tmp))) {
		errno = ENAMETOOLONG;
		snprintf(errbuf, errlen, "token file path %s is too long", path);
		goto out;
	}
	if (auth_new_token(line) < 0) {
		snprintf(errbuf, errlen, "getrandom: %s", strerror(errno));
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot create token file %s: %s", path,
			 strerror(errno));
		goto out;
	}
	/* The umask may only take bits away; fchmod makes the mode exact. */
	if (fchmod(fd, 0600) < 0 ||
	    auth_write_all(fd, line, strlen(line)) < 0 || fsync(fd) < 0) {
		snprintf(errbuf, errlen, "cannot write token file %s: %s", tmp,
			 strerror(errno));
		goto out;
	}
	/* link, unlike rename, never replaces a token another process made. */
	if (link(tmp, path) < 0) {
		snprintf(errbuf, errlen, "cannot create token file %s: %s", path,
			 strerror(errno));
		goto out;
	}
	unlink(tmp);
	tmp[0] = '\0';
	if (auth_sync_dir(dir) < 0) {
		snprintf(errbuf, errlen, "cannot sync directory %s of the new token "
			 "file: %s", dir, strerror(errno));
		goto out;
	}
	memcpy(token, line, 2 * AUTH_RANDOM_BYTES);
	token[2 * AUTH_RANDOM_BYTES] = '\0';
	ret = 0;
out:
	saved = errno;
	if (fd >= 0) {
		close(fd);
		if (tmp[0] != '\0')
			unlink(tmp);
	}
	explicit_bzero(line, sizeof(line));
	errno = saved;
	return ret;
}

/* Reads and checks the token in the open file fd.  Returns 0 or -1. */
static int auth_read(int fd, const char *path, char token[AUTH_TOKEN_MAX],
		     char *errbuf, size_t errlen)
{
	char buf[AUTH_TOKEN_MAX + 8];
	const char *why;
	size_t len = 0;
	struct stat sb;
	int ret = -1;

	if (fstat(fd, &sb) < 0) {
		snprintf(errbuf, errlen, "token file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(errbuf, errlen, "token file %s is not a regular file", path);
		goto out;
	}
	if (sb.st_mode & 077) {
		snprintf(errbuf, errlen,
			 "token file %s may be read or changed by group or others "
			 "(mode %04o); run chmod 600 on it",
			 path, (unsigned)(sb.st_mode & 07777));
		goto out;
	}
	while (len < sizeof(buf)) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(errbuf, errlen, "token file %s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (!auth_token_parse(buf, len, token, &why)) {
		snprintf(errbuf, errlen, "token file %s %s", path, why);
		goto out;
	}
	ret = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

int auth_load(const char *path, char token[AUTH_TOKEN_MAX], bool *created,
	      char *errbuf, size_t errlen)
{
	int fd, ret;

	*created = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (auth_create(path, token, errbuf, errlen) == 0) {
			*created = true;
			return 0;
		}
		if (errno != EEXIST)
			return -1;
		/* Another process created it first: read its token. */
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(errbuf, errlen, "token file %s: %s", path, strerror(errno));
		return -1;
	}
	ret = auth_read(fd, path, token, errbuf, errlen);
	close(fd);
	return ret;
}
