/*
 * gctl: the control plane of the application groups (see gctl.h).
 *
 * DESIGN.  Three kinds of threads meet here.  The control plane's threads
 * (HTTP requests, and the retry on control's resolver thread) call
 * everything but gctl_read, always under control.c's lock, so nothing in
 * struct gctl needs a lock of its own.  The NFQUEUE workers call gctl_read
 * inside an RCU read-side section and touch only the published snapshot
 * and the counters it points at, with relaxed atomics.  The workers also
 * own the flow table: the control plane only reads it, or asks them to
 * flush it and waits, which gflows.c does with gctl's rows.
 *
 * A write goes: copy the rows with the change applied (the candidate,
 * gconf.h) -> check the changed row and then the whole candidate, as the
 * workers would get it -> write the store -> make the candidate current ->
 * build and publish a snapshot, freeing the old one after the grace period
 * -> sync the port ipsets.  Whatever could run out of memory before the
 * snapshot is allocated ahead of the store write, so a stored change is
 * always current in memory.
 *
 * Counters live outside snapshots, allocated per row and pointed at from
 * the current rows (a group's counters field, a backend's b.active and
 * b.flows), so rebuilds keep them.  A removed row's counters go to the
 * graveyard, freed once a snapshot without the row is published: the
 * publish waits for the grace period, after which no worker holds the old
 * one.  When the snapshot or the ipsets could not be made live, dirty
 * stays set, the write answers 503, and gctl_retry (run every second by
 * control's resolver thread) tries again.
 */
#include "gctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <urcu/urcu-memb.h>

#include "gconf.h"
#include "gflows.h"
#include "gstore.h"
#include "log.h"
#include "sets.h"

/* A backend's counters; its b.active and b.flows point into one of these. */
struct gctl_bcount {
	uint32_t active;
	uint64_t flows;
};

struct gctl {
	struct store *store;
	struct sets *sets;
	struct flow_table *flows;
	unsigned nworkers;
	struct gstore_all cur;  /* as stored, ordered by id, with counters */
	void **grave;           /* counters of removed rows, freed after a publish */
	size_t ngrave, gravecap;
	bool dirty;             /* stored changes not (all) live yet */
};

enum { GCTL_UNPUBLISHED = -1, GCTL_UNSYNCED = -2 };

static struct gctl_snap *gctl_live;

static int gctl_oom(struct mapping_error *err)
{
	mapping_fail(err, 500, "internal", "", "out of memory");
	return -1;
}

static int gctl_not_found(struct mapping_error *err, const char *what, int64_t id)
{
	mapping_fail(err, 404, "not_found", "", "no %s with id %" PRId64, what, id);
	return -1;
}

static struct gctl_bcount *gctl_bcount_of(const struct groups_backend *b)
{
	return (struct gctl_bcount *)((char *)b->b.active - offsetof(struct gctl_bcount, active));
}

/* The name of group id, or "" when it is gone. */
static const char *gctl_group_name(const struct gctl *g, int64_t id)
{
	ssize_t i = gconf_group_index(&g->cur, id);

	return i < 0 ? "" : g->cur.groups[i].name;
}

/* Makes room for n more pointers in the graveyard.  Returns 0 or -1. */
static int gctl_grave_reserve(struct gctl *g, size_t n)
{
	void **grown;

	if (g->ngrave + n <= g->gravecap)
		return 0;
	grown = realloc(g->grave, (g->ngrave + n) * sizeof(*grown));
	if (!grown)
		return -1;
	g->grave = grown;
	g->gravecap = g->ngrave + n;
	return 0;
}

static void gctl_grave_empty(struct gctl *g)
{
	for (size_t i = 0; i < g->ngrave; i++)
		free(g->grave[i]);
	g->ngrave = 0;
}

static void gctl_snap_free(struct gctl_snap *s)
{
	if (!s)
		return;
	for (unsigned w = 0; w < s->nworkers; w++)
		free(s->rr[w]);
	free(s->rr);
	groups_free(s->groups);
	free(s);
}

/*
 * The snapshot of a for nworkers workers.  Returns NULL with errno set:
 * EINVAL with err filled, or ENOMEM.
 */
static struct gctl_snap *gctl_snap_build(const struct gstore_all *a, unsigned nworkers,
					 struct groups_error *err)
{
	struct groups_input in = { a->groups, a->ngroups, a->backends, a->nbackends,
				   a->rules, a->nrules };
	struct gctl_snap *s = calloc(1, sizeof(*s));
	size_t nb;
	int e;

