/*
 * routes: the route table, the dispatch and the rules every route shares.
 *
 * DESIGN
 * Every function here runs on one of libmicrohttpd's threads, called from
 * api.c for one request; nothing here keeps state between requests, the
 * table is constant and control.h takes the control plane's mutex.  A
 * handler reads a routes_call and only fills a routes_reply, leaving every
 * HTTP detail to api.c.  Because the table alone decides dispatch, 405,
 * which requests need the token, and the route listing, a resource is
 * added by adding table rows: its writes are authenticated and take
 * If-Match without a line of their own.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "auth.h"
#include "fanroutes.h"
#include "grouproutes.h"
#include "mapjson.h"
#include "maproutes.h"
#include "routes.h"
#include "sysroutes.h"
#include "util.h"

struct routes_route {
	const char *method;
	const char *pattern; /* a "{id}" segment matches one positive id */
	routes_handler *handler;
	bool json_body;      /* the request must carry application/json */
	size_t body_max;     /* the largest body it reads; 0 for ROUTES_BODY_MAX */
	const char *summary;
	const char *noun;    /* with {id}: what it names, for a bad id's 404 */
};

static routes_handler routes_get_routes;

/* Dispatch, 401, 404/405 and GET /api/v1/ all read this one table. */
static const struct routes_route routes_table[] = {
	{ "GET", "/healthz", sysroutes_health, false, 0,
	  "200 when every queue worker made progress in the last 5 seconds, else 503",
	  NULL },
	{ "GET", "/metrics", sysroutes_metrics, false, 0,
	  "counters and gauges in the Prometheus text format", NULL },
	{ "GET", "/api/v1/", routes_get_routes, false, 0, "this list of routes", NULL },
	{ "GET", "/api/v1/routes", routes_get_routes, false, 0, "this list of routes",
	  NULL },
	{ "GET", "/api/v1/openapi.json", sysroutes_openapi, false, 0,
	  "the OpenAPI 3.0 description of this API", NULL },
	{ "GET", "/api/v1/status", sysroutes_status, false, 0,
	  "version, uptime, table version and per-queue counters and rates", NULL },
	{ "GET", "/api/v1/config", maproutes_config_get, false, 0,
	  "export the whole table", NULL },
	{ "PUT", "/api/v1/config", maproutes_config_put, true, ROUTES_CONFIG_BODY_MAX,
	  "replace the whole table, all or nothing", NULL },
	{ "GET", "/api/v1/mappings", maproutes_list, false, 0,
	  "list mappings; filters proto, address, enabled; paging limit, offset",
	  NULL },
	{ "POST", "/api/v1/mappings", maproutes_create, true, 0,
	  "create a mapping", NULL },
	{ "GET", "/api/v1/mappings/{id}", maproutes_get, false, 0, "one mapping",
	  "mapping" },
	{ "PUT", "/api/v1/mappings/{id}", maproutes_put, true, 0,
	  "replace a mapping (same required fields as POST)", "mapping" },
	{ "PATCH", "/api/v1/mappings/{id}", maproutes_patch, true, 0,
	  "change only the given fields of a mapping", "mapping" },
	{ "DELETE", "/api/v1/mappings/{id}", maproutes_delete, false, 0,
	  "delete a mapping", "mapping" },
	{ "GET", "/api/v1/groups", grouproutes_group_list, false, 0,
	  "list application groups; filters name, virtual_port; paging limit, offset",
	  NULL },
	{ "POST", "/api/v1/groups", grouproutes_group_create, true, 0,
	  "create an application group", NULL },
	{ "GET", "/api/v1/groups/{id}", grouproutes_group_get, false, 0,
	  "one group, with its counters and backends", "group" },
	{ "PUT", "/api/v1/groups/{id}", grouproutes_group_put, true, 0,
	  "replace a group (same required fields as POST)", "group" },
	{ "PATCH", "/api/v1/groups/{id}", grouproutes_group_patch, true, 0,
	  "change only the given fields of a group", "group" },
	{ "DELETE", "/api/v1/groups/{id}", grouproutes_group_delete, false, 0,
	  "delete a group with its backends and rules", "group" },
	{ "GET", "/api/v1/backends", grouproutes_backend_list, false, 0,
	  "list backends; filter group (a name); paging limit, offset", NULL },
	{ "POST", "/api/v1/backends", grouproutes_backend_create, true, 0,
	  "add a backend port to a group", NULL },
	{ "GET", "/api/v1/backends/{id}", grouproutes_backend_get, false, 0,
	  "one backend, with its flow counts", "backend" },
	{ "PUT", "/api/v1/backends/{id}", grouproutes_backend_put, true, 0,
	  "replace a backend (same required fields as POST)", "backend" },
	{ "PATCH", "/api/v1/backends/{id}", grouproutes_backend_patch, true, 0,
	  "change only the given fields of a backend", "backend" },
	{ "DELETE", "/api/v1/backends/{id}", grouproutes_backend_delete, false, 0,
	  "delete a backend; its open flows break: drain it first", "backend" },
	{ "POST", "/api/v1/backends/{id}/drain", grouproutes_backend_drain, false, 0,
	  "drain a backend: it keeps its flows and takes no new ones", "backend" },
	{ "POST", "/api/v1/backends/{id}/undrain", grouproutes_backend_undrain, false,
	  0, "make a backend active again", "backend" },
	{ "GET", "/api/v1/rules", grouproutes_rule_list, false, 0,
	  "list source rules; filter group (a name); paging limit, offset", NULL },
	{ "POST", "/api/v1/rules", grouproutes_rule_create, true, 0,
	  "create a source rule sending a client CIDR to a group", NULL },
	{ "GET", "/api/v1/rules/{id}", grouproutes_rule_get, false, 0,
	  "one source rule", "rule" },
	{ "PUT", "/api/v1/rules/{id}", grouproutes_rule_put, true, 0,
	  "replace a source rule (same required fields as POST)", "rule" },
	{ "PATCH", "/api/v1/rules/{id}", grouproutes_rule_patch, true, 0,
	  "change only the given fields of a source rule", "rule" },
	{ "DELETE", "/api/v1/rules/{id}", grouproutes_rule_delete, false, 0,
	  "delete a source rule", "rule" },
	{ "GET", "/api/v1/flows", grouproutes_flow_list, false, 0,
	  "list pinned flows; filters group, backend, client, proto; paging limit, offset",
	  NULL },
	{ "DELETE", "/api/v1/flows", grouproutes_flow_flush, false, 0,
	  "drop every flow: clients reconnect and are scheduled anew", NULL },
	{ "GET", "/api/v1/contested", fanroutes_port_list, false, 0,
	  "list contested UDP ports; filter port; paging limit, offset", NULL },
	{ "POST", "/api/v1/contested", fanroutes_port_create, true, 0,
	  "contest a UDP port: its datagrams are copied to subscribers", NULL },
	{ "GET", "/api/v1/contested/{id}", fanroutes_port_get, false, 0,
	  "one contested port, with its counters", "contested port" },
	{ "PUT", "/api/v1/contested/{id}", fanroutes_port_put, true, 0,
	  "replace a contested port (same required fields as POST)",
	  "contested port" },
	{ "PATCH", "/api/v1/contested/{id}", fanroutes_port_patch, true, 0,
	  "change only the given fields of a contested port", "contested port" },
	{ "DELETE", "/api/v1/contested/{id}", fanroutes_port_delete, false, 0,
	  "stop contesting a port; its subscribers go with it", "contested port" },
	{ "GET", "/api/v1/subscribers", fanroutes_sub_list, false, 0,
	  "list subscribers; filter contested_port; paging limit, offset", NULL },
	{ "POST", "/api/v1/subscribers", fanroutes_sub_create, true, 0,
	  "subscribe an address to a contested port's datagrams", NULL },
	{ "GET", "/api/v1/subscribers/{id}", fanroutes_sub_get, false, 0,
	  "one subscriber, with its counters", "subscriber" },
	{ "PUT", "/api/v1/subscribers/{id}", fanroutes_sub_put, true, 0,
	  "replace a subscriber (same required fields as POST)", "subscriber" },
	{ "PATCH", "/api/v1/subscribers/{id}", fanroutes_sub_patch, true, 0,
	  "change only the given fields of a subscriber", "subscriber" },
	{ "DELETE", "/api/v1/subscribers/{id}", fanroutes_sub_delete, false, 0,
	  "unsubscribe", "subscriber" },
};

