/*
 * control: the control plane (see control.h).
 *
 * DESIGN.  Two kinds of threads call in here: the HTTP server's thread
 * (every API request) and the control plane's own resolver thread, which
 * re-resolves domain names periodically.  Both take ctl->lock for every
 * change, so writes are serialised and each one is: validate against the
 * whole table -> write sqlite -> update the in-memory rows -> build and
 * publish a new snapshot -> sync the kernel ipsets.  The snapshot is published
 * before the ipsets change so that the workers know a mapping by the time the
 * kernel starts queueing its packets.  DNS lookups run outside the lock.
 * A write's If-Match precondition is checked under the lock, next to the
 * write, so no other write can slip in between.
 *
 * The main thread calls control_tick once a second to sample the queue
 * counters for packet rates.  The samples have a lock of their own
 * (rate_lock), so the main loop, which also feeds the systemd watchdog,
 * never waits behind a table write.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "control.h"
#include "log.h"
#include "nfq.h"
#include "resolver.h"
#include "sets.h"
#include "store.h"
#include "table.h"

/* The live state that goes with each stored row. */
struct control_live {
	struct table_counters *counters;
	struct resolver_result res; /* literals are stored here too, as one address */
};

struct control {
	pthread_mutex_t lock;
	pthread_cond_t kick;
	pthread_t resolver;
	bool resolver_started;
	bool stop;
	unsigned resolve_interval;
	struct store *store;
	struct sets *sets;
	struct nfq_pool *pool;
	struct mapping *rows;      /* ordered by id, mirrors the store */
	struct control_live *live; /* parallel to rows */
	size_t nrows, cap;
	uint64_t version;
	int64_t started;
	bool dirty;                /* stored changes the kernel has not got yet */

