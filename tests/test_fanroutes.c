/*
 * Unit tests for fanroutes: the contested-port and subscriber handlers,
 * reached through routes_find and routes_run as api.c reaches them,
 * against a fake fctl kept in arrays here.  The fake keeps what the
 * handlers rely on (ids, a version that every write bumps, If-Match, 404
 * and 409 answers, a port's subscribers deleted with it, a 503 when a test
 * asks for one), so that the tests see exactly what the handlers answer:
 * status, error object, Location, ETag and body.
 *
 * routes.o names the mapping and group handlers too; their control
 * functions fail the test if ever called.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

#include "control.h"
#include "fctl.h"
#include "gctl.h"
#include "routes.h"
#include "testapi.h"
#include "util.h"

#define NO_CONTROL(fn) \
	ck_abort_msg("%s called, but this test has no mappings or groups", fn)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define NOT_HERE(name, ...) \
	int name(__VA_ARGS__) { NO_CONTROL(#name); return -1; }
NOT_HERE(control_mapping_list, struct control *ctl, struct control_mapping **rows,
	 size_t *n, uint64_t *version, struct mapping_error *err)
NOT_HERE(control_mapping_get, struct control *ctl, int64_t id,
	 struct control_mapping *out, uint64_t *version, struct mapping_error *err)
NOT_HERE(control_mapping_create, struct control *ctl, struct mapping *m,
	 struct control_cond *cond, struct mapping_error *err)
NOT_HERE(control_mapping_update, struct control *ctl, struct mapping *m,
	 struct control_cond *cond, struct mapping_error *err)
NOT_HERE(control_mapping_delete, struct control *ctl, int64_t id,
	 struct control_cond *cond, struct mapping_error *err)
NOT_HERE(control_table_replace, struct control *ctl, struct mapping *rows,
	 size_t n, struct control_cond *cond, struct mapping_error *err)
NOT_HERE(control_groups_read, struct control *ctl, control_groups_fn *fn,
	 void *arg, uint64_t *version, struct mapping_error *err)
NOT_HERE(control_groups_write, struct control *ctl, control_groups_fn *fn,
	 void *arg, struct control_cond *cond, struct mapping_error *err)
NOT_HERE(gctl_group_list, struct gctl *g, struct gctl_group_view **rows, size_t *n,
	 struct mapping_error *err)
NOT_HERE(gctl_group_get, struct gctl *g, int64_t id, struct gctl_group_view *out,
	 struct mapping_error *err)
NOT_HERE(gctl_group_by_name, struct gctl *g, const char *name, int64_t *id,
	 struct mapping_error *err)
NOT_HERE(gctl_group_create, struct gctl *g, struct groups_group *gr,
	 struct mapping_error *err)
NOT_HERE(gctl_group_update, struct gctl *g, const struct groups_group *gr,
	 struct mapping_error *err)
NOT_HERE(gctl_group_delete, struct gctl *g, int64_t id, struct mapping_error *err)
NOT_HERE(gctl_backend_list, struct gctl *g, int64_t group_id,
	 struct gctl_backend_view **rows, size_t *n, struct mapping_error *err)
NOT_HERE(gctl_backend_get, struct gctl *g, int64_t id,
	 struct gctl_backend_view *out, struct mapping_error *err)
NOT_HERE(gctl_backend_create, struct gctl *g, struct groups_backend *b,
	 struct mapping_error *err)
NOT_HERE(gctl_backend_update, struct gctl *g, const struct groups_backend *b,
	 struct mapping_error *err)
NOT_HERE(gctl_backend_delete, struct gctl *g, int64_t id, struct mapping_error *err)
NOT_HERE(gctl_rule_list, struct gctl *g, int64_t group_id,
	 struct gctl_rule_view **rows, size_t *n, struct mapping_error *err)
NOT_HERE(gctl_rule_get, struct gctl *g, int64_t id, struct gctl_rule_view *out,
	 struct mapping_error *err)
NOT_HERE(gctl_rule_create, struct gctl *g, struct groups_rule *r,
	 struct mapping_error *err)
NOT_HERE(gctl_rule_update, struct gctl *g, const struct groups_rule *r,
	 struct mapping_error *err)
NOT_HERE(gctl_rule_delete, struct gctl *g, int64_t id, struct mapping_error *err)
NOT_HERE(gctl_flow_list, struct gctl *g, const struct gflows_filter *f,
	 struct gflows_view **rows, size_t *n, size_t *total,
	 struct mapping_error *err)
NOT_HERE(gctl_flow_flush, struct gctl *g, size_t *flushed, struct mapping_error *err)
void control_status_get(struct control *ctl, struct control_status *out)
{
	NO_CONTROL("control_status_get");
}
#pragma GCC diagnostic pop

/* ---- the fake control plane ------------------------------------------- */

