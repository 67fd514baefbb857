/*
 * Unit tests for fctl: writes of contested ports and subscribers through a
 * real sqlite file, the rules (values, conflicts, the cap) and what a
 * refused write leaves (nothing changed, in the store or the snapshot),
 * the published snapshot, the gone callback on delete and on disable,
 * counters that survive rebuilds, a write that is stored but cannot be
 * made live (503), a reopened database, a database edited by hand, and one
 * of schema version 2 migrating.
 *
 * sets_sync_fanout is this file's fake: the real one needs the kernel.
 */
#include <check.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>
#include <urcu/urcu-memb.h>

#include "fctl.h"
#include "fstore.h"
#include "log.h"
#include "sets.h"
#include "store.h"
#define TESTDB_NAME "fctl"
#include "testdb.h"

extern const char *const store_migrations[];

/* What the fake sets_sync_fanout was last given, and whether it fails. */
static struct {
	bool fail;
	int calls;
	uint16_t ports[32];
	size_t n;
} fake;

int sets_sync_fanout(struct sets *s, const uint16_t *ports, size_t n, char *err,
		     size_t errlen)
{
	(void)s;
	fake.calls++;
	if (fake.fail) {
		snprintf(err, errlen, "fake sets: refused");
		return -1;
	}
	ck_assert_uint_le(n, 32);
	memcpy(fake.ports, ports, n * sizeof(*ports));
	fake.n = n;
	return 0;
}

/* Never dereferenced: fctl only hands it to sets_sync_fanout. */
#define FAKE_SETS ((struct sets *)&fake)

/* What the gone callback was last told, and what the readers saw then. */
static struct {
	int calls;
	struct fctl_port p;
	struct fctl_sub subs[8];
	size_t n;
	bool was_live;      /* the port was in the live snapshot, enabled, with n subscribers */
} gone;

static void on_gone(const struct fctl_port *p, const struct fctl_sub *subs, size_t n,
		    void *arg)
{
	const struct fctl_snap *snap;

	ck_assert_ptr_eq(arg, &gone);
	gone.calls++;
	gone.p = *p;
	gone.n = n;
	ck_assert_uint_le(n, 8);
	if (n)
		memcpy(gone.subs, subs, n * sizeof(*subs));
	gone.was_live = false;
	urcu_memb_read_lock();
	snap = fctl_read();
	for (size_t i = 0; snap && i < snap->nports; i++)
		if (snap->ports[i].p.id == p->id)
			gone.was_live = snap->ports[i].p.enabled && snap->ports[i].nsubs == n;
	urcu_memb_read_unlock();
}

static void setup(void)
{
	remove_db();
	errbuf[0] = '\0';
	memset(&fake, 0, sizeof(fake));
	memset(&gone, 0, sizeof(gone));
	log_init("test_fctl", LOG_LVL_ERR, false);
	urcu_memb_register_thread();
}

static void teardown(void)
{
	urcu_memb_unregister_thread();
}

static struct fctl *open_fctl(struct store *st, struct sets *sets)
{
	struct fctl *f = fctl_open(st, sets, on_gone, &gone, errbuf, sizeof(errbuf));

	ck_assert_msg(f != NULL, "fctl_open: %s", errbuf);
	return f;
}

/* An enabled contested port with the default registration port; addr NULL: any. */
static struct fctl_port cport(uint16_t port, const char *addr)
{
	struct fctl_port p;

