/*
 * routes: the route table and the handlers of the REST resources.
 *
 * DESIGN
 * Every function here runs on libmicrohttpd's polling thread, called from
 * api.c one request at a time, so nothing here needs a lock of its own; the
 * table is constant and control.h takes the control plane's mutex.  A
 * handler reads a routes_request and only fills a routes_reply, leaving
 * every HTTP detail to api.c.  Because the table alone decides dispatch,
 * 405 and the route listing, a resource is added by adding table rows.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "control.h"
#include "mapjson.h"
#include "mapping.h"
#include "routes.h"

/* The Makefile may pass the release; a plain build reports this one. */
#ifndef PORTSHARE_VERSION
#define PORTSHARE_VERSION "0.1.0"
#endif

#define ROUTES_LIST_DEFAULT 100
#define ROUTES_LIST_MAX 1000
/* Workers note progress every second even when idle; 5 s allows for jitter. */
#define ROUTES_HEALTH_MAX_AGE 5

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A request as a handler sees it, with its {id} already parsed. */
struct routes_call {
	const struct routes_request *req;
	int64_t id; /* the {id} segment, 0 for routes without one */
};

typedef void routes_handler(const struct routes_call *c, struct routes_reply *r);

struct routes_route {
	const char *method;
	const char *pattern; /* a "{id}" segment matches one positive id */
	routes_handler *handler;
	bool json_body;      /* the request must carry application/json */
	const char *summary;
	const char *noun;    /* with {id}: what it names, for a bad id's 404 */
};

static routes_handler routes_get_health, routes_get_routes, routes_get_status,
	routes_list_mappings, routes_create_mapping, routes_get_mapping,
	routes_put_mapping, routes_patch_mapping, routes_delete_mapping;

/* Dispatch, 404/405 and GET /api/v1/ all read this one table. */
static const struct routes_route routes_table[] = {
	{ "GET", "/healthz", routes_get_health, false,
	  "200 when every queue worker made progress in the last 5 seconds, else 503",
	  NULL },
	{ "GET", "/api/v1/", routes_get_routes, false, "this list of routes", NULL },
	{ "GET", "/api/v1/routes", routes_get_routes, false, "this list of routes",
	  NULL },
	{ "GET", "/api/v1/status", routes_get_status, false,
	  "version, uptime, table size and per-queue counters", NULL },
	{ "GET", "/api/v1/mappings", routes_list_mappings, false,
	  "list mappings; filters proto, address, enabled; paging limit, offset",
	  NULL },
	{ "POST", "/api/v1/mappings", routes_create_mapping, true,
	  "create a mapping", NULL },
	{ "GET", "/api/v1/mappings/{id}", routes_get_mapping, false, "one mapping",
	  "mapping" },
	{ "PUT", "/api/v1/mappings/{id}", routes_put_mapping, true,
	  "replace a mapping (same required fields as POST)", "mapping" },
	{ "PATCH", "/api/v1/mappings/{id}", routes_patch_mapping, true,
	  "change only the given fields of a mapping", "mapping" },
	{ "DELETE", "/api/v1/mappings/{id}", routes_delete_mapping, false,
	  "delete a mapping", "mapping" },
};

/* ---- replies ---------------------------------------------------------- */

/*
 * Returns a JSON string for text, replacing bytes outside printable ASCII
 * when text is not valid UTF-8 (a message may quote a URL or have been cut
 * in the middle of a character), because jansson refuses such strings.
 */
