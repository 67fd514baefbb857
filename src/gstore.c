/*
 * gstore: see gstore.h.  The three tables differ only in their columns, so
 * one descriptor per table (its statements and how a row binds and reads)
 * drives the same load, insert, update and delete code.  Statements are
 * prepared per call, as in store.c: writes are rare API requests.
 */
#include "gstore.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sqlite3.h>

#include "mapping.h"
#include "sched.h"
#include "store.h"

static void gstore_set_err(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void gstore_set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* Parses an IPv4 or IPv6 literal.  Returns false for anything else. */
static bool gstore_addr_parse(const char *s, uint8_t *family, uint8_t addr[16])
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

/* The inet_ntop form of addr; an unknown family gives "". */
static void gstore_addr_format(uint8_t family, const uint8_t addr[16],
			       char out[INET6_ADDRSTRLEN])
{
	if (inet_ntop(family, addr, out, INET6_ADDRSTRLEN) == NULL)
		out[0] = '\0';
}

/* Copies text into a buffer of size bytes.  Returns false when it does not fit. */
static bool gstore_copy_text(char *dst, size_t size, const unsigned char *text)
{
	size_t len;

	if (text == NULL)
		return false;
	len = strlen((const char *)text);
	if (len >= size)
		return false;
	memcpy(dst, text, len + 1);
	return true;
}

/* The text of column col, or "" when it is NULL. */
static const char *gstore_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	return t ? (const char *)t : "";
}

/*
 * Binds a group's columns as ?1..?9: name, aid, address, virtual_port,
 * proto, policy, max_wait_ms, on_timeout, is_default.
 */
static int gstore_bind_group(sqlite3_stmt *stmt, const void *row)
{
	const struct groups_group *gr = row;
	char addr[INET6_ADDRSTRLEN];
	int rc;

	/* SQLITE_STATIC: row outlives the statement, finalised before return. */
	rc = sqlite3_bind_text(stmt, 1, gr->name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, gr->aid, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && gr->family == 0) {
		rc = sqlite3_bind_null(stmt, 3);
	} else if (rc == SQLITE_OK) {
		gstore_addr_format(gr->family, gr->addr, addr);
		rc = sqlite3_bind_text(stmt, 3, addr, -1, SQLITE_TRANSIENT);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 4, gr->virtual_port);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 5, mapping_proto_name(gr->protos), -1,
				       SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 6, sched_policy_name(gr->policy), -1,
				       SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 7, gr->max_wait_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 8, groups_on_timeout_name(gr->on_timeout),
				       -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 9, gr->is_default ? 1 : 0);
	return rc;
}

static int gstore_read_group(sqlite3_stmt *stmt, void *row, char *errbuf,
			     size_t errlen)
{
	struct groups_group *gr = row;
	const char *bad = NULL;
	unsigned protos;

	memset(gr, 0, sizeof(*gr));
	gr->id = sqlite3_column_int64(stmt, 0);
	if (!gstore_copy_text(gr->name, sizeof(gr->name), sqlite3_column_text(stmt, 1)))
		bad = "name";
	else if (!gstore_copy_text(gr->aid, sizeof(gr->aid), sqlite3_column_text(stmt, 2)))
		bad = "aid";
	else if (sqlite3_column_type(stmt, 3) != SQLITE_NULL &&
		 !gstore_addr_parse(gstore_text(stmt, 3), &gr->family, gr->addr))
		bad = "address";
	else if (!mapping_proto_parse(gstore_text(stmt, 5), &protos))
		bad = "proto";
	else if (!sched_policy_parse(gstore_text(stmt, 6), &gr->policy))
		bad = "policy";
	else if (!groups_on_timeout_parse(gstore_text(stmt, 8), &gr->on_timeout))
		bad = "on_timeout";
	if (bad) {
		gstore_set_err(errbuf, errlen, "gstore: group %" PRId64 ": bad %s",
			       gr->id, bad);
		return -1;
	}
	gr->protos = protos;
	gr->virtual_port = (uint16_t)sqlite3_column_int(stmt, 4);
	gr->max_wait_ms = (uint32_t)sqlite3_column_int64(stmt, 7);
	gr->is_default = sqlite3_column_int(stmt, 9) != 0;
	return 0;
}

