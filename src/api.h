/*
 * api: the embedded HTTP server (the only module that includes
 * microhttpd.h).  It gathers request bodies, answers what is HTTP's own
 * business (404, 405, static files), holds the API token and the TLS
 * credentials, and passes every API request to routes.c, which decides
 * everything else.
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
 * Reads the token (creating the token file on first start) and the TLS
 * files, then listens on cfg->listen with libmicrohttpd's own threads and
 * serves static files from cfg->webdir for paths outside the API.  Returns
 * NULL with errbuf filled on failure, including TLS asked of a
 * libmicrohttpd built without it.
 */
struct api *api_start(const struct api_config *cfg, struct control *ctl,
		      char *errbuf, size_t errlen);
void api_stop(struct api *api);

/*
 * Checks cfg the way api_start would use it, without listening and
 * without creating the token file (an existing one is read and checked).
 * Returns false with errbuf filled.
 */
bool api_check(const struct api_config *cfg, char *errbuf, size_t errlen);

#endif
