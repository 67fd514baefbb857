/*
 * Unit tests for subarg: every accepted and refused form of a TARGET, of
 * --bind and --forward, of the numbers and seconds, the option table and
 * its setters, the usage text and the --hex lines.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "subarg.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(numbers)
{
	static const char *const bad[] = {
		"", "0", "00", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.0", "1e3",
		"99999999999999999999999999",
	};
	unsigned long v = 7;
	char max[32];
	uint16_t port = 7;

	ck_assert(subarg_number("1", 10, &v) && v == 1);
	ck_assert(subarg_number("10", 10, &v) && v == 10);
	ck_assert(subarg_number("007", 10, &v) && v == 7);
	ck_assert(!subarg_number("11", 10, &v));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 42;
		ck_assert_msg(!subarg_number(bad[i], ULONG_MAX, &v), "'%s' accepted", bad[i]);
		ck_assert_uint_eq(v, 42);
	}
	/* --count's upper end, and one past it. */
	snprintf(max, sizeof(max), "%lu", ULONG_MAX - 1);
	ck_assert(subarg_number(max, ULONG_MAX - 1, &v) && v == ULONG_MAX - 1);
	snprintf(max, sizeof(max), "%lu", ULONG_MAX);
	ck_assert(!subarg_number(max, ULONG_MAX - 1, &v));
	ck_assert(subarg_number(max, ULONG_MAX, &v) && v == ULONG_MAX);

	ck_assert(subarg_port("1", &port) && port == 1);
	ck_assert(subarg_port("65535", &port) && port == 65535);
	ck_assert(!subarg_port("65536", &port));
	ck_assert(!subarg_port("0", &port));
	ck_assert(!subarg_port("", &port));
	ck_assert(!subarg_port("-1", &port));
	ck_assert_uint_eq(port, 65535);
}
END_TEST

START_TEST(seconds)
{
	static const struct {
		const char *s;
		unsigned ms;
	} good[] = {
		{ "2", 2000 },       { "0.3", 300 },     { ".5", 500 },    { "5.", 5000 },
		{ "0.05", 50 },      { "0.0495", 50 },   { "1.2344", 1234 }, { "1.2345", 1235 },
		{ "3600", 3600000 }, { "3600.0004", 3600000 }, { "0030", 30000 },
		{ "0.0500000000000000000001", 50 },
	};
	static const char *const bad[] = {
		"", ".", "0.049", "0.0494", "3600.001", "3601", "-1", "+1", " 1", "1 ", "1e3",
		"inf", "nan", "0x1", "1.2.3", "1,5", "99999999999999999999", "0.0001",
	};
	unsigned ms;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ms = 1;
		ck_assert_msg(subarg_seconds(good[i].s, false, &ms), "'%s' refused", good[i].s);
		ck_assert_uint_eq(ms, good[i].ms);
		ck_assert(subarg_seconds(good[i].s, true, &ms) && ms == good[i].ms);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ms = 1;
		ck_assert_msg(!subarg_seconds(bad[i], false, &ms), "'%s' accepted", bad[i]);
		ck_assert_msg(!subarg_seconds(bad[i], true, &ms), "'%s' accepted", bad[i]);
		ck_assert_uint_eq(ms, 1);
	}
	/* Zero is --refresh's "never", and no value of --retry. */
	static const char *const zeros[] = { "0", "00", "0.", ".0", "0.000", "0.0000" };

	for (size_t i = 0; i < ARRAY_SIZE(zeros); i++) {
		ms = 1;
		ck_assert(!subarg_seconds(zeros[i], false, &ms) && ms == 1);
		ck_assert(subarg_seconds(zeros[i], true, &ms) && ms == 0);
	}
}
END_TEST

