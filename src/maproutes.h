/*
 * maproutes: the handlers of the port-sharing table's resources,
 * /api/v1/mappings (one mapping at a time) and /api/v1/config (the whole
 * table at once).  routes.c's table dispatches to them once the shared
 * rules (token, body, {id}, If-Match) have passed.
 */
#ifndef PORTSHARE_MAPROUTES_H
#define PORTSHARE_MAPROUTES_H

#include "routes.h"

routes_handler maproutes_list, maproutes_create, maproutes_get, maproutes_put,
	maproutes_patch, maproutes_delete, maproutes_config_get,
	maproutes_config_put;

#endif
