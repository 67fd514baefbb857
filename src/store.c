/*
 * store: the port-sharing table on disk, in sqlite.  The schema lives in
 * sql/NNN_*.sql; the build embeds those files (sql/embed.sh) and store_open
 * applies the ones a database has not seen yet.  Statements are prepared per
 * call: writes are rare (API requests), and it keeps every function free of
 * cached state that could go stale.  The mappings have their own code
 * (ids kept on replace, a whole-table transaction, validation on load);
 * the other modules' tables share the store_table code at the end, which
 * is what keeps sqlite3.h in this one file.
 */
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

/* Generated from sql/ by sql/embed.sh; migration i brings user_version from i - 1 to i. */
extern const char *const store_migrations[];
extern const unsigned store_migrations_count;

#define BUSY_TIMEOUT_MS 5000

struct store {
	sqlite3 *db;
	int version;
};

static const char store_mapping_columns[] =
	"id, proto, address, shared_port, assigned_port, enabled, comment";

static void store_set_err(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void store_set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* Runs sql, which must return no rows.  Returns 0, or -1 with errbuf filled. */
static int store_exec(struct store *st, const char *what, const char *sql,
		      char *errbuf, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	store_set_err(errbuf, errlen, "store: %s: %s", what,
		      msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return -1;
}

static int store_prepare(struct store *st, const char *what, const char *sql,
			 sqlite3_stmt **stmt, char *errbuf, size_t errlen)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) == SQLITE_OK)
		return 0;
	store_set_err(errbuf, errlen, "store: %s: %s", what,
		      sqlite3_errmsg(st->db));
	return -1;
}

/*
 * Runs a one-row, one-column query such as a PRAGMA and copies its first
 * column as text.  Returns 0, or -1 with errbuf filled.
 */
static int store_query_text(struct store *st, const char *what,
			    const char *sql, char *out, size_t outlen,
			    char *errbuf, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *text;
	int ret = -1;

	if (store_prepare(st, what, sql, &stmt, errbuf, errlen) < 0)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_err(errbuf, errlen, "store: %s: %s", what,
			      sqlite3_errmsg(st->db));
		goto out;
	}
	text = sqlite3_column_text(stmt, 0);
	snprintf(out, outlen, "%s", text ? (const char *)text : "");
	ret = 0;
out:
	sqlite3_finalize(stmt);
	return ret;
}

static int store_read_user_version(struct store *st, int *version, char *errbuf,
				   size_t errlen)
{
	char text[32];

	if (store_query_text(st, "PRAGMA user_version", "PRAGMA user_version",
			     text, sizeof(text), errbuf, errlen) < 0)
		return -1;
	*version = atoi(text);
	return 0;
}

/*
 * Applies one missing migration per iteration, each in its own BEGIN
 * IMMEDIATE transaction.  user_version is read again inside the transaction
 * because another process may have migrated the file since we last looked;
 * the write lock taken by IMMEDIATE makes that read authoritative.
 */
static int store_migrate(struct store *st, const char *path, char *errbuf,
			 size_t errlen)
{
	char what[64];
	char pragma[64];
	int version;

	for (;;) {
		if (store_exec(st, "begin migration", "BEGIN IMMEDIATE", errbuf,
			       errlen) < 0)
			return -1;
		if (store_read_user_version(st, &version, errbuf, errlen) < 0)
			goto err;
		if (version < 0 || (unsigned)version > store_migrations_count) {
			store_set_err(errbuf, errlen,
				      "store: %s has schema version %d but "
				      "this portshared knows only versions up "
				      "to %u; refusing to open it (was it "
				      "written by a newer release?)",
				      path, version, store_migrations_count);
			goto err;
		}
		if ((unsigned)version == store_migrations_count)
			break;
		snprintf(what, sizeof(what), "migration %03d", version + 1);
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d",
			 version + 1);
		if (store_exec(st, what, store_migrations[version], errbuf,
			       errlen) < 0 ||
		    store_exec(st, what, pragma, errbuf, errlen) < 0 ||
		    store_exec(st, what, "COMMIT", errbuf, errlen) < 0)
			goto err;
	}
	if (store_exec(st, "end migration", "COMMIT", errbuf, errlen) < 0)
		goto err;
	st->version = version;
	return 0;
