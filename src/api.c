/*
 * api: the REST API and the static dashboard, served by libmicrohttpd.
 *
 * DESIGN
 * libmicrohttpd runs one internal polling thread and every callback in this
 * file runs on it, one request at a time, so nothing here needs a lock.  The
 * callbacks share only struct api, which is read-only once api_start
 * returns, and they reach the port-sharing table through control.h, whose
 * functions take the control plane's mutex.  A request body is gathered
 * across calls of the access handler into the connection's struct
 * api_request (never more than API_BODY_MAX bytes), which the completion
 * callback frees.  With the body complete, the route table picks a handler;
 * a handler only fills a struct api_reply, and api_send alone turns a reply
 * into HTTP, so status, headers and the error shape are decided in one place.
 * The JSON <-> mapping conversion lives in mapjson.c, which does no I/O, so
 * tests and the fuzzer link it without this file's HTTP machinery.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api.h"
#include "control.h"
#include "log.h"
#include "mapjson.h"
#include "mapping.h"

/* The Makefile may pass the release; a plain build reports this one. */
#ifndef PORTSHARE_VERSION
#define PORTSHARE_VERSION "0.1.0"
#endif

#define API_BODY_MAX (64 * 1024)
#define API_LIST_DEFAULT 100
#define API_LIST_MAX 1000
/* Workers note progress every second even when idle; 5 s allows for jitter. */
#define API_HEALTH_MAX_AGE 5
#define API_CONNECTION_LIMIT 256
#define API_PER_IP_LIMIT 64
#define API_TIMEOUT_SECONDS 10

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct api {
	struct MHD_Daemon *daemon;
	struct control *ctl;
	int webfd; /* the static files' directory, -1 when there is none */
};

/* One per connection, created on the first call of the access handler. */
struct api_request {
	char *body;
	size_t len, cap;
	bool too_large;
};

/* What a handler gets to see of a request. */
struct api_call {
	struct api *api;
	struct MHD_Connection *conn;
	int64_t id; /* the {id} segment, 0 for routes without one */
	const char *body;
	size_t body_len;
};

/* What a handler answers; body is owned by the reply. */
struct api_reply {
	unsigned status;
	json_t *body;
	char location[64];
	bool etag;
	char allow[64];
};

typedef void api_handler(const struct api_call *call, struct api_reply *r);

struct api_route {
	const char *method;
	const char *pattern; /* a "{id}" segment matches one positive id */
	api_handler *handler;
	bool json_body;      /* the request must carry application/json */
	const char *summary;
};

static api_handler api_get_health, api_get_routes, api_get_status,
	api_list_mappings, api_create_mapping, api_get_mapping, api_put_mapping,
	api_patch_mapping, api_delete_mapping;

/* Dispatch, 404/405 and GET /api/v1/ all read this one table. */
static const struct api_route api_routes[] = {
	{ "GET", "/healthz", api_get_health, false,
	  "200 when every queue worker made progress in the last 5 seconds, else 503" },
	{ "GET", "/api/v1/", api_get_routes, false, "this list of routes" },
	{ "GET", "/api/v1/routes", api_get_routes, false, "this list of routes" },
	{ "GET", "/api/v1/status", api_get_status, false,
	  "version, uptime, table size and per-queue counters" },
	{ "GET", "/api/v1/mappings", api_list_mappings, false,
	  "list mappings; filters proto, address, enabled; paging limit, offset" },
	{ "POST", "/api/v1/mappings", api_create_mapping, true, "create a mapping" },
	{ "GET", "/api/v1/mappings/{id}", api_get_mapping, false, "one mapping" },
	{ "PUT", "/api/v1/mappings/{id}", api_put_mapping, true,
	  "replace a mapping (same required fields as POST)" },
	{ "PATCH", "/api/v1/mappings/{id}", api_patch_mapping, true,
	  "change only the given fields of a mapping" },
	{ "DELETE", "/api/v1/mappings/{id}", api_delete_mapping, false,
	  "delete a mapping" },
};

/* ---- replies ---------------------------------------------------------- */

/*
 * Returns a JSON string for text, replacing bytes outside printable ASCII
 * when text is not valid UTF-8 (a message may quote a URL or have been cut
 * in the middle of a character), because jansson refuses such strings.
 */
static json_t *api_text(const char *text)
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