	memset(&p, 0, sizeof(p));
	p.port = port;
	if (addr) {
		p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
		ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
	}
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

/* Runs a call that must succeed; the call names its error e_. */
#define OK(call) do { \
	struct mapping_error e_ = { 0 }; \
	int rc_ = (call); \
	ck_assert_msg(rc_ == 0, #call ": %d %s %s", e_.status, e_.code, e_.message); \
} while (0)
#define FAILS(call, st, cd, fld) do { \
	struct mapping_error e_ = { 0 }; \
	ck_assert_int_eq((call), -1); \
	ck_assert_msg(e_.status == (st), #call ": %d %s", e_.status, e_.message); \
	ck_assert_str_eq(e_.code, (cd)); \
	ck_assert_str_eq(e_.field, (fld)); \
} while (0)

/* The number of contested ports and subscribers in the store, as ports * 1000 + subs. */
static size_t stored(struct store *st)
{
	struct fstore_all all;
	size_t n;

	ck_assert_int_eq(fstore_load(st, &all, errbuf, sizeof(errbuf)), 0);
	n = all.nports * 1000 + all.nsubs;
	fstore_all_free(&all);
	return n;
}

START_TEST(mode_names)
{
	enum fctl_mode m;

	for (int i = 0; i < FCTL_MODE_COUNT; i++) {
		ck_assert(fctl_mode_parse(fctl_mode_name((enum fctl_mode)i), &m));
		ck_assert_int_eq(m, i);
	}
	ck_assert(fctl_mode_parse("framed_unix", &m));
	ck_assert_int_eq(m, FCTL_FRAMED_UNIX);
	ck_assert(!fctl_mode_parse("Raw", &m));
	ck_assert(!fctl_mode_parse("", &m));
	ck_assert_str_eq(fctl_mode_name(FCTL_MODE_COUNT), "unknown");
	ck_assert_str_eq(fctl_mode_name(FCTL_SPOOF), "spoof");
}
END_TEST

START_TEST(crud_and_snapshot)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, FAKE_SETS);
	struct fctl_port trap = cport(162, NULL), sys = cport(514, "192.0.2.1");
	struct fctl_sub a, b, c, d, where;
	struct fctl_port_view pv, *pl;
	struct fctl_sub_view sv, *sl;
	const struct fctl_snap *snap;
	struct fctl_stats stats;
	int64_t id;
	size_t n;

	urcu_memb_read_lock();
	snap = fctl_read();
	ck_assert_ptr_nonnull(snap);
	ck_assert_uint_eq(snap->nports, 0);
	urcu_memb_read_unlock();
	ck_assert_int_eq(fake.calls, 1);
	ck_assert_uint_eq(fake.n, 0);

	OK(fctl_port_create(f, &trap, &e_));
	ck_assert_int_gt(trap.id, 0);
	ck_assert_uint_eq(trap.registration_port, 13162);
	sys.registration_port = 20514;
	OK(fctl_port_create(f, &sys, &e_));
	ck_assert_uint_eq(sys.registration_port, 20514);
	a = sub(sys.id, FCTL_RAW, "10.0.0.5", 9514);
	b = sub(trap.id, FCTL_SPOOF, "2001:db8::5", 162);
	c = sub(trap.id, FCTL_FRAMED_UNIX, "/run/traps.sock", 0);
	d = sub(trap.id, FCTL_FRAMED_TCP, "10.0.0.5", 9514);
	d.registered = true;
	d.sample_every = 10;
	OK(fctl_sub_create(f, &a, &e_));
	OK(fctl_sub_create(f, &b, &e_));
	OK(fctl_sub_create(f, &c, &e_));
	OK(fctl_sub_create(f, &d, &e_));
	ck_assert(a.id < b.id && b.id < c.id && c.id < d.id);
	ck_assert_uint_eq(stored(st), 2004);

	/* The ports went to the kernel, ascending. */
	ck_assert_uint_eq(fake.n, 2);
	ck_assert_uint_eq(fake.ports[0], 162);
	ck_assert_uint_eq(fake.ports[1], 514);

	/* The copier's view: ports by id, each with its subscribers by id. */
	urcu_memb_read_lock();
	snap = fctl_read();
	ck_assert_uint_eq(snap->nports, 2);
	ck_assert_int_eq(snap->ports[0].p.id, trap.id);
	ck_assert_uint_eq(snap->ports[0].p.registration_port, 13162);
	ck_assert_ptr_nonnull(snap->ports[0].c);
	ck_assert_uint_eq(snap->ports[0].nsubs, 3);
	ck_assert_int_eq(snap->ports[0].subs[0].s.id, b.id);
	ck_assert_int_eq(snap->ports[0].subs[1].s.id, c.id);
	ck_assert_str_eq(snap->ports[0].subs[1].s.path, "/run/traps.sock");
	ck_assert_int_eq(snap->ports[0].subs[2].s.id, d.id);
	ck_assert_uint_eq(snap->ports[0].subs[2].s.sample_every, 10);
	ck_assert(snap->ports[0].subs[2].s.registered);
	ck_assert_ptr_nonnull(snap->ports[0].subs[2].c);
	ck_assert_int_eq(snap->ports[1].p.id, sys.id);
	ck_assert_uint_eq(snap->ports[1].p.family, AF_INET);
	ck_assert_uint_eq(snap->ports[1].nsubs, 1);
	ck_assert_int_eq(snap->ports[1].subs[0].s.id, a.id);
	urcu_memb_read_unlock();

	/* The API's view. */
	OK(fctl_port_get(f, trap.id, &pv, &e_));
	ck_assert_uint_eq(pv.nsubs, 3);
	ck_assert_uint_eq(pv.p.port, 162);
	OK(fctl_port_list(f, &pl, &n, &e_));
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(pl[1].p.id, sys.id);
	ck_assert_uint_eq(pl[1].nsubs, 1);
	free(pl);
	OK(fctl_sub_get(f, a.id, &sv, &e_));
	ck_assert_uint_eq(sv.contested_port, 514);
	ck_assert_int_eq(sv.s.mode, FCTL_RAW);
	OK(fctl_sub_list(f, trap.id, &sl, &n, &e_));
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(sl[0].s.id, b.id);
	ck_assert_uint_eq(sl[0].contested_port, 162);
	free(sl);
	OK(fctl_sub_list(f, 0, &sl, &n, &e_));
	ck_assert_uint_eq(n, 4);
	free(sl);
	OK(fctl_port_by_number(f, 514, &id, &e_));
	ck_assert_int_eq(id, sys.id);
	FAILS(fctl_port_by_number(f, 515, &id, &e_), 422, "unknown_port", "contested_port");

	/* Finding a subscriber by its target: the mode does not matter. */
	where = sub(trap.id, FCTL_RAW, "10.0.0.5", 9514);
	OK(fctl_sub_find(f, trap.id, &where, &id, &e_));
	ck_assert_int_eq(id, d.id);
	OK(fctl_sub_find(f, sys.id, &where, &id, &e_));
	ck_assert_int_eq(id, a.id);
	where.port = 9515;
	FAILS(fctl_sub_find(f, trap.id, &where, &id, &e_), 404, "not_found", "");
	where = sub(trap.id, FCTL_FRAMED_UNIX, "/run/traps.sock", 0);
	OK(fctl_sub_find(f, trap.id, &where, &id, &e_));
	ck_assert_int_eq(id, c.id);
	where = sub(trap.id, FCTL_SPOOF, "2001:db8::5", 162);
	OK(fctl_sub_find(f, trap.id, &where, &id, &e_));
	ck_assert_int_eq(id, b.id);

	/* Updates: a port's address and registration port, a subscriber's mode and port. */
	sys.family = 0;
	memset(sys.addr, 0, sizeof(sys.addr));
	sys.registration_port = 0;
	OK(fctl_port_update(f, &sys, &e_));
	OK(fctl_port_get(f, sys.id, &pv, &e_));
	ck_assert_uint_eq(pv.p.family, 0);
	ck_assert_uint_eq(pv.p.registration_port, 13514);
	b.mode = FCTL_FRAMED_UDP;
	b.port = 6000;
	OK(fctl_sub_update(f, &b, &e_));
	OK(fctl_sub_get(f, b.id, &sv, &e_));
	ck_assert_int_eq(sv.s.mode, FCTL_FRAMED_UDP);
	ck_assert_uint_eq(sv.s.port, 6000);
	/* A subscriber may move to another contested port. */
	c.port_id = sys.id;
	OK(fctl_sub_update(f, &c, &e_));
	OK(fctl_sub_get(f, c.id, &sv, &e_));
	ck_assert_uint_eq(sv.contested_port, 514);

	OK(fctl_sub_delete(f, a.id, &e_));
	FAILS(fctl_sub_get(f, a.id, &sv, &e_), 404, "not_found", "");
	ck_assert_uint_eq(stored(st), 2003);
	fctl_stats(f, &stats);
	ck_assert_uint_eq(stats.ports, 2);
	ck_assert_uint_eq(stats.subs, 3);
	ck_assert_uint_eq(gone.calls, 0);

	fctl_close(f);
	ck_assert_ptr_null(fctl_read());
	store_close(st);
}
END_TEST

