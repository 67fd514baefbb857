/*
 * Unit tests for fanjson: applying contested-port and subscriber bodies
 * for POST, PUT and PATCH (defaults, every field, every 400 and 422 answer
 * and their order, which fields a PATCH leaves alone, null where null is a
 * value, the registration port derived, the subscriber's address read in
 * the light of its mode, a contested port named by number left for the
 * caller to resolve), and the objects the API answers with.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fanjson.h"
#include "util.h"

enum mode { POST, PUT, PATCH };
enum res { PORT, SUB };

/* The URL's id every PUT and PATCH below is sent to. */
#define URL_ID 5
/* The contested port the stored subscribers belong to. */
#define PORT_ID 9

/*
 * NULs are let in, unlike the API's parser does, so that fanjson's own
 * refusal of a socket path with a NUL inside is tested too.
 */
static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
				  JSON_ALLOW_NUL, &jerr);

	ck_assert_msg(root != NULL, "cannot parse %s: %s", text, jerr.text);
	return root;
}

/* Rows as PATCH finds them before applying the body. */
static struct fctl_port stored_port(void)
{
	struct fctl_port p;

	fanjson_port_defaults(&p);
	p.id = URL_ID;
	p.port = 514;
	p.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", p.addr);
	p.registration_port = 2514;
	p.enabled = false;
	return p;
}

static struct fctl_sub_view stored_sub(void)
{
	struct fctl_sub_view v;

	fanjson_sub_defaults(&v);
	v.s.id = URL_ID;
	v.s.port_id = PORT_ID;
	v.contested_port = 162;
	v.s.mode = FCTL_FRAMED_UDP;
	v.s.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", v.s.addr);
	v.s.port = 9162;
	v.s.sample_every = 10;
	return v;
}

static struct fctl_sub_view stored_unix_sub(void)
{
	struct fctl_sub_view v = stored_sub();

	v.s.mode = FCTL_FRAMED_UNIX;
	v.s.family = AF_UNIX;
	memset(v.s.addr, 0, sizeof(v.s.addr));
	v.s.port = 0;
	snprintf(v.s.path, sizeof(v.s.path), "/run/traps.sock");
	return v;
}

/*
 * Applies text as res would be for mode, starting from what that mode
 * starts from; returns whether it applied, with err filled otherwise.
 */
static bool apply(enum res res, enum mode mode, const char *text,
		  struct mapping_error *err, struct fctl_port *p,
		  struct fctl_sub_view *s)
{
	json_t *root = parse(text);
	bool ok;

	memset(err, 0, sizeof(*err));
	if (res == PORT) {
		if (mode == PATCH) {
			*p = stored_port();
		} else {
			fanjson_port_defaults(p);
			p->id = mode == PUT ? URL_ID : 0;
		}
		ok = fanjson_port_apply(root, p, mode == PATCH, err);
	} else {
		if (mode == PATCH) {
			*s = stored_sub();
		} else {
			fanjson_sub_defaults(s);
			s->s.id = mode == PUT ? URL_ID : 0;
		}
		ok = fanjson_sub_apply(root, s, mode == PATCH, err);
	}
	/* err->field may point into the body: copy what the checks read. */
	if (!ok && err->field != NULL && err->field[0] != '\0') {
		static char field[64];

		snprintf(field, sizeof(field), "%s", err->field);
		err->field = field;
	}
	json_decref(root);
	return ok;
}

/* ---- refused bodies ----------------------------------------------------- */

