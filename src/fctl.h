/*
 * fctl: the control plane of UDP fan-out (issue 5).  It keeps the contested
 * ports and their subscribers as stored (fstore), checks every change,
 * owns the live counters, and publishes the snapshot that the fan-out
 * threads read: the copier (fanout.c), which sends every datagram of a
 * contested port to its subscribers, and the registrar (regsrv.c), which
 * answers the registration protocol on each registration port.
 *
 * DESIGN.  Like gctl: not thread-safe on its own; control.c calls every
 * function below except fctl_read under its lock (control_fanout_read and
 * control_fanout_write), sharing the table version.  Readers call fctl_read
 * inside a liburcu (urcu-memb) read-side section; the snapshot is replaced
 * whole on every change.  Counters live outside snapshots, keyed by id; a
 * removed row's counters are freed only after the grace period of the
 * snapshot that dropped it.
 */
#ifndef PORTSHARE_FCTL_H
#define PORTSHARE_FCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mapping.h"
#include "util.h"

struct fctl;
struct store;
struct sets;

/* The registration port of contested port p unless configured: the seed's Table 1. */
#define FCTL_REGISTRATION_OFFSET 13000
/* The most subscribers one contested port may have (REST and registration alike). */
#define FCTL_MAX_SUBS 256
#define FCTL_PATH_MAX 108 /* sun_path */

/* How a subscriber gets its copies. */
enum fctl_mode {
	FCTL_RAW,          /* the payload, in a UDP datagram from the registration port */
	FCTL_SPOOF,        /* the datagram as it came: source address and port kept */
	FCTL_FRAMED_UDP,   /* header + payload (see fanframe.h) in a UDP datagram */
	FCTL_FRAMED_TCP,   /* header + payload, as a stream over one TCP connection */
	FCTL_FRAMED_UNIX,  /* header + payload in a datagram on a Unix socket (path) */
	FCTL_MODE_COUNT
};

/*
 * The modes' names, indexed by enum fctl_mode.  The two functions below
 * are inline so that the JSON and protocol parsers, and their tests and
 * fuzzers, use them without linking the control plane (sqlite, liburcu).
 */
static const char *const fctl_mode_names[FCTL_MODE_COUNT] = {
	"raw", "spoof", "framed_udp", "framed_tcp", "framed_unix",
};

/* "raw", "spoof", "framed_udp", "framed_tcp", "framed_unix"; false otherwise. */
static inline bool fctl_mode_parse(const char *s, enum fctl_mode *mode)
{
	int i = util_name_find(fctl_mode_names, FCTL_MODE_COUNT, s);

	if (i < 0)
		return false;
	*mode = (enum fctl_mode)i;
	return true;
}

/* The name, or "unknown" (never NULL). */
static inline const char *fctl_mode_name(enum fctl_mode mode)
{
	return util_name_at(fctl_mode_names, FCTL_MODE_COUNT, (unsigned)mode);
}

/* A contested port as stored. */
struct fctl_port {
	int64_t id;
	uint16_t port;              /* the UDP port */
	uint8_t family;             /* AF_INET, AF_INET6, or 0: every local address */
	uint8_t addr[16];           /* IPv4 in the first 4 bytes */
	uint16_t registration_port; /* port + FCTL_REGISTRATION_OFFSET unless set */
	bool enabled;               /* false: no copies, no registrations */
};

/* A subscriber as stored. */
struct fctl_sub {
	int64_t id;
	int64_t port_id;            /* its contested port's id */
	enum fctl_mode mode;
	uint8_t family;             /* AF_INET or AF_INET6; AF_UNIX for framed_unix */
	uint8_t addr[16];
	uint16_t port;              /* 0 for framed_unix */
	char path[FCTL_PATH_MAX];   /* framed_unix only */
	uint32_t sample_every;      /* copies 1 datagram in N; 1: every one */
	bool registered;            /* made by the registration protocol, not REST */
};

