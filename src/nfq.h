/*
 * nfq: the NFQUEUE workers, one thread per kernel queue.  Each worker
 * receives packets in batches, runs parse -> lookup (the static table, then
 * the flow table and the groups: see mux.h) -> rewrite on each and answers
 * the whole batch with one sendmsg of concatenated verdicts.
 */
#ifndef PORTSHARE_NFQ_H
#define PORTSHARE_NFQ_H

#include <stddef.h>

#include "flow.h"

struct control_queue_stats;
struct nfq_pool;

/*
 * Queues first_queue .. first_queue + nqueues - 1 take network traffic with
 * GSO packets whole; queue first_queue + nqueues takes loopback traffic and
 * has the kernel segment GSO packets first (see the installer).
 */
struct nfq_config {
	unsigned first_queue;
	unsigned nqueues;
	unsigned queue_maxlen; /* packets the kernel may hold per queue */
	unsigned batch;        /* packets received per batch, at most 256 */
	/*
	 * Virtual port multiplexing: the flow table (nqueues + 1 partitions,
	 * worker i owns partition i; NULL turns groups off), the flows' idle
	 * timeouts, and the raw sockets (IPPROTO_RAW, one per family, -1 when
	 * unavailable) that carry refusals to clients that waited in vain.
	 */
	struct flow_table *flows;
	struct flow_timeouts timeouts;
	int refuse_fd[2];      /* [0] IPv4, [1] IPv6 */
	/*
	 * The workers' nice value, -20..19 (0 leaves it alone).  Below 0 the
	 * workers win the CPU from the threads that feed the queues (a local
	 * sender, or ksoftirqd under a flood), so excess packets are dropped
	 * early, where they cost least, instead of after the kernel has
	 * queued them for a worker that never gets to run.  RLIMIT_NICE must
	 * allow it (main raises it while still privileged).
	 */
	int nice;
};

/*
 * Opens, binds and configures every queue (so a queue already taken by
 * another process is reported here, at start-up), then starts the workers.
 * Returns NULL with errbuf filled on failure.
 */
struct nfq_pool *nfq_start(const struct nfq_config *cfg, char *errbuf,
			   size_t errlen);

/*
 * Stops the workers: each answers what it already received, drains what the
 * kernel has queued for it, then unbinds.  Frees pool.
 */
void nfq_stop(struct nfq_pool *pool);

/* Copies each worker's counters into out; returns how many were written. */
size_t nfq_stats(struct nfq_pool *pool, struct control_queue_stats *out,
		 size_t max);

#endif
