/*
 * Unit tests for groupjson: applying group, backend and rule bodies for
 * POST, PUT and PATCH (defaults, every field, every 400 and 422 answer and
 * their order, which fields a PATCH leaves alone, null where null is a
 * value, a named group left for the caller to resolve), the CIDR and
 * port-range parsers at their edges, and the objects the API answers with,
 * flows' ages across the 32-bit wrap included.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "groupjson.h"
#include "util.h"

enum mode { POST, PUT, PATCH };
enum res { GROUP, BACKEND, RULE };

/* The URL's id every PUT and PATCH below is sent to. */
#define URL_ID 5
/* The group the stored backend and rule belong to. */
#define GROUP_ID 9

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);

	ck_assert_msg(root != NULL, "cannot parse %s: %s", text, jerr.text);
	return root;
}

/* Rows as PATCH finds them before applying the body. */
static struct groups_group stored_group(void)
{
	struct groups_group g;

	groupjson_group_defaults(&g);
	g.id = URL_ID;
	snprintf(g.name, sizeof(g.name), "web");
	snprintf(g.aid, sizeof(g.aid), "web-v1");
	g.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", g.addr);
	g.virtual_port = 9000;
	g.protos = MAPPING_BOTH;
	g.policy = SCHED_LEAST_FLOWS;
	g.max_wait_ms = 250;
	g.on_timeout = GROUPS_DROP;
	g.is_default = true;
	return g;
}

static struct gctl_backend_view stored_backend(void)
{
	struct gctl_backend_view v;

	groupjson_backend_defaults(&v);
	v.b.b.id = URL_ID;
	v.b.group_id = GROUP_ID;
	snprintf(v.group, sizeof(v.group), "web");
	v.b.b.port = 9001;
	v.b.b.weight = 3;
	v.b.b.max_flows = 50;
	v.b.b.state = SCHED_DRAIN;
	return v;
}

static struct gctl_rule_view stored_rule(void)
{
	struct gctl_rule_view v;

	groupjson_rule_defaults(&v);
	v.r.id = URL_ID;
	v.r.group_id = GROUP_ID;
	snprintf(v.group, sizeof(v.group), "web");
	v.r.family = AF_INET;
	inet_pton(AF_INET, "10.1.0.0", v.r.addr);
	v.r.prefix_len = 16;
	v.r.has_ports = true;
	v.r.port_lo = 1024;
	v.r.port_hi = 2047;
	return v;
}

/* Every resource's target, so that one table can test them all. */
struct target {
	struct groups_group g;
	struct gctl_backend_view b;
	struct gctl_rule_view r;
};

/*
 * Prepares t as grouproutes does for mode (defaults for POST and PUT, the
 * stored row for PATCH, the URL's id for PUT and PATCH), then applies text.
 */
static bool apply(enum res res, enum mode mode, const char *text,
		  struct target *t, struct mapping_error *err, json_t **root)
{
	int64_t id = mode == POST ? 0 : URL_ID;

	*root = parse(text);
	memset(err, 0, sizeof(*err));
	groupjson_group_defaults(&t->g);
	groupjson_backend_defaults(&t->b);
	groupjson_rule_defaults(&t->r);
	if (mode == PATCH) {
		t->g = stored_group();
		t->b = stored_backend();
		t->r = stored_rule();
	}
	t->g.id = t->b.b.b.id = t->r.r.id = id;
	switch (res) {
	case GROUP:
		return groupjson_group_apply(*root, &t->g, mode == PATCH, err);
	case BACKEND:
		return groupjson_backend_apply(*root, &t->b, mode == PATCH, err);
	case RULE:
		return groupjson_rule_apply(*root, &t->r, mode == PATCH, err);
	}
	return false;
}

#define G_MIN "\"name\":\"web\",\"virtual_port\":9000"
#define B_MIN "\"group\":\"web\",\"port\":9001"
#define R_MIN "\"group\":\"web\",\"cidr\":\"10.1.0.0/16\""
/* The longest name and aid that fit, and one byte more. */
#define NAME63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NAME64 NAME63 "a"

