/*
 * Unit tests for mapjson: applying request bodies for POST, PUT and PATCH
 * (defaults, every 400 and 422 answer, which fields a PATCH leaves alone),
 * encoding a row with its live state as the API shows it, the depth
 * scanner and body parser, and the config document both ways.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapjson.h"

enum mode { POST, PUT, PATCH };

/* The URL's id every PUT and PATCH below is sent to. */
#define URL_ID 5

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, MAPJSON_LOAD_FLAGS, &jerr);

	ck_assert_msg(root != NULL, "cannot parse %s: %s", text, jerr.text);
	return root;
}

/* A stored row, as PATCH finds it before applying the body. */
static struct mapping stored(void)
{
	struct mapping m;

	mapjson_defaults(&m);
	m.id = URL_ID;
	m.proto = MAPPING_UDP;
	snprintf(m.address, sizeof(m.address), "example.com");
	m.shared_port = 53;
	m.assigned_port = 5353;
	m.enabled = false;
	snprintf(m.comment, sizeof(m.comment), "dns");
	return m;
}

/* Field by field, since padding bytes need not survive a struct copy. */
static void check_same(const struct mapping *got, const struct mapping *want)
{
	ck_assert_int_eq(got->id, want->id);
	ck_assert_uint_eq(got->proto, want->proto);
	ck_assert_str_eq(got->address, want->address);
	ck_assert_int_eq(got->family, want->family);
	ck_assert_uint_eq(got->shared_port, want->shared_port);
	ck_assert_uint_eq(got->assigned_port, want->assigned_port);
	ck_assert_int_eq(got->enabled, want->enabled);
	ck_assert_str_eq(got->comment, want->comment);
}

/*
 * Prepares m as api.c does for mode (defaults for POST and PUT, the stored
 * row for PATCH, the URL's id for PUT and PATCH), then applies text.
 */
static bool apply(enum mode mode, const char *text, struct mapping *m,
		  struct mapping_error *err, json_t **root)
{
	*root = parse(text);
	if (mode == PATCH) {
		*m = stored();
	} else {
		mapjson_defaults(m);
		m->id = mode == PUT ? URL_ID : 0;
	}
	memset(err, 0, sizeof(*err));
	return mapjson_apply(*root, m, mode == PATCH, err);
}

