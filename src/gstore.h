/*
 * gstore: the application groups on disk, in the store's sqlite database
 * (tables groups, backends and rules of sql/002_groups.sql).  It converts
 * rows to and from the plain structs groups_build takes and checks no more
 * than a row needs to be converted; the whole configuration is checked by
 * gctl.  Addresses are stored in their inet_ntop form, so a reload gives
 * the very bytes that were written.  Not thread-safe: the control module
 * serialises every call, as it does for store.
 */
#ifndef PORTSHARE_GSTORE_H
#define PORTSHARE_GSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "groups.h"

struct store;

/* The three tables, each ordered by id, in malloc'd arrays. */
struct gstore_all {
	struct groups_group *groups;
	size_t ngroups;
	struct groups_backend *backends; /* b.active and b.flows NULL */
	size_t nbackends;
	struct groups_rule *rules;
	size_t nrules;
};

/*
 * Loads every group, backend and rule into *out (counters NULL).  Returns
 * 0, or -1 with errbuf filled and *out empty, also for a row whose values
 * cannot be converted (edited by hand).
 */
int gstore_load(struct store *st, struct gstore_all *out, char *errbuf,
		size_t errlen);
/* Frees the arrays (not the counters they point at) and empties a. */
void gstore_all_free(struct gstore_all *a);

/*
 * Writers.  An insert ignores the row's id, sets it to the new one (never
 * one used before) and returns 0 or -1.  Updates and deletes return 0, 1
 * when no row has that id, or -1.  Deleting a group deletes its backends
 * and rules.  -1 comes with errbuf filled, also when a constraint of the
 * schema refuses the row.
 */
int gstore_group_insert(struct store *st, struct groups_group *gr,
			char *errbuf, size_t errlen);
int gstore_group_update(struct store *st, const struct groups_group *gr,
			char *errbuf, size_t errlen);
int gstore_group_delete(struct store *st, int64_t id, char *errbuf,
			size_t errlen);

/* The backend's id is b->b.id. */
int gstore_backend_insert(struct store *st, struct groups_backend *b,
			  char *errbuf, size_t errlen);
int gstore_backend_update(struct store *st, const struct groups_backend *b,
			  char *errbuf, size_t errlen);
int gstore_backend_delete(struct store *st, int64_t id, char *errbuf,
			  size_t errlen);

int gstore_rule_insert(struct store *st, struct groups_rule *r, char *errbuf,
		       size_t errlen);
int gstore_rule_update(struct store *st, const struct groups_rule *r,
		       char *errbuf, size_t errlen);
int gstore_rule_delete(struct store *st, int64_t id, char *errbuf,
		       size_t errlen);

#endif