err:
	/* The error that matters is already in errbuf; a failed rollback adds nothing. */
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct store *store_open(const char *path, char *errbuf, size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));
	char what[512];
	char mode[16];
	int rc;

	if (st == NULL) {
		store_set_err(errbuf, errlen, "store: out of memory");
		return NULL;
	}
	/* NOMUTEX: the control module already serialises every call. */
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		store_set_err(errbuf, errlen, "store: open %s: %s", path,
			      st->db ? sqlite3_errmsg(st->db)
				     : sqlite3_errstr(rc));
		goto err;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);

	/*
	 * sqlite opens lazily, so this is the first statement that reads the
	 * file: a corrupt or foreign file fails here.  The pragma answers with
	 * the mode actually in force, which stays the old one when WAL is
	 * impossible (an in-memory database, a read-only directory).  The
	 * message names the file: "file is not a database" alone does not say
	 * which one.
	 */
	snprintf(what, sizeof(what), "%s: PRAGMA journal_mode=WAL", path);
	if (store_query_text(st, what, "PRAGMA journal_mode=WAL", mode,
			     sizeof(mode), errbuf, errlen) < 0)
		goto err;
	if (strcmp(mode, "wal") != 0) {
		store_set_err(errbuf, errlen,
			      "store: %s: journal_mode is \"%s\", "
			      "WAL could not be enabled", path, mode);
		goto err;
	}
	if (store_exec(st, "PRAGMA synchronous=FULL", "PRAGMA synchronous=FULL",
		       errbuf, errlen) < 0 ||
	    store_exec(st, "PRAGMA foreign_keys=ON", "PRAGMA foreign_keys=ON",
		       errbuf, errlen) < 0 ||
	    store_migrate(st, path, errbuf, errlen) < 0)
		goto err;
	return st;

err:
	store_close(st);
	return NULL;
}

int store_check(const char *path, size_t *nrows, char *errbuf, size_t errlen)
{
	struct store st = { 0 };
	struct mapping *rows = NULL;
	int rc = -1;

	*nrows = 0;
	/*
	 * Read-only and without CREATE: a configuration check must not create
	 * the file, switch its journal or apply migrations.
	 */
	if (sqlite3_open_v2(path, &st.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		if (access(path, F_OK) < 0 && errno == ENOENT) {
			rc = 1;
			goto out;
		}
		store_set_err(errbuf, errlen, "store: open %s: %s", path,
			      st.db ? sqlite3_errmsg(st.db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(st.db, BUSY_TIMEOUT_MS);
	if (store_read_user_version(&st, &st.version, errbuf, errlen) < 0)
		goto out;
	if (st.version < 0 || (unsigned)st.version > store_migrations_count) {
		store_set_err(errbuf, errlen,
			      "store: %s has schema version %d but this portshared knows "
			      "only versions up to %u", path, st.version,
			      store_migrations_count);
		goto out;
	}
	/* An empty file or one before the first migration holds no rows yet. */
	if (st.version >= 1 && store_mapping_list(&st, &rows, nrows, errbuf, errlen) < 0)
		goto out;
	rc = 0;
out:
	free(rows);
	sqlite3_close(st.db);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
}

int store_schema_version(struct store *st)
{
	return st->version;
}

/*
 * Decodes one row selected with store_mapping_columns.  The family is not
 * stored; it is recomputed here so that it can never disagree with the
 * address.  A row that fails validation (edited by hand) is reported, not
 * loaded.
 */
static int store_read_row(sqlite3_stmt *stmt, struct mapping *m, char *errbuf,
			  size_t errlen)
{
	const char *proto = (const char *)sqlite3_column_text(stmt, 1);
	const char *address = (const char *)sqlite3_column_text(stmt, 2);
	const char *comment = (const char *)sqlite3_column_text(stmt, 6);
	struct mapping_error merr;

	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(stmt, 0);
	m->shared_port = (uint32_t)sqlite3_column_int64(stmt, 3);
	m->assigned_port = (uint32_t)sqlite3_column_int64(stmt, 4);
	m->enabled = sqlite3_column_int64(stmt, 5) != 0;
	if (proto == NULL || !mapping_proto_parse(proto, &m->proto)) {
		store_set_err(errbuf, errlen,
			      "store: mapping %" PRId64 ": bad proto", m->id);
		return -1;
	}
	if (address == NULL || strlen(address) >= sizeof(m->address) ||
	    comment == NULL || strlen(comment) >= sizeof(m->comment)) {
		store_set_err(errbuf, errlen,
			      "store: mapping %" PRId64
			      ": address or comment too long", m->id);
		return -1;
	}
	memcpy(m->address, address, strlen(address) + 1);
	memcpy(m->comment, comment, strlen(comment) + 1);
	if (!mapping_validate(m, &merr)) {
		store_set_err(errbuf, errlen, "store: mapping %" PRId64 ": %s",
			      m->id, merr.message);
		return -1;
	}
	return 0;
}

int store_mapping_list(struct store *st, struct mapping **rows, size_t *n,
		       char *errbuf, size_t errlen)
{
	char sql[128];
	sqlite3_stmt *stmt = NULL;
	struct mapping *list = NULL;
	size_t count = 0, cap = 0;
	int rc, ret = -1;

	snprintf(sql, sizeof(sql), "SELECT %s FROM mappings ORDER BY id",
		 store_mapping_columns);
	if (store_prepare(st, "list mappings", sql, &stmt, errbuf, errlen) < 0)
		goto out;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct mapping *grown = realloc(list, ncap * sizeof(*list));

			if (grown == NULL) {
				store_set_err(errbuf, errlen, "store: list "
					      "mappings: out of memory");
				goto out;
			}
			list = grown;
			cap = ncap;
		}
		if (store_read_row(stmt, &list[count], errbuf, errlen) < 0)
			goto out;
		count++;
	}
	if (rc != SQLITE_DONE) {
		store_set_err(errbuf, errlen, "store: list mappings: %s",
			      sqlite3_errmsg(st->db));
		goto out;
	}
	*rows = list;
	*n = count;
	list = NULL;
	ret = 0;
out:
	free(list);
	sqlite3_finalize(stmt);
	return ret;
}

int store_mapping_get(struct store *st, int64_t id, struct mapping *out,
		      char *errbuf, size_t errlen)
{
	char sql[128];
	sqlite3_stmt *stmt = NULL;
	int rc, ret = -1;

	snprintf(sql, sizeof(sql), "SELECT %s FROM mappings WHERE id = ?",
		 store_mapping_columns);
	if (store_prepare(st, "get mapping", sql, &stmt, errbuf, errlen) < 0)
		goto out;
	if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK) {
		store_set_err(errbuf, errlen, "store: get mapping: %s",
			      sqlite3_errmsg(st->db));
		goto out;
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		ret = 1;
	} else if (rc != SQLITE_ROW) {
		store_set_err(errbuf, errlen,
			      "store: get mapping %" PRId64 ": %s", id,
			      sqlite3_errmsg(st->db));
	} else if (store_read_row(stmt, out, errbuf, errlen) == 0) {
		ret = 0;
	}
out:
	sqlite3_finalize(stmt);
	return ret;
}

/*
 * Binds m's columns to parameters 1..6 in store_mapping_columns order
 * (after id).
 */
static int store_bind_mapping(sqlite3_stmt *stmt, const struct mapping *m)
{
	int rc;

	/* SQLITE_STATIC: m outlives the statement, which is finalised before return. */
	rc = sqlite3_bind_text(stmt, 1, mapping_proto_name(m->proto), -1,
			       SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, m->address, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 3, m->shared_port);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 4, m->assigned_port);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 5, m->enabled ? 1 : 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 6, m->comment, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : -1;
}