static const struct {
	enum mode mode;
	const char *body;
	int status;
	const char *code;
	const char *field;
} bad_bodies[] = {
	/* Shape errors, 400. */
	{ POST, "[]", 400, "not_object", "" },
	{ PUT, "[{\"address\":\"a\"}]", 400, "not_object", "" },
	{ PATCH, "[]", 400, "not_object", "" },
	{ POST, "{\"address\":\"a\",\"shared_port\":1,\"assigned_port\":2,"
		"\"Address\":\"b\"}", 400, "unknown_field", "Address" },
	{ PATCH, "{\"port\":1}", 400, "unknown_field", "port" },
	/* An unknown field is reported before a missing one. */
	{ POST, "{\"x\":1}", 400, "unknown_field", "x" },
	{ POST, "{}", 400, "missing_field", "address" },
	{ POST, "{\"address\":\"a\",\"assigned_port\":2}", 400,
	  "missing_field", "shared_port" },
	{ POST, "{\"address\":\"a\",\"shared_port\":1}", 400,
	  "missing_field", "assigned_port" },
	{ PUT, "{\"shared_port\":1,\"assigned_port\":2}", 400,
	  "missing_field", "address" },
	{ PUT, "{\"proto\":\"tcp\",\"enabled\":true,\"comment\":\"\"}", 400,
	  "missing_field", "address" },
	{ POST, "{\"address\":1,\"shared_port\":1,\"assigned_port\":2}", 400,
	  "invalid_type", "address" },
	{ POST, "{\"address\":\"a\",\"shared_port\":\"80\",\"assigned_port\":2}",
	  400, "invalid_type", "shared_port" },
	{ POST, "{\"address\":\"a\",\"shared_port\":80.0,\"assigned_port\":2}",
	  400, "invalid_type", "shared_port" },
	{ PATCH, "{\"assigned_port\":null}", 400, "invalid_type",
	  "assigned_port" },
	{ PATCH, "{\"proto\":6}", 400, "invalid_type", "proto" },
	{ PATCH, "{\"enabled\":\"true\"}", 400, "invalid_type", "enabled" },
	{ PATCH, "{\"enabled\":1}", 400, "invalid_type", "enabled" },
	{ PATCH, "{\"comment\":null}", 400, "invalid_type", "comment" },
	{ PATCH, "{\"id\":\"5\"}", 400, "invalid_type", "id" },
	/* Every shape error comes before any value error. */
	{ POST, "{\"address\":\"a\",\"shared_port\":0,\"assigned_port\":\"2\"}",
	  400, "invalid_type", "assigned_port" },
	{ PATCH, "{\"shared_port\":70000,\"comment\":[]}", 400, "invalid_type",
	  "comment" },
	/* The id is the server's: POST may not send one, PUT only its own. */
	{ POST, "{\"id\":1,\"address\":\"a\",\"shared_port\":1,"
		"\"assigned_port\":2}", 400, "id_mismatch", "id" },
	{ POST, "{\"id\":0,\"address\":\"a\",\"shared_port\":1,"
		"\"assigned_port\":2}", 400, "id_mismatch", "id" },
	{ PUT, "{\"id\":6,\"address\":\"a\",\"shared_port\":1,"
	       "\"assigned_port\":2}", 400, "id_mismatch", "id" },
	{ PATCH, "{\"id\":-5}", 400, "id_mismatch", "id" },
	/* Value errors, 422. */
	{ PATCH, "{\"proto\":\"TCP\"}", 422, "invalid_proto", "proto" },
	{ PATCH, "{\"proto\":\"\"}", 422, "invalid_proto", "proto" },
	{ POST, "{\"address\":\"a\",\"shared_port\":-1,\"assigned_port\":2}",
	  422, "invalid_port", "shared_port" },
	{ POST, "{\"address\":\"a\",\"shared_port\":0,\"assigned_port\":2}",
	  422, "invalid_port", "shared_port" },
	{ POST, "{\"address\":\"a\",\"shared_port\":70000,\"assigned_port\":2}",
	  422, "invalid_port", "shared_port" },
	{ POST, "{\"address\":\"a\",\"shared_port\":65536,\"assigned_port\":2}",
	  422, "invalid_port", "shared_port" },
	{ POST, "{\"address\":\"a\",\"shared_port\":4294967376,"
		"\"assigned_port\":2}", 422, "invalid_port", "shared_port" },
	{ PUT, "{\"address\":\"a\",\"shared_port\":1,\"assigned_port\":-1}",
	  422, "invalid_port", "assigned_port" },
	{ PUT, "{\"address\":\"a\",\"shared_port\":1,\"assigned_port\":0}",
	  422, "invalid_port", "assigned_port" },
	{ PATCH, "{\"assigned_port\":70000}", 422, "invalid_port",
	  "assigned_port" },
	{ PATCH, "{\"assigned_port\":4294967376}", 422, "invalid_port",
	  "assigned_port" },
	{ PATCH, "{\"assigned_port\":-4294967295}", 422, "invalid_port",
	  "assigned_port" },
};

START_TEST(bad_body)
{
	struct mapping_error err;
	struct mapping m;
	json_t *root;

	ck_assert_msg(!apply(bad_bodies[_i].mode, bad_bodies[_i].body, &m, &err,
			     &root), "accepted %s", bad_bodies[_i].body);
	ck_assert_int_eq(err.status, bad_bodies[_i].status);
	ck_assert_str_eq(err.code, bad_bodies[_i].code);
	/* err.field may point into root, so it is read before root goes. */
	ck_assert_str_eq(err.field, bad_bodies[_i].field);
	ck_assert_msg(err.message[0] != '\0', "empty message");
	json_decref(root);
}
END_TEST

START_TEST(post_defaults)
{
	struct mapping_error err;
	struct mapping m;
	json_t *root;

	ck_assert(apply(POST, "{\"address\":\"10.0.0.1\",\"shared_port\":80,"
			      "\"assigned_port\":8080}", &m, &err, &root));
	ck_assert_int_eq(m.id, 0);
	ck_assert_uint_eq(m.proto, MAPPING_BOTH);
	ck_assert_str_eq(m.address, "10.0.0.1");
	ck_assert_uint_eq(m.shared_port, 80);
	ck_assert_uint_eq(m.assigned_port, 8080);
	ck_assert(m.enabled);
	ck_assert_str_eq(m.comment, "");
	json_decref(root);
}
END_TEST