/*
 * Only reads are open: every other method changes something, so it needs
 * the token, whatever route it reaches now or later.
 */
static bool routes_needs_token(const struct routes_route *rt)
{
	return strcmp(rt->method, "GET") != 0;
}

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

/* Returns the error object {"code", "message", "field"}, or NULL. */
static json_t *routes_error_object(const char *code, const char *field,
				  const char *msg)
{
	return json_pack("{s:s, s:o, s:o}", "code", code, "message",
			 routes_text(msg), "field",
			 field != NULL && field[0] != '\0' ? routes_text(field)
							   : json_null());
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
	free(r->text);
	r->text = NULL;
	r->file = NULL;
	r->status = status;
	r->etag[0] = '\0';
	r->location[0] = '\0';
	r->body = json_pack("{s:o}", "error", routes_error_object(code, field, msg));
}

void routes_reply_merror(struct routes_reply *r, const struct mapping_error *err)
{
	routes_reply_error(r, err->status > 0 ? (unsigned)err->status : 500,
			   err->code != NULL ? err->code : "internal", err->field,
			   "%s", err->message[0] != '\0' ? err->message
							 : "internal error");
}

void routes_reply_not_live(struct routes_reply *r, const struct mapping_error *err,
			   json_t *stored)
{
	json_decref(r->body);
	r->status = 503;
	r->body = json_pack("{s:o, s:o*}", "error",
			    routes_error_object(err->code, err->field, err->message),
			    "stored", stored);
}

