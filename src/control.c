/*
 * control: the control plane (see control.h).
 *
 * DESIGN.  Two kinds of threads call in here: the HTTP server's threads
 * (every API request) and the control plane's own resolver thread, which
 * re-resolves domain names periodically.  Both take ctl->lock for every
 * change, so writes are serialised and each one is: validate against the
 * whole table -> write sqlite -> update the in-memory rows (rowset.h, kept
 * in id order) -> build and publish a new snapshot -> sync the kernel
 * ipsets.  The snapshot is published before the ipsets change so that the
 * workers know a mapping by the time the kernel starts queueing its
 * packets.  DNS lookups run outside the lock: a single write resolves its
 * name before taking it, and an import hands its new names to the resolver
 * thread (resolve_now, then the kick), so that no HTTP thread waits on
 * many lookups.  A write's If-Match precondition is checked under the
 * lock, next to the write, so no other write can slip in between.
 *
 * The application groups (gctl.h) and UDP fan-out (fctl.h) live under the
 * same lock and version: control_groups_read/write and
 * control_fanout_read/write run the REST layer's (or the registrar's)
 * function on them, and the resolver thread retries a change of theirs
 * that did not go live (gctl_retry, fctl_retry) the way it retries the
 * table.
 *
 * The queue counters and their rates are the status module's, which
 * has its own lock: control_tick, on the main thread, never waits behind
 * a table write.  The fan-out copier and registrar keep their own
 * counters as atomics; control_start is handed both, and control_status_get
 * reads them without the lock, so that /api/v1/status shows them next to
 * fctl's totals without the API knowing those threads.  Whole-table
 * documents are checked by the config module before control_table_replace
 * stores them.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "fanout.h"
#include "fctl.h"
#include "gctl.h"
#include "log.h"
#include "regsrv.h"
#include "resolver.h"
#include "rowset.h"
#include "sets.h"
#include "status.h"
#include "store.h"
#include "table.h"

struct control {
	pthread_mutex_t lock;
	pthread_cond_t kick;
	pthread_t resolver;
	bool resolver_started;
	bool stop;
	unsigned resolve_interval;
	struct store *store;
	struct sets *sets;
	struct status *status;     /* the queues' counters, once control_start ran */
	/* Fan-out's copier and registrar, set by control_start: counters only. */
	struct fanout *copier;
	struct regsrv *registrar;
	struct rowset set;         /* the table as stored, with its live state */
	struct gctl *groups;       /* the application groups, under the same lock */
	struct fctl *fanout;       /* UDP fan-out, under the same lock */
	/*
	 * Changed only under the lock, but atomically, so that
	 * control_version can read it without the lock.
	 */
	uint64_t version;
	int64_t started;
	bool dirty;                /* stored changes the kernel has not got yet */
	bool resolve_now;          /* names wait for the resolver: look up at once */
};

/* How soon the resolver thread retries a change that did not go live. */
#define CONTROL_RETRY_SECONDS 1

static int control_fail(struct mapping_error *err, int status, const char *code,
			const char *detail)
{
	mapping_fail(err, status, code, "", "%s", detail);
	return -1;
}

/* Fills res for m: a literal is its own single address, a name is looked up. */
static void control_resolve(const struct mapping *m, struct resolver_result *res)
{
	if (m->family == 0)
		resolver_lookup(m->address, res);
	else
		rowset_literal(m, res);
}

enum { CONTROL_UNPUBLISHED = -1, CONTROL_UNSYNCED = -2 };

/*
 * Returns true when cond lets a write go ahead at the current version, or
 * false with err filled (412).  Called with the lock held.
 */
static bool control_cond_ok(const struct control *ctl,
			    const struct control_cond *cond,
			    struct mapping_error *err)
{
	if (cond == NULL || cond->n == 0)
		return true;
	for (size_t i = 0; i < cond->n && i < CONTROL_MATCH_MAX; i++)
		if (cond->match[i] == ctl->version)
			return true;
	return mapping_fail(err, 412, "precondition_failed", "",
			    "the table is at version %" PRIu64 ", which If-Match "
			    "does not name; read it again", ctl->version);
}