START_TEST(post_every_field)
{
	struct mapping_error err;
	struct mapping m;
	json_t *root;

	ck_assert(apply(POST, "{\"proto\":\"tcp\",\"address\":\"Host.Example\","
			      "\"shared_port\":1,\"assigned_port\":65535,"
			      "\"enabled\":false,\"comment\":\"caf\\u00e9\"}",
			&m, &err, &root));
	ck_assert_uint_eq(m.proto, MAPPING_TCP);
	/* Canonical form is mapping_validate's business, not this module's. */
	ck_assert_str_eq(m.address, "Host.Example");
	ck_assert_uint_eq(m.shared_port, 1);
	ck_assert_uint_eq(m.assigned_port, 65535);
	ck_assert(!m.enabled);
	ck_assert_str_eq(m.comment, "caf\xc3\xa9");
	json_decref(root);
}
END_TEST

START_TEST(port_messages)
{
	struct mapping_error err;
	struct mapping m;
	json_t *root;

	ck_assert(!apply(PATCH, "{\"shared_port\":4294967376}", &m, &err, &root));
	ck_assert_str_eq(err.message, "shared_port 4294967376 is outside 1..65535");
	/* The row is not touched by the wide value's low 32 bits (80). */
	ck_assert_uint_eq(m.shared_port, 53);
	json_decref(root);
	ck_assert(!apply(PATCH, "{\"assigned_port\":-1}", &m, &err, &root));
	ck_assert_str_eq(err.message, "assigned_port -1 is outside 1..65535");
	json_decref(root);
}
END_TEST

/* The longest string that fits is taken whole; one byte more is refused. */
START_TEST(string_limits)
{
	static const struct {
		const char *name;
		size_t offset;
		size_t max;
		const char *code;
	} cases[] = {
		{ "address", offsetof(struct mapping, address),
		  MAPPING_ADDRESS_MAX - 1, "invalid_address" },
		{ "comment", offsetof(struct mapping, comment),
		  MAPPING_COMMENT_MAX - 1, "invalid_comment" },
	};
	char value[MAPPING_COMMENT_MAX + 1];
	char body[2 * MAPPING_COMMENT_MAX];
	struct mapping_error err;
	struct mapping m;
	json_t *root;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(value, 'a', cases[i].max);
		value[cases[i].max] = '\0';
		snprintf(body, sizeof(body), "{\"%s\":\"%s\"}", cases[i].name, value);
		ck_assert(apply(PATCH, body, &m, &err, &root));
		ck_assert_str_eq((const char *)&m + cases[i].offset, value);
		json_decref(root);

		value[cases[i].max] = 'a';
		value[cases[i].max + 1] = '\0';
		snprintf(body, sizeof(body), "{\"%s\":\"%s\"}", cases[i].name, value);
		ck_assert(!apply(PATCH, body, &m, &err, &root));
		ck_assert_int_eq(err.status, 422);
		ck_assert_str_eq(err.code, cases[i].code);
		ck_assert_str_eq(err.field, cases[i].name);
		json_decref(root);
	}
}
END_TEST

START_TEST(patch_keeps_other_fields)
{
	struct mapping want = stored(), m;
	struct mapping_error err;
	json_t *root;

	ck_assert(apply(PATCH, "{}", &m, &err, &root));
	check_same(&m, &want);
	json_decref(root);

	ck_assert(apply(PATCH, "{\"enabled\":true}", &m, &err, &root));
	want.enabled = true;
	check_same(&m, &want);
	json_decref(root);

	ck_assert(apply(PATCH, "{\"id\":5,\"comment\":\"\",\"proto\":\"both\","
			       "\"shared_port\":54}", &m, &err, &root));
	want = stored();
	want.comment[0] = '\0';
	want.proto = MAPPING_BOTH;
	want.shared_port = 54;
	check_same(&m, &want);
	json_decref(root);
}
END_TEST

