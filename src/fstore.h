/*
 * fstore: UDP fan-out on disk, in the store's sqlite database (tables
 * contested and subscribers of sql/003_fanout.sql).  It converts rows to
 * and from fctl's plain structs and checks no more than a row needs to be
 * converted; the whole configuration is checked by fctl.  Addresses are
 * stored in their inet_ntop form, so a reload gives the very bytes that
 * were written; a framed_unix subscriber's address column holds its
 * socket path.  Not thread-safe: the control module serialises every
 * call, as it does for store.
 */
#ifndef PORTSHARE_FSTORE_H
#define PORTSHARE_FSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "fctl.h"

struct store;

/* The two tables, each ordered by id, in malloc'd arrays. */
struct fstore_all {
	struct fctl_port *ports;
	size_t nports;
	struct fctl_sub *subs;
	size_t nsubs;
};

/*
 * Loads every contested port and subscriber into *out.  Returns 0, or -1
 * with errbuf filled and *out empty, also for a row whose values cannot
 * be converted (edited by hand).
 */
int fstore_load(struct store *st, struct fstore_all *out, char *errbuf,
		size_t errlen);
/* Frees the arrays and empties a. */
void fstore_all_free(struct fstore_all *a);

/*
 * Writers.  An insert ignores the row's id, sets it to the new one (never
 * one used before) and returns 0 or -1.  Updates and deletes return 0, 1
 * when no row has that id, or -1.  Deleting a contested port deletes its
 * subscribers.  -1 comes with errbuf filled, also when a constraint of the
 * schema refuses the row.
 */
int fstore_port_insert(struct store *st, struct fctl_port *p, char *errbuf,
		       size_t errlen);
int fstore_port_update(struct store *st, const struct fctl_port *p,
		       char *errbuf, size_t errlen);
int fstore_port_delete(struct store *st, int64_t id, char *errbuf,
		       size_t errlen);

/* The subscriber's contested port is s->port_id. */
int fstore_sub_insert(struct store *st, struct fctl_sub *s, char *errbuf,
		      size_t errlen);
int fstore_sub_update(struct store *st, const struct fctl_sub *s,
		      char *errbuf, size_t errlen);
int fstore_sub_delete(struct store *st, int64_t id, char *errbuf,
		      size_t errlen);

#endif
