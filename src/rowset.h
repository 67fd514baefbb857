/*
 * rowset: the control plane's in-memory copy of the port-sharing table.
 * Every stored row comes with its live state: the counters the packet path
 * adds to, and what the row's address resolves to now.  Rows and live
 * state are two parallel arrays, always ordered by id, the order in which
 * the store lists them, so the table looks the same before and after a
 * restart.  Pure: it allocates, but makes no system call, takes no lock
 * and logs nothing; the control module serialises every call, and the unit
 * tests link it as it is.
 */
#ifndef PORTSHARE_ROWSET_H
#define PORTSHARE_ROWSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control.h"
#include "mapping.h"
#include "resolver.h"
#include "table.h"

/* The live state of one row. */
struct rowset_live {
	/* Owned here; snapshots point at them, so they outlive a row's removal. */
	struct table_counters *counters;
	struct resolver_result res; /* a literal is its own single address */
};

struct rowset {
	struct mapping *rows;      /* ordered by id */
	struct rowset_live *live;  /* parallel to rows */
	size_t n, cap;
};

/*
 * Makes s the table rows[0..n-1] (malloc'd, ordered by id, as the store
 * lists them), taking rows and giving each row fresh counters; what the
 * rows resolve to is left empty.  Returns 0, or -1 when out of memory, with
 * s empty and rows freed.
 */
int rowset_load(struct rowset *s, struct mapping *rows, size_t n);

/*
 * Frees s's arrays and, when counters is true, every row's counters.  A
 * caller whose rows may still be in a published snapshot passes false and
 * leaves the counters allocated.
 */
void rowset_free(struct rowset *s, bool counters);

/* Returns the index of row id, or -1.  A binary search: s is ordered by id. */
ssize_t rowset_find(const struct rowset *s, int64_t id);

/* Makes room for one more row.  Returns 0, or -1 when out of memory. */
int rowset_reserve(struct rowset *s);

/*
 * Inserts m at its place by id with its counters (taken) and res.  There
 * must be room (rowset_reserve) and no row with m's id.
 */
void rowset_insert(struct rowset *s, const struct mapping *m,
		   struct table_counters *counters,
		   const struct resolver_result *res);

/*
 * Removes row i and returns its counters, which the caller frees once no
 * published snapshot points at them.
 */
struct table_counters *rowset_remove(struct rowset *s, size_t i);

/* Fills res for m, an address literal (m->family set): its single address. */
void rowset_literal(const struct mapping *m, struct resolver_result *res);

/* Copies row i, its counters and its addresses as the API shows them. */
void rowset_view(const struct rowset *s, size_t i, struct control_mapping *out);

struct rowset_order;
struct rowset_name;

/*
 * A table import.  rowset_import_new allocates everything it needs before
 * the control plane takes its lock, so that nothing can fail for want of
 * memory once the store holds the new table.
 */
struct rowset_import {
	struct rowset next;           /* the new table, once rowset_import_take ran */
	struct rowset_live *staged;   /* in import order, with fresh counters */
	struct rowset_order *order;
	struct rowset_name *names;    /* the import's names, sorted, during the take */
	size_t n;                     /* rows in the import */
};

/* Prepares im for n rows.  Returns 0, or -1 when out of memory. */
int rowset_import_new(struct rowset_import *im, size_t n);

/*
 * Builds im->next from rows[0..n-1], which the store holds now (every id
 * set), ordered by id, and writes the rows back into rows in that order.
 * A row whose id is in cur takes over its counters (cur's row is left
 * without any); *kept counts them.  A literal is its own address; a name
 * takes what cur holds for the same name, or else shows resolved false and
 * resolve_error CONTROL_RESOLVING.  Returns true when a name is left for
 * the resolver to look up.  O(n log n + m log n) for a table cur of m rows.
 */
bool rowset_import_take(struct rowset_import *im, struct rowset *cur,
			struct mapping *rows, size_t n, size_t *kept);

/*
 * Frees whatever im still holds, im->next included: a caller that keeps
 * the new table moves im->next out and leaves an empty rowset in its place.
 */
void rowset_import_free(struct rowset_import *im);

#endif