/* Binds a backend's columns as ?1..?5: group_id, port, weight, max_flows, state. */
static int gstore_bind_backend(sqlite3_stmt *stmt, const void *row)
{
	const struct groups_backend *b = row;
	int rc;

	rc = sqlite3_bind_int64(stmt, 1, b->group_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 2, b->b.port);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 3, b->b.weight);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 4, b->b.max_flows);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 5, sched_state_name(b->b.state), -1,
				       SQLITE_STATIC);
	return rc;
}

static int gstore_read_backend(sqlite3_stmt *stmt, void *row, char *errbuf,
			       size_t errlen)
{
	struct groups_backend *b = row;

	memset(b, 0, sizeof(*b));
	b->b.id = sqlite3_column_int64(stmt, 0);
	b->group_id = sqlite3_column_int64(stmt, 1);
	b->b.port = (uint16_t)sqlite3_column_int(stmt, 2);
	b->b.weight = (uint16_t)sqlite3_column_int(stmt, 3);
	b->b.max_flows = (uint32_t)sqlite3_column_int64(stmt, 4);
	if (!sched_state_parse(gstore_text(stmt, 5), &b->b.state)) {
		gstore_set_err(errbuf, errlen, "gstore: backend %" PRId64 ": bad state",
			       b->b.id);
		return -1;
	}
	return 0;
}

/* Binds a rule's columns as ?1..?4: group_id, cidr, port_lo, port_hi. */
static int gstore_bind_rule(sqlite3_stmt *stmt, const void *row)
{
	const struct groups_rule *r = row;
	char addr[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8];
	int rc;

	gstore_addr_format(r->family, r->addr, addr);
	snprintf(cidr, sizeof(cidr), "%s/%u", addr, r->prefix_len);
	rc = sqlite3_bind_int64(stmt, 1, r->group_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, cidr, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = r->has_ports ? sqlite3_bind_int(stmt, 3, r->port_lo)
				  : sqlite3_bind_null(stmt, 3);
	if (rc == SQLITE_OK)
		rc = r->has_ports ? sqlite3_bind_int(stmt, 4, r->port_hi)
				  : sqlite3_bind_null(stmt, 4);
	return rc;
}

/* Parses "address/len" into r.  Returns false for anything else. */
static bool gstore_cidr_parse(const char *s, struct groups_rule *r)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long len;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr) || slash[1] == '\0')
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	len = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || len > 128 || !gstore_addr_parse(addr, &r->family, r->addr))
		return false;
	r->prefix_len = (uint8_t)len;
	return true;
}

static int gstore_read_rule(sqlite3_stmt *stmt, void *row, char *errbuf,
			    size_t errlen)
{
	struct groups_rule *r = row;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(stmt, 0);
	r->group_id = sqlite3_column_int64(stmt, 1);
	if (!gstore_cidr_parse(gstore_text(stmt, 2), r)) {
		gstore_set_err(errbuf, errlen, "gstore: rule %" PRId64 ": bad cidr",
			       r->id);
		return -1;
	}
	r->has_ports = sqlite3_column_type(stmt, 3) != SQLITE_NULL;
	if (r->has_ports) {
		r->port_lo = (uint16_t)sqlite3_column_int(stmt, 3);
		r->port_hi = (uint16_t)sqlite3_column_int(stmt, 4);
	}
	return 0;
}

/*
 * One table: its statements, and how a row binds (as ?1..?ncols, the id
 * being ?ncols+1 in update_sql) and reads (from select_sql's columns).
 */