static const struct {
	enum res res;
	enum mode mode;
	const char *body;
	int status;
	const char *code;
	const char *field;
} bad_bodies[] = {
	/* Shape errors, 400: not an object. */
	{ GROUP, POST, "[]", 400, "not_object", "" },
	{ BACKEND, PUT, "\"x\"", 400, "not_object", "" },
	{ RULE, PATCH, "null", 400, "not_object", "" },
	/* Unknown fields, the output-only ones included. */
	{ GROUP, POST, "{" G_MIN ",\"bogus\":1}", 400, "unknown_field", "bogus" },
	{ GROUP, PATCH, "{\"Name\":\"x\"}", 400, "unknown_field", "Name" },
	{ GROUP, PUT, "{" G_MIN ",\"backends\":[]}", 400, "unknown_field", "backends" },
	{ GROUP, PATCH, "{\"active_flows\":3}", 400, "unknown_field", "active_flows" },
	{ GROUP, PATCH, "{\"flows\":3}", 400, "unknown_field", "flows" },
	{ GROUP, PATCH, "{\"refused\":0}", 400, "unknown_field", "refused" },
	{ GROUP, PATCH, "{\"is_default\":true}", 400, "unknown_field", "is_default" },
	{ BACKEND, PATCH, "{\"group_id\":1}", 400, "unknown_field", "group_id" },
	{ BACKEND, PATCH, "{\"active_flows\":1}", 400, "unknown_field", "active_flows" },
	{ BACKEND, PATCH, "{\"flows\":1}", 400, "unknown_field", "flows" },
	{ RULE, PATCH, "{\"group_id\":1}", 400, "unknown_field", "group_id" },
	{ RULE, PATCH, "{\"ports\":\"1-2\"}", 400, "unknown_field", "ports" },
	/* An unknown field is reported before a missing one. */
	{ GROUP, POST, "{\"x\":1}", 400, "unknown_field", "x" },
	/* Missing fields, in table order. */
	{ GROUP, POST, "{}", 400, "missing_field", "name" },
	{ GROUP, PUT, "{\"name\":\"web\"}", 400, "missing_field", "virtual_port" },
	{ GROUP, POST, "{\"virtual_port\":9000,\"aid\":\"a\"}", 400, "missing_field",
	  "name" },
	{ BACKEND, POST, "{\"port\":9001}", 400, "missing_field", "group" },
	{ BACKEND, PUT, "{\"group\":\"web\"}", 400, "missing_field", "port" },
	{ RULE, POST, "{\"group\":\"web\"}", 400, "missing_field", "cidr" },
	{ RULE, PUT, "{\"cidr\":\"10.0.0.0/8\"}", 400, "missing_field", "group" },
	/* Wrong types; null only where it means "none". */
	{ GROUP, POST, "{\"name\":5,\"virtual_port\":9000}", 400, "invalid_type", "name" },
	{ GROUP, POST, "{\"name\":\"web\",\"virtual_port\":\"9000\"}", 400,
	  "invalid_type", "virtual_port" },
	{ GROUP, PATCH, "{\"virtual_port\":9000.0}", 400, "invalid_type", "virtual_port" },
	{ GROUP, PATCH, "{\"virtual_port\":null}", 400, "invalid_type", "virtual_port" },
	{ GROUP, PATCH, "{\"aid\":null}", 400, "invalid_type", "aid" },
	{ GROUP, PATCH, "{\"address\":5}", 400, "invalid_type", "address" },
	{ GROUP, PATCH, "{\"address\":[]}", 400, "invalid_type", "address" },
	{ GROUP, PATCH, "{\"proto\":null}", 400, "invalid_type", "proto" },
	{ GROUP, PATCH, "{\"policy\":1}", 400, "invalid_type", "policy" },
	{ GROUP, PATCH, "{\"max_wait_ms\":\"0\"}", 400, "invalid_type", "max_wait_ms" },
	{ GROUP, PATCH, "{\"on_timeout\":false}", 400, "invalid_type", "on_timeout" },
	{ GROUP, PATCH, "{\"default\":1}", 400, "invalid_type", "default" },
	{ GROUP, PATCH, "{\"default\":\"true\"}", 400, "invalid_type", "default" },
	{ GROUP, PATCH, "{\"default\":null}", 400, "invalid_type", "default" },
	{ GROUP, PATCH, "{\"id\":\"5\"}", 400, "invalid_type", "id" },
	{ BACKEND, PATCH, "{\"group\":9}", 400, "invalid_type", "group" },
	{ BACKEND, PATCH, "{\"group\":null}", 400, "invalid_type", "group" },
	{ BACKEND, PATCH, "{\"weight\":1.5}", 400, "invalid_type", "weight" },
	{ BACKEND, PATCH, "{\"max_flows\":null}", 400, "invalid_type", "max_flows" },
	{ BACKEND, PATCH, "{\"state\":0}", 400, "invalid_type", "state" },
	{ RULE, PATCH, "{\"cidr\":null}", 400, "invalid_type", "cidr" },
	{ RULE, PATCH, "{\"cidr\":167772160}", 400, "invalid_type", "cidr" },
	{ RULE, PATCH, "{\"source_ports\":1024}", 400, "invalid_type", "source_ports" },
	{ RULE, PATCH, "{\"source_ports\":[1,2]}", 400, "invalid_type", "source_ports" },
	/* Every shape error comes before any value error. */
	{ GROUP, POST, "{\"name\":\"\",\"virtual_port\":70000,\"default\":0}", 400,
	  "invalid_type", "default" },
	{ GROUP, PATCH, "{\"virtual_port\":0,\"bogus\":1}", 400, "unknown_field", "bogus" },
	{ BACKEND, POST, "{\"group\":\"\",\"port\":0}", 422, "invalid_group", "group" },
	{ BACKEND, POST, "{\"port\":0}", 400, "missing_field", "group" },
	{ RULE, POST, "{\"cidr\":\"x\",\"source_ports\":\"0\",\"group\":1}", 400,
	  "invalid_type", "group" },
	/* The id is the server's: POST may not send one, PUT only its own. */
	{ GROUP, POST, "{" G_MIN ",\"id\":1}", 400, "id_mismatch", "id" },
	{ GROUP, POST, "{" G_MIN ",\"id\":0}", 400, "id_mismatch", "id" },
	{ GROUP, PUT, "{" G_MIN ",\"id\":6}", 400, "id_mismatch", "id" },
	{ BACKEND, PATCH, "{\"id\":-5}", 400, "id_mismatch", "id" },
	{ BACKEND, POST, "{" B_MIN ",\"id\":5}", 400, "id_mismatch", "id" },
	{ RULE, PUT, "{" R_MIN ",\"id\":4}", 400, "id_mismatch", "id" },
	/* Value errors, 422, naming the field. */
	{ GROUP, POST, "{\"name\":\"\",\"virtual_port\":9000}", 422, "invalid_value",
	  "name" },
	{ GROUP, POST, "{\"name\":\"a b\",\"virtual_port\":9000}", 422,
	  "invalid_value", "name" },
	{ GROUP, POST, "{\"name\":\"a/b\",\"virtual_port\":9000}", 422,
	  "invalid_value", "name" },
	{ GROUP, POST, "{\"name\":\"caf\\u00e9\",\"virtual_port\":9000}", 422,
	  "invalid_value", "name" },
	{ GROUP, POST, "{\"name\":\"" NAME64 "\",\"virtual_port\":9000}", 422,
	  "invalid_value", "name" },
	{ GROUP, PATCH, "{\"aid\":\"\"}", 422, "invalid_value", "aid" },
	{ GROUP, PATCH, "{\"aid\":\"a b\"}", 422, "invalid_value", "aid" },
	{ GROUP, PATCH, "{\"aid\":\"tab\\there\"}", 422, "invalid_value", "aid" },
	{ GROUP, PATCH, "{\"aid\":\"" NAME64 "\"}", 422, "invalid_value", "aid" },
	{ GROUP, PATCH, "{\"virtual_port\":0}", 422, "invalid_port", "virtual_port" },
	{ GROUP, PATCH, "{\"virtual_port\":-1}", 422, "invalid_port", "virtual_port" },
	{ GROUP, PATCH, "{\"virtual_port\":65536}", 422, "invalid_port", "virtual_port" },
	{ GROUP, PATCH, "{\"virtual_port\":4294976296}", 422, "invalid_port",
	  "virtual_port" },
	{ GROUP, PATCH, "{\"address\":\"\"}", 422, "invalid_address", "address" },
	{ GROUP, PATCH, "{\"address\":\"example.com\"}", 422, "invalid_address",
	  "address" },
	{ GROUP, PATCH, "{\"address\":\"10.0.0.256\"}", 422, "invalid_address",
	  "address" },
	{ GROUP, PATCH, "{\"address\":\"10.0.0.0/8\"}", 422, "invalid_address",
	  "address" },
	{ GROUP, PATCH, "{\"address\":\"[::1]\"}", 422, "invalid_address", "address" },
	{ GROUP, PATCH, "{\"address\":\" 10.0.0.1\"}", 422, "invalid_address",
	  "address" },
	{ GROUP, PATCH, "{\"proto\":\"TCP\"}", 422, "invalid_proto", "proto" },
	{ GROUP, PATCH, "{\"proto\":\"sctp\"}", 422, "invalid_proto", "proto" },
	{ GROUP, PATCH, "{\"policy\":\"random\"}", 422, "invalid_policy", "policy" },
	{ GROUP, PATCH, "{\"policy\":\"\"}", 422, "invalid_policy", "policy" },
	{ GROUP, PATCH, "{\"on_timeout\":\"rst\"}", 422, "invalid_on_timeout",
	  "on_timeout" },
	{ GROUP, PATCH, "{\"max_wait_ms\":-1}", 422, "invalid_value", "max_wait_ms" },
	{ GROUP, PATCH, "{\"max_wait_ms\":600001}", 422, "invalid_value", "max_wait_ms" },
	{ GROUP, PATCH, "{\"max_wait_ms\":4294967296}", 422, "invalid_value",
	  "max_wait_ms" },
	{ BACKEND, PATCH, "{\"group\":\"\"}", 422, "invalid_group", "group" },
	{ BACKEND, PATCH, "{\"group\":\"" NAME64 "\"}", 422, "invalid_group", "group" },
	{ BACKEND, PATCH, "{\"port\":0}", 422, "invalid_port", "port" },
	{ BACKEND, PATCH, "{\"port\":65536}", 422, "invalid_port", "port" },
	{ BACKEND, PATCH, "{\"weight\":0}", 422, "invalid_value", "weight" },
	{ BACKEND, PATCH, "{\"weight\":1001}", 422, "invalid_value", "weight" },
	{ BACKEND, PATCH, "{\"weight\":65537}", 422, "invalid_value", "weight" },
	{ BACKEND, PATCH, "{\"max_flows\":-1}", 422, "invalid_value", "max_flows" },
	{ BACKEND, PATCH, "{\"max_flows\":1000001}", 422, "invalid_value", "max_flows" },
	{ BACKEND, PATCH, "{\"state\":\"paused\"}", 422, "invalid_state", "state" },
	{ BACKEND, PATCH, "{\"state\":\"Active\"}", 422, "invalid_state", "state" },
	{ RULE, PATCH, "{\"group\":\"\"}", 422, "invalid_group", "group" },
	{ RULE, PATCH, "{\"cidr\":\"\"}", 422, "invalid_cidr", "cidr" },
	{ RULE, PATCH, "{\"cidr\":\"10.0.0.0/33\"}", 422, "invalid_cidr", "cidr" },
	{ RULE, PATCH, "{\"cidr\":\"web\"}", 422, "invalid_cidr", "cidr" },
	{ RULE, PATCH, "{\"source_ports\":\"0\"}", 422, "invalid_ports", "source_ports" },
	{ RULE, PATCH, "{\"source_ports\":\"\"}", 422, "invalid_ports", "source_ports" },
	{ RULE, PATCH, "{\"source_ports\":\"2047-1024\"}", 422, "invalid_ports",
	  "source_ports" },
	/* Value errors come in table order. */
	{ GROUP, POST, "{\"name\":\"a b\",\"virtual_port\":0}", 422, "invalid_value",
	  "name" },
	{ BACKEND, POST, "{\"group\":\"web\",\"port\":0,\"weight\":0}", 422,
	  "invalid_port", "port" },
};

