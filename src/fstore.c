/*
 * fstore: see fstore.h.  The two tables differ only in their columns, so
 * one descriptor per table (its statements and how a row binds and reads)
 * drives the same load, insert, update and delete code, as in gstore.c.
 * Statements are prepared per call, as in store.c: writes are rare (API
 * requests and registrations).
 */
#include "fstore.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sqlite3.h>

#include "store.h"

static void fstore_set_err(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fstore_set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* Parses an IPv4 or IPv6 literal.  Returns false for anything else. */
static bool fstore_addr_parse(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* The text of column col, or "" when it is NULL. */
static const char *fstore_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	return t ? (const char *)t : "";
}

/*
 * Binds an address as ?col: NULL for family 0, path for AF_UNIX, the
 * inet_ntop literal otherwise.  An unknown family binds "", which the
 * schema's CHECKs refuse, as they refuse a contested port's "" path.
 */
static int fstore_bind_addr(sqlite3_stmt *stmt, int col, uint8_t family,
			    const uint8_t addr[16], const char *path)
{
	char text[INET6_ADDRSTRLEN];

	if (family == 0)
		return sqlite3_bind_null(stmt, col);
	/* SQLITE_STATIC: the row outlives the statement, finalised before return. */
	if (family == AF_UNIX)
		return sqlite3_bind_text(stmt, col, path, (int)strnlen(path, FCTL_PATH_MAX),
					 SQLITE_STATIC);
	if (inet_ntop(family, addr, text, sizeof(text)) == NULL)
		text[0] = '\0';
	return sqlite3_bind_text(stmt, col, text, -1, SQLITE_TRANSIENT);
}

/* Binds a contested port's columns as ?1..?4: port, address, registration_port, enabled. */
static int fstore_bind_port(sqlite3_stmt *stmt, const void *row)
{
	const struct fctl_port *p = row;
	int rc;

	rc = sqlite3_bind_int(stmt, 1, p->port);
	if (rc == SQLITE_OK)
		rc = fstore_bind_addr(stmt, 2, p->family, p->addr, "");
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 3, p->registration_port);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 4, p->enabled ? 1 : 0);
	return rc;
}

static int fstore_read_port(sqlite3_stmt *stmt, void *row, char *errbuf,
			    size_t errlen)
{
	struct fctl_port *p = row;

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(stmt, 0);
	p->port = (uint16_t)sqlite3_column_int(stmt, 1);
	if (sqlite3_column_type(stmt, 2) != SQLITE_NULL &&
	    !fstore_addr_parse(fstore_text(stmt, 2), &p->family, p->addr)) {
		fstore_set_err(errbuf, errlen, "fstore: contested port %" PRId64
			       ": bad address", p->id);
		return -1;
	}
	p->registration_port = (uint16_t)sqlite3_column_int(stmt, 3);
	p->enabled = sqlite3_column_int(stmt, 4) != 0;
	return 0;
}

/*
 * Binds a subscriber's columns as ?1..?6: contested_id, mode, address,
 * port, sample_every, registered.
 */
static int fstore_bind_sub(sqlite3_stmt *stmt, const void *row)
{
	const struct fctl_sub *s = row;
	int rc;

	rc = sqlite3_bind_int64(stmt, 1, s->port_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, fctl_mode_name(s->mode), -1, SQLITE_STATIC);
	/* A subscriber always has an address: family 0 binds "" for the CHECK to refuse. */
	if (rc == SQLITE_OK)
		rc = s->family == 0 ? sqlite3_bind_text(stmt, 3, "", -1, SQLITE_STATIC)
				    : fstore_bind_addr(stmt, 3, s->family, s->addr, s->path);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 4, s->port);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 5, s->sample_every);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 6, s->registered ? 1 : 0);
	return rc;
}

/*
 * Reads a subscriber's target: a socket path for framed_unix, an IP
 * literal for every other mode.  Returns false when it is neither.
 */
static bool fstore_read_target(struct fctl_sub *s, const char *text)
{
	size_t len = strlen(text);

	if (s->mode != FCTL_FRAMED_UNIX)
		return fstore_addr_parse(text, &s->family, s->addr);
	if (text[0] != '/' || len >= sizeof(s->path))
		return false;
	memcpy(s->path, text, len + 1);
	s->family = AF_UNIX;
	return true;
}

