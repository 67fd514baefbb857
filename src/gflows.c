/*
 * gflows: the control plane's side of the flow table (see gflows.h).
 *
 * DESIGN.  Every function here runs on a control-plane thread under
 * control.c's lock (gctl calls them), except gflows_restore, which runs
 * at start-up before any worker.  The workers own the flow table:
 * flow_foreach copies each entry under its sequence counter and
 * flow_stats reads relaxed atomics, so the reads here need no lock shared
 * with them, and a flush is a ticket each worker's sweeper honours, which
 * gflows_flush polls.
 */
#include "gflows.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "gconf.h"
#include "gstore.h"
#include "log.h"
#include "util.h"

/* How long gflows_flush waits for the workers, in 10 ms steps. */
#define GFLOWS_FLUSH_STEPS 200

static int gflows_oom(struct mapping_error *err)
{
	mapping_fail(err, 500, "internal", "", "out of memory");
	return -1;
}

/* Counts a flow the table kept (over a restart) against its backend. */
static int gflows_restore_one(const struct flow_entry *e, void *arg)
{
	struct gstore_all *cur = arg;
	ssize_t i;

	/* A closing flow released its backend when it entered that state. */
	if (e->state == FLOW_CLOSING)
		return 0;
	i = gconf_backend_index(cur, e->backend);
	if (i >= 0)
		cur->backends[i].b.active[0]++;
	return 0;
}

void gflows_restore(struct flow_table *flows, struct gstore_all *cur)
{
	for (unsigned p = 0; flows != NULL && p < flow_partitions(flows); p++)
		flow_foreach(flow_partition(flows, p), gflows_restore_one, cur);
}

static bool gflows_match(const struct gflows_filter *f, const struct flow_entry *e)
{
	if (f->group_id != 0 && e->group != f->group_id)
		return false;
	if (f->backend_id != 0 && e->backend != f->backend_id)
		return false;
	if (f->l4proto != 0 && e->key.l4proto != f->l4proto)
		return false;
	if (f->family == 0)
		return true;
	return e->key.family == f->family &&
	       util_prefix_eq(e->key.client, f->client, f->prefix_len > 128 ? 128 : f->prefix_len);
}

/* A flow listing in progress. */
struct gflows_walk {
	const struct gstore_all *cur;
	const struct gflows_filter *f;
	struct gflows_view *rows;
	size_t n, cap, total;
	bool oom;
};

static int gflows_visit(const struct flow_entry *e, void *arg)
{
	struct gflows_walk *w = arg;
	struct gflows_view *v;
	ssize_t i;

	if (!gflows_match(w->f, e))
		return 0;
	w->total++;
	if (w->total <= w->f->offset || w->n >= w->f->limit)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct gflows_view *grown = realloc(w->rows, cap * sizeof(*grown));

		if (!grown) {
			w->oom = true;
			return 1;
		}
		w->rows = grown;
		w->cap = cap;
	}
	v = &w->rows[w->n++];
	v->e = *e;
	i = gconf_group_index(w->cur, e->group);
	snprintf(v->group, sizeof(v->group), "%s", i < 0 ? "" : w->cur->groups[i].name);
	return 0;
}

int gflows_list(struct flow_table *flows, const struct gstore_all *cur,
		const struct gflows_filter *f, struct gflows_view **rows,
		size_t *n, size_t *total, struct mapping_error *err)
{
	struct gflows_walk w = { .cur = cur, .f = f };

	for (unsigned p = 0; flows != NULL && p < flow_partitions(flows) && !w.oom; p++)
		flow_foreach(flow_partition(flows, p), gflows_visit, &w);
	if (w.oom) {
		free(w.rows);
		return gflows_oom(err);
	}
	*rows = w.rows;
	*n = w.n;
	*total = w.total;
	return 0;
}

/* 64-bit sums: a partition's 32-bit counts add up past that. */
void gflows_totals(struct flow_table *flows, struct gflows_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned p = 0; flows != NULL && p < flow_partitions(flows); p++) {
		struct flow_stats st;

		flow_stats(flow_partition(flows, p), &st);
		out->flows += st.flows;
		out->limit += st.limit;
		out->refused += st.refused;
		out->flushed += st.flushed;
	}
}

int gflows_flush(struct flow_table *flows, size_t *flushed,
		 struct mapping_error *err)
{
	const struct timespec step = { 0, 10 * 1000 * 1000 };
	struct gflows_totals before, after;
	uint32_t *tickets;
	unsigned np, pending = 0;

	*flushed = 0;
	if (flows == NULL)
		return 0;
	np = flow_partitions(flows);
	tickets = calloc(np, sizeof(*tickets));
	if (!tickets)
		return gflows_oom(err);
	gflows_totals(flows, &before);
	for (unsigned p = 0; p < np; p++)
		tickets[p] = flow_flush_request(flow_partition(flows, p));
	/* The workers do the removal, in their sweeper: poll until they are done. */
	for (int i = 0; i <= GFLOWS_FLUSH_STEPS; i++) {
		pending = 0;
		for (unsigned p = 0; p < np; p++)
			pending += !flow_flush_done(flow_partition(flows, p), tickets[p]);
		if (pending == 0 || i == GFLOWS_FLUSH_STEPS)
			break;
		nanosleep(&step, NULL);
	}
	free(tickets);
	gflows_totals(flows, &after);
	*flushed = (size_t)(after.flushed - before.flushed);
	log_info("flow flush: %zu flows removed", *flushed);
	if (pending == 0)
		return 0;
	mapping_fail(err, 503, "flush_incomplete", "", "%u of %u workers did not finish "
		     "the flush within %d ms; they go on with it", pending, np,
		     GFLOWS_FLUSH_STEPS * 10);
	return -1;
}