START_TEST(unknown_ids)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, NULL);
	struct fctl_port p = cport(162, NULL);
	struct fctl_sub s = sub(77, FCTL_RAW, "10.0.0.1", 9000);
	struct fctl_port_view pv;
	struct fctl_sub_view sv;

	p.id = 77;
	s.id = 77;
	FAILS(fctl_port_get(f, 77, &pv, &e_), 404, "not_found", "");
	FAILS(fctl_port_update(f, &p, &e_), 404, "not_found", "");
	FAILS(fctl_port_delete(f, 77, &e_), 404, "not_found", "");
	FAILS(fctl_sub_get(f, 77, &sv, &e_), 404, "not_found", "");
	FAILS(fctl_sub_update(f, &s, &e_), 404, "not_found", "");
	FAILS(fctl_sub_delete(f, 77, &e_), 404, "not_found", "");
	/* A subscriber of a contested port that does not exist. */
	FAILS(fctl_sub_create(f, &s, &e_), 422, "unknown_port", "contested_port");
	ck_assert_uint_eq(stored(st), 0);
	ck_assert_int_eq(gone.calls, 0);
	fctl_close(f);
	store_close(st);
}
END_TEST

START_TEST(invalid_values)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, NULL);
	struct fctl_port p = cport(0, NULL), ok = cport(162, NULL);
	struct fctl_sub s;
	const struct fctl_snap *before;

	FAILS(fctl_port_create(f, &p, &e_), 422, "invalid_port", "port");
	p = cport(162, NULL);
	p.family = AF_UNIX;
	FAILS(fctl_port_create(f, &p, &e_), 422, "invalid_address", "address");
	p = cport(162, NULL);
	p.registration_port = 162;
	FAILS(fctl_port_create(f, &p, &e_), 422, "invalid_registration_port",
	      "registration_port");
	/* No default registration port past 65535 - 13000; an explicit one will do. */
	p = cport(60000, NULL);
	FAILS(fctl_port_create(f, &p, &e_), 422, "invalid_registration_port",
	      "registration_port");
	p.registration_port = 60001;
	OK(fctl_port_create(f, &p, &e_));
	ck_assert_uint_eq(p.registration_port, 60001);

	OK(fctl_port_create(f, &ok, &e_));
	before = fctl_read();
	s = sub(ok.id, FCTL_MODE_COUNT, "10.0.0.1", 9000);
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_mode", "mode");
	s = sub(ok.id, FCTL_FRAMED_UNIX, "relative.sock", 0);
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_address", "address");
	s = sub(ok.id, FCTL_FRAMED_UNIX, "", 0);
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_address", "address");
	s = sub(ok.id, FCTL_FRAMED_UNIX, "/x", 0);
	memset(s.path, 'x', sizeof(s.path));
	s.path[0] = '/';
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_address", "address");
	s = sub(ok.id, FCTL_FRAMED_UNIX, "/run/x.sock", 0);
	s.port = 9;
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_port", "port");
	s.family = AF_INET;
	s.port = 0;
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_address", "address");
	/* A path is framed_unix's only: every other mode takes an IP address. */
	s = sub(ok.id, FCTL_FRAMED_UNIX, "/run/x.sock", 0);
	s.mode = FCTL_SPOOF;
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_address", "address");
	s = sub(ok.id, FCTL_RAW, "10.0.0.1", 0);
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_port", "port");
	s.port = 9000;
	s.sample_every = 0;
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_sample_every", "sample_every");
	s.sample_every = 1000001;
	FAILS(fctl_sub_create(f, &s, &e_), 422, "invalid_sample_every", "sample_every");
	s.sample_every = 1000000;
	ck_assert_ptr_eq(fctl_read(), before);
	OK(fctl_sub_create(f, &s, &e_));

	/* Updates are checked the same way. */
	s.sample_every = 0;
	FAILS(fctl_sub_update(f, &s, &e_), 422, "invalid_sample_every", "sample_every");
	ok.port = 0;
	FAILS(fctl_port_update(f, &ok, &e_), 422, "invalid_port", "port");
	ck_assert_uint_eq(stored(st), 2001);
	fctl_close(f);
	store_close(st);
}
END_TEST