	if (!s)
		goto oom;
	s->groups = groups_build(&in, err);
	if (!s->groups)
		goto err;
	nb = groups_backend_count(s->groups);
	s->rr = calloc(nworkers + 1, sizeof(*s->rr));
	if (!s->rr)
		goto oom;
	for (; s->nworkers < nworkers; s->nworkers++) {
		s->rr[s->nworkers] = calloc(nb + 1, sizeof(int32_t));
		if (!s->rr[s->nworkers])
			goto oom;
	}
	return s;
oom:
	errno = ENOMEM;
err:
	e = errno;
	gctl_snap_free(s);
	errno = e;
	return NULL;
}

static void gctl_publish(struct gctl_snap *s)
{
	struct gctl_snap *old = rcu_xchg_pointer(&gctl_live, s);

	urcu_memb_synchronize_rcu();
	gctl_snap_free(old);
}

const struct gctl_snap *gctl_read(void)
{
	return rcu_dereference(gctl_live);
}

/* Gives the kernel the distinct virtual and backend ports.  Returns 0 or -1. */
static int gctl_sync_ports(struct gctl *g, char *errbuf, size_t errlen)
{
	uint16_t *v, *b;
	size_t nv, nb;
	int rc;

	if (gconf_ports(&g->cur, &v, &nv, &b, &nb) < 0) {
		snprintf(errbuf, errlen, "group port sets: out of memory");
		return -1;
	}
	rc = sets_sync_ports(g->sets, v, nv, b, nb, errbuf, errlen);
	free(v);
	free(b);
	return rc;
}

/*
 * Publishes the snapshot of the current rows, frees the graveyard and
 * syncs the port ipsets (unless sets is NULL).  Returns 0;
 * GCTL_UNPUBLISHED when no snapshot could be built (the old one stays
 * live, so the graveyard is kept); or GCTL_UNSYNCED when the snapshot is
 * live but the ipsets are not.  Failures are logged and leave dirty set.
 */
static int gctl_apply(struct gctl *g)
{
	struct groups_error gerr = { "" };
	struct gctl_snap *s;
	char errbuf[256];

	g->dirty = true;
	s = gctl_snap_build(&g->cur, g->nworkers, &gerr);
	if (!s) {
		log_warnx("cannot build the groups snapshot: %s",
			  errno == EINVAL ? gerr.message : "out of memory");
		return GCTL_UNPUBLISHED;
	}
	gctl_publish(s);
	gctl_grave_empty(g);
	if (g->sets != NULL && gctl_sync_ports(g, errbuf, sizeof(errbuf)) < 0) {
		log_warnx("%s", errbuf);
		return GCTL_UNSYNCED;
	}
	g->dirty = false;
	return 0;
}

bool gctl_dirty(const struct gctl *g)
{
	return g->dirty;
}

int gctl_retry(struct gctl *g)
{
	if (!g->dirty)
		return 0;
	return gctl_apply(g) < 0 ? -1 : 0;
}

/* Gives every current row its counters.  Returns 0 or -1. */
static int gctl_counters_new(struct gctl *g)
{
	for (size_t i = 0; i < g->cur.ngroups; i++) {
		g->cur.groups[i].counters = calloc(1, sizeof(struct groups_counters));
		if (!g->cur.groups[i].counters)
			return -1;
	}
	for (size_t i = 0; i < g->cur.nbackends; i++) {
		struct gctl_bcount *c = calloc(1, sizeof(*c));

		if (!c)
			return -1;
		g->cur.backends[i].b.active = &c->active;
		g->cur.backends[i].b.flows = &c->flows;
	}
	return 0;
}

struct gctl *gctl_open(struct store *st, struct sets *sets,
		       struct flow_table *flows, unsigned nworkers,
		       char *errbuf, size_t errlen)
{
	struct gctl *g = calloc(1, sizeof(*g));
	struct groups_error gerr = { "" };
	struct gctl_snap *s;

	if (!g) {
		snprintf(errbuf, errlen, "groups: out of memory");
		return NULL;
	}
	g->store = st;
	g->sets = sets;
	g->flows = flows;
	g->nworkers = nworkers;
	if (gstore_load(st, &g->cur, errbuf, errlen) < 0)
		goto err;
	if (gctl_counters_new(g) < 0) {
		snprintf(errbuf, errlen, "groups: out of memory");
		goto err;
	}
	gflows_restore(flows, &g->cur);
	/* A database edited by hand may hold what groups_build refuses: say what. */
	s = gctl_snap_build(&g->cur, nworkers, &gerr);
	if (!s) {
		snprintf(errbuf, errlen, "groups: %s",
			 errno == EINVAL ? gerr.message : "out of memory");
		goto err;
	}
	gctl_publish(s);
	if (sets != NULL && gctl_sync_ports(g, errbuf, errlen) < 0)
		goto err;
	return g;
err:
	gctl_close(g);
	return NULL;
}

