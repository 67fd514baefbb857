/*
 * Unit tests for gctl: writes of groups, backends and rules through a real
 * sqlite file, the whole-configuration checks and what a refused write
 * leaves (nothing changed, in the store or the snapshot), the published
 * snapshot, counters that survive rebuilds, active counts rebuilt from the
 * flow table, flow listing and flushing, and a write that is stored but
 * cannot be made live (503), then retried.
 *
 * sets_sync_ports is this file's fake: the real one needs the kernel.
 * Threads come from C11 <threads.h>, as in test_flow.c.
 */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <threads.h>
#include <unistd.h>

#include "gctl.h"
#include "gstore.h"
#include "log.h"
#include "sets.h"
#include "store.h"
#define TESTDB_NAME "gctl"
#include "testdb.h"
#include "table.h"

/* What the fake sets_sync_ports was last given, and whether it fails. */
static struct {
	bool fail;
	int calls;
	uint16_t v[32], b[32];
	size_t nv, nb;
} fake;

int sets_sync_ports(struct sets *s, const uint16_t *vports, size_t nv,
		    const uint16_t *bports, size_t nb, char *err, size_t errlen)
{
	(void)s;
	fake.calls++;
	if (fake.fail) {
		snprintf(err, errlen, "fake sets: refused");
		return -1;
	}
	ck_assert_uint_le(nv, 32);
	ck_assert_uint_le(nb, 32);
	memcpy(fake.v, vports, nv * sizeof(*vports));
	memcpy(fake.b, bports, nb * sizeof(*bports));
	fake.nv = nv;
	fake.nb = nb;
	return 0;
}

/* Never dereferenced: gctl only hands it to sets_sync_ports. */
#define FAKE_SETS ((struct sets *)&fake)

static void setup(void)
{
	remove_db();
	errbuf[0] = '\0';
	memset(&fake, 0, sizeof(fake));
	log_init("test_gctl", LOG_LVL_ERR, false);
	table_reader_register();
}

static void teardown(void)
{
	table_reader_unregister();
}

static struct gctl *open_gctl(struct store *st, struct sets *sets, struct flow_table *flows)
{
	struct gctl *g = gctl_open(st, sets, flows, 2, errbuf, sizeof(errbuf));

	ck_assert_msg(g != NULL, "gctl_open: %s", errbuf);
	return g;
}

static struct groups_group group(const char *name, uint16_t port, bool is_default)
{
	struct groups_group g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.aid, sizeof(g.aid), "app.%s", name);
	g.virtual_port = port;
	g.protos = MAPPING_TCP;
	g.policy = SCHED_ROUND_ROBIN;
	g.on_timeout = GROUPS_RESET;
	g.is_default = is_default;
	return g;
}

static struct groups_backend backend(int64_t group_id, uint16_t port)
{
	struct groups_backend b;

	memset(&b, 0, sizeof(b));
	b.group_id = group_id;
	b.b.port = port;
	b.b.weight = 1;
	b.b.state = SCHED_ACTIVE;
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

/* Runs a write that must succeed. */
#define OK(call) do { \
	struct mapping_error e_ = { 0 }; \
	int rc_ = (call); \
	ck_assert_msg(rc_ == 0, #call ": %d %s %s", e_.status, e_.code, e_.message); \
} while (0)
#define FAILS(call, st, fld) do { \
	struct mapping_error e_ = { 0 }; \
	ck_assert_int_eq((call), -1); \
	ck_assert_int_eq(e_.status, (st)); \
	ck_assert_str_eq(e_.field, (fld)); \
} while (0)

/* The number of groups, backends and rules in the store. */
static size_t stored(struct store *st)
{
	struct gstore_all all;
	size_t n;

	ck_assert_int_eq(gstore_load(st, &all, errbuf, sizeof(errbuf)), 0);
	n = all.ngroups * 10000 + all.nbackends * 100 + all.nrules;
	gstore_all_free(&all);
	return n;
}