static int fstore_read_sub(sqlite3_stmt *stmt, void *row, char *errbuf,
			   size_t errlen)
{
	struct fctl_sub *s = row;
	const char *bad = NULL;
	int64_t every;

	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(stmt, 0);
	s->port_id = sqlite3_column_int64(stmt, 1);
	every = sqlite3_column_int64(stmt, 5);
	if (!fctl_mode_parse(fstore_text(stmt, 2), &s->mode))
		bad = "mode";
	else if (!fstore_read_target(s, fstore_text(stmt, 3)))
		bad = "address";
	else if (every < 1 || every > UINT32_MAX)
		bad = "sample_every";
	if (bad) {
		fstore_set_err(errbuf, errlen, "fstore: subscriber %" PRId64 ": bad %s",
			       s->id, bad);
		return -1;
	}
	s->port = (uint16_t)sqlite3_column_int(stmt, 4);
	s->sample_every = (uint32_t)every;
	s->registered = sqlite3_column_int(stmt, 6) != 0;
	return 0;
}

/*
 * One table: its statements, and how a row binds (as ?1..?ncols, the id
 * being ?ncols+1 in update_sql) and reads (from select_sql's columns).
 */
struct fstore_kind {
	const char *what;
	size_t size;
	int ncols;
	const char *select_sql;
	const char *insert_sql;
	const char *update_sql;
	const char *delete_sql;
	int (*bind)(sqlite3_stmt *stmt, const void *row);
	int (*read)(sqlite3_stmt *stmt, void *row, char *errbuf, size_t errlen);
};

static const struct fstore_kind fstore_ports = {
	"contested port", sizeof(struct fctl_port), 4,
	"SELECT id, port, address, registration_port, enabled FROM contested ORDER BY id",
	"INSERT INTO contested (port, address, registration_port, enabled) "
	"VALUES (?1, ?2, ?3, ?4)",
	"UPDATE contested SET port = ?1, address = ?2, registration_port = ?3, "
	"enabled = ?4 WHERE id = ?5",
	"DELETE FROM contested WHERE id = ?1",
	fstore_bind_port, fstore_read_port,
};

static const struct fstore_kind fstore_subs = {
	"subscriber", sizeof(struct fctl_sub), 6,
	"SELECT id, contested_id, mode, address, port, sample_every, registered "
	"FROM subscribers ORDER BY id",
	"INSERT INTO subscribers (contested_id, mode, address, port, sample_every, "
	"registered) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	"UPDATE subscribers SET contested_id = ?1, mode = ?2, address = ?3, port = ?4, "
	"sample_every = ?5, registered = ?6 WHERE id = ?7",
	"DELETE FROM subscribers WHERE id = ?1",
	fstore_bind_sub, fstore_read_sub,
};

static int fstore_prepare(sqlite3 *db, const struct fstore_kind *k,
			  const char *verb, const char *sql, sqlite3_stmt **stmt,
			  char *errbuf, size_t errlen)
{
	if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) == SQLITE_OK)
		return 0;
	fstore_set_err(errbuf, errlen, "fstore: %s %s: %s", verb, k->what,
		       sqlite3_errmsg(db));
	return -1;
}