START_TEST(hostport)
{
	static const struct {
		const char *s;
		const char *host;
		uint16_t port;
	} good[] = {
		{ "127.0.0.1", "127.0.0.1", 0 },
		{ "127.0.0.1:9999", "127.0.0.1", 9999 },
		{ "localhost:1", "localhost", 1 },
		{ "[::1]", "::1", 0 },
		{ "[::1]:65535", "::1", 65535 },
		{ "::1", "::1", 0 },
		{ "2001:db8::1", "2001:db8::1", 0 },
		{ "fe80::1%eth0", "fe80::1%eth0", 0 },
		{ "[fe80::1%eth0]:53", "fe80::1%eth0", 53 },
		{ "[192.0.2.1]:53", "192.0.2.1", 53 },
	};
	static const char *const bad[] = {
		"", ":", ":53", "[]", "[]:53", "[::1", "[::1]x", "[::1]:", "[::1]:0",
		"[::1]:65536", "[::1]::53", "1.2.3.4:", "1.2.3.4:x", "1.2.3.4:0", "1.2.3.4:-1",
		"a]b", "a[b", "[a[b]", "a/b", "a b", "a\tb", "a\x7f", "a\xc3\xa9:1", "[a/b]:1",
	};
	struct subarg_hostport hp;
	char longest[SUBARG_HOST_MAX + 8];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		memset(&hp, 0x55, sizeof(hp));
		ck_assert_msg(subarg_hostport(good[i].s, false, &hp), "'%s' refused", good[i].s);
		ck_assert_str_eq(hp.host, good[i].host);
		ck_assert_uint_eq(hp.port, good[i].port);
		/* --forward needs the port. */
		ck_assert(subarg_hostport(good[i].s, true, &hp) == (good[i].port != 0));
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(!subarg_hostport(bad[i], false, &hp), "'%s' accepted", bad[i]);
		ck_assert(!subarg_hostport(bad[i], true, &hp));
	}
	/* The host's length: SUBARG_HOST_MAX - 1 fits, one more does not. */
	memset(longest, 'a', SUBARG_HOST_MAX - 1);
	strcpy(longest + SUBARG_HOST_MAX - 1, ":80");
	ck_assert(subarg_hostport(longest, true, &hp) && hp.port == 80);
	ck_assert_uint_eq(strlen(hp.host), SUBARG_HOST_MAX - 1);
	memset(longest, 'a', SUBARG_HOST_MAX);
	strcpy(longest + SUBARG_HOST_MAX, ":80");
	ck_assert(!subarg_hostport(longest, true, &hp));
}
END_TEST

START_TEST(targets)
{
	static const struct {
		const char *spec, *host, *name;
		uint16_t regport, contested;
	} good[] = {
		{ "127.0.0.1/162", "127.0.0.1", "127.0.0.1/162", 13162, 162 },
		{ "127.0.0.1:14000/1000", "127.0.0.1", "127.0.0.1/1000", 14000, 1000 },
		{ "[::1]/162", "::1", "[::1]/162", 13162, 162 },
		{ "[::1]:13162/162", "::1", "[::1]/162", 13162, 162 },
		{ "::1/162", "::1", "[::1]/162", 13162, 162 },
		{ "[fe80::1%eth0]:9/8", "fe80::1%eth0", "[fe80::1%eth0]/8", 9, 8 },
		{ "trap.example.org/162", "trap.example.org", "trap.example.org/162", 13162, 162 },
		{ "h/1", "h", "h/1", 13001, 1 },
		{ "h/52535", "h", "h/52535", 65535, 52535 },
		{ "h:1/60000", "h", "h/60000", 1, 60000 },
		{ "h:65535/65535", "h", "h/65535", 65535, 65535 },
	};
	static const char *const bad[] = {
		"", "/", "/162", "127.0.0.1", "127.0.0.1/", "127.0.0.1/0", "127.0.0.1/65536",
		"127.0.0.1/x", "127.0.0.1/162/", "127.0.0.1/ 162", "127.0.0.1:x/162",
		"127.0.0.1:/162", "127.0.0.1:0/162", "127.0.0.1:65536/162", "[::1/162",
		"[::1]x/162", "[::1]:/162", "[]/162", ":13162/162", "a/b/162", "a b/162",
	};
	struct subarg_target t;
	const char *why;
	char spec[2 * SUBARG_HOST_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_msg(subarg_target(good[i].spec, &t, &why), "'%s' refused", good[i].spec);
		ck_assert_ptr_null(why);
		ck_assert_str_eq(t.host, good[i].host);
		ck_assert_str_eq(t.name, good[i].name);
		ck_assert_uint_eq(t.regport, good[i].regport);
		ck_assert_uint_eq(t.contested, good[i].contested);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		ck_assert_msg(!subarg_target(bad[i], &t, &why), "'%s' accepted", bad[i]);
		ck_assert_str_eq(why, "expected HOST[:REGPORT]/PORT");
	}
	/* A contested port with no registration port 13000 above it. */
	ck_assert(!subarg_target("127.0.0.1/52536", &t, &why));
	ck_assert_ptr_nonnull(strstr(why, "no default registration port above 52535"));
	ck_assert(!subarg_target("[::1]/60000", &t, &why));
	ck_assert_ptr_nonnull(strstr(why, "give HOST:REGPORT/PORT"));

	/* The longest host, bracketed, still fits the name. */
	spec[0] = '[';
	memset(spec + 1, 'a', SUBARG_HOST_MAX - 2);
	spec[SUBARG_HOST_MAX - 1] = ':';
	strcpy(spec + SUBARG_HOST_MAX, "]:65535/65535");
	ck_assert(subarg_target(spec, &t, &why));
	ck_assert_uint_eq(strlen(t.host), SUBARG_HOST_MAX - 1);
	ck_assert_uint_eq(strlen(t.name), SUBARG_HOST_MAX - 1 + strlen("[]/65535"));
	ck_assert_str_eq(t.name + strlen(t.name) - 8, ":]/65535");
	/* One more character is too long, however it is written. */
	memset(spec, 'a', SUBARG_HOST_MAX);
	strcpy(spec + SUBARG_HOST_MAX, "/162");
	ck_assert(!subarg_target(spec, &t, &why));
	memset(spec, 'a', sizeof(spec) - 8);
	strcpy(spec + sizeof(spec) - 8, "/162");
	ck_assert(!subarg_target(spec, &t, &why));
}
END_TEST

