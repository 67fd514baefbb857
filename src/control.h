/*
 * control: the control plane.  It owns the store, validates every change
 * against the whole table, rebuilds and publishes the packet-path snapshot,
 * keeps the kernel's ipsets in sync and answers the API's questions.  One
 * mutex serialises all of it; the packet path never takes that mutex.
 */
#ifndef PORTSHARE_CONTROL_H
#define PORTSHARE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fanout.h"
#include "fctl.h"
#include "gctl.h"
#include "mapping.h"
#include "regsrv.h"

#define CONTROL_MAX_ADDRS 8
#define CONTROL_MAX_QUEUES 64

struct control;

/* A mapping as the API shows it: the stored row plus its live state. */
struct control_mapping {
	struct mapping m;
	uint64_t packets_in, bytes_in;   /* rewritten shared -> assigned */
	uint64_t packets_out, bytes_out; /* rewritten assigned -> shared */
	int64_t last_hit;                /* unix seconds, 0 when never hit */
	bool resolved;                   /* false: a name that resolved to nothing */
	char resolve_error[128];         /* why, when not resolved */
	size_t naddrs;                   /* addresses the row matches now */
	char addrs[CONTROL_MAX_ADDRS][46];
};

/* Per NFQUEUE worker counters, as /api/v1/status shows them. */
struct control_queue_stats {
	unsigned queue;
	uint64_t packets;     /* packets received from the kernel */
	uint64_t rewritten;   /* packets whose port was rewritten */
	uint64_t passed;      /* accepted untouched: unmapped or unparsable */
	uint64_t truncated;   /* captured shorter than the packet: dropped */
	uint64_t batches;     /* receive batches, each answered by one sendmsg */
	uint64_t nl_errors;   /* netlink errors reported by the kernel */
	uint64_t enobufs;     /* receive overruns: the kernel dropped messages */
	uint64_t kernel_dropped; /* queue_dropped from /proc/net/netfilter/nfnetlink_queue */
	uint64_t user_dropped;   /* user_dropped from the same file */
	uint64_t refusals;    /* resets and ICMP errors sent to refused clients */
	uint64_t flow_packets; /* packets rewritten through the flow table */
	uint64_t no_route;    /* new flows refused: no rule and no default group */
	uint64_t held;        /* new flows' packets waiting for a backend now */
	int64_t last_progress;   /* unix seconds of the last batch handled */
	double packets_per_second; /* over the last control_tick interval */
};

struct control_status {
	/*
	 * The table version: every committed write bumps it, and so does a
	 * name that resolves to new addresses.
	 */
	uint64_t version;
	int64_t started;       /* unix seconds */
	int schema_version;
	size_t mappings;
	struct gctl_stats groups; /* the application groups and the flow table */
	struct fctl_stats fanout; /* UDP fan-out: contested ports and subscribers */
	struct fanout_stats copier;       /* the NFLOG copier's own counters */
	struct regsrv_stats registration; /* the registrar's */
	size_t nqueues;
	struct control_queue_stats queues[CONTROL_MAX_QUEUES];
};

/* The most entity tags an If-Match list may name. */
#define CONTROL_MATCH_MAX 8

/*
 * A write's precondition and outcome.  With n 0 any table version will do;
 * otherwise the write goes ahead only while the table version is one of
 * match[0..n-1] (If-Match).  A successful write sets version to the table
 * version it produced.
 */
struct control_cond {
	size_t n;
	uint64_t match[CONTROL_MATCH_MAX];
	uint64_t version;
};

struct nfq_pool;
struct flow_table;

/*
 * Opens the store at db_path, loads the table, publishes the first snapshot
 * and fills the kernel ipsets, so that the workers know every
 * mapping before they bind their queues.  The application groups are
 * loaded and published the same way (gctl_open, with flows, the flow table
 * of nworkers partitions, one per NFQUEUE worker), and so are UDP fan-out's
 * contested ports and subscribers (fctl_open, which tells gone, when not
 * NULL, about the subscribers of a removed or disabled port).  Names are
 * resolved every resolve_interval seconds once control_start has run.
 * Returns NULL with errbuf filled on failure.
 */
struct control *control_open(const char *db_path, unsigned resolve_interval,
			     struct flow_table *flows, unsigned nworkers,
			     fctl_gone_fn *gone, void *gone_arg,
			     char *errbuf, size_t errlen);
/*
 * Starts the resolver thread.  pool, copier and registrar (each may be
 * NULL) feed control_status: the queue counters, the fan-out copier's and
 * the registrar's.  The control plane only reads their counters; they must
 * outlive every control_status_get call, so main stops the API before it
 * stops them.  Returns 0, or -1 with errno set.
 */
