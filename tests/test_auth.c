/*
 * Unit tests for auth: the Authorization header parser, the constant-time
 * comparison, the default path, the parser of a token file's content, the
 * paths of its crash-safe creation, and the token file itself (created
 * with mode 0600 whatever the umask and no temporary file left behind,
 * read back, and refused when others may read it, when it is empty or
 * when it holds no proper token).  The files live in one temporary
 * directory that the parent process creates and removes.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "util.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

static char dir[64];
static char path[128];
static char errbuf[512];

static void make_dir(void)
{
	strcpy(dir, "/tmp/portshare-test-auth-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/api.token", dir);
}

static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	unlink(path);
	errbuf[0] = '\0';
}

/* ---- auth_bearer_parse and auth_check --------------------------------- */

static const struct {
	const char *header;
	const char *cred; /* NULL: refused */
} bearer_cases[] = {
	{ "Bearer abc", "abc" },
	{ "bearer abc", "abc" },
	{ "BEARER abc", "abc" },
	{ "Bearer   abc", "abc" },
	{ "Bearer\tabc", "abc" },
	{ "Bearer abc ", "abc" },
	{ "Bearer a-b.c_d~e+f/g==", "a-b.c_d~e+f/g==" },
	{ NULL, NULL },
	{ "", NULL },
	{ "Bearer", NULL },
	{ "Bearer ", NULL },
	{ "Bearerabc", NULL },
	{ "Basic abc", NULL },
	{ " Bearer abc", NULL },
	{ "Bearer abc def", NULL },
	{ "Bearer abc,def", NULL },
	{ "Bearer =abc", NULL },
	{ "Bearer ab=c", NULL },
	{ "Bearer \"abc\"", NULL },
	{ "Bearer abc\n", NULL },
};

START_TEST(bearer_parse)
{
	const char *cred = NULL;
	size_t len = 0;
	bool ok = auth_bearer_parse(bearer_cases[_i].header, &cred, &len);

	ck_assert_msg(ok == (bearer_cases[_i].cred != NULL), "[%s]: ok %d",
		      bearer_cases[_i].header ? bearer_cases[_i].header : "NULL", ok);
	if (!ok)
		return;
	ck_assert_uint_eq(len, strlen(bearer_cases[_i].cred));
	ck_assert(memcmp(cred, bearer_cases[_i].cred, len) == 0);
}
END_TEST

START_TEST(token_equal)
{
	ck_assert(auth_token_equal(TOKEN, strlen(TOKEN), TOKEN));
	/* A prefix, an extension, one changed byte at either end. */
	ck_assert(!auth_token_equal(TOKEN, strlen(TOKEN) - 1, TOKEN));
	ck_assert(!auth_token_equal(TOKEN "0", strlen(TOKEN) + 1, TOKEN));
	ck_assert(!auth_token_equal("1123456789abcdef0123456789abcdef", 32, TOKEN));
	ck_assert(!auth_token_equal("0123456789abcdef0123456789abcdeF", 32, TOKEN));
	ck_assert(!auth_token_equal("", 0, TOKEN));
	/* Only len bytes count: the rest of the buffer is not the guess. */
	ck_assert(auth_token_equal(TOKEN "trailing", strlen(TOKEN), TOKEN));
	/* A guess padded with the NUL a short one is read as never matches. */
	ck_assert(!auth_token_equal("abc\0", 4, "abc"));
}
END_TEST

START_TEST(check_header)
{
	ck_assert(auth_check("Bearer " TOKEN, TOKEN));
	ck_assert(auth_check("bearer  " TOKEN " ", TOKEN));
	ck_assert(!auth_check("Bearer " TOKEN "x", TOKEN));
	ck_assert(!auth_check("Basic " TOKEN, TOKEN));
	ck_assert(!auth_check(NULL, TOKEN));
	ck_assert(!auth_check(TOKEN, TOKEN));
}
END_TEST

START_TEST(default_path)
{
	char out[64];

	ck_assert(auth_default_path("/var/lib/portshare/portshare.db", out, sizeof(out)));
	ck_assert_str_eq(out, "/var/lib/portshare/api.token");
	ck_assert(auth_default_path("portshare.db", out, sizeof(out)));
	ck_assert_str_eq(out, "api.token");
	ck_assert(auth_default_path("/p.db", out, sizeof(out)));
	ck_assert_str_eq(out, "/api.token");
	ck_assert(!auth_default_path("/a/very/long/directory/name/that/does/not/fit/x.db",
				     out, 20));
}
END_TEST

