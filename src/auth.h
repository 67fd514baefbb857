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
 * it (O_EXCL, mode 0600 whatever the umask) holding AUTH_RANDOM_BYTES from
 * getrandom in hex, and sets *created.  A file that is not a regular file,
 * that group or others may access, or whose content is not one token of
 * AUTH_TOKEN_MIN..AUTH_TOKEN_MAX-1 token68 characters (a trailing newline
 * is allowed) is refused.  Returns 0, or -1 with errbuf filled.
 */
int auth_load(const char *path, char token[AUTH_TOKEN_MAX], bool *created,
	      char *errbuf, size_t errlen);

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