/* A new table version; called with the lock held. */
static void control_bump(struct control *ctl)
{
	__atomic_add_fetch(&ctl->version, 1, __ATOMIC_RELAXED);
}

/* Tells the caller the version its write produced; called with the lock held. */
static void control_cond_done(const struct control *ctl, struct control_cond *cond)
{
	if (cond != NULL)
		cond->version = ctl->version;
}

/*
 * True while the groups or the fan-out have a stored change that is not
 * live; the resolver thread then retries every second.  Called with the
 * lock held.
 */
static bool control_planes_dirty(const struct control *ctl)
{
	return gctl_dirty(ctl->groups) || fctl_dirty(ctl->fanout);
}

/*
 * Builds the rules of every enabled row, publishes the snapshot and syncs
 * the ipsets.  Called with the lock held.  Returns 0 when both happened;
 * CONTROL_UNPUBLISHED when no new snapshot could be built (the old one is
 * still live, so nothing it points at may be freed); CONTROL_UNSYNCED when
 * the snapshot is live but the ipsets are not.  Failures are logged, and
 * ctl->dirty makes the resolver thread retry.
 */
static int control_apply(struct control *ctl)
{
	struct table_rule *rules;
	struct table *t;
	size_t n = 0, shadowed = 0;
	char errbuf[256];
	int rc = 0;

	ctl->dirty = true;
	rules = calloc(ctl->set.n * RESOLVER_MAX + 1, sizeof(*rules));
	if (!rules) {
		log_warnx("cannot build the table snapshot: out of memory");
		return CONTROL_UNPUBLISHED;
	}
	for (size_t i = 0; i < ctl->set.n; i++) {
		const struct mapping *m = &ctl->set.rows[i];
		const struct resolver_result *res = &ctl->set.live[i].res;

		if (!m->enabled)
			continue;
		for (size_t a = 0; a < res->naddrs; a++) {
			struct table_rule *r = &rules[n++];

			r->protos = m->proto;
			r->family = res->family[a];
			memcpy(r->addr, res->addr[a], 16);
			r->shared_port = (uint16_t)m->shared_port;
			r->assigned_port = (uint16_t)m->assigned_port;
			r->counters = ctl->set.live[i].counters;
		}
	}
	t = table_build(rules, n, &shadowed);
	if (!t) {
		log_warn("cannot build the table snapshot");
		rc = CONTROL_UNPUBLISHED;
		goto out;
	}
	if (shadowed)
		log_warnx("%zu table keys are shadowed by earlier mappings "
			  "(a name resolves to an address another mapping uses)", shadowed);
	table_publish(t);
	if (sets_sync(ctl->sets, rules, n, errbuf, sizeof(errbuf)) < 0) {
		log_warnx("%s", errbuf);
		rc = CONTROL_UNSYNCED;
		goto out;
	}
	ctl->dirty = false;
out:
	free(rules);
	return rc;
}

static void *control_resolver_run(void *arg);

/*
 * Turns a failed control_apply after a stored write into the error the API
 * answers: the row is in the database, but not (yet) live.
 */
static int control_not_live(struct mapping_error *err, int rc)
{
	mapping_fail(err, 503, "not_live", "",
		     "the change is stored but %s; retrying every %d s",
		     rc == CONTROL_UNPUBLISHED ? "the packet path could not take it (out of memory)"
					       : "the kernel ipsets could not be updated",
		     CONTROL_RETRY_SECONDS);
	return -1;
}

