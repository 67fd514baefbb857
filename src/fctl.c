/*
 * fctl: the control plane of UDP fan-out (see fctl.h).
 *
 * DESIGN.  Three kinds of threads meet here.  The control plane's threads
 * (HTTP requests, registrations handed over by the registrar, and the
 * retry on control's resolver thread) call everything but fctl_read,
 * always under control.c's lock, so nothing in struct fctl needs a lock of
 * its own.  The copier and the registrar call fctl_read inside an RCU
 * (urcu-memb) read-side section and touch only the published snapshot and
 * the counters it points at, with relaxed atomics.
 *
 * A write goes: copy the rows with the change applied (the candidate,
 * fconf.h) -> check the changed row against the others -> write the store -> tell the
 * gone callback about subscribers a removed or disabled port cuts off ->
 * make the candidate current -> build and publish a snapshot, freeing the
 * old one after the grace period -> sync the contested-port ipset.
 * Whatever could run out of memory before the snapshot is allocated ahead
 * of the store write, so a stored change is always current in memory.
 *
 * Counters live outside snapshots, one allocation per row, pointed at from
 * the current rows, so rebuilds keep them.  A removed row's counters go to
 * the graveyard, freed once a snapshot without the row is published: the
 * publish waits for the grace period, after which no reader holds the old
 * one.  When the snapshot or the ipset could not be made live, dirty stays
 * set, the write answers 503, and fctl_retry (run every second by
 * control's resolver thread) tries again.
 */
#include "fctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <urcu/urcu-memb.h>

#include "fconf.h"
#include "fstore.h"
#include "log.h"
#include "sets.h"

struct fctl {
	struct store *store;
	struct sets *sets;
	fctl_gone_fn *gone;
	void *gone_arg;
	struct fconf_rows cur;
	void **grave;           /* counters of removed rows, freed after a publish */
	size_t ngrave, gravecap;
	bool dirty;             /* stored changes not (all) live yet */
};

enum { FCTL_UNPUBLISHED = -1, FCTL_UNSYNCED = -2 };

static struct fctl_snap *fctl_live;

static int fctl_oom(struct mapping_error *err)
{
	mapping_fail(err, 500, "internal", "", "out of memory");
	return -1;
}

static int fctl_not_found(struct mapping_error *err, const char *what, int64_t id)
{
	mapping_fail(err, 404, "not_found", "", "no %s with id %" PRId64, what, id);
	return -1;
}

/* Makes room for n more pointers in the graveyard.  Returns 0 or -1. */
static int fctl_grave_reserve(struct fctl *f, size_t n)
{
	void **grown;

	if (f->ngrave + n <= f->gravecap)
		return 0;
	grown = realloc(f->grave, (f->ngrave + n) * sizeof(*grown));
	if (!grown)
		return -1;
	f->grave = grown;
	f->gravecap = f->ngrave + n;
	return 0;
}

static void fctl_grave_empty(struct fctl *f)
{
	for (size_t i = 0; i < f->ngrave; i++)
		free(f->grave[i]);
	f->ngrave = 0;
}

static void fctl_publish(struct fctl_snap *s)
{
	struct fctl_snap *old = rcu_xchg_pointer(&fctl_live, s);

	urcu_memb_synchronize_rcu();
	free(old);
}

const struct fctl_snap *fctl_read(void)
{
	return rcu_dereference(fctl_live);
}

