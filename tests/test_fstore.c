/*
 * Unit tests for fstore: round trips of contested ports and subscribers
 * through a real sqlite file (addresses and socket paths come back as the
 * same bytes), the cascade of a port's delete, unknown ids, the schema's
 * backstops, a row edited by hand, a reopened database, and a database of
 * schema version 2 migrating.
 */
#include <check.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fstore.h"
#include "store.h"
#define TESTDB_NAME "fstore"
#include "testdb.h"

extern const char *const store_migrations[];
extern const unsigned store_migrations_count;

static void setup(void)
{
	remove_db();
	errbuf[0] = '\0';
}

/* A contested port; addr NULL for every local address. */
static struct fctl_port cport(uint16_t port, const char *addr)
{
	struct fctl_port p;

	memset(&p, 0, sizeof(p));
	p.port = port;
	if (addr) {
		p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
		ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
	}
	p.registration_port = (uint16_t)(port + FCTL_REGISTRATION_OFFSET);
	p.enabled = true;
	return p;
}

/* A subscriber; addr is an IP literal, or a path for framed_unix. */
static struct fctl_sub sub(int64_t port_id, enum fctl_mode mode, const char *addr,
			   uint16_t port)
{
	struct fctl_sub s;

	memset(&s, 0, sizeof(s));
	s.port_id = port_id;
	s.mode = mode;
	if (mode == FCTL_FRAMED_UNIX) {
		s.family = AF_UNIX;
		snprintf(s.path, sizeof(s.path), "%s", addr);
	} else {
		s.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
		ck_assert_int_eq(inet_pton(s.family, addr, s.addr), 1);
	}
	s.port = port;
	s.sample_every = 1;
	return s;
}

static void same_port(const struct fctl_port *a, const struct fctl_port *b)
{
	ck_assert_int_eq(a->id, b->id);
	ck_assert_uint_eq(a->port, b->port);
	ck_assert_uint_eq(a->family, b->family);
	ck_assert_mem_eq(a->addr, b->addr, 16);
	ck_assert_uint_eq(a->registration_port, b->registration_port);
	ck_assert_int_eq(a->enabled, b->enabled);
}

static void same_sub(const struct fctl_sub *a, const struct fctl_sub *b)
{
	ck_assert_int_eq(a->id, b->id);
	ck_assert_int_eq(a->port_id, b->port_id);
	ck_assert_int_eq(a->mode, b->mode);
	ck_assert_uint_eq(a->family, b->family);
	ck_assert_mem_eq(a->addr, b->addr, 16);
	ck_assert_uint_eq(a->port, b->port);
	ck_assert_str_eq(a->path, b->path);
	ck_assert_uint_eq(a->sample_every, b->sample_every);
	ck_assert_int_eq(a->registered, b->registered);
}

static void load_ok(struct store *st, struct fstore_all *all)
{
	ck_assert_msg(fstore_load(st, all, errbuf, sizeof(errbuf)) == 0, "load: %s", errbuf);
}

