/*
 * fanroutes: the handlers of UDP fan-out's resources: /api/v1/contested
 * (the contested ports) and /api/v1/subscribers (who gets copies of their
 * datagrams).  routes.c's table dispatches to them once the shared rules
 * (token, body, {id}, If-Match) have passed; they reach fan-out only
 * through control_fanout_read and control_fanout_write, which run fctl
 * under the control plane's lock.
 */
#ifndef PORTSHARE_FANROUTES_H
#define PORTSHARE_FANROUTES_H

#include "routes.h"

routes_handler fanroutes_port_list, fanroutes_port_create, fanroutes_port_get,
	fanroutes_port_put, fanroutes_port_patch, fanroutes_port_delete;

routes_handler fanroutes_sub_list, fanroutes_sub_create, fanroutes_sub_get,
	fanroutes_sub_put, fanroutes_sub_patch, fanroutes_sub_delete;

#endif
