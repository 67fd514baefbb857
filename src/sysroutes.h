/*
 * sysroutes: the handlers that describe the daemon rather than the table:
 * /healthz, /api/v1/status, /metrics and the OpenAPI document.  routes.c's
 * table dispatches to them.
 */
#ifndef PORTSHARE_SYSROUTES_H
#define PORTSHARE_SYSROUTES_H

#include "routes.h"

routes_handler sysroutes_health, sysroutes_status, sysroutes_metrics,
	sysroutes_openapi;

#endif
