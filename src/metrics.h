/*
 * metrics: the daemon's counters in the Prometheus text exposition format
 * (version 0.0.4), as GET /metrics serves them.  Every family has the
 * portshare_ prefix, a # HELP and a # TYPE line; counters end in _total.
 * Labels name what the operator configured: the queue number, the mapping
 * id and direction, a group's name, a backend's port and state, a
 * contested port, and a subscriber's target and mode (at most
 * FCTL_MAX_SUBS per contested port); never a client of a shared port or
 * group.  Pure: it renders what it is given, with no I/O, so the unit
 * tests check the text it makes.
 */
#ifndef PORTSHARE_METRICS_H
#define PORTSHARE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "fctl.h"
#include "gctl.h"

/* The Content-Type of the text metrics_render makes. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Everything one scrape shows; the caller owns every pointer. */
struct metrics_input {
	const char *version;                 /* the release, for build_info */
	bool healthy;                        /* as /healthz would answer */
	const struct control_status *status;
	const struct control_mapping *rows;  /* the table, with live counters */
	size_t nrows;
	const struct gctl_group_view *groups;     /* gctl_group_list */
	size_t ngroups;
	const struct gctl_backend_view *backends; /* gctl_backend_list, every group */
	size_t nbackends;
	const struct fctl_port_view *ports;       /* fctl_port_list */
	size_t nports;
	const struct fctl_sub_view *subs;         /* fctl_sub_list, every port */
	size_t nsubs;
};

/*
 * Returns the exposition text, NUL-terminated, in a malloc'd buffer the
 * caller frees, or NULL when out of memory.
 */
char *metrics_render(const struct metrics_input *in);

/*
 * A number inside a struct, found by offset and size, so that the status
 * document and the metrics can name their fields in tables.  The field is
 * an unsigned integer of 4 or 8 bytes (uint32_t, uint64_t, size_t), or an
 * int64_t that is never negative (a unix time).
 */
struct metrics_field {
	size_t offset, size;
};
#define METRICS_FIELD(type, member) \
	{ offsetof(type, member), sizeof(((type *)0)->member) }

/* The field's value in the struct at base; 0 for a size it does not know. */
uint64_t metrics_field_value(const void *base, struct metrics_field f);

#endif