static const struct {
	enum res res;
	enum mode mode;
	const char *body;
	int status;
	const char *code;
	const char *field;
} bad_cases[] = {
	/* Not an object. */
	{ PORT, POST, "[]", 400, "not_object", "" },
	{ SUB, PATCH, "162", 400, "not_object", "" },
	{ SUB, POST, "null", 400, "not_object", "" },
	/* Unknown fields, the counters and output-only fields among them. */
	{ PORT, POST, "{\"port\":162,\"bogus\":1}", 400, "unknown_field", "bogus" },
	{ PORT, PUT, "{\"port\":162,\"subscribers\":0}", 400, "unknown_field",
	  "subscribers" },
	{ PORT, PATCH, "{\"datagrams\":1}", 400, "unknown_field", "datagrams" },
	{ PORT, PATCH, "{\"bytes\":1}", 400, "unknown_field", "bytes" },
	{ PORT, PATCH, "{\"Port\":1}", 400, "unknown_field", "Port" },
	{ SUB, PATCH, "{\"registered\":true}", 400, "unknown_field", "registered" },
	{ SUB, PATCH, "{\"copies\":0}", 400, "unknown_field", "copies" },
	{ SUB, PATCH, "{\"last_sent\":null}", 400, "unknown_field", "last_sent" },
	{ SUB, PATCH, "{\"port_id\":9}", 400, "unknown_field", "port_id" },
	{ SUB, PATCH, "{\"path\":\"/x\"}", 400, "unknown_field", "path" },
	/* Missing fields, POST and PUT alike; PATCH requires nothing. */
	{ PORT, POST, "{}", 400, "missing_field", "port" },
	{ PORT, PUT, "{\"address\":null}", 400, "missing_field", "port" },
	{ SUB, POST, "{\"address\":\"127.0.0.1\",\"port\":9}", 400, "missing_field",
	  "contested_port" },
	{ SUB, PUT, "{\"contested_port\":162,\"port\":9}", 400, "missing_field",
	  "address" },
	{ SUB, POST, "{\"contested_port\":162,\"address\":\"127.0.0.1\"}", 400,
	  "missing_field", "port" },
	{ SUB, PUT, "{\"contested_port\":162,\"address\":\"127.0.0.1\","
	  "\"mode\":\"framed_tcp\"}", 400, "missing_field", "port" },
	/* A mode that is no mode still needs its port: shape first. */
	{ SUB, POST, "{\"contested_port\":162,\"address\":\"127.0.0.1\","
	  "\"mode\":\"bogus\"}", 400, "missing_field", "port" },
	/* Wrong types. */
	{ PORT, POST, "{\"port\":\"162\"}", 400, "invalid_type", "port" },
	{ PORT, POST, "{\"port\":162.0}", 400, "invalid_type", "port" },
	{ PORT, PATCH, "{\"port\":null}", 400, "invalid_type", "port" },
	{ PORT, PATCH, "{\"address\":5}", 400, "invalid_type", "address" },
	{ PORT, PATCH, "{\"registration_port\":null}", 400, "invalid_type",
	  "registration_port" },
	{ PORT, PATCH, "{\"enabled\":1}", 400, "invalid_type", "enabled" },
	{ PORT, PATCH, "{\"enabled\":\"true\"}", 400, "invalid_type", "enabled" },
	{ SUB, PATCH, "{\"address\":null}", 400, "invalid_type", "address" },
	{ SUB, PATCH, "{\"mode\":1}", 400, "invalid_type", "mode" },
	{ SUB, PATCH, "{\"contested_port\":\"162\"}", 400, "invalid_type",
	  "contested_port" },
	{ SUB, PATCH, "{\"sample_every\":1.5}", 400, "invalid_type", "sample_every" },
	{ SUB, PATCH, "{\"port\":true}", 400, "invalid_type", "port" },
	/* ids. */
	{ PORT, POST, "{\"id\":1,\"port\":162}", 400, "id_mismatch", "id" },
	{ PORT, PUT, "{\"id\":6,\"port\":162}", 400, "id_mismatch", "id" },
	{ SUB, PATCH, "{\"id\":0}", 400, "id_mismatch", "id" },
	{ SUB, POST, "{\"id\":5,\"contested_port\":162,\"address\":\"::1\","
	  "\"port\":9}", 400, "id_mismatch", "id" },
	{ SUB, PATCH, "{\"id\":\"5\"}", 400, "invalid_type", "id" },
	/* Every shape error before any value error. */
	{ PORT, POST, "{\"port\":0,\"bogus\":1}", 400, "unknown_field", "bogus" },
	{ PORT, POST, "{\"port\":70000,\"enabled\":\"x\"}", 400, "invalid_type",
	  "enabled" },
	{ SUB, POST, "{\"contested_port\":0,\"address\":\"x\",\"mode\":\"x\"}", 400,
	  "missing_field", "port" },
	{ SUB, PATCH, "{\"mode\":\"x\",\"sample_every\":\"1\"}", 400, "invalid_type",
	  "sample_every" },
	/* Values: contested ports. */
	{ PORT, POST, "{\"port\":0}", 422, "invalid_port", "port" },
	{ PORT, POST, "{\"port\":65536}", 422, "invalid_port", "port" },
	{ PORT, POST, "{\"port\":-162}", 422, "invalid_port", "port" },
	{ PORT, PATCH, "{\"port\":9223372036854775807}", 422, "invalid_port", "port" },
	{ PORT, POST, "{\"port\":162,\"registration_port\":0}", 422, "invalid_registration_port",
	  "registration_port" },
	{ PORT, POST, "{\"port\":162,\"registration_port\":65536}", 422,
	  "invalid_registration_port", "registration_port" },
	{ PORT, POST, "{\"port\":162,\"registration_port\":162}", 422,
	  "invalid_registration_port", "registration_port" },
	{ PORT, PATCH, "{\"port\":2514}", 422, "invalid_registration_port", "registration_port" },
	/* The derived registration port would pass 65535. */
	{ PORT, POST, "{\"port\":52536}", 422, "invalid_registration_port", "registration_port" },
	{ PORT, PUT, "{\"port\":65535}", 422, "invalid_registration_port", "registration_port" },
	{ PORT, POST, "{\"port\":162,\"address\":\"example.com\"}", 422,
	  "invalid_address", "address" },
	{ PORT, PATCH, "{\"address\":\"10.0.0.256\"}", 422, "invalid_address",
	  "address" },
	{ PORT, PATCH, "{\"address\":\"10.0.0.0/8\"}", 422, "invalid_address",
	  "address" },
	{ PORT, PATCH, "{\"address\":\"\"}", 422, "invalid_address", "address" },
	/* Values: subscribers. */
	{ SUB, PATCH, "{\"contested_port\":0}", 422, "invalid_port",
	  "contested_port" },
	{ SUB, PATCH, "{\"contested_port\":65536}", 422, "invalid_port",
	  "contested_port" },
	{ SUB, PATCH, "{\"mode\":\"RAW\"}", 422, "invalid_mode", "mode" },
	{ SUB, PATCH, "{\"mode\":\"\"}", 422, "invalid_mode", "mode" },
	{ SUB, PATCH, "{\"mode\":\"unknown\"}", 422, "invalid_mode", "mode" },
	{ SUB, PATCH, "{\"sample_every\":0}", 422, "invalid_sample_every", "sample_every" },
	{ SUB, PATCH, "{\"sample_every\":1000001}", 422, "invalid_sample_every",
	  "sample_every" },
	{ SUB, PATCH, "{\"sample_every\":-1}", 422, "invalid_sample_every", "sample_every" },
	{ SUB, PATCH, "{\"port\":65536}", 422, "invalid_port", "port" },
	{ SUB, PATCH, "{\"port\":0}", 422, "invalid_port", "port" },
	{ SUB, PATCH, "{\"address\":\"host.example\"}", 422, "invalid_address",
	  "address" },
	{ SUB, PATCH, "{\"address\":\"/run/x.sock\"}", 422, "invalid_address",
	  "address" },
	{ SUB, POST, "{\"contested_port\":162,\"address\":\"\",\"port\":9}", 422,
	  "invalid_address", "address" },
	/* framed_unix: a path, and no port. */
	{ SUB, POST, "{\"contested_port\":162,\"address\":\"127.0.0.1\","
	  "\"mode\":\"framed_unix\"}", 422, "invalid_address", "address" },
	{ SUB, POST, "{\"contested_port\":162,\"address\":\"run/x.sock\","
	  "\"mode\":\"framed_unix\"}", 422, "invalid_address", "address" },
	{ SUB, POST, "{\"contested_port\":162,\"address\":\"/run/x\\u0000y\","
	  "\"mode\":\"framed_unix\"}", 422, "invalid_address", "address" },
	{ SUB, POST, "{\"contested_port\":162,\"address\":\"/run/x.sock\","
	  "\"mode\":\"framed_unix\",\"port\":9}", 422, "invalid_port", "port" },
	/* A PATCH of the mode alone leaves an address the mode cannot use. */
	{ SUB, PATCH, "{\"mode\":\"framed_unix\"}", 422, "invalid_address",
	  "address" },
	{ SUB, PATCH, "{\"mode\":\"framed_unix\",\"address\":\"/run/x.sock\"}", 422,
	  "invalid_port", "port" },
};