void routes_reply_etag(struct routes_reply *r, uint64_t version)
{
	snprintf(r->etag, sizeof(r->etag), "\"%" PRIu64 "\"", version);
}

json_t *routes_body_json(const struct routes_call *c, struct routes_reply *r)
{
	struct mapping_error err = { 0 };
	json_t *root = mapjson_parse(c->req->body, c->req->body_len, &err);

	if (root == NULL)
		routes_reply_merror(r, &err);
	return root;
}

const char *routes_query(const struct routes_call *c, const char *name)
{
	return c->req->query(c->req->query_cls, name);
}

/* ---- lists ----------------------------------------------------------- */

bool routes_page_parse(const struct routes_call *c, struct routes_page *p,
		       struct routes_reply *r)
{
	const char *s;

	memset(p, 0, sizeof(*p));
	p->limit = ROUTES_LIST_DEFAULT;
	s = routes_query(c, "limit");
	if (s != NULL && (!routes_parse_uint(s, ROUTES_LIST_MAX, &p->limit) ||
			  p->limit == 0)) {
		routes_reply_error(r, 400, "invalid_query", "limit",
				   "limit must be an integer in 1..%d",
				   ROUTES_LIST_MAX);
		return false;
	}
	s = routes_query(c, "offset");
	if (s != NULL && !routes_parse_uint(s, UINT32_MAX, &p->offset)) {
		routes_reply_error(r, 400, "invalid_query", "offset",
				   "offset must be a non-negative integer");
		return false;
	}
	p->items = json_array();
	return true;
}

bool routes_page_take(struct routes_page *p)
{
	bool shown = p->total >= p->offset && p->total - p->offset < p->limit;

	p->total++;
	return shown && p->items != NULL;
}

void routes_page_append(struct routes_page *p, json_t *item)
{
	if (json_array_append_new(p->items, item) < 0) {
		json_decref(p->items);
		p->items = NULL;
	}
}

void routes_page_reply(struct routes_reply *r, struct routes_page *p,
		       uint64_t version, int rc, const struct mapping_error *err)
{
	if (rc < 0) {
		json_decref(p->items);
		p->items = NULL;
		routes_reply_merror(r, err);
		return;
	}
	r->status = 200;
	routes_reply_etag(r, version);
	r->body = json_pack("{s:o, s:I, s:I, s:I}", "items", p->items,
			    "total", (json_int_t)p->total,
			    "limit", (json_int_t)p->limit,
			    "offset", (json_int_t)p->offset);
	p->items = NULL;
}

/* ---- rows ------------------------------------------------------------- */

bool routes_stored(const struct mapping_error *err)
{
	return err->status == 503;
}

static int64_t *routes_row_id(const struct routes_rows *res, void *row)
{
	return (int64_t *)(void *)((char *)row + res->id_at);
}