START_TEST(crud_and_snapshot)
{
	struct store *st = open_store();
	struct gctl *g = open_gctl(st, FAKE_SETS, NULL);
	struct groups_group web = group("web", 80, true), api = group("api", 80, false);
	struct groups_backend b1, b2, b3;
	struct groups_rule r1;
	struct gctl_group_view gv, *gl;
	struct gctl_backend_view bv, *bl;
	struct gctl_rule_view rv, *rl;
	const struct gctl_snap *snap;
	const struct groups_group *found;
	struct gctl_stats stats;
	uint8_t client[16] = { 10, 1, 2, 3 };
	size_t n;

	table_read_begin();
	snap = gctl_read();
	ck_assert_ptr_nonnull(snap);
	ck_assert_uint_eq(groups_count(snap->groups), 0);
	table_read_end();
	ck_assert_int_eq(fake.calls, 1);

	OK(gctl_group_create(g, &web, &e_));
	OK(gctl_group_create(g, &api, &e_));
	ck_assert_int_gt(api.id, web.id);
	b1 = backend(web.id, 8080);
	b2 = backend(web.id, 8081);
	b3 = backend(api.id, 8080);
	OK(gctl_backend_create(g, &b1, &e_));
	OK(gctl_backend_create(g, &b2, &e_));
	OK(gctl_backend_create(g, &b3, &e_));
	r1 = rule(api.id, "10.1.0.0", 16);
	OK(gctl_rule_create(g, &r1, &e_));
	ck_assert_int_gt(r1.id, 0);
	ck_assert_uint_eq(stored(st), 20301);

	/* The ports went to the kernel, distinct and ascending. */
	ck_assert_uint_eq(fake.nv, 1);
	ck_assert_uint_eq(fake.v[0], 80);
	ck_assert_uint_eq(fake.nb, 2);
	ck_assert_uint_eq(fake.b[0], 8080);
	ck_assert_uint_eq(fake.b[1], 8081);

	/* The workers see it: the rule sends 10.1/16 to api, the rest to web. */
	table_read_begin();
	snap = gctl_read();
	ck_assert_uint_eq(snap->nworkers, 2);
	ck_assert_uint_eq(groups_backend_count(snap->groups), 3);
	{
		struct pkt_key k = { .family = AF_INET, .l4proto = IPPROTO_TCP, .port = 80 };
		const struct groups_service *svc = groups_find_service(snap->groups, &k);

		ck_assert_ptr_nonnull(svc);
		found = groups_route(snap->groups, svc, AF_INET, client, 5000);
		ck_assert_int_eq(found->id, api.id);
		client[1] = 2;
		found = groups_route(snap->groups, svc, AF_INET, client, 5000);
		ck_assert_int_eq(found->id, web.id);
		ck_assert_uint_eq(found->nbackends, 2);
	}
	table_read_end();

	OK(gctl_group_get(g, web.id, &gv, &e_));
	ck_assert_str_eq(gv.g.name, "web");
	ck_assert_uint_eq(gv.nbackends, 2);
	ck_assert_ptr_null(gv.g.counters);
	OK(gctl_group_list(g, &gl, &n, &e_));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(gl[1].g.name, "api");
	free(gl);
	OK(gctl_backend_get(g, b3.b.id, &bv, &e_));
	ck_assert_str_eq(bv.group, "api");
	ck_assert_ptr_null(bv.b.b.active);
	OK(gctl_backend_list(g, web.id, &bl, &n, &e_));
	ck_assert_uint_eq(n, 2);
	free(bl);
	OK(gctl_backend_list(g, 0, &bl, &n, &e_));
	ck_assert_uint_eq(n, 3);
	free(bl);
	OK(gctl_rule_get(g, r1.id, &rv, &e_));
	ck_assert_str_eq(rv.group, "api");
	OK(gctl_rule_list(g, web.id, &rl, &n, &e_));
	ck_assert_uint_eq(n, 0);
	free(rl);
	{
		int64_t id = 0;

		OK(gctl_group_by_name(g, "api", &id, &e_));
		ck_assert_int_eq(id, api.id);
		FAILS(gctl_group_by_name(g, "nope", &id, &e_), 422, "group");
	}

	/* Updates. */
	api.virtual_port = 81;
	api.is_default = true;
	OK(gctl_group_update(g, &api, &e_));
	b2.b.state = SCHED_DRAIN;
	b2.b.port = 9000;
	OK(gctl_backend_update(g, &b2, &e_));
	r1.has_ports = true;
	r1.port_lo = 1;
	r1.port_hi = 1023;
	OK(gctl_rule_update(g, &r1, &e_));
	OK(gctl_backend_get(g, b2.b.id, &bv, &e_));
	ck_assert_int_eq(bv.b.b.state, SCHED_DRAIN);
	ck_assert_uint_eq(fake.nv, 2);
	ck_assert_uint_eq(fake.b[1], 9000);
	OK(gctl_rule_get(g, r1.id, &rv, &e_));
	ck_assert(rv.r.has_ports);

	/* Deleting a group takes its backends and rules along. */
	OK(gctl_group_delete(g, api.id, &e_));
	ck_assert_uint_eq(stored(st), 10200);
	FAILS(gctl_backend_get(g, b3.b.id, &bv, &e_), 404, "");
	FAILS(gctl_rule_get(g, r1.id, &rv, &e_), 404, "");
	OK(gctl_backend_delete(g, b1.b.id, &e_));
	FAILS(gctl_rule_create(g, &r1, &e_), 422, "group"); /* api is gone */
	gctl_stats(g, &stats);
	ck_assert_uint_eq(stats.groups, 1);
	ck_assert_uint_eq(stats.backends, 1);
	ck_assert_uint_eq(stats.rules, 0);
	ck_assert_uint_eq(stats.flow_limit, 0);

	table_read_begin();
	ck_assert_uint_eq(groups_count(gctl_read()->groups), 1);
	table_read_end();
	gctl_close(g);
	ck_assert_ptr_null(gctl_read());
	store_close(st);
}
END_TEST