START_TEST(bad_body)
{
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s;

	ck_assert_msg(!apply(bad_cases[_i].res, bad_cases[_i].mode,
			     bad_cases[_i].body, &err, &p, &s),
		      "%s applied", bad_cases[_i].body);
	ck_assert_msg(err.status == bad_cases[_i].status &&
		      strcmp(err.code, bad_cases[_i].code) == 0 &&
		      strcmp(err.field, bad_cases[_i].field) == 0,
		      "%s: %d %s %s (%s)", bad_cases[_i].body, err.status, err.code,
		      err.field, err.message);
	ck_assert(err.message[0] != '\0');
}
END_TEST

/* ---- contested ports ---------------------------------------------------- */

START_TEST(port_defaults)
{
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s;

	ck_assert(apply(PORT, POST, "{\"port\":162}", &err, &p, &s));
	ck_assert_int_eq(p.id, 0);
	ck_assert_uint_eq(p.port, 162);
	ck_assert_uint_eq(p.family, 0);
	ck_assert_uint_eq(p.registration_port, 162 + FCTL_REGISTRATION_OFFSET);
	ck_assert(p.enabled);
	/* The highest port whose default still fits. */
	ck_assert(apply(PORT, POST, "{\"port\":52535}", &err, &p, &s));
	ck_assert_uint_eq(p.registration_port, 65535);
	/* Past it, a registration port of one's own will do. */
	ck_assert(apply(PORT, POST, "{\"port\":60000,\"registration_port\":1162}",
			&err, &p, &s));
	ck_assert_uint_eq(p.registration_port, 1162);
}
END_TEST