START_TEST(bad_body)
{
	struct mapping_error err;
	struct target t;
	json_t *root;

	ck_assert_msg(!apply(bad_bodies[_i].res, bad_bodies[_i].mode,
			     bad_bodies[_i].body, &t, &err, &root),
		      "accepted %s", bad_bodies[_i].body);
	ck_assert_msg(err.status == bad_bodies[_i].status, "%s: status %d",
		      bad_bodies[_i].body, err.status);
	ck_assert_str_eq(err.code, bad_bodies[_i].code);
	/* err.field may point into root, so it is read before root goes. */
	ck_assert_str_eq(err.field, bad_bodies[_i].field);
	ck_assert_msg(err.message[0] != '\0', "empty message");
	json_decref(root);
}
END_TEST

/* Bodies that must pass, at the edges of every range. */
static const struct {
	enum res res;
	enum mode mode;
	const char *body;
} good_bodies[] = {
	{ GROUP, POST, "{\"name\":\"a\",\"virtual_port\":1}" },
	{ GROUP, POST, "{\"name\":\"A-z_0.9\",\"virtual_port\":65535}" },
	{ GROUP, POST, "{\"name\":\"" NAME63 "\",\"virtual_port\":1}" },
	{ GROUP, PATCH, "{\"aid\":\"" NAME63 "\"}" },
	{ BACKEND, PATCH, "{\"group\":\"" NAME63 "\"}" },
	{ GROUP, PUT, "{" G_MIN ",\"id\":5}" },
	{ GROUP, PATCH, "{\"id\":5}" },
	{ GROUP, PATCH, "{}" },
	{ GROUP, PATCH, "{\"max_wait_ms\":0}" },
	{ GROUP, PATCH, "{\"max_wait_ms\":600000}" },
	{ GROUP, PATCH, "{\"aid\":\"!~#$%&'()*+,-./:;<=>?@[]^_`{|}\"}" },
	{ GROUP, PATCH, "{\"address\":null}" },
	{ GROUP, PATCH, "{\"address\":\"::\"}" },
	{ GROUP, PATCH, "{\"address\":\"0.0.0.0\"}" },
	{ BACKEND, POST, "{\"group\":\"x\",\"port\":1,\"weight\":1,\"max_flows\":0}" },
	{ BACKEND, PUT, "{\"group\":\"x\",\"port\":65535,\"weight\":1000,"
			"\"max_flows\":1000000,\"id\":5}" },
	{ BACKEND, PATCH, "{\"state\":\"down\"}" },
	{ RULE, POST, "{\"cidr\":\"0.0.0.0/0\",\"group\":\"x\"}" },
	{ RULE, POST, "{\"cidr\":\"::/0\",\"group\":\"x\",\"source_ports\":null}" },
	{ RULE, PATCH, "{\"source_ports\":\"1-65535\"}" },
};