static json_t *routes_text(const char *text)
{
	char buf[512];
	json_t *s = json_string(text);
	size_t i;

	if (s != NULL)
		return s;
	for (i = 0; text[i] != '\0' && i < sizeof(buf) - 1; i++) {
		unsigned char c = (unsigned char)text[i];

		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[i] = '\0';
	return json_string(buf);
}

void routes_reply_error(struct routes_reply *r, unsigned status,
			const char *code, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(r->body);
	r->status = status;
	r->etag[0] = '\0';
	r->location[0] = '\0';
	r->body = json_pack("{s:{s:s, s:o, s:o}}", "error", "code", code,
			    "message", routes_text(msg), "field",
			    field != NULL && field[0] != '\0' ? routes_text(field)
							      : json_null());
}

/* A control or mapping error; a missing status means a bug, hence 500. */
static void routes_reply_merror(struct routes_reply *r,
				const struct mapping_error *err)
{
	routes_reply_error(r, err->status > 0 ? (unsigned)err->status : 500,
			   err->code != NULL ? err->code : "internal", err->field,
			   "%s", err->message[0] != '\0' ? err->message
							 : "internal error");
}

/*
 * The ETag is the table version, read when the reply is made: only the
 * API's own writes bump it, and they run on this same thread, so it is
 * still current when the reply goes out.
 */
static void routes_reply_etag(const struct routes_call *c, struct routes_reply *r)
{
	snprintf(r->etag, sizeof(r->etag), "\"%" PRIu64 "\"",
		 control_version(c->req->ctl));
}

/* ---- small pure parsers ----------------------------------------------- */

bool routes_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		/* Checked before multiplying, so no input can wrap around. */
		if (*s < '0' || *s > '9' || d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* An id segment: 1..(10^18 - 1), short enough never to overflow. */
static bool routes_parse_id(const char *s, size_t n, int64_t *id)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return v > 0;
}

/* ---- health and status ------------------------------------------------ */

/*
 * Returns true when every queue made progress recently; otherwise false
 * with the first reason written to reason.
 */
static bool routes_healthy(const struct control_status *st, int64_t now,
			   char *reason, size_t len)
{
	if (st->nqueues == 0) {
		snprintf(reason, len, "no queue worker is running");
		return false;
	}
	for (size_t i = 0; i < st->nqueues && i < CONTROL_MAX_QUEUES; i++) {
		int64_t age = now - st->queues[i].last_progress;

		if (age > ROUTES_HEALTH_MAX_AGE) {
			snprintf(reason, len,
				 "queue %u made no progress for %" PRId64 " seconds",
				 st->queues[i].queue, age);
			return false;
		}
	}
	return true;
}

static void routes_get_health(const struct routes_call *c, struct routes_reply *r)
{
	struct control_status st;
	char reason[128];

	control_status_get(c->req->ctl, &st);
	if (routes_healthy(&st, (int64_t)time(NULL), reason, sizeof(reason))) {
		r->status = 200;
		r->body = json_pack("{s:s}", "status", "ok");
	} else {
		r->status = 503;
		r->body = json_pack("{s:s, s:s}", "status", "unhealthy",
				    "reason", reason);
	}
}

static void routes_get_routes(const struct routes_call *c, struct routes_reply *r)
{
	json_t *routes = json_array();

	(void)c;
	for (size_t i = 0; routes != NULL && i < ARRAY_LEN(routes_table); i++) {
		json_t *one = json_pack("{s:s, s:s, s:s}",
					"method", routes_table[i].method,
					"path", routes_table[i].pattern,
					"summary", routes_table[i].summary);

		if (json_array_append_new(routes, one) < 0) {
			json_decref(routes);
			routes = NULL;
		}
	}
	r->status = 200;
	r->body = json_pack("{s:o}", "routes", routes);
}

/* Every counter of struct control_queue_stats, under its JSON name. */
static const struct {
	const char *name;
	size_t offset;
} routes_queue_counters[] = {
	{ "packets", offsetof(struct control_queue_stats, packets) },
	{ "rewritten", offsetof(struct control_queue_stats, rewritten) },
	{ "passed", offsetof(struct control_queue_stats, passed) },
	{ "truncated", offsetof(struct control_queue_stats, truncated) },
	{ "batches", offsetof(struct control_queue_stats, batches) },
	{ "nl_errors", offsetof(struct control_queue_stats, nl_errors) },
	{ "enobufs", offsetof(struct control_queue_stats, enobufs) },
	{ "kernel_dropped", offsetof(struct control_queue_stats, kernel_dropped) },
	{ "user_dropped", offsetof(struct control_queue_stats, user_dropped) },
};

static json_t *routes_queue_json(const struct control_queue_stats *q,
				 int64_t now)
{
	char when[MAPJSON_TIME_LEN];
	json_t *o = json_pack("{s:I, s:s?, s:I}", "queue", (json_int_t)q->queue,
			      "last_progress",
			      mapjson_iso_time(q->last_progress, when),
			      "last_progress_age_seconds",
			      (json_int_t)(q->last_progress != 0
						   ? now - q->last_progress : -1));

	for (size_t i = 0; o != NULL && i < ARRAY_LEN(routes_queue_counters);
	     i++) {
		uint64_t v;

		memcpy(&v, (const char *)q + routes_queue_counters[i].offset,
		       sizeof(v));
		if (json_object_set_new(o, routes_queue_counters[i].name,
					json_integer((json_int_t)v)) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

static void routes_get_status(const struct routes_call *c, struct routes_reply *r)
{
	int64_t now = (int64_t)time(NULL);
	struct control_status st;
	json_t *queues = json_array();
	char reason[128];
	bool healthy;

	control_status_get(c->req->ctl, &st);
	healthy = routes_healthy(&st, now, reason, sizeof(reason));
	for (size_t i = 0; queues != NULL && i < st.nqueues &&
			   i < CONTROL_MAX_QUEUES; i++) {
		if (json_array_append_new(queues,
					  routes_queue_json(&st.queues[i], now)) < 0) {
			json_decref(queues);
			queues = NULL;
		}
	}
	r->status = 200;
	r->body = json_pack("{s:s, s:I, s:i, s:I, s:I, s:b, s:s?, s:o}",
			    "version", PORTSHARE_VERSION,
			    "uptime_seconds",
			    (json_int_t)(now > st.started ? now - st.started : 0),
			    "schema_version", st.schema_version,
			    "table_version", (json_int_t)st.version,
			    "mappings", (json_int_t)st.mappings,
			    "healthy", (int)healthy,
			    "reason", healthy ? NULL : reason,
			    "queues", queues);
}

/* ---- mappings --------------------------------------------------------- */

struct routes_filter {
	unsigned proto;                     /* 0: any */
	char address[MAPPING_ADDRESS_MAX];  /* "": any */
	int enabled;                        /* -1: any */
	uint64_t limit, offset;
};

static const struct {
	const char *text;
	int value;
} routes_bools[] = { { "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 } };

static const char *routes_query(const struct routes_call *c, const char *name)
{
	return c->req->query(c->req->query_cls, name);
}

/* Returns false with r filled when a query parameter is malformed. */
static bool routes_filter_parse(const struct routes_call *c,
				struct routes_filter *f, struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	const char *s;
	int family;

	memset(f, 0, sizeof(*f));
	f->enabled = -1;
	f->limit = ROUTES_LIST_DEFAULT;
	s = routes_query(c, "proto");
	if (s != NULL && !mapping_proto_parse(s, &f->proto)) {
		routes_reply_error(r, 400, "invalid_query", "proto",
				   "proto must be \"tcp\", \"udp\" or \"both\"");
		return false;
	}
	s = routes_query(c, "address");
	if (s != NULL && !mapping_normalize_address(s, f->address, &family, &err)) {
		routes_reply_error(r, 400, "invalid_query", "address", "%s",
				   err.message);
		return false;
	}
	s = routes_query(c, "enabled");
	if (s != NULL) {
		for (size_t i = 0; i < ARRAY_LEN(routes_bools); i++) {
			if (strcmp(s, routes_bools[i].text) == 0)
				f->enabled = routes_bools[i].value;
		}
		if (f->enabled < 0) {
			routes_reply_error(r, 400, "invalid_query", "enabled",
					   "enabled must be true or false");
			return false;
		}
	}
	s = routes_query(c, "limit");
	if (s != NULL && (!routes_parse_uint(s, ROUTES_LIST_MAX, &f->limit) ||
			  f->limit == 0)) {
		routes_reply_error(r, 400, "invalid_query", "limit",
				   "limit must be an integer in 1..%d",
				   ROUTES_LIST_MAX);
		return false;
	}
	s = routes_query(c, "offset");
	if (s != NULL && !routes_parse_uint(s, UINT32_MAX, &f->offset)) {
		routes_reply_error(r, 400, "invalid_query", "offset",
				   "offset must be a non-negative integer");
		return false;
	}
	return true;
}

/* An address filter matches the stored address or any address it resolves to. */
static bool routes_filter_match(const struct routes_filter *f,
				const struct control_mapping *cm)
{
	bool addr = f->address[0] == '\0' || strcmp(f->address, cm->m.address) == 0;

	for (size_t i = 0; !addr && i < cm->naddrs && i < CONTROL_MAX_ADDRS; i++)
		addr = strcmp(f->address, cm->addrs[i]) == 0;
	return addr && (f->proto == 0 || f->proto == cm->m.proto) &&
	       (f->enabled < 0 || f->enabled == (int)cm->m.enabled);
}

static void routes_list_mappings(const struct routes_call *c,
				 struct routes_reply *r)
{
	struct control_mapping *rows = NULL;
	struct mapping_error err = { 0 };
	struct routes_filter f;
	uint64_t total = 0;
	json_t *items;
	size_t n = 0;

	if (!routes_filter_parse(c, &f, r))
		return;
	if (control_mapping_list(c->req->ctl, &rows, &n, &err) < 0) {
		routes_reply_merror(r, &err);
		goto out;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!routes_filter_match(&f, &rows[i]))
			continue;
		if (items != NULL && total >= f.offset &&
		    total - f.offset < f.limit &&
		    json_array_append_new(items, mapjson_encode(&rows[i])) < 0) {
			json_decref(items);
			items = NULL;
		}
		total++;
	}
	r->status = 200;
	routes_reply_etag(c, r);
	r->body = json_pack("{s:o, s:I, s:I, s:I}", "items", items,
			    "total", (json_int_t)total, "limit", (json_int_t)f.limit,
			    "offset", (json_int_t)f.offset);
out:
	free(rows);
}

/* Answers with the row as control now shows it, counters included. */
static void routes_reply_row(const struct routes_call *c, struct routes_reply *r,
			     int64_t id, unsigned status)
{
	struct mapping_error err = { 0 };
	struct control_mapping cm;

	if (control_mapping_get(c->req->ctl, id, &cm, &err) < 0) {
		routes_reply_merror(r, &err);
		return;
	}
	r->status = status;
	routes_reply_etag(c, r);
	r->body = mapjson_encode(&cm);
}

/* Returns the parsed body, or NULL with r filled. */
static json_t *routes_body_json(const struct routes_call *c,
				struct routes_reply *r)
{
	json_error_t jerr;
	json_t *root = json_loadb(c->req->body != NULL ? c->req->body : "",
				  c->req->body_len, MAPJSON_LOAD_FLAGS, &jerr);

	if (root == NULL)
		routes_reply_error(r, 400, "invalid_json", NULL,
				   "invalid JSON at line %d, column %d: %s",
				   jerr.line, jerr.column, jerr.text);
	return root;
}

static void routes_create_mapping(const struct routes_call *c,
				  struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	json_t *root = routes_body_json(c, r);
	struct mapping m;

	if (root == NULL)
		return;
	mapjson_defaults(&m);
	if (!mapjson_apply(root, &m, false, &err) ||
	    control_mapping_create(c->req->ctl, &m, &err) < 0) {
		routes_reply_merror(r, &err);
		goto out;
	}
	snprintf(r->location, sizeof(r->location), "/api/v1/mappings/%" PRId64,
		 m.id);
	routes_reply_row(c, r, m.id, 201);
out:
	json_decref(root);
}

static void routes_get_mapping(const struct routes_call *c,
			       struct routes_reply *r)
{
	routes_reply_row(c, r, c->id, 200);
}

/* PUT starts from the defaults, PATCH from the stored row. */
static void routes_write_mapping(const struct routes_call *c,
				 struct routes_reply *r, bool partial)
{
	struct mapping_error err = { 0 };
	struct control_mapping cur;
	json_t *root = routes_body_json(c, r);
	struct mapping m;

	if (root == NULL)
		return;
	mapjson_defaults(&m);
	if (partial) {
		if (control_mapping_get(c->req->ctl, c->id, &cur, &err) < 0) {
			routes_reply_merror(r, &err);
			goto out;
		}
		m = cur.m;
	}
	m.id = c->id;
	if (!mapjson_apply(root, &m, partial, &err) ||
	    control_mapping_update(c->req->ctl, &m, &err) < 0) {
		routes_reply_merror(r, &err);
		goto out;
	}
	routes_reply_row(c, r, c->id, 200);
out:
	json_decref(root);
}

static void routes_put_mapping(const struct routes_call *c,
			       struct routes_reply *r)
{
	routes_write_mapping(c, r, false);
}

static void routes_patch_mapping(const struct routes_call *c,
				 struct routes_reply *r)
{
	routes_write_mapping(c, r, true);
}

static void routes_delete_mapping(const struct routes_call *c,
				  struct routes_reply *r)
{
	struct mapping_error err = { 0 };

	if (control_mapping_delete(c->req->ctl, c->id, &err) < 0) {
		routes_reply_merror(r, &err);
		return;
	}
	r->status = 204;
	routes_reply_etag(c, r);
}

/* ---- dispatch --------------------------------------------------------- */

/* A "{id}" in pattern captures one non-empty segment into seg/seglen. */
static bool routes_match_path(const char *pattern, const char *path,
			      const char **seg, size_t *seglen)
{
	while (*pattern != '\0') {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");

			if (n == 0)
				return false;
			*seg = path;
			*seglen = n;
			path += n;
			pattern += 4;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *path == '\0';
}

bool routes_find(const char *method, const char *path, struct routes_match *m)
{
	/* HEAD is a GET without a body; libmicrohttpd drops the body. */
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < ARRAY_LEN(routes_table); i++) {
		const struct routes_route *rt = &routes_table[i];
		const char *seg = NULL;
		size_t seglen = 0;
		size_t used = strlen(m->allow);

		if (!routes_match_path(rt->pattern, path, &seg, &seglen))
			continue;
		if (strcmp(rt->method, want) == 0) {
			/* Only the matching route's segment counts. */
			m->route = rt;
			m->json_body = rt->json_body;
			m->param = seg;
			m->param_len = seglen;
			m->allow[0] = '\0';
			return true;
		}
		if (strstr(m->allow, rt->method) == NULL)
			snprintf(m->allow + used, sizeof(m->allow) - used, "%s%s",
				 used != 0 ? ", " : "", rt->method);
	}
	return false;
}

void routes_run(const struct routes_match *m, const struct routes_request *req,
		struct routes_reply *r)
{
	struct routes_call call = { .req = req };

	if (m->param != NULL &&
	    !routes_parse_id(m->param, m->param_len, &call.id)) {
		routes_reply_error(r, 404, "not_found", "id",
				   "%s ids are positive integers", m->route->noun);
		return;
	}
	m->route->handler(&call, r);
}