/* Live counters, added to by the copier with relaxed atomics. */
struct fctl_sub_counters {
	uint64_t copies;   /* copies sent */
	uint64_t bytes;    /* payload bytes of those copies */
	uint64_t errors;   /* sends that failed: unreachable, refused, no route */
	uint64_t drops;    /* copies not sent because the subscriber could not
			    * take them (socket full, TCP not connected) */
	int64_t last_sent; /* unix seconds, 0 when never */
};

struct fctl_port_counters {
	uint64_t datagrams; /* datagrams seen on the contested port */
	uint64_t bytes;
};

/* The copier's and the registrar's view. */
struct fctl_snap_sub {
	struct fctl_sub s;
	struct fctl_sub_counters *c;
};

struct fctl_snap_port {
	struct fctl_port p;
	struct fctl_port_counters *c;
	const struct fctl_snap_sub *subs; /* its subscribers, ascending id */
	size_t nsubs;
};

/*
 * Every contested port, enabled or not: readers skip a port whose
 * p.enabled is false (no copies, no registrations), which keeps its
 * subscribers listed for when it is enabled again.
 */
struct fctl_snap {
	const struct fctl_snap_port *ports; /* ascending id */
	size_t nports;
	/*
	 * The enabled ports by port number, then id: the copier finds a
	 * datagram's contested port by binary search instead of walking
	 * every port for every datagram.
	 */
	const struct fctl_snap_port *const *byport;
	size_t nbyport;
};

/* The live snapshot, or NULL before fctl_open.  Valid until rcu_read_unlock. */
const struct fctl_snap *fctl_read(void);

/*
 * Called (under the control lock) with a contested port that is being
 * removed or disabled and the subscribers it had, before the snapshot
 * without them is published, so that the registrar can send each one a
 * SHUTDOWN.  p is the row as it was before the change (its registration
 * port is the one the subscribers know); subs (NULL when n is 0) are
 * valid during the call only.  It is called once the change is stored,
 * so never for a write that fails.  Must not block or call back into fctl.
 */
typedef void fctl_gone_fn(const struct fctl_port *p, const struct fctl_sub *subs,
			  size_t n, void *arg);

/*
 * Loads the contested ports and subscribers from st, publishes the first
 * snapshot and fills the contested-port set through sets (may be NULL in
 * tests) with sets_sync_fanout.  gone (may be NULL) is told about removed
 * ports.  Returns NULL with errbuf filled.
 */
struct fctl *fctl_open(struct store *st, struct sets *sets, fctl_gone_fn *gone,
		       void *gone_arg, char *errbuf, size_t errlen);
/* Unpublishes the snapshot and frees everything.  f may be NULL. */
void fctl_close(struct fctl *f);

/*
 * True while a stored change is not live: its snapshot could not be built
 * (out of memory) or the contested-port set could not be synced.  The
 * write that left it so failed with 503.
 */
bool fctl_dirty(const struct fctl *f);
/*
 * Tries again to make the stored configuration live, when fctl_dirty says
 * it is not; control's resolver thread calls it every second until it
 * works.  Returns 0 when everything is live, or -1 (logged).
 */
int fctl_retry(struct fctl *f);

/* What the API shows. */
struct fctl_port_view {
	struct fctl_port p;
	struct fctl_port_counters c;
	size_t nsubs;
};

struct fctl_sub_view {
	struct fctl_sub s;
	uint16_t contested_port;    /* its contested port's port number */
	struct fctl_sub_counters c;
};

