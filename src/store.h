/*
 * store: the sqlite database that holds the port-sharing table, and the
 * generic table code (struct store_table) with which gstore and fstore keep
 * the application groups and UDP fan-out in the same file, behind the same
 * migrations.  It is the only module that includes sqlite3.h: the other
 * stores describe their tables and bind and read rows through the
 * store_bind_* and store_col_* functions below.  Not thread-safe: the
 * control module serialises every call.
 */
#ifndef PORTSHARE_STORE_H
#define PORTSHARE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mapping.h"

struct store;

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

/* ---- tables of other modules ---------------------------------------- */

/* One row of a statement, as a store_table's bind and read callbacks see it. */
struct store_row;

/*
 * One table whose rows have an int64 id, which store_table_* load, insert,
 * update and delete.  Its statements, and how a row binds (as
 * ?1..?ncols, the id being ?ncols+1 in update_sql, ?1 in delete_sql) and
 * reads (from select_sql's columns, the id first).  Statements are
 * prepared per call: writes are rare API requests.  Messages read
 * "<module>: <verb> <what>: ...".
 */
struct store_table {
	const char *module;   /* "gstore" */
	const char *what;     /* one row: "group" */
	size_t size;          /* of one row in memory */
	int ncols;
	const char *select_sql, *insert_sql, *update_sql, *delete_sql;
	/* Binds row's columns; a failure is kept and reported by the write. */
	void (*bind)(struct store_row *r, const void *row);
	/*
	 * Reads a row into row.  Returns NULL, or the name of the column
	 * whose value cannot be converted (a row edited by hand), which the
	 * load reports as "<module>: <what> <id>: bad <column>".
	 */
	const char *(*read)(const struct store_row *r, void *row);
};

/*
 * Reads every row of t, ordered as select_sql orders them, into a malloc'd
 * array of *n rows that the caller frees.  Returns 0, or -1 with errbuf
 * filled and nothing to free.
 */
int store_table_load(struct store *st, const struct store_table *t, void **rows,
		     size_t *n, char *errbuf, size_t errlen);

/* Inserts row and sets *id to its new id.  Returns 0, or -1 with errbuf filled. */
int store_table_insert(struct store *st, const struct store_table *t,
		       const void *row, int64_t *id, char *errbuf, size_t errlen);

/* Replaces row id.  Returns 0, 1 when no row has that id, or -1. */
int store_table_update(struct store *st, const struct store_table *t,
		       const void *row, int64_t id, char *errbuf, size_t errlen);

/* Returns 0, 1 when no row has that id, or -1.  The schema cascades. */
int store_table_delete(struct store *st, const struct store_table *t,
		       int64_t id, char *errbuf, size_t errlen);

/* Binders for a store_table's bind: column col (from 1) of the row. */
void store_bind_int(struct store_row *r, int col, int64_t v);
void store_bind_null(struct store_row *r, int col);
/* Binds the first len bytes of text, or all of it when len is -1. */
void store_bind_text(struct store_row *r, int col, const char *text, int len);
/*
 * Binds an address in its inet_ntop form, NULL for family 0, "" for a
 * family that has none (which the schema's CHECKs refuse).
 */
void store_bind_addr(struct store_row *r, int col, uint8_t family,
		     const uint8_t addr[16]);

/* Readers for a store_table's read: column col (from 0) of the row. */
int64_t store_col_int(const struct store_row *r, int col);
bool store_col_null(const struct store_row *r, int col);
/* The column's text, "" when it is NULL; valid until the next row. */
const char *store_col_text(const struct store_row *r, int col);
/* Copies the column's text into dst; false when NULL or longer than size - 1. */
bool store_col_copy(const struct store_row *r, int col, char *dst, size_t size);

/* Room for the longest address store_addr_format writes, NUL included. */
#define STORE_ADDR_LEN 46
/* The inet_ntop form of addr; an unknown family gives "". */
void store_addr_format(uint8_t family, const uint8_t addr[16],
		       char out[STORE_ADDR_LEN]);

#endif
