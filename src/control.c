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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
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

uint64_t control_version(struct control *ctl)
{
	uint64_t v;

	pthread_mutex_lock(&ctl->lock);
	v = ctl->version;
	pthread_mutex_unlock(&ctl->lock);
	return v;
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
			 size_t *n, struct mapping_error *err)
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
out:
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

int control_mapping_get(struct control *ctl, int64_t id,
			struct control_mapping *out, struct mapping_error *err)
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
			   struct mapping_error *err)
{
	struct table_counters *counters = NULL;
	struct resolver_result res;
	char errbuf[256];
	int rc = -1, st;

	if (!mapping_validate(m, err))
		return -1;
	control_resolve(m, &res);
	pthread_mutex_lock(&ctl->lock);
	if (!mapping_check_conflicts(m, ctl->rows, ctl->nrows, err))
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
	st = control_apply(ctl);
	rc = st < 0 ? control_not_live(err, st) : 0;
out:
	pthread_mutex_unlock(&ctl->lock);
	free(counters);
	return rc;
}

int control_mapping_update(struct control *ctl, struct mapping *m,
			   struct mapping_error *err)
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
	if (!mapping_check_conflicts(m, ctl->rows, ctl->nrows, err))
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
	st = control_apply(ctl);
	rc = st < 0 ? control_not_live(err, st) : 0;
out:
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

int control_mapping_delete(struct control *ctl, int64_t id,
			   struct mapping_error *err)
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
}