/*
 * Every function below returns 0, or -1 with err filled the way control.h
 * describes: 404 unknown id, 409 conflict (a contested port or registration
 * port already in use, a subscriber already there, more than FCTL_MAX_SUBS),
 * 422 invalid value (naming the API's field: "port", "address",
 * "registration_port", "mode", "sample_every", "contested_port"), 500
 * storage failure, 503 stored but not live.  A 503 is a write that
 * happened: a new row's id is set as on success.  A refused write changes
 * nothing, in the store or in the snapshot.
 *
 * The rules: a contested port is 1..65535 (422 "port") on every local
 * address (family 0) or on one IPv4 or IPv6 address (422 "address"), and
 * a port has one row at most (409 "conflict", field "port"), which keeps
 * the registration port -> contested port mapping unambiguous.  Its
 * registration port (0: port + FCTL_REGISTRATION_OFFSET, on create and on
 * update alike; 422 when that passes 65535) differs from the port itself
 * (422 "registration_port") and from every other row's port and
 * registration port (409 "conflict", field "registration_port"; a port
 * that is another row's registration port is 409 on field "port").
 *
 * A subscriber names an existing contested port (422 "unknown_port", field
 * "contested_port") and a mode (422 "mode").  framed_unix takes family
 * AF_UNIX, an absolute path shorter than FCTL_PATH_MAX (422 "address") and
 * port 0 (422 "port"); every other mode an AF_INET or AF_INET6 address
 * (422 "address") and a port 1..65535 (422 "port").  sample_every is
 * 1..1000000 (422 "sample_every").  One target (address and port, or path)
 * once per contested port, whatever the mode (409 "conflict", field
 * "address"; the registrar answers "Already Added"), and at most
 * FCTL_MAX_SUBS per contested port (409 "too_many", field
 * "contested_port").  Address bytes a family does not use are cleared.
 */
int fctl_port_list(struct fctl *f, struct fctl_port_view **rows, size_t *n,
		   struct mapping_error *err);
int fctl_port_get(struct fctl *f, int64_t id, struct fctl_port_view *out,
		  struct mapping_error *err);
/*
 * The id of the contested port with this port number (a port has one row
 * at most), for requests that name their contested port by number.  An
 * unknown port is 422 "unknown_port" with field "contested_port".
 */
int fctl_port_by_number(struct fctl *f, uint16_t port, int64_t *id,
			struct mapping_error *err);
/*
 * Sets p->id and, when it was 0, p->registration_port to port +
 * FCTL_REGISTRATION_OFFSET.
 */
int fctl_port_create(struct fctl *f, struct fctl_port *p, struct mapping_error *err);
/* Replaces row p->id; its counters and subscribers stay.  Disabling calls gone. */
int fctl_port_update(struct fctl *f, const struct fctl_port *p,
		     struct mapping_error *err);
/* Removes the port and its subscribers (they get a SHUTDOWN, see fctl_gone_fn). */
int fctl_port_delete(struct fctl *f, int64_t id, struct mapping_error *err);

/* port_id 0: every subscriber. */
int fctl_sub_list(struct fctl *f, int64_t port_id, struct fctl_sub_view **rows,
		  size_t *n, struct mapping_error *err);
int fctl_sub_get(struct fctl *f, int64_t id, struct fctl_sub_view *out,
		 struct mapping_error *err);
/*
 * The subscriber of port_id that copies go to at (family, addr, port), or
 * for AF_UNIX at path.  Returns 0 with *id set, or -1 with err 404.
 */
int fctl_sub_find(struct fctl *f, int64_t port_id, const struct fctl_sub *where,
		  int64_t *id, struct mapping_error *err);
/* Sets s->id.  409 when the same target is already subscribed to that port. */
int fctl_sub_create(struct fctl *f, struct fctl_sub *s, struct mapping_error *err);
/* Replaces row s->id (it may move to another contested port); its counters stay. */
int fctl_sub_update(struct fctl *f, const struct fctl_sub *s,
		    struct mapping_error *err);
int fctl_sub_delete(struct fctl *f, int64_t id, struct mapping_error *err);

/* Totals for /api/v1/status and /metrics. */
struct fctl_stats {
	size_t ports, subs;
	uint64_t datagrams, copies, errors, drops;
};
void fctl_stats(struct fctl *f, struct fctl_stats *out);

#endif