START_TEST(unknown_ids)
{
	struct store *st = open_store();
	struct gctl *g = open_gctl(st, NULL, NULL);
	struct groups_group gr = group("a", 80, true);
	struct groups_backend b = backend(77, 8000);
	struct groups_rule r = rule(77, "10.0.0.0", 8);
	struct gctl_group_view gv;

	gr.id = 77;
	b.b.id = 77;
	r.id = 77;
	FAILS(gctl_group_get(g, 77, &gv, &e_), 404, "");
	FAILS(gctl_group_update(g, &gr, &e_), 404, "");
	FAILS(gctl_group_delete(g, 77, &e_), 404, "");
	FAILS(gctl_backend_update(g, &b, &e_), 404, "");
	FAILS(gctl_backend_delete(g, 77, &e_), 404, "");
	FAILS(gctl_rule_update(g, &r, &e_), 404, "");
	FAILS(gctl_rule_delete(g, 77, &e_), 404, "");
	/* A row naming a group that does not exist. */
	FAILS(gctl_backend_create(g, &b, &e_), 422, "group");
	FAILS(gctl_rule_create(g, &r, &e_), 422, "group");
	ck_assert_uint_eq(stored(st), 0);
	gctl_close(g);
	store_close(st);
}
END_TEST

START_TEST(names_and_conflicts)
{
	struct store *st = open_store();
	struct gctl *g = open_gctl(st, NULL, NULL);
	struct groups_group a = group("a", 80, true), b = group("b", 80, false);
	struct groups_group bad = group("bad name", 90, false);
	struct groups_backend ba, bb;

	OK(gctl_group_create(g, &a, &e_));
	OK(gctl_group_create(g, &b, &e_));
	FAILS(gctl_group_create(g, &bad, &e_), 422, "name");
	strcpy(bad.name, "");
	FAILS(gctl_group_create(g, &bad, &e_), 422, "name");
	memset(bad.name, 'x', sizeof(bad.name));
	FAILS(gctl_group_create(g, &bad, &e_), 422, "name");
	strcpy(bad.name, "Good-1.x_y");
	bad.aid[0] = '\0';
	FAILS(gctl_group_create(g, &bad, &e_), 422, "aid");
	strcpy(bad.aid, "x");
	OK(gctl_group_create(g, &bad, &e_));

	/* A name is unique, on create and on update. */
	strcpy(bad.name, "a");
	bad.id = 0;
	FAILS(gctl_group_create(g, &bad, &e_), 409, "name");
	b.is_default = false;
	strcpy(b.name, "a");
	FAILS(gctl_group_update(g, &b, &e_), 409, "name");
	strcpy(b.name, "b");

	/* A backend port is unique in its group, not across groups. */
	ba = backend(a.id, 8000);
	bb = backend(a.id, 8000);
	OK(gctl_backend_create(g, &ba, &e_));
	FAILS(gctl_backend_create(g, &bb, &e_), 409, "port");
	bb.group_id = b.id;
	OK(gctl_backend_create(g, &bb, &e_));
	bb.group_id = a.id;
	FAILS(gctl_backend_update(g, &bb, &e_), 409, "port");

	/* What only groups_build sees: a weight out of range, a rule of the wrong family. */
	bb.group_id = b.id;
	bb.b.weight = 0;
	FAILS(gctl_backend_update(g, &bb, &e_), 422, "");
	{
		struct groups_rule r6 = rule(a.id, "2001:db8::", 32);

		a.family = AF_INET;
		a.addr[0] = 10;
		a.addr[3] = 1;
		OK(gctl_group_update(g, &a, &e_));
		FAILS(gctl_rule_create(g, &r6, &e_), 422, "");
	}
	ck_assert_uint_eq(stored(st), 30200);
	gctl_close(g);
	store_close(st);
}
END_TEST