START_TEST(port_every_field)
{
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s;
	uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	ck_assert(apply(PORT, PUT, "{\"id\":5,\"port\":514,\"address\":"
			"\"2001:DB8:0::1\",\"registration_port\":1514,"
			"\"enabled\":false}", &err, &p, &s));
	ck_assert_int_eq(p.id, URL_ID);
	ck_assert_uint_eq(p.port, 514);
	ck_assert_uint_eq(p.family, AF_INET6);
	ck_assert_mem_eq(p.addr, want, 16);
	ck_assert_uint_eq(p.registration_port, 1514);
	ck_assert(!p.enabled);
	ck_assert(apply(PORT, POST, "{\"port\":1,\"address\":null,"
			"\"registration_port\":65535}", &err, &p, &s));
	ck_assert_uint_eq(p.family, 0);
	ck_assert_uint_eq(p.port, 1);
}
END_TEST

START_TEST(port_patch)
{
	struct mapping_error err;
	struct fctl_port p, want = stored_port();
	struct fctl_sub_view s;

	ck_assert(apply(PORT, PATCH, "{}", &err, &p, &s));
	ck_assert_mem_eq(&p, &want, sizeof(p));
	/* A new port keeps the registration port it had: nothing derived. */
	ck_assert(apply(PORT, PATCH, "{\"port\":162}", &err, &p, &s));
	ck_assert_uint_eq(p.port, 162);
	ck_assert_uint_eq(p.registration_port, 2514);
	ck_assert_uint_eq(p.family, AF_INET);
	ck_assert(!p.enabled);
	ck_assert(apply(PORT, PATCH, "{\"address\":null,\"enabled\":true,\"id\":5}",
			&err, &p, &s));
	ck_assert_uint_eq(p.family, 0);
	ck_assert(p.enabled);
	ck_assert_uint_eq(p.port, 514);
	ck_assert(apply(PORT, PATCH, "{\"registration_port\":13514}", &err, &p, &s));
	ck_assert_uint_eq(p.registration_port, 13514);
	ck_assert_uint_eq(p.port, 514);
}
END_TEST

