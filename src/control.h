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

#include "mapping.h"

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
	int64_t last_progress;   /* unix seconds of the last batch handled */
};

struct control_status {
	uint64_t version;      /* table version: bumps on every committed write */
	int64_t started;       /* unix seconds */
	int schema_version;
	size_t mappings;
	size_t nqueues;
	struct control_queue_stats queues[CONTROL_MAX_QUEUES];
};

struct nfq_pool;

/*
 * Opens the store at db_path, loads the table, publishes the first snapshot
 * and (when use_sets) fills the kernel ipsets, so that the workers know every
 * mapping before they bind their queues.  Names are resolved every
 * resolve_interval seconds once control_start has run.  Returns NULL with
 * errbuf filled on failure.
 */
struct control *control_open(const char *db_path, unsigned resolve_interval,
			     bool use_sets, char *errbuf, size_t errlen);
/* Starts the resolver thread; pool (may be NULL) feeds the status counters. */
int control_start(struct control *ctl, struct nfq_pool *pool);
/* Stops the resolver, unpublishes the table and closes the store. */
void control_close(struct control *ctl);

/* Table version; every successful create/update/delete increments it. */
uint64_t control_version(struct control *ctl);

/*
 * Every function below returns 0, or -1 with err filled: 404 for an unknown
 * id, 409 for a conflict with another row, 422 for an invalid value, 500
 * for a storage failure, 503 when a write is stored but could not be made
 * live yet (the control plane retries it every second).
 */
int control_mapping_list(struct control *ctl, struct control_mapping **rows,
			 size_t *n, struct mapping_error *err);
int control_mapping_get(struct control *ctl, int64_t id,
			struct control_mapping *out, struct mapping_error *err);
/* Validates m, stores it, sets m->id and makes it live before returning. */
int control_mapping_create(struct control *ctl, struct mapping *m,
			   struct mapping_error *err);
/* Replaces row m->id with m and makes the change live before returning. */
int control_mapping_update(struct control *ctl, struct mapping *m,
			   struct mapping_error *err);
int control_mapping_delete(struct control *ctl, int64_t id,
			   struct mapping_error *err);

void control_status_get(struct control *ctl, struct control_status *out);

#endif