	/* Packet rates: the last control_tick sample, under rate_lock. */
	pthread_mutex_t rate_lock;
	struct timespec rate_at;   /* CLOCK_MONOTONIC time of the sample */
	size_t rate_n;             /* queues sampled, 0 before the first sample */
	uint64_t rate_packets[CONTROL_MAX_QUEUES];
	double rate_pps[CONTROL_MAX_QUEUES];
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
	if (m->family == 0) {
		resolver_lookup(m->address, res);
		return;
	}
	memset(res, 0, sizeof(*res));
	res->naddrs = 1;
	res->family[0] = (uint8_t)m->family;
	inet_pton(m->family, m->address, res->addr[0]);
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

/* Tells the caller the version its write produced; called with the lock held. */
static void control_cond_done(const struct control *ctl, struct control_cond *cond)
{
	if (cond != NULL)
		cond->version = ctl->version;
}

static ssize_t control_find(const struct control *ctl, int64_t id)
{
	for (size_t i = 0; i < ctl->nrows; i++)
		if (ctl->rows[i].id == id)
			return (ssize_t)i;
	return -1;
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
	rules = calloc(ctl->nrows * RESOLVER_MAX + 1, sizeof(*rules));
	if (!rules) {
		log_warnx("cannot build the table snapshot: out of memory");
		return CONTROL_UNPUBLISHED;
	}
	for (size_t i = 0; i < ctl->nrows; i++) {
		const struct mapping *m = &ctl->rows[i];
		const struct resolver_result *res = &ctl->live[i].res;

		if (!m->enabled)
			continue;
		for (size_t a = 0; a < res->naddrs; a++) {
			struct table_rule *r = &rules[n++];

			r->protos = m->proto;
			r->family = res->family[a];
			memcpy(r->addr, res->addr[a], 16);
			r->shared_port = (uint16_t)m->shared_port;
			r->assigned_port = (uint16_t)m->assigned_port;
			r->counters = ctl->live[i].counters;
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
	if (ctl->sets && sets_sync(ctl->sets, rules, n, errbuf, sizeof(errbuf)) < 0) {
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
			     bool use_sets, char *errbuf, size_t errlen)
{
	struct control *ctl = calloc(1, sizeof(*ctl));

	if (!ctl) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_mutex_init(&ctl->rate_lock, NULL);
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
	if (store_mapping_list(ctl->store, &ctl->rows, &ctl->nrows, errbuf, errlen) < 0)
		goto err;
	ctl->cap = ctl->nrows;
	ctl->live = calloc(ctl->nrows + 1, sizeof(*ctl->live));
	if (!ctl->live) {
		snprintf(errbuf, errlen, "out of memory");
		goto err;
	}
	for (size_t i = 0; i < ctl->nrows; i++) {
		ctl->live[i].counters = calloc(1, sizeof(struct table_counters));
		if (!ctl->live[i].counters) {
			snprintf(errbuf, errlen, "out of memory");
			goto err;
		}
		/*
		 * Names are resolved before the first snapshot, even though DNS
		 * may be slow: after a restart, established connections to a
		 * name's addresses must find their mapping at once.
		 */
		control_resolve(&ctl->rows[i], &ctl->live[i].res);
		if (ctl->live[i].res.naddrs == 0)
			log_warnx("mapping %lld: %s does not resolve: %s",
				  (long long)ctl->rows[i].id, ctl->rows[i].address,
				  ctl->live[i].res.error);
	}
	if (use_sets) {
		ctl->sets = sets_open(errbuf, errlen);
		if (!ctl->sets)
			goto err;
	}
	if (control_apply(ctl) < 0) {
		snprintf(errbuf, errlen, "cannot make the initial table live (see above)");
		goto err;
	}
	return ctl;
err:
	control_close(ctl);
	return NULL;
}

int control_start(struct control *ctl, struct nfq_pool *pool)
{
	ctl->pool = pool;
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
	table_publish(NULL);
	for (size_t i = 0; ctl->live && i < ctl->nrows; i++)
		free(ctl->live[i].counters);
	free(ctl->live);
	free(ctl->rows);
	sets_close(ctl->sets);
	if (ctl->store)
		store_close(ctl->store);
	pthread_cond_destroy(&ctl->kick);
	pthread_mutex_destroy(&ctl->rate_lock);
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

		if (!first) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += ctl->dirty ? CONTROL_RETRY_SECONDS : ctl->resolve_interval;
			pthread_cond_timedwait(&ctl->kick, &ctl->lock, &until);
			if (ctl->stop)
				break;
			if (ctl->dirty && control_apply(ctl) == 0)
				log_info("the stored table is live again");
		}
		first = false;
		names = calloc(ctl->nrows + 1, sizeof(*names));
		res = calloc(ctl->nrows + 1, sizeof(*res));
		if (!names || !res)
			goto next;
		for (size_t i = 0; i < ctl->nrows; i++)
			if (ctl->rows[i].family == 0)
				memcpy(names[n++], ctl->rows[i].address, MAPPING_ADDRESS_MAX);
		pthread_mutex_unlock(&ctl->lock);
		for (size_t i = 0; i < n; i++)
			resolver_lookup(names[i], &res[i]);
		pthread_mutex_lock(&ctl->lock);
		/* Rows may have changed meanwhile: match by name, not by index. */
		for (size_t i = 0; i < ctl->nrows; i++) {
			for (size_t j = 0; j < n; j++) {
				if (ctl->rows[i].family != 0 ||
				    strcmp(ctl->rows[i].address, names[j]) != 0)
					continue;
				/*
				 * A temporary DNS failure keeps the last good
				 * addresses: dropping them would cut traffic off
				 * for a whole interval because of one lost reply.
				 */
				if (res[j].temporary && ctl->live[i].res.naddrs > 0)
					break;
				if (!resolver_same(&ctl->live[i].res, &res[j])) {
					if (res[j].naddrs == 0)
						log_warnx("mapping %lld: %s does not resolve: %s",
							  (long long)ctl->rows[i].id, names[j], res[j].error);
					ctl->live[i].res = res[j];
					changed = true;
				}
				break;
			}
		}
		if (changed) {
			ctl->version++;
			control_apply(ctl);
		}
next:
		free(names);
		free(res);
	}
	pthread_mutex_unlock(&ctl->lock);
	return NULL;
}

static void control_view(const struct control *ctl, size_t i,
			 struct control_mapping *out)
{
	const struct control_live *l = &ctl->live[i];
	const struct table_counters *c = l->counters;

	memset(out, 0, sizeof(*out));
	out->m = ctl->rows[i];
	out->packets_in = __atomic_load_n(&c->packets_in, __ATOMIC_RELAXED);
	out->bytes_in = __atomic_load_n(&c->bytes_in, __ATOMIC_RELAXED);
	out->packets_out = __atomic_load_n(&c->packets_out, __ATOMIC_RELAXED);
	out->bytes_out = __atomic_load_n(&c->bytes_out, __ATOMIC_RELAXED);
	out->last_hit = __atomic_load_n(&c->last_hit, __ATOMIC_RELAXED);
	out->resolved = l->res.naddrs > 0;
	snprintf(out->resolve_error, sizeof(out->resolve_error), "%s", l->res.error);
	out->naddrs = l->res.naddrs;
	for (size_t a = 0; a < l->res.naddrs && a < CONTROL_MAX_ADDRS; a++)
		resolver_format(&l->res, a, out->addrs[a], sizeof(out->addrs[a]));
}

int control_mapping_list(struct control *ctl, struct control_mapping **rows,
			 size_t *n, uint64_t *version, struct mapping_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&ctl->lock);
	*rows = calloc(ctl->nrows + 1, sizeof(**rows));
	if (!*rows) {
		rc = control_fail(err, 500, "internal", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ctl->nrows; i++)
		control_view(ctl, i, &(*rows)[i]);
	*n = ctl->nrows;
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
	i = control_find(ctl, id);
	if (i < 0) {
		mapping_fail(err, 404, "not_found", "", "no mapping with id %lld", (long long)id);
		rc = -1;
	} else {
		control_view(ctl, (size_t)i, out);
		if (version != NULL)
			*version = ctl->version;
	}
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

/* Grows the row arrays by one slot; returns 0 or -1. */
static int control_reserve(struct control *ctl)
{
	size_t cap = ctl->cap ? ctl->cap * 2 : 16;
	struct mapping *rows;
	struct control_live *live;

	if (ctl->nrows < ctl->cap)
		return 0;
	rows = realloc(ctl->rows, cap * sizeof(*rows));
	if (!rows)
		return -1;
	ctl->rows = rows;
	live = realloc(ctl->live, cap * sizeof(*live));
	if (!live)
		return -1;
	ctl->live = live;
	ctl->cap = cap;
	return 0;
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
	    !mapping_check_conflicts(m, ctl->rows, ctl->nrows, err))
		goto out;
	counters = calloc(1, sizeof(*counters));
	if (!counters || control_reserve(ctl) < 0) {
		control_fail(err, 500, "internal", "out of memory");
		goto out;
	}
	if (store_mapping_insert(ctl->store, m, errbuf, sizeof(errbuf)) < 0) {
		control_fail(err, 500, "storage", errbuf);
		goto out;
	}
	ctl->rows[ctl->nrows] = *m;
	ctl->live[ctl->nrows] = (struct control_live){ counters, res };
	ctl->nrows++;
	counters = NULL;
	ctl->version++;
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
	i = control_find(ctl, m->id);
	if (i < 0) {
		mapping_fail(err, 404, "not_found", "", "no mapping with id %lld", (long long)m->id);
		goto out;
	}
	if (!control_cond_ok(ctl, cond, err) ||
	    !mapping_check_conflicts(m, ctl->rows, ctl->nrows, err))
		goto out;
	st = store_mapping_update(ctl->store, m, errbuf, sizeof(errbuf));
	if (st != 0) {
		control_fail(err, 500, "storage", st < 0 ? errbuf : "row vanished");
		goto out;
	}
	ctl->rows[i] = *m;
	ctl->live[i].res = res;
	ctl->version++;
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
	i = control_find(ctl, id);
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
	counters = ctl->live[i].counters;
	memmove(&ctl->rows[i], &ctl->rows[i + 1], (ctl->nrows - (size_t)i - 1) * sizeof(*ctl->rows));
	memmove(&ctl->live[i], &ctl->live[i + 1], (ctl->nrows - (size_t)i - 1) * sizeof(*ctl->live));
	ctl->nrows--;
	ctl->version++;
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
 * Checks a whole new table: each row on its own, then each against the rows
 * before it, so that a conflict is reported at the later of the two.  Rows
 * are given distinct negative ids for the comparison, since
 * mapping_check_conflicts skips a row with the id it checks and rows
 * without an id all have 0.  Normalises the rows' addresses.  Returns 0, or
 * -1 with err filled and *bad set.
 */
static int control_config_check(struct mapping *rows, size_t n, size_t *bad,
				struct mapping_error *err)
{
	for (size_t i = 0; i < n; i++) {
		*bad = i;
		if (!mapping_validate(&rows[i], err))
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct mapping a = rows[i];

		*bad = i;
		a.id = -1 - (int64_t)i;
		for (size_t j = 0; j < i; j++) {
			struct mapping b = rows[j];
			struct mapping_error e;
			const char *rule;

			b.id = -1 - (int64_t)j;
			if (mapping_check_conflicts(&a, &b, 1, &e))
				continue;
			/*
			 * The message names the other row by its id, a
			 * stand-in here: name it by its index instead.
			 */
			rule = strstr(e.message, " already ");
			mapping_fail(err, e.status, e.code, e.field, "mappings[%zu] %s",
				     j, rule != NULL ? rule + 1 : e.message);
			return -1;
		}
	}
	*bad = SIZE_MAX;
	return 0;
}

/* Frees the counters of n live slots (a NULL one is a moved one). */
static void control_free_counters(struct control_live *live, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(live[i].counters);
}

/* Returns n live slots, each with zeroed counters, or NULL. */
static struct control_live *control_live_new(size_t n)
{
	struct control_live *live = calloc(n + 1, sizeof(*live));

	for (size_t i = 0; live != NULL && i < n; i++) {
		live[i].counters = calloc(1, sizeof(struct table_counters));
		if (live[i].counters == NULL) {
			control_free_counters(live, i);
			free(live);
			live = NULL;
		}
	}
	return live;
}

/*
 * The locked half of control_config_replace: stores rows, then swaps them
 * and *live (resolved, with fresh counters) in for the table, taking both
 * *copy and *live (set to NULL) when the store took the rows.  Returns 0
 * or -1 with err filled.
 */
static int control_config_swap(struct control *ctl, struct mapping *rows,
			       size_t n, struct control_live **live,
			       struct mapping **copy, struct control_cond *cond,
			       struct mapping_error *err)
{
	struct control_live *old_live = ctl->live;
	struct mapping *old_rows = ctl->rows;
	size_t old_n = ctl->nrows, kept = 0;
	char errbuf[256];
	int st;

	if (!control_cond_ok(ctl, cond, err))
		return -1;
	if (store_mapping_replace(ctl->store, rows, n, errbuf, sizeof(errbuf)) < 0)
		return control_fail(err, 500, "storage", errbuf);
	/*
	 * Stored.  A row whose id was in the table keeps its counters; the
	 * old rows left with counters afterwards are the deleted ones.
	 */
	for (size_t i = 0; i < n; i++) {
		ssize_t j = control_find(ctl, rows[i].id);

		if (j < 0)
			continue;
		free((*live)[i].counters);
		(*live)[i].counters = old_live[j].counters;
		old_live[j].counters = NULL;
		kept++;
	}
	memcpy(*copy, rows, n * sizeof(**copy));
	ctl->rows = *copy;
	ctl->live = *live;
	ctl->nrows = ctl->cap = n;
	*copy = NULL;
	*live = NULL;
	ctl->version++;
	log_info("table replaced: %zu mappings (%zu kept, %zu removed)", n, kept,
		 old_n - kept);
	control_cond_done(ctl, cond);
	st = control_apply(ctl);
	/* As in control_mapping_delete: only a new snapshot frees the old counters. */
	if (st != CONTROL_UNPUBLISHED)
		control_free_counters(old_live, old_n);
	free(old_live);
	free(old_rows);
	return st < 0 ? control_not_live(err, st) : 0;
}

int control_config_replace(struct control *ctl, struct mapping *rows, size_t n,
			   struct control_cond *cond, size_t *bad,
			   struct mapping_error *err)
{
	struct control_live *live = NULL;
	struct mapping *copy = NULL;
	int rc = -1;

	*bad = SIZE_MAX;
	if (control_config_check(rows, n, bad, err) < 0)
		return -1;
	live = control_live_new(n);
	copy = calloc(n + 1, sizeof(*copy));
	if (live == NULL || copy == NULL) {
		control_fail(err, 500, "internal", "out of memory");
		goto out;
	}
	/* Names are looked up before the lock, as for a single write. */
	for (size_t i = 0; i < n; i++)
		control_resolve(&rows[i], &live[i].res);
	pthread_mutex_lock(&ctl->lock);
	rc = control_config_swap(ctl, rows, n, &live, &copy, cond, err);
	pthread_mutex_unlock(&ctl->lock);
out:
	if (live != NULL)
		control_free_counters(live, n);
	free(live);
	free(copy);
	return rc;
}

/*
 * Reads the kernel's per-queue drop counters.  Each line of
 * /proc/net/netfilter/nfnetlink_queue is: queue, portid, waiting, copy mode,
 * copy range, queue_dropped, user_dropped, last id, 1.
 */
static void control_kernel_drops(struct control_status *st)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	unsigned q, portid, waiting, mode, range, seq, one;
	unsigned long long qdrop, udrop;

	if (!f)
		return;
	while (fscanf(f, "%u %u %u %u %u %llu %llu %u %u", &q, &portid, &waiting,
		      &mode, &range, &qdrop, &udrop, &seq, &one) == 9) {
		for (size_t i = 0; i < st->nqueues; i++) {
			if (st->queues[i].queue != q)
				continue;
			st->queues[i].kernel_dropped = qdrop;
			st->queues[i].user_dropped = udrop;
		}
	}
	fclose(f);
}

void control_status_get(struct control *ctl, struct control_status *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ctl->lock);
	out->version = ctl->version;
	out->started = ctl->started;
	out->schema_version = store_schema_version(ctl->store);
	out->mappings = ctl->nrows;
	pthread_mutex_unlock(&ctl->lock);
	if (ctl->pool)
		out->nqueues = nfq_stats(ctl->pool, out->queues, CONTROL_MAX_QUEUES);
	control_kernel_drops(out);
	pthread_mutex_lock(&ctl->rate_lock);
	for (size_t i = 0; i < out->nqueues && i < ctl->rate_n; i++)
		out->queues[i].packets_per_second = ctl->rate_pps[i];
	pthread_mutex_unlock(&ctl->rate_lock);
}

void control_tick(struct control *ctl)
{
	struct control_queue_stats q[CONTROL_MAX_QUEUES];
	struct timespec now;
	size_t n = 0;
	double dt;

	if (ctl->pool)
		n = nfq_stats(ctl->pool, q, CONTROL_MAX_QUEUES);
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&ctl->rate_lock);
	dt = (double)(now.tv_sec - ctl->rate_at.tv_sec) +
	     (double)(now.tv_nsec - ctl->rate_at.tv_nsec) / 1e9;
	for (size_t i = 0; i < n; i++) {
		uint64_t prev = ctl->rate_packets[i];

		/* The first sample has nothing to compare with: rate 0. */
		ctl->rate_pps[i] = ctl->rate_n == n && dt > 0 && q[i].packets >= prev
					   ? (double)(q[i].packets - prev) / dt : 0;
		ctl->rate_packets[i] = q[i].packets;
	}
	ctl->rate_n = n;
	ctl->rate_at = now;
	pthread_mutex_unlock(&ctl->rate_lock);
}