static void __attribute__((format(printf, 5, 6)))
api_reply_error(struct api_reply *r, unsigned status,
			    const char *code, const char *field,
			    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(r->body);
	r->status = status;
	r->etag = false;
	r->location[0] = '\0';
	r->body = json_pack("{s:{s:s, s:o, s:o}}", "error", "code", code,
			    "message", api_text(msg), "field",
			    field != NULL && field[0] != '\0' ? api_text(field)
							      : json_null());
}

/* A control or mapping error; a missing status means a bug, hence 500. */
static void api_reply_merror(struct api_reply *r, const struct mapping_error *err)
{
	api_reply_error(r, err->status > 0 ? (unsigned)err->status : 500,
			err->code != NULL ? err->code : "internal", err->field,
			"%s", err->message[0] != '\0' ? err->message : "internal error");
}

static void api_header(struct MHD_Response *resp, const char *name,
		       const char *value)
{
	if (MHD_add_response_header(resp, name, value) != MHD_YES)
		log_warnx("api: cannot add header %s", name);
}

/* Consumes r->body.  Returns what MHD_queue_response returns. */
static enum MHD_Result api_send(struct api *api, struct MHD_Connection *conn,
				struct api_reply *r)
{
	static char oom[] = "{\"error\":{\"code\":\"out_of_memory\","
			    "\"message\":\"out of memory\",\"field\":null}}";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = NULL;
	char etag[32];

