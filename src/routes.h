/*
 * routes: the REST API's dispatch.  One table lists every route (method,
 * path pattern, handler, body limit, summary); it finds the handler for a
 * request, gives the Allow list for a 405, decides which requests need the
 * bearer token (every method but GET), and is what GET /api/v1/routes
 * shows.  The rules every route shares are applied in one place and in
 * this order: authentication (401), body size (413), media type (415), the
 * {id} (404) and If-Match (400).  routes_begin applies them as soon as the
 * headers are in, before any of the body is read, so a request that cannot
 * succeed is answered at once; routes_run applies them again with the body
 * complete, then runs the handler.  Every reply carries the table version
 * as its ETag: the one a handler set, or else the current one.  Requests
 * and replies are described here without any HTTP library, so this module
 * never sees libmicrohttpd: api.c fills a routes_request and turns a
 * routes_reply into HTTP.  The handlers live in four modules:
 * maproutes.c (the table of mappings and its export and import),
 * grouproutes.c (application groups, backends, source rules, flows),
 * fanroutes.c (contested ports and subscribers of UDP fan-out) and
 * sysroutes.c (health, status, metrics, the API document).  They reach
 * the control plane only through control.h: the mappings through its own
 * calls and config.h, the groups and fan-out through callbacks that
 * control runs under its lock, which alone call gctl.h and fctl.h.  They
 * share this module's list pages (routes_page_*), so every list obeys one
 * rule for limit and offset, and its row handlers (routes_row_*), so every
 * resource answers POST, GET, PUT, PATCH and DELETE alike: a new resource
 * is a description of its rows (struct routes_rows) plus its rows in the
 * table.
 */
#ifndef PORTSHARE_ROUTES_H
#define PORTSHARE_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "control.h"
#include "mapping.h"

/* The largest request body a route reads unless its row says otherwise. */
#define ROUTES_BODY_MAX (64 * 1024)
/* PUT /api/v1/config takes a whole table: some 200000 rows fit. */
#define ROUTES_CONFIG_BODY_MAX (16 * 1024 * 1024)

/* Room for an Allow list such as "GET, PUT, PATCH, DELETE" and its NUL. */
#define ROUTES_ALLOW_LEN 64

struct routes_route;

/* Returns the value of query parameter name, or NULL when it is absent. */
typedef const char *routes_query_fn(void *cls, const char *name);

/*
 * What the dispatch and a handler get to see of a request; the caller owns
 * every pointer.  A header that was not sent is NULL.
 */
struct routes_request {
	struct control *ctl;
	const char *body;          /* the raw request body, NULL when empty */
	size_t body_len;
	bool body_too_large;       /* the body passes the route's limit (declared or read) */
	const char *content_type;
	const char *authorization;
	const char *if_match;
	const char *token;         /* what writes must present; NULL refuses them all */
	routes_query_fn *query;
	void *query_cls;           /* passed to query as cls */
};

/*
 * What a handler answers: a JSON body, or plain text, or a file of the web
 * directory.  The reply owns body and text.  A reply with none of the
 * three and a status other than 204 means building it ran out of memory.
 * An empty string leaves its header out.
 */
struct routes_reply {
	unsigned status;
	json_t *body;
	char *text;
	const char *content_type;  /* of text */
	const char *file;          /* a path inside the web directory */
	bool challenge;            /* a 401: send WWW-Authenticate: Bearer */
	char location[64];
	char etag[32];
	char allow[ROUTES_ALLOW_LEN];
};

/* The outcome of routes_find. */
struct routes_match {
	const struct routes_route *route; /* NULL when no route took the request */
	bool json_body;         /* the route's body must be application/json */
	size_t body_max;        /* the largest body it reads; ROUTES_BODY_MAX without a route */
	const char *param;      /* the path's {id} segment, NULL without one */
	size_t param_len;
	char allow[ROUTES_ALLOW_LEN]; /* with no route: the methods the path takes */
};