/* PUT is not a PATCH: what it leaves out goes back to the defaults. */
START_TEST(port_put_replaces)
{
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s;

	ck_assert(apply(PORT, PUT, "{\"port\":514}", &err, &p, &s));
	ck_assert_uint_eq(p.family, 0);
	ck_assert_uint_eq(p.registration_port, 13514);
	ck_assert(p.enabled);
}
END_TEST

/* ---- subscribers -------------------------------------------------------- */

START_TEST(sub_defaults)
{
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s;

	ck_assert(apply(SUB, POST, "{\"contested_port\":162,\"address\":"
			"\"127.0.0.1\",\"port\":9162}", &err, &p, &s));
	ck_assert_int_eq(s.s.id, 0);
	ck_assert_int_eq(s.s.port_id, 0);
	ck_assert_uint_eq(s.contested_port, 162);
	ck_assert_int_eq(s.s.mode, FCTL_RAW);
	ck_assert_uint_eq(s.s.family, AF_INET);
	ck_assert_uint_eq(s.s.addr[0], 127);
	ck_assert_uint_eq(s.s.addr[3], 1);
	ck_assert_uint_eq(s.s.port, 9162);
	ck_assert_uint_eq(s.s.sample_every, 1);
	ck_assert(!s.s.registered);
	ck_assert_str_eq(s.s.path, "");
}
END_TEST

START_TEST(sub_every_mode)
{
	static const struct {
		const char *name;
		enum fctl_mode mode;
	} modes[] = {
		{ "raw", FCTL_RAW },
		{ "spoof", FCTL_SPOOF },
		{ "framed_udp", FCTL_FRAMED_UDP },
		{ "framed_tcp", FCTL_FRAMED_TCP },
	};
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s;
	char body[256];

	for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
		snprintf(body, sizeof(body), "{\"contested_port\":514,\"address\":"
			 "\"::1\",\"port\":65535,\"mode\":\"%s\","
			 "\"sample_every\":1000000}", modes[i].name);
		ck_assert_msg(apply(SUB, POST, body, &err, &p, &s), "%s: %s", body,
			      err.message);
		ck_assert_int_eq(s.s.mode, modes[i].mode);
		ck_assert_uint_eq(s.s.family, AF_INET6);
		ck_assert_uint_eq(s.s.addr[15], 1);
		ck_assert_uint_eq(s.s.port, 65535);
		ck_assert_uint_eq(s.s.sample_every, 1000000);
	}
}
END_TEST

