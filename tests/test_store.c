/*
 * Unit tests for store: schema creation and migration bookkeeping, the
 * journal mode, CRUD round trips, refusal of files it must not touch, and
 * the generic table code (store_table_*) that gstore and fstore use.
 * The tests share one temporary directory under /tmp, created and removed
 * by the parent process so that it goes away even when a forked test fails.
 */
#include <check.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mapping.h"
#include "store.h"
#define TESTDB_NAME "store"
#include "testdb.h"

extern const unsigned store_migrations_count;

/* Each test starts without a database, whatever the previous one left. */
static void setup(void)
{
	remove_db();
	errbuf[0] = '\0';
}

static struct mapping make(unsigned proto, const char *address,
			   uint32_t shared, uint32_t assigned, const char *comment)
{
	struct mapping m;

	memset(&m, 0, sizeof(m));
	m.proto = proto;
	snprintf(m.address, sizeof(m.address), "%s", address);
	m.shared_port = shared;
	m.assigned_port = assigned;
	m.enabled = true;
	snprintf(m.comment, sizeof(m.comment), "%s", comment);
	return m;
}

static void assert_same(const struct mapping *a, const struct mapping *b)
{
	ck_assert_int_eq(a->id, b->id);
	ck_assert_uint_eq(a->proto, b->proto);
	ck_assert_str_eq(a->address, b->address);
	ck_assert_int_eq(a->family, b->family);
	ck_assert_uint_eq(a->shared_port, b->shared_port);
	ck_assert_uint_eq(a->assigned_port, b->assigned_port);
	ck_assert_int_eq(a->enabled, b->enabled);
	ck_assert_str_eq(a->comment, b->comment);
}