struct gstore_kind {
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

static const struct gstore_kind gstore_groups = {
	"group", sizeof(struct groups_group), 9,
	"SELECT id, name, aid, address, virtual_port, proto, policy, max_wait_ms, "
	"on_timeout, is_default FROM groups ORDER BY id",
	"INSERT INTO groups (name, aid, address, virtual_port, proto, policy, "
	"max_wait_ms, on_timeout, is_default) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	"UPDATE groups SET name = ?1, aid = ?2, address = ?3, virtual_port = ?4, "
	"proto = ?5, policy = ?6, max_wait_ms = ?7, on_timeout = ?8, "
	"is_default = ?9 WHERE id = ?10",
	"DELETE FROM groups WHERE id = ?1",
	gstore_bind_group, gstore_read_group,
};

static const struct gstore_kind gstore_backends = {
	"backend", sizeof(struct groups_backend), 5,
	"SELECT id, group_id, port, weight, max_flows, state FROM backends ORDER BY id",
	"INSERT INTO backends (group_id, port, weight, max_flows, state) "
	"VALUES (?1, ?2, ?3, ?4, ?5)",
	"UPDATE backends SET group_id = ?1, port = ?2, weight = ?3, max_flows = ?4, "
	"state = ?5 WHERE id = ?6",
	"DELETE FROM backends WHERE id = ?1",
	gstore_bind_backend, gstore_read_backend,
};

static const struct gstore_kind gstore_rules = {
	"rule", sizeof(struct groups_rule), 4,
	"SELECT id, group_id, cidr, port_lo, port_hi FROM rules ORDER BY id",
	"INSERT INTO rules (group_id, cidr, port_lo, port_hi) VALUES (?1, ?2, ?3, ?4)",
	"UPDATE rules SET group_id = ?1, cidr = ?2, port_lo = ?3, port_hi = ?4 "
	"WHERE id = ?5",
	"DELETE FROM rules WHERE id = ?1",
	gstore_bind_rule, gstore_read_rule,
};

static int gstore_prepare(sqlite3 *db, const struct gstore_kind *k,
			  const char *verb, const char *sql, sqlite3_stmt **stmt,
			  char *errbuf, size_t errlen)
{
	if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) == SQLITE_OK)
		return 0;
	gstore_set_err(errbuf, errlen, "gstore: %s %s: %s", verb, k->what,
		       sqlite3_errmsg(db));
	return -1;
}