void gctl_close(struct gctl *g)
{
	if (!g)
		return;
	gctl_publish(NULL);
	gctl_grave_empty(g);
	free(g->grave);
	for (size_t i = 0; i < g->cur.ngroups; i++)
		free(g->cur.groups[i].counters);
	for (size_t i = 0; i < g->cur.nbackends; i++)
		if (g->cur.backends[i].b.active)
			free(gctl_bcount_of(&g->cur.backends[i]));
	gstore_all_free(&g->cur);
	free(g);
}

/*
 * Ends a write whose store statement returned st: 0 done, 1 no such row,
 * -1 failed with errbuf saying why.  On 0, makes next (taken) the current
 * rows and makes them live; otherwise gives back the graveyard entries the
 * write added since mark.  Returns 0, or -1 with err filled: 500 for the
 * store, 503 for a change stored but not live.
 */
static int gctl_finish(struct gctl *g, struct gstore_all *next, size_t mark, int st,
		       const char *errbuf, struct mapping_error *err)
{
	int rc;

	if (st != 0) {
		g->ngrave = mark;
		mapping_fail(err, 500, "storage", "", "%s", st < 0 ? errbuf : "row vanished");
		return -1;
	}
	gstore_all_free(&g->cur);
	g->cur = *next;
	memset(next, 0, sizeof(*next));
	rc = gctl_apply(g);
	if (rc == 0)
		return 0;
	mapping_fail(err, 503, "not_live", "",
		     "the change is stored but %s; retrying every second",
		     rc == GCTL_UNPUBLISHED ? "the packet path could not take it"
					    : "the kernel ipsets could not be updated");
	return -1;
}

/* Relaxed copies of counters the workers add to. */
static void gctl_load_counters(const struct groups_counters *c, struct groups_counters *out)
{
	out->flows = __atomic_load_n(&c->flows, __ATOMIC_RELAXED);
	out->waits = __atomic_load_n(&c->waits, __ATOMIC_RELAXED);
	out->wait_admitted = __atomic_load_n(&c->wait_admitted, __ATOMIC_RELAXED);
	out->timeouts = __atomic_load_n(&c->timeouts, __ATOMIC_RELAXED);
	out->refused = __atomic_load_n(&c->refused, __ATOMIC_RELAXED);
}

static void gctl_group_view_of(const struct gctl *g, size_t i, struct gctl_group_view *v)
{
	const struct groups_group *gr = &g->cur.groups[i];

	memset(v, 0, sizeof(*v));
	v->g = *gr;
	v->g.counters = NULL;
	v->g.backends = NULL;
	v->g.nbackends = 0;
	v->g.first_backend = 0;
	gctl_load_counters(gr->counters, &v->c);
	for (size_t b = 0; b < g->cur.nbackends; b++) {
		if (g->cur.backends[b].group_id != gr->id)
			continue;
		v->active += __atomic_load_n(g->cur.backends[b].b.active, __ATOMIC_RELAXED);
		v->nbackends++;
	}
}

int gctl_group_list(struct gctl *g, struct gctl_group_view **rows, size_t *n,
		    struct mapping_error *err)
{
	*rows = calloc(g->cur.ngroups + 1, sizeof(**rows));
	if (!*rows)
		return gctl_oom(err);
	for (size_t i = 0; i < g->cur.ngroups; i++)
		gctl_group_view_of(g, i, &(*rows)[i]);
	*n = g->cur.ngroups;
	return 0;
}

int gctl_group_get(struct gctl *g, int64_t id, struct gctl_group_view *out,
		   struct mapping_error *err)
{
	ssize_t i = gconf_group_index(&g->cur, id);

	if (i < 0)
		return gctl_not_found(err, "group", id);
	gctl_group_view_of(g, (size_t)i, out);
	return 0;
}

