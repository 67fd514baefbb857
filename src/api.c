/*
 * api: the HTTP server in front of the REST API and the static dashboard,
 * built on libmicrohttpd.
 *
 * DESIGN
 * api_open runs on the main thread before the privilege drop: it binds
 * the listening socket and reads the token and the TLS files, which may
 * need privileges the daemon then gives up.  api_start hands the socket to
 * libmicrohttpd, which runs a pool of API_THREADS threads; every callback
 * in this file runs on one of them, each connection on one thread at a
 * time.  The callbacks share only struct api, which is read-only once
 * api_start returns, so nothing here needs a lock.
 *
 * A request is judged as soon as its headers are in, on the first call of
 * the access handler: routes_begin decides the route, the method, the
 * token and a declared Content-Length, and a request that fails any of
 * them is answered at once, without reading its body.  Otherwise the body
 * is gathered across calls into the connection's struct api_request (never
 * more than the route's limit), which the completion callback frees, and
 * routes_run answers once it is complete.  Paths outside the API are
 * static files.  api_send alone turns a reply into HTTP, so status,
 * headers and the error shape are decided in one place.
 *
 * Limits, so that no client can exhaust the daemon: at most
 * API_CONNECTION_LIMIT connections, API_PER_IP_LIMIT from one address, an
 * idle connection closed after API_TIMEOUT_SECONDS, bodies over the
 * route's limit refused (413), and JSON deeper than MAPJSON_MAX_DEPTH
 * refused before it is parsed.  A body that is refused is never kept; once
 * more than the limit of it has been read past, the connection is closed.
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
#include "auth.h"
#include "log.h"
#include "routes.h"
#include "util.h"

#define API_CONNECTION_LIMIT 256
#define API_PER_IP_LIMIT 64
#define API_TIMEOUT_SECONDS 10
#define API_THREADS 4
/* A certificate chain or key larger than this is not one. */
#define API_PEM_MAX (1024 * 1024)

struct api {
	struct MHD_Daemon *daemon;
	struct control *ctl;
	int listenfd; /* bound by api_open; libmicrohttpd's once it started */
	int webfd;    /* the static files' directory, -1 when there is none */
	char listen[64];
	char token_file[4096];
	char token[AUTH_TOKEN_MAX];
	char *tls_cert, *tls_key; /* PEM text; libmicrohttpd reads them at start */
	size_t tls_key_len;
};

/* One per request, created on the first call of the access handler. */
struct api_request {
	char *body;
	size_t len, cap;
	size_t max;       /* the route's body limit */
	size_t skipped;   /* bytes read and dropped */
	bool too_large;   /* the body passes max: what is read is dropped */
	bool answered;    /* answered from the headers: the body is dropped */
	bool is_static;   /* a path outside the API: a file of the web directory */
};

/* ---- replies ---------------------------------------------------------- */

static void api_header(struct MHD_Response *resp, const char *name,
		       const char *value)
{
	if (MHD_add_response_header(resp, name, value) != MHD_YES)
		log_warnx("api: cannot add header %s", name);
}

static enum MHD_Result api_file(struct api *api, struct MHD_Connection *conn,
				const char *path);

/* Consumes r's body or text.  Returns what MHD_queue_response returns. */
static enum MHD_Result api_send(struct api *api, struct MHD_Connection *conn,
				struct routes_reply *r)
{
	static char oom[] = "{\"error\":{\"code\":\"out_of_memory\","
			    "\"message\":\"out of memory\",\"field\":null}}";
	const char *type = "application/json";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = r->text;

	r->text = NULL;
	if (r->file != NULL && r->status == MHD_HTTP_OK)
		return api_file(api, conn, r->file);
	routes_reply_stamp(r, api->ctl);
	if (text != NULL)
		type = r->content_type != NULL ? r->content_type
					       : "text/plain; charset=utf-8";
	else if (r->body != NULL)
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
		r->location[0] = '\0';
		resp = MHD_create_response_from_buffer(strlen(oom), oom,
						       MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	if (r->status != MHD_HTTP_NO_CONTENT)
		api_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	api_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->etag[0] != '\0')
		api_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
	if (r->location[0] != '\0')
		api_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->allow[0] != '\0')
		api_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->challenge)
		api_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			   "Bearer realm=\"portshare\"");
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
			     char *errbuf, size_t errlen)
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
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
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

