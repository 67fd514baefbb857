/*
 * routes: the REST resources.  One table lists every route (method, path
 * pattern, handler, summary); it finds the handler for a request, gives the
 * Allow list for a 405, and is what GET /api/v1/routes shows.  Requests and
 * replies are described here without any HTTP library, so this module never
 * sees libmicrohttpd: api.c fills a routes_request and turns a routes_reply
 * into HTTP.  Handlers reach the port-sharing table only through control.h.
 * A new resource is a set of handlers plus their rows in the table.
 */
#ifndef PORTSHARE_ROUTES_H
#define PORTSHARE_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Room for an Allow list such as "GET, PUT, PATCH, DELETE" and its NUL. */
#define ROUTES_ALLOW_LEN 64

struct control;
struct routes_route;

/* Returns the value of query parameter name, or NULL when it is absent. */
typedef const char *routes_query_fn(void *cls, const char *name);

/* What a handler gets to see of a request; the caller owns every pointer. */
struct routes_request {
	struct control *ctl;
	const char *body;       /* the raw request body, NULL when empty */
	size_t body_len;
	routes_query_fn *query;
	void *query_cls;        /* passed to query as cls */
};

/*
 * What a handler answers.  The reply owns body.  A NULL body with a status
 * other than 204 means building the body ran out of memory.  An empty
 * string leaves its header out.
 */
struct routes_reply {
	unsigned status;
	json_t *body;
	char location[64];
	char etag[32];
	char allow[ROUTES_ALLOW_LEN];
};

/* The outcome of routes_find. */
struct routes_match {
	const struct routes_route *route; /* NULL when no route took the request */
	bool json_body;         /* the route's body must be application/json */
	const char *param;      /* the path's {id} segment, NULL without one */
	size_t param_len;
	char allow[ROUTES_ALLOW_LEN]; /* with no route: the methods the path takes */
};

/*
 * Looks up method and path in the table, treating HEAD as GET.  Returns
 * true with m->route set when a route takes the request.  Returns false
 * with m->route NULL otherwise, and m->allow lists the methods the path
 * does take: a non-empty list calls for a 405, an empty one for a 404 (or,
 * outside the API, for the static files).  Pure: no I/O.
 */
bool routes_find(const char *method, const char *path, struct routes_match *m);

/*
 * Runs the route m found for req and fills r, which must start zeroed.
 * A malformed {id} is answered with 404 before the handler runs.  Every
 * outcome, errors included, is a reply; nothing is returned.
 */
void routes_run(const struct routes_match *m, const struct routes_request *req,
		struct routes_reply *r);

/*
 * Replaces r's body with the API's error object {"error": {"code",
 * "message", "field"}} and sets status; drops Location and ETag but keeps
 * Allow, which a 405 needs.  field may be NULL or "" when none applies.
 */
void routes_reply_error(struct routes_reply *r, unsigned status,
			const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Strict decimal: digits only, no sign, no blanks, at most max.  Returns
 * false for anything else.  Every number the API reads (query parameters,
 * Content-Length, the listen port) goes through it, so all obey one rule.
 */
bool routes_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif
