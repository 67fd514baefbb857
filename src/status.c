/*
 * status: see status.h.
 *
 * DESIGN.  The main thread calls status_tick once a second; the HTTP
 * threads call status_queues for every status or metrics request.  They
 * share only the last sample, under the sampler's own lock, which is never
 * held across I/O: the main loop, which also feeds the systemd watchdog,
 * waits neither behind a table write nor behind a reader of /proc.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "control.h"
#include "nfq.h"
#include "status.h"

struct status {
	struct nfq_pool *pool;
	pthread_mutex_t lock;
	struct timespec at;        /* CLOCK_MONOTONIC time of the sample */
	size_t n;                  /* queues sampled, 0 before the first sample */
	uint64_t packets[CONTROL_MAX_QUEUES];
	double pps[CONTROL_MAX_QUEUES];
};

struct status *status_new(struct nfq_pool *pool)
{
	struct status *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->pool = pool;
	pthread_mutex_init(&st->lock, NULL);
	return st;
}

void status_free(struct status *st)
{
	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/*
 * Adds the kernel's per-queue drop counters.  Each line of
 * /proc/net/netfilter/nfnetlink_queue is: queue, portid, waiting, copy mode,
 * copy range, queue_dropped, user_dropped, last id, 1.
 */
static void status_kernel_drops(struct control_queue_stats *qs, size_t n)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	unsigned q, portid, waiting, mode, range, seq, one;
	unsigned long long qdrop, udrop;

	if (!f)
		return;
	while (fscanf(f, "%u %u %u %u %u %llu %llu %u %u", &q, &portid, &waiting,
		      &mode, &range, &qdrop, &udrop, &seq, &one) == 9) {
		for (size_t i = 0; i < n; i++) {
			if (qs[i].queue != q)
				continue;
			qs[i].kernel_dropped = qdrop;
			qs[i].user_dropped = udrop;
		}
	}
	fclose(f);
}

size_t status_queues(struct status *st, struct control_queue_stats *q,
		     size_t max)
{
	size_t n = nfq_stats(st->pool, q, max);

	status_kernel_drops(q, n);
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < n && i < st->n; i++)
		q[i].packets_per_second = st->pps[i];
	pthread_mutex_unlock(&st->lock);
	return n;
}

void status_tick(struct status *st)
{
	struct control_queue_stats q[CONTROL_MAX_QUEUES];
	size_t n = nfq_stats(st->pool, q, CONTROL_MAX_QUEUES);
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&st->lock);
	dt = (double)(now.tv_sec - st->at.tv_sec) +
	     (double)(now.tv_nsec - st->at.tv_nsec) / 1e9;
	for (size_t i = 0; i < n; i++) {
		uint64_t prev = st->packets[i];

		/* The first sample has nothing to compare with: rate 0. */
		st->pps[i] = st->n == n && dt > 0 && q[i].packets >= prev
				     ? (double)(q[i].packets - prev) / dt : 0;
		st->packets[i] = q[i].packets;
	}
	st->n = n;
	st->at = now;
	pthread_mutex_unlock(&st->lock);
}
