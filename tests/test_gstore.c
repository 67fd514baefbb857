/*
 * Unit tests for gstore: round trips of groups, backends and rules through
 * a real sqlite file (addresses come back as the same bytes), the cascade
 * of a group's delete, unknown ids, the schema's backstops, a reopened
 * database, and a database of schema version 1 migrating.
 */
#include <check.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

#include "gstore.h"
#include "store.h"
#define TESTDB_NAME "gstore"
#include "testdb.h"

extern const char *const store_migrations[];
extern const unsigned store_migrations_count;

static void setup(void)
{
	remove_db();
	errbuf[0] = '\0';
}

static struct groups_group group(const char *name, const char *addr, uint16_t port)
{
	struct groups_group g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.aid, sizeof(g.aid), "aid-%s", name);
	if (addr) {
		g.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
		ck_assert_int_eq(inet_pton(g.family, addr, g.addr), 1);
	}
	g.virtual_port = port;
	g.protos = 3;
	g.policy = SCHED_LEAST_FLOWS;
	g.max_wait_ms = 1500;
	g.on_timeout = GROUPS_DROP;
	g.is_default = true;
	return g;
}

static struct groups_backend backend(int64_t group_id, uint16_t port)
{
	struct groups_backend b;

	memset(&b, 0, sizeof(b));
	b.group_id = group_id;
	b.b.port = port;
	b.b.weight = 7;
	b.b.max_flows = 100;
	b.b.state = SCHED_DRAIN;
	return b;
}

static struct groups_rule rule(int64_t group_id, const char *addr, uint8_t len)
{
	struct groups_rule r;

	memset(&r, 0, sizeof(r));
	r.group_id = group_id;
	r.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(r.family, addr, r.addr), 1);
	r.prefix_len = len;
	return r;
}

/* Compares every configured field (not the snapshot's or the counters). */
static void same_group(const struct groups_group *a, const struct groups_group *b)
{
	ck_assert_int_eq(a->id, b->id);
	ck_assert_str_eq(a->name, b->name);
	ck_assert_str_eq(a->aid, b->aid);
	ck_assert_uint_eq(a->family, b->family);
	ck_assert_mem_eq(a->addr, b->addr, 16);
	ck_assert_uint_eq(a->virtual_port, b->virtual_port);
	ck_assert_uint_eq(a->protos, b->protos);
	ck_assert_int_eq(a->policy, b->policy);
	ck_assert_uint_eq(a->max_wait_ms, b->max_wait_ms);
	ck_assert_int_eq(a->on_timeout, b->on_timeout);
	ck_assert_int_eq(a->is_default, b->is_default);
}

static void same_backend(const struct groups_backend *a, const struct groups_backend *b)
{
	ck_assert_int_eq(a->b.id, b->b.id);
	ck_assert_int_eq(a->group_id, b->group_id);
	ck_assert_uint_eq(a->b.port, b->b.port);
	ck_assert_uint_eq(a->b.weight, b->b.weight);
	ck_assert_uint_eq(a->b.max_flows, b->b.max_flows);
	ck_assert_int_eq(a->b.state, b->b.state);
	ck_assert_ptr_null(a->b.active);
}

static void same_rule(const struct groups_rule *a, const struct groups_rule *b)
{
	ck_assert_int_eq(a->id, b->id);
	ck_assert_int_eq(a->group_id, b->group_id);
	ck_assert_uint_eq(a->family, b->family);
	ck_assert_mem_eq(a->addr, b->addr, 16);
	ck_assert_uint_eq(a->prefix_len, b->prefix_len);
	ck_assert_int_eq(a->has_ports, b->has_ports);
	ck_assert_uint_eq(a->port_lo, b->port_lo);
	ck_assert_uint_eq(a->port_hi, b->port_hi);
}

static void load_ok(struct store *st, struct gstore_all *all)
{
	ck_assert_msg(gstore_load(st, all, errbuf, sizeof(errbuf)) == 0, "load: %s", errbuf);
}