START_TEST(conflicts_change_nothing)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, FAKE_SETS);
	struct fctl_port a = cport(162, NULL), b = cport(161, "10.0.0.1"), p;
	struct fctl_sub s, t;
	struct fctl_sub_view sv;
	const struct fctl_snap *before;
	int calls;

	OK(fctl_port_create(f, &a, &e_));
	OK(fctl_port_create(f, &b, &e_));
	s = sub(a.id, FCTL_RAW, "10.0.0.5", 9000);
	OK(fctl_sub_create(f, &s, &e_));
	before = fctl_read();
	calls = fake.calls;

	/* One row per port, with or without an address. */
	p = cport(162, "10.0.0.1");
	FAILS(fctl_port_create(f, &p, &e_), 409, "conflict", "port");
	p = cport(161, NULL);
	FAILS(fctl_port_create(f, &p, &e_), 409, "conflict", "port");
	/* A port that is another's registration port, and the other way round. */
	p = cport(13162, NULL);
	p.registration_port = 30000;
	FAILS(fctl_port_create(f, &p, &e_), 409, "conflict", "port");
	p = cport(170, NULL);
	p.registration_port = 13161;
	FAILS(fctl_port_create(f, &p, &e_), 409, "conflict", "registration_port");
	p.registration_port = 162;
	FAILS(fctl_port_create(f, &p, &e_), 409, "conflict", "registration_port");
	b.registration_port = 13162;
	FAILS(fctl_port_update(f, &b, &e_), 409, "conflict", "registration_port");
	b.registration_port = 0;
	b.port = 162;
	FAILS(fctl_port_update(f, &b, &e_), 409, "conflict", "port");

	/* One target once per port, whatever the mode; the cleaned bytes count. */
	t = sub(a.id, FCTL_FRAMED_UDP, "10.0.0.5", 9000);
	t.addr[7] = 0xee;
	FAILS(fctl_sub_create(f, &t, &e_), 409, "conflict", "address");
	t = sub(b.id, FCTL_RAW, "10.0.0.5", 9001);
	OK(fctl_sub_create(f, &t, &e_));
	before = fctl_read();
	calls = fake.calls;
	t.port = 9000;
	t.port_id = a.id;
	FAILS(fctl_sub_update(f, &t, &e_), 409, "conflict", "address");

	/* Nothing changed: not the store, not memory, not the snapshot, not the kernel. */
	ck_assert_ptr_eq(fctl_read(), before);
	ck_assert_int_eq(fake.calls, calls);
	ck_assert_uint_eq(stored(st), 2002);
	OK(fctl_sub_get(f, t.id, &sv, &e_));
	ck_assert_int_eq(sv.s.port_id, b.id);
	ck_assert_uint_eq(sv.s.port, 9001);

	/* The same target on another port, or another port of the same address, is fine. */
	t.port_id = b.id;
	t.port = 9000;
	OK(fctl_sub_update(f, &t, &e_));
	fctl_close(f);
	store_close(st);
}
END_TEST

