/*
 * gctl: the control plane of virtual port multiplexing (issue 4).  It keeps
 * the application groups, their backends and their source rules as stored
 * (gstore), checks every change against the whole configuration
 * (groups_build), owns the live counters of every group and backend, and
 * publishes the snapshot the NFQUEUE workers read.  It also answers the
 * API's questions about the flow table, which the workers own, through
 * gflows.h.
 *
 * DESIGN.  Not thread-safe on its own: control.c calls every function
 * below except gctl_read under its lock (control_groups_read and
 * control_groups_write), so group writes and mapping writes share one lock
 * and one version.  Workers call gctl_read between table_read_begin and
 * table_read_end: the snapshot is published with the same liburcu flavour
 * as the table (urcu-memb), so one read-side section covers both.  Counters
 * live outside snapshots, keyed by id, so they survive rebuilds; a removed
 * row's counters are freed only after the grace period of the snapshot
 * that dropped it.
 */
#ifndef PORTSHARE_GCTL_H
#define PORTSHARE_GCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "gflows.h"
#include "groups.h"
#include "mapping.h"

struct gctl;
struct store;
struct sets;

/* What the workers read: the groups and each worker's round-robin state. */
struct gctl_snap {
	struct groups *groups;
	/*
	 * rr[w] is worker w's round-robin array: groups_backend_count(groups)
	 * int32_t, zeroed when the snapshot is built.  Only worker w writes it.
	 */
	int32_t **rr;
	unsigned nworkers;
};

/*
 * The live snapshot, or NULL before gctl_open published one.  Valid until
 * table_read_end.
 */
const struct gctl_snap *gctl_read(void);

/*
 * Loads the groups from st, rebuilds the backends' active flow counts from
 * flows (one partition per worker; may be NULL in tests), publishes the
 * first snapshot for nworkers workers and syncs the virtual and backend port
 * sets through sets (may be NULL in tests).  Returns NULL with errbuf
 * filled on failure.
 */
struct gctl *gctl_open(struct store *st, struct sets *sets,
		       struct flow_table *flows, unsigned nworkers,
		       char *errbuf, size_t errlen);
/* Unpublishes the snapshot and frees everything.  g may be NULL. */
void gctl_close(struct gctl *g);

/*
 * True while a stored change is not live: its snapshot could not be built
 * (out of memory) or the port ipsets could not be synced.  The write that
 * left it so failed with 503.
 */
bool gctl_dirty(const struct gctl *g);
/*
 * Tries again to make the stored groups live, when gctl_dirty says they
 * are not; control's resolver thread calls it every second until it
 * works.  Returns 0 when everything is live, or -1 (logged).
 */
int gctl_retry(struct gctl *g);

/* Live counters as the API shows them. */
struct gctl_group_view {
	struct groups_group g;     /* the stored row; g.backends unset */
	struct groups_counters c;
	uint32_t active;           /* the sum of its backends' active flows */
	size_t nbackends;
};

struct gctl_backend_view {
	struct groups_backend b;   /* b.b.active and b.b.flows unset */
	char group[GROUPS_NAME_MAX];
	uint32_t active;
	uint64_t flows;
};

struct gctl_rule_view {
	struct groups_rule r;
	char group[GROUPS_NAME_MAX];
};

/*
 * Every function below returns 0, or -1 with err filled the way control.h
 * describes (404 unknown id, 409 conflict such as a duplicate name or a
 * second default group, 422 invalid value, 500 storage failure, 503 stored
 * but not live).  Writers store the row, then rebuild and publish the
 * snapshot; a write whose snapshot groups_build refuses changes nothing and
 * fails with 409 or 422 and groups_build's message.  The checks gctl adds
 * (gconf.h): a name of 1 to 63 characters of [A-Za-z0-9._-] (422, field
 * "name"), unique (409 "conflict", field "name"); an aid of 1 to 63
 * characters (422, field "aid"); one default group per (address, port,
 * protocol) (409, field "default"); a backend port unique in its group
 * (409, field "port"); a backend or rule naming an existing group (422,
 * field "group", code "unknown_group").  Refusals of groups_build itself
 * are 422 "invalid" with field "".  A 503 is a write that happened: a new
 * row's id is set as on success.  Views leave the snapshot's pointers
 * (counters, backends, active, flows) NULL.
 */
int gctl_group_list(struct gctl *g, struct gctl_group_view **rows, size_t *n,
		    struct mapping_error *err);
int gctl_group_get(struct gctl *g, int64_t id, struct gctl_group_view *out,
		   struct mapping_error *err);
/*
 * Finds a group by name: for rules and backends, which name their group.
 * An unknown name is 422 with field "group" (code "unknown_group"), the
 * answer to a request whose group field names no group.
 */
int gctl_group_by_name(struct gctl *g, const char *name, int64_t *id,
		       struct mapping_error *err);
/* Sets gr->id.  */
int gctl_group_create(struct gctl *g, struct groups_group *gr,
		      struct mapping_error *err);
int gctl_group_update(struct gctl *g, const struct groups_group *gr,
		      struct mapping_error *err);
/* Removes the group with its backends and rules; its flows stay pinned. */
int gctl_group_delete(struct gctl *g, int64_t id, struct mapping_error *err);

/* group_id 0: every backend. */
int gctl_backend_list(struct gctl *g, int64_t group_id,
		      struct gctl_backend_view **rows, size_t *n,
		      struct mapping_error *err);
int gctl_backend_get(struct gctl *g, int64_t id, struct gctl_backend_view *out,
		     struct mapping_error *err);
/* Sets b->b.id. */
int gctl_backend_create(struct gctl *g, struct groups_backend *b,
			struct mapping_error *err);
int gctl_backend_update(struct gctl *g, const struct groups_backend *b,
			struct mapping_error *err);
int gctl_backend_delete(struct gctl *g, int64_t id, struct mapping_error *err);

int gctl_rule_list(struct gctl *g, int64_t group_id,
		   struct gctl_rule_view **rows, size_t *n,
		   struct mapping_error *err);
int gctl_rule_get(struct gctl *g, int64_t id, struct gctl_rule_view *out,
		  struct mapping_error *err);
int gctl_rule_create(struct gctl *g, struct groups_rule *r,
		     struct mapping_error *err);
int gctl_rule_update(struct gctl *g, const struct groups_rule *r,
		     struct mapping_error *err);
int gctl_rule_delete(struct gctl *g, int64_t id, struct mapping_error *err);

/*
 * The flow table's side, done by gflows.h with the current rows (these
 * only pass g's flow table and rows on, so that the API reaches the flows
 * through the same lock and handle as the groups).  gctl_flow_list is
 * gflows_list: the matching flows from f->offset on, at most f->limit of
 * them, *total counting every match.  gctl_flow_flush is gflows_flush: it
 * asks every worker to drop all its flows and waits up to about two
 * seconds; their backends' counts go down as they do, and a worker that
 * did not finish in time makes it a 503.
 */
int gctl_flow_list(struct gctl *g, const struct gflows_filter *f,
		   struct gflows_view **rows, size_t *n, size_t *total,
		   struct mapping_error *err);
int gctl_flow_flush(struct gctl *g, size_t *flushed, struct mapping_error *err);

/* Totals for /api/v1/status and /metrics. */
struct gctl_stats {
	size_t groups, backends, rules;
	uint64_t flows, flow_limit;     /* in the table now, and its capacity */
	uint64_t flows_refused;         /* inserts refused: table full */
};
void gctl_stats(struct gctl *g, struct gctl_stats *out);

#endif
