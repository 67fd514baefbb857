/*
 * api: the embedded HTTP server (the only module that includes
 * microhttpd.h).  It gathers request bodies, answers what is HTTP's own
 * business (404, 405, 413, 415, static files) and passes every API request
 * to the route that routes.c's table finds for it.
 */
#ifndef PORTSHARE_API_H
#define PORTSHARE_API_H

#include <stdbool.h>
#include <stddef.h>

struct control;
struct api;

/*
 * Starts listening on listen ("127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80")
 * with libmicrohttpd's own polling thread and serves static files from
 * webdir for non-API paths.  Returns NULL with errbuf filled on failure.
 */
struct api *api_start(const char *listen, struct control *ctl,
		      const char *webdir, char *errbuf, size_t errlen);
void api_stop(struct api *api);

/*
 * Checks a listen address and a web directory the way api_start would use
 * them, without listening.  Returns false with errbuf filled.
 */
bool api_check(const char *listen, const char *webdir, char *errbuf,
	       size_t errlen);

#endif