START_TEST(round_trip)
{
	struct store *st = open_store();
	struct groups_group g1 = group("web", NULL, 80), g2 = group("v6", "2001:db8::7", 443);
	struct groups_backend b1, b2;
	struct groups_rule r1, r2;
	struct gstore_all all;

	load_ok(st, &all);
	ck_assert_uint_eq(all.ngroups + all.nbackends + all.nrules, 0);
	gstore_all_free(&all);

	g2.protos = 1;
	g2.policy = SCHED_SOURCE_HASH;
	g2.on_timeout = GROUPS_RESET;
	g2.is_default = false;
	g2.max_wait_ms = 0;
	ck_assert_int_eq(gstore_group_insert(st, &g1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_group_insert(st, &g2, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_gt(g2.id, g1.id);
	b1 = backend(g1.id, 8080);
	b2 = backend(g2.id, 8443);
	b2.b.state = SCHED_ACTIVE;
	b2.b.max_flows = 0;
	ck_assert_int_eq(gstore_backend_insert(st, &b1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_backend_insert(st, &b2, errbuf, sizeof(errbuf)), 0);
	r1 = rule(g1.id, "10.1.2.0", 24);
	r1.has_ports = true;
	r1.port_lo = 1000;
	r1.port_hi = 2000;
	r2 = rule(g2.id, "2001:db8:1::", 48);
	ck_assert_int_eq(gstore_rule_insert(st, &r1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_rule_insert(st, &r2, errbuf, sizeof(errbuf)), 0);

	load_ok(st, &all);
	ck_assert_uint_eq(all.ngroups, 2);
	same_group(&all.groups[0], &g1);
	same_group(&all.groups[1], &g2);
	ck_assert_uint_eq(all.nbackends, 2);
	same_backend(&all.backends[0], &b1);
	same_backend(&all.backends[1], &b2);
	ck_assert_uint_eq(all.nrules, 2);
	same_rule(&all.rules[0], &r1);
	same_rule(&all.rules[1], &r2);
	gstore_all_free(&all);

	/* Updates, including an address going away and a port range too. */
	g2.family = 0;
	memset(g2.addr, 0, 16);
	strcpy(g2.name, "renamed");
	ck_assert_int_eq(gstore_group_update(st, &g2, errbuf, sizeof(errbuf)), 0);
	b1.b.port = 9090;
	b1.b.weight = 1000;
	ck_assert_int_eq(gstore_backend_update(st, &b1, errbuf, sizeof(errbuf)), 0);
	r1.has_ports = false;
	r1.port_lo = r1.port_hi = 0;
	ck_assert_int_eq(gstore_rule_update(st, &r1, errbuf, sizeof(errbuf)), 0);
	load_ok(st, &all);
	same_group(&all.groups[1], &g2);
	same_backend(&all.backends[0], &b1);
	same_rule(&all.rules[0], &r1);
	gstore_all_free(&all);
	store_close(st);
}
END_TEST

START_TEST(delete_cascades)
{
	struct store *st = open_store();
	struct groups_group g1 = group("a", NULL, 80), g2 = group("b", "10.0.0.1", 80);
	struct groups_backend b1, b2, b3;
	struct groups_rule r1, r2;
	struct gstore_all all;

	ck_assert_int_eq(gstore_group_insert(st, &g1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_group_insert(st, &g2, errbuf, sizeof(errbuf)), 0);
	b1 = backend(g1.id, 8001);
	b2 = backend(g2.id, 8002);
	b3 = backend(g1.id, 8003);
	ck_assert_int_eq(gstore_backend_insert(st, &b1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_backend_insert(st, &b2, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_backend_insert(st, &b3, errbuf, sizeof(errbuf)), 0);
	r1 = rule(g1.id, "192.168.0.0", 16);
	r2 = rule(g2.id, "172.16.0.0", 12);
	ck_assert_int_eq(gstore_rule_insert(st, &r1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_rule_insert(st, &r2, errbuf, sizeof(errbuf)), 0);

	ck_assert_int_eq(gstore_group_delete(st, g1.id, errbuf, sizeof(errbuf)), 0);
	load_ok(st, &all);
	ck_assert_uint_eq(all.ngroups, 1);
	same_group(&all.groups[0], &g2);
	ck_assert_uint_eq(all.nbackends, 1);
	same_backend(&all.backends[0], &b2);
	ck_assert_uint_eq(all.nrules, 1);
	same_rule(&all.rules[0], &r2);
	gstore_all_free(&all);

	ck_assert_int_eq(gstore_backend_delete(st, b2.b.id, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_rule_delete(st, r2.id, errbuf, sizeof(errbuf)), 0);
	load_ok(st, &all);
	ck_assert_uint_eq(all.ngroups, 1);
	ck_assert_uint_eq(all.nbackends + all.nrules, 0);
	gstore_all_free(&all);

	/* AUTOINCREMENT: ids of deleted rows are not handed out again. */
	g1.id = 0;
	ck_assert_int_eq(gstore_group_insert(st, &g1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_gt(g1.id, g2.id);
	b1.group_id = g1.id;
	ck_assert_int_eq(gstore_backend_insert(st, &b1, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_gt(b1.b.id, b3.b.id);
	store_close(st);
}
END_TEST

START_TEST(unknown_ids)
{
	struct store *st = open_store();
	struct groups_group g = group("a", NULL, 80);
	struct groups_backend b;
	struct groups_rule r;

	g.id = 42;
	ck_assert_int_eq(gstore_group_update(st, &g, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(gstore_group_delete(st, 42, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(gstore_group_insert(st, &g, errbuf, sizeof(errbuf)), 0);
	b = backend(g.id, 8000);
	b.b.id = 42;
	ck_assert_int_eq(gstore_backend_update(st, &b, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(gstore_backend_delete(st, 42, errbuf, sizeof(errbuf)), 1);
	r = rule(g.id, "10.0.0.0", 8);
	r.id = 42;
	ck_assert_int_eq(gstore_rule_update(st, &r, errbuf, sizeof(errbuf)), 1);
	ck_assert_int_eq(gstore_rule_delete(st, 42, errbuf, sizeof(errbuf)), 1);

	/* The foreign keys refuse a row of a group that does not exist. */
	b.group_id = 4242;
	ck_assert_int_eq(gstore_backend_insert(st, &b, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "FOREIGN KEY"));
	r.group_id = 4242;
	ck_assert_int_eq(gstore_rule_insert(st, &r, errbuf, sizeof(errbuf)), -1);
	store_close(st);
}
END_TEST

START_TEST(schema_backstops)
{
	struct store *st = open_store();
	struct groups_group g = group("a", NULL, 80), dup = group("a", NULL, 81);
	struct groups_backend b, b2;

	ck_assert_int_eq(gstore_group_insert(st, &g, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_group_insert(st, &dup, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "UNIQUE"));
	b = backend(g.id, 8000);
	b2 = b;
	ck_assert_int_eq(gstore_backend_insert(st, &b, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(gstore_backend_insert(st, &b2, errbuf, sizeof(errbuf)), -1);
	b2.b.port = 8001;
	b2.b.weight = 0;
	ck_assert_int_eq(gstore_backend_insert(st, &b2, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "CHECK"));
	dup.virtual_port = 0;
	strcpy(dup.name, "b");
	ck_assert_int_eq(gstore_group_insert(st, &dup, errbuf, sizeof(errbuf)), -1);
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
	struct groups_group g = group("a", NULL, 80);
	struct gstore_all all;

	ck_assert_int_eq(gstore_group_insert(st, &g, errbuf, sizeof(errbuf)), 0);
	/* Passes the CHECK (length), but is no address. */
	side_exec("UPDATE groups SET address = 'not-an-ip' WHERE name = 'a'");
	ck_assert_int_eq(gstore_load(st, &all, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "bad address"));
	ck_assert_ptr_null(all.groups);
	side_exec("UPDATE groups SET address = NULL");
	side_exec("INSERT INTO rules (group_id, cidr) SELECT id, '10.0.0.0/33x' FROM groups");
	ck_assert_int_eq(gstore_load(st, &all, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "bad cidr"));
	store_close(st);
}
END_TEST

START_TEST(reopen_keeps_rows)
{
	struct store *st = open_store();
	struct groups_group g = group("a", "10.9.8.7", 80);
	struct groups_backend b;
	struct gstore_all all;

	ck_assert_int_eq(store_schema_version(st), (int)store_migrations_count);
	ck_assert_int_eq(gstore_group_insert(st, &g, errbuf, sizeof(errbuf)), 0);
	b = backend(g.id, 8000);
	ck_assert_int_eq(gstore_backend_insert(st, &b, errbuf, sizeof(errbuf)), 0);
	store_close(st);

	/* A second open applies no migration again (it would fail: the tables exist). */
	st = open_store();
	ck_assert_int_eq(store_schema_version(st), (int)store_migrations_count);
	load_ok(st, &all);
	ck_assert_uint_eq(all.ngroups, 1);
	same_group(&all.groups[0], &g);
	same_backend(&all.backends[0], &b);
	gstore_all_free(&all);
	store_close(st);
}
END_TEST

START_TEST(migrates_from_version_1)
{
	sqlite3 *db;
	struct store *st;
	struct mapping *rows = NULL;
	struct gstore_all all;
	struct groups_group g = group("a", NULL, 80);
	size_t n;

	ck_assert_uint_ge(store_migrations_count, 2);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=1; INSERT INTO mappings "
				      "(proto, address, shared_port, assigned_port) VALUES "
				      "('tcp', '10.0.0.1', 80, 8080)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = open_store();
	ck_assert_int_eq(store_schema_version(st), (int)store_migrations_count);
	ck_assert_int_eq(store_mapping_list(st, &rows, &n, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(rows[0].shared_port, 80);
	free(rows);
	load_ok(st, &all);
	ck_assert_uint_eq(all.ngroups, 0);
	gstore_all_free(&all);
	ck_assert_int_eq(gstore_group_insert(st, &g, errbuf, sizeof(errbuf)), 0);
	store_close(st);
}
END_TEST

static Suite *gstore_suite(void)
{
	Suite *s = suite_create("gstore");
	TCase *tc = tcase_create("gstore");

	tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, delete_cascades);
	tcase_add_test(tc, unknown_ids);
	tcase_add_test(tc, schema_backstops);
	tcase_add_test(tc, bad_row_reported);
	tcase_add_test(tc, reopen_keeps_rows);
	tcase_add_test(tc, migrates_from_version_1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gstore_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