START_TEST(duplicate_default_changes_nothing)
{
	struct store *st = open_store();
	struct gctl *g = open_gctl(st, NULL, NULL);
	struct groups_group a = group("a", 80, true), b = group("b", 80, true);
	struct groups_group c = group("c", 80, false);
	const struct gctl_snap *before;
	struct gctl_group_view gv;

	OK(gctl_group_create(g, &a, &e_));
	OK(gctl_group_create(g, &c, &e_));
	before = gctl_read();
	FAILS(gctl_group_create(g, &b, &e_), 409, "default");
	c.is_default = true;
	FAILS(gctl_group_update(g, &c, &e_), 409, "default");
	/* Nothing changed: not the store, not memory, not the snapshot. */
	ck_assert_ptr_eq(gctl_read(), before);
	ck_assert_uint_eq(stored(st), 20000);
	OK(gctl_group_get(g, c.id, &gv, &e_));
	ck_assert(!gv.g.is_default);
	FAILS(gctl_group_get(g, c.id + 1, &gv, &e_), 404, "");

	/* Another port, protocol or address is another service. */
	b.protos = MAPPING_UDP;
	OK(gctl_group_create(g, &b, &e_));
	c.virtual_port = 81;
	OK(gctl_group_update(g, &c, &e_));
	gctl_close(g);
	store_close(st);
}
END_TEST