int control_start(struct control *ctl, struct nfq_pool *pool,
		  struct fanout *copier, struct regsrv *registrar);
/* Stops the resolver, unpublishes the table and closes the store. */
void control_close(struct control *ctl);

/*
 * Every function below returns 0, or -1 with err filled: 404 for an unknown
 * id, 409 for a conflict with another row, 412 when cond's precondition
 * fails, 422 for an invalid value, 500 for a storage failure, 503 when a
 * write is stored but could not be made live yet (the control plane
 * retries it every second).  A write checks its values first, then, under
 * the lock and in this order, the id, the precondition and the conflicts,
 * so a precondition is exact even with concurrent writers.  The readers
 * set *version (when not NULL) to the version of what they read, and the
 * writers set cond->version (cond may be NULL).  A 503 is a write that
 * happened: cond->version and a new row's id are set as on success, so the
 * caller can show what was stored.
 */
int control_mapping_list(struct control *ctl, struct control_mapping **rows,
			 size_t *n, uint64_t *version, struct mapping_error *err);
int control_mapping_get(struct control *ctl, int64_t id,
			struct control_mapping *out, uint64_t *version,
			struct mapping_error *err);
/*
 * Validates m, resolves its name (if it has one) before taking the lock,
 * stores it, sets m->id and makes it live before returning.
 */
int control_mapping_create(struct control *ctl, struct mapping *m,
			   struct control_cond *cond, struct mapping_error *err);
/* Replaces row m->id with m and makes the change live before returning. */
int control_mapping_update(struct control *ctl, struct mapping *m,
			   struct control_cond *cond, struct mapping_error *err);
int control_mapping_delete(struct control *ctl, int64_t id,
			   struct control_cond *cond, struct mapping_error *err);

/* What an imported name's resolve_error says until the resolver has looked it up. */
#define CONTROL_RESOLVING "resolving"

/*
 * Replaces the whole table with rows[0..n-1], which config_check has found
 * valid on their own and against each other: one transaction stores them
 * and one snapshot makes them live.  Rows with a non-zero id keep it (and
 * their live counters, when that id was in the table); the others get new
 * ids.  On return (success or 503) rows[] holds the table as stored: every
 * id set, ordered by id like the table itself.  DNS is never waited for: a
 * literal is its own address, a name the table already resolves keeps its
 * addresses, and any other name shows resolved false and resolve_error
 * CONTROL_RESOLVING until the resolver thread, woken at once, has looked
 * it up.
 */
int control_table_replace(struct control *ctl, struct mapping *rows, size_t n,
			  struct control_cond *cond, struct mapping_error *err);

struct gctl;

/*
 * The application groups (gctl.h) share the control lock and the table
 * version with the mappings.  control_groups_read runs fn(g, arg, err)
 * under the lock and sets *version (when not NULL) to the version it read
 * at.  control_groups_write checks cond's precondition (412), runs fn, and
 * when fn returns 0 (or fails with 503: stored, not live) bumps the version
 * and sets cond->version.  Both return what fn returns.
 */
typedef int control_groups_fn(struct gctl *g, void *arg,
			      struct mapping_error *err);
int control_groups_read(struct control *ctl, control_groups_fn *fn, void *arg,
			uint64_t *version, struct mapping_error *err);
int control_groups_write(struct control *ctl, control_groups_fn *fn, void *arg,
			 struct control_cond *cond, struct mapping_error *err);

/*
 * UDP fan-out (fctl.h) shares them too, with the same contract: the REST
 * layer and the registrar run their function on the contested ports and
 * subscribers under the lock, and every write that happened (0 or 503)
 * bumps the version.
 */
typedef int control_fanout_fn(struct fctl *f, void *arg,
			      struct mapping_error *err);
int control_fanout_read(struct control *ctl, control_fanout_fn *fn, void *arg,
			uint64_t *version, struct mapping_error *err);
int control_fanout_write(struct control *ctl, control_fanout_fn *fn, void *arg,
			 struct control_cond *cond, struct mapping_error *err);

/*
 * The current table version, read without waiting for a write in
 * progress; what an answer that describes no particular read carries.
 */
uint64_t control_version(struct control *ctl);

void control_status_get(struct control *ctl, struct control_status *out);

/*
 * Samples the queue counters for the packet rates in control_status; main
 * calls it about once a second.  It never waits for a table write.
 */
void control_tick(struct control *ctl);

#endif