#define FAKE_MAX 16

static struct {
	uint64_t version;
	int64_t next_id;
	struct fctl_port ports[FAKE_MAX];
	struct fctl_port_counters port_c[FAKE_MAX];
	struct fctl_sub subs[FAKE_MAX];
	struct fctl_sub_counters sub_c[FAKE_MAX];
	size_t nports, nsubs;
	bool fail_503;                   /* the next write is stored, not live */
} fake;

static void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.version = 100;
	fake.next_id = 1;
}

uint64_t control_version(struct control *ctl)
{
	(void)ctl;
	return fake.version;
}

int control_fanout_read(struct control *ctl, control_fanout_fn *fn, void *arg,
			uint64_t *version, struct mapping_error *err)
{
	(void)ctl;
	if (version != NULL)
		*version = fake.version;
	return fn(NULL, arg, err);
}

int control_fanout_write(struct control *ctl, control_fanout_fn *fn, void *arg,
			 struct control_cond *cond, struct mapping_error *err)
{
	bool ok = cond->n == 0;
	int rc;

	(void)ctl;
	for (size_t i = 0; i < cond->n; i++)
		ok = ok || cond->match[i] == fake.version;
	if (!ok) {
		mapping_fail(err, 412, "precondition_failed", "", "stale");
		return -1;
	}
	rc = fn(NULL, arg, err);
	if (rc == 0 && fake.fail_503) {
		fake.fail_503 = false;
		mapping_fail(err, 503, "not_live", "", "stored, not live");
		rc = -1;
	}
	if (rc == 0 || err->status == 503)
		cond->version = ++fake.version;
	return rc;
}

static int fake_404(struct mapping_error *err)
{
	mapping_fail(err, 404, "not_found", "id", "no such row");
	return -1;
}

static ssize_t fake_port_at(int64_t id)
{
	for (size_t i = 0; i < fake.nports; i++)
		if (fake.ports[i].id == id)
			return (ssize_t)i;
	return -1;
}

static ssize_t fake_sub_at(int64_t id)
{
	for (size_t i = 0; i < fake.nsubs; i++)
		if (fake.subs[i].id == id)
			return (ssize_t)i;
	return -1;
}

static void fake_port_view(size_t i, struct fctl_port_view *v)
{
	memset(v, 0, sizeof(*v));
	v->p = fake.ports[i];
	v->c = fake.port_c[i];
	for (size_t k = 0; k < fake.nsubs; k++)
		v->nsubs += fake.subs[k].port_id == v->p.id;
}

static void fake_sub_view(size_t i, struct fctl_sub_view *v)
{
	ssize_t p = fake_port_at(fake.subs[i].port_id);

	memset(v, 0, sizeof(*v));
	v->s = fake.subs[i];
	v->c = fake.sub_c[i];
	v->contested_port = p < 0 ? 0 : fake.ports[p].port;
}

/* A port number or registration port already taken by another row: 409. */
static int fake_port_conflict(const struct fctl_port *p,
			      struct mapping_error *err)
{
	for (size_t i = 0; i < fake.nports; i++) {
		const struct fctl_port *o = &fake.ports[i];

		if (o->id == p->id)
			continue;
		if (o->port == p->port && o->family == p->family &&
		    memcmp(o->addr, p->addr, sizeof(o->addr)) == 0) {
			mapping_fail(err, 409, "conflict", "port", "taken");
			return -1;
		}
		if (o->registration_port == p->registration_port) {
			mapping_fail(err, 409, "conflict", "registration_port",
				     "taken");
			return -1;
		}
	}
	return 0;
}