int gctl_group_by_name(struct gctl *g, const char *name, int64_t *id,
		       struct mapping_error *err)
{
	for (size_t i = 0; i < g->cur.ngroups; i++) {
		if (strcmp(g->cur.groups[i].name, name) == 0) {
			*id = g->cur.groups[i].id;
			return 0;
		}
	}
	mapping_fail(err, 422, "unknown_group", "group", "no group named \"%s\"", name);
	return -1;
}

int gctl_group_create(struct gctl *g, struct groups_group *gr,
		      struct mapping_error *err)
{
	struct groups_counters *c = calloc(1, sizeof(*c));
	struct gstore_all next;
	struct groups_group *row;
	char errbuf[256];
	int rc = -1, st;

	if (!c || gconf_copy(&g->cur, &next) < 0) {
		free(c);
		return gctl_oom(err);
	}
	row = &next.groups[next.ngroups++];
	*row = *gr;
	row->id = gconf_next_group_id(&g->cur);
	row->counters = c;
	mapping_addr_clean(row->family, row->addr);
	if (!gconf_check_group(&next, next.ngroups - 1, err) || !gconf_check_all(&next, err))
		goto out;
	st = gstore_group_insert(g->store, row, errbuf, sizeof(errbuf));
	if (st == 0) {
		gr->id = row->id;
		c = NULL;
		log_info("group %" PRId64 " created: %s, port %u", gr->id, gr->name,
			 gr->virtual_port);
	}
	rc = gctl_finish(g, &next, g->ngrave, st, errbuf, err);
out:
	free(c);
	gstore_all_free(&next);
	return rc;
}

int gctl_group_update(struct gctl *g, const struct groups_group *gr,
		      struct mapping_error *err)
{
	ssize_t i = gconf_group_index(&g->cur, gr->id);
	struct gstore_all next;
	char errbuf[256];
	int rc = -1, st;

	if (i < 0)
		return gctl_not_found(err, "group", gr->id);
	if (gconf_copy(&g->cur, &next) < 0)
		return gctl_oom(err);
	next.groups[i] = *gr;
	next.groups[i].counters = g->cur.groups[i].counters;
	mapping_addr_clean(gr->family, next.groups[i].addr);
	if (!gconf_check_group(&next, (size_t)i, err) || !gconf_check_all(&next, err))
		goto out;
	st = gstore_group_update(g->store, &next.groups[i], errbuf, sizeof(errbuf));
	if (st == 0)
		log_info("group %" PRId64 " updated", gr->id);
	rc = gctl_finish(g, &next, g->ngrave, st, errbuf, err);
out:
	gstore_all_free(&next);
	return rc;
}

/*
 * The deletes check nothing but the id: removing a row (a group with its
 * backends and rules) cannot break a rule of the configuration.
 */
int gctl_group_delete(struct gctl *g, int64_t id, struct mapping_error *err)
{
	ssize_t i = gconf_group_index(&g->cur, id);
	size_t mark = g->ngrave;
	struct gstore_all next;
	char errbuf[256];
	int rc, st;

	if (i < 0)
		return gctl_not_found(err, "group", id);
	if (gctl_grave_reserve(g, 1 + g->cur.nbackends) < 0 || gconf_copy(&g->cur, &next) < 0)
		return gctl_oom(err);
	gconf_group_remove(&next, (size_t)i);
	g->grave[g->ngrave++] = g->cur.groups[i].counters;
	for (size_t b = 0; b < g->cur.nbackends; b++)
		if (g->cur.backends[b].group_id == id)
			g->grave[g->ngrave++] = gctl_bcount_of(&g->cur.backends[b]);
	st = gstore_group_delete(g->store, id, errbuf, sizeof(errbuf));
	if (st == 0)
		log_info("group %" PRId64 " deleted with %zu backends", id,
			 g->ngrave - mark - 1);
	rc = gctl_finish(g, &next, mark, st, errbuf, err);
	gstore_all_free(&next);
	return rc;
}

static void gctl_backend_view_of(const struct gctl *g, size_t i, struct gctl_backend_view *v)
{
	const struct groups_backend *b = &g->cur.backends[i];

	memset(v, 0, sizeof(*v));
	v->b = *b;
	v->b.b.active = NULL;
	v->b.b.flows = NULL;
	snprintf(v->group, sizeof(v->group), "%s", gctl_group_name(g, b->group_id));
	v->active = __atomic_load_n(b->b.active, __ATOMIC_RELAXED);
	v->flows = __atomic_load_n(b->b.flows, __ATOMIC_RELAXED);
}

int gctl_backend_list(struct gctl *g, int64_t group_id,
		      struct gctl_backend_view **rows, size_t *n,
		      struct mapping_error *err)
{
	size_t k = 0;