/* Sets option short_name to arg in o; false when refused. */
static bool set(struct subarg_opts *o, int short_name, const char *arg)
{
	const struct subarg_option *opt = subarg_option_find(short_name);

	ck_assert_ptr_nonnull(opt);
	return opt->set(o, arg);
}

START_TEST(option_table)
{
	struct subarg_opts o = SUBARG_OPTS_INIT;

	ck_assert_uint_eq(o.retry_ms, 2000);
	ck_assert_uint_eq(o.refresh_ms, 30000);
	ck_assert(!o.has_bind && !o.has_forward && o.address == NULL && o.count == 0);
	ck_assert(!o.hex && !o.framed);
	for (size_t i = 0; i < SUBARG_NOPTS; i++) {
		const struct subarg_option *opt = &subarg_options[i];

		ck_assert_ptr_nonnull(opt->name);
		ck_assert_ptr_nonnull(opt->help);
		ck_assert_ptr_nonnull(opt->set);
		ck_assert_int_ne(opt->short_name, 'h');
		ck_assert_ptr_eq(subarg_option_find(opt->short_name), opt);
		for (size_t j = 0; j < i; j++) {
			ck_assert_int_ne(subarg_options[j].short_name, opt->short_name);
			ck_assert_str_ne(subarg_options[j].name, opt->name);
		}
	}
	ck_assert_ptr_null(subarg_option_find('h'));
	ck_assert_ptr_null(subarg_option_find('?'));
	ck_assert_ptr_null(subarg_option_find(0));
	ck_assert_str_eq(subarg_option_find('R')->name, "refresh");
}
END_TEST

START_TEST(option_values)
{
	struct subarg_opts o = SUBARG_OPTS_INIT;
	const char *why;

	ck_assert(set(&o, 'b', "[::1]:5000") && o.has_bind);
	ck_assert_str_eq(o.bind.host, "::1");
	ck_assert_uint_eq(o.bind.port, 5000);
	ck_assert(set(&o, 'b', "0.0.0.0") && o.bind.port == 0);
	/* A refused value leaves what was set. */
	ck_assert(!set(&o, 'b', "[::1]:0"));
	ck_assert(o.has_bind && strcmp(o.bind.host, "0.0.0.0") == 0);

	ck_assert(set(&o, 'a', "192.0.2.7") && strcmp(o.address, "192.0.2.7") == 0);
	ck_assert(set(&o, 'a', "fe80::1%eth0"));
	ck_assert(!set(&o, 'a', "a b"));
	ck_assert(!set(&o, 'a', ""));
	ck_assert_str_eq(o.address, "fe80::1%eth0");

	ck_assert(set(&o, 'r', "0.3") && o.retry_ms == 300);
	ck_assert(!set(&o, 'r', "0"));
	ck_assert(o.retry_ms == 300);
	ck_assert(set(&o, 'R', "0") && o.refresh_ms == 0);
	ck_assert(set(&o, 'R', "1.5") && o.refresh_ms == 1500);
	ck_assert(!set(&o, 'R', "-1"));
	ck_assert(!set(&o, 'R', "0.01"));

	ck_assert(set(&o, 'c', "3") && o.count == 3);
	ck_assert(!set(&o, 'c', "0"));
	ck_assert_uint_eq(o.count, 3);

	ck_assert(set(&o, 'F', "127.0.0.1:9999") && o.has_forward);
	ck_assert_uint_eq(o.forward.port, 9999);
	ck_assert(!set(&o, 'F', "127.0.0.1"));
	ck_assert(o.has_forward && o.forward.port == 9999);

	ck_assert(subarg_check(&o, &why) && why == NULL);
	ck_assert(set(&o, 'f', NULL) && o.framed);
	ck_assert(subarg_check(&o, &why));
	ck_assert(set(&o, 'x', NULL) && o.hex);
	ck_assert(!subarg_check(&o, &why));
	ck_assert_str_eq(why, "--hex and --forward exclude each other");
}
END_TEST