/* Runs one statement on a second, independent connection. */
static void side_exec(const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void side_query_text(const char *sql, char *out, size_t outlen)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

START_TEST(open_creates_schema)
{
	struct store *st = open_store();
	char text[64];

	ck_assert_uint_ge(store_migrations_count, 1);
	ck_assert_int_eq(store_schema_version(st), (int)store_migrations_count);

	side_query_text("PRAGMA user_version", text, sizeof(text));
	ck_assert_int_eq(atoi(text), (int)store_migrations_count);
	side_query_text("PRAGMA journal_mode", text, sizeof(text));
	ck_assert_str_eq(text, "wal");
	side_query_text("SELECT count(*) FROM sqlite_master WHERE name = 'mappings'",
			text, sizeof(text));
	ck_assert_str_eq(text, "1");
	store_close(st);
}
END_TEST

START_TEST(crud_round_trip)
{
	struct store *st = open_store();
	struct mapping a = make(MAPPING_TCP, "10.0.0.1", 80, 8080, "web");
	struct mapping b = make(MAPPING_BOTH, "2001:db8::1", 53, 5353, "dns \"quoted\"");
	struct mapping c = make(MAPPING_UDP, "host.example", 500, 4500, "");
	struct mapping got, *rows = NULL;
	size_t n = 99;

	ck_assert_int_eq(store_mapping_list(st, &rows, &n, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 0);
	free(rows);

	a.family = AF_INET;
	b.family = AF_INET6;
	c.enabled = false;
	ck_assert_int_eq(store_mapping_insert(st, &a, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(store_mapping_insert(st, &b, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(store_mapping_insert(st, &c, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_gt(a.id, 0);
	ck_assert_int_gt(b.id, a.id);
	ck_assert_int_gt(c.id, b.id);

	ck_assert_int_eq(store_mapping_get(st, b.id, &got, errbuf, sizeof(errbuf)), 0);
	assert_same(&got, &b);

	ck_assert_int_eq(store_mapping_list(st, &rows, &n, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 3);
	assert_same(&rows[0], &a);
	assert_same(&rows[1], &b);
	assert_same(&rows[2], &c);
	free(rows);

	a.shared_port = 81;
	a.proto = MAPPING_BOTH;
	a.enabled = false;
	strcpy(a.comment, "moved");
	ck_assert_int_eq(store_mapping_update(st, &a, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(store_mapping_get(st, a.id, &got, errbuf, sizeof(errbuf)), 0);
	assert_same(&got, &a);

	/* Updating a row to the values it already holds still finds it. */
	ck_assert_int_eq(store_mapping_update(st, &a, errbuf, sizeof(errbuf)), 0);

	ck_assert_int_eq(store_mapping_delete(st, b.id, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(store_mapping_get(st, b.id, &got, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(store_mapping_list(st, &rows, &n, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 2);
	assert_same(&rows[0], &a);
	assert_same(&rows[1], &c);
	free(rows);

	/* AUTOINCREMENT: a deleted id is not handed out again. */
	ck_assert_int_eq(store_mapping_delete(st, c.id, errbuf, sizeof(errbuf)), 0);
	b.id = 0;
	ck_assert_int_eq(store_mapping_insert(st, &b, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_gt(b.id, c.id);
	store_close(st);
}
END_TEST

START_TEST(missing_ids)
{
	struct store *st = open_store();
	struct mapping m = make(MAPPING_TCP, "10.0.0.1", 80, 8080, "");

	ck_assert_int_eq(store_mapping_get(st, 42, &m, errbuf, sizeof(errbuf)), 1);
	m.id = 42;
	ck_assert_int_eq(store_mapping_update(st, &m, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(store_mapping_delete(st, 42, errbuf, sizeof(errbuf)), 1);
	store_close(st);
}
END_TEST

START_TEST(reopen_keeps_data)
{
	struct store *st = open_store();
	struct mapping m = make(MAPPING_UDP, "example.org", 1194, 11940, "vpn");
	struct mapping got;

	ck_assert_int_eq(store_mapping_insert(st, &m, errbuf, sizeof(errbuf)), 0);
	store_close(st);

	st = open_store();
	ck_assert_int_eq(store_schema_version(st), (int)store_migrations_count);
	ck_assert_int_eq(store_mapping_get(st, m.id, &got, errbuf, sizeof(errbuf)), 0);
	assert_same(&got, &m);
	store_close(st);
}
END_TEST

START_TEST(newer_schema_refused)
{
	char sql[64];

	store_close(open_store());
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%u",
		 store_migrations_count + 1);
	side_exec(sql);
	ck_assert_ptr_null(store_open(db_path, errbuf, sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "schema version") != NULL &&
		      strstr(errbuf, "newer") != NULL, "%s", errbuf);
}
END_TEST

START_TEST(check_changes_nothing)
{
	struct store *st;
	struct mapping m = make(MAPPING_TCP, "198.18.0.1", 80, 8081, "");
	struct stat before, after;
	char wal[160];
	size_t n = 99;

	/* No file yet: reported as such, and not created. */
	ck_assert_int_eq(store_check(db_path, &n, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(access(db_path, F_OK), -1);
	st = open_store();
	ck_assert_int_eq(store_mapping_insert(st, &m, errbuf, sizeof(errbuf)), 0);
	store_close(st);
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	unlink(wal);
	ck_assert_int_eq(stat(db_path, &before), 0);
	ck_assert_int_eq(store_check(db_path, &n, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(stat(db_path, &after), 0);
	ck_assert_int_eq(before.st_mtime, after.st_mtime);
	ck_assert_int_eq(before.st_size, after.st_size);
}
END_TEST

START_TEST(check_refuses_newer_schema)
{
	char sql[64];
	size_t n;

	store_close(open_store());
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%u",
		 store_migrations_count + 1);
	side_exec(sql);
	ck_assert_int_eq(store_check(db_path, &n, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "schema version") != NULL, "%s", errbuf);
}
END_TEST

START_TEST(corrupt_file_refused)
{
	static const char garbage[] =
		"this is not an sqlite database, just bytes that look like one "
		"to nobody; sqlite must notice on the first read.";
	int fd = open(db_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char big[8192];

	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = garbage[i % (sizeof(garbage) - 1)];
	ck_assert_int_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);

	ck_assert_ptr_null(store_open(db_path, errbuf, sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "not a database") != NULL, "%s", errbuf);
	ck_assert_msg(strstr(errbuf, db_path) != NULL, "%s", errbuf);
}
END_TEST

START_TEST(unreachable_path_refused)
{
	ck_assert_ptr_null(store_open("/nonexistent-dir/portshare.db", errbuf,
				      sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "/nonexistent-dir/portshare.db") != NULL,
		      "%s", errbuf);
}
END_TEST

START_TEST(unique_backstop)
{
	struct store *st = open_store();
	struct mapping a = make(MAPPING_TCP, "10.0.0.1", 80, 8080, "");
	struct mapping dup = make(MAPPING_TCP, "10.0.0.1", 80, 9090, "");
	struct mapping rev = make(MAPPING_TCP, "10.0.0.1", 81, 8080, "");
	struct mapping other = make(MAPPING_UDP, "10.0.0.1", 80, 8080, "");

	ck_assert_int_eq(store_mapping_insert(st, &a, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(store_mapping_insert(st, &dup, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "UNIQUE constraint failed") != NULL, "%s",
		      errbuf);
	ck_assert_msg(strncmp(errbuf, "store: insert mapping:", 22) == 0, "%s",
		      errbuf);
	ck_assert_int_eq(store_mapping_insert(st, &rev, errbuf, sizeof(errbuf)), -1);
	ck_assert_int_eq(store_mapping_insert(st, &other, errbuf, sizeof(errbuf)), 0);

	/* An update into a clash is refused the same way and leaves the row. */
	other.proto = MAPPING_TCP;
	ck_assert_int_eq(store_mapping_update(st, &other, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "UNIQUE constraint failed") != NULL, "%s",
		      errbuf);
	store_close(st);
}
END_TEST

/* The CHECK constraints refuse what validation would have refused. */
START_TEST(check_constraints)
{
	struct store *st = open_store();
	struct mapping m = make(0, "10.0.0.1", 80, 8080, "");

	ck_assert_int_eq(store_mapping_insert(st, &m, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "CHECK constraint failed") != NULL, "%s", errbuf);
	m = make(MAPPING_TCP, "10.0.0.1", 0, 8080, "");
	ck_assert_int_eq(store_mapping_insert(st, &m, errbuf, sizeof(errbuf)), -1);
	m = make(MAPPING_TCP, "10.0.0.1", 80, 65536, "");
	ck_assert_int_eq(store_mapping_insert(st, &m, errbuf, sizeof(errbuf)), -1);
	m = make(MAPPING_TCP, "10.0.0.1", 80, 80, "");
	ck_assert_int_eq(store_mapping_insert(st, &m, errbuf, sizeof(errbuf)), -1);
	store_close(st);
}
END_TEST

/* A row edited by hand into something invalid is reported, not loaded. */
START_TEST(bad_row_reported)
{
	struct store *st = open_store();
	struct mapping *rows = NULL;
	size_t n = 0;

	side_exec("INSERT INTO mappings (proto, address, shared_port, assigned_port) "
		  "VALUES ('tcp', 'bad..name', 80, 8080)");
	ck_assert_int_eq(store_mapping_list(st, &rows, &n, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "mapping 1") != NULL &&
		      strstr(errbuf, "empty label") != NULL, "%s", errbuf);
	store_close(st);
}
END_TEST

/*
 * The generic table code gstore and fstore build on, over a table of this
 * test's own: {id, name NOT NULL, address (NULL or a literal), n}.
 */
struct thing {
	int64_t id;
	char name[8];
	uint8_t family;
	uint8_t addr[16];
	int64_t n;
};

static void thing_bind(struct store_row *r, const void *row)
{
	const struct thing *t = row;

	/* A name of 8 bytes is not NUL-terminated: bind exactly its length. */
	store_bind_text(r, 1, t->name, (int)strnlen(t->name, sizeof(t->name)));
	store_bind_addr(r, 2, t->family, t->addr);
	if (t->n < 0)
		store_bind_null(r, 3);
	else
		store_bind_int(r, 3, t->n);
}

static const char *thing_read(const struct store_row *r, void *row)
{
	struct thing *t = row;

	memset(t, 0, sizeof(*t));
	t->id = store_col_int(r, 0);
	if (!store_col_copy(r, 1, t->name, sizeof(t->name)))
		return "name";
	if (!store_col_null(r, 2) &&
	    !mapping_addr_parse(store_col_text(r, 2), &t->family, t->addr))
		return "address";
	t->n = store_col_null(r, 3) ? -1 : store_col_int(r, 3);
	return NULL;
}

static const struct store_table things = {
	"test", "thing", sizeof(struct thing), 3,
	"SELECT id, name, address, n FROM things ORDER BY id",
	"INSERT INTO things (name, address, n) VALUES (?1, ?2, ?3)",
	"UPDATE things SET name = ?1, address = ?2, n = ?3 WHERE id = ?4",
	"DELETE FROM things WHERE id = ?1",
	thing_bind, thing_read,
};

static struct thing thing_make(const char *name, const char *addr, int64_t n)
{
	struct thing t;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	if (addr != NULL)
		ck_assert(mapping_addr_parse(addr, &t.family, t.addr));
	t.n = n;
	return t;
}

START_TEST(table_round_trip)
{
	struct store *st = open_store();
	struct thing a = thing_make("a", "192.0.2.1", 5);
	struct thing b = thing_make("b", NULL, -1);
	struct thing *rows = NULL;
	void *loaded = NULL;
	char text[64];
	size_t n = 99;

	side_exec("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
		  "address TEXT, n INTEGER)");
	ck_assert_int_eq(store_table_load(st, &things, &loaded, &n, errbuf,
					  sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 0);
	free(loaded);
	ck_assert_int_eq(store_table_insert(st, &things, &a, &a.id, errbuf,
					    sizeof(errbuf)), 0);
	ck_assert_int_eq(store_table_insert(st, &things, &b, &b.id, errbuf,
					    sizeof(errbuf)), 0);
	ck_assert_int_eq(a.id, 1);
	ck_assert_int_eq(b.id, 2);
	side_query_text("SELECT address FROM things WHERE id = 1", text, sizeof(text));
	ck_assert_str_eq(text, "192.0.2.1");

	b = thing_make("bb", "2001:db8::1", 7);
	b.id = 2;
	ck_assert_int_eq(store_table_update(st, &things, &b, 2, errbuf,
					    sizeof(errbuf)), 0);
	ck_assert_int_eq(store_table_update(st, &things, &b, 42, errbuf,
					    sizeof(errbuf)), 1);
	ck_assert_int_eq(store_table_load(st, &things, &loaded, &n, errbuf,
					  sizeof(errbuf)), 0);
	rows = loaded;
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].name, "a");
	ck_assert_int_eq(rows[0].family, AF_INET);
	ck_assert_int_eq(rows[0].n, 5);
	ck_assert_int_eq(rows[1].id, 2);
	ck_assert_str_eq(rows[1].name, "bb");
	ck_assert_int_eq(rows[1].family, AF_INET6);
	ck_assert_mem_eq(rows[1].addr, b.addr, 16);
	ck_assert_int_eq(rows[1].n, 7);
	free(rows);

	ck_assert_int_eq(store_table_delete(st, &things, 1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(store_table_delete(st, &things, 1, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(store_table_load(st, &things, &loaded, &n, errbuf,
					  sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 1);
	free(loaded);
	store_close(st);
}
END_TEST

/* A failed write, a bad row and a missing table are each one message. */
START_TEST(table_errors)
{
	struct store *st = open_store();
	struct thing t = thing_make("x", NULL, 1);
	void *loaded = (void *)1;
	size_t n = 0;

	side_exec("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
		  "CHECK (length(name) < 8), address TEXT, n INTEGER)");
	/* The 8-byte name is bound whole, and the CHECK refuses it. */
	memcpy(t.name, "12345678", 8);
	ck_assert_int_eq(store_table_insert(st, &things, &t, &t.id, errbuf,
					    sizeof(errbuf)), -1);
	ck_assert_msg(strncmp(errbuf, "test: insert thing: ", 20) == 0, "%s", errbuf);
	side_exec("INSERT INTO things (id, name, address) VALUES (3, 'ok', NULL)");
	ck_assert_int_eq(store_table_update(st, &things, &t, 3, errbuf,
					    sizeof(errbuf)), -1);
	ck_assert_msg(strncmp(errbuf, "test: update thing 3: ", 22) == 0, "%s", errbuf);

	side_exec("INSERT INTO things (id, name, address) VALUES (4, 'x', 'not an address')");
	ck_assert_int_eq(store_table_load(st, &things, &loaded, &n, errbuf,
					  sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "test: thing 4: bad address");
	ck_assert_ptr_eq(loaded, (void *)1);
	side_exec("DROP TABLE things");
	ck_assert_int_eq(store_table_load(st, &things, &loaded, &n, errbuf,
					  sizeof(errbuf)), -1);
	ck_assert_msg(strncmp(errbuf, "test: list thing", 16) == 0, "%s", errbuf);
	ck_assert_int_eq(store_table_delete(st, &things, 1, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strncmp(errbuf, "test: delete thing: ", 20) == 0, "%s", errbuf);
	store_close(st);
}
END_TEST

START_TEST(addr_parse_format)
{
	uint8_t family = 0, addr[16];
	char out[STORE_ADDR_LEN];

	ck_assert(mapping_addr_parse("10.1.2.3", &family, addr));
	ck_assert_int_eq(family, AF_INET);
	store_addr_format(family, addr, out);
	ck_assert_str_eq(out, "10.1.2.3");
	ck_assert(mapping_addr_parse("2001:DB8::0:1", &family, addr));
	ck_assert_int_eq(family, AF_INET6);
	store_addr_format(family, addr, out);
	ck_assert_str_eq(out, "2001:db8::1");
	ck_assert(!mapping_addr_parse("10.1.2", &family, addr));
	ck_assert(!mapping_addr_parse("", &family, addr));
	ck_assert(!mapping_addr_parse("10.0.0.1/8", &family, addr));
	store_addr_format(0, addr, out);
	ck_assert_str_eq(out, "");
}
END_TEST

/*
 * store_mapping_replace: ids given are kept, missing ones are new and
 * never reuse an old id; a failing row rolls everything back.
 */
START_TEST(replace_keeps_and_assigns_ids)
{
	struct store *st = open_store();
	struct mapping a = make(MAPPING_TCP, "10.0.0.1", 80, 8080, "a");
	struct mapping b = make(MAPPING_TCP, "10.0.0.2", 80, 8080, "b");
	struct mapping rows[3];
	struct mapping *list = NULL;
	size_t n = 0;

	ck_assert_int_eq(store_mapping_insert(st, &a, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(store_mapping_insert(st, &b, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(b.id, 2);
	/* An id-less row first: it must not take 7, which a later row keeps. */
	rows[0] = make(MAPPING_UDP, "10.0.0.3", 53, 5353, "new");
	rows[1] = make(MAPPING_TCP, "10.0.0.1", 81, 8081, "kept id 1");
	rows[1].id = 1;
	rows[2] = make(MAPPING_TCP, "10.0.0.4", 80, 8080, "x'); DROP TABLE mappings;--");
	rows[2].id = 7;
	ck_assert_msg(store_mapping_replace(st, rows, 3, errbuf, sizeof(errbuf)) == 0,
		      "%s", errbuf);
	ck_assert_int_eq(rows[0].id, 8);
	ck_assert_int_eq(store_mapping_list(st, &list, &n, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(list[0].id, 1);
	ck_assert_str_eq(list[0].comment, "kept id 1");
	ck_assert_int_eq(list[1].id, 7);
	/* Bound, never spliced into SQL: the comment is stored as it is. */
	ck_assert_str_eq(list[1].comment, "x'); DROP TABLE mappings;--");
	ck_assert_int_eq(list[2].id, 8);
	free(list);

	/* An empty table is a valid table; ids still never come back. */
	ck_assert_int_eq(store_mapping_replace(st, rows, 0, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(store_mapping_list(st, &list, &n, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 0);
	free(list);
	a.id = 0;
	ck_assert_int_eq(store_mapping_insert(st, &a, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(a.id, 9);
	store_close(st);
}
END_TEST

START_TEST(replace_all_or_nothing)
{
	struct store *st = open_store();
	struct mapping a = make(MAPPING_TCP, "10.0.0.1", 80, 8080, "a");
	struct mapping rows[2];
	struct mapping *list = NULL;
	size_t n = 0;

	ck_assert_int_eq(store_mapping_insert(st, &a, errbuf, sizeof(errbuf)), 0);
	rows[0] = make(MAPPING_TCP, "10.0.0.2", 80, 8080, "fine");
	/* The second row breaks a CHECK constraint after the first went in. */
	rows[1] = make(MAPPING_TCP, "10.0.0.3", 80, 80, "bad");
	ck_assert_int_eq(store_mapping_replace(st, rows, 2, errbuf, sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "CHECK constraint failed") != NULL, "%s", errbuf);
	ck_assert_int_eq(store_mapping_list(st, &list, &n, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].id, a.id);
	ck_assert_str_eq(list[0].comment, "a");
	free(list);
	/* The store is usable afterwards: no transaction was left open. */
	rows[1].assigned_port = 8081;
	ck_assert_int_eq(store_mapping_replace(st, rows, 2, errbuf, sizeof(errbuf)), 0);
	store_close(st);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, open_creates_schema);
	tcase_add_test(tc, crud_round_trip);
	tcase_add_test(tc, missing_ids);
	tcase_add_test(tc, reopen_keeps_data);
	tcase_add_test(tc, newer_schema_refused);
	tcase_add_test(tc, check_changes_nothing);
	tcase_add_test(tc, check_refuses_newer_schema);
	tcase_add_test(tc, corrupt_file_refused);
	tcase_add_test(tc, unreachable_path_refused);
	tcase_add_test(tc, unique_backstop);
	tcase_add_test(tc, check_constraints);
	tcase_add_test(tc, bad_row_reported);
	tcase_add_test(tc, replace_keeps_and_assigns_ids);
	tcase_add_test(tc, replace_all_or_nothing);
	tcase_add_test(tc, table_round_trip);
	tcase_add_test(tc, table_errors);
	tcase_add_test(tc, addr_parse_format);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
