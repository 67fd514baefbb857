/*
 * status: the queue side of GET /api/v1/status and /metrics.  It gathers
 * each NFQUEUE worker's counters, adds the kernel's drop counters for its
 * queue, and turns samples taken about once a second into packet rates.
 * The control plane owns one and reports through it (control_status_get,
 * control_tick), so callers see no difference.
 */
#ifndef PORTSHARE_STATUS_H
#define PORTSHARE_STATUS_H

#include <stddef.h>

struct control_queue_stats;
struct nfq_pool;
struct status;

/* Returns a sampler of pool's workers, or NULL when out of memory. */
struct status *status_new(struct nfq_pool *pool);
void status_free(struct status *st);

/*
 * Writes at most max queues into q: the workers' counters, the kernel's
 * drop counters and the rate of the last sample.  Returns how many.
 */
size_t status_queues(struct status *st, struct control_queue_stats *q,
		     size_t max);

/* Takes a sample of the packet counters, for the rates.  Never blocks on I/O. */
void status_tick(struct status *st);

#endif