/* A request as a handler sees it, once routes_run has checked it. */
struct routes_call {
	const struct routes_request *req;
	int64_t id;                /* the {id} segment, 0 for routes without one */
	struct control_cond cond;  /* a write's If-Match, for control's writers */
};

typedef void routes_handler(struct routes_call *c, struct routes_reply *r);

/*
 * Looks up method and path in the table, treating HEAD as GET.  Returns
 * true with m->route set when a route takes the request.  Returns false
 * with m->route NULL otherwise, and m->allow lists the methods the path
 * does take: a non-empty list calls for a 405, an empty one for a 404 (or,
 * outside the API, for the static files).  Pure: no I/O.
 */
bool routes_find(const char *method, const char *path, struct routes_match *m);

/*
 * The first look at a request, with its headers but none of its body
 * (req->body is NULL, and req->body_too_large says whether the declared
 * Content-Length passes m->body_max).  Returns true when the body is worth
 * reading.  Otherwise fills r, which must start zeroed, with the answer to
 * give at once: 404 or 405 when no route took the request (m->allow says
 * which), or the first of the shared rules it breaks.
 */
bool routes_begin(const struct routes_match *m, const char *method,
		  const struct routes_request *req, struct routes_reply *r);

/*
 * Checks req, body complete, against the rules every route shares (see
 * the top of this file), then runs the route m found, and fills r, which
 * must start zeroed.  Every outcome, errors included, is a reply; nothing
 * is returned.
 */
void routes_run(const struct routes_match *m, const struct routes_request *req,
		struct routes_reply *r);

/* Sets r's ETag to ctl's current table version when r carries none. */
void routes_reply_stamp(struct routes_reply *r, struct control *ctl);

/*
 * Replaces r's body with the API's error object {"error": {"code",
 * "message", "field"}} and sets status; drops Location and ETag but keeps
 * Allow, which a 405 needs.  field may be NULL or "" when none applies.
 */