START_TEST(cap_of_subscribers)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, NULL);
	struct fctl_port a = cport(162, NULL), b = cport(161, NULL);
	struct fctl_sub s, first;
	int64_t id;

	OK(fctl_port_create(f, &a, &e_));
	OK(fctl_port_create(f, &b, &e_));
	for (int i = 0; i < FCTL_MAX_SUBS; i++) {
		s = sub(a.id, FCTL_RAW, "10.0.0.5", (uint16_t)(10000 + i));
		OK(fctl_sub_create(f, &s, &e_));
		if (i == 0)
			first = s;
	}
	s = sub(a.id, FCTL_RAW, "10.0.0.5", 20000);
	FAILS(fctl_sub_create(f, &s, &e_), 409, "too_many", "contested_port");
	/* A target already there is still "already added", not "too many". */
	s.port = 10000;
	FAILS(fctl_sub_create(f, &s, &e_), 409, "conflict", "address");
	/* Moving one in from another port counts too. */
	s = sub(b.id, FCTL_RAW, "10.0.0.6", 20000);
	OK(fctl_sub_create(f, &s, &e_));
	id = s.id;
	s.port_id = a.id;
	FAILS(fctl_sub_update(f, &s, &e_), 409, "too_many", "contested_port");
	/* An update of one of the full port's own is no new subscriber. */
	first.sample_every = 3;
	OK(fctl_sub_update(f, &first, &e_));
	/* Room again after a delete. */
	OK(fctl_sub_delete(f, first.id, &e_));
	OK(fctl_sub_update(f, &s, &e_));
	ck_assert_int_eq(s.id, id);
	ck_assert_uint_eq(stored(st), 2000 + FCTL_MAX_SUBS);
	urcu_memb_read_lock();
	ck_assert_uint_eq(fctl_read()->ports[0].nsubs, FCTL_MAX_SUBS);
	ck_assert_uint_eq(fctl_read()->ports[1].nsubs, 0);
	urcu_memb_read_unlock();
	fctl_close(f);

	/* A reopen accepts a full port. */
	f = open_fctl(st, NULL);
	fctl_close(f);
	store_close(st);
}
END_TEST

START_TEST(delete_cascades_and_tells_gone)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, FAKE_SETS);
	struct fctl_port a = cport(162, NULL), b = cport(161, "10.0.0.1");
	struct fctl_sub s1, s2, s3;
	struct fctl_sub_view sv;
	struct fctl_stats stats;

	OK(fctl_port_create(f, &a, &e_));
	OK(fctl_port_create(f, &b, &e_));
	s1 = sub(a.id, FCTL_RAW, "10.0.0.5", 9001);
	s2 = sub(b.id, FCTL_RAW, "10.0.0.5", 9002);
	s3 = sub(a.id, FCTL_FRAMED_UNIX, "/run/a.sock", 0);
	s3.registered = true;
	OK(fctl_sub_create(f, &s1, &e_));
	OK(fctl_sub_create(f, &s2, &e_));
	OK(fctl_sub_create(f, &s3, &e_));

	OK(fctl_port_delete(f, a.id, &e_));
	ck_assert_int_eq(gone.calls, 1);
	ck_assert_int_eq(gone.p.id, a.id);
	ck_assert_uint_eq(gone.p.registration_port, 13162);
	ck_assert_uint_eq(gone.n, 2);
	ck_assert_int_eq(gone.subs[0].id, s1.id);
	ck_assert_uint_eq(gone.subs[0].port, 9001);
	ck_assert_int_eq(gone.subs[1].id, s3.id);
	ck_assert_str_eq(gone.subs[1].path, "/run/a.sock");
	/* Told while the old snapshot was still live. */
	ck_assert(gone.was_live);

	FAILS(fctl_sub_get(f, s1.id, &sv, &e_), 404, "not_found", "");
	FAILS(fctl_sub_get(f, s3.id, &sv, &e_), 404, "not_found", "");
	OK(fctl_sub_get(f, s2.id, &sv, &e_));
	ck_assert_uint_eq(stored(st), 1001);
	ck_assert_uint_eq(fake.n, 1);
	ck_assert_uint_eq(fake.ports[0], 161);
	urcu_memb_read_lock();
	ck_assert_uint_eq(fctl_read()->nports, 1);
	ck_assert_int_eq(fctl_read()->ports[0].subs[0].s.id, s2.id);
	urcu_memb_read_unlock();
	fctl_stats(f, &stats);
	ck_assert_uint_eq(stats.ports, 1);
	ck_assert_uint_eq(stats.subs, 1);

	/* A port without subscribers: gone is told, with none. */
	OK(fctl_sub_delete(f, s2.id, &e_));
	ck_assert_int_eq(gone.calls, 1);
	OK(fctl_port_delete(f, b.id, &e_));
	ck_assert_int_eq(gone.calls, 2);
	ck_assert_uint_eq(gone.n, 0);
	ck_assert_uint_eq(fake.n, 0);
	ck_assert_uint_eq(stored(st), 0);
	fctl_close(f);
	store_close(st);
}
END_TEST

