/*
 * api: the embedded HTTP server (the only module that includes
 * microhttpd.h).  It gathers request bodies, serves the static files,
 * holds the listening socket, the API token and the TLS credentials, and
 * passes every API request to routes.c, which decides everything else.
 */
#ifndef PORTSHARE_API_H
#define PORTSHARE_API_H

#include <stdbool.h>
#include <stddef.h>

struct control;
struct api;

/* How to serve; the caller owns every string. */
struct api_config {
	const char *listen;     /* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80" */
	const char *webdir;     /* the static files, NULL for none */
	const char *token_file; /* NULL: api.token in the directory of db */
	const char *db;         /* the database path */
	const char *tls_cert;   /* PEM certificate chain, NULL for plain HTTP */
	const char *tls_key;    /* its PEM private key; both or neither */
};

/*
 * Does everything that may need privileges, before the daemon drops them:
 * reads the token (creating the token file on first start) and the TLS
 * files, opens the web directory, and binds and listens on cfg->listen, so
 * that a port below 1024 needs CAP_NET_BIND_SERVICE only here.  Starts no
 * thread.  Returns NULL with errbuf filled on failure, including TLS asked
 * of a libmicrohttpd built without it.
 */
struct api *api_open(const struct api_config *cfg, char *errbuf, size_t errlen);

/* The token file api_open read or created. */
const char *api_token_file(const struct api *api);

/*
 * Starts serving on the socket api_open bound, with libmicrohttpd's own
 * threads; static files come from cfg->webdir for paths outside the API.
 * Returns 0, or -1 with errbuf filled.
 */
int api_start(struct api *api, struct control *ctl, char *errbuf, size_t errlen);

/* Stops serving (if api_start ran), closes the socket and frees api (may be NULL). */
void api_stop(struct api *api);

/*
 * Checks cfg the way api_open would use it, without listening and without
 * creating the token file (an existing one is read and checked).  Returns
 * false with errbuf filled.
 */
bool api_check(const struct api_config *cfg, char *errbuf, size_t errlen);

#endif
