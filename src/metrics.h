/*
 * metrics: the daemon's counters in the Prometheus text exposition format
 * (version 0.0.4), as GET /metrics serves them.  Every family has the
 * portshare_ prefix, a # HELP and a # TYPE line; counters end in _total;
 * labels are the queue number, the mapping id and the direction, never
 * anything about clients.  Pure: it renders what it is given, with no I/O,
 * so the unit tests check the text it makes.
 */
#ifndef PORTSHARE_METRICS_H
#define PORTSHARE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "control.h"

/* The Content-Type of the text metrics_render makes. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Everything one scrape shows; the caller owns every pointer. */
struct metrics_input {
	const char *version;                 /* the release, for build_info */
	bool healthy;                        /* as /healthz would answer */
	const struct control_status *status;
	const struct control_mapping *rows;  /* the table, with live counters */
	size_t nrows;
};

/*
 * Returns the exposition text, NUL-terminated, in a malloc'd buffer the
 * caller frees, or NULL when out of memory.
 */
char *metrics_render(const struct metrics_input *in);

#endif