/*
 * Runs a write statement whose parameters are already bound.  Returns the
 * number of rows changed, or -1 with errbuf filled.
 */
static int store_run_write(struct store *st, sqlite3_stmt *stmt,
			   const char *what, int64_t id, char *errbuf,
			   size_t errlen)
{
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_set_err(errbuf, errlen, "store: %s %" PRId64 ": %s", what,
			      id, sqlite3_errmsg(st->db));
		return -1;
	}
	return sqlite3_changes(st->db);
}

static const char store_insert_sql[] =
	"INSERT INTO mappings (proto, address, shared_port, assigned_port, "
	"enabled, comment, id) VALUES (?, ?, ?, ?, ?, ?, ?)";

/*
 * Inserts m with the prepared statement stmt (store_insert_sql),
 * keeping m->id when it is set and letting sqlite pick one (never one used
 * before: AUTOINCREMENT) when it is 0.  Sets m->id.  Returns 0 or -1.
 */
static int store_insert_row(struct store *st, sqlite3_stmt *stmt,
			    struct mapping *m, char *errbuf, size_t errlen)
{
	int rc;

	sqlite3_reset(stmt);
	rc = store_bind_mapping(stmt, m) < 0 ? SQLITE_ERROR
		: m->id != 0 ? sqlite3_bind_int64(stmt, 7, m->id)
			     : sqlite3_bind_null(stmt, 7);
	if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE) {
		store_set_err(errbuf, errlen, "store: insert mapping: %s",
			      sqlite3_errmsg(st->db));
		return -1;
	}
	m->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_mapping_insert(struct store *st, struct mapping *m, char *errbuf,
			 size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int ret = -1;

	if (store_prepare(st, "insert mapping", store_insert_sql, &stmt, errbuf,
			  errlen) < 0)
		goto out;
	m->id = 0;
	ret = store_insert_row(st, stmt, m, errbuf, errlen);
out:
	sqlite3_finalize(stmt);
	return ret;
}

