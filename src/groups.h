/*
 * groups: the application groups as the packet path sees them, an immutable
 * snapshot answering two questions for a new flow: which virtual service is
 * it for (groups_find_service), and which group of that service takes this
 * client (groups_route).
 *
 * A group is the seed's application, named by its AID: an (address or any
 * local address, virtual port, protocols) service, the backends that serve
 * it and a scheduling policy.  Several groups may share one service; source
 * rules (client CIDR, optional source-port range) tell them apart, and the
 * service's default group takes clients no rule matches.
 *
 * DESIGN.  Pure: groups_build makes a snapshot from plain arrays (the only
 * place that allocates), lookups touch nothing but the snapshot, and nothing
 * here makes a system call or logs.  The control plane builds a new snapshot
 * for every change and publishes it the way src/table.c publishes its own
 * (one pointer swapped, the old one freed after an RCU grace period);
 * workers read it inside the same read-side section as the table.  The
 * backends' flow counters live outside the snapshot (the control plane owns
 * them), so they survive rebuilds.
 */
#ifndef PORTSHARE_GROUPS_H
#define PORTSHARE_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"
#include "sched.h"

#define GROUPS_NAME_MAX 64 /* bytes, with the terminating NUL */
#define GROUPS_AID_MAX 64

/* What a client whose flow waited max_wait_ms in vain gets. */
enum groups_on_timeout {
	GROUPS_RESET, /* TCP RST, or ICMP port unreachable for UDP */
	GROUPS_DROP,  /* nothing: the client's own timeout ends it */
	GROUPS_ON_TIMEOUT_COUNT
};

/*
 * A group's live counters, owned by the control plane (they outlive
 * snapshots) and added to by the packet path with relaxed atomics.
 */
struct groups_counters {
	uint64_t flows;        /* new flows admitted, at once or after a wait */
	uint64_t waits;        /* new flows that had to wait for a backend */
	uint64_t wait_admitted; /* of those, admitted before their deadline */
	uint64_t timeouts;     /* waited max_wait_ms in vain, then refused */
	uint64_t refused;      /* refused without waiting: no wait configured,
				* the wait queue or the flow table full */
};

/*
 * A group.  In groups_build's input, the fields down to is_default are the
 * configuration; the snapshot's copy adds the backends.
 */
struct groups_group {
	int64_t id;
	char name[GROUPS_NAME_MAX];
	char aid[GROUPS_AID_MAX];
	uint8_t family;           /* AF_INET, AF_INET6, or 0: any local address */
	uint8_t addr[16];         /* IPv4 in the first 4 bytes; all zero for any */
	uint16_t virtual_port;
	unsigned protos;          /* enum mapping_proto bits: 1 TCP, 2 UDP */
	enum sched_policy policy;
	uint32_t max_wait_ms;     /* 0: refuse at once when no backend is free */
	enum groups_on_timeout on_timeout;
	bool is_default;          /* takes the service's unmatched clients */
	struct groups_counters *counters; /* the caller's; may be NULL */

	/* Set by groups_build, ignored in its input. */
	const struct sched_backend *backends; /* ascending id */
	size_t nbackends;
	/*
	 * Where the group's backends start among all the snapshot's backends
	 * (groups_backend_count), so that a worker can keep the round-robin
	 * state of every group in one array of that many int32_t, zeroed for
	 * each new snapshot: rr + first_backend is this group's.
	 */
	size_t first_backend;
};

/* A backend in groups_build's input. */
struct groups_backend {
	int64_t group_id;
	struct sched_backend b; /* b.active must not be NULL */
};

/* A source rule: clients in cidr (and the port range, if any) go to group_id. */
struct groups_rule {
	int64_t id;               /* ties between equal rules: lowest id wins */
	int64_t group_id;
	uint8_t family;           /* AF_INET or AF_INET6 */
	uint8_t addr[16];         /* bits past prefix_len are ignored */
	uint8_t prefix_len;       /* 0..32 or 0..128 */
	bool has_ports;
	uint16_t port_lo, port_hi; /* inclusive, when has_ports */
};

struct groups_input {
	const struct groups_group *groups;
	size_t ngroups;
	const struct groups_backend *backends;
	size_t nbackends;
	const struct groups_rule *rules;
	size_t nrules;
};

struct groups_error {
	char message[160];
};

struct groups;
struct groups_service;

/*
 * Builds a snapshot.  The input is checked as a whole: unique ids, known
 * families, policies and states, weights within SCHED_WEIGHT_MIN..MAX, at
 * most SCHED_MAX_BACKENDS per group, backends and rules naming an existing
 * group, rule prefixes that fit their family and the family of the group's
 * address, port ranges with lo <= hi, at most one default group per
 * (address, port, protocol).  Returns NULL with errno set: EINVAL with err
 * (if not NULL) saying what is wrong, or ENOMEM.
 */
struct groups *groups_build(const struct groups_input *in,
			    struct groups_error *err);
void groups_free(struct groups *g);

size_t groups_count(const struct groups *g);
/* All the snapshot's backends: the size of a worker's round-robin array. */
size_t groups_backend_count(const struct groups *g);
/* Group i < groups_count(g), in ascending id; NULL past the end. */
const struct groups_group *groups_at(const struct groups *g, size_t i);

/*
 * The virtual service a new flow is for.  key is what pkt_parse gives for
 * PKT_IN: destination address and port, and the protocol.  A service bound
 * to that address wins over one bound to any local address.  Returns NULL
 * when neither exists.  g may be NULL (no snapshot yet).
 */
const struct groups_service *groups_find_service(const struct groups *g,
						 const struct pkt_key *key);

/* The groups on a service, in ascending id; *n is set to their number. */
const struct groups_group *const *groups_service_groups(const struct groups_service *s,
							size_t *n);

/*
 * The group that takes a client of service s: the rule with the longest
 * prefix that contains the client's address and, if it has one, whose port
 * range holds the client's port; among rules of equal prefix, one with a
 * port range wins over one without, then the lowest id.  Failing a rule,
 * the service's default group.  A service bound to one address then falls
 * back to the any-address service on the same port and protocol (its rules,
 * then its default), the way a port's default reaches every address.
 * Returns NULL when no group takes the client: refuse the flow.
 * family is AF_INET or AF_INET6, addr as in struct pkt_key.
 */
const struct groups_group *groups_route(const struct groups *g,
					const struct groups_service *s,
					uint8_t family, const uint8_t addr[16],
					uint16_t port);

/* The group with this id, or NULL.  O(log n). */
const struct groups_group *groups_find(const struct groups *g, int64_t id);

/*
 * The backend with this id, or NULL; *group (if not NULL) is set to its
 * group.  For the flow table, whose entries outlive snapshots and so must
 * name backends by id.  O(log n).
 */
const struct sched_backend *groups_find_backend(const struct groups *g,
						int64_t id,
						const struct groups_group **group);

/* "reset", "drop"; false for anything else. */
bool groups_on_timeout_parse(const char *s, enum groups_on_timeout *t);
/* The name, or "unknown" (never NULL) outside the enum. */
const char *groups_on_timeout_name(enum groups_on_timeout t);

#endif