/* PUT replaces the whole row: what the body leaves out is a default again. */
START_TEST(put_replaces)
{
	struct mapping_error err;
	struct mapping m;
	json_t *root;

	ck_assert(apply(PUT, "{\"id\":5,\"address\":\"::1\",\"shared_port\":443,"
			     "\"assigned_port\":8443}", &m, &err, &root));
	ck_assert_int_eq(m.id, URL_ID);
	ck_assert_uint_eq(m.proto, MAPPING_BOTH);
	ck_assert_str_eq(m.address, "::1");
	ck_assert_uint_eq(m.shared_port, 443);
	ck_assert_uint_eq(m.assigned_port, 8443);
	ck_assert(m.enabled);
	ck_assert_str_eq(m.comment, "");
	json_decref(root);

	/* Without an id in the body the URL's id stands. */
	ck_assert(apply(PUT, "{\"address\":\"a\",\"shared_port\":1,"
			     "\"assigned_port\":2}", &m, &err, &root));
	ck_assert_int_eq(m.id, URL_ID);
	json_decref(root);
}
END_TEST

/* The API parses bodies with these flags, so a repeated key never arrives. */
START_TEST(duplicate_keys)
{
	json_error_t jerr;
	json_t *root = json_loads("{\"shared_port\":1,\"shared_port\":2}",
				  MAPJSON_LOAD_FLAGS, &jerr);

	ck_assert_ptr_null(root);
}
END_TEST

static struct control_mapping sample(void)
{
	struct control_mapping cm;

	memset(&cm, 0, sizeof(cm));
	cm.m = stored();
	cm.m.id = 42;
	cm.m.enabled = true;
	cm.packets_in = 1;
	cm.bytes_in = 60;
	cm.packets_out = 2;
	cm.bytes_out = 4000000000000ULL;
	cm.resolved = true;
	cm.naddrs = 2;
	snprintf(cm.addrs[0], sizeof(cm.addrs[0]), "192.0.2.1");
	snprintf(cm.addrs[1], sizeof(cm.addrs[1]), "2001:db8::1");
	return cm;
}

static json_int_t int_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

START_TEST(encode_fields)
{
	struct control_mapping cm = sample();
	json_t *o = mapjson_encode(&cm), *counters, *addrs;

	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(json_object_size(o), 11);
	ck_assert_int_eq(int_of(o, "id"), 42);
	ck_assert_str_eq(str_of(o, "proto"), "udp");
	ck_assert_str_eq(str_of(o, "address"), "example.com");
	ck_assert_int_eq(int_of(o, "shared_port"), 53);
	ck_assert_int_eq(int_of(o, "assigned_port"), 5353);
	ck_assert(json_is_true(json_object_get(o, "enabled")));
	ck_assert_str_eq(str_of(o, "comment"), "dns");
	ck_assert(json_is_true(json_object_get(o, "resolved")));
	addrs = json_object_get(o, "addresses");
	ck_assert(json_is_array(addrs));
	ck_assert_uint_eq(json_array_size(addrs), 2);
	ck_assert_str_eq(json_string_value(json_array_get(addrs, 0)), "192.0.2.1");
	ck_assert_str_eq(json_string_value(json_array_get(addrs, 1)), "2001:db8::1");
	ck_assert(json_is_null(json_object_get(o, "resolve_error")));

	counters = json_object_get(o, "counters");
	ck_assert(json_is_object(counters));
	ck_assert_uint_eq(json_object_size(counters), 5);
	ck_assert_int_eq(int_of(counters, "packets_in"), 1);
	ck_assert_int_eq(int_of(counters, "bytes_in"), 60);
	ck_assert_int_eq(int_of(counters, "packets_out"), 2);
	ck_assert_int_eq(int_of(counters, "bytes_out"), 4000000000000LL);
	ck_assert(json_is_null(json_object_get(counters, "last_hit")));
	json_decref(o);
}
END_TEST