int store_mapping_replace(struct store *st, struct mapping *rows, size_t n,
			  char *errbuf, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int ret = -1;

	if (store_exec(st, "replace mappings", "BEGIN IMMEDIATE", errbuf,
		       errlen) < 0)
		return -1;
	if (store_exec(st, "replace mappings", "DELETE FROM mappings", errbuf,
		       errlen) < 0 ||
	    store_prepare(st, "replace mappings", store_insert_sql, &stmt,
			  errbuf, errlen) < 0)
		goto out;
	/*
	 * Rows that keep their id go in first, so that an id sqlite picks
	 * for a new row can never be one that a later row asks for.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if ((rows[i].id != 0) != (pass == 0))
				continue;
			if (store_insert_row(st, stmt, &rows[i], errbuf, errlen) < 0)
				goto out;
		}
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	ret = store_exec(st, "replace mappings", "COMMIT", errbuf, errlen);
out:
	sqlite3_finalize(stmt);
	/* The error that matters is already in errbuf; a failed rollback adds nothing. */
	if (ret < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int store_mapping_update(struct store *st, const struct mapping *m,
			 char *errbuf, size_t errlen)
{
	static const char sql[] =
		"UPDATE mappings SET proto = ?, address = ?, shared_port = ?, "
		"assigned_port = ?, enabled = ?, comment = ?, "
		"updated_at = CURRENT_TIMESTAMP WHERE id = ?";
	sqlite3_stmt *stmt = NULL;
	int changed, ret = -1;

	if (store_prepare(st, "update mapping", sql, &stmt, errbuf, errlen) < 0)
		goto out;
	if (store_bind_mapping(stmt, m) < 0 ||
	    sqlite3_bind_int64(stmt, 7, m->id) != SQLITE_OK) {
		store_set_err(errbuf, errlen, "store: update mapping: %s",
			      sqlite3_errmsg(st->db));
		goto out;
	}
	changed = store_run_write(st, stmt, "update mapping", m->id, errbuf,
				  errlen);
	if (changed >= 0)
		ret = changed == 0 ? 1 : 0;
out:
	sqlite3_finalize(stmt);
	return ret;
}

int store_mapping_delete(struct store *st, int64_t id, char *errbuf,
			 size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int changed, ret = -1;

	if (store_prepare(st, "delete mapping",
			  "DELETE FROM mappings WHERE id = ?", &stmt, errbuf,
			  errlen) < 0)
		goto out;
	if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK) {
		store_set_err(errbuf, errlen, "store: delete mapping: %s",
			      sqlite3_errmsg(st->db));
		goto out;
	}
	changed = store_run_write(st, stmt, "delete mapping", id, errbuf,
				  errlen);
	if (changed >= 0)
		ret = changed == 0 ? 1 : 0;
out:
	sqlite3_finalize(stmt);
	return ret;
}

/* ---- tables of other modules ---------------------------------------- */

_Static_assert(STORE_ADDR_LEN >= INET6_ADDRSTRLEN, "STORE_ADDR_LEN too short");

struct store_row {
	sqlite3_stmt *stmt;
	int rc;               /* the first binding's failure, SQLITE_OK before */
};

static void store_bound(struct store_row *r, int rc)
{
	if (r->rc == SQLITE_OK)
		r->rc = rc;
}

void store_bind_int(struct store_row *r, int col, int64_t v)
{
	store_bound(r, sqlite3_bind_int64(r->stmt, col, v));
}

void store_bind_null(struct store_row *r, int col)
{
	store_bound(r, sqlite3_bind_null(r->stmt, col));
}

void store_bind_text(struct store_row *r, int col, const char *text, int len)
{
	store_bound(r, sqlite3_bind_text(r->stmt, col, text, len, SQLITE_TRANSIENT));
}

void store_bind_addr(struct store_row *r, int col, uint8_t family,
		     const uint8_t addr[16])
{
	char text[STORE_ADDR_LEN];

	if (family == 0) {
		store_bind_null(r, col);
		return;
	}
	store_addr_format(family, addr, text);
	store_bind_text(r, col, text, -1);
}

int64_t store_col_int(const struct store_row *r, int col)
{
	return sqlite3_column_int64(r->stmt, col);
}

bool store_col_null(const struct store_row *r, int col)
{
	return sqlite3_column_type(r->stmt, col) == SQLITE_NULL;
}

const char *store_col_text(const struct store_row *r, int col)
{
	const unsigned char *t = sqlite3_column_text(r->stmt, col);

	return t ? (const char *)t : "";
}

bool store_col_copy(const struct store_row *r, int col, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(r->stmt, col);
	size_t len;

	if (t == NULL)
		return false;
	len = strlen((const char *)t);
	if (len >= size)
		return false;
	memcpy(dst, t, len + 1);
	return true;
}

void store_addr_format(uint8_t family, const uint8_t addr[16],
		       char out[STORE_ADDR_LEN])
{
	if (inet_ntop(family, addr, out, STORE_ADDR_LEN) == NULL)
		out[0] = '\0';
}

static int store_table_prepare(struct store *st, const struct store_table *t,
			       const char *verb, const char *sql,
			       sqlite3_stmt **stmt, char *errbuf, size_t errlen)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) == SQLITE_OK)
		return 0;
	store_set_err(errbuf, errlen, "%s: %s %s: %s", t->module, verb, t->what,
		      sqlite3_errmsg(st->db));
	return -1;
}