START_TEST(sub_unix)
{
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s;
	char body[512], path[FCTL_PATH_MAX + 1];

	/* No port at all, or port 0, is the same thing. */
	ck_assert(apply(SUB, POST, "{\"contested_port\":162,\"address\":"
			"\"/run/traps.sock\",\"mode\":\"framed_unix\"}", &err, &p, &s));
	ck_assert_uint_eq(s.s.family, AF_UNIX);
	ck_assert_str_eq(s.s.path, "/run/traps.sock");
	ck_assert_uint_eq(s.s.port, 0);
	ck_assert(apply(SUB, PUT, "{\"contested_port\":162,\"address\":\"/a\","
			"\"mode\":\"framed_unix\",\"port\":0}", &err, &p, &s));
	ck_assert_str_eq(s.s.path, "/a");

	/* The longest path that fits sun_path with its NUL, and one more. */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[FCTL_PATH_MAX - 1] = '\0';
	snprintf(body, sizeof(body), "{\"contested_port\":162,\"address\":\"%s\","
		 "\"mode\":\"framed_unix\"}", path);
	ck_assert(apply(SUB, POST, body, &err, &p, &s));
	ck_assert_uint_eq(strlen(s.s.path), FCTL_PATH_MAX - 1);
	path[FCTL_PATH_MAX - 1] = 'p';
	path[FCTL_PATH_MAX] = '\0';
	snprintf(body, sizeof(body), "{\"contested_port\":162,\"address\":\"%s\","
		 "\"mode\":\"framed_unix\"}", path);
	ck_assert(!apply(SUB, POST, body, &err, &p, &s));
	ck_assert_int_eq(err.status, 422);
	ck_assert_str_eq(err.field, "address");
}
END_TEST

START_TEST(sub_patch)
{
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s, want = stored_sub();
	json_t *root;

	ck_assert(apply(SUB, PATCH, "{}", &err, &p, &s));
	ck_assert_mem_eq(&s, &want, sizeof(s));
	/* Without contested_port the stored port id stays: nothing to resolve. */
	ck_assert(apply(SUB, PATCH, "{\"sample_every\":3,\"mode\":\"raw\"}", &err,
			&p, &s));
	ck_assert_int_eq(s.s.port_id, PORT_ID);
	ck_assert_uint_eq(s.s.sample_every, 3);
	ck_assert_int_eq(s.s.mode, FCTL_RAW);
	ck_assert_uint_eq(s.s.port, 9162);
	/* With it, the id is cleared for the caller to resolve the number. */
	ck_assert(apply(SUB, PATCH, "{\"contested_port\":514}", &err, &p, &s));
	ck_assert_int_eq(s.s.port_id, 0);
	ck_assert_uint_eq(s.contested_port, 514);
	ck_assert(apply(SUB, PATCH, "{\"address\":\"2001:db8::7\",\"port\":7}", &err,
			&p, &s));
	ck_assert_uint_eq(s.s.family, AF_INET6);
	ck_assert_uint_eq(s.s.port, 7);
	ck_assert_int_eq(s.s.mode, FCTL_FRAMED_UDP);
	/* Mode, address and port together move it to a Unix socket. */
	ck_assert(apply(SUB, PATCH, "{\"mode\":\"framed_unix\",\"address\":"
			"\"/run/x.sock\",\"port\":0}", &err, &p, &s));
	ck_assert_uint_eq(s.s.family, AF_UNIX);
	ck_assert_str_eq(s.s.path, "/run/x.sock");
	ck_assert_uint_eq(s.s.addr[0], 0);

	/* A Unix subscriber's new address is a path, and back to IP clears it. */
	s = stored_unix_sub();
	root = parse("{\"address\":\"/run/other.sock\"}");
	ck_assert(fanjson_sub_apply(root, &s, true, &err));
	json_decref(root);
	ck_assert_str_eq(s.s.path, "/run/other.sock");
	root = parse("{\"address\":\"127.0.0.1\"}");
	ck_assert(!fanjson_sub_apply(root, &s, true, &err));
	json_decref(root);
	ck_assert_int_eq(err.status, 422);
	ck_assert_str_eq(err.field, "address");
	s = stored_unix_sub();
	root = parse("{\"mode\":\"spoof\",\"address\":\"127.0.0.1\",\"port\":5}");
	ck_assert(fanjson_sub_apply(root, &s, true, &err));
	json_decref(root);
	ck_assert_uint_eq(s.s.family, AF_INET);
	ck_assert_str_eq(s.s.path, "");
	s = stored_unix_sub();
	root = parse("{\"mode\":\"raw\",\"address\":\"127.0.0.1\"}");
	ck_assert(!fanjson_sub_apply(root, &s, true, &err));
	json_decref(root);
	ck_assert_int_eq(err.status, 422);
	ck_assert_str_eq(err.field, "port");
}
END_TEST