START_TEST(encode_live_state)
{
	struct control_mapping cm = sample();
	json_t *o;

	cm.resolved = false;
	cm.naddrs = 0;
	snprintf(cm.resolve_error, sizeof(cm.resolve_error), "no such name");
	cm.last_hit = 1704164645;
	o = mapjson_encode(&cm);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_is_false(json_object_get(o, "resolved")));
	ck_assert_uint_eq(json_array_size(json_object_get(o, "addresses")), 0);
	ck_assert_str_eq(str_of(o, "resolve_error"), "no such name");
	ck_assert_str_eq(str_of(json_object_get(o, "counters"), "last_hit"),
			 "2024-01-02T03:04:05Z");
	json_decref(o);

	/* A count past the array is a bug elsewhere; only the array is shown. */
	cm.naddrs = CONTROL_MAX_ADDRS + 3;
	o = mapjson_encode(&cm);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "addresses")),
			  CONTROL_MAX_ADDRS);
	json_decref(o);
}
END_TEST

/*
 * What GET answers, stripped of the live state the server owns, is a PUT
 * body for the same row that changes nothing.
 */
START_TEST(encode_round_trip)
{
	static const char *const live[] = {
		"resolved", "addresses", "resolve_error", "counters",
	};
	unsigned protos[] = { MAPPING_TCP, MAPPING_UDP, MAPPING_BOTH };
	struct control_mapping cm = sample();
	struct mapping_error err;
	struct mapping m;
	json_t *o;

	for (size_t p = 0; p < sizeof(protos) / sizeof(protos[0]); p++) {
		cm.m.proto = protos[p];
		cm.m.enabled = p % 2 == 0;
		o = mapjson_encode(&cm);
		ck_assert_ptr_nonnull(o);
		for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
			ck_assert_int_eq(json_object_del(o, live[i]), 0);
		mapjson_defaults(&m);
		m.id = cm.m.id;
		ck_assert_msg(mapjson_apply(o, &m, false, &err), "%s", err.message);
		check_same(&m, &cm.m);
		json_decref(o);
	}
}
END_TEST

START_TEST(iso_time)
{
	char buf[MAPJSON_TIME_LEN];

	ck_assert_ptr_null(mapjson_iso_time(0, buf));
	ck_assert_str_eq(mapjson_iso_time(1, buf), "1970-01-01T00:00:01Z");
	ck_assert_str_eq(mapjson_iso_time(86400, buf), "1970-01-02T00:00:00Z");
	ck_assert_str_eq(mapjson_iso_time(4102444799, buf), "2099-12-31T23:59:59Z");
	/* Before 1970 is still a time, only 0 means never. */
	ck_assert_str_eq(mapjson_iso_time(-1, buf), "1969-12-31T23:59:59Z");
}
END_TEST

/* ---- depth and parsing ------------------------------------------------ */

/* Returns n opening brackets of kind open, then n closing ones. */
static char *nested(unsigned n, char open, char close)
{
	char *s = malloc(2 * n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, open, n);
	memset(s + n, close, n);
	s[2 * n] = '\0';
	return s;
}

static bool depth_ok(const char *text, unsigned max)
{
	return mapjson_depth_ok(text, strlen(text), max);
}

START_TEST(depth_scanner)
{
	char *at_limit = nested(MAPJSON_MAX_DEPTH, '[', ']');
	char *past = nested(MAPJSON_MAX_DEPTH + 1, '{', '}');

	ck_assert(depth_ok(at_limit, MAPJSON_MAX_DEPTH));
	ck_assert(!depth_ok(past, MAPJSON_MAX_DEPTH));
	ck_assert(depth_ok("", 0));
	ck_assert(depth_ok("1", 0));
	ck_assert(!depth_ok("[]", 0));
	ck_assert(depth_ok("[]", 1));
	ck_assert(depth_ok("[[],[],{}]", 2));
	ck_assert(!depth_ok("[[[]]]", 2));
	/* Brackets inside strings are text, escaped quotes do not end them. */
	ck_assert(depth_ok("[\"[[[[\"]", 1));
	ck_assert(depth_ok("[\"\\\"[[[[\"]", 1));
	ck_assert(!depth_ok("[\"\\\\\"[[]]", 2));
	ck_assert(depth_ok("{\"a{\":\"}}}}\"}", 1));
	/* Stray closers cannot buy depth for later openers. */
	ck_assert(!depth_ok("]]]]][[[", 2));
	/* Only len bytes are read. */
	ck_assert(mapjson_depth_ok("[[[[", 2, 2));
	free(at_limit);
	free(past);
}
END_TEST