START_TEST(good_body)
{
	struct mapping_error err;
	struct target t;
	json_t *root;
	bool ok = apply(good_bodies[_i].res, good_bodies[_i].mode,
			good_bodies[_i].body, &t, &err, &root);

	ck_assert_msg(ok, "refused %s: %s", good_bodies[_i].body, err.message);
	json_decref(root);
}
END_TEST

START_TEST(group_defaults)
{
	struct mapping_error err;
	struct target t;
	json_t *root;

	ck_assert(apply(GROUP, POST, "{" G_MIN "}", &t, &err, &root));
	ck_assert_int_eq(t.g.id, 0);
	ck_assert_str_eq(t.g.name, "web");
	/* The aid defaults to the name. */
	ck_assert_str_eq(t.g.aid, "web");
	ck_assert_uint_eq(t.g.family, 0);
	for (size_t i = 0; i < sizeof(t.g.addr); i++)
		ck_assert_uint_eq(t.g.addr[i], 0);
	ck_assert_uint_eq(t.g.virtual_port, 9000);
	ck_assert_uint_eq(t.g.protos, MAPPING_TCP);
	ck_assert_int_eq(t.g.policy, SCHED_ROUND_ROBIN);
	ck_assert_uint_eq(t.g.max_wait_ms, 0);
	ck_assert_int_eq(t.g.on_timeout, GROUPS_RESET);
	ck_assert(!t.g.is_default);
	ck_assert_ptr_null(t.g.counters);
	json_decref(root);
}
END_TEST

START_TEST(group_every_field)
{
	struct mapping_error err;
	struct target t;
	json_t *root;
	uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	ck_assert(apply(GROUP, PUT, "{\"id\":5,\"name\":\"db\",\"aid\":\"db-v2\","
		  "\"address\":\"2001:DB8:0::1\",\"virtual_port\":5432,"
		  "\"proto\":\"both\",\"policy\":\"source_hash\",\"max_wait_ms\":1500,"
		  "\"on_timeout\":\"drop\",\"default\":true}", &t, &err, &root));
	ck_assert_int_eq(t.g.id, URL_ID);
	ck_assert_str_eq(t.g.name, "db");
	ck_assert_str_eq(t.g.aid, "db-v2");
	ck_assert_uint_eq(t.g.family, AF_INET6);
	ck_assert_mem_eq(t.g.addr, want, 16);
	ck_assert_uint_eq(t.g.virtual_port, 5432);
	ck_assert_uint_eq(t.g.protos, MAPPING_BOTH);
	ck_assert_int_eq(t.g.policy, SCHED_SOURCE_HASH);
	ck_assert_uint_eq(t.g.max_wait_ms, 1500);
	ck_assert_int_eq(t.g.on_timeout, GROUPS_DROP);
	ck_assert(t.g.is_default);
	json_decref(root);

	ck_assert(apply(GROUP, POST, "{" G_MIN ",\"address\":\"10.0.0.7\","
		  "\"proto\":\"udp\"}", &t, &err, &root));
	ck_assert_uint_eq(t.g.family, AF_INET);
	ck_assert_mem_eq(t.g.addr, ((uint8_t[16]){ 10, 0, 0, 7 }), 16);
	ck_assert_uint_eq(t.g.protos, MAPPING_UDP);
	json_decref(root);
}
END_TEST

/* PATCH changes what it names and nothing else; null means "none". */
START_TEST(group_patch)
{
	const struct groups_group was = stored_group();
	struct mapping_error err;
	struct target t;
	json_t *root;

	ck_assert(apply(GROUP, PATCH, "{\"name\":\"web2\"}", &t, &err, &root));
	ck_assert_str_eq(t.g.name, "web2");
	/* A PATCH of the name leaves the aid. */
	ck_assert_str_eq(t.g.aid, "web-v1");
	ck_assert_uint_eq(t.g.family, was.family);
	ck_assert_mem_eq(t.g.addr, was.addr, 16);
	ck_assert_uint_eq(t.g.virtual_port, was.virtual_port);
	ck_assert_uint_eq(t.g.protos, was.protos);
	ck_assert_int_eq(t.g.policy, was.policy);
	ck_assert_uint_eq(t.g.max_wait_ms, was.max_wait_ms);
	ck_assert_int_eq(t.g.on_timeout, was.on_timeout);
	ck_assert(t.g.is_default);
	json_decref(root);

	ck_assert(apply(GROUP, PATCH, "{\"address\":null,\"default\":false}", &t,
			&err, &root));
	ck_assert_uint_eq(t.g.family, 0);
	ck_assert_mem_eq(t.g.addr, ((uint8_t[16]){ 0 }), 16);
	ck_assert(!t.g.is_default);
	ck_assert_str_eq(t.g.name, "web");
	json_decref(root);
}
END_TEST

/* PUT starts from the defaults: what it leaves out goes back to them. */
START_TEST(group_put_replaces)
{
	struct mapping_error err;
	struct target t;
	json_t *root;

	ck_assert(apply(GROUP, PUT, "{\"name\":\"x\",\"virtual_port\":80}", &t, &err,
			&root));
	ck_assert_str_eq(t.g.aid, "x");
	ck_assert_uint_eq(t.g.family, 0);
	ck_assert_uint_eq(t.g.protos, MAPPING_TCP);
	ck_assert_int_eq(t.g.policy, SCHED_ROUND_ROBIN);
	ck_assert_int_eq(t.g.on_timeout, GROUPS_RESET);
	ck_assert(!t.g.is_default);
	json_decref(root);
}
END_TEST