START_TEST(disable_tells_gone_and_keeps_subscribers)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, FAKE_SETS);
	struct fctl_port a = cport(162, NULL), b = cport(161, NULL), old;
	struct fctl_sub s1, s2;
	struct fctl_port_view pv;

	OK(fctl_port_create(f, &a, &e_));
	OK(fctl_port_create(f, &b, &e_));
	s1 = sub(a.id, FCTL_RAW, "10.0.0.5", 9001);
	s2 = sub(a.id, FCTL_SPOOF, "10.0.0.6", 162);
	OK(fctl_sub_create(f, &s1, &e_));
	OK(fctl_sub_create(f, &s2, &e_));
	ck_assert_uint_eq(fake.n, 2);

	/* Disabling, with a new registration port: gone hears of the old one. */
	old = a;
	a.enabled = false;
	a.registration_port = 14000;
	OK(fctl_port_update(f, &a, &e_));
	ck_assert_int_eq(gone.calls, 1);
	ck_assert_int_eq(gone.p.id, a.id);
	ck_assert(gone.p.enabled);
	ck_assert_uint_eq(gone.p.registration_port, old.registration_port);
	ck_assert_uint_eq(gone.n, 2);
	ck_assert_int_eq(gone.subs[0].id, s1.id);
	ck_assert_int_eq(gone.subs[1].id, s2.id);
	ck_assert(gone.was_live);

	/* Stored and listed still, but not in the kernel's set. */
	ck_assert_uint_eq(stored(st), 2002);
	OK(fctl_port_get(f, a.id, &pv, &e_));
	ck_assert(!pv.p.enabled);
	ck_assert_uint_eq(pv.nsubs, 2);
	ck_assert_uint_eq(fake.n, 1);
	ck_assert_uint_eq(fake.ports[0], 161);
	urcu_memb_read_lock();
	ck_assert(!fctl_read()->ports[0].p.enabled);
	ck_assert_uint_eq(fctl_read()->ports[0].nsubs, 2);
	urcu_memb_read_unlock();

	/* Changes of a disabled port, and enabling it, tell gone nothing. */
	a.registration_port = 14001;
	OK(fctl_port_update(f, &a, &e_));
	a.enabled = true;
	OK(fctl_port_update(f, &a, &e_));
	ck_assert_int_eq(gone.calls, 1);
	ck_assert_uint_eq(fake.n, 2);
	/* Nor does a write that fails. */
	a.enabled = false;
	a.port = 161;
	FAILS(fctl_port_update(f, &a, &e_), 409, "conflict", "port");
	ck_assert_int_eq(gone.calls, 1);
	fctl_close(f);
	store_close(st);
}
END_TEST