struct control *control_open(const char *db_path, unsigned resolve_interval,
			     struct flow_table *flows, unsigned nworkers,
			     fctl_gone_fn *gone, void *gone_arg,
			     char *errbuf, size_t errlen)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	struct mapping *rows;
	size_t n;

	if (!ctl) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_cond_init(&ctl->kick, NULL);
	ctl->resolve_interval = resolve_interval;
	ctl->started = time(NULL);
	/*
	 * Versions start from the start time, shifted so that a million
	 * writes fit between two starts: an ETag never repeats across
	 * restarts (unless the clock goes back).
	 */
	ctl->version = (uint64_t)ctl->started << 20;
	ctl->store = store_open(db_path, errbuf, errlen);
	if (!ctl->store)
		goto err;
	if (store_mapping_list(ctl->store, &rows, &n, errbuf, errlen) < 0)
		goto err;
	if (rowset_load(&ctl->set, rows, n) < 0) {
		snprintf(errbuf, errlen, "out of memory");
		goto err;
	}
	for (size_t i = 0; i < n; i++) {
		struct resolver_result *res = &ctl->set.live[i].res;

		/*
		 * Names are resolved before the first snapshot, even though DNS
		 * may be slow: after a restart, established connections to a
		 * name's addresses must find their mapping at once.
		 */
		control_resolve(&ctl->set.rows[i], res);
		if (res->naddrs == 0)
			log_warnx("mapping %lld: %s does not resolve: %s",
				  (long long)ctl->set.rows[i].id, ctl->set.rows[i].address,
				  res->error);
	}
	ctl->sets = sets_open(errbuf, errlen);
	if (!ctl->sets)
		goto err;
	if (control_apply(ctl) < 0) {
		snprintf(errbuf, errlen, "cannot make the initial table live (see above)");
		goto err;
	}
	ctl->groups = gctl_open(ctl->store, ctl->sets, flows, nworkers, errbuf, errlen);
	if (!ctl->groups)
		goto err;
	ctl->fanout = fctl_open(ctl->store, ctl->sets, gone, gone_arg, errbuf, errlen);
	if (!ctl->fanout)
		goto err;
	return ctl;
err:
	control_close(ctl);
	return NULL;
}

int control_start(struct control *ctl, struct nfq_pool *pool,
		  struct fanout *copier, struct regsrv *registrar)
{
	/* Set before the API starts, so its threads see them without the lock. */
	ctl->copier = copier;
	ctl->registrar = registrar;
	if (pool != NULL) {
		ctl->status = status_new(pool);
		if (ctl->status == NULL) {
			errno = ENOMEM;
			return -1;
		}
	}
	errno = pthread_create(&ctl->resolver, NULL, control_resolver_run, ctl);
	if (errno)
		return -1;
	ctl->resolver_started = true;
	return 0;
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	pthread_mutex_lock(&ctl->lock);
	ctl->stop = true;
	pthread_cond_signal(&ctl->kick);
	pthread_mutex_unlock(&ctl->lock);
	if (ctl->resolver_started)
		pthread_join(ctl->resolver, NULL);
	fctl_close(ctl->fanout);
	gctl_close(ctl->groups);
	table_publish(NULL);
	rowset_free(&ctl->set, true);
	sets_close(ctl->sets);
	status_free(ctl->status);
	if (ctl->store)
		store_close(ctl->store);
	pthread_cond_destroy(&ctl->kick);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

/*
 * The resolver thread: re-resolves every name each interval (and at once
 * after start-up), outside the lock, then applies what changed.
 */
static void *control_resolver_run(void *arg)
{
	struct control *ctl = arg;
	bool first = true;

	pthread_mutex_lock(&ctl->lock);
	while (!ctl->stop) {
		struct timespec until;
		char (*names)[MAPPING_ADDRESS_MAX] = NULL;
		struct resolver_result *res = NULL;
		size_t n = 0;
		bool changed = false;

		/*
		 * An import that brought new names asks for a round at once
		 * (resolve_now); the flag, unlike the signal alone, is not
		 * lost when it comes while this thread is busy looking up.
		 */
		if (!first && !ctl->resolve_now) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += ctl->dirty || control_planes_dirty(ctl)
				? CONTROL_RETRY_SECONDS : ctl->resolve_interval;
			pthread_cond_timedwait(&ctl->kick, &ctl->lock, &until);
			if (ctl->stop)
				break;
			if (ctl->dirty && control_apply(ctl) == 0)
				log_info("the stored table is live again");
			if (gctl_dirty(ctl->groups) && gctl_retry(ctl->groups) == 0)
				log_info("the stored groups are live again");
			if (fctl_dirty(ctl->fanout) && fctl_retry(ctl->fanout) == 0)
				log_info("the stored fan-out is live again");
		}
		first = false;
		ctl->resolve_now = false;
		names = calloc(ctl->set.n + 1, sizeof(*names));
		res = calloc(ctl->set.n + 1, sizeof(*res));
		if (!names || !res)
			goto next;
		for (size_t i = 0; i < ctl->set.n; i++)
			if (ctl->set.rows[i].family == 0)
				memcpy(names[n++], ctl->set.rows[i].address, MAPPING_ADDRESS_MAX);
		pthread_mutex_unlock(&ctl->lock);
		for (size_t i = 0; i < n; i++)
			resolver_lookup(names[i], &res[i]);
		pthread_mutex_lock(&ctl->lock);
		/* Rows may have changed meanwhile: match by name, not by index. */
		for (size_t i = 0; i < ctl->set.n; i++) {
			struct resolver_result *cur = &ctl->set.live[i].res;

			for (size_t j = 0; j < n; j++) {
				if (ctl->set.rows[i].family != 0 ||
				    strcmp(ctl->set.rows[i].address, names[j]) != 0)
					continue;
				/*
				 * A temporary DNS failure keeps the last good
				 * addresses: dropping them would cut traffic off
				 * for a whole interval because of one lost reply.
				 */
				if (res[j].temporary && cur->naddrs > 0)
					break;
				if (!resolver_same(cur, &res[j])) {
					if (res[j].naddrs == 0)
						log_warnx("mapping %lld: %s does not resolve: %s",
							  (long long)ctl->set.rows[i].id, names[j], res[j].error);
					*cur = res[j];
					changed = true;
				}
				break;
			}
		}
		if (changed) {
			control_bump(ctl);
			control_apply(ctl);
		}
next:
		free(names);
		free(res);
	}
	pthread_mutex_unlock(&ctl->lock);
	return NULL;
}