void routes_row_reply(const struct routes_call *c, struct routes_reply *r,
		      const struct routes_rows *res, void *row, int64_t id,
		      unsigned status, uint64_t version,
		      const struct mapping_error *stored)
{
	struct mapping_error err = { 0 };
	json_t *body = NULL;
	uint64_t now = 0;

	if (res->read(res, c->req->ctl, id, row, &body, &now, &err) < 0) {
		json_decref(body);
		routes_reply_merror(r, &err);
		return;
	}
	r->status = status;
	routes_reply_etag(r, version != 0 ? version : now);
	if (stored != NULL)
		routes_reply_not_live(r, stored, body);
	else
		r->body = body;
}

void routes_row_create(struct routes_call *c, struct routes_reply *r,
		       const struct routes_rows *res, void *row)
{
	struct mapping_error err = { 0 };
	json_t *root = routes_body_json(c, r);
	int64_t id;

	if (root == NULL)
		return;
	res->defaults(row);
	if (!res->apply(root, row, false, &err) ||
	    (res->write(res, c->req->ctl, row, true, &c->cond, &err) < 0 &&
	     !routes_stored(&err))) {
		routes_reply_merror(r, &err);
		goto out;
	}
	id = *routes_row_id(res, row);
	/* Set first: should reading the row back fail, the error drops it. */
	snprintf(r->location, sizeof(r->location), "%s/%" PRId64, res->path, id);
	routes_row_reply(c, r, res, row, id, 201, c->cond.version,
			 routes_stored(&err) ? &err : NULL);
out:
	json_decref(root);
}

void routes_row_get(struct routes_call *c, struct routes_reply *r,
		    const struct routes_rows *res, void *row)
{
	routes_row_reply(c, r, res, row, c->id, 200, 0, NULL);
}

/*
 * Another write may come between a PATCH's read and its write; a client
 * that must not lose it sends If-Match, which control checks at the
 * moment of the write.
 */
void routes_row_write(struct routes_call *c, struct routes_reply *r,
		      const struct routes_rows *res, void *row, bool partial)
{
	struct mapping_error err = { 0 };
	json_t *root = routes_body_json(c, r);

	if (root == NULL)
		return;
	res->defaults(row);
	if (partial && res->read(res, c->req->ctl, c->id, row, NULL, NULL,
				 &err) < 0) {
		routes_reply_merror(r, &err);
		goto out;
	}
	*routes_row_id(res, row) = c->id;
	if (!res->apply(root, row, partial, &err) ||
	    (res->write(res, c->req->ctl, row, false, &c->cond, &err) < 0 &&
	     !routes_stored(&err))) {
		routes_reply_merror(r, &err);
		goto out;
	}
	routes_row_reply(c, r, res, row, c->id, 200, c->cond.version,
			 routes_stored(&err) ? &err : NULL);
out:
	json_decref(root);
}

