/*
 * sched: which backend of a group takes a new flow.
 *
 * Pure functions over the caller's arrays: no system call, no allocation, no
 * logging.  The live state they read is the caller's:
 *  - each backend's active flow counter, shared by all workers and touched
 *    only through relaxed atomics (sched_claim, sched_release, and the loads
 *    in sched_pick);
 *  - the round-robin state of a group, one array per worker, so that no two
 *    threads ever write the same memory.
 *
 * A pick is advice read from counters that other workers change at the same
 * time; the flow is only admitted by sched_claim, which cannot overshoot
 * max_flows.  sched_admit does both and retries, so callers normally use it.
 */
#ifndef PORTSHARE_SCHED_H
#define PORTSHARE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most backends one group may have; indices fit an int. */
#define SCHED_MAX_BACKENDS 1024
#define SCHED_WEIGHT_MIN 1
#define SCHED_WEIGHT_MAX 1000

enum sched_policy {
	SCHED_ROUND_ROBIN, /* smooth weighted round robin (nginx) */
	SCHED_LEAST_FLOWS, /* fewest active flows per unit of weight */
	SCHED_SOURCE_HASH, /* weighted rendezvous hashing of the client address */
	SCHED_POLICY_COUNT
};

enum sched_state {
	SCHED_ACTIVE, /* takes new flows */
	SCHED_DRAIN,  /* keeps its flows, takes no new ones */
	SCHED_DOWN,   /* takes nothing */
	SCHED_STATE_COUNT
};

struct sched_backend {
	int64_t id;         /* stable across snapshots: source_hash hashes it */
	uint16_t port;
	uint16_t weight;    /* SCHED_WEIGHT_MIN..SCHED_WEIGHT_MAX */
	uint32_t max_flows; /* 0: unlimited */
	enum sched_state state;
	uint32_t *active;   /* live flow count, owned by the control plane */
	uint64_t *flows;    /* flows ever admitted, counted by the packet path
			     * (sched never touches it; may be NULL) */
};

/* Returned by sched_pick and sched_admit when no backend can take a flow. */
#define SCHED_NONE (-1)

/* "round_robin", "least_flows", "source_hash"; false for anything else. */
bool sched_policy_parse(const char *s, enum sched_policy *policy);
/* The policy's name, or "unknown" (never NULL) outside the enum. */
const char *sched_policy_name(enum sched_policy policy);
/* "active", "drain", "down"; false for anything else. */
bool sched_state_parse(const char *s, enum sched_state *state);
const char *sched_state_name(enum sched_state state);

/*
 * True when b may take a new flow now: active, and below max_flows unless
 * that is 0.  The count is a relaxed load, so the answer is advice.
 */
bool sched_eligible(const struct sched_backend *b);

/*
 * Chooses among b[0..n-1] by policy and returns the index, or SCHED_NONE
 * when no backend is eligible (the caller then holds the flow in its wait
 * queue).  Ties go to the lowest index.
 *
 * rr is the group's round-robin state for this worker: n int32_t, zeroed
 * when the worker first sees this group in a snapshot (backends may have
 * come or gone), and written only by round_robin.  client is the client's
 * address as 16 bytes (IPv4 in the first 4, the rest zero), read only by
 * source_hash.
 */
int sched_pick(enum sched_policy policy, const struct sched_backend *b,
	       size_t n, int32_t *rr, const uint8_t client[16]);

/*
 * Counts one more flow in *counter unless it already holds max (0: no
 * limit).  Atomic against every other claim and release, so concurrent
 * workers never admit more than max.  Returns false when full.
 */
bool sched_claim(uint32_t *counter, uint32_t max);
/* Counts one flow fewer; pairs with a successful sched_claim. */
void sched_release(uint32_t *counter);

/*
 * sched_pick, then sched_claim on the chosen backend.  When another worker
 * took the last slot in between, picks again (that backend now looks full),
 * for at most n + 1 rounds so that races with releases cannot keep it
 * looping.  Returns the claimed index (the caller must sched_release it when
 * the flow ends), or SCHED_NONE.
 */
int sched_admit(enum sched_policy policy, const struct sched_backend *b,
		size_t n, int32_t *rr, const uint8_t client[16]);

#endif