START_TEST(parse_body)
{
	struct mapping_error err;
	char *deep = nested(MAPJSON_MAX_DEPTH + 1, '[', ']');
	char *fine = nested(MAPJSON_MAX_DEPTH, '[', ']');
	json_t *v;

	v = mapjson_parse(deep, strlen(deep), &err);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "too_deep");
	v = mapjson_parse(fine, strlen(fine), &err);
	ck_assert_ptr_nonnull(v);
	json_decref(v);
	v = mapjson_parse("{\"a\":", 5, &err);
	ck_assert_ptr_null(v);
	ck_assert_str_eq(err.code, "invalid_json");
	ck_assert_msg(strstr(err.message, "line 1") != NULL, "%s", err.message);
	v = mapjson_parse(NULL, 0, &err);
	ck_assert_ptr_null(v);
	ck_assert_str_eq(err.code, "invalid_json");
	/* Invalid UTF-8 and NUL inside strings are refused by the parser. */
	v = mapjson_parse("{\"a\":\"\xff\"}", strlen("{\"a\":\"\xff\"}"), &err);
	ck_assert_ptr_null(v);
	ck_assert_str_eq(err.code, "invalid_json");
	v = mapjson_parse("{\"a\":\"\\u0000\"}", 14, &err);
	ck_assert_ptr_null(v);
	v = mapjson_parse("{\"a\":1,\"a\":2}", 13, &err);
	ck_assert_ptr_null(v);
	free(deep);
	free(fine);
}
END_TEST

/* ---- the config document ---------------------------------------------- */

static const struct {
	const char *body;
	size_t bad;        /* SIZE_MAX: the document, not an entry */
	int status;
	const char *code;
	const char *field;
} bad_configs[] = {
	{ "[]", SIZE_MAX, 400, "not_object", "" },
	{ "{}", SIZE_MAX, 400, "missing_field", "mappings" },
	{ "{\"mappings\":{}}", SIZE_MAX, 400, "invalid_type", "mappings" },
	{ "{\"mappings\":[],\"extra\":1}", SIZE_MAX, 400, "unknown_field", "extra" },
	{ "{\"mappings\":[],\"version\":\"1\"}", SIZE_MAX, 400, "invalid_type",
	  "version" },
	{ "{\"mappings\":[1]}", 0, 400, "not_object", "" },
	{ "{\"mappings\":[{\"address\":\"a\",\"shared_port\":1,\"assigned_port\":2},"
	  "{\"address\":\"a\",\"shared_port\":1}]}", 1, 400, "missing_field",
	  "assigned_port" },
	{ "{\"mappings\":[{\"id\":\"1\",\"address\":\"a\",\"shared_port\":1,"
	  "\"assigned_port\":2}]}", 0, 400, "invalid_type", "id" },
	{ "{\"mappings\":[{\"id\":0,\"address\":\"a\",\"shared_port\":1,"
	  "\"assigned_port\":2}]}", 0, 422, "invalid_id", "id" },
	{ "{\"mappings\":[{\"id\":1000000000000000000,\"address\":\"a\","
	  "\"shared_port\":1,\"assigned_port\":2}]}", 0, 422, "invalid_id", "id" },
	{ "{\"mappings\":[{\"id\":3,\"address\":\"a\",\"shared_port\":1,\"assigned_port\":2},"
	  "{\"address\":\"b\",\"shared_port\":1,\"assigned_port\":2},"
	  "{\"id\":3,\"address\":\"c\",\"shared_port\":1,\"assigned_port\":2}]}",
	  2, 422, "duplicate_id", "id" },
	{ "{\"mappings\":[{\"address\":\"a\",\"shared_port\":1,\"assigned_port\":2,"
	  "\"counters\":{}}]}", 0, 400, "unknown_field", "counters" },
	{ "{\"mappings\":[{\"address\":\"a\",\"shared_port\":0,\"assigned_port\":2}]}",
	  0, 422, "invalid_port", "shared_port" },
};

