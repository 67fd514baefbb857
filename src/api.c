/*
 * api: the HTTP server in front of the REST API and the static dashboard,
 * built on libmicrohttpd.
 *
 * DESIGN
 * libmicrohttpd runs one internal polling thread and every callback in this
 * file runs on it, one request at a time, so nothing here needs a lock.  The
 * callbacks share only struct api, which is read-only once api_start
 * returns.  A request body is gathered across calls of the access handler
 * into the connection's struct api_request (never more than API_BODY_MAX
 * bytes), which the completion callback frees.  With the body complete,
 * routes.c's table picks the route; this file answers what is HTTP's
 * business (404, 405, 413, 415, static files) and otherwise hands a
 * library-neutral routes_request to the route's handler, which fills a
 * routes_reply.  api_send alone turns a reply into HTTP, so status, headers
 * and the error shape are decided in one place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api.h"
#include "log.h"
#include "routes.h"

#define API_BODY_MAX (64 * 1024)
#define API_CONNECTION_LIMIT 256
#define API_PER_IP_LIMIT 64
#define API_TIMEOUT_SECONDS 10
#define API_THREADS 4

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

/* ---- replies ---------------------------------------------------------- */

static void api_header(struct MHD_Response *resp, const char *name,
		       const char *value)
{
	if (MHD_add_response_header(resp, name, value) != MHD_YES)
		log_warnx("api: cannot add header %s", name);
}

/* Consumes r->body.  Returns what MHD_queue_response returns. */
static enum MHD_Result api_send(struct MHD_Connection *conn,
				struct routes_reply *r)
{
	static char oom[] = "{\"error\":{\"code\":\"out_of_memory\","
			    "\"message\":\"out of memory\",\"field\":null}}";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = NULL;

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
		r->etag[0] = '\0';
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
	if (r->etag[0] != '\0')
		api_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
	if (r->location[0] != '\0')
		api_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->allow[0] != '\0')
		api_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- listen address --------------------------------------------------- */

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
	    !routes_parse_uint(colon + 1, 65535, &p) || p == 0)
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
	struct routes_reply r = { 0 };
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
			routes_reply_error(&r, 403, "forbidden", NULL,
					   "path segments must not start with '.'");
			return api_send(conn, &r);
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
	routes_reply_error(&r, 404, "not_found", NULL, "no such file");
	return api_send(conn, &r);
}

/* ---- dispatch --------------------------------------------------------- */

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

/* Lets routes.c read the query string without seeing libmicrohttpd. */
static const char *api_query(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result api_dispatch(struct api *api, struct MHD_Connection *conn,
				    const char *url, const char *method,
				    const struct api_request *req)
{
	struct routes_request call = { .ctl = api->ctl, .body = req->body,
				       .body_len = req->len, .query = api_query,
				       .query_cls = conn };
	struct routes_reply r = { 0 };
	struct routes_match m;

	if (!routes_find(method, url, &m) && m.allow[0] != '\0') {
		memcpy(r.allow, m.allow, sizeof(r.allow));
		routes_reply_error(&r, 405, "method_not_allowed", NULL,
				   "%s is not allowed here; use %s", method,
				   r.allow);
	} else if (m.route == NULL && api_is_api_path(url)) {
		routes_reply_error(&r, 404, "not_found", NULL, "no such route");
	} else if (m.route == NULL && strcmp(method, "GET") != 0 &&
		   strcmp(method, "HEAD") != 0) {
		snprintf(r.allow, sizeof(r.allow), "GET, HEAD");
		routes_reply_error(&r, 405, "method_not_allowed", NULL,
				   "static files only answer GET and HEAD");
	} else if (m.route == NULL) {
		return api_static(api, conn, url);
	} else if (req->too_large) {
		routes_reply_error(&r, 413, "body_too_large", NULL,
				   "the request body exceeds %d bytes",
				   API_BODY_MAX);
	} else if (m.json_body &&
		   !api_is_json(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_CONTENT_TYPE))) {
		routes_reply_error(&r, 415, "unsupported_media_type", NULL,
				   "the request body must be sent as application/json");
	} else {
		routes_run(&m, &call, &r);
	}
	return api_send(conn, &r);
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
		if (cl != NULL && !routes_parse_uint(cl, API_BODY_MAX, &len)) {
			struct routes_reply r = { 0 };

			routes_reply_error(&r, 413, "body_too_large", NULL,
					   "the request body exceeds %d bytes",
					   API_BODY_MAX);
			return api_send(conn, &r);
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

bool api_check(const char *listen, const char *webdir, char *errbuf,
	       size_t errlen)
{
	struct sockaddr_storage ss;
	uint16_t port;
	int fd;

	if (!api_parse_listen(listen, &ss, &port, errbuf, errlen))
		return false;
	if (webdir == NULL)
		return true;
	fd = open(webdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(errbuf, errlen, "web directory %s: %s", webdir, strerror(errno));
		return false;
	}
	close(fd);
	return true;
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
		/*
		 * A few threads, so that one request waiting on DNS (a
		 * mapping by name) or on the control lock does not stall
		 * /healthz and the dashboard.
		 */
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)API_THREADS,
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
