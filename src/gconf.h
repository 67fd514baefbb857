/*
 * gconf: the application groups' configuration as the control plane holds
 * it (struct gstore_all: groups, backends and rules, each array ordered by
 * id), the edits a write makes to a copy of it, and the rules a change must
 * keep on top of what groups_build checks: a group's name and aid, unique
 * group names, one default group per service key, unique backend ports in
 * a group, backends and rules naming a group that exists.  Pure: it
 * allocates, but makes no system call and logs nothing, so the checks are
 * the same whoever runs them.
 */
#ifndef PORTSHARE_GCONF_H
#define PORTSHARE_GCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gstore.h"
#include "mapping.h"

/* The index of the row with this id, or -1.  O(log n). */
ssize_t gconf_group_index(const struct gstore_all *a, int64_t id);
ssize_t gconf_backend_index(const struct gstore_all *a, int64_t id);
ssize_t gconf_rule_index(const struct gstore_all *a, int64_t id);

/*
 * Copies a into out (the rows only: counter pointers are shared) with room
 * for one more row of each kind.  Returns 0, or -1 when out of memory with
 * out empty.  Free out with gstore_all_free.
 */
int gconf_copy(const struct gstore_all *a, struct gstore_all *out);

/*
 * An id for a row about to be created, for checking it before the store
 * gives it its own: one past the last.  The store never gives a lower one
 * (AUTOINCREMENT), so the row stays last and every tie-break by id comes
 * out the same.
 */
int64_t gconf_next_group_id(const struct gstore_all *a);
int64_t gconf_next_backend_id(const struct gstore_all *a);
int64_t gconf_next_rule_id(const struct gstore_all *a);

/* Removes group i with its backends and rules, as the store's cascade does. */
void gconf_group_remove(struct gstore_all *a, size_t i);
void gconf_backend_remove(struct gstore_all *a, size_t i);
void gconf_rule_remove(struct gstore_all *a, size_t i);

/*
 * Check row i of a against its own rules and the other rows.  Return true,
 * or false with err filled: 422 for a bad name or aid (field "name",
 * "aid") or an unknown group (field "group", code "unknown_group"), 409
 * "conflict" for a name another group has (field "name"), a second default
 * for one (address, port, protocol) (field "is_default") or a port another
 * backend of the group has (field "port").
 */
bool gconf_check_group(const struct gstore_all *a, size_t i,
		       struct mapping_error *err);
bool gconf_check_backend(const struct gstore_all *a, size_t i,
			 struct mapping_error *err);
bool gconf_check_rule(const struct gstore_all *a, size_t i,
		      struct mapping_error *err);

/*
 * Checks a as a whole with groups_build, which is what the workers would
 * get.  Returns true, or false with err filled: 422 "invalid" with
 * groups_build's message, or 500 when out of memory.
 */
bool gconf_check_all(const struct gstore_all *a, struct mapping_error *err);

/*
 * The distinct virtual ports of the groups and backend ports of the
 * backends, ascending, in malloc'd arrays the caller frees.  Returns 0, or
 * -1 when out of memory.
 */
int gconf_ports(const struct gstore_all *a, uint16_t **vports, size_t *nv,
		uint16_t **bports, size_t *nb);

#endif