	*rows = calloc(g->cur.nbackends + 1, sizeof(**rows));
	if (!*rows)
		return gctl_oom(err);
	for (size_t i = 0; i < g->cur.nbackends; i++)
		if (group_id == 0 || g->cur.backends[i].group_id == group_id)
			gctl_backend_view_of(g, i, &(*rows)[k++]);
	*n = k;
	return 0;
}

int gctl_backend_get(struct gctl *g, int64_t id, struct gctl_backend_view *out,
		     struct mapping_error *err)
{
	ssize_t i = gconf_backend_index(&g->cur, id);

	if (i < 0)
		return gctl_not_found(err, "backend", id);
	gctl_backend_view_of(g, (size_t)i, out);
	return 0;
}

int gctl_backend_create(struct gctl *g, struct groups_backend *b,
			struct mapping_error *err)
{
	struct gctl_bcount *c = calloc(1, sizeof(*c));
	struct gstore_all next;
	struct groups_backend *row;
	char errbuf[256];
	int rc = -1, st;

	if (!c || gconf_copy(&g->cur, &next) < 0) {
		free(c);
		return gctl_oom(err);
	}
	row = &next.backends[next.nbackends++];
	*row = *b;
	row->b.id = gconf_next_backend_id(&g->cur);
	row->b.active = &c->active;
	row->b.flows = &c->flows;
	if (!gconf_check_backend(&next, next.nbackends - 1, err) || !gconf_check_all(&next, err))
		goto out;
	st = gstore_backend_insert(g->store, row, errbuf, sizeof(errbuf));
	if (st == 0) {
		b->b.id = row->b.id;
		c = NULL;
		log_info("backend %" PRId64 " created: group %" PRId64 ", port %u", b->b.id,
			 b->group_id, b->b.port);
	}
	rc = gctl_finish(g, &next, g->ngrave, st, errbuf, err);
out:
	free(c);
	gstore_all_free(&next);
	return rc;
}

int gctl_backend_update(struct gctl *g, const struct groups_backend *b,
			struct mapping_error *err)
{
	ssize_t i = gconf_backend_index(&g->cur, b->b.id);
	struct gstore_all next;
	char errbuf[256];
	int rc = -1, st;

	if (i < 0)
		return gctl_not_found(err, "backend", b->b.id);
	if (gconf_copy(&g->cur, &next) < 0)
		return gctl_oom(err);
	next.backends[i] = *b;
	next.backends[i].b.active = g->cur.backends[i].b.active;
	next.backends[i].b.flows = g->cur.backends[i].b.flows;
	if (!gconf_check_backend(&next, (size_t)i, err) || !gconf_check_all(&next, err))
		goto out;
	st = gstore_backend_update(g->store, &next.backends[i], errbuf, sizeof(errbuf));
	if (st == 0)
		log_info("backend %" PRId64 " updated", b->b.id);
	rc = gctl_finish(g, &next, g->ngrave, st, errbuf, err);
out:
	gstore_all_free(&next);
	return rc;
}

int gctl_backend_delete(struct gctl *g, int64_t id, struct mapping_error *err)
{
	ssize_t i = gconf_backend_index(&g->cur, id);
	size_t mark = g->ngrave;
	struct gstore_all next;
	char errbuf[256];
	int rc, st;

	if (i < 0)
		return gctl_not_found(err, "backend", id);
	if (gctl_grave_reserve(g, 1) < 0 || gconf_copy(&g->cur, &next) < 0)
		return gctl_oom(err);
	gconf_backend_remove(&next, (size_t)i);
	g->grave[g->ngrave++] = gctl_bcount_of(&g->cur.backends[i]);
	st = gstore_backend_delete(g->store, id, errbuf, sizeof(errbuf));
	if (st == 0)
		log_info("backend %" PRId64 " deleted", id);
	rc = gctl_finish(g, &next, mark, st, errbuf, err);
	gstore_all_free(&next);
	return rc;
}

static void gctl_rule_view_of(const struct gctl *g, size_t i, struct gctl_rule_view *v)
{
	memset(v, 0, sizeof(*v));
	v->r = g->cur.rules[i];
	snprintf(v->group, sizeof(v->group), "%s", gctl_group_name(g, v->r.group_id));
}

int gctl_rule_list(struct gctl *g, int64_t group_id,
		   struct gctl_rule_view **rows, size_t *n,
		   struct mapping_error *err)
{
	size_t k = 0;