int fctl_port_list(struct fctl *f, struct fctl_port_view **rows, size_t *n,
		   struct mapping_error *err)
{
	(void)f;
	(void)err;
	*rows = calloc(fake.nports + 1, sizeof(**rows));
	for (size_t i = 0; i < fake.nports; i++)
		fake_port_view(i, &(*rows)[i]);
	*n = fake.nports;
	return 0;
}

int fctl_port_get(struct fctl *f, int64_t id, struct fctl_port_view *out,
		  struct mapping_error *err)
{
	ssize_t i = fake_port_at(id);

	(void)f;
	if (i < 0)
		return fake_404(err);
	fake_port_view((size_t)i, out);
	return 0;
}

int fctl_port_by_number(struct fctl *f, uint16_t port, int64_t *id,
			struct mapping_error *err)
{
	(void)f;
	for (size_t i = 0; i < fake.nports; i++) {
		if (fake.ports[i].port == port) {
			*id = fake.ports[i].id;
			return 0;
		}
	}
	mapping_fail(err, 422, "unknown_port", "contested_port", "not contested");
	return -1;
}

int fctl_port_create(struct fctl *f, struct fctl_port *p,
		     struct mapping_error *err)
{
	(void)f;
	if (p->registration_port == 0) {
		mapping_fail(err, 500, "internal", "", "registration port not derived");
		return -1;
	}
	if (fake_port_conflict(p, err) < 0)
		return -1;
	p->id = fake.next_id++;
	memset(&fake.port_c[fake.nports], 0, sizeof(fake.port_c[0]));
	fake.port_c[fake.nports].datagrams = 10;
	fake.port_c[fake.nports].bytes = 1200;
	fake.ports[fake.nports++] = *p;
	return 0;
}

int fctl_port_update(struct fctl *f, const struct fctl_port *p,
		     struct mapping_error *err)
{
	ssize_t i = fake_port_at(p->id);

	(void)f;
	if (i < 0)
		return fake_404(err);
	if (fake_port_conflict(p, err) < 0)
		return -1;
	fake.ports[i] = *p;
	return 0;
}

int fctl_sub_delete(struct fctl *f, int64_t id, struct mapping_error *err)
{
	ssize_t i = fake_sub_at(id);

	(void)f;
	if (i < 0)
		return fake_404(err);
	fake.nsubs--;
	fake.subs[i] = fake.subs[fake.nsubs];
	fake.sub_c[i] = fake.sub_c[fake.nsubs];
	return 0;
}

int fctl_port_delete(struct fctl *f, int64_t id, struct mapping_error *err)
{
	ssize_t i = fake_port_at(id);

	if (i < 0)
		return fake_404(err);
	for (size_t k = fake.nsubs; k-- > 0;) {
		if (fake.subs[k].port_id == id)
			fctl_sub_delete(f, fake.subs[k].id, err);
	}
	fake.nports--;
	fake.ports[i] = fake.ports[fake.nports];
	fake.port_c[i] = fake.port_c[fake.nports];
	return 0;
}

int fctl_sub_list(struct fctl *f, int64_t port_id, struct fctl_sub_view **rows,
		  size_t *n, struct mapping_error *err)
{
	(void)f;
	(void)err;
	*rows = calloc(fake.nsubs + 1, sizeof(**rows));
	*n = 0;
	for (size_t i = 0; i < fake.nsubs; i++) {
		if (port_id == 0 || fake.subs[i].port_id == port_id)
			fake_sub_view(i, &(*rows)[(*n)++]);
	}
	return 0;
}

int fctl_sub_get(struct fctl *f, int64_t id, struct fctl_sub_view *out,
		 struct mapping_error *err)
{
	ssize_t i = fake_sub_at(id);

	(void)f;
	if (i < 0)
		return fake_404(err);
	fake_sub_view((size_t)i, out);
	return 0;
}