START_TEST(config_decode_errors)
{
	struct mapping_error err;
	struct mapping *rows = (struct mapping *)1;
	json_t *root = parse(bad_configs[_i].body);
	size_t n = 99, bad = 77;

	ck_assert_msg(!mapjson_config_decode(root, &rows, &n, &bad, &err),
		      "accepted %s", bad_configs[_i].body);
	ck_assert_ptr_null(rows);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(bad, bad_configs[_i].bad);
	ck_assert_int_eq(err.status, bad_configs[_i].status);
	ck_assert_str_eq(err.code, bad_configs[_i].code);
	ck_assert_str_eq(err.field, bad_configs[_i].field);
	json_decref(root);
}
END_TEST

/* An export is a valid import: decode(encode(rows)) == rows. */
START_TEST(config_round_trip)
{
	struct mapping in[3], *out = NULL;
	struct mapping_error err;
	json_t *doc;
	size_t n = 0, bad;
	char *text;

	in[0] = stored();
	in[1] = stored();
	in[1].id = 9;
	in[1].proto = MAPPING_TCP;
	snprintf(in[1].comment, sizeof(in[1].comment), "x'); DROP TABLE mappings;--");
	in[2] = stored();
	in[2].id = 11;
	in[2].enabled = true;
	doc = mapjson_config_encode(77, in, 3);
	ck_assert_ptr_nonnull(doc);
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_msg(strncmp(text, "{\"mappings\":[{\"address\":\"example.com\","
			      "\"assigned_port\":5353,\"comment\":\"dns\",\"enabled\":false,"
			      "\"id\":5,\"proto\":\"udp\",\"shared_port\":53}", 124) == 0,
		      "%s", text);
	ck_assert_msg(strstr(text, "],\"version\":77}") != NULL, "%s", text);
	free(text);
	ck_assert_msg(mapjson_config_decode(doc, &out, &n, &bad, &err), "%s",
		      err.message);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(out[i].id, in[i].id);
		ck_assert_uint_eq(out[i].proto, in[i].proto);
		ck_assert_str_eq(out[i].address, in[i].address);
		ck_assert_uint_eq(out[i].shared_port, in[i].shared_port);
		ck_assert_uint_eq(out[i].assigned_port, in[i].assigned_port);
		ck_assert_int_eq(out[i].enabled, in[i].enabled);
		ck_assert_str_eq(out[i].comment, in[i].comment);
	}
	free(out);
	json_decref(doc);
}
END_TEST

/* Entries without ids get 0 and POST's defaults; an empty table is fine. */
START_TEST(config_defaults)
{
	json_t *root = parse("{\"mappings\":[{\"address\":\"a.example\","
			     "\"shared_port\":80,\"assigned_port\":8080}]}");
	json_t *empty = parse("{\"mappings\":[]}");
	struct mapping_error err;
	struct mapping *rows = NULL;
	size_t n, bad;

	ck_assert(mapjson_config_decode(root, &rows, &n, &bad, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rows[0].id, 0);
	ck_assert_uint_eq(rows[0].proto, MAPPING_BOTH);
	ck_assert(rows[0].enabled);
	ck_assert_str_eq(rows[0].comment, "");
	free(rows);
	ck_assert(mapjson_config_decode(empty, &rows, &n, &bad, &err));
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(bad, SIZE_MAX);
	free(rows);
	json_decref(root);
	json_decref(empty);
}
END_TEST

static Suite *mapjson_suite(void)
{
	Suite *s = suite_create("mapjson");
	TCase *tc = tcase_create("mapjson");

	tcase_add_loop_test(tc, bad_body, 0,
			    sizeof(bad_bodies) / sizeof(bad_bodies[0]));
	tcase_add_test(tc, post_defaults);
	tcase_add_test(tc, post_every_field);
	tcase_add_test(tc, port_messages);
	tcase_add_test(tc, string_limits);
	tcase_add_test(tc, patch_keeps_other_fields);
	tcase_add_test(tc, put_replaces);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, encode_fields);
	tcase_add_test(tc, encode_live_state);
	tcase_add_test(tc, encode_round_trip);
	tcase_add_test(tc, iso_time);
	tcase_add_test(tc, depth_scanner);
	tcase_add_test(tc, parse_body);
	tcase_add_loop_test(tc, config_decode_errors, 0,
			    sizeof(bad_configs) / sizeof(bad_configs[0]));
	tcase_add_test(tc, config_round_trip);
	tcase_add_test(tc, config_defaults);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mapjson_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