/* Orders the byport index: port number, then id (the order a scan found them in). */
static int fctl_byport_cmp(const void *a, const void *b)
{
	const struct fctl_port *x = &(*(const struct fctl_snap_port *const *)a)->p;
	const struct fctl_port *y = &(*(const struct fctl_snap_port *const *)b)->p;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/*
 * The snapshot of r, in one allocation (the struct, then the ports, then
 * the byport index, then the subscribers grouped by port), so that one
 * free releases it.  Returns NULL when out of memory.
 */
static struct fctl_snap *fctl_snap_build(const struct fconf_rows *r)
{
	struct fctl_snap *s;
	struct fctl_snap_port *ports;
	const struct fctl_snap_port **byport;
	struct fctl_snap_sub *subs;
	size_t off = 0, nbyport = 0;

	s = calloc(1, sizeof(*s) + r->nports * (sizeof(*ports) + sizeof(*byport)) +
			      r->nsubs * sizeof(*subs));
	if (!s)
		return NULL;
	ports = (struct fctl_snap_port *)(s + 1);
	byport = (const struct fctl_snap_port **)(ports + r->nports);
	subs = (struct fctl_snap_sub *)(byport + r->nports);
	for (size_t i = 0; i < r->nports; i++) {
		ports[i].p = r->ports[i].p;
		ports[i].c = r->ports[i].c;
	}
	/* Count each port's subscribers, give each its slice, then fill it in id order. */
	for (size_t k = 0; k < r->nsubs; k++) {
		ssize_t i = fconf_port_index(r, r->subs[k].s.port_id);

		if (i >= 0)
			ports[i].nsubs++;
	}
	for (size_t i = 0; i < r->nports; i++) {
		ports[i].subs = subs + off;
		off += ports[i].nsubs;
		ports[i].nsubs = 0;
	}
	for (size_t k = 0; k < r->nsubs; k++) {
		ssize_t i = fconf_port_index(r, r->subs[k].s.port_id);
		struct fctl_snap_sub *to;

		if (i < 0)
			continue;
		to = &subs[(ports[i].subs - subs) + (ptrdiff_t)ports[i].nsubs++];
		to->s = r->subs[k].s;
		to->c = r->subs[k].c;
	}
	for (size_t i = 0; i < r->nports; i++)
		if (ports[i].p.enabled)
			byport[nbyport++] = &ports[i];
	qsort(byport, nbyport, sizeof(*byport), fctl_byport_cmp);
	s->ports = ports;
	s->nports = r->nports;
	s->byport = byport;
	s->nbyport = nbyport;
	return s;
}

/* Gives the kernel the distinct ports of the enabled contested ports.  Returns 0 or -1. */
static int fctl_sync_ports(struct fctl *f, char *errbuf, size_t errlen)
{
	uint16_t *ports;
	size_t n;
	int rc;

	if (fconf_enabled_ports(&f->cur, &ports, &n) < 0) {
		snprintf(errbuf, errlen, "fan-out port set: out of memory");
		return -1;
	}
	rc = sets_sync_fanout(f->sets, ports, n, errbuf, errlen);
	free(ports);
	return rc;
}

/*
 * Publishes the snapshot of the current rows, frees the graveyard and
 * syncs the contested-port ipset (unless sets is NULL).  Returns 0;
 * FCTL_UNPUBLISHED when no snapshot could be built (the old one stays
 * live, so the graveyard is kept); or FCTL_UNSYNCED when the snapshot is
 * live but the ipset is not.  Failures are logged and leave dirty set.
 */
static int fctl_apply(struct fctl *f)
{
	struct fctl_snap *s;
	char errbuf[256];

	f->dirty = true;
	s = fctl_snap_build(&f->cur);
	if (!s) {
		log_warnx("cannot build the fan-out snapshot: out of memory");
		return FCTL_UNPUBLISHED;
	}
	fctl_publish(s);
	fctl_grave_empty(f);
	if (f->sets != NULL && fctl_sync_ports(f, errbuf, sizeof(errbuf)) < 0) {
		log_warnx("%s", errbuf);
		return FCTL_UNSYNCED;
	}
	f->dirty = false;
	return 0;
}

bool fctl_dirty(const struct fctl *f)
{
	return f->dirty;
}

int fctl_retry(struct fctl *f)
{
	if (!f->dirty)
		return 0;
	return fctl_apply(f) < 0 ? -1 : 0;
}

/*
 * Makes the loaded rows current, each with counters of its own.  Returns
 * 0, or -1 with errbuf filled; then the rows taken so far are current, for
 * fctl_close to free.
 */
static int fctl_take(struct fctl *f, const struct fstore_all *all, char *errbuf,
		     size_t errlen)
{
	struct fconf_rows *r = &f->cur;

	r->ports = calloc(all->nports + 1, sizeof(*r->ports));
	r->subs = calloc(all->nsubs + 1, sizeof(*r->subs));
	if (!r->ports || !r->subs)
		goto oom;
	for (; r->nports < all->nports; r->nports++) {
		r->ports[r->nports].p = all->ports[r->nports];
		r->ports[r->nports].c = calloc(1, sizeof(struct fctl_port_counters));
		if (!r->ports[r->nports].c)
			goto oom;
	}
	for (; r->nsubs < all->nsubs; r->nsubs++) {
		r->subs[r->nsubs].s = all->subs[r->nsubs];
		r->subs[r->nsubs].c = calloc(1, sizeof(struct fctl_sub_counters));
		if (!r->subs[r->nsubs].c)
			goto oom;
	}
	return 0;
oom:
	snprintf(errbuf, errlen, "fanout: out of memory");
	return -1;
}

struct fctl *fctl_open(struct store *st, struct sets *sets, fctl_gone_fn *gone,
		       void *gone_arg, char *errbuf, size_t errlen)
{
	struct fctl *f = calloc(1, sizeof(*f));
	struct fstore_all all = { 0 };
	struct fctl_snap *s;

	if (!f) {
		snprintf(errbuf, errlen, "fanout: out of memory");
		return NULL;
	}
	f->store = st;
	f->sets = sets;
	f->gone = gone;
	f->gone_arg = gone_arg;
	if (fstore_load(st, &all, errbuf, errlen) < 0 ||
	    fctl_take(f, &all, errbuf, errlen) < 0 ||
	    fconf_check_loaded(&f->cur, errbuf, errlen) < 0)
		goto err;
	s = fctl_snap_build(&f->cur);
	if (!s) {
		snprintf(errbuf, errlen, "fanout: out of memory");
		goto err;
	}
	fctl_publish(s);
	if (sets != NULL && fctl_sync_ports(f, errbuf, errlen) < 0)
		goto err;
	fstore_all_free(&all);
	return f;
err:
	fstore_all_free(&all);
	fctl_close(f);
	return NULL;
}

void fctl_close(struct fctl *f)
{
	if (!f)
		return;
	fctl_publish(NULL);
	fctl_grave_empty(f);
	free(f->grave);
	for (size_t i = 0; i < f->cur.nports; i++)
		free(f->cur.ports[i].c);
	for (size_t k = 0; k < f->cur.nsubs; k++)
		free(f->cur.subs[k].c);
	fconf_free(&f->cur);
	free(f);
}

/*
 * Ends a write whose store statement returned st: 0 done, 1 no such row,
 * -1 failed with errbuf saying why.  On 0, makes next (taken) the current
 * rows and makes them live; otherwise gives back the graveyard entries the
 * write added since mark.  Returns 0, or -1 with err filled: 500 for the
 * store, 503 for a change stored but not live.
 */
static int fctl_finish(struct fctl *f, struct fconf_rows *next, size_t mark, int st,
		       const char *errbuf, struct mapping_error *err)
{
	int rc;

	if (st != 0) {
		f->ngrave = mark;
		mapping_fail(err, 500, "storage", "", "%s", st < 0 ? errbuf : "row vanished");
		return -1;
	}
	fconf_free(&f->cur);
	f->cur = *next;
	memset(next, 0, sizeof(*next));
	rc = fctl_apply(f);
	if (rc == 0)
		return 0;
	mapping_fail(err, 503, "not_live", "",
		     "the change is stored but %s; retrying every second",
		     rc == FCTL_UNPUBLISHED ? "the fan-out could not take it"
					    : "the kernel ipset could not be updated");
	return -1;
}

static void fctl_port_view_of(const struct fctl *f, size_t i, struct fctl_port_view *v)
{
	const struct fconf_port *row = &f->cur.ports[i];

	memset(v, 0, sizeof(*v));
	v->p = row->p;
	v->c.datagrams = __atomic_load_n(&row->c->datagrams, __ATOMIC_RELAXED);
	v->c.bytes = __atomic_load_n(&row->c->bytes, __ATOMIC_RELAXED);
	v->nsubs = fconf_count_subs(&f->cur, row->p.id);
}

int fctl_port_list(struct fctl *f, struct fctl_port_view **rows, size_t *n,
		   struct mapping_error *err)
{
	*rows = calloc(f->cur.nports + 1, sizeof(**rows));
	if (!*rows)
		return fctl_oom(err);
	for (size_t i = 0; i < f->cur.nports; i++)
		fctl_port_view_of(f, i, &(*rows)[i]);
	*n = f->cur.nports;
	return 0;
}

int fctl_port_get(struct fctl *f, int64_t id, struct fctl_port_view *out,
		  struct mapping_error *err)
{
	ssize_t i = fconf_port_index(&f->cur, id);

	if (i < 0)
		return fctl_not_found(err, "contested port", id);
	fctl_port_view_of(f, (size_t)i, out);
	return 0;
}

int fctl_port_by_number(struct fctl *f, uint16_t port, int64_t *id,
			struct mapping_error *err)
{
	for (size_t i = 0; i < f->cur.nports; i++) {
		if (f->cur.ports[i].p.port == port) {
			*id = f->cur.ports[i].p.id;
			return 0;
		}
	}
	mapping_fail(err, 422, "unknown_port", "contested_port",
		     "port %u is not a contested port", port);
	return -1;
}

/*
 * Checks, stores and applies next, in which port i was changed or, when
 * created is not NULL, created: created's id and registration port are
 * then set, and the new row's counters are freed unless it was stored.
 * Disabling a port tells the gone callback.  Returns 0 or -1 with err
 * filled.
 */
static int fctl_port_write(struct fctl *f, struct fconf_rows *next, size_t i,
			   struct fctl_port *created, struct mapping_error *err)
{
	struct fconf_port *row = &next->ports[i];
	ssize_t old = created ? -1 : fconf_port_index(&f->cur, row->p.id);
	bool disabling = old >= 0 && f->cur.ports[old].p.enabled && !row->p.enabled;
	struct fctl_sub *gone = NULL;
	size_t ngone = 0;
	bool stored = false;
	char errbuf[256];
	int rc = -1, st;

	mapping_addr_clean(row->p.family, row->p.addr);
	if (!fconf_port_defaults(&row->p, err) || !fconf_check_port(next, i, err))
		goto out;
	/* Collected before the store write: after it, nothing may fail. */
	if (disabling && f->gone && fconf_subs_of(&f->cur, row->p.id, &gone, &ngone) < 0) {
		fctl_oom(err);
		goto out;
	}
	st = created ? fstore_port_insert(f->store, &row->p, errbuf, sizeof(errbuf))
		     : fstore_port_update(f->store, &row->p, errbuf, sizeof(errbuf));
	if (st == 0) {
		stored = true;
		if (created) {
			created->id = row->p.id;
			created->registration_port = row->p.registration_port;
		}
		log_info("contested port %" PRId64 " %s: port %u, registration port %u%s",
			 row->p.id, created ? "created" : "updated", row->p.port,
			 row->p.registration_port, row->p.enabled ? "" : ", disabled");
		if (disabling && f->gone)
			f->gone(&f->cur.ports[old].p, gone, ngone, f->gone_arg);
	}
	rc = fctl_finish(f, next, f->ngrave, st, errbuf, err);
out:
	if (created && !stored)
		free(row->c);
	free(gone);
	return rc;
}

int fctl_port_create(struct fctl *f, struct fctl_port *p, struct mapping_error *err)
{
	struct fconf_rows next;
	struct fconf_port *row;
	int rc;

	if (fconf_copy(&f->cur, &next) < 0)
		return fctl_oom(err);
	row = &next.ports[next.nports];
	row->p = *p;
	/* One past the last until the store gives its own, which is never lower. */
	row->p.id = fconf_next_port_id(&next);
	row->c = calloc(1, sizeof(*row->c));
	if (!row->c) {
		fconf_free(&next);
		return fctl_oom(err);
	}
	rc = fctl_port_write(f, &next, next.nports++, p, err);
	fconf_free(&next);
	return rc;
}

int fctl_port_update(struct fctl *f, const struct fctl_port *p,
		     struct mapping_error *err)
{
	ssize_t i = fconf_port_index(&f->cur, p->id);
	struct fconf_rows next;
	int rc;

	if (i < 0)
		return fctl_not_found(err, "contested port", p->id);
	if (fconf_copy(&f->cur, &next) < 0)
		return fctl_oom(err);
	next.ports[i].p = *p;
	rc = fctl_port_write(f, &next, (size_t)i, NULL, err);
	fconf_free(&next);
	return rc;
}

/* A delete checks nothing but the id: removing rows cannot break a rule. */
int fctl_port_delete(struct fctl *f, int64_t id, struct mapping_error *err)
{
	ssize_t i = fconf_port_index(&f->cur, id);
	size_t mark = f->ngrave;
	struct fconf_rows next = { 0 };
	struct fctl_sub *gone = NULL;
	size_t ngone = 0;
	char errbuf[256];
	int rc = -1, st;

	if (i < 0)
		return fctl_not_found(err, "contested port", id);
	if (fctl_grave_reserve(f, 1 + f->cur.nsubs) < 0 || fconf_copy(&f->cur, &next) < 0 ||
	    fconf_subs_of(&f->cur, id, &gone, &ngone) < 0) {
		fctl_oom(err);
		goto out;
	}
	fconf_port_remove(&next, (size_t)i);
	f->grave[f->ngrave++] = f->cur.ports[i].c;
	for (size_t k = 0; k < f->cur.nsubs; k++)
		if (f->cur.subs[k].s.port_id == id)
			f->grave[f->ngrave++] = f->cur.subs[k].c;
	st = fstore_port_delete(f->store, id, errbuf, sizeof(errbuf));
	if (st == 0) {
		log_info("contested port %" PRId64 " (port %u) deleted with %zu subscribers",
			 id, f->cur.ports[i].p.port, ngone);
		if (f->gone)
			f->gone(&f->cur.ports[i].p, gone, ngone, f->gone_arg);
	}
	rc = fctl_finish(f, &next, mark, st, errbuf, err);
out:
	free(gone);
	fconf_free(&next);
	return rc;
}

static void fctl_sub_view_of(const struct fctl *f, size_t k, struct fctl_sub_view *v)
{
	const struct fconf_sub *row = &f->cur.subs[k];
	ssize_t i = fconf_port_index(&f->cur, row->s.port_id);

	memset(v, 0, sizeof(*v));
	v->s = row->s;
	v->contested_port = i < 0 ? 0 : f->cur.ports[i].p.port;
	v->c.copies = __atomic_load_n(&row->c->copies, __ATOMIC_RELAXED);
	v->c.bytes = __atomic_load_n(&row->c->bytes, __ATOMIC_RELAXED);
	v->c.errors = __atomic_load_n(&row->c->errors, __ATOMIC_RELAXED);
	v->c.drops = __atomic_load_n(&row->c->drops, __ATOMIC_RELAXED);
	v->c.last_sent = __atomic_load_n(&row->c->last_sent, __ATOMIC_RELAXED);
}

int fctl_sub_list(struct fctl *f, int64_t port_id, struct fctl_sub_view **rows,
		  size_t *n, struct mapping_error *err)
{
	size_t k = 0;

	*rows = calloc(f->cur.nsubs + 1, sizeof(**rows));
	if (!*rows)
		return fctl_oom(err);
	for (size_t i = 0; i < f->cur.nsubs; i++)
		if (port_id == 0 || f->cur.subs[i].s.port_id == port_id)
			fctl_sub_view_of(f, i, &(*rows)[k++]);
	*n = k;
	return 0;
}

int fctl_sub_get(struct fctl *f, int64_t id, struct fctl_sub_view *out,
		 struct mapping_error *err)
{
	ssize_t k = fconf_sub_index(&f->cur, id);

	if (k < 0)
		return fctl_not_found(err, "subscriber", id);
	fctl_sub_view_of(f, (size_t)k, out);
	return 0;
}

int fctl_sub_find(struct fctl *f, int64_t port_id, const struct fctl_sub *where,
		  int64_t *id, struct mapping_error *err)
{
	struct fctl_sub key = *where;
	char target[FCTL_PATH_MAX + 8];

	fconf_sub_clean(&key);
	for (size_t k = 0; k < f->cur.nsubs; k++) {
		if (f->cur.subs[k].s.port_id == port_id &&
		    fconf_same_target(&f->cur.subs[k].s, &key)) {
			*id = f->cur.subs[k].s.id;
			return 0;
		}
	}
	fconf_target_str(&key, target, sizeof(target));
	mapping_fail(err, 404, "not_found", "", "%s is not subscribed to contested port "
		     "%" PRId64, target, port_id);
	return -1;
}

/*
 * Checks, stores and applies next, in which subscriber k was changed or,
 * when created is not NULL, created: created->id is then set, and the new
 * row's counters are freed unless it was stored.  Returns 0 or -1 with
 * err filled.
 */
static int fctl_sub_write(struct fctl *f, struct fconf_rows *next, size_t k,
			  struct fctl_sub *created, struct mapping_error *err)
{
	struct fconf_sub *row = &next->subs[k];
	bool stored = false;
	char errbuf[256], target[FCTL_PATH_MAX + 8];
	int rc = -1, st;

	fconf_sub_clean(&row->s);
	if (!fconf_check_sub(next, k, err))
		goto out;
	st = created ? fstore_sub_insert(f->store, &row->s, errbuf, sizeof(errbuf))
		     : fstore_sub_update(f->store, &row->s, errbuf, sizeof(errbuf));
	if (st == 0) {
		stored = true;
		if (created)
			created->id = row->s.id;
		fconf_target_str(&row->s, target, sizeof(target));
		log_info("subscriber %" PRId64 " %s: contested port %" PRId64 ", %s to %s%s",
			 row->s.id, created ? "created" : "updated", row->s.port_id,
			 fctl_mode_name(row->s.mode), target,
			 row->s.registered ? " (registered)" : "");
	}
	rc = fctl_finish(f, next, f->ngrave, st, errbuf, err);
out:
	if (created && !stored)
		free(row->c);
	return rc;
}

int fctl_sub_create(struct fctl *f, struct fctl_sub *s, struct mapping_error *err)
{
	struct fconf_rows next;
	struct fconf_sub *row;
	int rc;

	if (fconf_copy(&f->cur, &next) < 0)
		return fctl_oom(err);
	row = &next.subs[next.nsubs];
	row->s = *s;
	row->s.id = fconf_next_sub_id(&next);
	row->c = calloc(1, sizeof(*row->c));
	if (!row->c) {
		fconf_free(&next);
		return fctl_oom(err);
	}
	rc = fctl_sub_write(f, &next, next.nsubs++, s, err);
	fconf_free(&next);
	return rc;
}

int fctl_sub_update(struct fctl *f, const struct fctl_sub *s,
		    struct mapping_error *err)
{
	ssize_t k = fconf_sub_index(&f->cur, s->id);
	struct fconf_rows next;
	int rc;

	if (k < 0)
		return fctl_not_found(err, "subscriber", s->id);
	if (fconf_copy(&f->cur, &next) < 0)
		return fctl_oom(err);
	next.subs[k].s = *s;
	rc = fctl_sub_write(f, &next, (size_t)k, NULL, err);
	fconf_free(&next);
	return rc;
}

int fctl_sub_delete(struct fctl *f, int64_t id, struct mapping_error *err)
{
	ssize_t k = fconf_sub_index(&f->cur, id);
	size_t mark = f->ngrave;
	struct fconf_rows next;
	char errbuf[256];
	int rc, st;

	if (k < 0)
		return fctl_not_found(err, "subscriber", id);
	if (fctl_grave_reserve(f, 1) < 0 || fconf_copy(&f->cur, &next) < 0)
		return fctl_oom(err);
	fconf_sub_remove(&next, (size_t)k);
	f->grave[f->ngrave++] = f->cur.subs[k].c;
	st = fstore_sub_delete(f->store, id, errbuf, sizeof(errbuf));
	if (st == 0)
		log_info("subscriber %" PRId64 " deleted", id);
	rc = fctl_finish(f, &next, mark, st, errbuf, err);
	fconf_free(&next);
	return rc;
}

void fctl_stats(struct fctl *f, struct fctl_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->ports = f->cur.nports;
	out->subs = f->cur.nsubs;
	for (size_t i = 0; i < f->cur.nports; i++)
		out->datagrams += __atomic_load_n(&f->cur.ports[i].c->datagrams, __ATOMIC_RELAXED);
	for (size_t k = 0; k < f->cur.nsubs; k++) {
		const struct fctl_sub_counters *c = f->cur.subs[k].c;

		out->copies += __atomic_load_n(&c->copies, __ATOMIC_RELAXED);
		out->errors += __atomic_load_n(&c->errors, __ATOMIC_RELAXED);
		out->drops += __atomic_load_n(&c->drops, __ATOMIC_RELAXED);
	}
}