START_TEST(hex)
{
	static const unsigned char bytes[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[9];

	auth_hex(bytes, sizeof(bytes), out);
	ck_assert_str_eq(out, "000fa5ff");
}
END_TEST

/* ---- the token file --------------------------------------------------- */

static void write_file(const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* ---- auth_token_parse and auth_paths --------------------------------- */

static const struct {
	const char *text;
	size_t len;       /* 0: strlen(text) */
	const char *token; /* NULL: refused */
	const char *why;
} parse_cases[] = {
	{ TOKEN, 0, TOKEN, NULL },
	{ TOKEN "\n", 0, TOKEN, NULL },
	{ TOKEN " \r\n", 0, TOKEN, NULL },
	{ "abcdefghijklmnop==", 0, "abcdefghijklmnop==", NULL },
	{ "", 0, NULL, "is empty" },
	{ "\n\n", 0, NULL, "is empty" },
	{ " " TOKEN, 0, NULL, "must hold one token" },
	{ "short", 0, NULL, "must hold one token" },
	{ "=abcdefghijklmnopq", 0, NULL, "must hold one token" },
	{ TOKEN "=x", 0, NULL, "must hold one token" },
	{ TOKEN "\0", 33, NULL, "must hold one token" },
	/* Only len bytes count: the rest of the buffer is not the file. */
	{ TOKEN "garbage", 32, TOKEN, NULL },
};

START_TEST(token_parse)
{
	size_t len = parse_cases[_i].len ? parse_cases[_i].len : strlen(parse_cases[_i].text);
	char token[AUTH_TOKEN_MAX] = "untouched";
	const char *why = NULL;
	bool ok = auth_token_parse(parse_cases[_i].text, len, token, &why);

	ck_assert_int_eq(ok, parse_cases[_i].token != NULL);
	if (ok)
		ck_assert_str_eq(token, parse_cases[_i].token);
	else
		ck_assert_msg(strstr(why, parse_cases[_i].why) != NULL, "%s", why);
}
END_TEST

START_TEST(token_parse_lengths)
{
	char buf[AUTH_TOKEN_MAX + 1], token[AUTH_TOKEN_MAX];
	const char *why;

	memset(buf, 'a', sizeof(buf));
	ck_assert(auth_token_parse(buf, AUTH_TOKEN_MIN, token, &why));
	ck_assert(!auth_token_parse(buf, AUTH_TOKEN_MIN - 1, token, &why));
	ck_assert(auth_token_parse(buf, AUTH_TOKEN_MAX - 1, token, &why));
	ck_assert_uint_eq(strlen(token), AUTH_TOKEN_MAX - 1);
	ck_assert(!auth_token_parse(buf, AUTH_TOKEN_MAX, token, &why));
}
END_TEST

START_TEST(paths)
{
	char d[64], t[64];

	ck_assert(auth_paths("/var/lib/portshare/api.token", d, sizeof(d), t, sizeof(t)));
	ck_assert_str_eq(d, "/var/lib/portshare");
	ck_assert_str_eq(t, "/var/lib/portshare/api.token.new-XXXXXX");
	ck_assert(auth_paths("api.token", d, sizeof(d), t, sizeof(t)));
	ck_assert_str_eq(d, ".");
	ck_assert_str_eq(t, "api.token.new-XXXXXX");
	ck_assert(auth_paths("/api.token", d, sizeof(d), t, sizeof(t)));
	ck_assert_str_eq(d, "/");
	ck_assert(auth_paths("rel/dir/api.token", d, sizeof(d), t, sizeof(t)));
	ck_assert_str_eq(d, "rel/dir");
	/* The template needs room for its suffix. */
	ck_assert(!auth_paths("/var/lib/portshare/api.token", d, sizeof(d), t, 30));
	ck_assert(!auth_paths("/var/lib/portshare/api.token", d, 8, t, sizeof(t)));
}
END_TEST

/* True when dir holds nothing but api.token. */
static bool only_the_token(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool only = d != NULL;

	while (only && (e = readdir(d)) != NULL)
		only = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		       strcmp(e->d_name, "api.token") == 0;
	if (d != NULL)
		closedir(d);
	return only;
}

START_TEST(load_creates)
{
	char token[AUTH_TOKEN_MAX], again[AUTH_TOKEN_MAX];
	struct stat sb;
	bool created = false;
	mode_t old = umask(0);

	/* Even with an empty umask the file is for its owner only. */
	ck_assert_msg(auth_load(path, token, &created, errbuf, sizeof(errbuf)) == 0,
		      "%s", errbuf);
	umask(old);
	ck_assert(created);
	ck_assert_uint_eq(strlen(token), 2 * AUTH_RANDOM_BYTES);
	ck_assert_uint_eq(strspn(token, "0123456789abcdef"), 2 * AUTH_RANDOM_BYTES);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	ck_assert_int_eq(sb.st_size, 2 * AUTH_RANDOM_BYTES + 1);
	/* The temporary file it was written to is gone. */
	ck_assert(only_the_token());
	/* The next start reads the same token back. */
	ck_assert_int_eq(auth_load(path, again, &created, errbuf, sizeof(errbuf)), 0);
	ck_assert(!created);
	ck_assert_str_eq(again, token);
	/* A second file gets another token. */
	unlink(path);
	ck_assert_int_eq(auth_load(path, again, &created, errbuf, sizeof(errbuf)), 0);
	ck_assert_str_ne(again, token);
}
END_TEST

START_TEST(load_reads_own_token)
{
	char token[AUTH_TOKEN_MAX];
	bool created = true;

	write_file(TOKEN "\r\n", 0600);
	ck_assert_msg(auth_load(path, token, &created, errbuf, sizeof(errbuf)) == 0,
		      "%s", errbuf);
	ck_assert(!created);
	ck_assert_str_eq(token, TOKEN);
	write_file(TOKEN, 0400);
	ck_assert_int_eq(auth_load(path, token, &created, errbuf, sizeof(errbuf)), 0);
	ck_assert_str_eq(token, TOKEN);
}
END_TEST

static const struct {
	mode_t mode;
	const char *text;
	const char *complaint;
} refused_cases[] = {
	{ 0640, TOKEN, "group or others" },
	{ 0604, TOKEN, "group or others" },
	{ 0620, TOKEN, "group or others" },
	{ 0644, TOKEN, "mode 0644" },
	{ 0600, "", "is empty" },
	{ 0600, "\n", "is empty" },
	{ 0600, " \r\n\t", "is empty" },
	{ 0600, "short", "must hold one token" },
	{ 0600, TOKEN " " TOKEN, "must hold one token" },
	{ 0600, "0123456789abcdef\n0123456789abcdef", "must hold one token" },
	{ 0600, "0123456789\"abcdef0123", "must hold one token" },
};

START_TEST(load_refuses)
{
	char token[AUTH_TOKEN_MAX];
	bool created;

	write_file(refused_cases[_i].text, refused_cases[_i].mode);
	ck_assert_int_eq(auth_load(path, token, &created, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, refused_cases[_i].complaint) != NULL &&
		      strstr(errbuf, path) != NULL, "%s", errbuf);
}
END_TEST

START_TEST(load_refuses_long_and_odd_files)
{
	char token[AUTH_TOKEN_MAX], big[AUTH_TOKEN_MAX + 1];
	bool created;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file(big, 0600);
	ck_assert_int_eq(auth_load(path, token, &created, errbuf, sizeof(errbuf)), -1);
	unlink(path);
	/* A directory is no token file, and is never replaced by one. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(auth_load(path, token, &created, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "not a regular file") != NULL, "%s", errbuf);
	rmdir(path);
	/* A missing directory cannot hold a new file: refused, not crashed. */
	ck_assert_int_eq(auth_load("/nonexistent-portshare/api.token", token,
				   &created, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "cannot create") != NULL, "%s", errbuf);
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, bearer_parse, 0, ARRAY_LEN(bearer_cases));
	tcase_add_test(tc, token_equal);
	tcase_add_test(tc, check_header);
	tcase_add_test(tc, default_path);
	tcase_add_test(tc, hex);
	tcase_add_loop_test(tc, token_parse, 0, ARRAY_LEN(parse_cases));
	tcase_add_test(tc, token_parse_lengths);
	tcase_add_test(tc, paths);
	tcase_add_test(tc, load_creates);
	tcase_add_test(tc, load_reads_own_token);
	tcase_add_loop_test(tc, load_refuses, 0, ARRAY_LEN(refused_cases));
	tcase_add_test(tc, load_refuses_long_and_odd_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(auth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
