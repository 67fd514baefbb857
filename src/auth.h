/*
 * auth: the API's bearer token.  auth_load reads the token file, creating
 * it with a fresh random token on first start; the rest is pure: parsing an
 * Authorization header and comparing tokens in constant time, so the unit
 * tests link it as it is.
 */
#ifndef PORTSHARE_AUTH_H
#define PORTSHARE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the longest token a token file may hold, and its NUL. */
#define AUTH_TOKEN_MAX 257
/* Shorter tokens are refused: they could be guessed. */
#define AUTH_TOKEN_MIN 16
/* Random bytes in a generated token; it is written as twice as many hex digits. */
#define AUTH_RANDOM_BYTES 32

/*
 * Reads the token from path into token.  When path does not exist, creates
 * it with a token of AUTH_RANDOM_BYTES from getrandom, in hex, and sets
 * *created.  The creation survives a crash at any point: the token is
 * written to a temporary file beside path (mode 0600 whatever the umask)
 * and synced, then linked to path, which therefore either does not exist
 * or holds a whole token; when another process linked it first, its token
 * is read instead.  A file that is not a regular file, that group or
 * others may access, that is empty, or whose content is not one token of
 * AUTH_TOKEN_MIN..AUTH_TOKEN_MAX-1 token68 characters (a trailing newline
 * is allowed) is refused.  Returns 0, or -1 with errbuf filled.
 */
int auth_load(const char *path, char token[AUTH_TOKEN_MAX], bool *created,
	      char *errbuf, size_t errlen);

/*
 * Finds the token in the len bytes of a token file's content (blanks and
 * newlines around it are allowed) and copies it into token.  Returns
 * true, or false with *why saying what is wrong ("is empty", or the rule
 * the content breaks).  Pure.
 */
bool auth_token_parse(const char *buf, size_t len, char token[AUTH_TOKEN_MAX],
		      const char **why);

/*
 * Writes the directory of path ("." for a bare name) into out, and the
 * mkstemp template of a temporary file beside path into tmp.  Returns
 * false when either does not fit.  Pure.
 */
bool auth_paths(const char *path, char *out, size_t outlen, char *tmp,
		size_t tmplen);

/*
 * Writes the default token file path, api.token in the directory of
 * db_path, into out.  Returns false when it does not fit.
 */
bool auth_default_path(const char *db_path, char *out, size_t outlen);

/*
 * Finds the credentials in an Authorization header value: the scheme
 * "Bearer" (any case), blanks, then one token68.  Returns false for
 * anything else, including a NULL header.  Pure.
 */
bool auth_bearer_parse(const char *header, const char **cred, size_t *len);

/*
 * Compares given (glen bytes) with the NUL-terminated expected token in a
 * time that depends only on the expected token's length, so that response
 * times tell an attacker nothing about how much of a guess was right.
 * Pure.
 */
bool auth_token_equal(const char *given, size_t glen, const char *expected);

/*
 * True when header carries exactly the expected token as a bearer
 * credential.  Pure.
 */
bool auth_check(const char *header, const char *expected);

/* Writes n bytes as lower-case hex into out (2n + 1 bytes). Pure. */
void auth_hex(const unsigned char *bytes, size_t n, char *out);

#endif