START_TEST(backend_fields)
{
	struct mapping_error err;
	struct target t;
	json_t *root;

	ck_assert(apply(BACKEND, POST, "{" B_MIN "}", &t, &err, &root));
	ck_assert_str_eq(t.b.group, "web");
	/* A named group is the caller's to resolve. */
	ck_assert_int_eq(t.b.b.group_id, 0);
	ck_assert_uint_eq(t.b.b.b.port, 9001);
	ck_assert_uint_eq(t.b.b.b.weight, 1);
	ck_assert_uint_eq(t.b.b.b.max_flows, 0);
	ck_assert_int_eq(t.b.b.b.state, SCHED_ACTIVE);
	json_decref(root);

	ck_assert(apply(BACKEND, PUT, "{\"group\":\"db\",\"port\":65535,"
		  "\"weight\":1000,\"max_flows\":1000000,\"state\":\"down\"}",
		  &t, &err, &root));
	ck_assert_int_eq(t.b.b.b.id, URL_ID);
	ck_assert_str_eq(t.b.group, "db");
	ck_assert_uint_eq(t.b.b.b.port, 65535);
	ck_assert_uint_eq(t.b.b.b.weight, 1000);
	ck_assert_uint_eq(t.b.b.b.max_flows, 1000000);
	ck_assert_int_eq(t.b.b.b.state, SCHED_DOWN);
	json_decref(root);

	/* A PATCH without a group keeps the stored one, resolved. */
	ck_assert(apply(BACKEND, PATCH, "{\"state\":\"drain\",\"weight\":7}", &t,
			&err, &root));
	ck_assert_int_eq(t.b.b.group_id, GROUP_ID);
	ck_assert_str_eq(t.b.group, "web");
	ck_assert_int_eq(t.b.b.b.state, SCHED_DRAIN);
	ck_assert_uint_eq(t.b.b.b.weight, 7);
	ck_assert_uint_eq(t.b.b.b.port, 9001);
	ck_assert_uint_eq(t.b.b.b.max_flows, 50);
	json_decref(root);

	/* With one, it is resolved again, even when it is the same name. */
	ck_assert(apply(BACKEND, PATCH, "{\"group\":\"web\"}", &t, &err, &root));
	ck_assert_int_eq(t.b.b.group_id, 0);
	ck_assert_str_eq(t.b.group, "web");
	json_decref(root);
}
END_TEST

START_TEST(rule_fields)
{
	struct mapping_error err;
	struct target t;
	json_t *root;

	ck_assert(apply(RULE, POST, "{\"group\":\"a\",\"cidr\":\"10.1.2.3/16\"}", &t,
			&err, &root));
	ck_assert_str_eq(t.r.group, "a");
	ck_assert_int_eq(t.r.r.group_id, 0);
	ck_assert_uint_eq(t.r.r.family, AF_INET);
	ck_assert_mem_eq(t.r.r.addr, ((uint8_t[16]){ 10, 1 }), 16);
	ck_assert_uint_eq(t.r.r.prefix_len, 16);
	ck_assert(!t.r.r.has_ports);
	json_decref(root);

	ck_assert(apply(RULE, PUT, "{\"group\":\"a\",\"cidr\":\"2001:db8::1\","
		  "\"source_ports\":\"5000\"}", &t, &err, &root));
	ck_assert_uint_eq(t.r.r.family, AF_INET6);
	ck_assert_uint_eq(t.r.r.prefix_len, 128);
	ck_assert(t.r.r.has_ports);
	ck_assert_uint_eq(t.r.r.port_lo, 5000);
	ck_assert_uint_eq(t.r.r.port_hi, 5000);
	json_decref(root);

	/* PATCH: null clears the range; the rest stays. */
	ck_assert(apply(RULE, PATCH, "{\"source_ports\":null}", &t, &err, &root));
	ck_assert(!t.r.r.has_ports);
	ck_assert_uint_eq(t.r.r.port_lo, 0);
	ck_assert_uint_eq(t.r.r.port_hi, 0);
	ck_assert_uint_eq(t.r.r.prefix_len, 16);
	ck_assert_int_eq(t.r.r.group_id, GROUP_ID);
	json_decref(root);

	ck_assert(apply(RULE, PATCH, "{\"cidr\":\"192.168.7.9/24\"}", &t, &err,
			&root));
	ck_assert_mem_eq(t.r.r.addr, ((uint8_t[16]){ 192, 168, 7 }), 16);
	ck_assert_uint_eq(t.r.r.prefix_len, 24);
	ck_assert(t.r.r.has_ports);
	ck_assert_uint_eq(t.r.r.port_lo, 1024);
	ck_assert_uint_eq(t.r.r.port_hi, 2047);
	json_decref(root);
}
END_TEST

/* Duplicate keys are refused by the parser, before the table sees one. */
START_TEST(duplicate_keys)
{
	json_error_t jerr;

	ck_assert_ptr_null(json_loads("{\"name\":\"a\",\"name\":\"b\"}",
				      JSON_REJECT_DUPLICATES, &jerr));
}
END_TEST

/* ---- CIDR and port ranges --------------------------------------------- */