/* Reads every row of k into a malloc'd array.  Returns 0 or -1. */
static int fstore_load_kind(sqlite3 *db, const struct fstore_kind *k,
			    void **rows, size_t *n, char *errbuf, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	char *list = NULL;
	size_t count = 0, cap = 0;
	int rc, ret = -1;

	if (fstore_prepare(db, k, "list", k->select_sql, &stmt, errbuf, errlen) < 0)
		goto out;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *grown = realloc(list, ncap * k->size);

			if (grown == NULL) {
				fstore_set_err(errbuf, errlen, "fstore: list %ss: out of memory",
					       k->what);
				goto out;
			}
			list = grown;
			cap = ncap;
		}
		if (k->read(stmt, list + count * k->size, errbuf, errlen) < 0)
			goto out;
		count++;
	}
	if (rc != SQLITE_DONE) {
		fstore_set_err(errbuf, errlen, "fstore: list %ss: %s", k->what,
			       sqlite3_errmsg(db));
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

int fstore_load(struct store *st, struct fstore_all *out, char *errbuf,
		size_t errlen)
{
	sqlite3 *db = store_db(st);
	void *ports = NULL, *subs = NULL;

	memset(out, 0, sizeof(*out));
	if (fstore_load_kind(db, &fstore_ports, &ports, &out->nports, errbuf, errlen) < 0 ||
	    fstore_load_kind(db, &fstore_subs, &subs, &out->nsubs, errbuf, errlen) < 0)
		goto err;
	out->ports = ports;
	out->subs = subs;
	return 0;
err:
	free(ports);
	free(subs);
	memset(out, 0, sizeof(*out));
	return -1;
}

void fstore_all_free(struct fstore_all *a)
{
	free(a->ports);
	free(a->subs);
	memset(a, 0, sizeof(*a));
}

/*
 * Runs one write of k: sql with row's columns bound (when row is not NULL)
 * and id as ?id_param (when that is not 0).  Returns the rows changed, or
 * -1 with errbuf filled.
 */
static int fstore_write(struct store *st, const struct fstore_kind *k,
			const char *verb, const char *sql, const void *row,
			int id_param, int64_t id, char *errbuf, size_t errlen)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt = NULL;
	int rc = SQLITE_OK, ret = -1;

	if (fstore_prepare(db, k, verb, sql, &stmt, errbuf, errlen) < 0)
		goto out;
	if (row != NULL)
		rc = k->bind(stmt, row);
	if (rc == SQLITE_OK && id_param != 0)
		rc = sqlite3_bind_int64(stmt, id_param, id);
	if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE) {
		if (id_param != 0)
			fstore_set_err(errbuf, errlen, "fstore: %s %s %" PRId64 ": %s",
				       verb, k->what, id, sqlite3_errmsg(db));
		else
			fstore_set_err(errbuf, errlen, "fstore: %s %s: %s", verb,
				       k->what, sqlite3_errmsg(db));
		goto out;
	}
	ret = sqlite3_changes(db);
out:
	sqlite3_finalize(stmt);
	return ret;
}

static int fstore_insert(struct store *st, const struct fstore_kind *k,
			 const void *row, int64_t *id, char *errbuf, size_t errlen)
{
	if (fstore_write(st, k, "insert", k->insert_sql, row, 0, 0, errbuf, errlen) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

/* Returns 0, 1 when no row has id, or -1. */
static int fstore_update(struct store *st, const struct fstore_kind *k,
			 const void *row, int64_t id, char *errbuf, size_t errlen)
{
	int changed = fstore_write(st, k, "update", k->update_sql, row, k->ncols + 1,
				   id, errbuf, errlen);

	return changed < 0 ? -1 : changed == 0;
}

/* Returns 0, 1 when no row has id, or -1.  The schema cascades a port's subscribers. */
static int fstore_delete(struct store *st, const struct fstore_kind *k,
			 int64_t id, char *errbuf, size_t errlen)
{
	int changed = fstore_write(st, k, "delete", k->delete_sql, NULL, 1, id,
				   errbuf, errlen);

	return changed < 0 ? -1 : changed == 0;
}

int fstore_port_insert(struct store *st, struct fctl_port *p, char *errbuf,
		       size_t errlen)
{
	return fstore_insert(st, &fstore_ports, p, &p->id, errbuf, errlen);
}

int fstore_port_update(struct store *st, const struct fctl_port *p,
		       char *errbuf, size_t errlen)
{
	return fstore_update(st, &fstore_ports, p, p->id, errbuf, errlen);
}

int fstore_port_delete(struct store *st, int64_t id, char *errbuf,
		       size_t errlen)
{
	return fstore_delete(st, &fstore_ports, id, errbuf, errlen);
}

int fstore_sub_insert(struct store *st, struct fctl_sub *s, char *errbuf,
		      size_t errlen)
{
	return fstore_insert(st, &fstore_subs, s, &s->id, errbuf, errlen);
}

int fstore_sub_update(struct store *st, const struct fctl_sub *s,
		      char *errbuf, size_t errlen)
{
	return fstore_update(st, &fstore_subs, s, s->id, errbuf, errlen);
}

int fstore_sub_delete(struct store *st, int64_t id, char *errbuf,
		      size_t errlen)
{
	return fstore_delete(st, &fstore_subs, id, errbuf, errlen);
}
