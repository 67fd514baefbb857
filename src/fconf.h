/*
 * fconf: UDP fan-out's configuration as the control plane holds it (the
 * contested ports and subscribers as stored, each array ordered by id,
 * with their counters), the edits a write makes to a copy of it, and the
 * rules a change must keep (fctl.h lists them).  Pure: it allocates, but
 * makes no system call and logs nothing, so the rules are the same
 * whoever runs them.  fctl is its one user, as gctl is gconf's.
 */
#ifndef PORTSHARE_FCONF_H
#define PORTSHARE_FCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fctl.h"
#include "mapping.h"

/* A contested port: the stored row and its counters. */
struct fconf_port {
	struct fctl_port p;
	struct fctl_port_counters *c;
};

/* A subscriber: the stored row and its counters. */
struct fconf_sub {
	struct fctl_sub s;
	struct fctl_sub_counters *c;
};

/* The configuration, each array ordered by id. */
struct fconf_rows {
	struct fconf_port *ports;
	size_t nports;
	struct fconf_sub *subs;
	size_t nsubs;
};

/* The index of the row with this id, or -1.  O(log n). */
ssize_t fconf_port_index(const struct fconf_rows *r, int64_t id);
ssize_t fconf_sub_index(const struct fconf_rows *r, int64_t id);

/*
 * Copies a into out (the rows only: counter pointers are shared) with room
 * for one more row of each kind.  Returns 0, or -1 when out of memory with
 * out empty.
 */
int fconf_copy(const struct fconf_rows *a, struct fconf_rows *out);
/* Frees the arrays (not the counters they point at) and empties r. */
void fconf_free(struct fconf_rows *r);

/*
 * An id for a row about to be created, for checking it before the store
 * gives it its own: one past the last.  The store never gives a lower one
 * (AUTOINCREMENT), so the row stays last.
 */
int64_t fconf_next_port_id(const struct fconf_rows *r);
int64_t fconf_next_sub_id(const struct fconf_rows *r);

/* Removes port i with its subscribers, as the store's cascade does. */
void fconf_port_remove(struct fconf_rows *r, size_t i);
void fconf_sub_remove(struct fconf_rows *r, size_t k);

/* How many subscribers port id has. */
size_t fconf_count_subs(const struct fconf_rows *r, int64_t id);
/*
 * The subscribers of port id, ascending id, in a malloc'd array the
 * caller frees.  Returns 0, or -1 when out of memory.
 */
int fconf_subs_of(const struct fconf_rows *r, int64_t id, struct fctl_sub **out,
		  size_t *n);

/*
 * Clears the bytes a subscriber's family does not use (its path for an IP
 * target, its address and the path's tail for AF_UNIX), so that equal
 * targets are equal bytes; a port's address is mapping_addr_clean's.
 */
void fconf_sub_clean(struct fctl_sub *s);
/* True when cleaned a and b are the same target: the same path, or address and port. */
bool fconf_same_target(const struct fctl_sub *a, const struct fctl_sub *b);
/* s's target as text, for messages: the path, address:port or [address]:port. */
void fconf_target_str(const struct fctl_sub *s, char *out, size_t len);

/*
 * Gives p its default registration port (port + FCTL_REGISTRATION_OFFSET)
 * when it has none.  Returns true, or false with err filled (422) when
 * that passes 65535.
 */
bool fconf_port_defaults(struct fctl_port *p, struct mapping_error *err);

/*
 * Check row i of r against its own rules and the other rows, as fctl.h
 * describes.  Return true, or false with err filled.
 */
bool fconf_check_port(const struct fconf_rows *r, size_t i, struct mapping_error *err);
bool fconf_check_sub(const struct fconf_rows *r, size_t k, struct mapping_error *err);

/*
 * Checks a configuration loaded from the store as the writes would, in
 * O(n) for the subscribers (the schema keeps a target unique per port): a
 * database edited by hand may break a rule the schema cannot hold (one row
 * per port, registration ports, the cap).  Returns 0, or -1 with errbuf
 * filled.
 */
int fconf_check_loaded(const struct fconf_rows *r, char *errbuf, size_t errlen);

/*
 * The distinct port numbers of the enabled contested ports, ascending, in
 * a malloc'd array the caller frees.  Returns 0, or -1 when out of memory.
 */
int fconf_enabled_ports(const struct fconf_rows *r, uint16_t **ports, size_t *n);

#endif
