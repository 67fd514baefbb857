/*
 * fanout: the copier of UDP fan-out.  One thread reads the datagrams of
 * contested ports that the kernel copies to it over NFLOG (the datagrams
 * themselves go on to their local listener untouched, whether or not this
 * thread keeps up) and sends each subscriber its copy, in the subscriber's
 * delivery mode (see fctl.h).
 */
#ifndef PORTSHARE_FANOUT_H
#define PORTSHARE_FANOUT_H

#include <stddef.h>
#include <stdint.h>

struct fanout_config {
	unsigned nflog_group; /* the installer's --nflog-group */
	/*
	 * IPPROTO_RAW sockets for IPv4 and IPv6, opened before the privilege
	 * drop (-1 when unavailable: then only framed_tcp and framed_unix
	 * subscribers get copies).
	 */
	int raw_fd[2];
};

struct fanout_stats {
	uint64_t datagrams;  /* datagrams of contested ports received */
	uint64_t unmatched;  /* received for no enabled contested port */
	uint64_t malformed;  /* not a whole UDP datagram: fragments, garbage */
	uint64_t overruns;   /* NFLOG messages the kernel dropped (ENOBUFS) */
};

struct fanout;

/*
 * Binds the NFLOG group and starts the copier.  Returns NULL with errbuf
 * filled (a group another process holds is reported here).
 */
struct fanout *fanout_start(const struct fanout_config *cfg, char *errbuf,
			    size_t errlen);
/* Stops the thread and frees everything.  f may be NULL. */
void fanout_stop(struct fanout *f);
void fanout_stats(struct fanout *f, struct fanout_stats *out);

#endif