	if (r->body != NULL)
		text = json_dumps(r->body, JSON_COMPACT);
	json_decref(r->body);
	r->body = NULL;
	if (text != NULL) {
		resp = MHD_create_response_from_buffer(strlen(text), text,
						       MHD_RESPMEM_MUST_FREE);
	} else if (r->status == MHD_HTTP_NO_CONTENT) {
		resp = MHD_create_response_from_buffer(0, NULL,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		/* A handler that built no body ran out of memory doing it. */
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		r->etag = false;
		r->location[0] = '\0';
		resp = MHD_create_response_from_buffer(strlen(oom), oom,
						       MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	if (r->status != MHD_HTTP_NO_CONTENT)
		api_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	api_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->etag) {
		snprintf(etag, sizeof(etag), "\"%" PRIu64 "\"",
			 control_version(api->ctl));
		api_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	}
	if (r->location[0] != '\0')
		api_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->allow[0] != '\0')
		api_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- small pure parsers ----------------------------------------------- */

/* Strict decimal: digits only, no sign, no blanks, at most max. */
static bool api_parse_uint(const char *s, uint64_t max, uint64_t *out)
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
static bool api_parse_id(const char *s, size_t n, int64_t *id)
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

/*
 * "IPv4:port" or "[IPv6]:port".  Returns false with errbuf filled for
 * anything else, including port 0.
 */
static bool api_parse_listen(const char *s, struct sockaddr_storage *ss,
			     uint16_t *port, char *errbuf, size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	const char *h = s, *colon;
	bool v6 = s[0] == '[';
	uint64_t p;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		h = s + 1;
		colon = close + 1;
		hlen = (size_t)(close - h);
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			goto bad;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host) ||
	    !api_parse_uint(colon + 1, 65535, &p) || p == 0)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(*port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(*port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
	}
	return true;
bad:
	snprintf(errbuf, errlen,
		 "listen address \"%s\" is not IPv4:port or [IPv6]:port", s);
	return false;
}

/* ---- handlers --------------------------------------------------------- */

/*
 * Returns true when every queue made progress recently; otherwise false
 * with the first reason written to reason.
 */
static bool api_healthy(const struct control_status *st, int64_t now,
			char *reason, size_t len)
{
	if (st->nqueues == 0) {
		snprintf(reason, len, "no queue worker is running");
		return false;
	}
	for (size_t i = 0; i < st->nqueues && i < CONTROL_MAX_QUEUES; i++) {
		int64_t age = now - st->queues[i].last_progress;

		if (age > API_HEALTH_MAX_AGE) {
			snprintf(reason, len,
				 "queue %u made no progress for %" PRId64 " seconds",
				 st->queues[i].queue, age);
			return false;
		}
	}
	return true;
}

static void api_get_health(const struct api_call *c, struct api_reply *r)
{
	struct control_status st;
	char reason[128];

	control_status_get(c->api->ctl, &st);
	if (api_healthy(&st, (int64_t)time(NULL), reason, sizeof(reason))) {
		r->status = MHD_HTTP_OK;
		r->body = json_pack("{s:s}", "status", "ok");
	} else {
		r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		r->body = json_pack("{s:s, s:s}", "status", "unhealthy",
				    "reason", reason);
	}
}

static void api_get_routes(const struct api_call *c, struct api_reply *r)
{
	json_t *routes = json_array();

	(void)c;
	for (size_t i = 0; routes != NULL && i < ARRAY_LEN(api_routes); i++) {
		json_t *one = json_pack("{s:s, s:s, s:s}",
					"method", api_routes[i].method,
					"path", api_routes[i].pattern,
					"summary", api_routes[i].summary);

		if (json_array_append_new(routes, one) < 0) {
			json_decref(routes);
			routes = NULL;
		}
	}
	r->status = MHD_HTTP_OK;
	r->body = json_pack("{s:o}", "routes", routes);
}

/* Every counter of struct control_queue_stats, under its JSON name. */
static const struct {
	const char *name;
	size_t offset;
} api_queue_counters[] = {
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

static json_t *api_queue_json(const struct control_queue_stats *q, int64_t now)
{
	char when[MAPJSON_TIME_LEN];
	json_t *o = json_pack("{s:I, s:s?, s:I}", "queue", (json_int_t)q->queue,
			      "last_progress",
			      mapjson_iso_time(q->last_progress, when),
			      "last_progress_age_seconds",
			      (json_int_t)(q->last_progress != 0
						   ? now - q->last_progress : -1));

	for (size_t i = 0; o != NULL && i < ARRAY_LEN(api_queue_counters); i++) {
		uint64_t v;

		memcpy(&v, (const char *)q + api_queue_counters[i].offset, sizeof(v));
		if (json_object_set_new(o, api_queue_counters[i].name,
					json_integer((json_int_t)v)) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

static void api_get_status(const struct api_call *c, struct api_reply *r)
{
	int64_t now = (int64_t)time(NULL);
	struct control_status st;
	json_t *queues = json_array();
	char reason[128];
	bool healthy;

	control_status_get(c->api->ctl, &st);
	healthy = api_healthy(&st, now, reason, sizeof(reason));
	for (size_t i = 0; queues != NULL && i < st.nqueues &&
			   i < CONTROL_MAX_QUEUES; i++) {
		if (json_array_append_new(queues,
					  api_queue_json(&st.queues[i], now)) < 0) {
			json_decref(queues);
			queues = NULL;
		}
	}
	r->status = MHD_HTTP_OK;
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

struct api_filter {
	unsigned proto;                     /* 0: any */
	char address[MAPPING_ADDRESS_MAX];  /* "": any */
	int enabled;                        /* -1: any */
	uint64_t limit, offset;
};

static const struct {
	const char *text;
	int value;
} api_bools[] = { { "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 } };

static const char *api_query(const struct api_call *c, const char *name)
{
	return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Returns false with r filled when a query parameter is malformed. */
static bool api_filter_parse(const struct api_call *c, struct api_filter *f,
			     struct api_reply *r)
{
	struct mapping_error err = { 0 };
	const char *s;
	int family;

	memset(f, 0, sizeof(*f));
	f->enabled = -1;
	f->limit = API_LIST_DEFAULT;
	s = api_query(c, "proto");
	if (s != NULL && !mapping_proto_parse(s, &f->proto)) {
		api_reply_error(r, 400, "invalid_query", "proto",
				"proto must be \"tcp\", \"udp\" or \"both\"");
		return false;
	}
	s = api_query(c, "address");
	if (s != NULL && !mapping_normalize_address(s, f->address, &family, &err)) {
		api_reply_error(r, 400, "invalid_query", "address", "%s",
				err.message);
		return false;
	}
	s = api_query(c, "enabled");
	if (s != NULL) {
		for (size_t i = 0; i < ARRAY_LEN(api_bools); i++) {
			if (strcmp(s, api_bools[i].text) == 0)
				f->enabled = api_bools[i].value;
		}
		if (f->enabled < 0) {
			api_reply_error(r, 400, "invalid_query", "enabled",
					"enabled must be true or false");
			return false;
		}
	}
	s = api_query(c, "limit");
	if (s != NULL && (!api_parse_uint(s, API_LIST_MAX, &f->limit) ||
			  f->limit == 0)) {
		api_reply_error(r, 400, "invalid_query", "limit",
				"limit must be an integer in 1..%d", API_LIST_MAX);
		return false;
	}
	s = api_query(c, "offset");
	if (s != NULL && !api_parse_uint(s, UINT32_MAX, &f->offset)) {
		api_reply_error(r, 400, "invalid_query", "offset",
				"offset must be a non-negative integer");
		return false;
	}
	return true;
}

/* An address filter matches the stored address or any address it resolves to. */
static bool api_filter_match(const struct api_filter *f,
			     const struct control_mapping *cm)
{
	bool addr = f->address[0] == '\0' || strcmp(f->address, cm->m.address) == 0;

	for (size_t i = 0; !addr && i < cm->naddrs && i < CONTROL_MAX_ADDRS; i++)
		addr = strcmp(f->address, cm->addrs[i]) == 0;
	return addr && (f->proto == 0 || f->proto == cm->m.proto) &&
	       (f->enabled < 0 || f->enabled == (int)cm->m.enabled);
}

static void api_list_mappings(const struct api_call *c, struct api_reply *r)
{
	struct control_mapping *rows = NULL;
	struct mapping_error err = { 0 };
	struct api_filter f;
	uint64_t total = 0;
	json_t *items;
	size_t n = 0;

	if (!api_filter_parse(c, &f, r))
		return;
	if (control_mapping_list(c->api->ctl, &rows, &n, &err) < 0) {
		api_reply_merror(r, &err);
		goto out;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!api_filter_match(&f, &rows[i]))
			continue;
		if (items != NULL && total >= f.offset &&
		    total - f.offset < f.limit &&
		    json_array_append_new(items, mapjson_encode(&rows[i])) < 0) {
			json_decref(items);
			items = NULL;
		}
		total++;
	}
	r->status = MHD_HTTP_OK;
	r->etag = true;
	r->body = json_pack("{s:o, s:I, s:I, s:I}", "items", items,
			    "total", (json_int_t)total, "limit", (json_int_t)f.limit,
			    "offset", (json_int_t)f.offset);
out:
	free(rows);
}

/* Answers with the row as control now shows it, counters included. */
static void api_reply_row(const struct api_call *c, struct api_reply *r,
			  int64_t id, unsigned status)
{
	struct mapping_error err = { 0 };
	struct control_mapping cm;

	if (control_mapping_get(c->api->ctl, id, &cm, &err) < 0) {
		api_reply_merror(r, &err);
		return;
	}
	r->status = status;
	r->etag = true;
	r->body = mapjson_encode(&cm);
}

/* Returns the parsed body, or NULL with r filled. */
static json_t *api_body_json(const struct api_call *c, struct api_reply *r)
{
	json_error_t jerr;
	json_t *root = json_loadb(c->body != NULL ? c->body : "", c->body_len,
				  MAPJSON_LOAD_FLAGS, &jerr);

	if (root == NULL)
		api_reply_error(r, 400, "invalid_json", NULL,
				"invalid JSON at line %d, column %d: %s",
				jerr.line, jerr.column, jerr.text);
	return root;
}

static void api_create_mapping(const struct api_call *c, struct api_reply *r)
{
	struct mapping_error err = { 0 };
	json_t *root = api_body_json(c, r);
	struct mapping m;

	if (root == NULL)
		return;
	mapjson_defaults(&m);
	if (!mapjson_apply(root, &m, false, &err) ||
	    control_mapping_create(c->api->ctl, &m, &err) < 0) {
		api_reply_merror(r, &err);
		goto out;
	}
	snprintf(r->location, sizeof(r->location), "/api/v1/mappings/%" PRId64,
		 m.id);
	api_reply_row(c, r, m.id, MHD_HTTP_CREATED);
out:
	json_decref(root);
}

static void api_get_mapping(const struct api_call *c, struct api_reply *r)
{
	api_reply_row(c, r, c->id, MHD_HTTP_OK);
}

/* PUT starts from the defaults, PATCH from the stored row. */
static void api_write_mapping(const struct api_call *c, struct api_reply *r,
			      bool partial)
{
	struct mapping_error err = { 0 };
	struct control_mapping cur;
	json_t *root = api_body_json(c, r);
	struct mapping m;

	if (root == NULL)
		return;
	mapjson_defaults(&m);
	if (partial) {
		if (control_mapping_get(c->api->ctl, c->id, &cur, &err) < 0) {
			api_reply_merror(r, &err);
			goto out;
		}
		m = cur.m;
	}
	m.id = c->id;
	if (!mapjson_apply(root, &m, partial, &err) ||
	    control_mapping_update(c->api->ctl, &m, &err) < 0) {
		api_reply_merror(r, &err);
		goto out;
	}
	api_reply_row(c, r, c->id, MHD_HTTP_OK);
out:
	json_decref(root);
}

static void api_put_mapping(const struct api_call *c, struct api_reply *r)
{
	api_write_mapping(c, r, false);
}

static void api_patch_mapping(const struct api_call *c, struct api_reply *r)
{
	api_write_mapping(c, r, true);
}

static void api_delete_mapping(const struct api_call *c, struct api_reply *r)
{
	struct mapping_error err = { 0 };

	if (control_mapping_delete(c->api->ctl, c->id, &err) < 0) {
		api_reply_merror(r, &err);
		return;
	}
	r->status = MHD_HTTP_NO_CONTENT;
	r->etag = true;
}

/* ---- static files ----------------------------------------------------- */

static const struct {
	const char *ext;
	const char *type;
} api_content_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".json", "application/json" },
};

static const char *api_content_type(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < ARRAY_LEN(api_content_types); i++) {
		size_t elen = strlen(api_content_types[i].ext);

		if (len >= elen &&
		    strcasecmp(path + len - elen, api_content_types[i].ext) == 0)
			return api_content_types[i].type;
	}
	return "application/octet-stream";
}

/*
 * Serves url from the web directory.  Any segment starting with '.' is
 * refused: that covers "..", which could climb out of the directory, and
 * hidden files such as editor backups or a .git directory.
 */
static enum MHD_Result api_static(struct api *api, struct MHD_Connection *conn,
				  const char *url)
{
	struct api_reply r = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char path[1024];
	struct stat sb;
	int fd;

	while (*url == '/')
		url++;
	if (api->webfd < 0)
		goto missing;
	for (const char *seg = url; *seg != '\0'; seg += strcspn(seg, "/")) {
		seg += strspn(seg, "/");
		if (*seg == '.') {
			api_reply_error(&r, 403, "forbidden", NULL,
					"path segments must not start with '.'");
			return api_send(api, conn, &r);
		}
	}
	if ((size_t)snprintf(path, sizeof(path), "%s%s", url,
			     url[0] == '\0' || url[strlen(url) - 1] == '/'
				     ? "index.html" : "") >= sizeof(path))
		goto missing;
	fd = openat(api->webfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto missing;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		goto missing;
	}
	/* The response owns fd from here and closes it when destroyed. */
	resp = MHD_create_response_from_fd64((uint64_t)sb.st_size, fd);
	if (resp == NULL) {
		close(fd);
		return MHD_NO;
	}
	api_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, api_content_type(path));
	api_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	api_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
missing:
	api_reply_error(&r, 404, "not_found", NULL, "no such file");
	return api_send(api, conn, &r);
}

/* ---- dispatch --------------------------------------------------------- */

/* A "{id}" in pattern captures one non-empty segment into seg/seglen. */
static bool api_route_match(const char *pattern, const char *path,
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

/*
 * Returns the route for method and path, or NULL with allow listing the
 * methods the path does take ("" when no route has that path).
 */
static const struct api_route *api_route_find(const char *method,
					      const char *path, char *allow,
					      size_t allowlen, const char **seg,
					      size_t *seglen)
{
	/* HEAD is a GET without a body; libmicrohttpd drops the body. */
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;

	allow[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(api_routes); i++) {
		const struct api_route *rt = &api_routes[i];

		if (!api_route_match(rt->pattern, path, seg, seglen))
			continue;
		if (strcmp(rt->method, want) == 0) {
			allow[0] = '\0';
			return rt;
		}
		if (strstr(allow, rt->method) == NULL)
			snprintf(allow + strlen(allow), allowlen - strlen(allow),
				 "%s%s", allow[0] != '\0' ? ", " : "", rt->method);
	}
	return NULL;
}

/* "application/json", any case, optionally followed by parameters. */
static bool api_is_json(const char *ct)
{
	static const char type[] = "application/json";

	if (ct == NULL || strncasecmp(ct, type, sizeof(type) - 1) != 0)
		return false;
	ct += sizeof(type) - 1;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}

static bool api_is_api_path(const char *url)
{
	return strcmp(url, "/api") == 0 || strncmp(url, "/api/", 5) == 0;
}

static enum MHD_Result api_dispatch(struct api *api, struct MHD_Connection *conn,
				    const char *url, const char *method,
				    const struct api_request *req)
{
	struct api_call call = { .api = api, .conn = conn, .body = req->body,
				 .body_len = req->len };
	struct api_reply r = { 0 };
	const struct api_route *rt;
	const char *seg = NULL;
	size_t seglen = 0;

	rt = api_route_find(method, url, r.allow, sizeof(r.allow), &seg, &seglen);
	if (rt == NULL && r.allow[0] != '\0') {
		api_reply_error(&r, 405, "method_not_allowed", NULL,
				"%s is not allowed here; use %s", method, r.allow);
	} else if (rt == NULL && api_is_api_path(url)) {
		api_reply_error(&r, 404, "not_found", NULL, "no such route");
	} else if (rt == NULL && strcmp(method, "GET") != 0 &&
		   strcmp(method, "HEAD") != 0) {
		snprintf(r.allow, sizeof(r.allow), "GET, HEAD");
		api_reply_error(&r, 405, "method_not_allowed", NULL,
				"static files only answer GET and HEAD");
	} else if (rt == NULL) {
		return api_static(api, conn, url);
	} else if (req->too_large) {
		api_reply_error(&r, 413, "body_too_large", NULL,
				"the request body exceeds %d bytes", API_BODY_MAX);
	} else if (rt->json_body &&
		   !api_is_json(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_CONTENT_TYPE))) {
		api_reply_error(&r, 415, "unsupported_media_type", NULL,
				"the request body must be sent as application/json");
	} else if (seg != NULL && !api_parse_id(seg, seglen, &call.id)) {
		api_reply_error(&r, 404, "not_found", "id",
				"mapping ids are positive integers");
	} else {
		rt->handler(&call, &r);
	}
	return api_send(api, conn, &r);
}

/* Keeps at most API_BODY_MAX bytes; the rest is read and dropped. */
static void api_request_append(struct api_request *req, const char *data,
			       size_t size)
{
	size_t cap = req->cap;
	char *body;

	if (req->too_large || size > API_BODY_MAX - req->len) {
		req->too_large = true;
		return;
	}
	while (cap < req->len + size)
		cap = cap != 0 ? cap * 2 : 1024;
	if (cap > API_BODY_MAX)
		cap = API_BODY_MAX;
	if (cap != req->cap) {
		body = realloc(req->body, cap);
		if (body == NULL) {
			/* Refusing the body is the only answer that needs no memory. */
			req->too_large = true;
			return;
		}
		req->body = body;
		req->cap = cap;
	}
	memcpy(req->body + req->len, data, size);
	req->len += size;
}

static enum MHD_Result api_access(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct api *api = cls;
	struct api_request *req = *con_cls;
	const char *cl;
	uint64_t len;

	(void)version;
	if (req == NULL) {
		req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		*con_cls = req;
		/*
		 * A declared length over the cap is refused before the body
		 * is read, so the client is not kept uploading for nothing.
		 */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && !api_parse_uint(cl, API_BODY_MAX, &len)) {
			struct api_reply r = { 0 };

			api_reply_error(&r, 413, "body_too_large", NULL,
					"the request body exceeds %d bytes",
					API_BODY_MAX);
			return api_send(api, conn, &r);
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		api_request_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return api_dispatch(api, conn, url, method, req);
}

static void api_completed(void *cls, struct MHD_Connection *conn,
			  void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct api_request *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req != NULL) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's own complaints go to the daemon's log, one line each. */
static void api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t len;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	log_warnx("http: %s", msg);
}

struct api *api_start(const char *listen, struct control *ctl,
		      const char *webdir, char *errbuf, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr_storage ss;
	struct api *api;
	uint16_t port;

	if (!api_parse_listen(listen, &ss, &port, errbuf, errlen))
		return NULL;
	api = calloc(1, sizeof(*api));
	if (api == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	api->ctl = ctl;
	api->webfd = -1;
	if (webdir != NULL) {
		api->webfd = open(webdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (api->webfd < 0) {
			snprintf(errbuf, errlen, "web directory %s: %s", webdir,
				 strerror(errno));
			goto err;
		}
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_DUAL_STACK;
	api->daemon = MHD_start_daemon(flags, port, NULL, NULL, api_access, api,
		MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)API_PER_IP_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_TIMEOUT_SECONDS,
		MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
		MHD_OPTION_END);
	if (api->daemon == NULL) {
		snprintf(errbuf, errlen,
			 "cannot serve HTTP on %s (see the log for why)", listen);
		goto err;
	}
	return api;
err:
	api_stop(api);
	return NULL;
}

void api_stop(struct api *api)
{
	if (api == NULL)
		return;
	if (api->daemon != NULL)
		MHD_stop_daemon(api->daemon);
	if (api->webfd >= 0)
		close(api->webfd);
	free(api);
}