START_TEST(counters_survive_updates)
{
	struct store *st = open_store();
	struct gctl *g = open_gctl(st, NULL, NULL);
	struct groups_group a = group("a", 80, true), z = group("z", 90, true);
	struct groups_backend b = backend(0, 8000), y;
	const struct groups_group *gg;
	const struct sched_backend *sb;
	struct gctl_group_view gv;
	struct gctl_backend_view bv;

	OK(gctl_group_create(g, &a, &e_));
	OK(gctl_group_create(g, &z, &e_));
	b.group_id = a.id;
	OK(gctl_backend_create(g, &b, &e_));
	y = backend(z.id, 9000);
	OK(gctl_backend_create(g, &y, &e_));

	/* What a worker would do with a new flow. */
	table_read_begin();
	sb = groups_find_backend(gctl_read()->groups, b.b.id, &gg);
	ck_assert(sched_claim(sb->active, 0));
	ck_assert(sched_claim(sb->active, 0));
	__atomic_add_fetch(sb->flows, 2, __ATOMIC_RELAXED);
	__atomic_add_fetch(&gg->counters->flows, 2, __ATOMIC_RELAXED);
	__atomic_add_fetch(&gg->counters->refused, 1, __ATOMIC_RELAXED);
	table_read_end();

	/* Rebuilds: an update of each kind, a delete of another group. */
	a.policy = SCHED_LEAST_FLOWS;
	OK(gctl_group_update(g, &a, &e_));
	b.b.weight = 5;
	OK(gctl_backend_update(g, &b, &e_));
	OK(gctl_group_delete(g, z.id, &e_));

	OK(gctl_backend_get(g, b.b.id, &bv, &e_));
	ck_assert_uint_eq(bv.active, 2);
	ck_assert_uint_eq(bv.flows, 2);
	OK(gctl_group_get(g, a.id, &gv, &e_));
	ck_assert_uint_eq(gv.c.flows, 2);
	ck_assert_uint_eq(gv.c.refused, 1);
	ck_assert_uint_eq(gv.active, 2);
	table_read_begin();
	sb = groups_find_backend(gctl_read()->groups, b.b.id, NULL);
	ck_assert_uint_eq(*sb->active, 2);
	ck_assert_uint_eq(sb->weight, 5);
	table_read_end();
	gctl_close(g);
	store_close(st);
}
END_TEST

static struct flow_key fkey(uint8_t c2, uint8_t c3, uint16_t cport, uint16_t vport)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.l4proto = IPPROTO_TCP;
	k.client_port = cport;
	k.client[0] = 10;
	k.client[1] = c2;
	k.client[2] = c3;
	k.client[3] = 1;
	k.service[0] = 192;
	k.service[1] = 0;
	k.service[2] = 2;
	k.service[3] = 1;
	k.port = vport;
	return k;
}

/* Two groups of one backend each; flows are added by the tests. */
struct world {
	struct store *st;
	struct flow_table *flows;
	struct groups_group a, b;
	struct groups_backend ba, bb;
};

static void world_open(struct world *w)
{
	struct gctl *g;

	w->st = open_store();
	w->flows = flow_open(NULL, 2, 64, NULL, NULL);
	ck_assert_ptr_nonnull(w->flows);
	g = open_gctl(w->st, NULL, w->flows);
	w->a = group("a", 80, true);
	w->b = group("b", 81, true);
	OK(gctl_group_create(g, &w->a, &e_));
	OK(gctl_group_create(g, &w->b, &e_));
	w->ba = backend(w->a.id, 8000);
	w->bb = backend(w->b.id, 8100);
	OK(gctl_backend_create(g, &w->ba, &e_));
	OK(gctl_backend_create(g, &w->bb, &e_));
	gctl_close(g);
}

/* Adds n flows of backend b to partition p, clients 10.c2.i.1. */
static void add_flows(struct world *w, unsigned p, const struct groups_backend *b,
		      uint8_t c2, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct flow_key k = fkey(c2, (uint8_t)i, (uint16_t)(40000 + i),
					 b == &w->ba ? 80 : 81);

		ck_assert_ptr_nonnull(flow_insert(flow_partition(w->flows, p), &k, b->b.port,
						  (uint32_t)b->group_id, (uint32_t)b->b.id, 100));
	}
}