/* Answers with path, a file inside the web directory, or with a 404. */
static enum MHD_Result api_file(struct api *api, struct MHD_Connection *conn,
				const char *path)
{
	struct routes_reply r = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	struct stat sb;
	int fd = -1;

	if (api->webfd >= 0)
		fd = openat(api->webfd, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		routes_reply_error(&r, 404, "not_found", NULL, "no such file");
		return api_send(api, conn, &r);
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
	/*
	 * The dashboard loads nothing but its own files and talks only to
	 * this origin; the policy makes the browser hold it to that, so even
	 * markup slipped into the page could neither run a script nor send
	 * data elsewhere.
	 */
	api_header(resp, "Content-Security-Policy",
		   "default-src 'self'; img-src 'self' data:; object-src 'none'; "
		   "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
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
	char path[1024];

	while (*url == '/')
		url++;
	for (const char *seg = url; *seg != '\0'; seg += strcspn(seg, "/")) {
		seg += strspn(seg, "/");
		if (*seg == '.') {
			routes_reply_error(&r, 403, "forbidden", NULL,
					   "path segments must not start with '.'");
			return api_send(api, conn, &r);
		}
	}
	if ((size_t)snprintf(path, sizeof(path), "%s%s", url,
			     url[0] == '\0' || url[strlen(url) - 1] == '/'
				     ? "index.html" : "") >= sizeof(path)) {
		routes_reply_error(&r, 404, "not_found", NULL, "no such file");
		return api_send(api, conn, &r);
	}
	return api_file(api, conn, path);
}

/* ---- dispatch --------------------------------------------------------- */

static bool api_is_api_path(const char *url)
{
	return strcmp(url, "/api") == 0 || strncmp(url, "/api/", 5) == 0;
}

/* Lets routes.c read the query string without seeing libmicrohttpd. */
static const char *api_query(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

static const char *api_header_value(struct MHD_Connection *conn,
				    const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* What routes.c sees of a request; body as gathered so far. */
static struct routes_request api_routes_request(struct api *api,
						struct MHD_Connection *conn,
						const struct api_request *req)
{
	return (struct routes_request){
		.ctl = api->ctl,
		.body = req->body,
		.body_len = req->len,
		.body_too_large = req->too_large,
		.content_type = api_header_value(conn, MHD_HTTP_HEADER_CONTENT_TYPE),
		.authorization = api_header_value(conn, MHD_HTTP_HEADER_AUTHORIZATION),
		.if_match = api_header_value(conn, MHD_HTTP_HEADER_IF_MATCH),
		.token = api->token,
		.query = api_query,
		.query_cls = conn,
	};
}

/*
 * The first call of the access handler: the headers are in, the body is
 * not.  Answers at once what needs no body, so that a client is not kept
 * uploading for nothing.
 */
static enum MHD_Result api_begin(struct api *api, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 struct api_request *req)
{
	const char *cl = api_header_value(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct routes_request call;
	struct routes_reply r = { 0 };
	struct routes_match m;
	uint64_t len;

	routes_find(method, url, &m);
	req->max = m.body_max;
	req->too_large = cl != NULL && !routes_parse_uint(cl, req->max, &len);
	if (m.route == NULL && m.allow[0] == '\0' && !api_is_api_path(url)) {
		req->is_static = true;
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			return MHD_YES;
		snprintf(r.allow, sizeof(r.allow), "GET, HEAD");
		routes_reply_error(&r, 405, "method_not_allowed", NULL,
				   "static files only answer GET and HEAD");
	} else {
		call = api_routes_request(api, conn, req);
		if (routes_begin(&m, method, &call, &r))
			return MHD_YES;
	}
	req->answered = true;
	return api_send(api, conn, &r);
}

/* The body is complete: answers the request. */
static enum MHD_Result api_dispatch(struct api *api, struct MHD_Connection *conn,
				    const char *url, const char *method,
				    const struct api_request *req)
{
	struct routes_request call = api_routes_request(api, conn, req);
	struct routes_reply r = { 0 };
	struct routes_match m;

	if (req->is_static)
		return api_static(api, conn, url);
	routes_find(method, url, &m);
	routes_run(&m, &call, &r);
	return api_send(api, conn, &r);
}

/*
 * Keeps the body up to the route's limit.  Past it, and for a request
 * already answered, it only counts what it drops.
 */
static void api_request_append(struct api_request *req, const char *data,
			       size_t size)
{
	size_t cap = req->cap;
	char *body;

	if (!req->answered && !req->is_static && !req->too_large &&
	    size > req->max - req->len)
		req->too_large = true;
	if (req->answered || req->is_static || req->too_large) {
		req->skipped += size;
		return;
	}
	while (cap < req->len + size)
		cap = cap != 0 ? cap * 2 : 1024;
	if (cap > req->max)
		cap = req->max;
	if (cap != req->cap) {
		body = realloc(req->body, cap);
		if (body == NULL) {
			/* Refusing the body is the only answer that needs no memory. */
			req->too_large = true;
			req->skipped += size;
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

	(void)version;
	if (req == NULL) {
		req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		*con_cls = req;
		return api_begin(api, conn, url, method, req);
	}
	if (*upload_data_size != 0) {
		api_request_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/*
		 * A body that is only dropped is read no longer than its limit
		 * again: closing the connection ends an upload that would
		 * otherwise keep a thread busy for nothing.
		 */
		return req->skipped > req->max ? MHD_NO : MHD_YES;
	}
	if (req->answered)
		return MHD_YES;
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

/*
 * Reads a PEM file of at most API_PEM_MAX bytes into a NUL-terminated
 * malloc'd buffer.  Returns it, or NULL with errbuf filled.
 */
static char *api_read_pem(const char *path, const char *what, size_t *lenp,
			  char *errbuf, size_t errlen)
{
	char *buf = NULL;
	struct stat sb;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) < 0) {
		snprintf(errbuf, errlen, "TLS %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 || sb.st_size > API_PEM_MAX) {
		snprintf(errbuf, errlen, "TLS %s %s: not a PEM file of 1 to %d bytes",
			 what, path, API_PEM_MAX);
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		goto out;
	}
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(errbuf, errlen, "TLS %s %s: %s", what, path,
				 n < 0 ? strerror(errno) : "shorter than it was");
			free(buf);
			buf = NULL;
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Frees a key after wiping it, so it does not linger in freed memory. */
static void api_free_secret(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	explicit_bzero(buf, len);
	free(buf);
}

/*
 * Loads the TLS certificate and key named in cfg into api, when there
 * are any.  Returns 0, or -1 with errbuf filled.
 */
static int api_load_tls(struct api *api, const struct api_config *cfg,
			char *errbuf, size_t errlen)
{
	size_t len;

	if (cfg->tls_cert == NULL && cfg->tls_key == NULL)
		return 0;
	if (cfg->tls_cert == NULL || cfg->tls_key == NULL) {
		snprintf(errbuf, errlen, "--tls-cert and --tls-key go together");
		return -1;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(errbuf, errlen, "TLS was asked for, but this libmicrohttpd "
			 "was built without TLS support");
		return -1;
	}
	api->tls_cert = api_read_pem(cfg->tls_cert, "certificate", &len, errbuf,
				     errlen);
	if (api->tls_cert == NULL)
		return -1;
	api->tls_key = api_read_pem(cfg->tls_key, "key", &api->tls_key_len,
				    errbuf, errlen);
	return api->tls_key != NULL ? 0 : -1;
}

/*
 * Reads the API token into api->token, creating the token file on first
 * start unless check_only.  Returns 0, or -1 with errbuf filled.
 */
static int api_load_token(struct api *api, const struct api_config *cfg,
			  bool check_only, char *errbuf, size_t errlen)
{
	char *path = api->token_file;
	size_t len = sizeof(api->token_file);
	bool created;
	struct stat sb;

	if (cfg->token_file != NULL ? (size_t)snprintf(path, len, "%s", cfg->token_file) >= len
				    : !auth_default_path(cfg->db, path, len)) {
		snprintf(errbuf, errlen, "the token file path is too long");
		return -1;
	}
	if (check_only && stat(path, &sb) < 0 && errno == ENOENT)
		return 0;
	if (auth_load(path, api->token, &created, errbuf, errlen) < 0)
		return -1;
	if (created)
		log_info("created the API token file %s", path);
	return 0;
}

/*
 * Binds and listens on ss: the socket libmicrohttpd is then given.  A
 * restart finds the port free at once (SO_REUSEADDR), and an IPv6 address
 * also takes IPv4 when it is the wildcard.  Returns 0, or -1 with errbuf
 * filled.
 */
static int api_listen(struct api *api, const struct sockaddr_storage *ss,
		      char *errbuf, size_t errlen)
{
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	int one = 1, zero = 0;

	api->listenfd = socket(ss->ss_family,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (api->listenfd < 0 ||
	    setsockopt(api->listenfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(api->listenfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) ||
	    bind(api->listenfd, (const struct sockaddr *)ss, len) < 0 ||
	    listen(api->listenfd, SOMAXCONN) < 0) {
		snprintf(errbuf, errlen, "cannot listen on %s: %s", api->listen,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Frees whatever api holds; api may be half set up. */
static void api_free(struct api *api)
{
	if (api->listenfd >= 0)
		close(api->listenfd);
	if (api->webfd >= 0)
		close(api->webfd);
	free(api->tls_cert);
	api_free_secret(api->tls_key, api->tls_key_len);
	explicit_bzero(api->token, sizeof(api->token));
	free(api);
}

/*
 * Sets up everything api_start needs, listening included unless
 * check_only.  Returns api, or NULL with errbuf filled.
 */
static struct api *api_prepare(const struct api_config *cfg, bool check_only,
			       char *errbuf, size_t errlen)
{
	struct sockaddr_storage ss;
	struct api *api;

	if (!api_parse_listen(cfg->listen, &ss, errbuf, errlen))
		return NULL;
	api = calloc(1, sizeof(*api));
	if (api == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	api->listenfd = -1;
	api->webfd = -1;
	snprintf(api->listen, sizeof(api->listen), "%s", cfg->listen);
	if (cfg->webdir != NULL) {
		api->webfd = open(cfg->webdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (api->webfd < 0) {
			snprintf(errbuf, errlen, "web directory %s: %s", cfg->webdir,
				 strerror(errno));
			goto err;
		}
	}
	if (api_load_token(api, cfg, check_only, errbuf, errlen) < 0 ||
	    api_load_tls(api, cfg, errbuf, errlen) < 0 ||
	    (!check_only && api_listen(api, &ss, errbuf, errlen) < 0))
		goto err;
	return api;
err:
	api_free(api);
	return NULL;
}

bool api_check(const struct api_config *cfg, char *errbuf, size_t errlen)
{
	struct api *api = api_prepare(cfg, true, errbuf, errlen);

	if (api == NULL)
		return false;
	api_free(api);
	return true;
}

struct api *api_open(const struct api_config *cfg, char *errbuf, size_t errlen)
{
	return api_prepare(cfg, false, errbuf, errlen);
}

const char *api_token_file(const struct api *api)
{
	return api->token_file;
}

int api_start(struct api *api, struct control *ctl, char *errbuf, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	api->ctl = ctl;
	if (api->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
						  api->tls_key };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
						  api->tls_cert };
	}
	api->daemon = MHD_start_daemon(flags, 0, NULL, NULL, api_access, api,
		MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)api->listenfd,
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
		/* Empty (just its end) unless TLS was asked for. */
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_END);
	/*
	 * libmicrohttpd owns the socket from here on: it closes it when it
	 * stops, and also when it fails to start.
	 */
	api->listenfd = -1;
	if (api->daemon == NULL) {
		snprintf(errbuf, errlen, "cannot serve HTTP%s on %s (see the log for why)",
			 api->tls_cert != NULL ? "S" : "", api->listen);
		return -1;
	}
	return 0;
}

void api_stop(struct api *api)
{
	if (api == NULL)
		return;
	if (api->daemon != NULL)
		MHD_stop_daemon(api->daemon);
	api_free(api);
}
