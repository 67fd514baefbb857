/*
 * priv: drops portshared's privileges to the few capabilities it needs at
 * run time, early in its start-up: everything it does afterwards, binding
 * its queues and its HTTP port included, needs no more than what it keeps.
 *
 * At run time the daemon still needs CAP_NET_ADMIN: the NFQUEUE workers
 * send verdicts and the control plane updates the ipsets over netlink, and
 * the kernel checks the capability on every such message.  It needs
 * CAP_NET_BIND_SERVICE only to bind an HTTP port below 1024.  Everything
 * else goes: the effective and permitted sets keep only those, the
 * inheritable and ambient sets are emptied, every other capability leaves
 * the bounding set (when the process may change it) and no_new_privs is
 * set, so no later execve can give anything back.
 *
 * Capabilities belong to each thread, and a new thread copies those of the
 * thread that creates it.  priv_drop therefore has to run while the process
 * still has a single thread; it refuses to run otherwise, so that no thread
 * is left holding what the others gave up.
 *
 * The process keeps its user id.  Started as root, it stays uid 0 without
 * CAP_DAC_OVERRIDE: it can still write files and directories that root owns
 * (the database, its WAL and its directory), but no longer files of other
 * users that their modes do not open to it.
 */
#ifndef PORTSHARE_PRIV_H
#define PORTSHARE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capabilities as bits of a mask: bit N is capability number N. */
#define PRIV_CAP(n) (UINT64_C(1) << (n))
#define PRIV_NET_BIND_SERVICE PRIV_CAP(10)
#define PRIV_NET_ADMIN PRIV_CAP(12)
#define PRIV_SETPCAP PRIV_CAP(8)

/* The three per-thread capability sets that capget and capset exchange. */
struct priv_sets {
	uint64_t effective;
	uint64_t permitted;
	uint64_t inheritable;
};

/*
 * The capabilities the daemon needs at run time with its HTTP API on
 * http_listen ("ADDR:PORT" or "[ADDR]:PORT"): CAP_NET_ADMIN, plus
 * CAP_NET_BIND_SERVICE when the port is below 1024.  An address without a
 * readable port needs nothing more; api_start refuses it anyway.
 */
uint64_t priv_needed(const char *http_listen);

/*
 * Computes the sets to install so that only keep remains.  Returns false,
 * with *missing set to the capabilities of keep that the process does not
 * hold (it cannot gain them), when keep is not a subset of now->permitted.
 */
bool priv_plan(const struct priv_sets *now, uint64_t keep,
	       struct priv_sets *out, uint64_t *missing);

/*
 * Writes the names of the capabilities in mask ("cap_net_admin,...", or
 * "none") into buf, truncated to len.  Returns buf.
 */
char *priv_names(uint64_t mask, char *buf, size_t len);

/*
 * Keeps only the capabilities in keep, as described above, and logs what it
 * kept.  Call it before the process starts its first thread.  Returns 0, or
 * -1 with errbuf filled (a capability of keep not held, a second thread
 * already running, or a system call refused).
 */
int priv_drop(uint64_t keep, char *errbuf, size_t errlen);

#endif