START_TEST(round_trip)
{
	struct store *st = open_store();
	struct fctl_port p1 = cport(162, NULL), p2 = cport(514, "2001:db8::7");
	struct fctl_sub s1, s2, s3, s4;
	struct fstore_all all;

	load_ok(st, &all);
	ck_assert_uint_eq(all.nports + all.nsubs, 0);
	fstore_all_free(&all);

	p2.registration_port = 20514;
	p2.enabled = false;
	ck_assert_int_eq(fstore_port_insert(st, &p1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(fstore_port_insert(st, &p2, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_gt(p2.id, p1.id);
	s1 = sub(p1.id, FCTL_RAW, "10.0.0.5", 9162);
	s2 = sub(p1.id, FCTL_SPOOF, "2001:db8::99", 162);
	s2.sample_every = 1000000;
	s2.registered = true;
	s3 = sub(p2.id, FCTL_FRAMED_UNIX, "/run/portshare/trap.sock", 0);
	s4 = sub(p2.id, FCTL_FRAMED_TCP, "192.0.2.1", 5000);
	s4.sample_every = 10;
	ck_assert_int_eq(fstore_sub_insert(st, &s1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(fstore_sub_insert(st, &s2, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(fstore_sub_insert(st, &s3, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(fstore_sub_insert(st, &s4, errbuf, sizeof(errbuf)), 0);

	load_ok(st, &all);
	ck_assert_uint_eq(all.nports, 2);
	same_port(&all.ports[0], &p1);
	same_port(&all.ports[1], &p2);
	ck_assert_uint_eq(all.nsubs, 4);
	same_sub(&all.subs[0], &s1);
	same_sub(&all.subs[1], &s2);
	same_sub(&all.subs[2], &s3);
	same_sub(&all.subs[3], &s4);
	fstore_all_free(&all);

	/* Updates: an address going away, a subscriber changing mode and port. */
	p2.family = 0;
	memset(p2.addr, 0, 16);
	p2.enabled = true;
	ck_assert_int_eq(fstore_port_update(st, &p2, errbuf, sizeof(errbuf)), 0);
	{
		int64_t id = s3.id;

		s3 = sub(p1.id, FCTL_FRAMED_UDP, "127.0.0.1", 7000);
		s3.id = id;
	}
	ck_assert_int_eq(fstore_sub_update(st, &s3, errbuf, sizeof(errbuf)), 0);
	load_ok(st, &all);
	same_port(&all.ports[1], &p2);
	same_sub(&all.subs[2], &s3);
	fstore_all_free(&all);
	store_close(st);
}
END_TEST

START_TEST(delete_cascades)
{
	struct store *st = open_store();
	struct fctl_port p1 = cport(162, NULL), p2 = cport(161, "10.0.0.1");
	struct fctl_sub s1, s2, s3;
	struct fstore_all all;

	ck_assert_int_eq(fstore_port_insert(st, &p1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(fstore_port_insert(st, &p2, errbuf, sizeof(errbuf)), 0);
	s1 = sub(p1.id, FCTL_RAW, "10.0.0.5", 9001);
	s2 = sub(p2.id, FCTL_RAW, "10.0.0.5", 9002);
	s3 = sub(p1.id, FCTL_RAW, "10.0.0.5", 9003);
	ck_assert_int_eq(fstore_sub_insert(st, &s1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(fstore_sub_insert(st, &s2, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(fstore_sub_insert(st, &s3, errbuf, sizeof(errbuf)), 0);

	ck_assert_int_eq(fstore_port_delete(st, p1.id, errbuf, sizeof(errbuf)), 0);
	load_ok(st, &all);
	ck_assert_uint_eq(all.nports, 1);
	same_port(&all.ports[0], &p2);
	ck_assert_uint_eq(all.nsubs, 1);
	same_sub(&all.subs[0], &s2);
	fstore_all_free(&all);

	ck_assert_int_eq(fstore_sub_delete(st, s2.id, errbuf, sizeof(errbuf)), 0);
	load_ok(st, &all);
	ck_assert_uint_eq(all.nports, 1);
	ck_assert_uint_eq(all.nsubs, 0);
	fstore_all_free(&all);

	/* AUTOINCREMENT: ids of deleted rows are not handed out again. */
	ck_assert_int_eq(fstore_port_insert(st, &p1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_gt(p1.id, p2.id);
	s1.port_id = p1.id;
	ck_assert_int_eq(fstore_sub_insert(st, &s1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_gt(s1.id, s3.id);
	store_close(st);
}
END_TEST

START_TEST(unknown_ids)
{
	struct store *st = open_store();
	struct fctl_port p = cport(162, NULL);
	struct fctl_sub s;

	p.id = 42;
	ck_assert_int_eq(fstore_port_update(st, &p, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(fstore_port_delete(st, 42, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(fstore_port_insert(st, &p, errbuf, sizeof(errbuf)), 0);
	s = sub(p.id, FCTL_RAW, "10.0.0.1", 9000);
	s.id = 42;
	ck_assert_int_eq(fstore_sub_update(st, &s, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(fstore_sub_delete(st, 42, errbuf, sizeof(errbuf)), 1);

	/* The foreign key refuses a subscriber of a port that does not exist. */
	s.port_id = 4242;
	ck_assert_int_eq(fstore_sub_insert(st, &s, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "FOREIGN KEY"));
	store_close(st);
}
END_TEST

START_TEST(schema_backstops)
{
	struct store *st = open_store();
	struct fctl_port p = cport(162, "10.0.0.1"), q;
	struct fctl_sub s, t;

	ck_assert_int_eq(fstore_port_insert(st, &p, errbuf, sizeof(errbuf)), 0);
	/* The same (port, address) twice; then the same registration port. */
	q = p;
	ck_assert_int_eq(fstore_port_insert(st, &q, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "UNIQUE"));
	q = cport(163, NULL);
	q.registration_port = p.registration_port;
	ck_assert_int_eq(fstore_port_insert(st, &q, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "UNIQUE"));
	/* A registration port that is the port itself; port 0; a family that is no IP. */
	q.registration_port = 163;
	ck_assert_int_eq(fstore_port_insert(st, &q, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "CHECK"));
	q = cport(0, NULL);
	ck_assert_int_eq(fstore_port_insert(st, &q, errbuf, sizeof(errbuf)), -1);
	q = cport(164, NULL);
	q.family = AF_UNIX;
	ck_assert_int_eq(fstore_port_insert(st, &q, errbuf, sizeof(errbuf)), -1);

	/* One target once per port, whatever the mode. */
	s = sub(p.id, FCTL_RAW, "10.0.0.5", 9000);
	ck_assert_int_eq(fstore_sub_insert(st, &s, errbuf, sizeof(errbuf)), 0);
	t = s;
	t.mode = FCTL_FRAMED_UDP;
	ck_assert_int_eq(fstore_sub_insert(st, &t, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "UNIQUE"));
	/* framed_unix has port 0 and an absolute path; the others a port. */
	t = sub(p.id, FCTL_FRAMED_UNIX, "/run/x.sock", 0);
	t.port = 5;
	ck_assert_int_eq(fstore_sub_insert(st, &t, errbuf, sizeof(errbuf)), -1);
	t = sub(p.id, FCTL_FRAMED_UNIX, "relative.sock", 0);
	ck_assert_int_eq(fstore_sub_insert(st, &t, errbuf, sizeof(errbuf)), -1);
	t = sub(p.id, FCTL_RAW, "10.0.0.6", 0);
	ck_assert_int_eq(fstore_sub_insert(st, &t, errbuf, sizeof(errbuf)), -1);
	t = sub(p.id, FCTL_RAW, "10.0.0.6", 1);
	t.sample_every = 1000001;
	ck_assert_int_eq(fstore_sub_insert(st, &t, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "CHECK"));
	t.sample_every = 1;
	t.mode = FCTL_MODE_COUNT;
	ck_assert_int_eq(fstore_sub_insert(st, &t, errbuf, sizeof(errbuf)), -1);
	t.mode = FCTL_RAW;
	t.family = 0;
	ck_assert_int_eq(fstore_sub_insert(st, &t, errbuf, sizeof(errbuf)), -1);
	store_close(st);
}
END_TEST

/* Runs one statement on a second, independent connection. */
static void side_exec(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
	sqlite3_close(db);
}

START_TEST(bad_row_reported)
{
	struct store *st = open_store();
	struct fctl_port p = cport(162, NULL);
	struct fctl_sub s;
	struct fstore_all all;

	ck_assert_int_eq(fstore_port_insert(st, &p, errbuf, sizeof(errbuf)), 0);
	s = sub(p.id, FCTL_RAW, "10.0.0.5", 9000);
	ck_assert_int_eq(fstore_sub_insert(st, &s, errbuf, sizeof(errbuf)), 0);
	/* Each passes the CHECKs, but is no address. */
	side_exec("UPDATE contested SET address = 'not-an-ip'");
	ck_assert_int_eq(fstore_load(st, &all, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "bad address"));
	ck_assert_ptr_null(all.ports);
	side_exec("UPDATE contested SET address = NULL");
	side_exec("UPDATE subscribers SET address = '/not/an/ip'");
	ck_assert_int_eq(fstore_load(st, &all, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "subscriber"));
	ck_assert_ptr_nonnull(strstr(errbuf, "bad address"));
	side_exec("UPDATE subscribers SET address = '10.0.0.5'");
	load_ok(st, &all);
	ck_assert_uint_eq(all.nsubs, 1);
	fstore_all_free(&all);
	store_close(st);
}
END_TEST

START_TEST(reopen_keeps_rows)
{
	struct store *st = open_store();
	struct fctl_port p = cport(162, "10.9.8.7");
	struct fctl_sub s;
	struct fstore_all all;

	ck_assert_int_eq(store_schema_version(st), (int)store_migrations_count);
	ck_assert_int_eq(fstore_port_insert(st, &p, errbuf, sizeof(errbuf)), 0);
	s = sub(p.id, FCTL_FRAMED_UNIX, "/tmp/sub.sock", 0);
	s.registered = true;
	ck_assert_int_eq(fstore_sub_insert(st, &s, errbuf, sizeof(errbuf)), 0);
	store_close(st);

	/* A second open applies no migration again (it would fail: the tables exist). */
	st = open_store();
	ck_assert_int_eq(store_schema_version(st), (int)store_migrations_count);
	load_ok(st, &all);
	ck_assert_uint_eq(all.nports, 1);
	same_port(&all.ports[0], &p);
	ck_assert_uint_eq(all.nsubs, 1);
	same_sub(&all.subs[0], &s);
	fstore_all_free(&all);
	store_close(st);
}
END_TEST

/* The number of rows of a table, read on a second connection. */
static int side_count(const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	char sql[64];
	int n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

START_TEST(migrates_from_version_2)
{
	sqlite3 *db;
	struct store *st;
	struct fstore_all all;
	struct fctl_port p = cport(162, NULL);
	struct fctl_sub s;

	ck_assert_uint_ge(store_migrations_count, 3);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, store_migrations[1], NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=2; INSERT INTO mappings "
				      "(proto, address, shared_port, assigned_port) VALUES "
				      "('tcp', '10.0.0.1', 80, 8080); INSERT INTO groups "
				      "(name, aid, virtual_port, proto, policy) VALUES "
				      "('web', 'app.web', 80, 'tcp', 'round_robin')",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = open_store();
	ck_assert_int_eq(store_schema_version(st), (int)store_migrations_count);
	ck_assert_int_eq(side_count("mappings"), 1);
	ck_assert_int_eq(side_count("groups"), 1);
	load_ok(st, &all);
	ck_assert_uint_eq(all.nports + all.nsubs, 0);
	fstore_all_free(&all);
	ck_assert_int_eq(fstore_port_insert(st, &p, errbuf, sizeof(errbuf)), 0);
	s = sub(p.id, FCTL_RAW, "10.0.0.5", 9000);
	ck_assert_int_eq(fstore_sub_insert(st, &s, errbuf, sizeof(errbuf)), 0);
	store_close(st);
}
END_TEST

static Suite *fstore_suite(void)
{
	Suite *s = suite_create("fstore");
	TCase *tc = tcase_create("fstore");

	tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, delete_cascades);
	tcase_add_test(tc, unknown_ids);
	tcase_add_test(tc, schema_backstops);
	tcase_add_test(tc, bad_row_reported);
	tcase_add_test(tc, reopen_keeps_rows);
	tcase_add_test(tc, migrates_from_version_2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fstore_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