START_TEST(active_counts_restored)
{
	struct world w;
	struct gctl *g;
	struct gctl_backend_view bv;
	struct gctl_group_view gv;
	struct gctl_stats stats;
	struct flow_key k = fkey(9, 9, 50000, 80);
	const struct flow_entry *e;

	world_open(&w);
	add_flows(&w, 0, &w.ba, 1, 3);
	add_flows(&w, 1, &w.ba, 2, 2);
	add_flows(&w, 1, &w.bb, 3, 4);
	/* A closing flow released its backend already; one of a deleted backend counts nowhere. */
	e = flow_insert(flow_partition(w.flows, 0), &k, 8000, (uint32_t)w.a.id,
			(uint32_t)w.ba.b.id, 100);
	ck_assert_int_eq(flow_note_tcp(flow_partition(w.flows, 0), e, PKT_IN, FLOW_TCP_RST, 101),
			 FLOW_TCP_CLOSED);
	k.client_port++;
	ck_assert_ptr_nonnull(flow_insert(flow_partition(w.flows, 0), &k, 8000, 999, 999, 100));

	g = open_gctl(w.st, NULL, w.flows);
	OK(gctl_backend_get(g, w.ba.b.id, &bv, &e_));
	ck_assert_uint_eq(bv.active, 5);
	OK(gctl_backend_get(g, w.bb.b.id, &bv, &e_));
	ck_assert_uint_eq(bv.active, 4);
	OK(gctl_group_get(g, w.a.id, &gv, &e_));
	ck_assert_uint_eq(gv.active, 5);
	gctl_stats(g, &stats);
	ck_assert_uint_eq(stats.flows, 11);
	ck_assert_uint_gt(stats.flow_limit, 0);
	gctl_close(g);
	flow_close(w.flows);
	store_close(w.st);
}
END_TEST

START_TEST(flow_list_filters_and_pages)
{
	struct world w;
	struct gctl *g;
	struct gflows_filter f;
	struct gflows_view *rows;
	size_t n, total;

	world_open(&w);
	add_flows(&w, 0, &w.ba, 1, 3);
	add_flows(&w, 1, &w.ba, 2, 4);
	add_flows(&w, 1, &w.bb, 3, 5);
	g = open_gctl(w.st, NULL, w.flows);

	memset(&f, 0, sizeof(f));
	f.limit = 100;
	OK(gctl_flow_list(g, &f, &rows, &n, &total, &e_));
	ck_assert_uint_eq(n, 12);
	ck_assert_uint_eq(total, 12);
	free(rows);

	f.group_id = w.a.id;
	OK(gctl_flow_list(g, &f, &rows, &n, &total, &e_));
	ck_assert_uint_eq(total, 7);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(rows[i].group, "a");
	free(rows);

	/* Pages: 3 of the 7, after skipping 5, leave 2. */
	f.offset = 5;
	f.limit = 3;
	OK(gctl_flow_list(g, &f, &rows, &n, &total, &e_));
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(total, 7);
	free(rows);

	/* Clients in 10.2.0.0/16 (partition 1, backend a). */
	memset(&f, 0, sizeof(f));
	f.limit = 100;
	f.family = AF_INET;
	f.client[0] = 10;
	f.client[1] = 2;
	f.prefix_len = 16;
	OK(gctl_flow_list(g, &f, &rows, &n, &total, &e_));
	ck_assert_uint_eq(total, 4);
	ck_assert_uint_eq(rows[0].e.backend, w.ba.b.id);
	free(rows);
	f.prefix_len = 12; /* 10.0.0.0/12 takes 10.1, 10.2 and 10.3 */
	f.backend_id = w.bb.b.id;
	OK(gctl_flow_list(g, &f, &rows, &n, &total, &e_));
	ck_assert_uint_eq(total, 5);
	free(rows);
	f.l4proto = IPPROTO_UDP;
	OK(gctl_flow_list(g, &f, &rows, &n, &total, &e_));
	ck_assert_uint_eq(total, 0);
	free(rows);
	f.l4proto = 0;
	f.family = AF_INET6;
	OK(gctl_flow_list(g, &f, &rows, &n, &total, &e_));
	ck_assert_uint_eq(total, 0);
	free(rows);

	/* A deleted group's flows stay, with no group name. */
	OK(gctl_group_delete(g, w.b.id, &e_));
	memset(&f, 0, sizeof(f));
	f.limit = 100;
	f.group_id = w.b.id;
	OK(gctl_flow_list(g, &f, &rows, &n, &total, &e_));
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(rows[0].group, "");
	free(rows);
	gctl_close(g);
	flow_close(w.flows);
	store_close(w.st);
}
END_TEST