/*
 * PUT starts from the defaults; registered among them, which fanroutes
 * then sets from the stored row, since no body may change it.
 */
START_TEST(sub_put_replaces)
{
	struct mapping_error err;
	struct fctl_port p;
	struct fctl_sub_view s;

	ck_assert(apply(SUB, PUT, "{\"contested_port\":162,\"address\":"
			"\"10.1.1.1\",\"port\":9}", &err, &p, &s));
	ck_assert_int_eq(s.s.id, URL_ID);
	ck_assert_int_eq(s.s.mode, FCTL_RAW);
	ck_assert_uint_eq(s.s.sample_every, 1);
	ck_assert_int_eq(s.s.port_id, 0);
	ck_assert(!s.s.registered);
}
END_TEST

/* ---- encoding ----------------------------------------------------------- */

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

START_TEST(encode_port)
{
	struct fctl_port_view v = { .p = stored_port(), .nsubs = 2 };
	static const char *const keys[] = {
		"id", "port", "address", "registration_port", "enabled",
		"subscribers", "datagrams", "bytes",
	};
	json_t *o;

	v.c.datagrams = 10;
	v.c.bytes = 1200;
	o = fanjson_port_encode(&v);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(json_object_size(o), ARRAY_LEN(keys));
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		ck_assert_msg(json_object_get(o, keys[i]) != NULL, "no %s", keys[i]);
	ck_assert_int_eq(num(o, "id"), URL_ID);
	ck_assert_int_eq(num(o, "port"), 514);
	ck_assert_str_eq(str(o, "address"), "10.0.0.1");
	ck_assert_int_eq(num(o, "registration_port"), 2514);
	ck_assert(json_is_false(json_object_get(o, "enabled")));
	ck_assert_int_eq(num(o, "subscribers"), 2);
	ck_assert_int_eq(num(o, "datagrams"), 10);
	ck_assert_int_eq(num(o, "bytes"), 1200);
	json_decref(o);

	/* Every local address is null, and IPv6 comes back canonical. */
	v.p.family = 0;
	o = fanjson_port_encode(&v);
	ck_assert(json_is_null(json_object_get(o, "address")));
	json_decref(o);
	v.p.family = AF_INET6;
	memset(v.p.addr, 0, sizeof(v.p.addr));
	v.p.addr[0] = 0x20;
	v.p.addr[1] = 0x01;
	v.p.addr[2] = 0x0d;
	v.p.addr[3] = 0xb8;
	v.p.addr[15] = 1;
	o = fanjson_port_encode(&v);
	ck_assert_str_eq(str(o, "address"), "2001:db8::1");
	json_decref(o);
}
END_TEST