	*rows = calloc(g->cur.nrules + 1, sizeof(**rows));
	if (!*rows)
		return gctl_oom(err);
	for (size_t i = 0; i < g->cur.nrules; i++)
		if (group_id == 0 || g->cur.rules[i].group_id == group_id)
			gctl_rule_view_of(g, i, &(*rows)[k++]);
	*n = k;
	return 0;
}

int gctl_rule_get(struct gctl *g, int64_t id, struct gctl_rule_view *out,
		  struct mapping_error *err)
{
	ssize_t i = gconf_rule_index(&g->cur, id);

	if (i < 0)
		return gctl_not_found(err, "rule", id);
	gctl_rule_view_of(g, (size_t)i, out);
	return 0;
}

/*
 * Checks, stores and applies next, in which rule i was changed or, when
 * created is not NULL, created (created->id is then set to the stored id).
 * Returns 0 or -1 with err filled.
 */
static int gctl_rule_write(struct gctl *g, struct gstore_all *next, size_t i,
			   struct groups_rule *created, struct mapping_error *err)
{
	struct groups_rule *row = &next->rules[i];
	char errbuf[256];
	int st;

	mapping_addr_clean(row->family, row->addr);
	if (!row->has_ports)
		row->port_lo = row->port_hi = 0;
	if (!gconf_check_rule(next, i, err) || !gconf_check_all(next, err))
		return -1;
	st = created ? gstore_rule_insert(g->store, row, errbuf, sizeof(errbuf))
		     : gstore_rule_update(g->store, row, errbuf, sizeof(errbuf));
	if (st == 0 && created)
		created->id = row->id;
	if (st == 0)
		log_info("rule %" PRId64 " %s", row->id, created ? "created" : "updated");
	return gctl_finish(g, next, g->ngrave, st, errbuf, err);
}

int gctl_rule_create(struct gctl *g, struct groups_rule *r,
		     struct mapping_error *err)
{
	struct gstore_all next;
	int rc;

	if (gconf_copy(&g->cur, &next) < 0)
		return gctl_oom(err);
	next.rules[next.nrules] = *r;
	next.rules[next.nrules].id = gconf_next_rule_id(&g->cur);
	rc = gctl_rule_write(g, &next, next.nrules++, r, err);
	gstore_all_free(&next);
	return rc;
}

int gctl_rule_update(struct gctl *g, const struct groups_rule *r,
		     struct mapping_error *err)
{
	ssize_t i = gconf_rule_index(&g->cur, r->id);
	struct gstore_all next;
	int rc;

	if (i < 0)
		return gctl_not_found(err, "rule", r->id);
	if (gconf_copy(&g->cur, &next) < 0)
		return gctl_oom(err);
	next.rules[i] = *r;
	rc = gctl_rule_write(g, &next, (size_t)i, NULL, err);
	gstore_all_free(&next);
	return rc;
}

int gctl_rule_delete(struct gctl *g, int64_t id, struct mapping_error *err)
{
	ssize_t i = gconf_rule_index(&g->cur, id);
	struct gstore_all next;
	char errbuf[256];
	int rc, st;

	if (i < 0)
		return gctl_not_found(err, "rule", id);
	if (gconf_copy(&g->cur, &next) < 0)
		return gctl_oom(err);
	gconf_rule_remove(&next, (size_t)i);
	st = gstore_rule_delete(g->store, id, errbuf, sizeof(errbuf));
	if (st == 0)
		log_info("rule %" PRId64 " deleted", id);
	rc = gctl_finish(g, &next, g->ngrave, st, errbuf, err);
	gstore_all_free(&next);
	return rc;
}

int gctl_flow_list(struct gctl *g, const struct gflows_filter *f,
		   struct gflows_view **rows, size_t *n, size_t *total,
		   struct mapping_error *err)
{
	return gflows_list(g->flows, &g->cur, f, rows, n, total, err);
}

int gctl_flow_flush(struct gctl *g, size_t *flushed, struct mapping_error *err)
{
	return gflows_flush(g->flows, flushed, err);
}

void gctl_stats(struct gctl *g, struct gctl_stats *out)
{
	struct gflows_totals t;

	gflows_totals(g->flows, &t);
	out->flows = t.flows;
	out->flow_limit = t.limit;
	out->flows_refused = t.refused;
	out->groups = g->cur.ngroups;
	out->backends = g->cur.nbackends;
	out->rules = g->cur.nrules;
}