START_TEST(usage)
{
	char text[4096], small[64];
	size_t n = subarg_usage(text, sizeof(text));

	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(n, strlen(text));
	ck_assert(strncmp(text, "usage: portshare-sub [options] TARGET...\n", 41) == 0);
	ck_assert_ptr_nonnull(strstr(text, "CONTESTED_PORT + 13000."));
	for (size_t i = 0; i < SUBARG_NOPTS; i++) {
		char want[64];

		snprintf(want, sizeof(want), "  -%c, --%s", subarg_options[i].short_name,
			 subarg_options[i].name);
		ck_assert_msg(strstr(text, want) != NULL, "no '%s'", want);
		ck_assert_ptr_nonnull(strstr(text, subarg_options[i].help));
	}
	ck_assert_ptr_nonnull(strstr(text, "  -R, --refresh SECONDS "));
	ck_assert_str_eq(text + n - 13, "  -h, --help\n");
	/* Exactly enough room, one byte short, and none. */
	ck_assert_uint_eq(subarg_usage(text, n + 1), n);
	ck_assert_uint_eq(subarg_usage(text, n), 0);
	ck_assert_uint_eq(subarg_usage(small, sizeof(small)), 0);
	ck_assert_uint_eq(subarg_usage(NULL, 0), 0);
}
END_TEST

START_TEST(hexline)
{
	static const uint8_t bytes[] = { 0x00, 0xff, 0x10, 0xab };
	char out[SUBARG_HEXLINE_MAX(sizeof(bytes))];
	char origin[SUBARG_HOST_MAX];

	ck_assert_uint_eq(subarg_hexline(NULL, 0, bytes, sizeof(bytes), out), 9);
	ck_assert_str_eq(out, "00ff10ab\n");
	ck_assert_uint_eq(subarg_hexline(NULL, 0, bytes, 0, out), 1);
	ck_assert_str_eq(out, "\n");
	subarg_hexline("203.0.113.7", 5353, (const uint8_t *)"hello", 5, out);
	ck_assert_str_eq(out, "203.0.113.7 5353 5 68656c6c6f\n");
	subarg_hexline("198.51.100.1", 1, bytes, 0, out);
	ck_assert_str_eq(out, "198.51.100.1 1 0\n");
	subarg_hexline("2001:db8::5", 40000, bytes, 2, out);
	ck_assert_str_eq(out, "2001:db8::5 40000 2 00ff\n");
	/* The longest origin and port fit SUBARG_HEXLINE_MAX. */
	memset(origin, 'a', sizeof(origin) - 1);
	origin[sizeof(origin) - 1] = '\0';
	ck_assert_uint_eq(subarg_hexline(origin, 65535, bytes, sizeof(bytes), out),
			  SUBARG_HOST_MAX - 1 + strlen(" 65535 4 00ff10ab\n"));
}
END_TEST

static Suite *subarg_suite(void)
{
	Suite *s = suite_create("subarg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, numbers);
	tcase_add_test(tc, seconds);
	tcase_add_test(tc, hostport);
	tcase_add_test(tc, targets);
	tcase_add_test(tc, option_table);
	tcase_add_test(tc, option_values);
	tcase_add_test(tc, usage);
	tcase_add_test(tc, hexline);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(subarg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