void routes_reply_error(struct routes_reply *r, unsigned status,
			const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A control or mapping error; a missing status means a bug, hence 500. */
void routes_reply_merror(struct routes_reply *r, const struct mapping_error *err);

/*
 * The 503 of a write that control stored but could not make live yet:
 * {"error": {...}, "stored": stored}, where stored (taken; NULL for a
 * deletion) shows what was written.  Unlike the other errors it keeps the
 * Location and ETag already set, so a client can reconcile.
 */
void routes_reply_not_live(struct routes_reply *r, const struct mapping_error *err,
			   json_t *stored);

/* Sets the ETag to a table version: "<version>", quotes included. */
void routes_reply_etag(struct routes_reply *r, uint64_t version);

/*
 * Returns the request body parsed (see mapjson_parse: depth first, then
 * JSON), or NULL with r filled with the 400.
 */
json_t *routes_body_json(const struct routes_call *c, struct routes_reply *r);

/* Returns the value of query parameter name, or NULL. */
const char *routes_query(const struct routes_call *c, const char *name);

/*
 * Strict decimal: digits only, no sign, no blanks, at most max.  Returns
 * false for anything else.  Every number the API reads (query parameters,
 * Content-Length, the listen port, If-Match) goes through it, so all obey
 * one rule.
 */
bool routes_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* ---- list pages, which every list of the API answers with ---- */

/* A list's page when the query names none, and the most it may ask for. */
#define ROUTES_LIST_DEFAULT 100
#define ROUTES_LIST_MAX 1000

/*
 * A page of a list: which matches it shows (limit, offset), how many
 * matched (total) and the items shown.  Every list of the API answers
 * {"items", "total", "limit", "offset"} through these, so all obey one
 * rule for limit and offset.
 */
struct routes_page {
	uint64_t limit, offset, total;
	json_t *items;  /* NULL once out of memory */
};

/*
 * Reads the query's limit (1..ROUTES_LIST_MAX, ROUTES_LIST_DEFAULT when
 * absent) and offset (0..UINT32_MAX) into p and starts its items.  Returns
 * false with r filled with the 400 when either is malformed, and then p
 * holds nothing to free.
 */
bool routes_page_parse(const struct routes_call *c, struct routes_page *p,
		       struct routes_reply *r);

/* Counts one more match; returns true when the page shows it. */
bool routes_page_take(struct routes_page *p);

/* Appends item (taken; NULL is out of memory, which drops the page). */
void routes_page_append(struct routes_page *p, json_t *item);

/*
 * Answers the page with the table version it was read at, or, when rc is
 * negative, the error err that cut the read short.  Takes p->items either
 * way.
 */
void routes_page_reply(struct routes_reply *r, struct routes_page *p,
		       uint64_t version, int rc, const struct mapping_error *err);

/* ---- row handlers, which every resource with ids shares ---- */

/*
 * One resource of rows with ids (a mapping, a group, a contested port...)
 * as the shared row handlers below see it.  A module describes each of
 * its resources with one of these, as the first member of its own
 * description when its callbacks need more, and the handlers pass it back
 * to every callback.  row is always the handler's room for one row of the
 * resource.  The callbacks return 0, or -1 with err set; a write that
 * control stored but could not make live yet fails with 503, and the
 * handlers still answer it as a write.
 */
struct routes_rows {
	const char *path;     /* the collection, which a Location extends */
	size_t id_at;         /* where the row's int64_t id is */
	void (*defaults)(void *row);
	bool (*apply)(json_t *obj, void *row, bool partial,
		      struct mapping_error *err);
	/*
	 * Reads row id into row.  With out, also sets *out to its object
	 * (NULL when out of memory); with version, sets *version to the
	 * table version it read at.
	 */
	int (*read)(const struct routes_rows *res, struct control *ctl,
		    int64_t id, void *row, json_t **out, uint64_t *version,
		    struct mapping_error *err);
	/* Creates (create) or updates row under cond; a creation sets its id. */
	int (*write)(const struct routes_rows *res, struct control *ctl,
		     void *row, bool create, struct control_cond *cond,
		     struct mapping_error *err);
	int (*remove)(const struct routes_rows *res, struct control *ctl,
		      int64_t id, struct control_cond *cond,
		      struct mapping_error *err);
};

/*
 * The handlers of one row: POST to the collection, GET, PUT (partial
 * false: from the defaults) or PATCH (partial true: from the stored row),
 * and DELETE of {id}.  Each fills r with the answer, errors included.
 */
void routes_row_create(struct routes_call *c, struct routes_reply *r,
		       const struct routes_rows *res, void *row);
void routes_row_get(struct routes_call *c, struct routes_reply *r,
		    const struct routes_rows *res, void *row);
void routes_row_write(struct routes_call *c, struct routes_reply *r,
		      const struct routes_rows *res, void *row, bool partial);
void routes_row_delete(struct routes_call *c, struct routes_reply *r,
		       const struct routes_rows *res);

/*
 * Answers with row id as the resource now shows it, for a handler that
 * wrote it some other way.  After a write the ETag is the version that
 * write made (version); a read passes 0 and takes the version it read at.
 * A write that is stored but not live passes its 503 in stored, and the
 * row goes with the error.
 */
void routes_row_reply(const struct routes_call *c, struct routes_reply *r,
		      const struct routes_rows *res, void *row, int64_t id,
		      unsigned status, uint64_t version,
		      const struct mapping_error *stored);

/* True for control's 503: the write happened, but is not live yet. */
bool routes_stored(const struct mapping_error *err);

/*
 * Parses an If-Match header value into cond.  NULL (no header) and "*"
 * leave cond->n at 0: any version will do.  Otherwise each entity tag of
 * the list ("N" or W/"N") goes into cond->match; a weak tag, or one that
 * is not a decimal version, is kept as 0, which no table version equals.
 * Returns false for a malformed list or one of more than CONTROL_MATCH_MAX
 * tags.  Pure.
 */
bool routes_parse_if_match(const char *header, struct control_cond *cond);

#endif
