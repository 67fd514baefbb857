/*
 * Unit tests for mapping: protocol names, address canonicalisation,
 * single-row validation and the conflict rules between rows.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mapping.h"

/* Builds a valid-looking row; tests change the one field they exercise. */
static struct mapping make(int64_t id, unsigned proto, const char *address,
			   uint32_t shared, uint32_t assigned)
{
	struct mapping m;

	memset(&m, 0, sizeof(m));
	m.id = id;
	m.proto = proto;
	snprintf(m.address, sizeof(m.address), "%s", address);
	m.shared_port = shared;
	m.assigned_port = assigned;
	m.enabled = true;
	return m;
}

static void check_error(const struct mapping_error *err, int status,
			const char *code, const char *field)
{
	ck_assert_int_eq(err->status, status);
	ck_assert_str_eq(err->code, code);
	ck_assert_str_eq(err->field, field);
	ck_assert_msg(err->message[0] != '\0', "empty message");
}

START_TEST(proto_names)
{
	static const struct {
		const char *name;
		unsigned proto;
	} cases[] = {
		{ "tcp", MAPPING_TCP },
		{ "udp", MAPPING_UDP },
		{ "both", MAPPING_BOTH },
	};
	unsigned proto;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert(mapping_proto_parse(cases[i].name, &proto));
		ck_assert_uint_eq(proto, cases[i].proto);
		ck_assert_str_eq(mapping_proto_name(cases[i].proto), cases[i].name);
	}
	ck_assert(!mapping_proto_parse("TCP", &proto));
	ck_assert(!mapping_proto_parse("", &proto));
	ck_assert(!mapping_proto_parse("sctp", &proto));
	ck_assert(!mapping_proto_parse("tcp ", &proto));
	ck_assert_str_eq(mapping_proto_name(0), "unknown");
	ck_assert_str_eq(mapping_proto_name(4), "unknown");
}
END_TEST