START_TEST(encode_sub)
{
	struct fctl_sub_view v = stored_sub();
	static const char *const keys[] = {
		"id", "contested_port", "address", "port", "mode", "sample_every",
		"registered", "copies", "bytes", "errors", "drops", "last_sent",
	};
	json_t *o;

	v.c.copies = 7;
	v.c.bytes = 700;
	v.c.errors = 2;
	v.c.drops = 1;
	o = fanjson_sub_encode(&v);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(json_object_size(o), ARRAY_LEN(keys));
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		ck_assert_msg(json_object_get(o, keys[i]) != NULL, "no %s", keys[i]);
	ck_assert_int_eq(num(o, "id"), URL_ID);
	ck_assert_int_eq(num(o, "contested_port"), 162);
	ck_assert_str_eq(str(o, "address"), "127.0.0.1");
	ck_assert_int_eq(num(o, "port"), 9162);
	ck_assert_str_eq(str(o, "mode"), "framed_udp");
	ck_assert_int_eq(num(o, "sample_every"), 10);
	ck_assert(json_is_false(json_object_get(o, "registered")));
	ck_assert_int_eq(num(o, "copies"), 7);
	ck_assert_int_eq(num(o, "bytes"), 700);
	ck_assert_int_eq(num(o, "errors"), 2);
	ck_assert_int_eq(num(o, "drops"), 1);
	/* Never sent: null. */
	ck_assert(json_is_null(json_object_get(o, "last_sent")));
	json_decref(o);

	v.c.last_sent = 1700000000;
	v.s.registered = true;
	o = fanjson_sub_encode(&v);
	ck_assert_str_eq(str(o, "last_sent"), "2023-11-14T22:13:20Z");
	ck_assert(json_is_true(json_object_get(o, "registered")));
	json_decref(o);

	v = stored_unix_sub();
	o = fanjson_sub_encode(&v);
	ck_assert_str_eq(str(o, "address"), "/run/traps.sock");
	ck_assert_int_eq(num(o, "port"), 0);
	ck_assert_str_eq(str(o, "mode"), "framed_unix");
	json_decref(o);

	/* A path that is not UTF-8 cannot be a JSON string. */
	v.s.path[5] = (char)0xff;
	ck_assert_ptr_null(fanjson_sub_encode(&v));
}
END_TEST

/*
 * What the API answers, sent back without its counters, applies as a PUT
 * and gives the same row.
 */
START_TEST(round_trip)
{
	static const char *const counters[] = {
		"subscribers", "datagrams", "bytes", "registered", "copies", "errors",
		"drops", "last_sent",
	};
	struct fctl_port_view pv = { .p = stored_port() };
	struct fctl_sub_view sv[2] = { stored_sub(), stored_unix_sub() };
	struct mapping_error err;
	struct fctl_port p;
	json_t *o;

	o = fanjson_port_encode(&pv);
	for (size_t i = 0; i < ARRAY_LEN(counters); i++)
		json_object_del(o, counters[i]);
	fanjson_port_defaults(&p);
	p.id = URL_ID;
	ck_assert_msg(fanjson_port_apply(o, &p, false, &err), "%s", err.message);
	ck_assert_mem_eq(&p, &pv.p, sizeof(p));
	json_decref(o);

	for (size_t k = 0; k < ARRAY_LEN(sv); k++) {
		struct fctl_sub_view s;

		o = fanjson_sub_encode(&sv[k]);
		for (size_t i = 0; i < ARRAY_LEN(counters); i++)
			json_object_del(o, counters[i]);
		fanjson_sub_defaults(&s);
		s.s.id = URL_ID;
		ck_assert_msg(fanjson_sub_apply(o, &s, false, &err), "%s", err.message);
		/* The caller resolves the number back to the same port id. */
		ck_assert_int_eq(s.s.port_id, 0);
		s.s.port_id = PORT_ID;
		ck_assert_mem_eq(&s.s, &sv[k].s, sizeof(s.s));
		ck_assert_uint_eq(s.contested_port, sv[k].contested_port);
		json_decref(o);
	}
}
END_TEST

static Suite *fanjson_suite(void)
{
	Suite *s = suite_create("fanjson");
	TCase *tc = tcase_create("fanjson");

	tcase_add_loop_test(tc, bad_body, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, port_defaults);
	tcase_add_test(tc, port_every_field);
	tcase_add_test(tc, port_patch);
	tcase_add_test(tc, port_put_replaces);
	tcase_add_test(tc, sub_defaults);
	tcase_add_test(tc, sub_every_mode);
	tcase_add_test(tc, sub_unix);
	tcase_add_test(tc, sub_patch);
	tcase_add_test(tc, sub_put_replaces);
	tcase_add_test(tc, encode_port);
	tcase_add_test(tc, encode_sub);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fanjson_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