START_TEST(counters_survive_updates)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, NULL);
	struct fctl_port a = cport(162, NULL), z = cport(161, NULL);
	struct fctl_sub s = sub(0, FCTL_RAW, "10.0.0.5", 9001), y;
	const struct fctl_snap_port *sp;
	struct fctl_port_view pv;
	struct fctl_sub_view sv;
	struct fctl_stats stats;

	OK(fctl_port_create(f, &a, &e_));
	OK(fctl_port_create(f, &z, &e_));
	s.port_id = a.id;
	OK(fctl_sub_create(f, &s, &e_));
	y = sub(z.id, FCTL_RAW, "10.0.0.5", 9002);
	OK(fctl_sub_create(f, &y, &e_));

	/* What the copier does with a datagram. */
	urcu_memb_read_lock();
	sp = &fctl_read()->ports[0];
	__atomic_add_fetch(&sp->c->datagrams, 3, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sp->c->bytes, 300, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sp->subs[0].c->copies, 2, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sp->subs[0].c->bytes, 200, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sp->subs[0].c->errors, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sp->subs[0].c->drops, 4, __ATOMIC_RELAXED);
	__atomic_store_n(&sp->subs[0].c->last_sent, 1700000000, __ATOMIC_RELAXED);
	__atomic_add_fetch(&fctl_read()->ports[1].subs[0].c->copies, 5, __ATOMIC_RELAXED);
	urcu_memb_read_unlock();

	/* Rebuilds: an update of each kind, a delete of another port. */
	a.registration_port = 20000;
	OK(fctl_port_update(f, &a, &e_));
	s.mode = FCTL_FRAMED_UDP;
	s.sample_every = 7;
	OK(fctl_sub_update(f, &s, &e_));
	fctl_stats(f, &stats);
	ck_assert_uint_eq(stats.datagrams, 3);
	ck_assert_uint_eq(stats.copies, 7);
	ck_assert_uint_eq(stats.errors, 1);
	ck_assert_uint_eq(stats.drops, 4);
	OK(fctl_port_delete(f, z.id, &e_));

	OK(fctl_port_get(f, a.id, &pv, &e_));
	ck_assert_uint_eq(pv.c.datagrams, 3);
	ck_assert_uint_eq(pv.c.bytes, 300);
	OK(fctl_sub_get(f, s.id, &sv, &e_));
	ck_assert_uint_eq(sv.c.copies, 2);
	ck_assert_uint_eq(sv.c.bytes, 200);
	ck_assert_uint_eq(sv.c.errors, 1);
	ck_assert_uint_eq(sv.c.drops, 4);
	ck_assert_int_eq(sv.c.last_sent, 1700000000);
	fctl_stats(f, &stats);
	ck_assert_uint_eq(stats.copies, 2);
	urcu_memb_read_lock();
	ck_assert_uint_eq(fctl_read()->ports[0].subs[0].c->copies, 2);
	ck_assert_uint_eq(fctl_read()->ports[0].subs[0].s.sample_every, 7);
	urcu_memb_read_unlock();
	fctl_close(f);
	store_close(st);
}
END_TEST

START_TEST(stored_but_not_live)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, FAKE_SETS);
	struct fctl_port a = cport(162, NULL), b = cport(161, NULL);
	struct mapping_error err = { 0 };
	const struct fctl_snap *before;

	ck_assert(!fctl_dirty(f));
	OK(fctl_port_create(f, &a, &e_));
	fake.fail = true;
	before = fctl_read();
	ck_assert_int_eq(fctl_port_create(f, &b, &err), -1);
	ck_assert_int_eq(err.status, 503);
	ck_assert_str_eq(err.code, "not_live");
	/* Stored, current and published, with its id; only the kernel lags. */
	ck_assert_int_gt(b.id, a.id);
	ck_assert_uint_eq(stored(st), 2000);
	ck_assert_ptr_ne(fctl_read(), before);
	ck_assert(fctl_dirty(f));
	ck_assert_uint_eq(fake.n, 1);
	ck_assert_int_eq(fctl_retry(f), -1);
	ck_assert(fctl_dirty(f));

	fake.fail = false;
	ck_assert_int_eq(fctl_retry(f), 0);
	ck_assert(!fctl_dirty(f));
	ck_assert_uint_eq(fake.n, 2);
	ck_assert_int_eq(fctl_retry(f), 0);
	fctl_close(f);

	/* Opening fails when the kernel's set cannot be filled. */
	fake.fail = true;
	ck_assert_ptr_null(fctl_open(st, FAKE_SETS, NULL, NULL, errbuf, sizeof(errbuf)));
	ck_assert_ptr_nonnull(strstr(errbuf, "fake sets"));
	ck_assert_ptr_null(fctl_read());
	store_close(st);
}
END_TEST