int store_table_load(struct store *st, const struct store_table *t, void **rows,
		     size_t *n, char *errbuf, size_t errlen)
{
	struct store_row r = { .rc = SQLITE_OK };
	char *list = NULL;
	size_t count = 0, cap = 0;
	const char *bad;
	int rc, ret = -1;

	if (store_table_prepare(st, t, "list", t->select_sql, &r.stmt, errbuf,
				errlen) < 0)
		goto out;
	while ((rc = sqlite3_step(r.stmt)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *grown = realloc(list, ncap * t->size);

			if (grown == NULL) {
				store_set_err(errbuf, errlen, "%s: list %ss: out of memory",
					      t->module, t->what);
				goto out;
			}
			list = grown;
			cap = ncap;
		}
		bad = t->read(&r, list + count * t->size);
		if (bad != NULL) {
			store_set_err(errbuf, errlen, "%s: %s %" PRId64 ": bad %s",
				      t->module, t->what, store_col_int(&r, 0), bad);
			goto out;
		}
		count++;
	}
	if (rc != SQLITE_DONE) {
		store_set_err(errbuf, errlen, "%s: list %ss: %s", t->module, t->what,
			      sqlite3_errmsg(st->db));
		goto out;
	}
	*rows = list;
	*n = count;
	list = NULL;
	ret = 0;
out:
	free(list);
	sqlite3_finalize(r.stmt);
	return ret;
}

/*
 * Runs one write of t: sql with row's columns bound (when row is not NULL)
 * and id as ?id_param (when that is not 0).  Returns the rows changed, or
 * -1 with errbuf filled.
 */
static int store_table_write(struct store *st, const struct store_table *t,
			     const char *verb, const char *sql, const void *row,
			     int id_param, int64_t id, char *errbuf, size_t errlen)
{
	struct store_row r = { .rc = SQLITE_OK };
	int ret = -1;

	if (store_table_prepare(st, t, verb, sql, &r.stmt, errbuf, errlen) < 0)
		goto out;
	if (row != NULL)
		t->bind(&r, row);
	if (id_param != 0)
		store_bind_int(&r, id_param, id);
	if (r.rc != SQLITE_OK || sqlite3_step(r.stmt) != SQLITE_DONE) {
		if (id_param != 0)
			store_set_err(errbuf, errlen, "%s: %s %s %" PRId64 ": %s",
				      t->module, verb, t->what, id,
				      sqlite3_errmsg(st->db));
		else
			store_set_err(errbuf, errlen, "%s: %s %s: %s", t->module,
				      verb, t->what, sqlite3_errmsg(st->db));
		goto out;
	}
	ret = sqlite3_changes(st->db);
out:
	sqlite3_finalize(r.stmt);
	return ret;
}

int store_table_insert(struct store *st, const struct store_table *t,
		       const void *row, int64_t *id, char *errbuf, size_t errlen)
{
	if (store_table_write(st, t, "insert", t->insert_sql, row, 0, 0, errbuf,
			      errlen) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_table_update(struct store *st, const struct store_table *t,
		       const void *row, int64_t id, char *errbuf, size_t errlen)
{
	int changed = store_table_write(st, t, "update", t->update_sql, row,
					t->ncols + 1, id, errbuf, errlen);

	return changed < 0 ? -1 : changed == 0;
}

int store_table_delete(struct store *st, const struct store_table *t,
		       int64_t id, char *errbuf, size_t errlen)
{
	int changed = store_table_write(st, t, "delete", t->delete_sql, NULL, 1,
					id, errbuf, errlen);

	return changed < 0 ? -1 : changed == 0;
}