/* The workers' part in a flush: sweep every partition until told to stop. */
struct worker {
	struct flow_table *flows;
	int stop;
	unsigned released;
};

/* Releases the flow's backend, as the packet path's sweeper callback does. */
static void worker_gone(const struct flow_entry *e, void *arg)
{
	struct worker *wk = arg;
	const struct sched_backend *b;

	if (e->state == FLOW_CLOSING)
		return;
	b = groups_find_backend(gctl_read()->groups, e->backend, NULL);
	if (b) {
		sched_release(b->active);
		wk->released++;
	}
}

static int worker_run(void *arg)
{
	struct worker *wk = arg;

	table_reader_register();
	while (!__atomic_load_n(&wk->stop, __ATOMIC_ACQUIRE)) {
		for (unsigned p = 0; p < flow_partitions(wk->flows); p++) {
			table_read_begin();
			/*
			 * At the flows' own creation time nothing is due, so
			 * every flow goes by the flush, none by expiry.
			 */
			flow_expire(flow_partition(wk->flows, p), 100, &flow_timeouts_default,
				    16, worker_gone, wk);
			table_read_end();
		}
		thrd_yield();
	}
	table_reader_unregister();
	return 0;
}

START_TEST(flush_through_workers)
{
	struct world w;
	struct gctl *g;
	struct worker wk = { 0 };
	struct gctl_backend_view bv;
	struct gctl_stats stats;
	thrd_t t;
	size_t flushed = 99;

	world_open(&w);
	add_flows(&w, 0, &w.ba, 1, 20);
	add_flows(&w, 1, &w.bb, 2, 30);
	g = open_gctl(w.st, NULL, w.flows);
	OK(gctl_backend_get(g, w.ba.b.id, &bv, &e_));
	ck_assert_uint_eq(bv.active, 20);

	wk.flows = w.flows;
	ck_assert_int_eq(thrd_create(&t, worker_run, &wk), thrd_success);
	OK(gctl_flow_flush(g, &flushed, &e_));
	__atomic_store_n(&wk.stop, 1, __ATOMIC_RELEASE);
	thrd_join(t, NULL);

	ck_assert_uint_eq(flushed, 50);
	ck_assert_uint_eq(wk.released, 50);
	gctl_stats(g, &stats);
	ck_assert_uint_eq(stats.flows, 0);
	OK(gctl_backend_get(g, w.ba.b.id, &bv, &e_));
	ck_assert_uint_eq(bv.active, 0);
	OK(gctl_backend_get(g, w.bb.b.id, &bv, &e_));
	ck_assert_uint_eq(bv.active, 0);
	gctl_close(g);
	flow_close(w.flows);
	store_close(w.st);
}
END_TEST

START_TEST(flush_without_workers_times_out)
{
	struct world w;
	struct gctl *g;
	size_t flushed = 99;

	world_open(&w);
	add_flows(&w, 0, &w.ba, 1, 2);
	g = open_gctl(w.st, NULL, w.flows);
	FAILS(gctl_flow_flush(g, &flushed, &e_), 503, "");
	ck_assert_uint_eq(flushed, 0);
	gctl_close(g);
	flow_close(w.flows);
	store_close(w.st);
}
END_TEST