/* The handlers must resolve the contested port's number before they write. */
static int fake_sub_check(const struct fctl_sub *s, struct mapping_error *err)
{
	if (fake_port_at(s->port_id) < 0) {
		mapping_fail(err, 500, "internal", "", "contested port not resolved");
		return -1;
	}
	for (size_t i = 0; i < fake.nsubs; i++) {
		const struct fctl_sub *o = &fake.subs[i];

		if (o->id != s->id && o->port_id == s->port_id &&
		    o->port == s->port && strcmp(o->path, s->path) == 0 &&
		    memcmp(o->addr, s->addr, sizeof(o->addr)) == 0) {
			mapping_fail(err, 409, "conflict", "address", "subscribed");
			return -1;
		}
	}
	return 0;
}

int fctl_sub_create(struct fctl *f, struct fctl_sub *s,
		    struct mapping_error *err)
{
	(void)f;
	if (fake_sub_check(s, err) < 0)
		return -1;
	s->id = fake.next_id++;
	memset(&fake.sub_c[fake.nsubs], 0, sizeof(fake.sub_c[0]));
	fake.subs[fake.nsubs++] = *s;
	return 0;
}

int fctl_sub_update(struct fctl *f, const struct fctl_sub *s,
		    struct mapping_error *err)
{
	ssize_t i = fake_sub_at(s->id);

	(void)f;
	if (i < 0)
		return fake_404(err);
	if (fake_sub_check(s, err) < 0)
		return -1;
	fake.subs[i] = *s;
	return 0;
}

/* ---- requests (run, check_error: testapi.h) ---------------------------- */

/* Contests port; returns its id. */
static int64_t add_port(int port)
{
	char body[64];
	struct routes_reply r;
	int64_t id;

	snprintf(body, sizeof(body), "{\"port\":%d}", port);
	r = run("POST", "/api/v1/contested", body, NULL);
	ck_assert_uint_eq(r.status, 201);
	id = num(r.body, "id");
	json_decref(r.body);
	return id;
}

/* Subscribes 127.0.0.1:to to contested port; returns its id. */
static int64_t add_sub(int port, int to)
{
	char body[128];
	struct routes_reply r;
	int64_t id;

	snprintf(body, sizeof(body), "{\"contested_port\":%d,\"address\":"
		 "\"127.0.0.1\",\"port\":%d}", port, to);
	r = run("POST", "/api/v1/subscribers", body, NULL);
	ck_assert_uint_eq(r.status, 201);
	id = num(r.body, "id");
	json_decref(r.body);
	return id;
}

/* ---- contested ports -------------------------------------------------- */