void routes_row_delete(struct routes_call *c, struct routes_reply *r,
		       const struct routes_rows *res)
{
	struct mapping_error err = { 0 };

	if (res->remove(res, c->req->ctl, c->id, &c->cond, &err) < 0 &&
	    !routes_stored(&err)) {
		routes_reply_merror(r, &err);
		return;
	}
	r->status = 204;
	routes_reply_etag(r, c->cond.version);
	if (routes_stored(&err))
		routes_reply_not_live(r, &err, NULL);
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

bool routes_parse_if_match(const char *h, struct control_cond *cond)
{
	memset(cond, 0, sizeof(*cond));
	if (h == NULL)
		return true;
	h += strspn(h, " \t");
	if (h[0] == '*' && h[1 + strspn(h + 1, " \t")] == '\0')
		return true;
	for (;;) {
		char digits[24];
		const char *close;
		bool weak;
		uint64_t v = 0;
		size_t len;

		h += strspn(h, " \t,");
		if (*h == '\0')
			break;
		weak = strncmp(h, "W/", 2) == 0;
		if (weak)
			h += 2;
		if (*h != '"' || (close = strchr(h + 1, '"')) == NULL ||
		    cond->n == CONTROL_MATCH_MAX)
			return false;
		len = (size_t)(close - h - 1);
		if (!weak && len < sizeof(digits)) {
			memcpy(digits, h + 1, len);
			digits[len] = '\0';
			if (!routes_parse_uint(digits, UINT64_MAX, &v))
				v = 0;
		}
		cond->match[cond->n++] = v;
		h = close + 1 + strspn(close + 1, " \t");
		if (*h != ',' && *h != '\0')
			return false;
	}
	return cond->n > 0;
}

/* "application/json", any case, optionally followed by parameters. */
static bool routes_is_json(const char *ct)
{
	static const char type[] = "application/json";

	if (ct == NULL || strncasecmp(ct, type, sizeof(type) - 1) != 0)
		return false;
	ct += sizeof(type) - 1;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}

/* ---- the route listing ------------------------------------------------ */

static void routes_get_routes(struct routes_call *c, struct routes_reply *r)
{
	json_t *routes = json_array();

	(void)c;
	for (size_t i = 0; routes != NULL && i < ARRAY_LEN(routes_table); i++) {
		const struct routes_route *rt = &routes_table[i];
		json_t *one = json_pack("{s:s, s:s, s:s, s:b}", "method", rt->method,
					"path", rt->pattern, "summary", rt->summary,
					"auth", (int)routes_needs_token(rt));

		if (json_array_append_new(routes, one) < 0) {
			json_decref(routes);
			routes = NULL;
		}
	}
	r->status = 200;
	r->body = json_pack("{s:o}", "routes", routes);
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
	m->body_max = ROUTES_BODY_MAX;
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
			m->body_max = rt->body_max != 0 ? rt->body_max
							: ROUTES_BODY_MAX;
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

void routes_reply_stamp(struct routes_reply *r, struct control *ctl)
{
	if (r->etag[0] == '\0')
		routes_reply_etag(r, control_version(ctl));
}

/*
 * Applies the rules every route shares, in their order, filling call with
 * the {id} and If-Match.  Returns true, or false with r filled.
 */
static bool routes_check(const struct routes_match *m,
			 const struct routes_request *req,
			 struct routes_call *call, struct routes_reply *r)
{
	bool writes = routes_needs_token(m->route);

	/*
	 * The token is checked before anything else, so that a client
	 * without it learns nothing from the answer, not even whether its
	 * body would have been acceptable.
	 */
	if (writes && (req->token == NULL ||
		       !auth_check(req->authorization, req->token))) {
		routes_reply_error(r, 401, "unauthorized", NULL, "%s",
				   req->authorization == NULL
					   ? "this request needs an Authorization: Bearer token"
					   : "the bearer token is not valid");
		r->challenge = true;
		return false;
	}
	if (req->body_too_large) {
		routes_reply_error(r, 413, "body_too_large", NULL,
				   "the request body exceeds %zu bytes", m->body_max);
		return false;
	}
	if (m->json_body && !routes_is_json(req->content_type)) {
		routes_reply_error(r, 415, "unsupported_media_type", NULL,
				   "the request body must be sent as application/json");
		return false;
	}
	if (m->param != NULL &&
	    !routes_parse_id(m->param, m->param_len, &call->id)) {
		routes_reply_error(r, 404, "not_found", "id",
				   "%s ids are positive integers", m->route->noun);
		return false;
	}
	if (writes && !routes_parse_if_match(req->if_match, &call->cond)) {
		routes_reply_error(r, 400, "invalid_header", "If-Match",
				   "If-Match must be * or a list of at most %d entity tags",
				   CONTROL_MATCH_MAX);
		return false;
	}
	return true;
}

bool routes_begin(const struct routes_match *m, const char *method,
		  const struct routes_request *req, struct routes_reply *r)
{
	struct routes_call call = { .req = req };

	if (m->route != NULL && routes_check(m, req, &call, r))
		return true;
	if (m->route == NULL && m->allow[0] != '\0') {
		memcpy(r->allow, m->allow, sizeof(r->allow));
		routes_reply_error(r, 405, "method_not_allowed", NULL,
				   "%s is not allowed here; use %s", method, r->allow);
	} else if (m->route == NULL) {
		routes_reply_error(r, 404, "not_found", NULL, "no such route");
	}
	routes_reply_stamp(r, req->ctl);
	return false;
}

void routes_run(const struct routes_match *m, const struct routes_request *req,
		struct routes_reply *r)
{
	struct routes_call call = { .req = req };

	if (routes_check(m, req, &call, r))
		m->route->handler(&call, r);
	routes_reply_stamp(r, req->ctl);
}