START_TEST(stored_but_not_live)
{
	struct store *st = open_store();
	struct gctl *g = open_gctl(st, FAKE_SETS, NULL);
	struct groups_group a = group("a", 80, true);
	struct groups_backend b;
	struct mapping_error err = { 0 };
	const struct gctl_snap *before;

	ck_assert(!gctl_dirty(g));
	OK(gctl_group_create(g, &a, &e_));
	b = backend(a.id, 8000);
	fake.fail = true;
	before = gctl_read();
	ck_assert_int_eq(gctl_backend_create(g, &b, &err), -1);
	ck_assert_int_eq(err.status, 503);
	ck_assert_str_eq(err.code, "not_live");
	/* Stored, current and published, with its id; only the kernel lags. */
	ck_assert_int_gt(b.b.id, 0);
	ck_assert_uint_eq(stored(st), 10100);
	ck_assert_ptr_ne(gctl_read(), before);
	ck_assert(gctl_dirty(g));
	ck_assert_uint_eq(fake.nb, 0);
	ck_assert_int_eq(gctl_retry(g), -1);
	ck_assert(gctl_dirty(g));

	fake.fail = false;
	ck_assert_int_eq(gctl_retry(g), 0);
	ck_assert(!gctl_dirty(g));
	ck_assert_uint_eq(fake.nb, 1);
	ck_assert_uint_eq(fake.b[0], 8000);
	ck_assert_int_eq(gctl_retry(g), 0);
	gctl_close(g);

	/* Opening fails when the kernel's sets cannot be filled. */
	fake.fail = true;
	ck_assert_ptr_null(gctl_open(st, FAKE_SETS, NULL, 1, errbuf, sizeof(errbuf)));
	ck_assert_ptr_nonnull(strstr(errbuf, "fake sets"));
	ck_assert_ptr_null(gctl_read());
	store_close(st);
}
END_TEST

START_TEST(reopen_loads_everything)
{
	struct store *st = open_store();
	struct gctl *g = open_gctl(st, NULL, NULL);
	struct groups_group a = group("a", 80, true);
	struct groups_backend b;
	struct groups_rule r;
	struct gctl_group_view gv;
	struct gctl_rule_view rv;

	a.family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::5", a.addr), 1);
	OK(gctl_group_create(g, &a, &e_));
	b = backend(a.id, 8000);
	OK(gctl_backend_create(g, &b, &e_));
	r = rule(a.id, "2001:db8:aa::", 48);
	OK(gctl_rule_create(g, &r, &e_));
	gctl_close(g);
	store_close(st);

	st = open_store();
	g = open_gctl(st, NULL, NULL);
	OK(gctl_group_get(g, a.id, &gv, &e_));
	ck_assert_mem_eq(gv.g.addr, a.addr, 16);
	ck_assert_uint_eq(gv.nbackends, 1);
	OK(gctl_rule_get(g, r.id, &rv, &e_));
	ck_assert_mem_eq(rv.r.addr, r.addr, 16);
	table_read_begin();
	ck_assert_ptr_nonnull(groups_find_backend(gctl_read()->groups, b.b.id, NULL));
	table_read_end();
	gctl_close(g);
	store_close(st);
}
END_TEST

static Suite *gctl_suite(void)
{
	Suite *s = suite_create("gctl");
	TCase *tc = tcase_create("gctl");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, crud_and_snapshot);
	tcase_add_test(tc, unknown_ids);
	tcase_add_test(tc, names_and_conflicts);
	tcase_add_test(tc, duplicate_default_changes_nothing);
	tcase_add_test(tc, counters_survive_updates);
	tcase_add_test(tc, active_counts_restored);
	tcase_add_test(tc, flow_list_filters_and_pages);
	tcase_add_test(tc, flush_through_workers);
	tcase_add_test(tc, flush_without_workers_times_out);
	tcase_add_test(tc, stored_but_not_live);
	tcase_add_test(tc, reopen_loads_everything);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
