/*
 * regsrv: the registrar of UDP fan-out.  One thread listens on the
 * registration port of every enabled contested port, answers the seed's
 * ADD and DROP requests (regproto.h) by adding and removing subscribers
 * through the control plane, and sends SHUTDOWN notices to subscribers when
 * their contested port goes away or the daemon stops.
 *
 * Without care, registration turns a host into a reflection amplifier: one
 * spoofed ADD makes it send every trap to a victim.  So a request is only
 * heard from the allowed networks (default: loopback), may only name the
 * requester's own address unless it comes from an admin network, is rate
 * limited per source address, and each contested port has a subscriber cap.
 * Refusals are counted, and logged once per interval, never per packet.
 */
#ifndef PORTSHARE_REGSRV_H
#define PORTSHARE_REGSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fctl.h"

#define REGSRV_NETS_MAX 16

/* A network in CIDR form; IPv4 in the first 4 bytes of addr. */
struct regsrv_net {
	uint8_t family;
	uint8_t addr[16];
	uint8_t prefix_len;
};

struct regsrv_config {
	struct regsrv_net allow[REGSRV_NETS_MAX]; /* who may register at all */
	size_t nallow;
	struct regsrv_net admin[REGSRV_NETS_MAX]; /* who may name other addresses */
	size_t nadmin;
	unsigned max_subs;   /* subscribers per contested port, 1..FCTL_MAX_SUBS */
	unsigned rate;       /* requests per second per source address (burst: twice) */
};

struct regsrv_stats {
	uint64_t requests;        /* requests answered */
	uint64_t added, dropped;  /* subscribers added and removed by request */
	uint64_t refused_net;     /* from outside the allowed networks: unanswered */
	uint64_t refused_foreign; /* naming another address without admin rights */
	uint64_t refused_rate;    /* over the rate limit: unanswered */
	uint64_t refused_cap;     /* the contested port had max_subs subscribers */
	uint64_t malformed;       /* not a request at all: unanswered */
	uint64_t shutdowns;       /* SHUTDOWN notices sent */
};

/*
 * Parses "ADDR/LEN" or a bare address (a host network) into *net.  Pure;
 * returns false for anything else.
 */
bool regsrv_net_parse(const char *s, struct regsrv_net *net);

struct regsrv;
struct control;

/* Allocates the registrar; it runs once regsrv_start has given it ctl. */
struct regsrv *regsrv_new(const struct regsrv_config *cfg);
/* Starts the thread.  Returns 0, or -1 with errbuf filled. */
int regsrv_start(struct regsrv *r, struct control *ctl, char *errbuf, size_t errlen);
/*
 * Sends every subscriber of every enabled contested port a SHUTDOWN, then
 * stops the thread and frees r.  r may be NULL.
 */
void regsrv_stop(struct regsrv *r);

/*
 * fctl's fctl_gone_fn (arg: the regsrv): queues a SHUTDOWN for each of the
 * subscribers of a contested port that is going away.  Never blocks.
 */
void regsrv_gone(const struct fctl_port *p, const struct fctl_sub *subs,
		 size_t n, void *arg);

void regsrv_stats(struct regsrv *r, struct regsrv_stats *out);

#endif
