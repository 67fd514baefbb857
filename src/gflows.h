/*
 * gflows: the control plane's side of the flow table (flow.h), for the
 * application groups.  The NFQUEUE workers own the table; this module only
 * reads it (rebuilding the backends' active counts after a restart,
 * listing flows with filters, summing its counters) or asks the workers to
 * flush it and waits.  gctl calls it with its current rows, under
 * control.c's lock; gctl.h's gctl_flow_list, gctl_flow_flush and
 * gctl_stats are the API's way in.
 */
#ifndef PORTSHARE_GFLOWS_H
#define PORTSHARE_GFLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "groups.h"
#include "mapping.h"

struct gstore_all;

/* A flow as the API lists it. */
struct gflows_view {
	struct flow_entry e;
	char group[GROUPS_NAME_MAX]; /* "" when the group is gone */
};

struct gflows_filter {
	int64_t group_id;   /* 0: any */
	int64_t backend_id; /* 0: any */
	uint8_t family;     /* 0: any client; else client/prefix_len apply */
	uint8_t client[16];
	uint8_t prefix_len;
	uint8_t l4proto;    /* 0: any */
	size_t offset, limit;
};

/* The flow table's counters, summed over its partitions. */
struct gflows_totals {
	uint64_t flows, limit;   /* in the table now, and its capacity */
	uint64_t refused;        /* inserts refused: table full */
	uint64_t flushed;        /* removed by flushes */
};

/*
 * Counts every flow of flows that survived a restart, but a closing one
 * (which released its backend when it began closing), against its
 * backend's active count in cur.  flows may be NULL (tests).
 */
void gflows_restore(struct flow_table *flows, struct gstore_all *cur);

/*
 * The flows matching f, skipping f->offset of them and returning at most
 * f->limit in *rows (malloc'd, freed by the caller), each named by its
 * group in cur; *total counts every match.  The listing is read while
 * workers change the table (see flow.h).  Returns 0, or -1 (500) with err
 * filled when out of memory.
 */
int gflows_list(struct flow_table *flows, const struct gstore_all *cur,
		const struct gflows_filter *f, struct gflows_view **rows,
		size_t *n, size_t *total, struct mapping_error *err);

/*
 * Asks every worker to drop all its flows and waits (at most about two
 * seconds) until they have.  *flushed is how many flows went.  Returns 0,
 * or -1 with err filled: 500 out of memory, 503 when a worker did not
 * finish in time (it goes on with it).
 */
int gflows_flush(struct flow_table *flows, size_t *flushed,
		 struct mapping_error *err);

/* Sums every partition's counters into out (zeros for a NULL flows). */
void gflows_totals(struct flow_table *flows, struct gflows_totals *out);

#endif
