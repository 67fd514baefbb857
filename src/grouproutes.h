/*
 * grouproutes: the handlers of virtual port multiplexing's resources:
 * /api/v1/groups, /api/v1/backends (with drain and undrain),
 * /api/v1/rules and /api/v1/flows.  routes.c's table dispatches to them
 * once the shared rules (token, body, {id}, If-Match) have passed; they
 * reach the groups only through control_groups_read and
 * control_groups_write, which run gctl under the control plane's lock.
 */
#ifndef PORTSHARE_GROUPROUTES_H
#define PORTSHARE_GROUPROUTES_H

#include "routes.h"

routes_handler grouproutes_group_list, grouproutes_group_create,
	grouproutes_group_get, grouproutes_group_put, grouproutes_group_patch,
	grouproutes_group_delete;

routes_handler grouproutes_backend_list, grouproutes_backend_create,
	grouproutes_backend_get, grouproutes_backend_put,
	grouproutes_backend_patch, grouproutes_backend_delete,
	grouproutes_backend_drain, grouproutes_backend_undrain;

routes_handler grouproutes_rule_list, grouproutes_rule_create,
	grouproutes_rule_get, grouproutes_rule_put, grouproutes_rule_patch,
	grouproutes_rule_delete;

routes_handler grouproutes_flow_list, grouproutes_flow_flush;

#endif