static const struct {
	const char *in;
	const char *out; /* NULL: refused */
} cidr_cases[] = {
	{ "10.1.0.0/16", "10.1.0.0/16" },
	{ "10.1.2.3/16", "10.1.0.0/16" },
	{ "11.1.2.3/7", "10.0.0.0/7" },
	{ "10.1.2.3", "10.1.2.3/32" },
	{ "10.1.2.3/32", "10.1.2.3/32" },
	{ "255.255.255.255/31", "255.255.255.254/31" },
	{ "255.255.255.255/1", "128.0.0.0/1" },
	{ "1.2.3.4/0", "0.0.0.0/0" },
	{ "0.0.0.0/0", "0.0.0.0/0" },
	{ "::/0", "::/0" },
	{ "::1", "::1/128" },
	{ "2001:DB8::1/64", "2001:db8::/64" },
	{ "2001:db8:0:0:0:0:0:1", "2001:db8::1/128" },
	{ "2001:db8::ff/121", "2001:db8::80/121" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127" },
	{ "::ffff:10.0.0.1/96", "::ffff:0.0.0.0/96" },
	{ "::ffff:10.0.0.1", "::ffff:10.0.0.1/128" },
	/* Refused. */
	{ "", NULL },
	{ "/", NULL },
	{ "/8", NULL },
	{ "10.0.0.0/", NULL },
	{ "10.0.0.0/33", NULL },
	{ "10.0.0.0/99999", NULL },
	{ "10.0.0.0/4294967304", NULL },
	{ "::/129", NULL },
	{ "10.0.0.0/08", NULL },
	{ "10.0.0.0/00", NULL },
	{ "10.0.0.0/+8", NULL },
	{ "10.0.0.0/-8", NULL },
	{ "10.0.0.0/ 8", NULL },
	{ "10.0.0.0 /8", NULL },
	{ " 10.0.0.0/8", NULL },
	{ "10.0.0.0/8 ", NULL },
	{ "10.0.0.0/8/8", NULL },
	{ "10.0.0.0/0x8", NULL },
	{ "10.0.0/8", NULL },
	{ "10.0.0.256/8", NULL },
	{ "010.0.0.0/8", NULL },
	{ "[::1]/128", NULL },
	{ "fe80::1%eth0/64", NULL },
	{ "example.com/8", NULL },
	{ "1:2:3:4:5:6:7:8:9/64", NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/8", NULL },
};

START_TEST(cidr)
{
	struct mapping_error err = { 0 };
	uint8_t family = 77, addr[16], len = 77;
	char buf[GROUPJSON_CIDR_LEN];
	bool ok;

	memset(addr, 0xa5, sizeof(addr));
	ok = groupjson_cidr_parse(cidr_cases[_i].in, "cidr", &family, addr, &len,
				  &err);
	ck_assert_msg(ok == (cidr_cases[_i].out != NULL), "\"%s\": ok %d",
		      cidr_cases[_i].in, ok);
	if (!ok) {
		ck_assert_int_eq(err.status, 422);
		ck_assert_str_eq(err.code, "invalid_cidr");
		ck_assert_str_eq(err.field, "cidr");
		/* A refused input leaves the outputs alone. */
		ck_assert_uint_eq(family, 77);
		ck_assert_uint_eq(len, 77);
		ck_assert_uint_eq(addr[0], 0xa5);
		return;
	}
	ck_assert_str_eq(groupjson_cidr_format(family, addr, len, buf),
			 cidr_cases[_i].out);
	/* IPv4 keeps the 12 bytes past its 4 zero. */
	if (family == AF_INET) {
		for (size_t i = 4; i < 16; i++)
			ck_assert_uint_eq(addr[i], 0);
	}
}
END_TEST

/* The client filter of GET /api/v1/flows names its own field. */
START_TEST(cidr_names_field)
{
	struct mapping_error err = { 0 };
	uint8_t family, addr[16], len;

	ck_assert(!groupjson_cidr_parse("10.0.0.0/40", "client", &family, addr, &len,
					&err));
	ck_assert_str_eq(err.field, "client");
	ck_assert_ptr_nonnull(strstr(err.message, "0..32"));
	ck_assert(!groupjson_cidr_parse("::/200", "client", &family, addr, &len,
					&err));
	ck_assert_ptr_nonnull(strstr(err.message, "0..128"));
}
END_TEST

static const struct {
	const char *in;
	bool ok;
	uint16_t lo, hi;
	const char *out;
} port_cases[] = {
	{ "5000", true, 5000, 5000, "5000" },
	{ "1", true, 1, 1, "1" },
	{ "65535", true, 65535, 65535, "65535" },
	{ "1024-2047", true, 1024, 2047, "1024-2047" },
	{ "1-65535", true, 1, 65535, "1-65535" },
	{ "7-7", true, 7, 7, "7" },
	{ "0", false, 0, 0, NULL },
	{ "0-5", false, 0, 0, NULL },
	{ "5-0", false, 0, 0, NULL },
	{ "65536", false, 0, 0, NULL },
	{ "1-65536", false, 0, 0, NULL },
	{ "99999", false, 0, 0, NULL },
	{ "123456", false, 0, 0, NULL },
	{ "4294967297", false, 0, 0, NULL },
	{ "2047-1024", false, 0, 0, NULL },
	{ "", false, 0, 0, NULL },
	{ "-", false, 0, 0, NULL },
	{ "1024-", false, 0, 0, NULL },
	{ "-1024", false, 0, 0, NULL },
	{ "01024", false, 0, 0, NULL },
	{ "1024-02047", false, 0, 0, NULL },
	{ "+5", false, 0, 0, NULL },
	{ " 5", false, 0, 0, NULL },
	{ "5 ", false, 0, 0, NULL },
	{ "1024 - 2047", false, 0, 0, NULL },
	{ "1-2-3", false, 0, 0, NULL },
	{ "1--2", false, 0, 0, NULL },
	{ "1:2", false, 0, 0, NULL },
	{ "0x10", false, 0, 0, NULL },
	{ "http", false, 0, 0, NULL },
};

START_TEST(ports)
{
	struct mapping_error err = { 0 };
	uint16_t lo = 777, hi = 777;
	char buf[GROUPJSON_PORTS_LEN];
	bool ok = groupjson_ports_parse(port_cases[_i].in, "source_ports", &lo, &hi,
					&err);

	ck_assert_msg(ok == port_cases[_i].ok, "\"%s\": ok %d", port_cases[_i].in, ok);
	if (!ok) {
		ck_assert_int_eq(err.status, 422);
		ck_assert_str_eq(err.code, "invalid_ports");
		ck_assert_str_eq(err.field, "source_ports");
		ck_assert_uint_eq(lo, 777);
		ck_assert_uint_eq(hi, 777);
		return;
	}
	ck_assert_uint_eq(lo, port_cases[_i].lo);
	ck_assert_uint_eq(hi, port_cases[_i].hi);
	ck_assert_str_eq(groupjson_ports_format(lo, hi, buf), port_cases[_i].out);
}
END_TEST

START_TEST(ports_format_widest)
{
	char buf[GROUPJSON_PORTS_LEN];

	ck_assert_str_eq(groupjson_ports_format(65534, 65535, buf), "65534-65535");
}
END_TEST

/* ---- encoding --------------------------------------------------------- */

static void check_dump(json_t *v, const char *want)
{
	char *text;

	ck_assert_ptr_nonnull(v);
	text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(text, want);
	free(text);
	json_decref(v);
}

static struct gctl_backend_view backend_view(int64_t id, int64_t group_id,
					     const char *group, uint16_t port)
{
	struct gctl_backend_view v = stored_backend();

	v.b.b.id = id;
	v.b.group_id = group_id;
	snprintf(v.group, sizeof(v.group), "%s", group);
	v.b.b.port = port;
	v.active = 1;
	v.flows = 5;
	return v;
}

START_TEST(encode_backend)
{
	struct gctl_backend_view v = backend_view(2, 1, "web", 9001);

	v.b.b.weight = 1;
	v.b.b.max_flows = 0;
	v.b.b.state = SCHED_ACTIVE;
	check_dump(groupjson_backend_encode(&v),
		   "{\"id\":2,\"group\":\"web\",\"group_id\":1,\"port\":9001,"
		   "\"weight\":1,\"max_flows\":0,\"state\":\"active\","
		   "\"active_flows\":1,\"flows\":5}");
	v.b.b.state = SCHED_DRAIN;
	v.b.b.max_flows = 1000000;
	v.flows = UINT64_C(1) << 40;
	check_dump(groupjson_backend_encode(&v),
		   "{\"id\":2,\"group\":\"web\",\"group_id\":1,\"port\":9001,"
		   "\"weight\":1,\"max_flows\":1000000,\"state\":\"drain\","
		   "\"active_flows\":1,\"flows\":1099511627776}");
}
END_TEST

/* A group shows its counters and its own backends, no one else's. */
START_TEST(encode_group)
{
	struct gctl_group_view v = { 0 };
	struct gctl_backend_view b[3];

	v.g = stored_group();
	v.g.id = 1;
	v.c.flows = 10;
	v.c.waits = 4;
	v.c.wait_admitted = 3;
	v.c.timeouts = 1;
	v.c.refused = 2;
	v.active = 3;
	b[0] = backend_view(2, 1, "web", 9001);
	b[1] = backend_view(3, 7, "other", 9101);
	b[2] = backend_view(4, 1, "web", 9002);
	check_dump(groupjson_group_encode(&v, b, 3),
		   "{\"id\":1,\"name\":\"web\",\"aid\":\"web-v1\","
		   "\"address\":\"10.0.0.1\",\"virtual_port\":9000,\"proto\":\"both\","
		   "\"policy\":\"least_flows\",\"max_wait_ms\":250,"
		   "\"on_timeout\":\"drop\",\"default\":true,\"active_flows\":3,"
		   "\"flows\":10,\"waits\":4,\"wait_admitted\":3,\"timeouts\":1,"
		   "\"refused\":2,\"backends\":["
		   "{\"id\":2,\"group\":\"web\",\"group_id\":1,\"port\":9001,"
		   "\"weight\":3,\"max_flows\":50,\"state\":\"drain\","
		   "\"active_flows\":1,\"flows\":5},"
		   "{\"id\":4,\"group\":\"web\",\"group_id\":1,\"port\":9002,"
		   "\"weight\":3,\"max_flows\":50,\"state\":\"drain\","
		   "\"active_flows\":1,\"flows\":5}]}");

	/* Any local address is null; no backends is an empty list. */
	groupjson_group_defaults(&v.g);
	v.g.id = 7;
	snprintf(v.g.name, sizeof(v.g.name), "bare");
	snprintf(v.g.aid, sizeof(v.g.aid), "bare");
	v.g.virtual_port = 1;
	memset(&v.c, 0, sizeof(v.c));
	v.active = 0;
	check_dump(groupjson_group_encode(&v, b, 1),
		   "{\"id\":7,\"name\":\"bare\",\"aid\":\"bare\",\"address\":null,"
		   "\"virtual_port\":1,\"proto\":\"tcp\",\"policy\":\"round_robin\","
		   "\"max_wait_ms\":0,\"on_timeout\":\"reset\",\"default\":false,"
		   "\"active_flows\":0,\"flows\":0,\"waits\":0,\"wait_admitted\":0,"
		   "\"timeouts\":0,\"refused\":0,\"backends\":[]}");
	check_dump(groupjson_group_encode(&v, NULL, 0),
		   "{\"id\":7,\"name\":\"bare\",\"aid\":\"bare\",\"address\":null,"
		   "\"virtual_port\":1,\"proto\":\"tcp\",\"policy\":\"round_robin\","
		   "\"max_wait_ms\":0,\"on_timeout\":\"reset\",\"default\":false,"
		   "\"active_flows\":0,\"flows\":0,\"waits\":0,\"wait_admitted\":0,"
		   "\"timeouts\":0,\"refused\":0,\"backends\":[]}");
	v.g.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", v.g.addr);
	{
		json_t *o = groupjson_group_encode(&v, NULL, 0);

		ck_assert_str_eq(json_string_value(json_object_get(o, "address")),
				 "2001:db8::1");
		json_decref(o);
	}
}
END_TEST

START_TEST(encode_rule)
{
	struct gctl_rule_view v = stored_rule();

	v.r.id = 3;
	v.r.group_id = 1;
	snprintf(v.group, sizeof(v.group), "a");
	check_dump(groupjson_rule_encode(&v),
		   "{\"id\":3,\"cidr\":\"10.1.0.0/16\",\"source_ports\":\"1024-2047\","
		   "\"group\":\"a\",\"group_id\":1}");
	v.r.has_ports = false;
	v.r.family = AF_INET6;
	memset(v.r.addr, 0, sizeof(v.r.addr));
	v.r.prefix_len = 0;
	check_dump(groupjson_rule_encode(&v),
		   "{\"id\":3,\"cidr\":\"::/0\",\"source_ports\":null,"
		   "\"group\":\"a\",\"group_id\":1}");
	v.r.has_ports = true;
	v.r.port_lo = v.r.port_hi = 5000;
	check_dump(groupjson_rule_encode(&v),
		   "{\"id\":3,\"cidr\":\"::/0\",\"source_ports\":\"5000\","
		   "\"group\":\"a\",\"group_id\":1}");
}
END_TEST

static struct gflows_view flow_view(void)
{
	struct gflows_view f;

	memset(&f, 0, sizeof(f));
	f.e.dist = 1;
	f.e.state = FLOW_ESTABLISHED;
	f.e.key.family = AF_INET;
	f.e.key.l4proto = IPPROTO_TCP;
	f.e.key.client_port = 40000;
	inet_pton(AF_INET, "10.1.0.5", f.e.key.client);
	inet_pton(AF_INET, "10.0.0.1", f.e.key.service);
	f.e.key.port = 9000;
	f.e.backend_port = 9001;
	f.e.group = 1;
	f.e.backend = 2;
	f.e.created = 1000;
	f.e.last_seen = 1011;
	snprintf(f.group, sizeof(f.group), "web");
	return f;
}

START_TEST(encode_flow)
{
	struct gflows_view f = flow_view();

	check_dump(groupjson_flow_encode(&f, 1012),
		   "{\"proto\":\"tcp\",\"client\":\"10.1.0.5\",\"client_port\":40000,"
		   "\"address\":\"10.0.0.1\",\"virtual_port\":9000,\"backend_port\":9001,"
		   "\"group\":\"web\",\"group_id\":1,\"backend_id\":2,"
		   "\"state\":\"established\",\"created_s_ago\":12,\"idle_s\":1}");

	/* IPv6, UDP, a group since removed, and ages across the 2^32 wrap. */
	f.e.key.family = AF_INET6;
	f.e.key.l4proto = IPPROTO_UDP;
	f.e.state = FLOW_UDP;
	inet_pton(AF_INET6, "2001:db8::5", f.e.key.client);
	inet_pton(AF_INET6, "2001:db8::1", f.e.key.service);
	f.group[0] = '\0';
	f.e.created = UINT32_MAX - 9;
	f.e.last_seen = UINT32_MAX;
	check_dump(groupjson_flow_encode(&f, 20),
		   "{\"proto\":\"udp\",\"client\":\"2001:db8::5\",\"client_port\":40000,"
		   "\"address\":\"2001:db8::1\",\"virtual_port\":9000,\"backend_port\":9001,"
		   "\"group\":null,\"group_id\":1,\"backend_id\":2,"
		   "\"state\":\"udp\",\"created_s_ago\":30,\"idle_s\":21}");

	/* A flow seen this very second is 0 seconds idle. */
	f = flow_view();
	f.e.state = FLOW_SYN_SEEN;
	{
		json_t *o = groupjson_flow_encode(&f, 1011);

		ck_assert_int_eq(json_integer_value(json_object_get(o, "idle_s")), 0);
		ck_assert_str_eq(json_string_value(json_object_get(o, "state")),
				 "syn_seen");
		json_decref(o);
	}
}
END_TEST

/*
 * What a GET answers goes back in as a PUT once the output-only fields are
 * taken out, and gives the same row.
 */
START_TEST(round_trip)
{
	static const char *const output_only[] = {
		"active_flows", "flows", "waits", "wait_admitted", "timeouts",
		"refused", "backends", "group_id",
	};
	struct gctl_group_view gv = { 0 };
	struct gctl_rule_view rv = stored_rule();
	struct gctl_backend_view bv = backend_view(URL_ID, GROUP_ID, "web", 9001);
	struct mapping_error err = { 0 };
	struct target t;
	json_t *o[3];

	gv.g = stored_group();
	o[0] = groupjson_group_encode(&gv, NULL, 0);
	o[1] = groupjson_backend_encode(&bv);
	o[2] = groupjson_rule_encode(&rv);
	for (size_t i = 0; i < 3; i++) {
		for (size_t k = 0; k < ARRAY_LEN(output_only); k++)
			json_object_del(o[i], output_only[k]);
	}
	groupjson_group_defaults(&t.g);
	t.g.id = URL_ID;
	ck_assert_msg(groupjson_group_apply(o[0], &t.g, false, &err), "%s", err.message);
	ck_assert_str_eq(t.g.name, gv.g.name);
	ck_assert_str_eq(t.g.aid, gv.g.aid);
	ck_assert_uint_eq(t.g.family, gv.g.family);
	ck_assert_mem_eq(t.g.addr, gv.g.addr, 16);
	ck_assert_uint_eq(t.g.virtual_port, gv.g.virtual_port);
	ck_assert_uint_eq(t.g.protos, gv.g.protos);
	ck_assert_int_eq(t.g.policy, gv.g.policy);
	ck_assert_uint_eq(t.g.max_wait_ms, gv.g.max_wait_ms);
	ck_assert_int_eq(t.g.on_timeout, gv.g.on_timeout);
	ck_assert_int_eq(t.g.is_default, gv.g.is_default);

	groupjson_backend_defaults(&t.b);
	t.b.b.b.id = URL_ID;
	ck_assert_msg(groupjson_backend_apply(o[1], &t.b, false, &err), "%s",
		      err.message);
	ck_assert_str_eq(t.b.group, bv.group);
	ck_assert_uint_eq(t.b.b.b.port, bv.b.b.port);
	ck_assert_uint_eq(t.b.b.b.weight, bv.b.b.weight);
	ck_assert_uint_eq(t.b.b.b.max_flows, bv.b.b.max_flows);
	ck_assert_int_eq(t.b.b.b.state, bv.b.b.state);

	groupjson_rule_defaults(&t.r);
	t.r.r.id = URL_ID;
	ck_assert_msg(groupjson_rule_apply(o[2], &t.r, false, &err), "%s", err.message);
	ck_assert_str_eq(t.r.group, rv.group);
	ck_assert_uint_eq(t.r.r.family, rv.r.family);
	ck_assert_mem_eq(t.r.r.addr, rv.r.addr, 16);
	ck_assert_uint_eq(t.r.r.prefix_len, rv.r.prefix_len);
	ck_assert_int_eq(t.r.r.has_ports, rv.r.has_ports);
	ck_assert_uint_eq(t.r.r.port_lo, rv.r.port_lo);
	ck_assert_uint_eq(t.r.r.port_hi, rv.r.port_hi);
	for (size_t i = 0; i < 3; i++)
		json_decref(o[i]);
}
END_TEST

static Suite *groupjson_suite(void)
{
	Suite *s = suite_create("groupjson");
	TCase *tc = tcase_create("groupjson");

	tcase_add_loop_test(tc, bad_body, 0, ARRAY_LEN(bad_bodies));
	tcase_add_loop_test(tc, good_body, 0, ARRAY_LEN(good_bodies));
	tcase_add_test(tc, group_defaults);
	tcase_add_test(tc, group_every_field);
	tcase_add_test(tc, group_patch);
	tcase_add_test(tc, group_put_replaces);
	tcase_add_test(tc, backend_fields);
	tcase_add_test(tc, rule_fields);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_loop_test(tc, cidr, 0, ARRAY_LEN(cidr_cases));
	tcase_add_test(tc, cidr_names_field);
	tcase_add_loop_test(tc, ports, 0, ARRAY_LEN(port_cases));
	tcase_add_test(tc, ports_format_widest);
	tcase_add_test(tc, encode_backend);
	tcase_add_test(tc, encode_group);
	tcase_add_test(tc, encode_rule);
	tcase_add_test(tc, encode_flow);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(groupjson_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