START_TEST(reopen_restores_everything)
{
	struct store *st = open_store();
	struct fctl *f = open_fctl(st, FAKE_SETS);
	struct fctl_port a = cport(162, "2001:db8::1"), b = cport(161, NULL);
	struct fctl_sub s1, s2;
	struct fctl_port_view pv;
	struct fctl_sub_view sv;
	int64_t id;

	OK(fctl_port_create(f, &a, &e_));
	b.enabled = false;
	b.registration_port = 2161;
	OK(fctl_port_create(f, &b, &e_));
	s1 = sub(a.id, FCTL_SPOOF, "2001:db8::99", 1162);
	s1.registered = true;
	s1.sample_every = 100;
	s2 = sub(b.id, FCTL_FRAMED_UNIX, "/run/b.sock", 0);
	OK(fctl_sub_create(f, &s1, &e_));
	OK(fctl_sub_create(f, &s2, &e_));
	fctl_close(f);
	store_close(st);

	/* A restart loses no subscriber, and the disabled port stays out of the set. */
	memset(&fake, 0, sizeof(fake));
	st = open_store();
	f = open_fctl(st, FAKE_SETS);
	ck_assert_uint_eq(fake.n, 1);
	ck_assert_uint_eq(fake.ports[0], 162);
	OK(fctl_port_get(f, a.id, &pv, &e_));
	ck_assert_uint_eq(pv.p.family, AF_INET6);
	ck_assert_mem_eq(pv.p.addr, a.addr, 16);
	ck_assert_uint_eq(pv.p.registration_port, 13162);
	ck_assert(pv.p.enabled);
	ck_assert_uint_eq(pv.nsubs, 1);
	OK(fctl_port_get(f, b.id, &pv, &e_));
	ck_assert(!pv.p.enabled);
	ck_assert_uint_eq(pv.p.registration_port, 2161);
	OK(fctl_sub_get(f, s1.id, &sv, &e_));
	ck_assert_int_eq(sv.s.mode, FCTL_SPOOF);
	ck_assert_mem_eq(sv.s.addr, s1.addr, 16);
	ck_assert_uint_eq(sv.s.port, 1162);
	ck_assert_uint_eq(sv.s.sample_every, 100);
	ck_assert(sv.s.registered);
	OK(fctl_sub_find(f, b.id, &s2, &id, &e_));
	ck_assert_int_eq(id, s2.id);
	urcu_memb_read_lock();
	ck_assert_uint_eq(fctl_read()->nports, 2);
	ck_assert_str_eq(fctl_read()->ports[1].subs[0].s.path, "/run/b.sock");
	urcu_memb_read_unlock();

	/* New rows get new ids, past the ones before the restart. */
	s2 = sub(a.id, FCTL_RAW, "10.0.0.1", 9000);
	OK(fctl_sub_create(f, &s2, &e_));
	ck_assert_int_gt(s2.id, s1.id);
	fctl_close(f);
	store_close(st);
}
END_TEST

/* Runs statements on a second, independent connection. */
static void side_exec(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
	sqlite3_close(db);
}

START_TEST(hand_edits_refused)
{
	struct store *st = open_store();

	/* UNIQUE (port, address) lets two rows of port 162 in: NULL is distinct. */
	side_exec("INSERT INTO contested (port, address, registration_port) VALUES "
		  "(162, NULL, 13162), (162, NULL, 14162)");
	ck_assert_ptr_null(fctl_open(st, NULL, NULL, NULL, errbuf, sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "already contested") != NULL, "%s", errbuf);
	ck_assert_ptr_null(fctl_read());
	side_exec("UPDATE contested SET port = 13162 WHERE registration_port = 14162");
	ck_assert_ptr_null(fctl_open(st, NULL, NULL, NULL, errbuf, sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "registration port") != NULL, "%s", errbuf);
	side_exec("DELETE FROM contested WHERE registration_port = 14162; "
		  "INSERT INTO subscribers (contested_id, mode, address, port) "
		  "SELECT id, 'raw', '10.0.0.1', 9000 FROM contested");
	fctl_close(open_fctl(st, NULL));
	store_close(st);
}
END_TEST

START_TEST(migrates_from_version_2)
{
	sqlite3 *db;
	struct store *st;
	struct fctl *f;
	struct fctl_port a = cport(162, NULL);
	struct fctl_sub s;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, store_migrations[1], NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=2", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	st = open_store();
	f = open_fctl(st, NULL);
	ck_assert_uint_eq(stored(st), 0);
	OK(fctl_port_create(f, &a, &e_));
	s = sub(a.id, FCTL_RAW, "10.0.0.1", 9000);
	OK(fctl_sub_create(f, &s, &e_));
	fctl_close(f);
	store_close(st);
}
END_TEST

static Suite *fctl_suite(void)
{
	Suite *s = suite_create("fctl");
	TCase *tc = tcase_create("fctl");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mode_names);
	tcase_add_test(tc, crud_and_snapshot);
	tcase_add_test(tc, unknown_ids);
	tcase_add_test(tc, invalid_values);
	tcase_add_test(tc, conflicts_change_nothing);
	tcase_add_test(tc, cap_of_subscribers);
	tcase_add_test(tc, delete_cascades_and_tells_gone);
	tcase_add_test(tc, disable_tells_gone_and_keeps_subscribers);
	tcase_add_test(tc, counters_survive_updates);
	tcase_add_test(tc, stored_but_not_live);
	tcase_add_test(tc, reopen_restores_everything);
	tcase_add_test(tc, hand_edits_refused);
	tcase_add_test(tc, migrates_from_version_2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