int control_mapping_list(struct control *ctl, struct control_mapping **rows,
			 size_t *n, uint64_t *version, struct mapping_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&ctl->lock);
	*rows = calloc(ctl->set.n + 1, sizeof(**rows));
	if (!*rows) {
		rc = control_fail(err, 500, "internal", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ctl->set.n; i++)
		rowset_view(&ctl->set, i, &(*rows)[i]);
	*n = ctl->set.n;
	if (version != NULL)
		*version = ctl->version;
out:
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

int control_mapping_get(struct control *ctl, int64_t id,
			struct control_mapping *out, uint64_t *version,
			struct mapping_error *err)
{
	ssize_t i;
	int rc = 0;

	pthread_mutex_lock(&ctl->lock);
	i = rowset_find(&ctl->set, id);
	if (i < 0) {
		mapping_fail(err, 404, "not_found", "", "no mapping with id %lld", (long long)id);
		rc = -1;
	} else {
		rowset_view(&ctl->set, (size_t)i, out);
		if (version != NULL)
			*version = ctl->version;
	}
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

int control_mapping_create(struct control *ctl, struct mapping *m,
			   struct control_cond *cond, struct mapping_error *err)
{
	struct table_counters *counters = NULL;
	struct resolver_result res;
	char errbuf[256];
	int rc = -1, st;

	if (!mapping_validate(m, err))
		return -1;
	control_resolve(m, &res);
	pthread_mutex_lock(&ctl->lock);
	if (!control_cond_ok(ctl, cond, err) ||
	    !mapping_check_conflicts(m, ctl->set.rows, ctl->set.n, err))
		goto out;
	counters = calloc(1, sizeof(*counters));
	if (!counters || rowset_reserve(&ctl->set) < 0) {
		control_fail(err, 500, "internal", "out of memory");
		goto out;
	}
	if (store_mapping_insert(ctl->store, m, errbuf, sizeof(errbuf)) < 0) {
		control_fail(err, 500, "storage", errbuf);
		goto out;
	}
	rowset_insert(&ctl->set, m, counters, &res);
	counters = NULL;
	control_bump(ctl);
	log_info("mapping %lld created: %s %s %u -> %u", (long long)m->id,
		 mapping_proto_name(m->proto), m->address, m->shared_port, m->assigned_port);
	control_cond_done(ctl, cond);
	st = control_apply(ctl);
	rc = st < 0 ? control_not_live(err, st) : 0;
out:
	pthread_mutex_unlock(&ctl->lock);
	free(counters);
	return rc;
}

int control_mapping_update(struct control *ctl, struct mapping *m,
			   struct control_cond *cond, struct mapping_error *err)
{
	struct resolver_result res;
	char errbuf[256];
	ssize_t i;
	int rc = -1, st;

	if (!mapping_validate(m, err))
		return -1;
	control_resolve(m, &res);
	pthread_mutex_lock(&ctl->lock);
	i = rowset_find(&ctl->set, m->id);
	if (i < 0) {
		mapping_fail(err, 404, "not_found", "", "no mapping with id %lld", (long long)m->id);
		goto out;
	}
	if (!control_cond_ok(ctl, cond, err) ||
	    !mapping_check_conflicts(m, ctl->set.rows, ctl->set.n, err))
		goto out;
	st = store_mapping_update(ctl->store, m, errbuf, sizeof(errbuf));
	if (st != 0) {
		control_fail(err, 500, "storage", st < 0 ? errbuf : "row vanished");
		goto out;
	}
	ctl->set.rows[i] = *m;
	ctl->set.live[i].res = res;
	control_bump(ctl);
	log_info("mapping %lld updated", (long long)m->id);
	control_cond_done(ctl, cond);
	st = control_apply(ctl);
	rc = st < 0 ? control_not_live(err, st) : 0;
out:
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

int control_mapping_delete(struct control *ctl, int64_t id,
			   struct control_cond *cond, struct mapping_error *err)
{
	struct table_counters *counters;
	char errbuf[256];
	ssize_t i;
	int rc = -1, st;

	pthread_mutex_lock(&ctl->lock);
	i = rowset_find(&ctl->set, id);
	if (i < 0) {
		mapping_fail(err, 404, "not_found", "", "no mapping with id %lld", (long long)id);
		goto out;
	}
	if (!control_cond_ok(ctl, cond, err))
		goto out;
	st = store_mapping_delete(ctl->store, id, errbuf, sizeof(errbuf));
	if (st < 0) {
		control_fail(err, 500, "storage", errbuf);
		goto out;
	}
	counters = rowset_remove(&ctl->set, (size_t)i);
	control_bump(ctl);
	log_info("mapping %lld deleted", (long long)id);
	control_cond_done(ctl, cond);
	st = control_apply(ctl);
	/*
	 * Once a new snapshot is published (after its grace period) nothing
	 * points at the counters any more.  If none could be published, the
	 * old snapshot still does, so they are kept (a small, logged leak).
	 */
	if (st != CONTROL_UNPUBLISHED)
		free(counters);
	rc = st < 0 ? control_not_live(err, st) : 0;
out:
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

/*
 * The locked half of control_table_replace: stores rows, then puts the
 * new table im->next in place.  Returns 0 or -1 with err filled.
 */
static int control_import_swap(struct control *ctl, struct mapping *rows,
			       size_t n, struct rowset_import *im,
			       struct control_cond *cond, struct mapping_error *err)
{
	struct rowset old;
	size_t kept;
	char errbuf[256];
	int st;

	if (!control_cond_ok(ctl, cond, err))
		return -1;
	if (store_mapping_replace(ctl->store, rows, n, errbuf, sizeof(errbuf)) < 0)
		return control_fail(err, 500, "storage", errbuf);
	if (rowset_import_take(im, &ctl->set, rows, n, &kept)) {
		ctl->resolve_now = true;
		pthread_cond_signal(&ctl->kick);
	}
	old = ctl->set;
	ctl->set = im->next;
	memset(&im->next, 0, sizeof(im->next));
	control_bump(ctl);
	log_info("table replaced: %zu mappings (%zu kept, %zu removed)", n, kept,
		 old.n - kept);
	control_cond_done(ctl, cond);
	st = control_apply(ctl);
	/*
	 * As in control_mapping_delete: only a new snapshot frees the counters
	 * of the rows that are gone (those the new table took are NULL now).
	 */
	rowset_free(&old, st != CONTROL_UNPUBLISHED);
	return st < 0 ? control_not_live(err, st) : 0;
}

int control_table_replace(struct control *ctl, struct mapping *rows, size_t n,
			  struct control_cond *cond, struct mapping_error *err)
{
	struct rowset_import im;
	int rc;

	if (rowset_import_new(&im, n) < 0)
		return control_fail(err, 500, "internal", "out of memory");
	pthread_mutex_lock(&ctl->lock);
	rc = control_import_swap(ctl, rows, n, &im, cond, err);
	pthread_mutex_unlock(&ctl->lock);
	rowset_import_free(&im);
	return rc;
}

/*
 * A function to run on one of the planes that share the lock and the
 * version with the mappings: exactly one of groups and fanout is set.
 */
struct control_call {
	control_groups_fn *groups;
	control_fanout_fn *fanout;
	void *arg;
};

static int control_call_run(struct control *ctl, const struct control_call *c,
			    struct mapping_error *err)
{
	return c->groups ? c->groups(ctl->groups, c->arg, err)
			 : c->fanout(ctl->fanout, c->arg, err);
}

/*
 * Runs c under the lock and sets *version (when not NULL) to the version
 * it read at.  Returns what c's function returns.
 */
static int control_call_read(struct control *ctl, const struct control_call *c,
			     uint64_t *version, struct mapping_error *err)
{
	int rc;

	pthread_mutex_lock(&ctl->lock);
	rc = control_call_run(ctl, c, err);
	if (version != NULL)
		*version = ctl->version;
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

/*
 * Checks cond (412), runs c under the lock and, when the write happened,
 * bumps the version.  Returns what c's function returns.
 */
static int control_call_write(struct control *ctl, const struct control_call *c,
			      struct control_cond *cond, struct mapping_error *err)
{
	int rc = -1;

	pthread_mutex_lock(&ctl->lock);
	if (!control_cond_ok(ctl, cond, err))
		goto out;
	rc = control_call_run(ctl, c, err);
	/* A 503 is a write that happened: stored, and retried until live. */
	if (rc == 0 || err->status == 503) {
		control_bump(ctl);
		control_cond_done(ctl, cond);
	}
	/* Wakes the resolver thread, which then retries every second. */
	if (control_planes_dirty(ctl))
		pthread_cond_signal(&ctl->kick);
out:
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

int control_groups_read(struct control *ctl, control_groups_fn *fn, void *arg,
			uint64_t *version, struct mapping_error *err)
{
	const struct control_call c = { .groups = fn, .arg = arg };

	return control_call_read(ctl, &c, version, err);
}

int control_groups_write(struct control *ctl, control_groups_fn *fn, void *arg,
			 struct control_cond *cond, struct mapping_error *err)
{
	const struct control_call c = { .groups = fn, .arg = arg };

	return control_call_write(ctl, &c, cond, err);
}

int control_fanout_read(struct control *ctl, control_fanout_fn *fn, void *arg,
			uint64_t *version, struct mapping_error *err)
{
	const struct control_call c = { .fanout = fn, .arg = arg };

	return control_call_read(ctl, &c, version, err);
}

int control_fanout_write(struct control *ctl, control_fanout_fn *fn, void *arg,
			 struct control_cond *cond, struct mapping_error *err)
{
	const struct control_call c = { .fanout = fn, .arg = arg };

	return control_call_write(ctl, &c, cond, err);
}

uint64_t control_version(struct control *ctl)
{
	return __atomic_load_n(&ctl->version, __ATOMIC_RELAXED);
}

void control_status_get(struct control *ctl, struct control_status *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ctl->lock);
	out->version = ctl->version;
	out->started = ctl->started;
	out->schema_version = store_schema_version(ctl->store);
	out->mappings = ctl->set.n;
	gctl_stats(ctl->groups, &out->groups);
	fctl_stats(ctl->fanout, &out->fanout);
	pthread_mutex_unlock(&ctl->lock);
	if (ctl->status != NULL)
		out->nqueues = status_queues(ctl->status, out->queues, CONTROL_MAX_QUEUES);
	/* Their counters are atomics of their own: no need for the lock. */
	if (ctl->copier != NULL)
		fanout_stats(ctl->copier, &out->copier);
	if (ctl->registrar != NULL)
		regsrv_stats(ctl->registrar, &out->registration);
}

void control_tick(struct control *ctl)
{
	if (ctl->status != NULL)
		status_tick(ctl->status);
}
