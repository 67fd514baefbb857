/*
 * sets: keeps the kernel's ipsets in step with the table, so that only
 * packets of configured (address, port) pairs are ever queued to user space.
 * The only module that includes libipset.  Called by the control plane only.
 *
 * The sets (created here if the installer has not made them yet):
 *   portshare-in4/in6    hash:ip,port  (address, proto:shared_port)
 *   portshare-out4/out6  hash:ip,port  (address, proto:assigned_port)
 *   portshare-addr4/addr6 hash:ip      every mapped address, for ICMP errors
 *   portshare-vport      bitmap:port   virtual ports of application groups
 *   portshare-bport      bitmap:port   backend ports of application groups
 *   portshare-fport      bitmap:port   contested UDP ports (fan-out)
 * The two port sets hold ports only, for either protocol and every local
 * address (the installer's rules add -m addrtype LOCAL): a group may listen
 * on any local address, and the workers pass what matches no group.
 */
#ifndef PORTSHARE_SETS_H
#define PORTSHARE_SETS_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

struct sets;

/* Returns NULL with errbuf filled when libipset cannot talk to the kernel. */
struct sets *sets_open(char *errbuf, size_t errlen);
void sets_close(struct sets *s);

/*
 * Replaces the content of every set with what rules say.  Each set is
 * filled under a temporary name and swapped in, so the kernel never sees a
 * half-written set.  Returns 0, or -1 with errbuf filled.
 */
int sets_sync(struct sets *s, const struct table_rule *rules, size_t n,
	      char *errbuf, size_t errlen);

/*
 * Replaces the content of portshare-vport with vports[0..nv) and of
 * portshare-bport with bports[0..nb), the same way.  Returns 0, or -1 with
 * errbuf filled.
 */
int sets_sync_ports(struct sets *s, const uint16_t *vports, size_t nv,
		    const uint16_t *bports, size_t nb, char *errbuf,
		    size_t errlen);

/* Replaces the content of portshare-fport with ports[0..n), the same way. */
int sets_sync_fanout(struct sets *s, const uint16_t *ports, size_t n,
		     char *errbuf, size_t errlen);

#endif