START_TEST(port_crud)
{
	struct routes_reply r;

	r = run("POST", "/api/v1/contested", "{\"port\":162}", NULL);
	ck_assert_uint_eq(r.status, 201);
	ck_assert_int_eq(num(r.body, "id"), 1);
	ck_assert_str_eq(r.location, "/api/v1/contested/1");
	/* The ETag is the version the write made. */
	ck_assert_str_eq(r.etag, "\"101\"");
	ck_assert(json_is_null(json_object_get(r.body, "address")));
	ck_assert_int_eq(num(r.body, "registration_port"), 13162);
	ck_assert(json_is_true(json_object_get(r.body, "enabled")));
	ck_assert_int_eq(num(r.body, "subscribers"), 0);
	ck_assert_int_eq(num(r.body, "datagrams"), 10);
	ck_assert_int_eq(num(r.body, "bytes"), 1200);
	json_decref(r.body);

	add_sub(162, 9162);
	r = run("GET", "/api/v1/contested/1", NULL, NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.etag, "\"102\"");
	ck_assert_int_eq(num(r.body, "subscribers"), 1);
	json_decref(r.body);

	/* PATCH changes the address only; PUT goes back to the defaults. */
	r = run("PATCH", "/api/v1/contested/1",
		"{\"address\":\"10.0.0.1\",\"enabled\":false}", "\"102\"");
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.etag, "\"103\"");
	ck_assert_str_eq(str(r.body, "address"), "10.0.0.1");
	ck_assert(json_is_false(json_object_get(r.body, "enabled")));
	ck_assert_int_eq(num(r.body, "port"), 162);
	json_decref(r.body);
	r = run("PUT", "/api/v1/contested/1",
		"{\"port\":162,\"registration_port\":2162}", NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert(json_is_null(json_object_get(r.body, "address")));
	ck_assert(json_is_true(json_object_get(r.body, "enabled")));
	ck_assert_int_eq(num(r.body, "registration_port"), 2162);
	json_decref(r.body);

	/* Its subscribers go with it. */
	r = run("DELETE", "/api/v1/contested/1", NULL, NULL);
	ck_assert_uint_eq(r.status, 204);
	ck_assert_ptr_null(r.body);
	ck_assert_str_eq(r.etag, "\"105\"");
	ck_assert_uint_eq(fake.nsubs, 0);
	r = run("GET", "/api/v1/contested/1", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("DELETE", "/api/v1/contested/1", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("PATCH", "/api/v1/contested/1", "{}", NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("PUT", "/api/v1/contested/1", "{\"port\":162}", NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("GET", "/api/v1/contested/x", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	ck_assert_uint_eq(fake.version, 105);
}
END_TEST

/* Refused writes answer the error and change nothing. */
START_TEST(port_errors)
{
	struct routes_reply r;

	add_port(162);
	r = run("POST", "/api/v1/contested", "{}", NULL);
	check_error(&r, 400, "missing_field", "port");
	r = run("POST", "/api/v1/contested", "{\"port\":0}", NULL);
	check_error(&r, 422, "invalid_port", "port");
	r = run("POST", "/api/v1/contested", "{\"port\":514,\"datagrams\":3}", NULL);
	check_error(&r, 400, "unknown_field", "datagrams");
	r = run("POST", "/api/v1/contested", "{\"port\":", NULL);
	check_error(&r, 400, "invalid_json", NULL);
	r = run("POST", "/api/v1/contested", "{\"port\":162}", NULL);
	check_error(&r, 409, "conflict", "port");
	r = run("POST", "/api/v1/contested", "{\"port\":514,\"registration_port\":13162}",
		NULL);
	check_error(&r, 409, "conflict", "registration_port");
	r = run("POST", "/api/v1/contested", "{\"port\":60000}", NULL);
	check_error(&r, 422, "invalid_registration_port", "registration_port");
	r = run("PUT", "/api/v1/contested/1", "{\"port\":162,\"id\":2}", NULL);
	check_error(&r, 400, "id_mismatch", "id");
	r = run("PATCH", "/api/v1/contested/1", "{\"address\":\"x\"}", "\"1\"");
	check_error(&r, 422, "invalid_address", "address");
	/* A stale If-Match on a good body. */
	r = run("PATCH", "/api/v1/contested/1", "{\"enabled\":false}", "\"1\"");
	check_error(&r, 412, "precondition_failed", NULL);
	ck_assert_uint_eq(fake.version, 101);
	ck_assert_uint_eq(fake.nports, 1);
	ck_assert(fake.ports[0].enabled);
}
END_TEST

START_TEST(port_list)
{
	static const struct {
		const char *query;
		unsigned status;
		json_int_t total;
		size_t items;
		json_int_t first;
	} cases[] = {
		{ "", 200, 5, 5, 161 },
		{ "limit=2&offset=1", 200, 5, 2, 162 },
		{ "limit=2&offset=4", 200, 5, 1, 165 },
		{ "offset=5", 200, 5, 0, 0 },
		{ "port=163", 200, 1, 1, 163 },
		{ "port=9", 200, 0, 0, 0 },
		{ "port=163&offset=1", 200, 1, 0, 0 },
	};
	static const struct {
		const char *query;
		const char *field;
	} bad[] = {
		{ "limit=0", "limit" }, { "limit=1001", "limit" },
		{ "offset=-1", "offset" }, { "port=0", "port" },
		{ "port=65536", "port" }, { "port=snmp", "port" },
	};

	for (int i = 1; i <= 5; i++)
		add_port(160 + i);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char target[128];
		struct routes_reply r;
		json_t *items;

		snprintf(target, sizeof(target), "/api/v1/contested?%s", cases[i].query);
		r = run("GET", target, NULL, NULL);
		ck_assert_msg(r.status == 200, "%s: %u", target, r.status);
		ck_assert_str_eq(r.etag, "\"105\"");
		items = json_object_get(r.body, "items");
		ck_assert_msg(num(r.body, "total") == cases[i].total, "%s: total %lld",
			      target, (long long)num(r.body, "total"));
		ck_assert_uint_eq(json_array_size(items), cases[i].items);
		ck_assert_int_eq(num(r.body, "limit"),
				 strstr(target, "limit=2") ? 2 : 100);
		ck_assert(json_is_integer(json_object_get(r.body, "offset")));
		if (cases[i].first != 0)
			ck_assert_int_eq(num(json_array_get(items, 0), "port"),
					 cases[i].first);
		json_decref(r.body);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char target[128];
		struct routes_reply r;

		snprintf(target, sizeof(target), "/api/v1/contested?%s", bad[i].query);
		r = run("GET", target, NULL, NULL);
		check_error(&r, 400, "invalid_query", bad[i].field);
	}
}
END_TEST

/* ---- subscribers ------------------------------------------------------ */

START_TEST(sub_crud)
{
	struct routes_reply r;
	int64_t traps = add_port(162), syslog = add_port(514);

	r = run("POST", "/api/v1/subscribers", "{\"contested_port\":162,"
		"\"address\":\"::1\",\"port\":9162,\"mode\":\"framed_udp\","
		"\"sample_every\":10}", NULL);
	ck_assert_uint_eq(r.status, 201);
	ck_assert_int_eq(num(r.body, "id"), 3);
	ck_assert_str_eq(r.location, "/api/v1/subscribers/3");
	ck_assert_str_eq(r.etag, "\"103\"");
	ck_assert_int_eq(num(r.body, "contested_port"), 162);
	ck_assert_str_eq(str(r.body, "address"), "::1");
	ck_assert_str_eq(str(r.body, "mode"), "framed_udp");
	ck_assert_int_eq(num(r.body, "sample_every"), 10);
	ck_assert(json_is_false(json_object_get(r.body, "registered")));
	ck_assert_int_eq(num(r.body, "copies"), 0);
	ck_assert(json_is_null(json_object_get(r.body, "last_sent")));
	json_decref(r.body);
	ck_assert_int_eq(fake.subs[0].port_id, traps);

	/* PATCH without contested_port keeps it; with one, moves the subscriber. */
	fake.sub_c[0].copies = 4;
	fake.sub_c[0].last_sent = 1700000000;
	r = run("PATCH", "/api/v1/subscribers/3", "{\"sample_every\":5}", NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "contested_port"), 162);
	ck_assert_int_eq(num(r.body, "sample_every"), 5);
	ck_assert_int_eq(num(r.body, "port"), 9162);
	ck_assert_int_eq(num(r.body, "copies"), 4);
	ck_assert_str_eq(str(r.body, "last_sent"), "2023-11-14T22:13:20Z");
	json_decref(r.body);
	r = run("PATCH", "/api/v1/subscribers/3", "{\"contested_port\":514}", NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "contested_port"), 514);
	json_decref(r.body);
	ck_assert_int_eq(fake.subs[0].port_id, syslog);
	r = run("PATCH", "/api/v1/subscribers/3", "{\"contested_port\":9}", NULL);
	check_error(&r, 422, "unknown_port", "contested_port");
	r = run("PUT", "/api/v1/subscribers/3", "{\"address\":\"::1\",\"port\":1}",
		NULL);
	check_error(&r, 400, "missing_field", "contested_port");
	r = run("PUT", "/api/v1/subscribers/3", "{\"contested_port\":162,"
		"\"address\":\"/run/traps.sock\",\"mode\":\"framed_unix\"}", NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_int_eq(num(r.body, "contested_port"), 162);
	ck_assert_str_eq(str(r.body, "address"), "/run/traps.sock");
	ck_assert_int_eq(num(r.body, "port"), 0);
	ck_assert_int_eq(num(r.body, "sample_every"), 1);
	json_decref(r.body);

	r = run("DELETE", "/api/v1/subscribers/3", NULL, NULL);
	ck_assert_uint_eq(r.status, 204);
	ck_assert_ptr_null(r.body);
	r = run("GET", "/api/v1/subscribers/3", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("DELETE", "/api/v1/subscribers/3", NULL, NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("PATCH", "/api/v1/subscribers/0", "{}", NULL);
	check_error(&r, 404, "not_found", "id");
	ck_assert_uint_eq(fake.nports, 2);
}
END_TEST

START_TEST(sub_errors)
{
	struct routes_reply r;

	add_port(162);
	add_sub(162, 9162);
	r = run("POST", "/api/v1/subscribers", "{\"contested_port\":514,\"address\":"
		"\"127.0.0.1\",\"port\":9}", NULL);
	check_error(&r, 422, "unknown_port", "contested_port");
	r = run("POST", "/api/v1/subscribers", "{\"contested_port\":162,\"address\":"
		"\"127.0.0.1\",\"port\":9162}", NULL);
	check_error(&r, 409, "conflict", "address");
	r = run("POST", "/api/v1/subscribers", "{\"contested_port\":162,\"address\":"
		"\"127.0.0.1\"}", NULL);
	check_error(&r, 400, "missing_field", "port");
	r = run("POST", "/api/v1/subscribers", "{\"contested_port\":162,\"address\":"
		"\"127.0.0.1\",\"port\":9,\"mode\":\"multicast\"}", NULL);
	check_error(&r, 422, "invalid_mode", "mode");
	r = run("POST", "/api/v1/subscribers", "{\"contested_port\":162,\"address\":"
		"\"127.0.0.1\",\"port\":9,\"registered\":true}", NULL);
	check_error(&r, 400, "unknown_field", "registered");
	r = run("PATCH", "/api/v1/subscribers/2", "{\"sample_every\":0}", NULL);
	check_error(&r, 422, "invalid_sample_every", "sample_every");
	r = run("PATCH", "/api/v1/subscribers/2", "{\"mode\":\"framed_unix\"}", NULL);
	check_error(&r, 422, "invalid_address", "address");
	r = run("PATCH", "/api/v1/subscribers/2", "{\"port\":1}", "\"7\"");
	check_error(&r, 412, "precondition_failed", NULL);
	ck_assert_uint_eq(fake.version, 102);
	ck_assert_uint_eq(fake.nsubs, 1);
	ck_assert_uint_eq(fake.subs[0].port, 9162);
}
END_TEST

/*
 * A subscriber the registration protocol made shows it, keeps it through
 * PATCH and PUT, and can be deleted.
 */
START_TEST(sub_registered)
{
	struct routes_reply r;

	add_port(162);
	add_sub(162, 9162);
	fake.subs[0].registered = true;
	r = run("GET", "/api/v1/subscribers/2", NULL, NULL);
	ck_assert(json_is_true(json_object_get(r.body, "registered")));
	json_decref(r.body);
	r = run("PATCH", "/api/v1/subscribers/2", "{\"sample_every\":2}", NULL);
	ck_assert(json_is_true(json_object_get(r.body, "registered")));
	json_decref(r.body);
	/* PUT starts from the defaults, but who made it stays. */
	r = run("PUT", "/api/v1/subscribers/2", "{\"contested_port\":162,"
		"\"address\":\"127.0.0.1\",\"port\":9163}", NULL);
	ck_assert_uint_eq(r.status, 200);
	ck_assert(json_is_true(json_object_get(r.body, "registered")));
	ck_assert_int_eq(num(r.body, "sample_every"), 1);
	json_decref(r.body);
	r = run("PUT", "/api/v1/subscribers/9", "{\"contested_port\":7,"
		"\"address\":\"127.0.0.1\",\"port\":9163}", NULL);
	check_error(&r, 404, "not_found", "id");
	r = run("DELETE", "/api/v1/subscribers/2", NULL, NULL);
	ck_assert_uint_eq(r.status, 204);
}
END_TEST

START_TEST(sub_list)
{
	static const struct {
		const char *query;
		json_int_t total;
		size_t items;
		json_int_t first_port;
	} cases[] = {
		{ "", 5, 5, 9001 },
		{ "contested_port=162", 3, 3, 9001 },
		{ "contested_port=514", 2, 2, 9002 },
		{ "contested_port=514&offset=1", 2, 1, 9004 },
		{ "contested_port=162&limit=1&offset=1", 3, 1, 9003 },
		{ "contested_port=9", 0, 0, 0 },
		{ "limit=3&offset=3", 5, 2, 9004 },
	};
	static const struct {
		const char *query;
		const char *field;
	} bad[] = {
		{ "contested_port=0", "contested_port" },
		{ "contested_port=99999", "contested_port" },
		{ "contested_port=", "contested_port" },
		{ "limit=x", "limit" },
		{ "offset=1.5", "offset" },
	};

	add_port(162);
	add_port(514);
	for (int i = 1; i <= 5; i++)
		add_sub(i % 2 ? 162 : 514, 9000 + i);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char target[128];
		struct routes_reply r;
		json_t *items;

		snprintf(target, sizeof(target), "/api/v1/subscribers?%s",
			 cases[i].query);
		r = run("GET", target, NULL, NULL);
		ck_assert_msg(r.status == 200, "%s: %u", target, r.status);
		ck_assert_str_eq(r.etag, "\"107\"");
		items = json_object_get(r.body, "items");
		ck_assert_msg(num(r.body, "total") == cases[i].total, "%s: total %lld",
			      target, (long long)num(r.body, "total"));
		ck_assert_uint_eq(json_array_size(items), cases[i].items);
		if (cases[i].first_port != 0)
			ck_assert_int_eq(num(json_array_get(items, 0), "port"),
					 cases[i].first_port);
		json_decref(r.body);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char target[128];
		struct routes_reply r;

		snprintf(target, sizeof(target), "/api/v1/subscribers?%s", bad[i].query);
		r = run("GET", target, NULL, NULL);
		check_error(&r, 400, "invalid_query", bad[i].field);
	}
}
END_TEST

/* A write stored but not live answers 503 with what it stored. */
START_TEST(not_live)
{
	struct routes_reply r;
	json_t *stored;

	fake.fail_503 = true;
	r = run("POST", "/api/v1/contested", "{\"port\":514}", NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_str_eq(r.location, "/api/v1/contested/1");
	ck_assert_str_eq(r.etag, "\"101\"");
	ck_assert_str_eq(str(json_object_get(r.body, "error"), "code"), "not_live");
	stored = json_object_get(r.body, "stored");
	ck_assert_int_eq(num(stored, "port"), 514);
	json_decref(r.body);
	fake.fail_503 = true;
	r = run("POST", "/api/v1/subscribers", "{\"contested_port\":514,\"address\":"
		"\"10.0.0.9\",\"port\":514}", NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_str_eq(r.location, "/api/v1/subscribers/2");
	ck_assert_str_eq(str(json_object_get(r.body, "stored"), "address"),
			 "10.0.0.9");
	json_decref(r.body);
	fake.fail_503 = true;
	r = run("PATCH", "/api/v1/subscribers/2", "{\"mode\":\"spoof\"}", NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_str_eq(str(json_object_get(r.body, "stored"), "mode"), "spoof");
	json_decref(r.body);
	fake.fail_503 = true;
	r = run("DELETE", "/api/v1/contested/1", NULL, NULL);
	ck_assert_uint_eq(r.status, 503);
	ck_assert_str_eq(r.etag, "\"104\"");
	/* A deletion has nothing to show. */
	ck_assert_ptr_null(json_object_get(r.body, "stored"));
	json_decref(r.body);
}
END_TEST

static Suite *fanroutes_suite(void)
{
	Suite *s = suite_create("fanroutes");
	TCase *tc = tcase_create("fanroutes");

	tcase_add_checked_fixture(tc, fake_reset, NULL);
	tcase_add_test(tc, port_crud);
	tcase_add_test(tc, port_errors);
	tcase_add_test(tc, port_list);
	tcase_add_test(tc, sub_crud);
	tcase_add_test(tc, sub_errors);
	tcase_add_test(tc, sub_registered);
	tcase_add_test(tc, sub_list);
	tcase_add_test(tc, not_live);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fanroutes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