static const struct {
	const char *in;
	const char *out;
	int family;
} good_addresses[] = {
	{ "10.0.0.1", "10.0.0.1", AF_INET },
	{ "255.255.255.255", "255.255.255.255", AF_INET },
	{ "::1", "::1", AF_INET6 },
	{ "[::1]", "::1", AF_INET6 },
	{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1", AF_INET6 },
	{ "[2001:db8::0:1]", "2001:db8::1", AF_INET6 },
	{ "::ffff:10.0.0.1", "::ffff:10.0.0.1", AF_INET6 },
	{ "Example.COM", "example.com", 0 },
	{ "example.com.", "example.com", 0 },
	{ "localhost", "localhost", 0 },
	{ "a-b.c0", "a-b.c0", 0 },
	{ "1.2.3.com", "1.2.3.com", 0 },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example", 0 },
};

START_TEST(address_good)
{
	char out[MAPPING_ADDRESS_MAX];
	struct mapping_error err;
	int family = -1;

	ck_assert_msg(mapping_normalize_address(good_addresses[_i].in, out,
						&family, &err),
		      "%s: %s", good_addresses[_i].in, err.message);
	ck_assert_str_eq(out, good_addresses[_i].out);
	ck_assert_int_eq(family, good_addresses[_i].family);
}
END_TEST

/* Names at the exact length limits: a 63-character label, a 253-character name. */
START_TEST(address_limits)
{
	char name[300], out[MAPPING_ADDRESS_MAX];
	struct mapping_error err;
	int family;

	memset(name, 'a', 63);
	strcpy(name + 63, ".b");
	ck_assert(mapping_normalize_address(name, out, &family, &err));

	/* Four 63-character labels joined by dots, cut to 253 characters. */
	for (size_t i = 0; i < 256; i++)
		name[i] = (i % 64 == 63) ? '.' : 'a';
	name[253] = '\0';
	ck_assert(mapping_normalize_address(name, out, &family, &err));
	ck_assert_uint_eq(strlen(out), 253);

	/* The same with a trailing dot is still 253 characters of name. */
	name[253] = '.';
	name[254] = '\0';
	ck_assert(mapping_normalize_address(name, out, &family, &err));
	ck_assert_uint_eq(strlen(out), 253);

	name[253] = 'a';
	ck_assert(!mapping_normalize_address(name, out, &family, &err));
	check_error(&err, 422, "invalid_address", "address");
	ck_assert_ptr_nonnull(strstr(err.message, "longer than 253"));
}
END_TEST

static const char *const bad_addresses[] = {
	"",
	"-x",
	"x-",
	"a.-b",
	"a..b",
	".a",
	".",
	"1.2.3.999",
	"1.2.3",
	"010.0.0.1",
	"a b",
	"a_b",
	"[10.0.0.1]",
	"[::1",
	"::1]",
	"[]",
	"fe80::1%eth0",
	"caf\xc3\xa9.example",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
};

START_TEST(address_bad)
{
	char out[MAPPING_ADDRESS_MAX] = "untouched";
	struct mapping_error err;
	int family = -1;

	ck_assert_msg(!mapping_normalize_address(bad_addresses[_i], out, &family,
						 &err),
		      "accepted \"%s\"", bad_addresses[_i]);
	check_error(&err, 422, "invalid_address", "address");
	ck_assert_str_eq(out, "untouched");
	ck_assert_int_eq(family, -1);
}
END_TEST

START_TEST(address_messages)
{
	char out[MAPPING_ADDRESS_MAX], big[1000];
	struct mapping_error err;
	int family;

	ck_assert(!mapping_normalize_address("", out, &family, &err));
	ck_assert_str_eq(err.message, "address is empty");

	ck_assert(!mapping_normalize_address("a..b", out, &family, &err));
	ck_assert_str_eq(err.message, "address \"a..b\" has an empty label");

	ck_assert(!mapping_normalize_address("1.2.3.999", out, &family, &err));
	ck_assert_ptr_nonnull(strstr(err.message, "\"1.2.3.999\""));

	/* Non-printable bytes are masked so the message stays valid UTF-8. */
	ck_assert(!mapping_normalize_address("a\x01\xff", out, &family, &err));
	ck_assert_ptr_nonnull(strstr(err.message, "\"a??\""));

	/* A huge value is cut, and the reason after it survives. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert(!mapping_normalize_address(big, out, &family, &err));
	ck_assert_ptr_nonnull(strstr(err.message, "...\" is longer than 253"));
}
END_TEST

/* Normalising in place (out == in) is what mapping_validate does. */
START_TEST(address_in_place)
{
	char buf[MAPPING_ADDRESS_MAX] = "[2001:DB8::1]";
	struct mapping_error err;
	int family;

	ck_assert(mapping_normalize_address(buf, buf, &family, &err));
	ck_assert_str_eq(buf, "2001:db8::1");
	strcpy(buf, "WWW.Example.org.");
	ck_assert(mapping_normalize_address(buf, buf, &family, &err));
	ck_assert_str_eq(buf, "www.example.org");
}
END_TEST

START_TEST(validate_good)
{
	struct mapping m = make(0, MAPPING_BOTH, "Host.Example", 1, 65535);
	struct mapping_error err;

	strcpy(m.comment, "web server \xe2\x80\x94 blue");
	ck_assert_msg(mapping_validate(&m, &err), "%s", err.message);
	ck_assert_str_eq(m.address, "host.example");
	ck_assert_int_eq(m.family, 0);

	m = make(0, MAPPING_TCP, "[::1]", 80, 8080);
	ck_assert(mapping_validate(&m, &err));
	ck_assert_str_eq(m.address, "::1");
	ck_assert_int_eq(m.family, AF_INET6);
}
END_TEST

START_TEST(validate_ports)
{
	static const struct {
		uint32_t shared, assigned;
		const char *code, *field, *message;
	} cases[] = {
		{ 0, 80, "invalid_port", "shared_port",
		  "shared_port 0 is outside 1..65535" },
		{ 65536, 80, "invalid_port", "shared_port",
		  "shared_port 65536 is outside 1..65535" },
		{ 80, 0, "invalid_port", "assigned_port",
		  "assigned_port 0 is outside 1..65535" },
		{ 80, 65536, "invalid_port", "assigned_port",
		  "assigned_port 65536 is outside 1..65535" },
		{ 80, 80, "same_port", "assigned_port", NULL },
	};
	struct mapping_error err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mapping m = make(0, MAPPING_TCP, "10.0.0.1",
					cases[i].shared, cases[i].assigned);

		ck_assert(!mapping_validate(&m, &err));
		check_error(&err, 422, cases[i].code, cases[i].field);
		if (cases[i].message)
			ck_assert_str_eq(err.message, cases[i].message);
	}
}
END_TEST

START_TEST(validate_proto_address_comment)
{
	struct mapping_error err;
	struct mapping m = make(0, 0, "10.0.0.1", 80, 8080);

	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_proto", "proto");
	m.proto = 4;
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_proto", "proto");

	m = make(0, MAPPING_UDP, "1.2.3.999", 80, 8080);
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_address", "address");
	ck_assert_str_eq(m.address, "1.2.3.999");

	/* An address array without a terminator is refused, not overread. */
	m = make(0, MAPPING_UDP, "x", 80, 8080);
	memset(m.address, 'a', sizeof(m.address));
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_address", "address");

	m = make(0, MAPPING_UDP, "10.0.0.1", 80, 8080);
	strcpy(m.comment, "line\nbreak");
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_comment", "comment");

	strcpy(m.comment, "del\x7f");
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_comment", "comment");

	strcpy(m.comment, "bad \xc3 utf8");
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_comment", "comment");

	strcpy(m.comment, "overlong \xc0\xaf");
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_comment", "comment");

	strcpy(m.comment, "surrogate \xed\xa0\x80");
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_comment", "comment");

	memset(m.comment, 'c', MAPPING_COMMENT_MAX - 1);
	m.comment[MAPPING_COMMENT_MAX - 1] = '\0';
	ck_assert(mapping_validate(&m, &err));
	m.comment[MAPPING_COMMENT_MAX - 1] = 'c';
	ck_assert(!mapping_validate(&m, &err));
	check_error(&err, 422, "invalid_comment", "comment");
}
END_TEST

/* The table the conflict tests check candidates against. */
static struct mapping table[4];

static void setup_table(void)
{
	table[0] = make(1, MAPPING_TCP, "10.0.0.1", 80, 8080);
	table[1] = make(2, MAPPING_UDP, "10.0.0.1", 53, 5353);
	table[2] = make(3, MAPPING_BOTH, "10.0.0.2", 443, 8443);
	table[3] = make(4, MAPPING_TCP, "2001:db8::1", 22, 2222);
	table[3].enabled = false;
}

static const struct {
	const char *what;
	struct {
		int64_t id;
		unsigned proto;
		const char *address;
		uint32_t shared, assigned;
	} m;
	const char *code; /* NULL: no conflict */
	const char *field;
} conflict_cases[] = {
	{ "duplicate shared port", { 0, MAPPING_TCP, "10.0.0.1", 80, 9000 },
	  "duplicate", "shared_port" },
	{ "same assigned port", { 0, MAPPING_TCP, "10.0.0.1", 81, 8080 },
	  "ambiguous_reverse", "assigned_port" },
	{ "shared is another's assigned", { 0, MAPPING_TCP, "10.0.0.1", 8080, 9000 },
	  "port_conflict", "shared_port" },
	{ "assigned is another's shared", { 0, MAPPING_TCP, "10.0.0.1", 81, 80 },
	  "port_conflict", "assigned_port" },
	{ "tcp and udp do not overlap", { 0, MAPPING_UDP, "10.0.0.1", 80, 8080 },
	  NULL, NULL },
	{ "both overlaps tcp", { 0, MAPPING_BOTH, "10.0.0.1", 80, 9000 },
	  "duplicate", "shared_port" },
	{ "tcp overlaps both", { 0, MAPPING_TCP, "10.0.0.2", 443, 9000 },
	  "duplicate", "shared_port" },
	{ "udp overlaps both", { 0, MAPPING_UDP, "10.0.0.2", 1, 8443 },
	  "ambiguous_reverse", "assigned_port" },
	{ "different address", { 0, MAPPING_TCP, "10.0.0.3", 80, 8080 },
	  NULL, NULL },
	{ "same id is skipped", { 1, MAPPING_TCP, "10.0.0.1", 80, 8081 },
	  NULL, NULL },
	{ "same id still checked against others",
	  { 1, MAPPING_BOTH, "10.0.0.1", 53, 8080 }, "duplicate", "shared_port" },
	{ "disabled rows still conflict",
	  { 0, MAPPING_TCP, "2001:db8::1", 22, 2223 }, "duplicate", "shared_port" },
	{ "fresh mapping", { 0, MAPPING_BOTH, "10.0.0.1", 81, 8081 }, NULL, NULL },
};

START_TEST(conflicts)
{
	struct mapping m = make(conflict_cases[_i].m.id, conflict_cases[_i].m.proto,
				conflict_cases[_i].m.address,
				conflict_cases[_i].m.shared,
				conflict_cases[_i].m.assigned);
	struct mapping_error err;
	bool ok = mapping_check_conflicts(&m, table, 4, &err);

	if (conflict_cases[_i].code == NULL) {
		ck_assert_msg(ok, "%s: %s", conflict_cases[_i].what, err.message);
		return;
	}
	ck_assert_msg(!ok, "%s: accepted", conflict_cases[_i].what);
	check_error(&err, 409, conflict_cases[_i].code, conflict_cases[_i].field);
}
END_TEST

START_TEST(conflict_messages)
{
	struct mapping m = make(0, MAPPING_BOTH, "10.0.0.1", 80, 9000);
	struct mapping_error err;

	ck_assert(!mapping_check_conflicts(&m, table, 4, &err));
	ck_assert_str_eq(err.message, "mapping 1 already shares tcp 10.0.0.1:80");

	m = make(0, MAPPING_TCP, "2001:db8::1", 2222, 9000);
	ck_assert(!mapping_check_conflicts(&m, table, 4, &err));
	ck_assert_str_eq(err.message,
			 "mapping 4 already assigns tcp [2001:db8::1]:2222; one "
			 "packet would match two mappings");

	ck_assert(mapping_check_conflicts(&m, NULL, 0, &err));
}
END_TEST

START_TEST(fail_formats)
{
	struct mapping_error err;

	ck_assert(!mapping_fail(&err, 404, "not_found", "", "mapping %d not found", 7));
	check_error(&err, 404, "not_found", "");
	ck_assert_str_eq(err.message, "mapping 7 not found");
}
END_TEST

static Suite *mapping_suite(void)
{
	Suite *s = suite_create("mapping");
	TCase *tc = tcase_create("mapping");

	tcase_add_checked_fixture(tc, setup_table, NULL);
	tcase_add_test(tc, proto_names);
	tcase_add_loop_test(tc, address_good, 0,
			    sizeof(good_addresses) / sizeof(good_addresses[0]));
	tcase_add_test(tc, address_limits);
	tcase_add_loop_test(tc, address_bad, 0,
			    sizeof(bad_addresses) / sizeof(bad_addresses[0]));
	tcase_add_test(tc, address_messages);
	tcase_add_test(tc, address_in_place);
	tcase_add_test(tc, validate_good);
	tcase_add_test(tc, validate_ports);
	tcase_add_test(tc, validate_proto_address_comment);
	tcase_add_loop_test(tc, conflicts, 0,
			    sizeof(conflict_cases) / sizeof(conflict_cases[0]));
	tcase_add_test(tc, conflict_messages);
	tcase_add_test(tc, fail_formats);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mapping_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