/* Reads every row of k into a malloc'd array.  Returns 0 or -1. */
static int gstore_load_kind(sqlite3 *db, const struct gstore_kind *k,
			    void **rows, size_t *n, char *errbuf, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	char *list = NULL;
	size_t count = 0, cap = 0;
	int rc, ret = -1;

	if (gstore_prepare(db, k, "list", k->select_sql, &stmt, errbuf, errlen) < 0)
		goto out;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *grown = realloc(list, ncap * k->size);

			if (grown == NULL) {
				gstore_set_err(errbuf, errlen, "gstore: list %ss: out of memory",
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
		gstore_set_err(errbuf, errlen, "gstore: list %ss: %s", k->what,
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

int gstore_load(struct store *st, struct gstore_all *out, char *errbuf,
		size_t errlen)
{
	sqlite3 *db = store_db(st);
	void *groups = NULL, *backends = NULL, *rules = NULL;

	memset(out, 0, sizeof(*out));
	if (gstore_load_kind(db, &gstore_groups, &groups, &out->ngroups, errbuf, errlen) < 0 ||
	    gstore_load_kind(db, &gstore_backends, &backends, &out->nbackends, errbuf,
			     errlen) < 0 ||
	    gstore_load_kind(db, &gstore_rules, &rules, &out->nrules, errbuf, errlen) < 0)
		goto err;
	out->groups = groups;
	out->backends = backends;
	out->rules = rules;
	return 0;
err:
	free(groups);
	free(backends);
	free(rules);
	memset(out, 0, sizeof(*out));
	return -1;
}

void gstore_all_free(struct gstore_all *a)
{
	free(a->groups);
	free(a->backends);
	free(a->rules);
	memset(a, 0, sizeof(*a));
}

/*
 * Runs one write of k: sql with row's columns bound (when row is not NULL)
 * and id as ?id_param (when that is not 0).  Returns the rows changed, or
 * -1 with errbuf filled.
 */
static int gstore_write(struct store *st, const struct gstore_kind *k,
			const char *verb, const char *sql, const void *row,
			int id_param, int64_t id, char *errbuf, size_t errlen)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt = NULL;
	int rc = SQLITE_OK, ret = -1;

	if (gstore_prepare(db, k, verb, sql, &stmt, errbuf, errlen) < 0)
		goto out;
	if (row != NULL)
		rc = k->bind(stmt, row);
	if (rc == SQLITE_OK && id_param != 0)
		rc = sqlite3_bind_int64(stmt, id_param, id);
	if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE) {
		if (id_param != 0)
			gstore_set_err(errbuf, errlen, "gstore: %s %s %" PRId64 ": %s",
				       verb, k->what, id, sqlite3_errmsg(db));
		else
			gstore_set_err(errbuf, errlen, "gstore: %s %s: %s", verb,
				       k->what, sqlite3_errmsg(db));
		goto out;
	}
	ret = sqlite3_changes(db);
out:
	sqlite3_finalize(stmt);
	return ret;
}

static int gstore_insert(struct store *st, const struct gstore_kind *k,
			 const void *row, int64_t *id, char *errbuf, size_t errlen)
{
	if (gstore_write(st, k, "insert", k->insert_sql, row, 0, 0, errbuf, errlen) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

/* Returns 0, 1 when no row has id, or -1. */
static int gstore_update(struct store *st, const struct gstore_kind *k,
			 const void *row, int64_t id, char *errbuf, size_t errlen)
{
	int changed = gstore_write(st, k, "update", k->update_sql, row, k->ncols + 1,
				   id, errbuf, errlen);

	return changed < 0 ? -1 : changed == 0;
}

/* Returns 0, 1 when no row has id, or -1.  The schema cascades a group's. */
static int gstore_delete(struct store *st, const struct gstore_kind *k,
			 int64_t id, char *errbuf, size_t errlen)
{
	int changed = gstore_write(st, k, "delete", k->delete_sql, NULL, 1, id,
				   errbuf, errlen);

	return changed < 0 ? -1 : changed == 0;
}

int gstore_group_insert(struct store *st, struct groups_group *gr,
			char *errbuf, size_t errlen)
{
	return gstore_insert(st, &gstore_groups, gr, &gr->id, errbuf, errlen);
}

int gstore_group_update(struct store *st, const struct groups_group *gr,
			char *errbuf, size_t errlen)
{
	return gstore_update(st, &gstore_groups, gr, gr->id, errbuf, errlen);
}

int gstore_group_delete(struct store *st, int64_t id, char *errbuf,
			size_t errlen)
{
	return gstore_delete(st, &gstore_groups, id, errbuf, errlen);
}

int gstore_backend_insert(struct store *st, struct groups_backend *b,
			  char *errbuf, size_t errlen)
{
	return gstore_insert(st, &gstore_backends, b, &b->b.id, errbuf, errlen);
}

int gstore_backend_update(struct store *st, const struct groups_backend *b,
			  char *errbuf, size_t errlen)
{
	return gstore_update(st, &gstore_backends, b, b->b.id, errbuf, errlen);
}

int gstore_backend_delete(struct store *st, int64_t id, char *errbuf,
			  size_t errlen)
{
	return gstore_delete(st, &gstore_backends, id, errbuf, errlen);
}

int gstore_rule_insert(struct store *st, struct groups_rule *r, char *errbuf,
		       size_t errlen)
{
	return gstore_insert(st, &gstore_rules, r, &r->id, errbuf, errlen);
}

int gstore_rule_update(struct store *st, const struct groups_rule *r,
		       char *errbuf, size_t errlen)
{
	return gstore_update(st, &gstore_rules, r, r->id, errbuf, errlen);
}

int gstore_rule_delete(struct store *st, int64_t id, char *errbuf,
		       size_t errlen)
{
	return gstore_delete(st, &gstore_rules, id, errbuf, errlen);
}
