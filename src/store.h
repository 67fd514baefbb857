/*
 * store: the sqlite database that holds the port-sharing table.  It and
 * gstore, which keeps the application groups in the same database (through
 * store_db), are the only modules that include sqlite3.h.  Not thread-safe:
 * the control module serialises every call.
 */
#ifndef PORTSHARE_STORE_H
#define PORTSHARE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mapping.h"

struct store;
struct sqlite3;

/*
 * Opens (creating if needed) the database at path, switches it to WAL with
 * synchronous=FULL so every acknowledged write survives a power cut, and
 * applies the numbered migrations from sql/ that PRAGMA user_version says are
 * missing, each in its own transaction.  Returns NULL with a message in
 * errbuf on failure.
 */
struct store *store_open(const char *path, char *errbuf, size_t errlen);
void store_close(struct store *st);

/*
 * Checks the database at path without changing it (portshared -n): opens it
 * read-only, refuses a schema newer than this binary, and validates every
 * row.  Returns 0 with *nrows set, 1 when the file does not exist yet (it is
 * created on the first real start), or -1 with errbuf filled.
 */
int store_check(const char *path, size_t *nrows, char *errbuf, size_t errlen);

/* The schema version after migrations (PRAGMA user_version). */
int store_schema_version(struct store *st);

/*
 * The open database, for gstore: the groups' tables live in the same file,
 * behind the same migrations.  Valid until store_close.
 */
struct sqlite3 *store_db(struct store *st);

/*
 * All mappings ordered by id, in a malloc'd array the caller frees.  Returns
 * 0, or -1 with errbuf filled.
 */
int store_mapping_list(struct store *st, struct mapping **rows, size_t *n,
		       char *errbuf, size_t errlen);

/* Returns 0, 1 when no row has that id, or -1 with errbuf filled. */
int store_mapping_get(struct store *st, int64_t id, struct mapping *out,
		      char *errbuf, size_t errlen);

/* Inserts m (its id is ignored) and sets m->id.  Returns 0 or -1. */
int store_mapping_insert(struct store *st, struct mapping *m, char *errbuf,
			 size_t errlen);

/*
 * Replaces the whole table with rows in one transaction: all of them or,
 * on any failure, none (the table is left as it was).  A row keeps a
 * non-zero id; a row with id 0 gets a new one.  Sets every row's id.
 * Returns 0, or -1 with errbuf filled (ids may then be half set).
 */
int store_mapping_replace(struct store *st, struct mapping *rows, size_t n,
			  char *errbuf, size_t errlen);

/* Replaces the row m->id.  Returns 0, 1 when no such row, or -1. */
int store_mapping_update(struct store *st, const struct mapping *m,
			 char *errbuf, size_t errlen);

/* Returns 0, 1 when no such row, or -1. */
int store_mapping_delete(struct store *st, int64_t id, char *errbuf,
			 size_t errlen);

#endif
